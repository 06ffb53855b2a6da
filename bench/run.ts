/**
 * `npm run bench`: the pipe beside the SDK floor (bench/sdk-floor/: the two STS calls with
 * @aws-sdk/client-sts and one 0600 file, built by the pipe's own bundler settings) and beside the
 * AWS CLI v2 doing the same assume, measured interleaved against the local AWS world on the Node
 * 24 the image ships, with the code cache made as the image's build makes it (each command's own
 * trainer, train-code-cache.js) and the Node options of the image's entrypoint (the floor's too).
 * Several sets of interleaved rounds, each set's ratios reported, since on a 2-core machine one
 * set's ratio moves by ±0.1. Also: sequential round trips (pairs of runs without and with a fixed delay added to
 * every answer), peak RSS, image and bundle sizes.
 * Prints a table and writes bench/results.md. Performance targets live here, not in tests.
 */
import { execFileSync, spawn } from "node:child_process";
import { cpSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_OUTPUT_DIR } from "../src/config/outputDir.ts";
import { BUNDLE_FILE, CODE_CACHE_FILE } from "../src/launch/bundle.ts";
import { docker, dockerEngine, pipeImages, releaseDocker, shippedNode } from "../test/support/docker.ts";
import { makeCloneDir, TEST_REPOSITORY } from "../test/support/pipe.ts";
import { startWorld } from "../test/world/index.ts";
import { buildSdkFloor } from "./sdk-floor/build.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DIST = path.join(ROOT, "dist");
const WORK = path.join(ROOT, "bench/.work");
// Interleaved rounds per set (every case once per round), and sets: the issue asks medians of at
// least 21 runs, and the spread of several.
const RUNS = Number(process.env.BENCH_RUNS ?? 21);
const SETS = Number(process.env.BENCH_SETS ?? 3);
const LATENCY_MS = 150;
const AWS_V2 = "/usr/bin/aws";

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

/**
 * The Node options the image's entrypoint starts the pipe with (the Dockerfile's exec-form
 * ENTRYPOINT, between node and the script): the bench starts the pipe, and the SDK floor, the same
 * way, so that the targets are measured on the image's start.
 */
