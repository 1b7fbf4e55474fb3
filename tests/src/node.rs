//! Starting and stopping `gateless-node` processes.

use std::{
	fs::File,
	io::{Read, Seek, SeekFrom},
	net::TcpListener,
	path::{Path, PathBuf},
	process::{Child, Command, ExitStatus, Stdio},
	sync::Mutex,
	time::{Duration, Instant},
};

use crate::{rpc::Rpc, Result};

/// How long a node may take from spawn to answering JSON-RPC.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(90);
/// How long a node may take to exit after SIGTERM before it is killed.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// The `gateless-node` binary under test.
pub fn node_binary() -> Result<PathBuf> {
	if let Ok(path) = std::env::var("GATELESS_NODE_BIN") {
		return Ok(PathBuf::from(path));
	}
	// Test executables live in `<target>/<profile>/deps/`, binaries such as `local-network` and
	// the node in `<target>/<profile>/`.
	let exe = std::env::current_exe().map_err(|e| format!("cannot locate the test binary: {e}"))?;
	let exe_dir = exe
		.parent()
		.ok_or_else(|| format!("unexpected binary location {}", exe.display()))?;
	let candidate = exe_dir.join("gateless-node");
	let profile_dir =
		if candidate.is_file() { exe_dir } else { exe_dir.parent().unwrap_or(exe_dir) };
	let candidate = profile_dir.join("gateless-node");
	if candidate.is_file() {
		Ok(candidate)
	} else {
		Err(format!(
			"gateless-node not found at {}: build it first (`cargo build -p gateless-node`, as \
			 scripts/test.sh does) or set GATELESS_NODE_BIN",
			candidate.display()
		))
	}
}

