import {
  AssumeRoleCommand,
  AssumeRoleWithWebIdentityCommand,
  type AssumeRoleWithWebIdentityCommandInput,
  GetCallerIdentityCommand,
  STSClient,
} from "@aws-sdk/client-sts";
import { isArn, isFutureDate, isTokenShape, unexpectedAnswer } from "../answers.js";
import { type AwsContext, type Credentials, clientConfig } from "./clients.js";
import { errorCode } from "./errors.js";
import { type RetryOptions, withRetry } from "./retry.js";

/**
 * STS through @aws-sdk/client-sts: the web-identity assume, the chain's AssumeRole and the
 * verification, each under the one retry policy. Every answer is untrusted until its fields have
 * their documented shape: an ARN, keys of printable characters, an expiration in the future.
 */
export type { Credentials } from "./clients.js";

export interface AssumedRole {
  roleArn: string;
  assumedRoleArn: string;
  sessionName: string;
  credentials: Credentials;
}

export interface Identity {
  account: string;
  arn: string;
  userId: string;
}

const checkedArn = (value: string | undefined, field: string): string => {
  if (!isArn(value)) throw unexpectedAnswer("STS", field);
  return value;
};

function checkedCredentials(
  ctx: AwsContext,
  answer:
    | {
        AccessKeyId?: string | undefined;
        SecretAccessKey?: string | undefined;
        SessionToken?: string | undefined;
        Expiration?: Date | undefined;
      }
    | undefined,
): Credentials {
  const { AccessKeyId, SecretAccessKey, SessionToken, Expiration } = answer ?? {};
  if (!isTokenShape(AccessKeyId)) throw unexpectedAnswer("STS", "Credentials.AccessKeyId");
  if (!isTokenShape(SecretAccessKey)) throw unexpectedAnswer("STS", "Credentials.SecretAccessKey");
  if (!isTokenShape(SessionToken)) throw unexpectedAnswer("STS", "Credentials.SessionToken");
  // AWS's time, not the runner's: a runner whose clock is ahead would otherwise see fresh keys as dead.
  if (!isFutureDate(Expiration, ctx.clock.now())) throw unexpectedAnswer("STS", "Credentials.Expiration");
  return {
    accessKeyId: AccessKeyId,
    secretAccessKey: SecretAccessKey,
    sessionToken: SessionToken,
    expiration: Expiration,
  };
}

/** One client per set of credentials (none: the unsigned web-identity assume). */
const stsClient = (
  ctx: AwsContext,
  credentials?: Pick<Credentials, "accessKeyId" | "secretAccessKey" | "sessionToken">,
) => new STSClient(clientConfig(ctx, "sts", credentials));

/** AWS_SESSION_POLICY and AWS_SESSION_POLICY_ARNS as both assume calls take them. */
const sessionPolicies = (request: { policy?: string | undefined; policyArns?: string[] | undefined }) => ({
  ...(request.policy === undefined ? {} : { Policy: request.policy }),
  ...(request.policyArns === undefined || request.policyArns.length === 0
    ? {}
    : { PolicyArns: request.policyArns.map((arn) => ({ arn })) }),
});

/**
 * sts:AssumeRoleWithWebIdentity with the SDK's own input: what fromTokenFile hands its role
 * assumer. Unsigned: the token is the proof.
 */
export async function assumeWithWebIdentityInput(
  ctx: AwsContext,
  input: AssumeRoleWithWebIdentityCommandInput,
): Promise<{ assumedRoleArn: string; credentials: Credentials }> {
  const client = stsClient(ctx);
  const command = new AssumeRoleWithWebIdentityCommand(input);
  const answer = await withRetry(
    "sts:AssumeRoleWithWebIdentity",
    (abortSignal) => client.send(command, { abortSignal }),
    ctx.retry,
    ctx.onRetry,
  );
  return {
    assumedRoleArn: checkedArn(answer.AssumedRoleUser?.Arn, "AssumedRoleUser.Arn"),
    credentials: checkedCredentials(ctx, answer.Credentials),
  };
}

/**
 * A key STS issued a moment ago can be unknown to another STS host for a moment (eventual
 * consistency): retry only that answer, briefly.
 */
const freshKeyRetry: RetryOptions = {
  alsoRetry: {
    when: (error: unknown) => errorCode(error) === "InvalidClientTokenId",
    attempts: 4,
    delayMs: 400,
  },
};

/** sts:AssumeRole with credentials we already hold (role chaining). */
export async function assumeRole(
  ctx: AwsContext,
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
  const client = stsClient(ctx, source);
  const command = new AssumeRoleCommand({
    RoleArn: request.roleArn,
    RoleSessionName: request.sessionName,
    DurationSeconds: request.durationSeconds,
    ...(request.externalId === undefined ? {} : { ExternalId: request.externalId }),
    ...sessionPolicies(request),
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
    assumedRoleArn: checkedArn(answer.AssumedRoleUser?.Arn, "AssumedRoleUser.Arn"),
    sessionName: request.sessionName,
    credentials: checkedCredentials(ctx, answer.Credentials),
  };
}

/** sts:GetCallerIdentity: proves the credentials work and tells whose they are. */
export async function getCallerIdentity(
  ctx: AwsContext,
  credentials: Pick<Credentials, "accessKeyId" | "secretAccessKey" | "sessionToken">,
): Promise<Identity> {
  const client = stsClient(ctx, credentials);
  const command = new GetCallerIdentityCommand({});
  const answer = await withRetry(
    "sts:GetCallerIdentity",
    (abortSignal) => client.send(command, { abortSignal }),
    ctx.retry,
    ctx.onRetry,
    freshKeyRetry,
  );
  if (answer.Account === undefined || !/^\d{12}$/.test(answer.Account))
    throw unexpectedAnswer("STS", "Account");
  return {
    account: answer.Account,
    arn: checkedArn(answer.Arn, "Arn"),
    userId: answer.UserId ?? "",
  };
}
