/**
 * Volume alerts, decided from numbers only: a run that read nothing, far fewer rows than the same weekday's runs
 * usually read at that hour (a broken model otherwise looks green), or whose share of rejected requests jumped.
 * The history is the job's finished runs (same mode and shard) of the last weeks, on the same weekday, started
 * within an hour of this run's time of day; the state module reads it (src/state/monitor.ts).
 */
import type { VolumeReason } from '../metrics/labels.js';

export interface VolumeCounts {
  read: number;
  sent: number;
  rejected: number;
}

export interface VolumeThresholds {
  /** low_volume when a run reads less than this share of what the same weekday's runs usually read. */
  lowVolumeRatio: number;
  /** rejected_share when the share of rejected requests is this much (0.1 = 10 points) above the usual share. */
  rejectedShareJump: number;
}

/** Runs the history needs before it says what is usual. */
export const MIN_HISTORY = 3;
/** Below this many usual rows, "far fewer" is noise: no low_volume alert. */
export const MIN_USUAL_ROWS = 20;
/** Below this many rejected requests, a share is noise: no rejected_share alert. */
export const MIN_REJECTED = 5;

export interface VolumeAlert {
  reason: VolumeReason;
  message: string;
}

export interface VolumeVerdict {
  /** Rows a run usually reads (the history's median), when the history is long enough. */
  expectedRows: number | undefined;
  /** The usual share of rejected requests (0 without history). */
  usualRejectedShare: number;
  /** This run's share of rejected requests among those answered (0 when none was). */
  rejectedShare: number;
  alerts: VolumeAlert[];
}

export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const hi = sorted[mid] as number;
  return sorted.length % 2 === 1 ? hi : ((sorted[mid - 1] as number) + hi) / 2;
}

function share(c: VolumeCounts): number {
  const answered = c.sent + c.rejected;
  return answered > 0 ? c.rejected / answered : 0;
}

const pct = (x: number): string => `${(Math.round(x * 1000) / 10).toString()}%`;
const num = (n: number): string => Math.round(n).toLocaleString('en-US');

/**
 * The alerts a finished run raises. `mirror` runs (carts, wishlists) read a whole snapshot each time, so one that
 * reads nothing is suspect even before there is history; an orders sync that reads nothing is normal in a quiet
 * hour, and only suspect when that hour usually has orders.
 */
export function assessVolume(current: VolumeCounts, history: readonly VolumeCounts[], t: VolumeThresholds, opts: { mirror?: boolean } = {}): VolumeVerdict {
  const enough = history.length >= MIN_HISTORY;
  const expectedRows = enough ? median(history.map((h) => h.read)) : undefined;
  const answeredBefore = history.filter((h) => h.sent + h.rejected > 0);
  const usualRejectedShare = answeredBefore.length >= MIN_HISTORY ? (median(answeredBefore.map(share)) ?? 0) : 0;
  const rejectedShare = share(current);
  const alerts: VolumeAlert[] = [];
  const usual = expectedRows === undefined ? '' : `; the same weekday's runs at this hour usually read ${num(expectedRows)} (median of ${history.length})`;

  if (current.read === 0 && ((expectedRows !== undefined && expectedRows > 0) || (expectedRows === undefined && opts.mirror === true))) {
    alerts.push({ reason: 'nothing_read', message: `read nothing${usual || ' (a snapshot that is empty: is the model broken?)'}` });
  } else if (current.read > 0 && expectedRows !== undefined && expectedRows >= MIN_USUAL_ROWS && current.read < t.lowVolumeRatio * expectedRows) {
    alerts.push({ reason: 'low_volume', message: `read ${num(current.read)} rows, under ${pct(t.lowVolumeRatio)} of the usual${usual}` });
  }
  if (current.rejected >= MIN_REJECTED && rejectedShare - usualRejectedShare > t.rejectedShareJump) {
    alerts.push({
      reason: 'rejected_share',
      message: `${pct(rejectedShare)} of the requests were rejected (${num(current.rejected)} of ${num(current.sent + current.rejected)}); usually ${pct(usualRejectedShare)}`,
    });
  }
  return { expectedRows, usualRejectedShare, rejectedShare, alerts };
}
