//! The `light_*` whole models of the onnx wheel (onnx/backend/test/data/light) against ONNX
//! Runtime 1.31.1 (single thread, no graph optimisation) on a seeded input.
//!
//! The light models carry their architecture but not their trained weights: every weight is a
//! `ConstantOfShape` filled with a constant (0.02, 1.0...), which the compiler folds into
//! constants. They still exercise every operator and shape path of the real networks.

mod common;

use std::time::Instant;

use edgeproof_canon::{
	compiler::{compile, CompileOptions},
	execute, within_tolerance, Tolerance,
};

/// Protobuf varint.
fn varint(mut v: u64, out: &mut Vec<u8>) {
	while v >= 0x80 {
		out.push((v as u8) | 0x80);
		v >>= 7;
	}
	out.push(v as u8);
}

fn read_varint(b: &[u8], pos: &mut usize) -> u64 {
	let (mut v, mut shift) = (0u64, 0);
	loop {
		let byte = b[*pos];
		*pos += 1;
		v |= ((byte & 0x7f) as u64) << shift;
		if byte < 0x80 {
			return v;
		}
		shift += 7;
	}
}

/// Adds `name` as an extra graph output (GraphProto field 12, a ValueInfoProto with only a name)
/// by rewriting ModelProto field 7 (the graph). Lets ORT report the logits before the final
/// Softmax, which with the light models' constant weights is far more telling than the
/// (uniform) probabilities.
fn with_extra_output(model: &[u8], name: &str) -> Vec<u8> {
	let mut out = Vec::with_capacity(model.len() + 64);
	let mut pos = 0;
	while pos < model.len() {
		let start = pos;
		let key = read_varint(model, &mut pos);
		let (field, wire) = (key >> 3, key & 7);
		let end = match wire {
			0 => {
				read_varint(model, &mut pos);
				pos
			},
			1 => pos + 8,
			5 => pos + 4,
			2 => {
				let len = read_varint(model, &mut pos) as usize;
				pos + len
			},
			w => panic!("unexpected wire type {w}"),
		};
		if field == 7 && wire == 2 {
			let mut graph = model[pos..end].to_vec();
			let mut vi = vec![0x0a];
			varint(name.len() as u64, &mut vi);
			vi.extend_from_slice(name.as_bytes());
			graph.push((12 << 3) | 2);
			varint(vi.len() as u64, &mut graph);
			graph.extend_from_slice(&vi);
			out.push((7 << 3) | 2);
			varint(graph.len() as u64, &mut out);
			out.extend_from_slice(&graph);
		} else {
			out.extend_from_slice(&model[start..end]);
		}
		pos = end;
	}
	out
}

fn check(name: &str) {
	use prost::Message;
	let path = common::onnx_testdata().join("light").join(format!("light_{name}.onnx"));
	let original = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
	let decoded = edgeproof_canon::compiler::onnx::ModelProto::decode(original.as_slice()).unwrap();
	let last = decoded.graph.as_ref().unwrap().node.last().unwrap();
	let bytes = if last.op_type == "Softmax" {
		with_extra_output(&original, &last.input[0])
	} else {
		original.clone()
	};
	let t0 = Instant::now();
	let compiled = compile(&bytes, &CompileOptions::default()).unwrap();
	let compile_time = t0.elapsed();
	let program = &compiled.program;
	let inputs: Vec<_> = program
		.inputs
		.iter()
		.enumerate()
		.map(|(i, s)| common::seeded_tensor(1000 + i as u64, &s.shape))
		.collect();
	let t1 = Instant::now();
	let trace = execute(program, &inputs).unwrap();
	let canon_time = t1.elapsed();
	let outputs = trace.outputs(program).unwrap();
	let mut session = common::reference::session(&bytes, false);
	let named: Vec<_> = compiled.input_names.iter().cloned().zip(inputs.iter()).collect();
	let t2 = Instant::now();
	let reference = common::reference::run(&mut session, &named);
	let ort_time = t2.elapsed();
	let logits_at = outputs.len() - 1;
	let diffs = common::max_diffs(&outputs[logits_at], &reference[logits_at]);
	let logits = outputs[logits_at].f32_values().unwrap();
	let (lo, hi) = logits.iter().fold((f32::MAX, f32::MIN), |(a, b), &x| (a.min(x), b.max(x)));
	println!(
		"light_{name}: {} nodes, {} constants; compile {compile_time:.2?}, canon {canon_time:.2?}, \
		 ort {ort_time:.2?}; logits in [{lo:.4e}, {hi:.4e}], max |diff| {:.3e}, max rel {:.3e}",
		program.nodes.len(),
		program.constants.len(),
		diffs.0,
		diffs.1
	);
	let tol = Tolerance::Relative { abs: 1e-5f32.to_bits(), rel: 1e-4f32.to_bits() };
	assert!(within_tolerance(&outputs, &reference, tol), "light_{name}: {diffs:?}");
}

#[test]
fn light_bvlc_alexnet_matches_onnxruntime() {
	check("bvlc_alexnet");
}

#[test]
fn light_densenet121_matches_onnxruntime() {
	check("densenet121");
}

#[test]
fn light_inception_v1_matches_onnxruntime() {
	check("inception_v1");
}

#[test]
fn light_inception_v2_matches_onnxruntime() {
	check("inception_v2");
}

#[test]
fn light_resnet50_matches_onnxruntime() {
	check("resnet50");
}

#[test]
fn light_shufflenet_matches_onnxruntime() {
	check("shufflenet");
}

#[test]
fn light_squeezenet_matches_onnxruntime() {
	check("squeezenet");
}

#[test]
fn light_vgg19_matches_onnxruntime() {
	check("vgg19");
}

#[test]
fn light_zfnet512_matches_onnxruntime() {
	check("zfnet512");
}
