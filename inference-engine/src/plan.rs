//! Plans: a model typed and optimised by tract for one concrete shape of each of its inputs, and
//! the cache that keeps the most recently used ones.
//!
//! tract 0.23.9 types most real exported graphs only at concrete shapes (a shape computed from
//! `Shape` feeds a `Reshape` or a `Resize`; intermediate annotations name symbols it cannot
//! relate), so a model is loaded once per shape its jobs use: every input's fact set to the
//! job's dtype and shape, typed, checked against the declared outputs, optimised. A load first
//! keeps the file's intermediate shape annotations (`value_info`), which can help typing, and
//! retries without them when they conflict with the concrete shapes.

use std::{
	collections::{HashMap, VecDeque},
	panic::{catch_unwind, AssertUnwindSafe},
	sync::Arc,
};

use gateless_primitives::{
	job::{
		check_inputs, input_elements, ExpectedOutputs, HostTensor, InferenceError, InputTensor,
		Tensor, MAX_OUTPUT_BYTES,
	},
	model::{ComputeCost, DType, Dim, ModelSignature, TensorSpec},
};
use sp_core::H256;
use tract_onnx::{
	prelude::{
		tvec, DatumType, Framework, InferenceFact, InferenceModelExt, TValue,
		Tensor as TractTensor, TypedFact, TypedModel, TypedRunnableModel,
	},
	tract_core::plan::SimplePlan,
};

use crate::{
	signature::{check_declared, read_signature},
	LoadError, RunError,
};

pub(crate) fn datum_type(dtype: DType) -> DatumType {
	match dtype {
		DType::F32 => DatumType::F32,
		DType::F64 => DatumType::F64,
		DType::F16 => DatumType::F16,
		DType::I8 => DatumType::I8,
		DType::I16 => DatumType::I16,
		DType::I32 => DatumType::I32,
		DType::I64 => DatumType::I64,
		DType::U8 => DatumType::U8,
		DType::U16 => DatumType::U16,
		DType::U32 => DatumType::U32,
		DType::U64 => DatumType::U64,
		DType::Bool => DatumType::Bool,
	}
}

fn dtype_of(datum: DatumType) -> Option<DType> {
	Some(match datum {
		DatumType::F32 => DType::F32,
		DatumType::F64 => DType::F64,
		DatumType::F16 => DType::F16,
		DatumType::I8 => DType::I8,
		DatumType::I16 => DType::I16,
		DatumType::I32 => DType::I32,
		DatumType::I64 => DType::I64,
		DatumType::U8 => DType::U8,
		DatumType::U16 => DType::U16,
		DatumType::U32 => DType::U32,
		DatumType::U64 => DType::U64,
		DatumType::Bool => DType::Bool,
		_ => return None,
	})
}

/// Checks a typed output against its declared spec: dtype, rank, and every fixed dimension that
/// tract could compute.
fn check_output(name: &str, fact: &TypedFact, spec: &TensorSpec) -> Result<(), String> {
	if fact.datum_type != datum_type(spec.dtype) {
		return Err(format!("`{name}` is {:?}, declared {:?}", fact.datum_type, spec.dtype));
	}
	if fact.rank() != spec.shape.len() {
		return Err(format!("`{name}` has rank {}, declared {}", fact.rank(), spec.shape.len()));
	}
	for (position, (actual, declared)) in fact.shape.iter().zip(spec.shape.iter()).enumerate() {
		if let (Ok(actual), Dim::Fixed(declared)) = (actual.to_i64(), declared) {
			if actual != i64::from(*declared) {
				return Err(format!(
					"`{name}` dimension {position} is {actual}, declared {declared}"
				));
			}
		}
	}
	Ok(())
}

/// The load error of a panic inside tract, with its message: an allocation that failed is this
/// node's memory limit, anything else the model's fault.
pub(crate) fn panicked(doing: &str, payload: Box<dyn std::any::Any + Send>) -> LoadError {
	let message = panic_message(&*payload);
	if failed_to_allocate(&message) {
		LoadError::ResourceLimit(format!("out of memory {doing}: {message}"))
	} else {
		LoadError::Unsupported(format!("the engine panicked {doing}: {message}"))
	}
}

