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
	output_leaf_range, verify_one_step, within_tolerance, CanonError, Hash, LeafWitness, Limits,
	OneStepContext, OneStepWitness, Position, Tensor, Tolerance, ZERO_HASH,
};
use scale_info::TypeInfo;

#[cfg(test)]
mod properties;
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
	/// Bisection round `position.depth` at `position`. Each party's current node hash there, and
	/// the children it revealed this round (`None`: it still owes its move).
	#[codec(index = 1)]
	Bisection {
		position: Position,
		claimant_node: Hash,
		challenger_node: Hash,
		claimant_move: Option<Children>,
		challenger_move: Option<Children>,
	},
	/// The descent ended at node leaf `leaf`, where the parties' leaves differ; the claimant owes
	/// [`Game::one_step`] (anyone may post it).
	#[codec(index = 2)]
	AwaitingOneStep { leaf: u64, claimant_leaf: Hash, challenger_leaf: Hash },
	/// Over.
	#[codec(index = 3)]
	Resolved(Resolution),
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
}

/// What the chain knows about the disputed claim, passed to every transition.
///
/// Not every transition reads every field, so the pallet can skip loading the claim's tensors
/// where they are not needed: `open` and `respond` read `outputs` and `tolerance`; `bisect`
/// reads `inputs` only when the descent ends at an input leaf (in the last round); `one_step`
/// reads neither (only `program_root`, the counts and `limits`).
#[derive(Clone, Copy, Debug)]
pub struct ClaimContext<'a> {
	/// Root of the model's canonical program (over its node leaves).
	pub program_root: Hash,
	/// Number of graph inputs m.
	pub input_count: u32,
	/// Number of program nodes n.
	pub node_count: u32,
	/// The claim's input tensors (trace leaves `0..m`).
	pub inputs: &'a [Tensor],
	/// The claim's output tensors, in graph order (k of them).
	pub outputs: &'a [Tensor],
	/// The model's tolerance.
	pub tolerance: Tolerance,
	/// Bounds for executing a one-step.
	pub limits: Limits,
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
		let phase = Self::at_position(ctx, Position::ROOT, claimant_root, self.challenger_root)?;
		let mut next = self.clone();
		next.settle(now);
		next.claimant_root = Some(claimant_root);
		next.phase = phase;
		next.extend_opponent_of(party);
		Ok(next.commit(self))
	}

	/// A bisection move at block `now`: `party` reveals the `left` and `right` children of its
	/// current node in round `round`.
	///
	/// Errors: `AlreadyResolved`, `UnexpectedMove`, `BlockInThePast`, `WrongRound`,
	/// `AlreadyMoved`, `ClockExpired`, `ChildrenMismatch`, `InvalidContext`. The second move of
	/// a round moves the game down one level and may end it (input or padding leaf); only then,
	/// at an input leaf, is `ctx.inputs` read.
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
				(Self::at_position(ctx, next, a, b)?, true)
			},
			_ => {
				let waiting = Phase::Bisection {
					position,
					claimant_node,
					challenger_node,
					claimant_move,
					challenger_move,
				};
				(waiting, false)
			},
		};
		let mut next = self.clone();
		next.settle(now);
		next.phase = phase;
		if round_closed {
			next.extend_opponent_of(party);
		}
		Ok(next.commit(self))
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
		let verify = |trace_root: Hash| {
			let one = OneStepContext {
				program_root: ctx.program_root,
				node_count: ctx.node_count,
				input_count: ctx.input_count,
				trace_root,
				limits: ctx.limits,
			};
			verify_one_step(&one, leaf, witness)
		};
		let computed = match verify(claimant_root) {
			Err(CanonError::Proof { .. }) => verify(self.challenger_root),
			other => other,
		}
		.map_err(|e| match e {
			CanonError::Proof { .. } => GameError::OneStepNotProven,
			_ => GameError::OneStepFailed,
		})?;
		let resolution = Resolution {
			winner: judge(&computed, &claimant_leaf, &challenger_leaf),
			reason: Reason::OneStep { leaf },
		};
		let mut next = self.clone();
		next.settle(now);
		next.phase = Phase::Resolved(resolution);
		Ok(next.commit(self))
	}

	/// Ends the game at block `now` if a party that owes a move has run out of time: its opponent
	/// wins, or neither if both owe and both ran out. Anyone may call it.
	///
	/// Errors: `AlreadyResolved`, `BlockInThePast`, `NotTimedOut`.
	pub fn timeout(&mut self, now: BlockNumber) -> Result<Outcome, GameError> {
		self.ensure_running(now)?;
		let winner = self.timed_out(now).ok_or(GameError::NotTimedOut)?;
		let mut next = self.clone();
		next.settle(now);
		next.phase = Phase::Resolved(Resolution { winner, reason: Reason::Timeout });
		Ok(next.commit(self))
	}

	/// Does `party` owe a move (is its clock running)?
	pub fn owes(&self, party: Party) -> bool {
		match (self.phase, party) {
			(Phase::AwaitingResponse | Phase::AwaitingOneStep { .. }, Party::Claimant) => true,
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

	/// The current tree position: the bisection position, or the disputed leaf (at the leaf
	/// depth) while a one-step is awaited.
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

	/// The phase at `position` once both parties' hashes there are known: a bisection round, or
	/// at the leaf depth the judgement of that leaf.
	fn at_position(
		ctx: &ClaimContext,
		position: Position,
		claimant_node: Hash,
		challenger_node: Hash,
	) -> Result<Phase, GameError> {
		if position.depth < ctx.depth() {
			return Ok(Phase::Bisection {
				position,
				claimant_node,
				challenger_node,
				claimant_move: None,
				challenger_move: None,
			});
		}
		let leaf = position.index;
		let (correct, reason) = if leaf >= ctx.trace_len() {
			(ZERO_HASH, Reason::PaddingLeaf { leaf })
		} else if leaf < u64::from(ctx.input_count) {
			let input = usize::try_from(leaf)
				.ok()
				.and_then(|i| ctx.inputs.get(i))
				.ok_or(GameError::InvalidContext)?;
			(leaf_hash(input), Reason::InputLeaf { leaf })
		} else {
			return Ok(Phase::AwaitingOneStep {
				leaf,
				claimant_leaf: claimant_node,
				challenger_leaf: challenger_node,
			});
		};
		let winner = judge(&correct, &claimant_node, &challenger_node);
		Ok(Phase::Resolved(Resolution { winner, reason }))
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

	/// Replaces `old` by `self` and says what happened.
	fn commit(self, old: &mut Game) -> Outcome {
		let outcome = match self.phase {
			Phase::Resolved(r) => Outcome::Resolved(r),
			_ => Outcome::Continues,
		};
		*old = self;
		outcome
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
