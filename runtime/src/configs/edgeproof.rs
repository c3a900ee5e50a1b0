//! Edgeproof group (indices 50–): the model registry and device identity.

use alloc::vec::Vec;
use frame_support::{
	parameter_types,
	traits::{ConstU32, ConstU64},
};
use sp_runtime::Perbill;

use crate::{AccountId, Balance, Balances, Runtime, RuntimeHoldReason, HOURS, MILLI_UNIT, UNIT};

/// The validators vote on pending models: the accounts of the current Aura authorities (on dev
/// chains the Aura key of `//Alice` is Alice's account key).
pub struct AuthorityVoters;

impl AuthorityVoters {
	fn accounts() -> Vec<AccountId> {
		pallet_aura::Authorities::<Runtime>::get()
			.into_iter()
			.map(|authority| {
				let raw: [u8; 32] = authority.into_inner().0;
				AccountId::from(raw)
			})
			.collect()
	}
}

impl pallet_models::VoterSet<AccountId> for AuthorityVoters {
	fn is_voter(who: &AccountId) -> bool {
		Self::accounts().contains(who)
	}

	fn count() -> u32 {
		pallet_aura::Authorities::<Runtime>::decode_len().unwrap_or(0) as u32
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn set_benchmark_voters(n: u32) -> Vec<AccountId> {
		use sp_consensus_aura::sr25519::AuthorityId;
		let voters: Vec<AccountId> =
			(0..n).map(|i| frame_benchmarking::account("voter", i, 0)).collect();
		let authorities: Vec<AuthorityId> = voters
			.iter()
			.map(|who| {
				let raw: &[u8; 32] = who.as_ref();
				sp_core::sr25519::Public::from_raw(*raw).into()
			})
			.collect();
		pallet_aura::Authorities::<Runtime>::put(frame_support::BoundedVec::truncate_from(
			authorities,
		));
		voters
	}
}

parameter_types! {
	/// Two thirds of the validators decide a pending model.
	pub const ModelVoteThreshold: Perbill = Perbill::from_percent(67);
	/// A tenth of a rejected model's deposit is burned.
	pub const ModelRejectionSlash: Perbill = Perbill::from_percent(10);
}

impl pallet_models::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ActivationOrigin = frame_system::EnsureRoot<AccountId>;
	type Voters = AuthorityVoters;
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
	type MaxVoters = crate::configs::consensus::MaxAuthorities;
	type WeightInfo = pallet_models::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// The least stake a device needs.
	pub const DeviceMinStake: Balance = 100 * UNIT;
}

impl pallet_devices::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type AdminOrigin = frame_system::EnsureRoot<AccountId>;
	type MinStake = DeviceMinStake;
	type UnbondingPeriod = ConstU32<{ 2 * HOURS }>;
	type MaxLostDisputes = ConstU32<3>;
	type MaxDevicesPerOperator = ConstU32<64>;
	type MaxKeyRotations = ConstU32<16>;
	type MaxDescriptionLen = ConstU32<256>;
	type WeightInfo = pallet_devices::weights::SubstrateWeight<Runtime>;
}
