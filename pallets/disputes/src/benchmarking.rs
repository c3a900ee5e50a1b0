//! Benchmarks of `pallet-disputes`: every move on real canonical programs, a one-step at its
//! most expensive per unit of operator work (transcendental elementwise and matrix products),
//! and a settlement closing other disputes.
//!
//! Each game is set up for real: a program is built, executed with `edgeproof-canon`, registered
//! as an active model, a claim submitted through pallet-attestations (its output a lie), and the
//! game played up to the move measured.

use super::*;
use crate::{benchmark_helper::BenchmarkHelper as _, Pallet as Disputes};
use alloc::{vec, vec::Vec};
use edgeproof_canon::{
	execute_with, leaf_hash, one_step_witness, program_root, program_tree,
	substep::{cut_witness, substep_witness},
	DType, Hash, LeafWitness, Limits, MerkleTree, Node, Op, Program, Ref, Tensor, TensorHeader,
	TensorSpec,
};
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{fungible::Mutate, EnsureOrigin, Get},
	BoundedVec,
};
use frame_system::RawOrigin;
use game::ClockParams;
use pallet_attestations::ClaimRegistry;
use sp_runtime::Saturating;

/// A played-out setting: the program, the claim's input, both parties' traces and trees.
struct Setting<T: Config> {
	program: Program,
	honest: Vec<Tensor>,
	honest_tree: MerkleTree,
	liar_tree: MerkleTree,
	claim: ClaimId,
	claimant: T::AccountId,
}

fn tree(values: &[Tensor]) -> MerkleTree {
	MerkleTree::new(values.iter().map(leaf_hash).collect())
}

fn witnesses(
	values: &[Tensor],
	tree: &MerkleTree,
	leaves: core::ops::Range<u64>,
) -> Vec<LeafWitness> {
	leaves
		.filter_map(|l| {
			Some(LeafWitness { tensor: values.get(l as usize)?.clone(), proof: tree.proof(l)? })
		})
		.collect()
}

/// Flips bit 6 of the fourth byte (an f32's exponent): a different tensor of the same shape,
/// different enough that sums over it differ too.
fn flipped(t: &Tensor) -> Tensor {
	let mut t = t.clone();
	let at = t.data.len().min(4).saturating_sub(1);
	if let Some(b) = t.data.get_mut(at) {
		*b ^= 0x40;
	}
	t
}

/// Executes `program` on `inputs`, registers it, and submits a claim (by a fresh operator)
/// whose trace differs from the honest one from leaf `lie_from` on (that leaf flipped, the
/// later nodes recomputed from it), so the descent ends at `lie_from`.
fn setting<T: Config>(
	program: Program,
	inputs: Vec<Tensor>,
	lie_from: usize,
	seed: u32,
) -> Result<Setting<T>, BenchmarkError> {
	let stop = |_| BenchmarkError::Stop("the benchmark program does not run");
	let honest = execute_with(&program, &inputs, &Limits::NATIVE).map_err(stop)?.values;
	let m = program.inputs.len();
	let mut lie = honest.clone();
	let tampered = lie.get(lie_from).map(flipped).ok_or(BenchmarkError::Stop("no such leaf"))?;
	lie[lie_from] = tampered;
	for (j, node) in program.nodes.iter().enumerate().skip(lie_from.saturating_sub(m) + 1) {
		let args: Vec<&Tensor> = node
			.inputs
			.iter()
			.filter_map(|&r| match r {
				Ref::Input(i) => lie.get(i as usize),
				Ref::Const(i) => program.constants.get(i as usize),
				Ref::Node(i) => lie.get(m + i as usize),
			})
			.collect();
		let out = edgeproof_canon::execute_node(node, &args).map_err(stop)?;
		lie[m + j] = out;
	}
	let outputs = program.output_leaves().map_err(stop)?;
	let claimed: Vec<Tensor> =
		outputs.iter().filter_map(|&l| lie.get(l as usize).cloned()).collect();
	let root = program_root(&program).map_err(stop)?;
	let (claim, claimant) =
		T::BenchmarkHelper::claim(&inputs, &claimed, root, program.nodes.len() as u32, seed)?;
	Ok(Setting {
		honest_tree: tree(&honest),
		liar_tree: tree(&lie),
		honest,
		program,
		claim,
		claimant,
	})
}

