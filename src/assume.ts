import {
  AssumeRoleCommand,
  type AssumeRoleCommandOutput,
  AssumeRoleWithWebIdentityCommand,
  GetCallerIdentityCommand,
  STSClient,
} from "@aws-sdk/client-sts";
import { type AwsContext, type Credentials, clientSettings } from "./aws.js";
import { internalError } from "./errors.js";
import { errorCode, withRetry } from "./retry.js";

type StsCredentials = NonNullable<AssumeRoleCommandOutput["Credentials"]>;

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

function credentialsFrom(answer: { Credentials?: StsCredentials | undefined }, what: string): Credentials {
  const c = answer.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
    throw internalError(`STS answered ${what} without complete credentials.`);
  }
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
    expiration: c.Expiration,
  };
}

/** AWS_SESSION_POLICY and AWS_SESSION_POLICY_ARNS as both assume calls take them. */
const sessionPolicyParams = (request: {
  policy?: string | undefined;
  policyArns?: string[] | undefined;
}) => ({
  ...(request.policy === undefined ? {} : { Policy: request.policy }),
  ...(request.policyArns?.length ? { PolicyArns: request.policyArns.map((arn) => ({ arn })) } : {}),
});

/** sts:AssumeRoleWithWebIdentity: unsigned, the step's token is the proof. */
export async function assumeRoleWithWebIdentity(
  ctx: AwsContext,
  endpoint: string | undefined,
  request: WebIdentityRequest,
): Promise<AssumedRole> {
  const client = new STSClient(clientSettings(ctx, "sts", endpoint));
  const command = new AssumeRoleWithWebIdentityCommand({
    RoleArn: request.roleArn,
    RoleSessionName: request.sessionName,
    WebIdentityToken: request.token,
    DurationSeconds: request.durationSeconds,
    ...sessionPolicyParams(request),
  });
  const answer = await withRetry(
    "sts:AssumeRoleWithWebIdentity",
    (abortSignal) => client.send(command, { abortSignal }),
    ctx.retry,
    ctx.onRetry,
  );
  return {
    roleArn: request.roleArn,
    assumedRoleArn: answer.AssumedRoleUser?.Arn ?? "",
    sessionName: request.sessionName,
    credentials: credentialsFrom(answer, "AssumeRoleWithWebIdentity"),
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
  const client = new STSClient(clientSettings(ctx, "sts", endpoint, source));
  const command = new AssumeRoleCommand({
    RoleArn: request.roleArn,
    RoleSessionName: request.sessionName,
    DurationSeconds: request.durationSeconds,
    ...(request.externalId === undefined ? {} : { ExternalId: request.externalId }),
    ...sessionPolicyParams(request),
  });
  const answer = await withRetry(
    "sts:AssumeRole",
    (abortSignal) => client.send(command, { abortSignal }),
    ctx.retry,
    ctx.onRetry,
    freshKeyRetry,
  );
  return {
    roleArn: request.roleArn,
    assumedRoleArn: answer.AssumedRoleUser?.Arn ?? "",
    sessionName: request.sessionName,
    credentials: credentialsFrom(answer, "AssumeRole"),
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
  const client = new STSClient(clientSettings(ctx, "sts", endpoint, credentials));
  const answer = await withRetry(
    "sts:GetCallerIdentity",
    (abortSignal) => client.send(new GetCallerIdentityCommand({}), { abortSignal }),
    ctx.retry,
    ctx.onRetry,
    freshKeyRetry,
  );
  return { account: answer.Account ?? "", arn: answer.Arn ?? "", userId: answer.UserId ?? "" };
}
