//! Canonical executor vs single-threaded ONNX Runtime.
//!
//!     cargo run --release -p edgeproof-canon --example canon_bench            # all benchmarks
//!     cargo run --release -p edgeproof-canon --example canon_bench -- trace   # one ResNet-50 trace
//!     cargo run --release -p edgeproof-canon --example canon_bench -- real    # the real models
//!     cargo run --release -p edgeproof-canon --example canon_bench -- real 5 minilm  # runs, a filter
//!     cargo run --release -p edgeproof-canon --example canon_bench -- real-trace FILE  # one trace
//!     cargo run --release -p edgeproof-canon --example canon_bench -- real-stream FILE # streamed
//!     cargo run --release -p edgeproof-canon --example canon_bench -- real-ort FILE    # one ort run
//!     cargo run --release -p edgeproof-canon --example canon_bench -- real-profile FILE [runs]  # per operator, slowest nodes
//!     cargo run --release -p edgeproof-canon --example canon_bench -- chunks FILE [runs]  # chunk sizes
//!     cargo run --release -p edgeproof-canon --example canon_bench -- substeps NAME [runs]  # second level
//!
//! `real-trace`, `real-stream` and `real-ort` under `/usr/bin/time -f %M` give the two peak RSS to compare.
//!
//! Needs the set-up of scripts/setup.sh (ONNX test data and libonnxruntime.so.1.31.1). For peak
//! memory of the whole trace run the `trace` mode under `/usr/bin/time -v`.

#[path = "../tests/common/mod.rs"]
mod common;

/// The allocator of the node and device binaries, so the figures are theirs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::{Duration, Instant};

use codec::Encode;

use edgeproof_canon::{
	commit_trace,
	compiler::{compile, CompileOptions, Compiled},
	execute, Limits, Tensor,
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

/// The real models of canon/tests/common/real.rs, side by side in one run: canon's execution,
/// canon's trace root (execution, leaf hashes, Merkle root), ort with 1 and 2 intra-op threads
/// (all optimisations), each the median of `runs`, and the ratios to ort's single thread.
/// The real models whose file name contains `filter` (all without one).
fn bench_real(runs: usize, filter: Option<&str>) {
	use common::real::{model_bytes, named_inputs, program_and_inputs, ALL};
	println!(
		"{:<40} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7} {:>7} {:>7} {:>7}",
		"model", "canon", "trace", "stream", "ort 1t", "ort 2t", "c/ort1", "t/ort1", "t/c", "s/c"
	);
	for m in ALL.iter().filter(|m| filter.is_none_or(|f| m.file.contains(f))) {
		let (program, inputs) = program_and_inputs(m, 7);
		let named = named_inputs(m, 7);
		let canon = time_n(runs, || {
			execute(&program, &inputs).expect("runs");
		});
		let trace = time_n(runs, || {
			execute(&program, &inputs).expect("runs").root();
		});
		let stream = time_n(runs, || {
			commit_trace(&program, &inputs, &Limits::NATIVE, false).expect("runs").tree().root();
		});
		let bytes = model_bytes(m);
		let named: Vec<_> = named.iter().map(|(n, t)| (n.clone(), t)).collect();
		let ort = |threads| {
			let mut session = common::reference::session_with_threads(&bytes, true, threads);
			time_n(runs, || {
				common::reference::run(&mut session, &named);
			})
		};
		let (ort1, ort2) = (ort(1), ort(2));
		let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
		let ms = |d: Duration| format!("{:.2}", d.as_secs_f64() * 1e3);
		println!(
			"{:<40} {:>9} {:>9} {:>9} {:>9} {:>9} {:>6.1}x {:>6.1}x {:>6.2}x {:>6.2}x",
			m.file,
			ms(canon),
			ms(trace),
			ms(stream),
			ms(ort1),
			ms(ort2),
			ratio(canon, ort1),
			ratio(trace, ort1),
			ratio(trace, canon),
			ratio(stream, canon)
		);
	}
	println!("(milliseconds, median of {runs} after a warm-up run)");
}

fn real_model(file: &str) -> &'static common::real::RealModel {
	common::real::ALL
		.iter()
		.find(|m| m.file == file)
		.unwrap_or_else(|| panic!("no real model {file}"))
}

