/**
 * A Docker engine and the pipe's image for the tests that need them, made at most once per test
 * run and only when a test asks (a run of other tests never starts a daemon):
 *
 * - the engine: the one `docker info` reaches, else (as root) a `dockerd` of our own with every
 *   path under a temporary folder, `--bridge=none --iptables=false` (containers use
 *   `--network host`), stopped and deleted by the global teardown (test/support/docker-global.ts);
 * - the base image: no registry is reachable in CI, so the Dockerfile's pinned base (its global
 *   `ARG BASE_IMAGE`) is stood in for by an image made here from the official Node.js binary (npm
 *   package `node-linux-<arch>@24`), the C libraries `ldd` lists, `/etc/passwd` and `/tmp`, laid
 *   out like distroless (`/nodejs/bin/node`, entrypoint node), and passed as
 *   `--build-arg BASE_IMAGE=<stand-in>`. A real base already in the engine (or pulled, with
 *   TEST_PULL_BASE=true) is used as it is;
 * - the pipe's image: the real Dockerfile, unchanged, built from the repository and `dist/`.
 *
 * Test files run in parallel workers: the first to ask does the work under a lock folder in the
 * run's folder, writes the result there, and the others read it.
 */
import { execFileSync, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import {
  chmod,
  copyFile,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  rmdir,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { inject } from "vitest";
import { type Finished, ROOT } from "./pipe.ts";
import { hasTool } from "./tools.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** A folder for this test run's shared Docker state (engine.json, images.json, locks). */
    dockerRunDir: string;
  }
}

/** Where Bitbucket Cloud mounts the clone directory, in the pipe's container and the build container alike. */
export const BUILD_DIR = "/opt/atlassian/pipelines/agent/build";
/** Marks the images this file makes in place of a registry's. */
export const STAND_IN_LABEL = "org.bitbucket-aws-oidc.test.stand-in";
const NODE_MAJOR = 24;

export interface Engine {
  /** DOCKER_HOST for every docker command ("" when the CLI's own default reaches the engine). */
  host: string;
  /** This run started the daemon: the teardown stops it and deletes its folder. */
  started: boolean;
  pid?: number;
  dir?: string;
  /** DOCKER_BUILDKIT for `docker build`: "0" where the buildx plugin is missing (the legacy builder). */
  buildkit: "0" | "1";
}

export type EngineResult = { engine: Engine } | { unavailable: string };

export interface Images {
  /** The pipe's image, built from the Dockerfile. */
  pipe: string;
  /** The base the pipe's image was built on (its BASE_IMAGE), as tagged in the engine. */
  base: string;
  /** True when `base` is our stand-in, not the registry's image. */
  standIn: boolean;
  /** Tags this run created in an engine it did not start: removed at the end. */
  created: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The environment for docker commands against the engine (the caller's, plus DOCKER_HOST). */
export function dockerEnv(engine: Engine, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined) env[name] = value;
  if (engine.host === "") delete env.DOCKER_HOST;
  else env.DOCKER_HOST = engine.host;
  env.DOCKER_BUILDKIT = engine.buildkit;
  return { ...env, ...extra };
}

/**
 * Runs a command to the end without blocking the event loop (the test world lives in this process).
 * Its stdin is closed unless `input` is given: a docker CLI that exits without reading it must not
 * meet a write to a closed pipe.
 */
export function exec(
  command: string,
  args: readonly string[],
  options: { env: Record<string, string>; cwd?: string; input?: string },
): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env,
      cwd: options.cwd ?? ROOT,
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk;
      output += chunk;
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk;
      output += chunk;
    });
    child.on("error", reject);
    child.on("close", (code, signal) =>
      resolve({ status: code ?? (signal ? 128 : 1), stdout, stderr, output }),
    );
    if (options.input !== undefined && child.stdin) {
      child.stdin.on("error", () => {}); // the command may exit before reading it all
      child.stdin.end(options.input);
    }
  });
}

/** `docker <args>` against the engine; never throws for a non-zero status. */
export function docker(
  engine: Engine,
  args: readonly string[],
  options: { env?: Record<string, string>; input?: string } = {},
): Promise<Finished> {
  return exec("docker", args, {
    env: options.env ?? dockerEnv(engine),
    ...(options.input === undefined ? {} : { input: options.input }),
  });
}

