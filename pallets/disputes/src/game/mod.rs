//! The two-party challenge game as a pure state machine.
//!
//! A [`Game`] is opened by the challenger ([`Game::open`]) and then changed only by its
//! transitions: [`Game::respond`], [`Game::bisect`], [`Game::one_step`], [`Game::timeout`]. Each
//! takes the [`ClaimContext`] (what the chain knows about the claim), the current block `now`
//! and the move, checks everything first and writes last: on an error the game is unchanged.
//!
//! ## Rules
//! 1. **Open** (challenger): its trace root and one [`LeafWitness`] per claim output, output `i`
//!    at trace leaf `output_leaf_range(m, n, k).start + i`, proved against its root over
//!    `m + n` leaves; at least one output is NOT within tolerance of the claim's. The claimant
//!    then owes [`Game::respond`].
//! 2. **Respond** (claimant): the same with its own root, and every output IS within tolerance.
//!    Bisection starts at the root position; both parties owe a move.
//! 3. **Bisect**: in round `r` (tree depth `r`) each party reveals the children of its current
//!    node hash, in any order, once. When both have moved the game goes left if the left children
//!    differ, else right ([`edgeproof_canon::merkle::next_position`]), and each party's current
//!    hash becomes its child on that side. At the leaf depth (at once if the tree is one leaf),
//!    leaf `k` is judged: a padding leaf (`k >= m + n`) against [`ZERO_HASH`], an input leaf
//!    (`k < m`) against the claim's input; a node leaf needs a one-step.
//! 4. **One step** (owed by the claimant, anyone may post it): the witness is checked with
//!    [`verify_one_step`] against the claimant's root, or if that proof fails against the
//!    challenger's (the leaves before `k` agree, so either root fixes them); the party whose leaf
//!    equals the result wins, neither if none does.
//! 5. **Clocks**: each party's clock (blocks left) runs only while it owes a move: the claimant
//!    for respond and the one-step, each party in a bisection round until it has moved. A move
//!    that hands the turn to the opponent leaves the opponent at least `min_extension` blocks.
//!    A party whose clock has run out can no longer move; [`Game::timeout`] ends the game (both
//!    out: neither wins).
//!
//! Why the descent finds a real dispute: the parties' root hashes differ, and at every step the
//! side taken is one where their hashes differ, so the leaf reached differs; every leaf before
//! it lies in a left subtree whose hashes agreed, so both traces hold the same values there. A
//! padding leaf is therefore never reached in a game that passed open and respond (all real
//! leaves, outputs included, would agree); it is judged all the same.

use core::ops::Range;

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use edgeproof_canon::{
	leaf_hash,
	merkle::{hash_pair, next_position, tree_depth, verify_proof},
	output_leaf_range,
	substep::{verify_cut, verify_substep, CutWitness, Geometry, SubStepLimits, SubStepWitness},
	verify_one_step, within_tolerance, CanonError, Hash, LeafWitness, Limits, MerkleProof,
	OneStepContext, OneStepWitness, Position, Tensor, TensorHeader, Tolerance, ZERO_HASH,
};
use scale_info::TypeInfo;
use sp_io::hashing::blake2_256;

#[cfg(test)]
mod properties;
#[cfg(test)]
mod second_level;
#[cfg(feature = "std")]
pub mod testing;
#[cfg(test)]
mod tests;

/// Block numbers and clock budgets, in blocks.
pub type BlockNumber = u32;

/// One side of a dispute.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum Party {
	/// The device operator whose claim is disputed.
	#[codec(index = 0)]
	Claimant,
	/// The account that opened the dispute.
	#[codec(index = 1)]
	Challenger,
}

impl Party {
	/// The other party.
	pub fn opponent(self) -> Party {
		match self {
			Party::Claimant => Party::Challenger,
			Party::Challenger => Party::Claimant,
		}
	}
}

/// Who won a finished game.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum Winner {
	/// The claim stands against this challenger.
	#[codec(index = 0)]
	Claimant,
	/// The claim is invalid.
	#[codec(index = 1)]
	Challenger,
	/// Both parties were wrong (or both ran out of time): both lose.
	#[codec(index = 2)]
	Neither,
}

impl From<Party> for Winner {
	fn from(p: Party) -> Self {
		match p {
			Party::Claimant => Winner::Claimant,
			Party::Challenger => Winner::Challenger,
		}
	}
}

/// How a game was decided.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum Reason {
	/// A party that owed a move ran out of time.
	#[codec(index = 0)]
	Timeout,
	/// The descent ended at an input leaf, judged against the claim's input.
	#[codec(index = 1)]
	InputLeaf { leaf: u64 },
	/// The descent ended at a padding leaf, judged against the zero hash.
	#[codec(index = 2)]
	PaddingLeaf { leaf: u64 },
	/// The descent ended at a node leaf, judged by re-executing the node.
	#[codec(index = 3)]
	OneStep { leaf: u64 },
	/// The second level ended at sub-step `(tile, segment)` of node leaf `leaf`, judged by
	/// running it.
	#[codec(index = 4)]
	SubStep { leaf: u64, tile: u64, segment: u32 },
	/// The second level inside node leaf `leaf` ended at a padding leaf of its chunk tree or of
	/// a tile's segment states, judged against the zero hash.
	#[codec(index = 5)]
	SubStepPadding { leaf: u64 },
}

