import { chmodSync, chownSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { trustCondition, trustPolicyDocument } from "../../src/trust.ts";
import { exists, lastLine } from "../support/output.ts";
import { inStepShell, PIPE, ROOT, run, runStep, TEST_REPOSITORY } from "../support/pipe.ts";
import { useStepWorld } from "../support/stepWorld.ts";
import type { World } from "../world/index.ts";

let world: World;
let roleArn: string;
let longRoleArn: string;
let otherAccountRole: string;
let clone: { dir: string; remove: () => Promise<void> };

useStepWorld(
  (s) => ({ world, roleArn, clone } = s),
  (w) => {
    otherAccountRole = w.allowRepository(TEST_REPOSITORY, { roleName: "deploy", account: "222222222222" });
    longRoleArn = "arn:aws:iam::111111111111:role/long-sessions";
    const condition = trustCondition({
      issuer: w.issuer.url,
      audience: w.issuer.audience,
      repositoryUuids: [TEST_REPOSITORY],
    });
    w.addRole({
      arn: longRoleArn,
      trustPolicy: trustPolicyDocument(w.providerArn(), condition),
      maxSessionDuration: 43200,
    });
  },
);

const pipe = (variables: Record<string, string | undefined> = {}, tokenOptions = {}) =>
  runStep(world, clone.dir, { AWS_ROLE_ARN: roleArn, ...variables }, tokenOptions);
const file = (name: string, dir = ".aws-oidc") => path.join(clone.dir, dir, name);
const assumeParams = () => world.requests.find((r) => r.action === "AssumeRoleWithWebIdentity")?.params ?? {};

describe("role and region variables", () => {
  it("accepts AWS_OIDC_ROLE_ARN and AWS_DEFAULT_REGION, the names of Atlassian's pipes", async () => {
    const { result } = await pipe({
      AWS_ROLE_ARN: undefined,
      AWS_OIDC_ROLE_ARN: roleArn,
      AWS_REGION: undefined,
      AWS_DEFAULT_REGION: "eu-central-1",
    });
    expect(result.status, result.output).toBe(0);
    expect(assumeParams().RoleArn).toBe(roleArn);
    expect(readFileSync(file("env"), "utf8")).toContain(
      "export AWS_REGION='eu-central-1'\nexport AWS_DEFAULT_REGION='eu-central-1'\n",
    );
  });

  it("refuses two different role ARNs without sending anything", async () => {
    const { result } = await pipe({ AWS_OIDC_ROLE_ARN: longRoleArn });
    expect(result.status).toBe(2);
    expect(lastLine(result.stdout)).toMatch(/^✖ AWS_ROLE_ARN and AWS_OIDC_ROLE_ARN/);
    expect(world.requests).toHaveLength(0);
  });

  it("builds a valid default session name from an awkward repository slug", async () => {
    const { result } = await pipe({
      BITBUCKET_REPO_SLUG: "my repo (legacy)/ü".padEnd(80, "x"),
      BITBUCKET_BUILD_NUMBER: "1234",
    });
    expect(result.status, result.output).toBe(0);
    const name = assumeParams().RoleSessionName ?? "";
    expect(name).toMatch(/^bitbucket-my-repo--legacy---x+$/);
    expect(name).toHaveLength(64);
  });

  it("sends AWS_ROLE_SESSION_NAME and AWS_ROLE_DURATION_SECONDS", async () => {
    const { result } = await pipe({
      AWS_ROLE_ARN: longRoleArn,
      AWS_ROLE_SESSION_NAME: "release@v1.2",
      AWS_ROLE_DURATION_SECONDS: "7200",
    });
    expect(result.status, result.output).toBe(0);
    expect(assumeParams()).toMatchObject({ RoleSessionName: "release@v1.2", DurationSeconds: "7200" });
    const outputs = JSON.parse(readFileSync(file("outputs.json"), "utf8"));
    const hours = (Date.parse(outputs.expiration) - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(1.9);
    expect(hours).toBeLessThanOrEqual(2);
  });

  it("explains a duration above the role's MaxSessionDuration (exit 3)", async () => {
    const { result } = await pipe({ AWS_ROLE_DURATION_SECONDS: "7200" });
    expect(result.status, result.output).toBe(3);
    expect(result.stdout).toMatch(/ValidationError/);
    const lines = result.stdout.trimEnd().split("\n");
    // One line says what was refused and what to do about the duration: no trust-policy advice,
    // which would send the user to fix a trust policy that works.
    expect(lines.at(-1)).toMatch(
      /^✖ AWS refused .*ValidationError.*AWS_ROLE_DURATION_SECONDS is above the role's maximum session duration: lower it, or raise the role's MaxSessionDuration/,
    );
    expect(result.stdout).not.toMatch(/Condition|claims|sub:|Likely causes|^ERROR/m);
  });
});

describe("session policies", () => {
  it("sends the inline policy and the managed policy ARNs", async () => {
    const policy = {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }],
    };
    const { result } = await pipe({
      AWS_SESSION_POLICY: JSON.stringify(policy, null, 2),
      AWS_SESSION_POLICY_ARNS:
        "arn:aws:iam::aws:policy/ReadOnlyAccess, arn:aws:iam::111111111111:policy/deploy-limits",
    });
    expect(result.status, result.output).toBe(0);
    const params = assumeParams();
    expect(JSON.parse(params.Policy ?? "")).toEqual(policy);
    expect(params["PolicyArns.member.1.arn"]).toBe("arn:aws:iam::aws:policy/ReadOnlyAccess");
    expect(params["PolicyArns.member.2.arn"]).toBe("arn:aws:iam::111111111111:policy/deploy-limits");
  });

  it("refuses session policies in web-identity mode before any request (exit 2)", async () => {
    const { result } = await pipe({
      CREDENTIALS_MODE: "web-identity",
      AWS_SESSION_POLICY: '{"Statement":[]}',
    });
    expect(result.status).toBe(2);
    expect(lastLine(result.stdout)).toMatch(
      /^✖ CREDENTIALS_MODE web-identity cannot carry AWS_SESSION_POLICY/,
    );
    expect(world.requests).toHaveLength(0);
  });
});

