//! The second level of the dispute game: a node's canonical sub-steps.
//!
//! When the first descent ends at a node too heavy for one transaction, the parties descend
//! inside it. Its output is cut into *tiles*, one per chunk of its data ([`TILE_ELEMENTS`] F32
//! elements, so a tile is exactly what [`crate::chunk`] commits a chunk to); where one tile's
//! reduction is still too heavy, each output's reduction (its terms in the operator's documented
//! order, docs/canonical-executor.md "Reduction orders") is cut into `segments` consecutive runs.
//!
//! Sub-step `(t, s)` starts from the *state* of tile `t` after segment `s - 1` (for `s = 0`,
//! every accumulator zero), adds segment `s`'s terms to each accumulator in order, and gives:
//! for `s < segments - 1`, the new state (the tile's accumulators as LE bytes: F32, or wrapping
//! I32 for the integer operators); for the last segment, the tile's output chunk (the
//! accumulators finished by the operator's epilogue: Conv's bias, Gemm's `alpha` and `beta * C`,
//! QLinearConv's requantization, a fused node's elementwise steps). Both are committed by
//! [`Geometry::leaf`]. A sum continued from the accumulator another run stopped at is the same
//! sum, term for term, so the chunks of a node's sub-steps are bit for bit its output's chunks
//! (`tests/substep.rs`).
//!
//! [`geometry`] fixes the cut from the operator and its input shapes alone, so both parties and
//! the runtime derive the same one: the fewest segments for which every sub-step's work is at
//! most [`SubStepLimits::max_work`] and the input elements it reads ([`reads`]) take at most
//! [`SubStepLimits::max_read_bytes`].
//!
//! Nodes with sub-steps: Conv and ConvTranspose (alone or as a fused node's head, with its
//! steps), MatMul, Gemm, the pools, fused nodes of elementwise steps, one F32 elementwise
//! operator, Sum, and the integer QLinearConv, MatMulInteger and QuantizeLinear.

use alloc::{borrow::Cow, format, vec, vec::Vec};
use core::ops::Range;

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

use crate::{
	chunk::{chunk_leaf, CHUNK_BYTES},
	error::{value_err, CanonError, Result},
	merkle::Hash,
	ops::{
		common::{broadcast_strides, Meta},
		fused, infer,
		linalg::Mac,
		quant,
		window::{global_fold, pool_axes, pool_one, tap, ConvDims},
	},
	program::{FusedStep, Op, Program, StepArg, Window},
	tensor::{numel, DType, Tensor},
};

pub mod player;
mod witness;

pub use witness::{
	cut_witness, substep_witness, verify_cut, verify_substep, Cut, CutWitness, InputChunks,
	ProvedInput, SubStepOutcome, SubStepWitness,
};

const NAME: &str = "sub-step";

/// Output elements per tile of an F32 (or I32) output: one chunk of its data. A tile of an
/// 8-bit output has 4096.
pub const TILE_ELEMENTS: usize = CHUNK_BYTES / 4;

/// What every sub-step must stay within.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct SubStepLimits {
	/// Work units (one per term added, one per epilogue step and output element).
	pub max_work: u64,
	/// Bytes of the input elements one sub-step reads (what its witness carries, before the
	/// chunk rounding and the proofs).
	pub max_read_bytes: u64,
}

impl SubStepLimits {
	/// 2 Mi work units (about a tenth of a block at the one-step's worst benchmarked cost) and
	/// 512 KiB of reads.
	pub const DEFAULT: Self = Self { max_work: 1 << 21, max_read_bytes: 512 << 10 };
}

/// How a node is cut into sub-steps.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Geometry {
	/// The node's output dtype: a tile is one chunk of it.
	pub output: DType,
	/// Elements of the node's output.
	pub elements: u64,
	/// Terms of each output's reduction (0 for a node without one).
	pub terms: u64,
	/// Runs each tile's reduction is cut into (at least 1).
	pub segments: u32,
}

impl Geometry {
	/// Output elements per tile: one chunk.
	pub fn tile_elements(&self) -> u64 {
		(CHUNK_BYTES / self.output.size().max(1)) as u64
	}

	/// Number of tiles (chunks of the output).
	pub fn tiles(&self) -> u64 {
		self.elements.div_ceil(self.tile_elements())
	}

	/// Number of sub-steps: tiles times segments.
	pub fn substeps(&self) -> u64 {
		self.tiles().saturating_mul(self.segments as u64)
	}

	/// The output elements of tile `t`.
	pub fn tile(&self, t: u64) -> Option<Range<usize>> {
		let start = t.checked_mul(self.tile_elements()).filter(|&s| s < self.elements)?;
		let end = self.elements.min(start + self.tile_elements());
		Some(usize::try_from(start).ok()?..usize::try_from(end).ok()?)
	}

	/// The terms of segment `s`: `terms * s / segments .. terms * (s + 1) / segments`.
	pub fn segment(&self, s: u32) -> Option<Range<usize>> {
		if s >= self.segments {
			return None;
		}
		let at = |s: u64| {
			let v = (self.terms as u128) * (s as u128) / (self.segments as u128);
			usize::try_from(v).ok()
		};
		Some(at(s as u64)?..at(s as u64 + 1)?)
	}

	/// Whether segment `s` is the last, the one that gives the output chunk.
	pub fn is_last(&self, s: u32) -> bool {
		s.checked_add(1) == Some(self.segments)
	}

	/// The dtype of a state between segments: F32 accumulators for an F32 output, wrapping
	/// I32 ones for the integer operators.
	pub fn accumulator(&self) -> DType {
		if self.output == DType::F32 {
			DType::F32
		} else {
			DType::I32
		}
	}

	/// The leaf what sub-step `(_, s)` gives commits to: [`chunk_leaf`] of the state's bytes
	/// as its [`Geometry::accumulator`] dtype, or for the last segment of the output chunk's
	/// bytes as the output's dtype (F32 NaNs canonical, other dtypes' bytes as they are): the
	/// rule of the output's own chunk leaves.
	pub fn leaf(&self, s: u32, bytes: &[u8]) -> Hash {
		chunk_leaf(if self.is_last(s) { self.output } else { self.accumulator() }, bytes)
	}
}