/// The end of a game.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Resolution {
	pub winner: Winner,
	pub reason: Reason,
}

/// What a successful move led to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
	/// The move was recorded; the game goes on.
	Continues,
	/// The move ended the game.
	Resolved(Resolution),
}

/// The clock parameters of a game, fixed when it is opened.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct ClockParams {
	/// Each party's initial clock, in blocks.
	pub budget: BlockNumber,
	/// The least time a party has when a move hands it the turn, in blocks.
	pub min_extension: BlockNumber,
}

/// The two children a party revealed in the current round.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Children {
	pub left: Hash,
	pub right: Hash,
}

/// What a party reveals in a second-level [`Game::reveal`].
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Revealed {
	/// The data root of the party's node leaf, with the node's output header.
	#[codec(index = 0)]
	DataRoot { header: TensorHeader, data_root: Hash },
	/// The root of the party's segment states of the disputed tile, and the proof that its last
	/// leaf is the party's chunk of that tile.
	#[codec(index = 1)]
	StateRoot { root: Hash, last: MerkleProof },
}

/// The node the second level runs inside: its trace leaf, its cut and the limits that fixed it
/// (kept, so a change of the chain's limits cannot change a game under way).
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Inside {
	pub leaf: u64,
	pub geometry: Geometry,
	pub limits: SubStepLimits,
}

/// The tree a bisection descends.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum Level {
	/// The trace: its `m + n` leaves.
	#[codec(index = 0)]
	Trace,
	/// The chunk tree of the disputed node's output: one leaf per tile.
	#[codec(index = 1)]
	Tiles { inside: Inside },
	/// Tile `tile`'s segment states (leaf `s`: the state after segment `s`, the last one the
	/// tile's chunk), each party's tree root.
	#[codec(index = 2)]
	Segments { inside: Inside, tile: u64, claimant_states: Hash, challenger_states: Hash },
}

impl Level {
	/// A key per bisection node of every tree of a game (the trace, a node's chunks, a tile's
	/// segment states): how the players remember which moves they sent.
	pub fn move_key(&self, position: Position) -> u64 {
		let tree: u64 = match self {
			Level::Trace => 0,
			Level::Tiles { .. } => 1,
			Level::Segments { .. } => 2,
		};
		(tree << 56) | (u64::from(position.depth) << 48) | (position.index & ((1 << 48) - 1))
	}

	/// Leaves of the tree (`None`: the trace's, from the context).
	fn leaves(&self) -> Option<u64> {
		match self {
			Level::Trace => None,
			Level::Tiles { inside } => Some(inside.geometry.tiles()),
			Level::Segments { inside, .. } => Some(u64::from(inside.geometry.segments)),
		}
	}
}

/// What the parties reveal, each once, before a second-level descent.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum Reveal {
	/// The data root of the party's node leaf, under the node's output header (whose hash is
	/// `header`): `header.leaf_hash(data_root)` must be the party's leaf.
	#[codec(index = 0)]
	DataRoots { inside: Inside, header: Hash, claimant_leaf: Hash, challenger_leaf: Hash },
	/// The root of the party's segment states of tile `tile`, whose last leaf must be the
	/// party's chunk leaf of that tile.
	#[codec(index = 1)]
	StateRoots { inside: Inside, tile: u64, claimant_chunk: Hash, challenger_chunk: Hash },
}

/// Where a game is.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum Phase {
	/// Opened; the claimant owes [`Game::respond`].
	#[codec(index = 0)]
	AwaitingResponse,
	/// Bisection round `position.depth` of the tree `level`, at `position`. Each party's current
	/// node hash there, and the children it revealed this round (`None`: it still owes its
	/// move).
	#[codec(index = 1)]
	Bisection {
		level: Level,
		position: Position,
		claimant_node: Hash,
		challenger_node: Hash,
		claimant_move: Option<Children>,
		challenger_move: Option<Children>,
	},
	/// The descent ended at node leaf `leaf`, where the parties' leaves differ; the claimant owes
	/// [`Game::one_step`], or for a node too heavy for one, [`Game::cut`] (anyone may post
	/// either).
	#[codec(index = 2)]
	AwaitingOneStep { leaf: u64, claimant_leaf: Hash, challenger_leaf: Hash },
	/// Over.
	#[codec(index = 3)]
	Resolved(Resolution),
	/// Second level: each party owes [`Game::reveal`] of `what` (`Some`: what it revealed).
	#[codec(index = 4)]
	Revealing { what: Reveal, claimant: Option<Hash>, challenger: Option<Hash> },
	/// The second level ended at sub-step `(tile, segment)`, where the parties' leaves differ
	/// (and, past segment 0, both state roots hold the same state before it); the claimant owes
	/// [`Game::sub_step`] (anyone may post it).
	#[codec(index = 5)]
	AwaitingSubStep {
		inside: Inside,
		tile: u64,
		segment: u32,
		claimant_leaf: Hash,
		challenger_leaf: Hash,
		/// The parties' segment-state roots (`None` for a tile of one segment).
		states: Option<(Hash, Hash)>,
	},
}

