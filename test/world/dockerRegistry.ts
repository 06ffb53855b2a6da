/**
 * A real Docker registry for the ECR tests: the Distribution registry (Debian's `docker-registry`)
 * on 127.0.0.1, demanding HTTP basic credentials from an htpasswd file, as an ECR registry demands
 * the `AWS` user and the password GetAuthorizationToken hands out. Point the ECR emulator at it
 * (`world.ecr.setProxyEndpoint(registry.endpoint)`), run the pipe, then `allow("AWS", password)`
 * with the password the world issued; the registry re-reads the file when it changes.
 *
 *   const registry = await startDockerRegistry();
 *   ...
 *   await registry.close();
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

export interface DockerRegistry {
  /** `http://127.0.0.1:<port>`: the proxyEndpoint for the ECR emulator. */
  endpoint: string;
  /** `127.0.0.1:<port>`: the registry part of an image name. Docker treats 127.0.0.0/8 as insecure: plain http. */
  host: string;
  /** Admits `user` with `password`, next to those admitted before. */
  allow(user: string, password: string): Promise<void>;
  /** What the registry logged so far (user names, never passwords): for a failing test's message. */
  log(): string;
  close(): Promise<void>;
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject()));
    });
  });

async function answers(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint}/v2/`);
    return response.status === 401;
  } catch {
    return false;
  }
}

export async function startDockerRegistry(): Promise<DockerRegistry> {
  const dir = await mkdtemp(path.join(tmpdir(), "bbregistry-"));
  const htpasswd = path.join(dir, "htpasswd");
  await writeFile(htpasswd, "", { mode: 0o600 });
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  await writeFile(
    path.join(dir, "config.yml"),
    [
      "version: 0.1",
      "log:",
      "  level: info",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${dir}/data`,
      "http:",
      `  addr: 127.0.0.1:${port}`,
      `  secret: ${randomBytes(16).toString("hex")}`,
      "auth:",
      "  htpasswd:",
      "    realm: ecr-test",
      `    path: ${htpasswd}`,
      "",
    ].join("\n"),
  );
  let output = "";
  const child: ChildProcess = spawn("docker-registry", ["serve", path.join(dir, "config.yml")], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(killer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  while (!(await answers(endpoint))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await close();
      throw new Error(`docker-registry did not start on ${endpoint}:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  return {
    endpoint,
    host: `127.0.0.1:${port}`,
    allow(user, password) {
      // bcrypt uses only a password's first 72 bytes (htpasswd's hash and the registry's check
      // alike), and htpasswd refuses passwords over 255 bytes; ECR's are ~2 kB, the emulator's
      // ~1.2 kB with their randomness starting at byte 20. -i: from stdin, never on a command line.
      return new Promise<void>((resolve, reject) => {
        const child = execFile("htpasswd", ["-B", "-i", htpasswd, user], (error, _stdout, stderr) =>
          error ? reject(new Error(`htpasswd failed: ${stderr}`)) : resolve(),
        );
        child.stdin?.end(Buffer.from(password, "utf8").subarray(0, 72));
      });
    },
    log: () => output,
    close,
  };
}
