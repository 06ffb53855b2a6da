import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { exists } from "../support/output.ts";
import { makeCloneDir, ROOT, run, runStep, secretPieces, TEST_REPOSITORY } from "../support/pipe.ts";
import { requireTool } from "../support/tools.ts";
import { startWorld, type World } from "../world/index.ts";

/**
 * Many accounts from one step: AWS_PROFILES and AWS_CHAIN_ROLE_ARN, end to end. The built pipe
 * runs against the local AWS world; then the real AWS CLI (v1, on PATH) and the AWS SDK for
 * JavaScript's default chain run in a shell that sourced only the env file.
 */

const REPO = TEST_REPOSITORY;
const SESSION = "bitbucket-web-app-42";
const SDK = path.join(ROOT, "test/support/sdk-identity.mjs");
const assumed = (account: string, name: string) => `arn:aws:sts::${account}:assumed-role/${name}/${SESSION}`;

let world: World;
let clone: { dir: string; remove: () => Promise<void> };
/** 111111111111: the main role. */
let mainRole: string;
/** 111111111111: the dev profile's role. */
let devRole: string;
/** 222222222222: the prod profile's role (another account, its own OIDC provider). */
let prodRole: string;
/** 111111111111: the hub the token assumes before chaining; allows sessions up to 12 hours. */
let hubRole: string;
/** 222222222222: trusts the hub role for sts:AssumeRole. */
const WORKLOAD = "arn:aws:iam::222222222222:role/workload";
/** 222222222222: trusts the hub role for sts:AssumeRole with an external id. */
const WORKLOAD_EXT = "arn:aws:iam::222222222222:role/workload-ext";
const EXTERNAL_ID = "acme-ext-7f3a";

beforeAll(async () => {
  world = await startWorld();
  mainRole = world.allowRepository(REPO, { roleName: "deploy" });
  devRole = world.allowRepository(REPO, { roleName: "dev-deploy" });
  prodRole = world.allowRepository(REPO, { roleName: "deploy", account: "222222222222" });
  hubRole = "arn:aws:iam::111111111111:role/hub";
  world.addRole({
    arn: hubRole,
    // A placeholder statement: allowRepository adds the repository's beside it and keeps the maximum.
    trustPolicy: {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
    },
    maxSessionDuration: 43200,
  });
  world.allowRepository(REPO, { roleName: "hub" });
  world.addRole({
    arn: WORKLOAD,
    trustPolicy: {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { AWS: hubRole }, Action: "sts:AssumeRole" }],
    },
  });
  world.addRole({
    arn: WORKLOAD_EXT,
    trustPolicy: {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { AWS: hubRole },
          Action: "sts:AssumeRole",
          Condition: { StringEquals: { "sts:ExternalId": EXTERNAL_ID } },
        },
      ],
    },
  });
});
afterAll(async () => {
  await world?.close();
});
beforeEach(async () => {
  world.clearRequests();
  world.clearFaults();
  world.setLatency(0);
  clone = await makeCloneDir();
  return () => clone.remove();
});

const pipe = (variables: Record<string, string | undefined> = {}) =>
  runStep(world, clone.dir, { AWS_ROLE_ARN: mainRole, ...variables });

const outDir = () => path.join(clone.dir, ".aws-oidc");
const read = (file: string) => readFileSync(path.join(outDir(), file), "utf8");
const CREDENTIAL_FILES = [
  "env",
  "docker.env",
  "web-identity-token",
  "outputs.json",
  "aws-config",
  "aws-credentials",
];

/**
 * The build container's next lines: `. ./.aws-oidc/env && command` in a real shell. Its environment
 * starts with stale AWS settings of the kind a build image carries: the env file must clear them.
 */
function inShell(command: string) {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: clone.dir,
    AWS_CONFIG_FILE: "/nonexistent",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    AWS_ENDPOINT_URL: world.endpoint,
    AWS_ACCESS_KEY_ID: "AKIASTALEKEYFROMHOST",
    AWS_SECRET_ACCESS_KEY: "stale-secret-from-the-host",
    AWS_SESSION_TOKEN: "stale-token-from-the-host",
    AWS_PROFILE: "stale-profile",
    AWS_ROLE_ARN: "arn:aws:iam::999999999999:role/stale",
    AWS_WEB_IDENTITY_TOKEN_FILE: "/nonexistent/token",
  };
  return run("bash", ["-c", `. ./.aws-oidc/env && ${command}`], { env, cwd: clone.dir });
}

