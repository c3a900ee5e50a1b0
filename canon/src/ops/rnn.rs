//! LSTM (ONNX defaults: activations Sigmoid, Tanh, Tanh; no peepholes, no clip), forward,
//! reverse or bidirectional, layout 0 (`[seq, batch, features]`).
//!
//! Inputs are always X `[S, N, I]`, W `[D, 4H, I]`, R `[D, 4H, H]`, B `[D, 8H]`, initial_h and
//! initial_c `[D, N, H]` (the compiler supplies zeros for absent ones); gate rows are in ONNX's
//! order i, o, f, c. Order of one step, for direction `d`, batch row `n`, gate row `r`:
//! `a = 0.0; for k ascending: a = a + x_k * W[d][r][k]`; `b = 0.0; for k ascending: b = b +
//! h_k * R[d][r][k]`; `z = ((a + b) + Wb[d][r]) + Rb[d][r]`. Then `i = σ(z_i)`, `o = σ(z_o)`,
//! `f = σ(z_f)`, `g = tanhf(z_c)` with `σ(v) = 1 / (1 + expf(-v))`; `c' = f * c + i * g`;
//! `h' = o * tanhf(c')`. The reverse direction walks the steps from the last.

use alloc::{format, vec, vec::Vec};

use super::common::{f32_tensor, Meta};
use crate::{
	error::{attr_err, shape_err, CanonError, Result},
	program::RnnDirection,
	tensor::{DType, Tensor},
};

const OP: &str = "LSTM";

fn dirs(direction: RnnDirection) -> u32 {
	if direction == RnnDirection::Bidirectional {
		2
	} else {
		1
	}
}

pub fn infer_lstm(
	ins: &[Meta],
	hidden: u32,
	direction: RnnDirection,
	output: u8,
) -> Result<(DType, Vec<u32>)> {
	let [x, w, r, b, h0, c0] = ins else {
		return Err(CanonError::Arity { op: OP, expected: "6", found: ins.len() });
	};
	for (i, m) in ins.iter().enumerate() {
		if m.dtype != DType::F32 {
			return Err(CanonError::DType { op: OP, input: i, found: m.dtype });
		}
	}
	let (d, h) = (dirs(direction), hidden);
	let &[s, n, i] = x.shape else {
		return Err(shape_err(OP, format!("X must be [seq, batch, input], is {:?}", x.shape)));
	};
	let gates = h.checked_mul(4).ok_or(CanonError::Overflow { what: "LSTM gates" })?;
	let expect = [
		("W", w.shape, vec![d, gates, i]),
		("R", r.shape, vec![d, gates, h]),
		("B", b.shape, vec![d, gates.checked_mul(2).unwrap_or(u32::MAX)]),
		("initial_h", h0.shape, vec![d, n, h]),
		("initial_c", c0.shape, vec![d, n, h]),
	];
	for (name, got, want) in expect {
		if got != want.as_slice() {
			return Err(shape_err(OP, format!("{name} is {got:?}, expected {want:?}")));
		}
	}
	match output {
		0 => Ok((DType::F32, vec![s, d, n, h])),
		1 | 2 => Ok((DType::F32, vec![d, n, h])),
		o => Err(attr_err(OP, "output", format!("output {o} (0, 1 or 2)"))),
	}
}

fn sigmoid(v: f32) -> f32 {
	1.0 / (1.0 + libm::expf(-v))
}

pub fn run_lstm(
	ins: &[&Tensor],
	hidden: u32,
	direction: RnnDirection,
	output: u8,
	out_shape: &[u32],
) -> Result<Tensor> {
	let [x, w, r, b, h0, c0] = ins else {
		return Err(CanonError::Arity { op: OP, expected: "6", found: ins.len() });
	};
	let (d_count, h) = (dirs(direction) as usize, hidden as usize);
	let (s, n, i_len) = match x.shape.as_slice() {
		&[s, n, i] => (s as usize, n as usize, i as usize),
		_ => return Err(shape_err(OP, "X must be rank 3")),
	};
	let (xv, wv, rv, bv) = (x.f32_values()?, w.f32_values()?, r.f32_values()?, b.f32_values()?);
	let (h0v, c0v) = (h0.f32_values()?, c0.f32_values()?);
	let overflow = || CanonError::Overflow { what: "LSTM offsets" };
	let mut y = vec![0f32; s * d_count * n * h];
	let (mut y_h, mut y_c) = (vec![0f32; d_count * n * h], vec![0f32; d_count * n * h]);
	let mut z = vec![0f32; 4 * h];
	for d in 0..d_count {
		let reverse = direction == RnnDirection::Reverse || d == 1;
		let state = d * n * h..(d + 1) * n * h;
		let mut hs = h0v.get(state.clone()).ok_or_else(overflow)?.to_vec();
		let mut cs = c0v.get(state.clone()).ok_or_else(overflow)?.to_vec();
		let w_d = wv.get(d * 4 * h * i_len..(d + 1) * 4 * h * i_len).ok_or_else(overflow)?;
		let r_d = rv.get(d * 4 * h * h..(d + 1) * 4 * h * h).ok_or_else(overflow)?;
		let b_d = bv.get(d * 8 * h..(d + 1) * 8 * h).ok_or_else(overflow)?;
		for t in 0..s {
			let step = if reverse { s - 1 - t } else { t };
			let mut next_h = vec![0f32; n * h];
			for row in 0..n {
				let xt = xv.get((step * n + row) * i_len..(step * n + row + 1) * i_len);
				let xt = xt.ok_or_else(overflow)?;
				let hp = hs.get(row * h..(row + 1) * h).ok_or_else(overflow)?;
				for (g, zg) in z.iter_mut().enumerate() {
					let (wr, rr) = (&w_d[g * i_len..(g + 1) * i_len], &r_d[g * h..(g + 1) * h]);
					let mut a = 0f32;
					for (&xk, &wk) in xt.iter().zip(wr) {
						a += xk * wk;
					}
					let mut bsum = 0f32;
					for (&hk, &rk) in hp.iter().zip(rr) {
						bsum += hk * rk;
					}
					*zg = ((a + bsum) + b_d[g]) + b_d[4 * h + g];
				}
				for j in 0..h {
					let (zi, zo, zf, zc) = (z[j], z[h + j], z[2 * h + j], z[3 * h + j]);
					let c = &mut cs[row * h + j];
					*c = sigmoid(zf) * *c + sigmoid(zi) * libm::tanhf(zc);
					let hv = sigmoid(zo) * libm::tanhf(*c);
					next_h[row * h + j] = hv;
					y[((step * d_count + d) * n + row) * h + j] = hv;
				}
			}
			hs = next_h;
		}
		y_h[state.clone()].copy_from_slice(&hs);
		y_c[state].copy_from_slice(&cs);
	}
	let values = match output {
		0 => y,
		1 => y_h,
		_ => y_c,
	};
	Ok(f32_tensor(out_shape.to_vec(), values))
}
