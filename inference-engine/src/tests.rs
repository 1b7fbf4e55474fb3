//! The engine on the project's real models (`models/`), against onnxruntime's reference outputs.

use std::{fs, path::PathBuf};

use gateless_primitives::{
	job::{InferenceError, InputTensor, Tensor},
	model::{DType, Dim, ModelSignature, TensorSpec},
};
use serde_json::Value;
use sp_core::H256;

use super::*;

fn models_dir() -> PathBuf {
	PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models")
}

fn bytes(file: &str) -> Vec<u8> {
	fs::read(models_dir().join(file)).expect("the committed model files")
}

fn json(file: &str) -> Value {
	serde_json::from_slice(&bytes(file)).expect("valid JSON")
}

fn dtype(name: &str) -> DType {
	match name {
		"f32" => DType::F32,
		"i32" => DType::I32,
		other => panic!("dtype {other}"),
	}
}

fn spec(value: &Value) -> TensorSpec {
	TensorSpec {
		name: value["name"].as_str().unwrap().as_bytes().to_vec().try_into().unwrap(),
		dtype: dtype(value["dtype"].as_str().unwrap()),
		shape: value["shape"]
			.as_array()
			.unwrap()
			.iter()
			.map(|dim| match dim.as_u64() {
				Some(size) => Dim::Fixed(size as u32),
				None => Dim::Dynamic,
			})
			.collect::<Vec<_>>()
			.try_into()
			.unwrap(),
	}
}

/// The signature `models.json` declares for `file`.
fn declared(file: &str) -> ModelSignature {
	let entry = &json("models.json")[file]["signature"];
	let side = |key: &str| {
		entry[key]
			.as_array()
			.unwrap()
			.iter()
			.map(spec)
			.collect::<Vec<_>>()
			.try_into()
			.unwrap()
	};
	ModelSignature { inputs: side("inputs"), outputs: side("outputs") }
}

/// The reference input of `model` and onnxruntime's output values, as f64.
fn reference(model: &str) -> (InputTensor, Vec<f64>, Vec<usize>) {
	let document = json(&format!("{model}.reference.json"));
	let input = &document["input"];
	let kind = dtype(input["dtype"].as_str().unwrap());
	let values = input["values"].as_array().unwrap();
	let data: Vec<u8> = match kind {
		DType::F32 => {
			values.iter().flat_map(|v| (v.as_f64().unwrap() as f32).to_le_bytes()).collect()
		},
		DType::I32 => {
			values.iter().flat_map(|v| (v.as_i64().unwrap() as i32).to_le_bytes()).collect()
		},
		_ => unreachable!(),
	};
	let shape: Vec<u32> = input["shape"]
		.as_array()
		.unwrap()
		.iter()
		.map(|d| d.as_u64().unwrap() as u32)
		.collect();
	let tensor =
		Tensor { dtype: kind, shape: shape.try_into().unwrap(), data: data.try_into().unwrap() };
	let output = document["output"]["values"]
		.as_array()
		.unwrap()
		.iter()
		.map(|v| v.as_f64().unwrap())
		.collect();
	let predicted = document["predicted"]
		.as_array()
		.unwrap()
		.iter()
		.map(|v| v.as_u64().unwrap() as usize)
		.collect();
	(tensor, output, predicted)
}

fn values(output: &OutputTensor) -> Vec<f64> {
	match output.dtype {
		DType::F32 => output
			.data
			.chunks_exact(4)
			.map(|b| f64::from(f32::from_le_bytes(b.try_into().unwrap())))
			.collect(),
		DType::I32 => output
			.data
			.chunks_exact(4)
			.map(|b| f64::from(i32::from_le_bytes(b.try_into().unwrap())))
			.collect(),
		other => panic!("unexpected {other:?}"),
	}
}

fn argmax_rows(values: &[f64], width: usize) -> Vec<usize> {
	values
		.chunks(width)
		.map(|row| {
			row.iter()
				.enumerate()
				.fold((0, f64::MIN), |best, (i, v)| if *v > best.1 { (i, *v) } else { best })
				.0
		})
		.collect()
}

