/**
 * One HTTP call to a service beside the API (the Pushgateway, the webhook) with a deadline on the whole of it (the
 * connection, the request, the answer's headers and body) and the answer read up to a small cap: a service that
 * accepts the connection and never answers, or trickles an endless answer, costs at most `timeoutMs`.
 */
import { request } from 'undici';
import { toError } from './errors.js';

/** What is read of such an answer at most: enough for an error message. */
export const OUTSIDE_ANSWER_CAP_BYTES = 4 * 1024;

export interface OutsideAnswer {
  status: number;
  /** The first OUTSIDE_ANSWER_CAP_BYTES of the body, as UTF-8. */
  text: string;
}

export class DeadlineError extends Error {
  override readonly name = 'DeadlineError';
}

export async function callOutside(
  url: string,
  init: { method: 'PUT' | 'POST'; headers: Record<string, string>; body: string },
  timeoutMs: number,
): Promise<OutsideAnswer> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DeadlineError(`no complete answer within ${timeoutMs / 1000} s`)), timeoutMs);
  try {
    const res = await request(url, { ...init, signal: controller.signal, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      const buf = chunk as Buffer;
      chunks.push(buf);
      size += buf.length;
      if (size >= OUTSIDE_ANSWER_CAP_BYTES) break; // the rest is not read: leaving the loop destroys the body
    }
    return { status: res.statusCode, text: Buffer.concat(chunks).subarray(0, OUTSIDE_ANSWER_CAP_BYTES).toString('utf8') };
  } catch (caught) {
    const reason: unknown = controller.signal.reason;
    if (controller.signal.aborted && reason instanceof DeadlineError) throw reason;
    throw toError(caught);
  } finally {
    clearTimeout(timer);
  }
}
