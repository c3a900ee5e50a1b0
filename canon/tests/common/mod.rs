//! Shared test helpers: locating the set-up data, reading ONNX TensorProto files, seeded inputs,
//! and ONNX Runtime as the reference.
#![allow(dead_code)]

pub mod real;

use std::path::{Path, PathBuf};

use edgeproof_canon::{compiler::onnx::TensorProto, DType, Tensor};
use prost::Message;

const SETUP_HINT: &str = "run scripts/setup.sh (it creates the venv with onnx==1.23.2 and \
	onnxruntime==1.31.1, the onnx-testdata link, the node test cases, the real models and the ONNX \
	Runtime library)";

fn cache_dir() -> PathBuf {
	if let Some(c) = std::env::var_os("EDGEPROOF_CACHE") {
		return PathBuf::from(c);
	}
	let home = std::env::var_os("HOME").unwrap_or_else(|| "/root".into());
	PathBuf::from(home).join(".cache/edgeproof")
}

/// `$var` if set, else `default` below the cache; it must exist.
fn locate(var: &str, default: &str, what: &str) -> PathBuf {
	let p = std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| cache_dir().join(default));
	assert!(p.exists(), "{what} not found at {} (set {var}): {SETUP_HINT}", p.display());
	p
}

/// `onnx/backend/test/data` of the onnx wheel.
pub fn onnx_testdata() -> PathBuf {
	locate("EDGEPROOF_ONNX_TESTDATA", "onnx-testdata", "ONNX backend test data")
}

/// The generated per-operator cases (`<dir>/node/<case>`).
pub fn onnx_node_testdata() -> PathBuf {
	let p = locate("EDGEPROOF_ONNX_NODE_TESTDATA", "onnx-node-testdata", "ONNX node test cases");
	assert!(p.join("node").exists(), "{}/node is missing: {SETUP_HINT}", p.display());
	p
}

/// The real on-device models unpacked from their wheels (`$EDGEPROOF_MODELS`).
pub fn real_models() -> PathBuf {
	locate("EDGEPROOF_MODELS", "models", "real on-device models")
}

/// `libonnxruntime.so.1.31.1`.
pub fn ort_library() -> PathBuf {
	locate("ORT_DYLIB_PATH", "onnxruntime/libonnxruntime.so.1.31.1", "ONNX Runtime library")
}

