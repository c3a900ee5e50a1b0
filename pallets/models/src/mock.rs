//! A mock runtime: frame-system, balances and the model registry.

use core::cell::RefCell;

use edgeproof_canon::{DType, Tolerance};
use frame_support::{
	derive_impl,
	traits::{ConstU32, ConstU64},
	BoundedVec,
};
use sp_core::H256;
use sp_runtime::{
	testing::{TestSignature, UintAuthorityId},
	BuildStorage,
};

use crate::{self as pallet_models, ModelParamsOf, TensorSpecOf, VoterSet};

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Balance = u64;

pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
pub const POOR: AccountId = 3;
/// Squatters: they register models at URIs that never answer.
pub const MALLORY: AccountId = 4;
pub const EVE: AccountId = 5;
pub const V1: AccountId = 11;
pub const V2: AccountId = 12;
pub const V3: AccountId = 13;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Models: pallet_models,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
	type Balance = Balance;
	type RuntimeHoldReason = RuntimeHoldReason;
}

thread_local! {
	static VOTERS: RefCell<Vec<AccountId>> = RefCell::new(vec![V1, V2, V3]);
}

/// The voter set of the tests; `set_voters` changes it.
pub struct TestVoters;
impl VoterSet<AccountId> for TestVoters {
	fn is_voter(who: &AccountId) -> bool {
		VOTERS.with(|v| v.borrow().contains(who))
	}
	fn count() -> u32 {
		VOTERS.with(|v| v.borrow().len() as u32)
	}
	#[cfg(feature = "runtime-benchmarks")]
	fn set_benchmark_voters(n: u32) -> Vec<AccountId> {
		let voters: Vec<AccountId> = (1000..1000 + n as u64).collect();
		set_voters(voters.clone());
		voters
	}
}

pub fn set_voters(voters: Vec<AccountId>) {
	VOTERS.with(|v| *v.borrow_mut() = voters);
}

pub type RejectionSlash = <Test as crate::Config>::RejectionSlash;
pub type MaxModelBytes = <Test as crate::Config>::MaxModelBytes;
pub type MaxToleranceAbs = <Test as crate::Config>::MaxToleranceAbs;
pub type MaxToleranceRel = <Test as crate::Config>::MaxToleranceRel;

pub const DEPOSIT_BASE: Balance = 100;
pub const DEPOSIT_PER_BYTE: Balance = 1;
pub const MAX_PENDING_MODELS: u32 = 4;
pub const MAX_PENDING_PER_OWNER: u32 = 2;
pub const PENDING_TIMEOUT: u64 = 10;

/// The shared test defaults, with a small registry (three versions per family, four pending
/// models, two per owner, ten blocks to vote) so the tests reach every bound.
#[derive_impl(pallet_models::config_preludes::TestDefaultConfig)]
impl pallet_models::Config for Test {
	type Currency = Balances;
	type ActivationOrigin = frame_system::EnsureRoot<AccountId>;
	type Voters = TestVoters;
	type DepositBase = ConstU64<DEPOSIT_BASE>;
	type DepositPerByte = ConstU64<DEPOSIT_PER_BYTE>;
	type MaxUriLen = ConstU32<128>;
	type MaxVersions = ConstU32<3>;
	type MaxPendingModels = ConstU32<MAX_PENDING_MODELS>;
	type MaxPendingPerOwner = ConstU32<MAX_PENDING_PER_OWNER>;
	type PendingTimeout = ConstU64<PENDING_TIMEOUT>;
	type CheckerCrypto = TestChecker;
}

crate::impl_test_signing!(Test, RuntimeCall);

/// Signs off-chain transactions in tests: the "keystore" is `UintAuthorityId::set_all_keys`.
pub struct TestChecker;
impl frame_system::offchain::AppCrypto<UintAuthorityId, TestSignature> for TestChecker {
	type RuntimeAppPublic = UintAuthorityId;
	type GenericPublic = UintAuthorityId;
	type GenericSignature = TestSignature;
}

/// A tensor spec for tests.
pub fn spec(name: &str, dtype: DType, shape: &[u32], dynamic_batch: bool) -> TensorSpecOf<Test> {
	TensorSpecOf::<Test> {
		name: BoundedVec::truncate_from(name.as_bytes().to_vec()),
		dtype,
		shape: BoundedVec::truncate_from(shape.to_vec()),
		dynamic_batch,
	}
}

/// Valid registration parameters of model `seed` (name "mlp", version `seed`).
pub fn params(seed: u8) -> ModelParamsOf<Test> {
	ModelParamsOf::<Test> {
		file_hash: H256::repeat_byte(seed),
		name: BoundedVec::truncate_from(b"mlp".to_vec()),
		version: seed as u32,
		uri: BoundedVec::truncate_from(
			format!("http://127.0.0.1:8000/mlp-{seed}.onnx").into_bytes(),
		),
		byte_size: 4_321,
		inputs: BoundedVec::truncate_from(vec![spec("input", DType::F32, &[4, 16], true)]),
		outputs: BoundedVec::truncate_from(vec![spec("output", DType::F32, &[4, 8], true)]),
		tolerance: Tolerance::Relative { abs: 1e-5f32.to_bits(), rel: 1e-4f32.to_bits() },
		program_root: H256::repeat_byte(0xaa),
		node_count: 5,
		program_work: 2_000,
	}
}

/// The id of `owner`'s registration of [`params`]`(seed)`.
pub fn id_of(owner: AccountId, seed: u8) -> crate::ModelId {
	crate::model_id(&owner, &params(seed))
}

/// The id of ALICE's registration of [`params`]`(seed)`, the one most tests make.
pub fn id(seed: u8) -> crate::ModelId {
	id_of(ALICE, seed)
}

pub struct ExtBuilder;

impl ExtBuilder {
	pub fn build() -> sp_io::TestExternalities {
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> {
			balances: vec![
				(ALICE, 1_000_000),
				(BOB, 1_000_000),
				(POOR, 250),
				(MALLORY, 1_000_000),
				(EVE, 1_000_000),
				(V1, 10),
				(V2, 10),
				(V3, 10),
			],
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| {
			System::set_block_number(1);
			set_voters(vec![V1, V2, V3]);
		});
		ext
	}

	/// Runs `test`, then checks the pallet's invariants.
	pub fn build_and_execute(test: impl FnOnce()) {
		Self::build().execute_with(|| {
			test();
			crate::Pallet::<Test>::do_try_state().expect("invariants hold after the test");
		});
	}
}
