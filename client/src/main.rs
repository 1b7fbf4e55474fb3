//! `gateless`: register models, submit inference jobs and read their verified results on a
//! Gateless chain, from the command line.
//!
//! Reads go through the node's `gateless_*` JSON-RPC methods; transactions are built with the
//! calls that `subxt` generates from the runtime's metadata at compile time. Human output by
//! default, `--json` for scripts (the JSON shapes of `gateless_*`).

mod amount;
mod chain;
mod input;
mod keys;
mod npz;
mod output;
mod replay;
mod web;

use std::{path::PathBuf, time::Duration};

use anyhow::{anyhow, bail, ensure, Context, Result};
use clap::{Parser, Subcommand};
use gateless_rpc::types;
use subxt::rpcs::rpc_params;

use chain::{runtime, Chain, Progress};
use keys::KeyArgs;

#[derive(Parser, Debug)]
#[command(
	name = "gateless",
	version,
	about = "Register models, submit jobs and read verified results on a Gateless chain."
)]
struct Cli {
	/// The node's WebSocket JSON-RPC endpoint.
	#[arg(long, global = true, env = "GATELESS_URL", default_value = "ws://127.0.0.1:9944")]
	url: String,
	/// Print JSON (the `gateless_*` shapes) instead of text.
	#[arg(long, global = true)]
	json: bool,
	#[command(subcommand)]
	command: Command,
}

