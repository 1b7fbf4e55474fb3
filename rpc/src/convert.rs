//! Between the runtime's types (`gateless-primitives`) and the JSON shapes: for the server, and
//! for clients that read the same types elsewhere (e.g. a signature read from an ONNX file, or
//! given as JSON to register a model with).

use gateless_primitives::{
	content::ContentRef,
	job::{InferenceError, InferenceOutput, JobTensor, OutputTensor, TensorData},
	model::{self, AttestationFailure, DType, Dim},
};

use crate::types;

/// Bytes that should be UTF-8 (names, URIs) as text; invalid sequences become U+FFFD rather than an
/// error, since a name is for display only.
pub fn text(bytes: &[u8]) -> String {
	String::from_utf8_lossy(bytes).into_owned()
}

/// A JSON signature as the runtime's type: symbols by their position in `symbols`, every bound
/// checked (the chain validates the rest).
pub fn signature_from_json(signature: &types::Signature) -> Result<model::ModelSignature, String> {
	let bounded = |bytes: &str, what: &str| {
		bytes
			.as_bytes()
			.to_vec()
			.try_into()
			.map_err(|_| format!("{what} `{bytes}` is too long"))
	};
	let spec = |spec: &types::TensorSpec| -> Result<model::TensorSpec, String> {
		let shape = spec
			.shape
			.iter()
			.map(|dim| match dim {
				None => Ok(Dim::Dynamic),
				Some(types::Dimension::Fixed(size)) => Ok(Dim::Fixed(*size)),
				Some(types::Dimension::Symbol(name)) => signature
					.symbols
					.iter()
					.position(|symbol| symbol.name == *name)
					.and_then(|index| u8::try_from(index).ok())
					.map(Dim::Symbol)
					.ok_or_else(|| format!("`{}` names the undeclared symbol `{name}`", spec.name)),
			})
			.collect::<Result<Vec<_>, String>>()?;
		Ok(model::TensorSpec {
			name: bounded(&spec.name, "the tensor name")?,
			dtype: DType::from_name(&spec.dtype)
				.ok_or_else(|| format!("`{}` has the unknown dtype `{}`", spec.name, spec.dtype))?,
			shape: shape
				.try_into()
				.map_err(|_| format!("`{}` has too many dimensions", spec.name))?,
		})
	};
	let side = |specs: &[types::TensorSpec]| {
		specs
			.iter()
			.map(spec)
			.collect::<Result<Vec<_>, String>>()?
			.try_into()
			.map_err(|_| "too many tensors".to_string())
	};
	Ok(model::ModelSignature {
		inputs: side(&signature.inputs)?,
		outputs: side(&signature.outputs)?,
		symbols: signature
			.symbols
			.iter()
			.map(|symbol| {
				Ok(model::SymbolSpec {
					name: bounded(&symbol.name, "the symbol")?,
					example: symbol.example,
				})
			})
			.collect::<Result<Vec<_>, String>>()?
			.try_into()
			.map_err(|_| "too many symbols".to_string())?,
	})
}

pub fn attestation_failure_name(failure: AttestationFailure) -> &'static str {
	match failure {
		AttestationFailure::Unavailable => "unavailable",
		AttestationFailure::SizeMismatch => "sizeMismatch",
		AttestationFailure::HashMismatch => "hashMismatch",
		AttestationFailure::Malformed => "malformed",
		AttestationFailure::Unsupported => "unsupported",
		AttestationFailure::SignatureMismatch => "signatureMismatch",
		AttestationFailure::TooLarge => "tooLarge",
		AttestationFailure::ReferenceMismatch => "referenceMismatch",
	}
}

pub fn inference_error_name(error: InferenceError) -> &'static str {
	match error {
		InferenceError::ModelUnavailable => "modelUnavailable",
		InferenceError::BadModel => "badModel",
		InferenceError::SignatureMismatch => "signatureMismatch",
		InferenceError::BadInput => "badInput",
		InferenceError::NonFiniteOutput => "nonFiniteOutput",
		InferenceError::OutputTooLarge => "outputTooLarge",
		InferenceError::Timeout => "timeout",
	}
}

pub fn spec_json(spec: model::TensorSpec, symbols: &[model::SymbolSpec]) -> types::TensorSpec {
	types::TensorSpec {
		name: text(&spec.name),
		dtype: spec.dtype.name().into(),
		shape: spec
			.shape
			.iter()
			.map(|dim| match dim {
				Dim::Fixed(size) => Some(types::Dimension::Fixed(*size)),
				Dim::Dynamic => None,
				Dim::Symbol(index) => Some(types::Dimension::Symbol(
					symbols
						.get(usize::from(*index))
						.map_or_else(|| format!("?{index}"), |symbol| text(&symbol.name)),
				)),
			})
			.collect(),
	}
}

