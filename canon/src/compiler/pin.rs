//! Pinning an ONNX file's input shapes: fixed values for its symbolic dimensions. The result is
//! the same model with static shapes, so its canonical program (and `program_root`) is a
//! function of the file alone, as the chain needs.
//!
//! The file is rewritten at the protobuf level: only the graph's `input` entries that are
//! pinned change; every other byte is kept as it is (weights, nodes, metadata, functions,
//! fields this crate does not decode).
//!
//! Inputs are not bound to values here (as `CompileOptions::frozen_inputs` does): ONNX Runtime
//! 1.31.1 crashes (SIGSEGV, at session creation with graph optimisations on) on Silero VAD v6
//! with its `sr` input made an initializer, and validators run ONNX Runtime on every
//! registered file.

use std::collections::HashMap;

use prost::Message;

use super::onnx::{dimension, type_proto, Dimension, TensorShapeProto, ValueInfoProto};
use crate::error::{CanonError, Result};

fn bad(detail: impl Into<String>) -> CanonError {
	CanonError::Decode { detail: detail.into() }
}

fn read_varint(b: &[u8], pos: &mut usize) -> Result<u64> {
	let mut v = 0u64;
	for shift in (0..64).step_by(7) {
		let byte = *b.get(*pos).ok_or_else(|| bad("truncated varint"))?;
		*pos += 1;
		v |= ((byte & 0x7f) as u64) << shift;
		if byte < 0x80 {
			return Ok(v);
		}
	}
	Err(bad("varint longer than 10 bytes"))
}

fn write_varint(mut v: u64, out: &mut Vec<u8>) {
	while v >= 0x80 {
		out.push((v as u8) | 0x80);
		v >>= 7;
	}
	out.push(v as u8);
}

/// One top-level field of a message: its number, wire type, the whole encoded field, and
/// (length-delimited fields) the payload.
struct Field<'a> {
	number: u64,
	wire: u64,
	raw: &'a [u8],
	payload: &'a [u8],
}

fn fields(b: &[u8]) -> Result<Vec<Field<'_>>> {
	let mut out = Vec::new();
	let mut pos = 0;
	while pos < b.len() {
		let start = pos;
		let key = read_varint(b, &mut pos)?;
		let (number, wire) = (key >> 3, key & 7);
		let (body, end) = match wire {
			0 => {
				read_varint(b, &mut pos)?;
				(pos, pos)
			},
			1 => (pos, pos + 8),
			5 => (pos, pos + 4),
			2 => {
				let len = usize::try_from(read_varint(b, &mut pos)?).map_err(|_| bad("length"))?;
				(pos, pos.checked_add(len).ok_or_else(|| bad("length"))?)
			},
			w => return Err(bad(format!("unsupported wire type {w}"))),
		};
		if end > b.len() {
			return Err(bad("truncated field"));
		}
		out.push(Field { number, wire, raw: &b[start..end], payload: &b[body..end] });
		pos = end;
	}
	Ok(out)
}

fn push_message(number: u64, payload: &[u8], out: &mut Vec<u8>) {
	write_varint((number << 3) | 2, out);
	write_varint(payload.len() as u64, out);
	out.extend_from_slice(payload);
}

/// The ONNX `TensorProto.DataType` of a dtype.
pub fn dtype_to_onnx(dtype: crate::tensor::DType) -> i32 {
	use super::onnx::data_type as dt;
	use crate::tensor::DType;
	match dtype {
		DType::F32 => dt::FLOAT,
		DType::I64 => dt::INT64,
		DType::I32 => dt::INT32,
		DType::U8 => dt::UINT8,
		DType::I8 => dt::INT8,
		DType::Bool => dt::BOOL,
	}
}

