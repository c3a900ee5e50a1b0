//! The second level's sub-steps (`edgeproof_canon::substep`): run one after another, each
//! continuing the state the previous segment left, they give a node's output chunks bit for bit
//! (random convolutions, fused convolutions, products and elementwise nodes on awkward values,
//! cut into many tiles and segments); each reads only the elements `reads` names (the others
//! are overwritten before it runs); and light ResNet-50's heavy nodes are cut within the default
//! limits and give its trace's values.

mod common;

use common::awkward_f32;
use edgeproof_canon::{
	chunk::chunk_leaves,
	compiler::{compile, CompileOptions},
	execute, execute_node, node_work,
	ops::Meta,
	program_tree,
	substep::{
		chunks_of, cut_witness, geometry, reads, run_substep, substep_witness, verify_cut,
		verify_substep, CutWitness, Geometry, SubStepLimits, SubStepWitness, TILE_ELEMENTS,
	},
	AutoPad, CoordinateTransform, DType, FusedStep, Limits, NearestMode, Node, OneStepContext, Op,
	Program, Ref, ResizeMode, StepArg, Tensor, TensorHeader, TensorSpec, Window, CANONICAL_NAN,
	CHUNK_BYTES,
};
use proptest::prelude::*;

/// Values mostly ordinary, sometimes awkward (±0, denormals, infinities, NaN): a read of an
/// overwritten element must show in the result, which NaN everywhere would hide.
fn mild() -> impl Strategy<Value = f32> {
	prop_oneof![12 => -4.0f32..4.0, 1 => awkward_f32()]
}

fn tensor(shape: &[u32], values: &[f32], seed: usize) -> Tensor {
	let n: u32 = shape.iter().product();
	let v: Vec<f32> = (0..n as usize).map(|i| values[(i * 7 + seed * 13) % values.len()]).collect();
	Tensor::from_f32(shape.to_vec(), &v)
}

/// What a chunk leaf commits to: the bytes, or of F32 data the bit patterns with every NaN
/// canonical.
fn committed(dtype: DType, bytes: &[u8]) -> Vec<u32> {
	match dtype {
		DType::F32 => canonical(bytes),
		_ => bytes.iter().map(|&b| b as u32).collect(),
	}
}

/// Bit patterns with every NaN canonical (what the chunk leaves commit to).
fn canonical(bytes: &[u8]) -> Vec<u32> {
	bytes
		.chunks_exact(4)
		.map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
		.map(|v| if v.is_nan() { CANONICAL_NAN } else { v.to_bits() })
		.collect()
}

/// `t` with every chunk not in `keep` overwritten by `fill`.
fn only_chunks(t: &Tensor, keep: &[u64], fill: f32) -> Tensor {
	let mut out = t.clone();
	for (c, chunk) in out.data.chunks_mut(CHUNK_BYTES).enumerate() {
		if keep.binary_search(&(c as u64)).is_err() {
			let pattern = fill.to_le_bytes();
			for (i, b) in chunk.iter_mut().enumerate() {
				// Every byte, so a chunk shorter than an F32 (an 8-bit scalar) is overwritten too.
				*b = pattern[i % 4];
			}
		}
	}
	out
}

/// Runs sub-step `(t, s)` on inputs of which only the chunks `reads` names are intact.
fn run_on_reads(
	op: &Op,
	ins: &[Tensor],
	g: &Geometry,
	t: u64,
	s: u32,
	state: Option<&[u8]>,
	fill: f32,
) -> Vec<u8> {
	let metas: Vec<Meta> = ins.iter().map(Meta::of).collect();
	let r = reads(op, &metas, g, t, s).expect("reads");
	assert_eq!(r.len(), ins.len());
	let sparse: Vec<Tensor> = ins
		.iter()
		.zip(&r)
		.map(|(x, ranges)| only_chunks(x, &chunks_of(x.dtype, ranges), fill))
		.collect();
	let refs: Vec<&Tensor> = sparse.iter().collect();
	run_substep(op, &refs, g, t, s, state).expect("the sub-step runs")
}

/// Every tile of `op` on `ins` through its segments (with two fills of the unread chunks),
/// compared with the node's own output, chunk by chunk.
fn check_substeps(
	op: &Op,
	ins: &[Tensor],
	limits: &SubStepLimits,
) -> Result<Geometry, TestCaseError> {
	let metas: Vec<Meta> = ins.iter().map(Meta::of).collect();
	let g = geometry(op, &metas, limits).map_err(|e| TestCaseError::fail(format!("{e}")))?;
	let node = Node { op: op.clone(), inputs: (0..ins.len() as u32).map(Ref::Input).collect() };
	let refs: Vec<&Tensor> = ins.iter().collect();
	let whole = execute_node(&node, &refs).expect("the node runs");
	prop_assert_eq!((g.elements as usize, g.output), (whole.numel().unwrap(), whole.dtype));
	let mut got = Vec::with_capacity(whole.data.len());
	for t in 0..g.tiles() {
		let mut state: Option<Vec<u8>> = None;
		for s in 0..g.segments {
			let next = run_on_reads(op, ins, &g, t, s, state.as_deref(), f32::NAN);
			let again = run_on_reads(op, ins, &g, t, s, state.as_deref(), 1.0e30);
			prop_assert_eq!(
				g.leaf(s, &next),
				g.leaf(s, &again),
				"tile {} segment {} read an element outside its reads",
				t,
				s
			);
			let size = if g.is_last(s) { g.output.size() } else { 4 };
			prop_assert_eq!(next.len(), g.tile(t).unwrap().len() * size);
			state = Some(next);
		}
		got.extend(state.unwrap());
	}
	prop_assert_eq!(committed(g.output, &got), committed(whole.dtype, &whole.data));
	Ok(g)
}

fn window(kernel: (u32, u32), stride: (u32, u32), dilation: (u32, u32), pads: [u32; 4]) -> Window {
	Window {
		kernel: vec![kernel.0, kernel.1],
		strides: vec![stride.0, stride.1],
		dilations: vec![dilation.0, dilation.1],
		pads: pads.to_vec(),
		auto_pad: AutoPad::NotSet,
		ceil_mode: false,
	}
}

/// A Conv's input and weight shapes, window and group, with a valid output (input planes of
/// up to five chunks, so a read one row short shows).
#[derive(Clone, Debug)]
struct ConvCase {
	x: [u32; 4],
	w: [u32; 4],
	window: Window,
	group: u32,
}

