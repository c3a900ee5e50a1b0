//! The canonical program: graph inputs, constants, nodes in topological order, outputs.

use alloc::{format, string::String, vec, vec::Vec};
use codec::{Decode, DecodeWithMemTracking, Encode};
use core::ops::Range;
use scale_info::TypeInfo;

use crate::{
	error::{CanonError, Result},
	ops::{infer, node_work, Meta},
	tensor::{numel, DType, Limits, Tensor, TensorSpec},
};

/// Where a node input comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Ref {
	/// Graph input `i` (trace leaf `i`).
	#[codec(index = 0)]
	Input(u32),
	/// Constant tensor `i` of the program (not a trace leaf).
	#[codec(index = 1)]
	Const(u32),
	/// Output of node `i` (trace leaf `m + i`, m = number of graph inputs).
	#[codec(index = 2)]
	Node(u32),
}

/// ONNX `auto_pad`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum AutoPad {
	/// Use the explicit `pads`.
	#[codec(index = 0)]
	NotSet,
	/// No padding.
	#[codec(index = 1)]
	Valid,
	/// Output size `ceil(in / stride)`, the extra pad (if odd) at the end.
	#[codec(index = 2)]
	SameUpper,
	/// Output size `ceil(in / stride)`, the extra pad (if odd) at the beginning.
	#[codec(index = 3)]
	SameLower,
}

/// Spatial attributes of a 1-D or 2-D convolution or pooling window.
///
/// `kernel`, `strides`, `dilations` have one entry per spatial axis; `pads` has two per axis,
/// ONNX order `[begin_0, begin_1, ..., end_0, end_1, ...]`.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct Window {
	pub kernel: Vec<u32>,
	pub strides: Vec<u32>,
	pub dilations: Vec<u32>,
	pub pads: Vec<u32>,
	pub auto_pad: AutoPad,
	/// Pooling only: output size rounded up instead of down.
	pub ceil_mode: bool,
}

