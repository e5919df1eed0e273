/**
 * Post one message to a Slack-compatible incoming webhook (`{"text": …}` as JSON; Slack, Mattermost, Rocket.Chat
 * and most chat tools take it, and so does any URL that reads JSON). A transient failure (network, timeout, 429,
 * 5xx, as src/delivery/classify.ts decides) is tried again a few times; any other answer is not.
 */
import { classifyStatus } from '../delivery/classify.js';
import { sleep } from '../delivery/timers.js';
import { toError, trimBody } from '../errors.js';
import { callOutside } from '../outside-call.js';

export interface WebhookOptions {
  url: string;
  timeoutMs?: number;
  /** Attempts in all (default 3). */
  attempts?: number;
  /** Wait before the second attempt; doubled each time (default 500 ms). */
  retryMs?: number;
}

export class WebhookError extends Error {
  override readonly name = 'WebhookError';
}

export async function postWebhook(opts: WebhookOptions, text: string): Promise<void> {
  const attempts = opts.attempts ?? 3;
  const timeout = opts.timeoutMs ?? 10_000;
  let wait = opts.retryMs ?? 500;
  const body = JSON.stringify({ text });
  for (let attempt = 1; ; attempt++) {
    let failure: { retryable: boolean; message: string };
    try {
      // The whole post within `timeout`, its answer read up to a few KiB (outside-call.ts).
      const res = await callOutside(opts.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body }, timeout);
      if (res.status >= 200 && res.status < 300) return;
      failure = { retryable: classifyStatus(res.status) === 'transient', message: `HTTP ${res.status}: ${trimBody(res.text) || 'no message'}` };
    } catch (caught) {
      const err = toError(caught);
      const code = (err as { code?: unknown }).code;
      failure = { retryable: true, message: `network error: ${typeof code === 'string' ? code : err.name}: ${err.message}` };
    }
    if (!failure.retryable || attempt >= attempts)
      throw new WebhookError(`the webhook did not take the message (attempt ${attempt} of ${attempts}): ${failure.message}`);
    await sleep(wait);
    wait *= 2;
  }
}
