//! Unit tests of every transition and every refused move, on one small program.

use alloc::{vec, vec::Vec};

use codec::{Decode, Encode, MaxEncodedLen};
use edgeproof_canon::{
	merkle::hash_pair, verify_one_step, DType, LeafWitness, Limits, Node, OneStepContext, Op,
	Position, Program, Ref, TensorSpec, Tolerance, ZERO_HASH,
};

use super::{testing::*, *};

const EXACT: Tolerance = Tolerance::Exact;
const OPENED_AT: BlockNumber = 10;

/// m = 2 inputs x0, x1: f32[2], constant c = [2, -3];
/// n0 = x0 + x1, n1 = n0 * c, n2 = Relu(n1), n3 = -n2, n4 = n3 - x0; outputs n3, n4.
/// Trace leaves 0..7 (outputs 5, 6), one padding leaf 7, depth 3.
fn model() -> Model {
	let spec = TensorSpec { dtype: DType::F32, shape: vec![2] };
	let node = |op: Op, inputs: &[Ref]| Node { op, inputs: inputs.to_vec() };
	let program = Program {
		inputs: vec![spec.clone(), spec],
		constants: vec![vector(&[2.0, -3.0])],
		nodes: vec![
			node(Op::Add, &[Ref::Input(0), Ref::Input(1)]),
			node(Op::Mul, &[Ref::Node(0), Ref::Const(0)]),
			node(Op::Relu, &[Ref::Node(1)]),
			node(Op::Neg, &[Ref::Node(2)]),
			node(Op::Sub, &[Ref::Node(3), Ref::Input(0)]),
		],
		outputs: vec![Ref::Node(3), Ref::Node(4)],
	};
	Model::new(program, vec![vector(&[1.0, 2.0]), vector(&[0.5, -4.0])])
}

/// A trace whose leaf `leaf` is off by `delta`, later nodes recomputed.
fn cheater(model: &Model, leaf: usize, delta: f32) -> Player {
	let honest = model.honest();
	Player::new(model.tampered(&honest.values, leaf, true, |t| nudge(t, delta)))
}

/// The claim of `player`: its outputs.
fn claim_of(model: &Model, player: &Player) -> Vec<Tensor> {
	player.output_tensors(model.output_leaves())
}

/// Opens (block 10) with `challenger` against a claim of `claim`, responds (block 11) with
/// `claimant`, and plays the bisection (claimant first).
fn to_the_leaf(
	model: &Model,
	ctx: &ClaimContext,
	claimant: &Player,
	challenger: &Player,
) -> (Game, Outcome, BlockNumber) {
	let (mut game, outcome) =
		open_and_respond(model, ctx, OPENED_AT, claimant, challenger).unwrap();
	assert_eq!(outcome, Outcome::Continues);
	let mut now = OPENED_AT + 1;
	let outcome = bisect_to_the_end(&mut game, ctx, &mut now, claimant, challenger, |_| true);
	(game, outcome, now)
}

fn resolved(winner: Winner, reason: Reason) -> Outcome {
	Outcome::Resolved(Resolution { winner, reason })
}

#[test]
fn the_test_model_has_the_intended_trace() {
	let m = model();
	let honest = m.honest();
	let f = |i: usize| honest.values[i].f32_values().unwrap();
	assert_eq!(f(2), vec![1.5, -2.0]);
	assert_eq!(f(3), vec![3.0, 6.0]);
	assert_eq!(f(5), vec![-3.0, -6.0]);
	assert_eq!(f(6), vec![-4.0, -8.0]);
	assert_eq!(m.output_leaves(), 5..7);
	let claim = claim_of(&m, &honest);
	let ctx = m.context(&claim, EXACT);
	assert_eq!((ctx.trace_len(), ctx.depth(), ctx.output_leaves()), (7, 3, Some(5..7)));
}

// ----- open -----

#[test]
fn open_with_outputs_off_the_claim_leaves_the_claimant_to_respond() {
	let m = model();
	let (honest, liar) = (m.honest(), cheater(&m, 3, 1.0));
	let claim = claim_of(&m, &honest);
	let ctx = m.context(&claim, EXACT);
	let game = Game::open(&ctx, OPENED_AT, liar.root(), &liar.outputs(5..7), params()).unwrap();
	assert_eq!(*game.phase(), Phase::AwaitingResponse);
	assert!(game.owes(Party::Claimant) && !game.owes(Party::Challenger));
	assert_eq!(game.challenger_root(), liar.root());
	assert_eq!(game.claimant_root(), None);
	assert_eq!(game.remaining(Party::Claimant, OPENED_AT + 30), BUDGET - 30);
	assert_eq!(game.remaining(Party::Challenger, OPENED_AT + 30), BUDGET);
	assert_eq!(game.deadline(), Some(OPENED_AT + BUDGET));
	assert_eq!((game.round(), game.position(&ctx), game.resolution()), (None, None, None));
}

#[test]
fn open_with_a_bad_proof_is_refused() {
	let m = model();
	let (honest, liar) = (m.honest(), cheater(&m, 3, 1.0));
	let claim = claim_of(&m, &honest);
	let ctx = m.context(&claim, EXACT);
	let open = |w: &[LeafWitness]| Game::open(&ctx, OPENED_AT, liar.root(), w, params());
	let mut bad = liar.outputs(5..7);
	bad[1].proof.siblings[2][0] ^= 1;
	assert_eq!(open(&bad), Err(GameError::BadOutputProof));
	let mut short = liar.outputs(5..7);
	short[0].proof.siblings.pop();
	assert_eq!(open(&short), Err(GameError::BadOutputProof));
	// A tensor that is not the committed leaf.
	let mut other = liar.outputs(5..7);
	other[0].tensor = nudge(&other[0].tensor, 7.0);
	assert_eq!(open(&other), Err(GameError::BadOutputProof));
	// Proofs against another root.
	assert_eq!(open(&honest.outputs(5..7)), Err(GameError::BadOutputProof));
}

