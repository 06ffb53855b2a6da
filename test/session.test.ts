import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../src/config/parse.ts";
import type { PipeError } from "../src/errors.ts";
import { REDACTED } from "../src/log.ts";
import { assumeRoles, CHAINED_MAX_SECONDS } from "../src/session.ts";
import { readStepToken } from "../src/token.ts";
import { awsContext } from "./support/awsContext.ts";
import { capturedLog } from "./support/log.ts";
import { bitbucketEnv, TEST_REPOSITORY } from "./support/pipe.ts";
import { useStepWorld } from "./support/stepWorld.ts";
import type { World } from "./world/index.ts";

/**
 * The assume stage (src/session.ts) against the local AWS world: the main role through the SDK's
 * fromTokenFile, the profiles at the same time, then the chain; refusals diagnosed and named by
 * role, every refusal listed; every key unprintable from the moment it arrives.
 */

const CHAIN = "arn:aws:iam::222222222222:role/workload";
let world: World;
let roleArn: string;
let devRole: string;
const LONG = "arn:aws:iam::111111111111:role/long";
useStepWorld(
  (s) => ({ world, roleArn } = s),
  (w) => {
    devRole = w.allowRepository(TEST_REPOSITORY, { roleName: "dev-deploy" });
    // A placeholder statement: allowRepository adds the repository's beside it and keeps the maximum.
    w.addRole({
      arn: LONG,
      trustPolicy: {
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
        ],
      },
      maxSessionDuration: 43200,
    });
    w.allowRepository(TEST_REPOSITORY, { roleName: "long" });
    w.addRole({
      arn: CHAIN,
      trustPolicy: {
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { AWS: "arn:aws:iam::111111111111:role/deploy" },
            Action: "sts:AssumeRole",
            Condition: { StringEquals: { "sts:ExternalId": "ext-1" } },
          },
        ],
      },
    });
  },
);

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** assumeRoles for these variables, the step's token staged in a file; the session or the error, and the log. */
async function assume(variables: Record<string, string>) {
  const dir = mkdtempSync(path.join(tmpdir(), "bb-session-"));
  dirs.push(dir);
  const token = await world.issuer.token({ repositoryUuid: TEST_REPOSITORY });
  const env = bitbucketEnv({ cloneDir: dir, token, endpoint: world.endpoint, variables });
  const config = parseConfig(env, dir);
  const tokenFile = path.join(dir, "token");
  writeFileSync(tokenFile, token);
  const ctx = await awsContext(world.endpoint, { maxAttempts: 2 });
  const { log, lines } = capturedLog();
  try {
    const session = await assumeRoles(ctx, config, readStepToken(env, Date.now()), log, tokenFile);
    return { session, log, lines, retries: ctx.retries };
  } catch (error) {
    return { error: error as PipeError, log, lines, retries: ctx.retries };
  } finally {
    ctx.done();
  }
}

const calls = () => world.requests.map((r) => `${r.action}:${r.params.RoleArn}:${r.status}`);

