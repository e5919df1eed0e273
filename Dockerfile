# syntax=docker/dockerfile:1
# personaclick-sync: build with dev dependencies, run with production ones only, as a non-root user.
# Node 26, the current LTS line (CI runs the test suite on it); Debian trixie, the line's default base.
# .dockerignore keeps a local config, .env files, node_modules and dist out of the build context.

FROM node:26-trixie-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY jobs ./jobs
COPY migrations ./migrations
RUN npm run build

FROM node:26-trixie-slim AS runtime
ENV NODE_ENV=production
# glibc returns buffers of 128 KiB and more to the system when they are freed (its default threshold rises to the
# largest buffer freed, and a catalogue page's text is larger): 4-7 MB less peak in a catalogue reconcile of a million
# products, no slower (docs/operations.md, "Memory").
ENV MALLOC_MMAP_THRESHOLD_=131072
# tini makes node PID 1's child, so SIGTERM from Kubernetes or `docker stop` reaches the connector.
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only: the demo's embedded Postgres (a dev dependency) stays out; `demo` says so and exits 2.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# Only the commented example reaches the image (.dockerignore); mount the real config, e.g. at /config.
COPY config ./config
USER node
# --max-semi-space-size=4: Node 26's V8 sizes the young generation itself (16-40 MB) and takes no cap once running;
# held at 2 x 4 MB from the start, a 1% catalogue reconcile of a million products peaks 25 MB lower, and is no slower
# (src/heap.ts; on Node 20 the connector holds it by itself).
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--max-semi-space-size=4", "/app/dist/src/cli.js"]
CMD ["--help"]
