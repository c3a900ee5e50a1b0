//! Model inputs from files and requests, checked against the model's registered specs.
//!
//! Three formats (`docs/device-operators.md`):
//! - **`.npy`** (NumPy, little-endian, C order): one file per graph input, in graph order;
//!   dtypes `<f4`, `<i8`, `<i4`, `|u1`, `|i1`, `|b1`.
//! - **`.json`**: a tensor `{"dtype": "F32", "shape": [1, 16], "data": [..]}` or a list of them
//!   (one per graph input); `data` row-major numbers (`true`/`false` or 0/1 for `Bool`).
//! - **`.scale`**: the SCALE encoding of `Vec<Tensor>`, exactly the claim payload the chain
//!   stores (`docs/claim-format.md`).

use std::path::Path;

use edgeproof_canon::{DType, Tensor};

use crate::error::{Error, Result};

/// What a model expects of one graph input or output (from its registration).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
	pub name: String,
	pub dtype: DType,
	pub shape: Vec<u32>,
	pub dynamic_batch: bool,
}

impl Spec {
	/// Does `tensor` fit (the batch axis from 1 to the declared size if dynamic)?
	pub fn accepts(&self, tensor: &Tensor) -> bool {
		tensor.dtype == self.dtype
			&& tensor.shape.len() == self.shape.len()
			&& tensor.shape.iter().zip(&self.shape).enumerate().all(|(axis, (&got, &declared))| {
				if axis == 0 && self.dynamic_batch {
					(1..=declared).contains(&got)
				} else {
					got == declared
				}
			})
	}
}

/// Checks `tensors` against `specs`: count, dtype, shape and data length.
pub fn check(tensors: &[Tensor], specs: &[Spec]) -> Result<()> {
	if tensors.len() != specs.len() {
		return Err(Error::Input(format!(
			"the model takes {} input(s), got {}",
			specs.len(),
			tensors.len()
		)));
	}
	for (i, (t, spec)) in tensors.iter().zip(specs).enumerate() {
		if !spec.accepts(t) {
			return Err(Error::Input(format!(
				"input {i} ({}): the model takes {:?} {:?}, got {:?} {:?}",
				spec.name, spec.dtype, spec.shape, t.dtype, t.shape
			)));
		}
		t.validate().map_err(|e| Error::Input(format!("input {i} ({}): {e}", spec.name)))?;
	}
	Ok(())
}

/// Reads the model input from `files`: several `.npy` files, or one `.json` or `.scale` file.
pub fn read_inputs(files: &[impl AsRef<Path>]) -> Result<Vec<Tensor>> {
	let ext = |p: &Path| p.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
	let mut out = Vec::new();
	for file in files {
		let file = file.as_ref();
		let shown = file.display();
		let bytes =
			std::fs::read(file).map_err(|e| Error::Input(format!("input file {shown}: {e}")))?;
		let in_file = |e: Error| Error::Input(format!("input file {shown}: {e}"));
		match ext(file).as_str() {
			"npy" => out.push(parse_npy(&bytes).map_err(in_file)?),
			"json" => {
				let text = std::str::from_utf8(&bytes)
					.map_err(|_| Error::Input(format!("input file {shown}: not UTF-8")))?;
				out.extend(parse_json(text).map_err(in_file)?);
			},
			"scale" | "bin" => {
				out.extend(pallet_attestations::decode_tensors(&bytes).ok_or_else(|| {
					Error::Input(format!("input file {shown}: not a SCALE-encoded Vec<Tensor>"))
				})?)
			},
			other => {
				return Err(Error::Input(format!(
					"input file {shown}: unknown format {other:?} (use .npy, .json or .scale)"
				)))
			},
		}
	}
	Ok(out)
}

