//! The command line: `gateless-node [OPTIONS]` runs a node; subcommands manage chains and keys.

use sc_cli::RunCmd;

/// The Gateless node.
#[derive(Debug, clap::Parser)]
pub struct Cli {
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	#[clap(flatten)]
	pub run: RunCmd,

	#[clap(flatten)]
	pub inference: InferenceParams,

	#[clap(flatten)]
	pub content: ContentParams,
}

/// How this node keeps and fetches job inputs that travel off chain (every node: any node may be
/// a user's entry point, and validators fetch what they run).
#[derive(Debug, Clone, clap::Args)]
pub struct ContentParams {
	/// Where the content store keeps inputs, by hash [default: `content` in the chain's data
	/// directory]. The content an earlier run left there is dropped when the node starts.
	#[arg(long, value_name = "PATH")]
	pub content_dir: Option<std::path::PathBuf>,

	/// How long content is kept after its last use (its upload, a fetch, serving it, a job run
	/// on it, an executor's output), in seconds. A job ends within `JobTtl` blocks (10 minutes)
	/// of its submission and its result is kept `ResultRetention` (an hour) after that, so the
	/// default keeps a user's input until its job ended and an executor's outputs while the
	/// result can be read.
	#[arg(long, value_name = "SECONDS", default_value_t = 4200)]
	pub content_ttl_secs: u64,

	/// The disk quota of the content store, in MiB: the least recently used content is dropped
	/// to stay within it.
	#[arg(long, value_name = "MIB", default_value_t = 4096)]
	pub content_store_mib: u64,

	/// The longest fetching one input from peers may take, in seconds; the offchain worker
	/// tries again at the next block until the commit window's end.
	#[arg(long, value_name = "SECONDS", default_value_t = 30)]
	pub content_fetch_timeout_secs: u64,

	/// The most bytes one RPC connection may upload per minute, in MiB.
	#[arg(long, value_name = "MIB", default_value_t = 256)]
	pub content_upload_mib_per_minute: u64,

	/// The most bytes of content (jobs' outputs) one RPC connection may read per minute with
	/// `gateless_contentChunk`, in MiB.
	#[arg(long, value_name = "MIB", default_value_t = 1024)]
	pub content_download_mib_per_minute: u64,
}

impl ContentParams {
	/// The store's directory, in `data_path/content` unless given.
	pub fn dir(&self, data_path: &std::path::Path) -> std::path::PathBuf {
		self.content_dir.clone().unwrap_or_else(|| data_path.join("content"))
	}

	/// The store's limits.
	pub fn limits(&self) -> gateless_inference_engine::ContentLimits {
		gateless_inference_engine::ContentLimits {
			ttl: std::time::Duration::from_secs(self.content_ttl_secs.max(1)),
			quota_bytes: self.content_store_mib.saturating_mul(1024 * 1024),
		}
	}
}

/// How this node's offchain workers check and run models (validators only need them).
#[derive(Debug, Clone, clap::Args)]
pub struct InferenceParams {
	/// Where the model store keeps ONNX files, by hash [default: `models` in the chain's data
	/// directory].
	#[arg(long, value_name = "PATH")]
	pub model_dir: Option<std::path::PathBuf>,

	/// The largest model this node fetches and loads, in MiB; larger ones are attested
	/// `TooLarge`.
	#[arg(long, value_name = "MIB", default_value_t = 64)]
	pub max_model_mib: u64,

	/// The disk quota of the model store, in MiB: the least recently used models are removed to
	/// stay within it (they are fetched again if a job needs them), and a model larger than the
	/// quota is loaded without being stored.
	#[arg(long, value_name = "MIB", default_value_t = 4096)]
	pub model_store_mib: u64,

	/// How many optimised models the inference worker keeps in memory.
	#[arg(long, value_name = "COUNT", default_value_t = 8)]
	pub model_cache_size: usize,

	/// The longest one model load or one inference may take, in milliseconds (wall clock, and
	/// as CPU time in whole seconds); the worker is then killed. A load over it attests the model
	/// `TooLarge` for good; a run over it ends that job in a `Timeout` error.
	#[arg(long, value_name = "MS", default_value_t = 5_000)]
	pub inference_time_limit_ms: u64,

