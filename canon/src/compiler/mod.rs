//! ONNX to [`Program`] (feature `std`).
//!
//! Steps: decode the protobuf ([`onnx`]); turn initializers into constants (graph inputs that are
//! also initializers are constants); give every graph input a concrete shape (symbolic dims from
//! [`CompileOptions`]); drop nodes no output depends on; order the rest topologically (a cycle is
//! an error); lower each node ([`lower`]) into an alias, a constant or one canonical operator
//! per used output (`Shape` and `Size` become constants: shapes are static); fold every operator
//! whose inputs are all constant by running the executor at compile time (this evaluates shape
//! subgraphs such as Shape/Gather/Concat/Reshape); infer
//! every output's dtype and shape with [`crate::ops::infer`]; run each LSTM or GRU once when
//! several of its outputs are read ([`share_recurrent`]); fuse runs of elementwise nodes (and
//! the convolution before them) whose intermediate values nothing else reads into
//! [`Op::Fused`] nodes ([`fuse_elementwise`]);
//! make the outputs the last nodes
//! (the tail rule, [`Program::move_outputs_to_tail`]); check the limits.

mod fuse;
mod share;
pub use fuse::fuse_elementwise;
pub use share::share_recurrent;
mod lower;
pub mod onnx;
pub mod pin;

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
	/// Keep every elementwise node as its own node (no [`Op::Fused`] nodes): only for
	/// comparing a program with its fused form. The chain compiles with fusion.
	pub unfused: bool,
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