/// Parses a `.npy` file (versions 1 to 3).
pub fn parse_npy(bytes: &[u8]) -> Result<Tensor> {
	let bad = |what: &str| Error::Input(format!("not a supported .npy file: {what}"));
	if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
		return Err(bad("no NUMPY magic"));
	}
	let (header_len, start): (usize, usize) = match bytes[6] {
		1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
		2 | 3 if bytes.len() >= 12 => {
			(u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12)
		},
		_ => return Err(bad("unknown version")),
	};
	let header = bytes
		.get(start..start.saturating_add(header_len))
		.and_then(|h| std::str::from_utf8(h).ok())
		.ok_or_else(|| bad("truncated header"))?;
	let value = |key: &str| -> Option<&str> {
		let at = header.find(&format!("'{key}'"))? + key.len() + 2;
		let rest = header[at..].trim_start().strip_prefix(':')?.trim_start();
		Some(rest)
	};
	let descr = value("descr")
		.and_then(|r| r.strip_prefix('\''))
		.and_then(|r| r.split('\'').next())
		.ok_or_else(|| bad("no descr"))?;
	let dtype = match descr {
		"<f4" => DType::F32,
		"<i8" => DType::I64,
		"<i4" => DType::I32,
		"|u1" | "<u1" => DType::U8,
		"|i1" | "<i1" => DType::I8,
		"|b1" => DType::Bool,
		other => return Err(bad(&format!("dtype {other} (use <f4, <i8, <i4, |u1, |i1 or |b1)"))),
	};
	if value("fortran_order").is_some_and(|r| r.starts_with("True")) {
		return Err(bad("Fortran order (save a C-contiguous array)"));
	}
	let shape_text = value("shape")
		.and_then(|r| r.strip_prefix('('))
		.and_then(|r| r.split(')').next())
		.ok_or_else(|| bad("no shape"))?;
	let shape = shape_text
		.split(',')
		.map(str::trim)
		.filter(|d| !d.is_empty())
		.map(|d| d.parse::<u32>().map_err(|_| bad("shape")))
		.collect::<Result<Vec<_>>>()?;
	let data = bytes[start + header_len..].to_vec();
	let tensor = Tensor { dtype, shape, data };
	tensor.validate().map_err(|e| bad(&e.to_string()))?;
	Ok(tensor)
}

/// Parses one tensor object or a list of them.
pub fn parse_json(text: &str) -> Result<Vec<Tensor>> {
	let value: serde_json::Value =
		serde_json::from_str(text).map_err(|e| Error::Input(format!("not JSON: {e}")))?;
	match value {
		serde_json::Value::Array(items) => items.iter().map(tensor_from_json).collect(),
		item => Ok(vec![tensor_from_json(&item)?]),
	}
}

fn tensor_from_json(value: &serde_json::Value) -> Result<Tensor> {
	let bad = |what: &str| Error::Input(format!("a tensor must be {{dtype, shape, data}}: {what}"));
	let dtype = match value.get("dtype").and_then(|d| d.as_str()) {
		Some("F32") => DType::F32,
		Some("I64") => DType::I64,
		Some("I32") => DType::I32,
		Some("U8") => DType::U8,
		Some("I8") => DType::I8,
		Some("Bool") => DType::Bool,
		_ => return Err(bad("dtype is one of F32, I64, I32, U8, I8, Bool")),
	};
	let shape = value
		.get("shape")
		.and_then(|s| s.as_array())
		.ok_or_else(|| bad("no shape"))?
		.iter()
		.map(|d| d.as_u64().and_then(|d| u32::try_from(d).ok()).ok_or_else(|| bad("shape")))
		.collect::<Result<Vec<u32>>>()?;
	let items = value.get("data").and_then(|d| d.as_array()).ok_or_else(|| bad("no data"))?;
	let mut data = Vec::with_capacity(items.len() * dtype.size());
	for item in items {
		let out_of_range = || bad(&format!("{item} is not a {dtype:?} value"));
		match dtype {
			DType::F32 => {
				let x = item.as_f64().ok_or_else(out_of_range)?;
				data.extend_from_slice(&(x as f32).to_le_bytes());
			},
			DType::I64 => {
				data.extend_from_slice(&item.as_i64().ok_or_else(out_of_range)?.to_le_bytes())
			},
			DType::I32 => {
				let x =
					item.as_i64().and_then(|x| i32::try_from(x).ok()).ok_or_else(out_of_range)?;
				data.extend_from_slice(&x.to_le_bytes());
			},
			DType::U8 => {
				let x =
					item.as_u64().and_then(|x| u8::try_from(x).ok()).ok_or_else(out_of_range)?;
				data.push(x);
			},
			DType::I8 => {
				let x =
					item.as_i64().and_then(|x| i8::try_from(x).ok()).ok_or_else(out_of_range)?;
				data.extend_from_slice(&x.to_le_bytes());
			},
			DType::Bool => {
				let x = match item {
					serde_json::Value::Bool(b) => *b,
					n => match n.as_u64() {
						Some(0) => false,
						Some(1) => true,
						_ => return Err(out_of_range()),
					},
				};
				data.push(x as u8);
			},
		}
	}
	let tensor = Tensor { dtype, shape, data };
	tensor.validate().map_err(|e| bad(&e.to_string()))?;
	Ok(tensor)
}

/// A tensor as JSON (the format [`parse_json`] reads).
pub fn to_json(t: &Tensor) -> serde_json::Value {
	let chunks = t.data.chunks_exact(t.dtype.size());
	let data: Vec<serde_json::Value> = match t.dtype {
		DType::F32 => chunks
			.map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
			.map(|x| {
				serde_json::Number::from_f64(x as f64).map_or(serde_json::Value::Null, Into::into)
			})
			.collect(),
		DType::I64 => chunks
			.map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]).into())
			.collect(),
		DType::I32 => chunks.map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]).into()).collect(),
		DType::U8 => chunks.map(|c| c[0].into()).collect(),
		DType::I8 => chunks.map(|c| (c[0] as i8).into()).collect(),
		DType::Bool => chunks.map(|c| (c[0] != 0).into()).collect(),
	};
	serde_json::json!({ "dtype": format!("{:?}", t.dtype), "shape": t.shape, "data": data })
}

