/** Test helpers for the sandbox's own tests: start sandboxes that close after each test, and call them over real HTTP. */
import { Agent, request, type Dispatcher } from 'undici';
import { afterAll, afterEach } from 'vitest';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.js';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: () => unknown;
}

export interface CallInit {
  method?: Dispatcher.HttpMethod;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is (with a JSON content type). */
  raw?: string;
  dispatcher?: Dispatcher;
}

/** Registers afterEach / afterAll hooks in the calling test file; returns its `sandbox` and `call`. */
export function sandboxClient(): {
  sandbox: (opts?: SandboxOptions) => Promise<Sandbox>;
  call: (sb: Sandbox, path: string, init?: CallInit) => Promise<Reply>;
  post: (sb: Sandbox, path: string, body: unknown) => Promise<Reply>;
} {
  const agent = new Agent({ keepAliveTimeout: 10_000 });
  const open: Sandbox[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((sb) => sb.close()));
  });
  afterAll(async () => {
    await agent.close();
  });

  const sandbox = async (opts: SandboxOptions = {}): Promise<Sandbox> => {
    const sb = await startSandbox(opts);
    open.push(sb);
    return sb;
  };

  const call = async (sb: Sandbox, path: string, init: CallInit = {}): Promise<Reply> => {
    const payload = init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
    const res = await request(`${sb.url}${path}`, {
      method: init.method ?? 'POST',
      dispatcher: init.dispatcher ?? agent,
      ...(payload === undefined ? {} : { body: payload, headers: { 'content-type': 'application/json' } }),
    });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) as unknown };
  };

  return { sandbox, call, post: (sb, path, body) => call(sb, path, { body }) };
}

/** The error text of an error answer: `message`, or `payload.message` (the order-sync API's form). */
export function errorMessage(reply: Reply): string {
  const body = reply.json() as { message?: string; payload?: { message?: string } };
  return body.message ?? body.payload?.message ?? '';
}
