/**
 * How the sandbox answers an API request, as the real API does. The server routes it (404 / 405)
 * and decides its fault first; then, here: the order-sync pace (429 with Retry-After), the body
 * (413 too large, 400 bad JSON), a missing credential (401), an unknown shop (404), a wrong shop secret
 * (403), too many orders in a batch (413), the sandbox's own rules (400, src/sandbox/rules), the
 * reject rules of the fault config; then the path's own success answer.
 */
import type { FaultDecision, Faults, RejectRule } from './faults.js';
import { errorBody, MAX_BODY_BYTES, SUCCESS_BODY, type Answer } from './http.js';
import { byUserView, ordersByUser, type SyncOrder } from './order-book.js';
import { isObject, type JsonObject } from './rules/check.js';
import { judge } from './rules/index.js';
import { CATALOGUE_PATHS } from './catalogue.js';
import { SYNC_ORDERS_PATH, type SandboxState } from './state.js';
import { SANDBOX_SHOP_SECRET, type SandboxOptions } from './types.js';

type AnswerOutcome = { kind: 'answer' } & Answer;
export type Outcome = AnswerOutcome | { kind: 'reset' } | { kind: 'hang' };

export interface OrderSyncSettings {
  shopSecret: string;
  /** Where `GET /orders/by_user` puts its orders (SandboxOptions.byUserKey). */
  byUserKey: 'data' | 'payload' | 'alternate';
  perMinute: number;
  maxOrders: number;
  maxBytes: number;
}

/** The order-sync options with their defaults (40 a minute, 5000 orders and 32 MiB a request: api-notes.md). */
export function orderSyncSettings(opts: SandboxOptions): OrderSyncSettings {
  const settings = {
    shopSecret: opts.shopSecret ?? SANDBOX_SHOP_SECRET,
    byUserKey: opts.byUserKey ?? 'data',
    perMinute: opts.syncOrdersPerMinute ?? 40,
    maxOrders: opts.syncOrdersMaxOrders ?? 5000,
    maxBytes: opts.syncOrdersMaxBytes ?? 32 * 1024 * 1024,
  };
  if (settings.shopSecret === '') throw new Error('sandbox: shopSecret must not be empty');
  for (const name of ['perMinute', 'maxOrders', 'maxBytes'] as const) {
    if (!Number.isSafeInteger(settings[name]) || settings[name] < 1) throw new Error(`sandbox: ${name} must be a whole number of at least 1`);
  }
  return settings;
}

export interface ApiContext {
  state: SandboxState;
  faults: Faults;
  /** Known shops; undefined: any non-empty shop_id. */
  shopIds: ReadonlySet<string> | undefined;
  orderSync: OrderSyncSettings;
}

/** One API request, its body read (undefined: larger than the path's limit). */
export interface ApiRequest {
  path: string;
  method: string;
  query: Record<string, string>;
  raw: Buffer | undefined;
  at: number;
}

export const BY_USER_PATH = '/orders/by_user';

type MessageIn = 'message' | 'payload';

interface Route {
  method: 'GET' | 'POST';
  /** The tracking API puts an error text in `message`, the order-sync API in `payload.message` (its docs). */
  errorsIn: MessageIn;
  /** Needs the shop secret. */
  secret: boolean;
  /** Record an accepted request and give the path's answer. */
  accept: (state: SandboxState, req: ApiRequest, body: JsonObject, ctx: ApiContext) => Answer;
}

function tracking(success: Answer): Route {
  return {
    method: 'POST',
    errorsIn: 'message',
    secret: false,
    accept: (state, req, body) => {
      state.accept(req.path, body, req.at);
      return success;
    },
  };
}

