//! Test helpers (std only): players holding a trace, tampering, and a driver for the
//! bisection. Used by this pallet's tests and by the runtime's fuzzer.

use alloc::{vec, vec::Vec};
use core::ops::Range;

use edgeproof_canon::{
	commit::program_tree, execute, execute_node, leaf_hash, one_step_witness, program_root,
	CanonError, Hash, LeafWitness, Limits, MerkleTree, OneStepWitness, Position, Program, Ref,
	Tensor, Tolerance, Trace,
};

use super::{BlockNumber, ClaimContext, Game, GameError, Outcome, Party, Phase};

/// A compiled model with its program tree and the claim's input.
pub struct Model {
	pub program: Program,
	pub program_tree: MerkleTree,
	pub inputs: Vec<Tensor>,
}

impl Model {
	pub fn new(program: Program, inputs: Vec<Tensor>) -> Self {
		program.validate(&Limits::NATIVE).expect("test programs follow the tail rule");
		let program_tree = program_tree(&program).unwrap();
		assert_eq!(program_tree.root(), program_root(&program).unwrap());
		Self { program, program_tree, inputs }
	}

	pub fn context<'a>(&'a self, outputs: &'a [Tensor], tolerance: Tolerance) -> ClaimContext<'a> {
		ClaimContext {
			program_root: self.program_tree.root(),
			input_count: self.program.inputs.len() as u32,
			node_count: self.program.nodes.len() as u32,
			inputs: &self.inputs,
			outputs,
			tolerance,
			limits: Limits::NATIVE,
		}
	}

	/// The canonical trace.
	pub fn honest(&self) -> Player {
		Player::new(execute(&self.program, &self.inputs).unwrap().values)
	}

	/// The trace leaves of the outputs.
	pub fn output_leaves(&self) -> Range<u64> {
		let m = self.program.inputs.len() as u64;
		let n = self.program.nodes.len() as u64;
		m + n - self.program.outputs.len() as u64..m + n
	}

	/// Re-executes nodes `from..` on `values` (a cheater keeping its trace consistent after a
	/// tampered leaf). Stops at the first node that fails, leaving the rest as they were.
	pub fn recompute(&self, values: &mut [Tensor], from: usize) -> Result<(), CanonError> {
		let m = self.program.inputs.len();
		for (j, node) in self.program.nodes.iter().enumerate().skip(from) {
			let args: Vec<&Tensor> = node
				.inputs
				.iter()
				.map(|&r| match r {
					Ref::Input(i) => &values[i as usize],
					Ref::Const(i) => &self.program.constants[i as usize],
					Ref::Node(i) => &values[m + i as usize],
				})
				.collect();
			let out = execute_node(node, &args)?;
			values[m + j] = out;
		}
		Ok(())
	}

	/// A copy of `base` with leaf `leaf` changed by `tamper`, the later nodes recomputed if
	/// `recompute` (where they can be).
	pub fn tampered(
		&self,
		base: &[Tensor],
		leaf: usize,
		recompute: bool,
		tamper: impl FnOnce(&Tensor) -> Tensor,
	) -> Vec<Tensor> {
		let mut values = base.to_vec();
		values[leaf] = tamper(&values[leaf]);
		if recompute {
			let m = self.program.inputs.len();
			let _ = self.recompute(&mut values, leaf.saturating_sub(m) + usize::from(leaf >= m));
		}
		values
	}

	/// What the one-step at leaf `k` computes from `values` (its leaves before `k`).
	pub fn correct_leaf(&self, values: &[Tensor], k: u64) -> Result<Hash, CanonError> {
		let m = self.program.inputs.len() as u64;
		let n = self.program.nodes.len() as u64;
		if k >= m + n {
			return Ok(edgeproof_canon::ZERO_HASH);
		}
		if k < m {
			return Ok(leaf_hash(&self.inputs[k as usize]));
		}
		let node = &self.program.nodes[(k - m) as usize];
		let args: Vec<&Tensor> = node
			.inputs
			.iter()
			.map(|&r| match r {
				Ref::Input(i) => &values[i as usize],
				Ref::Const(i) => &self.program.constants[i as usize],
				Ref::Node(i) => &values[m as usize + i as usize],
			})
			.collect();
		Ok(leaf_hash(&execute_node(node, &args)?))
	}
}