describe("allowed accounts and masking", () => {
  it("refuses a role in another account before any request (exit 3)", async () => {
    const { result } = await pipe({
      AWS_ROLE_ARN: otherAccountRole,
      AWS_ALLOWED_ACCOUNT_IDS: "111111111111, 333333333333",
    });
    expect(result.status).toBe(3);
    expect(lastLine(result.stdout)).toMatch(
      /^✖ AWS_ROLE_ARN .* account 222222222222, which AWS_ALLOWED_ACCOUNT_IDS does not allow/,
    );
    expect(world.requests).toHaveLength(0);
  });

  it("admits a role in an allowed account and checks the verified identity", async () => {
    const { result } = await pipe({
      AWS_ROLE_ARN: otherAccountRole,
      AWS_ALLOWED_ACCOUNT_IDS: "222222222222",
    });
    expect(result.status, result.output).toBe(0);
    expect(world.requests.map((r) => r.action)).toEqual(["AssumeRoleWithWebIdentity", "GetCallerIdentity"]);
  });

  it("MASK_ACCOUNT_ID hides account ids everywhere in the log, but not in the files", async () => {
    const ok = await pipe({ MASK_ACCOUNT_ID: "true", DEBUG: "true" });
    expect(ok.result.status, ok.result.output).toBe(0);
    expect(ok.result.output).toContain("arn:aws:sts::************:assumed-role/deploy/");
    expect(ok.result.output).not.toContain("111111111111");
    expect(JSON.parse(readFileSync(file("outputs.json"), "utf8")).accountId).toBe("111111111111");

    const refused = await pipe(
      { MASK_ACCOUNT_ID: "TRUE", DEBUG: "true" },
      { repositoryUuid: "{dddddddd-0000-4000-8000-000000000009}" },
    );
    expect(refused.result.status).toBe(3);
    expect(refused.result.output).toMatch(/Likely causes/);
    expect(refused.result.output).not.toContain("111111111111");

    const bad = await pipe({ MASK_ACCOUNT_ID: "true", AWS_ALLOWED_ACCOUNT_IDS: "222222222222" });
    expect(bad.result.status).toBe(3);
    expect(bad.result.output).not.toMatch(/111111111111|222222222222/);
  });
});