async function dockerOk(engine: Engine, args: readonly string[], what: string): Promise<string> {
  const result = await docker(engine, args);
  if (result.status !== 0)
    throw new Error(`${what} failed (docker ${args[0]}, status ${result.status}):\n${result.output}`);
  return result.stdout.trim();
}

/**
 * Runs `make` once per test run across all workers: the first caller makes the value under a lock
 * folder and stores it (or its failure) as JSON; every other caller waits for it and reads it.
 */
async function oncePerRun<T>(
  runDir: string | undefined,
  name: string,
  make: () => Promise<T>,
  waitMs = 10 * 60_000,
): Promise<T> {
  const dir = runDir ?? inject("dockerRunDir");
  if (!dir)
    throw new Error(
      "dockerRunDir is not provided: vitest.config.ts must list test/support/docker-global.ts in globalSetup.",
    );
  const resultFile = path.join(dir, `${name}.json`);
  const lock = path.join(dir, `${name}.lock`);
  const stored = async (): Promise<{ value: T } | { error: string } | undefined> => {
    try {
      return JSON.parse(await readFile(resultFile, "utf8"));
    } catch {
      return undefined;
    }
  };
  const unwrap = (result: { value: T } | { error: string }): T => {
    if ("error" in result) throw new Error(result.error);
    return result.value;
  };
  const deadline = Date.now() + waitMs;
  for (;;) {
    const done = await stored();
    if (done) return unwrap(done);
    try {
      await mkdir(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (Date.now() > deadline) throw new Error(`gave up waiting for another test file to make ${name}`);
      await sleep(200);
    }
  }
  try {
    const done = await stored();
    if (done) return unwrap(done);
    let result: { value: T } | { error: string };
    try {
      result = { value: await make() };
    } catch (error) {
      result = { error: error instanceof Error ? error.message : String(error) };
    }
    await writeFile(resultFile, JSON.stringify(result));
    return unwrap(result);
  } finally {
    await rmdir(lock).catch(() => {});
  }
}

const buildkitFor = (env: NodeJS.ProcessEnv): "0" | "1" => {
  try {
    execFileSync("docker", ["buildx", "version"], { env, stdio: "ignore" });
    return env.DOCKER_BUILDKIT === "0" ? "0" : "1";
  } catch {
    return "0";
  }
};

async function findOrStartEngine(): Promise<EngineResult> {
  if (!hasTool("docker"))
    return { unavailable: "the docker CLI is not installed (apt-get install -y docker.io)" };
  const buildkit = buildkitFor(process.env);
  const existing: Engine = { host: process.env.DOCKER_HOST ?? "", started: false, buildkit };
  const info = await docker(existing, ["info", "--format", "{{.OperatingSystem}}"]);
  if (info.status === 0) {
    if (/docker desktop/i.test(info.stdout)) {
      return {
        unavailable:
          "the Docker engine is Docker Desktop: its containers' --network host is a VM's, not this machine's 127.0.0.1 where the test world listens",
      };
    }
    return { engine: existing };
  }
  if (process.getuid?.() !== 0) {
    return { unavailable: "no Docker engine answers `docker info`, and starting dockerd needs root" };
  }
  if (!hasTool("dockerd")) return { unavailable: "dockerd is not installed (apt-get install -y docker.io)" };

  // Short paths: the sockets under it must fit in 108 bytes.
  const dir = await mkdtemp(path.join(tmpdir(), "bbdocker-"));
  const host = `unix://${dir}/docker.sock`;
  const log = openSync(path.join(dir, "dockerd.log"), "a");
  const daemon = spawn(
    "dockerd",
    [
      "--bridge=none",
      "--iptables=false",
      `--data-root=${dir}/data`,
      `--exec-root=${dir}/x`,
      `--pidfile=${dir}/docker.pid`,
      `--host=${host}`,
    ],
    { detached: true, stdio: ["ignore", log, log] },
  );
  closeSync(log);
  let exited: number | null | undefined;
  daemon.on("exit", (code) => {
    exited = code;
  });
  daemon.unref();
  const engine: Engine = { host, started: true, dir, buildkit, ...(daemon.pid ? { pid: daemon.pid } : {}) };
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ready = await docker(engine, ["info", "--format", "{{.ServerVersion}}"]);
    if (ready.status === 0) return { engine };
    const tail = () => readFileSync(path.join(dir, "dockerd.log"), "utf8").split("\n").slice(-15).join("\n");
    if (exited !== undefined || Date.now() > deadline) {
      await stopEngine(engine);
      throw new Error(
        `dockerd did not start (${exited === undefined ? "timed out" : `exit ${exited}`}):\n${tail()}`,
      );
    }
    await sleep(250);
  }
}