#[test]
fn open_with_a_proof_of_another_leaf_is_refused() {
	let m = model();
	let (honest, liar) = (m.honest(), cheater(&m, 3, 1.0));
	let claim = claim_of(&m, &honest);
	let ctx = m.context(&claim, EXACT);
	let open = |w: &[LeafWitness]| Game::open(&ctx, OPENED_AT, liar.root(), w, params());
	// Leaf 4 (n2) is a valid leaf of the tree but not an output.
	let shifted = liar.outputs(4..6);
	assert_eq!(open(&shifted), Err(GameError::WrongOutputLeaf));
	let mut swapped = liar.outputs(5..7);
	swapped.reverse();
	assert_eq!(open(&swapped), Err(GameError::WrongOutputLeaf));
}

#[test]
fn open_with_the_wrong_number_of_outputs_is_refused() {
	let m = model();
	let (honest, liar) = (m.honest(), cheater(&m, 3, 1.0));
	let claim = claim_of(&m, &honest);
	let ctx = m.context(&claim, EXACT);
	let open = |w: &[LeafWitness]| Game::open(&ctx, OPENED_AT, liar.root(), w, params());
	assert_eq!(open(&liar.outputs(5..6)), Err(GameError::WrongOutputCount));
	assert_eq!(open(&[]), Err(GameError::WrongOutputCount));
	let mut three = liar.outputs(5..7);
	three.push(three[1].clone());
	assert_eq!(open(&three), Err(GameError::WrongOutputCount));
}

#[test]
fn open_with_outputs_within_tolerance_is_refused() {
	let m = model();
	let honest = m.honest();
	let claim = claim_of(&m, &honest);
	// Exact: the canonical outputs themselves.
	let ctx = m.context(&claim, EXACT);
	assert_eq!(
		Game::open(&ctx, OPENED_AT, honest.root(), &honest.outputs(5..7), params()),
		Err(GameError::ChallengerOutputWithinTolerance)
	);
	// Relative: an output off by 1e-6 relative is within 1e-4.
	let tol = Tolerance::Relative { abs: 1e-4f32.to_bits(), rel: 1e-4f32.to_bits() };
	let ctx = m.context(&claim, tol);
	let close = Player::new(m.tampered(&honest.values, 6, false, |t| nudge(t, -4e-6)));
	assert_eq!(
		Game::open(&ctx, OPENED_AT, close.root(), &close.outputs(5..7), params()),
		Err(GameError::ChallengerOutputWithinTolerance)
	);
	// One output far off is enough to open, under either tolerance.
	let far = Player::new(m.tampered(&honest.values, 6, false, |t| nudge(t, 0.5)));
	assert!(Game::open(&ctx, OPENED_AT, far.root(), &far.outputs(5..7), params()).is_ok());
	let ctx = m.context(&claim, EXACT);
	assert!(Game::open(&ctx, OPENED_AT, close.root(), &close.outputs(5..7), params()).is_ok());
}

#[test]
fn open_with_more_outputs_than_nodes_is_refused() {
	let m = model();
	let liar = cheater(&m, 3, 1.0);
	let many: Vec<Tensor> = (0..6).map(|_| liar.values[5].clone()).collect();
	let ctx = m.context(&many, EXACT);
	assert_eq!(ctx.output_leaves(), None);
	assert_eq!(
		Game::open(&ctx, OPENED_AT, liar.root(), &liar.outputs(5..7), params()),
		Err(GameError::InvalidContext)
	);
}

// ----- respond -----

#[test]
fn respond_starts_the_bisection_at_the_root() {
	let m = model();
	let (honest, liar) = (m.honest(), cheater(&m, 3, 1.0));
	let claim = claim_of(&m, &honest);
	let ctx = m.context(&claim, EXACT);
	let (game, outcome) = open_and_respond(&m, &ctx, OPENED_AT, &honest, &liar).unwrap();
	assert_eq!(outcome, Outcome::Continues);
	assert_eq!(
		*game.phase(),
		Phase::Bisection {
			level: Level::Trace,
			position: Position::ROOT,
			claimant_node: honest.root(),
			challenger_node: liar.root(),
			claimant_move: None,
			challenger_move: None,
		}
	);
	assert_eq!(game.claimant_root(), Some(honest.root()));
	assert_eq!((game.round(), game.position(&ctx)), (Some(0), Some(Position::ROOT)));
	assert!(game.owes(Party::Claimant) && game.owes(Party::Challenger));
	// The claimant used one block of its clock; the challenger's starts now.
	assert_eq!(game.clocks(), Clocks { claimant: BUDGET - 1, challenger: BUDGET, at: 11 });
	assert_eq!(game.deadline(), Some(OPENED_AT + BUDGET));
}

#[test]
fn respond_by_the_challenger_is_refused() {
	let m = model();
	let (honest, liar) = (m.honest(), cheater(&m, 3, 1.0));
	let claim = claim_of(&m, &honest);
	let ctx = m.context(&claim, EXACT);
	let mut game = Game::open(&ctx, OPENED_AT, liar.root(), &liar.outputs(5..7), params()).unwrap();
	let before = game.clone();
	assert_eq!(
		game.respond(&ctx, 11, Party::Challenger, honest.root(), &honest.outputs(5..7)),
		Err(GameError::WrongParty)
	);
	assert_eq!(game, before);
}