fn conv_case() -> impl Strategy<Value = ConvCase> {
	(
		(1u32..3, 1u32..3, 1u32..4, 1u32..4),
		(2u32..72, 2u32..72, 1u32..4, 1u32..4),
		((1u32..3, 1u32..3), (1u32..3, 1u32..3), [0u32..2, 0u32..2, 0u32..2, 0u32..2]),
	)
		.prop_map(|((n, group, cg, ocg), (h, w, kh, kw), (stride, dilation, pads))| ConvCase {
			x: [n, group * cg, h, w],
			w: [group * ocg, cg, kh, kw],
			window: window((kh, kw), stride, dilation, pads),
			group,
		})
		.prop_filter("a valid output", |c| {
			let fits = |i: u32, k: u32, d: u32, p: u32| i + p > d * (k - 1);
			let p = &c.window.pads;
			fits(c.x[2], c.w[2], c.window.dilations[0], p[0] + p[2])
				&& fits(c.x[3], c.w[3], c.window.dilations[1], p[1] + p[3])
		})
}

/// Every segment of `g` is within the work bound (a tile's outputs times the segment's terms
/// and the epilogue's steps), and one segment fewer would not be.
fn assert_fewest_segments(
	g: &Geometry,
	limits: &SubStepLimits,
	epilogue: u64,
) -> Result<(), TestCaseError> {
	let tile = g.tile_elements().min(g.elements);
	let work = |len: u64| tile * (len + epilogue);
	let longest = (0..g.segments).map(|s| g.segment(s).unwrap().len() as u64).max().unwrap();
	prop_assert_eq!(longest, g.terms.div_ceil(g.segments as u64));
	prop_assert!(work(longest) <= limits.max_work);
	if g.segments > 1 {
		prop_assert!(work(g.terms.div_ceil(g.segments as u64 - 1)) > limits.max_work);
	}
	Ok(())
}

/// The number of outputs of a Conv case.
fn conv_output_elements(case: &ConvCase) -> u64 {
	let metas = [
		Meta { dtype: DType::F32, shape: &case.x, value: None },
		Meta { dtype: DType::F32, shape: &case.w, value: None },
	];
	let conv = Op::Conv { window: case.window.clone(), group: case.group };
	edgeproof_canon::ops::infer(&conv, &metas).unwrap().1.iter().map(|&d| d as u64).product()
}

/// Limits that cut a node of `elements` outputs and `terms` terms per output into at least
/// `cut` segments (as many as `terms` allows).
fn limits_for(elements: u64, terms: u64, epilogue: u64, cut: u64) -> SubStepLimits {
	limits_for_tile(TILE_ELEMENTS as u64, elements, terms, epilogue, cut)
}

/// [`limits_for`] with tiles of `tile` elements (4096 for an 8-bit output).
fn limits_for_tile(tile: u64, elements: u64, terms: u64, epilogue: u64, cut: u64) -> SubStepLimits {
	let tile = tile.min(elements);
	SubStepLimits {
		max_work: tile * (epilogue + terms.div_ceil(cut).max(1)),
		max_read_bytes: u64::MAX,
	}
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(48))]

	/// A Conv (groups, strides, dilations, padding, with and without a bias) by its sub-steps is
	/// its output bit for bit, however its reduction is cut.
	#[test]
	fn conv_substeps_are_the_conv(case in conv_case(), bias in any::<bool>(), cut in 1u64..9, values in proptest::collection::vec(mild(), 1..64)) {
		let mut ins = vec![tensor(&case.x, &values, 1), tensor(&case.w, &values, 2)];
		if bias {
			ins.push(tensor(&[case.w[0]], &values, 3));
		}
		let op = Op::Conv { window: case.window.clone(), group: case.group };
		let terms = (case.w[1] * case.w[2] * case.w[3]) as u64;
		let elements = conv_output_elements(&case);
		let g = check_substeps(&op, &ins, &limits_for(elements, terms, 1, cut))?;
		prop_assert_eq!(g.terms, terms);
		assert_fewest_segments(&g, &limits_for(elements, terms, 1, cut), 1)?;
	}

	/// A Conv fused with a BatchNormalization, an activation and an Add of a same-shaped input
	/// (its epilogue runs in the last segment) by its sub-steps is its output bit for bit.
	#[test]
	fn fused_conv_substeps_are_the_fused_node(case in conv_case(), cut in 1u64..6, values in proptest::collection::vec(mild(), 1..64)) {
		let oc = case.w[0];
		let conv = Op::Conv { window: case.window.clone(), group: case.group };
		let out_shape = {
			let metas = [Meta { dtype: DType::F32, shape: &case.x, value: None }, Meta { dtype: DType::F32, shape: &case.w, value: None }];
			edgeproof_canon::ops::infer(&conv, &metas).unwrap().1
		};
		let positive: Vec<f32> = values.iter().map(|v| v.abs() + 0.5).collect();
		let ins = vec![
			tensor(&case.x, &values, 1),
			tensor(&case.w, &values, 2),
			tensor(&[oc], &values, 3),
			tensor(&[oc], &values, 4),
			tensor(&[oc], &values, 5),
			tensor(&[oc], &values, 6),
			tensor(&[oc], &positive, 7),
			tensor(&out_shape, &values, 8),
		];
		let input = StepArg::Input;
		let steps = vec![
			FusedStep { op: conv, args: vec![input(0), input(1), input(2)] },
			FusedStep { op: Op::BatchNormalization { epsilon: 1e-5f32.to_bits() }, args: vec![StepArg::Step(0), input(3), input(4), input(5), input(6)] },
			FusedStep { op: Op::Relu, args: vec![StepArg::Step(1)] },
			FusedStep { op: Op::Add, args: vec![StepArg::Step(2), input(7)] },
		];
		let terms = (case.w[1] * case.w[2] * case.w[3]) as u64;
		let elements = conv_output_elements(&case);
		let limits = limits_for(elements, terms, 4, cut);
		let g = check_substeps(&Op::Fused { steps }, &ins, &limits)?;
		assert_fewest_segments(&g, &limits, 4)?;
	}

	/// MatMul (batched, broadcast, 1-D operands) and Gemm (either operand transposed, C
	/// broadcast) by their sub-steps are their outputs bit for bit.
	#[test]
	fn product_substeps_are_the_product(batch in 1u32..3, m in 1u32..40, k in 1u32..90, n in 1u32..90, form in 0u8..4, c_form in 0u8..4, cut in 1u64..9, values in proptest::collection::vec(mild(), 1..64)) {
		let (op, ins) = match form {
			0 => (Op::MatMul, vec![tensor(&[batch, m, k], &values, 1), tensor(&[k, n], &values, 2)]),
			1 => (Op::MatMul, vec![tensor(&[1, m, k], &values, 1), tensor(&[batch, k, n], &values, 2)]),
			2 => (Op::MatMul, vec![tensor(&[k], &values, 1), tensor(&[batch, k, n], &values, 2)]),
			_ => {
				let (ta, tb) = (c_form & 1 == 1, n % 2 == 0);
				let a = if ta { [k, m] } else { [m, k] };
				let b = if tb { [n, k] } else { [k, n] };
				let mut ins = vec![tensor(&a, &values, 1), tensor(&b, &values, 2)];
				match c_form {
					0 => {},
					1 => ins.push(tensor(&[n], &values, 3)),
					2 => ins.push(tensor(&[m, 1], &values, 3)),
					_ => ins.push(tensor(&[m, n], &values, 3)),
				}
				let op = Op::Gemm { alpha: values[0].to_bits(), beta: values[values.len() / 2].to_bits(), trans_a: ta, trans_b: tb };
				(op, ins)
			},
		};
		let epilogue = if form == 3 { 2 } else { 0 };
		let elements = match form { 2 => batch * n, 3 => m * n, _ => batch * m * n } as u64;
		let limits = limits_for(elements, k as u64, epilogue, cut);
		let g = check_substeps(&op, &ins, &limits)?;
		prop_assert_eq!(g.terms, k as u64);
		assert_fewest_segments(&g, &limits, epilogue)?;
	}

	/// Elementwise nodes (a broadcast binary operator, a unary one, Sum of three inputs) by
	/// their tiles are their outputs bit for bit.
	#[test]
	fn elementwise_substeps_are_the_node((rows, cols) in (1u32..1500, 1u32..1500).prop_filter("a few hundred tiles at most", |(r, c)| r * c <= 200_000), which in 0u8..3, values in proptest::collection::vec(mild(), 1..64)) {
		let shape = [rows, cols];
		let (op, ins) = match which {
			0 => (Op::Div, vec![tensor(&shape, &values, 1), tensor(&[cols], &values, 2)]),
			1 => (Op::Sigmoid, vec![tensor(&shape, &values, 1)]),
			_ => (Op::Sum, vec![tensor(&shape, &values, 1), tensor(&[rows, 1], &values, 2), tensor(&shape, &values, 3)]),
		};
		let g = check_substeps(&op, &ins, &SubStepLimits::DEFAULT)?;
		prop_assert_eq!((g.terms, g.segments), (0, 1));
	}
}

