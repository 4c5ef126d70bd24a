#!/usr/bin/env bash
# Generates standalone servers for a sample of real APIs (GitHub, Stripe and eight more from the
# corpus), compiles every one of them, and checks that the GitHub server answers initialize and
# tools/list over stdio. Prints generation time, tool count, tools/list bytes and compile time.
#
#   scripts/corpus-compile.sh [CORPUS_DIR]      (default target/corpus, laid out by scripts/corpus.sh)
#
# Outside the default test run: it compiles ten crates (about 10 minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
corpus="${1:-target/corpus}"
[ -f "$corpus/MANIFEST.tsv" ] || scripts/corpus.sh --sample "$corpus" >/dev/null
work="${TMPDIR:-/tmp}/mcpgen-corpus-compile"
target="$(pwd)/target/corpus-compile"
mkdir -p "$work"

cargo build --quiet --release -p cargo-mcpgen
gen=target/release/cargo-mcpgen

docs=(
  "$corpus/github/api.github.com.json"
  "$corpus/stripe/stripe.oas.json"
  "$corpus/apis-guru/slack.com.json"
  "$corpus/apis-guru/twilio.com__api.json"
  "$corpus/apis-guru/spotify.com.json"
  "$corpus/apis-guru/box.com.json"
  "$corpus/apis-guru/kubernetes.io.json"
  "$corpus/apis-guru/digitalocean.com.json"
  "$corpus/apis-guru/zoom.us.json"
  "$corpus/apis-guru/asana.com.json"
)

printf '%-28s %8s %6s %12s %10s\n' document gen_ms tools list_bytes build_s
for doc in "${docs[@]}"; do
  if [ ! -f "$doc" ]; then
    echo "missing: $doc" >&2
    exit 1
  fi
  name="$(basename "$doc" .json | tr '._' '--' | tr 'A-Z' 'a-z')-mcp"
  out="$work/$name"
  start=$(date +%s%N)
  "$gen" generate "$doc" --out "$out" --name "$name" --quiet --skip-broken
  gen_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  list=$("$gen" inspect "$doc" --format json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["tools"], d["listBytes"])')
  start=$(date +%s%N)
  cargo build --quiet --manifest-path "$out/Cargo.toml" --target-dir "$target"
  build_s=$(( ($(date +%s%N) - start) / 1000000000 ))
  read -r tools bytes <<<"$list"
  printf '%-28s %8s %6s %12s %10s\n' "$name" "$gen_ms" "$tools" "$bytes" "$build_s"
done

github="$target/debug/api-github-com-mcp"
answer=$( { printf '%s\n' \
  '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"check","version":"1"}}}' \
  '{"jsonrpc":"2.0","method":"notifications/initialized"}' \
  '{"jsonrpc":"2.0","id":2,"method":"tools/list"}'
  sleep 3; } | timeout 30 "$github" --base-url http://127.0.0.1:9 )
count=$(printf '%s\n' "$answer" | python3 -c '
import json, sys
for line in sys.stdin:
    msg = json.loads(line)
    if msg.get("id") == 2:
        print(len(msg["result"]["tools"]))
')
echo "GitHub server: initialize answered, tools/list returned $count tools"
[ "$count" -gt 1000 ]
