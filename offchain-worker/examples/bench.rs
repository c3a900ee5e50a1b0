//! Inference benchmark (a report, not a timed test). See `examples/README.md`.
//!
//! For each model: (a) the host-function path — `edgeproof_primitives::inference::run` called
//! natively inside `TestExternalities` with the engine registered — against a direct `ort`
//! session with the same pinned settings on the same input; (b) that direct Rust session
//! against Python onnxruntime (`scripts/bench_inference.py`) on the same model, input bytes and
//! settings. Prints a Markdown table of median times per inference.

use std::{
	path::{Path, PathBuf},
	process::Command,
	sync::Arc,
	time::{Duration, Instant},
};

use edgeproof_canon::{DType, Tensor};
use edgeproof_offchain::{Engine, EngineConfig, OrtRuntime};
use edgeproof_primitives::{inference, FileHash, InferenceExt};
use ort::{session::SessionInputValue, value::DynValue};
use sp_crypto_hashing::blake2_256;

struct Model {
	name: &'static str,
	path: PathBuf,
	input: Vec<Tensor>,
}

fn env_path(var: &str, default: &str) -> PathBuf {
	std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| {
		PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(default)
	})
}

fn fixture(name: &'static str, shape: Vec<u32>) -> Model {
	let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../canon/tests/data");
	let data = std::fs::read(dir.join(format!("{name}.input_0.bin"))).expect("fixture input");
	Model {
		name,
		path: dir.join(format!("{name}.onnx")),
		input: vec![Tensor::new(DType::F32, shape, data).expect("fixture tensor")],
	}
}

/// Seeded F32 input in [0, 1) (xorshift; the values do not change the timing).
fn seeded_f32(shape: Vec<u32>, seed: u64) -> Tensor {
	let n = shape.iter().map(|&d| d as usize).product::<usize>();
	let mut x = seed;
	let values: Vec<f32> = (0..n)
		.map(|_| {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			(x >> 40) as f32 / (1u64 << 24) as f32
		})
		.collect();
	Tensor::from_f32(shape, &values)
}

/// Calls `f` for `budget` (at least 5 times), recording the time of each call.
fn time_batch(f: &mut dyn FnMut(), budget: Duration, samples: &mut Vec<Duration>) {
	let start = Instant::now();
	while start.elapsed() < budget || samples.len() < 5 {
		let t = Instant::now();
		f();
		samples.push(t.elapsed());
	}
}

fn median(mut v: Vec<Duration>) -> Duration {
	v.sort();
	v[v.len() / 2]
}

fn python_median_us(python: &Path, model: &Path, inputs: &[PathBuf], iters: u32) -> Option<f64> {
	let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/bench_inference.py");
	let out = Command::new(python)
		.arg(script)
		.arg(model)
		.args(inputs)
		.args(["--iters", &iters.to_string()])
		.output()
		.ok()?;
	if !out.status.success() {
		eprintln!("python bench failed: {}", String::from_utf8_lossy(&out.stderr));
		return None;
	}
	let line = String::from_utf8_lossy(&out.stdout);
	let v = line.split("\"median_us\":").nth(1)?.split([',', '}']).next()?.trim().parse().ok()?;
	Some(v)
}