function entrypointNodeOptions(): string[] {
  const dockerfile = readFileSync(path.join(ROOT, "Dockerfile"), "utf8");
  const form = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(dockerfile)?.[1];
  const [, ...args] = form === undefined ? [] : (JSON.parse(form) as string[]);
  const script = args.findIndex((arg) => arg.endsWith("/dist/index.js"));
  if (script < 0) throw new Error("Dockerfile: no exec-form ENTRYPOINT that starts dist/index.js");
  return args.slice(0, script);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

/** A command's files: the bundle (one script), the launcher and, once trained, the code cache. */
function sizes(entry: string): { bundle: number; launcher: number; cache: number | undefined } {
  const dir = path.dirname(entry);
  const cache = path.join(dir, CODE_CACHE_FILE);
  return {
    bundle: statSync(path.join(dir, BUNDLE_FILE)).size,
    launcher: statSync(entry).size,
    cache: existsSync(cache) ? statSync(cache).size : undefined,
  };
}

/** Makes `entry`'s code cache as the image's build does: its trainer, started as `node` is here. */
async function trainCodeCache(node: string, options: readonly string[], entry: string, cwd: string) {
  const trainer = path.join(path.dirname(entry), "train-code-cache.js");
  await timed(node, [...options, trainer], { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: cwd }, cwd);
  if (!existsSync(path.join(path.dirname(entry), CODE_CACHE_FILE)))
    throw new Error(`${trainer} wrote no code cache`);
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
const floorEntry = await buildSdkFloor(ROOT, path.join(WORK, "sdk-floor"));
const world = await startWorld();
const clone = await makeCloneDir();
// Each pipe run starts in the clone as a step finds it: no output folder and git's own exclude file.
// Left from the run before, they would have the pipe remove its earlier files (about 1 ms) and
// skip the exclude it writes, neither of which a step does.
const excludeFile = path.join(clone.dir, ".git", "info", "exclude");
const freshExclude = existsSync(excludeFile) ? readFileSync(excludeFile, "utf8") : undefined;
function inFreshClone(command: string, args: string[], env: Record<string, string>): Promise<number> {
  rmSync(path.join(clone.dir, DEFAULT_OUTPUT_DIR), { recursive: true, force: true });
  if (freshExclude === undefined) rmSync(excludeFile, { force: true });
  else writeFileSync(excludeFile, freshExclude);
  return timed(command, args, env, clone.dir);
}
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
  const floorEnv = { ...step, SDK_FLOOR_OUTPUT: path.join(scratch, "sdk-floor.env") };

  /** One way of starting a command: a Node binary, its arguments before the script's, its environment. */
  interface Start {
    label: string;
    binary: string;
    /** Node's options before the script: the entrypoint's, for the image's start. */
    options: readonly string[];
    env: Record<string, string>;
    /** The pipe's launcher: dist/'s, or a copy of dist/ with the code cache the image's build makes. */
    pipe: string;
  }
  /** Node's arguments for `script` started this way. */
  const nodeArgs = (start: Start, script: string, ...args: string[]) => [...start.options, script, ...args];
  const pipeEntry = path.join(DIST, "index.js");
  const starts: Start[] = [];
  // As `npx` runs it by default: no code cache (one is made only where NODE_COMPILE_CACHE asks).
  const host: Start = {
    label: `Node ${process.version}, dist/ (npx)`,
    binary: process.execPath,
    options: [],
    env: {},
    pipe: pipeEntry,
  };
  let shipped: Start | undefined;
  // The Node the image ships (node-linux-<arch>@24, unpacked once beside the container tests' copy);
  // without it (not Linux, or no registry), the rows for it are left out.
  const n24 = process.platform === "linux" ? await shippedNode().catch(() => undefined) : undefined;
  if (n24) {
    const version = execFileSync(n24, ["--version"], { encoding: "utf8" }).trim();
    const options = entrypointNodeOptions();
    const shown = options.map((option) => `, ${option}`).join("");
    // The code caches, made beforehand as the image's build makes the pipe's: the pipe's in a copy
    // of dist/ (dist/ itself stays as built, for the other starts), the floor's beside it.
    const trained = path.join(scratch, "dist");
    cpSync(DIST, trained, { recursive: true });
    shipped = {
      label: `Node ${version}, dist/ + code cache${shown}`,
      binary: n24,
      options,
      env: {},
      pipe: path.join(trained, "index.js"),
    };
    await trainCodeCache(n24, options, shipped.pipe, scratch);
    await trainCodeCache(n24, options, floorEntry, scratch);
    starts.push({
      label: `Node ${version}, dist/, no code cache${shown}`,
      binary: n24,
      options,
      env: {},
      pipe: pipeEntry,
    });
    starts.push(shipped);
  }
  starts.unshift(host);

  type Case = { start: string; name: string; run: () => Promise<number> };
  const cases: Case[] = [];
  const floorName = "SDK floor";
  const noVerifyFloorName = "SDK floor VERIFY=false";
  if (shipped) {
    const c = shipped;
    cases.push({
      start: c.label,
      name: "node -e 0",
      run: () => timed(c.binary, [...c.options, "-e", "0"], { ...clean, ...c.env }, scratch),
    });
    // The VERIFY=false floor is not a target: the yardstick for VERIFY=false, whose one call the
    // two-call floor overstates.
    for (const [name, verify] of [
      [floorName, {}],
      [noVerifyFloorName, { VERIFY: "false" }],
    ] as const) {
      cases.push({
        start: c.label,
        name,
        run: () => timed(c.binary, nodeArgs(c, floorEntry), { ...floorEnv, ...verify, ...c.env }, clone.dir),
      });
    }
  }
  for (const start of starts) {
    // Every variant where it decides a target (the image's start, and the floor's build); the
    // plain pipe elsewhere, to show what each start-up mechanism is worth.
    const variants = start === shipped ? Object.entries(pipeVariants) : [["pipe", step] as const];
    for (const [name, env] of variants) {
      cases.push({
        start: start.label,
        name,
        run: () => inFreshClone(start.binary, nodeArgs(start, start.pipe), { ...env, ...start.env }),
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
      start: "AWS CLI v2",
      name: "aws sts assume-role-with-web-identity",
      run: () => timed(AWS_V2, awsArgs, clean, scratch),
    });

  // Warm the disk cache once, then interleave: every round runs every case once; SETS sets.
  for (const c of cases) await c.run();
  const sets: Array<Map<Case, number[]>> = [];
  for (let set = 0; set < SETS; set++) {
    const samples = new Map<Case, number[]>(cases.map((c) => [c, []]));
    for (let round = 0; round < RUNS; round++) for (const c of cases) samples.get(c)?.push(await c.run());
    sets.push(samples);
  }
  const all = (c: Case) => sets.flatMap((set) => set.get(c) ?? []);
  const find = (start: Start | string | undefined, name: string) =>
    cases.find((c) => c.start === (typeof start === "string" ? start : start?.label) && c.name === name);
  const floorCase = find(shipped, floorName);
  const awsCase = find("AWS CLI v2", "aws sts assume-role-with-web-identity");
  const medianIn = (set: Map<Case, number[]>, c: Case | undefined) =>
    c ? median(set.get(c) ?? []) : Number.NaN;
  const medianAll = (c: Case | undefined) => (c ? median(all(c)) : Number.NaN);

  // Sequential round trips: the pipe as the image starts it, with a fixed delay before every answer.
  const trips: Array<{ name: string; value: number }> = [];
  const tripStart = shipped ?? host;
  for (const [name, env] of Object.entries(pipeVariants)) {
    const run = (latency: number) => {
      world.setLatency(latency);
      return inFreshClone(tripStart.binary, nodeArgs(tripStart, tripStart.pipe), {
        ...env,
        ...tripStart.env,
      });
    };
    // In pairs, one run without the delay and one with it: the machine's drift between two blocks
    // of runs moved the figure by 0.2 round trip.
    const extra: number[] = [];
    for (let i = 0; i < 11; i++) {
      const fast = await run(0);
      extra.push((await run(LATENCY_MS)) - fast);
    }
    world.setLatency(0);
    trips.push({ name, value: median(extra) / LATENCY_MS });
  }

  const rssOf = (start: Start | undefined, env: Record<string, string> = step) =>
    start
      ? peakRss(start.binary, nodeArgs(start, start.pipe), { ...env, ...start.env }, clone.dir)
      : Promise.resolve(undefined);
  const rss = {
    shipped: await rssOf(shipped),
    shippedCodeArtifact: await rssOf(shipped, pipeVariants["pipe + CodeArtifact npm"]),
    floor: shipped
      ? await peakRss(
          shipped.binary,
          nodeArgs(shipped, floorEntry),
          { ...floorEnv, ...shipped.env },
          clone.dir,
        )
      : undefined,
  };
  const pipeFiles = sizes((shipped ?? host).pipe);
  const floorFiles = sizes(floorEntry);
  const kb = (bytes: number | undefined) => (bytes === undefined ? "n/a" : `${(bytes / 1024).toFixed(0)} KB`);

  const floorAll = medianAll(floorCase);
  const aws = medianAll(awsCase);
  const rows = cases.map((c) => {
    const xs = all(c);
    const m = median(xs);
    const isPipe = c.name.startsWith("pipe");
    const isFloor = c.name.startsWith(floorName);
    return {
      start: c.start,
      name: c.name,
      median: m.toFixed(0),
      min: Math.min(...xs).toFixed(0),
      max: Math.max(...xs).toFixed(0),
      floor: isPipe && floorCase ? `${(m / floorAll).toFixed(2)} ×` : "",
      cli: (isPipe || isFloor) && awsCase ? `${(m / aws).toFixed(3)} ×` : "",
    };
  });

  // The issue's targets, on the Node the image ships, started as the image starts it.
  const ratioPerSet = (a: Case | undefined, b: Case | undefined) =>
    sets.map((set) => medianIn(set, a) / medianIn(set, b));
  const spread = (xs: number[], digits: number) =>
    `${median(xs).toFixed(digits)} × (sets: ${xs.map((x) => x.toFixed(digits)).join(", ")})`;
  const verdict = (ok: boolean) => (ok ? "met" : "not met");
  const targets: string[] = [];
  const pipeShipped = find(shipped, "pipe");
  const noVerifyShipped = find(shipped, "pipe VERIFY=false");
  if (shipped && pipeShipped && floorCase) {
    const ratios = ratioPerSet(pipeShipped, floorCase);
    targets.push(
      `- pipe ÷ SDK floor (${shipped.label}): ${spread(ratios, 2)}; target ≤ 1.10 ×: ${verdict(median(ratios) <= 1.1)}`,
    );
  }
  if (shipped && noVerifyShipped && awsCase) {
    const ratios = ratioPerSet(noVerifyShipped, awsCase);
    targets.push(
      `- pipe VERIFY=false ÷ AWS CLI v2's assume (${shipped.label}): ${spread(ratios, 3)}; target ≤ 0.22 ×: ${verdict(median(ratios) <= 0.22)}`,
    );
  }
  const noVerifyFloor = find(shipped, noVerifyFloorName);
  if (shipped && noVerifyShipped && noVerifyFloor && awsCase) {
    targets.push(
      `- for reference, not a target: the SDK floor with VERIFY=false (the assume only, one file) ÷ AWS CLI v2's assume: ${spread(ratioPerSet(noVerifyFloor, awsCase), 3)}; pipe VERIFY=false ÷ that floor: ${spread(ratioPerSet(noVerifyShipped, noVerifyFloor), 2)}`,
    );
  }
  const expectedTrips: Record<string, number> = {
    pipe: 2,
    "pipe VERIFY=false": 1,
    "pipe + CodeArtifact npm": 2,
  };
  const tripsMet = trips.every((t) => Math.round(t.value) === expectedTrips[t.name]);
  const tripOf = (name: string) => trips.find((t) => t.name === name)?.value.toFixed(2) ?? "n/a";
  targets.push(
    `- sequential round trips 1 / 2 / 2 (VERIFY=false / verify / CodeArtifact): ${["pipe VERIFY=false", "pipe", "pipe + CodeArtifact npm"].map(tripOf).join(" / ")}; ${verdict(tripsMet)}`,
  );
  const worstRss = Math.max(rss.shipped ?? 0, rss.shippedCodeArtifact ?? 0);
  targets.push(
    `- peak RSS ≤ 80 MB: ${worstRss.toFixed(1)} MB (pipe + CodeArtifact ${rss.shippedCodeArtifact?.toFixed(1) ?? "n/a"} MB); ${verdict(worstRss > 0 && worstRss <= 80)}`,
  );

  const lines = [
    "# Benchmark results",
    "",
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${os.cpus()[0]?.model ?? "unknown"} × ${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}`,
    `- Runs: ${SETS} sets of ${RUNS} interleaved rounds (every case once per round), cold processes, against the local AWS world on 127.0.0.1, clean environment (no NODE_EXTRA_CA_CERTS); medians over all sets`,
    `- The image starts the pipe from dist/ with the code cache its build makes and its entrypoint's Node options (Dockerfile${shipped && shipped.options.length > 0 ? `: ${shipped.options.join(" ")}` : ""}); the SDK floor is started the same way: the targets below are for that start.`,
    "",
    "| Start | Case | median ms | min | max | / SDK floor | / AWS CLI v2 assume |",
    "|---|---|---:|---:|---:|---:|---:|",
    ...rows.map(
      (r) => `| ${r.start} | ${r.name} | ${r.median} | ${r.min} | ${r.max} | ${r.floor} | ${r.cli} |`,
    ),
    "",
    "Targets (issue: the pipe with verification ≤ 1.10 × the SDK floor; VERIFY=false ≤ 0.22 × the AWS CLI v2; round trips 1 / 2 / 2; peak RSS ≤ 80 MB):",
    "",
    ...targets,
    "",
    "The local world speaks plain http on 127.0.0.1. The SDK's HTTP handler loads node:https all the same, and on loading TLS Node 24 starts reading its bundled root certificates on another thread (about 11 % of a run's instructions, pipe and floor alike); against AWS a run also creates a TLS context from them and makes one TLS handshake; so do the SDK floor and the AWS CLI.",
    "",
    `Sequential round trips (the extra time when every answer is delayed by ${LATENCY_MS} ms, median of 11 pairs of runs without and with the delay, ${tripStart.label}):`,
    "",
    ...trips.map((t) => `- ${t.name}: ${t.value.toFixed(2)}`),
    "",
    `Peak RSS: pipe ${rss.shipped?.toFixed(1) ?? "n/a"} MB, pipe + CodeArtifact ${rss.shippedCodeArtifact?.toFixed(1) ?? "n/a"} MB (${shipped?.label ?? "n/a"}); SDK floor ${rss.floor?.toFixed(1) ?? "n/a"} MB.`,
    `Image: ${image}.`,
    `Program: the bundle ${kb(pipeFiles.bundle)} as one script (template, CodeArtifact and ECR included, compiled only when called; the YAML library only template uses beside it), its launcher ${kb(pipeFiles.launcher)}, the code cache ${kb(pipeFiles.cache)}; the SDK floor's bundle ${kb(floorFiles.bundle)}, its code cache ${kb(floorFiles.cache)}.`,
    "",
  ];
  // The hand-written analysis (before/after of each change, what was tried) follows the figures.
  const notes = path.join(ROOT, "bench/notes.md");
  const text = `${lines.join("\n")}${existsSync(notes) ? `\n${readFileSync(notes, "utf8")}` : ""}`;
  writeFileSync(path.join(ROOT, "bench/results.md"), text);
  process.stdout.write(`${text}\nWritten to bench/results.md\n`);
} finally {
  await rm(scratch, { recursive: true, force: true });
  await clone.remove();
  await world.close();
}
