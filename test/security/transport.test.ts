import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lastLine } from "../support/output.ts";
import { runStep } from "../support/pipe.ts";
import { startProxy } from "../support/proxy.ts";
import { useStepWorld } from "../support/stepWorld.ts";
import { type Certificates, makeCertificates, startTlsFront, type TlsFront } from "../support/tls.ts";
import type { World } from "../world/index.ts";

/**
 * The way to AWS, attacked or misconfigured: proxies, certificates, redirects, plain http. Each
 * failure says what it is, on the first request, and is never explained as a trust refusal.
 */
let world: World;
let roleArn: string;
let clone: { dir: string; remove: () => Promise<void> };
useStepWorld((s) => ({ world, roleArn, clone } = s));

let certificates: Certificates;
let front: TlsFront;
beforeAll(async () => {
  certificates = makeCertificates(["sts.ap-southeast-2.amazonaws.com", "localhost"]);
  front = await startTlsFront(certificates, Number(new URL(world.endpoint).port));
});
afterAll(async () => {
  await front?.close();
  certificates?.remove();
});

const pipe = (variables: Record<string, string | undefined>) =>
  runStep(world, clone.dir, { AWS_ROLE_ARN: roleArn, ...variables }).then(({ result }) => result);
const TRUST_ADVICE = /trust policy|Condition/i;

describe("proxies", () => {
  it("goes through HTTPS_PROXY to AWS's host, and straight to a host in NO_PROXY", async () => {
    const proxy = await startProxy({ connectTo: front.port });
    try {
      const through = await pipe({
        AWS_ENDPOINT_URL: undefined,
        HTTPS_PROXY: proxy.url,
        NODE_EXTRA_CA_CERTS: certificates.caFile,
      });
      expect(through.status, through.output).toBe(0);
      // One connection, kept alive for both calls.
      expect(proxy.targets).toEqual(["CONNECT sts.ap-southeast-2.amazonaws.com:443"]);
      expect(through.stdout).toMatch(
        /Using the proxy 127\.0\.0\.1:\d+ for sts\.ap-southeast-2\.amazonaws\.com/,
      );

      proxy.targets.length = 0;
      const bypassed = await pipe({
        AWS_ENDPOINT_URL: `https://localhost:${front.port}`,
        https_proxy: proxy.url,
        NO_PROXY: "localhost",
        NODE_EXTRA_CA_CERTS: certificates.caFile,
      });
      expect(bypassed.status, bypassed.output).toBe(0);
      expect(proxy.targets).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it("never sends plain http through a proxy: the token would travel to it in clear text", async () => {
    const proxy = await startProxy();
    try {
      const result = await pipe({ HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url, ALL_PROXY: proxy.url });
      expect(result.status, result.output).toBe(0);
      expect(proxy.targets).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it("names the proxy variable on a 407, never its password, with no trust advice (exit 2)", async () => {
    const proxy = await startProxy({ connectTo: front.port, credentials: "ci:right-password-0123456789" });
    try {
      const url = new URL(proxy.url);
      url.username = "ci";
      url.password = "wrong-password-0123456789";
      const result = await pipe({
        AWS_ENDPOINT_URL: undefined,
        HTTPS_PROXY: url.toString(),
        NODE_EXTRA_CA_CERTS: certificates.caFile,
        DEBUG: "true",
      });
      expect(result.status, result.output).toBe(2);
      expect(lastLine(result.stdout)).toMatch(/^✖ .*HTTPS_PROXY/);
      expect(result.output).toMatch(/407/);
      expect(result.output).not.toContain("wrong-password");
      expect(result.output).not.toMatch(TRUST_ADVICE);
      expect(proxy.targets).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  it("gives up as a transient fault when the proxy is down (exit 4)", async () => {
    const proxy = await startProxy();
    await proxy.close();
    const result = await pipe({
      AWS_ENDPOINT_URL: undefined,
      HTTPS_PROXY: proxy.url,
      AWS_MAX_ATTEMPTS: "2",
      BITBUCKET_AWS_OIDC_TEST_TIME_SCALE: "0.01",
    });
    expect(result.status, result.output).toBe(4);
    expect(lastLine(result.stdout)).toMatch(/ECONNREFUSED/);
  });
});

describe("certificates, redirects and plain http", () => {
  it("names the host and NODE_EXTRA_CA_CERTS for a certificate the runner does not trust (exit 2)", async () => {
    const result = await pipe({ AWS_ENDPOINT_URL: `https://localhost:${front.port}` });
    expect(result.status, result.output).toBe(2);
    expect(lastLine(result.stdout)).toMatch(/^✖ .*NODE_EXTRA_CA_CERTS/);
    expect(result.output).toMatch(/localhost/);
    expect(result.output).not.toMatch(TRUST_ADVICE);
    expect(world.requests).toHaveLength(0);
  });

  it("does not follow a redirect, and names where it pointed (exit 1)", async () => {
    world.fault({
      action: "AssumeRoleWithWebIdentity",
      answer: { status: 307, headers: { location: "https://login.captive.example/portal" }, body: "" },
    });
    const result = await pipe({});
    expect(result.status, result.output).toBe(1);
    expect(lastLine(result.stdout)).toMatch(
      /^✖ unexpected answer from STS: a redirect to login\.captive\.example\b/,
    );
    expect(result.output).not.toMatch(/bug in the pipe/);
    expect(world.requests).toHaveLength(1);
  });

  it("refuses plain http to a remote host in any endpoint variable, before any request (exit 2)", async () => {
    for (const variable of ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS"]) {
      const result = await pipe({ [variable]: "http://sts.internal.example:8080" });
      expect(result.status, result.output).toBe(2);
      expect(lastLine(result.stdout)).toMatch(new RegExp(`${variable}.*plain http`));
    }
    expect(world.requests).toHaveLength(0);
  });

  it("never prints an endpoint's user:password", async () => {
    const endpoint = new URL(world.endpoint);
    endpoint.username = "svc";
    endpoint.password = "endpoint-secret-0123456789";
    const result = await pipe({ AWS_ENDPOINT_URL: endpoint.toString(), DEBUG: "true" });
    expect(result.output).not.toContain("endpoint-secret");
  });
});
