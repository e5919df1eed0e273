/** The PersonaClick HTTP client: one keep-alive connection pool, a timeout on every request, every answer classified. */
import { Agent, request } from 'undici';
import { ApiError, toError, trimBody } from '../errors.js';
import type { ApiRequest } from '../payloads/index.js';
import { NETWORK_ERROR_CLASS, classifyStatus, parseRetryAfter } from './classify.js';

export interface ClientOptions {
  /** Base URL, e.g. https://api.personaclick.com */
  url: string;
  timeoutMs: number;
  /** Connections kept open to the API; at least the delivery concurrency. */
  connections: number;
}

export interface SendResult {
  status: number;
}

export class PersonaClickClient {
  private readonly agent: Agent;
  private readonly origin: string;
  private readonly basePath: string;

  constructor(private readonly options: ClientOptions) {
    const base = new URL(options.url);
    this.origin = base.origin;
    this.basePath = base.pathname.replace(/\/+$/, '');
    this.agent = new Agent({
      connections: options.connections,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 60_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connectTimeout: Math.min(options.timeoutMs, 10_000),
    });
  }

  /** Send one request. Resolves on success; throws ApiError (classified) on anything else. */
  async send(req: ApiRequest): Promise<SendResult> {
    const payload = JSON.stringify(req.body);
    let status: number;
    let text: string;
    let retryAfter: string | string[] | undefined;
    try {
      const res = await request(`${this.origin}${this.basePath}${req.path}`, {
        method: 'POST',
        dispatcher: this.agent,
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: payload,
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
      });
      status = res.statusCode;
      retryAfter = res.headers['retry-after'];
      text = await res.body.text();
    } catch (caught) {
      const error = toError(caught);
      const code = (error as { code?: unknown }).code;
      const label = typeof code === 'string' ? code : error.name;
      throw new ApiError(`network error: ${label}: ${error.message}`, undefined, NETWORK_ERROR_CLASS, '', undefined, { cause: error });
    }
    if (status >= 200 && status < 300) {
      const apiStatus = readStatus(text);
      if (apiStatus === undefined || apiStatus === 'success') return { status };
      throw new ApiError(`HTTP ${status} with status "${apiStatus}": ${readMessage(text) ?? trimBody(text)}`, status, 'rejected', trimBody(text));
    }
    const failureClass = classifyStatus(status);
    const message = readMessage(text) ?? (trimBody(text) || 'no message');
    throw new ApiError(`HTTP ${status}: ${message}`, status, failureClass, trimBody(text), parseRetryAfter(retryAfter));
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** Drop every connection at once (shutdown past its deadline). */
  async destroy(): Promise<void> {
    await this.agent.destroy();
  }
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function readStatus(text: string): string | undefined {
  const json = parseJson(text);
  if (json !== null && typeof json === 'object' && 'status' in json) {
    const status = (json).status;
    return typeof status === 'string' ? status : String(status);
  }
  return undefined;
}

/** The API puts its error text in `message` or, in newer deployments, in `payload.message`. */
export function readMessage(text: string): string | undefined {
  const json = parseJson(text);
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