/// A node as its sub-steps compute it.
enum Kind<'a> {
	/// A Conv, or with `transpose` (its `output_padding`) a ConvTranspose, reading inputs `head`
	/// (x, w and maybe the bias), alone (`steps` empty) or as the head of a fused node's `steps`
	/// (the head is `steps[0]`).
	Conv {
		window: &'a Window,
		group: u32,
		transpose: Option<&'a [u32]>,
		head: Vec<usize>,
		steps: &'a [FusedStep],
		/// QLinearConv: wrapping I32 sums of the zero-point-shifted operands, requantized at
		/// the end (`head` = x, w and maybe the bias; its scales and zero points are inputs 1,
		/// 2, 4, 5, 6, 7).
		quantized: bool,
	},
	/// MaxPool (`average: None`) or AveragePool (`Some(count_include_pad)`).
	Pool { window: &'a Window, average: Option<bool> },
	/// GlobalAveragePool (`average`) or GlobalMaxPool: each output's terms are its plane's
	/// elements in order.
	Global { average: bool },
	/// MatMul (`gemm: None`) or Gemm with `(alpha, beta, trans_a, trans_b)`; with `integer`,
	/// MatMulInteger (wrapping I32 sums of the zero-point-shifted operands).
	MatMul { gemm: Option<(f32, f32, bool, bool)>, integer: bool },
	/// QuantizeLinear along `axis`.
	Quantize { axis: i32 },
	/// A data-movement operator (Concat, Slice, Flatten...): each output element is one input
	/// element, of any dtype.
	Move(&'a Op),
	/// Softmax or LogSoftmax over contiguous rows of `len` (the last axis, or a legacy
	/// flattening): a tile's outputs are computed by the kernel on the whole rows that hold
	/// them.
	Rows { axis: i32, legacy: bool, log: bool },
	/// Resize: a tile's outputs computed by the kernel's rows (all axes but the last fixed)
	/// that hold them.
	Resize(&'a Op),
	/// Elementwise F32 steps over the node's inputs.
	Steps(Cow<'a, [FusedStep]>),
}

/// How the sub-steps see `op` with `inputs` operands.
fn kind(op: &Op, inputs: usize) -> Result<Kind<'_>> {
	let unsupported = || value_err(NAME, format!("{} has no sub-steps yet", op.describe()));
	let input = |i: usize| StepArg::Input(i as u32);
	Ok(match op {
		Op::Conv { window, group } => Kind::Conv {
			window,
			group: *group,
			transpose: None,
			head: (0..inputs).collect(),
			steps: &[],
			quantized: false,
		},
		Op::ConvTranspose { window, group, output_padding } => Kind::Conv {
			window,
			group: *group,
			transpose: Some(output_padding),
			head: (0..inputs).collect(),
			steps: &[],
			quantized: false,
		},
		Op::QLinearConv { window, group } => Kind::Conv {
			window,
			group: *group,
			transpose: None,
			head: [0, 3, 8].into_iter().filter(|&i| i < inputs).collect(),
			steps: &[],
			quantized: true,
		},
		Op::MatMulInteger => Kind::MatMul { gemm: None, integer: true },
		Op::QuantizeLinear { axis } => Kind::Quantize { axis: *axis },
		Op::Fused { steps } => match steps.first() {
			Some(FusedStep { op, args }) if fused::is_head(op) => {
				let head = args
					.iter()
					.map(|a| match *a {
						StepArg::Input(i) => Some(i as usize),
						StepArg::Step(_) => None,
					})
					.collect::<Option<Vec<_>>>()
					.ok_or_else(|| value_err(NAME, "a head reads only the node's inputs"))?;
				match op {
					Op::Conv { window, group } => Kind::Conv {
						window,
						group: *group,
						transpose: None,
						head,
						steps,
						quantized: false,
					},
					Op::ConvTranspose { window, group, output_padding } => Kind::Conv {
						window,
						group: *group,
						transpose: Some(output_padding),
						head,
						steps,
						quantized: false,
					},
					_ => return Err(unsupported()),
				}
			},
			_ => Kind::Steps(Cow::Borrowed(steps)),
		},
		Op::MaxPool { window } => Kind::Pool { window, average: None },
		Op::AveragePool { window, count_include_pad } => {
			Kind::Pool { window, average: Some(*count_include_pad) }
		},
		Op::GlobalAveragePool => Kind::Global { average: true },
		Op::GlobalMaxPool => Kind::Global { average: false },
		Op::Concat { .. }
		| Op::Slice { .. }
		| Op::Flatten { .. }
		| Op::Squeeze { .. }
		| Op::Unsqueeze { .. }
		| Op::Identity
		| Op::Gather { .. } => Kind::Move(op),
		Op::Resize { .. } => Kind::Resize(op),
		Op::Softmax { axis, legacy } => Kind::Rows { axis: *axis, legacy: *legacy, log: false },
		Op::LogSoftmax { axis, legacy } => Kind::Rows { axis: *axis, legacy: *legacy, log: true },
		Op::MatMul => Kind::MatMul { gemm: None, integer: false },
		Op::Gemm { alpha, beta, trans_a, trans_b } => Kind::MatMul {
			gemm: Some((f32::from_bits(*alpha), f32::from_bits(*beta), *trans_a, *trans_b)),
			integer: false,
		},
		// Sum folds left to right: Add of the first two, then of each next input.
		Op::Sum if inputs >= 2 => Kind::Steps(Cow::Owned(
			(1..inputs)
				.map(|i| {
					let acc = if i == 1 { input(0) } else { StepArg::Step(i as u32 - 2) };
					FusedStep { op: Op::Add, args: vec![acc, input(i)] }
				})
				.collect(),
		)),
		op if fused::step_arity(op) == Some(inputs) => Kind::Steps(Cow::Owned(vec![FusedStep {
			op: op.clone(),
			args: (0..inputs).map(input).collect(),
		}])),
		_ => return Err(unsupported()),
	})
}

/// The node's output dtype and shape and its kind, its inputs checked by its operator's rule.
fn prepare<'a>(op: &'a Op, ins: &[Meta]) -> Result<(DType, Vec<u32>, Kind<'a>)> {
	let (dtype, out) = infer(op, ins)?;
	let kind = kind(op, ins.len())?;
	let integer = matches!(
		kind,
		Kind::Conv { quantized: true, .. }
			| Kind::MatMul { integer: true, .. }
			| Kind::Quantize { .. }
	);
	if !matches!(kind, Kind::Move(_)) && integer == (dtype == DType::F32) {
		return Err(value_err(NAME, format!("{} gives {dtype:?}", op.describe())));
	}
	if let Kind::Rows { axis, legacy, .. } = kind {
		row_len(ins, axis, legacy)?;
	}
	if let Kind::Steps(steps) = &kind {
		// A step shaped unlike the output (Sum of mixed broadcasts) has no element-wise tile.
		fused::infer_fused(steps, ins)?;
	}
	Ok((dtype, out, kind))
}

/// Terms of each output's reduction and the epilogue's work per output element.
fn terms_and_epilogue(kind: &Kind, ins: &[Meta]) -> Result<(u64, u64)> {
	let dim = |i: usize, d: usize| -> Result<u64> {
		ins.get(i)
			.and_then(|m| m.shape.get(d))
			.map(|&v| v as u64)
			.ok_or_else(|| value_err(NAME, format!("input {i} has no axis {d}")))
	};
	Ok(match kind {
		Kind::Conv { steps, .. } => {
			let d = conv_dims(kind, ins)?.ok_or_else(|| value_err(NAME, "not a convolution"))?;
			((d.cg * d.h.kernel * d.w.kernel) as u64, 1 + steps.len().saturating_sub(1) as u64)
		},
		Kind::Pool { window, average } => {
			let x = ins.first().map(|m| m.shape).unwrap_or_default();
			let (h, w) = pool_axes(window, x, *average)?;
			(0, (h.kernel * w.kernel) as u64)
		},
		Kind::Global { .. } => {
			let x = ins.first().map(|m| m.shape).unwrap_or_default();
			(x.iter().skip(2).map(|&d| d as u64).product(), 1)
		},
		Kind::Quantize { .. } | Kind::Move(_) => (0, 1),
		// The kernel's three passes over the rows that hold a tile's outputs: at most the tile
		// and two more rows.
		Kind::Rows { axis, legacy, .. } => {
			let len = row_len(ins, *axis, *legacy)? as u64;
			(0, 3 * (1 + (2 * len).div_ceil(TILE_ELEMENTS as u64)))
		},
		// Two steps per tap, over at most the tile and two more rows.
		Kind::Resize(op) => {
			let plan = resize_plan(op, ins)?;
			let Op::Resize { mode, scales, sizes, .. } = op else { return Err(OVERFLOW) };
			let x = ins.first().map(|m| m.shape).unwrap_or_default();
			let taps = crate::ops::resize::taps(x, *mode, scales, sizes);
			(0, 2 * taps * (1 + (2 * plan.row_len() as u64).div_ceil(TILE_ELEMENTS as u64)))
		},
		Kind::MatMul { gemm, .. } => {
			let rank = ins.first().map_or(0, |m| m.shape.len());
			let k = match gemm {
				Some((_, _, true, _)) => dim(0, 0)?,
				_ => dim(0, rank.saturating_sub(1))?,
			};
			(k, if gemm.is_some() { 2 } else { 0 })
		},
		Kind::Steps(steps) => (0, steps.len() as u64),
	})
}

/// The length of a Softmax's rows, which must be contiguous: the axis is the last (or the
/// softmax legacy, flattening from it).
fn row_len(ins: &[Meta], axis: i32, legacy: bool) -> Result<usize> {
	let x = ins.first().map(|m| m.shape).unwrap_or_default();
	let a = crate::ops::common::norm_axis(NAME, axis as i64, x.len())?;
	if !legacy && a + 1 != x.len() {
		return Err(value_err(NAME, format!("Softmax along axis {a} of {x:?}: no sub-steps yet")));
	}
	numel(x.get(a..).unwrap_or_default())
}

/// The kernel's plan of a Resize node.
fn resize_plan(op: &Op, ins: &[Meta]) -> Result<crate::ops::resize::ResizePlan> {
	let Op::Resize { mode, coordinates, nearest, scales, sizes } = op else {
		return Err(value_err(NAME, "not a Resize"));
	};
	let x = ins.first().map(|m| m.shape).unwrap_or_default();
	Ok(crate::ops::resize::ResizePlan::new(x, *mode, *coordinates, *nearest, scales, sizes))
}

/// The rows of `len` elements (a Softmax's, a Resize's output rows) that hold `tile`.
fn rows_of(tile: &Range<usize>, len: usize) -> Range<usize> {
	let len = len.max(1);
	tile.start / len..(tile.end.max(1) - 1) / len + 1
}

/// Where each output element of a data-movement node comes from.
enum Mover {
	/// Concat: output element `o * block + r` is, for the input `i` whose run of the block
	/// holds `r`, its element `o * blocks[i] + (r - start of its run)`.
	Concat { block: usize, blocks: Vec<usize> },
	/// Slice: the input offset of an output multi-index is `base + sum idx[d] * step[d]`.
	Slice { out: Vec<usize>, base: i64, steps: Vec<i64> },
	/// Gather: output element `(o, q, e)` (outer, index, inner) is data element `(o, j, e)`
	/// for `j = indices[q]` (`+ d` if negative), and reads `indices[q]` too.
	Gather { d: usize, count: usize, inner: usize, indices: Vec<i64> },
	/// Flatten, Squeeze, Unsqueeze, Identity: the same flat index of input 0.
	Same,
}

impl Mover {
	fn of(op: &Op, ins: &[Meta], out: &[u32]) -> Result<Self> {
		Ok(match op {
			Op::Concat { axis } => {
				let a = crate::ops::common::norm_axis("Concat", *axis as i64, out.len())?;
				let blocks = ins
					.iter()
					.map(|m| numel(m.shape.get(a..).unwrap_or_default()))
					.collect::<Result<Vec<_>>>()?;
				Mover::Concat { block: blocks.iter().sum(), blocks }
			},
			Op::Slice { starts, ends, axes, steps } => {
				let x = ins.first().map(|m| m.shape).unwrap_or_default();
				let plan = crate::ops::layout::slice_plan(x, starts, ends, axes, steps)?;
				let strides = crate::ops::common::strides(x);
				Mover::Slice {
					out: plan.iter().map(|p| p.2).collect(),
					base: plan.iter().zip(&strides).map(|(p, &st)| p.0 * st as i64).sum(),
					steps: plan.iter().zip(&strides).map(|(p, &st)| p.1 * st as i64).collect(),
				}
			},
			Op::Gather { axis } => {
				let x = ins.first().map(|m| m.shape).unwrap_or_default();
				let a = crate::ops::common::norm_axis("Gather", *axis as i64, x.len())?;
				let indices = ins.get(1).and_then(|m| m.value).ok_or_else(|| {
					value_err(NAME, "Gather's sub-steps read its indices' values")
				})?;
				Mover::Gather {
					d: x.get(a).copied().unwrap_or(0) as usize,
					count: indices.numel()?,
					inner: numel(x.get(a + 1..).unwrap_or_default())?,
					indices: indices.int_values()?,
				}
			},
			_ => Mover::Same,
		})
	}

	/// Besides the element it moves, what output element `p` reads: Gather's index.
	fn index(&self, p: usize) -> Option<(usize, usize)> {
		match self {
			Mover::Gather { count, inner, .. } => {
				Some((1, (p / (*inner).max(1)) % (*count).max(1)))
			},
			_ => None,
		}
	}

	/// The (input, element) output element `p` is.
	fn source(&self, p: usize) -> Option<(usize, usize)> {
		match self {
			Mover::Concat { block, blocks } => {
				let (o, mut r) = (p / (*block).max(1), p % (*block).max(1));
				for (i, &b) in blocks.iter().enumerate() {
					if r < b {
						return Some((i, o * b + r));
					}
					r -= b;
				}
				None
			},
			Mover::Slice { out, base, steps } => {
				let (mut rest, mut off) = (p, *base);
				for (&d, &step) in out.iter().zip(steps).rev() {
					off += (rest % d.max(1)) as i64 * step;
					rest /= d.max(1);
				}
				usize::try_from(off).ok().map(|e| (0, e))
			},
			Mover::Gather { d, count, inner, indices } => {
				let (inner, count) = ((*inner).max(1), (*count).max(1));
				let (o, q, e) = (p / (inner * count), (p / inner) % count, p % inner);
				let i = *indices.get(q)?;
				let j = usize::try_from(if i < 0 { i + *d as i64 } else { i })
					.ok()
					.filter(|&j| j < *d)?;
				Some((0, (o * d + j) * inner + e))
			},
			Mover::Same => Some((0, p)),
		}
	}
}

/// A convolution's dimensions (`None` for another kind).
fn conv_dims(kind: &Kind, ins: &[Meta]) -> Result<Option<ConvDims>> {
	let Kind::Conv { window, group, transpose, head, .. } = kind else { return Ok(None) };
	let shape =
		|i: Option<&usize>| i.and_then(|&i| ins.get(i)).map(|m| m.shape).unwrap_or_default();
	let (x, w) = (shape(head.first()), shape(head.get(1)));
	Ok(Some(match transpose {
		None => ConvDims::of(x, w, window, *group)?,
		Some(extra) => ConvDims::transpose(x, w, window, *group, extra)?,
	}))
}

/// The geometry of a node with operator `op` on inputs `ins`: the fewest segments for which
/// every sub-step stays within `limits`; an error if no cut does (or the node has no
/// sub-steps).
pub fn geometry(op: &Op, ins: &[Meta], limits: &SubStepLimits) -> Result<Geometry> {
	geometry_within(op, ins, limits, u64::MAX).map(|(g, _)| g)
}

/// [`geometry`], and what finding it cost: one unit per sub-step whose reads the read bound
/// was checked on and one per range of elements listed for those reads (before adjacent
/// ranges are merged). An error once the cost would
/// pass `budget` (what the runtime can afford to check).
pub fn geometry_within(
	op: &Op,
	ins: &[Meta],
	limits: &SubStepLimits,
	budget: u64,
) -> Result<(Geometry, u64)> {
	let (output, out, kind) = prepare(op, ins)?;
	let elements = numel(&out)? as u64;
	let (terms, epilogue) = terms_and_epilogue(&kind, ins)?;
	let tile = Geometry { output, elements, terms, segments: 1 }.tile_elements().min(elements);
	let too_heavy = || {
		value_err(
			NAME,
			format!(
				"{} cannot be cut into sub-steps within {} work and {} bytes of reads",
				op.describe(),
				limits.max_work,
				limits.max_read_bytes
			),
		)
	};
	// The work bound alone gives a first count (each segment at most `per` terms, segments
	// `terms * s / segments ..` being at most `ceil(terms / segments)` long); reads may ask
	// for more.
	let room = limits.max_work.checked_sub(tile.saturating_mul(epilogue));
	let per = room.map_or(0, |r| r / tile.max(1));
	if per == 0 {
		return Err(too_heavy());
	}
	let mut segments = terms.div_ceil(per).max(1);
	if let Kind::Move(_) = kind {
		// One element of one input (and a Gather's index) per output: the bound holds for
		// every tile whatever the values, so it is checked without them.
		let most: u64 = ins.iter().map(|m| m.dtype.size() as u64).sum::<u64>() * tile;
		return match most <= limits.max_read_bytes {
			true => Ok((Geometry { output, elements, terms, segments: 1 }, 1)),
			false => Err(too_heavy()),
		};
	}
	let mut cost = 0u64;
	loop {
		let g = Geometry { output, elements, terms, segments: segments as u32 };
		if segments > terms.max(1) || segments > u32::MAX as u64 {
			return Err(too_heavy());
		}
		if max_read_bytes(&kind, ins, &out, &g, &mut cost, budget)? <= limits.max_read_bytes {
			return Ok((g, cost));
		}
		segments = (segments * 2).min(terms.max(1)).max(segments + 1);
	}
}

/// The most bytes the inputs of one sub-step may take in all: two tensors at the element bound
/// of `limits`. The runtime holds a sub-step's inputs whole (their unread chunks zero), so this
/// bounds its memory; [`check_disputable`] applies it to every node the second level settles.
pub fn max_substep_input_bytes(limits: &crate::Limits) -> u64 {
	limits.max_elements.saturating_mul(2 * 4)
}

/// How a program's nodes are settled on chain ([`check_disputable`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Settlement {
	/// Nodes whose one-step fits the one-step limits.
	pub one_step: u32,
	/// Nodes settled by the second level: over the one-step limits, cut within the sub-step
	/// limits.
	pub cut: u32,
	/// The dearest cut ([`geometry_within`]'s cost).
	pub dearest_cut: u64,
}