async function arnFrom(command: string): Promise<string> {
  const out = await inShell(command);
  expect(out.status, `${command}\n${out.output}`).toBe(0);
  return out.stdout.trim();
}

/** Who each way of picking a profile ends up as, with only the sourced env file. */
async function whoAmI(ctx: { skip: (note?: string) => void }) {
  requireTool(ctx, "aws", "pip install awscli");
  const cli = "sts get-caller-identity --query Arn --output text";
  return {
    cliFlag: await arnFrom(`aws --profile prod ${cli}`),
    cliEnv: await arnFrom(`AWS_PROFILE=prod aws ${cli}`),
    sdkEnv: await arnFrom(`AWS_PROFILE=prod node '${SDK}'`),
    cliDefault: await arnFrom(`aws ${cli}`),
    sdkDefault: await arnFrom(`node '${SDK}'`),
  };
}

const PROFILES = () => `dev=${devRole}, prod=${prodRole}`;

describe("AWS_PROFILES", () => {
  it("static: assumes every role, writes aws-config and aws-credentials, and env only points at them", async () => {
    const { result } = await pipe({ AWS_PROFILES: PROFILES() });
    expect(result.status, result.output).toBe(0);
    const webIdentity = world.requests.filter((r) => r.action === "AssumeRoleWithWebIdentity");
    expect(webIdentity.map((r) => r.params.RoleArn).sort()).toEqual([devRole, mainRole, prodRole].sort());
    for (const r of webIdentity) {
      expect(r.params).toMatchObject({ RoleSessionName: SESSION, DurationSeconds: "3600" });
    }
    expect(result.stdout).toMatch(
      /^INFO: Profile prod: assumed arn:aws:sts::222222222222:assumed-role\/deploy\//m,
    );
    expect(result.stdout).toMatch(/^✔ .*assumed-role\/deploy\/.* and the profiles dev, prod are ready/m);

    for (const file of ["aws-config", "aws-credentials"]) {
      expect(statSync(path.join(outDir(), file)).mode & 0o777, file).toBe(0o600);
    }
    expect(read("env")).toBe(`export AWS_REGION='ap-southeast-2'
export AWS_DEFAULT_REGION='ap-southeast-2'
export AWS_CONFIG_FILE='${path.join(outDir(), "aws-config")}'
export AWS_SHARED_CREDENTIALS_FILE='${path.join(outDir(), "aws-credentials")}'
unset AWS_ACCESS_KEY_ID
unset AWS_SECRET_ACCESS_KEY
unset AWS_SESSION_TOKEN
unset AWS_ROLE_ARN
unset AWS_WEB_IDENTITY_TOKEN_FILE
unset AWS_ROLE_SESSION_NAME
unset AWS_PROFILE
`);
    // Each section holds the keys STS issued for its own role.
    const credentials = read("aws-credentials");
    const sections = Object.fromEntries(
      [...credentials.matchAll(/^\[([^\]]+)\]\naws_access_key_id = (\S+)$/gm)].map((m) => [m[1], m[2]]),
    );
    expect(Object.keys(sections)).toEqual(["default", "dev", "prod"]);
    expect(world.sessions.get(sections.default ?? "")?.roleArn).toBe(mainRole);
    expect(world.sessions.get(sections.dev ?? "")?.roleArn).toBe(devRole);
    expect(world.sessions.get(sections.prod ?? "")?.roleArn).toBe(prodRole);
    expect(read("docker.env")).toContain(`AWS_ACCESS_KEY_ID=${sections.default}\n`);

    expect(JSON.parse(read("outputs.json"))).toMatchObject({
      accountId: "111111111111",
      roleArn: mainRole,
      assumedRoleArn: assumed("111111111111", "deploy"),
      mode: "static",
      profiles: { dev: assumed("111111111111", "dev-deploy"), prod: assumed("222222222222", "deploy") },
    });
  });

  it("static: --profile, AWS_PROFILE and the SDK's default chain pick prod's role; no profile is the default", async (ctx) => {
    const { result } = await pipe({ AWS_PROFILES: PROFILES() });
    expect(result.status, result.output).toBe(0);
    world.clearRequests();
    expect(await whoAmI(ctx)).toEqual({
      cliFlag: assumed("222222222222", "deploy"),
      cliEnv: assumed("222222222222", "deploy"),
      sdkEnv: assumed("222222222222", "deploy"),
      cliDefault: assumed("111111111111", "deploy"),
      sdkDefault: assumed("111111111111", "deploy"),
    });
    // Static keys: nobody had to assume anything again.
    expect(new Set(world.requests.map((r) => r.action))).toEqual(new Set(["GetCallerIdentity"]));
  });

  it("static: the AWS CLI v2 picks the profile too", async (ctx) => {
    requireTool(ctx, "/usr/bin/aws", "apt-get install -y awscli");
    const { result } = await pipe({ AWS_PROFILES: PROFILES() });
    expect(result.status, result.output).toBe(0);
    // This CLI v2 predates AWS_ENDPOINT_URL: the endpoint goes on the command line.
    const cli = `/usr/bin/aws sts get-caller-identity --endpoint-url '${world.endpoint}' --query Arn --output text`;
    expect(await arnFrom(`${cli} --profile prod`)).toBe(assumed("222222222222", "deploy"));
    expect(await arnFrom(`AWS_PROFILE=dev ${cli}`)).toBe(assumed("111111111111", "dev-deploy"));
    expect(await arnFrom(cli)).toBe(assumed("111111111111", "deploy"));
  });

  it("web-identity: every CLI and SDK assumes the profile's role by itself from the token file", async (ctx) => {
    const { result } = await pipe({ AWS_PROFILES: PROFILES(), CREDENTIALS_MODE: "web-identity" });
    expect(result.status, result.output).toBe(0);
    expect(exists(path.join(outDir(), "aws-credentials"))).toBe(false);
    expect(read("env")).not.toContain("AWS_SHARED_CREDENTIALS_FILE");
    expect(read("aws-config")).toContain(
      `[profile prod]\nrole_arn = ${prodRole}\nweb_identity_token_file = ${path.join(outDir(), "web-identity-token")}\n`,
    );
    const pipeKeys = new Set(world.sessions.keys());
    world.clearRequests();
    expect(await whoAmI(ctx)).toEqual({
      cliFlag: assumed("222222222222", "deploy"),
      cliEnv: assumed("222222222222", "deploy"),
      sdkEnv: assumed("222222222222", "deploy"),
      cliDefault: assumed("111111111111", "deploy"),
      sdkDefault: assumed("111111111111", "deploy"),
    });
    // The tools assumed the roles themselves (the CLI caches its session between runs): no call
    // was signed with a key the pipe got.
    expect(
      new Set(
        world.requests.filter((r) => r.action === "AssumeRoleWithWebIdentity").map((r) => r.params.RoleArn),
      ),
    ).toEqual(new Set([prodRole, mainRole]));
    const calls = world.requests.filter((r) => r.action === "GetCallerIdentity");
    expect(calls).toHaveLength(5);
    for (const call of calls) expect(pipeKeys.has(call.accessKeyId ?? "")).toBe(false);
  });

  it("web-identity: docker.env gives a container the default role through the config file", async () => {
    const { result } = await pipe({ AWS_PROFILES: PROFILES(), CREDENTIALS_MODE: "web-identity" });
    expect(result.status, result.output).toBe(0);
    const docker = read("docker.env");
    expect(docker).toBe(
      `AWS_REGION=ap-southeast-2\nAWS_DEFAULT_REGION=ap-southeast-2\nAWS_CONFIG_FILE=${path.join(outDir(), "aws-config")}\n`,
    );
    // What `docker run --env-file` gives a container with OUTPUT_DIR mounted at the same path.
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: clone.dir,
      AWS_ENDPOINT_URL: world.endpoint,
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
    };
    for (const line of docker.trimEnd().split("\n")) {
      const eq = line.indexOf("=");
      env[line.slice(0, eq)] = line.slice(eq + 1);
    }
    const sdk = await run(process.execPath, [SDK], { env, cwd: "/" });
    expect(sdk.status, sdk.output).toBe(0);
    expect(sdk.stdout.trim()).toBe(assumed("111111111111", "deploy"));
  });

  it("assumes the profiles concurrently with the main role", async () => {
    world.setLatency(100);
    const { result } = await pipe({
      AWS_ROLE_ARN: hubRole,
      AWS_PROFILES: PROFILES(),
      AWS_CHAIN_ROLE_ARN: WORKLOAD,
    });
    world.setLatency(0);
    expect(result.status, result.output).toBe(0);
    const webIdentity = world.requests.filter((r) => r.action === "AssumeRoleWithWebIdentity");
    expect(webIdentity).toHaveLength(3);
    const arrivals = webIdentity.map((r) => r.at);
    // One after the other, each would arrive at least 100 ms after the previous one was sent.
    expect(Math.max(...arrivals) - Math.min(...arrivals)).toBeLessThan(100);
    // The chain waits for the main role's answer.
    const main = webIdentity.find((r) => r.params.RoleArn === hubRole);
    const chain = world.requests.find((r) => r.action === "AssumeRole");
    expect((chain?.at ?? 0) - (main?.at ?? 0)).toBeGreaterThanOrEqual(90);
  });

  it("a refused profile fails the run, names the profile, diagnoses it and leaves no files", async () => {
    const earlier = await pipe({ AWS_PROFILES: PROFILES() });
    expect(earlier.result.status, earlier.result.output).toBe(0);
    const untrusted = "arn:aws:iam::222222222222:role/untrusted";
    const { result } = await pipe({ AWS_PROFILES: `dev=${devRole} prod=${untrusted}` });
    expect(result.status, result.output).toBe(3);
    expect(result.stdout).toContain(
      `ERROR: AWS refused sts:AssumeRoleWithWebIdentity for profile prod's role ${untrusted}: AccessDenied`,
    );
    // The same diagnosis as the main role: the claims and the condition that would admit this step.
    expect(result.stdout).toContain(`"${REPO}:*"`);
    expect(result.stdout).toContain(`the role ${untrusted} does not exist`);
    expect(result.stdout.trimEnd().split("\n").at(-1)).toMatch(/^✖ .*profile prod's role/);
    for (const file of CREDENTIAL_FILES) expect(exists(path.join(outDir(), file)), file).toBe(false);
  });

  it("lists every refused role, the first in the order given leading", async () => {
    const { result } = await pipe({
      AWS_PROFILES: `dev=arn:aws:iam::111111111111:role/missing-dev prod=arn:aws:iam::222222222222:role/missing-prod`,
    });
    expect(result.status, result.output).toBe(3);
    expect(result.stdout).toMatch(/^✖ .*profile dev's role arn:aws:iam::111111111111:role\/missing-dev/m);
    expect(result.stdout).toMatch(
      /^Also failed:\n {2}- AWS refused .* for profile prod's role .*missing-prod/m,
    );
  });

  it("names the profile in retries and in a transient give-up (exit 4)", async () => {
    const fault = { action: "AssumeRoleWithWebIdentity", times: 3, code: "ServiceUnavailable" };
    world.fault(fault);
    const retried = await pipe({
      AWS_PROFILES: PROFILES(),
      AWS_MAX_ATTEMPTS: "2",
      BITBUCKET_AWS_OIDC_TEST_TIME_SCALE: "0.01",
    });
    expect(retried.result.status, retried.result.output).toBe(0);
    expect(retried.result.stdout).toMatch(
      /^WARNING: Profile prod: sts:AssumeRoleWithWebIdentity: ServiceUnavailable/m,
    );

    world.clearRequests();
    world.fault(fault);
    const { result } = await pipe({ AWS_PROFILES: PROFILES(), AWS_MAX_ATTEMPTS: "1" });
    expect(result.status, result.output).toBe(4);
    // The give-up heads the list of failures; the ✖ line says what to do, not the same again.
    expect(result.stdout).toMatch(/^ERROR: sts:AssumeRoleWithWebIdentity failed after 1 attempt/m);
    expect(result.stdout.trimEnd().split("\n").at(-1)).toMatch(
      /^✖ This is a fault on the way to AWS.*re-run the step/,
    );
    expect(result.stdout).toMatch(
      /^ {2}- For profile dev's role arn:aws:iam::111111111111:role\/dev-deploy: sts:AssumeRoleWithWebIdentity failed/m,
    );
    for (const file of CREDENTIAL_FILES) expect(exists(path.join(outDir(), file)), file).toBe(false);
  });

  it("checks every profile's account against AWS_ALLOWED_ACCOUNT_IDS before any request", async () => {
    const { result } = await pipe({ AWS_PROFILES: PROFILES(), AWS_ALLOWED_ACCOUNT_IDS: "111111111111" });
    expect(result.status, result.output).toBe(3);
    expect(result.stdout).toMatch(/AWS_PROFILES \(prod\).*222222222222/);
    expect(world.requests).toHaveLength(0);
  });
});

