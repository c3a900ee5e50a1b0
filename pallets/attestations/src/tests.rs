//! Unit tests of the attestation pallet: every call, error and event, the expiry and prune
//! queues under load, and the trait the dispute pallet uses.

use codec::Encode;
use edgeproof_canon::{DType, Tensor};
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
	BoundedVec,
};
use pallet_devices::{DeviceRegistry, Reputation};
use pallet_models::ModelId;
use sp_core::{Pair, H256};
use sp_runtime::{BuildStorage, DispatchError};

use crate::{
	claim_message, decode_tensors, mock::*, ClaimId, ClaimRegistry, ClaimStatus, Claims, Error,
	Event, ExpiryCursor, HoldReason, LastNonce, Payloads, PendingCount, PruneHead, PruneTail,
	Settlement, CLAIM_MESSAGE_LEN,
};

type Payload = BoundedVec<u8, frame_support::traits::ConstU32<4_096>>;

fn held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::ClaimBond.into(), &who)
}

fn claim_info(claim: ClaimId) -> Option<crate::ClaimInfoOf<Test>> {
	<Attestations as ClaimRegistry<_, _, _>>::claim(claim)
}

fn status(claim: ClaimId) -> Option<ClaimStatus> {
	Claims::<Test>::get(claim).map(|c| c.status)
}

fn reputation(device: &TestDevice) -> Reputation {
	pallet_devices::Devices::<Test>::get(device.key()).expect("registered").reputation
}

fn stake(device: &TestDevice) -> Balance {
	pallet_devices::Devices::<Test>::get(device.key()).expect("registered").stake
}

/// An active model (seed 1) and an active sr25519 device of ALICE.
fn setup() -> (ModelId, TestDevice) {
	let model = register_model(1, true);
	let device = TestDevice::sr("phone");
	device.register(ALICE);
	(model, device)
}

fn submit_with(
	operator: AccountId,
	device: &TestDevice,
	model: ModelId,
	input: Payload,
	output: Payload,
	nonce: u64,
) -> Result<(), DispatchError> {
	let signature = device.sign_claim(model, &input, &output, nonce);
	Attestations::submit(
		RuntimeOrigin::signed(operator),
		device.key(),
		model,
		input,
		output,
		nonce,
		signature,
	)
}

/// Submits a valid claim of `device` with `nonce` by `operator`, checks every effect, and
/// returns its id.
fn assert_submit(operator: AccountId, device: &TestDevice, model: ModelId, nonce: u64) -> ClaimId {
	let free = Balances::balance(&operator);
	let held_before = held(operator);
	let claim = crate::NextClaimId::<Test>::get();
	let pending = PendingCount::<Test>::get(device.key());
	assert_ok!(submit_with(operator, device, model, input(), output(), nonce));

	let now = System::block_number();
	let record = Claims::<Test>::get(claim).expect("stored");
	let input_hash = H256(sp_io::hashing::blake2_256(&input()));
	let output_hash = H256(sp_io::hashing::blake2_256(&output()));
	assert_eq!(record.device, device.key());
	assert_eq!(record.operator, operator);
	assert_eq!(record.model, model);
	assert_eq!(record.input_hash, input_hash);
	assert_eq!(record.output_hash, output_hash);
	assert_eq!(record.nonce, nonce);
	assert_eq!(record.bond, CLAIM_BOND);
	assert_eq!(record.submitted_at, now);
	assert_eq!(record.challenge_ends, now + crate::Params::<Test>::get().challenge_period);
	assert_eq!(record.status, ClaimStatus::Pending);
	let payload = Payloads::<Test>::get(claim).expect("payloads kept");
	assert_eq!((payload.input, payload.output), (input(), output()));
	assert_eq!(crate::NextClaimId::<Test>::get(), claim + 1);
	assert_eq!(LastNonce::<Test>::get(device.key()), Some(nonce));
	assert_eq!(PendingCount::<Test>::get(device.key()), pending + 1);
	assert_eq!(Balances::balance(&operator), free - CLAIM_BOND);
	assert_eq!(held(operator), held_before + CLAIM_BOND);
	System::assert_last_event(
		Event::ClaimSubmitted {
			claim,
			device: device.key(),
			operator,
			model,
			input_hash,
			output_hash,
			nonce,
			bond: CLAIM_BOND,
			challenge_ends: record.challenge_ends,
		}
		.into(),
	);
	claim
}

// ---- the claim message ----

