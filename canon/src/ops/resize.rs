//! Resize (nearest and linear) of F32 tensors of any rank to a static output shape.
//!
//! Each axis is planned once ([`plan_axis`]): every output coordinate `x` maps back to the input
//! with the operator's coordinate transformation, computed in f32 as ONNX Runtime does
//! (`x_in = (x + 0.5) / scale - 0.5` for half-pixel...). An axis whose length and scale are
//! unchanged (`len_out == len_in`, `scale == 1`) is copied, whatever the mode.
//! - Nearest: the mapped coordinate is rounded by the nearest mode and clamped to
//!   `[0, len_in - 1]`; the output element is that input element.
//! - Linear: the mapped coordinate is clamped to `[0, len_in - 1]`; `lo = floor(x_in)`,
//!   `hi = min(lo + 1, len_in - 1)`, `w_hi = x_in - lo`, `w_lo = 1 - w_hi`.
//!
//! Reduction order (linear): the resized axes `a_1 < a_2 < ... < a_k` give `2^k` corners,
//! enumerated in binary order with `a_1` the most significant bit (0 = lo, 1 = hi). For each
//! corner its weight is `w = w_{a_1}`, then `w = w * w_{a_j}` for `j` ascending; then
//! `acc = 0.0; for each corner in order: acc = acc + w * x_corner`. One tap per corner, none
//! skipped, so a zero weight on an infinite input gives NaN as the formula says.

use alloc::{format, vec, vec::Vec};
use core::ops::Range;

use super::common::{f32_tensor, strides, Meta};
use crate::{
	error::{attr_err, not_implemented, shape_err, CanonError, Result},
	program::{CoordinateTransform, NearestMode, ResizeMode},
	tensor::{DType, Tensor},
};

const OP: &str = "Resize";

/// The most axes a linear resize may interpolate along (its taps are `2^axes`).
pub const MAX_LINEAR_AXES: usize = 4;

pub fn infer_resize(
	ins: &[Meta],
	mode: ResizeMode,
	scales: &[u32],
	sizes: &[u32],
) -> Result<(DType, Vec<u32>)> {
	let x = ins.first().ok_or(CanonError::Arity { op: OP, expected: "1", found: 0 })?;
	if x.dtype != DType::F32 {
		return Err(CanonError::DType { op: OP, input: 0, found: x.dtype });
	}
	let r = x.shape.len();
	if scales.len() != r || sizes.len() != r {
		return Err(attr_err(
			OP,
			"scales",
			format!("{} scales and {} sizes for rank {r}", scales.len(), sizes.len()),
		));
	}
	let mut resized = 0;
	for ((&d, &s), &o) in x.shape.iter().zip(scales).zip(sizes) {
		let s = f32::from_bits(s);
		if !(s.is_finite() && s > 0.0) {
			return Err(attr_err(OP, "scales", format!("scale {s} (must be finite and > 0)")));
		}
		if d == 0 || o == 0 {
			return Err(shape_err(OP, format!("empty axis ({d} -> {o})")));
		}
		resized += usize::from(!is_copy(d, s, o));
	}
	if mode == ResizeMode::Linear && resized > MAX_LINEAR_AXES {
		return Err(not_implemented(
			OP,
			format!("linear resize along {resized} axes (at most {MAX_LINEAR_AXES})"),
		));
	}
	Ok((DType::F32, sizes.to_vec()))
}

/// Taps per output element (1 for nearest, `2^k` for linear along k axes): for `node_work`.
pub fn taps(shape: &[u32], mode: ResizeMode, scales: &[u32], sizes: &[u32]) -> u64 {
	if mode == ResizeMode::Nearest {
		return 1;
	}
	let k = shape
		.iter()
		.zip(scales)
		.zip(sizes)
		.filter(|((&d, &s), &o)| !is_copy(d, f32::from_bits(s), o))
		.count();
	1u64 << k.min(MAX_LINEAR_AXES)
}

fn is_copy(len_in: u32, scale: f32, len_out: u32) -> bool {
	len_in == len_out && scale == 1.0
}

/// Maps output coordinate `x` of an axis back to the input (f32, as ONNX Runtime).
fn source(coord: CoordinateTransform, x: usize, scale: f32, len_in: u32, len_out: u32) -> f32 {
	let xf = x as f32;
	match coord {
		CoordinateTransform::HalfPixel => (xf + 0.5) / scale - 0.5,
		CoordinateTransform::PytorchHalfPixel => {
			if len_out > 1 {
				(xf + 0.5) / scale - 0.5
			} else {
				0.0
			}
		},
		CoordinateTransform::AlignCorners => {
			if len_out == 1 {
				0.0
			} else {
				xf * (len_in - 1) as f32 / (len_out - 1) as f32
			}
		},
		CoordinateTransform::Asymmetric => xf / scale,
		CoordinateTransform::TfHalfPixelForNn => (xf + 0.5) / scale,
	}
}

