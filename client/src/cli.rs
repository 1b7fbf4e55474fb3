//! The command line: what `gateless` takes, as clap structs.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::keys::KeyArgs;

#[derive(Parser, Debug)]
#[command(
	name = "gateless",
	version,
	about = "Register models, submit jobs and read verified results on a Gateless chain."
)]
pub(crate) struct Cli {
	/// The node's WebSocket JSON-RPC endpoint.
	#[arg(long, global = true, env = "GATELESS_URL", default_value = "ws://127.0.0.1:9944")]
	pub(crate) url: String,
	/// Print JSON (the `gateless_*` shapes) instead of text.
	#[arg(long, global = true)]
	pub(crate) json: bool,
	#[command(subcommand)]
	pub(crate) command: Command,
}

// Parsed once per run: the size of its largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub(crate) enum Command {
	/// Models: register, list, show, and put bytes into a node's model store.
	#[command(subcommand)]
	Model(ModelCommand),
	/// Inference jobs: quote, submit, show, result.
	#[command(subcommand)]
	Job(JobCommand),
	/// The validators and candidates, their bonds and counters.
	Validators,
	/// Serves the marketplace page (catalogue, models with "Try it", validators, live feed) on a
	/// local port, talking to the node at `--url`; open the address it prints in a browser.
	Web {
		/// Where to listen; port 0 picks a free one.
		#[arg(long, default_value = "127.0.0.1:8080")]
		listen: std::net::SocketAddr,
	},
}

// Parsed once per run: the size of its largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub(crate) enum ModelCommand {
	/// Registers an ONNX file. Its hash and size are computed, and its signature (input and
	/// output names, dtypes, shapes) read from the file with tract.
	Register(RegisterArgs),
	/// Lists models, a page at a time.
	List {
		/// The first model id.
		#[arg(long)]
		from: Option<u64>,
		#[arg(long)]
		limit: Option<u32>,
	},
	/// Shows one model.
	Show { id: u64 },
	/// Puts an ONNX file into the connected node's own model store (unsafe RPC: the node must
	/// run with `--rpc-methods unsafe`), for models whose URIs are private.
	Put { file: PathBuf },
}

#[derive(Subcommand, Debug)]
pub(crate) enum JobCommand {
	/// The fee a job would hold now, and its compute by the model's estimate.
	Quote {
		#[arg(long)]
		model: u64,
		#[arg(long)]
		replicas: Option<u32>,
		/// The shape of each input, in the model's declared order, e.g. `--shape 16,64`; the
		/// model's example shapes when absent.
		#[arg(long = "shape", value_name = "D,D,...")]
		shapes: Vec<String>,
	},
	/// Submits inputs (`.json`, `.npy`, or a `.png` image) to a model.
	Submit(SubmitArgs),
	/// Shows a job: status, executors, commits and reveals.
	Show { id: u64 },
	/// Shows a job's verified result.
	Result {
		id: u64,
		/// Also save every output to this `.json`, `.npz` or (one output) `.npy` file, by name;
		/// outputs kept off chain are read through the node.
		#[arg(long)]
		output: Option<PathBuf>,
	},
	/// Follows a job until it ends.
	Watch {
		id: u64,
		#[arg(long, default_value_t = 300)]
		timeout: u64,
	},
	/// Replays a verified job here: runs its model on its inputs with the validators' pinned
	/// tract and says whether the output falls in the agreed group under the model's determinism
	/// class (exit status 2 when it does not). The inputs are read from the state of the block
	/// the job was submitted in: the node must still have it (an archive node has all).
	Verify {
		id: u64,
		/// Run this ONNX file instead of the registered model's bytes (e.g. a copy to check).
		#[arg(long)]
		model_file: Option<PathBuf>,
	},
}