// Parsed once per run: the size of its largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
enum Command {
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
enum ModelCommand {
	/// Registers an ONNX file. Its hash and size are computed, and its signature (input and
	/// output names, dtypes, shapes) read from the file with tract.
	Register {
		file: PathBuf,
		#[arg(long)]
		name: String,
		#[arg(long, default_value = "1.0.0")]
		version: String,
		/// What each job pays you: whole tokens (`0.1`, `2 GATE`) or smallest units (`42`).
		#[arg(long)]
		price: String,
		/// Store the bytes on chain (the default without --uri for files up to the chain's inline
		/// limit, 256 KiB; a deposit per byte is held). Larger files without --uri are handed to
		/// the node this client talks to, which keeps them and provides them to the validators.
		#[arg(long, conflicts_with = "uri")]
		inline: bool,
		/// http(s) URIs serving the file, tried in order by validators.
		#[arg(long)]
		uri: Vec<String>,
		#[arg(long, default_value = "")]
		description: String,
		/// Compare executors' outputs bit for bit (default for integer outputs).
		#[arg(long, conflicts_with = "tolerance")]
		exact: bool,
		/// Compare element-wise within `ABS,REL` (default `0.0001,0.00001` for float outputs).
		#[arg(long)]
		tolerance: Option<String>,
		/// A JSON signature (as `gateless model show --json` prints it) instead of the file's.
		#[arg(long)]
		signature: Option<PathBuf>,
		/// The size a symbolic dimension of the file (e.g. `height=224`) has in the example
		/// shapes validators load and run the model at before they attest it; 1 where not given.
		#[arg(long = "example", value_name = "NAME=SIZE")]
		examples: Vec<String>,
		/// A reference vector: inputs, and the outputs the model must give for them (each a
		/// `.npz` by tensor name, or a `.npy`/`.json` where the model has one input or one
		/// output). Validators run it before they attest the model and reject the model if
		/// their outputs differ beyond its tolerance. Without OUTPUTS, this client computes
		/// them with tract (catching nothing that validators' tract would not); give your
		/// framework's outputs to catch a conversion that drifted. Up to 4.
		#[arg(long = "reference", value_name = "INPUTS[,OUTPUTS]")]
		references: Vec<String>,
		/// Model card: what the model does, e.g. `image-classification`.
		#[arg(long, default_value = "")]
		task: String,
		/// Model card: its license, as an SPDX identifier, e.g. `Apache-2.0`.
		#[arg(long, default_value = "")]
		license: String,
		/// Model card: its labels file (one label per line, in class order); its hash is
		/// registered.
		#[arg(long)]
		labels: Option<PathBuf>,
		/// Model card: what the inputs are and how to prepare them (e.g. `RGB 224x224, x/255`).
		#[arg(long, default_value = "")]
		input_semantics: String,
		/// Model card: what the outputs mean (e.g. `logits over the labels`).
		#[arg(long, default_value = "")]
		output_semantics: String,
		/// Wait until the validators have attested the model.
		#[arg(long)]
		wait_active: bool,
		/// How long to wait for attestation, in seconds.
		#[arg(long, default_value_t = 120)]
		timeout: u64,
		#[command(flatten)]
		keys: KeyArgs,
	},
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
enum JobCommand {
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
	Submit {
		#[arg(long)]
		model: u64,
		/// `NAME=FILE` for each of the model's inputs, or just `FILE` for a model with one input.
		#[arg(long = "input", required = true, value_name = "[NAME=]FILE")]
		inputs: Vec<String>,
		/// How many validators run it (the chain's default when absent).
		#[arg(long)]
		replicas: Option<u32>,
		/// The most the job may hold; the current quote when absent.
		#[arg(long)]
		max_fee: Option<String>,
		/// Wait for the verified result and print it.
		#[arg(long)]
		wait: bool,
		/// With `--wait`: also save every output to this `.json`, `.npz` or (one output) `.npy`
		/// file, by name; outputs kept off chain are read through the node.
		#[arg(long, requires = "wait")]
		output: Option<PathBuf>,
		/// How long to wait, in seconds.
		#[arg(long, default_value_t = 300)]
		timeout: u64,
		/// Images: multiply grey levels (0..1) by this, e.g. 16 for the 8x8 digits model.
		#[arg(long, default_value_t = 1.0)]
		pixel_scale: f64,
		/// Images: read dark as high (dark ink on light paper).
		#[arg(long)]
		invert: bool,
		#[command(flatten)]
		keys: KeyArgs,
	},
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

#[tokio::main]
async fn main() {
	let cli = Cli::parse();
	if let Err(error) = run(cli).await {
		eprintln!("error: {error:#}");
		std::process::exit(1);
	}
}

async fn run(cli: Cli) -> Result<()> {
	// The page connects to the node itself: only the other commands need a connection here.
	let connect = || async {
		let chain = Chain::connect(&cli.url).await?;
		let out = Output { json: cli.json, token: chain.token.clone() };
		anyhow::Ok((chain, out))
	};
	let progress = Progress::new(cli.json);
	match cli.command {
		Command::Web { listen } => web::serve(listen, &cli.url).await,
		Command::Model(command) => {
			let (chain, out) = connect().await?;
			model_command(&chain, &progress, &out, command).await
		},
		Command::Job(command) => {
			let (chain, out) = connect().await?;
			job_command(&chain, &progress, &out, command).await
		},
		Command::Validators => {
			let (chain, out) = connect().await?;
			let validators: Vec<types::Validator> =
				chain.call("gateless_validators", rpc_params![]).await?;
			out.validators(&validators)
		},
	}
}

async fn model_command(
	chain: &Chain,
	progress: &Progress,
	out: &Output,
	command: ModelCommand,
) -> Result<()> {
	match command {
		ModelCommand::Register {
			file,
			name,
			version,
			price,
			inline,
			uri,
			description,
			exact,
			tolerance,
			signature,
			examples,
			references,
			task,
			license,
			labels,
			input_semantics,
			output_semantics,
			wait_active,
			timeout,
			keys,
		} => {
			let signer = keys.keypair()?;
			let bytes =
				std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
			let signature = match signature {
				Some(path) => {
					let text = std::fs::read(&path)
						.with_context(|| format!("cannot read {}", path.display()))?;
					serde_json::from_slice::<types::Signature>(&text)
						.with_context(|| format!("{} is not a signature", path.display()))?
				},
				None => read_signature(&bytes, &examples)
					.with_context(|| format!("cannot read the signature of {}", file.display()))?,
			};
			let compute = check_loads(&bytes, &signature)?;
			progress.say(&format!(
				"it loads; compute per job: {} (validators estimate the same; executor fees \
				 follow it)",
				compute_text(compute.fixed, compute.per_element.to_float())
			));
			let determinism = determinism(&signature, exact, tolerance.as_deref())?;
			let labels = match labels {
				Some(path) => Some(
					gateless_primitives::model::model_hash(
						&std::fs::read(&path)
							.with_context(|| format!("cannot read {}", path.display()))?,
					)
					.0,
				),
				None => None,
			};
			let card = types::ModelCard {
				task,
				license,
				labels: labels.map(|hash| format!("0x{}", hex::encode(hash))),
				inputs: input_semantics,
				outputs: output_semantics,
			};
			let card = (card != empty_card()).then_some(card);
			let references = read_references(&bytes, &signature, &references, progress)?;
			let price = amount::parse(&price, &chain.token)?;
			let hash = gateless_primitives::model::model_hash(&bytes);
			let by_peers = uri.is_empty()
				&& !inline && bytes.len() as u64
				> u64::from(chain.max_inline_model_bytes().await?);
			// A model nodes provide: its chunks go to the node first (kept for the content
			// time-to-live), then the registration names them, then the node puts them together.
			let (content, chunks) = if by_peers {
				let chunks = chain.upload_chunks("the model", &bytes, progress).await?;
				let chunk_list = gateless_primitives::content::Manifest::of_model(&bytes)
					.context("a model file of at most 2 GiB")?;
				(Some(chunk_list.hash().0), chunks)
			} else {
				(None, Vec::new())
			};
			let references = place_references(chain, progress, references).await?;
			progress.say(&format!(
				"registering {name} {version}: {} bytes, hash {hash:?}",
				bytes.len()
			));
			let call = register_call(
				&name,
				&version,
				hash.0,
				&bytes,
				&uri,
				content,
				&signature,
				determinism,
				price,
				&description,
				card.as_ref(),
				&references,
			)?;
			let registered = chain
				.submit_then_event::<_, runtime::model_registry::events::ModelRegistered>(
					&call, &signer, progress,
				)
				.await?;
			let id = registered.model;
			if by_peers {
				let content: types::Content =
					chain.call("gateless_putModelContent", rpc_params![id, chunks]).await?;
				progress.say(&format!(
					"model {id} handed to the node, which provides it to the validators as {}",
					content.hash
				));
			}
			let mut model = chain.model(id).await?;
			if wait_active {
				progress.say(&format!("model {id} registered; waiting for attestations"));
				let since = std::time::Instant::now();
				let deadline = since + Duration::from_secs(timeout);
				let mut next_read = since + Duration::from_secs(1);
				while model.status == types::ModelStatus::Pending {
					let now = std::time::Instant::now();
					if now > deadline {
						bail!("model {id} is still pending after {timeout}s");
					}
					if now >= next_read {
						model = chain.model(id).await?;
						next_read = now + Duration::from_secs(1);
						continue;
					}
					let votes = model.attestations.as_ref().map_or_else(
						|| "no attestations yet".to_string(),
						|votes| {
							format!(
								"{} load, {} fail, {} decide",
								votes.loads, votes.fails, votes.threshold
							)
						},
					);
					progress.waiting(&format!("model {id} pending: {votes}"), since);
					tokio::time::sleep(Progress::TICK).await;
				}
				progress.clear();
				if model.status != types::ModelStatus::Active {
					out.model(&model)?;
					bail!(
						"model {id} was not activated: {:?} ({})",
						model.status,
						model.rejection.as_deref().map_or_else(
							|| "no reason given".to_owned(),
							|reason| format!("{reason}: {}", rejection_text(reason))
						)
					);
				}
			}
			out.model(&model)
		},
		ModelCommand::List { from, limit } => {
			let page: types::ModelPage =
				chain.call("gateless_models", rpc_params![from, limit]).await?;
			out.models(&page)
		},
		ModelCommand::Show { id } => out.model(&chain.model(id).await?),
		ModelCommand::Put { file } => {
			let bytes =
				std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
			let hash: String = chain
				.call("gateless_putModel", rpc_params![format!("0x{}", hex::encode(&bytes))])
				.await
				.map_err(|error| {
					if error.to_string().contains("unsafe") {
						anyhow!(
							"{error}: this node serves safe RPC methods only; putting models needs \
							 a node run with --rpc-methods unsafe, on a connection you trust"
						)
					} else {
						error
					}
				})?;
			if out.json {
				println!("{}", serde_json::json!({ "hash": hash, "size": bytes.len() }));
			} else {
				println!("stored {} bytes in the node's model store as {hash}", bytes.len());
			}
			Ok(())
		},
	}
}

async fn job_command(
	chain: &Chain,
	progress: &Progress,
	out: &Output,
	command: JobCommand,
) -> Result<()> {
	match command {
		JobCommand::Quote { model, replicas, shapes } => {
			let shapes = shapes
				.iter()
				.map(|shape| {
					shape
						.split(',')
						.map(|size| {
							size.trim().parse::<u32>().with_context(|| {
								format!("--shape {shape}: `{size}` is not a dimension")
							})
						})
						.collect::<Result<Vec<u32>>>()
				})
				.collect::<Result<Vec<_>>>()?;
			let at_examples = shapes.is_empty();
			let quote = chain.quote(model, replicas, (!at_examples).then_some(shapes)).await?;
			out.quote(&quote, at_examples)
		},
		JobCommand::Submit {
			model,
			inputs,
			replicas,
			max_fee,
			wait,
			output,
			timeout,
			pixel_scale,
			invert,
			keys,
		} => {
			let info = chain.model(model).await?;
			let image = input::ImageOptions { scale: pixel_scale, invert };
			let tensors = input::read_all(&inputs, &info.signature.inputs, image)?;
			// The model and the inputs first: their mistakes are the likelier ones.
			let signer = keys.keypair()?;
			let shapes = tensors.iter().map(|tensor| tensor.shape.clone()).collect();
			let quote = chain.quote(model, replicas, Some(shapes)).await?;
			let max_fee = match max_fee {
				Some(max_fee) => amount::parse(&max_fee, &chain.token)?,
				None => quote.total.parse().context("the node sent a malformed quote")?,
			};
			let described: Vec<String> = info
				.signature
				.inputs
				.iter()
				.zip(&tensors)
				.map(|(spec, tensor)| format!("{} {} {:?}", spec.name, tensor.dtype, tensor.shape))
				.collect();
			progress.say(&format!(
				"submitting {} to model {model}; fee {}",
				described.join(", "),
				amount::show_text(&quote.total, &chain.token)
			));
			let placed = place_tensors(chain, progress, &tensors, |position| {
				format!("input {}", info.signature.inputs[position].name)
			})
			.await?;
			let call = runtime::transactions().inference_jobs().submit_job(
				model,
				job_inputs(&tensors, &placed)?,
				replicas,
				max_fee,
			);
			let submitted = chain
				.submit_then_event::<_, runtime::inference_jobs::events::JobSubmitted>(
					&call, &signer, progress,
				)
				.await?;
			let id = submitted.job;
			if !wait {
				return out.job(&chain.job(id).await?);
			}
			progress.say(&format!("job {id} submitted; waiting for the verified result"));
			let job = chain
				.follow_job(id, Duration::from_secs(timeout), progress, |job| {
					let line = job_progress(job);
					progress.say(&line);
					line
				})
				.await?;
			finish(chain, progress, out, &job, output.as_deref()).await
		},
		JobCommand::Show { id } => out.job(&chain.job(id).await?),
		JobCommand::Result { id, output } => match chain.result(id).await? {
			Some(result) => {
				save_outputs(chain, progress, &result, output.as_deref()).await?;
				out.result(&result)
			},
			None => {
				let job = chain.job(id).await?;
				bail!("job {id} has no verified result: it is {}", status_text(&job))
			},
		},
		JobCommand::Watch { id, timeout } => {
			let quiet = Progress::new(true);
			let job = chain
				.follow_job(id, Duration::from_secs(timeout), &quiet, |job| {
					let line = job_progress(job);
					if !out.json {
						println!("{line}");
					}
					line
				})
				.await?;
			finish(chain, &quiet, out, &job, None).await
		},
		JobCommand::Verify { id, model_file } => {
			progress.say(&format!("replaying job {id} with this machine's tract"));
			let replay = replay::verify(chain, id, model_file.as_deref(), progress).await?;
			out.replay(id, &replay)?;
			if !replay.agrees {
				std::process::exit(2);
			}
			Ok(())
		},
	}
}

/// Saves every output of `result` to `path`, if one is given (an agreed error has none), with
/// their bytes from `gateless_output`: those kept off chain fetched by the node from the executors.
async fn save_outputs(
	chain: &Chain,
	progress: &Progress,
	result: &types::JobResult,
	path: Option<&std::path::Path>,
) -> Result<()> {
	let Some(path) = path else { return Ok(()) };
	match &result.output {
		types::Output::Tensors { .. } | types::Output::Content { .. } => {
			let tensors = chain
				.outputs(result.job, progress)
				.await?
				.with_context(|| format!("job {} has no result on this node", result.job))?;
			output::save(path, &tensors)?;
			progress.say(&format!("saved the outputs to {}", path.display()));
			Ok(())
		},
		types::Output::Error { error } => {
			bail!(
				"job {} has no outputs to save: its verified result is the error {error}",
				result.job
			)
		},
	}
}

/// Prints one output tensor: its first rows, and each row's argmax for a batch of scores.
fn print_tensor(tensor: &types::Tensor) {
	let types::Tensor { name, dtype, shape, values, content } = tensor;
	println!("  output       {} {dtype} {shape:?}", name.as_deref().unwrap_or("(unnamed)"));
	if let Some(content) = content {
		println!("               off chain: {} bytes, content {}", content.len, content.hash);
		return;
	}
	let row = shape.last().copied().unwrap_or(1).max(1) as usize;
	for chunk in values.chunks(row).take(16) {
		let text: Vec<String> = chunk.iter().map(ToString::to_string).collect();
		println!("               [{}]", text.join(", "));
	}
	if values.len() > 16 * row {
		println!("               … {} values in all", values.len());
	}
	if shape.len() == 2 && row > 1 && dtype.starts_with('f') {
		let classes: Vec<usize> = values
			.chunks(row)
			.map(|chunk| {
				let numbers = chunk.iter().map(|v| v.as_f64().unwrap_or(f64::MIN));
				numbers
					.enumerate()
					.fold((0, f64::MIN), |best, (i, v)| if v > best.1 { (i, v) } else { best })
					.0
			})
			.collect();
		println!("  argmax/row   {classes:?}");
	}
}

/// Prints the result of a job that ended (saving its outputs to `output`, if given), or fails
/// with how it ended.
async fn finish(
	chain: &Chain,
	progress: &Progress,
	out: &Output,
	job: &types::Job,
	output: Option<&std::path::Path>,
) -> Result<()> {
	match chain.result(job.id).await? {
		Some(result) => {
			save_outputs(chain, progress, &result, output).await?;
			out.result(&result)
		},
		None => bail!("job {} ended without a result: {}", job.id, status_text(job)),
	}
}

fn status_text(job: &types::Job) -> String {
	match (&job.status, &job.failure) {
		(types::JobStatus::Failed, Some(reason)) => format!("failed ({reason}), fee refunded"),
		(types::JobStatus::Expired, _) => "expired, fee refunded".into(),
		(types::JobStatus::Cancelled, _) => "cancelled, fee refunded".into(),
		(status, _) => format!("{status:?}").to_lowercase(),
	}
}

fn job_progress(job: &types::Job) -> String {
	match &job.round {
		Some(round) => format!(
			"job {}: {}, round {}: {}/{} committed, {}/{} revealed, {} abstained",
			job.id,
			status_text(job),
			round.round,
			round.committed.len(),
			round.committee.len(),
			round.revealed.len(),
			round.committee.len(),
			round.abstained.len()
		),
		None => format!("job {}: {}", job.id, status_text(job)),
	}
}

/// The signature the file declares, in the RPC's JSON shape, with the example sizes given as
/// `NAME=SIZE` (1 for the symbols not named).
fn read_signature(bytes: &[u8], examples: &[String]) -> Result<types::Signature> {
	let signature =
		gateless_inference_engine::read_signature(bytes).map_err(|error| anyhow!("{error:?}"))?;
	let mut signature = gateless_rpc::convert::signature_json(signature);
	for example in examples {
		let (name, size) = example
			.split_once('=')
			.ok_or_else(|| anyhow!("--example {example}: expected NAME=SIZE"))?;
		let size: u32 = size
			.parse()
			.with_context(|| format!("--example {example}: a size of at least 1"))?;
		ensure!(size > 0, "--example {example}: a size of at least 1");
		let names: Vec<String> =
			signature.symbols.iter().map(|symbol| symbol.name.clone()).collect();
		let symbol =
			signature.symbols.iter_mut().find(|symbol| symbol.name == name).ok_or_else(|| {
				anyhow!("--example {example}: the model has no symbol `{name}` (it has {names:?})")
			})?;
		symbol.example = size;
	}
	Ok(signature)
}

/// Loads the model at its example shapes, estimates its compute and runs it once, as validators
/// will before they attest it: a model that does not load gets tract's reason now, before any
/// deposit is paid.
fn check_loads(
	bytes: &[u8],
	signature: &types::Signature,
) -> Result<gateless_primitives::model::ComputeCost> {
	let declared =
		gateless_rpc::convert::signature_from_json(signature).map_err(|error| anyhow!(error))?;
	let examples: Vec<String> = signature
		.symbols
		.iter()
		.map(|symbol| format!("{}={}", symbol.name, symbol.example))
		.collect();
	let (plan, compute) = gateless_inference_engine::Plan::load_example_with_compute(
		bytes, &declared,
	)
	.map_err(|error| {
		anyhow!(
			"validators would reject this model: it does not load at the example sizes \
			 {examples:?} (set them with --example NAME=SIZE): {error:?}"
		)
	})?;
	plan.run_on_examples().map_err(|error| {
		anyhow!("validators would reject this model: it does not run at {examples:?}: {error:?}")
	})?;
	Ok(compute)
}

/// A model's compute for the reader: its fixed operations and those per input element.
fn compute_text(fixed: u64, per_element: f64) -> String {
	if per_element == 0.0 {
		format!("{fixed} operations")
	} else if fixed == 0 {
		format!("{per_element:.3} operations per input element")
	} else {
		format!("{fixed} operations + {per_element:.3} per input element")
	}
}

/// `--exact`, `--tolerance ABS,REL`, or the default for the outputs' dtypes.
fn determinism(
	signature: &types::Signature,
	exact: bool,
	tolerance: Option<&str>,
) -> Result<types::Determinism> {
	if exact {
		return Ok(types::Determinism::Exact);
	}
	if let Some(tolerance) = tolerance {
		let (abs, rel) = tolerance
			.split_once(',')
			.ok_or_else(|| anyhow!("--tolerance takes ABS,REL, e.g. 0.0001,0.00001"))?;
		let parse = |text: &str| -> Result<f64> {
			let value: f64 =
				text.trim().parse().with_context(|| format!("`{text}` is not a number"))?;
			if !(0.0..=1.0).contains(&value) {
				bail!("tolerances are between 0 and 1, not {value}");
			}
			Ok(value)
		};
		return Ok(types::Determinism::Tolerance { abs: parse(abs)?, rel: parse(rel)? });
	}
	let float = signature.outputs.iter().any(|output| output.dtype.starts_with('f'));
	Ok(if float {
		types::Determinism::Tolerance { abs: 1e-4, rel: 1e-5 }
	} else {
		types::Determinism::Exact
	})
}

mod codec_types {
	//! From the RPC's JSON shapes to the runtime's call arguments.
	use super::*;
	use runtime::runtime_types::{
		bounded_collections::bounded_vec::BoundedVec,
		gateless_primitives::{
			content::ContentRef,
			job::{JobTensor, TensorData, TensorList},
			model,
			reference::ReferenceVector,
		},
		pallet_model_registry::types::ModelSource,
		sp_arithmetic::{fixed_point::FixedU64, per_things::Perbill},
	};

