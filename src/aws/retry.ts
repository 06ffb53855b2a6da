import { internalError, REPORT_A_BUG, transientError } from "../errors.js";
import { classify, clockSkewCorrected, describeFault, setupError } from "./errors.js";

/**
 * One retry policy for every AWS call (the SDK's own retryer is off: maxAttempts 1 on every
 * client). Throttling means "later": retried until a deadline with backoff from ~1 s to ~20 s.
 * Other transient faults get a bounded number of attempts. Refusals fail at the first answer.
 * Nothing is retried past the token's expiry, and every attempt runs under its own timeout.
 */
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
  /**
   * Aborted when a sibling call has failed but its caller still wants the answers already on their
   * way (to list every refusal): no new attempt and no backoff wait, nor its warning, after it; an
   * attempt on the wire ends on its own. The call then fails with the signal's reason.
   */
  stopRetrying?: AbortSignal;
}

export const THROTTLE_DEADLINE_MS = 90_000;
export const THROTTLE_BASE_MS = 1_000;
export const THROTTLE_CAP_MS = 20_000;
export const TRANSIENT_BASE_MS = 250;
export const TRANSIENT_CAP_MS = 10_000;
export const ATTEMPT_TIMEOUT_MS = 15_000;

/** Full jitter: a uniform delay between 0 and the capped exponential step. */
export const backoffDelay = (attempt: number, baseMs: number, capMs: number, random: () => number): number =>
  random() * Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));

/** A timer that an abort clears: a cancelled backoff must not keep the process alive until it ends. */
const realSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => clearTimeout(timer), { once: true });
  });

/** Settles with the sleep, or at once with the signal's reason when it aborts first: a refusal elsewhere never waits for a backoff. */
function sleepUnless(
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>,
  ms: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (signal === undefined) return sleep(ms);
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    sleep(ms, signal).then(
      () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/**
 * The call's own promise, or the attempt's abort: the timeout then covers reading and parsing the
 * answer too, whatever the SDK does with the signal once the answer has started to arrive.
 */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

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
  let skewResent = false;

  const cancel = settings.cancel;
  const stopRetrying = settings.stopRetrying;
  // What ends a backoff early: the run's cancellation, or a sibling's failure.
  const wake = cancel && stopRetrying ? AbortSignal.any([cancel, stopRetrying]) : (cancel ?? stopRetrying);
  for (;;) {
    if (cancel?.aborted) throw cancel.reason;
    if (stopRetrying?.aborted) throw stopRetrying.reason;
    attempts += 1;
    const controller = new AbortController();
    const timer = setTimeout(() => {
      const timeout = new Error(`no answer within ${Math.round(ATTEMPT_TIMEOUT_MS * scale)} ms`);
      timeout.name = "TimeoutError";
      controller.abort(timeout);
    }, ATTEMPT_TIMEOUT_MS * scale);
    const signal = cancel ? AbortSignal.any([controller.signal, cancel]) : controller.signal;
    try {
      return await untilAborted(call(signal), signal);
    } catch (error) {
      if (cancel?.aborted) throw cancel.reason;
      const setup = controller.signal.aborted ? undefined : setupError(what, error);
      if (setup !== undefined) throw setup;
      // The SDK read AWS's time off this refusal and corrected its client's clock: the one re-send
      // that is not the policy's, since the same request, signed again, is what AWS would accept.
      if (!skewResent && clockSkewCorrected(error)) {
        skewResent = true;
        continue;
      }
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
      if (stopRetrying?.aborted) throw stopRetrying.reason;
      onRetry(`${what}: ${reason}; attempt ${attempts + 1} in ${(delay / 1000).toFixed(1)} s`);
      await sleepUnless(sleep, delay, wake);
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
