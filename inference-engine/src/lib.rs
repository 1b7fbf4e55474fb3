//! # Gateless inference engine
//!
//! What a validator's node runs models with: [tract](https://github.com/sonos/tract), pinned to
//! one exact version so that honest validators compute the same outputs.
//!
//! - [`Plan::load`] parses an ONNX file, checks its inputs and outputs against the signature the
//!   model was registered with (names, dtypes, ranks, fixed dimensions), optimises it once and
//!   keeps the runnable plan.
//! - [`Plan::run`] checks a job's input against the declared input, runs the plan and returns the
//!   model's first output as an [`OutputTensor`], or the typed [`InferenceError`] that validators
//!   reveal instead (a panic inside tract is caught and reported as [`InferenceError::BadModel`],
//!   or as [`RunError::OutOfMemory`], this node's limit, when an allocation failed).
//! - [`PlanCache`] keeps the most recently used plans by model hash, so a model is parsed and
//!   optimised once, not per job.
//! - [`store::ModelStore`] keeps ONNX files on disk by hash, from inline bytes or fetched URIs,
//!   within a disk quota.
//! - [`worker`]: the sandboxed processes that do the loading and running, so that a hostile model
//!   can never stop the node.
//! - [`journal`] remembers, across restarts, the models whose loading killed a worker.
//! - [`metrics`]: Prometheus counters of loads, runs, abstentions, workers, fetches and the store.
//! - [`Engine`] puts them together with time, memory and size limits, as the node's
//!   implementation of the `inference` runtime interface that offchain workers call.
//!
//! Tensors cross as little-endian bytes, which is the memory layout of every CPU tract runs on
//! here (x86-64, AArch64).

use std::{
	collections::{HashMap, VecDeque},
	panic::{catch_unwind, AssertUnwindSafe},
	sync::Arc,
};

use gateless_primitives::{
	job::{InferenceError, InputTensor, OutputTensor, Tensor, MAX_OUTPUT_BYTES},
	model::{AttestationFailure, DType, Dim, ModelSignature, TensorSpec},
};
use sp_core::H256;
use tract_onnx::{
	prelude::{
		tvec, DatumType, Framework, InferenceModelExt, Tensor as TractTensor, TypedFact,
		TypedModel, TypedRunnableModel,
	},
	tract_core::plan::SimplePlan,
};

/// Why a model cannot be loaded; the attestation verdict a validator reports for it.
#[derive(Clone, Debug, PartialEq, Eq, codec::Encode, codec::Decode)]
pub enum LoadError {
	/// The bytes are not a readable ONNX model.
	Malformed(String),
	/// The model uses operators or types the engine cannot run.
	Unsupported(String),
	/// The graph's inputs or outputs differ from the declared signature.
	SignatureMismatch(String),
	/// Loading the model took more memory or time than this node allows.
	ResourceLimit(String),
}

impl LoadError {
	/// The attestation failure reported for this error.
	pub fn attestation_failure(&self) -> AttestationFailure {
		match self {
			LoadError::Malformed(_) => AttestationFailure::Malformed,
			LoadError::Unsupported(_) => AttestationFailure::Unsupported,
			LoadError::SignatureMismatch(_) => AttestationFailure::SignatureMismatch,
			LoadError::ResourceLimit(_) => AttestationFailure::TooLarge,
		}
	}
}

