//! Fused nodes ([`Op::Fused`]): elementwise F32 operators run one after another in one node,
//! optionally after a convolution (the *head*) whose output they transform. Each step runs its
//! operator's own kernel on whole tensors (the kernel the operator's own node runs), so the
//! node's value is bit for bit the value the unfused nodes give; the steps' values are not
//! trace leaves.

use alloc::{format, vec, vec::Vec};

use super::{common::Meta, elementwise, infer, node_work, norm, run_op};
use crate::{
	error::{value_err, CanonError, Result},
	program::{FusedStep, Op, StepArg},
	tensor::{numel, DType, Tensor},
};

/// Most steps in one fused node: bounds its work (about one element per step and output
/// element) and the step values its execution holds.
pub const MAX_FUSED_STEPS: usize = 16;

const NAME: &str = "Fused";

/// The number of operands of `op` as a step of a fused node: 2 for F32 Add, Sub, Mul, Div,
/// Pow, Max, Min; 1 for a unary F32 operator; 5 for BatchNormalization (x and its four
/// per-channel inputs); `None` for an operator that cannot be a step.
pub fn step_arity(op: &Op) -> Option<usize> {
	match op {
		Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Pow | Op::Max | Op::Min => Some(2),
		Op::BatchNormalization { .. } => Some(5),
		op if elementwise::is_unary(op) => Some(1),
		_ => None,
	}
}

/// Whether `op` may be a fused node's first step, its head: Conv or ConvTranspose, whose
/// output its bias, BatchNormalization and activation steps then transform. A head reads only
/// the fused node's inputs, with its own operator's operand count.
pub fn is_head(op: &Op) -> bool {
	matches!(op, Op::Conv { .. } | Op::ConvTranspose { .. })
}

/// The output shape of a fused node on inputs `ins`, checking every step: at least one and at
/// most [`MAX_FUSED_STEPS`]; each an allowed operator (a head, [`is_head`], only as the first
/// step; an elementwise one, [`step_arity`], otherwise) on F32 operands that exist (an input,
/// or an earlier step); every step's value shaped as the last one's.
pub fn infer_fused(steps: &[FusedStep], ins: &[Meta]) -> Result<(DType, Vec<u32>)> {
	if steps.is_empty() || steps.len() > MAX_FUSED_STEPS {
		return Err(value_err(
			NAME,
			format!("{} steps (1 to {MAX_FUSED_STEPS} allowed)", steps.len()),
		));
	}
	if let Some((i, m)) = ins.iter().enumerate().find(|(_, m)| m.dtype != DType::F32) {
		return Err(CanonError::DType { op: NAME, input: i, found: m.dtype });
	}
	let mut shapes: Vec<Vec<u32>> = Vec::with_capacity(steps.len());
	for (k, step) in steps.iter().enumerate() {
		let want = match step_arity(&step.op) {
			Some(n) => Some(n),
			// A head's own shape rule checks its operand count.
			None if k == 0 && is_head(&step.op) => None,
			None => {
				let what = if is_head(&step.op) {
					"a head only as the first step"
				} else {
					"not an elementwise F32 operator"
				};
				return Err(value_err(NAME, format!("step {k}: {} is {what}", step.op.name())));
			},
		};
		let metas = step
			.args
			.iter()
			.map(|a| match *a {
				StepArg::Input(i) => ins.get(i as usize).map(|m| Meta {
					dtype: DType::F32,
					shape: m.shape,
					value: None,
				}),
				StepArg::Step(s) => shapes.get(s as usize).map(|shape| Meta {
					dtype: DType::F32,
					shape,
					value: None,
				}),
			})
			.collect::<Option<Vec<_>>>()
			.ok_or_else(|| value_err(NAME, format!("step {k}: an operand that does not exist")))?;
		if let Some(want) = want.filter(|&n| n != metas.len()) {
			return Err(value_err(
				NAME,
				format!("step {k}: {} takes {want} operands, not {}", step.op.name(), metas.len()),
			));
		}
		shapes.push(infer(&step.op, &metas)?.1);
	}
	let out = shapes.last().cloned().unwrap_or_default();
	if let Some(k) = shapes.iter().position(|s| *s != out) {
		return Err(value_err(NAME, format!("step {k} is shaped {:?}, not {out:?}", shapes[k])));
	}
	Ok((DType::F32, out))
}

/// The node inputs `args` name, in order; `None` if one of them is an earlier step's value or
/// out of range.
fn node_inputs<T: Copy>(args: &[StepArg], ins: &[T]) -> Option<Vec<T>> {
	args.iter()
		.map(|a| match *a {
			StepArg::Input(i) => ins.get(i as usize).copied(),
			StepArg::Step(_) => None,
		})
		.collect()
}

