/**
 * A small TCP proxy in front of Postgres, so a test can make a database unreachable: `outage(ms)` drops every
 * connection at once (TCP reset) and refuses new ones (the port is closed) for `ms`, then accepts again.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** `127.0.0.1:<port>`, for a database URL. */
  hostPort: string;
  /** Connections the proxy has accepted so far. */
  accepted(): number;
  /** Connections it has dropped in outages. */
  dropped(): number;
  /** Drop everything and refuse connections for `ms`; resolves when the proxy accepts again. */
  outage(ms: number): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const clients = new Set<Socket>();
  let accepted = 0;
  let dropped = 0;

  const server: Server = createServer((client) => {
    accepted += 1;
    clients.add(client);
    client.on('close', () => clients.delete(client));
    const upstream = connect(targetPort, targetHost);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  const port = address.port;

  const closeServer = () => new Promise<void>((resolve) => server.close(() => resolve()));
  const dropAll = () => {
    dropped += clients.size;
    clients.clear();
    for (const s of sockets) s.resetAndDestroy();
    sockets.clear();
  };

  return {
    port,
    hostPort: `127.0.0.1:${port}`,
    accepted: () => accepted,
    dropped: () => dropped,
    async outage(ms) {
      const closed = closeServer();
      dropAll();
      await closed;
      await new Promise((r) => setTimeout(r, ms));
      await listen(port);
    },
    async close() {
      const closed = server.listening ? closeServer() : Promise.resolve();
      dropAll();
      await closed;
    },
  };
}
