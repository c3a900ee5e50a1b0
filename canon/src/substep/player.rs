//! What an honest party of the second level answers, from its own values of the disputed node
//! (the node's inputs and output): the questions the off-chain players put to the node's
//! engine, which recomputes those values from the claim's input.

use alloc::{format, vec::Vec};

use codec::{Decode, DecodeWithMemTracking, Encode};
use scale_info::TypeInfo;

use super::SubStepWitness;
use super::{cut_witness, run_substep, substep_witness, CutWitness, Geometry, SubStepLimits};
use crate::{
	chunk::{chunk_bytes, TensorChunks, TensorHeader},
	error::{CanonError, Result},
	merkle::{Hash, MerkleProof, MerkleTree, Position},
	program::Program,
	tensor::Tensor,
};

/// A question about the second level inside node leaf `k` (the leaf travels beside it).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Query {
	/// The cut witness ([`cut_witness`]).
	#[codec(index = 0)]
	Cut,
	/// The header and data root of the node's output.
	#[codec(index = 1)]
	DataRoot,
	/// The children at `position` of the output's chunk tree.
	#[codec(index = 2)]
	ChunkChildren(Position),
	/// The root of tile `tile`'s segment states under the cut `geometry`, and the proof that
	/// its last leaf is the tile's chunk.
	#[codec(index = 3)]
	StateRoot { geometry: Geometry, tile: u64 },
	/// The children at `position` of tile `tile`'s segment-state tree.
	#[codec(index = 4)]
	StateChildren { geometry: Geometry, tile: u64, position: Position },
	/// The witness of sub-step `(tile, segment)` cut within `limits`, with the proof of the
	/// state it starts from in the segment-state tree (past segment 0).
	#[codec(index = 5)]
	SubStep { geometry: Geometry, limits: SubStepLimits, tile: u64, segment: u32 },
}

/// The answer to a [`Query`] of the same name.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Answer {
	#[codec(index = 0)]
	Cut(CutWitness),
	#[codec(index = 1)]
	DataRoot { header: TensorHeader, data_root: Hash },
	/// The children asked for by `ChunkChildren` or `StateChildren`.
	#[codec(index = 2)]
	Children(Hash, Hash),
	#[codec(index = 3)]
	StateRoot { root: Hash, last: MerkleProof },
	#[codec(index = 4)]
	SubStep { witness: SubStepWitness, state: Option<MerkleProof> },
}

impl Answer {
	/// The children, if this answers a children query.
	pub fn children(self) -> Option<(Hash, Hash)> {
		match self {
			Answer::Children(left, right) => Some((left, right)),
			_ => None,
		}
	}
}

/// A party's values of node leaf `k`: the program, its tree, the party's trace tree, the
/// node's inputs (in input order, constants included) and its output.
pub struct NodeValues<'a> {
	pub program: &'a Program,
	pub program_tree: &'a MerkleTree,
	pub trace_tree: &'a MerkleTree,
	pub k: u64,
	pub inputs: Vec<&'a Tensor>,
	pub output: &'a Tensor,
}

fn position_err(detail: impl Into<alloc::string::String>) -> CanonError {
	CanonError::Proof { detail: detail.into() }
}

impl NodeValues<'_> {
	/// The honest answer to `query`.
	pub fn answer(&self, query: &Query) -> Result<Answer> {
		let children = |tree: &MerkleTree, position: Position| {
			let (l, r) = tree.children(position).ok_or_else(|| {
				position_err(format!(
					"{position:?} has no children in a tree of depth {}",
					tree.depth()
				))
			})?;
			Ok(Answer::Children(l, r))
		};
		match query {
			Query::Cut => Ok(Answer::Cut(cut_witness(
				self.program,
				self.program_tree,
				self.trace_tree,
				self.k,
				&self.inputs,
			)?)),
			Query::DataRoot => {
				let chunks = TensorChunks::new(self.output);
				Ok(Answer::DataRoot { data_root: chunks.tree.root(), header: chunks.header })
			},
			Query::ChunkChildren(position) => {
				children(&TensorChunks::new(self.output).tree, *position)
			},
			Query::StateRoot { geometry, tile } => {
				let tree = self.state_tree(geometry, *tile)?;
				let last = tree
					.proof(u64::from(geometry.segments).saturating_sub(1))
					.ok_or_else(|| position_err("no segments"))?;
				Ok(Answer::StateRoot { root: tree.root(), last })
			},
			Query::StateChildren { geometry, tile, position } => {
				children(&self.state_tree(geometry, *tile)?, *position)
			},
			Query::SubStep { geometry, limits, tile, segment } => {
				let (state, proof) = match segment.checked_sub(1) {
					None => (None, None),
					Some(before) => {
						let states = self.tile_states(geometry, *tile)?;
						let tree = self.state_tree(geometry, *tile)?;
						let state = states.get(before as usize).cloned();
						(state, tree.proof(u64::from(before)))
					},
				};
				let witness = substep_witness(
					self.program,
					self.program_tree,
					self.trace_tree,
					self.k,
					&self.inputs,
					limits,
					(*tile, *segment),
					state,
				)?;
				Ok(Answer::SubStep { witness, state: proof })
			},
		}
	}

	/// The states tile `tile` leaves after each segment of the cut `g`, the last one the
	/// output's chunk of the tile.
	pub fn tile_states(&self, g: &Geometry, tile: u64) -> Result<Vec<Vec<u8>>> {
		let m = self.program.inputs.len() as u64;
		let node = self
			.k
			.checked_sub(m)
			.and_then(|j| self.program.nodes.get(j as usize))
			.ok_or_else(|| position_err(format!("leaf {} is not a node leaf", self.k)))?;
		let mut states: Vec<Vec<u8>> = Vec::with_capacity(g.segments as usize);
		for s in 0..g.segments {
			let next = if g.is_last(s) {
				chunk_bytes(self.output, tile)
					.ok_or_else(|| position_err(format!("no tile {tile}")))?
					.to_vec()
			} else {
				run_substep(&node.op, &self.inputs, g, tile, s, states.last().map(|v| &v[..]))?
			};
			states.push(next);
		}
		Ok(states)
	}

	/// The tree over tile `tile`'s segment states' leaves ([`Geometry::leaf`]).
	pub fn state_tree(&self, g: &Geometry, tile: u64) -> Result<MerkleTree> {
		let states = self.tile_states(g, tile)?;
		Ok(MerkleTree::new(states.iter().enumerate().map(|(s, b)| g.leaf(s as u32, b)).collect()))
	}
}
