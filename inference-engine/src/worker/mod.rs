//! Inference workers: the processes that load and run models, so that the node never does.
//!
//! A model is code that anyone can register, and tract can panic, allocate without bound or run
//! for ever on a hostile graph; inside the node, any of these would stop the validator (Substrate's
//! panic handler exits the process on a panic in any thread). So the node keeps one warm worker
//! process (the node's own binary re-executed as `gateless-node inference-worker`, or the
//! engine's `gateless-inference-worker` in its tests), hands it model bytes and inputs over a pipe
//! ([`protocol`]), and reads the answer with a deadline. The worker locks itself down first
//! ([`sandbox`]) and keeps its optimised plans between requests, so calls back to back stay cheap.
//! When a worker dies or overruns its deadline, the node kills it and starts a fresh one for the
//! next request ([`host`]).

pub mod host;
pub mod protocol;
pub mod sandbox;

use std::{
	io::{self, BufReader, BufWriter},
	os::fd::FromRawFd,
	sync::{
		atomic::{AtomicBool, Ordering},
		Arc,
	},
};

use gateless_primitives::{
	job::InputTensor,
	model::{ComputeCost, ModelSignature},
};
use protocol::{read_frame, write_frame, Answer, Request, Response};
use sp_core::H256;

use crate::{LoadError, Plan, PlanCache, PlanKey, RunError};

/// The first argument that turns the node's binary into an inference worker.
pub const WORKER_ARG: &str = "inference-worker";

/// How a worker is told its limits on its command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerOptions {
	/// The cap on the worker's address space, in bytes.
	pub memory_bytes: u64,
	/// How many optimised plans the worker keeps (and how many models' bytes, to load plans for
	/// new shapes from).
	pub cache_size: usize,
	/// Threads for one inference.
	pub threads: usize,
}

impl WorkerOptions {
	/// The command-line arguments that [`WorkerOptions::parse`] reads back.
	pub fn to_args(&self) -> Vec<String> {
		vec![
			format!("--memory-bytes={}", self.memory_bytes),
			format!("--cache-size={}", self.cache_size),
			format!("--threads={}", self.threads),
		]
	}

	/// Reads the arguments written by [`WorkerOptions::to_args`].
	pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
		let mut options = WorkerOptions { memory_bytes: 4 << 30, cache_size: 8, threads: 1 };
		for arg in args {
			let (name, value) =
				arg.split_once('=').ok_or_else(|| format!("unexpected argument {arg:?}"))?;
			let number =
				|value: &str| value.parse::<u64>().map_err(|error| format!("{name}: {error}"));
			match name {
				"--memory-bytes" => options.memory_bytes = number(value)?,
				"--cache-size" => options.cache_size = number(value)?.max(1) as usize,
				"--threads" => options.threads = number(value)?.max(1) as usize,
				_ => return Err(format!("unknown option {name}")),
			}
		}
		Ok(options)
	}
}

/// The worker's main function: locks the process down, then answers requests on standard input
/// until the node closes it. Returns the process's exit code.
pub fn run_worker(args: impl IntoIterator<Item = String>) -> i32 {
	let options = match WorkerOptions::parse(args) {
		Ok(options) => options,
		Err(error) => {
			eprintln!("gateless inference worker: {error}");
			return 2;
		},
	};
	// Answers go out on a private copy of standard output; whatever else would be printed there
	// (by tract or a panic) goes to standard error instead, where it cannot corrupt a frame.
	// SAFETY: descriptors 1 and 2 are open (the node passes pipes or its own); `dup` gives a new
	// descriptor that this function then owns.
	let answers = unsafe {
		let answers = libc::dup(1);
		if answers < 0 || libc::dup2(2, 1) < 0 {
			eprintln!("gateless inference worker: cannot set up its output");
			return 2;
		}
		std::fs::File::from_raw_fd(answers)
	};
	// A panic anywhere in tract is caught where it happens and answered as an error, but the
	// worker then retires: whatever state the panic left behind is not trusted again.
	static PANICKED: AtomicBool = AtomicBool::new(false);
	let report = std::panic::take_hook();
	std::panic::set_hook(Box::new(move |info| {
		PANICKED.store(true, Ordering::SeqCst);
		report(info);
	}));
	let protections = sandbox::enter(options.memory_bytes);
	// After the sandbox: seccomp and Landlock bind the calling thread and the threads it starts
	// later, so the pool's threads must start after them.
	if options.threads > 1 {
		tract_linalg::multithread::set_default_executor(
			tract_linalg::multithread::Executor::multithread(options.threads),
		);
	}
	let mut requests = BufReader::new(io::stdin().lock());
	let mut answers = BufWriter::new(answers);
	let ready = Answer { response: Response::Ready { protections }, retiring: false };
	if write_frame(&mut answers, &ready).is_err() {
		return 1;
	}
	let mut models = Models::new(options.cache_size);
	let mut plans = PlanCache::new(options.cache_size);
	loop {
		let request = match read_frame::<Request>(&mut requests, u32::MAX) {
			Ok(request) => request,
			// The node closed the pipe (or sent garbage): nothing more to do.
			Err(_) => return 0,
		};
		let response = match request {
			Request::Load { hash, signature, bytes, run_examples, cpu_seconds } => {
				sandbox::limit_cpu_time(cpu_seconds);
				plans.forget(&hash);
				let loaded = if run_examples {
					load_example(&bytes, &signature).map(|(plan, compute)| (plan, Some(compute)))
				} else {
					Plan::load_example(&bytes, &signature).map(|plan| (plan, None))
				};
				Response::Loaded(loaded.map(|(plan, compute)| {
					let key = PlanKey { hash, shapes: plan.shapes().to_vec() };
					plans.insert(key, Arc::new(plan));
					models.insert(hash, Arc::new(bytes), signature);
					compute
				}))
			},
			Request::Run { hash, inputs, cpu_seconds } => {
				sandbox::limit_cpu_time(cpu_seconds);
				run(&mut models, &mut plans, hash, &inputs)
			},
		};
		let retiring = PANICKED.load(Ordering::SeqCst);
		if write_frame(&mut answers, &Answer { response, retiring }).is_err() || retiring {
			return 1;
		}
	}
}

