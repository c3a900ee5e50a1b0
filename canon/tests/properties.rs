//! Property tests: Merkle proofs, the descent, tolerance, and the compiler/executor on hostile
//! input (truncated or garbage protobuf, cyclic graphs, shape mismatches, unknown operators,
//! oversize tensors): always an error value, never a panic.

mod common;

use edgeproof_canon::{
	compiler::{compile, CompileOptions},
	execute_node,
	merkle::{descend, first_difference, verify_proof, MerkleTree},
	within_tolerance, CoordinateTransform, DType, Hash, Limits, NearestMode, Node, Op, Ref,
	ResizeMode, RnnDirection, Tensor, Tolerance, ZERO_HASH,
};
use proptest::prelude::*;

fn hashes(n: usize) -> impl Strategy<Value = Vec<Hash>> {
	proptest::collection::vec(any::<[u8; 32]>(), 0..n)
}

proptest! {
	#![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

	#[test]
	fn every_leaf_proof_verifies_and_tampering_is_rejected(leaves in hashes(70), pick in any::<usize>(), bit in 0usize..256) {
		let tree = MerkleTree::new(leaves.clone());
		let n = leaves.len() as u64;
		for (i, leaf) in leaves.iter().enumerate() {
			let proof = tree.proof(i as u64).unwrap();
			prop_assert!(verify_proof(&tree.root(), n, leaf, &proof));
		}
		prop_assert!(tree.proof(n).is_none());
		if !leaves.is_empty() {
			let i = pick % leaves.len();
			let proof = tree.proof(i as u64).unwrap();
			let mut bad_leaf = leaves[i];
			bad_leaf[bit / 8] ^= 1 << (bit % 8);
			prop_assert!(!verify_proof(&tree.root(), n, &bad_leaf, &proof));
			if !proof.siblings.is_empty() {
				let mut bad = proof.clone();
				let s = pick % bad.siblings.len();
				bad.siblings[s][bit / 8] ^= 1 << (bit % 8);
				prop_assert!(!verify_proof(&tree.root(), n, &leaves[i], &bad));
				let mut short = proof.clone();
				short.siblings.pop();
				prop_assert!(!verify_proof(&tree.root(), n, &leaves[i], &short));
			}
			let mut moved = proof.clone();
			moved.index ^= 1;
			prop_assert!(moved.index >= n || leaves[moved.index as usize] == leaves[i] || !verify_proof(&tree.root(), n, &leaves[i], &moved));
		}
	}

	#[test]
	fn descent_finds_the_first_differing_leaf(leaves in hashes(70).prop_filter("non-empty", |l| !l.is_empty()), k in any::<usize>(), more in proptest::collection::vec(any::<(usize, [u8; 32])>(), 0..5)) {
		let k = k % leaves.len();
		let mut other = leaves.clone();
		other[k][0] ^= 0x80;
		// Arbitrary further changes after k.
		for (i, h) in more {
			let i = k + 1 + i % (leaves.len() - k).max(1);
			if i < other.len() {
				other[i] = h;
			}
		}
		let (a, b) = (MerkleTree::new(leaves.clone()), MerkleTree::new(other.clone()));
		prop_assert_eq!(first_difference(&leaves, &other), Some(k as u64));
		prop_assert_eq!(descend(&a, &b), Some(k as u64));
		prop_assert_eq!(descend(&a, &a), None);
	}

	#[test]
	fn children_hash_to_their_parent(leaves in hashes(40)) {
		let tree = MerkleTree::new(leaves);
		let mut pos = edgeproof_canon::Position::ROOT;
		while let Some((l, r)) = tree.children(pos) {
			prop_assert_eq!(edgeproof_canon::merkle::hash_pair(&l, &r), tree.node(pos).unwrap());
			pos = pos.right();
		}
	}

	#[test]
	fn tolerance_accepts_itself_and_rejects_far_values(v in proptest::collection::vec(-1e6f32..1e6, 1..50), i in any::<usize>()) {
		let c = Tensor::from_f32(vec![v.len() as u32], &v);
		let tol = Tolerance::Relative { abs: 1e-5f32.to_bits(), rel: 1e-4f32.to_bits() };
		let same = std::slice::from_ref(&c);
		prop_assert!(within_tolerance(same, same, tol));
		prop_assert!(within_tolerance(same, same, Tolerance::Exact));
		let mut far = v.clone();
		let i = i % far.len();
		far[i] = far[i] + 1e-3 * far[i].abs() + 1.0;
		let y = Tensor::from_f32(c.shape.clone(), &far);
		prop_assert!(!within_tolerance(std::slice::from_ref(&y), same, tol));
		prop_assert!(!within_tolerance(&[y], same, Tolerance::Exact));
	}

	#[test]
	fn garbage_protobuf_is_an_error_not_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
		let _ = compile(&bytes, &CompileOptions::default());
	}

	#[test]
	fn truncated_and_corrupted_models_are_errors_not_panics(cut in any::<usize>(), flips in proptest::collection::vec(any::<(usize, u8)>(), 0..8)) {
		for name in ["mlp", "cnn"] {
			let mut bytes = std::fs::read(common::fixtures().join(format!("{name}.onnx"))).unwrap();
			for &(i, x) in &flips {
				let n = bytes.len();
				bytes[i % n] ^= x;
			}
			let cut = cut % (bytes.len() + 1);
			let options = CompileOptions { limits: Limits { max_elements: 1 << 16, ..Limits::NATIVE }, ..Default::default() };
			if let Ok(c) = compile(&bytes[..cut], &options) {
				// Whatever compiled must run (or fail cleanly) on inputs of the declared shapes.
				let inputs: Vec<Tensor> = c.program.inputs.iter().map(|s| Tensor::zeros(s.dtype, s.shape.clone()).unwrap()).collect();
				let _ = edgeproof_canon::execute_with(&c.program, &inputs, &options.limits);
			}
		}
	}

	#[test]
	fn hostile_nodes_are_errors_not_panics(
		op_pick in 0usize..45,
		shapes in proptest::collection::vec(proptest::collection::vec(0u32..5, 0..5), 1..7),
		axis in -6i32..6,
		k in 0u32..4,
		raw in proptest::collection::vec(any::<u8>(), 0..64),
	) {
		let window = edgeproof_canon::Window {
			kernel: vec![k; (k % 3) as usize], strides: vec![k], dilations: vec![], pads: vec![k; 4],
			auto_pad: edgeproof_canon::AutoPad::NotSet, ceil_mode: k % 2 == 0,
		};
		let ops = [
			Op::Add, Op::Div, Op::Sum, Op::Relu, Op::Gemm { alpha: 0, beta: 0, trans_a: true, trans_b: false },
			Op::MatMul, Op::Conv { window: window.clone(), group: k }, Op::MaxPool { window: window.clone() },
			Op::AveragePool { window, count_include_pad: true }, Op::GlobalAveragePool,
			Op::BatchNormalization { epsilon: 0 }, Op::Softmax { axis, legacy: k % 2 == 0 },
			Op::Flatten { axis }, Op::Reshape { allowzero: false }, Op::Transpose { perm: vec![k, 0] },
			Op::Concat { axis }, Op::Squeeze { axes: vec![axis] }, Op::Unsqueeze { axes: vec![axis, axis] },
			Op::Gather { axis }, Op::Shape { start: axis, end: Some(-axis) },
			Op::ConstantOfShape { value: Tensor { dtype: DType::F32, shape: vec![1], data: raw.clone() } },
			Op::Slice { starts: vec![axis as i64], ends: vec![-1], axes: vec![axis], steps: vec![-(k as i64)] },
			Op::Pad { pads: vec![axis as i64; 4], value: 0 }, Op::Lrn { size: k, alpha: 0, beta: 0, bias: 0 },
			Op::HardSigmoid { alpha: u32::from_le_bytes([raw.first().copied().unwrap_or(0); 4]), beta: 0 },
			Op::HardSwish,
			Op::Resize {
				mode: if k % 2 == 0 { ResizeMode::Linear } else { ResizeMode::Nearest },
				coordinates: CoordinateTransform::AlignCorners, nearest: NearestMode::Ceil,
				scales: raw.chunks_exact(4).take(k as usize).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect(),
				sizes: vec![k; k as usize],
			},
			Op::Resize {
				mode: ResizeMode::Linear, coordinates: CoordinateTransform::HalfPixel,
				nearest: NearestMode::RoundPreferFloor,
				scales: vec![0.5f32.to_bits(); (axis.unsigned_abs() % 5) as usize],
				sizes: vec![k; (axis.unsigned_abs() % 5) as usize],
			},
			Op::ConvTranspose { window: edgeproof_canon::Window {
				kernel: vec![], strides: vec![k; 2], dilations: vec![k % 2 + 1; 2], pads: vec![k; 4],
				auto_pad: edgeproof_canon::AutoPad::NotSet, ceil_mode: false,
			}, group: k, output_padding: vec![k / 2; 2] },
			Op::Less, Op::Equal, Op::Xor, Op::Where,
			Op::Mod { fmod: k % 2 == 0 }, Op::GatherElements { axis }, Op::Trilu { upper: k % 2 == 1, k: axis as i64 },
			Op::ReduceL2 { axes: vec![axis], keepdims: k % 2 == 0 }, Op::ReduceMin { axes: vec![], keepdims: true },
			Op::LayerNormalization { axis, epsilon: 0, output: k as u8 }, Op::ArgMax { axis, keepdims: k == 1, select_last: k == 2 },
			Op::TopK { axis, k, largest: k % 2 == 0, indices: k == 1 }, Op::Gelu { tanh: k == 0 },
			Op::Lstm { hidden: k, direction: if k == 2 { RnnDirection::Bidirectional } else { RnnDirection::Reverse }, output: k as u8 },
			Op::Gru { hidden: k, direction: RnnDirection::Forward, output: k as u8, linear_before_reset: k % 2 == 0 },
			if k % 2 == 0 { Op::PadReflect { pads: vec![axis as i64; 4] } } else { Op::PadEdge { pads: vec![-(k as i64); 4] } },
		];
		let op = ops[op_pick].clone();
		let dtypes = [DType::F32, DType::I64, DType::I32, DType::Bool];
		let tensors: Vec<Tensor> = shapes.iter().enumerate().map(|(i, s)| {
			let dtype = dtypes[(i + k as usize) % dtypes.len()];
			let n: usize = s.iter().map(|&d| d as usize).product();
			let mut data: Vec<u8> = raw.iter().cycle().take(n * dtype.size()).copied().collect();
			if dtype == DType::Bool { data.iter_mut().for_each(|b| *b &= 1); }
			// Sometimes a malformed length.
			if k == 3 { data.push(0); }
			Tensor { dtype, shape: s.clone(), data }
		}).collect();
		let refs: Vec<&Tensor> = tensors.iter().collect();
		let node = Node { op, inputs: (0..refs.len() as u32).map(Ref::Input).collect() };
		let _ = execute_node(&node, &refs);
	}
}

