//! Set-up of the benchmarks: active models and devices.

use crate::*;
use codec::Encode;
use edgeproof_canon::{Tensor, Tolerance};
use frame_benchmarking::BenchmarkError;
use frame_support::{
	traits::{fungible::Mutate, EnsureOrigin, Get},
	BoundedVec,
};
use frame_system::RawOrigin;
use pallet_devices::{DeviceKey, DeviceMetadata, DeviceSignature, HardwareClass};
use pallet_models::{ModelId, ModelParams, TensorSpec};
use sp_core::{crypto::KeyTypeId, sr25519, H256};
use sp_runtime::Saturating;

/// Sets up what a claim needs.
pub trait BenchmarkHelper<AccountId> {
	/// Registers and activates a model whose inputs and outputs have exactly the dtypes and
	/// shapes of `inputs` and `outputs`; returns its id.
	fn active_model(inputs: &[Tensor], outputs: &[Tensor]) -> Result<ModelId, BenchmarkError> {
		Self::active_program(inputs, outputs, H256::repeat_byte(1), 1, Tolerance::Exact)
	}
	/// Like `active_model`, with a given canonical program (root and node count) and
	/// tolerance, for benchmarks that play the dispute game on it.
	fn active_program(
		inputs: &[Tensor],
		outputs: &[Tensor],
		program_root: H256,
		node_count: u32,
		tolerance: Tolerance,
	) -> Result<ModelId, BenchmarkError>;
	/// Registers an active device with the sr25519 key `key` (in the keystore under
	/// `key_type`), operated by `operator`, funding its stake; returns its id.
	fn active_device(
		operator: &AccountId,
		key_type: KeyTypeId,
		key: sr25519::Public,
	) -> Result<DeviceId, BenchmarkError>;
}

/// The helper for a runtime with pallet-models and pallet-devices.
pub struct RegistriesHelper<T>(core::marker::PhantomData<T>);

/// A failed set-up step, named.
fn setup(step: &'static str) -> impl Fn(DispatchError) -> BenchmarkError {
	move |e| {
		log::error!(target: LOG_TARGET, "benchmark set-up `{step}` failed: {e:?}");
		BenchmarkError::Stop(step)
	}
}

impl<T: pallet_models::Config + pallet_devices::Config> BenchmarkHelper<T::AccountId>
	for RegistriesHelper<T>
{
	fn active_program(
		inputs: &[Tensor],
		outputs: &[Tensor],
		program_root: H256,
		node_count: u32,
		tolerance: Tolerance,
	) -> Result<ModelId, BenchmarkError> {
		let specs = |tensors: &[Tensor]| {
			BoundedVec::truncate_from(
				tensors
					.iter()
					.map(|t| TensorSpec {
						name: BoundedVec::truncate_from(b"t".to_vec()),
						dtype: t.dtype,
						shape: BoundedVec::truncate_from(t.shape.clone()),
						dynamic_batch: false,
					})
					.collect(),
			)
		};
		let (inputs, outputs) = (specs(inputs), specs(outputs));
		let file_hash =
			H256(sp_io::hashing::blake2_256(&(&inputs, &outputs, program_root).encode()));
		let params = ModelParams {
			file_hash,
			name: BoundedVec::truncate_from(b"bench".to_vec()),
			version: u32::from_le_bytes([file_hash[0], file_hash[1], file_hash[2], file_hash[3]]),
			uri: BoundedVec::truncate_from(b"https://bench.invalid/model.onnx".to_vec()),
			byte_size: 1,
			inputs,
			outputs,
			tolerance,
			program_root,
			node_count,
			// One unit of work per node: the bond is the base bond (its size does not change
			// what `submit` weighs).
			program_work: u64::from(node_count),
		};
		let owner: T::AccountId = frame_benchmarking::account("model-owner", 0, 0);
		let model_id = pallet_models::model_id(&owner, &params);
		let deposit = pallet_models::Pallet::<T>::deposit_for(&params)
			.saturating_add(<T as pallet_models::Config>::Currency::minimum_balance());
		<T as pallet_models::Config>::Currency::mint_into(&owner, deposit)
			.map_err(setup("fund the model owner"))?;
		pallet_models::Pallet::<T>::register_model(RawOrigin::Signed(owner).into(), params)
			.map_err(setup("register the model"))?;
		let origin = <T as pallet_models::Config>::ActivationOrigin::try_successful_origin()
			.map_err(|_| BenchmarkError::Weightless)?;
		pallet_models::Pallet::<T>::activate(origin, model_id)
			.map_err(setup("activate the model"))?;
		Ok(model_id)
	}

	fn active_device(
		operator: &T::AccountId,
		key_type: KeyTypeId,
		key: sr25519::Public,
	) -> Result<DeviceId, BenchmarkError> {
		let message =
			pallet_devices::Pallet::<T>::bind_message_for(&DeviceKey::Sr25519(key), operator);
		let proof = DeviceSignature::Sr25519(
			sp_io::crypto::sr25519_sign(key_type, &key, &message)
				.ok_or(BenchmarkError::Stop("the device key is not in the keystore"))?,
		);
		let stake = <T as pallet_devices::Config>::MinStake::get();
		<T as pallet_devices::Config>::Currency::mint_into(
			operator,
			stake.saturating_add(<T as pallet_devices::Config>::Currency::minimum_balance()),
		)
		.map_err(setup("fund the operator"))?;
		let id = DeviceKey::Sr25519(key);
		pallet_devices::Pallet::<T>::register_device(
			RawOrigin::Signed(operator.clone()).into(),
			id,
			proof,
			DeviceMetadata { hardware: HardwareClass::Other, description: BoundedVec::new() },
			stake,
		)
		.map_err(setup("register the device"))?;
		Ok(id)
	}
}

