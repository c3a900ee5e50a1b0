//! Ids and the SCALE types of the `inference` runtime interface.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use edgeproof_canon::{Hash, LeafWitness, TensorSpec};
use scale_info::TypeInfo;
use sp_core::H256;

/// A model file's content address: blake2-256 of its ONNX bytes. The node fetches, caches and
/// verifies files by it. (A registration on chain has its own id, derived from this hash, its
/// owner and its specs: `pallet_models::model_id`.)
pub type FileHash = H256;

/// What an `inference` host function returns.
pub type InferenceResult<T> = Result<T, InferenceError>;

/// Why an `inference` host function gave no answer.
///
/// Each variant is something the caller can act on; the node logs the details under the
/// `edgeproof::inference` target. The SCALE index of each variant is fixed.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub enum InferenceError {
	/// No inference engine in this context: not an off-chain worker, or the node runs with
	/// `--no-inference`. Retrying in the same context will not help.
	#[codec(index = 0)]
	Unavailable,
	/// The node has no usable ONNX Runtime library (see `scripts/setup.sh`,
	/// `--onnxruntime-lib`). The canonical functions still work.
	#[codec(index = 1)]
	LibraryMissing,
	/// The URI is not UTF-8, its scheme is not `file`, `http` or `https`, or the node's fetch
	/// policy refuses it (a private or loopback host, or a local file, without
	/// `--allow-local-model-sources`).
	#[codec(index = 2)]
	UnsupportedUri,
	/// Nothing at the URI: no such file, or HTTP 404/410.
	#[codec(index = 3)]
	ModelNotFound,
	/// The URI could not be reached or read (connection, TLS, timeout, other HTTP status). May
	/// succeed later.
	#[codec(index = 4)]
	Unreachable,
	/// The file is larger than the node's model size limit (bytes).
	#[codec(index = 5)]
	TooLarge { limit: u64 },
	/// The file's blake2-256 is not the registered file hash. The file is never used.
	#[codec(index = 6)]
	HashMismatch { found: H256 },
	/// The file has the right hash but is not an ONNX model ONNX Runtime can load.
	#[codec(index = 7)]
	MalformedModel,
	/// The input has the wrong number of tensors.
	#[codec(index = 8)]
	InputCount { expected: u32, found: u32 },
	/// Input tensor `index` has the wrong dtype.
	#[codec(index = 9)]
	InputDType { index: u32 },
	/// Input tensor `index` has the wrong shape.
	#[codec(index = 10)]
	InputShape { index: u32 },
	/// Input tensor `index` is malformed (data length does not match dtype and shape, or a Bool
	/// byte other than 0/1).
	#[codec(index = 11)]
	MalformedTensor { index: u32 },
	/// Output `index` has an element type outside the v1 dtypes (F32, I64, I32, U8, I8, Bool)
	/// or is not a tensor.
	#[codec(index = 12)]
	UnsupportedOutput { index: u32 },
	/// The canonical executor cannot compile this model (unsupported operator, dynamic shapes,
	/// ...): canonical functions are not available for it.
	#[codec(index = 13)]
	NotCompilable,
	/// The canonical executor failed on this input (a limit exceeded, an invalid value...).
	#[codec(index = 14)]
	CanonicalFailed,
	/// The tree position or leaf is outside the trace tree, or the leaf is not a node leaf.
	#[codec(index = 15)]
	BadPosition,
	/// ONNX Runtime failed while running the model.
	#[codec(index = 16)]
	EngineFailed,
	/// The node's model store failed (disk full, permissions...).
	#[codec(index = 17)]
	StoreFailed,
}

impl InferenceError {
	/// The variant's name, as metrics label it (`edgeproof_inference_failures_total{error}`).
	pub fn name(&self) -> &'static str {
		match self {
			Self::Unavailable => "Unavailable",
			Self::LibraryMissing => "LibraryMissing",
			Self::UnsupportedUri => "UnsupportedUri",
			Self::ModelNotFound => "ModelNotFound",
			Self::Unreachable => "Unreachable",
			Self::TooLarge { .. } => "TooLarge",
			Self::HashMismatch { .. } => "HashMismatch",
			Self::MalformedModel => "MalformedModel",
			Self::InputCount { .. } => "InputCount",
			Self::InputDType { .. } => "InputDType",
			Self::InputShape { .. } => "InputShape",
			Self::MalformedTensor { .. } => "MalformedTensor",
			Self::UnsupportedOutput { .. } => "UnsupportedOutput",
			Self::NotCompilable => "NotCompilable",
			Self::CanonicalFailed => "CanonicalFailed",
			Self::BadPosition => "BadPosition",
			Self::EngineFailed => "EngineFailed",
			Self::StoreFailed => "StoreFailed",
		}
	}
}

/// Why a model cannot be disputed (and so must not be activated).
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub enum NotDisputable {
	/// The canonical executor does not support the model (an operator, attribute or dtype).
	#[codec(index = 0)]
	Unsupported,
	/// The canonical program or a probe trace exceeds the runtime's limits (nodes, tensor
	/// sizes, one operator's work).
	#[codec(index = 1)]
	LimitExceeded,
	/// On probe input `probe`, ONNX Runtime's output is not within the declared tolerance of the
	/// canonical output: an honest device using ONNX Runtime could lose a dispute.
	#[codec(index = 2)]
	ToleranceNotMet { probe: u32 },
	/// The canonical executor failed on probe input `probe`.
	#[codec(index = 3)]
	ProbeFailed { probe: u32 },
}

