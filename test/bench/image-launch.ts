/**
 * BENCH_LAUNCH=image: run the connector as the image runs it, with node's flags from the Dockerfile's ENTRYPOINT and
 * the runtime stage's ENV (read from the Dockerfile itself, so the figures are those of what ships). Unset: `node
 * dist/src/cli.js` with no flag, as `npx personaclick-sync` runs it on the machine's Node.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const DOCKERFILE = fileURLToPath(new URL('../../../Dockerfile', import.meta.url));

export interface Launch {
  /** `image` or `plain`, for the results' header. */
  name: string;
  nodeFlags: string[];
  env: Record<string, string>;
}

/** The ENTRYPOINT's words between `node` and the script, and the last stage's `ENV NAME=value` lines. */
export function imageLaunch(dockerfile: string): Launch {
  const stages = dockerfile.split(/^FROM /m);
  const runtime = stages[stages.length - 1] ?? '';
  const entry = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(runtime)?.[1];
  if (entry === undefined) throw new Error('BENCH_LAUNCH=image: the Dockerfile has no ENTRYPOINT in exec form');
  const words = JSON.parse(entry) as string[];
  const node = words.indexOf('node');
  const script = words.findIndex((w) => w.endsWith('/cli.js'));
  if (node < 0 || script < node) throw new Error(`BENCH_LAUNCH=image: cannot read node and its script in ENTRYPOINT ${entry}`);
  const env: Record<string, string> = {};
  for (const m of runtime.matchAll(/^ENV\s+([A-Za-z_][A-Za-z0-9_]*)=(\S+)\s*$/gm)) if (m[1] !== undefined && m[2] !== undefined) env[m[1]] = m[2];
  return { name: 'image', nodeFlags: words.slice(node + 1, script), env };
}

/** How the bench launches the connector (BENCH_LAUNCH: plain, the default, or image). */
export function benchLaunch(): Launch {
  const wanted = process.env.BENCH_LAUNCH ?? 'plain';
  if (wanted === 'plain') return { name: 'plain', nodeFlags: [], env: {} };
  if (wanted === 'image') return imageLaunch(readFileSync(DOCKERFILE, 'utf8'));
  throw new Error(`BENCH_LAUNCH must be plain or image (got "${wanted}")`);
}
