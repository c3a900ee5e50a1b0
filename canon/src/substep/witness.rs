//! What the runtime needs to check one sub-step, and the check: the node (proved in the program
//! tree), each input's header and data root (proved in the trace, or named by the node for a
//! constant), the chunks the sub-step reads (each proved against its data root), and the state
//! the previous segment left.

use alloc::{format, vec, vec::Vec};

use codec::{Decode, DecodeWithMemTracking, Encode};
use scale_info::TypeInfo;

use super::{
	check_geometry, chunks_of, geometry, geometry_within, reads, run_substep, Geometry,
	SubStepLimits,
};
use crate::{
	chunk::{chunk_bytes, chunk_leaf, TensorChunks, TensorHeader},
	commit::{
		committed_node, constant_hashes, proved_node, CommittedNode, CommittedRef, OneStepContext,
	},
	error::{CanonError, Result},
	merkle::{verify_proof, Hash, MerkleProof, MerkleTree},
	ops::{infer, Meta},
	program::{leaf_of, Node, Program, Ref},
	tensor::{numel, Tensor},
};

/// A node input as the runtime proves it: its header and data root
/// (`header.leaf_hash(data_root)` is its leaf), with the leaf's proof against the trace root for
/// an `Input` or `Node` input (`None` for a constant, whose leaf hash the node names).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct ProvedInput {
	pub header: TensorHeader,
	pub data_root: Hash,
	pub leaf: Option<MerkleProof>,
}

/// One input of a sub-step: the input, proved, and the chunks the sub-step reads.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct InputChunks {
	pub input: ProvedInput,
	/// The chunks [`super::reads`] names, ascending: their bytes, each with its path to
	/// `data_root` (the path's index is the chunk's).
	pub chunks: Vec<(Vec<u8>, MerkleProof)>,
}

/// What fixes the cut of trace leaf `k`'s node: the node and its inputs' headers, proved. The
/// game posts it when the second level starts.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct CutWitness {
	/// The node, committed form (constants by hash).
	pub node: CommittedNode,
	/// Proof of `node` in the program tree (index = node index).
	pub node_proof: MerkleProof,
	/// One per node input, in input order (constants included).
	pub inputs: Vec<ProvedInput>,
}

impl CutWitness {
	/// The metas of the node's inputs from their headers: shapes alone fix the cut (a
	/// Gather's reads depend on its indices, its cut does not).
	fn metas(&self) -> Vec<Meta<'_>> {
		self.inputs
			.iter()
			.map(|i| Meta { dtype: i.header.dtype, shape: &i.header.shape, value: None })
			.collect()
	}

	/// The cut within `limits` of the node as this witness describes it, unchecked: what a
	/// player reads to choose between the one-step and the second level.
	pub fn geometry(&self, limits: &SubStepLimits) -> Result<Geometry> {
		geometry(&self.node.op, &self.metas(), limits)
	}
}

/// A node's cut as a checked [`CutWitness`] gives it: the geometry, the header of the node's
/// output, which every correct leaf of the node has, and what finding the cut cost
/// ([`super::geometry_within`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cut {
	pub geometry: Geometry,
	pub output: TensorHeader,
	pub cost: u64,
}

/// Everything the runtime needs to run sub-step `(tile, segment)` of node `k - m`.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct SubStepWitness {
	/// The node, committed form (constants by hash).
	pub node: CommittedNode,
	/// Proof of `node` in the program tree (index = node index).
	pub node_proof: MerkleProof,
	pub tile: u64,
	pub segment: u32,
	/// The state segment `segment - 1` left (`None` for segment 0).
	pub state: Option<Vec<u8>>,
	/// One per node input, in input order (constants included).
	pub inputs: Vec<InputChunks>,
}

/// What a checked sub-step gives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubStepOutcome {
	/// The leaf of the state the witness started from (`None` for segment 0), as
	/// [`Geometry::leaf`] commits a state: the game compares it with the state both parties
	/// agree on.
	pub from: Option<Hash>,
	/// [`Geometry::leaf`] of what the sub-step gives: the next state, or for the last segment
	/// the tile's output chunk leaf.
	pub leaf: Hash,
}

fn proof_err(detail: impl Into<alloc::string::String>) -> CanonError {
	CanonError::Proof { detail: detail.into() }
}

/// The node of trace leaf `k` and its index, checking that `inputs` has one tensor per node
/// input.
fn node_of<'a>(program: &'a Program, k: u64, inputs: &[&Tensor]) -> Result<(u64, &'a Node)> {
	let m = program.inputs.len() as u64;
	let j = k.checked_sub(m).ok_or_else(|| proof_err(format!("leaf {k} is a graph input")))?;
	let node = program.nodes.get(j as usize).ok_or_else(|| proof_err("not a node leaf"))?;
	if node.inputs.len() != inputs.len() {
		return Err(proof_err("one tensor per node input"));
	}
	Ok((j, node))
}

