//! The engine a node hands to its offchain workers: the model store, the load journal and a warm
//! inference worker process, behind the [`InferenceHost`] interface of the `inference` runtime
//! interface.
//!
//! Nothing here loads or runs a model in the node's process: a [`WorkerProcess`] does, under the
//! memory limit, and the node waits at most the time limit for each answer. A worker that
//! overruns the deadline is killed; one that dies (out of memory, a crash, a signal) is replaced by
//! a fresh one at the next request. A load that kills its worker, or exceeds the limits, is written
//! to the [`LoadJournal`], so the model is attested `TooLarge` and never loaded again by this node;
//! a run that does the same is this node's [`Abstention`] from that job only (another input may
//! well run): only outcomes that follow from the model and the input alone are verdicts.
//!
//! Model bytes are obtained (from the store, inline, or fetched from URIs) before the worker is
//! locked, so a slow download never holds up inference of other models.

use std::{
	path::PathBuf,
	sync::{Arc, Mutex, MutexGuard},
	time::{Duration, Instant},
};

use gateless_primitives::{
	content::ContentRef,
	dispute::{self, DisputeProof},
	inference::{inline_output, InferenceHost, ModelFetch, ModelRef, OutputPlacement, RunOutputs},
	job::{
		Abstention, HostTensor, InferenceError, InferenceOutput, InputTensor, InputTensors,
		JobTensor, OutputRefs, TensorData, TensorListError,
	},
	model::{model_hash, AttestationFailure, ComputeCost, DType, Determinism, Verdict},
};
use sp_core::H256;
use sp_runtime::BoundedVec;

use crate::{
	content::{ContentFetcher, ContentStore},
	journal::LoadJournal,
	metrics::{LoadOutcome, Metrics, RunOutcome},
	model_fetch::ModelFetches,
	store::{FetchPolicy, ModelStore, StoreError},
	worker::{
		host::{WorkerCommand, WorkerFailure, WorkerProcess},
		protocol::{Answer, Request, Response},
		WorkerOptions,
	},
	LoadError, RunError,
};

/// What a run gives: every declared output, or the deterministic error the model ran into.
pub type Outputs = RunOutputs;

/// The engine's limits, set from the node's command line.
#[derive(Clone, Debug)]
pub struct EngineConfig {
	/// Where the model store keeps ONNX files (and the load journal, in `journal/`).
	pub model_dir: PathBuf,
	/// The largest model accepted, in bytes.
	pub max_model_bytes: u64,
	/// The most bytes of models the store keeps on disk (least recently used ones are evicted).
	pub store_quota_bytes: u64,
	/// How many optimised plans the worker keeps in memory.
	pub cache_size: usize,
	/// The longest one model load, or one inference, may take.
	pub time_limit: Duration,
	/// The longest one fetch of a model's URI may take.
	pub fetch_timeout: Duration,
	/// Whether model URIs on loopback, private and link-local addresses are fetched (test
	/// networks on one machine only).
	pub allow_private_uris: bool,
	/// Threads for one inference (1 for bit-for-bit repeatable outputs).
	pub threads: usize,
	/// The cap on a worker's address space, in bytes.
	pub memory_limit: u64,
	/// How to start a worker process.
	pub worker: WorkerCommand,
}

impl EngineConfig {
	fn worker_options(&self) -> WorkerOptions {
		WorkerOptions {
			memory_bytes: self.memory_limit,
			cache_size: self.cache_size,
			threads: self.threads,
		}
	}

	/// The CPU time a worker may spend on one request: the time limit, in whole seconds, on each
	/// of its threads (the kernel counts the CPU time of all of them).
	fn cpu_seconds(&self) -> u64 {
		self.time_limit
			.as_secs()
			.saturating_add(1)
			.saturating_mul(self.threads.max(1) as u64)
	}
}

/// The worker process, if one is running, and what it has cost so far.
#[derive(Default)]
struct WorkerSlot {
	process: Option<WorkerProcess>,
	/// Models loaded (parsed, checked and optimised) since the engine started.
	loads: u64,
	/// Workers started since the engine started.
	starts: u64,
}

