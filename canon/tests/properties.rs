//! Property tests: Merkle proofs, the descent, tolerance, and the compiler/executor on hostile
//! input (truncated or garbage protobuf, cyclic graphs, shape mismatches, unknown operators,
//! oversize tensors): always an error value, never a panic.

mod common;

use common::awkward_f32;
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
		op_pick in 0usize..48,
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
			Op::QLinearConv { window: edgeproof_canon::Window {
				kernel: vec![], strides: vec![k], dilations: vec![], pads: vec![],
				auto_pad: edgeproof_canon::AutoPad::NotSet, ceil_mode: false,
			}, group: k },
			Op::MatMulInteger, Op::QuantizeLinear { axis },
		];
		let op = ops[op_pick % ops.len()].clone();
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
		// The second level on the same node: a cut, reads and sub-steps (from zeros and from a
		// state of garbage) are answers or errors too.
		use edgeproof_canon::{ops::Meta, substep};
		let metas: Vec<Meta> = refs.iter().map(|t| Meta::of(t)).collect();
		let limits = substep::SubStepLimits { max_work: 64 << k, max_read_bytes: 4096 << k };
		if let Ok(g) = substep::geometry(&node.op, &metas, &limits) {
			for t in [0, g.tiles().saturating_sub(1), g.tiles()] {
				for s in [0, g.segments.saturating_sub(1), g.segments] {
					let _ = substep::reads(&node.op, &metas, &g, t, s);
					let state = (s > 0).then(|| raw.iter().cycle().take(4 * g.tile_elements() as usize).copied().collect::<Vec<u8>>());
					let _ = substep::run_substep(&node.op, &refs, &g, t, s, state.as_deref());
					let _ = substep::run_substep(&node.op, &refs, &g, t, s, Some(&raw));
				}
			}
		}
		let _ = substep::run_substep(&node.op, &refs, &substep::Geometry { output: DType::F32, elements: raw.len() as u64, terms: k as u64, segments: k }, 0, 0, None);
	}

	/// A sub-step witness decoded from garbage, or an honest one with garbage spliced in, is
	/// refused with an error, never a panic.
	#[test]
	fn garbage_substep_witnesses_are_errors_not_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600), at in any::<usize>()) {
		use codec::{Decode, Encode};
		use edgeproof_canon::{substep, OneStepContext, Limits};
		let ctx = OneStepContext { program_root: [1; 32], node_count: 3, input_count: 1, trace_root: [2; 32], limits: Limits::NATIVE };
		let g = substep::Geometry { output: DType::F32, elements: 5000, terms: 9, segments: 2 };
		if let Ok(w) = substep::SubStepWitness::decode(&mut &bytes[..]) {
			let _ = substep::verify_substep(&ctx, 1, &w, &g);
		}
		let honest = substep::SubStepWitness {
			node: edgeproof_canon::CommittedNode { op: Op::Relu, inputs: vec![edgeproof_canon::CommittedRef::Input(0)] },
			node_proof: edgeproof_canon::MerkleProof { index: 0, siblings: vec![[3; 32]; 2] },
			tile: 0,
			segment: 0,
			state: None,
			inputs: vec![],
		};
		let mut encoded = honest.encode();
		let cut = at % (encoded.len() + 1);
		encoded.splice(cut..cut, bytes.iter().copied());
		if let Ok(w) = substep::SubStepWitness::decode(&mut &encoded[..]) {
			let _ = substep::verify_substep(&ctx, 1, &w, &g);
		}
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

/// A convolution's geometry for the reference below.
#[derive(Clone, Debug)]
struct ConvCase {
	n: usize,
	group: usize,
	cg: usize,
	ocg: usize,
	hw: (usize, usize),
	kernel: (usize, usize),
	stride: (usize, usize),
	dilation: (usize, usize),
	pads: [usize; 4],
}

impl ConvCase {
	fn output(&self) -> Option<(usize, usize)> {
		let axis = |i: usize, k: usize, s: usize, d: usize, b: usize, e: usize| {
			let span = d * (k - 1) + 1;
			(i + b + e).checked_sub(span).map(|r| r / s + 1)
		};
		let oh = axis(
			self.hw.0,
			self.kernel.0,
			self.stride.0,
			self.dilation.0,
			self.pads[0],
			self.pads[2],
		)?;
		let ow = axis(
			self.hw.1,
			self.kernel.1,
			self.stride.1,
			self.dilation.1,
			self.pads[1],
			self.pads[3],
		)?;
		Some((oh, ow))
	}

	fn window(&self) -> edgeproof_canon::Window {
		let u = |v: &[usize]| v.iter().map(|&x| x as u32).collect::<Vec<u32>>();
		edgeproof_canon::Window {
			kernel: u(&[self.kernel.0, self.kernel.1]),
			strides: u(&[self.stride.0, self.stride.1]),
			dilations: u(&[self.dilation.0, self.dilation.1]),
			pads: u(&self.pads),
			auto_pad: edgeproof_canon::AutoPad::NotSet,
			ceil_mode: false,
		}
	}

	/// The documented order, directly: `acc = 0; for ic of the group, kh, kw ascending:
	/// acc = mac(acc, w, x)` (a padding tap is zero).
	fn reference<T: Copy + Default>(&self, x: &[T], w: &[T], mac: impl Fn(T, T, T) -> T) -> Vec<T> {
		let (oh, ow) = self.output().unwrap();
		let (c, oc) = (self.group * self.cg, self.group * self.ocg);
		let (ih, iw) = self.hw;
		let (kh, kw) = self.kernel;
		let mut out = vec![];
		for b in 0..self.n {
			for o in 0..oc {
				let grp = o / self.ocg;
				for r in 0..oh {
					for col in 0..ow {
						let mut acc = T::default();
						for icg in 0..self.cg {
							let ic = grp * self.cg + icg;
							for ki in 0..kh {
								for kj in 0..kw {
									let y = (r * self.stride.0 + ki * self.dilation.0) as isize
										- self.pads[0] as isize;
									let xc = (col * self.stride.1 + kj * self.dilation.1) as isize
										- self.pads[1] as isize;
									let inside = y >= 0
										&& (y as usize) < ih && xc >= 0
										&& (xc as usize) < iw;
									let xv = if inside {
										x[((b * c + ic) * ih + y as usize) * iw + xc as usize]
									} else {
										T::default()
									};
									acc =
										mac(acc, w[((o * self.cg + icg) * kh + ki) * kw + kj], xv);
								}
							}
						}
						out.push(acc);
					}
				}
			}
		}
		out
	}
}

fn conv_case() -> impl Strategy<Value = ConvCase> {
	(
		(1usize..3, 1usize..4, 1usize..5, 1usize..7),
		((1usize..10, 1usize..12), (1usize..4, 1usize..4), (1usize..3, 1usize..4)),
		((1usize..3, 1usize..3), proptest::array::uniform4(0usize..3)),
	)
		.prop_map(|((n, group, cg, ocg), (hw, kernel, stride), (dilation, pads))| ConvCase {
			n,
			group,
			cg,
			ocg,
			hw,
			kernel,
			stride,
			dilation,
			pads,
		})
		.prop_filter("an output of at least one position", |c| c.output().is_some())
}

/// A transposed convolution's geometry (weights `[c, mg, kh, kw]`; pads begin h, w, end h, w).
#[derive(Clone, Debug)]
struct ConvTransposeCase {
	n: usize,
	group: usize,
	cg: usize,
	mg: usize,
	hw: (usize, usize),
	kernel: (usize, usize),
	stride: [usize; 2],
	dilation: [usize; 2],
	pads: [usize; 4],
	output_padding: [usize; 2],
}

impl ConvTransposeCase {
	fn output(&self) -> Option<(usize, usize)> {
		let axis = |a: usize, i: usize, k: usize| {
			let full =
				self.stride[a] * (i - 1) + self.output_padding[a] + (k - 1) * self.dilation[a] + 1;
			full.checked_sub(self.pads[a] + self.pads[a + 2]).filter(|&o| o > 0)
		};
		Some((axis(0, self.hw.0, self.kernel.0)?, axis(1, self.hw.1, self.kernel.1)?))
	}
}

fn conv_transpose_case() -> impl Strategy<Value = ConvTransposeCase> {
	(
		(1usize..3, 1usize..4, 1usize..5, 1usize..5),
		((1usize..7, 1usize..9), (1usize..4, 1usize..4)),
		(proptest::array::uniform2(1usize..4), proptest::array::uniform2(1usize..3)),
		(proptest::array::uniform4(0usize..3), proptest::array::uniform2(0usize..3)),
	)
		.prop_map(|((n, group, cg, mg), (hw, kernel), (stride, dilation), (pads, extra))| {
			// output_padding must stay below max(stride, dilation) on each axis.
			let output_padding = [0, 1].map(|a| extra[a] % stride[a].max(dilation[a]));
			ConvTransposeCase {
				n,
				group,
				cg,
				mg,
				hw,
				kernel,
				stride,
				dilation,
				pads,
				output_padding,
			}
		})
		.prop_filter("an output of at least one position", |c| c.output().is_some())
}

proptest! {
	#![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

	/// The blocked, tiled Conv kernel gives, bit for bit, the documented order run directly
	/// (`acc` over ic, kh, kw ascending, then `+ bias`), on awkward values, groups, strides,
	/// dilations and padding. A NaN's payload is not compared: which operand's payload an x86
	/// add or multiply passes on depends on the operand order the compiler picks (commutative
	/// in LLVM), and the trace commits every NaN as `CANONICAL_NAN`.
	#[test]
	fn conv_is_its_documented_order_bit_for_bit(case in conv_case(), values in proptest::collection::vec(awkward_f32(), 1..64)) {
		let (c, oc) = (case.group * case.cg, case.group * case.ocg);
		let (ih, iw) = case.hw;
		let pick = |i: usize| values[i % values.len()];
		let x: Vec<f32> = (0..case.n * c * ih * iw).map(|i| pick(i * 7 + 1)).collect();
		let w: Vec<f32> = (0..oc * case.cg * case.kernel.0 * case.kernel.1).map(|i| pick(i * 3)).collect();
		let bias: Vec<f32> = (0..oc).map(|i| pick(i * 5 + 2)).collect();
		let (oh, ow) = case.output().unwrap();
		let acc = case.reference(&x, &w, |a, wv, xv| a + wv * xv);
		let bits = |v: f32| if v.is_nan() { edgeproof_canon::CANONICAL_NAN } else { v.to_bits() };
		let want: Vec<u32> = acc.iter().enumerate().map(|(i, &a)| bits(a + bias[(i / (oh * ow)) % oc])).collect();
		let u = |v: &[usize]| v.iter().map(|&d| d as u32).collect::<Vec<u32>>();
		let xt = Tensor::from_f32(u(&[case.n, c, ih, iw]), &x);
		let wt = Tensor::from_f32(u(&[oc, case.cg, case.kernel.0, case.kernel.1]), &w);
		let bt = Tensor::from_f32(u(&[oc]), &bias);
		let node = Node { op: Op::Conv { window: case.window(), group: case.group as u32 }, inputs: (0..3).map(Ref::Input).collect() };
		let got = execute_node(&node, &[&xt, &wt, &bt]).unwrap();
		prop_assert_eq!(&got.shape, &u(&[case.n, oc, oh, ow]));
		let got: Vec<u32> = got.f32_values().unwrap().iter().map(|&v| bits(v)).collect();
		prop_assert_eq!(got, want);
	}

	/// ConvInteger through the blocked kernel equals the direct definition on U8 data with
	/// zero points (wrapping i32 sums: any order gives the same result).
	#[test]
	fn conv_integer_is_its_definition(case in conv_case(), bytes in proptest::collection::vec(any::<u8>(), 1..64), zx in any::<u8>(), zw in any::<u8>()) {
		let (c, oc) = (case.group * case.cg, case.group * case.ocg);
		let (ih, iw) = case.hw;
		let pick = |i: usize| bytes[i % bytes.len()];
		let x: Vec<u8> = (0..case.n * c * ih * iw).map(|i| pick(i * 7 + 1)).collect();
		let w: Vec<u8> = (0..oc * case.cg * case.kernel.0 * case.kernel.1).map(|i| pick(i * 3)).collect();
		let xs: Vec<i32> = x.iter().map(|&v| v as i32 - zx as i32).collect();
		let ws: Vec<i32> = w.iter().map(|&v| v as i32 - zw as i32).collect();
		let want = case.reference(&xs, &ws, |a, wv, xv| a.wrapping_add(wv.wrapping_mul(xv)));
		let u = |v: &[usize]| v.iter().map(|&d| d as u32).collect::<Vec<u32>>();
		let t = |shape: &[usize], data: Vec<u8>| Tensor::new(DType::U8, u(shape), data).unwrap();
		let xt = t(&[case.n, c, ih, iw], x);
		let wt = t(&[oc, case.cg, case.kernel.0, case.kernel.1], w);
		let (zxt, zwt) = (t(&[], vec![zx]), t(&[], vec![zw]));
		let node = Node { op: Op::ConvInteger { window: case.window(), group: case.group as u32 }, inputs: (0..4).map(Ref::Input).collect() };
		let got = execute_node(&node, &[&xt, &wt, &zxt, &zwt]).unwrap();
		let got: Vec<i32> = got.int_values().unwrap().into_iter().map(|v| v as i32).collect();
		prop_assert_eq!(got, want);
	}

	/// ConvTranspose gives, bit for bit, its documented order run directly (for each output,
	/// `acc` over ic, kh, kw ascending across the taps that reach it, then `+ bias`), on awkward
	/// values, groups, strides, dilations, pads and output padding.
	#[test]
	fn conv_transpose_is_its_documented_order_bit_for_bit(case in conv_transpose_case(), values in proptest::collection::vec(awkward_f32(), 1..64)) {
		let (c, m) = (case.group * case.cg, case.group * case.mg);
		let (ih, iw) = case.hw;
		let (kh, kw) = case.kernel;
		let (oh, ow) = case.output().unwrap();
		let pick = |i: usize| values[i % values.len()];
		let x: Vec<f32> = (0..case.n * c * ih * iw).map(|i| pick(i * 7 + 1)).collect();
		let w: Vec<f32> = (0..c * case.mg * kh * kw).map(|i| pick(i * 3)).collect();
		let bias: Vec<f32> = (0..m).map(|i| pick(i * 5 + 2)).collect();
		// The input index a tap of an output reaches along one axis, if any.
		let reach = |o: usize, k: usize, axis: usize, input: usize| {
			let t = (o + case.pads[axis]).checked_sub(k * case.dilation[axis])?;
			(t % case.stride[axis] == 0 && t / case.stride[axis] < input).then_some(t / case.stride[axis])
		};
		let bits = |v: f32| if v.is_nan() { edgeproof_canon::CANONICAL_NAN } else { v.to_bits() };
		let mut want = vec![];
		for b in 0..case.n {
			for (oc, &bias_oc) in bias.iter().enumerate() {
				let (grp, o) = (oc / case.mg, oc % case.mg);
				for r in 0..oh {
					for col in 0..ow {
						let mut acc = 0f32;
						for icg in 0..case.cg {
							let ic = grp * case.cg + icg;
							for ki in 0..kh {
								for kj in 0..kw {
									if let (Some(y), Some(xc)) = (reach(r, ki, 0, ih), reach(col, kj, 1, iw)) {
										acc += x[((b * c + ic) * ih + y) * iw + xc] * w[((ic * case.mg + o) * kh + ki) * kw + kj];
									}
								}
							}
						}
						want.push(bits(acc + bias_oc));
					}
				}
			}
		}
		let u = |v: &[usize]| v.iter().map(|&d| d as u32).collect::<Vec<u32>>();
		let xt = Tensor::from_f32(u(&[case.n, c, ih, iw]), &x);
		let wt = Tensor::from_f32(u(&[c, case.mg, kh, kw]), &w);
		let bt = Tensor::from_f32(u(&[m]), &bias);
		let window = edgeproof_canon::Window {
			kernel: u(&[kh, kw]),
			strides: u(&case.stride),
			dilations: u(&case.dilation),
			pads: u(&[case.pads[0], case.pads[1], case.pads[2], case.pads[3]]),
			auto_pad: edgeproof_canon::AutoPad::NotSet,
			ceil_mode: false,
		};
		let op = Op::ConvTranspose { window, group: case.group as u32, output_padding: u(&case.output_padding) };
		let node = Node { op, inputs: (0..3).map(Ref::Input).collect() };
		let got = execute_node(&node, &[&xt, &wt, &bt]).unwrap();
		prop_assert_eq!(&got.shape, &u(&[case.n, m, oh, ow]));
		let got: Vec<u32> = got.f32_values().unwrap().iter().map(|&v| bits(v)).collect();
		prop_assert_eq!(got, want);
	}

	/// MatMul and Gemm (either layout of B) give, bit for bit, each output's documented sum
	/// run directly (`acc = 0; acc = acc + a[i][k] * b[k][j]` for k ascending; Gemm then
	/// `alpha * acc`), on awkward values, on this CPU's widest kernels and threads.
	#[test]
	fn matmul_and_gemm_are_their_documented_order_bit_for_bit(m in 1usize..20, k in 1usize..70, n in 1usize..40, trans_b in any::<bool>(), values in proptest::collection::vec(awkward_f32(), 1..64)) {
		let pick = |i: usize| values[i % values.len()];
		let a: Vec<f32> = (0..m * k).map(|i| pick(i * 7 + 1)).collect();
		let b: Vec<f32> = (0..k * n).map(|i| pick(i * 3)).collect();
		let bits = |v: f32| if v.is_nan() { edgeproof_canon::CANONICAL_NAN } else { v.to_bits() };
		let mut want = vec![];
		for i in 0..m {
			for j in 0..n {
				let mut acc = 0f32;
				for kk in 0..k {
					let bv = if trans_b { b[j * k + kk] } else { b[kk * n + j] };
					acc += a[i * k + kk] * bv;
				}
				want.push(acc);
			}
		}
		let u = |v: &[usize]| v.iter().map(|&d| d as u32).collect::<Vec<u32>>();
		let at = Tensor::from_f32(u(&[m, k]), &a);
		let b_shape = if trans_b { u(&[n, k]) } else { u(&[k, n]) };
		let bt = Tensor::from_f32(b_shape, &b);
		if !trans_b {
			let node = Node { op: Op::MatMul, inputs: (0..2).map(Ref::Input).collect() };
			let got = execute_node(&node, &[&at, &bt]).unwrap();
			let got: Vec<u32> = got.f32_values().unwrap().iter().map(|&v| bits(v)).collect();
			prop_assert_eq!(got, want.iter().map(|&v| bits(v)).collect::<Vec<_>>());
		}
		let alpha = pick(5);
		let op = Op::Gemm { alpha: alpha.to_bits(), beta: 1f32.to_bits(), trans_a: false, trans_b };
		let node = Node { op, inputs: (0..2).map(Ref::Input).collect() };
		let got = execute_node(&node, &[&at, &bt]).unwrap();
		let got: Vec<u32> = got.f32_values().unwrap().iter().map(|&v| bits(v)).collect();
		prop_assert_eq!(got, want.iter().map(|&v| bits(alpha * v)).collect::<Vec<_>>());
	}

	/// MatMulInteger (batched, broadcast) equals the direct definition.
	#[test]
	fn matmul_integer_is_its_definition(batch in 1usize..4, m in 1usize..9, k in 1usize..40, n in 1usize..11, broadcast_b in any::<bool>(), bytes in proptest::collection::vec(any::<u8>(), 1..64), za in any::<u8>(), zb in any::<u8>()) {
		let pick = |i: usize| bytes[i % bytes.len()];
		let nb = if broadcast_b { 1 } else { batch };
		let a: Vec<u8> = (0..batch * m * k).map(|i| pick(i * 7 + 1)).collect();
		let b: Vec<u8> = (0..nb * k * n).map(|i| pick(i * 3)).collect();
		let mut want = vec![];
		for bi in 0..batch {
			let bb = if broadcast_b { 0 } else { bi };
			for i in 0..m {
				for j in 0..n {
					let mut acc = 0i32;
					for kk in 0..k {
						let av = a[(bi * m + i) * k + kk] as i32 - za as i32;
						let bv = b[(bb * k + kk) * n + j] as i32 - zb as i32;
						acc = acc.wrapping_add(av.wrapping_mul(bv));
					}
					want.push(acc);
				}
			}
		}
		let t = |shape: Vec<u32>, data: Vec<u8>| Tensor::new(DType::U8, shape, data).unwrap();
		let at = t(vec![batch as u32, m as u32, k as u32], a);
		let bt = if broadcast_b { t(vec![k as u32, n as u32], b) } else { t(vec![batch as u32, k as u32, n as u32], b) };
		let (zat, zbt) = (t(vec![], vec![za]), t(vec![], vec![zb]));
		let node = Node { op: Op::MatMulInteger, inputs: (0..4).map(Ref::Input).collect() };
		let got = execute_node(&node, &[&at, &bt, &zat, &zbt]).unwrap();
		let got: Vec<i32> = got.int_values().unwrap().into_iter().map(|v| v as i32).collect();
		prop_assert_eq!(got, want);
	}
}

proptest! {
	#![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

	/// The leaf hash is the chunked definition of docs/canonical-executor.md, computed here the
	/// plain way (one blake2 per chunk of the NaN-rewritten data, a Merkle root built by pairing
	/// with zero padding, then the header and that root), for every dtype, with NaN payloads
	/// anywhere, on tensors of zero to several chunks; and every chunk proves on its own, while
	/// a changed byte, another index, a chunk cut short or a proof missing a sibling does not.
	#[test]
	fn leaf_hashes_are_the_chunked_definition_and_every_chunk_proves(
		dtype in prop_oneof![Just(DType::F32), Just(DType::I64), Just(DType::U8), Just(DType::Bool)],
		len in 0usize..5000,
		nans in proptest::collection::vec((any::<prop::sample::Index>(), any::<u32>()), 0..4),
		seed in any::<u64>(),
		flip in any::<prop::sample::Index>(),
	) {
		use codec::Encode;
		use edgeproof_canon::{chunk::chunk_bytes, TensorChunks, CHUNK_BYTES};
		use sp_crypto_hashing::blake2_256;
		let mut data: Vec<u8> = common::seeded_u64(seed, len.div_ceil(8) * dtype.size())
			.into_iter()
			.flat_map(u64::to_le_bytes)
			.take(len * dtype.size())
			.collect();
		if dtype == DType::Bool {
			data.iter_mut().for_each(|b| *b &= 1);
		}
		if dtype == DType::F32 && len > 0 {
			for (at, payload) in nans {
				let i = at.index(len) * 4;
				data[i..i + 4].copy_from_slice(&(0x7f80_0001 | (payload & 0x807f_ffff)).to_le_bytes());
			}
		}
		let t = Tensor { dtype, shape: vec![len as u32], data };
		let mut level: Vec<[u8; 32]> =
			t.nan_canonical().data.chunks(CHUNK_BYTES).map(blake2_256).collect();
		while level.len() > 1 {
			level.resize(level.len().next_power_of_two(), [0; 32]);
			level = level.chunks(2).map(|p| blake2_256(&[p[0], p[1]].concat())).collect();
		}
		let root = level.first().copied().unwrap_or([0; 32]);
		let mut preimage = (dtype, &t.shape, codec::Compact(t.data.len() as u32)).encode();
		preimage.extend_from_slice(&root);
		let leaf = edgeproof_canon::leaf_hash(&t);
		prop_assert_eq!(leaf, blake2_256(&preimage));

		let chunks = TensorChunks::new(&t);
		prop_assert_eq!(chunks.leaf_hash(), leaf);
		let count = t.data.len().div_ceil(CHUNK_BYTES) as u64;
		prop_assert_eq!(chunks.header.chunk_count(), count);
		prop_assert!(chunks.proof(count).is_none() && chunk_bytes(&t, count).is_none());
		let mut joined = Vec::new();
		for i in 0..count {
			let bytes = chunk_bytes(&t, i).unwrap();
			joined.extend_from_slice(bytes);
			let proof = chunks.proof(i).unwrap();
			prop_assert!(proof.verify(&leaf, bytes));
			let mut changed = bytes.to_vec();
			let at = flip.index(changed.len());
			changed[at] ^= 0x01;
			// Flipping the low bit of a NaN's mantissa can leave it a NaN, hashed alike.
			let same_value = dtype == DType::F32 && {
				let w = at / 4 * 4;
				f32::from_le_bytes(bytes[w..w + 4].try_into().unwrap()).is_nan()
					&& f32::from_le_bytes(changed[w..w + 4].try_into().unwrap()).is_nan()
			};
			prop_assert_eq!(proof.verify(&leaf, &changed), same_value);
			prop_assert!(!proof.verify(&leaf, &bytes[..bytes.len() - 1]));
			if count > 1 {
				let mut moved = proof.clone();
				moved.chunk.index = (i + 1) % count;
				prop_assert!(!moved.verify(&leaf, bytes));
				let mut short = proof.clone();
				short.chunk.siblings.pop();
				prop_assert!(!short.verify(&leaf, bytes));
			}
		}
		prop_assert_eq!(joined, t.data);
	}
}
