import {
  CodeartifactClient,
  GetAuthorizationTokenCommand,
  GetRepositoryEndpointCommand,
} from "@aws-sdk/client-codeartifact";
import { isEndpoint, isFutureDate, isTokenShape, unexpectedAnswer } from "../../answers.js";
import { type AwsContext, type Credentials, clientConfig } from "../../aws/clients.js";
import { withRetry } from "../../aws/retry.js";
import { codeArtifactRefusal } from "../../diagnose.js";
import { isPipeError } from "../../errors.js";
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
