//! The int8 family: QuantizeLinear, DequantizeLinear (per tensor or per axis),
//! DynamicQuantizeLinear, MatMulInteger, QLinearMatMul (ConvInteger and QLinearConv are in
//! `window`). Integer products and sums are exact (i32, wrapping, k ascending); the float steps
//! are ONNX's and ONNX Runtime's:
//! - QuantizeLinear: `q = saturate(rint(x / scale) + zero_point)` (round half to even).
//! - DequantizeLinear: `y = ((q - zero_point) as f32) * scale`.
//! - DynamicQuantizeLinear: `lo = min(0, min x)`, `hi = max(0, max x)` (NaN skipped),
//!   `scale = (hi - lo) / 255` (all zeros: scale 0, zero point 0, q = 0),
//!   `zp = saturate(rint(0 - lo / scale))`, `q = saturate(rint(x / scale) + zp)`.
//! - Requantization (QLinearMatMul, QLinearConv): `m = (a_scale * b_scale) / y_scale` in f32,
//!   `y = saturate(rint((acc as f32) * m) + y_zero_point)`.

use alloc::{format, vec, vec::Vec};
use core::ops::Range;

use super::{
	common::{broadcast_shapes, broadcast_strides, for_each_broadcast2, norm_axis, rint, Meta},
	linalg, window,
};
use crate::{
	error::{attr_err, shape_err, CanonError, Result},
	program::Window,
	tensor::{DType, Tensor},
};

/// The integer range of a quantized dtype.
pub fn range(dtype: DType) -> Option<(i64, i64)> {
	match dtype {
		DType::U8 => Some((0, 255)),
		DType::I8 => Some((-128, 127)),
		_ => None,
	}
}

fn quantized(op: &'static str, m: &Meta, input: usize) -> Result<(i64, i64)> {
	range(m.dtype).ok_or(CanonError::DType { op, input, found: m.dtype })
}

/// Checks a scale/zero-point pair against `x` (a scalar, a one-element tensor, or a 1-D
/// tensor along `axis`) and returns the axis the parameters run along (`None`: per tensor).
fn params_axis(op: &'static str, x: &[u32], p: &[u32], axis: i32) -> Result<Option<usize>> {
	if p.iter().product::<u32>() == 1 && p.len() <= 1 {
		return Ok(None);
	}
	let a = norm_axis(op, axis as i64, x.len())?;
	if p.len() != 1 || p.first() != x.get(a) {
		return Err(shape_err(op, format!("parameters {p:?} for input {x:?} along axis {a}")));
	}
	Ok(Some(a))
}

/// The runs of consecutive elements of a tensor of `shape` (`n` elements) that share one
/// quantization parameter: `(parameter index, element range)`; one run for per-tensor
/// parameters.
fn param_runs(
	shape: &[u32],
	axis: Option<usize>,
	n: usize,
) -> impl Iterator<Item = (usize, Range<usize>)> {
	let (inner, len) = match axis {
		Some(a) => (
			shape.iter().skip(a + 1).map(|&d| d as usize).product::<usize>().max(1),
			shape.get(a).copied().unwrap_or(1).max(1) as usize,
		),
		None => (n.max(1), 1),
	};
	(0..n.div_ceil(inner)).map(move |j| (j % len, j * inner..((j + 1) * inner).min(n)))
}

/// `saturate(rint(v) + zp)` into `r` (round half to even; NaN gives the zero point).
fn quantize_one(v: f32, zp: i64, (lo, hi): (i64, i64)) -> i64 {
	let x = rint(v);
	if x.is_nan() {
		zp.clamp(lo, hi)
	} else {
		(x as i64).saturating_add(zp).clamp(lo, hi)
	}
}

fn encode(dtype: DType, shape: Vec<u32>, values: &[i64]) -> Result<Tensor> {
	super::common::int_tensor(dtype, shape, values)
}

