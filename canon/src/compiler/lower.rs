//! Lowering of one ONNX node (with its opset's attribute semantics and defaults) into
//! canonical operators, one per used output.

use crate::{
	error::Result,
	ops::{shape_tensor, Meta},
	program::{AutoPad, CoordinateTransform, NearestMode, Op, ResizeMode, RnnDirection, Window},
	tensor::{numel, DType, Tensor},
};

use super::{
	onnx::{attribute_type as at, AttributeProto, NodeProto},
	tensor_from_proto, unsupported,
};

/// What an ONNX output becomes.
pub enum Lowered {
	/// The same value as node input `i`.
	Alias(usize),
	/// A constant.
	Const(Tensor),
	/// One canonical operator applied to the listed node inputs (indices into `node.input`).
	Op(Op, Vec<usize>),
	/// One canonical operator applied to node inputs and constants the lowering supplies.
	OpArgs(Op, Vec<Arg>),
}

/// An argument of [`Lowered::OpArgs`].
#[derive(Clone)]
pub enum Arg {
	/// Node input `i`.
	Input(usize),
	/// A constant (e.g. the zeros an absent optional input stands for).
	Const(Tensor),
}

struct Attrs<'a> {
	node: &'a NodeProto,
}

impl<'a> Attrs<'a> {
	fn get(&self, name: &str) -> Option<&'a AttributeProto> {
		self.node.attribute.iter().find(|a| a.name == name)
	}
	fn check_type(&self, a: &AttributeProto, ty: i32) -> Result<()> {
		if !a.ref_attr_name.is_empty() {
			return Err(unsupported(
				self.node,
				format!("attribute `{}` refers to a function attribute", a.name),
			));
		}
		// Old files may leave `type` unset.
		if a.r#type != 0 && a.r#type != ty {
			return Err(unsupported(
				self.node,
				format!("attribute `{}` has type {}, expected {ty}", a.name, a.r#type),
			));
		}
		Ok(())
	}
	fn int(&self, name: &str, default: i64) -> Result<i64> {
		match self.get(name) {
			Some(a) => self.check_type(a, at::INT).map(|_| a.i),
			None => Ok(default),
		}
	}
	fn float(&self, name: &str, default: f32) -> Result<f32> {
		match self.get(name) {
			Some(a) => self.check_type(a, at::FLOAT).map(|_| a.f),
			None => Ok(default),
		}
	}
	fn ints(&self, name: &str) -> Result<Option<Vec<i64>>> {
		match self.get(name) {
			Some(a) => self.check_type(a, at::INTS).map(|_| Some(a.ints.clone())),
			None => Ok(None),
		}
	}
	fn string(&self, name: &str) -> Result<Option<String>> {
		match self.get(name) {
			Some(a) => {
				self.check_type(a, at::STRING)?;
				Ok(Some(String::from_utf8_lossy(&a.s).into_owned()))
			},
			None => Ok(None),
		}
	}
	fn bool(&self, name: &str, default: bool) -> Result<bool> {
		self.int(name, default as i64).map(|v| v != 0)
	}
	fn u32s(&self, name: &str) -> Result<Vec<u32>> {
		self.ints(name)?
			.unwrap_or_default()
			.into_iter()
			.map(|v| {
				u32::try_from(v)
					.map_err(|_| unsupported(self.node, format!("attribute `{name}` value {v}")))
			})
			.collect()
	}
	fn i32_of(&self, name: &str, v: i64) -> Result<i32> {
		i32::try_from(v)
			.map_err(|_| unsupported(self.node, format!("attribute `{name}` value {v}")))
	}
	fn axis(&self, name: &str, default: i64) -> Result<i32> {
		let v = self.int(name, default)?;
		self.i32_of(name, v)
	}
	fn i32s(&self, name: &str, v: Vec<i64>) -> Result<Vec<i32>> {
		v.into_iter().map(|x| self.i32_of(name, x)).collect()
	}
}

/// The constant value of optional input `i` as i64s (`Ok(None)` if absent; error if dynamic).
fn const_ints(
	node: &NodeProto,
	metas: &[Option<Meta>],
	i: usize,
	what: &str,
) -> Result<Option<Vec<i64>>> {
	match metas.get(i).copied().flatten() {
		None => Ok(None),
		Some(Meta { value: Some(t), .. }) => t
			.int_values()
			.map(Some)
			.map_err(|_| unsupported(node, format!("input `{what}` must be an integer tensor"))),
		Some(_) => Err(unsupported(
			node,
			format!("input `{what}` must be a constant (it is computed at run time)"),
		)),
	}
}

/// The constant value of optional input `i` as f32s (`Ok(None)` if absent; error if dynamic).
fn const_floats(
	node: &NodeProto,
	metas: &[Option<Meta>],
	i: usize,
	what: &str,
) -> Result<Option<Vec<f32>>> {
	match metas.get(i).copied().flatten() {
		None => Ok(None),
		Some(Meta { value: Some(t), .. }) => t
			.f32_values()
			.map(Some)
			.map_err(|_| unsupported(node, format!("input `{what}` must be an F32 tensor"))),
		Some(_) => Err(unsupported(
			node,
			format!("input `{what}` must be a constant (it is computed at run time)"),
		)),
	}
}

