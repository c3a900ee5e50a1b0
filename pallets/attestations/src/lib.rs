//! # Attested outputs (`pallet-attestations`)
//!
//! ## Overview
//!
//! A device ran a registered model on an input and got an output; its operator posts that as a
//! *claim*: the input and output tensors, a per-device nonce, and the device key's signature over
//! [`claim_message`]. The claim is bonded ([`Pallet::claim_bond`]: a base plus a part that grows
//! with what checking the model costs, held from the operator) and
//! stays `Pending` for [`Config::ChallengePeriod`] blocks, during which anyone may dispute it
//! (the dispute pallet tells this one through [`ClaimRegistry`]). Undisputed, it becomes
//! `Final` and the bond is returned; a lost dispute makes it `Invalid` and slashes the bond and
//! part of the device's stake. Decided claims are pruned [`Config::RetentionPeriod`] blocks
//! later; the events keep their history.
//!
//! Expiry and pruning are bounded work per block: claims expire in id order (a cursor over
//! claim ids, [`ExpiryCursor`]), at most [`Config::MaxExpiriesPerBlock`] per block, and decided
//! claims are pruned from a FIFO queue ([`PruneQueue`]), at most [`Config::MaxPrunesPerBlock`]
//! per block. Whatever does not fit carries over to the next block.
//!
//! ## Interface
//!
//! - [`Pallet::submit`]: post a signed, bonded claim.
//! - [`ClaimRegistry`]: what the dispute pallet reads and reports (opened, resolved).
//! - [`runtime_api::AttestationsApi`]: a claim, its payload, the undecided claims.
//!
//! ## Terms
//!
//! - *Payload*: a claim's input or output, the SCALE encoding of a `Vec<Tensor>` in graph order
//!   (see `docs/claim-format.md`). Kept in [`Payloads`] only while the claim is undecided.
//! - *Undecided*: `Pending` or `Disputed`: the bond is held and the payloads are stored.
//! - *Challenge period*: blocks `submitted_at .. challenge_ends - 1`; a dispute may be opened
//!   in them, not after.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(feature = "runtime-benchmarks")]
pub mod benchmark_helper;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
pub mod checker;
#[cfg(test)]
mod checker_tests;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

use frame_support::{pallet_prelude::DispatchResult, traits::fungible::Inspect};
use pallet_devices::DeviceId;
use sp_runtime::DispatchError;

/// The log target of this pallet.
pub const LOG_TARGET: &str = "runtime::attestations";

/// Most ids [`Pallet::pending_claims`] examines in one call.
pub const MAX_LISTING_SCAN: u32 = 4_096;

/// Balance type of the currency bonds are held in.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// A stored claim record.
pub type ClaimRecordOf<T> = ClaimRecord<
	<T as frame_system::Config>::AccountId,
	BalanceOf<T>,
	frame_system::pallet_prelude::BlockNumberFor<T>,
>;

/// A claim's payloads with the runtime's bound.
pub type ClaimPayloadOf<T> = ClaimPayload<<T as Config>::MaxPayloadLen>;

/// What [`ClaimRegistry::claim`] returns.
pub type ClaimInfoOf<T> = ClaimInfo<
	<T as frame_system::Config>::AccountId,
	BalanceOf<T>,
	frame_system::pallet_prelude::BlockNumberFor<T>,
>;

/// The stake of a device, to slash a share of it. Implemented for pallet-devices.
pub trait DeviceStake<Balance> {
	/// The device's current stake (zero for an unknown device).
	fn stake(device: &DeviceId) -> Balance;
}

impl<T: pallet_devices::Config> DeviceStake<pallet_devices::BalanceOf<T>>
	for pallet_devices::Pallet<T>
{
	fn stake(device: &DeviceId) -> pallet_devices::BalanceOf<T> {
		pallet_devices::Devices::<T>::get(device).map(|r| r.stake).unwrap_or_default()
	}
}

/// A device may leave only once this pallet has decided each of its claims: its undecided
/// claims are the ones still counted in [`PendingCount`] (in the challenge period or disputed).
impl<T: Config> pallet_devices::DeviceClaims for Pallet<T> {
	fn undecided(device: &DeviceId) -> u32 {
		PendingCount::<T>::get(device)
	}
}

/// What the checker does with a claim it proved wrong: the dispute pallet opens a dispute.
///
/// Called in the off-chain worker (not in block execution), with the canonical output and its
/// proofs; sends what is needed to start a dispute and returns whether one of this node's is
/// running on chain. The checker calls it again every block until it returns `true` or the
/// claim's challenge period is over: a transaction the pool took is not yet a dispute.
pub trait WrongClaimHandler<AccountId, Balance, BlockNumber> {
	fn wrong_claim(
		claim: ClaimId,
		record: &ClaimRecord<AccountId, Balance, BlockNumber>,
		canonical: &edgeproof_primitives::CanonicalOutput,
	) -> bool;
}

/// No dispute pallet: the verdict stays in the node's offchain storage and logs.
impl<AccountId, Balance, BlockNumber> WrongClaimHandler<AccountId, Balance, BlockNumber> for () {
	fn wrong_claim(
		_: ClaimId,
		_: &ClaimRecord<AccountId, Balance, BlockNumber>,
		_: &edgeproof_primitives::CanonicalOutput,
	) -> bool {
		false
	}
}