describe("AWS_CHAIN_ROLE_ARN", () => {
  it("static: chains with the first role's keys and hands out the chained role's, verified", async () => {
    const { result } = await pipe({ AWS_ROLE_ARN: hubRole, AWS_CHAIN_ROLE_ARN: WORKLOAD });
    expect(result.status, result.output).toBe(0);
    expect(world.requests.map((r) => r.action)).toEqual([
      "AssumeRoleWithWebIdentity",
      "AssumeRole",
      "GetCallerIdentity",
    ]);
    const [first, chain, verify] = world.requests;
    expect(chain?.params).toMatchObject({
      RoleArn: WORKLOAD,
      RoleSessionName: SESSION,
      DurationSeconds: "3600",
    });
    expect(chain?.params.ExternalId).toBeUndefined();
    // Signed with the hub's key; the verification with the chained key.
    expect(world.sessions.get(chain?.accessKeyId ?? "")?.roleArn).toBe(hubRole);
    const chained = world.sessions.get(verify?.accessKeyId ?? "");
    expect(chained?.roleArn).toBe(WORKLOAD);
    expect(first?.params.RoleArn).toBe(hubRole);
    // The hub's session is shown once, when assumed; the chained one once, on the ✔ line.
    expect(result.stdout).toMatch(/^INFO: Verified with sts:GetCallerIdentity: .*account 222222222222/m);
    expect(result.stdout.split(assumed("111111111111", "hub"))).toHaveLength(2);
    expect(result.stdout.split(assumed("222222222222", "workload"))).toHaveLength(2);
    expect(result.stdout).toMatch(
      new RegExp(
        `^✔ AWS credentials for ${assumed("222222222222", "workload").replaceAll(".", "\\.")} are ready`,
        "m",
      ),
    );

    const env = read("env");
    expect(env).toContain(`export AWS_ACCESS_KEY_ID='${chained?.accessKeyId}'`);
    expect(env).toContain(`export AWS_SECRET_ACCESS_KEY='${chained?.secretAccessKey}'`);
    expect(env).toContain(`export AWS_ROLE_ARN='${hubRole}'`);
    expect(exists(path.join(outDir(), "aws-config"))).toBe(false);
    expect(JSON.parse(read("outputs.json"))).toMatchObject({
      accountId: "222222222222",
      roleArn: WORKLOAD,
      assumedRoleArn: assumed("222222222222", "workload"),
      expiration: chained?.expiration.toISOString(),
      chainedFrom: { roleArn: hubRole, assumedRoleArn: assumed("111111111111", "hub") },
    });
  });

  it("sends AWS_CHAIN_EXTERNAL_ID", async () => {
    const { result } = await pipe({
      AWS_ROLE_ARN: hubRole,
      AWS_CHAIN_ROLE_ARN: WORKLOAD_EXT,
      AWS_CHAIN_EXTERNAL_ID: EXTERNAL_ID,
    });
    expect(result.status, result.output).toBe(0);
    expect(world.requests.find((r) => r.action === "AssumeRole")?.params.ExternalId).toBe(EXTERNAL_ID);
    expect(result.stdout).toMatch(/^INFO: Verified with sts:GetCallerIdentity: .*account 222222222222/m);
    expect(result.stdout).toMatch(/^✔ AWS credentials for .*assumed-role\/workload-ext\//m);
  });

  it("a refused chain is exit 3 with the trust statement the chained role needs, and no files", async () => {
    const earlier = await pipe({ AWS_ROLE_ARN: hubRole, AWS_CHAIN_ROLE_ARN: WORKLOAD });
    expect(earlier.result.status, earlier.result.output).toBe(0);
    const { result } = await pipe({ AWS_ROLE_ARN: hubRole, AWS_CHAIN_ROLE_ARN: WORKLOAD_EXT });
    expect(result.status, result.output).toBe(3);
    expect(result.stdout).toContain(`AWS refused sts:AssumeRole into AWS_CHAIN_ROLE_ARN ${WORKLOAD_EXT}`);
    expect(result.stdout).toContain(`"AWS": "${hubRole}"`);
    expect(result.stdout).toContain(`"Action": "sts:AssumeRole"`);
    expect(result.stdout).toContain("requires sts:ExternalId: set AWS_CHAIN_EXTERNAL_ID");
    expect(result.stdout.trimEnd().split("\n").at(-1)).toMatch(
      new RegExp(`^✖ .*Let ${WORKLOAD_EXT} trust ${hubRole} for sts:AssumeRole`),
    );
    for (const file of CREDENTIAL_FILES) expect(exists(path.join(outDir(), file)), file).toBe(false);
    expect(world.requests.map((r) => r.action).slice(-1)).toEqual(["AssumeRole"]);
  });

  it("caps the chain's duration at 3600 with a warning, not a failure; profiles keep theirs", async () => {
    const { result } = await pipe({
      AWS_ROLE_ARN: hubRole,
      AWS_CHAIN_ROLE_ARN: WORKLOAD,
      AWS_ROLE_DURATION_SECONDS: "7200",
      // The hub role allows 12 hours: as a profile it is assumed directly, for the full duration.
      AWS_PROFILES: `direct=${hubRole}`,
    });
    expect(result.status, result.output).toBe(0);
    expect(result.stdout).toMatch(/^WARNING: AWS_ROLE_DURATION_SECONDS is 7200, .*3600 s/m);
    const durations = world.requests
      .filter((r) => r.action.startsWith("AssumeRole"))
      .map((r) => `${r.action} ${r.params.DurationSeconds}`)
      .sort();
    expect(durations).toEqual([
      "AssumeRole 3600",
      "AssumeRoleWithWebIdentity 3600",
      "AssumeRoleWithWebIdentity 7200",
    ]);
  });

  it("web-identity: the default profile chains through [profile bitbucket-oidc] in every CLI and SDK", async (ctx) => {
    const { result } = await pipe({
      AWS_ROLE_ARN: hubRole,
      AWS_CHAIN_ROLE_ARN: WORKLOAD_EXT,
      AWS_CHAIN_EXTERNAL_ID: EXTERNAL_ID,
      AWS_PROFILES: `prod=${prodRole}`,
      CREDENTIALS_MODE: "web-identity",
    });
    expect(result.status, result.output).toBe(0);
    expect(read("aws-config")).toMatch(
      new RegExp(
        `^\\[default\\]\nrole_arn = ${WORKLOAD_EXT}\nsource_profile = bitbucket-oidc\nexternal_id = ${EXTERNAL_ID}\n`,
      ),
    );
    world.clearRequests();
    expect(await whoAmI(ctx)).toEqual({
      cliFlag: assumed("222222222222", "deploy"),
      cliEnv: assumed("222222222222", "deploy"),
      sdkEnv: assumed("222222222222", "deploy"),
      cliDefault: assumed("222222222222", "workload-ext"),
      sdkDefault: assumed("222222222222", "workload-ext"),
    });
    const chains = world.requests.filter((r) => r.action === "AssumeRole");
    expect(chains.map((r) => [r.params.RoleArn, r.params.ExternalId])).toEqual([
      [WORKLOAD_EXT, EXTERNAL_ID],
      [WORKLOAD_EXT, EXTERNAL_ID],
    ]);
  });

  it("static with profiles: [default] in aws-credentials is the chained role", async (ctx) => {
    const { result } = await pipe({
      AWS_ROLE_ARN: hubRole,
      AWS_CHAIN_ROLE_ARN: WORKLOAD,
      AWS_PROFILES: `prod=${prodRole}`,
    });
    expect(result.status, result.output).toBe(0);
    expect(read("aws-config")).not.toContain("bitbucket-oidc");
    requireTool(ctx, "aws", "pip install awscli");
    expect(await arnFrom("aws sts get-caller-identity --query Arn --output text")).toBe(
      assumed("222222222222", "workload"),
    );
    expect(await arnFrom(`AWS_PROFILE=prod node '${SDK}'`)).toBe(assumed("222222222222", "deploy"));
  });
});

describe("session policies", () => {
  it("limit every credential handed out (profiles and the chained role), not the chain's first hop", async () => {
    const policy = "arn:aws:iam::aws:policy/ReadOnlyAccess";
    const { result } = await pipe({
      AWS_ROLE_ARN: hubRole,
      AWS_CHAIN_ROLE_ARN: WORKLOAD,
      AWS_PROFILES: `prod=${prodRole}`,
      AWS_SESSION_POLICY_ARNS: policy,
    });
    expect(result.status, result.output).toBe(0);
    const sent = Object.fromEntries(
      world.requests
        .filter((r) => r.action.startsWith("AssumeRole"))
        .map((r) => [r.params.RoleArn, r.params["PolicyArns.member.1.arn"]]),
    );
    expect(sent).toEqual({ [hubRole]: undefined, [WORKLOAD]: policy, [prodRole]: policy });
  });

  it("a session policy refused on the chain says it applies to the chained role", async () => {
    world.fault({
      action: "AssumeRole",
      code: "MalformedPolicyDocument",
      message: "Syntax errors in policy.",
    });
    const { result } = await pipe({
      AWS_ROLE_ARN: hubRole,
      AWS_CHAIN_ROLE_ARN: WORKLOAD,
      AWS_SESSION_POLICY:
        '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}}',
    });
    expect(result.status, result.output).toBe(3);
    expect(result.stdout.trimEnd().split("\n").at(-1)).toMatch(
      /^✖ AWS refused sts:AssumeRole into AWS_CHAIN_ROLE_ARN .*MalformedPolicyDocument.*session policies apply to the chained role/,
    );
  });
});

describe("secrets", () => {
  it("never prints the token or any role's credentials, even with DEBUG=true", async () => {
    const runs = [
      await pipe({ DEBUG: "true", AWS_PROFILES: PROFILES() }),
      await pipe({
        DEBUG: "true",
        AWS_ROLE_ARN: hubRole,
        AWS_CHAIN_ROLE_ARN: WORKLOAD_EXT,
        AWS_CHAIN_EXTERNAL_ID: EXTERNAL_ID,
        AWS_PROFILES: PROFILES(),
      }),
      await pipe({ DEBUG: "true", AWS_PROFILES: PROFILES(), CREDENTIALS_MODE: "web-identity" }),
      await pipe({
        DEBUG: "true",
        AWS_ROLE_ARN: hubRole,
        AWS_CHAIN_ROLE_ARN: WORKLOAD_EXT,
        AWS_PROFILES: PROFILES(),
      }),
    ];
    expect(runs.map((r) => r.result.status)).toEqual([0, 0, 0, 3]);
    const issued = [...world.sessions.values()].flatMap((s) => [
      s.accessKeyId,
      s.secretAccessKey,
      s.sessionToken,
    ]);
    for (const { token, result } of runs) {
      expect(result.output).toMatch(/DEBUG: /);
      for (const piece of secretPieces(token, issued)) expect(result.output).not.toContain(piece);
    }
  });
});
