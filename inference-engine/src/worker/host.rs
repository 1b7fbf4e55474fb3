//! The node's side of a worker: start it, send a request, read the answer before a deadline, and
//! kill it when it overruns or misbehaves.

use std::{
	ffi::OsString,
	io::{BufWriter, Read},
	os::{
		fd::AsRawFd,
		unix::process::{CommandExt, ExitStatusExt},
	},
	path::PathBuf,
	process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio},
	time::{Duration, Instant},
};

use codec::Decode;

use super::{
	protocol::{write_frame, Answer, Request, Response, MAX_RESPONSE_BYTES},
	WorkerOptions,
};

/// How a worker process is started: a program and the arguments before the worker's options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerCommand {
	/// The program to run.
	pub program: PathBuf,
	/// Its first arguments, e.g. `["inference-worker"]` for the node's own binary.
	pub args: Vec<OsString>,
}

impl WorkerCommand {
	/// The running program re-executed as a worker: what the node uses. On Linux through
	/// `/proc/self/exe`, which stays the running binary even when the file was replaced on disk
	/// (an upgrade in place), so workers always speak the node's own protocol.
	pub fn current_exe() -> std::io::Result<Self> {
		let own = std::path::Path::new("/proc/self/exe");
		let program = if own.exists() { own.to_path_buf() } else { std::env::current_exe()? };
		Ok(Self { program, args: vec![super::WORKER_ARG.into()] })
	}
}

/// Why a request to a worker gave no answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WorkerFailure {
	/// No worker could be started.
	Spawn(String),
	/// The worker did not answer before the deadline (or ran out of CPU time) and was killed.
	TimedOut,
	/// The worker died: out of memory, aborted, crashed, or killed by something else.
	Died(String),
	/// The worker answered something unreadable and was killed.
	Protocol(String),
	/// The worker was gone before it got the request (it died while idle, e.g. picked by the
	/// out-of-memory killer): nothing is known of the request.
	Lost(String),
}

/// How long the node polls for an answer before it sleeps: a small model answers within this, and
/// a thread wake-up would cost more than the inference.
const SPIN: Duration = Duration::from_micros(200);

/// How long a fresh worker may take to start and report its protections.
const START_DEADLINE: Duration = Duration::from_secs(20);

/// A running worker process.
pub struct WorkerProcess {
	child: Child,
	requests: BufWriter<ChildStdin>,
	answers: ChildStdout,
	/// The protections the worker put in place.
	pub protections: Vec<String>,
}

impl WorkerProcess {
	/// Starts a worker with `options` and waits for it to be ready.
	pub fn spawn(command: &WorkerCommand, options: &WorkerOptions) -> Result<Self, WorkerFailure> {
		let mut child = Command::new(&command.program)
			// Its own process group: a Ctrl-C at the node's terminal is the node's to handle,
			// and the worker ends with the node (PR_SET_PDEATHSIG).
			.process_group(0)
			.args(&command.args)
			.args(options.to_args())
			.stdin(Stdio::piped())
			.stdout(Stdio::piped())
			.stderr(Stdio::inherit())
			.spawn()
			.map_err(|error| {
				WorkerFailure::Spawn(format!("cannot start {:?}: {error}", command.program))
			})?;
		let (Some(requests), Some(answers)) = (child.stdin.take(), child.stdout.take()) else {
			let _ = child.kill();
			let _ = child.wait();
			return Err(WorkerFailure::Spawn("the worker's pipes are missing".into()));
		};
		let mut worker = WorkerProcess {
			child,
			requests: BufWriter::new(requests),
			answers,
			protections: vec![],
		};
		match worker.answer(Instant::now() + START_DEADLINE).map(|answer| answer.response) {
			Ok(Response::Ready { protections }) => {
				worker.protections = protections;
				Ok(worker)
			},
			Ok(other) => Err(WorkerFailure::Protocol(format!("started with {other:?}"))),
			Err(WorkerFailure::Died(how)) | Err(WorkerFailure::Spawn(how)) => {
				Err(WorkerFailure::Spawn(format!("the worker did not start: {how}")))
			},
			Err(failure) => Err(failure),
		}
	}

	/// The worker's process id.
	pub fn id(&self) -> u32 {
		self.child.id()
	}