fn round_nearest(mode: NearestMode, v: f32) -> f32 {
	match mode {
		NearestMode::RoundPreferFloor => {
			if v == libm::floorf(v) + 0.5 {
				libm::floorf(v)
			} else {
				libm::roundf(v)
			}
		},
		NearestMode::RoundPreferCeil => libm::roundf(v),
		NearestMode::Floor => libm::floorf(v),
		NearestMode::Ceil => libm::ceilf(v),
	}
}

/// One output coordinate of one axis: input indices and weights (`hi == lo`, `w_hi == 0.0` for
/// a single tap).
#[derive(Clone, Copy, Debug)]
struct Tap {
	lo: usize,
	hi: usize,
	w_lo: f32,
	w_hi: f32,
}

/// The taps of every output coordinate of one axis, and whether the axis is resized.
fn plan_axis(
	mode: ResizeMode,
	coord: CoordinateTransform,
	nearest: NearestMode,
	len_in: u32,
	scale: f32,
	len_out: u32,
) -> (Vec<Tap>, bool) {
	if is_copy(len_in, scale, len_out) {
		let taps = (0..len_out as usize).map(|i| Tap { lo: i, hi: i, w_lo: 1.0, w_hi: 0.0 });
		return (taps.collect(), false);
	}
	let last = (len_in - 1) as f32;
	let taps = (0..len_out as usize)
		.map(|x| {
			let v = source(coord, x, scale, len_in, len_out);
			match mode {
				ResizeMode::Nearest => {
					let i = round_nearest(nearest, v).clamp(0.0, last) as usize;
					Tap { lo: i, hi: i, w_lo: 1.0, w_hi: 0.0 }
				},
				ResizeMode::Linear => {
					let v = v.clamp(0.0, last);
					let lo = libm::floorf(v);
					let w_hi = v - lo;
					let lo = lo as usize;
					Tap { lo, hi: (lo + 1).min(len_in as usize - 1), w_lo: 1.0 - w_hi, w_hi }
				},
			}
		})
		.collect();
	(taps, true)
}

pub fn run_resize(
	x: &Tensor,
	mode: ResizeMode,
	coord: CoordinateTransform,
	nearest: NearestMode,
	scales: &[u32],
	sizes: &[u32],
) -> Result<Tensor> {
	infer_resize(&[Meta::of(x)], mode, scales, sizes)?;
	let xv = x.f32_values()?;
	if sizes.is_empty() {
		return Ok(f32_tensor(sizes.to_vec(), xv));
	}
	let plan = ResizePlan::new(&x.shape, mode, coord, nearest, scales, sizes);
	let out = plan.rows(&xv, 0..plan.row_count())?;
	Ok(f32_tensor(sizes.to_vec(), out))
}

/// A Resize planned axis by axis, computed output row by output row (a row: all axes but the
/// last fixed).
pub(crate) struct ResizePlan {
	plans: Vec<Vec<Tap>>,
	/// The input's strides.
	is: Vec<usize>,
	/// The linear-resized axes before the last (the corners weighed once per row).
	outer: Vec<usize>,
	/// Whether the last axis is linear-resized (its weight the last factor).
	last_resized: bool,
	sizes: Vec<u32>,
}

impl ResizePlan {
	/// The plan of a Resize of input shape `shape` (checked by [`infer_resize`]) to `sizes`.
	pub(crate) fn new(
		shape: &[u32],
		mode: ResizeMode,
		coord: CoordinateTransform,
		nearest: NearestMode,
		scales: &[u32],
		sizes: &[u32],
	) -> Self {
		let mut plans = Vec::with_capacity(shape.len());
		let mut resized = Vec::new();
		for (ax, ((&d, &s), &o)) in shape.iter().zip(scales).zip(sizes).enumerate() {
			let (taps, moved) = plan_axis(mode, coord, nearest, d, f32::from_bits(s), o);
			if moved && mode == ResizeMode::Linear {
				resized.push(ax);
			}
			plans.push(taps);
		}
		let last = sizes.len().saturating_sub(1);
		let last_resized = resized.last() == Some(&last);
		let outer = resized[..resized.len() - usize::from(last_resized)].to_vec();
		Self { plans, is: strides(shape), outer, last_resized, sizes: sizes.to_vec() }
	}