	/// The card as the call takes it.
	fn card(card: &types::ModelCard) -> Result<model::ModelCard> {
		let field = |text: &str, max: u32, what: &str| -> Result<BoundedVec<u8>> {
			ensure!(text.len() <= max as usize, "the card's {what} is over {max} bytes");
			Ok(BoundedVec(text.as_bytes().to_vec()))
		};
		use gateless_primitives::model::{MAX_CARD_FIELD_LEN, MAX_SEMANTICS_LEN};
		let labels = match &card.labels {
			Some(hash) => {
				let bytes = hex::decode(hash.trim_start_matches("0x"))?;
				Some(subxt::utils::H256(bytes.try_into().map_err(|_| anyhow!("a 32-byte hash"))?))
			},
			None => None,
		};
		Ok(model::ModelCard {
			task: field(&card.task, MAX_CARD_FIELD_LEN, "task")?,
			license: field(&card.license, MAX_CARD_FIELD_LEN, "license")?,
			labels,
			inputs: field(&card.inputs, MAX_SEMANTICS_LEN, "input semantics")?,
			outputs: field(&card.outputs, MAX_SEMANTICS_LEN, "output semantics")?,
		})
	}

	fn dtype(name: &str) -> Result<model::DType> {
		Ok(match name {
			"f32" => model::DType::F32,
			"f64" => model::DType::F64,
			"f16" => model::DType::F16,
			"i8" => model::DType::I8,
			"i16" => model::DType::I16,
			"i32" => model::DType::I32,
			"i64" => model::DType::I64,
			"u8" => model::DType::U8,
			"u16" => model::DType::U16,
			"u32" => model::DType::U32,
			"u64" => model::DType::U64,
			"bool" => model::DType::Bool,
			other => bail!("unknown dtype `{other}`"),
		})
	}

