//! Unit tests of the dispute pallet: whole games on the fixture MLP through the calls, bonds
//! and claim status after each ending, every refused call, all-vs-all, and the off-chain
//! players with the real inference engine.

use std::sync::Arc;

use codec::Encode;
use edgeproof_canon::{Tensor, Tolerance};
use edgeproof_primitives::InferenceExt;
use frame_support::{
	assert_noop, assert_ok,
	dispatch::{DispatchClass, GetDispatchInfo},
	traits::{
		fungible::{Inspect, InspectHold, MutateHold},
		Get, Hooks,
	},
	BoundedVec,
};
use pallet_attestations::{ClaimId, ClaimStatus};
use sp_core::offchain::{testing, OffchainDbExt, OffchainWorkerExt, TransactionPoolExt};
use sp_runtime::{
	testing::UintAuthorityId, transaction_validity::InvalidTransaction, DispatchError,
};

use crate::{
	game::{testing::Player, Party, Phase, Reason, Resolution, Winner},
	mock::*,
	ClaimDisputes, DisputeId, Disputes as DisputesMap, Ending, Error, Event, HoldReason,
};

fn claim_status(claim: ClaimId) -> Option<ClaimStatus> {
	pallet_attestations::Claims::<Test>::get(claim).map(|c| c.status)
}

fn challenger_held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::ChallengerBond.into(), &who)
}

fn claim_held() -> Balance {
	Balances::balance_on_hold(&pallet_attestations::HoldReason::ClaimBond.into(), &OPERATOR)
}

fn outputs(player: &Player, s: &Setup) -> BoundedVec<edgeproof_canon::LeafWitness, ConstOutputs> {
	BoundedVec::truncate_from(player.outputs(s.model.output_leaves()))
}

type ConstOutputs = frame_support::traits::ConstU32<4>;

/// A player whose final output leaf is `nudge`d by `delta` (only that leaf changes).
fn liar(s: &Setup, delta: f32) -> Player {
	let values = s.model.tampered(&s.honest.values, s.honest.values.len() - 1, false, |t| {
		crate::game::testing::nudge(t, delta)
	});
	Player::new(values)
}

/// A liar that tampers the first node's output and recomputes everything after it.
fn deep_liar(s: &Setup) -> Player {
	let m = s.model.program.inputs.len();
	Player::new(
		s.model.tampered(&s.honest.values, m, true, |t| crate::game::testing::nudge(t, 3.0)),
	)
}

fn open(s: &Setup, claim: ClaimId, who: AccountId, player: &Player) -> DisputeId {
	let id = crate::NextDisputeId::<Test>::get();
	assert_ok!(Disputes::open(
		RuntimeOrigin::signed(who),
		claim,
		player.root(),
		outputs(player, s)
	));
	id
}

fn next_block() {
	run_to_block(System::block_number() + 1);
}

/// Plays the bisection through the calls, claimant first, one block per move; stops when the
/// dispute ends or awaits its one-step.
fn bisect_through(dispute: DisputeId, claimant: &Player, challenger: (AccountId, &Player)) {
	while let Some(d) = DisputesMap::<Test>::get(dispute) {
		let Phase::Bisection { position, .. } = *d.game.phase() else { return };
		for (who, player) in [(OPERATOR, claimant), challenger] {
			next_block();
			let (left, right) = player.children(position);
			assert_ok!(Disputes::bisect(
				RuntimeOrigin::signed(who),
				dispute,
				position.depth,
				left,
				right
			));
			if DisputesMap::<Test>::get(dispute).is_none() {
				return;
			}
		}
	}
}

fn awaited_leaf(dispute: DisputeId) -> u64 {
	match *DisputesMap::<Test>::get(dispute).expect("running").game.phase() {
		Phase::AwaitingOneStep { leaf, .. } => leaf,
		other => panic!("not awaiting a one-step: {other:?}"),
	}
}

fn resolved_event(dispute: DisputeId) -> Event<Test> {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::Disputes(e @ Event::DisputeResolved { dispute: d, .. })
				if d == dispute =>
			{
				Some(e)
			},
			_ => None,
		})
		.last()
		.expect("the dispute was resolved")
}

#[test]
fn an_honest_challenger_beats_a_wrong_claim_at_the_one_step() {
	ExtBuilder::build_and_execute(|| {
		let s = setup(Tolerance::Exact);
		let lie = deep_liar(&s);
		let claim = s.claim_of(&lie, 1);
		let stake_before = pallet_devices::Devices::<Test>::get(device_id()).unwrap().stake;
		let free_before = Balances::balance(&CHALLENGER);

		let dispute = open(&s, claim, CHALLENGER, &s.honest);
		assert_eq!(claim_status(claim), Some(ClaimStatus::Disputed { open: 1 }));
		assert_eq!(challenger_held(CHALLENGER), CHALLENGER_BOND);
		assert_eq!(ClaimDisputes::<Test>::get(claim).into_inner(), vec![dispute]);

		next_block();
		assert_ok!(Disputes::respond(
			RuntimeOrigin::signed(OPERATOR),
			dispute,
			lie.root(),
			outputs(&lie, &s)
		));
		bisect_through(dispute, &lie, (CHALLENGER, &s.honest));
		let leaf = awaited_leaf(dispute);
		// The liar tampered the first node: the descent finds it.
		assert_eq!(leaf, s.model.program.inputs.len() as u64);

		// The liar cannot prove its leaf: a witness from its trace computes the honest value.
		next_block();
		assert_ok!(Disputes::one_step(
			RuntimeOrigin::signed(ANYONE),
			dispute,
			s.honest.witness(&s.model, leaf)
		));
		assert_eq!(
			resolved_event(dispute),
			Event::DisputeResolved {
				dispute,
				claim,
				ending: Ending::Decided(Resolution {
					winner: Winner::Challenger,
					reason: Reason::OneStep { leaf }
				}),
				challenger_bond_returned: CHALLENGER_BOND,
				to_claimant: 0,
				burned: 0,
			}
		);
		assert_eq!(claim_status(claim), Some(ClaimStatus::Invalid));
		assert!(DisputesMap::<Test>::get(dispute).is_none());
		assert!(ClaimDisputes::<Test>::get(claim).is_empty());
		assert_eq!(challenger_held(CHALLENGER), 0);
		// The challenger got its bond back and half the claim bond.
		assert_eq!(Balances::balance(&CHALLENGER), free_before + CLAIM_BOND / 2);
		assert_eq!(claim_held(), 0);
		let stake = pallet_devices::Devices::<Test>::get(device_id()).unwrap().stake;
		assert_eq!(stake, stake_before - stake_before / 10);
	});
}

#[test]
fn an_honest_claim_survives_a_lying_challenger() {
	ExtBuilder::build_and_execute(|| {
		let s = setup(Tolerance::Exact);
		let claim = s.claim_of(&s.honest, 1);
		let lie = deep_liar(&s);
		let operator_before = Balances::balance(&OPERATOR);
		let issuance_before = Balances::total_issuance();

		let dispute = open(&s, claim, CHALLENGER, &lie);
		next_block();
		assert_ok!(Disputes::respond(
			RuntimeOrigin::signed(OPERATOR),
			dispute,
			s.honest.root(),
			outputs(&s.honest, &s)
		));
		bisect_through(dispute, &s.honest, (CHALLENGER, &lie));
		let leaf = awaited_leaf(dispute);
		next_block();
		assert_ok!(Disputes::one_step(
			RuntimeOrigin::signed(OPERATOR),
			dispute,
			s.honest.witness(&s.model, leaf)
		));
		assert_eq!(
			resolved_event(dispute),
			Event::DisputeResolved {
				dispute,
				claim,
				ending: Ending::Decided(Resolution {
					winner: Winner::Claimant,
					reason: Reason::OneStep { leaf }
				}),
				challenger_bond_returned: 0,
				to_claimant: CHALLENGER_BOND / 2,
				burned: CHALLENGER_BOND / 2,
			}
		);
		assert_eq!(Balances::balance(&OPERATOR), operator_before + CHALLENGER_BOND / 2);
		assert_eq!(Balances::total_issuance(), issuance_before - CHALLENGER_BOND / 2);
		// Still in its challenge period: pending again, then final.
		assert_eq!(claim_status(claim), Some(ClaimStatus::Pending));
		run_to_block(1 + CHALLENGE_PERIOD);
		assert_eq!(claim_status(claim), Some(ClaimStatus::Final));
	});
}