fn const_scalar_f32(
	node: &NodeProto,
	metas: &[Option<Meta>],
	i: usize,
	what: &str,
) -> Result<Option<f32>> {
	match metas.get(i).copied().flatten() {
		None => Ok(None),
		Some(Meta { value: Some(t), .. }) if t.dtype == DType::F32 && t.data.len() == 4 => {
			Ok(t.f32_values()?.first().copied())
		},
		Some(Meta { value: Some(_), .. }) => {
			Err(unsupported(node, format!("input `{what}` must be an F32 scalar")))
		},
		Some(_) => Err(unsupported(
			node,
			format!("input `{what}` must be a constant (it is computed at run time)"),
		)),
	}
}

fn present(metas: &[Option<Meta>]) -> Vec<usize> {
	metas.iter().enumerate().filter(|(_, m)| m.is_some()).map(|(i, _)| i).collect()
}

fn window(a: &Attrs, pool: bool) -> Result<Window> {
	let auto_pad = match a.string("auto_pad")?.as_deref() {
		None | Some("NOTSET") | Some("") => AutoPad::NotSet,
		Some("VALID") => AutoPad::Valid,
		Some("SAME_UPPER") => AutoPad::SameUpper,
		Some("SAME_LOWER") => AutoPad::SameLower,
		Some(other) => return Err(unsupported(a.node, format!("auto_pad `{other}`"))),
	};
	Ok(Window {
		kernel: a.u32s("kernel_shape")?,
		strides: a.u32s("strides")?,
		dilations: a.u32s("dilations")?,
		pads: a.u32s("pads")?,
		auto_pad,
		ceil_mode: pool && a.bool("ceil_mode", false)?,
	})
}

/// Output `i` may only be requested if nothing reads it.
fn reject_extra_outputs(
	node: &NodeProto,
	used: &dyn Fn(usize) -> bool,
	from: usize,
	what: &str,
) -> Result<()> {
	if (from..node.output.len()).any(used) {
		return Err(unsupported(node, format!("output {from}+ ({what}) is not supported")));
	}
	Ok(())
}