/// Checks that every node of `program` can be settled on chain: its one-step within `limits`
/// (its work and its inputs' bytes), or else a cut within `sub` that costs at most `budget` to
/// find, its inputs within [`max_substep_input_bytes`]. From the program's static shapes alone. Errors with the first node that cannot (a
/// `LimitExceeded` for one whose one-step is over the limits and that has no cut).
pub fn check_disputable(
	program: &Program,
	limits: &crate::Limits,
	sub: &SubStepLimits,
	budget: u64,
) -> Result<Settlement> {
	let outs = program.node_outputs()?;
	let mut settlement = Settlement::default();
	for (j, (node, (_, shape, work))) in program.nodes.iter().zip(&outs).enumerate() {
		let metas = node
			.inputs
			.iter()
			.map(|&r| program.ref_meta(r, &outs[..j]))
			.collect::<Option<Vec<_>>>()
			.ok_or_else(|| value_err(NAME, format!("node {j}: a reference out of range")))?;
		let bytes: u64 = metas
			.iter()
			.map(|m| numel(m.shape).map(|n| (n as u64).saturating_mul(m.dtype.size() as u64)))
			.sum::<Result<u64>>()?;
		limits.check_shape(shape)?;
		if *work <= limits.max_node_work && bytes <= limits.max_step_bytes {
			settlement.one_step += 1;
			continue;
		}
		if bytes > max_substep_input_bytes(limits) {
			return Err(CanonError::LimitExceeded {
				what: "node input bytes for a sub-step",
				value: bytes,
				limit: max_substep_input_bytes(limits),
			});
		}
		match geometry_within(&node.op, &metas, sub, budget) {
			Ok((_, cost)) => {
				settlement.cut += 1;
				settlement.dearest_cut = settlement.dearest_cut.max(cost);
			},
			Err(_) => {
				let (what, value, limit) = if *work > limits.max_node_work {
					("node work, and no cut into sub-steps", *work, limits.max_node_work)
				} else {
					("node input bytes, and no cut into sub-steps", bytes, limits.max_step_bytes)
				};
				return Err(CanonError::LimitExceeded { what, value, limit });
			},
		}
	}
	Ok(settlement)
}

