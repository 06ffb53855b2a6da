import { internalError, REPORT_A_BUG, transientError } from "./errors.js";
import { boundedText } from "./redact.js";

/**
 * One retry policy for every AWS call (the SDK's own retryer is off: maxAttempts 1 on every
 * client). Throttling means "later": retried until a deadline with backoff from ~1 s to ~20 s.
 * Other transient faults get a bounded number of attempts. Refusals fail at the first answer.
 * Nothing is retried past the token's expiry, and every attempt runs under its own timeout.
 */
export type FaultClass = "throttle" | "transient" | "refused" | "unknown";

export interface RetrySettings {
  /** Attempts for transient faults other than throttling (AWS_MAX_ATTEMPTS). */
  maxAttempts: number;
  /** Multiplies every delay, timeout and deadline: lets tests run the real policy faster. */
  timeScale: number;
  /** Epoch ms after which no attempt starts (the token's expiry). */
  notAfterMs: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /**
   * Aborted when the run has failed elsewhere (another call was refused): every call still in
   * flight or waiting to retry stops at once, with no further request and no warning.
   */
  cancel?: AbortSignal;
}

export const THROTTLE_DEADLINE_MS = 90_000;
export const THROTTLE_BASE_MS = 1_000;
export const THROTTLE_CAP_MS = 20_000;
export const TRANSIENT_BASE_MS = 250;
export const TRANSIENT_CAP_MS = 10_000;
export const ATTEMPT_TIMEOUT_MS = 15_000;

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

interface AwsLikeError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
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
  // A 2xx answer the SDK could not parse: a proxy or a network fault mangled it.
  if (status !== undefined && status < 300 && /deserializ|parse|xml|json/i.test(`${e.message}`))
    return "transient";
  if (status === undefined && /deserializ/i.test(`${e.message}`)) return "transient";
  if (status !== undefined && status >= 400) return "refused";
  return "unknown";
}

/** Full jitter: a uniform delay between 0 and the capped exponential step. */
export const backoffDelay = (attempt: number, baseMs: number, capMs: number, random: () => number): number =>
  random() * Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The reason a cancelled call stops with; never shown, since the failure that caused it is. */
export const cancelledError = () => internalError("Cancelled: another call of this run failed first.");

/**
 * Like Promise.all, and the first failure also cancels every other call (through `cancel`,
 * the signal handed to the retry policy as RetrySettings.cancel).
 */
export function allOrCancel<T extends readonly unknown[] | []>(
  values: T,
  cancel: AbortController,
): Promise<{ -readonly [P in keyof T]: Awaited<T[P]> }> {
  const guarded = values.map((value) =>
    Promise.resolve(value).catch((error: unknown) => {
      if (!cancel.signal.aborted) cancel.abort(cancelledError());
      throw error;
    }),
  );
  return Promise.all(guarded) as Promise<{ -readonly [P in keyof T]: Awaited<T[P]> }>;
}

export interface RetryOptions {
  /** Extra faults to retry for this call only (e.g. a brand-new key not yet visible), at most `attempts` times. */
  alsoRetry?: { when: (error: unknown) => boolean; attempts: number; delayMs: number };
}

/** Describes a fault for the log without any secret (AWS messages don't carry the caller's secrets). */
export const describeFault = (error: unknown): string => {
  const code = errorCode(error) ?? "Error";
  const status = httpStatus(error);
  // Bounded (a parser's message can carry the whole broken answer), never inside a token-like run:
  // the log removes secrets whole or by 16-character pieces, not a stub the cut left behind.
  const message = boundedText((error as AwsLikeError | undefined)?.message ?? "", 200);
  return `${code}${status ? ` (HTTP ${status})` : ""}${message && message !== code ? `: ${message}` : ""}`;
};

/**
 * Runs `call` under the policy. Refusals and unknown errors are rethrown unchanged for the caller
 * to explain; transient faults that outlast the policy become a PipeError of kind `transient`.
 */
