/** Progress of a long run: a live line when a person watches a terminal, a JSON log line every few seconds otherwise. */
import type { Logger } from '../log.js';
import type { RunCounts } from '../state/runs.js';

export interface ProgressOptions {
  log: Logger;
  counts: RunCounts;
  /** Rows expected in all, when known (backfill): gives a percentage and an ETA. */
  total?: number | undefined;
  label: string;
  /** A terminal to draw a live line on; undefined for JSON log lines only. */
  tty?: NodeJS.WriteStream | undefined;
  intervalMs?: number;
  inFlight: () => number;
}

export class Progress {
  private readonly started = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private drawn = false;

  constructor(private readonly options: ProgressOptions) {}

  start(): void {
    const tty = this.options.tty;
    const every = tty ? 500 : (this.options.intervalMs ?? 5000);
    this.timer = setInterval(() => (tty ? this.draw(tty) : this.logLine()), every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.drawn && this.options.tty) {
      this.draw(this.options.tty);
      this.options.tty.write('\n');
    }
  }

  snapshot(): { done: number; total?: number; rate: number; etaSeconds?: number; inFlight: number } {
    const c = this.options.counts;
    const done = c.sent + c.skipped + c.invalid + c.rejected;
    const seconds = Math.max(0.001, (Date.now() - this.started) / 1000);
    const rate = done / seconds;
    const total = this.options.total;
    const etaSeconds = total !== undefined && rate > 0 ? Math.max(0, Math.round((total - done) / rate)) : undefined;
    return {
      done,
      ...(total !== undefined ? { total } : {}),
      rate: Math.round(rate),
      ...(etaSeconds !== undefined ? { etaSeconds } : {}),
      inFlight: this.options.inFlight(),
    };
  }

  private logLine(): void {
    const c = this.options.counts;
    this.options.log.info({ ...this.snapshot(), sent: c.sent, skipped: c.skipped, invalid: c.invalid, rejected: c.rejected }, 'progress');
  }

  private draw(tty: NodeJS.WriteStream): void {
    const s = this.snapshot();
    const c = this.options.counts;
    const of = s.total !== undefined ? ` / ${s.total.toLocaleString('en-US')} (${s.total > 0 ? Math.floor((100 * s.done) / s.total) : 100}%)` : '';
    const eta = s.etaSeconds !== undefined ? `  ETA ${formatDuration(s.etaSeconds)}` : '';
    const line = `${this.options.label}: ${s.done.toLocaleString('en-US')}${of}  ${s.rate.toLocaleString('en-US')}/s${eta}  sent ${c.sent}, skipped ${c.skipped}, invalid ${c.invalid}, rejected ${c.rejected}`;
    tty.write(`\r${line.slice(0, Math.max(20, (tty.columns || 120) - 1)).padEnd(Math.min(tty.columns || 120, 160) - 1)}`);
    this.drawn = true;
  }
}

export function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s).padStart(2, '0')}s` : `${s}s`;
}
