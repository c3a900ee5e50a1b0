//! Data-movement operators (no arithmetic, any dtype): Identity, Flatten, Reshape, Transpose,
//! Concat, Squeeze, Unsqueeze, Gather, Shape, ConstantOfShape, Slice, Pad (constant, edge,
//! reflect), Expand.

use alloc::{format, vec, vec::Vec};

use super::common::{
	broadcast_bytes, broadcast_shapes, dim, ints, need_value, norm_axis, strides, Meta,
};
use crate::{
	error::{attr_err, not_implemented, shape_err, value_err, CanonError, Result},
	tensor::{numel, DType, Tensor},
};

fn first<'a, 'b>(op: &'static str, ins: &'b [Meta<'a>]) -> Result<&'b Meta<'a>> {
	ins.first().ok_or(CanonError::Arity { op, expected: ">= 1", found: 0 })
}

pub fn infer_flatten(ins: &[Meta], axis: i32) -> Result<(DType, Vec<u32>)> {
	let x = first("Flatten", ins)?;
	let r = x.shape.len() as i64;
	let a = if axis < 0 { axis as i64 + r } else { axis as i64 };
	if a < 0 || a > r {
		return Err(attr_err("Flatten", "axis", format!("axis {axis} out of range for rank {r}")));
	}
	let (lo, hi) = x.shape.split_at(a as usize);
	let d0 = numel(lo)?;
	let d1 = numel(hi)?;
	Ok((x.dtype, vec![dim("Flatten", d0 as i64)?, dim("Flatten", d1 as i64)?]))
}

pub fn infer_reshape(ins: &[Meta], allowzero: bool) -> Result<(DType, Vec<u32>)> {
	const OP: &str = "Reshape";
	let [x, s] = ins else {
		return Err(CanonError::Arity { op: OP, expected: "2", found: ins.len() });
	};
	let spec = ints(OP, need_value(OP, s, "shape")?)?;
	let mut out = Vec::with_capacity(spec.len());
	let mut infer_at = None;
	for (i, &d) in spec.iter().enumerate() {
		match d {
			-1 if infer_at.is_none() => {
				infer_at = Some(i);
				out.push(1);
			},
			0 if !allowzero => out.push(
				*x.shape
					.get(i)
					.ok_or_else(|| shape_err(OP, format!("0 at axis {i} beyond input rank")))?,
			),
			d => out.push(dim(OP, d)?),
		}
	}
	let total = numel(x.shape)?;
	if let Some(i) = infer_at {
		let rest = numel(&out)?;
		if rest == 0 || total % rest != 0 {
			return Err(shape_err(
				OP,
				format!("cannot infer -1 reshaping {:?} to {spec:?}", x.shape),
			));
		}
		if let Some(o) = out.get_mut(i) {
			*o = dim(OP, (total / rest) as i64)?;
		}
	}
	if numel(&out)? != total {
		return Err(shape_err(OP, format!("cannot reshape {:?} to {spec:?}", x.shape)));
	}
	Ok((x.dtype, out))
}

fn perm_of(x: &[u32], perm: &[u32]) -> Result<Vec<usize>> {
	let r = x.len();
	if perm.is_empty() {
		return Ok((0..r).rev().collect());
	}
	let mut seen = vec![false; r];
	let mut p = Vec::with_capacity(r);
	for &a in perm {
		match seen.get_mut(a as usize) {
			Some(s) if !*s => *s = true,
			_ => {
				return Err(attr_err(
					"Transpose",
					"perm",
					format!("{perm:?} is not a permutation of rank {r}"),
				))
			},
		}
		p.push(a as usize);
	}
	if p.len() != r {
		return Err(attr_err(
			"Transpose",
			"perm",
			format!("{perm:?} is not a permutation of rank {r}"),
		));
	}
	Ok(p)
}

pub fn infer_transpose(ins: &[Meta], perm: &[u32]) -> Result<(DType, Vec<u32>)> {
	let x = first("Transpose", ins)?;
	let p = perm_of(x.shape, perm)?;
	Ok((x.dtype, p.iter().map(|&a| x.shape.get(a).copied().unwrap_or(1)).collect()))
}

pub fn run_transpose(x: &Tensor, perm: &[u32], out_shape: &[u32]) -> Result<Tensor> {
	let p = perm_of(&x.shape, perm)?;
	let es = x.dtype.size();
	let is = strides(&x.shape);
	let src_strides: Vec<usize> = p.iter().map(|&a| is.get(a).copied().unwrap_or(0)).collect();
	let zero = vec![0usize; out_shape.len()];
	let mut data = Vec::with_capacity(x.data.len());
	let mut bad = false;
	super::common::for_each_broadcast2(out_shape, &src_strides, &zero, |_, s, _| {
		match x.data.get(s * es..s * es + es) {
			Some(e) => data.extend_from_slice(e),
			None => bad = true,
		}
	});
	if bad {
		return Err(CanonError::Overflow { what: "Transpose offsets" });
	}
	Ok(Tensor { dtype: x.dtype, shape: out_shape.to_vec(), data })
}

pub fn infer_concat(ins: &[Meta], axis: i32) -> Result<(DType, Vec<u32>)> {
	const OP: &str = "Concat";
	let x = first(OP, ins)?;
	let a = norm_axis(OP, axis as i64, x.shape.len())?;
	let mut out = x.shape.to_vec();
	let mut sum = 0u64;
	for (i, m) in ins.iter().enumerate() {
		if m.dtype != x.dtype {
			return Err(CanonError::DType { op: OP, input: i, found: m.dtype });
		}
		let same = m.shape.len() == x.shape.len()
			&& m.shape.iter().zip(x.shape).enumerate().all(|(k, (p, q))| k == a || p == q);
		if !same {
			return Err(shape_err(
				OP,
				format!("input {i} shape {:?} vs {:?} on axis {a}", m.shape, x.shape),
			));
		}
		sum += m.shape.get(a).copied().unwrap_or(0) as u64;
	}
	if let Some(o) = out.get_mut(a) {
		*o = u32::try_from(sum).map_err(|_| CanonError::Overflow { what: "Concat axis" })?;
	}
	Ok((x.dtype, out))
}

pub fn run_concat(ins: &[&Tensor], axis: i32, out_shape: &[u32]) -> Result<Tensor> {
	let r = out_shape.len();
	let a = norm_axis("Concat", axis as i64, r)?;
	let outer = numel(&out_shape[..a])?;
	let es = ins.first().map(|t| t.dtype.size()).unwrap_or(1);
	let blocks: Vec<usize> =
		ins.iter().map(|t| numel(&t.shape[a..]).map(|n| n * es)).collect::<Result<_>>()?;
	let mut data = Vec::with_capacity(blocks.iter().sum::<usize>() * outer);
	for o in 0..outer {
		for (t, &b) in ins.iter().zip(&blocks) {
			let chunk =
				t.data.get(o * b..(o + 1) * b).ok_or(CanonError::Overflow { what: "Concat" })?;
			data.extend_from_slice(chunk);
		}
	}
	let dtype = ins.first().map(|t| t.dtype).unwrap_or(DType::F32);
	Ok(Tensor { dtype, shape: out_shape.to_vec(), data })
}

pub fn infer_squeeze(ins: &[Meta], axes: &[i32]) -> Result<(DType, Vec<u32>)> {
	const OP: &str = "Squeeze";
	let x = first(OP, ins)?;
	let r = x.shape.len();
	let mut drop = vec![false; r];
	for &a in axes {
		let a = norm_axis(OP, a as i64, r)?;
		if x.shape.get(a) != Some(&1) {
			return Err(shape_err(OP, format!("axis {a} of {:?} is not 1", x.shape)));
		}
		if let Some(d) = drop.get_mut(a) {
			*d = true;
		}
	}
	let out = x
		.shape
		.iter()
		.zip(&drop)
		.filter(|(&d, &dr)| !(dr || (axes.is_empty() && d == 1)))
		.map(|(&d, _)| d)
		.collect();
	Ok((x.dtype, out))
}

pub fn infer_unsqueeze(ins: &[Meta], axes: &[i32]) -> Result<(DType, Vec<u32>)> {
	const OP: &str = "Unsqueeze";
	let x = first(OP, ins)?;
	let r = x.shape.len() + axes.len();
	let mut ins_mask = vec![false; r];
	for &a in axes {
		let a = norm_axis(OP, a as i64, r)?;
		match ins_mask.get_mut(a) {
			Some(m) if !*m => *m = true,
			_ => return Err(attr_err(OP, "axes", format!("axis {a} repeated"))),
		}
	}
	let mut src = x.shape.iter();
	let out =
		ins_mask.iter().map(|&m| if m { 1 } else { src.next().copied().unwrap_or(1) }).collect();
	Ok((x.dtype, out))
}

pub fn infer_gather(ins: &[Meta], axis: i32) -> Result<(DType, Vec<u32>)> {
	const OP: &str = "Gather";
	let [x, idx] = ins else {
		return Err(CanonError::Arity { op: OP, expected: "2", found: ins.len() });
	};
	if !matches!(idx.dtype, DType::I64 | DType::I32) {
		return Err(CanonError::DType { op: OP, input: 1, found: idx.dtype });
	}
	let a = norm_axis(OP, axis as i64, x.shape.len())?;
	let mut out = x.shape[..a].to_vec();
	out.extend_from_slice(idx.shape);
	out.extend_from_slice(&x.shape[a + 1..]);
	Ok((x.dtype, out))
}

pub fn run_gather(x: &Tensor, idx: &Tensor, axis: i32, out_shape: &[u32]) -> Result<Tensor> {
	let a = norm_axis("Gather", axis as i64, x.shape.len())?;
	let es = x.dtype.size();
	let outer = numel(&x.shape[..a])?;
	let d = x.shape[a] as i64;
	let inner = numel(&x.shape[a + 1..])? * es;
	let indices = idx.int_values()?;
	let mut data = Vec::with_capacity(outer * indices.len() * inner);
	for o in 0..outer {
		for &i in &indices {
			let j = if i < 0 { i + d } else { i };
			if j < 0 || j >= d {
				return Err(value_err(
					"Gather",
					format!("index {i} out of range for axis size {d}"),
				));
			}
			let start = (o * d as usize + j as usize) * inner;
			let chunk =
				x.data.get(start..start + inner).ok_or(CanonError::Overflow { what: "Gather" })?;
			data.extend_from_slice(chunk);
		}
	}
	Ok(Tensor { dtype: x.dtype, shape: out_shape.to_vec(), data })
}

fn clamp_range(r: usize, start: i32, end: Option<i32>) -> (usize, usize) {
	let norm = |v: i64| -> usize {
		let v = if v < 0 { v + r as i64 } else { v };
		v.clamp(0, r as i64) as usize
	};
	let s = norm(start as i64);
	let e = end.map_or(r, |e| norm(e as i64));
	(s, e.max(s))
}

pub fn infer_shape_op(ins: &[Meta], start: i32, end: Option<i32>) -> Result<(DType, Vec<u32>)> {
	let x = first("Shape", ins)?;
	let (s, e) = clamp_range(x.shape.len(), start, end);
	Ok((DType::I64, vec![(e - s) as u32]))
}

pub fn run_shape_op(x: &Tensor, start: i32, end: Option<i32>) -> Tensor {
	shape_tensor(&x.shape, start, end)
}

/// The I64 tensor `Shape` gives for a tensor of `shape`; the compiler folds every `Shape` node
/// to it, as a compiled program's shapes are static.
pub fn shape_tensor(shape: &[u32], start: i32, end: Option<i32>) -> Tensor {
	let (s, e) = clamp_range(shape.len(), start, end);
	let v: Vec<i64> = shape.get(s..e).unwrap_or(&[]).iter().map(|&d| d as i64).collect();
	Tensor::from_i64(vec![v.len() as u32], &v)
}

pub fn infer_constant_of_shape(ins: &[Meta], value: &Tensor) -> Result<(DType, Vec<u32>)> {
	const OP: &str = "ConstantOfShape";
	let s = first(OP, ins)?;
	if value.numel()? != 1 {
		return Err(attr_err(OP, "value", "must have exactly one element"));
	}
	value.validate()?;
	let spec = ints(OP, need_value(OP, s, "shape")?)?;
	if s.shape.len() != 1 {
		return Err(shape_err(OP, "shape input must be 1-D"));
	}
	let out = spec.iter().map(|&d| dim(OP, d)).collect::<Result<Vec<u32>>>()?;
	Ok((value.dtype, out))
}

pub fn run_constant_of_shape(value: &Tensor, out_shape: &[u32]) -> Result<Tensor> {
	let n = numel(out_shape)?;
	let mut data = Vec::with_capacity(n * value.data.len());
	for _ in 0..n {
		data.extend_from_slice(&value.data);
	}
	Ok(Tensor { dtype: value.dtype, shape: out_shape.to_vec(), data })
}

/// Per-axis (start, step, count) of a Slice, following ONNX's clamping rules.
pub(crate) fn slice_plan(
	x: &[u32],
	starts: &[i64],
	ends: &[i64],
	axes: &[i32],
	steps: &[i64],
) -> Result<Vec<(i64, i64, usize)>> {
	const OP: &str = "Slice";
	let r = x.len();
	if starts.len() != ends.len()
		|| (!axes.is_empty() && axes.len() != starts.len())
		|| (!steps.is_empty() && steps.len() != starts.len())
	{
		return Err(attr_err(OP, "starts", "starts, ends, axes and steps lengths differ"));
	}
	let mut plan: Vec<(i64, i64, usize)> = x.iter().map(|&d| (0, 1, d as usize)).collect();
	let mut seen = vec![false; r];
	for (i, (&s, &e)) in starts.iter().zip(ends).enumerate() {
		let a = match axes.get(i) {
			Some(&a) => norm_axis(OP, a as i64, r)?,
			None => i,
		};
		match seen.get_mut(a) {
			Some(v) if !*v => *v = true,
			_ => return Err(attr_err(OP, "axes", format!("axis {a} repeated or out of range"))),
		}
		let step = steps.get(i).copied().unwrap_or(1);
		if step == 0 {
			return Err(attr_err(OP, "steps", "step 0"));
		}
		let d = x.get(a).copied().unwrap_or(0) as i64;
		let fix = |v: i64| if v < 0 { v.saturating_add(d) } else { v };
		let (s, e) = (fix(s), fix(e));
		// ONNX clamping; written with max/min because the bounds cross when d == 0.
		let (s, e) = if step > 0 {
			(s.max(0).min(d), e.max(0).min(d))
		} else {
			(s.max(0).min(d - 1), e.max(-1).min(d - 1))
		};
		let count = if step > 0 {
			if e > s {
				(e - s + step - 1) / step
			} else {
				0
			}
		} else if s > e {
			(s - e + (-step) - 1) / (-step)
		} else {
			0
		};
		if let Some(p) = plan.get_mut(a) {
			*p = (s, step, count as usize);
		}
	}
	Ok(plan)
}

pub fn infer_slice(
	ins: &[Meta],
	starts: &[i64],
	ends: &[i64],
	axes: &[i32],
	steps: &[i64],
) -> Result<(DType, Vec<u32>)> {
	let x = first("Slice", ins)?;
	let plan = slice_plan(x.shape, starts, ends, axes, steps)?;
	Ok((x.dtype, plan.iter().map(|p| p.2 as u32).collect()))
}

pub fn run_slice(
	x: &Tensor,
	starts: &[i64],
	ends: &[i64],
	axes: &[i32],
	steps: &[i64],
	out_shape: &[u32],
) -> Result<Tensor> {
	let plan = slice_plan(&x.shape, starts, ends, axes, steps)?;
	let es = x.dtype.size();
	let is = strides(&x.shape);
	let base: i64 = plan.iter().zip(&is).map(|(p, &s)| p.0 * s as i64).sum();
	let mut data = Vec::new();
	let mut bad = false;
	// Walk output indices, tracking the (signed) input offset.
	let r = out_shape.len();
	let total = numel(out_shape)?;
	let mut idx = vec![0usize; r];
	let mut off = base;
	for _ in 0..total {
		let o = off as usize;
		match x.data.get(o * es..o * es + es) {
			Some(e) if off >= 0 => data.extend_from_slice(e),
			_ => bad = true,
		}
		for ax in (0..r).rev() {
			let step = plan.get(ax).map_or(1, |p| p.1) * is.get(ax).copied().unwrap_or(0) as i64;
			let d = out_shape.get(ax).copied().unwrap_or(1) as usize;
			let Some(i) = idx.get_mut(ax) else { break };
			*i += 1;
			off += step;
			if *i < d {
				break;
			}
			off -= step * d as i64;
			*i = 0;
		}
	}
	if bad {
		return Err(CanonError::Overflow { what: "Slice offsets" });
	}
	Ok(Tensor { dtype: x.dtype, shape: out_shape.to_vec(), data })
}

pub fn infer_pad(ins: &[Meta], pads: &[i64], value: u32) -> Result<(DType, Vec<u32>)> {
	const OP: &str = "Pad";
	let x = first(OP, ins)?;
	let r = x.shape.len();
	if pads.len() != 2 * r {
		return Err(attr_err(OP, "pads", format!("{} entries for rank {r}", pads.len())));
	}
	if x.dtype != DType::F32 && value != 0 {
		return Err(not_implemented(OP, "a non-zero pad value on integer data"));
	}
	let mut out = Vec::with_capacity(r);
	for (i, &d) in x.shape.iter().enumerate() {
		let v =
			d as i64 + pads.get(i).copied().unwrap_or(0) + pads.get(i + r).copied().unwrap_or(0);
		out.push(dim(OP, v)?);
	}
	Ok((x.dtype, out))
}

/// What fills the padding of a Pad.
#[derive(Clone, Copy, Debug)]
pub enum PadFill {
	/// The F32 bit pattern (0 for other dtypes).
	Constant(u32),
	/// The nearest element of the axis.
	Edge,
	/// The axis mirrored about its first and last element (which are not repeated).
	Reflect,
}

/// The source index along an axis of length `d` for output index `i` with `begin` padding
/// (`None`: padding filled with the constant).
fn pad_source(fill: PadFill, i: i64, begin: i64, d: i64) -> Option<i64> {
	let j = i - begin;
	if (0..d).contains(&j) {
		return Some(j);
	}
	match fill {
		PadFill::Constant(_) => None,
		_ if d <= 0 => None,
		PadFill::Edge => Some(j.clamp(0, d - 1)),
		PadFill::Reflect if d == 1 => Some(0),
		PadFill::Reflect => {
			let period = 2 * (d - 1);
			let m = j.rem_euclid(period);
			Some(if m < d { m } else { period - m })
		},
	}
}

pub fn infer_pad_border(ins: &[Meta], pads: &[i64], op: &'static str) -> Result<(DType, Vec<u32>)> {
	let (dtype, out) = infer_pad(ins, pads, 0)?;
	let x = first(op, ins)?;
	for (ax, &d) in x.shape.iter().enumerate() {
		if d == 0 && out.get(ax).is_some_and(|&o| o > 0) {
			return Err(shape_err(op, format!("axis {ax} is empty: nothing to pad from")));
		}
	}
	Ok((dtype, out))
}

pub fn run_pad(x: &Tensor, pads: &[i64], fill: PadFill, out_shape: &[u32]) -> Result<Tensor> {
	let r = out_shape.len();
	let es = x.dtype.size();
	let constant: Vec<u8> = match fill {
		PadFill::Constant(value) if x.dtype == DType::F32 => value.to_le_bytes().to_vec(),
		_ => vec![0u8; es],
	};
	let is = strides(&x.shape);
	let total = numel(out_shape)?;
	let mut data = Vec::with_capacity(total * es);
	let mut idx = vec![0usize; r];
	for _ in 0..total {
		let mut src = Some(0usize);
		for (ax, &i) in idx.iter().enumerate() {
			let p = pads.get(ax).copied().unwrap_or(0);
			let d = x.shape.get(ax).copied().unwrap_or(0) as i64;
			let Some(s) = pad_source(fill, i as i64, p, d) else {
				src = None;
				break;
			};
			src = src.map(|o| o + s as usize * is.get(ax).copied().unwrap_or(0));
		}
		match src {
			Some(o) => data.extend_from_slice(
				x.data.get(o * es..o * es + es).ok_or(CanonError::Overflow { what: "Pad" })?,
			),
			None => data.extend_from_slice(&constant),
		}
		for ax in (0..r).rev() {
			let d = out_shape.get(ax).copied().unwrap_or(1) as usize;
			let Some(i) = idx.get_mut(ax) else { break };
			*i += 1;
			if *i < d {
				break;
			}
			*i = 0;
		}
	}
	Ok(Tensor { dtype: x.dtype, shape: out_shape.to_vec(), data })
}

pub fn infer_expand(ins: &[Meta]) -> Result<(DType, Vec<u32>)> {
	const OP: &str = "Expand";
	let [x, s] = ins else {
		return Err(CanonError::Arity { op: OP, expected: "2", found: ins.len() });
	};
	let spec = ints(OP, need_value(OP, s, "shape")?)?;
	let target = spec.iter().map(|&d| dim(OP, d)).collect::<Result<Vec<u32>>>()?;
	Ok((x.dtype, broadcast_shapes(OP, x.shape, &target)?))
}

pub fn run_expand(x: &Tensor, out_shape: &[u32]) -> Result<Tensor> {
	let data = broadcast_bytes(&x.data, &x.shape, x.dtype.size(), out_shape)?;
	Ok(Tensor { dtype: x.dtype, shape: out_shape.to_vec(), data })
}

pub fn infer_gather_elements(ins: &[Meta], axis: i32) -> Result<(DType, Vec<u32>)> {
	const OP: &str = "GatherElements";
	let (x, idx) = match ins {
		[x, i] => (x, i),
		_ => return Err(CanonError::Arity { op: OP, expected: "2", found: ins.len() }),
	};
	if !matches!(idx.dtype, DType::I64 | DType::I32) {
		return Err(CanonError::DType { op: OP, input: 1, found: idx.dtype });
	}
	let a = norm_axis(OP, axis as i64, x.shape.len())?;
	if idx.shape.len() != x.shape.len()
		|| idx.shape.iter().zip(x.shape.iter()).enumerate().any(|(i, (&n, &d))| i != a && n > d)
	{
		return Err(shape_err(OP, format!("indices {:?} for data {:?}", idx.shape, x.shape)));
	}
	Ok((x.dtype, idx.shape.to_vec()))
}

pub fn run_gather_elements(
	x: &Tensor,
	idx: &Tensor,
	axis: i32,
	out_shape: &[u32],
) -> Result<Tensor> {
	const OP: &str = "GatherElements";
	let a = norm_axis(OP, axis as i64, x.shape.len())?;
	let es = x.dtype.size();
	let xs = strides(&x.shape);
	let is = strides(&idx.shape);
	let dim = x.shape.get(a).copied().unwrap_or(0) as i64;
	let iv = idx.int_values()?;
	let mut data = Vec::with_capacity(iv.len() * es);
	for (flat, &v) in iv.iter().enumerate() {
		let j = if v < 0 { v + dim } else { v };
		if !(0..dim).contains(&j) {
			return Err(value_err(OP, format!("index {v} out of range for axis of {dim}")));
		}
		let mut off = 0usize;
		let mut rest = flat;
		for (ax, (&st, &xst)) in is.iter().zip(&xs).enumerate() {
			let c = rest / st.max(1);
			rest %= st.max(1);
			off += if ax == a { j as usize } else { c } * xst;
		}
		data.extend_from_slice(
			x.data.get(off * es..off * es + es).ok_or(CanonError::Overflow { what: OP })?,
		);
	}
	Ok(Tensor { dtype: x.dtype, shape: out_shape.to_vec(), data })
}

pub fn infer_trilu(ins: &[Meta]) -> Result<(DType, Vec<u32>)> {
	let x = first("Trilu", ins)?;
	if x.shape.len() < 2 {
		return Err(shape_err("Trilu", format!("rank {} < 2", x.shape.len())));
	}
	Ok((x.dtype, x.shape.to_vec()))
}

pub fn run_trilu(x: &Tensor, upper: bool, k: i64) -> Result<Tensor> {
	let r = x.shape.len();
	let (rows, cols) = match x.shape.get(r.saturating_sub(2)..) {
		Some(&[h, w]) => (h as usize, w as usize),
		_ => return Err(shape_err("Trilu", "rank < 2")),
	};
	let es = x.dtype.size();
	let mut data = x.data.clone();
	for (e, chunk) in data.chunks_exact_mut(es).enumerate() {
		let plane = e % (rows * cols).max(1);
		let (i, j) = ((plane / cols.max(1)) as i64, (plane % cols.max(1)) as i64);
		let keep = if upper { j - i >= k } else { j - i <= k };
		if !keep {
			chunk.fill(0);
		}
	}
	Ok(Tensor { dtype: x.dtype, shape: x.shape.clone(), data })
}
