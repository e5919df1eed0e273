/** The results: one row per figure, written as test/bench/results.json and results.md, and printed. */
import { execFileSync } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { cpus, freemem, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

export interface Figure {
  scenario: string;
  figure: string;
  value: number;
  unit: string;
  /** e.g. "≥ 0.75"; empty for a figure reported without a target. */
  target: string;
  met: boolean | undefined;
  /** The measurements the figure is made of. */
  details?: Record<string, unknown>;
}

export const atLeast = (value: number, min: number): Pick<Figure, 'target' | 'met'> => ({ target: `≥ ${min}`, met: value >= min });
export const atMost = (value: number, max: number, unit = ''): Pick<Figure, 'target' | 'met'> => ({ target: `≤ ${max}${unit}`, met: value <= max });
export const noTarget: Pick<Figure, 'target' | 'met'> = { target: '', met: undefined };

export function machine(): Record<string, string> {
  const free = (() => {
    try {
      return execFileSync('free', ['-h'], { encoding: 'utf8' }).split('\n')[1]?.replace(/\s+/g, ' ').trim() ?? '';
    } catch {
      return `total ${(totalmem() / 2 ** 30).toFixed(1)}Gi free ${(freemem() / 2 ** 30).toFixed(1)}Gi`;
    }
  })();
  return {
    nproc: execFileSync('nproc', { encoding: 'utf8' }).trim(),
    cpu: cpus()[0]?.model ?? 'unknown',
    memory: free,
    node: process.version,
    postgres: execFileSync('psql', ['--version'], { encoding: 'utf8' }).trim(),
  };
}

const fmt = (n: number): string => (Number.isInteger(n) ? n.toLocaleString('en-US') : Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(2));

export function markdown(figures: readonly Figure[], meta: Record<string, unknown>): string {
  const lines = [
    '| scenario | figure | value | target | met? |',
    '| --- | --- | --- | --- | --- |',
    ...figures.map(
      (f) =>
        `| ${f.scenario} | ${f.figure} | ${fmt(f.value)}${f.unit ? ` ${f.unit}` : ''} | ${f.target} | ${f.met === undefined ? '' : f.met ? 'yes' : '**no**'} |`,
    ),
  ];
  const head = Object.entries(meta).map(([k, v]) => `- ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return `# personaclick-sync benchmark\n\n${head.join('\n')}\n\n${lines.join('\n')}\n`;
}

/** Write both files next to this module's source (test/bench/), each through a temporary file. */
export function writeResults(figures: readonly Figure[], meta: Record<string, unknown>): string {
  const dir = fileURLToPath(new URL('../../../test/bench/', import.meta.url));
  const md = markdown(figures, meta);
  for (const [name, text] of [
    ['results.json', `${JSON.stringify({ ...meta, figures }, null, 2)}\n`],
    ['results.md', md],
  ] as const) {
    writeFileSync(`${dir}${name}.tmp`, text);
    renameSync(`${dir}${name}.tmp`, `${dir}${name}`);
  }
  return md;
}
