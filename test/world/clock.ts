/**
 * AWS's and Bitbucket's time in the world: the real time plus an offset a test sets, so that the
 * pipe (whose process keeps the real clock) runs as on a runner whose clock is off by that much.
 */
export class WorldClock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
}
