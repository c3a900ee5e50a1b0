//! Conv, MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool (1-D and 2-D; 1-D runs as 2-D
//! with height 1).
//!
//! Reduction orders:
//! - Conv: for each output element, `acc = 0.0`, then for input channel `ic` of the group
//!   ascending, kernel row `kh` ascending, kernel column `kw` ascending: `acc = acc + w * x`
//!   (a tap in the padding has `x = 0.0`); finally `y = acc + bias`.
//! - MaxPool: taps in (kh, kw) ascending order, `m = first tap`, then `m = max(m, x)` with NaN
//!   propagating.
//! - AveragePool: `acc = 0.0`, taps in (kh, kw) ascending order `acc = acc + x`, then `acc / count`.
//! - GlobalAveragePool / GlobalMaxPool: the spatial elements in row-major order, same rules.

use alloc::{format, vec, vec::Vec};
use core::ops::Range;

use super::{
	common::{f32_tensor, Meta},
	linalg::Mac,
};
use crate::{
	error::{attr_err, shape_err, CanonError, Result},
	program::{AutoPad, Window},
	simd::{Isa, Kernel},
	tensor::{DType, Tensor},
};

/// Resolved geometry of one spatial axis.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Axis {
	pub(crate) input: usize,
	pub(crate) output: usize,
	pub(crate) kernel: usize,
	pub(crate) stride: usize,
	pub(crate) dilation: usize,
	pub(crate) pad_begin: usize,
	pad_end: usize,
}

/// A convolution's dimensions with its spatial axes resolved (a 1-D one has a unit H axis),
/// for per-output loops outside the blocked kernel (the second level, `crate::substep`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConvDims {
	pub(crate) c: usize,
	pub(crate) oc: usize,
	/// Input and output channels per group.
	pub(crate) cg: usize,
	pub(crate) ocg: usize,
	pub(crate) h: Axis,
	pub(crate) w: Axis,
}

impl ConvDims {
	/// The dimensions of a Conv of input shape `x` and weight shape `w` (checked as
	/// [`conv_shape`] checks them).
	pub(crate) fn of(x: &[u32], w: &[u32], win: &Window, group: u32) -> Result<Self> {
		conv_shape("Conv", x, w, win, group)?;
		let mut full = win.clone();
		full.kernel = w.get(2..).unwrap_or(&[]).to_vec();
		let axes = resolve("Conv", &full, x.get(2..).unwrap_or(&[]), false)?;
		let (h, aw) = hw(&axes);
		let dim = |s: &[u32], i: usize| s.get(i).copied().unwrap_or(0) as usize;
		let g = (group as usize).max(1);
		let (c, oc) = (dim(x, 1), dim(w, 0));
		Ok(Self { c, oc, cg: c / g, ocg: oc / g, h, w: aw })
	}

	/// The dimensions of a ConvTranspose of input shape `x` and weight shape `w` (`[C, M/g,
	/// kh, kw]`): `oc` its M output channels, `cg` and `ocg` per group, each axis's `input`
	/// and `output` those of the transposed convolution (`pad_end` unused).
	pub(crate) fn transpose(
		x: &[u32],
		w: &[u32],
		win: &Window,
		group: u32,
		output_padding: &[u32],
	) -> Result<Self> {
		const OP: &str = "ConvTranspose";
		let axes =
			resolve_transpose(win, output_padding, spatial(OP, x)?, w.get(2..).unwrap_or(&[]))?;
		let axes: Vec<Axis> = axes
			.iter()
			.map(|a| Axis {
				input: a.input,
				output: a.output,
				kernel: a.kernel,
				stride: a.stride,
				dilation: a.dilation,
				pad_begin: a.pad_begin,
				pad_end: 0,
			})
			.collect();
		if !(1..=2).contains(&axes.len()) {
			return Err(shape_err(OP, format!("input rank {}", x.len())));
		}
		let (h, aw) = hw(&axes);
		let dim = |s: &[u32], i: usize| s.get(i).copied().unwrap_or(0) as usize;
		let g = (group as usize).max(1);
		let (c, mg) = (dim(x, 1), dim(w, 1));
		Ok(Self { c, oc: mg * g, cg: c / g, ocg: mg, h, w: aw })
	}
}

fn get_or(v: &[u32], i: usize, default: u32) -> u32 {
	v.get(i).copied().unwrap_or(default)
}

/// Resolves pads/auto_pad/ceil_mode for each spatial axis.
fn resolve(op: &'static str, w: &Window, spatial: &[u32], pool: bool) -> Result<Vec<Axis>> {
	let r = spatial.len();
	if w.kernel.len() != r {
		return Err(attr_err(
			op,
			"kernel_shape",
			format!("{} entries for {r} spatial axes", w.kernel.len()),
		));
	}
	if !(w.strides.is_empty() || w.strides.len() == r) {
		return Err(attr_err(
			op,
			"strides",
			format!("{} entries for {r} spatial axes", w.strides.len()),
		));
	}
	if !(w.dilations.is_empty() || w.dilations.len() == r) {
		return Err(attr_err(
			op,
			"dilations",
			format!("{} entries for {r} spatial axes", w.dilations.len()),
		));
	}
	if !(w.pads.is_empty() || w.pads.len() == 2 * r) {
		return Err(attr_err(op, "pads", format!("{} entries for {r} spatial axes", w.pads.len())));
	}
	let mut axes = Vec::with_capacity(r);
	for (i, &input) in spatial.iter().enumerate() {
		let input = input as u64;
		let kernel = get_or(&w.kernel, i, 1) as u64;
		let stride = get_or(&w.strides, i, 1) as u64;
		let dilation = get_or(&w.dilations, i, 1) as u64;
		if kernel == 0 || stride == 0 || dilation == 0 {
			return Err(attr_err(op, "kernel_shape", "kernel, stride and dilation must be >= 1"));
		}
		let eff = (kernel - 1) * dilation + 1;
		let (pb, pe, output) = match w.auto_pad {
			AutoPad::NotSet => {
				let pb = get_or(&w.pads, i, 0) as u64;
				let pe = get_or(&w.pads, i + r, 0) as u64;
				let span = input + pb + pe;
				if span < eff {
					return Err(shape_err(
						op,
						format!("window {eff} larger than padded input {span}"),
					));
				}
				let mut out = if pool && w.ceil_mode {
					(span - eff).div_ceil(stride) + 1
				} else {
					(span - eff) / stride + 1
				};
				// The last window must start inside the input or the begin padding.
				if pool && w.ceil_mode && (out - 1) * stride >= input + pb {
					out -= 1;
				}
				(pb, pe, out)
			},
			AutoPad::Valid => {
				if input < eff {
					return Err(shape_err(op, format!("window {eff} larger than input {input}")));
				}
				(0, 0, (input - eff) / stride + 1)
			},
			AutoPad::SameUpper | AutoPad::SameLower => {
				let out = input.div_ceil(stride);
				let total = ((out.saturating_sub(1)) * stride + eff).saturating_sub(input);
				let small = total / 2;
				if w.auto_pad == AutoPad::SameUpper {
					(small, total - small, out)
				} else {
					(total - small, small, out)
				}
			},
		};
		axes.push(Axis {
			input: input as usize,
			output: output as usize,
			kernel: kernel as usize,
			stride: stride as usize,
			dilation: dilation as usize,
			pad_begin: pb as usize,
			pad_end: pe as usize,
		});
	}
	Ok(axes)
}