fn malformed(node: &NodeProto, detail: impl Into<String>) -> CanonError {
	CanonError::Malformed {
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

/// The name of an ONNX `TensorProto.DataType` value, for errors.
pub fn onnx_type_name(data_type: i32) -> String {
	const NAMES: [&str; 24] = [
		"UNDEFINED",
		"FLOAT",
		"UINT8",
		"INT8",
		"UINT16",
		"INT16",
		"INT32",
		"INT64",
		"STRING",
		"BOOL",
		"FLOAT16",
		"DOUBLE",
		"UINT32",
		"UINT64",
		"COMPLEX64",
		"COMPLEX128",
		"BFLOAT16",
		"FLOAT8E4M3FN",
		"FLOAT8E4M3FNUZ",
		"FLOAT8E5M2",
		"FLOAT8E5M2FNUZ",
		"UINT4",
		"INT4",
		"FLOAT4E2M1",
	];
	match usize::try_from(data_type).ok().and_then(|i| NAMES.get(i)) {
		Some(name) => name.to_string(),
		None => format!("type {data_type}"),
	}
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
		bad(format!(
			"element type {} is not supported (FLOAT, INT64, INT32, UINT8, INT8, BOOL)",
			onnx_type_name(t.data_type)
		))
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
	let dtype = dtype_from_onnx(tt.elem_type).ok_or_else(|| {
		bad(format!("element type {} is not supported", onnx_type_name(tt.elem_type)))
	})?;
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
	let mut builder = Builder {
		specs: program.inputs.clone(),
		program,
		const_index: HashMap::new(),
		const_keep: vec![],
		limits,
		opset,
		depth: 0,
	};
	builder.lower_graph(graph, &mut vals)?;
	let mut program = builder.program;
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
	share::share_recurrent(&mut program)?;
	if !options.unfused {
		fuse::fuse_elementwise(&mut program, &limits)?;
	}
	program.move_outputs_to_tail();
	program.validate(&limits)?;
	Ok(Compiled { program, input_names, output_names })
}

/// An operator's error while the compiler infers a node's shape or folds it, named by the node:
/// a dtype the operator does not take (ONNX's type constraints are wider than canon's dtypes)
/// or what the operator reports as not implemented is `Unsupported`; anything else the
/// operator refuses (a shape contradiction, an attribute out of range) is `Malformed`.
fn node_error(node: &NodeProto, e: CanonError) -> CanonError {
	match e {
		CanonError::LimitExceeded { .. } | CanonError::Malformed { .. } => e,
		CanonError::Unsupported { node: n, detail, .. } if n.is_empty() => {
			unsupported(node, detail)
		},
		CanonError::Unsupported { .. } => e,
		CanonError::DType { input, found, .. } => {
			unsupported(node, format!("input {input} has dtype {found:?}"))
		},
		other => malformed(node, other.to_string()),
	}
}

/// How deep `If` branches may nest.
const MAX_SUBGRAPH_DEPTH: usize = 16;

/// The program being built while lowering a graph and its subgraphs.
struct Builder {
	program: Program,
	specs: Vec<TensorSpec>,
	/// Constants already in the program, by the address of their shared value.
	const_index: HashMap<*const Tensor, u32>,
	/// Keeps those values alive (so their addresses stay unique).
	const_keep: Vec<std::rc::Rc<Tensor>>,
	limits: Limits,
	opset: i64,
	depth: usize,
}

impl Builder {
	fn meta<'v>(&'v self, v: &'v Val) -> Meta<'v> {
		match v {
			Val::Input(i) => {
				let s = &self.specs[*i as usize];
				Meta { dtype: s.dtype, shape: &s.shape, value: None }
			},
			Val::Node(_, d, s) => Meta { dtype: *d, shape: s, value: None },
			Val::Const(t) => Meta::of(t),
		}
	}

	/// Lowers the live nodes of `graph` in topological order, adding their outputs to `vals`
	/// (which holds the graph's inputs and initializers and, for a subgraph, the outer scope).
	fn lower_graph(
		&mut self,
		graph: &onnx::GraphProto,
		vals: &mut HashMap<String, Val>,
	) -> Result<()> {
		for &ni in &live_topological_order(graph)? {
			self.lower_node(&graph.node[ni], vals)?;
		}
		Ok(())
	}

	fn lower_node(&mut self, node: &NodeProto, vals: &mut HashMap<String, Val>) -> Result<()> {
		if !(node.domain.is_empty() || node.domain == "ai.onnx") {
			return Err(unsupported(node, format!("operator domain `{}`", node.domain)));
		}
		let inputs: Vec<Option<Val>> = node
			.input
			.iter()
			.map(|name| {
				if name.is_empty() {
					Ok(None)
				} else {
					vals.get(name).cloned().map(Some).ok_or_else(|| CanonError::Graph {
						detail: format!(
							"node `{}` reads undefined value `{name}`",
							node_label(node)
						),
					})
				}
			})
			.collect::<Result<_>>()?;
		if node.op_type == "If" {
			let results = self.lower_if(node, &inputs, vals)?;
			for (name, v) in node.output.iter().zip(results) {
				if !name.is_empty() {
					vals.insert(name.clone(), v);
				}
			}
			return Ok(());
		}
		let metas: Vec<Option<Meta>> =
			inputs.iter().map(|v| v.as_ref().map(|v| self.meta(v))).collect();
		let used = |i: usize| node.output.get(i).is_some_and(|n| !n.is_empty());
		let lowered = lower::lower(node, self.opset, &metas, &used)?;
		drop(metas);
		let mut results: Vec<(String, Val)> = vec![];
		for (out_i, l) in lowered {
			let Some(out_name) = node.output.get(out_i).filter(|n| !n.is_empty()) else { continue };
			let val = match l {
				lower::Lowered::Alias(i) => inputs
					.get(i)
					.cloned()
					.flatten()
					.ok_or_else(|| unsupported(node, "missing input"))?,
				lower::Lowered::Const(t) => {
					self.limits.check_tensor(&t)?;
					Val::Const(std::rc::Rc::new(t))
				},
				lower::Lowered::Op(op, args) => {
					let args = args.into_iter().map(lower::Arg::Input).collect();
					self.apply(node, op, args, &inputs)?
				},
				lower::Lowered::OpArgs(op, args) => self.apply(node, op, args, &inputs)?,
			};
			results.push((out_name.clone(), val));
		}
		for (name, v) in results {
			vals.insert(name, v);
		}
		Ok(())
	}

	/// `op` applied to lowered arguments (node inputs and supplied constants).
	fn apply(
		&mut self,
		node: &NodeProto,
		op: Op,
		args: Vec<lower::Arg>,
		inputs: &[Option<Val>],
	) -> Result<Val> {
		let vals = args
			.into_iter()
			.map(|arg| match arg {
				lower::Arg::Input(i) => inputs
					.get(i)
					.cloned()
					.flatten()
					.ok_or_else(|| unsupported(node, format!("input {i} missing"))),
				lower::Arg::Const(t) => {
					self.limits.check_tensor(&t)?;
					Ok(Val::Const(std::rc::Rc::new(t)))
				},
			})
			.collect::<Result<Vec<_>>>()?;
		self.push_op(node, op, &vals)
	}

	/// `op` applied to `args`: folded to a constant when every argument is constant, else a
	/// new node whose output shape is inferred.
	fn push_op(&mut self, node: &NodeProto, op: Op, args: &[Val]) -> Result<Val> {
		if args.iter().all(|v| matches!(v, Val::Const(_))) {
			let ts: Vec<&Tensor> = args
				.iter()
				.filter_map(|v| if let Val::Const(t) = v { Some(&**t) } else { None })
				.collect();
			let t = execute_op(&op, &ts, &self.limits).map_err(|e| node_error(node, e))?;
			return Ok(Val::Const(std::rc::Rc::new(t)));
		}
		let metas: Vec<Meta> = args.iter().map(|v| self.meta(v)).collect();
		let (dtype, shape) = infer(&op, &metas).map_err(|e| node_error(node, e))?;
		drop(metas);
		self.limits.check_shape(&shape)?;
		let refs = args
			.iter()
			.map(|v| match v {
				Val::Input(i) => Ref::Input(*i),
				Val::Node(j, ..) => Ref::Node(*j),
				Val::Const(t) => {
					let key = std::rc::Rc::as_ptr(t);
					let program = &mut self.program;
					let keep = &mut self.const_keep;
					let idx = *self.const_index.entry(key).or_insert_with(|| {
						keep.push(t.clone());
						program.constants.push((**t).clone());
						(program.constants.len() - 1) as u32
					});
					Ref::Const(idx)
				},
			})
			.collect();
		self.program.nodes.push(Node { op, inputs: refs });
		Ok(Val::Node((self.program.nodes.len() - 1) as u32, dtype, shape))
	}

	/// `If`: a condition that folds to a constant inlines the taken branch; a condition that
	/// depends on the input values runs both branches and selects each output with `Where`
	/// (so both branches must be runnable and their outputs must broadcast together).
	fn lower_if(
		&mut self,
		node: &NodeProto,
		inputs: &[Option<Val>],
		vals: &HashMap<String, Val>,
	) -> Result<Vec<Val>> {
		if self.depth >= MAX_SUBGRAPH_DEPTH {
			return Err(unsupported(node, format!("If nested deeper than {MAX_SUBGRAPH_DEPTH}")));
		}
		let cond = inputs
			.first()
			.cloned()
			.flatten()
			.ok_or_else(|| unsupported(node, "input `cond` is required"))?;
		let branch = |name: &str| {
			node.attribute.iter().find(|a| a.name == name).and_then(|a| a.g.as_deref()).ok_or_else(
				|| unsupported(node, format!("attribute `{name}` (a graph) is required")),
			)
		};
		let (then_g, else_g) = (branch("then_branch")?, branch("else_branch")?);
		if then_g.output.len() != node.output.len() || else_g.output.len() != node.output.len() {
			return Err(CanonError::Graph {
				detail: format!(
					"If `{}`: branch outputs do not match its outputs",
					node_label(node)
				),
			});
		}
		let taken = match &cond {
			Val::Const(t) => {
				let v = t.int_values().map_err(|_| unsupported(node, "`cond` must be Bool"))?;
				match v.as_slice() {
					[c] => Some(*c != 0),
					_ => return Err(unsupported(node, "`cond` must have one element")),
				}
			},
			_ => None,
		};
		self.depth += 1;
		let result = match taken {
			Some(c) => self.lower_branch(if c { then_g } else { else_g }, vals),
			None => {
				let then_out = self.lower_branch(then_g, vals);
				let else_out = self.lower_branch(else_g, vals);
				match (then_out, else_out) {
					(Ok(t), Ok(e)) => t
						.into_iter()
						.zip(e)
						.map(|(t, e)| self.push_op(node, Op::Where, &[cond.clone(), t, e]))
						.collect(),
					(Err(e), _) | (_, Err(e)) => Err(e),
				}
			},
		};
		self.depth -= 1;
		result
	}

	/// Lowers a branch in a copy of the enclosing scope; returns its outputs.
	fn lower_branch(
		&mut self,
		g: &onnx::GraphProto,
		outer: &HashMap<String, Val>,
	) -> Result<Vec<Val>> {
		let mut scope = outer.clone();
		for init in &g.initializer {
			let t = tensor_from_proto(init)?;
			self.limits.check_tensor(&t)?;
			scope.insert(init.name.clone(), Val::Const(std::rc::Rc::new(t)));
		}
		self.lower_graph(g, &mut scope)?;
		g.output
			.iter()
			.map(|o| {
				scope.get(&o.name).cloned().ok_or_else(|| CanonError::Graph {
					detail: format!("branch output `{}` is never produced", o.name),
				})
			})
			.collect()
	}
}

/// Names a node reads from an enclosing scope through its subgraphs (If's branches): the
/// values its branches use but neither produce nor declare.
fn implicit_inputs(node: &NodeProto) -> Vec<String> {
	let mut out = vec![];
	for g in node.attribute.iter().filter_map(|a| a.g.as_deref()) {
		let mut local: HashSet<&str> = HashSet::new();
		local.extend(g.initializer.iter().map(|t| t.name.as_str()));
		local.extend(g.input.iter().map(|v| v.name.as_str()));
		local.extend(g.node.iter().flat_map(|n| n.output.iter().map(String::as_str)));
		for n in &g.node {
			let reads = n.input.iter().cloned().chain(implicit_inputs(n));
			for name in reads {
				if !name.is_empty() && !local.contains(name.as_str()) {
					out.push(name);
				}
			}
		}
	}
	out
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
	// What each node reads: its inputs and what its subgraphs read from this scope.
	let reads: Vec<Vec<String>> = graph
		.node
		.iter()
		.map(|n| n.input.iter().cloned().chain(implicit_inputs(n)).collect())
		.collect();
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
			stack.extend(reads[p].iter().filter(|s| !s.is_empty()).map(String::as_str));
		}
	}
	// Kahn's algorithm over live nodes, lowest index first.
	let mut indeg = vec![0usize; graph.node.len()];
	let mut users: Vec<Vec<usize>> = vec![vec![]; graph.node.len()];
	for i in (0..graph.node.len()).filter(|&i| live[i]) {
		for inp in reads[i].iter().filter(|s| !s.is_empty()) {
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
