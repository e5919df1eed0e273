/**
 * Read the YAML file, interpolate the environment, validate once. Every problem is reported at once, one
 * line each: `<dotted.key>: <rule> (got <value>)`, with URLs' passwords masked in what is shown.
 */
import { readFileSync } from 'node:fs';
import { parseDocument, visit } from 'yaml';
import type { z } from 'zod';
import { ConfigError, toError } from '../errors.js';
import { interpolate, isPlainObject, type KeyPath } from './interpolate.js';
import { configSchema, KNOWN_KEYS, type Config } from './schema.js';
import { redactUrl } from './secrets.js';

export const DEFAULT_CONFIG_PATH = 'config/personaclick-sync.yaml';
export const CONFIG_PATH_ENV = 'PERSONACLICK_SYNC_CONFIG';

export interface LoadConfigOptions {
  /** The file; default $PERSONACLICK_SYNC_CONFIG, else config/personaclick-sync.yaml. */
  path?: string | undefined;
  /** Where `${VAR}` come from; default process.env. */
  env?: NodeJS.ProcessEnv | undefined;
  /** YAML source to use instead of reading a file (tests, the demo). `path`, if given, only labels it. */
  text?: string | undefined;
}

/** The file `loadConfig` reads for these options. */
export function resolveConfigPath(opts: { path?: string | undefined; env?: NodeJS.ProcessEnv | undefined } = {}): string {
  const env = opts.env ?? process.env;
  const fromEnv = env[CONFIG_PATH_ENV];
  return opts.path ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_CONFIG_PATH);
}

export function loadConfig(opts: LoadConfigOptions = {}): Config {
  const env = opts.env ?? process.env;
  let label: string;
  let text: string;
  if (opts.text !== undefined) {
    label = opts.path ?? '<inline config>';
    text = opts.text;
  } else {
    label = resolveConfigPath({ ...opts, env });
    text = readConfigFile(label);
  }
  return parseConfig(parseYaml(text, label), env, label);
}

function readConfigFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (caught) {
    const error = toError(caught);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new ConfigError(`Config file not found: ${path} (set --config or ${CONFIG_PATH_ENV})`);
    }
    throw new ConfigError(`Cannot read config file ${path}: ${error.message}`);
  }
}

/** YAML text → plain data; syntax errors become a ConfigError with line and column of each. */
export function parseYaml(text: string, label: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((error) => {
      const pos = error.linePos?.[0];
      const where = pos ? `line ${pos.line}, column ${pos.col}: ` : '';
      const reason = (error.message.split('\n')[0] ?? error.message).replace(/ at line \d+, column \d+:?$/, '');
      return `${where}${reason}`;
    });
    throw new ConfigError(`YAML syntax error in ${label}`, problems);
  }
  // A plain scalar YAML reads as a number but whose text a number cannot give back (`shopId: 0042`,
  // `123e45`, `0x1F`) stays the text as written: string keys get it exactly, numeric keys coerce it.
  visit(doc, {
    Scalar(_, node) {
      if (typeof node.value === 'number' && node.type === 'PLAIN' && node.source !== undefined && String(node.value) !== node.source) {
        node.value = node.source;
      }
    },
  });
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (caught) {
    throw new ConfigError(`YAML error in ${label}`, [toError(caught).message]);
  }
}

/**
 * Validate already-parsed YAML (after `${VAR}` interpolation from `env`) and resolve defaults.
 * Throws ConfigError('Invalid configuration in <label>', problems) listing every problem.
 */
