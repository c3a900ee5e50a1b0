//! ArgMax, ArgMin and TopK along one axis of an F32 tensor.
//!
//! Order: along the axis, `NaN` is greater than every number; equal values keep their index
//! order (the lower index first, or with `select_last_index` the higher one for ArgMax/ArgMin).
//! TopK returns its `k` elements sorted (largest first with `largest`, smallest first
//! otherwise), ties by ascending index, as ONNX specifies.

use alloc::{format, vec::Vec};
use core::cmp::Ordering;

use super::common::{f32_tensor, norm_axis, Meta};
use crate::{
	error::{attr_err, shape_err, CanonError, Result},
	tensor::{DType, Tensor},
};

/// Total order of the values: numbers by value (`-0.0 == 0.0`), NaN above everything.
fn cmp(a: f32, b: f32) -> Ordering {
	match (a.is_nan(), b.is_nan()) {
		(true, true) => Ordering::Equal,
		(true, false) => Ordering::Greater,
		(false, true) => Ordering::Less,
		_ => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
	}
}

/// Outer count, axis length and inner count of `shape` split at `axis`.
fn split(shape: &[u32], axis: usize) -> (usize, usize, usize) {
	let p = |s: &[u32]| s.iter().map(|&d| d as usize).product::<usize>();
	let len = shape.get(axis).copied().unwrap_or(1) as usize;
	(p(shape.get(..axis).unwrap_or(&[])), len, p(shape.get(axis + 1..).unwrap_or(&[])))
}

fn f32_input<'a>(op: &'static str, ins: &'a [Meta<'a>]) -> Result<&'a Meta<'a>> {
	let x = ins.first().ok_or(CanonError::Arity { op, expected: "1", found: 0 })?;
	if x.dtype != DType::F32 {
		return Err(CanonError::DType { op, input: 0, found: x.dtype });
	}
	Ok(x)
}

pub fn infer_arg(
	op: &'static str,
	ins: &[Meta],
	axis: i32,
	keepdims: bool,
) -> Result<(DType, Vec<u32>)> {
	let x = f32_input(op, ins)?;
	let a = norm_axis(op, axis as i64, x.shape.len())?;
	if x.shape.get(a) == Some(&0) {
		return Err(shape_err(op, "reducing an empty axis"));
	}
	let mut out = x.shape.to_vec();
	if keepdims {
		out[a] = 1;
	} else {
		out.remove(a);
	}
	Ok((DType::I64, out))
}

/// ArgMax (`max = true`) or ArgMin: the index along `axis` of the first (or last) extreme.
pub fn run_arg(
	x: &Tensor,
	axis: i32,
	max: bool,
	select_last: bool,
	out_shape: &[u32],
) -> Result<Tensor> {
	let op = if max { "ArgMax" } else { "ArgMin" };
	let a = norm_axis(op, axis as i64, x.shape.len())?;
	let (outer, len, inner) = split(&x.shape, a);
	let xv = x.f32_values()?;
	let mut out = Vec::with_capacity(outer * inner);
	for o in 0..outer {
		for i in 0..inner {
			let at = |j: usize| xv.get((o * len + j) * inner + i).copied().unwrap_or(0.0);
			let mut best = 0usize;
			for j in 1..len {
				let c = cmp(at(j), at(best));
				let better = if max { c == Ordering::Greater } else { c == Ordering::Less };
				if better || (select_last && c == Ordering::Equal) {
					best = j;
				}
			}
			out.push(best as i64);
		}
	}
	Ok(Tensor::from_i64(out_shape.to_vec(), &out))
}

pub fn infer_topk(ins: &[Meta], axis: i32, k: u32, indices: bool) -> Result<(DType, Vec<u32>)> {
	let x = f32_input("TopK", ins)?;
	let a = norm_axis("TopK", axis as i64, x.shape.len())?;
	let len = x.shape.get(a).copied().unwrap_or(0);
	if k > len {
		return Err(attr_err("TopK", "k", format!("k = {k} > axis length {len}")));
	}
	let mut out = x.shape.to_vec();
	out[a] = k;
	Ok((if indices { DType::I64 } else { DType::F32 }, out))
}

/// TopK's values (`indices = false`) or indices output.
pub fn run_topk(
	x: &Tensor,
	axis: i32,
	k: u32,
	largest: bool,
	indices: bool,
	out_shape: &[u32],
) -> Result<Tensor> {
	let a = norm_axis("TopK", axis as i64, x.shape.len())?;
	let (outer, len, inner) = split(&x.shape, a);
	let k = k as usize;
	let xv = x.f32_values()?;
	let n = outer * k * inner;
	let (mut values, mut idx) = (alloc::vec![0f32; n], alloc::vec![0i64; n]);
	let mut order: Vec<usize> = Vec::with_capacity(len);
	for o in 0..outer {
		for i in 0..inner {
			let at = |j: usize| xv.get((o * len + j) * inner + i).copied().unwrap_or(0.0);
			order.clear();
			order.extend(0..len);
			// Stable: equal values keep ascending index order.
			order.sort_by(|&p, &q| {
				let c = cmp(at(p), at(q));
				if largest {
					c.reverse()
				} else {
					c
				}
			});
			for (r, &j) in order.iter().take(k).enumerate() {
				let d = (o * k + r) * inner + i;
				if let (Some(v), Some(ix)) = (values.get_mut(d), idx.get_mut(d)) {
					*v = at(j);
					*ix = j as i64;
				}
			}
		}
	}
	Ok(if indices {
		Tensor::from_i64(out_shape.to_vec(), &idx)
	} else {
		f32_tensor(out_shape.to_vec(), values)
	})
}
