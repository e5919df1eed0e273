/** Small HTTP helpers for the sandbox server: reading a body, writing an answer. */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Tracking API bodies above this are drained and answered 413 (the order-sync API has its own limit). */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** An answer to send: `body` '' means none. */
export interface Answer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

export const SUCCESS_BODY = '{"status":"success"}';

export function errorBody(message: string, messageIn: 'message' | 'payload' = 'message'): string {
  return JSON.stringify(messageIn === 'payload' ? { status: 'error', payload: { message } } : { status: 'error', message });
}

/** The query parameters of a request URL (a repeated name keeps its last value). */
export function queryOf(url: string | undefined): Record<string, string> {
  const q = url?.indexOf('?') ?? -1;
  return url === undefined || q === -1 ? {} : Object.fromEntries(new URLSearchParams(url.slice(q + 1)));
}

/** The path of a request URL, without its query string. */
export function pathOf(url: string | undefined): string {
  if (url === undefined) return '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** Read the whole body; `undefined` when it is larger than `maxBytes` (the rest is drained). */
export function readBody(req: IncomingMessage, maxBytes: number, done: (raw: Buffer | undefined) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= maxBytes) chunks.push(chunk);
  });
  req.on('end', () => done(size > maxBytes ? undefined : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
  // A client that goes away mid-body gets no answer; the socket is already gone.
  req.on('error', () => undefined);
}

export function send(res: ServerResponse, answer: Answer): void {
  const bodyless = answer.status === 204 || answer.status === 304;
  const body = bodyless ? '' : answer.body;
  const headers: Record<string, string | number> = { ...answer.headers };
  if (!bodyless) headers['content-length'] = Buffer.byteLength(body);
  if (body !== '') headers['content-type'] = 'application/json; charset=utf-8';
  res.writeHead(answer.status, headers);
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, { status, body: JSON.stringify(value) });
}