/// Spatial shape of an N, C, spatial... tensor, for 1-D or 2-D windows.
fn spatial<'a>(op: &'static str, x: &'a [u32]) -> Result<&'a [u32]> {
	match x.len() {
		3 | 4 => Ok(&x[2..]),
		r => Err(crate::error::not_implemented(
			op,
			format!("input rank {r} (only 1-D and 2-D windows, rank 3 or 4)"),
		)),
	}
}

/// (H axis, W axis) with a unit H axis for 1-D.
fn hw(axes: &[Axis]) -> (Axis, Axis) {
	let unit =
		Axis { input: 1, output: 1, kernel: 1, stride: 1, dilation: 1, pad_begin: 0, pad_end: 0 };
	match axes {
		[h, w] => (*h, *w),
		[w] => (unit, *w),
		_ => (unit, unit),
	}
}

fn check_f32(op: &'static str, ins: &[Meta], n: usize) -> Result<()> {
	for (i, m) in ins.iter().enumerate().take(n) {
		if m.dtype != DType::F32 {
			return Err(CanonError::DType { op, input: i, found: m.dtype });
		}
	}
	Ok(())
}

pub fn infer_conv(ins: &[Meta], w: &Window, group: u32) -> Result<(DType, Vec<u32>)> {
	const OP: &str = "Conv";
	check_f32(OP, ins, 3)?;
	let (x, wt) = match ins {
		[x, wt, ..] => (x.shape, wt.shape),
		_ => return Err(CanonError::Arity { op: OP, expected: "2 or 3", found: ins.len() }),
	};
	let out = conv_shape(OP, x, wt, w, group)?;
	let oc = wt[0];
	if let Some(b) = ins.get(2) {
		if b.shape != [oc] {
			return Err(shape_err(OP, format!("bias {:?} != [{oc}]", b.shape)));
		}
	}
	Ok((DType::F32, out))
}

/// Output columns per block of the convolution GEMM.
const CONV_BLOCK: usize = 256;

/// Output rows (channels) and columns (positions) of the register tile of the Conv GEMM.
const TILE_R: usize = 4;
const TILE_C: usize = 8;

/// `N` register tiles side by side, of one weight tile and `N` column tiles: `acc[n][r][j] =
/// sum over k ascending of w[k][r] * cols[n][k][j]`, starting from zero, one multiply then one
/// add per step ([`Mac`]). Each `cols[n]` is packed `[k][TILE_C]`, `w` `[k][TILE_R]`. `N` only
/// changes how many independent sums are in flight, not the steps of any of them.
#[inline(always)]
fn tile_kernel<T: Mac, const N: usize>(cols: [&[T]; N], w: &[T]) -> [[[T; TILE_C]; TILE_R]; N] {
	let mut acc = [[[T::default(); TILE_C]; TILE_R]; N];
	for (k, wk) in w.chunks_exact(TILE_R).enumerate() {
		let Ok(wk) = <&[T; TILE_R]>::try_from(wk) else {
			continue;
		};
		for (tile, col) in acc.iter_mut().zip(cols) {
			let Some(Ok(c)) = col.get(k * TILE_C..(k + 1) * TILE_C).map(<&[T; TILE_C]>::try_from)
			else {
				continue;
			};
			for (row, &wv) in tile.iter_mut().zip(wk) {
				for (a, &x) in row.iter_mut().zip(c) {
					*a = a.mac(wv, x);
				}
			}
		}
	}
	acc
}

/// One block of positions: every row tile of `wpack` (`row_tiles` of them, packed
/// `[row tile][k][TILE_R]`) times every column tile of `packed` (`[column tile][k][TILE_C]`,
/// `pc` positions), `N` column tiles at a time; `store(row tile, column tile, tile)` takes each
/// result.
#[inline(always)]
fn block_product<T: Mac, const N: usize>(
	(packed, wpack): (&[T], &[T]),
	(k_len, pc, row_tiles): (usize, usize, usize),
	mut store: impl FnMut(usize, usize, &[[T; TILE_C]; TILE_R]) -> Result<()>,
) -> Result<()> {
	let tiles = pc.div_ceil(TILE_C);
	let col = |t: usize| packed.get(t * k_len * TILE_C..(t + 1) * k_len * TILE_C).ok_or(OVERFLOW);
	for rt in 0..row_tiles {
		let w = wpack.get(rt * k_len * TILE_R..(rt + 1) * k_len * TILE_R).ok_or(OVERFLOW)?;
		let mut t = 0;
		while t + N <= tiles {
			let mut cols = [&[][..]; N];
			for (n, c) in cols.iter_mut().enumerate() {
				*c = col(t + n)?;
			}
			for (n, acc) in tile_kernel::<T, N>(cols, w).iter().enumerate() {
				store(rt, t + n, acc)?;
			}
			t += N;
		}
		for t in t..tiles {
			let [acc] = tile_kernel::<T, 1>([col(t)?], w);
			store(rt, t, &acc)?;
		}
	}
	Ok(())
}

/// [`block_product`] as a [`Kernel`]: two column tiles at a time on an 8-lane instruction set
/// (eight sums of 8 in flight), one otherwise.
struct BlockProduct<'a, T, S> {
	operands: (&'a [T], &'a [T]),
	sizes: (usize, usize, usize),
	store: S,
	wide: bool,
}

impl<T: Mac, S: FnMut(usize, usize, &[[T; TILE_C]; TILE_R]) -> Result<()>> Kernel
	for BlockProduct<'_, T, S>
{
	type Output = Result<()>;
	#[inline(always)]
	fn call(self) -> Result<()> {
		if self.wide {
			block_product::<T, 2>(self.operands, self.sizes, self.store)
		} else {
			block_product::<T, 1>(self.operands, self.sizes, self.store)
		}
	}
}

/// Conv: the blocked product [`conv_blocked`], then `y = acc + bias` (bias 0.0 when absent).
pub fn run_conv(ins: &[&Tensor], w: &Window, group: u32, out_shape: &[u32]) -> Result<Tensor> {
	Ok(f32_tensor(out_shape.to_vec(), conv_values(ins, w, group, out_shape)?))
}

