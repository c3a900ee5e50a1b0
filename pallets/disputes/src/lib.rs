//! # Disputes pallet
//!
//! The challenge game of Edgeproof (DESIGN.md §4.6, `docs/protocol.md`): a challenger disputes
//! a claim that a model gave an output on an input, and the chain settles it by a Merkle descent
//! over the two parties' canonical execution traces down to one operator, which the runtime
//! re-executes with `edgeproof-canon`.
//!
//! ## Overview
//! The rules live in [`game`], a pure state machine with no FRAME types; this pallet holds the
//! games in storage, checks who moves, holds the challenger's bond and settles:
//!
//! - **Open** ([`Pallet::open`]). The challenger bonds [`Config::ChallengerBond`] and posts its
//!   trace root and canonical outputs with Merkle proofs; they must NOT be within the model's
//!   tolerance of the claimed outputs. Several challengers may each open their own dispute on
//!   one claim (all-vs-all); the claim is `Disputed` until every one is resolved.
//! - **Respond** ([`Pallet::respond`]). The claim's operator posts its trace root and outputs;
//!   they MUST be within tolerance.
//! - **Bisect** ([`Pallet::bisect`]). Round by round both parties reveal the two children of
//!   their current tree node; the game goes left if the left children differ, else right.
//! - **One step** ([`Pallet::one_step`], anyone). At the disputed leaf the runtime re-executes
//!   that one node from a witness proved against the program and trace roots.
//! - **Timeout** ([`Pallet::timeout`], anyone). A party whose chess clock ran out loses. The
//!   clocks skip blocks too full for the heaviest move ([`SkippedBlocks`]), so an opponent
//!   cannot win by filling blocks.
//! - **Settlement.** Challenger wins: its bond is returned and the claim is `Invalid` (the claim
//!   bond and part of the device stake are slashed by pallet-attestations; the other disputes on
//!   the claim are closed and their bonds returned). Claimant wins: [`Config::WinnerShare`] of
//!   the challenger's bond goes to the operator, the rest is burned. Neither (both leaves wrong):
//!   the challenger's bond is burned and the claim is `Invalid` with its bond burned.
//!
//! Validators' off-chain workers play automatically ([`offchain`]): the checker opens a dispute
//! on a claim it proved wrong and plays the challenger; a node defends the claims whose operator
//! is one of its checker keys.
//!
//! ## Interface
//! - Calls: `open`, `respond`, `bisect`, `one_step`, `timeout`; `set_clock` (admin).
//! - [`runtime_api::DisputesApi`]: a dispute's state as clients need it ([`DisputeView`]).
//! - [`WrongClaimHandler`](pallet_attestations::WrongClaimHandler) for pallet-attestations'
//!   checker.
//!
//! ## Terms
//! - *Trace*: the m graph inputs then the n node outputs of the canonical program; its root is
//!   the Merkle root over their leaf hashes (`edgeproof_canon::merkle`).
//! - *Output leaves*: the last k trace leaves (the tail rule,
//!   `edgeproof_canon::output_leaf_range`).
//! - *Round*: one bisection step; round `r` is played at tree depth `r`.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(feature = "runtime-benchmarks")]
pub mod benchmark_helper;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
pub mod game;
#[cfg(test)]
mod mock;
pub mod offchain;
#[cfg(test)]
mod tests;
pub mod weights;

