//! The off-chain players: validators' workers play their side of disputes.
//!
//! - **Challenger.** pallet-attestations' checker hands over a claim it proved wrong
//!   ([`open_dispute`]): the worker opens a dispute with the canonical trace root and outputs,
//!   signed by a local checker key.
//! - **Both sides.** Every block, [`play`] looks at the running disputes in which a local
//!   checker account is a party and makes the moves it owes, computed by the node's canonical
//!   executor from the claim's input (`inference::canonical_output`, `trace_children`,
//!   `one_step`, `second_level`; the node caches the trace's tree per model and input and
//!   recomputes a node's values when a move needs them): the claimant's response, each
//!   bisection move, and the one-step (the challenger posts it too: anyone may, and an honest
//!   trace always wins it). At a node heavier than one sub-step (its cut has more than one)
//!   it plays the second level instead: the cut (posted by either side, as the one-step), the
//!   data-root and segment-state reveals, the moves down the node's chunk tree and a tile's
//!   segment states, and the sub-step. It also ends disputes whose opponent ran out of time. A
//!   node defends the claims whose operator account is one of its checker keys.
//!
//! A move sent is remembered in the node's offchain storage (per dispute, round and kind) for
//! [`RESEND_AFTER`] blocks, so that a move waiting in the pool is not sent again.

use alloc::vec::Vec;
use codec::Encode;
use edgeproof_canon::LeafWitness;
use edgeproof_primitives::{inference, Answer, CanonicalOutput, CheckerNote, Move, Query};
use frame_support::{
	traits::{
		fungible::Inspect,
		tokens::{Fortitude, Preservation},
		Get,
	},
	BoundedVec,
};
use frame_system::{offchain::AppCrypto, pallet_prelude::BlockNumberFor};
use pallet_attestations::{ClaimId, ClaimRegistry};
use pallet_models::ModelRegistry;
use sp_runtime::{
	offchain::storage::StorageValueRef,
	traits::{IdentifyAccount, Saturating},
	RuntimeAppPublic,
};

use crate::{
	game::{Level, Party, Phase, Reveal, Revealed},
	Call, Config, DisputeId, DisputeOf, Disputes, Pallet, LOG_TARGET,
};

/// Blocks after which a move that has not reached the chain is sent again.
pub const RESEND_AFTER: u32 = 5;

/// The public keys of this node's checker keys.
fn local_keys<T: Config>() -> Vec<T::Public> {
	<<T::CheckerCrypto as AppCrypto<T::Public, T::Signature>>::RuntimeAppPublic as RuntimeAppPublic>::all()
		.into_iter()
		.map(|key| {
			let generic: <T::CheckerCrypto as AppCrypto<T::Public, T::Signature>>::GenericPublic =
				key.into();
			generic.into()
		})
		.collect()
}

/// Sends `call` signed by `public`, with the account's pool-aware nonce (so that moves sent in
/// consecutive blocks do not replace each other in the pool); whether the pool took it.
fn send<T: Config>(public: T::Public, call: Call<T>) -> bool {
	pallet_models::checker_tx::send_signed::<T, T::CheckerCrypto, _>(public, call)
}