export async function withRetry<T>(
  what: string,
  call: (signal: AbortSignal) => Promise<T>,
  settings: RetrySettings,
  onRetry: (message: string) => void,
  options: RetryOptions = {},
): Promise<T> {
  const now = settings.now ?? Date.now;
  const sleep = settings.sleep ?? realSleep;
  const random = settings.random ?? Math.random;
  const scale = settings.timeScale;
  const started = now();
  const throttleDeadline = Math.min(started + THROTTLE_DEADLINE_MS * scale, settings.notAfterMs);
  let attempts = 0;
  let transientAttempts = 0;
  let throttleAttempts = 0;
  let extraAttempts = 0;

  const cancel = settings.cancel;
  for (;;) {
    if (cancel?.aborted) throw cancel.reason;
    attempts += 1;
    const controller = new AbortController();
    const timer = setTimeout(() => {
      const timeout = new Error(`no answer within ${Math.round(ATTEMPT_TIMEOUT_MS * scale)} ms`);
      timeout.name = "TimeoutError";
      controller.abort(timeout);
    }, ATTEMPT_TIMEOUT_MS * scale);
    try {
      return await call(cancel ? AbortSignal.any([controller.signal, cancel]) : controller.signal);
    } catch (error) {
      if (cancel?.aborted) throw cancel.reason;
      const fault = controller.signal.aborted ? "transient" : classify(error);
      const reason = controller.signal.aborted
        ? describeFault(controller.signal.reason)
        : describeFault(error);
      let delay: number;
      if (options.alsoRetry?.when(error) && extraAttempts < options.alsoRetry.attempts) {
        extraAttempts += 1;
        delay = options.alsoRetry.delayMs * scale;
      } else if (fault === "throttle") {
        throttleAttempts += 1;
        delay = backoffDelay(throttleAttempts, THROTTLE_BASE_MS * scale, THROTTLE_CAP_MS * scale, random);
        if (now() + delay >= throttleDeadline) {
          const why =
            throttleDeadline === settings.notAfterMs
              ? "throttled until the step's OIDC token would expire first"
              : "throttled until the deadline";
          throw gaveUp(what, attempts, now() - started, reason, why, error);
        }
      } else if (fault === "transient") {
        transientAttempts += 1;
        if (transientAttempts >= settings.maxAttempts) {
          throw gaveUp(
            what,
            attempts,
            now() - started,
            reason,
            `AWS_MAX_ATTEMPTS is ${settings.maxAttempts}`,
            error,
          );
        }
        delay = backoffDelay(transientAttempts, TRANSIENT_BASE_MS * scale, TRANSIENT_CAP_MS * scale, random);
      } else if (fault === "unknown") {
        // Not an answer from AWS nor a network fault: a bug, never to be reported as a refusal.
        throw internalError(`${what}: unexpected error: ${describeFault(error)}`, {
          fix: REPORT_A_BUG,
          cause: error,
        });
      } else {
        throw error;
      }
      if (now() + delay >= settings.notAfterMs) {
        throw gaveUp(
          what,
          attempts,
          now() - started,
          reason,
          "the step's OIDC token would expire first",
          error,
        );
      }
      onRetry(`${what}: ${reason}; attempt ${attempts + 1} in ${(delay / 1000).toFixed(1)} s`);
      await sleep(delay);
    } finally {
      clearTimeout(timer);
    }
  }
}

function gaveUp(
  what: string,
  attempts: number,
  elapsedMs: number,
  reason: string,
  why: string,
  cause: unknown,
) {
  return transientError(
    `${what} failed after ${attempts} attempt${attempts === 1 ? "" : "s"} over ${(elapsedMs / 1000).toFixed(1)} s (${why}); last fault: ${reason}.`,
    {
      fix: "This is a fault on the way to AWS, not a problem with your settings: re-run the step. If it keeps happening, check the runner's network, proxy (HTTPS_PROXY) and the AWS Health Dashboard.",
      cause,
    },
  );
}