/// Rewrites `model` with the graph inputs in `shapes` given those shapes (every dimension
/// fixed; a dimension the file already fixes must agree, and so must the rank).
pub fn pin_inputs(model: &[u8], shapes: &HashMap<String, Vec<u32>>) -> Result<Vec<u8>> {
	let mut out = Vec::with_capacity(model.len() + 64);
	let mut graphs = 0;
	for f in fields(model)? {
		if f.number == 7 && f.wire == 2 {
			graphs += 1;
			push_message(7, &pin_graph(f.payload, shapes)?, &mut out);
		} else {
			out.extend_from_slice(f.raw);
		}
	}
	if graphs != 1 {
		return Err(CanonError::Graph { detail: format!("{graphs} graphs in the model") });
	}
	Ok(out)
}

fn pin_graph(graph: &[u8], shapes: &HashMap<String, Vec<u32>>) -> Result<Vec<u8>> {
	let mut out = Vec::with_capacity(graph.len() + 64);
	let mut seen: Vec<&str> = Vec::new();
	for f in fields(graph)? {
		if !(f.number == 11 && f.wire == 2) {
			out.extend_from_slice(f.raw);
			continue;
		}
		let mut vi = ValueInfoProto::decode(f.payload).map_err(|e| bad(e.to_string()))?;
		let Some(type_proto::Value::TensorType(tt)) =
			vi.r#type.as_mut().and_then(|t| t.value.as_mut())
		else {
			out.extend_from_slice(f.raw);
			continue;
		};
		let declared: Vec<Option<i64>> = tt.shape.as_ref().map_or(Vec::new(), |s| {
			s.dim
				.iter()
				.map(|d| match d.value {
					Some(dimension::Value::DimValue(v)) if v > 0 => Some(v),
					_ => None,
				})
				.collect()
		});
		let fits = |name: &str, shape: &[u32]| -> Result<()> {
			let ok = tt.shape.is_none()
				|| (declared.len() == shape.len()
					&& declared.iter().zip(shape).all(|(d, &s)| d.is_none_or(|d| d == s as i64)));
			if ok {
				return Ok(());
			}
			let dims: Vec<String> =
				declared.iter().map(|d| d.map_or("?".into(), |d| d.to_string())).collect();
			Err(CanonError::Shape {
				op: "Pin",
				detail: format!(
					"input `{name}` is declared [{}]; {shape:?} does not fit it",
					dims.join(", ")
				),
			})
		};
		if let Some(shape) = shapes.get(&vi.name) {
			fits(&vi.name, shape)?;
			tt.shape = Some(TensorShapeProto {
				dim: shape
					.iter()
					.map(|&d| Dimension { value: Some(dimension::Value::DimValue(d as i64)) })
					.collect(),
			});
			push_message(11, &vi.encode_to_vec(), &mut out);
			seen.push(shapes.get_key_value(&vi.name).map(|(k, _)| k.as_str()).unwrap_or(""));
		} else {
			out.extend_from_slice(f.raw);
		}
	}
	for name in shapes.keys() {
		if !seen.contains(&name.as_str()) {
			return Err(CanonError::Graph { detail: format!("`{name}` is not a graph input") });
		}
	}
	Ok(out)
}

/// The declared input dims of every graph input that is not an initializer, by name, in
/// graph order (`None`: a symbolic or unknown dimension; no shape at all gives an empty list).
pub fn declared_inputs(model: &[u8]) -> Result<Vec<(String, Vec<Option<u32>>)>> {
	let model = super::onnx::ModelProto::decode(model).map_err(|e| bad(e.to_string()))?;
	let graph = model.graph.ok_or(CanonError::Graph { detail: "no graph".into() })?;
	let inits: Vec<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
	Ok(graph
		.input
		.iter()
		.filter(|vi| !inits.contains(&vi.name.as_str()))
		.map(|vi| {
			let dims = match vi.r#type.as_ref().and_then(|t| t.value.as_ref()) {
				Some(type_proto::Value::TensorType(tt)) => tt.shape.as_ref().map_or(vec![], |s| {
					s.dim
						.iter()
						.map(|d| match d.value {
							Some(dimension::Value::DimValue(v)) if v > 0 => u32::try_from(v).ok(),
							_ => None,
						})
						.collect()
				}),
				_ => vec![],
			};
			(vi.name.clone(), dims)
		})
		.collect())
}
