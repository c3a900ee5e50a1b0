//! A mock runtime: frame-system, balances, the real model, device and claim registries, and the
//! dispute pallet; the fixture MLP (canon/tests/data) as the disputed model.

use std::path::PathBuf;

use codec::{Decode, Encode};
use edgeproof_canon::{compiler::compile, DType, Tensor, Tolerance};
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64, Hooks},
	BoundedVec,
};
use pallet_attestations::{claim_message, ClaimId};
use pallet_devices::{DeviceKey, DeviceMetadata, DeviceSignature, HardwareClass};
use pallet_models::{ModelId, ModelParamsOf, TensorSpec};
use sp_core::{ed25519, Pair, H256};
use sp_runtime::{
	testing::{TestSignature, UintAuthorityId},
	BuildStorage, Perbill,
};

use crate::{
	self as pallet_disputes,
	game::testing::{Model, Player},
};

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Balance = u64;

/// Operates the test device.
pub const OPERATOR: AccountId = 1;
/// Challengers.
pub const CHALLENGER: AccountId = 2;
pub const CHALLENGER_2: AccountId = 3;
/// Cannot afford a challenger bond.
pub const POOR: AccountId = 4;
/// Owns the model.
pub const OWNER: AccountId = 5;
/// A validator's checker account: always finds a dispute slot.
pub const CHECKER: AccountId = 7;
/// Moves on behalf of nobody in particular (`one_step`, `timeout` are open to anyone).
pub const ANYONE: AccountId = 6;

pub const CLAIM_BOND: Balance = 100;
pub const CHALLENGER_BOND: Balance = 200;
pub const CHALLENGE_PERIOD: u64 = 10;
pub const MIN_STAKE: Balance = 1_000;
pub const BUDGET: u32 = 20;
pub const MIN_EXTENSION: u32 = 3;
pub const MAX_DISPUTES: u32 = 2;
pub const INITIAL: Balance = 1_000_000;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Models: pallet_models,
		Devices: pallet_devices,
		Attestations: pallet_attestations,
		Disputes: pallet_disputes,
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

/// No voters: the tests activate the model with the root origin.
pub struct NoVoters;
impl pallet_models::VoterSet<AccountId> for NoVoters {
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

parameter_types! {
	pub const HalfShare: Perbill = Perbill::from_percent(50);
	/// Canon's default; tests of the second level set tighter ones (`SubStepLimits::set`).
	pub static SubStepLimits: edgeproof_canon::substep::SubStepLimits =
		edgeproof_canon::substep::SubStepLimits::DEFAULT;
	pub ReservedChallengers: Vec<AccountId> = vec![CHECKER];
	pub const StakeSlash: Perbill = Perbill::from_percent(10);
}

#[derive_impl(pallet_models::config_preludes::TestDefaultConfig)]
impl pallet_models::Config for Test {
	type Currency = Balances;
	type ActivationOrigin = frame_system::EnsureRoot<AccountId>;
	type Voters = NoVoters;
	type CheckerCrypto = TestChecker;
}

/// The shared defaults (see pallet-attestations' mock), suspension at the third loss.
#[derive_impl(pallet_devices::config_preludes::TestDefaultConfig)]
impl pallet_devices::Config for Test {
	type Currency = Balances;
	type AdminOrigin = frame_system::EnsureRoot<AccountId>;
	type MinStake = ConstU64<MIN_STAKE>;
	type Claims = Attestations;
	type MaxLostDisputes = ConstU32<3>;
	type UnixTime = pallet_devices::testing::TestTime;
}

impl pallet_attestations::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Models = Models;
	type Devices = Devices;
	type ClaimBond = ConstU64<CLAIM_BOND>;
	type ClaimBondPerWork = ConstU64<1>;
	type ChallengePeriod = ConstU64<CHALLENGE_PERIOD>;
	type MaxChallengePeriod = ConstU64<100>;
	type AdminOrigin = frame_system::EnsureRoot<AccountId>;
	type MaxCheckers = ConstU32<4>;
	type CheckTimeBudget = ConstU64<10_000>;
	type OnWrongClaim = Disputes;
	type RetentionPeriod = ConstU64<50>;
	type BondRewardShare = HalfShare;
	type StakeSlash = StakeSlash;
	type MaxPayloadLen = ConstU32<4_096>;
	type MaxPendingPerDevice = ConstU32<8>;
	type MaxExpiriesPerBlock = ConstU32<8>;
	type MaxPrunesPerBlock = ConstU32<8>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = pallet_attestations::benchmark_helper::RegistriesHelper<Test>;
}

