import type { Clock } from "./clock.js";
import type { ServiceName } from "./endpoints.js";
import type { RetrySettings } from "./retry.js";
import type { Transport } from "./transport.js";

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
  /** The one HTTP transport every client shares. */
  transport: Transport;
  clock: Clock;
  /** Added to every call's user agent (`bitbucket-aws-oidc/<version>`), so the pipe's calls stand out in CloudTrail. */
  userAgent: [name: string, version: string];
  /** Each service's endpoint when one is configured (checked); undefined: the SDK's rules decide. */
  endpoints: Readonly<Record<ServiceName, string | undefined>>;
  /** AWS_USE_FIPS_ENDPOINT and AWS_USE_DUALSTACK_ENDPOINT. */
  fips: boolean;
  dualStack: boolean;
  retry: RetrySettings;
  onRetry: (message: string) => void;
}

/**
 * Settings for any SDK client: our one retry policy (the SDK's retries off), the shared transport,
 * the user agent, the endpoint decided and checked up front (the SDK's own lookup of
 * AWS_ENDPOINT_URL* and config files off, so what was checked is what is used), the clock offset
 * read from AWS's answers so far, and credentials passed explicitly (the SDK's default chain is
 * never consulted).
 */
export function clientConfig(
  ctx: AwsContext,
  service: ServiceName,
  credentials?: Pick<Credentials, "accessKeyId" | "secretAccessKey" | "sessionToken">,
) {
  const endpoint = ctx.endpoints[service];
  return {
    region: ctx.region,
    maxAttempts: 1,
    customUserAgent: [ctx.userAgent],
    requestHandler: ctx.transport.handler,
    useFipsEndpoint: ctx.fips,
    useDualstackEndpoint: ctx.dualStack,
    ignoreConfiguredEndpointUrls: true,
    systemClockOffset: ctx.clock.offsetMs(),
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
