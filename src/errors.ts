/** Errors shared by every stage. Each caught value is normalised with `toError` before anything else looks at it. */
import { storableText } from './storable-text.js';

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

/** The process exit codes of docs/operations.md, in one place. */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  fatalApi: 3,
  apiUnavailable: 4,
  /** report --verify: PersonaClick is missing orders read back, or holds them different. */
  mismatch: 5,
  locked: 75,
  sigint: 130,
  sigterm: 143,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Bad configuration or bad command-line usage: exit 2. `problems` holds one line per broken rule. */
export class ConfigError extends Error {
  override readonly name: string = 'ConfigError';
  readonly problems: readonly string[];
  constructor(message: string, problems: readonly string[] = []) {
    super(problems.length > 0 ? `${message}\n${problems.map((p) => `  - ${p}`).join('\n')}` : message);
    this.problems = problems;
  }
}

/**
 * A SQL model whose shape breaks its contract (a required column missing, a key it gives twice): exit 2, like bad
 * config. A run stops on it before sending anything of what it read; it is never filed as data.
 */
export class ModelError extends ConfigError {
  override readonly name = 'ModelError';
}

/** The class a failed request falls into; decided by `classifyStatus` in delivery/classify.ts. */
export type FailureClass = 'invalid' | 'rejected' | 'transient' | 'fatal';

/**
 * The failure classes `replay --class` takes: the kept failures (`invalid`, `rejected`), a delivery that left fields
 * out (`warning`), a delivered order `report --verify` found missing or different at PersonaClick (`unconfirmed`), and
 * an order kept back until the shop secret is set (`held`).
 */
export const REPLAY_CLASSES = ['invalid', 'rejected', 'warning', 'unconfirmed', 'held'] as const;
export type ReplayClass = (typeof REPLAY_CLASSES)[number];

/** One API answer that was not a success (or a network failure on the way to one). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  /** The answer was a redirect: the configured URL is wrong (the message names where it points). */
  readonly redirect: boolean;
  /** The request path it answered (`/push`, `/sync/orders`, …), when known. */
  readonly path: string | undefined;
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly failureClass: Exclude<FailureClass, 'invalid'>,
    /** The response body, trimmed to a few hundred characters. */
    readonly body: string,
    /** Milliseconds the server asked us to wait (Retry-After), if it said. */
    readonly retryAfterMs?: number,
    options?: { cause?: unknown; redirect?: boolean; path?: string },
  ) {
    super(message, options);
    this.redirect = options?.redirect ?? false;
    this.path = options?.path;
  }
  get retryable(): boolean {
    return this.failureClass === 'transient';
  }
}

/** Paths that carry the shop secret: a refusal there may be of the secret. */
const SECRET_PATHS = /^\/(sync\/orders|orders\/|import\/)/;

/**
 * One line for a refused shop, naming the setting to look at, with the status said once: an unknown shop (404) names
 * personaclick.shopId, a refused secret (401/403 on a path that carries it, its message about the secret)
 * personaclick.shopSecret, any other 401/403 the shop id and the account.
 */
export function refusalLine(answer: ApiError): string {
  const status = answer.status ?? '?';
  if (answer.status !== undefined && answer.status >= 200 && answer.status < 300) {
    // A batch answered 2xx with a non-success status (classify.ts, NON_SUCCESS_BODY_RULES): the request is refused.
    const detail = answer.message.replace(/^HTTP \d+ with /, '');
    return (
      `PersonaClick refused a batch on ${answer.path ?? 'an import path'} (HTTP ${status} with ${detail}): a batch is checked only after it is queued, so this refuses the request, not its records; ` +
      'check personaclick.shopId and personaclick.shopSecret, and that the shop is active in the account. Nothing of it was filed: the next run sends it again'
    );
  }
  const detail = answer.message.replace(/^(GET |POST )?(\/[\w/]+: )?HTTP \d+:\s*/, '');
  const on = answer.path === undefined ? '' : ` on ${answer.path}`;
  if (answer.status === 404) return `PersonaClick does not know the shop (HTTP 404${on}: ${detail}): check personaclick.shopId`;
  if (answer.path !== undefined && SECRET_PATHS.test(answer.path) && /secret/i.test(detail)) {
    return `PersonaClick refused the shop secret (HTTP ${status}${on}: ${detail}): check personaclick.shopSecret`;
  }
  return `PersonaClick refused the shop (HTTP ${status}): ${detail}; check personaclick.shopId${answer.path !== undefined && SECRET_PATHS.test(answer.path) ? ' and personaclick.shopSecret' : ''}, and that the shop is active in the account`;
}

/** The run must stop: the API refused the shop (401/403) or does not know it (404). Exit 3. */
export class FatalApiError extends Error {
  override readonly name: string = 'FatalApiError';
  override readonly cause: ApiError;
  constructor(answer: ApiError, message = refusalLine(answer)) {
    super(message, { cause: answer });
    this.cause = answer;
  }
}

/** The run must stop: the API answered with a redirect, so personaclick.url is wrong. Never followed. Exit 3. */
export class WrongUrlError extends FatalApiError {
  override readonly name: string = 'WrongUrlError';
  constructor(answer: ApiError) {
    super(answer, answer.message);
  }
}

/** The error that stops the run for a fatal answer: a redirect names the wrong URL, 401/403 the refused shop. */
export function fatalStop(answer: ApiError): FatalApiError {
  return answer.redirect ? new WrongUrlError(answer) : new FatalApiError(answer);
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

/**
 * A database the connector could not reach (or lost for good after its retries): which one, by its setting. The
 * message is one line for stderr; the cause, with its stack, goes to the log only. Keeps the driver's `code`, so that
 * the connection retries still recognise it.
 */
export class DatabaseUnreachableError extends Error {
  override readonly name = 'DatabaseUnreachableError';
  readonly code: unknown;
  constructor(
    readonly setting: 'source.url' | 'state.url',
    where: string,
    cause: Error,
  ) {
    const which = setting === 'source.url' ? 'the shop database' : 'the state database';
    super(`cannot reach ${which} (${setting}: ${where}): ${cause.message.split('\n')[0] ?? ''}`, { cause });
    this.code = (cause as { code?: unknown }).code;
  }
}

/** Another runner holds this job's lock. Exit 75. */
export class LockedError extends Error {
  override readonly name = 'LockedError';
}

/** An answer's body (or a message in it) as one storable line of at most `max` characters (see storableText). */
export function trimBody(body: string, max = 300): string {
  return storableText(body.replace(/\s+/g, ' ').trim(), max);
}