/// Whether a panic's message is tract's failed allocation ("failed to allocate Layout ..."): the
/// worker's memory limit, not the model's or the input's fault.
fn failed_to_allocate(message: &str) -> bool {
	message.contains("alloc")
}

/// The text of a panic's payload, where it has one.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
	payload
		.downcast_ref::<String>()
		.cloned()
		.or_else(|| payload.downcast_ref::<&str>().map(|text| text.to_string()))
		.unwrap_or_else(|| "(no message)".into())
}

/// Parses `bytes` with every input fact set to its concrete shape and types the graph, keeping
/// the file's intermediate annotations or not.
fn typed_at(
	bytes: &[u8],
	signature: &ModelSignature,
	shapes: &[Vec<u32>],
	keep_value_info: bool,
) -> Result<TypedModel, LoadError> {
	let mut model = tract_onnx::onnx()
		.with_ignore_value_info(!keep_value_info)
		.model_for_read(&mut &bytes[..])
		.map_err(|e| LoadError::Malformed(format!("{e:#}")))?;
	for (position, (spec, shape)) in signature.inputs.iter().zip(shapes).enumerate() {
		let shape: Vec<usize> = shape.iter().map(|size| *size as usize).collect();
		model = model
			.with_input_fact(position, InferenceFact::dt_shape(datum_type(spec.dtype), shape))
			.map_err(|e| LoadError::SignatureMismatch(format!("{e:#}")))?;
	}
	model.into_typed().map_err(|e| LoadError::Unsupported(format!("{e:#}")))
}

/// Checks the inputs and outputs the file declares (read from its protobuf) against `signature`.
fn check_file_signature(bytes: &[u8], signature: &ModelSignature) -> Result<(), LoadError> {
	catch_unwind(AssertUnwindSafe(|| {
		let declared = read_signature(bytes)?;
		check_declared(&declared, signature).map_err(LoadError::SignatureMismatch)
	}))
	.map_err(|payload| panicked("reading the model's signature", payload))?
}

/// Types `bytes` at `shapes` (keeping the file's intermediate annotations, or without them when
/// they conflict) and checks the typed outputs against the declared ones.
fn typed_and_checked(
	bytes: &[u8],
	signature: &ModelSignature,
	shapes: &[Vec<u32>],
) -> Result<TypedModel, LoadError> {
	catch_unwind(AssertUnwindSafe(|| {
		if shapes.len() != signature.inputs.len() {
			return Err(LoadError::SignatureMismatch(format!(
				"{} input shapes for {} inputs",
				shapes.len(),
				signature.inputs.len()
			)));
		}
		let typed = typed_at(bytes, signature, shapes, true)
			.or_else(|first| typed_at(bytes, signature, shapes, false).map_err(|_| first))?;
		let mismatch =
			|e: tract_onnx::prelude::TractError| LoadError::SignatureMismatch(e.to_string());
		for (outlet, spec) in
			typed.output_outlets().map_err(mismatch)?.iter().zip(&signature.outputs)
		{
			let fact = typed.outlet_fact(*outlet).map_err(mismatch)?;
			check_output(&String::from_utf8_lossy(&spec.name), fact, spec)
				.map_err(LoadError::SignatureMismatch)?;
		}
		Ok(typed)
	}))
	.map_err(|payload| panicked("loading the model", payload))?
}

/// The operations of one run of the model in `bytes` at input `shapes` (see [`crate::compute`]):
/// what a job of those shapes is priced by, through the line validators attest.
pub fn operations_at(
	bytes: &[u8],
	signature: &ModelSignature,
	shapes: &[Vec<u32>],
) -> Result<u64, LoadError> {
	operations(&typed_and_checked(bytes, signature, shapes)?)
}

/// The operations of a typed model (see [`crate::compute`]), a panic inside tract caught.
fn operations(typed: &TypedModel) -> Result<u64, LoadError> {
	catch_unwind(AssertUnwindSafe(|| crate::compute::operations(typed)))
		.map_err(|payload| panicked("estimating the model's compute", payload))?
}

