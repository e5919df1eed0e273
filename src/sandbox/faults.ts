/**
 * Fault injection for the sandbox: the fault config (checked by zod, so the HTTP control endpoint and
 * `setFaults` refuse typos alike) and the per-request decisions, drawn from a seeded PRNG when `seed`
 * is given so that a run can be repeated exactly.
 */
import { z } from 'zod';
import { CapacityModel, capacityConfigSchema, type CapacityConfig } from './capacity.js';

export interface RejectRule {
  /**
   * Top-level body field, e.g. `order_id` or `did`; for `POST /sync/orders` also a field of any
   * order in the batch (e.g. `id`: the whole batch is refused), for `GET /orders/by_user` a query parameter.
   */
  field: string;
  /** Matched against the field's value as text, so `5` and `"5"` are the same. */
  equals: string | number;
  /** Default 400. */
  status?: 400 | 404 | 422 | undefined;
  message: string;
  /** Where the error text goes: `{"status":"error","message":…}` (default) or `{"status":"error","payload":{"message":…}}`. */
  messageIn?: 'message' | 'payload' | undefined;
}

export interface FaultConfig {
  /** Added before answering; a range is drawn uniformly. */
  latencyMs?: number | [number, number] | undefined;
  /** 0..1: answer 503 (or `status5xx`). */
  error5xxRate?: number | undefined;
  status5xx?: 500 | 502 | 503 | undefined;
  /** 0..1: answer 429 with Retry-After. */
  rate429?: number | undefined;
  /** Default 1; sent with 429, and with 503 when set. */
  retryAfterSeconds?: number | undefined;
  /** 0..1: destroy the socket without answering. */
  resetRate?: number | undefined;
  /** 0..1: never answer (until the client gives up or the server closes). */
  hangRate?: number | undefined;
  /** Every request answers 503. */
  down?: boolean | undefined;
  /** Every request answers 403 `{"status":"error","message":"Shop is inactive"}`. */
  forbidden?: boolean | undefined;
  /** The next `count` requests answer `status`. */
  failNext?: { count: number; status: number; retryAfterSeconds?: number | undefined } | undefined;
  /** Data-level rejections of otherwise valid requests; the first matching rule wins. */
  reject?: RejectRule[] | undefined;
  /** Makes every random decision (faults and latency) reproducible. */
  seed?: number | undefined;
  /** A server of limited capacity (capacity.ts): K at once at L ms, the rest queued, 429 above R a second. */
  capacity?: CapacityConfig | undefined;
  /** Every accepted `GET /orders/by_user` answers `{"status":"success","data":{"orders":[]}}`: no customer has an order. */
  byUserEmpty?: boolean | undefined;
  /**
   * Every accepted `POST /sync/orders` is answered HTTP 200 `{"status": status, "payload": {"message": message}}` and
   * nothing of it is kept: a batch refused in a success's clothes.
   */
  syncAnswer?: { status: string; message: string } | undefined;
}

const rate = z.number().min(0).max(1);
const seconds = z.number().int().min(0);
const millis = z.number().min(0);

export const faultConfigSchema = z.strictObject({
  latencyMs: z.union([millis, z.tuple([millis, millis]).refine(([lo, hi]) => lo <= hi, 'latencyMs range must be [min, max]')]).optional(),
  error5xxRate: rate.optional(),
  status5xx: z.union([z.literal(500), z.literal(502), z.literal(503)]).optional(),
  rate429: rate.optional(),
  retryAfterSeconds: seconds.optional(),
  resetRate: rate.optional(),
  hangRate: rate.optional(),
  down: z.boolean().optional(),
  forbidden: z.boolean().optional(),
  failNext: z.strictObject({ count: z.number().int().min(0), status: z.number().int().min(200).max(599), retryAfterSeconds: seconds.optional() }).optional(),
  reject: z
    .array(
      z.strictObject({
        field: z.string().min(1),
        equals: z.union([z.string(), z.number()]),
        status: z.union([z.literal(400), z.literal(404), z.literal(422)]).optional(),
        message: z.string(),
        messageIn: z.enum(['message', 'payload']).optional(),
      }),
    )
    .optional(),
  seed: z.number().int().optional(),
  capacity: capacityConfigSchema.optional(),
  byUserEmpty: z.boolean().optional(),
  syncAnswer: z.strictObject({ status: z.string(), message: z.string() }).optional(),
}) satisfies z.ZodType<FaultConfig>;

/** Parse a fault config, throwing one message that lists every bad key. */
export function parseFaults(value: unknown): FaultConfig {
  const parsed = faultConfigSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new Error(`invalid fault config: ${problems.join('; ')}`);
}

