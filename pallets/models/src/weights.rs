//! Weights of `pallet-models`.
//!
//! PROVISIONAL: these numbers are placeholders with the right shape until
//! `scripts/benchmark.sh pallet-models` regenerates this file from the benchmarks in
//! `benchmarking.rs`; each is one storage-heavy call's order of magnitude.

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{traits::Get, weights::{constants::RocksDbWeight, Weight}};

/// Weight functions needed for `pallet_models`.
pub trait WeightInfo {
	fn register_model() -> Weight;
	fn activate() -> Weight;
	fn reject() -> Weight;
	fn vote() -> Weight;
	fn vote_and_decide() -> Weight;
	fn deprecate() -> Weight;
	fn retire() -> Weight;
	fn set_uri() -> Weight;
}

/// Weights for `pallet_models` using the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn register_model() -> Weight {
		Weight::from_parts(60_000_000, 8_000).saturating_add(T::DbWeight::get().reads_writes(4, 4))
	}
	fn activate() -> Weight {
		Weight::from_parts(20_000_000, 4_000).saturating_add(T::DbWeight::get().reads_writes(1, 2))
	}
	fn reject() -> Weight {
		Weight::from_parts(45_000_000, 6_000).saturating_add(T::DbWeight::get().reads_writes(3, 4))
	}
	fn vote() -> Weight {
		Weight::from_parts(30_000_000, 6_000).saturating_add(T::DbWeight::get().reads_writes(2, 1))
	}
	fn vote_and_decide() -> Weight {
		Weight::from_parts(60_000_000, 8_000).saturating_add(T::DbWeight::get().reads_writes(4, 4))
	}
	fn deprecate() -> Weight {
		Weight::from_parts(20_000_000, 4_000).saturating_add(T::DbWeight::get().reads_writes(1, 1))
	}
	fn retire() -> Weight {
		Weight::from_parts(40_000_000, 6_000).saturating_add(T::DbWeight::get().reads_writes(3, 3))
	}
	fn set_uri() -> Weight {
		Weight::from_parts(40_000_000, 6_000).saturating_add(T::DbWeight::get().reads_writes(3, 3))
	}
}

impl WeightInfo for () {
	fn register_model() -> Weight {
		Weight::from_parts(60_000_000, 8_000).saturating_add(RocksDbWeight::get().reads_writes(4, 4))
	}
	fn activate() -> Weight {
		Weight::from_parts(20_000_000, 4_000).saturating_add(RocksDbWeight::get().reads_writes(1, 2))
	}
	fn reject() -> Weight {
		Weight::from_parts(45_000_000, 6_000).saturating_add(RocksDbWeight::get().reads_writes(3, 4))
	}
	fn vote() -> Weight {
		Weight::from_parts(30_000_000, 6_000).saturating_add(RocksDbWeight::get().reads_writes(2, 1))
	}
	fn vote_and_decide() -> Weight {
		Weight::from_parts(60_000_000, 8_000).saturating_add(RocksDbWeight::get().reads_writes(4, 4))
	}
	fn deprecate() -> Weight {
		Weight::from_parts(20_000_000, 4_000).saturating_add(RocksDbWeight::get().reads_writes(1, 1))
	}
	fn retire() -> Weight {
		Weight::from_parts(40_000_000, 6_000).saturating_add(RocksDbWeight::get().reads_writes(3, 3))
	}
	fn set_uri() -> Weight {
		Weight::from_parts(40_000_000, 6_000).saturating_add(RocksDbWeight::get().reads_writes(3, 3))
	}
}
