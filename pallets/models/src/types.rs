//! Types stored by the model registry.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use edgeproof_canon::{DType, Tolerance};
pub use edgeproof_primitives::KeyAssurance;
use frame_support::{
	traits::Get, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use scale_info::TypeInfo;
use sp_core::H256;

/// A registration's identity: [`model_id`] of its owner and parameters.
pub type ModelId = H256;

/// A model file's content address: blake2-256 of its ONNX bytes.
pub use edgeproof_primitives::FileHash;

/// The domain separator of [`model_id`].
pub const MODEL_ID_DOMAIN: [u8; 15] = *b"edgeproof/model";

/// The id of `owner`'s registration of `params`: blake2-256 of the SCALE encoding of
/// `(MODEL_ID_DOMAIN, file_hash, owner, inputs, outputs, tolerance)`.
///
/// Anyone may register any file, but only under an id of their own: the same file registered by
/// someone else, or with other tensor specs or another tolerance, is another model. So nobody
/// can take a public file's id first and lock its real owner out. The URI, name and version are
/// not part of it (the URI may move; name and version are labels, unique per family).
pub fn model_id<AccountId, MaxName, MaxUri, MaxTensors, MaxDims>(
	owner: &AccountId,
	params: &ModelParams<MaxName, MaxUri, MaxTensors, MaxDims>,
) -> ModelId
where
	AccountId: Encode,
	MaxName: Get<u32>,
	MaxUri: Get<u32>,
	MaxTensors: Get<u32>,
	MaxDims: Get<u32>,
{
	let preimage = (
		MODEL_ID_DOMAIN,
		params.file_hash,
		owner,
		&params.inputs,
		&params.outputs,
		params.tolerance,
	);
	<sp_runtime::traits::BlakeTwo256 as sp_runtime::traits::Hash>::hash_of(&preimage)
}

/// Where a model is in its life.
///
/// ```text
/// Pending ──activate / quorum of ayes──▶ Active ──deprecate──▶ Deprecated ──retire──▶ Retired
///    └──reject / quorum of nays / expiry──▶ Rejected
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
pub enum ModelStatus {
	/// Registered, waiting for validators to check the file and vote (or for the activation
	/// origin). Takes no claims.
	#[codec(index = 0)]
	Pending,
	/// Checked: the file has the registered hash, compiles to the registered program and is
	/// disputable. The only status that takes new claims.
	#[codec(index = 1)]
	Active,
	/// Superseded by its owner: takes no new claims; existing claims and disputes go on.
	#[codec(index = 2)]
	Deprecated,
	/// Closed by its owner; the deposit was returned. Kept so old claims can be explained.
	#[codec(index = 3)]
	Retired,
	/// Refused by the validators or the activation origin, or expired while pending.
	#[codec(index = 4)]
	Rejected,
}

/// The declared name, dtype and shape of one model input or output.
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
#[scale_info(skip_type_params(MaxName, MaxDims))]
pub struct TensorSpec<MaxName: Get<u32>, MaxDims: Get<u32>> {
	/// The graph's name for this tensor (UTF-8).
	pub name: BoundedVec<u8, MaxName>,
	/// Element type.
	pub dtype: DType,
	/// Dimensions, outermost first. Every dimension is at least 1.
	pub shape: BoundedVec<u32, MaxDims>,
	/// Whether the first dimension is a batch dimension a claim may choose, from 1 up to
	/// `shape[0]`.
	pub dynamic_batch: bool,
}

impl<MaxName: Get<u32>, MaxDims: Get<u32>> TensorSpec<MaxName, MaxDims> {
	/// Does a tensor of `dtype` and `shape` fit this spec?
	pub fn accepts(&self, dtype: DType, shape: &[u32]) -> bool {
		if dtype != self.dtype || shape.len() != self.shape.len() {
			return false;
		}
		shape.iter().zip(self.shape.iter()).enumerate().all(|(axis, (&got, &declared))| {
			if axis == 0 && self.dynamic_batch {
				(1..=declared).contains(&got)
			} else {
				got == declared
			}
		})
	}

	/// Number of elements at the largest shape the spec admits.
	pub fn max_elements(&self) -> u64 {
		self.shape.iter().fold(1u64, |acc, &d| acc.saturating_mul(d as u64))
	}
}

/// What a model owner states about a model when registering it.
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
#[scale_info(skip_type_params(MaxName, MaxUri, MaxTensors, MaxDims))]
pub struct ModelParams<MaxName: Get<u32>, MaxUri: Get<u32>, MaxTensors: Get<u32>, MaxDims: Get<u32>>
{
	/// blake2-256 of the ONNX file: validators fetch the file from `uri` and check it has this
	/// hash. Part of the registration's id ([`model_id`]), not the id itself.
	pub file_hash: FileHash,
	/// Family name (UTF-8); versions of one name form a family.
	pub name: BoundedVec<u8, MaxName>,
	/// Version within the family; unique per name.
	pub version: u32,
	/// Where validators fetch the file (`file://`, `http://` or `https://`).
	pub uri: BoundedVec<u8, MaxUri>,
	/// Size of the ONNX file in bytes.
	pub byte_size: u64,
	/// Graph inputs in graph order.
	pub inputs: BoundedVec<TensorSpec<MaxName, MaxDims>, MaxTensors>,
	/// Graph outputs in graph order.
	pub outputs: BoundedVec<TensorSpec<MaxName, MaxDims>, MaxTensors>,
	/// How close a claimed output must be to the canonical one.
	pub tolerance: Tolerance,
	/// Merkle root of the canonical program (`edgeproof-canon`'s `program_root`).
	pub program_root: H256,
	/// Number of nodes of the canonical program.
	pub node_count: u32,
	/// Work of one run of the canonical program (`edgeproof-canon`'s `Program::cost`, about
	/// one unit per multiply-add or element): what checking a claim costs a validator. Claim
	/// bonds grow with it; the validators reject a registration that states it wrongly or
	/// exceeds the runtime's `max_program_work`.
	pub program_work: u64,
}

/// A registered model. `Params` is the runtime's [`ModelParams`].
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct ModelRecord<AccountId, Balance, BlockNumber, Params> {
	/// What the owner registered.
	pub params: Params,
	/// Who registered it and may deprecate, retire or move it.
	pub owner: AccountId,
	/// Held from the owner until the model is retired or rejected.
	pub deposit: Balance,
	/// Lifecycle status.
	pub status: ModelStatus,
	/// Block of registration.
	pub registered_at: BlockNumber,
}

/// Why a model was rejected.
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
pub enum RejectionReason {
	/// The validators voted against it (they could not verify the file, hash, program or
	/// limits).
	#[codec(index = 0)]
	Voted,
	/// The activation origin refused it.
	#[codec(index = 1)]
	Governance,
	/// It was still pending [`crate::Config::PendingTimeout`] blocks after its registration:
	/// no threshold of verdicts came (for example because its URI never answered).
	#[codec(index = 2)]
	Expired,
}

/// A pending model in the expiry queue ([`crate::PendingQueue`]).
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct PendingEntry<AccountId, BlockNumber> {
	/// The pending model.
	pub model: ModelId,
	/// Its owner (counted against [`crate::Config::MaxPendingPerOwner`]).
	pub owner: AccountId,
	/// Its registration block: it expires [`crate::Config::PendingTimeout`] blocks later.
	pub registered_at: BlockNumber,
}

/// A validator's verdict on a pending model.
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
pub enum Verdict {
	/// The file at the URI has the registered hash, compiles to `program_root` with `node_count`
	/// nodes, is disputable and ort meets the tolerance.
	#[codec(index = 0)]
	Approve,
	/// Any of the above failed.
	#[codec(index = 1)]
	Reject,
}

/// Where validators fetch a model's file, and the hash it must have (see
/// [`crate::ModelRegistry::file`]): what the node's `inference` host functions take.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelFile {
	/// blake2-256 of the ONNX file ([`ModelParams::file_hash`]).
	pub hash: FileHash,
	/// The registered fetch URI.
	pub uri: alloc::vec::Vec<u8>,
}

/// What other pallets may know about a model (see [`crate::ModelRegistry`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelSummary {
	/// Lifecycle status.
	pub status: ModelStatus,
	/// Claimed outputs are compared with this tolerance.
	pub tolerance: Tolerance,
	/// Root of the canonical program.
	pub program_root: H256,
	/// Number of program nodes.
	pub node_count: u32,
	/// Work of one run of the program ([`ModelParams::program_work`]).
	pub program_work: u64,
	/// The least key assurance a claiming device needs ([`crate::KeyRequirements`]).
	pub key_requirement: KeyAssurance,
}
