//! The part of `onnx.proto` (proto2) the compiler reads, as hand-written prost messages.
//!
//! Field numbers follow onnx/onnx.proto. Fields not listed (doc strings, functions, training
//! info, lists of subgraphs...) are skipped by the decoder as unknown fields.

use prost::Message;

#[derive(Clone, PartialEq, Message)]
pub struct ModelProto {
	#[prost(int64, tag = "1")]
	pub ir_version: i64,
	#[prost(message, repeated, tag = "8")]
	pub opset_import: Vec<OperatorSetIdProto>,
	#[prost(string, tag = "2")]
	pub producer_name: String,
	#[prost(message, optional, tag = "7")]
	pub graph: Option<GraphProto>,
}

#[derive(Clone, PartialEq, Message)]
pub struct OperatorSetIdProto {
	#[prost(string, tag = "1")]
	pub domain: String,
	#[prost(int64, tag = "2")]
	pub version: i64,
}

#[derive(Clone, PartialEq, Message)]
pub struct GraphProto {
	#[prost(message, repeated, tag = "1")]
	pub node: Vec<NodeProto>,
	#[prost(string, tag = "2")]
	pub name: String,
	#[prost(message, repeated, tag = "5")]
	pub initializer: Vec<TensorProto>,
	#[prost(message, repeated, tag = "11")]
	pub input: Vec<ValueInfoProto>,
	#[prost(message, repeated, tag = "12")]
	pub output: Vec<ValueInfoProto>,
	#[prost(message, repeated, tag = "13")]
	pub value_info: Vec<ValueInfoProto>,
	/// Present only to reject models that use it.
	#[prost(bytes = "vec", repeated, tag = "15")]
	pub sparse_initializer: Vec<Vec<u8>>,
}

#[derive(Clone, PartialEq, Message)]
pub struct NodeProto {
	#[prost(string, repeated, tag = "1")]
	pub input: Vec<String>,
	#[prost(string, repeated, tag = "2")]
	pub output: Vec<String>,
	#[prost(string, tag = "3")]
	pub name: String,
	#[prost(string, tag = "4")]
	pub op_type: String,
	#[prost(message, repeated, tag = "5")]
	pub attribute: Vec<AttributeProto>,
	#[prost(string, tag = "7")]
	pub domain: String,
}

/// `AttributeProto.AttributeType`.
pub mod attribute_type {
	pub const FLOAT: i32 = 1;
	pub const INT: i32 = 2;
	pub const STRING: i32 = 3;
	pub const TENSOR: i32 = 4;
	pub const GRAPH: i32 = 5;
	pub const FLOATS: i32 = 6;
	pub const INTS: i32 = 7;
}

#[derive(Clone, PartialEq, Message)]
pub struct AttributeProto {
	#[prost(string, tag = "1")]
	pub name: String,
	#[prost(float, tag = "2")]
	pub f: f32,
	#[prost(int64, tag = "3")]
	pub i: i64,
	#[prost(bytes = "vec", tag = "4")]
	pub s: Vec<u8>,
	#[prost(message, optional, tag = "5")]
	pub t: Option<TensorProto>,
	/// A subgraph (If's branches).
	#[prost(message, optional, boxed, tag = "6")]
	pub g: Option<Box<GraphProto>>,
	#[prost(float, repeated, tag = "7")]
	pub floats: Vec<f32>,
	#[prost(int64, repeated, tag = "8")]
	pub ints: Vec<i64>,
	#[prost(bytes = "vec", repeated, tag = "9")]
	pub strings: Vec<Vec<u8>>,
	#[prost(int32, tag = "20")]
	pub r#type: i32,
	/// Set inside function bodies only; rejected.
	#[prost(string, tag = "21")]
	pub ref_attr_name: String,
}

/// `TensorProto.DataType` values the compiler maps.
pub mod data_type {
	pub const FLOAT: i32 = 1;
	pub const UINT8: i32 = 2;
	pub const INT8: i32 = 3;
	pub const INT32: i32 = 6;
	pub const INT64: i32 = 7;
	pub const BOOL: i32 = 9;
}

#[derive(Clone, PartialEq, Message)]
pub struct TensorProto {
	#[prost(int64, repeated, tag = "1")]
	pub dims: Vec<i64>,
	#[prost(int32, tag = "2")]
	pub data_type: i32,
	/// Present only to reject segmented tensors.
	#[prost(bytes = "vec", optional, tag = "3")]
	pub segment: Option<Vec<u8>>,
	#[prost(float, repeated, tag = "4")]
	pub float_data: Vec<f32>,
	#[prost(int32, repeated, tag = "5")]
	pub int32_data: Vec<i32>,
	#[prost(int64, repeated, tag = "7")]
	pub int64_data: Vec<i64>,
	#[prost(string, tag = "8")]
	pub name: String,
	#[prost(bytes = "vec", tag = "9")]
	pub raw_data: Vec<u8>,
	/// 1 = EXTERNAL (rejected).
	#[prost(int32, tag = "14")]
	pub data_location: i32,
}

#[derive(Clone, PartialEq, Message)]
pub struct ValueInfoProto {
	#[prost(string, tag = "1")]
	pub name: String,
	#[prost(message, optional, tag = "2")]
	pub r#type: Option<TypeProto>,
}

#[derive(Clone, PartialEq, Message)]
pub struct TypeProto {
	#[prost(oneof = "type_proto::Value", tags = "1, 4, 5, 8, 9")]
	pub value: Option<type_proto::Value>,
}

pub mod type_proto {
	/// Only `tensor_type` is supported; the others are kept as bytes to be rejected.
	#[derive(Clone, PartialEq, prost::Oneof)]
	pub enum Value {
		#[prost(message, tag = "1")]
		TensorType(super::TensorTypeProto),
		#[prost(bytes, tag = "4")]
		SequenceType(Vec<u8>),
		#[prost(bytes, tag = "5")]
		MapType(Vec<u8>),
		#[prost(bytes, tag = "8")]
		SparseTensorType(Vec<u8>),
		#[prost(bytes, tag = "9")]
		OptionalType(Vec<u8>),
	}
}

#[derive(Clone, PartialEq, Message)]
pub struct TensorTypeProto {
	#[prost(int32, tag = "1")]
	pub elem_type: i32,
	#[prost(message, optional, tag = "2")]
	pub shape: Option<TensorShapeProto>,
}

#[derive(Clone, PartialEq, Message)]
pub struct TensorShapeProto {
	#[prost(message, repeated, tag = "1")]
	pub dim: Vec<Dimension>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Dimension {
	#[prost(oneof = "dimension::Value", tags = "1, 2")]
	pub value: Option<dimension::Value>,
}

pub mod dimension {
	#[derive(Clone, PartialEq, prost::Oneof)]
	pub enum Value {
		#[prost(int64, tag = "1")]
		DimValue(i64),
		#[prost(string, tag = "2")]
		DimParam(String),
	}
}