let engineMemo: Promise<EngineResult> | undefined;

/**
 * The engine for this run: found, started, or why there is none. `runDir` is the test run's
 * folder (test/support/docker-global.ts) unless a script outside vitest (the benchmark) gives its
 * own, and then releases it with releaseDocker.
 */
export function dockerEngine(runDir?: string): Promise<EngineResult> {
  engineMemo ??= oncePerRun(runDir, "engine", findOrStartEngine);
  return engineMemo;
}

/**
 * A test that needs Docker: skipped with the reason on a laptop without it, a failure under
 * CI=true (CI must never pass by skipping), like requireTool.
 */
export function requireEngine(ctx: { skip: (note?: string) => void }, result: EngineResult): Engine {
  if ("engine" in result) return result.engine;
  if (process.env.CI === "true")
    throw new Error(`Docker is not available: ${result.unavailable}. CI must have it.`);
  ctx.skip(`Docker is not available: ${result.unavailable}`);
  throw new Error("unreachable: ctx.skip throws");
}

const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // A zombie (its parent, a finished test worker, is gone and nothing reaped it yet) is not running.
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
};

async function stopEngine(engine: Engine): Promise<void> {
  if (!engine.started || engine.dir === undefined) return;
  if (engine.pid !== undefined && pidAlive(engine.pid)) {
    process.kill(engine.pid, "SIGTERM");
    const deadline = Date.now() + 20_000;
    while (pidAlive(engine.pid) && Date.now() < deadline) await sleep(100);
    if (pidAlive(engine.pid)) process.kill(engine.pid, "SIGKILL");
    while (pidAlive(engine.pid)) await sleep(100);
  }
  // dockerd leaves mounts behind (its default network namespace at <exec-root>/netns/default).
  const leftovers = readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[1] ?? "")
    .filter((mountPoint) => mountPoint.startsWith(`${engine.dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const mountPoint of leftovers) {
    try {
      execFileSync("umount", ["--lazy", mountPoint], { stdio: "ignore" });
    } catch {
      // Gone already, or busy: rm reports what stays.
    }
  }
  await rm(engine.dir, { recursive: true, force: true }).catch((error: unknown) => {
    process.stderr.write(`could not remove ${engine.dir}: ${(error as Error).message}\n`);
  });
}

/** The global teardown: stops the daemon this run started, or removes what it tagged in one it found. */
export async function releaseDocker(runDir: string): Promise<void> {
  const read = async <T>(name: string): Promise<T | undefined> => {
    try {
      const stored = JSON.parse(await readFile(path.join(runDir, `${name}.json`), "utf8"));
      return "value" in stored ? stored.value : undefined;
    } catch {
      return undefined;
    }
  };
  const result = await read<EngineResult>("engine");
  if (result === undefined || !("engine" in result)) return;
  const { engine } = result;
  if (engine.started) {
    await stopEngine(engine);
    return;
  }
  const images = await read<Images>("images");
  for (const tag of images?.created ?? []) await docker(engine, ["image", "rm", "--force", tag]);
}

/**
 * The base image the Dockerfile builds on by default: the first FROM, or, when that FROM is a
 * global build argument (`ARG BASE_IMAGE=<ref>` before it, `FROM ${BASE_IMAGE}`), that argument's
 * default. `:latest` is made explicit for a bare name.
 */
export function dockerfileBase(dockerfile: string): string {
  const lines = dockerfile.split("\n");
  const fromIndex = lines.findIndex((line) => /^\s*FROM\s/i.test(line));
  const from = /^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)/i.exec(lines[fromIndex] ?? "")?.[1];
  if (from === undefined) throw new Error("the Dockerfile has no FROM line");
  const argName = /^\$\{?(\w+)\}?$/.exec(from)?.[1];
  let ref = from;
  if (argName !== undefined) {
    const declared = lines
      .slice(0, fromIndex)
      .map((line) => new RegExp(`^\\s*ARG\\s+${argName}=(\\S+)\\s*$`, "i").exec(line)?.[1])
      .find((value) => value !== undefined);
    if (declared === undefined)
      throw new Error(`the Dockerfile's FROM is \${${argName}}, but no ARG ${argName}=<image> precedes it`);
    ref = declared.replace(/^"(.*)"$/, "$1");
  }
  const lastPart = ref.split("/").at(-1) ?? ref;
  return lastPart.includes(":") || ref.includes("@") ? ref : `${ref}:latest`;
}

