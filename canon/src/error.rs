//! The one error type of the crate.

use alloc::string::String;
use core::fmt;

use crate::tensor::DType;

/// Everything that can go wrong while checking, executing, committing or compiling.
///
/// The executor receives attacker-chosen nodes and tensors in the one-step of the dispute game,
/// so every malformed input maps to one of these values; nothing in the crate panics on input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CanonError {
	/// A size is above the configured [`crate::Limits`].
	LimitExceeded { what: &'static str, value: u64, limit: u64 },
	/// Size arithmetic overflowed (a shape whose element count does not fit in 64 bits...).
	Overflow { what: &'static str },
	/// A tensor's data length does not match its dtype and shape.
	BadTensor { detail: String },
	/// An operator got the wrong number of inputs.
	Arity { op: &'static str, expected: &'static str, found: usize },
	/// An operator got an input of a dtype it does not support.
	DType { op: &'static str, input: usize, found: DType },
	/// Input shapes that the operator cannot combine.
	Shape { op: &'static str, detail: String },
	/// An attribute value that the operator cannot use.
	Attribute { op: &'static str, attr: &'static str, detail: String },
	/// A value the operator cannot process (an index out of range, integer division by zero...).
	Value { op: &'static str, detail: String },
	/// A reference to a graph input, constant or node that does not exist or is not earlier.
	BadRef { node: u32, detail: String },
	/// A program input does not match its declared spec.
	InputMismatch { index: u32, detail: String },
	/// A Merkle proof or a one-step witness does not check out.
	Proof { detail: String },
	/// The ONNX file could not be decoded.
	Decode { detail: String },
	/// An ONNX node uses something the canonical executor does not support (an operator, an
	/// attribute value or a dtype that ONNX allows but canon does not implement).
	Unsupported { node: String, op: String, detail: String },
	/// An ONNX node that ONNX itself forbids: its inputs' shapes contradict the operator, an
	/// attribute is out of range, a folded constant breaks the operator's rules.
	Malformed { node: String, op: String, detail: String },
	/// The ONNX graph is malformed (a cycle, an undefined value, a duplicate name...).
	Graph { detail: String },
}

impl fmt::Display for CanonError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			Self::LimitExceeded { what, value, limit } => {
				write!(f, "limit exceeded: {what} is {value}, the limit is {limit}")
			},
			Self::Overflow { what } => write!(f, "arithmetic overflow computing {what}"),
			Self::BadTensor { detail } => write!(f, "malformed tensor: {detail}"),
			Self::Arity { op, expected, found } => {
				write!(f, "{op}: expected {expected} inputs, got {found}")
			},
			Self::DType { op, input, found } => {
				write!(f, "{op}: input {input} has unsupported dtype {found:?}")
			},
			Self::Shape { op, detail } => write!(f, "{op}: shape error: {detail}"),
			Self::Attribute { op, attr, detail } => {
				write!(f, "{op}: bad attribute `{attr}`: {detail}")
			},
			Self::Value { op, detail } => write!(f, "{op}: {detail}"),
			Self::BadRef { node, detail } => {
				write!(f, "node {node}: bad input reference: {detail}")
			},
			Self::InputMismatch { index, detail } => write!(f, "program input {index}: {detail}"),
			Self::Proof { detail } => write!(f, "proof rejected: {detail}"),
			Self::Decode { detail } => write!(f, "cannot decode ONNX model: {detail}"),
			Self::Unsupported { node, op, detail } => {
				write!(f, "unsupported: node `{node}` (op {op}): {detail}")
			},
			Self::Malformed { node, op, detail } => {
				write!(f, "malformed model: node `{node}` (op {op}): {detail}")
			},
			Self::Graph { detail } => write!(f, "malformed ONNX graph: {detail}"),
		}
	}
}

#[cfg(feature = "std")]
impl std::error::Error for CanonError {}

/// The crate's result alias.
pub type Result<T, E = CanonError> = core::result::Result<T, E>;

pub(crate) fn shape_err(op: &'static str, detail: impl Into<String>) -> CanonError {
	CanonError::Shape { op, detail: detail.into() }
}

pub(crate) fn attr_err(
	op: &'static str,
	attr: &'static str,
	detail: impl Into<String>,
) -> CanonError {
	CanonError::Attribute { op, attr, detail: detail.into() }
}

/// Something ONNX allows that canon does not implement, found inside an operator (the compiler
/// names the node).
pub(crate) fn not_implemented(op: &'static str, detail: impl Into<String>) -> CanonError {
	CanonError::Unsupported { node: String::new(), op: op.into(), detail: detail.into() }
}

pub(crate) fn value_err(op: &'static str, detail: impl Into<String>) -> CanonError {
	CanonError::Value { op, detail: detail.into() }
}
