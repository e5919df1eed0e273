/**
 * A strict parser of the Prometheus text exposition format (version 0.0.4), written from the format's description
 * (prometheus.io, "Exposition formats", text format details), for tests: it throws on anything the format does not
 * allow, and checks what a scraper relies on beyond the grammar: one HELP and one TYPE per family, before its
 * samples; a family's samples together; no series twice; a histogram's buckets rising to +Inf, which equals its
 * count. It reads what other processes wrote (the textfile, a Pushgateway push, `schedule`'s /metrics) and judges its
 * format, which prom-client's own JSON cannot: tests of values in this process read the registry's
 * `getMetricsAsJSON()` instead.
 */

export interface Sample {
  /** The sample's own name: the family's, or with _bucket / _sum / _count. */
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string | undefined;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export function parseMetrics(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const closed = new Set<string>();
  const series = new Set<string>();
  let current: Family | undefined;
  const fail = (n: number, line: string, why: string): never => {
    throw new Error(`line ${n}: ${why}: ${JSON.stringify(line)}`);
  };
  const family = (name: string): Family => {
    let f = families.get(name);
    if (!f) {
      f = { name, type: 'untyped', help: undefined, samples: [] };
      families.set(name, f);
    }
    if (current !== f) {
      if (current) closed.add(current.name);
      if (closed.has(name)) throw new Error(`metric family ${name} is split: its lines are not together`);
      current = f;
    }
    return f;
  };
  text.split('\n').forEach((line, i) => {
    const n = i + 1;
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (!m) return; // a comment
      const [, kind, name = '', rest = ''] = m;
      if (!NAME.test(name)) fail(n, line, 'bad metric name');
      const f = family(name);
      if (kind === 'HELP') {
        if (f.help !== undefined) fail(n, line, 'second HELP line');
        f.help = unescape(rest, false);
      } else {
        if (f.samples.length > 0) fail(n, line, 'TYPE after samples');
        if (f.type !== 'untyped' || !TYPES.has(rest.trim())) fail(n, line, 'second or unknown TYPE');
        f.type = rest.trim() as Family['type'];
      }
      return;
    }
    const sample = parseSample(line, n);
    const f = family(familyOf(sample.name, current));
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (series.has(key)) fail(n, line, 'the same series twice');
    series.add(key);
    f.samples.push(sample);
  });
  for (const f of families.values()) {
    if (f.help === undefined || f.type === 'untyped') throw new Error(`metric family ${f.name} has no HELP or TYPE line`);
    if (f.type === 'histogram') checkHistogram(f);
  }
  return families;
}

/** A histogram's _bucket/_sum/_count samples belong to the family being read. */
function familyOf(name: string, current: Family | undefined): string {
  if (current && (current.type === 'histogram' || current.type === 'summary')) {
    for (const suffix of ['_bucket', '_sum', '_count'])
      if (name === `${current.name}${suffix}` && (suffix !== '_bucket' || current.type === 'histogram')) return current.name;
  }
  return name;
}

function parseSample(line: string, n: number): Sample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?[ \t]+(\S+)(?:[ \t]+(-?\d+))?[ \t]*$/.exec(line);
  if (!m) throw new Error(`line ${n}: not a sample line: ${JSON.stringify(line)}`);
  const [, name = '', braces, raw = ''] = m;
  const value = parseValue(raw);
  if (value === undefined) throw new Error(`line ${n}: bad value ${raw}`);
  return { name, labels: braces ? parseLabels(braces.slice(1, -1), n) : {}, value };
}

function parseValue(raw: string): number | undefined {
  if (raw === 'NaN') return Number.NaN;
  if (raw === '+Inf') return Number.POSITIVE_INFINITY;
  if (raw === '-Inf') return Number.NEGATIVE_INFINITY;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw)) return undefined;
  return Number(raw);
}

function parseLabels(text: string, n: number): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new Error(`line ${n}: label without a value`);
    const name = text.slice(i, eq).trim();
    if (!LABEL.test(name)) throw new Error(`line ${n}: bad label name ${JSON.stringify(name)}`);
    if (name in labels) throw new Error(`line ${n}: label ${name} twice`);
    if (text[eq + 1] !== '"') throw new Error(`line ${n}: label value not quoted`);
    let j = eq + 2;
    let raw = '';
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === '\\') {
        raw += text.slice(j, j + 2);
        j++;
      } else raw += text[j];
    }
    if (j >= text.length) throw new Error(`line ${n}: unterminated label value`);
    labels[name] = unescape(raw, true);
    i = j + 1;
    if (text[i] === ',') i++;
    else if (i < text.length) throw new Error(`line ${n}: expected "," between labels`);
  }
  return labels;
}

/** Label values escape \\, \" and \n; HELP text escapes \\ and \n. Any other escape is an error. */
function unescape(raw: string, quotes: boolean): string {
  return raw.replace(/\\(.)/g, (_, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    if (c === '"' && quotes) return '"';
    throw new Error(`bad escape \\${c} in ${JSON.stringify(raw)}`);
  });
}

function checkHistogram(f: Family): void {
  const groups = new Map<string, { buckets: [number, number][]; count?: number; sum?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const g = groups.get(key) ?? { buckets: [] };
    groups.set(key, g);
    if (s.name === `${f.name}_bucket`) {
      const bound = le === undefined ? undefined : parseValue(le);
      if (bound === undefined) throw new Error(`histogram ${f.name}: a bucket without a valid le`);
      g.buckets.push([bound, s.value]);
    } else if (s.name === `${f.name}_count`) g.count = s.value;
    else if (s.name === `${f.name}_sum`) g.sum = s.value;
    else throw new Error(`histogram ${f.name}: sample ${s.name} does not belong`);
  }
  for (const [key, g] of groups) {
    g.buckets.sort((a, b) => a[0] - b[0]);
    let previous = 0;
    for (const [, v] of g.buckets) {
      if (v < previous) throw new Error(`histogram ${f.name}${key}: buckets do not rise`);
      previous = v;
    }
    const inf = g.buckets[g.buckets.length - 1];
    if (!inf || inf[0] !== Number.POSITIVE_INFINITY) throw new Error(`histogram ${f.name}${key}: no +Inf bucket`);
    if (g.count !== inf[1] || g.sum === undefined) throw new Error(`histogram ${f.name}${key}: _count is not the +Inf bucket, or _sum is missing`);
  }
}

/** The samples named `name` (a family's name, or a histogram's name_count / name_sum / name_bucket) whose labels include `labels`. */
export function samples(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): Sample[] {
  const family = families.get(name) ?? families.get(name.replace(/_(bucket|sum|count)$/, ''));
  if (!family) throw new Error(`no metric family for ${name}; there are: ${[...families.keys()].join(', ')}`);
  return family.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The value of the one sample that matches; throws when none or several do. */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const found = samples(families, name, labels);
  if (found.length !== 1) throw new Error(`${name}${JSON.stringify(labels)}: ${found.length} samples match`);
  return (found[0] as Sample).value;
}
