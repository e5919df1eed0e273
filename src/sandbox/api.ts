/**
 * How the sandbox answers a tracking API request, as the real API does: route (404/405), fault,
 * then the body (400 bad JSON, 401 missing shop_id/did, 403 unknown shop, 400 refused by
 * validation, reject rules), then success with the path's own answer.
 */
import { validateRequest } from '../payloads/index.js';
import { isAbsent } from '../payloads/reason.js';
import type { FaultDecision, Faults } from './faults.js';
import { errorBody, SUCCESS_BODY, type Answer } from './http.js';
import type { SandboxState } from './state.js';

type AnswerOutcome = { kind: 'answer' } & Answer;
export type Outcome = AnswerOutcome | { kind: 'reset' } | { kind: 'hang' };

export interface ApiContext {
  state: SandboxState;
  faults: Faults;
  /** Known shops; undefined: any non-empty shop_id. */
  shopIds: ReadonlySet<string> | undefined;
}

/** Each API path and its answer to a valid request. */
const SUCCESS: ReadonlyMap<string, Answer> = new Map([
  ['/push', { status: 200, body: SUCCESS_BODY }],
  ['/push/custom', { status: 204, body: '' }],
  ['/track/received', { status: 200, body: '' }],
  ['/track/clicked', { status: 200, body: '' }],
  ['/track/closed', { status: 200, body: '' }],
]);

/** Paths whose requests must name a device. */
const NEEDS_DID = new Set(['/push', '/push/custom']);

const FAULT_MESSAGES: Record<number, string> = {
  403: 'Shop is inactive',
  429: 'Too many requests',
  500: 'Internal server error',
  502: 'Bad gateway',
  503: 'Service unavailable',
};

function error(status: number, message: string, messageIn?: 'message' | 'payload'): AnswerOutcome {
  return { kind: 'answer', status, body: errorBody(message, messageIn) };
}

/** 404 for a path the API does not have, 405 for a method other than POST; undefined when routable. */
export function routeError(path: string, method: string | undefined): Outcome | undefined {
  if (!SUCCESS.has(path)) return error(404, 'Not found');
  if (method !== 'POST') return { ...error(405, 'Method not allowed'), headers: { allow: 'POST' } };
  return undefined;
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

/** Judge a routable, fault-free request by its body; records it when accepted. */
export function handleApi(ctx: ApiContext, path: string, raw: Buffer | undefined, at: number): Outcome {
  const { state } = ctx;
  if (raw === undefined) {
    state.countInvalid();
    return error(413, 'Request body too large');
  }
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    state.countInvalid();
    return error(400, 'Invalid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    state.countInvalid();
    return error(400, 'Request body must be a JSON object');
  }
  const record = body as Record<string, unknown>;
  if (isAbsent(record.shop_id)) {
    state.countInvalid();
    return error(401, 'shop_id is required');
  }
  if (NEEDS_DID.has(path) && isAbsent(record.did)) {
    state.countInvalid();
    return error(401, 'did is required');
  }
  if (ctx.shopIds !== undefined && !ctx.shopIds.has(String(record.shop_id))) {
    state.countRejected();
    return error(403, 'Unknown shop');
  }
  const verdict = validateRequest(path, record);
  if (!verdict.ok) {
    state.countInvalid();
    return error(400, verdict.reason);
  }
  const rule = ctx.faults.rejectRule(record);
  if (rule !== undefined) {
    state.countRejected();
    return error(rule.status ?? 400, rule.message, rule.messageIn);
  }
  state.accept(path, record, at);
  const success = SUCCESS.get(path) ?? { status: 200, body: '' };
  return { kind: 'answer', ...success };
}
