//! Benchmarks of `pallet-devices`, each call at its worst case: sr25519 proofs, a full device
//! list, a full key history, a full list of trusted roots. What a P-256 signature or an
//! attestation chain's certificates cost on top is measured apart (`verify_*`), on Google's real
//! root certificates, and added by the calls' weight functions.

use super::*;
use crate::Pallet as Devices;
use alloc::vec::Vec;
use edgeproof_key_attestation::{
	android::verify_certificate_signature,
	roots,
	signature::{sign_p256, verify_p256},
	test_ca::{self, LeafSpec, TestCa},
};
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

	#[benchmark]
	fn register_attested_device() -> Result<(), BenchmarkError> {
		let operator = funded::<T>();
		for _ in 1..T::MaxDevicesPerOperator::get() {
			register::<T>(&operator);
		}
		let ca = TestCa::new([7; 32]).map_err(|_| "test CA")?;
		// A full list of roots, the chain's last.
		let google = roots::spki(roots::GOOGLE_RSA_2016).ok_or("Google's root")?;
		let mut trusted = alloc::vec![google; T::MaxTrustedRoots::get() as usize - 1];
		trusted.push(ca.root_spki());
		let trusted: Vec<RootKey> = trusted
			.into_iter()
			.map(|key| RootKey::try_from(key).map_err(|_| "root fits"))
			.collect::<Result<_, _>>()?;
		TrustedRoots::<T>::put(BoundedVec::try_from(trusted).map_err(|_| "roots fit")?);
		let (secret, public) = test_ca::software_key([0x42; 32]).map_err(|_| "key")?;
		let id = DeviceKey::P256(public);
		let message = Devices::<T>::bind_message_for(&id, &operator);
		let proof = DeviceSignature::P256(sign_p256(&secret, &message));
		let chain = ca
			.chain(&LeafSpec::tee(public, &sp_io::hashing::sha2_256(&message)))
			.map_err(|_| "chain")?
			.into_iter()
			.map(|der| BoundedVec::try_from(der).map_err(|_| "certificate fits"))
			.collect::<Result<Vec<_>, _>>()?;
		let attestation =
			KeyAttestation::Android(BoundedVec::try_from(chain).map_err(|_| "chain fits")?);

		#[extrinsic_call]
		_(
			RawOrigin::Signed(operator),
			id,
			proof,
			attestation,
			max_metadata::<T>(),
			T::MinStake::get(),
		);

		let record = crate::Devices::<T>::get(id).ok_or("registered")?;
		assert_eq!(record.key_proof.assurance(), KeyAssurance::TrustedEnvironment);
		Ok(())
	}

	#[benchmark]
	fn set_trusted_roots(
		n: Linear<0, { T::MaxTrustedRoots::get() }>,
	) -> Result<(), BenchmarkError> {
		let origin = T::AdminOrigin::try_successful_origin().map_err(|_| "admin origin")?;
		let google = roots::spki(roots::GOOGLE_RSA_2016).ok_or("Google's root")?;
		let key = RootKey::try_from(google).map_err(|_| "root fits")?;
		let roots = BoundedVec::try_from(alloc::vec![key; n as usize]).map_err(|_| "roots fit")?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, roots);

		assert_eq!(TrustedRoots::<T>::get().len(), n as usize);
		Ok(())
	}

	#[benchmark]
	fn set_revoked(n: Linear<0, MAX_REVOCATIONS_PER_CALL>) -> Result<(), BenchmarkError> {
		let origin = T::AdminOrigin::try_successful_origin().map_err(|_| "admin origin")?;
		let serials: Vec<Serial> = (0..n)
			.map(|i| {
				let mut serial = alloc::vec![0x7f; 21];
				serial[17..].copy_from_slice(&i.to_be_bytes());
				Serial::try_from(serial).map_err(|_| "serial fits")
			})
			.collect::<Result<_, _>>()?;
		let serials = BoundedVec::try_from(serials).map_err(|_| "serials fit")?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, serials, true);

		assert_eq!(RevokedSerials::<T>::iter().count(), n as usize);
		Ok(())
	}

	/// A P-256 signature over a message of a claim's size.
	#[benchmark]
	fn verify_p256_signature() -> Result<(), BenchmarkError> {
		let (secret, public) = test_ca::software_key([0x42; 32]).map_err(|_| "key")?;
		let message = [0x5a; 256];
		let signature = sign_p256(&secret, &message);
		let valid;

		#[block]
		{
			valid = verify_p256(&public, &message, &signature);
		}

		assert!(valid);
		Ok(())
	}

	/// Google's RSA-4096 root certificate's signature under its own key (both decoded).
	#[benchmark]
	fn verify_rsa_4096_certificate() {
		let verified;

		#[block]
		{
			verified = verify_certificate_signature(roots::GOOGLE_RSA_2016, roots::GOOGLE_RSA_2016);
		}

		assert_eq!(verified, Ok(()));
	}

	/// Google's P-384 root certificate's signature under its own key (both decoded).
	#[benchmark]
	fn verify_p384_certificate() {
		let verified;

		#[block]
		{
			verified = verify_certificate_signature(roots::GOOGLE_P384_CA1, roots::GOOGLE_P384_CA1);
		}

		assert_eq!(verified, Ok(()));
	}

	impl_benchmark_test_suite!(Devices, crate::mock::ExtBuilder::build(), crate::mock::Test);
}
