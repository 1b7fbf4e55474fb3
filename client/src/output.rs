//! A verified result's outputs saved to a file, every output under its declared name: `.json`
//! (`{"NAME": {"dtype", "shape", "values"}, ...}`, which `gateless job submit --input` and the
//! polkadot.js and Python scripts read back as inputs), `.npz` (one array per name, for
//! `np.load`) or, for a model with one output, `.npy`.

use std::path::Path;

use anyhow::{bail, ensure, Context, Result};
use gateless_rpc::convert::values_json;
use serde_json::Value;

use crate::npz;

/// One output with its bytes, as `gateless_output` gives them.
#[derive(Clone, Debug, PartialEq)]
pub struct SavedTensor {
	/// The declared name (`output_N` when the model has since been removed).
	pub name: String,
	pub dtype: String,
	pub shape: Vec<u32>,
	/// Row-major, little-endian.
	pub bytes: Vec<u8>,
}

/// Writes `tensors` to `path`, in the format its extension names: `.json`, `.npz`, or `.npy` for
/// a model with a single output.
pub fn save(path: &Path, tensors: &[SavedTensor]) -> Result<()> {
	let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_lowercase();
	let bytes = match extension.as_str() {
		"json" => {
			let object = tensors
				.iter()
				.map(|tensor| {
					let dtype = gateless_primitives::model::DType::from_name(&tensor.dtype)
						.with_context(|| format!("output `{}`: unknown dtype", tensor.name))?;
					let tensor_json = serde_json::json!({
						"dtype": tensor.dtype, "shape": tensor.shape,
						"values": values_json(dtype, &tensor.bytes),
					});
					Ok((tensor.name.clone(), tensor_json))
				})
				.collect::<Result<serde_json::Map<String, Value>>>()?;
			serde_json::to_vec(&Value::Object(object))?
		},
		"npz" => {
			let arrays = tensors
				.iter()
				.map(|tensor| {
					let npy =
						to_npy(tensor).with_context(|| format!("output `{}`", tensor.name))?;
					Ok((tensor.name.clone(), npy))
				})
				.collect::<Result<Vec<_>>>()?;
			npz::write(&arrays)?
		},
		"npy" => match tensors {
			[tensor] => to_npy(tensor)?,
			_ => bail!("the model has {} outputs: save them as .npz or .json", tensors.len()),
		},
		other => bail!("unknown output format `.{other}`: use .json, .npz or .npy"),
	};
	std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// A `.npy` file (format 1.0) of a tensor.
pub fn to_npy(tensor: &SavedTensor) -> Result<Vec<u8>> {
	let (descr, width) = match tensor.dtype.as_str() {
		"f32" => ("<f4", 4),
		"f64" => ("<f8", 8),
		"f16" => ("<f2", 2),
		"i8" => ("|i1", 1),
		"i16" => ("<i2", 2),
		"i32" => ("<i4", 4),
		"i64" => ("<i8", 8),
		"u8" => ("|u1", 1),
		"u16" => ("<u2", 2),
		"u32" => ("<u4", 4),
		"u64" => ("<u8", 8),
		"bool" => ("|b1", 1),
		other => bail!("{other} outputs cannot be saved as .npy; save them as .json"),
	};
	let count: u64 = tensor.shape.iter().map(|&size| u64::from(size)).product();
	ensure!(
		count.checked_mul(width) == Some(tensor.bytes.len() as u64),
		"the shape does not match the bytes"
	);
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
	// Both are little-endian and row-major: the bytes go in as they are.
	npy.extend_from_slice(&tensor.bytes);
	Ok(npy)
}

#[cfg(test)]
mod tests {
	use super::*;
	use gateless_rpc::types;
	use serde_json::json;

	fn tensor(name: &str, dtype: &str, shape: &[u32], bytes: Vec<u8>) -> SavedTensor {
		SavedTensor { name: name.into(), dtype: dtype.into(), shape: shape.to_vec(), bytes }
	}

	#[test]
	fn outputs_saved_as_npz_read_back_as_named_inputs() {
		let dir = tempfile::tempdir().unwrap();
		let outputs = [
			tensor("y", "f32", &[2, 1], [0.5f32.to_le_bytes(), (-1.25f32).to_le_bytes()].concat()),
			tensor(
				"label",
				"i64",
				&[2],
				[3i64.to_le_bytes(), (-9_000_000_000i64).to_le_bytes()].concat(),
			),
			tensor("flag", "bool", &[], vec![1]),
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
				name: output.name.clone(),
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
		save(&path, &[tensor("y", "f32", &[1], 0.25f32.to_le_bytes().to_vec())]).unwrap();
		let saved: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
		assert_eq!(saved, json!({"y": {"dtype": "f32", "shape": [1], "values": [0.25]}}));
		assert!(save(&dir.path().join("out.csv"), &[]).is_err());
	}

	#[test]
	fn a_single_output_saves_as_npy_and_a_wrong_length_is_refused() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("out.npy");
		let map = tensor("map", "f32", &[1, 2], [1f32.to_le_bytes(), 2f32.to_le_bytes()].concat());
		save(&path, std::slice::from_ref(&map)).unwrap();
		let npy = std::fs::read(&path).unwrap();
		assert!(npy.starts_with(b"\x93NUMPY"));
		assert_eq!(&npy[npy.len() - 8..], &map.bytes[..]);
		assert!(save(&path, &[map.clone(), map.clone()])
			.unwrap_err()
			.to_string()
			.contains(".npz"));
		let short = SavedTensor { bytes: vec![0; 7], ..map };
		assert!(to_npy(&short).is_err());
	}
}
