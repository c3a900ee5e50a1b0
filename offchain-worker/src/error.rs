//! The crate's one error type.

use std::path::PathBuf;

use edgeproof_canon::CanonError;
use edgeproof_primitives::{FileHash, InferenceError};

/// Everything that can go wrong in the engine and the model store.
///
/// Every variant maps to one [`InferenceError`] (what the runtime sees); the message here is
/// what the node logs.
#[derive(Debug, thiserror::Error)]
pub enum Error {
	/// The ONNX Runtime library file does not exist.
	#[error(
		"ONNX Runtime library not found at `{}`: run scripts/setup.sh or pass --onnxruntime-lib",
		.0.display()
	)]
	LibraryNotFound(PathBuf),
	/// The library exists but could not be loaded (not a shared library, wrong version...).
	#[error("cannot load ONNX Runtime from `{}`: {reason}", path.display())]
	LibraryLoad { path: PathBuf, reason: String },
	/// The engine was built without an ONNX Runtime library.
	#[error("no ONNX Runtime library loaded (see --onnxruntime-lib)")]
	LibraryMissing,
	/// The URI is not UTF-8 or has an unsupported scheme.
	#[error("unsupported model URI `{0}`: only file://, http:// and https:// are fetched")]
	UnsupportedUri(String),
	/// Nothing at the URI.
	#[error("model not found at `{0}`")]
	NotFound(String),
	/// The node's fetch policy refuses the URI: a `file://` URI or a host with a non-public
	/// address while local sources are off, or a local path that is not a regular file.
	#[error("refused to fetch `{uri}`: {reason}")]
	Refused { uri: String, reason: String },
	/// The URI could not be reached or read.
	#[error("cannot fetch `{uri}`: {reason}")]
	Unreachable { uri: String, reason: String },
	/// The file is bigger than the store's limit.
	#[error("model at `{uri}` is larger than the limit of {limit} bytes")]
	TooLarge { uri: String, limit: u64 },
	/// The file does not have the model's hash.
	#[error("model at `{uri}` has blake2-256 {found:?}, expected {expected:?}")]
	HashMismatch { uri: String, expected: FileHash, found: FileHash },
	/// Local disk trouble in the model store.
	#[error("model store: {context}: {source}")]
	Store { context: String, source: std::io::Error },
	/// ONNX Runtime could not load the model.
	#[error("ONNX Runtime cannot load model {model:?}: {source}")]
	MalformedModel { model: FileHash, source: ort::Error },
	/// Wrong number of input tensors.
	#[error("the model takes {expected} inputs, got {found}")]
	InputCount { expected: usize, found: usize },
	/// An input tensor of the wrong dtype.
	#[error("input {index}: expected dtype {expected}, got {found:?}")]
	InputDType { index: usize, expected: String, found: edgeproof_canon::DType },
	/// An input tensor of the wrong shape.
	#[error("input {index}: expected shape {expected:?} (-1 = any), got {found:?}")]
	InputShape { index: usize, expected: Vec<i64>, found: Vec<u32> },
	/// A malformed input tensor.
	#[error("input {index}: {source}")]
	MalformedTensor { index: usize, source: CanonError },
	/// An output that is not a tensor of a v1 dtype.
	#[error("output {index}: {detail}")]
	UnsupportedOutput { index: usize, detail: String },
	/// The canonical executor cannot compile the model.
	#[error("the canonical executor cannot compile model {model:?}: {source}")]
	NotCompilable { model: FileHash, source: CanonError },
	/// The canonical executor failed on an input.
	#[error("canonical execution failed: {0}")]
	Canonical(CanonError),
	/// A tree position or leaf outside the trace.
	#[error("{0}")]
	BadPosition(String),
	/// ONNX Runtime failed.
	#[error("ONNX Runtime: {0}")]
	Ort(#[from] ort::Error),
}

/// The crate's result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<&Error> for InferenceError {
	fn from(e: &Error) -> Self {
		match e {
			Error::LibraryNotFound(_) | Error::LibraryLoad { .. } | Error::LibraryMissing => {
				Self::LibraryMissing
			},
			// A refusal is this node's standing policy, not a passing failure: retrying cannot
			// change it, so it is final like an unsupported scheme (never `Unreachable`, which
			// the runtime retries).
			Error::UnsupportedUri(_) | Error::Refused { .. } => Self::UnsupportedUri,
			Error::NotFound(_) => Self::ModelNotFound,
			Error::Unreachable { .. } => Self::Unreachable,
			Error::TooLarge { limit, .. } => Self::TooLarge { limit: *limit },
			Error::HashMismatch { found, .. } => Self::HashMismatch { found: *found },
			Error::Store { .. } => Self::StoreFailed,
			Error::MalformedModel { .. } => Self::MalformedModel,
			Error::InputCount { expected, found } => {
				Self::InputCount { expected: saturate(*expected), found: saturate(*found) }
			},
			Error::InputDType { index, .. } => Self::InputDType { index: saturate(*index) },
			Error::InputShape { index, .. } => Self::InputShape { index: saturate(*index) },
			Error::MalformedTensor { index, .. } => {
				Self::MalformedTensor { index: saturate(*index) }
			},
			Error::UnsupportedOutput { index, .. } => {
				Self::UnsupportedOutput { index: saturate(*index) }
			},
			Error::NotCompilable { .. } => Self::NotCompilable,
			Error::Canonical(_) => Self::CanonicalFailed,
			Error::BadPosition(_) => Self::BadPosition,
			Error::Ort(_) => Self::EngineFailed,
		}
	}
}

fn saturate(n: usize) -> u32 {
	u32::try_from(n).unwrap_or(u32::MAX)
}
