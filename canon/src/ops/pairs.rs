//! Natively (feature `std`, x86_64 with AVX2), the integer matrix product of MatMulInteger and
//! QLinearMatMul on pairs of k: `_mm256_madd_epi16` (pulp's
//! `multiply_wrapping_add_adjacent_i16x16`) multiplies 16 pairs of i16 and adds each two
//! adjacent products into one i32, so one instruction does 16 of the multiply-adds that the
//! portable kernel does one lane at a time.
//!
//! The portable kernel sums `acc = acc.wrapping_add(a * b)` over k ascending; this one sums the
//! same products two at a time and in a different order. Wrapping i32 addition is associative
//! and commutative (it is addition modulo 2^32, as is the madd's own sum), so every output is
//! the same integer bit for bit: for integers the order is not part of the result, unlike
//! f32. The operands must fit i16, which the zero-point-shifted 8-bit values of the int8
//! family always do (-255..=255); [`gemm`] declines anything else.

use alloc::vec::Vec;

use pulp::{i16x16, x86::V3, NullaryFnOnce};

/// Output columns per register (the i32 lanes of one AVX2 register).
const LANES: usize = 8;
/// Registers of columns in one panel of packed `b` (2 x 8 = 16 columns).
const PANEL: usize = 2;
/// Rows of `a` that share one pass over a panel.
const ROWS: usize = 4;

/// `out (m x n) = a (m x k) * b (k x n)` (row-major i32, `out` pre-zeroed) on pairs of k, if
/// every operand fits i16; `false` (and `out` untouched) otherwise.
pub fn gemm(
	v3: V3,
	(m, k, n): (usize, usize, usize),
	a: &[i32],
	b: &[i32],
	out: &mut [i32],
) -> bool {
	let fits = |v: &[i32]| v.iter().fold(true, |ok, &x| ok & (x as i16 as i32 == x));
	if a.len() < m * k || b.len() < k * n || out.len() < m * n || !fits(a) || !fits(b) {
		return false;
	}
	let packed = pack(k, n, b);
	// Each thread's rows of `a` and `out`; every row reads all of `b`, packed or (its last
	// `n % 8` columns) as it is.
	let run = |rows: usize, _k: usize, _n: usize, a: &[i32], _b: &[i32], out: &mut [i32]| {
		v3.vectorize(Rows { v3, k, n, rows, a, b, packed: &packed, out })
	};
	crate::parallel::by_rows((m, k, n), a, b, out, run);
	true
}

/// `b`'s first `n / 8 * 8` columns as the kernel reads them, in panels of [`PANEL`] registers
/// (8 columns each; the last panel may be narrower): panel by panel, then for each pair of rows
/// `p` (rows `2p` and `2p + 1`, a zero row after an odd `k`), the panel's registers, each of
/// `b[2p][c], b[2p + 1][c]` for its 8 columns `c`. A panel of register `g` starts at `g * pairs`.
fn pack(k: usize, n: usize, b: &[i32]) -> Vec<i16x16> {
	let groups = n / LANES;
	let zeros = alloc::vec![0i32; n];
	let rows: Vec<&[i32]> = b.chunks_exact(n.max(1)).take(k).collect();
	let mut packed = Vec::with_capacity(k.div_ceil(2) * groups);
	for g0 in (0..groups).step_by(PANEL) {
		let cols = g0 * LANES..(g0 + PANEL).min(groups) * LANES;
		for pair in rows.chunks(2) {
			let r0 = pair.first().and_then(|r| r.get(cols.clone())).unwrap_or(&[]);
			let r1 = pair.get(1).copied().unwrap_or(&zeros).get(cols.clone()).unwrap_or(&[]);
			for (c0, c1) in r0.chunks_exact(LANES).zip(r1.chunks_exact(LANES)) {
				let mut lanes = [0i16; 2 * LANES];
				for (l, (&x, &y)) in lanes.chunks_exact_mut(2).zip(c0.iter().zip(c1)) {
					l[0] = x as i16;
					l[1] = y as i16;
				}
				packed.push(pulp::cast(lanes));
			}
		}
	}
	packed
}

/// `rows` rows of the product, compiled for AVX2 by [`V3::vectorize`].
struct Rows<'a> {
	v3: V3,
	k: usize,
	n: usize,
	rows: usize,
	a: &'a [i32],
	b: &'a [i32],
	packed: &'a [i16x16],
	out: &'a mut [i32],
}

