#!/usr/bin/env bash
# No Docker engine runs here, so check what the Dockerfile relies on, the way `docker build` and `docker run` would:
#  1. The build context: .dockerignore, applied by @balena/dockerignore (a port of Docker's own matcher) to the
#     tracked files and to what a developer's checkout holds besides (a local config, .env files, node_modules,
#     dist, coverage), keeps every such local file out.
#  2. The build stage: its COPY sources, taken from that context, build in a clean copy.
#  3. The runtime stage: a production install (npm ci --omit=dev) holds no devDependency (the demo's embedded Postgres
#     is one), config/ holds only the example; run as the entrypoint runs it (node's flags from ENTRYPOINT, the
#     stage's ENV), `--help` starts, `demo` exits 2 with one line, and the shipped example config runs migrate, check,
#     reconcile carts, sync orders, backfill orders and status against a scratch database and the sandbox of the same
#     install.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
db="pcs_container_check_$$"
# The shop is read as a read-only role (docs/security.md), as an operator's first setup makes it; random name, dropped after.
ro_role="pcs_ro_check_$$_$RANDOM"
sandbox_pid=""
cleanup() {
  [ -z "$sandbox_pid" ] || kill "$sandbox_pid" 2>/dev/null || true
  psql -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  psql -q -d postgres -c "DROP ROLE IF EXISTS $ro_role" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "container check: $*" >&2
  exit 1
}

# ── 1. The build context ──────────────────────────────────────────────────────────────────────────────────────────
# What a developer's checkout holds besides the tracked files; none of it may reach the image.
local_files=(
  config/personaclick-sync.yaml config/production.yml config/staging.json
  .env .env.production src/.env deploy/prod.env
  node_modules/pg/package.json dist/src/cli.js coverage/lcov.info test/bench/results.json npm-debug.log .git/config
)
{ git ls-files; printf '%s\n' "${local_files[@]}"; } |
  node -e '
    const ignore = require("@balena/dockerignore");
    const { readFileSync } = require("node:fs");
    const rules = ignore().add(readFileSync(".dockerignore", "utf8"));
    const paths = readFileSync(0, "utf8").split("\n").filter((p) => p !== "");
    process.stdout.write(rules.filter(paths).join("\n") + "\n");
  ' > "$work/context.txt"
for path in "${local_files[@]}"; do
  if grep -qxF "$path" "$work/context.txt"; then fail ".dockerignore lets $path into the build context"; fi
done
mkdir -p "$work/context"
while IFS= read -r path; do
  [ -e "$path" ] && cp --parents "$path" "$work/context/"
done < "$work/context.txt"

# ── COPY instructions, by stage: "stage|from|sources…|dest" ──────────────────────────────────────────────────────
copies=()
stage=0
while read -r word rest; do
  case "$word" in
    FROM) stage=$((stage + 1)) ;;
    COPY)
      read -ra parts <<< "$rest"
      from="-"
      if [[ "${parts[0]}" == --from=* ]]; then from="${parts[0]#--from=}"; parts=("${parts[@]:1}"); fi
      copies+=("$stage|$from|${parts[*]}")
      ;;
  esac
done < Dockerfile
[ "$stage" -eq 2 ] || fail "expected two stages (build, runtime) in the Dockerfile, found $stage"

# Carry out the COPY instructions of one stage into $work/<dir>, from the context (or, with --from, the build stage).
copy_stage() {
  local want="$1" dir="$work/$2" entry s from words dest src origin
  mkdir -p "$dir"
  for entry in "${copies[@]}"; do
    IFS='|' read -r s from words <<< "$entry"
    [ "$s" = "$want" ] || continue
    read -ra words <<< "$words"
    dest="${words[-1]}"
    for src in "${words[@]:0:${#words[@]}-1}"; do
      if [ "$from" = "-" ]; then origin="$work/context/$src"; else origin="$work/build/${src#/app/}"; fi
      [ -e "$origin" ] || fail "the Dockerfile copies $src (stage $s), which the build context does not hold"
      if [[ "$dest" == */ || "$dest" == "." ]]; then cp -r "$origin" "$dir/$dest"; else cp -r "$origin" "$dir/${dest#./}"; fi
    done
  done
}

# ── 2. The build stage ────────────────────────────────────────────────────────────────────────────────────────────
copy_stage 1 build
(cd "$work/build" && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent)
# The entrypoint: node, its flags, then the script under /app (the commands below run it the same way).
entry=$(sed -n 's/^ENTRYPOINT .*"node", \(.*, \)\{0,1\}"\/app\/\([^"]*\)".*/\2/p' Dockerfile)
[ -n "$entry" ] || fail "could not read the node entrypoint from the Dockerfile"
read -ra node_flags <<< "$(sed -n 's/^ENTRYPOINT .*"node", \(.*\), "\/app\/.*/\1/p' Dockerfile | tr -d '",')"
for flag in "${node_flags[@]}"; do
  [[ "$flag" == --* ]] || fail "could not read node's flag $flag in the Dockerfile's entrypoint"
done
[ -f "$work/build/$entry" ] || fail "the build stage does not produce the entrypoint $entry"

# ── 3. The runtime stage ──────────────────────────────────────────────────────────────────────────────────────────
grep -q '^RUN npm ci --omit=dev' Dockerfile || fail "the runtime stage must install production dependencies only (npm ci --omit=dev)"
grep -q '^USER node' Dockerfile || fail "the runtime stage must not run as root"
copy_stage 2 runtime
runtime="$work/runtime"
(cd "$runtime" && npm ci --omit=dev --no-audit --no-fund --loglevel=error)
for dev in $(node -p 'Object.keys(require("./package.json").devDependencies ?? {}).join(" ")'); do
  [ ! -e "$runtime/node_modules/$dev" ] || fail "the production install holds the devDependency $dev"
