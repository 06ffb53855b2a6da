import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { InputErrors, type PipeError } from "../src/errors.ts";
import { runPipe } from "../src/pipe.ts";
import { capturedLog } from "./support/log.ts";
import { bitbucketEnv, TEST_REPOSITORY } from "./support/pipe.ts";
import { useStepWorld } from "./support/stepWorld.ts";
import type { World } from "./world/index.ts";

/**
 * The run's stages in order (src/pipe.ts), in process against the local AWS world: config, token,
 * the account guards, the assume, verification and features at once, the files, the closing lines;
 * and on any failure, no credential file left. (The built program end to end: test/e2e/.)
 */

let world: World;
let roleArn: string;
let clone: { dir: string };
useStepWorld((s) => ({ world, roleArn, clone } = s));

const out = () => path.join(clone.dir, ".aws-oidc");

/** One run; the error it ended with (or undefined) and the log's lines. */
async function pipe(variables: Record<string, string | undefined>) {
  const token = await world.issuer.token({ repositoryUuid: TEST_REPOSITORY });
  const env = bitbucketEnv({ cloneDir: clone.dir, token, endpoint: world.endpoint, variables });
  const { log, lines } = capturedLog();
  const error = await runPipe({ env, cwd: clone.dir, log, now: Date.now }).then(
    () => undefined,
    (e: unknown) => e as PipeError,
  );
  return { error, lines: lines() };
}

/** What an earlier run left: credentials a later `source` must never pick up after a failure. */
function earlierRun(folder = out()) {
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(folder, "env"), "export AWS_ACCESS_KEY_ID='old'\n");
  writeFileSync(path.join(folder, "aws-credentials"), "[default]\n");
}

describe("a run that succeeds", () => {
  it("assumes, verifies, writes the files, keeps them out of git and closes with the ✔ line", async () => {
    const { error, lines } = await pipe({ AWS_ROLE_ARN: roleArn });
    expect(error).toBeUndefined();
    expect(world.requests.map((r) => r.action)).toEqual(["AssumeRoleWithWebIdentity", "GetCallerIdentity"]);
    expect(readdirSync(out()).sort()).toEqual(["docker.env", "env", "outputs.json", "web-identity-token"]);
    expect(JSON.parse(readFileSync(path.join(out(), "outputs.json"), "utf8"))).toMatchObject({
      accountId: "111111111111",
      roleArn,
      mode: "static",
    });
    expect(readFileSync(path.join(clone.dir, ".git/info/exclude"), "utf8")).toContain("/.aws-oidc/\n");
    expect(lines).toContain(
      "INFO: Verified with sts:GetCallerIdentity: the credentials work (account 111111111111).",
    );
    expect(lines.at(-1)).toMatch(/^✔ /);
  });

  it("VERIFY=false: the assume alone, one round trip", async () => {
    const { error, lines } = await pipe({ AWS_ROLE_ARN: roleArn, VERIFY: "false" });
    expect(error).toBeUndefined();
    expect(world.requests.map((r) => r.action)).toEqual(["AssumeRoleWithWebIdentity"]);
    expect(lines.join("\n")).not.toContain("Verified");
  });

  it("warns about a clock AWS sees far off, and about artifacts: that would upload the folder", async () => {
    world.setClockOffset(10 * 60_000);
    writeFileSync(
      path.join(clone.dir, "bitbucket-pipelines.yml"),
      "pipelines:\n  default:\n    - step:\n        artifacts:\n          - '**'\n",
    );
    const { error, lines } = await pipe({ AWS_ROLE_ARN: roleArn });
    expect(error).toBeUndefined();
    expect(lines).toContainEqual(expect.stringMatching(/^WARNING: this runner's clock is .* behind AWS/));
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^WARNING: bitbucket-pipelines.yml has artifacts: '\*\*', which matches \.aws-oidc\//,
      ),
    );
  });
});

describe("a run that fails leaves no credential file", () => {
  it("a bad variable: every problem, no request, an earlier run's files removed", async () => {
    earlierRun();
    const { error } = await pipe({ AWS_ROLE_ARN: roleArn, VERIFY: "maybe", AWS_MAX_ATTEMPTS: "0" });
    expect(error).toBeInstanceOf(InputErrors);
    expect((error as InputErrors).problems).toHaveLength(2);
    expect(world.requests).toEqual([]);
    expect(readdirSync(out())).toEqual([]);
  });

  it("a bad OUTPUT_DIR: nothing removed anywhere, since the folder named is not safe", async () => {
    const outside = path.join(path.dirname(clone.dir), `${path.basename(clone.dir)}-outside`);
    earlierRun(outside);
    try {
      const { error } = await pipe({ AWS_ROLE_ARN: roleArn, OUTPUT_DIR: outside });
      expect(error?.kind).toBe("input");
      expect(readdirSync(outside).sort()).toEqual(["aws-credentials", "env"]);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it("a role outside AWS_ALLOWED_ACCOUNT_IDS: refused before any request", async () => {
    earlierRun();
    const { error } = await pipe({ AWS_ROLE_ARN: roleArn, AWS_ALLOWED_ACCOUNT_IDS: "222222222222" });
    expect(error?.kind).toBe("refused");
    expect(error?.message).toBe(
      `AWS_ROLE_ARN (${roleArn}) is in account 111111111111, which AWS_ALLOWED_ACCOUNT_IDS does not allow.`,
    );
    expect(world.requests).toEqual([]);
    expect(readdirSync(out())).toEqual([]);
  });

  it("an assume answer in another account: refused without VERIFY, nothing written", async () => {
    world.fault({
      action: "AssumeRoleWithWebIdentity",
      rewrite: (body) => body.replace("arn:aws:sts::111111111111:", "arn:aws:sts::999999999999:"),
    });
    const { error } = await pipe({
      AWS_ROLE_ARN: roleArn,
      AWS_ALLOWED_ACCOUNT_IDS: "111111111111",
      VERIFY: "false",
    });
    expect(error?.kind).toBe("refused");
    expect(error?.message).toMatch(
      /^STS answered for .* in account 999999999999, which AWS_ALLOWED_ACCOUNT_IDS does not allow/,
    );
    expect(existsSync(out()) ? readdirSync(out()) : []).toEqual([]);
  });

  it("a refused verification after the assume: the staged token and an earlier run's files gone", async () => {
    earlierRun();
    world.fault({ action: "GetCallerIdentity", code: "AccessDenied", message: "explicit deny" });
    const { error } = await pipe({ AWS_ROLE_ARN: roleArn });
    expect(error?.kind).toBe("refused");
    expect(error?.message).toMatch(/^AWS refused sts:GetCallerIdentity with the credentials of /);
    expect(readdirSync(out())).toEqual([]);
  });

  it("no token: exit 2 before any request, saying to add oidc: true", async () => {
    earlierRun();
    const { log } = capturedLog();
    const env = bitbucketEnv({
      cloneDir: clone.dir,
      token: undefined,
      endpoint: world.endpoint,
      variables: { AWS_ROLE_ARN: roleArn },
    });
    const error = await runPipe({ env, cwd: clone.dir, log, now: Date.now }).catch(
      (e: unknown) => e as PipeError,
    );
    expect(error?.kind).toBe("input");
    expect(error?.fix).toContain("oidc: true");
    expect(world.requests).toEqual([]);
    expect(readdirSync(out())).toEqual([]);
  });
});
