//! Sharing a recurrence between the outputs a model reads: one LSTM or GRU node computes all
//! outputs, and each output is read out of it, with the same values bit for bit.

mod common;

use common::awkward_f32;
use edgeproof_canon::{
	compiler::share_recurrent, execute, leaf_hash, DType, Limits, Node, Op, Program, Ref,
	RnnDirection, Tensor, TensorSpec,
};
use proptest::prelude::*;

/// An LSTM (`gates` 4) or GRU (3) over X `[seq, batch, input]` whose every output is a program
/// output, one node per output as lowering makes them.
fn recurrent_program(
	gates: u32,
	direction: RnnDirection,
	(seq, batch, input, hidden): (u32, u32, u32, u32),
	values: &[f32],
	absent_b: bool,
	linear_before_reset: bool,
) -> (Program, Vec<Tensor>) {
	let d = if direction == RnnDirection::Bidirectional { 2 } else { 1 };
	let take = |shape: Vec<u32>, at: usize| {
		let n = shape.iter().product::<u32>() as usize;
		let v: Vec<f32> = (0..n).map(|i| values[(at + 3 * i) % values.len()]).collect();
		Tensor::from_f32(shape, &v)
	};
	let b = if absent_b {
		Tensor::from_f32(vec![d, 2 * gates * hidden], &vec![0.0; (d * 2 * gates * hidden) as usize])
	} else {
		take(vec![d, 2 * gates * hidden], 5)
	};
	let mut constants = vec![
		take(vec![d, gates * hidden, input], 1),
		take(vec![d, gates * hidden, hidden], 2),
		b,
		take(vec![d, batch, hidden], 3),
		take(vec![d, batch, hidden], 4),
	];
	let states = if gates == 4 { 2 } else { 1 };
	let mut nodes = Vec::new();
	for output in 0..=states as u8 {
		// Each node its own copy of the zeros of an absent B, as lowering supplies them.
		let b_ref = if absent_b && output > 0 {
			constants.push(constants[2].clone());
			Ref::Const(constants.len() as u32 - 1)
		} else {
			Ref::Const(2)
		};
		let mut inputs = vec![Ref::Input(0), Ref::Const(0), Ref::Const(1), b_ref, Ref::Const(3)];
		if gates == 4 {
			inputs.push(Ref::Const(4));
		}
		let op = if gates == 4 {
			Op::Lstm { hidden, direction, output }
		} else {
			Op::Gru { hidden, direction, output, linear_before_reset }
		};
		nodes.push(Node { op, inputs });
	}
	let outputs = (0..nodes.len() as u32).map(Ref::Node).collect();
	let x = take(vec![seq, batch, input], 7);
	let program = Program {
		inputs: vec![TensorSpec { dtype: DType::F32, shape: vec![seq, batch, input] }],
		constants,
		nodes,
		outputs,
	};
	(program, vec![x])
}

fn check(p: &Program, inputs: &[Tensor]) -> Result<Program, TestCaseError> {
	let mut shared = p.clone();
	share_recurrent(&mut shared).unwrap();
	shared.validate(&Limits::NATIVE).unwrap();
	let (a, b) = (execute(p, inputs).unwrap(), execute(&shared, inputs).unwrap());
	let hashes = |t: Vec<Tensor>| t.iter().map(leaf_hash).collect::<Vec<_>>();
	prop_assert_eq!(hashes(a.outputs(p).unwrap()), hashes(b.outputs(&shared).unwrap()));
	Ok(shared)
}

#[test]
fn an_lstm_read_for_all_three_outputs_runs_once() {
	let values = [0.5, -0.25, 1.5, -2.0, 0.125, 3.0, -0.75];
	let (p, x) = recurrent_program(4, RnnDirection::Forward, (3, 2, 4, 5), &values, false, false);
	let shared = check(&p, &x).unwrap();
	let names: Vec<_> = shared.nodes.iter().map(|n| n.op.name()).collect();
	assert_eq!(names, ["LSTM", "Slice", "Gather", "Gather"]);
	assert!(matches!(shared.nodes[0].op, Op::Lstm { output: 3, .. }));
	// Y_h is step 3 (after Y's 3 steps), Y_c step 4.
	let index = |k: usize| match shared.nodes[k].inputs[1] {
		Ref::Const(c) => shared.constants[c as usize].int_values().unwrap(),
		_ => panic!("not a constant"),
	};
	assert_eq!((index(2), index(3)), (vec![3], vec![4]));
}

#[test]
fn one_output_or_different_inputs_stay_as_they_are() {
	let values = [0.5, -0.25, 1.5];
	let (mut p, _) =
		recurrent_program(4, RnnDirection::Forward, (2, 1, 3, 2), &values, false, false);
	p.nodes.truncate(1);
	p.outputs.truncate(1);
	let mut q = p.clone();
	share_recurrent(&mut q).unwrap();
	assert_eq!(q, p);
	// A node that already computes all outputs is left as it is.
	let (mut p, _) =
		recurrent_program(4, RnnDirection::Forward, (2, 1, 3, 2), &values, false, false);
	for node in &mut p.nodes {
		node.op = Op::Lstm { hidden: 2, direction: RnnDirection::Forward, output: 3 };
	}
	let mut q = p.clone();
	share_recurrent(&mut q).unwrap();
	assert_eq!(q, p);
	// Two LSTMs over different weights.
	let (mut p, _) =
		recurrent_program(4, RnnDirection::Forward, (2, 1, 3, 2), &values, false, false);
	p.constants.push(p.constants[0].clone());
	p.nodes[1].inputs[1] = Ref::Const(p.constants.len() as u32 - 1);
	p.constants.last_mut().unwrap().data[0] ^= 1;
	p.nodes.truncate(2);
	p.outputs.truncate(2);
	let mut q = p.clone();
	share_recurrent(&mut q).unwrap();
	assert_eq!(q, p);
}

proptest! {
	#![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

	/// LSTM and GRU (with and without `linear_before_reset`), every direction, absent B as
	/// per-node zeros: the shared program's outputs are the unshared program's bit for bit
	/// (NaNs, infinities, denormals, signed zeros).
	#[test]
	fn shared_recurrences_give_the_same_outputs(
		lstm in any::<bool>(),
		direction in 0u8..3,
		dims in (1u32..4, 1u32..3, 1u32..4, 1u32..4),
		values in proptest::collection::vec(awkward_f32(), 1..32),
		absent_b in any::<bool>(),
		linear_before_reset in any::<bool>(),
	) {
		let direction = [RnnDirection::Forward, RnnDirection::Reverse, RnnDirection::Bidirectional]
			[direction as usize];
		let gates = if lstm { 4 } else { 3 };
		let (p, x) =
			recurrent_program(gates, direction, dims, &values, absent_b, linear_before_reset);
		let shared = check(&p, &x)?;
		prop_assert_eq!(shared.nodes.len(), p.nodes.len() + 1);
	}
}