/// The moves after `respond` read none of the claim's payloads (their weights do not grow with
/// them): a lying challenger whose trace starts from another input is judged at the input leaf
/// by the leaf hashes the dispute kept when it opened, even with the payloads gone from state.
#[test]
fn a_descent_to_an_input_leaf_is_judged_by_the_leaves_kept_at_open() {
	ExtBuilder::build_and_execute(|| {
		let s = setup(Tolerance::Exact);
		let claim = s.claim_of(&s.honest, 1);
		let lie = Player::new(
			s.model.tampered(&s.honest.values, 0, true, |t| crate::game::testing::nudge(t, 1.0)),
		);
		let dispute = open(&s, claim, CHALLENGER, &lie);
		let kept = DisputesMap::<Test>::get(dispute).expect("running").input_leaves;
		assert_eq!(kept.to_vec(), s.model.input_leaves);
		next_block();
		assert_ok!(Disputes::respond(
			RuntimeOrigin::signed(OPERATOR),
			dispute,
			s.honest.root(),
			outputs(&s.honest, &s)
		));
		let payloads = pallet_attestations::Payloads::<Test>::take(claim).expect("undecided");
		bisect_through(dispute, &s.honest, (CHALLENGER, &lie));
		let Event::DisputeResolved { ending: Ending::Decided(r), .. } = resolved_event(dispute)
		else {
			panic!("decided")
		};
		assert_eq!(
			r,
			Resolution { winner: Winner::Claimant, reason: Reason::InputLeaf { leaf: 0 } }
		);
		pallet_attestations::Payloads::<Test>::insert(claim, payloads);
	});
}

#[test]
fn a_liar_that_only_changes_the_output_is_caught_at_the_output_node() {
	ExtBuilder::build_and_execute(|| {
		let s = setup(Tolerance::Relative { abs: 1e-5f32.to_bits(), rel: 1e-4f32.to_bits() });
		let lie = liar(&s, 0.25);
		let claim = s.claim_of(&lie, 1);
		let dispute = open(&s, claim, CHALLENGER, &s.honest);
		next_block();
		assert_ok!(Disputes::respond(
			RuntimeOrigin::signed(OPERATOR),
			dispute,
			lie.root(),
			outputs(&lie, &s)
		));
		bisect_through(dispute, &lie, (CHALLENGER, &s.honest));
		let leaf = awaited_leaf(dispute);
		assert_eq!(leaf, s.honest.values.len() as u64 - 1, "the last leaf");
		// The claimant may post the step too; it cannot help a liar.
		assert_ok!(Disputes::one_step(
			RuntimeOrigin::signed(OPERATOR),
			dispute,
			lie.witness(&s.model, leaf)
		));
		assert_eq!(claim_status(claim), Some(ClaimStatus::Invalid));
	});
}

#[test]
fn a_silent_claimant_loses_on_time() {
	ExtBuilder::build_and_execute(|| {
		let s = setup(Tolerance::Exact);
		let lie = liar(&s, 1.0);
		let claim = s.claim_of(&lie, 1);
		let dispute = open(&s, claim, CHALLENGER, &s.honest);
		let deadline = DisputesMap::<Test>::get(dispute).unwrap().game.deadline().unwrap();
		assert_eq!(deadline, 1 + BUDGET);
		run_to_block(deadline as u64 - 1);
		assert_noop!(
			Disputes::timeout(RuntimeOrigin::signed(ANYONE), dispute),
			Error::<Test>::NotTimedOut
		);
		run_to_block(deadline as u64);
		// Too late to respond.
		assert_noop!(
			Disputes::respond(
				RuntimeOrigin::signed(OPERATOR),
				dispute,
				lie.root(),
				outputs(&lie, &s)
			),
			Error::<Test>::ClockExpired
		);
		assert_ok!(Disputes::timeout(RuntimeOrigin::signed(ANYONE), dispute));
		assert!(matches!(
			resolved_event(dispute),
			Event::DisputeResolved {
				ending: Ending::Decided(Resolution {
					winner: Winner::Challenger,
					reason: Reason::Timeout
				}),
				..
			}
		));
		assert_eq!(claim_status(claim), Some(ClaimStatus::Invalid));
	});
}

#[test]
fn a_silent_challenger_loses_on_time() {
	ExtBuilder::build_and_execute(|| {
		let s = setup(Tolerance::Exact);
		let claim = s.claim_of(&s.honest, 1);
		let lie = liar(&s, 1.0);
		let dispute = open(&s, claim, CHALLENGER, &lie);
		next_block();
		assert_ok!(Disputes::respond(
			RuntimeOrigin::signed(OPERATOR),
			dispute,
			s.honest.root(),
			outputs(&s.honest, &s)
		));
		// The claimant makes its first bisection move; the challenger never does.
		let Phase::Bisection { position, .. } =
			*DisputesMap::<Test>::get(dispute).unwrap().game.phase()
		else {
			panic!("bisecting")
		};
		let (l, r) = s.honest.children(position);
		assert_ok!(Disputes::bisect(RuntimeOrigin::signed(OPERATOR), dispute, 0, l, r));
		let deadline = DisputesMap::<Test>::get(dispute).unwrap().game.deadline().unwrap();
		run_to_block(deadline as u64);
		assert!(deadline as u64 > 1 + CHALLENGE_PERIOD);
		assert_ok!(Disputes::timeout(RuntimeOrigin::signed(OPERATOR), dispute));
		assert!(matches!(
			resolved_event(dispute),
			Event::DisputeResolved {
				ending: Ending::Decided(Resolution { winner: Winner::Claimant, reason: Reason::Timeout }),
				to_claimant,
				..
			} if to_claimant == CHALLENGER_BOND / 2
		));
		// Won after the challenge period, with no other dispute: final.
		assert_eq!(claim_status(claim), Some(ClaimStatus::Final));
	});
}

#[test]
fn all_vs_all_the_first_proof_closes_the_other_disputes() {
	ExtBuilder::build_and_execute(|| {
		let s = setup(Tolerance::Exact);
		let lie = liar(&s, 1.0);
		let claim = s.claim_of(&lie, 1);
		let first = open(&s, claim, CHALLENGER, &s.honest);
		let second = open(&s, claim, CHALLENGER_2, &s.honest);
		assert_eq!(claim_status(claim), Some(ClaimStatus::Disputed { open: 2 }));
		// Two slots for anyone (MaxUnreservedDisputes), one more kept for the checkers.
		assert_noop!(
			Disputes::open(
				RuntimeOrigin::signed(ANYONE),
				claim,
				s.honest.root(),
				outputs(&s.honest, &s)
			),
			Error::<Test>::TooManyDisputes
		);
		let third = open(&s, claim, CHECKER, &s.honest);
		assert_eq!(claim_status(claim), Some(ClaimStatus::Disputed { open: 3 }));
		// The claimant stays silent in the first; it times out.
		run_to_block(1 + BUDGET as u64);
		assert_ok!(Disputes::timeout(RuntimeOrigin::signed(CHALLENGER), first));
		assert_eq!(claim_status(claim), Some(ClaimStatus::Invalid));
		// The second challenger was right too: its dispute is closed and its bond returned.
		assert!(DisputesMap::<Test>::get(second).is_none());
		assert_eq!(challenger_held(CHALLENGER_2), 0);
		assert_eq!(Balances::balance(&CHALLENGER_2), INITIAL);
		assert!(matches!(
			resolved_event(second),
			Event::DisputeResolved { ending: Ending::ClaimInvalidated, challenger_bond_returned, .. }
				if challenger_bond_returned == CHALLENGER_BOND
		));
		assert!(DisputesMap::<Test>::get(third).is_none());
		assert_eq!(Balances::balance(&CHECKER), INITIAL);
		assert!(ClaimDisputes::<Test>::get(claim).is_empty());
	});
}

