import type { AwsContext, Credentials } from "./aws.js";
import { stsEndpoint } from "./endpoints.js";
import { internalError } from "./errors.js";
import { errorCode, type RetryOptions, withRetry } from "./retry.js";
import { callSts, type StsRequest, xmlText } from "./sts.js";

export interface AssumedRole {
  roleArn: string;
  assumedRoleArn: string;
  sessionName: string;
  credentials: Credentials;
}

export interface WebIdentityRequest {
  roleArn: string;
  sessionName: string;
  durationSeconds: number;
  token: string;
  policy?: string | undefined;
  policyArns?: string[] | undefined;
}

export interface Identity {
  account: string;
  arn: string;
  userId: string;
}

function credentialsFrom(result: string, what: string): Credentials {
  const accessKeyId = xmlText(result, "AccessKeyId");
  const secretAccessKey = xmlText(result, "SecretAccessKey");
  const sessionToken = xmlText(result, "SessionToken");
  const expiration = new Date(xmlText(result, "Expiration") ?? "");
  if (!accessKeyId || !secretAccessKey || !sessionToken || Number.isNaN(expiration.getTime())) {
    throw internalError(`STS answered ${what} without complete credentials.`);
  }
  return { accessKeyId, secretAccessKey, sessionToken, expiration };
}

/** The endpoint every STS call of the run goes to: AWS_ENDPOINT_URL(_STS), else the region's own. */
export const stsEndpointOf = (ctx: AwsContext, endpoint: string | undefined): string =>
  endpoint ?? stsEndpoint(ctx.region, ctx.endpointOptions);

/** One STS call under the retry policy. */
const stsCall = (
  ctx: AwsContext,
  endpoint: string | undefined,
  request: StsRequest,
  options?: RetryOptions,
): Promise<string> =>
  withRetry(
    `sts:${request.action}`,
    (signal) => callSts(ctx, stsEndpointOf(ctx, endpoint), request, signal),
    ctx.retry,
    ctx.onRetry,
    options,
  );

/** AWS_SESSION_POLICY and AWS_SESSION_POLICY_ARNS as both assume calls take them. */
const sessionPolicyParams = (request: {
  policy?: string | undefined;
  policyArns?: string[] | undefined;
}): Record<string, string> => ({
  ...(request.policy === undefined ? {} : { Policy: request.policy }),
  ...Object.fromEntries((request.policyArns ?? []).map((arn, i) => [`PolicyArns.member.${i + 1}.arn`, arn])),
});

/** sts:AssumeRoleWithWebIdentity: unsigned, the step's token is the proof. */
export async function assumeRoleWithWebIdentity(
  ctx: AwsContext,
  endpoint: string | undefined,
  request: WebIdentityRequest,
): Promise<AssumedRole> {
  const result = await stsCall(ctx, endpoint, {
    action: "AssumeRoleWithWebIdentity",
    params: {
      RoleArn: request.roleArn,
      RoleSessionName: request.sessionName,
      WebIdentityToken: request.token,
      DurationSeconds: String(request.durationSeconds),
      ...sessionPolicyParams(request),
    },
  });
  return {
    roleArn: request.roleArn,
    assumedRoleArn: xmlText(result, "Arn") ?? "",
    sessionName: request.sessionName,
    credentials: credentialsFrom(result, "AssumeRoleWithWebIdentity"),
  };
}

/** sts:AssumeRole with credentials we already hold (role chaining). */
export async function assumeRole(
  ctx: AwsContext,
  endpoint: string | undefined,
  source: Credentials,
  request: {
    roleArn: string;
    sessionName: string;
    durationSeconds: number;
    externalId?: string | undefined;
    policy?: string | undefined;
    policyArns?: string[] | undefined;
  },
): Promise<AssumedRole> {
  const result = await stsCall(
    ctx,
    endpoint,
    {
      action: "AssumeRole",
      params: {
        RoleArn: request.roleArn,
        RoleSessionName: request.sessionName,
        DurationSeconds: String(request.durationSeconds),
        ...(request.externalId === undefined ? {} : { ExternalId: request.externalId }),
        ...sessionPolicyParams(request),
      },
      credentials: source,
    },
    freshKeyRetry,
  );
  return {
    roleArn: request.roleArn,
    assumedRoleArn: xmlText(result, "Arn") ?? "",
    sessionName: request.sessionName,
    credentials: credentialsFrom(result, "AssumeRole"),
  };
}

/**
 * A key STS issued a moment ago can be unknown to another STS host for a moment (eventual
 * consistency): retry only that answer, briefly.
 */
const freshKeyRetry = {
  alsoRetry: {
    when: (error: unknown) => errorCode(error) === "InvalidClientTokenId",
    attempts: 4,
    delayMs: 400,
  },
};

/** sts:GetCallerIdentity: proves the credentials work and tells whose they are. */
export async function getCallerIdentity(
  ctx: AwsContext,
  endpoint: string | undefined,
  credentials: Credentials,
): Promise<Identity> {
  const result = await stsCall(
    ctx,
    endpoint,
    { action: "GetCallerIdentity", params: {}, credentials },
    freshKeyRetry,
  );
  return {
    account: xmlText(result, "Account") ?? "",
    arn: xmlText(result, "Arn") ?? "",
    userId: xmlText(result, "UserId") ?? "",
  };
}