#[test]
fn respond_with_outputs_not_within_tolerance_is_refused() {
	let m = model();
	let (honest, liar, other) = (m.honest(), cheater(&m, 3, 1.0), cheater(&m, 2, 1.0));
	let claim = claim_of(&m, &honest);
	let ctx = m.context(&claim, EXACT);
	let mut game = Game::open(&ctx, OPENED_AT, liar.root(), &liar.outputs(5..7), params()).unwrap();
	let before = game.clone();
	// A claimant whose own trace does not give its claim.
	assert_eq!(
		game.respond(&ctx, 11, Party::Claimant, other.root(), &other.outputs(5..7)),
		Err(GameError::ClaimantOutputNotWithinTolerance)
	);
	assert_eq!(game, before);
	// Under a relative tolerance a claim near the canonical output is answered.
	let near: Vec<Tensor> = claim.iter().map(|t| nudge(t, 1e-6)).collect();
	let tol = Tolerance::Relative { abs: 1e-4f32.to_bits(), rel: 0 };
	let ctx = m.context(&near, tol);
	let mut game = Game::open(&ctx, OPENED_AT, liar.root(), &liar.outputs(5..7), params()).unwrap();
	assert_eq!(
		game.respond(&ctx, 11, Party::Claimant, honest.root(), &honest.outputs(5..7)),
		Ok(Outcome::Continues)
	);
}

#[test]
fn respond_with_bad_witnesses_or_the_challengers_root_is_refused() {
	let m = model();
	let (honest, liar) = (m.honest(), cheater(&m, 3, 1.0));
	let claim = claim_of(&m, &honest);
	let ctx = m.context(&claim, EXACT);
	let mut game = Game::open(&ctx, OPENED_AT, liar.root(), &liar.outputs(5..7), params()).unwrap();
	let before = game.clone();
	let mut respond =
		|root: Hash, w: &[LeafWitness]| game.respond(&ctx, 11, Party::Claimant, root, w);
	let mut bad = honest.outputs(5..7);
	bad[0].proof.siblings[0][31] ^= 0x80;
	assert_eq!(respond(honest.root(), &bad), Err(GameError::BadOutputProof));
	assert_eq!(respond(honest.root(), &honest.outputs(4..6)), Err(GameError::WrongOutputLeaf));
	assert_eq!(respond(honest.root(), &honest.outputs(6..7)), Err(GameError::WrongOutputCount));
	assert_eq!(respond(liar.root(), &liar.outputs(5..7)), Err(GameError::SameTraceRoot));
	assert_eq!(game, before);
}

// ----- bisect -----

#[test]
fn bisect_and_one_step_before_respond_are_refused() {
	let m = model();
	let (honest, liar) = (m.honest(), cheater(&m, 3, 1.0));
	let claim = claim_of(&m, &honest);
	let ctx = m.context(&claim, EXACT);
	let mut game = Game::open(&ctx, OPENED_AT, liar.root(), &liar.outputs(5..7), params()).unwrap();
	let (l, r) = honest.children(Position::ROOT);
	assert_eq!(game.bisect(&ctx, 11, Party::Claimant, 0, l, r), Err(GameError::UnexpectedMove));
	assert_eq!(game.one_step(&ctx, 11, &honest.witness(&m, 3)), Err(GameError::UnexpectedMove));
}

#[test]
fn children_that_do_not_hash_to_the_current_node_are_refused() {
	let m = model();
	let (honest, liar) = (m.honest(), cheater(&m, 3, 1.0));
	let claim = claim_of(&m, &honest);
	let ctx = m.context(&claim, EXACT);
	let (mut game, _) = open_and_respond(&m, &ctx, OPENED_AT, &honest, &liar).unwrap();
	let before = game.clone();
	let (l, r) = honest.children(Position::ROOT);
	assert_eq!(game.bisect(&ctx, 12, Party::Claimant, 0, r, l), Err(GameError::ChildrenMismatch));
	// The challenger's children are not the claimant's.
	let (cl, cr) = liar.children(Position::ROOT);
	assert_eq!(game.bisect(&ctx, 12, Party::Claimant, 0, cl, cr), Err(GameError::ChildrenMismatch));
	assert_eq!(game.bisect(&ctx, 12, Party::Challenger, 0, l, r), Err(GameError::ChildrenMismatch));
	assert_eq!(game, before);
}

#[test]
fn a_second_move_in_the_same_round_is_refused() {
	let m = model();
	let (honest, liar) = (m.honest(), cheater(&m, 3, 1.0));
	let claim = claim_of(&m, &honest);
	let ctx = m.context(&claim, EXACT);
	let (mut game, _) = open_and_respond(&m, &ctx, OPENED_AT, &honest, &liar).unwrap();
	let (l, r) = honest.children(Position::ROOT);
	assert_eq!(game.bisect(&ctx, 12, Party::Claimant, 0, l, r), Ok(Outcome::Continues));
	assert!(!game.owes(Party::Claimant) && game.owes(Party::Challenger));
	let before = game.clone();
	assert_eq!(game.bisect(&ctx, 13, Party::Claimant, 0, l, r), Err(GameError::AlreadyMoved));
	assert_eq!(game, before);
	// The round is still open: round 0, same position.
	assert_eq!((game.round(), game.position(&ctx)), (Some(0), Some(Position::ROOT)));
}

#[test]
fn a_move_for_another_round_is_refused() {
	let m = model();
	let (honest, liar) = (m.honest(), cheater(&m, 3, 1.0));
	let claim = claim_of(&m, &honest);
	let ctx = m.context(&claim, EXACT);
	let (mut game, _) = open_and_respond(&m, &ctx, OPENED_AT, &honest, &liar).unwrap();
	let (l, r) = honest.children(Position::ROOT);
	assert_eq!(game.bisect(&ctx, 12, Party::Claimant, 1, l, r), Err(GameError::WrongRound));
	game.bisect(&ctx, 12, Party::Claimant, 0, l, r).unwrap();
	let (cl, cr) = liar.children(Position::ROOT);
	game.bisect(&ctx, 13, Party::Challenger, 0, cl, cr).unwrap();
	assert_eq!(game.round(), Some(1));
	let pos = game.position(&ctx).unwrap();
	let (l, r) = honest.children(pos);
	assert_eq!(game.bisect(&ctx, 14, Party::Claimant, 0, l, r), Err(GameError::WrongRound));
	assert_eq!(game.bisect(&ctx, 14, Party::Claimant, 2, l, r), Err(GameError::WrongRound));
	assert_eq!(game.bisect(&ctx, 14, Party::Claimant, 1, l, r), Ok(Outcome::Continues));
}

