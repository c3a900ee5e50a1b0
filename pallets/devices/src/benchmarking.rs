//! Benchmarks of `pallet-devices`, each call at its worst case: sr25519 proofs, a full device
//! list, a full key history.

use super::*;
use crate::Pallet as Devices;
use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{fungible::Mutate, EnsureOrigin, Get},
	BoundedVec,
};
use frame_system::RawOrigin;
use sp_core::{crypto::KeyTypeId, sr25519};
use sp_runtime::Saturating;

const KEY_TYPE: KeyTypeId = KeyTypeId(*b"bdev");

/// A fresh sr25519 device key in the benchmark keystore.
fn new_key() -> sr25519::Public {
	sp_io::crypto::sr25519_generate(KEY_TYPE, None)
}

fn sign(key: &sr25519::Public, message: &[u8]) -> DeviceSignature {
	DeviceSignature::Sr25519(
		sp_io::crypto::sr25519_sign(KEY_TYPE, key, message).expect("key is in the keystore"),
	)
}

fn max_metadata<T: Config>() -> DeviceMetadataOf<T> {
	DeviceMetadata {
		hardware: HardwareClass::Other,
		description: BoundedVec::truncate_from(
			alloc::vec![b'd'; T::MaxDescriptionLen::get() as usize],
		),
	}
}

fn funded<T: Config>() -> T::AccountId {
	let who: T::AccountId = account("operator", 0, 0);
	let amount = T::MinStake::get()
		.saturating_mul((T::MaxDevicesPerOperator::get() + 2).into())
		.saturating_add(T::Currency::minimum_balance());
	T::Currency::set_balance(&who, amount);
	who
}

/// The rotate message of `device` to `next` now.
fn rotate_message_for<T: Config>(device: &DeviceId, next: sr25519::Public) -> Vec<u8> {
	let registration = crate::Devices::<T>::get(device).map_or(0, |r| r.registration);
	rotate_message(&Devices::<T>::genesis_hash(), device, registration, &DeviceKey::Sr25519(next))
}

/// Registers a new sr25519 device under `operator`; returns its id and current key pair.
fn register<T: Config>(operator: &T::AccountId) -> (DeviceId, sr25519::Public) {
	let public = new_key();
	let id = DeviceKey::Sr25519(public);
	let proof = sign(&public, &Devices::<T>::bind_message_for(&id, operator));
	Devices::<T>::register_device(
		RawOrigin::Signed(operator.clone()).into(),
		id,
		proof,
		max_metadata::<T>(),
		T::MinStake::get(),
	)
	.expect("benchmark device registers");
	(id, public)
}

/// Rotates `device` `times` times; returns the last key.
fn rotate<T: Config>(
	operator: &T::AccountId,
	device: DeviceId,
	mut current: sr25519::Public,
	times: u32,
) -> sr25519::Public {
	for _ in 0..times {
		let next = new_key();
		let message = rotate_message_for::<T>(&device, next);
		Devices::<T>::rotate_key(
			RawOrigin::Signed(operator.clone()).into(),
			device,
			DeviceKey::Sr25519(next),
			sign(&current, &message),
			sign(&next, &message),
		)
		.expect("benchmark rotation is valid");
		current = next;
	}
	current
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register_device() {
		let operator = funded::<T>();
		for _ in 1..T::MaxDevicesPerOperator::get() {
			register::<T>(&operator);
		}
		let public = new_key();
		let id = DeviceKey::Sr25519(public);
		let proof = sign(&public, &Devices::<T>::bind_message_for(&id, &operator));

		#[extrinsic_call]
		_(RawOrigin::Signed(operator), id, proof, max_metadata::<T>(), T::MinStake::get());

		assert!(crate::Devices::<T>::contains_key(id));
	}

	#[benchmark]
	fn rotate_key() {
		let operator = funded::<T>();
		let (id, first) = register::<T>(&operator);
		let current =
			rotate::<T>(&operator, id, first, T::MaxKeyRotations::get().saturating_sub(1));
		let next = new_key();
		let message = rotate_message_for::<T>(&id, next);
		let old_signature = sign(&current, &message);
		let new_signature = sign(&next, &message);

		#[extrinsic_call]
		_(RawOrigin::Signed(operator), id, DeviceKey::Sr25519(next), old_signature, new_signature);

		assert_eq!(Devices::<T>::signing_key(&id), Some(DeviceKey::Sr25519(next)));
	}

	#[benchmark]
	fn suspend() {
		let operator = funded::<T>();
		let (id, _) = register::<T>(&operator);

		#[extrinsic_call]
		_(RawOrigin::Signed(operator), id);

		assert!(!Devices::<T>::is_active(&id));
	}

	#[benchmark]
	fn resume() {
		let operator = funded::<T>();
		let (id, _) = register::<T>(&operator);
		Devices::<T>::suspend(RawOrigin::Signed(operator.clone()).into(), id).expect("active");

		#[extrinsic_call]
		_(RawOrigin::Signed(operator), id);

		assert!(Devices::<T>::is_active(&id));
	}

	#[benchmark]
	fn force_resume() -> Result<(), BenchmarkError> {
		let operator = funded::<T>();
		let (id, _) = register::<T>(&operator);
		for _ in 0..T::MaxLostDisputes::get() {
			Devices::<T>::note_dispute_lost(&id);
		}
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, id);

		assert!(Devices::<T>::is_active(&id));
		Ok(())
	}

	#[benchmark]
	fn deregister() {
		let operator = funded::<T>();
		let (id, _) = register::<T>(&operator);

		#[extrinsic_call]
		_(RawOrigin::Signed(operator), id);

		assert!(!Devices::<T>::is_active(&id));
	}

	/// A device with a full key history, last in a full operator list.
	#[benchmark]
	fn withdraw_stake() {
		let operator = funded::<T>();
		let mut last = None;
		for _ in 0..T::MaxDevicesPerOperator::get() {
			last = Some(register::<T>(&operator));
		}
		let (id, first) = last.expect("at least one device");
		rotate::<T>(&operator, id, first, T::MaxKeyRotations::get());
		Devices::<T>::deregister(RawOrigin::Signed(operator.clone()).into(), id)
			.expect("registered");
		let until =
			frame_system::Pallet::<T>::block_number().saturating_add(T::UnbondingPeriod::get());
		frame_system::Pallet::<T>::set_block_number(until);

		#[extrinsic_call]
		_(RawOrigin::Signed(operator.clone()), id);

		assert!(!crate::Devices::<T>::contains_key(id));
		let remaining: Vec<_> = OperatorDevices::<T>::get(&operator).into_inner();
		assert!(!remaining.contains(&id));
	}

	impl_benchmark_test_suite!(Devices, crate::mock::ExtBuilder::build(), crate::mock::Test);
}
