//! The checker: validators' off-chain workers re-run pending claims.
//!
//! Every block, on a validator, [`check_pending_claims`] takes the undecided claims still in
//! their challenge period that this node has not checked (a window of at most
//! [`MAX_EXAMINED_PER_RUN`] ids from the first one it is not done with), nearest the end of
//! their challenge period first, and for each:
//!
//! 1. draws it with probability `check_probability` ([`Params`]);
//! 2. runs the model on the claim's input through the `inference::run` host function (ONNX
//!    Runtime) and compares with the claimed output under the model's tolerance;
//! 3. on a mismatch, without ONNX Runtime, or when ONNX Runtime fails on the input, computes
//!    the canonical output (`inference::canonical_output`, `edgeproof-canon`, bit-exact) and
//!    compares again: only a claim whose canonical output is not within tolerance is wrong.
//!    A wrong claim goes to [`Config::OnWrongClaim`] (the dispute pallet opens a dispute).
//!
//! The outcome ([`CheckOutcome`]) is kept in the node's persistent offchain local storage under
//! [`outcome_key`], so a claim is checked once per node; a lock per claim keeps overlapping
//! workers (one per imported block) from checking it twice at the same time. A check that may
//! succeed later (model file unreachable, no engine) records nothing and is retried on the next
//! block. Work per block stops at [`Config::CheckTimeBudget`] milliseconds; the rest carries
//! over. Clients read outcomes with the `offchain_localStorageGet` RPC (`PERSISTENT`, the key
//! from [`outcome_key`]).

use alloc::vec::Vec;
use codec::Encode;
use edgeproof_canon::within_tolerance;
use edgeproof_primitives::{inference, CheckerNote, InferenceError};
use frame_support::traits::Get;
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::offchain::{
	storage::StorageValueRef,
	storage_lock::{StorageLock, Time},
	Duration,
};

use crate::{
	decode_tensors, CheckOutcome, ClaimId, ClaimRecordOf, Claims, Config, NextClaimId, Params,
	Payloads, WrongClaimHandler, LOG_TARGET,
};
use pallet_models::ModelRegistry;

/// Prefix of the outcome keys.
pub const OUTCOME_PREFIX: &[u8; 26] = b"edgeproof/checker/outcome/";

/// Most claim ids one worker run examines (checked or not).
pub const MAX_EXAMINED_PER_RUN: u64 = 1_024;

/// How long one claim's check may hold its lock.
const LOCK_MILLIS: u64 = 60_000;

/// Offchain-storage key of this node's outcome for `claim`: `OUTCOME_PREFIX ++ claim (u64 LE)`.
pub fn outcome_key(claim: ClaimId) -> Vec<u8> {
	(OUTCOME_PREFIX, claim).encode()
}

/// Offchain-storage key of the first claim id this node has not finished with.
const CURSOR_KEY: &[u8] = b"edgeproof/checker/cursor";

/// This node's outcome for `claim`, if it checked it.
pub fn outcome(claim: ClaimId) -> Option<CheckOutcome> {
	StorageValueRef::persistent(&outcome_key(claim)).get::<CheckOutcome>().ok().flatten()
}

