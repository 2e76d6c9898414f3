#!/usr/bin/env bash
# Installs what is missing, then starts the gateway, a panel worker and a judge worker (Ctrl-C stops all).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
exec node scripts/start.ts "$@"