/** What a fault makes of a request, decided before the request is looked at. */
export type FaultDecision =
  | { kind: 'answer'; fault: 'down' | 'forbidden' | 'failNext' | 'error5xx' | 'rate429'; status: number; retryAfterSeconds?: number }
  | { kind: 'reset' }
  | { kind: 'hang' };

/** mulberry32: a tiny, fast PRNG giving uniform numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Keeps the current fault config and decides, request by request, which fault (if any) applies. */
export class Faults {
  private config: FaultConfig = {};
  private failNextLeft = 0;
  private faultRandom: () => number = Math.random;
  private latencyRandom: () => number = Math.random;
  /** The capacity model of the config, if it has one: admits requests in decide(), then serves them (server.ts). */
  capacity: CapacityModel | undefined;

  constructor(config: FaultConfig = {}) {
    this.set(config);
  }

  /** Replace the config; re-seeds the PRNGs and restarts the `failNext` count. */
  set(config: FaultConfig): void {
    this.config = parseFaults(config);
    this.failNextLeft = this.config.failNext?.count ?? 0;
    this.capacity = this.config.capacity === undefined ? undefined : new CapacityModel(this.config.capacity);
    const seed = this.config.seed;
    // Latency draws have their own stream, so turning latency on does not shift the fault pattern.
    this.faultRandom = seed === undefined ? Math.random : mulberry32(seed);
    this.latencyRandom = seed === undefined ? Math.random : mulberry32(seed ^ 0x5bd1e995);
  }

  get(): FaultConfig {
    return this.config;
  }

  /**
   * The fault for the next request, in the order down, forbidden, failNext, the capacity model's rate limit (its 429s
   * count as rate429), then one random draw
   * split into shares: [0, error5xxRate) → 5xx, then rate429 → 429, then resetRate, then hangRate.
   */
  decide(): FaultDecision | undefined {
    const c = this.config;
    if (c.down) return { kind: 'answer', fault: 'down', status: 503, ...this.retryAfter(503) };
    if (c.forbidden) return { kind: 'answer', fault: 'forbidden', status: 403 };
    if (this.failNextLeft > 0 && c.failNext) {
      this.failNextLeft -= 1;
      const { status, retryAfterSeconds } = c.failNext;
      return { kind: 'answer', fault: 'failNext', status, ...this.retryAfter(status, retryAfterSeconds) };
    }
    const retryAfterSeconds = this.capacity?.admit(Date.now());
    if (retryAfterSeconds !== undefined) return { kind: 'answer', fault: 'rate429', status: 429, retryAfterSeconds };
    const e5xx = c.error5xxRate ?? 0;
    const r429 = c.rate429 ?? 0;
    const reset = c.resetRate ?? 0;
    const hang = c.hangRate ?? 0;
    if (e5xx + r429 + reset + hang <= 0) return undefined;
    let u = this.faultRandom();
    if (u < e5xx) {
      const status = c.status5xx ?? 503;
      return { kind: 'answer', fault: 'error5xx', status, ...this.retryAfter(status) };
    }
    u -= e5xx;
    if (u < r429) return { kind: 'answer', fault: 'rate429', status: 429, ...this.retryAfter(429) };
    u -= r429;
    if (u < reset) return { kind: 'reset' };
    u -= reset;
    if (u < hang) return { kind: 'hang' };
    return undefined;
  }

  /** Milliseconds to wait before the next answer. */
  latency(): number {
    const l = this.config.latencyMs;
    if (l === undefined) return 0;
    if (typeof l === 'number') return l;
    const [lo, hi] = l;
    return lo + this.latencyRandom() * (hi - lo);
  }

  /** The first reject rule matching a top-level field of the body. */
  rejectRule(body: Record<string, unknown>): RejectRule | undefined {
    const rules = this.config.reject;
    if (rules === undefined) return undefined;
    for (const rule of rules) {
      const value = body[rule.field];
      if ((typeof value === 'string' || typeof value === 'number') && String(value) === String(rule.equals)) return rule;
    }
    return undefined;
  }

  /** Retry-After: an explicit value wins; 429 always carries one (default 1 s); 503 only when configured. */
  private retryAfter(status: number, explicit?: number): { retryAfterSeconds?: number } {
    const configured = this.config.retryAfterSeconds;
    const value = explicit ?? (status === 429 ? (configured ?? 1) : status === 503 ? configured : undefined);
    return value === undefined ? {} : { retryAfterSeconds: value };
  }
}
