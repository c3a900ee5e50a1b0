//! Types stored by the attestation pallet, and the exact bytes a device key signs for a claim.

use alloc::vec::Vec;
use codec::{Decode, DecodeAll, DecodeWithMemTracking, Encode, MaxEncodedLen};
use edgeproof_canon::Tensor;
use frame_support::{
	traits::Get, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use pallet_devices::DeviceId;
use pallet_models::ModelId;
use scale_info::TypeInfo;
use sp_core::H256;
use sp_runtime::Perbill;

/// A claim's number, counting up from 0 in submission order.
pub type ClaimId = u64;

/// Domain tag of a claim: the first 15 bytes a device key signs for a claim.
pub const CLAIM_DOMAIN: [u8; 15] = *b"edgeproof/claim";

/// Length of a [`claim_message`] for a 32-byte genesis hash and a 32-byte device key:
/// 15 + 32 + 33 + 32 + 32 + 32 + 8.
pub const CLAIM_MESSAGE_LEN: usize = 184;

/// The message a device key signs to claim that `device` ran `model` and got the output with
/// `output_hash` on the input with `input_hash`, on the chain with `genesis_hash`:
/// `CLAIM_DOMAIN ++ genesis_hash ++ SCALE(device) ++ model ++ input_hash ++ output_hash ++
/// nonce (u64 LE)`.
///
/// The device id is signed so that a key's signatures are good for one device only: a key
/// rotated away from one device and later used by another cannot replay its old claims there.
/// The hashes are blake2-256 of the payload bytes exactly as submitted (the SCALE encoding of
/// the `Vec<Tensor>`); see `docs/claim-format.md`.
pub fn claim_message<Hash: Encode>(
	genesis_hash: &Hash,
	device: &DeviceId,
	model: &ModelId,
	input_hash: &H256,
	output_hash: &H256,
	nonce: u64,
) -> Vec<u8> {
	(CLAIM_DOMAIN, genesis_hash, device, model, input_hash, output_hash, nonce).encode()
}

/// Decodes a payload: the SCALE encoding of a `Vec<Tensor>` with nothing after it. The memory
/// decoding takes is bounded by the payload's length.
pub fn decode_tensors(bytes: &[u8]) -> Option<Vec<Tensor>> {
	Vec::<Tensor>::decode_all(&mut &bytes[..]).ok()
}

/// Where a claim is in its life.
///
/// ```text
/// Pending ──dispute opened──▶ Disputed{open} ──claimant loses one──▶ Invalid
///   │  ▲                          │
///   │  └──last one won, period────┤
///   │      still running          └──last one won, period over──▶ Final
///   └──────────challenge period over (expiry queue)──────────────▶ Final
/// Final | Invalid ──RetentionPeriod later (prune queue)──▶ record removed
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
pub enum ClaimStatus {
	/// In its challenge period, no dispute open.
	#[codec(index = 0)]
	Pending,
	/// `open` disputes (at least one) are running about it.
	#[codec(index = 1)]
	Disputed { open: u32 },
	/// Unchallenged through its challenge period, or every dispute was won by the claimant:
	/// the bond was returned.
	#[codec(index = 2)]
	Final,
	/// A dispute showed the output wrong: the bond was slashed.
	#[codec(index = 3)]
	Invalid,
}

impl ClaimStatus {
	/// Is the claim still open (`Pending` or `Disputed`), with its bond held and payloads kept?
	pub fn is_undecided(&self) -> bool {
		matches!(self, Self::Pending | Self::Disputed { .. })
	}
}

/// A stored claim.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct ClaimRecord<AccountId, Balance, BlockNumber> {
	/// The device whose key signed the claim.
	pub device: DeviceId,
	/// The device's operator, who submitted the claim and whose bond is held.
	pub operator: AccountId,
	/// The model the device ran.
	pub model: ModelId,
	/// blake2-256 of the input payload bytes.
	pub input_hash: H256,
	/// blake2-256 of the output payload bytes.
	pub output_hash: H256,
	/// The device's nonce of this claim.
	pub nonce: u64,
	/// Held from the operator while the claim is undecided.
	pub bond: Balance,
	/// Block of submission.
	pub submitted_at: BlockNumber,
	/// First block in which the claim may no longer be disputed; the expiry queue finalises it
	/// from this block on.
	pub challenge_ends: BlockNumber,
	/// Lifecycle status.
	pub status: ClaimStatus,
}

