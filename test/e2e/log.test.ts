import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { variablesHelp } from "../../src/config/variables.ts";
import { baseEnv, bitbucketEnv, ROOT, run, runBuiltPipe, runStep, stepEnv } from "../support/pipe.ts";
import { useStepWorld } from "../support/stepWorld.ts";
import type { World } from "../world/index.ts";

/**
 * The log a user reads in the Bitbucket step (CONTRACT.md, "Exit status and messages"), through
 * the built pipe against the test world: a version line first; on success what later commands
 * get, then the ✔ line with a command that works when pasted; each thing said once.
 */
const { version } = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };

let world: World;
let roleArn: string;
let clone: { dir: string; remove: () => Promise<void> };
let devRole: string;

useStepWorld(
  (s) => ({ world, roleArn, clone } = s),
  (w) => {
    devRole = w.allowRepository("{aaaaaaaa-0000-4000-8000-000000000001}", { roleName: "dev-deploy" });
  },
);

const pipe = (variables: Record<string, string | undefined> = {}) =>
  runStep(world, clone.dir, { AWS_ROLE_ARN: roleArn, ...variables });

const lines = (stdout: string) => stdout.trimEnd().split("\n");
const count = (text: string, piece: string) => text.split(piece).length - 1;

describe("a successful run's log", () => {
  it("starts with the pipe's name and version, and names the assumed role once, on the ✔ line", async () => {
    const { result } = await pipe();
    expect(result.status, result.output).toBe(0);
    const log = lines(result.stdout);
    expect(log[0]).toBe(`INFO: bitbucket-aws-oidc ${version} (Node ${process.versions.node})`);
    const session = world.sessions.values().next().value;
    const assumed = session?.assumedRoleArn ?? "missing";
    expect(count(result.stdout, assumed)).toBe(1);
    expect(log.at(-1)).toContain(`✔ AWS credentials for ${assumed} are ready (static, until `);
  });

  it("ends with what later commands get: the names env sets and unsets and the files written, from the outputs", async () => {
    const { result } = await pipe({ CREDENTIALS_MODE: "web-identity" });
    expect(result.status, result.output).toBe(0);
    const log = lines(result.stdout);
    expect(log.at(-3)).toBe(
      "INFO: .aws-oidc/env sets AWS_REGION, AWS_DEFAULT_REGION, AWS_ROLE_ARN, AWS_ROLE_SESSION_NAME and AWS_WEB_IDENTITY_TOKEN_FILE; it unsets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN and AWS_PROFILE.",
    );
    expect(log.at(-2)).toBe(
      "INFO: Written to .aws-oidc/: web-identity-token, outputs.json, docker.env and env.",
    );
    // Every name said is really in the file, and the file holds no other.
    const env = readFileSync(path.join(clone.dir, ".aws-oidc", "env"), "utf8");
    const inFile = [...env.matchAll(/^(?:export|unset) ([A-Z_]+)/gm)].map((m) => m[1]);
    const said = [...(log.at(-3) ?? "").matchAll(/\b(AWS_[A-Z_]+)\b/g)].map((m) => m[1]);
    expect(new Set(said)).toEqual(new Set(inFile));
  });

  it("quotes the suggested command when OUTPUT_DIR needs it, and the command works as pasted", async () => {
    const { result } = await pipe({ OUTPUT_DIR: "aws creds/it's here" });
    expect(result.status, result.output).toBe(0);
    const last = lines(result.stdout).at(-1) ?? "";
    const command = /Next in this step: (.*)$/.exec(last)?.[1] ?? "";
    expect(command).toBe(`. './aws creds/it'\\''s here/env'`);
    const pasted = await run("sh", ["-c", `${command} && printf %s "$AWS_REGION"`], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      cwd: clone.dir,
    });
    expect(pasted.stdout).toBe("ap-southeast-2");
  });

  it("leaves a plain path unquoted", async () => {
    const { result } = await pipe();
    expect(lines(result.stdout).at(-1)).toMatch(/Next in this step: \. \.\/\.aws-oidc\/env$/);
  });

  it("says 'the profile' for one profile and 'the profiles' for several", async () => {
    const one = await pipe({ AWS_PROFILES: `dev=${devRole}` });
    expect(one.result.status, one.result.output).toBe(0);
    expect(lines(one.result.stdout).at(-1)).toMatch(
      /^✔ AWS credentials for .* and the profile dev are ready/,
    );
    const two = await pipe({ AWS_PROFILES: `dev=${devRole} ops=${devRole}` });
    expect(two.result.status, two.result.output).toBe(0);
    expect(lines(two.result.stdout).at(-1)).toMatch(/ and the profiles dev, ops are ready/);
  });
});