/// A ConvTranspose's input and weight shapes, window, group and output padding.
#[derive(Clone, Debug)]
struct TransposeCase {
	x: [u32; 4],
	w: [u32; 4],
	window: Window,
	group: u32,
	output_padding: Vec<u32>,
}

fn transpose_case() -> impl Strategy<Value = TransposeCase> {
	(
		(1u32..3, 1u32..3, 1u32..4, 1u32..4),
		(1u32..40, 1u32..40, 1u32..4, 1u32..4),
		(
			(1u32..4, 1u32..4),
			(1u32..3, 1u32..3),
			[0u32..2, 0u32..2, 0u32..2, 0u32..2],
			any::<bool>(),
		),
	)
		.prop_map(|((n, group, cg, mg), (h, w, kh, kw), (stride, dilation, pads, extra))| {
			let output_padding = if extra { vec![stride.0 - 1, stride.1 - 1] } else { vec![] };
			TransposeCase {
				x: [n, group * cg, h, w],
				w: [group * cg, mg, kh, kw],
				window: window((kh, kw), stride, dilation, pads),
				group,
				output_padding,
			}
		})
		.prop_filter("an output", |c| {
			let op = Op::ConvTranspose {
				window: c.window.clone(),
				group: c.group,
				output_padding: c.output_padding.clone(),
			};
			let metas = [
				Meta { dtype: DType::F32, shape: &c.x, value: None },
				Meta { dtype: DType::F32, shape: &c.w, value: None },
			];
			edgeproof_canon::ops::infer(&op, &metas).is_ok()
		})
}

/// A pool's input shape and window.
fn pool_case() -> impl Strategy<Value = ([u32; 4], Window)> {
	(
		(1u32..3, 1u32..5, 1u32..70, 1u32..70),
		(
			(1u32..4, 1u32..4),
			(1u32..3, 1u32..3),
			(1u32..3, 1u32..3),
			[0u32..2, 0u32..2, 0u32..2, 0u32..2],
			any::<bool>(),
		),
	)
		.prop_map(|((n, c, h, w), (kernel, stride, dilation, pads, ceil))| {
			let pads = [
				pads[0].min(kernel.0 - 1),
				pads[1].min(kernel.1 - 1),
				pads[2].min(kernel.0 - 1),
				pads[3].min(kernel.1 - 1),
			];
			([n, c, h, w], Window { ceil_mode: ceil, ..window(kernel, stride, dilation, pads) })
		})
		.prop_filter("an output", |(x, win)| {
			let metas = [Meta { dtype: DType::F32, shape: x, value: None }];
			edgeproof_canon::ops::infer(&Op::MaxPool { window: win.clone() }, &metas).is_ok()
		})
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(32))]

	/// A ConvTranspose (groups, strides, dilations, padding, output padding, bias or not),
	/// alone or as the head of a fused node with a Sigmoid and a Mul by a same-shaped input,
	/// by its sub-steps is its output bit for bit.
	#[test]
	fn conv_transpose_substeps_are_the_node(case in transpose_case(), bias in any::<bool>(), fused in any::<bool>(), cut in 1u64..7, values in proptest::collection::vec(mild(), 1..64)) {
		let head = Op::ConvTranspose { window: case.window.clone(), group: case.group, output_padding: case.output_padding.clone() };
		let metas = [Meta { dtype: DType::F32, shape: &case.x, value: None }, Meta { dtype: DType::F32, shape: &case.w, value: None }];
		let out_shape = edgeproof_canon::ops::infer(&head, &metas).unwrap().1;
		let mut ins = vec![tensor(&case.x, &values, 1), tensor(&case.w, &values, 2)];
		if bias || fused {
			ins.push(tensor(&[out_shape[1]], &values, 3));
		}
		let elements: u64 = out_shape.iter().map(|&d| d as u64).product();
		let terms = (case.x[1] / case.group * case.w[2] * case.w[3]) as u64;
		let (op, epilogue) = if fused {
			ins.push(tensor(&out_shape, &values, 4));
			let input = StepArg::Input;
			let steps = vec![
				FusedStep { op: head, args: vec![input(0), input(1), input(2)] },
				FusedStep { op: Op::Sigmoid, args: vec![StepArg::Step(0)] },
				FusedStep { op: Op::Mul, args: vec![StepArg::Step(1), input(3)] },
			];
			(Op::Fused { steps }, 3)
		} else {
			(head, 1)
		};
		let limits = limits_for(elements, terms, epilogue, cut);
		let g = check_substeps(&op, &ins, &limits)?;
		prop_assert_eq!(g.terms, terms);
		assert_fewest_segments(&g, &limits, epilogue)?;
	}

	/// MaxPool and AveragePool (padding, strides, dilations, ceil mode, either count) by their
	/// tiles, and the global pools by tiles and segments of their planes, are their outputs bit
	/// for bit.
	#[test]
	fn pool_substeps_are_the_pool((x, win) in pool_case(), which in 0u8..5, cut in 1u64..9, values in proptest::collection::vec(mild(), 1..64)) {
		let op = match which {
			0 => Op::MaxPool { window: win },
			1 => Op::AveragePool { window: Window { dilations: vec![], ..win }, count_include_pad: false },
			2 => Op::AveragePool { window: Window { dilations: vec![], ..win }, count_include_pad: true },
			3 => Op::GlobalAveragePool,
			_ => Op::GlobalMaxPool,
		};
		let ins = vec![tensor(&x, &values, 1)];
		let metas = [Meta::of(&ins[0])];
		let Ok(_) = edgeproof_canon::ops::infer(&op, &metas) else { return Ok(()) };
		let size = (x[2] * x[3]) as u64;
		let limits = if which >= 3 {
			limits_for(size * (x[0] * x[1]) as u64, size, 1, cut)
		} else {
			SubStepLimits::DEFAULT
		};
		let g = check_substeps(&op, &ins, &limits)?;
		if which >= 3 {
			prop_assert_eq!(g.terms, size);
			assert_fewest_segments(&g, &limits, 1)?;
		}
	}
}

