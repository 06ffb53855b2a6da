import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientConfig } from "../../src/aws/clients.ts";
import { awsContext } from "../support/awsContext.ts";

/**
 * The settings every SDK client gets (src/aws/clients.ts): the pipe's one retry policy (the SDK's
 * off), the shared transport, the user agent, the endpoint checked up front, the clock's offset and
 * explicit credentials.
 */

let ctx: Awaited<ReturnType<typeof awsContext>>;
beforeAll(async () => {
  ctx = await awsContext("https://sts.example.com");
});
afterAll(() => ctx.done());

describe("clientConfig", () => {
  it("turns the SDK's retries and its own endpoint lookup off, and shares the one handler", () => {
    const config = clientConfig(ctx, "sts");
    expect(config).toMatchObject({
      region: "ap-southeast-2",
      maxAttempts: 1,
      customUserAgent: [["bitbucket-aws-oidc", "test"]],
      useFipsEndpoint: false,
      useDualstackEndpoint: false,
      ignoreConfiguredEndpointUrls: true,
      endpoint: "https://sts.example.com",
    });
    expect(config.requestHandler).toBe(ctx.transport.handler);
    expect(config).not.toHaveProperty("credentials");
  });

  it("leaves the endpoint to the SDK's rules when none was configured", () => {
    expect(
      clientConfig({ ...ctx, endpoints: { ...ctx.endpoints, ecr: undefined } }, "ecr"),
    ).not.toHaveProperty("endpoint");
  });

  it("passes FIPS, dual-stack and the clock's offset as read from AWS's answers so far", () => {
    const config = clientConfig(
      { ...ctx, fips: true, dualStack: true, clock: { ...ctx.clock, offsetMs: () => 120_000 } },
      "codeartifact",
    );
    expect(config).toMatchObject({
      useFipsEndpoint: true,
      useDualstackEndpoint: true,
      systemClockOffset: 120_000,
    });
  });

  it("passes exactly the three credential strings, never an expiration or anything else", () => {
    const credentials = { accessKeyId: "ASIA1", secretAccessKey: "s", sessionToken: "t", extra: "no" };
    expect(clientConfig(ctx, "sts", credentials).credentials).toEqual({
      accessKeyId: "ASIA1",
      secretAccessKey: "s",
      sessionToken: "t",
    });
  });
});