/// Where the engine gets the bytes of inputs and outputs given by content, and keeps its own large
/// outputs: the node's content store, and the network for what the store lacks.
#[derive(Clone)]
pub struct ContentSource {
	/// The node's content store.
	pub store: Arc<ContentStore>,
	/// Fetches from peers what the store lacks (and keeps it in the store).
	pub fetcher: Arc<dyn ContentFetcher>,
	/// The longest one input may take to fetch.
	pub timeout: Duration,
}

/// A handle on the node's inference engine; clones share it.
#[derive(Clone)]
pub struct Engine {
	config: Arc<EngineConfig>,
	store: Arc<ModelStore>,
	journal: Arc<LoadJournal>,
	worker: Arc<Mutex<WorkerSlot>>,
	metrics: Metrics,
	content: Option<ContentSource>,
	model_fetches: ModelFetches,
}

impl Engine {
	/// Opens the model store and the load journal. The first worker starts with the first request.
	pub fn new(config: EngineConfig) -> std::io::Result<Self> {
		Self::with_metrics(config, Metrics::disabled())
	}

	/// [`Engine::new`], counting into `metrics`.
	pub fn with_metrics(config: EngineConfig, metrics: Metrics) -> std::io::Result<Self> {
		let store = Self::open_store(&config, metrics.clone())?;
		Self::with_store(config, store, metrics)
	}

	/// Opens the model store `config` describes: every node has one (it holds the models it
	/// provides to peers), validators' engines use it.
	pub fn open_store(config: &EngineConfig, metrics: Metrics) -> std::io::Result<Arc<ModelStore>> {
		let store = ModelStore::open(
			&config.model_dir,
			FetchPolicy {
				max_bytes: config.max_model_bytes,
				timeout: config.fetch_timeout,
				allow_private: config.allow_private_uris,
			},
			config.store_quota_bytes,
			metrics,
		)?;
		Ok(Arc::new(store))
	}

	/// The engine over a model store opened with [`Engine::open_store`], counting into `metrics`.
	pub fn with_store(
		config: EngineConfig,
		store: Arc<ModelStore>,
		metrics: Metrics,
	) -> std::io::Result<Self> {
		let journal = LoadJournal::open(&config.model_dir.join("journal"))?;
		Ok(Self {
			config: Arc::new(config),
			store,
			journal: Arc::new(journal),
			worker: Arc::new(Mutex::new(WorkerSlot::default())),
			metrics,
			content: None,
			model_fetches: ModelFetches::default(),
		})
	}

	/// The model store the engine uses.
	pub fn model_store(&self) -> &Arc<ModelStore> {
		&self.store
	}

	/// Where the node stands with the model `hash` whose file nodes provide as `content` (see
	/// [`ModelFetches::obtain`]); unavailable when not held and without a content source.
	pub fn obtain_model(&self, hash: H256, content: ContentRef) -> ModelFetch {
		let fetcher = self.content.as_ref().map(|source| &source.fetcher);
		self.model_fetches.obtain(&self.store, fetcher, hash, content)
	}

	/// The engine, getting inputs given by content from `source`. Without one, such inputs are
	/// unavailable.
	pub fn with_content(mut self, source: ContentSource) -> Self {
		self.content = Some(source);
		self
	}

	/// The bytes of a job's inputs: inline ones as they are, the others from the content store
	/// or fetched from peers; [`Abstention::InputUnavailable`] when one cannot be had.
	pub fn fetch_inputs(&self, inputs: InputTensors) -> Result<Vec<InputTensor>, Abstention> {
		inputs
			.into_inner()
			.into_iter()
			.map(|input| {
				let data = match input.data {
					TensorData::Inline(bytes) => bytes.into_inner(),
					TensorData::Content(content) => self.fetch_content(&content)?,
				};
				let data = BoundedVec::try_from(data).map_err(|_| Abstention::InputUnavailable)?;
				Ok(InputTensor { dtype: input.dtype, shape: input.shape, data })
			})
			.collect()
	}

	fn fetch_content(&self, content: &ContentRef) -> Result<Vec<u8>, Abstention> {
		let Some(source) = &self.content else {
			log::warn!(target: "gateless::inference", "no content source for {:?}", content.hash);
			self.metrics.abstained(Abstention::InputUnavailable);
			return Err(Abstention::InputUnavailable);
		};
		if let Some(bytes) = source.store.get(content) {
			return Ok(bytes);
		}
		source.fetcher.fetch(content, source.timeout).map_err(|why| {
			log::warn!(target: "gateless::inference", "content {:?} unavailable: {why}", content.hash);
			self.metrics.abstained(Abstention::InputUnavailable);
			Abstention::InputUnavailable
		})
	}