impl NullaryFnOnce for Rows<'_> {
	type Output = ();

	#[inline(always)]
	fn call(self) {
		let Rows { v3, k, n, rows, a, b, packed, out } = self;
		let (groups, pairs) = (n / LANES, k.div_ceil(2));
		// Each row's pairs of `a`, as the 32-bit pattern of (low, high) = (a[2p], a[2p + 1]).
		let mut xs = Vec::with_capacity(rows * pairs);
		for arow in a.chunks_exact(k.max(1)).take(rows) {
			xs.extend(arow.chunks(2).map(|p| {
				let lo = p.first().map_or(0, |&v| v as i16 as u16 as u32);
				let hi = p.get(1).map_or(0, |&v| v as i16 as u16 as u32);
				(lo | (hi << 16)) as i32
			}));
		}
		for g0 in (0..groups).step_by(PANEL) {
			let width = PANEL.min(groups - g0);
			let panel = packed.get(g0 * pairs..(g0 + width) * pairs).unwrap_or(&[]);
			for i0 in (0..rows).step_by(ROWS) {
				let x = xs.get(i0 * pairs..).unwrap_or(&[]);
				let o = out.get_mut(i0 * n..).unwrap_or(&mut []);
				let c = g0 * LANES;
				match (ROWS.min(rows - i0), width) {
					(4, 2) => tile::<4, 2>(v3, x, pairs, panel, o, n, c),
					(3, 2) => tile::<3, 2>(v3, x, pairs, panel, o, n, c),
					(2, 2) => tile::<2, 2>(v3, x, pairs, panel, o, n, c),
					(1, 2) => tile::<1, 2>(v3, x, pairs, panel, o, n, c),
					(4, _) => tile::<4, 1>(v3, x, pairs, panel, o, n, c),
					(3, _) => tile::<3, 1>(v3, x, pairs, panel, o, n, c),
					(2, _) => tile::<2, 1>(v3, x, pairs, panel, o, n, c),
					_ => tile::<1, 1>(v3, x, pairs, panel, o, n, c),
				}
			}
		}
		// The last `n % 8` columns, one at a time.
		for (arow, orow) in a.chunks_exact(k.max(1)).zip(out.chunks_exact_mut(n.max(1))).take(rows)
		{
			for (c, o) in orow.iter_mut().enumerate().skip(groups * LANES) {
				*o = arow
					.iter()
					.zip(b.iter().skip(c).step_by(n.max(1)))
					.fold(0i32, |acc, (&x, &y)| acc.wrapping_add(x.wrapping_mul(y)));
			}
		}
	}
}

/// Rows `0..R` of `out` (row stride `n`), columns `c .. c + 8W`: `R x W` registers summed over
/// every pair of k, the panel's `W` registers of pair `p` at `p * W`.
#[inline(always)]
fn tile<const R: usize, const W: usize>(
	v3: V3,
	xs: &[i32],
	pairs: usize,
	panel: &[i16x16],
	out: &mut [i32],
	n: usize,
	c: usize,
) {
	let mut acc = [[v3.splat_i32x8(0); W]; R];
	for (p, ys) in panel.chunks_exact(W).enumerate().take(pairs) {
		for (r, row) in acc.iter_mut().enumerate() {
			let x: i16x16 = pulp::cast(v3.splat_i32x8(xs.get(r * pairs + p).copied().unwrap_or(0)));
			for (s, &y) in row.iter_mut().zip(ys) {
				*s = v3.wrapping_add_i32x8(*s, v3.multiply_wrapping_add_adjacent_i16x16(x, y));
			}
		}
	}
	for (r, row) in acc.iter().enumerate() {
		for (w, s) in row.iter().enumerate() {
			let lanes: [i32; LANES] = pulp::cast(*s);
			let at = r * n + c + w * LANES;
			if let Some(o) = out.get_mut(at..at + LANES) {
				o.copy_from_slice(&lanes);
			}
		}
	}
}

#[cfg(test)]
mod tests {
	use proptest::prelude::*;

	use super::*;
	use crate::ops::linalg::gemm_acc;

	fn portable(m: usize, k: usize, n: usize, a: &[i32], b: &[i32]) -> Vec<i32> {
		let mut out = vec![0i32; m * n];
		gemm_acc(m, k, n, a, b, &mut out);
		out
	}

	proptest! {
		#![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

		/// The pairwise product = the portable one (k ascending, one lane at a time), bit for
		/// bit: odd k, columns past the last whole group, and operands over all of i16
		/// (products whose sums wrap).
		#[test]
		fn the_pairwise_integer_product_is_the_portable_one(
			m in 1usize..7,
			k in 1usize..70,
			n in 1usize..80,
			wide in any::<bool>(),
			seed in any::<u64>(),
		) {
			let Some(v3) = V3::try_new() else { return Ok(()) };
			let mut state = seed | 1;
			let mut next = move || {
				state ^= state << 13;
				state ^= state >> 7;
				state ^= state << 17;
				let v = state as i32;
				if wide { v as i16 as i32 } else { v.rem_euclid(511) - 255 }
			};
			let a: Vec<i32> = (0..m * k).map(|_| next()).collect();
			let b: Vec<i32> = (0..k * n).map(|_| next()).collect();
			let mut out = vec![0i32; m * n];
			prop_assert!(gemm(v3, (m, k, n), &a, &b, &mut out));
			prop_assert_eq!(out, portable(m, k, n, &a, &b));
		}
	}

	#[test]
	fn operands_outside_i16_are_declined() {
		let Some(v3) = V3::try_new() else { return };
		let mut out = vec![0i32; 1];
		assert!(!gemm(v3, (1, 1, 1), &[40_000], &[1], &mut out));
		assert!(!gemm(v3, (1, 1, 1), &[1], &[-40_000], &mut out));
		assert_eq!(out, [0]);
		// The extremes of i16 wrap as the portable sum does.
		let (a, b) = ([i16::MIN as i32; 4], [i16::MIN as i32; 4 * 8]);
		let mut out = vec![0i32; 8];
		assert!(gemm(v3, (1, 4, 8), &a, &b, &mut out));
		assert_eq!(out, portable(1, 4, 8, &a, &b));
	}
}
