/**
 * `GET {api}/orders/by_user` (api-notes.md, "Order-sync API"): a customer's orders as PersonaClick holds them, read
 * back by `report --verify`. Read through the same guarded pool as the sends (src/delivery/http.ts): one deadline on
 * the whole request (`personaclick.timeoutMs`), a cap on what is read of the answer, redirects never followed (exit 3,
 * naming where it points), 401/403 stop the read (exit 3), 408/425/429/5xx and network failures
 * retried with backoff and Retry-After, then exit 4. The shop secret travels in the query string (the endpoint takes
 * it nowhere else), so no message built here ever holds the URL, and every text taken from an answer is scrubbed of
 * the secret in each spelling (as is, percent-encoded, form-encoded) and of customers' e-mails and phones (outward.ts).
 */
import { ApiError, ApiUnavailableError, fatalStop, toError, trimBody } from '../errors.js';
import { spellingsOf } from '../config/secrets.js';
import { maskAll } from '../outward.js';
import { storableText } from '../storable-text.js';
import { answerJson, apiStatusOf, classifyRefusal, isRedirect, parseRetryAfter } from '../delivery/classify.js';
import { readMessage } from '../delivery/client.js';
import { GuardedPool, RequestTimeout, type ReadAnswer } from '../delivery/http.js';
import { RateGate } from '../delivery/rate-gate.js';
import type { ClaimSlot } from '../delivery/budgeted-sender.js';
import { sleep, timerMs } from '../delivery/timers.js';

export const BY_USER_PATH = '/orders/by_user';

/**
 * An order list is longer than the sends' answers (client.ts reads 64 KiB of those): this read takes up to 4 MiB,
 * a few thousand orders of one customer since `date_from`. Past it the customer's orders are not checked (the
 * answer is never read further), and the report says so.
 */
export const BY_USER_CAP_BYTES = 4 * 1024 * 1024;

/** The ways to name a customer the endpoint takes. */
export const BY_USER_KEYS = ['email', 'phone', 'external_id', 'loyalty_id', 'telegram_id', 'did'] as const;
export type ByUserKey = (typeof BY_USER_KEYS)[number];

export interface Customer {
  by: ByUserKey;
  value: string;
}

export interface HeldLine {
  id: string;
  quantity: number | undefined;
  status: string | undefined;
}

/** An order as the answer holds it (numbers often come as strings: read either way). */
export interface HeldOrder {
  id: string;
  status: string | undefined;
  total: number | undefined;
  items: HeldLine[];
}

export interface ByUserOptions {
  url: string;
  shopId: string;
  shopSecret: string;
  timeoutMs: number;
  /** Reads at once (connections kept open). */
  connections: number;
  /** Request starts a second at most; 0: no limit. */
  perSecond: number;
  /**
   * The shop's import budget (src/state/budget.ts): each attempt claims a slot and waits for it, so reads share the
   * documented 40 a minute with every backfill and catalogue run of the shop, in any process.
   */
  claimSlot?: ClaimSlot | undefined;
  retries: number;
  retryMinMs: number;
  retryMaxMs: number;
  capBytes?: number;
}

export class ByUserReader {
  private readonly http: GuardedPool;
  private readonly origin: string;
  private readonly basePath: string;
  private readonly timeoutMs: number;
  private readonly cap: number;
  private readonly gate: RateGate;
  private readonly secrets: string[];

  constructor(private readonly options: ByUserOptions) {
    const base = new URL(options.url);
    this.origin = base.origin;
    this.basePath = base.pathname.replace(/\/+$/, '');
    this.timeoutMs = timerMs(options.timeoutMs);
    this.cap = options.capBytes ?? BY_USER_CAP_BYTES;
    this.gate = new RateGate(options.perSecond);
    this.secrets = spellingsOf([options.shopSecret]);
    this.http = new GuardedPool(this.origin, { timeoutMs: this.timeoutMs, connections: options.connections });
  }

  /**
   * The customer's orders from `dateFrom` (YYYY-MM-DD) on. Throws ApiError (rejected: this customer's read failed,
   * e.g. 400 or an answer past the cap), FatalApiError / WrongUrlError (401, 403, a redirect), ApiUnavailableError
   * (retries ran out).
   */
  async read(customer: Customer, dateFrom: string | undefined): Promise<HeldOrder[]> {
    const query = new URLSearchParams({ shop_id: this.options.shopId, shop_secret: this.options.shopSecret, [customer.by]: customer.value });
    if (dateFrom !== undefined) query.set('date_from', dateFrom);
    const path = `${this.basePath}${BY_USER_PATH}?${query.toString()}`;
    for (let attempt = 0; ; attempt++) {
      await this.gate.pass();
      const waitMs = (await this.options.claimSlot?.()) ?? 0;
      if (waitMs > 0) await sleep(waitMs);
      let error: ApiError;
      try {
        return this.judge(await this.exchange(path));
      } catch (caught) {
        const err = toError(caught);
        if (!(err instanceof ApiError)) throw err;
        if (err.failureClass === 'fatal') throw fatalStop(err);
        if (!err.retryable) throw err;
        error = err;
      }
      if (attempt >= this.options.retries) throw new ApiUnavailableError(error);
      const backoff = Math.min(this.options.retryMaxMs, this.options.retryMinMs * 2 ** attempt);
      const wait = Math.min(this.options.retryMaxMs, Math.max(backoff, error.retryAfterMs ?? 0));
      await new Promise((resolve) => setTimeout(resolve, timerMs(wait)));
    }
  }