fn main() {
	let lib = env_path("ORT_DYLIB_PATH", ".cache/edgeproof/onnxruntime/libonnxruntime.so.1.31.1");
	assert!(lib.is_file(), "ONNX Runtime not found at {}: run scripts/setup.sh", lib.display());
	let testdata = env_path("EDGEPROOF_ONNX_TESTDATA", ".cache/edgeproof/onnx-testdata");
	let python = std::env::var_os("EDGEPROOF_VENV")
		.map(|v| PathBuf::from(v).join("bin/python"))
		.unwrap_or_else(|| env_path("EDGEPROOF_PYTHON", ".cache/edgeproof/venv/bin/python"));
	let budget = Duration::from_millis(
		std::env::var("BENCH_ROUND_MS").ok().and_then(|s| s.parse().ok()).unwrap_or(1500),
	);
	let rounds = 4;

	let models = vec![
		fixture("mlp", vec![1, 16]),
		fixture("cnn", vec![1, 1, 28, 28]),
		Model {
			name: "light_resnet50",
			path: testdata.join("light/light_resnet50.onnx"),
			input: vec![seeded_f32(vec![1, 3, 224, 224], 0x5eed)],
		},
	];

	let work = tempfile::tempdir().expect("temp dir");
	// The models are local files.
	let mut config = EngineConfig::new(Some(lib), work.path().join("models"));
	config.store.allow_local_sources = true;
	let engine = Arc::new(Engine::new(config).expect("engine"));
	let ort_rt = engine.ort().expect("ONNX Runtime loaded").clone();
	if std::env::args().nth(1).as_deref() == Some("check-cost") {
		return check_cost(&models, &ort_rt, budget);
	}

	println!(
		"| model | host fn (µs) | direct ort (µs) | (a) host/direct | python ort (µs) | (b) python/rust |"
	);
	println!("|---|---:|---:|---:|---:|---:|");
	for m in models {
		let bytes = std::fs::read(&m.path).unwrap_or_else(|e| panic!("{}: {e}", m.path.display()));
		let id = FileHash::from(blake2_256(&bytes));
		let uri = format!("file://{}", m.path.display());

		let mut direct = direct_run(&ort_rt, &bytes, &m.input);

		// Host function: through the runtime interface with the engine as the extension (one
		// externalities scope per batch, as an off-chain worker run makes many calls in one).
		let mut ext = sp_io::TestExternalities::default();
		ext.register_extension(InferenceExt::new(engine.clone()));
		let mut host = || {
			let out = inference::run(id, uri.as_bytes(), m.input.clone()).expect("host run");
			std::hint::black_box(out);
		};

		let (mut d, mut h) = (Vec::new(), Vec::new());
		ext.execute_with(|| {
			for _ in 0..5 {
				direct();
				host();
			}
			for _ in 0..rounds {
				time_batch(&mut direct, budget, &mut d);
				time_batch(&mut host, budget, &mut h);
			}
		});
		let iters = d.len() as u32;
		let (d, h) = (median(d), median(h));

		let inputs: Vec<PathBuf> = m
			.input
			.iter()
			.enumerate()
			.map(|(i, t)| {
				let p = work.path().join(format!("{}.input_{i}.bin", m.name));
				std::fs::write(&p, &t.data).expect("write input");
				p
			})
			.collect();
		let py = python_median_us(&python, &m.path, &inputs, iters.clamp(20, 2000));

		let us = |t: Duration| t.as_secs_f64() * 1e6;
		println!(
			"| {} | {:.1} | {:.1} | {:.3} | {} | {} |",
			m.name,
			us(h),
			us(d),
			us(h) / us(d),
			py.map_or("-".into(), |p| format!("{p:.1}")),
			py.map_or("-".into(), |p| format!("{:.3}", p / us(d))),
		);
	}
}

/// `bench check-cost`: what checking one claim costs a validator, per model: the canonical
/// program's static [`edgeproof_canon::Cost`] (the `program_work` a registration states and
/// claim bonds grow with), the median time of one ONNX Runtime run (the checker's usual path,
/// pinned settings) and of one canonical run (its fallback, and what a dispute needs), and both
/// per unit of work.
fn check_cost(models: &[Model], ort_rt: &OrtRuntime, budget: Duration) {
	println!("| model | work (units) | trace (MiB) | ort (ms) | ort (ns/unit) | canon (ms) | canon (ns/unit) |");
	println!("|---|---:|---:|---:|---:|---:|---:|");
	for m in models {
		let bytes = std::fs::read(&m.path).unwrap_or_else(|e| panic!("{}: {e}", m.path.display()));
		let program =
			edgeproof_canon::compiler::compile(&bytes, &edgeproof_offchain::compile_options())
				.expect("compiles")
				.program;
		let cost = program.cost().expect("static shapes");
		let mut ort_run = direct_run(ort_rt, &bytes, &m.input);
		let mut canon_run = || {
			std::hint::black_box(edgeproof_canon::execute(&program, &m.input).expect("canon run"));
		};
		let (mut o, mut c) = (Vec::new(), Vec::new());
		ort_run();
		time_batch(&mut ort_run, budget, &mut o);
		time_batch(&mut canon_run, budget, &mut c);
		let (o, c) = (median(o), median(c));
		let ms = |t: Duration| t.as_secs_f64() * 1e3;
		let per_unit = |t: Duration| t.as_secs_f64() * 1e9 / cost.work.max(1) as f64;
		println!(
			"| {} | {} | {:.2} | {:.3} | {:.4} | {:.3} | {:.4} |",
			m.name,
			cost.work,
			cost.trace_bytes as f64 / (1 << 20) as f64,
			ms(o),
			per_unit(o),
			ms(c),
			per_unit(c),
		);
	}
}

/// Direct: an `ort` session on `bytes` with the engine's pinned settings and the input values
/// built once; each call runs it and copies the first output out.
fn direct_run(ort_rt: &OrtRuntime, bytes: &[u8], input: &[Tensor]) -> impl FnMut() {
	let mut session = ort_rt
		.session_builder()
		.and_then(|mut b| b.commit_from_memory(bytes).map_err(Into::into))
		.expect("direct session");
	let values: Vec<DynValue> = input.iter().map(to_value).collect();
	move || {
		let inputs: Vec<SessionInputValue> = values.iter().map(SessionInputValue::from).collect();
		let out = session.run(inputs.as_slice()).expect("direct run");
		let (_, data) = out[0].try_extract_tensor::<f32>().expect("f32 output");
		std::hint::black_box(data.to_vec());
	}
}

fn to_value(t: &Tensor) -> DynValue {
	let shape: Vec<i64> = t.shape.iter().map(|&d| d as i64).collect();
	let values = t.f32_values().expect("the bench models take F32 inputs");
	ort::value::Tensor::from_array((shape, values)).expect("ort tensor").into_dyn()
}
