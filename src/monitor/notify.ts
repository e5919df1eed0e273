/**
 * The state a job is in after a run, and the one message a change of state is worth. The webhook hears of each
 * change once (a job starts failing, halts, crosses a volume or failure threshold, recovers), never of each run:
 * the last state it was told of is kept in the state schema (notify_state), and a run in the same state says
 * nothing.
 */
import type { RunStatus } from '../state/runs.js';
import type { VolumeAlert } from './volume.js';

/** Worst first: a run in several of these is in the first that applies. */
export const NOTIFY_STATES = ['failing', 'halted', 'volume', 'failures', 'ok'] as const;
export type NotifyState = (typeof NOTIFY_STATES)[number];

export interface JobState {
  state: NotifyState;
  /** One line on why (the error, the alerts, the count); empty for ok. */
  detail: string;
}

export interface RunOutcome {
  status: RunStatus;
  error?: string | undefined;
  read: number;
  sent: number;
  rejected: number;
  invalid: number;
  alerts: readonly VolumeAlert[];
  /** Open failures of the job (all classes), or undefined when unknown. */
  openFailures: number | undefined;
}

/**
 * The state a finished run leaves its job in; undefined when the run tells nothing (interrupted: a signal, not the
 * job's health). `openFailuresThreshold` 0 turns the open-failures threshold off.
 */
export function stateAfter(run: RunOutcome, openFailuresThreshold: number): JobState | undefined {
  switch (run.status) {
    case 'interrupted':
    case 'running':
      return undefined;
    case 'fatal':
    case 'failed':
      return { state: 'failing', detail: `run ${run.status}: ${run.error ?? 'no message'}` };
    case 'halted':
      return { state: 'halted', detail: run.error ?? 'PersonaClick stayed unavailable after every retry' };
    case 'done':
      break;
  }
  const volume = run.alerts.filter((a) => a.reason !== 'rejected_share');
  if (volume.length > 0) return { state: 'volume', detail: volume.map((a) => a.message).join('; ') };
  const rejected = run.alerts.filter((a) => a.reason === 'rejected_share');
  const over = openFailuresThreshold > 0 && run.openFailures !== undefined && run.openFailures >= openFailuresThreshold;
  if (rejected.length > 0 || over) {
    const parts = rejected.map((a) => a.message);
    if (over)
      parts.push(
        `${(run.openFailures ?? 0).toLocaleString('en-US')} open failures (threshold ${openFailuresThreshold.toLocaleString('en-US')}); see \`personaclick-sync status\``,
      );
    return { state: 'failures', detail: parts.join('; ') };
  }
  return { state: 'ok', detail: '' };
}

const HEADLINE: Record<NotifyState, string> = {
  failing: ':red_circle: is failing',
  halted: ':large_orange_circle: halted',
  volume: ':warning: volume alert',
  failures: ':warning: failure threshold crossed',
  ok: ':large_green_circle: recovered',
};

export interface Previous {
  state: NotifyState;
  since: Date;
}

/**
 * The message for a change from `previous` (undefined: never told, which counts as ok) to `next`, or undefined when
 * the state did not change. `who` names the job, mode and shard: "orders sync", "orders backfill 0/4".
 */
export function messageFor(who: string, previous: Previous | undefined, next: JobState, run: RunOutcome): string | undefined {
  const before = previous?.state ?? 'ok';
  if (before === next.state) return undefined;
  const counts = `read ${run.read.toLocaleString('en-US')}, sent ${run.sent.toLocaleString('en-US')}, invalid ${run.invalid.toLocaleString('en-US')}, rejected ${run.rejected.toLocaleString('en-US')}`;
  if (next.state === 'ok') {
    const since = previous ? ` since ${previous.since.toISOString()}` : '';
    return `personaclick-sync ${who} ${HEADLINE.ok} (was ${before}${since}). Last run: ${counts}.`;
  }
  const was = before === 'ok' ? '' : ` (was ${before})`;
  return `personaclick-sync ${who} ${HEADLINE[next.state]}${was}: ${next.detail}. Last run: ${counts}.`;
}

export function isNotifyState(value: string): value is NotifyState {
  return (NOTIFY_STATES as readonly string[]).includes(value);
}
