/**
 * `schedule`'s HTTP endpoint: GET /metrics (Prometheus text format) and GET /healthz (the scheduler is up: 200
 * with what each job last did; 503 once it is stopping). Nothing else is served.
 *
 * It listens where it is told (metrics.host, default 127.0.0.1: this machine only) and holds up against whoever
 * reaches it: at most SERVER_LIMITS.maxConnections connections at once (more are closed as they come, so a flood
 * never takes the file descriptors a run needs), the headers within headersTimeoutMs, the whole request within
 * requestTimeoutMs, an idle keep-alive connection closed after keepAliveTimeoutMs, a silent socket after
 * idleTimeoutMs. A malformed request is answered 400 and counted, never logged one line each; the count is logged
 * once a minute at most, and when the server closes.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { toError } from '../errors.js';
import type { Logger } from '../log.js';
import type { SyncMetrics } from './metrics.js';

export const SERVER_LIMITS = {
  maxConnections: 64,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 10_000,
  /** How often the timeouts above are checked (Node's default is 30 s). */
  checkIntervalMs: 1_000,
  /** At most one log line about malformed requests in this time. */
  malformedLogMs: 60_000,
} as const;

export interface Health {
  /** false once the scheduler is stopping. */
  ok: boolean;
  [key: string]: unknown;
}

export interface MetricsServer {
  /** http://host:port of the listening server, as it really listens. */
  url: string;
  host: string;
  port: number;
  /** Malformed requests (timed out ones among them) so far. */
  readonly malformed: number;
  /** Connections closed as they came because maxConnections were open. */
  readonly dropped: number;
  close(): Promise<void>;
}

export interface MetricsServerOptions {
  port: number;
  /** Default 127.0.0.1. */
  host?: string | undefined;
  metrics: SyncMetrics;
  health: () => Health;
  log: Logger;
  /** Test hooks: tighter limits. */
  limits?: Partial<typeof SERVER_LIMITS>;
}

export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const limits = { ...SERVER_LIMITS, ...opts.limits };
  const counts = { malformed: 0, dropped: 0 };
  let logged = 0;
  let lastLog = 0;
  const total = (): number => counts.malformed + counts.dropped;
  const tell = (): void => {
    logged = total();
    opts.log.warn({ ...counts }, 'metrics server: malformed requests, and connections over the cap closed (counted, not logged one by one)');
  };
  const count = (kind: keyof typeof counts): void => {
    counts[kind] += 1;
    const now = Date.now();
    if (now - lastLog >= limits.malformedLogMs) {
      lastLog = now;
      tell();
    }
  };
  const countMalformed = (): void => count('malformed');
  const server: Server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: limits.checkIntervalMs,
      maxHeaderSize: 8 * 1024,
    },
    (req: IncomingMessage, res: ServerResponse) => {
      void answer(req, res).catch((caught: unknown) => {
        opts.log.error({ err: toError(caught), path: (req.url ?? '').slice(0, 200) }, 'metrics endpoint failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('error\n'); // the reason is in the log, never in the answer
      });
    },
  );
  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      countMalformed();
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }).end('bad request\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    if (path === '/metrics') {
      const text = await opts.metrics.text();
      res.writeHead(200, { 'content-type': opts.metrics.contentType }).end(req.method === 'HEAD' ? undefined : text);
      return;
    }
    if (path === '/healthz') {
      const health = opts.health();
      res.writeHead(health.ok ? 200 : 503, { 'content-type': 'application/json' }).end(req.method === 'HEAD' ? undefined : `${JSON.stringify(health)}\n`);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: try /metrics or /healthz\n');
  };
  server.maxConnections = limits.maxConnections;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.timeout = limits.idleTimeoutMs;
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  // A request Node cannot parse (or whose headers are too large or too late): 400, counted, not logged one by one.
  server.on('clientError', (_err: Error, socket: Socket) => {
    countMalformed();
    if (socket.writable && !socket.destroyed) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    socket.destroy();
  });
  server.on('drop', () => count('dropped'));

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => opts.log.error({ err }, 'metrics server error'));
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}`,
    host: address.address,
    port: address.port,
    get malformed() {
      return counts.malformed;
    },
    get dropped() {
      return counts.dropped;
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (total() > logged) tell();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
