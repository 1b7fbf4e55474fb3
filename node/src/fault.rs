//! Test-only misbehaviour of a validator's inference (`--test-fault`), so that tests and people
//! trying a local network can watch the network catch a liar or a slow executor.
//!
//! The fault sits between the offchain workers and the inference engine: the runtime's offchain
//! worker is unchanged and commits and reveals whatever the engine answers. It is refused on
//! `Live` chains (see `command.rs`) and logged loudly where it is on.

use std::{ops::Add, str::FromStr, time::Duration};

use gateless_inference_engine::Engine;
use gateless_primitives::{
	inference::{InferenceHost, ModelRef},
	job::{
		Abstention, InferenceError, InferenceOutput, InputTensor, InputTensors, OutputTensor,
		OutputTensors,
	},
	model::{DType, Verdict},
};
use sp_core::H256;

/// How this validator misbehaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestFault {
	/// Every output tensor it computes is changed before it is committed and revealed: floats
	/// get 1.0 added (f16 values are negated), integers 1 (wrapping), booleans are flipped.
	/// Errors are left as they are.
	PerturbOutput,
	/// Each inference waits this long first (e.g. past the commit window).
	Delay(Duration),
	/// Every chunk of content this node serves to peers has its first byte flipped: peers must
	/// refuse it, ban this node and fetch from another. Its own inference is honest.
	CorruptContent,
}

impl FromStr for TestFault {
	type Err = String;

	fn from_str(text: &str) -> Result<Self, String> {
		match text.split_once('=') {
			None if text == "perturb-output" => Ok(TestFault::PerturbOutput),
			None if text == "corrupt-content" => Ok(TestFault::CorruptContent),
			Some(("delay", ms)) => ms
				.parse::<u64>()
				.map(|ms| TestFault::Delay(Duration::from_millis(ms)))
				.map_err(|e| format!("`delay=MS` needs milliseconds: {e}")),
			_ => Err(format!("unknown fault `{text}`: expected `perturb-output`, `corrupt-content` or `delay=MS`")),
		}
	}
}

impl std::fmt::Display for TestFault {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self {
			TestFault::PerturbOutput => write!(f, "perturb-output"),
			TestFault::Delay(delay) => write!(f, "delay={}", delay.as_millis()),
			TestFault::CorruptContent => write!(f, "corrupt-content"),
		}
	}
}

/// The engine with a fault between it and the offchain workers.
pub struct FaultyEngine {
	pub engine: Engine,
	pub fault: TestFault,
}

impl InferenceHost for FaultyEngine {
	fn has_model(&mut self, hash: H256) -> bool {
		self.engine.has_model(&hash)
	}

	fn check_model(&mut self, model: ModelRef) -> Verdict {
		self.engine.check_model(&model)
	}

	fn discard_model(&mut self, hash: H256) {
		self.engine.discard_model(&hash)
	}

	fn fetch_inputs(&mut self, inputs: InputTensors) -> Result<Vec<InputTensor>, Abstention> {
		self.engine.fetch_inputs(inputs)
	}

	fn run(
		&mut self,
		model: ModelRef,
		inputs: Vec<InputTensor>,
	) -> Result<InferenceOutput, Abstention> {
		match self.fault {
			TestFault::CorruptContent => self.engine.run(&model, &inputs),
			TestFault::Delay(delay) => {
				std::thread::sleep(delay);
				self.engine.run(&model, &inputs)
			},
			TestFault::PerturbOutput => match self.engine.run(&model, &inputs) {
				Ok(InferenceOutput::Tensors(tensors)) => {
					let changed = tensors.into_inner().into_iter().map(perturbed).collect();
					// The same tensors with the same lengths: within the same bounds.
					Ok(OutputTensors::new(changed).map_or_else(
						|_| InferenceOutput::Error(InferenceError::OutputTooLarge),
						InferenceOutput::Tensors,
					))
				},
				other => other,
			},
		}
	}
}

