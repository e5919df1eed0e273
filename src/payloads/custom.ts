/** A purchase's `custom` order properties: strings, integers and YYYY-MM-DD dates under non-reserved keys. */
import { parseJsonColumn } from './fields.js';
import { fail, failPlain, isAbsent } from './reason.js';
import { CUSTOM_VALUE, customKeyProblem, customValueRule, isRecord } from './rules.js';
import type { Check, JsonObject } from './types.js';

const OBJECT = 'must be a JSON object';

/** A Date as `YYYY-MM-DD` when it has no time of day in UTC, else undefined. */
function dateOnly(value: Date): string | undefined {
  const ms = value.getTime();
  if (Number.isNaN(ms) || ms % 86_400_000 !== 0) return undefined;
  return value.toISOString().slice(0, 10);
}

function customValue(key: string, value: unknown): Check<string | number> {
  const field = `custom.${key}`;
  if (value instanceof Date) {
    const day = dateOnly(value);
    return day === undefined
      ? fail(field, 'has a time of day in UTC: send a YYYY-MM-DD date', value)
      : { ok: true, value: day };
  }
  const json = typeof value === 'bigint' && Number.isSafeInteger(Number(value)) ? Number(value) : value;
  const problem = customValueRule(json);
  if (problem !== undefined) return fail(field, problem, value);
  return typeof json === 'string' || typeof json === 'number' ? { ok: true, value: json } : fail(field, CUSTOM_VALUE, value);
}

/** The `custom` column (a json object or its JSON text): null/blank values dropped, empty → undefined. */
export function customProperties(column: unknown): Check<JsonObject | undefined> {
  const parsed = parseJsonColumn(column, 'custom', OBJECT);
  if (!parsed.ok) return parsed;
  if (parsed.value === undefined || parsed.value === null) return { ok: true, value: undefined };
  if (!isRecord(parsed.value)) return fail('custom', OBJECT, column);
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(parsed.value)) {
    if (isAbsent(value)) continue;
    const keyProblem = customKeyProblem(key);
    if (keyProblem !== undefined) return failPlain(key.trim() === '' ? 'custom' : `custom.${key}`, keyProblem);
    const checked = customValue(key, value);
    if (!checked.ok) return checked;
    out[key] = checked.value;
  }
  return { ok: true, value: Object.keys(out).length > 0 ? out : undefined };
}
