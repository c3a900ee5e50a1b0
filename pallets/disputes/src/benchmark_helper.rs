//! Set-up of the benchmarks: an active model with a given canonical program, and a claim on it.

use edgeproof_canon::{Hash, Tensor, Tolerance};
use frame_benchmarking::BenchmarkError;
use frame_support::traits::Get;
use pallet_attestations::{benchmark_helper::BenchmarkHelper as _, ClaimId};
use sp_core::H256;

/// Sets up what a dispute needs.
pub trait BenchmarkHelper<AccountId> {
	/// Registers and activates a model whose canonical program has `program_root` and
	/// `node_count` nodes and whose tensors are shaped like `inputs` and `outputs` (exact
	/// tolerance), and submits a claim that it gave `outputs` on `inputs`, by a fresh operator
	/// (`seed` tells operators apart). Returns the claim and its operator.
	fn claim(
		inputs: &[Tensor],
		outputs: &[Tensor],
		program_root: Hash,
		node_count: u32,
		seed: u32,
	) -> Result<(ClaimId, AccountId), BenchmarkError>;

	/// The longest claim payload, in bytes.
	fn max_payload() -> u32;
}

/// The helper for a runtime with pallet-attestations (and its model and device registries).
pub struct AttestationsClaims<T>(core::marker::PhantomData<T>);

impl<T: pallet_attestations::Config> BenchmarkHelper<T::AccountId> for AttestationsClaims<T> {
	fn claim(
		inputs: &[Tensor],
		outputs: &[Tensor],
		program_root: Hash,
		node_count: u32,
		seed: u32,
	) -> Result<(ClaimId, T::AccountId), BenchmarkError> {
		let model = <T as pallet_attestations::Config>::BenchmarkHelper::active_program(
			inputs,
			outputs,
			H256(program_root),
			node_count,
			Tolerance::Exact,
		)?;
		pallet_attestations::benchmark_helper::submit_claim::<T>(seed, model, inputs, outputs)
	}

	fn max_payload() -> u32 {
		<T as pallet_attestations::Config>::MaxPayloadLen::get()
	}
}