#[test]
fn the_descent_reaches_the_first_differing_leaf_whatever_the_move_order() {
	let m = model();
	let (honest, liar) = (m.honest(), cheater(&m, 3, 1.0));
	let claim = claim_of(&m, &honest);
	let ctx = m.context(&claim, EXACT);
	let orders: [fn(u32) -> bool; 3] = [|_| true, |_| false, |r| r % 2 == 0];
	for order in orders {
		let (mut game, _) = open_and_respond(&m, &ctx, OPENED_AT, &honest, &liar).unwrap();
		let mut now = 11;
		let outcome = bisect_to_the_end(&mut game, &ctx, &mut now, &honest, &liar, order);
		assert_eq!(outcome, Outcome::Continues);
		assert_eq!(
			*game.phase(),
			Phase::AwaitingOneStep {
				leaf: 3,
				claimant_leaf: leaf_hash(&honest.values[3]),
				challenger_leaf: leaf_hash(&liar.values[3]),
			}
		);
		assert_eq!(game.position(&ctx), Some(Position { depth: 3, index: 3 }));
		assert_eq!(game.round(), None);
		assert!(game.owes(Party::Claimant) && !game.owes(Party::Challenger));
	}
}

// ----- one step -----

#[test]
fn an_honest_claimant_wins_the_one_step() {
	let m = model();
	let (honest, liar) = (m.honest(), cheater(&m, 3, 1.0));
	let claim = claim_of(&m, &honest);
	let ctx = m.context(&claim, EXACT);
	let (mut game, _, now) = to_the_leaf(&m, &ctx, &honest, &liar);
	// The challenger posts the step from its own trace: it agrees with the claimant's before 3.
	let outcome = game.one_step(&ctx, now + 1, &liar.witness(&m, 3)).unwrap();
	assert_eq!(outcome, resolved(Winner::Claimant, Reason::OneStep { leaf: 3 }));
	assert_eq!(
		game.resolution(),
		Some(Resolution { winner: Winner::Claimant, reason: Reason::OneStep { leaf: 3 } })
	);
	assert_eq!(game.deadline(), None);
	assert!(!game.owes(Party::Claimant) && !game.owes(Party::Challenger));
}

#[test]
fn an_honest_challenger_wins_the_one_step_with_a_witness_against_its_own_root() {
	let m = model();
	let (honest, liar) = (m.honest(), cheater(&m, 5, 1.0));
	let claim = claim_of(&m, &liar);
	let ctx = m.context(&claim, EXACT);
	let (mut game, _, now) = to_the_leaf(&m, &ctx, &liar, &honest);
	assert!(matches!(game.phase(), Phase::AwaitingOneStep { leaf: 5, .. }));
	// Leaf 5 reads leaf 4, whose proof passes through leaf 5 itself: the challenger's witness
	// does not verify against the claimant's root, only against the challenger's.
	let w = honest.witness(&m, 5);
	let against_claimant = OneStepContext {
		program_root: ctx.program_root,
		node_count: 5,
		input_count: 2,
		trace_root: liar.root(),
		limits: Limits::NATIVE,
	};
	assert!(matches!(
		verify_one_step(&against_claimant, 5, &w),
		Err(edgeproof_canon::CanonError::Proof { .. })
	));
	let outcome = game.one_step(&ctx, now + 1, &w).unwrap();
	assert_eq!(outcome, resolved(Winner::Challenger, Reason::OneStep { leaf: 5 }));
}

#[test]
fn two_wrong_leaves_make_both_lose() {
	let m = model();
	let (a, b) = (cheater(&m, 3, 1.0), cheater(&m, 3, 2.0));
	let claim = claim_of(&m, &a);
	let ctx = m.context(&claim, EXACT);
	let (mut game, _, now) = to_the_leaf(&m, &ctx, &a, &b);
	let outcome = game.one_step(&ctx, now + 1, &a.witness(&m, 3)).unwrap();
	assert_eq!(outcome, resolved(Winner::Neither, Reason::OneStep { leaf: 3 }));
	// Two cheaters where the first difference is right in one of them: that one wins.
	let c = cheater(&m, 5, 1.0);
	let claim = claim_of(&m, &c);
	let ctx = m.context(&claim, EXACT);
	let (mut game, _, now) = to_the_leaf(&m, &ctx, &c, &a);
	let outcome = game.one_step(&ctx, now + 1, &c.witness(&m, 3)).unwrap();
	assert_eq!(outcome, resolved(Winner::Claimant, Reason::OneStep { leaf: 3 }));
}

#[test]
fn a_one_step_witness_proved_against_neither_root_is_refused() {
	let m = model();
	let (honest, liar) = (m.honest(), cheater(&m, 3, 1.0));
	let claim = claim_of(&m, &honest);
	let ctx = m.context(&claim, EXACT);
	let (mut game, _, now) = to_the_leaf(&m, &ctx, &honest, &liar);
	let before = game.clone();
	let mut forged = honest.witness(&m, 3);
	forged.inputs[0].tensor = nudge(&forged.inputs[0].tensor, 1.0);
	assert_eq!(game.one_step(&ctx, now + 1, &forged), Err(GameError::OneStepNotProven));
	let mut wrong_node = honest.witness(&m, 3);
	wrong_node.node.op = Op::Add;
	assert_eq!(game.one_step(&ctx, now + 1, &wrong_node), Err(GameError::OneStepNotProven));
	// A valid witness for another leaf.
	assert_eq!(
		game.one_step(&ctx, now + 1, &honest.witness(&m, 4)),
		Err(GameError::OneStepNotProven)
	);
	assert_eq!(game, before);
}

