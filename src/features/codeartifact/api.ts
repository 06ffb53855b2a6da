import {
  CodeartifactClient,
  GetAuthorizationTokenCommand,
  GetRepositoryEndpointCommand,
} from "@aws-sdk/client-codeartifact";
import { isEndpoint, isFutureDate, isTokenShape, unexpectedAnswer } from "../../answers.js";
import { type AwsContext, type Credentials, clientConfig } from "../../aws/clients.js";
import { errorCode } from "../../aws/errors.js";
import { withRetry } from "../../aws/retry.js";
import { callRefusal } from "../../diagnose.js";
import { isPipeError, type PipeError } from "../../errors.js";
import { type Format, withSlash } from "./login.js";

const SERVICE = "CodeArtifact";

/** Which domain and repository, whose, where: what every call and every message names. */
export interface Target {
  domain: string;
  repository: string;
  /** The domain owner's account id. */
  owner: string;
  region: string;
}

export interface Authorization {
  token: string;
  /** As CodeArtifact answered; absent only if it left it out. */
  expiration: Date | undefined;
}

/** The IAM actions a CodeArtifact login needs, as `template --codeartifact read` grants them. */
export const NEEDED_ACTIONS = [
  "codeartifact:GetAuthorizationToken",
  "codeartifact:GetRepositoryEndpoint",
  "codeartifact:ReadFromRepository",
  "sts:GetServiceBearerToken",
] as const;

const partitionOf = (region: string) =>
  region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws";

/** What to tell a person whose CodeArtifact call was refused: the permissions, resource by resource. */
export function codeArtifactRefusal(
  call: string,
  error: unknown,
  target: Target,
  accountId: string,
): PipeError {
  const code = errorCode(error) ?? "";
  const arn = `arn:${partitionOf(target.region)}:codeartifact:${target.region}:${target.owner}`;
  const what = `for the domain ${target.domain} (owner ${target.owner}, ${target.region}), repository ${target.repository}`;
  const permissions = [
    "The role's permissions must allow:",
    `  codeartifact:GetAuthorizationToken  on ${arn}:domain/${target.domain}`,
    `  codeartifact:GetRepositoryEndpoint  on ${arn}:repository/${target.domain}/${target.repository}`,
    `  codeartifact:ReadFromRepository     on ${arn}:repository/${target.domain}/${target.repository}`,
    '  sts:GetServiceBearerToken           on *, with "Condition": {"StringEquals": {"sts:AWSServiceName": "codeartifact.amazonaws.com"}}',
  ];
  if (accountId !== "" && target.owner !== accountId) {
    permissions.push(
      `The domain belongs to account ${target.owner}, not the role's (${accountId}): its domain policy (and the repository's policy) must also allow the role.`,
    );
  }
  if (/NotFound/i.test(code)) {
    return callRefusal(
      call,
      error,
      what,
      `Check CODEARTIFACT_DOMAIN (${target.domain}), CODEARTIFACT_REPOSITORY (${target.repository}) and CODEARTIFACT_DOMAIN_OWNER (${target.owner}) against the CodeArtifact console in ${target.region}: AWS answers not found for a name that does not exist in that account and region.`,
      permissions,
    );
  }
  return callRefusal(
    call,
    error,
    what,
    `Give the role ${NEEDED_ACTIONS.join(", ")} as listed above (the pipe's \`template --codeartifact read\` command does), then run the step again.`,
    permissions,
  );
}

/**
 * The two calls of a login, made with the default credentials through one client: one retry
 * policy, our HTTP handler, never the SDK's own retries. A failure elsewhere in the run cancels
 * them through the policy (RetrySettings.cancel).
 */
export function codeArtifactCalls(aws: AwsContext, credentials: Credentials) {
  const client = new CodeartifactClient(clientConfig(aws, "codeartifact", credentials));
  return {
    /**
     * codeartifact:GetAuthorizationToken; durationSeconds is always sent (0: as long as the
     * session). `onToken` sees the token the moment it arrives, before anything else can print it.
     */
    async authorizationToken(
      target: Target,
      durationSeconds: number,
      onToken: (token: string) => void,
    ): Promise<Authorization> {
      const command = new GetAuthorizationTokenCommand({
        domain: target.domain,
        ...(target.owner === "" ? {} : { domainOwner: target.owner }),
        durationSeconds,
      });
      const answer = await withRetry(
        "codeartifact:GetAuthorizationToken",
        (abortSignal) => client.send(command, { abortSignal }),
        aws.retry,
        aws.onRetry,
      );
      // A secret first (whatever its shape), then checked: nothing of another shape is written.
      if (typeof answer.authorizationToken === "string") onToken(answer.authorizationToken);
      if (!isTokenShape(answer.authorizationToken)) throw unexpectedAnswer(SERVICE, "authorizationToken");
      if (answer.expiration !== undefined && !isFutureDate(answer.expiration, Date.now())) {
        throw unexpectedAnswer(SERVICE, "expiration");
      }
      return { token: answer.authorizationToken, expiration: answer.expiration };
    },
    /** codeartifact:GetRepositoryEndpoint for one format. */
    async repositoryEndpoint(target: Target, format: Format): Promise<string> {
      const command = new GetRepositoryEndpointCommand({
        domain: target.domain,
        ...(target.owner === "" ? {} : { domainOwner: target.owner }),
        repository: target.repository,
        format,
      });
      const answer = await withRetry(
        `codeartifact:GetRepositoryEndpoint (${format})`,
        (abortSignal) => client.send(command, { abortSignal }),
        aws.retry,
        aws.onRetry,
      );
      if (!isEndpoint(answer.repositoryEndpoint)) {
        throw unexpectedAnswer(SERVICE, `repositoryEndpoint (${format})`);
      }
      return withSlash(answer.repositoryEndpoint);
    },
  };
}

/** Refusals become the diagnosis above; our own errors (transient, internal) pass through. */
export function explainRefusal(call: string, target: Target, accountId: string) {
  return (error: unknown): never => {
    if (isPipeError(error)) throw error;
    throw codeArtifactRefusal(call, error, target, accountId);
  };
}