	/// The limits the engine runs with.
	pub fn config(&self) -> &EngineConfig {
		&self.config
	}

	fn worker(&self) -> MutexGuard<'_, WorkerSlot> {
		// A panic while holding the lock cannot leave the slot inconsistent: a worker that was
		// mid-request is killed when the next request finds it unusable.
		self.worker.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
	}

	/// How many models were loaded and optimised since the node started.
	pub fn loads(&self) -> u64 {
		self.worker().loads
	}

	/// How many worker processes were started since the node started.
	pub fn worker_starts(&self) -> u64 {
		self.worker().starts
	}

	/// The process id of the running worker, if any.
	pub fn worker_id(&self) -> Option<u32> {
		self.worker().process.as_ref().map(WorkerProcess::id)
	}

	/// Starts the worker if none runs, and names the protections it runs under.
	pub fn start_worker(&self) -> Result<Vec<String>, String> {
		let mut slot = self.worker();
		self.ensure_worker(&mut slot).map(|process| process.protections.clone())
	}

	fn ensure_worker<'a>(&self, slot: &'a mut WorkerSlot) -> Result<&'a mut WorkerProcess, String> {
		if slot.process.is_none() {
			let process = WorkerProcess::spawn(&self.config.worker, &self.config.worker_options())
				.map_err(|failure| format!("{failure:?}"))?;
			slot.starts += 1;
			self.metrics.worker_started();
			log::debug!(
				target: "gateless::inference",
				"inference worker {} started with {}",
				process.id(),
				process.protections.join(", ")
			);
			slot.process = Some(process);
		}
		slot.process.as_mut().ok_or_else(|| "no worker".into())
	}

	/// Sends `request` to the worker (starting one if needed) and waits for its answer. A worker
	/// that fails is dropped, which kills it; the next request starts another.
	fn ask(&self, slot: &mut WorkerSlot, request: &Request) -> Result<Response, WorkerFailure> {
		let process = self.ensure_worker(slot).map_err(WorkerFailure::Spawn)?;
		let mut answer = process.request(request, self.config.time_limit);
		if let Err(WorkerFailure::Lost(how)) = &answer {
			// It died before it saw the request: once more, with a fresh worker.
			log::info!(target: "gateless::inference", "the idle inference worker was gone: {how}");
			slot.process = None;
			let process = self.ensure_worker(slot).map_err(WorkerFailure::Spawn)?;
			answer = process.request(request, self.config.time_limit);
		}
		match answer {
			Ok(Answer { response, retiring }) => {
				if retiring {
					slot.process = None;
				}
				Ok(response)
			},
			Err(failure) => {
				slot.process = None;
				Err(failure)
			},
		}
	}

	/// Has the worker load `model` from `bytes` at its example shapes (and run it there and
	/// estimate its compute, to attest it): `Ok` once its plan is there, with the estimate when
	/// asked, or why not.
	fn load(
		&self,
		slot: &mut WorkerSlot,
		model: &ModelRef,
		bytes: Vec<u8>,
		run_examples: bool,
	) -> Result<Option<ComputeCost>, AttestationFailure> {
		self.journal.begin(&model.hash)?;
		let started = Instant::now();
		let request = Request::Load {
			hash: model.hash,
			signature: model.signature.clone(),
			bytes,
			run_examples,
			cpu_seconds: self.config.cpu_seconds(),
		};
		let answer = self.ask(slot, &request);
		let fail_for_good = |failure: AttestationFailure, why: String| {
			log::warn!(target: "gateless::inference", "model {:?}: {why}", model.hash);
			self.journal.fail(&model.hash, failure, &why);
			(Err(failure), LoadOutcome::OverLimits)
		};
		let (result, outcome) = match answer {
			Ok(Response::Loaded(Ok(compute))) => {
				self.journal.end(&model.hash);
				slot.loads += 1;
				log::info!(
					target: "gateless::inference",
					"model {:?} loaded and optimised in {} ms{}",
					model.hash,
					started.elapsed().as_millis(),
					compute.map_or(String::new(), |compute| format!(", compute {compute:?}"))
				);
				(Ok(compute), LoadOutcome::Loaded)
			},
			Ok(Response::Loaded(Err(error @ LoadError::ResourceLimit(_)))) => {
				fail_for_good(error.attestation_failure(), format!("{error:?}"))
			},
			Ok(Response::Loaded(Err(error))) => {
				self.journal.end(&model.hash);
				log::info!(target: "gateless::inference", "model {:?}: {error:?}", model.hash);
				(Err(error.attestation_failure()), LoadOutcome::Refused)
			},
			Ok(other) => {
				self.journal.end(&model.hash);
				slot.process = None;
				log::warn!(target: "gateless::inference", "worker answered a load with {other:?}");
				(Err(AttestationFailure::Unavailable), LoadOutcome::WorkerFailed)
			},
			Err(WorkerFailure::TimedOut) => fail_for_good(
				AttestationFailure::TooLarge,
				format!("loading took longer than {} ms", self.config.time_limit.as_millis()),
			),
			Err(WorkerFailure::Died(how)) => fail_for_good(
				AttestationFailure::TooLarge,
				format!("loading it killed the inference worker: {how}"),
			),
			Err(failure) => {
				// The node could not start or talk to a worker: nothing is known of the model.
				self.journal.end(&model.hash);
				log::warn!(target: "gateless::inference", "inference worker: {failure:?}");
				(Err(AttestationFailure::Unavailable), LoadOutcome::WorkerFailed)
			},
		};
		self.metrics.loaded(outcome, started.elapsed());
		result
	}

	/// The model's bytes from the store, inline bytes or URIs, without holding the worker.
	fn obtain(&self, model: &ModelRef) -> Result<Vec<u8>, AttestationFailure> {
		self.store.obtain(model).map_err(|error| {
			log::info!(target: "gateless::inference", "model {:?}: {error:?}", model.hash);
			error.attestation_failure()
		})
	}

	/// The verdict a validator attests for `model`.
	pub fn check_model(&self, model: &ModelRef) -> Verdict {
		if let Some(failure) = self.journal.failure(&model.hash) {
			return Verdict::Fails(failure);
		}
		let bytes = match self.obtain(model) {
			Ok(bytes) => bytes,
			Err(failure) => return Verdict::Fails(failure),
		};
		match self.load(&mut self.worker(), model, bytes, true) {
			// A worker always estimates when it runs the examples; an answer without one (a worker
			// of another version) is priced by the fee's floor.
			Ok(compute) => Verdict::Loads(compute.unwrap_or_default()),
			Err(failure) => Verdict::Fails(failure),
		}
	}

	/// The verdict of `model` on `inputs` (one per declared input): every declared output, or the
	/// deterministic error it ran into; or why this node abstains: its time or memory limit, a
	/// worker that died, bytes it cannot get, a model its own attestation found too large.
	pub fn run_all(&self, model: &ModelRef, inputs: &[InputTensor]) -> Result<Outputs, Abstention> {
		let started = Instant::now();
		let outcome = self.run_loading(model, inputs);
		let counted = match &outcome {
			Ok(Ok(_)) => RunOutcome::Output,
			Ok(Err(_)) => RunOutcome::Error,
			Err(cause) => {
				self.metrics.abstained(*cause);
				RunOutcome::Abstained
			},
		};
		self.metrics.ran(counted, started.elapsed());
		outcome
	}

	/// [`Engine::run_all`] with every output inline, as runtimes before spec 110 revealed them.
	pub fn run(
		&self,
		model: &ModelRef,
		inputs: &[InputTensor],
	) -> Result<InferenceOutput, Abstention> {
		self.run_all(model, inputs).map(inline_output)
	}

	/// Places `outputs` for the reveal as `placement` says: all inline when each is small
	/// enough, else the large ones kept in the content store (which the node provides to its
	/// peers) and named by content, with the root of their tree.
	pub fn keep_outputs(
		&self,
		outputs: Vec<HostTensor>,
		placement: &OutputPlacement,
	) -> Result<InferenceOutput, Abstention> {
		let inline =
			|tensor: &HostTensor| tensor.data.len() as u64 <= u64::from(placement.inline_limit);
		if outputs.iter().all(inline) {
			return Ok(inline_output(Ok(outputs)));
		}
		let slices: Vec<(DType, &[u8])> =
			outputs.iter().map(|tensor| (tensor.dtype, &tensor.data[..])).collect();
		let Some(root) = dispute::output_root(&slices, &placement.determinism) else {
			return Ok(InferenceOutput::Error(InferenceError::OutputTooLarge));
		};
		let Some(source) = &self.content else {
			log::warn!(target: "gateless::inference", "no content store to keep large outputs in");
			return Err(Abstention::ContentStoreFull);
		};
		let mut tensors = Vec::with_capacity(outputs.len());
		for tensor in &outputs {
			let data = if inline(tensor) {
				match BoundedVec::try_from(tensor.data.to_vec()) {
					Ok(bytes) => TensorData::Inline(bytes),
					Err(_) => return Ok(InferenceOutput::Error(InferenceError::OutputTooLarge)),
				}
			} else {
				let kept = source.store.put(&tensor.data).map_err(|why| {
					log::warn!(target: "gateless::inference", "cannot keep an output: {why:?}");
					Abstention::ContentStoreFull
				})?;
				TensorData::Content(kept)
			};
			tensors.push(JobTensor { dtype: tensor.dtype, shape: tensor.shape.clone(), data });
		}
		Ok(match OutputRefs::new(tensors) {
			Ok(tensors) => InferenceOutput::Content { tensors, root },
			Err(TensorListError::TooLarge) => {
				InferenceOutput::Error(InferenceError::OutputTooLarge)
			},
			Err(TensorListError::TooMany) => {
				InferenceOutput::Error(InferenceError::SignatureMismatch)
			},
		})
	}

	/// The bytes of every output of a reveal by content: inline ones as they are, the others
	/// from the content store or fetched from peers.
	fn output_bytes(&self, output: &InferenceOutput) -> Option<Vec<(DType, Vec<u8>)>> {
		let InferenceOutput::Content { tensors, .. } = output else { return None };
		tensors
			.iter()
			.map(|tensor| {
				let bytes = match &tensor.data {
					TensorData::Inline(bytes) => bytes.to_vec(),
					TensorData::Content(content) => self.fetch_content(content).ok()?,
				};
				Some((tensor.dtype, bytes))
			})
			.collect()
	}

	/// The proof of how `other` compares with `reference` under `determinism`, from their bytes
	/// (see [`dispute::prove`]); `None` when they cannot be had or are not comparable.
	pub fn prove(
		&self,
		reference: &InferenceOutput,
		other: &InferenceOutput,
		determinism: &Determinism,
	) -> Option<DisputeProof> {
		let reference = self.output_bytes(reference)?;
		let other = self.output_bytes(other)?;
		dispute::prove(&borrowed(&reference), &borrowed(&other), determinism)
	}

	/// [`Engine::run_all`], loading the model first where the worker does not hold it.
	fn run_loading(&self, model: &ModelRef, inputs: &[InputTensor]) -> Result<Outputs, Abstention> {
		let run = Request::Run {
			hash: model.hash,
			inputs: inputs.to_vec(),
			cpu_seconds: self.config.cpu_seconds(),
		};
		let mut bytes = None;
		// At most twice: the model may be gone (a new worker, or evicted), then it is loaded.
		for _ in 0..2 {
			if let Some(failure) = self.journal.failure(&model.hash) {
				return load_failure_outcome(failure);
			}
			let mut slot = self.worker();
			if let Some(bytes) = bytes.take() {
				if let Err(failure) = self.load(&mut slot, model, bytes, false) {
					return load_failure_outcome(failure);
				}
			}
			let abstain = |cause: Abstention, why: &dyn std::fmt::Debug| {
				log::warn!(target: "gateless::inference", "model {:?}: {cause:?}: {why:?}", model.hash);
				Err(cause)
			};
			match self.ask(&mut slot, &run) {
				Ok(Response::Ran { outputs, loaded_plan }) => {
					if loaded_plan {
						slot.loads += 1;
						self.metrics.loaded_for_shapes();
					}
					return match outputs {
						Ok(tensors) => Ok(Ok(tensors)),
						Err(RunError::Verdict(error)) => Ok(Err(error)),
						Err(RunError::OutOfMemory(why)) => abstain(Abstention::MemoryLimit, &why),
					};
				},
				Ok(Response::NotLoaded) => {},
				Ok(other) => {
					slot.process = None;
					return abstain(Abstention::WorkerCrashed, &other);
				},
				Err(failure @ WorkerFailure::TimedOut) => {
					return abstain(Abstention::Timeout, &failure)
				},
				Err(failure) => return abstain(Abstention::WorkerCrashed, &failure),
			}
			// Not loaded: obtain the bytes without holding the worker, then load and run.
			drop(slot);
			match self.obtain(model) {
				Ok(obtained) => bytes = Some(obtained),
				Err(failure) => return load_failure_outcome(failure),
			}
		}
		Err(Abstention::WorkerCrashed)
	}

	/// Whether the model store holds `hash`.
	pub fn has_model(&self, hash: &H256) -> bool {
		self.store.contains(hash)
	}

	/// Removes the model with `hash` from the store: it was rejected or banned, no job will
	/// need it again.
	pub fn discard_model(&self, hash: &H256) {
		if self.store.contains(hash) {
			log::info!(target: "gateless::inference", "removing model {hash:?} from the store");
		}
		self.store.remove(hash);
	}

	/// How many models, and how many bytes, the model store holds.
	pub fn store_usage(&self) -> (usize, u64) {
		self.store.usage()
	}

	/// Puts `bytes` into the model store under their hash (node operators' private models, via
	/// `gateless_putModel`), within the store's size limit.
	pub fn store_model(&self, bytes: &[u8]) -> Result<H256, StoreError> {
		let hash = model_hash(bytes);
		self.store.insert(&hash, bytes.len() as u64, bytes)?;
		Ok(hash)
	}
}

