import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { AwsContext } from "../../src/aws/clients.ts";
import { createClock } from "../../src/aws/clock.ts";
import { assumeFromTokenFile } from "../../src/aws/providers.ts";
import { assumeWithWebIdentityInput } from "../../src/aws/sts.ts";
import { createTransport } from "../../src/aws/transport.ts";
import { parseConfig } from "../../src/config/parse.ts";
import { isPipeError, type PipeError } from "../../src/errors.ts";
import { createLog } from "../../src/log.ts";
import { createStaging, type Staging } from "../../src/outputs/files.ts";
import { proveProfiles } from "../../src/proofs.ts";
import type { RoleSession } from "../../src/session.ts";
import { bitbucketEnv, runStep, TEST_REPOSITORY } from "../support/pipe.ts";
import { useStepWorld } from "../support/stepWorld.ts";
import type { World } from "../world/index.ts";

/**
 * The proofs of what is exported: the assume goes through the SDK's fromTokenFile on the staged
 * token file, and with VERIFY each named profile is verified with the credentials the SDK's
 * fromIni resolves from the staged aws-config/aws-credentials; no round trip is added.
 */
let world: World;
let roleArn: string;
let clone: { dir: string; remove: () => Promise<void> };
let devRole: string;
useStepWorld(
  (s) => ({ world, roleArn, clone } = s),
  (w) => {
    devRole = w.allowRepository(TEST_REPOSITORY, { roleName: "dev-deploy" });
  },
);

const calls = () => world.requests.map((r) => `${r.action}:${r.status}`);

describe("round trips stay 1 / 2 with the proofs", () => {
  it.each(["static", "web-identity"])(
    "%s mode with a profile: the assumes at once, then every verification at once",
    async (mode) => {
      const { result } = await runStep(world, clone.dir, {
        AWS_ROLE_ARN: roleArn,
        AWS_PROFILES: `dev=${devRole}`,
        CREDENTIALS_MODE: mode,
      });
      expect(result.status, result.output).toBe(0);
      expect(calls()).toEqual([
        "AssumeRoleWithWebIdentity:200",
        "AssumeRoleWithWebIdentity:200",
        "GetCallerIdentity:200",
        "GetCallerIdentity:200",
      ]);
      // Both verifications left before either answered: one round trip, not one per profile.
      const [firstAnswer] = world.requests.slice(2).map((r) => r.at);
      expect(Math.max(...world.requests.slice(2).map((r) => r.at)) - (firstAnswer ?? 0)).toBeLessThan(1000);
      // The profile's verification was signed with the profile's own session.
      const signers = world.requests.slice(2).map((r) => world.sessions.get(r.accessKeyId ?? "")?.roleArn);
      expect(signers.sort()).toEqual([roleArn, devRole].sort());
      expect(result.stdout).toMatch(/Verified the profile dev from the files as the SDK reads them/);
      // Nothing staged is left behind.
      expect(
        readdirSync(path.join(clone.dir, ".aws-oidc")).filter((f) =>
          f.startsWith(".bitbucket-aws-oidc-tmp-"),
        ),
      ).toEqual([]);
    },
  );

  it("VERIFY=false: one round trip, the assume through the staged token file", async () => {
    const { result } = await runStep(world, clone.dir, {
      AWS_ROLE_ARN: roleArn,
      AWS_PROFILES: `dev=${devRole}`,
      VERIFY: "false",
    });
    expect(result.status, result.output).toBe(0);
    expect(calls()).toEqual(["AssumeRoleWithWebIdentity:200", "AssumeRoleWithWebIdentity:200"]);
  });
});

