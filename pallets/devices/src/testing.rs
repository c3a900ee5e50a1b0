//! Test helpers for the mock runtimes of this pallet and of the pallets that build on it
//! (feature `std`).

use core::marker::PhantomData;

use frame_support::BoundedVec;
use frame_system::RawOrigin;
use sp_core::{ed25519, sr25519, Pair};

use crate::{BalanceOf, Config, DeviceKey, DeviceMetadata, DeviceSignature, HardwareClass, Pallet};

/// A device key pair of either scheme, from a seed phrase, for runtime `T`.
pub struct TestDevice<T> {
	pair: TestPair,
	_runtime: PhantomData<T>,
}

#[derive(Clone)]
enum TestPair {
	Sr(sr25519::Pair),
	Ed(ed25519::Pair),
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

	pub fn key(&self) -> DeviceKey {
		match &self.pair {
			TestPair::Sr(p) => DeviceKey::Sr25519(p.public()),
			TestPair::Ed(p) => DeviceKey::Ed25519(p.public()),
		}
	}

	pub fn sign(&self, message: &[u8]) -> DeviceSignature {
		match &self.pair {
			TestPair::Sr(p) => DeviceSignature::Sr25519(p.sign(message)),
			TestPair::Ed(p) => DeviceSignature::Ed25519(p.sign(message)),
		}
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
