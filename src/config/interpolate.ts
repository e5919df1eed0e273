/**
 * `${VAR}` and `${VAR:-default}` inside the string values of the parsed YAML (never in keys, never across
 * values), replaced from the environment. `$${` is a literal `${`. `${VAR:-default}` takes the default
 * when VAR is unset or empty (as the shell does); `${VAR}` with VAR unset is a problem, reported with the
 * dotted key it sits under. The default runs to the first `}` and cannot itself hold a `${...}`.
 */

export type KeyPath = readonly (string | number)[];

export interface InterpolationProblem {
  path: KeyPath;
  message: string;
}

export interface Interpolated {
  value: unknown;
  problems: InterpolationProblem[];
}

const REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

/** Replace references in one string. */
export function interpolateString(text: string, env: NodeJS.ProcessEnv): { value: string; problems: string[] } {
  const problems: string[] = [];
  let out = '';
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, dollar);
    if (text.startsWith('$${', dollar)) {
      out += '${';
      i = dollar + 3;
      continue;
    }
    if (!text.startsWith('${', dollar)) {
      out += '$';
      i = dollar + 1;
      continue;
    }
    const close = text.indexOf('}', dollar + 2);
    if (close < 0) {
      problems.push('unterminated "${" (write "$${" for a literal "${")');
      out += text.slice(dollar);
      break;
    }
    const body = text.slice(dollar + 2, close);
    const m = REFERENCE.exec(body);
    const name = m?.[1];
    const fallback = m?.[2];
    if (!m || name === undefined) {
      problems.push(`"\${${body}}" is not a reference: write \${NAME} or \${NAME:-default} ("$\${" for a literal "\${")`);
      out += text.slice(dollar, close + 1);
    } else if (fallback !== undefined && fallback.includes('${')) {
      problems.push(`"\${${body}}": a default cannot hold another \${...} reference`);
      out += text.slice(dollar, close + 1);
    } else {
      const value = env[name];
      if (fallback !== undefined && (value === undefined || value === '')) out += fallback;
      else if (value !== undefined) out += value;
      else {
        problems.push(`environment variable ${name} is not set`);
        out += text.slice(dollar, close + 1);
      }
    }
    i = close + 1;
  }
  return { value: out, problems };
}

/**
 * Walk parsed YAML: interpolate every string value. Mapping entries whose value is null (a key written
 * with nothing after it) are dropped, so they read as "not set" and take their default.
 */
export function interpolate(value: unknown, env: NodeJS.ProcessEnv): Interpolated {
  const problems: InterpolationProblem[] = [];
  const walk = (node: unknown, path: KeyPath): unknown => {
    if (typeof node === 'string') {
      const result = interpolateString(node, env);
      for (const message of result.problems) problems.push({ path, message });
      return result.value;
    }
    if (Array.isArray(node)) return node.map((item, index) => walk(item, [...path, index]));
    if (isPlainObject(node)) {
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(node)) {
        if (child === null || child === undefined) continue;
        out[key] = walk(child, [...path, key]);
      }
      return out;
    }
    return node;
  };
  return { value: walk(value, []), problems };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
