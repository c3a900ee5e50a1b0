//! Canonical executor vs single-threaded ONNX Runtime.
//!
//!     cargo run --release -p edgeproof-canon --example canon_bench            # all benchmarks
//!     cargo run --release -p edgeproof-canon --example canon_bench -- trace   # one ResNet-50 trace
//!
//! Needs the set-up of scripts/setup.sh (ONNX test data and libonnxruntime.so.1.31.1). For peak
//! memory of the whole trace run the `trace` mode under `/usr/bin/time -v`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use edgeproof_canon::{
	compiler::{compile, CompileOptions, Compiled},
	execute, Tensor,
};

fn median(mut v: Vec<Duration>) -> Duration {
	v.sort();
	v[v.len() / 2]
}

fn time_n(n: usize, mut f: impl FnMut()) -> Duration {
	f(); // warm-up
	median(
		(0..n)
			.map(|_| {
				let t = Instant::now();
				f();
				t.elapsed()
			})
			.collect(),
	)
}

fn load(name: &str) -> (Vec<u8>, Compiled, Vec<Tensor>) {
	let path = if name.starts_with("light_") {
		common::onnx_testdata().join("light").join(format!("{name}.onnx"))
	} else {
		common::fixtures().join(format!("{name}.onnx"))
	};
	let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
	let compiled = compile(&bytes, &CompileOptions::default()).expect("compiles");
	let inputs = compiled
		.program
		.inputs
		.iter()
		.enumerate()
		.map(|(i, s)| common::seeded_tensor(7 + i as u64, &s.shape))
		.collect();
	(bytes, compiled, inputs)
}

fn bench(name: &str, runs: usize) {
	let (bytes, compiled, inputs) = load(name);
	let canon = time_n(runs, || {
		execute(&compiled.program, &inputs).expect("runs");
	});
	let named: Vec<_> = compiled.input_names.iter().cloned().zip(inputs.iter()).collect();
	let mut row = format!("{name:<16} canon {:>10.3?}", canon);
	for (label, optimize) in [("ort-opt-all", true), ("ort-opt-off", false)] {
		let mut session = common::reference::session(&bytes, optimize);
		let ort = time_n(runs, || {
			common::reference::run(&mut session, &named);
		});
		row += &format!(
			"  {label} {:>10.3?} (canon/ort {:>5.1}x)",
			ort,
			canon.as_secs_f64() / ort.as_secs_f64()
		);
	}
	println!("{row}   [median of {runs}]");
}

fn trace_resnet50() {
	let (_, compiled, inputs) = load("light_resnet50");
	let t = Instant::now();
	let trace = execute(&compiled.program, &inputs).expect("runs");
	let exec = t.elapsed();
	let root = trace.root();
	let total = t.elapsed();
	let bytes: usize = trace.values.iter().map(|v| v.data.len()).sum();
	println!(
		"light_resnet50 whole trace: {} leaves, {:.1} MiB of values; execute {exec:.3?}, \
		 execute + leaf hashes + root {total:.3?}; root 0x{}",
		trace.values.len(),
		bytes as f64 / (1 << 20) as f64,
		root.iter().map(|b| format!("{b:02x}")).collect::<String>()
	);
}

fn main() {
	match std::env::args().nth(1).as_deref() {
		Some("trace") => trace_resnet50(),
		_ => {
			bench("mlp", 2001);
			bench("cnn", 201);
			bench("light_resnet50", 5);
			trace_resnet50();
		},
	}
}
