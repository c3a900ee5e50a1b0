//! Operator semantics: shape inference ([`infer`]) and execution ([`execute_op`]).
//!
//! Execution always runs [`infer`] first, so a kernel only ever sees inputs whose dtypes and
//! shapes it accepts; kernels still use checked access and never panic.

pub(crate) mod common;
mod elementwise;
pub mod fused;
pub(crate) mod layout;
pub(crate) mod linalg;
mod logic;
pub(crate) mod norm;
#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod pairs;
pub(crate) mod quant;
pub(crate) mod resize;
mod rnn;
mod select;
pub(crate) mod window;

use alloc::{format, vec::Vec};

#[cfg(feature = "std")]
pub(crate) use common::int_tensor;
pub use common::Meta;
#[cfg(feature = "std")]
pub(crate) use layout::shape_tensor;
use norm::Reduce;

use crate::{
	error::{CanonError, Result},
	program::Op,
	tensor::{numel, DType, Limits, Tensor},
};

fn arity(op: &Op, n: usize) -> Result<()> {
	let (lo, hi, text) = match op {
		Op::Sum | Op::Max | Op::Min | Op::Concat { .. } | Op::Fused { .. } => {
			(1, usize::MAX, ">= 1")
		},
		Op::Add
		| Op::Sub
		| Op::Mul
		| Op::Div
		| Op::Pow
		| Op::Mod { .. }
		| Op::GatherElements { .. }
		| Op::MatMul
		| Op::Reshape { .. }
		| Op::Gather { .. }
		| Op::Expand
		| Op::Equal
		| Op::Less
		| Op::Greater
		| Op::LessOrEqual
		| Op::GreaterOrEqual
		| Op::And
		| Op::Or
		| Op::Xor => (2, 2, "2"),
		Op::Where => (3, 3, "3"),
		Op::Lstm { .. } => (6, 6, "6"),
		Op::Gru { .. } => (5, 5, "5"),
		Op::QuantizeLinear { .. } | Op::DequantizeLinear { .. } => (3, 3, "3"),
		Op::MatMulInteger | Op::ConvInteger { .. } => (4, 4, "4"),
		Op::QLinearMatMul => (8, 8, "8"),
		Op::QLinearConv { .. } => (8, 9, "8 or 9"),
		Op::Trilu { .. } => (1, 1, "1"),
		Op::Gemm { .. }
		| Op::Conv { .. }
		| Op::ConvTranspose { .. }
		| Op::LayerNormalization { .. } => (2, 3, "2 or 3"),
		Op::BatchNormalization { .. } => (5, 5, "5"),
		_ => (1, 1, "1"),
	};
	if n < lo || n > hi {
		return Err(CanonError::Arity { op: op.name(), expected: text, found: n });
	}
	Ok(())
}