impl<T: Config> Setting<T> {
	fn outputs(&self) -> core::ops::Range<u64> {
		let m = self.program.inputs.len() as u64;
		let n = self.program.nodes.len() as u64;
		m + n - self.program.outputs.len() as u64..m + n
	}

	fn honest_outputs(&self) -> BoundedVec<LeafWitness, T::MaxOutputs> {
		BoundedVec::truncate_from(witnesses(&self.honest, &self.honest_tree, self.outputs()))
	}

	/// The liar's outputs, rebuilt from its tree's leaves (the liar claimed them).
	fn liar_outputs(&self) -> Result<BoundedVec<LeafWitness, T::MaxOutputs>, BenchmarkError> {
		let info = T::Claims::claim(self.claim).ok_or(BenchmarkError::Stop("no claim"))?;
		let claimed = info.outputs.ok_or(BenchmarkError::Stop("claim decided"))?;
		let proofs: Vec<LeafWitness> = self
			.outputs()
			.zip(claimed)
			.filter_map(|(l, tensor)| Some(LeafWitness { tensor, proof: self.liar_tree.proof(l)? }))
			.collect();
		Ok(BoundedVec::truncate_from(proofs))
	}
}

/// A funded challenger.
fn challenger<T: Config>(i: u32) -> T::AccountId {
	let who: T::AccountId = account("challenger", i, 0);
	let amount = T::ChallengerBond::get()
		.saturating_mul(4u32.into())
		.saturating_add(T::Currency::minimum_balance());
	let _ = T::Currency::mint_into(&who, amount);
	who
}

/// Opens (honest challenger `i`) and, if `respond`, responds (lying claimant).
fn open_game<T: Config>(
	s: &Setting<T>,
	i: u32,
	respond: bool,
) -> Result<(DisputeId, T::AccountId), BenchmarkError> {
	let who = challenger::<T>(i);
	let id = NextDisputeId::<T>::get();
	Disputes::<T>::open(
		RawOrigin::Signed(who.clone()).into(),
		s.claim,
		s.honest_tree.root(),
		s.honest_outputs(),
	)
	.map_err(|e| {
		log::error!(target: LOG_TARGET, "benchmark open refused: {e:?}");
		BenchmarkError::Stop("open refused")
	})?;
	if respond {
		Disputes::<T>::respond(
			RawOrigin::Signed(s.claimant.clone()).into(),
			id,
			s.liar_tree.root(),
			s.liar_outputs()?,
		)
		.map_err(|_| BenchmarkError::Stop("respond refused"))?;
	}
	Ok((id, who))
}

/// Plays bisection rounds until the game awaits its one-step.
fn bisect_to_leaf<T: Config>(
	s: &Setting<T>,
	id: DisputeId,
	challenger: &T::AccountId,
) -> Result<u64, BenchmarkError> {
	loop {
		let game = Disputes_::<T>::get(id).ok_or(BenchmarkError::Stop("game over"))?.game;
		match *game.phase() {
			Phase::Bisection { position, .. } => {
				for (who, tree) in [(&s.claimant, &s.liar_tree), (challenger, &s.honest_tree)] {
					let (l, r) =
						tree.children(position).ok_or(BenchmarkError::Stop("no children"))?;
					Disputes::<T>::bisect(
						RawOrigin::Signed(who.clone()).into(),
						id,
						position.depth,
						l,
						r,
					)
					.map_err(|_| BenchmarkError::Stop("bisect refused"))?;
				}
			},
			Phase::AwaitingOneStep { leaf, .. } => return Ok(leaf),
			_ => return Err(BenchmarkError::Stop("the descent ended early")),
		}
	}
}

use crate::Disputes as Disputes_;

/// `x (U8 [n]) -> Identity -> Identity -> Identity`: claim payloads of `n` bytes.
fn identity_chain(n: u32, nodes: u32) -> (Program, Vec<Tensor>) {
	let program = Program {
		inputs: vec![TensorSpec { dtype: DType::U8, shape: vec![n] }],
		constants: vec![],
		nodes: (0..nodes)
			.map(|j| Node {
				op: Op::Identity,
				inputs: vec![if j == 0 { Ref::Input(0) } else { Ref::Node(j - 1) }],
			})
			.collect(),
		outputs: vec![Ref::Node(nodes - 1)],
	};
	let input = Tensor { dtype: DType::U8, shape: vec![n], data: vec![7; n as usize] };
	(program, vec![input])
}

