/** The public types of the payloads stage: what a builder takes and what it gives back. */

/** The PersonaClick endpoints a request can go to. */
export type ApiPath =
  '/push' | '/push/custom' | '/track/received' | '/track/clicked' | '/track/closed' | '/sync/orders' | '/import/products' | '/import/categories';

/** The HTTP method of a request: POST unless it says otherwise (the catalogue imports use PUT and DELETE too). */
export type ApiMethod = 'POST' | 'PUT' | 'DELETE' | 'PATCH';

/** A value that survives `JSON.stringify` unchanged. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

/** A JSON object: the body of a request. */
export type JsonObject = { [k: string]: JsonValue };

/** One request, ready to send. */
export interface ApiRequest {
  path: ApiPath;
  /** POST when absent. */
  method?: ApiMethod | undefined;
  body: { [k: string]: JsonValue };
}

/**
 * A bad value in an optional column that was left out of the request (see policy.ts): the field as the builder
 * names it (`order_cash`, `items[0].line_id`, `custom.gift`), the value as a short one-line picture, and the whole
 * reason (`order_cash: must be a non-negative finite number (got -5); left out`).
 */
export interface BuildWarning {
  field: string;
  value: string;
  reason: string;
}

/**
 * A builder's answer: a request (with the warnings of the optional fields it left out, empty when none), or the
 * one-line reason the row cannot make one.
 */
export type BuildResult = { ok: true; request: ApiRequest; warnings: BuildWarning[] } | { ok: false; reason: string };

/** What a builder needs besides the row: the shop and the stream to use when a row names none. */
export interface BuildContext {
  shopId: string;
  defaultStream: string;
}

/**
 * A row as node-postgres returns it: numeric/bigint arrive as strings, timestamptz/timestamp/date as
 * JS Date (or string), json/jsonb as parsed values, null for SQL NULL.
 */
export type Row = Record<string, unknown>;

/** The outcome of checking or coercing one value. */
export type Check<T> = { ok: true; value: T } | Failure;
export interface Failure {
  ok: false;
  reason: string;
}