/// The input and output payloads of an undecided claim, exactly as submitted: each the SCALE
/// encoding of a `Vec<Tensor>` in graph order.
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
#[scale_info(skip_type_params(MaxLen))]
pub struct ClaimPayload<MaxLen: Get<u32>> {
	/// The model inputs.
	pub input: BoundedVec<u8, MaxLen>,
	/// The claimed model outputs.
	pub output: BoundedVec<u8, MaxLen>,
}

/// What the dispute pallet needs to know about a claim (see [`crate::ClaimRegistry`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimInfo<AccountId, Balance, BlockNumber> {
	/// The stored record.
	pub record: ClaimRecord<AccountId, Balance, BlockNumber>,
	/// The decoded input tensors; `None` once the claim is decided (payloads are removed).
	pub inputs: Option<Vec<Tensor>>,
	/// The decoded claimed output tensors; `None` once the claim is decided.
	pub outputs: Option<Vec<Tensor>>,
}

/// What a resolved dispute moved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct Settlement<Balance> {
	/// Bond paid to the beneficiary.
	pub rewarded: Balance,
	/// Bond burned.
	pub burned: Balance,
	/// Device stake burned.
	pub stake_slashed: Balance,
}

/// The pallet's tunable parameters: genesis sets them, the admin origin changes them
/// ([`crate::Pallet::set_parameters`]).
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
pub struct Parameters<BlockNumber> {
	/// Blocks a new claim may be disputed in (at least 1, at most `MaxChallengePeriod`).
	/// A change applies to claims submitted afterwards.
	pub challenge_period: BlockNumber,
	/// Share of the pending claims each validator's checker re-runs (one = all).
	pub check_probability: Perbill,
}

/// What this node's checker found about a claim, kept in its offchain local storage under
/// [`crate::checker::outcome_key`] (SCALE-encoded).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum CheckOutcome {
	/// Not drawn under `check_probability`.
	#[codec(index = 0)]
	NotSampled,
	/// ONNX Runtime's output is within the model's tolerance of the claimed output.
	#[codec(index = 1)]
	Agrees,
	/// ONNX Runtime disagreed (or is missing here) but the canonical output is within the
	/// tolerance of the claim: the claim stands (a warning: ONNX Runtime drifted).
	#[codec(index = 2)]
	CanonicalAgrees,
	/// The canonical output is not within the tolerance of the claim: the claim is wrong.
	/// `disputed` tells whether a dispute of this node was seen running on chain
	/// ([`crate::WrongClaimHandler`]); until it is, the checker asks for one every block.
	#[codec(index = 3)]
	Wrong { trace_root: [u8; 32], disputed: bool },
	/// The claim could not be checked (the payload does not decode, the model is not
	/// compilable, ...): nothing more will be tried.
	#[codec(index = 4)]
	Failed(edgeproof_primitives::InferenceError),
}

impl CheckOutcome {
	/// The outcome without its data, as the node's metrics count it.
	pub fn verdict(&self) -> edgeproof_primitives::Verdict {
		use edgeproof_primitives::Verdict;
		match self {
			Self::NotSampled => Verdict::NotSampled,
			Self::Agrees => Verdict::Agrees,
			Self::CanonicalAgrees => Verdict::CanonicalAgrees,
			Self::Wrong { .. } => Verdict::Wrong,
			Self::Failed(_) => Verdict::Failed,
		}
	}
}
