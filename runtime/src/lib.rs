//! # Edgeproof runtime
//!
//! The state transition function of the Edgeproof chain: a solochain with Aura block production
//! and GRANDPA finality on which devices post bonded claims about ONNX inference results and
//! validators settle disputes about them.
//!
//! Pallet indices are grouped: system 0–9, consensus 10–19, money 20–29, Edgeproof from 50.
//! Each group's `Config` implementations live in [`configs`].

#![cfg_attr(not(feature = "std"), no_std)]
// `construct_runtime` expands to code that triggers this lint.
#![allow(unused_qualifications)]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

extern crate alloc;

use alloc::vec::Vec;

// Before `apis`: it defines the `list_benchmarks!`/`add_benchmarks!` macros `apis` uses.
pub mod apis;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarks;
pub mod configs;
pub mod genesis_config_presets;

use sp_runtime::{
	generic, impl_opaque_keys,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiAddress, MultiSignature,
};
use sp_version::RuntimeVersion;

pub use frame_system::Call as SystemCall;
pub use pallet_balances::Call as BalancesCall;
pub use pallet_timestamp::Call as TimestampCall;
#[cfg(any(feature = "std", test))]
pub use sp_runtime::BuildStorage;

/// Types the node needs without knowing the runtime's extrinsic format.
pub mod opaque {
	use super::*;
	use sp_runtime::traits::Hash as HashT;

	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// Opaque block header type.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// Opaque block type.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
	/// Opaque block identifier type.
	pub type BlockId = generic::BlockId<Block>;
	/// Opaque block hash type.
	pub type Hash = <BlakeTwo256 as HashT>::Output;
}

impl_opaque_keys! {
	/// The keys a validator holds: consensus (Aura, GRANDPA) and its checker key, which its
	/// off-chain workers sign model votes and disputes with.
	pub struct SessionKeys {
		pub aura: Aura,
		pub grandpa: Grandpa,
		pub checker: edgeproof_primitives::checker::app::Public,
	}
}

/// The runtime version. `spec_version` must be bumped whenever the runtime logic changes.
#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("edgeproof"),
	impl_name: alloc::borrow::Cow::Borrowed("edgeproof-node"),
	authoring_version: 1,
	spec_version: 102,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 1,
	system_version: 1,
};

/// Block time and the time units derived from it, stated once for the whole chain.
pub mod time {
	use super::BlockNumber;

	/// Target block time. Aura slots have this length; it cannot change once the chain runs.
	pub const MILLI_SECS_PER_BLOCK: u64 = 6000;
	/// Aura slot duration (equal to the block time).
	pub const SLOT_DURATION: u64 = MILLI_SECS_PER_BLOCK;

	/// Blocks per minute.
	pub const MINUTES: BlockNumber = 60_000 / (MILLI_SECS_PER_BLOCK as BlockNumber);
	/// Blocks per hour.
	pub const HOURS: BlockNumber = MINUTES * 60;
	/// Blocks per day.
	pub const DAYS: BlockNumber = HOURS * 24;
}
pub use time::*;

/// Currency units. The token is EDGE with 12 decimals.
pub mod currency {
	use super::Balance;

	/// One EDGE.
	pub const UNIT: Balance = 1_000_000_000_000;
	/// A thousandth of an EDGE.
	pub const MILLI_UNIT: Balance = 1_000_000_000;
	/// A millionth of an EDGE.
	pub const MICRO_UNIT: Balance = 1_000_000;
	/// The minimum balance an account must keep to exist.
	pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_UNIT;
}
pub use currency::*;

/// Alias to the 512-bit signature used for transactions.
pub type Signature = MultiSignature;

/// An account identifier: the public key of the transaction signing scheme.
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;

/// Balance of an account.
pub type Balance = u128;

/// Index of a transaction in the chain.
pub type Nonce = u32;

/// A hash of some data used by the chain.
pub type Hash = sp_core::H256;

/// An index to a block.
pub type BlockNumber = u32;

/// The address format for describing accounts.
pub type Address = MultiAddress<AccountId, ()>;

/// Block header type as expected by this runtime.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;

/// Block type as expected by this runtime.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;

/// A block signed with a justification.
pub type SignedBlock = generic::SignedBlock<Block>;

/// BlockId type as expected by this runtime.
pub type BlockId = generic::BlockId<Block>;

/// The transaction extensions every signed transaction carries.
pub type TxExtension = (
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	frame_metadata_hash_extension::CheckMetadataHash<Runtime>,
	frame_system::WeightReclaim<Runtime>,
);

/// The extensions of a signed transaction with `nonce`, valid in `era`, without a tip and
/// without the metadata hash: what the validators' off-chain workers sign (and the fuzzer).
pub fn tx_extension(era: generic::Era, nonce: Nonce) -> TxExtension {
	(
		frame_system::CheckNonZeroSender::<Runtime>::new(),
		frame_system::CheckSpecVersion::<Runtime>::new(),
		frame_system::CheckTxVersion::<Runtime>::new(),
		frame_system::CheckGenesis::<Runtime>::new(),
		frame_system::CheckEra::<Runtime>::from(era),
		frame_system::CheckNonce::<Runtime>::from(nonce),
		frame_system::CheckWeight::<Runtime>::new(),
		pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(0),
		frame_metadata_hash_extension::CheckMetadataHash::<Runtime>::new(false),
		frame_system::WeightReclaim::<Runtime>::new(),
	)
}

/// Unchecked extrinsic type as expected by this runtime.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;

/// The payload being signed in transactions.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// Migrations of the runtime beyond those declared in the pallets.
type Migrations = (
	pallet_devices::migrations::v1::AddKeyProof<Runtime>,
	pallet_devices::migrations::v2::NormaliseRevokedSerials<Runtime>,
);

/// Executive: dispatches calls to the pallets.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	// System: 0–9.
	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;
	#[runtime::pallet_index(2)]
	pub type Sudo = pallet_sudo;

	// Consensus: 10–19.
	#[runtime::pallet_index(10)]
	pub type Aura = pallet_aura;
	#[runtime::pallet_index(11)]
	pub type Grandpa = pallet_grandpa;

	// Money: 20–29.
	#[runtime::pallet_index(20)]
	pub type Balances = pallet_balances;
	#[runtime::pallet_index(21)]
	pub type TransactionPayment = pallet_transaction_payment;

	// Edgeproof: 50–.
	#[runtime::pallet_index(50)]
	pub type Models = pallet_models;
	#[runtime::pallet_index(51)]
	pub type Devices = pallet_devices;
	#[runtime::pallet_index(52)]
	pub type Attestations = pallet_attestations;
	#[runtime::pallet_index(53)]
	pub type Disputes = pallet_disputes;
}