	/// A job's inputs, in the model's declared order: inline, or by the content hash each was
	/// uploaded as (`placed`, one per tensor).
	pub fn job_inputs(
		tensors: &[input::Tensor],
		placed: &[Option<[u8; 32]>],
	) -> Result<TensorList> {
		let tensors = tensors
			.iter()
			.zip(placed)
			.map(|(tensor, content)| {
				let data = match content {
					None => TensorData::Inline(BoundedVec(tensor.data.clone())),
					Some(hash) => TensorData::Content(ContentRef {
						hash: subxt::utils::H256(*hash),
						len: tensor.data.len() as u64,
					}),
				};
				Ok(JobTensor {
					dtype: dtype(&tensor.dtype)?,
					shape: BoundedVec(tensor.shape.clone()),
					data,
				})
			})
			.collect::<Result<Vec<_>>>()?;
		Ok(TensorList(BoundedVec(tensors)))
	}

	#[allow(clippy::too_many_arguments)]
	pub fn register_call(
		name: &str,
		version: &str,
		hash: [u8; 32],
		bytes: &[u8],
		uris: &[String],
		content: Option<[u8; 32]>,
		signature: &types::Signature,
		determinism: types::Determinism,
		price: u128,
		description: &str,
		card: Option<&types::ModelCard>,
		references: &[PlacedReference],
	) -> Result<impl subxt::transactions::Payload> {
		let source = if let Some(content) = content {
			ModelSource::Peers {
				content: subxt::utils::H256(content),
				uris: BoundedVec(Vec::new()),
			}
		} else if uris.is_empty() {
			ModelSource::Inline(BoundedVec(bytes.to_vec()))
		} else {
			ModelSource::Uris(BoundedVec(
				uris.iter().map(|uri| BoundedVec(uri.as_bytes().to_vec())).collect(),
			))
		};
		let signature = subxt::utils::Static(
			gateless_rpc::convert::signature_from_json(signature)
				.map_err(|error| anyhow!(error))?,
		);
		let determinism = match determinism {
			types::Determinism::Exact => model::Determinism::Exact,
			types::Determinism::Tolerance { abs, rel } => model::Determinism::Tolerance {
				// FixedU64 counts billionths; Perbill too.
				abs: FixedU64((abs * 1e9).round() as u64),
				rel: Perbill((rel * 1e9).round() as u32),
			},
		};
		Ok(runtime::transactions().model_registry().register_model(
			BoundedVec(name.as_bytes().to_vec()),
			BoundedVec(version.as_bytes().to_vec()),
			subxt::utils::H256(hash),
			bytes.len() as u64,
			source,
			signature,
			determinism,
			price,
			BoundedVec(description.as_bytes().to_vec()),
			card.map(self::card).transpose()?,
			BoundedVec(
				references
					.iter()
					.map(|reference| {
						Ok(ReferenceVector {
							inputs: job_inputs(&reference.inputs, &reference.placed_inputs)?,
							outputs: job_inputs(&reference.outputs, &reference.placed_outputs)?,
						})
					})
					.collect::<Result<Vec<_>>>()?,
			),
		))
	}
}
use codec_types::{job_inputs, register_call};

/// Human or JSON output.
struct Output {
	json: bool,
	token: chain::Token,
}

impl Output {
	fn print_json<T: serde::Serialize>(&self, value: &T) -> Result<()> {
		println!("{}", serde_json::to_string_pretty(value)?);
		Ok(())
	}

