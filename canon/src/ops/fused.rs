//! Fused nodes ([`Op::Fused`]): elementwise F32 operators run one after another in one node,
//! optionally after a convolution (the *head*) whose output they transform. Each step runs its
//! operator's own kernel on whole tensors (the kernel the operator's own node runs), so the
//! node's value is bit for bit the value the unfused nodes give; the steps' values are not
//! trace leaves.

use alloc::{format, vec, vec::Vec};

use super::{common::Meta, elementwise, infer, node_work, run_op};
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

/// The [`node_work`] of a fused node whose steps [`infer_fused`] accepted: its head's own
/// work, and one unit per output element for every other step.
pub fn fused_work(steps: &[FusedStep], ins: &[Meta], out_shape: &[u32]) -> Result<u64> {
	let out = numel(out_shape)? as u64;
	steps.iter().try_fold(0u64, |acc, step| {
		let work = match is_head(&step.op) {
			true => {
				let metas = step
					.args
					.iter()
					.map(|a| match *a {
						StepArg::Input(i) => ins.get(i as usize).copied(),
						StepArg::Step(_) => None,
					})
					.collect::<Option<Vec<_>>>()
					.ok_or_else(|| value_err(NAME, "a head reads only the node's inputs"))?;
				node_work(&step.op, &metas, out_shape)?
			},
			false => out,
		};
		Ok(acc.saturating_add(work))
	})
}

/// Runs the steps in order (after [`infer_fused`] accepted them), dropping each step's value
/// after its last reader.
pub fn run_fused(steps: &[FusedStep], ins: &[&Tensor], out_shape: &[u32]) -> Result<Tensor> {
	let mut last_reader = vec![0usize; steps.len()];
	for (k, step) in steps.iter().enumerate() {
		for a in &step.args {
			if let Some(r) = step_index(a).and_then(|s| last_reader.get_mut(s)) {
				*r = k;
			}
		}
	}
	let mut values: Vec<Option<Tensor>> = vec![None; steps.len()];
	for (k, step) in steps.iter().enumerate() {
		let value = {
			let args = step
				.args
				.iter()
				.map(|a| match *a {
					StepArg::Input(i) => ins.get(i as usize).copied(),
					StepArg::Step(s) => values.get(s as usize).and_then(Option::as_ref),
				})
				.collect::<Option<Vec<&Tensor>>>()
				.ok_or_else(|| value_err(NAME, format!("step {k}: an operand is missing")))?;
			run_op(&step.op, &args, out_shape)?
		};
		for s in step.args.iter().filter_map(step_index) {
			if last_reader.get(s) == Some(&k) {
				if let Some(v) = values.get_mut(s) {
					*v = None;
				}
			}
		}
		if let Some(v) = values.get_mut(k) {
			*v = Some(value);
		}
	}
	values.pop().flatten().ok_or_else(|| value_err(NAME, "no steps"))
}

fn step_index(a: &StepArg) -> Option<usize> {
	match *a {
		StepArg::Step(s) => Some(s as usize),
		StepArg::Input(_) => None,
	}
}
