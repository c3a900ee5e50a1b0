//! Benchmarks of `pallet-models`. Every call is measured at its worst case: the largest
//! registration the bounds allow, a full family, a full pending queue, a full vote.

use super::*;
use crate::Pallet as Models;
use edgeproof_canon::DType;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{fungible::Mutate, EnsureOrigin, Get},
	BoundedVec,
};
use frame_system::RawOrigin;
use sp_core::H256;
use sp_runtime::{traits::One, Saturating};

/// The first seed of the models [`fill_pending`] registers (above any family version).
const LONE: u32 = 1 << 16;

/// A distinct file hash per seed.
fn file_hash(seed: u32) -> FileHash {
	let mut bytes = [0u8; 32];
	bytes[28..].copy_from_slice(&seed.to_be_bytes());
	H256(bytes)
}

/// The largest registration the runtime's bounds allow, for model `seed`.
fn max_params<T: Config>(seed: u32) -> ModelParamsOf<T> {
	let name_len = T::MaxNameLen::get() as usize;
	let spec = TensorSpec {
		name: BoundedVec::truncate_from(alloc::vec![b'n'; name_len]),
		dtype: DType::F32,
		shape: BoundedVec::truncate_from(alloc::vec![1u32; T::MaxDims::get() as usize]),
		dynamic_batch: true,
	};
	let specs = BoundedVec::truncate_from(alloc::vec![spec; T::MaxTensors::get() as usize]);
	let mut uri = b"https://".to_vec();
	uri.resize(T::MaxUriLen::get() as usize, b'u');
	ModelParams {
		file_hash: file_hash(seed),
		name: BoundedVec::truncate_from(alloc::vec![b'm'; name_len]),
		version: seed,
		uri: BoundedVec::truncate_from(uri),
		byte_size: 1,
		inputs: specs.clone(),
		outputs: specs,
		tolerance: Tolerance::Relative { abs: 0, rel: 0 },
		program_root: H256::repeat_byte(1),
		node_count: 1,
		program_work: 1,
	}
}

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	let amount = Models::<T>::deposit_for(&max_params::<T>(0))
		.saturating_mul(100u32.into())
		.saturating_add(T::Currency::minimum_balance());
	T::Currency::set_balance(&who, amount);
	who
}

/// Registers `params` by `owner`; returns the model's id.
fn register_params<T: Config>(owner: &T::AccountId, params: ModelParamsOf<T>) -> ModelId {
	let id = model_id(owner, &params);
	Models::<T>::register_model(RawOrigin::Signed(owner.clone()).into(), params)
		.expect("benchmark registration is valid");
	id
}

/// Registers version `seed` of the benchmark family by `owner`.
fn register<T: Config>(owner: &T::AccountId, seed: u32) -> ModelId {
	register_params::<T>(owner, max_params::<T>(seed))
}

/// Registers `count` pending models, seeds from `first`, each in a family of its own and by
/// an owner of its own (so that neither the family nor the per-owner bound applies).
fn fill_pending<T: Config>(count: u32, first: u32) -> Vec<ModelId> {
	(first..first.saturating_add(count))
		.map(|seed| {
			let mut params = max_params::<T>(seed);
			let mut name = alloc::format!("{seed}").into_bytes();
			name.resize(T::MaxNameLen::get() as usize, b'm');
			params.name = BoundedVec::truncate_from(name);
			register_params::<T>(&funded::<T>("pending-owner", seed), params)
		})
		.collect()
}

fn status_of<T: Config>(id: ModelId) -> Option<ModelStatus> {
	crate::Models::<T>::get(id).map(|r| r.status)
}