pub use pallet::*;
pub use weights::WeightInfo;

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use edgeproof_canon::{Hash, Position};
use frame_support::{
	traits::{fungible::Inspect, Get},
	BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use pallet_attestations::ClaimId;
use scale_info::TypeInfo;

use game::{Game, GameError, Party, Phase, Resolution};

/// The log target of this pallet.
pub const LOG_TARGET: &str = "runtime::disputes";

/// A dispute's number, counting up from 0.
pub type DisputeId = u64;

/// Balance type of the currency bonds are held in.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// A stored dispute.
pub type DisputeOf<T> = Dispute<
	<T as frame_system::Config>::AccountId,
	BalanceOf<T>,
	frame_system::pallet_prelude::BlockNumberFor<T>,
	<T as Config>::MaxInputs,
>;

/// What the claim registry tells about a claim.
pub type ClaimInfoOf<T> = pallet_attestations::ClaimInfo<
	<T as frame_system::Config>::AccountId,
	BalanceOf<T>,
	frame_system::pallet_prelude::BlockNumberFor<T>,
>;

/// A running dispute.
#[derive(
	CloneNoBound,
	DebugNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
#[scale_info(skip_type_params(MaxInputs))]
#[codec(mel_bound(AccountId: MaxEncodedLen, Balance: MaxEncodedLen, BlockNumber: MaxEncodedLen))]
pub struct Dispute<AccountId, Balance, BlockNumber, MaxInputs: Get<u32>>
where
	AccountId: Clone + core::fmt::Debug + PartialEq + Eq,
	Balance: Clone + core::fmt::Debug + PartialEq + Eq,
	BlockNumber: Clone + core::fmt::Debug + PartialEq + Eq,
{
	/// The disputed claim.
	pub claim: ClaimId,
	/// The claim's model.
	pub model: pallet_models::ModelId,
	/// The leaf hashes of the claim's m input tensors (the first m trace leaves), taken when
	/// the dispute opens: a descent that ends at an input leaf is judged by them, so no move
	/// after `respond` reads the claim's payloads, whatever their size.
	pub input_leaves: BoundedVec<Hash, MaxInputs>,
	/// Who opened it; its bond is held.
	pub challenger: AccountId,
	/// The claim's operator, who defends it.
	pub claimant: AccountId,
	/// The challenger's bond.
	pub bond: Balance,
	/// Block of opening.
	pub opened_at: BlockNumber,
	/// The game.
	pub game: Game,
}

/// What clients read about a dispute ([`runtime_api::DisputesApi::dispute`]).
#[derive(CloneNoBound, DebugNoBound, PartialEqNoBound, EqNoBound, Encode, Decode, TypeInfo)]
#[scale_info(skip_type_params(MaxInputs))]
pub struct DisputeView<AccountId, Balance, BlockNumber, MaxInputs: Get<u32>>
where
	AccountId: Clone + core::fmt::Debug + PartialEq + Eq,
	Balance: Clone + core::fmt::Debug + PartialEq + Eq,
	BlockNumber: Clone + core::fmt::Debug + PartialEq + Eq,
{
	/// The stored dispute (its game holds the phase and the stored clocks).
	pub dispute: Dispute<AccountId, Balance, BlockNumber, MaxInputs>,
	/// The bisection round, while bisecting.
	pub round: Option<u32>,
	/// The tree position: the bisection node, or the disputed leaf awaiting a one-step.
	pub position: Option<Position>,
	/// Does the claimant owe a move now?
	pub claimant_owes: bool,
	/// Does the challenger owe a move now?
	pub challenger_owes: bool,
	/// Blocks left on the claimant's clock at the current block.
	pub claimant_remaining: u32,
	/// Blocks left on the challenger's clock at the current block.
	pub challenger_remaining: u32,
	/// The block from which `timeout` ends the game unless the owing parties move.
	pub deadline: Option<u32>,
}

/// Why a dispute ended.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum Ending {
	/// The game was decided.
	#[codec(index = 0)]
	Decided(Resolution),
	/// Another dispute proved the claim invalid first; this one was closed, the challenger's
	/// bond returned.
	#[codec(index = 1)]
	ClaimInvalidated,
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use edgeproof_canon::{
		substep::{CutWitness, SubStepWitness},
		LeafWitness, OneStepWitness,
	};
	use frame_support::{
		defensive,
		dispatch::{DispatchResultWithPostInfo, PostDispatchInfo},
		pallet_prelude::*,
		traits::{
			fungible::{InspectHold, Mutate, MutateHold},
			tokens::{Fortitude, Precision, Restriction},
			Contains,
		},
	};
	use frame_system::pallet_prelude::*;
	use pallet_attestations::ClaimRegistry;
	use pallet_models::ModelRegistry;
	use sp_runtime::{
		traits::{Saturating, Zero},
		ArithmeticError, Perbill, SaturatedConversion,
	};

	/// The in-code storage version.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The bond of a challenger while its dispute runs.
		#[codec(index = 0)]
		ChallengerBond,
	}

	#[pallet::config]
	pub trait Config:
		frame_system::Config<RuntimeEvent: From<Event<Self>>>
		+ frame_system::offchain::CreateSignedTransaction<Call<Self>>
	{
		/// The currency bonds are held in.
		type Currency: Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ InspectHold<Self::AccountId>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// The claims (pallet-attestations): what is disputed, and where results go.
		type Claims: ClaimRegistry<Self::AccountId, BalanceOf<Self>, BlockNumberFor<Self>>;

		/// The model registry: program root, node count and tolerance of a claim's model.
		type Models: ModelRegistry;

		/// Bond held from a challenger while its dispute runs.
		#[pallet::constant]
		type ChallengerBond: Get<BalanceOf<Self>>;

		/// Each party's chess clock, in blocks, until genesis or [`Pallet::set_clock`] sets
		/// one ([`Clock`]).
		#[pallet::constant]
		type ClockBudget: Get<u32>;

		/// The least time, in blocks, a party has when a move hands it the turn (default, like
		/// `ClockBudget`).
		#[pallet::constant]
		type MinExtension: Get<u32>;

		/// The longest clock [`Pallet::set_clock`] accepts.
		#[pallet::constant]
		type MaxClockBudget: Get<u32>;

		/// May change the clock (root).
		type AdminOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Share of a losing challenger's bond paid to the claim's operator; the rest is
		/// burned.
		#[pallet::constant]
		type WinnerShare: Get<Perbill>;

		/// Most disputes open at once on one claim, reserved challengers included.
		#[pallet::constant]
		type MaxDisputesPerClaim: Get<u32>;

		/// Most disputes open at once on one claim by challengers that are not reserved. The
		/// rest of `MaxDisputesPerClaim` is kept for the reserved ones, so that accomplices of
		/// a cheating claimant cannot fill every slot before the validators' checkers open
		/// theirs.
		#[pallet::constant]
		type MaxUnreservedDisputes: Get<u32>;

		/// Challengers that always find a slot: the validators' checker accounts.
		type Reserved: Contains<Self::AccountId>;

		/// Most output tensors of a model (witnesses in `open` and `respond`).
		#[pallet::constant]
		type MaxOutputs: Get<u32>;

		/// Most input tensors of a model (their leaf hashes are kept with each dispute).
		#[pallet::constant]
		type MaxInputs: Get<u32>;

		/// Longest claim input or output payload in bytes (pallet-attestations'
		/// `MaxPayloadLen`): what `open` and `respond` are charged for before dispatch.
		#[pallet::constant]
		type MaxClaimPayload: Get<u32>;

		/// The limits of a one-step (the models' dispute limits): tensor sizes and one
		/// operator's work.
		type Limits: Get<edgeproof_canon::Limits>;

		/// What every sub-step of the second level stays within: a node cut when a game's
		/// second level starts is cut for these (and keeps its cut if they change).
		/// A game keeps the limits of its cut, and a sub-step is charged for these: they may
		/// grow with a runtime upgrade, not shrink while disputes run.
		#[pallet::constant]
		type SubStepLimits: Get<edgeproof_canon::substep::SubStepLimits>;

		/// The most finding one node's cut may cost, in `geometry_within`'s units (a sub-step
		/// checked, a range of reads listed): what `cut` is charged for up front.
		#[pallet::constant]
		type MaxCutCost: Get<u64>;

		/// The key validators' off-chain workers sign their moves with (the checker key).
		type CheckerCrypto: frame_system::offchain::AppCrypto<Self::Public, Self::Signature>;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;

		/// Sets up active models and claims for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: benchmark_helper::BenchmarkHelper<Self::AccountId>;
	}

	/// The clock of new games: each party's budget and the minimum extension, in blocks.
	#[pallet::storage]
	pub type Clock<T: Config> = StorageValue<_, game::ClockParams, ValueQuery, DefaultClock<T>>;

	/// Until genesis or the admin sets it: `ClockBudget` and `MinExtension`.
	#[pallet::type_value]
	pub fn DefaultClock<T: Config>() -> game::ClockParams {
		game::ClockParams { budget: T::ClockBudget::get(), min_extension: T::MinExtension::get() }
	}

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Each party's clock in blocks (default `ClockBudget`).
		pub clock_budget: Option<u32>,
		/// The minimum extension in blocks (default `MinExtension`).
		pub min_extension: Option<u32>,
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			let default = DefaultClock::<T>::get();
			let clock = game::ClockParams {
				budget: self.clock_budget.unwrap_or(default.budget),
				min_extension: self.min_extension.unwrap_or(default.min_extension),
			};
			assert!(Pallet::<T>::valid_clock(&clock), "genesis: invalid dispute clock");
			Clock::<T>::put(clock);
		}
	}

	/// Blocks the game clocks skipped: blocks whose normal class was left too little room for
	/// the heaviest move, counted at their end. The games' time is the block number minus
	/// this ([`Pallet::now`]), so stuffing blocks pauses the clocks instead of running them out.
	#[pallet::storage]
	pub type SkippedBlocks<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// The id the next dispute gets.
	#[pallet::storage]
	pub type NextDisputeId<T: Config> = StorageValue<_, DisputeId, ValueQuery>;

	/// The running disputes. Removed when settled (the events keep the history).
	#[pallet::storage]
	pub type Disputes<T: Config> = StorageMap<_, Twox64Concat, DisputeId, DisputeOf<T>>;

	/// The running disputes of each claim.
	#[pallet::storage]
	pub type ClaimDisputes<T: Config> = StorageMap<
		_,
		Twox64Concat,
		ClaimId,
		BoundedVec<DisputeId, T::MaxDisputesPerClaim>,
		ValueQuery,
	>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A dispute was opened and the challenger's bond held; the claimant owes a response
		/// by `deadline`.
		DisputeOpened {
			dispute: DisputeId,
			claim: ClaimId,
			challenger: T::AccountId,
			claimant: T::AccountId,
			bond: BalanceOf<T>,
			challenger_root: Hash,
			deadline: u32,
		},
		/// The claimant responded with its trace root; the bisection starts.
		Responded { dispute: DisputeId, claimant_root: Hash },
		/// A party revealed its children in a bisection round.
		Bisected { dispute: DisputeId, party: Party, round: u32 },
		/// The descent reached a node leaf; a one-step is owed.
		OneStepAwaited { dispute: DisputeId, leaf: u64 },
		/// The second level started inside node leaf `leaf`: its output is cut into `tiles`
		/// tiles of `segments` segments. Both parties owe the data root of their leaf.
		SubStepsStarted { dispute: DisputeId, leaf: u64, tiles: u64, segments: u32 },
		/// A party revealed a data root or a tile's segment-state root.
		Revealed { dispute: DisputeId, party: Party, root: Hash },
		/// The second level reached a sub-step; it is owed.
		SubStepAwaited { dispute: DisputeId, leaf: u64, tile: u64, segment: u32 },
		/// A dispute ended. `to_claimant` and `burned` are what the challenger's bond paid (zero
		/// when it was returned).
		DisputeResolved {
			dispute: DisputeId,
			claim: ClaimId,
			ending: Ending,
			challenger_bond_returned: BalanceOf<T>,
			to_claimant: BalanceOf<T>,
			burned: BalanceOf<T>,
		},
		/// The admin changed the clock of new games.
		ClockSet { clock: game::ClockParams },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No such claim, or it was pruned.
		UnknownClaim,
		/// The claim is already final or invalid.
		ClaimDecided,
		/// The claim's model is not registered.
		UnknownModel,
		/// The operator cannot dispute its own claim.
		OwnClaim,
		/// The caller already has a dispute open on this claim.
		AlreadyDisputing,
		/// The claim has as many disputes open as it may (`MaxUnreservedDisputes` for a
		/// challenger that is not reserved, `MaxDisputesPerClaim` in all).
		TooManyDisputes,
		/// The challenger cannot afford `ChallengerBond`.
		InsufficientBond,
		/// No such dispute (never opened, or settled).
		UnknownDispute,
		/// The caller is neither the claimant nor the challenger of this dispute.
		NotParty,
		/// The game does not await this kind of move now.
		UnexpectedMove,
		/// This party may not make this move (only the claimant responds).
		WrongParty,
		/// The party already moved in this bisection round.
		AlreadyMoved,
		/// The move is for another round than the current one.
		WrongRound,
		/// The mover's clock ran out: the game can only be ended with `timeout`.
		ClockExpired,
		/// The claim's data is inconsistent with its model (more outputs than nodes).
		InvalidContext,
		/// Not one output witness per claimed output.
		WrongOutputCount,
		/// An output witness's proof is not for that output's trace leaf.
		WrongOutputLeaf,
		/// An output witness does not verify against the mover's trace root.
		BadOutputProof,
		/// The challenger's outputs are all within tolerance of the claim: nothing to dispute.
		ChallengerOutputWithinTolerance,
		/// The claimant's outputs are not within tolerance of its own claim.
		ClaimantOutputNotWithinTolerance,
		/// The claimant's trace root equals the challenger's.
		SameTraceRoot,
		/// The revealed children do not hash to the party's current node.
		ChildrenMismatch,
		/// The one-step witness verifies against neither party's trace root.
		OneStepNotProven,
		/// The one-step witness exceeds the limits or its node rejects its inputs.
		OneStepFailed,
		/// No party that owes a move has run out of time.
		NotTimedOut,
		/// A clock of zero or above `MaxClockBudget` blocks, or an extension above it.
		InvalidClock,
		/// The cut witness verifies against neither party's trace root.
		CutNotProven,
		/// The node has no sub-steps or cannot be cut within the sub-step limits: it is settled
		/// by `one_step`.
		CutFailed,
		/// The revealed data root (with its header) or segment-state root does not commit to
		/// the party's leaf.
		RevealMismatch,
		/// The sub-step witness is for another sub-step than the disputed one.
		WrongSubStep,
		/// The sub-step witness verifies against neither party's trace root.
		SubStepNotProven,
		/// The sub-step's starting state is not in the parties' segment states.
		StateNotProven,
		/// The sub-step cannot run on its proved inputs, or its node is not the one cut.
		SubStepFailed,
		/// The sub-step's inputs are larger in all than a sub-step may hold
		/// ([`Pallet::max_sub_step_input_bytes`]).
		SubStepTooLarge,
		/// The claim's model has more inputs than `MaxInputs`.
		TooManyInputs,
	}

	impl<T> From<GameError> for Error<T> {
		fn from(e: GameError) -> Self {
			match e {
				// Resolved games are settled and removed at once, so a move never finds one.
				GameError::AlreadyResolved => Error::UnknownDispute,
				GameError::UnexpectedMove => Error::UnexpectedMove,
				GameError::WrongParty => Error::WrongParty,
				GameError::AlreadyMoved => Error::AlreadyMoved,
				GameError::WrongRound => Error::WrongRound,
				GameError::ClockExpired => Error::ClockExpired,
				// Block numbers only grow.
				GameError::BlockInThePast => Error::UnexpectedMove,
				GameError::InvalidContext => Error::InvalidContext,
				GameError::WrongOutputCount => Error::WrongOutputCount,
				GameError::WrongOutputLeaf => Error::WrongOutputLeaf,
				GameError::BadOutputProof => Error::BadOutputProof,
				GameError::ChallengerOutputWithinTolerance => {
					Error::ChallengerOutputWithinTolerance
				},
				GameError::ClaimantOutputNotWithinTolerance => {
					Error::ClaimantOutputNotWithinTolerance
				},
				GameError::SameTraceRoot => Error::SameTraceRoot,
				GameError::ChildrenMismatch => Error::ChildrenMismatch,
				GameError::OneStepNotProven => Error::OneStepNotProven,
				GameError::OneStepFailed => Error::OneStepFailed,
				GameError::NotTimedOut => Error::NotTimedOut,
				GameError::CutNotProven => Error::CutNotProven,
				GameError::CutFailed => Error::CutFailed,
				GameError::RevealMismatch => Error::RevealMismatch,
				GameError::WrongSubStep => Error::WrongSubStep,
				GameError::SubStepNotProven => Error::SubStepNotProven,
				GameError::StateNotProven => Error::StateNotProven,
				GameError::SubStepFailed => Error::SubStepFailed,
			}
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Books `on_finalize`'s weight.
		fn on_initialize(_: BlockNumberFor<T>) -> Weight {
			// The block's weight and length are whitelisted frame-system values.
			T::DbWeight::get().reads_writes(1, 1)
		}

		/// Counts the block in [`SkippedBlocks`] if it was too full for the heaviest move.
		fn on_finalize(_: BlockNumberFor<T>) {
			let used = frame_system::Pallet::<T>::block_weight();
			if Self::no_room_for_a_move(&used, frame_system::Pallet::<T>::block_size()) {
				SkippedBlocks::<T>::mutate(|n| *n = n.saturating_add(1));
			}
		}

		/// Plays this node's side of running disputes (see [`offchain`]).
		fn offchain_worker(now: BlockNumberFor<T>) {
			offchain::play::<T>(now);
		}

		fn integrity_test() {
			assert!(Self::valid_clock(&DefaultClock::<T>::get()), "the default clock is invalid");
			assert!(
				T::MaxUnreservedDisputes::get() > 0
					&& T::MaxUnreservedDisputes::get() < T::MaxDisputesPerClaim::get(),
				"claims must be disputable, with slots kept for the reserved challengers"
			);
			assert!(!T::ChallengerBond::get().is_zero(), "an unbonded dispute costs nothing");
			// The heaviest one-step the limits allow must fit in a block, or an honest party
			// could not post it and would lose on time.
			let worst = Self::one_step_weight(T::Limits::get().max_node_work)
				.saturating_add(Self::settle_weight());
			let max = T::BlockWeights::get()
				.get(frame_support::dispatch::DispatchClass::Normal)
				.max_extrinsic
				.unwrap_or(T::BlockWeights::get().max_block);
			assert!(worst.all_lte(max), "the one-step limits exceed a block: {worst:?} > {max:?}");
			// An empty block must have room for every move, or the clocks would never run.
			assert!(
				!Self::no_room_for_a_move(&Default::default(), 0),
				"an empty block has no room for the heaviest move: the game clocks would stop"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Dispute a claim: the caller's canonical trace of the claim's input gives an output
		/// NOT within the model's tolerance of the claimed one. Holds `ChallengerBond`.
		///
		/// - `origin`: signed, not the claim's operator, without a dispute on this claim.
		/// - `trace_root`: the root of the caller's trace tree.
		/// - `outputs`: one witness per claimed output (the last trace leaves), proved against
		///   `trace_root`.
		///
		/// Errors: `UnknownClaim`, `ClaimDecided`, `OwnClaim`, `AlreadyDisputing`,
		/// `TooManyDisputes`, `UnknownModel`, `WrongOutputCount`, `WrongOutputLeaf`,
		/// `BadOutputProof`, `ChallengerOutputWithinTolerance`, `InvalidContext`,
		/// `TooManyInputs`, `ChallengePeriodOver` (pallet-attestations), `InsufficientBond`. Emits
		/// `DisputeOpened` (and pallet-attestations' `ClaimDisputed`).
		#[pallet::call_index(0)]
		#[pallet::weight(Pallet::<T>::witness_weight(T::WeightInfo::open, &outputs, None)
			.saturating_add(Pallet::<T>::running_reads(T::MaxDisputesPerClaim::get())))]
		pub fn open(
			origin: OriginFor<T>,
			claim: ClaimId,
			trace_root: Hash,
			outputs: BoundedVec<LeafWitness, T::MaxOutputs>,
		) -> DispatchResultWithPostInfo {
			let challenger = ensure_signed(origin)?;
			let info = T::Claims::claim(claim).ok_or(Error::<T>::UnknownClaim)?;
			let weight = Self::witness_weight(T::WeightInfo::open, &outputs, Some(&info));
			let claimant = info.record.operator.clone();
			ensure!(challenger != claimant, Error::<T>::OwnClaim);
			let running: Vec<DisputeOf<T>> =
				ClaimDisputes::<T>::get(claim).iter().filter_map(Disputes::<T>::get).collect();
			let weight = weight.saturating_add(Self::running_reads(running.len() as u32));
			ensure!(
				running.iter().all(|d| d.challenger != challenger),
				Error::<T>::AlreadyDisputing
			);
			let unreserved =
				running.iter().filter(|d| !T::Reserved::contains(&d.challenger)).count() as u32;
			ensure!(
				(running.len() as u32) < T::MaxDisputesPerClaim::get()
					&& (T::Reserved::contains(&challenger)
						|| unreserved < T::MaxUnreservedDisputes::get()),
				Error::<T>::TooManyDisputes
			);
			let now = Self::now();
			// `open` reads the outputs, not the input leaves (kept with the dispute for later).
			let game = Self::with_context(&info, &[], |ctx| {
				Game::open(ctx, now, trace_root, &outputs, Self::clock_params())
					.map_err(|e| Error::<T>::from(e).into())
			})?;
			let input_leaves = Self::input_leaves(&info)?;
			let dispute = NextDisputeId::<T>::get();
			let next = dispute.checked_add(1).ok_or(ArithmeticError::Overflow)?;
			let mut ids = ClaimDisputes::<T>::get(claim);
			ids.try_push(dispute).map_err(|_| Error::<T>::TooManyDisputes)?;
			let bond = T::ChallengerBond::get();
			let reason = HoldReason::ChallengerBond.into();
			T::Currency::ensure_can_hold(&reason, &challenger, bond)
				.map_err(|_| Error::<T>::InsufficientBond)?;
			// Checked; now the writes. The claim registry's is the only one that may still be
			// refused (it checks the claim's own state: decided, challenge period over), and it
			// comes first, so a refusal leaves nothing behind; the hold cannot fail after
			// `ensure_can_hold` (if it did, the call's storage layer would undo the registry's
			// count with the error).
			T::Claims::note_dispute_opened(claim)?;
			T::Currency::hold(&reason, &challenger, bond)
				.map_err(|_| Error::<T>::InsufficientBond)?;
			ClaimDisputes::<T>::insert(claim, ids);
			NextDisputeId::<T>::put(next);
			let deadline = Self::block_of(game.deadline().unwrap_or(now));
			Disputes::<T>::insert(
				dispute,
				Dispute {
					claim,
					model: info.record.model,
					input_leaves,
					challenger: challenger.clone(),
					claimant: claimant.clone(),
					bond,
					opened_at: frame_system::Pallet::<T>::block_number(),
					game,
				},
			);
			Self::deposit_event(Event::DisputeOpened {
				dispute,
				claim,
				challenger,
				claimant,
				bond,
				challenger_root: trace_root,
				deadline,
			});
			Ok(Some(weight).into())
		}

		/// The claimant's answer: its trace root and outputs, within tolerance of the claim.
		///
		/// - `origin`: signed by the claim's operator.
		///
		/// Errors: `UnknownDispute`, `NotParty`, `WrongParty`, `UnexpectedMove`,
		/// `ClockExpired`, `SameTraceRoot`, `WrongOutputCount`, `WrongOutputLeaf`,
		/// `BadOutputProof`, `ClaimantOutputNotWithinTolerance`. Emits `Responded`.
		#[pallet::call_index(1)]
		#[pallet::weight(Pallet::<T>::witness_weight(T::WeightInfo::respond, &outputs, None))]
		pub fn respond(
			origin: OriginFor<T>,
			dispute: DisputeId,
			trace_root: Hash,
			outputs: BoundedVec<LeafWitness, T::MaxOutputs>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let (mut record, info) = Self::load(dispute)?;
			let weight = Self::witness_weight(T::WeightInfo::respond, &outputs, Some(&info));
			let party = Self::party_of(&record, &who)?;
			let now = Self::now();
			let outcome = Self::with_context(&info, &record.input_leaves, |ctx| {
				record
					.game
					.respond(ctx, now, party, trace_root, &outputs)
					.map_err(|e| Error::<T>::from(e).into())
			})?;
			Self::deposit_event(Event::Responded { dispute, claimant_root: trace_root });
			// Only a one-leaf trace is decided by the response, and `open` refuses those (the
			// outputs are node leaves); were one decided, it is settled, never stored.
			let settled = Self::after_move(dispute, record, outcome);
			Ok(Some(weight.saturating_add(settled)).into())
		}

		/// A bisection move: the caller reveals the two children of its current node in round
		/// `round`. The second move of a round moves the game one level down; at the leaf
		/// depth it may end the game (an input or padding leaf).
		///
		/// - `origin`: signed by the claimant or the challenger of `dispute`.
		///
		/// Errors: `UnknownDispute`, `NotParty`, `UnexpectedMove`, `WrongRound`,
		/// `AlreadyMoved`, `ClockExpired`, `ChildrenMismatch`, `InvalidContext`. Emits
		/// `Bisected`, possibly `OneStepAwaited` or `DisputeResolved`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::bisect().saturating_add(Pallet::<T>::settle_weight()))]
		pub fn bisect(
			origin: OriginFor<T>,
			dispute: DisputeId,
			round: u32,
			left: Hash,
			right: Hash,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let (mut record, model) = Self::load_bare(dispute)?;
			let party = Self::party_of(&record, &who)?;
			let ctx = Self::bare_context(&model, &record.input_leaves);
			let outcome = record
				.game
				.bisect(&ctx, Self::now(), party, round, left, right)
				.map_err(Error::<T>::from)?;
			Self::deposit_event(Event::Bisected { dispute, party, round });
			let settled = Self::after_move(dispute, record, outcome);
			Ok(Some(T::WeightInfo::bisect().saturating_add(settled)).into())
		}

		/// The one-step: re-executes the node at the disputed leaf from `witness` (its
		/// definition with a proof against the program root, its constants, its inputs with
		/// proofs against either party's trace root) and settles the dispute for the party
		/// whose leaf matches (neither, if none does).
		///
		/// - `origin`: signed, anyone.
		///
		/// Weight: charged for the operator work `Limits::max_node_work` up front, refunded
		/// down to the witness's actual work (`edgeproof_canon::one_step_work`).
		///
		/// Errors: `UnknownDispute`, `UnexpectedMove`, `ClockExpired`, `OneStepNotProven`,
		/// `OneStepFailed`. Emits `DisputeResolved`.
		#[pallet::call_index(3)]
		#[pallet::weight(Pallet::<T>::one_step_weight(T::Limits::get().max_node_work)
			.saturating_add(Pallet::<T>::settle_weight()))]
		pub fn one_step(
			origin: OriginFor<T>,
			dispute: DisputeId,
			witness: OneStepWitness,
		) -> DispatchResultWithPostInfo {
			ensure_signed(origin)?;
			// The one-step reads no claim tensors: the claim's payloads are not decoded.
			let (mut record, model) = Self::load_bare(dispute)?;
			let ctx = Self::bare_context(&model, &record.input_leaves);
			let outcome = record
				.game
				.one_step(&ctx, Self::now(), &witness)
				.map_err(|e| Error::<T>::from(e))?;
			let work = edgeproof_canon::one_step_work(&witness).unwrap_or(u64::MAX);
			let settled = Self::after_move(dispute, record, outcome);
			let used = Self::one_step_weight(work);
			Ok(PostDispatchInfo {
				actual_weight: Some(used.saturating_add(settled)),
				pays_fee: Pays::Yes,
			})
		}

		/// Ends a dispute whose owing party ran out of time: the opponent wins (neither, if
		/// both owed and both ran out).
		///
		/// - `origin`: signed, anyone.
		///
		/// Errors: `UnknownDispute`, `NotTimedOut`. Emits `DisputeResolved`.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::timeout().saturating_add(Pallet::<T>::settle_weight()))]
		pub fn timeout(origin: OriginFor<T>, dispute: DisputeId) -> DispatchResultWithPostInfo {
			ensure_signed(origin)?;
			let mut record = Disputes::<T>::get(dispute).ok_or(Error::<T>::UnknownDispute)?;
			let outcome = record.game.timeout(Self::now()).map_err(|e| Error::<T>::from(e))?;
			let settled = Self::after_move(dispute, record, outcome);
			Ok(Some(T::WeightInfo::timeout().saturating_add(settled)).into())
		}

		/// Starts the second level inside the disputed node, in place of a one-step too heavy
		/// for a block: `witness` proves the node and its inputs' headers, which fix the node's
		/// cut into sub-steps (within `SubStepLimits`) and its output's header.
		///
		/// - `origin`: signed, anyone.
		///
		/// Weight: charged for a cut costing `MaxCutCost` up front, refunded down to the cut's
		/// cost (which grows with the node's tiles, segments and inputs).
		///
		/// Errors: `UnknownDispute`, `UnknownModel`, `UnexpectedMove`, `ClockExpired`,
		/// `CutNotProven`, `CutFailed`. Emits `SubStepsStarted`.
		#[pallet::call_index(6)]
		#[pallet::weight(Pallet::<T>::cut_weight(T::MaxCutCost::get()))]
		pub fn cut(
			origin: OriginFor<T>,
			dispute: DisputeId,
			witness: CutWitness,
		) -> DispatchResultWithPostInfo {
			ensure_signed(origin)?;
			let (mut record, model) = Self::load_bare(dispute)?;
			let ctx = Self::bare_context(&model, &record.input_leaves);
			let cost = record.game.cut(&ctx, Self::now(), &witness).map_err(Error::<T>::from)?;
			if let Phase::Revealing { what: game::Reveal::DataRoots { inside, .. }, .. } =
				record.game.phase()
			{
				Self::deposit_event(Event::SubStepsStarted {
					dispute,
					leaf: inside.leaf,
					tiles: inside.geometry.tiles(),
					segments: inside.geometry.segments,
				});
			}
			Disputes::<T>::insert(dispute, record);
			Ok(Some(Self::cut_weight(cost)).into())
		}

		/// A second-level reveal: the data root of the caller's node leaf (with the node's
		/// output header), or the root of its segment states of the disputed tile (with the
		/// proof that their last leaf is its chunk of the tile). The second reveal starts the
		/// descent in that tree (and may end the game at a padding leaf).
		///
		/// - `origin`: signed by the claimant or the challenger of `dispute`.
		///
		/// Errors: `UnknownDispute`, `UnknownModel`, `NotParty`, `UnexpectedMove`,
		/// `AlreadyMoved`, `ClockExpired`, `RevealMismatch`. Emits `Revealed`, possibly
		/// `SubStepAwaited` or `DisputeResolved`.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::reveal().saturating_add(Pallet::<T>::settle_weight()))]
		pub fn reveal(
			origin: OriginFor<T>,
			dispute: DisputeId,
			revealed: game::Revealed,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let (mut record, model) = Self::load_bare(dispute)?;
			let ctx = Self::bare_context(&model, &record.input_leaves);
			let party = Self::party_of(&record, &who)?;
			let outcome = record
				.game
				.reveal(&ctx, Self::now(), party, &revealed)
				.map_err(Error::<T>::from)?;
			let root = match &revealed {
				game::Revealed::DataRoot { data_root, .. } => *data_root,
				game::Revealed::StateRoot { root, .. } => *root,
			};
			Self::deposit_event(Event::Revealed { dispute, party, root });
			let settled = Self::after_move(dispute, record, outcome);
			Ok(Some(T::WeightInfo::reveal().saturating_add(settled)).into())
		}

		/// The sub-step: runs the disputed sub-step from `witness` (the chunks it reads, proved
		/// against either party's trace root) from the state `state` proves in either party's
		/// segment states (past segment 0), and settles the dispute for the party whose leaf
		/// matches (neither, if none does).
		///
		/// - `origin`: signed, anyone.
		///
		/// Weight: a sub-step of `SubStepLimits::max_work` on inputs of the sizes the witness's
		/// headers give, and the largest settlement.
		///
		/// Errors: `SubStepTooLarge`, `UnknownDispute`, `UnknownModel`, `UnexpectedMove`,
		/// `ClockExpired`, `WrongSubStep`, `SubStepNotProven`, `StateNotProven`,
		/// `SubStepFailed`. Emits `DisputeResolved`.
		#[pallet::call_index(8)]
		#[pallet::weight(Pallet::<T>::sub_step_weight(&witness)
			.saturating_add(Pallet::<T>::settle_weight()))]
		pub fn sub_step(
			origin: OriginFor<T>,
			dispute: DisputeId,
			witness: SubStepWitness,
			state: Option<edgeproof_canon::MerkleProof>,
		) -> DispatchResultWithPostInfo {
			ensure_signed(origin)?;
			let bytes: u64 =
				witness.inputs.iter().map(|i| u64::from(i.input.header.data_len)).sum();
			ensure!(bytes <= Self::max_sub_step_input_bytes(), Error::<T>::SubStepTooLarge);
			let (mut record, model) = Self::load_bare(dispute)?;
			let ctx = Self::bare_context(&model, &record.input_leaves);
			let outcome = record
				.game
				.sub_step(&ctx, Self::now(), &witness, state.as_ref())
				.map_err(Error::<T>::from)?;
			let settled = Self::after_move(dispute, record, outcome);
			Ok(Some(Self::sub_step_weight(&witness).saturating_add(settled)).into())
		}

		/// Set the clock of games opened from now on.
		///
		/// - `origin`: [`Config::AdminOrigin`].
		/// - `clock`: `budget` from 1 to `MaxClockBudget` blocks, `min_extension` at most
		///   `budget`.
		///
		/// Errors: `InvalidClock`. Emits `ClockSet`.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::set_clock())]
		pub fn set_clock(origin: OriginFor<T>, clock: game::ClockParams) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			ensure!(Self::valid_clock(&clock), Error::<T>::InvalidClock);
			Clock::<T>::put(clock);
			Self::deposit_event(Event::ClockSet { clock });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// The current block as the games count it: the block number less the blocks the
		/// clocks skipped ([`SkippedBlocks`]).
		pub fn now() -> u32 {
			frame_system::Pallet::<T>::block_number()
				.saturated_into::<u32>()
				.saturating_sub(SkippedBlocks::<T>::get())
		}

		/// The block number at which the games' clocks read `time` ([`Self::now`]), if no more
		/// blocks are skipped until then.
		pub fn block_of(time: u32) -> u32 {
			time.saturating_add(SkippedBlocks::<T>::get())
		}

		/// The most a move of the game (`respond`, `bisect`, `one_step`, `timeout`) is charged
		/// before dispatch: a one-step at the limits with the largest settlement.
		pub fn heaviest_move() -> Weight {
			let units = |n: u64, unit: u64| u32::try_from(n.div_ceil(unit)).unwrap_or(u32::MAX);
			let work = units(T::SubStepLimits::get().max_work, WORK_UNIT);
			let inputs = units(Self::max_sub_step_input_bytes(), 1024);
			let sub_step = T::WeightInfo::sub_step(work)
				.saturating_add(T::WeightInfo::sub_step_inputs(inputs));
			let cut = Self::cut_weight(T::MaxCutCost::get());
			Self::one_step_weight(T::Limits::get().max_node_work)
				.max(T::WeightInfo::bisect())
				.max(T::WeightInfo::timeout())
				.max(T::WeightInfo::reveal())
				.max(sub_step)
				.max(cut)
				.saturating_add(Self::settle_weight())
				.max(Self::witness_weight(T::WeightInfo::respond, &[], None))
		}

		/// Is a block that used `used` weight and `used_length` bytes too full for the
		/// heaviest move? Its normal class (with what the other classes took of the whole
		/// block) has less weight left than [`Self::heaviest_move`] and two base extrinsics
		/// (one for the extrinsic, one as a margin for its transaction extensions), or fewer
		/// bytes left than the largest one-step (`max_step_bytes` of tensors and
		/// [`STEP_ENVELOPE`]). An owing party could then not have made its move in the block,
		/// so the block does not count on the clocks.
		pub fn no_room_for_a_move(used: &frame_system::ConsumedWeight, used_length: u32) -> bool {
			use frame_support::dispatch::DispatchClass;
			let limits = T::BlockWeights::get();
			let normal = limits.get(DispatchClass::Normal);
			let room = normal
				.max_total
				.unwrap_or(limits.max_block)
				.saturating_sub(*used.get(DispatchClass::Normal))
				.min(limits.max_block.saturating_sub(used.total()));
			let needed =
				Self::heaviest_move().saturating_add(normal.base_extrinsic.saturating_mul(2));
			let length =
				T::BlockLength::get().max.get(DispatchClass::Normal).saturating_sub(used_length);
			let needed_length = T::Limits::get().max_step_bytes.saturating_add(STEP_ENVELOPE);
			room.any_lt(needed) || u64::from(length) < needed_length
		}

		/// The clock parameters of new games.
		pub fn clock_params() -> game::ClockParams {
			Clock::<T>::get()
		}

		/// Is this clock acceptable?
		pub fn valid_clock(clock: &game::ClockParams) -> bool {
			clock.budget > 0
				&& clock.budget <= T::MaxClockBudget::get()
				&& clock.min_extension <= clock.budget
		}

		/// The weight of `open` or `respond` (`f`): they check the output witnesses and decode the
		/// claim's payloads (and `open` hashes the inputs into the leaves the dispute keeps), so
		/// they are weighed by the larger of the witnesses and the two payloads together —
		/// before dispatch by the largest payloads a claim may have, after by the claim's own.
		pub fn witness_weight(
			f: fn(u32) -> Weight,
			outputs: &[LeafWitness],
			claim: Option<&ClaimInfoOf<T>>,
		) -> Weight {
			let payload = match claim {
				Some(info) => {
					let inputs = info.inputs.as_ref().map_or(0, |t| t.encoded_size());
					let outputs = info.outputs.as_ref().map_or(0, |t| t.encoded_size());
					inputs.saturating_add(outputs) as u32
				},
				None => T::MaxClaimPayload::get().saturating_mul(2),
			};
			f((outputs.encoded_size() as u32).max(payload))
		}

		/// Reading `n` running disputes of a claim (`open` checks who already disputes it; its
		/// benchmark opens the first dispute).
		pub fn running_reads(n: u32) -> Weight {
			let per = Weight::from_parts(0, DisputeOf::<T>::max_encoded_len() as u64)
				.saturating_add(T::DbWeight::get().reads(1));
			per.saturating_mul(n.into())
		}

		/// The weight of a one-step of `work` operator work (`edgeproof_canon::node_work`),
		/// without the settlement: the dearer of the two benchmarked kinds of operator per
		/// unit of work (transcendental elementwise, matrix product with the most witness
		/// bytes per unit), so every operator is covered.
		pub fn one_step_weight(work: u64) -> Weight {
			let work = work.min(T::Limits::get().max_node_work);
			let units = u32::try_from(work.div_ceil(WORK_UNIT)).unwrap_or(u32::MAX);
			T::WeightInfo::one_step(units).max(T::WeightInfo::one_step_matmul(units))
		}

		/// The weight of a `cut` whose cut costs `cost` (`geometry_within`'s units,
		/// [`CUT_UNIT`] per benchmark unit).
		pub fn cut_weight(cost: u64) -> Weight {
			T::WeightInfo::cut(u32::try_from(cost.div_ceil(CUT_UNIT)).unwrap_or(u32::MAX))
		}

		/// The most bytes a sub-step's inputs may take in all
		/// (`edgeproof_canon::substep::max_substep_input_bytes`: two tensors at the one-step
		/// limits' element bound; the sub-step holds its inputs whole). Validators refuse a
		/// model with a node over it that the second level would settle.
		pub fn max_sub_step_input_bytes() -> u64 {
			edgeproof_canon::substep::max_substep_input_bytes(&T::Limits::get())
		}

		/// The weight of a `sub_step` with `witness`, without the settlement: a sub-step of
		/// `SubStepLimits::max_work` (the benchmark's product reads as many bytes per unit of
		/// work as the read bound allows at the work bound), plus building its inputs at the
		/// sizes their headers give (the sub-step holds each input whole, its unread chunks
		/// zero).
		pub fn sub_step_weight(witness: &SubStepWitness) -> Weight {
			let work = T::SubStepLimits::get().max_work;
			let units = u32::try_from(work.div_ceil(WORK_UNIT)).unwrap_or(u32::MAX);
			let bytes: u64 =
				witness.inputs.iter().map(|i| u64::from(i.input.header.data_len)).sum();
			let kib = u32::try_from(bytes.min(Self::max_sub_step_input_bytes()).div_ceil(1024))
				.unwrap_or(u32::MAX);
			T::WeightInfo::sub_step(units).saturating_add(T::WeightInfo::sub_step_inputs(kib))
		}

		/// The most a settlement adds to a move: the claim invalidated and every other dispute
		/// on it closed.
		pub fn settle_weight() -> Weight {
			T::WeightInfo::settle(T::MaxDisputesPerClaim::get())
		}

		/// A dispute and its claim's data, for a move.
		fn load(dispute: DisputeId) -> Result<(DisputeOf<T>, ClaimInfoOf<T>), DispatchError> {
			let record = Disputes::<T>::get(dispute).ok_or(Error::<T>::UnknownDispute)?;
			let info = T::Claims::claim(record.claim).ok_or(Error::<T>::UnknownClaim)?;
			Ok((record, info))
		}

		/// Which party `who` is.
		fn party_of(record: &DisputeOf<T>, who: &T::AccountId) -> Result<Party, DispatchError> {
			if *who == record.claimant {
				Ok(Party::Claimant)
			} else if *who == record.challenger {
				Ok(Party::Challenger)
			} else {
				Err(Error::<T>::NotParty.into())
			}
		}

		/// A dispute and its model, for the moves that read none of the claim's payloads (every
		/// move after `respond`; see [`Self::context`]).
		fn load_bare(
			dispute: DisputeId,
		) -> Result<(DisputeOf<T>, pallet_models::ModelSummary), DispatchError> {
			let record = Disputes::<T>::get(dispute).ok_or(Error::<T>::UnknownDispute)?;
			let model = T::Models::summary(&record.model).ok_or(Error::<T>::UnknownModel)?;
			Ok((record, model))
		}

		/// The game context of a claim on `model` with `input_count` inputs: the model's
		/// program root, node count and tolerance, the runtime's limits, and what of the claim
		/// the move reads — the input leaves (kept with the dispute) for `bisect`, the output
		/// tensors for `open` and `respond`, empty where unread ([`game::ClaimContext`]).
		fn context<'a>(
			model: &pallet_models::ModelSummary,
			input_count: u32,
			input_leaves: &'a [Hash],
			outputs: &'a [edgeproof_canon::Tensor],
		) -> game::ClaimContext<'a> {
			game::ClaimContext {
				program_root: model.program_root.0,
				input_count,
				node_count: model.node_count,
				input_leaves,
				outputs,
				tolerance: model.tolerance,
				limits: T::Limits::get(),
				substep_limits: T::SubStepLimits::get(),
				cut_budget: T::MaxCutCost::get(),
			}
		}

		/// The context of a move after `respond` on `record` ([`Self::context`]).
		fn bare_context<'a>(
			model: &pallet_models::ModelSummary,
			input_leaves: &'a BoundedVec<Hash, T::MaxInputs>,
		) -> game::ClaimContext<'a> {
			Self::context(model, input_leaves.len() as u32, input_leaves, &[])
		}

		/// The leaf hashes of an undecided claim's inputs, as the dispute keeps them.
		fn input_leaves(
			info: &ClaimInfoOf<T>,
		) -> Result<BoundedVec<Hash, T::MaxInputs>, DispatchError> {
			let inputs = info.inputs.as_ref().ok_or(Error::<T>::ClaimDecided)?;
			let leaves: Vec<Hash> = inputs.iter().map(edgeproof_canon::leaf_hash).collect();
			BoundedVec::try_from(leaves).map_err(|_| Error::<T>::TooManyInputs.into())
		}

		/// Runs `f` with the game context of `open` or `respond` on a claim: its decoded output
		/// tensors, `input_leaves`, and its model.
		fn with_context<R>(
			info: &ClaimInfoOf<T>,
			input_leaves: &[Hash],
			f: impl FnOnce(&game::ClaimContext) -> Result<R, DispatchError>,
		) -> Result<R, DispatchError> {
			let (Some(inputs), Some(outputs)) = (&info.inputs, &info.outputs) else {
				return Err(Error::<T>::ClaimDecided.into());
			};
			let model = T::Models::summary(&info.record.model).ok_or(Error::<T>::UnknownModel)?;
			f(&Self::context(&model, inputs.len() as u32, input_leaves, outputs))
		}

		/// Stores a game that goes on, or settles one that ended. Returns the settlement's
		/// weight (zero if the game goes on).
		fn after_move(dispute: DisputeId, record: DisputeOf<T>, outcome: game::Outcome) -> Weight {
			match outcome {
				game::Outcome::Continues => {
					match *record.game.phase() {
						Phase::AwaitingOneStep { leaf, .. } => {
							Self::deposit_event(Event::OneStepAwaited { dispute, leaf });
						},
						Phase::AwaitingSubStep { inside, tile, segment, .. } => {
							Self::deposit_event(Event::SubStepAwaited {
								dispute,
								leaf: inside.leaf,
								tile,
								segment,
							});
						},
						_ => {},
					}
					Disputes::<T>::insert(dispute, record);
					Weight::zero()
				},
				game::Outcome::Resolved(resolution) => {
					let Ok(weight) = Self::settle(dispute, record, resolution);
					weight
				},
			}
		}

		/// Ends a decided dispute: removes it, moves the challenger's bond, tells the claim
		/// registry and, if the claim became invalid, closes the claim's other disputes.
		/// Returns the weight used; the error type says that it cannot fail.
		///
		/// The game is decided: this is past the point of no return and cannot fail, or the
		/// dispute would stay and every later move and timeout on it would revert. The
		/// dispute's storage goes first (as pallet-multisig clears a call before dispatching
		/// it), the bond moves best-effort and by force, and a currency or claim registry that
		/// refuses its part (both would be breaking a promise: the hold is this pallet's own,
		/// and the registry counts every running dispute) is logged with `defensive!` while
		/// the rest goes on.
		pub(crate) fn settle(
			dispute: DisputeId,
			record: DisputeOf<T>,
			resolution: Resolution,
		) -> Result<Weight, core::convert::Infallible> {
			use game::Winner;
			let claim = record.claim;
			Disputes::<T>::remove(dispute);
			let mut others = ClaimDisputes::<T>::take(claim);
			others.retain(|id| *id != dispute);
			let (returned, to_claimant, burned) = match resolution.winner {
				Winner::Challenger => {
					(Self::release_bond(dispute, &record), Zero::zero(), Zero::zero())
				},
				Winner::Claimant => {
					let paid = Self::pay_share(dispute, &record);
					let burned =
						Self::burn_bond(dispute, &record, record.bond.saturating_sub(paid));
					(Zero::zero(), paid, burned)
				},
				Winner::Neither => {
					(Zero::zero(), Zero::zero(), Self::burn_bond(dispute, &record, record.bond))
				},
			};
			let beneficiary =
				(resolution.winner == Winner::Challenger).then_some(&record.challenger);
			Self::note_resolved(dispute, claim, resolution.winner == Winner::Claimant, beneficiary);
			Self::deposit_event(Event::DisputeResolved {
				dispute,
				claim,
				ending: Ending::Decided(resolution),
				challenger_bond_returned: returned,
				to_claimant,
				burned,
			});
			let closed = if resolution.winner == Winner::Claimant {
				if !others.is_empty() {
					ClaimDisputes::<T>::insert(claim, others);
				}
				0
			} else {
				for other in others.iter() {
					Self::close(*other, claim);
				}
				others.len() as u32
			};
			Ok(T::WeightInfo::settle(closed))
		}

		/// Closes a dispute whose claim another dispute proved invalid: the challenger was
		/// right, its bond is returned. Cannot fail, like [`Self::settle`].
		fn close(dispute: DisputeId, claim: ClaimId) {
			let Some(record) = Disputes::<T>::take(dispute) else {
				defensive!("a claim lists a dispute that is not running", dispute);
				return;
			};
			let returned = Self::release_bond(dispute, &record);
			// The claim is already invalid: this records the result (no funds move).
			Self::note_resolved(dispute, claim, false, None);
			Self::deposit_event(Event::DisputeResolved {
				dispute,
				claim,
				ending: Ending::ClaimInvalidated,
				challenger_bond_returned: returned,
				to_claimant: Zero::zero(),
				burned: Zero::zero(),
			});
		}

		/// Returns a settled dispute's bond to the challenger: what is held of it, or nothing
		/// (`defensive!`) if the currency refuses.
		fn release_bond(dispute: DisputeId, record: &DisputeOf<T>) -> BalanceOf<T> {
			T::Currency::release(
				&HoldReason::ChallengerBond.into(),
				&record.challenger,
				record.bond,
				Precision::BestEffort,
			)
			.unwrap_or_else(|e| {
				defensive!("a challenger bond could not be released", (dispute, e));
				Zero::zero()
			})
		}

		/// Pays [`Config::WinnerShare`] of a losing challenger's bond to the claimant; returns
		/// what was paid. Refused (e.g. a share below the existential deposit to an account
		/// that does not exist), nothing is paid and the whole bond is burned.
		fn pay_share(dispute: DisputeId, record: &DisputeOf<T>) -> BalanceOf<T> {
			T::Currency::transfer_on_hold(
				&HoldReason::ChallengerBond.into(),
				&record.challenger,
				&record.claimant,
				T::WinnerShare::get() * record.bond,
				Precision::BestEffort,
				Restriction::Free,
				Fortitude::Force,
			)
			.unwrap_or_else(|e| {
				log::warn!(target: LOG_TARGET, "dispute {dispute}: share not paid: {e:?}");
				Zero::zero()
			})
		}

		/// Burns up to `amount` of a settled dispute's bond; returns what was burned (nothing,
		/// `defensive!`, if the currency refuses).
		fn burn_bond(
			dispute: DisputeId,
			record: &DisputeOf<T>,
			amount: BalanceOf<T>,
		) -> BalanceOf<T> {
			T::Currency::burn_held(
				&HoldReason::ChallengerBond.into(),
				&record.challenger,
				amount,
				Precision::BestEffort,
				Fortitude::Force,
			)
			.unwrap_or_else(|e| {
				defensive!("a challenger bond could not be burned", (dispute, e));
				Zero::zero()
			})
		}

		/// Tells the claim registry a dispute about `claim` ended. A refusal means the registry
		/// no longer counts the dispute (the claim unknown, or not disputed): logged with
		/// `defensive!`, the dispute ends all the same.
		fn note_resolved(
			dispute: DisputeId,
			claim: ClaimId,
			claimant_won: bool,
			beneficiary: Option<&T::AccountId>,
		) {
			if let Err(e) = T::Claims::note_dispute_resolved(claim, claimant_won, beneficiary) {
				defensive!("the claim registry refused a dispute's result", (dispute, claim, e));
			}
		}

		/// What the runtime computes for a one-step: checks `witness` for trace leaf `leaf` of
		/// a program (`program_root`, `node_count` nodes, `input_count` inputs) against
		/// `trace_root` under the one-step limits, executes the node, and returns its leaf
		/// hash. The runtime API exposes it so that a party can try its step before posting it.
		pub fn check_one_step(
			program_root: Hash,
			node_count: u32,
			input_count: u32,
			trace_root: Hash,
			leaf: u64,
			witness: &edgeproof_canon::OneStepWitness,
		) -> Result<Hash, Error<T>> {
			let ctx = edgeproof_canon::OneStepContext {
				program_root,
				node_count,
				input_count,
				trace_root,
				limits: T::Limits::get(),
			};
			edgeproof_canon::verify_one_step(&ctx, leaf, witness).map_err(|e| match e {
				edgeproof_canon::CanonError::Proof { .. } => Error::<T>::OneStepNotProven,
				_ => Error::<T>::OneStepFailed,
			})
		}

		/// What the runtime computes for a sub-step: checks `witness` for trace leaf `leaf` of a
		/// program (as [`Self::check_one_step`]) against `trace_root`, for the node cut as
		/// `geometry`, runs the sub-step and returns the leaf of what it gives (the next state,
		/// or for the last segment the tile's output chunk). The runtime API exposes it so that
		/// a party can try its sub-step before posting it.
		pub fn check_sub_step(
			program_root: Hash,
			node_count: u32,
			input_count: u32,
			trace_root: Hash,
			leaf: u64,
			geometry: &edgeproof_canon::substep::Geometry,
			witness: &SubStepWitness,
		) -> Result<Hash, Error<T>> {
			let ctx = edgeproof_canon::OneStepContext {
				program_root,
				node_count,
				input_count,
				trace_root,
				limits: T::Limits::get(),
			};
			edgeproof_canon::substep::verify_substep(&ctx, leaf, witness, geometry)
				.map(|outcome| outcome.leaf)
				.map_err(|e| match e {
					edgeproof_canon::CanonError::Proof { .. } => Error::<T>::SubStepNotProven,
					_ => Error::<T>::SubStepFailed,
				})
		}

		/// A dispute as clients read it, at the current block.
		pub fn view(
			dispute: DisputeId,
		) -> Option<DisputeView<T::AccountId, BalanceOf<T>, BlockNumberFor<T>, T::MaxInputs>> {
			let record = Disputes::<T>::get(dispute)?;
			let now = Self::now();
			let game = &record.game;
			let position = match *game.phase() {
				Phase::Bisection { position, .. } => Some(position),
				Phase::AwaitingOneStep { leaf, .. } => {
					let n = T::Models::summary(&record.model)?.node_count as u64;
					let m = record.input_leaves.len() as u64;
					let depth = edgeproof_canon::merkle::tree_depth(m.saturating_add(n));
					Some(Position { depth, index: leaf })
				},
				_ => None,
			};
			Some(DisputeView {
				round: game.round(),
				position,
				claimant_owes: game.owes(Party::Claimant),
				challenger_owes: game.owes(Party::Challenger),
				claimant_remaining: game.remaining(Party::Claimant, now),
				challenger_remaining: game.remaining(Party::Challenger, now),
				deadline: game.deadline().map(Self::block_of),
				dispute: record,
			})
		}

		/// The invariants of this pallet's storage:
		///
		/// 1. every challenger's `ChallengerBond` hold equals the bonds of its disputes;
		/// 2. `ClaimDisputes` lists exactly the running disputes, each under its claim, and no
		///    empty lists are stored;
		/// 3. every dispute id is below `NextDisputeId`, and no stored game is resolved;
		/// 4. the clocks skipped no more blocks than there were ([`SkippedBlocks`]).
		#[cfg(any(feature = "try-runtime", feature = "std"))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			use alloc::collections::btree_map::BTreeMap;
			ensure!(
				BlockNumberFor::<T>::from(SkippedBlocks::<T>::get())
					<= frame_system::Pallet::<T>::block_number(),
				"more blocks skipped than there were"
			);
			let next = NextDisputeId::<T>::get();
			let mut held: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
			let mut listed = 0usize;
			for (id, record) in Disputes::<T>::iter() {
				ensure!(id < next, "a dispute id is not below NextDisputeId");
				ensure!(record.game.resolution().is_none(), "a resolved game is stored");
				ensure!(
					ClaimDisputes::<T>::get(record.claim).contains(&id),
					"a dispute is missing from its claim's list"
				);
				let entry = held.entry(record.challenger.clone()).or_default();
				*entry = entry.saturating_add(record.bond);
			}
			for (claim, ids) in ClaimDisputes::<T>::iter() {
				ensure!(!ids.is_empty(), "an empty dispute list is stored");
				for id in ids.iter() {
					let record = Disputes::<T>::get(id).ok_or("a listed dispute does not exist")?;
					ensure!(record.claim == claim, "a dispute is listed under another claim");
				}
				listed = listed.saturating_add(ids.len());
			}
			ensure!(listed == Disputes::<T>::iter().count(), "disputes listed twice");
			for (who, amount) in held {
				ensure!(
					T::Currency::balance_on_hold(&HoldReason::ChallengerBond.into(), &who)
						== amount,
					"a challenger bond hold does not match the disputes"
				);
			}
			Ok(())
		}
	}

	impl<T: Config>
		pallet_attestations::WrongClaimHandler<T::AccountId, BalanceOf<T>, BlockNumberFor<T>>
		for Pallet<T>
	{
		fn wrong_claim(
			claim: ClaimId,
			_: &pallet_attestations::ClaimRecord<T::AccountId, BalanceOf<T>, BlockNumberFor<T>>,
			canonical: &edgeproof_primitives::CanonicalOutput,
		) -> bool {
			offchain::open_dispute::<T>(claim, canonical)
		}
	}
}