/// Why a move was refused. The game is unchanged after any of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GameError {
	/// The game is over; it accepts no more moves.
	AlreadyResolved,
	/// The game does not await this kind of move now (e.g. a bisection move before the
	/// claimant responded, or a one-step during the bisection).
	UnexpectedMove,
	/// This party may not make this move (only the claimant responds).
	WrongParty,
	/// The party already moved in this bisection round; wait for the opponent.
	AlreadyMoved,
	/// The move is for another round than the current one.
	WrongRound,
	/// The mover's clock has run out; the game can only be ended with `timeout`.
	ClockExpired,
	/// `now` is before the block of the game's last change.
	BlockInThePast,
	/// The claim context is inconsistent: more outputs than nodes, or no input tensor for the
	/// input leaf the descent reached.
	InvalidContext,
	/// Not one output witness per claimed output.
	WrongOutputCount,
	/// An output witness's proof is not for that output's trace leaf.
	WrongOutputLeaf,
	/// An output witness does not verify against the mover's trace root.
	BadOutputProof,
	/// Every challenger output is within tolerance of the claim: there is nothing to dispute.
	ChallengerOutputWithinTolerance,
	/// Some claimant output is not within tolerance of its own claim.
	ClaimantOutputNotWithinTolerance,
	/// The claimant's trace root equals the challenger's; they cannot both hold.
	SameTraceRoot,
	/// The revealed children do not hash to the party's current node.
	ChildrenMismatch,
	/// The one-step witness verifies against neither party's trace root.
	OneStepNotProven,
	/// The one-step witness cannot be checked or run: a tensor in it exceeds the limits, or the
	/// operator rejects its (proved) inputs.
	OneStepFailed,
	/// No party that owes a move has run out of time.
	NotTimedOut,
	/// The cut witness verifies against neither party's trace root.
	CutNotProven,
	/// The node has no sub-steps, cannot be cut within the sub-step limits, or finding its cut
	/// costs more than the context's `cut_budget`.
	CutFailed,
	/// What the party revealed does not commit to its leaf: a data root under another header
	/// than the node's output's, or a state root whose last leaf is not the party's chunk.
	RevealMismatch,
	/// The sub-step witness is for another sub-step than the disputed one.
	WrongSubStep,
	/// The sub-step witness verifies against neither party's trace root.
	SubStepNotProven,
	/// The sub-step's starting state is not the one both parties' state roots hold.
	StateNotProven,
	/// The sub-step cannot run on its (proved) inputs, or its node is not the one cut.
	SubStepFailed,
}

/// What the chain knows about the disputed claim, passed to every transition.
///
/// Not every transition reads every field, so the pallet can skip loading the claim's tensors
/// where they are not needed: `open` and `respond` read `outputs` and `tolerance`; `bisect`
/// reads `input_leaves` only when the descent ends at an input leaf (in the last round), and
/// those the pallet keeps with the dispute, so no move after `respond` reads the claim's
/// payloads; `one_step` reads neither (only `program_root`, the counts and `limits`).
#[derive(Clone, Copy, Debug)]
pub struct ClaimContext<'a> {
	/// Root of the model's canonical program (over its node leaves).
	pub program_root: Hash,
	/// Number of graph inputs m.
	pub input_count: u32,
	/// Number of program nodes n.
	pub node_count: u32,
	/// The leaf hashes of the claim's input tensors (trace leaves `0..m`).
	pub input_leaves: &'a [Hash],
	/// The claim's output tensors, in graph order (k of them).
	pub outputs: &'a [Tensor],
	/// The model's tolerance.
	pub tolerance: Tolerance,
	/// Bounds for executing a one-step.
	pub limits: Limits,
	/// What every sub-step of a node cut when the second level starts must stay within.
	pub substep_limits: SubStepLimits,
	/// The most finding a cut may cost ([`edgeproof_canon::substep::geometry_within`]): what
	/// [`Game::cut`] is weighed for.
	pub cut_budget: u64,
}