/// Output dtype and shape of `op` applied to inputs described by `ins`.
///
/// Inputs that determine the output shape (Reshape's and Expand's shape, ConstantOfShape's
/// input) must carry their value.
pub fn infer(op: &Op, ins: &[Meta]) -> Result<(DType, Vec<u32>)> {
	arity(op, ins.len())?;
	let x = ins.first().ok_or(CanonError::Arity { op: op.name(), expected: ">= 1", found: 0 })?;
	match op {
		Op::Add
		| Op::Sub
		| Op::Mul
		| Op::Div
		| Op::Pow
		| Op::Sum
		| Op::Max
		| Op::Min
		| Op::Mod { .. } => elementwise::infer_binary(op, ins),
		Op::Identity => Ok((x.dtype, x.shape.to_vec())),
		Op::Cast { to } => Ok((*to, x.shape.to_vec())),
		Op::Neg | Op::Abs if matches!(x.dtype, DType::I64 | DType::I32) => {
			Ok((x.dtype, x.shape.to_vec()))
		},
		op if elementwise::is_unary(op) => {
			if x.dtype != DType::F32 {
				return Err(CanonError::DType { op: op.name(), input: 0, found: x.dtype });
			}
			Ok((DType::F32, x.shape.to_vec()))
		},
		Op::Gemm { trans_a, trans_b, .. } => linalg::infer_gemm(ins, *trans_a, *trans_b),
		Op::MatMul => linalg::infer_matmul(ins),
		Op::Conv { window, group } => window::infer_conv(ins, window, *group),
		Op::MaxPool { window } => window::infer_pool("MaxPool", ins, window),
		Op::AveragePool { window, .. } => window::infer_pool("AveragePool", ins, window),
		Op::GlobalAveragePool => window::infer_global("GlobalAveragePool", ins),
		Op::GlobalMaxPool => window::infer_global("GlobalMaxPool", ins),
		Op::BatchNormalization { .. } => norm::infer_batchnorm(ins),
		Op::Lrn { size, .. } => norm::infer_lrn(ins, *size),
		Op::Softmax { axis, legacy } => norm::infer_softmax("Softmax", ins, *axis, *legacy),
		Op::LogSoftmax { axis, legacy } => norm::infer_softmax("LogSoftmax", ins, *axis, *legacy),
		Op::ReduceMean { axes, keepdims } => norm::infer_reduce("ReduceMean", ins, axes, *keepdims),
		Op::ReduceSum { axes, keepdims } => norm::infer_reduce("ReduceSum", ins, axes, *keepdims),
		Op::ReduceMax { axes, keepdims } => norm::infer_reduce("ReduceMax", ins, axes, *keepdims),
		Op::ReduceMin { axes, keepdims }
		| Op::ReduceProd { axes, keepdims }
		| Op::ReduceSumSquare { axes, keepdims }
		| Op::ReduceL1 { axes, keepdims }
		| Op::ReduceL2 { axes, keepdims }
		| Op::ReduceLogSum { axes, keepdims } => norm::infer_reduce(op.name(), ins, axes, *keepdims),
		Op::GatherElements { axis } => layout::infer_gather_elements(ins, *axis),
		Op::Trilu { .. } => layout::infer_trilu(ins),
		Op::Fused { steps } => fused::infer_fused(steps, ins),
		Op::Lstm { hidden, direction, output } => {
			rnn::infer_lstm(ins, *hidden, *direction, *output)
		},
		Op::Gru { hidden, direction, output, .. } => {
			rnn::infer_gru(ins, *hidden, *direction, *output)
		},
		Op::QuantizeLinear { axis } => quant::infer_quantize(ins, *axis),
		Op::DequantizeLinear { axis } => quant::infer_dequantize(ins, *axis),
		Op::DynamicQuantizeLinear { output } => quant::infer_dynamic_quantize(ins, *output),
		Op::MatMulInteger => quant::infer_matmul_integer(ins),
		Op::ConvInteger { window, group } => quant::infer_conv_integer(ins, window, *group),
		Op::QLinearMatMul => quant::infer_qlinear_matmul(ins),
		Op::QLinearConv { window, group } => quant::infer_qlinear_conv(ins, window, *group),
		Op::Flatten { axis } => layout::infer_flatten(ins, *axis),
		Op::Reshape { allowzero } => layout::infer_reshape(ins, *allowzero),
		Op::Transpose { perm } => layout::infer_transpose(ins, perm),
		Op::Concat { axis } => layout::infer_concat(ins, *axis),
		Op::Squeeze { axes } => layout::infer_squeeze(ins, axes),
		Op::Unsqueeze { axes } => layout::infer_unsqueeze(ins, axes),
		Op::Gather { axis } => layout::infer_gather(ins, *axis),
		Op::Shape { start, end } => layout::infer_shape_op(ins, *start, *end),
		Op::ConstantOfShape { value } => layout::infer_constant_of_shape(ins, value),
		Op::Slice { starts, ends, axes, steps } => {
			layout::infer_slice(ins, starts, ends, axes, steps)
		},
		Op::Pad { pads, value } => layout::infer_pad(ins, pads, *value),
		Op::PadEdge { pads } | Op::PadReflect { pads } => {
			layout::infer_pad_border(ins, pads, op.name())
		},
		Op::Expand => layout::infer_expand(ins),
		Op::Resize { mode, scales, sizes, .. } => resize::infer_resize(ins, *mode, scales, sizes),
		Op::ConvTranspose { window, group, output_padding } => {
			window::infer_conv_transpose(ins, window, *group, output_padding)
		},
		Op::Equal | Op::Less | Op::Greater | Op::LessOrEqual | Op::GreaterOrEqual => {
			logic::infer_compare(op, ins)
		},
		Op::Not | Op::And | Op::Or | Op::Xor => logic::infer_logic(op, ins),
		Op::Where => logic::infer_where(ins),
		Op::LayerNormalization { axis, output, .. } => norm::infer_layernorm(ins, *axis, *output),
		Op::ArgMax { axis, keepdims, .. } => select::infer_arg("ArgMax", ins, *axis, *keepdims),
		Op::ArgMin { axis, keepdims, .. } => select::infer_arg("ArgMin", ins, *axis, *keepdims),
		Op::TopK { axis, k, indices, .. } => select::infer_topk(ins, *axis, *k, *indices),
		// Unary ops are matched by the guard above.
		_ => Err(CanonError::Value { op: op.name(), detail: "no shape rule".into() }),
	}
}