/// Lowers `node` for the given default-domain opset; `metas` describe its inputs (None = absent)
/// and `used(i)` tells whether output `i` has a name.
pub fn lower(
	node: &NodeProto,
	opset: i64,
	metas: &[Option<Meta>],
	used: &dyn Fn(usize) -> bool,
) -> Result<Vec<(usize, Lowered)>> {
	let a = Attrs { node };
	let all = present(metas);
	let op_only = |op: Op| Ok(vec![(0, Lowered::Op(op, all.clone()))]);
	let first = || vec![0usize];
	let f32_bits = |name: &str, d: f32| a.float(name, d).map(f32::to_bits);
	match node.op_type.as_str() {
		"Add" => op_only(Op::Add),
		"Sub" => op_only(Op::Sub),
		"Mul" => op_only(Op::Mul),
		"Div" => op_only(Op::Div),
		"Pow" => op_only(Op::Pow),
		"Sum" => op_only(Op::Sum),
		"Max" => op_only(Op::Max),
		"Min" => op_only(Op::Min),
		"Mod" => op_only(Op::Mod { fmod: a.bool("fmod", false)? }),
		"Relu" => op_only(Op::Relu),
		"LeakyRelu" => op_only(Op::LeakyRelu { alpha: f32_bits("alpha", 0.01)? }),
		"Sigmoid" => op_only(Op::Sigmoid),
		"Tanh" => op_only(Op::Tanh),
		"Exp" => op_only(Op::Exp),
		"Log" => op_only(Op::Log),
		"Sqrt" => op_only(Op::Sqrt),
		"Neg" => op_only(Op::Neg),
		"Abs" => op_only(Op::Abs),
		"Erf" => op_only(Op::Erf),
		"Reciprocal" => op_only(Op::Reciprocal),
		"Floor" => op_only(Op::Floor),
		"Ceil" => op_only(Op::Ceil),
		"Round" => op_only(Op::Round),
		"Identity" => Ok(vec![(0, Lowered::Alias(0))]),
		"Cast" => {
			let to = a.int("to", 0)?;
			let to = i32::try_from(to).ok().and_then(super::dtype_from_onnx).ok_or_else(|| {
				let name = super::onnx_type_name(i32::try_from(to).unwrap_or(-1));
				unsupported(node, format!("attribute `to` = {name} (element type not supported)"))
			})?;
			op_only(Op::Cast { to })
		},
		"Clip" => {
			let (min, max) = if opset < 11 {
				(a.get("min").map(|x| x.f.to_bits()), a.get("max").map(|x| x.f.to_bits()))
			} else {
				(
					const_scalar_f32(node, metas, 1, "min")?.map(f32::to_bits),
					const_scalar_f32(node, metas, 2, "max")?.map(f32::to_bits),
				)
			};
			Ok(vec![(0, Lowered::Op(Op::Clip { min, max }, first()))])
		},
		"Gemm" => op_only(Op::Gemm {
			alpha: f32_bits("alpha", 1.0)?,
			beta: f32_bits("beta", 1.0)?,
			trans_a: a.bool("transA", false)?,
			trans_b: a.bool("transB", false)?,
		}),
		"MatMul" => op_only(Op::MatMul),
		"Conv" => {
			let group = a.int("group", 1)?;
			let group = u32::try_from(group)
				.map_err(|_| unsupported(node, format!("attribute `group` = {group}")))?;
			op_only(Op::Conv { window: window(&a, false)?, group })
		},
		"MaxPool" => {
			reject_extra_outputs(node, used, 1, "Indices")?;
			if a.int("storage_order", 0)? != 0 {
				return Err(unsupported(node, "attribute `storage_order` = 1"));
			}
			op_only(Op::MaxPool { window: window(&a, true)? })
		},
		"AveragePool" => op_only(Op::AveragePool {
			window: window(&a, true)?,
			count_include_pad: a.bool("count_include_pad", false)?,
		}),
		"GlobalAveragePool" => op_only(Op::GlobalAveragePool),
		"GlobalMaxPool" => op_only(Op::GlobalMaxPool),
		"BatchNormalization" => {
			reject_extra_outputs(node, used, 1, "training statistics")?;
			if a.bool("training_mode", false)? {
				return Err(unsupported(
					node,
					"attribute `training_mode` = 1 (only inference is supported)",
				));
			}
			if opset < 7 && !a.bool("is_test", false)? && opset >= 6 && a.get("is_test").is_some() {
				return Err(unsupported(node, "attribute `is_test` = 0"));
			}
			if a.int("spatial", 1)? != 1 {
				return Err(unsupported(node, "attribute `spatial` = 0"));
			}
			op_only(Op::BatchNormalization { epsilon: f32_bits("epsilon", 1e-5)? })
		},
		"LRN" => {
			let size = a.int("size", 0)?;
			let size = u32::try_from(size)
				.ok()
				.filter(|&s| s > 0)
				.ok_or_else(|| unsupported(node, format!("attribute `size` = {size}")))?;
			op_only(Op::Lrn {
				size,
				alpha: f32_bits("alpha", 1e-4)?,
				beta: f32_bits("beta", 0.75)?,
				bias: f32_bits("bias", 1.0)?,
			})
		},
		"Softmax" | "LogSoftmax" => {
			let legacy = opset < 13;
			let axis = a.axis("axis", if legacy { 1 } else { -1 })?;
			let op = if node.op_type == "Softmax" {
				Op::Softmax { axis, legacy }
			} else {
				Op::LogSoftmax { axis, legacy }
			};
			op_only(op)
		},
		"ReduceMean" | "ReduceSum" | "ReduceMax" | "ReduceMin" | "ReduceProd"
		| "ReduceSumSquare" | "ReduceL1" | "ReduceL2" | "ReduceLogSum" => {
			let axes_from_input = match node.op_type.as_str() {
				"ReduceSum" => opset >= 13,
				_ => opset >= 18,
			};
			let axes =
				if axes_from_input { const_ints(node, metas, 1, "axes")? } else { a.ints("axes")? };
			let axes = a.i32s("axes", axes.unwrap_or_default())?;
			if axes.is_empty() && a.bool("noop_with_empty_axes", false)? {
				return Ok(vec![(0, Lowered::Alias(0))]);
			}
			let keepdims = a.bool("keepdims", true)?;
			let op = match node.op_type.as_str() {
				"ReduceMean" => Op::ReduceMean { axes, keepdims },
				"ReduceSum" => Op::ReduceSum { axes, keepdims },
				"ReduceMin" => Op::ReduceMin { axes, keepdims },
				"ReduceProd" => Op::ReduceProd { axes, keepdims },
				"ReduceSumSquare" => Op::ReduceSumSquare { axes, keepdims },
				"ReduceL1" => Op::ReduceL1 { axes, keepdims },
				"ReduceL2" => Op::ReduceL2 { axes, keepdims },
				"ReduceLogSum" => Op::ReduceLogSum { axes, keepdims },
				_ => Op::ReduceMax { axes, keepdims },
			};
			Ok(vec![(0, Lowered::Op(op, first()))])
		},
		"Flatten" => op_only(Op::Flatten { axis: a.axis("axis", 1)? }),
		"Reshape" => {
			if opset < 5 {
				return Err(unsupported(node, "Reshape-1 (shape attribute) is not supported"));
			}
			op_only(Op::Reshape { allowzero: a.bool("allowzero", false)? })
		},
		"Transpose" => op_only(Op::Transpose { perm: a.u32s("perm")? }),
		"Concat" => {
			if a.get("axis").is_none() {
				return Err(unsupported(node, "attribute `axis` is required"));
			}
			op_only(Op::Concat { axis: a.axis("axis", 0)? })
		},
		"Squeeze" | "Unsqueeze" => {
			let axes =
				if opset >= 13 { const_ints(node, metas, 1, "axes")? } else { a.ints("axes")? };
			let axes = a.i32s("axes", axes.unwrap_or_default())?;
			let op = if node.op_type == "Squeeze" {
				Op::Squeeze { axes }
			} else {
				if axes.is_empty() {
					return Err(unsupported(node, "`axes` is required"));
				}
				Op::Unsqueeze { axes }
			};
			Ok(vec![(0, Lowered::Op(op, first()))])
		},
		"Gather" => op_only(Op::Gather { axis: a.axis("axis", 0)? }),
		"GatherElements" => op_only(Op::GatherElements { axis: a.axis("axis", 0)? }),
		"Trilu" => {
			let k = match const_ints(node, metas, 1, "k")?.as_deref() {
				None => 0,
				Some(&[k]) => k,
				Some(_) => return Err(unsupported(node, "input `k` must be one integer")),
			};
			Ok(vec![(0, Lowered::Op(Op::Trilu { upper: a.bool("upper", true)?, k }, first()))])
		},
		// Its output's shape depends on its inputs' values, so it is always folded.
		"Range" => lower_range(node, metas),
		"LSTM" | "GRU" => lower_rnn(node, &a, metas, used),
		"QuantizeLinear"
		| "DequantizeLinear"
		| "DynamicQuantizeLinear"
		| "MatMulInteger"
		| "ConvInteger"
		| "QLinearMatMul"
		| "QLinearConv" => lower_quant(node, &a, metas, used),
		// Shapes are static, so Shape and Size are constants whatever their input.
		"Shape" => {
			let start = a.axis("start", 0)?;
			let end = match a.get("end") {
				Some(_) => Some(a.axis("end", 0)?),
				None => None,
			};
			let x =
				metas.first().copied().flatten().ok_or_else(|| unsupported(node, "no input"))?;
			Ok(vec![(0, Lowered::Const(shape_tensor(x.shape, start, end)))])
		},
		"Size" => {
			let x =
				metas.first().copied().flatten().ok_or_else(|| unsupported(node, "no input"))?;
			Ok(vec![(0, Lowered::Const(Tensor::from_i64(vec![], &[numel(x.shape)? as i64])))])
		},
		"HardSigmoid" => op_only(Op::HardSigmoid {
			alpha: f32_bits("alpha", 0.2)?,
			beta: f32_bits("beta", 0.5)?,
		}),
		"HardSwish" => op_only(Op::HardSwish),
		"Gelu" => match a.string("approximate")?.as_deref().unwrap_or("none") {
			"none" => op_only(Op::Gelu { tanh: false }),
			"tanh" => op_only(Op::Gelu { tanh: true }),
			other => Err(unsupported(node, format!("attribute `approximate` = {other}"))),
		},
		"LayerNormalization" => {
			if a.int("stash_type", 1)? != 1 {
				return Err(unsupported(node, "attribute `stash_type` other than float"));
			}
			let (axis, epsilon) = (a.axis("axis", -1)?, f32_bits("epsilon", 1e-5)?);
			let outs = (0..3u8).filter(|&i| used(i as usize));
			Ok(outs
				.map(|output| {
					let op = Op::LayerNormalization { axis, epsilon, output };
					(output as usize, Lowered::Op(op, all.clone()))
				})
				.collect())
		},
		"CastLike" => {
			let to = metas
				.get(1)
				.copied()
				.flatten()
				.ok_or_else(|| unsupported(node, "input `target_type` is required"))?
				.dtype;
			Ok(vec![(0, Lowered::Op(Op::Cast { to }, first()))])
		},
		"ArgMax" | "ArgMin" => {
			let (axis, keepdims) = (a.axis("axis", 0)?, a.bool("keepdims", true)?);
			let select_last = a.bool("select_last_index", false)?;
			op_only(if node.op_type == "ArgMax" {
				Op::ArgMax { axis, keepdims, select_last }
			} else {
				Op::ArgMin { axis, keepdims, select_last }
			})
		},
		"TopK" => {
			if !a.bool("sorted", true)? {
				return Err(unsupported(node, "attribute `sorted` = 0 (the order is unspecified)"));
			}
			let k = if opset < 10 {
				Some(vec![a.int("k", 0)?])
			} else {
				const_ints(node, metas, 1, "K")?
			};
			let k = match k.as_deref() {
				Some(&[k]) => {
					u32::try_from(k).map_err(|_| unsupported(node, format!("K = {k}")))?
				},
				_ => return Err(unsupported(node, "`K` must be one integer")),
			};
			let (axis, largest) = (a.axis("axis", -1)?, a.bool("largest", true)?);
			let mut out = vec![];
			for (i, indices) in [(0, false), (1, true)] {
				if used(i) {
					out.push((i, Lowered::Op(Op::TopK { axis, k, largest, indices }, first())));
				}
			}
			Ok(out)
		},
		"Equal" => op_only(Op::Equal),
		"Less" => op_only(Op::Less),
		"Greater" => op_only(Op::Greater),
		"LessOrEqual" => op_only(Op::LessOrEqual),
		"GreaterOrEqual" => op_only(Op::GreaterOrEqual),
		"Not" => op_only(Op::Not),
		"And" => op_only(Op::And),
		"Or" => op_only(Op::Or),
		"Xor" => op_only(Op::Xor),
		"Where" => op_only(Op::Where),
		"Resize" => lower_resize(node, &a, opset, metas),
		"ConvTranspose" => lower_conv_transpose(node, &a, metas),
		"ConstantOfShape" => {
			let value = match a.get("value").and_then(|x| x.t.as_ref()) {
				Some(t) => tensor_from_proto(t)?,
				None => Tensor::from_f32(vec![1], &[0.0]),
			};
			op_only(Op::ConstantOfShape { value })
		},
		"Constant" => {
			let t = if let Some(t) = a.get("value").and_then(|x| x.t.as_ref()) {
				tensor_from_proto(t)?
			} else if let Some(x) = a.get("value_float") {
				Tensor::from_f32(vec![], &[x.f])
			} else if let Some(x) = a.get("value_floats") {
				Tensor::from_f32(vec![x.floats.len() as u32], &x.floats)
			} else if let Some(x) = a.get("value_int") {
				Tensor::from_i64(vec![], &[x.i])
			} else if let Some(x) = a.get("value_ints") {
				Tensor::from_i64(vec![x.ints.len() as u32], &x.ints)
			} else {
				return Err(unsupported(
					node,
					"only tensor, float(s) and int(s) values are supported",
				));
			};
			Ok(vec![(0, Lowered::Const(t))])
		},
		"Dropout" => {
			if opset >= 12 {
				match metas.get(2).copied().flatten() {
					None => {},
					Some(Meta { value: Some(t), .. }) if t.data.iter().all(|&b| b == 0) => {},
					Some(_) => {
						return Err(unsupported(
							node,
							"input `training_mode` must be constant false",
						))
					},
				}
			} else if opset < 7 && a.get("is_test").is_some() && !a.bool("is_test", false)? {
				return Err(unsupported(
					node,
					"attribute `is_test` = 0 (only inference is supported)",
				));
			}
			let mut out = vec![(0, Lowered::Alias(0))];
			if used(1) {
				let x = metas
					.first()
					.copied()
					.flatten()
					.ok_or_else(|| unsupported(node, "no input"))?;
				let mask = Tensor::new(
					DType::Bool,
					x.shape.to_vec(),
					vec![1u8; crate::tensor::numel(x.shape)?],
				)?;
				out.push((1, Lowered::Const(mask)));
			}
			Ok(out)
		},
		"Slice" => {
			let (starts, ends, axes, steps) = if opset < 10 {
				(a.ints("starts")?, a.ints("ends")?, a.ints("axes")?, None)
			} else {
				(
					const_ints(node, metas, 1, "starts")?,
					const_ints(node, metas, 2, "ends")?,
					const_ints(node, metas, 3, "axes")?,
					const_ints(node, metas, 4, "steps")?,
				)
			};
			let (Some(starts), Some(ends)) = (starts, ends) else {
				return Err(unsupported(node, "`starts` and `ends` are required"));
			};
			let axes = a.i32s("axes", axes.unwrap_or_default())?;
			Ok(vec![(
				0,
				Lowered::Op(
					Op::Slice { starts, ends, axes, steps: steps.unwrap_or_default() },
					first(),
				),
			)])
		},
		"Split" => {
			let x =
				metas.first().copied().flatten().ok_or_else(|| unsupported(node, "no input"))?;
			let rank = x.shape.len() as i64;
			let axis = a.int("axis", 0)?;
			let ax = if axis < 0 { axis + rank } else { axis };
			let dim = x.shape.get(usize::try_from(ax).unwrap_or(usize::MAX)).copied().ok_or_else(
				|| unsupported(node, format!("attribute `axis` = {axis} for rank {rank}")),
			)? as i64;
			let split =
				if opset >= 13 { const_ints(node, metas, 1, "split")? } else { a.ints("split")? };
			let n = node.output.len() as i64;
			let sizes = match split {
				Some(s) => s,
				None => {
					let parts = a.int("num_outputs", n)?.max(1);
					let chunk = (dim + parts - 1) / parts;
					(0..parts).map(|i| (dim - i * chunk).clamp(0, chunk)).collect()
				},
			};
			if sizes.len() as i64 != n || sizes.iter().sum::<i64>() != dim {
				return Err(unsupported(
					node,
					format!("split sizes {sizes:?} do not fit dimension {dim} into {n} outputs"),
				));
			}
			let mut start = 0i64;
			let mut out = vec![];
			for (i, s) in sizes.iter().enumerate() {
				if used(i) {
					let op = Op::Slice {
						starts: vec![start],
						ends: vec![start + s],
						axes: vec![a.i32_of("axis", ax)?],
						steps: vec![],
					};
					out.push((i, Lowered::Op(op, first())));
				}
				start += s;
			}
			Ok(out)
		},
		"Pad" => {
			let mode = a.string("mode")?.unwrap_or_else(|| "constant".into());
			if !matches!(mode.as_str(), "constant" | "edge" | "reflect") {
				return Err(unsupported(
					node,
					format!("attribute `mode` = {mode} (constant, edge and reflect are supported)"),
				));
			}
			let (pads, value) = if opset < 11 {
				(a.ints("pads")?.or(a.ints("paddings")?), a.float("value", 0.0)?)
			} else {
				if metas.get(3).copied().flatten().is_some() {
					return Err(unsupported(node, "input `axes` is not supported"));
				}
				(
					const_ints(node, metas, 1, "pads")?,
					const_scalar_f32(node, metas, 2, "constant_value")?.unwrap_or(0.0),
				)
			};
			let pads = pads.ok_or_else(|| unsupported(node, "`pads` is required"))?;
			let op = match mode.as_str() {
				"edge" => Op::PadEdge { pads },
				"reflect" => Op::PadReflect { pads },
				_ => Op::Pad { pads, value: value.to_bits() },
			};
			Ok(vec![(0, Lowered::Op(op, first()))])
		},
		"Expand" => op_only(Op::Expand),
		other => Err(unsupported(node, format!("operator `{other}` is not supported"))),
	}
}

