/**
 * What an answer means: the endpoint's documented success, the data's fault, worth retrying, or a reason to stop the
 * run. Decided here, as data: the success rules per path and the status rules.
 */
import type { FailureClass } from '../errors.js';

export type AnswerClass = Exclude<FailureClass, 'invalid'>;

/** An answer as far as it was read. */
export interface Answer {
  status: number;
  /** The body as text: at most the client's cap. */
  text: string;
  /** The body went on past the cap: the rest was never read, so the body proves nothing. */
  truncated: boolean;
}

// ───────────────────────────── success, per path ─────────────────────────────

/** `empty`: no body (or only whitespace); `json-success`: a JSON object whose `status` is "success". */
export type SuccessBody = 'empty' | 'json-success';

export interface SuccessRule {
  /** The request path; ending in "/", every path under it. */
  readonly path: string;
  /** The answers that mean success: this status (any 2xx when absent) with a body of this form. */
  readonly accepts: readonly { readonly status?: number; readonly body: SuccessBody }[];
}

/**
 * What each endpoint documents as success (spec/api-notes.md, "Responses and errors" and the order-sync API's
 * answers). Any other 2xx (a proxy's HTML page, `null`, an empty body on /push, a body cut short) proves nothing.
 */
export const SUCCESS_RULES: readonly SuccessRule[] = [
  { path: '/push', accepts: [{ body: 'json-success' }] },
  { path: '/push/custom', accepts: [{ status: 204, body: 'empty' }, { body: 'json-success' }] },
  { path: '/track/', accepts: [{ status: 200, body: 'empty' }, { body: 'json-success' }] },
  { path: '/sync/orders', accepts: [{ body: 'json-success' }] },
  // The catalogue imports queue the work and answer 204 with no body (docs/catalogue.md); errors come later by e-mail.
  { path: '/import/products', accepts: [{ status: 204, body: 'empty' }, { body: 'json-success' }] },
  { path: '/import/categories', accepts: [{ status: 204, body: 'empty' }, { body: 'json-success' }] },
];

/** A path no rule names: only the JSON success proves anything. */
const ANY_PATH: SuccessRule = { path: '', accepts: [{ body: 'json-success' }] };

/** A 2xx that is not the endpoint's documented success: it proves nothing was taken, so it is tried again. */
export const UNDOCUMENTED_SUCCESS_CLASS: AnswerClass = 'transient';

export function successRuleFor(path: string): SuccessRule {
  return SUCCESS_RULES.find((r) => r.path === path) ?? SUCCESS_RULES.find((r) => r.path.endsWith('/') && path.startsWith(r.path)) ?? ANY_PATH;
}

/** The body parsed as JSON; undefined when it is empty, cut short, or not JSON. */
export function answerJson(answer: Answer): unknown {
  if (answer.truncated || answer.text.trim() === '') return undefined;
  try {
    return JSON.parse(answer.text) as unknown;
  } catch {
    return undefined;
  }
}

/** The `status` field of a JSON object body, as text; undefined when there is none. */
export function apiStatusOf(json: unknown): string | undefined {
  if (json === null || typeof json !== 'object' || Array.isArray(json) || !('status' in json)) return undefined;
  const status = json.status;
  return typeof status === 'string' ? status : String(status);
}

function bodyIs(form: SuccessBody, answer: Answer, json: unknown): boolean {
  if (form === 'empty') return !answer.truncated && answer.text.trim() === '';
  return apiStatusOf(json) === 'success';
}

export function isDocumentedSuccess(path: string, answer: Answer, json: unknown = answerJson(answer)): boolean {
  return successRuleFor(path).accepts.some((a) => (a.status === undefined || a.status === answer.status) && bodyIs(a.body, answer, json));
}

// ───────────────────────────── everything else, by status ─────────────────────────────

/** Redirects: the configured URL is wrong (http for https, a moved host). Never followed. */
export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

export const isRedirect = (status: number): boolean => REDIRECT_STATUSES.has(status);

interface StatusRule {
  readonly test: (status: number) => boolean;
  readonly class: AnswerClass;
  readonly why: string;
}

/** For answers outside 2xx. First match wins; anything not listed is `rejected`: never retry what will fail again. */
export const STATUS_RULES: readonly StatusRule[] = [
  { test: isRedirect, class: 'fatal', why: 'a redirect: personaclick.url is wrong, and nothing sent there will arrive' },
  { test: (s) => s === 401 || s === 403, class: 'fatal', why: 'the shop is refused: nothing else will succeed' },
  { test: (s) => s === 408 || s === 425 || s === 429, class: 'transient', why: 'the server asks us to slow down or try again' },
  { test: (s) => s >= 500, class: 'transient', why: 'a server error: try later' },
  { test: (s) => s < 400, class: 'transient', why: 'an answer the API never gives (another 3xx, a 1xx): it proves nothing, try again' },
];

