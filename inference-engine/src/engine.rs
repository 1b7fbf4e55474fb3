//! The engine a node hands to its offchain workers: the model store, the plan cache and the
//! limits, behind the [`InferenceHost`] interface of the `inference` runtime interface.
//!
//! Loading and running happen on a dedicated inference thread, and the caller waits at most the
//! time limit for each. A model that hangs (or is merely too slow) ends in
//! [`InferenceError::Timeout`] (or the attestation failure `TooLarge` when loading it), its
//! thread is abandoned to finish on its own, the next call gets a fresh thread, and the model's
//! hash is remembered so that it is not retried. A panic inside tract is caught where it happens
//! (see [`Plan`]). So a model can cost a validator a thread, never its block import: offchain
//! workers run outside of block import, and nothing here holds a lock that import needs.
//!
//! Both sides of the hand-off poll for [`SPIN`] before they sleep, so that a small model does not
//! pay two thread wake-ups per inference (`benches/offchain_path.rs` measures the difference).

use std::{
	collections::HashSet,
	path::PathBuf,
	sync::{mpsc, Arc, Mutex, MutexGuard},
	time::{Duration, Instant},
};

use gateless_primitives::{
	inference::{InferenceHost, ModelRef},
	job::{InferenceError, InferenceOutput, InputTensor},
	model::{model_hash, AttestationFailure, Verdict},
};
use sp_core::H256;

use crate::{
	store::{ModelStore, StoreError},
	Plan, PlanCache,
};

/// The engine's limits, set from the node's command line.
#[derive(Clone, Debug)]
pub struct EngineConfig {
	/// Where the model store keeps ONNX files.
	pub model_dir: PathBuf,
	/// The largest model accepted, in bytes.
	pub max_model_bytes: u64,
	/// How many optimised plans are kept in memory.
	pub cache_size: usize,
	/// The longest one model load, or one inference, may take.
	pub time_limit: Duration,
	/// The longest one fetch of a model's URI may take.
	pub fetch_timeout: Duration,
	/// Threads for one inference (1 for bit-for-bit repeatable outputs).
	pub threads: usize,
}

type Task = Box<dyn FnOnce() + Send>;

/// How long each side of a hand-off polls before it sleeps. Waking a sleeping thread costs tens to
/// a hundred microseconds here, several times a small model's inference; polling this long costs
/// little next to an inference, and a worker with several jobs sends them back to back.
const SPIN: Duration = Duration::from_micros(200);

/// The next message of `receiver`: polled for [`SPIN`], then waited for, at most `limit` in all.
fn spin_then_receive_within<T>(
	receiver: &mpsc::Receiver<T>,
	limit: Duration,
) -> Result<T, mpsc::RecvTimeoutError> {
	let started = Instant::now();
	let spin = SPIN.min(limit);
	loop {
		match receiver.try_recv() {
			Ok(message) => return Ok(message),
			Err(mpsc::TryRecvError::Disconnected) => {
				return Err(mpsc::RecvTimeoutError::Disconnected)
			},
			Err(mpsc::TryRecvError::Empty) if started.elapsed() < spin => std::hint::spin_loop(),
			Err(mpsc::TryRecvError::Empty) => break,
		}
	}
	receiver.recv_timeout(limit.saturating_sub(started.elapsed()))
}

/// The inference thread's next task, `None` once the engine is gone.
fn spin_then_receive(queue: &mpsc::Receiver<Task>) -> Option<Task> {
	match spin_then_receive_within(queue, SPIN) {
		Ok(task) => Some(task),
		Err(mpsc::RecvTimeoutError::Disconnected) => None,
		Err(mpsc::RecvTimeoutError::Timeout) => queue.recv().ok(),
	}
}

/// The inference thread: runs one task at a time, in order.
struct InferenceThread {
	tasks: mpsc::Sender<Task>,
}

