#!/usr/bin/env bash
# Installs what is missing, then runs format check, lint, the dependency and layer check, typecheck and
# every test suite.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

# The tests need redis-server on PATH (each suite spawns its own) or a Redis at REDIS_URL.
if ! command -v redis-server >/dev/null 2>&1 && [ -z "${REDIS_URL:-}" ]; then
  if (exec 3<>/dev/tcp/127.0.0.1/6379 && printf 'PING\r\n' >&3 && head -c 5 <&3 | grep -q PONG) 2>/dev/null; then
    log "redis-server is not on PATH; using the Redis on 127.0.0.1:6379"
    export REDIS_URL=redis://127.0.0.1:6379
  elif command -v apt-get >/dev/null 2>&1; then
    log "installing redis-server with apt-get"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server >&2
  else
    log "the tests need Redis: install redis-server or set REDIS_URL"; exit 1
  fi
fi

exec pnpm run check