fn lower_resize(
	node: &NodeProto,
	a: &Attrs,
	opset: i64,
	metas: &[Option<Meta>],
) -> Result<Vec<(usize, Lowered)>> {
	if opset < 11 {
		return Err(unsupported(
			node,
			format!("Resize-{opset} (opset 11 and later are supported)"),
		));
	}
	let mode = match a.string("mode")?.as_deref().unwrap_or("nearest") {
		"nearest" => ResizeMode::Nearest,
		"linear" => ResizeMode::Linear,
		other => return Err(unsupported(node, format!("attribute `mode` = {other}"))),
	};
	let coordinates =
		match a.string("coordinate_transformation_mode")?.as_deref().unwrap_or("half_pixel") {
			"half_pixel" => CoordinateTransform::HalfPixel,
			"pytorch_half_pixel" => CoordinateTransform::PytorchHalfPixel,
			"align_corners" => CoordinateTransform::AlignCorners,
			"asymmetric" => CoordinateTransform::Asymmetric,
			"tf_half_pixel_for_nn" => CoordinateTransform::TfHalfPixelForNn,
			other => {
				return Err(unsupported(
					node,
					format!("attribute `coordinate_transformation_mode` = {other}"),
				))
			},
		};
	let nearest = match a.string("nearest_mode")?.as_deref().unwrap_or("round_prefer_floor") {
		"round_prefer_floor" => NearestMode::RoundPreferFloor,
		"round_prefer_ceil" => NearestMode::RoundPreferCeil,
		"floor" => NearestMode::Floor,
		"ceil" => NearestMode::Ceil,
		other => return Err(unsupported(node, format!("attribute `nearest_mode` = {other}"))),
	};
	if a.int("antialias", 0)? != 0 {
		return Err(unsupported(node, "attribute `antialias` = 1"));
	}
	let x = metas.first().copied().flatten().ok_or_else(|| unsupported(node, "no input"))?;
	let rank = x.shape.len();
	// Opset 18: `axes` names the axes `scales`/`sizes` cover; the others keep their size.
	let axes: Vec<usize> = match a.ints("axes")? {
		None => (0..rank).collect(),
		Some(v) => v
			.iter()
			.map(|&ax| {
				let r = rank as i64;
				let n = if ax < 0 { ax + r } else { ax };
				usize::try_from(n)
					.ok()
					.filter(|&n| n < rank)
					.ok_or_else(|| unsupported(node, format!("axis {ax} for rank {rank}")))
			})
			.collect::<Result<_>>()?,
	};
	let scales = const_floats(node, metas, 2, "scales")?.filter(|s| !s.is_empty());
	let sizes = const_ints(node, metas, 3, "sizes")?.filter(|s| !s.is_empty());
	if sizes.is_some() {
		match a.string("keep_aspect_ratio_policy")?.as_deref() {
			None | Some("stretch") => {},
			Some(other) => {
				return Err(unsupported(node, format!("keep_aspect_ratio_policy `{other}`")))
			},
		}
	}
	let mut out_scales = vec![1f32; rank];
	let mut out_sizes = x.shape.to_vec();
	match (scales, sizes) {
		(Some(s), None) if s.len() == axes.len() => {
			for (&ax, &sc) in axes.iter().zip(&s) {
				let len = x.shape.get(ax).copied().unwrap_or(0);
				// As ONNX Runtime: the f32 product, truncated.
				let out = sc * len as f32;
				if !(sc.is_finite() && sc > 0.0 && out >= 1.0 && out < u32::MAX as f32) {
					return Err(unsupported(node, format!("scale {sc} for an axis of {len}")));
				}
				out_scales[ax] = sc;
				out_sizes[ax] = out as u32;
			}
		},
		(None, Some(z)) if z.len() == axes.len() => {
			for (&ax, &sz) in axes.iter().zip(&z) {
				let len = x.shape.get(ax).copied().unwrap_or(0);
				let size = u32::try_from(sz)
					.ok()
					.filter(|&v| v > 0)
					.ok_or_else(|| unsupported(node, format!("size {sz}")))?;
				out_scales[ax] = size as f32 / len as f32;
				out_sizes[ax] = size;
			}
		},
		_ => {
			return Err(unsupported(
				node,
				format!("exactly one of `scales` and `sizes` with {} entries", axes.len()),
			))
		},
	}
	let op = Op::Resize {
		mode,
		coordinates,
		nearest,
		scales: out_scales.into_iter().map(f32::to_bits).collect(),
		sizes: out_sizes,
	};
	Ok(vec![(0, Lowered::Op(op, vec![0]))])
}

