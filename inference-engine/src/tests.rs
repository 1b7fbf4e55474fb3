//! The engine on the project's real models (`models/`), against onnxruntime's reference outputs.

use std::sync::Arc;

use gateless_primitives::{
	job::{HostTensor, InferenceError, InputTensor, MAX_OUTPUT_BYTES},
	model::{DType, Determinism, Dim},
};
use sp_core::H256;

use super::*;
use crate::reference::{
	argmax_rows, bytes, declared, determinism, first_rows, reference, references, values,
};

/// A plan of `file` for the shape of `input`.
fn plan_for(file: &str, input: &InputTensor) -> Plan {
	Plan::load(&bytes(file), &declared(file), &[input.shape.to_vec()]).unwrap()
}

/// The one output of a one-input plan.
fn run_one(plan: &Plan, input: &InputTensor) -> Result<HostTensor, RunError> {
	plan.run(std::slice::from_ref(input)).map(|mut outputs| outputs.remove(0))
}

#[test]
fn the_float_mlp_matches_onnxruntime_within_its_tolerance() {
	let (input, expected, predicted) = reference("digits-mlp");
	let plan = plan_for("digits-mlp.onnx", &input);
	let output = run_one(&plan, &input).unwrap();
	assert_eq!(output.shape.to_vec(), vec![16, 10]);
	let actual = values(&output);
	let worst = actual.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
	// The model's declared tolerance: 1e-4 absolute.
	assert!(worst <= 1e-4, "largest difference from onnxruntime: {worst}");
	assert_eq!(argmax_rows(&actual, 10), predicted);
}

#[test]
fn the_integer_model_matches_onnxruntime_exactly() {
	let (input, expected, predicted) = reference("digits-int");
	let plan = plan_for("digits-int.onnx", &input);
	let actual = values(&run_one(&plan, &input).unwrap());
	assert_eq!(actual, expected);
	assert_eq!(argmax_rows(&actual, 10), predicted);
}

/// Whether `actual` agrees with `expected` under `determinism` (the chain's rule, in floats).
fn agrees(actual: &[f64], expected: &[f64], determinism: &Determinism) -> bool {
	actual.len() == expected.len()
		&& actual.iter().zip(expected).all(|(a, b)| match determinism {
			Determinism::Exact => a == b,
			Determinism::Tolerance { abs, rel } => {
				let abs = abs.into_inner() as f64 / 1e9;
				let rel = f64::from(rel.deconstruct()) / 1e9;
				(a - b).abs() <= abs.max(rel * a.abs().max(b.abs()))
			},
		})
}

#[test]
fn models_with_symbolic_shapes_run_at_each_concrete_shape_as_onnxruntime_does() {
	for file in ["conv-dynamic.onnx", "recurrent-cell.onnx", "two-outputs.onnx", "int-pair.onnx"] {
		let signature = declared(file);
		assert!(!signature.symbols.is_empty(), "{file} has symbols");
		// What validators attest: it loads and runs at the example shapes.
		let example = Plan::load_example(&bytes(file), &signature)
			.unwrap_or_else(|error| panic!("{file} at its example shapes: {error:?}"));
		example
			.run_on_examples()
			.unwrap_or_else(|error| panic!("{file} on zeros: {error:?}"));
		let cases = references(file);
		assert!(cases.len() >= 2, "{file}: two shapes");
		let mut shapes = Vec::new();
		for case in cases {
			let inputs: Vec<InputTensor> =
				case.inputs.into_iter().map(|(_, tensor)| tensor).collect();
			let shape: Vec<Vec<u32>> = inputs.iter().map(|input| input.shape.to_vec()).collect();
			let plan = Plan::load(&bytes(file), &signature, &shape)
				.unwrap_or_else(|error| panic!("{file} at {shape:?}: {error:?}"));
			let outputs = plan.run(&inputs).unwrap_or_else(|error| panic!("{file}: {error:?}"));
			assert_eq!(outputs.len(), case.outputs.len(), "{file}: every declared output");
			for (output, (name, expected)) in outputs.iter().zip(&case.outputs) {
				assert_eq!(output.dtype, expected.dtype, "{file} `{name}`");
				assert_eq!(output.shape, expected.shape, "{file} `{name}`");
				assert!(
					agrees(&values(output), &values(expected), &determinism(file)),
					"{file} `{name}` at {shape:?} differs from onnxruntime beyond {:?}",
					determinism(file)
				);
			}
			shapes.push(shape);
		}
		assert_ne!(shapes[0], shapes[1], "{file}: the references are at different shapes");
	}
}