/// Input `t` of a node, referred to by `r`, proved in `trace_tree`; with its chunk tree.
fn proved_input(
	m: u32,
	trace_tree: &MerkleTree,
	r: Ref,
	t: &Tensor,
) -> Result<(ProvedInput, TensorChunks)> {
	let chunks = TensorChunks::new(t);
	let leaf = match leaf_of(m, r) {
		Some(l) => Some(trace_tree.proof(l as u64).ok_or_else(|| proof_err("no leaf proof"))?),
		None => None,
	};
	let input = ProvedInput { header: chunks.header.clone(), data_root: chunks.tree.root(), leaf };
	Ok((input, chunks))
}

/// Builds the [`CutWitness`] of trace leaf `k`'s node from its input tensors `inputs` (in input
/// order, constants included: [`crate::Trace::node_inputs`] or recomputed).
pub fn cut_witness(
	program: &Program,
	program_tree: &MerkleTree,
	trace_tree: &MerkleTree,
	k: u64,
	inputs: &[&Tensor],
) -> Result<CutWitness> {
	let (j, node) = node_of(program, k, inputs)?;
	let m = program.inputs.len() as u32;
	let inputs = node
		.inputs
		.iter()
		.zip(inputs)
		.map(|(&r, t)| Ok(proved_input(m, trace_tree, r, t)?.0))
		.collect::<Result<Vec<_>>>()?;
	Ok(CutWitness {
		node: committed_node(node, &constant_hashes(program))?,
		node_proof: program_tree.proof(j).ok_or_else(|| proof_err("no node proof"))?,
		inputs,
	})
}

/// Builds the witness of sub-step `(tile, segment)` of trace leaf `k`'s node, from the node's
/// input tensors `inputs` (as for [`cut_witness`]) and the state the previous segment left.
pub fn substep_witness(
	program: &Program,
	program_tree: &MerkleTree,
	trace_tree: &MerkleTree,
	k: u64,
	inputs: &[&Tensor],
	limits: &SubStepLimits,
	(tile, segment): (u64, u32),
	state: Option<Vec<u8>>,
) -> Result<SubStepWitness> {
	let (j, node) = node_of(program, k, inputs)?;
	let m = program.inputs.len() as u32;
	let metas: Vec<Meta> = inputs.iter().map(|t| Meta::of(t)).collect();
	let g = geometry(&node.op, &metas, limits)?;
	let read = reads(&node.op, &metas, &g, tile, segment)?;
	let mut witnessed = Vec::with_capacity(inputs.len());
	for ((&r, t), ranges) in node.inputs.iter().zip(inputs).zip(&read) {
		let (input, chunks) = proved_input(m, trace_tree, r, t)?;
		let proved = chunks_of(t.dtype, ranges)
			.into_iter()
			.map(|c| {
				let bytes = chunk_bytes(t, c).ok_or_else(|| proof_err("no such chunk"))?;
				let path = chunks.tree.proof(c).ok_or_else(|| proof_err("no chunk proof"))?;
				Ok((bytes.to_vec(), path))
			})
			.collect::<Result<Vec<_>>>()?;
		witnessed.push(InputChunks { input, chunks: proved });
	}
	Ok(SubStepWitness {
		node: committed_node(node, &constant_hashes(program))?,
		node_proof: program_tree.proof(j).ok_or_else(|| proof_err("no node proof"))?,
		tile,
		segment,
		state,
		inputs: witnessed,
	})
}

/// Checks that `node` is trace leaf `k`'s (its proof against `program_root`) and that `inputs`
/// are its inputs: a constant's leaf against the hash its node names, the others' proofs
/// against `trace_root` at exactly the leaf the reference names, which must be earlier than `k`;
/// each header within the limits and as long as its shape. Returns the node index.
fn check_node_and_inputs<'a>(
	ctx: &OneStepContext,
	k: u64,
	node: &CommittedNode,
	node_proof: &MerkleProof,
	inputs: impl ExactSizeIterator<Item = &'a ProvedInput>,
) -> Result<u64> {
	let m = ctx.input_count as u64;
	let j = proved_node(ctx, k, node, node_proof)?;
	if inputs.len() != node.inputs.len() {
		return Err(proof_err(format!(
			"{} inputs for a node of {}",
			inputs.len(),
			node.inputs.len()
		)));
	}
	let trace_len = m + ctx.node_count as u64;
	for (pos, (r, input)) in node.inputs.iter().zip(inputs).enumerate() {
		let hash = input.header.leaf_hash(&input.data_root);
		let n = ctx.limits.check_shape(&input.header.shape)?;
		if n.checked_mul(input.header.dtype.size()) != Some(input.header.data_len as usize) {
			return Err(proof_err(format!("input {pos}: the header's length is not its shape's")));
		}
		let proved = match (*r, &input.leaf) {
			(CommittedRef::Const(h), None) => h == hash,
			(CommittedRef::Input(i) | CommittedRef::Node(i), Some(proof)) => {
				let leaf = match *r {
					CommittedRef::Input(_) if (i as u64) < m => i as u64,
					CommittedRef::Node(_) if (i as u64) < j => m + i as u64,
					_ => return Err(proof_err(format!("input {pos} refers to a later leaf"))),
				};
				proof.index == leaf && verify_proof(&ctx.trace_root, trace_len, &hash, proof)
			},
			_ => false,
		};
		if !proved {
			return Err(proof_err(format!("input {pos} is not the node's")));
		}
	}
	Ok(j)
}