/// ConvTranspose with `auto_pad` and `output_shape` resolved to explicit pads (ONNX's rule:
/// `total = stride * (in - 1) + output_padding + (kernel - 1) * dilation + 1 - out`, split
/// with the odd unit at the end for SAME_UPPER and at the beginning otherwise).
fn lower_conv_transpose(
	node: &NodeProto,
	a: &Attrs,
	metas: &[Option<Meta>],
) -> Result<Vec<(usize, Lowered)>> {
	let group = a.int("group", 1)?;
	let group = u32::try_from(group)
		.map_err(|_| unsupported(node, format!("attribute `group` = {group}")))?;
	let mut win = window(a, false)?;
	let output_padding = a.u32s("output_padding")?;
	let output_shape = a.u32s("output_shape")?;
	let (Some(x), Some(w)) = (metas.first().copied().flatten(), metas.get(1).copied().flatten())
	else {
		return Err(unsupported(node, "inputs X and W are required"));
	};
	let spatial = x.shape.get(2..).unwrap_or(&[]);
	let kernel = w.shape.get(2..).unwrap_or(&[]);
	let r = spatial.len();
	let target: Option<Vec<u32>> = if !output_shape.is_empty() {
		// `output_shape` may list all dims or only the spatial ones.
		Some(output_shape.get(output_shape.len().saturating_sub(r)..).unwrap_or(&[]).to_vec())
	} else if matches!(win.auto_pad, AutoPad::SameUpper | AutoPad::SameLower) {
		Some(
			spatial
				.iter()
				.enumerate()
				.map(|(i, &d)| d.saturating_mul(win.strides.get(i).copied().unwrap_or(1)))
				.collect(),
		)
	} else {
		None
	};
	if let Some(target) = target {
		if target.len() != r || kernel.len() != r {
			return Err(unsupported(node, format!("output_shape {output_shape:?} for rank {r}")));
		}
		let mut pads = vec![0u32; 2 * r];
		for i in 0..r {
			let get = |v: &[u32], d: u32| v.get(i).copied().unwrap_or(d) as i64;
			let total = get(&win.strides, 1) * (spatial[i] as i64 - 1)
				+ get(&output_padding, 0)
				+ (kernel[i] as i64 - 1) * get(&win.dilations, 1)
				+ 1 - target[i] as i64;
			let total = u32::try_from(total).map_err(|_| {
				unsupported(node, format!("output_shape {output_shape:?} is larger than possible"))
			})?;
			let (small, big) = (total / 2, total - total / 2);
			let (begin, end) =
				if win.auto_pad == AutoPad::SameUpper { (small, big) } else { (big, small) };
			pads[i] = begin;
			pads[i + r] = end;
		}
		win.pads = pads;
		win.auto_pad = AutoPad::NotSet;
	}
	Ok(vec![(
		0,
		Lowered::Op(Op::ConvTranspose { window: win, group, output_padding }, present(metas)),
	)])
}

