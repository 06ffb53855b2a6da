import { internalError, type PipeError } from "./errors.js";
import { hasControl } from "./printable.js";

/**
 * The shapes a value from an AWS answer must have before the pipe writes it into a file another
 * tool parses (the contract's "Untrusted data: Shapes"). Whatever answered may not be AWS: a
 * proxy, a captive portal, a compromised host in between. A value of another shape is never
 * written, and the run ends with `unexpectedAnswer`. Pure: no I/O, `now` passed in.
 */

const LOOPBACK_V4 = /^127(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

export const isLoopbackHost = (hostname: string): boolean => {
  const bare = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return bare === "localhost" || bare === "::1" || LOOPBACK_V4.test(bare);
};

/**
 * An `https://` URL, or `http://` to a loopback host; no whitespace, control characters or
 * `user:password@` part (AWS never answers one); parsable as it stands.
 */
export function isEndpoint(value: unknown): value is string {
  if (typeof value !== "string" || value.length === 0 || value.length > 2048) return false;
  if (hasControl(value) || /\s/.test(value)) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.hostname === "" || url.username !== "" || url.password !== "") return false;
  if (url.protocol === "https:") return true;
  return url.protocol === "http:" && isLoopbackHost(url.hostname);
}

/** A token, key or password: printable ASCII, no whitespace, no quotes of any kind. */
export function isTokenShape(value: unknown): value is string {
  return typeof value === "string" && /^[\x21-\x7e]{1,65536}$/.test(value) && !/["'`]/.test(value);
}

/**
 * `arn:<partition>:<service>:<region>:<account>:<resource>`: a partition of the SDK's form
 * (`aws`, `aws-cn`, `aws-us-gov`, `aws-iso-b`, `aws-eusc`, …), a service name, a region or
 * nothing, a 12-digit account or nothing, and a resource of the characters IAM allows in role and
 * session names (`[\w+=,.@-]`), `/` and `:`. The ARNs STS answers (`assumed-role/<role>/<session>`)
 * carry no role path; anything else (`&`, `#`, `;`: an XML character reference the SDK's reader left
 * as it was) is not AWS's.
 */
const ARN =
  /^arn:aws(?:-[a-z]+)*:[a-z0-9-]{1,64}:(?:[a-z]{2,}(?:-[a-z]+)+-\d{1,2})?:(?:\d{12})?:[\w+=,.@/:-]{1,2048}$/;

export function isArn(value: unknown): value is string {
  return typeof value === "string" && ARN.test(value);
}

/** A valid date after `nowMs` (dead credentials are no credentials), and before the year 10000. */
export function isFutureDate(value: unknown, nowMs: number): value is Date {
  if (!(value instanceof Date)) return false;
  const time = value.getTime();
  return Number.isFinite(time) && time > nowMs && time < Date.UTC(10000, 0, 1);
}

/**
 * The failure for an answer of the wrong shape: exit 1 with `✖ unexpected answer from <service>:
 * <field>`. Not a bug report: the pipe did its part, and what answered is the question.
 */
export function unexpectedAnswer(service: string, field: string): PipeError {
  return internalError(`unexpected answer from ${service}: ${field}`, {
    fix: "Something between this runner and AWS answered instead of AWS (a proxy, a firewall, a custom endpoint), or AWS changed this answer; nothing was written. Check HTTPS_PROXY and AWS_ENDPOINT_URL* and the runner's network, then run the step again.",
  });
}