fn borrowed(outputs: &[(DType, Vec<u8>)]) -> Vec<(DType, &[u8])> {
	outputs.iter().map(|(dtype, bytes)| (*dtype, &bytes[..])).collect()
}

/// What a job on a model that did not load gives: a verdict where the failure is the model's own
/// (every honest node finds it), else this node's abstention.
fn load_failure_outcome(failure: AttestationFailure) -> Result<Outputs, Abstention> {
	match failure {
		// A reference mismatch is never the engine's own finding; it is a bad model all the same.
		AttestationFailure::Malformed
		| AttestationFailure::Unsupported
		| AttestationFailure::ReferenceMismatch => Ok(Err(InferenceError::BadModel)),
		AttestationFailure::SignatureMismatch => Ok(Err(InferenceError::SignatureMismatch)),
		AttestationFailure::Unavailable
		| AttestationFailure::SizeMismatch
		| AttestationFailure::HashMismatch => Err(Abstention::ModelUnavailable),
		AttestationFailure::TooLarge => Err(Abstention::ModelTooLarge),
	}
}

impl InferenceHost for Engine {
	fn has_model(&mut self, hash: H256) -> bool {
		Engine::has_model(self, &hash)
	}

	fn check_model(&mut self, model: ModelRef) -> Verdict {
		Engine::check_model(self, &model)
	}

	fn obtain_model(&mut self, hash: H256, content: ContentRef) -> ModelFetch {
		Engine::obtain_model(self, hash, content)
	}

	fn fetch_inputs(&mut self, inputs: InputTensors) -> Result<Vec<InputTensor>, Abstention> {
		Engine::fetch_inputs(self, inputs)
	}

	fn run(&mut self, model: ModelRef, inputs: Vec<InputTensor>) -> Result<Outputs, Abstention> {
		Engine::run_all(self, &model, &inputs)
	}

	fn keep_outputs(
		&mut self,
		outputs: Vec<HostTensor>,
		placement: &OutputPlacement,
	) -> Result<InferenceOutput, Abstention> {
		Engine::keep_outputs(self, outputs, placement)
	}

	fn prove(
		&mut self,
		reference: InferenceOutput,
		other: InferenceOutput,
		determinism: Determinism,
	) -> Option<DisputeProof> {
		Engine::prove(self, &reference, &other, &determinism)
	}

	fn discard_model(&mut self, hash: H256) {
		Engine::discard_model(self, &hash)
	}
}
