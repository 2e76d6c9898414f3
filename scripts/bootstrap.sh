#!/usr/bin/env bash
# Makes sure this machine can run the project: Node >= 22.18 (installs Node 24 from the npm registry
# into .tooling/ when the machine's is older), pnpm (the version in package.json), the workspace's
# dependencies from the lockfile, and the lab page's build. Sourced by scripts/start.sh, scripts/test.sh
# and .ci/run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLING="$ROOT/.tooling"
PNPM_VERSION="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$ROOT/package.json")"

log() { printf '[bootstrap] %s\n' "$*" >&2; }

node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=18)?0:1)'
}

if [ -x "$TOOLING/bin/node" ]; then export PATH="$TOOLING/bin:$PATH"; fi

# Where npm is configured with a CA bundle (a TLS-inspecting proxy, say), let Node itself trust it
# too: the Node that npm runs on otherwise stalls on such a network.
if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && command -v npm >/dev/null 2>&1; then
  cafile="$(npm config get cafile 2>/dev/null || true)"
  if [ -n "$cafile" ] && [ "$cafile" != "null" ] && [ -f "$cafile" ]; then export NODE_EXTRA_CA_CERTS="$cafile"; fi
fi
if ! node_ok; then
  command -v npm >/dev/null 2>&1 || { log "Node.js >= 22.18 and npm are needed; install Node.js first (https://nodejs.org)."; exit 1; }
  log "Node $(node --version 2>/dev/null || echo none) is too old: installing Node 24 into $TOOLING"
  npm install --global --prefix "$TOOLING" --no-audit --no-fund --loglevel=error node@24 >&2
  export PATH="$TOOLING/bin:$PATH"
  node_ok || { log "could not install Node 24"; exit 1; }
fi

if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  if [ ! -x "$TOOLING/bin/pnpm" ] || [ "$("$TOOLING/bin/pnpm" --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
    log "installing pnpm $PNPM_VERSION into $TOOLING"
    npm install --global --prefix "$TOOLING" --no-audit --no-fund --loglevel=error "pnpm@$PNPM_VERSION" >&2
  fi
  export PATH="$TOOLING/bin:$PATH"
fi

cd "$ROOT"
if [ ! -f node_modules/.modules.yaml ] || [ pnpm-lock.yaml -nt node_modules/.modules.yaml ]; then
  log "installing dependencies (frozen lockfile)"
  CI=true pnpm install --frozen-lockfile --prefer-offline >&2
fi
# The lab page (packages/lab) is served from its build: build it when there is none, or when a source
# is newer than it (a cheap check: find stops at the first newer file).
LAB="$ROOT/packages/lab"
if [ ! -f "$LAB/dist/index.html" ] || [ -n "$(find "$LAB/src" "$LAB/index.html" "$LAB/package.json" "$LAB"/vite.config.* \
    "$ROOT/packages/wire/src" "$ROOT/pnpm-lock.yaml" -newer "$LAB/dist/index.html" -print -quit 2>/dev/null)" ]; then
  log "building the lab page (packages/lab/dist)"
  pnpm --filter @fusion/lab build >&2
fi
log "node $(node --version), pnpm $(pnpm --version)"
