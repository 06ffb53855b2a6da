import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { fileMode } from "../support/output.ts";
import {
  bitbucketEnv,
  inStepShell,
  ROOT,
  runBuiltPipe,
  runStep,
  secretPieces,
  TEST_REPOSITORY,
} from "../support/pipe.ts";
import { useStepWorld } from "../support/stepWorld.ts";
import { requireTool } from "../support/tools.ts";
import type { World } from "../world/index.ts";

const _REPO = TEST_REPOSITORY;
let world: World;
let roleArn: string;
let clone: { dir: string; remove: () => Promise<void> };

useStepWorld((s) => ({ world, roleArn, clone } = s));

const pipe = (variables: Record<string, string | undefined> = {}, tokenOptions = {}) =>
  runStep(world, clone.dir, { AWS_ROLE_ARN: roleArn, ...variables }, tokenOptions);

const outDir = () => path.join(clone.dir, ".aws-oidc");

const inShell = (shell: string, command: string, extra: Record<string, string> = {}) =>
  inStepShell(shell, clone.dir, command, extra);

describe("the core flow, static mode", () => {
  it("assumes, verifies and writes working credentials only after both calls", async () => {
    const { token, result } = await pipe();
    expect(result.status, result.output).toBe(0);
    expect(result.stdout).toMatch(/^✔ .*assumed-role\/deploy\/bitbucket-web-app-42/m);
    expect(world.requests.map((r) => r.action)).toEqual(["AssumeRoleWithWebIdentity", "GetCallerIdentity"]);
    const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
    for (const request of world.requests) {
      // The SDK's own tokens first (they name Node and the OS), then the pipe's.
      expect(request.headers["user-agent"]?.split(" ")).toContain(`bitbucket-aws-oidc/${version}`);
    }
    expect(world.requests[0]?.params).toMatchObject({
      RoleArn: roleArn,
      RoleSessionName: "bitbucket-web-app-42",
      DurationSeconds: "3600",
    });

    expect(fileMode(outDir())).toBe(0o700);
    for (const file of ["env", "docker.env", "outputs.json", "web-identity-token"]) {
      expect(fileMode(path.join(outDir(), file)), file).toBe(0o600);
    }
    expect(readFileSync(path.join(outDir(), "web-identity-token"), "utf8")).toBe(token);

    const env = readFileSync(path.join(outDir(), "env"), "utf8");
    for (const line of env.trimEnd().split("\n"))
      expect(line).toMatch(/^(export [A-Z_]+='[^']*'|unset [A-Z_]+)$/);
    const keyId = /AWS_ACCESS_KEY_ID='([^']+)'/.exec(env)?.[1] ?? "";
    const session = world.sessions.get(keyId ?? "");
    expect(session?.roleArn).toBe(roleArn);
    expect(env).toContain(`export AWS_SECRET_ACCESS_KEY='${session?.secretAccessKey}'`);
    expect(env).toContain(`export AWS_SESSION_TOKEN='${session?.sessionToken}'`);
    expect(env).toContain(
      `export AWS_WEB_IDENTITY_TOKEN_FILE='${path.join(outDir(), "web-identity-token")}'`,
    );
    expect(env).toContain("export AWS_REGION='ap-southeast-2'");
    expect(env).toContain("export AWS_DEFAULT_REGION='ap-southeast-2'");
    expect(env).toMatch(/export AWS_CREDENTIAL_EXPIRATION='\d{4}-\d\d-\d\dT[\d:.]+Z'/);

    const docker = readFileSync(path.join(outDir(), "docker.env"), "utf8");
    expect(docker).toContain(`AWS_ACCESS_KEY_ID=${keyId}\n`);
    expect(docker).not.toContain("'");

    const outputs = JSON.parse(readFileSync(path.join(outDir(), "outputs.json"), "utf8"));
    expect(outputs).toEqual({
      accountId: "111111111111",
      roleArn,
      assumedRoleArn: "arn:aws:sts::111111111111:assumed-role/deploy/bitbucket-web-app-42",
      sessionName: "bitbucket-web-app-42",
      region: "ap-southeast-2",
      expiration: session?.expiration.toISOString(),
      mode: "static",
    });
    expect(JSON.stringify(outputs)).not.toContain(session?.secretAccessKey);
  });

  for (const shell of ["bash", "dash"]) {
    it(`gives the AWS CLI v1 working credentials after \`.\` in ${shell}`, async (ctx) => {
      requireTool(ctx, "aws", "pip install awscli");
      const { result } = await pipe();
      expect(result.status, result.output).toBe(0);
      world.clearRequests();
      const cli = await inShell(shell, "aws sts get-caller-identity --output json", {
        AWS_ENDPOINT_URL: world.endpoint,
      });
      expect(cli.status, cli.output).toBe(0);
      expect(JSON.parse(cli.stdout).Arn).toBe(
        "arn:aws:sts::111111111111:assumed-role/deploy/bitbucket-web-app-42",
      );
      // Signed with the issued key: the emulator checked the SigV4 signature and session token.
      expect(world.requests.map((r) => [r.action, r.status])).toEqual([["GetCallerIdentity", 200]]);
    });
  }

  it("gives the AWS CLI v2 working credentials", async (ctx) => {
    requireTool(ctx, "/usr/bin/aws", "apt-get install -y awscli");
    const { result } = await pipe();
    expect(result.status, result.output).toBe(0);
    const cli = await inShell(
      "bash",
      `/usr/bin/aws sts get-caller-identity --endpoint-url '${world.endpoint}' --output json`,
    );
    expect(cli.status, cli.output).toBe(0);
    expect(JSON.parse(cli.stdout).Account).toBe("111111111111");
  });

  it("with VERIFY=false makes exactly one request", async () => {
    const { result } = await pipe({ VERIFY: "false" });
    expect(result.status, result.output).toBe(0);
    expect(world.requests.map((r) => r.action)).toEqual(["AssumeRoleWithWebIdentity"]);
    expect(result.stdout).not.toMatch(/Verified/);
  });
});

