/**
 * vitest globalSetup of the tiers that run the built CLI: dist/ must be as new as the sources it is built from, or a
 * test would judge yesterday's code. When any source (src/, jobs/, migrations/, the tsconfigs, package.json) is newer
 * than dist/src/cli.js, or dist/ is missing, it builds (`tsc -p tsconfig.build.json`) before the first test runs.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BUILT = join(ROOT, 'dist', 'src', 'cli.js');
const SOURCES = ['src', 'jobs', 'migrations'];
const FILES = ['tsconfig.json', 'tsconfig.build.json', 'package.json'];

function newestIn(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestIn(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** The mtime of the newest source, and of the build (0 when there is none). */
export function buildAge(): { sources: number; built: number } {
  const sources = Math.max(...SOURCES.map((d) => newestIn(join(ROOT, d))), ...FILES.map((f) => statSync(join(ROOT, f)).mtimeMs));
  return { sources, built: existsSync(BUILT) ? statSync(BUILT).mtimeMs : 0 };
}

export default function setup(): void {
  const { sources, built } = buildAge();
  if (built >= sources) return;
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' });
  if (buildAge().built < sources) throw new Error(`dist/ is still older than the sources after building: run npm run build and look at its errors`);
}