	/// Number of output rows.
	pub(crate) fn row_count(&self) -> usize {
		let last = self.sizes.len().saturating_sub(1);
		self.sizes.iter().take(last).map(|&d| d as usize).product()
	}

	/// Output elements per row (the last axis's length).
	pub(crate) fn row_len(&self) -> usize {
		self.sizes.last().copied().unwrap_or(1) as usize
	}

	/// Row `row`'s all-`lo` input offset and its corners `(weight, offset)`: the resized axes
	/// before the last in binary order, with the products of the definition.
	fn corners(&self, row: usize, corners: &mut Vec<(f32, usize)>) -> Result<usize> {
		let overflow = || CanonError::Overflow { what: "Resize offsets" };
		let last = self.sizes.len().saturating_sub(1);
		// The row's multi-index over the axes before the last.
		let mut idx = vec![0usize; last];
		let mut rest = row;
		for (i, &d) in idx.iter_mut().zip(&self.sizes).rev() {
			*i = rest % (d as usize).max(1);
			rest /= (d as usize).max(1);
		}
		let mut base = 0usize;
		for (ax, &i) in idx.iter().enumerate() {
			let tap = self.plans.get(ax).and_then(|p| p.get(i)).ok_or_else(overflow)?;
			base += tap.lo * self.is.get(ax).copied().unwrap_or(0);
		}
		corners.clear();
		let outer = &self.outer;
		for corner in 0..1usize << outer.len() {
			let (mut off, mut w) = (base, 1f32);
			for (bit, &ax) in outer.iter().enumerate() {
				let i = idx.get(ax).copied().unwrap_or(0);
				let tap = self.plans.get(ax).and_then(|p| p.get(i)).ok_or_else(overflow)?;
				let high = (corner >> (outer.len() - 1 - bit)) & 1 == 1;
				let wa = if high {
					let st = self.is.get(ax).copied().unwrap_or(0);
					off = off - tap.lo * st + tap.hi * st;
					tap.w_hi
				} else {
					tap.w_lo
				};
				w = if bit == 0 { wa } else { w * wa };
			}
			corners.push((w, off));
		}
		Ok(base)
	}

	/// Output rows `rows` of input values `xv`: per row, the last axis's taps over the row's
	/// corners, `acc = acc + w * x` in corner order (the last axis's weight the last factor).
	pub(crate) fn rows(&self, xv: &[f32], rows: Range<usize>) -> Result<Vec<f32>> {
		let overflow = || CanonError::Overflow { what: "Resize offsets" };
		let last = self.sizes.len().saturating_sub(1);
		let last_taps = self.plans.get(last).ok_or_else(overflow)?;
		let last_stride = self.is.get(last).copied().unwrap_or(0);
		let at = |off: usize| xv.get(off).copied().ok_or_else(overflow);
		let mut out = Vec::with_capacity(rows.len() * last_taps.len());
		let mut corners: Vec<(f32, usize)> = Vec::with_capacity(1 << self.outer.len());
		for row in rows {
			let base = self.corners(row, &mut corners)?;
			for t in last_taps {
				let (lo, hi) = (t.lo * last_stride, t.hi * last_stride);
				let v = match (self.outer.is_empty(), self.last_resized) {
					(true, false) => at(base + lo)?,
					(true, true) => {
						let mut acc = 0f32;
						acc += t.w_lo * at(base + lo)?;
						acc += t.w_hi * at(base + hi)?;
						acc
					},
					(false, false) => {
						let mut acc = 0f32;
						for &(w, off) in &corners {
							acc += w * at(off + lo)?;
						}
						acc
					},
					(false, true) => {
						let mut acc = 0f32;
						for &(w, off) in &corners {
							acc += (w * t.w_lo) * at(off + lo)?;
							acc += (w * t.w_hi) * at(off + hi)?;
						}
						acc
					},
				};
				out.push(v);
			}
		}
		Ok(out)
	}

