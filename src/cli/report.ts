/**
 * `report [--from D --to D] [--html FILE] [--json] [--verify N]`: per day, the shop's orders against the books; carts
 * and wishlists; with --verify, N delivered orders read back from PersonaClick (exit 5 when any is missing or different,
 * exit 4 when every customer's read is answered with an empty list: not believed, nothing filed).
 */
import { writeFile } from 'node:fs/promises';
import { secretsOf, type Config } from '../config/index.js';
import { ConfigError, ExitCode, toError } from '../errors.js';
import { collectReport, type ReportRange } from '../report/collect.js';
import { reportHtml } from '../report/html.js';
import { formatReport } from '../report/table.js';
import { EvenSample, fileVerify, formatVerify, verified as confirmed, verifyOrders, type DeliveredOrder, type VerifyResult } from '../report/verify.js';
import { maskAll, outwardText, terminalSafeJson } from '../outward.js';
import { openSource, sourceOptionsOf } from '../source/db.js';
import { openStateDb } from '../state/db.js';
import { pendingMigrations } from '../state/migrate.js';
import { parseDay } from '../dates.js';
import type { CliArgs } from './args.js';
import type { CliIo } from './main.js';

/** Days the report covers when --from is not given. */
export const DEFAULT_DAYS = 30;
const MAX_DAYS = 3660;
const DAY = 86_400_000;

export function reportRange(from: string | undefined, to: string | undefined, now: Date = new Date()): ReportRange {
  const day = (flag: string, raw: string): number => {
    const t = parseDay(raw);
    if (t === undefined) throw new ConfigError(`${flag}: must be a date, YYYY-MM-DD (got "${raw}")`);
    return t;
  };
  const end = to === undefined ? Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) + DAY : day('--to', to);
  const start = from === undefined ? end - DEFAULT_DAYS * DAY : day('--from', from);
  if (start >= end) throw new ConfigError(`--from must be before --to (got ${from ?? iso(start)} .. ${to ?? iso(end)}; --to is exclusive)`);
  if ((end - start) / DAY > MAX_DAYS) throw new ConfigError(`--from .. --to: at most ${MAX_DAYS} days at once`);
  return { from: iso(start), to: iso(end) };
}

const iso = (t: number): string => new Date(t).toISOString().slice(0, 10);

/** Where the shop secret comes from, for the line that refuses --verify without one. */
const NO_SECRET =
  'report --verify: reading orders back (GET /orders/by_user) needs the shop secret: set personaclick.shopSecret ' +
  '(the secret key of the shop in the PersonaClick account; keep it in the environment, e.g. shopSecret: ${PERSONACLICK_SHOP_SECRET})';

export async function reportCommand(config: Config, args: CliArgs, io: CliIo): Promise<number> {
  const range = reportRange(args.from, args.to);
  if (args.verify !== undefined) {
    if (config.jobs.orders === undefined) throw new ConfigError('report --verify: the configuration has no orders job, so no order was delivered to read back');
    if (config.personaclick.shopSecret === undefined) throw new ConfigError(NO_SECRET);
  }
  const sample = args.verify === undefined ? undefined : new EvenSample<DeliveredOrder>(args.verify);
  const state = openStateDb(config.state.url, config.state.schema, { applicationName: config.source.applicationName });
  const source = openSource(sourceOptionsOf(config.source));
  try {
    const pending = await pendingMigrations(state);
    if (pending.length > 0)
      throw new ConfigError(`the state schema "${config.state.schema}" needs migrations (${pending.join(', ')}): run personaclick-sync migrate`);
    const data = await collectReport(config, source, state, range, new Date(), sample);
    let verified: VerifyResult | undefined;
    if (sample !== undefined) {
      const equal: string[] = [];
      verified = await verifyOrders(config, source, state, sample.result(), sample.offered, sample.n, (id) => equal.push(id));
      // The missing and different become unconfirmed failures (replay --class unconfirmed repairs them); the exit code stays the read-back's.
      await fileVerify(state, verified, equal);
    }
    if (args.html !== undefined) {
      try {
        await writeFile(args.html, reportHtml(data), 'utf8');
      } catch (caught) {
        throw new ConfigError(`--html: cannot write ${args.html} (${toError(caught).message})`);
      }
    }
    const text = args.json
      ? `${JSON.stringify(verified === undefined ? data : { ...data, verify: verified }, null, 2)}\n`
      : `${formatReport(data)}\n${verified === undefined ? '' : `\n${formatVerify(verified)}\n`}${args.html !== undefined ? `\nWrote ${args.html}\n` : ''}`;
    // What was read back comes from PersonaClick's answers, scrubbed there; once more here (outward.ts): the secrets in
    // any spelling and the customers' e-mails and phones; each line of the text form one printable, bounded line.
    const secrets = secretsOf(config);
    io.stdout.write(
      args.json
        ? terminalSafeJson(maskAll(text, secrets))
        : text
            .split('\n')
            .map((line) => outwardText(line, secrets, 10_000))
            .join('\n'),
    );
    if (verified?.emptyForAll === true) return ExitCode.apiUnavailable;
    return verified !== undefined && !confirmed(verified) ? ExitCode.mismatch : ExitCode.ok;
  } finally {
    await Promise.allSettled([state.close(), source.close()]);
  }
}