	fn amount(&self, units: &str) -> String {
		amount::show_text(units, &self.token)
	}

	fn model(&self, model: &types::Model) -> Result<()> {
		if self.json {
			return self.print_json(model);
		}
		let status = match &model.rejection {
			Some(reason) => format!("{:?}: {}", model.status, rejection_text(reason)),
			None => format!("{:?}", model.status),
		};
		println!(
			"model {}: {} {} — {}",
			model.id,
			model.name,
			model.version,
			status.to_lowercase()
		);
		println!("  owner        {}", model.owner);
		let location = match &model.location {
			types::Location::Inline => "inline".to_owned(),
			types::Location::Uris { uris } => uris.join(" "),
			types::Location::Peers { content, uris } if uris.is_empty() => {
				format!("provided by nodes as {content}")
			},
			types::Location::Peers { content, uris } => {
				format!("provided by nodes as {content}, and at {}", uris.join(" "))
			},
		};
		println!("  file         {} bytes, {} ({location})", model.size, model.hash);
		for spec in &model.signature.inputs {
			println!("  input        {}: {} {}", spec.name, spec.dtype, input::shape_text(spec));
		}
		for spec in &model.signature.outputs {
			println!("  output       {}: {} {}", spec.name, spec.dtype, input::shape_text(spec));
		}
		match model.determinism {
			types::Determinism::Exact => println!("  comparison   exact"),
			types::Determinism::Tolerance { abs, rel } => {
				println!("  comparison   within {abs} + {rel} x |value|")
			},
		}
		println!("  price        {}", self.amount(&model.price));
		println!(
			"  registered   block {}, deposit {}",
			model.registered_at,
			self.amount(&model.deposit)
		);
		if let Some(attestations) = &model.attestations {
			println!(
				"  attestations {} loads, {} fails, {} decide",
				attestations.loads, attestations.fails, attestations.threshold
			);
		}
		if !model.description.is_empty() {
			println!("  description  {}", model.description);
		}
		if let Some(card) = &model.card {
			for (label, text) in [
				("task", &card.task),
				("license", &card.license),
				("inputs are", &card.inputs),
				("outputs are", &card.outputs),
			] {
				if !text.is_empty() {
					println!("  {label:<12} {text}");
				}
			}
			if let Some(labels) = &card.labels {
				println!("  labels       file with hash {labels}");
			}
		}
		if let Some(references) = &model.references {
			println!(
				"  references   {} vector(s), checked by {} validator(s)",
				references.count, references.checked_by
			);
		}
		if let Some(compute) = &model.compute {
			println!("  compute      {}", compute_text(compute.fixed, compute.per_element));
		}
		if let Some(stats) = &model.stats {
			let agreement = stats.agreement_rate.map_or_else(
				|| "no tally yet".to_string(),
				|rate| format!("{:.1} %", rate * 100.0),
			);
			println!(
				"  jobs         {} submitted: {} verified ({} agreed errors), {} failed, {} \
				 expired, {} cancelled",
				stats.submitted,
				stats.finalized,
				stats.agreed_errors,
				stats.failed,
				stats.expired,
				stats.cancelled
			);
			println!(
				"  agreement    {agreement} of {} seats; revenue {}{}",
				stats.seats,
				self.amount(&stats.revenue),
				stats
					.last_used
					.map_or_else(String::new, |block| format!("; last used in block {block}"))
			);
		}
		Ok(())
	}

