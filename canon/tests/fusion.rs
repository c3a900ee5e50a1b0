//! Fused nodes: the compiler's fusion (of elementwise runs and the convolution before them)
//! gives the same outputs bit for bit and drops only intermediate values (random programs with
//! NaNs, infinities, denormals and signed zeros; the real models are checked in
//! real_models.rs), and the executor refuses a malformed fused node with an error.

mod common;

use common::awkward_f32;
use edgeproof_canon::{
	commit_trace,
	compiler::fuse_elementwise,
	execute, execute_node, leaf_hash,
	ops::{execute_op, fused::MAX_FUSED_STEPS},
	AutoPad, DType, FusedStep, Limits, Node, Op, Program, Ref, StepArg, Tensor, TensorSpec, Window,
};
use proptest::prelude::*;

fn f32_bits(v: f32) -> u32 {
	v.to_bits()
}

/// A program as the compiler has it before fusion: its outputs not yet at the tail.
fn program(shape: &[u32], constants: Vec<Tensor>, nodes: Vec<Node>, outputs: &[u32]) -> Program {
	Program {
		inputs: vec![TensorSpec { dtype: DType::F32, shape: shape.to_vec() }],
		constants,
		nodes,
		outputs: outputs.iter().map(|&j| Ref::Node(j)).collect(),
	}
}

/// `p` unfused, with the tail rule established.
fn tailed(p: &Program) -> Program {
	let mut t = p.clone();
	t.move_outputs_to_tail();
	t
}

/// `p` fused, then with the tail rule established (the compiler's order).
fn fused(p: &Program) -> Program {
	let mut f = p.clone();
	fuse_elementwise(&mut f, &Limits::NATIVE).expect("fuses");
	f.move_outputs_to_tail();
	f.validate(&Limits::NATIVE).expect("the fused program is valid");
	f
}

fn node(op: Op, inputs: &[Ref]) -> Node {
	Node { op, inputs: inputs.to_vec() }
}

/// HardSwish as PP-OCR exports it after a non-elementwise node, `y = x * clip(x + 3, 0, 6) / 6`.
fn hard_swish_program() -> (Program, Vec<Tensor>) {
	let constants = vec![Tensor::from_f32(vec![], &[3.0]), Tensor::from_f32(vec![], &[6.0])];
	let clip = Op::Clip { min: Some(f32_bits(0.0)), max: Some(f32_bits(6.0)) };
	let nodes = vec![
		node(Op::Softmax { axis: -1, legacy: false }, &[Ref::Input(0)]),
		node(Op::Add, &[Ref::Node(0), Ref::Const(0)]),
		node(clip, &[Ref::Node(1)]),
		node(Op::Mul, &[Ref::Node(0), Ref::Node(2)]),
		node(Op::Div, &[Ref::Node(3), Ref::Const(1)]),
	];
	let x = Tensor::from_f32(vec![2, 3], &[-4.0, -1.0, 0.0, 1.5, 3.0, f32::NAN]);
	(program(&[2, 3], constants, nodes, &[4]), vec![x])
}

#[test]
fn a_hard_swish_chain_becomes_one_node_with_the_same_value() {
	let (p, inputs) = hard_swish_program();
	let f = fused(&p);
	let p = tailed(&p);
	assert_eq!(f.nodes.len(), 2);
	let clip = Op::Clip { min: Some(f32_bits(0.0)), max: Some(f32_bits(6.0)) };
	let step = |op: Op, args: &[StepArg]| FusedStep { op, args: args.to_vec() };
	assert_eq!(
		f.nodes[1],
		node(
			Op::Fused {
				steps: vec![
					step(Op::Add, &[StepArg::Input(0), StepArg::Input(1)]),
					step(clip, &[StepArg::Step(0)]),
					step(Op::Mul, &[StepArg::Input(0), StepArg::Step(1)]),
					step(Op::Div, &[StepArg::Step(2), StepArg::Input(2)]),
				]
			},
			&[Ref::Node(0), Ref::Const(0), Ref::Const(1)]
		)
	);
	assert_eq!(f.outputs, vec![Ref::Node(1)]);
	let (a, b) = (execute(&p, &inputs).unwrap(), execute(&f, &inputs).unwrap());
	assert_eq!(a.outputs(&p).unwrap(), b.outputs(&f).unwrap());
	assert_eq!(b.leaf_hashes(), [0, 1, 5].map(|i| a.leaf_hashes()[i]));
}

