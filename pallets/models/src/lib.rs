//! # Model registry (`pallet-models`)
//!
//! ## Overview
//!
//! Registers ONNX models by content hash so that devices can make claims about them and
//! validators can re-run them. A model record holds the file's hash, a family name and version,
//! where to fetch the file, its input and output tensor specs, the tolerance claims are judged
//! by, and the root and size of its canonical program (`edgeproof-canon`). Its id
//! ([`ModelId`], [`model_id`]) is the hash of the file hash, the owner, the specs and the
//! tolerance: anyone may register a public file, but only under an id of their own, so nobody
//! can squat a file and lock its real owner out. Registering holds a deposit from the owner,
//! sized by the bytes stored.
//!
//! A model starts `Pending`. Validators' off-chain workers fetch the file, check its hash,
//! compile it, compare the program root and limits, and [`Pallet::vote`]; when the ayes (or the
//! nays) of the current voters reach [`Config::VoteThreshold`], the model becomes `Active` (or
//! `Rejected`); votes of accounts that have left the voter set do not count. The
//! [`Config::ActivationOrigin`] may decide directly, for bootstrapping. A model still pending
//! [`Config::PendingTimeout`] blocks after its registration expires (`Rejected`, reason
//! [`RejectionReason::Expired`]), so that registrations nobody can check do not hold the
//! [`Config::MaxPendingModels`] slots forever; one account holds at most
//! [`Config::MaxPendingPerOwner`] of them. A rejected registration blocks nobody: it leaves
//! its family (name and version are free again) and its owner may register the same file and
//! specs again, replacing it. Only `Active` models take new claims
//! ([`ModelRegistry`]). The owner may deprecate an active model, retire a deprecated one
//! (getting the deposit back) and move its URI; the content hash never changes: a new file is a
//! new model.
//!
//! ## Interface
//!
//! - [`Pallet::register_model`]: register a model, holding the deposit.
//! - [`Pallet::vote`]: a voter's verdict on a pending model.
//! - [`Pallet::activate`], [`Pallet::reject`]: the activation origin decides a pending model.
//! - [`Pallet::deprecate`], [`Pallet::retire`], [`Pallet::set_uri`]: owner actions.
//! - [`ModelRegistry`]: what other pallets may ask (status, tolerance, program, tensor specs).
//!
//! ## Terms
//!
//! - *Family*: the versions registered under one name, listed in [`Families`].
//! - *Deposit*: `DepositBase + DepositPerByte × encoded size of the registration`. Returned on
//!   retirement; on rejection (expiry included) [`Config::RejectionSlash`] of it is burned and
//!   the rest returned.
//! - *Tolerance*: how far a claimed output may be from the canonical one; the runtime caps it
//!   ([`Config::MaxToleranceAbs`], [`Config::MaxToleranceRel`]) so that every model stays
//!   disputable.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
pub mod checker_tx;
#[cfg(test)]
mod mock;
pub mod offchain;
#[cfg(test)]
mod offchain_tests;
#[cfg(any(test, feature = "std"))]
pub mod testing;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

use alloc::vec::Vec;
use edgeproof_canon::{Tensor, Tolerance};
use frame_support::traits::fungible::{Inspect, MutateHold};

/// The log target of this pallet.
pub const LOG_TARGET: &str = "runtime::models";

/// Balance type of the currency this pallet holds deposits in.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// A tensor spec with the runtime's bounds.
pub type TensorSpecOf<T> = TensorSpec<<T as Config>::MaxNameLen, <T as Config>::MaxDims>;

/// Registration parameters with the runtime's bounds.
pub type ModelParamsOf<T> = ModelParams<
	<T as Config>::MaxNameLen,
	<T as Config>::MaxUriLen,
	<T as Config>::MaxTensors,
	<T as Config>::MaxDims,
>;

/// A stored model record.
pub type ModelRecordOf<T> = ModelRecord<
	<T as frame_system::Config>::AccountId,
	BalanceOf<T>,
	frame_system::pallet_prelude::BlockNumberFor<T>,
	ModelParamsOf<T>,
>;

/// Who may vote on pending models, and how many they are (the quorum is computed from it).
pub trait VoterSet<AccountId> {
	/// May `who` vote?
	fn is_voter(who: &AccountId) -> bool;
	/// How many voters there are now.
	fn count() -> u32;
	/// Makes the voter set `n` fresh accounts and returns them (benchmarks only).
	#[cfg(feature = "runtime-benchmarks")]
	fn set_benchmark_voters(n: u32) -> Vec<AccountId>;
}

/// What other pallets (attestations, disputes) may ask about models.
pub trait ModelRegistry {
	/// Status, tolerance and program of a model, if registered.
	fn summary(model: &ModelId) -> Option<ModelSummary>;

	/// Does the model take new claims (is it `Active`)?
	fn accepts_claims(model: &ModelId) -> bool {
		Self::summary(model).is_some_and(|s| s.status == ModelStatus::Active)
	}

	/// Do `inputs` and `outputs` match the model's declared specs, in number, dtype and shape?
	fn matches_specs(model: &ModelId, inputs: &[Tensor], outputs: &[Tensor]) -> bool;