/**
 * Statuses that mean something else on some paths. The catalogue imports check only the credentials before queueing
 * (the data is checked later and reported by e-mail), and answer 400 for a wrong shop_id or shop_secret: nothing
 * else will succeed, and splitting the batch would only send it again piece by piece.
 */
export const PATH_STATUS_RULES: readonly (StatusRule & { readonly path: string })[] = [
  { path: '/import/', test: (s) => s === 400, class: 'fatal', why: 'the catalogue imports answer 400 for a wrong shop_id or shop_secret' },
];

/** Why a path's own status rule applies to this answer (for the operator's message); undefined when none does. */
export function pathStatusWhy(path: string, status: number): string | undefined {
  return PATH_STATUS_RULES.find((rule) => path.startsWith(rule.path) && rule.test(status))?.why;
}

export function classifyStatus(status: number, path?: string): AnswerClass {
  if (path !== undefined) for (const rule of PATH_STATUS_RULES) if (path.startsWith(rule.path) && rule.test(status)) return rule.class;
  for (const rule of STATUS_RULES) if (rule.test(status)) return rule.class;
  return 'rejected';
}

/** The error text of a JSON error body: `message`, or `payload.message` (newer deployments). */
function errorTextOf(json: unknown): string | undefined {
  if (json === null || typeof json !== 'object') return undefined;
  const top = (json as { message?: unknown }).message;
  if (typeof top === 'string') return top;
  const payload = (json as { payload?: unknown }).payload;
  const inner = payload !== null && typeof payload === 'object' ? (payload as { message?: unknown }).message : undefined;
  return typeof inner === 'string' ? inner : undefined;
}

/**
 * A 404 that says the shop is unknown (the error matrix: unknown shop → 404, as an unknown device is): nothing of the
 * run will succeed, so it stops (fatal), instead of filing every row. A 404 about a device stays a row's rejection.
 */
export function isUnknownShop(status: number, json: unknown): boolean {
  if (status !== 404) return false;
  const text = errorTextOf(json);
  return text !== undefined && /\bshop\b/i.test(text) && !/\b(device|did)\b/i.test(text);
}

/** The class of an answer outside 2xx, its body considered: an unknown shop is fatal, the rest by status. */
export function classifyRefusal(status: number, json: unknown, path?: string): AnswerClass {
  return isUnknownShop(status, json) ? 'fatal' : classifyStatus(status, path);
}

/**
 * A 2xx whose JSON `status` is not "success", per path (first match; elsewhere `rejected`: the tracking API refused the
 * one record the request carries). The order-sync API and the catalogue imports answer success once a batch is
 * queued and check its records later, reporting bad ones by e-mail (api-notes.md; REES46 `cdp/orders/sync.md`,
 * `catalog/import/api`); their documented errors (`{"status":"error","payload":{"message":"Shop not found"}}`) are
 * about the request. Such an answer to a batch refuses the request, not its thousand orders: the run stops (exit 3)
 * naming the settings, nothing of it filed, and the next run sends it again. Retrying (transient) would send the same
 * refused batch again at 40 a minute to end in exit 4 all the same, without saying which setting to look at.
 */
export const NON_SUCCESS_BODY_RULES: readonly { readonly path: string; readonly class: AnswerClass; readonly why: string }[] = [
  { path: '/sync/orders', class: 'fatal', why: 'the order-sync API checks orders only after queueing a batch: this refuses the request, not its orders' },
  { path: '/import/', class: 'fatal', why: 'the catalogue imports check records only after queueing them: this refuses the request, not its records' },
];

/** The rule for a 2xx with a non-success `status` on this path; undefined: the record is rejected. */
export function nonSuccessBodyRule(path: string): (typeof NON_SUCCESS_BODY_RULES)[number] | undefined {
  return NON_SUCCESS_BODY_RULES.find((rule) => (rule.path.endsWith('/') ? path.startsWith(rule.path) : path === rule.path));
}

/**
 * The class of an answer, or 'success'. A 2xx whose JSON `status` is present and not "success" is rejected (the API
 * refused the record in a success's clothes), or on a batch path a refusal of the request (NON_SUCCESS_BODY_RULES);
 * any other 2xx is a success only in the form its path documents.
 */
export function classifyAnswer(path: string, answer: Answer, json: unknown = answerJson(answer)): AnswerClass | 'success' {
  if (answer.status < 200 || answer.status >= 300) return classifyRefusal(answer.status, json, path);
  const apiStatus = apiStatusOf(json);
  if (apiStatus !== undefined && apiStatus !== 'success') return nonSuccessBodyRule(path)?.class ?? 'rejected';
  return isDocumentedSuccess(path, answer, json) ? 'success' : UNDOCUMENTED_SUCCESS_CLASS;
}

/** Network-level failures (no HTTP answer at all, or none within the timeout) are always transient. */
export const NETWORK_ERROR_CLASS: AnswerClass = 'transient';

/** Parse a Retry-After header (seconds or an HTTP date) into milliseconds; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw.trim() === '') return undefined;
  const trimmed = raw.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