fn bytes_tensor(dtype: DType, shape: &[u32], bytes: &[u8], seed: usize) -> Tensor {
	let n: u32 = shape.iter().product();
	let data = (0..n as usize).map(|i| bytes[(i * 7 + seed * 13) % bytes.len()]).collect();
	Tensor::new(dtype, shape.to_vec(), data).unwrap()
}

fn scalar(dtype: DType, byte: u8) -> Tensor {
	Tensor::new(dtype, vec![], vec![byte]).unwrap()
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(32))]

	/// MatMulInteger (U8 or I8 operands, batched A) by its sub-steps is its output bit for bit,
	/// its I32 sums cut into segments.
	#[test]
	fn matmul_integer_substeps_are_the_node(batch in 1u32..3, m in 1u32..30, k in 1u32..120, n in 1u32..70, signed in any::<bool>(), cut in 1u64..9, bytes in proptest::collection::vec(any::<u8>(), 1..64), za in any::<u8>(), zb in any::<u8>()) {
		let dtype = if signed { DType::I8 } else { DType::U8 };
		let ins = vec![
			bytes_tensor(DType::U8, &[batch, m, k], &bytes, 1),
			bytes_tensor(dtype, &[k, n], &bytes, 2),
			scalar(DType::U8, za),
			scalar(dtype, zb),
		];
		let limits = limits_for((batch * m * n) as u64, k as u64, 0, cut);
		let g = check_substeps(&Op::MatMulInteger, &ins, &limits)?;
		prop_assert_eq!((g.output, g.accumulator()), (DType::I32, DType::I32));
		assert_fewest_segments(&g, &limits, 0)?;
	}

	/// QLinearConv (per-tensor or per-channel weight parameters, a bias or not, U8 or I8
	/// output, 4096-element tiles) by its sub-steps is its output bit for bit.
	#[test]
	fn qlinear_conv_substeps_are_the_node(case in conv_case(), per_channel in any::<bool>(), bias in any::<bool>(), signed in any::<bool>(), cut in 1u64..6, bytes in proptest::collection::vec(any::<u8>(), 1..64), scales in proptest::collection::vec(1e-3f32..0.1, 8)) {
		let oc = case.w[0];
		let out_dtype = if signed { DType::I8 } else { DType::U8 };
		let per = if per_channel { vec![oc] } else { vec![] };
		let w_scale: Vec<f32> = (0..per.iter().product::<u32>() as usize).map(|i| scales[i % 8]).collect();
		let mut ins = vec![
			bytes_tensor(DType::U8, &case.x, &bytes, 1),
			Tensor::from_f32(vec![], &[scales[1]]),
			scalar(DType::U8, bytes[0]),
			bytes_tensor(DType::I8, &case.w, &bytes, 2),
			Tensor::from_f32(per.clone(), &w_scale),
			bytes_tensor(DType::I8, &per, &bytes, 3),
			Tensor::from_f32(vec![], &[scales[2] * 4.0]),
			scalar(out_dtype, bytes[bytes.len() / 2]),
		];
		if bias {
			let b: Vec<i32> = (0..oc as usize).map(|i| (bytes[i % bytes.len()] as i32 - 128) * 97).collect();
			ins.push(Tensor::from_i32(vec![oc], &b));
		}
		let op = Op::QLinearConv { window: case.window.clone(), group: case.group };
		let elements = conv_output_elements(&case);
		let terms = (case.w[1] * case.w[2] * case.w[3]) as u64;
		let limits = limits_for_tile(4096, elements, terms, 1, cut);
		let g = check_substeps(&op, &ins, &limits)?;
		prop_assert_eq!((g.output, g.tile_elements()), (out_dtype, 4096));
		assert_fewest_segments(&g, &limits, 1)?;
	}

	/// QuantizeLinear (per tensor, or along either axis) by its 4096-element tiles is its
	/// output bit for bit.
	#[test]
	fn quantize_substeps_are_the_node(rows in 1u32..200, cols in 1u32..300, axis in 0i32..3, signed in any::<bool>(), values in proptest::collection::vec(mild(), 1..64), bytes in proptest::collection::vec(any::<u8>(), 1..16)) {
		let dtype = if signed { DType::I8 } else { DType::U8 };
		let params: Vec<u32> = match axis { 0 => vec![rows], 1 => vec![cols], _ => vec![] };
		let scale: Vec<f32> = (0..params.iter().product::<u32>() as usize).map(|i| 0.01 + values[i % values.len()].abs().min(4.0)).collect();
		let ins = vec![
			tensor(&[rows, cols], &values, 1),
			Tensor::from_f32(params.clone(), &scale),
			bytes_tensor(dtype, &params, &bytes, 2),
		];
		let g = check_substeps(&Op::QuantizeLinear { axis: axis.min(1) }, &ins, &SubStepLimits::DEFAULT)?;
		prop_assert_eq!((g.terms, g.segments, g.output), (0, 1, dtype));
	}
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(48))]

	/// Concat (along any axis, of two or three inputs, F32 or I64) and Slice (any starts, ends
	/// and steps, negative ones too) by their tiles are their outputs bit for bit, each tile
	/// reading only the input elements it moves.
	#[test]
	fn data_movement_substeps_are_the_node(shape in proptest::collection::vec(1u32..40, 1..4), axis in 0usize..3, more in proptest::collection::vec(1u32..30, 1..3), int in any::<bool>(), slice in proptest::collection::vec((-50i64..50, -50i64..50, prop_oneof![1i64..4, -3i64..0]), 1..4), values in proptest::collection::vec(mild(), 1..64)) {
		let axis = axis % shape.len();
		let make = |shape: &[u32], seed: usize| {
			if int {
				let n: u32 = shape.iter().product();
				let v: Vec<i64> = (0..n as i64).map(|i| i * 31 + seed as i64).collect();
				Tensor::from_i64(shape.to_vec(), &v)
			} else {
				tensor(shape, &values, seed)
			}
		};
		let mut ins = vec![make(&shape, 1)];
		for (k, &d) in more.iter().enumerate() {
			let mut other = shape.clone();
			other[axis] = d;
			ins.push(make(&other, k + 2));
		}
		check_substeps(&Op::Concat { axis: axis as i32 - shape.len() as i32 }, &ins, &SubStepLimits::DEFAULT)?;
		let slice = &slice[..slice.len().min(shape.len())];
		let op = Op::Slice {
			starts: slice.iter().map(|s| s.0).collect(),
			ends: slice.iter().map(|s| s.1).collect(),
			axes: (0..slice.len() as i32).rev().collect(),
			steps: slice.iter().map(|s| s.2).collect(),
		};
		let x = make(&shape, 9);
		if edgeproof_canon::ops::infer(&op, &[Meta::of(&x)]).is_ok_and(|(_, s)| s.iter().all(|&d| d > 0)) {
			check_substeps(&op, std::slice::from_ref(&x), &SubStepLimits::DEFAULT)?;
		}
		check_substeps(&Op::Flatten { axis: 1.min(shape.len() as i32) }, std::slice::from_ref(&x), &SubStepLimits::DEFAULT)?;
		check_substeps(&Op::Unsqueeze { axes: vec![0] }, &[x], &SubStepLimits::DEFAULT)?;
	}

	/// Softmax and LogSoftmax over the last axis (rows shorter and longer than a tile) and
	/// legacy Softmax by their tiles are their outputs bit for bit.
	#[test]
	fn softmax_substeps_are_the_node(rows in 1u32..40, cols in 1u32..3000, log in any::<bool>(), legacy in any::<bool>(), values in proptest::collection::vec(mild(), 1..64)) {
		// A legacy row is all of `rows x cols`: two of them must fit one sub-step's reads.
		let rows = if legacy { rows.min(40_000 / cols).max(1) } else { rows };
		let x = tensor(&[2, rows, cols], &values, 1);
		let op = match (log, legacy) {
			(false, true) => Op::Softmax { axis: 1, legacy: true },
			(false, false) => Op::Softmax { axis: -1, legacy: false },
			(true, _) => Op::LogSoftmax { axis: 2, legacy: false },
		};
		let g = check_substeps(&op, &[x], &SubStepLimits::DEFAULT)?;
		prop_assert_eq!((g.terms, g.segments), (0, 1));
	}
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(48))]

	/// Resize (nearest with each rounding, linear along one to three axes, each coordinate
	/// transform, up and down) by its tiles is its output bit for bit.
	#[test]
	fn resize_substeps_are_the_node(shape in proptest::collection::vec(1u32..24, 2..5), factors in proptest::collection::vec(prop_oneof![Just(1.0f32), Just(2.0), Just(0.5), 0.3f32..3.0], 4), linear in any::<bool>(), coord in 0u8..4, nearest in 0u8..4, values in proptest::collection::vec(mild(), 1..64)) {
		let r = shape.len();
		// The batch axis unchanged, as models resize.
		let sizes: Vec<u32> = shape.iter().zip(&factors).enumerate().map(|(a, (&d, &f))| if a == 0 { d } else { ((d as f32 * f) as u32).max(1) }).collect();
		let scales: Vec<u32> = shape.iter().zip(&sizes).map(|(&d, &o)| (o as f32 / d as f32).to_bits()).collect();
		let op = Op::Resize {
			mode: if linear { ResizeMode::Linear } else { ResizeMode::Nearest },
			coordinates: [CoordinateTransform::HalfPixel, CoordinateTransform::PytorchHalfPixel, CoordinateTransform::AlignCorners, CoordinateTransform::Asymmetric][coord as usize],
			nearest: [NearestMode::RoundPreferFloor, NearestMode::RoundPreferCeil, NearestMode::Floor, NearestMode::Ceil][nearest as usize],
			scales,
			sizes: sizes.clone(),
		};
		let x = tensor(&shape, &values, 1);
		prop_assume!(edgeproof_canon::ops::infer(&op, &[Meta::of(&x)]).is_ok() && r > 0);
		check_substeps(&op, &[x], &SubStepLimits::DEFAULT)?;
	}
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(48))]

	/// Gather (along either axis, negative indices too, a table of many chunks) by its tiles is
	/// its output bit for bit, each tile reading its indices and the rows they name.
	#[test]
	fn gather_substeps_are_the_node(rows in 1u32..3000, cols in 1u32..300, axis in 0i32..2, idx in proptest::collection::vec(any::<i64>(), 1..40), values in proptest::collection::vec(mild(), 1..64)) {
		let table = tensor(&[rows, cols], &values, 1);
		let d = if axis == 0 { rows } else { cols } as i64;
		let picked: Vec<i64> = idx.iter().map(|&i| i.rem_euclid(2 * d) - d).collect();
		let n = picked.len() as u32;
		let ids = Tensor::from_i64(vec![n / 2 + n % 2, 2 - n % 2], &picked);
		prop_assume!(ids.numel().unwrap() == picked.len());
		check_substeps(&Op::Gather { axis }, &[table, ids], &SubStepLimits::DEFAULT)?;
	}
}