/// What the dispute pallet may ask and tell about claims.
pub trait ClaimRegistry<AccountId, Balance, BlockNumber> {
	/// A claim's record and, while it is undecided, its decoded tensors.
	fn claim(id: ClaimId) -> Option<ClaimInfo<AccountId, Balance, BlockNumber>>;

	/// A dispute about the claim was opened: `Pending` becomes `Disputed { open: 1 }`, a
	/// disputed claim counts one more. Refused (`ClaimDecided`, `ChallengePeriodOver`,
	/// `UnknownClaim`) for a decided claim or after the challenge period.
	fn note_dispute_opened(id: ClaimId) -> DispatchResult;

	/// A dispute about the claim ended.
	///
	/// - The claimant lost: the claim becomes `Invalid`; `BondRewardShare` of the bond goes to
	///   `beneficiary` (all of it is burned without one: both parties of the dispute lost), the
	///   rest is burned; `StakeSlash` of the device's stake is burned and the
	///   device is told (`note_dispute_lost`).
	/// - The claimant won: one dispute fewer is open (`note_dispute_won`); when none is left the
	///   claim is `Final` if its challenge period is over, else `Pending` again.
	///
	/// A claim already `Invalid` (another dispute proved it wrong) takes further results without
	/// effect beyond `note_dispute_won` for a win. Errors: `UnknownClaim`, `NoOpenDispute`.
	fn note_dispute_resolved(
		id: ClaimId,
		claimant_won: bool,
		beneficiary: Option<&AccountId>,
	) -> Result<Settlement<Balance>, DispatchError>;
}

