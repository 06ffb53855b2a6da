import { unexpectedAnswer } from "../answers.js";
import { inputError, type PipeError } from "../errors.js";
import { boundedText } from "../redact.js";

/**
 * What an error from an AWS call is: the wire's error code, the HTTP status, the fault class the
 * retry policy acts on, and the transport failures that are the runner's set-up rather than AWS's
 * answer. Every AWS call goes through the SDK, so these read the SDK's error shapes.
 */
export type FaultClass = "throttle" | "transient" | "refused" | "unknown";

const THROTTLE_CODES = new Set([
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
  "PriorRequestNotComplete",
]);
const TRANSIENT_CODES = new Set([
  "IDPCommunicationError",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "InternalFailure",
  "InternalError",
  "InternalServerError",
  "InternalServerException",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
  "AbortError",
]);
const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "ENETDOWN",
  "EHOSTDOWN",
  "ERR_SOCKET_CONNECTION_TIMEOUT",
  "UND_ERR_SOCKET",
]);
/** OpenSSL's verdicts on a certificate chain the runner does not trust. */
const TLS_TRUST_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
  "CERT_REVOKED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

interface AwsLikeError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; clockSkewCorrected?: boolean };
  $response?: unknown;
  cause?: unknown;
}

/**
 * The AWS error code as sent on the wire. The SDK names modelled errors after their class
 * (`InvalidIdentityTokenException` for the wire's `InvalidIdentityToken`) and keeps the wire code in `Code`.
 */
export const errorCode = (error: unknown): string | undefined => {
  const e = error as (AwsLikeError & { Code?: unknown }) | undefined;
  if (typeof e?.Code === "string" && e.Code !== "") return e.Code;
  return e?.name === "Error" ? e.code : (e?.name ?? e?.code);
};

export const httpStatus = (error: unknown): number | undefined =>
  (error as AwsLikeError | undefined)?.$metadata?.httpStatusCode;

/** The SDK corrected its clock from this refusal's `Date`: the same call, sent again, is signed right. */
export const clockSkewCorrected = (error: unknown): boolean =>
  (error as AwsLikeError | undefined)?.$metadata?.clockSkewCorrected === true;

/**
 * A successful answer the SDK could not read: cut short on the way, or mangled by something in
 * between. Its parser's message quotes the answer, and a successful answer carries credentials
 * the pipe never got to know (so could not redact): the message is never printed.
 */
function isUnreadableAnswer(error: unknown): boolean {
  const e = (error ?? {}) as AwsLikeError;
  const status = httpStatus(error);
  if (status !== undefined && status < 300)
    return /deserializ|parse|xml|json|timestamp/i.test(`${e.message}`);
  return status === undefined && /deserializ/i.test(`${e.message}`);
}

/** What kind of fault an error from an AWS call is, from its AWS code, HTTP status or socket error. */
export function classify(error: unknown): FaultClass {
  const e = (error ?? {}) as AwsLikeError;
  const code = errorCode(error) ?? "";
  const status = httpStatus(error);
  if (THROTTLE_CODES.has(code) || status === 429) return "throttle";
  if (TRANSIENT_CODES.has(code)) return "transient";
  if (status !== undefined && status >= 500) return "transient";
  const sysCode = e.code ?? (e.cause as AwsLikeError | undefined)?.code;
  if (sysCode !== undefined && NETWORK_CODES.has(sysCode)) return "transient";
  if (isUnreadableAnswer(error)) return "transient";
  if (status !== undefined && status >= 400) return "refused";
  return "unknown";
}

/** Describes a fault for the log: the code, the status and AWS's message. */
export const describeFault = (error: unknown): string => {
  const code = errorCode(error) ?? "Error";
  const status = httpStatus(error);
  const head = `${code}${status ? ` (HTTP ${status})` : ""}`;
  if (isUnreadableAnswer(error))
    return `${head}: an answer that could not be read (not shown: it may hold credentials)`;
  // Bounded, and never cut inside a token-like run: the log removes secrets whole or by
  // 16-character pieces, which a leading piece shorter than that would escape.
  const message = boundedText((error as AwsLikeError | undefined)?.message ?? "", 200);
  return `${head}${message && message !== code ? `: ${message}` : ""}`;
};

export type TransportFailureKind = "proxy-auth" | "tls" | "redirect" | "too-large";

/**
 * A failure of the way to AWS rather than an answer from it, found by the transport: never
 * retried, never explained as a refusal. `detail` is the proxy variable's name (proxy-auth), the
 * OpenSSL code (tls) or the redirect's target host (redirect).
 */
export class TransportFailure extends Error {
  constructor(
    readonly failure: TransportFailureKind,
    readonly host: string,
    readonly detail?: string,
  ) {
    super(`${failure} at ${host}`);
    this.name = "TransportFailure";
  }

  /** A network error that is the runner's TLS trust, or undefined for any other. */
  static fromNetwork(error: unknown, host: string): TransportFailure | undefined {
    const e = error as AwsLikeError | undefined;
    const code = e?.code ?? (e?.cause as AwsLikeError | undefined)?.code;
    return code !== undefined && TLS_TRUST_CODES.has(code)
      ? new TransportFailure("tls", host, code)
      : undefined;
  }
}

const SERVICE_NAMES: Record<string, string> = { sts: "STS", codeartifact: "CodeArtifact", ecr: "ECR" };

/** `sts:GetCallerIdentity` -> `STS`: how messages name the service that answered. */
export const serviceOf = (call: string): string => {
  const prefix = call.split(":")[0] ?? call;
  return SERVICE_NAMES[prefix] ?? prefix;
};

/** The PipeError a transport failure or an SDK endpoint refusal stands for, or undefined for any other error. */
export function setupError(call: string, error: unknown): PipeError | undefined {
  if (error instanceof TransportFailure) {
    switch (error.failure) {
      case "proxy-auth":
        return inputError(
          `The proxy in ${error.detail} refused to carry ${call} to ${error.host}: 407 Proxy Authentication Required.`,
          {
            fix: `Give the proxy's credentials in ${error.detail} (http://user:password@host:port), or exempt AWS's hosts with NO_PROXY if the runner reaches them directly.`,
          },
        );
      case "tls":
        return inputError(
          `This runner does not trust the TLS certificate of ${error.host} (${error.detail}), so ${call} was not sent.`,
          {
            fix: "If a proxy or firewall inspects TLS on this runner, give Node its CA certificate with NODE_EXTRA_CA_CERTS (the path of a PEM file); otherwise check the endpoint and the runner's network.",
          },
        );
      case "redirect":
        return unexpectedAnswer(serviceOf(call), `a redirect to ${error.detail}`);
      case "too-large":
        return unexpectedAnswer(serviceOf(call), "an answer over 1 MiB");
    }
  }
  // The SDK's endpoint rules refuse some combinations before anything is sent (e.g. FIPS with a
  // custom endpoint, dual-stack in a partition without it).
  if ((error as AwsLikeError | undefined)?.name === "EndpointError") {
    return inputError(
      `The AWS SDK has no endpoint for ${call} with these settings: ${(error as Error).message}`,
      {
        fix: "Check AWS_REGION, AWS_USE_FIPS_ENDPOINT, AWS_USE_DUALSTACK_ENDPOINT and AWS_ENDPOINT_URL*: not every combination exists in every partition.",
      },
    );
  }
  return undefined;
}
