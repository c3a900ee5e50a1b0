#!/usr/bin/env bash
# The main job: builds the node if needed and runs a development chain on 127.0.0.1:9944
# (connect polkadot-js apps or @polkadot/api to ws://127.0.0.1:9944). Ctrl-C stops it.
# Extra arguments are passed to the node, e.g. `scripts/demo.sh --tmp`.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$EDGEPROOF_ROOT"

"$EDGEPROOF_ROOT/scripts/setup.sh"
cargo build --release --locked -p edgeproof-node
exec "$EDGEPROOF_NODE_BIN" --dev --rpc-cors all "$@"