/// A Gather from a 3000-row table (an embedding): a tile's witness carries its index chunk and
/// the chunks of the rows it names, not the table; leaving the index chunk out, or proving
/// other rows, is refused; an index out of range is an error.
#[test]
fn a_gather_witness_carries_the_rows_it_reads() {
	let table = common::seeded_tensor(31, &[3000, 64]);
	let ids: Vec<i64> = (0..32).map(|i| (i * 937) % 3000 - 1500).collect();
	let program = Program {
		inputs: vec![TensorSpec { dtype: DType::I64, shape: vec![1, 32] }],
		constants: vec![table],
		nodes: vec![Node {
			op: Op::Gather { axis: 0 },
			inputs: vec![Ref::Const(0), Ref::Input(0)],
		}],
		outputs: vec![Ref::Node(0)],
	};
	let trace = execute(&program, &[Tensor::from_i64(vec![1, 32], &ids)]).unwrap();
	let (ptree, ttree) = (program_tree(&program).unwrap(), trace.tree());
	let ctx = OneStepContext {
		program_root: ptree.root(),
		node_count: 1,
		input_count: 1,
		trace_root: ttree.root(),
		limits: Limits::NATIVE,
	};
	let limits = SubStepLimits::DEFAULT;
	let ins = trace.node_inputs(&program, 0).unwrap();
	let leaves = chunk_leaves(&trace.values[1]);
	let metas: Vec<Meta> = ins.iter().map(|t| Meta::of(t)).collect();
	let g = geometry(&Op::Gather { axis: 0 }, &metas, &limits).unwrap();
	for t in 0..2u64 {
		let w = substep_witness(&program, &ptree, &ttree, 1, &ins, &limits, (t, 0), None).unwrap();
		// 16 rows of 256 bytes a tile, each in its own chunk of the table; one chunk of ids.
		assert_eq!((w.inputs[0].chunks.len(), w.inputs[1].chunks.len()), (16, 1));
		assert_eq!(verify_substep(&ctx, 1, &w, &g).unwrap().leaf, leaves[t as usize]);
	}
	let honest = substep_witness(&program, &ptree, &ttree, 1, &ins, &limits, (1, 0), None).unwrap();
	let mut w = honest.clone();
	w.inputs[1].chunks.clear();
	// Without its indices the tile would read row 0 of the table: refused either way.
	let e = verify_substep(&ctx, 1, &w, &g).unwrap_err().to_string();
	assert!(e.contains("the sub-step reads chunks"), "{e}");
	let other = substep_witness(&program, &ptree, &ttree, 1, &ins, &limits, (0, 0), None).unwrap();
	let mut w = honest.clone();
	w.inputs[0].chunks = other.inputs[0].chunks.clone();
	let e = verify_substep(&ctx, 1, &w, &g).unwrap_err().to_string();
	assert!(e.contains("input 0: the sub-step reads chunks"), "{e}");
	let bad = Tensor::from_i64(vec![1, 32], &[3000; 32]);
	let metas = [Meta::of(ins[0]), Meta::of(&bad)];
	let g = geometry(&Op::Gather { axis: 0 }, &metas, &limits).unwrap();
	let e = run_substep(&Op::Gather { axis: 0 }, &[ins[0], &bad], &g, 0, 0, None).unwrap_err();
	assert!(e.to_string().contains("an index out of range"), "{e}");
}

