#!/usr/bin/env bash
# Runs a command on a supported Node.js: the `node` on the PATH when it is one (22.13 or a
# later 22.x, or 24 and later, as `engines.node` says), otherwise Node.js 24, the primary
# runtime, installed once from the npm registry by tooling/node/run.sh. The root scripts
# (`pnpm start`, `pnpm test`, ...) go through it, so the README's commands work on a machine
# whose own Node.js is older.
#
#   bash scripts/node-run.sh <command...>
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: bash scripts/node-run.sh <command...>" >&2
  exit 2
fi

version="$(node --version 2>/dev/null || true)"
if [[ "$version" =~ ^v([0-9]+)\.([0-9]+)\. ]]; then
  major="${BASH_REMATCH[1]}"
  minor="${BASH_REMATCH[2]}"
  if { [ "$major" -eq 22 ] && [ "$minor" -ge 13 ]; } || [ "$major" -ge 24 ]; then
    exec "$@"
  fi
fi
exec bash "$(dirname "$0")/../tooling/node/run.sh" 24 "$@"
