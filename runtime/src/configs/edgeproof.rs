//! Edgeproof group (indices 50–): the model registry, device identity, attested outputs and
//! disputes.

#[cfg(feature = "runtime-benchmarks")]
use alloc::vec::Vec;
use frame_support::{
	parameter_types,
	traits::{ConstU32, ConstU64},
};
use sp_runtime::Perbill;

use crate::{
	AccountId, Attestations, Balance, Balances, Runtime, RuntimeHoldReason, Timestamp, DAYS, HOURS,
	MILLI_UNIT, MINUTES, UNIT,
};

/// The validators vote on pending models with their checker keys: the voters are the checker
/// accounts of pallet-attestations ([`pallet_attestations::Checkers`], set in genesis and by
/// root, like the authority set of this chain).
pub struct CheckerVoters;

impl pallet_models::VoterSet<AccountId> for CheckerVoters {
	fn is_voter(who: &AccountId) -> bool {
		Attestations::is_checker(who)
	}

	fn count() -> u32 {
		pallet_attestations::Checkers::<Runtime>::decode_len().unwrap_or(0) as u32
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn set_benchmark_voters(n: u32) -> Vec<AccountId> {
		let voters: Vec<AccountId> =
			(0..n).map(|i| frame_benchmarking::account("voter", i, 0)).collect();
		pallet_attestations::Checkers::<Runtime>::put(frame_support::BoundedVec::truncate_from(
			voters.clone(),
		));
		voters
	}
}

parameter_types! {
	/// Two thirds of the validators decide a pending model (rounded up: 2 of 3, 3 of 4, 7 of 10).
	pub ModelVoteThreshold: Perbill = Perbill::from_rational(2u32, 3u32);
	/// A tenth of a rejected model's deposit is burned, expired ones included: a file nobody
	/// could fetch costs its owner what a file that fails the check does.
	pub const ModelRejectionSlash: Perbill = Perbill::from_percent(10);
}

impl pallet_models::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ActivationOrigin = frame_system::EnsureRoot<AccountId>;
	type Voters = CheckerVoters;
	type VoteThreshold = ModelVoteThreshold;
	type DepositBase = frame_support::traits::ConstU128<{ UNIT }>;
	type DepositPerByte = frame_support::traits::ConstU128<{ 10 * MILLI_UNIT }>;
	type RejectionSlash = ModelRejectionSlash;
	type MaxNameLen = ConstU32<64>;
	type MaxUriLen = ConstU32<256>;
	type MaxTensors = ConstU32<8>;
	type MaxDims = ConstU32<8>;
	/// 16 Mi elements (64 MiB of f32) per declared tensor.
	type MaxTensorElements = ConstU64<{ 1 << 24 }>;
	/// 512 MiB ONNX files.
	type MaxModelBytes = ConstU64<{ 512 << 20 }>;
	type MaxVersions = ConstU32<32>;
	type MaxVoters = MaxCheckers;
	type MaxPendingModels = ConstU32<64>;
	/// Filling the 64 pending slots takes 16 accounts and deposits.
	type MaxPendingPerOwner = ConstU32<4>;
	/// An hour for the validators to fetch, check and vote; then the model expires.
	type PendingTimeout = ConstU32<{ HOURS }>;
	/// 0.01: a hundred times the fixtures' `rel` (1e-4), ten times the loosest bound the tests
	/// use (1e-3).
	type MaxToleranceAbs = ConstU32<{ 1e-2f32.to_bits() }>;
	/// 0.01 (1 %).
	type MaxToleranceRel = ConstU32<{ 1e-2f32.to_bits() }>;
	type DisputeLimits = DisputeLimits;
	type SecondLevelLimits = DisputeSecondLevel;
	type CheckerCrypto = CheckerAuthId;
	type WeightInfo = pallet_models::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// The least stake a device needs.
	pub const DeviceMinStake: Balance = 100 * UNIT;
}

/// Most dispute clock budget (and so most minimum extension) root may set.
const MAX_CLOCK_BUDGET: u32 = 6 * HOURS;
/// Most claim challenge period root may set.
const MAX_CHALLENGE_PERIOD: u32 = DAYS;

/// The longest a claim can stay undecided: its longest challenge period, then the longest
/// dispute game opened at its end. In a game each party's clock runs only while it owes a move
/// and starts at most at `MAX_CLOCK_BUDGET`; each move (open, respond, two per bisection round,
/// the one-step) can raise the opponent's clock to the minimum extension, itself at most
/// `MAX_CLOCK_BUDGET`. A trace has at most `max_nodes` node leaves and `MaxTensors` input
/// leaves, so at most `depth` bisection rounds.
pub struct LongestClaimDecision;

impl frame_support::traits::Get<crate::BlockNumber> for LongestClaimDecision {
	fn get() -> crate::BlockNumber {
		let inputs = <Runtime as pallet_models::Config>::MaxTensors::get();
		let leaves = DisputeLimits::get().max_nodes.saturating_add(inputs);
		let depth = u32::BITS - leaves.saturating_sub(1).leading_zeros();
		let moves = depth.saturating_mul(2).saturating_add(3);
		let longest_game = MAX_CLOCK_BUDGET.saturating_mul(moves.saturating_add(2));
		MAX_CHALLENGE_PERIOD.saturating_add(longest_game)
	}
}