/// Operators of the canonical executor, each with its attributes (defaults already applied).
///
/// Float attributes are stored as their IEEE-754 bit patterns (`u32`) so the encoding is exact.
/// The SCALE index of each variant is fixed forever (it is part of `program_root`).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Op {
	// Elementwise, multidirectional broadcasting.
	#[codec(index = 0)]
	Add,
	#[codec(index = 1)]
	Sub,
	#[codec(index = 2)]
	Mul,
	#[codec(index = 3)]
	Div,
	#[codec(index = 4)]
	Pow,
	/// Variadic sum, folded left to right: `((x0 + x1) + x2) + ...`.
	#[codec(index = 5)]
	Sum,
	/// Variadic elementwise maximum, folded left to right (NaN propagates).
	#[codec(index = 6)]
	Max,
	/// Variadic elementwise minimum, folded left to right (NaN propagates).
	#[codec(index = 7)]
	Min,
	/// Remainder. `fmod`: the sign of the dividend (C `fmod`, required for F32); otherwise the
	/// sign of the divisor (integers only).
	#[codec(index = 8)]
	Mod { fmod: bool },
	// Unary.
	#[codec(index = 10)]
	Relu,
	#[codec(index = 11)]
	LeakyRelu { alpha: u32 },
	#[codec(index = 12)]
	Sigmoid,
	#[codec(index = 13)]
	Tanh,
	#[codec(index = 14)]
	Exp,
	#[codec(index = 15)]
	Log,
	#[codec(index = 16)]
	Sqrt,
	#[codec(index = 17)]
	Neg,
	#[codec(index = 18)]
	Abs,
	#[codec(index = 19)]
	Erf,
	#[codec(index = 20)]
	Reciprocal,
	#[codec(index = 21)]
	Floor,
	#[codec(index = 22)]
	Ceil,
	/// Clamp to `[min, max]` (bit patterns; `None` = unbounded).
	#[codec(index = 23)]
	Clip { min: Option<u32>, max: Option<u32> },
	#[codec(index = 24)]
	Identity,
	/// Elementwise conversion.
	#[codec(index = 25)]
	Cast { to: crate::tensor::DType },
	/// `max(0, min(1, alpha * x + beta))` (bit patterns).
	#[codec(index = 26)]
	HardSigmoid { alpha: u32, beta: u32 },
	/// `x * max(0, min(1, x / 6 + 0.5))`, with `1 / 6` rounded to f32 once.
	#[codec(index = 27)]
	HardSwish,
	/// `(0.5 * x) * (1 + erff(x * (1 / sqrt 2)))`, or with `tanh` the approximation
	/// `(0.5 * x) * (1 + tanhf(sqrt(2 / pi) * (x + 0.044715 * (x * x * x))))`.
	#[codec(index = 28)]
	Gelu { tanh: bool },
	/// Round half to even (`libm::rintf`).
	#[codec(index = 29)]
	Round,
	// Linear algebra.
	/// `alpha * A' * B' + beta * C`.
	#[codec(index = 30)]
	Gemm { alpha: u32, beta: u32, trans_a: bool, trans_b: bool },
	/// numpy `matmul`.
	#[codec(index = 31)]
	MatMul,
	/// Inputs X, W, optional B (NCHW / OIHW, or 1-D NCL).
	#[codec(index = 32)]
	Conv { window: Window, group: u32 },
	#[codec(index = 33)]
	MaxPool { window: Window },
	#[codec(index = 34)]
	AveragePool { window: Window, count_include_pad: bool },
	#[codec(index = 35)]
	GlobalAveragePool,
	#[codec(index = 36)]
	GlobalMaxPool,
	/// Inference form: inputs X, scale, B, mean, var.
	#[codec(index = 37)]
	BatchNormalization { epsilon: u32 },
	/// Local response normalisation across channels.
	#[codec(index = 38)]
	Lrn { size: u32, alpha: u32, beta: u32, bias: u32 },
	/// `legacy = true`: opset < 13 semantics (coerce to 2-D at `axis`, normalise each row);
	/// `false`: opset >= 13 (normalise along `axis` only).
	#[codec(index = 40)]
	Softmax { axis: i32, legacy: bool },
	#[codec(index = 41)]
	LogSoftmax { axis: i32, legacy: bool },
	/// Mean over `axes` (empty = all axes).
	#[codec(index = 42)]
	ReduceMean { axes: Vec<i32>, keepdims: bool },
	#[codec(index = 43)]
	ReduceSum { axes: Vec<i32>, keepdims: bool },
	#[codec(index = 44)]
	ReduceMax { axes: Vec<i32>, keepdims: bool },
	/// Inputs X, Scale, optional B; normalises over the axes from `axis` on. `output` picks
	/// ONNX's output: 0 = Y, 1 = Mean, 2 = InvStdDev (the last two shaped as X with the
	/// normalised axes of size 1).
	#[codec(index = 45)]
	LayerNormalization { axis: i32, epsilon: u32, output: u8 },
	/// I64 index of the largest element along `axis` (NaN counts as largest).
	#[codec(index = 46)]
	ArgMax { axis: i32, keepdims: bool, select_last: bool },
	#[codec(index = 47)]
	ArgMin { axis: i32, keepdims: bool, select_last: bool },
	/// The `k` largest (or smallest) elements along `axis`, sorted, ties by ascending index:
	/// their values, or with `indices` their I64 indices (ONNX's two outputs, one node each).
	#[codec(index = 48)]
	TopK { axis: i32, k: u32, largest: bool, indices: bool },
	// Shape manipulation.
	#[codec(index = 50)]
	Flatten { axis: i32 },
	/// Inputs data and an I64 shape.
	#[codec(index = 51)]
	Reshape { allowzero: bool },
	/// Empty `perm` = reverse the axes.
	#[codec(index = 52)]
	Transpose { perm: Vec<u32> },
	#[codec(index = 53)]
	Concat { axis: i32 },
	/// Empty `axes` = every axis of size 1.
	#[codec(index = 54)]
	Squeeze { axes: Vec<i32> },
	#[codec(index = 55)]
	Unsqueeze { axes: Vec<i32> },
	/// Inputs data and integer indices.
	#[codec(index = 56)]
	Gather { axis: i32 },
	/// I64 shape of the input, `[start, end)` slice of it (`end = None`: to the end).
	#[codec(index = 57)]
	Shape { start: i32, end: Option<i32> },
	/// Input: I64 shape; output filled with `value` (a one-element tensor).
	#[codec(index = 58)]
	ConstantOfShape { value: Tensor },
	/// Static slice: one entry per sliced axis (ONNX clamping rules).
	#[codec(index = 59)]
	Slice { starts: Vec<i64>, ends: Vec<i64>, axes: Vec<i32>, steps: Vec<i64> },
	/// Constant-mode padding; `pads` is `[begin_0.., end_0..]` over all axes, may be negative.
	#[codec(index = 60)]
	Pad { pads: Vec<i64>, value: u32 },
	/// Inputs data and an I64 shape, bidirectional broadcasting.
	#[codec(index = 61)]
	Expand,
	/// Resizes an F32 tensor to `sizes` (one entry per axis). `scales` (bit patterns, one per
	/// axis) are the scales of the coordinate transformation: the ONNX `scales` input, or
	/// `sizes[i] / input[i]` in f32 when the model gave sizes.
	#[codec(index = 62)]
	Resize {
		mode: ResizeMode,
		coordinates: CoordinateTransform,
		nearest: NearestMode,
		scales: Vec<u32>,
		sizes: Vec<u32>,
	},
	/// Inputs X, W (C x M/group x kernel), optional B. `window.pads` are explicit (the compiler
	/// resolves `auto_pad` and `output_shape`); `output_padding` has one entry per spatial axis
	/// (empty = zeros).
	#[codec(index = 63)]
	ConvTranspose { window: Window, group: u32, output_padding: Vec<u32> },
	// Comparisons and logic (Bool outputs, broadcasting).
	#[codec(index = 64)]
	Equal,
	#[codec(index = 65)]
	Less,
	#[codec(index = 66)]
	Greater,
	#[codec(index = 67)]
	LessOrEqual,
	#[codec(index = 68)]
	GreaterOrEqual,
	#[codec(index = 69)]
	Not,
	#[codec(index = 70)]
	And,
	#[codec(index = 71)]
	Or,
	#[codec(index = 72)]
	Xor,
	/// Inputs condition (Bool), X, Y: `condition ? X : Y` with three-way broadcasting.
	#[codec(index = 73)]
	Where,
	/// Edge-mode padding (the nearest element); `pads` as in [`Op::Pad`].
	#[codec(index = 74)]
	PadEdge { pads: Vec<i64> },
	/// Reflect-mode padding (mirrored about the first and last element, which are not
	/// repeated); `pads` as in [`Op::Pad`].
	#[codec(index = 75)]
	PadReflect { pads: Vec<i64> },
	/// Inputs data and integer indices of the same rank: `out[i] = data[i with axis -> idx[i]]`.
	#[codec(index = 76)]
	GatherElements { axis: i32 },
	/// Keeps the upper (`j - i >= k`) or lower (`j - i <= k`) triangle of the last two axes,
	/// zeros elsewhere.
	#[codec(index = 77)]
	Trilu { upper: bool, k: i64 },
	// More reductions, as ReduceSum (see `ops::norm` for their orders).
	#[codec(index = 78)]
	ReduceMin { axes: Vec<i32>, keepdims: bool },
	#[codec(index = 79)]
	ReduceProd { axes: Vec<i32>, keepdims: bool },
	#[codec(index = 80)]
	ReduceSumSquare { axes: Vec<i32>, keepdims: bool },
	#[codec(index = 81)]
	ReduceL1 { axes: Vec<i32>, keepdims: bool },
	#[codec(index = 82)]
	ReduceL2 { axes: Vec<i32>, keepdims: bool },
	#[codec(index = 83)]
	ReduceLogSum { axes: Vec<i32>, keepdims: bool },
	/// LSTM with ONNX's default activations. Inputs X, W, R, B, initial_h, initial_c (all six;
	/// the compiler supplies zeros). `output`: 0 = Y, 1 = Y_h, 2 = Y_c, 3 = all three
	/// (`[S + 2, D, N, H]`: Y's steps, then Y_h, then Y_c).
	#[codec(index = 84)]
	Lstm { hidden: u32, direction: RnnDirection, output: u8 },
	// The int8 family (see `ops::quant` for the rounding). Zero points are always inputs (the
	// compiler supplies zeros for absent ones).
	/// Inputs x (F32), scale, zero point (U8/I8, its dtype is the output's); per tensor or
	/// along `axis`.
	#[codec(index = 85)]
	QuantizeLinear { axis: i32 },
	/// Inputs x (U8/I8/I32), scale, zero point (x's dtype); per tensor or along `axis`.
	#[codec(index = 86)]
	DequantizeLinear { axis: i32 },
	/// `output`: 0 = y (U8), 1 = y_scale, 2 = y_zero_point.
	#[codec(index = 87)]
	DynamicQuantizeLinear { output: u8 },
	/// Inputs A, B, a_zero_point, b_zero_point (per tensor); I32 output.
	#[codec(index = 88)]
	MatMulInteger,
	/// Inputs x, w, x_zero_point (per tensor), w_zero_point (per tensor or output channel).
	#[codec(index = 89)]
	ConvInteger { window: Window, group: u32 },
	/// Inputs a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point.
	#[codec(index = 90)]
	QLinearMatMul,
	/// Inputs x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point and
	/// an optional I32 bias; w's scale and zero point per tensor or output channel.
	#[codec(index = 91)]
	QLinearConv { window: Window, group: u32 },
	/// GRU with ONNX's default activations. Inputs X, W, R, B, initial_h (all five; the
	/// compiler supplies zeros). `output`: 0 = Y, 1 = Y_h, 2 = both (`[S + 1, D, N, H]`: Y's
	/// steps, then Y_h). `linear_before_reset` as in ONNX
	/// (PyTorch exports set it).
	#[codec(index = 92)]
	Gru { hidden: u32, direction: RnnDirection, output: u8, linear_before_reset: bool },
	/// Elementwise F32 operators run one after another as one node, the compiler's fusion of a
	/// run of elementwise nodes (and the Conv or ConvTranspose before them) whose intermediate
	/// values nothing else reads: each step is an F32 elementwise operator on the node's inputs
	/// and earlier steps' values (the first may be the convolution, on inputs only), every step
	/// shaped as the output, and the node's value is the last step's. Bit for bit the value the
	/// unfused nodes give (each step runs the operator's own kernel); only the intermediates
	/// are not trace leaves. See docs/canonical-executor.md, "Fused nodes".
	#[codec(index = 93)]
	Fused { steps: Vec<FusedStep> },
}

