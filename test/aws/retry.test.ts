import { describe, expect, it } from "vitest";
import { backoffDelay, withRetry } from "../../src/aws/retry.ts";
import { isPipeError } from "../../src/errors.ts";

const awsError = (name: string, status: number, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status }, ...extra });

/** A clock that only moves when the policy sleeps: the policy's own arithmetic, no real waiting. */
function fakeTime() {
  let now = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

/** The promise's outcome, or a failure if it is still pending after `ms` (real time). */
const within = <T>(ms: number, promise: Promise<T>): Promise<T> =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms),
    ),
  ]);

/** A backoff that never ends by itself (only a cancellation ends the call), and when it began. */
function endlessBackoff() {
  let began: () => void = () => {};
  const asleep = new Promise<void>((resolve) => {
    began = resolve;
  });
  return {
    asleep,
    sleep: () => {
      began();
      return new Promise<void>(() => {});
    },
  };
}

describe("backoffDelay", () => {
  it("is full jitter under a capped exponential", () => {
    expect(backoffDelay(1, 1000, 20_000, () => 0.999)).toBeCloseTo(999);
    expect(backoffDelay(3, 1000, 20_000, () => 0.5)).toBe(2000);
    expect(backoffDelay(10, 1000, 20_000, () => 1)).toBe(20_000);
    expect(backoffDelay(4, 1000, 20_000, () => 0)).toBe(0);
  });
});

