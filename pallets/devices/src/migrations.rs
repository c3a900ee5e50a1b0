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
