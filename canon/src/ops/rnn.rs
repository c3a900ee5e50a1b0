//! The recurrent operators, ONNX defaults only (activations Sigmoid and Tanh; no peepholes, no
//! clip), forward, reverse or bidirectional, layout 0 (`[seq, batch, features]`). The reverse
//! direction walks the steps from the last. `σ(v) = 1 / (1 + expf(-v))`.
//!
//! **LSTM.** Inputs are always X `[S, N, I]`, W `[D, 4H, I]`, R `[D, 4H, H]`, B `[D, 8H]`,
//! initial_h and initial_c `[D, N, H]` (the compiler supplies zeros for absent ones); gate rows
//! are in ONNX's order i, o, f, c. Order of one step, for direction `d`, batch row `n`, gate row
//! `r`: `a = 0.0; for k ascending: a = a + x_k * W[d][r][k]`; `b = 0.0; for k ascending: b = b +
//! h_k * R[d][r][k]`; `z = ((a + b) + Wb[d][r]) + Rb[d][r]`. Then `i = σ(z_i)`, `o = σ(z_o)`,
//! `f = σ(z_f)`, `g = tanhf(z_c)`; `c' = f * c + i * g`; `h' = o * tanhf(c')`.
//!
//! **GRU.** Inputs are always X, W `[D, 3H, I]`, R `[D, 3H, H]`, B `[D, 6H]`, initial_h
//! `[D, N, H]`; gate rows in ONNX's order z, r, h. With `a_r` and `b_r` the two dot products as
//! for LSTM: `z = σ(((a_z + b_z) + Wb_z) + Rb_z)`, `r = σ(((a_r + b_r) + Wb_r) + Rb_r)`. Without
//! `linear_before_reset`: `c = 0.0; for k ascending: c = c + (r_k * h_k) * R[d][h_j][k]`,
//! `g = tanhf(((a_h + c) + Wb_h) + Rb_h)`; with it: `g = tanhf((a_h + r * (b_h + Rb_h)) + Wb_h)`.
//! Then `h' = (1 - z) * g + z * h`.
//!
//! **Outputs.** `output` 0 is Y `[S, D, N, H]`, 1 is Y_h `[D, N, H]`, 2 (LSTM) is Y_c; the next
//! value (3 for LSTM, 2 for GRU) is all of them in one tensor `[S + 2, D, N, H]` (LSTM) or
//! `[S + 1, D, N, H]` (GRU): Y's steps, then Y_h, then Y_c. The compiler uses it when a model
//! reads more than one output, so the recurrence runs once (`compiler::share_recurrent`).

use alloc::{format, vec, vec::Vec};

use super::common::{f32_tensor, Meta};
use crate::{
	error::{attr_err, shape_err, CanonError, Result},
	program::RnnDirection,
	tensor::{DType, Tensor},
};

fn dirs(direction: RnnDirection) -> u32 {
	if direction == RnnDirection::Bidirectional {
		2
	} else {
		1
	}
}

/// An LSTM (`gates` 4, with initial_c) or GRU (`gates` 3): the inputs' shapes and the
/// output's.
fn infer_rnn(
	op: &'static str,
	ins: &[Meta],
	gates: u32,
	hidden: u32,
	direction: RnnDirection,
	output: u8,
) -> Result<(DType, Vec<u32>)> {
	let states: u32 = if gates == 4 { 2 } else { 1 };
	let arity = 4 + states as usize;
	if ins.len() != arity {
		let expected = if arity == 6 { "6" } else { "5" };
		return Err(CanonError::Arity { op, expected, found: ins.len() });
	}
	for (i, m) in ins.iter().enumerate() {
		if m.dtype != DType::F32 {
			return Err(CanonError::DType { op, input: i, found: m.dtype });
		}
	}
	let (d, h) = (dirs(direction), hidden);
	let &[s, n, i] = ins[0].shape else {
		return Err(shape_err(op, format!("X must be [seq, batch, input], is {:?}", ins[0].shape)));
	};
	let rows = h.checked_mul(gates).ok_or(CanonError::Overflow { what: "RNN gates" })?;
	let expect = [
		("W", vec![d, rows, i]),
		("R", vec![d, rows, h]),
		("B", vec![d, rows.saturating_mul(2)]),
		("initial_h", vec![d, n, h]),
		("initial_c", vec![d, n, h]),
	];
	for (m, (name, want)) in ins[1..].iter().zip(expect) {
		if m.shape != want.as_slice() {
			return Err(shape_err(op, format!("{name} is {:?}, expected {want:?}", m.shape)));
		}
	}
	match output as u32 {
		0 => Ok((DType::F32, vec![s, d, n, h])),
		o if o <= states => Ok((DType::F32, vec![d, n, h])),
		// All outputs: Y's S steps, then Y_h (and Y_c) as one step each.
		o if o == states + 1 => {
			let steps = s.checked_add(states).ok_or(CanonError::Overflow { what: "RNN steps" })?;
			Ok((DType::F32, vec![steps, d, n, h]))
		},
		o => Err(attr_err(op, "output", format!("output {o} (0 to {})", states + 1))),
	}
}

