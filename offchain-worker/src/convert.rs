//! Conversion between canon [`Tensor`]s (little-endian bytes) and ONNX Runtime values, with
//! dtype and shape checks against the model's declared inputs.

use edgeproof_canon::{DType, Tensor, TensorSpec};
use edgeproof_primitives::DYNAMIC_DIM;
use ort::value::{DynValue, TensorElementType, ValueType};

use crate::error::{Error, Result};

/// A graph input or output as ONNX Runtime declares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IoSpec {
	/// The element type, `None` if it is not a v1 dtype or the value is not a tensor.
	pub dtype: Option<DType>,
	/// The ONNX type as text, for messages.
	pub onnx_type: String,
	/// Dimensions; `-1` is dynamic.
	pub shape: Vec<i64>,
}

impl IoSpec {
	pub(crate) fn from_value_type(ty: &ValueType) -> Self {
		match ty {
			ValueType::Tensor { ty, shape, .. } => Self {
				dtype: dtype_of(*ty),
				onnx_type: format!("{ty:?}"),
				shape: shape.iter().copied().collect(),
			},
			other => Self { dtype: None, onnx_type: format!("{other:?}"), shape: Vec::new() },
		}
	}

	/// The spec of a canonical program input (all dimensions static).
	pub(crate) fn from_tensor_spec(spec: &TensorSpec) -> Self {
		Self {
			dtype: Some(spec.dtype),
			onnx_type: format!("{:?}", spec.dtype),
			shape: spec.shape.iter().map(|&d| d as i64).collect(),
		}
	}

	/// As a [`TensorSpec`] (dynamic dimensions become [`DYNAMIC_DIM`]), if the dtype is v1.
	pub fn to_tensor_spec(&self) -> Option<TensorSpec> {
		Some(TensorSpec {
			dtype: self.dtype?,
			shape: self.shape.iter().map(|&d| u32::try_from(d).unwrap_or(DYNAMIC_DIM)).collect(),
		})
	}

	/// Does `shape` fit this spec (same rank, equal static dimensions)?
	fn accepts_shape(&self, shape: &[u32]) -> bool {
		self.shape.len() == shape.len()
			&& self.shape.iter().zip(shape).all(|(&want, &got)| want < 0 || want == got as i64)
	}
}

fn dtype_of(ty: TensorElementType) -> Option<DType> {
	Some(match ty {
		TensorElementType::Float32 => DType::F32,
		TensorElementType::Int64 => DType::I64,
		TensorElementType::Int32 => DType::I32,
		TensorElementType::Uint8 => DType::U8,
		TensorElementType::Int8 => DType::I8,
		TensorElementType::Bool => DType::Bool,
		_ => return None,
	})
}

/// Checks `input` against the declared inputs (count, then per tensor: well-formed, dtype,
/// shape).
pub(crate) fn check_inputs(specs: &[IoSpec], input: &[Tensor]) -> Result<()> {
	if specs.len() != input.len() {
		return Err(Error::InputCount { expected: specs.len(), found: input.len() });
	}
	for (index, (spec, t)) in specs.iter().zip(input).enumerate() {
		t.validate().map_err(|source| Error::MalformedTensor { index, source })?;
		if spec.dtype != Some(t.dtype) {
			return Err(Error::InputDType {
				index,
				expected: spec.onnx_type.clone(),
				found: t.dtype,
			});
		}
		if !spec.accepts_shape(&t.shape) {
			return Err(Error::InputShape {
				index,
				expected: spec.shape.clone(),
				found: t.shape.clone(),
			});
		}
	}
	Ok(())
}

/// An ONNX Runtime tensor holding a copy of a (checked) canon tensor.
pub(crate) fn to_ort(t: &Tensor) -> Result<DynValue> {
	let shape: Vec<i64> = t.shape.iter().map(|&d| d as i64).collect();
	fn le<const N: usize, T>(data: &[u8], f: fn([u8; N]) -> T) -> Vec<T> {
		data.chunks_exact(N)
			.map(|c| {
				let mut a = [0u8; N];
				a.copy_from_slice(c);
				f(a)
			})
			.collect()
	}
	Ok(match t.dtype {
		DType::F32 => {
			ort::value::Tensor::from_array((shape, le(&t.data, f32::from_le_bytes)))?.into_dyn()
		},
		DType::I64 => {
			ort::value::Tensor::from_array((shape, le(&t.data, i64::from_le_bytes)))?.into_dyn()
		},
		DType::I32 => {
			ort::value::Tensor::from_array((shape, le(&t.data, i32::from_le_bytes)))?.into_dyn()
		},
		DType::U8 => ort::value::Tensor::from_array((shape, t.data.clone()))?.into_dyn(),
		DType::I8 => {
			ort::value::Tensor::from_array((shape, le(&t.data, i8::from_le_bytes)))?.into_dyn()
		},
		DType::Bool => ort::value::Tensor::from_array((
			shape,
			t.data.iter().map(|&b| b != 0).collect::<Vec<bool>>(),
		))?
		.into_dyn(),
	})
}

/// A canon tensor copied out of ONNX Runtime output `index`.
pub(crate) fn from_ort(index: usize, value: &DynValue) -> Result<Tensor> {
	let unsupported = |detail: String| Error::UnsupportedOutput { index, detail };
	let ValueType::Tensor { ty, .. } = value.dtype() else {
		return Err(unsupported(format!("not a tensor: {:?}", value.dtype())));
	};
	let dtype =
		dtype_of(*ty).ok_or_else(|| unsupported(format!("element type {ty:?} is not v1")))?;
	fn bytes<T: ort::value::PrimitiveTensorElementType + Copy, const N: usize>(
		value: &DynValue,
		to_le: fn(T) -> [u8; N],
	) -> Result<(Vec<i64>, Vec<u8>)> {
		let (shape, data) = value.try_extract_tensor::<T>()?;
		Ok((shape.iter().copied().collect(), data.iter().flat_map(|&v| to_le(v)).collect()))
	}
	let (shape, data) = match dtype {
		DType::F32 => bytes(value, f32::to_le_bytes)?,
		DType::I64 => bytes(value, i64::to_le_bytes)?,
		DType::I32 => bytes(value, i32::to_le_bytes)?,
		DType::U8 => bytes(value, u8::to_le_bytes)?,
		DType::I8 => bytes(value, i8::to_le_bytes)?,
		DType::Bool => bytes(value, |b: bool| [b as u8])?,
	};
	let shape = shape
		.into_iter()
		.map(|d| u32::try_from(d).map_err(|_| unsupported(format!("dimension {d}"))))
		.collect::<Result<Vec<u32>>>()?;
	Tensor::new(dtype, shape, data).map_err(|e| unsupported(e.to_string()))
}
