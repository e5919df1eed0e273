/**
 * A request pace of the order-sync API: at most `limit` requests in any `windowMs` (40 a minute by
 * default, api-notes.md). Only admitted requests take a slot, so a client that waits out
 * Retry-After is admitted then.
 */
export class Pace {
  private admitted: number[] = [];

  constructor(
    readonly limit: number,
    readonly windowMs = 60_000,
  ) {}

  /** Admit a request arriving at `at` (ms): undefined when admitted, else whole seconds until a slot frees. */
  admit(at: number): number | undefined {
    const since = at - this.windowMs;
    let stale = 0;
    while (stale < this.admitted.length && (this.admitted[stale] ?? at) <= since) stale += 1;
    if (stale > 0) this.admitted.splice(0, stale);
    const oldest = this.admitted[0];
    if (this.admitted.length >= this.limit && oldest !== undefined) return Math.max(1, Math.ceil((oldest + this.windowMs - at) / 1000));
    this.admitted.push(at);
    return undefined;
  }

  clear(): void {
    this.admitted = [];
  }
}