/// A window of `kernel` taps on each of `dims` spatial axes, stride 1, padded to keep the size.
fn same_window(dims: usize, kernel: u32) -> Window {
	Window {
		kernel: vec![kernel; dims],
		strides: vec![1; dims],
		dilations: vec![1; dims],
		pads: vec![kernel / 2; 2 * dims],
		auto_pad: AutoPad::NotSet,
		ceil_mode: false,
	}
}

#[test]
fn a_conv_with_batch_norm_relu_and_a_residual_add_becomes_one_node() {
	// x -> Conv(w, b) -> BatchNormalization -> Add(x) -> Relu, as ResNet-style blocks export.
	let (c, hw) = (2u32, 3u32);
	let n = (c * hw * hw) as usize;
	let x = Tensor::from_f32(
		vec![1, c, hw, hw],
		&(0..n).map(|i| [-1.5, 0.25, f32::NAN, -0.0, 3.0, 1e-40][i % 6]).collect::<Vec<_>>(),
	);
	let constants = vec![
		Tensor::from_f32(
			vec![c, c, 3, 3],
			&(0..36).map(|i| (i as f32 - 17.0) / 8.0).collect::<Vec<_>>(),
		),
		Tensor::from_f32(vec![c], &[0.5, -0.25]),
		Tensor::from_f32(vec![c], &[1.5, 0.75]),
		Tensor::from_f32(vec![c], &[0.1, -0.1]),
		Tensor::from_f32(vec![c], &[0.2, 0.3]),
		Tensor::from_f32(vec![c], &[1.0, 2.0]),
	];
	let conv = Op::Conv { window: same_window(2, 3), group: 1 };
	let bn = Op::BatchNormalization { epsilon: f32_bits(1e-5) };
	let nodes = vec![
		node(conv.clone(), &[Ref::Input(0), Ref::Const(0), Ref::Const(1)]),
		node(
			bn.clone(),
			&[Ref::Node(0), Ref::Const(2), Ref::Const(3), Ref::Const(4), Ref::Const(5)],
		),
		node(Op::Add, &[Ref::Node(1), Ref::Input(0)]),
		node(Op::Relu, &[Ref::Node(2)]),
	];
	let p = program(&[1, c, hw, hw], constants, nodes, &[3]);
	let f = fused(&p);
	let p = tailed(&p);
	let i = StepArg::Input;
	let step = |op: Op, args: &[StepArg]| FusedStep { op, args: args.to_vec() };
	let steps = vec![
		step(conv, &[i(0), i(1), i(2)]),
		step(bn, &[StepArg::Step(0), i(3), i(4), i(5), i(6)]),
		step(Op::Add, &[StepArg::Step(1), i(0)]),
		step(Op::Relu, &[StepArg::Step(2)]),
	];
	let inputs = [Ref::Input(0), Ref::Const(0), Ref::Const(1)]
		.into_iter()
		.chain((2..6).map(Ref::Const))
		.collect::<Vec<_>>();
	assert_eq!(f.nodes, vec![node(Op::Fused { steps }, &inputs)]);
	assert_eq!(f.nodes[0].op.describe(), "Conv fused with 3 elementwise steps");
	let (a, b) = (
		execute(&p, std::slice::from_ref(&x)).unwrap(),
		execute(&f, std::slice::from_ref(&x)).unwrap(),
	);
	assert_eq!(a.outputs(&p).unwrap(), b.outputs(&f).unwrap());
	assert_eq!(b.leaf_hashes(), [0, 4].map(|k| a.leaf_hashes()[k]));
	// Its work: the convolution's multiply-adds (18 outputs x 18 taps) and one per output
	// element for each of the three other steps.
	let ins: Vec<&Tensor> = [&x].into_iter().chain(&f.constants).collect();
	let work = |w| Limits { max_node_work: w, ..Limits::NATIVE };
	assert!(execute_op(&f.nodes[0].op, &ins, &work(18 * 18 + 3 * 18)).is_ok());
	assert!(execute_op(&f.nodes[0].op, &ins, &work(18 * 18 + 3 * 18 - 1)).is_err());
}

#[test]
fn a_conv_read_elsewhere_is_not_a_head() {
	// The Conv's value also feeds a Softmax: the Relu after it fuses with nothing.
	let constants = vec![Tensor::from_f32(vec![1, 1, 1], &[2.0])];
	let conv = Op::Conv { window: same_window(1, 1), group: 1 };
	let nodes = vec![
		node(conv, &[Ref::Input(0), Ref::Const(0)]),
		node(Op::Relu, &[Ref::Node(0)]),
		node(Op::Softmax { axis: -1, legacy: false }, &[Ref::Node(0)]),
	];
	let p = program(&[1, 1, 4], constants, nodes, &[1, 2]);
	let names: Vec<_> = fused(&p).nodes.iter().map(|n| n.op.name()).collect();
	assert_eq!(names, ["Conv", "Relu", "Softmax"]);
}

