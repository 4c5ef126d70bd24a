#!/usr/bin/env bash
# Benchmarks the generated example MCP server against the floor of calling its upstream
# directly (latency, throughput, server CPU per call, peak memory, start-up), with
# `cargo mcpgen serve` on the same document measured beside it, load-tests it over stdio and
# HTTP, and measures generation time and memory, the compile cost of the generated GitHub crate,
# and the start-up, tools/list and memory of that server and of `serve` on GitHub's document.
# Everything runs on loopback in one run; the figures are printed and written to
# target/bench/results.md (BENCHMARKS.md at the repository root holds the latest ones, with the
# analysis).
#
#   scripts/bench.sh            the full run (about 2 minutes on 2 cores once dependencies are
#                               built; the first run also builds the GitHub crate's, ~10 more)
#   scripts/bench.sh --quick    a short run for CI: the example document only (the generated
#                               server and `serve`), a 500-call load test; exits non-zero when
#                               anything fails (target/bench/results-quick.md)
#   scripts/bench.sh --profile  where a tool call's instructions go: the example server under
#                               valgrind's callgrind (target/bench/profile.md)
#   scripts/bench.sh --bare-relay
#                               the tool-call overhead of `mcpgen-bare-relay` in the example
#                               server's place: what the same parts (axum, hyper, reqwest,
#                               serde_json) cost with no MCP work at all, the bound of what the
#                               example server can reach (target/bench/bare-relay/)
#
# Other arguments go to mcpgen-bench (`target/release/mcpgen-bench --help`), e.g.
# --no-release-build, or for experiments --overhead-only, --server-env NAME=VALUE and
# --server-bin PATH; `mcpgen-bench profile --perf` samples with perf instead of callgrind.
# Figures are only comparable on a quiet machine: the report warns when other work kept CPUs
# busy during a timed run. GitHub's OpenAPI document comes from the pinned npm package
# @octokit/openapi@23.0.2, installed into $BENCH_NPM_DIR (default target/bench-npm) on the
# first full run; without npm the GitHub figures are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=full
args=()
for arg in "$@"; do
  case "$arg" in
    --quick) mode=quick; args+=(--quick) ;;
    --profile) mode=profile ;;
    --bare-relay) mode=bare-relay ;;
    *) args+=("$arg") ;;
  esac
done

# MCPGEN_BUILD_PROFILE=quick builds without whole-program optimisation, and =dev (as in CI, which
# has built everything that way for the tests already) without optimisation: the figures of
# such a run check that everything runs, not how fast (BENCHMARKS.md's are release builds).
profile="${MCPGEN_BUILD_PROFILE:-release}"
export MCPGEN_BUILD_PROFILE="$profile"
echo "==> building the example server, the generator (also \`serve\`) and the benchmark ($profile)" >&2
cargo build --profile "$profile" --quiet -p petstore-mcp -p cargo-mcpgen -p mcpgen-bench
# The dev profile's folder is target/debug.
[ "$profile" = dev ] && profile=debug

if [ "$mode" = profile ]; then
  exec target/$profile/mcpgen-bench profile "${args[@]}"
fi
bare_relay() {
  target/$profile/mcpgen-bench --overhead-only --server-bin "target/$profile/mcpgen-bare-relay" \
    --out-dir target/bench/bare-relay "$@"
}
if [ "$mode" = bare-relay ]; then
  bare_relay "${args[@]}"
  exit
fi

if [ "$mode" = full ]; then
  spec=node_modules/@octokit/openapi/generated/api.github.com.json
  npm_dir="${BENCH_NPM_DIR:-target/bench-npm}"
  pinned='"version": "23.0.2"'
  if [ ! -f "$npm_dir/$spec" ] && [ -f "target/corpus-npm/$spec" ] &&
    grep -q "$pinned" target/corpus-npm/node_modules/@octokit/openapi/package.json; then
    npm_dir=target/corpus-npm # scripts/corpus.sh installed the same pinned package
  fi
  if [ ! -f "$npm_dir/$spec" ]; then
    if command -v npm >/dev/null; then
      echo "==> npm install @octokit/openapi@23.0.2 into $npm_dir" >&2
      mkdir -p "$npm_dir"
      npm install --prefix "$npm_dir" --no-audit --no-fund @octokit/openapi@23.0.2 >&2
    else
      echo "bench.sh: npm not found; the GitHub figures are skipped" >&2
    fi
  fi
  [ -f "$npm_dir/$spec" ] && args+=(--github-spec "$npm_dir/$spec")
fi

target/$profile/mcpgen-bench "${args[@]}"
# The bound's tool too: its answers are checked like the server's.
[ "$mode" = quick ] && bare_relay --quick
# Code mode's figures (target/bench/code-mode.md): the example document in --quick, GitHub's too
# otherwise.
code_args=()
for arg in "${args[@]}"; do
  case "$arg" in
    --quick|--github-spec|*api.github.com.json) code_args+=("$arg") ;;
  esac
done
exec target/$profile/mcpgen-bench code-mode "${code_args[@]}"