pub fn infer_quantize(ins: &[Meta], axis: i32) -> Result<(DType, Vec<u32>)> {
	const OP: &str = "QuantizeLinear";
	let [x, scale, zp] = ins else {
		return Err(CanonError::Arity { op: OP, expected: "3", found: ins.len() });
	};
	for (i, m) in [(0, x), (1, scale)] {
		if m.dtype != DType::F32 {
			return Err(CanonError::DType { op: OP, input: i, found: m.dtype });
		}
	}
	quantized(OP, zp, 2)?;
	if zp.shape != scale.shape {
		return Err(shape_err(OP, "scale and zero point differ in shape"));
	}
	params_axis(OP, x.shape, scale.shape, axis)?;
	Ok((zp.dtype, x.shape.to_vec()))
}

pub fn run_quantize(ins: &[&Tensor], axis: i32) -> Result<Tensor> {
	let [x, _, zp] = ins else {
		return Err(CanonError::Arity { op: "QuantizeLinear", expected: "3", found: ins.len() });
	};
	let data = quantize_range(ins, axis, 0..x.numel()?)?;
	Ok(Tensor { dtype: zp.dtype, shape: x.shape.clone(), data })
}

/// The elements `elements` of QuantizeLinear's output (one byte each): `x / scale`, then
/// `saturate(rint(.) + zp)`, with the parameters of each element's run (per tensor or along
/// `axis`). The whole node is `elements = 0..numel`; the second level computes one chunk.
pub(crate) fn quantize_range(
	ins: &[&Tensor],
	axis: i32,
	elements: Range<usize>,
) -> Result<Vec<u8>> {
	let [x, scale, zp] = ins else {
		return Err(CanonError::Arity { op: "QuantizeLinear", expected: "3", found: ins.len() });
	};
	let a = params_axis("QuantizeLinear", &x.shape, &scale.shape, axis)?;
	let r = range(zp.dtype).ok_or(CanonError::DType {
		op: "QuantizeLinear",
		input: 2,
		found: zp.dtype,
	})?;
	let (sv, zv) = (scale.f32_values()?, zp.int_values()?);
	let n = x.numel()?;
	let bytes = x.data.get(elements.start * 4..elements.end * 4).filter(|_| elements.end <= n);
	let bytes = bytes.ok_or(CanonError::Overflow { what: "QuantizeLinear elements" })?;
	let mut q = vec![0u8; elements.len()];
	for (p, run) in param_runs(&x.shape, a, n) {
		let run = run.start.max(elements.start)..run.end.min(elements.end);
		if run.is_empty() {
			continue;
		}
		let (s, z) = (sv.get(p).copied().unwrap_or(1.0), zv.get(p).copied().unwrap_or(0));
		let local = run.start - elements.start..run.end - elements.start;
		let (Some(out), Some(xs)) =
			(q.get_mut(local.clone()), bytes.get(local.start * 4..local.end * 4))
		else {
			break;
		};
		let to_byte = QuantizeByte::new(z, r);
		for (o, v) in out.iter_mut().zip(xs.chunks_exact(4)) {
			*o = to_byte.of(f32::from_le_bytes([v[0], v[1], v[2], v[3]]) / s);
		}
	}
	Ok(q)
}

/// [`quantize_one`] into an 8-bit range, as the byte of the result (two's complement for I8),
/// in f32 arithmetic that vectorises: `rint(v)` clamped to `[lo - zp, hi - zp]` (every bound a
/// small integer, exact in f32), converted to an integer, then `+ zp`; NaN gives `zp`. Equal to [`quantize_one`] for
/// every `v` (unit test below).
#[derive(Clone, Copy)]
struct QuantizeByte {
	zp: i32,
	lo: f32,
	hi: f32,
}

impl QuantizeByte {
	fn new(zp: i64, (lo, hi): (i64, i64)) -> Self {
		let zp = zp.clamp(lo, hi) as i32;
		Self { zp, lo: (lo as i32 - zp) as f32, hi: (hi as i32 - zp) as f32 }
	}