/// Conv's output values (of shape `out_shape`), for [`run_conv`] and a fused node's head.
pub fn conv_values(ins: &[&Tensor], w: &Window, group: u32, out_shape: &[u32]) -> Result<Vec<f32>> {
	let (x, wt) = match ins {
		[x, wt, ..] => (*x, *wt),
		_ => return Err(CanonError::Arity { op: "Conv", expected: "2 or 3", found: ins.len() }),
	};
	let oc = wt.shape.first().copied().unwrap_or(0) as usize;
	let bias = match ins.get(2) {
		Some(b) => b.f32_values()?,
		None => vec![0f32; oc],
	};
	let mut out =
		conv_blocked("Conv", &x.f32_values()?, &x.shape, &wt.f32_values()?, &wt.shape, w, group)?;
	let plane = out_shape.iter().skip(2).map(|&d| d as usize).product::<usize>().max(1);
	for (ch, ys) in out.chunks_mut(plane).enumerate() {
		let b = bias.get(ch % oc.max(1)).copied().unwrap_or(0.0);
		ys.iter_mut().for_each(|y| *y += b);
	}
	Ok(out)
}

/// The accumulation of a convolution, of f32 (Conv) or of zero-point-shifted integers
/// (ConvInteger, QLinearConv): each output `acc = 0; for ic (in the group), kh, kw ascending:
/// acc = acc.mac(w, x)` (a padding tap is `x = 0`).
///
/// Computed as a blocked GEMM over an on-the-fly im2col: for each block of up to
/// [`CONV_BLOCK`] output positions, the zero-padded input taps `col[k][p]` (k = (ic, kh, kw)
/// row-major) are gathered once and packed in tiles of [`TILE_C`] positions; weights are packed
/// in tiles of [`TILE_R`] output channels; each output accumulates over k ascending in a
/// register tile, so the order is the one above. Natively (feature `std`), a large convolution
/// is split between threads by groups or by output-channel tiles; each output is still computed
/// by the same code, so the result is the same bit for bit.
pub fn conv_blocked<T: Mac + Send + Sync>(
	op: &'static str,
	xv: &[T],
	x_shape: &[u32],
	wv: &[T],
	w_shape: &[u32],
	win: &Window,
	group: u32,
) -> Result<Vec<T>> {
	let mut full = win.clone();
	full.kernel = w_shape.get(2..).unwrap_or(&[]).to_vec();
	let axes = resolve(op, &full, x_shape.get(2..).unwrap_or(&[]), false)?;
	let (ah, aw) = hw(&axes);
	let dim = |s: &[u32], i: usize| s.get(i).copied().unwrap_or(0) as usize;
	let (n, c, oc) = (dim(x_shape, 0), dim(x_shape, 1), dim(w_shape, 0));
	let g = (group as usize).max(1);
	let (cg, ocg) = (c / g, oc / g);
	let geo = ConvGeometry {
		ah,
		aw,
		cg,
		ocg,
		k_len: cg * ah.kernel * aw.kernel,
		plane_in: ah.input * aw.input,
		plane_out: ah.output * aw.output,
	};
	let mut out = vec![T::default(); n * oc * geo.plane_out];
	let row_tiles = ocg.div_ceil(TILE_R);
	for (b, out_b) in out.chunks_mut((oc * geo.plane_out).max(1)).enumerate().take(n) {
		let x_b = xv.get(b * c * geo.plane_in..(b + 1) * c * geo.plane_in).ok_or(OVERFLOW)?;
		// One job: all groups, all row tiles; natively split in two when large.
		let whole = ConvJob { groups: 0..g, row_tiles: 0..row_tiles };
		#[cfg(feature = "std")]
		if crate::parallel::threads() > 1 {
			if let (first, Some(second)) = whole.split(&geo) {
				let at = first.out_len(&geo).min(out_b.len());
				let (mine, theirs) = out_b.split_at_mut(at);
				let (a, b) = crate::parallel::join(
					|| conv_job(&geo, x_b, wv, &first, mine),
					|| conv_job(&geo, x_b, wv, &second, theirs),
				);
				a.and(b)?;
				continue;
			}
		}
		conv_job(&geo, x_b, wv, &whole, out_b)?;
	}
	Ok(out)
}

const OVERFLOW: CanonError = CanonError::Overflow { what: "Conv offsets" };

/// A convolution's shape after `resolve`.
struct ConvGeometry {
	ah: Axis,
	aw: Axis,
	cg: usize,
	ocg: usize,
	k_len: usize,
	plane_in: usize,
	plane_out: usize,
}

/// A part of one batch item's convolution whose outputs are contiguous: a range of groups (all
/// their output channels), or one group's range of output-channel tiles.
#[derive(Clone)]
struct ConvJob {
	groups: core::ops::Range<usize>,
	row_tiles: core::ops::Range<usize>,
}

impl ConvJob {
	/// The output channels of each group that this job computes.
	fn rows(&self, geo: &ConvGeometry) -> core::ops::Range<usize> {
		(self.row_tiles.start * TILE_R).min(geo.ocg)..(self.row_tiles.end * TILE_R).min(geo.ocg)
	}

	#[cfg(feature = "std")]
	fn out_len(&self, geo: &ConvGeometry) -> usize {
		self.groups.len() * self.rows(geo).len() * geo.plane_out
	}

	/// Two halves of a large job (by groups if there are several, else by row tiles), or the
	/// job and `None`.
	#[cfg(feature = "std")]
	fn split(&self, geo: &ConvGeometry) -> (ConvJob, Option<ConvJob>) {
		let work = self.out_len(geo) * geo.k_len;
		let (g, r) = (&self.groups, &self.row_tiles);
		if work < crate::parallel::SPLIT_WORK {
			return (self.clone(), None);
		}
		if g.len() >= 2 {
			let mid = g.start + g.len() / 2;
			let half = |groups| ConvJob { groups, row_tiles: r.clone() };
			(half(g.start..mid), Some(half(mid..g.end)))
		} else if r.len() >= 2 {
			let mid = r.start + r.len() / 2;
			let half = |row_tiles| ConvJob { groups: g.clone(), row_tiles };
			(half(r.start..mid), Some(half(mid..r.end)))
		} else {
			(self.clone(), None)
		}
	}
}

/// Computes `job` of one batch item (`x_b`: its input, all channels) into `out` (the job's
/// outputs, group by group, channel by channel).
fn conv_job<T: Mac>(
	geo: &ConvGeometry,
	x_b: &[T],
	wv: &[T],
	job: &ConvJob,
	out: &mut [T],
) -> Result<()> {
	if geo.ocg == 1 && geo.cg == 1 && channel_lanes_pay(geo, job) {
		Isa::detect().run(ChannelLanes { geo, x_b, wv, job, out })
	} else if geo.ocg == 1 {
		conv_job_one_row(geo, x_b, wv, job, out)
	} else {
		conv_job_tiled(Isa::detect(), geo, x_b, wv, job, out)
	}
}

