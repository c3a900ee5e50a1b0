//! Whole-program execution and the trace.

use alloc::{format, vec::Vec};

use crate::{
	error::{CanonError, Result},
	merkle::{leaf_hash, Hash, MerkleTree},
	ops::execute_op,
	program::{Node, Program, Ref},
	tensor::{Limits, Tensor},
};

/// The values `v_0..v_{m+n-1}`: the m graph inputs, then the n node outputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
	pub values: Vec<Tensor>,
}

impl Trace {
	/// Leaf hashes of every value (see [`leaf_hash`]).
	pub fn leaf_hashes(&self) -> Vec<Hash> {
		self.values.iter().map(leaf_hash).collect()
	}

	/// The Merkle tree over the leaf hashes.
	pub fn tree(&self) -> MerkleTree {
		MerkleTree::new(self.leaf_hashes())
	}

	/// The trace root.
	pub fn root(&self) -> Hash {
		self.tree().root()
	}

	/// The program outputs taken from this trace.
	pub fn outputs(&self, program: &Program) -> Result<Vec<Tensor>> {
		program
			.output_leaves()?
			.into_iter()
			.map(|l| {
				self.values.get(l as usize).cloned().ok_or(CanonError::Graph {
					detail: format!("output leaf {l} is not in the trace"),
				})
			})
			.collect()
	}
}

/// Executes one node on its resolved inputs under [`Limits::NATIVE`].
pub fn execute_node(node: &Node, inputs: &[&Tensor]) -> Result<Tensor> {
	execute_node_with(node, inputs, &Limits::NATIVE)
}

/// Executes one node on its resolved inputs (in `node.inputs` order) under `limits`.
pub fn execute_node_with(node: &Node, inputs: &[&Tensor], limits: &Limits) -> Result<Tensor> {
	if inputs.len() != node.inputs.len() {
		return Err(CanonError::Arity {
			op: node.op.name(),
			expected: "as many as the node's references",
			found: inputs.len(),
		});
	}
	execute_op(&node.op, inputs, limits)
}

/// Runs a whole program under [`Limits::NATIVE`].
pub fn execute(program: &Program, inputs: &[Tensor]) -> Result<Trace> {
	execute_with(program, inputs, &Limits::NATIVE)
}

/// Runs a whole program: validates it and the inputs, then executes the nodes in order.
pub fn execute_with(program: &Program, inputs: &[Tensor], limits: &Limits) -> Result<Trace> {
	program.validate(limits)?;
	if inputs.len() != program.inputs.len() {
		return Err(CanonError::InputMismatch {
			index: inputs.len() as u32,
			detail: format!("expected {} inputs, got {}", program.inputs.len(), inputs.len()),
		});
	}
	for (i, (spec, t)) in program.inputs.iter().zip(inputs).enumerate() {
		t.validate()?;
		if !spec.matches(t) {
			return Err(CanonError::InputMismatch {
				index: i as u32,
				detail: format!(
					"expected {:?}{:?}, got {:?}{:?}",
					spec.dtype, spec.shape, t.dtype, t.shape
				),
			});
		}
	}
	let mut values: Vec<Tensor> = Vec::with_capacity(program.trace_len());
	values.extend(inputs.iter().cloned());
	let m = inputs.len();
	for (j, node) in program.nodes.iter().enumerate() {
		let args = node
			.inputs
			.iter()
			.map(|&r| {
				let v = match r {
					Ref::Input(i) => values.get(i as usize),
					Ref::Const(i) => program.constants.get(i as usize),
					Ref::Node(i) => values.get(m + i as usize),
				};
				v.ok_or(CanonError::BadRef { node: j as u32, detail: format!("{r:?}") })
			})
			.collect::<Result<Vec<&Tensor>>>()?;
		let out = execute_op(&node.op, &args, limits)?;
		values.push(out);
	}
	Ok(Trace { values })
}