#[test]
fn a_claim_is_final_only_when_every_dispute_is_won() {
	ExtBuilder::build_and_execute(|| {
		let s = setup(Tolerance::Exact);
		let claim = s.claim_of(&s.honest, 1);
		let lie = liar(&s, 1.0);
		let first = open(&s, claim, CHALLENGER, &lie);
		let second = open(&s, claim, CHALLENGER_2, &deep_liar(&s));
		for d in [first, second] {
			assert_ok!(Disputes::respond(
				RuntimeOrigin::signed(OPERATOR),
				d,
				s.honest.root(),
				outputs(&s.honest, &s)
			));
		}
		// In the second dispute the claimant makes its first move; the challenger never will.
		let (l, r) = s.honest.children(edgeproof_canon::Position::ROOT);
		assert_ok!(Disputes::bisect(RuntimeOrigin::signed(OPERATOR), second, 0, l, r));
		// Past the challenge period, the claim still waits for its disputes.
		run_to_block(2 + CHALLENGE_PERIOD);
		assert_eq!(claim_status(claim), Some(ClaimStatus::Disputed { open: 2 }));
		bisect_through(first, &s.honest, (CHALLENGER, &lie));
		let leaf = awaited_leaf(first);
		assert_ok!(Disputes::one_step(
			RuntimeOrigin::signed(OPERATOR),
			first,
			s.honest.witness(&s.model, leaf)
		));
		assert_eq!(claim_status(claim), Some(ClaimStatus::Disputed { open: 1 }));
		assert_eq!(ClaimDisputes::<Test>::get(claim).into_inner(), vec![second]);
		let deadline = DisputesMap::<Test>::get(second).unwrap().game.deadline().unwrap();
		run_to_block(deadline as u64);
		assert_ok!(Disputes::timeout(RuntimeOrigin::signed(OPERATOR), second));
		assert_eq!(claim_status(claim), Some(ClaimStatus::Final));
	});
}

#[test]
fn bad_opens_are_refused_and_change_nothing() {
	ExtBuilder::build_and_execute(|| {
		let s = setup(Tolerance::Exact);
		let claim = s.claim_of(&s.honest, 1);
		let lie = liar(&s, 1.0);
		let open_as = |who, player: &Player, claim| {
			Disputes::open(RuntimeOrigin::signed(who), claim, player.root(), outputs(player, &s))
		};
		assert_noop!(open_as(CHALLENGER, &lie, 99), Error::<Test>::UnknownClaim);
		assert_noop!(open_as(OPERATOR, &lie, claim), Error::<Test>::OwnClaim);
		// The honest trace agrees with the claim: nothing to dispute.
		assert_noop!(
			open_as(CHALLENGER, &s.honest, claim),
			Error::<Test>::ChallengerOutputWithinTolerance
		);
		// Proofs against another root.
		assert_noop!(
			Disputes::open(
				RuntimeOrigin::signed(CHALLENGER),
				claim,
				s.honest.root(),
				outputs(&lie, &s)
			),
			Error::<Test>::BadOutputProof
		);
		assert_noop!(
			Disputes::open(RuntimeOrigin::signed(CHALLENGER), claim, lie.root(), BoundedVec::new()),
			Error::<Test>::WrongOutputCount
		);
		assert_noop!(open_as(POOR, &lie, claim), Error::<Test>::InsufficientBond);
		assert_ok!(open_as(CHALLENGER, &lie, claim));
		assert_noop!(open_as(CHALLENGER, &lie, claim), Error::<Test>::AlreadyDisputing);
		// After the challenge period nobody may open one.
		run_to_block(1 + CHALLENGE_PERIOD);
		assert_noop!(
			open_as(CHALLENGER_2, &lie, claim),
			pallet_attestations::Error::<Test>::ChallengePeriodOver
		);
	});
}

#[test]
fn bad_moves_are_refused_and_change_nothing() {
	ExtBuilder::build_and_execute(|| {
		let s = setup(Tolerance::Exact);
		let lie = liar(&s, 1.0);
		let claim = s.claim_of(&lie, 1);
		let dispute = open(&s, claim, CHALLENGER, &s.honest);
		let (l, r) = s.honest.children(edgeproof_canon::Position::ROOT);
		assert_noop!(
			Disputes::bisect(RuntimeOrigin::signed(CHALLENGER), dispute, 0, l, r),
			Error::<Test>::UnexpectedMove
		);
		assert_noop!(
			Disputes::respond(
				RuntimeOrigin::signed(ANYONE),
				dispute,
				lie.root(),
				outputs(&lie, &s)
			),
			Error::<Test>::NotParty
		);
		assert_noop!(
			Disputes::respond(
				RuntimeOrigin::signed(CHALLENGER),
				dispute,
				lie.root(),
				outputs(&lie, &s)
			),
			Error::<Test>::WrongParty
		);
		assert_noop!(
			Disputes::respond(RuntimeOrigin::signed(OPERATOR), 7, lie.root(), outputs(&lie, &s)),
			Error::<Test>::UnknownDispute
		);
		// The claimant's outputs must agree with its own claim, and differ from the challenger's.
		let other = liar(&s, 2.0);
		assert_noop!(
			Disputes::respond(
				RuntimeOrigin::signed(OPERATOR),
				dispute,
				other.root(),
				outputs(&other, &s)
			),
			Error::<Test>::ClaimantOutputNotWithinTolerance
		);
		assert_noop!(
			Disputes::respond(
				RuntimeOrigin::signed(OPERATOR),
				dispute,
				s.honest.root(),
				outputs(&s.honest, &s)
			),
			Error::<Test>::SameTraceRoot
		);
		assert_ok!(Disputes::respond(
			RuntimeOrigin::signed(OPERATOR),
			dispute,
			lie.root(),
			outputs(&lie, &s)
		));
		let (cl, cr) = lie.children(edgeproof_canon::Position::ROOT);
		assert_noop!(
			Disputes::bisect(RuntimeOrigin::signed(OPERATOR), dispute, 1, cl, cr),
			Error::<Test>::WrongRound
		);
		assert_noop!(
			Disputes::bisect(RuntimeOrigin::signed(OPERATOR), dispute, 0, l, r),
			Error::<Test>::ChildrenMismatch
		);
		assert_ok!(Disputes::bisect(RuntimeOrigin::signed(OPERATOR), dispute, 0, cl, cr));
		assert_noop!(
			Disputes::bisect(RuntimeOrigin::signed(OPERATOR), dispute, 0, cl, cr),
			Error::<Test>::AlreadyMoved
		);
		assert_noop!(
			Disputes::one_step(
				RuntimeOrigin::signed(ANYONE),
				dispute,
				s.honest.witness(&s.model, 1)
			),
			Error::<Test>::UnexpectedMove
		);
		assert_noop!(
			Disputes::timeout(RuntimeOrigin::signed(ANYONE), dispute),
			Error::<Test>::NotTimedOut
		);
		assert_eq!(DisputesMap::<Test>::get(dispute).unwrap().game.round(), Some(0));
		assert_noop!(Disputes::timeout(RuntimeOrigin::none(), dispute), DispatchError::BadOrigin);
	});
}

#[test]
fn a_forged_one_step_is_refused() {
	ExtBuilder::build_and_execute(|| {
		let s = setup(Tolerance::Exact);
		let lie = deep_liar(&s);
		let claim = s.claim_of(&lie, 1);
		let dispute = open(&s, claim, CHALLENGER, &s.honest);
		assert_ok!(Disputes::respond(
			RuntimeOrigin::signed(OPERATOR),
			dispute,
			lie.root(),
			outputs(&lie, &s)
		));
		bisect_through(dispute, &lie, (CHALLENGER, &s.honest));
		let leaf = awaited_leaf(dispute);
		let mut forged = s.honest.witness(&s.model, leaf);
		forged.constants[0] = Tensor::from_f32(
			forged.constants[0].shape.clone(),
			&vec![0.0; forged.constants[0].f32_values().unwrap().len()],
		);
		assert_noop!(
			Disputes::one_step(RuntimeOrigin::signed(OPERATOR), dispute, forged),
			Error::<Test>::OneStepNotProven
		);
	});
}

