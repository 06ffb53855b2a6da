import { createHash, createHmac } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SignatureV4 } from "@smithy/signature-v4";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AwsContext } from "../../src/aws.ts";
import { stsEndpoint } from "../../src/endpoints.ts";
import { createHttpAgents } from "../../src/http.ts";
import { classify } from "../../src/retry.ts";
import { callSts, queryBody, StsServiceError, signQueryPost, xmlText } from "../../src/sts.ts";

/** The SDK's signer, computing the same signature from the same request: the reference. */
async function sdkAuthorization(
  url: URL,
  body: string,
  region: string,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string },
  now: Date,
): Promise<string | undefined> {
  const signer = new SignatureV4({
    service: "sts",
    region,
    credentials,
    applyChecksum: false,
    sha256: HashForSdk,
  });
  const signed = await signer.sign(
    {
      method: "POST",
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port === "" ? {} : { port: Number(url.port) }),
      path: url.pathname,
      query: {},
      headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8", host: url.host },
      body,
    },
    { signingDate: now },
  );
  return signed.headers.authorization;
}

/** What the SDK's signer hands a checksum (its SourceData), as node:crypto takes it. */
type SourceData = string | ArrayBuffer | ArrayBufferView;
const asBytes = (data: SourceData): string | Uint8Array =>
  typeof data === "string"
    ? data
    : ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data);

/** The SDK's Checksum interface over node:crypto, for its signer. */
class HashForSdk {
  private readonly hash;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", asBytes(secret));
  }
  update(data: SourceData) {
    this.hash.update(asBytes(data));
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
  reset() {}
}

