/**
 * A line of attempts waiting to go: the request that has tried most goes first, and among equals the one that came
 * first. So retries go ahead of first tries, and while the API keeps failing the same request keeps trying until
 * its retries run out and the run halts, as it would with a fixed concurrency, instead of every waiting request
 * taking its turn to fail once.
 */
interface Waiter {
  attempts: number;
  resolve: () => void;
  reject: (reason: Error) => void;
}

export class WaitLine {
  private waiters: Waiter[] = [];

  get length(): number {
    return this.waiters.length;
  }

  /** Settles when `next()` lets this one go, or `clear()` rejects it. `attempts`: how many it has made already. */
  wait(attempts: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let at = this.waiters.length;
      while (at > 0 && (this.waiters[at - 1]?.attempts ?? 0) < attempts) at -= 1;
      this.waiters.splice(at, 0, { attempts, resolve, reject });
    });
  }

  /** Let the next one go; false when none waits. */
  next(): boolean {
    const waiter = this.waiters.shift();
    waiter?.resolve();
    return waiter !== undefined;
  }

  /** Reject every waiting one. */
  clear(reason: Error): void {
    const all = this.waiters;
    this.waiters = [];
    for (const w of all) w.reject(reason);
  }
}
