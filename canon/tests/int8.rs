//! The int8 kernels agree with ONNX Runtime 1.31.1 bit for bit: one-node models of
//! QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, MatMulInteger, ConvInteger,
//! QLinearMatMul and QLinearConv on seeded data (U8 and I8, per tensor and per channel, with
//! padding, strides and groups), run by canon and by ort (all optimisations, one thread), must
//! give identical tensors. Together with the real-model tests this is what lets a quantized
//! model be registered with `Tolerance::Exact` where its graph is integer end to end.

mod common;

use edgeproof_canon::{
	compiler::{
		compile,
		onnx::{
			attribute_type, dimension, type_proto, AttributeProto, Dimension, GraphProto,
			ModelProto, NodeProto, OperatorSetIdProto, TensorProto, TensorShapeProto,
			TensorTypeProto, TypeProto, ValueInfoProto,
		},
		pin::dtype_to_onnx,
		CompileOptions,
	},
	execute, DType, Tensor,
};
use prost::Message;

fn int8(dtype: DType, shape: &[u32], seed: u64) -> Tensor {
	let n = shape.iter().product::<u32>() as usize;
	let bytes = common::seeded_u64(seed, n).into_iter().map(|v| (v >> 56) as u8).collect();
	Tensor::new(dtype, shape.to_vec(), bytes).unwrap()
}

fn value_info(name: &str, t: &Tensor) -> ValueInfoProto {
	let dims = t
		.shape
		.iter()
		.map(|&d| Dimension { value: Some(dimension::Value::DimValue(d as i64)) })
		.collect();
	ValueInfoProto {
		name: name.into(),
		r#type: Some(TypeProto {
			value: Some(type_proto::Value::TensorType(TensorTypeProto {
				elem_type: dtype_to_onnx(t.dtype),
				shape: Some(TensorShapeProto { dim: dims }),
			})),
		}),
	}
}

fn initializer(name: &str, t: &Tensor) -> TensorProto {
	TensorProto {
		name: name.into(),
		dims: t.shape.iter().map(|&d| d as i64).collect(),
		data_type: dtype_to_onnx(t.dtype),
		raw_data: t.data.clone(),
		..Default::default()
	}
}

fn ints(name: &str, v: &[i64]) -> AttributeProto {
	AttributeProto {
		name: name.into(),
		ints: v.to_vec(),
		r#type: attribute_type::INTS,
		..Default::default()
	}
}