/// Approximate work of one node: multiply-adds for Gemm/MatMul/Conv/ConvTranspose, taps for
/// pooling, LRN and Resize, otherwise the number of input plus output elements. The runtime
/// bounds and weighs a one-step with it.
pub fn node_work(op: &Op, ins: &[Meta], out_shape: &[u32]) -> Result<u64> {
	let out = numel(out_shape)? as u64;
	let elems =
		ins.iter().try_fold(out, |acc, m| numel(m.shape).map(|n| acc.saturating_add(n as u64)))?;
	let w = match op {
		Op::Gemm { trans_a, .. } => {
			let a = ins.first().map(|m| m.shape).unwrap_or(&[]);
			let k = if *trans_a { a.first() } else { a.get(1) }.copied().unwrap_or(0) as u64;
			out.saturating_mul(k)
		},
		Op::MatMul | Op::MatMulInteger | Op::QLinearMatMul => {
			let a = ins.first().map(|m| m.shape).unwrap_or(&[]);
			out.saturating_mul(a.last().copied().unwrap_or(0) as u64)
		},
		Op::Conv { .. } | Op::ConvInteger { .. } | Op::QLinearConv { .. } => {
			let w_at = if matches!(op, Op::QLinearConv { .. }) { 3 } else { 1 };
			let wt = ins.get(w_at).map(|m| m.shape).unwrap_or(&[]);
			let per: u64 = wt.iter().skip(1).map(|&d| d as u64).product();
			out.saturating_mul(per)
		},
		Op::MaxPool { window } | Op::AveragePool { window, .. } => {
			let per: u64 = window.kernel.iter().map(|&d| d as u64).product();
			out.saturating_mul(per)
		},
		Op::Lrn { size, .. } => out.saturating_mul(*size as u64),
		Op::Fused { steps } => fused::fused_work(steps, ins, out_shape)?,
		Op::ConvTranspose { .. } => {
			// Every input element meets every weight of its group's output channels once.
			let x = ins.first().map(|m| m.shape).unwrap_or(&[]);
			let wt = ins.get(1).map(|m| m.shape).unwrap_or(&[]);
			let per: u64 = wt.iter().skip(1).map(|&d| d as u64).product();
			(numel(x)? as u64).saturating_mul(per)
		},
		Op::Lstm { .. } | Op::Gru { .. } => {
			// Steps x batch x (every weight of W and R once), multiply-adds (GRU's candidate rows
			// of R multiply h or, without `linear_before_reset`, r * h: once either way).
			let x = ins.first().map(|m| m.shape).unwrap_or(&[]);
			let w = ins.get(1).map(|m| m.shape).unwrap_or(&[]);
			let r = ins.get(2).map(|m| m.shape).unwrap_or(&[]);
			let dims = |s: &[u32]| s.iter().map(|&d| d as u64).fold(1u64, u64::saturating_mul);
			let seq_batch = dims(x.get(..2).unwrap_or(&[]));
			seq_batch.saturating_mul(dims(w).saturating_add(dims(r)))
		},
		Op::Resize { mode, scales, sizes, .. } => {
			let x = ins.first().map(|m| m.shape).unwrap_or(&[]);
			out.saturating_mul(resize::taps(x, *mode, scales, sizes))
		},
		_ => 0,
	};
	Ok(w.max(elems))
}