	/// The cap on the inference worker's address space, in MiB: a model or input that needs
	/// more kills the worker, not the node. Large enough for the optimised models and their
	/// activations, plus the worker's own binary.
	#[arg(long, value_name = "MIB", default_value_t = 4096)]
	pub inference_memory_mib: u64,

	/// The longest fetching a model from one of its URIs may take, in seconds.
	#[arg(long, value_name = "SECONDS", default_value_t = 30)]
	pub model_fetch_timeout_secs: u64,

	/// FOR TESTS ONLY: fetch models from URIs on loopback, private and link-local addresses,
	/// which a validator otherwise refuses (a model's registrant chooses its URIs). For test
	/// networks on one machine.
	#[arg(long)]
	pub allow_private_model_uris: bool,

	/// Threads for one inference. The default, 1, gives the same output on every run; more
	/// threads split large matrix products and may change float rounding.
	#[arg(long, value_name = "COUNT", default_value_t = 1)]
	pub inference_threads: usize,

	/// Edits to the CPU features tract may use, e.g. `-avx512f` to pin x86 kernels to the
	/// AVX2/FMA tier, so that validators on different CPUs run the same kernels (passed to tract
	/// as `TRACT_CPU_ISA`).
	#[arg(long, value_name = "EDITS")]
	pub inference_cpu_isa: Option<String>,
}

impl InferenceParams {
	/// The engine configuration, with the model store in `data_path/models` unless given, and
	/// this very binary as the inference worker.
	pub fn engine_config(
		&self,
		data_path: &std::path::Path,
	) -> std::io::Result<gateless_inference_engine::EngineConfig> {
		Ok(gateless_inference_engine::EngineConfig {
			model_dir: self.model_dir.clone().unwrap_or_else(|| data_path.join("models")),
			max_model_bytes: self.max_model_mib.saturating_mul(1024 * 1024),
			store_quota_bytes: self.model_store_mib.saturating_mul(1024 * 1024),
			cache_size: self.model_cache_size.max(1),
			time_limit: std::time::Duration::from_millis(self.inference_time_limit_ms.max(1)),
			fetch_timeout: std::time::Duration::from_secs(self.model_fetch_timeout_secs.max(1)),
			allow_private_uris: self.allow_private_model_uris,
			threads: self.inference_threads.max(1),
			// Below this the worker (the node's own binary) cannot even start.
			memory_limit: self.inference_memory_mib.max(512).saturating_mul(1024 * 1024),
			worker: gateless_inference_engine::WorkerCommand::current_exe()?,
		})
	}
}

/// The subcommands of the standard Substrate node.
#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Subcommand {
	/// Key management: generate, inspect and insert keys.
	#[command(subcommand)]
	Key(sc_cli::KeySubcommand),

	/// Build a chain specification (`--chain dev`, `--chain local`, or a JSON file).
	BuildSpec(sc_cli::BuildSpecCmd),

	/// Validate blocks.
	CheckBlock(sc_cli::CheckBlockCmd),

	/// Export blocks to a file.
	ExportBlocks(sc_cli::ExportBlocksCmd),

	/// Export the state of a block into a chain spec.
	ExportState(sc_cli::ExportStateCmd),

	/// Import blocks from a file.
	ImportBlocks(sc_cli::ImportBlocksCmd),

	/// Remove the whole chain database.
	PurgeChain(sc_cli::PurgeChainCmd),

	/// Revert the chain to a previous state.
	Revert(sc_cli::RevertCmd),

	/// Benchmark the runtime's pallets, blocks and storage (in a node built with
	/// `--features runtime-benchmarks`).
	#[cfg(feature = "runtime-benchmarks")]
	#[command(subcommand)]
	Benchmark(frame_benchmarking_cli::BenchmarkCmd),

	/// Show the database's metadata: best and finalized blocks.
	ChainInfo(sc_cli::ChainInfoCmd),
}