/// Checks that `g` is a cut of a node with operator `op` on inputs `ins`: its output dtype,
/// element and term counts, and segments within the terms. Cheap (no reads are listed): the
/// runtime checks a sub-step against the cut the game fixed with [`geometry_within`].
pub fn check_geometry(op: &Op, ins: &[Meta], g: &Geometry) -> Result<()> {
	let (output, out, kind) = prepare(op, ins)?;
	let (terms, _) = terms_and_epilogue(&kind, ins)?;
	let fits = output == g.output
		&& numel(&out)? as u64 == g.elements
		&& terms == g.terms
		&& g.segments >= 1
		&& u64::from(g.segments) <= terms.max(1);
	match fits {
		true => Ok(()),
		false => Err(value_err(NAME, format!("{g:?} is not a cut of {}", op.describe()))),
	}
}

/// The largest read of any sub-step of `g`, in bytes; adds what listing the reads cost to
/// `cost`, and fails once it passes `budget`.
fn max_read_bytes(
	kind: &Kind,
	ins: &[Meta],
	out: &[u32],
	g: &Geometry,
	cost: &mut u64,
	budget: u64,
) -> Result<u64> {
	let mut most = 0u64;
	for t in 0..g.tiles() {
		for s in 0..g.segments {
			let mut listed = 0u64;
			let reads = reads_of(kind, ins, out, g, t, s, &mut listed)?;
			*cost = cost.saturating_add(1 + listed);
			if *cost > budget {
				return Err(value_err(NAME, format!("cutting costs more than {budget}")));
			}
			let bytes = reads
				.iter()
				.zip(ins)
				.map(|(ranges, m)| {
					ranges.iter().map(|r| r.len() as u64).sum::<u64>() * m.dtype.size() as u64
				})
				.sum::<u64>();
			most = most.max(bytes);
		}
	}
	Ok(most)
}

/// The elements of each input that sub-step `(t, s)` reads: per input, sorted disjoint ranges
/// of flat element indices. A witness carries the chunks that cover them.
pub fn reads(
	op: &Op,
	ins: &[Meta],
	g: &Geometry,
	t: u64,
	s: u32,
) -> Result<Vec<Vec<Range<usize>>>> {
	let (_, out, kind) = prepare(op, ins)?;
	reads_of(&kind, ins, &out, g, t, s, &mut 0)
}

/// The chunks of an input of dtype `dtype` that cover `ranges` of its elements.
pub fn chunks_of(dtype: DType, ranges: &[Range<usize>]) -> Vec<u64> {
	let size = dtype.size().max(1);
	let mut chunks: Vec<u64> = Vec::new();
	for r in ranges.iter().filter(|r| !r.is_empty()) {
		let first = (r.start * size / CHUNK_BYTES) as u64;
		let last = ((r.end * size - 1) / CHUNK_BYTES) as u64;
		let from = chunks.last().map_or(first, |&c| first.max(c + 1));
		chunks.extend(from..=last);
	}
	chunks
}

/// Sorts and merges ranges (touching ones into one).
fn merged(mut ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
	ranges.retain(|r| !r.is_empty());
	ranges.sort_by_key(|r| r.start);
	let mut out: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
	for r in ranges {
		match out.last_mut() {
			Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
			_ => out.push(r),
		}
	}
	out
}

