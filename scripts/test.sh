#!/usr/bin/env bash
# Installs what is missing, then runs format check, lint, the dependency and layer check, typecheck and
# every test suite.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

# Debian packages the tests need, installed with apt-get (CI runs as root, with no stdin).
APT_UPDATED=""
apt_install() {
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  if [ -z "$APT_UPDATED" ]; then $SUDO apt-get update -qq >&2; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >&2
}

# The tests need redis-server on PATH (each suite spawns its own) or a Redis at REDIS_URL.
if ! command -v redis-server >/dev/null 2>&1 && [ -z "${REDIS_URL:-}" ]; then
  if (exec 3<>/dev/tcp/127.0.0.1/6379 && printf 'PING\r\n' >&3 && head -c 5 <&3 | grep -q PONG) 2>/dev/null; then
    log "redis-server is not on PATH; using the Redis on 127.0.0.1:6379"
    export REDIS_URL=redis://127.0.0.1:6379
  elif command -v apt-get >/dev/null 2>&1; then
    log "installing redis-server with apt-get"
    apt_install redis-server
  else
    log "the tests need Redis: install redis-server or set REDIS_URL"; exit 1
  fi
fi

# The lab's browser tests drive Debian's Chromium (/usr/bin/chromium, or CHROMIUM_PATH) with playwright-core.
if [ -n "${CHROMIUM_PATH:-}" ]; then
  [ -x "$CHROMIUM_PATH" ] || { log "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable"; exit 1; }
elif [ ! -x /usr/bin/chromium ]; then
  if command -v apt-get >/dev/null 2>&1; then
    log "installing chromium with apt-get"
    apt_install chromium
  else
    log "the tests need Chromium: install chromium (Debian/Ubuntu: apt-get install chromium) or set CHROMIUM_PATH"; exit 1
  fi
fi

exec pnpm run check