/**
 * The tag our stand-in for `base` gets. A digest reference can't be a tag (`docker tag` refuses
 * `name@sha256:…`), so the stand-in has a name of its own, passed as BASE_IMAGE to the build.
 */
export function standInTag(base: string): string {
  const [name = base, digest] = base.split("@");
  const repo = (name.split("/").at(-1) ?? name).split(":")[0] ?? "base";
  const tag = digest
    ? digest.replace(/^sha256:/, "").slice(0, 16)
    : ((name.split("/").at(-1) ?? name).split(":")[1] ?? "latest");
  return `bitbucket-aws-oidc-test/${repo}-stand-in:${tag}`;
}

const cacheDir = path.join(ROOT, "node_modules/.cache/bitbucket-aws-oidc-tests");

/** The official Node.js binary for this machine's architecture: `npm pack node-linux-<arch>@24`, cached. */
async function nodePackage(): Promise<string> {
  const arch = process.arch === "arm64" ? "arm64" : "x64";
  const name = `node-linux-${arch}`;
  await mkdir(cacheDir, { recursive: true });
  const cached = (await readdir(cacheDir)).find(
    (f) => f.startsWith(`${name}-${NODE_MAJOR}.`) && f.endsWith(".tgz"),
  );
  if (cached) return path.join(cacheDir, cached);
  const packed = await exec(
    "npm",
    ["pack", `${name}@${NODE_MAJOR}`, "--pack-destination", cacheDir, "--silent"],
    {
      env: Object.fromEntries(
        Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined),
      ),
      cwd: cacheDir,
    },
  );
  const file = packed.stdout.trim().split("\n").at(-1);
  if (packed.status !== 0 || !file)
    throw new Error(`npm pack ${name}@${NODE_MAJOR} failed:\n${packed.output}`);
  return path.join(cacheDir, file);
}

/**
 * The Node.js binary the image ships (the same package), unpacked once beside it: for a test that
 * must run code on that Node, not on the one running the tests.
 */
export async function shippedNode(): Promise<string> {
  const tgz = await nodePackage();
  const unpacked = path.join(cacheDir, path.basename(tgz, ".tgz"));
  const node = path.join(unpacked, "package/bin/node");
  if (existsSync(node)) return node;
  // Unpacked aside and renamed into place: test files run in parallel.
  const work = await mkdtemp(path.join(cacheDir, "unpacking-"));
  execFileSync("tar", ["-xzf", tgz, "-C", work, "package/bin/node"]);
  await rename(work, unpacked).catch(async (error: unknown) => {
    await rm(work, { recursive: true, force: true });
    if (!existsSync(node)) throw error;
  });
  return node;
}

/** The C libraries (and the loader) a binary needs, as `ldd` lists them. */
function sharedLibraries(binary: string): string[] {
  const out = execFileSync("ldd", [binary], { encoding: "utf8" });
  return [...out.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)].map((m) => m[1] as string);
}

