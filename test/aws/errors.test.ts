import { describe, expect, it } from "vitest";
import {
  classify,
  clockSkewCorrected,
  describeFault,
  errorCode,
  httpStatus,
  serviceOf,
  setupError,
  TransportFailure,
} from "../../src/aws/errors.ts";

/**
 * What an error from an AWS call is (src/aws/errors.ts): its wire code and status, the fault class
 * the retry policy acts on, and the runner's set-up failures that are exit 2 rather than AWS's answer.
 * The errors are shaped as the SDK shapes them.
 */

const awsError = (name: string, status: number, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status }, ...extra });

describe("classify", () => {
  it("tells throttling, transient faults and refusals apart", () => {
    expect(classify(awsError("Throttling", 400))).toBe("throttle");
    expect(classify(awsError("Whatever", 429))).toBe("throttle");
    expect(classify(awsError("ServiceUnavailable", 503))).toBe("transient");
    expect(classify(awsError("InvalidIdentityTokenException", 400, { Code: "IDPCommunicationError" }))).toBe(
      "transient",
    );
    expect(classify(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }))).toBe("transient");
    expect(classify(awsError("AccessDenied", 403))).toBe("refused");
    expect(classify(awsError("InvalidIdentityTokenException", 400, { Code: "InvalidIdentityToken" }))).toBe(
      "refused",
    );
    expect(classify(new TypeError("x is undefined"))).toBe("unknown");
  });
});

describe("errorCode, httpStatus, clockSkewCorrected", () => {
  it("reads the wire's code: Code first, then the SDK's name, a socket's code for a plain Error", () => {
    expect(errorCode(awsError("InvalidIdentityTokenException", 400, { Code: "InvalidIdentityToken" }))).toBe(
      "InvalidIdentityToken",
    );
    expect(errorCode(awsError("AccessDenied", 403))).toBe("AccessDenied");
    expect(errorCode(Object.assign(new Error("hang up"), { code: "ECONNRESET" }))).toBe("ECONNRESET");
    expect(errorCode(awsError("AccessDenied", 403, { Code: "" }))).toBe("AccessDenied");
    expect(errorCode(undefined)).toBeUndefined();
  });

  it("reads the HTTP status and the SDK's clock correction from $metadata", () => {
    expect(httpStatus(awsError("X", 503))).toBe(503);
    expect(httpStatus(new Error("no answer"))).toBeUndefined();
    expect(
      clockSkewCorrected(awsError("SignatureDoesNotMatch", 403, { $metadata: { clockSkewCorrected: true } })),
    ).toBe(true);
    expect(clockSkewCorrected(awsError("SignatureDoesNotMatch", 403))).toBe(false);
  });
});

describe("classify, the edges", () => {
  it("a 2xx answer the SDK could not parse is transient (cut short or mangled on the way)", () => {
    expect(classify(awsError("SyntaxError", 200, { message: "Deserialization error: unexpected end" }))).toBe(
      "transient",
    );
    expect(classify(Object.assign(new Error("Deserialization error"), { name: "TypeError" }))).toBe(
      "transient",
    );
    expect(classify(awsError("Weird", 200, { message: "something else" }))).toBe("unknown");
  });

  it("a network code on the cause counts, as the SDK's handler wraps it", () => {
    expect(classify(Object.assign(new Error("failed"), { cause: { code: "ETIMEDOUT" } }))).toBe("transient");
    expect(classify(Object.assign(new Error("failed"), { code: "ERR_INVALID_ARG_TYPE" }))).toBe("unknown");
  });
});

describe("describeFault", () => {
  it("code, status and AWS's message; the message once, bounded", () => {
    expect(describeFault(awsError("AccessDenied", 403, { message: "Not authorized" }))).toBe(
      "AccessDenied (HTTP 403): Not authorized",
    );
    expect(describeFault(awsError("Throttling", 400))).toBe("Throttling (HTTP 400)");
    expect(describeFault(new Error(""))).toBe("Error");
    const long = describeFault(awsError("InternalFailure", 500, { message: "x ".repeat(500) }));
    expect(long.length).toBeLessThan(260);
  });

  it("an answer the SDK could not read is described, never quoted: it may hold credentials", () => {
    const unreadable = Object.assign(new TypeError("Invalid RFC3339 timestamp format SECRETKEY0123456789"), {
      $metadata: { httpStatusCode: 200 },
    });
    expect(describeFault(unreadable)).toBe(
      "TypeError (HTTP 200): an answer that could not be read (not shown: it may hold credentials)",
    );
    expect(classify(unreadable)).toBe("transient");
  });
});

describe("set-up failures", () => {
  it("a proxy's 407 is exit 2 naming the proxy variable", () => {
    const error = setupError(
      "sts:AssumeRoleWithWebIdentity",
      new TransportFailure("proxy-auth", "sts.amazonaws.com", "HTTPS_PROXY"),
    );
    expect(error?.kind).toBe("input");
    expect(error?.message).toBe(
      "The proxy in HTTPS_PROXY refused to carry sts:AssumeRoleWithWebIdentity to sts.amazonaws.com: 407 Proxy Authentication Required.",
    );
  });

  it("an untrusted certificate is exit 2 naming the host and NODE_EXTRA_CA_CERTS", () => {
    const tls = TransportFailure.fromNetwork(
      Object.assign(new Error("self-signed"), { cause: { code: "SELF_SIGNED_CERT_IN_CHAIN" } }),
      "sts.example.com",
    );
    expect(tls).toMatchObject({
      failure: "tls",
      host: "sts.example.com",
      detail: "SELF_SIGNED_CERT_IN_CHAIN",
    });
    const error = setupError("sts:GetCallerIdentity", tls);
    expect(error?.kind).toBe("input");
    expect(error?.message).toContain("sts.example.com");
    expect(error?.fix).toContain("NODE_EXTRA_CA_CERTS");
    expect(
      TransportFailure.fromNetwork(Object.assign(new Error("reset"), { code: "ECONNRESET" }), "h"),
    ).toBeUndefined();
  });

  it("a redirect or an oversized answer is an unexpected answer from the service called", () => {
    const redirect = setupError(
      "codeartifact:GetAuthorizationToken",
      new TransportFailure("redirect", "h", "evil.example"),
    );
    expect(redirect?.kind).toBe("internal");
    expect(redirect?.message).toMatch(/unexpected answer from CodeArtifact: a redirect to evil\.example/);
    expect(setupError("ecr:GetAuthorizationToken", new TransportFailure("too-large", "h"))?.message).toMatch(
      /unexpected answer from ECR: an answer over 1 MiB/,
    );
  });

  it("the SDK's endpoint refusal is exit 2; any other error is not a set-up failure", () => {
    const endpoint = Object.assign(new Error("FIPS and custom endpoint are not supported"), {
      name: "EndpointError",
    });
    expect(setupError("sts:AssumeRole", endpoint)?.kind).toBe("input");
    expect(setupError("sts:AssumeRole", awsError("AccessDenied", 403))).toBeUndefined();
    expect(serviceOf("sts:GetCallerIdentity")).toBe("STS");
    expect(serviceOf("other:Call")).toBe("other");
  });
});
