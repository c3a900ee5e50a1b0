//! Softmax, LogSoftmax, BatchNormalization (inference), LRN, ReduceMean/Sum/Max.
//!
//! Reduction orders:
//! - Softmax over a row `x_0..x_{L-1}` (L elements along the axis, or the flattened trailing
//!   dims in legacy mode): `m = x_0; for j ascending: m = max(m, x_j)`; `e_j = expf(x_j - m)`;
//!   `s = 0.0; for j ascending: s = s + e_j`; `y_j = e_j / s`. LogSoftmax: `y_j = (x_j - m) - logf(s)`.
//! - BatchNormalization: per channel `a = scale / sqrtf(var + eps)`; `y = (x - mean) * a + b`.
//! - LRN: `ss = 0.0; for i ascending over the window: ss = ss + x_i * x_i`;
//!   `y = x / powf(bias + (alpha / size) * ss, beta)`.
//! - LayerNormalization over a row `x_0..x_{L-1}` (the flattened axes from `axis` on), as
//!   ONNX's function body: `s = 0.0; for j ascending: s = s + x_j`; `mean = s / L`;
//!   `v = 0.0; for j ascending: v = v + (x_j - mean) * (x_j - mean)`; `var = v / L`;
//!   `inv = 1 / sqrtf(var + eps)`; `y_j = ((x_j - mean) * inv) * scale_j (+ b_j)`.
//! - Reduce*: the input is walked once in row-major order; each element is folded into its output
//!   slot (`acc = acc + x`; `acc + x * x` for SumSquare and L2; `acc + |x|` for L1; `acc * x`
//!   from 1 for Prod; max or min with NaN propagating), so every output accumulates its inputs
//!   in increasing row-major order; Mean divides the sum by the count as f32, L2 takes `sqrtf`,
//!   LogSum `logf`.

use alloc::{format, vec, vec::Vec};

use super::common::{f32_tensor, norm_axis, strides, Meta};
use crate::{
	error::{attr_err, shape_err, CanonError, Result},
	tensor::{DType, Tensor},
};

fn f32_only(op: &'static str, ins: &[Meta], n: usize) -> Result<()> {
	if ins.len() < n {
		return Err(CanonError::Arity { op, expected: "more", found: ins.len() });
	}
	for (i, m) in ins.iter().enumerate() {
		if m.dtype != DType::F32 {
			return Err(CanonError::DType { op, input: i, found: m.dtype });
		}
	}
	Ok(())
}

pub fn infer_softmax(
	op: &'static str,
	ins: &[Meta],
	axis: i32,
	legacy: bool,
) -> Result<(DType, Vec<u32>)> {
	f32_only(op, ins, 1)?;
	let x = ins[0].shape;
	if legacy {
		// Legacy axis may equal the rank (coerced 2-D with an empty second factor).
		let r = x.len() as i64;
		let a = if axis < 0 { axis as i64 + r } else { axis as i64 };
		if a < 0 || a > r {
			return Err(attr_err(op, "axis", format!("axis {axis} out of range for rank {r}")));
		}
	} else {
		norm_axis(op, axis as i64, x.len())?;
	}
	Ok((DType::F32, x.to_vec()))
}

pub fn run_softmax(x: &Tensor, axis: i32, legacy: bool, log: bool) -> Result<Tensor> {
	let r = x.shape.len();
	let a = if axis < 0 { (axis as i64 + r as i64) as usize } else { axis as usize };
	let prod = |s: &[u32]| s.iter().map(|&d| d as usize).product::<usize>();
	let (outer, len, inner) = if legacy {
		(prod(&x.shape[..a]), prod(&x.shape[a..]), 1)
	} else {
		(prod(&x.shape[..a]), x.shape[a] as usize, prod(&x.shape[a + 1..]))
	};
	let mut v = x.f32_values()?;
	let mut e = vec![0f32; len];
	for o in 0..outer {
		for i in 0..inner {
			let base = o * len * inner + i;
			let at = |j: usize| base + j * inner;
			let mut m = v.get(base).copied().unwrap_or(0.0);
			for j in 1..len {
				let xj = v.get(at(j)).copied().unwrap_or(0.0);
				if xj.is_nan() || (!m.is_nan() && xj > m) {
					m = xj;
				}
			}
			let mut s = 0f32;
			for (j, ej) in e.iter_mut().enumerate() {
				*ej = libm::expf(v.get(at(j)).copied().unwrap_or(0.0) - m);
				s += *ej;
			}
			let ls = if log { libm::logf(s) } else { 0.0 };
			for (j, &ej) in e.iter().enumerate() {
				if let Some(y) = v.get_mut(at(j)) {
					*y = if log { (*y - m) - ls } else { ej / s };
				}
			}
		}
	}
	Ok(f32_tensor(x.shape.clone(), v))
}