/// [`conv_job`] through the register tiles: im2col blocks times packed weight tiles.
fn conv_job_tiled<T: Mac>(
	isa: Isa,
	geo: &ConvGeometry,
	x_b: &[T],
	wv: &[T],
	job: &ConvJob,
	out: &mut [T],
) -> Result<()> {
	let (k_len, plane_out) = (geo.k_len, geo.plane_out);
	let rows = job.rows(geo);
	let mut packed = vec![T::default(); k_len * CONV_BLOCK.next_multiple_of(TILE_C)];
	let mut wpack = vec![T::default(); job.row_tiles.len() * k_len * TILE_R];
	for (gi, grp) in job.groups.clone().enumerate() {
		// This job's weights of the group, packed [row tile][k][TILE_R] (missing rows zero).
		wpack.fill(T::default());
		for o in rows.clone() {
			let at = (grp * geo.ocg + o) * k_len;
			let src = wv.get(at..at + k_len).ok_or(OVERFLOW)?;
			let (t, r) = (o / TILE_R - job.row_tiles.start, o % TILE_R);
			for (k, &v) in src.iter().enumerate() {
				if let Some(d) = wpack.get_mut((t * k_len + k) * TILE_R + r) {
					*d = v;
				}
			}
		}
		let input = x_b
			.get(grp * geo.cg * geo.plane_in..(grp + 1) * geo.cg * geo.plane_in)
			.ok_or(OVERFLOW)?;
		let out_base = gi * rows.len() * plane_out;
		for p0 in (0..plane_out).step_by(CONV_BLOCK) {
			let pc = CONV_BLOCK.min(plane_out - p0);
			im2col_packed(input, &geo.ah, &geo.aw, p0, pc, k_len, &mut packed);
			let store = |rt: usize, t: usize, acc: &[[T; TILE_C]; TILE_R]| -> Result<()> {
				for (r, row) in acc.iter().enumerate() {
					// The output channel within this job's rows.
					let o = (job.row_tiles.start + rt) * TILE_R + r;
					if o >= rows.end {
						break;
					}
					let p = t * TILE_C;
					let len = TILE_C.min(pc - p);
					let at = out_base + (o - rows.start) * plane_out + p0 + p;
					out.get_mut(at..at + len).ok_or(OVERFLOW)?.copy_from_slice(&row[..len]);
				}
				Ok(())
			};
			isa.run(BlockProduct {
				operands: (&packed, &wpack),
				sizes: (k_len, pc, job.row_tiles.len()),
				store,
				wide: isa.wide(),
			})?;
		}
	}
	Ok(())
}

/// [`conv_job`] of a depthwise convolution (one input and one output channel per group) with
/// the job's channels side by side in lanes: the input and the weights are transposed to
/// position-major (`[position][channel]`, `[tap][channel]`), and each output position's sums,
/// one per channel, run over the taps `k = (kh, kw)` ascending from zero, `acc.mac(w, x)` with a
/// padding tap as `x = 0`: each channel's steps are those of [`tile_kernel`].
#[inline(always)]
fn conv_job_channel_lanes<T: Mac>(
	geo: &ConvGeometry,
	x_b: &[T],
	wv: &[T],
	job: &ConvJob,
	out: &mut [T],
) -> Result<()> {
	let (ah, aw, taps) = (&geo.ah, &geo.aw, geo.k_len);
	let (iw, ow, plane_in) = (aw.input, aw.output.max(1), geo.plane_in);
	let c = job.groups.len();
	let (c0, c1) = (job.groups.start, job.groups.end);
	let mut xt = vec![T::default(); plane_in * c];
	let input = x_b.get(c0 * plane_in..c1 * plane_in).ok_or(OVERFLOW)?;
	for (ch, plane) in input.chunks_exact(plane_in.max(1)).enumerate() {
		for (p, &v) in plane.iter().enumerate() {
			*xt.get_mut(p * c + ch).ok_or(OVERFLOW)? = v;
		}
	}
	let mut wt = vec![T::default(); taps * c];
	let weights = wv.get(c0 * taps..c1 * taps).ok_or(OVERFLOW)?;
	for (ch, w) in weights.chunks_exact(taps.max(1)).enumerate() {
		for (k, &v) in w.iter().enumerate() {
			*wt.get_mut(k * c + ch).ok_or(OVERFLOW)? = v;
		}
	}
	let zero = vec![T::default(); c];
	let mut acc = vec![T::default(); c];
	for p in 0..geo.plane_out {
		let (r, cc) = (p / ow, p % ow);
		acc.fill(T::default());
		for ki in 0..ah.kernel {
			let y = tap(ah, r, ki);
			for kj in 0..aw.kernel {
				let xs = match (y, tap(aw, cc, kj)) {
					(Some(y), Some(x)) => xt.get((y * iw + x) * c..(y * iw + x + 1) * c),
					_ => Some(&zero[..]),
				};
				let ws = wt.get((ki * aw.kernel + kj) * c..(ki * aw.kernel + kj + 1) * c);
				let (Some(xs), Some(ws)) = (xs, ws) else { return Err(OVERFLOW) };
				for ((a, &w), &x) in acc.iter_mut().zip(ws).zip(xs) {
					*a = a.mac(w, x);
				}
			}
		}
		for (ch, &a) in acc.iter().enumerate() {
			*out.get_mut(ch * geo.plane_out + p).ok_or(OVERFLOW)? = a;
		}
	}
	Ok(())
}

/// Whether a depthwise job runs faster with its channels in lanes than row by row: with short
/// output rows (where the row path's per-tap segments cost more than their sums) and enough
/// channels to fill the lanes. Either way the results are the same.
fn channel_lanes_pay(geo: &ConvGeometry, job: &ConvJob) -> bool {
	geo.aw.output < 32 && job.groups.len() >= 16
}

/// [`conv_job_channel_lanes`] as a [`Kernel`] (its channel loops in the CPU's widest lanes).
struct ChannelLanes<'a, T> {
	geo: &'a ConvGeometry,
	x_b: &'a [T],
	wv: &'a [T],
	job: &'a ConvJob,
	out: &'a mut [T],
}

impl<T: Mac> Kernel for ChannelLanes<'_, T> {
	type Output = Result<()>;
	#[inline(always)]
	fn call(self) -> Result<()> {
		conv_job_channel_lanes(self.geo, self.x_b, self.wv, self.job, self.out)
	}
}