/// `x (F32 [1]) -> Expand [e] -> op -> ReduceSum -> [1]`: a one-step on `op` with an `e`-element
/// input, small claims.
fn expand_then(op: Op, e: u32, extra_const: Option<Tensor>) -> (Program, Vec<Tensor>) {
	let shape = Tensor {
		dtype: DType::I64,
		shape: vec![2],
		data: [1i64, e as i64].iter().flat_map(|d| d.to_le_bytes()).collect(),
	};
	let mut constants = vec![shape];
	let mut op_inputs = vec![Ref::Node(0)];
	if let Some(c) = extra_const {
		constants.push(c);
		op_inputs.push(Ref::Const(1));
	}
	let program = Program {
		inputs: vec![TensorSpec { dtype: DType::F32, shape: vec![1, 1] }],
		constants,
		nodes: vec![
			Node { op: Op::Expand, inputs: vec![Ref::Input(0), Ref::Const(0)] },
			Node { op, inputs: op_inputs },
			Node {
				op: Op::ReduceSum { axes: vec![0, 1], keepdims: true },
				inputs: vec![Ref::Node(1)],
			},
		],
		outputs: vec![Ref::Node(2)],
	};
	(program, vec![Tensor::from_f32(vec![1, 1], &[0.5])])
}

/// `s (F32 [1]) -> MatMul(A, B) -> ReduceSum`, A [rows, k] and B [k, 32] constants (or another
/// node on constants): a node the second level cuts, set up without executing it. Both parties' leaves of the product are
/// made up (the product's header over made-up chunk leaves, the liar's first chunk another), so
/// the game can reach the cut and the sub-step whatever its size; the sub-step then finds
/// neither leaf.
struct Product<T: Config> {
	program: Program,
	honest_tree: MerkleTree,
	liar_tree: MerkleTree,
	/// Each party's chunk leaves of the product.
	honest_chunks: MerkleTree,
	liar_chunks: MerkleTree,
	header: TensorHeader,
	claim: ClaimId,
	claimant: T::AccountId,
}

impl<T: Config> Product<T> {
	/// The product [rows, k] x [k, 32].
	fn new(rows: u32, k: u32) -> Result<Self, BenchmarkError> {
		let a = Tensor::from_f32(vec![rows, k], &vec![0.5; (rows * k) as usize]);
		let b = Tensor::from_f32(vec![k, 32], &vec![0.25; (k * 32) as usize]);
		Self::of(Op::MatMul, vec![a, b], vec![rows, 32])
	}

	/// `op` on the constants `constants` (the node's inputs, in order), giving `shape`.
	fn of(op: Op, constants: Vec<Tensor>, shape: Vec<u32>) -> Result<Self, BenchmarkError> {
		let inputs = (0..constants.len() as u32).map(Ref::Const).collect();
		let elements: u32 = shape.iter().product();
		let program = Program {
			inputs: vec![TensorSpec { dtype: DType::F32, shape: vec![1] }],
			constants,
			nodes: vec![
				Node { op, inputs },
				Node {
					op: Op::ReduceSum { axes: vec![0, 1], keepdims: false },
					inputs: vec![Ref::Node(0)],
				},
			],
			outputs: vec![Ref::Node(1)],
		};
		let header = TensorHeader { dtype: DType::F32, shape, data_len: elements * 4 };
		let chunks = |first: u8| {
			let leaves: Vec<Hash> = (0..header.chunk_count())
				.map(|c| {
					let mut h = [7u8; 32];
					h[..8].copy_from_slice(&c.to_le_bytes());
					h[31] = if c == 0 { first } else { 0 };
					h
				})
				.collect();
			MerkleTree::new(leaves)
		};
		let (honest_chunks, liar_chunks) = (chunks(1), chunks(2));
		let input = Tensor::from_f32(vec![1], &[0.5]);
		let (truth, lie) = (Tensor::from_f32(vec![], &[0.0]), Tensor::from_f32(vec![], &[1.0]));
		let trace = |chunks: &MerkleTree, out: &Tensor| {
			MerkleTree::new(vec![
				leaf_hash(&input),
				header.leaf_hash(&chunks.root()),
				leaf_hash(out),
			])
		};
		let root = program_root(&program).map_err(|_| BenchmarkError::Weightless)?;
		let (claim, claimant) = T::BenchmarkHelper::claim(
			core::slice::from_ref(&input),
			core::slice::from_ref(&lie),
			root,
			2,
			0,
		)?;
		Ok(Self {
			honest_tree: trace(&honest_chunks, &truth),
			liar_tree: trace(&liar_chunks, &lie),
			program,
			honest_chunks,
			liar_chunks,
			header,
			claim,
			claimant,
		})
	}