	#[inline(always)]
	fn of(self, v: f32) -> u8 {
		/// 1.5 * 2^23: added to an integer-valued f32 of magnitude below 2^22, it leaves that
		/// integer in the low mantissa bits (exactly), an integer conversion that vectorises
		/// where `as i32` (saturating, NaN to 0) does not.
		const MAGIC: f32 = 12_582_912.0;
		let x = rint(v);
		let shifted = if x.is_nan() { 0.0 } else { x.max(self.lo).min(self.hi) };
		let int = (shifted + MAGIC).to_bits() as i32 - MAGIC.to_bits() as i32;
		(int + self.zp) as u8
	}
}

pub fn infer_dequantize(ins: &[Meta], axis: i32) -> Result<(DType, Vec<u32>)> {
	const OP: &str = "DequantizeLinear";
	let [x, scale, zp] = ins else {
		return Err(CanonError::Arity { op: OP, expected: "3", found: ins.len() });
	};
	if !matches!(x.dtype, DType::U8 | DType::I8 | DType::I32) {
		return Err(CanonError::DType { op: OP, input: 0, found: x.dtype });
	}
	if scale.dtype != DType::F32 {
		return Err(CanonError::DType { op: OP, input: 1, found: scale.dtype });
	}
	if zp.dtype != x.dtype {
		return Err(CanonError::DType { op: OP, input: 2, found: zp.dtype });
	}
	if zp.shape != scale.shape {
		return Err(shape_err(OP, "scale and zero point differ in shape"));
	}
	params_axis(OP, x.shape, scale.shape, axis)?;
	Ok((DType::F32, x.shape.to_vec()))
}

pub fn run_dequantize(ins: &[&Tensor], axis: i32) -> Result<Tensor> {
	let [x, scale, zp] = ins else {
		return Err(CanonError::Arity { op: "DequantizeLinear", expected: "3", found: ins.len() });
	};
	let a = params_axis("DequantizeLinear", &x.shape, &scale.shape, axis)?;
	let (xv, sv, zv) = (x.int_values()?, scale.f32_values()?, zp.int_values()?);
	let mut y = vec![0f32; xv.len()];
	for (p, run) in param_runs(&x.shape, a, xv.len()) {
		let (s, z) = (sv.get(p).copied().unwrap_or(1.0), zv.get(p).copied().unwrap_or(0));
		let (Some(out), Some(qs)) = (y.get_mut(run.clone()), xv.get(run)) else { break };
		for (o, &q) in out.iter_mut().zip(qs) {
			*o = (q.wrapping_sub(z) as i32) as f32 * s;
		}
	}
	Ok(super::common::f32_tensor(x.shape.clone(), y))
}

pub fn infer_dynamic_quantize(ins: &[Meta], output: u8) -> Result<(DType, Vec<u32>)> {
	const OP: &str = "DynamicQuantizeLinear";
	let x = ins.first().ok_or(CanonError::Arity { op: OP, expected: "1", found: 0 })?;
	if x.dtype != DType::F32 {
		return Err(CanonError::DType { op: OP, input: 0, found: x.dtype });
	}
	match output {
		0 => Ok((DType::U8, x.shape.to_vec())),
		1 => Ok((DType::F32, vec![])),
		2 => Ok((DType::U8, vec![])),
		o => Err(attr_err(OP, "output", format!("output {o} (0, 1 or 2)"))),
	}
}

pub fn run_dynamic_quantize(x: &Tensor, output: u8) -> Result<Tensor> {
	let xv = x.f32_values()?;
	let (mut lo, mut hi) = (0f32, 0f32);
	for &v in &xv {
		if v < lo {
			lo = v;
		}
		if v > hi {
			hi = v;
		}
	}
	let scale = (hi - lo) / 255.0;
	let u8r = (0, 255);
	let zp = if scale == 0.0 { 0 } else { quantize_one(0.0 - lo / scale, 0, u8r) };
	match output {
		1 => Ok(Tensor::from_f32(vec![], &[scale])),
		2 => encode(DType::U8, vec![], &[zp]),
		_ => {
			let q: Vec<i64> = xv
				.iter()
				.map(|&v| if scale == 0.0 { zp } else { quantize_one(v / scale, zp, u8r) })
				.collect();
			encode(DType::U8, x.shape.clone(), &q)
		},
	}
}

