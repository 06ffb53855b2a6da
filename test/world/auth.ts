/**
 * Who signed a call: SigV4 signature, session token and session expiry, with the error each
 * protocol family really answers (STS speaks `InvalidClientTokenId`, JSON services
 * `UnrecognizedClientException`, and so on).
 */
import type { Session } from "./iam.ts";
import { parseAuthorization, verifySignature } from "./sigv4.ts";
import { type ApiCall, ApiError, type Protocol } from "./wire.ts";

type Failure = "missing" | "incomplete" | "unknown" | "signature" | "expired";

const INVALID_TOKEN = "The security token included in the request is invalid.";
const EXPIRED_TOKEN = "The security token included in the request is expired";

const ERRORS: Record<
  "query" | "json",
  Record<Failure, { status: number; code: string; message?: string }>
> = {
  query: {
    missing: {
      status: 403,
      code: "MissingAuthenticationToken",
      message: "Request is missing Authentication Token",
    },
    incomplete: { status: 400, code: "IncompleteSignature" },
    unknown: { status: 403, code: "InvalidClientTokenId", message: INVALID_TOKEN },
    signature: { status: 403, code: "SignatureDoesNotMatch" },
    expired: { status: 400, code: "ExpiredToken", message: EXPIRED_TOKEN },
  },
  json: {
    missing: {
      status: 403,
      code: "MissingAuthenticationTokenException",
      message: "Missing Authentication Token",
    },
    incomplete: { status: 400, code: "IncompleteSignatureException" },
    unknown: { status: 403, code: "UnrecognizedClientException", message: INVALID_TOKEN },
    signature: { status: 403, code: "InvalidSignatureException" },
    expired: { status: 403, code: "ExpiredTokenException", message: EXPIRED_TOKEN },
  },
};

export interface Caller {
  session: Session;
  /** From the credential scope. */
  region: string;
}

/** The access key id a call was signed with, whether or not it checks out. */
export function signingKeyId(call: ApiCall): string | undefined {
  const auth = parseAuthorization(call.headers.authorization);
  return typeof auth === "object" ? auth.accessKeyId : undefined;
}

/** The session that signed the call, or the AWS error that refuses it. */
export function authenticate(
  call: ApiCall,
  protocol: Protocol,
  sessions: Map<string, Session>,
  now = Date.now(),
): Caller {
  const family = protocol === "query" ? "query" : "json";
  const refuse = (failure: Failure, message?: string): never => {
    const e = ERRORS[family][failure];
    throw new ApiError(e.status, e.code, e.message ?? message ?? failure, {}, message);
  };

  const auth = parseAuthorization(call.headers.authorization);
  if (auth === undefined) return refuse("missing");
  if (auth === "malformed") {
    return refuse(
      "incomplete",
      "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.",
    );
  }
  const session = sessions.get(auth.accessKeyId);
  if (!session) return refuse("unknown", `unknown access key ${auth.accessKeyId}`);
  // Temporary keys are only valid together with their own session token.
  if (call.headers["x-amz-security-token"] !== session.sessionToken) {
    return refuse("unknown", "missing or wrong X-Amz-Security-Token");
  }
  const verdict = verifySignature(call.signed, auth, session.secretAccessKey, call.service, now);
  if (!verdict.ok)
    return refuse(verdict.reason === "incomplete" ? "incomplete" : "signature", verdict.message);
  if (session.expiration.getTime() <= now)
    return refuse("expired", `session expired at ${session.expiration.toISOString()}`);
  return { session, region: auth.region };
}
