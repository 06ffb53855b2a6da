/**
 * STS over its Query protocol (API version 2011-06-15), for the three calls the pipe makes.
 *
 * Why not @aws-sdk/client-sts: loading the SDK's client and running its first request was most of
 * a pipe run's time (measured on Node 24 with the compile cache, against the local world: a run
 * went from 188 ms to 117 ms when this module replaced it; a bare script making the same two
 * POSTs takes 83 ms, `node -e 0` about 40 ms). STS's Query protocol is small and frozen: form-encoded parameters in, a
 * short XML document out. SigV4 is signed here too: @smithy/signature-v4 alone would be fine, but
 * it imports @smithy/core's barrels, and with the CodeArtifact and ECR clients in the same build
 * that put 200 KB of the SDK back on every run's path. A property test holds this signer to the
 * SDK's (test/unit/sts.test.ts); the test world verifies signatures with its own implementation.
 * The SDK's clients still serve CodeArtifact and ECR, which load only when asked for.
 */
import type nodeCrypto from "node:crypto";
import type { AwsContext, Credentials } from "./aws.js";
import { type HttpAnswer, postRequest } from "./http.js";
import { lazyBuiltin } from "./lazyBuiltin.js";

/** Only signed calls need it; the pipe loads it while the assume is on the wire (AwsContext.whileWaiting). */
export const loadSigningCrypto = lazyBuiltin<typeof nodeCrypto>("node:crypto");

const API_VERSION = "2011-06-15";
const CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8";

/**
 * An error STS answered, shaped as the SDK shapes its service errors: `Code` is the code on the
 * wire, `$metadata` the HTTP status and request id. The retry policy and the diagnosis read these.
 */
export class StsServiceError extends Error {
  readonly Code: string;
  readonly $fault: "client" | "server";
  readonly $metadata: { httpStatusCode: number; requestId?: string | undefined };

  constructor(code: string, message: string, fault: "client" | "server", status: number, requestId?: string) {
    super(message);
    this.name = code;
    this.Code = code;
    this.$fault = fault;
    this.$metadata = { httpStatusCode: status, requestId };
  }
}

/** RFC 3986 encoding, as the Query protocol and SigV4 both want it. */
const encode = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** `Action=…&Version=…&Name=value…`; nested members are flattened by the caller (`PolicyArns.member.1.arn`). */
export const queryBody = (action: string, params: Readonly<Record<string, string>>): string =>
  [
    `Action=${encode(action)}`,
    `Version=${API_VERSION}`,
    ...Object.entries(params).map(([name, value]) => `${encode(name)}=${encode(value)}`),
  ].join("&");

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

const decodeXml = (text: string): string =>
  text.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-z]+);/g, (whole, entity: string) => {
    if (entity.startsWith("#x")) return String.fromCodePoint(Number.parseInt(entity.slice(2), 16));
    if (entity.startsWith("#")) return String.fromCodePoint(Number.parseInt(entity.slice(1), 10));
    return ENTITIES[entity] ?? whole;
  });

/**
 * The text of the first `<name>` element holding text only, or undefined. STS's answers name
 * every leaf the pipe reads once (Credentials, AssumedRoleUser, the identity, Error).
 */
export function xmlText(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  return match?.[1] === undefined ? undefined : decodeXml(match[1]);
}

const sha256Hex = (data: string) => loadSigningCrypto().createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Buffer, data: string) =>
  loadSigningCrypto().createHmac("sha256", key).update(data).digest();

/** `20261125T201500Z`, the SigV4 timestamp. */
const amzDate = (date: Date) => date.toISOString().replace(/[-:]|\.\d{3}/g, "");

/**
 * Signs a Query POST with SigV4 for STS in `region` (the published algorithm:
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html). Returns every
 * header to send. Host, content type, date and session token are signed; the path is encoded
 * twice, as for every service but S3.
 */