/// Makes sure this node disputes `claim` with its canonical result: if none of its checker
/// keys has a dispute running on it, opens one signed by the first local checker key that is
/// not the claim's operator (again after [`RESEND_AFTER`] blocks while it has not reached the
/// chain). Returns whether a dispute of this node is running *on chain*: an `open` the pool
/// took may still fail in its block (e.g. `InsufficientBond`), be evicted or be replaced, so the
/// checker keeps asking until this is true or the claim's challenge period is over.
pub fn open_dispute<T: Config>(claim: ClaimId, canonical: &CanonicalOutput) -> bool {
	let Some(info) = T::Claims::claim(claim) else { return false };
	let keys = local_keys::<T>();
	let running = crate::ClaimDisputes::<T>::get(claim);
	let mine = |id: &DisputeId| {
		Disputes::<T>::get(id)
			.is_some_and(|d| keys.iter().any(|k| k.clone().into_account() == d.challenger))
	};
	if running.iter().any(mine) {
		return true;
	}
	let Some(public) = keys.into_iter().find(|p| p.clone().into_account() != info.record.operator)
	else {
		log::warn!(target: LOG_TARGET, "claim {claim} is wrong but this node has no checker key");
		return false;
	};
	let Ok(outputs) = BoundedVec::try_from(canonical.outputs.clone()) else {
		log::warn!(target: LOG_TARGET, "claim {claim}: more outputs than MaxOutputs");
		return false;
	};
	let checker = public.clone().into_account();
	let bond = T::ChallengerBond::get();
	let free = T::Currency::reducible_balance(&checker, Preservation::Preserve, Fortitude::Polite);
	if free < bond {
		// The node's operator must top the account up: until then this validator leaves wrong
		// claims unchallenged (the opening would fail on chain and cost its fee). Asked again
		// every block.
		log::error!(
			target: LOG_TARGET,
			"claim {claim} is wrong but checker {checker:?} has {free:?} free, less than the \
			 challenger bond {bond:?}: fund it to dispute"
		);
		edgeproof_primitives::inference::note_unfunded_dispute();
		return false;
	}
	let now = frame_system::Pallet::<T>::block_number();
	once::<T>(claim, Move::Open, 0, now, || {
		let sent =
			send::<T>(public, Call::open { claim, trace_root: canonical.trace_root, outputs });
		log::info!(target: LOG_TARGET, "claim {claim}: opening a dispute (in the pool: {sent})");
		sent
	});
	false
}

/// Plays this node's moves in every running dispute (see the module docs).
pub fn play<T: Config>(now: BlockNumberFor<T>) {
	let keys = local_keys::<T>();
	if keys.is_empty() {
		return;
	}
	let block = Pallet::<T>::now();
	for (id, dispute) in Disputes::<T>::iter() {
		let me = |who: &T::AccountId| keys.iter().find(|p| (*p).clone().into_account() == *who);
		let sides = [
			(Party::Claimant, me(&dispute.claimant)),
			(Party::Challenger, me(&dispute.challenger)),
		];
		for (party, key) in sides {
			let Some(key) = key else { continue };
			if let Some(winner) = dispute.game.timed_out(block) {
				if winner != crate::game::Winner::Neither && winner == party.into() {
					once::<T>(id, Move::Timeout, 0, now, || {
						send::<T>(key.clone(), Call::timeout { dispute: id })
					});
				}
				continue;
			}
			if let Err(e) = make_move::<T>(id, &dispute, party, key.clone(), now) {
				log::warn!(target: LOG_TARGET, "dispute {id}: no move for {party:?}: {e:?}");
			}
		}
	}
}

/// The offchain-storage key recording when `kind` was last sent: the call's name in the key.
fn sent_key(id: u64, kind: Move, round: u64) -> Vec<u8> {
	(b"edgeproof/disputes/sent/", id, kind.name().as_bytes(), round).encode()
}

/// Was this move sent in the last [`RESEND_AFTER`] blocks?
fn was_sent<T: Config>(id: u64, kind: Move, round: u64, now: BlockNumberFor<T>) -> bool {
	let key = sent_key(id, kind, round);
	matches!(
		StorageValueRef::persistent(&key).get::<BlockNumberFor<T>>(),
		Ok(Some(at)) if now < at.saturating_add(RESEND_AFTER.into())
	)
}

/// Sends `f`'s move (`id` a dispute, or a claim for `open`) unless the same one was sent in the
/// last [`RESEND_AFTER`] blocks; a move the pool took is counted in the node's metrics.
fn once<T: Config>(
	id: u64,
	kind: Move,
	round: u64,
	now: BlockNumberFor<T>,
	f: impl FnOnce() -> bool,
) {
	if was_sent::<T>(id, kind, round, now) {
		return;
	}
	if f() {
		let key = sent_key(id, kind, round);
		StorageValueRef::persistent(&key).set(&now);
		inference::note(CheckerNote::MoveSent(kind));
	}
}

