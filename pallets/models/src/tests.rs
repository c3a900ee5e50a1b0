//! Unit tests of the model registry: every call, error and event.

use codec::{Decode, Encode};
use edgeproof_canon::{DType, Tensor, Tolerance};
use frame_support::{
	assert_noop, assert_ok,
	traits::{
		fungible::{Inspect, InspectHold},
		Get,
	},
	BoundedVec,
};
use sp_core::H256;
use sp_runtime::DispatchError;

use crate::{
	mock::*, Error, Event, Families, HoldReason, KeyAssurance, KeyRequirements, ModelId,
	ModelRegistry, ModelStatus, PendingModels, PendingQueue, RejectionReason, Verdict, Votes,
};

fn held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::ModelDeposit.into(), &who)
}

fn status(model: ModelId) -> ModelStatus {
	crate::Models::<Test>::get(model).expect("registered").status
}

/// Registers `params(seed)` as `owner` and checks every effect.
fn assert_register(owner: AccountId, seed: u8) -> Balance {
	let p = params(seed);
	let deposit = DEPOSIT_BASE + DEPOSIT_PER_BYTE * p.encoded_size() as Balance;
	let free_before = Balances::balance(&owner);
	let held_before = held(owner);
	assert_ok!(Models::register_model(RuntimeOrigin::signed(owner), p.clone()));
	let model = id_of(owner, seed);
	let record = crate::Models::<Test>::get(model).expect("stored");
	assert_eq!(record.owner, owner);
	assert_eq!(record.deposit, deposit);
	assert_eq!(record.status, ModelStatus::Pending);
	assert_eq!(record.params, p);
	assert_eq!(Balances::balance(&owner), free_before - deposit);
	assert_eq!(held(owner), held_before + deposit);
	assert!(Families::<Test>::get(&p.name).contains(&(p.version, model)));
	System::assert_last_event(
		Event::ModelRegistered {
			model,
			file_hash: p.file_hash,
			owner,
			name: p.name,
			version: p.version,
			deposit,
		}
		.into(),
	);
	deposit
}

fn activate(seed: u8) {
	assert_ok!(Models::activate(RuntimeOrigin::root(), id(seed)));
}

fn uri(s: &str) -> BoundedVec<u8, <Test as crate::Config>::MaxUriLen> {
	BoundedVec::truncate_from(s.as_bytes().to_vec())
}

#[test]
fn register_model_holds_deposit_and_lists_family() {
	ExtBuilder::build_and_execute(|| {
		assert_register(ALICE, 1);
		assert_register(BOB, 2);
		assert_eq!(Families::<Test>::get(&params(1).name).len(), 2);
	});
}

#[test]
fn registering_the_same_model_twice_is_rejected() {
	ExtBuilder::build_and_execute(|| {
		assert_register(ALICE, 1);
		// Name and version are not part of the id: this is the same registration.
		let mut p = params(1);
		p.version = 99;
		assert_noop!(
			Models::register_model(RuntimeOrigin::signed(ALICE), p),
			Error::<Test>::ModelExists
		);
	});
}

#[test]
fn duplicate_version_in_family_is_rejected() {
	ExtBuilder::build_and_execute(|| {
		assert_register(ALICE, 1);
		let mut p = params(2);
		p.version = 1;
		assert_noop!(
			Models::register_model(RuntimeOrigin::signed(ALICE), p),
			Error::<Test>::VersionExists
		);
	});
}

#[test]
fn family_is_bounded() {
	ExtBuilder::build_and_execute(|| {
		for seed in 1..=3 {
			assert_register(ALICE, seed);
			activate(seed);
		}
		assert_noop!(
			Models::register_model(RuntimeOrigin::signed(ALICE), params(4)),
			Error::<Test>::TooManyVersions
		);
	});
}