pub fn infer_lstm(
	ins: &[Meta],
	hidden: u32,
	direction: RnnDirection,
	output: u8,
) -> Result<(DType, Vec<u32>)> {
	infer_rnn("LSTM", ins, 4, hidden, direction, output)
}

pub fn infer_gru(
	ins: &[Meta],
	hidden: u32,
	direction: RnnDirection,
	output: u8,
) -> Result<(DType, Vec<u32>)> {
	infer_rnn("GRU", ins, 3, hidden, direction, output)
}

fn sigmoid(v: f32) -> f32 {
	1.0 / (1.0 + libm::expf(-v))
}

/// `0.0 + a_0 * b_0 + a_1 * b_1 + ...`, left to right.
fn dot(a: &[f32], b: &[f32]) -> f32 {
	let mut sum = 0f32;
	for (&x, &y) in a.iter().zip(b) {
		sum += x * y;
	}
	sum
}

pub fn run_lstm(
	ins: &[&Tensor],
	hidden: u32,
	direction: RnnDirection,
	output: u8,
	out_shape: &[u32],
) -> Result<Tensor> {
	const OP: &str = "LSTM";
	let [x, w, r, b, h0, c0] = ins else {
		return Err(CanonError::Arity { op: OP, expected: "6", found: ins.len() });
	};
	let (d_count, h) = (dirs(direction) as usize, hidden as usize);
	let (s, n, i_len) = seq_dims(OP, x)?;
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
		let (w_d, r_d, b_d) =
			direction_weights((&wv, &rv, &bv), d, 4 * h, (i_len, h)).ok_or_else(overflow)?;
		for t in 0..s {
			let step = if reverse { s - 1 - t } else { t };
			let mut next_h = vec![0f32; n * h];
			for row in 0..n {
				let xt = xv.get((step * n + row) * i_len..(step * n + row + 1) * i_len);
				let xt = xt.ok_or_else(overflow)?;
				let hp = hs.get(row * h..(row + 1) * h).ok_or_else(overflow)?;
				for (g, zg) in z.iter_mut().enumerate() {
					let (wr, rr) = (&w_d[g * i_len..(g + 1) * i_len], &r_d[g * h..(g + 1) * h]);
					*zg = ((dot(xt, wr) + dot(hp, rr)) + b_d[g]) + b_d[4 * h + g];
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
		2 => y_c,
		_ => [y, y_h, y_c].concat(),
	};
	Ok(f32_tensor(out_shape.to_vec(), values))
}

/// Direction `d`'s slices of W `[rows, I]`, R `[rows, H]` and B `[2 * rows]`, where `rows` is
/// the gate count times `H`.
fn direction_weights<'a>(
	(w, r, b): (&'a [f32], &'a [f32], &'a [f32]),
	d: usize,
	rows: usize,
	(i_len, h): (usize, usize),
) -> Option<(&'a [f32], &'a [f32], &'a [f32])> {
	Some((
		w.get(d * rows * i_len..(d + 1) * rows * i_len)?,
		r.get(d * rows * h..(d + 1) * rows * h)?,
		b.get(d * 2 * rows..(d + 1) * 2 * rows)?,
	))
}

fn seq_dims(op: &'static str, x: &Tensor) -> Result<(usize, usize, usize)> {
	match x.shape.as_slice() {
		&[s, n, i] => Ok((s as usize, n as usize, i as usize)),
		_ => Err(shape_err(op, "X must be rank 3")),
	}
}

pub fn run_gru(
	ins: &[&Tensor],
	hidden: u32,
	direction: RnnDirection,
	output: u8,
	linear_before_reset: bool,
	out_shape: &[u32],
) -> Result<Tensor> {
	const OP: &str = "GRU";
	let [x, w, r, b, h0] = ins else {
		return Err(CanonError::Arity { op: OP, expected: "5", found: ins.len() });
	};
	let (d_count, h) = (dirs(direction) as usize, hidden as usize);
	let (s, n, i_len) = seq_dims(OP, x)?;
	let (xv, wv, rv, bv) = (x.f32_values()?, w.f32_values()?, r.f32_values()?, b.f32_values()?);
	let h0v = h0.f32_values()?;
	let overflow = || CanonError::Overflow { what: "GRU offsets" };
	let mut y = vec![0f32; s * d_count * n * h];
	let mut y_h = vec![0f32; d_count * n * h];
	// Per row: the input's three gate sums, the hidden state's (the candidate's only with
	// `linear_before_reset`: without it the candidate multiplies r * h instead), the reset gate
	// and r * h.
	let (mut a, mut bh) = (vec![0f32; 3 * h], vec![0f32; 3 * h]);
	let (mut reset, mut rh) = (vec![0f32; h], vec![0f32; h]);
	let hidden_rows = if linear_before_reset { 3 * h } else { 2 * h };
	for d in 0..d_count {
		let reverse = direction == RnnDirection::Reverse || d == 1;
		let state = d * n * h..(d + 1) * n * h;
		let mut hs = h0v.get(state.clone()).ok_or_else(overflow)?.to_vec();
		let (w_d, r_d, b_d) =
			direction_weights((&wv, &rv, &bv), d, 3 * h, (i_len, h)).ok_or_else(overflow)?;
		let (wb, rb) = b_d.split_at(3 * h);
		for t in 0..s {
			let step = if reverse { s - 1 - t } else { t };
			let mut next_h = vec![0f32; n * h];
			for row in 0..n {
				let xt = xv.get((step * n + row) * i_len..(step * n + row + 1) * i_len);
				let xt = xt.ok_or_else(overflow)?;
				let hp = hs.get(row * h..(row + 1) * h).ok_or_else(overflow)?;
				for (g, ag) in a.iter_mut().enumerate() {
					*ag = dot(xt, &w_d[g * i_len..(g + 1) * i_len]);
				}
				for (g, bg) in bh.iter_mut().enumerate().take(hidden_rows) {
					*bg = dot(hp, &r_d[g * h..(g + 1) * h]);
				}
				let gate = |g: usize| sigmoid(((a[g] + bh[g]) + wb[g]) + rb[g]);
				for j in 0..h {
					reset[j] = gate(h + j);
					rh[j] = reset[j] * hp[j];
				}
				for j in 0..h {
					let z = gate(j);
					let c = 2 * h + j;
					let g = if linear_before_reset {
						libm::tanhf((a[c] + reset[j] * (bh[c] + rb[c])) + wb[c])
					} else {
						let rec = dot(&rh, &r_d[c * h..(c + 1) * h]);
						libm::tanhf(((a[c] + rec) + wb[c]) + rb[c])
					};
					let hv = (1.0 - z) * g + z * hp[j];
					next_h[row * h + j] = hv;
					y[((step * d_count + d) * n + row) * h + j] = hv;
				}
			}
			hs = next_h;
		}
		y_h[state].copy_from_slice(&hs);
	}
	let values = match output {
		0 => y,
		1 => y_h,
		_ => [y, y_h].concat(),
	};
	Ok(f32_tensor(out_shape.to_vec(), values))
}