	/// Opens (an honest challenger), responds and bisects to the product's leaf; returns the
	/// dispute and the challenger.
	fn to_the_product(&self) -> Result<(DisputeId, T::AccountId), BenchmarkError> {
		let who = challenger::<T>(0);
		let id = NextDisputeId::<T>::get();
		let out = |values: Tensor, tree: &MerkleTree| {
			BoundedVec::truncate_from(vec![LeafWitness {
				tensor: values,
				proof: tree
					.proof(2)
					.unwrap_or(edgeproof_canon::MerkleProof { index: 2, siblings: vec![] }),
			}])
		};
		Disputes::<T>::open(
			RawOrigin::Signed(who.clone()).into(),
			self.claim,
			self.honest_tree.root(),
			out(Tensor::from_f32(vec![], &[0.0]), &self.honest_tree),
		)
		.map_err(|_| BenchmarkError::Stop("open refused"))?;
		Disputes::<T>::respond(
			RawOrigin::Signed(self.claimant.clone()).into(),
			id,
			self.liar_tree.root(),
			out(Tensor::from_f32(vec![], &[1.0]), &self.liar_tree),
		)
		.map_err(|_| BenchmarkError::Stop("respond refused"))?;
		let trees = [(&self.claimant, &self.liar_tree), (&who, &self.honest_tree)];
		play_trees::<T>(id, &trees)?;
		Ok((id, who))
	}

	fn cut_witness(&self) -> Result<edgeproof_canon::substep::CutWitness, BenchmarkError> {
		let ptree = program_tree(&self.program).map_err(|_| BenchmarkError::Weightless)?;
		let ins: Vec<&Tensor> = self.program.constants.iter().collect();
		cut_witness(&self.program, &ptree, &self.honest_tree, 1, &ins)
			.map_err(|_| BenchmarkError::Stop("no cut witness"))
	}

	/// Cuts the product and reveals both data roots (the claimant's last).
	fn cut_and_reveal(&self, id: DisputeId, who: &T::AccountId) -> Result<(), BenchmarkError> {
		Disputes::<T>::cut(RawOrigin::Signed(who.clone()).into(), id, self.cut_witness()?)
			.map_err(|_| BenchmarkError::Stop("cut refused"))?;
		for (party, chunks) in [(who, &self.honest_chunks), (&self.claimant, &self.liar_chunks)] {
			Disputes::<T>::reveal(
				RawOrigin::Signed(party.clone()).into(),
				id,
				game::Revealed::DataRoot { header: self.header.clone(), data_root: chunks.root() },
			)
			.map_err(|_| BenchmarkError::Stop("reveal refused"))?;
		}
		let trees = [(&self.claimant, &self.liar_chunks), (who, &self.honest_chunks)];
		play_trees::<T>(id, &trees)
	}
}

/// Plays the bisection rounds of the current tree, each party from its tree, until the game
/// leaves them.
fn play_trees<T: Config>(
	id: DisputeId,
	trees: &[(&T::AccountId, &MerkleTree); 2],
) -> Result<(), BenchmarkError> {
	while let Some(Phase::Bisection { position, .. }) =
		Disputes_::<T>::get(id).map(|d| *d.game.phase())
	{
		for (who, tree) in trees {
			let (l, r) = tree.children(position).ok_or(BenchmarkError::Stop("no children"))?;
			Disputes::<T>::bisect(
				RawOrigin::Signed((*who).clone()).into(),
				id,
				position.depth,
				l,
				r,
			)
			.map_err(|_| BenchmarkError::Stop("bisect refused"))?;
		}
	}
	Ok(())
}

