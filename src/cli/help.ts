/** `personaclick-sync --help`: commands, options, environment, exit codes and examples. */
export const HELP = `personaclick-sync: keep PersonaClick in step with your shop's Postgres.

Usage: personaclick-sync <command> [options]

Commands
  migrate                         create or update the connector's own tables (safe to repeat)
  sync orders                     send orders changed since the last run as purchase events
  reconcile carts|wishlists       make PersonaClick's carts / wishlists equal the shop's (changed, new and gone ones)
  events                          send every row of the events model once (one-off migrations; re-runs resume)
  status [--json]                 watermarks, last runs with their counts, open failures by class
  sandbox [--port N] [--shop ID]  serve a local stand-in of the PersonaClick API (for trials and tests)
  demo                            run the whole path on an embedded sample shop (no servers needed)
  help                            this text

Options
  --config FILE    configuration file (default: $PERSONACLICK_SYNC_CONFIG, else config/personaclick-sync.yaml)
  --dry-run        build every request and print it as NDJSON on stdout; send nothing, write no state
  --limit N        stop after reading N rows
  --full           reconcile: re-send every cart or wishlist, not only the changed ones
  --json           machine-readable output (status)
  -h, --help       show this help
  -v, --version    print the version

Environment
  PERSONACLICK_SYNC_CONFIG   configuration file path
  LOG_LEVEL                  trace | debug | info (default) | warn | error | silent
  LOG_PRETTY                 1 = human-readable logs, 0 = JSON (default: pretty only on a terminal)
  any \${VAR} the configuration file names (database URLs, the shop id)

Exit codes
  0    done
  1    failed (an unexpected error; see the log)
  2    bad configuration or usage
  3    PersonaClick refused the shop (HTTP 401/403): nothing would succeed
  4    PersonaClick stayed unavailable after every retry; the next run resumes
  75   skipped: another runner holds this job's lock
  130  interrupted by SIGINT; 143 interrupted by SIGTERM

Examples
  personaclick-sync migrate --config /etc/personaclick-sync.yaml
  personaclick-sync sync orders --dry-run --limit 5 | jq .
  */5 * * * *  personaclick-sync sync orders       (crontab: every five minutes)
  0 3 * * *    personaclick-sync reconcile carts     (crontab: nightly)
  personaclick-sync reconcile wishlists --full
  personaclick-sync events --config migration.yaml
  personaclick-sync status --json
  personaclick-sync sandbox --port 8080
`;
