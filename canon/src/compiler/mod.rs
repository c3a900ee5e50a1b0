//! ONNX to [`Program`] (feature `std`).
//!
//! Steps: decode the protobuf ([`onnx`]); turn initializers into constants (graph inputs that are
//! also initializers are constants); give every graph input a concrete shape (symbolic dims from
//! [`CompileOptions`]); drop nodes no output depends on; order the rest topologically (a cycle is
//! an error); lower each node ([`lower`]) into an alias, a constant or one canonical operator
//! per used output (`Shape` and `Size` become constants: shapes are static); fold every operator
//! whose inputs are all constant by running the executor at compile time (this evaluates shape
//! subgraphs such as Shape/Gather/Concat/Reshape); infer
//! every output's dtype and shape with [`crate::ops::infer`]; make the outputs the last nodes
//! (the tail rule, [`Program::move_outputs_to_tail`]); check the limits.

mod lower;
pub mod onnx;

use std::collections::{HashMap, HashSet};

use prost::Message;

use crate::{
	error::{CanonError, Result},
	ops::{execute_op, infer, Meta},
	program::{Node, Op, Program, Ref},
	tensor::{DType, Limits, Tensor, TensorSpec},
};
use onnx::{dimension, type_proto, ModelProto, NodeProto, TensorProto, ValueInfoProto};

/// How to compile.
#[derive(Clone, Debug, Default)]
pub struct CompileOptions {
	/// Concrete shapes for named graph inputs (overriding what the graph declares).
	pub input_shapes: HashMap<String, Vec<u32>>,
	/// Value for every symbolic (or unknown) input dimension not covered by `input_shapes`,
	/// e.g. `Some(1)` for batch 1. `None`: a symbolic dimension is an error.
	pub symbolic_dim: Option<u32>,
	/// Bounds checked on the program and on every folded constant.
	pub limits: Limits,
	/// Graph inputs bound to a value at compile time: they become constants, as if the file
	/// had them as initializers. For inputs that decide shapes (a Resize's `sizes`, a
	/// Reshape's target) when a graph takes them as inputs.
	pub frozen_inputs: HashMap<String, Tensor>,
}

/// A compiled model with its ONNX value names.
#[derive(Clone, Debug)]
pub struct Compiled {
	pub program: Program,
	/// ONNX names of the program inputs (same order as `program.inputs`).
	pub input_names: Vec<String>,
	/// ONNX names of the program outputs (same order as `program.outputs`).
	pub output_names: Vec<String>,
}

/// Compiles ONNX model bytes.
pub fn compile(bytes: &[u8], options: &CompileOptions) -> Result<Compiled> {
	let model =
		ModelProto::decode(bytes).map_err(|e| CanonError::Decode { detail: e.to_string() })?;
	compile_model(&model, options)
}

/// What a value name stands for during lowering.
#[derive(Clone, Debug)]
enum Val {
	Input(u32),
	Node(u32, DType, Vec<u32>),
	Const(std::rc::Rc<Tensor>),
}

pub(crate) fn unsupported(node: &NodeProto, detail: impl Into<String>) -> CanonError {
	CanonError::Unsupported {
		node: node_label(node),
		op: node.op_type.clone(),
		detail: detail.into(),
	}
}

fn node_label(node: &NodeProto) -> String {
	if node.name.is_empty() {
		format!("-> {}", node.output.first().map(String::as_str).unwrap_or("?"))
	} else {
		node.name.clone()
	}
}

/// The dtype of an ONNX `TensorProto.DataType` value (`None` if not supported).
pub fn dtype_from_onnx(data_type: i32) -> Option<DType> {
	use onnx::data_type as dt;
	Some(match data_type {
		dt::FLOAT => DType::F32,
		dt::INT64 => DType::I64,
		dt::INT32 => DType::I32,
		dt::UINT8 => DType::U8,
		dt::INT8 => DType::I8,
		dt::BOOL => DType::Bool,
		_ => return None,
	})
}

