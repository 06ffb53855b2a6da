import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { lastLine } from "../support/output.ts";
import { runStep, secretPieces, TEST_REPOSITORY } from "../support/pipe.ts";
import { useStepWorld } from "../support/stepWorld.ts";
import type { World } from "../world/index.ts";

let world: World;
let roleArn: string;
let clone: { dir: string; remove: () => Promise<void> };

useStepWorld((s) => ({ world, roleArn, clone } = s));

/** BITBUCKET_AWS_OIDC_TEST_TIME_SCALE shortens every delay, timeout and deadline of the real policy (a test knob: src/config/variables.ts). */
const FAST = { BITBUCKET_AWS_OIDC_TEST_TIME_SCALE: "0.01" };
const pipe = (variables: Record<string, string | undefined> = {}, tokenOptions = {}) =>
  runStep(world, clone.dir, { AWS_ROLE_ARN: roleArn, ...FAST, ...variables }, tokenOptions);
const actions = () => world.requests.map((r) => `${r.action}:${r.status}`);
const noFiles = () =>
  ["env", "docker.env", "web-identity-token"].every((f) => !existsSync(path.join(clone.dir, ".aws-oidc", f)));

describe("transient faults are retried, then given up on with exit 4", () => {
  const recoverable: Array<[string, Parameters<World["fault"]>[0]]> = [
    ["a 503", { action: "AssumeRoleWithWebIdentity", status: 503, code: "ServiceUnavailable", times: 2 }],
    ["a 500", { action: "AssumeRoleWithWebIdentity", status: 500, code: "InternalFailure", times: 2 }],
    [
      "IDPCommunicationError",
      { action: "AssumeRoleWithWebIdentity", code: "IDPCommunicationError", times: 2 },
    ],
    ["a dropped connection", { action: "AssumeRoleWithWebIdentity", drop: true, times: 2 }],
    ["a broken answer", { action: "AssumeRoleWithWebIdentity", malformed: true, times: 2 }],
    [
      "an answer slower than the attempt's timeout",
      { action: "AssumeRoleWithWebIdentity", delayMs: 2000, times: 1 },
    ],
  ];
  for (const [name, fault] of recoverable) {
    it(`recovers from ${name}`, async () => {
      world.fault(fault);
      const { result } = await pipe();
      expect(result.status, result.output).toBe(0);
      const assumes = world.requests.filter((r) => r.action === "AssumeRoleWithWebIdentity");
      expect(assumes.length).toBe((fault.times ?? 1) + 1);
      expect(result.stdout).toMatch(/^WARNING: sts:AssumeRoleWithWebIdentity: .*; attempt 2 in /m);
    });
  }

  it("gives up after AWS_MAX_ATTEMPTS and says what it tried", async () => {
    world.fault({
      action: "AssumeRoleWithWebIdentity",
      status: 503,
      code: "ServiceUnavailable",
      times: Number.POSITIVE_INFINITY,
    });
    const { result } = await pipe({ AWS_MAX_ATTEMPTS: "3" });
    expect(result.status, result.output).toBe(4);
    expect(actions()).toEqual(Array(3).fill("AssumeRoleWithWebIdentity:503"));
    expect(lastLine(result.stdout)).toMatch(
      /^✖ sts:AssumeRoleWithWebIdentity failed after 3 attempts .*AWS_MAX_ATTEMPTS is 3.*ServiceUnavailable.*re-run the step/,
    );
    expect(noFiles()).toBe(true);
  });

  it("retries throttling until its deadline, not AWS_MAX_ATTEMPTS", async () => {
    world.fault({
      action: "AssumeRoleWithWebIdentity",
      code: "Throttling",
      message: "Rate exceeded",
      times: 4,
    });
    const { result } = await pipe({ AWS_MAX_ATTEMPTS: "2" });
    expect(result.status, result.output).toBe(0);
    expect(actions().filter((a) => a.startsWith("AssumeRole"))).toHaveLength(5);
  });

  it("gives up on endless throttling at the deadline (exit 4)", async () => {
    world.fault({ action: "AssumeRoleWithWebIdentity", code: "Throttling", times: Number.POSITIVE_INFINITY });
    const started = Date.now();
    const { result } = await pipe({ BITBUCKET_AWS_OIDC_TEST_TIME_SCALE: "0.02" });
    expect(result.status, result.output).toBe(4);
    expect(lastLine(result.stdout)).toMatch(/throttled until the deadline/);
    // 90 s scaled by 0.02: the run stops near 1.8 s, not after a fixed count.
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it("never retries past the token's expiry", async () => {
    world.fault({ action: "AssumeRoleWithWebIdentity", code: "Throttling", times: Number.POSITIVE_INFINITY });
    const { result } = await pipe({ BITBUCKET_AWS_OIDC_TEST_TIME_SCALE: "1" }, { expiresInSeconds: 3 });
    expect(result.status, result.output).toBe(4);
    expect(lastLine(result.stdout)).toMatch(/the step's OIDC token would expire first/);
  });

  it("never retries a refusal", async () => {
    const { result } = await pipe({}, { repositoryUuid: "{dddddddd-0000-4000-8000-000000000009}" });
    expect(result.status).toBe(3);
    expect(actions()).toEqual(["AssumeRoleWithWebIdentity:403"]);
    expect(result.stdout).not.toMatch(/WARNING/);
  });

  it("retries a brand-new key that STS does not know yet, only briefly", async () => {
    world.failVerificationOnce(2);
    const { result } = await pipe();
    expect(result.status, result.output).toBe(0);
    expect(actions()).toEqual([
      "AssumeRoleWithWebIdentity:200",
      "GetCallerIdentity:403",
      "GetCallerIdentity:403",
      "GetCallerIdentity:200",
    ]);
    world.failVerificationOnce(10);
    const refused = await pipe();
    expect(refused.result.status).toBe(3);
    expect(lastLine(refused.result.stdout)).toMatch(
      /^✖ AWS refused sts:GetCallerIdentity .*InvalidClientTokenId/,
    );
  });
});

describe("refusals are explained", () => {
  it("names a missing identity provider and the audience", async () => {
    const other = await world.addIssuer({
      workspace: "other-ws",
      workspaceUuid: "{99999999-2222-4333-8444-555555555555}",
    });
    const token = await other.token({ repositoryUuid: TEST_REPOSITORY });
    const { result } = await pipe({ BITBUCKET_STEP_OIDC_TOKEN: token });
    expect(result.status, result.output).toBe(3);
    expect(result.stdout).toMatch(/InvalidIdentityToken/);
    expect(result.stdout).toMatch(
      /no IAM OIDC identity provider for https:\/\/api\.bitbucket\.org\/2\.0\/workspaces\/other-ws\/pipelines-config\/identity\/oidc/,
    );
    expect(result.stdout).toMatch(
      /aud: ari:cloud:bitbucket::workspace\/99999999-2222-4333-8444-555555555555/,
    );
  });

  it("shows the environment in the condition on a deployment step", async () => {
    const env = "{eeeeeeee-0000-4000-8000-000000000005}";
    const { result } = await pipe(
      {},
      { repositoryUuid: "{dddddddd-0000-4000-8000-000000000009}", deploymentEnvironmentUuid: env },
    );
    expect(result.status).toBe(3);
    expect(result.stdout).toContain(`"{dddddddd-0000-4000-8000-000000000009}:${env}:*"`);
    expect(result.stdout).toContain(`deploymentEnvironmentUuid: ${env}`);
  });

  it("explains an expired token locally, with no request (exit 2)", async () => {
    const { result } = await pipe({}, { expiresInSeconds: -30 });
    expect(result.status).toBe(2);
    expect(lastLine(result.stdout)).toMatch(
      /^✖ BITBUCKET_STEP_OIDC_TOKEN expired at .* Run the pipe earlier/,
    );
    expect(world.requests).toHaveLength(0);
  });
});

describe("proxies", () => {
  it("refuses plain http to anything but loopback, before any request", async () => {
    const { result } = await pipe({ AWS_ENDPOINT_URL_STS: "http://sts.internal.example:8080" });
    expect(result.status).toBe(2);
    expect(lastLine(result.stdout)).toMatch(
      /^✖ AWS_ENDPOINT_URL_STS uses plain http:\/\/ to sts\.internal\.example/,
    );
    expect(world.requests).toHaveLength(0);
  });
});

describe("hygiene", () => {
  it("warns when artifacts: would upload the credentials", async () => {
    writeFileSync(
      path.join(clone.dir, "bitbucket-pipelines.yml"),
      "pipelines:\n  default:\n    - step:\n        oidc: true\n        artifacts:\n          - dist/**\n          - '**'\n",
    );
    const { result } = await pipe();
    expect(result.status, result.output).toBe(0);
    expect(result.stdout).toMatch(
      /^WARNING: bitbucket-pipelines.yml has artifacts: '\*\*', which matches \.aws-oidc\//m,
    );
    expect(result.stdout).not.toMatch(/artifacts: 'dist/);
  });
});

describe("load: 50 steps at once against an STS that throttles above 10 requests a second", () => {
  it("all succeed within 60 s with the real backoff, none exits 4", async () => {
    world.setThrottle(10);
    const started = Date.now();
    const runs = await Promise.all(
      Array.from({ length: 50 }, () =>
        runStep(world, clone.dir, {
          AWS_ROLE_ARN: roleArn,
          OUTPUT_DIR: `out/${Math.random().toString(36).slice(2)}`,
        }),
      ),
    );
    const elapsed = Date.now() - started;
    const statuses = runs.map((r) => r.result.status);
    expect(
      statuses.filter((s) => s !== 0),
      runs.find((r) => r.result.status !== 0)?.result.output,
    ).toEqual([]);
    expect(elapsed).toBeLessThan(60_000);
    const throttled = world.requests.filter((r) => r.errorCode === "Throttling").length;
    // The throttle really bit: without retries most of these runs would have failed.
    expect(throttled).toBeGreaterThan(10);
    console.log(
      `load: 50 runs in ${(elapsed / 1000).toFixed(1)} s, ${world.requests.length} STS requests, ${throttled} throttled`,
    );
  }, 90_000);
});

describe("secrets under faults", () => {
  it("prints no secret on any failure path with DEBUG=true", async () => {
    world.fault({ action: "GetCallerIdentity", status: 503, times: Number.POSITIVE_INFINITY });
    const exhausted = await pipe({ DEBUG: "true", AWS_MAX_ATTEMPTS: "2" });
    expect(exhausted.result.status).toBe(4);
    world.clearFaults();
    world.failVerificationOnce(10);
    const refused = await pipe({ DEBUG: "true" });
    expect(refused.result.status).toBe(3);
    const issued = [...world.sessions.values()].flatMap((s) => [
      s.accessKeyId,
      s.secretAccessKey,
      s.sessionToken,
    ]);
    for (const { token, result } of [exhausted, refused]) {
      expect(result.output).toMatch(/DEBUG: /);
      for (const piece of secretPieces(token, issued)) expect(result.output).not.toContain(piece);
    }
  });
});
