/** From what happened to the process exit code of docs/operations.md. */
import { ApiUnavailableError, ConfigError, ExitCode, FatalApiError, LockedError } from '../errors.js';
import type { RunSummary } from '../run/summary.js';

export function exitCodeForError(error: Error): ExitCode {
  if (error instanceof ConfigError) return ExitCode.usage;
  if (error instanceof FatalApiError) return ExitCode.fatalApi;
  if (error instanceof ApiUnavailableError) return ExitCode.apiUnavailable;
  if (error instanceof LockedError) return ExitCode.locked;
  return ExitCode.failed;
}

export function exitCodeForRun(summary: RunSummary, signal: NodeJS.Signals | undefined): ExitCode {
  switch (summary.status) {
    case 'done':
      return ExitCode.ok;
    case 'fatal':
      return ExitCode.fatalApi;
    case 'halted':
      return ExitCode.apiUnavailable;
    case 'interrupted':
      return signal === 'SIGINT' ? ExitCode.sigint : ExitCode.sigterm;
    default:
      return summary.error ? exitCodeForError(summary.error) : ExitCode.failed;
  }
}
