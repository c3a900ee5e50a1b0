//! The runtime APIs the node, polkadot-js and other clients call.

use alloc::vec::Vec;
use frame_support::{
	genesis_builder_helper::{build_state, get_preset},
	weights::Weight,
};
use pallet_grandpa::AuthorityId as GrandpaId;
use sp_api::impl_runtime_apis;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_core::{crypto::KeyTypeId, OpaqueMetadata};
use sp_runtime::{
	traits::{Block as BlockT, NumberFor},
	transaction_validity::{TransactionSource, TransactionValidity},
	ApplyExtrinsicResult,
};
use sp_version::RuntimeVersion;

use crate::{
	AccountId, Attestations, Aura, Balance, Block, Executive, Grandpa, InherentDataExt, Nonce,
	Runtime, RuntimeCall, RuntimeGenesisConfig, SessionKeys, System, TransactionPayment, VERSION,
};

/// A model record as the runtime stores it.
pub type ModelRecord = pallet_models::ModelRecordOf<Runtime>;
/// A device record as the runtime stores it.
pub type DeviceRecord = pallet_devices::DeviceRecordOf<Runtime>;
/// A claim record as the attestations runtime API returns it.
pub type ClaimRecord = pallet_attestations::ClaimRecordOf<Runtime>;
/// A claim's payloads as the attestations runtime API returns them.
pub type ClaimPayload = pallet_attestations::ClaimPayloadOf<Runtime>;
/// A dispute as the disputes runtime API returns it.
pub type DisputeView = pallet_disputes::DisputeView<
	AccountId,
	Balance,
	crate::BlockNumber,
	<Runtime as pallet_disputes::Config>::MaxInputs,
>;

