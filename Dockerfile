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
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/src/cli.js"]
CMD ["--help"]
