#!/usr/bin/env bash
# Copies the runtime's `rt` module and its dependency list into the codegen package, which
# embeds them in every standalone crate it generates (a published crate cannot read files
# outside its own folder), and regenerates the example crate from them. A codegen test fails
# when the copy and the runtime differ.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf codegen/runtime
mkdir -p codegen/runtime/rt
cp runtime/src/rt/*.rs codegen/runtime/rt/
# The runtime's [dependencies] less the macro re-export: what a standalone crate lists.
awk '
  /^\[/ { in_deps = ($0 == "[dependencies]"); next }
  in_deps && NF && $0 !~ /^[[:space:]]*#/ && $0 !~ /^mcpgen-macros/ { print }
' runtime/Cargo.toml > codegen/runtime/dependencies.toml
cargo run --quiet -p cargo-mcpgen -- mcpgen generate examples/petstore/openapi.yaml \
  --out examples/petstore --name petstore-mcp --quiet
