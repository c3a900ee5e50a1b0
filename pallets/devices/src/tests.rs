//! Unit tests of the device registry: every call, error and event, and the trait other
//! pallets use.

use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
};
use sp_runtime::DispatchError;

use crate::{
	bind_message, mock::*, rotate_message, DeviceRegistry, DeviceStatus, Error, Event, HoldReason,
	KeyHistories, KeyOwner, OperatorDevices, Reputation, SuspensionReason,
};

fn held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::DeviceStake.into(), &who)
}

/// Registers `device` under `operator` with `stake` and checks every effect.
fn assert_register(operator: AccountId, device: &TestDevice, stake: Balance) {
	let free = Balances::balance(&operator);
	let held_before = held(operator);
	assert_ok!(Devices::register_device(
		RuntimeOrigin::signed(operator),
		device.key(),
		device.bind_proof(operator),
		metadata("pixel 9, ort 1.31"),
		stake,
	));
	let record = crate::Devices::<Test>::get(device.key()).expect("stored");
	assert_eq!(record.operator, operator);
	assert_eq!(record.key, device.key());
	assert_eq!(record.stake, stake);
	assert_eq!(record.status, DeviceStatus::Active);
	assert_eq!(record.reputation, Reputation::default());
	assert_eq!(KeyOwner::<Test>::get(device.key()), Some(device.key()));
	assert!(OperatorDevices::<Test>::get(operator).contains(&device.key()));
	assert_eq!(Balances::balance(&operator), free - stake);
	assert_eq!(held(operator), held_before + stake);
	System::assert_last_event(
		Event::DeviceRegistered { device: device.key(), operator, stake }.into(),
	);
}

#[test]
fn sr25519_and_ed25519_devices_register_with_a_bind_proof() {
	ExtBuilder::build_and_execute(|| {
		assert_register(ALICE, &TestDevice::sr("phone"), MIN_STAKE);
		assert_register(ALICE, &TestDevice::ed("robot"), 5 * MIN_STAKE);
		assert_eq!(Devices::devices_of(&ALICE).len(), 2);
		assert!(Devices::is_active(&TestDevice::sr("phone").key()));
		assert_eq!(Devices::operator(&TestDevice::ed("robot").key()), Some(ALICE));
	});
}

#[test]
fn proof_signed_by_another_key_is_rejected() {
	ExtBuilder::build_and_execute(|| {
		let device = TestDevice::sr("phone");
		let thief = TestDevice::sr("thief");
		assert_noop!(
			Devices::register_device(
				RuntimeOrigin::signed(ALICE),
				device.key(),
				thief.bind_proof(ALICE),
				metadata(""),
				MIN_STAKE
			),
			Error::<Test>::BadProof
		);
	});
}

#[test]
fn proof_for_another_operator_is_rejected() {
	ExtBuilder::build_and_execute(|| {
		let device = TestDevice::sr("phone");
		assert_noop!(
			Devices::register_device(
				RuntimeOrigin::signed(BOB),
				device.key(),
				device.bind_proof(ALICE),
				metadata(""),
				MIN_STAKE
			),
			Error::<Test>::BadProof
		);
	});
}

#[test]
fn proof_for_another_chain_is_rejected() {
	ExtBuilder::build_and_execute(|| {
		let device = TestDevice::ed("phone");
		let other_chain = sp_core::H256::repeat_byte(7);
		let proof = device.sign(&bind_message(&other_chain, &ALICE, 0));
		assert_noop!(
			Devices::register_device(
				RuntimeOrigin::signed(ALICE),
				device.key(),
				proof,
				metadata(""),
				MIN_STAKE
			),
			Error::<Test>::BadProof
		);
	});
}

#[test]
fn signature_of_the_other_scheme_is_rejected() {
	ExtBuilder::build_and_execute(|| {
		let sr = TestDevice::sr("phone");
		let ed = TestDevice::ed("phone");
		assert_noop!(
			Devices::register_device(
				RuntimeOrigin::signed(ALICE),
				sr.key(),
				ed.bind_proof(ALICE),
				metadata(""),
				MIN_STAKE
			),
			Error::<Test>::BadProof
		);
	});
}

