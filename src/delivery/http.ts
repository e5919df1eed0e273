/**
 * One HTTP exchange with the guards every call to PersonaClick has, for the sender (client.ts) and the read-back
 * (src/report/read-back.ts) alike: a keep-alive Pool for the one origin, a deadline on the whole request (from dispatch
 * to the last byte), a cap on what is read of an answer (the connection is dropped past it, never reused half-read),
 * and redirects never followed (undici's Pool follows none: a 3xx is handed back as an answer to judge).
 */
import type { Dispatcher } from 'undici';
import { toError } from '../errors.js';
import type { Answer } from './classify.js';
import { timerMs } from './timers.js';
import { Pool } from './undici-pool.js';

/** An answer as read: status line, headers, and the body up to the cap. */
export interface ReadAnswer extends Answer {
  statusText: string;
  headers: Dispatcher.ResponseData['headers'];
}

export interface GuardedPoolOptions {
  /** The whole request, from dispatch to the last byte of the answer. */
  timeoutMs: number;
  /** Connections kept open. */
  connections: number;
}

export interface Exchange {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** At most this many bytes of the answer are read. */
  capBytes: number;
}

export class GuardedPool {
  private readonly pool: Pool;
  readonly timeoutMs: number;

  constructor(origin: string, options: GuardedPoolOptions) {
    this.timeoutMs = timerMs(options.timeoutMs);
    // A Pool for the one origin, not an Agent: undici 7's Agent drops its pool for an origin when one connection of
    // it closes while a request is being dispatched, and then never reuses a connection again (nodejs/undici#5022).
    this.pool = new Pool(origin, {
      connections: options.connections,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 60_000,
      // Backstops only: AnswerHandler's deadline bounds the whole request.
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      connectTimeout: Math.min(this.timeoutMs, 10_000),
    });
  }

  /** Send and read the answer (at most `capBytes` of it), all within the deadline. Throws on no answer: a RequestTimeout, or the network's error. */
  exchange(req: Exchange): Promise<ReadAnswer> {
    return new Promise<ReadAnswer>((resolve, reject) => {
      const handler = new AnswerHandler(req.capBytes, this.timeoutMs, resolve, reject);
      try {
        this.pool.dispatch({ path: req.path, method: req.method, headers: req.headers, body: req.body ?? null }, handler);
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

/** The deadline passed before the whole answer came. */
export class RequestTimeout extends Error {
  override readonly name = 'RequestTimeout';
  constructor(readonly timeoutMs: number) {
    super(`no whole answer within ${timeoutMs} ms`);
  }
}