/// The committed fixtures.
pub fn fixtures() -> PathBuf {
	Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// Reads a serialized TensorProto.
pub fn read_pb(path: &Path) -> Result<Tensor, String> {
	let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
	let proto =
		TensorProto::decode(bytes.as_slice()).map_err(|e| format!("{}: {e}", path.display()))?;
	edgeproof_canon::compiler::tensor_from_proto(&proto).map_err(|e| e.to_string())
}

/// Reads a raw little-endian f32 file as a tensor of `shape`.
pub fn read_f32_bin(path: &Path, shape: Vec<u32>) -> Tensor {
	let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
	Tensor::new(DType::F32, shape, bytes).expect("size matches the sidecar shape")
}

/// Deterministic pseudo-random u64s (xorshift64*).
pub fn seeded_u64(seed: u64, n: usize) -> Vec<u64> {
	let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
	(0..n)
		.map(|_| {
			s ^= s >> 12;
			s ^= s << 25;
			s ^= s >> 27;
			s.wrapping_mul(0x2545_F491_4F6C_DD1D)
		})
		.collect()
}

/// Deterministic pseudo-random f32s in [-1, 1).
pub fn seeded_f32(seed: u64, n: usize) -> Vec<f32> {
	// The top 24 bits.
	seeded_u64(seed, n)
		.into_iter()
		.map(|v| ((v >> 40) as f32 / (1u64 << 23) as f32) - 1.0)
		.collect()
}

/// A seeded F32 tensor.
pub fn seeded_tensor(seed: u64, shape: &[u32]) -> Tensor {
	let n = shape.iter().map(|&d| d as usize).product();
	Tensor::from_f32(shape.to_vec(), &seeded_f32(seed, n))
}

/// Largest |a - b| and largest |a - b| / max(|b|, 1e-6) over two F32 tensors.
pub fn max_diffs(a: &Tensor, b: &Tensor) -> (f32, f32) {
	let (x, y) = (a.f32_values().unwrap(), b.f32_values().unwrap());
	x.iter().zip(&y).fold((0f32, 0f32), |(ma, mr), (&p, &q)| {
		let d = (p - q).abs();
		(ma.max(d), mr.max(d / q.abs().max(1e-6)))
	})
}

/// ONNX Runtime (single thread, given optimisation level) as the reference.
pub mod reference {
	use std::sync::OnceLock;

	use edgeproof_canon::Tensor;
	use ort::{
		session::{builder::GraphOptimizationLevel, Session},
		value::Tensor as OrtTensor,
	};

	static ENV: OnceLock<ort::environment::Environment> = OnceLock::new();

	fn env() -> &'static ort::environment::Environment {
		ENV.get_or_init(|| {
			ort::init_from(super::ort_library())
				.expect("load libonnxruntime")
				.build()
				.expect("ORT environment")
		})
	}

	/// A single-threaded session on model bytes.
	pub fn session(model: &[u8], optimize: bool) -> Session {
		session_with_threads(model, optimize, 1)
	}

	/// A session with `threads` intra-op threads (one inter-op thread, sequential execution).
	pub fn session_with_threads(model: &[u8], optimize: bool, threads: usize) -> Session {
		let level =
			if optimize { GraphOptimizationLevel::All } else { GraphOptimizationLevel::Disable };
		Session::builder(env())
			.expect("builder")
			.with_intra_threads(threads)
			.expect("threads")
			.with_inter_threads(1)
			.expect("threads")
			.with_optimization_level(level)
			.expect("opt level")
			.commit_from_memory(model)
			.expect("ORT loads the model")
	}

	/// Runs inputs (by name; F32, I64, I32, U8, I8) and returns the outputs in graph order.
	pub fn run(session: &mut Session, inputs: &[(String, &Tensor)]) -> Vec<Tensor> {
		use edgeproof_canon::DType;
		let values: Vec<(String, ort::value::DynValue)> = inputs
			.iter()
			.map(|(name, t)| {
				let shape: Vec<i64> = t.shape.iter().map(|&d| d as i64).collect();
				let ints = || t.int_values().unwrap();
				let v = match t.dtype {
					DType::I64 => OrtTensor::from_array((shape, ints())).map(|v| v.into_dyn()),
					DType::I32 => {
						let v: Vec<i32> = ints().into_iter().map(|x| x as i32).collect();
						OrtTensor::from_array((shape, v)).map(|v| v.into_dyn())
					},
					DType::U8 => {
						OrtTensor::from_array((shape, t.data.clone())).map(|v| v.into_dyn())
					},
					DType::I8 => {
						let v: Vec<i8> = t.data.iter().map(|&b| b as i8).collect();
						OrtTensor::from_array((shape, v)).map(|v| v.into_dyn())
					},
					_ => OrtTensor::from_array((shape, t.f32_values().unwrap()))
						.map(|v| v.into_dyn()),
				};
				(name.clone(), v.expect("ort tensor"))
			})
			.collect();
		let outputs = session.run(values).expect("ORT run");
		outputs
			.values()
			.map(|v| {
				let dims = |s: &[i64]| s.iter().map(|&d| d as u32).collect::<Vec<u32>>();
				if let Ok((shape, data)) = v.try_extract_tensor::<f32>() {
					return Tensor::from_f32(dims(shape), data);
				}
				if let Ok((shape, data)) = v.try_extract_tensor::<u8>() {
					return Tensor::new(DType::U8, dims(shape), data.to_vec()).unwrap();
				}
				if let Ok((shape, data)) = v.try_extract_tensor::<i8>() {
					let bytes = data.iter().map(|&x| x as u8).collect();
					return Tensor::new(DType::I8, dims(shape), bytes).unwrap();
				}
				if let Ok((shape, data)) = v.try_extract_tensor::<i32>() {
					return Tensor::from_i32(dims(shape), data);
				}
				let (shape, data) =
					v.try_extract_tensor::<i64>().expect("an F32/U8/I8/I32/I64 output");
				Tensor::from_i64(dims(shape), data)
			})
			.collect()
	}
}

/// f32 values biased to the awkward ones for property tests: ±0, denormals, ±inf, NaN, large and
/// tiny, random bit patterns.
pub fn awkward_f32() -> impl proptest::strategy::Strategy<Value = f32> {
	use proptest::prelude::*;
	prop_oneof![
		4 => -4.0f32..4.0,
		1 => Just(0.0f32),
		1 => Just(-0.0f32),
		1 => Just(f32::MIN_POSITIVE / 8.0),
		1 => Just(-f32::MIN_POSITIVE / 3.0),
		1 => Just(f32::INFINITY),
		1 => Just(f32::NEG_INFINITY),
		1 => Just(f32::NAN),
		1 => Just(3.0e38f32),
		1 => any::<u32>().prop_map(f32::from_bits),
	]
}