/// Operator work per weight unit of `WeightInfo::one_step`'s work component.
pub const WORK_UNIT: u64 = 1_024;

/// Cut cost (`edgeproof_canon::substep::geometry_within`'s units) per weight unit of
/// `WeightInfo::cut`'s cost component.
pub const CUT_UNIT: u64 = 1_024;

/// Bytes of a one-step transaction beyond its witness's tensor data (at most
/// `max_step_bytes`): the node's definition, the Merkle proofs (32 bytes a tree level), the
/// tensor headers and the extrinsic's envelope. A generous bound.
pub const STEP_ENVELOPE: u64 = 64 * 1024;

/// Runtime API of the disputes pallet, for clients (polkadot-js, the device CLI).
pub mod runtime_api {
	use super::*;

	sp_api::decl_runtime_apis! {
		/// Reads disputes.
		pub trait DisputesApi<View, Error> where View: codec::Codec, Error: codec::Codec {
			/// A running dispute: its record, round, position, whose move, clocks, deadline.
			fn dispute(id: DisputeId) -> Option<View>;
			/// The running disputes of a claim.
			fn claim_disputes(claim: ClaimId) -> Vec<DisputeId>;
			/// Executes a one-step as `one_step` would (without a dispute): the leaf hash the
			/// runtime computes from `witness` for leaf `leaf` of the program, or why not.
			fn check_one_step(
				program_root: Hash,
				node_count: u32,
				input_count: u32,
				trace_root: Hash,
				leaf: u64,
				witness: edgeproof_canon::OneStepWitness,
			) -> Result<Hash, Error>;
			/// Runs a sub-step as `sub_step` would (without a dispute), for the node of trace
			/// leaf `leaf` cut as `geometry`: the leaf of what it gives, or why not.
			fn check_sub_step(
				program_root: Hash,
				node_count: u32,
				input_count: u32,
				trace_root: Hash,
				leaf: u64,
				geometry: edgeproof_canon::substep::Geometry,
				witness: edgeproof_canon::substep::SubStepWitness,
			) -> Result<Hash, Error>;
		}
	}
}