/// The elements of inputs of `shapes`, together.
fn total_elements(shapes: &[Vec<u32>]) -> u64 {
	input_elements(shapes.iter().map(Vec::as_slice))
}

/// A model loaded, checked and optimised for one shape of each input, ready to run jobs of
/// those shapes.
pub struct Plan {
	runnable: Arc<TypedRunnableModel>,
	signature: ModelSignature,
	shapes: Vec<Vec<u32>>,
}

impl Plan {
	/// Parses `bytes` as ONNX, checks the graph's declared inputs and outputs against
	/// `signature`, types it at the input `shapes` (one per declared input, in order), checks the
	/// typed outputs and optimises it.
	pub fn load(
		bytes: &[u8],
		signature: &ModelSignature,
		shapes: &[Vec<u32>],
	) -> Result<Self, LoadError> {
		check_file_signature(bytes, signature)?;
		Self::load_at(bytes, signature, shapes)
	}

	/// [`Plan::load`] of a model whose file was already checked against `signature` (by an
	/// earlier load at other shapes): types, checks the outputs and optimises at `shapes`.
	pub fn load_at(
		bytes: &[u8],
		signature: &ModelSignature,
		shapes: &[Vec<u32>],
	) -> Result<Self, LoadError> {
		let typed = typed_and_checked(bytes, signature, shapes)?;
		Self::optimise(typed, signature, shapes)
	}

	/// Optimises a model typed at `shapes` into a plan.
	fn optimise(
		typed: TypedModel,
		signature: &ModelSignature,
		shapes: &[Vec<u32>],
	) -> Result<Self, LoadError> {
		let runnable = catch_unwind(AssertUnwindSafe(|| {
			typed
				.into_optimized()
				.and_then(SimplePlan::new)
				.map_err(|e| LoadError::Unsupported(format!("{e:#}")))
		}))
		.map_err(|payload| panicked("optimising the model", payload))??;
		Ok(Plan { runnable, signature: signature.clone(), shapes: shapes.to_vec() })
	}

	/// [`Plan::load_example`], with the estimate of the model's compute that validators attest
	/// beside it (see [`crate::compute`]): the typed graph's operations at the example shapes,
	/// and at the shapes with every dimension that is not fixed doubled when the model has such
	/// dimensions and loads there.
	pub fn load_example_with_compute(
		bytes: &[u8],
		signature: &ModelSignature,
	) -> Result<(Self, ComputeCost), LoadError> {
		check_file_signature(bytes, signature)?;
		let shapes = signature.example_shapes();
		let typed = typed_and_checked(bytes, signature, &shapes)?;
		let first = (total_elements(&shapes), operations(&typed)?);
		let plan = Self::optimise(typed, signature, &shapes)?;
		let dynamic = signature.has_dynamic_inputs();
		let second = if dynamic {
			let doubled = signature.scaled_example_shapes(2);
			// A model need not load at every size: then the first point prices it alone.
			typed_and_checked(bytes, signature, &doubled)
				.and_then(|typed| operations(&typed))
				.ok()
				.map(|operations| (total_elements(&doubled), operations))
		} else {
			None
		};
		Ok((plan, ComputeCost::from_points(first, second, dynamic)))
	}

	/// [`Plan::load`] at the signature's example shapes: what validators attest.
	pub fn load_example(bytes: &[u8], signature: &ModelSignature) -> Result<Self, LoadError> {
		Self::load(bytes, signature, &signature.example_shapes())
	}

	/// The input shapes the plan was optimised for.
	pub fn shapes(&self) -> &[Vec<u32>] {
		&self.shapes
	}

	/// Runs the plan once on inputs of its shapes (whatever their size), all zeros, and if the
	/// model ran into an error there, all ones (zeros are degenerate for some graphs: an empty
	/// `Range`, a division), and checks that it gives every declared output, of the declared
	/// types and ranks: what a validator attests.
	pub fn run_on_examples(&self) -> Result<(), RunError> {
		match self.run_filled(0.0) {
			Err(RunError::Verdict(_)) => self.run_filled(1.0),
			other => other,
		}
	}