#[test]
fn a_one_step_that_cannot_be_executed_is_refused() {
	let m = model();
	let (honest, liar) = (m.honest(), cheater(&m, 3, 1.0));
	let claim = claim_of(&m, &honest);
	let ctx = m.context(&claim, EXACT);
	let (mut game, _, now) = to_the_leaf(&m, &ctx, &honest, &liar);
	let before = game.clone();
	let tight = ClaimContext { limits: Limits { max_node_work: 1, ..Limits::NATIVE }, ..ctx };
	assert_eq!(
		game.one_step(&tight, now + 1, &honest.witness(&m, 3)),
		Err(GameError::OneStepFailed)
	);
	assert_eq!(game, before);
}

// ----- leaf decisions without a one-step -----

#[test]
fn an_input_leaf_is_judged_against_the_claims_input() {
	let m = model();
	let (honest, liar) = (m.honest(), cheater(&m, 1, 1.0));
	// An honest claimant against a challenger who ran the model on another input.
	let claim = claim_of(&m, &honest);
	let ctx = m.context(&claim, EXACT);
	let (game, outcome, _) = to_the_leaf(&m, &ctx, &honest, &liar);
	assert_eq!(outcome, resolved(Winner::Claimant, Reason::InputLeaf { leaf: 1 }));
	assert_eq!(game.deadline(), None);
	// A claimant who ran the model on another input than the one it claims.
	let claim = claim_of(&m, &liar);
	let ctx = m.context(&claim, EXACT);
	let (_, outcome, _) = to_the_leaf(&m, &ctx, &liar, &honest);
	assert_eq!(outcome, resolved(Winner::Challenger, Reason::InputLeaf { leaf: 1 }));
	// Both on wrong inputs.
	let other = cheater(&m, 1, -1.0);
	let (_, outcome, _) = to_the_leaf(&m, &ctx, &liar, &other);
	assert_eq!(outcome, resolved(Winner::Neither, Reason::InputLeaf { leaf: 1 }));
}

#[test]
fn the_claims_input_leaves_are_needed_only_to_judge_an_input_leaf() {
	let m = model();
	let (honest, liar) = (m.honest(), cheater(&m, 1, 1.0));
	let claim = claim_of(&m, &honest);
	let ctx = m.context(&claim, EXACT);
	let blind = ClaimContext { input_leaves: &[], ..ctx };
	// Open, respond and every round but the last need no input leaf.
	let (mut game, _) = open_and_respond(&m, &blind, OPENED_AT, &honest, &liar).unwrap();
	let mut now = 11;
	while let Some(round) = game.round() {
		let pos = game.position(&ctx).unwrap();
		let (l, r) = honest.children(pos);
		now += 1;
		game.bisect(&blind, now, Party::Claimant, round, l, r).unwrap();
		let (l, r) = liar.children(pos);
		now += 1;
		if round + 1 < ctx.depth() {
			game.bisect(&blind, now, Party::Challenger, round, l, r).unwrap();
		} else {
			// The last round ends at input leaf 1: without the input leaves it cannot be judged.
			let before = game.clone();
			let refused = game.bisect(&blind, now, Party::Challenger, round, l, r);
			assert_eq!(refused, Err(GameError::InvalidContext));
			assert_eq!(game, before);
			let outcome = game.bisect(&ctx, now, Party::Challenger, round, l, r).unwrap();
			assert_eq!(outcome, resolved(Winner::Claimant, Reason::InputLeaf { leaf: 1 }));
		}
	}
	// A one-step needs no claim tensors either.
	let liar = cheater(&m, 3, 1.0);
	let (mut game, _, now) = to_the_leaf(&m, &ctx, &honest, &liar);
	let blind = ClaimContext { input_leaves: &[], outputs: &[], ..ctx };
	let outcome = game.one_step(&blind, now + 1, &honest.witness(&m, 3)).unwrap();
	assert_eq!(outcome, resolved(Winner::Claimant, Reason::OneStep { leaf: 3 }));
}

#[test]
fn a_padding_leaf_is_judged_against_the_zero_hash() {
	// Unreachable through open and respond (all real leaves would agree); set the state up.
	let m = model();
	let (honest, liar) = (m.honest(), cheater(&m, 3, 1.0));
	let claim = claim_of(&m, &honest);
	let ctx = m.context(&claim, EXACT);
	let (base, _) = open_and_respond(&m, &ctx, OPENED_AT, &honest, &liar).unwrap();
	let shared = leaf_hash(&honest.values[6]);
	let junk = [7u8; 32];
	let play = |claimant_pad: Hash, challenger_pad: Hash| {
		let mut game = base.clone();
		let position = Position { depth: 2, index: 3 };
		game.phase = Phase::Bisection {
			level: Level::Trace,
			position,
			claimant_node: hash_pair(&shared, &claimant_pad),
			challenger_node: hash_pair(&shared, &challenger_pad),
			claimant_move: None,
			challenger_move: None,
		};
		game.bisect(&ctx, 12, Party::Claimant, 2, shared, claimant_pad).unwrap();
		game.bisect(&ctx, 13, Party::Challenger, 2, shared, challenger_pad).unwrap()
	};
	let padding = Reason::PaddingLeaf { leaf: 7 };
	assert_eq!(play(ZERO_HASH, junk), resolved(Winner::Claimant, padding));
	assert_eq!(play(junk, ZERO_HASH), resolved(Winner::Challenger, padding));
	assert_eq!(play(junk, [8u8; 32]), resolved(Winner::Neither, padding));
}