#[test]
fn duplicate_device_key_is_rejected() {
	ExtBuilder::build_and_execute(|| {
		let device = TestDevice::sr("phone");
		assert_register(ALICE, &device, MIN_STAKE);
		assert_noop!(
			Devices::register_device(
				RuntimeOrigin::signed(BOB),
				device.key(),
				device.bind_proof(BOB),
				metadata(""),
				MIN_STAKE
			),
			Error::<Test>::KeyInUse
		);
	});
}

#[test]
fn stake_below_minimum_or_unaffordable_is_rejected() {
	ExtBuilder::build_and_execute(|| {
		let device = TestDevice::sr("phone");
		assert_noop!(
			Devices::register_device(
				RuntimeOrigin::signed(ALICE),
				device.key(),
				device.bind_proof(ALICE),
				metadata(""),
				MIN_STAKE - 1
			),
			Error::<Test>::StakeTooLow
		);
		assert_noop!(
			Devices::register_device(
				RuntimeOrigin::signed(POOR),
				device.key(),
				device.bind_proof(POOR),
				metadata(""),
				MIN_STAKE
			),
			Error::<Test>::InsufficientBalance
		);
	});
}

#[test]
fn operators_have_a_device_limit() {
	ExtBuilder::build_and_execute(|| {
		for name in ["a", "b", "c"] {
			assert_register(ALICE, &TestDevice::sr(name), MIN_STAKE);
		}
		let fourth = TestDevice::sr("d");
		assert_noop!(
			Devices::register_device(
				RuntimeOrigin::signed(ALICE),
				fourth.key(),
				fourth.bind_proof(ALICE),
				metadata(""),
				MIN_STAKE
			),
			Error::<Test>::TooManyDevices
		);
	});
}

#[test]
fn rotation_needs_both_keys_and_keeps_the_id() {
	ExtBuilder::build_and_execute(|| {
		let device = TestDevice::sr("phone");
		let next = TestDevice::ed("phone-v2");
		assert_register(ALICE, &device, MIN_STAKE);
		let id = device.key();
		let message = rotate_message(&Devices::genesis_hash(), &id, 0, &next.key());

		assert_noop!(
			Devices::rotate_key(
				RuntimeOrigin::signed(ALICE),
				id,
				next.key(),
				next.sign(&message),
				next.sign(&message)
			),
			Error::<Test>::BadProof
		);
		assert_noop!(
			Devices::rotate_key(
				RuntimeOrigin::signed(ALICE),
				id,
				next.key(),
				device.sign(&message),
				device.sign(&message)
			),
			Error::<Test>::BadProof
		);
		assert_noop!(
			Devices::rotate_key(
				RuntimeOrigin::signed(BOB),
				id,
				next.key(),
				device.sign(&message),
				next.sign(&message)
			),
			Error::<Test>::NotOperator
		);
		assert_ok!(Devices::rotate_key(
			RuntimeOrigin::signed(ALICE),
			id,
			next.key(),
			device.sign(&message),
			next.sign(&message)
		));
		System::assert_last_event(Event::KeyRotated { device: id, new_key: next.key() }.into());
		let record = crate::Devices::<Test>::get(id).unwrap();
		assert_eq!(record.key, next.key());
		assert_eq!(record.past_keys.to_vec(), vec![id]);
		assert_eq!(Devices::signing_key(&id), Some(next.key()));
		assert_eq!(KeyOwner::<Test>::get(next.key()), Some(id));
	});
}

#[test]
fn rotating_to_an_existing_key_is_rejected() {
	ExtBuilder::build_and_execute(|| {
		let a = TestDevice::sr("a");
		let b = TestDevice::sr("b");
		assert_register(ALICE, &a, MIN_STAKE);
		assert_register(BOB, &b, MIN_STAKE);
		let message = rotate_message(&Devices::genesis_hash(), &a.key(), 0, &b.key());
		assert_noop!(
			Devices::rotate_key(
				RuntimeOrigin::signed(ALICE),
				a.key(),
				b.key(),
				a.sign(&message),
				b.sign(&message)
			),
			Error::<Test>::KeyInUse
		);
		// Its own id is reserved too: rotating back to it is refused.
		let c = TestDevice::sr("c");
		let m1 = rotate_message(&Devices::genesis_hash(), &a.key(), 0, &c.key());
		assert_ok!(Devices::rotate_key(
			RuntimeOrigin::signed(ALICE),
			a.key(),
			c.key(),
			a.sign(&m1),
			c.sign(&m1)
		));
		let m2 = rotate_message(&Devices::genesis_hash(), &a.key(), 0, &a.key());
		assert_noop!(
			Devices::rotate_key(
				RuntimeOrigin::signed(ALICE),
				a.key(),
				a.key(),
				c.sign(&m2),
				a.sign(&m2)
			),
			Error::<Test>::KeyInUse
		);
	});
}

