/**
 * Runs `write` after each `schedule()`, never two at once, and folds the requests that
 * arrive during a write into one more run. `flush()` resolves once every request so far
 * is written.
 */
export class CoalescingWriter {
  private running: Promise<void> | undefined;
  private pending = false;

  constructor(
    private readonly write: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  schedule(): void {
    this.pending = true;
    this.running ??= this.drain();
  }

  async flush(): Promise<void> {
    while (this.running !== undefined) {
      await this.running;
    }
  }

  private async drain(): Promise<void> {
    while (this.pending) {
      this.pending = false;
      try {
        await this.write();
      } catch (error) {
        this.onError(error);
      }
    }
    this.running = undefined;
  }
}
