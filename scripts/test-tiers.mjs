// @ts-check
/**
 * Runs tiers of the suite (the vitest projects of vitest.config.ts) one after another, on the Node line asked for,
 * and prints each tier's time, then the ten slowest tests of every tier run since `--fresh`.
 *
 *   node scripts/test-tiers.mjs [--fresh] [--node lts|current] TIER...
 *
 * --node lts      run vitest on the current LTS line (Node 26): this Node when it is that line, else the npm
 *                 registry's `node@26` package (npm exec brings its binary; nothing else is downloaded)
 * --node current  run vitest on the Node running this script (default)
 * --fresh         forget the results of earlier invocations (npm test starts with it; test:all's later steps add to it)
 *
 * Each tier's results go to test-results/<tier>.node<major>.json (a tier whose results are there already is not run
 * again without --fresh); the exit code is 1 when any tier failed (every tier
 * asked for runs all the same, so one run shows every failure).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The current LTS line, which the container runs. */
const LTS_MAJOR = 26;
/** Tiers made of more than one vitest project: the cli tier's timed files run after the rest of it, on their own. */
const PROJECTS = /** @type {Record<string, string[]>} */ ({ cli: ['cli', 'cli-timed'], faults: ['faults', 'faults-timed'] });
/**
 * Test files at once, by tier. vitest's default on this 2-core machine is one (the cores less one); the fast tier's
 * files and the faults' mostly wait (on Postgres, on child processes, on deadlines they prove), so two at a time halve
 * their wall time. The timed files still run alone after the rest (their projects' groupOrder).
 */
const WORKERS = /** @type {Record<string, number>} */ ({ fast: 2, faults: 2 });
const TIERS = ['fast', 'cli', 'faults', 'crash', 'browser', 'install', 'demo'];

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = join(ROOT, 'test-results');
const VITEST = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');

/** @param {string[]} argv */
function parseArgs(argv) {
  let fresh = false;
  let node = 'current';
  /** @type {string[]} */
  const tiers = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    if (arg === '--fresh') fresh = true;
    else if (arg === '--node') node = argv[(i += 1)] ?? '';
    else if (TIERS.includes(arg)) tiers.push(arg);
    else throw new Error(`test-tiers: unknown argument "${arg}"; tiers are ${TIERS.join(', ')}`);
  }
  if (node !== 'lts' && node !== 'current') throw new Error(`test-tiers: --node must be lts or current (got "${node}")`);
  if (tiers.length === 0) throw new Error(`test-tiers: name at least one tier of ${TIERS.join(', ')}`);
  return { fresh, node, tiers };
}

/** The node binary of the line asked for. */
function nodeBinary(/** @type {string} */ line) {
  if (line === 'current' || Number(process.versions.node.split('.')[0]) === LTS_MAJOR) return process.execPath;
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  return execFileSync(npm, ['exec', '--yes', `--package=node@${LTS_MAJOR}`, '--', 'node', '-p', 'process.execPath'], { cwd: ROOT, encoding: 'utf8' }).trim();
}

/**
 * @typedef {{ name: string, startTime: number, endTime: number, assertionResults: { title: string, fullName: string, status: string, duration?: number | null }[] }} FileResult
 * @typedef {{ numTotalTests: number, numFailedTests: number, numPassedTests: number, success: boolean, testResults: FileResult[] }} JsonReport
 */

function main() {
  const { fresh, node, tiers } = parseArgs(process.argv.slice(2));
  if (fresh) rmSync(RESULTS, { recursive: true, force: true });
  mkdirSync(RESULTS, { recursive: true });
  const binary = nodeBinary(node);
  const version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
  const major = version.replace(/^v/, '').split('.')[0] ?? '';
  /** @type {{ tier: string, seconds: number, ok: boolean, tests: string }[]} */
  const ran = [];
  for (const tier of tiers) {
    const out = join(RESULTS, `${tier}.node${major}.json`);
    // test:all's last step, the fast tier on the machine's Node, has nothing to add where that Node is the LTS line.
    if (!fresh && existsSync(out)) {
      console.log(`\ntest-tiers: ── ${tier} already ran on Node ${version} in this run`);
      continue;
    }
    const projects = (PROJECTS[tier] ?? [tier]).flatMap((p) => ['--project', p]);
    const workers = WORKERS[tier] === undefined ? [] : [`--maxWorkers=${WORKERS[tier]}`];
    console.log(`\ntest-tiers: ── ${tier} on Node ${version}`);
    const started = Date.now();
    const result = spawnSync(binary, [VITEST, 'run', ...projects, ...workers, '--reporter=default', '--reporter=json', `--outputFile.json=${out}`], {
      cwd: ROOT,
      stdio: 'inherit',
    });
    const seconds = (Date.now() - started) / 1000;
    const report = readReport(out);
    const ok = result.status === 0;
    ran.push({ tier, seconds, ok, tests: report ? `${report.numPassedTests}/${report.numTotalTests} passed` : 'no report' });
    console.log(`test-tiers: ── ${tier} on Node ${version} took ${seconds.toFixed(0)} s: ${ok ? 'passed' : 'FAILED'}`);
  }
  console.log(`\ntest-tiers: tiers on Node ${version}`);
  for (const r of ran) console.log(`  ${r.tier.padEnd(8)} ${`${r.seconds.toFixed(0)} s`.padStart(6)}  ${r.ok ? 'passed' : 'FAILED'}  ${r.tests}`);
  printSlowest();
  if (ran.some((r) => !r.ok)) process.exitCode = 1;
}

/** @returns {JsonReport | undefined} */
function readReport(/** @type {string} */ path) {
  try {
    const parsed = /** @type {unknown} */ (JSON.parse(readFileSync(path, 'utf8')));
    return /** @type {JsonReport} */ (parsed);
  } catch {
    return undefined;
  }
}

/** The ten slowest tests of every tier whose results are in test-results/. */
function printSlowest() {
  /** @type {{ ms: number, where: string, title: string }[]} */
  const tests = [];
  for (const file of readdirSync(RESULTS).filter((f) => f.endsWith('.json'))) {
    const report = readReport(join(RESULTS, file));
    for (const f of report?.testResults ?? []) {
      for (const a of f.assertionResults)
        tests.push({ ms: a.duration ?? 0, where: `${file.replace(/\.json$/, '')} ${f.name.replace(ROOT, '')}`, title: a.title });
    }
  }
  tests.sort((a, b) => b.ms - a.ms);
  console.log('\ntest-tiers: the ten slowest tests');
  for (const t of tests.slice(0, 10)) console.log(`  ${`${(t.ms / 1000).toFixed(1)} s`.padStart(8)}  ${t.where}: ${t.title.slice(0, 100)}`);
}

main();
