//! Whole-program execution and the trace.

use alloc::{format, sync::Arc, vec::Vec};

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

	/// The tensors node `j` of `program` reads (its inputs in order, constants included), taken
	/// from this trace: what a one-step or a sub-step of that node runs on.
	pub fn node_inputs<'a>(&'a self, program: &'a Program, j: usize) -> Result<Vec<&'a Tensor>> {
		let m = program.inputs.len();
		let node = program.nodes.get(j).ok_or_else(|| CanonError::Graph {
			detail: format!("node {j} is not in the program"),
		})?;
		node.inputs
			.iter()
			.map(|&r| {
				let v = match r {
					Ref::Input(i) => self.values.get(i as usize),
					Ref::Const(i) => program.constants.get(i as usize),
					Ref::Node(i) => self.values.get(m + i as usize),
				};
				v.ok_or(CanonError::BadRef { node: j as u32, detail: format!("{r:?}") })
			})
			.collect()
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

/// Validates a program, its [`Program::cost`] and the inputs against `limits`.
fn check_run(program: &Program, inputs: &[Tensor], limits: &Limits) -> Result<()> {
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
	Ok(())
}

/// Executes node `j` on `args`; with `substitute`, a failure gives [`unrunnable_value`] and is
/// recorded in `unrunnable`.
fn step(
	j: usize,
	node: &Node,
	args: &[&Tensor],
	limits: &Limits,
	substitute: bool,
	unrunnable: &mut Vec<u32>,
) -> Result<Tensor> {
	match execute_op(&node.op, args, limits) {
		Ok(out) => Ok(out),
		Err(_) if substitute => {
			unrunnable.push(j as u32);
			Ok(unrunnable_value())
		},
		Err(e) => Err(e),
	}
}

fn run(
	program: &Program,
	inputs: &[Tensor],
	limits: &Limits,
	substitute: bool,
) -> Result<SubstitutedTrace> {
	check_run(program, inputs, limits)?;
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
		let out = step(j, node, &args, limits, substitute, &mut unrunnable)?;
		values.push(out);
	}
	Ok(SubstitutedTrace { trace: Trace { values }, unrunnable })
}

/// What a run commits to, without the trace's values: every leaf hash (the trace tree), the
/// program's outputs, and the nodes that could not be executed (with `substitute`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceCommitment {
	/// `leaf_hash(v_k)` for every leaf `k` of the trace, in order.
	pub leaves: Vec<Hash>,
	/// The program's outputs, in order.
	pub outputs: Vec<Tensor>,
	/// The nodes (program indices, ascending) that could not be executed.
	pub unrunnable: Vec<u32>,
}

impl TraceCommitment {
	/// The Merkle tree over the leaf hashes (its root is the trace root).
	pub fn tree(&self) -> MerkleTree {
		MerkleTree::new(self.leaves.clone())
	}
}

/// Runs a program like [`execute_with`] (or [`execute_substituting`] with `substitute`) but keeps
/// only what a run commits to: each value is hashed as soon as it is computed and freed as soon
/// as no later node reads it. Peak memory is the largest set of values alive at once, not the
/// whole trace. Same leaf hashes, outputs and unrunnable nodes as the whole trace gives.
pub fn commit_trace(
	program: &Program,
	inputs: &[Tensor],
	limits: &Limits,
	substitute: bool,
) -> Result<TraceCommitment> {
	let outputs = program.output_leaves()?;
	let n = program.nodes.len();
	#[cfg(feature = "std")]
	if crate::parallel::threads() > 1 {
		return commit_pipelined(program, inputs, limits, substitute, &outputs);
	}
	let mut leaves = Vec::with_capacity(program.trace_len());
	let (kept, unrunnable) =
		stream(program, inputs, limits, substitute, &outputs, n, |t| leaves.push(leaf_hash(t)))?;
	Ok(TraceCommitment { leaves, outputs: kept, unrunnable })
}

/// Values computed but not yet hashed, at most, in [`commit_pipelined`].
#[cfg(feature = "std")]
const HASH_QUEUE: usize = 8;

