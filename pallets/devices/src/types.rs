//! Types stored by the device registry, and the exact bytes device keys sign.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	traits::Get, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use scale_info::TypeInfo;
use sp_core::{ed25519, sr25519};

/// Domain tag of the bind proof: the first 14 bytes a device key signs to bind itself to an
/// operator account.
pub const BIND_DOMAIN: [u8; 14] = *b"edgeproof/bind";

/// Domain tag of a key rotation: the first 16 bytes both keys sign.
pub const ROTATE_DOMAIN: [u8; 16] = *b"edgeproof/rotate";

/// A device's public key. The variant indices are those of `sp_runtime::MultiSigner`.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum DeviceKey {
	/// An ed25519 public key.
	#[codec(index = 0)]
	Ed25519(ed25519::Public),
	/// An sr25519 public key.
	#[codec(index = 1)]
	Sr25519(sr25519::Public),
}

/// A signature by a device key. The variant indices are those of `sp_runtime::MultiSignature`.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub enum DeviceSignature {
	/// An ed25519 signature.
	#[codec(index = 0)]
	Ed25519(ed25519::Signature),
	/// An sr25519 signature.
	#[codec(index = 1)]
	Sr25519(sr25519::Signature),
}

impl DeviceKey {
	/// Does `signature` sign `message` with this key? A signature of the other scheme never
	/// verifies.
	pub fn verify(&self, message: &[u8], signature: &DeviceSignature) -> bool {
		match (self, signature) {
			(Self::Ed25519(key), DeviceSignature::Ed25519(sig)) => {
				sp_io::crypto::ed25519_verify(sig, message, key)
			},
			(Self::Sr25519(key), DeviceSignature::Sr25519(sig)) => {
				sp_io::crypto::sr25519_verify(sig, message, key)
			},
			_ => false,
		}
	}
}

/// The message a device key signs to bind itself to `operator` on the chain with
/// `genesis_hash`: `BIND_DOMAIN ++ genesis_hash ++ SCALE(operator) ++ nonce as u32 LE`
/// (14 + 32 + 32 + 4 bytes for 32-byte hashes and accounts).
///
/// `nonce` is the key's registration nonce ([`KeyHistory::next_nonce`]: 0 for a key that never
/// registered), so a bind proof is good for one registration only and cannot be replayed after
/// the device left.
pub fn bind_message<Hash: Encode, AccountId: Encode>(
	genesis_hash: &Hash,
	operator: &AccountId,
	nonce: u32,
) -> Vec<u8> {
	(BIND_DOMAIN, genesis_hash, operator, nonce).encode()
}

/// The message the old and the new key both sign to rotate `device` to `new_key`:
/// `ROTATE_DOMAIN ++ genesis_hash ++ SCALE(device) ++ registration as u32 LE ++
/// SCALE(new_key)`, where `registration` is the device's registration nonce
/// ([`DeviceRecord::registration`]): the signatures are good for this registration only.
pub fn rotate_message<Hash: Encode>(
	genesis_hash: &Hash,
	device: &DeviceKey,
	registration: u32,
	new_key: &DeviceKey,
) -> Vec<u8> {
	(ROTATE_DOMAIN, genesis_hash, device, registration, new_key).encode()
}

/// What kind of hardware a device is (informational).
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum HardwareClass {
	#[codec(index = 0)]
	Phone,
	#[codec(index = 1)]
	Laptop,
	#[codec(index = 2)]
	Desktop,
	#[codec(index = 3)]
	Embedded,
	#[codec(index = 4)]
	Robot,
	#[codec(index = 5)]
	Server,
	#[codec(index = 6)]
	Other,
}

/// What an operator says about a device.
#[derive(
	CloneNoBound,
	DebugNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
#[scale_info(skip_type_params(MaxDescription))]
pub struct DeviceMetadata<MaxDescription: Get<u32>> {
	/// The kind of hardware.
	pub hardware: HardwareClass,
	/// Free text (UTF-8), e.g. the model of phone and the runtime used.
	pub description: BoundedVec<u8, MaxDescription>,
}

/// Why a device is suspended.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum SuspensionReason {
	/// Its operator paused it; the operator may resume it.
	#[codec(index = 0)]
	Operator,
	/// It lost `MaxLostDisputes` disputes; only the admin origin may resume it.
	#[codec(index = 1)]
	LostDisputes,
}

/// Where a device is in its life.
///
/// ```text
/// Active ⇄ Suspended(Operator)          (suspend / resume)
/// Active → Suspended(LostDisputes)      (automatic; force_resume by the admin origin)
/// Active | Suspended → Unbonding{until} (deregister) → removed (withdraw_stake after `until`)
/// ```
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum DeviceStatus<BlockNumber> {
	/// May submit claims.
	#[codec(index = 0)]
	Active,
	/// May not submit claims.
	#[codec(index = 1)]
	Suspended(SuspensionReason),
	/// Deregistered; the stake stays held (and slashable) until `until`.
	#[codec(index = 2)]
	Unbonding { until: BlockNumber },
}

/// A device's track record.
#[derive(
	Clone,
	Copy,
	Debug,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Reputation {
	/// Claims that became final.
	pub claims_finalized: u32,
	/// Claims found wrong in a dispute (disputes lost as claimant).
	pub claims_lost: u32,
	/// Disputes won.
	pub disputes_won: u32,
}

/// Weight of one lost claim against one good outcome in the [`Reputation::score`].
pub const LOSS_WEIGHT: u64 = 10;

impl Reputation {
	/// Score in parts per million:
	/// `1_000_000 × good / (good + LOSS_WEIGHT × lost + 1)` where
	/// `good = claims_finalized + disputes_won` and `lost = claims_lost`.
	/// A new device scores 0; it approaches 1_000_000 with a clean record, and one loss
	/// weighs as much as ten good outcomes.
	pub fn score(&self) -> u32 {
		let good = self.claims_finalized as u64 + self.disputes_won as u64;
		let denominator = good + LOSS_WEIGHT * self.claims_lost as u64 + 1;
		(1_000_000 * good / denominator) as u32
	}
}

/// A registered device. `Metadata` and `PastKeys` are the runtime's bounded types.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct DeviceRecord<AccountId, Balance, BlockNumber, Metadata, PastKeys> {
	/// The account that registered the device, pays its bonds and gets its rewards.
	pub operator: AccountId,
	/// The key claims must be signed with now.
	pub key: DeviceKey,
	/// Keys rotated away from, oldest first; they stay reserved while the device exists.
	pub past_keys: PastKeys,
	/// Stake held from the operator.
	pub stake: Balance,
	/// Lifecycle status.
	pub status: DeviceStatus<BlockNumber>,
	/// Operator-supplied description.
	pub metadata: Metadata,
	/// Track record.
	pub reputation: Reputation,
	/// Block of registration.
	pub registered_at: BlockNumber,
	/// The registration nonce the bind proof signed (how often the id registered before).
	pub registration: u32,
}

/// What a key brings to its next registration. Written when a device is removed, for each of
/// its keys, and kept: a device that leaves does not come back with a clean record.
#[derive(
	Clone,
	Copy,
	Debug,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct KeyHistory {
	/// The nonce the next bind proof of this key must sign.
	pub next_nonce: u32,
	/// The record of the last device that used this key, when it was removed.
	pub reputation: Reputation,
}