fn node(
	op_type: &str,
	inputs: &[&str],
	outputs: &[&str],
) -> edgeproof_canon::compiler::onnx::NodeProto {
	edgeproof_canon::compiler::onnx::NodeProto {
		op_type: op_type.into(),
		input: inputs.iter().map(|s| s.to_string()).collect(),
		output: outputs.iter().map(|s| s.to_string()).collect(),
		..Default::default()
	}
}

fn model_with(
	nodes: Vec<edgeproof_canon::compiler::onnx::NodeProto>,
	input_shape: &[i64],
) -> Vec<u8> {
	use edgeproof_canon::compiler::onnx::*;
	use prost::Message;
	let vi = |name: &str, dims: &[i64]| ValueInfoProto {
		name: name.into(),
		r#type: Some(TypeProto {
			value: Some(type_proto::Value::TensorType(TensorTypeProto {
				elem_type: 1,
				shape: Some(TensorShapeProto {
					dim: dims
						.iter()
						.map(|&d| Dimension { value: Some(dimension::Value::DimValue(d)) })
						.collect(),
				}),
			})),
		}),
	};
	ModelProto {
		ir_version: 8,
		opset_import: vec![OperatorSetIdProto { domain: String::new(), version: 13 }],
		graph: Some(GraphProto {
			node: nodes,
			input: vec![vi("x", input_shape)],
			output: vec![vi("y", &[])],
			..Default::default()
		}),
		..Default::default()
	}
	.encode_to_vec()
}

