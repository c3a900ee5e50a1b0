//! `program_root` and the one-step witness of the dispute game.
//!
//! Program leaf of node `j` (byte by byte): `blake2_256(SCALE(CommittedNode { op, inputs }))`
//! where each input is a [`CommittedRef`]: `Input(i)` (index byte 0, u32 LE), `Const(h)` (index
//! byte 1, the 32-byte [`leaf_hash`] of the constant tensor) or `Node(i)` (index byte 2, u32 LE).
//! `program_root` is the Merkle root (see [`crate::merkle`]) over these leaves in node order.

use alloc::{format, string::String, vec::Vec};
use codec::{Decode, DecodeWithMemTracking, Encode};
use scale_info::TypeInfo;
use sp_crypto_hashing::blake2_256;

use crate::{
	chunk::{leaf_hash, ChunkProof, TensorChunks},
	error::{CanonError, Result},
	exec::Trace,
	merkle::{verify_proof, Hash, MerkleProof, MerkleTree},
	ops::execute_op,
	program::{leaf_of, Node, Op, Program, Ref},
	tensor::{Limits, Tensor},
};

/// A node input as committed in `program_root`: constants by hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum CommittedRef {
	#[codec(index = 0)]
	Input(u32),
	#[codec(index = 1)]
	Const(Hash),
	#[codec(index = 2)]
	Node(u32),
}

/// A node as committed in `program_root`.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct CommittedNode {
	pub op: Op,
	pub inputs: Vec<CommittedRef>,
}

/// Hashes of the program's constant tensors (each a [`leaf_hash`]).
pub fn constant_hashes(program: &Program) -> Vec<Hash> {
	program.constants.iter().map(leaf_hash).collect()
}

/// The committed form of a node given the constant hashes.
pub fn committed_node(node: &Node, const_hashes: &[Hash]) -> Result<CommittedNode> {
	let inputs = node
		.inputs
		.iter()
		.map(|&r| match r {
			Ref::Input(i) => Ok(CommittedRef::Input(i)),
			Ref::Node(i) => Ok(CommittedRef::Node(i)),
			Ref::Const(i) => const_hashes.get(i as usize).map(|h| CommittedRef::Const(*h)).ok_or(
				CanonError::BadRef {
					node: u32::MAX,
					detail: format!("constant {i} does not exist"),
				},
			),
		})
		.collect::<Result<Vec<_>>>()?;
	Ok(CommittedNode { op: node.op.clone(), inputs })
}

/// Leaf of a committed node in the program tree.
pub fn program_leaf(node: &CommittedNode) -> Hash {
	blake2_256(&node.encode())
}

/// The Merkle tree over the program's node leaves.
pub fn program_tree(program: &Program) -> Result<MerkleTree> {
	let hashes = constant_hashes(program);
	let leaves = program
		.nodes
		.iter()
		.map(|n| committed_node(n, &hashes).map(|c| program_leaf(&c)))
		.collect::<Result<Vec<_>>>()?;
	Ok(MerkleTree::new(leaves))
}

/// `program_root` of a program.
pub fn program_root(program: &Program) -> Result<Hash> {
	Ok(program_tree(program)?.root())
}

/// A trace value with its inclusion proof against a trace root.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct LeafWitness {
	pub tensor: Tensor,
	pub proof: MerkleProof,
}

/// Everything the runtime needs to re-execute node `k - m` (trace leaf `k`).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct OneStepWitness {
	/// The node, committed form (constants by hash).
	pub node: CommittedNode,
	/// Proof of `node` in the program tree (index = node index).
	pub node_proof: MerkleProof,
	/// One tensor per `CommittedRef::Const` input, in input order.
	pub constants: Vec<Tensor>,
	/// One witness per `Input`/`Node` input, in input order (proofs against the trace root).
	pub inputs: Vec<LeafWitness>,
}

/// What the runtime knows when it checks a one-step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OneStepContext {
	pub program_root: Hash,
	/// Number of program nodes `n`.
	pub node_count: u32,
	/// Number of graph inputs `m`.
	pub input_count: u32,
	/// The trace root the input proofs are checked against.
	pub trace_root: Hash,
	pub limits: Limits,
}

/// Builds the one-step witness for trace leaf `k` (which must be a node leaf: `m <= k < m + n`).
pub fn one_step_witness(
	program: &Program,
	program_tree: &MerkleTree,
	trace: &Trace,
	trace_tree: &MerkleTree,
	k: u64,
) -> Result<OneStepWitness> {
	one_step_witness_with(program, program_tree, trace_tree, k, |leaf| {
		trace.values.get(leaf as usize).cloned()
	})
}

