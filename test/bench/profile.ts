/**
 * `node dist/test/bench/profile.js <file.cpuprofile> [top]`: where a connector run (BENCH_PROFILE=<dir>) spent its
 * CPU: self time by function and by package/file, and total (inclusive) time of the connector's own functions.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topText] = process.argv.slice(2);
if (file === undefined) throw new Error('usage: profile.js <file.cpuprofile> [top]');
const top = Number(topText ?? '25');
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);

const where = (n: ProfileNode): string => {
  const url = n.callFrame.url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, '$1/');
  return url === '' ? '(native)' : url;
};
const fn = (n: ProfileNode): string => `${n.callFrame.functionName || '(anonymous)'} ${where(n)}:${n.callFrame.lineNumber + 1}`;
const area = (n: ProfileNode): string => {
  const url = where(n);
  const pkg = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  return pkg?.[1] ?? (url.startsWith('dist/') ? url : url.startsWith('node:') ? 'node core' : n.callFrame.functionName || url);
};

/** What a sample was doing: the innermost frame on its stack that belongs to one of these. */
const CONCERNS: [RegExp, string][] = [
  [/dist\/src\/delivery\/client|node_modules\/undici/, 'HTTP client (undici)'],
  [/dist\/src\/delivery\/(queue|rate-gate)|p-queue|p-retry|eventemitter3/, 'delivery queue (p-queue, p-retry)'],
  [/dist\/src\/payloads|node_modules\/zod/, 'building requests (payloads, zod, sha256)'],
  [/dist\/src\/source|node_modules\/(pg|postgres-)/, 'reading the source (pg)'],
  [/dist\/src\/(state|run|cli)|dist\/jobs|node_modules\/(knex|pino)/, 'run, books and logs (runner, state, knex, pino)'],
];
function concern(id: number): string {
  const name = byId.get(id)?.callFrame.functionName ?? '';
  if (name === '(garbage collector)' || name === '(idle)' || name === '(program)') return name;
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const url = byId.get(cur)?.callFrame.url ?? '';
    const hit = CONCERNS.find(([pattern]) => pattern.test(url));
    if (hit) return hit[1];
  }
  return 'other (node core, module loading)';
}

function table(title: string, key: (n: ProfileNode) => string, inclusive: boolean): void {
  const sums = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = inclusive ? parent.get(cur) : undefined) {
      const node = byId.get(cur);
      if (!node) break;
      const k = key(node);
      if (!seen.has(k) && (!inclusive || k.includes('dist/'))) sums.set(k, (sums.get(k) ?? 0) + us);
      seen.add(k);
    }
  }
  console.log(`\n${title}`);
  for (const [k, us] of [...sums].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((100 * us) / totalUs).toFixed(1).padStart(6)} %  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
  }
}

console.log(`${file}: ${(totalUs / 1000).toFixed(0)} ms sampled`);
const byConcern = new Map<string, number>();
for (const [id, us] of selfUs) byConcern.set(concern(id), (byConcern.get(concern(id)) ?? 0) + us);
console.log('\nself time by concern');
for (const [k, us] of [...byConcern].sort((a, b) => b[1] - a[1]))
  console.log(`${((100 * us) / totalUs).toFixed(1).padStart(6)} %  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
table('self time by package / file', area, false);
table('self time by function', fn, false);
table("total time of the connector's functions (dist/)", fn, true);