#[test]
fn malformed_registrations_are_rejected_with_their_error() {
	ExtBuilder::build_and_execute(|| {
		let cases: Vec<(Box<dyn Fn(&mut crate::ModelParamsOf<Test>)>, Error<Test>)> = vec![
			(Box::new(|p| p.name = BoundedVec::new()), Error::<Test>::EmptyName),
			(Box::new(|p| p.uri = uri("ftp://host/model.onnx")), Error::<Test>::InvalidUri),
			(Box::new(|p| p.uri = uri("http://")), Error::<Test>::InvalidUri),
			(Box::new(|p| p.uri = uri("http://host/with space")), Error::<Test>::InvalidUri),
			(Box::new(|p| p.byte_size = 0), Error::<Test>::InvalidByteSize),
			(
				Box::new(|p| p.byte_size = <MaxModelBytes as Get<u64>>::get() + 1),
				Error::<Test>::InvalidByteSize,
			),
			(Box::new(|p| p.node_count = 0), Error::<Test>::NoNodes),
			(Box::new(|p| p.inputs = BoundedVec::new()), Error::<Test>::NoTensors),
			(Box::new(|p| p.outputs = BoundedVec::new()), Error::<Test>::NoTensors),
			(
				Box::new(|p| p.inputs[0] = spec("x", DType::F32, &[1, 0, 3], false)),
				Error::<Test>::ZeroDimension,
			),
			(
				Box::new(|p| p.outputs[0] = spec("y", DType::F32, &[1024, 1025], false)),
				Error::<Test>::TensorTooLarge,
			),
			(
				Box::new(|p| p.tolerance = Tolerance::Relative { abs: f32::NAN.to_bits(), rel: 0 }),
				Error::<Test>::InvalidTolerance,
			),
			(
				Box::new(|p| {
					p.tolerance = Tolerance::Relative { abs: 0, rel: (-1e-4f32).to_bits() }
				}),
				Error::<Test>::InvalidTolerance,
			),
			(
				Box::new(|p| {
					p.tolerance = Tolerance::Relative { abs: f32::INFINITY.to_bits(), rel: 0 }
				}),
				Error::<Test>::InvalidTolerance,
			),
		];
		for (mutate, error) in cases {
			let mut p = params(1);
			mutate(&mut p);
			assert_noop!(Models::register_model(RuntimeOrigin::signed(ALICE), p), error);
		}
	});
}

#[test]
fn oversize_fields_and_unknown_dtypes_do_not_decode() {
	ExtBuilder::build_and_execute(|| {
		let good = params(1);
		let call = crate::Call::<Test>::register_model { params: good.clone() }.encode();
		assert!(crate::Call::<Test>::decode(&mut &call[..]).is_ok());

		// A name one byte over `MaxNameLen`: same encoding as a Vec, refused by the bound.
		let mut raw = good.encode();
		let name_at = 32;
		assert_eq!(raw[name_at], 3 << 2, "compact length of b\"mlp\"");
		let long_name = vec![b'a'; 33];
		raw.splice(name_at..name_at + 4, long_name.encode());
		assert!(crate::ModelParamsOf::<Test>::decode(&mut &raw[..]).is_err());

		// Seven dimensions where at most six are allowed.
		let mut p = good.clone();
		p.inputs[0].shape = BoundedVec::truncate_from(vec![1; 6]);
		let six = p.encode();
		let at = six
			.windows(1 + 6 * 4)
			.position(|w| w[0] == 6 << 2 && w[1..].chunks(4).all(|c| c == [1, 0, 0, 0]))
			.expect("the six-dimensional shape is in the encoding");
		let mut seven = six.clone();
		seven.splice(at..at + 1 + 24, [&[7u8 << 2][..], &[1, 0, 0, 0].repeat(7)].concat());
		assert!(crate::ModelParamsOf::<Test>::decode(&mut &six[..]).is_ok());
		assert!(crate::ModelParamsOf::<Test>::decode(&mut &seven[..]).is_err());

		// DType index 9 is not a dtype.
		assert!(DType::decode(&mut &[9u8][..]).is_err());
	});
}

#[test]
fn registration_without_deposit_funds_fails() {
	ExtBuilder::build_and_execute(|| {
		assert_noop!(
			Models::register_model(RuntimeOrigin::signed(POOR), params(1)),
			Error::<Test>::InsufficientDeposit
		);
	});
}

#[test]
fn activation_origin_activates_and_rejects() {
	ExtBuilder::build_and_execute(|| {
		let deposit = assert_register(ALICE, 1);
		assert_register(ALICE, 2);
		assert_noop!(
			Models::activate(RuntimeOrigin::signed(ALICE), id(1)),
			DispatchError::BadOrigin
		);
		activate(1);
		System::assert_last_event(Event::ModelActivated { model: id(1) }.into());
		assert_eq!(status(id(1)), ModelStatus::Active);
		assert!(Models::accepts_claims(&id(1)));

		let free = Balances::balance(&ALICE);
		let deposit2 = crate::Models::<Test>::get(id(2)).unwrap().deposit;
		assert_ok!(Models::reject(RuntimeOrigin::root(), id(2)));
		let slashed = RejectionSlash::get() * deposit2;
		System::assert_last_event(
			Event::ModelRejected { model: id(2), reason: RejectionReason::Governance, slashed }
				.into(),
		);
		assert_eq!(status(id(2)), ModelStatus::Rejected);
		assert_eq!(Balances::balance(&ALICE), free + deposit2 - slashed);
		assert_eq!(held(ALICE), deposit);
		assert!(!Models::accepts_claims(&id(2)));
	});
}

