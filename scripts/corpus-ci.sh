#!/usr/bin/env bash
# The corpus check in its CI size: scripts/corpus.sh --sample (about 400 documents: every 9th
# APIs.guru document, every readme.io example, GitHub and Stripe). Extra arguments go to
# corpus.sh, e.g. `scripts/corpus-ci.sh target/corpus -- --jobs 1`.
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/corpus.sh --sample "$@"