#[test]
fn an_intermediate_read_elsewhere_or_output_stays_a_leaf() {
	// Node 2 (the Clip) is also a program output; node 1 (x + 3) is read by the non-fusable
	// Softmax at the end: both stay nodes of their own.
	let (mut p, inputs) = hard_swish_program();
	p.nodes.push(node(Op::Softmax { axis: -1, legacy: false }, &[Ref::Node(1)]));
	p.outputs = vec![Ref::Node(2), Ref::Node(5)];
	let f = fused(&p);
	let p = tailed(&p);
	let names: Vec<_> = f.nodes.iter().map(|n| n.op.name()).collect();
	assert_eq!(names, ["Softmax", "Add", "Clip", "Fused", "Softmax", "Identity", "Identity"]);
	let (a, b) = (execute(&p, &inputs).unwrap(), execute(&f, &inputs).unwrap());
	assert_eq!(a.outputs(&p).unwrap(), b.outputs(&f).unwrap());
}

#[test]
fn a_long_chain_is_cut_every_max_fused_steps() {
	let n = 2 * MAX_FUSED_STEPS + 3;
	let nodes: Vec<Node> = (0..n)
		.map(|j| {
			let from = if j == 0 { Ref::Input(0) } else { Ref::Node(j as u32 - 1) };
			node(if j % 2 == 0 { Op::Tanh } else { Op::Neg }, &[from])
		})
		.collect();
	let p = program(&[4], vec![], nodes, &[n as u32 - 1]);
	let f = fused(&p);
	let p = tailed(&p);
	let steps: Vec<usize> = f
		.nodes
		.iter()
		.map(|n| match &n.op {
			Op::Fused { steps } => steps.len(),
			_ => 1,
		})
		.collect();
	assert_eq!(steps, [MAX_FUSED_STEPS, MAX_FUSED_STEPS, 3]);
	let x = vec![Tensor::from_f32(vec![4], &[-1.0, 0.25, f32::INFINITY, -0.0])];
	assert_eq!(
		execute(&p, &x).unwrap().outputs(&p).unwrap(),
		execute(&f, &x).unwrap().outputs(&f).unwrap()
	);
}

#[test]
fn a_group_past_the_step_bytes_limit_stays_unfused() {
	// x + c0 then * c1: fused, the node would read x, c0 and c1 (24 + 4 + 4 bytes); unfused,
	// each node reads at most 28.
	let constants = vec![Tensor::from_f32(vec![1], &[1.0]), Tensor::from_f32(vec![1], &[2.0])];
	let nodes = vec![
		node(Op::Add, &[Ref::Input(0), Ref::Const(0)]),
		node(Op::Mul, &[Ref::Node(0), Ref::Const(1)]),
	];
	let p = program(&[6], constants, nodes, &[1]);
	let mut tight = p.clone();
	fuse_elementwise(&mut tight, &Limits { max_step_bytes: 28, ..Limits::NATIVE }).unwrap();
	assert_eq!(tight, p);
	let mut loose = p.clone();
	fuse_elementwise(&mut loose, &Limits { max_step_bytes: 32, ..Limits::NATIVE }).unwrap();
	assert_eq!(loose.nodes.len(), 1);
}

fn steps_node(steps: Vec<FusedStep>) -> Node {
	node(Op::Fused { steps }, &[Ref::Input(0), Ref::Input(1)])
}

