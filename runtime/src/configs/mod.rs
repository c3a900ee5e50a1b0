//! `Config` implementations, one module per pallet group (system, consensus, money, Edgeproof).

pub mod consensus;
mod edgeproof;
mod money;
mod system;

pub use edgeproof::DisputeLimits;
pub use system::RuntimeBlockWeights;
