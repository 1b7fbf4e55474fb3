//! How `gateless-malus` misbehaves (`--test-fault`).
//!
//! The fault sits between the offchain workers and the inference engine: the runtime's offchain
//! worker is unchanged and commits and reveals whatever the engine answers. The node refuses it
//! on `Live` chains and logs it loudly where it is on.

use std::{ops::Add, str::FromStr, time::Duration};

use gateless_inference_engine::{Engine, Outputs};
use gateless_node::Misbehaviour;
use gateless_primitives::{
	content::ContentRef,
	dispute::DisputeProof,
	inference::{InferenceExt, InferenceHost, ModelFetch, ModelRef, OutputPlacement},
	job::{Abstention, HostTensor, InferenceOutput, InputTensor, InputTensors},
	model::{DType, Determinism, Verdict},
};
use sp_core::H256;
use sp_runtime::BoundedVec;

/// How this validator misbehaves.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TestFault {
	/// Every output tensor it computes is changed before it is committed and revealed: floats
	/// get 1.0 added (f16 values are negated), integers 1 (wrapping), booleans are flipped.
	/// Errors are left as they are.
	PerturbOutput,
	/// One f32 element of its large outputs (the middle one of the first f32 output of more than
	/// 64 KiB; smaller outputs are left as they are) moves just across the nearest edge of the
	/// tolerance grid of this step: still within the tolerance of the honest value, but rounded
	/// to another grid point, so that its reveal differs from honest ones in one leaf, as an
	/// honest executor on another CPU may.
	NudgeOutput { grid: f64 },
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
			Some(("nudge-output", grid)) => match grid.parse::<f64>() {
				Ok(grid) if grid > 0.0 && grid.is_finite() => Ok(TestFault::NudgeOutput { grid }),
				_ => Err(format!("`nudge-output=GRID` needs a positive step, not `{grid}`")),
			},
			_ => Err(format!("unknown fault `{text}`: expected `perturb-output`, `nudge-output=GRID`, `corrupt-content` or `delay=MS`")),
		}
	}
}

impl std::fmt::Display for TestFault {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self {
			TestFault::PerturbOutput => write!(f, "perturb-output"),
			TestFault::NudgeOutput { grid } => write!(f, "nudge-output={grid}"),
			TestFault::Delay(delay) => write!(f, "delay={}", delay.as_millis()),
			TestFault::CorruptContent => write!(f, "corrupt-content"),
		}
	}
}

impl Misbehaviour for TestFault {
	fn describe(&self) -> String {
		self.to_string()
	}

	fn inference_host(&self, engine: Engine) -> InferenceExt {
		InferenceExt::new(FaultyEngine { engine, fault: *self })
	}

	fn corrupts_served_content(&self) -> bool {
		*self == TestFault::CorruptContent
	}
}

/// The engine with a fault between it and the offchain workers.
struct FaultyEngine {
	engine: Engine,
	fault: TestFault,
}

impl InferenceHost for FaultyEngine {
	fn has_model(&mut self, hash: H256) -> bool {
		self.engine.has_model(&hash)
	}

	fn check_model(&mut self, model: ModelRef) -> Verdict {
		self.engine.check_model(&model)
	}

	fn obtain_model(&mut self, hash: H256, content: ContentRef) -> ModelFetch {
		self.engine.obtain_model(hash, content)
	}

	fn discard_model(&mut self, hash: H256) {
		self.engine.discard_model(&hash)
	}

	fn fetch_inputs(&mut self, inputs: InputTensors) -> Result<Vec<InputTensor>, Abstention> {
		self.engine.fetch_inputs(inputs)
	}

	fn run(&mut self, model: ModelRef, inputs: Vec<InputTensor>) -> Result<Outputs, Abstention> {
		if let TestFault::Delay(delay) = self.fault {
			std::thread::sleep(delay);
		}
		let outputs = self.engine.run_all(&model, &inputs)?;
		Ok(match self.fault {
			TestFault::PerturbOutput => {
				outputs.map(|tensors| tensors.into_iter().map(perturbed).collect())
			},
			TestFault::NudgeOutput { grid } => outputs.map(|tensors| nudged(tensors, grid)),
			TestFault::Delay(_) | TestFault::CorruptContent => outputs,
		})
	}

