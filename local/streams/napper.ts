/**
 * A sleep that ends early on abort (shutting down) or on `wake()` (someone is waiting for the
 * poller to catch up and wants the next poll now rather than after the interval).
 */
export class Napper {
  private wakeUp: (() => void) | undefined;

  nap(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        if (this.wakeUp === done) this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal.addEventListener('abort', done, { once: true });
      this.wakeUp = done;
    });
  }

  wake(): void {
    this.wakeUp?.();
  }
}