/// Loads a model at its example shapes, estimates its compute and runs it once on zeros (or
/// ones): it loads, runs and gives outputs of the declared types there (a non-finite output of
/// zeros is no fault of the model).
fn load_example(
	bytes: &[u8],
	signature: &ModelSignature,
) -> Result<(Plan, ComputeCost), LoadError> {
	let (plan, compute) = Plan::load_example_with_compute(bytes, signature)?;
	match plan.run_on_examples() {
		Ok(())
		| Err(RunError::Verdict(gateless_primitives::job::InferenceError::NonFiniteOutput)) => {
			Ok((plan, compute))
		},
		Err(RunError::OutOfMemory(why)) => Err(LoadError::ResourceLimit(why)),
		Err(RunError::Verdict(error)) => {
			Err(LoadError::Unsupported(format!("it does not run at its example shapes: {error:?}")))
		},
	}
}

/// Runs the model `hash` on `inputs` with the plan for their shapes, loading it if needed.
fn run(models: &mut Models, plans: &mut PlanCache, hash: H256, inputs: &[InputTensor]) -> Response {
	let key = PlanKey { hash, shapes: inputs.iter().map(|input| input.shape.to_vec()).collect() };
	if let Some(plan) = plans.get(&key) {
		return Response::Ran { outputs: plan.run(inputs), loaded_plan: false };
	}
	let Some((bytes, signature)) = models.get(&hash) else { return Response::NotLoaded };
	// Inputs that do not fit the signature get no plan of their own.
	if gateless_primitives::job::check_inputs(&signature, inputs).is_err() {
		return Response::Ran {
			outputs: Err(gateless_primitives::job::InferenceError::BadInput.into()),
			loaded_plan: false,
		};
	}
	// The file was checked against the signature when the model was loaded at its examples.
	match Plan::load_at(&bytes, &signature, &key.shapes) {
		Ok(plan) => {
			let plan = Arc::new(plan);
			plans.insert(key, plan.clone());
			Response::Ran { outputs: plan.run(inputs), loaded_plan: true }
		},
		// These shapes need more than this worker may use: this node's limit.
		Err(LoadError::ResourceLimit(why)) => {
			Response::Ran { outputs: Err(RunError::OutOfMemory(why)), loaded_plan: false }
		},
		// The model does not take inputs of these shapes: a verdict every node reaches.
		Err(error) => {
			log::debug!(target: "gateless::inference", "no plan for {:?}: {error:?}", key.shapes);
			Response::Ran {
				outputs: Err(gateless_primitives::job::InferenceError::BadInput.into()),
				loaded_plan: false,
			}
		},
	}
}

/// The bytes and signatures of the models the worker loaded, to load plans for new shapes from;
/// the most recently used ones, at most `capacity`.
struct Models {
	capacity: usize,
	models: Vec<(H256, Arc<Vec<u8>>, ModelSignature)>,
}

impl Models {
	fn new(capacity: usize) -> Self {
		Self { capacity: capacity.max(1), models: Vec::new() }
	}

	fn insert(&mut self, hash: H256, bytes: Arc<Vec<u8>>, signature: ModelSignature) {
		self.models.retain(|(other, ..)| *other != hash);
		if self.models.len() >= self.capacity {
			self.models.remove(0);
		}
		self.models.push((hash, bytes, signature));
	}

	/// The model's bytes and signature, now the most recently used.
	fn get(&mut self, hash: &H256) -> Option<(Arc<Vec<u8>>, ModelSignature)> {
		let position = self.models.iter().position(|(other, ..)| other == hash)?;
		let entry = self.models.remove(position);
		let found = (entry.1.clone(), entry.2.clone());
		self.models.push(entry);
		Some(found)
	}
}