impl pallet_disputes::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Claims = Attestations;
	type Models = Models;
	type ChallengerBond = ConstU64<CHALLENGER_BOND>;
	type ClockBudget = ConstU32<BUDGET>;
	type MinExtension = ConstU32<MIN_EXTENSION>;
	type MaxClockBudget = ConstU32<1_000>;
	type AdminOrigin = frame_system::EnsureRoot<AccountId>;
	type WinnerShare = HalfShare;
	type MaxDisputesPerClaim = ConstU32<{ MAX_DISPUTES + 1 }>;
	type MaxUnreservedDisputes = ConstU32<MAX_DISPUTES>;
	type Reserved = frame_support::traits::IsInVec<ReservedChallengers>;
	type MaxOutputs = ConstU32<4>;
	type MaxInputs = ConstU32<4>;
	type MaxClaimPayload = ConstU32<4_096>;
	type Limits = <Test as pallet_models::Config>::DisputeLimits;
	type SubStepLimits = SubStepLimits;
	type MaxCutCost = ConstU64<{ 1 << 20 }>;
	type CheckerCrypto = TestChecker;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = crate::benchmark_helper::AttestationsClaims<Test>;
}

pallet_models::impl_test_signing!(Test, RuntimeCall);

/// Signs off-chain transactions in tests: the "keystore" is `UintAuthorityId::set_all_keys`.
pub struct TestChecker;
impl frame_system::offchain::AppCrypto<UintAuthorityId, TestSignature> for TestChecker {
	type RuntimeAppPublic = UintAuthorityId;
	type GenericPublic = UintAuthorityId;
	type GenericSignature = TestSignature;
}

pub fn data(name: &str) -> PathBuf {
	PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../canon/tests/data").join(name)
}

pub fn mlp_uri() -> String {
	format!("file://{}", data("mlp.onnx").display())
}

/// The fixture MLP compiled as validators do, with its seeded input.
pub fn mlp() -> Model {
	let bytes = std::fs::read(data("mlp.onnx")).expect("fixture");
	let program =
		compile(&bytes, &edgeproof_offchain::compile_options()).expect("compiles").program;
	let input = Tensor::new(
		DType::F32,
		vec![1, 16],
		std::fs::read(data("mlp.input_0.bin")).expect("fixture input"),
	)
	.expect("tensor");
	Model::new(program, vec![input])
}

/// Registers and activates the fixture MLP with `tolerance`; returns its id.
pub fn activate_mlp(model: &Model, tolerance: Tolerance) -> ModelId {
	let bytes = std::fs::read(data("mlp.onnx")).expect("fixture");
	let spec = |name: &str, shape: &[u32]| TensorSpec {
		name: BoundedVec::truncate_from(name.as_bytes().to_vec()),
		dtype: DType::F32,
		shape: BoundedVec::truncate_from(shape.to_vec()),
		dynamic_batch: false,
	};
	let params = ModelParamsOf::<Test> {
		file_hash: H256(sp_io::hashing::blake2_256(&bytes)),
		name: BoundedVec::truncate_from(b"mlp".to_vec()),
		version: 1,
		uri: BoundedVec::truncate_from(mlp_uri().into_bytes()),
		byte_size: bytes.len() as u64,
		inputs: BoundedVec::truncate_from(vec![spec("x", &[1, 16])]),
		outputs: BoundedVec::truncate_from(vec![spec("probs", &[1, 8])]),
		tolerance,
		program_root: H256(model.program_tree.root()),
		node_count: model.program.nodes.len() as u32,
		program_work: model.program.cost().expect("static shapes").work,
	};
	let id = pallet_models::model_id(&OWNER, &params);
	Models::register_model(RuntimeOrigin::signed(OWNER), params).expect("registers");
	Models::activate(RuntimeOrigin::root(), id).expect("activates");
	id
}