/// Checks the claims this node has not checked yet (see the module docs). Does nothing on a
/// node that is not a validator.
pub fn check_pending_claims<T: Config>(now: BlockNumberFor<T>) {
	if !sp_io::offchain::is_validator() {
		return;
	}
	let started = sp_io::offchain::timestamp();
	let deadline = started.add(Duration::from_millis(T::CheckTimeBudget::get()));
	let cursor_ref = StorageValueRef::persistent(CURSOR_KEY);
	let cursor = cursor_ref.get::<ClaimId>().ok().flatten().unwrap_or_default();
	let end = NextClaimId::<T>::get().min(cursor.saturating_add(MAX_EXAMINED_PER_RUN));
	// The window's claims still in their challenge period, nearest its end first: when more
	// claims wait than the time budget allows (a flood), the ones about to finalise are checked
	// before the ones that still have time.
	let mut done = Vec::with_capacity(end.saturating_sub(cursor) as usize);
	let mut due = Vec::new();
	for id in cursor..end {
		match Claims::<T>::get(id) {
			Some(record) if record.status.is_undecided() && now < record.challenge_ends => {
				due.push((id, record));
				done.push(false);
			},
			// Decided, pruned or past its challenge period: nothing to do.
			_ => done.push(true),
		}
	}
	due.sort_by_key(|(id, record)| (record.challenge_ends, *id));
	let mut checked = 0u32;
	for (id, record) in due {
		if sp_io::offchain::timestamp() >= deadline {
			log::debug!(target: LOG_TARGET, "checker: time budget spent before claim {id}");
			break;
		}
		let (finished, ran) = check_once::<T>(id, &record);
		checked = checked.saturating_add(u32::from(ran));
		if let Some(slot) = done.get_mut(id.saturating_sub(cursor) as usize) {
			*slot = finished;
		}
	}
	// The cursor passes the claims done with, up to the first one that is not.
	let passed = done.iter().take_while(|finished| **finished).count() as u64;
	cursor_ref.set(&cursor.saturating_add(passed));
	if checked > 0 {
		let spent = sp_io::offchain::timestamp().diff(&started).millis();
		log::info!(target: LOG_TARGET, "checker: {checked} claims checked in {spent} ms");
	}
}

/// Checks `claim` unless this node did already or another worker holds it. Returns whether the
/// claim is done with — an outcome is recorded and, for a wrong claim, the dispute pallet says a
/// dispute of this node is running or on its way (it is asked again every block until then) —
/// and whether it was checked now.
fn check_once<T: Config>(claim: ClaimId, record: &ClaimRecordOf<T>) -> (bool, bool) {
	let key = outcome_key(claim);
	let stored = StorageValueRef::persistent(&key);
	match stored.get::<CheckOutcome>() {
		Ok(Some(CheckOutcome::Wrong { disputed: true, .. })) => return (true, false),
		Ok(Some(CheckOutcome::Wrong { disputed: false, .. })) => {
			return (dispute_again::<T>(claim, record, &stored), false)
		},
		Ok(Some(_)) => return (true, false),
		_ => {},
	}
	let lock_key = (b"edgeproof/checker/lock/", claim).encode();
	let mut lock =
		StorageLock::<Time>::with_deadline(&lock_key, Duration::from_millis(LOCK_MILLIS));
	let Ok(_guard) = lock.try_lock() else { return (false, false) };
	if matches!(stored.get::<CheckOutcome>(), Ok(Some(_))) {
		return (true, false);
	}
	let Some(outcome) = check::<T>(claim, record) else { return (false, true) };
	match &outcome {
		CheckOutcome::Wrong { trace_root, disputed } => log::warn!(
			target: LOG_TARGET,
			"checker: claim {claim} of device {:?} is WRONG (canonical trace root 0x{}); \
			 dispute running: {disputed}",
			record.device,
			hex(trace_root),
		),
		CheckOutcome::CanonicalAgrees => log::warn!(
			target: LOG_TARGET,
			"checker: claim {claim}: ONNX Runtime disagrees with the claim but the canonical \
			 output agrees; the claim stands"
		),
		CheckOutcome::Failed(e) => {
			log::warn!(target: LOG_TARGET, "checker: claim {claim} cannot be checked: {e:?}")
		},
		other => log::debug!(target: LOG_TARGET, "checker: claim {claim}: {other:?}"),
	}
	inference::note(CheckerNote::Checked(outcome.verdict()));
	let done = !matches!(outcome, CheckOutcome::Wrong { disputed: false, .. });
	stored.set(&outcome);
	(done, true)
}

