#!/usr/bin/env bash
# Starts the example upstream on 127.0.0.1:8080 and serves examples/petstore/openapi.yaml two
# ways, making one tool call over stdio with each: `cargo mcpgen serve` (the document served as
# it is, at once), then the crate `cargo mcpgen generate` writes, built. Then it serves MCP over
# streamable HTTP at http://127.0.0.1:8000/mcp with the built server until Ctrl-C.
#
#   scripts/demo.sh            serve, call; generate, build, call; serve over HTTP
#   scripts/demo.sh --smoke    the same, stopping before the HTTP server (used by the test suite)
set -euo pipefail
cd "$(dirname "$0")/.."

smoke=0
[ "${1:-}" = "--smoke" ] && smoke=1
upstream_port="${UPSTREAM_PORT:-8080}"
mcp_port="${MCP_PORT:-8000}"
[ "$smoke" = 1 ] && upstream_port="${UPSTREAM_PORT:-18080}"

echo "==> building cargo-mcpgen and the example upstream" >&2
cargo build --quiet -p cargo-mcpgen -p petstore-upstream
mcpgen=target/debug/cargo-mcpgen

target/debug/petstore-upstream --port "$upstream_port" &
upstream_pid=$!
trap 'kill $upstream_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  (echo >"/dev/tcp/127.0.0.1/$upstream_port") 2>/dev/null && break
  sleep 0.1
done

export PETSTORE_BEARER_AUTH_TOKEN="${PETSTORE_BEARER_AUTH_TOKEN:-demo-token}"
base_url="http://127.0.0.1:$upstream_port/v1"

# One MCP session over stdio with the server `$@` starts: initialize, tools/list, and
# tools/call getPetById, whose answer must be the example upstream's pet 1. stdin stays open a
# moment after the last request, so the call is answered before EOF ends the session.
one_session() {
  local reply tools call
  reply=$({ printf '%s\n' \
    '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"demo","version":"1"}}}' \
    '{"jsonrpc":"2.0","method":"notifications/initialized"}' \
    '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' \
    '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"getPetById","arguments":{"petId":"1"}}}'
    sleep 2; } | timeout 60 "$@")
  tools=$(printf '%s\n' "$reply" | grep '"id":2' | grep -o '"name":"[A-Za-z_]*"' | sed 's/"name"://' | tr '\n' ' ')
  echo "tools: $tools" >&2
  call=$(printf '%s\n' "$reply" | grep '"id":3')
  echo "getPetById {\"petId\":\"1\"} -> $call" >&2
  if ! printf '%s' "$call" | grep -q '"structuredContent":{"id":"1","name":"Rex"'; then
    echo "demo: the tool call did not return the expected pet" >&2
    exit 1
  fi
}

echo "==> the fast path: cargo mcpgen serve examples/petstore/openapi.yaml (no crate, no build)" >&2
one_session "$mcpgen" serve examples/petstore/openapi.yaml --name petstore-mcp --base-url "$base_url"

echo "==> cargo mcpgen generate examples/petstore/openapi.yaml --out examples/petstore" >&2
"$mcpgen" generate examples/petstore/openapi.yaml --out examples/petstore --name petstore-mcp

echo "==> building the generated server" >&2
cargo build --quiet -p petstore-mcp
bin=target/debug/petstore-mcp
one_session "$bin" --base-url "$base_url"
echo "demo: ok" >&2
[ "$smoke" = 1 ] && exit 0

echo "==> serving MCP at http://127.0.0.1:$mcp_port/mcp (upstream $base_url); Ctrl-C stops" >&2
"$bin" --transport http --bind "127.0.0.1:$mcp_port" --base-url "$base_url"
