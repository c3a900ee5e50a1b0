//! Helpers shared by the kernels: axes, broadcasting, index iteration.

use alloc::{format, vec, vec::Vec};

use crate::{
	error::{attr_err, shape_err, CanonError, Result},
	tensor::{DType, Tensor},
};

/// What shape inference knows about an operator input: always dtype and shape, and the value
/// when it is available (always during execution; for constants during compilation).
#[derive(Clone, Copy, Debug)]
pub struct Meta<'a> {
	pub dtype: DType,
	pub shape: &'a [u32],
	pub value: Option<&'a Tensor>,
}

impl<'a> Meta<'a> {
	/// The meta of a known tensor.
	pub fn of(t: &'a Tensor) -> Self {
		Self { dtype: t.dtype, shape: &t.shape, value: Some(t) }
	}
}

/// Normalises a possibly negative axis against `rank` (valid range `[-rank, rank)`).
pub fn norm_axis(op: &'static str, axis: i64, rank: usize) -> Result<usize> {
	let r = rank as i64;
	let a = if axis < 0 { axis + r } else { axis };
	if a < 0 || a >= r {
		return Err(attr_err(op, "axis", format!("axis {axis} out of range for rank {rank}")));
	}
	Ok(a as usize)
}

/// Multidirectional (numpy) broadcasting of two shapes.
pub fn broadcast_shapes(op: &'static str, a: &[u32], b: &[u32]) -> Result<Vec<u32>> {
	let r = a.len().max(b.len());
	let mut out = vec![0u32; r];
	for (i, o) in out.iter_mut().enumerate() {
		let da = dim_from_right(a, r - 1 - i);
		let db = dim_from_right(b, r - 1 - i);
		*o = match (da, db) {
			(x, y) if x == y => x,
			(1, y) => y,
			(x, 1) => x,
			(x, y) => {
				return Err(shape_err(
					op,
					format!("cannot broadcast {a:?} with {b:?} ({x} vs {y})"),
				))
			},
		};
	}
	Ok(out)
}

fn dim_from_right(s: &[u32], k: usize) -> u32 {
	if k < s.len() {
		s.get(s.len() - 1 - k).copied().unwrap_or(1)
	} else {
		1
	}
}

/// Row-major strides (in elements).
pub fn strides(shape: &[u32]) -> Vec<usize> {
	let mut s = vec![1usize; shape.len()];
	let mut acc = 1usize;
	for (st, &d) in s.iter_mut().zip(shape.iter()).rev() {
		*st = acc;
		acc = acc.saturating_mul(d as usize);
	}
	s
}

/// Strides of `inp` viewed with shape `out` (right-aligned; 0 on broadcast axes).
pub fn broadcast_strides(out: &[u32], inp: &[u32]) -> Vec<usize> {
	let own = strides(inp);
	let r = out.len();
	let mut s = vec![0usize; r];
	for k in 0..inp.len().min(r) {
		let (Some(&d), Some(&st)) = (inp.get(inp.len() - 1 - k), own.get(inp.len() - 1 - k)) else {
			continue;
		};
		if d != 1 {
			if let Some(slot) = s.get_mut(r - 1 - k) {
				*slot = st;
			}
		}
	}
	s
}

/// Merges adjacent axes along which both stride vectors are contiguous with each other (or both
/// zero), so the innermost loop runs as long as possible. Axes of size 1 are dropped.
fn collapse(out: &[u32], sa: &[usize], sb: &[usize]) -> (Vec<usize>, Vec<usize>, Vec<usize>) {
	let (mut shape, mut a, mut b): (Vec<usize>, Vec<usize>, Vec<usize>) = (vec![], vec![], vec![]);
	for ((&d, &x), &y) in out.iter().zip(sa).zip(sb) {
		if d == 1 {
			continue;
		}
		let d = d as usize;
		if let (Some(ld), Some(lx), Some(ly)) = (shape.last_mut(), a.last_mut(), b.last_mut()) {
			if *lx == x * d && *ly == y * d {
				*ld *= d;
				*lx = x;
				*ly = y;
				continue;
			}
		}
		shape.push(d);
		a.push(x);
		b.push(y);
	}
	(shape, a, b)
}

/// Calls `f(out_index, a_offset, b_offset)` for every element of `out` in row-major order,
/// with the offsets of the corresponding (broadcast) elements of two inputs.
pub fn for_each_broadcast2(
	out: &[u32],
	sa: &[usize],
	sb: &[usize],
	mut f: impl FnMut(usize, usize, usize),
) {
	for_each_broadcast_run(out, sa, sb, |run| {
		for t in 0..run.len {
			f(run.out + t, run.a + t * run.a_step, run.b + t * run.b_step);
		}
	});
}

/// A run of consecutive output elements whose input offsets advance by fixed steps: element
/// `out + t` reads `a + t * a_step` and `b + t * b_step`, for `t < len`.
#[derive(Clone, Copy, Debug)]
pub struct Run {
	pub out: usize,
	pub len: usize,
	pub a: usize,
	pub a_step: usize,
	pub b: usize,
	pub b_step: usize,
}

