//! Weights of `pallet-devices`.
//!
//! PROVISIONAL: placeholders with the right shape until `scripts/benchmark.sh pallet-devices`
//! regenerates this file from the benchmarks in `benchmarking.rs`.

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{traits::Get, weights::{constants::RocksDbWeight, Weight}};

/// Weight functions needed for `pallet_devices`.
pub trait WeightInfo {
	fn register_device() -> Weight;
	fn rotate_key() -> Weight;
	fn suspend() -> Weight;
	fn resume() -> Weight;
	fn force_resume() -> Weight;
	fn deregister() -> Weight;
	fn withdraw_stake() -> Weight;
}

/// Weights for `pallet_devices` using the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn register_device() -> Weight {
		Weight::from_parts(60_000_000, 6_000).saturating_add(T::DbWeight::get().reads_writes(4, 4))
	}
	fn rotate_key() -> Weight {
		Weight::from_parts(90_000_000, 6_000).saturating_add(T::DbWeight::get().reads_writes(3, 2))
	}
	fn suspend() -> Weight {
		Weight::from_parts(20_000_000, 4_000).saturating_add(T::DbWeight::get().reads_writes(1, 1))
	}
	fn resume() -> Weight {
		Weight::from_parts(20_000_000, 4_000).saturating_add(T::DbWeight::get().reads_writes(1, 1))
	}
	fn force_resume() -> Weight {
		Weight::from_parts(20_000_000, 4_000).saturating_add(T::DbWeight::get().reads_writes(1, 1))
	}
	fn deregister() -> Weight {
		Weight::from_parts(20_000_000, 4_000).saturating_add(T::DbWeight::get().reads_writes(1, 1))
	}
	fn withdraw_stake() -> Weight {
		Weight::from_parts(60_000_000, 8_000).saturating_add(T::DbWeight::get().reads_writes(4, 5))
	}
}

impl WeightInfo for () {
	fn register_device() -> Weight {
		Weight::from_parts(60_000_000, 6_000).saturating_add(RocksDbWeight::get().reads_writes(4, 4))
	}
	fn rotate_key() -> Weight {
		Weight::from_parts(90_000_000, 6_000).saturating_add(RocksDbWeight::get().reads_writes(3, 2))
	}
	fn suspend() -> Weight {
		Weight::from_parts(20_000_000, 4_000).saturating_add(RocksDbWeight::get().reads_writes(1, 1))
	}
	fn resume() -> Weight {
		Weight::from_parts(20_000_000, 4_000).saturating_add(RocksDbWeight::get().reads_writes(1, 1))
	}
	fn force_resume() -> Weight {
		Weight::from_parts(20_000_000, 4_000).saturating_add(RocksDbWeight::get().reads_writes(1, 1))
	}
	fn deregister() -> Weight {
		Weight::from_parts(20_000_000, 4_000).saturating_add(RocksDbWeight::get().reads_writes(1, 1))
	}
	fn withdraw_stake() -> Weight {
		Weight::from_parts(60_000_000, 8_000).saturating_add(RocksDbWeight::get().reads_writes(4, 5))
	}
}