fn int(name: &str, v: i64) -> AttributeProto {
	AttributeProto { name: name.into(), i: v, r#type: attribute_type::INT, ..Default::default() }
}

/// A one-node model: `inputs` are graph inputs (fed at run time), `consts` initializers.
fn one_node(
	op: &str,
	inputs: &[(&str, &Tensor)],
	consts: &[(&str, &Tensor)],
	order: &[&str],
	outputs: usize,
	attrs: Vec<AttributeProto>,
) -> Vec<u8> {
	let out_names: Vec<String> = (0..outputs).map(|i| format!("y{i}")).collect();
	let node = NodeProto {
		input: order.iter().map(|s| s.to_string()).collect(),
		output: out_names.clone(),
		name: "n".into(),
		op_type: op.into(),
		attribute: attrs,
		domain: String::new(),
	};
	let graph = GraphProto {
		node: vec![node],
		name: "g".into(),
		initializer: consts.iter().map(|(n, t)| initializer(n, t)).collect(),
		input: inputs.iter().map(|(n, t)| value_info(n, t)).collect(),
		output: out_names
			.iter()
			.map(|n| ValueInfoProto { name: n.clone(), r#type: None })
			.collect(),
		..Default::default()
	};
	ModelProto {
		ir_version: 8,
		opset_import: vec![OperatorSetIdProto { domain: String::new(), version: 13 }],
		producer_name: "edgeproof-canon tests".into(),
		graph: Some(graph),
	}
	.encode_to_vec()
}

/// Canon's and ort's outputs of `model` on `inputs` must be identical.
fn same_as_ort(what: &str, model: &[u8], inputs: &[(&str, &Tensor)]) {
	let compiled = compile(model, &CompileOptions::default())
		.unwrap_or_else(|e| panic!("{what}: canon refuses it: {e}"));
	let feed: Vec<Tensor> = inputs.iter().map(|(_, t)| (*t).clone()).collect();
	let ours = execute(&compiled.program, &feed).unwrap().outputs(&compiled.program).unwrap();
	let named: Vec<_> = inputs.iter().map(|(n, t)| (n.to_string(), *t)).collect();
	let theirs = common::reference::run(&mut common::reference::session(model, true), &named);
	assert_eq!(ours, theirs, "{what}: canon and ONNX Runtime differ");
}

fn scalar(v: f32) -> Tensor {
	Tensor::from_f32(vec![], &[v])
}

fn zero_point(dtype: DType, v: u8) -> Tensor {
	Tensor::new(dtype, vec![], vec![v]).unwrap()
}

#[test]
fn quantize_and_dequantize_are_bit_identical_to_onnxruntime() {
	// Values spread over the range, plus exact halves (ties round to even) and saturation.
	let mut x: Vec<f32> = common::seeded_f32(3, 256).iter().map(|v| v * 40.0).collect();
	x[..6].copy_from_slice(&[0.5, 1.5, 2.5, -0.5, -1.5, 1e9]);
	let x = Tensor::from_f32(vec![4, 64], &x);
	for (dtype, zp) in [(DType::U8, 128u8), (DType::I8, 3u8)] {
		let (s, z) = (scalar(0.25), zero_point(dtype, zp));
		let one = scalar(1.0);
		let m = one_node(
			"QuantizeLinear",
			&[("x", &x)],
			&[("s", &s), ("z", &z)],
			&["x", "s", "z"],
			1,
			vec![],
		);
		same_as_ort(&format!("QuantizeLinear {dtype:?}"), &m, &[("x", &x)]);
		// Scale 1: the halves in `x` are ties, which round to even.
		let m = one_node(
			"QuantizeLinear",
			&[("x", &x)],
			&[("s", &one), ("z", &z)],
			&["x", "s", "z"],
			1,
			vec![],
		);
		same_as_ort(&format!("QuantizeLinear {dtype:?}, ties"), &m, &[("x", &x)]);
		let q = int8(dtype, &[4, 64], 7);
		let m = one_node(
			"DequantizeLinear",
			&[("q", &q)],
			&[("s", &s), ("z", &z)],
			&["q", "s", "z"],
			1,
			vec![],
		);
		same_as_ort(&format!("DequantizeLinear {dtype:?}"), &m, &[("q", &q)]);
	}
	// Per axis.
	let s = Tensor::from_f32(vec![4], &[0.1, 0.37, 2.0, 0.013]);
	let z = Tensor::new(DType::U8, vec![4], vec![0, 10, 128, 255]).unwrap();
	let m = one_node(
		"QuantizeLinear",
		&[("x", &x)],
		&[("s", &s), ("z", &z)],
		&["x", "s", "z"],
		1,
		vec![int("axis", 0)],
	);
	same_as_ort("QuantizeLinear per axis", &m, &[("x", &x)]);
	let m = one_node("DynamicQuantizeLinear", &[("x", &x)], &[], &["x"], 3, vec![]);
	same_as_ort("DynamicQuantizeLinear", &m, &[("x", &x)]);
}

/// `a` for a U8 × I8 product that ONNX Runtime computes exactly on every x86 CPU: without
/// VNNI (this machine's AMD EPYC has AVX2 only) its U8S8 kernel adds pairs of u8 · i8 products
/// in saturating 16-bit lanes (`vpmaddubsw`), so a pair over 32767 in magnitude is clipped — not
/// the ONNX result. With every u8 at most 127 no pair can reach that. Canon computes the ONNX
/// definition on the whole range (`integer_matmul_is_the_exact_sum_on_the_whole_range`).
fn u8_ort_exact(shape: &[u32], seed: u64) -> Tensor {
	let t = int8(DType::U8, shape, seed);
	Tensor::new(DType::U8, t.shape, t.data.iter().map(|v| v >> 1).collect()).unwrap()
}

/// The MatMulInteger model of `a [2, 7, 33] × b [33, 9]` with zero points `az`, `bz`.
fn matmul_integer(a: &Tensor, b: &Tensor, az: &Tensor, bz: &Tensor) -> Vec<u8> {
	one_node(
		"MatMulInteger",
		&[("a", a)],
		&[("b", b), ("az", az), ("bz", bz)],
		&["a", "b", "az", "bz"],
		1,
		vec![],
	)
}

#[test]
fn integer_matmul_is_the_exact_sum_on_the_whole_range() {
	let (a, b) = (int8(DType::U8, &[2, 7, 33], 11), int8(DType::I8, &[33, 9], 12));
	let (az, bz) = (zero_point(DType::U8, 131), zero_point(DType::I8, 5));
	let compiled = compile(&matmul_integer(&a, &b, &az, &bz), &CompileOptions::default()).unwrap();
	let ours =
		execute(&compiled.program, &[a.clone()]).unwrap().outputs(&compiled.program).unwrap();
	let mut exact = Vec::new();
	for row in a.data.chunks(33) {
		for j in 0..9 {
			let sum: i64 = (0..33)
				.map(|k| (i64::from(row[k]) - 131) * (i64::from(b.data[k * 9 + j] as i8) - 5))
				.sum();
			exact.extend_from_slice(&(sum as i32).to_le_bytes());
		}
	}
	assert_eq!(ours, vec![Tensor::new(DType::I32, vec![2, 7, 9], exact).unwrap()]);
	// Pairs of products beyond 16 bits occur: a kernel that saturates them would differ.
	let pair = |i: usize, k: usize, j: usize| {
		(0..2)
			.map(|d| i64::from(a.data[i * 33 + k + d]) * i64::from(b.data[(k + d) * 9 + j] as i8))
			.sum::<i64>()
	};
	assert!((0..14).any(|i| (0..32).any(|k| (0..9).any(|j| pair(i, k, j).abs() > 32767))));
}

#[test]
fn integer_matmuls_are_bit_identical_to_onnxruntime() {
	for (da, db) in [(DType::U8, DType::U8), (DType::U8, DType::I8)] {
		let a =
			if db == DType::I8 { u8_ort_exact(&[2, 7, 33], 11) } else { int8(da, &[2, 7, 33], 11) };
		let b = int8(db, &[33, 9], 12);
		let (az, bz) = (zero_point(da, 131), zero_point(db, 5));
		let m = matmul_integer(&a, &b, &az, &bz);
		same_as_ort(&format!("MatMulInteger {da:?}x{db:?}"), &m, &[("a", &a)]);
		let (sa, sb, sy) = (scalar(0.02), scalar(0.0071), scalar(0.9));
		let yz = zero_point(DType::U8, 100);
		let m = one_node(
			"QLinearMatMul",
			&[("a", &a)],
			&[
				("sa", &sa),
				("az", &az),
				("b", &b),
				("sb", &sb),
				("bz", &bz),
				("sy", &sy),
				("yz", &yz),
			],
			&["a", "sa", "az", "b", "sb", "bz", "sy", "yz"],
			1,
			vec![],
		);
		same_as_ort(&format!("QLinearMatMul {da:?}x{db:?}"), &m, &[("a", &a)]);
	}
}

#[test]
fn integer_convolutions_are_bit_identical_to_onnxruntime() {
	let x = int8(DType::U8, &[1, 8, 13, 11], 21);
	let xz = zero_point(DType::U8, 117);
	for (group, pads, strides) in
		[(1, [1i64, 1, 1, 1], [1i64, 1]), (2, [0, 1, 2, 0], [2, 1]), (8, [1, 1, 1, 1], [2, 2])]
	{
		let w = int8(DType::U8, &[8, 8 / group as u32, 3, 3], 22 + group as u64);
		let wz = zero_point(DType::U8, 9);
		let attrs = || vec![int("group", group), ints("pads", &pads), ints("strides", &strides)];
		let m = one_node(
			"ConvInteger",
			&[("x", &x)],
			&[("w", &w), ("xz", &xz), ("wz", &wz)],
			&["x", "w", "xz", "wz"],
			1,
			attrs(),
		);
		same_as_ort(&format!("ConvInteger group {group}"), &m, &[("x", &x)]);
		// QLinearConv with per-channel weight scales and zero points, and a bias.
		let ws: Vec<f32> = (0..8).map(|i| 0.003 + 0.001 * i as f32).collect();
		let ws = Tensor::from_f32(vec![8], &ws);
		let wzc = Tensor::new(DType::U8, vec![8], (0..8).map(|i| 120 + i).collect()).unwrap();
		let bias = Tensor::from_i32(vec![8], &[-900, 0, 17, 4000, -3, 250, 77, -12345]);
		let (xs, ys, yz) = (scalar(0.05), scalar(0.11), zero_point(DType::U8, 64));
		let m = one_node(
			"QLinearConv",
			&[("x", &x)],
			&[
				("xs", &xs),
				("xz", &xz),
				("w", &w),
				("ws", &ws),
				("wz", &wzc),
				("ys", &ys),
				("yz", &yz),
				("b", &bias),
			],
			&["x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"],
			1,
			attrs(),
		);
		same_as_ort(&format!("QLinearConv group {group}"), &m, &[("x", &x)]);
	}
}
