#!/usr/bin/env bash
# Packages the four published crates as `cargo publish` would, then builds them from those
# .crate files alone, offline, as a user of crates.io would get them: cargo-mcpgen installed
# (which builds mcpgen-codegen and the runtime `mcpgen` too) and used to generate and build the
# example server, and a crate of its own that uses `#[mcpgen::server]` (mcpgen-macros).
# Everything builds in one empty target folder, so each dependency is compiled once and
# nothing built from another commit's sources can stand in for these.
#
#   scripts/package.sh          package, install, generate, build
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
# Not verified here: the builds below are the verification, from the same .crate files, in a
# target folder of their own (cargo's verify builds would share the workspace's, where a
# registry crate of the same name and version from an earlier run counts as already built).
echo "==> [$SECONDS s] cargo package: mcpgen-codegen, mcpgen-macros, mcpgen, cargo-mcpgen" >&2
cargo package --offline --quiet --no-verify "${allow_dirty[@]}" \
  -p mcpgen-codegen -p mcpgen-macros -p mcpgen -p cargo-mcpgen

for crate in mcpgen-codegen mcpgen-macros mcpgen cargo-mcpgen; do
  tar -xzf "${CARGO_TARGET_DIR:-target}/package/$crate-$version.crate" -C "$work/unpacked"
done

# crates.io does not have these versions yet: the packaged crates stand in for them, as a
# patch in the manifest of each crate built (`cargo install` reads no other).
patch="
[patch.crates-io]
mcpgen-codegen = { path = \"$work/unpacked/mcpgen-codegen-$version\" }
mcpgen = { path = \"$work/unpacked/mcpgen-$version\" }
mcpgen-macros = { path = \"$work/unpacked/mcpgen-macros-$version\" }"
echo "$patch" >>"$work/unpacked/cargo-mcpgen-$version/Cargo.toml"
mkdir -p "$work/project"
# Packages of unpublished versions look like registry crates, which cargo never rebuilds once
# built: a target folder of their own, emptied first, keeps an older build from standing in.
export CARGO_TARGET_DIR="$root/target/package-check"
rm -rf "$CARGO_TARGET_DIR"
echo "==> [$SECONDS s] cargo install cargo-mcpgen from its .crate file, offline" >&2
cargo install --offline --quiet --debug \
  --path "$work/unpacked/cargo-mcpgen-$version" --root "$work/bin"

echo "==> [$SECONDS s] the installed cargo-mcpgen generates the example server, which builds" >&2
cp examples/petstore/openapi.yaml "$work/project/openapi.yaml"
(cd "$work/project" && "$work/bin/bin/cargo-mcpgen" mcpgen generate openapi.yaml --out server --name petstore-mcp)
(cd "$work/project/server" && cargo build --offline --quiet)
test -x "$CARGO_TARGET_DIR/debug/petstore-mcp"

echo "==> [$SECONDS s] a crate of its own serves the example document through #[mcpgen::server]" >&2
attribute="$work/project/attribute"
mkdir -p "$attribute/src"
cp examples/petstore/openapi.yaml "$attribute/openapi.yaml"
cat >"$attribute/Cargo.toml" <<TOML
[package]
name = "attribute-check"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
mcpgen = { version = "$version", features = ["macros"] }
serde_json = "1"
$patch
TOML
cat >"$attribute/src/main.rs" <<'RUST'
#[mcpgen::server(spec = "openapi.yaml")]
pub mod petstore {
    /// Says whether the server is up.
    #[mcpgen::extra_tool(read_only)]
    async fn ping(args: serde_json::Value) -> Result<serde_json::Value, String> {
        Ok(serde_json::json!({ "pong": args }))
    }
}

fn main() -> std::process::ExitCode {
    petstore::main()
}
RUST
(cd "$attribute" && cargo build --offline --quiet)
"$CARGO_TARGET_DIR/debug/attribute-check" --help >/dev/null
echo "==> [$SECONDS s] packaged, installed and built: 4 crates, version $version" >&2
