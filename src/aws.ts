import type { HttpHandlers } from "./http.js";
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
  handlers: HttpHandlers;
  retry: RetrySettings;
  onRetry: (message: string) => void;
}

/** The service's public endpoint in a region: used to decide whether a proxy applies. */
export const defaultEndpoint = (service: string, region: string): string =>
  `https://${service}.${region}.amazonaws.com${region.startsWith("cn-") ? ".cn" : ""}`;

/** Client settings shared by every SDK client: our retry policy only, our HTTP handler, no config files. */
export function clientSettings(
  ctx: AwsContext,
  service: string,
  endpoint: string | undefined,
  credentials?: Credentials,
) {
  return {
    region: ctx.region,
    maxAttempts: 1,
    requestHandler: ctx.handlers.forUrl(endpoint ?? defaultEndpoint(service, ctx.region)),
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
