//! # Device identity (`pallet-devices`)
//!
//! ## Overview
//!
//! Binds device keys to operator accounts. A device is the key it signs claims with (sr25519,
//! ed25519, or ECDSA P-256 as secure hardware keeps them); to register it, the operator submits
//! the key with the key's signature over [`bind_message`] — so nobody can register a key they
//! do not hold — and a stake that is held from the operator's balance. A P-256 key may also
//! prove that it lives in secure hardware with an Android Key Attestation chain or an Apple App
//! Attest object, verified here against the trusted roots in storage ([`KeyProof`],
//! [`KeyAssurance`]). Other pallets ask this one whether a device may claim, who operates it,
//! and tell it about finalised claims and disputes, which build the device's [`Reputation`]; a
//! lost dispute slashes the stake and, after [`Config::MaxLostDisputes`] losses, suspends the
//! device.
//!
//! ## Interface
//!
//! - [`Pallet::register_device`]: bind a key to the caller and hold its stake.
//! - [`Pallet::register_attested_device`]: the same for a P-256 key with its attestation (an
//!   Android chain or an App Attest object).
//! - [`Pallet::set_trusted_roots`], [`Pallet::set_revoked`]: the admin origin keeps the
//!   attestation roots and the revoked certificate serials.
//! - [`Pallet::rotate_key`]: move a device to a new key (both keys sign).
//! - [`Pallet::suspend`], [`Pallet::resume`]: the operator pauses and resumes a device.
//! - [`Pallet::force_resume`]: the admin origin lifts a suspension for lost disputes.
//! - [`Pallet::deregister`], [`Pallet::withdraw_stake`]: leave, wait the unbonding period,
//!   get the stake back.
//! - [`DeviceRegistry`]: the trait the attestation and dispute pallets use.
//! - [`runtime_api::DevicesApi`]: a device's record, an operator's devices, a score.
//!
//! ## Terms
//!
//! - *Device id*: the key a device registered with. It stays the device's id after rotations;
//!   every key a device ever used stays reserved ([`KeyOwner`]) until the device is removed.
//! - *Unbonding*: after `deregister` the stake stays held, and slashable for disputes still
//!   running, for [`Config::UnbondingPeriod`] blocks, which covers the longest a claim can
//!   stay undecided ([`Config::LongestClaimDecision`]); `withdraw_stake` also waits until every
//!   claim of the device is decided ([`DeviceClaims`]).
//! - *Registration nonce*: how often a key registered as a device before. The bind proof signs
//!   it, so a proof serves one registration only. When a device is removed, each of its keys
//!   keeps the device's reputation ([`KeyHistories`]): a key that registers again starts from
//!   that record, suspended if it had lost `MaxLostDisputes` disputes.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(test)]
mod attestation_tests;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
pub mod migrations;
#[cfg(test)]
mod mock;
#[cfg(feature = "std")]
pub mod testing;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

use alloc::vec::Vec;
use frame_support::{traits::fungible::Inspect, BoundedVec};

/// The log target of this pallet.
pub const LOG_TARGET: &str = "runtime::devices";

/// Most serials one `set_revoked` call takes.
pub const MAX_REVOCATIONS_PER_CALL: u32 = 256;

/// A device's id: the key it registered with.
pub type DeviceId = DeviceKey;

/// Balance type of the currency stakes are held in.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// Device metadata with the runtime's bounds.
pub type DeviceMetadataOf<T> = DeviceMetadata<<T as Config>::MaxDescriptionLen>;

/// A stored device record.
pub type DeviceRecordOf<T> = DeviceRecord<
	<T as frame_system::Config>::AccountId,
	BalanceOf<T>,
	frame_system::pallet_prelude::BlockNumberFor<T>,
	DeviceMetadataOf<T>,
	frame_support::BoundedVec<DeviceKey, <T as Config>::MaxKeyRotations>,
>;

/// What the device registry asks of the claims pallet: a device may leave only once every claim
/// it made is decided, so no slash can be escaped by withdrawing the stake.
pub trait DeviceClaims {
	/// How many claims of `device` are undecided (in their challenge period or disputed).
	fn undecided(device: &DeviceId) -> u32;
}

/// No claims pallet: devices never have undecided claims.
impl DeviceClaims for () {
	fn undecided(_: &DeviceId) -> u32 {
		0
	}
}

/// What other pallets (attestations, disputes) may ask and tell about devices.
pub trait DeviceRegistry<AccountId, Balance> {
	/// The operator of a device, if registered.
	fn operator(device: &DeviceId) -> Option<AccountId>;
	/// The key the device signs with now.
	fn signing_key(device: &DeviceId) -> Option<DeviceKey>;
	/// May the device submit claims (registered and `Active`)?
	fn is_active(device: &DeviceId) -> bool;
	/// Where the device's key is proven to live, if registered: what its attestation proved,
	/// or `Unproven` once a certificate of that attestation is revoked.
	fn key_assurance(device: &DeviceId) -> Option<KeyAssurance>;
	/// The most [`Self::key_assurance`] reads beyond the device's record.
	fn key_assurance_weight() -> frame_support::weights::Weight;
	/// What verifying a device signature of this kind costs beyond an sr25519 one.
	fn signature_weight(signature: &DeviceSignature) -> frame_support::weights::Weight;
	/// Burns up to `amount` of the device's stake; returns what was burned.
	fn slash(device: &DeviceId, amount: Balance) -> Balance;
	/// A claim of the device became final.
	fn note_claim_finalized(device: &DeviceId);
	/// The device won a dispute.
	fn note_dispute_won(device: &DeviceId);
	/// The device lost a dispute about one of its claims (suspends it at the limit).
	fn note_dispute_lost(device: &DeviceId);
}