#[test]
fn malformed_fused_nodes_are_errors() {
	let x = Tensor::from_f32(vec![2], &[1.0, -2.0]);
	let c = Tensor::from_f32(vec![3, 2], &[0.5; 6]);
	let step = |op: Op, args: &[StepArg]| FusedStep { op, args: args.to_vec() };
	let relu = |a| step(Op::Relu, &[a]);
	let conv = Op::Conv {
		window: edgeproof_canon::Window {
			kernel: vec![1],
			strides: vec![1],
			dilations: vec![1],
			pads: vec![0, 0],
			auto_pad: edgeproof_canon::AutoPad::NotSet,
			ceil_mode: false,
		},
		group: 1,
	};
	let nested = Op::Fused { steps: vec![relu(StepArg::Input(0))] };
	let cases: Vec<(&str, Vec<FusedStep>)> = vec![
		("no steps", vec![]),
		("too many steps", vec![relu(StepArg::Input(0)); MAX_FUSED_STEPS + 1]),
		(
			"a head on operands it rejects",
			vec![step(conv.clone(), &[StepArg::Input(0), StepArg::Input(1)])],
		),
		(
			"a head after the first step",
			vec![relu(StepArg::Input(0)), step(conv, &[StepArg::Step(0), StepArg::Input(1)])],
		),
		(
			"not elementwise, not a head",
			vec![step(Op::Softmax { axis: -1, legacy: false }, &[StepArg::Input(0)])],
		),
		("nested", vec![step(nested, &[StepArg::Input(0)])]),
		("a later step", vec![relu(StepArg::Step(1)), relu(StepArg::Input(0))]),
		("its own step", vec![relu(StepArg::Step(0))]),
		("no such input", vec![relu(StepArg::Input(2))]),
		("binary with one operand", vec![step(Op::Add, &[StepArg::Input(0)])]),
		("unary with two", vec![step(Op::Relu, &[StepArg::Input(0), StepArg::Input(0)])]),
		(
			"steps shaped differently",
			vec![step(Op::Add, &[StepArg::Input(0), StepArg::Input(1)]), relu(StepArg::Input(0))],
		),
		("Sum is not a step", vec![step(Op::Sum, &[StepArg::Input(0), StepArg::Input(0)])]),
	];
	for (what, steps) in cases {
		let n = steps_node(steps);
		assert!(execute_node(&n, &[&x, &c]).is_err(), "{what}: accepted");
	}
	// An integer input.
	let i = Tensor::from_i64(vec![2], &[1, 2]);
	let n = steps_node(vec![relu(StepArg::Input(0))]);
	assert!(execute_node(&n, &[&i, &c]).is_err(), "an I64 input: accepted");
	// The well-formed node the cases above break.
	let ok = steps_node(vec![
		step(Op::Add, &[StepArg::Input(1), StepArg::Input(0)]),
		relu(StepArg::Step(0)),
	]);
	assert_eq!(execute_node(&ok, &[&x, &c]).unwrap().shape, vec![3, 2]);
}

const BINARY: [Op; 7] = [Op::Add, Op::Sub, Op::Mul, Op::Div, Op::Pow, Op::Max, Op::Min];

fn unary(k: u8) -> Op {
	match k % 12 {
		0 => Op::Relu,
		1 => Op::Sigmoid,
		2 => Op::Tanh,
		3 => Op::Exp,
		4 => Op::Neg,
		5 => Op::Sqrt,
		6 => Op::Clip { min: Some(f32_bits(-1.5)), max: Some(f32_bits(2.0)) },
		7 => Op::HardSwish,
		8 => Op::HardSigmoid { alpha: f32_bits(0.2), beta: f32_bits(0.5) },
		9 => Op::LeakyRelu { alpha: f32_bits(0.01) },
		10 => Op::Round,
		_ => Op::Reciprocal,
	}
}

/// One random node: (kind, operand picks, operator pick).
type Pick = (u8, usize, usize, u8);

