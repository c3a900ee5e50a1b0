//! The tolerance rule connecting a claimed output with the canonical one.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

use crate::{
	chunk::leaf_hash,
	tensor::{DType, Tensor},
};

/// How close a claimed output must be to the canonical output.
///
/// `abs` and `rel` are IEEE-754 binary32 bit patterns (`f32::to_bits`), e.g. `1e-4` is
/// `0x38d1b717`. They must be finite and non-negative to be meaningful (a NaN bound accepts
/// nothing but bit-identical elements).
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
pub enum Tolerance {
	/// Bitwise equality after NaN canonicalisation.
	#[codec(index = 0)]
	Exact,
	/// Per element `|y - c| <= abs + rel * |c|`.
	#[codec(index = 1)]
	Relative { abs: u32, rel: u32 },
}

/// Is every claimed tensor within tolerance of the canonical one?
///
/// Same number of tensors, same dtypes and shapes, well-formed data, and:
/// - `Exact`, and always for non-F32 dtypes: the NaN-canonical encodings are equal;
/// - `Relative` on F32, per element in f32 arithmetic in this order: if `y` and `c` have the same
///   bits, or both are NaN, accept; if exactly one is NaN, reject; else `d = |y - c|`,
///   `t = rel * |c|`, `bound = abs + t`, accept iff `d <= bound` (so a non-NaN `d` is needed:
///   `+inf` only matches `+inf` bitwise).
pub fn within_tolerance(claimed: &[Tensor], canonical: &[Tensor], tol: Tolerance) -> bool {
	claimed.len() == canonical.len()
		&& claimed.iter().zip(canonical).all(|(y, c)| tensor_within(y, c, tol))
}

fn tensor_within(y: &Tensor, c: &Tensor, tol: Tolerance) -> bool {
	if y.dtype != c.dtype || y.shape != c.shape || y.validate().is_err() || c.validate().is_err() {
		return false;
	}
	let (abs, rel) = match tol {
		Tolerance::Relative { abs, rel } if y.dtype == DType::F32 => {
			(f32::from_bits(abs), f32::from_bits(rel))
		},
		_ => return y.data == c.data || leaf_hash(y) == leaf_hash(c),
	};
	y.data.chunks_exact(4).zip(c.data.chunks_exact(4)).all(|(yb, cb)| {
		let yv = f32::from_le_bytes([yb[0], yb[1], yb[2], yb[3]]);
		let cv = f32::from_le_bytes([cb[0], cb[1], cb[2], cb[3]]);
		if yv.to_bits() == cv.to_bits() || (yv.is_nan() && cv.is_nan()) {
			return true;
		}
		if yv.is_nan() || cv.is_nan() {
			return false;
		}
		let d = libm::fabsf(yv - cv);
		let t = rel * libm::fabsf(cv);
		let bound = abs + t;
		d <= bound
	})
}
