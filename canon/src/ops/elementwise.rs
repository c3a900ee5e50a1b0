//! Elementwise operators: binary with broadcasting, variadic folds, unary maps, Cast.
//!
//! No reductions here: every output element is a function of one element of each input.

use alloc::{format, vec, vec::Vec};

use super::common::{broadcast_shapes, f32_tensor, int_tensor, map2, Meta};
use crate::{
	error::{value_err, CanonError, Result},
	program::Op,
	tensor::{DType, Tensor},
};

pub fn infer_binary(op: &Op, ins: &[Meta]) -> Result<(DType, Vec<u32>)> {
	let name = op.name();
	let first = ins.first().ok_or(CanonError::Arity { op: name, expected: ">= 1", found: 0 })?;
	let mut shape = first.shape.to_vec();
	for (i, m) in ins.iter().enumerate().skip(1) {
		if m.dtype != first.dtype {
			return Err(CanonError::DType { op: name, input: i, found: m.dtype });
		}
		shape = broadcast_shapes(name, &shape, m.shape)?;
	}
	let int_ok = matches!(
		op,
		Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Sum | Op::Max | Op::Min | Op::Mod { .. }
	);
	match first.dtype {
		DType::F32 if *op == (Op::Mod { fmod: false }) => {
			return Err(crate::error::not_implemented(
				name,
				"F32 Mod with fmod = 0 (only fmod = 1)",
			))
		},
		DType::F32 => {},
		DType::I64 | DType::I32 if int_ok => {},
		d => return Err(CanonError::DType { op: name, input: 0, found: d }),
	}
	Ok((first.dtype, shape))
}

/// [`run_binary`] on F32 inputs: `f` folded left to right, one monomorphic loop per operator.
fn run_binary_f32(op: &Op, ins: &[&Tensor], out_shape: &[u32]) -> Result<Tensor> {
	match op {
		Op::Sub => fold_f32(op, ins, out_shape, sub),
		Op::Mul => fold_f32(op, ins, out_shape, mul),
		Op::Div => fold_f32(op, ins, out_shape, div),
		Op::Pow => fold_f32(op, ins, out_shape, libm::powf),
		Op::Mod { .. } => fold_f32(op, ins, out_shape, libm::fmodf),
		Op::Max => fold_f32(op, ins, out_shape, max_nan),
		Op::Min => fold_f32(op, ins, out_shape, min_nan),
		_ => fold_f32(op, ins, out_shape, add),
	}
}

/// `out[i] = op(a[i], b[i])` for an F32 binary step operator of a fused node (Add, Sub, Mul,
/// Div, Pow, Max, Min): the scalar functions [`run_binary`] applies, on slices of equal length.
pub(crate) fn binary_block(op: &Op, a: &[f32], b: &[f32], out: &mut [f32]) -> Result<()> {
	fn zip(a: &[f32], b: &[f32], out: &mut [f32], f: impl Fn(f32, f32) -> f32) {
		for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
			*o = f(x, y);
		}
	}
	match op {
		Op::Add => zip(a, b, out, add),
		Op::Sub => zip(a, b, out, sub),
		Op::Mul => zip(a, b, out, mul),
		Op::Div => zip(a, b, out, div),
		Op::Pow => zip(a, b, out, libm::powf),
		Op::Max => zip(a, b, out, max_nan),
		Op::Min => zip(a, b, out, min_nan),
		_ => return Err(value_err(op.name(), "not a binary step operator")),
	}
	Ok(())
}

fn add(x: f32, y: f32) -> f32 {
	x + y
}

fn sub(x: f32, y: f32) -> f32 {
	x - y
}

fn mul(x: f32, y: f32) -> f32 {
	x * y
}

fn div(x: f32, y: f32) -> f32 {
	x / y
}

/// Max, NaN propagating.
fn max_nan(x: f32, y: f32) -> f32 {
	if x.is_nan() || y.is_nan() {
		f32::NAN
	} else if y > x {
		y
	} else {
		x
	}
}