/// One step of an [`Op::Fused`] node: an elementwise F32 operator (Add, Sub, Mul, Div, Pow,
/// Max, Min with two operands; a unary operator with one; BatchNormalization with five), or as
/// the first step a Conv or ConvTranspose, and its operands in order.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct FusedStep {
	pub op: Op,
	pub args: Vec<StepArg>,
}

/// An operand of a [`FusedStep`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum StepArg {
	/// The fused node's input `i`.
	#[codec(index = 0)]
	Input(u32),
	/// The value of an earlier step `s` of the same node.
	#[codec(index = 1)]
	Step(u32),
}

/// Direction of a recurrent operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum RnnDirection {
	#[codec(index = 0)]
	Forward,
	#[codec(index = 1)]
	Reverse,
	#[codec(index = 2)]
	Bidirectional,
}

/// ONNX Resize `mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum ResizeMode {
	#[codec(index = 0)]
	Nearest,
	/// Linear along every resized axis (bilinear for two).
	#[codec(index = 1)]
	Linear,
}

/// ONNX Resize `coordinate_transformation_mode`: how an output coordinate `x` maps back to the
/// input, with `scale` from [`Op::Resize`] and the axis lengths `len_in`, `len_out`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum CoordinateTransform {
	/// `(x + 0.5) / scale - 0.5`.
	#[codec(index = 0)]
	HalfPixel,
	/// As `HalfPixel`, but `0` when `len_out == 1`.
	#[codec(index = 1)]
	PytorchHalfPixel,
	/// `x * (len_in - 1) / (len_out - 1)`, `0` when `len_out == 1`.
	#[codec(index = 2)]
	AlignCorners,
	/// `x / scale`.
	#[codec(index = 3)]
	Asymmetric,
	/// `(x + 0.5) / scale`.
	#[codec(index = 4)]
	TfHalfPixelForNn,
}