#[test]
fn inputs_that_disagree_on_a_shared_symbol_or_the_plan_are_bad_inputs() {
	let file = "int-pair.onnx";
	let case = references(file).remove(1);
	let inputs: Vec<InputTensor> = case.inputs.into_iter().map(|(_, tensor)| tensor).collect();
	let shapes: Vec<Vec<u32>> = inputs.iter().map(|input| input.shape.to_vec()).collect();
	let plan = Plan::load(&bytes(file), &declared(file), &shapes).unwrap();
	// `a` has n = 6 rows, `b` only 1: both are [n, 4].
	let mut short_b = inputs.clone();
	short_b[1] = first_rows(&inputs[1], 1);
	assert_eq!(plan.run(&short_b).err(), Some(InferenceError::BadInput.into()));
	// Both of 1 row: consistent, but not the shape this plan was made for.
	let one_row: Vec<InputTensor> = inputs.iter().map(|input| first_rows(input, 1)).collect();
	assert_eq!(plan.run(&one_row).err(), Some(InferenceError::BadInput.into()));
	assert_eq!(plan.run(&inputs[..1]).err(), Some(InferenceError::BadInput.into()));
}

#[test]
fn broken_models_fail_to_load_with_their_reason() {
	let signature = declared("digits-mlp.onnx");
	let shapes = [vec![1, 64]];
	let truncated = Plan::load(&bytes("digits-mlp-truncated.onnx"), &signature, &shapes)
		.err()
		.unwrap();
	assert!(matches!(truncated, LoadError::Malformed(_)), "{truncated:?}");
	let wrong = Plan::load(&bytes("digits-wrong-signature.onnx"), &signature, &shapes)
		.err()
		.unwrap();
	assert!(matches!(wrong, LoadError::SignatureMismatch(_)), "{wrong:?}");
	let unsupported =
		Plan::load(&bytes("unsupported-op.onnx"), &declared("unsupported-op.onnx"), &[vec![1, 4]])
			.err()
			.unwrap();
	// tract reads the file (an unknown operator is a node it cannot type) and refuses to type it.
	assert!(matches!(unsupported, LoadError::Unsupported(_)), "{unsupported:?}");
	// A signature that names the output differently does not match either.
	let mut renamed = signature.clone();
	renamed.outputs[0].name = b"scores".to_vec().try_into().unwrap();
	assert!(matches!(
		Plan::load(&bytes("digits-mlp.onnx"), &renamed, &shapes),
		Err(LoadError::SignatureMismatch(_))
	));
}

#[test]
fn the_signature_read_from_a_file_is_the_one_it_was_declared_with() {
	for model in [
		"digits-mlp.onnx",
		"digits-int.onnx",
		"conv-dynamic.onnx",
		"recurrent-cell.onnx",
		"two-outputs.onnx",
		"int-pair.onnx",
	] {
		let mut read = read_signature(&bytes(model)).unwrap();
		let declared = declared(model);
		// The file names no example sizes: the builder does.
		for (symbol, example) in read.symbols.iter_mut().zip(declared.symbols.iter()) {
			assert_eq!(symbol.example, 1);
			symbol.example = example.example;
		}
		assert_eq!(read, declared, "{model}");
		assert_eq!(read.validate(), Ok(()), "{model}");
	}
	// A rank-0 input, and symbols shared between inputs and outputs.
	let recurrent = read_signature(&bytes("recurrent-cell.onnx")).unwrap();
	assert_eq!(recurrent.inputs[2].shape.len(), 0);
	assert_eq!(
		recurrent.inputs[1].shape.to_vec(),
		vec![Dim::Fixed(2), Dim::Symbol(0), Dim::Fixed(8)]
	);
	assert_eq!(recurrent.outputs[1].shape, recurrent.inputs[1].shape);
	assert!(matches!(
		read_signature(&bytes("digits-mlp-truncated.onnx")),
		Err(LoadError::Malformed(_))
	));
	assert!(read_signature(b"not an onnx file").is_err());
}

#[test]
fn an_input_that_does_not_fit_is_a_bad_input() {
	let (input, ..) = reference("digits-mlp");
	let plan = plan_for("digits-mlp.onnx", &input);
	let mut wrong_shape = input.clone();
	wrong_shape.shape = vec![32, 32].try_into().unwrap();
	assert_eq!(run_one(&plan, &wrong_shape).err(), Some(InferenceError::BadInput.into()));
	let mut wrong_type = input;
	wrong_type.dtype = DType::I32;
	assert_eq!(run_one(&plan, &wrong_type).err(), Some(InferenceError::BadInput.into()));
}

