//! Benchmarks of `pallet-attestations`: `submit` by payload size, each expiry and pruning step
//! at its worst (a claim finalised or removed), and the dispute hooks.

use super::*;
use crate::{benchmark_helper::BenchmarkHelper as _, Pallet as Attestations};
use alloc::{vec, vec::Vec};
use codec::Encode;
use edgeproof_canon::{DType, Tensor};
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{fungible::Mutate, EnsureOrigin, Get, Hooks},
	BoundedVec,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use pallet_devices::DeviceSignature;
use pallet_models::ModelId;
use sp_core::{crypto::KeyTypeId, sr25519, H256};
use sp_runtime::Saturating;

const KEY_TYPE: KeyTypeId = KeyTypeId(*b"batt");

/// Most bytes a payload of one U8 tensor of shape `[n]` adds to `n` (list length, dtype, shape,
/// data length).
const TENSOR_OVERHEAD: u32 = 11;

/// One U8 tensor whose payload is at most `bytes` long (and at least `bytes - 3`).
fn u8_tensors(bytes: u32) -> Vec<Tensor> {
	let n = bytes.saturating_sub(TENSOR_OVERHEAD).max(1);
	vec![Tensor { dtype: DType::U8, shape: vec![n], data: vec![7u8; n as usize] }]
}

fn bounded<T: Config>(tensors: &[Tensor]) -> BoundedVec<u8, T::MaxPayloadLen> {
	BoundedVec::truncate_from(tensors.to_vec().encode())
}

/// An operator who can pay `claims` bonds.
fn funded<T: Config>(claims: u32) -> T::AccountId {
	let who: T::AccountId = account("operator", 0, 0);
	let amount = T::ClaimBond::get()
		.saturating_mul((claims + 1).into())
		.saturating_add(T::Currency::minimum_balance());
	T::Currency::mint_into(&who, amount).expect("benchmark operator is funded");
	who
}

/// A fresh active sr25519 device of `operator`.
fn device<T: Config>(
	operator: &T::AccountId,
) -> Result<(DeviceId, sr25519::Public), BenchmarkError> {
	let key = sp_io::crypto::sr25519_generate(KEY_TYPE, None);
	Ok((T::BenchmarkHelper::active_device(operator, KEY_TYPE, key)?, key))
}

fn sign<T: Config>(
	key: &sr25519::Public,
	model: &ModelId,
	input: &[u8],
	output: &[u8],
	nonce: u64,
) -> DeviceSignature {
	let message = claim_message(
		&Attestations::<T>::genesis_hash(),
		&DeviceId::Sr25519(*key),
		model,
		&H256(sp_io::hashing::blake2_256(input)),
		&H256(sp_io::hashing::blake2_256(output)),
		nonce,
	);
	DeviceSignature::Sr25519(
		sp_io::crypto::sr25519_sign(KEY_TYPE, key, &message).expect("key is in the keystore"),
	)
}

/// Submits `n` small claims of `operator` on `model`, using a new device whenever one has
/// `MaxPendingPerDevice` pending claims; returns their ids.
fn submit_claims<T: Config>(
	operator: &T::AccountId,
	model: ModelId,
	n: u32,
) -> Result<Vec<ClaimId>, BenchmarkError> {
	let tensors = u8_tensors(16);
	let (input, output) = (bounded::<T>(&tensors), bounded::<T>(&tensors));
	let per_device = T::MaxPendingPerDevice::get();
	let mut ids = Vec::new();
	let mut current = None;
	for i in 0..n {
		let (id, key) = match current {
			Some(device) if i % per_device != 0 => device,
			_ => {
				let fresh = device::<T>(operator)?;
				current = Some(fresh);
				fresh
			},
		};
		let nonce = (i % per_device) as u64;
		let signature = sign::<T>(&key, &model, &input, &output, nonce);
		ids.push(NextClaimId::<T>::get());
		Attestations::<T>::submit(
			RawOrigin::Signed(operator.clone()).into(),
			id,
			model,
			input.clone(),
			output.clone(),
			nonce,
			signature,
		)
		.map_err(|_| BenchmarkError::Stop("a benchmark claim was refused"))?;
	}
	Ok(ids)
}

fn small_model<T: Config>() -> Result<ModelId, BenchmarkError> {
	let tensors = u8_tensors(16);
	T::BenchmarkHelper::active_model(&tensors, &tensors)
}

fn set_block<T: Config>(n: BlockNumberFor<T>) {
	frame_system::Pallet::<T>::set_block_number(n);
}

/// One disputed claim of a fresh device, and its id.
fn disputed_claim<T: Config>() -> Result<(T::AccountId, ClaimId), BenchmarkError> {
	let operator = funded::<T>(1);
	let id = first(submit_claims::<T>(&operator, small_model::<T>()?, 1)?)?;
	Attestations::<T>::note_dispute_opened(id)
		.map_err(|_| BenchmarkError::Stop("the claim is not pending"))?;
	Ok((operator, id))
}

