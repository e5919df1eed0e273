/**
 * What the payload builder tests share: one build context, a frozen clock, and readers of a BuildResult that check
 * what every result must be before a test looks at it (a request passes the connector's own schema of its path; a
 * reason or a warning is one line).
 */
import { afterEach, beforeEach, expect, vi } from 'vitest';
import {
  deriveSeance,
  validateRequest,
  type ApiPath,
  type BuildContext,
  type BuildResult,
  type BuildWarning,
  type JsonValue,
} from '../../src/payloads/index.js';

export const ctx: BuildContext = { shopId: '0d42fd8b713d0752776ca589cc0056', defaultStream: 'web' };
/** The frozen "now" of the payload tests. */
export const NOW = new Date('2024-05-10T12:00:00.000Z');
export const HOUR = 3_600_000;

export type Body = { [k: string]: JsonValue };

/** Freeze `Date` at `at` for each test of the file or describe block this is called in (vitest hooks). */
export function freezeDate(at: Date = NOW): void {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(at);
  });
  afterEach(() => {
    vi.useRealTimers();
  });
}

/** The body of a request and the warnings of the fields it left out, after checking it passes validateRequest on `path`. */
export function sent(result: BuildResult, path: ApiPath = '/push'): { body: Body; warnings: BuildWarning[] } {
  if (!result.ok) throw new Error(`expected a request, got: ${result.reason}`);
  expect(validateRequest(result.request.path, result.request.body)).toEqual({ ok: true });
  expect(result.request.path).toBe(path);
  for (const w of result.warnings) expect(w.reason).not.toMatch(/[\r\n]/);
  return { body: result.request.body, warnings: result.warnings };
}

/** The body of a request built from a clean row: no warnings. */
export function body(result: BuildResult, path: ApiPath = '/push'): Body {
  const { body: b, warnings } = sent(result, path);
  expect(warnings).toEqual([]);
  return b;
}

/** A request sent with one bad optional field left out: its one warning names the field and the value. */
export function without(result: BuildResult, field: string, value: string): { body: Body; warning: BuildWarning } {
  const { body: b, warnings } = sent(result);
  expect(warnings).toHaveLength(1);
  const warning = warnings[0] as BuildWarning;
  expect(warning).toMatchObject({ field, value });
  expect(warning.reason.startsWith(`${field}: `)).toBe(true);
  return { body: b, warning };
}

/** The reason of an invalid row: always one line. */
export function reason(result: BuildResult): string {
  if (result.ok) throw new Error(`expected invalid, got ${JSON.stringify(result.request.body)}`);
  expect(result.reason).not.toMatch(/[\r\n]/);
  return result.reason;
}

/** The envelope of a request whose row gives no seance or stream: a seance derived from (did, seanceKey), sent as sid too, and the default stream. */
export function derivedEnvelope(did: string, seanceKey: string): Body {
  const seance = deriveSeance(did, seanceKey);
  return { shop_id: ctx.shopId, did, seance, sid: seance, stream: 'web' };
}