/// The real inference engine with its store in `store`, without ONNX Runtime (the canonical
/// executor decides); the fixture models are local files.
fn local_engine(store: &tempfile::TempDir) -> Arc<edgeproof_offchain::Engine> {
	Arc::new(
		edgeproof_offchain::Engine::new(
			edgeproof_offchain::EngineConfig::new(None, store.path()).allowing_local_sources(),
		)
		.expect("engine"),
	)
}

/// The two validators' nodes of the off-chain test: their checker keys, pools and offchain
/// databases, with the real inference engine.
struct Node {
	key: AccountId,
	offchain: testing::TestOffchainExt,
}

impl Node {
	fn new(key: AccountId) -> Self {
		let (offchain, _) = testing::TestOffchainExt::new();
		Self { key, offchain }
	}

	/// Runs `f` as this node's off-chain worker; returns the transactions it sent.
	fn run(
		&self,
		ext: &mut sp_io::TestExternalities,
		engine: &Arc<edgeproof_offchain::Engine>,
		f: impl FnOnce(),
	) -> Vec<(AccountId, RuntimeCall)> {
		ext.register_extension(OffchainDbExt::new(self.offchain.clone()));
		ext.register_extension(OffchainWorkerExt::new(self.offchain.clone()));
		let (pool, pool_state) = testing::TestTransactionPoolExt::new();
		ext.register_extension(TransactionPoolExt::new(pool));
		ext.register_extension(InferenceExt::new(engine.clone()));
		UintAuthorityId::set_all_keys(vec![self.key]);
		ext.execute_with(f);
		let txs = std::mem::take(&mut pool_state.write().transactions);
		decode_pool(&txs)
	}
}

/// Plays `dispute` to its end: the liar (`who`, its party, its trace) makes its bisection moves
/// by hand; every other move is the off-chain worker of `node`, which must send exactly one
/// transaction per turn, signed by its key, and nothing again while it waits in the pool.
/// Returns the number of the worker's moves.
fn play_out(
	ext: &mut sp_io::TestExternalities,
	engine: &Arc<edgeproof_offchain::Engine>,
	node: &Node,
	dispute: DisputeId,
	liar: (AccountId, Party, &Player),
	model: &crate::game::testing::Model,
) -> u32 {
	let (who, party, trace) = liar;
	let mut moves = 0;
	loop {
		let phase = ext.execute_with(|| DisputesMap::<Test>::get(dispute).map(|d| *d.game.phase()));
		let liar_owes = |claimant: bool, challenger: bool| match party {
			Party::Claimant => !claimant,
			Party::Challenger => !challenger,
		};
		match phase {
			Some(Phase::Bisection { level, position, claimant_move, challenger_move, .. })
				if liar_owes(claimant_move.is_some(), challenger_move.is_some()) =>
			{
				ext.execute_with(|| {
					let (l, r) = liar_children(model, trace, &level, position);
					assert_ok!(Disputes::bisect(
						RuntimeOrigin::signed(who),
						dispute,
						position.depth,
						l,
						r
					));
				})
			},
			Some(Phase::Revealing { what, claimant, challenger })
				if liar_owes(claimant.is_some(), challenger.is_some()) =>
			{
				ext.execute_with(|| {
					let revealed = liar_reveal(model, trace, &what);
					assert_ok!(Disputes::reveal(RuntimeOrigin::signed(who), dispute, revealed));
				})
			},
			Some(_) => {
				let now = ext.execute_with(System::block_number);
				let txs = node.run(ext, engine, || crate::offchain::play::<Test>(now));
				assert_eq!(txs.len(), 1, "one move per turn: {txs:?}");
				assert!(txs.iter().all(|(signer, _)| *signer == node.key));
				assert!(node.run(ext, engine, || crate::offchain::play::<Test>(now)).is_empty());
				dispatch(ext, txs);
				moves += 1;
			},
			None => return moves,
		}
		assert!(moves < 60, "the game ends");
	}
}

/// `player`'s children at `position` of the tree of `level`.
fn liar_children(
	model: &crate::game::testing::Model,
	player: &Player,
	level: &crate::game::Level,
	position: edgeproof_canon::Position,
) -> (edgeproof_canon::Hash, edgeproof_canon::Hash) {
	use crate::game::Level;
	match *level {
		Level::Trace => player.children(position),
		Level::Tiles { inside } => player.chunks(inside.leaf).tree.children(position).unwrap(),
		Level::Segments { inside, tile, .. } => player
			.state_tree(model, inside.leaf, &inside.geometry, tile)
			.children(position)
			.unwrap(),
	}
}

/// What `player` reveals for `what`.
fn liar_reveal(
	model: &crate::game::testing::Model,
	player: &Player,
	what: &crate::game::Reveal,
) -> crate::game::Revealed {
	use crate::game::{Reveal, Revealed};
	match *what {
		Reveal::DataRoots { inside, .. } => {
			let chunks = player.chunks(inside.leaf);
			Revealed::DataRoot { header: chunks.header.clone(), data_root: chunks.tree.root() }
		},
		Reveal::StateRoots { inside, tile, .. } => {
			let tree = player.state_tree(model, inside.leaf, &inside.geometry, tile);
			let last = tree.proof(u64::from(inside.geometry.segments) - 1).unwrap();
			Revealed::StateRoot { root: tree.root(), last }
		},
	}
}

fn dispatch(ext: &mut sp_io::TestExternalities, txs: Vec<(AccountId, RuntimeCall)>) {
	use frame_support::traits::UnfilteredDispatchable;
	ext.execute_with(|| {
		next_block();
		for (who, call) in txs {
			call.dispatch_bypass_filter(RuntimeOrigin::signed(who))
				.expect("the worker's move is valid");
		}
	});
}

#[test]
fn validators_workers_catch_a_wrong_claim_and_win_the_dispute() {
	let store = tempfile::tempdir().expect("tempdir");
	let engine = local_engine(&store);
	let mut ext = ExtBuilder::build();
	// The checker's node (CHALLENGER's key) and the operator's node (a liar, played by hand).
	let checker = Node::new(CHALLENGER);
	let (s, claim, lie) = ext.execute_with(|| {
		let s = setup(Tolerance::Exact);
		let lie = deep_liar(&s);
		let claim = s.claim_of(&lie, 1);
		(s, claim, lie)
	});
	// The checker (no ONNX Runtime here: the canonical executor decides) opens the dispute.
	let txs = checker
		.run(&mut ext, &engine, || pallet_attestations::checker::check_pending_claims::<Test>(1));
	assert!(matches!(
		txs.as_slice(),
		[(CHALLENGER, RuntimeCall::Disputes(crate::Call::open { .. }))]
	));
	dispatch(&mut ext, txs);
	let dispute = 0;
	ext.execute_with(|| {
		assert_eq!(claim_status(claim), Some(ClaimStatus::Disputed { open: 1 }));
		assert_ok!(Disputes::respond(
			RuntimeOrigin::signed(OPERATOR),
			dispute,
			lie.root(),
			outputs(&lie, &s)
		));
	});
	// Round by round: the liar moves by hand, the worker answers.
	let rounds =
		play_out(&mut ext, &engine, &checker, dispute, (OPERATOR, Party::Claimant, &lie), &s.model);
	ext.execute_with(|| {
		assert_eq!(claim_status(claim), Some(ClaimStatus::Invalid));
		assert!(matches!(
			resolved_event(dispute),
			Event::DisputeResolved {
				ending: Ending::Decided(Resolution {
					winner: Winner::Challenger,
					reason: Reason::OneStep { .. }
				}),
				..
			}
		));
	});
	// One move per bisection round, then the one-step.
	let depth = edgeproof_canon::merkle::tree_depth(s.honest.values.len() as u64);
	assert_eq!(rounds, depth + 1);
}