/// Checks a cut witness for trace leaf `k` (the node and its inputs, as [`verify_substep`]
/// does) and gives the node's cut for `limits` and its output's header. Errors if the node has
/// no sub-steps, cannot be cut within `limits`, or finding the cut would cost more than
/// `budget` ([`super::geometry_within`]).
pub fn verify_cut(
	ctx: &OneStepContext,
	k: u64,
	w: &CutWitness,
	limits: &SubStepLimits,
	budget: u64,
) -> Result<Cut> {
	check_node_and_inputs(ctx, k, &w.node, &w.node_proof, w.inputs.iter())?;
	let metas = w.metas();
	let (geometry, cost) = geometry_within(&w.node.op, &metas, limits, budget)?;
	let (dtype, shape) = infer(&w.node.op, &metas)?;
	let data_len = numel(&shape)?
		.checked_mul(dtype.size())
		.and_then(|n| u32::try_from(n).ok())
		.ok_or_else(|| proof_err("the node's output is too large"))?;
	Ok(Cut { geometry, output: TensorHeader { dtype, shape, data_len }, cost })
}

/// Checks a sub-step witness for trace leaf `k` of the node cut as `g` (the cut [`verify_cut`]
/// gave) and runs the sub-step. Checks: the node and its inputs (as [`verify_cut`] does); that
/// `g` is a cut of the node ([`check_geometry`]); that the witness carries exactly the chunks
/// the sub-step reads, each proved against its input's data root.
pub fn verify_substep(
	ctx: &OneStepContext,
	k: u64,
	w: &SubStepWitness,
	g: &Geometry,
) -> Result<SubStepOutcome> {
	check_node_and_inputs(ctx, k, &w.node, &w.node_proof, w.inputs.iter().map(|i| &i.input))?;
	// The inputs from their proved chunks (zeros elsewhere); then the cut and the reads,
	// which may depend on values the chunks hold (a Gather's indices), and the chunks given
	// must be exactly the ones read.
	let mut tensors = Vec::with_capacity(w.inputs.len());
	for (pos, InputChunks { input, chunks }) in w.inputs.iter().enumerate() {
		let header = &input.header;
		let mut data = vec![0u8; header.data_len as usize];
		let count = header.chunk_count();
		for (bytes, path) in chunks {
			let range = header.chunk_range(path.index).ok_or_else(|| proof_err("no such chunk"))?;
			if range.len() != bytes.len()
				|| !verify_proof(&input.data_root, count, &chunk_leaf(header.dtype, bytes), path)
			{
				return Err(proof_err(format!("input {pos}: chunk {} is not its", path.index)));
			}
			data.get_mut(range).ok_or_else(|| proof_err("no such chunk"))?.copy_from_slice(bytes);
		}
		numel(&header.shape)?;
		tensors.push(Tensor { dtype: header.dtype, shape: header.shape.clone(), data });
	}
	let metas: Vec<Meta> = tensors.iter().map(Meta::of).collect();
	check_geometry(&w.node.op, &metas, g)?;
	let read = reads(&w.node.op, &metas, g, w.tile, w.segment)?;
	for (pos, ((input, ranges), t)) in w.inputs.iter().zip(&read).zip(&tensors).enumerate() {
		let wanted = chunks_of(t.dtype, ranges);
		if input.chunks.len() != wanted.len()
			|| input.chunks.iter().zip(&wanted).any(|((_, p), &c)| p.index != c)
		{
			return Err(proof_err(format!(
				"input {pos}: the sub-step reads chunks {wanted:?}, not the ones given"
			)));
		}
	}
	let refs: Vec<&Tensor> = tensors.iter().collect();
	let out = run_substep(&w.node.op, &refs, g, w.tile, w.segment, w.state.as_deref())?;
	Ok(SubStepOutcome {
		from: w.state.as_deref().map(|state| chunk_leaf(g.accumulator(), state)),
		leaf: g.leaf(w.segment, &out),
	})
}