impl pallet_devices::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type AdminOrigin = frame_system::EnsureRoot<AccountId>;
	type MinStake = DeviceMinStake;
	/// Two weeks: longer than any claim can stay undecided (`LongestClaimDecision`, about
	/// 10.8 days), and `withdraw_stake` waits for the device's claims in any case.
	type UnbondingPeriod = ConstU32<{ 14 * DAYS }>;
	type LongestClaimDecision = LongestClaimDecision;
	type Claims = Attestations;
	type MaxLostDisputes = ConstU32<3>;
	type MaxDevicesPerOperator = ConstU32<64>;
	type MaxKeyRotations = ConstU32<16>;
	type MaxDescriptionLen = ConstU32<256>;
	/// Google's two attestation roots today, Apple's to come, room for rotations.
	type MaxTrustedRoots = ConstU32<8>;
	type UnixTime = Timestamp;
	type WeightInfo = pallet_devices::weights::SubstrateWeight<Runtime>;
}

/// Signs off-chain worker transactions with the checker key (ed25519, key type `echk`).
pub struct CheckerAuthId;

impl frame_system::offchain::AppCrypto<sp_runtime::MultiSigner, sp_runtime::MultiSignature>
	for CheckerAuthId
{
	type RuntimeAppPublic = edgeproof_primitives::checker::app::Public;
	type GenericPublic = sp_core::ed25519::Public;
	type GenericSignature = sp_core::ed25519::Signature;
}

parameter_types! {
	/// Most checkers (and so model voters).
	pub const MaxCheckers: u32 = 32;
	/// What a disputable model must stay within: its canonical program's size and one
	/// operator's work, which the runtime executes in a one-step of the dispute game.
	pub const DisputeLimits: edgeproof_primitives::Limits = edgeproof_primitives::Limits {
		max_elements: 1 << 22,
		max_dims: 8,
		max_nodes: 100_000,
		// 16 Mi work units: the benchmarked one-step costs 48 ns per unit at worst (a
		// transcendental in wasm), so the heaviest step is about 0.8 s of a 1.5 s block.
		max_node_work: 1 << 24,
		// A one-step's tensors fit in one transaction (blocks take 3.75 MiB of them).
		max_step_bytes: 2 << 20,
		// 16 Gi work units for one run of the whole program (a ResNet-50 is about 4 Gi): what
		// one check costs a validator; claims lock a bond that grows with it
		// (`ClaimBondPerWork`).
		max_program_work: 1 << 34,
		// 1 GiB of trace (inputs and every node output) computed by one run; checkers stream it
		// and keep only its tree and outputs.
		max_trace_bytes: 1 << 30,
	};
	/// What one sub-step of the dispute game's second level stays within (canon's default:
	/// 2 Mi work units, about a tenth of a block at the one-step's worst cost per unit, and
	/// 512 KiB of reads).
	pub const DisputeSubStepLimits: edgeproof_primitives::SubStepLimits =
		edgeproof_primitives::SubStepLimits::DEFAULT;
	/// The most finding one node's cut may cost (1 Mi units: light ResNet-50's dearest cut
	/// costs 0.94 Mi, docs/benchmarks.md).
	pub const DisputeMaxCutCost: u64 = 1 << 20;
	/// The second level as validators check models against it.
	pub const DisputeSecondLevel: edgeproof_primitives::SecondLevelLimits =
		edgeproof_primitives::SecondLevelLimits {
			sub_step: DisputeSubStepLimits::get(),
			max_cut_cost: DisputeMaxCutCost::get(),
		};
	/// 1.5 MiB per claim input and per claim output payload: a 320×320 RGB camera frame in
	/// f32 (1.2 MB) with a detector's 700 KB output fits, and a claim with both payloads at
	/// the bound (3 MiB) still fits a block's 3.75 MiB of normal extrinsics
	/// (`tests/throughput.rs`). Payloads stay in state only while the claim is undecided.
	pub const ClaimPayloadLimit: u32 = 3 * 512 * 1024;
	/// Half of a lost claim's bond goes to the winning challenger, the rest is burned.
	pub const ClaimBondRewardShare: Perbill = Perbill::from_percent(50);
	/// A tenth of a device's stake is burned per invalid claim.
	pub const ClaimStakeSlash: Perbill = Perbill::from_percent(10);
}