pub fn infer_batchnorm(ins: &[Meta]) -> Result<(DType, Vec<u32>)> {
	const OP: &str = "BatchNormalization";
	if ins.len() != 5 {
		return Err(CanonError::Arity { op: OP, expected: "5", found: ins.len() });
	}
	f32_only(OP, ins, 5)?;
	let x = ins[0].shape;
	if x.len() < 2 {
		return Err(shape_err(OP, format!("input rank {} < 2", x.len())));
	}
	for m in &ins[1..] {
		if m.shape != [x[1]] {
			return Err(shape_err(OP, format!("parameter shape {:?} != [{}]", m.shape, x[1])));
		}
	}
	Ok((DType::F32, x.to_vec()))
}

pub fn run_batchnorm(ins: &[&Tensor], eps: f32) -> Result<Tensor> {
	let x = ins[0];
	let channels = batchnorm_channels(ins, eps)?;
	let inner: usize = x.shape[2..].iter().map(|&d| d as usize).product();
	let mut v = x.f32_values()?;
	for (i, chunk) in v.chunks_exact_mut(inner.max(1)).enumerate() {
		let Some(&ch) = channels.get(i % channels.len().max(1)) else {
			return Err(CanonError::Overflow { what: "BatchNormalization channel" });
		};
		chunk.iter_mut().for_each(|y| *y = batchnorm_one(*y, ch));
	}
	Ok(f32_tensor(x.shape.clone(), v))
}

/// BatchNormalization's per-channel `(mean, a, bias)` with `a = scale / sqrt(var + eps)`, from
/// its inputs `[x, scale, bias, mean, var]` (x's channels are its axis 1).
pub fn batchnorm_channels(ins: &[&Tensor], eps: f32) -> Result<Vec<(f32, f32, f32)>> {
	let [x, scale, bias, mean, var] = ins else {
		return Err(CanonError::Arity {
			op: "BatchNormalization",
			expected: "5",
			found: ins.len(),
		});
	};
	let c = x.shape.get(1).copied().unwrap_or(1) as usize;
	let (scale, bias, mean, var) =
		(scale.f32_values()?, bias.f32_values()?, mean.f32_values()?, var.f32_values()?);
	(0..c)
		.map(|ch| match (scale.get(ch), bias.get(ch), mean.get(ch), var.get(ch)) {
			(Some(&s), Some(&b), Some(&m), Some(&va)) => Ok((m, s / libm::sqrtf(va + eps), b)),
			_ => Err(CanonError::Overflow { what: "BatchNormalization channel" }),
		})
		.collect()
}

/// One element of BatchNormalization: `(x - mean) * a + bias`.
#[inline(always)]
pub fn batchnorm_one(x: f32, (mean, a, bias): (f32, f32, f32)) -> f32 {
	(x - mean) * a + bias
}

pub fn infer_lrn(ins: &[Meta], size: u32) -> Result<(DType, Vec<u32>)> {
	f32_only("LRN", ins, 1)?;
	let x = ins[0].shape;
	if x.len() < 2 {
		return Err(shape_err("LRN", "input rank < 2"));
	}
	if size == 0 {
		return Err(attr_err("LRN", "size", "must be >= 1"));
	}
	Ok((DType::F32, x.to_vec()))
}

