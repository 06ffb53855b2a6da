/**
 * The three AWS wire protocols the world speaks, reduced to what their answers and errors look
 * like: `query` (STS: form in, XML out), `rest-json` (CodeArtifact) and `json-1.1` (ECR).
 */
import type { SignedRequest } from "./sigv4.ts";

export type ServiceName = "sts" | "codeartifact" | "ecr";
export type Protocol = "query" | "rest-json" | "json-1.1";

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

/** An AWS error answer: thrown by handlers, rendered in the service's protocol. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra members of a JSON error body (e.g. `resourceType`). */
    readonly fields: Record<string, string> = {},
    /** Why, for the request log only: AWS never tells the caller. */
    readonly detail?: string,
  ) {
    super(message);
  }
}

/** One API call, recognised and parsed, ready for its service. */
export interface ApiCall {
  service: ServiceName;
  action: string;
  /** Query/form/JSON parameters, flattened (`a.b`, arrays as `a.0`, `a.1`…). */
  params: Record<string, string>;
  /** What SigV4 verification needs, untouched. */
  signed: SignedRequest;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** What the trust policy sees as `aws:SourceIp`. */
  sourceIp: string;
  requestId: string;
}

/** A service of the world: recognises its calls and answers them. */
export interface Service {
  name: ServiceName;
  protocol: Protocol;
  /** The action and parameters when the request is one of this service's calls. */
  route(request: {
    method: string;
    path: string;
    headers: Record<string, string>;
    body: Buffer;
    query: string;
  }): { action: string; params: Record<string, string> } | undefined;
  handle(call: ApiCall): Promise<Reply>;
}

export const STS_NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/";

const CONTENT_TYPE: Record<Protocol, string> = {
  query: "text/xml",
  "rest-json": "application/json",
  "json-1.1": "application/x-amz-json-1.1",
};

export const escapeXml = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c] ?? c,
  );

/** AWS writes timestamps to the second: `2024-01-01T00:00:00Z`. */
const isoSeconds = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, "Z");

/** `{a: "x", b: {c: "y"}}` -> `<a>x</a><b><c>y</c></b>`; undefined members are left out. */
export function toXml(value: Record<string, unknown>): string {
  return Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .map(([name, v]) => {
      const inner =
        typeof v === "object" && v !== null && !(v instanceof Date)
          ? toXml(v as Record<string, unknown>)
          : escapeXml(v instanceof Date ? isoSeconds(v) : String(v));
      return `<${name}>${inner}</${name}>`;
    })
    .join("");
}

export function queryResult(action: string, result: Record<string, unknown>, requestId: string): Reply {
  return {
    status: 200,
    headers: { "content-type": CONTENT_TYPE.query, "x-amzn-requestid": requestId },
    body:
      `<${action}Response xmlns="${STS_NAMESPACE}">` +
      `<${action}Result>${toXml(result)}</${action}Result>` +
      `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>` +
      `</${action}Response>\n`,
  };
}

export function jsonResult(protocol: Protocol, result: unknown, requestId: string): Reply {
  return {
    status: 200,
    headers: { "content-type": CONTENT_TYPE[protocol], "x-amzn-requestid": requestId },
    body: JSON.stringify(result),
  };
}

export function errorReply(protocol: Protocol, error: ApiError, requestId: string): Reply {
  const headers: Record<string, string> = {
    "content-type": CONTENT_TYPE[protocol],
    "x-amzn-requestid": requestId,
  };
  switch (protocol) {
    case "query":
      return {
        status: error.status,
        headers,
        body:
          `<ErrorResponse xmlns="${STS_NAMESPACE}"><Error>` +
          `<Type>${error.status >= 500 ? "Receiver" : "Sender"}</Type>` +
          `<Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message>` +
          `</Error><RequestId>${requestId}</RequestId></ErrorResponse>\n`,
      };
    case "rest-json":
      // REST services name the error in a header; the body carries the message.
      headers["x-amzn-errortype"] = error.code;
      return {
        status: error.status,
        headers,
        body: JSON.stringify({ ...error.fields, message: error.message }),
      };
    case "json-1.1":
      return {
        status: error.status,
        headers,
        body: JSON.stringify({ __type: error.code, ...error.fields, message: error.message }),
      };
  }
}

/** A 200 whose body breaks off mid-way, as a cut connection behind a proxy would leave it. */
export function malformedReply(protocol: Protocol, action: string, requestId: string): Reply {
  const body =
    protocol === "query"
      ? `<${action}Response xmlns="${STS_NAMESPACE}"><${action}Result><Credentials><AccessKeyId>ASIA`
      : `{"authorizationToken": "eyJ2ZXIiOjEsIm`;
  return {
    status: 200,
    headers: { "content-type": CONTENT_TYPE[protocol], "x-amzn-requestid": requestId },
    body,
  };
}

/** JSON body -> flat string params: `a.b`, arrays as `a.0`, `a.1`… */
export function flatten(
  value: unknown,
  prefix = "",
  into: Record<string, string> = {},
): Record<string, string> {
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      flatten(item, prefix ? `${prefix}.${index}` : String(index), into);
    });
  } else if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) flatten(item, prefix ? `${prefix}.${key}` : key, into);
  } else if (value !== undefined) {
    into[prefix] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return into;
}

/**
 * AWS's input validation message: "1 validation error detected: Value 'x' at 'roleSessionName'
 * failed to satisfy constraint: Member must …". Collect every failure, then `throw` once.
 */
export class Validation {
  private readonly failures: string[] = [];

  constructor(private readonly code: string) {}

  fail(member: string, value: string | undefined, constraint: string): void {
    const shown = value === undefined ? "null" : `'${value}'`;
    this.failures.push(
      `Value ${shown} at '${member}' failed to satisfy constraint: Member must ${constraint}`,
    );
  }

  /** Length and pattern checks of an optional string member. */
  text(member: string, value: string | undefined, o: { min?: number; max?: number; pattern?: RegExp }): void {
    if (value === undefined) return;
    if (o.min !== undefined && value.length < o.min) {
      this.fail(member, value, `have length greater than or equal to ${o.min}`);
    }
    if (o.max !== undefined && value.length > o.max)
      this.fail(member, value, `have length less than or equal to ${o.max}`);
    if (o.pattern && !new RegExp(`^(?:${o.pattern.source})$`, "u").test(value)) {
      this.fail(member, value, `satisfy regular expression pattern: ${o.pattern.source}`);
    }
  }

  /** An optional integer member within bounds. */
  integer(member: string, value: string | undefined, min: number, max: number): number | undefined {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n)) this.fail(member, value, "be an integer");
    else if (n < min) this.fail(member, value, `have value greater than or equal to ${min}`);
    else if (n > max) this.fail(member, value, `have value less than or equal to ${max}`);
    return n;
  }

  required(member: string, value: string | undefined): void {
    if (value === undefined) this.fail(member, value, "not be null");
  }

  throwIfAny(): void {
    const n = this.failures.length;
    if (n === 0) return;
    throw new ApiError(
      400,
      this.code,
      `${n} validation error${n > 1 ? "s" : ""} detected: ${this.failures.join("; ")}`,
    );
  }
}
