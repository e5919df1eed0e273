/**
 * Push the metrics of a run from cron to a Prometheus Pushgateway. One PUT per process, when its runs are over:
 * it replaces the group's metrics whole. The group is `job="personaclick-sync"` and `instance=<what the process
 * ran>` (its lock name: "orders", "orders:backfill#0/4", "carts"), so processes running different jobs or shards
 * never overwrite each other's, and none of its labels clash with the metrics' own (`job_name`, `mode`, `shard`).
 * Label values go base64url-encoded in the path (`instance@base64/…`), which a "/" in a shard needs.
 */
import { redactUrl } from '../config/secrets.js';
import { trimBody } from '../errors.js';
import { callOutside } from '../outside-call.js';

/** The whole push (connection, request, answer) ends within this, answered or not. */
export const PUSH_TIMEOUT_MS = 10_000;

export const PUSH_JOB = 'personaclick-sync';

export interface PushTarget {
  /** The Pushgateway's base URL, e.g. http://pushgateway:9091 */
  url: string;
  instance: string;
  timeoutMs?: number;
}

/** The path of the group, e.g. /metrics/job/personaclick-sync/instance@base64/b3JkZXJz */
export function groupPath(instance: string): string {
  return `/metrics/job/${encodeURIComponent(PUSH_JOB)}/instance@base64/${base64url(instance)}`;
}

export async function pushMetrics(target: PushTarget, text: string, contentType: string): Promise<void> {
  const base = target.url.replace(/\/+$/, '');
  const url = `${base}${groupPath(target.instance)}`;
  const timeout = target.timeoutMs ?? PUSH_TIMEOUT_MS;
  let res;
  try {
    res = await callOutside(url, { method: 'PUT', headers: { 'content-type': contentType }, body: text }, timeout);
  } catch (caught) {
    throw new Error(`the Pushgateway at ${redactUrl(base)}: ${(caught as Error).message}`, { cause: caught });
  }
  if (res.status < 200 || res.status >= 300) {
    throw new Error(`the Pushgateway at ${redactUrl(base)} answered HTTP ${res.status}: ${trimBody(res.text) || 'no message'}`);
  }
}

/** RFC 4648 URL-safe base64; "=" for the empty string, as the Pushgateway wants it. */
export function base64url(value: string): string {
  if (value === '') return '=';
  return Buffer.from(value, 'utf8').toString('base64url');
}