impl pallet_attestations::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Models = crate::Models;
	type Devices = crate::Devices;
	type ClaimBond = frame_support::traits::ConstU128<{ UNIT }>;
	/// One more unit per 2^30 units of the model's canonical work: a claim on the dearest
	/// admissible model (`max_program_work` = 2^34) locks 17 units.
	type ClaimBondPerWork = frame_support::traits::ConstU128<{ UNIT }>;
	/// Ten minutes, until genesis or root sets another (dev chains: 5 blocks).
	type ChallengePeriod = ConstU32<{ 10 * MINUTES }>;
	type MaxChallengePeriod = ConstU32<MAX_CHALLENGE_PERIOD>;
	/// Longer than any dispute (their clocks are bounded well below a day).
	type RetentionPeriod = ConstU32<{ 7 * DAYS }>;
	type BondRewardShare = ClaimBondRewardShare;
	type StakeSlash = ClaimStakeSlash;
	type MaxPayloadLen = ClaimPayloadLimit;
	type MaxPendingPerDevice = ConstU32<1_024>;
	/// At least the claims blocks can take in a flood (about 2000 a block by the benchmarked
	/// weights, each claim's expiry and prune sharing later blocks), so the expiry and prune
	/// queues keep up with full blocks of claims (`tests/throughput.rs`).
	type MaxExpiriesPerBlock = ConstU32<2_048>;
	type MaxPrunesPerBlock = ConstU32<2_048>;
	type AdminOrigin = frame_system::EnsureRoot<AccountId>;
	type MaxCheckers = MaxCheckers;
	/// A third of the block time.
	type CheckTimeBudget = ConstU64<2_000>;
	type OnWrongClaim = crate::Disputes;
	type WeightInfo = pallet_attestations::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = pallet_attestations::benchmark_helper::RegistriesHelper<Runtime>;
}

/// The validators' checker accounts ([`pallet_attestations::Checkers`]).
pub struct CheckerAccounts;

impl frame_support::traits::Contains<AccountId> for CheckerAccounts {
	fn contains(who: &AccountId) -> bool {
		Attestations::is_checker(who)
	}
}

parameter_types! {
	/// Half of a losing challenger's bond goes to the claim's operator, the rest is burned.
	pub const DisputeWinnerShare: Perbill = Perbill::from_percent(50);
}

impl pallet_disputes::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Claims = Attestations;
	type Models = crate::Models;
	type ChallengerBond = frame_support::traits::ConstU128<{ UNIT }>;
	/// An hour per party, until genesis or root sets another clock (dev chains: 10 blocks).
	type ClockBudget = ConstU32<{ HOURS }>;
	/// Five minutes.
	type MinExtension = ConstU32<{ 5 * MINUTES }>;
	type MaxClockBudget = ConstU32<MAX_CLOCK_BUDGET>;
	type AdminOrigin = frame_system::EnsureRoot<AccountId>;
	type WinnerShare = DisputeWinnerShare;
	/// 16 for anyone, 32 more kept for the validators' checker accounts.
	type MaxDisputesPerClaim = ConstU32<48>;
	type MaxUnreservedDisputes = ConstU32<16>;
	type Reserved = CheckerAccounts;
	type MaxOutputs = ConstU32<8>;
	/// As many as a model may declare (`MaxTensors`).
	type MaxInputs = ConstU32<8>;
	type MaxClaimPayload = ClaimPayloadLimit;
	type Limits = DisputeLimits;
	type SubStepLimits = DisputeSubStepLimits;
	type MaxCutCost = DisputeMaxCutCost;
	type CheckerCrypto = CheckerAuthId;
	type WeightInfo = pallet_disputes::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = pallet_disputes::benchmark_helper::AttestationsClaims<Runtime>;
}

// Off-chain workers sign transactions: the checker key signs for its own account.
impl frame_system::offchain::SigningTypes for Runtime {
	type Public = <crate::Signature as sp_runtime::traits::Verify>::Signer;
	type Signature = crate::Signature;
}

impl<C> frame_system::offchain::CreateTransactionBase<C> for Runtime
where
	crate::RuntimeCall: From<C>,
{
	type Extrinsic = crate::UncheckedExtrinsic;
	type RuntimeCall = crate::RuntimeCall;
}

impl<C> frame_system::offchain::CreateSignedTransaction<C> for Runtime
where
	crate::RuntimeCall: From<C>,
{
	fn create_signed_transaction<
		A: frame_system::offchain::AppCrypto<Self::Public, Self::Signature>,
	>(
		call: crate::RuntimeCall,
		public: Self::Public,
		account: AccountId,
		nonce: crate::Nonce,
	) -> Option<crate::UncheckedExtrinsic> {
		use codec::Encode;
		use sp_runtime::{generic::Era, traits::StaticLookup, SaturatedConversion};
		// Mortal for a quarter of the block-hash window from the parent block.
		let period = (<super::system::BlockHashCount as frame_support::traits::Get<
			crate::BlockNumber,
		>>::get() / 4)
			.next_power_of_two() as u64;
		let current: u64 = frame_system::Pallet::<Runtime>::block_number()
			.saturated_into::<u64>()
			.saturating_sub(1);
		let extension = crate::tx_extension(Era::mortal(period, current), nonce);
		let payload = crate::SignedPayload::new(call, extension).ok()?;
		let signature = payload.using_encoded(|bytes| A::sign(bytes, public))?;
		let (call, extension, _) = payload.deconstruct();
		let address = <Runtime as frame_system::Config>::Lookup::unlookup(account);
		Some(crate::UncheckedExtrinsic::new_signed(call, address, signature, extension))
	}
}
