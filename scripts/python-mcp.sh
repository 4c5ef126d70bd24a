#!/usr/bin/env bash
# The MCP Python SDK (`mcp` on PyPI) that interoperability tests drive servers with, pinned with
# every dependency by tests/python/requirements.txt.
#
#   scripts/python-mcp.sh install   # install; prints "python PATH" (the environment's python)
#
# Installs into PYTHON_TOOLS_DIR/mcp (default target/python-tools/mcp) as a virtual environment
# of the machine's python3 (3.10 or later, which mcp 2 needs), once: a stamp (the hash of the
# requirements) makes later runs skip the install, and a lock (flock, where the machine has it)
# keeps concurrent runs, such as tests in parallel, from installing at the same time. Reaches
# only PyPI. tests/src/python.rs runs `install` on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "==> $*" >&2; }
die() {
  echo "python-mcp: $*" >&2
  exit 1
}

[ "${1:-}" = install ] || die "usage: scripts/python-mcp.sh install"
command -v python3 >/dev/null || die "python3 (3.10 or later) is needed and is not on PATH"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
  die "python3 is $(python3 --version 2>&1); mcp 2 needs 3.10 or later"

tools_dir="${PYTHON_TOOLS_DIR:-target/python-tools}"
mkdir -p "$tools_dir"
tools_dir=$(cd "$tools_dir" && pwd)
venv="$tools_dir/mcp"
requirements=tests/python/requirements.txt
stamp=$( { sha256sum "$requirements" 2>/dev/null || shasum -a 256 "$requirements"; } | cut -d' ' -f1)

_install() {
  [ "$(cat "$venv/.installed" 2>/dev/null)" = "$stamp" ] && return
  say "installing $requirements into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    -r "$requirements" >&2
  echo "$stamp" >"$venv/.installed"
}

if [ "$(cat "$venv/.installed" 2>/dev/null)" != "$stamp" ]; then
  if command -v flock >/dev/null; then
    exec {fd}>>"$tools_dir/.install.lock"
    flock "$fd"
    _install
    exec {fd}>&-
  else
    _install
  fi
fi
echo "python $venv/bin/python"