/// `gateless model register`.
#[derive(Args, Debug)]
pub(crate) struct RegisterArgs {
	pub(crate) file: PathBuf,
	#[arg(long)]
	pub(crate) name: String,
	#[arg(long, default_value = "1.0.0")]
	pub(crate) version: String,
	/// What each job pays you: whole tokens (`0.1`, `2 GATE`) or smallest units (`42`).
	#[arg(long)]
	pub(crate) price: String,
	#[command(flatten)]
	pub(crate) placement: Placement,
	#[arg(long, default_value = "")]
	pub(crate) description: String,
	/// Compare executors' outputs bit for bit (default for integer outputs).
	#[arg(long, conflicts_with = "tolerance")]
	pub(crate) exact: bool,
	/// Compare element-wise within `ABS,REL` (default `0.0001,0.00001` for float outputs).
	#[arg(long)]
	pub(crate) tolerance: Option<String>,
	/// A JSON signature (as `gateless model show --json` prints it) instead of the file's.
	#[arg(long)]
	pub(crate) signature: Option<PathBuf>,
	/// The size a symbolic dimension of the file (e.g. `height=224`) has in the example
	/// shapes validators load and run the model at before they attest it; 1 where not given.
	#[arg(long = "example", value_name = "NAME=SIZE")]
	pub(crate) examples: Vec<String>,
	/// A reference vector: inputs, and the outputs the model must give for them (each a
	/// `.npz` by tensor name, or a `.npy`/`.json` where the model has one input or one
	/// output). Validators run it before they attest the model and reject the model if
	/// their outputs differ beyond its tolerance. Without OUTPUTS, this client computes
	/// them with tract (catching nothing that validators' tract would not); give your
	/// framework's outputs to catch a conversion that drifted. Up to 4.
	#[arg(long = "reference", value_name = "INPUTS[,OUTPUTS]")]
	pub(crate) references: Vec<String>,
	/// Model card: what the model does, e.g. `image-classification`.
	#[arg(long, default_value = "")]
	pub(crate) task: String,
	/// Model card: its license, as an SPDX identifier, e.g. `Apache-2.0`.
	#[arg(long, default_value = "")]
	pub(crate) license: String,
	/// Model card: its labels file (one label per line, in class order); its hash is
	/// registered.
	#[arg(long)]
	pub(crate) labels: Option<PathBuf>,
	/// Model card: what the inputs are and how to prepare them (e.g. `RGB 224x224, x/255`).
	#[arg(long, default_value = "")]
	pub(crate) input_semantics: String,
	/// Model card: what the outputs mean (e.g. `logits over the labels`).
	#[arg(long, default_value = "")]
	pub(crate) output_semantics: String,
	/// Wait until the validators have attested the model.
	#[arg(long)]
	pub(crate) wait_active: bool,
	/// How long to wait for attestation, in seconds.
	#[arg(long, default_value_t = 120)]
	pub(crate) timeout: u64,
	#[command(flatten)]
	pub(crate) keys: KeyArgs,
}

/// Where a model's bytes live: on chain, at URIs, or (neither flag) on chain up to the inline
/// limit and with this client's node otherwise.
#[derive(Args, Debug)]
#[group(multiple = false)]
pub(crate) struct Placement {
	/// Store the bytes on chain (the default without --uri for files up to the chain's inline
	/// limit, 256 KiB; a deposit per byte is held). Larger files without --uri are handed to
	/// the node this client talks to, which keeps them and provides them to the validators.
	#[arg(long)]
	pub(crate) inline: bool,
	/// http(s) URIs serving the file, tried in order by validators.
	#[arg(long)]
	pub(crate) uri: Vec<String>,
}

/// `gateless job submit`.
#[derive(Args, Debug)]
pub(crate) struct SubmitArgs {
	#[arg(long)]
	pub(crate) model: u64,
	/// `NAME=FILE` for each of the model's inputs, or just `FILE` for a model with one input.
	#[arg(long = "input", required = true, value_name = "[NAME=]FILE")]
	pub(crate) inputs: Vec<String>,
	/// How many validators run it (the chain's default when absent).
	#[arg(long)]
	pub(crate) replicas: Option<u32>,
	/// The most the job may hold; the current quote when absent.
	#[arg(long)]
	pub(crate) max_fee: Option<String>,
	/// Wait for the verified result and print it.
	#[arg(long)]
	pub(crate) wait: bool,
	/// With `--wait`: also save every output to this `.json`, `.npz` or (one output) `.npy`
	/// file, by name; outputs kept off chain are read through the node.
	#[arg(long, requires = "wait")]
	pub(crate) output: Option<PathBuf>,
	/// How long to wait, in seconds.
	#[arg(long, default_value_t = 300)]
	pub(crate) timeout: u64,
	/// Images: multiply grey levels (0..1) by this, e.g. 16 for the 8x8 digits model.
	#[arg(long, default_value_t = 1.0)]
	pub(crate) pixel_scale: f64,
	/// Images: read dark as high (dark ink on light paper).
	#[arg(long)]
	pub(crate) invert: bool,
	#[command(flatten)]
	pub(crate) keys: KeyArgs,
}