/// A signature as JSON: symbols by name.
pub fn signature_json(signature: model::ModelSignature) -> types::Signature {
	let symbols = signature.symbols.to_vec();
	types::Signature {
		inputs: signature.inputs.into_iter().map(|spec| spec_json(spec, &symbols)).collect(),
		outputs: signature.outputs.into_iter().map(|spec| spec_json(spec, &symbols)).collect(),
		symbols: symbols
			.iter()
			.map(|symbol| types::Symbol { name: text(&symbol.name), example: symbol.example })
			.collect(),
	}
}

/// Decodes an output tensor's little-endian bytes into JSON values, under its declared `name`.
pub fn tensor_json(name: Option<String>, tensor: &OutputTensor) -> types::Tensor {
	types::Tensor {
		name,
		dtype: tensor.dtype.name().into(),
		shape: tensor.shape.to_vec(),
		values: values_json(tensor.dtype, &tensor.data),
		content: None,
	}
}

/// Elements of `dtype` in little-endian `data` as JSON values.
pub fn values_json(dtype: DType, data: &[u8]) -> Vec<serde_json::Value> {
	use serde_json::Value;
	let width = dtype.size_in_bytes() as usize;
	data.chunks_exact(width)
		.map(|chunk| {
			let mut bytes = [0u8; 8];
			bytes[..width].copy_from_slice(chunk);
			let bits = u64::from_le_bytes(bytes);
			// Sign-extends the `width` low bytes.
			let signed = |bits: u64| {
				let shift = 64 - 8 * width as u32;
				((bits << shift) as i64) >> shift
			};
			match dtype {
				DType::F32 => Value::from(f64::from(f32::from_bits(bits as u32))),
				DType::F64 => Value::from(f64::from_bits(bits)),
				DType::F16 => Value::from(f16_to_f64(bits as u16)),
				DType::I8 | DType::I16 | DType::I32 | DType::I64 => Value::from(signed(bits)),
				DType::U8 | DType::U16 | DType::U32 | DType::U64 => Value::from(bits),
				DType::Bool => Value::from(bits != 0),
			}
		})
		.collect()
}

/// A tensor of a result revealed by content as JSON: its values if inline, else its content.
pub fn job_tensor_json(name: Option<String>, tensor: &JobTensor) -> types::Tensor {
	let (values, content) = match &tensor.data {
		TensorData::Inline(bytes) => (values_json(tensor.dtype, bytes), None),
		TensorData::Content(content) => (Vec::new(), Some(content_json(content))),
	};
	types::Tensor {
		name,
		dtype: tensor.dtype.name().into(),
		shape: tensor.shape.to_vec(),
		values,
		content,
	}
}

/// A content reference as JSON.
pub fn content_json(content: &ContentRef) -> types::Content {
	types::Content { hash: hex_of(content.hash.as_bytes()), len: content.len }
}

/// Bytes as `0x`-prefixed hex.
pub fn hex_of(bytes: &[u8]) -> String {
	use core::fmt::Write;
	bytes.iter().fold(String::from("0x"), |mut hex, byte| {
		let _ = write!(hex, "{byte:02x}");
		hex
	})
}

/// A revealed output as JSON, its tensors named after `outputs` (the model's declared outputs,
/// when it still exists).
pub fn output_json(
	output: InferenceOutput,
	outputs: Option<&[model::TensorSpec]>,
) -> types::Output {
	let name = |position: usize| {
		outputs
			.and_then(|specs| specs.get(position))
			.map(|spec| String::from_utf8_lossy(&spec.name).into_owned())
	};
	match output {
		InferenceOutput::Tensors(tensors) => types::Output::Tensors {
			tensors: tensors
				.iter()
				.enumerate()
				.map(|(position, tensor)| tensor_json(name(position), tensor))
				.collect(),
		},
		InferenceOutput::Content { tensors, root } => types::Output::Content {
			tensors: tensors
				.iter()
				.enumerate()
				.map(|(position, tensor)| job_tensor_json(name(position), tensor))
				.collect(),
			root: hex_of(root.as_bytes()),
		},
		InferenceOutput::Error(error) => {
			types::Output::Error { error: inference_error_name(error).into() }
		},
	}
}