impl InferenceThread {
	fn spawn() -> Option<Self> {
		let (tasks, queue) = mpsc::channel::<Task>();
		std::thread::Builder::new()
			.name("gateless-inference".into())
			.spawn(move || {
				while let Some(task) = spin_then_receive(&queue) {
					task();
				}
			})
			.ok()?;
		Some(Self { tasks })
	}
}

struct State {
	store: ModelStore,
	cache: PlanCache,
	thread: Option<InferenceThread>,
	/// Models that exceeded the time limit: not loaded or run again until the node restarts.
	timed_out: HashSet<H256>,
}

/// A handle on the node's inference engine; clones share it.
#[derive(Clone)]
pub struct Engine {
	config: EngineConfig,
	state: Arc<Mutex<State>>,
}

/// Why a limited task did not give a result.
enum Limited {
	/// It ran longer than the time limit.
	TimedOut,
	/// No inference thread could be started, or it died.
	NoThread,
}

impl Engine {
	/// Opens the model store and starts the inference thread.
	pub fn new(config: EngineConfig) -> std::io::Result<Self> {
		if config.threads > 1 {
			// Process-wide: every plan's matrix products are split over this pool.
			tract_linalg::multithread::set_default_executor(
				tract_linalg::multithread::Executor::multithread(config.threads),
			);
		}
		let store =
			ModelStore::open(&config.model_dir, config.max_model_bytes, config.fetch_timeout)?;
		let state = State {
			store,
			cache: PlanCache::new(config.cache_size),
			thread: InferenceThread::spawn(),
			timed_out: HashSet::new(),
		};
		Ok(Self { config, state: Arc::new(Mutex::new(state)) })
	}

	/// The limits the engine runs with.
	pub fn config(&self) -> &EngineConfig {
		&self.config
	}