/// Integer numpy matmul of zero-point-shifted operands: each output `acc = 0i32; for k
/// ascending: acc = acc + a[i][k] * b[k][j]` (wrapping).
fn matmul_i32(a: &[i32], a_shape: &[u32], b: &[i32], b_shape: &[u32]) -> Result<Vec<i32>> {
	let a2: Vec<u32> = if a_shape.len() == 1 { vec![1, a_shape[0]] } else { a_shape.to_vec() };
	let b2: Vec<u32> = if b_shape.len() == 1 { vec![b_shape[0], 1] } else { b_shape.to_vec() };
	let (m, k) = (a2[a2.len() - 2] as usize, a2[a2.len() - 1] as usize);
	let n = b2[b2.len() - 1] as usize;
	let (ab, bb) = (&a2[..a2.len() - 2], &b2[..b2.len() - 2]);
	let batch = broadcast_shapes("MatMulInteger", ab, bb)?;
	let (sa, sb) = (broadcast_strides(&batch, ab), broadcast_strides(&batch, bb));
	let nbatch: usize = batch.iter().map(|&d| d as usize).product();
	let mut out = vec![0i32; nbatch * m * n];
	let mut bad = false;
	for_each_broadcast2(&batch, &sa, &sb, |o, ia, ib| {
		let (Some(ar), Some(br)) =
			(a.get(ia * m * k..(ia + 1) * m * k), b.get(ib * k * n..(ib + 1) * k * n))
		else {
			bad = true;
			return;
		};
		let Some(or) = out.get_mut(o * m * n..(o + 1) * m * n) else {
			bad = true;
			return;
		};
		#[cfg(all(feature = "std", target_arch = "x86_64"))]
		if let crate::simd::Isa::Avx2(v3) = crate::simd::Isa::detect() {
			if super::pairs::gemm(v3, (m, k, n), ar, br, or) {
				return;
			}
		}
		super::linalg::gemm_rows((m, k, n), ar, br, or, super::linalg::Acc);
	});
	if bad {
		return Err(CanonError::Overflow { what: "MatMulInteger batch offset" });
	}
	Ok(out)
}

/// A per-tensor zero point (a scalar or one-element tensor).
fn scalar_param(op: &'static str, t: &Meta, input: usize) -> Result<()> {
	if t.shape.iter().product::<u32>() != 1 || t.shape.len() > 1 {
		return Err(shape_err(
			op,
			format!("input {input} must be a scalar (per tensor), is {:?}", t.shape),
		));
	}
	Ok(())
}

/// `t - zp` as i32 (t and zp 8-bit, so within -255..=255), read from the bytes directly.
pub(crate) fn shifted(t: &Tensor, zp: &Tensor) -> Result<Vec<i32>> {
	let z = zp.int_values()?.first().copied().unwrap_or(0) as i32;
	Ok(match t.dtype {
		DType::U8 => t.data.iter().map(|&v| v as i32 - z).collect(),
		DType::I8 => t.data.iter().map(|&v| v as i8 as i32 - z).collect(),
		_ => t.int_values()?.into_iter().map(|v| (v as i32).wrapping_sub(z)).collect(),
	})
}

pub fn infer_matmul_integer(ins: &[Meta]) -> Result<(DType, Vec<u32>)> {
	const OP: &str = "MatMulInteger";
	let [a, b, az, bz] = ins else {
		return Err(CanonError::Arity { op: OP, expected: "4", found: ins.len() });
	};
	for (i, (m, z)) in [(a, az), (b, bz)].into_iter().enumerate() {
		quantized(OP, m, i)?;
		if z.dtype != m.dtype {
			return Err(CanonError::DType { op: OP, input: i + 2, found: z.dtype });
		}
		scalar_param(OP, z, i + 2)?;
	}
	Ok((DType::I32, linalg::matmul_shape(OP, a.shape, b.shape)?))
}

pub fn run_matmul_integer(ins: &[&Tensor], out_shape: &[u32]) -> Result<Tensor> {
	let [a, b, az, bz] = ins else {
		return Err(CanonError::Arity { op: "MatMulInteger", expected: "4", found: ins.len() });
	};
	let acc = matmul_i32(&shifted(a, az)?, &a.shape, &shifted(b, bz)?, &b.shape)?;
	let v: Vec<i64> = acc.into_iter().map(i64::from).collect();
	encode(DType::I32, out_shape.to_vec(), &v)
}

