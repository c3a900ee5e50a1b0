//! Weights of `pallet-disputes`.
//!
//! PROVISIONAL: placeholders with the right shape until `scripts/benchmark.sh pallet_disputes`
//! regenerates this file from the benchmarks in `benchmarking.rs`.

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, Weight},
};

/// Weight functions needed for `pallet_disputes`.
pub trait WeightInfo {
	/// `open` with `b` bytes of output witnesses.
	fn open(b: u32) -> Weight;
	/// `respond` with `b` bytes of output witnesses.
	fn respond(b: u32) -> Weight;
	/// A bisection move that does not end the game.
	fn bisect() -> Weight;
	/// A one-step on a transcendental elementwise operator doing `w` units of work
	/// (`WORK_UNIT` operator work each), without the settlement.
	fn one_step(w: u32) -> Weight;
	/// A one-step on a matrix product doing `w` units of work (4 witness bytes per unit).
	fn one_step_matmul(w: u32) -> Weight;
	/// A timeout, without the settlement.
	fn timeout() -> Weight;
	/// A settlement that invalidates the claim and closes `n` other disputes on it.
	fn settle(n: u32) -> Weight;
	fn set_clock() -> Weight;
}

/// Weights for `pallet_disputes` using the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn open(b: u32) -> Weight {
		Weight::from_parts(150_000_000, 20_000)
			.saturating_add(Weight::from_parts(20_000, 1).saturating_mul(b.into()))
			.saturating_add(T::DbWeight::get().reads_writes(8, 6))
	}
	fn respond(b: u32) -> Weight {
		Weight::from_parts(150_000_000, 20_000)
			.saturating_add(Weight::from_parts(20_000, 1).saturating_mul(b.into()))
			.saturating_add(T::DbWeight::get().reads_writes(4, 1))
	}
	fn bisect() -> Weight {
		Weight::from_parts(100_000_000, 20_000)
			.saturating_add(T::DbWeight::get().reads_writes(4, 1))
	}
	fn one_step(w: u32) -> Weight {
		Weight::from_parts(100_000_000, 20_000)
			.saturating_add(Weight::from_parts(40_000_000, 2_048).saturating_mul(w.into()))
			.saturating_add(T::DbWeight::get().reads_writes(4, 1))
	}
	fn one_step_matmul(w: u32) -> Weight {
		Weight::from_parts(100_000_000, 20_000)
			.saturating_add(Weight::from_parts(40_000_000, 4_096).saturating_mul(w.into()))
			.saturating_add(T::DbWeight::get().reads_writes(4, 1))
	}
	fn timeout() -> Weight {
		Weight::from_parts(30_000_000, 5_000).saturating_add(T::DbWeight::get().reads_writes(1, 1))
	}
	fn settle(n: u32) -> Weight {
		Weight::from_parts(120_000_000, 80_000)
			.saturating_add(Weight::from_parts(40_000_000, 5_000).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads_writes(10, 10))
			.saturating_add(T::DbWeight::get().reads_writes(3, 3).saturating_mul(n.into()))
	}
	fn set_clock() -> Weight {
		Weight::from_parts(10_000_000, 0).saturating_add(T::DbWeight::get().writes(1))
	}
}

impl WeightInfo for () {
	fn open(b: u32) -> Weight {
		Weight::from_parts(150_000_000, 20_000)
			.saturating_add(Weight::from_parts(20_000, 1).saturating_mul(b.into()))
			.saturating_add(RocksDbWeight::get().reads_writes(8, 6))
	}
	fn respond(b: u32) -> Weight {
		Weight::from_parts(150_000_000, 20_000)
			.saturating_add(Weight::from_parts(20_000, 1).saturating_mul(b.into()))
			.saturating_add(RocksDbWeight::get().reads_writes(4, 1))
	}
	fn bisect() -> Weight {
		Weight::from_parts(100_000_000, 20_000)
			.saturating_add(RocksDbWeight::get().reads_writes(4, 1))
	}
	fn one_step(w: u32) -> Weight {
		Weight::from_parts(100_000_000, 20_000)
			.saturating_add(Weight::from_parts(40_000_000, 2_048).saturating_mul(w.into()))
			.saturating_add(RocksDbWeight::get().reads_writes(4, 1))
	}
	fn one_step_matmul(w: u32) -> Weight {
		Weight::from_parts(100_000_000, 20_000)
			.saturating_add(Weight::from_parts(40_000_000, 4_096).saturating_mul(w.into()))
			.saturating_add(RocksDbWeight::get().reads_writes(4, 1))
	}
	fn timeout() -> Weight {
		Weight::from_parts(30_000_000, 5_000)
			.saturating_add(RocksDbWeight::get().reads_writes(1, 1))
	}
	fn settle(n: u32) -> Weight {
		Weight::from_parts(120_000_000, 80_000)
			.saturating_add(Weight::from_parts(40_000_000, 5_000).saturating_mul(n.into()))
			.saturating_add(RocksDbWeight::get().reads_writes(10, 10))
			.saturating_add(RocksDbWeight::get().reads_writes(3, 3).saturating_mul(n.into()))
	}
	fn set_clock() -> Weight {
		Weight::from_parts(10_000_000, 0).saturating_add(RocksDbWeight::get().writes(1))
	}
}
