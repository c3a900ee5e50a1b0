//! The pallets `edgeproof-node benchmark pallet` measures (see `scripts/benchmark.sh`).

pub use frame_benchmarking::baseline::Pallet as Baseline;
pub use frame_system_benchmarking::Pallet as SystemBench;

pub use crate::*;

frame_benchmarking::define_benchmarks!(
	[frame_benchmarking, Baseline::<Runtime>]
	[frame_system, SystemBench::<Runtime>]
	[pallet_balances, Balances]
	[pallet_timestamp, Timestamp]
	[pallet_sudo, Sudo]
	[pallet_models, Models]
	[pallet_devices, Devices]
	[pallet_attestations, Attestations]
	[pallet_disputes, Disputes]
);
