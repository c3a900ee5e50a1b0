//! Running a recurrence once when a model reads several of its outputs.
//!
//! Lowering makes one node per used output of an ONNX LSTM or GRU (Y, Y_h, Y_c), each running
//! the whole recurrence. This pass finds nodes of one recurrent operator (the same attributes
//! but `output`) on the same inputs and replaces them with one node computing all outputs at
//! once (`output` = 3 for LSTM, 2 for GRU: `[S + states, D, N, H]`, Y's steps then the states;
//! see `ops::rnn`), at the position of the first, and, at each one's position, the node that
//! reads its output out of it: Y is `Slice` of the first S steps along axis 0, a state is
//! `Gather` of its step (a scalar I64 index constant) along axis 0. Those are copies, so every
//! value the program had is unchanged bit for bit; the recurrence just runs once.

use alloc::{format, vec, vec::Vec};

use crate::{
	error::{CanonError, Result},
	program::{Node, Op, Program, Ref},
	tensor::Tensor,
};

/// A recurrent `op` with its output selector set to 0 (what the nodes of a group share) or,
/// with `all`, to the selector of all outputs (3 for LSTM, 2 for GRU); `None` for any other
/// operator, and for a node that already computes all outputs.
fn selecting(op: &Op, all: bool) -> Option<Op> {
	let pick = |every: u8| if all { every } else { 0 };
	match *op {
		Op::Lstm { hidden, direction, output } if output < 3 => {
			Some(Op::Lstm { hidden, direction, output: pick(3) })
		},
		Op::Gru { hidden, direction, linear_before_reset, output } if output < 2 => {
			Some(Op::Gru { hidden, direction, output: pick(2), linear_before_reset })
		},
		_ => None,
	}
}

/// Shares the recurrences of `program` (see the module's rules). [`compile`](super::compile)
/// runs it on every program; public for tests and tools.
pub fn share_recurrent(program: &mut Program) -> Result<()> {
	let n = program.nodes.len();
	// `first[j]`: for a recurrent node, the first node of its group (itself if it is first).
	let mut first: Vec<Option<usize>> = vec![None; n];
	let mut members = vec![0usize; n];
	for j in 0..n {
		let Some(key) = selecting(&program.nodes[j].op, false) else { continue };
		let f = (0..j)
			.find(|&i| {
				first[i] == Some(i)
					&& selecting(&program.nodes[i].op, false) == Some(key.clone())
					&& same_inputs(program, &program.nodes[i], &program.nodes[j])
			})
			.unwrap_or(j);
		first[j] = Some(f);
		members[f] += 1;
	}
	if !(0..n).any(|j| members[j] > 1) {
		return Ok(());
	}
	let outs = program.node_outputs()?;
	let graph = |detail: &str| CanonError::Graph { detail: format!("sharing: {detail}") };
	let old_nodes = core::mem::take(&mut program.nodes);
	let mut new_index: Vec<u32> = Vec::with_capacity(n);
	let mut shared: Vec<Option<u32>> = vec![None; n];
	let remap = |r: Ref, new_index: &[u32]| -> Result<Ref> {
		match r {
			Ref::Node(i) => new_index
				.get(i as usize)
				.map(|&k| Ref::Node(k))
				.ok_or_else(|| graph("a node read before it is placed")),
			other => Ok(other),
		}
	};
	for (j, node) in old_nodes.into_iter().enumerate() {
		let group = first[j].filter(|&f| members[f] > 1);
		let output = match node.op {
			Op::Lstm { output, .. } | Op::Gru { output, .. } => output,
			_ => 0,
		};
		let Some(f) = group else {
			let inputs =
				node.inputs.iter().map(|&r| remap(r, &new_index)).collect::<Result<Vec<_>>>()?;
			program.nodes.push(Node { op: node.op, inputs });
			new_index.push((program.nodes.len() - 1) as u32);
			continue;
		};
		// S, X's first axis: in the shared value the states follow Y's S steps.
		let x = node.inputs.first().copied().ok_or_else(|| graph("a recurrence without X"))?;
		let seq = program
			.ref_meta(x, &outs)
			.and_then(|m| m.shape.first().copied())
			.ok_or_else(|| graph("X without a shape"))?;
		if f == j {
			let all = selecting(&node.op, true).ok_or_else(|| graph("not a recurrence"))?;
			let inputs =
				node.inputs.iter().map(|&r| remap(r, &new_index)).collect::<Result<Vec<_>>>()?;
			program.nodes.push(Node { op: all, inputs });
			shared[f] = Some((program.nodes.len() - 1) as u32);
		}
		let from = shared[f].map(Ref::Node).ok_or_else(|| graph("no shared node"))?;
		let read = if output == 0 {
			let ends = vec![seq as i64];
			Node {
				op: Op::Slice { starts: vec![0], ends, axes: vec![0], steps: vec![1] },
				inputs: vec![from],
			}
		} else {
			let step = seq as i64 + output as i64 - 1;
			program.constants.push(Tensor::from_i64(vec![], &[step]));
			let c = (program.constants.len() - 1) as u32;
			Node { op: Op::Gather { axis: 0 }, inputs: vec![from, Ref::Const(c)] }
		};
		program.nodes.push(read);
		new_index.push((program.nodes.len() - 1) as u32);
	}
	program.outputs =
		program.outputs.iter().map(|&r| remap(r, &new_index)).collect::<Result<Vec<_>>>()?;
	Ok(())
}

/// The same operands: the same references, or equal constants (lowering supplies a constant
/// of zeros for each node's absent optional inputs).
fn same_inputs(program: &Program, a: &Node, b: &Node) -> bool {
	a.inputs.len() == b.inputs.len()
		&& a.inputs.iter().zip(&b.inputs).all(|(&x, &y)| match (x, y) {
			(Ref::Const(i), Ref::Const(k)) => {
				program.constants.get(i as usize) == program.constants.get(k as usize)
			},
			_ => x == y,
		})
}
