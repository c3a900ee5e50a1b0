//! Whole-program execution and the trace.

use alloc::{format, vec::Vec};

use crate::{
	chunk::leaf_hash,
	error::{CanonError, Result},
	merkle::{Hash, MerkleTree},
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
	/// Leaf hashes of every value (see [`leaf_hash`]); natively spread over threads.
	pub fn leaf_hashes(&self) -> Vec<Hash> {
		#[cfg(feature = "std")]
		return crate::parallel::map(&self.values, |t| t.data.len() + 64, leaf_hash);
		#[cfg(not(feature = "std"))]
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

/// The value a challenger commits to for a node the canonical executor cannot run on the
/// claim's input (an integer index out of range, a limit exceeded): an F32 tensor of shape
/// `[0]`. No one-step can prove any value for such a node, so a claimant whose trace must
/// pass through it cannot defend its claim (see [`execute_substituting`]).
pub fn unrunnable_value() -> Tensor {
	Tensor { dtype: crate::tensor::DType::F32, shape: alloc::vec![0], data: Vec::new() }
}

/// A trace in which the nodes that failed hold [`unrunnable_value`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubstitutedTrace {
	pub trace: Trace,
	/// The nodes (program indices, ascending) that could not be executed.
	pub unrunnable: Vec<u32>,
}

/// Runs a whole program like [`execute_with`], except that a node whose execution fails takes
/// [`unrunnable_value`] as its output and the run goes on (later nodes read it like any
/// value). The program and the inputs are still validated first: a malformed program or an
/// input that does not match its spec is an error. A challenger opens a dispute with this
/// trace on a claim whose input makes the canonical executor fail: the descent reaches a node
/// that cannot be executed (where no one-step exists, so the claimant runs out of time) or
/// one that ran on agreed values (where the one-step proves the challenger right).
pub fn execute_substituting(
	program: &Program,
	inputs: &[Tensor],
	limits: &Limits,
) -> Result<SubstitutedTrace> {
	run(program, inputs, limits, true)
}

/// Runs a whole program under [`Limits::NATIVE`].
pub fn execute(program: &Program, inputs: &[Tensor]) -> Result<Trace> {
	execute_with(program, inputs, &Limits::NATIVE)
}

/// Runs a whole program: validates it, its [`Program::cost`] and the inputs against `limits`,
/// then executes the nodes in order.
pub fn execute_with(program: &Program, inputs: &[Tensor], limits: &Limits) -> Result<Trace> {
	run(program, inputs, limits, false).map(|t| t.trace)
}

fn run(
	program: &Program,
	inputs: &[Tensor],
	limits: &Limits,
	substitute: bool,
) -> Result<SubstitutedTrace> {
	program.validate(limits)?;
	limits.check_cost(&program.cost()?)?;
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
	let mut unrunnable = Vec::new();
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
		let out = match execute_op(&node.op, &args, limits) {
			Ok(out) => out,
			Err(_) if substitute => {
				unrunnable.push(j as u32);
				unrunnable_value()
			},
			Err(e) => return Err(e),
		};
		values.push(out);
	}
	Ok(SubstitutedTrace { trace: Trace { values }, unrunnable })
}