/// Whether a model can be disputed under the runtime's limits.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub enum Disputability {
	#[codec(index = 0)]
	Disputable,
	#[codec(index = 1)]
	NotDisputable(NotDisputable),
}

/// What a node too heavy for one one-step may be settled by instead: the second level's
/// sub-steps (`pallet-disputes`' `SubStepLimits` and `MaxCutCost`).
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
pub struct SecondLevelLimits {
	/// What one sub-step stays within.
	pub sub_step: edgeproof_canon::substep::SubStepLimits,
	/// The most finding a node's cut may cost (`edgeproof_canon::substep::geometry_within`).
	pub max_cut_cost: u64,
}

/// What a validator found out about a model file (`verify_model`).
///
/// Present only when the file at the URI has the model's hash and ONNX Runtime loads it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct ModelFacts {
	/// The file's hash (equal to the blake2-256 of the bytes at the URI).
	pub file: FileHash,
	/// File size in bytes.
	pub byte_size: u64,
	/// Graph inputs as ONNX Runtime sees them (a dynamic dimension is `u32::MAX`).
	pub inputs: Vec<TensorSpec>,
	/// Graph outputs as ONNX Runtime sees them (a dynamic dimension is `u32::MAX`).
	pub outputs: Vec<TensorSpec>,
	/// `program_root` of the canonical program (`None` if it does not compile).
	pub program_root: Option<Hash>,
	/// Number of nodes of the canonical program (0 if it does not compile).
	pub node_count: u32,
	/// [`edgeproof_canon::Cost::work`] of the canonical program (0 if it does not compile):
	/// what one check of a claim costs.
	pub program_work: u64,
	/// Whether disputes on this model can be settled, or why not.
	pub disputable: Disputability,
}

/// The canonical result of a model on an input (`canonical_output`).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct CanonicalOutput {
	/// Root of the trace tree.
	pub trace_root: Hash,
	/// Number of trace leaves `m + n` (graph inputs plus nodes).
	pub trace_len: u64,
	/// The program outputs (graph order), each with its proof against `trace_root`.
	pub outputs: Vec<LeafWitness>,
}

/// A dynamic dimension in [`ModelFacts::inputs`] and [`ModelFacts::outputs`].
pub const DYNAMIC_DIM: u32 = u32::MAX;

/// Where a device's key is proven to live (pallet-devices records it; a model may require a
/// level). Ordered: a requirement accepts its level and every higher one.
#[derive(
	Clone,
	Copy,
	Debug,
	Default,
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
pub enum KeyAssurance {
	/// Nothing proves it: a key the device signed with only, or one attested by software.
	#[default]
	#[codec(index = 0)]
	Unproven,
	/// A trusted execution environment on the main processor (Android's TEE).
	#[codec(index = 1)]
	TrustedEnvironment,
	/// A separate secure element (Android StrongBox; Apple's Secure Enclave).
	#[codec(index = 2)]
	SecureElement,
}

/// Something a validator's off-chain worker did, told to the node for its metrics
/// ([`crate::inference::note`]): what the checker found about a claim, or a dispute move it
/// handed to the transaction pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum CheckerNote {
	/// The checker decided about a claim.
	#[codec(index = 0)]
	Checked(Verdict),
	/// A dispute move of this node's checker key went to the transaction pool.
	#[codec(index = 1)]
	MoveSent(Move),
}

/// What the checker found about a claim (`pallet_attestations::CheckOutcome`, without its data).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Verdict {
	/// Not drawn under the check probability.
	#[codec(index = 0)]
	NotSampled,
	/// ONNX Runtime agrees with the claim.
	#[codec(index = 1)]
	Agrees,
	/// ONNX Runtime does not, the canonical executor does: the claim stands.
	#[codec(index = 2)]
	CanonicalAgrees,
	/// The canonical output is outside the tolerance: the claim is wrong.
	#[codec(index = 3)]
	Wrong,
	/// The claim cannot be checked.
	#[codec(index = 4)]
	Failed,
}

impl Verdict {
	/// The metrics label (`edgeproof_checker_claims_total{verdict}`).
	pub fn name(self) -> &'static str {
		match self {
			Self::NotSampled => "not_sampled",
			Self::Agrees => "agrees",
			Self::CanonicalAgrees => "canonical_agrees",
			Self::Wrong => "wrong",
			Self::Failed => "failed",
		}
	}
}

/// A move of the challenge game (`pallet_disputes` calls).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Move {
	/// `open`: a dispute on a wrong claim.
	#[codec(index = 0)]
	Open,
	/// `respond`: the claimant's trace root.
	#[codec(index = 1)]
	Respond,
	/// `bisect`: two children in a bisection round.
	#[codec(index = 2)]
	Bisect,
	/// `one_step`: the witness the runtime executes.
	#[codec(index = 3)]
	OneStep,
	/// `timeout`: the other party's clock ran out.
	#[codec(index = 4)]
	Timeout,
	/// `cut`: the second level starts inside a node.
	#[codec(index = 5)]
	Cut,
	/// `reveal`: a data root or a tile's segment-state root.
	#[codec(index = 6)]
	Reveal,
	/// `sub_step`: the sub-step witness the runtime runs.
	#[codec(index = 7)]
	SubStep,
}

impl Move {
	/// The metrics label (`edgeproof_checker_moves_total{move}`), the call's name.
	pub fn name(self) -> &'static str {
		match self {
			Self::Open => "open",
			Self::Respond => "respond",
			Self::Bisect => "bisect",
			Self::OneStep => "one_step",
			Self::Timeout => "timeout",
			Self::Cut => "cut",
			Self::Reveal => "reveal",
			Self::SubStep => "sub_step",
		}
	}
}