/// Rows of the benchmark product's A whose cut costs about `c` units of [`CUT_UNIT`]: a tile
/// is 32 rows of the output, listing one range of A and one of B per row and term (k = 16).
fn cut_rows(c: u32) -> u32 {
	let per_tile = 32 * (1 + 16) + 1;
	let tiles = (u64::from(c) * CUT_UNIT / per_tile).max(1);
	(tiles * 32) as u32
}

/// Payload bytes of one U8 tensor of `n` elements above `n`.
const TENSOR_OVERHEAD: u32 = 11;

#[benchmarks]
mod benchmarks {
	use super::*;

	/// `open` against a claim whose output witness is `b` bytes.
	#[benchmark]
	fn open(b: Linear<64, { T::BenchmarkHelper::max_payload() }>) -> Result<(), BenchmarkError> {
		let (program, inputs) = identity_chain(b.saturating_sub(TENSOR_OVERHEAD), 1);
		let s = setting::<T>(program, inputs, 1, 0)?;
		let who = challenger::<T>(0);
		let outputs = s.honest_outputs();

		#[extrinsic_call]
		_(RawOrigin::Signed(who), s.claim, s.honest_tree.root(), outputs);

		assert!(Disputes_::<T>::contains_key(0));
		Ok(())
	}

	/// `respond` with a `b`-byte output witness.
	#[benchmark]
	fn respond(b: Linear<64, { T::BenchmarkHelper::max_payload() }>) -> Result<(), BenchmarkError> {
		let (program, inputs) = identity_chain(b.saturating_sub(TENSOR_OVERHEAD), 1);
		let s = setting::<T>(program, inputs, 1, 0)?;
		let (id, _) = open_game::<T>(&s, 0, false)?;
		let outputs = s.liar_outputs()?;

		#[extrinsic_call]
		_(RawOrigin::Signed(s.claimant.clone()), id, s.liar_tree.root(), outputs);

		assert!(Disputes_::<T>::get(id).is_some_and(|d| d.game.claimant_root().is_some()));
		Ok(())
	}

	/// The move that closes a bisection round (not the last), on a claim with the largest
	/// payloads (which no move after `respond` reads: the dispute keeps the input leaves).
	#[benchmark]
	fn bisect() -> Result<(), BenchmarkError> {
		let n = T::BenchmarkHelper::max_payload().saturating_sub(TENSOR_OVERHEAD);
		let (program, inputs) = identity_chain(n, 3);
		let s = setting::<T>(program, inputs, 3, 0)?;
		let (id, who) = open_game::<T>(&s, 0, true)?;
		let (l, r) = s.liar_tree.children(Position::ROOT).ok_or(BenchmarkError::Weightless)?;
		Disputes::<T>::bisect(RawOrigin::Signed(s.claimant.clone()).into(), id, 0, l, r)
			.map_err(|_| BenchmarkError::Stop("bisect refused"))?;
		let (l, r) = s.honest_tree.children(Position::ROOT).ok_or(BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(who), id, 0, l, r);

		assert_eq!(Disputes_::<T>::get(id).and_then(|d| d.game.round()), Some(1));
		Ok(())
	}

	/// A one-step on `Exp` (a transcendental: the most expensive elementwise work per unit)
	/// doing `w` units of `WORK_UNIT` work, without the settlement.
	#[benchmark]
	fn one_step(w: Linear<1, 256>) -> Result<(), BenchmarkError> {
		// Unary work is input plus output elements.
		let e = (w as u64 * WORK_UNIT / 2) as u32;
		let (program, inputs) = expand_then(Op::Exp, e, None);
		let s = setting::<T>(program, inputs, 2, 0)?;
		let (id, who) = open_game::<T>(&s, 0, true)?;
		let leaf = bisect_to_leaf::<T>(&s, id, &who)?;
		let trace = edgeproof_canon::Trace { values: s.honest.clone() };
		let ptree = program_tree(&s.program).map_err(|_| BenchmarkError::Weightless)?;
		let witness = one_step_witness(&s.program, &ptree, &trace, &s.honest_tree, leaf)
			.map_err(|_| BenchmarkError::Stop("no witness"))?;

		#[extrinsic_call]
		_(RawOrigin::Signed(who), id, witness);

		assert!(!Disputes_::<T>::contains_key(id));
		Ok(())
	}