/// What an attestation proved at registration.
#[derive(Default)]
struct Checked {
	proof: KeyProof,
	/// How many certificate signatures were verified (what the call is charged for).
	signatures: u32,
	/// The attesting certificates' serials that can be revoked, leaf first.
	serials: BoundedVec<Serial, MaxChainLen>,
}

impl Checked {
	fn new(proof: KeyProof, signatures: usize, serials: &[Vec<u8>]) -> Self {
		// A serial too long for the revocation list can never be revoked: nothing to keep.
		let serials = serials.iter().filter_map(|s| Serial::try_from(s.clone()).ok());
		Self {
			proof,
			signatures: signatures as u32,
			serials: BoundedVec::truncate_from(serials.collect()),
		}
	}
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{InspectHold, Mutate, MutateHold},
			tokens::{Fortitude, Precision},
			UnixTime,
		},
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::{
		traits::{Saturating, Zero},
		ArithmeticError, Perbill,
	};

	/// The in-code storage version.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(2);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A device's stake.
		#[codec(index = 0)]
		DeviceStake,
	}

	/// Defaults for the configurations of mock runtimes (`#[derive_impl]`).
	pub mod config_preludes {
		use super::*;
		use frame_support::{
			derive_impl,
			traits::{ConstU32, ConstU64},
		};

		/// The values the test runtimes of this and the dependent pallets share; each mock
		/// sets the types only a runtime can give (currency, origin, claims) and overrides
		/// what its tests need.
		pub struct TestDefaultConfig;

		#[derive_impl(frame_system::config_preludes::TestDefaultConfig, no_aggregated_types)]
		impl frame_system::DefaultConfig for TestDefaultConfig {}

		#[frame_support::register_default_impl(TestDefaultConfig)]
		impl DefaultConfig for TestDefaultConfig {
			#[inject_runtime_type]
			type RuntimeHoldReason = ();
			type MinStake = ConstU64<1_000>;
			type UnbondingPeriod = ConstU64<5>;
			type LongestClaimDecision = ConstU64<5>;
			type MaxLostDisputes = ConstU32<2>;
			type MaxDevicesPerOperator = ConstU32<16>;
			type MaxKeyRotations = ConstU32<2>;
			type MaxDescriptionLen = ConstU32<64>;
			type MaxTrustedRoots = ConstU32<8>;
			type WeightInfo = ();
		}
	}

	#[pallet::config(with_default)]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The currency stakes are held in.
		#[pallet::no_default]
		type Currency: Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ InspectHold<Self::AccountId>;

		/// The overarching hold reason.
		#[pallet::no_default_bounds]
		type RuntimeHoldReason: From<HoldReason>;

		/// May lift a suspension for lost disputes.
		#[pallet::no_default]
		type AdminOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// The least stake a device needs.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type MinStake: Get<BalanceOf<Self>>;

		/// Blocks between `deregister` and `withdraw_stake`; at least `LongestClaimDecision`.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type UnbondingPeriod: Get<BlockNumberFor<Self>>;

		/// The longest a claim can stay undecided: the longest challenge period plus the
		/// longest dispute game the parameters allow.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type LongestClaimDecision: Get<BlockNumberFor<Self>>;

		/// The devices' claims, which must all be decided before a stake is withdrawn.
		#[pallet::no_default]
		type Claims: DeviceClaims;

		/// Lost disputes after which a device is suspended.
		#[pallet::constant]
		type MaxLostDisputes: Get<u32>;

		/// Most devices per operator.
		#[pallet::constant]
		type MaxDevicesPerOperator: Get<u32>;

		/// Most key rotations per device.
		#[pallet::constant]
		type MaxKeyRotations: Get<u32>;

		/// Longest description, in bytes.
		#[pallet::constant]
		type MaxDescriptionLen: Get<u32>;

		/// Most trusted attestation roots.
		#[pallet::constant]
		type MaxTrustedRoots: Get<u32>;

		/// The wall-clock time certificates' validity is checked against (the block's
		/// timestamp).
		#[pallet::no_default]
		type UnixTime: UnixTime;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
	}

	/// Registered devices by id.
	#[pallet::storage]
	pub type Devices<T: Config> = StorageMap<_, Blake2_128Concat, DeviceId, DeviceRecordOf<T>>;

	/// The device each key (current or rotated away from) belongs to.
	#[pallet::storage]
	pub type KeyOwner<T: Config> = StorageMap<_, Blake2_128Concat, DeviceKey, DeviceId>;

	/// What each key that was ever registered, or used by a removed device, brings to its next
	/// registration: the bind nonce and the reputation it left with.
	#[pallet::storage]
	pub type KeyHistories<T: Config> =
		StorageMap<_, Blake2_128Concat, DeviceKey, KeyHistory, ValueQuery>;

	/// The devices of each operator.
	#[pallet::storage]
	pub type OperatorDevices<T: Config> = StorageMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		BoundedVec<DeviceId, T::MaxDevicesPerOperator>,
		ValueQuery,
	>;

	/// The attestation roots a key attestation chain must end in: DER SubjectPublicKeyInfo.
	/// Genesis sets Google's hardware attestation roots; the admin origin may change them.
	#[pallet::storage]
	pub type TrustedRoots<T: Config> =
		StorageValue<_, BoundedVec<RootKey, T::MaxTrustedRoots>, ValueQuery>;

	/// Serial numbers of revoked attestation certificates (their magnitudes): a chain holding
	/// one is refused, and a device attested through one loses its assurance.
	#[pallet::storage]
	pub type RevokedSerials<T: Config> = StorageMap<_, Blake2_128Concat, Serial, ()>;

	/// The serials of the certificates that attested a device's current key, leaf first: kept
	/// while the key's attestation counts, so that a later revocation of any of them takes the
	/// device's assurance away ([`DeviceRegistry::key_assurance`]).
	#[pallet::storage]
	pub type AttestationSerials<T: Config> =
		StorageMap<_, Blake2_128Concat, DeviceId, BoundedVec<Serial, MaxChainLen>>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The trusted attestation roots (DER SubjectPublicKeyInfo each).
		pub trusted_roots: BoundedVec<RootKey, T::MaxTrustedRoots>,
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for root in &self.trusted_roots {
				assert!(
					edgeproof_key_attestation::roots::is_spki(root),
					"a genesis trusted root is not a DER SubjectPublicKeyInfo"
				);
			}
			TrustedRoots::<T>::put(&self.trusted_roots);
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A device was registered and its stake held.
		DeviceRegistered { device: DeviceId, operator: T::AccountId, stake: BalanceOf<T> },
		/// A device now signs with `new_key`.
		KeyRotated { device: DeviceId, new_key: DeviceKey },
		/// A device was suspended.
		DeviceSuspended { device: DeviceId, reason: SuspensionReason },
		/// A suspended device was resumed.
		DeviceResumed { device: DeviceId },
		/// A device was deregistered; its stake unbonds until `until`.
		DeviceDeregistered { device: DeviceId, until: BlockNumberFor<T> },
		/// A device's stake was returned and the device removed.
		StakeWithdrawn { device: DeviceId, operator: T::AccountId, amount: BalanceOf<T> },
		/// `amount` of a device's stake was burned.
		StakeSlashed { device: DeviceId, amount: BalanceOf<T> },
		/// A device's reputation changed.
		ReputationUpdated { device: DeviceId, reputation: Reputation },
		/// A registered device's key was proven by an attestation.
		KeyAttested { device: DeviceId, proof: KeyProof },
		/// The trusted attestation roots were replaced.
		TrustedRootsSet { count: u32 },
		/// `count` certificate serials were revoked (or, `revoked: false`, reinstated).
		SerialsRevoked { count: u32, revoked: bool },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The key is already a device's (current or past) key.
		KeyInUse,
		/// The proof is not the device key's signature over the bind (or rotate) message for
		/// this chain and operator.
		BadProof,
		/// The stake is below `MinStake`.
		StakeTooLow,
		/// The operator cannot afford the stake.
		InsufficientBalance,
		/// The operator has `MaxDevicesPerOperator` devices.
		TooManyDevices,
		/// No device with this id.
		UnknownDevice,
		/// Only the device's operator may do this.
		NotOperator,
		/// The device is not active.
		NotActive,
		/// The device is not suspended by its operator.
		NotSuspendedByOperator,
		/// The device is not suspended for lost disputes.
		NotSuspendedForLosses,
		/// The device is not unbonding.
		NotUnbonding,
		/// The device is already unbonding.
		AlreadyUnbonding,
		/// The unbonding period has not ended.
		StillUnbonding,
		/// The device has rotated keys `MaxKeyRotations` times.
		TooManyRotations,
		/// Some claims of the device are still undecided; withdraw once they are.
		ClaimsUndecided,
		/// Only a P-256 key can be attested.
		NotP256,
		/// The key attestation was refused; the detail says why.
		Attestation(AttestationError),
		/// A trusted root is not a DER SubjectPublicKeyInfo.
		MalformedRootKey,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(!T::MinStake::get().is_zero(), "a device must stake something");
			assert!(T::MaxLostDisputes::get() > 0, "suspending before any loss makes no sense");
			assert!(T::MaxDevicesPerOperator::get() > 0, "operators need room for a device");
			assert!(
				T::UnbondingPeriod::get() >= T::LongestClaimDecision::get(),
				"the unbonding period must outlast every claim of the device"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Register a device key under the caller and hold its stake.
		///
		/// - `origin`: signed; becomes the operator.
		/// - `key`: the device's public key (its id).
		/// - `proof`: the key's signature over [`bind_message`]`(genesis_hash, operator,
		///   nonce)`, `nonce` being the key's [`KeyHistory::next_nonce`] (0 for a new key).
		/// - `metadata`: hardware class and description.
		/// - `stake`: held from the operator; at least `MinStake`.
		///
		/// A key that was registered before starts with the reputation it left with, and
		/// suspended (`LostDisputes`) if it had lost `MaxLostDisputes` disputes.
		///
		/// Errors: `KeyInUse`, `BadProof`, `StakeTooLow`, `TooManyDevices`,
		/// `InsufficientBalance`. Emits `DeviceRegistered`, and `DeviceSuspended` for a key
		/// that comes back suspended.
		#[pallet::call_index(0)]
		#[pallet::weight(
			T::WeightInfo::register_device().saturating_add(Pallet::<T>::signature_weight(proof))
		)]
		pub fn register_device(
			origin: OriginFor<T>,
			key: DeviceKey,
			proof: DeviceSignature,
			metadata: DeviceMetadataOf<T>,
			stake: BalanceOf<T>,
		) -> DispatchResult {
			let operator = ensure_signed(origin)?;
			Self::do_register(operator, key, proof, None, metadata, stake).map(|_| ())
		}

		/// Move a device to a new signing key. The device keeps its id and record; the new key
		/// is proven by its signature only ([`KeyProof::Signature`]), whatever proved the old one.
		///
		/// - `origin`: signed by the operator.
		/// - `new_key`: the key to sign with from now on; never used by any device.
		/// - `old_signature`, `new_signature`: the current and the new key's signatures over
		///   [`rotate_message`]`(genesis_hash, device, registration, new_key)`, `registration`
		///   being the device record's registration nonce.
		///
		/// Errors: `UnknownDevice`, `NotOperator`, `KeyInUse`, `BadProof`,
		/// `TooManyRotations`. Emits `KeyRotated`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::rotate_key()
			.saturating_add(Pallet::<T>::signature_weight(old_signature))
			.saturating_add(Pallet::<T>::signature_weight(new_signature)))]
		pub fn rotate_key(
			origin: OriginFor<T>,
			device: DeviceId,
			new_key: DeviceKey,
			old_signature: DeviceSignature,
			new_signature: DeviceSignature,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut record = Self::operated_by(&device, &who)?;
			ensure!(!KeyOwner::<T>::contains_key(new_key), Error::<T>::KeyInUse);
			let message =
				rotate_message(&Self::genesis_hash(), &device, record.registration, &new_key);
			ensure!(
				record.key.verify(&message, &old_signature)
					&& new_key.verify(&message, &new_signature),
				Error::<T>::BadProof
			);
			record.past_keys.try_push(record.key).map_err(|_| Error::<T>::TooManyRotations)?;
			record.key = new_key;
			record.key_proof = KeyProof::Signature;
			AttestationSerials::<T>::remove(device);
			KeyOwner::<T>::insert(new_key, device);
			Devices::<T>::insert(device, record);
			Self::deposit_event(Event::KeyRotated { device, new_key });
			Ok(())
		}

		/// Pause an active device: it may not submit claims until resumed.
		///
		/// - `origin`: signed by the operator.
		///
		/// Errors: `UnknownDevice`, `NotOperator`, `NotActive`. Emits `DeviceSuspended`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::suspend())]
		pub fn suspend(origin: OriginFor<T>, device: DeviceId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut record = Self::operated_by(&device, &who)?;
			ensure!(record.status == DeviceStatus::Active, Error::<T>::NotActive);
			record.status = DeviceStatus::Suspended(SuspensionReason::Operator);
			Devices::<T>::insert(device, record);
			Self::deposit_event(Event::DeviceSuspended {
				device,
				reason: SuspensionReason::Operator,
			});
			Ok(())
		}

		/// Resume a device its operator suspended.
		///
		/// - `origin`: signed by the operator.
		///
		/// Errors: `UnknownDevice`, `NotOperator`, `NotSuspendedByOperator` (a device
		/// suspended for lost disputes needs `force_resume`). Emits `DeviceResumed`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::resume())]
		pub fn resume(origin: OriginFor<T>, device: DeviceId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut record = Self::operated_by(&device, &who)?;
			ensure!(
				record.status == DeviceStatus::Suspended(SuspensionReason::Operator),
				Error::<T>::NotSuspendedByOperator
			);
			record.status = DeviceStatus::Active;
			Devices::<T>::insert(device, record);
			Self::deposit_event(Event::DeviceResumed { device });
			Ok(())
		}

		/// Lift a suspension for lost disputes (the lost count stays in the reputation).
		///
		/// - `origin`: [`Config::AdminOrigin`].
		///
		/// Errors: `UnknownDevice`, `NotSuspendedForLosses`. Emits `DeviceResumed`.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::force_resume())]
		pub fn force_resume(origin: OriginFor<T>, device: DeviceId) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			let mut record = Devices::<T>::get(device).ok_or(Error::<T>::UnknownDevice)?;
			ensure!(
				record.status == DeviceStatus::Suspended(SuspensionReason::LostDisputes),
				Error::<T>::NotSuspendedForLosses
			);
			record.status = DeviceStatus::Active;
			Devices::<T>::insert(device, record);
			Self::deposit_event(Event::DeviceResumed { device });
			Ok(())
		}

		/// Deregister a device. It stops claiming at once; its stake stays held, and
		/// slashable, for `UnbondingPeriod` blocks.
		///
		/// - `origin`: signed by the operator.
		///
		/// Errors: `UnknownDevice`, `NotOperator`, `AlreadyUnbonding`.
		/// Emits `DeviceDeregistered`.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::deregister())]
		pub fn deregister(origin: OriginFor<T>, device: DeviceId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut record = Self::operated_by(&device, &who)?;
			ensure!(
				!matches!(record.status, DeviceStatus::Unbonding { .. }),
				Error::<T>::AlreadyUnbonding
			);
			let until =
				frame_system::Pallet::<T>::block_number().saturating_add(T::UnbondingPeriod::get());
			record.status = DeviceStatus::Unbonding { until };
			Devices::<T>::insert(device, record);
			Self::deposit_event(Event::DeviceDeregistered { device, until });
			Ok(())
		}

		/// After the unbonding period, once every claim of the device is decided, release what
		/// is left of the stake and remove the device. Its keys are free again; each keeps the
		/// device's reputation in [`KeyHistories`] for its next registration.
		///
		/// - `origin`: signed by the operator.
		///
		/// Errors: `UnknownDevice`, `NotOperator`, `NotUnbonding`, `StillUnbonding`,
		/// `ClaimsUndecided`. Emits `StakeWithdrawn`.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::withdraw_stake())]
		pub fn withdraw_stake(origin: OriginFor<T>, device: DeviceId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let record = Self::operated_by(&device, &who)?;
			let DeviceStatus::Unbonding { until } = record.status else {
				return Err(Error::<T>::NotUnbonding.into());
			};
			ensure!(frame_system::Pallet::<T>::block_number() >= until, Error::<T>::StillUnbonding);
			ensure!(T::Claims::undecided(&device).is_zero(), Error::<T>::ClaimsUndecided);

			let amount = T::Currency::release(
				&HoldReason::DeviceStake.into(),
				&who,
				record.stake,
				Precision::BestEffort,
			)?;
			let keys = record.past_keys.iter().chain([&record.key, &device]);
			for key in keys {
				KeyOwner::<T>::remove(key);
				KeyHistories::<T>::mutate(key, |history| history.reputation = record.reputation);
			}
			OperatorDevices::<T>::mutate(&who, |devices| devices.retain(|d| *d != device));
			AttestationSerials::<T>::remove(device);
			Devices::<T>::remove(device);
			Self::deposit_event(Event::StakeWithdrawn { device, operator: who, amount });
			Ok(())
		}

		/// Register a P-256 device key with proof that it lives in secure hardware. As
		/// [`Pallet::register_device`], and:
		///
		/// - `attestation`: for `key`, either an Android Key Attestation chain whose challenge
		///   is SHA-256 of the [`bind_message`] `proof` signs, or an Apple App Attest object
		///   whose client data hash is that hash. The chain must end in (Android) or be signed
		///   by (App Attest) a [`TrustedRoots`] key, hold no [`RevokedSerials`] serial and be
		///   valid at the block's time.
		///
		/// The record's [`KeyProof`] says what the attestation proved (and so the device's
		/// [`KeyAssurance`]): the security level, boot state and root of an Android chain; the
		/// environment, app id hash and root of an App Attest object.
		///
		/// The weight charged first is the most the attestation can need
		/// ([`Pallet::attested_registration_weight`]); the unused part is refunded.
		///
		/// Errors: those of `register_device`, `NotP256`, `Attestation(reason)`. Emits
		/// `DeviceRegistered` and `KeyAttested`.
		#[pallet::call_index(7)]
		#[pallet::weight(Pallet::<T>::attested_registration_weight(attestation, None))]
		pub fn register_attested_device(
			origin: OriginFor<T>,
			key: DeviceKey,
			proof: DeviceSignature,
			attestation: KeyAttestation,
			metadata: DeviceMetadataOf<T>,
			stake: BalanceOf<T>,
		) -> DispatchResultWithPostInfo {
			let operator = ensure_signed(origin)?;
			let checked =
				Self::do_register(operator, key, proof, Some(&attestation), metadata, stake)?;
			Ok(Some(Self::attested_registration_weight(&attestation, Some(checked))).into())
		}

		/// Replace the trusted attestation roots.
		///
		/// - `origin`: [`Config::AdminOrigin`].
		/// - `roots`: DER SubjectPublicKeyInfo of each root.
		///
		/// Devices already registered keep their records. Errors: `MalformedRootKey`.
		/// Emits `TrustedRootsSet`.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::set_trusted_roots(roots.len() as u32))]
		pub fn set_trusted_roots(
			origin: OriginFor<T>,
			roots: BoundedVec<RootKey, T::MaxTrustedRoots>,
		) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			ensure!(
				roots.iter().all(|root| edgeproof_key_attestation::roots::is_spki(root)),
				Error::<T>::MalformedRootKey
			);
			let count = roots.len() as u32;
			TrustedRoots::<T>::put(roots);
			Self::deposit_event(Event::TrustedRootsSet { count });
			Ok(())
		}

		/// Revoke attestation certificate serials (`revoked: true`) or reinstate them.
		///
		/// - `origin`: [`Config::AdminOrigin`].
		/// - `serials`: serial numbers, big-endian, at most 256; with or without the DER
		///   INTEGER's leading zero (sign) byte: both name the same certificate, and the
		///   serial is stored without it.
		///
		/// Registrations check it, and a device attested through a revoked serial counts as
		/// `Unproven` ([`DeviceRegistry::key_assurance`]) while it stays revoked; its record
		/// keeps what was proven. Emits `SerialsRevoked`.
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::set_revoked(serials.len() as u32))]
		pub fn set_revoked(
			origin: OriginFor<T>,
			serials: BoundedVec<Serial, ConstU32<MAX_REVOCATIONS_PER_CALL>>,
			revoked: bool,
		) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			let count = serials.len() as u32;
			// A magnitude is never longer than the serial it is taken from: each one has a key.
			for serial in serials.iter().filter_map(|serial| Self::serial_key(serial)) {
				if revoked {
					RevokedSerials::<T>::insert(serial, ());
				} else {
					RevokedSerials::<T>::remove(serial);
				}
			}
			Self::deposit_event(Event::SerialsRevoked { count, revoked });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// `register_device` and `register_attested_device`: checks the bind proof, and the
		/// attestation when there is one, then holds the stake and stores the device. Returns
		/// how many certificate signatures the attestation needed checked.
		fn do_register(
			operator: T::AccountId,
			key: DeviceKey,
			proof: DeviceSignature,
			attestation: Option<&KeyAttestation>,
			metadata: DeviceMetadataOf<T>,
			stake: BalanceOf<T>,
		) -> Result<u32, DispatchError> {
			ensure!(!KeyOwner::<T>::contains_key(key), Error::<T>::KeyInUse);
			let mut history = KeyHistories::<T>::get(key);
			let registration = history.next_nonce;
			let message = bind_message(&Self::genesis_hash(), &operator, registration);
			ensure!(key.verify(&message, &proof), Error::<T>::BadProof);
			let checked = match attestation {
				None => Checked::default(),
				Some(attestation) => Self::check_attestation(&key, &message, attestation)?,
			};
			let key_proof = checked.proof;
			ensure!(stake >= T::MinStake::get(), Error::<T>::StakeTooLow);
			history.next_nonce = registration.checked_add(1).ok_or(ArithmeticError::Overflow)?;
			let mut devices = OperatorDevices::<T>::get(&operator);
			devices.try_push(key).map_err(|_| Error::<T>::TooManyDevices)?;
			T::Currency::hold(&HoldReason::DeviceStake.into(), &operator, stake)
				.map_err(|_| Error::<T>::InsufficientBalance)?;

			let suspended = history.reputation.claims_lost >= T::MaxLostDisputes::get();
			let status = if suspended {
				DeviceStatus::Suspended(SuspensionReason::LostDisputes)
			} else {
				DeviceStatus::Active
			};
			OperatorDevices::<T>::insert(&operator, devices);
			KeyOwner::<T>::insert(key, key);
			KeyHistories::<T>::insert(key, history);
			if key_proof != KeyProof::Signature {
				AttestationSerials::<T>::insert(key, checked.serials);
			}
			Devices::<T>::insert(
				key,
				DeviceRecord {
					operator: operator.clone(),
					key,
					past_keys: BoundedVec::new(),
					stake,
					status,
					metadata,
					reputation: history.reputation,
					registered_at: frame_system::Pallet::<T>::block_number(),
					registration,
					key_proof,
				},
			);
			Self::deposit_event(Event::DeviceRegistered { device: key, operator, stake });
			if key_proof != KeyProof::Signature {
				Self::deposit_event(Event::KeyAttested { device: key, proof: key_proof });
			}
			if suspended {
				Self::deposit_event(Event::DeviceSuspended {
					device: key,
					reason: SuspensionReason::LostDisputes,
				});
			}
			Ok(checked.signatures)
		}

		/// Verifies `attestation` for the P-256 `key` registering with `bind_message`: the chain
		/// against the trusted roots, the revoked serials and the block's time, its challenge
		/// (Android) or client data hash (App Attest) against SHA-256 of `bind_message`, its key
		/// against `key`.
		fn check_attestation(
			key: &DeviceKey,
			bind_message: &[u8],
			attestation: &KeyAttestation,
		) -> Result<Checked, DispatchError> {
			use edgeproof_key_attestation::{android, apple};
			let DeviceKey::P256(device_key) = key else { return Err(Error::<T>::NotP256.into()) };
			let roots = TrustedRoots::<T>::get();
			let root_keys: Vec<&[u8]> = roots.iter().map(|root| root.as_slice()).collect();
			// The verifier passes each serial's magnitude, as `serial_key` stores it.
			let is_revoked = |serial: &[u8]| {
				Self::serial_key(serial).is_some_and(RevokedSerials::<T>::contains_key)
			};
			let trust = android::Trust {
				roots: &root_keys,
				is_revoked: &is_revoked,
				now: T::UnixTime::now().as_secs(),
			};
			let refused = |e: edgeproof_key_attestation::Error| Error::<T>::Attestation(e.into());
			let root_hash = |index: usize| {
				sp_io::hashing::blake2_256(root_keys.get(index).copied().unwrap_or_default())
			};
			let challenge = sp_io::hashing::sha2_256(bind_message);
			match attestation {
				KeyAttestation::Android(chain) => {
					let chain: Vec<&[u8]> = chain.iter().map(|cert| cert.as_slice()).collect();
					let verified = android::verify_chain(&chain, &trust).map_err(refused)?;
					android::check_binding(&verified, &challenge, device_key).map_err(refused)?;
					let proof = KeyProof::AndroidKeyAttestation {
						security_level: verified.security_level().into(),
						boot: verified
							.root_of_trust
							.map(|rot| (rot.verified_boot_state.into(), rot.device_locked)),
						root: root_hash(verified.root),
					};
					// Every certificate's signature, the root's under its own key.
					Ok(Checked::new(proof, chain.len(), &verified.serials))
				},
				KeyAttestation::AppleAppAttest(object) => {
					let verified = apple::verify(object, &trust, &challenge).map_err(refused)?;
					apple::check_key(&verified, device_key).map_err(refused)?;
					let proof = KeyProof::AppleAppAttest {
						environment: verified.environment.into(),
						app_id_hash: verified.app_id_hash,
						root: root_hash(verified.root),
					};
					// The links inside `x5c`, then each trusted root's key tried on its top.
					let signatures = verified.chain_len.saturating_sub(1) + verified.roots_tried;
					Ok(Checked::new(proof, signatures, &verified.serials))
				},
			}
		}

		/// What verifying `signature` costs beyond an sr25519 or ed25519 signature, which have
		/// host functions and are in every benchmarked weight; P-256 is verified in the runtime
		/// (an App Attest assertion adds one SHA-256 of 69 bytes to it).
		pub fn signature_weight(signature: &DeviceSignature) -> Weight {
			match signature {
				DeviceSignature::Ed25519(_) | DeviceSignature::Sr25519(_) => Weight::zero(),
				DeviceSignature::P256(_) | DeviceSignature::AppAttest { .. } => {
					T::WeightInfo::verify_p256_signature()
				},
			}
		}

		/// The weight of `register_attested_device` with `attestation` when `checked`
		/// certificate signatures are verified: the benchmarked registration (a
		/// three-certificate P-256 chain, its parsing and checks) plus, for each signature, the
		/// dearest one a chain may use (RSA-4096 or P-384, measured on Google's roots).
		///
		/// With `checked` unknown (`None`, before dispatch) it is the most the attestation can
		/// need: an Android chain checks each of its certificates; an App Attest object, opaque
		/// until parsed, up to `MAX_X5C − 1` links inside it and each trusted root on its top.
		/// The call refunds down to what was checked.
		pub fn attested_registration_weight(
			attestation: &KeyAttestation,
			checked: Option<u32>,
		) -> Weight {
			let most = match attestation {
				KeyAttestation::Android(chain) => chain.len() as u32,
				KeyAttestation::AppleAppAttest(_) => {
					edgeproof_key_attestation::apple::MAX_X5C as u32 - 1 + T::MaxTrustedRoots::get()
				},
			};
			let per_certificate = T::WeightInfo::verify_rsa_4096_certificate()
				.max(T::WeightInfo::verify_p384_certificate());
			T::WeightInfo::register_attested_device().saturating_add(
				per_certificate.saturating_mul(checked.unwrap_or(most).min(most).into()),
			)
		}

		/// Has a certificate that attested `device`'s key been revoked since
		/// ([`AttestationSerials`])?
		pub fn attestation_revoked(device: &DeviceId) -> bool {
			AttestationSerials::<T>::get(device)
				.is_some_and(|serials| serials.iter().any(RevokedSerials::<T>::contains_key))
		}

		/// The [`RevokedSerials`] key of `serial`: its magnitude (no leading zero bytes); `None`
		/// for a serial too long to be listed (never revoked, then).
		fn serial_key(serial: &[u8]) -> Option<Serial> {
			let magnitude = edgeproof_key_attestation::chain::serial_magnitude(serial);
			Serial::try_from(magnitude.to_vec()).ok()
		}

		/// The hash of block 0, which every signed device message names.
		pub fn genesis_hash() -> T::Hash {
			frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero())
		}

		/// The message `key` signs now to register as a device of `operator`: the
		/// [`bind_message`] with the key's next registration nonce.
		pub fn bind_message_for(key: &DeviceKey, operator: &T::AccountId) -> Vec<u8> {
			bind_message(&Self::genesis_hash(), operator, KeyHistories::<T>::get(key).next_nonce)
		}

		fn operated_by(
			device: &DeviceId,
			who: &T::AccountId,
		) -> Result<DeviceRecordOf<T>, DispatchError> {
			let record = Devices::<T>::get(device).ok_or(Error::<T>::UnknownDevice)?;
			ensure!(record.operator == *who, Error::<T>::NotOperator);
			Ok(record)
		}

		fn update_reputation(device: &DeviceId, update: impl FnOnce(&mut DeviceRecordOf<T>)) {
			let Some(mut record) = Devices::<T>::get(device) else {
				log::warn!(target: LOG_TARGET, "reputation update for unknown device {device:?}");
				return;
			};
			update(&mut record);
			let reputation = record.reputation;
			Devices::<T>::insert(device, record);
			Self::deposit_event(Event::ReputationUpdated { device: *device, reputation });
		}

		/// The devices of `operator` with their records.
		pub fn devices_of(operator: &T::AccountId) -> Vec<(DeviceId, DeviceRecordOf<T>)> {
			OperatorDevices::<T>::get(operator)
				.into_iter()
				.filter_map(|id| Devices::<T>::get(id).map(|record| (id, record)))
				.collect()
		}

		/// The invariants of this pallet's storage:
		///
		/// 1. every operator's `DeviceStake` hold equals the stakes of its devices;
		/// 2. every device is in its operator's list, every listed device exists and is that
		///    operator's;
		/// 3. `KeyOwner` maps exactly the current and past keys of every device, and the id,
		///    to that device;
		/// 4. every device's id has a key history whose next nonce is past the device's
		///    registration nonce.
		#[cfg(any(feature = "try-runtime", feature = "std"))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			use alloc::collections::btree_map::BTreeMap;
			let mut stakes: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
			let mut keys = 0usize;
			for (id, record) in Devices::<T>::iter() {
				let entry = stakes.entry(record.operator.clone()).or_default();
				*entry = entry.saturating_add(record.stake);
				ensure!(
					OperatorDevices::<T>::get(&record.operator).contains(&id),
					"a device is missing from its operator's list"
				);
				let mut own: Vec<DeviceKey> = record.past_keys.to_vec();
				own.push(record.key);
				own.push(id);
				own.sort();
				own.dedup();
				for key in &own {
					ensure!(KeyOwner::<T>::get(key) == Some(id), "a device key is not reserved");
				}
				keys += own.len();
				ensure!(
					KeyHistories::<T>::get(id).next_nonce > record.registration,
					"a device's bind nonce can be replayed"
				);
				ensure!(
					AttestationSerials::<T>::contains_key(id)
						== (record.key_proof != KeyProof::Signature),
					"attestation serials are kept exactly for attested keys"
				);
			}
			ensure!(
				AttestationSerials::<T>::iter_keys().all(Devices::<T>::contains_key),
				"attestation serials of a removed device"
			);
			ensure!(KeyOwner::<T>::iter().count() == keys, "KeyOwner has keys of no device");
			for (operator, amount) in stakes {
				ensure!(
					T::Currency::balance_on_hold(&HoldReason::DeviceStake.into(), &operator)
						== amount,
					"a stake hold does not match the device records"
				);
			}
			for (operator, devices) in OperatorDevices::<T>::iter() {
				for id in devices {
					let record =
						Devices::<T>::get(id).ok_or("an operator lists an unknown device")?;
					ensure!(
						record.operator == operator,
						"a device is listed under another operator"
					);
				}
			}
			Ok(())
		}
	}

	impl<T: Config> DeviceRegistry<T::AccountId, BalanceOf<T>> for Pallet<T> {
		fn operator(device: &DeviceId) -> Option<T::AccountId> {
			Devices::<T>::get(device).map(|r| r.operator)
		}

		fn signing_key(device: &DeviceId) -> Option<DeviceKey> {
			Devices::<T>::get(device).map(|r| r.key)
		}

		fn is_active(device: &DeviceId) -> bool {
			Devices::<T>::get(device).is_some_and(|r| r.status == DeviceStatus::Active)
		}

		fn key_assurance(device: &DeviceId) -> Option<KeyAssurance> {
			let proven = Devices::<T>::get(device)?.key_proof.assurance();
			if proven == KeyAssurance::Unproven || Self::attestation_revoked(device) {
				return Some(KeyAssurance::Unproven);
			}
			Some(proven)
		}

		fn key_assurance_weight() -> Weight {
			// Beyond the record, which every caller reads anyway: the device's serials, and
			// each serial's revocation.
			T::DbWeight::get().reads(1 + <MaxChainLen as Get<u32>>::get() as u64)
		}

		fn signature_weight(signature: &DeviceSignature) -> Weight {
			Self::signature_weight(signature)
		}

		fn slash(device: &DeviceId, amount: BalanceOf<T>) -> BalanceOf<T> {
			let Some(mut record) = Devices::<T>::get(device) else { return Zero::zero() };
			let amount = amount.min(record.stake);
			let burned = T::Currency::burn_held(
				&HoldReason::DeviceStake.into(),
				&record.operator,
				amount,
				Precision::BestEffort,
				Fortitude::Force,
			)
			.unwrap_or_default();
			record.stake = record.stake.saturating_sub(burned);
			Devices::<T>::insert(device, record);
			Self::deposit_event(Event::StakeSlashed { device: *device, amount: burned });
			burned
		}

		fn note_claim_finalized(device: &DeviceId) {
			Self::update_reputation(device, |r| {
				r.reputation.claims_finalized = r.reputation.claims_finalized.saturating_add(1)
			});
		}

		fn note_dispute_won(device: &DeviceId) {
			Self::update_reputation(device, |r| {
				r.reputation.disputes_won = r.reputation.disputes_won.saturating_add(1)
			});
		}

		fn note_dispute_lost(device: &DeviceId) {
			let mut suspended = false;
			Self::update_reputation(device, |r| {
				r.reputation.claims_lost = r.reputation.claims_lost.saturating_add(1);
				if r.reputation.claims_lost >= T::MaxLostDisputes::get()
					&& r.status == DeviceStatus::Active
				{
					r.status = DeviceStatus::Suspended(SuspensionReason::LostDisputes);
					suspended = true;
				}
			});
			if suspended {
				Self::deposit_event(Event::DeviceSuspended {
					device: *device,
					reason: SuspensionReason::LostDisputes,
				});
			}
		}
	}

	/// The stake slash share helpers other pallets may use.
	impl<T: Config> Pallet<T> {
		/// `share` of the device's current stake.
		pub fn stake_share(device: &DeviceId, share: Perbill) -> BalanceOf<T> {
			Devices::<T>::get(device).map(|r| share * r.stake).unwrap_or_default()
		}
	}
}

/// Runtime API of the device registry, for clients such as polkadot-js and the device CLI.
pub mod runtime_api {
	use super::*;
	use alloc::vec::Vec;

	sp_api::decl_runtime_apis! {
		/// Reads devices and their reputation.
		pub trait DevicesApi<AccountId, Record> where
			AccountId: codec::Codec,
			Record: codec::Codec,
		{
			/// A device's record.
			fn device(device: DeviceId) -> Option<Record>;
			/// An operator's devices with their records.
			fn devices_of(operator: AccountId) -> Vec<(DeviceId, Record)>;
			/// A device's reputation score in parts per million (see `Reputation::score`).
			fn reputation_score(device: DeviceId) -> Option<u32>;
		}
	}
}