describe("a failed run's log", () => {
  it("one bad variable: just the ✖ line, with the problem and what to do", async () => {
    const { result } = await pipe({ VERIFY: "maybe" });
    expect(result.status, result.output).toBe(2);
    const log = lines(result.stdout);
    expect(log[0]).toMatch(/^INFO: bitbucket-aws-oidc /);
    expect(log).toHaveLength(2);
    expect(log[1]).toMatch(/^✖ VERIFY must be true or false, got .*maybe.*\. Fix VERIFY in the pipe's/);
  });

  it("several bad variables: listed once under ERROR, and a ✖ line that names them without repeating them", async () => {
    const { result } = await pipe({ VERIFY: "maybe", AWS_ROLE_DURATION_SECONDS: "12" });
    expect(result.status, result.output).toBe(2);
    const log = lines(result.stdout);
    expect(log[1]).toBe("ERROR: 2 problems with the pipe's variables");
    expect(log.filter((line) => line.startsWith("- "))).toHaveLength(2);
    expect(log.at(-1)).toMatch(
      /^✖ Fix (VERIFY and AWS_ROLE_DURATION_SECONDS|AWS_ROLE_DURATION_SECONDS and VERIFY) in the pipe's `variables:` and run the step again\.$/,
    );
    expect(count(result.stdout, "must be true or false")).toBe(1);
  });

  it("a trust refusal: the claims and the Condition, then a ✖ line naming the role, not the ERROR again", async () => {
    const untrusted = "arn:aws:iam::111111111111:role/untrusted";
    const { result } = await pipe({ AWS_ROLE_ARN: untrusted });
    expect(result.status, result.output).toBe(3);
    const log = lines(result.stdout);
    const error = log.find((line) => line.startsWith("ERROR: ")) ?? "";
    expect(error).toContain(`for the role ${untrusted}: AccessDenied`);
    expect(result.stdout).toMatch(/^ {2}sub: \{aaaaaaaa-0000-4000-8000-000000000001\}:/m);
    expect(result.stdout).toContain('"Condition"');
    expect(log.at(-1)).toBe(
      `✖ Make the trust policy of the role ${untrusted} admit this step with the Condition above (the pipe's \`claims\` command prints it too), and check the role ARN.`,
    );
  });
});

describe("--help and --version for every command", () => {
  const cli = (args: string[], env: Record<string, string> = {}) => runBuiltPipe(baseEnv(env), ROOT, args);

  it.each([
    [["--help"], "Usage:"],
    [["-h"], "Usage:"],
    [["help"], "Usage:"],
    [["claims", "--help"], "Usage: bitbucket-aws-oidc claims"],
    [["help", "claims"], "Usage: bitbucket-aws-oidc claims"],
    [["template", "--help"], "Usage: bitbucket-aws-oidc template"],
    [["template", "--workspace", "acme", "-h"], "Usage: bitbucket-aws-oidc template"],
  ])("%j prints its usage with exit 0", async (args, heading) => {
    const result = await cli(args);
    expect(result.status, result.output).toBe(0);
    expect(result.stdout).toContain(heading);
  });

  it("--help lists the pipe's variables from the registry", async () => {
    const result = await cli(["--help"]);
    expect(result.stdout).toContain(variablesHelp());
  });

  it.each([[["--version"]], [["-v"]], [["claims", "--version"]], [["template", "--version"]]])(
    "%j prints the version with exit 0",
    async (args) => {
      const result = await cli(args);
      expect(result.status, result.output).toBe(0);
      expect(result.stdout).toBe(`${version}\n`);
    },
  );

  it("claims --help needs no token, and a bad claims flag is exit 2 naming it", async () => {
    const bad = await cli(["claims", "--fromat", "json"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^✖ claims: unknown flag --fromat\./m);
  });

  it("template: a malformed --workspace-uuid is one message, and the hint names where Bitbucket shows UUIDs", async () => {
    const result = await cli(["template", "--workspace", "acme", "--workspace-uuid", "nope"]);
    expect(result.status).toBe(2);
    const log = lines(result.stderr);
    expect(log.filter((line) => line.includes("--workspace-uuid"))).toEqual([
      '- --workspace-uuid "nope" is not a UUID.',
    ]);
    expect(log).toContain(
      "- --repository-uuid is required, once per repository (Repository settings → OpenID Connect in Bitbucket, or --from-token).",
    );
    expect(log.at(-1)).toMatch(/^✖ Fix the flags listed above/);
  });
});

describe("a log nobody reads (stdout closed, as by `| head -1`)", () => {
  it("the run still writes its files and exits 0, with no error of its own", async () => {
    const { env } = await stepEnv(world, clone.dir, { AWS_ROLE_ARN: roleArn });
    rmSync(path.join(clone.dir, ".aws-oidc"), { recursive: true, force: true });
    const result = await runBuiltPipe(env, clone.dir, [], { stdoutClosed: true });
    expect(result).toMatchObject({ status: 0, stderr: "" });
    expect(existsSync(path.join(clone.dir, ".aws-oidc", "env"))).toBe(true);
  });

  it("a failed run keeps its exit status", async () => {
    const env = bitbucketEnv({
      cloneDir: clone.dir,
      token: "not-a-token",
      endpoint: world.endpoint,
      variables: { AWS_ROLE_ARN: roleArn },
    });
    expect(await runBuiltPipe(env, clone.dir, [], { stdoutClosed: true })).toMatchObject({
      status: 2,
      stderr: "",
    });
  });
});