/// IEEE 754 half precision to double, exactly.
fn f16_to_f64(bits: u16) -> f64 {
	let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
	let exponent = i32::from((bits >> 10) & 0x1f);
	let mantissa = f64::from(bits & 0x3ff);
	match exponent {
		0 => sign * mantissa * 2f64.powi(-24),
		0x1f if mantissa == 0.0 => sign * f64::INFINITY,
		0x1f => f64::NAN,
		_ => sign * (1.0 + mantissa / 1024.0) * 2f64.powi(exponent - 15),
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use gateless_primitives::job::Tensor;
	use serde_json::json;

	fn tensor(dtype: DType, shape: &[u32], data: Vec<u8>) -> OutputTensor {
		Tensor { dtype, shape: shape.to_vec().try_into().unwrap(), data: data.try_into().unwrap() }
	}

	fn values(tensor: types::Tensor) -> Vec<serde_json::Value> {
		tensor.values
	}

	fn tensor_json(tensor: &OutputTensor) -> types::Tensor {
		super::tensor_json(None, tensor)
	}

	#[test]
	fn tensors_decode_from_little_endian_bytes_per_dtype() {
		let floats: Vec<u8> = [1.5f32, -0.25].iter().flat_map(|v| v.to_le_bytes()).collect();
		let output = tensor_json(&tensor(DType::F32, &[2], floats));
		assert_eq!(
			output,
			types::Tensor {
				name: None,
				dtype: "f32".into(),
				shape: vec![2],
				values: vec![json!(1.5), json!(-0.25)],
				content: None,
			}
		);
		let ints: Vec<u8> = [-3i32, 7].iter().flat_map(|v| v.to_le_bytes()).collect();
		assert_eq!(values(tensor_json(&tensor(DType::I32, &[2], ints))), vec![json!(-3), json!(7)]);
		assert_eq!(values(tensor_json(&tensor(DType::I8, &[1], vec![0xff]))), vec![json!(-1)]);
		assert_eq!(
			values(tensor_json(&tensor(DType::U16, &[1], vec![0xff, 0xff]))),
			vec![json!(65535)]
		);
		assert_eq!(
			values(tensor_json(&tensor(DType::Bool, &[2], vec![0, 1]))),
			vec![json!(false), json!(true)]
		);
		// 1.0, -2.0 and the smallest subnormal in half precision.
		let halves = vec![0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00];
		assert_eq!(
			values(tensor_json(&tensor(DType::F16, &[3], halves))),
			vec![json!(1.0), json!(-2.0), json!(2f64.powi(-24))]
		);
	}

	#[test]
	fn every_output_is_named_after_the_signature() {
		let specs: Vec<model::TensorSpec> = ["boxes", "scores"]
			.iter()
			.map(|name| model::TensorSpec {
				name: name.as_bytes().to_vec().try_into().unwrap(),
				dtype: DType::F32,
				shape: Default::default(),
			})
			.collect();
		let list = gateless_primitives::job::OutputTensors::new(vec![
			tensor(DType::F32, &[1], 1f32.to_le_bytes().to_vec()),
			tensor(DType::I32, &[1], 2i32.to_le_bytes().to_vec()),
		])
		.unwrap();
		let json =
			serde_json::to_value(output_json(InferenceOutput::Tensors(list.clone()), Some(&specs)))
				.unwrap();
		assert_eq!(
			json,
			json!({"kind": "tensors", "tensors": [
				{"name": "boxes", "dtype": "f32", "shape": [1], "values": [1.0]},
				{"name": "scores", "dtype": "i32", "shape": [1], "values": [2]},
			]})
		);
		let unnamed = output_json(InferenceOutput::Tensors(list), None);
		let types::Output::Tensors { tensors } = unnamed else { panic!("tensors") };
		assert!(tensors.iter().all(|tensor| tensor.name.is_none()));
	}

	#[test]
	fn results_serialize_with_the_documented_field_names() {
		let result = types::JobResult {
			job: 7,
			output: types::Output::Error {
				error: inference_error_name(InferenceError::BadInput).into(),
			},
			digest: "0x00".into(),
			agreeing: vec!["5Grw".into()],
			paid_each: "10".into(),
			owner_paid: "0".into(),
			refunded: "5".into(),
			finalized_at: 12,
		};
		let json = serde_json::to_value(&result).unwrap();
		assert_eq!(
			json,
			serde_json::json!({
				"job": 7,
				"output": {"kind": "error", "error": "badInput"},
				"digest": "0x00",
				"agreeing": ["5Grw"],
				"paidEach": "10",
				"ownerPaid": "0",
				"refunded": "5",
				"finalizedAt": 12
			})
		);
		let back: types::JobResult = serde_json::from_value(json).unwrap();
		assert_eq!(back, result);
	}
}
