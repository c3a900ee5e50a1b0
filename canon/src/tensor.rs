//! Tensors, dtypes and the limits that bound every size.

use alloc::{format, vec, vec::Vec};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

use crate::error::{CanonError, Result};

/// Element type of a tensor (v1 set). The SCALE index of each variant is fixed forever.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Hash,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum DType {
	#[codec(index = 0)]
	F32,
	#[codec(index = 1)]
	I64,
	#[codec(index = 2)]
	I32,
	#[codec(index = 3)]
	U8,
	#[codec(index = 4)]
	I8,
	/// One byte per element, 0 or 1 (any other byte is rejected).
	#[codec(index = 5)]
	Bool,
}

impl DType {
	/// Bytes per element.
	pub const fn size(self) -> usize {
		match self {
			Self::F32 | Self::I32 => 4,
			Self::I64 => 8,
			Self::U8 | Self::I8 | Self::Bool => 1,
		}
	}
}

/// A dense tensor: `data` holds the elements little-endian, row-major (last axis fastest).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct Tensor {
	pub dtype: DType,
	pub shape: Vec<u32>,
	pub data: Vec<u8>,
}

/// Bounds on every size the executor handles, so the runtime can bound the work of a one-step.
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
pub struct Limits {
	/// Maximum number of elements of any tensor (input, constant or node output).
	pub max_elements: u64,
	/// Maximum rank of any tensor.
	pub max_dims: u32,
	/// Maximum number of nodes of a program.
	pub max_nodes: u32,
	/// Maximum [`crate::node_work`] of one node (about one unit per multiply-add or element).
	pub max_node_work: u64,
	/// Maximum data bytes of one node's inputs (constants included): what a one-step of the
	/// dispute game must carry in one transaction.
	pub max_step_bytes: u64,
	/// Maximum [`crate::Cost::work`] of a whole program: what one check of a claim costs.
	pub max_program_work: u64,
	/// Maximum [`crate::Cost::trace_bytes`] of a whole program: what a checker holds in memory
	/// to play a dispute.
	pub max_trace_bytes: u64,
}

impl Limits {
	/// Generous limits for native use (compiling and running whole models such as VGG-19).
	pub const NATIVE: Limits = Limits {
		max_elements: 1 << 28,
		max_dims: 8,
		max_nodes: 100_000,
		max_node_work: 1 << 40,
		max_step_bytes: 1 << 40,
		max_program_work: 1 << 48,
		max_trace_bytes: 1 << 40,
	};

	/// Checks a shape against `max_dims`/`max_elements`, returning its element count.
	pub fn check_shape(&self, shape: &[u32]) -> Result<usize> {
		if shape.len() as u64 > self.max_dims as u64 {
			return Err(CanonError::LimitExceeded {
				what: "tensor rank",
				value: shape.len() as u64,
				limit: self.max_dims as u64,
			});
		}
		let n = numel(shape)?;
		if n as u64 > self.max_elements {
			return Err(CanonError::LimitExceeded {
				what: "tensor elements",
				value: n as u64,
				limit: self.max_elements,
			});
		}
		Ok(n)
	}

	/// Checks a program's cost against `max_program_work` and `max_trace_bytes`.
	pub fn check_cost(&self, cost: &crate::Cost) -> Result<()> {
		let bound = |what, value, limit| {
			if value > limit {
				Err(CanonError::LimitExceeded { what, value, limit })
			} else {
				Ok(())
			}
		};
		bound("program work", cost.work, self.max_program_work)?;
		bound("trace bytes", cost.trace_bytes, self.max_trace_bytes)
	}

	/// Checks a tensor's shape against the limits and its data against its shape.
	pub fn check_tensor(&self, t: &Tensor) -> Result<()> {
		self.check_shape(&t.shape)?;
		t.validate()
	}
}

impl Default for Limits {
	fn default() -> Self {
		Self::NATIVE
	}
}

/// Number of elements of a shape (1 for a scalar), with overflow checked.
pub fn numel(shape: &[u32]) -> Result<usize> {
	shape
		.iter()
		.try_fold(1usize, |acc, &d| acc.checked_mul(d as usize))
		.ok_or(CanonError::Overflow { what: "element count" })
}

impl Tensor {
	/// A tensor from raw parts, checking that the data length matches.
	pub fn new(dtype: DType, shape: Vec<u32>, data: Vec<u8>) -> Result<Self> {
		let t = Self { dtype, shape, data };
		t.validate()?;
		Ok(t)
	}

	/// An F32 tensor from values.
	pub fn from_f32(shape: Vec<u32>, values: &[f32]) -> Self {
		let mut data = vec![0u8; values.len() * 4];
		for (d, v) in data.chunks_exact_mut(4).zip(values) {
			d.copy_from_slice(&v.to_le_bytes());
		}
		Self { dtype: DType::F32, shape, data }
	}

	/// An I64 tensor from values.
	pub fn from_i64(shape: Vec<u32>, values: &[i64]) -> Self {
		let mut data = Vec::with_capacity(values.len() * 8);
		for v in values {
			data.extend_from_slice(&v.to_le_bytes());
		}
		Self { dtype: DType::I64, shape, data }
	}

