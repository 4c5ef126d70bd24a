#!/usr/bin/env bash
# Generates the example Petstore MCP server from examples/petstore/openapi.yaml, builds it,
# starts the example upstream on 127.0.0.1:8080, calls one tool over stdio, and then serves
# MCP over streamable HTTP at http://127.0.0.1:8000/mcp until Ctrl-C.
#
#   scripts/demo.sh            generate, build, call, serve
#   scripts/demo.sh --smoke    generate, build, call, and stop (used by the test suite)
set -euo pipefail
cd "$(dirname "$0")/.."

smoke=0
[ "${1:-}" = "--smoke" ] && smoke=1
upstream_port="${UPSTREAM_PORT:-8080}"
mcp_port="${MCP_PORT:-8000}"
[ "$smoke" = 1 ] && upstream_port="${UPSTREAM_PORT:-18080}"

echo "==> cargo mcpgen generate examples/petstore/openapi.yaml --out examples/petstore" >&2
cargo run --quiet -p cargo-mcpgen -- mcpgen generate examples/petstore/openapi.yaml \
  --out examples/petstore --name petstore-mcp

echo "==> building the generated server and the example upstream" >&2
cargo build --quiet -p petstore-mcp -p petstore-upstream
bin=target/debug/petstore-mcp

target/debug/petstore-upstream --port "$upstream_port" &
upstream_pid=$!
trap 'kill $upstream_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  (echo >"/dev/tcp/127.0.0.1/$upstream_port") 2>/dev/null && break
  sleep 0.1
done

export PETSTORE_BEARER_AUTH_TOKEN="${PETSTORE_BEARER_AUTH_TOKEN:-demo-token}"
base_url="http://127.0.0.1:$upstream_port/v1"

echo "==> one MCP session over stdio: initialize, tools/list, tools/call getPetById" >&2
# stdin stays open a moment after the last request, so the call is answered before EOF ends
# the session.
reply=$({ printf '%s\n' \
  '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"demo","version":"1"}}}' \
  '{"jsonrpc":"2.0","method":"notifications/initialized"}' \
  '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' \
  '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"getPetById","arguments":{"petId":"1"}}}'
  sleep 2; } | timeout 20 "$bin" --base-url "$base_url")
tools=$(printf '%s\n' "$reply" | grep '"id":2' | grep -o '"name":"[A-Za-z_]*"' | sed 's/"name"://' | tr '\n' ' ')
echo "tools: $tools" >&2
call=$(printf '%s\n' "$reply" | grep '"id":3')
echo "getPetById {\"petId\":\"1\"} -> $call" >&2
if ! printf '%s' "$call" | grep -q '"structuredContent":{"id":"1","name":"Rex"'; then
  echo "demo: the tool call did not return the expected pet" >&2
  exit 1
fi
echo "demo: ok" >&2
[ "$smoke" = 1 ] && exit 0

echo "==> serving MCP at http://127.0.0.1:$mcp_port/mcp (upstream $base_url); Ctrl-C stops" >&2
"$bin" --transport http --bind "127.0.0.1:$mcp_port" --base-url "$base_url"