/// Min, NaN propagating.
fn min_nan(x: f32, y: f32) -> f32 {
	if x.is_nan() || y.is_nan() {
		f32::NAN
	} else if y < x {
		y
	} else {
		x
	}
}

fn fold_f32(
	op: &Op,
	ins: &[&Tensor],
	out_shape: &[u32],
	f: impl Fn(f32, f32) -> f32 + Copy,
) -> Result<Tensor> {
	let name = op.name();
	let first = ins.first().ok_or(CanonError::Arity { op: name, expected: ">= 1", found: 0 })?;
	let mut acc = first.f32_values()?;
	let mut acc_shape = first.shape.clone();
	for t in ins.iter().skip(1) {
		let shape = broadcast_shapes(name, &acc_shape, &t.shape)?;
		acc = map2(&acc, &acc_shape, &t.f32_values()?, &t.shape, &shape, f)?;
		acc_shape = shape;
	}
	if acc_shape != out_shape {
		return Err(value_err(name, format!("shape {acc_shape:?} != {out_shape:?}")));
	}
	Ok(f32_tensor(out_shape.to_vec(), acc))
}

/// Binary and variadic elementwise operators, folded left to right over the inputs.
pub fn run_binary(op: &Op, ins: &[&Tensor], out_shape: &[u32]) -> Result<Tensor> {
	let name = op.name();
	let first = ins.first().ok_or(CanonError::Arity { op: name, expected: ">= 1", found: 0 })?;
	if first.dtype == DType::F32 {
		return run_binary_f32(op, ins, out_shape);
	}
	let mut div_by_zero = false;
	let mut acc = first.int_values()?;
	let mut acc_shape = first.shape.clone();
	for t in ins.iter().skip(1) {
		let shape = broadcast_shapes(name, &acc_shape, &t.shape)?;
		acc = map2(
			&acc,
			&acc_shape,
			&t.int_values()?,
			&t.shape,
			&shape,
			|x: i64, y: i64| match op {
				Op::Sub => x.wrapping_sub(y),
				Op::Mul => x.wrapping_mul(y),
				Op::Div => x.checked_div(y).unwrap_or_else(|| {
					div_by_zero |= y == 0;
					x.wrapping_div(if y == 0 { 1 } else { y })
				}),
				Op::Max => x.max(y),
				Op::Min => x.min(y),
				Op::Mod { fmod } => {
					if y == 0 {
						div_by_zero = true;
						return 0;
					}
					let r = x.wrapping_rem(y);
					if !fmod && r != 0 && ((r < 0) != (y < 0)) {
						r + y
					} else {
						r
					}
				},
				_ => x.wrapping_add(y),
			},
		)?;
		acc_shape = shape;
	}
	if div_by_zero {
		return Err(value_err(name, "integer division by zero"));
	}
	if acc_shape != out_shape {
		return Err(value_err(name, format!("shape {acc_shape:?} != {out_shape:?}")));
	}
	int_tensor(first.dtype, acc_shape, &acc)
}

