//! Real on-device models, as their PyPI wheels ship them (scripts/setup.sh unpacks them into
//! `$EDGEPROOF_MODELS` with pinned hashes), compiled for a fixed input shape, run on a seeded
//! input and compared output by output with ONNX Runtime 1.31.1 at the engine's pinned
//! settings (one thread, all graph optimisations). docs/canonical-executor.md, "Real models",
//! lists them with their sources and what this test measures.

mod common;

use std::{collections::HashMap, time::Instant};

use edgeproof_canon::{
	compiler::{compile, CompileOptions},
	execute, within_tolerance, Limits, Program, Tolerance,
};

/// One real model: its file under `$EDGEPROOF_MODELS`, its input and the shape it is
/// registered with.
struct RealModel {
	file: &'static str,
	input: &'static str,
	shape: &'static [u32],
}

/// PP-OCRv4 text detector (rapidocr_onnxruntime 1.4.4): DBNet with a MobileNetV3-style
/// backbone, nearest-neighbour Resize in its FPN and ConvTranspose in its head.
const PPOCR_DET: RealModel =
	RealModel { file: "ppocr-v4-det.onnx", input: "x", shape: &[1, 3, 320, 320] };
/// PP-OCRv4 text recogniser (rapidocr_onnxruntime 1.4.4): PP-LCNet backbone and an SVTR
/// attention neck (MatMul, Softmax, LayerNorm as ReduceMean/Pow/Sqrt), with a shape subgraph.
const PPOCR_REC: RealModel =
	RealModel { file: "ppocr-v4-rec.onnx", input: "x", shape: &[1, 3, 48, 320] };
/// PP-OCR mobile v2.0 text-direction classifier (rapidocr_onnxruntime 1.4.4): MobileNetV3 with
/// HardSigmoid squeeze-excitation and a `Shape -> Cast -> Slice -> Concat -> Reshape` flatten.
const PPOCR_CLS: RealModel =
	RealModel { file: "ppocr-mobile-v2-cls.onnx", input: "x", shape: &[1, 3, 48, 192] };

/// The tolerance the docs' examples register float models with (`--tolerance 1e-5,1e-4`).
fn tolerance() -> Tolerance {
	Tolerance::Relative { abs: 1e-5f32.to_bits(), rel: 1e-4f32.to_bits() }
}

fn model_bytes(m: &RealModel) -> Vec<u8> {
	let path = common::real_models().join(m.file);
	std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn compile_real(m: &RealModel) -> (Program, Vec<String>) {
	let options = CompileOptions {
		input_shapes: HashMap::from([(m.input.to_string(), m.shape.to_vec())]),
		limits: Limits::NATIVE,
		..Default::default()
	};
	let compiled = compile(&model_bytes(m), &options)
		.unwrap_or_else(|e| panic!("{}: canon refuses it: {e}", m.file));
	(compiled.program, compiled.input_names)
}

fn check(m: &RealModel, seed: u64) {
	let t0 = Instant::now();
	let (program, names) = compile_real(m);
	let compile_time = t0.elapsed();
	let input = common::seeded_tensor(seed, m.shape);
	let t1 = Instant::now();
	let trace = execute(&program, std::slice::from_ref(&input)).expect("canon executes it");
	let canon_time = t1.elapsed();
	let outputs = trace.outputs(&program).unwrap();
	let mut session = common::reference::session(&model_bytes(m), true);
	let reference = common::reference::run(&mut session, &[(names[0].clone(), &input)]);
	assert_eq!(outputs.len(), reference.len(), "{}: output count", m.file);
	let cost = program.cost().unwrap();
	for (i, (ours, theirs)) in outputs.iter().zip(&reference).enumerate() {
		assert_eq!(ours.shape, theirs.shape, "{} output {i}: shape", m.file);
		let (abs, rel) = common::max_diffs(ours, theirs);
		println!(
			"{} output {i} {:?}: {} nodes, work {:.3e}; compile {compile_time:.2?}, canon \
			 {canon_time:.2?}; max |diff| {abs:.3e}, max rel {rel:.3e}",
			m.file,
			ours.shape,
			program.nodes.len(),
			cost.work as f64,
		);
	}
	assert!(
		within_tolerance(&outputs, &reference, tolerance()),
		"{}: canon and ONNX Runtime differ by more than the default tolerance",
		m.file
	);
}

#[test]
fn ppocr_mobile_v2_text_direction_classifier_matches_onnxruntime() {
	check(&PPOCR_CLS, 1);
}

#[test]
fn ppocr_v4_text_recogniser_matches_onnxruntime() {
	check(&PPOCR_REC, 2);
}

#[test]
fn ppocr_v4_text_detector_matches_onnxruntime() {
	check(&PPOCR_DET, 3);
}