#[test]
fn only_pending_models_can_be_decided() {
	ExtBuilder::build_and_execute(|| {
		assert_register(ALICE, 1);
		activate(1);
		assert_noop!(
			Models::activate(RuntimeOrigin::root(), id(1)),
			Error::<Test>::IllegalTransition
		);
		assert_noop!(
			Models::reject(RuntimeOrigin::root(), id(1)),
			Error::<Test>::IllegalTransition
		);
		assert_noop!(Models::activate(RuntimeOrigin::root(), id(7)), Error::<Test>::UnknownModel);
		assert_noop!(
			Models::vote(RuntimeOrigin::signed(V1), id(1), Verdict::Approve),
			Error::<Test>::IllegalTransition
		);
	});
}

#[test]
fn a_quorum_of_ayes_activates() {
	ExtBuilder::build_and_execute(|| {
		assert_register(ALICE, 1);
		let model = id(1);
		assert_ok!(Models::vote(RuntimeOrigin::signed(V1), model, Verdict::Approve));
		System::assert_last_event(
			Event::VoteCast { model, voter: V1, verdict: Verdict::Approve, ayes: 1, nays: 0 }
				.into(),
		);
		assert_eq!(status(id(1)), ModelStatus::Pending);
		assert_ok!(Models::vote(RuntimeOrigin::signed(V2), model, Verdict::Reject));
		assert_eq!(status(id(1)), ModelStatus::Pending);
		// 66% of 3 voters, rounded up, is 2 ayes.
		assert_ok!(Models::vote(RuntimeOrigin::signed(V3), model, Verdict::Approve));
		System::assert_last_event(Event::ModelActivated { model }.into());
		assert_eq!(status(id(1)), ModelStatus::Active);
		assert!(Votes::<Test>::get(model).is_empty());
	});
}

#[test]
fn a_quorum_of_nays_rejects_and_slashes() {
	ExtBuilder::build_and_execute(|| {
		let deposit = assert_register(ALICE, 1);
		let model = id(1);
		let issuance = Balances::total_issuance();
		assert_ok!(Models::vote(RuntimeOrigin::signed(V1), model, Verdict::Reject));
		assert_ok!(Models::vote(RuntimeOrigin::signed(V2), model, Verdict::Reject));
		let slashed = RejectionSlash::get() * deposit;
		System::assert_last_event(
			Event::ModelRejected { model, reason: RejectionReason::Voted, slashed }.into(),
		);
		assert_eq!(status(id(1)), ModelStatus::Rejected);
		assert_eq!(held(ALICE), 0);
		assert_eq!(Balances::total_issuance(), issuance - slashed);
	});
}

#[test]
fn a_single_voter_decides_alone() {
	ExtBuilder::build_and_execute(|| {
		set_voters(vec![V1]);
		assert_register(ALICE, 1);
		assert_ok!(Models::vote(RuntimeOrigin::signed(V1), id(1), Verdict::Approve));
		assert_eq!(status(id(1)), ModelStatus::Active);
	});
}

#[test]
fn bad_votes_are_rejected() {
	ExtBuilder::build_and_execute(|| {
		assert_register(ALICE, 1);
		let model = id(1);
		assert_noop!(
			Models::vote(RuntimeOrigin::signed(ALICE), model, Verdict::Approve),
			Error::<Test>::NotVoter
		);
		assert_noop!(
			Models::vote(RuntimeOrigin::signed(V1), id(9), Verdict::Approve),
			Error::<Test>::UnknownModel
		);
		assert_ok!(Models::vote(RuntimeOrigin::signed(V1), model, Verdict::Approve));
		assert_noop!(
			Models::vote(RuntimeOrigin::signed(V1), model, Verdict::Reject),
			Error::<Test>::AlreadyVoted
		);
	});
}

#[test]
fn votes_are_bounded() {
	ExtBuilder::build_and_execute(|| {
		// More voters than `MaxVoters` (8) with a threshold nobody reaches before the ninth.
		let voters: Vec<AccountId> = (100..120).collect();
		set_voters(voters.clone());
		assert_register(ALICE, 1);
		let model = id(1);
		for (i, v) in voters.iter().take(8).enumerate() {
			let verdict = if i % 2 == 0 { Verdict::Approve } else { Verdict::Reject };
			assert_ok!(Models::vote(RuntimeOrigin::signed(*v), model, verdict));
		}
		assert_noop!(
			Models::vote(RuntimeOrigin::signed(voters[8]), model, Verdict::Approve),
			Error::<Test>::TooManyVotes
		);
	});
}