describe("signQueryPost", () => {
  it("signs exactly as the SDK's SigV4 signer does", async () => {
    const text = fc.string({ minLength: 1, maxLength: 40 });
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          host: fc.constantFrom(
            "https://sts.us-east-1.amazonaws.com",
            "https://sts.cn-north-1.amazonaws.com.cn",
            "http://127.0.0.1:4566",
            "https://sts.eu-west-1.amazonaws.com/",
            "http://localhost:8080/sts/a b/",
          ),
          region: fc.constantFrom("us-east-1", "eu-west-1", "cn-north-1", "ap-southeast-2"),
          accessKeyId: fc.stringMatching(/^ASIA[A-Z0-9]{16}$/),
          secretAccessKey: text,
          sessionToken: text,
          params: fc.dictionary(
            fc.stringMatching(/^[A-Za-z][A-Za-z.0-9]{0,12}$/),
            fc.string({ maxLength: 60 }),
          ),
          time: fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2035, 0, 1) }),
        }),
        async ({ host, region, accessKeyId, secretAccessKey, sessionToken, params, time }) => {
          const url = new URL(host);
          const body = queryBody("GetCallerIdentity", params);
          const now = new Date(Math.floor(time / 1000) * 1000);
          const credentials = { accessKeyId, secretAccessKey, sessionToken };
          const ours = signQueryPost(url, body, {}, region, credentials, now);
          expect(ours.authorization).toBe(await sdkAuthorization(url, body, region, credentials, now));
          expect(ours["x-amz-security-token"]).toBe(sessionToken);
          expect(ours.host).toBe(url.host);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe("queryBody", () => {
  it("encodes as RFC 3986 wants, the action and version first", () => {
    expect(
      queryBody("AssumeRole", {
        RoleSessionName: "a b*~'!",
        "PolicyArns.member.1.arn": "arn:aws:iam::aws:policy/X",
      }),
    ).toBe(
      "Action=AssumeRole&Version=2011-06-15&RoleSessionName=a%20b%2A~%27%21&PolicyArns.member.1.arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FX",
    );
  });
});

describe("xmlText", () => {
  it("reads a leaf and decodes XML's entities", () => {
    const xml =
      "<Result><Arn>arn:aws:sts::1:assumed-role/a&amp;b/&#x41;&#66;&lt;&gt;&quot;&apos;</Arn><Empty></Empty></Result>";
    expect(xmlText(xml, "Arn")).toBe("arn:aws:sts::1:assumed-role/a&b/AB<>\"'");
    expect(xmlText(xml, "Empty")).toBe("");
    expect(xmlText(xml, "Missing")).toBeUndefined();
  });
});

describe("stsEndpoint", () => {
  const plain = { fips: false, dualStack: false };
  it("gives the regional endpoint of the region's partition", () => {
    expect(stsEndpoint("eu-west-1", plain)).toBe("https://sts.eu-west-1.amazonaws.com");
    expect(stsEndpoint("cn-northwest-1", plain)).toBe("https://sts.cn-northwest-1.amazonaws.com.cn");
    expect(stsEndpoint("us-gov-west-1", plain)).toBe("https://sts.us-gov-west-1.amazonaws.com");
    expect(stsEndpoint("us-iso-east-1", plain)).toBe("https://sts.us-iso-east-1.c2s.ic.gov");
    expect(stsEndpoint("us-isob-east-1", plain)).toBe("https://sts.us-isob-east-1.sc2s.sgov.gov");
  });
  it("honours FIPS and dual-stack", () => {
    expect(stsEndpoint("us-east-1", { fips: true, dualStack: false })).toBe(
      "https://sts-fips.us-east-1.amazonaws.com",
    );
    expect(stsEndpoint("us-east-1", { fips: false, dualStack: true })).toBe("https://sts.us-east-1.api.aws");
    expect(stsEndpoint("us-east-2", { fips: true, dualStack: true })).toBe(
      "https://sts-fips.us-east-2.api.aws",
    );
    expect(stsEndpoint("cn-north-1", { fips: false, dualStack: true })).toBe(
      "https://sts.cn-north-1.api.amazonwebservices.com.cn",
    );
    // GovCloud's STS endpoints are FIPS endpoints already.
    expect(stsEndpoint("us-gov-east-1", { fips: true, dualStack: false })).toBe(
      "https://sts.us-gov-east-1.amazonaws.com",
    );
  });
});

describe("callSts against answers STS does not send", () => {
  let server: Server;
  let endpoint: string;
  const answers: Array<{ status: number; type: string; body: string }> = [];
  beforeAll(async () => {
    server = createServer((request, response) => {
      request.resume();
      const next = answers.shift() ?? { status: 500, type: "text/plain", body: "no answer scripted" };
      response.writeHead(next.status, { "content-type": next.type }).end(next.body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const call = async () => {
    const agents = await createHttpAgents({});
    const ctx = {
      region: "us-east-1",
      agents,
      userAgent: "test",
      endpointOptions: { fips: false, dualStack: false },
    };
    try {
      return await callSts(
        ctx as unknown as AwsContext,
        endpoint,
        { action: "GetCallerIdentity", params: {} },
        new AbortController().signal,
      );
    } finally {
      agents.destroy();
    }
  };

  it("turns a proxy's HTML error page into a transient fault named by its status", async () => {
    answers.push({ status: 502, type: "text/html", body: "<html><body>Bad gateway</body></html>" });
    const error = await call().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StsServiceError);
    expect((error as StsServiceError).$metadata.httpStatusCode).toBe(502);
    expect(classify(error)).toBe("transient");
  });

  it("reads STS's error document: code, message and fault", async () => {
    answers.push({
      status: 403,
      type: "text/xml",
      body: '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>Not &quot;allowed&quot;</Message></Error><RequestId>r-1</RequestId></ErrorResponse>',
    });
    const error = (await call().catch((e: unknown) => e)) as StsServiceError;
    expect([error.Code, error.message, error.$fault, error.$metadata.requestId]).toEqual([
      "AccessDenied",
      'Not "allowed"',
      "client",
      "r-1",
    ]);
    expect(classify(error)).toBe("refused");
  });

  it("treats a 200 without the result as a garbled answer worth retrying", async () => {
    answers.push({ status: 200, type: "text/xml", body: "<GetCallerIdentityResponse><GetCallerIdent" });
    const error = await call().catch((e: unknown) => e);
    expect(classify(error)).toBe("transient");
  });

  it("returns the result element of a good answer", async () => {
    answers.push({
      status: 200,
      type: "text/xml",
      body: "<GetCallerIdentityResponse><GetCallerIdentityResult><Account>111111111111</Account></GetCallerIdentityResult></GetCallerIdentityResponse>",
    });
    expect(xmlText(await call(), "Account")).toBe("111111111111");
  });
});