impl ClaimContext<'_> {
	/// Number of trace leaves `m + n`.
	pub fn trace_len(&self) -> u64 {
		u64::from(self.input_count).saturating_add(u64::from(self.node_count))
	}

	/// Depth of the trace tree: the bisection has this many rounds.
	pub fn depth(&self) -> u32 {
		tree_depth(self.trace_len())
	}

	/// The one-step context over `trace_root`.
	fn one_step(&self, trace_root: Hash) -> OneStepContext {
		OneStepContext {
			program_root: self.program_root,
			node_count: self.node_count,
			input_count: self.input_count,
			trace_root,
			limits: self.limits,
		}
	}

	/// The trace leaves of the outputs (`None` if there are more outputs than nodes).
	pub fn output_leaves(&self) -> Option<Range<u64>> {
		output_leaf_range(
			self.input_count,
			self.node_count,
			u32::try_from(self.outputs.len()).ok()?,
		)
	}

	/// Checks the output witnesses against `root`: one per claimed output, each at its leaf.
	fn check_outputs(&self, root: &Hash, outputs: &[LeafWitness]) -> Result<(), GameError> {
		let leaves = self.output_leaves().ok_or(GameError::InvalidContext)?;
		if outputs.len() != self.outputs.len() {
			return Err(GameError::WrongOutputCount);
		}
		for (leaf, w) in leaves.zip(outputs) {
			if w.proof.index != leaf {
				return Err(GameError::WrongOutputLeaf);
			}
			if !verify_proof(root, self.trace_len(), &leaf_hash(&w.tensor), &w.proof) {
				return Err(GameError::BadOutputProof);
			}
		}
		Ok(())
	}

	/// Is every witness's tensor within tolerance of the claimed output at its place?
	fn all_within(&self, outputs: &[LeafWitness]) -> bool {
		outputs.len() == self.outputs.len()
			&& self.outputs.iter().zip(outputs).all(|(claimed, w)| {
				within_tolerance(
					core::slice::from_ref(claimed),
					core::slice::from_ref(&w.tensor),
					self.tolerance,
				)
			})
	}
}

/// Each party's clock: blocks left as of block `at` (an owing party's clock runs from `at`).
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Clocks {
	pub claimant: BlockNumber,
	pub challenger: BlockNumber,
	pub at: BlockNumber,
}

/// One dispute between a claimant and a challenger (see the module docs for the rules).
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct Game {
	params: ClockParams,
	clocks: Clocks,
	challenger_root: Hash,
	/// Set by `respond`.
	claimant_root: Option<Hash>,
	phase: Phase,
}

impl Game {
	/// Opens a dispute at block `now` (the challenger's move).
	///
	/// `challenger_outputs` holds one witness per claimed output, proved against
	/// `challenger_root`; at least one must NOT be within tolerance of the claim's output.
	/// Errors: `InvalidContext`, `WrongOutputCount`, `WrongOutputLeaf`, `BadOutputProof`,
	/// `ChallengerOutputWithinTolerance`. The claimant then owes [`Game::respond`], with at least
	/// `params.min_extension` blocks.
	pub fn open(
		ctx: &ClaimContext,
		now: BlockNumber,
		challenger_root: Hash,
		challenger_outputs: &[LeafWitness],
		params: ClockParams,
	) -> Result<Game, GameError> {
		ctx.check_outputs(&challenger_root, challenger_outputs)?;
		if ctx.all_within(challenger_outputs) {
			return Err(GameError::ChallengerOutputWithinTolerance);
		}
		let mut game = Game {
			params,
			clocks: Clocks { claimant: params.budget, challenger: params.budget, at: now },
			challenger_root,
			claimant_root: None,
			phase: Phase::AwaitingResponse,
		};
		game.extend_opponent_of(Party::Challenger);
		Ok(game)
	}

	/// The claimant's answer at block `now`: its trace root and one witness per claimed output,
	/// every one within tolerance of the claim's output.
	///
	/// Errors: `AlreadyResolved`, `UnexpectedMove`, `WrongParty`, `BlockInThePast`,
	/// `ClockExpired`, `SameTraceRoot`, `InvalidContext`, `WrongOutputCount`, `WrongOutputLeaf`,
	/// `BadOutputProof`, `ClaimantOutputNotWithinTolerance`. Starts the bisection at the root
	/// (or judges the only leaf of a one-leaf trace).
	pub fn respond(
		&mut self,
		ctx: &ClaimContext,
		now: BlockNumber,
		party: Party,
		claimant_root: Hash,
		claimant_outputs: &[LeafWitness],
	) -> Result<Outcome, GameError> {
		self.ensure_running(now)?;
		if self.phase != Phase::AwaitingResponse {
			return Err(GameError::UnexpectedMove);
		}
		if party != Party::Claimant {
			return Err(GameError::WrongParty);
		}
		self.ensure_clock(party, now)?;
		if claimant_root == self.challenger_root {
			return Err(GameError::SameTraceRoot);
		}
		ctx.check_outputs(&claimant_root, claimant_outputs)?;
		if !ctx.all_within(claimant_outputs) {
			return Err(GameError::ClaimantOutputNotWithinTolerance);
		}
		let phase = Self::at_position(
			ctx,
			Level::Trace,
			Position::ROOT,
			claimant_root,
			self.challenger_root,
		)?;
		let outcome = self.advance(now, phase, Some(party));
		self.claimant_root = Some(claimant_root);
		Ok(outcome)
	}

