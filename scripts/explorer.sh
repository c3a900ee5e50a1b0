#!/usr/bin/env bash
# Builds the explorer (explorer/, Vite) and serves it on http://127.0.0.1:PORT (default 8080).
# The page reads the node given by its `?rpc=` parameter (default ws://127.0.0.1:9944, the dev
# chain of scripts/dev-chain.sh):
#
#   scripts/explorer.sh [PORT]   then open http://127.0.0.1:8080/?rpc=ws://127.0.0.1:9944
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$EDGEPROOF_ROOT"

"$EDGEPROOF_ROOT/scripts/setup.sh"
npx vite build explorer --logLevel warn
exec node explorer/serve.mjs "${1:-8080}"
