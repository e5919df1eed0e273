/** `personaclick-sync --help`: commands (the job commands from the job table), options, environment, exit codes and examples. */
import { COMMANDS } from '../../jobs/index.js';

/** A usage too long for its column puts the summary on the next line, in the column. */
const jobCommands = COMMANDS.map((c) => (c.usage.length < 32 ? `  ${c.usage.padEnd(33)}${c.summary}` : `  ${c.usage}\n  ${''.padEnd(33)}${c.summary}`)).join(
  '\n',
);

export const HELP = `personaclick-sync: keep PersonaClick in step with your shop's Postgres.

Usage: personaclick-sync <command> [options]

Commands
  migrate                          create or update the connector's own tables (safe to repeat, and to run twice at once)
${jobCommands}
  status [--json]                  watermarks, last runs with their counts and volume alerts, open failures by class
  report [--from D --to D]         per day: the shop's orders against delivered, invalid, rejected, not sent;
         [--html FILE] [--json]    carts and wishlists: the shop's devices against the ledger's (default: 30 days);
         [--verify N]              with --verify, N delivered orders read back from PersonaClick (exit 5 on a difference, 4 when all answer empty)
  check                            validate the config, connect to both databases, test every model, estimate its cost, advise indexes
  schedule                         run the jobs of the config on their cron expressions (long-running)
  sandbox [--port N] [--shop ID]   serve a local stand-in of the PersonaClick API (for trials and tests)
  demo                             run the whole path on an embedded sample shop (no servers needed)
  help                             this text

Options
  --config FILE      configuration file (default: $PERSONACLICK_SYNC_CONFIG, else config/personaclick-sync.yaml)
  --dry-run          build every request and print it as NDJSON on stdout; send nothing, write no state
  --limit N          stop after reading N rows
  --full             reconcile: re-send every cart, wishlist, category or product, not only the changed ones
  --from D, --to D   backfill: the updated_at range, ISO dates or datetimes (UTC when no offset); --to is exclusive
                     report: the days, YYYY-MM-DD (UTC); --to is exclusive
  --via push|sync    backfill: the order-sync API with real dates (sync, the default; needs personaclick.shopSecret),
                     or live purchase events dated when they arrive (push)
  --old-orders-as-new  backfill --via push: also send orders placed before jobs.orders.newPurchaseHours (default 48)
                     (they count as bought today)
  --yes              backfill: go on with a first backfill of a range without asking (it tells its customers' orders,
                     and each can start a PersonaClick trigger chain that mails them); without it a terminal asks for
                     a typed yes, and without a terminal the backfill stops (exit 2); a dry run needs none
  --job J            replay: only this job's failures (orders, carts, wishlists, events, categories, products)
  --class C          replay: only invalid, rejected, warning, unconfirmed or held failures (warning: sent without a bad
                     optional field; unconfirmed: a delivered order report --verify found missing or different at
                     PersonaClick, sent again whole through the order-sync API; held: an order only the order-sync API
                     can carry, kept back while personaclick.shopSecret was not set)
  --since D          replay: only failures that happened at or after D
  --shard i/N        run shard i (0-based) of N: rows split by a hash of their key, own watermark and lock
  --shards N         the same, with i from JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs)
  --json             machine-readable output (status, check, report)
  --metrics-file F   job commands: write the run's metrics to F (node_exporter textfile, *.prom) when it ends
  --html FILE        report: also write a self-contained HTML page with a chart of the days
  --verify N         report: read up to N delivered orders of the range (both roads; at most 10000) back from
                     PersonaClick (GET /orders/by_user, one request per customer; needs personaclick.shopSecret) and
                     compare status, total and products with quantities against what the connector would send now.
                     The sample: the range's delivered orders in the sync's order (updated_at, order_id), evenly
                     spaced, so the same orders each time while the books stay the same. Each missing or
                     different order is filed as an unconfirmed failure (replay --class unconfirmed repairs it)
  -h, --help         show this help
  -v, --version      print the version

Environment
  PERSONACLICK_SYNC_CONFIG   configuration file path
  LOG_LEVEL                  trace | debug | info (default) | warn | error | silent
  LOG_PRETTY                 1 = human-readable logs, 0 = JSON (default: pretty only on a terminal)
  JOB_COMPLETION_INDEX       the shard index, with --shards N
  any \${VAR} the configuration file names (database URLs, the shop id)

Settings (in the configuration file; see config/personaclick-sync.example.yaml and docs/)
  source.timezone            IANA zone of the models' timestamp without time zone columns (e.g. UTC for a Rails shop,
                             Europe/Berlin); default: the shop database's TimeZone setting, else UTC; never the host's
                             zone. check names the naive columns and the zone applied (docs/configuration-dates.md)

Exit codes
  0    done
  1    failed (an unexpected error; see the log)
  2    bad configuration or usage, a model error (a required column missing, an order given twice), or a first
       backfill without a yes
  3    PersonaClick refused the shop (HTTP 401/403; 400 from a catalogue import: a wrong shop secret), does not know it
       (404), or refused a whole order-sync batch alike in both halves: nothing would succeed; the line names the
       setting to check
  4    PersonaClick stayed unavailable after every retry; the next run resumes where this one stopped
  5    report --verify: an order read back is missing or different at PersonaClick, or its read was refused
  75   skipped: another runner holds this job's lock
  130  interrupted by SIGINT; 143 interrupted by SIGTERM

Examples
  personaclick-sync migrate --config /etc/personaclick-sync.yaml
  personaclick-sync check
  personaclick-sync sync orders --dry-run --limit 5 | jq .
  */5 * * * *  personaclick-sync sync orders          (crontab: every five minutes)
  0 3 * * *    personaclick-sync reconcile carts       (crontab: nightly)
  */15 * * * * personaclick-sync sync products        (the products changed since the last run; categories first)
  30 2 * * *   personaclick-sync reconcile products    (nightly: removed products out, availability mirrored)
  personaclick-sync backfill orders --from 2021-01-01 --to 2024-01-01 --yes --shard 0/4
  personaclick-sync replay --class invalid --since 2024-06-01
  personaclick-sync status --json
  personaclick-sync sync orders --metrics-file /var/lib/node_exporter/textfile/personaclick_orders.prom
  personaclick-sync report --from 2024-06-01 --to 2024-07-01 --html report.html
  personaclick-sync report --from 2024-06-01 --to 2024-07-01 --verify 200
  personaclick-sync replay --class unconfirmed        (send again what report --verify found missing or different)
  personaclick-sync replay --class held               (once personaclick.shopSecret is set: the orders held for it)
  personaclick-sync schedule                          (one long-running process instead of crontab lines;
                                                       /metrics and /healthz on metrics.host (default 127.0.0.1):metrics.port)

Catalogue settings (docs/catalogue.md)
  jobs.categories    query (id, name, parent, url, alias), batchSize (<= 5000), replaceTree (the whole tree in one POST)
  jobs.products      query (id, name, price, url, picture, available, categories, currency, … updated_at), batchSize
                     (<= 5000), currency (when the model has none), zeroPrices (the shop enabled price 0), settleSeconds
  Every catalogue import and the order-sync API share one budget per shop: delivery.orderSyncPerMinute (default 40)
`;