/// A product whose tiles would read too much of B in one segment is cut further by the read
/// bound alone, and each of its sub-steps then reads within it.
#[test]
fn the_read_bound_cuts_a_wide_product() {
	let (m, k, n) = (4u32, 512u32, 1024u32);
	let ins = [
		Tensor::from_f32(vec![m, k], &vec![0.5; (m * k) as usize]),
		Tensor::from_f32(vec![k, n], &vec![0.25; (k * n) as usize]),
	];
	let metas: Vec<Meta> = ins.iter().map(Meta::of).collect();
	let free = SubStepLimits { max_work: 1 << 30, max_read_bytes: u64::MAX };
	assert_eq!(geometry(&Op::MatMul, &metas, &free).unwrap().segments, 1);
	let bound = SubStepLimits { max_work: 1 << 30, max_read_bytes: 256 << 10 };
	let g = geometry(&Op::MatMul, &metas, &bound).unwrap();
	// One tile is one row of B's 1024 columns: 512 rows of B (2 MiB) at one segment.
	assert_eq!(g.segments, 16);
	for t in 0..g.tiles() {
		for s in 0..g.segments {
			let r = reads(&Op::MatMul, &metas, &g, t, s).unwrap();
			let bytes: usize = r.iter().flatten().map(|r| r.len() * 4).sum();
			assert!(bytes as u64 <= bound.max_read_bytes, "tile {t} segment {s}: {bytes} bytes");
		}
	}
	let tight = SubStepLimits { max_work: 1 << 30, max_read_bytes: 1024 };
	let err = geometry(&Op::MatMul, &metas, &tight).unwrap_err().to_string();
	assert!(err.contains("cannot be cut into sub-steps"), "{err}");
}