/// The `gateless-malus` binary (a validator that misbehaves with `--test-fault`), next to
/// `gateless-node` or `GATELESS_MALUS_BIN`.
pub fn malus_binary() -> Result<PathBuf> {
	if let Ok(path) = std::env::var("GATELESS_MALUS_BIN") {
		return Ok(PathBuf::from(path));
	}
	let node = node_binary()?;
	let candidate = node.with_file_name("gateless-malus");
	if candidate.is_file() {
		Ok(candidate)
	} else {
		Err(format!(
			"gateless-malus not found at {}: build it first (`cargo build -p gateless-node \
			 --bins`, as scripts/test.sh does) or set GATELESS_MALUS_BIN",
			candidate.display()
		))
	}
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> Result<u16> {
	let listener =
		TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot find a free port: {e}"))?;
	listener
		.local_addr()
		.map(|addr| addr.port())
		.map_err(|e| format!("no local address: {e}"))
}

/// The ports of one node.
#[derive(Clone, Copy, Debug)]
pub struct Ports {
	/// The peer-to-peer port (TCP), bound to 127.0.0.1 only.
	pub p2p: u16,
	/// JSON-RPC over WebSocket and HTTP.
	pub rpc: u16,
	/// Prometheus metrics.
	pub prometheus: u16,
}

impl Ports {
	/// Three ports that were free a moment ago.
	pub fn free() -> Result<Self> {
		Ok(Self { p2p: free_port()?, rpc: free_port()?, prometheus: free_port()? })
	}
}

/// How to start a node.
#[derive(Clone, Debug)]
pub struct NodeConfig {
	/// A name for logs and messages, e.g. `alice`.
	pub name: String,
	/// The chain and role arguments, e.g. `["--dev"]` or `["--chain", "local", "--alice"]`.
	pub chain_args: Vec<String>,
	/// The ports to use.
	pub ports: Ports,
	/// Further arguments, e.g. `--bootnodes`.
	pub extra_args: Vec<String>,
}

impl NodeConfig {
	/// A single-validator dev chain node on free ports.
	pub fn dev() -> Result<Self> {
		Ok(Self {
			name: "dev".into(),
			chain_args: vec!["--dev".into()],
			ports: Ports::free()?,
			extra_args: vec![],
		})
	}
}

/// A running `gateless-node` process with its own temporary base path and log file.
/// Dropping it kills the process; [`Node::stop`] stops it cleanly and reports how it exited.
pub struct Node {
	/// The configuration the node was started with.
	pub config: NodeConfig,
	// `None` once stopped; behind a mutex so that a shared `&Node` can poll it.
	child: Mutex<Option<Child>>,
	log_path: PathBuf,
	// Deleted on drop, after the process is gone.
	_dir: tempfile::TempDir,
}

impl Node {
	/// Starts a node and waits until it answers JSON-RPC (at most [`STARTUP_TIMEOUT`]).
	/// If the process exits first, the error says so and shows its last log lines.
	pub async fn start(config: NodeConfig) -> Result<(Self, Rpc)> {
		let node = Self::spawn(config)?;
		let rpc = node.connect(STARTUP_TIMEOUT).await?;
		Ok((node, rpc))
	}

	/// Starts a node without waiting for it.
	pub fn spawn(config: NodeConfig) -> Result<Self> {
		let dir = tempfile::Builder::new()
			.prefix(&format!("gateless-{}-", config.name))
			.tempdir()
			.map_err(|e| format!("cannot create a base path: {e}"))?;
		let log_path = dir.path().join("node.log");
		let child = Self::spawn_process(&config, dir.path(), &log_path)?;
		Ok(Self { config, child: Mutex::new(Some(child)), log_path, _dir: dir })
	}

	/// Kills the node at once (SIGKILL, as a crash or a power cut would), keeping its base path
	/// for [`Node::restart`].
	pub fn kill(&mut self) -> Result<()> {
		let mut child = self.take_child().ok_or("node already stopped")?;
		child.kill().map_err(|e| format!("cannot kill {}: {e}", self.config.name))?;
		child.wait().map_err(|e| format!("{} did not exit: {e}", self.config.name))?;
		Ok(())
	}

	/// Starts a stopped or killed node again on its base path, keys and ports, and waits until it
	/// answers JSON-RPC. Its log continues in the same file.
	pub async fn restart(&mut self) -> Result<Rpc> {
		let running = {
			let mut child = self.child.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
			child.as_mut().is_some_and(|child| matches!(child.try_wait(), Ok(None)))
		};
		if running {
			return Err(format!("{} is still running", self.config.name));
		}
		let child = Self::spawn_process(&self.config, self._dir.path(), &self.log_path)?;
		*self.child.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(child);
		self.connect(STARTUP_TIMEOUT).await
	}

	/// The base path of the node's database, keystore and model store.
	pub fn base_path(&self) -> PathBuf {
		self._dir.path().join("data")
	}

	fn spawn_process(config: &NodeConfig, dir: &Path, log_path: &Path) -> Result<Child> {
		// Only `gateless-malus` takes `--test-fault`: operators' `gateless-node` cannot lie.
		let binary = if config.extra_args.iter().any(|arg| arg == "--test-fault") {
			malus_binary()?
		} else {
			node_binary()?
		};
		let log = File::options()
			.create(true)
			.append(true)
			.open(log_path)
			.map_err(|e| format!("cannot open the log: {e}"))?;
		let log_err = log.try_clone().map_err(|e| format!("cannot share the log: {e}"))?;
		let ports = config.ports;
		let mut command = Command::new(&binary);
		command
			.args(&config.chain_args)
			.arg("--base-path")
			.arg(dir.join("data"))
			.args(["--name", config.name.as_str()])
			.args(["--listen-addr", format!("/ip4/127.0.0.1/tcp/{}", ports.p2p).as_str()])
			.args(["--rpc-port", ports.rpc.to_string().as_str()])
			.args(["--prometheus-port", ports.prometheus.to_string().as_str()])
			// Loopback only: no multicast discovery, no telemetry.
			.args(["--no-mdns", "--no-telemetry"])
			.args(&config.extra_args)
			.stdin(Stdio::null())
			.stdout(log)
			.stderr(log_err);
		command
			.spawn()
			.map_err(|e| format!("cannot start {} ({}): {e}", config.name, binary.display()))
	}

	/// The node's WebSocket RPC address.
	pub fn rpc_url(&self) -> String {
		format!("ws://127.0.0.1:{}", self.config.ports.rpc)
	}

	/// The multiaddress other nodes can dial, given this node's peer id.
	pub fn p2p_address(&self, peer_id: &str) -> String {
		format!("/ip4/127.0.0.1/tcp/{}/p2p/{}", self.config.ports.p2p, peer_id)
	}

	/// Connects to the node's RPC, retrying until `timeout`, and failing at once if the node
	/// exited.
	pub async fn connect(&self, timeout: Duration) -> Result<Rpc> {
		let deadline = Instant::now() + timeout;
		loop {
			self.ensure_running()?;
			match Rpc::connect(&self.rpc_url()).await {
				Ok(rpc) => return Ok(rpc),
				Err(error) if Instant::now() >= deadline => {
					return Err(self
						.failure(&format!("did not answer JSON-RPC within {timeout:?}: {error}")))
				},
				Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
			}
		}
	}

	/// The node's Prometheus metrics, in the text exposition format.
	pub fn prometheus_metrics(&self) -> Result<String> {
		use std::io::Write;
		let address = ("127.0.0.1", self.config.ports.prometheus);
		let mut stream = std::net::TcpStream::connect(address)
			.map_err(|e| format!("cannot reach Prometheus at {address:?}: {e}"))?;
		stream
			.set_read_timeout(Some(Duration::from_secs(10)))
			.map_err(|e| e.to_string())?;
		stream
			.write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
			.map_err(|e| format!("cannot ask Prometheus: {e}"))?;
		let mut response = String::new();
		stream
			.read_to_string(&mut response)
			.map_err(|e| format!("cannot read Prometheus' answer: {e}"))?;
		match response.split_once("\r\n\r\n") {
			Some((head, body))
				if head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200") =>
			{
				Ok(body.to_string())
			},
			_ => Err(format!("unexpected Prometheus answer: {response:.200}")),
		}
	}

	/// `Ok` while the process runs; an error with the last log lines once it exited or was
	/// killed.
	pub fn ensure_running(&self) -> Result<()> {
		let stopped = self.child.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).is_none();
		if stopped {
			return Err(self.failure("was stopped or killed"));
		}
		let Some(status) = self.exit_status() else { return Ok(()) };
		Err(self.failure(&format!("exited unexpectedly ({status})")))
	}

	fn exit_status(&self) -> Option<ExitStatus> {
		let mut child = self.child.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		child.as_mut()?.try_wait().ok().flatten()
	}

	fn take_child(&mut self) -> Option<Child> {
		self.child.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner()).take()
	}

	/// An error message about this node, with the end of its log.
	pub fn failure(&self, what: &str) -> String {
		format!(
			"node {} {what}\n--- last lines of {} ---\n{}",
			self.config.name,
			self.log_path.display(),
			self.log_tail(40)
		)
	}

	/// The whole log so far.
	pub fn log(&self) -> String {
		let mut text = String::new();
		if let Ok(mut file) = File::open(&self.log_path) {
			let _ = file.read_to_string(&mut text);
		}
		text
	}

	/// The last `lines` lines of the log.
	pub fn log_tail(&self, lines: usize) -> String {
		let mut text = String::new();
		if let Ok(mut file) = File::open(&self.log_path) {
			let len = file.metadata().map(|m| m.len()).unwrap_or(0);
			let _ = file.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)));
			let _ = file.read_to_string(&mut text);
		}
		let all: Vec<&str> = text.lines().collect();
		all[all.len().saturating_sub(lines)..].join("\n")
	}

	/// Stops the node with SIGTERM, as an operator's Ctrl-C would, and returns its exit status.
	/// A node that does not exit within [`SHUTDOWN_TIMEOUT`] is killed and reported.
	pub fn stop(mut self) -> Result<ExitStatus> {
		let mut child = self.take_child().ok_or("node already stopped")?;
		// SAFETY: sending a signal to our own child process.
		unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
		let deadline = Instant::now() + SHUTDOWN_TIMEOUT;
		loop {
			match child.try_wait() {
				Ok(Some(status)) => return Ok(status),
				Ok(None) if Instant::now() < deadline => {
					std::thread::sleep(Duration::from_millis(100))
				},
				_ => {
					let _ = child.kill();
					let _ = child.wait();
					return Err(self
						.failure(&format!("did not stop within {SHUTDOWN_TIMEOUT:?} of SIGTERM")));
				},
			}
		}
	}
}

impl Drop for Node {
	fn drop(&mut self) {
		if let Some(mut child) = self.take_child() {
			let _ = child.kill();
			let _ = child.wait();
		}
		// For debugging a failed run: `GATELESS_KEEP_NODE_LOGS=DIR` keeps every node's log there
		// (as `NAME-PID.log`) before the base path is deleted.
		if let Some(dir) = std::env::var_os("GATELESS_KEEP_NODE_LOGS") {
			let kept =
				PathBuf::from(dir).join(format!("{}-{}.log", self.config.name, std::process::id()));
			let _ = std::fs::create_dir_all(kept.parent().unwrap_or(Path::new(".")));
			let _ = std::fs::copy(&self.log_path, kept);
		}
	}
}