describe("OUTPUT_DIR", () => {
  it("writes where asked, inside the clone directory", async () => {
    const { result } = await pipe({ OUTPUT_DIR: "build/aws" });
    expect(result.status, result.output).toBe(0);
    expect(statSync(path.join(clone.dir, "build/aws")).mode & 0o777).toBe(0o700);
    expect(readFileSync(file("env", "build/aws"), "utf8")).toContain(
      `AWS_WEB_IDENTITY_TOKEN_FILE='${file("web-identity-token", "build/aws")}'`,
    );
    expect(result.stdout).toMatch(/Next in this step: \. \.\/build\/aws\/env$/m);
    const sourced = await inStepShell(
      "dash",
      clone.dir,
      'test -n "$AWS_SESSION_TOKEN" && echo ok',
      {},
      { outputDir: "build/aws" },
    );
    expect(sourced.stdout.trim()).toBe("ok");
  });

  it("refuses a folder outside the clone directory (exit 2, nothing sent)", async () => {
    const { result } = await pipe({ OUTPUT_DIR: "../outside" });
    expect(result.status).toBe(2);
    expect(lastLine(result.stdout)).toMatch(/^✖ OUTPUT_DIR .* inside BITBUCKET_CLONE_DIR/);
    expect(world.requests).toHaveLength(0);
  });

  it("refuses a symlinked folder and writes nothing through it", async () => {
    const target = await mkdtemp(path.join(tmpdir(), "elsewhere-"));
    try {
      symlinkSync(target, path.join(clone.dir, ".aws-oidc"));
      const { result } = await pipe();
      expect(result.status).toBe(2);
      expect(lastLine(result.stdout)).toMatch(/^✖ OUTPUT_DIR: the folder .* is a symbolic link/);
      expect(world.requests).toHaveLength(0);
      expect(exists(path.join(target, "env"))).toBe(false);
    } finally {
      await rm(target, { recursive: true, force: true });
    }
  });

  it("refuses a symlinked credential file and never writes through it", async () => {
    mkdirSync(path.join(clone.dir, ".aws-oidc"), { mode: 0o700 });
    const victim = path.join(clone.dir, "victim.txt");
    writeFileSync(victim, "untouched");
    symlinkSync(victim, file("env"));
    const { result } = await pipe();
    expect(result.status).toBe(2);
    expect(lastLine(result.stdout)).toMatch(/^✖ OUTPUT_DIR: the file .*env is a symbolic link/);
    expect(readFileSync(victim, "utf8")).toBe("untouched");
  });

  it("refuses a symlinked parent that leaves the clone directory", async () => {
    const target = await mkdtemp(path.join(tmpdir(), "elsewhere-"));
    try {
      symlinkSync(target, path.join(clone.dir, "out"));
      const { result } = await pipe({ OUTPUT_DIR: "out/creds" });
      expect(result.status).toBe(2);
      expect(lastLine(result.stdout)).toMatch(/leads outside BITBUCKET_CLONE_DIR/);
      expect(exists(path.join(target, "creds"))).toBe(false);
    } finally {
      await rm(target, { recursive: true, force: true });
    }
  });

  it("keeps the folder out of git", async () => {
    const { result } = await pipe();
    expect(result.status, result.output).toBe(0);
    expect(readFileSync(path.join(clone.dir, ".git/info/exclude"), "utf8")).toContain("\n/.aws-oidc/\n");
    const status = await run("git", ["status", "--porcelain", "--untracked-files=all"], {
      env: { PATH: process.env.PATH ?? "" },
      cwd: clone.dir,
    });
    expect(status.stdout).toBe("");
    await pipe();
    expect(
      readFileSync(path.join(clone.dir, ".git/info/exclude"), "utf8").match(/\/\.aws-oidc\//g),
    ).toHaveLength(1);
  });
});

describe("failures leave no credentials behind", () => {
  it("removes an earlier run's files when a later run is refused", async () => {
    expect((await pipe()).result.status).toBe(0);
    expect(exists(file("env"))).toBe(true);
    const refused = await pipe({}, { repositoryUuid: "{dddddddd-0000-4000-8000-000000000009}" });
    expect(refused.result.status).toBe(3);
    for (const name of ["env", "docker.env", "web-identity-token", "outputs.json"])
      expect(exists(file(name)), name).toBe(false);
  });

  it("removes them too when a variable is bad (exit 2)", async () => {
    expect((await pipe()).result.status).toBe(0);
    const bad = await pipe({ VERIFY: "maybe" });
    expect(bad.result.status).toBe(2);
    expect(exists(file("env"))).toBe(false);
  });

  it("names the path when a file can't be written (exit 1)", async () => {
    mkdirSync(file("env"), { recursive: true });
    const { result } = await pipe();
    expect(result.status).toBe(1);
    expect(lastLine(result.stdout)).toMatch(
      new RegExp(`^✖ Could not write ${file("env").replaceAll(".", "\\.")}: `),
    );
    expect(exists(file("docker.env"))).toBe(false);
    expect(exists(file("web-identity-token"))).toBe(false);
  });
});

describe("a non-root build container", () => {
  it("reads what the pipe wrote as root, because the files belong to the clone directory's owner", async (ctx) => {
    if (process.getuid?.() !== 0) ctx.skip("needs root, as Bitbucket runs pipes (CI runs as root)");
    chownSync(clone.dir, 1000, 1000);
    chmodSync(clone.dir, 0o755);
    const { result } = await pipe();
    expect(result.status, result.output).toBe(0);
    for (const name of [".aws-oidc", ".aws-oidc/env", ".aws-oidc/web-identity-token"]) {
      const stat = statSync(path.join(clone.dir, name));
      expect([stat.uid, stat.gid], name).toEqual([1000, 1000]);
    }
    const reader = await inStepShell(
      "sh",
      clone.dir,
      'id -u && test -n "$AWS_SECRET_ACCESS_KEY" && cat "$AWS_WEB_IDENTITY_TOKEN_FILE" >/dev/null && echo readable',
      {},
      { uid: 1000, gid: 1000 },
    );
    expect(reader.status, reader.output).toBe(0);
    expect(reader.stdout).toBe("1000\nreadable\n");
  });
});

describe("npx bitbucket-aws-oidc", () => {
  it("installs from the package and runs the same pipe through its bin", async () => {
    const work = await mkdtemp(path.join(tmpdir(), "npx-"));
    try {
      const env = { PATH: process.env.PATH ?? "", HOME: work, npm_config_cache: path.join(work, "cache") };
      const packed = await run("npm", ["pack", "--silent", "--pack-destination", work], { env, cwd: ROOT });
      expect(packed.status, packed.output).toBe(0);
      const tarball = path.join(work, packed.stdout.trim().split("\n").at(-1) ?? "");
      const installed = await run("npm", ["install", "--offline", "--no-audit", "--no-fund", tarball], {
        env,
        cwd: work,
      });
      expect(installed.status, installed.output).toBe(0);
      const { env: stepEnv } = await pipe();
      const viaBin = await run(path.join(work, "node_modules/.bin/bitbucket-aws-oidc"), [], {
        env: stepEnv,
        cwd: clone.dir,
      });
      expect(viaBin.status, viaBin.output).toBe(0);
      expect(viaBin.stdout).toMatch(/^✔ /m);
      expect(readFileSync(PIPE, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
