//! Transactions of the validators' checker keys, with nonces that account for the pool.
//!
//! A checker account sends from several off-chain workers: model votes (this pallet), dispute
//! openings and moves (pallet-disputes), in the worker of every imported block. frame-system's
//! `Signer` signs with the account's nonce in the state of the block the worker runs on, so a
//! transaction sent in block `N`'s worker and still in the pool gets its nonce reused in block
//! `N + 1`'s: the second one is refused, or replaces the first, which then never reaches the
//! chain. [`send_signed`] instead reserves the next nonce in the node's offchain storage (the
//! larger of the state's and one past the last it handed out), so consecutive workers chain
//! their transactions in the pool. If the state's nonce stays behind the reserved one for
//! [`STALE_AFTER`] blocks, a transaction in between was dropped, and the reservation starts
//! again from the state's nonce (the dropped transaction's sender sends it again).

use codec::{Decode, Encode};
use frame_system::{
	offchain::{AppCrypto, CreateSignedTransaction, SendSignedTransaction, Signer},
	pallet_prelude::BlockNumberFor,
};
use sp_runtime::{
	offchain::storage::{MutateStorageError, StorageValueRef},
	traits::{IdentifyAccount, Saturating},
};

/// Blocks after which a nonce the state has not reached is given out again.
pub const STALE_AFTER: u32 = 10;

/// What the node remembers of an account's nonces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct NonceState<Nonce, BlockNumber> {
	/// The next nonce to hand out.
	pub next: Nonce,
	/// The state's nonce when it last changed.
	pub chain: Nonce,
	/// The block at which the state's nonce was `chain` first.
	pub since: BlockNumber,
}

fn nonce_key<AccountId: Encode>(who: &AccountId) -> alloc::vec::Vec<u8> {
	(b"edgeproof/checker/nonce/", who).encode()
}

/// The nonce to use next for `who`, given the node's record and the state's nonce `chain` at
/// block `now`, and the record to keep once it is used.
pub fn next_nonce<Nonce, BlockNumber>(
	stored: Option<NonceState<Nonce, BlockNumber>>,
	chain: Nonce,
	now: BlockNumber,
) -> (Nonce, NonceState<Nonce, BlockNumber>)
where
	Nonce: Copy + Ord + sp_runtime::traits::One + Saturating,
	BlockNumber: Copy + Ord + Saturating + From<u32>,
{
	let (mut next, mut since) = match stored {
		Some(s) if s.chain == chain => (s.next, s.since),
		// The state moved on (or first use): what was handed out stays reserved.
		Some(s) => (s.next, now),
		None => (chain, now),
	};
	if next > chain && now >= since.saturating_add(STALE_AFTER.into()) {
		// The state has not reached a nonce handed out long ago: that transaction is gone.
		// Start again from the state's nonce, and give the new one as long to arrive.
		next = chain;
		since = now;
	}
	let use_nonce = next.max(chain);
	let kept = NonceState { next: use_nonce.saturating_add(Nonce::one()), chain, since };
	(use_nonce, kept)
}

/// Signs `call` with the checker key `public` and hands it to the pool with the account's
/// pool-aware next nonce (see the module docs); whether the pool took it.
pub fn send_signed<T, C, LocalCall>(public: T::Public, call: LocalCall) -> bool
where
	T: CreateSignedTransaction<LocalCall>,
	C: AppCrypto<T::Public, T::Signature>,
	LocalCall: Clone,
{
	let who = public.clone().into_account();
	let now = frame_system::Pallet::<T>::block_number();
	let chain = frame_system::Pallet::<T>::account_nonce(&who);
	let key = nonce_key(&who);
	let storage = StorageValueRef::persistent(&key);
	// Reserve atomically: overlapping workers of consecutive blocks get different nonces.
	let reserved = storage.mutate::<NonceState<T::Nonce, BlockNumberFor<T>>, (), _>(|stored| {
		Ok(next_nonce(stored.ok().flatten(), chain, now).1)
	});
	let nonce = match reserved {
		Ok(state) => state.next.saturating_sub(sp_runtime::traits::One::one()),
		Err(MutateStorageError::ConcurrentModification(_))
		| Err(MutateStorageError::ValueFunctionFailed(())) => {
			log::debug!(target: crate::LOG_TARGET, "checker nonce of {who:?} busy; not sent");
			return false;
		},
	};
	// The worker's state is never persisted: setting the nonce here only tells `Signer` which
	// one to sign with.
	frame_system::Account::<T>::mutate(&who, |account| account.nonce = nonce);
	let results = Signer::<T, C>::all_accounts()
		.with_filter(alloc::vec![public])
		.send_signed_transaction(|_| call.clone());
	let sent = results.iter().any(|(_, result)| result.is_ok());
	if !sent {
		// Give the nonce back unless another worker reserved one after it meanwhile.
		let _ =
			storage.mutate::<NonceState<T::Nonce, BlockNumberFor<T>>, (), _>(|stored| match stored
				.ok()
				.flatten()
			{
				Some(mut s) if s.next == nonce.saturating_add(sp_runtime::traits::One::one()) => {
					s.next = nonce;
					Ok(s)
				},
				_ => Err(()),
			});
	}
	sent
}

#[cfg(test)]
mod tests {
	use super::*;

	type State = NonceState<u64, u64>;

	#[test]
	fn a_fresh_account_starts_at_the_state_nonce() {
		assert_eq!(
			next_nonce::<u64, u64>(None, 7, 100),
			(7, State { next: 8, chain: 7, since: 100 })
		);
	}

	#[test]
	fn consecutive_workers_chain_their_nonces_while_the_pool_holds_them() {
		let (first, kept) = next_nonce::<u64, u64>(None, 7, 100);
		let (second, kept) = next_nonce(Some(kept), 7, 101);
		let (third, _) = next_nonce(Some(kept), 7, 101);
		assert_eq!((first, second, third), (7, 8, 9));
	}

	#[test]
	fn the_state_catching_up_keeps_the_reservations_ahead_of_it() {
		let kept = State { next: 10, chain: 7, since: 100 };
		// Two of three included: the third (9) is still in the pool.
		assert_eq!(next_nonce(Some(kept), 9, 103), (10, State { next: 11, chain: 9, since: 103 }));
		// All included.
		assert_eq!(
			next_nonce(Some(kept), 12, 103),
			(12, State { next: 13, chain: 12, since: 103 })
		);
	}

	#[test]
	fn a_reservation_the_state_never_reaches_is_given_out_again() {
		let kept = State { next: 10, chain: 7, since: 100 };
		assert_eq!(next_nonce(Some(kept), 7, 109).0, 10, "still waiting for the pool");
		let (again, kept) = next_nonce(Some(kept), 7, 110);
		assert_eq!((again, kept), (7, State { next: 8, chain: 7, since: 110 }));
		// The nonce given out again is reserved like any other.
		assert_eq!(next_nonce(Some(kept), 7, 111).0, 8);
	}
}