done
[ "$(ls -A "$runtime/config")" = "personaclick-sync.example.yaml" ] || fail "the image's config/ holds more than the example: $(ls -A "$runtime/config" | tr '\n' ' ')"

# The runtime stage's environment, as `docker run` sets it (one NAME=value a line).
while read -r assignment; do
  [[ "$assignment" == *=* ]] || fail "could not read the runtime stage's ENV $assignment"
  export "${assignment?}"
done < <(awk '/^FROM /{stage++} stage == 2 && /^ENV /{sub(/^ENV /, ""); print}' Dockerfile)
[ "${MALLOC_MMAP_THRESHOLD_:-}" = 131072 ] || fail "the runtime stage's ENV did not reach the checks"
cd "$runtime"
node "${node_flags[@]}" "$entry" --help > /dev/null || fail "--help does not start in the production install"
set +e
demo_err=$(node "${node_flags[@]}" "$entry" demo 2>&1 > /dev/null)
demo_code=$?
set -e
[ "$demo_code" -eq 2 ] || fail "demo in the production install exited $demo_code, not 2: $demo_err"
[[ "$demo_err" == "personaclick-sync: the demo needs its embedded Postgres"* && "$demo_err" != *$'\n'* ]] ||
  fail "demo in the production install should say in one line what it needs, not: $demo_err"

# The operator's commands, with the shipped example config, against a scratch shop database and the sandbox.
shop_id="0d42fd8b713d0752776ca589cc0056"
psql -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $db"
psql -q -v ON_ERROR_STOP=1 -d "$db" <<'SQL'
-- The schema the example config's header describes.
CREATE TABLE orders (id bigint PRIMARY KEY, customer_device_id text, email text, phone text, status text NOT NULL DEFAULT 'paid',
                     created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),
                     total numeric(12,2));
CREATE INDEX ON orders (updated_at, id);
CREATE TABLE order_lines (order_id bigint NOT NULL, product_id text NOT NULL, qty int NOT NULL, unit_price numeric(12,2),
                          status text);
CREATE INDEX ON order_lines (order_id);
CREATE TABLE cart_lines (device_id text NOT NULL, product_id text NOT NULL, qty int NOT NULL);
CREATE TABLE wishlist_items (device_id text NOT NULL, product_id text NOT NULL);
-- A minute old: past the sync's settle lag (5 s), however fast the commands before the backfill run.
INSERT INTO orders (id, customer_device_id, email, total, created_at, updated_at)
  VALUES (1001, 'dev1', 'a@example.com', 30.00, now() - interval '1 minute', now() - interval '1 minute');
INSERT INTO order_lines VALUES (1001, 'P1', 2, 10.00, NULL), (1001, 'P2', 1, 10.00, NULL);
INSERT INTO cart_lines VALUES ('dev1', 'P1', 2), ('dev1', 'P2', 1), ('dev2', 'P1', 1), ('dev3', 'P9', 4);
SQL
node "${node_flags[@]}" "$entry" sandbox --port 0 --shop "$shop_id" > "$work/sandbox.out" 2>&1 &
sandbox_pid=$!
for _ in $(seq 1 100); do grep -q 'listening on' "$work/sandbox.out" && break; sleep 0.1; done
sandbox_url=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$work/sandbox.out")
[ -n "$sandbox_url" ] || fail "the sandbox did not start in the production install: $(cat "$work/sandbox.out")"
# The read-only role of docs/security.md for the shop; the state schema in the shop's database, owned by $PGUSER.
psql -q -v ON_ERROR_STOP=1 -d "$db" <<SQL
CREATE ROLE $ro_role LOGIN;
GRANT CONNECT ON DATABASE $db TO $ro_role;
GRANT USAGE ON SCHEMA public TO $ro_role;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO $ro_role;
SQL
export PERSONACLICK_URL="$sandbox_url" PERSONACLICK_SHOP_ID="$shop_id" SHOP_DATABASE_URL="postgres://$ro_role@$PGHOST:$PGPORT/$db" \
  PERSONACLICK_SYNC_STATE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$db"
for command in "migrate" "check" "reconcile carts" "sync orders" "backfill orders --via push --yes --from $(date -u -d yesterday +%F) --to $(date -u -d tomorrow +%F)" "status"; do
  # shellcheck disable=SC2086 # the command's words
  node "${node_flags[@]}" "$entry" $command --config config/personaclick-sync.example.yaml > "$work/out.txt" 2>&1 ||
    fail "$command with the example config failed in the production install: $(grep -Ev "^ok " "$work/out.txt" | tail -n 12)"
done
carts=$(node -e 'fetch(process.argv[1] + "/__sandbox/carts").then((r) => r.json()).then((c) => console.log(Object.keys(c).length))' "$sandbox_url")
[ "$carts" = "3" ] || fail "reconcile carts in the production install left $carts carts in the sandbox, not 3"
purchases=$(node -e 'fetch(process.argv[1] + "/__sandbox/purchases").then((r) => r.json()).then((p) => console.log(JSON.stringify(p)))' "$sandbox_url")
[ "$purchases" = '{"1001":1}' ] || fail "backfill orders in the production install should have sent order 1001 once (the first sync starts from now), the sandbox holds $purchases"

echo "container check: context without local files, build stage ok, production install without devDependencies;" \
  "entrypoint node ${node_flags[*]} $entry runs migrate, check, reconcile carts, sync orders, backfill orders --via push (the one order delivered) and status; demo exits 2 with one line"