	/// A bisection move at block `now`: `party` reveals the `left` and `right` children of its
	/// current node in round `round`.
	///
	/// Errors: `AlreadyResolved`, `UnexpectedMove`, `BlockInThePast`, `WrongRound`,
	/// `AlreadyMoved`, `ClockExpired`, `ChildrenMismatch`, `InvalidContext`. The second move of
	/// a round moves the game down one level and may end it (input or padding leaf); only then,
	/// at an input leaf, is `ctx.input_leaves` read.
	pub fn bisect(
		&mut self,
		ctx: &ClaimContext,
		now: BlockNumber,
		party: Party,
		round: u32,
		left: Hash,
		right: Hash,
	) -> Result<Outcome, GameError> {
		self.ensure_running(now)?;
		let Phase::Bisection {
			level,
			position,
			claimant_node,
			challenger_node,
			claimant_move,
			challenger_move,
		} = self.phase
		else {
			return Err(GameError::UnexpectedMove);
		};
		if round != position.depth {
			return Err(GameError::WrongRound);
		}
		let (node, moved) = match party {
			Party::Claimant => (claimant_node, claimant_move),
			Party::Challenger => (challenger_node, challenger_move),
		};
		if moved.is_some() {
			return Err(GameError::AlreadyMoved);
		}
		self.ensure_clock(party, now)?;
		if hash_pair(&left, &right) != node {
			return Err(GameError::ChildrenMismatch);
		}
		let children = Some(Children { left, right });
		let (claimant_move, challenger_move) = match party {
			Party::Claimant => (children, challenger_move),
			Party::Challenger => (claimant_move, children),
		};
		let (phase, round_closed) = match (claimant_move, challenger_move) {
			(Some(a), Some(b)) => {
				let next = next_position(position, &a.left, &b.left);
				let (a, b) =
					if next == position.left() { (a.left, b.left) } else { (a.right, b.right) };
				(Self::at_position(ctx, level, next, a, b)?, true)
			},
			_ => {
				let waiting = Phase::Bisection {
					level,
					position,
					claimant_node,
					challenger_node,
					claimant_move,
					challenger_move,
				};
				(waiting, false)
			},
		};
		Ok(self.advance(now, phase, round_closed.then_some(party)))
	}

	/// The one-step at block `now`: re-executes the node at the disputed leaf from `witness`
	/// (proved against the claimant's trace root, or failing that the challenger's) and gives
	/// the game to the party whose leaf matches, to neither if none does. Anyone may post it;
	/// the claimant's clock must not have run out.
	///
	/// Errors: `AlreadyResolved`, `UnexpectedMove`, `BlockInThePast`, `ClockExpired`,
	/// `OneStepNotProven`, `OneStepFailed`.
	pub fn one_step(
		&mut self,
		ctx: &ClaimContext,
		now: BlockNumber,
		witness: &OneStepWitness,
	) -> Result<Outcome, GameError> {
		self.ensure_running(now)?;
		let (Phase::AwaitingOneStep { leaf, claimant_leaf, challenger_leaf }, Some(claimant_root)) =
			(self.phase, self.claimant_root)
		else {
			return Err(GameError::UnexpectedMove);
		};
		self.ensure_clock(Party::Claimant, now)?;
		let computed = self.on_either_root(
			claimant_root,
			(GameError::OneStepNotProven, GameError::OneStepFailed),
			|root| verify_one_step(&ctx.one_step(root), leaf, witness),
		)?;
		let resolution = Resolution {
			winner: judge(&computed, &claimant_leaf, &challenger_leaf),
			reason: Reason::OneStep { leaf },
		};
		Ok(self.advance(now, Phase::Resolved(resolution), None))
	}

	/// Starts the second level at block `now`, in place of the one-step of a node too heavy for
	/// one: `witness` proves the node and its inputs' headers (against the claimant's trace root,
	/// or failing that the challenger's), which fix the node's cut within
	/// `ctx.substep_limits` and its output's header. Both parties then owe [`Game::reveal`] of
	/// their leaf's data root. Anyone may post it; the claimant's clock must not have run out.
	///
	/// Returns what finding the cut cost ([`edgeproof_canon::substep::geometry_within`]); the
	/// game goes on.
	///
	/// Errors: `AlreadyResolved`, `UnexpectedMove`, `BlockInThePast`, `ClockExpired`,
	/// `CutNotProven`, `CutFailed`.
	pub fn cut(
		&mut self,
		ctx: &ClaimContext,
		now: BlockNumber,
		witness: &CutWitness,
	) -> Result<u64, GameError> {
		self.ensure_running(now)?;
		let (Phase::AwaitingOneStep { leaf, claimant_leaf, challenger_leaf }, Some(claimant_root)) =
			(self.phase, self.claimant_root)
		else {
			return Err(GameError::UnexpectedMove);
		};
		self.ensure_clock(Party::Claimant, now)?;
		let limits = ctx.substep_limits;
		let cut = self.on_either_root(
			claimant_root,
			(GameError::CutNotProven, GameError::CutFailed),
			|root| verify_cut(&ctx.one_step(root), leaf, witness, &limits, ctx.cut_budget),
		)?;
		let inside = Inside { leaf, geometry: cut.geometry, limits };
		let header = blake2_256(&cut.output.encode());
		let phase = Phase::Revealing {
			what: Reveal::DataRoots { inside, header, claimant_leaf, challenger_leaf },
			claimant: None,
			challenger: None,
		};
		self.advance(now, phase, Some(Party::Claimant));
		Ok(cut.cost)
	}