#[test]
fn owner_deprecates_then_retires_and_gets_deposit_back() {
	ExtBuilder::build_and_execute(|| {
		let deposit = assert_register(ALICE, 1);
		let model = id(1);
		assert_noop!(
			Models::deprecate(RuntimeOrigin::signed(ALICE), model),
			Error::<Test>::IllegalTransition
		);
		activate(1);
		assert_noop!(
			Models::retire(RuntimeOrigin::signed(ALICE), model),
			Error::<Test>::IllegalTransition
		);
		assert_noop!(Models::deprecate(RuntimeOrigin::signed(BOB), model), Error::<Test>::NotOwner);
		assert_ok!(Models::deprecate(RuntimeOrigin::signed(ALICE), model));
		System::assert_last_event(Event::ModelDeprecated { model }.into());
		assert!(!Models::accepts_claims(&model));
		assert_eq!(Models::summary(&model).unwrap().status, ModelStatus::Deprecated);

		let free = Balances::balance(&ALICE);
		assert_noop!(Models::retire(RuntimeOrigin::signed(BOB), model), Error::<Test>::NotOwner);
		assert_ok!(Models::retire(RuntimeOrigin::signed(ALICE), model));
		System::assert_last_event(Event::ModelRetired { model, deposit_returned: deposit }.into());
		assert_eq!(status(id(1)), ModelStatus::Retired);
		assert_eq!(Balances::balance(&ALICE), free + deposit);
		assert_eq!(held(ALICE), 0);
		assert_noop!(
			Models::deprecate(RuntimeOrigin::signed(ALICE), model),
			Error::<Test>::IllegalTransition
		);
		assert_noop!(
			Models::deprecate(RuntimeOrigin::signed(ALICE), id(5)),
			Error::<Test>::UnknownModel
		);
	});
}

#[test]
fn the_owner_sets_the_key_assurance_claiming_devices_need() {
	ExtBuilder::build_and_execute(|| {
		assert_register(ALICE, 1);
		let model = id(1);
		assert_eq!(Models::summary(&model).unwrap().key_requirement, KeyAssurance::Unproven);
		assert_ok!(Models::set_key_requirement(
			RuntimeOrigin::signed(ALICE),
			model,
			KeyAssurance::TrustedEnvironment
		));
		System::assert_last_event(
			Event::KeyRequirementSet { model, requirement: KeyAssurance::TrustedEnvironment }
				.into(),
		);
		assert_eq!(
			Models::summary(&model).unwrap().key_requirement,
			KeyAssurance::TrustedEnvironment
		);
		assert_noop!(
			Models::set_key_requirement(
				RuntimeOrigin::signed(BOB),
				model,
				KeyAssurance::SecureElement
			),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			Models::set_key_requirement(
				RuntimeOrigin::signed(ALICE),
				id(3),
				KeyAssurance::Unproven
			),
			Error::<Test>::UnknownModel
		);
		// `Unproven` lifts the requirement and leaves no entry behind.
		assert_ok!(Models::set_key_requirement(
			RuntimeOrigin::signed(ALICE),
			model,
			KeyAssurance::Unproven
		));
		assert!(!KeyRequirements::<Test>::contains_key(model));
		// A retired model's requirement no longer matters.
		activate(1);
		assert_ok!(Models::deprecate(RuntimeOrigin::signed(ALICE), model));
		assert_ok!(Models::retire(RuntimeOrigin::signed(ALICE), model));
		assert_noop!(
			Models::set_key_requirement(
				RuntimeOrigin::signed(ALICE),
				model,
				KeyAssurance::SecureElement
			),
			Error::<Test>::IllegalTransition
		);
	});
}

#[test]
fn owner_moves_uri_and_deposit_follows_its_length() {
	ExtBuilder::build_and_execute(|| {
		let deposit = assert_register(ALICE, 1);
		let model = id(1);
		let longer = uri("https://models.example.org/a/much/longer/path/mlp.onnx");
		let grow = longer.len() as Balance - params(1).uri.len() as Balance;
		assert_ok!(Models::set_uri(RuntimeOrigin::signed(ALICE), model, longer.clone()));
		System::assert_last_event(
			Event::UriUpdated { model, uri: longer.clone(), deposit: deposit + grow }.into(),
		);
		assert_eq!(held(ALICE), deposit + grow);
		let file = Models::file(&model).expect("registered");
		assert_eq!((file.hash, file.uri), (params(1).file_hash, longer.to_vec()));

		assert_ok!(Models::set_uri(RuntimeOrigin::signed(ALICE), model, uri("file:///m.onnx")));
		let shorter = params(1).uri.len() as Balance - "file:///m.onnx".len() as Balance;
		assert_eq!(held(ALICE), deposit - shorter);

		assert_noop!(
			Models::set_uri(RuntimeOrigin::signed(ALICE), model, uri("file:///m.onnx")),
			Error::<Test>::SameUri
		);
		assert_noop!(
			Models::set_uri(RuntimeOrigin::signed(BOB), model, uri("file:///x")),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			Models::set_uri(RuntimeOrigin::signed(ALICE), model, uri("gopher://x")),
			Error::<Test>::InvalidUri
		);
		assert_noop!(
			Models::set_uri(RuntimeOrigin::signed(ALICE), id(3), uri("file:///x")),
			Error::<Test>::UnknownModel
		);
	});
}