/// A unary F32 operator as (kind, a, b): the arm of [`unary`] and its two parameters.
fn unary_kind(op: &Op) -> Option<(u8, f32, f32)> {
	Some(match *op {
		Op::Relu => (0, 0.0, 0.0),
		Op::LeakyRelu { alpha } => (1, f32::from_bits(alpha), 0.0),
		Op::Sigmoid => (2, 0.0, 0.0),
		Op::Tanh => (3, 0.0, 0.0),
		Op::Exp => (4, 0.0, 0.0),
		Op::Log => (5, 0.0, 0.0),
		Op::Sqrt => (6, 0.0, 0.0),
		Op::Neg => (7, 0.0, 0.0),
		Op::Abs => (8, 0.0, 0.0),
		Op::Erf => (9, 0.0, 0.0),
		Op::Reciprocal => (10, 0.0, 0.0),
		Op::Floor => (11, 0.0, 0.0),
		Op::Ceil => (12, 0.0, 0.0),
		Op::Clip { min, max } => (
			13,
			min.map_or(f32::NEG_INFINITY, f32::from_bits),
			max.map_or(f32::INFINITY, f32::from_bits),
		),
		Op::HardSigmoid { alpha, beta } => (14, f32::from_bits(alpha), f32::from_bits(beta)),
		Op::HardSwish => (15, 1.0 / 6.0, 0.5),
		Op::Gelu { tanh: false } => (16, core::f32::consts::FRAC_1_SQRT_2, 0.0),
		// sqrt(2 / pi), rounded to f32.
		Op::Gelu { tanh: true } => (17, 0.797_884_6, 0.044_715),
		Op::Round => (18, 0.0, 0.0),
		_ => return None,
	})
}

/// The scalar function of unary operator `kind` (of [`unary_kind`]) with parameters `a`, `b`.
#[inline(always)]
fn unary(kind: u8, a: f32, b: f32, x: f32) -> f32 {
	match kind {
		// NaN stays NaN (tolerance matches NaN only with NaN).
		0 => {
			if x.is_nan() || x > 0.0 {
				x
			} else {
				0.0
			}
		},
		1 => {
			if x < 0.0 {
				a * x
			} else {
				x
			}
		},
		2 => 1.0 / (1.0 + libm::expf(-x)),
		3 => libm::tanhf(x),
		4 => libm::expf(x),
		5 => libm::logf(x),
		6 => libm::sqrtf(x),
		7 => -x,
		8 => libm::fabsf(x),
		9 => libm::erff(x),
		10 => 1.0 / x,
		11 => libm::floorf(x),
		12 => libm::ceilf(x),
		14 => unit_clamp(a * x + b),
		15 => x * unit_clamp(a * x + b),
		16 => (0.5 * x) * (1.0 + libm::erff(x * a)),
		17 => (0.5 * x) * (1.0 + libm::tanhf(a * (x + b * (x * x * x)))),
		18 => super::common::rint(x),
		// Clip: `min(max(x, lo), hi)`, so `hi` wins when `lo > hi` (as ONNX says).
		_ => {
			if x.is_nan() {
				x
			} else {
				let v = if x < a { a } else { x };
				if v > b {
					b
				} else {
					v
				}
			}
		},
	}
}

/// [`unary`] of a constant `K` over little-endian f32 bytes: one loop per operator, with no
/// per-element dispatch.
fn map_unary<const K: u8>(a: f32, b: f32, src: &[u8], dst: &mut [u8]) {
	for (d, c) in dst.chunks_exact_mut(4).zip(src.chunks_exact(4)) {
		d.copy_from_slice(
			&unary(K, a, b, f32::from_le_bytes([c[0], c[1], c[2], c[3]])).to_le_bytes(),
		);
	}
}

/// [`map_unary`] on f32 slices (a fused node's blocks).
fn map_unary_f32<const K: u8>(a: f32, b: f32, src: &[f32], dst: &mut [f32]) {
	for (d, &x) in dst.iter_mut().zip(src) {
		*d = unary(K, a, b, x);
	}
}

/// `$map::<K>` for the [`unary_kind`] `kind`: the one table from a kind to its monomorphic loop.
macro_rules! by_kind {
	($kind:expr, $map:ident) => {
		match $kind {
			0 => $map::<0>,
			1 => $map::<1>,
			2 => $map::<2>,
			3 => $map::<3>,
			4 => $map::<4>,
			5 => $map::<5>,
			6 => $map::<6>,
			7 => $map::<7>,
			8 => $map::<8>,
			9 => $map::<9>,
			10 => $map::<10>,
			11 => $map::<11>,
			12 => $map::<12>,
			14 => $map::<14>,
			15 => $map::<15>,
			16 => $map::<16>,
			17 => $map::<17>,
			18 => $map::<18>,
			_ => $map::<13>,
		}
	};
}