/// [`for_each_broadcast2`] by runs: `f` is called for each innermost run of `out` (after
/// merging the axes that allow it), in row-major order.
pub fn for_each_broadcast_run(out: &[u32], sa: &[usize], sb: &[usize], mut f: impl FnMut(Run)) {
	let total: usize = out.iter().map(|&d| d as usize).product();
	if total == 0 {
		return;
	}
	let (shape, sa, sb) = collapse(out, sa, sb);
	let r = shape.len();
	let (n, ia, ib) = match r {
		0 => (1, 0, 0),
		_ => (
			shape.last().copied().unwrap_or(1),
			sa.last().copied().unwrap_or(0),
			sb.last().copied().unwrap_or(0),
		),
	};
	let outer = r.saturating_sub(1);
	let mut idx = vec![0usize; outer];
	let (mut oa, mut ob) = (0usize, 0usize);
	let mut o = 0usize;
	while o < total {
		f(Run { out: o, len: n, a: oa, a_step: ia, b: ob, b_step: ib });
		o += n;
		// Increment the outer multi-index, updating offsets.
		for ax in (0..outer).rev() {
			let (Some(i), Some(&d)) = (idx.get_mut(ax), shape.get(ax)) else { break };
			let sta = sa.get(ax).copied().unwrap_or(0);
			let stb = sb.get(ax).copied().unwrap_or(0);
			*i += 1;
			oa += sta;
			ob += stb;
			if *i < d {
				break;
			}
			oa -= sta * d;
			ob -= stb * d;
			*i = 0;
		}
	}
}

/// Round half to even, exactly `libm::rintf`: below 2^23 in magnitude, adding and subtracting
/// 2^23 leaves the nearest integer (ties to even: IEEE's rounding of the sum, the same on
/// every target); larger values, infinities and NaN are returned as they are. The sign of a
/// zero result is the sign of `v`.
#[inline(always)]
pub fn rint(v: f32) -> f32 {
	const TWO_23: f32 = 8_388_608.0;
	let magnitude = f32::from_bits(v.to_bits() & 0x7fff_ffff);
	if magnitude.is_nan() || magnitude >= TWO_23 {
		return v;
	}
	let r = (magnitude + TWO_23) - TWO_23;
	f32::from_bits(r.to_bits() | (v.to_bits() & 0x8000_0000))
}

/// Elementwise binary map with broadcasting. `a` and `b` must hold `numel(a_shape)` and
/// `numel(b_shape)` values.
pub fn map2<T: Copy, U>(
	a: &[T],
	a_shape: &[u32],
	b: &[T],
	b_shape: &[u32],
	out_shape: &[u32],
	mut f: impl FnMut(T, T) -> U,
) -> Result<Vec<U>> {
	let sa = broadcast_strides(out_shape, a_shape);
	let sb = broadcast_strides(out_shape, b_shape);
	let mut out = Vec::with_capacity(a.len().max(b.len()));
	let mut bad = false;
	// Run by run (equal shapes are one run): a contiguous or repeated operand is read as a slice
	// or a scalar.
	for_each_broadcast_run(out_shape, &sa, &sb, |r| {
		let span = |at: usize, step: usize| at..at + r.len.saturating_sub(1) * step + 1;
		match (r.a_step, r.b_step, a.get(span(r.a, r.a_step)), b.get(span(r.b, r.b_step))) {
			(1, 1, Some(x), Some(y)) => out.extend(x.iter().zip(y).map(|(&x, &y)| f(x, y))),
			(1, 0, Some(x), Some(&[y])) => out.extend(x.iter().map(|&x| f(x, y))),
			(0, 1, Some(&[x]), Some(y)) => out.extend(y.iter().map(|&y| f(x, y))),
			(sa, sb, Some(x), Some(y)) => {
				for t in 0..r.len {
					match (x.get(t * sa), y.get(t * sb)) {
						(Some(&x), Some(&y)) => out.push(f(x, y)),
						_ => bad = true,
					}
				}
			},
			_ => bad = true,
		}
	});
	if bad {
		return Err(CanonError::Overflow { what: "broadcast offset" });
	}
	Ok(out)
}

/// Copies `t`'s elements (of `esize` bytes) into the broadcast shape `out_shape`.
pub fn broadcast_bytes(
	data: &[u8],
	shape: &[u32],
	esize: usize,
	out_shape: &[u32],
) -> Result<Vec<u8>> {
	let s = broadcast_strides(out_shape, shape);
	let zero = vec![0usize; out_shape.len()];
	let mut out = Vec::new();
	let mut bad = false;
	for_each_broadcast2(out_shape, &s, &zero, |_, o, _| {
		match data.get(o * esize..o * esize + esize) {
			Some(e) => out.extend_from_slice(e),
			None => bad = true,
		}
	});
	if bad {
		return Err(CanonError::Overflow { what: "broadcast offset" });
	}
	Ok(out)
}

/// Encodes f32 values as an F32 tensor.
pub fn f32_tensor(shape: Vec<u32>, values: Vec<f32>) -> Tensor {
	Tensor::from_f32(shape, &values)
}

