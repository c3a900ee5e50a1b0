//! Peak memory of a checker playing several disputes on one model (a report, not a test).
//!
//!     cargo build --release -p edgeproof-offchain --example disputes_memory
//!     $CARGO_TARGET_DIR/release/examples/disputes_memory [DISPUTES] [MODEL.onnx]
//!
//! What a validator's engine does for each dispute, on `DISPUTES` (default 4) different probe
//! inputs (`probe_input`) of one model (default light ResNet-50 from the ONNX backend test
//! data): the canonical output with its proofs (opening the dispute), the children of the trace
//! root (the first bisection), then the one-step witness of the model's last node that reads
//! the most values, then the whole second level inside the model's last node over the one-step
//! work limit (the cut, the output's data root, the descent of its chunk tree to one tile, the
//! state root and the descent of that tile's segment states when its reduction is segmented,
//! and the sub-step witness; each answer recomputes the program up to the node, as the worker
//! does every move).
//! The disputes are interleaved as they are on a chain: every dispute opened, then every
//! bisection, then every one-step, then each move of the second level in turn for every
//! dispute. Prints the process's peak resident memory (`VmHWM`) after each phase.

use std::{path::PathBuf, time::Instant};

use edgeproof_canon::{
	compiler::compile,
	merkle::tree_depth,
	substep::{player::Query, SubStepLimits},
	Position, Tensor,
};
use edgeproof_offchain::{compile_options, probe_input, Engine, EngineConfig};
use edgeproof_primitives::FileHash;
use sp_crypto_hashing::blake2_256;

fn peak_rss_mib() -> f64 {
	let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
	status
		.lines()
		.find_map(|l| l.strip_prefix("VmHWM:"))
		.and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
		.map_or(f64::NAN, |kib| kib / 1024.0)
}

fn main() {
	let mut args = std::env::args().skip(1);
	let disputes: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(4);
	let path = args.next().map(PathBuf::from).unwrap_or_else(|| {
		let data =
			std::env::var_os("EDGEPROOF_ONNX_TESTDATA").map(PathBuf::from).unwrap_or_else(|| {
				PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
					.join(".cache/edgeproof/onnx-testdata")
			});
		data.join("light/light_resnet50.onnx")
	});
	let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
	let program = compile(&bytes, &compile_options()).expect("the model compiles").program;
	let model = FileHash::from(blake2_256(&bytes));
	let uri = format!("file://{}", path.display());
	let m = program.inputs.len() as u64;
	// The last node with the most non-constant inputs: its one-step recomputes the most values.
	let (node, _) = program
		.nodes
		.iter()
		.enumerate()
		.map(|(j, n)| (j, n.inputs.iter().filter(|&&r| program.leaf_of(r).is_some()).count()))
		.fold((0, 0), |best, (j, k)| if k >= best.1 { (j, k) } else { best });
	// The last node over the runtime's one-step work limit (`DisputeLimits.max_node_work`,
	// 2^24): the second level is played in it, each move recomputing the program up to it (the
	// longest such prefix).
	let works = program.node_works().expect("node works");
	let (heavy, work) = works
		.iter()
		.copied()
		.enumerate()
		.rfind(|&(_, w)| w > 1 << 24)
		.expect("a node the second level settles");
	// The engine's own seeded probe inputs, one per dispute.
	let inputs: Vec<Vec<Tensor>> =
		(0..disputes).map(|d| probe_input(&model, d as u32, &program)).collect();
	drop(program);

	let store = tempfile::tempdir().expect("a temporary model store");
	let mut config = EngineConfig::new(None, store.path().join("models"));
	config.store.allow_local_sources = true;
	let engine = Engine::new(config).expect("engine");
	println!(
		"{}: {disputes} disputes, one-step at node {node}; peak RSS at the start {:.0} MiB",
		path.file_name().unwrap_or_default().to_string_lossy(),
		peak_rss_mib()
	);
	let t = Instant::now();
	for input in &inputs {
		engine.canonical_output(&model, &uri, input).expect("canonical output");
	}
	println!(
		"after opening {disputes} disputes: peak RSS {:.0} MiB ({:.2?})",
		peak_rss_mib(),
		t.elapsed()
	);
	let t = Instant::now();
	for input in &inputs {
		engine.trace_children(&model, &uri, input, Position::ROOT).expect("children");
	}
	println!("after bisecting each: peak RSS {:.0} MiB ({:.2?})", peak_rss_mib(), t.elapsed());
	let t = Instant::now();
	for input in &inputs {
		engine.one_step(&model, &uri, input, m + node as u64).expect("one-step");
	}
	println!("after a one-step of each: peak RSS {:.0} MiB ({:.2?})", peak_rss_mib(), t.elapsed());

	// The second level inside the heaviest node, every dispute one move at a time.
	let leaf = m + heavy as u64;
	let limits = SubStepLimits::DEFAULT;
	let t = Instant::now();
	let ask = |input: &Vec<Tensor>, query: &Query| {
		engine.second_level(&model, &uri, input, leaf, query).expect("a second-level answer")
	};
	let geometry = match ask(&inputs[0], &Query::Cut) {
		edgeproof_canon::substep::player::Answer::Cut(w) => w.geometry(&limits).expect("a cut"),
		other => panic!("not a cut: {other:?}"),
	};
	let mut queries = vec![Query::Cut, Query::DataRoot];
	let (tile, segment) = (geometry.tiles() - 1, geometry.segments - 1);
	for depth in 0..tree_depth(geometry.tiles()) {
		let index = tile >> (tree_depth(geometry.tiles()) - depth);
		queries.push(Query::ChunkChildren(Position { depth, index }));
	}
	if geometry.segments > 1 {
		queries.push(Query::StateRoot { geometry, tile });
		let segments = u64::from(geometry.segments);
		for depth in 0..tree_depth(segments) {
			let index = u64::from(segment) >> (tree_depth(segments) - depth);
			queries.push(Query::StateChildren {
				geometry,
				tile,
				position: Position { depth, index },
			});
		}
	}
	queries.push(Query::SubStep { geometry, limits, tile, segment });
	for query in &queries {
		for input in &inputs {
			ask(input, query);
		}
	}
	println!(
		"after the second level in node {heavy} ({work} work: {} tiles x {} segments, {} moves) \
		 of each: peak RSS {:.0} MiB ({:.2?})",
		geometry.tiles(),
		geometry.segments,
		queries.len(),
		peak_rss_mib(),
		t.elapsed()
	);
}
