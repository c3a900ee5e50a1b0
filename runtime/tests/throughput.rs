//! The runtime's claim queues keep up with full blocks of claims, and a claim with both
//! payloads at their bound fits in a block (docs/benchmarks.md, "Attested outputs under load").

use edgeproof_runtime::Runtime;
use frame_support::{dispatch::DispatchClass, traits::Get, weights::Weight};
use pallet_attestations::WeightInfo;

type Attestations = <Runtime as pallet_attestations::Config>::WeightInfo;

/// The lightest claim's weight (16-byte payloads, no P-256 signature) by the benchmarks, with
/// the extrinsic base weight: more claims than its quotient never fit a block. (The dispatch also
/// adds the device's attestation reads and the transaction extensions: a measured full block held
/// 1386 claims, docs/benchmarks.md.)
fn lightest_claim() -> Weight {
	let weights = <Runtime as frame_system::Config>::BlockWeights::get();
	Attestations::submit(16, 16).saturating_add(weights.get(DispatchClass::Normal).base_extrinsic)
}

/// What finalising and later pruning one more claim adds to those hooks.
fn expiry_and_prune_per_claim() -> Weight {
	let (a, b) = (1_000, 1_001);
	(Attestations::expire_claims(b) - Attestations::expire_claims(a))
		.saturating_add(Attestations::prune_claims(b) - Attestations::prune_claims(a))
}

#[test]
fn the_expiry_and_prune_queues_keep_up_with_full_blocks_of_claims() {
	let weights = <Runtime as frame_system::Config>::BlockWeights::get();
	let max = weights.max_block.ref_time();
	let normal = weights.get(DispatchClass::Normal).max_total.expect("bounded").ref_time();
	// A burst: the most claims one block's normal class holds.
	let burst = normal / lightest_claim().ref_time();
	// A flood: each claim's expiry and prune are charged to later blocks' hooks, which count
	// against the block's weight before its extrinsics, so at most this many claims a block
	// go in for ever.
	let sustained = max / (lightest_claim() + expiry_and_prune_per_claim()).ref_time();
	assert!(sustained < burst && burst >= 1386, "{sustained} {burst}");
	let expiries: u32 = <Runtime as pallet_attestations::Config>::MaxExpiriesPerBlock::get();
	let prunes: u32 = <Runtime as pallet_attestations::Config>::MaxPrunesPerBlock::get();
	// The queues pass a flood's claims as fast as they come (a burst block in two blocks).
	assert!(u64::from(expiries) >= sustained, "{expiries} expiries a block < {sustained} claims");
	assert!(u64::from(prunes) >= sustained, "{prunes} prunes a block < {sustained} claims");
	assert!(2 * u64::from(expiries.min(prunes)) >= burst, "{burst}");
	// At their budgets the two hooks leave more than half of a block to extrinsics.
	let hooks =
		Attestations::expire_claims(expiries).saturating_add(Attestations::prune_claims(prunes));
	assert!(hooks.ref_time() * 2 <= max, "{hooks:?} of {max}");
}

#[test]
fn a_claim_with_both_payloads_at_the_bound_fits_in_a_block() {
	let payload: u32 = <Runtime as pallet_attestations::Config>::MaxPayloadLen::get();
	// A 320×320 RGB frame in f32 and a detector's 700 KB output.
	assert!(payload >= 3 * 320 * 320 * 4 + 64, "{payload}");
	assert!(payload >= 700_000, "{payload}");
	let length = <Runtime as frame_system::Config>::BlockLength::get();
	let normal = *length.max.get(DispatchClass::Normal);
	assert!(2 * payload + 1024 <= normal, "{} > {normal}", 2 * payload + 1024);
	// Its weight, by the benchmarked slopes, is a few milliseconds of a 2 s block.
	let weight = Attestations::submit(payload, payload);
	let max = <Runtime as frame_system::Config>::BlockWeights::get().max_block;
	assert!(weight.ref_time() * 100 <= max.ref_time(), "{weight:?} of {max:?}");
}
