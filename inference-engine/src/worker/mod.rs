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

use protocol::{read_frame, write_frame, Answer, Request, Response};

use crate::{Plan, PlanCache};

/// The first argument that turns the node's binary into an inference worker.
pub const WORKER_ARG: &str = "inference-worker";

/// How a worker is told its limits on its command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerOptions {
	/// The cap on the worker's address space, in bytes.
	pub memory_bytes: u64,
	/// How many optimised plans the worker keeps.
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
	let mut plans = PlanCache::new(options.cache_size);
	loop {
		let request = match read_frame::<Request>(&mut requests, u32::MAX) {
			Ok(request) => request,
			// The node closed the pipe (or sent garbage): nothing more to do.
			Err(_) => return 0,
		};
		let response = match request {
			Request::Load { hash, signature, bytes, cpu_seconds } => {
				sandbox::limit_cpu_time(cpu_seconds);
				let loaded = Plan::load(&bytes, &signature);
				drop(bytes);
				Response::Loaded(loaded.map(|plan| plans.insert(hash, Arc::new(plan))))
			},
			Request::Run { hash, input, cpu_seconds } => match plans.get(&hash) {
				Some(plan) => {
					sandbox::limit_cpu_time(cpu_seconds);
					Response::Ran(plan.run(&input))
				},
				None => Response::NotLoaded,
			},
		};
		let retiring = PANICKED.load(Ordering::SeqCst);
		if write_frame(&mut answers, &Answer { response, retiring }).is_err() || retiring {
			return 1;
		}
	}
}
