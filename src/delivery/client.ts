/**
 * The PersonaClick HTTP client: one keep-alive connection pool, a deadline on the whole request (connecting to the
 * last byte), a cap on what is read of an answer, and every answer classified by the rules of classify.ts.
 */
import { Pool, type Dispatcher } from 'undici';
import { ApiError, toError, trimBody } from '../errors.js';
import type { ApiRequest } from '../payloads/index.js';
import { storableText } from '../storable-text.js';
import { NETWORK_ERROR_CLASS, answerJson, pathStatusWhy, apiStatusOf, classifyAnswer, isRedirect, parseRetryAfter, type Answer } from './classify.js';
import { timerMs } from './timers.js';

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

/** An answer as read: status line, headers, and the body up to the cap. */
interface ReadAnswer extends Answer {
  statusText: string;
  headers: Dispatcher.ResponseData['headers'];
}

export class PersonaClickClient {
  private readonly pool: Pool;
  private readonly origin: string;
  private readonly basePath: string;
  private readonly timeoutMs: number;

  constructor(options: ClientOptions) {
    const base = new URL(options.url);
    this.origin = base.origin;
    this.basePath = base.pathname.replace(/\/+$/, '');
    this.timeoutMs = timerMs(options.timeoutMs);
    // A Pool for the one origin, not an Agent: undici 7's Agent drops its pool for an origin when one connection of
    // it closes while a request is being dispatched, and then never reuses a connection again (nodejs/undici#5022).
    this.pool = new Pool(this.origin, {
      connections: options.connections,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 60_000,
      // Backstops only: AnswerHandler's deadline bounds the whole request.
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      connectTimeout: Math.min(this.timeoutMs, 10_000),
    });
  }

  /** Send one request. Resolves on the endpoint's documented success; throws ApiError (classified) on anything else. */
  async send(req: ApiRequest): Promise<SendResult> {
    const path = `${this.basePath}${req.path}`;
    let answer: ReadAnswer;
    try {
      answer = await this.exchange(path, JSON.stringify(req.body), req.method ?? 'POST');
    } catch (caught) {
      throw noAnswer(toError(caught));
    }
    return judge(req.path, `${this.origin}${path}`, answer);
  }

  /** Send (POST unless the request says otherwise) and read the answer (at most ANSWER_CAP_BYTES of it), all within timeoutMs. Throws on no answer. */
  private exchange(path: string, payload: string, method: string): Promise<ReadAnswer> {
    return new Promise<ReadAnswer>((resolve, reject) => {
      const handler = new AnswerHandler(ANSWER_CAP_BYTES, this.timeoutMs, resolve, reject);
      try {
        this.pool.dispatch({ path, method, headers: REQUEST_HEADERS, body: payload }, handler);
      } catch (caught) {
        handler.onResponseError(undefined, toError(caught));
      }
    });
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  /** Drop every connection at once (shutdown past its deadline). */
  async destroy(): Promise<void> {
    await this.pool.destroy();
  }
}

const REQUEST_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };

/**
 * One exchange, read as undici hands it over (no stream in between): the status line, the headers, and the body up to
 * `cap` bytes. Past the cap, or when the deadline passes (from dispatch to the last byte), the request is aborted,
 * which closes its connection: a half-read answer never goes back into the keep-alive pool.
 */
class AnswerHandler implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private status = 0;
  private statusText = '';
  private headers: Dispatcher.ResponseData['headers'] = {};
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private settled = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly cap: number,
    private readonly timeoutMs: number,
    private readonly resolve: (answer: ReadAnswer) => void,
    private readonly reject: (error: Error) => void,
  ) {
    this.timer = setTimeout(() => this.expire(), timeoutMs);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // undici may start a request again after its connection failed before any answer: nothing of that one counts.
    this.chunks.length = 0;
    this.size = 0;
    if (this.settled) controller.abort(new Error('the request deadline passed before it went out'));
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Dispatcher.ResponseData['headers'], statusMessage?: string): void {
    if (statusCode < 200) return; // 1xx: the answer is still to come
    this.status = statusCode;
    this.statusText = statusMessage ?? '';
    this.headers = headers;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    if (this.size + chunk.length <= this.cap) {
      this.chunks.push(chunk);
      this.size += chunk.length;
      return;
    }
    this.chunks.push(chunk.subarray(0, this.cap - this.size));
    this.answer(true);
    controller.abort(new Error(`answer past ${this.cap} bytes: not read further`));
  }

  onResponseEnd(): void {
    this.answer(false);
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    if (this.settled) return;
    this.settle();
    this.reject(error);
  }

  private answer(truncated: boolean): void {
    if (this.settled) return;
    this.settle();
    const body = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
    this.resolve({ status: this.status, statusText: this.statusText, headers: this.headers, text: body.toString('utf8'), truncated });
  }

  private expire(): void {
    if (this.settled) return;
    this.settle();
    this.reject(new RequestTimeout(this.timeoutMs));
    this.controller?.abort(new RequestTimeout(this.timeoutMs)); // before it went out: aborted in onRequestStart
  }

  private settle(): void {
    this.settled = true;
    clearTimeout(this.timer);
  }
}

class RequestTimeout extends Error {
  override readonly name = 'RequestTimeout';
  constructor(readonly timeoutMs: number) {
    super(`no whole answer within ${timeoutMs} ms`);
  }
}

/** No answer at all: the deadline passed, or the network failed on the way. Transient either way. */
function noAnswer(error: Error): ApiError {
  if (error instanceof RequestTimeout) {
    return new ApiError(`timed out after ${error.timeoutMs} ms (personaclick.timeoutMs bounds the whole request)`, undefined, NETWORK_ERROR_CLASS, '', undefined, { cause: error });
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
    if (verdict === 'rejected' && apiStatus !== undefined) {
      throw new ApiError(`HTTP ${status} with status "${storableText(apiStatus, 60)}": ${readMessage(json) ?? body}`, status, verdict, body);
    }
    throw new ApiError(`HTTP ${status} on ${path} is not the documented success (${describeBody(answer)})`, status, verdict, body);
  }
  const message = readMessage(json) ?? (body || 'no message');
  const why = pathStatusWhy(path, status);
  throw new ApiError(`HTTP ${status}: ${message}${why === undefined ? '' : ` (${why})`}`, status, verdict, body, parseRetryAfter(answer.headers['retry-after']));
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
