//! A verified result's outputs saved to a file, every output under its declared name: `.json`
//! (`{"NAME": {"dtype", "shape", "values"}, ...}`, which `gateless job submit --input` and the
//! polkadot.js and Python scripts read back as inputs) or `.npz` (one array per name, for
//! `np.load`).

use std::path::Path;

use anyhow::{anyhow, bail, ensure, Context, Result};
use gateless_rpc::types;
use serde_json::Value;

use crate::npz;

/// Writes `tensors` to `path`, in the format its extension names.
pub fn save(path: &Path, tensors: &[types::Tensor]) -> Result<()> {
	let named = tensors.iter().enumerate().map(|(position, tensor)| {
		(tensor.name.clone().unwrap_or_else(|| format!("output_{position}")), tensor)
	});
	let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_lowercase();
	let bytes = match extension.as_str() {
		"json" => {
			let object: serde_json::Map<String, Value> = named
				.map(|(name, tensor)| {
					let tensor = serde_json::json!({
						"dtype": tensor.dtype, "shape": tensor.shape, "values": tensor.values,
					});
					(name, tensor)
				})
				.collect();
			serde_json::to_vec(&Value::Object(object))?
		},
		"npz" => {
			let arrays = named
				.map(|(name, tensor)| {
					let npy = to_npy(tensor).with_context(|| format!("output `{name}`"))?;
					Ok((name, npy))
				})
				.collect::<Result<Vec<_>>>()?;
			npz::write(&arrays)?
		},
		other => bail!("unknown output format `.{other}`: use .json or .npz"),
	};
	std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// A `.npy` file (format 1.0) of a tensor's values.
pub fn to_npy(tensor: &types::Tensor) -> Result<Vec<u8>> {
	let descr = match tensor.dtype.as_str() {
		"f32" => "<f4",
		"f64" => "<f8",
		"i8" => "|i1",
		"i16" => "<i2",
		"i32" => "<i4",
		"i64" => "<i8",
		"u8" => "|u1",
		"u16" => "<u2",
		"u32" => "<u4",
		"u64" => "<u8",
		"bool" => "|b1",
		other => bail!("{other} outputs cannot be saved as .npy; save them as .json"),
	};
	let count: u64 = tensor.shape.iter().map(|&size| u64::from(size)).product();
	ensure!(count == tensor.values.len() as u64, "the shape does not match the values");
	let dims: Vec<String> = tensor.shape.iter().map(ToString::to_string).collect();
	let shape = match dims.as_slice() {
		[one] => format!("({one},)"),
		dims => format!("({})", dims.join(", ")),
	};
	let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
	// Magic, version and length take 10 bytes; the header ends in a newline and pads the whole
	// preamble to a multiple of 64 bytes.
	let padded = (10 + header.len() + 1).div_ceil(64) * 64;
	header.push_str(&" ".repeat(padded - 10 - header.len() - 1));
	header.push('\n');
	let mut npy = b"\x93NUMPY\x01\x00".to_vec();
	npy.extend_from_slice(&u16::try_from(header.len())?.to_le_bytes());
	npy.extend_from_slice(header.as_bytes());
	for value in &tensor.values {
		let float = || value.as_f64().ok_or_else(|| anyhow!("{value} is not a number"));
		let signed = || value.as_i64().ok_or_else(|| anyhow!("{value} is not an integer"));
		let unsigned = || value.as_u64().ok_or_else(|| anyhow!("{value} is not an integer"));
		match tensor.dtype.as_str() {
			"f32" => npy.extend((float()? as f32).to_le_bytes()),
			"f64" => npy.extend(float()?.to_le_bytes()),
			"i8" => npy.extend(i8::try_from(signed()?)?.to_le_bytes()),
			"i16" => npy.extend(i16::try_from(signed()?)?.to_le_bytes()),
			"i32" => npy.extend(i32::try_from(signed()?)?.to_le_bytes()),
			"i64" => npy.extend(signed()?.to_le_bytes()),
			"u8" => npy.extend(u8::try_from(unsigned()?)?.to_le_bytes()),
			"u16" => npy.extend(u16::try_from(unsigned()?)?.to_le_bytes()),
			"u32" => npy.extend(u32::try_from(unsigned()?)?.to_le_bytes()),
			"u64" => npy.extend(unsigned()?.to_le_bytes()),
			_ => {
				npy.push(u8::from(value.as_bool().ok_or_else(|| anyhow!("{value} is not a bool"))?))
			},
		}
	}
	Ok(npy)
}

#[cfg(test)]
mod tests {
	use super::*;
	use serde_json::json;

	fn tensor(name: &str, dtype: &str, shape: &[u32], values: Vec<Value>) -> types::Tensor {
		types::Tensor {
			name: Some(name.into()),
			dtype: dtype.into(),
			shape: shape.to_vec(),
			values,
			content: None,
		}
	}

	#[test]
	fn outputs_saved_as_npz_read_back_as_named_inputs() {
		let dir = tempfile::tempdir().unwrap();
		let outputs = [
			tensor("y", "f32", &[2, 1], vec![json!(0.5), json!(-1.25)]),
			tensor("label", "i64", &[2], vec![json!(3), json!(-9_000_000_000i64)]),
			tensor("flag", "bool", &[], vec![json!(true)]),
		];
		let path = dir.path().join("out.npz");
		save(&path, &outputs).unwrap();
		let arrays = npz::read(&std::fs::read(&path).unwrap()).unwrap();
		let names: Vec<&str> = arrays.iter().map(|(name, _)| name.as_str()).collect();
		assert_eq!(names, ["y", "label", "flag"]);
		// Each array's preamble is a multiple of 64 bytes, as NumPy writes and expects it.
		for (_, npy) in &arrays {
			let header_len = u16::from_le_bytes([npy[8], npy[9]]) as usize;
			assert_eq!((10 + header_len) % 64, 0);
		}
		// The input reader takes them back by name, bit for bit.
		let specs: Vec<types::TensorSpec> = outputs
			.iter()
			.map(|output| types::TensorSpec {
				name: output.name.clone().unwrap(),
				dtype: output.dtype.clone(),
				shape: output
					.shape
					.iter()
					.map(|size| Some(types::Dimension::Fixed(*size)))
					.collect(),
			})
			.collect();
		let image = crate::input::ImageOptions { scale: 1.0, invert: false };
		let read = crate::input::read_all(&[path.display().to_string()], &specs, image).unwrap();
		assert_eq!(read[0].data, [0.5f32.to_le_bytes(), (-1.25f32).to_le_bytes()].concat());
		assert_eq!(read[1].data, [3i64.to_le_bytes(), (-9_000_000_000i64).to_le_bytes()].concat());
		assert_eq!((read[2].shape.clone(), read[2].data.clone()), (vec![], vec![1]));
	}

	#[test]
	fn outputs_saved_as_json_name_each_tensor() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("out.json");
		save(&path, &[tensor("y", "f32", &[1], vec![json!(0.25)])]).unwrap();
		let saved: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
		assert_eq!(saved, json!({"y": {"dtype": "f32", "shape": [1], "values": [0.25]}}));
		assert!(save(&dir.path().join("out.csv"), &[]).is_err());
	}
}