fn datum_type(dtype: DType) -> DatumType {
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

/// Checks a graph tensor (`name`, `fact`) against its declared spec: same name, dtype and rank,
/// and every fixed declared dimension either equal or symbolic in the graph.
fn check_fact(name: &str, fact: &TypedFact, spec: &TensorSpec) -> Result<(), String> {
	let declared = String::from_utf8_lossy(&spec.name);
	if name != declared {
		return Err(format!("tensor `{name}` is declared as `{declared}`"));
	}
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

fn check_signature(model: &TypedModel, signature: &ModelSignature) -> Result<(), LoadError> {
	let mismatch = LoadError::SignatureMismatch;
	let inputs = model.input_outlets().map_err(|e| mismatch(e.to_string()))?;
	let outputs = model.output_outlets().map_err(|e| mismatch(e.to_string()))?;
	if inputs.len() != signature.inputs.len() || outputs.len() != signature.outputs.len() {
		return Err(mismatch(format!(
			"the graph has {} inputs and {} outputs, declared {} and {}",
			inputs.len(),
			outputs.len(),
			signature.inputs.len(),
			signature.outputs.len()
		)));
	}
	for (outlet, spec) in inputs.iter().zip(signature.inputs.iter()) {
		let fact = model.outlet_fact(*outlet).map_err(|e| mismatch(e.to_string()))?;
		check_fact(&model.node(outlet.node).name, fact, spec).map_err(mismatch)?;
	}
	for (outlet, spec) in outputs.iter().zip(signature.outputs.iter()) {
		let fact = model.outlet_fact(*outlet).map_err(|e| mismatch(e.to_string()))?;
		let name = model
			.outlet_label(*outlet)
			.map(str::to_owned)
			.unwrap_or_else(|| model.node(outlet.node).name.clone());
		check_fact(&name, fact, spec).map_err(mismatch)?;
	}
	Ok(())
}

/// The spec of a graph tensor as tract types it: fixed dimensions where the graph fixes them,
/// dynamic (symbolic) ones elsewhere.
fn spec_of(name: String, fact: &TypedFact) -> Result<TensorSpec, String> {
	let dtype = dtype_of(fact.datum_type)
		.ok_or_else(|| format!("`{name}` has the unsupported type {:?}", fact.datum_type))?;
	let shape: Vec<Dim> = fact
		.shape
		.iter()
		.map(|dim| match dim.to_i64() {
			Ok(size) => u32::try_from(size).map(Dim::Fixed).unwrap_or(Dim::Dynamic),
			Err(_) => Dim::Dynamic,
		})
		.collect();
	Ok(TensorSpec {
		name: name
			.as_bytes()
			.to_vec()
			.try_into()
			.map_err(|_| format!("`{name}` is too long"))?,
		dtype,
		shape: shape.try_into().map_err(|_| format!("`{name}` has too many dimensions"))?,
	})
}

/// Reads the signature of an ONNX file from its graph (input and output names, dtypes and
/// shapes), the one a builder registers it with and [`Plan::load`] then checks.
pub fn read_signature(bytes: &[u8]) -> Result<ModelSignature, LoadError> {
	catch_unwind(AssertUnwindSafe(|| {
		let model = tract_onnx::onnx()
			.model_for_read(&mut &bytes[..])
			.map_err(|e| LoadError::Malformed(format!("{e:#}")))?;
		let typed = model.into_typed().map_err(|e| LoadError::Unsupported(format!("{e:#}")))?;
		let unsupported = |e: String| LoadError::Unsupported(e);
		let mut inputs = Vec::new();
		for outlet in typed.input_outlets().map_err(|e| unsupported(e.to_string()))? {
			let fact = typed.outlet_fact(*outlet).map_err(|e| unsupported(e.to_string()))?;
			inputs.push(spec_of(typed.node(outlet.node).name.clone(), fact).map_err(unsupported)?);
		}
		let mut outputs = Vec::new();
		for outlet in typed.output_outlets().map_err(|e| unsupported(e.to_string()))? {
			let fact = typed.outlet_fact(*outlet).map_err(|e| unsupported(e.to_string()))?;
			let name = typed
				.outlet_label(*outlet)
				.map(str::to_owned)
				.unwrap_or_else(|| typed.node(outlet.node).name.clone());
			outputs.push(spec_of(name, fact).map_err(unsupported)?);
		}
		let too_many = || unsupported("the graph has too many inputs or outputs".into());
		Ok(ModelSignature {
			inputs: inputs.try_into().map_err(|_| too_many())?,
			outputs: outputs.try_into().map_err(|_| too_many())?,
		})
	}))
	.map_err(|payload| panicked("reading the model", payload))?
}

/// The load error of a panic inside tract, with its message: an allocation that failed is this
/// node's memory limit, anything else the model's fault.
fn panicked(doing: &str, payload: Box<dyn std::any::Any + Send>) -> LoadError {
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

/// Why a run gave no output: a verdict every honest node reaches, or this node's memory limit.
#[derive(Clone, Debug, PartialEq, Eq, codec::Encode, codec::Decode)]
pub enum RunError {
	/// A deterministic error of the model on this input.
	Verdict(InferenceError),
	/// An allocation failed: the worker's memory limit, not the model's or the input's fault.
	OutOfMemory(String),
}

impl From<InferenceError> for RunError {
	fn from(error: InferenceError) -> Self {
		RunError::Verdict(error)
	}
}

/// A model loaded, checked and optimised, ready to run jobs.
pub struct Plan {
	runnable: Arc<TypedRunnableModel>,
	signature: ModelSignature,
}

impl Plan {
	/// Parses `bytes` as ONNX, checks the graph against `signature`, and optimises it.
	pub fn load(bytes: &[u8], signature: &ModelSignature) -> Result<Self, LoadError> {
		let loaded = catch_unwind(AssertUnwindSafe(|| {
			let model = tract_onnx::onnx()
				.model_for_read(&mut &bytes[..])
				.map_err(|e| LoadError::Malformed(format!("{e:#}")))?;
			let typed = model.into_typed().map_err(|e| LoadError::Unsupported(format!("{e:#}")))?;
			check_signature(&typed, signature)?;
			typed
				.into_optimized()
				.and_then(SimplePlan::new)
				.map_err(|e| LoadError::Unsupported(format!("{e:#}")))
		}))
		.map_err(|payload| panicked("loading the model", payload))??;
		Ok(Plan { runnable: loaded, signature: signature.clone() })
	}

	/// Runs the plan on `input` and returns the model's first output.
	pub fn run(&self, input: &InputTensor) -> Result<OutputTensor, RunError> {
		let spec = self.signature.inputs.first().ok_or(InferenceError::SignatureMismatch)?;
		input.check_against(spec).map_err(|_| InferenceError::BadInput)?;
		let shape: Vec<usize> = input.shape.iter().map(|dim| *dim as usize).collect();
		// SAFETY: `check_against` proved that `data` holds exactly `product(shape)` elements of
		// `dtype`, in the little-endian layout of the host.
		let tensor =
			unsafe { TractTensor::from_raw_dt(datum_type(input.dtype), &shape, &input.data) }
				.map_err(|_| InferenceError::BadInput)?;
		let outputs = catch_unwind(AssertUnwindSafe(|| self.runnable.run(tvec!(tensor.into()))))
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
			})?;
		let output = outputs.first().ok_or(InferenceError::SignatureMismatch)?;
		let dtype = dtype_of(output.datum_type()).ok_or(InferenceError::SignatureMismatch)?;
		if dtype.is_float() && !all_finite(output) {
			return Err(InferenceError::NonFiniteOutput.into());
		}
		let bytes = output.as_bytes();
		if bytes.len() > MAX_OUTPUT_BYTES as usize {
			return Err(InferenceError::OutputTooLarge.into());
		}
		let shape = output.shape().iter().map(|dim| *dim as u32).collect::<Vec<_>>();
		let tensor = Tensor {
			dtype,
			shape: shape.try_into().map_err(|_| InferenceError::SignatureMismatch)?,
			data: bytes.to_vec().try_into().map_err(|_| InferenceError::OutputTooLarge)?,
		};
		if let Some(declared) = self.signature.outputs.first() {
			tensor.check_against(declared).map_err(|_| InferenceError::SignatureMismatch)?;
		}
		Ok(tensor)
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

/// The most recently used plans, by model hash, so that each model is optimised once.
pub struct PlanCache {
	capacity: usize,
	plans: HashMap<H256, Arc<Plan>>,
	recent: VecDeque<H256>,
	loads: u64,
}

impl PlanCache {
	/// A cache of at most `capacity` plans (at least one).
	pub fn new(capacity: usize) -> Self {
		Self { capacity: capacity.max(1), plans: HashMap::new(), recent: VecDeque::new(), loads: 0 }
	}

	/// The cached plan of the model with `hash`, now the most recently used.
	pub fn get(&mut self, hash: &H256) -> Option<Arc<Plan>> {
		let plan = self.plans.get(hash).cloned()?;
		self.recent.retain(|other| other != hash);
		self.recent.push_back(*hash);
		Some(plan)
	}

	/// Caches a freshly loaded `plan`, evicting the least recently used one if full.
	pub fn insert(&mut self, hash: H256, plan: Arc<Plan>) {
		self.loads += 1;
		if !self.plans.contains_key(&hash) && self.plans.len() >= self.capacity {
			if let Some(oldest) = self.recent.pop_front() {
				self.plans.remove(&oldest);
			}
		}
		self.recent.retain(|other| *other != hash);
		self.plans.insert(hash, plan);
		self.recent.push_back(hash);
	}

	/// The plan of the model with `hash`, loading it from `bytes()` only when it is not cached.
	pub fn get_or_load(
		&mut self,
		hash: H256,
		signature: &ModelSignature,
		bytes: impl FnOnce() -> Vec<u8>,
	) -> Result<Arc<Plan>, LoadError> {
		if let Some(plan) = self.get(&hash) {
			return Ok(plan);
		}
		let plan = Arc::new(Plan::load(&bytes(), signature)?);
		self.insert(hash, plan.clone());
		Ok(plan)
	}

	/// How many models were loaded and optimised so far.
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

pub mod address;
pub mod engine;
pub mod journal;
pub mod metrics;
pub mod reference;
pub mod store;
pub mod worker;

pub use engine::{Engine, EngineConfig};
pub use metrics::Metrics;
pub use worker::{host::WorkerCommand, run_worker, WORKER_ARG};

#[cfg(test)]
mod tests;
