//! Gemm and MatMul.
//!
//! Reduction order: every output element is `acc = 0.0; for k in 0..K ascending { acc = acc +
//! a[i][k] * b[k][j] }` (one f32 multiply, then one f32 add; never fused). The loops run
//! i, k, j (row of A, then k, then a contiguous row of B), which keeps each output's sum in
//! increasing k order while streaming memory sequentially.

use alloc::{format, vec, vec::Vec};

use super::common::{broadcast_shapes, broadcast_strides, f32_tensor, for_each_broadcast2, Meta};
use crate::{
	error::{shape_err, CanonError, Result},
	simd::{Isa, Kernel},
	tensor::{DType, Tensor},
};

/// What a product accumulates: f32, one multiply then one add, never fused (so a sum's order is
/// its definition); or i32 with wrapping arithmetic (the integer operators; any order gives the
/// same result).
pub trait Mac: Copy + Default {
	/// `self + a * b`.
	fn mac(self, a: Self, b: Self) -> Self;
}

impl Mac for f32 {
	#[inline(always)]
	fn mac(self, a: f32, b: f32) -> f32 {
		self + a * b
	}
}

impl Mac for i32 {
	#[inline(always)]
	fn mac(self, a: i32, b: i32) -> i32 {
		self.wrapping_add(a.wrapping_mul(b))
	}
}

/// `out (m x n) += a (m x k) * b (k x n)`, all row-major, out pre-zeroed.
#[inline(always)]
pub fn gemm_acc<T: Mac>(m: usize, k: usize, n: usize, a: &[T], b: &[T], out: &mut [T]) {
	if m == 0 || n == 0 || k == 0 {
		return;
	}
	for (arow, orow) in a.chunks_exact(k).zip(out.chunks_exact_mut(n)).take(m) {
		for (&av, brow) in arow.iter().zip(b.chunks_exact(n)) {
			for (o, &bv) in orow.iter_mut().zip(brow.iter()) {
				*o = o.mac(av, bv);
			}
		}
	}
}

/// `out (m x n) = a (m x k) * b'` where `b` is stored `n x k` (Gemm with `transB`): each output
/// is a dot product accumulated over k ascending (`acc = 0.0; acc = acc + a[k] * b[k]`), four
/// rows of `b` at a time so the four independent sums overlap. Same order as [`gemm_acc`].
#[inline(always)]
pub fn gemm_nt(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], out: &mut [f32]) {
	if m == 0 || n == 0 || k == 0 {
		return;
	}
	for (arow, orow) in a.chunks_exact(k).zip(out.chunks_exact_mut(n)).take(m) {
		let mut brows = b.chunks_exact(4 * k);
		let mut outs = orow.chunks_exact_mut(4);
		for (b4, o4) in (&mut brows).zip(&mut outs) {
			let (b0, rest) = b4.split_at(k);
			let (b1, rest) = rest.split_at(k);
			let (b2, b3) = rest.split_at(k);
			let (mut s0, mut s1, mut s2, mut s3) = (0f32, 0f32, 0f32, 0f32);
			for ((((&x, &y0), &y1), &y2), &y3) in arow.iter().zip(b0).zip(b1).zip(b2).zip(b3) {
				s0 += x * y0;
				s1 += x * y1;
				s2 += x * y2;
				s3 += x * y3;
			}
			for (o, s) in o4.iter_mut().zip([s0, s1, s2, s3]) {
				*o = s;
			}
		}
		let tail = n - n / 4 * 4;
		let b_tail = b.get((n - tail) * k..n * k).unwrap_or(&[]);
		for (o, brow) in outs.into_remainder().iter_mut().zip(b_tail.chunks_exact(k)) {
			let mut s = 0f32;
			for (&x, &y) in arow.iter().zip(brow) {
				s += x * y;
			}
			*o = s;
		}
	}
}

/// A matrix product kernel: [`Acc`] ([`gemm_acc`]) or [`Nt`] ([`gemm_nt`]).
pub trait Product<T>: Copy + Send + Sync {
	/// `out (m x n) = a (m x k) * b` (`b` as the kernel reads it), `out` pre-zeroed.
	fn apply(self, m: usize, k: usize, n: usize, a: &[T], b: &[T], out: &mut [T]);
}

/// [`gemm_acc`]: `b` stored `k x n`.
#[derive(Clone, Copy)]
pub struct Acc;

/// [`gemm_nt`]: `b` stored `n x k` (Gemm with `transB`).
#[derive(Clone, Copy)]
pub struct Nt;

