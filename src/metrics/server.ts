/**
 * `schedule`'s HTTP endpoint: GET /metrics (Prometheus text format) and GET /healthz (the scheduler is up: 200
 * with what each job last did; 503 once it is stopping). Nothing else is served.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toError } from '../errors.js';
import type { Logger } from '../log.js';
import type { SyncMetrics } from './metrics.js';

export interface Health {
  /** false once the scheduler is stopping. */
  ok: boolean;
  [key: string]: unknown;
}

export interface MetricsServer {
  /** http://host:port of the listening server. */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startMetricsServer(opts: { port: number; host?: string; metrics: SyncMetrics; health: () => Health; log: Logger }): Promise<MetricsServer> {
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void answer(req, res).catch((caught: unknown) => {
      const err = toError(caught);
      opts.log.error({ err, path: req.url }, 'metrics endpoint failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`error: ${err.message}\n`);
    });
  });
  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
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
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => opts.log.error({ err }, 'metrics server error'));
  const port = (server.address() as AddressInfo).port;
  const shownHost = opts.host === undefined || opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