/// ONNX Resize `nearest_mode`: how a mapped coordinate picks its input element.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum NearestMode {
	/// Round half down.
	#[codec(index = 0)]
	RoundPreferFloor,
	/// Round half up.
	#[codec(index = 1)]
	RoundPreferCeil,
	#[codec(index = 2)]
	Floor,
	#[codec(index = 3)]
	Ceil,
}

fn plural(steps: usize) -> String {
	format!("{steps} elementwise step{}", if steps == 1 { "" } else { "s" })
}

impl Op {
	/// The operator as a person reads it in a message: its name, or for a fused node its head
	/// and its number of elementwise steps (`Conv fused with 3 elementwise steps`).
	pub fn describe(&self) -> String {
		match self {
			Op::Fused { steps } => match steps.split_first() {
				Some((head, rest)) if crate::ops::fused::is_head(&head.op) => {
					format!("{} fused with {}", head.op.name(), plural(rest.len()))
				},
				_ => format!("{} fused", plural(steps.len())),
			},
			op => op.name().into(),
		}
	}

	/// The ONNX operator name.
	pub fn name(&self) -> &'static str {
		match self {
			Op::Add => "Add",
			Op::Sub => "Sub",
			Op::Mul => "Mul",
			Op::Div => "Div",
			Op::Pow => "Pow",
			Op::Sum => "Sum",
			Op::Max => "Max",
			Op::Min => "Min",
			Op::Mod { .. } => "Mod",
			Op::Relu => "Relu",
			Op::LeakyRelu { .. } => "LeakyRelu",
			Op::Sigmoid => "Sigmoid",
			Op::Tanh => "Tanh",
			Op::Exp => "Exp",
			Op::Log => "Log",
			Op::Sqrt => "Sqrt",
			Op::Neg => "Neg",
			Op::Abs => "Abs",
			Op::Erf => "Erf",
			Op::Reciprocal => "Reciprocal",
			Op::Floor => "Floor",
			Op::Ceil => "Ceil",
			Op::Clip { .. } => "Clip",
			Op::Identity => "Identity",
			Op::Cast { .. } => "Cast",
			Op::HardSigmoid { .. } => "HardSigmoid",
			Op::HardSwish => "HardSwish",
			Op::Gelu { .. } => "Gelu",
			Op::Round => "Round",
			Op::Gemm { .. } => "Gemm",
			Op::MatMul => "MatMul",
			Op::Conv { .. } => "Conv",
			Op::MaxPool { .. } => "MaxPool",
			Op::AveragePool { .. } => "AveragePool",
			Op::GlobalAveragePool => "GlobalAveragePool",
			Op::GlobalMaxPool => "GlobalMaxPool",
			Op::BatchNormalization { .. } => "BatchNormalization",
			Op::Lrn { .. } => "LRN",
			Op::Softmax { .. } => "Softmax",
			Op::LogSoftmax { .. } => "LogSoftmax",
			Op::ReduceMean { .. } => "ReduceMean",
			Op::ReduceSum { .. } => "ReduceSum",
			Op::ReduceMax { .. } => "ReduceMax",
			Op::LayerNormalization { .. } => "LayerNormalization",
			Op::ArgMax { .. } => "ArgMax",
			Op::ArgMin { .. } => "ArgMin",
			Op::TopK { .. } => "TopK",
			Op::ReduceMin { .. } => "ReduceMin",
			Op::ReduceProd { .. } => "ReduceProd",
			Op::ReduceSumSquare { .. } => "ReduceSumSquare",
			Op::ReduceL1 { .. } => "ReduceL1",
			Op::ReduceL2 { .. } => "ReduceL2",
			Op::ReduceLogSum { .. } => "ReduceLogSum",
			Op::Lstm { .. } => "LSTM",
			Op::Gru { .. } => "GRU",
			Op::QuantizeLinear { .. } => "QuantizeLinear",
			Op::DequantizeLinear { .. } => "DequantizeLinear",
			Op::DynamicQuantizeLinear { .. } => "DynamicQuantizeLinear",
			Op::MatMulInteger => "MatMulInteger",
			Op::ConvInteger { .. } => "ConvInteger",
			Op::QLinearMatMul => "QLinearMatMul",
			Op::QLinearConv { .. } => "QLinearConv",
			Op::Flatten { .. } => "Flatten",
			Op::Reshape { .. } => "Reshape",
			Op::Transpose { .. } => "Transpose",
			Op::Concat { .. } => "Concat",
			Op::Squeeze { .. } => "Squeeze",
			Op::Unsqueeze { .. } => "Unsqueeze",
			Op::Gather { .. } => "Gather",
			Op::Shape { .. } => "Shape",
			Op::ConstantOfShape { .. } => "ConstantOfShape",
			Op::Slice { .. } => "Slice",
			Op::Pad { .. } => "Pad",
			Op::Expand => "Expand",
			Op::Resize { .. } => "Resize",
			Op::ConvTranspose { .. } => "ConvTranspose",
			Op::Equal => "Equal",
			Op::Less => "Less",
			Op::Greater => "Greater",
			Op::LessOrEqual => "LessOrEqual",
			Op::GreaterOrEqual => "GreaterOrEqual",
			Op::Not => "Not",
			Op::And => "And",
			Op::Or => "Or",
			Op::Xor => "Xor",
			Op::Where => "Where",
			Op::PadEdge { .. } | Op::PadReflect { .. } => "Pad",
			Op::GatherElements { .. } => "GatherElements",
			Op::Trilu { .. } => "Trilu",
			Op::Fused { .. } => "Fused",
		}
	}
}