/// A party's trace and tree.
#[derive(Clone)]
pub struct Player {
	pub values: Vec<Tensor>,
	pub tree: MerkleTree,
}

impl Player {
	pub fn new(values: Vec<Tensor>) -> Self {
		let tree = MerkleTree::new(values.iter().map(leaf_hash).collect());
		Self { values, tree }
	}

	pub fn root(&self) -> Hash {
		self.tree.root()
	}

	pub fn leaves(&self) -> Vec<Hash> {
		self.tree.leaves().to_vec()
	}

	pub fn outputs(&self, leaves: Range<u64>) -> Vec<LeafWitness> {
		leaves
			.map(|l| LeafWitness {
				tensor: self.values[l as usize].clone(),
				proof: self.tree.proof(l).unwrap(),
			})
			.collect()
	}

	pub fn output_tensors(&self, leaves: Range<u64>) -> Vec<Tensor> {
		leaves.map(|l| self.values[l as usize].clone()).collect()
	}

	pub fn children(&self, pos: Position) -> (Hash, Hash) {
		self.tree.children(pos).unwrap()
	}

	pub fn witness(&self, model: &Model, k: u64) -> OneStepWitness {
		let trace = Trace { values: self.values.clone() };
		one_step_witness(&model.program, &model.program_tree, &trace, &self.tree, k).unwrap()
	}
}

/// Adds `delta` to the first element of an F32 tensor.
pub fn nudge(t: &Tensor, delta: f32) -> Tensor {
	let mut v = t.f32_values().unwrap();
	if let Some(x) = v.first_mut() {
		*x += delta;
	}
	Tensor::from_f32(t.shape.clone(), &v)
}

/// A clock budget large enough for every test game, and the minimum extension.
pub const BUDGET: BlockNumber = 100;
pub const MIN_EXTENSION: BlockNumber = 5;

pub fn params() -> super::ClockParams {
	super::ClockParams { budget: BUDGET, min_extension: MIN_EXTENSION }
}

/// Opens with `challenger` and responds with `claimant` at blocks `now` and `now + 1`.
pub fn open_and_respond(
	model: &Model,
	ctx: &ClaimContext,
	now: BlockNumber,
	claimant: &Player,
	challenger: &Player,
) -> Result<(Game, Outcome), GameError> {
	let leaves = model.output_leaves();
	let mut game =
		Game::open(ctx, now, challenger.root(), &challenger.outputs(leaves.clone()), params())?;
	let outcome =
		game.respond(ctx, now + 1, Party::Claimant, claimant.root(), &claimant.outputs(leaves))?;
	Ok((game, outcome))
}

/// Plays the bisection to its end, one block per move; `claimant_first(round)` picks the
/// order of each round's moves.
pub fn bisect_to_the_end(
	game: &mut Game,
	ctx: &ClaimContext,
	now: &mut BlockNumber,
	claimant: &Player,
	challenger: &Player,
	mut claimant_first: impl FnMut(u32) -> bool,
) -> Outcome {
	let mut outcome = Outcome::Continues;
	while let Phase::Bisection { position, .. } = *game.phase() {
		let round = position.depth;
		let order = if claimant_first(round) {
			[(Party::Claimant, claimant), (Party::Challenger, challenger)]
		} else {
			[(Party::Challenger, challenger), (Party::Claimant, claimant)]
		};
		for (party, player) in order {
			*now += 1;
			let (l, r) = player.children(position);
			outcome = game.bisect(ctx, *now, party, round, l, r).unwrap();
		}
	}
	outcome
}

/// Two f32 vectors.
pub fn vector(values: &[f32]) -> Tensor {
	Tensor::from_f32(vec![values.len() as u32], values)
}
