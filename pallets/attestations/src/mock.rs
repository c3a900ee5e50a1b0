//! A mock runtime: frame-system, balances, the real model and device registries, and the
//! attestation pallet.

use codec::Encode;
use edgeproof_canon::{DType, Tensor, Tolerance};
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64, Hooks},
	BoundedVec,
};
use pallet_devices::{DeviceKey, DeviceSignature};
use pallet_models::{ModelId, ModelParamsOf, TensorSpec, VoterSet};
use sp_core::H256;
use sp_runtime::{
	testing::{TestSignature, UintAuthorityId},
	BuildStorage, Perbill,
};

use crate::{self as pallet_attestations, claim_message};

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Balance = u64;

/// Operates the test devices.
pub const ALICE: AccountId = 1;
/// Another operator.
pub const BOB: AccountId = 2;
/// Can afford a device's stake, not a claim bond on top.
pub const POOR: AccountId = 3;
/// Owns the test models.
pub const OWNER: AccountId = 4;
/// A challenger, the beneficiary of lost bonds.
pub const CHALLENGER: AccountId = 5;

pub const CLAIM_BOND: Balance = 100;
/// Added to [`CLAIM_BOND`] per 2^30 units of the model's work.
pub const CLAIM_BOND_PER_WORK: Balance = 10;
pub const CHALLENGE_PERIOD: u64 = 10;
pub const RETENTION_PERIOD: u64 = 20;
pub const MIN_STAKE: Balance = 1_000;
pub const MAX_PENDING: u32 = 4;
pub const MAX_EXPIRIES: u32 = 3;
pub const MAX_PRUNES: u32 = 3;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Models: pallet_models,
		Devices: pallet_devices,
		Attestations: pallet_attestations,
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

/// No voters: the tests activate models with the root origin.
pub struct NoVoters;
impl VoterSet<AccountId> for NoVoters {
	fn is_voter(_: &AccountId) -> bool {
		false
	}
	fn count() -> u32 {
		0
	}
	#[cfg(feature = "runtime-benchmarks")]
	fn set_benchmark_voters(_: u32) -> Vec<AccountId> {
		Vec::new()
	}
}

#[derive_impl(pallet_models::config_preludes::TestDefaultConfig)]
impl pallet_models::Config for Test {
	type Currency = Balances;
	type ActivationOrigin = frame_system::EnsureRoot<AccountId>;
	type Voters = NoVoters;
	type MaxUriLen = ConstU32<128>;
	type CheckerCrypto = TestChecker;
}

pallet_models::impl_test_signing!(Test, RuntimeCall);

/// Signs off-chain transactions in tests: the "keystore" is `UintAuthorityId::set_all_keys`.
pub struct TestChecker;
impl frame_system::offchain::AppCrypto<UintAuthorityId, TestSignature> for TestChecker {
	type RuntimeAppPublic = UintAuthorityId;
	type GenericPublic = UintAuthorityId;
	type GenericSignature = TestSignature;
}

/// The shared defaults: a 5-block unbonding period, shorter than a claim can stay undecided
/// here, so that the tests show `withdraw_stake` waiting for the device's claims on its own.
#[derive_impl(pallet_devices::config_preludes::TestDefaultConfig)]
impl pallet_devices::Config for Test {
	type Currency = Balances;
	type AdminOrigin = frame_system::EnsureRoot<AccountId>;
	type MinStake = ConstU64<MIN_STAKE>;
	type Claims = Attestations;
	type UnixTime = pallet_devices::testing::TestTime;
}

parameter_types! {
	pub const BondRewardShare: Perbill = Perbill::from_percent(50);
	pub const StakeSlash: Perbill = Perbill::from_percent(10);
}