/// Encodes i64 values into an integer tensor of `dtype` (narrowing wraps).
pub fn int_tensor(dtype: DType, shape: Vec<u32>, values: &[i64]) -> Result<Tensor> {
	let mut data = Vec::with_capacity(values.len() * dtype.size());
	match dtype {
		DType::I64 => values.iter().for_each(|v| data.extend_from_slice(&v.to_le_bytes())),
		DType::I32 => {
			values.iter().for_each(|&v| data.extend_from_slice(&(v as i32).to_le_bytes()))
		},
		DType::U8 => values.iter().for_each(|&v| data.push(v as u8)),
		DType::I8 => values.iter().for_each(|&v| data.push(v as i8 as u8)),
		DType::Bool => values.iter().for_each(|&v| data.push((v != 0) as u8)),
		DType::F32 => return Err(CanonError::BadTensor { detail: "int_tensor with F32".into() }),
	}
	Ok(Tensor { dtype, shape, data })
}

/// The value of an input the operator needs to know at shape-inference time.
pub fn need_value<'a>(op: &'static str, m: &Meta<'a>, what: &'static str) -> Result<&'a Tensor> {
	// A value computed at run time would make the program's shapes depend on its inputs.
	m.value.ok_or_else(|| {
		crate::error::not_implemented(op, format!("the {what} input must be a constant"))
	})
}

/// Reads an integer tensor as i64s (the shape/indices inputs).
pub fn ints(op: &'static str, t: &Tensor) -> Result<Vec<i64>> {
	match t.dtype {
		DType::I64 | DType::I32 => t.int_values(),
		d => Err(CanonError::DType { op, input: 1, found: d }),
	}
}

/// Converts a non-negative i64 to a u32 dimension.
pub fn dim(op: &'static str, v: i64) -> Result<u32> {
	u32::try_from(v).map_err(|_| shape_err(op, format!("dimension {v} out of range")))
}

#[cfg(test)]
mod tests {
	use super::*;
	use proptest::prelude::*;

	proptest! {
		/// `map2` on broadcast shapes (any axes of either operand set to 1, ranks differing)
		/// gives every output element from the input elements numpy's rules pick, in
		/// row-major order.
		#[test]
		fn map2_broadcasts_as_numpy(
			out in prop::collection::vec(1u32..5, 0..5),
			a_ones in prop::collection::vec(any::<bool>(), 5),
			b_ones in prop::collection::vec(any::<bool>(), 5),
			drop_a in 0usize..3,
			drop_b in 0usize..3,
		) {
			let pick = |ones: &[bool], drop: usize| -> Vec<u32> {
				let s: Vec<u32> = out.iter().zip(ones).map(|(&d, &one)| if one { 1 } else { d }).collect();
				s[drop.min(s.len())..].to_vec()
			};
			let (ash, bsh) = (pick(&a_ones, drop_a), pick(&b_ones, drop_b));
			let n = |s: &[u32]| s.iter().product::<u32>() as usize;
			let a: Vec<i64> = (0..n(&ash) as i64).collect();
			let b: Vec<i64> = (0..n(&bsh) as i64).map(|v| v * 1000).collect();
			let got = map2(&a, &ash, &b, &bsh, &out, |x, y| x * 1_000_003 - y).unwrap();
			// The reference: each output's multi-index, its right-aligned input indices.
			let offset = |shape: &[u32], idx: &[usize]| {
				let skip = idx.len() - shape.len();
				shape.iter().zip(&idx[skip..]).fold(0usize, |o, (&d, &i)| o * d as usize + if d == 1 { 0 } else { i })
			};
			let mut want = vec![];
			for flat in 0..n(&out) {
				let mut idx = vec![0usize; out.len()];
				let mut rest = flat;
				for (k, &d) in out.iter().enumerate().rev() {
					idx[k] = rest % d as usize;
					rest /= d as usize;
				}
				want.push(a[offset(&ash, &idx)] * 1_000_003 - b[offset(&bsh, &idx)]);
			}
			prop_assert_eq!(got, want);
		}
	}

	/// `rint` is `libm::rintf` bit for bit: on every 4099th bit pattern (a million values across
	/// every exponent, both signs, NaN payloads) and on the ties, the 2^23 boundary, ±0, ±inf.
	#[test]
	fn rint_is_libm_rintf() {
		let edges = [
			0.5f32,
			1.5,
			2.5,
			-0.5,
			-1.5,
			-2.5,
			0.49999997,
			8_388_607.5,
			8_388_608.0,
			8_388_609.0,
			-8_388_607.5,
			16_777_215.0,
			0.0,
			-0.0,
			f32::INFINITY,
			f32::NEG_INFINITY,
			f32::NAN,
			f32::MIN_POSITIVE / 8.0,
			-f32::MIN_POSITIVE,
			f32::MAX,
			f32::MIN,
		];
		let sampled = (0..=u32::MAX).step_by(4099).map(f32::from_bits);
		for v in edges.into_iter().chain(sampled) {
			let (got, want) = (rint(v), libm::rintf(v));
			assert!(
				got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
				"rint({v:e} = {:#x}) = {got:e}, libm {want:e}",
				v.to_bits()
			);
		}
	}
}
