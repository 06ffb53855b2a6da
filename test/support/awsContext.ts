import type { AwsContext } from "../../src/aws/clients.ts";
import { createClock } from "../../src/aws/clock.ts";
import { createTransport } from "../../src/aws/transport.ts";

/**
 * The context the pipe's AWS calls take, pointed at one endpoint for every service (the local
 * world, or a scripted server), with short retries; `done` closes its transport.
 */
export async function awsContext(
  endpoint: string,
  retry: Partial<AwsContext["retry"]> = {},
): Promise<AwsContext & { done(): void; retries: string[] }> {
  const clock = createClock();
  const transport = await createTransport({}, clock, () => {});
  const retries: string[] = [];
  return {
    region: "ap-southeast-2",
    transport,
    clock,
    userAgent: ["bitbucket-aws-oidc", "test"],
    endpoints: { sts: endpoint, codeartifact: endpoint, ecr: endpoint },
    fips: false,
    dualStack: false,
    retry: { maxAttempts: 1, timeScale: 0.01, notAfterMs: Date.now() + 600_000, ...retry },
    onRetry: (message) => retries.push(message),
    retries,
    done: () => transport.destroy(),
  };
}
