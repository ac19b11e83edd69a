/**
 * Events in the last minute (throttled responses, failovers), for the live connector state. Counted in
 * one-second buckets, so a count is exact to the second and costs O(1) per event whatever the rate;
 * the total since start is kept besides.
 */
export class RecentCounter {
  private readonly buckets: number[];
  private readonly seconds: number[];
  total = 0;

  constructor(private readonly windowSeconds = 60) {
    this.buckets = new Array<number>(windowSeconds).fill(0);
    this.seconds = new Array<number>(windowSeconds).fill(-1);
  }

  /** One event at `now` (ms). */
  add(now: number = Date.now()): void {
    const s = Math.floor(now / 1000);
    const i = s % this.windowSeconds;
    if (this.seconds[i] !== s) {
      this.seconds[i] = s;
      this.buckets[i] = 0;
    }
    this.buckets[i]!++;
    this.total++;
  }

  /** Events in the `windowSeconds` seconds up to `now`, the current second included. */
  count(now: number = Date.now()): number {
    const s = Math.floor(now / 1000);
    let n = 0;
    for (let i = 0; i < this.windowSeconds; i++) {
      const at = this.seconds[i]!;
      if (at > s - this.windowSeconds && at <= s) n += this.buckets[i]!;
    }
    return n;
  }
}