	fn keep_outputs(
		&mut self,
		outputs: Vec<HostTensor>,
		placement: &OutputPlacement,
	) -> Result<InferenceOutput, Abstention> {
		self.engine.keep_outputs(outputs, placement)
	}

	fn prove(
		&mut self,
		reference: InferenceOutput,
		other: InferenceOutput,
		determinism: Determinism,
	) -> Option<DisputeProof> {
		self.engine.prove(&reference, &other, &determinism)
	}
}

/// `tensors` with one f32 element moved across a grid edge (see [`TestFault::NudgeOutput`]).
fn nudged(mut tensors: Vec<HostTensor>, grid: f64) -> Vec<HostTensor> {
	let large = tensors
		.iter_mut()
		.find(|tensor| tensor.data.len() > 64 * 1024 && tensor.dtype == DType::F32);
	let Some(tensor) = large else { return tensors };
	let middle = tensor.data.len() / 8 * 4;
	let mut data = core::mem::take(&mut tensor.data).into_inner();
	if let Some(element) = data.get_mut(middle..middle + 4) {
		nudge(element, grid);
	}
	tensor.data = BoundedVec::truncate_from(data);
	tensors
}

/// Moves one little-endian f32 across the nearest edge of the grid of step `grid`.
fn nudge(element: &mut [u8], grid: f64) {
	let mut bytes = [0u8; 4];
	bytes.copy_from_slice(element);
	let value = f64::from(f32::from_le_bytes(bytes));
	// The nearest edge between grid points is half a step from the point the value rounds to;
	// 0.1 step past it the value rounds to the neighbour, at most 0.6 step from where it was.
	let point = (value / grid).round();
	let beyond = if value / grid >= point { point + 0.6 } else { point - 0.6 };
	element.copy_from_slice(&((beyond * grid) as f32).to_le_bytes());
}

/// `tensor` with every element changed (see [`TestFault::PerturbOutput`]).
fn perturbed(tensor: HostTensor) -> HostTensor {
	let size = tensor.dtype.size_in_bytes() as usize;
	let mut data = tensor.data.into_inner();
	for element in data.chunks_exact_mut(size) {
		perturb_element(tensor.dtype, element);
	}
	// Same length, so within the same bound.
	HostTensor { data: BoundedVec::truncate_from(data), ..tensor }
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

	fn tensor(dtype: DType, data: Vec<u8>) -> HostTensor {
		let count = (data.len() / dtype.size_in_bytes() as usize) as u32;
		HostTensor { dtype, shape: vec![count].try_into().unwrap(), data: data.try_into().unwrap() }
	}

	#[test]
	fn faults_parse_and_print_back() {
		assert_eq!("perturb-output".parse(), Ok(TestFault::PerturbOutput));
		assert_eq!("delay=1500".parse(), Ok(TestFault::Delay(Duration::from_millis(1500))));
		assert_eq!("corrupt-content".parse(), Ok(TestFault::CorruptContent));
		assert_eq!("nudge-output=0.0001".parse(), Ok(TestFault::NudgeOutput { grid: 0.0001 }));
		assert!("nudge-output=0".parse::<TestFault>().is_err());
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

	#[test]
	fn a_nudge_moves_one_value_to_the_next_grid_point_within_the_tolerance() {
		let grid = 1e-4;
		for value in [0.123_44f32, 0.123_46, 0.5, -0.000_05] {
			let floats: Vec<u8> =
				vec![value; 20_000].iter().flat_map(|v| v.to_le_bytes()).collect();
			let small = tensor(DType::F32, floats[..400].to_vec());
			let changed = nudged(vec![small.clone(), tensor(DType::F32, floats)], grid);
			assert_eq!(changed[0], small, "small outputs are left as they are");
			let values: Vec<f64> = changed[1]
				.data
				.chunks_exact(4)
				.map(|c| f64::from(f32::from_le_bytes(c.try_into().unwrap())))
				.collect();
			let value = f64::from(value);
			let moved: Vec<usize> = (0..values.len()).filter(|i| values[*i] != value).collect();
			assert_eq!(moved, vec![10_000], "only the middle one moves");
			let nudged = values[10_000];
			assert!((nudged - value).abs() <= 0.61 * grid, "{value} -> {nudged}");
			assert_ne!((nudged / grid).round(), (value / grid).round(), "{value}");
		}
	}
}