describe("staged files that would fail a later SDK fail the run", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  async function context(): Promise<AwsContext & { done(): void }> {
    const clock = createClock();
    const transport = await createTransport({}, clock, () => {});
    return {
      region: "ap-southeast-2",
      transport,
      clock,
      userAgent: ["bitbucket-aws-oidc", "test"],
      endpoints: { sts: world.endpoint, codeartifact: undefined, ecr: undefined },
      fips: false,
      dualStack: false,
      retry: { maxAttempts: 1, timeScale: 0.01, notAfterMs: Date.now() + 600_000 },
      onRetry: () => {},
      done: () => transport.destroy(),
    };
  }

  it("a token file the SDK cannot read is exit 1, never a trust refusal", async () => {
    const error = await assumeFromTokenFile(
      { tokenFile: path.join(clone.dir, "no-such-token"), roleArn, sessionName: "s1", durationSeconds: 900 },
      () => Promise.reject(new Error("never called")),
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isPipeError(error)).toBe(true);
    expect((error as PipeError).kind).toBe("internal");
    expect((error as PipeError).message).toMatch(/could not use the staged token file/);
  });

  /** A real profile session from the world, and the config and staging a proof needs. */
  async function profileRun(mode: string, rewrite: (name: string, content: string) => string) {
    const dir = mkdtempSync(path.join(tmpdir(), "bb-proof-"));
    dirs.push(dir);
    const token = await world.issuer.token({ repositoryUuid: TEST_REPOSITORY });
    const env = bitbucketEnv({
      cloneDir: dir,
      token,
      endpoint: world.endpoint,
      variables: { AWS_ROLE_ARN: roleArn, AWS_PROFILES: `dev=${devRole}`, CREDENTIALS_MODE: mode },
    });
    const config = parseConfig(env, dir);
    const ctx = await context();
    const assume = async (arn: string) => {
      const answer = await assumeWithWebIdentityInput(ctx, {
        RoleArn: arn,
        RoleSessionName: config.sessionName,
        WebIdentityToken: token,
        DurationSeconds: 900,
      });
      return { roleArn: arn, sessionName: config.sessionName, ...answer };
    };
    const main = await assume(roleArn);
    const session: RoleSession = {
      main,
      chained: undefined,
      profiles: [{ name: "dev", role: await assume(devRole) }],
      defaults: main,
    };
    const real = createStaging(config.outputDir, undefined);
    const staging: Staging = {
      stage: (name, content) => real.stage(name, rewrite(name, content)),
      discard: real.discard,
    };
    const tokenFile = staging.stage("web-identity-token", token);
    const proof = proveProfiles(ctx, config, session, staging, { tokenFile, token }, createLog({ fd: 2 }));
    return proof
      .then(
        () => undefined,
        (e: unknown) => e as PipeError,
      )
      .finally(() => {
        staging.discard();
        ctx.done();
      });
  }

  it.each(["static", "web-identity"])("%s: the files as rendered pass", async (mode) => {
    expect(await profileRun(mode, (_, content) => content)).toBeUndefined();
  });

  it("web-identity: a role_arn in aws-config that is not the profile's role", async () => {
    const error = await profileRun("web-identity", (name, content) =>
      name === "aws-config" ? content.replace(/role\/dev-deploy/g, "role/deploy") : content,
    );
    expect(error?.kind).toBe("internal");
    expect(error?.message).toMatch(/profile dev the role .*role\/deploy, not .*dev-deploy/);
  });

  it("web-identity: a web_identity_token_file the SDK cannot read", async () => {
    const error = await profileRun("web-identity", (name, content) =>
      name === "aws-config"
        ? content.replace(/web_identity_token_file = .*/g, "web_identity_token_file = /nonexistent/token")
        : content,
    );
    expect(error?.kind).toBe("internal");
    expect(error?.message).toMatch(
      /could not use the staged aws-config\/aws-credentials for the profile dev/,
    );
  });

  it("static: keys in aws-credentials that are not the profile's", async () => {
    const error = await profileRun("static", (name, content) =>
      name === "aws-credentials"
        ? content.replace(/\[dev\]/, "[ignored]").replace(/\[default\]/, "[dev]")
        : content,
    );
    expect(error?.kind).toBe("internal");
    expect(error?.message).toMatch(/profile dev another role's keys/);
  });
});
