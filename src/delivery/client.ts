/**
 * The PersonaClick HTTP client: requests sent through the guarded pool of http.ts (keep-alive, a deadline on the whole
 * request, a cap on what is read of an answer, no redirects followed), and every answer classified by the rules of
 * classify.ts.
 */
import { ApiError, toError, trimBody } from '../errors.js';
import type { ApiRequest } from '../payloads/index.js';
import { storableText } from '../storable-text.js';
import { NETWORK_ERROR_CLASS, answerJson, pathStatusWhy, apiStatusOf, classifyAnswer, isRedirect, parseRetryAfter, type Answer } from './classify.js';
import { GuardedPool, RequestTimeout, type ReadAnswer } from './http.js';

/** At most this much of an answer is read; the rest never is (the connection is dropped instead). */
export const ANSWER_CAP_BYTES = 64 * 1024;

export interface ClientOptions {
  /** Base URL, e.g. https://api.personaclick.com */
  url: string;
  /** The whole request, from connecting to the last byte of the answer. */
  timeoutMs: number;
  /** Connections kept open to the API; at least the delivery concurrency. */
  connections: number;
}

export interface SendResult {
  status: number;
}

export class PersonaClickClient {
  private readonly http: GuardedPool;
  private readonly origin: string;
  private readonly basePath: string;

  constructor(options: ClientOptions) {
    const base = new URL(options.url);
    this.origin = base.origin;
    this.basePath = base.pathname.replace(/\/+$/, '');
    this.http = new GuardedPool(this.origin, { timeoutMs: options.timeoutMs, connections: options.connections });
  }

  /** Send one request. Resolves on the endpoint's documented success; throws ApiError (classified) on anything else. */
  async send(req: ApiRequest): Promise<SendResult> {
    const path = `${this.basePath}${req.path}`;
    let answer: ReadAnswer;
    try {
      answer = await this.http.exchange({
        method: req.method ?? 'POST',
        path,
        headers: REQUEST_HEADERS,
        body: JSON.stringify(req.body),
        capBytes: ANSWER_CAP_BYTES,
      });
    } catch (caught) {
      throw noAnswer(toError(caught));
    }
    return judge(req.path, `${this.origin}${path}`, answer);
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  /** Drop every connection at once (shutdown past its deadline). */
  async destroy(): Promise<void> {
    await this.http.destroy();
  }
}

const REQUEST_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };

/** No answer at all: the deadline passed, or the network failed on the way. Transient either way. */
function noAnswer(error: Error): ApiError {
  if (error instanceof RequestTimeout) {
    return new ApiError(
      `timed out after ${error.timeoutMs} ms (personaclick.timeoutMs bounds the whole request)`,
      undefined,
      NETWORK_ERROR_CLASS,
      '',
      undefined,
      { cause: error },
    );
  }
  const code = (error as { code?: unknown }).code;
  const label = typeof code === 'string' ? code : error.name;
  return new ApiError(`network error: ${label}: ${error.message}`, undefined, NETWORK_ERROR_CLASS, '', undefined, { cause: error });
}

/** The answer judged: its documented success, or the classified ApiError with a message an operator can act on. */
function judge(path: string, url: string, answer: ReadAnswer): SendResult {
  const json = answerJson(answer);
  const verdict = classifyAnswer(path, answer, json);
  if (verdict === 'success') return { status: answer.status };
  const { status } = answer;
  const body = trimBody(answer.text);
  if (isRedirect(status)) throw new ApiError(redirectMessage(answer, path, url), status, verdict, body, undefined, { redirect: true });
  if (status >= 200 && status < 300) {
    const apiStatus = apiStatusOf(json);
    if (apiStatus !== undefined && apiStatus !== 'success') {
      throw new ApiError(`HTTP ${status} with status "${storableText(apiStatus, 60)}": ${readMessage(json) ?? body}`, status, verdict, body, undefined, {
        path,
      });
    }
    throw new ApiError(`HTTP ${status} on ${path} is not the documented success (${describeBody(answer)})`, status, verdict, body);
  }
  const message = readMessage(json) ?? (body || 'no message');
  const why = pathStatusWhy(path, status);
  throw new ApiError(
    `HTTP ${status}: ${message}${why === undefined ? '' : ` (${why})`}`,
    status,
    verdict,
    body,
    parseRetryAfter(answer.headers['retry-after']),
    { path },
  );
}

function describeBody(answer: Answer): string {
  if (answer.truncated) return `more than ${ANSWER_CAP_BYTES / 1024} KiB, not read past the first 64 KiB: ${trimBody(answer.text, 120)}`;
  if (answer.text.trim() === '') return 'an empty body';
  return `the body: ${trimBody(answer.text, 200)}`;
}

/**
 * "PersonaClick answered HTTP 301 Moved Permanently to https://…/push: personaclick.url is wrong; set it to https://…":
 * the base URL to set is the Location without the request's path, when it ends with it.
 */
function redirectMessage(answer: ReadAnswer, path: string, url: string): string {
  const what = `PersonaClick answered HTTP ${answer.status}${answer.statusText ? ` ${storableText(answer.statusText, 60)}` : ''}`;
  const header = answer.headers.location;
  const raw = (Array.isArray(header) ? header[0] : header)?.trim();
  if (raw === undefined || raw === '') return `${what} without a Location: personaclick.url is wrong`;
  let target: URL;
  try {
    target = new URL(raw, url);
  } catch {
    return `${what} to ${storableText(raw, 300)}: personaclick.url is wrong`;
  }
  const location = storableText(target.href, 300);
  if (!target.pathname.endsWith(path)) return `${what} to ${location}: personaclick.url is wrong; point it at where the API answers now`;
  const base = `${target.origin}${target.pathname.slice(0, target.pathname.length - path.length)}`.replace(/\/+$/, '');
  return `${what} to ${location}: personaclick.url is wrong; set it to ${storableText(base, 300)}`;
}

/** The API puts its error text in `message` or, in newer deployments, in `payload.message`. */
export function readMessage(json: unknown): string | undefined {
  if (json === null || typeof json !== 'object') return undefined;
  const top = (json as { message?: unknown }).message;
  if (typeof top === 'string' && top !== '') return trimBody(top);
  const payload = (json as { payload?: unknown }).payload;
  if (payload !== null && typeof payload === 'object') {
    const inner = (payload as { message?: unknown }).message;
    if (typeof inner === 'string' && inner !== '') return trimBody(inner);
  }
  return undefined;
}
