/** pino JSON logs with secrets redacted; the pretty form (log-pretty.ts) only when a person watches a terminal. */
import { pino, type Logger, type LoggerOptions } from 'pino';
import { prettyPrinter } from './log-pretty.js';
import { maskAll, terminalSafeJson } from './outward.js';

export type { Logger };

const REDACT_PATHS = [
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'shopSecret',
  '*.shopSecret',
  'secret',
  '*.secret',
];

export interface LoggerSetup {
  /** Strings that must never reach a log line (database passwords, the shop secret). */
  secrets?: readonly string[];
  level?: string;
  /** Where JSON lines go; default stderr so that stdout stays free for --dry-run NDJSON and --json output. */
  destination?: NodeJS.WritableStream;
  pretty?: boolean;
  /** Where `LOG_LEVEL` and `LOG_PRETTY` are read (the command's environment); default process.env. */
  env?: NodeJS.ProcessEnv;
}

export function createLogger(setup: LoggerSetup = {}): Logger {
  const env = setup.env ?? process.env;
  const level = setup.level ?? env.LOG_LEVEL ?? 'info';
  const secrets = (setup.secrets ?? []).filter((s) => s.length >= 3);
  const destination = setup.destination ?? process.stderr;
  const pretty = setup.pretty ?? (env.LOG_PRETTY === '1' || (env.LOG_PRETTY !== '0' && isTerminal(destination)));
  // JSON lines: DEL and the C1 controls escaped; pretty lines: every control character shown as its escape (log-pretty.ts).
  const shown = pretty ? prettyPrinter() : terminalSafeJson;
  const options: LoggerOptions = {
    level,
    base: { app: 'personaclick-sync' },
    redact: { paths: REDACT_PATHS, censor: '***' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // Every line is a way out: the secrets and the customers' e-mails and phones an echoed answer carries are masked (outward.ts).
    hooks: { streamWrite: (line: string) => shown(maskAll(line, secrets)) },
  };
  return pino(options, destination);
}

function isTerminal(stream: NodeJS.WritableStream): boolean {
  return 'isTTY' in stream && stream.isTTY === true;
}

/** A logger that prints nothing (tests, library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