pub fn run_lrn(x: &Tensor, size: u32, alpha: f32, beta: f32, bias: f32) -> Result<Tensor> {
	let n = x.shape[0] as usize;
	let c = x.shape[1] as usize;
	let inner: usize = x.shape[2..].iter().map(|&d| d as usize).product();
	let xv = x.f32_values()?;
	let size_u = size as usize;
	let before = (size_u - 1) / 2;
	let after = size_u - 1 - before; // ceil((size - 1) / 2)
	let scale = alpha / size as f32;
	let mut out = Vec::with_capacity(xv.len());
	for b in 0..n {
		for ch in 0..c {
			let lo = ch.saturating_sub(before);
			let hi = (ch + after).min(c - 1);
			for p in 0..inner {
				let mut ss = 0f32;
				for i in lo..=hi {
					let v = xv.get((b * c + i) * inner + p).copied().unwrap_or(0.0);
					ss += v * v;
				}
				let v = xv.get((b * c + ch) * inner + p).copied().unwrap_or(0.0);
				out.push(v / libm::powf(bias + scale * ss, beta));
			}
		}
	}
	Ok(f32_tensor(x.shape.clone(), out))
}

/// Reduction kinds.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Reduce {
	Mean,
	Sum,
	Max,
	Min,
	Prod,
	SumSquare,
	L1,
	L2,
	LogSum,
}

fn reduced_axes(op: &'static str, axes: &[i32], rank: usize) -> Result<Vec<bool>> {
	let mut mask = vec![axes.is_empty(); rank];
	for &a in axes {
		let a = norm_axis(op, a as i64, rank)?;
		if let Some(m) = mask.get_mut(a) {
			if *m {
				return Err(attr_err(op, "axes", format!("axis {a} repeated")));
			}
			*m = true;
		}
	}
	Ok(mask)
}

pub fn infer_reduce(
	op: &'static str,
	ins: &[Meta],
	axes: &[i32],
	keepdims: bool,
) -> Result<(DType, Vec<u32>)> {
	f32_only(op, ins, 1)?;
	let x = ins[0].shape;
	let mask = reduced_axes(op, axes, x.len())?;
	let mut out = Vec::new();
	for (&d, &m) in x.iter().zip(&mask) {
		if !m {
			out.push(d);
		} else if keepdims {
			out.push(1);
		}
		if m && d == 0 && matches!(op, "ReduceMax" | "ReduceMin") {
			return Err(crate::error::not_implemented(op, "reducing an empty axis (to -inf/+inf)"));
		}
	}
	Ok((DType::F32, out))
}

pub fn run_reduce(x: &Tensor, axes: &[i32], kind: Reduce, out_shape: &[u32]) -> Result<Tensor> {
	let op = match kind {
		Reduce::Mean => "ReduceMean",
		Reduce::Sum => "ReduceSum",
		Reduce::Max => "ReduceMax",
		Reduce::Min => "ReduceMin",
		Reduce::Prod => "ReduceProd",
		Reduce::SumSquare => "ReduceSumSquare",
		Reduce::L1 => "ReduceL1",
		Reduce::L2 => "ReduceL2",
		Reduce::LogSum => "ReduceLogSum",
	};
	let mask = reduced_axes(op, axes, x.shape.len())?;
	// Output strides laid over the input axes (0 on reduced axes).
	let kept: Vec<u32> = x.shape.iter().zip(&mask).map(|(&d, &m)| if m { 1 } else { d }).collect();
	let ks = strides(&kept);
	let os: Vec<usize> = ks.iter().zip(&mask).map(|(&s, &m)| if m { 0 } else { s }).collect();
	let xv = x.f32_values()?;
	let n_out: usize = kept.iter().map(|&d| d as usize).product();
	let count = xv.len().checked_div(n_out).unwrap_or(0);
	let init = match kind {
		Reduce::Max => f32::NEG_INFINITY,
		Reduce::Min => f32::INFINITY,
		Reduce::Prod => 1.0,
		_ => 0.0,
	};
	let mut acc = vec![init; n_out];
	let zero = vec![0usize; x.shape.len()];
	let mut bad = false;
	super::common::for_each_broadcast2(&x.shape, &os, &zero, |i, o, _| {
		match (acc.get_mut(o), xv.get(i)) {
			(Some(a), Some(&v)) => match kind {
				Reduce::Max => {
					if !a.is_nan() && (v.is_nan() || v > *a) {
						*a = v
					}
				},
				Reduce::Min => {
					if !a.is_nan() && (v.is_nan() || v < *a) {
						*a = v
					}
				},
				Reduce::Prod => *a *= v,
				Reduce::SumSquare | Reduce::L2 => *a += v * v,
				Reduce::L1 => *a += libm::fabsf(v),
				Reduce::Mean | Reduce::Sum | Reduce::LogSum => *a += v,
			},
			_ => bad = true,
		}
	});
	if bad {
		return Err(CanonError::Overflow { what: "reduce offsets" });
	}
	let c = count as f32;
	for a in acc.iter_mut() {
		match kind {
			Reduce::Mean => *a /= c,
			Reduce::L2 => *a = libm::sqrtf(*a),
			Reduce::LogSum => *a = libm::logf(*a),
			_ => {},
		}
	}
	Ok(f32_tensor(out_shape.to_vec(), acc))
}