pub fn infer_qlinear_matmul(ins: &[Meta]) -> Result<(DType, Vec<u32>)> {
	const OP: &str = "QLinearMatMul";
	let [a, a_s, a_z, b, b_s, b_z, y_s, y_z] = ins else {
		return Err(CanonError::Arity { op: OP, expected: "8", found: ins.len() });
	};
	for (i, (m, s, z)) in [(0, (a, a_s, a_z)), (3, (b, b_s, b_z))] {
		quantized(OP, m, i)?;
		if s.dtype != DType::F32 || z.dtype != m.dtype {
			return Err(CanonError::DType { op: OP, input: i + 1, found: s.dtype });
		}
		scalar_param(OP, s, i + 1)?;
		scalar_param(OP, z, i + 2)?;
	}
	quantized(OP, y_z, 7)?;
	scalar_param(OP, y_s, 6)?;
	scalar_param(OP, y_z, 7)?;
	Ok((y_z.dtype, linalg::matmul_shape(OP, a.shape, b.shape)?))
}

/// `(a_scale * b_scale) / y_scale`, the requantization multiplier.
pub fn multiplier(a_scale: f32, b_scale: f32, y_scale: f32) -> f32 {
	(a_scale * b_scale) / y_scale
}

/// `saturate(rint(acc * m) + zp)`.
pub fn requantize(acc: i32, m: f32, zp: i64, r: (i64, i64)) -> i64 {
	quantize_one(acc as f32 * m, zp, r)
}

fn first_f32(t: &Tensor) -> Result<f32> {
	Ok(t.f32_values()?.first().copied().unwrap_or(0.0))
}

pub fn run_qlinear_matmul(ins: &[&Tensor], out_shape: &[u32]) -> Result<Tensor> {
	let [a, a_s, a_z, b, b_s, b_z, y_s, y_z] = ins else {
		return Err(CanonError::Arity { op: "QLinearMatMul", expected: "8", found: ins.len() });
	};
	let acc = matmul_i32(&shifted(a, a_z)?, &a.shape, &shifted(b, b_z)?, &b.shape)?;
	let m = multiplier(first_f32(a_s)?, first_f32(b_s)?, first_f32(y_s)?);
	let zp = y_z.int_values()?.first().copied().unwrap_or(0);
	let r = range(y_z.dtype).ok_or(CanonError::DType {
		op: "QLinearMatMul",
		input: 7,
		found: y_z.dtype,
	})?;
	let v: Vec<i64> = acc.into_iter().map(|x| requantize(x, m, zp, r)).collect();
	encode(y_z.dtype, out_shape.to_vec(), &v)
}

fn per_channel(op: &'static str, t: &Meta, channels: u32, input: usize) -> Result<()> {
	let n: u32 = t.shape.iter().product();
	if t.shape.len() > 1 || (n != 1 && n != channels) {
		return Err(shape_err(
			op,
			format!(
				"input {input} {:?}: one value or one per output channel ({channels})",
				t.shape
			),
		));
	}
	Ok(())
}

pub fn infer_conv_integer(ins: &[Meta], win: &Window, group: u32) -> Result<(DType, Vec<u32>)> {
	const OP: &str = "ConvInteger";
	let [x, w, xz, wz] = ins else {
		return Err(CanonError::Arity { op: OP, expected: "4", found: ins.len() });
	};
	for (i, (m, z)) in [(x, xz), (w, wz)].into_iter().enumerate() {
		quantized(OP, m, i)?;
		if z.dtype != m.dtype {
			return Err(CanonError::DType { op: OP, input: i + 2, found: z.dtype });
		}
	}
	scalar_param(OP, xz, 2)?;
	per_channel(OP, wz, w.shape.first().copied().unwrap_or(0), 3)?;
	Ok((DType::I32, window::conv_shape(OP, x.shape, w.shape, win, group)?))
}