/// A random program over x (shape `shape`) and four broadcast constants: elementwise nodes
/// reading x, earlier nodes and constants, with BatchNormalization, Conv and ConvTranspose
/// heads, and a Softmax now and then to break the runs; the outputs are the last node and one
/// earlier node.
fn random_program(
	shape: &[u32],
	ones: u8,
	values: &[f32],
	picks: &[Pick],
	extra_output: usize,
) -> (Program, Vec<Tensor>) {
	let take = |n: usize, at: usize| -> Vec<f32> {
		(0..n).map(|i| values[(at + i) % values.len()]).collect()
	};
	let numel = |s: &[u32]| s.iter().product::<u32>() as usize;
	// Constant k: the shape with the axes whose bit is set in `ones` (rotated by k) made 1.
	let mut constants: Vec<Tensor> = (0..4u32)
		.map(|k| {
			let s: Vec<u32> = shape
				.iter()
				.enumerate()
				.map(|(a, &d)| if (ones.rotate_left(k) >> a) & 1 == 1 { 1 } else { d })
				.collect();
			Tensor::from_f32(s.clone(), &take(numel(&s), 7 * k as usize))
		})
		.collect();
	let channels = shape.get(1).copied();
	if let Some(c) = channels {
		// BatchNormalization's scale, bias, mean and variance.
		for k in 0..4 {
			let v: Vec<f32> = take(c as usize, 3 + k)
				.into_iter()
				.map(|v| if k == 3 { v.abs() } else { v })
				.collect();
			constants.push(Tensor::from_f32(vec![c], &v));
		}
	}
	// A convolution head over [N, C, spatial...] (constants 8 and 9: a [C, C, 3, ...] weight,
	// for Conv and ConvTranspose alike, and a bias), 3 taps padded by 1 so it keeps the shape.
	let spatial = shape.len().saturating_sub(2);
	let heads = match channels {
		Some(c) if spatial > 0 => {
			let w: Vec<u32> = [c, c].into_iter().chain(vec![3; spatial]).collect();
			constants.push(Tensor::from_f32(w.clone(), &take(numel(&w), 5)));
			constants.push(Tensor::from_f32(vec![c], &take(c as usize, 9)));
			true
		},
		_ => false,
	};
	let mut nodes: Vec<Node> = Vec::new();
	for &(kind, a, b, op) in picks {
		let j = nodes.len();
		let value = |pick: usize| match pick % (j + 1) {
			0 => Ref::Input(0),
			k => Ref::Node(k as u32 - 1),
		};
		let n = match kind % 9 {
			0..=2 => {
				let other = if b % 2 == 0 { Ref::Const((b / 2 % 4) as u32) } else { value(b) };
				let (l, r) = if op % 2 == 0 { (value(a), other) } else { (other, value(a)) };
				node(BINARY[op as usize % BINARY.len()].clone(), &[l, r])
			},
			3..=5 => node(unary(op), &[value(a)]),
			6 if channels.is_some() => node(
				Op::BatchNormalization { epsilon: f32_bits(1e-5) },
				&[value(a), Ref::Const(4), Ref::Const(5), Ref::Const(6), Ref::Const(7)],
			),
			7 if heads => {
				let window = same_window(spatial, 3);
				let (op, bias) = match op % 3 {
					0 => (Op::Conv { window, group: 1 }, true),
					1 => (Op::Conv { window, group: 1 }, false),
					_ => (
						Op::ConvTranspose { window, group: 1, output_padding: vec![0; spatial] },
						true,
					),
				};
				let ins = [value(a), Ref::Const(8), Ref::Const(9)];
				node(op, &ins[..if bias { 3 } else { 2 }])
			},
			_ => node(Op::Softmax { axis: -1, legacy: false }, &[value(a)]),
		};
		nodes.push(n);
	}
	let last = nodes.len() as u32 - 1;
	let outputs = [last, (extra_output % nodes.len()) as u32];
	let x = Tensor::from_f32(shape.to_vec(), &take(numel(shape), 11));
	(program(shape, constants, nodes, &outputs), vec![x])
}

/// Fuses `p` and checks the fused program against the unfused one: the same outputs bit for
/// bit, every fused leaf a later unfused leaf, the streamed commitment the whole trace's.
fn check_fusion(p: &Program, inputs: &[Tensor]) -> Result<(), TestCaseError> {
	let f = fused(p);
	let p = tailed(p);
	let (a, b) = (execute(&p, inputs).unwrap(), execute(&f, inputs).unwrap());
	let hashes = |outs: Vec<Tensor>| outs.iter().map(leaf_hash).collect::<Vec<_>>();
	prop_assert_eq!(hashes(a.outputs(&p).unwrap()), hashes(b.outputs(&f).unwrap()));
	let mut unfused = a.leaf_hashes().into_iter();
	for h in b.leaf_hashes() {
		prop_assert!(unfused.any(|u| u == h), "a fused leaf is no later unfused leaf");
	}
	let streamed = commit_trace(&f, inputs, &Limits::NATIVE, false).unwrap();
	prop_assert_eq!(streamed.leaves, b.leaf_hashes());
	Ok(())
}

proptest! {
	#![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

	#[test]
	fn fusion_keeps_the_outputs_and_drops_only_intermediates(
		shape in proptest::collection::vec(1u32..5, 1..5),
		ones in any::<u8>(),
		values in proptest::collection::vec(awkward_f32(), 1..48),
		picks in proptest::collection::vec(any::<Pick>(), 1..24),
		extra_output in any::<usize>(),
	) {
		let (p, inputs) = random_program(&shape, ones, &values, &picks, extra_output);
		check_fusion(&p, &inputs)?;
	}
}

proptest! {
	#![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

	/// Tensors of many blocks of the fused evaluation (up to 29 400 elements, rows and
	/// channels not aligned to the blocks).
	#[test]
	fn fusion_keeps_the_outputs_of_large_tensors(
		shape in (1u32..3, 1u32..4, 30u32..71, 30u32..71).prop_map(|(n, c, h, w)| vec![n, c, h, w]),
		ones in any::<u8>(),
		values in proptest::collection::vec(awkward_f32(), 1..48),
		picks in proptest::collection::vec(any::<Pick>(), 1..12),
		extra_output in any::<usize>(),
	) {
		let (p, inputs) = random_program(&shape, ones, &values, &picks, extra_output);
		check_fusion(&p, &inputs)?;
	}
}