	fn run_filled(&self, value: f32) -> Result<(), RunError> {
		let mut values: tract_onnx::prelude::TVec<TValue> = tvec![];
		for (spec, shape) in self.signature.inputs.iter().zip(&self.shapes) {
			let shape: Vec<usize> = shape.iter().map(|size| *size as usize).collect();
			let filled = tract_onnx::prelude::tract_ndarray::ArrayD::<f32>::from_elem(shape, value);
			let tensor = TractTensor::from(filled)
				.cast_to_dt(datum_type(spec.dtype))
				.map_err(|_| InferenceError::BadInput)?
				.into_owned();
			values.push(tensor.into());
		}
		let outputs = self.run_values(values)?;
		if outputs.len() != self.signature.outputs.len() {
			return Err(InferenceError::SignatureMismatch.into());
		}
		for (output, spec) in outputs.iter().zip(self.signature.outputs.iter()) {
			if output.datum_type() != datum_type(spec.dtype) || output.rank() != spec.shape.len() {
				return Err(InferenceError::SignatureMismatch.into());
			}
			if spec.dtype.is_float() && !all_finite(output) {
				return Err(InferenceError::NonFiniteOutput.into());
			}
		}
		Ok(())
	}

	/// Runs the optimised graph, a panic inside tract caught and classified.
	fn run_values(
		&self,
		values: tract_onnx::prelude::TVec<TValue>,
	) -> Result<tract_onnx::prelude::TVec<TValue>, RunError> {
		Ok(catch_unwind(AssertUnwindSafe(|| self.runnable.run(values)))
			.map_err(|payload| {
				let message = panic_message(&*payload);
				if failed_to_allocate(&message) {
					RunError::OutOfMemory(message)
				} else {
					RunError::Verdict(InferenceError::BadModel)
				}
			})?
			.map_err(|error| {
				log::debug!(target: "gateless::inference", "tract refused the input: {error:#}");
				InferenceError::BadInput
			})?)
	}

	/// Runs the plan on `inputs` (one per declared input, of the plan's shapes) and returns every
	/// declared output, in order. Outputs that do not fit the declared ones (with the symbols the
	/// inputs bound fixed: the same check the chain makes of a reveal) are a
	/// [`InferenceError::SignatureMismatch`]; outputs of more than [`MAX_OUTPUT_BYTES`] together an
	/// [`InferenceError::OutputTooLarge`].
	pub fn run(&self, inputs: &[InputTensor]) -> Result<Vec<HostTensor>, RunError> {
		let sizes = check_inputs(&self.signature, inputs).map_err(|_| InferenceError::BadInput)?;
		if inputs.iter().map(|input| input.shape.to_vec()).ne(self.shapes.iter().cloned()) {
			return Err(InferenceError::BadInput.into());
		}
		let mut values: tract_onnx::prelude::TVec<TValue> = tvec![];
		for input in inputs {
			let shape: Vec<usize> = input.shape.iter().map(|dim| *dim as usize).collect();
			// SAFETY: `check_inputs` proved that `data` holds exactly `product(shape)` elements
			// of `dtype`, in the little-endian layout of the host.
			let tensor =
				unsafe { TractTensor::from_raw_dt(datum_type(input.dtype), &shape, &input.data) }
					.map_err(|_| InferenceError::BadInput)?;
			values.push(tensor.into());
		}
		let outputs = self.run_values(values)?;
		if outputs.len() != self.signature.outputs.len() {
			return Err(InferenceError::SignatureMismatch.into());
		}
		let mut tensors = Vec::with_capacity(outputs.len());
		let mut total_bytes = 0usize;
		for output in outputs.iter() {
			let dtype = dtype_of(output.datum_type()).ok_or(InferenceError::SignatureMismatch)?;
			if dtype.is_float() && !all_finite(output) {
				return Err(InferenceError::NonFiniteOutput.into());
			}
			let bytes = output.as_bytes();
			total_bytes = total_bytes.saturating_add(bytes.len());
			if total_bytes as u64 > MAX_OUTPUT_BYTES {
				return Err(InferenceError::OutputTooLarge.into());
			}
			let shape = output
				.shape()
				.iter()
				.map(|dim| u32::try_from(*dim).map_err(|_| InferenceError::OutputTooLarge))
				.collect::<Result<Vec<_>, _>>()?;
			let tensor = Tensor {
				dtype,
				shape: shape.try_into().map_err(|_| InferenceError::SignatureMismatch)?,
				data: bytes.to_vec().try_into().map_err(|_| InferenceError::OutputTooLarge)?,
			};
			tensors.push(tensor);
		}
		ExpectedOutputs::new(&self.signature, &sizes)
			.check(&tensors)
			.map_err(|_| InferenceError::SignatureMismatch)?;
		Ok(tensors)
	}
}