/// The worked example of `docs/claim-format.md`.
#[test]
fn claim_message_matches_the_documented_example() {
	let genesis = H256::repeat_byte(0x11);
	let model = H256::repeat_byte(0x22);
	let input = vec![Tensor {
		dtype: DType::F32,
		shape: vec![1, 2],
		data: [1.0f32, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect(),
	}]
	.encode();
	let output =
		vec![Tensor { dtype: DType::I64, shape: vec![1], data: 3i64.to_le_bytes().to_vec() }]
			.encode();
	assert_eq!(hex(&input), "0400080100000002000000200000803f00000040");
	assert_eq!(hex(&output), "04010401000000200300000000000000");
	let input_hash = H256(sp_io::hashing::blake2_256(&input));
	let output_hash = H256(sp_io::hashing::blake2_256(&output));
	assert_eq!(hex(input_hash.as_bytes()), INPUT_HASH);
	assert_eq!(hex(output_hash.as_bytes()), OUTPUT_HASH);

	// The device is the example's signing key, as an ed25519 device id.
	let key = sp_core::ed25519::Pair::from_string("//device", None).expect("valid seed");
	assert_eq!(hex(key.public().as_ref()), PUBLIC);
	let device = pallet_devices::DeviceKey::Ed25519(key.public());
	let message = claim_message(&genesis, &device, &model, &input_hash, &output_hash, 7);
	assert_eq!(message.len(), CLAIM_MESSAGE_LEN);
	assert_eq!(&message[..15], b"edgeproof/claim");
	assert_eq!(hex(&message), MESSAGE);

	// ed25519 signatures are deterministic, so the example can show one.
	let signature = key.sign(&message);
	assert_eq!(hex(signature.as_ref()), SIGNATURE);
}

const INPUT_HASH: &str = "ed75316e024e5c995286212bd974d86b86fb360c25f0bc52c5cc9a7d8e091dc5";
const OUTPUT_HASH: &str = "24be0fc8c4cea7789f0b814d7716e7110e84a2c813863aee0c4b891678b70a45";
const MESSAGE: &str = concat!(
	"6564676570726f6f662f636c61696d", // "edgeproof/claim"
	"1111111111111111111111111111111111111111111111111111111111111111", // genesis hash
	"00",                             // device id: DeviceKey::Ed25519 ...
	"b8f933fef446ba3ac06ae88058614b8a13d95241b546d90c1787e197d2fb4962", // ... its public key
	"2222222222222222222222222222222222222222222222222222222222222222", // model id
	"ed75316e024e5c995286212bd974d86b86fb360c25f0bc52c5cc9a7d8e091dc5", // input hash
	"24be0fc8c4cea7789f0b814d7716e7110e84a2c813863aee0c4b891678b70a45", // output hash
	"0700000000000000",               // nonce 7, u64 little-endian
);
const PUBLIC: &str = "b8f933fef446ba3ac06ae88058614b8a13d95241b546d90c1787e197d2fb4962";
const SIGNATURE: &str = concat!(
	"322992228e778c74227c966ef3650cb5779c01fc59f050a80892a390f92d32d5",
	"9b87cbd1f33ed6048ad4ce37e23334fee93837d88b5e8b5b0f0324b06e53af08",
);

fn hex(bytes: &[u8]) -> String {
	bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn payloads_decode_only_as_a_whole_list_of_tensors() {
	let tensors = vec![f32_tensor(&[1, 4], 0.0)];
	let mut bytes = tensors.encode();
	assert_eq!(decode_tensors(&bytes), Some(tensors));
	bytes.push(0);
	assert_eq!(decode_tensors(&bytes), None, "trailing bytes");
	assert_eq!(decode_tensors(&[0x04, 0x09]), None, "unknown dtype");
	assert_eq!(decode_tensors(&[0xff; 8]), None, "a list longer than the bytes");
}

// ---- submit ----

#[test]
fn submit_stores_the_claim_and_holds_the_bond() {
	ExtBuilder::build_and_execute(|| {
		let (model, device) = setup();
		assert_eq!(assert_submit(ALICE, &device, model, 0), 0);
		assert_eq!(assert_submit(ALICE, &device, model, 1), 1);
	});
}

#[test]
fn ed25519_devices_submit_too() {
	ExtBuilder::build_and_execute(|| {
		let model = register_model(1, true);
		let device = TestDevice::ed("robot");
		device.register(BOB);
		assert_submit(BOB, &device, model, 42);
	});
}

#[test]
fn batch_within_the_dynamic_batch_is_accepted() {
	ExtBuilder::build_and_execute(|| {
		let (model, device) = setup();
		let input = payload(&[f32_tensor(&[2, 4], 0.0)]);
		let output = payload(&[f32_tensor(&[2, 2], 0.0)]);
		assert_ok!(submit_with(ALICE, &device, model, input, output, 0));
	});
}

#[test]
fn claim_on_an_unknown_model_is_rejected() {
	ExtBuilder::build_and_execute(|| {
		let (_, device) = setup();
		assert_noop!(
			submit_with(ALICE, &device, H256::repeat_byte(9), input(), output(), 0),
			Error::<Test>::UnknownModel
		);
	});
}

#[test]
fn claim_on_a_model_that_is_not_active_is_rejected() {
	ExtBuilder::build_and_execute(|| {
		let (active, device) = setup();
		let pending = register_model(2, false);
		assert_noop!(
			submit_with(ALICE, &device, pending, input(), output(), 0),
			Error::<Test>::ModelNotActive
		);
		assert_ok!(Models::deprecate(RuntimeOrigin::signed(OWNER), active));
		assert_noop!(
			submit_with(ALICE, &device, active, input(), output(), 0),
			Error::<Test>::ModelNotActive
		);
	});
}

#[test]
fn claim_of_an_unregistered_device_is_rejected() {
	ExtBuilder::build_and_execute(|| {
		let (model, _) = setup();
		let stranger = TestDevice::sr("stranger");
		assert_noop!(
			submit_with(ALICE, &stranger, model, input(), output(), 0),
			Error::<Test>::UnknownDevice
		);
	});
}

#[test]
fn claim_by_someone_who_does_not_operate_the_device_is_rejected() {
	ExtBuilder::build_and_execute(|| {
		let (model, device) = setup();
		assert_noop!(
			submit_with(BOB, &device, model, input(), output(), 0),
			Error::<Test>::NotOperator
		);
	});
}

#[test]
fn claim_of_a_suspended_device_is_rejected() {
	ExtBuilder::build_and_execute(|| {
		let (model, device) = setup();
		assert_ok!(Devices::suspend(RuntimeOrigin::signed(ALICE), device.key()));
		assert_noop!(
			submit_with(ALICE, &device, model, input(), output(), 0),
			Error::<Test>::DeviceNotActive
		);
		assert_ok!(Devices::resume(RuntimeOrigin::signed(ALICE), device.key()));
		assert_submit(ALICE, &device, model, 0);
	});
}

#[test]
fn claim_with_replayed_or_lower_nonce_is_rejected() {
	ExtBuilder::build_and_execute(|| {
		let (model, device) = setup();
		assert_submit(ALICE, &device, model, 5);
		assert_noop!(
			submit_with(ALICE, &device, model, input(), output(), 5),
			Error::<Test>::StaleNonce
		);
		assert_noop!(
			submit_with(ALICE, &device, model, input(), output(), 4),
			Error::<Test>::StaleNonce
		);
		assert_submit(ALICE, &device, model, 9);
	});
}

#[test]
fn signature_by_another_key_is_rejected() {
	ExtBuilder::build_and_execute(|| {
		let (model, device) = setup();
		let signature = TestDevice::sr("thief").sign_claim(model, &input(), &output(), 0);
		assert_noop!(
			Attestations::submit(
				RuntimeOrigin::signed(ALICE),
				device.key(),
				model,
				input(),
				output(),
				0,
				signature
			),
			Error::<Test>::BadSignature
		);
	});
}

/// Submits with a signature over `message` instead of the right one.
fn submit_signed_over(
	device: &TestDevice,
	model: ModelId,
	message: Vec<u8>,
) -> Result<(), DispatchError> {
	Attestations::submit(
		RuntimeOrigin::signed(ALICE),
		device.key(),
		model,
		input(),
		output(),
		0,
		device.sign(&message),
	)
}

#[test]
fn signature_for_another_chain_device_model_input_output_or_nonce_is_rejected() {
	ExtBuilder::build_and_execute(|| {
		let (model, device) = setup();
		let genesis = Attestations::genesis_hash();
		let hash = |bytes: &[u8]| H256(sp_io::hashing::blake2_256(bytes));
		let (i, o) = (hash(&input()), hash(&output()));
		let other = payload(&[f32_tensor(&[1, 4], 1.0)]);
		let id = device.key();
		let another = TestDevice::sr("another").key();
		for message in [
			claim_message(&H256::repeat_byte(7), &id, &model, &i, &o, 0),
			claim_message(&genesis, &another, &model, &i, &o, 0),
			claim_message(&genesis, &id, &H256::repeat_byte(2), &i, &o, 0),
			claim_message(&genesis, &id, &model, &hash(&other), &o, 0),
			claim_message(&genesis, &id, &model, &i, &hash(&other), 0),
			claim_message(&genesis, &id, &model, &o, &i, 0),
			claim_message(&genesis, &id, &model, &i, &o, 1),
		] {
			assert_noop!(submit_signed_over(&device, model, message), Error::<Test>::BadSignature);
		}
		let message = claim_message(&genesis, &id, &model, &i, &o, 0);
		assert_ok!(submit_signed_over(&device, model, message));
	});
}

#[test]
fn signature_by_a_rotated_away_key_is_rejected() {
	ExtBuilder::build_and_execute(|| {
		let (model, device) = setup();
		let new = TestDevice::sr("new-key");
		let message =
			pallet_devices::rotate_message(&Devices::genesis_hash(), &device.key(), 0, &new.key());
		assert_ok!(Devices::rotate_key(
			RuntimeOrigin::signed(ALICE),
			device.key(),
			new.key(),
			device.sign(&message),
			new.sign(&message)
		));
		assert_noop!(
			submit_with(ALICE, &device, model, input(), output(), 0),
			Error::<Test>::BadSignature
		);
		let signature = new.sign_claim_as(device.key(), model, &input(), &output(), 0);
		assert_ok!(Attestations::submit(
			RuntimeOrigin::signed(ALICE),
			device.key(),
			model,
			input(),
			output(),
			0,
			signature
		));
	});
}

#[test]
fn undecodable_input_or_output_is_rejected() {
	ExtBuilder::build_and_execute(|| {
		let (model, device) = setup();
		let garbage: Payload = BoundedVec::truncate_from(vec![0xff, 0x01, 0x02]);
		let mut trailing = input().into_inner();
		trailing.push(0);
		let trailing: Payload = BoundedVec::truncate_from(trailing);
		assert_noop!(
			submit_with(ALICE, &device, model, garbage.clone(), output(), 0),
			Error::<Test>::MalformedInput
		);
		assert_noop!(
			submit_with(ALICE, &device, model, trailing, output(), 0),
			Error::<Test>::MalformedInput
		);
		assert_noop!(
			submit_with(ALICE, &device, model, input(), garbage, 0),
			Error::<Test>::MalformedOutput
		);
	});
}

#[test]
fn tensors_that_do_not_match_the_specs_are_rejected() {
	ExtBuilder::build_and_execute(|| {
		let (model, device) = setup();
		let wrong_dtype = Tensor { dtype: DType::I32, ..f32_tensor(&[1, 4], 0.0) };
		let mut short = f32_tensor(&[1, 4], 0.0);
		short.data.pop();
		for (input, output) in [
			(payload(&[f32_tensor(&[1, 5], 0.0)]), output()),
			(payload(&[f32_tensor(&[3, 4], 0.0)]), output()),
			(payload(&[wrong_dtype]), output()),
			(payload(&[short]), output()),
			(payload(&[]), output()),
			(payload(&[f32_tensor(&[1, 4], 0.0), f32_tensor(&[1, 4], 0.0)]), output()),
			(input(), payload(&[f32_tensor(&[1, 3], 0.0)])),
		] {
			assert_noop!(
				submit_with(ALICE, &device, model, input, output, 0),
				Error::<Test>::SpecMismatch
			);
		}
	});
}

#[test]
fn operator_without_funds_for_the_bond_is_rejected() {
	ExtBuilder::build_and_execute(|| {
		let model = register_model(1, true);
		let device = TestDevice::sr("cheap");
		device.register(POOR);
		assert!(Balances::balance(&POOR) < CLAIM_BOND);
		assert_noop!(
			submit_with(POOR, &device, model, input(), output(), 0),
			Error::<Test>::InsufficientBond
		);
	});
}

#[test]
fn claims_on_a_model_dearer_to_check_lock_a_proportionally_larger_bond() {
	// Issue 14, item 3: flooding the checkers with claims must cost in proportion to what
	// checking them costs. With one bond for every model, the funds for three claims on a
	// cheap model also buy three on a model four times 2^30 units of work dearer.
	ExtBuilder::build_and_execute(|| {
		let cheap = register_model(1, true);
		let dear = register_model_with_work(2, true, 4 * crate::WORK_PER_BOND_STEP + 7);
		let dear_bond = CLAIM_BOND + 4 * CLAIM_BOND_PER_WORK;
		assert_eq!(Attestations::claim_bond(4 * crate::WORK_PER_BOND_STEP + 7), dear_bond);
		assert_eq!(Attestations::claim_bond(crate::WORK_PER_BOND_STEP - 1), CLAIM_BOND);
		assert_eq!(
			Attestations::claim_bond(u64::MAX),
			CLAIM_BOND + CLAIM_BOND_PER_WORK * (u64::MAX >> 30)
		);
		// Two devices, as `MaxPendingPerDevice` is 4 here.
		<Balances as frame_support::traits::fungible::Mutate<_>>::set_balance(&POOR, 3 * MIN_STAKE);
		let (device, other) = (TestDevice::sr("flood"), TestDevice::sr("flood-2"));
		device.register(POOR);
		other.register(POOR);
		// Enough for three claims on the cheap model, not for three on the dear one.
		let budget = 3 * CLAIM_BOND + 10;
		<Balances as frame_support::traits::fungible::Mutate<_>>::set_balance(&POOR, budget);
		for nonce in 0..2 {
			assert_ok!(submit_with(POOR, &device, dear, input(), output(), nonce));
			let claim = crate::NextClaimId::<Test>::get() - 1;
			assert_eq!(Claims::<Test>::get(claim).expect("stored").bond, dear_bond);
			System::assert_has_event(
				Event::ClaimSubmitted {
					claim,
					device: device.key(),
					operator: POOR,
					model: dear,
					input_hash: H256(sp_io::hashing::blake2_256(&input())),
					output_hash: H256(sp_io::hashing::blake2_256(&output())),
					nonce,
					bond: dear_bond,
					challenge_ends: Claims::<Test>::get(claim).expect("stored").challenge_ends,
				}
				.into(),
			);
		}
		assert_eq!(held(POOR), 2 * dear_bond);
		assert_noop!(
			submit_with(POOR, &device, dear, input(), output(), 2),
			Error::<Test>::InsufficientBond
		);
		// The same funds cover a third claim on the cheap model.
		<Balances as frame_support::traits::fungible::Mutate<_>>::set_balance(&POOR, budget);
		for nonce in 0..3 {
			assert_ok!(submit_with(POOR, &other, cheap, input(), output(), nonce));
		}
		assert_eq!(held(POOR), 2 * dear_bond + 3 * CLAIM_BOND);
		// Undisputed, every claim gets its own bond back.
		run_to_block(System::block_number() + crate::Params::<Test>::get().challenge_period + 1);
		assert_eq!(held(POOR), 0);
		assert_eq!(Balances::balance(&POOR), budget + 2 * dear_bond);
	});
}

#[test]
fn device_with_too_many_pending_claims_is_rejected() {
	ExtBuilder::build_and_execute(|| {
		let (model, device) = setup();
		for nonce in 0..MAX_PENDING as u64 {
			assert_submit(ALICE, &device, model, nonce);
		}
		assert_noop!(
			submit_with(ALICE, &device, model, input(), output(), 100),
			Error::<Test>::TooManyPending
		);
		// Another device of the same operator is not affected.
		let other = TestDevice::ed("other");
		other.register(ALICE);
		assert_submit(ALICE, &other, model, 0);
		// Once claims are decided, the device has room again.
		run_to_block(1 + CHALLENGE_PERIOD);
		assert_submit(ALICE, &device, model, 100);
	});
}

#[test]
fn unsigned_submit_is_rejected() {
	ExtBuilder::build_and_execute(|| {
		let (model, device) = setup();
		let signature = device.sign_claim(model, &input(), &output(), 0);
		assert_noop!(
			Attestations::submit(
				RuntimeOrigin::none(),
				device.key(),
				model,
				input(),
				output(),
				0,
				signature
			),
			DispatchError::BadOrigin
		);
	});
}

// ---- expiry ----

#[test]
fn undisputed_claim_becomes_final_after_the_challenge_period() {
	ExtBuilder::build_and_execute(|| {
		let (model, device) = setup();
		let claim = assert_submit(ALICE, &device, model, 0);
		let free = Balances::balance(&ALICE);
		run_to_block(CHALLENGE_PERIOD);
		assert_eq!(status(claim), Some(ClaimStatus::Pending), "not before challenge_ends");

		run_to_block(1 + CHALLENGE_PERIOD);
		assert_eq!(status(claim), Some(ClaimStatus::Final));
		assert_eq!(held(ALICE), 0);
		assert_eq!(Balances::balance(&ALICE), free + CLAIM_BOND);
		assert!(!Payloads::<Test>::contains_key(claim));
		assert_eq!(PendingCount::<Test>::get(device.key()), 0);
		assert_eq!(reputation(&device).claims_finalized, 1);
		assert_eq!(ExpiryCursor::<Test>::get(), 1);
		System::assert_last_event(
			Event::ClaimFinalized { claim, device: device.key(), operator: ALICE }.into(),
		);
		assert!(Attestations::claim(claim).is_some(), "kept for the retention period");
	});
}

#[test]
fn expiry_queue_carries_claims_beyond_the_block_budget_to_the_next_blocks() {
	ExtBuilder::build_and_execute(|| {
		let model = register_model(1, true);
		let devices: Vec<TestDevice> =
			(0..2).map(|i| TestDevice::sr(&format!("device-{i}"))).collect();
		for device in &devices {
			device.register(ALICE);
		}
		// 7 claims in block 1, more than two blocks' budget of 3.
		for i in 0..7u64 {
			assert_submit(ALICE, &devices[(i % 2) as usize], model, i);
		}
		System::set_block_number(2);
		let late = assert_submit(ALICE, &devices[1], model, 100);
		let finals = || (0..8).filter(|c| status(*c) == Some(ClaimStatus::Final)).count();

		run_to_block(1 + CHALLENGE_PERIOD);
		assert_eq!(finals(), 3);
		assert_eq!(ExpiryCursor::<Test>::get(), 3);
		run_to_block(2 + CHALLENGE_PERIOD);
		assert_eq!(finals(), 6);
		assert_eq!(status(late), Some(ClaimStatus::Pending), "its turn has not come");
		run_to_block(3 + CHALLENGE_PERIOD);
		assert_eq!(finals(), 8);
		assert_eq!(ExpiryCursor::<Test>::get(), 8);
		assert_eq!(held(ALICE), 0);
		assert_eq!(
			reputation(&devices[0]).claims_finalized + reputation(&devices[1]).claims_finalized,
			8
		);
	});
}

#[test]
fn expiry_stops_at_the_first_claim_not_yet_due() {
	ExtBuilder::build_and_execute(|| {
		let (model, device) = setup();
		assert_submit(ALICE, &device, model, 0);
		System::set_block_number(5);
		assert_submit(ALICE, &device, model, 1);
		run_to_block(1 + CHALLENGE_PERIOD);
		assert_eq!(ExpiryCursor::<Test>::get(), 1);
		assert_eq!(status(1), Some(ClaimStatus::Pending));
		run_to_block(5 + CHALLENGE_PERIOD);
		assert_eq!(status(1), Some(ClaimStatus::Final));
	});
}

// ---- disputes ----

#[test]
fn opening_a_dispute_makes_the_claim_disputed_and_counts_disputes() {
	ExtBuilder::build_and_execute(|| {
		let (model, device) = setup();
		let claim = assert_submit(ALICE, &device, model, 0);
		assert_ok!(Attestations::note_dispute_opened(claim));
		assert_eq!(status(claim), Some(ClaimStatus::Disputed { open: 1 }));
		System::assert_last_event(Event::ClaimDisputed { claim, open: 1 }.into());
		assert_ok!(Attestations::note_dispute_opened(claim));
		assert_eq!(status(claim), Some(ClaimStatus::Disputed { open: 2 }));
		System::assert_last_event(Event::ClaimDisputed { claim, open: 2 }.into());
	});
}

#[test]
fn dispute_after_the_challenge_period_is_refused() {
	ExtBuilder::build_and_execute(|| {
		let (model, device) = setup();
		let claim = assert_submit(ALICE, &device, model, 0);
		// In block `challenge_ends` the claim may no longer be disputed, even before the
		// expiry queue has finalised it.
		System::set_block_number(1 + CHALLENGE_PERIOD);
		assert_eq!(status(claim), Some(ClaimStatus::Pending));
		assert_noop!(Attestations::note_dispute_opened(claim), Error::<Test>::ChallengePeriodOver);
		run_to_block(2 + CHALLENGE_PERIOD);
		assert_noop!(Attestations::note_dispute_opened(claim), Error::<Test>::ClaimDecided);
		assert_noop!(Attestations::note_dispute_opened(99), Error::<Test>::UnknownClaim);
	});
}

#[test]
fn disputed_claim_is_not_finalised_by_expiry_and_becomes_final_when_the_claimant_wins() {
	ExtBuilder::build_and_execute(|| {
		let (model, device) = setup();
		let claim = assert_submit(ALICE, &device, model, 0);
		assert_ok!(Attestations::note_dispute_opened(claim));
		run_to_block(5 + CHALLENGE_PERIOD);
		assert_eq!(status(claim), Some(ClaimStatus::Disputed { open: 1 }));
		assert_eq!(ExpiryCursor::<Test>::get(), 1, "passed by the queue");
		assert_eq!(held(ALICE), CLAIM_BOND);

		assert_eq!(
			Attestations::note_dispute_resolved(claim, true, Some(&CHALLENGER)),
			Ok(Settlement::default())
		);
		assert_eq!(status(claim), Some(ClaimStatus::Final));
		assert_eq!(held(ALICE), 0);
		assert!(!Payloads::<Test>::contains_key(claim));
		assert_eq!(reputation(&device).disputes_won, 1);
		assert_eq!(reputation(&device).claims_finalized, 1);
		System::assert_has_event(Event::ClaimDefended { claim, open: 0 }.into());
		System::assert_last_event(
			Event::ClaimFinalized { claim, device: device.key(), operator: ALICE }.into(),
		);
	});
}

#[test]
fn claimant_winning_within_the_period_makes_the_claim_pending_again() {
	ExtBuilder::build_and_execute(|| {
		let (model, device) = setup();
		let claim = assert_submit(ALICE, &device, model, 0);
		assert_ok!(Attestations::note_dispute_opened(claim));
		run_to_block(3);
		assert_ok!(Attestations::note_dispute_resolved(claim, true, Some(&CHALLENGER)));
		assert_eq!(status(claim), Some(ClaimStatus::Pending));
		System::assert_last_event(Event::ClaimDefended { claim, open: 0 }.into());
		// It may be disputed again while the period runs, and expires normally.
		assert_ok!(Attestations::note_dispute_opened(claim));
		assert_ok!(Attestations::note_dispute_resolved(claim, true, Some(&CHALLENGER)));
		run_to_block(1 + CHALLENGE_PERIOD);
		assert_eq!(status(claim), Some(ClaimStatus::Final));
		assert_eq!(reputation(&device).disputes_won, 2);
	});
}

#[test]
fn claim_stays_disputed_until_every_dispute_is_resolved() {
	ExtBuilder::build_and_execute(|| {
		let (model, device) = setup();
		let claim = assert_submit(ALICE, &device, model, 0);
		assert_ok!(Attestations::note_dispute_opened(claim));
		assert_ok!(Attestations::note_dispute_opened(claim));
		run_to_block(1 + CHALLENGE_PERIOD);
		assert_ok!(Attestations::note_dispute_resolved(claim, true, Some(&CHALLENGER)));
		assert_eq!(status(claim), Some(ClaimStatus::Disputed { open: 1 }));
		System::assert_last_event(Event::ClaimDefended { claim, open: 1 }.into());
		assert_ok!(Attestations::note_dispute_resolved(claim, true, Some(&CHALLENGER)));
		assert_eq!(status(claim), Some(ClaimStatus::Final));
	});
}

#[test]
fn claimant_losing_a_dispute_makes_the_claim_invalid_and_slashes_bond_and_stake() {
	ExtBuilder::build_and_execute(|| {
		let (model, device) = setup();
		let claim = assert_submit(ALICE, &device, model, 0);
		assert_ok!(Attestations::note_dispute_opened(claim));
		let issuance = Balances::total_issuance();
		let challenger = Balances::balance(&CHALLENGER);
		let alice_total = Balances::total_balance(&ALICE);

		let settlement = Attestations::note_dispute_resolved(claim, false, Some(&CHALLENGER));
		let expected = Settlement { rewarded: 50, burned: 50, stake_slashed: MIN_STAKE / 10 };
		assert_eq!(settlement, Ok(expected));
		assert_eq!(status(claim), Some(ClaimStatus::Invalid));
		assert_eq!(held(ALICE), 0);
		assert_eq!(Balances::balance(&CHALLENGER), challenger + 50);
		assert_eq!(Balances::total_balance(&ALICE), alice_total - CLAIM_BOND - MIN_STAKE / 10);
		assert_eq!(Balances::total_issuance(), issuance - 50 - MIN_STAKE / 10);
		assert_eq!(stake(&device), MIN_STAKE - MIN_STAKE / 10);
		assert_eq!(reputation(&device).claims_lost, 1);
		assert!(!Payloads::<Test>::contains_key(claim));
		assert_eq!(PendingCount::<Test>::get(device.key()), 0);
		System::assert_last_event(
			Event::ClaimInvalidated {
				claim,
				device: device.key(),
				beneficiary: Some(CHALLENGER),
				rewarded: 50,
				burned: 50,
				stake_slashed: MIN_STAKE / 10,
			}
			.into(),
		);
		// The expiry queue leaves it alone.
		run_to_block(1 + CHALLENGE_PERIOD);
		assert_eq!(status(claim), Some(ClaimStatus::Invalid));
	});
}

#[test]
fn losing_one_of_several_disputes_invalidates_and_later_results_change_nothing() {
	ExtBuilder::build_and_execute(|| {
		let (model, device) = setup();
		let claim = assert_submit(ALICE, &device, model, 0);
		assert_ok!(Attestations::note_dispute_opened(claim));
		assert_ok!(Attestations::note_dispute_opened(claim));
		assert_ok!(Attestations::note_dispute_resolved(claim, false, Some(&CHALLENGER)));
		assert_eq!(status(claim), Some(ClaimStatus::Invalid));
		let total = Balances::total_issuance();
		assert_eq!(
			Attestations::note_dispute_resolved(claim, false, Some(&CHALLENGER)),
			Ok(Settlement::default())
		);
		assert_eq!(
			Attestations::note_dispute_resolved(claim, true, Some(&CHALLENGER)),
			Ok(Settlement::default())
		);
		assert_eq!(Balances::total_issuance(), total);
		assert_eq!(reputation(&device).claims_lost, 1, "one claim lost once");
		assert_eq!(reputation(&device).disputes_won, 1);
		assert_noop!(Attestations::note_dispute_opened(claim), Error::<Test>::ClaimDecided);
	});
}

#[test]
fn device_losing_too_many_disputes_is_suspended_and_cannot_claim() {
	ExtBuilder::build_and_execute(|| {
		let (model, device) = setup();
		for nonce in 0..2 {
			let claim = assert_submit(ALICE, &device, model, nonce);
			assert_ok!(Attestations::note_dispute_opened(claim));
			assert_ok!(Attestations::note_dispute_resolved(claim, false, Some(&CHALLENGER)));
		}
		assert!(!Devices::is_active(&device.key()));
		assert_noop!(
			submit_with(ALICE, &device, model, input(), output(), 5),
			Error::<Test>::DeviceNotActive
		);
	});
}

#[test]
fn resolution_without_an_open_dispute_is_refused() {
	ExtBuilder::build_and_execute(|| {
		let (model, device) = setup();
		let claim = assert_submit(ALICE, &device, model, 0);
		assert_noop!(
			Attestations::note_dispute_resolved(claim, false, Some(&CHALLENGER)),
			Error::<Test>::NoOpenDispute
		);
		assert_noop!(
			Attestations::note_dispute_resolved(7, true, Some(&CHALLENGER)),
			Error::<Test>::UnknownClaim
		);
		run_to_block(1 + CHALLENGE_PERIOD);
		assert_noop!(
			Attestations::note_dispute_resolved(claim, true, Some(&CHALLENGER)),
			Error::<Test>::NoOpenDispute
		);
	});
}

#[test]
fn reward_reaches_a_beneficiary_without_an_account() {
	ExtBuilder::build_and_execute(|| {
		let (model, device) = setup();
		let claim = assert_submit(ALICE, &device, model, 0);
		assert_ok!(Attestations::note_dispute_opened(claim));
		let nobody: AccountId = 999;
		assert_ok!(Balances::force_set_balance(RuntimeOrigin::root(), nobody, 0));
		// The test ED is 1, so 50 can reach an empty account: the reward is paid.
		let settlement = Attestations::note_dispute_resolved(claim, false, Some(&nobody));
		assert_eq!(settlement.map(|s| s.rewarded + s.burned), Ok(CLAIM_BOND));
	});
}

#[test]
fn without_a_beneficiary_the_whole_bond_is_burned() {
	ExtBuilder::build_and_execute(|| {
		let (model, device) = setup();
		let claim = assert_submit(ALICE, &device, model, 0);
		assert_ok!(Attestations::note_dispute_opened(claim));
		let issuance = Balances::total_issuance();
		let settlement = Attestations::note_dispute_resolved(claim, false, None).expect("open");
		assert_eq!((settlement.rewarded, settlement.burned), (0, CLAIM_BOND));
		assert_eq!(status(claim), Some(ClaimStatus::Invalid));
		assert_eq!(Balances::total_issuance(), issuance - CLAIM_BOND - settlement.stake_slashed);
		assert!(System::events().iter().any(|r| matches!(
			&r.event,
			RuntimeEvent::Attestations(Event::ClaimInvalidated {
				beneficiary: None,
				rewarded: 0,
				..
			})
		)));
	});
}

#[test]
fn claim_info_has_the_decoded_tensors_while_undecided() {
	ExtBuilder::build_and_execute(|| {
		let (model, device) = setup();
		let claim = assert_submit(ALICE, &device, model, 0);
		let info = claim_info(claim).expect("exists");
		assert_eq!(info.record, Claims::<Test>::get(claim).expect("exists"));
		assert_eq!(info.inputs, Some(vec![f32_tensor(&[1, 4], 0.0)]));
		assert_eq!(info.outputs, Some(vec![f32_tensor(&[1, 2], 0.5)]));
		run_to_block(1 + CHALLENGE_PERIOD);
		let info = claim_info(claim).expect("exists");
		assert_eq!((info.inputs, info.outputs), (None, None));
		assert_eq!(claim_info(5), None);
	});
}

// ---- retention ----

#[test]
fn decided_claims_are_pruned_after_the_retention_period() {
	ExtBuilder::build_and_execute(|| {
		let (model, device) = setup();
		let final_claim = assert_submit(ALICE, &device, model, 0);
		let invalid_claim = assert_submit(ALICE, &device, model, 1);
		run_to_block(3);
		assert_ok!(Attestations::note_dispute_opened(invalid_claim));
		assert_ok!(Attestations::note_dispute_resolved(invalid_claim, false, Some(&CHALLENGER)));
		run_to_block(1 + CHALLENGE_PERIOD);
		assert_eq!(PruneTail::<Test>::get(), 2);

		run_to_block(3 + RETENTION_PERIOD - 1);
		assert!(Attestations::claim(invalid_claim).is_some());
		run_to_block(3 + RETENTION_PERIOD);
		assert!(Attestations::claim(invalid_claim).is_none());
		System::assert_last_event(
			Event::ClaimPruned { claim: invalid_claim, status: ClaimStatus::Invalid }.into(),
		);
		assert!(Attestations::claim(final_claim).is_some());
		run_to_block(1 + CHALLENGE_PERIOD + RETENTION_PERIOD);
		assert!(Attestations::claim(final_claim).is_none());
		System::assert_last_event(
			Event::ClaimPruned { claim: final_claim, status: ClaimStatus::Final }.into(),
		);
		assert_eq!(PruneHead::<Test>::get(), 2);
		// The nonce history outlives the records: a replay is still refused.
		assert_noop!(
			submit_with(ALICE, &device, model, input(), output(), 1),
			Error::<Test>::StaleNonce
		);
	});
}

#[test]
fn prune_queue_carries_claims_beyond_the_block_budget_to_the_next_blocks() {
	ExtBuilder::build_and_execute(|| {
		let model = register_model(1, true);
		let devices: Vec<TestDevice> =
			(0..2).map(|i| TestDevice::sr(&format!("device-{i}"))).collect();
		for device in &devices {
			device.register(ALICE);
		}
		for i in 0..5u64 {
			assert_submit(ALICE, &devices[(i % 2) as usize], model, i);
		}
		// Expiry takes two blocks (3 + 2), so the prune dues are two blocks too.
		run_to_block(2 + CHALLENGE_PERIOD);
		assert_eq!(PruneTail::<Test>::get(), 5);
		let first_due = 1 + CHALLENGE_PERIOD + RETENTION_PERIOD;
		run_to_block(first_due);
		assert_eq!(Claims::<Test>::iter().count(), 2);
		run_to_block(first_due + 1);
		assert_eq!(Claims::<Test>::iter().count(), 0);
		assert_eq!(PruneHead::<Test>::get(), 5);
	});
}

#[test]
fn expiry_skips_invalid_claims_already_pruned() {
	ExtBuilder::build_and_execute(|| {
		let (model, device) = setup();
		let claim = assert_submit(ALICE, &device, model, 0);
		assert_ok!(Attestations::note_dispute_opened(claim));
		assert_ok!(Attestations::note_dispute_resolved(claim, false, Some(&CHALLENGER)));
		// Let the prune queue remove it before the expiry queue passes it.
		System::set_block_number(1 + RETENTION_PERIOD);
		assert_eq!(Attestations::prune_due(1 + RETENTION_PERIOD, MAX_PRUNES), 1);
		assert!(Attestations::claim(claim).is_none());
		assert_eq!(Attestations::expire_due(1 + RETENTION_PERIOD, MAX_EXPIRIES), 1);
		assert_eq!(ExpiryCursor::<Test>::get(), 1);
	});
}

// ---- runtime API helpers ----

#[test]
fn pending_claims_lists_undecided_claims_page_by_page() {
	ExtBuilder::build_and_execute(|| {
		let (model, device) = setup();
		for nonce in 0..4 {
			assert_submit(ALICE, &device, model, nonce);
		}
		assert_ok!(Attestations::note_dispute_opened(1));
		assert_ok!(Attestations::note_dispute_resolved(1, false, Some(&CHALLENGER)));
		assert_ok!(Attestations::note_dispute_opened(2));

		let ids = |page: &Vec<(ClaimId, crate::ClaimRecordOf<Test>)>| {
			page.iter().map(|(id, _)| *id).collect::<Vec<_>>()
		};
		let (page, next) = Attestations::pending_claims(0, 2);
		assert_eq!((ids(&page), next), (vec![0, 2], Some(3)));
		let (page, next) = Attestations::pending_claims(3, 2);
		assert_eq!((ids(&page), next), (vec![3], None));
		let (page, next) = Attestations::pending_claims(0, 0);
		assert_eq!((ids(&page), next), (vec![], Some(0)));
		assert_eq!(Attestations::pending_claims(10, 5), (vec![], None));
		assert_eq!(
			Attestations::payload(0).map(|p| (p.input, p.output)),
			Some((input(), output()))
		);
		assert!(Attestations::payload(1).is_none());
	});
}

#[test]
fn the_admin_sets_the_parameters_and_new_claims_use_them() {
	ExtBuilder::build_and_execute(|| {
		let (model, device) = setup();
		assert_eq!(crate::Params::<Test>::get().challenge_period, CHALLENGE_PERIOD);
		let parameters = crate::Parameters {
			challenge_period: 3,
			check_probability: sp_runtime::Perbill::from_percent(25),
		};
		assert_noop!(
			Attestations::set_parameters(RuntimeOrigin::signed(ALICE), parameters),
			DispatchError::BadOrigin
		);
		for bad in [0, MAX_CHALLENGE_PERIOD + 1] {
			assert_noop!(
				Attestations::set_parameters(
					RuntimeOrigin::root(),
					crate::Parameters { challenge_period: bad, ..parameters }
				),
				Error::<Test>::InvalidParameters
			);
		}
		assert_ok!(Attestations::set_parameters(RuntimeOrigin::root(), parameters));
		System::assert_last_event(Event::ParametersSet { parameters }.into());
		assert_eq!(crate::Params::<Test>::get(), parameters);

		let claim = assert_submit(ALICE, &device, model, 1);
		let record = Claims::<Test>::get(claim).expect("stored");
		assert_eq!(record.challenge_ends, record.submitted_at + 3);
		run_to_block(record.challenge_ends);
		assert_eq!(status(claim), Some(ClaimStatus::Final));
	});
}

#[test]
fn the_admin_replaces_the_checkers() {
	ExtBuilder::build_and_execute(|| {
		let checkers: BoundedVec<AccountId, _> = BoundedVec::truncate_from(vec![7, 8, 9]);
		assert_noop!(
			Attestations::set_checkers(RuntimeOrigin::signed(ALICE), checkers.clone()),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Attestations::set_checkers(
				RuntimeOrigin::root(),
				BoundedVec::truncate_from(vec![7, 8, 7])
			),
			Error::<Test>::DuplicateChecker
		);
		assert_ok!(Attestations::set_checkers(RuntimeOrigin::root(), checkers.clone()));
		System::assert_last_event(Event::CheckersSet { checkers: checkers.clone() }.into());
		assert!(Attestations::is_checker(&8));
		assert!(!Attestations::is_checker(&ALICE));
		assert_ok!(Attestations::set_checkers(RuntimeOrigin::root(), BoundedVec::new()));
		assert!(!Attestations::is_checker(&8));
	});
}

#[test]
fn a_genesis_with_more_checkers_than_max_checkers_is_refused() {
	let within = r#"{"checkers":[1,2,3,4],"challengePeriod":null,"checkProbability":null}"#;
	assert!(serde_json::from_str::<crate::GenesisConfig<Test>>(within).is_ok());
	let beyond = r#"{"checkers":[1,2,3,4,5],"challengePeriod":null,"checkProbability":null}"#;
	assert!(serde_json::from_str::<crate::GenesisConfig<Test>>(beyond).is_err());
}

#[test]
fn genesis_sets_checkers_and_parameters() {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	crate::GenesisConfig::<Test> {
		checkers: BoundedVec::truncate_from(vec![9, 7, 9]),
		challenge_period: Some(5),
		check_probability: Some(sp_runtime::Perbill::from_percent(50)),
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	sp_io::TestExternalities::new(storage).execute_with(|| {
		assert_eq!(crate::Checkers::<Test>::get().into_inner(), vec![7, 9]);
		assert_eq!(
			crate::Params::<Test>::get(),
			crate::Parameters {
				challenge_period: 5,
				check_probability: sp_runtime::Perbill::from_percent(50)
			}
		);
	});
}

// ---- no escape from a slash ----

#[test]
fn a_device_cannot_withdraw_its_stake_while_a_claim_is_disputed() {
	ExtBuilder::build_and_execute(|| {
		let (model, device) = setup();
		let id = device.key();
		let claim = assert_submit(ALICE, &device, model, 0);
		assert_ok!(Attestations::note_dispute_opened(claim));
		assert_ok!(Devices::deregister(RuntimeOrigin::signed(ALICE), id));
		// The unbonding period (5 blocks) ends long before the dispute.
		run_to_block(1 + CHALLENGE_PERIOD);
		assert_noop!(
			Devices::withdraw_stake(RuntimeOrigin::signed(ALICE), id),
			pallet_devices::Error::<Test>::ClaimsUndecided
		);

		// The claim loses: the stake is slashed, then the rest may leave.
		let stake_before = stake(&device);
		assert_ok!(Attestations::note_dispute_resolved(claim, false, Some(&CHALLENGER)));
		assert_eq!(status(claim), Some(ClaimStatus::Invalid));
		let slashed = StakeSlash::get() * stake_before;
		assert!(slashed > 0);
		assert_eq!(stake(&device), stake_before - slashed);
		assert_ok!(Devices::withdraw_stake(RuntimeOrigin::signed(ALICE), id));
	});
}

#[test]
fn a_device_cannot_withdraw_its_stake_while_a_claim_is_in_its_challenge_period() {
	ExtBuilder::build_and_execute(|| {
		let (model, device) = setup();
		let id = device.key();
		assert_submit(ALICE, &device, model, 0);
		assert_ok!(Devices::deregister(RuntimeOrigin::signed(ALICE), id));
		run_to_block(CHALLENGE_PERIOD);
		assert_noop!(
			Devices::withdraw_stake(RuntimeOrigin::signed(ALICE), id),
			pallet_devices::Error::<Test>::ClaimsUndecided
		);
		run_to_block(1 + CHALLENGE_PERIOD);
		assert_ok!(Devices::withdraw_stake(RuntimeOrigin::signed(ALICE), id));
	});
}

#[test]
fn a_claim_signed_for_one_device_cannot_be_replayed_for_another_that_uses_the_key() {
	ExtBuilder::build_and_execute(|| {
		let (model, device) = setup();
		let id = device.key();
		let key = TestDevice::sr("rotated-to");
		let message = pallet_devices::rotate_message(&Devices::genesis_hash(), &id, 0, &key.key());
		assert_ok!(Devices::rotate_key(
			RuntimeOrigin::signed(ALICE),
			id,
			key.key(),
			device.sign(&message),
			key.sign(&message)
		));
		// The key signs a claim for the device it serves now; the claim is never submitted.
		let genesis = Attestations::genesis_hash();
		let hash = |bytes: &[u8]| H256(sp_io::hashing::blake2_256(bytes));
		let signed_for_id =
			key.sign(&claim_message(&genesis, &id, &model, &hash(&input()), &hash(&output()), 5));
		assert_ok!(Devices::deregister(RuntimeOrigin::signed(ALICE), id));
		run_to_block(10);
		assert_ok!(Devices::withdraw_stake(RuntimeOrigin::signed(ALICE), id));

		// The freed key becomes another operator's device: the old signature is not its claim.
		key.register(BOB);
		assert_noop!(
			Attestations::submit(
				RuntimeOrigin::signed(BOB),
				key.key(),
				model,
				input(),
				output(),
				5,
				signed_for_id
			),
			Error::<Test>::BadSignature
		);
	});
}

/// A model whose owner requires a TEE takes claims from a device attested in one (its claims
/// signed with P-256, verified in the runtime), and refuses a software key with its own error.
#[test]
fn a_model_that_requires_a_tee_takes_claims_only_from_devices_proven_to_have_one() {
	use edgeproof_key_attestation::test_ca::{LeafSpec, TestCa};
	use pallet_devices::{DeviceKey, KeyAssurance, KeyAttestation, RootKey, Serial};
	ExtBuilder::build_and_execute(|| {
		let model = register_model(1, true);
		assert_ok!(Models::set_key_requirement(
			RuntimeOrigin::signed(OWNER),
			model,
			KeyAssurance::TrustedEnvironment
		));
		let software = TestDevice::p256(3);
		software.register(ALICE);
		assert_noop!(
			submit_with(ALICE, &software, model, input(), output(), 1),
			Error::<Test>::KeyAssuranceTooLow
		);

		let ca = TestCa::new([7; 32]).unwrap();
		let root = RootKey::try_from(ca.root_spki()).unwrap();
		assert_ok!(Devices::set_trusted_roots(
			RuntimeOrigin::root(),
			BoundedVec::try_from(vec![root]).unwrap()
		));
		let tee = TestDevice::p256(4);
		let message = Devices::bind_message_for(&tee.key(), &ALICE);
		let DeviceKey::P256(key) = tee.key() else { unreachable!("a P-256 device") };
		let chain = ca.chain(&LeafSpec::tee(key, &sp_io::hashing::sha2_256(&message))).unwrap();
		let chain: Vec<_> =
			chain.into_iter().map(|der| BoundedVec::try_from(der).unwrap()).collect();
		assert_ok!(Devices::register_attested_device(
			RuntimeOrigin::signed(ALICE),
			tee.key(),
			tee.sign(&message),
			KeyAttestation::Android(BoundedVec::try_from(chain).unwrap()),
			pallet_devices::DeviceMetadata {
				hardware: pallet_devices::HardwareClass::Phone,
				description: BoundedVec::new(),
			},
			MIN_STAKE,
		));
		assert_eq!(Devices::key_assurance(&tee.key()), Some(KeyAssurance::TrustedEnvironment));
		assert_submit(ALICE, &tee, model, 1);

		// Once the chain's intermediate (serial 2) is revoked, the device proves nothing more
		// and is refused; reinstated, it claims again.
		let intermediate = BoundedVec::try_from(vec![Serial::try_from(vec![2]).unwrap()]).unwrap();
		assert_ok!(Devices::set_revoked(RuntimeOrigin::root(), intermediate.clone(), true));
		assert_noop!(
			submit_with(ALICE, &tee, model, input(), output(), 2),
			Error::<Test>::KeyAssuranceTooLow
		);
		assert_ok!(Devices::set_revoked(RuntimeOrigin::root(), intermediate, false));
		assert_submit(ALICE, &tee, model, 2);

		// Raised to a secure element, the TEE device is refused too.
		assert_ok!(Models::set_key_requirement(
			RuntimeOrigin::signed(OWNER),
			model,
			KeyAssurance::SecureElement
		));
		assert_noop!(
			submit_with(ALICE, &tee, model, input(), output(), 3),
			Error::<Test>::KeyAssuranceTooLow
		);
	});
}