fn reads_of(
	kind: &Kind,
	ins: &[Meta],
	out: &[u32],
	g: &Geometry,
	t: u64,
	s: u32,
	listed: &mut u64,
) -> Result<Vec<Vec<Range<usize>>>> {
	let tile = g.tile(t).ok_or_else(|| value_err(NAME, format!("no tile {t}")))?;
	let seg = g.segment(s).ok_or_else(|| value_err(NAME, format!("no segment {s}")))?;
	let mut reads: Vec<Vec<Range<usize>>> = vec![Vec::new(); ins.len()];
	// Ranges listed, and output positions a broadcast walked (one each).
	let walked = core::cell::Cell::new(0u64);
	let mut add = |i: usize, r: Range<usize>| -> Result<()> {
		walked.set(walked.get() + 1);
		reads.get_mut(i).ok_or_else(|| value_err(NAME, format!("no input {i}")))?.push(r);
		Ok(())
	};
	let last = g.is_last(s);
	match kind {
		Kind::Conv { transpose, head, steps, quantized, .. } => {
			let (x, w) = match head[..] {
				[x, w, ..] => (x, w),
				_ => return Err(value_err(NAME, "a Conv without weights")),
			};
			let d = conv_dims(kind, ins)?.ok_or_else(|| value_err(NAME, "not a convolution"))?;
			if *quantized {
				// Scales and zero points, whole (per tensor, or per output channel).
				for i in [1, 2, 4, 5, 6, 7] {
					add(i, 0..numel(ins.get(i).map(|m| m.shape).unwrap_or_default())?)?;
				}
			}
			let (kh, kw) = (d.h.kernel, d.w.kernel);
			let taps = kh * kw;
			let plane = d.h.output * d.w.output;
			let (ih, iw) = (d.h.input, d.w.input);
			// Channels of the group the segment's terms belong to.
			let channels =
				if seg.is_empty() { 0..0 } else { seg.start / taps..(seg.end - 1) / taps + 1 };
			// The input rows read last, per (batch item, group): the output channels of a group
			// whose planes the tile covers alike read the same ones, listed once.
			let mut last_rows: Option<(usize, usize, usize, usize)> = None;
			for (b, oc, p) in planes(&tile, d.oc, plane) {
				// Output rows of the plane in the tile, then the input rows their taps reach:
				// `o * stride + k * dilation - pad` (Conv), `o + pad = i * stride + k *
				// dilation` (ConvTranspose).
				let rows = p.start / d.w.output..(p.end - 1) / d.w.output + 1;
				let (lo, hi) = match transpose {
					None => (
						(rows.start * d.h.stride).saturating_sub(d.h.pad_begin),
						((rows.end - 1) * d.h.stride + (kh - 1) * d.h.dilation + 1)
							.saturating_sub(d.h.pad_begin),
					),
					Some(_) => (
						(rows.start + d.h.pad_begin)
							.saturating_sub((kh - 1) * d.h.dilation)
							.div_ceil(d.h.stride.max(1)),
						(rows.end - 1 + d.h.pad_begin) / d.h.stride.max(1) + 1,
					),
				};
				let hi = hi.min(ih);
				let (grp, o) = (oc / d.ocg.max(1), oc % d.ocg.max(1));
				let same_rows = last_rows == Some((b, grp, lo, hi));
				last_rows = Some((b, grp, lo, hi));
				for icg in channels.clone() {
					let ic = grp * d.cg + icg;
					let base = (b * d.c + ic) * ih;
					if lo < hi && !same_rows {
						add(x, (base + lo) * iw..(base + hi) * iw)?;
					}
					if transpose.is_some() {
						// The segment's taps of this input channel, of output channel `o`.
						let wbase = (ic * d.ocg + o) * taps;
						let from = seg.start.max(icg * taps) - icg * taps;
						let to = seg.end.min((icg + 1) * taps) - icg * taps;
						add(w, wbase + from..wbase + to)?;
					}
				}
				if transpose.is_none() {
					let wbase = oc * d.cg * taps;
					add(w, wbase + seg.start..wbase + seg.end)?;
				}
				if last {
					if let Some(&bias) = head.get(2) {
						add(bias, oc..oc + 1)?;
					}
				}
			}
			if last {
				step_reads(steps.get(1..).unwrap_or_default(), ins, out, &tile, &mut add, &walked)?;
			}
		},
		Kind::Pool { window, average } => {
			let x = ins.first().map(|m| m.shape).unwrap_or_default();
			let (h, w) = pool_axes(window, x, *average)?;
			let plane = h.output * w.output;
			for (item, _, p) in planes(&tile, 1, plane) {
				let rows = p.start / w.output.max(1)..(p.end - 1) / w.output.max(1) + 1;
				let lo = (rows.start * h.stride).saturating_sub(h.pad_begin);
				let hi = ((rows.end - 1) * h.stride + (h.kernel - 1) * h.dilation + 1)
					.saturating_sub(h.pad_begin)
					.min(h.input);
				let base = item * h.input;
				if lo < hi {
					add(0, (base + lo) * w.input..(base + hi) * w.input)?;
				}
			}
		},
		Kind::Global { .. } => {
			let size = g.terms as usize;
			for o in tile.clone() {
				add(0, o * size + seg.start..o * size + seg.end)?;
			}
		},
		Kind::Quantize { .. } => {
			add(0, tile.clone())?;
			for i in [1, 2] {
				add(i, 0..numel(ins.get(i).map(|m| m.shape).unwrap_or_default())?)?;
			}
		},
		Kind::MatMul { gemm, integer } => {
			let mm = MatMulDims::of(ins, gemm.is_some_and(|g| g.2), gemm.is_some_and(|g| g.3))?;
			if *integer {
				// The zero points (per tensor).
				add(2, 0..1)?;
				add(3, 0..1)?;
			}
			if seg.is_empty() {
				return Err(value_err(NAME, "a product with no terms"));
			}
			let mut rows: Vec<(usize, usize, Range<usize>)> = Vec::new();
			for p in tile.clone() {
				let (o, i, j) = (p / (mm.m * mm.n), (p / mm.n) % mm.m, p % mm.n);
				match rows.last_mut() {
					Some((ro, ri, js)) if *ro == o && *ri == i => js.end = j + 1,
					_ => rows.push((o, i, j..j + 1)),
				}
			}
			for (o, i, js) in rows {
				let (ia, ib) = mm.batch(o)?;
				match mm.trans_a {
					false => add(0, mm.a(ia, i, seg.start)..mm.a(ia, i, seg.end - 1) + 1)?,
					true => {
						for k in seg.clone() {
							add(0, mm.a(ia, i, k)..mm.a(ia, i, k) + 1)?;
						}
					},
				}
				match mm.trans_b {
					false => {
						for k in seg.clone() {
							add(1, mm.b(ib, k, js.start)..mm.b(ib, k, js.end - 1) + 1)?;
						}
					},
					true => {
						for j in js.clone() {
							add(1, mm.b(ib, seg.start, j)..mm.b(ib, seg.end - 1, j) + 1)?;
						}
					},
				}
			}
			if last && gemm.is_some() && ins.len() > 2 {
				let c = ins.get(2).map(|m| m.shape).unwrap_or_default();
				for r in broadcast_ranges(out, c, &tile, &walked) {
					add(2, r)?;
				}
			}
		},
		Kind::Move(op) => {
			let mover = Mover::of(op, ins, out)?;
			for p in tile.clone() {
				let (i, e) = mover.source(p).ok_or_else(|| out_of_range(op))?;
				add(i, e..e + 1)?;
				if let Some((i, e)) = mover.index(p) {
					add(i, e..e + 1)?;
				}
			}
		},
		Kind::Rows { axis, legacy, .. } => {
			let len = row_len(ins, *axis, *legacy)?.max(1);
			let rows = rows_of(&tile, len);
			add(0, rows.start * len..rows.end * len)?;
		},
		Kind::Resize(op) => {
			let plan = resize_plan(op, ins)?;
			for r in plan.row_reads(rows_of(&tile, plan.row_len()))? {
				add(0, r)?;
			}
		},
		Kind::Steps(steps) => step_reads(steps, ins, out, &tile, &mut add, &walked)?,
	}
	*listed = walked.get();
	Ok(reads.into_iter().map(merged).collect())
}