/// `w - w_zero_point` with the zero point per output channel (or one for all).
/// Conv weights minus their zero point (per tensor, or per output channel), as i32.
pub(crate) fn shifted_weights(w: &Tensor, wz: &Tensor) -> Result<Vec<i32>> {
	let z = wz.int_values()?;
	let per = w.shape.iter().skip(1).map(|&d| d as usize).product::<usize>().max(1);
	Ok(w.int_values()?
		.into_iter()
		.enumerate()
		.map(|(i, v)| {
			let zp = if z.len() == 1 { z[0] } else { z.get(i / per).copied().unwrap_or(0) };
			(v - zp) as i32
		})
		.collect())
}

pub fn run_conv_integer(
	ins: &[&Tensor],
	win: &Window,
	group: u32,
	out_shape: &[u32],
) -> Result<Tensor> {
	let [x, w, xz, wz] = ins else {
		return Err(CanonError::Arity { op: "ConvInteger", expected: "4", found: ins.len() });
	};
	let acc = window::conv_blocked(
		"ConvInteger",
		&shifted(x, xz)?,
		&x.shape,
		&shifted_weights(w, wz)?,
		&w.shape,
		win,
		group,
	)?;
	let v: Vec<i64> = acc.into_iter().map(i64::from).collect();
	encode(DType::I32, out_shape.to_vec(), &v)
}

pub fn infer_qlinear_conv(ins: &[Meta], win: &Window, group: u32) -> Result<(DType, Vec<u32>)> {
	const OP: &str = "QLinearConv";
	let (x, x_s, x_z, w, w_s, w_z, y_s, y_z) = match ins {
		[x, xs, xz, w, ws, wz, ys, yz] | [x, xs, xz, w, ws, wz, ys, yz, _] => {
			(x, xs, xz, w, ws, wz, ys, yz)
		},
		_ => return Err(CanonError::Arity { op: OP, expected: "8 or 9", found: ins.len() }),
	};
	let oc = w.shape.first().copied().unwrap_or(0);
	quantized(OP, x, 0)?;
	quantized(OP, w, 3)?;
	quantized(OP, y_z, 7)?;
	for (i, s) in [(1, x_s), (4, w_s), (6, y_s)] {
		if s.dtype != DType::F32 {
			return Err(CanonError::DType { op: OP, input: i, found: s.dtype });
		}
	}
	if x_z.dtype != x.dtype || w_z.dtype != w.dtype {
		return Err(CanonError::DType { op: OP, input: 2, found: x_z.dtype });
	}
	scalar_param(OP, x_s, 1)?;
	scalar_param(OP, x_z, 2)?;
	per_channel(OP, w_s, oc, 4)?;
	per_channel(OP, w_z, oc, 5)?;
	scalar_param(OP, y_s, 6)?;
	scalar_param(OP, y_z, 7)?;
	if let Some(b) = ins.get(8) {
		if b.dtype != DType::I32 || b.shape != [oc] {
			return Err(shape_err(OP, format!("bias {:?} {:?} (I32 [{oc}])", b.dtype, b.shape)));
		}
	}
	Ok((y_z.dtype, window::conv_shape(OP, x.shape, w.shape, win, group)?))
}

/// QLinearConv: the integer convolution, plus the I32 bias, requantized per output channel
/// with `m = (x_scale * w_scale[oc]) / y_scale`.
pub fn run_qlinear_conv(
	ins: &[&Tensor],
	win: &Window,
	group: u32,
	out_shape: &[u32],
) -> Result<Tensor> {
	const OP: &str = "QLinearConv";
	let (x, x_z, w, w_z, y_z) = match ins {
		[x, _, xz, w, _, wz, _, yz] | [x, _, xz, w, _, wz, _, yz, _] => (*x, *xz, *w, *wz, *yz),
		_ => return Err(CanonError::Arity { op: OP, expected: "8 or 9", found: ins.len() }),
	};
	let acc = window::conv_blocked(
		OP,
		&shifted(x, x_z)?,
		&x.shape,
		&shifted_weights(w, w_z)?,
		&w.shape,
		win,
		group,
	)?;
	let requant = ConvRequant::new(ins)?;
	let oc = w.shape.first().copied().unwrap_or(1) as usize;
	let plane = out_shape.iter().skip(2).map(|&d| d as usize).product::<usize>().max(1);
	// Channel plane by channel plane: `requantize(acc + bias, multiplier, zp)` per element,
	// through the vectorising byte quantizer (equal to `quantize_one`).
	let mut out = vec![0u8; acc.len()];
	for (i, (ys_plane, accs)) in out.chunks_mut(plane).zip(acc.chunks(plane)).enumerate() {
		requant.channel(i % oc.max(1), accs, ys_plane);
	}
	Ok(Tensor { dtype: y_z.dtype, shape: out_shape.to_vec(), data: out })
}

