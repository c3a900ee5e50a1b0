//! The committed fixtures (canon/tests/data, made by scripts/fixtures/make_fixtures.py):
//! compile, run, compare with the stored ONNX Runtime output, and play every one-step.

mod common;

use edgeproof_canon::{
	chunk::chunk_bytes,
	commit::{one_step_witness, program_tree, verify_one_step, OneStepContext},
	commit_trace,
	compiler::{compile, CompileOptions, Compiled},
	execute, execute_with, leaf_hash, node_work,
	ops::Meta,
	program_root, trace_values, within_tolerance, CanonError, ConstChunkProof, Cost, Limits,
	ListChunkProof, Ref, Tensor, TensorChunks, Tolerance,
};

fn load(name: &str) -> (Compiled, Vec<Tensor>, Vec<Tensor>) {
	let dir = common::fixtures();
	let bytes = std::fs::read(dir.join(format!("{name}.onnx"))).unwrap();
	let compiled = compile(&bytes, &CompileOptions::default()).unwrap();
	let sidecar = std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap();
	// The sidecar's shapes are those of the program (checked by `execute`).
	let read = |kind: &str, specs: Vec<Vec<u32>>| -> Vec<Tensor> {
		specs
			.into_iter()
			.enumerate()
			.map(|(i, shape)| {
				common::read_f32_bin(&dir.join(format!("{name}.{kind}_{i}.bin")), shape)
			})
			.collect()
	};
	assert!(sidecar.contains("\"shape\""));
	let inputs = read("input", compiled.program.inputs.iter().map(|s| s.shape.clone()).collect());
	let trace = execute(&compiled.program, &inputs).unwrap();
	let out_shapes =
		trace.outputs(&compiled.program).unwrap().iter().map(|t| t.shape.clone()).collect();
	let expected = read("output", out_shapes);
	(compiled, inputs, expected)
}

fn tol() -> Tolerance {
	Tolerance::Relative { abs: 1e-5f32.to_bits(), rel: 1e-4f32.to_bits() }
}

fn check_model(name: &str, nodes: usize) {
	let (compiled, inputs, expected) = load(name);
	let program = &compiled.program;
	assert_eq!(
		program.nodes.len(),
		nodes,
		"{name}: {:?}",
		program.nodes.iter().map(|n| n.op.name()).collect::<Vec<_>>()
	);
	let trace = execute(program, &inputs).unwrap();
	let outputs = trace.outputs(program).unwrap();
	println!("{name}: max diff vs onnxruntime {:?}", common::max_diffs(&outputs[0], &expected[0]));
	assert!(within_tolerance(&outputs, &expected, tol()));
	// Deterministic: a second run gives the same root.
	assert_eq!(execute(program, &inputs).unwrap().root(), trace.root());
	// Every node leaf can be re-executed alone from its witness.
	let ptree = program_tree(program).unwrap();
	assert_eq!(ptree.root(), program_root(program).unwrap());
	let ttree = trace.tree();
	let ctx = OneStepContext {
		program_root: ptree.root(),
		node_count: program.nodes.len() as u32,
		input_count: program.inputs.len() as u32,
		trace_root: ttree.root(),
		limits: Limits::NATIVE,
	};
	let m = program.inputs.len() as u64;
	for k in m..m + program.nodes.len() as u64 {
		let w = one_step_witness(program, &ptree, &trace, &ttree, k).unwrap();
		let h = verify_one_step(&ctx, k, &w).unwrap();
		assert_eq!(h, leaf_hash(&trace.values[k as usize]), "{name}: leaf {k}");
		// A witness for leaf k does not pass as leaf k+1.
		assert!(verify_one_step(&ctx, k + 1, &w).is_err());
	}
	// Input and padding leaves have no witness.
	assert!(one_step_witness(program, &ptree, &trace, &ttree, 0).is_err());
	assert!(one_step_witness(program, &ptree, &trace, &ttree, trace.values.len() as u64).is_err());
	check_chunk_proofs(name, program, &trace);
	let streamed = commit_trace(program, &inputs, &Limits::NATIVE, false).unwrap();
	assert_eq!(streamed.leaves, trace.leaf_hashes(), "{name}: streamed leaves");
	assert_eq!(streamed.tree().root(), trace.root());
	assert_eq!(streamed.outputs, outputs);
	// Any set of leaves, recomputed alone, in the order asked (a repeat included).
	let all: Vec<u32> = (0..trace.values.len() as u32).rev().chain([0]).collect();
	let values = trace_values(program, &inputs, &Limits::NATIVE, false, &all).unwrap();
	for (leaf, value) in all.iter().zip(&values) {
		assert_eq!(value, &trace.values[*leaf as usize], "{name}: leaf {leaf}");
	}
	assert!(trace_values(program, &inputs, &Limits::NATIVE, false, &[trace.values.len() as u32])
		.is_err());
}