#[test]
fn a_node_defends_the_claims_of_its_operator_key() {
	let store = tempfile::tempdir().expect("tempdir");
	let engine = local_engine(&store);
	let mut ext = ExtBuilder::build();
	// The operator's node holds OPERATOR's key; the challenger lies by hand.
	let defender = Node::new(OPERATOR);
	let (s, claim, lie) = ext.execute_with(|| {
		let s = setup(Tolerance::Exact);
		let claim = s.claim_of(&s.honest, 1);
		let lie = deep_liar(&s);
		(s, claim, lie)
	});
	let dispute = ext.execute_with(|| open(&s, claim, CHALLENGER, &lie));
	play_out(
		&mut ext,
		&engine,
		&defender,
		dispute,
		(CHALLENGER, Party::Challenger, &lie),
		&s.model,
	);
	ext.execute_with(|| {
		assert!(matches!(
			resolved_event(dispute),
			Event::DisputeResolved {
				ending: Ending::Decided(Resolution { winner: Winner::Claimant, .. }),
				..
			}
		));
		assert_eq!(claim_status(claim), Some(ClaimStatus::Pending));
	});
}

/// With sub-step limits that cut the fixture MLP's first product into segments, the
/// validator's worker plays the second level against a lying claimant (the cut, its reveals,
/// both descents and the sub-step, computed by the real engine) and wins; a node defends its
/// operator's honest claim there against a lying challenger.
#[test]
fn validators_workers_play_the_second_level() {
	let store = tempfile::tempdir().expect("tempdir");
	let engine = local_engine(&store);
	let mut ext = ExtBuilder::build();
	let tight = edgeproof_canon::substep::SubStepLimits { max_work: 96, max_read_bytes: 1 << 16 };
	let checker = Node::new(CHALLENGER);
	let (s, claim, lie) = ext.execute_with(|| {
		SubStepLimits::set(tight);
		let s = setup(Tolerance::Exact);
		let lie = deep_liar(&s);
		let claim = s.claim_of(&lie, 1);
		(s, claim, lie)
	});
	let dispute = ext.execute_with(|| {
		let dispute = open(&s, claim, CHALLENGER, &s.honest);
		next_block();
		assert_ok!(Disputes::respond(
			RuntimeOrigin::signed(OPERATOR),
			dispute,
			lie.root(),
			outputs(&lie, &s)
		));
		dispute
	});
	play_out(&mut ext, &engine, &checker, dispute, (OPERATOR, Party::Claimant, &lie), &s.model);
	ext.execute_with(|| {
		assert_eq!(claim_status(claim), Some(ClaimStatus::Invalid));
		let Event::DisputeResolved { ending: Ending::Decided(r), .. } = resolved_event(dispute)
		else {
			panic!("decided")
		};
		assert_eq!(r.winner, Winner::Challenger);
		assert!(matches!(r.reason, Reason::SubStep { .. }), "{r:?}");
		let segments = System::events().into_iter().find_map(|r| match r.event {
			RuntimeEvent::Disputes(Event::SubStepsStarted { segments, .. }) => Some(segments),
			_ => None,
		});
		assert!(segments.is_some_and(|n| n > 1), "{segments:?}");
	});

	// The operator's node defends an honest claim inside the node.
	let defender = Node::new(OPERATOR);
	let (claim, dispute) = ext.execute_with(|| {
		let claim = s.claim_of(&s.honest, 2);
		(claim, open(&s, claim, CHALLENGER, &lie))
	});
	play_out(
		&mut ext,
		&engine,
		&defender,
		dispute,
		(CHALLENGER, Party::Challenger, &lie),
		&s.model,
	);
	ext.execute_with(|| {
		let Event::DisputeResolved { ending: Ending::Decided(r), .. } = resolved_event(dispute)
		else {
			panic!("decided")
		};
		assert_eq!(r.winner, Winner::Claimant);
		assert!(matches!(r.reason, Reason::SubStep { .. }), "{r:?}");
		// The claim stands (final once its challenge period passed while the game ran).
		assert!(matches!(claim_status(claim), Some(ClaimStatus::Pending | ClaimStatus::Final)));
	});
}

#[test]
fn the_runtime_api_view_tells_whose_move_it_is() {
	ExtBuilder::build_and_execute(|| {
		let s = setup(Tolerance::Exact);
		let lie = liar(&s, 1.0);
		let claim = s.claim_of(&lie, 1);
		let dispute = open(&s, claim, CHALLENGER, &s.honest);
		run_to_block(5);
		let view = Disputes::view(dispute).expect("running");
		assert!(view.claimant_owes && !view.challenger_owes);
		assert_eq!(view.claimant_remaining, BUDGET - 4);
		assert_eq!(view.deadline, Some(1 + BUDGET));
		assert_eq!(view.dispute.claim, claim);
		assert_ok!(Disputes::respond(
			RuntimeOrigin::signed(OPERATOR),
			dispute,
			lie.root(),
			outputs(&lie, &s)
		));
		let view = Disputes::view(dispute).expect("running");
		assert_eq!(view.round, Some(0));
		assert_eq!(view.position, Some(edgeproof_canon::Position::ROOT));
		assert!(view.claimant_owes && view.challenger_owes);
		let _ = Party::Claimant;
	});
}

#[test]
fn the_admin_sets_the_clock_of_new_games() {
	ExtBuilder::build_and_execute(|| {
		let clock = crate::game::ClockParams { budget: 50, min_extension: 7 };
		assert_noop!(
			Disputes::set_clock(RuntimeOrigin::signed(OPERATOR), clock),
			DispatchError::BadOrigin
		);
		for bad in [
			crate::game::ClockParams { budget: 0, min_extension: 0 },
			crate::game::ClockParams { budget: 1_001, min_extension: 7 },
			crate::game::ClockParams { budget: 5, min_extension: 6 },
		] {
			assert_noop!(
				Disputes::set_clock(RuntimeOrigin::root(), bad),
				Error::<Test>::InvalidClock
			);
		}
		assert_ok!(Disputes::set_clock(RuntimeOrigin::root(), clock));
		System::assert_last_event(Event::ClockSet { clock }.into());
		let s = setup(Tolerance::Exact);
		let lie = liar(&s, 1.0);
		let claim = s.claim_of(&lie, 1);
		let dispute = open(&s, claim, CHALLENGER, &s.honest);
		assert_eq!(DisputesMap::<Test>::get(dispute).unwrap().game.deadline(), Some(1 + 50));
	});
}

