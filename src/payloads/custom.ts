/**
 * A purchase's `custom` order properties: strings, integers and YYYY-MM-DD dates under non-reserved keys. A bad key
 * or value leaves that key out, a column that is not an object leaves `custom` out, each with a warning (policy.ts).
 */
import { parseJsonColumn } from './fields.js';
import { keep, tolerate } from './policy.js';
import { fail, isAbsent } from './reason.js';
import { CUSTOM_VALUE, customKeyProblem, customValueRule, isRecord } from './rules.js';
import type { BuildWarning, Check, JsonObject } from './types.js';

const OBJECT = 'must be a JSON object';

/** A Date as `YYYY-MM-DD` when it has no time of day in UTC, else undefined. */
function dateOnly(value: Date): string | undefined {
  const ms = value.getTime();
  if (Number.isNaN(ms) || ms % 86_400_000 !== 0) return undefined;
  return value.toISOString().slice(0, 10);
}

/**
 * One value: a Date from a Postgres `date` column is a date; a string that is exactly YYYY-MM-DD is a date (and must
 * be a real one); any other string goes out as it is; integers as numbers.
 */
function customValue(value: unknown, field: string): Check<string | number> {
  if (value instanceof Date) {
    const day = dateOnly(value);
    return day === undefined ? fail(field, 'has a time of day in UTC: give a date (or text) for it', value) : { ok: true, value: day };
  }
  const json = typeof value === 'bigint' && Number.isSafeInteger(Number(value)) ? Number(value) : value;
  const problem = customValueRule(json);
  if (problem !== undefined) return fail(field, problem, value);
  return typeof json === 'string' || typeof json === 'number' ? { ok: true, value: json } : fail(field, CUSTOM_VALUE, value);
}

function customObject(column: unknown, field: string): Check<Record<string, unknown> | undefined> {
  const parsed = parseJsonColumn(column, field, OBJECT);
  if (!parsed.ok) return parsed;
  if (parsed.value === undefined || parsed.value === null) return { ok: true, value: undefined };
  return isRecord(parsed.value) ? { ok: true, value: parsed.value } : fail(field, OBJECT, column);
}

/** The `custom` column (a json object or its JSON text): null/blank values dropped, empty → undefined. */
export function customProperties(column: unknown, warnings: BuildWarning[] = []): Check<JsonObject | undefined> {
  const object = keep(warnings, 'custom', column, customObject);
  if (!object.ok) return object;
  if (object.value === undefined) return { ok: true, value: undefined };
  const out: JsonObject = {};
  let kept = 0;
  for (const [key, value] of Object.entries(object.value)) {
    if (isAbsent(value)) continue;
    const field = key.trim() === '' ? `custom.${JSON.stringify(key)}` : `custom.${key}`;
    const keyProblem = customKeyProblem(key);
    if (keyProblem !== undefined) {
      const left = tolerate(warnings, field, value, `${field}: ${keyProblem}`);
      if (!left.ok) return left;
      continue;
    }
    const checked = keep(warnings, field, value, customValue);
    if (!checked.ok) return checked;
    if (checked.value === undefined) continue;
    out[key] = checked.value;
    kept += 1;
  }
  return { ok: true, value: kept > 0 ? out : undefined };
}