/// Executes one operator on concrete inputs, checking every input and the output against
/// `limits` (element counts, rank, the inputs' total bytes, and [`node_work`]).
pub fn execute_op(op: &Op, ins: &[&Tensor], limits: &Limits) -> Result<Tensor> {
	let mut step_bytes = 0u64;
	for t in ins {
		limits.check_tensor(t)?;
		step_bytes = step_bytes.saturating_add(t.data.len() as u64);
	}
	if step_bytes > limits.max_step_bytes {
		return Err(CanonError::LimitExceeded {
			what: "node input bytes",
			value: step_bytes,
			limit: limits.max_step_bytes,
		});
	}
	let metas: Vec<Meta> = ins.iter().map(|t| Meta::of(t)).collect();
	let (dtype, out_shape) = infer(op, &metas)?;
	limits.check_shape(&out_shape)?;
	let work = node_work(op, &metas, &out_shape)?;
	if work > limits.max_node_work {
		return Err(CanonError::LimitExceeded {
			what: "node work",
			value: work,
			limit: limits.max_node_work,
		});
	}
	let out = run_op(op, ins, &out_shape)?;
	if out.dtype != dtype || out.shape != out_shape {
		return Err(CanonError::Value {
			op: op.name(),
			detail: format!(
				"kernel produced {:?}{:?}, expected {dtype:?}{out_shape:?}",
				out.dtype, out.shape
			),
		});
	}
	out.validate()?;
	Ok(out)
}