#[test]
fn uri_of_a_rejected_model_cannot_move_and_growth_needs_funds() {
	ExtBuilder::build_and_execute(|| {
		assert_register(ALICE, 1);
		assert_ok!(Models::reject(RuntimeOrigin::root(), id(1)));
		assert_noop!(
			Models::set_uri(RuntimeOrigin::signed(ALICE), id(1), uri("file:///y")),
			Error::<Test>::IllegalTransition
		);

		// POOR (250) can pay the deposit of a short registration (221) but not 111 more bytes.
		let mut p = params(2);
		p.inputs = BoundedVec::truncate_from(vec![spec("i", DType::F32, &[1], false)]);
		p.outputs = BoundedVec::truncate_from(vec![spec("o", DType::F32, &[1], false)]);
		p.uri = uri("file:///a");
		p.name = BoundedVec::truncate_from(b"m".to_vec());
		assert_ok!(Models::register_model(RuntimeOrigin::signed(POOR), p.clone()));
		assert_noop!(
			Models::set_uri(
				RuntimeOrigin::signed(POOR),
				crate::model_id(&POOR, &p),
				uri(&format!("file:///{}", "a".repeat(112)))
			),
			Error::<Test>::InsufficientDeposit
		);
	});
}

#[test]
fn specs_accept_matching_tensors_and_batches() {
	ExtBuilder::build_and_execute(|| {
		assert_register(ALICE, 1);
		let model = id(1);
		let input = |batch: u32| Tensor::from_f32(vec![batch, 16], &vec![0.5; batch as usize * 16]);
		let output = |batch: u32| Tensor::from_f32(vec![batch, 8], &vec![0.25; batch as usize * 8]);
		assert!(Models::matches_specs(&model, &[input(1)], &[output(1)]));
		assert!(Models::matches_specs(&model, &[input(4)], &[output(4)]));
		assert!(
			!Models::matches_specs(&model, &[input(5)], &[output(5)]),
			"batch above the maximum"
		);
		assert!(!Models::matches_specs(&model, &[input(1)], &[]), "missing output");
		assert!(
			!Models::matches_specs(
				&model,
				&[Tensor::from_i64(vec![1, 16], &[0; 16])],
				&[output(1)]
			),
			"dtype"
		);
		assert!(
			!Models::matches_specs(
				&model,
				&[Tensor::from_f32(vec![1, 15], &[0.0; 15])],
				&[output(1)]
			),
			"shape"
		);
		let truncated = Tensor { dtype: DType::F32, shape: vec![1, 16], data: vec![0; 7] };
		assert!(!Models::matches_specs(&model, &[truncated], &[output(1)]), "data length");
		assert!(!Models::matches_specs(&id(8), &[input(1)], &[output(1)]), "unknown model");
	});
}

#[test]
fn summary_reports_program_and_tolerance() {
	ExtBuilder::build_and_execute(|| {
		assert_register(ALICE, 1);
		let summary = Models::summary(&id(1)).unwrap();
		assert_eq!(summary.program_root, H256::repeat_byte(0xaa));
		assert_eq!(summary.node_count, 5);
		assert_eq!(summary.tolerance, params(1).tolerance);
		assert_eq!(Models::summary(&id(2)), None);
	});
}