/// QLinearConv's requantization of its accumulators: per output channel `o`, `acc + bias[o]`
/// (wrapping) times `m = (x_scale * w_scale[o]) / y_scale`, then the byte of `saturate(rint(.)
/// + y_zero_point)`.
pub(crate) struct ConvRequant {
	bias: Vec<i64>,
	xs: f32,
	ys: f32,
	ws: Vec<f32>,
	to_byte: QuantizeByte,
}

impl ConvRequant {
	/// From QLinearConv's inputs (x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale,
	/// y_zero_point, optional bias).
	pub(crate) fn new(ins: &[&Tensor]) -> Result<Self> {
		const OP: &str = "QLinearConv";
		let (x_s, w_s, y_s, y_z) = match ins {
			[_, xs, _, _, ws, _, ys, yz, ..] => (*xs, *ws, *ys, *yz),
			_ => return Err(CanonError::Arity { op: OP, expected: "8 or 9", found: ins.len() }),
		};
		let bias = match ins.get(8) {
			Some(b) => b.int_values()?,
			None => vec![],
		};
		let zp = y_z.int_values()?.first().copied().unwrap_or(0);
		let r = range(y_z.dtype).ok_or(CanonError::DType { op: OP, input: 7, found: y_z.dtype })?;
		Ok(Self {
			bias,
			xs: first_f32(x_s)?,
			ys: first_f32(y_s)?,
			ws: w_s.f32_values()?,
			to_byte: QuantizeByte::new(zp, r),
		})
	}

	/// The output bytes `out` of accumulators `accs`, all of output channel `o`.
	#[inline(always)]
	pub(crate) fn channel(&self, o: usize, accs: &[i32], out: &mut [u8]) {
		let b = self.bias.get(o).copied().unwrap_or(0) as i32;
		let ws = self.ws.as_slice();
		let s = if ws.len() == 1 { ws[0] } else { ws.get(o).copied().unwrap_or(0.0) };
		let m = multiplier(self.xs, s, self.ys);
		for (y, &a) in out.iter_mut().zip(accs) {
			*y = self.to_byte.of(a.wrapping_add(b) as f32 * m);
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use proptest::prelude::*;

	proptest! {
		#![proptest_config(ProptestConfig::with_cases(2000))]

		/// The vectorising byte quantizer is [`quantize_one`] for U8 and I8, on any value
		/// (±0, ties, NaN, ±inf, huge) and any zero point in range.
		#[test]
		fn the_byte_quantizer_is_quantize_one(
			bits in prop::collection::vec(any::<u32>(), 64),
			ties in prop::collection::vec(-300i32..300, 16),
			zp in any::<u8>(),
			signed in any::<bool>(),
		) {
			let (dtype, zp) = if signed { (DType::I8, zp as i8 as i64) } else { (DType::U8, zp as i64) };
			let r = range(dtype).unwrap();
			let q = QuantizeByte::new(zp, r);
			let values = bits.iter().map(|&b| f32::from_bits(b))
				.chain(ties.iter().map(|&t| t as f32 + 0.5))
				.chain([0.0, -0.0, f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 1e30, -1e30, 254.5, -128.5]);
			for v in values {
				let want = quantize_one(v, zp, r);
				let want = if signed { want as i8 as u8 } else { want as u8 };
				prop_assert_eq!(q.of(v), want, "v = {:e}", v);
			}
		}
	}
}
