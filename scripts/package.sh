#!/usr/bin/env bash
# Packages the four published crates as `cargo publish` would (each verified by building it
# from its .crate file alone), then installs cargo-mcpgen from those .crate files, offline,
# and uses it to generate and build the example server: what a user of crates.io would get.
#
#   scripts/package.sh          package, verify, install, generate, build
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
# Outside the repository, whose workspace would otherwise claim the crates built here.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/unpacked"

# `path+file:///.../cli#cargo-mcpgen@0.1.0`: the version follows the last `@` or `#`.
id=$(cargo pkgid --offline -p cargo-mcpgen)
version=${id##*[#@]}

# `cargo package` verifies each crate against the others through a temporary local registry,
# which cargo unpacks under $CARGO_HOME/registry/src/-HASH/ (a local registry's folder has no
# host name, hence the leading dash) and never unpacks again while that folder exists: a copy
# left by an earlier run of another commit would stand in for the crates packaged now.
rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/{mcpgen,mcpgen-codegen,mcpgen-macros,cargo-mcpgen}-"$version"

allow_dirty=()
[ -n "$(git status --porcelain)" ] && allow_dirty=(--allow-dirty)
echo "==> cargo package (with verify builds): mcpgen-codegen, mcpgen-macros, mcpgen, cargo-mcpgen" >&2
cargo package --offline --quiet "${allow_dirty[@]}" \
  -p mcpgen-codegen -p mcpgen-macros -p mcpgen -p cargo-mcpgen

for crate in mcpgen-codegen mcpgen-macros mcpgen cargo-mcpgen; do
  tar -xzf "${CARGO_TARGET_DIR:-target}/package/$crate-$version.crate" -C "$work/unpacked"
done

# crates.io does not have these versions yet: the packaged crates stand in for them, as a
# patch in the unpacked cargo-mcpgen's own manifest (`cargo install` reads no other).
cat >>"$work/unpacked/cargo-mcpgen-$version/Cargo.toml" <<TOML

[patch.crates-io]
mcpgen-codegen = { path = "$work/unpacked/mcpgen-codegen-$version" }
mcpgen = { path = "$work/unpacked/mcpgen-$version" }
mcpgen-macros = { path = "$work/unpacked/mcpgen-macros-$version" }
TOML
mkdir -p "$work/project"
# Packages of unpublished versions look like registry crates, which cargo never rebuilds once
# built: a target folder of their own, emptied first, keeps an older build from standing in.
export CARGO_TARGET_DIR="$root/target/package-check"
rm -rf "$CARGO_TARGET_DIR"
echo "==> cargo install cargo-mcpgen from its .crate file, offline" >&2
cargo install --offline --quiet --debug \
  --path "$work/unpacked/cargo-mcpgen-$version" --root "$work/bin"

echo "==> the installed cargo-mcpgen generates the example server, which builds" >&2
cp examples/petstore/openapi.yaml "$work/project/openapi.yaml"
(cd "$work/project" && "$work/bin/bin/cargo-mcpgen" mcpgen generate openapi.yaml --out server --name petstore-mcp)
(cd "$work/project/server" && cargo build --offline --quiet)
test -x "$CARGO_TARGET_DIR/debug/petstore-mcp"
echo "packaged, installed and built: 4 crates, version $version" >&2