/// The (batch item, output channel, positions in its plane) of a tile of an N, C, spatial
/// output.
fn planes(tile: &Range<usize>, oc: usize, plane: usize) -> Vec<(usize, usize, Range<usize>)> {
	let plane = plane.max(1);
	let mut out = Vec::new();
	let mut at = tile.start;
	while at < tile.end {
		let (item, p) = (at / plane, at % plane);
		let end = (at - p + plane).min(tile.end);
		out.push((item / oc.max(1), item % oc.max(1), p..p + (end - at)));
		at = end;
	}
	out
}

/// The reads of elementwise steps over the tile's positions: each input operand's elements
/// at those positions (broadcast), and all of a BatchNormalization step's parameters.
fn step_reads(
	steps: &[FusedStep],
	ins: &[Meta],
	out: &[u32],
	tile: &Range<usize>,
	add: &mut impl FnMut(usize, Range<usize>) -> Result<()>,
	walked: &core::cell::Cell<u64>,
) -> Result<()> {
	for step in steps {
		let per_element = match step.op {
			Op::BatchNormalization { .. } => 1,
			_ => step.args.len(),
		};
		for (pos, a) in step.args.iter().enumerate() {
			let StepArg::Input(i) = *a else { continue };
			let shape = ins.get(i as usize).map(|m| m.shape).unwrap_or_default();
			if pos < per_element {
				for r in broadcast_ranges(out, shape, tile, walked) {
					add(i as usize, r)?;
				}
			} else {
				add(i as usize, 0..numel(shape)?)?;
			}
		}
	}
	Ok(())
}

/// The elements of an input of shape `inp`, broadcast to `out`, at output positions `tile`;
/// adds the positions it walks to `walked`.
fn broadcast_ranges(
	out: &[u32],
	inp: &[u32],
	tile: &Range<usize>,
	walked: &core::cell::Cell<u64>,
) -> Vec<Range<usize>> {
	if inp == out {
		return vec![tile.clone()];
	}
	if inp.iter().all(|&d| d == 1) {
		// A scalar: its one element.
		let only: Range<usize> = 0..1;
		return vec![only];
	}
	let strides = broadcast_strides(out, inp);
	let mut ranges: Vec<Range<usize>> = Vec::new();
	walked.set(walked.get() + tile.len() as u64);
	for p in tile.clone() {
		let (mut rest, mut off) = (p, 0usize);
		for (d, st) in out.iter().zip(&strides).rev() {
			let d = (*d as usize).max(1);
			off += (rest % d) * st;
			rest /= d;
		}
		// Runs of consecutive offsets as one range (a broadcast row), repeats skipped.
		match ranges.last_mut() {
			Some(last) if last.end == off => last.end += 1,
			Some(last) if last.contains(&off) => {},
			_ => ranges.push(off..off + 1),
		}
	}
	merged(ranges)
}

/// MatMul's or Gemm's dimensions: `[batch.., m, k] x [batch.., k, n]`, 1-D operands
/// promoted, batch axes broadcast; Gemm's operands 2-D, maybe transposed.
struct MatMulDims {
	m: usize,
	k: usize,
	n: usize,
	trans_a: bool,
	trans_b: bool,
	batch: Vec<usize>,
	stride_a: Vec<usize>,
	stride_b: Vec<usize>,
}

impl MatMulDims {
	fn of(ins: &[Meta], trans_a: bool, trans_b: bool) -> Result<Self> {
		let (a, b) = match ins {
			[a, b, ..] => (a.shape, b.shape),
			_ => return Err(value_err(NAME, "a product of fewer than two operands")),
		};
		let a2: Vec<u32> = if a.len() == 1 { vec![1, a[0]] } else { a.to_vec() };
		let b2: Vec<u32> = if b.len() == 1 { vec![b[0], 1] } else { b.to_vec() };
		let (ra, rb) = (a2.len(), b2.len());
		let dim = |s: &[u32], i: usize| s.get(i).copied().unwrap_or(0) as usize;
		let (m, k) = match trans_a {
			false => (dim(&a2, ra - 2), dim(&a2, ra - 1)),
			true => (dim(&a2, ra - 1), dim(&a2, ra - 2)),
		};
		let n = if trans_b { dim(&b2, rb - 2) } else { dim(&b2, rb - 1) };
		let (ab, bb) = (&a2[..ra - 2], &b2[..rb - 2]);
		let batch = crate::ops::common::broadcast_shapes("MatMul", ab, bb)?;
		Ok(Self {
			m,
			k,
			n,
			trans_a,
			trans_b,
			stride_a: broadcast_strides(&batch, ab),
			stride_b: broadcast_strides(&batch, bb),
			batch: batch.iter().map(|&d| d as usize).collect(),
		})
	}

	/// The A and B matrices (as batch indices) of output batch item `o`.
	fn batch(&self, o: usize) -> Result<(usize, usize)> {
		let (mut rest, mut ia, mut ib) = (o, 0usize, 0usize);
		for ((d, sa), sb) in self.batch.iter().zip(&self.stride_a).zip(&self.stride_b).rev() {
			let d = (*d).max(1);
			ia += (rest % d) * sa;
			ib += (rest % d) * sb;
			rest /= d;
		}
		Ok((ia, ib))
	}

	/// Flat index of `A'[i][k]` of matrix `ia`.
	fn a(&self, ia: usize, i: usize, k: usize) -> usize {
		let at = if self.trans_a { k * self.m + i } else { i * self.k + k };
		ia * self.m * self.k + at
	}

	/// Flat index of `B'[k][j]` of matrix `ib`.
	fn b(&self, ib: usize, k: usize, j: usize) -> usize {
		let at = if self.trans_b { j * self.k + k } else { k * self.n + j };
		ib * self.k * self.n + at
	}
}