/// What one run of a program costs ([`Program::cost`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cost {
	/// The [`node_work`] of all nodes: about one unit per multiply-add or element.
	pub work: u64,
	/// Data bytes of the whole trace (the graph inputs and every node output).
	pub trace_bytes: u64,
}

/// One operator application with one output.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct Node {
	pub op: Op,
	pub inputs: Vec<Ref>,
}

/// A compiled model. Trace leaf `i < m` is graph input `i`; leaf `m + j` is node `j`'s output.
///
/// *Tail rule*: the k program outputs are the last k nodes, in order (`outputs[i]` is
/// `Ref::Node(n - k + i)`), so their trace leaves are `m + n - k .. m + n` (see
/// [`output_leaf_range`]). The chain stores only `program_root`, m, n and k, and still knows
/// which trace leaves are the outputs. The compiler establishes the rule with
/// [`Program::move_outputs_to_tail`]; [`Program::validate`] rejects a program that breaks it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct Program {
	/// Graph inputs, in ONNX graph order (initializers excluded).
	pub inputs: Vec<TensorSpec>,
	/// Constant tensors (folded initializers and constant subgraphs).
	pub constants: Vec<Tensor>,
	/// Nodes in topological order: node `j` only references inputs, constants, nodes `< j`.
	pub nodes: Vec<Node>,
	/// Program outputs in ONNX graph order: the last `outputs.len()` nodes (the tail rule).
	pub outputs: Vec<Ref>,
}