/// Bad sub-step requests are errors: an operator without sub-steps, a geometry that is not
/// the node's, a missing or misplaced state, a tile or segment past the last.
#[test]
fn bad_substeps_are_errors() {
	let x = Tensor::from_f32(vec![1, 2, 8, 8], &[1.0; 128]);
	let w = Tensor::from_f32(vec![3, 2, 3, 3], &[0.5; 54]);
	let conv = Op::Conv { window: window((3, 3), (1, 1), (1, 1), [1, 1, 1, 1]), group: 1 };
	let metas = [Meta::of(&x), Meta::of(&w)];
	// 192 outputs, one tile: 7 terms a segment and the bias.
	let limits = SubStepLimits { max_work: 192 * 8, max_read_bytes: u64::MAX };
	let g = geometry(&conv, &metas, &limits).unwrap();
	assert_eq!((g.elements, g.terms, g.segments), (192, 18, 3));
	let ins = [&x, &w];
	let err = |r: edgeproof_canon::Result<Vec<u8>>| r.unwrap_err().to_string();
	let softmax = Op::Softmax { axis: 1, legacy: false };
	let e = geometry(&softmax, &[Meta::of(&x)], &limits).unwrap_err().to_string();
	assert!(e.contains("Softmax along axis 1 of [1, 2, 8, 8]: no sub-steps yet"), "{e}");
	let lrn =
		Op::Lrn { alpha: 1f32.to_bits(), beta: 1f32.to_bits(), bias: 1f32.to_bits(), size: 3 };
	let e = geometry(&lrn, &[Meta::of(&x)], &limits).unwrap_err().to_string();
	assert!(e.contains("LRN has no sub-steps yet"), "{e}");
	let other = Geometry { terms: 17, ..g };
	assert!(err(run_substep(&conv, &ins, &other, 0, 0, None)).contains("not a cut of this node"));
	let other = Geometry { segments: 19, ..g };
	assert!(err(run_substep(&conv, &ins, &other, 0, 0, None)).contains("19 segments of 18 terms"));
	assert!(err(run_substep(&conv, &ins, &g, 0, 1, None)).contains("needs the 768-byte state"));
	assert!(err(run_substep(&conv, &ins, &g, 0, 0, Some(&[0; 768]))).contains("starts from zeros"));
	assert!(
		err(run_substep(&conv, &ins, &g, 0, 1, Some(&[0; 8]))).contains("needs the 768-byte state")
	);
	assert!(err(run_substep(&conv, &ins, &g, 1, 0, None)).contains("no tile 1"));
	assert!(err(run_substep(&conv, &ins, &g, 0, 3, Some(&[0; 768]))).contains("no segment 3"));
	// A state is committed like a chunk of its accumulators: F32 NaN payloads alike, but
	// I32 sums (which may look like NaNs) as they are.
	let nan = |bits: u32| bits.to_le_bytes().repeat(4);
	assert_eq!(g.leaf(0, &nan(0x7fc0_0001)), g.leaf(0, &nan(CANONICAL_NAN)));
	let int8 = Geometry { output: DType::U8, ..g };
	assert_eq!(int8.accumulator(), DType::I32);
	assert_ne!(int8.leaf(0, &nan(0x7fc0_0001)), int8.leaf(0, &nan(CANONICAL_NAN)));
}

/// Light ResNet-50 (onnx wheel): every node heavier than one sub-step has a geometry within
/// the default limits, and one tile of each, through all its segments, is that node's value
/// in the trace.
#[test]
fn light_resnet50_heavy_nodes_are_cut_within_the_limits() {
	let path = common::onnx_testdata().join("light").join("light_resnet50.onnx");
	let compiled = compile(&std::fs::read(path).unwrap(), &CompileOptions::default()).unwrap();
	let program = compiled.program;
	let inputs: Vec<Tensor> = program
		.inputs
		.iter()
		.enumerate()
		.map(|(i, s)| common::seeded_tensor(7 + i as u64, &s.shape))
		.collect();
	let trace = execute(&program, &inputs).unwrap();
	let m = program.inputs.len();
	let limits = SubStepLimits::DEFAULT;
	let mut heavy = 0;
	for (j, node) in program.nodes.iter().enumerate() {
		let ins = trace.node_inputs(&program, j).unwrap();
		let metas: Vec<Meta> = ins.iter().map(|t| Meta::of(t)).collect();
		let out = &trace.values[m + j];
		let work = node_work(&node.op, &metas, &out.shape).unwrap();
		if work <= limits.max_work {
			continue;
		}
		heavy += 1;
		let g = geometry(&node.op, &metas, &limits).unwrap_or_else(|e| panic!("node {j}: {e}"));
		// One tile, spread over the node's tiles.
		let t = (j as u64 * 7919) % g.tiles();
		let mut state: Option<Vec<u8>> = None;
		for s in 0..g.segments {
			let r = reads(&node.op, &metas, &g, t, s).unwrap();
			let bytes: u64 = r
				.iter()
				.zip(&metas)
				.map(|(r, m)| r.iter().map(|r| r.len() as u64).sum::<u64>() * m.dtype.size() as u64)
				.sum();
			assert!(bytes <= limits.max_read_bytes, "node {j} tile {t} segment {s}: {bytes} bytes");
			state = Some(run_substep(&node.op, &ins, &g, t, s, state.as_deref()).unwrap());
		}
		let tile = g.tile(t).unwrap();
		let size = g.output.size();
		assert_eq!(
			committed(g.output, &state.unwrap()),
			committed(out.dtype, &out.data[tile.start * size..tile.end * size]),
			"node {j} ({}), tile {t}",
			node.op.describe()
		);
	}
	assert_eq!(heavy, 56, "light ResNet-50's nodes over 2^21 work");
}