impl pallet_attestations::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Models = Models;
	type Devices = Devices;
	type ClaimBond = ConstU64<CLAIM_BOND>;
	type ClaimBondPerWork = ConstU64<CLAIM_BOND_PER_WORK>;
	type ChallengePeriod = ConstU64<CHALLENGE_PERIOD>;
	type MaxChallengePeriod = ConstU64<MAX_CHALLENGE_PERIOD>;
	type AdminOrigin = frame_system::EnsureRoot<AccountId>;
	type MaxCheckers = ConstU32<MAX_CHECKERS>;
	type CheckTimeBudget = ConstU64<10_000>;
	type OnWrongClaim = RecordWrongClaims;
	type RetentionPeriod = ConstU64<RETENTION_PERIOD>;
	type BondRewardShare = BondRewardShare;
	type StakeSlash = StakeSlash;
	type MaxPayloadLen = ConstU32<4_096>;
	type MaxPendingPerDevice = ConstU32<MAX_PENDING>;
	type MaxExpiriesPerBlock = ConstU32<MAX_EXPIRIES>;
	type MaxPrunesPerBlock = ConstU32<MAX_PRUNES>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = crate::benchmark_helper::RegistriesHelper<Test>;
}

pub const MAX_CHALLENGE_PERIOD: u64 = 100;
pub const MAX_CHECKERS: u32 = 4;

thread_local! {
	/// The claims the checker handed to [`RecordWrongClaims`], with their canonical trace roots.
	pub static WRONG_CLAIMS: core::cell::RefCell<Vec<(crate::ClaimId, [u8; 32])>> =
		const { core::cell::RefCell::new(Vec::new()) };
	/// Whether [`RecordWrongClaims`] reports the dispute started (a refused `open` otherwise).
	pub static DISPUTE_STARTS: core::cell::Cell<bool> = const { core::cell::Cell::new(true) };
}

/// Stands in for the dispute pallet: records what the checker would dispute.
pub struct RecordWrongClaims;
impl crate::WrongClaimHandler<AccountId, Balance, u64> for RecordWrongClaims {
	fn wrong_claim(
		claim: crate::ClaimId,
		_: &crate::ClaimRecord<AccountId, Balance, u64>,
		canonical: &edgeproof_primitives::CanonicalOutput,
	) -> bool {
		WRONG_CLAIMS.with(|w| w.borrow_mut().push((claim, canonical.trace_root)));
		DISPUTE_STARTS.with(|d| d.get())
	}
}

/// A device key pair of either scheme on the test chain.
pub type TestDevice = pallet_devices::testing::TestDevice<Test>;

/// What the tests do with a device here: register it, sign claims on this chain.
pub trait DeviceActions {
	/// Registers the device under `operator` with the minimum stake.
	fn register(&self, operator: AccountId);
	/// Signs a claim on this chain, for the device whose id is this key.
	fn sign_claim(
		&self,
		model: ModelId,
		input: &[u8],
		output: &[u8],
		nonce: u64,
	) -> DeviceSignature;
	/// Signs a claim on this chain for `device` (a device this key serves after a rotation).
	fn sign_claim_as(
		&self,
		device: DeviceKey,
		model: ModelId,
		input: &[u8],
		output: &[u8],
		nonce: u64,
	) -> DeviceSignature;
}

impl DeviceActions for TestDevice {
	fn register(&self, operator: AccountId) {
		self.register_with_stake(operator, MIN_STAKE);
	}
	fn sign_claim(
		&self,
		model: ModelId,
		input: &[u8],
		output: &[u8],
		nonce: u64,
	) -> DeviceSignature {
		self.sign_claim_as(self.key(), model, input, output, nonce)
	}
	fn sign_claim_as(
		&self,
		device: DeviceKey,
		model: ModelId,
		input: &[u8],
		output: &[u8],
		nonce: u64,
	) -> DeviceSignature {
		self.sign(&claim_message(
			&Attestations::genesis_hash(),
			&device,
			&model,
			&H256(sp_io::hashing::blake2_256(input)),
			&H256(sp_io::hashing::blake2_256(output)),
			nonce,
		))
	}
}

