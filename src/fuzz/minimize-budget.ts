// How much of a worker's time goes to minimizing findings; the rest fuzzes. Fuzzing comes first
// while it keeps finding new signatures: early in a campaign they arrive by the hundred per second,
// far faster than any share of the time could minimize them (each raw reproducer is saved and
// reported at once either way), and every second spent fuzzing then finds more. As discovery slows
// down, minimization's share grows back to half the time and the queue drains.

/** Minimization's share of a worker's time when fuzzing finds nothing new. */
export const MAX_SHARE = 0.5;
/** Its share while new signatures keep arriving at FLOOD_RATE or faster. */
export const MIN_SHARE = 0.1;
/** New signatures per second of fuzzing at which minimization is down to MIN_SHARE. */
export const FLOOD_RATE = 10;
/** Fuzzing time over which the discovery rate is averaged (an exponential moving average). */
const RATE_WINDOW_MS = 10_000;
/** Minimization time a quiet spell may bank, at most (so one burst cannot stall fuzzing for long). */
const MAX_ALLOWANCE_MS = 5_000;

export class MinimizeBudget {
  /** New signatures per second of fuzzing, averaged. */
  private rate = 0;
  private allowanceMs = 0;

  /** Minimization's share of the time at the current discovery rate. */
  share(): number {
    return Math.max(MIN_SHARE, MAX_SHARE * (1 - Math.min(1, this.rate / FLOOD_RATE)));
  }

  /** A fuzzing batch of `ms` that found `found` new signatures: it earns minimization its share. */
  fuzzed(ms: number, found: number): void {
    if (ms <= 0) return;
    const weight = Math.min(1, ms / RATE_WINDOW_MS);
    this.rate += (found / (ms / 1000) - this.rate) * weight;
    const share = this.share();
    this.allowanceMs = Math.min(MAX_ALLOWANCE_MS, this.allowanceMs + (ms * share) / (1 - share));
  }

  /** Whether minimization may run now. */
  get available(): boolean {
    return this.allowanceMs > 0;
  }

  minimized(ms: number): void {
    this.allowanceMs -= ms;
  }
}