	fn models(&self, page: &types::ModelPage) -> Result<()> {
		if self.json {
			return self.print_json(page);
		}
		if page.models.is_empty() {
			println!("no models");
		}
		for model in &page.models {
			println!(
				"{:>5}  {:<24} {:<10} {:<10} {}",
				model.id,
				model.name,
				model.version,
				format!("{:?}", model.status).to_lowercase(),
				self.amount(&model.price)
			);
		}
		if let Some(next) = page.next {
			println!("more: --from {next}");
		}
		Ok(())
	}

	fn quote(&self, quote: &types::Quote, at_examples: bool) -> Result<()> {
		if self.json {
			return self.print_json(quote);
		}
		println!(
			"{} = model {} + {} x {} per executor + data {}{}",
			self.amount(&quote.total),
			self.amount(&quote.model_price),
			quote.replicas,
			self.amount(&quote.executor_fee),
			self.amount(&quote.data_fee),
			if at_examples { " (at the model's example shapes)" } else { "" }
		);
		match quote.operations {
			Some(operations) => println!(
				"the job's compute: {operations} operations by the model's attested estimate; \
				 the executor fee follows it above the runtime's floor"
			),
			None => println!("the model has no compute estimate: the executor fee is the floor"),
		}
		Ok(())
	}

	fn job(&self, job: &types::Job) -> Result<()> {
		if self.json {
			return self.print_json(job);
		}
		println!("job {}: {}", job.id, status_text(job));
		println!("  model        {} ({})", job.model, job.model_hash);
		println!("  submitter    {}", job.submitter);
		println!(
			"  fee          {} for {} executor(s), of which data {}",
			self.amount(&job.fee.total),
			job.fee.replicas,
			self.amount(&job.fee.data_fee)
		);
		println!("  submitted    block {}, expires at {}", job.submitted_at, job.expires_at);
		println!("  executors    {}", job.executors.join(" "));
		if let Some(round) = &job.round {
			println!(
				"  round {}      commits until block {}, reveals until {}",
				round.round, round.commit_until, round.reveal_until
			);
			println!("  committed    {}", round.committed.join(" "));
			for reveal in &round.revealed {
				println!("  revealed     {} {}", reveal.executor, reveal.digest);
			}
			for abstention in &round.abstained {
				println!("  abstained    {} ({})", abstention.executor, abstention.cause);
			}
		}
		Ok(())
	}

