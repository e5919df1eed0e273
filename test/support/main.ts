/**
 * The command line in-process: `main(argv, io)` with its own environment and captured stdout and stderr, answering as
 * `runCli` does. For tests of what a command prints and returns; a test of what only a real process shows (signals,
 * kill -9, the exit of the process itself, its memory) runs the built CLI instead (`./cli.ts`, tier `cli`).
 */
import { Writable } from 'node:stream';
import { main } from '../../src/cli/main.js';
import type { CliResult } from './cli.js';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** Run one command as the CLI would (LOG_LEVEL info, JSON logs, unless `env` says otherwise); never rejects. */
export async function runMain(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const stdout = new Capture();
  const stderr = new Capture();
  const env = { PATH: process.env.PATH, LOG_LEVEL: 'info', LOG_PRETTY: '0', ...opts.env };
  const code = await main(args, { stdout, stderr, env });
  // pino writes through the stream synchronously; one turn lets a last line land.
  await new Promise((resolve) => setImmediate(resolve));
  return { code, signal: null, stdout: stdout.text, stderr: stderr.text };
}