/// The [`node_work`] of a fused node whose steps [`infer_fused`] accepted: its head's own
/// work, and one unit per output element for every other step.
pub fn fused_work(steps: &[FusedStep], ins: &[Meta], out_shape: &[u32]) -> Result<u64> {
	let out = numel(out_shape)? as u64;
	steps.iter().try_fold(0u64, |acc, step| {
		let work = match is_head(&step.op) {
			true => {
				let metas = node_inputs(&step.args, ins)
					.ok_or_else(|| value_err(NAME, "a head reads only the node's inputs"))?;
				node_work(&step.op, &metas, out_shape)?
			},
			false => out,
		};
		Ok(acc.saturating_add(work))
	})
}

/// Elements of one block of a fused node's blocked evaluation: every step's block (16 of them
/// at most, 4 bytes an element) stays within a core's L2 cache.
const BLOCK: usize = 2048;

/// Runs the steps (after [`infer_fused`] accepted them): the head, if any, on whole tensors by
/// its own kernel; then the elementwise steps block by block over the output's elements in
/// order, each step's block computed from its operands' elements at the same positions (an
/// input broadcast to the output shape) by the scalar function its own kernel applies to every
/// element. An element's value is a function of those elements alone, so this is bit for bit
/// what the steps run one after another on whole tensors give.
pub fn run_fused(steps: &[FusedStep], ins: &[&Tensor], out_shape: &[u32]) -> Result<Tensor> {
	let n = numel(out_shape)?;
	let head = match steps.first() {
		Some(step) if is_head(&step.op) => {
			let args = head_inputs(step, ins)?;
			Some(match &step.op {
				Op::Conv { window, group } => {
					super::window::conv_values(&args, window, *group, out_shape)?
				},
				op => run_op(op, &args, out_shape)?.f32_values()?,
			})
		},
		_ => None,
	};
	let data = run_steps(steps, ins, out_shape, head.as_deref(), 0..n)?;
	Ok(Tensor { dtype: DType::F32, shape: out_shape.to_vec(), data })
}

/// The node inputs a fused node's head reads, in its operand order.
pub(crate) fn head_inputs<'a>(head: &FusedStep, ins: &[&'a Tensor]) -> Result<Vec<&'a Tensor>> {
	node_inputs(&head.args, ins)
		.ok_or_else(|| value_err(NAME, "a head reads only the node's inputs"))
}

