#!/bin/sh
# `pnpm bench`: raises the open-file limit to what the shell allows (thousands of concurrent streams
# need as many sockets in the load generator, the gateway and the simulator), then runs the bench.
set -e
hard=$(ulimit -Hn)
if [ "$hard" = "unlimited" ]; then ulimit -n 65536 2>/dev/null || true; else ulimit -n "$hard" 2>/dev/null || true; fi
if [ "$(ulimit -n)" != "unlimited" ] && [ "$(ulimit -n)" -lt 16384 ]; then
  echo "[bench] warning: ulimit -n is $(ulimit -n); 2,000 concurrent streams need about 10,000 descriptors per process" >&2
fi
cd "$(dirname "$0")/.."
exec node bench/run.ts "$@"
