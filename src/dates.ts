/**
 * One reading of dates and times for the whole connector: the command line (`--from`, `--to`, `--since`), the config
 * (`startFrom`) and the payloads (timestamp columns, as Postgres writes them or as a Date). ISO 8601 dates and
 * datetimes with real calendar values; text without a zone is UTC (the host's zone must never matter).
 */

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** Milliseconds since the epoch of ISO text (`2024-01-31`, `2024-01-31T10:00:00.123456+02:00`, …); undefined when it is not one. */
export function parseInstant(text: string): number | undefined {
  const m = TIMESTAMP.exec(text.trim());
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((part) => Number(part ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const check = new Date(Date.UTC(year, month - 1, day));
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) return undefined;
  const millis = Math.floor(Number(`0.${m[7] ?? '0'}`) * 1000);
  return Date.UTC(year, month - 1, day, hour, minute, second, millis) - zoneOffsetMs(m[8]);
}

function zoneOffsetMs(zone: string | undefined): number {
  if (zone === undefined || zone.toUpperCase() === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2) || '0');
  return sign * (hours * 60 + minutes) * 60_000;
}

/** Midnight UTC (epoch ms) of text that is exactly a calendar date, `YYYY-MM-DD`; undefined for anything else. */
export function parseDay(text: string): number | undefined {
  return /^\d{4}-\d{2}-\d{2}$/.test(text) ? parseInstant(text) : undefined;
}

/** Milliseconds since the epoch of a timestamp column (a Date, or text); undefined when unreadable. */
export function toEpochMs(value: unknown): number | undefined {
  if (value instanceof Date) {
    const ms = value.getTime();
    return Number.isNaN(ms) ? undefined : ms;
  }
  return typeof value === 'string' ? parseInstant(value) : undefined;
}

/** The rule, as a validation message says it. */
export const INSTANT_RULE = 'must be an ISO date or datetime, e.g. 2024-01-31 or 2024-01-31T12:00:00Z (UTC when no offset)';

// ───────────────────────────── naive timestamps, read in a stated zone ─────────────────────────────

const WALL_TIME = /^(\d{4,})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/;
const zoneFormats = new Map<string, Intl.DateTimeFormat>();

/** The zone's offset from UTC (ms, east positive) at an instant, from the runtime's tz database (never the host's zone). */
function offsetAt(zone: string, epochMs: number): number {
  let format = zoneFormats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    zoneFormats.set(zone, format);
  }
  const parts: Record<string, number> = {};
  for (const p of format.formatToParts(new Date(epochMs))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const wall = Date.UTC(parts.year ?? 1970, (parts.month ?? 1) - 1, parts.day ?? 1, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0);
  return wall - (epochMs - (((epochMs % 1000) + 1000) % 1000));
}

/**
 * Epoch ms of a wall-clock time read in `zone` (`2024-03-10 02:30:00.123456` as Postgres writes a `timestamp without
 * time zone`); undefined for text that is not one (infinity, BC dates). As Postgres reads them: a time the zone skips
 * (a spring-forward gap) takes the offset before the change, a time it repeats (fall-back) the later (standard) one.
 */
export function wallTimeInZone(text: string, zone: string): number | undefined {
  const m = WALL_TIME.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  const millis = Math.floor(Number(`0.${m[7] ?? '0'}`) * 1000);
  const asUtc = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const before = offsetAt(zone, asUtc - DAY_MS);
  const after = offsetAt(zone, asUtc + DAY_MS);
  const readings = [asUtc - before, asUtc - after].filter((t) => asUtc - offsetAt(zone, t) === t);
  return readings.length === 0 ? asUtc - before : Math.max(...readings);
}

const DAY_MS = 86_400_000;

/** Whether the runtime knows `value` as a time zone name (IANA: `Europe/Berlin`, `UTC`, `Etc/GMT+3`). */
export function isTimeZone(value: string): boolean {
  if (value.trim() === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}