/// One single-threaded ort run of one real model (for its peak RSS).
fn real_ort(file: &str) {
	let m = real_model(file);
	let named = common::real::named_inputs(m, 7);
	let named: Vec<_> = named.iter().map(|(n, t)| (n.clone(), t)).collect();
	let bytes = common::real::model_bytes(m);
	let mut session = common::reference::session(&bytes, true);
	let outputs = common::reference::run(&mut session, &named);
	println!("{file}: {} outputs", outputs.len());
}

/// One trace root of one real model (for its peak RSS): from the whole trace, or `streamed`
/// (each value hashed when computed and freed after its last reader).
fn real_trace(file: &str, streamed: bool) {
	let (program, inputs) = common::real::program_and_inputs(real_model(file), 7);
	let root = if streamed {
		commit_trace(&program, &inputs, &Limits::NATIVE, false).expect("runs").tree().root()
	} else {
		execute(&program, &inputs).expect("runs").root()
	};
	println!("{file}: root 0x{}", root.iter().map(|b| format!("{b:02x}")).collect::<String>());
}

/// Where a real model's execution goes: each node run alone on its inputs from one trace
/// (`runs` times, median per node), the times summed per operator and printed largest first,
/// with the work (multiply-adds or elements) they did.
fn real_profile(file: &str, runs: usize) {
	use edgeproof_canon::execute_node;
	use std::collections::BTreeMap;
	let (program, inputs) = common::real::program_and_inputs(real_model(file), 7);
	let trace = execute(&program, &inputs).expect("runs");
	let checks = time_n(runs, || {
		program.validate(&Limits::NATIVE).expect("valid");
		program.cost().expect("cost");
	});
	let whole = time_n(runs, || {
		execute(&program, &inputs).expect("runs");
	});
	println!(
		"checks {:.2} ms, whole execute {:.2} ms",
		checks.as_secs_f64() * 1e3,
		whole.as_secs_f64() * 1e3
	);
	let m = program.inputs.len();
	let mut per_op: BTreeMap<&str, (Duration, u64, usize, usize)> = BTreeMap::new();
	let mut total = Duration::ZERO;
	let works = program.node_works().expect("shapes");
	let mut slowest = Vec::new();
	for (j, (node, work)) in program.nodes.iter().zip(works).enumerate() {
		let ins = trace.node_inputs(&program, j).expect("a node of the program");
		let t = time_n(runs, || {
			execute_node(node, &ins).expect("runs");
		});
		slowest.push((t, j, work, ins.iter().map(|t| t.shape.clone()).collect::<Vec<_>>()));
		let e = per_op.entry(node.op.name()).or_default();
		let bytes = trace.values[m + j].data.len();
		(e.0, e.1, e.2, e.3) = (e.0 + t, e.1 + work, e.2 + 1, e.3 + bytes);
		total += t;
	}
	let mut rows: Vec<_> = per_op.into_iter().collect();
	rows.sort_by_key(|(_, (t, ..))| std::cmp::Reverse(*t));
	println!(
		"{file}: {:.2} ms over {} nodes (median of {runs} per node)",
		total.as_secs_f64() * 1e3,
		program.nodes.len()
	);
	println!(
		"{:<24} {:>6} {:>10} {:>7} {:>12} {:>9} {:>10}",
		"operator", "nodes", "ms", "share", "work", "work/ns", "trace MiB"
	);
	for (op, (t, work, n, bytes)) in rows {
		println!(
			"{op:<24} {n:>6} {:>10.2} {:>6.1}% {work:>12} {:>9.2} {:>10.1}",
			t.as_secs_f64() * 1e3,
			100.0 * t.as_secs_f64() / total.as_secs_f64(),
			work as f64 / (t.as_nanos().max(1) as f64),
			bytes as f64 / (1 << 20) as f64
		);
	}
	slowest.sort_by_key(|(t, ..)| std::cmp::Reverse(*t));
	println!("slowest nodes:");
	for (t, j, work, shapes) in slowest.iter().take(8) {
		let op = &program.nodes[*j].op;
		println!(
			"  node {j:>4} {:<14} {:>8.3} ms {:>7.2} work/ns  inputs {shapes:?}  {}",
			op.name(),
			t.as_secs_f64() * 1e3,
			*work as f64 / (t.as_nanos().max(1) as f64),
			match op {
				edgeproof_canon::Op::Conv { window, group } => format!("group {group} {window:?}"),
				_ => String::new(),
			}
		);
	}
}