impl<T: Mac> Product<T> for Acc {
	#[inline(always)]
	fn apply(self, m: usize, k: usize, n: usize, a: &[T], b: &[T], out: &mut [T]) {
		gemm_acc(m, k, n, a, b, out)
	}
}

impl Product<f32> for Nt {
	#[inline(always)]
	fn apply(self, m: usize, k: usize, n: usize, a: &[f32], b: &[f32], out: &mut [f32]) {
		gemm_nt(m, k, n, a, b, out)
	}
}

/// One product on an instruction set ([`Isa::run`]).
struct OnIsa<'a, T, P> {
	product: P,
	dims: (usize, usize, usize),
	operands: (&'a [T], &'a [T]),
	out: &'a mut [T],
}

impl<T, P: Product<T>> Kernel for OnIsa<'_, T, P> {
	type Output = ();
	#[inline(always)]
	fn call(self) {
		let ((m, k, n), (a, b)) = (self.dims, self.operands);
		self.product.apply(m, k, n, a, b, self.out)
	}
}

/// `product` of `a` and `b` into `out`, on the CPU's widest instruction set ([`Isa`]) and,
/// natively, split between threads by output rows when large; rows are independent and each
/// output is computed by the same steps, so the result is the same bit for bit.
pub fn gemm_rows<T: Mac + Send + Sync>(
	dims: (usize, usize, usize),
	a: &[T],
	b: &[T],
	out: &mut [T],
	product: impl Product<T>,
) {
	let isa = Isa::detect();
	let run = |m: usize, k: usize, n: usize, a: &[T], b: &[T], out: &mut [T]| {
		isa.run(OnIsa { product, dims: (m, k, n), operands: (a, b), out })
	};
	#[cfg(feature = "std")]
	crate::parallel::by_rows(dims, a, b, out, run);
	#[cfg(not(feature = "std"))]
	run(dims.0, dims.1, dims.2, a, b, out);
}

/// Row-major transpose of an `r x c` matrix.
pub fn transpose2(r: usize, c: usize, x: &[f32]) -> Vec<f32> {
	let mut out = vec![0f32; r * c];
	for (i, row) in x.chunks_exact(c.max(1)).enumerate().take(r) {
		for (j, &v) in row.iter().enumerate() {
			if let Some(o) = out.get_mut(j * r + i) {
				*o = v;
			}
		}
	}
	out
}

fn f32_input(op: &'static str, ins: &[Meta], i: usize) -> Result<()> {
	match ins.get(i) {
		Some(m) if m.dtype == DType::F32 => Ok(()),
		Some(m) => Err(CanonError::DType { op, input: i, found: m.dtype }),
		None => Err(CanonError::Arity { op, expected: "more", found: ins.len() }),
	}
}

pub fn infer_gemm(ins: &[Meta], trans_a: bool, trans_b: bool) -> Result<(DType, Vec<u32>)> {
	const OP: &str = "Gemm";
	f32_input(OP, ins, 0)?;
	f32_input(OP, ins, 1)?;
	let (a, b) = (ins[0].shape, ins[1].shape);
	let (&[a0, a1], &[b0, b1]) = (a, b) else {
		return Err(shape_err(OP, format!("A {a:?} and B {b:?} must be 2-D")));
	};
	let (m, ka) = if trans_a { (a1, a0) } else { (a0, a1) };
	let (kb, n) = if trans_b { (b1, b0) } else { (b0, b1) };
	if ka != kb {
		return Err(shape_err(OP, format!("inner dimensions differ: A {a:?}, B {b:?}")));
	}
	if let Some(c) = ins.get(2) {
		f32_input(OP, ins, 2)?;
		let bc = broadcast_shapes(OP, c.shape, &[m, n])?;
		if bc != [m, n] {
			return Err(shape_err(OP, format!("C {:?} does not broadcast to [{m}, {n}]", c.shape)));
		}
	}
	Ok((DType::F32, vec![m, n]))
}