/// Runs sub-step `(t, s)` of a node with operator `op` on its inputs `ins` (whole tensors; only
/// the elements [`reads`] names are read, so a verifier may fill the rest with anything) from
/// `state` (`None` for `s = 0`, else the state segment `s - 1` left). Gives the next state,
/// or for the last segment the tile's output chunk (F32 LE bytes, NaNs as computed).
///
/// `g` must be a cut of this node (its elements and terms, 1 to `terms` segments); which cut
/// the game plays is [`geometry`]'s choice, fixed once when the second level starts.
pub fn run_substep(
	op: &Op,
	ins: &[&Tensor],
	g: &Geometry,
	t: u64,
	s: u32,
	state: Option<&[u8]>,
) -> Result<Vec<u8>> {
	let metas: Vec<Meta> = ins.iter().map(|t| Meta::of(t)).collect();
	let (output, out, kind) = prepare(op, &metas)?;
	if *g != geometry_unchecked(&kind, &metas, output, &out, g.segments)? {
		return Err(value_err(NAME, "the geometry is not a cut of this node"));
	}
	let tile = g.tile(t).ok_or_else(|| value_err(NAME, format!("no tile {t}")))?;
	let seg = g.segment(s).ok_or_else(|| value_err(NAME, format!("no segment {s}")))?;
	// The state as 32-bit words: F32 accumulators, or I32 ones for the integer operators.
	let words: Vec<u32> = match (s, state) {
		(0, None) => vec![0; tile.len()],
		(0, Some(_)) => return Err(value_err(NAME, "the first segment starts from zeros")),
		(_, Some(bytes)) if bytes.len() == tile.len() * 4 => {
			bytes.chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
		},
		(_, _) => {
			return Err(value_err(
				NAME,
				format!("segment {s} needs the {}-byte state", tile.len() * 4),
			))
		},
	};
	let tensor =
		|i: usize| ins.get(i).copied().ok_or_else(|| value_err(NAME, format!("no input {i}")));
	let input = |i: usize| -> Result<Vec<f32>> { tensor(i)?.f32_values() };
	let bytes = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
	let int_bytes = |v: &[i32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
	let last = g.is_last(s);
	let mut acc: Vec<f32> = words.iter().map(|&w| f32::from_bits(w)).collect();
	let mut iacc: Vec<i32> = words.iter().map(|&w| w as i32).collect();
	match &kind {
		Kind::Conv { quantized: true, head, .. } => {
			let (x, w) = match head[..] {
				[x, w, ..] => (x, w),
				_ => return Err(value_err(NAME, "a Conv without weights")),
			};
			let d =
				conv_dims(&kind, &metas)?.ok_or_else(|| value_err(NAME, "not a convolution"))?;
			let xv = quant::shifted(tensor(x)?, tensor(2)?)?;
			let wv = quant::shifted_weights(tensor(w)?, tensor(5)?)?;
			conv_terms(&d, &xv, &wv, &tile, &seg, &mut iacc)?;
			if !last {
				return Ok(int_bytes(&iacc));
			}
			let requant = quant::ConvRequant::new(ins)?;
			let mut bytes = vec![0u8; tile.len()];
			let (mut accs, mut outs) = (iacc.as_slice(), bytes.as_mut_slice());
			for (_, oc, p) in planes(&tile, d.oc, d.h.output * d.w.output) {
				let (a, rest_a) = accs.split_at(p.len().min(accs.len()));
				let (o, rest_o) = core::mem::take(&mut outs).split_at_mut(p.len().min(a.len()));
				requant.channel(oc, a, o);
				(accs, outs) = (rest_a, rest_o);
			}
			Ok(bytes)
		},
		Kind::Conv { transpose, head, steps, .. } => {
			let (x, w) = match head[..] {
				[x, w, ..] => (x, w),
				_ => return Err(value_err(NAME, "a Conv without weights")),
			};
			let d =
				conv_dims(&kind, &metas)?.ok_or_else(|| value_err(NAME, "not a convolution"))?;
			let (xs, ws) = (F32s::of(tensor(x)?)?, F32s::of(tensor(w)?)?);
			match transpose {
				None => conv_terms(&d, &xs, &ws, &tile, &seg, &mut acc)?,
				Some(_) => conv_transpose_terms(&d, &xs, &ws, &tile, &seg, &mut acc)?,
			}
			if !last {
				return Ok(bytes(&acc));
			}
			let bias = head.get(2).map(|&b| input(b)).transpose()?;
			let plane = d.h.output * d.w.output;
			for (y, p) in acc.iter_mut().zip(tile.clone()) {
				let oc = (p / plane.max(1)) % d.oc.max(1);
				*y += bias.as_ref().map_or(Some(0.0), |b| b.get(oc).copied()).unwrap_or(0.0);
			}
			match steps.len() {
				0 | 1 => Ok(bytes(&acc)),
				_ => fused::run_steps(steps, ins, &out, Some(&acc), tile),
			}
		},
		Kind::MatMul { integer: true, .. } => {
			let mm = MatMulDims::of(&metas, false, false)?;
			let a = quant::shifted(tensor(0)?, tensor(2)?)?;
			let b = quant::shifted(tensor(1)?, tensor(3)?)?;
			let at = |v: &[i32], i: usize| v.get(i).copied().ok_or(OVERFLOW);
			for (y, p) in iacc.iter_mut().zip(tile.clone()) {
				let (o, i, j) =
					(p / (mm.m * mm.n).max(1), (p / mm.n.max(1)) % mm.m.max(1), p % mm.n.max(1));
				let (ia, ib) = mm.batch(o)?;
				for k in seg.clone() {
					*y = y.mac(at(&a, mm.a(ia, i, k))?, at(&b, mm.b(ib, k, j))?);
				}
			}
			Ok(int_bytes(&iacc))
		},
		Kind::Quantize { axis } => quant::quantize_range(ins, *axis, tile),
		Kind::Move(op) => {
			let mover = Mover::of(op, &metas, &out)?;
			let size = output.size();
			let mut bytes = Vec::with_capacity(tile.len() * size);
			for p in tile {
				let (i, e) = mover.source(p).ok_or_else(|| out_of_range(op))?;
				let from = tensor(i)?.data.get(e * size..(e + 1) * size).ok_or(OVERFLOW)?;
				bytes.extend_from_slice(from);
			}
			Ok(bytes)
		},
		Kind::Resize(op) => {
			let plan = resize_plan(op, &metas)?;
			let rows = rows_of(&tile, plan.row_len());
			let from = tile.start - rows.start * plan.row_len();
			let y = plan.rows(&input(0)?, rows)?;
			Ok(bytes(y.get(from..from + tile.len()).ok_or(OVERFLOW)?))
		},
		Kind::Rows { axis, legacy, log } => {
			// The whole rows holding the tile, as a [rows, len] tensor: the kernel's per-row
			// steps are the same on it.
			let len = row_len(&metas, *axis, *legacy)?.max(1);
			let rows = rows_of(&tile, len);
			let x =
				tensor(0)?.data.get(rows.start * len * 4..rows.end * len * 4).ok_or(OVERFLOW)?;
			let shape = vec![rows.len() as u32, len as u32];
			let sub = Tensor { dtype: DType::F32, shape, data: x.to_vec() };
			let y = crate::ops::norm::run_softmax(&sub, 1, false, *log)?;
			let from = tile.start - rows.start * len;
			Ok(y.data.get(from * 4..(from + tile.len()) * 4).ok_or(OVERFLOW)?.to_vec())
		},
		Kind::MatMul { gemm, .. } => {
			let mm = MatMulDims::of(&metas, gemm.is_some_and(|g| g.2), gemm.is_some_and(|g| g.3))?;
			let (a, b) = (F32s::of(tensor(0)?)?, F32s::of(tensor(1)?)?);
			let at = |v: &F32s, i: usize| v.at(i).ok_or(OVERFLOW);
			for (y, p) in acc.iter_mut().zip(tile.clone()) {
				let (o, i, j) =
					(p / (mm.m * mm.n).max(1), (p / mm.n.max(1)) % mm.m.max(1), p % mm.n.max(1));
				let (ia, ib) = mm.batch(o)?;
				for k in seg.clone() {
					*y += at(&a, mm.a(ia, i, k))? * at(&b, mm.b(ib, k, j))?;
				}
			}
			if !last {
				return Ok(bytes(&acc));
			}
			if let Some((alpha, beta, _, _)) = gemm {
				acc.iter_mut().for_each(|y| *y *= alpha);
				if let Some(c) = ins.get(2) {
					let cv = F32s::of(c)?;
					let strides = broadcast_strides(&out, &c.shape);
					for (y, p) in acc.iter_mut().zip(tile.clone()) {
						let (rest, col) = (p / mm.n.max(1), p % mm.n.max(1));
						let off = (rest % mm.m.max(1)) * strides.first().copied().unwrap_or(0)
							+ col * strides.get(1).copied().unwrap_or(0);
						*y += beta * at(&cv, off)?;
					}
				}
			}
			Ok(bytes(&acc))
		},
		Kind::Pool { window, average } => {
			let x = ins.first().ok_or_else(|| value_err(NAME, "a pool of no input"))?;
			let (h, w) = pool_axes(window, &x.shape, *average)?;
			let (xv, plane_in, plane) = (x.f32_values()?, h.input * w.input, h.output * w.output);
			for (y, p) in acc.iter_mut().zip(tile) {
				let (item, pos) = (p / plane.max(1), p % plane.max(1));
				let values = xv.get(item * plane_in..(item + 1) * plane_in).ok_or(OVERFLOW)?;
				*y = pool_one(
					values,
					&h,
					&w,
					pos / w.output.max(1),
					pos % w.output.max(1),
					*average,
				);
			}
			Ok(bytes(&acc))
		},
		Kind::Global { average } => {
			let xv = input(0)?;
			let size = g.terms as usize;
			for (y, o) in acc.iter_mut().zip(tile) {
				let values = xv.get(o * size + seg.start..o * size + seg.end).ok_or(OVERFLOW)?;
				*y = global_fold(*average, (s > 0).then_some(*y), values);
				if last && *average {
					*y /= size as f32;
				}
			}
			Ok(bytes(&acc))
		},
		Kind::Steps(steps) => fused::run_steps(steps, ins, &out, None, tile),
	}
}

const OVERFLOW: CanonError = CanonError::Overflow { what: "sub-step offsets" };

/// A moved element outside its input (a Gather index out of range).
fn out_of_range(op: &Op) -> CanonError {
	value_err(
		NAME,
		format!("{}: an element outside its input (an index out of range)", op.describe()),
	)
}

/// The geometry of `kind` with `segments` segments, without the limits check (to compare a
/// claimed geometry with the node).
fn geometry_unchecked(
	kind: &Kind,
	ins: &[Meta],
	output: DType,
	out: &[u32],
	segments: u32,
) -> Result<Geometry> {
	let (terms, _) = terms_and_epilogue(kind, ins)?;
	if segments == 0 || segments as u64 > terms.max(1) {
		return Err(value_err(NAME, format!("{segments} segments of {terms} terms")));
	}
	Ok(Geometry { output, elements: numel(out)? as u64, terms, segments })
}

/// Elements read one by one: a slice's, or an F32 tensor's straight from its bytes (so a
/// sub-step converts only what it reads, not a 9 MiB weight tensor per call).
trait Elements<T> {
	fn at(&self, i: usize) -> Option<T>;
}

impl<T: Copy> Elements<T> for Vec<T> {
	fn at(&self, i: usize) -> Option<T> {
		self.get(i).copied()
	}
}

/// An F32 tensor's LE bytes.
struct F32s<'a>(&'a [u8]);

