# Shared paths for Edgeproof's scripts. Source it: `. scripts/env.sh`.
#
# Everything downloaded or built lives outside the clone, under one cache directory, so that
# the developer's builds and CI runs on the same machine share one cargo target directory.

EDGEPROOF_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export EDGEPROOF_ROOT
export EDGEPROOF_CACHE="${EDGEPROOF_CACHE:-$HOME/.cache/edgeproof}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$EDGEPROOF_CACHE/target}"
export EDGEPROOF_VENV="$EDGEPROOF_CACHE/venv"
export ORT_DYLIB_PATH="${ORT_DYLIB_PATH:-$EDGEPROOF_CACHE/onnxruntime/libonnxruntime.so.1.31.1}"
export EDGEPROOF_ONNX_TESTDATA="${EDGEPROOF_ONNX_TESTDATA:-$EDGEPROOF_CACHE/onnx-testdata}"
export EDGEPROOF_ONNX_NODE_TESTDATA="${EDGEPROOF_ONNX_NODE_TESTDATA:-$EDGEPROOF_CACHE/onnx-node-testdata}"
# Real on-device models, unpacked from the PyPI wheels that ship them (scripts/setup.sh).
export EDGEPROOF_MODELS="${EDGEPROOF_MODELS:-$EDGEPROOF_CACHE/models}"
# The wasm builder looks for Cargo.lock from the target directory; it is outside the clone.
export WASM_BUILD_WORKSPACE_HINT="$EDGEPROOF_ROOT"
export EDGEPROOF_NODE_BIN="${EDGEPROOF_NODE_BIN:-$CARGO_TARGET_DIR/release/edgeproof-node}"
export EDGEPROOF_DEVICE_BIN="${EDGEPROOF_DEVICE_BIN:-$CARGO_TARGET_DIR/release/edgeproof-device}"
if [ -f "$HOME/.cargo/env" ]; then
	. "$HOME/.cargo/env"
fi