const ROUTES: ReadonlyMap<string, Route> = new Map([
  ['/push', tracking({ status: 200, body: SUCCESS_BODY })],
  ['/push/custom', tracking({ status: 204, body: '' })],
  ['/track/received', tracking({ status: 200, body: '' })],
  ['/track/clicked', tracking({ status: 200, body: '' })],
  ['/track/closed', tracking({ status: 200, body: '' })],
  [
    SYNC_ORDERS_PATH,
    {
      method: 'POST',
      errorsIn: 'payload',
      secret: true,
      accept: (state, req, body, ctx) => {
        const refused = ctx.faults.get().syncAnswer;
        if (refused !== undefined) return { status: 200, body: JSON.stringify({ status: refused.status, payload: { message: refused.message } }) };
        state.acceptSync(body.orders as SyncOrder[], req.at);
        return { status: 200, body: SUCCESS_BODY };
      },
    },
  ],
  [
    BY_USER_PATH,
    {
      method: 'GET',
      errorsIn: 'payload',
      secret: true,
      accept: (state, req, _body, ctx) => {
        const settings = ctx.orderSync;
        const reads = state.acceptRead(req.path);
        const orders = ctx.faults.get().byUserEmpty === true ? [] : ordersByUser(state.heldOrders(), req.query).map(byUserView);
        // REES46 (client-orders/history.md): "In future the key data will be changed to payload".
        const key = settings.byUserKey === 'alternate' ? (reads % 2 === 1 ? 'data' : 'payload') : settings.byUserKey;
        return { status: 200, body: JSON.stringify({ status: 'success', [key]: { orders } }) };
      },
    },
  ],
]);

const FAULT_MESSAGES: Record<number, string> = {
  403: 'Shop is inactive',
  429: 'Too many requests',
  500: 'Internal server error',
  502: 'Bad gateway',
  503: 'Service unavailable',
};

function error(status: number, message: string, messageIn?: MessageIn): AnswerOutcome {
  return { kind: 'answer', status, body: errorBody(message, messageIn) };
}

/** 404 for a path the API does not have, 405 for another method than the path's; undefined when routable. */
export function routeError(path: string, method: string | undefined): Outcome | undefined {
  const catalogue = CATALOGUE_PATHS.get(path);
  if (catalogue !== undefined) {
    return method !== undefined && catalogue.includes(method) ? undefined : { ...error(405, 'Method not allowed'), headers: { allow: catalogue.join(', ') } };
  }
  const route = ROUTES.get(path);
  if (route === undefined) return error(404, 'Not found');
  if (method !== route.method) return { ...error(405, 'Method not allowed', route.errorsIn), headers: { allow: route.method } };
  return undefined;
}

/** How many body bytes a path takes before answering 413. */
export function bodyLimit(ctx: ApiContext, path: string): number {
  return path === SYNC_ORDERS_PATH || CATALOGUE_PATHS.has(path) ? ctx.orderSync.maxBytes : MAX_BODY_BYTES;
}

/** The answer a fault decision makes, counted in the stats. */
export function faultOutcome(state: SandboxState, decision: FaultDecision): Outcome {
  if (decision.kind !== 'answer') {
    state.fault(decision.kind);
    return decision;
  }
  state.fault(decision.fault);
  const outcome = error(decision.status, FAULT_MESSAGES[decision.status] ?? `Injected failure (HTTP ${decision.status})`);
  if (decision.retryAfterSeconds !== undefined) outcome.headers = { 'retry-after': String(decision.retryAfterSeconds) };
  return outcome;
}

/** A refusal: its answer, and whether it counts as invalid (the request is malformed) or rejected (its data is refused). */
interface Refusal {
  status: number;
  message: string;
  counts: 'invalid' | 'rejected';
  messageIn?: MessageIn;
}

function parseBody(raw: Buffer | undefined): { value: unknown } | Refusal {
  if (raw === undefined) return { status: 413, message: 'Request body too large', counts: 'invalid' };
  try {
    return { value: JSON.parse(raw.toString('utf8')) as unknown };
  } catch {
    return { status: 400, message: 'Invalid JSON', counts: 'invalid' };
  }
}

/** The first reject rule matching the body or, for an order-sync batch, one of its orders. */
function rejectRuleFor(faults: Faults, body: JsonObject): RejectRule | undefined {
  const direct = faults.rejectRule(body);
  if (direct !== undefined || !Array.isArray(body.orders)) return direct;
  for (const order of body.orders as JsonObject[]) {
    const rule = faults.rejectRule(order);
    if (rule !== undefined) return rule;
  }
  return undefined;
}