#[test]
fn the_float_mlp_matches_onnxruntime_within_its_tolerance() {
	let plan = Plan::load(&bytes("digits-mlp.onnx"), &declared("digits-mlp.onnx")).unwrap();
	let (input, expected, predicted) = reference("digits-mlp");
	let output = plan.run(&input).unwrap();
	assert_eq!(output.shape.to_vec(), vec![16, 10]);
	let actual = values(&output);
	let worst = actual.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
	// The model's declared tolerance: 1e-4 absolute.
	assert!(worst <= 1e-4, "largest difference from onnxruntime: {worst}");
	assert_eq!(argmax_rows(&actual, 10), predicted);
}

#[test]
fn the_integer_model_matches_onnxruntime_exactly() {
	let plan = Plan::load(&bytes("digits-int.onnx"), &declared("digits-int.onnx")).unwrap();
	let (input, expected, predicted) = reference("digits-int");
	let actual = values(&plan.run(&input).unwrap());
	assert_eq!(actual, expected);
	assert_eq!(argmax_rows(&actual, 10), predicted);
}

#[test]
fn broken_models_fail_to_load_with_their_reason() {
	let signature = declared("digits-mlp.onnx");
	let truncated = Plan::load(&bytes("digits-mlp-truncated.onnx"), &signature).err().unwrap();
	assert!(matches!(truncated, LoadError::Malformed(_)), "{truncated:?}");
	let wrong = Plan::load(&bytes("digits-wrong-signature.onnx"), &signature).err().unwrap();
	assert!(matches!(wrong, LoadError::SignatureMismatch(_)), "{wrong:?}");
	assert_eq!(wrong.inference_error(), InferenceError::SignatureMismatch);
	let unsupported = Plan::load(&bytes("unsupported-op.onnx"), &declared("unsupported-op.onnx"))
		.err()
		.unwrap();
	assert!(
		matches!(unsupported, LoadError::Unsupported(_) | LoadError::Malformed(_)),
		"{unsupported:?}"
	);
	// A signature that names the output differently does not match either.
	let mut renamed = signature.clone();
	renamed.outputs[0].name = b"scores".to_vec().try_into().unwrap();
	assert!(matches!(
		Plan::load(&bytes("digits-mlp.onnx"), &renamed),
		Err(LoadError::SignatureMismatch(_))
	));
}

#[test]
fn an_input_that_does_not_fit_is_a_bad_input() {
	let plan = Plan::load(&bytes("digits-mlp.onnx"), &declared("digits-mlp.onnx")).unwrap();
	let (mut input, ..) = reference("digits-mlp");
	input.shape = vec![32, 32].try_into().unwrap();
	assert_eq!(plan.run(&input).err(), Some(InferenceError::BadInput));
	let (mut input, ..) = reference("digits-mlp");
	input.dtype = DType::I32;
	assert_eq!(plan.run(&input).err(), Some(InferenceError::BadInput));
}

#[test]
fn non_finite_outputs_are_an_error() {
	let plan = Plan::load(&bytes("digits-mlp.onnx"), &declared("digits-mlp.onnx")).unwrap();
	let (mut input, ..) = reference("digits-mlp");
	let mut data = input.data.to_vec();
	data[..4].copy_from_slice(&f32::INFINITY.to_le_bytes());
	input.data = data.try_into().unwrap();
	assert_eq!(plan.run(&input).err(), Some(InferenceError::NonFiniteOutput));
}

#[test]
fn the_cache_optimises_a_model_once_and_evicts_the_least_recent() {
	let mut cache = PlanCache::new(1);
	let mlp = H256::repeat_byte(1);
	let int = H256::repeat_byte(2);
	let signature = declared("digits-mlp.onnx");
	let first = cache.get_or_load(mlp, &signature, || bytes("digits-mlp.onnx")).unwrap();
	let again = cache
		.get_or_load(mlp, &signature, || panic!("a cached plan is not loaded again"))
		.unwrap();
	assert!(Arc::ptr_eq(&first, &again));
	assert_eq!(cache.loads(), 1);
	cache
		.get_or_load(int, &declared("digits-int.onnx"), || bytes("digits-int.onnx"))
		.unwrap();
	assert_eq!((cache.loads(), cache.len()), (2, 1));
	cache.get_or_load(mlp, &signature, || bytes("digits-mlp.onnx")).unwrap();
	assert_eq!(cache.loads(), 3);
}