impl_runtime_apis! {
	impl sp_api::Core<Block> for Runtime {
		fn version() -> RuntimeVersion {
			VERSION
		}

		fn execute_block(block: <Block as BlockT>::LazyBlock) {
			Executive::execute_block(block);
		}

		fn initialize_block(header: &<Block as BlockT>::Header) -> sp_runtime::ExtrinsicInclusionMode {
			Executive::initialize_block(header)
		}
	}

	impl sp_api::Metadata<Block> for Runtime {
		fn metadata() -> OpaqueMetadata {
			OpaqueMetadata::new(Runtime::metadata().into())
		}

		fn metadata_at_version(version: u32) -> Option<OpaqueMetadata> {
			Runtime::metadata_at_version(version)
		}

		fn metadata_versions() -> Vec<u32> {
			Runtime::metadata_versions()
		}
	}

	impl frame_support::view_functions::runtime_api::RuntimeViewFunction<Block> for Runtime {
		fn execute_view_function(
			id: frame_support::view_functions::ViewFunctionId,
			input: Vec<u8>,
		) -> Result<Vec<u8>, frame_support::view_functions::ViewFunctionDispatchError> {
			Runtime::execute_view_function(id, input)
		}
	}

	impl sp_block_builder::BlockBuilder<Block> for Runtime {
		fn apply_extrinsic(extrinsic: <Block as BlockT>::Extrinsic) -> ApplyExtrinsicResult {
			Executive::apply_extrinsic(extrinsic)
		}

		fn finalize_block() -> <Block as BlockT>::Header {
			Executive::finalize_block()
		}

		fn inherent_extrinsics(data: sp_inherents::InherentData) -> Vec<<Block as BlockT>::Extrinsic> {
			data.create_extrinsics()
		}

		fn check_inherents(
			block: <Block as BlockT>::LazyBlock,
			data: sp_inherents::InherentData,
		) -> sp_inherents::CheckInherentsResult {
			data.check_extrinsics(&block)
		}
	}

	impl sp_transaction_pool::runtime_api::TaggedTransactionQueue<Block> for Runtime {
		fn validate_transaction(
			source: TransactionSource,
			tx: <Block as BlockT>::Extrinsic,
			block_hash: <Block as BlockT>::Hash,
		) -> TransactionValidity {
			Executive::validate_transaction(source, tx, block_hash)
		}
	}

	impl sp_offchain::OffchainWorkerApi<Block> for Runtime {
		fn offchain_worker(header: &<Block as BlockT>::Header) {
			Executive::offchain_worker(header)
		}
	}

	impl sp_consensus_aura::AuraApi<Block, AuraId> for Runtime {
		fn slot_duration() -> sp_consensus_aura::SlotDuration {
			sp_consensus_aura::SlotDuration::from_millis(Aura::slot_duration())
		}

		fn authorities() -> Vec<AuraId> {
			pallet_aura::Authorities::<Runtime>::get().into_inner()
		}
	}

	impl sp_session::SessionKeys<Block> for Runtime {
		fn generate_session_keys(
			owner: Vec<u8>,
			seed: Option<Vec<u8>>,
		) -> sp_session::OpaqueGeneratedSessionKeys {
			SessionKeys::generate(&owner, seed).into()
		}

		fn decode_session_keys(encoded: Vec<u8>) -> Option<Vec<(Vec<u8>, KeyTypeId)>> {
			SessionKeys::decode_into_raw_public_keys(&encoded)
		}
	}

	impl sp_consensus_grandpa::GrandpaApi<Block> for Runtime {
		fn grandpa_authorities() -> sp_consensus_grandpa::AuthorityList {
			Grandpa::grandpa_authorities()
		}

		fn current_set_id() -> sp_consensus_grandpa::SetId {
			Grandpa::current_set_id()
		}

		fn submit_report_equivocation_unsigned_extrinsic(
			_equivocation_proof: sp_consensus_grandpa::EquivocationProof<
				<Block as BlockT>::Hash,
				NumberFor<Block>,
			>,
			_key_owner_proof: sp_consensus_grandpa::OpaqueKeyOwnershipProof,
		) -> Option<()> {
			// No session pallet: equivocation reports have no key-ownership proofs to check.
			None
		}

		fn generate_key_ownership_proof(
			_set_id: sp_consensus_grandpa::SetId,
			_authority_id: GrandpaId,
		) -> Option<sp_consensus_grandpa::OpaqueKeyOwnershipProof> {
			None
		}
	}

	impl frame_system_rpc_runtime_api::AccountNonceApi<Block, AccountId, Nonce> for Runtime {
		fn account_nonce(account: AccountId) -> Nonce {
			System::account_nonce(account)
		}
	}

	impl pallet_transaction_payment_rpc_runtime_api::TransactionPaymentApi<Block, Balance> for Runtime {
		fn query_info(
			uxt: <Block as BlockT>::Extrinsic,
			len: u32,
		) -> pallet_transaction_payment_rpc_runtime_api::RuntimeDispatchInfo<Balance> {
			TransactionPayment::query_info(uxt, len)
		}

		fn query_fee_details(
			uxt: <Block as BlockT>::Extrinsic,
			len: u32,
		) -> pallet_transaction_payment::FeeDetails<Balance> {
			TransactionPayment::query_fee_details(uxt, len)
		}

		fn query_weight_to_fee(weight: Weight) -> Balance {
			TransactionPayment::weight_to_fee(weight)
		}

		fn query_length_to_fee(length: u32) -> Balance {
			TransactionPayment::length_to_fee(length)
		}
	}

	impl pallet_transaction_payment_rpc_runtime_api::TransactionPaymentCallApi<Block, Balance, RuntimeCall>
		for Runtime
	{
		fn query_call_info(
			call: RuntimeCall,
			len: u32,
		) -> pallet_transaction_payment::RuntimeDispatchInfo<Balance> {
			TransactionPayment::query_call_info(call, len)
		}

		fn query_call_fee_details(
			call: RuntimeCall,
			len: u32,
		) -> pallet_transaction_payment::FeeDetails<Balance> {
			TransactionPayment::query_call_fee_details(call, len)
		}

		fn query_weight_to_fee(weight: Weight) -> Balance {
			TransactionPayment::weight_to_fee(weight)
		}

		fn query_length_to_fee(length: u32) -> Balance {
			TransactionPayment::length_to_fee(length)
		}
	}

	impl pallet_models::runtime_api::ModelsApi<Block, ModelRecord> for Runtime {
		fn model(model: pallet_models::ModelId) -> Option<ModelRecord> {
			pallet_models::Models::<Runtime>::get(model)
		}

		fn family(name: Vec<u8>) -> Vec<(u32, pallet_models::ModelId)> {
			frame_support::BoundedVec::try_from(name)
				.map(|name| pallet_models::Families::<Runtime>::get(name).into_inner())
				.unwrap_or_default()
		}
	}

	impl pallet_devices::runtime_api::DevicesApi<Block, AccountId, DeviceRecord> for Runtime {
		fn device(device: pallet_devices::DeviceId) -> Option<DeviceRecord> {
			pallet_devices::Devices::<Runtime>::get(device)
		}

		fn devices_of(operator: AccountId) -> Vec<(pallet_devices::DeviceId, DeviceRecord)> {
			pallet_devices::Pallet::<Runtime>::devices_of(&operator)
		}

		fn reputation_score(device: pallet_devices::DeviceId) -> Option<u32> {
			pallet_devices::Devices::<Runtime>::get(device).map(|r| r.reputation.score())
		}
	}

	impl pallet_attestations::runtime_api::AttestationsApi<Block, ClaimRecord, ClaimPayload>
		for Runtime
	{
		fn claim(id: pallet_attestations::ClaimId) -> Option<ClaimRecord> {
			Attestations::claim(id)
		}

		fn claim_payload(id: pallet_attestations::ClaimId) -> Option<ClaimPayload> {
			Attestations::payload(id)
		}

		fn pending_claims(
			from: pallet_attestations::ClaimId,
			limit: u32,
		) -> (Vec<(pallet_attestations::ClaimId, ClaimRecord)>, Option<pallet_attestations::ClaimId>) {
			Attestations::pending_claims(from, limit)
		}
	}

	impl pallet_disputes::runtime_api::DisputesApi<Block, DisputeView, pallet_disputes::Error<Runtime>>
		for Runtime
	{
		fn dispute(id: pallet_disputes::DisputeId) -> Option<DisputeView> {
			pallet_disputes::Pallet::<Runtime>::view(id)
		}

		fn claim_disputes(claim: pallet_attestations::ClaimId) -> Vec<pallet_disputes::DisputeId> {
			pallet_disputes::ClaimDisputes::<Runtime>::get(claim).into_inner()
		}

		fn check_one_step(
			program_root: [u8; 32],
			node_count: u32,
			input_count: u32,
			trace_root: [u8; 32],
			leaf: u64,
			witness: edgeproof_primitives::OneStepWitness,
		) -> Result<[u8; 32], pallet_disputes::Error<Runtime>> {
			pallet_disputes::Pallet::<Runtime>::check_one_step(
				program_root,
				node_count,
				input_count,
				trace_root,
				leaf,
				&witness,
			)
		}

		fn check_sub_step(
			program_root: [u8; 32],
			node_count: u32,
			input_count: u32,
			trace_root: [u8; 32],
			leaf: u64,
			geometry: edgeproof_primitives::Geometry,
			witness: edgeproof_primitives::SubStepWitness,
		) -> Result<[u8; 32], pallet_disputes::Error<Runtime>> {
			pallet_disputes::Pallet::<Runtime>::check_sub_step(
				program_root,
				node_count,
				input_count,
				trace_root,
				leaf,
				&geometry,
				&witness,
			)
		}
	}

	#[cfg(feature = "runtime-benchmarks")]
	impl frame_benchmarking::Benchmark<Block> for Runtime {
		fn benchmark_metadata(extra: bool) -> (
			Vec<frame_benchmarking::BenchmarkList>,
			Vec<frame_support::traits::StorageInfo>,
		) {
			use frame_benchmarking::BenchmarkList;
			use frame_support::traits::StorageInfoTrait;
			use crate::benchmarks::*;

			let mut list = Vec::<BenchmarkList>::new();
			list_benchmarks!(list, extra);
			(list, crate::AllPalletsWithSystem::storage_info())
		}

		#[allow(non_local_definitions)]
		fn dispatch_benchmark(
			config: frame_benchmarking::BenchmarkConfig,
		) -> Result<Vec<frame_benchmarking::BenchmarkBatch>, alloc::string::String> {
			use frame_benchmarking::BenchmarkBatch;
			use frame_support::traits::WhitelistedStorageKeys;
			use crate::benchmarks::*;

			impl frame_system_benchmarking::Config for Runtime {}
			impl frame_benchmarking::baseline::Config for Runtime {}

			let whitelist = crate::AllPalletsWithSystem::whitelisted_storage_keys();
			let mut batches = Vec::<BenchmarkBatch>::new();
			let params = (&config, &whitelist);
			add_benchmarks!(params, batches);
			Ok(batches)
		}
	}

	#[cfg(feature = "try-runtime")]
	impl frame_try_runtime::TryRuntime<Block> for Runtime {
		fn on_runtime_upgrade(checks: frame_try_runtime::UpgradeCheckSelect) -> (Weight, Weight) {
			// try-runtime is a debugging tool run off-chain: failing loudly is what it is for.
			let weight = Executive::try_runtime_upgrade(checks).unwrap();
			(weight, crate::configs::RuntimeBlockWeights::get().max_block)
		}

		fn execute_block(
			block: <Block as BlockT>::LazyBlock,
			state_root_check: bool,
			signature_check: bool,
			select: frame_try_runtime::TryStateSelect,
		) -> Weight {
			Executive::try_execute_block(block, state_root_check, signature_check, select)
				.expect("execute-block failed")
		}
	}

	impl sp_genesis_builder::GenesisBuilder<Block> for Runtime {
		fn build_state(config: Vec<u8>) -> sp_genesis_builder::Result {
			build_state::<RuntimeGenesisConfig>(config)
		}

		fn get_preset(id: &Option<sp_genesis_builder::PresetId>) -> Option<Vec<u8>> {
			get_preset::<RuntimeGenesisConfig>(id, crate::genesis_config_presets::get_preset)
		}

		fn preset_names() -> Vec<sp_genesis_builder::PresetId> {
			crate::genesis_config_presets::preset_names()
		}
	}
}