/// [`one_step_witness`] for a party that kept only the trace tree (a
/// [`crate::TraceCommitment`]): the values node `k - m` reads are recomputed from the claim's
/// `inputs` by [`crate::trace_values`], which runs the program only as far as that node (with
/// `substitute`, as [`crate::execute_substituting`] does).
pub fn one_step_witness_recomputed(
	program: &Program,
	program_tree: &MerkleTree,
	inputs: &[Tensor],
	limits: &Limits,
	substitute: bool,
	trace_tree: &MerkleTree,
	k: u64,
) -> Result<OneStepWitness> {
	let node = node_at(program, k)?;
	let m = program.inputs.len() as u32;
	let leaves: Vec<u32> = node.inputs.iter().filter_map(|&r| leaf_of(m, r)).collect();
	let values = crate::exec::trace_values(program, inputs, limits, substitute, &leaves)?;
	one_step_witness_with(program, program_tree, trace_tree, k, |leaf| {
		leaves.iter().position(|&l| l == leaf).and_then(|i| values.get(i).cloned())
	})
}

/// The node of trace leaf `k`, which must be a node leaf.
fn node_at(program: &Program, k: u64) -> Result<&Node> {
	let m = program.inputs.len() as u64;
	let j = k.checked_sub(m).ok_or_else(|| proof_err(format!("leaf {k} is a graph input")))?;
	program.nodes.get(j as usize).ok_or_else(|| proof_err(format!("leaf {k} is a padding leaf")))
}

/// Builds the one-step witness for node leaf `k`, taking the trace's values from `value(leaf)`.
fn one_step_witness_with(
	program: &Program,
	program_tree: &MerkleTree,
	trace_tree: &MerkleTree,
	k: u64,
	mut value: impl FnMut(u32) -> Option<Tensor>,
) -> Result<OneStepWitness> {
	let m = program.inputs.len() as u64;
	let node = node_at(program, k)?;
	let hashes = constant_hashes(program);
	let mut constants = Vec::new();
	let mut inputs = Vec::new();
	for &r in &node.inputs {
		match r {
			Ref::Const(i) => constants.push(
				program
					.constants
					.get(i as usize)
					.cloned()
					.ok_or_else(|| proof_err("bad constant"))?,
			),
			r => {
				let leaf = leaf_of(m as u32, r).ok_or_else(|| proof_err("bad reference"))?;
				let tensor = value(leaf).ok_or_else(|| proof_err("short trace"))?;
				let proof = trace_tree.proof(leaf as u64).ok_or_else(|| proof_err("no proof"))?;
				inputs.push(LeafWitness { tensor, proof });
			},
		}
	}
	Ok(OneStepWitness {
		node: committed_node(node, &hashes)?,
		node_proof: program_tree.proof(k - m).ok_or_else(|| proof_err("no node proof"))?,
		constants,
		inputs,
	})
}

fn proof_err(detail: impl Into<String>) -> CanonError {
	CanonError::Proof { detail: detail.into() }
}

/// Checks a one-step witness for trace leaf `k` and executes the node, returning the canonical
/// leaf hash of `v_k`. Checks: `k` is a node leaf; the node proof against `program_root`; each
/// constant against its committed hash; each input proof against `trace_root` at the leaf the
/// reference names, which must be earlier than `k`.
///
/// (If `k < m` the runtime hashes the claim's input itself; if `k >= m + n` the right leaf is
/// [`crate::merkle::ZERO_HASH`]. Neither needs a witness.)
pub fn verify_one_step(ctx: &OneStepContext, k: u64, w: &OneStepWitness) -> Result<Hash> {
	let m = ctx.input_count as u64;
	let j = proved_node(ctx, k, &w.node, &w.node_proof)?;
	let trace_len = m + ctx.node_count as u64;
	let mut consts = w.constants.iter();
	let mut leaves = w.inputs.iter();
	let mut args: Vec<&Tensor> = Vec::with_capacity(w.node.inputs.len());
	for (pos, r) in w.node.inputs.iter().enumerate() {
		match *r {
			CommittedRef::Const(h) => {
				let t =
					consts.next().ok_or_else(|| proof_err(format!("constant {pos} missing")))?;
				ctx.limits.check_tensor(t)?;
				if leaf_hash(t) != h {
					return Err(proof_err(format!("constant {pos} does not match its hash")));
				}
				args.push(t);
			},
			CommittedRef::Input(i) | CommittedRef::Node(i) => {
				let leaf = match *r {
					CommittedRef::Input(_) if (i as u64) < m => i as u64,
					CommittedRef::Node(_) if (i as u64) < j => m + i as u64,
					_ => return Err(proof_err(format!("input {pos} refers to a later leaf"))),
				};
				let lw = leaves.next().ok_or_else(|| proof_err(format!("input {pos} missing")))?;
				ctx.limits.check_tensor(&lw.tensor)?;
				if lw.proof.index != leaf
					|| !verify_proof(&ctx.trace_root, trace_len, &leaf_hash(&lw.tensor), &lw.proof)
				{
					return Err(proof_err(format!(
						"input {pos} (leaf {leaf}) is not in the trace"
					)));
				}
				args.push(&lw.tensor);
			},
		}
	}
	if consts.next().is_some() || leaves.next().is_some() {
		return Err(proof_err("more tensors than the node's inputs"));
	}
	let out = execute_op(&w.node.op, &args, &ctx.limits)?;
	Ok(leaf_hash(&out))
}