	/// A second-level reveal at block `now` by `party`: the data root of its node leaf (with
	/// the node's output header), or the root of its segment states of the disputed tile (with
	/// the proof that their last leaf is its chunk). When both have revealed, the descent
	/// starts in that tree.
	///
	/// Errors: `AlreadyResolved`, `UnexpectedMove` (also for the other kind of reveal),
	/// `BlockInThePast`, `AlreadyMoved`, `ClockExpired`, `RevealMismatch`, `InvalidContext`.
	pub fn reveal(
		&mut self,
		ctx: &ClaimContext,
		now: BlockNumber,
		party: Party,
		revealed: &Revealed,
	) -> Result<Outcome, GameError> {
		self.ensure_running(now)?;
		let Phase::Revealing { what, claimant, challenger } = self.phase else {
			return Err(GameError::UnexpectedMove);
		};
		let mine = match party {
			Party::Claimant => claimant,
			Party::Challenger => challenger,
		};
		if mine.is_some() {
			return Err(GameError::AlreadyMoved);
		}
		self.ensure_clock(party, now)?;
		let pick = |claimant: Hash, challenger: Hash| match party {
			Party::Claimant => claimant,
			Party::Challenger => challenger,
		};
		let root = match (what, revealed) {
			(
				Reveal::DataRoots { header, claimant_leaf, challenger_leaf, .. },
				Revealed::DataRoot { header: h, data_root },
			) => {
				let leaf = pick(claimant_leaf, challenger_leaf);
				if blake2_256(&h.encode()) != header || h.leaf_hash(data_root) != leaf {
					return Err(GameError::RevealMismatch);
				}
				*data_root
			},
			(
				Reveal::StateRoots { inside, claimant_chunk, challenger_chunk, .. },
				Revealed::StateRoot { root, last },
			) => {
				let segments = u64::from(inside.geometry.segments);
				let chunk = pick(claimant_chunk, challenger_chunk);
				if last.index.checked_add(1) != Some(segments)
					|| !verify_proof(root, segments, &chunk, last)
				{
					return Err(GameError::RevealMismatch);
				}
				*root
			},
			_ => return Err(GameError::UnexpectedMove),
		};
		let (claimant, challenger) = match party {
			Party::Claimant => (Some(root), challenger),
			Party::Challenger => (claimant, Some(root)),
		};
		let (phase, closed) = match (claimant, challenger) {
			(Some(a), Some(b)) => {
				let level = match what {
					Reveal::DataRoots { inside, .. } => Level::Tiles { inside },
					Reveal::StateRoots { inside, tile, .. } => {
						Level::Segments { inside, tile, claimant_states: a, challenger_states: b }
					},
				};
				(Self::at_position(ctx, level, Position::ROOT, a, b)?, true)
			},
			_ => (Phase::Revealing { what, claimant, challenger }, false),
		};
		Ok(self.advance(now, phase, closed.then_some(party)))
	}

	/// The sub-step at block `now`: runs the disputed sub-step from `witness` (its inputs proved
	/// against the claimant's trace root, or failing that the challenger's; past segment 0, its
	/// starting state proved by `state` at the previous segment in either party's state root)
	/// and gives the game to the party whose leaf matches, to neither if none does. Anyone may
	/// post it; the claimant's clock must not have run out.
	///
	/// Errors: `AlreadyResolved`, `UnexpectedMove`, `BlockInThePast`, `ClockExpired`,
	/// `WrongSubStep`, `SubStepNotProven`, `StateNotProven`, `SubStepFailed`.
	pub fn sub_step(
		&mut self,
		ctx: &ClaimContext,
		now: BlockNumber,
		witness: &SubStepWitness,
		state: Option<&MerkleProof>,
	) -> Result<Outcome, GameError> {
		self.ensure_running(now)?;
		let (
			Phase::AwaitingSubStep {
				inside,
				tile,
				segment,
				claimant_leaf,
				challenger_leaf,
				states,
			},
			Some(claimant_root),
		) = (self.phase, self.claimant_root)
		else {
			return Err(GameError::UnexpectedMove);
		};
		self.ensure_clock(Party::Claimant, now)?;
		if (witness.tile, witness.segment) != (tile, segment) {
			return Err(GameError::WrongSubStep);
		}
		let outcome = self.on_either_root(
			claimant_root,
			(GameError::SubStepNotProven, GameError::SubStepFailed),
			|root| verify_substep(&ctx.one_step(root), inside.leaf, witness, &inside.geometry),
		)?;
		let segments = u64::from(inside.geometry.segments);
		let started_agreed = match (segment.checked_sub(1), outcome.from, state, states) {
			(None, None, None, _) => true,
			(Some(before), Some(from), Some(proof), Some((a, b))) => {
				proof.index == u64::from(before)
					&& (verify_proof(&a, segments, &from, proof)
						|| verify_proof(&b, segments, &from, proof))
			},
			_ => false,
		};
		if !started_agreed {
			return Err(GameError::StateNotProven);
		}
		let resolution = Resolution {
			winner: judge(&outcome.leaf, &claimant_leaf, &challenger_leaf),
			reason: Reason::SubStep { leaf: inside.leaf, tile, segment },
		};
		Ok(self.advance(now, Phase::Resolved(resolution), None))
	}

