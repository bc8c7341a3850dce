#!/usr/bin/env bash
# Runs a command on a supported Node. Node 20 is end of life and dependencies need >= 22, so on an
# older `node` the command runs on the pinned LTS build instead (scripts/node-runtime.sh fetches it
# from the npm registry once). Every npm script that runs project code goes through here.
# Usage: scripts/supported-node.sh <command> [args...]
set -euo pipefail

major="$(node -p 'process.versions.node' | cut -d. -f1)"
if ((major < 22)); then
  bin="$(bash "$(dirname "${BASH_SOURCE[0]}")/node-runtime.sh")"
  echo "note: Node $(node -p 'process.versions.node') is older than 22; running on Node $("$bin/node" -p 'process.versions.node') from $bin" >&2
  PATH="$bin:$PATH"
  export PATH
fi
exec "$@"