/// The move `party` owes in `dispute`, computed and sent.
fn make_move<T: Config>(
	id: DisputeId,
	dispute: &DisputeOf<T>,
	party: Party,
	key: T::Public,
	now: BlockNumberFor<T>,
) -> Result<(), edgeproof_primitives::InferenceError> {
	use edgeproof_primitives::InferenceError;
	let info = T::Claims::claim(dispute.claim).ok_or(InferenceError::BadPosition)?;
	let input = info.inputs.ok_or(InferenceError::BadPosition)?;
	let file = T::Models::file(&info.record.model).ok_or(InferenceError::ModelNotFound)?;
	match *dispute.game.phase() {
		Phase::AwaitingResponse if party == Party::Claimant => {
			let canonical = inference::canonical_output(file.hash, &file.uri, input)?;
			let outputs: BoundedVec<LeafWitness, _> =
				BoundedVec::try_from(canonical.outputs).map_err(|_| InferenceError::BadPosition)?;
			once::<T>(id, Move::Respond, 0, now, || {
				send::<T>(
					key,
					Call::respond { dispute: id, trace_root: canonical.trace_root, outputs },
				)
			});
		},
		Phase::Bisection { level, position, claimant_move, challenger_move, .. } => {
			let moved = match party {
				Party::Claimant => claimant_move.is_some(),
				Party::Challenger => challenger_move.is_some(),
			};
			if moved {
				return Ok(());
			}
			let second = |leaf, query| {
				inference::second_level(file.hash, &file.uri, input.clone(), leaf, query)?
					.children()
					.ok_or(InferenceError::BadPosition)
			};
			let (left, right) = match level {
				Level::Trace => {
					inference::trace_children(file.hash, &file.uri, input.clone(), position)?
				},
				Level::Tiles { inside } => second(inside.leaf, Query::ChunkChildren(position))?,
				Level::Segments { inside, tile, .. } => second(
					inside.leaf,
					Query::StateChildren { geometry: inside.geometry, tile, position },
				)?,
			};
			let round = position.depth;
			once::<T>(id, Move::Bisect, level.move_key(position), now, || {
				send::<T>(key, Call::bisect { dispute: id, round, left, right })
			});
		},
		// Owed by the claimant, but anyone may post it: an honest trace wins it. A node
		// heavier than one sub-step is settled inside, by the second level.
		Phase::AwaitingOneStep { leaf, .. } => {
			let query = Query::Cut;
			let cut =
				match inference::second_level(file.hash, &file.uri, input.clone(), leaf, query) {
					Ok(Answer::Cut(w)) => {
						w.geometry(&T::SubStepLimits::get()).ok().map(|g| (w, g.substeps()))
					},
					_ => None,
				};
			match cut {
				Some((witness, substeps)) if substeps > 1 => {
					once::<T>(id, Move::Cut, leaf, now, || {
						send::<T>(key, Call::cut { dispute: id, witness })
					});
				},
				_ => {
					let witness = inference::one_step(file.hash, &file.uri, input, leaf)?;
					once::<T>(id, Move::OneStep, leaf, now, || {
						send::<T>(key, Call::one_step { dispute: id, witness })
					});
				},
			}
		},
		Phase::Revealing { what, claimant, challenger } => {
			let moved = match party {
				Party::Claimant => claimant.is_some(),
				Party::Challenger => challenger.is_some(),
			};
			if moved {
				return Ok(());
			}
			let (leaf, query, round) = match what {
				Reveal::DataRoots { inside, .. } => (inside.leaf, Query::DataRoot, 0),
				Reveal::StateRoots { inside, tile, .. } => (
					inside.leaf,
					Query::StateRoot { geometry: inside.geometry, tile },
					tile.saturating_add(1),
				),
			};
			let revealed = match inference::second_level(file.hash, &file.uri, input, leaf, query)?
			{
				Answer::DataRoot { header, data_root } => Revealed::DataRoot { header, data_root },
				Answer::StateRoot { root, last } => Revealed::StateRoot { root, last },
				_ => return Err(InferenceError::BadPosition),
			};
			once::<T>(id, Move::Reveal, round, now, || {
				send::<T>(key, Call::reveal { dispute: id, revealed })
			});
		},
		// Owed by the claimant, but anyone may post it, as the one-step.
		Phase::AwaitingSubStep { inside, tile, segment, .. } => {
			let query =
				Query::SubStep { geometry: inside.geometry, limits: inside.limits, tile, segment };
			let Answer::SubStep { witness, state } =
				inference::second_level(file.hash, &file.uri, input, inside.leaf, query)?
			else {
				return Err(InferenceError::BadPosition);
			};
			once::<T>(id, Move::SubStep, inside.leaf, now, || {
				send::<T>(key, Call::sub_step { dispute: id, witness, state })
			});
		},
		Phase::AwaitingResponse | Phase::Resolved(_) => {},
	}
	Ok(())
}
