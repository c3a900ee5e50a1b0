//! Comparisons (Equal, Less, Greater, LessOrEqual, GreaterOrEqual), Boolean logic (Not, And, Or,
//! Xor) and Where, all with multidirectional broadcasting. No arithmetic: every output element
//! is a function of one element of each input. F32 comparisons are IEEE-754 (`NaN` compares
//! unequal to everything, `-0.0 == 0.0`).

use alloc::vec::Vec;

use super::common::{broadcast_bytes, broadcast_shapes, map2, Meta};
use crate::{
	error::{CanonError, Result},
	program::Op,
	tensor::{numel, DType, Tensor},
};

fn two<'a, 'b>(op: &'static str, ins: &'b [Meta<'a>]) -> Result<(&'b Meta<'a>, &'b Meta<'a>)> {
	match ins {
		[a, b] => Ok((a, b)),
		_ => Err(CanonError::Arity { op, expected: "2", found: ins.len() }),
	}
}

pub fn infer_compare(op: &Op, ins: &[Meta]) -> Result<(DType, Vec<u32>)> {
	let name = op.name();
	let (a, b) = two(name, ins)?;
	if b.dtype != a.dtype {
		return Err(CanonError::DType { op: name, input: 1, found: b.dtype });
	}
	if a.dtype == DType::Bool && *op != Op::Equal {
		return Err(CanonError::DType { op: name, input: 0, found: a.dtype });
	}
	Ok((DType::Bool, broadcast_shapes(name, a.shape, b.shape)?))
}

fn compare<T: PartialOrd>(op: &Op, x: T, y: T) -> u8 {
	let r = match op {
		Op::Equal => x == y,
		Op::Less => x < y,
		Op::Greater => x > y,
		Op::LessOrEqual => x <= y,
		_ => x >= y,
	};
	r as u8
}

pub fn run_compare(op: &Op, a: &Tensor, b: &Tensor, out_shape: &[u32]) -> Result<Tensor> {
	let data = if a.dtype == DType::F32 {
		let (x, y) = (a.f32_values()?, b.f32_values()?);
		map2(&x, &a.shape, &y, &b.shape, out_shape, |x, y| compare(op, x, y))?
	} else {
		let (x, y) = (a.int_values()?, b.int_values()?);
		map2(&x, &a.shape, &y, &b.shape, out_shape, |x, y| compare(op, x, y))?
	};
	Ok(Tensor { dtype: DType::Bool, shape: out_shape.to_vec(), data })
}

pub fn infer_logic(op: &Op, ins: &[Meta]) -> Result<(DType, Vec<u32>)> {
	let name = op.name();
	for (i, m) in ins.iter().enumerate() {
		if m.dtype != DType::Bool {
			return Err(CanonError::DType { op: name, input: i, found: m.dtype });
		}
	}
	if *op == Op::Not {
		let x = ins.first().ok_or(CanonError::Arity { op: name, expected: "1", found: 0 })?;
		return Ok((DType::Bool, x.shape.to_vec()));
	}
	let (a, b) = two(name, ins)?;
	Ok((DType::Bool, broadcast_shapes(name, a.shape, b.shape)?))
}

pub fn run_logic(op: &Op, ins: &[&Tensor], out_shape: &[u32]) -> Result<Tensor> {
	let name = op.name();
	let data = match (op, ins) {
		(Op::Not, [x]) => x.data.iter().map(|&v| (v == 0) as u8).collect(),
		(_, [a, b]) => map2(&a.data, &a.shape, &b.data, &b.shape, out_shape, |x, y| {
			let (x, y) = (x != 0, y != 0);
			(match op {
				Op::And => x & y,
				Op::Or => x | y,
				_ => x ^ y,
			}) as u8
		})?,
		_ => return Err(CanonError::Arity { op: name, expected: "1 or 2", found: ins.len() }),
	};
	Ok(Tensor { dtype: DType::Bool, shape: out_shape.to_vec(), data })
}

pub fn infer_where(ins: &[Meta]) -> Result<(DType, Vec<u32>)> {
	const OP: &str = "Where";
	let [c, x, y] = ins else {
		return Err(CanonError::Arity { op: OP, expected: "3", found: ins.len() });
	};
	if c.dtype != DType::Bool {
		return Err(CanonError::DType { op: OP, input: 0, found: c.dtype });
	}
	if y.dtype != x.dtype {
		return Err(CanonError::DType { op: OP, input: 2, found: y.dtype });
	}
	let shape = broadcast_shapes(OP, c.shape, x.shape)?;
	Ok((x.dtype, broadcast_shapes(OP, &shape, y.shape)?))
}

/// `out = cond ? x : y`, elementwise after broadcasting all three.
pub fn run_where(ins: &[&Tensor], out_shape: &[u32]) -> Result<Tensor> {
	let [c, x, y] = ins else {
		return Err(CanonError::Arity { op: "Where", expected: "3", found: ins.len() });
	};
	let es = x.dtype.size();
	let c = broadcast_bytes(&c.data, &c.shape, 1, out_shape)?;
	let xb = broadcast_bytes(&x.data, &x.shape, es, out_shape)?;
	let yb = broadcast_bytes(&y.data, &y.shape, es, out_shape)?;
	let n = numel(out_shape)?;
	let mut data = Vec::with_capacity(n * es);
	for (i, &pick) in c.iter().enumerate().take(n) {
		let src = if pick != 0 { &xb } else { &yb };
		let e = src.get(i * es..i * es + es).ok_or(CanonError::Overflow { what: "Where" })?;
		data.extend_from_slice(e);
	}
	Ok(Tensor { dtype: x.dtype, shape: out_shape.to_vec(), data })
}