/// `tensor` with every element changed (see [`TestFault::PerturbOutput`]).
fn perturbed(tensor: OutputTensor) -> OutputTensor {
	let size = tensor.dtype.size_in_bytes() as usize;
	let mut data = tensor.data.into_inner();
	for element in data.chunks_exact_mut(size) {
		perturb_element(tensor.dtype, element);
	}
	// Same length, so within the same bound.
	OutputTensor { data: data.try_into().unwrap_or_default(), ..tensor }
}

fn perturb_element(dtype: DType, element: &mut [u8]) {
	macro_rules! add_one {
		($ty:ty, $one:expr, $add:ident) => {{
			let mut bytes = [0u8; core::mem::size_of::<$ty>()];
			bytes.copy_from_slice(element);
			let changed = <$ty>::from_le_bytes(bytes).$add($one);
			element.copy_from_slice(&changed.to_le_bytes());
		}};
	}
	match dtype {
		DType::F32 => add_one!(f32, 1.0, add),
		DType::F64 => add_one!(f64, 1.0, add),
		// The sign bit, in the high byte.
		DType::F16 => {
			if let Some(high) = element.last_mut() {
				*high ^= 0x80
			}
		},
		DType::I8 => add_one!(i8, 1, wrapping_add),
		DType::I16 => add_one!(i16, 1, wrapping_add),
		DType::I32 => add_one!(i32, 1, wrapping_add),
		DType::I64 => add_one!(i64, 1, wrapping_add),
		DType::U8 => add_one!(u8, 1, wrapping_add),
		DType::U16 => add_one!(u16, 1, wrapping_add),
		DType::U32 => add_one!(u32, 1, wrapping_add),
		DType::U64 => add_one!(u64, 1, wrapping_add),
		DType::Bool => {
			if let Some(byte) = element.first_mut() {
				*byte = u8::from(*byte == 0)
			}
		},
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn tensor(dtype: DType, data: Vec<u8>) -> OutputTensor {
		let count = (data.len() / dtype.size_in_bytes() as usize) as u32;
		OutputTensor {
			dtype,
			shape: vec![count].try_into().unwrap(),
			data: data.try_into().unwrap(),
		}
	}

	#[test]
	fn faults_parse_and_print_back() {
		assert_eq!("perturb-output".parse(), Ok(TestFault::PerturbOutput));
		assert_eq!("delay=1500".parse(), Ok(TestFault::Delay(Duration::from_millis(1500))));
		assert_eq!("corrupt-content".parse(), Ok(TestFault::CorruptContent));
		assert_eq!(TestFault::Delay(Duration::from_millis(7)).to_string(), "delay=7");
		assert!("delay=soon".parse::<TestFault>().unwrap_err().contains("milliseconds"));
		assert!("lie".parse::<TestFault>().unwrap_err().contains("unknown fault `lie`"));
	}

	#[test]
	fn every_element_changes() {
		let floats: Vec<u8> = [0.25f32, -3.0].iter().flat_map(|v| v.to_le_bytes()).collect();
		let changed = perturbed(tensor(DType::F32, floats));
		let values: Vec<f32> = changed
			.data
			.chunks_exact(4)
			.map(|c| f32::from_le_bytes(c.try_into().unwrap()))
			.collect();
		assert_eq!(values, vec![1.25, -2.0]);

		let ints: Vec<u8> = [i64::MAX, 4].iter().flat_map(|v| v.to_le_bytes()).collect();
		let changed = perturbed(tensor(DType::I64, ints));
		let values: Vec<i64> = changed
			.data
			.chunks_exact(8)
			.map(|c| i64::from_le_bytes(c.try_into().unwrap()))
			.collect();
		assert_eq!(values, vec![i64::MIN, 5]);

		assert_eq!(perturbed(tensor(DType::Bool, vec![0, 1])).data.to_vec(), vec![1, 0]);
	}
}
