import type https from "node:https";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { dnsSuffix, type EndpointOptions } from "./endpoints.js";
import { CONNECT_TIMEOUT_MS, type HttpAgents } from "./http.js";
import type { RetrySettings } from "./retry.js";

/** Credentials as every SDK names them; all three strings are secret. */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

/** What every AWS call needs besides its own parameters. */
export interface AwsContext {
  region: string;
  agents: HttpAgents;
  /** Sent with every call, so the pipe's calls stand out in CloudTrail. */
  userAgent: string;
  endpointOptions: EndpointOptions;
  /** Run when a request has left, while its answer is on the wire: loads what the run needs next. */
  whileWaiting?: (() => void) | undefined;
  retry: RetrySettings;
  onRetry: (message: string) => void;
}

/** The service's public endpoint in a region: used to decide whether a proxy applies. */
export const defaultEndpoint = (service: string, region: string): string =>
  `https://${service}.${region}.${dnsSuffix(region)}`;

/**
 * Settings for an SDK client (CodeArtifact, ECR): our retry policy only, no config files, and the
 * run's shared keep-alive agent (through the proxy that applies) under the SDK's HTTP handler.
 * STS goes through src/sts.ts instead, which needs none of the SDK.
 */
export function clientSettings(
  ctx: AwsContext,
  service: string,
  endpoint: string | undefined,
  credentials?: Credentials,
) {
  return {
    region: ctx.region,
    maxAttempts: 1,
    customUserAgent: ctx.userAgent,
    requestHandler: requestHandlerFor(ctx.agents, endpoint ?? defaultEndpoint(service, ctx.region)),
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(credentials === undefined
      ? {}
      : {
          credentials: {
            accessKeyId: credentials.accessKeyId,
            secretAccessKey: credentials.secretAccessKey,
            sessionToken: credentials.sessionToken,
          },
        }),
  };
}

function requestHandlerFor(agents: HttpAgents, url: string): NodeHttpHandler {
  const agent = agents.agentFor(url);
  return new NodeHttpHandler({
    connectionTimeout: CONNECT_TIMEOUT_MS,
    ...(new URL(url).protocol === "https:" ? { httpsAgent: agent as https.Agent } : { httpAgent: agent }),
  });
}