/// `out[i] = op(x[i])` for a unary F32 operator: the function [`run_unary`] applies.
pub(crate) fn unary_block(op: &Op, x: &[f32], out: &mut [f32]) -> Result<()> {
	let (kind, a, b) = unary_kind(op).ok_or(value_err(op.name(), "not a unary operator"))?;
	let map: fn(f32, f32, &[f32], &mut [f32]) = by_kind!(kind, map_unary_f32);
	map(a, b, x, out);
	Ok(())
}

/// `max(0, min(1, v))`, NaN propagating.
fn unit_clamp(v: f32) -> f32 {
	if v < 0.0 {
		0.0
	} else if v > 1.0 {
		1.0
	} else {
		v
	}
}

pub fn is_unary(op: &Op) -> bool {
	unary_kind(op).is_some()
}

/// Neg and Abs on I64/I32 (wrapping: the minimum value maps to itself).
pub fn run_int_sign(op: &Op, x: &Tensor) -> Result<Tensor> {
	let v: Vec<i64> = x
		.int_values()?
		.into_iter()
		.map(|v| {
			let y = if *op == Op::Neg || v < 0 { v.wrapping_neg() } else { v };
			if x.dtype == DType::I32 {
				(y as i32) as i64
			} else {
				y
			}
		})
		.collect();
	int_tensor(x.dtype, x.shape.clone(), &v)
}

pub fn run_unary(op: &Op, x: &Tensor) -> Result<Tensor> {
	let (kind, a, b) = unary_kind(op).ok_or(value_err(op.name(), "not a unary operator"))?;
	if x.dtype != DType::F32 {
		return Err(CanonError::DType { op: op.name(), input: 0, found: x.dtype });
	}
	let map: fn(f32, f32, &[u8], &mut [u8]) = by_kind!(kind, map_unary);
	let mut data = vec![0u8; x.data.len() / 4 * 4];
	map(a, b, &x.data, &mut data);
	Ok(Tensor { dtype: DType::F32, shape: x.shape.clone(), data })
}

/// Cast: float -> int truncates toward zero and saturates (NaN -> 0); int -> float rounds to
/// nearest; int -> int wraps; anything -> Bool is `!= 0`.
pub fn run_cast(to: DType, x: &Tensor) -> Result<Tensor> {
	let shape = x.shape.clone();
	if x.dtype == to {
		return Ok(x.clone());
	}
	match (x.dtype, to) {
		(DType::F32, DType::Bool) => {
			let v: Vec<i64> = x.f32_values()?.iter().map(|&f| (f != 0.0) as i64).collect();
			int_tensor(DType::Bool, shape, &v)
		},
		(DType::F32, DType::I64) => {
			let v: Vec<i64> = x.f32_values()?.iter().map(|&f| f as i64).collect();
			int_tensor(to, shape, &v)
		},
		(DType::F32, DType::I32) => {
			let v: Vec<i64> = x.f32_values()?.iter().map(|&f| f as i32 as i64).collect();
			int_tensor(to, shape, &v)
		},
		(DType::F32, DType::U8) => {
			let v: Vec<i64> = x.f32_values()?.iter().map(|&f| f as u8 as i64).collect();
			int_tensor(to, shape, &v)
		},
		(DType::F32, DType::I8) => {
			let v: Vec<i64> = x.f32_values()?.iter().map(|&f| f as i8 as i64).collect();
			int_tensor(to, shape, &v)
		},
		(_, DType::F32) => {
			let v: Vec<f32> = x.int_values()?.iter().map(|&i| i as f32).collect();
			Ok(f32_tensor(shape, v))
		},
		_ => int_tensor(to, shape, &x.int_values()?),
	}
}