describe("withRetry", () => {
  const settings = (time: ReturnType<typeof fakeTime>, extra = {}) => ({
    maxAttempts: 3,
    timeScale: 1,
    notAfterMs: 10_000_000,
    now: time.now,
    sleep: time.sleep,
    random: () => 0.5,
    ...extra,
  });

  it("gives a transient fault AWS_MAX_ATTEMPTS attempts, then a transient PipeError", async () => {
    const time = fakeTime();
    let calls = 0;
    const failure = await withRetry(
      "call",
      async () => {
        calls += 1;
        throw awsError("ServiceUnavailable", 503);
      },
      settings(time),
      () => {},
    ).catch((e: unknown) => e);
    expect(calls).toBe(3);
    expect(isPipeError(failure) && failure.kind).toBe("transient");
    expect(time.sleeps).toEqual([125, 250]);
  });

  it("retries throttling beyond AWS_MAX_ATTEMPTS until the 90 s deadline, backing off from ~1 s to ~20 s", async () => {
    const time = fakeTime();
    let calls = 0;
    const failure = await withRetry(
      "call",
      async () => {
        calls += 1;
        throw awsError("Throttling", 400);
      },
      settings(time, { random: () => 1 }),
      () => {},
    ).catch((e: unknown) => e);
    expect(isPipeError(failure) && failure.message).toMatch(/throttled until the deadline/);
    expect(calls).toBeGreaterThan(3);
    expect(time.sleeps.slice(0, 6)).toEqual([1000, 2000, 4000, 8000, 16000, 20000]);
    expect(time.now()).toBeLessThanOrEqual(90_000);
  });

  it("rethrows a refusal at once", async () => {
    const time = fakeTime();
    let calls = 0;
    const refusal = awsError("AccessDenied", 403);
    const failure = await withRetry(
      "call",
      async () => {
        calls += 1;
        throw refusal;
      },
      settings(time),
      () => {},
    ).catch((e: unknown) => e);
    expect([calls, failure]).toEqual([1, refusal]);
  });

  it("reports an error that is neither AWS's answer nor a network fault as internal, at once", async () => {
    const time = fakeTime();
    let calls = 0;
    const failure = await withRetry(
      "call",
      async () => {
        calls += 1;
        throw new TypeError("x is not a constructor");
      },
      settings(time),
      () => {},
    ).catch((e: unknown) => e);
    expect(calls).toBe(1);
    expect(isPipeError(failure) && [failure.kind, failure.message]).toEqual([
      "internal",
      "call: unexpected error: TypeError: x is not a constructor",
    ]);
  });

  it("stops every call at once when the run is cancelled", async () => {
    const cancel = new AbortController();
    let calls = 0;
    const failure = withRetry(
      "call",
      (signal) => {
        calls += 1;
        return new Promise((_, reject) =>
          signal.addEventListener("abort", () => reject(new Error("aborted"))),
        );
      },
      { maxAttempts: 5, timeScale: 1, notAfterMs: Date.now() + 60_000, cancel: cancel.signal },
      () => {
        throw new Error("no retry may be announced after a cancellation");
      },
    ).catch((e: unknown) => e);
    const reason = new Error("cancelled");
    cancel.abort(reason);
    expect(await failure).toBe(reason);
    expect(calls).toBe(1);
  });

  it("ends a call sleeping in backoff at once when the run is cancelled: no further request, no warning", async () => {
    const cancel = new AbortController();
    let calls = 0;
    const warnings: string[] = [];
    const backoff = endlessBackoff();
    const failure = withRetry(
      "call",
      async () => {
        calls += 1;
        throw awsError("Throttling", 400);
      },
      {
        maxAttempts: 5,
        timeScale: 1,
        notAfterMs: Date.now() + 600_000,
        random: () => 1,
        cancel: cancel.signal,
        sleep: backoff.sleep,
      },
      (message) => warnings.push(message),
    ).catch((e: unknown) => e);
    await backoff.asleep;
    expect([calls, warnings.length]).toEqual([1, 1]);
    const reason = new Error("another call was refused");
    cancel.abort(reason);
    expect(await within(1000, failure)).toBe(reason);
    expect([calls, warnings.length]).toEqual([1, 1]);
  });

  it("stopRetrying: no further attempt or backoff after a sibling failed, yet the attempt on the wire still answers", async () => {
    const stop = new AbortController();
    const reason = new Error("a sibling failed");
    let calls = 0;
    const warnings: string[] = [];
    let answer: (value: string) => void = () => {};
    const onTheWire = withRetry(
      "call",
      () => {
        calls += 1;
        return new Promise<string>((resolve) => {
          answer = resolve;
        });
      },
      { maxAttempts: 5, timeScale: 1, notAfterMs: Date.now() + 600_000, stopRetrying: stop.signal },
      (message) => warnings.push(message),
    );
    stop.abort(reason);
    answer("the answer on its way");
    expect(await within(1000, onTheWire)).toBe("the answer on its way");

    const backoff = endlessBackoff();
    const stopBackoff = new AbortController();
    const backingOff = withRetry(
      "call",
      async () => {
        calls += 1;
        throw awsError("Throttling", 400);
      },
      {
        maxAttempts: 5,
        timeScale: 1,
        notAfterMs: Date.now() + 600_000,
        stopRetrying: stopBackoff.signal,
        sleep: backoff.sleep,
      },
      (message) => warnings.push(message),
    ).catch((e: unknown) => e);
    await backoff.asleep;
    stopBackoff.abort(reason);
    expect(await within(1000, backingOff)).toBe(reason);
    expect([calls, warnings.length]).toEqual([2, 1]);

    const alreadyStopped = await withRetry(
      "call",
      async () => {
        calls += 1;
        throw awsError("Throttling", 400);
      },
      { maxAttempts: 5, timeScale: 1, notAfterMs: Date.now() + 600_000, stopRetrying: stopBackoff.signal },
      (message) => warnings.push(message),
    ).catch((e: unknown) => e);
    // Stopped before it began: no request at all.
    expect(alreadyStopped).toBe(reason);
    expect([calls, warnings.length]).toEqual([2, 1]);
  });

  it("stops before the token's expiry", async () => {
    const time = fakeTime();
    const failure = await withRetry(
      "call",
      async () => {
        throw awsError("ServiceUnavailable", 503);
      },
      settings(time, { maxAttempts: 10, notAfterMs: 300 }),
      () => {},
    ).catch((e: unknown) => e);
    expect(isPipeError(failure) && failure.message).toMatch(/token would expire first/);
    expect(time.now()).toBeLessThan(300);
  });

  it("times out a silent attempt and retries it", async () => {
    let calls = 0;
    const value = await withRetry(
      "call",
      (signal) => {
        calls += 1;
        if (calls === 2) return Promise.resolve("ok");
        return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
      },
      { maxAttempts: 3, timeScale: 0.001, notAfterMs: Date.now() + 60_000 },
      () => {},
    );
    expect([value, calls]).toEqual(["ok", 2]);
  });
});
