//! The checker key: what validators' off-chain workers sign their transactions with.
//!
//! A dedicated key type ([`KEY_TYPE`], `echk`) in the node's keystore, ed25519. Checker keys
//! vote on pending models (pallet-models) and check claims (pallet-attestations); they pay
//! their transaction fees like any account, so a checker key's account must hold funds. The
//! runtime's session keys include it, so `--alice` (and `author_rotateKeys`) create one.
//!
//! Ed25519 rather than sr25519 keeps a validator's checker account apart from the account of
//! its sr25519 keys derived from the same seed (`//Alice` sr25519 is Alice's everyday account):
//! the worker's transactions then never compete with its operator's for nonces.

use sp_core::crypto::KeyTypeId;

/// The key type of checker keys in the keystore.
pub const KEY_TYPE: KeyTypeId = KeyTypeId(*b"echk");

/// The checker key's application crypto (ed25519 under [`KEY_TYPE`]).
pub mod app {
	use sp_application_crypto::{app_crypto, ed25519};
	app_crypto!(ed25519, super::KEY_TYPE);
}

/// A checker's public key.
pub type CheckerId = app::Public;