/// A Conv (constants for its weights and bias) and a Relu reading it: every sub-step of three
/// tiles of each, through its witness, verifies and chains to the output chunk's leaf; a
/// tampered witness is refused, and a wrong state shows in the outcome's `from`.
#[test]
fn substep_witnesses_verify_and_tampering_is_refused() {
	let shape = [1u32, 8, 40, 40];
	let x = common::seeded_tensor(21, &shape);
	let constants =
		vec![common::seeded_tensor(22, &[16, 8, 3, 3]), common::seeded_tensor(23, &[16])];
	let conv = Op::Conv { window: window((3, 3), (1, 1), (1, 1), [1, 1, 1, 1]), group: 1 };
	let program = Program {
		inputs: vec![TensorSpec { dtype: DType::F32, shape: shape.to_vec() }],
		constants,
		nodes: vec![
			Node { op: conv, inputs: vec![Ref::Input(0), Ref::Const(0), Ref::Const(1)] },
			Node { op: Op::Relu, inputs: vec![Ref::Node(0)] },
		],
		outputs: vec![Ref::Node(1)],
	};
	let trace = execute(&program, &[x]).unwrap();
	let (ptree, ttree) = (program_tree(&program).unwrap(), trace.tree());
	let ctx = OneStepContext {
		program_root: ptree.root(),
		node_count: 2,
		input_count: 1,
		trace_root: ttree.root(),
		limits: Limits::NATIVE,
	};
	// 72 terms an output: 20 a segment with the bias within 21 per output.
	let limits = SubStepLimits { max_work: 1024 * 21, max_read_bytes: u64::MAX };
	let mut witnesses: Vec<SubStepWitness> = Vec::new();
	let mut cuts = Vec::new();
	for (k, segments) in [(1u64, 4), (2, 1)] {
		let ins = trace.node_inputs(&program, k as usize - 1).unwrap();
		let metas: Vec<Meta> = ins.iter().map(|t| Meta::of(t)).collect();
		let g = geometry(&program.nodes[k as usize - 1].op, &metas, &limits).unwrap();
		assert_eq!((g.tiles(), g.segments), (25, segments));
		// The cut witness fixes the same cut from headers alone, and the output's header.
		let cw = cut_witness(&program, &ptree, &ttree, k, &ins).unwrap();
		let cut = verify_cut(&ctx, k, &cw, &limits, u64::MAX).unwrap();
		assert_eq!((cut.geometry, &cut.output), (g, &TensorHeader::of(&trace.values[k as usize])));
		// The cost counts the sub-steps whose reads were listed (each cut was checked at one
		// count of segments) and the ranges they list; a smaller budget refuses the cut.
		assert!(cut.cost > g.substeps(), "{}", cut.cost);
		assert!(verify_cut(&ctx, k, &cw, &limits, cut.cost - 1).is_err());
		cuts.push(g);
		let leaves = chunk_leaves(&trace.values[k as usize]);
		for t in [0, 12, 24] {
			let (mut state, mut from) = (None::<Vec<u8>>, None);
			for s in 0..g.segments {
				let w = substep_witness(
					&program,
					&ptree,
					&ttree,
					k,
					&ins,
					&limits,
					(t, s),
					state.clone(),
				)
				.unwrap();
				let outcome = verify_substep(&ctx, k, &w, &g).unwrap();
				assert_eq!(outcome.from, from);
				let next = run_substep(
					&program.nodes[k as usize - 1].op,
					&ins,
					&g,
					t,
					s,
					state.as_deref(),
				)
				.unwrap();
				assert_eq!(outcome.leaf, g.leaf(s, &next));
				(state, from) = (Some(next), Some(outcome.leaf));
				witnesses.push(w);
			}
			assert_eq!(
				from,
				Some(leaves[t as usize]),
				"node {k} tile {t}: the last sub-step is the chunk"
			);
		}
	}
	// The Conv's tile 12, segment 1: chunks of x and of the weights, a state.
	let honest = witnesses[5].clone();
	assert_eq!((honest.tile, honest.segment), (12, 1));
	let conv_cut = cuts[0];
	let refused = |w: &SubStepWitness, k: u64, why: &str| {
		let e = verify_substep(&ctx, k, w, &conv_cut).unwrap_err().to_string();
		assert!(e.contains(why), "{why}: {e}");
	};
	let mut w = honest.clone();
	w.inputs[0].chunks[0].0[3] ^= 1;
	refused(&w, 1, "is not its");
	let mut w = honest.clone();
	w.inputs[0].chunks.pop();
	refused(&w, 1, "the sub-step reads chunks");
	let mut w = honest.clone();
	let extra = w.inputs[1].chunks[0].clone();
	w.inputs[1].chunks.insert(0, extra);
	refused(&w, 1, "the sub-step reads chunks");
	let mut w = honest.clone();
	w.inputs[0].input.leaf.as_mut().unwrap().index = 1;
	refused(&w, 1, "input 0 is not the node's");
	let mut w = honest.clone();
	w.inputs[1].input.leaf = w.inputs[0].input.leaf.clone();
	refused(&w, 1, "input 1 is not the node's");
	let mut w = honest.clone();
	w.inputs[0].input.header.shape = vec![1, 8, 1600];
	refused(&w, 1, "input 0 is not the node's");
	let mut w = honest.clone();
	w.node_proof.index = 1;
	refused(&w, 1, "not in the program");
	refused(&honest, 0, "not a node leaf");
	refused(&honest, 2, "not in the program");
	let mut w = honest.clone();
	w.tile = 25;
	refused(&w, 1, "no tile 25");
	let other = OneStepContext { trace_root: [7; 32], ..ctx };
	let e = verify_substep(&other, 1, &honest, &conv_cut).unwrap_err().to_string();
	assert!(e.contains("input 0 is not the node's"), "{e}");
	// A state that is not the agreed one runs, and says so.
	let mut w = honest.clone();
	w.state.as_mut().unwrap()[0] ^= 1;
	let outcome = verify_substep(&ctx, 1, &w, &conv_cut).unwrap();
	let agreed = verify_substep(&ctx, 1, &honest, &conv_cut).unwrap();
	assert_ne!(outcome.from, agreed.from);
	// A cut that is not the node's (other terms, more segments than terms, another dtype).
	for wrong in [
		Geometry { terms: 71, ..conv_cut },
		Geometry { segments: 73, ..conv_cut },
		Geometry { output: DType::I32, ..conv_cut },
		Geometry { elements: conv_cut.elements + 1, ..conv_cut },
	] {
		let e = verify_substep(&ctx, 1, &honest, &wrong).unwrap_err().to_string();
		assert!(e.contains("is not a cut of"), "{e}");
	}
	// The Relu's witness proves its input's chunks in the trace (a node leaf).
	let relu = witnesses.iter().find(|w| w.node.op == Op::Relu && w.tile == 12).unwrap();
	assert_eq!(relu.inputs[0].input.leaf.as_ref().unwrap().index, 1);
	assert_eq!(relu.inputs[0].chunks.len(), 1);
	// A cut witness is checked as a sub-step's inputs are.
	let ins = trace.node_inputs(&program, 0).unwrap();
	let honest = cut_witness(&program, &ptree, &ttree, 1, &ins).unwrap();
	let refused = |w: &CutWitness, k: u64, why: &str| {
		let e = verify_cut(&ctx, k, w, &limits, u64::MAX).unwrap_err().to_string();
		assert!(e.contains(why), "{why}: {e}");
	};
	let mut w = honest.clone();
	w.inputs[0].data_root[0] ^= 1;
	refused(&w, 1, "input 0 is not the node's");
	let mut w = honest.clone();
	w.inputs[2].header.shape = vec![8];
	refused(&w, 1, "input 2");
	let mut w = honest.clone();
	w.inputs.pop();
	refused(&w, 1, "2 inputs for a node of 3");
	refused(&honest, 2, "not in the program");
	let e = verify_cut(&other, 1, &honest, &limits, u64::MAX).unwrap_err().to_string();
	assert!(e.contains("input 0 is not the node's"), "{e}");
	let tight = SubStepLimits { max_work: 16, max_read_bytes: u64::MAX };
	assert!(verify_cut(&ctx, 1, &honest, &tight, u64::MAX).is_err(), "no cut within 16 work units");
}