/// The first and last chunk of every trace value prove against the trace root, and of every
/// constant through `program_root` at each node that reads it; a chunk never proves at another
/// leaf, and a node's non-constant input has no constant proof.
fn check_chunk_proofs(
	name: &str,
	program: &edgeproof_canon::Program,
	trace: &edgeproof_canon::Trace,
) {
	let (ttree, ptree) = (trace.tree(), program_tree(program).unwrap());
	let len = trace.values.len() as u64;
	for (k, t) in trace.values.iter().enumerate() {
		let chunks = TensorChunks::new(t);
		for c in [0, chunks.header.chunk_count().saturating_sub(1)] {
			let Some(bytes) = chunk_bytes(t, c) else { continue };
			let proof = ListChunkProof::new(&ttree, k as u64, &chunks, c).unwrap();
			assert!(proof.verify(&ttree.root(), len, bytes), "{name}: leaf {k} chunk {c}");
			let mut moved = proof.clone();
			moved.leaf.index = (k as u64 + 1) % len;
			assert!(!moved.verify(&ttree.root(), len, bytes), "{name}: leaf {k} moved");
		}
	}
	let node_count = program.nodes.len() as u32;
	let mut proved = 0;
	for (j, node) in program.nodes.iter().enumerate() {
		for (pos, r) in node.inputs.iter().enumerate() {
			let Ref::Const(c) = *r else {
				assert!(ConstChunkProof::new(program, &ptree, j as u32, pos as u32, 0).is_err());
				continue;
			};
			let constant = &program.constants[c as usize];
			let last = TensorChunks::new(constant).header.chunk_count().saturating_sub(1);
			let Some(bytes) = chunk_bytes(constant, last) else { continue };
			let proof = ConstChunkProof::new(program, &ptree, j as u32, pos as u32, last).unwrap();
			assert!(proof.verify(&ptree.root(), node_count, bytes), "{name}: node {j} const {pos}");
			assert!(!proof.verify(&ttree.root(), node_count, bytes), "{name}: another root");
			proved += 1;
		}
	}
	assert!(proved > 0, "{name} has constants");
}

#[test]
fn mlp_matches_onnxruntime_and_every_one_step_verifies() {
	check_model("mlp", 4);
}

#[test]
fn cnn_matches_onnxruntime_and_every_one_step_verifies() {
	check_model("cnn", 6);
}

#[test]
fn tampered_one_step_witnesses_are_rejected() {
	let (compiled, inputs, _) = load("cnn");
	let program = &compiled.program;
	let trace = execute(program, &inputs).unwrap();
	let (ptree, ttree) = (program_tree(program).unwrap(), trace.tree());
	let ctx = OneStepContext {
		program_root: ptree.root(),
		node_count: program.nodes.len() as u32,
		input_count: 1,
		trace_root: ttree.root(),
		limits: Limits::NATIVE,
	};
	let k = 1; // the first Conv: input x, constants W and B
	let w = one_step_witness(program, &ptree, &trace, &ttree, k).unwrap();
	let mut bad_input = w.clone();
	bad_input.inputs[0].tensor.data[0] ^= 1;
	assert!(verify_one_step(&ctx, k, &bad_input).is_err());
	let mut bad_const = w.clone();
	bad_const.constants[0].data[0] ^= 1;
	assert!(verify_one_step(&ctx, k, &bad_const).is_err());
	let mut bad_op = w.clone();
	bad_op.node.op = edgeproof_canon::Op::Relu;
	assert!(verify_one_step(&ctx, k, &bad_op).is_err());
	let mut extra = w.clone();
	extra.constants.push(extra.constants[0].clone());
	assert!(verify_one_step(&ctx, k, &extra).is_err());
	// A small limit bounds the work of a one-step.
	let tight = OneStepContext { limits: Limits { max_node_work: 1000, ..Limits::NATIVE }, ..ctx };
	assert!(matches!(
		verify_one_step(&tight, k, &w),
		Err(edgeproof_canon::CanonError::LimitExceeded { .. })
	));
	// So does the size of its tensors (x is 28 x 28 f32: 3136 bytes, plus W and B).
	let bytes = w.inputs[0].tensor.data.len() as u64
		+ w.constants.iter().map(|c| c.data.len() as u64).sum::<u64>();
	let exact =
		OneStepContext { limits: Limits { max_step_bytes: bytes, ..Limits::NATIVE }, ..ctx };
	assert!(verify_one_step(&exact, k, &w).is_ok());
	let small =
		OneStepContext { limits: Limits { max_step_bytes: bytes - 1, ..Limits::NATIVE }, ..ctx };
	assert!(matches!(
		verify_one_step(&small, k, &w),
		Err(edgeproof_canon::CanonError::LimitExceeded { what: "node input bytes", .. })
	));
	// The witness's own work, as the runtime weighs it.
	let work = edgeproof_canon::one_step_work(&w).unwrap();
	let just_enough =
		OneStepContext { limits: Limits { max_node_work: work, ..Limits::NATIVE }, ..ctx };
	assert!(verify_one_step(&just_enough, k, &w).is_ok());
	let short =
		OneStepContext { limits: Limits { max_node_work: work - 1, ..Limits::NATIVE }, ..ctx };
	assert!(verify_one_step(&short, k, &w).is_err());
}

