#!/usr/bin/env bash
# Prepares a fresh machine for this workspace: pnpm 12.4.2 and the workspace's dependencies.
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

pnpm install --frozen-lockfile