/// Range with constant start, limit and delta, folded: `start + i * delta` for
/// `i < max(ceil((limit - start) / delta), 0)` (in the inputs' dtype; f32 for F32).
fn lower_range(node: &NodeProto, metas: &[Option<Meta>]) -> Result<Vec<(usize, Lowered)>> {
	let value = |i: usize, what: &str| match metas.get(i).copied().flatten() {
		Some(Meta { value: Some(t), .. }) if t.shape.is_empty() || t.shape == [1] => Ok(t),
		Some(Meta { value: Some(_), .. }) => {
			Err(unsupported(node, format!("input `{what}` must be a scalar")))
		},
		_ => Err(unsupported(
			node,
			format!("input `{what}` must be a constant (the output shape depends on it)"),
		)),
	};
	let (start, limit, delta) = (value(0, "start")?, value(1, "limit")?, value(2, "delta")?);
	let too_long = || unsupported(node, "more than 2^24 elements");
	if start.dtype == DType::F32 {
		let f = |t: &Tensor| t.f32_values().map(|v| v.first().copied().unwrap_or(0.0));
		let (s, l, d) = (f(start)?, f(limit)?, f(delta)?);
		let n = libm::ceilf((l - s) / d).max(0.0);
		if !(n <= (1 << 24) as f32) {
			return Err(too_long());
		}
		let v: Vec<f32> = (0..n as usize).map(|i| s + i as f32 * d).collect();
		return Ok(vec![(0, Lowered::Const(Tensor::from_f32(vec![v.len() as u32], &v)))]);
	}
	let f = |t: &Tensor| t.int_values().map(|v| v.first().copied().unwrap_or(0));
	let (s, l, d) = (f(start)?, f(limit)?, f(delta)?);
	if d == 0 {
		return Err(unsupported(node, "`delta` = 0"));
	}
	// ceil((limit - start) / delta), at least 0.
	let (num, den) = (l as i128 - s as i128, d as i128);
	let q = num / den;
	let n = (if num % den != 0 && (num > 0) == (den > 0) { q + 1 } else { q }).max(0);
	if n > 1 << 24 {
		return Err(too_long());
	}
	let v: Vec<i64> = (0..n as i64).map(|i| s.wrapping_add(i.wrapping_mul(d))).collect();
	let t = crate::ops::int_tensor(start.dtype, vec![v.len() as u32], &v)?;
	Ok(vec![(0, Lowered::Const(t))])
}

