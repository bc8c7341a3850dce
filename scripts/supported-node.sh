#!/usr/bin/env bash
# Runs a command on a supported Node. Node 20 is end of life and dependencies need >= 22, and the
# tests run TypeScript with Node's own type stripping (on by default from 22.18), so on an older
# `node` the command runs on the pinned LTS build instead (scripts/node-runtime.sh fetches it from
# the npm registry once). Every npm script that runs project code goes through here.
# Usage: scripts/supported-node.sh <command> [args...]
set -euo pipefail

version="$(node -p 'process.versions.node')"
IFS=. read -r major minor _ <<<"$version"
if ((major < 22 || (major == 22 && minor < 18))); then
  bin="$(bash "$(dirname "${BASH_SOURCE[0]}")/node-runtime.sh")"
  echo "note: Node $version is older than 22.18; running on Node $("$bin/node" -p 'process.versions.node') from $bin" >&2
  PATH="$bin:$PATH"
  export PATH
fi
exec "$@"