impl Program {
	/// Number of trace leaves `m + n`.
	pub fn trace_len(&self) -> usize {
		self.inputs.len() + self.nodes.len()
	}

	/// The trace leaf index of an `Input` or `Node` reference (`None` for constants).
	pub fn leaf_of(&self, r: Ref) -> Option<u32> {
		leaf_of(self.inputs.len() as u32, r)
	}

	/// The trace leaf indices of the program outputs.
	pub fn output_leaves(&self) -> Result<Vec<u32>> {
		self.outputs
			.iter()
			.map(|&r| {
				self.leaf_of(r).ok_or_else(|| CanonError::Graph {
					detail: "a program output refers to a constant".into(),
				})
			})
			.collect()
	}

	/// What one run costs, from the shapes alone. A compiled program's shapes are static (the
	/// compiler infers every node's output shape from the input specs and the constants, and
	/// refuses a shape that would depend on a graph input's values), so every run of it does
	/// this work and holds a trace of this size; the probes at activation check it against
	/// [`Limits::check_cost`] and the chain prices claims by it.
	pub fn cost(&self) -> Result<Cost> {
		let bytes = |dtype: DType, shape: &[u32]| {
			numel(shape).map(|n| (n as u64).saturating_mul(dtype.size() as u64))
		};
		let mut cost = Cost::default();
		for spec in &self.inputs {
			cost.trace_bytes = cost.trace_bytes.saturating_add(bytes(spec.dtype, &spec.shape)?);
		}
		for (dtype, shape, work) in self.node_outputs()? {
			cost.work = cost.work.saturating_add(work);
			cost.trace_bytes = cost.trace_bytes.saturating_add(bytes(dtype, &shape)?);
		}
		Ok(cost)
	}