#[test]
fn fixture_program_roots_are_stable() {
	// Changing an operator's encoding, the compiler's output or the leaf hash (through the
	// constants' hashes) changes these roots; that is a protocol change (registered models would
	// no longer activate). They changed last with convolution heads in fused nodes (each of the
	// CNN's Conv -> BatchNormalization -> Relu became one `Fused` node; the MLP has nothing to
	// fuse).
	for (name, expected) in [
		("mlp", "fc479b7ebc89a6ec4a2702ace4675b0e10ebdb66a7c2b7d82148766dd448e46e"),
		("cnn", "a2844de42be5f170cb13c4a4cca2b03b7c237a73f94a9cfb71f972d428afac64"),
	] {
		let (compiled, _, _) = load(name);
		assert!(compiled.program.outputs_at_tail());
		let root = program_root(&compiled.program).unwrap();
		let hex = root.iter().map(|b| format!("{b:02x}")).collect::<String>();
		println!("{name} program_root 0x{hex}");
		assert_eq!(hex, expected, "{name}");
	}
}

#[test]
fn the_static_cost_is_what_a_run_does_and_the_limits_bound_it() {
	for name in ["mlp", "cnn"] {
		let (compiled, inputs, _) = load(name);
		let program = &compiled.program;
		let cost = program.cost().unwrap();
		// Measured on the run: every node's work from the values it read and wrote.
		let trace = execute(program, &inputs).unwrap();
		let m = program.inputs.len();
		let value = |r: Ref| match r {
			Ref::Input(i) => &trace.values[i as usize],
			Ref::Node(j) => &trace.values[m + j as usize],
			Ref::Const(c) => &program.constants[c as usize],
		};
		let work: u64 = program
			.nodes
			.iter()
			.enumerate()
			.map(|(j, node)| {
				let metas: Vec<Meta> = node.inputs.iter().map(|&r| Meta::of(value(r))).collect();
				node_work(&node.op, &metas, &trace.values[m + j].shape).unwrap()
			})
			.sum();
		let trace_bytes: u64 = trace.values.iter().map(|t| t.data.len() as u64).sum();
		println!("{name}: {cost:?}");
		assert_eq!(cost, Cost { work, trace_bytes }, "{name}");

		let run = |limits: Limits| execute_with(program, &inputs, &limits);
		assert!(run(Limits { max_program_work: cost.work, ..Limits::NATIVE }).is_ok());
		assert!(matches!(
			run(Limits { max_program_work: cost.work - 1, ..Limits::NATIVE }),
			Err(CanonError::LimitExceeded { what: "program work", .. })
		));
		assert!(run(Limits { max_trace_bytes: cost.trace_bytes, ..Limits::NATIVE }).is_ok());
		assert!(matches!(
			run(Limits { max_trace_bytes: cost.trace_bytes - 1, ..Limits::NATIVE }),
			Err(CanonError::LimitExceeded { what: "trace bytes", .. })
		));
	}
}
