/**
 * The runner's clock against AWS's. Signed requests carry their time and AWS refuses them outside
 * a window (15 minutes for STS, 5 for some services): a self-hosted runner whose clock drifted
 * would see "Signature expired" and no credentials. Every answer's `Date` header (the unsigned
 * assume's too) tells the offset; signed clients are created with it, as the AWS SDK for
 * JavaScript corrects itself after a refusal, so the pipe's own calls succeed from the first one.
 */
export interface Clock {
  /** Takes the `Date` header of an answer that has just arrived. */
  observe(dateHeader: string | undefined): void;
  /** AWS's time minus the runner's, in ms: what the SDK calls `systemClockOffset`. */
  offsetMs(): number;
  /** The runner's time corrected to AWS's, ms since the epoch. */
  now(): number;
}

/** Below this the `Date` header's one-second resolution and the network's latency are all it shows. */
const NOISE_MS = 2_000;

export function createClock(localNow: () => number = Date.now): Clock {
  let offset = 0;
  return {
    observe(dateHeader) {
      if (dateHeader === undefined) return;
      const serverTime = Date.parse(dateHeader);
      if (Number.isNaN(serverTime)) return;
      const observed = serverTime - localNow();
      offset = Math.abs(observed) < NOISE_MS ? 0 : observed;
    },
    offsetMs: () => offset,
    now: () => localNow() + offset,
  };
}

/** Offsets above this are worth a warning: everything else in the step signs with this clock too. */
export const WARN_OFFSET_MS = 60_000;
/** Past this some AWS services refuse signed requests; STS allows 15 minutes. */
export const REFUSED_OFFSET_MS = 5 * 60_000;

const describeOffset = (ms: number): string => {
  const seconds = Math.round(Math.abs(ms) / 1000);
  return seconds < 120 ? `${seconds} seconds` : `${Math.round(seconds / 60)} minutes`;
};

/** The warning for a runner whose clock is off, or undefined when it is close enough. */
export function clockWarning(offsetMs: number): string | undefined {
  if (Math.abs(offsetMs) <= WARN_OFFSET_MS) return undefined;
  // A positive offset: AWS is later than the runner, whose clock is behind.
  const direction = offsetMs > 0 ? "behind" : "ahead of";
  const consequence =
    Math.abs(offsetMs) > REFUSED_OFFSET_MS
      ? ' Other tools in this step (the AWS CLI, other SDKs) may be refused with "Signature expired" until it is fixed.'
      : "";
  return `this runner's clock is ${describeOffset(offsetMs)} ${direction} AWS (from the Date of AWS's answers); the pipe corrected its own requests for it.${consequence} Fix the runner's time synchronisation (NTP).`;
}
