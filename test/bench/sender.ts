/**
 * The ceiling: a bare keep-alive undici client sending already-built request bodies, nothing else.
 * `node sender.js <ndjson file> <api url> <concurrency>`: reads the `{path, body}` lines of a --dry-run, serialises
 * each body once (as the connector's client does, JSON.stringify), then times sending them all; prints one JSON line.
 * `sendAll` is also used in-process (placement.ts).
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Agent, request } from 'undici';

export interface SenderResult {
  requests: number;
  ms: number;
  failed: number;
  /** CPU time (user + system) of the process while sending, ms. */
  cpuMs: number;
}

export interface Prepared {
  url: string;
  body: string;
}

export function loadBodies(file: string, apiUrl: string, limit = Number.POSITIVE_INFINITY): Prepared[] {
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '');
  return lines.slice(0, limit).map((line) => {
    const { path, body } = JSON.parse(line) as { path: string; body: unknown };
    return { url: `${apiUrl}${path}`, body: JSON.stringify(body) };
  });
}

export async function sendAll(requests: readonly Prepared[], concurrency: number): Promise<SenderResult> {
  const agent = new Agent({ connections: concurrency, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 60_000 });
  let next = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    for (let r = requests[next++]; r !== undefined; r = requests[next++]) {
      const res = await request(r.url, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: r.body,
      });
      await res.body.text();
      if (res.statusCode >= 300) failed += 1;
    }
  };
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  await agent.close();
  return { requests: requests.length, ms, failed, cpuMs: (cpu.user + cpu.system) / 1000 };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [file, url, concurrency] = process.argv.slice(2);
  if (file === undefined || url === undefined || concurrency === undefined) throw new Error('usage: sender.js <ndjson> <url> <concurrency>');
  const result = await sendAll(loadBodies(file, url), Number(concurrency));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