#[test]
fn cyclic_graphs_are_rejected() {
	let bytes = model_with(
		vec![
			node("Add", &["x", "b"], &["a"]),
			node("Relu", &["a"], &["b"]),
			node("Relu", &["a"], &["y"]),
		],
		&[2],
	);
	let err = compile(&bytes, &CompileOptions::default()).unwrap_err();
	assert!(err.to_string().contains("cycle"), "{err}");
}

#[test]
fn unknown_operators_are_named_in_the_error() {
	let bytes = model_with(vec![node("FancyOp", &["x"], &["y"])], &[2]);
	let err = compile(&bytes, &CompileOptions::default()).unwrap_err();
	assert!(
		matches!(&err, edgeproof_canon::CanonError::Unsupported { op, .. } if op == "FancyOp"),
		"{err}"
	);
}

/// What ONNX forbids is `Malformed` (naming the node and its op); what ONNX allows and canon
/// does not implement is `Unsupported`.
#[test]
fn malformed_models_are_told_apart_from_unsupported_ones() {
	use edgeproof_canon::{compiler::onnx::AttributeProto, CanonError};
	let with = |mut n: edgeproof_canon::compiler::onnx::NodeProto, attr: AttributeProto| {
		n.attribute.push(attr);
		n
	};
	let ints = |name: &str, v: &[i64]| AttributeProto {
		name: name.into(),
		r#type: 7,
		ints: v.to_vec(),
		..Default::default()
	};
	let int = |name: &str, v: i64| AttributeProto {
		name: name.into(),
		r#type: 2,
		i: v,
		..Default::default()
	};
	let err = |nodes, shape: &[i64]| {
		compile(&model_with(nodes, shape), &CompileOptions::default()).unwrap_err()
	};
	let malformed = [
		// [2, 3] x [2, 3]: the inner dimensions differ.
		(err(vec![node("MatMul", &["x", "x"], &["y"])], &[2, 3]), "MatMul"),
		// Not a permutation.
		(
			err(vec![with(node("Transpose", &["x"], &["y"]), ints("perm", &[0, 0]))], &[2, 3]),
			"Transpose",
		),
		// Axis 5 of a rank-2 tensor.
		(err(vec![with(node("Softmax", &["x"], &["y"]), int("axis", 5))], &[2, 3]), "Softmax"),
		// A kernel larger than the padded input.
		(
			err(
				vec![with(node("MaxPool", &["x"], &["y"]), ints("kernel_shape", &[9, 9]))],
				&[1, 1, 4, 4],
			),
			"MaxPool",
		),
	];
	for (e, op) in malformed {
		assert!(matches!(&e, CanonError::Malformed { op: o, .. } if o == op), "{op}: {e}");
		assert!(e.to_string().starts_with("malformed model: node"), "{e}");
	}
	let unsupported = [
		(err(vec![node("FancyOp", &["x"], &["y"])], &[2]), "FancyOp"),
		// Float64 is a valid ONNX type, not one of canon's.
		(err(vec![with(node("Cast", &["x"], &["y"]), int("to", 11))], &[2]), "Cast"),
	];
	for (e, op) in unsupported {
		assert!(matches!(&e, CanonError::Unsupported { op: o, .. } if o == op), "{op}: {e}");
	}
}