	/// A one-step on `MatMul` ([r, 64] x [64, 1]) doing `w` units of `WORK_UNIT` work: the
	/// most witness bytes per unit of work (4 per multiply-add).
	#[benchmark]
	fn one_step_matmul(w: Linear<1, 256>) -> Result<(), BenchmarkError> {
		// Work is r x 64 multiply-adds plus r x 65 + 64 elements: about 129 per row.
		let rows = ((w as u64 * WORK_UNIT) / 129).max(1) as u32;
		let weights = Tensor::from_f32(vec![64, 1], &vec![0.25; 64]);
		let (mut program, inputs) = expand_then(Op::MatMul, 64, Some(weights));
		// Expand to [rows, 64].
		program.constants[0] = Tensor {
			dtype: DType::I64,
			shape: vec![2],
			data: [rows as i64, 64].iter().flat_map(|d| d.to_le_bytes()).collect(),
		};
		let s = setting::<T>(program, inputs, 2, 0)?;
		let (id, who) = open_game::<T>(&s, 0, true)?;
		let leaf = bisect_to_leaf::<T>(&s, id, &who)?;
		let trace = edgeproof_canon::Trace { values: s.honest.clone() };
		let ptree = program_tree(&s.program).map_err(|_| BenchmarkError::Weightless)?;
		let witness = one_step_witness(&s.program, &ptree, &trace, &s.honest_tree, leaf)
			.map_err(|_| BenchmarkError::Stop("no witness"))?;

		#[block]
		{
			Disputes::<T>::one_step(RawOrigin::Signed(who).into(), id, witness)
				.map_err(|_| BenchmarkError::Stop("one_step refused"))?;
		}

		assert!(!Disputes_::<T>::contains_key(id));
		Ok(())
	}

	/// A cut costing about `c` units of `CUT_UNIT` (a product of `cut_rows(c)` rows, each
	/// tile's reads listed once).
	#[benchmark]
	fn cut(c: Linear<1, 1_024>) -> Result<(), BenchmarkError> {
		let p = Product::<T>::new(cut_rows(c), 16)?;
		let (id, who) = p.to_the_product()?;
		let witness = p.cut_witness()?;

		#[extrinsic_call]
		_(RawOrigin::Signed(who), id, witness);

		let phase = Disputes_::<T>::get(id).map(|d| *d.game.phase());
		assert!(matches!(phase, Some(Phase::Revealing { .. })));
		Ok(())
	}

	/// The reveal that closes a round: the claimant's data root after the challenger's.
	#[benchmark]
	fn reveal() -> Result<(), BenchmarkError> {
		let p = Product::<T>::new(64, 16)?;
		let (id, who) = p.to_the_product()?;
		Disputes::<T>::cut(RawOrigin::Signed(who.clone()).into(), id, p.cut_witness()?)
			.map_err(|_| BenchmarkError::Stop("cut refused"))?;
		Disputes::<T>::reveal(
			RawOrigin::Signed(who).into(),
			id,
			game::Revealed::DataRoot {
				header: p.header.clone(),
				data_root: p.honest_chunks.root(),
			},
		)
		.map_err(|_| BenchmarkError::Stop("reveal refused"))?;
		let mine =
			game::Revealed::DataRoot { header: p.header.clone(), data_root: p.liar_chunks.root() };

		#[extrinsic_call]
		_(RawOrigin::Signed(p.claimant.clone()), id, mine);

		let phase = Disputes_::<T>::get(id).map(|d| *d.game.phase());
		assert!(matches!(phase, Some(Phase::Bisection { .. })));
		Ok(())
	}

	/// A sub-step of `w` units of `WORK_UNIT` work: one tile of a [32, w] x [w, 32] product in
	/// one segment, reading 256 bytes per unit (the read bound at the work bound).
	#[benchmark]
	fn sub_step(w: Linear<1, 2_040>) -> Result<(), BenchmarkError> {
		let p = Product::<T>::new(32, w)?;
		let (id, who) = p.to_the_product()?;
		p.cut_and_reveal(id, &who)?;
		let ptree = program_tree(&p.program).map_err(|_| BenchmarkError::Weightless)?;
		let ins: Vec<&Tensor> = p.program.constants.iter().collect();
		let limits = T::SubStepLimits::get();
		let witness =
			substep_witness(&p.program, &ptree, &p.honest_tree, 1, &ins, &limits, (0, 0), None)
				.map_err(|_| BenchmarkError::Stop("no sub-step witness"))?;

		#[extrinsic_call]
		_(RawOrigin::Signed(who), id, witness, None);

		assert!(!Disputes_::<T>::contains_key(id));
		Ok(())
	}