/// A pending model and the origin that may decide it.
fn pending_model_and_activation_origin<T: Config>(
) -> Result<(ModelId, T::RuntimeOrigin), BenchmarkError> {
	let owner = funded::<T>("owner", 0);
	let id = register::<T>(&owner, 1);
	let origin =
		T::ActivationOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
	Ok((id, origin))
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// The last version that fits its family, into the last free pending slot: the longest
	/// family and pending queue to read and write.
	#[benchmark]
	fn register_model() {
		let owner = funded::<T>("owner", 0);
		let before = T::MaxVersions::get().saturating_sub(1);
		for seed in 1..=before {
			let id = register::<T>(&owner, seed);
			Models::<T>::do_activate(id).expect("pending model activates");
		}
		fill_pending::<T>(T::MaxPendingModels::get().saturating_sub(1), LONE);
		let params = max_params::<T>(before + 1);
		let id = model_id(&owner, &params);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), params);

		assert_eq!(status_of::<T>(id), Some(ModelStatus::Pending));
		assert_eq!(PendingModels::<T>::count(), T::MaxPendingModels::get());
	}

	#[benchmark]
	fn activate() -> Result<(), BenchmarkError> {
		let (id, origin) = pending_model_and_activation_origin::<T>()?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, id);

		assert_eq!(status_of::<T>(id), Some(ModelStatus::Active));
		Ok(())
	}

	#[benchmark]
	fn reject() -> Result<(), BenchmarkError> {
		let (id, origin) = pending_model_and_activation_origin::<T>()?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, id);

		assert_eq!(status_of::<T>(id), Some(ModelStatus::Rejected));
		Ok(())
	}

	/// The last of `MaxVoters` votes, alternating so that none decides (the threshold is above
	/// one half): the largest vote list to read and write.
	#[benchmark]
	fn vote() {
		let owner = funded::<T>("owner", 0);
		let id = register::<T>(&owner, 1);
		let voters = T::Voters::set_benchmark_voters(T::MaxVoters::get());
		let alternate = |i: usize| if i % 2 == 0 { Verdict::Approve } else { Verdict::Reject };
		let (last, earlier) = voters.split_last().expect("at least one voter");
		for (i, voter) in earlier.iter().enumerate() {
			Models::<T>::vote(RawOrigin::Signed(voter.clone()).into(), id, alternate(i))
				.expect("voter may vote");
		}

		#[extrinsic_call]
		vote(RawOrigin::Signed(last.clone()), id, alternate(earlier.len()));

		assert_eq!(status_of::<T>(id), Some(ModelStatus::Pending));
	}

	/// The vote that reaches the threshold and activates the model.
	#[benchmark]
	fn vote_and_decide() {
		let owner = funded::<T>("owner", 0);
		let id = register::<T>(&owner, 1);
		let voters = T::Voters::set_benchmark_voters(T::MaxVoters::get());
		let required = T::VoteThreshold::get().mul_ceil(T::Voters::count()).max(1);
		let mut voters = voters.into_iter();
		for _ in 1..required {
			let voter = voters.next().expect("enough voters");
			Models::<T>::vote(RawOrigin::Signed(voter).into(), id, Verdict::Approve)
				.expect("voter may vote");
		}
		let voter = voters.next().expect("enough voters");

		#[extrinsic_call]
		vote(RawOrigin::Signed(voter), id, Verdict::Approve);

		assert_eq!(status_of::<T>(id), Some(ModelStatus::Active));
	}

	#[benchmark]
	fn deprecate() {
		let owner = funded::<T>("owner", 0);
		let id = register::<T>(&owner, 1);
		Models::<T>::do_activate(id).expect("pending model activates");

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id);

		assert_eq!(status_of::<T>(id), Some(ModelStatus::Deprecated));
	}

	#[benchmark]
	fn retire() {
		let owner = funded::<T>("owner", 0);
		let id = register::<T>(&owner, 1);
		Models::<T>::do_activate(id).expect("pending model activates");
		Models::<T>::deprecate(RawOrigin::Signed(owner.clone()).into(), id)
			.expect("owner may deprecate");

		#[extrinsic_call]
		_(RawOrigin::Signed(owner.clone()), id);

		assert_eq!(status_of::<T>(id), Some(ModelStatus::Retired));
	}

	/// Moving from the shortest URI to the longest: the deposit grows, so the hold changes.
	#[benchmark]
	fn set_uri() {
		let owner = funded::<T>("owner", 0);
		let mut params = max_params::<T>(1);
		params.uri = BoundedVec::truncate_from(b"file:///m".to_vec());
		let id = model_id(&owner, &params);
		Models::<T>::register_model(RawOrigin::Signed(owner.clone()).into(), params)
			.expect("benchmark registration is valid");
		let mut uri = b"https://".to_vec();
		uri.resize(T::MaxUriLen::get() as usize, b'v');
		let uri: BoundedVec<u8, T::MaxUriLen> = BoundedVec::truncate_from(uri);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id, uri.clone());

		assert_eq!(crate::Models::<T>::get(id).map(|r| r.params.uri), Some(uri));
	}

	#[benchmark]
	fn set_key_requirement() {
		let owner = funded::<T>("owner", 0);
		let id = register::<T>(&owner, 1);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id, KeyAssurance::SecureElement);

		assert_eq!(crate::KeyRequirements::<T>::get(id), Some(KeyAssurance::SecureElement));
	}

	/// `n` pending models expire in a block; the rest of a full queue, registered a block
	/// later, is read and left.
	#[benchmark]
	fn expire_pending_models(n: Linear<0, { T::MaxPendingModels::get() }>) {
		let start = frame_system::Pallet::<T>::block_number();
		let due = fill_pending::<T>(n, LONE);
		frame_system::Pallet::<T>::set_block_number(start.saturating_add(One::one()));
		fill_pending::<T>(T::MaxPendingModels::get().saturating_sub(n), LONE.saturating_add(n));
		let now = start.saturating_add(T::PendingTimeout::get());
		frame_system::Pallet::<T>::set_block_number(now);

		#[block]
		{
			Models::<T>::expire_due(now);
		}

		assert!(due.iter().all(|id| status_of::<T>(*id) == Some(ModelStatus::Rejected)));
		assert_eq!(
			PendingQueue::<T>::get().len() as u32,
			T::MaxPendingModels::get().saturating_sub(n)
		);
	}

	impl_benchmark_test_suite!(Models, crate::mock::ExtBuilder::build(), crate::mock::Test);
}
