//! The engine on the project's real models (`models/`), against onnxruntime's reference outputs.

use gateless_primitives::{job::InferenceError, model::DType};
use sp_core::H256;

use super::*;
use crate::reference::{argmax_rows, bytes, declared, first_rows, reference, values};

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
	let unsupported = Plan::load(&bytes("unsupported-op.onnx"), &declared("unsupported-op.onnx"))
		.err()
		.unwrap();
	// tract reads the file (an unknown operator is a node it cannot type) and refuses to type it.
	assert!(matches!(unsupported, LoadError::Unsupported(_)), "{unsupported:?}");
	// A signature that names the output differently does not match either.
	let mut renamed = signature.clone();
	renamed.outputs[0].name = b"scores".to_vec().try_into().unwrap();
	assert!(matches!(
		Plan::load(&bytes("digits-mlp.onnx"), &renamed),
		Err(LoadError::SignatureMismatch(_))
	));
}

#[test]
fn the_signature_read_from_a_file_is_the_one_it_was_declared_with() {
	for model in ["digits-mlp.onnx", "digits-int.onnx"] {
		assert_eq!(read_signature(&bytes(model)).unwrap(), declared(model), "{model}");
	}
	assert!(matches!(
		read_signature(&bytes("digits-mlp-truncated.onnx")),
		Err(LoadError::Malformed(_))
	));
	assert!(read_signature(b"not an onnx file").is_err());
}

#[test]
fn an_input_that_does_not_fit_is_a_bad_input() {
	let plan = Plan::load(&bytes("digits-mlp.onnx"), &declared("digits-mlp.onnx")).unwrap();
	let (mut input, ..) = reference("digits-mlp");
	input.shape = vec![32, 32].try_into().unwrap();
	assert_eq!(plan.run(&input).err(), Some(InferenceError::BadInput.into()));
	let (mut input, ..) = reference("digits-mlp");
	input.dtype = DType::I32;
	assert_eq!(plan.run(&input).err(), Some(InferenceError::BadInput.into()));
}

#[test]
fn non_finite_outputs_are_an_error() {
	let plan = Plan::load(&bytes("digits-mlp.onnx"), &declared("digits-mlp.onnx")).unwrap();
	let (mut input, ..) = reference("digits-mlp");
	let mut data = input.data.to_vec();
	data[..4].copy_from_slice(&f32::INFINITY.to_le_bytes());
	input.data = data.try_into().unwrap();
	assert_eq!(plan.run(&input).err(), Some(InferenceError::NonFiniteOutput.into()));
}

#[test]
fn an_output_over_what_an_executor_may_reveal_is_too_large() {
	let plan = Plan::load(&bytes("tiled-pixels.onnx"), &declared("tiled-pixels.onnx")).unwrap();
	let (input, ..) = reference("digits-mlp");
	// 8 KiB of output per row: two rows fill the limit exactly, three are over it.
	let two_rows = plan.run(&first_rows(&input, 2)).unwrap();
	assert_eq!(two_rows.data.len(), MAX_OUTPUT_BYTES as usize);
	let row = 64 * 4;
	assert_eq!(two_rows.data[row..2 * row], input.data[..row], "the first row, tiled");
	assert_eq!(plan.run(&first_rows(&input, 3)).err(), Some(InferenceError::OutputTooLarge.into()));
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