	/// The model's file: its hash and fetch URI, as the `inference` host functions take them.
	fn file(model: &ModelId) -> Option<ModelFile>;
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{InspectHold, Mutate},
			tokens::{Fortitude, Precision},
		},
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::{traits::Zero, Perbill, Saturating};

	/// The in-code storage version.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The deposit of a registered model.
		#[codec(index = 0)]
		ModelDeposit,
	}

	/// Defaults for the configurations of mock runtimes (`#[derive_impl]`).
	pub mod config_preludes {
		use super::*;
		use frame_support::{
			derive_impl,
			traits::{ConstU32, ConstU64},
		};

		/// The values the test runtimes of this and the dependent pallets share; each mock
		/// sets the types only a runtime can give (currency, origins, voters, signing) and
		/// overrides what its tests need.
		pub struct TestDefaultConfig;

		#[derive_impl(frame_system::config_preludes::TestDefaultConfig, no_aggregated_types)]
		impl frame_system::DefaultConfig for TestDefaultConfig {}

		frame_support::parameter_types! {
			pub const TestVoteThreshold: Perbill = Perbill::from_percent(66);
			pub const TestRejectionSlash: Perbill = Perbill::from_percent(10);
			/// Small enough that the mocks' one-steps fit their 1 s blocks.
			pub const TestDisputeLimits: edgeproof_canon::Limits = edgeproof_canon::Limits {
				max_elements: 1 << 20,
				max_dims: 6,
				max_nodes: 1_000,
				max_node_work: 1 << 20,
				max_step_bytes: 1 << 20,
				max_program_work: 1 << 30,
				max_trace_bytes: 1 << 28,
			};
			/// Canon's default sub-steps, and cuts of up to 1 Mi units.
			pub const TestSecondLevelLimits: edgeproof_primitives::SecondLevelLimits =
				edgeproof_primitives::SecondLevelLimits {
					sub_step: edgeproof_canon::substep::SubStepLimits::DEFAULT,
					max_cut_cost: 1 << 20,
				};
		}

		#[frame_support::register_default_impl(TestDefaultConfig)]
		impl DefaultConfig for TestDefaultConfig {
			#[inject_runtime_type]
			type RuntimeHoldReason = ();
			type VoteThreshold = TestVoteThreshold;
			type DepositBase = ConstU64<10>;
			type DepositPerByte = ConstU64<1>;
			type RejectionSlash = TestRejectionSlash;
			type MaxNameLen = ConstU32<32>;
			type MaxUriLen = ConstU32<256>;
			type MaxTensors = ConstU32<4>;
			type MaxDims = ConstU32<6>;
			type MaxTensorElements = ConstU64<{ 1 << 20 }>;
			type MaxModelBytes = ConstU64<{ 64 << 20 }>;
			type MaxVersions = ConstU32<8>;
			type MaxVoters = ConstU32<8>;
			type MaxPendingModels = ConstU32<16>;
			type MaxPendingPerOwner = ConstU32<16>;
			type PendingTimeout = ConstU64<1_000>;
			type MaxToleranceAbs = ConstU32<{ 1e-2f32.to_bits() }>;
			type MaxToleranceRel = ConstU32<{ 1e-2f32.to_bits() }>;
			type DisputeLimits = TestDisputeLimits;
			type SecondLevelLimits = TestSecondLevelLimits;
			type WeightInfo = ();
		}
	}

	#[pallet::config(with_default)]
	pub trait Config:
		frame_system::Config<RuntimeEvent: From<Event<Self>>>
		+ frame_system::offchain::CreateSignedTransaction<Call<Self>>
	{
		/// The currency deposits are held in.
		#[pallet::no_default]
		type Currency: Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ InspectHold<Self::AccountId>;

		/// The overarching hold reason.
		#[pallet::no_default_bounds]
		type RuntimeHoldReason: From<HoldReason>;

		/// May activate or reject pending models without a vote (root on dev chains).
		#[pallet::no_default]
		type ActivationOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// The validators whose off-chain workers vote on pending models.
		#[pallet::no_default]
		type Voters: VoterSet<Self::AccountId>;

		/// Share of the voters whose ayes (or nays) decide a pending model (rounded up, at
		/// least one voter).
		#[pallet::constant]
		type VoteThreshold: Get<Perbill>;

		/// Fixed part of the deposit.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type DepositBase: Get<BalanceOf<Self>>;

		/// Deposit per byte of the encoded registration.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type DepositPerByte: Get<BalanceOf<Self>>;

		/// Share of the deposit burned when a model is rejected, by vote, by the activation
		/// origin or by expiry.
		#[pallet::constant]
		type RejectionSlash: Get<Perbill>;

		/// Longest name, in bytes (also bounds tensor names).
		#[pallet::constant]
		type MaxNameLen: Get<u32>;

		/// Longest URI, in bytes.
		#[pallet::constant]
		type MaxUriLen: Get<u32>;

		/// Most inputs, and most outputs, of a model.
		#[pallet::constant]
		type MaxTensors: Get<u32>;

		/// Highest tensor rank.
		#[pallet::constant]
		type MaxDims: Get<u32>;

		/// Most elements of one declared tensor (at its largest batch).
		#[pallet::constant]
		type MaxTensorElements: Get<u64>;

		/// Largest ONNX file, in bytes.
		#[pallet::constant]
		type MaxModelBytes: Get<u64>;

		/// Most versions in one family.
		#[pallet::constant]
		type MaxVersions: Get<u32>;

		/// Most voters counted per model (at least the size of the voter set).
		#[pallet::constant]
		type MaxVoters: Get<u32>;

		/// Most models pending at once (registration is refused beyond).
		#[pallet::constant]
		type MaxPendingModels: Get<u32>;

		/// Most models one account may have pending at once (its registration is refused
		/// beyond), so that one account cannot take all `MaxPendingModels` slots.
		#[pallet::constant]
		type MaxPendingPerOwner: Get<u32>;

		/// Blocks after its registration at which a model still pending expires: it is
		/// rejected ([`RejectionReason::Expired`]) and [`Config::RejectionSlash`] of its deposit
		/// burned, so that registrations the validators cannot check (a URI that never
		/// answers) do not hold pending slots forever.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type PendingTimeout: Get<BlockNumberFor<Self>>;

		/// Largest `abs` a [`Tolerance::Relative`] may declare, as an IEEE-754 binary32 bit
		/// pattern (`f32::to_bits`). A looser bound would let claims on the model stray so far
		/// from the canonical output that they could not be disputed.
		#[pallet::constant]
		type MaxToleranceAbs: Get<u32>;

		/// Largest `rel` a [`Tolerance::Relative`] may declare, as an IEEE-754 binary32 bit
		/// pattern (`f32::to_bits`).
		#[pallet::constant]
		type MaxToleranceRel: Get<u32>;

		/// The limits a model must stay within to be disputable: the canonical program's size
		/// and one operator's work, which the runtime must be able to execute in a block, and
		/// the whole program's work and trace bytes, which every checker spends on a claim.
		/// Validators reject models beyond them.
		#[pallet::constant]
		type DisputeLimits: Get<edgeproof_canon::Limits>;

		/// What a node over the one-step limits may be settled by instead (pallet-disputes'
		/// second level): validators accept such a node when it can be cut into sub-steps
		/// within these.
		#[pallet::constant]
		type SecondLevelLimits: Get<edgeproof_primitives::SecondLevelLimits>;

		/// The key validators' off-chain workers sign their votes with (the checker key).
		#[pallet::no_default]
		type CheckerCrypto: frame_system::offchain::AppCrypto<Self::Public, Self::Signature>;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
	}

	/// Registered models by id.
	#[pallet::storage]
	pub type Models<T: Config> = StorageMap<_, Blake2_128Concat, ModelId, ModelRecordOf<T>>;

	/// The least key assurance a device needs to claim on a model; a model without an entry
	/// takes claims from every device ([`KeyAssurance::Unproven`]).
	#[pallet::storage]
	pub type KeyRequirements<T: Config> = StorageMap<_, Blake2_128Concat, ModelId, KeyAssurance>;

	/// The versions of each model family, in registration order.
	#[pallet::storage]
	pub type Families<T: Config> = StorageMap<
		_,
		Blake2_128Concat,
		BoundedVec<u8, T::MaxNameLen>,
		BoundedVec<(u32, ModelId), T::MaxVersions>,
		ValueQuery,
	>;

	/// The pending models (an index of [`Models`] for the validators' off-chain workers), with
	/// their registration block. At most [`Config::MaxPendingModels`].
	#[pallet::storage]
	pub type PendingModels<T: Config> =
		CountedStorageMap<_, Blake2_128Concat, ModelId, BlockNumberFor<T>>;

	/// The pending models in registration order, with their owner and registration block: the
	/// expiry queue (its front expires first, see [`Config::PendingTimeout`]) and the count of
	/// each owner's pending models ([`Config::MaxPendingPerOwner`]). The same models as
	/// [`PendingModels`].
	#[pallet::storage]
	pub type PendingQueue<T: Config> = StorageValue<
		_,
		BoundedVec<PendingEntry<T::AccountId, BlockNumberFor<T>>, T::MaxPendingModels>,
		ValueQuery,
	>;

	/// Votes cast on pending models. Removed when the model is decided.
	#[pallet::storage]
	pub type Votes<T: Config> = StorageMap<
		_,
		Blake2_128Concat,
		ModelId,
		BoundedVec<(T::AccountId, Verdict), T::MaxVoters>,
		ValueQuery,
	>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A model was registered and is pending validation.
		ModelRegistered {
			model: ModelId,
			file_hash: FileHash,
			owner: T::AccountId,
			name: BoundedVec<u8, T::MaxNameLen>,
			version: u32,
			deposit: BalanceOf<T>,
		},
		/// A voter gave its verdict on a pending model; `ayes` and `nays` count the votes of
		/// the current voters.
		VoteCast { model: ModelId, voter: T::AccountId, verdict: Verdict, ayes: u32, nays: u32 },
		/// A model became active and takes claims.
		ModelActivated { model: ModelId },
		/// A model was rejected (or expired, see `reason`); `slashed` of its deposit was
		/// burned, the rest returned.
		ModelRejected { model: ModelId, reason: RejectionReason, slashed: BalanceOf<T> },
		/// A model was deprecated: it takes no new claims.
		ModelDeprecated { model: ModelId },
		/// A model was retired and its deposit returned.
		ModelRetired { model: ModelId, deposit_returned: BalanceOf<T> },
		/// A model's fetch URI changed; the deposit moved by the size difference.
		UriUpdated { model: ModelId, uri: BoundedVec<u8, T::MaxUriLen>, deposit: BalanceOf<T> },
		/// Claims on a model now need devices of at least `requirement`.
		KeyRequirementSet { model: ModelId, requirement: KeyAssurance },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The owner has registered this file with these specs and tolerance already (the
		/// same [`model_id`]), and that registration was not rejected.
		ModelExists,
		/// No model with this id is registered.
		UnknownModel,
		/// Only the model's owner may do this.
		NotOwner,
		/// The model's status does not allow this (see the lifecycle in the pallet docs).
		IllegalTransition,
		/// The family already has a model with this version.
		VersionExists,
		/// The family has the maximum number of versions.
		TooManyVersions,
		/// The name is empty.
		EmptyName,
		/// The URI is not `file://`, `http://` or `https://` followed by a location.
		InvalidUri,
		/// A model needs at least one input and one output.
		NoTensors,
		/// A tensor dimension is zero.
		ZeroDimension,
		/// A declared tensor has more elements than `MaxTensorElements`.
		TensorTooLarge,
		/// The file size is zero or above `MaxModelBytes`.
		InvalidByteSize,
		/// The program has no nodes.
		NoNodes,
		/// The tolerance bounds must be finite, non-negative f32 bit patterns.
		InvalidTolerance,
		/// The owner cannot afford the deposit.
		InsufficientDeposit,
		/// The caller is not a voter.
		NotVoter,
		/// The caller already voted on this model.
		AlreadyVoted,
		/// More votes than `MaxVoters`.
		TooManyVotes,
		/// The new URI is the current one.
		SameUri,
		/// `MaxPendingModels` models are already pending; try again once some are decided.
		TooManyPendingModels,
		/// The tolerance's `abs` is above `MaxToleranceAbs` or its `rel` above
		/// `MaxToleranceRel` (see the constants): claims on the model could not be disputed.
		ToleranceTooLoose,
		/// The owner already has `MaxPendingPerOwner` models pending; register this one once
		/// one of them is decided or has expired.
		TooManyPendingPerOwner,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Expires the pending models registered [`Config::PendingTimeout`] blocks ago.
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			T::WeightInfo::expire_pending_models(Self::expire_due(now))
		}

		fn integrity_test() {
			assert!(T::MaxNameLen::get() > 0, "MaxNameLen must be positive");
			assert!(T::MaxUriLen::get() >= 8, "MaxUriLen must fit a scheme and a location");
			assert!(T::MaxTensors::get() > 0 && T::MaxDims::get() > 0, "specs need room");
			assert!(T::MaxVersions::get() > 0, "families need room for one version");
			assert!(!T::VoteThreshold::get().is_zero(), "a zero threshold decides on no votes");
			assert!(T::MaxPendingModels::get() > 0, "models must be able to pend");
			assert!(T::MaxPendingPerOwner::get() > 0, "owners must be able to register");
			assert!(!T::PendingTimeout::get().is_zero(), "validators need a block to vote");
			let caps = Tolerance::Relative {
				abs: T::MaxToleranceAbs::get(),
				rel: T::MaxToleranceRel::get(),
			};
			assert!(valid_tolerance(caps), "the tolerance caps must be finite and non-negative");
			assert!(
				T::WeightInfo::expire_pending_models(T::MaxPendingModels::get())
					.all_lte(<T as frame_system::Config>::BlockWeights::get().max_block),
				"expiring every pending model must fit a block"
			);
		}

		/// Votes on pending models with this node's checker keys (see [`offchain`]).
		fn offchain_worker(now: BlockNumberFor<T>) {
			offchain::vote_on_pending_models::<T>(now);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Register an ONNX model. It starts `Pending` until validators (or the activation
		/// origin) check it.
		///
		/// - `origin`: signed; becomes the owner and pays the deposit.
		/// - `params`: the file hash, name, version, URI, byte size, tensor specs, tolerance,
		///   program root, node count and program work.
		///
		/// The model's id is [`model_id`] of the owner and `params`: registrations of one file
		/// by different owners, or with different specs or tolerances, are different models. A
		/// registration that was rejected (by vote, by the activation origin or on expiry) may
		/// be made again: the new one replaces the rejected record. A rejected model's name and
		/// version are free again.
		///
		/// Errors: `ModelExists` (this owner's same registration exists and was not rejected),
		/// `VersionExists`,
		/// `TooManyVersions`, `EmptyName`,
		/// `InvalidUri`, `NoTensors`, `ZeroDimension`, `TensorTooLarge`, `InvalidByteSize`,
		/// `NoNodes`, `InvalidTolerance`, `ToleranceTooLoose`, `TooManyPendingModels`,
		/// `TooManyPendingPerOwner`, `InsufficientDeposit`.
		///
		/// Emits `ModelRegistered`. Unless decided first, the model expires
		/// [`Config::PendingTimeout`] blocks later (`ModelRejected`, reason `Expired`).
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_model())]
		pub fn register_model(origin: OriginFor<T>, params: ModelParamsOf<T>) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			let model = model_id(&owner, &params);
			// A rejected registration holds nothing (its deposit was settled, it left its
			// family): registering it again replaces it.
			ensure!(
				Models::<T>::get(model).is_none_or(|r| r.status == ModelStatus::Rejected),
				Error::<T>::ModelExists
			);
			Self::validate_params(&params)?;
			ensure!(
				PendingModels::<T>::count() < T::MaxPendingModels::get(),
				Error::<T>::TooManyPendingModels
			);
			let mut queue = PendingQueue::<T>::get();
			let owned = queue.iter().filter(|entry| entry.owner == owner).count();
			ensure!(
				owned < T::MaxPendingPerOwner::get() as usize,
				Error::<T>::TooManyPendingPerOwner
			);
			let now = frame_system::Pallet::<T>::block_number();
			queue
				.try_push(PendingEntry { model, owner: owner.clone(), registered_at: now })
				.map_err(|_| Error::<T>::TooManyPendingModels)?;

			let mut family = Families::<T>::get(&params.name);
			ensure!(family.iter().all(|(v, _)| *v != params.version), Error::<T>::VersionExists);
			family.try_push((params.version, model)).map_err(|_| Error::<T>::TooManyVersions)?;

			let deposit = Self::deposit_for(&params);
			T::Currency::hold(&HoldReason::ModelDeposit.into(), &owner, deposit)
				.map_err(|_| Error::<T>::InsufficientDeposit)?;

			let name = params.name.clone();
			let (version, file_hash) = (params.version, params.file_hash);
			Families::<T>::insert(&name, family);
			PendingModels::<T>::insert(model, now);
			PendingQueue::<T>::put(queue);
			Models::<T>::insert(
				model,
				ModelRecord {
					params,
					owner: owner.clone(),
					deposit,
					status: ModelStatus::Pending,
					registered_at: now,
				},
			);
			Self::deposit_event(Event::ModelRegistered {
				model,
				file_hash,
				owner,
				name,
				version,
				deposit,
			});
			Ok(())
		}

		/// Activate a pending model without a vote.
		///
		/// - `origin`: [`Config::ActivationOrigin`].
		///
		/// Errors: `UnknownModel`, `IllegalTransition` (not pending). Emits `ModelActivated`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::activate())]
		pub fn activate(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			T::ActivationOrigin::ensure_origin(origin)?;
			Self::do_activate(model)
		}

		/// Reject a pending model without a vote; [`Config::RejectionSlash`] of the deposit is
		/// burned, the rest returned.
		///
		/// - `origin`: [`Config::ActivationOrigin`].
		///
		/// Errors: `UnknownModel`, `IllegalTransition` (not pending). Emits `ModelRejected`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::reject())]
		pub fn reject(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			T::ActivationOrigin::ensure_origin(origin)?;
			Self::do_reject(model, RejectionReason::Governance)
		}

		/// Give a voter's verdict on a pending model. When the ayes or the nays reach the
		/// threshold of the current voter count, the model is activated or rejected. Only the
		/// votes of current voters count: those of accounts that have left the voter set are
		/// dropped.
		///
		/// - `origin`: signed by a voter ([`Config::Voters`]).
		/// - `verdict`: `Approve` if the file, hash, program and limits check out.
		///
		/// Errors: `NotVoter`, `UnknownModel`, `IllegalTransition` (not pending),
		/// `AlreadyVoted`, `TooManyVotes`. Emits `VoteCast`, then possibly `ModelActivated` or
		/// `ModelRejected`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::vote_and_decide().max(T::WeightInfo::vote()))]
		pub fn vote(
			origin: OriginFor<T>,
			model: ModelId,
			verdict: Verdict,
		) -> DispatchResultWithPostInfo {
			let voter = ensure_signed(origin)?;
			ensure!(T::Voters::is_voter(&voter), Error::<T>::NotVoter);
			let record = Models::<T>::get(model).ok_or(Error::<T>::UnknownModel)?;
			ensure!(record.status == ModelStatus::Pending, Error::<T>::IllegalTransition);
			let mut votes = Votes::<T>::get(model);
			// A voter that left the set no longer decides, nor takes room from current ones.
			votes.retain(|(who, _)| T::Voters::is_voter(who));
			ensure!(votes.iter().all(|(who, _)| *who != voter), Error::<T>::AlreadyVoted);
			votes.try_push((voter.clone(), verdict)).map_err(|_| Error::<T>::TooManyVotes)?;

			let ayes = votes.iter().filter(|(_, v)| *v == Verdict::Approve).count() as u32;
			let nays = votes.len() as u32 - ayes;
			Votes::<T>::insert(model, votes);
			Self::deposit_event(Event::VoteCast { model, voter, verdict, ayes, nays });

			let required = T::VoteThreshold::get().mul_ceil(T::Voters::count()).max(1);
			if ayes >= required {
				Self::do_activate(model)?;
			} else if nays >= required {
				Self::do_reject(model, RejectionReason::Voted)?;
			} else {
				return Ok(Some(T::WeightInfo::vote()).into());
			}
			Ok(Some(T::WeightInfo::vote_and_decide()).into())
		}

		/// Deprecate an active model: it takes no new claims; existing ones go on.
		///
		/// - `origin`: signed by the owner.
		///
		/// Errors: `UnknownModel`, `NotOwner`, `IllegalTransition` (not active).
		/// Emits `ModelDeprecated`.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::deprecate())]
		pub fn deprecate(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::owner_transition(&who, model, ModelStatus::Active, ModelStatus::Deprecated)?;
			Self::deposit_event(Event::ModelDeprecated { model });
			Ok(())
		}

		/// Retire a deprecated model and return its deposit. The record stays (status
		/// `Retired`) so that old claims can still be explained.
		///
		/// - `origin`: signed by the owner.
		///
		/// Errors: `UnknownModel`, `NotOwner`, `IllegalTransition` (not deprecated).
		/// Emits `ModelRetired`.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::retire())]
		pub fn retire(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let record =
				Self::owner_transition(&who, model, ModelStatus::Deprecated, ModelStatus::Retired)?;
			let returned = Self::release_deposit(&record, Perbill::zero())?;
			Self::deposit_event(Event::ModelRetired { model, deposit_returned: returned });
			Ok(())
		}

		/// Move a model's fetch URI (the file and the id stay the same). The deposit
		/// grows or shrinks with the URI's length.
		///
		/// - `origin`: signed by the owner.
		/// - `uri`: the new `file://`, `http://` or `https://` URI.
		///
		/// Errors: `UnknownModel`, `NotOwner`, `IllegalTransition` (retired or rejected),
		/// `InvalidUri`, `SameUri`, `InsufficientDeposit`. Emits `UriUpdated`.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::set_uri())]
		pub fn set_uri(
			origin: OriginFor<T>,
			model: ModelId,
			uri: BoundedVec<u8, T::MaxUriLen>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut record = Models::<T>::get(model).ok_or(Error::<T>::UnknownModel)?;
			ensure!(record.owner == who, Error::<T>::NotOwner);
			ensure!(
				matches!(
					record.status,
					ModelStatus::Pending | ModelStatus::Active | ModelStatus::Deprecated
				),
				Error::<T>::IllegalTransition
			);
			ensure!(valid_uri(&uri), Error::<T>::InvalidUri);
			ensure!(record.params.uri != uri, Error::<T>::SameUri);

			record.params.uri = uri.clone();
			let new_deposit = Self::deposit_for(&record.params);
			let reason = HoldReason::ModelDeposit.into();
			if new_deposit > record.deposit {
				T::Currency::hold(&reason, &who, new_deposit.saturating_sub(record.deposit))
					.map_err(|_| Error::<T>::InsufficientDeposit)?;
			} else if new_deposit < record.deposit {
				T::Currency::release(
					&reason,
					&who,
					record.deposit.saturating_sub(new_deposit),
					Precision::Exact,
				)?;
			}
			record.deposit = new_deposit;
			Models::<T>::insert(model, record);
			Self::deposit_event(Event::UriUpdated { model, uri, deposit: new_deposit });
			Ok(())
		}

		/// Require devices that claim on `model` to hold keys of at least `requirement`
		/// (pallet-devices' [`KeyAssurance`]: a TEE or a secure element proven by an
		/// attestation). Applies to claims submitted from now on; `Unproven` lifts it.
		///
		/// - `origin`: signed by the owner.
		///
		/// Errors: `UnknownModel`, `NotOwner`, `IllegalTransition` (retired or rejected).
		/// Emits `KeyRequirementSet`.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::set_key_requirement())]
		pub fn set_key_requirement(
			origin: OriginFor<T>,
			model: ModelId,
			requirement: KeyAssurance,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let record = Models::<T>::get(model).ok_or(Error::<T>::UnknownModel)?;
			ensure!(record.owner == who, Error::<T>::NotOwner);
			ensure!(
				matches!(
					record.status,
					ModelStatus::Pending | ModelStatus::Active | ModelStatus::Deprecated
				),
				Error::<T>::IllegalTransition
			);
			if requirement == KeyAssurance::Unproven {
				KeyRequirements::<T>::remove(model);
			} else {
				KeyRequirements::<T>::insert(model, requirement);
			}
			Self::deposit_event(Event::KeyRequirementSet { model, requirement });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// The deposit a registration costs.
		pub fn deposit_for(params: &ModelParamsOf<T>) -> BalanceOf<T> {
			let bytes: BalanceOf<T> = (params.encoded_size() as u32).into();
			T::DepositBase::get().saturating_add(T::DepositPerByte::get().saturating_mul(bytes))
		}

		fn validate_params(params: &ModelParamsOf<T>) -> DispatchResult {
			ensure!(!params.name.is_empty(), Error::<T>::EmptyName);
			ensure!(valid_uri(&params.uri), Error::<T>::InvalidUri);
			ensure!(
				params.byte_size > 0 && params.byte_size <= T::MaxModelBytes::get(),
				Error::<T>::InvalidByteSize
			);
			ensure!(params.node_count > 0, Error::<T>::NoNodes);
			ensure!(valid_tolerance(params.tolerance), Error::<T>::InvalidTolerance);
			ensure!(
				tolerance_within_caps(
					params.tolerance,
					T::MaxToleranceAbs::get(),
					T::MaxToleranceRel::get()
				),
				Error::<T>::ToleranceTooLoose
			);
			ensure!(!params.inputs.is_empty() && !params.outputs.is_empty(), Error::<T>::NoTensors);
			for spec in params.inputs.iter().chain(params.outputs.iter()) {
				ensure!(spec.shape.iter().all(|&d| d > 0), Error::<T>::ZeroDimension);
				ensure!(
					spec.max_elements() <= T::MaxTensorElements::get(),
					Error::<T>::TensorTooLarge
				);
			}
			Ok(())
		}

		pub(crate) fn do_activate(model: ModelId) -> DispatchResult {
			Models::<T>::try_mutate(model, |record| -> DispatchResult {
				let record = record.as_mut().ok_or(Error::<T>::UnknownModel)?;
				ensure!(record.status == ModelStatus::Pending, Error::<T>::IllegalTransition);
				record.status = ModelStatus::Active;
				Ok(())
			})?;
			Self::unlist_pending(model);
			Self::deposit_event(Event::ModelActivated { model });
			Ok(())
		}

		fn do_reject(model: ModelId, reason: RejectionReason) -> DispatchResult {
			let record = Models::<T>::try_mutate(model, |record| {
				let record = record.as_mut().ok_or(Error::<T>::UnknownModel)?;
				ensure!(record.status == ModelStatus::Pending, Error::<T>::IllegalTransition);
				record.status = ModelStatus::Rejected;
				Ok::<_, DispatchError>(record.clone())
			})?;
			Self::unlist_pending(model);
			// The name and version are free again.
			Families::<T>::mutate_exists(&record.params.name, |family| {
				if let Some(versions) = family {
					versions.retain(|(_, id)| *id != model);
					if versions.is_empty() {
						*family = None;
					}
				}
			});
			let returned = Self::release_deposit(&record, T::RejectionSlash::get())?;
			let slashed = record.deposit.saturating_sub(returned);
			Self::deposit_event(Event::ModelRejected { model, reason, slashed });
			Ok(())
		}

		/// Drops a decided model's votes and its entries in [`PendingModels`] and
		/// [`PendingQueue`].
		fn unlist_pending(model: ModelId) {
			Votes::<T>::remove(model);
			PendingModels::<T>::remove(model);
			PendingQueue::<T>::mutate(|queue| queue.retain(|entry| entry.model != model));
		}

		/// Rejects, oldest first, the pending models registered [`Config::PendingTimeout`] or
		/// more blocks before `now` (reason `Expired`, [`Config::RejectionSlash`] burned);
		/// returns how many, at most `MaxPendingModels`.
		pub(crate) fn expire_due(now: BlockNumberFor<T>) -> u32 {
			let timeout = T::PendingTimeout::get();
			// The queue is in registration order, so the due models are its front.
			let due: Vec<ModelId> = PendingQueue::<T>::get()
				.iter()
				.take_while(|entry| entry.registered_at.saturating_add(timeout) <= now)
				.map(|entry| entry.model)
				.collect();
			for &model in &due {
				// Hooks are not transactional: an expiry is done in full or not at all.
				let expired = frame_support::storage::with_storage_layer(|| {
					Self::do_reject(model, RejectionReason::Expired)
				});
				if let Err(e) = expired {
					frame_support::defensive!("a queued pending model could not expire", e);
					// Not retried in every block: it leaves the queue.
					PendingQueue::<T>::mutate(|queue| queue.retain(|entry| entry.model != model));
				}
			}
			due.len() as u32
		}

		/// Burns `slash` of the record's deposit and releases the rest; returns what was
		/// released.
		fn release_deposit(
			record: &ModelRecordOf<T>,
			slash: Perbill,
		) -> Result<BalanceOf<T>, DispatchError> {
			let reason = HoldReason::ModelDeposit.into();
			let burn = slash * record.deposit;
			if !burn.is_zero() {
				T::Currency::burn_held(
					&reason,
					&record.owner,
					burn,
					Precision::BestEffort,
					Fortitude::Force,
				)?;
			}
			let rest = record.deposit.saturating_sub(burn);
			T::Currency::release(&reason, &record.owner, rest, Precision::BestEffort)
		}

		fn owner_transition(
			who: &T::AccountId,
			model: ModelId,
			from: ModelStatus,
			to: ModelStatus,
		) -> Result<ModelRecordOf<T>, DispatchError> {
			Models::<T>::try_mutate(model, |record| {
				let record = record.as_mut().ok_or(Error::<T>::UnknownModel)?;
				ensure!(record.owner == *who, Error::<T>::NotOwner);
				ensure!(record.status == from, Error::<T>::IllegalTransition);
				record.status = to;
				Ok(record.clone())
			})
		}

		/// The invariants of this pallet's storage:
		///
		/// 1. every owner's `ModelDeposit` hold equals the deposits of its models that are not
		///    retired or rejected;
		/// 2. every model is listed in its family under its version, and every family entry is
		///    a model of that name and version;
		/// 3. votes exist only for pending models, from distinct voters;
		/// 4. [`PendingModels`] lists exactly the pending models, with their registration
		///    block, and its counter is their number;
		/// 5. [`PendingQueue`] lists exactly the pending models too, once each, with their owner
		///    and registration block, in registration order.
		#[cfg(any(feature = "try-runtime", feature = "std"))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			use alloc::collections::btree_map::BTreeMap;
			let mut held: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
			for (id, record) in Models::<T>::iter() {
				if matches!(
					record.status,
					ModelStatus::Pending | ModelStatus::Active | ModelStatus::Deprecated
				) {
					let entry = held.entry(record.owner.clone()).or_default();
					*entry = entry.saturating_add(record.deposit);
				}
				let listed =
					Families::<T>::get(&record.params.name).contains(&(record.params.version, id));
				ensure!(
					listed == (record.status != ModelStatus::Rejected),
					"a model is missing from its family, or a rejected one is still in it"
				);
			}
			for (owner, amount) in held {
				ensure!(
					T::Currency::balance_on_hold(&HoldReason::ModelDeposit.into(), &owner)
						== amount,
					"a model deposit hold does not match the records"
				);
			}
			for (name, versions) in Families::<T>::iter() {
				for (version, id) in versions {
					let record = Models::<T>::get(id).ok_or("a family lists an unknown model")?;
					ensure!(
						record.params.name == name && record.params.version == version,
						"a family entry disagrees with its model"
					);
				}
			}
			for (id, votes) in Votes::<T>::iter() {
				let record = Models::<T>::get(id).ok_or("votes on an unknown model")?;
				ensure!(record.status == ModelStatus::Pending, "votes on a decided model");
				let mut voters: Vec<_> = votes.iter().map(|(who, _)| who).collect();
				voters.sort();
				voters.dedup();
				ensure!(voters.len() == votes.len(), "a voter voted twice");
			}
			let pending: Vec<_> = Models::<T>::iter()
				.filter(|(_, r)| r.status == ModelStatus::Pending)
				.map(|(id, r)| (id, r.registered_at))
				.collect();
			ensure!(
				pending.len() == PendingModels::<T>::iter().count()
					&& PendingModels::<T>::count() as usize == pending.len(),
				"the pending index does not count the pending models"
			);
			let queue = PendingQueue::<T>::get();
			let queued: alloc::collections::btree_set::BTreeSet<_> =
				queue.iter().map(|entry| entry.model).collect();
			ensure!(
				queued.len() == queue.len() && queue.len() == pending.len(),
				"the pending queue does not list each pending model once"
			);
			for (id, at) in pending {
				ensure!(
					PendingModels::<T>::get(id) == Some(at),
					"a pending model is missing from the pending index"
				);
			}
			for entry in queue.iter() {
				let record = Models::<T>::get(entry.model)
					.ok_or("the pending queue lists an unknown model")?;
				ensure!(
					record.status == ModelStatus::Pending
						&& record.owner == entry.owner
						&& record.registered_at == entry.registered_at,
					"a pending queue entry disagrees with its model"
				);
			}
			ensure!(
				queue.windows(2).all(|pair| match pair {
					[earlier, later] => earlier.registered_at <= later.registered_at,
					_ => true,
				}),
				"the pending queue is not in registration order"
			);
			Ok(())
		}
	}

	impl<T: Config> ModelRegistry for Pallet<T> {
		fn summary(model: &ModelId) -> Option<ModelSummary> {
			Models::<T>::get(model).map(|r| ModelSummary {
				status: r.status,
				tolerance: r.params.tolerance,
				program_root: r.params.program_root,
				node_count: r.params.node_count,
				program_work: r.params.program_work,
				key_requirement: KeyRequirements::<T>::get(model).unwrap_or_default(),
			})
		}

		fn matches_specs(model: &ModelId, inputs: &[Tensor], outputs: &[Tensor]) -> bool {
			let Some(record) = Models::<T>::get(model) else { return false };
			let fits = |specs: &[TensorSpecOf<T>], tensors: &[Tensor]| {
				specs.len() == tensors.len()
					&& specs
						.iter()
						.zip(tensors)
						.all(|(spec, t)| spec.accepts(t.dtype, &t.shape) && t.validate().is_ok())
			};
			fits(&record.params.inputs, inputs) && fits(&record.params.outputs, outputs)
		}

		fn file(model: &ModelId) -> Option<ModelFile> {
			Models::<T>::get(model)
				.map(|r| ModelFile { hash: r.params.file_hash, uri: r.params.uri.into_inner() })
		}
	}
}