#[test]
fn registration_is_refused_beyond_max_pending_models() {
	ExtBuilder::build().execute_with(|| {
		// Each in its own family, so that only the pending bound applies.
		let named = |seed: u8| {
			let mut p = params(seed);
			p.name = BoundedVec::truncate_from(format!("model-{seed}").into_bytes());
			p
		};
		// Two owners, so that the bound per owner does not apply first.
		for seed in 1..=MAX_PENDING_MODELS as u8 {
			let owner = if seed % 2 == 0 { ALICE } else { BOB };
			assert_ok!(Models::register_model(RuntimeOrigin::signed(owner), named(seed)));
		}
		assert_eq!(PendingModels::<Test>::count(), MAX_PENDING_MODELS);
		let extra = named(MAX_PENDING_MODELS as u8 + 1);
		assert_noop!(
			Models::register_model(RuntimeOrigin::signed(MALLORY), extra.clone()),
			Error::<Test>::TooManyPendingModels
		);
		// Deciding one makes room.
		assert_ok!(Models::activate(RuntimeOrigin::root(), id_of(BOB, 1)));
		assert_eq!(PendingModels::<Test>::count(), MAX_PENDING_MODELS - 1);
		assert_ok!(Models::register_model(RuntimeOrigin::signed(MALLORY), extra));
		Models::do_try_state().expect("invariants");
	});
}

// Issue 14, "Registry abuse": each test below replays an attack.

fn run_to_block(n: u64) {
	System::run_to_block::<AllPalletsWithSystem>(n);
}

/// Model `seed` in a family of its own, at a URI that never answers: validators never vote.
fn dead(seed: u8) -> crate::ModelParamsOf<Test> {
	let mut p = params(seed);
	p.name = BoundedVec::truncate_from(format!("squat-{seed}").into_bytes());
	p.uri = uri(&format!("http://10.255.255.1/dead-{seed}.onnx"));
	p
}

#[test]
fn squatted_pending_slots_expire_and_free_room_for_honest_registrations() {
	ExtBuilder::build_and_execute(|| {
		// Two accounts fill every pending slot with models nobody can check.
		let mut squats = Vec::new();
		for seed in 1..=MAX_PENDING_MODELS as u8 {
			let squatter = if seed % 2 == 0 { MALLORY } else { EVE };
			let p = dead(seed);
			squats.push((seed, Models::deposit_for(&p)));
			assert_ok!(Models::register_model(RuntimeOrigin::signed(squatter), p));
		}
		assert_noop!(
			Models::register_model(RuntimeOrigin::signed(BOB), params(9)),
			Error::<Test>::TooManyPendingModels
		);

		// One block short of the timeout they still hold every slot.
		run_to_block(PENDING_TIMEOUT);
		assert_eq!(PendingModels::<Test>::count(), MAX_PENDING_MODELS);
		assert_noop!(
			Models::register_model(RuntimeOrigin::signed(BOB), params(9)),
			Error::<Test>::TooManyPendingModels
		);

		// Then they expire: rejected, a share of each deposit burned, the rest returned.
		let issuance = Balances::total_issuance();
		run_to_block(1 + PENDING_TIMEOUT);
		let mut burned = 0;
		for (seed, deposit) in squats {
			let slashed = RejectionSlash::get() * deposit;
			burned += slashed;
			let squatter = if seed % 2 == 0 { MALLORY } else { EVE };
			assert_eq!(status(id_of(squatter, seed)), ModelStatus::Rejected);
			System::assert_has_event(
				Event::ModelRejected {
					model: id_of(squatter, seed),
					reason: RejectionReason::Expired,
					slashed,
				}
				.into(),
			);
		}
		assert_eq!(Balances::total_issuance(), issuance - burned);
		assert_eq!(held(MALLORY) + held(EVE), 0);
		assert_eq!(Balances::balance(&MALLORY) + Balances::balance(&EVE), 2_000_000 - burned);
		assert_eq!(PendingModels::<Test>::count(), 0);
		assert!(PendingQueue::<Test>::get().is_empty());

		// The honest registration finds room.
		assert_ok!(Models::register_model(RuntimeOrigin::signed(BOB), params(9)));
	});
}

#[test]
fn only_models_pending_for_the_whole_timeout_expire() {
	ExtBuilder::build_and_execute(|| {
		let deposit = assert_register(ALICE, 1);
		assert_register(BOB, 2);
		assert_ok!(Models::vote(RuntimeOrigin::signed(V1), id(1), Verdict::Approve));
		run_to_block(5);
		assert_register(ALICE, 3);
		// A decided model leaves the expiry queue.
		assert_ok!(Models::activate(RuntimeOrigin::root(), id_of(BOB, 2)));

		run_to_block(1 + PENDING_TIMEOUT);
		assert_eq!(status(id(1)), ModelStatus::Rejected);
		assert_eq!(status(id_of(BOB, 2)), ModelStatus::Active);
		assert_eq!(status(id(3)), ModelStatus::Pending);
		System::assert_last_event(
			Event::ModelRejected {
				model: id(1),
				reason: RejectionReason::Expired,
				slashed: RejectionSlash::get() * deposit,
			}
			.into(),
		);
		assert!(Votes::<Test>::get(id(1)).is_empty());

		run_to_block(4 + PENDING_TIMEOUT);
		assert_eq!(status(id(3)), ModelStatus::Pending);
		run_to_block(5 + PENDING_TIMEOUT);
		assert_eq!(status(id(3)), ModelStatus::Rejected);
		assert_eq!(held(ALICE), 0);
	});
}