export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env, label = '<config>'): Config {
  const invalid = (problems: string[]) => new ConfigError(`Invalid configuration in ${label}`, problems);
  if (raw === null || raw === undefined) {
    throw invalid(['the file is empty: it needs at least the sections personaclick, source and jobs']);
  }
  if (!isPlainObject(raw)) {
    throw invalid([`(top level): must be a mapping of sections (personaclick, source, jobs, ...) (got ${describeValue(raw, [])})`]);
  }

  const { value, problems: envProblems } = interpolate(raw, env);
  const result = configSchema.safeParse(value, { error: defaultMessage });
  const issues = result.success ? [] : result.error.issues;

  const unknownKeys: string[][] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') for (const key of issue.keys) unknownKeys.push([...issue.path.map(String), key]);
  }
  const under = (path: KeyPath, prefix: readonly string[]) => prefix.every((key, i) => String(path[i]) === key);

  const lines: string[] = [];
  const envPaths = new Set<string>();
  for (const problem of envProblems) {
    if (unknownKeys.some((key) => under(problem.path, key))) continue; // "unknown key" says enough
    envPaths.add(dotted(problem.path));
    lines.push(`${dotted(problem.path)}: ${problem.message}`);
  }
  for (const issue of issues) {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) lines.push(`${dotted([...path, key])}: unknown key${suggestion(path, key)}`);
      continue;
    }
    if (envPaths.has(dotted(path))) continue; // the unset variable is the problem, not its placeholder
    const got = lookup(value, path);
    if (got === undefined) {
      lines.push(`${dotted(path)}: ${issue.code === 'invalid_type' ? 'is required' : issue.message}`);
    } else {
      lines.push(`${dotted(path)}: ${issue.message} (got ${describeValue(got, path)})`);
    }
  }
  if (lines.length > 0 || !result.success) throw invalid([...new Set(lines)]);
  return result.data;
}

/** Messages for what the schema leaves to zod: wrong types and unknown keys. */
const defaultMessage: z.core.$ZodErrorMap = (issue) => {
  if (issue.code === 'invalid_type') {
    if (issue.expected === 'object') return 'must be a mapping of keys';
    return `must be a ${issue.expected}`;
  }
  if (issue.code === 'unrecognized_keys') return 'unknown key';
  return undefined;
};

function dotted(path: KeyPath): string {
  return path.length === 0 ? '(top level)' : path.map(String).join('.');
}

function lookup(root: unknown, path: readonly string[]): unknown {
  let node = root;
  for (const key of path) {
    if (Array.isArray(node)) node = node[Number(key)];
    else if (isPlainObject(node)) node = node[key];
    else return undefined;
  }
  return node;
}

const MAX_SHOWN = 60;

/** A value as shown after "got": strings quoted, trimmed in the middle, passwords masked. */
function describeValue(value: unknown, path: KeyPath): string {
  if (typeof value === 'string') {
    const last = path.at(-1);
    // A secret, a password, a token; a webhook URL whose path is its token: never shown, whatever is wrong with it.
    if (typeof last === 'string' && /secret|password|token|webhook/i.test(last)) return '"***"';
    let text = redactUrl(value).replace(/\s+/g, ' ').trim();
    if (text.length > MAX_SHOWN) text = `${text.slice(0, 40)}…${text.slice(-(MAX_SHOWN - 41))}`;
    return JSON.stringify(text);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (value instanceof Date) return value.toISOString();
  if (isPlainObject(value)) return Object.keys(value).length === 0 ? 'an empty mapping' : 'a mapping';
  return typeof value;
}

/** " (did you mean itemsQuery?)" for a misspelt or snake_cased key, else "". */
function suggestion(parent: readonly string[], key: string): string {
  const known = KNOWN_KEYS[parent.join('.')];
  if (!known) return '';
  const norm = (s: string) => s.toLowerCase().replace(/[-_\s]/g, '');
  const exact = known.find((k) => norm(k) === norm(key));
  if (exact !== undefined) return ` (did you mean ${exact}?)`;
  let best: { key: string; distance: number } | undefined;
  for (const k of known) {
    const distance = editDistance(norm(k), norm(key));
    if (distance <= 2 && distance < key.length / 2 && (best === undefined || distance < best.distance)) best = { key: k, distance };
  }
  return best ? ` (did you mean ${best.key}?)` : '';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
