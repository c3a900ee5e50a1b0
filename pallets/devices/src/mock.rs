//! A mock runtime: frame-system, balances and the device registry.

use frame_support::{assert_ok, derive_impl, parameter_types, traits::ConstU32, BoundedVec};
use sp_runtime::BuildStorage;

use crate::{
	self as pallet_devices, DeviceClaims, DeviceId, DeviceMetadataOf, HardwareClass, RootKey,
};

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Balance = u64;

pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
pub const POOR: AccountId = 3;

pub const MIN_STAKE: Balance = 1_000;
pub const UNBONDING: u64 = 10;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Devices: pallet_devices,
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

parameter_types! {
	pub const MinStake: Balance = MIN_STAKE;
	pub const UnbondingPeriod: u64 = UNBONDING;
}

/// The shared defaults, with three devices per operator so the tests reach the bound.
#[derive_impl(pallet_devices::config_preludes::TestDefaultConfig)]
impl pallet_devices::Config for Test {
	type Currency = Balances;
	type AdminOrigin = frame_system::EnsureRoot<AccountId>;
	type MinStake = MinStake;
	type UnbondingPeriod = UnbondingPeriod;
	type LongestClaimDecision = UnbondingPeriod;
	type Claims = MockClaims;
	type MaxDevicesPerOperator = ConstU32<3>;
	type UnixTime = pallet_devices::testing::TestTime;
}

std::thread_local! {
	static UNDECIDED: core::cell::RefCell<std::collections::BTreeMap<DeviceId, u32>> =
		Default::default();
}

/// The claims pallet as the registry sees it: tests set how many claims a device has undecided.
pub struct MockClaims;

impl MockClaims {
	pub fn set_undecided(device: DeviceId, count: u32) {
		UNDECIDED.with(|u| u.borrow_mut().insert(device, count));
	}
}

impl DeviceClaims for MockClaims {
	fn undecided(device: &DeviceId) -> u32 {
		UNDECIDED.with(|u| u.borrow().get(device).copied().unwrap_or(0))
	}
}

/// A device key pair of either scheme on the test chain.
pub type TestDevice = crate::testing::TestDevice<Test>;

pub fn metadata(text: &str) -> DeviceMetadataOf<Test> {
	DeviceMetadataOf::<Test> {
		hardware: HardwareClass::Phone,
		description: BoundedVec::truncate_from(text.as_bytes().to_vec()),
	}
}

/// The roots' keys genesis trusts: Google's two attestation roots, then Apple's App Attest root.
pub fn genesis_roots() -> BoundedVec<RootKey, <Test as crate::Config>::MaxTrustedRoots> {
	let keys = edgeproof_key_attestation::roots::GENESIS
		.iter()
		.map(|cert| {
			let key = edgeproof_key_attestation::roots::spki(cert).expect("a root certificate");
			RootKey::try_from(key).expect("a root key fits")
		})
		.collect::<Vec<_>>();
	BoundedVec::try_from(keys).expect("three roots fit")
}

pub struct ExtBuilder;

impl ExtBuilder {
	pub fn build() -> sp_io::TestExternalities {
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> {
			balances: vec![(ALICE, 1_000_000), (BOB, 1_000_000), (POOR, 500)],
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		pallet_devices::GenesisConfig::<Test> {
			trusted_roots: genesis_roots(),
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

	/// Runs `test`, then checks the pallet's invariants.
	pub fn build_and_execute(test: impl FnOnce()) {
		Self::build().execute_with(|| {
			test();
			crate::Pallet::<Test>::do_try_state().expect("invariants hold after the test");
		});
	}
}

/// Rotates the device whose id and current key is `device` (never rotated) to `next`.
pub fn rotate_first_key(operator: AccountId, device: &TestDevice, next: &TestDevice) {
	let message = crate::rotate_message(&Devices::genesis_hash(), &device.key(), 0, &next.key());
	assert_ok!(Devices::rotate_key(
		RuntimeOrigin::signed(operator),
		device.key(),
		next.key(),
		device.sign(&message),
		next.sign(&message)
	));
}

/// Deregisters `device` of `operator` and withdraws its stake once the unbonding period is over.
pub fn leave(operator: AccountId, device: DeviceId) {
	assert_ok!(Devices::deregister(RuntimeOrigin::signed(operator), device));
	System::set_block_number(System::block_number() + UNBONDING);
	assert_ok!(Devices::withdraw_stake(RuntimeOrigin::signed(operator), device));
}