/// [`conv_job`] of a convolution with one output channel per group (depthwise): computed
/// directly with the very steps of [`tile_kernel`] (from zero, `acc.mac(w, x)` for k = (ic, kh,
/// kw) ascending, a padding tap as `x = 0`), without gathering its taps or multiplying the
/// three zero rows a [`TILE_R`]-row tile would carry. One output row at a time, its sums side
/// by side: each tap `k` is added to every sum of the row before the next tap, so each sum still
/// runs over k ascending.
fn conv_job_one_row<T: Mac>(
	geo: &ConvGeometry,
	x_b: &[T],
	wv: &[T],
	job: &ConvJob,
	out: &mut [T],
) -> Result<()> {
	let (ah, aw, k_len) = (&geo.ah, &geo.aw, geo.k_len);
	let (iw, ow) = (aw.input, aw.output.max(1));
	let plane_in = geo.plane_in.max(1);
	for (gi, grp) in job.groups.clone().enumerate() {
		let w = wv.get(grp * k_len..(grp + 1) * k_len).ok_or(OVERFLOW)?;
		let input = x_b
			.get(grp * geo.cg * geo.plane_in..(grp + 1) * geo.cg * geo.plane_in)
			.ok_or(OVERFLOW)?;
		let out_g = out.get_mut(gi * geo.plane_out..(gi + 1) * geo.plane_out).ok_or(OVERFLOW)?;
		for (r, sums) in out_g.chunks_exact_mut(ow).enumerate() {
			sums.fill(T::default());
			let mut taps = w.iter();
			for ic_plane in input.chunks_exact(plane_in) {
				for ki in 0..ah.kernel {
					let row = tap(ah, r, ki).and_then(|y| ic_plane.get(y * iw..(y + 1) * iw));
					for kj in 0..aw.kernel {
						let wt = taps.next().copied().unwrap_or_default();
						// The row's outputs whose tap is in the begin padding, inside the
						// input, in the end padding (all padding when the tap's row is).
						let (cols, first) = match row {
							Some(_) => inside(aw, kj),
							None => (0..0, 0),
						};
						let (before, rest) = sums.split_at_mut(cols.start.min(sums.len()));
						let (within, after) = rest.split_at_mut(cols.len().min(rest.len()));
						before.iter_mut().for_each(|a| *a = a.mac(wt, T::default()));
						if let Some(row) = row {
							let xs = row.get(first..).unwrap_or(&[]);
							if aw.stride == 1 {
								within.iter_mut().zip(xs).for_each(|(a, &x)| *a = a.mac(wt, x));
							} else {
								let xs = xs.iter().step_by(aw.stride);
								within.iter_mut().zip(xs).for_each(|(a, &x)| *a = a.mac(wt, x));
							}
						}
						after.iter_mut().for_each(|a| *a = a.mac(wt, T::default()));
					}
				}
			}
		}
	}
	Ok(())
}

/// The input position along `axis` that tap `k` of output `o` reads, or `None` for a tap in the
/// padding.
#[inline(always)]
pub(crate) fn tap(axis: &Axis, o: usize, k: usize) -> Option<usize> {
	let i = (o * axis.stride + k * axis.dilation).checked_sub(axis.pad_begin)?;
	(i < axis.input).then_some(i)
}

/// The outputs along `axis` whose tap `k` is inside the input (not in the padding), one
/// contiguous range (`o * stride + k * dilation - pad_begin` in `0..input`), and the input
/// position the first of them reads (0 when there is none).
fn inside(axis: &Axis, k: usize) -> (Range<usize>, usize) {
	strided_run(axis.output, axis.input, k * axis.dilation, axis.pad_begin, axis.stride)
}

/// The indices `j` in `0..count` with `j * stride + offset - pad_begin` in `0..limit` (one
/// contiguous range), and that position for the first of them (0 when there is none): the
/// outputs a Conv tap reads inside its input, or the inputs a ConvTranspose tap carries into its
/// output.
fn strided_run(
	count: usize,
	limit: usize,
	offset: usize,
	pad_begin: usize,
	stride: usize,
) -> (Range<usize>, usize) {
	let s = stride.max(1);
	let lo = pad_begin.saturating_sub(offset).div_ceil(s);
	let hi = (limit + pad_begin).saturating_sub(offset).div_ceil(s).min(count);
	let first = if lo < hi { (lo * s + offset).saturating_sub(pad_begin) } else { 0 };
	(lo.min(hi)..hi, first)
}

/// Gathers the taps of output positions `p0..p0 + pc` packed `[column tile][k][TILE_C]`:
/// `packed[(t * k_len + k) * TILE_C + j] = x` at tap `k = (ic, kh, kw)` of position
/// `p0 + t * TILE_C + j` (zero for padding taps and for positions past `pc`). Row by row of
/// outputs: the taps inside the input are a strided run of one input row.
fn im2col_packed<T: Mac>(
	input: &[T],
	ah: &Axis,
	aw: &Axis,
	p0: usize,
	pc: usize,
	k_len: usize,
	packed: &mut [T],
) {
	let (iw, ow) = (aw.input, aw.output.max(1));
	let plane = (ah.input * iw).max(1);
	let slot = |p: usize, k: usize| (p / TILE_C * k_len + k) * TILE_C + p % TILE_C;
	let mut k = 0usize;
	for ic_plane in input.chunks_exact(plane) {
		for ki in 0..ah.kernel {
			for kj in 0..aw.kernel {
				let (cols, first) = inside(aw, kj);
				let mut p = 0;
				while p < pc {
					let (r, c0) = ((p0 + p) / ow, (p0 + p) % ow);
					let run = (ow - c0).min(pc - p);
					let row = tap(ah, r, ki).and_then(|y| ic_plane.get(y * iw..(y + 1) * iw));
					for c in c0..c0 + run {
						let v = match row {
							Some(row) if cols.contains(&c) => {
								row.get(first + (c - cols.start) * aw.stride).copied()
							},
							_ => None,
						};
						if let Some(d) = packed.get_mut(slot(p + c - c0, k)) {
							*d = v.unwrap_or_default();
						}
					}
					p += run;
				}
				for p in pc..pc.next_multiple_of(TILE_C) {
					if let Some(d) = packed.get_mut(slot(p, k)) {
						*d = T::default();
					}
				}
				k += 1;
			}
		}
	}
}

pub fn infer_pool(op: &'static str, ins: &[Meta], w: &Window) -> Result<(DType, Vec<u32>)> {
	check_f32(op, ins, 1)?;
	let x = ins.first().ok_or(CanonError::Arity { op, expected: "1", found: 0 })?.shape;
	let axes = resolve(op, w, spatial(op, x)?, true)?;
	let mut out = vec![x[0], x[1]];
	out.extend(axes.iter().map(|a| a.output as u32));
	Ok((DType::F32, out))
}

/// MaxPool (`average = None`) or AveragePool (`Some(count_include_pad)`).
pub fn run_pool(
	x: &Tensor,
	w: &Window,
	average: Option<bool>,
	out_shape: &[u32],
) -> Result<Tensor> {
	let (ah, aw) = pool_axes(w, &x.shape, average)?;
	let planes = x.shape[0] as usize * x.shape[1] as usize;
	let (ih, iw, oh, ow) = (ah.input, aw.input, ah.output, aw.output);
	let xv = x.f32_values()?;
	let mut out = Vec::with_capacity(planes * oh * ow);
	for p in 0..planes {
		let Some(plane) = xv.get(p * ih * iw..(p + 1) * ih * iw) else {
			return Err(CanonError::Overflow { what: "pool offsets" });
		};
		for r in 0..oh {
			for col in 0..ow {
				out.push(pool_one(plane, &ah, &aw, r, col, average));
			}
		}
	}
	Ok(f32_tensor(out_shape.to_vec(), out))
}

/// The (H, W) axes of a MaxPool (`average: None`) or AveragePool of input shape `x`.
pub(crate) fn pool_axes(w: &Window, x: &[u32], average: Option<bool>) -> Result<(Axis, Axis)> {
	let op = if average.is_some() { "AveragePool" } else { "MaxPool" };
	Ok(hw(&resolve(op, w, spatial(op, x)?, true)?))
}