/// Converts an ONNX TensorProto (raw_data or typed fields) into a tensor.
pub fn tensor_from_proto(t: &TensorProto) -> Result<Tensor> {
	let name = if t.name.is_empty() { "<unnamed>" } else { t.name.as_str() };
	let bad = |detail: String| CanonError::Unsupported {
		node: format!("tensor {name}"),
		op: "TensorProto".into(),
		detail,
	};
	if t.data_location == 1 {
		return Err(bad("external data is not supported; embed the weights".into()));
	}
	if t.segment.is_some() {
		return Err(bad("segmented tensors are not supported".into()));
	}
	let dtype = dtype_from_onnx(t.data_type).ok_or_else(|| {
		bad(format!("element type {} is not supported (F32, I64, I32, U8, I8, Bool)", t.data_type))
	})?;
	let shape = t
		.dims
		.iter()
		.map(|&d| u32::try_from(d).map_err(|_| bad(format!("dimension {d}"))))
		.collect::<Result<Vec<u32>>>()?;
	let data = if !t.raw_data.is_empty() {
		t.raw_data.clone()
	} else {
		match dtype {
			DType::F32 => t.float_data.iter().flat_map(|v| v.to_le_bytes()).collect(),
			DType::I64 => t.int64_data.iter().flat_map(|v| v.to_le_bytes()).collect(),
			DType::I32 => t.int32_data.iter().flat_map(|v| v.to_le_bytes()).collect(),
			DType::U8 | DType::I8 | DType::Bool => t.int32_data.iter().map(|&v| v as u8).collect(),
		}
	};
	Tensor::new(dtype, shape, data)
}

fn input_spec(vi: &ValueInfoProto, options: &CompileOptions) -> Result<TensorSpec> {
	let bad = |detail: String| CanonError::Unsupported {
		node: format!("graph input {}", vi.name),
		op: "ValueInfo".into(),
		detail,
	};
	let Some(type_proto::Value::TensorType(tt)) = vi.r#type.as_ref().and_then(|t| t.value.as_ref())
	else {
		return Err(bad("only tensor inputs are supported".into()));
	};
	let dtype = dtype_from_onnx(tt.elem_type)
		.ok_or_else(|| bad(format!("element type {} is not supported", tt.elem_type)))?;
	if let Some(shape) = options.input_shapes.get(&vi.name) {
		return Ok(TensorSpec { dtype, shape: shape.clone() });
	}
	let dims =
		tt.shape.as_ref().ok_or_else(|| bad("no shape; pass one in CompileOptions".into()))?;
	let shape = dims
		.dim
		.iter()
		.map(|d| match d.value {
			Some(dimension::Value::DimValue(v)) if v > 0 => {
				u32::try_from(v).map_err(|_| bad(format!("dimension {v}")))
			},
			_ => options.symbolic_dim.ok_or_else(|| {
				bad("symbolic dimension; pass concrete input shapes in CompileOptions".into())
			}),
		})
		.collect::<Result<Vec<u32>>>()?;
	Ok(TensorSpec { dtype, shape })
}

fn default_opset(model: &ModelProto) -> Result<i64> {
	let mut v = None;
	for o in &model.opset_import {
		match o.domain.as_str() {
			"" | "ai.onnx" => v = Some(o.version),
			_ => {},
		}
	}
	// Models without opset_import are IR v1/v2; their semantics are those of opset 1.
	Ok(v.unwrap_or(1))
}