#[test]
fn one_account_cannot_take_more_than_its_share_of_the_pending_slots() {
	ExtBuilder::build_and_execute(|| {
		for seed in 1..=MAX_PENDING_PER_OWNER as u8 {
			assert_ok!(Models::register_model(RuntimeOrigin::signed(MALLORY), dead(seed)));
		}
		let next = MAX_PENDING_PER_OWNER as u8 + 1;
		assert_noop!(
			Models::register_model(RuntimeOrigin::signed(MALLORY), dead(next)),
			Error::<Test>::TooManyPendingPerOwner
		);
		// Other accounts still find room.
		assert_ok!(Models::register_model(RuntimeOrigin::signed(BOB), params(9)));
		// Once one of its models is decided, the account may register again.
		assert_ok!(Models::reject(RuntimeOrigin::root(), id_of(MALLORY, 1)));
		assert_ok!(Models::register_model(RuntimeOrigin::signed(MALLORY), dead(next)));
	});
}

#[test]
fn a_tolerance_that_accepts_every_output_is_refused() {
	ExtBuilder::build_and_execute(|| {
		let (max_abs, max_rel) =
			(<MaxToleranceAbs as Get<u32>>::get(), <MaxToleranceRel as Get<u32>>::get());
		let loose = [
			Tolerance::Relative { abs: f32::MAX.to_bits(), rel: 0 },
			Tolerance::Relative { abs: 0, rel: f32::MAX.to_bits() },
			// The next f32 above each cap.
			Tolerance::Relative { abs: max_abs + 1, rel: 0 },
			Tolerance::Relative { abs: 0, rel: max_rel + 1 },
		];
		for tolerance in loose {
			let mut p = params(1);
			p.tolerance = tolerance;
			assert_noop!(
				Models::register_model(RuntimeOrigin::signed(MALLORY), p),
				Error::<Test>::ToleranceTooLoose
			);
		}
		// The caps themselves are allowed.
		let mut p = params(1);
		p.tolerance = Tolerance::Relative { abs: max_abs, rel: max_rel };
		assert_ok!(Models::register_model(RuntimeOrigin::signed(MALLORY), p));
	});
}

#[test]
fn votes_of_a_removed_voter_do_not_count() {
	ExtBuilder::build_and_execute(|| {
		assert_register(ALICE, 1);
		let model = id(1);
		assert_ok!(Models::vote(RuntimeOrigin::signed(V1), model, Verdict::Approve));
		// V1 leaves the voter set: 66% of the 2 remaining voters, rounded up, is 2 ayes.
		set_voters(vec![V2, V3]);
		assert_ok!(Models::vote(RuntimeOrigin::signed(V2), model, Verdict::Approve));
		System::assert_last_event(
			Event::VoteCast { model, voter: V2, verdict: Verdict::Approve, ayes: 1, nays: 0 }
				.into(),
		);
		assert_eq!(status(id(1)), ModelStatus::Pending, "V1's vote no longer counts");
		assert_eq!(Votes::<Test>::get(model).into_inner(), vec![(V2, Verdict::Approve)]);
		assert_ok!(Models::vote(RuntimeOrigin::signed(V3), model, Verdict::Approve));
		assert_eq!(status(id(1)), ModelStatus::Active);
	});
}

#[test]
fn votes_of_removed_voters_take_no_room() {
	ExtBuilder::build_and_execute(|| {
		// `MaxVoters` (8) votes of a large set that reach no threshold...
		let old: Vec<AccountId> = (100..120).collect();
		set_voters(old.clone());
		assert_register(ALICE, 1);
		let model = id(1);
		for (i, v) in old.iter().take(8).enumerate() {
			let verdict = if i % 2 == 0 { Verdict::Approve } else { Verdict::Reject };
			assert_ok!(Models::vote(RuntimeOrigin::signed(*v), model, verdict));
		}
		// ... then the whole set is replaced: the new voters still decide.
		set_voters(vec![V1, V2, V3]);
		assert_ok!(Models::vote(RuntimeOrigin::signed(V1), model, Verdict::Reject));
		assert_ok!(Models::vote(RuntimeOrigin::signed(V2), model, Verdict::Reject));
		assert_eq!(status(id(1)), ModelStatus::Rejected);
	});
}

