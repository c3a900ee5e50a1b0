//! The validators' off-chain vote on pending models.
//!
//! Every block, a validator's off-chain worker looks at the pending models
//! ([`PendingModels`]) that a local checker key (a voter, [`Config::Voters`]) has not voted on,
//! checks each through the node's `inference::verify_model` host function (fetch the file,
//! check its hash and size, compile it with `edgeproof-canon`, run the probes) and votes with
//! a signed transaction from the checker key. [`verdict`] is the rule, in plain Rust.
//!
//! Offchain local storage (persistent, per node) remembers when this node last sent a vote on
//! a model, so that a vote waiting in the transaction pool is not sent again; a lock per model
//! keeps overlapping workers (one per imported block) from checking the same model twice.
//! A check whose answer may change (the URI unreachable, no inference engine) sends nothing
//! and is tried again on a later block.

use alloc::vec::Vec;
use codec::Encode;
use edgeproof_primitives::{inference, Disputability, InferenceError, ModelFacts, DYNAMIC_DIM};
use frame_support::traits::Get;
use frame_system::{offchain::AppCrypto, pallet_prelude::BlockNumberFor};
use sp_runtime::{
	offchain::{
		storage::StorageValueRef,
		storage_lock::{StorageLock, Time},
		Duration,
	},
	traits::{IdentifyAccount, Saturating},
	RuntimeAppPublic,
};

use crate::{
	Call, Config, ModelParamsOf, Models, PendingModels, TensorSpecOf, Verdict, VoterSet, Votes,
	LOG_TARGET,
};

/// Blocks after which a vote that has not reached the chain is sent again.
pub const RESEND_AFTER: u32 = 10;

/// How long one check may hold a model's lock (a fetch of a large file included).
const LOCK_MILLIS: u64 = 120_000;

/// Offchain-storage key of the block this node last voted on `model` in.
fn sent_key(model: &crate::ModelId) -> Vec<u8> {
	(b"edgeproof/models/voted/", model).encode()
}

/// Offchain-storage key of the lock of `model`.
fn lock_key(model: &crate::ModelId) -> Vec<u8> {
	(b"edgeproof/models/lock/", model).encode()
}

/// The public keys of this node's checker keys whose accounts are voters.
fn local_voters<T: Config>() -> Vec<T::Public> {
	<<T::CheckerCrypto as AppCrypto<T::Public, T::Signature>>::RuntimeAppPublic as RuntimeAppPublic>::all()
		.into_iter()
		.filter_map(|key| {
			let generic: <T::CheckerCrypto as AppCrypto<T::Public, T::Signature>>::GenericPublic =
				key.into();
			let public: T::Public = generic.into();
			T::Voters::is_voter(&public.clone().into_account()).then_some(public)
		})
		.collect()
}

/// Votes on the pending models that need this node's vote (see the module docs).
pub fn vote_on_pending_models<T: Config>(now: BlockNumberFor<T>) {
	let voters = local_voters::<T>();
	if voters.is_empty() {
		return;
	}
	for model in PendingModels::<T>::iter_keys() {
		let Some(record) = Models::<T>::get(model) else { continue };
		let votes = Votes::<T>::get(model);
		let missing: Vec<T::Public> = voters
			.iter()
			.filter(|public| {
				let account = (*public).clone().into_account();
				votes.iter().all(|(who, _)| *who != account)
			})
			.cloned()
			.collect();
		if missing.is_empty() {
			continue;
		}
		let sent_key = sent_key(&model);
		let sent = StorageValueRef::persistent(&sent_key);
		if let Ok(Some(at)) = sent.get::<BlockNumberFor<T>>() {
			if now < at.saturating_add(RESEND_AFTER.into()) {
				continue;
			}
		}
		let lock_key = lock_key(&model);
		let mut lock =
			StorageLock::<Time>::with_deadline(&lock_key, Duration::from_millis(LOCK_MILLIS));
		let Ok(_guard) = lock.try_lock() else { continue };

		let limits = T::DisputeLimits::get();
		let facts = inference::verify_model(
			record.params.file_hash,
			&record.params.uri,
			limits,
			record.params.tolerance,
			T::SecondLevelLimits::get(),
		);
		let Some(verdict) = verdict::<T>(&record.params, &facts) else {
			log::debug!(target: LOG_TARGET, "model {model:?}: no verdict yet ({facts:?})");
			continue;
		};
		log::info!(target: LOG_TARGET, "model {model:?}: voting {verdict:?} ({facts:?})");
		let mut any = false;
		for public in missing {
			let who = public.clone().into_account();
			if crate::checker_tx::send_signed::<T, T::CheckerCrypto, _>(
				public,
				Call::vote { model, verdict },
			) {
				any = true;
			} else {
				log::warn!(
					target: LOG_TARGET,
					"model {model:?}: the vote of {who:?} was not accepted by the pool",
				);
			}
		}
		if any {
			sent.set(&now);
		}
	}
}

/// The vote on a model registered as `params`, given what `verify_model` found; `None` when
/// the answer may change later (no inference engine or ONNX Runtime here, the URI
/// unreachable, a failing disk), so that nothing is sent.
///
/// Approve only if everything the registration claims holds: the file (its hash is checked by
/// the node) has `byte_size` bytes; ONNX Runtime's tensor specs match the declared ones; the
/// canonical program has `program_root`, `node_count` and `program_work`; the model is
/// disputable under the runtime's limits (which includes ONNX Runtime meeting the tolerance on
/// the probes). A
/// dynamic dimension in the file matches a declared 1 only: canonical programs pin dynamic
/// dimensions to 1 (`edgeproof_offchain::compile_options`), so a declared dynamic batch above
/// 1 could not be disputed.
pub fn verdict<T: Config>(
	params: &ModelParamsOf<T>,
	facts: &Result<ModelFacts, InferenceError>,
) -> Option<Verdict> {
	let facts = match facts {
		Ok(facts) => facts,
		Err(
			InferenceError::Unavailable
			| InferenceError::LibraryMissing
			| InferenceError::Unreachable
			| InferenceError::StoreFailed
			| InferenceError::EngineFailed,
		) => return None,
		Err(_) => return Some(Verdict::Reject),
	};
	let specs_match = |declared: &[TensorSpecOf<T>], found: &[edgeproof_primitives::TensorSpec]| {
		declared.len() == found.len()
			&& declared.iter().zip(found).all(|(d, f)| {
				let batch_ok = !d.dynamic_batch || d.shape.first() == Some(&1);
				batch_ok
					&& d.dtype == f.dtype
					&& d.shape.len() == f.shape.len()
					&& d.shape
						.iter()
						.zip(&f.shape)
						.all(|(&d, &f)| d == f || (f == DYNAMIC_DIM && d == 1))
			})
	};
	let approve = facts.file == params.file_hash
		&& facts.byte_size == params.byte_size
		&& facts.program_root == Some(params.program_root.0)
		&& facts.node_count == params.node_count
		&& facts.program_work == params.program_work
		&& facts.disputable == Disputability::Disputable
		&& specs_match(&params.inputs, &facts.inputs)
		&& specs_match(&params.outputs, &facts.outputs);
	Some(if approve { Verdict::Approve } else { Verdict::Reject })
}
