#!/usr/bin/env bash
# Builds the node if needed and runs a development chain on 127.0.0.1:9944
# (connect polkadot-js apps or @polkadot/api to ws://127.0.0.1:9944). Ctrl-C stops it.
# Extra arguments are passed to the node, e.g. `scripts/dev-chain.sh --tmp`.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$EDGEPROOF_ROOT"

"$EDGEPROOF_ROOT/scripts/setup.sh"
# Built with the device CLI, as every script does, so they share one feature set in the cache.
cargo build --release --locked -p edgeproof-node -p edgeproof-device
# The dev chain's models are served from this machine (file:// or http://127.0.0.1).
exec "$EDGEPROOF_NODE_BIN" --dev --rpc-cors all --allow-local-model-sources "$@"