#[test]
fn a_one_leaf_trace_goes_straight_to_the_one_step() {
	// No graph input, one node: the trace is one leaf, the tree has depth 0.
	let program = Program {
		inputs: vec![],
		constants: vec![vector(&[1.0, 2.0])],
		nodes: vec![Node { op: Op::Identity, inputs: vec![Ref::Const(0)] }],
		outputs: vec![Ref::Node(0)],
	};
	let m = Model::new(program, vec![]);
	let honest = m.honest();
	let liar = Player::new(vec![vector(&[1.0, 3.0])]);
	for (claimant, challenger, winner) in
		[(&honest, &liar, Winner::Claimant), (&liar, &honest, Winner::Challenger)]
	{
		let claim = claim_of(&m, claimant);
		let ctx = m.context(&claim, EXACT);
		assert_eq!(ctx.depth(), 0);
		let (mut game, outcome) =
			open_and_respond(&m, &ctx, OPENED_AT, claimant, challenger).unwrap();
		assert_eq!(outcome, Outcome::Continues);
		assert!(matches!(game.phase(), Phase::AwaitingOneStep { leaf: 0, .. }));
		assert_eq!(game.position(&ctx), Some(Position::ROOT));
		let outcome = game.one_step(&ctx, 12, &honest.witness(&m, 0)).unwrap();
		assert_eq!(outcome, resolved(winner, Reason::OneStep { leaf: 0 }));
	}
}

// ----- clocks -----

#[test]
fn a_claimant_that_does_not_respond_loses_on_time() {
	let m = model();
	let (honest, liar) = (m.honest(), cheater(&m, 3, 1.0));
	let claim = claim_of(&m, &honest);
	let ctx = m.context(&claim, EXACT);
	let mut game = Game::open(&ctx, OPENED_AT, liar.root(), &liar.outputs(5..7), params()).unwrap();
	let deadline = OPENED_AT + BUDGET;
	assert_eq!(game.deadline(), Some(deadline));
	assert_eq!(game.timed_out(deadline - 1), None);
	assert_eq!(game.timeout(deadline - 1), Err(GameError::NotTimedOut));
	// Its last chance is the block before the deadline.
	let mut late = game.clone();
	assert!(late
		.respond(&ctx, deadline - 1, Party::Claimant, honest.root(), &honest.outputs(5..7))
		.is_ok());
	let before = game.clone();
	assert_eq!(
		game.respond(&ctx, deadline, Party::Claimant, honest.root(), &honest.outputs(5..7)),
		Err(GameError::ClockExpired)
	);
	assert_eq!(game, before);
	assert_eq!(game.timeout(deadline), Ok(resolved(Winner::Challenger, Reason::Timeout)));
}

#[test]
fn a_challenger_that_does_not_bisect_loses_on_time() {
	let m = model();
	let (honest, liar) = (m.honest(), cheater(&m, 3, 1.0));
	let claim = claim_of(&m, &honest);
	let ctx = m.context(&claim, EXACT);
	let (mut game, _) = open_and_respond(&m, &ctx, OPENED_AT, &honest, &liar).unwrap();
	let (l, r) = honest.children(Position::ROOT);
	game.bisect(&ctx, 12, Party::Claimant, 0, l, r).unwrap();
	// The claimant's clock stopped when it moved; the challenger's runs from block 11.
	assert_eq!(game.remaining(Party::Claimant, 12), game.remaining(Party::Claimant, 500));
	let deadline = 11 + BUDGET;
	assert_eq!(game.deadline(), Some(deadline));
	assert_eq!(game.timeout(deadline - 1), Err(GameError::NotTimedOut));
	let (cl, cr) = liar.children(Position::ROOT);
	let mut expired = game.clone();
	assert_eq!(
		expired.bisect(&ctx, deadline, Party::Challenger, 0, cl, cr),
		Err(GameError::ClockExpired)
	);
	assert_eq!(game.timeout(deadline), Ok(resolved(Winner::Claimant, Reason::Timeout)));
}

#[test]
fn a_claimant_that_does_not_bisect_loses_on_time() {
	let m = model();
	let (honest, liar) = (m.honest(), cheater(&m, 3, 1.0));
	let claim = claim_of(&m, &honest);
	let ctx = m.context(&claim, EXACT);
	let (mut game, _) = open_and_respond(&m, &ctx, OPENED_AT, &honest, &liar).unwrap();
	let (cl, cr) = liar.children(Position::ROOT);
	game.bisect(&ctx, 12, Party::Challenger, 0, cl, cr).unwrap();
	// The claimant has run since block 10 (the response took one block).
	let deadline = OPENED_AT + BUDGET;
	assert_eq!(game.deadline(), Some(deadline));
	assert_eq!(game.timeout(deadline - 1), Err(GameError::NotTimedOut));
	assert_eq!(game.timeout(deadline), Ok(resolved(Winner::Challenger, Reason::Timeout)));
}

#[test]
fn both_clocks_out_in_a_round_make_both_lose() {
	let m = model();
	let (honest, liar) = (m.honest(), cheater(&m, 3, 1.0));
	let claim = claim_of(&m, &honest);
	let ctx = m.context(&claim, EXACT);
	let (game, _) = open_and_respond(&m, &ctx, OPENED_AT, &honest, &liar).unwrap();
	// Neither moves: the claimant runs out at 110, the challenger at 111.
	assert_eq!(game.deadline(), Some(110));
	assert_eq!(game.timed_out(110), Some(Winner::Challenger));
	assert_eq!(game.timed_out(111), Some(Winner::Neither));
	let mut at_111 = game.clone();
	assert_eq!(at_111.timeout(111), Ok(resolved(Winner::Neither, Reason::Timeout)));
	let mut at_110 = game;
	assert_eq!(at_110.timeout(110), Ok(resolved(Winner::Challenger, Reason::Timeout)));
}

