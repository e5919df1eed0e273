/**
 * A hostile stand-in for the PersonaClick API over real HTTP (node:http): it answers each request the way a test
 * tells it to, including ways the real API never would but a proxy, a captive portal or a broken deployment in front
 * of it does: HTML pages with 200, `null`, empty bodies, bodies that trickle a byte a second, never end, or run to
 * hundreds of megabytes (streamed from one reused buffer, never allocated whole), redirects.
 * It judges nothing: the sandbox checks the requests elsewhere. Unanswered paths get the documented success.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type HostileAnswer =
  /** A whole answer at once. */
  | { kind: 'fixed'; status: number; body?: string; headers?: Record<string, string> }
  /** Headers at once, then the body one byte every `everyMs` (default 1000). */
  | { kind: 'trickle'; status: number; body: string; everyMs?: number }
  /** A chunked body of 64 KiB chunks that never ends (as fast as the client reads) until the client goes. */
  | { kind: 'endless'; status: number }
  /** A body of `bytes` bytes with its Content-Length, written as fast as the client reads. */
  | { kind: 'huge'; status: number; bytes: number };

export interface HostileRequest {
  path: string;
  /** Date.now() when the request's body had arrived (the answer starts then). */
  at: number;
  /** order_id, else event_key-like fields (did, code) of the JSON body. */
  key: string | undefined;
  /** Which TCP connection it came on (1, 2, … in order of connection). */
  connection: number;
}

export interface HostileServer {
  url: string;
  /** How to answer requests to `path` (a function sees the request); other paths get the documented success. */
  on(path: string, answer: HostileAnswer | ((req: HostileRequest) => HostileAnswer)): void;
  /** Back to the documented success everywhere, and forget what was seen. */
  reset(): void;
  requests(): readonly HostileRequest[];
  /** Keys answered with the documented success, and how many times each. */
  accepted(): ReadonlyMap<string, number>;
  /** TCP connections accepted so far, and how many of them are still open. */
  connections(): { opened: number; open: number };
  /** Body bytes written so far (to every client). */
  bytesSent(): number;
  close(): Promise<void>;
}

/** What the API documents as success for each path (api-notes.md, "Responses and errors"). */
export const DOCUMENTED_SUCCESS: Readonly<Record<string, HostileAnswer>> = {
  '/push': { kind: 'fixed', status: 200, body: '{"status":"success"}', headers: { 'content-type': 'application/json; charset=utf-8' } },
  '/push/custom': { kind: 'fixed', status: 204 },
  '/track/received': { kind: 'fixed', status: 200 },
  '/track/clicked': { kind: 'fixed', status: 200 },
  '/track/closed': { kind: 'fixed', status: 200 },
  '/sync/orders': { kind: 'fixed', status: 200, body: '{"status":"success"}', headers: { 'content-type': 'application/json; charset=utf-8' } },
};

const CHUNK = Buffer.alloc(64 * 1024, 'x');

function keyOf(raw: string): string | undefined {
  try {
    const body = JSON.parse(raw) as unknown;
    if (typeof body !== 'object' || body === null) return undefined;
    const record = body as Record<string, unknown>;
    for (const field of ['order_id', 'did', 'code']) {
      const value = record[field];
      if (typeof value === 'string' || typeof value === 'number') return String(value);
    }
  } catch {
    return undefined;
  }
  return undefined;
}

export async function startHostileServer(): Promise<HostileServer> {
  const rules = new Map<string, HostileAnswer | ((req: HostileRequest) => HostileAnswer)>();
  const requests: HostileRequest[] = [];
  const accepted = new Map<string, number>();
  const sockets = new Map<Socket, number>();
  const timers = new Set<NodeJS.Timeout>();
  let opened = 0;
  let sent = 0;

  /** Write `bytes` (Infinity: forever) of filler, then `tail`, waiting for the client to read; stops when it goes. */
  function pump(res: ServerResponse, bytes: number, tail = ''): void {
    let left = bytes;
    let gone = false;
    const step = () => {
      while (left > 0 && !gone) {
        const n = Math.min(CHUNK.length, left);
        left -= n;
        sent += n;
        if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) return void res.once('drain', step);
      }
      if (!gone) {
        sent += tail.length;
        res.end(tail);
      }
    };
    res.on('close', () => (gone = true));
    step();
  }

  function trickle(res: ServerResponse, body: Buffer, everyMs: number): void {
    let i = 0;
    const timer = setInterval(() => {
      if (res.destroyed || i >= body.length) {
        clearInterval(timer);
        timers.delete(timer);
        if (!res.destroyed) res.end();
        return;
      }
      sent += 1;
      res.write(body.subarray(i, i + 1));
      i += 1;
    }, everyMs);
    timers.add(timer);
    res.on('close', () => {
      clearInterval(timer);
      timers.delete(timer);
    });
  }

  function answer(req: HostileRequest, res: ServerResponse): void {
    const rule = rules.get(req.path);
    const documented = DOCUMENTED_SUCCESS[req.path];
    const chosen = rule === undefined ? documented : typeof rule === 'function' ? rule(req) : rule;
    if (chosen === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"status":"error","message":"Not found"}');
      return;
    }
    if (chosen === documented && req.key !== undefined) accepted.set(req.key, (accepted.get(req.key) ?? 0) + 1);
    switch (chosen.kind) {
      case 'fixed': {
        const body = chosen.status === 204 || chosen.status === 304 ? '' : (chosen.body ?? '');
        const headers: Record<string, string | number> = { ...chosen.headers };
        if (chosen.status !== 204 && chosen.status !== 304) headers['content-length'] = Buffer.byteLength(body);
        sent += Buffer.byteLength(body);
        res.writeHead(chosen.status, headers).end(body);
        return;
      }
      case 'trickle': {
        const body = Buffer.from(chosen.body);
        res.writeHead(chosen.status, { 'content-type': 'application/json', 'content-length': body.length });
        res.flushHeaders();
        trickle(res, body, chosen.everyMs ?? 1000);
        return;
      }
      case 'endless':
        res.writeHead(chosen.status, { 'content-type': 'application/json' });
        res.write('{"status":"success","padding":"');
        pump(res, Number.POSITIVE_INFINITY);
        return;
      case 'huge': {
        // A JSON success with a long padding: whoever reads it all and parses it sees {"status":"success"}.
        const head = '{"status":"success","padding":"';
        const tail = '"}';
        res.writeHead(chosen.status, { 'content-type': 'application/json', 'content-length': chosen.bytes });
        res.write(head);
        sent += head.length;
        pump(res, chosen.bytes - head.length - tail.length, tail);
        return;
      }
    }
  }

  const server = createServer((incoming: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (c: Buffer) => chunks.push(c));
    incoming.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const path = (incoming.url ?? '/').split('?')[0] ?? '/';
      const req: HostileRequest = { path, at: Date.now(), key: keyOf(raw), connection: sockets.get(incoming.socket) ?? 0 };
      requests.push(req);
      answer(req, res);
    });
    incoming.on('error', () => undefined);
    res.on('error', () => undefined);
  });
  server.on('connection', (socket: Socket) => {
    opened += 1;
    sockets.set(socket, opened);
    socket.on('close', () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 65_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    on: (path, a) => void rules.set(path, a),
    reset: () => {
      rules.clear();
      requests.length = 0;
      accepted.clear();
    },
    requests: () => requests,
    accepted: () => accepted,
    connections: () => ({ opened, open: sockets.size }),
    bytesSent: () => sent,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const t of timers) clearInterval(t);
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
