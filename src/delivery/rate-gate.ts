/** A strict rate gate: at most N request attempts start in any rolling one-second window (p-queue's sliding window). */
import PQueue from 'p-queue';

export class RateGate {
  private readonly queue: PQueue | undefined;

  constructor(maxPerSecond: number) {
    if (maxPerSecond > 0) {
      const perSecond = maxPerSecond >= 1;
      this.queue = new PQueue({
        concurrency: Number.POSITIVE_INFINITY,
        intervalCap: perSecond ? Math.floor(maxPerSecond) : 1,
        interval: perSecond ? 1000 : Math.ceil(1000 / maxPerSecond),
        strict: true,
      });
    }
  }

  /** Resolves when one more attempt may start. */
  async pass(): Promise<void> {
    if (this.queue) await this.queue.add(() => undefined);
  }

  clear(): void {
    this.queue?.clear();
  }
}