	/// The input elements output rows `rows` read: per row and corner, the run of the last
	/// axis from its lowest tap to its highest.
	pub(crate) fn row_reads(&self, rows: Range<usize>) -> Result<Vec<Range<usize>>> {
		let last = self.sizes.len().saturating_sub(1);
		let taps = self.plans.get(last).map(Vec::as_slice).unwrap_or_default();
		let st = self.is.get(last).copied().unwrap_or(0);
		let lo = taps.iter().map(|t| t.lo).min().unwrap_or(0) * st;
		let hi = taps.iter().map(|t| t.hi).max().unwrap_or(0) * st;
		let mut corners = Vec::new();
		let mut reads = Vec::new();
		for row in rows {
			let base = self.corners(row, &mut corners)?;
			reads.push(base + lo..base + hi + 1);
			reads.extend(corners.iter().map(|&(_, off)| off + lo..off + hi + 1));
		}
		Ok(reads)
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use proptest::prelude::*;

	/// The definition, element by element: every output's corners in binary order over all the
	/// resized axes, `w` multiplied in axis order, `acc = acc + w * x`.
	fn per_element(
		x: &Tensor,
		mode: ResizeMode,
		coord: CoordinateTransform,
		sizes: &[u32],
	) -> Vec<f32> {
		let xv = x.f32_values().unwrap();
		let is = strides(&x.shape);
		let mut plans = vec![];
		let mut resized = vec![];
		for (ax, (&d, &o)) in x.shape.iter().zip(sizes).enumerate() {
			let (taps, moved) =
				plan_axis(mode, coord, NearestMode::RoundPreferFloor, d, o as f32 / d as f32, o);
			if moved && mode == ResizeMode::Linear {
				resized.push(ax);
			}
			plans.push(taps);
		}
		let total: usize = sizes.iter().map(|&d| d as usize).product();
		let mut idx = vec![0usize; sizes.len()];
		let mut out = vec![];
		for _ in 0..total {
			let base: usize = idx.iter().enumerate().map(|(ax, &i)| plans[ax][i].lo * is[ax]).sum();
			let mut acc = 0f32;
			if resized.is_empty() {
				acc = xv[base];
			}
			for corner in 0..(1usize << resized.len()) * usize::from(!resized.is_empty()) {
				let (mut off, mut w) = (base, 1f32);
				for (bit, &ax) in resized.iter().enumerate() {
					let t = &plans[ax][idx[ax]];
					let high = (corner >> (resized.len() - 1 - bit)) & 1 == 1;
					let wa = if high {
						off = off - t.lo * is[ax] + t.hi * is[ax];
						t.w_hi
					} else {
						t.w_lo
					};
					w = if bit == 0 { wa } else { w * wa };
				}
				acc += w * xv[off];
			}
			out.push(acc);
			for ax in (0..idx.len()).rev() {
				idx[ax] += 1;
				if idx[ax] < sizes[ax] as usize {
					break;
				}
				idx[ax] = 0;
			}
		}
		out
	}

	proptest! {
		/// Resize row by row = the per-element definition, bit for bit (NaNs as committed), on
		/// linear and nearest resizes of any axes (some copied), with awkward values.
		#[test]
		fn resize_by_rows_is_the_per_element_definition(
			dims in prop::collection::vec((1u32..5, 1u32..7, any::<bool>()), 1..5),
			linear in any::<bool>(),
			coord in prop::sample::select(vec![CoordinateTransform::HalfPixel, CoordinateTransform::Asymmetric, CoordinateTransform::AlignCorners]),
			values in prop::collection::vec(prop_oneof![4 => -4.0f32..4.0, 1 => Just(f32::NAN), 1 => Just(f32::INFINITY), 1 => Just(-0.0f32)], 1..50),
		) {
			let shape: Vec<u32> = dims.iter().map(|d| d.0).collect();
			let sizes: Vec<u32> = dims.iter().map(|&(d, o, copy)| if copy { d } else { o }).collect();
			let n: usize = shape.iter().map(|&d| d as usize).product();
			let xs: Vec<f32> = (0..n).map(|i| values[i % values.len()]).collect();
			let x = Tensor::from_f32(shape.clone(), &xs);
			let mode = if linear { ResizeMode::Linear } else { ResizeMode::Nearest };
			let scales: Vec<u32> = shape.iter().zip(&sizes).map(|(&d, &o)| (o as f32 / d as f32).to_bits()).collect();
			let got = run_resize(&x, mode, coord, NearestMode::RoundPreferFloor, &scales, &sizes).unwrap();
			let want = per_element(&x, mode, coord, &sizes);
			let bits = |v: &[f32]| v.iter().map(|f| if f.is_nan() { crate::CANONICAL_NAN } else { f.to_bits() }).collect::<Vec<_>>();
			prop_assert_eq!(bits(&got.f32_values().unwrap()), bits(&want));
		}
	}
}