/// Runs `op`'s kernel on inputs [`infer`] accepted, whose output it inferred as `out_shape`
/// (no limit checks: [`execute_op`] makes them).
pub(crate) fn run_op(op: &Op, ins: &[&Tensor], out_shape: &[u32]) -> Result<Tensor> {
	let x = ins.first().copied().ok_or(CanonError::Arity {
		op: op.name(),
		expected: ">= 1",
		found: 0,
	})?;
	Ok(match op {
		Op::Add
		| Op::Sub
		| Op::Mul
		| Op::Div
		| Op::Pow
		| Op::Sum
		| Op::Max
		| Op::Min
		| Op::Mod { .. } => elementwise::run_binary(op, ins, out_shape)?,
		Op::Identity => x.clone(),
		Op::Cast { to } => elementwise::run_cast(*to, x)?,
		Op::Neg | Op::Abs if x.dtype != DType::F32 => elementwise::run_int_sign(op, x)?,
		op if elementwise::is_unary(op) => elementwise::run_unary(op, x)?,
		Op::Gemm { alpha, beta, trans_a, trans_b } => linalg::run_gemm(
			ins,
			out_shape,
			f32::from_bits(*alpha),
			f32::from_bits(*beta),
			*trans_a,
			*trans_b,
		)?,
		Op::MatMul => {
			let b = ins.get(1).copied().ok_or(CanonError::Arity {
				op: "MatMul",
				expected: "2",
				found: 1,
			})?;
			linalg::run_matmul(x, b, out_shape)?
		},
		Op::Conv { window, group } => window::run_conv(ins, window, *group, out_shape)?,
		Op::MaxPool { window } => window::run_pool(x, window, None, out_shape)?,
		Op::AveragePool { window, count_include_pad } => {
			window::run_pool(x, window, Some(*count_include_pad), out_shape)?
		},
		Op::GlobalAveragePool => window::run_global(x, true, out_shape)?,
		Op::GlobalMaxPool => window::run_global(x, false, out_shape)?,
		Op::BatchNormalization { epsilon } => norm::run_batchnorm(ins, f32::from_bits(*epsilon))?,
		Op::Lrn { size, alpha, beta, bias } => norm::run_lrn(
			x,
			*size,
			f32::from_bits(*alpha),
			f32::from_bits(*beta),
			f32::from_bits(*bias),
		)?,
		Op::Softmax { axis, legacy } => norm::run_softmax(x, *axis, *legacy, false)?,
		Op::LogSoftmax { axis, legacy } => norm::run_softmax(x, *axis, *legacy, true)?,
		Op::ReduceMean { axes, .. } => norm::run_reduce(x, axes, Reduce::Mean, out_shape)?,
		Op::ReduceSum { axes, .. } => norm::run_reduce(x, axes, Reduce::Sum, out_shape)?,
		Op::ReduceMax { axes, .. } => norm::run_reduce(x, axes, Reduce::Max, out_shape)?,
		Op::ReduceMin { axes, .. } => norm::run_reduce(x, axes, Reduce::Min, out_shape)?,
		Op::ReduceProd { axes, .. } => norm::run_reduce(x, axes, Reduce::Prod, out_shape)?,
		Op::ReduceSumSquare { axes, .. } => {
			norm::run_reduce(x, axes, Reduce::SumSquare, out_shape)?
		},
		Op::ReduceL1 { axes, .. } => norm::run_reduce(x, axes, Reduce::L1, out_shape)?,
		Op::ReduceL2 { axes, .. } => norm::run_reduce(x, axes, Reduce::L2, out_shape)?,
		Op::ReduceLogSum { axes, .. } => norm::run_reduce(x, axes, Reduce::LogSum, out_shape)?,
		Op::GatherElements { axis } => {
			let idx = ins.get(1).copied().ok_or(CanonError::Arity {
				op: "GatherElements",
				expected: "2",
				found: 1,
			})?;
			layout::run_gather_elements(x, idx, *axis, out_shape)?
		},
		Op::Trilu { upper, k } => layout::run_trilu(x, *upper, *k)?,
		Op::Fused { steps } => fused::run_fused(steps, ins, out_shape)?,
		Op::Lstm { hidden, direction, output } => {
			rnn::run_lstm(ins, *hidden, *direction, *output, out_shape)?
		},
		Op::Gru { hidden, direction, output, linear_before_reset } => {
			rnn::run_gru(ins, *hidden, *direction, *output, *linear_before_reset, out_shape)?
		},
		Op::QuantizeLinear { axis } => quant::run_quantize(ins, *axis)?,
		Op::DequantizeLinear { axis } => quant::run_dequantize(ins, *axis)?,
		Op::DynamicQuantizeLinear { output } => quant::run_dynamic_quantize(x, *output)?,
		Op::MatMulInteger => quant::run_matmul_integer(ins, out_shape)?,
		Op::ConvInteger { window, group } => {
			quant::run_conv_integer(ins, window, *group, out_shape)?
		},
		Op::QLinearMatMul => quant::run_qlinear_matmul(ins, out_shape)?,
		Op::QLinearConv { window, group } => {
			quant::run_qlinear_conv(ins, window, *group, out_shape)?
		},
		Op::Flatten { .. } | Op::Reshape { .. } | Op::Squeeze { .. } | Op::Unsqueeze { .. } => {
			Tensor { dtype: x.dtype, shape: out_shape.to_vec(), data: x.data.clone() }
		},
		Op::Transpose { perm } => layout::run_transpose(x, perm, out_shape)?,
		Op::Concat { axis } => layout::run_concat(ins, *axis, out_shape)?,
		Op::Gather { axis } => {
			let idx = ins.get(1).copied().ok_or(CanonError::Arity {
				op: "Gather",
				expected: "2",
				found: 1,
			})?;
			layout::run_gather(x, idx, *axis, out_shape)?
		},
		Op::Shape { start, end } => layout::run_shape_op(x, *start, *end),
		Op::ConstantOfShape { value } => layout::run_constant_of_shape(value, out_shape)?,
		Op::Slice { starts, ends, axes, steps } => {
			layout::run_slice(x, starts, ends, axes, steps, out_shape)?
		},
		Op::Pad { pads, value } => {
			layout::run_pad(x, pads, layout::PadFill::Constant(*value), out_shape)?
		},
		Op::PadEdge { pads } => layout::run_pad(x, pads, layout::PadFill::Edge, out_shape)?,
		Op::PadReflect { pads } => layout::run_pad(x, pads, layout::PadFill::Reflect, out_shape)?,
		Op::Expand => layout::run_expand(x, out_shape)?,
		Op::Resize { mode, coordinates, nearest, scales, sizes } => {
			resize::run_resize(x, *mode, *coordinates, *nearest, scales, sizes)?
		},
		Op::ConvTranspose { window, group, output_padding } => {
			window::run_conv_transpose(ins, window, *group, output_padding, out_shape)?
		},
		Op::Equal | Op::Less | Op::Greater | Op::LessOrEqual | Op::GreaterOrEqual => {
			let y = ins.get(1).copied().ok_or(CanonError::Arity {
				op: op.name(),
				expected: "2",
				found: 1,
			})?;
			logic::run_compare(op, x, y, out_shape)?
		},
		Op::Not | Op::And | Op::Or | Op::Xor => logic::run_logic(op, ins, out_shape)?,
		Op::Where => logic::run_where(ins, out_shape)?,
		Op::LayerNormalization { axis, epsilon, output } => {
			norm::run_layernorm(ins, *axis, f32::from_bits(*epsilon), *output)?
		},
		Op::ArgMax { axis, select_last, .. } => {
			select::run_arg(x, *axis, true, *select_last, out_shape)?
		},
		Op::ArgMin { axis, select_last, .. } => {
			select::run_arg(x, *axis, false, *select_last, out_shape)?
		},
		Op::TopK { axis, k, largest, indices } => {
			select::run_topk(x, *axis, *k, *largest, *indices, out_shape)?
		},
		_ => return Err(CanonError::Value { op: op.name(), detail: "no kernel".into() }),
	})
}
