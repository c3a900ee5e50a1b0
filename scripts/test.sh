#!/usr/bin/env bash
# Runs every test of Edgeproof. This is the README's test command and what CI runs.
#
#   1. machine set-up (skipped where done),
#   2. the release build of the node (which builds the wasm runtime once for the whole run)
#      and of the device CLI,
#   3. the Rust tests of the workspace (release profile: they share the node's dependencies),
#      the pallets with their benchmarks as tests,
#   4. the explorer's type check, then the end-to-end tests: a real node driven through
#      @polkadot/api, the device CLI and the explorer in headless Chromium (screenshots in
#      target/explorer-screenshots/), then the demo (scripts/demo.mjs), the main job a newcomer
#      runs first,
#   5. the zombienet network scenarios (zombienet/README.md): several nodes on 127.0.0.1.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$EDGEPROOF_ROOT"

"$EDGEPROOF_ROOT/scripts/setup.sh"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "build: edgeproof-node (release, with the wasm runtime) and edgeproof-device"
cargo build --release --locked -p edgeproof-node -p edgeproof-device

step "cargo test (workspace, release)"
cargo test --release --locked --workspace \
	--exclude pallet-models --exclude pallet-devices --exclude pallet-attestations \
	--exclude pallet-disputes

# The pallets with their benchmarks, which also run as tests in the mock runtime.
step "cargo test (pallets with runtime-benchmarks)"
cargo test --release --locked -p pallet-models -p pallet-devices -p pallet-attestations \
	-p pallet-disputes --features runtime-benchmarks

step "explorer: TypeScript type check"
npx tsc -p explorer

step "end-to-end tests (@polkadot/api, the device CLI and the explorer against edgeproof-node --dev)"
node --test --test-concurrency=1 tests/e2e/

step "the demo (scripts/demo.sh without the build): a dev chain, an honest and a tampered claim"
node scripts/demo.mjs

# Scenarios 01 (finality) and 03 (a tampered claim settled through the whole game on three
# validators); 02 (a claim finalised on every node) is run apart: zombienet/run.sh zombienet/02-claims.
step "zombienet: 01-finality, 03-disputes"
zombienet/run.sh zombienet/01-finality zombienet/03-disputes