export function signQueryPost(
  url: URL,
  body: string,
  headers: Readonly<Record<string, string>>,
  region: string,
  credentials: Pick<Credentials, "accessKeyId" | "secretAccessKey" | "sessionToken">,
  now: Date,
): Record<string, string> {
  const timestamp = amzDate(now);
  const scope = `${timestamp.slice(0, 8)}/${region}/sts/aws4_request`;
  const toSign: Record<string, string> = {
    "content-type": headers["content-type"] ?? CONTENT_TYPE,
    host: url.host,
    "x-amz-date": timestamp,
    "x-amz-security-token": credentials.sessionToken,
  };
  const names = Object.keys(toSign).sort();
  const canonicalHeaders = names
    .map((name) => `${name}:${toSign[name]?.trim().replace(/\s+/g, " ")}\n`)
    .join("");
  const signedNames = names.join(";");
  const canonicalPath = url.pathname.split("/").map(encode).join("/") || "/";
  const canonicalRequest = ["POST", canonicalPath, "", canonicalHeaders, signedNames, sha256Hex(body)].join(
    "\n",
  );
  const stringToSign = ["AWS4-HMAC-SHA256", timestamp, scope, sha256Hex(canonicalRequest)].join("\n");
  let key: Buffer = hmac(`AWS4${credentials.secretAccessKey}`, timestamp.slice(0, 8));
  for (const part of [region, "sts", "aws4_request"]) key = hmac(key, part);
  const signature = loadSigningCrypto().createHmac("sha256", key).update(stringToSign).digest("hex");
  return {
    ...headers,
    ...toSign,
    authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedNames}, Signature=${signature}`,
  };
}

/** The answer's error, or a parse failure for a success STS would never send. */
function answerError(action: string, answer: HttpAnswer): StsServiceError | Error {
  const requestId = xmlText(answer.body, "RequestId") ?? headerValue(answer.headers["x-amzn-requestid"]);
  if (answer.status >= 300) {
    const code = xmlText(answer.body, "Code");
    if (code !== undefined) {
      const fault = xmlText(answer.body, "Type") === "Receiver" ? "server" : "client";
      return new StsServiceError(
        code,
        xmlText(answer.body, "Message") ?? code,
        fault,
        answer.status,
        requestId,
      );
    }
    // Not STS's XML: a proxy's or a load balancer's page. The status alone says what it is.
    const fault = answer.status >= 500 ? "server" : "client";
    return new StsServiceError(
      "UnknownError",
      `HTTP ${answer.status} without an STS error document`,
      fault,
      answer.status,
      requestId,
    );
  }
  return Object.assign(new Error(`Could not parse STS's XML answer to ${action} (deserialization failed).`), {
    $metadata: { httpStatusCode: answer.status, requestId },
  });
}

const headerValue = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value[0] : value;

export interface StsRequest {
  action: "AssumeRoleWithWebIdentity" | "AssumeRole" | "GetCallerIdentity";
  params: Readonly<Record<string, string>>;
  /** Signs the request; AssumeRoleWithWebIdentity goes unsigned (the token is the proof). */
  credentials?: Credentials | undefined;
}

/**
 * One STS call, one attempt: the retry policy (src/retry.ts) decides about another. Resolves to
 * the `<Action>Result` element's XML; rejects with a StsServiceError for STS's refusals and
 * faults, or Node's network error.
 */
export async function callSts(
  ctx: AwsContext,
  endpoint: string,
  request: StsRequest,
  signal: AbortSignal,
): Promise<string> {
  const url = new URL(endpoint);
  const body = queryBody(request.action, request.params);
  let headers: Record<string, string> = {
    "content-type": CONTENT_TYPE,
    "content-length": String(Buffer.byteLength(body)),
    "user-agent": ctx.userAgent,
  };
  if (request.credentials !== undefined) {
    headers = signQueryPost(url, body, headers, ctx.region, request.credentials, new Date());
  }
  const answer = await postRequest(
    url,
    headers,
    body,
    ctx.agents.agentFor(endpoint),
    signal,
    ctx.whileWaiting,
  );
  const result = new RegExp(`<${request.action}Result>([\\s\\S]*)</${request.action}Result>`).exec(
    answer.body,
  );
  if (answer.status < 300 && result?.[1] !== undefined) return result[1];
  throw answerError(request.action, answer);
}