/// The output elements `range` of a fused node (F32 LE bytes), its elementwise steps run block
/// by block over those positions as [`run_fused`] describes; `head` holds the head's values at
/// the same positions (when the first step is a head). The second level of the dispute game
/// computes one chunk of a fused node's output this way.
pub(crate) fn run_steps(
	steps: &[FusedStep],
	ins: &[&Tensor],
	out_shape: &[u32],
	head: Option<&[f32]>,
	range: core::ops::Range<usize>,
) -> Result<Vec<u8>> {
	let first = match (steps.first(), head) {
		(Some(step), Some(h)) if is_head(&step.op) && h.len() == range.len() => 1,
		(Some(step), None) if !is_head(&step.op) => 0,
		_ => return Err(value_err(NAME, "a head's values must cover the range")),
	};
	let (start, end) = (range.start, range.end);
	if start > end || end > numel(out_shape)? {
		return Err(value_err(NAME, format!("elements {start}..{end} are not in the output")));
	}
	// Each input an elementwise step reads, as f32 values broadcast to the output shape.
	let mut sources: Vec<Option<Source>> = (0..ins.len()).map(|_| None).collect();
	let mut channels: Vec<Option<Vec<(f32, f32, f32)>>> = vec![None; steps.len()];
	for (k, step) in steps.iter().enumerate().skip(first) {
		if let Op::BatchNormalization { epsilon } = step.op {
			let params = node_inputs(step.args.get(1..).unwrap_or_default(), ins)
				.ok_or_else(|| value_err(NAME, "BatchNormalization's parameters are inputs"))?;
			// Only the channel count of x matters here: every step is shaped as the output.
			let x = Tensor { dtype: DType::F32, shape: out_shape.to_vec(), data: Vec::new() };
			let all: Vec<&Tensor> = core::iter::once(&x).chain(params).collect();
			channels[k] = Some(norm::batchnorm_channels(&all, f32::from_bits(epsilon))?);
		}
		let reads = if channels[k].is_some() { &step.args[..1] } else { &step.args[..] };
		for a in reads {
			if let StepArg::Input(i) = *a {
				let slot = sources
					.get_mut(i as usize)
					.ok_or_else(|| value_err(NAME, format!("step {k}: no input {i}")))?;
				if let (None, Some(t)) = (&slot, ins.get(i as usize)) {
					*slot = Some(Source::new(t, out_shape)?);
				}
			}
		}
	}
	let inner = out_shape.iter().skip(2).map(|&d| d as usize).product::<usize>().max(1);
	let mut blocks: Vec<Vec<f32>> = vec![vec![0f32; BLOCK.min(range.len())]; steps.len()];
	let mut gathered: Vec<Vec<f32>> = vec![Vec::new(); ins.len()];
	let mut out = vec![0u8; range.len() * 4];
	let mut at = start;
	while at < end {
		let len = BLOCK.min(end - at);
		for (g, src) in gathered.iter_mut().zip(&sources) {
			if let Some(src) = src {
				src.gather(at, len, g)?;
			}
		}
		for k in first..steps.len() {
			let (done, rest) = blocks.split_at_mut(k);
			let dst = rest
				.first_mut()
				.and_then(|b| b.get_mut(..len))
				.ok_or_else(|| value_err(NAME, "a step's block is missing"))?;
			let operand = |a: &StepArg| -> Option<&[f32]> {
				match *a {
					StepArg::Step(0) if first == 1 => head?.get(at - start..at - start + len),
					StepArg::Step(s) => done.get(s as usize)?.get(..len),
					StepArg::Input(i) => match sources.get(i as usize)? {
						Some(Source::Whole(v)) => v.get(at..at + len),
						Some(_) => gathered.get(i as usize)?.get(..len),
						None => None,
					},
				}
			};
			let missing = || value_err(NAME, format!("step {k}: an operand is missing"));
			let step = &steps[k];
			let x = step.args.first().and_then(operand).ok_or_else(missing)?;
			match (&channels[k], step.args.get(1)) {
				(Some(ch), _) => {
					// Segment by segment of one channel (`inner` elements each).
					let mut i = 0;
					while i < len {
						let plane = (at + i) / inner;
						let end = ((plane + 1) * inner - at).min(len);
						let c = *ch
							.get(plane % ch.len().max(1))
							.ok_or(CanonError::Overflow { what: "BatchNormalization channel" })?;
						let (Some(d), Some(v)) = (dst.get_mut(i..end), x.get(i..end)) else {
							return Err(CanonError::Overflow { what: "BatchNormalization block" });
						};
						d.iter_mut().zip(v).for_each(|(d, &v)| *d = norm::batchnorm_one(v, c));
						i = end;
					}
				},
				(None, Some(b)) => {
					let y = operand(b).ok_or_else(missing)?;
					elementwise::binary_block(&step.op, x, y, dst)?;
				},
				(None, None) => elementwise::unary_block(&step.op, x, dst)?,
			}
		}
		let last = match steps.len().checked_sub(1) {
			Some(0) if first == 1 => head.and_then(|h| h.get(at - start..at - start + len)),
			Some(k) => blocks.get(k).and_then(|b| b.get(..len)),
			None => None,
		}
		.ok_or_else(|| value_err(NAME, "no steps"))?;
		let bytes = out
			.get_mut((at - start) * 4..(at - start + len) * 4)
			.ok_or_else(|| value_err(NAME, "no output"))?;
		for (d, v) in bytes.chunks_exact_mut(4).zip(last) {
			d.copy_from_slice(&v.to_le_bytes());
		}
		at += len;
	}
	Ok(out)
}

/// An input of a fused node as its steps read it: its own f32 values when it has the output's
/// shape, else its values with the strides that broadcast it to the output shape.
enum Source {
	Whole(Vec<f32>),
	Broadcast { values: Vec<f32>, shape: Vec<usize>, strides: Vec<usize> },
}

impl Source {
	fn new(t: &Tensor, out_shape: &[u32]) -> Result<Self> {
		let values = t.f32_values()?;
		if t.shape == out_shape {
			return Ok(Source::Whole(values));
		}
		let strides = super::common::broadcast_strides(out_shape, &t.shape);
		let shape = out_shape.iter().map(|&d| d as usize).collect();
		Ok(Source::Broadcast { values, shape, strides })
	}

	/// Writes the elements at output positions `at..at + len` into `into` (of a broadcast
	/// input; a whole one is read in place).
	fn gather(&self, at: usize, len: usize, into: &mut Vec<f32>) -> Result<()> {
		let Source::Broadcast { values, shape, strides } = self else { return Ok(()) };
		into.clear();
		if let [v] = values[..] {
			into.resize(len, v);
			return Ok(());
		}
		// The multi-index of `at`, then an odometer over the output's axes.
		let mut idx = vec![0usize; shape.len()];
		let mut rest = at;
		let mut off = 0usize;
		for d in (0..shape.len()).rev() {
			idx[d] = rest % shape[d].max(1);
			rest /= shape[d].max(1);
			off += idx[d] * strides[d];
		}
		for _ in 0..len {
			into.push(*values.get(off).ok_or(CanonError::Overflow { what: "broadcast offset" })?);
			let mut d = shape.len();
			while d > 0 {
				d -= 1;
				idx[d] += 1;
				off += strides[d];
				if idx[d] < shape[d] {
					break;
				}
				off -= strides[d] * idx[d];
				idx[d] = 0;
			}
		}
		Ok(())
	}
}
