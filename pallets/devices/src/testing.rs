//! Test helpers for the mock runtimes of this pallet and of the pallets that build on it
//! (feature `std`).

use core::marker::PhantomData;

use frame_support::BoundedVec;
use frame_system::RawOrigin;
use sp_core::{ed25519, sr25519, Pair};

use edgeproof_key_attestation::{
	p256::ecdsa::SigningKey,
	signature::{p256_public, sign_p256},
};

use crate::{
	BalanceOf, Config, DeviceKey, DeviceMetadata, DeviceSignature, HardwareClass, P256Public,
	Pallet,
};

std::thread_local! {
	static NOW: core::cell::Cell<u64> = const { core::cell::Cell::new(0) };
}

/// The mock runtimes' wall clock ([`Config::UnixTime`]): 0 until a test sets it.
pub struct TestTime;

impl TestTime {
	/// Sets the time, in seconds since the Unix epoch.
	pub fn set(secs: u64) {
		NOW.with(|now| now.set(secs));
	}
}

impl frame_support::traits::UnixTime for TestTime {
	fn now() -> core::time::Duration {
		core::time::Duration::from_secs(NOW.with(|now| now.get()))
	}
}

/// A device key pair of either scheme, from a seed phrase, for runtime `T`.
pub struct TestDevice<T> {
	pair: TestPair,
	_runtime: PhantomData<T>,
}

#[derive(Clone)]
enum TestPair {
	Sr(sr25519::Pair),
	Ed(ed25519::Pair),
	P256(SigningKey, P256Public),
}

impl<T> Clone for TestDevice<T> {
	fn clone(&self) -> Self {
		Self { pair: self.pair.clone(), _runtime: PhantomData }
	}
}

impl<T: Config> TestDevice<T> {
	/// An sr25519 device from `//seed`.
	pub fn sr(seed: &str) -> Self {
		let pair = sr25519::Pair::from_string(&format!("//{seed}"), None).expect("valid seed");
		Self { pair: TestPair::Sr(pair), _runtime: PhantomData }
	}

	/// An ed25519 device from `//seed`.
	pub fn ed(seed: &str) -> Self {
		let pair = ed25519::Pair::from_string(&format!("//{seed}"), None).expect("valid seed");
		Self { pair: TestPair::Ed(pair), _runtime: PhantomData }
	}

	/// A software P-256 device (a stand-in for a key in secure hardware) whose secret scalar is
	/// `seed` repeated: any seed from 1 to 255 is a valid scalar.
	pub fn p256(seed: u8) -> Self {
		let secret = SigningKey::from_bytes(&[seed; 32].into()).expect("a valid scalar");
		let public = p256_public(&secret);
		Self { pair: TestPair::P256(secret, public), _runtime: PhantomData }
	}

	pub fn key(&self) -> DeviceKey {
		match &self.pair {
			TestPair::Sr(p) => DeviceKey::Sr25519(p.public()),
			TestPair::Ed(p) => DeviceKey::Ed25519(p.public()),
			TestPair::P256(_, public) => DeviceKey::P256(*public),
		}
	}

	pub fn sign(&self, message: &[u8]) -> DeviceSignature {
		match &self.pair {
			TestPair::Sr(p) => DeviceSignature::Sr25519(p.sign(message)),
			TestPair::Ed(p) => DeviceSignature::Ed25519(p.sign(message)),
			TestPair::P256(secret, _) => DeviceSignature::P256(sign_p256(secret, message)),
		}
	}

	/// `message` signed as an App Attest key of the app `app_id_hash` signs it
	/// (`generateAssertion`, the key's `counter`-th signature). Only a P-256 device has one.
	pub fn assertion(
		&self,
		message: &[u8],
		app_id_hash: &[u8; 32],
		counter: u32,
	) -> Option<DeviceSignature> {
		use edgeproof_key_attestation::apple;
		let TestPair::P256(secret, _) = &self.pair else { return None };
		let authenticator_data = apple::assertion_data(app_id_hash, counter);
		let signature = apple::sign_assertion(secret, message, &authenticator_data);
		Some(DeviceSignature::AppAttest { authenticator_data, signature })
	}

	/// The bind proof for `operator`, with the key's next registration nonce.
	pub fn bind_proof(&self, operator: T::AccountId) -> DeviceSignature {
		self.sign(&Pallet::<T>::bind_message_for(&self.key(), &operator))
	}

	/// Registers the device under `operator` with `stake` and no description.
	pub fn register_with_stake(&self, operator: T::AccountId, stake: BalanceOf<T>) {
		let proof = self.bind_proof(operator.clone());
		Pallet::<T>::register_device(
			RawOrigin::Signed(operator).into(),
			self.key(),
			proof,
			DeviceMetadata { hardware: HardwareClass::Phone, description: BoundedVec::new() },
			stake,
		)
		.expect("test device registers");
	}
}
