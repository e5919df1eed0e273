/**
 * In-order completion tracking: rows are read in keyset order and finish in any order; the watermark may move only
 * over the contiguous prefix of rows that are finished (delivered, skipped, or recorded as failed).
 */
export class PrefixTracker<C> {
  private next = 0;
  private prefixEnd = 0; // every seq < prefixEnd is finished
  private readonly finishedAhead = new Set<number>();
  private readonly cursors = new Map<number, C>();
  private committed: C | undefined;

  /** Register the next row in read order; returns its sequence number. */
  add(cursor: C): number {
    const seq = this.next++;
    this.cursors.set(seq, cursor);
    return seq;
  }

  finish(seq: number): void {
    if (seq < this.prefixEnd || seq >= this.next) return;
    this.finishedAhead.add(seq);
    while (this.finishedAhead.has(this.prefixEnd)) {
      this.finishedAhead.delete(this.prefixEnd);
      this.committed = this.cursors.get(this.prefixEnd);
      this.cursors.delete(this.prefixEnd);
      this.prefixEnd += 1;
    }
  }

  /** Cursor of the last row of the finished prefix; undefined while none is finished. */
  get prefixCursor(): C | undefined {
    return this.committed;
  }

  /** Rows registered and not yet finished. */
  get open(): number {
    return this.next - this.prefixEnd - this.finishedAhead.size;
  }

  get registered(): number {
    return this.next;
  }
}