/// Attack (issue 14, item 8): a squatter registers a public file first, with a tolerance of
/// its own, and gets it activated. When a model's id was its file hash, the squatter owned the
/// file: its real owner got `ModelExists` for as long as the record lived (retired records
/// included). Now the id is the owner's own: both registrations live side by side, each with
/// its owner's specs and tolerance, and neither can touch the other.
#[test]
fn a_squatter_cannot_take_a_public_file_from_its_owner() {
	ExtBuilder::build_and_execute(|| {
		let mut squat = params(1);
		squat.name = BoundedVec::truncate_from(b"squat".to_vec());
		squat.tolerance = Tolerance::Relative { abs: 1e-2f32.to_bits(), rel: 1e-2f32.to_bits() };
		let squatted = crate::model_id(&MALLORY, &squat);
		assert_ok!(Models::register_model(RuntimeOrigin::signed(MALLORY), squat.clone()));
		assert_ok!(Models::activate(RuntimeOrigin::root(), squatted));

		// The real owner registers the same file, with its own tolerance, under its own id.
		assert_eq!(params(1).file_hash, squat.file_hash);
		assert_register(ALICE, 1);
		activate(1);
		assert_ne!(id(1), squatted);
		assert_eq!(Models::summary(&id(1)).expect("registered").tolerance, params(1).tolerance);
		assert_eq!(Models::summary(&squatted).expect("registered").tolerance, squat.tolerance);
		assert_eq!(Models::file(&id(1)).map(|f| f.hash), Some(squat.file_hash));
		assert_noop!(
			Models::deprecate(RuntimeOrigin::signed(MALLORY), id(1)),
			Error::<Test>::NotOwner
		);

		// Retiring a registration blocks nobody else either.
		assert_ok!(Models::deprecate(RuntimeOrigin::signed(ALICE), id(1)));
		assert_ok!(Models::retire(RuntimeOrigin::signed(ALICE), id(1)));
		let mut again = params(1);
		again.version = 2;
		assert_ok!(Models::register_model(RuntimeOrigin::signed(BOB), again));
		assert_eq!(status(id_of(BOB, 1)), ModelStatus::Pending);
	});
}

/// The id covers the specs and the tolerance: one owner may register one file under several
/// tolerances or specs (each its own model), but not the same registration twice.
#[test]
fn one_file_may_be_registered_with_other_specs_or_tolerances() {
	ExtBuilder::build_and_execute(|| {
		assert_register(ALICE, 1);
		let mut exact = params(1);
		exact.version = 2;
		exact.tolerance = Tolerance::Exact;
		assert_ok!(Models::register_model(RuntimeOrigin::signed(ALICE), exact.clone()));
		// Within ALICE's share of the pending slots.
		activate(1);
		let mut unbatched = params(1);
		unbatched.version = 3;
		unbatched.inputs[0].dynamic_batch = false;
		assert_ok!(Models::register_model(RuntimeOrigin::signed(ALICE), unbatched.clone()));
		let ids = [id(1), crate::model_id(&ALICE, &exact), crate::model_id(&ALICE, &unbatched)];
		assert_eq!(
			ids.map(status),
			[ModelStatus::Active, ModelStatus::Pending, ModelStatus::Pending]
		);
		assert_eq!(ids.iter().collect::<std::collections::BTreeSet<_>>().len(), 3);
	});
}

/// A rejected registration blocks neither its family slot nor its owner: the rejection frees
/// the name and version, and registering the same model again replaces the record.
#[test]
fn a_rejected_registration_blocks_neither_its_id_nor_its_family_slot() {
	ExtBuilder::build_and_execute(|| {
		let mut wrong = params(1);
		wrong.program_root = H256::repeat_byte(0x66);
		assert_ok!(Models::register_model(RuntimeOrigin::signed(ALICE), wrong));
		assert_ok!(Models::reject(RuntimeOrigin::root(), id(1)));
		assert_eq!(status(id(1)), ModelStatus::Rejected);
		assert!(Families::<Test>::get(&params(1).name).is_empty(), "the family slot is free");

		// The owner registers it again, fixed, under the same name and version.
		let deposit = assert_register(ALICE, 1);
		let record = crate::Models::<Test>::get(id(1)).expect("replaced");
		assert_eq!(record.params.program_root, params(1).program_root);
		assert_eq!(held(ALICE), deposit, "the rejected deposit was settled at its rejection");
		activate(1);
		assert!(Models::accepts_claims(&id(1)));

		// A registration that is not rejected cannot be made again.
		assert_noop!(
			Models::register_model(RuntimeOrigin::signed(ALICE), params(1)),
			Error::<Test>::ModelExists
		);
	});
}