/// An F32 tensor of `shape` with elements `0, 1, 2, ...` plus `offset`.
pub fn f32_tensor(shape: &[u32], offset: f32) -> Tensor {
	let n: u32 = shape.iter().product();
	let data = (0..n).flat_map(|i| (i as f32 + offset).to_le_bytes()).collect();
	Tensor { dtype: DType::F32, shape: shape.to_vec(), data }
}

/// The payload of `tensors`: their SCALE encoding.
pub fn payload(tensors: &[Tensor]) -> BoundedVec<u8, ConstU32<4_096>> {
	BoundedVec::truncate_from(tensors.to_vec().encode())
}

/// A valid input payload of the test model (one F32 `[1, 4]` tensor).
pub fn input() -> BoundedVec<u8, ConstU32<4_096>> {
	payload(&[f32_tensor(&[1, 4], 0.0)])
}

/// A valid output payload of the test model (one F32 `[1, 2]` tensor).
pub fn output() -> BoundedVec<u8, ConstU32<4_096>> {
	payload(&[f32_tensor(&[1, 2], 0.5)])
}

/// Registers model `seed` (input F32 `[≤2, 4]`, output F32 `[≤2, 2]`, dynamic batch, 100 units
/// of work) and, if `activate`, activates it.
pub fn register_model(seed: u8, activate: bool) -> ModelId {
	register_model_with_work(seed, activate, 100)
}

/// [`register_model`] with `program_work` units of work.
pub fn register_model_with_work(seed: u8, activate: bool, program_work: u64) -> ModelId {
	let spec = |name: &str, shape: &[u32]| TensorSpec {
		name: BoundedVec::truncate_from(name.as_bytes().to_vec()),
		dtype: DType::F32,
		shape: BoundedVec::truncate_from(shape.to_vec()),
		dynamic_batch: true,
	};
	let params = ModelParamsOf::<Test> {
		file_hash: H256::repeat_byte(seed),
		name: BoundedVec::truncate_from(b"mlp".to_vec()),
		version: seed as u32,
		uri: BoundedVec::truncate_from(format!("http://127.0.0.1/mlp-{seed}.onnx").into_bytes()),
		byte_size: 1_000,
		inputs: BoundedVec::truncate_from(vec![spec("x", &[2, 4])]),
		outputs: BoundedVec::truncate_from(vec![spec("y", &[2, 2])]),
		tolerance: Tolerance::Exact,
		program_root: H256::repeat_byte(0xaa),
		node_count: 3,
		program_work,
	};
	let id = pallet_models::model_id(&OWNER, &params);
	Models::register_model(RuntimeOrigin::signed(OWNER), params).expect("test model registers");
	if activate {
		Models::activate(RuntimeOrigin::root(), id).expect("activates");
	}
	id
}

/// Runs blocks until `n` is the current block, with the pallet's `on_initialize` at each.
pub fn run_to_block(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		Attestations::on_initialize(next);
	}
}

pub struct ExtBuilder;

impl ExtBuilder {
	pub fn build() -> sp_io::TestExternalities {
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> {
			balances: vec![
				(ALICE, 1_000_000),
				(BOB, 1_000_000),
				(POOR, MIN_STAKE + 50),
				(OWNER, 1_000_000),
				(CHALLENGER, 1_000),
			],
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		let mut ext = sp_io::TestExternalities::new(storage);
		// Benchmarks generate and sign with device keys through the keystore.
		ext.register_extension(sp_keystore::KeystoreExt::new(
			sp_keystore::testing::MemoryKeystore::new(),
		));
		ext.execute_with(|| System::set_block_number(1));
		ext
	}

	/// Runs `test`, then checks the invariants of this pallet and of the registries it moves
	/// stakes and deposits in.
	pub fn build_and_execute(test: impl FnOnce()) {
		Self::build().execute_with(|| {
			test();
			crate::Pallet::<Test>::do_try_state().expect("invariants hold after the test");
			pallet_devices::Pallet::<Test>::do_try_state().expect("device invariants");
			pallet_models::Pallet::<Test>::do_try_state().expect("model invariants");
		});
	}
}