#[test]
fn genesis_sets_the_clock() {
	use sp_runtime::BuildStorage;
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	crate::GenesisConfig::<Test> {
		clock_budget: Some(12),
		min_extension: Some(2),
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	sp_io::TestExternalities::new(storage).execute_with(|| {
		assert_eq!(
			crate::Clock::<Test>::get(),
			crate::game::ClockParams { budget: 12, min_extension: 2 }
		);
	});
}

// Settlement cannot stick: once a game is decided, the dispute ends whatever the bond or the
// claim registry say. These tests break a promise another pallet makes (behind the dispute
// pallet's back) and check that the dispute still ends, its event is emitted and its storage is
// cleaned. Each such branch is `defensive!`: a debug build stops at it.

/// The claim registry forgets `claim` as if it had been pruned: from now on it answers
/// `UnknownClaim` (pallet-attestations never prunes a disputed claim).
fn forget_claim(claim: ClaimId) {
	pallet_attestations::Claims::<Test>::remove(claim);
	pallet_attestations::Payloads::<Test>::remove(claim);
}

/// The claim registry loses count of `claim`'s disputes: it holds the claim as `Pending`, so
/// it answers `NoOpenDispute` when told that one ended.
fn lose_dispute_count(claim: ClaimId) {
	pallet_attestations::Claims::<Test>::mutate(claim, |record| {
		record.as_mut().expect("a stored claim").status = ClaimStatus::Pending
	});
}

#[test]
#[cfg_attr(debug_assertions, should_panic(expected = "Defensive failure has been triggered!"))]
fn disputes_on_a_claim_the_registry_forgot_still_end_on_time() {
	// The claim registry's own invariants are broken on purpose: only this pallet's are checked.
	ExtBuilder::build().execute_with(|| {
		let s = setup(Tolerance::Exact);
		let lie = liar(&s, 1.0);
		let claim = s.claim_of(&lie, 1);
		let first = open(&s, claim, CHALLENGER, &s.honest);
		let second = open(&s, claim, CHALLENGER_2, &s.honest);
		forget_claim(claim);
		// The claim's tensors are gone: the claimant can no longer respond, its clock runs out.
		assert_noop!(
			Disputes::respond(
				RuntimeOrigin::signed(OPERATOR),
				first,
				lie.root(),
				outputs(&lie, &s)
			),
			Error::<Test>::UnknownClaim
		);
		run_to_block(1 + BUDGET as u64);
		assert_ok!(Disputes::timeout(RuntimeOrigin::signed(ANYONE), first));
		assert!(matches!(
			resolved_event(first),
			Event::DisputeResolved {
				ending: Ending::Decided(Resolution {
					winner: Winner::Challenger,
					reason: Reason::Timeout
				}),
				challenger_bond_returned,
				..
			} if challenger_bond_returned == CHALLENGER_BOND
		));
		// The challenger won, so the other dispute on the claim is closed with its bond back.
		assert!(matches!(
			resolved_event(second),
			Event::DisputeResolved { ending: Ending::ClaimInvalidated, challenger_bond_returned, .. }
				if challenger_bond_returned == CHALLENGER_BOND
		));
		for dispute in [first, second] {
			assert!(DisputesMap::<Test>::get(dispute).is_none());
		}
		assert!(ClaimDisputes::<Test>::get(claim).is_empty());
		for challenger in [CHALLENGER, CHALLENGER_2] {
			assert_eq!(challenger_held(challenger), 0);
			assert_eq!(Balances::balance(&challenger), INITIAL);
		}
		assert_noop!(
			Disputes::timeout(RuntimeOrigin::signed(ANYONE), first),
			Error::<Test>::UnknownDispute
		);
		crate::Pallet::<Test>::do_try_state().expect("dispute invariants");
	});
}

#[test]
#[cfg_attr(debug_assertions, should_panic(expected = "Defensive failure has been triggered!"))]
fn a_dispute_the_registry_lost_count_of_still_ends_on_time() {
	ExtBuilder::build_and_execute(|| {
		let s = setup(Tolerance::Exact);
		let claim = s.claim_of(&s.honest, 1);
		let lie = liar(&s, 1.0);
		let dispute = open(&s, claim, CHALLENGER, &lie);
		assert_ok!(Disputes::respond(
			RuntimeOrigin::signed(OPERATOR),
			dispute,
			s.honest.root(),
			outputs(&s.honest, &s)
		));
		let (l, r) = s.honest.children(edgeproof_canon::Position::ROOT);
		assert_ok!(Disputes::bisect(RuntimeOrigin::signed(OPERATOR), dispute, 0, l, r));
		lose_dispute_count(claim);
		// The challenger never moves.
		let deadline = DisputesMap::<Test>::get(dispute).unwrap().game.deadline().unwrap();
		run_to_block(deadline as u64);
		let operator_before = Balances::balance(&OPERATOR);
		let issuance_before = Balances::total_issuance();
		assert_ok!(Disputes::timeout(RuntimeOrigin::signed(OPERATOR), dispute));
		assert_eq!(
			resolved_event(dispute),
			Event::DisputeResolved {
				dispute,
				claim,
				ending: Ending::Decided(Resolution {
					winner: Winner::Claimant,
					reason: Reason::Timeout
				}),
				challenger_bond_returned: 0,
				to_claimant: CHALLENGER_BOND / 2,
				burned: CHALLENGER_BOND / 2,
			}
		);
		assert!(DisputesMap::<Test>::get(dispute).is_none());
		assert!(ClaimDisputes::<Test>::get(claim).is_empty());
		assert_eq!(challenger_held(CHALLENGER), 0);
		assert_eq!(Balances::balance(&OPERATOR), operator_before + CHALLENGER_BOND / 2);
		assert_eq!(Balances::total_issuance(), issuance_before - CHALLENGER_BOND / 2);
	});
}

#[test]
#[cfg_attr(debug_assertions, should_panic(expected = "Defensive failure has been triggered!"))]
fn a_decided_dispute_ends_even_if_its_bond_cannot_be_released() {
	ExtBuilder::build_and_execute(|| {
		let s = setup(Tolerance::Exact);
		let lie = liar(&s, 1.0);
		let claim = s.claim_of(&lie, 1);
		let dispute = open(&s, claim, CHALLENGER, &s.honest);
		// pallet-balances refuses to release the bond: the challenger's account could not take
		// it back (free plus held would overflow, so `can_deposit` fails).
		frame_system::Account::<Test>::mutate(CHALLENGER, |account| {
			account.data.free = Balance::MAX - CHALLENGER_BOND - 100
		});
		assert_noop!(
			<Balances as MutateHold<_>>::release(
				&HoldReason::ChallengerBond.into(),
				&CHALLENGER,
				CHALLENGER_BOND,
				frame_support::traits::tokens::Precision::BestEffort
			),
			sp_runtime::TokenError::CannotCreate
		);
		run_to_block(1 + BUDGET as u64);
		assert_ok!(Disputes::timeout(RuntimeOrigin::signed(ANYONE), dispute));
		assert!(matches!(
			resolved_event(dispute),
			Event::DisputeResolved {
				ending: Ending::Decided(Resolution {
					winner: Winner::Challenger,
					reason: Reason::Timeout
				}),
				challenger_bond_returned: 0,
				..
			}
		));
		assert_eq!(claim_status(claim), Some(ClaimStatus::Invalid));
		assert!(DisputesMap::<Test>::get(dispute).is_none());
		assert!(ClaimDisputes::<Test>::get(claim).is_empty());
		// What could not be released stays on hold, no longer a running dispute's bond.
		assert_eq!(challenger_held(CHALLENGER), CHALLENGER_BOND);
	});
}

#[test]
fn an_open_that_never_reaches_the_chain_is_sent_again_until_the_dispute_runs() {
	let store = tempfile::tempdir().expect("tempdir");
	let engine = local_engine(&store);
	let mut ext = ExtBuilder::build();
	let checker = Node::new(CHALLENGER);
	let claim = ext.execute_with(|| {
		let s = setup(Tolerance::Exact);
		let lie = deep_liar(&s);
		s.claim_of(&lie, 1)
	});
	let check = |ext: &mut sp_io::TestExternalities| {
		let now = ext.execute_with(System::block_number);
		checker
			.run(ext, &engine, || pallet_attestations::checker::check_pending_claims::<Test>(now))
	};
	let is_open = |txs: &[(AccountId, RuntimeCall)]| {
		matches!(txs, [(CHALLENGER, RuntimeCall::Disputes(crate::Call::open { .. }))])
	};
	let first = ext.execute_with(System::block_number);
	assert!(is_open(&check(&mut ext)));
	// The pool took it, but it never makes it into a block (evicted, replaced by another
	// transaction with its nonce, or failed on chain): the checker must not forget the claim.
	let verdict = || pallet_attestations::checker::outcome(claim);
	ext.execute_with(|| {
		assert!(matches!(
			verdict(),
			Some(pallet_attestations::CheckOutcome::Wrong { disputed: false, .. })
		))
	});
	let mut resent = None;
	while resent.is_none() {
		ext.execute_with(next_block);
		let now = ext.execute_with(System::block_number);
		assert!(now < first + CHALLENGE_PERIOD, "sent again within the challenge period");
		let txs = check(&mut ext);
		if !txs.is_empty() {
			assert!(is_open(&txs));
			assert!(
				now >= first + u64::from(crate::offchain::RESEND_AFTER),
				"not while it may wait in the pool"
			);
			resent = Some(txs);
		}
	}
	dispatch(&mut ext, resent.expect("sent again"));
	ext.execute_with(|| assert_eq!(claim_status(claim), Some(ClaimStatus::Disputed { open: 1 })));
	// Now that the dispute runs, the checker is done with the claim.
	assert!(check(&mut ext).is_empty());
	ext.execute_with(|| {
		assert!(matches!(
			verdict(),
			Some(pallet_attestations::CheckOutcome::Wrong { disputed: true, .. })
		))
	});
	ext.execute_with(|| next_block());
	assert!(check(&mut ext).is_empty());
}

#[test]
fn a_checker_that_cannot_pay_the_bond_opens_nothing_and_the_node_counts_it() {
	// Issue 14, item 2: a validator whose checker account ran dry leaves wrong claims
	// unchallenged; its operator must learn it from the node's metrics, not only a log line.
	let store = tempfile::tempdir().expect("tempdir");
	let registry = substrate_prometheus_endpoint::Registry::new();
	let metrics = edgeproof_offchain::Metrics::register(&registry).expect("metrics");
	let engine = Arc::new(
		edgeproof_offchain::Engine::new(
			edgeproof_offchain::EngineConfig::new(None, store.path()).allowing_local_sources(),
		)
		.expect("engine")
		.with_metrics(metrics.clone()),
	);
	let mut ext = ExtBuilder::build();
	let checker = Node::new(CHALLENGER);
	let claim = ext.execute_with(|| {
		let s = setup(Tolerance::Exact);
		let lie = deep_liar(&s);
		<Balances as frame_support::traits::fungible::Mutate<_>>::set_balance(
			&CHALLENGER,
			CHALLENGER_BOND / 2,
		);
		s.claim_of(&lie, 1)
	});
	let check = |ext: &mut sp_io::TestExternalities| {
		let now = ext.execute_with(System::block_number);
		checker
			.run(ext, &engine, || pallet_attestations::checker::check_pending_claims::<Test>(now))
	};
	for blocks in 1..=2 {
		assert!(check(&mut ext).is_empty(), "an open that would fail on chain is not sent");
		assert_eq!(metrics.unfunded_disputes(), blocks, "counted every block it lasts");
		ext.execute_with(|| {
			assert!(matches!(
				pallet_attestations::checker::outcome(claim),
				Some(pallet_attestations::CheckOutcome::Wrong { disputed: false, .. })
			));
			next_block();
		});
	}
	// Funded again, the checker opens the dispute.
	ext.execute_with(|| {
		<Balances as frame_support::traits::fungible::Mutate<_>>::set_balance(&CHALLENGER, INITIAL)
	});
	let txs = check(&mut ext);
	assert!(matches!(
		txs.as_slice(),
		[(CHALLENGER, RuntimeCall::Disputes(crate::Call::open { .. }))]
	));
	assert_eq!(metrics.unfunded_disputes(), 2);
	// One check found the claim wrong (the later blocks only asked for the dispute again) and
	// one `open` reached the pool.
	use edgeproof_primitives::{Move, Verdict};
	assert_eq!(metrics.verdicts(Verdict::Wrong), 1);
	assert_eq!(metrics.verdicts(Verdict::Agrees), 0);
	assert_eq!(metrics.moves(Move::Open), 1);
	assert_eq!(metrics.moves(Move::Bisect), 0);
}

// Block stuffing: a rich opponent fills the blocks so that the owed move, charged its worst
// case before dispatch, does not fit; the clocks pause on such blocks instead of running out.

/// The normal class's share of a mock block.
fn normal_limit() -> frame_support::weights::Weight {
	let weights: frame_system::limits::BlockWeights =
		<Test as frame_system::Config>::BlockWeights::get();
	weights.get(DispatchClass::Normal).max_total.expect("a normal class limit")
}

/// Ends the current block as one whose normal class used `normal` weight and `length` bytes,
/// and starts the next.
fn end_block_with(normal: frame_support::weights::Weight, length: u32) {
	frame_system::BlockWeight::<Test>::kill();
	System::register_extra_weight_unchecked(normal, DispatchClass::Normal);
	frame_system::BlockSize::<Test>::put(length);
	<Disputes as Hooks<u64>>::on_finalize(System::block_number());
	frame_system::BlockWeight::<Test>::kill();
	frame_system::BlockSize::<Test>::kill();
	next_block();
}

#[test]
fn a_rich_opponent_filling_blocks_cannot_run_out_the_claimants_clock() {
	ExtBuilder::build_and_execute(|| {
		let s = setup(Tolerance::Exact);
		let claim = s.claim_of(&s.honest, 1);
		let lie = deep_liar(&s);
		let dispute = open(&s, claim, CHALLENGER, &lie);
		assert_ok!(Disputes::respond(
			RuntimeOrigin::signed(OPERATOR),
			dispute,
			s.honest.root(),
			outputs(&s.honest, &s)
		));
		bisect_through(dispute, &s.honest, (CHALLENGER, &lie));
		let leaf = awaited_leaf(dispute);
		// The claimant owes the step it would win. From now on the lying challenger fills the
		// normal class of every block: the step is charged its worst case before dispatch,
		// and frame-system's CheckWeight keeps it out of every one of those blocks.
		let witness = s.honest.witness(&s.model, leaf);
		let step =
			RuntimeCall::Disputes(crate::Call::one_step { dispute, witness: witness.clone() });
		let (info, len) = (step.get_dispatch_info(), step.encoded_size());
		let left = Disputes::view(dispute).expect("running").claimant_remaining;
		for _ in 0..BUDGET + 5 {
			frame_system::BlockWeight::<Test>::kill();
			System::register_extra_weight_unchecked(normal_limit(), DispatchClass::Normal);
			assert_eq!(
				frame_system::CheckWeight::<Test>::do_prepare(&info, len, 0),
				Err(InvalidTransaction::ExhaustsResources.into())
			);
			<Disputes as Hooks<u64>>::on_finalize(System::block_number());
			frame_system::BlockWeight::<Test>::kill();
			next_block();
		}
		// The claimant's clock did not run on those blocks: the game cannot be ended on time.
		assert_eq!(Disputes::view(dispute).expect("running").claimant_remaining, left);
		assert_noop!(
			Disputes::timeout(RuntimeOrigin::signed(CHALLENGER), dispute),
			Error::<Test>::NotTimedOut
		);
		// The challenger stops paying for full blocks; the step gets in and wins.
		assert_ok!(frame_system::CheckWeight::<Test>::do_prepare(&info, len, 0));
		frame_system::BlockWeight::<Test>::kill();
		assert_ok!(Disputes::one_step(RuntimeOrigin::signed(OPERATOR), dispute, witness));
		assert!(matches!(
			resolved_event(dispute),
			Event::DisputeResolved {
				ending: Ending::Decided(Resolution { winner: Winner::Claimant, .. }),
				..
			}
		));
	});
}

#[test]
fn the_clocks_skip_only_blocks_without_room_for_the_heaviest_move() {
	ExtBuilder::build_and_execute(|| {
		let s = setup(Tolerance::Exact);
		let lie = liar(&s, 1.0);
		let claim = s.claim_of(&lie, 1);
		let dispute = open(&s, claim, CHALLENGER, &s.honest);
		let deadline = 1 + BUDGET;
		assert_eq!(Disputes::view(dispute).expect("running").deadline, Some(deadline));
		let weights: frame_system::limits::BlockWeights =
			<Test as frame_system::Config>::BlockWeights::get();
		let base = weights.get(DispatchClass::Normal).base_extrinsic;
		let needed = Disputes::heaviest_move().saturating_add(base.saturating_mul(2));
		let lengths: frame_system::limits::BlockLength =
			<Test as frame_system::Config>::BlockLength::get();
		let length = *lengths.max.get(DispatchClass::Normal);
		let needed_length =
			(<Test as crate::Config>::Limits::get().max_step_bytes + crate::STEP_ENVELOPE) as u32;
		// Room for the heaviest move, by weight and by length: the block counts.
		end_block_with(normal_limit().saturating_sub(needed), length - needed_length);
		assert_eq!(crate::SkippedBlocks::<Test>::get(), 0);
		// A little less room, by weight or by length: the clocks skip the block.
		let less = frame_support::weights::Weight::from_parts(1, 0);
		end_block_with(normal_limit().saturating_sub(needed).saturating_add(less), 0);
		end_block_with(frame_support::weights::Weight::zero(), length - needed_length + 1);
		assert_eq!(crate::SkippedBlocks::<Test>::get(), 2);
		// The silent claimant's deadline, a block number, moved by the two skipped blocks.
		let deadline = deadline + 2;
		assert_eq!(Disputes::view(dispute).expect("running").deadline, Some(deadline));
		run_to_block(deadline as u64 - 1);
		assert_noop!(
			Disputes::timeout(RuntimeOrigin::signed(ANYONE), dispute),
			Error::<Test>::NotTimedOut
		);
		run_to_block(deadline as u64);
		assert_ok!(Disputes::timeout(RuntimeOrigin::signed(ANYONE), dispute));
		assert_eq!(claim_status(claim), Some(ClaimStatus::Invalid));
	});
}

/// Plays the second level through the calls from the cut of the node at `leaf` on (the
/// claimant first in each round), posting the sub-step with `poster`'s witness; returns the
/// number of moves made per party (reveals and bisection moves) after the cut.
fn second_level_through(
	s: &Setup,
	dispute: DisputeId,
	claimant: &Player,
	challenger: (AccountId, &Player),
	poster: &Player,
) -> u32 {
	use crate::game::{Level, Reveal, Revealed};
	let leaf = awaited_leaf(dispute);
	next_block();
	assert_ok!(Disputes::cut(
		RuntimeOrigin::signed(ANYONE),
		dispute,
		poster.cut_witness(&s.model, leaf).unwrap()
	));
	let mut moves = 0;
	let parties = [(OPERATOR, claimant), challenger];
	while let Some(d) = DisputesMap::<Test>::get(dispute) {
		next_block();
		match *d.game.phase() {
			Phase::Revealing { what, .. } => {
				moves += 1;
				for (who, p) in parties {
					let revealed = match what {
						Reveal::DataRoots { inside, .. } => {
							let chunks = p.chunks(inside.leaf);
							Revealed::DataRoot {
								header: chunks.header.clone(),
								data_root: chunks.tree.root(),
							}
						},
						Reveal::StateRoots { inside, tile, .. } => {
							let tree = p.state_tree(&s.model, inside.leaf, &inside.geometry, tile);
							let last = tree.proof(u64::from(inside.geometry.segments) - 1).unwrap();
							Revealed::StateRoot { root: tree.root(), last }
						},
					};
					assert_ok!(Disputes::reveal(RuntimeOrigin::signed(who), dispute, revealed));
				}
			},
			Phase::Bisection { level, position, .. } => {
				moves += 1;
				for (who, p) in parties {
					let (l, r) = match level {
						Level::Trace => unreachable!("the first level is over"),
						Level::Tiles { inside } => {
							p.chunks(inside.leaf).tree.children(position).unwrap()
						},
						Level::Segments { inside, tile, .. } => p
							.state_tree(&s.model, inside.leaf, &inside.geometry, tile)
							.children(position)
							.unwrap(),
					};
					assert_ok!(Disputes::bisect(
						RuntimeOrigin::signed(who),
						dispute,
						position.depth,
						l,
						r
					));
					if DisputesMap::<Test>::get(dispute).is_none() {
						return moves;
					}
				}
			},
			Phase::AwaitingSubStep { inside, tile, segment, .. } => {
				let limits = SubStepLimits::get();
				let (w, proof) = poster.substep_witness(
					&s.model,
					inside.leaf,
					&inside.geometry,
					&limits,
					(tile, segment),
				);
				assert_ok!(Disputes::sub_step(RuntimeOrigin::signed(ANYONE), dispute, w, proof));
			},
			other => panic!("unexpected phase {other:?}"),
		}
	}
	moves
}

/// With sub-step limits that cut the fixture MLP's first product into segments, a wrong claim
/// is settled Invalid through the second level, and an honest claim beats a lying challenger
/// there: bonds move as at a one-step.
#[test]
fn the_second_level_settles_a_dispute_through_the_calls() {
	ExtBuilder::build_and_execute(|| {
		SubStepLimits::set(edgeproof_canon::substep::SubStepLimits {
			max_work: 96,
			max_read_bytes: 1 << 16,
		});
		let s = setup(Tolerance::Exact);
		let lie = deep_liar(&s);
		let claim = s.claim_of(&lie, 1);
		let dispute = open(&s, claim, CHALLENGER, &s.honest);
		next_block();
		assert_ok!(Disputes::respond(
			RuntimeOrigin::signed(OPERATOR),
			dispute,
			lie.root(),
			outputs(&lie, &s)
		));
		bisect_through(dispute, &lie, (CHALLENGER, &s.honest));
		let leaf = awaited_leaf(dispute);
		// Refused: a cut by a witness for another leaf; reveals and sub-steps before the cut.
		let wrong = s.honest.cut_witness(&s.model, leaf + 1).unwrap();
		assert_noop!(
			Disputes::cut(RuntimeOrigin::signed(ANYONE), dispute, wrong),
			Error::<Test>::CutNotProven
		);
		let chunks = s.honest.chunks(leaf);
		let early = crate::game::Revealed::DataRoot {
			header: chunks.header.clone(),
			data_root: chunks.tree.root(),
		};
		assert_noop!(
			Disputes::reveal(RuntimeOrigin::signed(CHALLENGER), dispute, early.clone()),
			Error::<Test>::UnexpectedMove
		);
		assert_noop!(
			Disputes::reveal(RuntimeOrigin::signed(ANYONE), dispute, early),
			Error::<Test>::NotParty
		);
		let moves = second_level_through(&s, dispute, &lie, (CHALLENGER, &s.honest), &s.honest);
		let cut =
			System::events().into_iter().find_map(|r| match r.event {
				RuntimeEvent::Disputes(Event::SubStepsStarted {
					leaf: l, tiles, segments, ..
				}) if l == leaf => Some((tiles, segments)),
				_ => None,
			});
		let (tiles, segments) = cut.expect("the second level started");
		assert!(segments > 1, "{segments} segments");
		// A data-root reveal, a state-root reveal and the descents of both trees.
		let depth = |n: u64| 64 - n.saturating_sub(1).leading_zeros();
		assert_eq!(moves, 2 + depth(tiles) + depth(u64::from(segments)));
		let Event::DisputeResolved { ending: Ending::Decided(r), .. } = resolved_event(dispute)
		else {
			panic!()
		};
		assert_eq!(r.winner, Winner::Challenger);
		assert!(matches!(r.reason, Reason::SubStep { leaf: l, .. } if l == leaf), "{r:?}");
		assert_eq!(claim_status(claim), Some(ClaimStatus::Invalid));
		assert_eq!(challenger_held(CHALLENGER), 0);

		// An honest claim against a challenger that lies about the same node.
		let claim = s.claim_of(&s.honest, 2);
		let dispute = open(&s, claim, CHALLENGER, &lie);
		next_block();
		assert_ok!(Disputes::respond(
			RuntimeOrigin::signed(OPERATOR),
			dispute,
			s.honest.root(),
			outputs(&s.honest, &s)
		));
		bisect_through(dispute, &s.honest, (CHALLENGER, &lie));
		second_level_through(&s, dispute, &s.honest, (CHALLENGER, &lie), &lie);
		let Event::DisputeResolved { ending: Ending::Decided(r), burned, to_claimant, .. } =
			resolved_event(dispute)
		else {
			panic!()
		};
		assert_eq!(r.winner, Winner::Claimant);
		assert_eq!(burned + to_claimant, CHALLENGER_BOND);
		assert!(DisputesMap::<Test>::get(dispute).is_none());
	});
}