#[cfg(test)]
mod tests {
	use super::*;

	fn npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
		npy_with(descr, shape, false, data)
	}

	fn npy_with(descr: &str, shape: &str, fortran: bool, data: &[u8]) -> Vec<u8> {
		let order = if fortran { "True" } else { "False" };
		let mut header =
			format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape}, }}");
		while (10 + header.len() + 1) % 64 != 0 {
			header.push(' ');
		}
		header.push('\n');
		let mut out = b"\x93NUMPY\x01\x00".to_vec();
		out.extend_from_slice(&(header.len() as u16).to_le_bytes());
		out.extend_from_slice(header.as_bytes());
		out.extend_from_slice(data);
		out
	}

	fn f32s(xs: &[f32]) -> Vec<u8> {
		xs.iter().flat_map(|x| x.to_le_bytes()).collect()
	}

	#[test]
	fn npy_files_are_read_as_numpy_writes_them() {
		let t = parse_npy(&npy("<f4", "(1, 3)", &f32s(&[1.0, -2.5, 3.0]))).unwrap();
		assert_eq!(
			t,
			Tensor { dtype: DType::F32, shape: vec![1, 3], data: f32s(&[1.0, -2.5, 3.0]) }
		);
		let t = parse_npy(&npy("<i8", "(2,)", &[1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]))
			.unwrap();
		assert_eq!((t.dtype, t.shape), (DType::I64, vec![2]));
		let scalar = parse_npy(&npy("|u1", "()", &[7])).unwrap();
		assert_eq!((scalar.shape.len(), scalar.data), (0, vec![7]));
	}

	#[test]
	fn unsupported_npy_files_are_refused() {
		let err = |bytes: &[u8]| parse_npy(bytes).unwrap_err().to_string();
		assert!(err(&npy(">f4", "(1,)", &f32s(&[1.0]))).contains("dtype >f4"));
		assert!(err(&npy("<f8", "(1,)", &[0; 8])).contains("dtype <f8"));
		assert!(err(&npy("<f4", "(1, 3)", &f32s(&[1.0]))).contains("not a supported"));
		assert!(err(b"PK\x03\x04 not numpy").contains("magic"));
		let fortran = npy_with("<f4", "(1,)", true, &f32s(&[1.0]));
		assert!(err(&fortran).contains("Fortran"));
	}

	#[test]
	fn json_tensors_round_trip() {
		let t = Tensor { dtype: DType::F32, shape: vec![1, 2], data: f32s(&[0.5, -1.0]) };
		let text = serde_json::to_string(&to_json(&t)).unwrap();
		assert_eq!(parse_json(&text).unwrap(), vec![t.clone()]);
		assert_eq!(parse_json(&format!("[{text},{text}]")).unwrap(), vec![t.clone(), t]);
		let b = parse_json(r#"{"dtype":"Bool","shape":[3],"data":[true,0,1]}"#).unwrap();
		assert_eq!(b[0].data, vec![1, 0, 1]);
	}

	#[test]
	fn bad_json_tensors_are_refused() {
		for text in [
			r#"{"dtype":"F64","shape":[1],"data":[1]}"#,
			r#"{"dtype":"F32","shape":[2],"data":[1]}"#,
			r#"{"dtype":"U8","shape":[1],"data":[300]}"#,
			r#"{"dtype":"F32","data":[1]}"#,
			"not json",
		] {
			assert!(parse_json(text).is_err(), "{text}");
		}
	}

	#[test]
	fn inputs_are_checked_against_the_specs() {
		let spec =
			Spec { name: "x".into(), dtype: DType::F32, shape: vec![1, 2], dynamic_batch: false };
		let good = Tensor { dtype: DType::F32, shape: vec![1, 2], data: f32s(&[1.0, 2.0]) };
		check(&[good.clone()], &[spec.clone()]).unwrap();
		let wrong_shape = Tensor { shape: vec![2, 1], ..good.clone() };
		let err = check(&[wrong_shape], &[spec.clone()]).unwrap_err().to_string();
		assert!(err.contains("input 0 (x)") && err.contains("[1, 2]"), "{err}");
		let wrong_dtype = Tensor { dtype: DType::I32, ..good.clone() };
		assert!(check(&[wrong_dtype], &[spec.clone()]).is_err());
		assert!(check(&[good.clone(), good], &[spec]).unwrap_err().to_string().contains("1 input"));
	}
}