	/// Sends `request` and waits at most `limit` for the answer, and whether the worker retires
	/// after it. On any failure, or once it retires, the worker is dead or killed: drop it.
	pub fn request(&mut self, request: &Request, limit: Duration) -> Result<Answer, WorkerFailure> {
		let deadline = Instant::now() + limit;
		if let Ok(Some(status)) = self.child.try_wait() {
			return Err(WorkerFailure::Lost(describe(status)));
		}
		if let Err(error) = write_frame(&mut self.requests, request) {
			self.kill();
			return Err(WorkerFailure::Lost(format!("cannot send it a request: {error}")));
		}
		self.answer(deadline)
	}

	/// Reads one answer before `deadline`.
	fn answer(&mut self, deadline: Instant) -> Result<Answer, WorkerFailure> {
		let mut length = [0u8; 4];
		self.read_before(&mut length, deadline)?;
		let length = u32::from_le_bytes(length);
		if length > MAX_RESPONSE_BYTES {
			self.kill();
			return Err(WorkerFailure::Protocol(format!("an answer of {length} bytes")));
		}
		let mut bytes = vec![0u8; length as usize];
		self.read_before(&mut bytes, deadline)?;
		Answer::decode(&mut &bytes[..]).map_err(|error| {
			self.kill();
			WorkerFailure::Protocol(format!("an unreadable answer: {error}"))
		})
	}

	/// Fills `buffer` from the worker's answers, polling for [`SPIN`] and then sleeping in
	/// `poll(2)` until `deadline`; kills the worker when the deadline passes.
	fn read_before(&mut self, buffer: &mut [u8], deadline: Instant) -> Result<(), WorkerFailure> {
		let spin_until = Instant::now() + SPIN;
		let mut filled = 0;
		while filled < buffer.len() {
			let now = Instant::now();
			if now >= deadline {
				self.kill();
				return Err(WorkerFailure::TimedOut);
			}
			let wait_ms = if now < spin_until {
				0
			} else {
				// Round up, so that the poll does not wake just before the deadline.
				(deadline - now).as_millis().saturating_add(1).min(i32::MAX as u128) as i32
			};
			let mut descriptor =
				libc::pollfd { fd: self.answers.as_raw_fd(), events: libc::POLLIN, revents: 0 };
			// SAFETY: one valid `pollfd` that lives across the call.
			let ready = unsafe { libc::poll(&mut descriptor, 1, wait_ms) };
			if ready < 0 {
				let error = std::io::Error::last_os_error();
				if error.kind() == std::io::ErrorKind::Interrupted {
					continue;
				}
				return Err(self.died(format!("poll: {error}")));
			}
			if ready == 0 {
				if wait_ms == 0 {
					std::hint::spin_loop();
				}
				continue;
			}
			// Readable or hung up: a read now returns at once.
			match self.answers.read(&mut buffer[filled..]) {
				Ok(0) => return Err(self.died("it closed its output".into())),
				Ok(read) => filled += read,
				Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {},
				Err(error) => return Err(self.died(format!("reading its answer: {error}"))),
			}
		}
		Ok(())
	}

	/// The failure of a worker that stopped answering: how it ended, once it has.
	fn died(&mut self, what: String) -> WorkerFailure {
		// A worker that closed its end is exiting; one that did not is killed.
		let status = match self.child.try_wait() {
			Ok(Some(status)) => Some(status),
			_ => {
				std::thread::sleep(Duration::from_millis(20));
				self.child.try_wait().ok().flatten()
			},
		};
		match status {
			Some(status) if status.signal() == Some(libc::SIGXCPU) => WorkerFailure::TimedOut,
			Some(status) => WorkerFailure::Died(describe(status)),
			None => {
				self.kill();
				WorkerFailure::Died(what)
			},
		}
	}

	/// Kills the worker and reaps it.
	pub fn kill(&mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
	}
}

impl Drop for WorkerProcess {
	fn drop(&mut self) {
		self.kill();
	}
}

/// How a worker ended, in words for the log and the failure's reason.
fn describe(status: ExitStatus) -> String {
	match (status.code(), status.signal()) {
		(Some(101), _) => "it panicked".into(),
		(Some(code), _) => format!("it exited with code {code}"),
		(_, Some(libc::SIGKILL)) => "it was killed (SIGKILL: the out-of-memory killer?)".into(),
		(_, Some(libc::SIGABRT)) => "it aborted (SIGABRT: out of memory?)".into(),
		(_, Some(libc::SIGSEGV)) => "it crashed (SIGSEGV: a stack overflow?)".into(),
		(_, Some(signal)) => format!("it was ended by signal {signal}"),
		_ => format!("it ended ({status})"),
	}
}