/// The choice of `CHUNK_BYTES`: for each candidate chunk size, the time to hash every value of a
/// real model's trace on one thread (median of `runs`), against hashing each value's SCALE
/// bytes whole as one stream (the leaf hash before chunking), and the size of the proof of one
/// chunk (its bytes and the siblings up to the leaf hash), averaged and at most over the
/// trace's values: what a one-step pays to read one element of a tensor.
fn chunk_sizes(file: &str, runs: usize) {
	use edgeproof_canon::{chunk::leaf_hash_chunked, merkle::tree_depth};
	let (program, inputs) = common::real::program_and_inputs(real_model(file), 7);
	let trace = execute(&program, &inputs).expect("runs");
	let bytes: usize = trace.values.iter().map(|v| v.data.len()).sum();
	println!(
		"{file}: {} values, {:.1} MiB; hashing every value on one thread, median of {runs}",
		trace.values.len(),
		bytes as f64 / (1 << 20) as f64
	);
	let whole = time_n(runs, || {
		for t in &trace.values {
			let mut state = blake2b_simd::Params::new().hash_length(32).to_state();
			state.update(&(t.dtype, &t.shape, codec::Compact(t.data.len() as u32)).encode());
			state.update(&t.data);
			std::hint::black_box(state.finalize());
		}
	});
	let gib_s = |d: Duration| bytes as f64 / d.as_secs_f64() / (1u64 << 30) as f64;
	println!(
		"{:>12} {:>10} {:>8} {:>10} {:>14} {:>14}",
		"chunk", "hash", "GiB/s", "vs whole", "proof mean", "proof max"
	);
	println!(
		"{:>12} {:>8.2}ms {:>8.2} {:>9.2}x",
		"whole",
		whole.as_secs_f64() * 1e3,
		gib_s(whole),
		1.0
	);
	for chunk in [256usize, 1024, 4096, 16384, 65536] {
		let d = time_n(runs, || {
			for t in &trace.values {
				std::hint::black_box(leaf_hash_chunked(t, chunk));
			}
		});
		let proofs: Vec<usize> = trace
			.values
			.iter()
			.map(|t| {
				let n = t.data.len().div_ceil(chunk) as u64;
				t.data.len().min(chunk) + 32 * tree_depth(n) as usize
			})
			.collect();
		println!(
			"{:>12} {:>8.2}ms {:>8.2} {:>9.2}x {:>12} B {:>12} B",
			chunk,
			d.as_secs_f64() * 1e3,
			gib_s(d),
			d.as_secs_f64() / whole.as_secs_f64(),
			proofs.iter().sum::<usize>() / proofs.len().max(1),
			proofs.iter().max().unwrap_or(&0)
		);
	}
}

