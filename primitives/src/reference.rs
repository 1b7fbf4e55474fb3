//! Reference vectors ("golden tests"): inputs a builder registers with a model together with the
//! outputs the model must give for them. Validators run them before they attest the model and
//! attest it only when their outputs match the references within the model's determinism, so that
//! a conversion that drifted, or a tolerance declared too tight, is caught before anyone pays.
//!
//! Small tensors are inline; larger ones are content (the data plane's exchange), so a reference
//! stores at most a few KiB on chain whatever its size.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::ConstU32;
use sp_runtime::BoundedVec;

use crate::{
	digest::slices_agree,
	job::{check_inputs, ExpectedOutputs, HostTensor, InferenceError, InputTensors, TensorError},
	model::{Determinism, ModelSignature},
};

/// The most reference vectors a model carries.
pub const MAX_REFERENCES: u32 = 4;

/// Inputs and the outputs a model must give for them.
#[derive(
	Clone, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, PartialEq, Eq, Debug,
)]
pub struct ReferenceVector {
	/// One tensor per declared input, in order, inline or by content.
	pub inputs: InputTensors,
	/// One tensor per declared output, in order, inline or by content.
	pub outputs: InputTensors,
}

/// A model's reference vectors.
pub type References = BoundedVec<ReferenceVector, ConstU32<MAX_REFERENCES>>;

/// A model's reference vectors, as the registry's runtime API gives them, with how many validators
/// ran them and attested that the model gives them.
#[derive(
	Clone, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, PartialEq, Eq, Debug,
)]
pub struct ModelReferences {
	pub vectors: References,
	/// Validators whose attestation that the model loads included matching every vector.
	pub checked_by: u32,
}

impl ReferenceVector {
	/// Checks the vector against a model's signature: inputs a job could carry, and outputs of the
	/// dtypes and shapes those inputs give.
	pub fn check(&self, signature: &ModelSignature) -> Result<(), TensorError> {
		let sizes = check_inputs(signature, &self.inputs)?;
		ExpectedOutputs::new(signature, &sizes).check(&self.outputs)
	}

	/// The bytes it carries on chain.
	pub fn inline_len(&self) -> u64 {
		self.inputs.carried_len().saturating_add(self.outputs.carried_len())
	}
}

/// How a model's run on a reference's inputs compares with the reference's outputs.
#[derive(Clone, Copy, Encode, Decode, PartialEq, Eq, Debug)]
pub enum ReferenceOutcome {
	/// Every output matches, within the model's determinism.
	Matches,
	/// The output at this index (in declared order) differs: another dtype or shape, or an
	/// element beyond the tolerance.
	Differs { output: u32 },
	/// The run gave this error instead of outputs.
	Fails(InferenceError),
}

/// Compares a run's outputs with a reference's expected ones under `determinism`.
pub fn compare(
	outputs: Result<alloc::vec::Vec<HostTensor>, InferenceError>,
	expected: &[HostTensor],
	determinism: &Determinism,
) -> ReferenceOutcome {
	let outputs = match outputs {
		Ok(outputs) => outputs,
		Err(error) => return ReferenceOutcome::Fails(error),
	};
	let count = outputs.len().max(expected.len());
	for index in 0..count {
		let agree = match (outputs.get(index), expected.get(index)) {
			(Some(output), Some(expected)) => {
				output.dtype == expected.dtype
					&& output.shape == expected.shape
					&& slices_agree(output.dtype, &output.data, &expected.data, determinism)
			},
			_ => false,
		};
		if !agree {
			return ReferenceOutcome::Differs { output: index as u32 };
		}
	}
	ReferenceOutcome::Matches
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::job::{JobTensor, TensorData};
	use crate::model::{DType, Dim, TensorSpec};
	use alloc::vec;
	use sp_runtime::{FixedU64, Perbill};

	fn tensor(values: &[f32]) -> HostTensor {
		HostTensor {
			dtype: DType::F32,
			shape: vec![values.len() as u32].try_into().unwrap(),
			data: values
				.iter()
				.flat_map(|v| v.to_le_bytes())
				.collect::<vec::Vec<_>>()
				.try_into()
				.unwrap(),
		}
	}

	fn inline(values: &[f32]) -> JobTensor {
		let host = tensor(values);
		JobTensor {
			dtype: host.dtype,
			shape: host.shape,
			data: TensorData::Inline(host.data.into_inner().try_into().unwrap()),
		}
	}

	fn spec(name: &str, shape: &[Dim]) -> TensorSpec {
		TensorSpec {
			name: name.as_bytes().to_vec().try_into().unwrap(),
			dtype: DType::F32,
			shape: shape.to_vec().try_into().unwrap(),
		}
	}

	#[test]
	fn outputs_match_a_reference_within_the_declared_tolerance_only() {
		let expected = [tensor(&[1.0, 2.0])];
		let tolerance =
			Determinism::Tolerance { abs: FixedU64::from_rational(1, 1_000), rel: Perbill::zero() };
		let close = || Ok(vec![tensor(&[1.0005, 2.0])]);
		assert_eq!(compare(close(), &expected, &tolerance), ReferenceOutcome::Matches);
		assert_eq!(
			compare(close(), &expected, &Determinism::Exact),
			ReferenceOutcome::Differs { output: 0 }
		);
		let far = Ok(vec![tensor(&[1.0, 2.01])]);
		assert_eq!(compare(far, &expected, &tolerance), ReferenceOutcome::Differs { output: 0 });
		let longer = Ok(vec![tensor(&[1.0, 2.0]), tensor(&[3.0])]);
		assert_eq!(compare(longer, &expected, &tolerance), ReferenceOutcome::Differs { output: 1 });
		let failed = Err(InferenceError::BadModel);
		assert_eq!(
			compare(failed, &expected, &tolerance),
			ReferenceOutcome::Fails(InferenceError::BadModel)
		);
	}

	#[test]
	fn a_reference_fits_the_signature_of_its_model() {
		let signature = ModelSignature {
			inputs: vec![spec("x", &[Dim::Fixed(2)])].try_into().unwrap(),
			outputs: vec![spec("y", &[Dim::Fixed(3)])].try_into().unwrap(),
			symbols: Default::default(),
		};
		let reference = |input: &[f32], output: &[f32]| ReferenceVector {
			inputs: InputTensors::new(vec![inline(input)]).unwrap(),
			outputs: InputTensors::new(vec![inline(output)]).unwrap(),
		};
		assert_eq!(reference(&[1.0, 2.0], &[1.0, 2.0, 3.0]).check(&signature), Ok(()));
		assert_eq!(reference(&[1.0, 2.0], &[1.0, 2.0, 3.0]).inline_len(), 20);
		assert_eq!(
			reference(&[1.0], &[1.0, 2.0, 3.0]).check(&signature),
			Err(TensorError::ShapeMismatch)
		);
		assert_eq!(
			reference(&[1.0, 2.0], &[1.0]).check(&signature),
			Err(TensorError::ShapeMismatch)
		);
	}
}
