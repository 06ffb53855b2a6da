import type { AssumeRoleWithWebIdentityCommandInput } from "@aws-sdk/client-sts";
import { fromIni, fromTokenFile } from "@aws-sdk/credential-providers";
import { internalError } from "../errors.js";
import type { Credentials } from "./clients.js";

/**
 * The AWS SDK's own credential providers, reading the files the pipe is about to hand over: what
 * a later SDK in the step does with them. They never make a call of their own: every assume goes
 * through the role assumer the pipe passes (its transport, its retry policy, its diagnosis), so
 * the providers' nested STS clients (own retries reading AWS_MAX_ATTEMPTS, own handler) never load.
 */
export type WebIdentityAssumer = (input: AssumeRoleWithWebIdentityCommandInput) => Promise<Credentials>;

const identity = (credentials: Credentials) => ({
  accessKeyId: credentials.accessKeyId,
  secretAccessKey: credentials.secretAccessKey,
  sessionToken: credentials.sessionToken,
  expiration: credentials.expiration,
});

/**
 * The provider failed before it could assume (a file it could not read, a profile it could not
 * resolve): the staged files would fail every later SDK the same way.
 */
const unusableFiles = (what: string, error: unknown) =>
  internalError(`The AWS SDK could not use the staged ${what}: ${(error as Error).message}`, {
    fix: "This is a bug in the pipe or an OUTPUT_DIR the SDK's file parser reads differently: report it with the output of a run with DEBUG: true, and try another OUTPUT_DIR meanwhile.",
    cause: error,
  });

/** AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN + AWS_ROLE_SESSION_NAME, as the SDK's fromTokenFile reads them. */
export async function assumeFromTokenFile(
  init: {
    tokenFile: string;
    roleArn: string;
    sessionName: string;
    durationSeconds: number;
    policy?: string | undefined;
    policyArns?: string[] | undefined;
  },
  assume: WebIdentityAssumer,
): Promise<void> {
  let assumed = false;
  const provider = fromTokenFile({
    webIdentityTokenFile: init.tokenFile,
    roleArn: init.roleArn,
    roleSessionName: init.sessionName,
    durationSeconds: init.durationSeconds,
    ...(init.policy === undefined ? {} : { policy: init.policy }),
    ...(init.policyArns === undefined || init.policyArns.length === 0
      ? {}
      : { policyArns: init.policyArns.map((arn) => ({ arn })) }),
    roleAssumerWithWebIdentity: async (params) => {
      assumed = true;
      return identity(await assume(params));
    },
  });
  try {
    await provider();
  } catch (error) {
    if (assumed) throw error;
    throw unusableFiles(`token file ${init.tokenFile}`, error);
  }
}

/**
 * The credentials the SDK's fromIni resolves for `profile` from the staged shared config and
 * credentials files. A web-identity profile's assume goes to `assume`.
 */
export async function credentialsFromIni(
  init: { profile: string; configFile: string; credentialsFile: string },
  assume: WebIdentityAssumer,
): Promise<Pick<Credentials, "accessKeyId" | "secretAccessKey" | "sessionToken">> {
  let assumed = false;
  const provider = fromIni({
    profile: init.profile,
    configFilepath: init.configFile,
    filepath: init.credentialsFile,
    ignoreCache: true,
    roleAssumerWithWebIdentity: async (params) => {
      assumed = true;
      return identity(await assume(params));
    },
    // Only a role_arn with a source_profile reaches here; unusableFiles below says whose files.
    roleAssumer: async () => {
      throw new Error(
        "it resolves to a chain of roles (role_arn with source_profile), which the pipe never writes.",
      );
    },
  });
  try {
    const credentials = await provider();
    if (credentials.sessionToken === undefined) throw new Error("no session token");
    return {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
    };
  } catch (error) {
    if (assumed) throw error;
    throw unusableFiles(`aws-config/aws-credentials for the profile ${init.profile}`, error);
  }
}
