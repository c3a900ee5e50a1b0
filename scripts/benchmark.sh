#!/usr/bin/env bash
# Regenerates the weights of Edgeproof's pallets with the benchmark CLI:
#
#   scripts/benchmark.sh                 # every Edgeproof pallet
#   scripts/benchmark.sh pallet_models   # one pallet
#
# Builds `edgeproof-node` and the runtime with `--features runtime-benchmarks` in their own
# target directory (so the test builds are not disturbed), then runs
# `edgeproof-node benchmark pallet` on the benchmark runtime and writes
# `pallets/<name>/src/weights.rs` from scripts/frame-weight-template.hbs.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$EDGEPROOF_ROOT"

STEPS="${STEPS:-50}"
REPEAT="${REPEAT:-20}"
PALLETS=("$@")
if [ ${#PALLETS[@]} -eq 0 ]; then
	PALLETS=(pallet_models pallet_devices pallet_attestations pallet_disputes)
fi

export CARGO_TARGET_DIR="$EDGEPROOF_CACHE/target-bench"
# frame-benchmarking-cli's storage-benchmark test runtime is not needed for `benchmark pallet`,
# and its wasm build cannot find it in this workspace's metadata (an optional dependency).
export SKIP_FRAME_STORAGE_ACCESS_TEST_RUNTIME_WASM_BUILD=1
cargo build --release --locked -p edgeproof-node --features runtime-benchmarks
NODE="$CARGO_TARGET_DIR/release/edgeproof-node"
RUNTIME="$CARGO_TARGET_DIR/release/wbuild/edgeproof-runtime/edgeproof_runtime.compact.compressed.wasm"

for pallet in "${PALLETS[@]}"; do
	dir="pallets/${pallet#pallet_}"
	echo "benchmarking $pallet -> $dir/src/weights.rs"
	"$NODE" benchmark pallet \
		--runtime "$RUNTIME" \
		--genesis-builder-preset development \
		--pallet "$pallet" \
		--extrinsic '*' \
		--steps "$STEPS" \
		--repeat "$REPEAT" \
		--wasm-execution compiled \
		--heap-pages 4096 \
		--template scripts/frame-weight-template.hbs \
		--output "$dir/src/weights.rs"
done