/// Output `(r, col)` of a pool over one input plane: its taps in (kh, kw) order; MaxPool keeps
/// the first tap, then any larger one or a NaN (no valid tap gives 0); AveragePool sums them
/// from 0 and divides by their count (`Some(true)`: the taps inside the padded input).
#[inline(always)]
pub(crate) fn pool_one(
	plane: &[f32],
	ah: &Axis,
	aw: &Axis,
	r: usize,
	col: usize,
	average: Option<bool>,
) -> f32 {
	let (ih, iw) = (ah.input, aw.input);
	let mut acc = 0f32;
	let mut taps = 0usize;
	let mut first = true;
	let mut padded = 0usize;
	for ki in 0..ah.kernel {
		let y = (r * ah.stride + ki * ah.dilation) as isize - ah.pad_begin as isize;
		let y_in_padded = y < (ih + ah.pad_end) as isize;
		for kj in 0..aw.kernel {
			let xc = (col * aw.stride + kj * aw.dilation) as isize - aw.pad_begin as isize;
			if y_in_padded && xc < (iw + aw.pad_end) as isize {
				padded += 1;
			}
			if y < 0 || y >= ih as isize || xc < 0 || xc >= iw as isize {
				continue;
			}
			let v = plane.get(y as usize * iw + xc as usize).copied().unwrap_or(0.0);
			taps += 1;
			if average.is_some() {
				acc += v;
			} else if first || (!acc.is_nan() && (v.is_nan() || v > acc)) {
				acc = v;
			}
			first = false;
		}
	}
	match average {
		Some(true) => acc / padded.max(1) as f32,
		Some(false) => acc / taps.max(1) as f32,
		None => acc,
	}
}

pub fn infer_global(op: &'static str, ins: &[Meta]) -> Result<(DType, Vec<u32>)> {
	check_f32(op, ins, 1)?;
	let x = ins.first().ok_or(CanonError::Arity { op, expected: "1", found: 0 })?.shape;
	if x.len() < 3 {
		return Err(shape_err(op, format!("input rank {} < 3", x.len())));
	}
	let mut out = x.to_vec();
	for d in out.iter_mut().skip(2) {
		*d = 1;
	}
	Ok((DType::F32, out))
}

pub fn run_global(x: &Tensor, average: bool, out_shape: &[u32]) -> Result<Tensor> {
	let planes = x.shape[0] as usize * x.shape[1] as usize;
	let size: usize = x.shape[2..].iter().map(|&d| d as usize).product();
	let xv = x.f32_values()?;
	let mut out = Vec::with_capacity(planes);
	if size == 0 {
		return Err(shape_err(
			if average { "GlobalAveragePool" } else { "GlobalMaxPool" },
			"empty spatial extent",
		));
	}
	for plane in xv.chunks_exact(size).take(planes) {
		let acc = global_fold(average, None, plane);
		out.push(if average { acc / size as f32 } else { acc });
	}
	Ok(f32_tensor(out_shape.to_vec(), out))
}

/// Folds `values` (a run of one plane, in order) into a global pool's accumulator: from `acc`,
/// or for a plane's first run from 0 (average) or its first value (max); `acc + v`, or `v` if
/// it is a NaN or larger (NaN propagates). A global average then divides by the plane's size.
#[inline(always)]
pub(crate) fn global_fold(average: bool, acc: Option<f32>, values: &[f32]) -> f32 {
	if average {
		let mut acc = acc.unwrap_or(0.0);
		for &v in values {
			acc += v;
		}
		return acc;
	}
	let (mut m, rest) = match acc {
		Some(m) => (m, values),
		None => (values.first().copied().unwrap_or(0.0), values.get(1..).unwrap_or_default()),
	};
	for &v in rest {
		if v.is_nan() || (!m.is_nan() && v > m) {
			m = v;
		}
	}
	m
}

/// Geometry of one spatial axis of a ConvTranspose.
#[derive(Clone, Copy, Debug)]
struct TAxis {
	input: usize,
	output: usize,
	kernel: usize,
	stride: usize,
	dilation: usize,
	pad_begin: usize,
}

fn resolve_transpose(
	w: &Window,
	output_padding: &[u32],
	spatial: &[u32],
	kernel: &[u32],
) -> Result<Vec<TAxis>> {
	const OP: &str = "ConvTranspose";
	let r = spatial.len();
	if !w.kernel.is_empty() && w.kernel != kernel {
		return Err(attr_err(OP, "kernel_shape", format!("{:?} != weight {kernel:?}", w.kernel)));
	}
	for (attr, v, n) in [
		("strides", &w.strides, r),
		("dilations", &w.dilations, r),
		("pads", &w.pads, 2 * r),
		("output_padding", &output_padding.to_vec(), r),
	] {
		if !(v.is_empty() || v.len() == n) {
			return Err(attr_err(OP, attr, format!("{} entries for {r} spatial axes", v.len())));
		}
	}
	let explicit = match w.auto_pad {
		AutoPad::NotSet => true,
		AutoPad::Valid => false,
		AutoPad::SameUpper | AutoPad::SameLower => {
			return Err(attr_err(OP, "auto_pad", "SAME_* must be resolved to explicit pads"))
		},
	};
	let mut axes = Vec::with_capacity(r);
	for (i, (&input, &k)) in spatial.iter().zip(kernel).enumerate() {
		let (input, k) = (input as u64, k as u64);
		let stride = get_or(&w.strides, i, 1) as u64;
		let dilation = get_or(&w.dilations, i, 1) as u64;
		let extra = get_or(output_padding, i, 0) as u64;
		if k == 0 || stride == 0 || dilation == 0 || input == 0 {
			return Err(attr_err(
				OP,
				"kernel_shape",
				"kernel, stride, dilation, input must be >= 1",
			));
		}
		if extra >= stride.max(dilation) {
			return Err(attr_err(
				OP,
				"output_padding",
				format!("{extra} must be smaller than the stride or the dilation"),
			));
		}
		let (pb, pe) = if explicit {
			(get_or(&w.pads, i, 0) as u64, get_or(&w.pads, i + r, 0) as u64)
		} else {
			(0, 0)
		};
		let full = stride * (input - 1) + extra + (k - 1) * dilation + 1;
		let Some(output) = full.checked_sub(pb + pe).filter(|&o| o > 0) else {
			return Err(shape_err(OP, format!("pads {pb} + {pe} leave no output of {full}")));
		};
		axes.push(TAxis {
			input: input as usize,
			output: output as usize,
			kernel: k as usize,
			stride: stride as usize,
			dilation: dilation as usize,
			pad_begin: pb as usize,
		});
	}
	Ok(axes)
}

