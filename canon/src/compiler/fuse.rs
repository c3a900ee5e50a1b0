//! Fusing runs of elementwise nodes, and the convolution before them, into [`Op::Fused`]
//! nodes.
//!
//! A *run* is a sequence of consecutive nodes, each a fusable elementwise F32 operator
//! ([`step_arity`] operands) with the same output shape, together with the node just before
//! it when that node is a head ([`is_head`]: Conv, ConvTranspose) of the same output shape.
//! A run is cut, from its first node on, into groups `s..=e`, each the longest (at most
//! [`MAX_FUSED_STEPS`] nodes) in which every node but the last is read only by later nodes of
//! the group and is not a program output, and whose fused node stays within the limits. A
//! group of two or more nodes becomes one fused node at the position of its last node, reading
//! the group's outside operands (in order of first use); a group of one stays as it is.
//! Everything else keeps its order, so the pass is a function of the program alone.
//!
//! The fused node computes the value of the group's last node bit for bit, and every value
//! outside the group is unchanged: only the group's intermediate values leave the trace.

use crate::{
	error::{CanonError, Result},
	ops::{
		fused::{is_head, step_arity, MAX_FUSED_STEPS},
		node_work,
	},
	program::{FusedStep, Node, Op, Program, Ref, StepArg},
	tensor::{DType, Limits},
};

/// Fuses the program's runs (see the module's rules). [`compile`](super::compile)
/// runs it on every program (unless `CompileOptions::unfused`); public for tests and tools.
pub fn fuse_elementwise(program: &mut Program, limits: &Limits) -> Result<()> {
	let outs = program.node_outputs()?;
	let n = program.nodes.len();
	let mut last_reader: Vec<Option<usize>> = vec![None; n];
	let mut is_output = vec![false; n];
	for (j, node) in program.nodes.iter().enumerate() {
		for r in &node.inputs {
			if let Some(slot) = node_index(*r).and_then(|i| last_reader.get_mut(i)) {
				*slot = Some(j);
			}
		}
	}
	for r in &program.outputs {
		if let Some(o) = node_index(*r).and_then(|i| is_output.get_mut(i)) {
			*o = true;
		}
	}
	let fusable = |j: usize| {
		let node = &program.nodes[j];
		step_arity(&node.op) == Some(node.inputs.len()) && outs[j].0 == DType::F32
	};
	let head = |j: usize| is_head(&program.nodes[j].op) && outs[j].0 == DType::F32;
	// `replaced[j]`: node j is a group's non-last member (its value is a step of a fused node).
	let mut replaced = vec![false; n];
	let mut fused: Vec<(usize, Node)> = Vec::new();
	let mut j = 0;
	while j < n {
		if !fusable(j) {
			j += 1;
			continue;
		}
		let mut end = j;
		while end + 1 < n && fusable(end + 1) && outs[end + 1].1 == outs[j].1 {
			end += 1;
		}
		let mut s = match j.checked_sub(1) {
			Some(h) if head(h) && outs[h].1 == outs[j].1 => h,
			_ => j,
		};
		while s <= end {
			let group = (s + 1..=end.min(s + MAX_FUSED_STEPS - 1)).rev().find_map(|e| {
				let closed = (s..e).all(|i| !is_output[i] && last_reader[i].is_none_or(|r| r <= e));
				closed.then(|| fused_node(program, &outs, s, e, limits)).flatten()
			});
			match group {
				Some((e, node)) => {
					replaced[s..e].iter_mut().for_each(|r| *r = true);
					fused.push((e, node));
					s = e + 1;
				},
				None => s += 1,
			}
		}
		j = end + 1;
	}
	if fused.is_empty() {
		return Ok(());
	}
	// New index of each old node that stays (a group's last member: its fused node).
	let mut new_index: Vec<Option<u32>> = vec![None; n];
	let mut next = 0u32;
	for (old, r) in replaced.iter().enumerate() {
		if !r {
			new_index[old] = Some(next);
			next += 1;
		}
	}
	let remap = |r: Ref| -> Result<Ref> {
		match r {
			Ref::Node(i) => {
				new_index.get(i as usize).copied().flatten().map(Ref::Node).ok_or_else(|| {
					CanonError::Graph {
						detail: format!("fusion left a reference to fused-away node {i}"),
					}
				})
			},
			other => Ok(other),
		}
	};
	let mut fused = fused.into_iter().peekable();
	let old_nodes = core::mem::take(&mut program.nodes);
	for (old, node) in old_nodes.into_iter().enumerate() {
		if replaced[old] {
			continue;
		}
		let node = match fused.peek() {
			Some((e, _)) if *e == old => fused.next().map(|(_, f)| f).unwrap_or(node),
			_ => node,
		};
		let inputs = node.inputs.into_iter().map(remap).collect::<Result<Vec<_>>>()?;
		program.nodes.push(Node { op: node.op, inputs });
	}
	program.outputs = program.outputs.iter().map(|r| remap(*r)).collect::<Result<Vec<_>>>()?;
	Ok(())
}

fn node_index(r: Ref) -> Option<usize> {
	match r {
		Ref::Node(i) => Some(i as usize),
		_ => None,
	}
}

/// The fused node of group `s..=e` (old node indices in its inputs), if it stays within the
/// limits: its inputs' bytes (what a one-step carries) and its work.
fn fused_node(
	program: &Program,
	outs: &[(DType, Vec<u32>, u64)],
	s: usize,
	e: usize,
	limits: &Limits,
) -> Option<(usize, Node)> {
	let mut inputs: Vec<Ref> = Vec::new();
	let mut steps = Vec::with_capacity(e - s + 1);
	for node in program.nodes.get(s..=e)? {
		let args = node
			.inputs
			.iter()
			.map(|&r| match node_index(r) {
				Some(i) if i >= s => StepArg::Step((i - s) as u32),
				_ => {
					let at = inputs.iter().position(|x| *x == r).unwrap_or_else(|| {
						inputs.push(r);
						inputs.len() - 1
					});
					StepArg::Input(at as u32)
				},
			})
			.collect();
		steps.push(FusedStep { op: node.op.clone(), args });
	}
	let metas = inputs.iter().map(|&r| program.ref_meta(r, outs)).collect::<Option<Vec<_>>>()?;
	let op = Op::Fused { steps };
	let (_, shape) = crate::ops::infer(&op, &metas).ok()?;
	let bytes = metas.iter().try_fold(0u64, |acc, m| {
		crate::tensor::numel(m.shape).ok().map(|k| acc.saturating_add((k * m.dtype.size()) as u64))
	})?;
	let work = node_work(&op, &metas, &shape).ok()?;
	(bytes <= limits.max_step_bytes && work <= limits.max_node_work)
		.then_some((e, Node { op, inputs }))
}