	fn result(&self, result: &types::JobResult) -> Result<()> {
		if self.json {
			return self.print_json(result);
		}
		println!("job {}: verified in block {}", result.job, result.finalized_at);
		match &result.output {
			types::Output::Tensors { tensors } | types::Output::Content { tensors, .. } => {
				for tensor in tensors {
					print_tensor(tensor);
				}
			},
			types::Output::Error { error } => println!("  agreed error {error}"),
		}
		println!("  digest       {}", result.digest);
		println!("  agreeing     {}", result.agreeing.join(" "));
		println!(
			"  paid         {} each, owner {}, refunded {}",
			self.amount(&result.paid_each),
			self.amount(&result.owner_paid),
			self.amount(&result.refunded)
		);
		Ok(())
	}

	fn replay(&self, job: u64, replay: &replay::Replay) -> Result<()> {
		if self.json {
			return self.print_json(&serde_json::json!({
				"job": job,
				"agrees": replay.agrees,
				"modelSource": replay.model_source,
				"modelHashMatches": replay.model_hash_matches,
				"findings": replay.findings,
			}));
		}
		let verdict = if replay.agrees {
			"agrees with the verified result"
		} else {
			"DOES NOT agree with the verified result"
		};
		println!("job {job}: the local run {verdict}");
		let hash = if replay.model_hash_matches {
			"the bytes the job ran"
		} else {
			"NOT the bytes the job ran (another hash)"
		};
		println!("  model        from {}: {hash}", replay.model_source);
		for finding in &replay.findings {
			println!("  {finding}");
		}
		Ok(())
	}