/// Units of canonical work (`ModelParams::program_work`) per step of
/// [`Config::ClaimBondPerWork`]: 2^30.
pub const WORK_PER_BOND_STEP: u64 = 1 << 30;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		defensive,
		pallet_prelude::*,
		traits::{
			fungible::{InspectHold, Mutate, MutateHold},
			tokens::{Fortitude, Precision, Restriction},
		},
	};
	use frame_system::pallet_prelude::*;
	use pallet_devices::{DeviceRegistry, DeviceSignature};
	use pallet_models::{ModelId, ModelRegistry, ModelStatus};
	use sp_core::H256;
	use sp_runtime::{
		traits::{SaturatedConversion, Saturating, Zero},
		ArithmeticError, Perbill,
	};

	/// The in-code storage version.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The bond of an undecided claim.
		#[codec(index = 0)]
		ClaimBond,
	}

	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The currency bonds are held in.
		type Currency: Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ InspectHold<Self::AccountId>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// The model registry (pallet-models): which models take claims and their specs.
		type Models: ModelRegistry;

		/// The device registry (pallet-devices): operators, keys, status, stake, reputation.
		type Devices: DeviceRegistry<Self::AccountId, BalanceOf<Self>>
			+ DeviceStake<BalanceOf<Self>>;

		/// Bond held from the operator per claim until it is decided, on a model that costs less
		/// than [`WORK_PER_BOND_STEP`] to check (see [`Pallet::claim_bond`]).
		#[pallet::constant]
		type ClaimBond: Get<BalanceOf<Self>>;

		/// Bond added per whole [`WORK_PER_BOND_STEP`] units of the model's `program_work`, so
		/// that claims lock in proportion to what checking them costs the validators: flooding
		/// the checkers with claims on the dearest model locks the most.
		#[pallet::constant]
		type ClaimBondPerWork: Get<BalanceOf<Self>>;

		/// The challenge period until genesis or [`Pallet::set_parameters`] sets one (see
		/// [`Params`]).
		#[pallet::constant]
		type ChallengePeriod: Get<BlockNumberFor<Self>>;

		/// Longest challenge period [`Pallet::set_parameters`] accepts.
		#[pallet::constant]
		type MaxChallengePeriod: Get<BlockNumberFor<Self>>;

		/// May change [`Params`] and [`Checkers`] (root).
		type AdminOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Most checker accounts.
		#[pallet::constant]
		type MaxCheckers: Get<u32>;

		/// Milliseconds a checker off-chain worker may spend re-running claims per block.
		#[pallet::constant]
		type CheckTimeBudget: Get<u64>;

		/// Starts a dispute about a claim the checker proved wrong (the dispute pallet).
		type OnWrongClaim: WrongClaimHandler<Self::AccountId, BalanceOf<Self>, BlockNumberFor<Self>>;

		/// Blocks a decided claim's record is kept before it is pruned. Should exceed the
		/// longest dispute, so that late results still find the claim.
		#[pallet::constant]
		type RetentionPeriod: Get<BlockNumberFor<Self>>;

		/// Share of a lost claim's bond paid to the beneficiary named by the dispute pallet
		/// (the winning challenger); the rest is burned.
		#[pallet::constant]
		type BondRewardShare: Get<Perbill>;

		/// Share of the device's stake burned when one of its claims is found invalid.
		#[pallet::constant]
		type StakeSlash: Get<Perbill>;

		/// Longest input, and longest output, payload in bytes.
		#[pallet::constant]
		type MaxPayloadLen: Get<u32>;

		/// Most undecided claims per device.
		#[pallet::constant]
		type MaxPendingPerDevice: Get<u32>;

		/// Most claims the expiry queue passes per block. Should be at least the number of
		/// `submit` calls a block holds, or finalisation lags (it never skips a claim).
		#[pallet::constant]
		type MaxExpiriesPerBlock: Get<u32>;

		/// Most decided claims pruned per block.
		#[pallet::constant]
		type MaxPrunesPerBlock: Get<u32>;

		/// Weights of this pallet's calls and hooks.
		type WeightInfo: WeightInfo;

		/// Sets up active models and devices for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: benchmark_helper::BenchmarkHelper<Self::AccountId>;
	}

	/// The tunable parameters (challenge period, check probability).
	#[pallet::storage]
	pub type Params<T: Config> =
		StorageValue<_, Parameters<BlockNumberFor<T>>, ValueQuery, DefaultParams<T>>;

	/// Until genesis or the admin sets them: `ChallengePeriod`, check everything.
	#[pallet::type_value]
	pub fn DefaultParams<T: Config>() -> Parameters<BlockNumberFor<T>> {
		Parameters {
			challenge_period: T::ChallengePeriod::get(),
			check_probability: Perbill::one(),
		}
	}

	/// The validators' checker accounts: the keys their off-chain workers sign with (model
	/// votes, disputes). The runtime uses this set as the model registry's voters.
	#[pallet::storage]
	pub type Checkers<T: Config> =
		StorageValue<_, BoundedVec<T::AccountId, T::MaxCheckers>, ValueQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The initial checker accounts (at most `MaxCheckers`: a longer list does not
		/// deserialise; duplicates are dropped).
		pub checkers: BoundedVec<T::AccountId, T::MaxCheckers>,
		/// The challenge period (default `ChallengePeriod`).
		pub challenge_period: Option<BlockNumberFor<T>>,
		/// The check probability (default one: check every claim).
		pub check_probability: Option<Perbill>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			let mut checkers = self.checkers.clone().into_inner();
			checkers.sort();
			checkers.dedup();
			// Sorting and deduplicating only shortens a list that was within the bound.
			Checkers::<T>::put(BoundedVec::<_, T::MaxCheckers>::truncate_from(checkers));
			let defaults = DefaultParams::<T>::get();
			let params = Parameters {
				challenge_period: self.challenge_period.unwrap_or(defaults.challenge_period),
				check_probability: self.check_probability.unwrap_or(defaults.check_probability),
			};
			assert!(Pallet::<T>::valid_parameters(&params), "genesis: invalid parameters");
			Params::<T>::put(params);
		}
	}

	/// The id the next claim gets.
	#[pallet::storage]
	pub type NextClaimId<T: Config> = StorageValue<_, ClaimId, ValueQuery>;

	/// Claims by id, from submission until `RetentionPeriod` after they were decided.
	#[pallet::storage]
	pub type Claims<T: Config> = StorageMap<_, Twox64Concat, ClaimId, ClaimRecordOf<T>>;

	/// The input and output payloads of undecided claims.
	#[pallet::storage]
	pub type Payloads<T: Config> = StorageMap<_, Twox64Concat, ClaimId, ClaimPayloadOf<T>>;

	/// The nonce of each device's latest claim; the next must be greater.
	#[pallet::storage]
	pub type LastNonce<T: Config> = StorageMap<_, Blake2_128Concat, DeviceId, u64>;

	/// Number of undecided (`Pending` or `Disputed`) claims of each device.
	#[pallet::storage]
	pub type PendingCount<T: Config> = StorageMap<_, Blake2_128Concat, DeviceId, u32, ValueQuery>;

	/// The expiry queue: the lowest claim id not yet passed by expiry. Every claim below it has
	/// reached the end of its challenge period and is not `Pending`.
	#[pallet::storage]
	pub type ExpiryCursor<T: Config> = StorageValue<_, ClaimId, ValueQuery>;

	/// The prune queue: `(claim, block from which it may be pruned)` by position, in the order
	/// claims were decided.
	#[pallet::storage]
	pub type PruneQueue<T: Config> = StorageMap<_, Twox64Concat, u64, (ClaimId, BlockNumberFor<T>)>;

	/// Position of the prune queue's first entry.
	#[pallet::storage]
	pub type PruneHead<T: Config> = StorageValue<_, u64, ValueQuery>;

	/// Position the prune queue's next entry gets.
	#[pallet::storage]
	pub type PruneTail<T: Config> = StorageValue<_, u64, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A claim was submitted and its bond held; it may be disputed until `challenge_ends`.
		ClaimSubmitted {
			claim: ClaimId,
			device: DeviceId,
			operator: T::AccountId,
			model: ModelId,
			input_hash: H256,
			output_hash: H256,
			nonce: u64,
			bond: BalanceOf<T>,
			challenge_ends: BlockNumberFor<T>,
		},
		/// A dispute about a claim was opened; `open` are running.
		ClaimDisputed { claim: ClaimId, open: u32 },
		/// The claimant won a dispute; `open` are still running.
		ClaimDefended { claim: ClaimId, open: u32 },
		/// A claim became final and its bond was returned.
		ClaimFinalized { claim: ClaimId, device: DeviceId, operator: T::AccountId },
		/// A claim was found invalid: `rewarded` of its bond went to `beneficiary` (if any), `burned`
		/// was burned, and `stake_slashed` of the device's stake was burned.
		ClaimInvalidated {
			claim: ClaimId,
			device: DeviceId,
			beneficiary: Option<T::AccountId>,
			rewarded: BalanceOf<T>,
			burned: BalanceOf<T>,
			stake_slashed: BalanceOf<T>,
		},
		/// A decided claim's record was removed.
		ClaimPruned { claim: ClaimId, status: ClaimStatus },
		/// The admin changed the parameters.
		ParametersSet { parameters: Parameters<BlockNumberFor<T>> },
		/// The admin replaced the checker accounts.
		CheckersSet { checkers: BoundedVec<T::AccountId, T::MaxCheckers> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No model with this id is registered.
		UnknownModel,
		/// The model does not take claims (it is not `Active`).
		ModelNotActive,
		/// No device with this id is registered.
		UnknownDevice,
		/// The device may not claim (suspended or unbonding).
		DeviceNotActive,
		/// The model requires devices whose keys are proven to live in secure hardware (a TEE
		/// or a secure element, `Models::KeyRequirements`), and this device's key is not
		/// proven to that level.
		KeyAssuranceTooLow,
		/// Only the device's operator may submit its claims.
		NotOperator,
		/// The signature is not the device's current key's over the claim message for this
		/// chain, model, input, output and nonce.
		BadSignature,
		/// The nonce is not above the device's last one.
		StaleNonce,
		/// The input is not the SCALE encoding of a list of tensors (with nothing after it).
		MalformedInput,
		/// The output is not the SCALE encoding of a list of tensors (with nothing after it).
		MalformedOutput,
		/// The input or output tensors do not match the model's specs in number, dtype, shape
		/// or data length.
		SpecMismatch,
		/// The operator cannot afford the claim bond.
		InsufficientBond,
		/// The device has `MaxPendingPerDevice` undecided claims.
		TooManyPending,
		/// No claim with this id (never submitted or pruned).
		UnknownClaim,
		/// The claim is already final or invalid.
		ClaimDecided,
		/// The claim's challenge period is over.
		ChallengePeriodOver,
		/// No dispute about the claim is open.
		NoOpenDispute,
		/// A challenge period of zero or above `MaxChallengePeriod`.
		InvalidParameters,
		/// An account is listed twice among the checkers.
		DuplicateChecker,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Finalises due claims and prunes old ones, each within its per-block budget.
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			let expired = Self::expire_due(now, T::MaxExpiriesPerBlock::get());
			let pruned = Self::prune_due(now, T::MaxPrunesPerBlock::get());
			T::WeightInfo::expire_claims(expired)
				.saturating_add(T::WeightInfo::prune_claims(pruned))
		}

		/// Re-runs pending claims on this validator's inference engine (see [`checker`]).
		fn offchain_worker(now: BlockNumberFor<T>) {
			checker::check_pending_claims::<T>(now);
		}

		fn integrity_test() {
			assert!(!T::ClaimBond::get().is_zero(), "an unbonded claim costs nothing to fake");
			assert!(!T::ChallengePeriod::get().is_zero(), "claims need a challenge period");
			assert!(
				T::ChallengePeriod::get() <= T::MaxChallengePeriod::get(),
				"the default challenge period exceeds the maximum"
			);
			assert!(T::MaxPayloadLen::get() > 0, "payloads need room");
			// A claim with both payloads at the bound, its signature and the rest of the call
			// (under 1 KiB) must fit in a block, or such a claim could never be submitted.
			let normal =
				*T::BlockLength::get().max.get(frame_support::dispatch::DispatchClass::Normal);
			assert!(
				u64::from(T::MaxPayloadLen::get()) * 2 + 1024 <= u64::from(normal),
				"a claim with both payloads at MaxPayloadLen exceeds a block's normal length"
			);
			assert!(T::MaxPendingPerDevice::get() > 0, "devices need room for a claim");
			assert!(
				T::MaxExpiriesPerBlock::get() > 0 && T::MaxPrunesPerBlock::get() > 0,
				"the queues must move"
			);
			let hook = T::WeightInfo::expire_claims(T::MaxExpiriesPerBlock::get())
				.saturating_add(T::WeightInfo::prune_claims(T::MaxPrunesPerBlock::get()));
			assert!(
				hook.all_lte(T::BlockWeights::get().max_block),
				"the expiry and prune budgets exceed a block"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Submit a claim: `device` ran `model` on `input` and got `output`. Holds
		/// [`Config::ClaimBond`] from the caller until the claim is decided.
		///
		/// - `origin`: signed by the device's operator.
		/// - `device`: the registered, active device that ran the model.
		/// - `model`: an `Active` model.
		/// - `input`, `output`: each the SCALE encoding of a `Vec<Tensor>` in graph order, at
		///   most `MaxPayloadLen` bytes, matching the model's input and output specs.
		/// - `nonce`: greater than the device's previous claim's.
		/// - `device_signature`: the device's current key's signature over [`claim_message`]
		///   `(genesis_hash, device, model, blake2_256(input), blake2_256(output), nonce)`.
		///
		/// Errors: `UnknownModel`, `ModelNotActive`, `UnknownDevice`, `NotOperator`,
		/// `DeviceNotActive`, `KeyAssuranceTooLow`, `StaleNonce`, `TooManyPending`, `BadSignature`,
		/// `MalformedInput`, `MalformedOutput`, `SpecMismatch`, `InsufficientBond`.
		/// Emits `ClaimSubmitted`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::submit(input.len() as u32, output.len() as u32)
			.saturating_add(T::Devices::signature_weight(device_signature))
			// The device's attestation revocations: the benchmark's device has no attestation.
			.saturating_add(T::Devices::key_assurance_weight()))]
		pub fn submit(
			origin: OriginFor<T>,
			device: DeviceId,
			model: ModelId,
			input: BoundedVec<u8, T::MaxPayloadLen>,
			output: BoundedVec<u8, T::MaxPayloadLen>,
			nonce: u64,
			device_signature: DeviceSignature,
		) -> DispatchResult {
			let operator = ensure_signed(origin)?;
			let summary = T::Models::summary(&model).ok_or(Error::<T>::UnknownModel)?;
			ensure!(summary.status == ModelStatus::Active, Error::<T>::ModelNotActive);
			let registered = T::Devices::operator(&device).ok_or(Error::<T>::UnknownDevice)?;
			ensure!(registered == operator, Error::<T>::NotOperator);
			ensure!(T::Devices::is_active(&device), Error::<T>::DeviceNotActive);
			let assurance = T::Devices::key_assurance(&device).unwrap_or_default();
			ensure!(assurance >= summary.key_requirement, Error::<T>::KeyAssuranceTooLow);
			ensure!(
				LastNonce::<T>::get(device).is_none_or(|last| nonce > last),
				Error::<T>::StaleNonce
			);
			let pending = PendingCount::<T>::get(device);
			ensure!(pending < T::MaxPendingPerDevice::get(), Error::<T>::TooManyPending);
			let key = T::Devices::signing_key(&device).ok_or(Error::<T>::UnknownDevice)?;
			let input_hash = H256(sp_io::hashing::blake2_256(&input));
			let output_hash = H256(sp_io::hashing::blake2_256(&output));
			let message = claim_message(
				&Self::genesis_hash(),
				&device,
				&model,
				&input_hash,
				&output_hash,
				nonce,
			);
			ensure!(key.verify(&message, &device_signature), Error::<T>::BadSignature);
			let inputs = decode_tensors(&input).ok_or(Error::<T>::MalformedInput)?;
			let outputs = decode_tensors(&output).ok_or(Error::<T>::MalformedOutput)?;
			ensure!(T::Models::matches_specs(&model, &inputs, &outputs), Error::<T>::SpecMismatch);
			let claim = NextClaimId::<T>::get();
			let next = claim.checked_add(1).ok_or(ArithmeticError::Overflow)?;
			let bond = Self::claim_bond(summary.program_work);
			T::Currency::hold(&HoldReason::ClaimBond.into(), &operator, bond)
				.map_err(|_| Error::<T>::InsufficientBond)?;

			let submitted_at = frame_system::Pallet::<T>::block_number();
			let challenge_ends = submitted_at.saturating_add(Params::<T>::get().challenge_period);
			NextClaimId::<T>::put(next);
			LastNonce::<T>::insert(device, nonce);
			PendingCount::<T>::insert(device, pending.saturating_add(1));
			Payloads::<T>::insert(claim, ClaimPayload { input, output });
			Claims::<T>::insert(
				claim,
				ClaimRecord {
					device,
					operator: operator.clone(),
					model,
					input_hash,
					output_hash,
					nonce,
					bond,
					submitted_at,
					challenge_ends,
					status: ClaimStatus::Pending,
				},
			);
			Self::deposit_event(Event::ClaimSubmitted {
				claim,
				device,
				operator,
				model,
				input_hash,
				output_hash,
				nonce,
				bond,
				challenge_ends,
			});
			Ok(())
		}

		/// Set the parameters: the challenge period of claims submitted from now on, and the
		/// share of claims each checker re-runs.
		///
		/// - `origin`: [`Config::AdminOrigin`].
		/// - `parameters`: `challenge_period` from 1 to `MaxChallengePeriod` blocks.
		///
		/// Errors: `InvalidParameters`. Emits `ParametersSet`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::set_parameters())]
		pub fn set_parameters(
			origin: OriginFor<T>,
			parameters: Parameters<BlockNumberFor<T>>,
		) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			ensure!(Self::valid_parameters(&parameters), Error::<T>::InvalidParameters);
			Params::<T>::put(parameters);
			Self::deposit_event(Event::ParametersSet { parameters });
			Ok(())
		}

		/// Replace the checker accounts (the validators' checker keys; they vote on models).
		///
		/// - `origin`: [`Config::AdminOrigin`].
		/// - `checkers`: at most `MaxCheckers` distinct accounts.
		///
		/// Errors: `DuplicateChecker`. Emits `CheckersSet`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::set_checkers(checkers.len() as u32))]
		pub fn set_checkers(
			origin: OriginFor<T>,
			checkers: BoundedVec<T::AccountId, T::MaxCheckers>,
		) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			let mut sorted = checkers.clone().into_inner();
			sorted.sort();
			sorted.dedup();
			ensure!(sorted.len() == checkers.len(), Error::<T>::DuplicateChecker);
			Checkers::<T>::put(&checkers);
			Self::deposit_event(Event::CheckersSet { checkers });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// The bond of a claim on a model whose canonical program does `program_work` units of
		/// work: [`Config::ClaimBond`] plus [`Config::ClaimBondPerWork`] per whole
		/// [`WORK_PER_BOND_STEP`] units.
		pub fn claim_bond(program_work: u64) -> BalanceOf<T> {
			let steps: BalanceOf<T> = (program_work / WORK_PER_BOND_STEP).saturated_into();
			T::ClaimBond::get().saturating_add(T::ClaimBondPerWork::get().saturating_mul(steps))
		}

		/// Are these parameters acceptable?
		pub fn valid_parameters(parameters: &Parameters<BlockNumberFor<T>>) -> bool {
			!parameters.challenge_period.is_zero()
				&& parameters.challenge_period <= T::MaxChallengePeriod::get()
		}

		/// Is `who` a checker?
		pub fn is_checker(who: &T::AccountId) -> bool {
			Checkers::<T>::get().contains(who)
		}

		/// The hash of block 0, which every signed claim names.
		pub fn genesis_hash() -> T::Hash {
			frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero())
		}

		/// Passes at most `budget` claims of the expiry queue whose challenge period ended by
		/// `now`, finalising the `Pending` ones; returns how many it passed.
		pub(crate) fn expire_due(now: BlockNumberFor<T>, budget: u32) -> u32 {
			let next = NextClaimId::<T>::get();
			let mut cursor = ExpiryCursor::<T>::get();
			let mut passed = 0;
			while passed < budget && cursor < next {
				match Claims::<T>::get(cursor) {
					Some(record) if record.challenge_ends > now => break,
					Some(record) if record.status == ClaimStatus::Pending => {
						Self::finalize(cursor, record, now)
					},
					// Disputed: the last dispute's result finalises it. Decided early
					// (invalid) or already pruned: nothing to do.
					_ => {},
				}
				cursor = cursor.saturating_add(1);
				passed += 1;
			}
			if passed > 0 {
				ExpiryCursor::<T>::put(cursor);
			}
			passed
		}

		/// Removes at most `budget` claims from the front of the prune queue that are due by
		/// `now`; returns how many entries it took.
		pub(crate) fn prune_due(now: BlockNumberFor<T>, budget: u32) -> u32 {
			let tail = PruneTail::<T>::get();
			let mut head = PruneHead::<T>::get();
			let mut taken = 0;
			while taken < budget && head < tail {
				match PruneQueue::<T>::get(head) {
					Some((_, due)) if due > now => break,
					Some((claim, _)) => {
						PruneQueue::<T>::remove(head);
						match Claims::<T>::take(claim) {
							Some(record) => Self::deposit_event(Event::ClaimPruned {
								claim,
								status: record.status,
							}),
							None => {
								defensive!("a queued claim to prune is missing");
							},
						}
					},
					None => {
						defensive!("a hole in the prune queue");
					},
				}
				head = head.saturating_add(1);
				taken += 1;
			}
			if taken > 0 {
				PruneHead::<T>::put(head);
			}
			taken
		}

		/// Makes an undecided claim `Final`: returns the bond, drops the payloads, queues the
		/// record for pruning, tells the device registry.
		fn finalize(claim: ClaimId, mut record: ClaimRecordOf<T>, now: BlockNumberFor<T>) {
			if let Err(e) = T::Currency::release(
				&HoldReason::ClaimBond.into(),
				&record.operator,
				record.bond,
				Precision::BestEffort,
			) {
				defensive!("a claim bond could not be released", e);
			}
			record.status = ClaimStatus::Final;
			let (device, operator) = (record.device, record.operator.clone());
			Self::close(claim, record, now);
			T::Devices::note_claim_finalized(&device);
			Self::deposit_event(Event::ClaimFinalized { claim, device, operator });
		}

		/// Stores a claim just decided, drops its payloads and pending count, and queues it for
		/// pruning.
		fn close(claim: ClaimId, record: ClaimRecordOf<T>, now: BlockNumberFor<T>) {
			PendingCount::<T>::mutate_exists(record.device, |count| {
				*count = count.map(|c| c.saturating_sub(1)).filter(|c| *c > 0);
			});
			Claims::<T>::insert(claim, record);
			Payloads::<T>::remove(claim);
			let tail = PruneTail::<T>::get();
			PruneQueue::<T>::insert(tail, (claim, now.saturating_add(T::RetentionPeriod::get())));
			PruneTail::<T>::put(tail.saturating_add(1));
		}

		/// Makes a disputed claim `Invalid`: pays and burns the bond, slashes the device.
		fn invalidate(
			claim: ClaimId,
			mut record: ClaimRecordOf<T>,
			beneficiary: Option<&T::AccountId>,
			now: BlockNumberFor<T>,
		) -> Settlement<BalanceOf<T>> {
			let reason = HoldReason::ClaimBond.into();
			let reward = T::BondRewardShare::get() * record.bond;
			let rewarded = if let (false, Some(beneficiary)) = (reward.is_zero(), beneficiary) {
				T::Currency::transfer_on_hold(
					&reason,
					&record.operator,
					beneficiary,
					reward,
					Precision::BestEffort,
					Restriction::Free,
					Fortitude::Force,
				)
				.unwrap_or_else(|e| {
					// E.g. a reward below the existential deposit to an empty account: burned.
					log::warn!(target: LOG_TARGET, "claim {claim}: reward not paid: {e:?}");
					Zero::zero()
				})
			} else {
				Zero::zero()
			};
			let burned = T::Currency::burn_held(
				&reason,
				&record.operator,
				record.bond.saturating_sub(rewarded),
				Precision::BestEffort,
				Fortitude::Force,
			)
			.unwrap_or_else(|e| {
				defensive!("a claim bond could not be burned", e);
				Zero::zero()
			});
			let device = record.device;
			let stake_slashed =
				T::Devices::slash(&device, T::StakeSlash::get() * T::Devices::stake(&device));
			T::Devices::note_dispute_lost(&device);
			record.status = ClaimStatus::Invalid;
			Self::close(claim, record, now);
			Self::deposit_event(Event::ClaimInvalidated {
				claim,
				device,
				beneficiary: beneficiary.cloned(),
				rewarded,
				burned,
				stake_slashed,
			});
			Settlement { rewarded, burned, stake_slashed }
		}

		/// A claim's record.
		pub fn claim(id: ClaimId) -> Option<ClaimRecordOf<T>> {
			Claims::<T>::get(id)
		}

		/// An undecided claim's payloads.
		pub fn payload(id: ClaimId) -> Option<ClaimPayloadOf<T>> {
			Payloads::<T>::get(id)
		}

		/// The undecided claims with ids from `from` on, at most `limit` of them, examining at
		/// most [`MAX_LISTING_SCAN`] ids. Also returns the id to continue from, if any ids are
		/// left to examine.
		pub fn pending_claims(
			from: ClaimId,
			limit: u32,
		) -> (Vec<(ClaimId, ClaimRecordOf<T>)>, Option<ClaimId>) {
			let next = NextClaimId::<T>::get();
			let mut found = Vec::new();
			let mut id = from;
			let mut scanned = 0;
			while id < next && (found.len() as u32) < limit && scanned < MAX_LISTING_SCAN {
				if let Some(record) = Claims::<T>::get(id).filter(|r| r.status.is_undecided()) {
					found.push((id, record));
				}
				id = id.saturating_add(1);
				scanned += 1;
			}
			(found, (id < next).then_some(id))
		}

		/// The invariants of this pallet's storage:
		///
		/// 1. every operator's `ClaimBond` hold equals the bonds of its undecided claims;
		/// 2. payloads are stored exactly for the undecided claims, and decode;
		/// 3. `PendingCount` of every device is its number of undecided claims, at most
		///    `MaxPendingPerDevice`, and no zero entries are stored;
		/// 4. claim ids are below `NextClaimId`; no claim below `ExpiryCursor` (which is at most
		///    `NextClaimId`) is `Pending`; a `Disputed` claim has at least one open dispute;
		///    every device's `LastNonce` is at least the nonce of each of its claims;
		/// 5. the prune queue holds exactly the positions `PruneHead..PruneTail`, with due blocks
		///    in order, each naming a decided claim, and every decided claim is queued once.
		#[cfg(any(feature = "try-runtime", feature = "std"))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			use alloc::collections::{btree_map::BTreeMap, btree_set::BTreeSet};
			let next = NextClaimId::<T>::get();
			let cursor = ExpiryCursor::<T>::get();
			ensure!(cursor <= next, "the expiry cursor is past the last claim");
			let mut bonds: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
			let mut pending: BTreeMap<DeviceId, u32> = BTreeMap::new();
			let mut decided = BTreeSet::new();
			for (id, record) in Claims::<T>::iter() {
				ensure!(id < next, "a claim id is not below NextClaimId");
				ensure!(
					LastNonce::<T>::get(record.device).is_some_and(|n| n >= record.nonce),
					"a claim's nonce is above its device's last nonce"
				);
				match record.status {
					ClaimStatus::Pending | ClaimStatus::Disputed { .. } => {
						ensure!(
							!(id < cursor && record.status == ClaimStatus::Pending),
							"a claim passed by expiry is still pending"
						);
						ensure!(
							record.status != ClaimStatus::Disputed { open: 0 },
							"a disputed claim has no open dispute"
						);
						let payload =
							Payloads::<T>::get(id).ok_or("an undecided claim lost its payloads")?;
						ensure!(
							decode_tensors(&payload.input).is_some()
								&& decode_tensors(&payload.output).is_some(),
							"a stored payload does not decode"
						);
						let entry = bonds.entry(record.operator.clone()).or_default();
						*entry = entry.saturating_add(record.bond);
						*pending.entry(record.device).or_default() += 1;
					},
					ClaimStatus::Final | ClaimStatus::Invalid => {
						ensure!(
							!Payloads::<T>::contains_key(id),
							"a decided claim kept its payloads"
						);
						decided.insert(id);
					},
				}
			}
			ensure!(
				Payloads::<T>::iter_keys().count()
					== pending.values().map(|c| *c as usize).sum::<usize>(),
				"payloads of no undecided claim"
			);
			for (operator, amount) in bonds {
				ensure!(
					T::Currency::balance_on_hold(&HoldReason::ClaimBond.into(), &operator)
						== amount,
					"a bond hold does not match the undecided claims"
				);
			}
			ensure!(
				PendingCount::<T>::iter().count() == pending.len(),
				"a pending count of a device without undecided claims"
			);
			for (device, count) in pending {
				ensure!(PendingCount::<T>::get(device) == count, "a pending count is wrong");
				ensure!(count <= T::MaxPendingPerDevice::get(), "a device has too many pending");
			}
			let (head, tail) = (PruneHead::<T>::get(), PruneTail::<T>::get());
			ensure!(head <= tail, "the prune queue's head is past its tail");
			ensure!(
				PruneQueue::<T>::iter_keys().all(|p| (head..tail).contains(&p)),
				"a prune queue entry outside head..tail"
			);
			let mut last_due = None;
			for position in head..tail {
				let (claim, due) =
					PruneQueue::<T>::get(position).ok_or("a hole in the prune queue")?;
				ensure!(last_due.is_none_or(|d| d <= due), "prune queue out of order");
				last_due = Some(due);
				ensure!(decided.remove(&claim), "a queued claim is not decided or queued twice");
			}
			ensure!(decided.is_empty(), "a decided claim is not queued for pruning");
			Ok(())
		}
	}

	impl<T: Config> ClaimRegistry<T::AccountId, BalanceOf<T>, BlockNumberFor<T>> for Pallet<T> {
		fn claim(id: ClaimId) -> Option<ClaimInfoOf<T>> {
			let record = Claims::<T>::get(id)?;
			let payload = Payloads::<T>::get(id);
			Some(ClaimInfo {
				record,
				inputs: payload.as_ref().and_then(|p| decode_tensors(&p.input)),
				outputs: payload.as_ref().and_then(|p| decode_tensors(&p.output)),
			})
		}

		fn note_dispute_opened(id: ClaimId) -> DispatchResult {
			let now = frame_system::Pallet::<T>::block_number();
			let open = Claims::<T>::try_mutate(id, |record| -> Result<u32, DispatchError> {
				let record = record.as_mut().ok_or(Error::<T>::UnknownClaim)?;
				let open = match record.status {
					ClaimStatus::Pending => 1,
					ClaimStatus::Disputed { open } => {
						open.checked_add(1).ok_or(ArithmeticError::Overflow)?
					},
					ClaimStatus::Final | ClaimStatus::Invalid => {
						return Err(Error::<T>::ClaimDecided.into())
					},
				};
				ensure!(now < record.challenge_ends, Error::<T>::ChallengePeriodOver);
				record.status = ClaimStatus::Disputed { open };
				Ok(open)
			})?;
			Self::deposit_event(Event::ClaimDisputed { claim: id, open });
			Ok(())
		}

		fn note_dispute_resolved(
			id: ClaimId,
			claimant_won: bool,
			beneficiary: Option<&T::AccountId>,
		) -> Result<Settlement<BalanceOf<T>>, DispatchError> {
			let now = frame_system::Pallet::<T>::block_number();
			let mut record = Claims::<T>::get(id).ok_or(Error::<T>::UnknownClaim)?;
			let open = match record.status {
				ClaimStatus::Disputed { open } => open,
				ClaimStatus::Invalid => {
					if claimant_won {
						T::Devices::note_dispute_won(&record.device);
					}
					return Ok(Settlement::default());
				},
				ClaimStatus::Pending | ClaimStatus::Final => {
					return Err(Error::<T>::NoOpenDispute.into())
				},
			};
			if !claimant_won {
				return Ok(Self::invalidate(id, record, beneficiary, now));
			}
			let open = open.saturating_sub(1);
			T::Devices::note_dispute_won(&record.device);
			Self::deposit_event(Event::ClaimDefended { claim: id, open });
			if open > 0 {
				record.status = ClaimStatus::Disputed { open };
				Claims::<T>::insert(id, record);
			} else if now >= record.challenge_ends {
				Self::finalize(id, record, now);
			} else {
				record.status = ClaimStatus::Pending;
				Claims::<T>::insert(id, record);
			}
			Ok(Settlement::default())
		}
	}
}

/// Runtime API of the attestations pallet, for clients and the checker.
pub mod runtime_api {
	use super::*;
	use alloc::vec::Vec;

	sp_api::decl_runtime_apis! {
		/// Reads claims.
		pub trait AttestationsApi<Claim, Payload> where
			Claim: codec::Codec,
			Payload: codec::Codec,
		{
			/// A claim's record (until it is pruned).
			fn claim(id: ClaimId) -> Option<Claim>;
			/// An undecided claim's input and output payloads.
			fn claim_payload(id: ClaimId) -> Option<Payload>;
			/// Undecided claims with ids from `from` on, at most `limit`, examining at most
			/// 4096 ids; and the id to continue from, if ids are left to examine.
			fn pending_claims(from: ClaimId, limit: u32) -> (Vec<(ClaimId, Claim)>, Option<ClaimId>);
		}
	}
}
