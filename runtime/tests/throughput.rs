//! The runtime's claim queues keep up with full blocks of claims, and a claim with both
//! payloads at their bound fits in a block (docs/benchmarks.md, "Attested outputs under load").

use edgeproof_runtime::Runtime;
use frame_support::{dispatch::DispatchClass, traits::Get, weights::Weight};
use pallet_attestations::WeightInfo;

type Attestations = <Runtime as pallet_attestations::Config>::WeightInfo;

/// The most `submit`s a block's normal class holds: the lightest claim (16-byte payloads)
/// with the extrinsic base weight, against the class's total.
fn most_claims_per_block() -> u64 {
	let weights = <Runtime as frame_system::Config>::BlockWeights::get();
	let normal = weights.get(DispatchClass::Normal);
	let claim = Attestations::submit(16, 16).saturating_add(normal.base_extrinsic);
	let total = normal.max_total.expect("normal extrinsics are bounded");
	total.ref_time() / claim.ref_time()
}

#[test]
fn the_expiry_and_prune_queues_keep_up_with_full_blocks_of_claims() {
	let most = most_claims_per_block();
	// The fixture MLP's claims, measured: 1386 in a full block (docs/benchmarks.md).
	assert!(most >= 1386, "{most}");
	let expiries = <Runtime as pallet_attestations::Config>::MaxExpiriesPerBlock::get();
	let prunes = <Runtime as pallet_attestations::Config>::MaxPrunesPerBlock::get();
	assert!(u64::from(expiries) >= most, "{expiries} expiries per block < {most} claims");
	assert!(u64::from(prunes) >= most, "{prunes} prunes per block < {most} claims");
	// Finalising and later pruning a full block of claims takes under a third of a block.
	let n = most as u32;
	let hook: Weight = Attestations::expire_claims(n).saturating_add(Attestations::prune_claims(n));
	let max = <Runtime as frame_system::Config>::BlockWeights::get().max_block;
	assert!(hook.ref_time() * 3 <= max.ref_time(), "{hook:?} of {max:?}");
}

#[test]
fn a_claim_with_both_payloads_at_the_bound_fits_in_a_block() {
	let payload = <Runtime as pallet_attestations::Config>::MaxPayloadLen::get();
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