#[test]
fn a_claimant_that_does_not_post_the_one_step_loses_on_time() {
	let m = model();
	let (honest, liar) = (m.honest(), cheater(&m, 3, 1.0));
	let claim = claim_of(&m, &honest);
	let ctx = m.context(&claim, EXACT);
	let (mut game, _, now) = to_the_leaf(&m, &ctx, &honest, &liar);
	let deadline = game.deadline().unwrap();
	assert_eq!(deadline, now + game.remaining(Party::Claimant, now));
	assert_eq!(game.timeout(deadline - 1), Err(GameError::NotTimedOut));
	// Nobody may post the step once the claimant's clock ran out, not even the challenger.
	let mut late = game.clone();
	assert_eq!(late.one_step(&ctx, deadline, &liar.witness(&m, 3)), Err(GameError::ClockExpired));
	assert_eq!(game.timeout(deadline), Ok(resolved(Winner::Challenger, Reason::Timeout)));
}

#[test]
fn a_move_that_hands_over_the_turn_leaves_the_opponent_the_minimum_extension() {
	let m = model();
	let (honest, liar) = (m.honest(), cheater(&m, 3, 1.0));
	let claim = claim_of(&m, &honest);
	let ctx = m.context(&claim, EXACT);
	let params = ClockParams { budget: 10, min_extension: 5 };
	// Opening: a budget below the extension is raised to it for the claimant.
	let small = ClockParams { budget: 3, min_extension: 5 };
	let game = Game::open(&ctx, 0, liar.root(), &liar.outputs(5..7), small).unwrap();
	assert_eq!(game.remaining(Party::Claimant, 0), 5);
	let mut game = Game::open(&ctx, 0, liar.root(), &liar.outputs(5..7), params).unwrap();
	game.respond(&ctx, 2, Party::Claimant, honest.root(), &honest.outputs(5..7)).unwrap();
	// Round 0: the claimant moves with one block left, the challenger closes the round later.
	let (l, r) = honest.children(Position::ROOT);
	game.bisect(&ctx, 9, Party::Claimant, 0, l, r).unwrap();
	assert_eq!(game.remaining(Party::Claimant, 9), 1);
	let (cl, cr) = liar.children(Position::ROOT);
	game.bisect(&ctx, 10, Party::Challenger, 0, cl, cr).unwrap();
	// The claimant has the minimum extension; the mover keeps what it had left.
	assert_eq!(game.remaining(Party::Claimant, 10), 5);
	assert_eq!(game.remaining(Party::Challenger, 10), 2);
	assert_eq!(game.deadline(), Some(12));
	assert_eq!(game.timeout(12), Ok(resolved(Winner::Claimant, Reason::Timeout)));
}

#[test]
fn the_claimant_owes_the_one_step_with_at_least_the_minimum_extension() {
	let m = model();
	let (honest, liar) = (m.honest(), cheater(&m, 3, 1.0));
	let claim = claim_of(&m, &honest);
	let ctx = m.context(&claim, EXACT);
	let (mut game, _) = open_and_respond(&m, &ctx, 0, &honest, &liar).unwrap();
	// Round 0: the challenger moves at once, the claimant closes the round with 2 blocks left.
	let (l, r) = liar.children(Position::ROOT);
	game.bisect(&ctx, 2, Party::Challenger, 0, l, r).unwrap();
	let (l, r) = honest.children(Position::ROOT);
	game.bisect(&ctx, BUDGET - 2, Party::Claimant, 0, l, r).unwrap();
	assert_eq!(game.remaining(Party::Claimant, BUDGET - 2), 2);
	// Later rounds: the claimant moves first, the challenger hands the turn back a block later.
	let mut now = BUDGET - 2;
	while let Some(round) = game.round() {
		let pos = game.position(&ctx).unwrap();
		now += 1;
		let (l, r) = honest.children(pos);
		game.bisect(&ctx, now, Party::Claimant, round, l, r).unwrap();
		now += 1;
		let (l, r) = liar.children(pos);
		game.bisect(&ctx, now, Party::Challenger, round, l, r).unwrap();
		assert_eq!(game.remaining(Party::Claimant, now), MIN_EXTENSION);
	}
	assert!(matches!(game.phase(), Phase::AwaitingOneStep { .. }));
	assert_eq!(game.remaining(Party::Claimant, now), MIN_EXTENSION);
	assert_eq!(game.deadline(), Some(now + MIN_EXTENSION));
}

#[test]
fn a_move_dated_before_the_last_change_is_refused() {
	let m = model();
	let (honest, liar) = (m.honest(), cheater(&m, 3, 1.0));
	let claim = claim_of(&m, &honest);
	let ctx = m.context(&claim, EXACT);
	let mut game = Game::open(&ctx, OPENED_AT, liar.root(), &liar.outputs(5..7), params()).unwrap();
	assert_eq!(
		game.respond(&ctx, OPENED_AT - 1, Party::Claimant, honest.root(), &honest.outputs(5..7)),
		Err(GameError::BlockInThePast)
	);
	assert_eq!(game.timeout(OPENED_AT - 1), Err(GameError::BlockInThePast));
	// The same block is fine.
	assert!(game
		.respond(&ctx, OPENED_AT, Party::Claimant, honest.root(), &honest.outputs(5..7))
		.is_ok());
}

// ----- after the end -----

#[test]
fn every_move_after_resolution_is_refused() {
	let m = model();
	let (honest, liar) = (m.honest(), cheater(&m, 3, 1.0));
	let claim = claim_of(&m, &honest);
	let ctx = m.context(&claim, EXACT);
	let (mut game, _, now) = to_the_leaf(&m, &ctx, &honest, &liar);
	let w = honest.witness(&m, 3);
	game.one_step(&ctx, now + 1, &w).unwrap();
	let over = game.clone();
	let (l, r) = honest.children(Position::ROOT);
	let later = now + 1000;
	assert_eq!(game.one_step(&ctx, later, &w), Err(GameError::AlreadyResolved));
	assert_eq!(
		game.respond(&ctx, later, Party::Claimant, honest.root(), &honest.outputs(5..7)),
		Err(GameError::AlreadyResolved)
	);
	assert_eq!(game.bisect(&ctx, later, Party::Claimant, 0, l, r), Err(GameError::AlreadyResolved));
	assert_eq!(game.timeout(later), Err(GameError::AlreadyResolved));
	assert_eq!(game.timed_out(later), None);
	assert_eq!(game, over);
	// Same after a timeout.
	let mut game = Game::open(&ctx, 0, liar.root(), &liar.outputs(5..7), params()).unwrap();
	game.timeout(BUDGET).unwrap();
	assert_eq!(
		game.respond(&ctx, BUDGET, Party::Claimant, honest.root(), &honest.outputs(5..7)),
		Err(GameError::AlreadyResolved)
	);
	assert_eq!(game.timeout(BUDGET + 1), Err(GameError::AlreadyResolved));
}

