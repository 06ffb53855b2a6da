import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lastLine } from "../support/output.ts";
import { runStep } from "../support/pipe.ts";
import { startProxy } from "../support/proxy.ts";
import { useStepWorld } from "../support/stepWorld.ts";
import { type Certificates, makeCertificates, startTlsFront, type TlsFront } from "../support/tls.ts";
import type { World } from "../world/index.ts";

/**
 * Every AWS call goes through the AWS SDK for JavaScript: regions, partitions, FIPS and dual-stack
 * are the SDK's endpoint rules; the runner's clock is corrected from AWS's answers. AWS's public
 * hosts are reached for real: through a proxy whose CONNECTs land on a local TLS front for the
 * test world, so the test sees exactly which host the pipe chose and the pipe sees a real certificate.
 */
let world: World;
let roleArn: string;
let clone: { dir: string; remove: () => Promise<void> };
useStepWorld((s) => ({ world, roleArn, clone } = s));

const HOSTS = [
  "sts.eusc-de-east-1.amazonaws.eu",
  "sts-fips.us-gov-west-1.api.aws",
  "sts.us-gov-west-1.amazonaws.com",
  "sts.ap-southeast-2.amazonaws.com",
  "sts-fips.us-east-1.amazonaws.com",
  "sts.us-iso-east-1.api.aws.ic.gov",
];
let certificates: Certificates;
let front: TlsFront;
beforeAll(async () => {
  certificates = makeCertificates(HOSTS);
  front = await startTlsFront(certificates, Number(new URL(world.endpoint).port));
});
afterAll(async () => {
  await front?.close();
  certificates?.remove();
});

/** A run with no endpoint override: the SDK resolves AWS's host, reached through the proxy. */
async function viaAws(variables: Record<string, string | undefined>) {
  const proxy = await startProxy({ connectTo: front.port });
  try {
    const { result } = await runStep(world, clone.dir, {
      AWS_ROLE_ARN: roleArn,
      AWS_ENDPOINT_URL: undefined,
      HTTPS_PROXY: proxy.url,
      NODE_EXTRA_CA_CERTS: certificates.caFile,
      VERIFY: "true",
      ...variables,
    });
    return { result, targets: [...proxy.targets] };
  } finally {
    await proxy.close();
  }
}

describe("regions and endpoints are the SDK's", () => {
  it.each([
    ["eusc-de-east-1", {}, "sts.eusc-de-east-1.amazonaws.eu:443"],
    [
      "us-gov-west-1",
      { AWS_USE_FIPS_ENDPOINT: "true", AWS_USE_DUALSTACK_ENDPOINT: "true" },
      "sts-fips.us-gov-west-1.api.aws:443",
    ],
    ["us-gov-west-1", { AWS_USE_FIPS_ENDPOINT: "true" }, "sts.us-gov-west-1.amazonaws.com:443"],
    ["us-east-1", { AWS_USE_FIPS_ENDPOINT: "true" }, "sts-fips.us-east-1.amazonaws.com:443"],
    ["us-iso-east-1", { AWS_USE_DUALSTACK_ENDPOINT: "true" }, "sts.us-iso-east-1.api.aws.ic.gov:443"],
  ])("%s %o: assumes and verifies at %s", async (region, flags, host) => {
    const { result, targets } = await viaAws({ AWS_REGION: region, ...flags });
    expect(result.status, result.output).toBe(0);
    expect(targets).toEqual([`CONNECT ${host}`]);
    expect(world.requests.map((r) => r.action)).toEqual(["AssumeRoleWithWebIdentity", "GetCallerIdentity"]);
    // The verification was signed for the region asked for.
    expect(world.requests[1]?.headers.authorization).toContain(`/${region}/sts/aws4_request`);
  });

  it("refuses FIPS with a custom endpoint before any request, naming both variables (exit 2)", async () => {
    const { result } = await runStep(world, clone.dir, {
      AWS_ROLE_ARN: roleArn,
      AWS_USE_FIPS_ENDPOINT: "true",
    });
    expect(result.status, result.output).toBe(2);
    expect(lastLine(result.stdout)).toMatch(/AWS_USE_FIPS_ENDPOINT.*AWS_ENDPOINT_URL/);
    expect(world.requests).toHaveLength(0);
  });

  it("signs a custom endpoint whose path has an empty segment as AWS verifies it", async () => {
    const { result } = await runStep(world, clone.dir, {
      AWS_ROLE_ARN: roleArn,
      AWS_ENDPOINT_URL: undefined,
      AWS_ENDPOINT_URL_STS: `${world.endpoint}//`,
    });
    expect(result.status, result.output).toBe(0);
    expect(world.requests.map((r) => `${r.action}:${r.status}`)).toEqual([
      "AssumeRoleWithWebIdentity:200",
      "GetCallerIdentity:200",
    ]);
  });

  it("uses an https endpoint_url from the shared config file, and refuses a plain-http remote one (exit 2)", async () => {
    const config = path.join(clone.dir, "aws-config-of-the-runner");
    writeFileSync(config, `[default]\nendpoint_url = https://sts.ap-southeast-2.amazonaws.com\n`);
    const used = await viaAws({ AWS_CONFIG_FILE: config });
    expect(used.result.status, used.result.output).toBe(0);
    expect(used.targets).toEqual(["CONNECT sts.ap-southeast-2.amazonaws.com:443"]);

    world.clearRequests();
    writeFileSync(
      config,
      `[profile ci]\nservices = ci\n[services ci]\nsts =\n  endpoint_url = http://sts.internal.example:8080\n`,
    );
    const { result } = await runStep(world, clone.dir, {
      AWS_ROLE_ARN: roleArn,
      AWS_ENDPOINT_URL: undefined,
      AWS_CONFIG_FILE: config,
      AWS_PROFILE: "ci",
    });
    expect(result.status, result.output).toBe(2);
    expect(lastLine(result.stdout)).toMatch(/endpoint_url.*plain http/);
    expect(world.requests).toHaveLength(0);
  });
});