/// Compiles a decoded model.
pub fn compile_model(model: &ModelProto, options: &CompileOptions) -> Result<Compiled> {
	let graph = model.graph.as_ref().ok_or(CanonError::Graph { detail: "no graph".into() })?;
	if !graph.sparse_initializer.is_empty() {
		return Err(CanonError::Unsupported {
			node: graph.name.clone(),
			op: "Graph".into(),
			detail: "sparse initializers".into(),
		});
	}
	let opset = default_opset(model)?;
	let limits = options.limits;
	let mut vals: HashMap<String, Val> = HashMap::new();
	for init in &graph.initializer {
		let t = tensor_from_proto(init)?;
		limits.check_tensor(&t)?;
		vals.insert(init.name.clone(), Val::Const(std::rc::Rc::new(t)));
	}
	let mut program = Program { inputs: vec![], constants: vec![], nodes: vec![], outputs: vec![] };
	let mut input_names = vec![];
	for (name, t) in &options.frozen_inputs {
		if !graph.input.iter().any(|vi| &vi.name == name) {
			return Err(CanonError::Graph {
				detail: format!("frozen input `{name}` is not a graph input"),
			});
		}
		limits.check_tensor(t)?;
		vals.insert(name.clone(), Val::Const(std::rc::Rc::new(t.clone())));
	}
	for vi in &graph.input {
		if vals.contains_key(&vi.name) {
			continue;
		}
		let spec = input_spec(vi, options)?;
		limits.check_shape(&spec.shape)?;
		vals.insert(vi.name.clone(), Val::Input(program.inputs.len() as u32));
		program.inputs.push(spec);
		input_names.push(vi.name.clone());
	}
	let specs = program.inputs.clone();
	let order = live_topological_order(graph)?;
	let mut const_index: HashMap<*const Tensor, u32> = HashMap::new();
	let mut const_keep: Vec<std::rc::Rc<Tensor>> = vec![];
	for &ni in &order {
		let node = &graph.node[ni];
		if !(node.domain.is_empty() || node.domain == "ai.onnx") {
			return Err(unsupported(node, format!("operator domain `{}`", node.domain)));
		}
		let inputs: Vec<Option<&Val>> = node
			.input
			.iter()
			.map(|name| {
				if name.is_empty() {
					Ok(None)
				} else {
					vals.get(name).map(Some).ok_or_else(|| CanonError::Graph {
						detail: format!(
							"node `{}` reads undefined value `{name}`",
							node_label(node)
						),
					})
				}
			})
			.collect::<Result<_>>()?;
		let metas: Vec<Option<Meta>> = inputs
			.iter()
			.map(|v| {
				v.map(|v| match v {
					Val::Input(i) => {
						let s = &specs[*i as usize];
						Meta { dtype: s.dtype, shape: &s.shape, value: None }
					},
					Val::Node(_, d, s) => Meta { dtype: *d, shape: s, value: None },
					Val::Const(t) => Meta::of(t),
				})
			})
			.collect();
		let used = |i: usize| node.output.get(i).is_some_and(|n| !n.is_empty());
		let lowered = lower::lower(node, opset, &metas, &used)?;
		let mut results: Vec<(String, Val)> = vec![];
		for (out_i, l) in lowered {
			let Some(out_name) = node.output.get(out_i).filter(|n| !n.is_empty()) else { continue };
			let val = match l {
				lower::Lowered::Alias(i) => inputs
					.get(i)
					.copied()
					.flatten()
					.cloned()
					.ok_or_else(|| unsupported(node, "missing input"))?,
				lower::Lowered::Const(t) => {
					limits.check_tensor(&t)?;
					Val::Const(std::rc::Rc::new(t))
				},
				lower::Lowered::Op(op, args) => {
					let arg_vals: Vec<&Val> = args
						.iter()
						.map(|&i| {
							inputs
								.get(i)
								.copied()
								.flatten()
								.ok_or_else(|| unsupported(node, format!("input {i} missing")))
						})
						.collect::<Result<_>>()?;
					let arg_metas: Vec<Meta> =
						args.iter().filter_map(|&i| metas.get(i).copied().flatten()).collect();
					let all_const = arg_vals.iter().all(|v| matches!(v, Val::Const(_)));
					if all_const {
						let ts: Vec<&Tensor> = arg_vals
							.iter()
							.filter_map(|v| if let Val::Const(t) = v { Some(&**t) } else { None })
							.collect();
						let t = execute_op(&op, &ts, &limits).map_err(|e| node_error(node, e))?;
						Val::Const(std::rc::Rc::new(t))
					} else {
						let (dtype, shape) =
							infer(&op, &arg_metas).map_err(|e| node_error(node, e))?;
						limits.check_shape(&shape)?;
						let refs = arg_vals
							.iter()
							.map(|v| match v {
								Val::Input(i) => Ref::Input(*i),
								Val::Node(j, ..) => Ref::Node(*j),
								Val::Const(t) => {
									let key = std::rc::Rc::as_ptr(t);
									let idx = *const_index.entry(key).or_insert_with(|| {
										const_keep.push(t.clone());
										program.constants.push((**t).clone());
										(program.constants.len() - 1) as u32
									});
									Ref::Const(idx)
								},
							})
							.collect();
						program.nodes.push(Node { op, inputs: refs });
						Val::Node((program.nodes.len() - 1) as u32, dtype, shape)
					}
				},
			};
			results.push((out_name.clone(), val));
		}
		for (name, v) in results {
			vals.insert(name, v);
		}
	}
	let mut output_names = vec![];
	for vi in &graph.output {
		let v = vals.get(&vi.name).ok_or_else(|| CanonError::Graph {
			detail: format!("graph output `{}` is never produced", vi.name),
		})?;
		let r = match v {
			Val::Input(i) => Ref::Input(*i),
			Val::Node(j, ..) => Ref::Node(*j),
			Val::Const(t) => {
				program.constants.push((**t).clone());
				let c = (program.constants.len() - 1) as u32;
				program.nodes.push(Node { op: Op::Identity, inputs: vec![Ref::Const(c)] });
				Ref::Node((program.nodes.len() - 1) as u32)
			},
		};
		program.outputs.push(r);
		output_names.push(vi.name.clone());
	}
	program.move_outputs_to_tail();
	program.validate(&limits)?;
	Ok(Compiled { program, input_names, output_names })
}