	/// Ends the game at block `now` if a party that owes a move has run out of time: its opponent
	/// wins, or neither if both owe and both ran out. Anyone may call it.
	///
	/// Errors: `AlreadyResolved`, `BlockInThePast`, `NotTimedOut`.
	pub fn timeout(&mut self, now: BlockNumber) -> Result<Outcome, GameError> {
		self.ensure_running(now)?;
		let winner = self.timed_out(now).ok_or(GameError::NotTimedOut)?;
		Ok(self.advance(now, Phase::Resolved(Resolution { winner, reason: Reason::Timeout }), None))
	}

	/// Does `party` owe a move (is its clock running)?
	pub fn owes(&self, party: Party) -> bool {
		match (self.phase, party) {
			(
				Phase::AwaitingResponse
				| Phase::AwaitingOneStep { .. }
				| Phase::AwaitingSubStep { .. },
				Party::Claimant,
			) => true,
			(Phase::Revealing { claimant, .. }, Party::Claimant) => claimant.is_none(),
			(Phase::Revealing { challenger, .. }, Party::Challenger) => challenger.is_none(),
			(Phase::Bisection { claimant_move, .. }, Party::Claimant) => claimant_move.is_none(),
			(Phase::Bisection { challenger_move, .. }, Party::Challenger) => {
				challenger_move.is_none()
			},
			_ => false,
		}
	}

	/// Blocks left on `party`'s clock at block `now` (0: it ran out).
	pub fn remaining(&self, party: Party, now: BlockNumber) -> BlockNumber {
		let stored = match party {
			Party::Claimant => self.clocks.claimant,
			Party::Challenger => self.clocks.challenger,
		};
		if self.owes(party) {
			stored.saturating_sub(now.saturating_sub(self.clocks.at))
		} else {
			stored
		}
	}

	/// The first block at which [`Game::timeout`] succeeds unless the owing parties move (`None`
	/// once resolved). It changes only when the game does, so it needs no `now`; the pallet can
	/// schedule the timeout check for it.
	pub fn deadline(&self) -> Option<BlockNumber> {
		[Party::Claimant, Party::Challenger]
			.into_iter()
			.filter(|&p| self.owes(p))
			.map(|p| self.clocks.at.saturating_add(self.remaining(p, self.clocks.at)))
			.min()
	}

	/// What [`Game::timeout`] would decide at `now` (`None`: no owing party ran out, or over).
	pub fn timed_out(&self, now: BlockNumber) -> Option<Winner> {
		let out = |p: Party| self.owes(p) && self.remaining(p, now) == 0;
		match (out(Party::Claimant), out(Party::Challenger)) {
			(true, true) => Some(Winner::Neither),
			(true, false) => Some(Winner::Challenger),
			(false, true) => Some(Winner::Claimant),
			(false, false) => None,
		}
	}

	/// Where the game is.
	pub fn phase(&self) -> &Phase {
		&self.phase
	}

	/// The current tree position: the bisection position (in the tree of its level), or the
	/// disputed trace leaf (at the leaf depth) while a one-step is awaited.
	pub fn position(&self, ctx: &ClaimContext) -> Option<Position> {
		match self.phase {
			Phase::Bisection { position, .. } => Some(position),
			Phase::AwaitingOneStep { leaf, .. } => {
				Some(Position { depth: ctx.depth(), index: leaf })
			},
			_ => None,
		}
	}

	/// The current bisection round (the depth of the position), if bisecting.
	pub fn round(&self) -> Option<u32> {
		match self.phase {
			Phase::Bisection { position, .. } => Some(position.depth),
			_ => None,
		}
	}

	/// How the game ended, if it has.
	pub fn resolution(&self) -> Option<Resolution> {
		match self.phase {
			Phase::Resolved(r) => Some(r),
			_ => None,
		}
	}

	/// The challenger's trace root.
	pub fn challenger_root(&self) -> Hash {
		self.challenger_root
	}

	/// The claimant's trace root, once it responded.
	pub fn claimant_root(&self) -> Option<Hash> {
		self.claimant_root
	}

	/// The clock parameters fixed at opening.
	pub fn params(&self) -> ClockParams {
		self.params
	}

	/// The stored clocks (see [`Game::remaining`] for the time left at a block).
	pub fn clocks(&self) -> Clocks {
		self.clocks
	}

