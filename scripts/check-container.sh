#!/usr/bin/env bash
# No Docker engine runs here, so check what the Dockerfile relies on, the way its stages would do it:
# every COPY source exists, the build stage's commands succeed in a clean copy of exactly what it copies,
# and the runtime stage (production dependencies only) starts the entrypoint.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# COPY sources of the build stage (lines before the second FROM), not --from copies.
mapfile -t sources < <(awk '/^FROM /{stage++} stage==1 && /^COPY / && !/--from/ {for (i=2;i<NF;i++) print $i}' Dockerfile)
mkdir -p "$work/build"
for src in "${sources[@]}"; do
  [ -e "$src" ] || { echo "Dockerfile copies $src, which does not exist"; exit 1; }
  # only what git tracks, as a clean clone would have it
  git ls-files -z -- "$src" | xargs -0 -I{} cp --parents {} "$work/build/"
done
(cd "$work/build" && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent)

entry=$(sed -n 's/^ENTRYPOINT .*"node", "\/app\/\([^"]*\)".*/\1/p' Dockerfile)
[ -n "$entry" ] || { echo "could not read the node entrypoint from the Dockerfile"; exit 1; }
[ -f "$work/build/$entry" ] || { echo "the build stage does not produce the entrypoint $entry"; exit 1; }

# Runtime stage: production dependencies only, then dist and config from the build.
mkdir -p "$work/runtime"
cp package.json package-lock.json "$work/runtime/"
(cd "$work/runtime" && npm ci --omit=dev --no-audit --no-fund --loglevel=error)
cp -r "$work/build/dist" "$work/runtime/dist"
cp -r config "$work/runtime/config"
(cd "$work/runtime" && node "$entry" --help > /dev/null)
grep -q '^USER node' Dockerfile || { echo "the runtime stage must not run as root"; exit 1; }
echo "container check: build stage ok, entrypoint $entry starts with production dependencies only"
cd "$root"
