/** Errors shared by every stage. Each caught value is normalised with `toError` before anything else looks at it. */

/** Turn anything thrown into an Error, keeping the original as `cause` when it was not one. */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  if (typeof value === 'string') return new Error(value);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return new Error(`non-error thrown: ${text}`, { cause: value });
}

/** The process exit codes of DESIGN.md, in one place. */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  fatalApi: 3,
  apiUnavailable: 4,
  locked: 75,
  sigint: 130,
  sigterm: 143,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Bad configuration or bad command-line usage: exit 2. `problems` holds one line per broken rule. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly string[];
  constructor(message: string, problems: readonly string[] = []) {
    super(problems.length > 0 ? `${message}\n${problems.map((p) => `  - ${p}`).join('\n')}` : message);
    this.problems = problems;
  }
}

/** The class a failed request falls into; decided by `classifyStatus` in delivery/classify.ts. */
export type FailureClass = 'invalid' | 'rejected' | 'transient' | 'fatal';

/** One API answer that was not a success (or a network failure on the way to one). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly failureClass: Exclude<FailureClass, 'invalid'>,
    /** The response body, trimmed to a few hundred characters. */
    readonly body: string,
    /** Milliseconds the server asked us to wait (Retry-After), if it said. */
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  get retryable(): boolean {
    return this.failureClass === 'transient';
  }
}

/** The run must stop: the API refused the shop (401/403). Exit 3. */
export class FatalApiError extends Error {
  override readonly name = 'FatalApiError';
  override readonly cause: ApiError;
  constructor(answer: ApiError) {
    super(`PersonaClick refused the shop (HTTP ${answer.status ?? '?'}): ${answer.message}`, { cause: answer });
    this.cause = answer;
  }
}

/** Retries ran out on a transient failure: the run halts before the undelivered rows. Exit 4. */
export class ApiUnavailableError extends Error {
  override readonly name = 'ApiUnavailableError';
  override readonly cause: Error;
  constructor(last: Error) {
    super(`PersonaClick stayed unavailable after every retry: ${last.message}`, { cause: last });
    this.cause = last;
  }
}

/** Another runner holds this job's lock. Exit 75. */
export class LockedError extends Error {
  override readonly name = 'LockedError';
}

export function trimBody(body: string, max = 300): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
