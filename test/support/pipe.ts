import { spawn } from "node:child_process";
import { mkdtemp, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { guardRun } from "./leakGuard.ts";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const PIPE = path.join(ROOT, "dist/index.js");

export interface Finished {
  status: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr together: what the Bitbucket log shows. */
  output: string;
}

/**
 * The variables the machine running the tests must not leak into a child that stands for a fresh
 * Bitbucket container: credentials, profiles and config files of the developer's own.
 */
const HOST_ONLY =
  /^(AWS_|BITBUCKET_|HTTPS?_PROXY|NO_PROXY|DEBUG$|VERIFY$|OUTPUT_DIR$|CODEARTIFACT_|ECR_|CREDENTIALS_MODE$|MASK_ACCOUNT_ID$|NODE_OPTIONS$|npm_)/i;

/** A clean environment: the host's PATH and HOME and the like, nothing AWS or Bitbucket of its own. */
export function baseEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !HOST_ONLY.test(name)) env[name] = value;
  }
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  // No config or credentials of the host's: everything must come from the pipe's outputs.
  env.AWS_CONFIG_FILE = "/nonexistent/aws-config";
  env.AWS_SHARED_CREDENTIALS_FILE = "/nonexistent/aws-credentials";
  env.AWS_EC2_METADATA_DISABLED = "true";
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** Runs a command to the end, asynchronously (the test world lives in this process and must keep answering). */
export function run(
  command: string,
  args: readonly string[],
  options: {
    env: Record<string, string>;
    cwd: string;
    input?: string;
    uid?: number;
    gid?: number;
    /** Nobody reads stdout (`| head -0`): its read end is closed at once. */
    stdoutClosed?: boolean;
  },
): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env,
      cwd: options.cwd,
      stdio: ["pipe", "pipe", "pipe"],
      ...(options.uid === undefined ? {} : { uid: options.uid }),
      ...(options.gid === undefined ? {} : { gid: options.gid }),
    });
    let stdout = "";
    let stderr = "";
    let output = "";
    if (options.stdoutClosed) child.stdout.destroy();
    else
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk;
        output += chunk;
      });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk;
      output += chunk;
    });
    child.on("error", reject);
    child.on("close", (code, signal) =>
      resolve({ status: code ?? (signal ? 128 : 1), stdout, stderr, output }),
    );
    // A child that exits before reading its input closes the pipe: that is not the test's failure.
    child.stdin.on("error", () => {});
    child.stdin.end(options.input ?? "");
  });
}

export interface PipeRunOptions {
  /** Secrets this run feeds the pipe on purpose, where the contract lets it print them (leak guard opt-out). */
  allowedLeaks?: readonly string[];
  /** Nobody reads the pipe's stdout: its read end is closed at once. */
  stdoutClosed?: boolean;
  /** Another copy of the built program's launcher (a dist/ copy with a code cache); PIPE by default. */
  program?: string;
}

/**
 * `node dist/index.js [args]` the way the image's entrypoint runs it; the leak guard
 * (test/support/leakGuard.ts) fails the run if its output holds a secret the world issued.
 */
export async function runBuiltPipe(
  env: Record<string, string>,
  cwd: string,
  args: readonly string[] = [],
  options: PipeRunOptions = {},
): Promise<Finished> {
  const result = await run(process.execPath, [options.program ?? PIPE, ...args], {
    env,
    cwd,
    ...(options.stdoutClosed ? { stdoutClosed: true } : {}),
  });
  guardRun(result, env, cwd, options.allowedLeaks);
  return result;
}

/** A Bitbucket-like clone directory: a git checkout in a fresh temporary folder. */
export async function makeCloneDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await realpath(await mkdtemp(path.join(tmpdir(), "bb-clone-")));
  await run("git", ["init", "-q", dir], { env: baseEnv(), cwd: dir });
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Bitbucket's default variables for a step, plus the pipe's own variables. */
export function bitbucketEnv(options: {
  cloneDir: string;
  token: string | undefined;
  endpoint: string;
  variables?: Record<string, string | undefined>;
}): Record<string, string> {
  return baseEnv({
    BITBUCKET_CLONE_DIR: options.cloneDir,
    BITBUCKET_WORKSPACE: "acme",
    BITBUCKET_REPO_SLUG: "web-app",
    BITBUCKET_REPO_UUID: "{aaaaaaaa-0000-4000-8000-000000000001}",
    BITBUCKET_BUILD_NUMBER: "42",
    BITBUCKET_BRANCH: "main",
    BITBUCKET_COMMIT: "0123456789abcdef0123456789abcdef01234567",
    BITBUCKET_PIPELINE_UUID: "{cccccccc-0000-4000-8000-000000000003}",
    BITBUCKET_STEP_UUID: "{bbbbbbbb-0000-4000-8000-000000000002}",
    BITBUCKET_STEP_OIDC_TOKEN: options.token,
    AWS_ENDPOINT_URL: options.endpoint,
    AWS_REGION: "ap-southeast-2",
    ...options.variables,
  });
}

/** Every secret-looking piece a leak test must never find: whole values and every 20-character window of the token. */
export function secretPieces(token: string, secrets: readonly string[]): string[] {
  const pieces = new Set<string>(secrets.filter((s) => s.length >= 8));
  for (const part of token.split(".")) {
    for (let i = 0; i + 20 <= part.length; i += 7) pieces.add(part.slice(i, i + 20));
  }
  pieces.add(token);
  return [...pieces];
}

/** The pieces of the test world a step needs; structural, so support code does not import the world. */
export interface StepWorld {
  endpoint: string;
  issuer: { token(options?: Record<string, unknown>): Promise<string> };
}

export const TEST_REPOSITORY = "{aaaaaaaa-0000-4000-8000-000000000001}";

/** A Bitbucket-like step's environment: a fresh token for the test repository, the world's endpoint, the variables. */
export async function stepEnv(
  world: StepWorld,
  cloneDir: string,
  variables: Record<string, string | undefined>,
  tokenOptions: Record<string, unknown> = {},
): Promise<{ token: string; env: Record<string, string> }> {
  const token = await world.issuer.token({ repositoryUuid: TEST_REPOSITORY, ...tokenOptions });
  return { token, env: bitbucketEnv({ cloneDir, token, endpoint: world.endpoint, variables }) };
}

/** One pipe run in a Bitbucket-like step: a fresh token for `repositoryUuid`, the variables, the built pipe. */
export async function runStep(
  world: StepWorld,
  cloneDir: string,
  variables: Record<string, string | undefined>,
  tokenOptions: Record<string, unknown> = {},
  options: PipeRunOptions = {},
) {
  const { token, env } = await stepEnv(world, cloneDir, variables, tokenOptions);
  return { token, env, result: await runBuiltPipe(env, cloneDir, [], options) };
}

/**
 * The build container's next script line: `. ./<outputDir>/env && command` in a real shell whose
 * environment holds nothing AWS of its own (no config files, no metadata service).
 */
export function inStepShell(
  shell: string,
  cloneDir: string,
  command: string,
  extra: Record<string, string> = {},
  options: { outputDir?: string; uid?: number; gid?: number } = {},
) {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: cloneDir,
    AWS_CONFIG_FILE: "/nonexistent",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
    AWS_EC2_METADATA_DISABLED: "true",
    ...extra,
  };
  const source = `. ./${options.outputDir ?? ".aws-oidc"}/env`;
  return run(shell, ["-c", `${source} && ${command}`], {
    env,
    cwd: cloneDir,
    ...(options.uid === undefined ? {} : { uid: options.uid }),
    ...(options.gid === undefined ? {} : { gid: options.gid }),
  });
}
