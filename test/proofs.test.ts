import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { assumeWithWebIdentityInput } from "../src/aws/sts.ts";
import { parseConfig } from "../src/config/parse.ts";
import type { PipeError } from "../src/errors.ts";
import { createStaging, type Staging } from "../src/outputs/files.ts";
import { proveProfiles } from "../src/proofs.ts";
import type { RoleSession } from "../src/session.ts";
import { awsContext } from "./support/awsContext.ts";
import { capturedLog } from "./support/log.ts";
import { bitbucketEnv, TEST_REPOSITORY } from "./support/pipe.ts";
import { useStepWorld } from "./support/stepWorld.ts";
import type { World } from "./world/index.ts";

/**
 * The proof of the named profiles (src/proofs.ts): each profile's credentials as the SDK's fromIni
 * resolves them from the staged aws-config/aws-credentials, verified with GetCallerIdentity; files
 * that would give a later SDK another role, other keys or another token fail the run.
 */

let world: World;
let roleArn: string;
let devRole: string;
useStepWorld(
  (s) => ({ world, roleArn } = s),
  (w) => {
    devRole = w.allowRepository(TEST_REPOSITORY, { roleName: "dev-deploy" });
  },
);

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * A real profile session from the world, the config and a staging folder, then the proof, with
 * each staged file passed through `rewrite` first. Resolves to the error, or undefined.
 */
async function profileRun(
  mode: string,
  rewrite: (name: string, content: string) => string = (_, content) => content,
  variables: Record<string, string> = {},
) {
  const dir = mkdtempSync(path.join(tmpdir(), "bb-proof-"));
  dirs.push(dir);
  const token = await world.issuer.token({ repositoryUuid: TEST_REPOSITORY });
  const env = bitbucketEnv({
    cloneDir: dir,
    token,
    endpoint: world.endpoint,
    variables: {
      AWS_ROLE_ARN: roleArn,
      AWS_PROFILES: `dev=${devRole}`,
      CREDENTIALS_MODE: mode,
      ...variables,
    },
  });
  const config = parseConfig(env, dir);
  const ctx = await awsContext(world.endpoint);
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
  world.clearRequests();
  const real = createStaging(config.outputDir, undefined);
  const staged: string[] = [];
  const staging: Staging = {
    stage: (name, content) => {
      staged.push(name);
      return real.stage(name, rewrite(name, content));
    },
    discard: real.discard,
  };
  const tokenFile = staging.stage("web-identity-token", token);
  const { log, lines } = capturedLog();
  const error = await proveProfiles(ctx, config, session, staging, { tokenFile, token }, log)
    .then(
      () => undefined,
      (e: unknown) => e as PipeError,
    )
    .finally(() => {
      staging.discard();
      ctx.done();
    });
  return { error, lines: lines(), staged, ctx, outputDir: config.outputDir };
}

describe("proveProfiles", () => {
  it.each(["static", "web-identity"])(
    "%s: the files as rendered pass, verified with the profile's own keys",
    async (mode) => {
      const run = await profileRun(mode);
      expect(run.error).toBeUndefined();
      expect(run.lines).toEqual(["INFO: Verified the profile dev from the files as the SDK reads them."]);
      // static: keys from aws-credentials; web-identity: the staged token file, no credentials file.
      expect(run.staged).toEqual(
        mode === "static"
          ? ["web-identity-token", "aws-config", "aws-credentials"]
          : ["web-identity-token", "aws-config"],
      );
      // One GetCallerIdentity, signed with the dev role's session; no second assume.
      expect(world.requests.map((r) => r.action)).toEqual(["GetCallerIdentity"]);
      expect(world.sessions.get(world.requests[0]?.accessKeyId ?? "")?.roleArn).toBe(devRole);
      expect(readdirSync(run.outputDir)).toEqual([]);
    },
  );

  it("web-identity: a role_arn in aws-config that is not the profile's role", async () => {
    const { error } = await profileRun("web-identity", (name, content) =>
      name === "aws-config" ? content.replace(/role\/dev-deploy/g, "role/deploy") : content,
    );
    expect(error?.kind).toBe("internal");
    expect(error?.message).toMatch(/profile dev the role .*role\/deploy, not .*dev-deploy/);
  });

  it("web-identity: another session name, or a token file holding another token", async () => {
    const renamed = await profileRun("web-identity", (name, content) =>
      name === "aws-config"
        ? content.replace(/role_session_name = .*/g, "role_session_name = other")
        : content,
    );
    expect(renamed.error?.message).toMatch(/profile dev another session name/);
    const otherToken = await world.issuer.token({ repositoryUuid: TEST_REPOSITORY });
    const swapped = await profileRun("web-identity", (name, content) =>
      name === "web-identity-token" ? otherToken : content,
    );
    expect(swapped.error?.message).toMatch(/a token file that does not hold the step's token/);
  });

  it("web-identity: a web_identity_token_file the SDK cannot read", async () => {
    const { error } = await profileRun("web-identity", (name, content) =>
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
    const { error } = await profileRun("static", (name, content) =>
      name === "aws-credentials"
        ? content.replace(/\[dev\]/, "[ignored]").replace(/\[default\]/, "[dev]")
        : content,
    );
    expect(error?.kind).toBe("internal");
    expect(error?.message).toMatch(/profile dev another role's keys/);
  });

  it("a profile's credentials refused by GetCallerIdentity: a refusal naming the profile", async () => {
    world.fault({ action: "GetCallerIdentity", code: "AccessDenied", status: 403 });
    const { error } = await profileRun("static");
    expect(error?.kind).toBe("refused");
    expect(error?.message).toMatch(
      /^AWS refused sts:GetCallerIdentity with the credentials of the profile dev/,
    );
    expect(error?.fix).toMatch(/explicit Deny .* or set VERIFY: false/);
  });

  it("an identity outside AWS_ALLOWED_ACCOUNT_IDS is refused, naming the profile", async () => {
    // The role's account is allowed before any request (the pipe checks that first); the answer is not.
    const { error } = await profileRun("static", undefined, { AWS_ALLOWED_ACCOUNT_IDS: "999999999999" });
    expect(error?.kind).toBe("refused");
    expect(error?.message).toMatch(
      /^The profile dev's credentials verify as .*which AWS_ALLOWED_ACCOUNT_IDS does not allow/,
    );
  });
});