/// LSTM and GRU with the ONNX defaults only; absent B, initial_h (and LSTM's initial_c)
/// become zeros, and `sequence_lens` must be absent or a constant equal to the sequence length
/// everywhere.
fn lower_rnn(
	node: &NodeProto,
	a: &Attrs,
	metas: &[Option<Meta>],
	used: &dyn Fn(usize) -> bool,
) -> Result<Vec<(usize, Lowered)>> {
	let lstm = node.op_type == "LSTM";
	let hidden = a.int("hidden_size", 0)?;
	let hidden = u32::try_from(hidden)
		.ok()
		.filter(|&h| h > 0)
		.ok_or_else(|| unsupported(node, format!("attribute `hidden_size` = {hidden}")))?;
	let direction = match a.string("direction")?.as_deref().unwrap_or("forward") {
		"forward" => RnnDirection::Forward,
		"reverse" => RnnDirection::Reverse,
		"bidirectional" => RnnDirection::Bidirectional,
		other => return Err(unsupported(node, format!("attribute `direction` = {other}"))),
	};
	let d: u32 = if direction == RnnDirection::Bidirectional { 2 } else { 1 };
	if let Some(acts) = a.get("activations") {
		let names: Vec<String> =
			acts.strings.iter().map(|s| String::from_utf8_lossy(s).to_lowercase()).collect();
		let default: &[&str] =
			if lstm { &["sigmoid", "tanh", "tanh"] } else { &["sigmoid", "tanh"] };
		if names.len() != default.len() * d as usize
			|| names.iter().zip(default.iter().cycle()).any(|(n, e)| n != e)
		{
			return Err(unsupported(node, format!("activations {names:?} (only the defaults)")));
		}
	}
	if a.get("clip").is_some() || a.int("input_forget", 0)? != 0 || a.int("layout", 0)? != 0 {
		return Err(unsupported(node, "attributes clip, input_forget or layout = 1"));
	}
	if lstm && metas.get(7).copied().flatten().is_some() {
		return Err(unsupported(node, "peephole weights (input P)"));
	}
	let linear_before_reset = match a.int("linear_before_reset", 0)? {
		0 => false,
		1 if !lstm => true,
		v => return Err(unsupported(node, format!("attribute `linear_before_reset` = {v}"))),
	};
	let x = metas.first().copied().flatten().ok_or_else(|| unsupported(node, "no input X"))?;
	let &[seq, batch, _] = x.shape else {
		return Err(unsupported(node, format!("X of shape {:?} (expected rank 3)", x.shape)));
	};
	if let Some(lens) = const_ints(node, metas, 4, "sequence_lens")? {
		if lens.iter().any(|&l| l != seq as i64) {
			return Err(unsupported(node, "sequence_lens shorter than the sequence"));
		}
	}
	let zeros =
		|shape: Vec<u32>| Tensor::from_f32(shape.clone(), &vec![0.0; numel(&shape).unwrap_or(0)]);
	let arg = |i: usize, shape: Vec<u32>| {
		if metas.get(i).copied().flatten().is_some() {
			Arg::Input(i)
		} else {
			Arg::Const(zeros(shape))
		}
	};
	let gates = if lstm { 4 } else { 3 };
	let state = vec![d, batch, hidden];
	let mut args =
		vec![Arg::Input(0), Arg::Input(1), Arg::Input(2), arg(3, vec![d, 2 * gates * hidden])];
	args.push(arg(5, state.clone()));
	if lstm {
		args.push(arg(6, state));
	}
	let outputs = if lstm { 3u8 } else { 2 };
	Ok((0..outputs)
		.filter(|&o| used(o as usize))
		.map(|output| {
			let op = if lstm {
				Op::Lstm { hidden, direction, output }
			} else {
				Op::Gru { hidden, direction, output, linear_before_reset }
			};
			(output as usize, Lowered::OpArgs(op, args.clone()))
		})
		.collect())
}

