# One image for every service; the compose file picks the entry point.
# Node >= 22.18 runs the TypeScript sources directly (type stripping): nothing is built but the lab page
# (packages/lab, bundled by Vite in its own stage; the gateway serves its dist at /lab).
# Every workspace package.json the lockfile names is copied (test/compose.test.ts checks it), and
# only the production dependencies of the three services are installed.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
RUN npm install --global --no-audit --no-fund pnpm@10.34.9
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json .npmrc ./
COPY packages/wire/package.json packages/wire/
COPY packages/llm-client/package.json packages/llm-client/
COPY packages/pipeline/package.json packages/pipeline/
COPY packages/runtime/package.json packages/runtime/
COPY packages/web-tools/package.json packages/web-tools/
COPY packages/intake/package.json packages/intake/
COPY packages/simulator/package.json packages/simulator/
COPY packages/testing/package.json packages/testing/
COPY packages/lab/package.json packages/lab/
COPY services/gateway/package.json services/gateway/
COPY services/panel-worker/package.json services/panel-worker/
COPY services/judge-worker/package.json services/judge-worker/
COPY test/package.json test/
COPY bench/package.json bench/
RUN pnpm install --frozen-lockfile --prod \
  --filter "@fusion/gateway..." --filter "@fusion/panel-worker..." --filter "@fusion/judge-worker..."

# The lab page: its build tools (Vite, dev dependencies) stay in this stage; only dist/ leaves it.
FROM node:24-bookworm-slim AS lab
WORKDIR /app
RUN npm install --global --no-audit --no-fund pnpm@10.34.9
COPY --from=deps /app /app
COPY packages/wire ./packages/wire
COPY packages/lab ./packages/lab
# CI=true: pnpm replaces the production-only node_modules of deps without asking for a TTY.
RUN CI=true pnpm install --frozen-lockfile --filter "@fusion/lab..." && pnpm --filter @fusion/lab build

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Owned by root: the service user can read the code but not change it.
COPY --from=deps /app /app
COPY packages ./packages
COPY services ./services
COPY --from=lab /app/packages/lab/dist ./packages/lab/dist
USER node
# 8080: the gateway's API, /healthz and /metrics. 9464 / 9465: a panel / judge worker's /metrics and /healthz.
EXPOSE 8080 9464 9465
# Passes when the service in this container answers /healthz (see packages/runtime/src/healthcheck-cli.ts).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "packages/runtime/src/healthcheck-cli.ts"]
# Overridden per service in docker-compose.yml.
CMD ["node", "services/gateway/src/main.ts"]