describe("assumeRoles", () => {
  it("the main role with the step's token: the default credentials, said in two lines", async () => {
    const { session, lines } = await assume({ AWS_ROLE_ARN: roleArn });
    expect(session?.main).toMatchObject({ roleArn, sessionName: "bitbucket-web-app-42" });
    expect(session?.main.assumedRoleArn).toBe(
      "arn:aws:sts::111111111111:assumed-role/deploy/bitbucket-web-app-42",
    );
    expect(session?.defaults).toBe(session?.main);
    expect(session?.chained).toBeUndefined();
    expect(session?.profiles).toEqual([]);
    expect(calls()).toEqual([`AssumeRoleWithWebIdentity:${roleArn}:200`]);
    expect(world.requests[0]?.params.DurationSeconds).toBe("3600");
    expect(lines()).toEqual([
      `INFO: Assuming ${roleArn} with the step's OIDC token (session bitbucket-web-app-42, 3600 s, ap-southeast-2).`,
      "INFO: Assumed: the role's trust policy admits this step.",
    ]);
  });

  it("every key is unprintable from the moment it arrives", async () => {
    const { session, log, lines } = await assume({ AWS_ROLE_ARN: roleArn });
    const { accessKeyId, secretAccessKey, sessionToken } = session?.main.credentials ?? {};
    log.info(`${accessKeyId} ${secretAccessKey} ${sessionToken}`);
    expect(lines().at(-1)).toBe(`INFO: ${REDACTED} ${REDACTED} ${REDACTED}`);
  });

  it("profiles at the same time as the main role, each with the step's token, in the order given", async () => {
    const { session, lines } = await assume({ AWS_ROLE_ARN: roleArn, AWS_PROFILES: `dev=${devRole}` });
    expect(session?.profiles.map((p) => [p.name, p.role.roleArn])).toEqual([["dev", devRole]]);
    expect(calls().sort()).toEqual(
      [`AssumeRoleWithWebIdentity:${roleArn}:200`, `AssumeRoleWithWebIdentity:${devRole}:200`].sort(),
    );
    const [first, second] = world.requests.map((r) => r.at);
    expect(Math.abs((second ?? 0) - (first ?? 0))).toBeLessThan(1000);
    expect(lines()).toContain(`INFO: At the same time, for AWS_PROFILES: dev (${devRole}).`);
    expect(lines().at(-1)).toBe(
      "INFO: Profile dev: assumed arn:aws:sts::111111111111:assumed-role/dev-deploy/bitbucket-web-app-42.",
    );
  });

  it("the chain: sts:AssumeRole with the first role's keys and the external id; its session is the default", async () => {
    const { session, lines } = await assume({
      AWS_ROLE_ARN: roleArn,
      AWS_CHAIN_ROLE_ARN: CHAIN,
      AWS_CHAIN_EXTERNAL_ID: "ext-1",
    });
    expect(session?.chained?.assumedRoleArn).toBe(
      "arn:aws:sts::222222222222:assumed-role/workload/bitbucket-web-app-42",
    );
    expect(session?.defaults).toBe(session?.chained);
    const chainCall = world.requests.find((r) => r.action === "AssumeRole");
    expect(chainCall?.params).toMatchObject({ RoleArn: CHAIN, ExternalId: "ext-1", DurationSeconds: "3600" });
    expect(world.sessions.get(chainCall?.accessKeyId ?? "")?.roleArn).toBe(roleArn);
    expect(lines()).toContain(
      `INFO: Chaining into ${CHAIN} with sts:AssumeRole (session bitbucket-web-app-42, 3600 s, with the external id).`,
    );
    expect(lines().at(-1)).toBe("INFO: Chained: the chained role trusts the first one.");
  });

  it("a chain caps both hops at an hour, with a warning; profiles keep their full duration", async () => {
    const { session, lines } = await assume({
      AWS_ROLE_ARN: roleArn,
      AWS_ROLE_DURATION_SECONDS: "7200",
      AWS_CHAIN_ROLE_ARN: CHAIN,
      AWS_CHAIN_EXTERNAL_ID: "ext-1",
      AWS_PROFILES: `long=${LONG}`,
    });
    expect(session).toBeDefined();
    expect(lines()[0]).toBe(
      `WARNING: AWS_ROLE_DURATION_SECONDS is 7200, but AWS limits a chained session (AWS_CHAIN_ROLE_ARN) to ${CHAINED_MAX_SECONDS} s: requesting ${CHAINED_MAX_SECONDS} s.`,
    );
    const durations = Object.fromEntries(
      world.requests.map((r) => [r.params.RoleArn, r.params.DurationSeconds]),
    );
    expect(durations).toEqual({ [roleArn]: "3600", [CHAIN]: "3600", [LONG]: "7200" });
  });

  it("a refused main role: the trust diagnosis, naming the role", async () => {
    world.fault({ action: "AssumeRoleWithWebIdentity", code: "AccessDenied", message: "Not authorized" });
    const { error } = await assume({ AWS_ROLE_ARN: roleArn });
    expect(error?.kind).toBe("refused");
    expect(error?.message).toMatch(
      new RegExp(`^AWS refused sts:AssumeRoleWithWebIdentity for the role ${roleArn}`),
    );
    expect(error?.details).toContain("A trust policy that admits this step has:");
  });

  it("every refused role is listed, the first in the order given leading", async () => {
    world.fault({ action: "AssumeRoleWithWebIdentity", code: "AccessDenied", times: 2 });
    const { error } = await assume({ AWS_ROLE_ARN: roleArn, AWS_PROFILES: `dev=${devRole}` });
    expect(error?.message).toMatch(/for the role .*role\/deploy:/);
    expect(error?.details).toContain("Also failed:");
    expect(error?.details.at(-1)).toMatch(
      /^ {2}- AWS refused sts:AssumeRoleWithWebIdentity for profile dev's role/,
    );
  });

  it("a transient give-up names the profile, in the retries and the failure", async () => {
    world.fault({
      action: "AssumeRoleWithWebIdentity",
      status: 503,
      times: Infinity,
      when: (p) => p.RoleArn === devRole,
    });
    const { error, retries } = await assume({ AWS_ROLE_ARN: roleArn, AWS_PROFILES: `dev=${devRole}` });
    expect(error?.kind).toBe("transient");
    expect(error?.message).toMatch(new RegExp(`^For profile dev's role ${devRole}: `));
    expect(retries.every((r) => r.startsWith("Profile dev: "))).toBe(true);
    expect(retries.length).toBeGreaterThan(0);
  });

  it("a refused chain: the statement the chained role needs", async () => {
    const { error } = await assume({ AWS_ROLE_ARN: roleArn, AWS_CHAIN_ROLE_ARN: CHAIN });
    expect(error?.kind).toBe("refused");
    expect(error?.message).toMatch(
      new RegExp(`^AWS refused sts:AssumeRole into AWS_CHAIN_ROLE_ARN ${CHAIN}`),
    );
    expect(error?.details.join("\n")).toContain(`"AWS": "${roleArn}"`);
  });
});