pub fn infer_conv_transpose(
	ins: &[Meta],
	w: &Window,
	group: u32,
	output_padding: &[u32],
) -> Result<(DType, Vec<u32>)> {
	const OP: &str = "ConvTranspose";
	check_f32(OP, ins, 3)?;
	let (x, wt) = match ins {
		[x, wt, ..] => (x.shape, wt.shape),
		_ => return Err(CanonError::Arity { op: OP, expected: "2 or 3", found: ins.len() }),
	};
	let sp = spatial(OP, x)?;
	if wt.len() != x.len() {
		return Err(shape_err(OP, format!("weight rank {} != input rank {}", wt.len(), x.len())));
	}
	let c = x[1];
	if group == 0 || wt[0] != c || c % group != 0 {
		return Err(shape_err(
			OP,
			format!("channels {c}, weight {wt:?}, group {group} do not fit"),
		));
	}
	let m =
		wt[1].checked_mul(group).ok_or(CanonError::Overflow { what: "ConvTranspose channels" })?;
	let axes = resolve_transpose(w, output_padding, sp, &wt[2..])?;
	if let Some(b) = ins.get(2) {
		if b.shape != [m] {
			return Err(shape_err(OP, format!("bias {:?} != [{m}]", b.shape)));
		}
	}
	let mut out = vec![x[0], m];
	out.extend(axes.iter().map(|a| a.output as u32));
	Ok((DType::F32, out))
}

/// For each output coordinate of an axis, the `(kernel index, input index)` pairs that reach
/// it, kernel index ascending: `o + pad_begin = i * stride + k * dilation`.
fn transpose_taps(a: &TAxis) -> Vec<Vec<(usize, usize)>> {
	(0..a.output)
		.map(|o| {
			(0..a.kernel)
				.filter_map(|k| {
					let t = (o + a.pad_begin).checked_sub(k * a.dilation)?;
					(t % a.stride == 0 && t / a.stride < a.input).then_some((k, t / a.stride))
				})
				.collect()
		})
		.collect()
}

/// Along one axis of a ConvTranspose, the inputs that kernel tap `k` carries into the output
/// (`o = i * stride + k * dilation - pad_begin` in `0..output`) and the output the first of them
/// reaches (0 when there is none).
fn transpose_reach(a: &TAxis, k: usize) -> (Range<usize>, usize) {
	strided_run(a.input, a.output, k * a.dilation, a.pad_begin, a.stride)
}

/// ConvTranspose. Reduction order: for each output element, `acc = 0.0`, then for input
/// channel `ic` of the group ascending, kernel row `kh` ascending, kernel column `kw`
/// ascending, over the taps that reach the element (`oh + pad_begin = ih * stride + kh *
/// dilation`, likewise for columns): `acc = acc + x * w`; finally `y = acc + bias`.
pub fn run_conv_transpose(
	ins: &[&Tensor],
	w: &Window,
	group: u32,
	output_padding: &[u32],
	out_shape: &[u32],
) -> Result<Tensor> {
	const OP: &str = "ConvTranspose";
	let (x, wt) = match ins {
		[x, wt, ..] => (*x, *wt),
		_ => return Err(CanonError::Arity { op: OP, expected: "2 or 3", found: ins.len() }),
	};
	let rank = x.shape.len();
	let axes = resolve_transpose(w, output_padding, &x.shape[2..], &wt.shape[2..])?;
	let unit = TAxis { input: 1, output: 1, kernel: 1, stride: 1, dilation: 1, pad_begin: 0 };
	let (ah, aw) = match axes.as_slice() {
		[h, w] => (*h, *w),
		[w] => (unit, *w),
		_ => return Err(shape_err(OP, format!("input rank {rank}"))),
	};
	let rows = transpose_taps(&ah);
	let (n, c) = (x.shape[0] as usize, x.shape[1] as usize);
	let g = (group as usize).max(1);
	let (cg, mg) = (c / g, wt.shape[1] as usize);
	let m = mg * g;
	let (ih, iw, oh, ow) = (ah.input, aw.input, ah.output, aw.output);
	let (kh, kw) = (ah.kernel, aw.kernel);
	let xv = x.f32_values()?;
	let wv = wt.f32_values()?;
	let bias = match ins.get(2) {
		Some(b) => b.f32_values()?,
		None => vec![0f32; m],
	};
	let overflow = || CanonError::Overflow { what: "ConvTranspose offsets" };
	let mut out = Vec::with_capacity(n * m * oh * ow);
	// One output row at a time, its `ow` sums side by side: for each (ic, kh), then each kw,
	// the input row is added into the columns that tap reaches (columns `c = xc * stride + kw *
	// dilation - pad_begin`), so each sum still runs over (ic, kh, kw) ascending.
	let col_runs: Vec<(Range<usize>, usize)> = (0..kw).map(|kj| transpose_reach(&aw, kj)).collect();
	let mut accs = vec![0f32; ow];
	for b in 0..n {
		for oc in 0..m {
			let (grp, o) = (oc / mg, oc % mg);
			let bv = bias.get(oc).copied().unwrap_or(0.0);
			for row in &rows {
				accs.fill(0.0);
				for icg in 0..cg {
					let ic = grp * cg + icg;
					let x_plane = (b * c + ic) * ih * iw;
					let w_plane = (ic * mg + o) * kh * kw;
					for &(ki, y) in row {
						let at = x_plane + y * iw;
						let x_row = xv.get(at..at + iw).ok_or_else(overflow)?;
						let at = w_plane + ki * kw;
						let w_row = wv.get(at..at + kw).ok_or_else(overflow)?;
						for ((inputs, first), &w) in col_runs.iter().zip(w_row) {
							let xs = x_row.get(inputs.clone()).ok_or_else(overflow)?;
							let sums = accs.get_mut(*first..).unwrap_or(&mut []);
							for (acc, &x) in sums.iter_mut().step_by(aw.stride).zip(xs) {
								*acc += x * w;
							}
						}
					}
				}
				out.extend(accs.iter().map(|&acc| acc + bv));
			}
		}
	}
	Ok(f32_tensor(out_shape.to_vec(), out))
}

/// The output shape of a convolution (Conv, ConvInteger, QLinearConv) of input `x` by
/// weights `w` (OIHW or OIW).
pub fn conv_shape(
	op: &'static str,
	x: &[u32],
	w: &[u32],
	win: &Window,
	group: u32,
) -> Result<Vec<u32>> {
	let sp = spatial(op, x)?;
	if w.len() != x.len() {
		return Err(shape_err(op, format!("weight rank {} != input rank {}", w.len(), x.len())));
	}
	let (c, oc) = (x[1], w[0]);
	if group == 0 || c % group != 0 || oc % group != 0 || w[1] * group != c {
		return Err(shape_err(op, format!("channels {c}, weight {w:?}, group {group} do not fit")));
	}
	let kernel: Vec<u32> = w[2..].to_vec();
	if !win.kernel.is_empty() && win.kernel != kernel {
		return Err(attr_err(op, "kernel_shape", format!("{:?} != weight {kernel:?}", win.kernel)));
	}
	let mut full = win.clone();
	full.kernel = kernel;
	let axes = resolve(op, &full, sp, false)?;
	let mut out = vec![x[0], oc];
	out.extend(axes.iter().map(|a| a.output as u32));
	Ok(out)
}

