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
	assert_eq!(wrong.inference_error(), InferenceError::SignatureMismatch);
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
fn an_output_over_what_an_executor_may_reveal_is_too_large() {
	let plan = Plan::load(&bytes("tiled-pixels.onnx"), &declared("tiled-pixels.onnx")).unwrap();
	let (input, ..) = reference("digits-mlp");
	// 8 KiB of output per row: two rows fill the limit exactly, three are over it.
	let two_rows = plan.run(&first_rows(&input, 2)).unwrap();
	assert_eq!(two_rows.data.len(), MAX_OUTPUT_BYTES as usize);
	let row = 64 * 4;
	assert_eq!(two_rows.data[row..2 * row], input.data[..row], "the first row, tiled");
	assert_eq!(plan.run(&first_rows(&input, 3)).err(), Some(InferenceError::OutputTooLarge));
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

mod engine {
	use std::time::Duration;

	use gateless_primitives::{
		inference::ModelRef,
		job::InferenceOutput,
		model::{model_hash, AttestationFailure, Verdict},
	};

	use super::*;
	use crate::{
		reference::{first_rows, serve},
		store::{fetch, StoreError},
		Engine, EngineConfig,
	};

	fn config(dir: &std::path::Path) -> EngineConfig {
		EngineConfig {
			model_dir: dir.join("models"),
			max_model_bytes: 1 << 20,
			cache_size: 2,
			time_limit: Duration::from_secs(30),
			fetch_timeout: Duration::from_secs(10),
			threads: 1,
		}
	}

	fn inline(file: &str) -> ModelRef {
		let onnx = bytes(file);
		ModelRef {
			hash: model_hash(&onnx),
			size: onnx.len() as u64,
			signature: declared(file),
			uris: vec![],
			inline: Some(onnx),
		}
	}

	#[test]
	fn a_model_is_checked_stored_and_optimised_once() {
		let dir = tempfile::tempdir().unwrap();
		let engine = Engine::new(config(dir.path())).unwrap();
		let model = inline("digits-mlp.onnx");
		assert!(!engine.has_model(&model.hash));
		assert_eq!(engine.check_model(&model), Verdict::Loads);
		assert!(engine.has_model(&model.hash), "the inline bytes are in the store");
		// Later calls need no bytes: the store and the cache have them.
		let without_bytes = ModelRef { inline: None, ..model.clone() };
		let (input, expected, predicted) = reference("digits-mlp");
		let input = first_rows(&input, 2);
		let output = match engine.run(&without_bytes, &input) {
			InferenceOutput::Tensor(tensor) => tensor,
			other => panic!("no output: {other:?}"),
		};
		let actual = values(&output);
		let worst = actual.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
		assert!(worst <= 1e-4, "largest difference from onnxruntime: {worst}");
		assert_eq!(argmax_rows(&actual, 10), predicted[..2]);
		engine.run(&without_bytes, &input);
		assert_eq!(engine.loads(), 1, "the second and third uses do not optimise again");
		// A restarted node finds the model in its store.
		let restarted = Engine::new(config(dir.path())).unwrap();
		assert_eq!(restarted.check_model(&without_bytes), Verdict::Loads);
	}

	#[test]
	fn every_way_a_model_can_fail_has_its_verdict() {
		let dir = tempfile::tempdir().unwrap();
		let engine = Engine::new(config(dir.path())).unwrap();
		let verdict = |model: &ModelRef| engine.check_model(model);
		assert_eq!(
			verdict(&inline("digits-mlp-truncated.onnx")),
			Verdict::Fails(AttestationFailure::Malformed)
		);
		let mut wrong = inline("digits-wrong-signature.onnx");
		wrong.signature = declared("digits-mlp.onnx");
		assert_eq!(verdict(&wrong), Verdict::Fails(AttestationFailure::SignatureMismatch));
		assert_eq!(
			verdict(&inline("unsupported-op.onnx")),
			Verdict::Fails(AttestationFailure::Unsupported)
		);
		// Bytes that are not the registered ones, by hash or by size.
		let mut other_bytes = inline("digits-mlp.onnx");
		other_bytes.hash = H256::repeat_byte(7);
		assert_eq!(verdict(&other_bytes), Verdict::Fails(AttestationFailure::HashMismatch));
		assert!(!engine.has_model(&other_bytes.hash), "nothing stored under a wrong hash");
		let mut other_size = inline("digits-mlp.onnx");
		other_size.size += 1;
		assert_eq!(verdict(&other_size), Verdict::Fails(AttestationFailure::SizeMismatch));
		// No bytes anywhere.
		let nowhere = ModelRef { inline: None, ..inline("digits-int.onnx") };
		assert_eq!(verdict(&nowhere), Verdict::Fails(AttestationFailure::Unavailable));
		// Over this node's size limit.
		let small =
			Engine::new(EngineConfig { max_model_bytes: 1024, ..config(dir.path()) }).unwrap();
		assert_eq!(
			small.check_model(&inline("digits-mlp.onnx")),
			Verdict::Fails(AttestationFailure::TooLarge)
		);
		// A job on a model that does not load reveals the matching error.
		let (input, ..) = reference("digits-mlp");
		assert_eq!(
			engine.run(&inline("digits-mlp-truncated.onnx"), &input),
			InferenceOutput::Error(InferenceError::BadModel)
		);
		assert_eq!(
			engine.run(&wrong, &input),
			InferenceOutput::Error(InferenceError::SignatureMismatch)
		);
		// And a bad input is the job's error, not the model's.
		let mut bad_input = input.clone();
		bad_input.dtype = DType::I32;
		assert_eq!(
			engine.run(&inline("digits-mlp.onnx"), &bad_input),
			InferenceOutput::Error(InferenceError::BadInput)
		);
	}

	#[test]
	fn a_model_over_the_time_limit_times_out_once_and_is_not_retried() {
		let dir = tempfile::tempdir().unwrap();
		let engine = Engine::new(EngineConfig {
			time_limit: Duration::from_micros(1),
			..config(dir.path())
		})
		.unwrap();
		let model = inline("digits-mlp.onnx");
		assert_eq!(engine.check_model(&model), Verdict::Fails(AttestationFailure::TooLarge));
		let (input, ..) = reference("digits-mlp");
		assert_eq!(engine.run(&model, &input), InferenceOutput::Error(InferenceError::Timeout));
		// Nothing was cached, and the model is not loaded again.
		assert_eq!(engine.loads(), 0);
		assert_eq!(engine.check_model(&model), Verdict::Fails(AttestationFailure::TooLarge));
	}

	#[test]
	fn models_are_fetched_from_their_uris_checked_and_capped() {
		let dir = tempfile::tempdir().unwrap();
		let engine = Engine::new(config(dir.path())).unwrap();
		let onnx = bytes("digits-int.onnx");
		let by_uri = |uris: Vec<String>| ModelRef {
			uris: uris.into_iter().map(|uri| uri.into_bytes().try_into().unwrap()).collect(),
			inline: None,
			..inline("digits-int.onnx")
		};
		// A server with other bytes, then one that is down, then the right one.
		let wrong = serve(bytes("digits-mlp.onnx"), "200 OK", Duration::ZERO);
		let mut tampered = onnx.clone();
		if let Some(last) = tampered.last_mut() {
			*last ^= 1;
		}
		let tampered = serve(tampered, "200 OK", Duration::ZERO);
		let missing = serve(vec![], "404 Not Found", Duration::ZERO);
		let right = serve(onnx.clone(), "200 OK", Duration::ZERO);
		assert_eq!(
			engine.check_model(&by_uri(vec![wrong.clone()])),
			Verdict::Fails(AttestationFailure::SizeMismatch)
		);
		assert_eq!(
			engine.check_model(&by_uri(vec![tampered])),
			Verdict::Fails(AttestationFailure::HashMismatch),
			"bytes of the right size that are not the registered ones"
		);
		assert!(!engine.has_model(&model_hash(&onnx)), "tampered bytes are not stored");
		assert_eq!(
			engine.check_model(&by_uri(vec![missing.clone()])),
			Verdict::Fails(AttestationFailure::Unavailable)
		);
		assert_eq!(engine.check_model(&by_uri(vec![wrong, missing, right])), Verdict::Loads);
		assert!(engine.has_model(&model_hash(&onnx)));

		// The size cap and the timeout hold while fetching.
		let large = serve(vec![0; 4096], "200 OK", Duration::ZERO);
		assert!(fetch(&large, 1024, Duration::from_secs(10)).unwrap_err().contains("more than"));
		let slow = serve(onnx, "200 OK", Duration::from_secs(5));
		let started = std::time::Instant::now();
		assert!(fetch(&slow, 1 << 20, Duration::from_millis(300))
			.unwrap_err()
			.contains("timed out"));
		assert!(started.elapsed() < Duration::from_secs(2));
		assert_eq!(
			StoreError::HashMismatch.attestation_failure(),
			AttestationFailure::HashMismatch
		);
	}
}