	/// The [`node_work`] of each node, in node order (what the runtime bounds a one-step by).
	pub fn node_works(&self) -> Result<Vec<u64>> {
		Ok(self.node_outputs()?.into_iter().map(|(_, _, work)| work).collect())
	}

	/// The header (dtype, shape, byte length) of every trace leaf — the graph inputs, then the
	/// node outputs — from the shapes alone: what a leaf hash commits to besides its data.
	pub fn leaf_headers(&self) -> Result<Vec<crate::TensorHeader>> {
		let header = |dtype: DType, shape: Vec<u32>| -> Result<crate::TensorHeader> {
			let bytes = numel(&shape)?.saturating_mul(dtype.size());
			let data_len = u32::try_from(bytes).map_err(|_| CanonError::Graph {
				detail: format!("a tensor of shape {shape:?} is over 4 GiB"),
			})?;
			Ok(crate::TensorHeader { dtype, shape, data_len })
		};
		let inputs = self.inputs.iter().map(|s| header(s.dtype, s.shape.clone()));
		let nodes = self.node_outputs()?.into_iter().map(|(dtype, shape, _)| header(dtype, shape));
		inputs.chain(nodes).collect()
	}

	/// Every node's output dtype and shape, inferred from the input specs and the constants,
	/// with its work.
	pub(crate) fn node_outputs(&self) -> Result<Vec<(DType, Vec<u32>, u64)>> {
		let mut outs: Vec<(DType, Vec<u32>, u64)> = Vec::with_capacity(self.nodes.len());
		for (j, node) in self.nodes.iter().enumerate() {
			let metas = node
				.inputs
				.iter()
				.map(|&r| {
					self.ref_meta(r, &outs).ok_or_else(|| CanonError::BadRef {
						node: j as u32,
						detail: format!("{r:?} is out of range or not earlier"),
					})
				})
				.collect::<Result<Vec<_>>>()?;
			let (dtype, shape) = infer(&node.op, &metas)?;
			let work = node_work(&node.op, &metas, &shape)?;
			drop(metas);
			outs.push((dtype, shape, work));
		}
		Ok(outs)
	}