/// Whether every element of a float tensor is finite, read from its little-endian IEEE bits:
/// an exponent of all ones is an infinity or a NaN.
fn all_finite(tensor: &TractTensor) -> bool {
	let bytes = tensor.as_bytes();
	match tensor.datum_type() {
		DatumType::F32 => bytes
			.chunks_exact(4)
			.all(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) & 0x7f80_0000 != 0x7f80_0000),
		DatumType::F64 => bytes.chunks_exact(8).all(|b| {
			let mut bits = [0u8; 8];
			bits.copy_from_slice(b);
			u64::from_le_bytes(bits) & 0x7ff0_0000_0000_0000 != 0x7ff0_0000_0000_0000
		}),
		DatumType::F16 => bytes
			.chunks_exact(2)
			.all(|b| u16::from_le_bytes([b[0], b[1]]) & 0x7c00 != 0x7c00),
		_ => true,
	}
}

/// What a plan is cached under: the model and the shape of each input.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PlanKey {
	pub hash: H256,
	pub shapes: Vec<Vec<u32>>,
}

/// The most recently used plans, by model and input shapes, so that each model is optimised once
/// per shape its jobs use; at most `capacity` of them, all models and shapes together.
pub struct PlanCache {
	capacity: usize,
	plans: HashMap<PlanKey, Arc<Plan>>,
	recent: VecDeque<PlanKey>,
	loads: u64,
}

impl PlanCache {
	/// A cache of at most `capacity` plans (at least one).
	pub fn new(capacity: usize) -> Self {
		Self { capacity: capacity.max(1), plans: HashMap::new(), recent: VecDeque::new(), loads: 0 }
	}

	/// The cached plan under `key`, now the most recently used.
	pub fn get(&mut self, key: &PlanKey) -> Option<Arc<Plan>> {
		let plan = self.plans.get(key).cloned()?;
		self.recent.retain(|other| other != key);
		self.recent.push_back(key.clone());
		Some(plan)
	}

	/// Caches a freshly loaded `plan`, evicting the least recently used one if full.
	pub fn insert(&mut self, key: PlanKey, plan: Arc<Plan>) {
		self.loads += 1;
		if !self.plans.contains_key(&key) && self.plans.len() >= self.capacity {
			if let Some(oldest) = self.recent.pop_front() {
				self.plans.remove(&oldest);
			}
		}
		self.recent.retain(|other| *other != key);
		self.plans.insert(key.clone(), plan);
		self.recent.push_back(key);
	}

	/// Drops every plan of the model with `hash`.
	pub fn forget(&mut self, hash: &H256) {
		self.plans.retain(|key, _| key.hash != *hash);
		self.recent.retain(|key| key.hash != *hash);
	}

	/// How many plans were loaded and optimised so far.
	pub fn loads(&self) -> u64 {
		self.loads
	}

	/// How many plans are cached.
	pub fn len(&self) -> usize {
		self.plans.len()
	}

	/// Whether no plan is cached.
	pub fn is_empty(&self) -> bool {
		self.plans.is_empty()
	}
}