/// The test device (ed25519).
pub fn device() -> ed25519::Pair {
	ed25519::Pair::from_string("//disputed-phone", None).expect("seed")
}

pub fn device_id() -> DeviceKey {
	DeviceKey::Ed25519(device().public())
}

/// Registers the test device under OPERATOR.
pub fn register_device() {
	let proof = DeviceSignature::Ed25519(
		device().sign(&Devices::bind_message_for(&device_id(), &OPERATOR)),
	);
	Devices::register_device(
		RuntimeOrigin::signed(OPERATOR),
		device_id(),
		proof,
		DeviceMetadata { hardware: HardwareClass::Phone, description: BoundedVec::new() },
		MIN_STAKE,
	)
	.expect("registers");
}

/// Submits a claim that `model` gave `outputs` on `inputs`; returns its id.
pub fn submit_claim(model: ModelId, inputs: &[Tensor], outputs: &[Tensor], nonce: u64) -> ClaimId {
	let input: BoundedVec<u8, _> = BoundedVec::truncate_from(inputs.to_vec().encode());
	let output: BoundedVec<u8, _> = BoundedVec::truncate_from(outputs.to_vec().encode());
	let message = claim_message(
		&Attestations::genesis_hash(),
		&device_id(),
		&model,
		&H256(sp_io::hashing::blake2_256(&input)),
		&H256(sp_io::hashing::blake2_256(&output)),
		nonce,
	);
	let id = pallet_attestations::NextClaimId::<Test>::get();
	Attestations::submit(
		RuntimeOrigin::signed(OPERATOR),
		device_id(),
		model,
		input,
		output,
		nonce,
		DeviceSignature::Ed25519(device().sign(&message)),
	)
	.expect("claim accepted");
	id
}

/// A registered model, device, and the honest player.
pub struct Setup {
	pub model: Model,
	pub model_id: ModelId,
	pub honest: Player,
}

impl Setup {
	/// Submits a claim (nonce `nonce`) whose outputs are `player`'s output leaves.
	pub fn claim_of(&self, player: &Player, nonce: u64) -> ClaimId {
		let outputs = player.output_tensors(self.model.output_leaves());
		submit_claim(self.model_id, &self.model.inputs, &outputs, nonce)
	}
}

pub fn setup(tolerance: Tolerance) -> Setup {
	let model = mlp();
	let model_id = activate_mlp(&model, tolerance);
	register_device();
	let honest = model.honest();
	Setup { model, model_id, honest }
}

/// Advances to block `n`, running the attestation pallet's `on_initialize` (expiry).
pub fn run_to_block(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		Attestations::on_initialize(next);
	}
}

/// Decodes the extrinsics in a test transaction pool: (signer, call).
pub fn decode_pool(txs: &[Vec<u8>]) -> Vec<(AccountId, RuntimeCall)> {
	txs.iter()
		.map(|bytes| {
			let xt = sp_runtime::testing::TestXt::<RuntimeCall, ()>::decode(&mut &bytes[..])
				.expect("a test extrinsic");
			let signer = match xt.preamble {
				sp_runtime::generic::Preamble::Signed(who, ..) => who,
				other => panic!("unsigned transaction in the pool: {other:?}"),
			};
			(signer, xt.function)
		})
		.collect()
}

pub struct ExtBuilder;

impl ExtBuilder {
	pub fn build() -> sp_io::TestExternalities {
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> {
			balances: vec![
				(OPERATOR, INITIAL),
				(CHALLENGER, INITIAL),
				(CHALLENGER_2, INITIAL),
				(POOR, 50),
				(OWNER, INITIAL),
				(ANYONE, INITIAL),
				(CHECKER, INITIAL),
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

	/// Runs `test`, then checks the invariants of this pallet and of the claims, devices and
	/// models it settles with: every bond, stake and deposit still matches its record after
	/// complete games.
	pub fn build_and_execute(test: impl FnOnce()) {
		Self::build().execute_with(|| {
			test();
			crate::Pallet::<Test>::do_try_state().expect("dispute invariants");
			pallet_attestations::Pallet::<Test>::do_try_state().expect("claim invariants");
			pallet_devices::Pallet::<Test>::do_try_state().expect("device invariants");
			pallet_models::Pallet::<Test>::do_try_state().expect("model invariants");
		});
	}
}