// ----- storage -----

#[test]
fn the_stored_game_is_small_and_round_trips() {
	// 8 (params) + 12 (clocks) + 32 + 33 (roots) + 325 (largest phase: a bisection round of a
	// tile's segment states, whose level holds the cut node, 45 bytes, and both state roots).
	assert_eq!(Game::max_encoded_len(), 410);
	let m = model();
	let (honest, liar) = (m.honest(), cheater(&m, 3, 1.0));
	let claim = claim_of(&m, &honest);
	let ctx = m.context(&claim, EXACT);
	let (mut game, _) = open_and_respond(&m, &ctx, OPENED_AT, &honest, &liar).unwrap();
	let (l, r) = honest.children(Position::ROOT);
	game.bisect(&ctx, 12, Party::Claimant, 0, l, r).unwrap();
	let bytes = game.encode();
	assert!(bytes.len() <= Game::max_encoded_len());
	assert_eq!(Game::decode(&mut &bytes[..]), Ok(game));
}

// ----- a claim whose input the canonical executor cannot run -----

/// m = 1 input idx: i64[2]; constant table: f32[4, 3]; n0 = Gather(table, idx, axis 0),
/// n1 = Relu(n0), the output. Trace leaves 0..3, one padding leaf, depth 2.
fn gather_model(idx: &[i64]) -> Model {
	let node = |op: Op, inputs: &[Ref]| Node { op, inputs: inputs.to_vec() };
	let table: Vec<f32> = (0..12).map(|i| i as f32 - 5.0).collect();
	let program = Program {
		inputs: vec![TensorSpec { dtype: DType::I64, shape: vec![2] }],
		constants: vec![Tensor::from_f32(vec![4, 3], &table)],
		nodes: vec![
			node(Op::Gather { axis: 0 }, &[Ref::Const(0), Ref::Input(0)]),
			node(Op::Relu, &[Ref::Node(0)]),
		],
		outputs: vec![Ref::Node(1)],
	};
	Model::new(program, vec![Tensor::from_i64(vec![2], idx)])
}

/// The challenger's trace of a claim whose input makes node `n0` fail (issue 14, item 1): the
/// canonical executor's, with the unrunnable value at the nodes it cannot run.
fn unrunnable_trace(m: &Model) -> Player {
	let t = edgeproof_canon::execute_substituting(&m.program, &m.inputs, &Limits::NATIVE).unwrap();
	assert_eq!(t.unrunnable, vec![0], "the Gather fails, the Relu runs on its placeholder");
	Player::new(t.trace.values)
}

/// A claimant whose trace holds some values where the Gather fails cannot prove them: the
/// one-step of that node cannot be made by anyone, and the claimant runs out of time.
#[test]
fn a_claim_on_an_input_canon_cannot_run_is_lost_at_the_failing_node() {
	let m = gather_model(&[1, 4]);
	let challenger = unrunnable_trace(&m);
	let picked = Tensor::from_f32(vec![2, 3], &[-2., -1., 0., 1., 2., 3.]);
	let relu = Tensor::from_f32(vec![2, 3], &[0., 0., 0., 1., 2., 3.]);
	let claimant = Player::new(vec![m.inputs[0].clone(), picked, relu]);
	let claim = claim_of(&m, &claimant);
	let ctx = m.context(&claim, EXACT);
	let (mut game, outcome, now) = to_the_leaf(&m, &ctx, &claimant, &challenger);
	assert_eq!(outcome, Outcome::Continues);
	assert!(matches!(*game.phase(), Phase::AwaitingOneStep { leaf: 1, .. }));
	for player in [&claimant, &challenger] {
		let before = game.clone();
		assert_eq!(
			game.one_step(&ctx, now + 1, &player.witness(&m, 1)),
			Err(GameError::OneStepFailed)
		);
		assert_eq!(game, before);
	}
	let deadline = game.deadline().expect("the claimant owes the one-step");
	assert_eq!(game.timeout(deadline), Ok(resolved(Winner::Challenger, Reason::Timeout)));
}

/// A claimant that copies the placeholder to get past the failing node must still output a
/// tensor of the claim's shape, so the descent stops at a later node that runs on agreed
/// values, and its one-step proves the challenger right.
#[test]
fn copying_the_unrunnable_value_moves_the_loss_to_the_next_node() {
	let m = gather_model(&[1, 4]);
	let challenger = unrunnable_trace(&m);
	let relu = Tensor::from_f32(vec![2, 3], &[0., 0., 0., 1., 2., 3.]);
	let copied = edgeproof_canon::unrunnable_value();
	let claimant = Player::new(vec![m.inputs[0].clone(), copied, relu]);
	let claim = claim_of(&m, &claimant);
	let ctx = m.context(&claim, EXACT);
	let (mut game, outcome, now) = to_the_leaf(&m, &ctx, &claimant, &challenger);
	assert_eq!(outcome, Outcome::Continues);
	assert!(matches!(*game.phase(), Phase::AwaitingOneStep { leaf: 2, .. }));
	assert_eq!(
		game.one_step(&ctx, now + 1, &challenger.witness(&m, 2)),
		Ok(resolved(Winner::Challenger, Reason::OneStep { leaf: 2 }))
	);
}
