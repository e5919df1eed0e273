/**
 * The sandbox's own way of checking a JSON request, independent of the connector's schemas: a
 * `Check` looks at one value found at a path and answers the refusal reason
 * (`<path>: <what the docs ask> (got <value>)`), or undefined when the value passes. Objects are
 * checked against a `Shape` (field → required or not, and its check); a field the shape does not
 * name is refused, so that a misspelt field, which the real API would drop in silence, shows up.
 */

export type Check = (value: unknown, path: string) => string | undefined;

export interface Field {
  required: boolean;
  check: Check;
}
export type Shape = Readonly<Record<string, Field>>;

export const must = (check: Check): Field => ({ required: true, check });
export const may = (check: Check): Field => ({ required: false, check });

export type JsonObject = Record<string, unknown>;

export const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

const SHOWN = 40;

/** A value as a reason quotes it: its JSON, cut short. */
export function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value);
  return json.length > SHOWN ? `${json.slice(0, SHOWN)}…` : json;
}

/** `items` + `id` → `items.id`; the body itself has the empty path. */
export const at = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`);

/** A check from a test and the rule it stands for, as the reason will state it. */
export const rule =
  (test: (value: unknown) => boolean, says: string): Check =>
  (value, path) =>
    test(value) ? undefined : `${path}: ${says} (got ${shown(value)})`;

/** An object with exactly the fields of `shape` (`what` names it in reasons: `a "view" request`). */
export function shaped(shape: Shape, what: string): Check {
  const fields = Object.entries(shape);
  return (value, path) => {
    if (!isObject(value)) return `${path || 'body'}: must be a JSON object, ${what} (got ${shown(value)})`;
    for (const key in value) {
      if (!Object.hasOwn(shape, key)) return `${at(path, key)}: is not a field of ${what}`;
    }
    for (const [key, field] of fields) {
      const fieldValue = value[key];
      if (fieldValue === undefined) {
        if (field.required) return `${at(path, key)}: is required in ${what}`;
        continue;
      }
      const problem = field.check(fieldValue, at(path, key));
      if (problem !== undefined) return problem;
    }
    return undefined;
  };
}

/** An array of `min`..`max` elements, each passing `element` (checked at `path[i]`). */
export function listOf(element: Check, min: number, max = Number.POSITIVE_INFINITY, hint = ''): Check {
  const size = max === min ? `exactly ${min}` : max === Number.POSITIVE_INFINITY ? `at least ${min}` : `${min} to ${max}`;
  const says = `must be an array of ${size} item${Math.min(min, max) > 1 ? 's' : ''}${hint}`;
  return (value, path) => {
    if (!Array.isArray(value) || value.length < min || value.length > max) {
      return `${path}: ${says} (got ${Array.isArray(value) ? `${value.length} items` : shown(value)})`;
    }
    for (const [i, item] of value.entries()) {
      const problem = element(item, `${path}[${i}]`);
      if (problem !== undefined) return problem;
    }
    return undefined;
  };
}