impl<'a> F32s<'a> {
	fn of(t: &'a Tensor) -> Result<Self> {
		t.expect_dtype(DType::F32)?;
		Ok(Self(&t.data))
	}
}

impl Elements<f32> for F32s<'_> {
	#[inline(always)]
	fn at(&self, i: usize) -> Option<f32> {
		let b = self.0.get(i.checked_mul(4)?..i.checked_mul(4)?.checked_add(4)?)?;
		Some(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
	}
}

/// What term `(icg, kh, kw)` of an output of a convolution adds.
enum Term {
	/// `w * x` of these two elements of the weights and the input.
	Product { w: usize, x: usize },
	/// `w * 0` (a Conv tap in the padding).
	Padding { w: usize },
	/// Nothing (a ConvTranspose tap that does not reach the output).
	None,
}

/// Adds the terms `seg` of each output of `tile` to its accumulator, in the documented order
/// (`(icg, kh, kw)` row-major, each what `term` says), one multiply then one add in f32, or
/// wrapping in i32 (QLinearConv's shifted operands).
fn conv_sum<T: Mac>(
	d: &ConvDims,
	x: &impl Elements<T>,
	w: &impl Elements<T>,
	tile: &Range<usize>,
	seg: &Range<usize>,
	acc: &mut [T],
	term: impl Fn(&Position, usize, usize, usize) -> Term,
) -> Result<()> {
	let (kh, kw) = (d.h.kernel, d.w.kernel);
	let taps = kh * kw;
	let (ow, plane) = (d.w.output, d.h.output * d.w.output);
	let mut slot = acc.iter_mut();
	for (b, oc, p) in planes(tile, d.oc, plane) {
		for pos in p {
			let at = Position { b, oc, r: pos / ow.max(1), col: pos % ow.max(1) };
			let y = slot.next().ok_or(OVERFLOW)?;
			let mut sum = *y;
			for t in seg.clone() {
				sum = match term(&at, t / taps, (t / kw) % kh, t % kw) {
					Term::Product { w: wi, x: xi } => {
						sum.mac(w.at(wi).ok_or(OVERFLOW)?, x.at(xi).ok_or(OVERFLOW)?)
					},
					Term::Padding { w: wi } => sum.mac(w.at(wi).ok_or(OVERFLOW)?, T::default()),
					Term::None => sum,
				};
			}
			*y = sum;
		}
	}
	Ok(())
}

/// An output of a convolution: batch item, output channel, row and column.
struct Position {
	b: usize,
	oc: usize,
	r: usize,
	col: usize,
}

/// Conv's terms: `w[oc][icg][kh][kw] * x` at the tap's input position, `w * 0` in the padding.
fn conv_terms<T: Mac>(
	d: &ConvDims,
	x: &impl Elements<T>,
	w: &impl Elements<T>,
	tile: &Range<usize>,
	seg: &Range<usize>,
	acc: &mut [T],
) -> Result<()> {
	let taps = d.h.kernel * d.w.kernel;
	conv_sum(d, x, w, tile, seg, acc, |at, icg, ki, kj| {
		let wi = (at.oc * d.cg + icg) * taps + ki * d.w.kernel + kj;
		match (tap(&d.h, at.r, ki), tap(&d.w, at.col, kj)) {
			(Some(iy), Some(ix)) => {
				let ic = at.oc / d.ocg.max(1) * d.cg + icg;
				Term::Product { w: wi, x: ((at.b * d.c + ic) * d.h.input + iy) * d.w.input + ix }
			},
			_ => Term::Padding { w: wi },
		}
	})
}

/// ConvTranspose's terms: `x * w[ic][o][kh][kw]` where the tap reaches the output (`oh +
/// pad_begin = ih * stride + kh * dilation`, likewise for columns), nothing elsewhere.
fn conv_transpose_terms(
	d: &ConvDims,
	x: &F32s,
	w: &F32s,
	tile: &Range<usize>,
	seg: &Range<usize>,
	acc: &mut [f32],
) -> Result<()> {
	let taps = d.h.kernel * d.w.kernel;
	// The input position output `o` reads through kernel tap `k` along an axis, if any.
	let reach = |a: &crate::ops::window::Axis, o: usize, k: usize| {
		let t = (o + a.pad_begin).checked_sub(k * a.dilation)?;
		(t % a.stride.max(1) == 0 && t / a.stride.max(1) < a.input).then(|| t / a.stride.max(1))
	};
	conv_sum(d, x, w, tile, seg, acc, |at, icg, ki, kj| {
		let (Some(iy), Some(ix)) = (reach(&d.h, at.r, ki), reach(&d.w, at.col, kj)) else {
			return Term::None;
		};
		let (grp, o) = (at.oc / d.ocg.max(1), at.oc % d.ocg.max(1));
		let ic = grp * d.cg + icg;
		Term::Product {
			w: (ic * d.ocg + o) * taps + ki * d.w.kernel + kj,
			x: ((at.b * d.c + ic) * d.h.input + iy) * d.w.input + ix,
		}
	})
}