/// The node index `j = k - m` of node leaf `k`, once `node` is proved at `j` in the program
/// tree.
pub(crate) fn proved_node(
	ctx: &OneStepContext,
	k: u64,
	node: &CommittedNode,
	proof: &MerkleProof,
) -> Result<u64> {
	let m = ctx.input_count as u64;
	let j = k.checked_sub(m).filter(|&j| j < ctx.node_count as u64).ok_or_else(|| {
		proof_err(format!("leaf {k} is not a node leaf (m = {m}, n = {})", ctx.node_count))
	})?;
	if proof.index != j
		|| !verify_proof(&ctx.program_root, ctx.node_count as u64, &program_leaf(node), proof)
	{
		return Err(proof_err(format!("node {j} is not in the program")));
	}
	Ok(j)
}

/// The [`crate::node_work`] of the node a one-step witness re-executes, from the witness's own
/// tensors: what executing it costs. The runtime weighs a one-step by it (charging the limit
/// up front and refunding down to this). Errors if the witness does not fit its node (a tensor
/// missing or extra, or shapes the operator rejects).
pub fn one_step_work(w: &OneStepWitness) -> Result<u64> {
	let mut consts = w.constants.iter();
	let mut leaves = w.inputs.iter();
	let mut metas = Vec::with_capacity(w.node.inputs.len());
	for r in &w.node.inputs {
		let t = match r {
			CommittedRef::Const(_) => consts.next(),
			CommittedRef::Input(_) | CommittedRef::Node(_) => leaves.next().map(|l| &l.tensor),
		}
		.ok_or_else(|| proof_err("fewer tensors than the node's inputs"))?;
		metas.push(crate::ops::common::Meta::of(t));
	}
	if consts.next().is_some() || leaves.next().is_some() {
		return Err(proof_err("more tensors than the node's inputs"));
	}
	let (_, out_shape) = crate::ops::infer(&w.node.op, &metas)?;
	crate::node_work(&w.node.op, &metas, &out_shape)
}

/// Proof of one chunk of a constant through `program_root`: the node that reads the constant,
/// proved in the program tree, names its hash at input `input`.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct ConstChunkProof {
	pub node: CommittedNode,
	/// Proof of `node` in the program tree (index = node index).
	pub node_proof: MerkleProof,
	/// Position of the constant among the node's inputs.
	pub input: u32,
	pub chunk: ChunkProof,
}

impl ConstChunkProof {
	/// Builds the proof of chunk `chunk` of the constant at input `input` of node `node`.
	pub fn new(
		program: &Program,
		program_tree: &MerkleTree,
		node: u32,
		input: u32,
		chunk: u64,
	) -> Result<Self> {
		let n = program.nodes.get(node as usize).ok_or_else(|| proof_err("no such node"))?;
		let Some(&Ref::Const(c)) = n.inputs.get(input as usize) else {
			return Err(proof_err(format!("input {input} of node {node} is not a constant")));
		};
		let constant =
			program.constants.get(c as usize).ok_or_else(|| proof_err("bad constant"))?;
		Ok(Self {
			node: committed_node(n, &constant_hashes(program))?,
			node_proof: program_tree
				.proof(node as u64)
				.ok_or_else(|| proof_err("no node proof"))?,
			input,
			chunk: TensorChunks::new(constant)
				.proof(chunk)
				.ok_or_else(|| proof_err(format!("constant has no chunk {chunk}")))?,
		})
	}

	/// Checks that `bytes` are the chunk this proof names of a constant of the program with this
	/// root and node count.
	pub fn verify(&self, program_root: &Hash, node_count: u32, bytes: &[u8]) -> bool {
		let Some(CommittedRef::Const(h)) = self.node.inputs.get(self.input as usize) else {
			return false;
		};
		verify_proof(program_root, node_count as u64, &program_leaf(&self.node), &self.node_proof)
			&& self.chunk.verify(h, bytes)
	}
}