/// Hands a claim found wrong earlier to the dispute pallet again (its dispute did not start:
/// the pool refused it, or it failed on chain). The canonical trace is cached by the node.
fn dispute_again<T: Config>(
	claim: ClaimId,
	record: &ClaimRecordOf<T>,
	stored: &StorageValueRef,
) -> bool {
	let (Some(file), Some(payload)) = (T::Models::file(&record.model), Payloads::<T>::get(claim))
	else {
		return true;
	};
	let Some(input) = decode_tensors(&payload.input) else { return true };
	let Ok(canonical) = inference::canonical_output(file.hash, &file.uri, input) else {
		return false;
	};
	let disputed = T::OnWrongClaim::wrong_claim(claim, record, &canonical);
	if disputed {
		stored.set(&CheckOutcome::Wrong { trace_root: canonical.trace_root, disputed });
	}
	disputed
}

/// The outcome of checking `claim`, or `None` if the check should be tried again later.
fn check<T: Config>(claim: ClaimId, record: &ClaimRecordOf<T>) -> Option<CheckOutcome> {
	if !sampled(claim, Params::<T>::get().check_probability) {
		return Some(CheckOutcome::NotSampled);
	}
	let summary = T::Models::summary(&record.model)?;
	let file = T::Models::file(&record.model)?;
	let payload = Payloads::<T>::get(claim)?;
	let (Some(input), Some(claimed)) =
		(decode_tensors(&payload.input), decode_tensors(&payload.output))
	else {
		// `submit` decodes both; this cannot happen for a stored claim.
		return Some(CheckOutcome::Failed(InferenceError::MalformedTensor { index: 0 }));
	};
	match inference::run(file.hash, &file.uri, input.clone()) {
		Ok(outputs) if within_tolerance(&claimed, &outputs, summary.tolerance) => {
			return Some(CheckOutcome::Agrees)
		},
		Err(e) if retry_later(&e) => return None,
		// A mismatch, no ONNX Runtime here, or ONNX Runtime failing on this input (e.g. an
		// integer index out of range): the canonical executor decides. An ort error is never a
		// pass: the claimant must defend its output against the canonical trace.
		Ok(_) | Err(_) => {},
	}
	let canonical = match inference::canonical_output(file.hash, &file.uri, input) {
		Ok(canonical) => canonical,
		Err(e) if retry_later(&e) => return None,
		Err(e) => return Some(CheckOutcome::Failed(e)),
	};
	let tensors: Vec<_> = canonical.outputs.iter().map(|w| w.tensor.clone()).collect();
	if within_tolerance(&claimed, &tensors, summary.tolerance) {
		return Some(CheckOutcome::CanonicalAgrees);
	}
	let disputed = T::OnWrongClaim::wrong_claim(claim, record, &canonical);
	Some(CheckOutcome::Wrong { trace_root: canonical.trace_root, disputed })
}

/// Errors that may go away: no engine in this context, the file unreachable, a failing disk.
fn retry_later(e: &InferenceError) -> bool {
	matches!(
		e,
		InferenceError::Unavailable | InferenceError::Unreachable | InferenceError::StoreFailed
	)
}

/// Is `claim` drawn under `probability`? Always with one, never with zero; otherwise from the
/// node's local randomness, so validators draw independently.
fn sampled(claim: ClaimId, probability: sp_runtime::Perbill) -> bool {
	if probability.is_one() {
		return true;
	}
	let seed = sp_io::offchain::random_seed();
	let draw = sp_io::hashing::blake2_256(&(seed, claim).encode());
	let value = u32::from_le_bytes([draw[0], draw[1], draw[2], draw[3]]) % 1_000_000_000;
	value < probability.deconstruct()
}

fn hex(bytes: &[u8]) -> alloc::string::String {
	use core::fmt::Write;
	let mut s = alloc::string::String::with_capacity(bytes.len() * 2);
	for b in bytes {
		let _ = write!(s, "{b:02x}");
	}
	s
}