pub fn infer_layernorm(ins: &[Meta], axis: i32, output: u8) -> Result<(DType, Vec<u32>)> {
	const OP: &str = "LayerNormalization";
	f32_only(OP, ins, ins.len())?;
	let x = ins.first().ok_or(CanonError::Arity { op: OP, expected: "2 or 3", found: 0 })?;
	if !(2..=3).contains(&ins.len()) {
		return Err(CanonError::Arity { op: OP, expected: "2 or 3", found: ins.len() });
	}
	let a = norm_axis(OP, axis as i64, x.shape.len())?;
	let row = x.shape.get(a..).unwrap_or(&[]);
	for (i, m) in ins.iter().enumerate().skip(1) {
		if super::common::broadcast_shapes(OP, row, m.shape)? != row {
			return Err(shape_err(
				OP,
				format!("input {i} of shape {:?} does not broadcast to {row:?}", m.shape),
			));
		}
	}
	Ok((DType::F32, layernorm_shape(x.shape, a, output)?))
}

fn layernorm_shape(x: &[u32], axis: usize, output: u8) -> Result<Vec<u32>> {
	match output {
		0 => Ok(x.to_vec()),
		1 | 2 => Ok(x.iter().enumerate().map(|(i, &d)| if i < axis { d } else { 1 }).collect()),
		o => Err(attr_err("LayerNormalization", "output", format!("output {o} (0, 1 or 2)"))),
	}
}

pub fn run_layernorm(ins: &[&Tensor], axis: i32, eps: f32, output: u8) -> Result<Tensor> {
	const OP: &str = "LayerNormalization";
	let x = ins.first().ok_or(CanonError::Arity { op: OP, expected: "2 or 3", found: 0 })?;
	let a = norm_axis(OP, axis as i64, x.shape.len())?;
	let row = x.shape.get(a..).unwrap_or(&[]);
	let len: usize = row.iter().map(|&d| d as usize).product();
	let full = |t: &Tensor| -> Result<Vec<f32>> {
		let bytes = super::common::broadcast_bytes(&t.data, &t.shape, 4, row)?;
		Ok(bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
	};
	let scale = full(ins.get(1).copied().ok_or(CanonError::Arity {
		op: OP,
		expected: "2 or 3",
		found: 1,
	})?)?;
	let bias = ins.get(2).map(|b| full(b)).transpose()?;
	let xv = x.f32_values()?;
	let mut out = Vec::with_capacity(xv.len());
	let mut stats = Vec::with_capacity(xv.len() / len.max(1));
	for r in xv.chunks_exact(len.max(1)) {
		let n = len as f32;
		let mut s = 0f32;
		for &v in r {
			s += v;
		}
		let mean = s / n;
		let mut var = 0f32;
		for &v in r {
			let d = v - mean;
			var += d * d;
		}
		let inv = 1.0 / libm::sqrtf(var / n + eps);
		stats.push(if output == 1 { mean } else { inv });
		if output != 0 {
			continue;
		}
		for (j, &v) in r.iter().enumerate() {
			let y = ((v - mean) * inv) * scale.get(j).copied().unwrap_or(0.0);
			out.push(match &bias {
				Some(b) => y + b.get(j).copied().unwrap_or(0.0),
				None => y,
			});
		}
	}
	let shape = layernorm_shape(&x.shape, a, output)?;
	Ok(f32_tensor(shape, if output == 0 { out } else { stats }))
}