	/// A sub-step of a Concat of a `k`-KiB constant and one row: it reads one chunk, but holds
	/// its inputs whole.
	#[benchmark]
	fn sub_step_inputs(k: Linear<1, 16_000>) -> Result<(), BenchmarkError> {
		// At most the limits' elements (the runtime's take all 16 000 KiB).
		let most = T::Limits::get().max_elements / 16 - 1;
		let rows = (16 * k).min(most as u32);
		let big = Tensor::from_f32(vec![rows, 16], &vec![0.5; (rows * 16) as usize]);
		let row = Tensor::from_f32(vec![1, 16], &[0.25; 16]);
		let p = Product::<T>::of(Op::Concat { axis: 0 }, vec![big, row], vec![rows + 1, 16])?;
		let (id, who) = p.to_the_product()?;
		p.cut_and_reveal(id, &who)?;
		let ptree = program_tree(&p.program).map_err(|_| BenchmarkError::Weightless)?;
		let ins: Vec<&Tensor> = p.program.constants.iter().collect();
		let limits = T::SubStepLimits::get();
		let (tile, segment) = match Disputes_::<T>::get(id).map(|d| *d.game.phase()) {
			Some(Phase::AwaitingSubStep { tile, segment, .. }) => (tile, segment),
			_ => return Err(BenchmarkError::Stop("no sub-step awaited")),
		};
		let witness = substep_witness(
			&p.program,
			&ptree,
			&p.honest_tree,
			1,
			&ins,
			&limits,
			(tile, segment),
			None,
		)
		.map_err(|_| BenchmarkError::Stop("no sub-step witness"))?;

		#[block]
		{
			Disputes::<T>::sub_step(RawOrigin::Signed(who).into(), id, witness, None)
				.map_err(|_| BenchmarkError::Stop("sub_step refused"))?;
		}

		assert!(!Disputes_::<T>::contains_key(id));
		Ok(())
	}

	/// A timeout (the silent claimant), without the settlement.
	#[benchmark]
	fn timeout() -> Result<(), BenchmarkError> {
		let (program, inputs) = identity_chain(16, 1);
		let s = setting::<T>(program, inputs, 1, 0)?;
		let (id, who) = open_game::<T>(&s, 0, false)?;
		let deadline = Disputes_::<T>::get(id)
			.and_then(|d| d.game.deadline())
			.ok_or(BenchmarkError::Weightless)?;
		frame_system::Pallet::<T>::set_block_number(deadline.into());

		#[extrinsic_call]
		_(RawOrigin::Signed(who), id);

		assert!(!Disputes_::<T>::contains_key(id));
		Ok(())
	}

	/// A settlement that invalidates the claim and closes `n` other disputes on it.
	#[benchmark]
	fn settle(
		n: Linear<0, { T::MaxUnreservedDisputes::get().saturating_sub(1) }>,
	) -> Result<(), BenchmarkError> {
		let (program, inputs) = identity_chain(16, 1);
		let s = setting::<T>(program, inputs, 1, 0)?;
		let (id, _) = open_game::<T>(&s, 0, false)?;
		for i in 1..=n {
			open_game::<T>(&s, i, false)?;
		}
		let record = Disputes_::<T>::get(id).ok_or(BenchmarkError::Weightless)?;
		let resolution =
			game::Resolution { winner: game::Winner::Challenger, reason: game::Reason::Timeout };

		#[block]
		{
			Disputes::<T>::settle(id, record, resolution)
				.map_err(|_| BenchmarkError::Stop("settle failed"))?;
		}

		assert!(ClaimDisputes::<T>::get(s.claim).is_empty());
		Ok(())
	}

	#[benchmark]
	fn set_clock() -> Result<(), BenchmarkError> {
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let clock = ClockParams { budget: T::MaxClockBudget::get(), min_extension: 1 };

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, clock);

		assert_eq!(Clock::<T>::get(), clock);
		Ok(())
	}

	impl_benchmark_test_suite!(Disputes, crate::mock::ExtBuilder::build(), crate::mock::Test);
}
