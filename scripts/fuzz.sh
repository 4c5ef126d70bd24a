#!/usr/bin/env bash
# Coverage-guided fuzzing of the generator and the runtime's request builder (crate `fuzz/`).
#
#   scripts/fuzz.sh [TARGET] [RUNS]
#
# TARGET is parse_and_map, structured_document, request_build, bundle_refs, or all (the
# default: each in turn). RUNS is a number of executions per target (default 1000000), or a
# time limit per target such as 600s. Installs cargo-fuzz into the cargo bin directory when it
# is missing.
#
# cargo-fuzz drives libFuzzer. The targets are built without a sanitizer by default, which the
# stable toolchain builds as it is (coverage instrumentation uses stable -C flags): the code under
# test is safe Rust, and the address sanitizer halves the speed and enlarges stack frames (so
# recursion depth findings would not match a real build). FUZZ_SANITIZER=address turns it on,
# e.g. for the unsafe YAML scanner; its -Zsanitizer flag is nightly-only, so RUSTC_BOOTSTRAP=1
# is set for that case and the stable toolchain accepts it.
#
# The corpus grows in fuzz/corpus/TARGET (seeded with the example and fixture documents);
# crashes, hangs and out-of-memory inputs land in fuzz/artifacts/TARGET. To reproduce one:
#   cargo fuzz run --fuzz-dir fuzz -O -a -s none TARGET fuzz/artifacts/TARGET/crash-...
# and to shrink it:
#   cargo fuzz tmin --fuzz-dir fuzz -O -a -s none TARGET fuzz/artifacts/TARGET/crash-...
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS=(parse_and_map structured_document request_build bundle_refs)
target="${1:-all}"
runs="${2:-1000000}"
CARGO_FUZZ_VERSION=0.13.2
sanitizer="${FUZZ_SANITIZER:-none}"
if [[ "$sanitizer" != none ]]; then
    export RUSTC_BOOTSTRAP=1
fi

if [[ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]]; then
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

case "$target" in
all) selected=("${TARGETS[@]}") ;;
parse_and_map | structured_document | request_build | bundle_refs) selected=("$target") ;;
*)
    echo "unknown target \`$target\`; expected one of: ${TARGETS[*]} all" >&2
    exit 2
    ;;
esac

if [[ "$runs" =~ ^([0-9]+)s$ ]]; then
    limit=(-max_total_time="${BASH_REMATCH[1]}")
elif [[ "$runs" =~ ^[0-9]+$ ]]; then
    limit=(-runs="$runs")
else
    echo "RUNS must be a number of executions or a time such as 600s, not \`$runs\`" >&2
    exit 2
fi

# The seeds: every example and fixture document.
seed_corpus() {
    local dir="fuzz/corpus/$1" file name
    mkdir -p "$dir"
    while IFS= read -r file; do
        name="seed-${file//\//_}"
        [[ -e "$dir/$name" ]] || cp "$file" "$dir/$name"
    done < <(
        {
            echo examples/petstore/openapi.yaml
            find codegen/tests/fixtures -type f
            find tests/fixtures -maxdepth 1 -name '*.yaml'
            find codegen/tests/fuzz-regressions -type f 2>/dev/null || true
        } | sort
    )
}

for t in "${selected[@]}"; do
    seed_corpus "$t"
    options=("${limit[@]}" -timeout=10 -print_final_stats=1)
    if [[ "$t" == parse_and_map ]]; then
        options+=(-dict=fuzz/openapi.dict)
    fi
    echo "== $t: ${limit[*]}" >&2
    cargo fuzz run --fuzz-dir fuzz --release --debug-assertions --sanitizer "$sanitizer" "$t" "fuzz/corpus/$t" -- "${options[@]}"
done
