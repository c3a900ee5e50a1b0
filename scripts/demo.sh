#!/usr/bin/env bash
# The main job, in one command: sets up the machine (if needed), builds the node and the device
# CLI, then runs scripts/demo.mjs on a fresh development chain — a model registered and voted
# active, a device registered, an honest claim that finalises, and a tampered claim that the
# validator catches, with the dispute's rounds and the slash printed as they happen.
#
#   scripts/demo.sh           # about three minutes; the node stops at the end
#   scripts/demo.sh --keep    # also serve the explorer (its URL is printed) and leave the node
#                             # running to explore with it or polkadot-js apps
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$EDGEPROOF_ROOT"

"$EDGEPROOF_ROOT/scripts/setup.sh"
cargo build --release --locked -p edgeproof-node -p edgeproof-device
exec node scripts/demo.mjs "$@"
