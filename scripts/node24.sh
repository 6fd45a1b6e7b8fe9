#!/usr/bin/env bash
# Install Node.js 24 LTS from the npm registry's node-linux-<arch> package (no other download site is
# needed) and print the shell lines that put it first on PATH and build native addons against its headers.
#
#   eval "$(bash scripts/node24.sh)"      # then: node --version → v24.x; npm ci builds for Node 24
#
# The package has bin/node and include/node but no npm: the system npm runs on whichever node comes first
# on PATH. npm_config_nodedir must point at the unpacked folder, or node-gyp builds better-sqlite3 against
# the headers of the machine's own node (a /root/.npmrc here says nodedir=/usr, Node 20), and the addon
# fails to load on Node 24 at run time (NODE_MODULE_VERSION 115 vs 137), not at install.
set -euo pipefail
major=${FIELDPROOF_NODE_MAJOR:-24}
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "node24.sh: no node-linux package for $(uname -m)" >&2; exit 1 ;;
esac
root=${FIELDPROOF_NODE_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/fieldproof/node}
dir="$root/node-linux-$arch-$major"
if [ ! -x "$dir/bin/node" ] || [ ! -d "$dir/include/node" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  echo "node24.sh: fetching node-linux-$arch@$major from the npm registry" >&2
  (cd "$tmp" && npm pack --silent "node-linux-$arch@$major" >/dev/null)
  mkdir -p "$tmp/unpacked"
  tar -xzf "$tmp"/node-linux-"$arch"-*.tgz -C "$tmp/unpacked" --strip-components=1
  [ -x "$tmp/unpacked/bin/node" ] || { echo "node24.sh: the package has no bin/node" >&2; exit 1; }
  mkdir -p "$root"
  rm -rf "$dir"
  mv "$tmp/unpacked" "$dir"
fi
echo "node24.sh: $("$dir/bin/node" --version) at $dir" >&2
# shellcheck disable=SC2016 # "$PATH" is for the shell that evals this line to expand, not this one
printf 'export PATH=%q:"$PATH"\n' "$dir/bin"
printf 'export npm_config_nodedir=%q\n' "$dir"