fn node_error(node: &NodeProto, e: CanonError) -> CanonError {
	match e {
		CanonError::LimitExceeded { .. } | CanonError::Unsupported { .. } => e,
		other => unsupported(node, other.to_string()),
	}
}

/// Indices of the nodes some graph output depends on, in a topological order that keeps the
/// file's order where it can. A cycle or two producers of one name is an error.
fn live_topological_order(graph: &onnx::GraphProto) -> Result<Vec<usize>> {
	let mut producer: HashMap<&str, usize> = HashMap::new();
	for (i, n) in graph.node.iter().enumerate() {
		for o in n.output.iter().filter(|o| !o.is_empty()) {
			if producer.insert(o.as_str(), i).is_some() {
				return Err(CanonError::Graph { detail: format!("value `{o}` is produced twice") });
			}
		}
	}
	// Live set: walk back from the outputs.
	let mut live = vec![false; graph.node.len()];
	let mut stack: Vec<&str> = graph.output.iter().map(|o| o.name.as_str()).collect();
	let mut seen: HashSet<&str> = HashSet::new();
	while let Some(name) = stack.pop() {
		if !seen.insert(name) {
			continue;
		}
		if let Some(&p) = producer.get(name) {
			live[p] = true;
			stack.extend(graph.node[p].input.iter().filter(|s| !s.is_empty()).map(String::as_str));
		}
	}
	// Kahn's algorithm over live nodes, lowest index first.
	let mut indeg = vec![0usize; graph.node.len()];
	let mut users: Vec<Vec<usize>> = vec![vec![]; graph.node.len()];
	for (i, n) in graph.node.iter().enumerate().filter(|(i, _)| live[*i]) {
		for inp in n.input.iter().filter(|s| !s.is_empty()) {
			if let Some(&p) = producer.get(inp.as_str()) {
				indeg[i] += 1;
				users[p].push(i);
			}
		}
	}
	let mut ready: std::collections::BTreeSet<usize> =
		(0..graph.node.len()).filter(|&i| live[i] && indeg[i] == 0).collect();
	let mut order = vec![];
	while let Some(i) = ready.pop_first() {
		order.push(i);
		for &u in &users[i] {
			indeg[u] -= 1;
			if indeg[u] == 0 {
				ready.insert(u);
			}
		}
	}
	let live_count = live.iter().filter(|&&l| l).count();
	if order.len() != live_count {
		let stuck = (0..graph.node.len()).find(|&i| live[i] && indeg[i] > 0).unwrap_or(0);
		return Err(CanonError::Graph {
			detail: format!(
				"the graph has a cycle through node `{}`",
				node_label(&graph.node[stuck])
			),
		});
	}
	Ok(order)
}