#[test]
fn oversize_tensors_hit_the_limits() {
	let bytes = model_with(vec![node("Relu", &["x"], &["y"])], &[1 << 20, 1 << 10]);
	let err = compile(&bytes, &CompileOptions::default()).unwrap_err();
	assert!(matches!(err, edgeproof_canon::CanonError::LimitExceeded { .. }), "{err}");
	let huge =
		Tensor { dtype: DType::F32, shape: vec![u32::MAX, u32::MAX, u32::MAX], data: vec![] };
	let relu = Node { op: Op::Relu, inputs: vec![Ref::Input(0)] };
	assert!(execute_node(&relu, &[&huge]).is_err());
}

#[test]
fn nan_payloads_hash_alike() {
	let a = Tensor::from_f32(vec![2], &[f32::from_bits(0x7fc0_0001), 1.0]);
	let b = Tensor::from_f32(vec![2], &[f32::from_bits(0xffc0_0000), 1.0]);
	assert_ne!(a.data, b.data);
	assert_eq!(edgeproof_canon::leaf_hash(&a), edgeproof_canon::leaf_hash(&b));
	assert!(within_tolerance(std::slice::from_ref(&a), &[b], Tolerance::Exact));
	let one = Tensor::from_f32(vec![2], &[1.0, 1.0]);
	assert!(!within_tolerance(
		&[a],
		&[one],
		Tolerance::Relative { abs: f32::MAX.to_bits(), rel: 0 }
	));
}