#[test]
fn non_finite_outputs_are_an_error() {
	let (mut input, ..) = reference("digits-mlp");
	let plan = plan_for("digits-mlp.onnx", &input);
	let mut data = input.data.to_vec();
	data[..4].copy_from_slice(&f32::INFINITY.to_le_bytes());
	input.data = data.try_into().unwrap();
	assert_eq!(run_one(&plan, &input).err(), Some(InferenceError::NonFiniteOutput.into()));
}

#[test]
fn an_output_over_what_an_executor_may_keep_is_too_large() {
	let (input, ..) = reference("digits-mlp");
	let two = first_rows(&input, 2);
	let two_rows = run_one(&plan_for("tiled-pixels.onnx", &two), &two).unwrap();
	let row = 64 * 4;
	assert_eq!(two_rows.data[row..2 * row], input.data[..row], "the first row, tiled");
	// 8 KiB of output per row: 8192 rows fill the 64 MiB limit exactly, 8193 are over it.
	let rows = |count: u32| InputTensor {
		dtype: DType::F32,
		shape: vec![count, 64].try_into().unwrap(),
		data: vec![0u8; count as usize * row].try_into().unwrap(),
	};
	let full = run_one(&plan_for("tiled-pixels.onnx", &rows(8192)), &rows(8192)).unwrap();
	assert_eq!(full.data.len() as u64, MAX_OUTPUT_BYTES);
	assert_eq!(
		run_one(&plan_for("tiled-pixels.onnx", &rows(8193)), &rows(8193)).err(),
		Some(InferenceError::OutputTooLarge.into())
	);
}

#[test]
fn the_cache_keeps_one_plan_per_model_and_shape_and_evicts_the_least_recent() {
	let mut cache = PlanCache::new(2);
	let (input, ..) = reference("digits-mlp");
	let key = |rows: u32| PlanKey { hash: H256::repeat_byte(1), shapes: vec![vec![rows, 64]] };
	let one = Arc::new(plan_for("digits-mlp.onnx", &first_rows(&input, 1)));
	cache.insert(key(1), one.clone());
	assert!(Arc::ptr_eq(&cache.get(&key(1)).unwrap(), &one));
	assert!(cache.get(&key(2)).is_none(), "another shape is another plan");
	cache.insert(key(2), Arc::new(plan_for("digits-mlp.onnx", &first_rows(&input, 2))));
	cache.get(&key(1));
	cache.insert(key(3), Arc::new(plan_for("digits-mlp.onnx", &first_rows(&input, 3))));
	assert_eq!((cache.loads(), cache.len()), (3, 2));
	assert!(cache.get(&key(2)).is_none(), "the least recently used shape went");
	assert!(cache.get(&key(1)).is_some() && cache.get(&key(3)).is_some());
	cache.forget(&H256::repeat_byte(1));
	assert!(cache.is_empty());
}

#[test]
fn the_compute_estimate_is_a_line_in_the_input_elements() {
	let estimate = |file: &str| {
		let (onnx, signature) = (bytes(file), declared(file));
		let (_, compute) = Plan::load_example_with_compute(&onnx, &signature).unwrap();
		(onnx, signature, compute)
	};
	// A batch of rows through dense layers: exactly linear in the batch.
	let (onnx, signature, mlp) = estimate("digits-mlp.onnx");
	assert!(mlp.per_element > Default::default(), "{mlp:?}");
	for rows in [1u32, 7, 64, 1000] {
		let counted = plan::operations_at(&onnx, &signature, &[vec![rows, 64]]).unwrap();
		assert_eq!(mlp.operations(u64::from(rows) * 64), counted, "{rows} rows, {mlp:?}");
	}
	// Convolutions over an image of any size: the line predicts a shape it was not measured at
	// (its per-image head makes it approximate).
	let (onnx, signature, conv) = estimate("conv-dynamic.onnx");
	let counted = plan::operations_at(&onnx, &signature, &[vec![3, 3, 24, 40]]).unwrap();
	let predicted = conv.operations(3 * 3 * 24 * 40);
	println!("conv-dynamic: {conv:?}, counted {counted}, predicted {predicted}");
	assert!(predicted.abs_diff(counted) * 100 <= counted, "{conv:?}: {predicted} vs {counted}");
	// A model of fixed shapes costs the same whatever: all of it fixed.
	let (_, _, fixed) = estimate("image-classifier.onnx");
	assert!(fixed.fixed > 0 && fixed.per_element == Default::default(), "{fixed:?}");
}
