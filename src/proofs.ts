import path from "node:path";
import type { AwsContext } from "./aws/clients.js";
import { credentialsFromIni } from "./aws/providers.js";
import { getCallerIdentity } from "./aws/sts.js";
import type { Config } from "./config/parse.js";
import { accountOf } from "./config/roles.js";
import { callRefusal } from "./diagnose.js";
import { internalError, isPipeError, refusedError } from "./errors.js";
import type { Log } from "./log.js";
import type { Staging } from "./outputs/files.js";
import { TEMP_PREFIX } from "./outputs/folder.js";
import { CONFIG_FILE, CREDENTIALS_FILE, renderAwsConfig, renderAwsCredentials } from "./outputs/profiles.js";
import type { NamedRole, RoleSession } from "./session.js";

/**
 * The proof of the named profiles (VERIFY with AWS_PROFILES): each profile's credentials as the
 * SDK's fromIni resolves them from the staged aws-config/aws-credentials, then sts:GetCallerIdentity
 * with them, all profiles at once (no round trip added: it runs beside the default verification).
 * A profile whose files lead elsewhere than the role the pipe assumed fails the run: that is what
 * every later `--profile NAME` would get. In web-identity mode the resolution reads the staged
 * token file and reuses the session the pipe holds (same role, session name and token): no second
 * assume.
 */
const mismatch = (name: string, what: string) =>
  internalError(`The staged aws-config/aws-credentials give the profile ${name} ${what}.`, {
    fix: "This is a bug in the pipe: please report it with the output of a run with DEBUG: true.",
  });

async function proveProfile(
  ctx: AwsContext,
  config: Config,
  files: { configFile: string; credentialsFile: string },
  token: string,
  { name, role }: NamedRole,
): Promise<void> {
  const credentials = await credentialsFromIni({ profile: name, ...files }, async (input) => {
    if (input.RoleArn !== role.roleArn)
      throw mismatch(name, `the role ${input.RoleArn}, not ${role.roleArn}`);
    if (input.RoleSessionName !== role.sessionName) throw mismatch(name, "another session name");
    if (input.WebIdentityToken !== token)
      throw mismatch(name, "a token file that does not hold the step's token");
    return role.credentials;
  });
  if (credentials.accessKeyId !== role.credentials.accessKeyId) throw mismatch(name, "another role's keys");
  let identity: Awaited<ReturnType<typeof getCallerIdentity>>;
  try {
    identity = await getCallerIdentity(
      { ...ctx, onRetry: (message) => ctx.onRetry(`Profile ${name}: ${message}`) },
      credentials,
    );
  } catch (error) {
    if (isPipeError(error)) throw error;
    throw callRefusal(
      "sts:GetCallerIdentity",
      error,
      `with the credentials of the profile ${name} (${role.assumedRoleArn})`,
      "The role was assumed but its credentials were refused: check for an explicit Deny (SCP or permission boundary) on sts:GetCallerIdentity, or set VERIFY: false.",
    );
  }
  const expected = accountOf(role.assumedRoleArn);
  const allowed = config.allowedAccountIds;
  if (identity.account !== expected || (allowed.length > 0 && !allowed.includes(identity.account))) {
    throw refusedError(
      `The profile ${name}'s credentials verify as ${identity.arn}, in account ${identity.account}${allowed.length > 0 ? ", which AWS_ALLOWED_ACCOUNT_IDS does not allow" : `, not ${expected}`}.`,
      {
        fix: "Check AWS_PROFILES, AWS_ALLOWED_ACCOUNT_IDS and AWS_ENDPOINT_URL*; no credentials were written.",
      },
    );
  }
}

export async function proveProfiles(
  ctx: AwsContext,
  config: Config,
  session: RoleSession,
  staging: Staging,
  staged: { tokenFile: string; token: string },
  log: Log,
): Promise<void> {
  const run = {
    mode: config.mode,
    region: config.region,
    tokenFilePath: staged.tokenFile,
    main: session.main,
    chained: session.chained,
    chainExternalId: config.chainExternalId,
    profiles: session.profiles,
  };
  const files = {
    configFile: staging.stage(CONFIG_FILE, renderAwsConfig(run)),
    // web-identity: no credentials file; a name that never exists, so no file of the runner's is read.
    credentialsFile:
      config.mode === "static"
        ? staging.stage(CREDENTIALS_FILE, renderAwsCredentials(run))
        : path.join(config.outputDir, `${TEMP_PREFIX}absent`),
  };
  await Promise.all(
    session.profiles.map((profile) => proveProfile(ctx, config, files, staged.token, profile)),
  );
  const names = session.profiles.map((p) => p.name);
  log.info(
    `Verified the ${names.length === 1 ? "profile" : "profiles"} ${names.join(", ")} from the files as the SDK reads them.`,
  );
}