	/// The phase at `position` of `level`'s tree once both parties' hashes there are known: a
	/// bisection round, or at the leaf depth what that leaf leads to: a judgement (input and
	/// padding leaves), the one-step (a node leaf), the segment states to reveal (a tile of
	/// several segments) or the sub-step.
	fn at_position(
		ctx: &ClaimContext,
		level: Level,
		position: Position,
		claimant_node: Hash,
		challenger_node: Hash,
	) -> Result<Phase, GameError> {
		let leaves = level.leaves().unwrap_or_else(|| ctx.trace_len());
		if position.depth < tree_depth(leaves) {
			return Ok(Phase::Bisection {
				level,
				position,
				claimant_node,
				challenger_node,
				claimant_move: None,
				challenger_move: None,
			});
		}
		let at = position.index;
		let judged = |correct: Hash, reason| {
			let winner = judge(&correct, &claimant_node, &challenger_node);
			Ok(Phase::Resolved(Resolution { winner, reason }))
		};
		let inside = match level {
			Level::Trace if at >= leaves => {
				return judged(ZERO_HASH, Reason::PaddingLeaf { leaf: at })
			},
			Level::Trace if at < u64::from(ctx.input_count) => {
				let input = usize::try_from(at)
					.ok()
					.and_then(|i| ctx.input_leaves.get(i))
					.ok_or(GameError::InvalidContext)?;
				return judged(*input, Reason::InputLeaf { leaf: at });
			},
			Level::Trace => {
				return Ok(Phase::AwaitingOneStep {
					leaf: at,
					claimant_leaf: claimant_node,
					challenger_leaf: challenger_node,
				})
			},
			Level::Tiles { inside } | Level::Segments { inside, .. } => inside,
		};
		if at >= leaves {
			return judged(ZERO_HASH, Reason::SubStepPadding { leaf: inside.leaf });
		}
		let sub_step = |tile: u64, segment: u32, states| Phase::AwaitingSubStep {
			inside,
			tile,
			segment,
			claimant_leaf: claimant_node,
			challenger_leaf: challenger_node,
			states,
		};
		Ok(match level {
			Level::Segments { tile, claimant_states, challenger_states, .. } => {
				let segment = u32::try_from(at).map_err(|_| GameError::InvalidContext)?;
				sub_step(tile, segment, Some((claimant_states, challenger_states)))
			},
			_ if inside.geometry.segments == 1 => sub_step(at, 0, None),
			_ => Phase::Revealing {
				what: Reveal::StateRoots {
					inside,
					tile: at,
					claimant_chunk: claimant_node,
					challenger_chunk: challenger_node,
				},
				claimant: None,
				challenger: None,
			},
		})
	}

	/// `check` against the claimant's trace root, and if its proofs fail there against the
	/// challenger's: the leaves before the disputed one agree, so either root proves them. A
	/// proof that fails against both is `not_proven`, any other error `failed`.
	fn on_either_root<R>(
		&self,
		claimant_root: Hash,
		(not_proven, failed): (GameError, GameError),
		check: impl Fn(Hash) -> Result<R, CanonError>,
	) -> Result<R, GameError> {
		let result = match check(claimant_root) {
			Err(CanonError::Proof { .. }) => check(self.challenger_root),
			other => other,
		};
		result.map_err(|e| match e {
			CanonError::Proof { .. } => not_proven,
			_ => failed,
		})
	}

	fn ensure_running(&self, now: BlockNumber) -> Result<(), GameError> {
		if matches!(self.phase, Phase::Resolved(_)) {
			return Err(GameError::AlreadyResolved);
		}
		if now < self.clocks.at {
			return Err(GameError::BlockInThePast);
		}
		Ok(())
	}

	fn ensure_clock(&self, party: Party, now: BlockNumber) -> Result<(), GameError> {
		if self.remaining(party, now) == 0 {
			return Err(GameError::ClockExpired);
		}
		Ok(())
	}

	/// Charges the owing parties for the blocks since the last change.
	fn settle(&mut self, now: BlockNumber) {
		self.clocks = Clocks {
			claimant: self.remaining(Party::Claimant, now),
			challenger: self.remaining(Party::Challenger, now),
			at: now,
		};
	}

	/// After a move by `mover` that advanced the game: if the opponent now owes a move, it has
	/// at least `min_extension` blocks for it.
	fn extend_opponent_of(&mut self, mover: Party) {
		let opponent = mover.opponent();
		if !self.owes(opponent) {
			return;
		}
		let min = self.params.min_extension;
		let clock = match opponent {
			Party::Claimant => &mut self.clocks.claimant,
			Party::Challenger => &mut self.clocks.challenger,
		};
		*clock = (*clock).max(min);
	}

	/// The game moves to `phase` at block `now` (every check passed): the owing parties are
	/// charged for the blocks since the last change, and if `handed_over_by` moved so that its
	/// opponent now owes a move, the opponent gets at least `min_extension` blocks for it. Says
	/// what happened.
	fn advance(
		&mut self,
		now: BlockNumber,
		phase: Phase,
		handed_over_by: Option<Party>,
	) -> Outcome {
		self.settle(now);
		self.phase = phase;
		if let Some(mover) = handed_over_by {
			self.extend_opponent_of(mover);
		}
		match self.phase {
			Phase::Resolved(r) => Outcome::Resolved(r),
			_ => Outcome::Continues,
		}
	}
}

/// The party whose leaf equals the correct hash wins; neither if none does.
fn judge(correct: &Hash, claimant_leaf: &Hash, challenger_leaf: &Hash) -> Winner {
	if claimant_leaf == correct {
		Winner::Claimant
	} else if challenger_leaf == correct {
		Winner::Challenger
	} else {
		Winner::Neither
	}
}