#[cfg(test)]
mod tests {
	use super::*;
	use proptest::prelude::*;

	/// f32 values with the edge cases weighted in: ±0, ±inf, NaN, denormals, large and small.
	fn value() -> impl Strategy<Value = f32> {
		prop_oneof![
			4 => -4.0f32..4.0,
			1 => prop::sample::select(vec![
				0.0f32, -0.0, f32::INFINITY, f32::NEG_INFINITY, f32::NAN, f32::MIN_POSITIVE / 8.0,
				-f32::MIN_POSITIVE / 3.0, 3.0e38, -1.0e-38,
			]),
		]
	}

	proptest! {
		#![proptest_config(ProptestConfig::with_cases(256))]

		/// The tiled convolution on this CPU's widest instruction set (AVX2 on x86_64 when it
		/// has it: two column tiles in flight) = the portable one, bit for bit (NaNs as
		/// committed), for f32 and for the integer sums, on any channels, kernel, stride and
		/// padding, with block tails and row tiles cut short.
		#[test]
		fn the_wide_tiled_convolution_is_the_portable_one(
			(cg, ocg) in (1usize..7, 2usize..11),
			(ih, iw) in (1usize..12, 1usize..40),
			(kh, kw) in (1usize..4, 1usize..4),
			(sh, sw) in (1usize..3, 1usize..3),
			(ph, pw) in (0usize..2, 0usize..2),
			seed in prop::collection::vec(value(), 512),
			ints in prop::collection::vec(-255i32..256, 512),
		) {
			let axis = |input: usize, kernel: usize, stride: usize, pad: usize| {
				(input + 2 * pad >= kernel).then(|| Axis {
					input,
					kernel,
					stride,
					dilation: 1,
					pad_begin: pad,
					output: (input + 2 * pad - kernel) / stride + 1,
					pad_end: pad,
				})
			};
			let (Some(ah), Some(aw)) = (axis(ih, kh, sh, ph), axis(iw, kw, sw, pw)) else {
				return Ok(());
			};
			let geo = ConvGeometry {
				cg,
				ocg,
				k_len: cg * kh * kw,
				plane_in: ih * iw,
				plane_out: ah.output * aw.output,
				ah,
				aw,
			};
			let job = ConvJob { groups: 0..1, row_tiles: 0..ocg.div_ceil(TILE_R) };
			fn both<T: Mac + Send + Sync>(geo: &ConvGeometry, job: &ConvJob, x: &[T], w: &[T]) -> (Vec<T>, Vec<T>) {
				let mut wide = vec![T::default(); geo.ocg * geo.plane_out];
				let mut portable = wide.clone();
				conv_job_tiled(Isa::detect(), geo, x, w, job, &mut wide).unwrap();
				conv_job_tiled(Isa::Portable, geo, x, w, job, &mut portable).unwrap();
				(wide, portable)
			}
			let pick = |n: usize, from: usize| -> Vec<f32> {
				(0..n).map(|i| seed[(from + i * 7) % seed.len()]).collect()
			};
			let (x, w) = (pick(cg * geo.plane_in, 0), pick(ocg * geo.k_len, 3));
			let (wide, portable) = both(&geo, &job, &x, &w);
			let bits = |v: &[f32]| {
				v.iter()
					.map(|f| if f.is_nan() { crate::CANONICAL_NAN } else { f.to_bits() })
					.collect::<Vec<_>>()
			};
			prop_assert_eq!(bits(&wide), bits(&portable));
			let pick = |n: usize, from: usize| -> Vec<i32> {
				(0..n).map(|i| ints[(from + i * 7) % ints.len()]).collect()
			};
			let (x, w) = (pick(cg * geo.plane_in, 1), pick(ocg * geo.k_len, 5));
			let (wide, portable) = both(&geo, &job, &x, &w);
			prop_assert_eq!(wide, portable);
		}
	}

	proptest! {
		#![proptest_config(ProptestConfig::with_cases(256))]

		/// The direct one-row path and the channel-lane path = the tiled path, bit for bit (NaNs
		/// as committed), on depthwise convolutions of
		/// any kernel, stride, dilation and padding.
		#[test]
		fn one_row_convolution_is_the_tiled_one_bit_for_bit(
			groups in prop_oneof![1usize..5, 16usize..40],
			cg in 1usize..3,
			(ih, iw) in (1usize..9, 1usize..9),
			(kh, kw) in (1usize..4, 1usize..4),
			(sh, sw) in (1usize..3, 1usize..3),
			(dh, dw) in (1usize..3, 1usize..3),
			(ph, pw) in (0usize..3, 0usize..3),
			seed in prop::collection::vec(value(), 512),
		) {
			let axis = |input: usize, kernel: usize, stride: usize, dilation: usize, pad: usize| {
				let span = (kernel - 1) * dilation + 1;
				(input + 2 * pad >= span).then(|| Axis {
					input,
					kernel,
					stride,
					dilation,
					pad_begin: pad,
					output: (input + 2 * pad - span) / stride + 1,
					pad_end: pad,
				})
			};
			let (Some(ah), Some(aw)) = (axis(ih, kh, sh, dh, ph), axis(iw, kw, sw, dw, pw)) else {
				return Ok(());
			};
			let geo = ConvGeometry {
				cg,
				ocg: 1,
				k_len: cg * kh * kw,
				plane_in: ih * iw,
				plane_out: ah.output * aw.output,
				ah,
				aw,
			};
			let pick = |n: usize, from: usize| -> Vec<f32> {
				(0..n).map(|i| seed[(from + i * 7) % seed.len()]).collect()
			};
			let x = pick(groups * cg * geo.plane_in, 0);
			let w = pick(groups * geo.k_len, 3);
			let job = ConvJob { groups: 0..groups, row_tiles: 0..1 };
			let mut direct = vec![0f32; groups * geo.plane_out];
			let mut tiled = vec![0f32; groups * geo.plane_out];
			conv_job_one_row(&geo, &x, &w, &job, &mut direct).unwrap();
			conv_job_tiled(Isa::Portable, &geo, &x, &w, &job, &mut tiled).unwrap();
			// With one input channel per group, `conv_job` takes the channel-lane path (on
			// this CPU's widest instruction set).
			let mut dispatched = vec![0f32; groups * geo.plane_out];
			conv_job(&geo, &x, &w, &job, &mut dispatched).unwrap();
			// A NaN's sign and payload are not compared: which operand's an x86 add passes on
			// depends on the operand order the compiler picks, and the trace commits every NaN
			// as `CANONICAL_NAN`.
			let bits = |v: &[f32]| {
				v.iter()
					.map(|f| if f.is_nan() { crate::CANONICAL_NAN } else { f.to_bits() })
					.collect::<Vec<_>>()
			};
			prop_assert_eq!(bits(&direct), bits(&tiled));
			prop_assert_eq!(bits(&dispatched), bits(&tiled));
		}
	}
}