/** Makes the stand-in for a distroless Node.js base (`standsFor`) and tags it `base`. */
async function buildStandIn(engine: Engine, base: string, standsFor: string): Promise<void> {
  const tgz = await nodePackage();
  const work = await mkdtemp(path.join(tmpdir(), "bbstandin-"));
  try {
    const rootfs = path.join(work, "rootfs");
    await mkdir(path.join(rootfs, "nodejs/bin"), { recursive: true });
    await mkdir(path.join(rootfs, "etc"), { recursive: true });
    await mkdir(path.join(rootfs, "tmp"), { recursive: true });
    await chmod(path.join(rootfs, "tmp"), 0o1777);
    execFileSync("tar", ["-xzf", tgz, "-C", work, "package/bin/node"]);
    const node = path.join(rootfs, "nodejs/bin/node");
    await rename(path.join(work, "package/bin/node"), node);
    for (const lib of sharedLibraries(node)) {
      await mkdir(path.join(rootfs, path.dirname(lib)), { recursive: true });
      await copyFile(lib, path.join(rootfs, lib)); // follows symlinks: the real file at the listed path
    }
    // Distroless's users: root (the default), nonroot 65532, nobody.
    await writeFile(
      path.join(rootfs, "etc/passwd"),
      "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n",
    );
    await writeFile(path.join(rootfs, "etc/group"), "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n");
    const version = execFileSync(node, ["--version"], { encoding: "utf8" }).trim();
    await writeFile(
      path.join(work, "Dockerfile"),
      [
        "FROM scratch",
        "COPY rootfs/ /",
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        `LABEL ${STAND_IN_LABEL}="${standsFor} with Node.js ${version}"`,
        'ENTRYPOINT ["/nodejs/bin/node"]',
        "",
      ].join("\n"),
    );
    await dockerOk(engine, ["build", "--quiet", "--tag", base, work], `building the stand-in for ${base}`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function imageLabel(engine: Engine, image: string, label: string): Promise<string | undefined> {
  const result = await docker(engine, [
    "image",
    "inspect",
    "--format",
    `{{index .Config.Labels "${label}"}}`,
    image,
  ]);
  return result.status === 0 ? result.stdout.trim() : undefined;
}

async function buildImages(engine: Engine): Promise<Images> {
  const dockerfile = await readFile(path.join(ROOT, "Dockerfile"), "utf8");
  const pinned = dockerfileBase(dockerfile);
  const created: string[] = [];
  let base = pinned;
  let standIn = false;
  // A real base already in the engine is used as it is.
  const pinnedLabel = await imageLabel(engine, pinned, STAND_IN_LABEL);
  if (pinnedLabel === undefined && process.env.TEST_PULL_BASE === "true") {
    // Where a registry is reachable (e.g. Bitbucket's docker service): the real, pinned base.
    const pulled = await docker(engine, ["pull", "--quiet", pinned]);
    if (pulled.status !== 0)
      throw new Error(`TEST_PULL_BASE=true, but docker pull ${pinned} failed:\n${pulled.output}`);
  } else if (pinnedLabel === undefined) {
    base = standInTag(pinned);
    const label = await imageLabel(engine, base, STAND_IN_LABEL);
    if (label === undefined || label === "" || label === "<no value>") {
      await buildStandIn(engine, base, pinned);
      if (!engine.started) created.push(base);
    }
    standIn = true;
  }
  try {
    readFileSync(path.join(ROOT, "dist/index.js"));
  } catch {
    throw new Error("dist/index.js is missing: run `npm run build` first (npm test does).");
  }
  const { version } = JSON.parse(await readFile(path.join(ROOT, "package.json"), "utf8")) as {
    version: string;
  };
  const pipe = `bitbucket-aws-oidc-test:${version}-${process.pid}`;
  await dockerOk(
    engine,
    [
      "build",
      "--quiet",
      "--tag",
      pipe,
      "--build-arg",
      `VERSION=${version}`,
      "--build-arg",
      "REVISION=test",
      "--build-arg",
      `BASE_IMAGE=${base}`,
      ROOT,
    ],
    "building the pipe's image from the Dockerfile",
  );
  if (!engine.started) created.push(pipe);
  return { pipe, base, standIn, created };
}

let imagesMemo: Promise<Images> | undefined;

/** The pipe's image (and its base), built once per test run. */
export function pipeImages(engine: Engine, runDir?: string): Promise<Images> {
  imagesMemo ??= oncePerRun(runDir, "images", () => buildImages(engine));
  return imagesMemo;
}