  async close(): Promise<void> {
    this.gate.clear();
    await this.http.close();
  }

  private clean(text: string): string {
    return maskAll(text, this.secrets);
  }

  /** GET and read at most `cap` bytes of the answer, all within the deadline; ApiError (transient) on no answer. */
  private async exchange(path: string): Promise<ReadAnswer> {
    try {
      return await this.http.exchange({ method: 'GET', path, headers: { accept: 'application/json' }, capBytes: this.cap });
    } catch (caught) {
      const error = toError(caught);
      if (error instanceof RequestTimeout) {
        throw new ApiError(
          `GET ${BY_USER_PATH} timed out after ${this.timeoutMs} ms (personaclick.timeoutMs bounds the whole request)`,
          undefined,
          'transient',
          '',
        );
      }
      const code = (error as { code?: unknown }).code;
      throw new ApiError(
        `GET ${BY_USER_PATH}: network error: ${typeof code === 'string' ? code : error.name}: ${this.clean(storableText(error.message, 200))}`,
        undefined,
        'transient',
        '',
      );
    }
  }

  private judge(answer: ReadAnswer): HeldOrder[] {
    const { status } = answer;
    const body = this.clean(trimBody(answer.text));
    const what = `GET ${BY_USER_PATH}: HTTP ${status}`;
    if (isRedirect(status)) throw new ApiError(this.redirectMessage(status, answer.headers.location), status, 'fatal', body, undefined, { redirect: true });
    if (status < 200 || status >= 300) {
      const json = answerJson(answer);
      const message = this.clean(readMessage(json) ?? (body || 'no message'));
      throw new ApiError(`${what}: ${message}`, status, classifyRefusal(status, json), body, parseRetryAfter(answer.headers['retry-after']), {
        path: BY_USER_PATH,
      });
    }
    if (answer.truncated) throw new ApiError(`${what}: the answer is longer than ${this.cap / 1024 / 1024} MiB, not read further`, status, 'rejected', '');
    const json = answerJson(answer);
    const apiStatus = apiStatusOf(json);
    if (apiStatus !== undefined && apiStatus !== 'success') {
      throw new ApiError(
        `${what} with status "${this.clean(storableText(apiStatus, 60))}": ${this.clean(readMessage(json) ?? body)}`,
        status,
        'rejected',
        body,
      );
    }
    const orders = ordersOf(json);
    if (apiStatus !== 'success' || orders === undefined) {
      throw new ApiError(
        `${what} is not the documented answer {"status":"success","payload" (or "data"):{"orders":[…]}}: ${body === '' ? 'an empty body' : body}`,
        status,
        'transient',
        body,
      );
    }
    return orders;
  }

  /** Where a redirect points, without its query string (which might echo the secret back). */
  private redirectMessage(status: number, header: string | string[] | undefined): string {
    const raw = (Array.isArray(header) ? header[0] : header)?.trim();
    const what = `PersonaClick answered GET ${BY_USER_PATH} with HTTP ${status}`;
    if (raw === undefined || raw === '') return `${what} without a Location: personaclick.url is wrong`;
    try {
      const target = new URL(raw, this.origin);
      const where = this.clean(storableText(`${target.origin}${target.pathname}`, 300));
      const base = target.pathname.endsWith(BY_USER_PATH) ? `${target.origin}${target.pathname.slice(0, -BY_USER_PATH.length)}`.replace(/\/+$/, '') : undefined;
      return `${what} to ${where}: personaclick.url is wrong${base === undefined ? '; point it at where the API answers now' : `; set it to ${this.clean(storableText(base, 300))}`}`;
    } catch {
      return `${what} to an unreadable Location: personaclick.url is wrong`;
    }
  }
}

const textOf = (value: unknown): string | undefined => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined);

function numberOf(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The orders of a `{"status":"success","payload":{"orders":[…]}}` answer, or of `"data"` where there is no such
 * `payload`: REES46's docs announce that `data` becomes `payload` and ask clients to prefer `payload`
 * (client-orders/history.md). Undefined when it is neither shape.
 */
export function ordersOf(json: unknown): HeldOrder[] | undefined {
  if (!isRecord(json)) return undefined;
  const holder = [json.payload, json.data].find((v): v is Record<string, unknown> => isRecord(v) && Array.isArray(v.orders));
  if (holder === undefined) return undefined;
  const out: HeldOrder[] = [];
  for (const order of holder.orders as unknown[]) {
    if (!isRecord(order)) continue;
    const id = textOf(order.id);
    if (id === undefined) continue;
    const items: HeldLine[] = [];
    for (const item of Array.isArray(order.items) ? order.items : []) {
      if (!isRecord(item)) continue;
      const product = isRecord(item.item) ? textOf(item.item.id) : textOf(item.id);
      if (product === undefined) continue;
      items.push({ id: product, quantity: numberOf(item.amount ?? item.quantity), status: textOf(item.status) });
    }
    out.push({ id, status: textOf(order.order_status ?? order.status), total: numberOf(order.value), items });
  }
  return out;
}
