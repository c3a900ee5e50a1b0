//! Storage migrations of the device registry.

/// Version 0 → 1: device records gain [`DeviceRecord::key_proof`]; every device registered
/// before was proven by its bind signature only, so each gets [`KeyProof::Signature`].
///
/// One pass over `Devices` in one block: fine for the device counts of this chain's networks
/// today; a chain with millions of devices would move it to a multi-block migration.
pub mod v1 {
	use codec::Decode;
	use frame_support::{
		migrations::VersionedMigration,
		traits::{Get, UncheckedOnRuntimeUpgrade},
		weights::Weight,
		BoundedVec,
	};
	use frame_system::pallet_prelude::BlockNumberFor;

	use crate::{
		BalanceOf, Config, DeviceKey, DeviceMetadataOf, DeviceRecord, DeviceStatus, Devices,
		KeyProof, Pallet, Reputation,
	};

	/// A device record as version 0 stored it.
	#[derive(Decode)]
	pub struct DeviceRecordV0<AccountId, Balance, BlockNumber, Metadata, PastKeys> {
		pub operator: AccountId,
		pub key: DeviceKey,
		pub past_keys: PastKeys,
		pub stake: Balance,
		pub status: DeviceStatus<BlockNumber>,
		pub metadata: Metadata,
		pub reputation: Reputation,
		pub registered_at: BlockNumber,
		pub registration: u32,
	}

	type DeviceRecordV0Of<T> = DeviceRecordV0<
		<T as frame_system::Config>::AccountId,
		BalanceOf<T>,
		BlockNumberFor<T>,
		DeviceMetadataOf<T>,
		BoundedVec<DeviceKey, <T as Config>::MaxKeyRotations>,
	>;

	/// The migration without its version check; use [`AddKeyProof`].
	pub struct UncheckedAddKeyProof<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for UncheckedAddKeyProof<T> {
		fn on_runtime_upgrade() -> Weight {
			let mut count = 0u64;
			Devices::<T>::translate::<DeviceRecordV0Of<T>, _>(|_, old| {
				count += 1;
				Some(DeviceRecord {
					operator: old.operator,
					key: old.key,
					past_keys: old.past_keys,
					stake: old.stake,
					status: old.status,
					metadata: old.metadata,
					reputation: old.reputation,
					registered_at: old.registered_at,
					registration: old.registration,
					key_proof: KeyProof::Signature,
				})
			});
			T::DbWeight::get().reads_writes(count, count)
		}
	}

	/// Runs [`UncheckedAddKeyProof`] once, from storage version 0 to 1.
	pub type AddKeyProof<T> = VersionedMigration<
		0,
		1,
		UncheckedAddKeyProof<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;

	#[cfg(test)]
	mod tests {
		use codec::Encode;
		use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};

		use super::*;
		use crate::mock::*;

		#[test]
		fn version_0_records_become_signature_proven_and_stay_readable() {
			ExtBuilder::build().execute_with(|| {
				let device = TestDevice::sr("old phone");
				device.register_with_stake(ALICE, MIN_STAKE);
				let record = crate::Devices::<Test>::get(device.key()).unwrap();
				// Store it as version 0 did: the same fields without the key proof.
				let mut old = record.encode();
				assert_eq!(old.pop(), Some(0), "KeyProof::Signature encodes as one zero byte");
				let key = crate::Devices::<Test>::hashed_key_for(device.key());
				frame_support::storage::unhashed::put_raw(&key, &old);
				StorageVersion::new(0).put::<Pallet<Test>>();
				assert!(crate::Devices::<Test>::get(device.key()).is_none(), "undecodable");

				AddKeyProof::<Test>::on_runtime_upgrade();

				assert_eq!(crate::Devices::<Test>::get(device.key()), Some(record));
				assert_eq!(Pallet::<Test>::on_chain_storage_version(), 1);
				// A second run does nothing.
				let weight = AddKeyProof::<Test>::on_runtime_upgrade();
				let db: frame_support::weights::RuntimeDbWeight =
					<Test as frame_system::Config>::DbWeight::get();
				assert_eq!(weight, db.reads(1));
			});
		}
	}
}

/// Version 1 → 2: revoked serials are keyed by their magnitude
/// ([`edgeproof_key_attestation::chain::serial_magnitude`]), which is what registrations look up
/// from now on. A serial stored with its DER sign byte (`00 c3 …`) is moved to `c3 …`, so a
/// revocation made before the upgrade still holds after it.
///
/// One pass over `RevokedSerials` in one block: the admin writes at most 256 per call, and the
/// lists published today (Google's) hold a few hundred entries.
pub mod v2 {
	use frame_support::{
		migrations::VersionedMigration,
		traits::{Get, UncheckedOnRuntimeUpgrade},
		weights::Weight,
	};

	use crate::{Config, Pallet, RevokedSerials, Serial};

	/// The migration without its version check; use [`NormaliseRevokedSerials`].
	pub struct UncheckedNormaliseRevokedSerials<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for UncheckedNormaliseRevokedSerials<T> {
		fn on_runtime_upgrade() -> Weight {
			let mut read = 0u64;
			let mut moved = alloc::vec::Vec::new();
			for serial in RevokedSerials::<T>::iter_keys() {
				read += 1;
				let magnitude = edgeproof_key_attestation::chain::serial_magnitude(&serial);
				if magnitude.len() < serial.len() {
					moved.push((serial.clone(), Serial::truncate_from(magnitude.to_vec())));
				}
			}
			let writes = 2 * moved.len() as u64;
			for (old, new) in moved {
				RevokedSerials::<T>::remove(old);
				RevokedSerials::<T>::insert(new, ());
			}
			T::DbWeight::get().reads_writes(read, writes)
		}
	}

	/// Runs [`UncheckedNormaliseRevokedSerials`] once, from storage version 1 to 2.
	pub type NormaliseRevokedSerials<T> = VersionedMigration<
		1,
		2,
		UncheckedNormaliseRevokedSerials<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;

	#[cfg(test)]
	mod tests {
		use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};

		use super::*;
		use crate::mock::*;

		#[test]
		fn serials_stored_with_a_sign_byte_move_to_their_magnitude() {
			ExtBuilder::build().execute_with(|| {
				let serial = |bytes: &[u8]| Serial::try_from(bytes.to_vec()).unwrap();
				// As version 1's `set_revoked` stored them: the bytes as given.
				RevokedSerials::<Test>::insert(serial(&[0x00, 0xc3, 0x57]), ());
				RevokedSerials::<Test>::insert(serial(&[0x10, 0x00]), ());
				StorageVersion::new(1).put::<Pallet<Test>>();

				NormaliseRevokedSerials::<Test>::on_runtime_upgrade();

				let mut keys: alloc::vec::Vec<_> = RevokedSerials::<Test>::iter_keys().collect();
				keys.sort();
				assert_eq!(keys, [serial(&[0x10, 0x00]), serial(&[0xc3, 0x57])]);
				assert_eq!(Pallet::<Test>::on_chain_storage_version(), 2);
			});
		}
	}
}