#[test]
fn rotations_are_bounded() {
	ExtBuilder::build_and_execute(|| {
		let keys = [
			TestDevice::sr("k0"),
			TestDevice::sr("k1"),
			TestDevice::sr("k2"),
			TestDevice::sr("k3"),
		];
		assert_register(ALICE, &keys[0], MIN_STAKE);
		let id = keys[0].key();
		for i in 1..=2 {
			let m = rotate_message(&Devices::genesis_hash(), &id, 0, &keys[i].key());
			assert_ok!(Devices::rotate_key(
				RuntimeOrigin::signed(ALICE),
				id,
				keys[i].key(),
				keys[i - 1].sign(&m),
				keys[i].sign(&m)
			));
		}
		let m = rotate_message(&Devices::genesis_hash(), &id, 0, &keys[3].key());
		assert_noop!(
			Devices::rotate_key(
				RuntimeOrigin::signed(ALICE),
				id,
				keys[3].key(),
				keys[2].sign(&m),
				keys[3].sign(&m)
			),
			Error::<Test>::TooManyRotations
		);
	});
}

#[test]
fn operator_suspends_and_resumes() {
	ExtBuilder::build_and_execute(|| {
		let device = TestDevice::sr("phone");
		assert_register(ALICE, &device, MIN_STAKE);
		let id = device.key();
		assert_noop!(
			Devices::resume(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::NotSuspendedByOperator
		);
		assert_noop!(Devices::suspend(RuntimeOrigin::signed(BOB), id), Error::<Test>::NotOperator);
		assert_ok!(Devices::suspend(RuntimeOrigin::signed(ALICE), id));
		System::assert_last_event(
			Event::DeviceSuspended { device: id, reason: SuspensionReason::Operator }.into(),
		);
		assert!(!Devices::is_active(&id));
		assert_noop!(Devices::suspend(RuntimeOrigin::signed(ALICE), id), Error::<Test>::NotActive);
		assert_ok!(Devices::resume(RuntimeOrigin::signed(ALICE), id));
		System::assert_last_event(Event::DeviceResumed { device: id }.into());
		assert!(Devices::is_active(&id));
	});
}

#[test]
fn actions_on_unknown_devices_fail() {
	ExtBuilder::build_and_execute(|| {
		let id = TestDevice::sr("nobody").key();
		assert_noop!(
			Devices::suspend(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::UnknownDevice
		);
		assert_noop!(
			Devices::resume(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::UnknownDevice
		);
		assert_noop!(
			Devices::deregister(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::UnknownDevice
		);
		assert_noop!(
			Devices::withdraw_stake(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::UnknownDevice
		);
		assert_noop!(
			Devices::force_resume(RuntimeOrigin::root(), id),
			Error::<Test>::UnknownDevice
		);
		assert!(!Devices::is_active(&id));
		assert_eq!(Devices::slash(&id, 10), 0);
	});
}

#[test]
fn losses_slash_and_suspend_and_only_admin_resumes() {
	ExtBuilder::build_and_execute(|| {
		let device = TestDevice::sr("phone");
		assert_register(ALICE, &device, 4 * MIN_STAKE);
		let id = device.key();
		let issuance = Balances::total_issuance();

		assert_eq!(Devices::slash(&id, MIN_STAKE), MIN_STAKE);
		System::assert_last_event(Event::StakeSlashed { device: id, amount: MIN_STAKE }.into());
		assert_eq!(crate::Devices::<Test>::get(id).unwrap().stake, 3 * MIN_STAKE);
		assert_eq!(held(ALICE), 3 * MIN_STAKE);
		assert_eq!(Balances::total_issuance(), issuance - MIN_STAKE);

		Devices::note_dispute_lost(&id);
		assert!(Devices::is_active(&id), "one loss is below MaxLostDisputes = 2");
		Devices::note_dispute_lost(&id);
		System::assert_last_event(
			Event::DeviceSuspended { device: id, reason: SuspensionReason::LostDisputes }.into(),
		);
		assert!(!Devices::is_active(&id));
		assert_noop!(
			Devices::resume(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::NotSuspendedByOperator
		);
		assert_noop!(
			Devices::force_resume(RuntimeOrigin::signed(ALICE), id),
			DispatchError::BadOrigin
		);
		assert_ok!(Devices::force_resume(RuntimeOrigin::root(), id));
		System::assert_last_event(Event::DeviceResumed { device: id }.into());
		assert_noop!(
			Devices::force_resume(RuntimeOrigin::root(), id),
			Error::<Test>::NotSuspendedForLosses
		);

		// A slash never takes more than the stake.
		assert_eq!(Devices::slash(&id, 100 * MIN_STAKE), 3 * MIN_STAKE);
		assert_eq!(held(ALICE), 0);
	});
}

#[test]
fn reputation_counts_outcomes_and_scores_them() {
	ExtBuilder::build_and_execute(|| {
		let device = TestDevice::sr("phone");
		assert_register(ALICE, &device, MIN_STAKE);
		let id = device.key();
		for _ in 0..9 {
			Devices::note_claim_finalized(&id);
		}
		Devices::note_dispute_won(&id);
		let expected = Reputation { claims_finalized: 9, disputes_won: 1, claims_lost: 0 };
		System::assert_last_event(
			Event::ReputationUpdated { device: id, reputation: expected }.into(),
		);
		// 1e6 × 10 / 11
		assert_eq!(expected.score(), 909_090);
		Devices::note_dispute_lost(&id);
		let record = crate::Devices::<Test>::get(id).unwrap();
		assert_eq!(record.reputation.claims_lost, 1);
		// 1e6 × 10 / (10 + 10 + 1)
		assert_eq!(record.reputation.score(), 476_190);
		assert_eq!(Reputation::default().score(), 0);
	});
}

#[test]
fn deregister_unbonds_then_withdraw_returns_stake_and_frees_keys() {
	ExtBuilder::build_and_execute(|| {
		let device = TestDevice::sr("phone");
		let next = TestDevice::sr("phone-v2");
		assert_register(ALICE, &device, 2 * MIN_STAKE);
		let id = device.key();
		rotate_first_key(ALICE, &device, &next);

		assert_noop!(
			Devices::withdraw_stake(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::NotUnbonding
		);
		assert_noop!(
			Devices::deregister(RuntimeOrigin::signed(BOB), id),
			Error::<Test>::NotOperator
		);
		assert_ok!(Devices::deregister(RuntimeOrigin::signed(ALICE), id));
		System::assert_last_event(
			Event::DeviceDeregistered { device: id, until: 1 + UNBONDING }.into(),
		);
		assert!(!Devices::is_active(&id));
		assert_noop!(
			Devices::deregister(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::AlreadyUnbonding
		);
		assert_noop!(
			Devices::resume(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::NotSuspendedByOperator
		);

		// Still slashable while unbonding.
		assert_eq!(Devices::slash(&id, MIN_STAKE / 2), MIN_STAKE / 2);

		System::set_block_number(UNBONDING);
		assert_noop!(
			Devices::withdraw_stake(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::StillUnbonding
		);
		System::set_block_number(1 + UNBONDING);
		assert_noop!(
			Devices::withdraw_stake(RuntimeOrigin::signed(BOB), id),
			Error::<Test>::NotOperator
		);
		let free = Balances::balance(&ALICE);
		assert_ok!(Devices::withdraw_stake(RuntimeOrigin::signed(ALICE), id));
		let returned = 2 * MIN_STAKE - MIN_STAKE / 2;
		System::assert_last_event(
			Event::StakeWithdrawn { device: id, operator: ALICE, amount: returned }.into(),
		);
		assert_eq!(Balances::balance(&ALICE), free + returned);
		assert_eq!(held(ALICE), 0);
		assert!(crate::Devices::<Test>::get(id).is_none());
		assert!(KeyOwner::<Test>::get(id).is_none() && KeyOwner::<Test>::get(next.key()).is_none());
		assert!(OperatorDevices::<Test>::get(ALICE).is_empty());

		// The key is free again: it can be registered anew.
		assert_register(BOB, &device, MIN_STAKE);
	});
}

#[test]
fn withdraw_waits_until_every_claim_of_the_device_is_decided() {
	ExtBuilder::build_and_execute(|| {
		let device = TestDevice::sr("phone");
		assert_register(ALICE, &device, MIN_STAKE);
		let id = device.key();
		MockClaims::set_undecided(id, 1);
		assert_ok!(Devices::deregister(RuntimeOrigin::signed(ALICE), id));
		System::set_block_number(1 + UNBONDING);
		assert_noop!(
			Devices::withdraw_stake(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::ClaimsUndecided
		);
		// The stake stays held, and slashable, until the claim is decided.
		assert_eq!(Devices::slash(&id, MIN_STAKE / 2), MIN_STAKE / 2);
		MockClaims::set_undecided(id, 0);
		assert_ok!(Devices::withdraw_stake(RuntimeOrigin::signed(ALICE), id));
		System::assert_last_event(
			Event::StakeWithdrawn { device: id, operator: ALICE, amount: MIN_STAKE / 2 }.into(),
		);
	});
}

#[test]
fn a_bind_proof_cannot_be_replayed_after_the_device_left() {
	ExtBuilder::build_and_execute(|| {
		let device = TestDevice::sr("phone");
		let first_proof = device.bind_proof(ALICE);
		assert_register(ALICE, &device, MIN_STAKE);
		leave(ALICE, device.key());

		assert_noop!(
			Devices::register_device(
				RuntimeOrigin::signed(ALICE),
				device.key(),
				first_proof,
				metadata(""),
				MIN_STAKE
			),
			Error::<Test>::BadProof
		);
		// The key's holder signs the next nonce: it may come back.
		assert_eq!(KeyHistories::<Test>::get(device.key()).next_nonce, 1);
		assert_register(ALICE, &device, MIN_STAKE);
		assert_eq!(crate::Devices::<Test>::get(device.key()).unwrap().registration, 1);
	});
}

#[test]
fn a_device_suspended_for_losses_comes_back_suspended_with_its_record() {
	ExtBuilder::build_and_execute(|| {
		let device = TestDevice::sr("phone");
		let next = TestDevice::sr("phone-v2");
		assert_register(ALICE, &device, MIN_STAKE);
		let id = device.key();
		rotate_first_key(ALICE, &device, &next);
		Devices::note_claim_finalized(&id);
		Devices::note_dispute_lost(&id);
		Devices::note_dispute_lost(&id);
		assert!(!Devices::is_active(&id));
		let record = crate::Devices::<Test>::get(id).unwrap().reputation;
		leave(ALICE, id);

		// Neither the id nor the key it rotated to comes back clean, under any operator.
		for (key, operator) in [(&device, BOB), (&next, ALICE)] {
			assert_ok!(Devices::register_device(
				RuntimeOrigin::signed(operator),
				key.key(),
				key.bind_proof(operator),
				metadata(""),
				MIN_STAKE
			));
			System::assert_last_event(
				Event::DeviceSuspended {
					device: key.key(),
					reason: SuspensionReason::LostDisputes,
				}
				.into(),
			);
			let back = crate::Devices::<Test>::get(key.key()).unwrap();
			assert_eq!(back.status, DeviceStatus::Suspended(SuspensionReason::LostDisputes));
			assert_eq!(back.reputation, record);
			assert!(!Devices::is_active(&key.key()));
		}
	});
}

#[test]
fn rotation_signatures_cannot_be_replayed_in_a_later_registration() {
	ExtBuilder::build_and_execute(|| {
		let device = TestDevice::sr("phone");
		let stolen = TestDevice::sr("stolen");
		assert_register(ALICE, &device, MIN_STAKE);
		let id = device.key();
		let m = rotate_message(&Devices::genesis_hash(), &id, 0, &stolen.key());
		let (old_signature, new_signature) = (device.sign(&m), stolen.sign(&m));
		assert_ok!(Devices::rotate_key(
			RuntimeOrigin::signed(ALICE),
			id,
			stolen.key(),
			old_signature.clone(),
			new_signature.clone()
		));
		leave(ALICE, id);
		assert_register(ALICE, &device, MIN_STAKE);

		assert_noop!(
			Devices::rotate_key(
				RuntimeOrigin::signed(ALICE),
				id,
				stolen.key(),
				old_signature,
				new_signature
			),
			Error::<Test>::BadProof
		);
	});
}