/// The second level on one model (`light_resnet50` or a real model's file): for every node
/// heavier than one sub-step (its work, or its inputs' bytes), its cut within the default limits (tiles, segments, second-level
/// rounds, largest read) and the time of its heaviest sub-step; the nodes without sub-steps.
fn substeps(name: &str, runs: usize) {
	use edgeproof_canon::{
		node_work,
		ops::Meta,
		substep::{geometry_within, reads, run_substep, SubStepLimits},
	};
	let (program, inputs) = match name {
		"light_resnet50" => {
			let (_, compiled, inputs) = load(name);
			(compiled.program, inputs)
		},
		file => common::real::program_and_inputs(real_model(file), 7),
	};
	let trace = execute(&program, &inputs).expect("runs");
	let limits = SubStepLimits::DEFAULT;
	let m = program.inputs.len();
	let log2 = |v: u64| 64 - v.saturating_sub(1).leading_zeros();
	println!(
		"{:>4} {:<40} {:>11} {:>6} {:>4} {:>7} {:>9} {:>9} {:>8} {:>9}",
		"node",
		"operator",
		"work",
		"tiles",
		"segs",
		"rounds",
		"read KiB",
		"step ms",
		"cut ms",
		"cut cost"
	);
	let (mut heavy, mut cut, mut most_rounds, mut most_read, mut slowest) = (0, 0, 0, 0u64, 0f64);
	let mut slowest_cut = 0f64;
	let mut dearest_cut = 0u64;
	for (j, node) in program.nodes.iter().enumerate() {
		let ins = trace.node_inputs(&program, j).expect("a node of the program");
		let metas: Vec<Meta> = ins.iter().map(|t| Meta::of(t)).collect();
		let work = node_work(&node.op, &metas, &trace.values[m + j].shape).expect("shapes");
		let bytes: u64 = ins.iter().map(|t| t.data.len() as u64).sum();
		if work <= limits.max_work && bytes <= limits.max_read_bytes {
			continue;
		}
		heavy += 1;
		let started = Instant::now();
		let (g, cost) = match geometry_within(&node.op, &metas, &limits, u64::MAX) {
			Ok(g) => g,
			Err(e) => {
				println!("{j:>4} {:<40} {work:>11}  no sub-steps: {e}", node.op.describe());
				continue;
			},
		};
		let cutting = started.elapsed().as_secs_f64() * 1e3;
		slowest_cut = slowest_cut.max(cutting);
		dearest_cut = dearest_cut.max(cost);
		cut += 1;
		// The heaviest sub-step: the last segment (the epilogue) of the first tile.
		let last = g.segments - 1;
		let read: u64 = reads(&node.op, &metas, &g, 0, last)
			.expect("reads")
			.iter()
			.zip(&metas)
			.map(|(r, m)| r.iter().map(|r| r.len() as u64).sum::<u64>() * m.dtype.size() as u64)
			.sum();
		let state = (last > 0).then(|| vec![0u8; g.tile(0).expect("a tile").len() * 4]);
		let step = time_n(runs, || {
			run_substep(&node.op, &ins, &g, 0, last, state.as_deref()).expect("runs");
		});
		let rounds = log2(g.tiles()) + log2(g.segments as u64);
		(most_rounds, most_read) = (most_rounds.max(rounds), most_read.max(read));
		slowest = slowest.max(step.as_secs_f64() * 1e3);
		println!(
			"{j:>4} {:<40} {work:>11} {:>6} {:>4} {rounds:>7} {:>9.1} {:>9.2} {cutting:>8.2} {cost:>9}",
			node.op.describe(),
			g.tiles(),
			g.segments,
			read as f64 / 1024.0,
			step.as_secs_f64() * 1e3
		);
	}
	println!(
		"{name}: {heavy} nodes over {} work or {} bytes of inputs, {cut} cut; at most {most_rounds} second-level \
		 rounds, {:.1} KiB read, {slowest:.2} ms a sub-step (native, median of {runs}), \
		 {slowest_cut:.2} ms to cut a node (cost {dearest_cut})",
		limits.max_work,
		limits.max_read_bytes,
		most_read as f64 / 1024.0
	);
}

fn main() {
	let mut args = std::env::args().skip(1);
	match args.next().as_deref() {
		Some("trace") => trace_resnet50(),
		Some("real") => {
			let runs = args.next().and_then(|r| r.parse().ok()).unwrap_or(5);
			bench_real(runs, args.next().as_deref())
		},
		Some("real-trace") => real_trace(&args.next().expect("a model file name"), false),
		Some("real-stream") => real_trace(&args.next().expect("a model file name"), true),
		Some("real-profile") => real_profile(
			&args.next().expect("a model file name"),
			args.next().and_then(|r| r.parse().ok()).unwrap_or(5),
		),
		Some("real-ort") => real_ort(&args.next().expect("a model file name")),
		Some("substeps") => substeps(
			&args.next().expect("light_resnet50 or a model file name"),
			args.next().and_then(|r| r.parse().ok()).unwrap_or(5),
		),
		Some("chunks") => chunk_sizes(
			&args.next().expect("a model file name"),
			args.next().and_then(|r| r.parse().ok()).unwrap_or(5),
		),
		_ => {
			bench("mlp", 2001);
			bench("cnn", 201);
			bench("light_resnet50", 5);
			trace_resnet50();
		},
	}
}