describe("a runner whose clock is off gets working credentials and a warning", () => {
  const WARNING = /^WARNING: this runner's clock is 20 minutes (ahead of|behind) AWS.*"Signature expired"/m;

  it.each([
    ["ahead of", -20 * 60_000],
    ["behind", 20 * 60_000],
  ])("20 minutes %s AWS: the verification is signed in AWS's time", async (direction, offset) => {
    world.setClockOffset(offset);
    const { result } = await runStep(world, clone.dir, {
      AWS_ROLE_ARN: roleArn,
      AWS_ROLE_DURATION_SECONDS: "900",
    });
    expect(result.status, result.output).toBe(0);
    expect(result.stdout).toMatch(WARNING);
    expect(result.stdout).toContain(direction);
    expect(world.requests.map((r) => `${r.action}:${r.status}`)).toEqual([
      "AssumeRoleWithWebIdentity:200",
      "GetCallerIdentity:200",
    ]);
  });

  it("warns with VERIFY=false too: the assume's answer is dated", async () => {
    world.setClockOffset(-20 * 60_000);
    const { result } = await runStep(world, clone.dir, { AWS_ROLE_ARN: roleArn, VERIFY: "false" });
    expect(result.status, result.output).toBe(0);
    expect(result.stdout).toMatch(WARNING);
  });

  it("says nothing of a clock within a minute of AWS's", async () => {
    world.setClockOffset(20_000);
    const { result } = await runStep(world, clone.dir, { AWS_ROLE_ARN: roleArn });
    expect(result.status, result.output).toBe(0);
    expect(result.stdout).not.toMatch(/clock/);
  });

  it("re-sends once when a signed call is refused for the clock, after the SDK corrected it", async () => {
    // As STS answers a request signed too long ago, dated 10 minutes later than the runner: the
    // SDK takes the offset from that answer, and the one re-send is signed in AWS's time.
    const later = new Date(Date.now() + 10 * 60_000);
    world.fault({
      action: "GetCallerIdentity",
      answer: {
        status: 403,
        headers: { "content-type": "text/xml", date: later.toUTCString() },
        body: `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>Signature expired: 20261130T220000Z is now earlier than 20261130T220100Z (20261130T223600Z - 15 min.)</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`,
      },
    });
    const { result } = await runStep(world, clone.dir, { AWS_ROLE_ARN: roleArn });
    expect(result.status, result.output).toBe(0);
    expect(world.requests.map((r) => `${r.action}:${r.status}`)).toEqual([
      "AssumeRoleWithWebIdentity:200",
      "GetCallerIdentity:403",
      "GetCallerIdentity:200",
    ]);
    const signedAt = (i: number) => world.requests[i]?.headers["x-amz-date"] ?? "";
    expect(signedAt(2) > signedAt(1)).toBe(true);
  });
});