/// `y = alpha * (A' B') + beta * C`: each element `alpha * acc`, then `+ beta * c` when C is given.
pub fn run_gemm(
	ins: &[&Tensor],
	out_shape: &[u32],
	alpha: f32,
	beta: f32,
	trans_a: bool,
	trans_b: bool,
) -> Result<Tensor> {
	let (a, b) = match ins {
		[a, b, ..] => (*a, *b),
		_ => return Err(CanonError::Arity { op: "Gemm", expected: "2 or 3", found: ins.len() }),
	};
	let (m, n) = match out_shape {
		&[m, n] => (m as usize, n as usize),
		_ => return Err(shape_err("Gemm", "output must be 2-D")),
	};
	let k = if trans_a { a.shape[0] } else { a.shape[1] } as usize;
	let mut av = a.f32_values()?;
	if trans_a {
		av = transpose2(k, m, &av);
	}
	let bv = b.f32_values()?;
	let mut out = vec![0f32; m * n];
	if trans_b {
		gemm_rows((m, k, n), &av, &bv, &mut out, Nt);
	} else {
		gemm_rows((m, k, n), &av, &bv, &mut out, Acc);
	}
	for o in out.iter_mut() {
		*o *= alpha;
	}
	if let Some(c) = ins.get(2) {
		let cv = c.f32_values()?;
		let sc = broadcast_strides(out_shape, &c.shape);
		let mut bad = false;
		let zero = [0usize, 0];
		for_each_broadcast2(out_shape, &sc, &zero, |o, oc, _| match (out.get_mut(o), cv.get(oc)) {
			(Some(y), Some(&cval)) => *y += beta * cval,
			_ => bad = true,
		});
		if bad {
			return Err(CanonError::Overflow { what: "Gemm C offset" });
		}
	}
	Ok(f32_tensor(out_shape.to_vec(), out))
}

pub fn infer_matmul(ins: &[Meta]) -> Result<(DType, Vec<u32>)> {
	const OP: &str = "MatMul";
	f32_input(OP, ins, 0)?;
	f32_input(OP, ins, 1)?;
	Ok((DType::F32, matmul_shape(OP, ins[0].shape, ins[1].shape)?))
}

/// numpy matmul shapes (batch dims broadcast; 1-D operands promoted).
pub fn matmul_shape(op: &'static str, a: &[u32], b: &[u32]) -> Result<Vec<u32>> {
	if a.is_empty() || b.is_empty() {
		return Err(shape_err(op, "inputs must have rank >= 1"));
	}
	let a2: Vec<u32> = if a.len() == 1 { vec![1, a[0]] } else { a.to_vec() };
	let b2: Vec<u32> = if b.len() == 1 { vec![b[0], 1] } else { b.to_vec() };
	let (m, ka) = (a2[a2.len() - 2], a2[a2.len() - 1]);
	let (kb, n) = (b2[b2.len() - 2], b2[b2.len() - 1]);
	if ka != kb {
		return Err(shape_err(op, format!("inner dimensions differ: {a:?} x {b:?}")));
	}
	let mut out = broadcast_shapes(op, &a2[..a2.len() - 2], &b2[..b2.len() - 2])?;
	if a.len() > 1 {
		out.push(m);
	}
	if b.len() > 1 {
		out.push(n);
	}
	Ok(out)
}

/// numpy matmul: batch dims broadcast, each batch a `gemm_acc`.
pub fn run_matmul(a: &Tensor, b: &Tensor, out_shape: &[u32]) -> Result<Tensor> {
	let a2: Vec<u32> = if a.shape.len() == 1 { vec![1, a.shape[0]] } else { a.shape.clone() };
	let b2: Vec<u32> = if b.shape.len() == 1 { vec![b.shape[0], 1] } else { b.shape.clone() };
	let (m, k) = (a2[a2.len() - 2] as usize, a2[a2.len() - 1] as usize);
	let n = b2[b2.len() - 1] as usize;
	let (ab, bb) = (&a2[..a2.len() - 2], &b2[..b2.len() - 2]);
	let batch = broadcast_shapes("MatMul", ab, bb)?;
	let sa = broadcast_strides(&batch, ab);
	let sb = broadcast_strides(&batch, bb);
	let (av, bv) = (a.f32_values()?, b.f32_values()?);
	let nbatch: usize = batch.iter().map(|&d| d as usize).product();
	let mut out = vec![0f32; nbatch * m * n];
	let mut bad = false;
	for_each_broadcast2(&batch, &sa, &sb, |o, ia, ib| {
		let ar = av.get(ia * m * k..(ia + 1) * m * k);
		let br = bv.get(ib * k * n..(ib + 1) * k * n);
		let or = out.get_mut(o * m * n..(o + 1) * m * n);
		match (ar, br, or) {
			(Some(ar), Some(br), Some(or)) => gemm_rows((m, k, n), ar, br, or, Acc),
			_ => bad = true,
		}
	});
	if bad {
		return Err(CanonError::Overflow { what: "MatMul batch offset" });
	}
	Ok(f32_tensor(out_shape.to_vec(), out))
}