/// Is `uri` a `file://`, `http://` or `https://` URI with something after the scheme, in
/// printable ASCII?
pub fn valid_uri(uri: &[u8]) -> bool {
	let rest = [&b"file://"[..], b"http://", b"https://"]
		.iter()
		.find_map(|scheme| uri.strip_prefix(*scheme));
	matches!(rest, Some(rest) if !rest.is_empty()) && uri.iter().all(|b| (0x21..0x7f).contains(b))
}

/// Are the tolerance bounds finite and non-negative?
pub fn valid_tolerance(tolerance: Tolerance) -> bool {
	match tolerance {
		Tolerance::Exact => true,
		Tolerance::Relative { abs, rel } => [abs, rel].iter().all(|&bits| {
			let value = f32::from_bits(bits);
			value.is_finite() && value >= 0.0 && bits >> 31 == 0
		}),
	}
}

/// Are the bounds of `tolerance` at most `max_abs` and `max_rel` (f32 bit patterns)? Meant for a
/// [`valid_tolerance`]; `Exact` is always within.
pub fn tolerance_within_caps(tolerance: Tolerance, max_abs: u32, max_rel: u32) -> bool {
	match tolerance {
		Tolerance::Exact => true,
		Tolerance::Relative { abs, rel } => {
			f32::from_bits(abs) <= f32::from_bits(max_abs)
				&& f32::from_bits(rel) <= f32::from_bits(max_rel)
		},
	}
}

/// Runtime API of the model registry, for clients such as polkadot-js and the device CLI.
pub mod runtime_api {
	use super::*;

	sp_api::decl_runtime_apis! {
		/// Reads models and model families.
		pub trait ModelsApi<Record> where Record: codec::Codec {
			/// A model's record.
			fn model(model: ModelId) -> Option<Record>;
			/// The `(version, model)` pairs of a family, in registration order.
			fn family(name: Vec<u8>) -> Vec<(u32, ModelId)>;
		}
	}
}
