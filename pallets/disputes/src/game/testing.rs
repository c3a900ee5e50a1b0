//! Test helpers (std only): players holding a trace, tampering, and a driver for the
//! bisection. Used by this pallet's tests and by the runtime's fuzzer.

use alloc::{vec, vec::Vec};
use core::ops::Range;

use edgeproof_canon::{
	chunk::chunk_bytes,
	commit::program_tree,
	execute, execute_node, leaf_hash, one_step_witness, program_root,
	substep::{
		cut_witness, run_substep, substep_witness, CutWitness, Geometry, SubStepLimits,
		SubStepWitness,
	},
	CanonError, Hash, LeafWitness, Limits, MerkleTree, OneStepWitness, Position, Program, Ref,
	Tensor, TensorChunks, Tolerance, Trace,
};

use super::{BlockNumber, ClaimContext, Game, GameError, Outcome, Party, Phase};

/// A compiled model with its program tree and the claim's input.
pub struct Model {
	pub program: Program,
	pub program_tree: MerkleTree,
	pub inputs: Vec<Tensor>,
	pub input_leaves: Vec<Hash>,
}

impl Model {
	pub fn new(program: Program, inputs: Vec<Tensor>) -> Self {
		program.validate(&Limits::NATIVE).expect("test programs follow the tail rule");
		let program_tree = program_tree(&program).unwrap();
		assert_eq!(program_tree.root(), program_root(&program).unwrap());
		let input_leaves = inputs.iter().map(edgeproof_canon::leaf_hash).collect();
		Self { program, program_tree, inputs, input_leaves }
	}

	pub fn context<'a>(&'a self, outputs: &'a [Tensor], tolerance: Tolerance) -> ClaimContext<'a> {
		ClaimContext {
			program_root: self.program_tree.root(),
			input_count: self.program.inputs.len() as u32,
			node_count: self.program.nodes.len() as u32,
			input_leaves: &self.input_leaves,
			outputs,
			tolerance,
			limits: Limits::NATIVE,
			substep_limits: edgeproof_canon::substep::SubStepLimits::DEFAULT,
			cut_budget: u64::MAX,
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

	/// The input tensors of leaf `k`'s node in `values` (constants included), in input order.
	pub fn node_inputs<'a>(&'a self, values: &'a [Tensor], k: u64) -> Vec<&'a Tensor> {
		let m = self.program.inputs.len();
		self.program.nodes[k as usize - m]
			.inputs
			.iter()
			.map(|&r| match r {
				Ref::Input(i) => &values[i as usize],
				Ref::Const(i) => &self.program.constants[i as usize],
				Ref::Node(i) => &values[m + i as usize],
			})
			.collect()
	}

	/// A liar that runs leaf `k`'s node honestly but for tile `tile`, whose state after segment
	/// `segment` (not the last) it changes, so that the tile's chunk and the later nodes follow
	/// from the changed state. `None` if the change does not reach the node's output.
	pub fn state_cheater(
		&self,
		base: &[Tensor],
		k: u64,
		g: &Geometry,
		(tile, segment): (u64, u32),
	) -> Option<Player> {
		let liar =
			Player { tampered_state: Some((k, tile, segment)), ..Player::new(base.to_vec()) };
		let chunk = liar.run_tile(self, k, g, tile).pop()?;
		let mut values = base.to_vec();
		let range = edgeproof_canon::TensorHeader::of(&values[k as usize]).chunk_range(tile)?;
		values[k as usize].data[range].copy_from_slice(&chunk);
		if values[k as usize] == base[k as usize] {
			return None;
		}
		let m = self.program.inputs.len();
		let _ = self.recompute(&mut values, k as usize - m + 1);
		Some(Player { tampered_state: Some((k, tile, segment)), ..Player::new(values) })
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
	/// A liar's changed sub-step state: leaf, tile and the segment after which it changes
	/// (the first element of the state, by one).
	pub tampered_state: Option<(u64, u64, u32)>,
}

impl Player {
	pub fn new(values: Vec<Tensor>) -> Self {
		let tree = MerkleTree::new(values.iter().map(leaf_hash).collect());
		Self { values, tree, tampered_state: None }
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

	/// The cut witness of leaf `k`'s node, from this trace.
	pub fn cut_witness(&self, model: &Model, k: u64) -> Result<CutWitness, CanonError> {
		let ins = model.node_inputs(&self.values, k);
		cut_witness(&model.program, &model.program_tree, &self.tree, k, &ins)
	}

	/// Leaf `k`'s header and chunk tree.
	pub fn chunks(&self, k: u64) -> TensorChunks {
		TensorChunks::new(&self.values[k as usize])
	}

	/// The states tile `tile` of leaf `k`'s node leaves after each segment, run from this
	/// trace's node inputs (a state liar changes its one); the last one is the tile's chunk.
	fn run_tile(&self, model: &Model, k: u64, g: &Geometry, tile: u64) -> Vec<Vec<u8>> {
		let m = model.program.inputs.len();
		let op = &model.program.nodes[k as usize - m].op;
		let ins = model.node_inputs(&self.values, k);
		let mut states: Vec<Vec<u8>> = Vec::new();
		for s in 0..g.segments {
			let mut next = run_substep(op, &ins, g, tile, s, states.last().map(|v| &v[..]))
				.expect("the sub-step runs");
			if self.tampered_state == Some((k, tile, s)) && !g.is_last(s) {
				let x = f32::from_le_bytes(next[..4].try_into().unwrap());
				let changed = if x.is_finite() { x + 1.0 } else { 0.0 };
				next[..4].copy_from_slice(&changed.to_le_bytes());
			}
			states.push(next);
		}
		states
	}

	/// What the player commits to as tile `tile`'s segment states: [`Player::run_tile`], but
	/// the last state is this trace's chunk of the tile (a liar that changed the node's output
	/// claims it there).
	pub fn tile_states(&self, model: &Model, k: u64, g: &Geometry, tile: u64) -> Vec<Vec<u8>> {
		let mut states = self.run_tile(model, k, g, tile);
		if let (Some(last), Some(chunk)) =
			(states.last_mut(), chunk_bytes(&self.values[k as usize], tile))
		{
			*last = chunk.to_vec();
		}
		states
	}

	/// The tree over [`Player::tile_states`]' leaves.
	pub fn state_tree(&self, model: &Model, k: u64, g: &Geometry, tile: u64) -> MerkleTree {
		let states = self.tile_states(model, k, g, tile);
		MerkleTree::new(
			states.iter().enumerate().map(|(s, bytes)| g.leaf(s as u32, bytes)).collect(),
		)
	}

	/// The witness of sub-step `(tile, segment)` of leaf `k`'s node, with the proof of the
	/// state it starts from in this player's state tree (past segment 0).
	pub fn substep_witness(
		&self,
		model: &Model,
		k: u64,
		g: &Geometry,
		limits: &SubStepLimits,
		(tile, segment): (u64, u32),
	) -> (SubStepWitness, Option<edgeproof_canon::MerkleProof>) {
		let ins = model.node_inputs(&self.values, k);
		let (state, proof) = match segment.checked_sub(1) {
			None => (None, None),
			Some(before) => {
				let states = self.tile_states(model, k, g, tile);
				let tree = self.state_tree(model, k, g, tile);
				(Some(states[before as usize].clone()), tree.proof(u64::from(before)))
			},
		};
		let w = substep_witness(
			&model.program,
			&model.program_tree,
			&self.tree,
			k,
			&ins,
			limits,
			(tile, segment),
			state,
		)
		.unwrap();
		(w, proof)
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