/// The int8 family; absent zero points become zeros (per tensor) of the right dtype.
fn lower_quant(
	node: &NodeProto,
	a: &Attrs,
	metas: &[Option<Meta>],
	used: &dyn Fn(usize) -> bool,
) -> Result<Vec<(usize, Lowered)>> {
	let zero = |dtype: DType| Tensor::new(dtype, vec![], vec![0u8; dtype.size()]);
	let input_or_zero = |i: usize, dtype: DType| -> Result<Arg> {
		Ok(if metas.get(i).copied().flatten().is_some() {
			Arg::Input(i)
		} else {
			Arg::Const(zero(dtype)?)
		})
	};
	let dtype_of = |i: usize| {
		metas
			.get(i)
			.copied()
			.flatten()
			.map(|m| m.dtype)
			.ok_or_else(|| unsupported(node, format!("input {i} is required")))
	};
	if a.int("block_size", 0)? != 0 {
		return Err(unsupported(node, "blocked quantization (`block_size`)"));
	}
	let one = |op: Op, args: Vec<Arg>| Ok(vec![(0, Lowered::OpArgs(op, args))]);
	match node.op_type.as_str() {
		"QuantizeLinear" => {
			let out = match a.int("output_dtype", 0)? {
				0 => metas.get(2).copied().flatten().map_or(DType::U8, |m| m.dtype),
				2 => DType::U8,
				3 => DType::I8,
				d => return Err(unsupported(node, format!("output_dtype {d}"))),
			};
			let axis = a.axis("axis", 1)?;
			one(
				Op::QuantizeLinear { axis },
				vec![Arg::Input(0), Arg::Input(1), input_or_zero(2, out)?],
			)
		},
		"DequantizeLinear" => {
			let axis = a.axis("axis", 1)?;
			let x = dtype_of(0)?;
			one(
				Op::DequantizeLinear { axis },
				vec![Arg::Input(0), Arg::Input(1), input_or_zero(2, x)?],
			)
		},
		"DynamicQuantizeLinear" => Ok((0..3u8)
			.filter(|&o| used(o as usize))
			.map(|output| {
				(output as usize, Lowered::Op(Op::DynamicQuantizeLinear { output }, vec![0]))
			})
			.collect()),
		"MatMulInteger" => {
			let (da, db) = (dtype_of(0)?, dtype_of(1)?);
			one(
				Op::MatMulInteger,
				vec![Arg::Input(0), Arg::Input(1), input_or_zero(2, da)?, input_or_zero(3, db)?],
			)
		},
		"ConvInteger" => {
			let group = a.int("group", 1)?;
			let group = u32::try_from(group)
				.map_err(|_| unsupported(node, format!("attribute `group` = {group}")))?;
			let (dx, dw) = (dtype_of(0)?, dtype_of(1)?);
			let op = Op::ConvInteger { window: window(a, false)?, group };
			one(
				op,
				vec![Arg::Input(0), Arg::Input(1), input_or_zero(2, dx)?, input_or_zero(3, dw)?],
			)
		},
		"QLinearMatMul" => one(Op::QLinearMatMul, (0..8).map(Arg::Input).collect()),
		_ => {
			let group = a.int("group", 1)?;
			let group = u32::try_from(group)
				.map_err(|_| unsupported(node, format!("attribute `group` = {group}")))?;
			let op = Op::QLinearConv { window: window(a, false)?, group };
			one(op, present(metas).into_iter().map(Arg::Input).collect())
		},
	}
}