/** Why the request is refused, in the order the API checks: credentials, shop, secret, size, rules, reject rules. */
function refusal(ctx: ApiContext, route: Route, path: string, body: unknown): Refusal | undefined {
  const verdict = judge(path, body, ctx.state.knownOrders);
  const invalid = verdict && { status: verdict.status, message: verdict.reason, counts: 'invalid' as const };
  // judge() refuses whatever is not a JSON object; only 401 comes before the shop and its secret.
  if (!isObject(body) || verdict?.status === 401) return invalid;
  // The API's error matrix (events-errors.md): an unknown shop is 404.
  if (ctx.shopIds !== undefined && !ctx.shopIds.has(String(body.shop_id))) return { status: 404, message: 'Shop not found', counts: 'rejected' };
  if (route.secret && body.shop_secret !== ctx.orderSync.shopSecret) return { status: 403, message: 'Wrong shop secret', counts: 'rejected' };
  if (Array.isArray(body.orders) && body.orders.length > ctx.orderSync.maxOrders) {
    return { status: 413, message: `orders: at most ${ctx.orderSync.maxOrders} orders a request (got ${body.orders.length})`, counts: 'invalid' };
  }
  if (invalid !== undefined) return invalid;
  const rule = rejectRuleFor(ctx.faults, body);
  if (rule === undefined) return undefined;
  return { status: rule.status ?? 400, message: rule.message, counts: 'rejected', ...(rule.messageIn === undefined ? {} : { messageIn: rule.messageIn }) };
}

/** Judge a routable, fault-free request; records it when accepted. */
export function handleApi(ctx: ApiContext, req: ApiRequest): Outcome {
  const { state } = ctx;
  if (CATALOGUE_PATHS.has(req.path)) return handleCatalogue(ctx, req);
  const route = ROUTES.get(req.path);
  if (route === undefined) return error(404, 'Not found');
  if (req.path === SYNC_ORDERS_PATH) {
    const waitSeconds = state.syncPace.admit(req.at);
    if (waitSeconds !== undefined) {
      const outcome = error(429, `Too many requests: at most ${state.syncPace.limit} a minute`, route.errorsIn);
      return { ...outcome, headers: { 'retry-after': String(waitSeconds) } };
    }
  }
  const refuse = (refused: Refusal): Outcome => {
    if (refused.counts === 'invalid') state.countInvalid();
    else state.countRejected();
    return error(refused.status, refused.message, refused.messageIn ?? route.errorsIn);
  };
  const parsed = route.method === 'GET' ? { value: req.query } : parseBody(req.raw);
  if ('counts' in parsed) return refuse(parsed);
  const refused = refusal(ctx, route, req.path, parsed.value);
  if (refused !== undefined) return refuse(refused);
  // Accepted, so the body is a JSON object the rules have checked.
  return { kind: 'answer', ...route.accept(state, req, parsed.value as JsonObject, ctx) };
}

/**
 * A catalogue import (catalogue.ts): the account's pace (one budget with the order-sync API), the body, the
 * credentials (400 "Bad request", as the docs say), then the import: 204 with no body once queued.
 */
function handleCatalogue(ctx: ApiContext, req: ApiRequest): Outcome {
  const { state } = ctx;
  const waitSeconds = state.syncPace.admit(req.at);
  if (waitSeconds !== undefined)
    return { ...error(429, `Too many requests: at most ${state.syncPace.limit} a minute`), headers: { 'retry-after': String(waitSeconds) } };
  const parsed = parseBody(req.raw);
  if ('counts' in parsed) {
    state.countInvalid();
    return error(parsed.status, parsed.message);
  }
  const body = parsed.value;
  const known = isObject(body) && typeof body.shop_id === 'string' && body.shop_id !== '' && (ctx.shopIds === undefined || ctx.shopIds.has(body.shop_id));
  if (!isObject(body) || !known || body.shop_secret !== ctx.orderSync.shopSecret) {
    state.countRejected();
    return error(400, 'Bad request');
  }
  const verdict = state.catalogue.apply(req.path, req.method, body, req.at);
  if (verdict.status !== 204) {
    state.countInvalid();
    return error(verdict.status, verdict.message ?? 'Bad request');
  }
  state.accept(`${req.method} ${req.path}`, {}, req.at); // the body holds the shop secret: not kept
  return { kind: 'answer', status: 204, body: '' };
}