#[test]
fn an_empty_tree_has_the_zero_root() {
	assert_eq!(MerkleTree::new(vec![]).root(), ZERO_HASH);
	let one = [7u8; 32];
	assert_eq!(MerkleTree::new(vec![one]).root(), one);
}

#[test]
fn slicing_an_empty_axis_backwards_is_empty_not_a_panic() {
	// Found by `hostile_nodes_are_errors_not_panics`: ONNX's clamp bounds cross when the axis is 0.
	let x = Tensor::zeros(DType::F32, vec![0, 3]).unwrap();
	let op = Op::Slice { starts: vec![-1], ends: vec![i64::MIN], axes: vec![0], steps: vec![-1] };
	let y = execute_node(&Node { op, inputs: vec![Ref::Input(0)] }, &[&x]).unwrap();
	assert_eq!(y.shape, vec![0, 3]);
}

proptest! {
	// Each case compiles a real model (tens of milliseconds), so fewer cases.
	#![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

	/// The real models of tests/real_models.rs with byte flips, a truncation, or other input
	/// shapes than they are registered with: an error value or a program, never a panic; what
	/// compiles runs (or fails cleanly) when it is cheap enough to run here.
	#[test]
	fn mutated_real_models_are_errors_not_panics(
		pick in 0usize..4,
		cut in any::<usize>(),
		truncate in any::<bool>(),
		flips in proptest::collection::vec(any::<(usize, u8)>(), 0..6),
		edit_shape in any::<bool>(),
		dims in proptest::collection::vec(0u32..80, 1..6),
	) {
		let (file, input, registered) = [
			("ppocr-mobile-v2-cls.onnx", "x", &[1u32, 3, 48, 192][..]),
			("ppocr-v4-rec.onnx", "x", &[1, 3, 48, 320][..]),
			("ppocr-v4-det.onnx", "x", &[1, 3, 64, 64][..]),
			("silero-vad-v6.onnx", "input", &[1, 512][..]),
		][pick];
		let dims = if edit_shape { dims } else { registered.to_vec() };
		let mut bytes = std::fs::read(common::real_models().join(file)).unwrap();
		for &(i, x) in &flips {
			let n = bytes.len();
			bytes[i % n] ^= x;
		}
		let end = if truncate { cut % (bytes.len() + 1) } else { bytes.len() };
		let options = CompileOptions {
			input_shapes: [(input.to_string(), dims.clone())].into(),
			symbolic_dim: Some(1),
			limits: Limits { max_elements: 1 << 22, ..Limits::NATIVE },
			..Default::default()
		};
		if let Ok(c) = compile(&bytes[..end], &options) {
			let cheap = c.program.cost().is_ok_and(|cost| cost.work < 50_000_000);
			if cheap {
				let inputs: Vec<Tensor> = c.program.inputs.iter().map(|s| Tensor::zeros(s.dtype, s.shape.clone()).unwrap()).collect();
				let _ = edgeproof_canon::execute_with(&c.program, &inputs, &options.limits);
			}
		}
	}
}