	fn state(&self) -> MutexGuard<'_, State> {
		// A panic while holding the lock cannot leave the state inconsistent: every field is
		// updated by a single assignment or insertion.
		self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
	}

	/// How many models were loaded and optimised since the node started.
	pub fn loads(&self) -> u64 {
		self.state().cache.loads()
	}

	/// Runs `task` on the inference thread and waits at most the time limit for its result.
	fn limited<R: Send + 'static>(
		&self,
		state: &mut State,
		task: impl FnOnce() -> R + Send + 'static,
	) -> Result<R, Limited> {
		if state.thread.is_none() {
			state.thread = InferenceThread::spawn();
		}
		let thread = state.thread.as_ref().ok_or(Limited::NoThread)?;
		let (sender, receiver) = mpsc::sync_channel(1);
		thread
			.tasks
			.send(Box::new(move || {
				let started = Instant::now();
				let result = task();
				let _ = sender.send((result, started.elapsed()));
			}))
			.map_err(|_| Limited::NoThread)?;
		match spin_then_receive_within(&receiver, self.config.time_limit) {
			// Measured on the inference thread too, so that a task that finished over the limit
			// while this thread was not scheduled still counts as over it.
			Ok((_, took)) if took > self.config.time_limit => Err(Limited::TimedOut),
			Ok((result, _)) => Ok(result),
			Err(mpsc::RecvTimeoutError::Timeout) => {
				// Leave the busy thread behind; the next task gets a new one.
				state.thread = None;
				Err(Limited::TimedOut)
			},
			Err(mpsc::RecvTimeoutError::Disconnected) => {
				state.thread = None;
				Err(Limited::NoThread)
			},
		}
	}

	/// The plan of `model`: cached, or obtained from the store and loaded within the time limit.
	fn plan(&self, state: &mut State, model: &ModelRef) -> Result<Arc<Plan>, AttestationFailure> {
		if state.timed_out.contains(&model.hash) {
			return Err(AttestationFailure::TooLarge);
		}
		if let Some(plan) = state.cache.get(&model.hash) {
			return Ok(plan);
		}
		let bytes = state.store.obtain(model).map_err(|error| {
			log::info!(target: "gateless::inference", "model {:?}: {error:?}", model.hash);
			error.attestation_failure()
		})?;
		let signature = model.signature.clone();
		let started = Instant::now();
		let loaded = self.limited(state, move || Plan::load(&bytes, &signature));
		match loaded {
			Ok(Ok(plan)) => {
				log::info!(
					target: "gateless::inference",
					"model {:?} loaded and optimised in {} ms",
					model.hash,
					started.elapsed().as_millis()
				);
				let plan = Arc::new(plan);
				state.cache.insert(model.hash, plan.clone());
				Ok(plan)
			},
			Ok(Err(error)) => {
				log::info!(target: "gateless::inference", "model {:?}: {error:?}", model.hash);
				Err(error.attestation_failure())
			},
			Err(Limited::TimedOut) => {
				log::warn!(
					target: "gateless::inference",
					"model {:?} took longer than {} ms to load",
					model.hash,
					self.config.time_limit.as_millis()
				);
				state.timed_out.insert(model.hash);
				Err(AttestationFailure::TooLarge)
			},
			Err(Limited::NoThread) => Err(AttestationFailure::Unavailable),
		}
	}

	/// The verdict a validator attests for `model`.
	pub fn check_model(&self, model: &ModelRef) -> Verdict {
		let mut state = self.state();
		match self.plan(&mut state, model) {
			Ok(_) => Verdict::Loads,
			Err(failure) => Verdict::Fails(failure),
		}
	}

	/// The output of `model` on `input`, or the typed error it ran into.
	pub fn run(&self, model: &ModelRef, input: &InputTensor) -> InferenceOutput {
		let mut state = self.state();
		let plan = match self.plan(&mut state, model) {
			Ok(plan) => plan,
			Err(failure) => return InferenceOutput::Error(inference_error(failure)),
		};
		let input = input.clone();
		match self.limited(&mut state, move || plan.run(&input)) {
			Ok(Ok(tensor)) => InferenceOutput::Tensor(tensor),
			Ok(Err(error)) => InferenceOutput::Error(error),
			Err(Limited::TimedOut) => {
				log::warn!(
					target: "gateless::inference",
					"model {:?} ran longer than {} ms",
					model.hash,
					self.config.time_limit.as_millis()
				);
				state.timed_out.insert(model.hash);
				InferenceOutput::Error(InferenceError::Timeout)
			},
			Err(Limited::NoThread) => InferenceOutput::Error(InferenceError::ModelUnavailable),
		}
	}

	/// Whether the model store holds `hash`.
	pub fn has_model(&self, hash: &H256) -> bool {
		self.state().store.contains(hash)
	}

	/// Puts `bytes` into the model store under their hash (node operators' private models, via
	/// `gateless_putModel`), within the store's size limit.
	pub fn store_model(&self, bytes: &[u8]) -> Result<H256, StoreError> {
		let hash = model_hash(bytes);
		self.state().store.insert(&hash, bytes.len() as u64, bytes)?;
		Ok(hash)
	}
}

/// The error a job on a model that cannot be loaded reveals; a model beyond this node's limits
/// (size or load time) counts as a timeout.
fn inference_error(failure: AttestationFailure) -> InferenceError {
	match failure {
		AttestationFailure::Unavailable
		| AttestationFailure::SizeMismatch
		| AttestationFailure::HashMismatch => InferenceError::ModelUnavailable,
		AttestationFailure::Malformed | AttestationFailure::Unsupported => InferenceError::BadModel,
		AttestationFailure::SignatureMismatch => InferenceError::SignatureMismatch,
		AttestationFailure::TooLarge => InferenceError::Timeout,
	}
}

impl InferenceHost for Engine {
	fn has_model(&mut self, hash: H256) -> bool {
		Engine::has_model(self, &hash)
	}

	fn check_model(&mut self, model: ModelRef) -> Verdict {
		Engine::check_model(self, &model)
	}

	fn run(&mut self, model: ModelRef, input: InputTensor) -> InferenceOutput {
		Engine::run(self, &model, &input)
	}
}