fn first(ids: Vec<ClaimId>) -> Result<ClaimId, BenchmarkError> {
	ids.first().copied().ok_or(BenchmarkError::Stop("no claim was submitted"))
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// A first claim with an `i`-byte input and an `o`-byte output, each one U8 tensor.
	#[benchmark]
	fn submit(
		i: Linear<16, { T::MaxPayloadLen::get() }>,
		o: Linear<16, { T::MaxPayloadLen::get() }>,
	) -> Result<(), BenchmarkError> {
		let (inputs, outputs) = (u8_tensors(i), u8_tensors(o));
		let model = T::BenchmarkHelper::active_model(&inputs, &outputs)?;
		let operator = funded::<T>(1);
		let (device, key) = device::<T>(&operator)?;
		let (input, output) = (bounded::<T>(&inputs), bounded::<T>(&outputs));
		let signature = sign::<T>(&key, &model, &input, &output, 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(operator), device, model, input, output, 0, signature);

		assert_eq!(NextClaimId::<T>::get(), 1);
		assert!(Payloads::<T>::contains_key(0));
		Ok(())
	}

	/// `n` due pending claims finalised, then one not yet due read and left.
	#[benchmark]
	fn expire_claims(
		n: Linear<0, { T::MaxExpiriesPerBlock::get() }>,
	) -> Result<(), BenchmarkError> {
		let operator = funded::<T>(n + 1);
		let model = small_model::<T>()?;
		let start = frame_system::Pallet::<T>::block_number();
		submit_claims::<T>(&operator, model, n)?;
		set_block::<T>(start.saturating_add(1u32.into()));
		submit_claims::<T>(&operator, model, 1)?;
		let now = start.saturating_add(Params::<T>::get().challenge_period);
		set_block::<T>(now);

		#[block]
		{
			Attestations::<T>::expire_due(now, T::MaxExpiriesPerBlock::get());
		}

		assert_eq!(ExpiryCursor::<T>::get(), n as ClaimId);
		assert_eq!(PruneTail::<T>::get(), n as u64);
		Ok(())
	}

	/// `n` due decided claims removed, then one not yet due read and left.
	#[benchmark]
	fn prune_claims(n: Linear<0, { T::MaxPrunesPerBlock::get() }>) -> Result<(), BenchmarkError> {
		let operator = funded::<T>(n + 1);
		let model = small_model::<T>()?;
		let start = frame_system::Pallet::<T>::block_number();
		submit_claims::<T>(&operator, model, n)?;
		set_block::<T>(start.saturating_add(1u32.into()));
		submit_claims::<T>(&operator, model, 1)?;
		let expiry = start.saturating_add(Params::<T>::get().challenge_period);
		Attestations::<T>::expire_due(expiry, n);
		Attestations::<T>::expire_due(expiry.saturating_add(1u32.into()), 1);
		let now = expiry.saturating_add(T::RetentionPeriod::get());
		set_block::<T>(now);

		#[block]
		{
			Attestations::<T>::prune_due(now, T::MaxPrunesPerBlock::get());
		}

		assert_eq!(PruneHead::<T>::get(), n as u64);
		assert_eq!(Claims::<T>::iter().count(), 1);
		Ok(())
	}

	#[benchmark]
	fn note_dispute_opened() -> Result<(), BenchmarkError> {
		let operator = funded::<T>(1);
		let id = first(submit_claims::<T>(&operator, small_model::<T>()?, 1)?)?;

		#[block]
		{
			Attestations::<T>::note_dispute_opened(id).expect("claim is pending");
		}

		assert_eq!(Claims::<T>::get(id).map(|c| c.status), Some(ClaimStatus::Disputed { open: 1 }));
		Ok(())
	}

	/// The claimant lost: the bond is paid out and burned, the device slashed.
	#[benchmark]
	fn note_dispute_lost() -> Result<(), BenchmarkError> {
		let (_, id) = disputed_claim::<T>()?;
		let beneficiary: T::AccountId = account("challenger", 0, 0);
		T::Currency::mint_into(&beneficiary, T::Currency::minimum_balance())
			.expect("beneficiary is funded");

		#[block]
		{
			Attestations::<T>::note_dispute_resolved(id, false, Some(&beneficiary))
				.expect("a dispute is open");
		}

		assert_eq!(Claims::<T>::get(id).map(|c| c.status), Some(ClaimStatus::Invalid));
		Ok(())
	}

	/// The claimant won the last dispute after the challenge period: the claim is final.
	#[benchmark]
	fn note_dispute_won() -> Result<(), BenchmarkError> {
		let (_, id) = disputed_claim::<T>()?;
		let ends = Claims::<T>::get(id).map(|c| c.challenge_ends).expect("claim exists");
		set_block::<T>(ends);
		Attestations::<T>::on_initialize(ends);
		let beneficiary: T::AccountId = account("challenger", 0, 0);

		#[block]
		{
			Attestations::<T>::note_dispute_resolved(id, true, Some(&beneficiary))
				.expect("a dispute is open");
		}

		assert_eq!(Claims::<T>::get(id).map(|c| c.status), Some(ClaimStatus::Final));
		Ok(())
	}

	#[benchmark]
	fn set_parameters() -> Result<(), BenchmarkError> {
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let parameters = Parameters {
			challenge_period: T::MaxChallengePeriod::get(),
			check_probability: sp_runtime::Perbill::from_percent(50),
		};

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, parameters);

		assert_eq!(Params::<T>::get(), parameters);
		Ok(())
	}

	/// `n` checkers (sorted and checked for duplicates).
	#[benchmark]
	fn set_checkers(n: Linear<0, { T::MaxCheckers::get() }>) -> Result<(), BenchmarkError> {
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let checkers: Vec<T::AccountId> = (0..n).map(|i| account("checker", i, 0)).collect();
		let checkers = BoundedVec::truncate_from(checkers);

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, checkers.clone());

		assert_eq!(Checkers::<T>::get(), checkers);
		Ok(())
	}

	impl_benchmark_test_suite!(Attestations, crate::mock::ExtBuilder::build(), crate::mock::Test);
}
