#!/usr/bin/env bash
# Prepares a fresh machine for this workspace: pnpm 12.4.2, a supported Node.js and the
# workspace's dependencies. The workspace runs on Node.js 24 (primary) or 22.13+; when the
# `node` on the PATH is another version, Node.js 24 is installed once from the npm registry
# into ~/.cache/stateful-route/node24 (tooling/node/run.sh) and the root scripts
# (`pnpm start`, `pnpm test`, ...) run on it through scripts/node-run.sh.
# With --test, also the programs the tests run for real: redis-server (standalone and
# Cluster), chromium (the HTML report is opened in it) and prometheus with promtool.
# Installs with apt-get when run as root on Debian/Ubuntu; elsewhere it says what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
if [ "${1:-}" = "--test" ]; then
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
elif [ -n "${1:-}" ]; then
  echo "usage: bash scripts/setup.sh [--test]" >&2
  exit 2
fi

if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "setup: installing ${missing[*]} with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: the tests need ${missing[*]}; install them (Debian/Ubuntu:" \
      "sudo apt-get install -y ${missing[*]}) and run this again" >&2
    exit 1
  fi
fi

if [ "$(pnpm --version 2>/dev/null || true)" != "12.4.2" ]; then
  echo "setup: installing pnpm 12.4.2 with npm"
  npm install -g pnpm@12.4.2 >/dev/null
fi

# On a supported Node.js, so dependencies that need Node.js 22 or later install without an
# engine warning and their install scripts run on the Node.js the workspace runs on; this
# also fetches Node.js 24 when the machine's own is too old.
bash scripts/node-run.sh pnpm install --frozen-lockfile