	/// The dtype and shape of what `r` refers to, node outputs taken from `outs` (as
	/// [`Program::node_outputs`] gives them); `None` if `r` is out of range.
	pub(crate) fn ref_meta<'a>(
		&'a self,
		r: Ref,
		outs: &'a [(DType, Vec<u32>, u64)],
	) -> Option<Meta<'a>> {
		match r {
			Ref::Input(i) => self.inputs.get(i as usize).map(|s| Meta {
				dtype: s.dtype,
				shape: &s.shape,
				value: None,
			}),
			Ref::Const(i) => self.constants.get(i as usize).map(Meta::of),
			Ref::Node(i) => outs.get(i as usize).map(|(dtype, shape, _)| Meta {
				dtype: *dtype,
				shape,
				value: None,
			}),
		}
	}

	/// Do the outputs follow the tail rule (`outputs[i] == Ref::Node(n - k + i)`)?
	pub fn outputs_at_tail(&self) -> bool {
		let n = self.nodes.len();
		let Some(first) = n.checked_sub(self.outputs.len()) else { return false };
		self.outputs
			.iter()
			.enumerate()
			.all(|(i, &r)| u32::try_from(first + i).is_ok_and(|j| r == Ref::Node(j)))
	}

	/// Establishes the tail rule: if the outputs are not already the last nodes in order, appends
	/// one `Op::Identity` node per output (reading the original reference) and points the
	/// outputs at them. A program already in tail form is left as it is (same `program_root`).
	pub fn move_outputs_to_tail(&mut self) {
		if self.outputs_at_tail() {
			return;
		}
		for out in self.outputs.iter_mut() {
			let j = self.nodes.len() as u32;
			self.nodes.push(Node { op: Op::Identity, inputs: vec![*out] });
			*out = Ref::Node(j);
		}
	}

	/// Structural checks: limits, constant tensors, references point strictly backwards, the
	/// outputs follow the tail rule.
	pub fn validate(&self, limits: &Limits) -> Result<()> {
		if self.nodes.len() as u64 > limits.max_nodes as u64 {
			return Err(CanonError::LimitExceeded {
				what: "program nodes",
				value: self.nodes.len() as u64,
				limit: limits.max_nodes as u64,
			});
		}
		for spec in &self.inputs {
			limits.check_shape(&spec.shape)?;
		}
		for c in &self.constants {
			limits.check_tensor(c)?;
		}
		for (j, node) in self.nodes.iter().enumerate() {
			for &r in &node.inputs {
				check_ref(r, j as u32, self.inputs.len() as u32, self.constants.len() as u32)?;
			}
		}
		for &r in &self.outputs {
			check_ref(r, self.nodes.len() as u32, self.inputs.len() as u32, 0)?;
		}
		if !self.outputs_at_tail() {
			return Err(CanonError::Graph {
				detail: format!(
					"the {} program outputs are not its last nodes in order ({:?}); see \
					 Program::move_outputs_to_tail",
					self.outputs.len(),
					self.outputs
				),
			});
		}
		Ok(())
	}
}

/// The trace leaves of the program outputs under the tail rule: `m + n - k .. m + n` for `m`
/// graph inputs, `n` nodes and `k` outputs. `None` if `k > n` (the outputs cannot all be nodes).
pub fn output_leaf_range(
	input_count: u32,
	node_count: u32,
	output_count: u32,
) -> Option<Range<u64>> {
	if output_count > node_count {
		return None;
	}
	let end = u64::from(input_count) + u64::from(node_count);
	Some(end.saturating_sub(u64::from(output_count))..end)
}

/// Trace leaf of a reference given the number of graph inputs `m`.
pub fn leaf_of(m: u32, r: Ref) -> Option<u32> {
	match r {
		Ref::Input(i) => Some(i),
		Ref::Node(j) => m.checked_add(j),
		Ref::Const(_) => None,
	}
}

fn check_ref(r: Ref, node: u32, inputs: u32, constants: u32) -> Result<()> {
	let ok = match r {
		Ref::Input(i) => i < inputs,
		Ref::Const(i) => i < constants,
		Ref::Node(i) => i < node,
	};
	if ok {
		Ok(())
	} else {
		Err(CanonError::BadRef { node, detail: format!("{r:?} is out of range or not earlier") })
	}
}