/// Key type of the benchmark device keys.
const KEY_TYPE: KeyTypeId = KeyTypeId(*b"batt");

/// Submits a claim of a fresh device of a fresh operator (`account("operator", seed)`, funded
/// for the bond) that `model` gave `outputs` on `inputs`; for other pallets' benchmarks (the
/// dispute game). Returns the claim and its operator.
pub fn submit_claim<T: Config>(
	seed: u32,
	model: ModelId,
	inputs: &[Tensor],
	outputs: &[Tensor],
) -> Result<(ClaimId, T::AccountId), BenchmarkError> {
	use frame_support::traits::fungible::Inspect;
	let operator: T::AccountId = frame_benchmarking::account("operator", seed, 0);
	let bond = T::ClaimBond::get().saturating_mul(2u32.into());
	<T as Config>::Currency::mint_into(
		&operator,
		bond.saturating_add(<T as Config>::Currency::minimum_balance()),
	)
	.map_err(setup("fund the operator"))?;
	let key = sp_io::crypto::sr25519_generate(KEY_TYPE, None);
	let device = T::BenchmarkHelper::active_device(&operator, KEY_TYPE, key)?;
	let input: BoundedVec<u8, T::MaxPayloadLen> = inputs
		.to_vec()
		.encode()
		.try_into()
		.map_err(|_| BenchmarkError::Stop("the benchmark input exceeds MaxPayloadLen"))?;
	let output: BoundedVec<u8, T::MaxPayloadLen> = outputs
		.to_vec()
		.encode()
		.try_into()
		.map_err(|_| BenchmarkError::Stop("the benchmark output exceeds MaxPayloadLen"))?;
	let message = claim_message(
		&Pallet::<T>::genesis_hash(),
		&device,
		&model,
		&H256(sp_io::hashing::blake2_256(&input)),
		&H256(sp_io::hashing::blake2_256(&output)),
		0,
	);
	let signature = DeviceSignature::Sr25519(
		sp_io::crypto::sr25519_sign(KEY_TYPE, &key, &message)
			.ok_or(BenchmarkError::Stop("the device key is not in the keystore"))?,
	);
	let claim = NextClaimId::<T>::get();
	Pallet::<T>::submit(
		RawOrigin::Signed(operator.clone()).into(),
		device,
		model,
		input,
		output,
		0,
		signature,
	)
	.map_err(setup("submit the claim"))?;
	Ok((claim, operator))
}