	/// An I32 tensor from values.
	pub fn from_i32(shape: Vec<u32>, values: &[i32]) -> Self {
		let mut data = Vec::with_capacity(values.len() * 4);
		for v in values {
			data.extend_from_slice(&v.to_le_bytes());
		}
		Self { dtype: DType::I32, shape, data }
	}

	/// A tensor of zero bytes (0.0, 0, false) of the given dtype and shape.
	pub fn zeros(dtype: DType, shape: Vec<u32>) -> Result<Self> {
		let bytes = numel(&shape)?
			.checked_mul(dtype.size())
			.ok_or(CanonError::Overflow { what: "tensor bytes" })?;
		Ok(Self { dtype, shape, data: alloc::vec![0u8; bytes] })
	}

	/// Element count.
	pub fn numel(&self) -> Result<usize> {
		numel(&self.shape)
	}

	/// Rank (number of axes).
	pub fn rank(&self) -> usize {
		self.shape.len()
	}

	/// Checks `data.len() == numel * dtype.size()` and that Bool bytes are 0 or 1.
	pub fn validate(&self) -> Result<()> {
		let expected = self
			.numel()?
			.checked_mul(self.dtype.size())
			.ok_or(CanonError::Overflow { what: "tensor bytes" })?;
		if self.data.len() != expected {
			return Err(CanonError::BadTensor {
				detail: format!(
					"{:?} tensor of shape {:?} needs {} bytes, has {}",
					self.dtype,
					self.shape,
					expected,
					self.data.len()
				),
			});
		}
		if self.dtype == DType::Bool && self.data.iter().any(|&b| b > 1) {
			return Err(CanonError::BadTensor { detail: "Bool element other than 0 or 1".into() });
		}
		Ok(())
	}

	/// The elements of an F32 tensor.
	pub fn f32_values(&self) -> Result<Vec<f32>> {
		self.expect_dtype(DType::F32)?;
		let mut values = vec![0f32; self.data.len() / 4];
		for (v, c) in values.iter_mut().zip(self.data.chunks_exact(4)) {
			*v = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
		}
		Ok(values)
	}

	/// The elements of an integer tensor (I64, I32, U8, I8 or Bool), widened to i64.
	pub fn int_values(&self) -> Result<Vec<i64>> {
		Ok(match self.dtype {
			DType::I64 => self
				.data
				.chunks_exact(8)
				.map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
				.collect(),
			DType::I32 => self
				.data
				.chunks_exact(4)
				.map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64)
				.collect(),
			DType::U8 | DType::Bool => self.data.iter().map(|&b| b as i64).collect(),
			DType::I8 => self.data.iter().map(|&b| b as i8 as i64).collect(),
			DType::F32 => {
				return Err(CanonError::BadTensor {
					detail: "expected an integer tensor, got F32".into(),
				})
			},
		})
	}

	pub(crate) fn expect_dtype(&self, dtype: DType) -> Result<()> {
		if self.dtype != dtype {
			return Err(CanonError::BadTensor {
				detail: format!("expected a {dtype:?} tensor, got {:?}", self.dtype),
			});
		}
		Ok(())
	}

	/// A copy with every F32 NaN rewritten to the single pattern `0x7fc00000`.
	pub fn nan_canonical(&self) -> Self {
		let mut out = self.clone();
		out.canonicalize_nan();
		out
	}

	/// Rewrites every F32 NaN to `0x7fc00000` in place (no-op for other dtypes).
	pub fn canonicalize_nan(&mut self) {
		if self.dtype == DType::F32 {
			canonicalize_nan_bytes(&mut self.data);
		}
	}
}

/// The single NaN bit pattern used in hashes.
pub const CANONICAL_NAN: u32 = 0x7fc0_0000;

/// True if little-endian f32 `bytes` hold a NaN that is not [`CANONICAL_NAN`].
pub(crate) fn has_noncanonical_nan_bytes(bytes: &[u8]) -> bool {
	// Without an early exit per element, so the scan runs in vector lanes; one per 256 bytes.
	bytes.chunks(256).any(|block| {
		block.chunks_exact(4).fold(false, |found, c| {
			let bits = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
			found | ((bits & 0x7fff_ffff) > 0x7f80_0000) & (bits != CANONICAL_NAN)
		})
	})
}

/// Rewrites every NaN of little-endian f32 `bytes` to [`CANONICAL_NAN`].
pub(crate) fn canonicalize_nan_bytes(bytes: &mut [u8]) {
	for c in bytes.chunks_exact_mut(4) {
		if f32::from_le_bytes([c[0], c[1], c[2], c[3]]).is_nan() {
			c.copy_from_slice(&CANONICAL_NAN.to_le_bytes());
		}
	}
}

/// Declared dtype and shape of a program input.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct TensorSpec {
	pub dtype: DType,
	pub shape: Vec<u32>,
}

impl TensorSpec {
	/// Does `t` have this dtype and shape?
	pub fn matches(&self, t: &Tensor) -> bool {
		t.dtype == self.dtype && t.shape == self.shape
	}
}