describe("the core flow, web-identity mode", () => {
  it("exports the role and token file so every SDK assumes and refreshes by itself", async () => {
    const { result } = await pipe({ CREDENTIALS_MODE: "web-identity" });
    expect(result.status, result.output).toBe(0);
    const env = readFileSync(path.join(outDir(), "env"), "utf8");
    expect(env).not.toMatch(/AWS_ACCESS_KEY_ID=|AWS_SECRET_ACCESS_KEY=|AWS_SESSION_TOKEN=/);
    for (const name of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"]) {
      expect(env).toContain(`unset ${name}\n`);
    }
    expect(env).toContain(`export AWS_ROLE_ARN='${roleArn}'`);
    expect(JSON.parse(readFileSync(path.join(outDir(), "outputs.json"), "utf8")).mode).toBe("web-identity");
    const docker = readFileSync(path.join(outDir(), "docker.env"), "utf8");
    expect(docker).toContain(`AWS_WEB_IDENTITY_TOKEN_FILE=${path.join(outDir(), "web-identity-token")}\n`);
    expect(docker).not.toContain("AWS_SECRET_ACCESS_KEY");
  });

  it("works with the AWS CLI, which assumes the role itself from the token file", async (ctx) => {
    requireTool(ctx, "aws", "pip install awscli");
    const { result } = await pipe({ CREDENTIALS_MODE: "web-identity" });
    expect(result.status, result.output).toBe(0);
    world.clearRequests();
    // Keys left in the build container's environment must not win over the web identity.
    const cli = await inShell("dash", "aws sts get-caller-identity --output json", {
      AWS_ENDPOINT_URL: world.endpoint,
      AWS_ACCESS_KEY_ID: "AKIASTALEKEYFROMHOST",
      AWS_SECRET_ACCESS_KEY: "stale",
    });
    expect(cli.status, cli.output).toBe(0);
    expect(JSON.parse(cli.stdout).Arn).toMatch(/assumed-role\/deploy\//);
    expect(world.requests.map((r) => r.action)).toEqual(["AssumeRoleWithWebIdentity", "GetCallerIdentity"]);
  });

  it("works with the AWS SDK for JavaScript's default chain", async () => {
    const { result } = await pipe({ CREDENTIALS_MODE: "web-identity" });
    expect(result.status, result.output).toBe(0);
    const sdk = await inShell("bash", `node '${path.join(ROOT, "test/support/sdk-identity.mjs")}'`, {
      AWS_ENDPOINT_URL: world.endpoint,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    });
    expect(sdk.status, sdk.output).toBe(0);
    expect(sdk.stdout.trim()).toMatch(
      /^arn:aws:sts::111111111111:assumed-role\/deploy\/bitbucket-web-app-42$/,
    );
  });
});

describe("failures", () => {
  it("refuses a repository the role does not trust: exit 3, diagnosis, no files", async () => {
    const { result } = await pipe({}, { repositoryUuid: "{dddddddd-0000-4000-8000-000000000009}" });
    expect(result.status, result.output).toBe(3);
    expect(result.stdout).toMatch(/AccessDenied/);
    expect(result.stdout).toContain("{dddddddd-0000-4000-8000-000000000009}:*");
    expect(result.stdout.trimEnd().split("\n").at(-1)).toMatch(/^✖ /);
    for (const file of ["env", "docker.env", "web-identity-token", "outputs.json"]) {
      expect(() => statSync(path.join(outDir(), file))).toThrow();
    }
  });

  it("needs oidc: true", async () => {
    const env = bitbucketEnv({
      cloneDir: clone.dir,
      token: undefined,
      endpoint: world.endpoint,
      variables: { AWS_ROLE_ARN: roleArn },
    });
    const result = await runBuiltPipe(env, clone.dir);
    expect(result.status).toBe(2);
    expect(result.stdout).toMatch(/^✖ .*BITBUCKET_STEP_OIDC_TOKEN.*oidc: true/m);
    expect(world.requests).toHaveLength(0);
  });
});

describe("secrets", () => {
  it("never prints the token or the credentials, even with DEBUG=true", async () => {
    const runs = [
      await pipe({ DEBUG: "true" }),
      await pipe({ DEBUG: "true", CREDENTIALS_MODE: "web-identity" }),
      await pipe({ DEBUG: "true" }, { repositoryUuid: "{dddddddd-0000-4000-8000-000000000009}" }),
      await pipe({ DEBUG: "true", AWS_ROLE_DURATION_SECONDS: "soon" }),
    ];
    expect(runs.map((r) => r.result.status)).toEqual([0, 0, 3, 2]);
    const issued = [...world.sessions.values()].flatMap((s) => [
      s.accessKeyId,
      s.secretAccessKey,
      s.sessionToken,
    ]);
    for (const { token, result } of runs) {
      if (result.status !== 2) expect(result.output).toMatch(/DEBUG: /);
      for (const piece of secretPieces(token, issued)) expect(result.output).not.toContain(piece);
    }
  });
});
