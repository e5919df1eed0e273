/**
 * A production install as a child process sees it: `npm ci --omit=dev` (the container image) leaves every
 * devDependency of package.json out. `withoutDevDependencies` gives the environment of a CLI child process in which
 * every one of them is unresolvable, the way it is there, and each attempt to import one is written to a file.
 */
import { readFileSync } from 'node:fs';

const PACKAGE_JSON = new URL('../../package.json', import.meta.url);

/** The names under `devDependencies` of package.json. */
export function devDependencies(): string[] {
  const manifest = JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { devDependencies?: Record<string, string> };
  return Object.keys(manifest.devDependencies ?? {});
}

/**
 * A resolve hook, as JavaScript the child loads through `--import`: a bare specifier naming a blocked package (or a
 * path inside it) fails as a missing package does (ERR_MODULE_NOT_FOUND), after appending the specifier to the log.
 * `module.registerHooks` (in-thread) where Node has it, `module.register` (Node 20) otherwise.
 */
function hookModule(blocked: readonly string[], logPath: string): string {
  const hook = `function resolve(specifier, context, next) {
    if (BLOCKED.some((name) => specifier === name || specifier.startsWith(name + '/'))) {
      appendFileSync(LOG, specifier + '\\n');
      const error = new Error("Cannot find package '" + specifier + "' imported from " + context.parentURL);
      error.code = 'ERR_MODULE_NOT_FOUND';
      throw error;
    }
    return next(specifier, context);
  }`;
  const preamble = `import { appendFileSync } from 'node:fs'; const BLOCKED = ${JSON.stringify(blocked)}; const LOG = ${JSON.stringify(logPath)};`;
  const offThread = `${preamble} export async ${hook}`;
  return `${preamble} import * as mod from 'node:module'; ${hook}
    if (typeof mod.registerHooks === 'function') mod.registerHooks({ resolve });
    else mod.register(${JSON.stringify(dataUrl(offThread))});`;
}

function dataUrl(source: string): string {
  return `data:text/javascript,${encodeURIComponent(source)}`;
}

/** Environment for `runCli`: every devDependency unresolvable; attempts appended to `logPath` (one specifier a line). */
export function withoutDevDependencies(logPath: string): NodeJS.ProcessEnv {
  return { NODE_OPTIONS: `--import=${dataUrl(hookModule(devDependencies(), logPath))}` };
}
