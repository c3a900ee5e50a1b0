//! Weights of `pallet-attestations`.
//!
//! PROVISIONAL: placeholders with the right shape until `scripts/benchmark.sh pallet_attestations`
//! regenerates this file from the benchmarks in `benchmarking.rs` (the benchmark CLI needs the
//! pallet in the runtime).

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, Weight},
};

/// Weight functions needed for `pallet_attestations`.
pub trait WeightInfo {
	fn submit(i: u32, o: u32) -> Weight;
	fn expire_claims(n: u32) -> Weight;
	fn prune_claims(n: u32) -> Weight;
	fn note_dispute_opened() -> Weight;
	fn note_dispute_lost() -> Weight;
	fn note_dispute_won() -> Weight;
	fn set_parameters() -> Weight;
	fn set_checkers(n: u32) -> Weight;
}

/// Weights for `pallet_attestations` using the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn submit(i: u32, o: u32) -> Weight {
		Weight::from_parts(120_000_000, 8_000)
			.saturating_add(Weight::from_parts(6_000, 1).saturating_mul(i.saturating_add(o).into()))
			.saturating_add(T::DbWeight::get().reads_writes(7, 6))
	}
	fn expire_claims(n: u32) -> Weight {
		Weight::from_parts(5_000_000, 1_500)
			.saturating_add(Weight::from_parts(45_000_000, 70_000).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(3))
			.saturating_add(T::DbWeight::get().reads_writes(5, 7).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().writes(1))
	}
	fn prune_claims(n: u32) -> Weight {
		Weight::from_parts(5_000_000, 1_500)
			.saturating_add(Weight::from_parts(15_000_000, 3_000).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(3))
			.saturating_add(T::DbWeight::get().reads_writes(2, 2).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().writes(1))
	}
	fn note_dispute_opened() -> Weight {
		Weight::from_parts(15_000_000, 3_000).saturating_add(T::DbWeight::get().reads_writes(1, 1))
	}
	fn note_dispute_lost() -> Weight {
		Weight::from_parts(90_000_000, 70_000).saturating_add(T::DbWeight::get().reads_writes(8, 9))
	}
	fn note_dispute_won() -> Weight {
		Weight::from_parts(60_000_000, 70_000).saturating_add(T::DbWeight::get().reads_writes(6, 8))
	}
	fn set_parameters() -> Weight {
		Weight::from_parts(10_000_000, 0).saturating_add(T::DbWeight::get().writes(1))
	}
	fn set_checkers(n: u32) -> Weight {
		Weight::from_parts(10_000_000, 0)
			.saturating_add(Weight::from_parts(100_000, 0).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().writes(1))
	}
}

impl WeightInfo for () {
	fn submit(i: u32, o: u32) -> Weight {
		Weight::from_parts(120_000_000, 8_000)
			.saturating_add(Weight::from_parts(6_000, 1).saturating_mul(i.saturating_add(o).into()))
			.saturating_add(RocksDbWeight::get().reads_writes(7, 6))
	}
	fn expire_claims(n: u32) -> Weight {
		Weight::from_parts(5_000_000, 1_500)
			.saturating_add(Weight::from_parts(45_000_000, 70_000).saturating_mul(n.into()))
			.saturating_add(RocksDbWeight::get().reads(3))
			.saturating_add(RocksDbWeight::get().reads_writes(5, 7).saturating_mul(n.into()))
			.saturating_add(RocksDbWeight::get().writes(1))
	}
	fn prune_claims(n: u32) -> Weight {
		Weight::from_parts(5_000_000, 1_500)
			.saturating_add(Weight::from_parts(15_000_000, 3_000).saturating_mul(n.into()))
			.saturating_add(RocksDbWeight::get().reads(3))
			.saturating_add(RocksDbWeight::get().reads_writes(2, 2).saturating_mul(n.into()))
			.saturating_add(RocksDbWeight::get().writes(1))
	}
	fn note_dispute_opened() -> Weight {
		Weight::from_parts(15_000_000, 3_000)
			.saturating_add(RocksDbWeight::get().reads_writes(1, 1))
	}
	fn note_dispute_lost() -> Weight {
		Weight::from_parts(90_000_000, 70_000)
			.saturating_add(RocksDbWeight::get().reads_writes(8, 9))
	}
	fn note_dispute_won() -> Weight {
		Weight::from_parts(60_000_000, 70_000)
			.saturating_add(RocksDbWeight::get().reads_writes(6, 8))
	}
	fn set_parameters() -> Weight {
		Weight::from_parts(10_000_000, 0).saturating_add(RocksDbWeight::get().writes(1))
	}
	fn set_checkers(n: u32) -> Weight {
		Weight::from_parts(10_000_000, 0)
			.saturating_add(Weight::from_parts(100_000, 0).saturating_mul(n.into()))
			.saturating_add(RocksDbWeight::get().writes(1))
	}
}