/// [`commit_trace`] with the hashing on a thread of its own: each value goes to the hasher as
/// it is computed (in order, so the leaves are the same) while the next nodes run. The queue
/// holds at most [`HASH_QUEUE`] values; when it is full, execution waits for the hasher.
#[cfg(feature = "std")]
fn commit_pipelined(
	program: &Program,
	inputs: &[Tensor],
	limits: &Limits,
	substitute: bool,
	outputs: &[u32],
) -> Result<TraceCommitment> {
	use std::sync::mpsc::sync_channel;
	std::thread::scope(|s| {
		let (to_hasher, queue) = sync_channel::<Arc<Tensor>>(HASH_QUEUE);
		let hasher = s.spawn(move || {
			queue.into_iter().map(|t| crate::chunk::leaf_hash_on_one_thread(&t)).collect()
		});
		let n = program.nodes.len();
		// The sender is dropped when `stream` returns, which ends the hasher's queue. A send
		// fails only if the hasher is gone, whose panic `join` then resumes here.
		let streamed = stream(program, inputs, limits, substitute, outputs, n, move |t| {
			let _ = to_hasher.send(Arc::clone(t));
		});
		let leaves: Vec<Hash> = hasher.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
		let (kept, unrunnable) = streamed?;
		Ok(TraceCommitment { leaves, outputs: kept, unrunnable })
	})
}

/// The values of the trace at `leaves` (in that order), computed by running the program only as
/// far as the last of them and freeing every value no later node (nor `leaves`) needs: how a
/// party that kept only a [`TraceCommitment`] recomputes what a one-step witness needs.
pub fn trace_values(
	program: &Program,
	inputs: &[Tensor],
	limits: &Limits,
	substitute: bool,
	leaves: &[u32],
) -> Result<Vec<Tensor>> {
	let m = program.inputs.len();
	let last = leaves.iter().map(|&l| l as usize).max().unwrap_or(0);
	if last >= program.trace_len() {
		return Err(CanonError::Graph { detail: format!("leaf {last} is not in the trace") });
	}
	let upto = last.saturating_add(1).saturating_sub(m);
	stream(program, inputs, limits, substitute, leaves, upto, |_| ()).map(|(kept, _)| kept)
}

/// Runs the first `upto` nodes, calling `visit(value)` for every input and node value in leaf
/// order, and returns the values at `keep` (in that order) with the unrunnable nodes. A
/// node's value is dropped after its last reader among those nodes, unless it is kept.
fn stream(
	program: &Program,
	inputs: &[Tensor],
	limits: &Limits,
	substitute: bool,
	keep: &[u32],
	upto: usize,
	mut visit: impl FnMut(&Arc<Tensor>),
) -> Result<(Vec<Tensor>, Vec<u32>)> {
	check_run(program, inputs, limits)?;
	let m = inputs.len();
	let n = upto.min(program.nodes.len());
	// The last node (below n) that reads each leaf; `None`: no node does.
	let mut last_use: Vec<Option<usize>> = alloc::vec![None; m + n];
	for (j, node) in program.nodes.iter().take(n).enumerate() {
		for r in &node.inputs {
			if let Some(leaf) = program.leaf_of(*r) {
				if let Some(slot) = last_use.get_mut(leaf as usize) {
					*slot = Some(j);
				}
			}
		}
	}
	let mut kept_leaf = alloc::vec![false; m + n];
	for &l in keep {
		if let Some(k) = kept_leaf.get_mut(l as usize) {
			*k = true;
		}
	}
	inputs.iter().for_each(|t| visit(&Arc::new(t.clone())));
	let mut values: Vec<Option<Arc<Tensor>>> = alloc::vec![None; n];
	let mut unrunnable = Vec::new();
	for (j, node) in program.nodes.iter().take(n).enumerate() {
		let args = node
			.inputs
			.iter()
			.map(|&r| {
				let v = match r {
					Ref::Input(i) => inputs.get(i as usize),
					Ref::Const(i) => program.constants.get(i as usize),
					Ref::Node(i) if (i as usize) < j => {
						values.get(i as usize).and_then(Option::as_deref)
					},
					Ref::Node(_) => None,
				};
				v.ok_or(CanonError::BadRef { node: j as u32, detail: format!("{r:?}") })
			})
			.collect::<Result<Vec<&Tensor>>>()?;
		let out = Arc::new(step(j, node, &args, limits, substitute, &mut unrunnable)?);
		visit(&out);
		let leaf = m + j;
		if kept_leaf[leaf] || last_use[leaf].is_some() {
			values[j] = Some(out);
		}
		for r in &node.inputs {
			if let Ref::Node(i) = *r {
				let leaf = m + i as usize;
				if last_use[leaf] == Some(j) && !kept_leaf[leaf] {
					values[i as usize] = None;
				}
			}
		}
	}
	let kept = keep
		.iter()
		.map(|&l| {
			let l = l as usize;
			match l.checked_sub(m) {
				None => inputs.get(l).cloned(),
				Some(j) => values.get(j).and_then(|v| v.as_deref().cloned()),
			}
			.ok_or_else(|| CanonError::Graph { detail: format!("leaf {l} was not computed") })
		})
		.collect::<Result<Vec<_>>>()?;
	Ok((kept, unrunnable))
}
