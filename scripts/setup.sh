#!/usr/bin/env bash
# One-time set-up of a machine for Edgeproof. Idempotent: every step checks first and skips
# what is already there, so the README's commands can call it every time.
#
#   - Debian packages: protobuf-compiler (protoc, for the networking crates)
#   - the Rust toolchain pinned in rust-toolchain.toml, with the wasm targets and rust-src
#   - a Python venv with onnx and onnxruntime (fixtures, conformance data, reference outputs)
#   - the ONNX Runtime 1.31.1 shared library, taken from the PyPI wheel
#   - the ONNX backend test data (a link into the wheel, plus the generated node cases)
#   - the npm packages of the end-to-end tests (package-lock.json)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

ONNX_VERSION=1.23.2
ONNXRUNTIME_VERSION=1.31.1
NUMPY_VERSION=2.4.6

log() { printf '\033[1msetup:\033[0m %s\n' "$*"; }

# --- Debian packages --------------------------------------------------------------------------
if ! command -v protoc >/dev/null 2>&1; then
	log "installing protobuf-compiler"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq protobuf-compiler >/dev/null
fi

# --- Rust ------------------------------------------------------------------------------------
if ! command -v rustup >/dev/null 2>&1; then
	echo "setup: rustup is not installed; install Rust with rustup first" >&2
	exit 1
fi
TOOLCHAIN="$(sed -n 's/^channel *= *"\(.*\)"/\1/p' "$EDGEPROOF_ROOT/rust-toolchain.toml")"
if ! rustup target list --installed --toolchain "$TOOLCHAIN" 2>/dev/null | grep -q wasm32v1-none ||
	! rustup component list --installed --toolchain "$TOOLCHAIN" 2>/dev/null | grep -q rust-src; then
	log "installing Rust $TOOLCHAIN with wasm targets and rust-src"
	rustup toolchain install "$TOOLCHAIN" --profile minimal \
		--component rust-src,rustfmt,clippy --target wasm32-unknown-unknown,wasm32v1-none
fi

# --- Python: onnx, onnxruntime, numpy ----------------------------------------------------------
mkdir -p "$EDGEPROOF_CACHE"
if ! "$EDGEPROOF_VENV/bin/python" -c "import onnx, onnxruntime, numpy
assert onnx.__version__ == '$ONNX_VERSION' and onnxruntime.__version__ == '$ONNXRUNTIME_VERSION'" \
	>/dev/null 2>&1; then
	log "creating the Python venv at $EDGEPROOF_VENV"
	python3 -m venv "$EDGEPROOF_VENV"
	"$EDGEPROOF_VENV/bin/pip" install -q "onnx==$ONNX_VERSION" \
		"onnxruntime==$ONNXRUNTIME_VERSION" "numpy==$NUMPY_VERSION"
fi
SITE_PACKAGES="$("$EDGEPROOF_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"

# --- ONNX Runtime shared library (loaded by `ort` with load-dynamic) ---------------------------
if [ ! -f "$ORT_DYLIB_PATH" ]; then
	log "installing libonnxruntime.so.$ONNXRUNTIME_VERSION to $(dirname "$ORT_DYLIB_PATH")"
	mkdir -p "$(dirname "$ORT_DYLIB_PATH")"
	cp "$SITE_PACKAGES/onnxruntime/capi/libonnxruntime.so.$ONNXRUNTIME_VERSION" "$ORT_DYLIB_PATH.tmp"
	mv "$ORT_DYLIB_PATH.tmp" "$ORT_DYLIB_PATH"
fi

# --- ONNX backend test data (conformance cases of edgeproof-canon) -----------------------------
if [ ! -d "$EDGEPROOF_ONNX_TESTDATA" ]; then
	ln -sfn "$SITE_PACKAGES/onnx/backend/test/data" "$EDGEPROOF_ONNX_TESTDATA"
fi

# --- ONNX node test cases (the wheel ships their generators, not the data) --------------------
if [ ! -d "$EDGEPROOF_ONNX_NODE_TESTDATA/node" ]; then
	log "generating the ONNX node test cases into $EDGEPROOF_ONNX_NODE_TESTDATA"
	rm -rf "$EDGEPROOF_ONNX_NODE_TESTDATA.tmp"
	# The generators warn about the infinities they compute on purpose; keep that out of sight
	# unless the run fails.
	if ! "$EDGEPROOF_VENV/bin/python" "$EDGEPROOF_ROOT/scripts/fixtures/gen_onnx_node_testdata.py" \
		"$EDGEPROOF_ONNX_NODE_TESTDATA.tmp" >"$EDGEPROOF_CACHE/onnx-node-testdata.log" 2>&1; then
		cat "$EDGEPROOF_CACHE/onnx-node-testdata.log" >&2
		exit 1
	fi
	rm -rf "$EDGEPROOF_ONNX_NODE_TESTDATA"
	mv "$EDGEPROOF_ONNX_NODE_TESTDATA.tmp" "$EDGEPROOF_ONNX_NODE_TESTDATA"
fi

# --- npm packages of the end-to-end tests --------------------------------------------------------
if [ ! -d "$EDGEPROOF_ROOT/node_modules/@polkadot/api" ] ||
	[ ! -d "$EDGEPROOF_ROOT/node_modules/@zombienet/cli" ]; then
	log "installing npm packages"
	(cd "$EDGEPROOF_ROOT" && npm ci --no-audit --no-fund --loglevel=error)
fi

log "ready (cache: $EDGEPROOF_CACHE)"