	fn validators(&self, validators: &[types::Validator]) -> Result<()> {
		if self.json {
			return self.print_json(&validators);
		}
		for validator in validators {
			let role = match (validator.active, validator.candidate) {
				(true, _) => "active",
				(false, true) => "candidate",
				(false, false) => "chilled",
			};
			let counters = &validator.counters;
			let agreement = validator
				.agreement_rate
				.map_or_else(|| "-".to_string(), |rate| format!("{:.1} %", rate * 100.0));
			println!(
				"{} {role:<9} bond {}  assigned {} agreed {} dissented {} missed {} abstained {} \
				 agreement {agreement} slashed {}",
				validator.account,
				self.amount(&validator.bond),
				counters.assigned,
				counters.agreed,
				counters.dissented,
				counters.missed,
				counters.abstained,
				self.amount(&counters.slashed)
			);
		}
		Ok(())
	}
}

/// A reference vector read from `--reference`: its tensors in declared order.
struct Reference {
	inputs: Vec<input::Tensor>,
	outputs: Vec<input::Tensor>,
}

/// A reference vector with each tensor placed: `Some(hash)` for the ones uploaded as content.
pub struct PlacedReference {
	inputs: Vec<input::Tensor>,
	placed_inputs: Vec<Option<[u8; 32]>>,
	outputs: Vec<input::Tensor>,
	placed_outputs: Vec<Option<[u8; 32]>>,
}

/// Reads `--reference INPUTS[,OUTPUTS]` arguments; outputs not given are computed with tract.
fn read_references(
	bytes: &[u8],
	signature: &types::Signature,
	args: &[String],
	progress: &Progress,
) -> Result<Vec<Reference>> {
	let max = gateless_primitives::reference::MAX_REFERENCES as usize;
	ensure!(args.len() <= max, "at most {max} reference vectors, not {}", args.len());
	let image = input::ImageOptions { scale: 1.0, invert: false };
	args.iter()
		.map(|arg| {
			let (inputs_file, outputs_file) = match arg.split_once(',') {
				Some((inputs, outputs)) => (inputs, Some(outputs)),
				None => (arg.as_str(), None),
			};
			let inputs = input::read_all(&[inputs_file.to_owned()], &signature.inputs, image)
				.with_context(|| format!("reference inputs {inputs_file}"))?;
			let outputs = match outputs_file {
				Some(file) => input::read_all(&[file.to_owned()], &signature.outputs, image)
					.with_context(|| format!("reference outputs {file}"))?,
				None => {
					progress.say(&format!("computing the outputs of reference {inputs_file}"));
					run_locally(bytes, signature, &inputs)
						.with_context(|| format!("running the model on {inputs_file}"))?
				},
			};
			Ok(Reference { inputs, outputs })
		})
		.collect()
}

/// Runs the model with tract on `inputs`, as a validator would.
fn run_locally(
	bytes: &[u8],
	signature: &types::Signature,
	inputs: &[input::Tensor],
) -> Result<Vec<input::Tensor>> {
	use gateless_primitives::job::InputTensor;
	let declared =
		gateless_rpc::convert::signature_from_json(signature).map_err(|error| anyhow!(error))?;
	let tensors = inputs
		.iter()
		.map(|tensor| {
			Ok(InputTensor {
				dtype: gateless_rpc::convert::dtype_of_name(&tensor.dtype)
					.ok_or_else(|| anyhow!("unknown dtype {}", tensor.dtype))?,
				shape: tensor
					.shape
					.clone()
					.try_into()
					.map_err(|_| anyhow!("too many dimensions"))?,
				data: tensor.data.clone().try_into().map_err(|_| anyhow!("too large"))?,
			})
		})
		.collect::<Result<Vec<_>>>()?;
	let shapes: Vec<Vec<u32>> = inputs.iter().map(|tensor| tensor.shape.clone()).collect();
	let plan = gateless_inference_engine::Plan::load(bytes, &declared, &shapes)
		.map_err(|error| anyhow!("{error:?}"))?;
	let outputs = plan.run(&tensors).map_err(|error| anyhow!("{error:?}"))?;
	Ok(outputs
		.into_iter()
		.map(|tensor| input::Tensor {
			dtype: gateless_rpc::convert::dtype_name(tensor.dtype).to_owned(),
			shape: tensor.shape.into_inner(),
			data: tensor.data.into_inner(),
		})
		.collect())
}

/// Where each of `tensors` goes: `None` for those that stay inline (up to the chain's inline
/// threshold), else the content hash they were uploaded to the node as (`what(position)` names
/// one in the progress lines). Jobs' inputs and reference vectors are placed so.
async fn place_tensors(
	chain: &Chain,
	progress: &Progress,
	tensors: &[input::Tensor],
	what: impl Fn(usize) -> String,
) -> Result<Vec<Option<[u8; 32]>>> {
	let threshold = chain.max_inline_bytes().await? as usize;
	let mut placed = Vec::with_capacity(tensors.len());
	for (position, tensor) in tensors.iter().enumerate() {
		placed.push(if tensor.data.len() <= threshold {
			None
		} else {
			Some(chain.upload(&what(position), &tensor.data, progress).await?)
		});
	}
	Ok(placed)
}

/// Uploads the reference tensors above the chain's inline threshold to the node, as a job's
/// inputs are; the validators fetch them from it while they attest the model.
async fn place_references(
	chain: &Chain,
	progress: &Progress,
	references: Vec<Reference>,
) -> Result<Vec<PlacedReference>> {
	let mut placed = Vec::with_capacity(references.len());
	for (index, reference) in references.into_iter().enumerate() {
		let placed_inputs = place_tensors(chain, progress, &reference.inputs, |position| {
			format!("reference {index} input {position}")
		})
		.await?;
		let placed_outputs = place_tensors(chain, progress, &reference.outputs, |position| {
			format!("reference {index} output {position}")
		})
		.await?;
		placed.push(PlacedReference {
			inputs: reference.inputs,
			placed_inputs,
			outputs: reference.outputs,
			placed_outputs,
		});
	}
	Ok(placed)
}

/// A card that says nothing.
fn empty_card() -> types::ModelCard {
	types::ModelCard {
		task: String::new(),
		license: String::new(),
		labels: None,
		inputs: String::new(),
		outputs: String::new(),
	}
}

/// Why a model was rejected, in words, from the reason `gateless_model` gives.
fn rejection_text(reason: &str) -> &str {
	match reason {
		"admin" => "rejected by the registry's admin",
		"unavailable" => "validators could not get its bytes",
		"sizeMismatch" => "its bytes do not have the registered size",
		"hashMismatch" => "its bytes do not hash to the registered hash",
		"malformed" => "not an ONNX model tract can read",
		"unsupported" => "it uses operators or types the engine does not support",
		"signatureMismatch" => "its graph's inputs or outputs differ from the declared signature",
		"tooLarge" => "beyond the validators' limits (size, memory or time)",
		"referenceMismatch" => {
			"its outputs for a reference vector differ from the registered ones beyond its \
			 declared tolerance (a drifted conversion, a tolerance too tight, or a wrong reference)"
		},
		other => other,
	}
}
