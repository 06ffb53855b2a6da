/**
 * AWS Signature Version 4, verifier side, written from the published algorithm
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html) rather than
 * borrowed from the SDK: the world must catch a signer that is wrong, not agree with it.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export interface SignedRequest {
  method: string;
  /** The path exactly as it came on the wire (percent-encoded once), without the query. */
  path: string;
  /** The raw query string, without `?`. */
  query: string;
  /** Node's `rawHeaders`: name, value, name, value… (keeps repeated headers apart). */
  rawHeaders: string[];
  body: Buffer;
}

export interface Authorization {
  accessKeyId: string;
  /** `YYYYMMDD` from the credential scope. */
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

export type Verdict =
  | { ok: true }
  /** `signature`: recomputed signature differs or the request is unsigned where it must be; `skew`: the clock. */
  | { ok: false; reason: "signature" | "skew" | "incomplete"; message: string };

const ALGORITHM = "AWS4-HMAC-SHA256";
/** How far from its own clock AWS accepts a request's signing time: STS 15 minutes, most other services 5. */
const skewWindowMinutes = (service: string) => (service === "sts" ? 15 : 5);

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/;

/** Reads the `Authorization` header; undefined when the request carries no SigV4 signature at all. */
export function parseAuthorization(header: string | undefined): Authorization | "malformed" | undefined {
  if (header === undefined) return undefined;
  const match = AUTHORIZATION.exec(header.trim());
  if (!match?.[1] || !match[2] || !match[3]) return "malformed";
  const [accessKeyId, date, region, service, terminator, ...rest] = match[1].split("/");
  if (!accessKeyId || !date || !region || !service || terminator !== "aws4_request" || rest.length > 0) {
    return "malformed";
  }
  return { accessKeyId, date, region, service, signedHeaders: match[2].split(";"), signature: match[3] };
}

const sha256Hex = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
const hmac = (key: Buffer | string, data: string) => createHmac("sha256", key).update(data).digest();

/** RFC 3986 percent-encoding: everything but `A-Za-z0-9-_.~`. */
const encode = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const decode = (text: string) => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

/** Services other than S3 encode each path segment again, on top of the wire encoding. */
function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(encode(segment));
  }
  const trailing = path.endsWith("/") && segments.length > 0 ? "/" : "";
  return `/${segments.join("/")}${trailing}`;
}

function canonicalQuery(query: string): string {
  if (query === "") return "";
  return query
    .split("&")
    .filter((pair) => pair !== "")
    .map((pair) => {
      const eq = pair.indexOf("=");
      const key = eq < 0 ? pair : pair.slice(0, eq);
      const value = eq < 0 ? "" : pair.slice(eq + 1);
      return [encode(decode(key)), encode(decode(value))] as const;
    })
    .sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

/** Header name (lower case) -> values joined by `,`, each trimmed with inner whitespace collapsed. */
export function headerMap(rawHeaders: string[]): Map<string, string> {
  const values = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const value = (rawHeaders[i + 1] as string).trim().replace(/\s+/g, " ");
    values.set(name, [...(values.get(name) ?? []), value]);
  }
  return new Map([...values].map(([name, list]) => [name, list.join(",")]));
}

/** `20240101T000000Z` -> ms epoch, or NaN. */
function parseAmzDate(value: string | undefined): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value ?? "");
  if (!m) return value ? Date.parse(value) : Number.NaN;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

const amzDate = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");

export function canonicalRequest(req: SignedRequest, signedHeaders: string[]): string {
  const headers = headerMap(req.rawHeaders);
  return [
    req.method.toUpperCase(),
    canonicalPath(req.path),
    canonicalQuery(req.query),
    ...signedHeaders.map((name) => `${name}:${headers.get(name) ?? ""}`),
    "",
    signedHeaders.join(";"),
    // Non-S3 services hash the body they received, whatever x-amz-content-sha256 claims.
    sha256Hex(req.body),
  ].join("\n");
}

export function computeSignature(
  req: SignedRequest,
  auth: Omit<Authorization, "accessKeyId" | "signature">,
  secretAccessKey: string,
  requestDate: string,
): string {
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const stringToSign = [
    ALGORITHM,
    requestDate,
    scope,
    sha256Hex(canonicalRequest(req, auth.signedHeaders)),
  ].join("\n");
  const key = hmac(
    hmac(hmac(hmac(`AWS4${secretAccessKey}`, auth.date), auth.region), auth.service),
    "aws4_request",
  );
  return createHmac("sha256", key).update(stringToSign).digest("hex");
}

/** Checks scope, clock and signature of a request whose key is already known. */
export function verifySignature(
  req: SignedRequest,
  auth: Authorization,
  secretAccessKey: string,
  expectedService: string,
  now = Date.now(),
): Verdict {
  if (auth.service !== expectedService) {
    return {
      ok: false,
      reason: "signature",
      message: `Credential should be scoped to correct service: '${expectedService}'.`,
    };
  }
  if (!auth.signedHeaders.includes("host")) {
    return {
      ok: false,
      reason: "signature",
      message: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    };
  }
  const headers = headerMap(req.rawHeaders);
  const requestDate = headers.get("x-amz-date") ?? headers.get("date");
  const signedAt = parseAmzDate(requestDate);
  if (!requestDate || Number.isNaN(signedAt)) {
    return {
      ok: false,
      reason: "incomplete",
      message: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    };
  }
  const minutes = skewWindowMinutes(expectedService);
  const MAX_SKEW_MS = minutes * 60_000;
  if (signedAt < now - MAX_SKEW_MS) {
    return {
      ok: false,
      reason: "skew",
      message: `Signature expired: ${amzDate(signedAt)} is now earlier than ${amzDate(now - MAX_SKEW_MS)} (${amzDate(now)} - ${minutes} min.)`,
    };
  }
  if (signedAt > now + MAX_SKEW_MS) {
    return {
      ok: false,
      reason: "skew",
      message: `Signature not yet current: ${amzDate(signedAt)} is still later than ${amzDate(now + MAX_SKEW_MS)} (${amzDate(now)} + ${minutes} min.)`,
    };
  }
  if (!amzDate(signedAt).startsWith(auth.date)) {
    return {
      ok: false,
      reason: "signature",
      message: `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.date}' != '${amzDate(signedAt).slice(0, 8)}', from '${requestDate}'.`,
    };
  }
  const expected = Buffer.from(computeSignature(req, auth, secretAccessKey, amzDate(signedAt)));
  const given = Buffer.from(auth.signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return {
      ok: false,
      reason: "signature",
      message:
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    };
  }
  return { ok: true };
}
