/**
 * Limits a repeated log event (such as one tenant's upstream refusing connections under
 * load) to one line per interval per key, and counts the lines it skipped.
 */
export class LogThrottle {
  private readonly entries = new Map<string, { loggedAtMs: number; suppressed: number }>();

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Returns how many events of `key` were skipped since the last line when this one
   * should be logged, or undefined when it should be skipped.
   */
  admit(key: string): number | undefined {
    const nowMs = this.now();
    const entry = this.entries.get(key);
    if (entry === undefined) {
      this.entries.set(key, { loggedAtMs: nowMs, suppressed: 0 });
      return 0;
    }
    if (nowMs - entry.loggedAtMs < this.intervalMs) {
      entry.suppressed += 1;
      return undefined;
    }
    const suppressed = entry.suppressed;
    entry.loggedAtMs = nowMs;
    entry.suppressed = 0;
    return suppressed;
  }
}
