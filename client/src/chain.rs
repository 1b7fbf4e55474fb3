//! The connection to a node: typed `gateless_*` calls, and transactions built from the code that
//! `subxt` generates at compile time from the runtime's metadata (`metadata/gateless.scale`).

use std::{
	io::{IsTerminal, Write},
	time::{Duration, Instant},
};

use anyhow::{anyhow, bail, Context, Result};
use gateless_rpc::types;
use serde::de::DeserializeOwned;
use subxt::{
	config::PolkadotConfig,
	error::{DispatchError, TransactionEventsError},
	extrinsics::ExtrinsicEvents,
	rpcs::{client::RpcParams, rpc_params, RpcClient},
	transactions::{Payload, TransactionStatus},
	OnlineClient,
};
use subxt_signer::sr25519::Keypair;

use crate::output::SavedTensor;

/// Calls, events and types of the Gateless runtime, generated from its metadata.
#[subxt::subxt(
	runtime_metadata_path = "metadata/gateless.scale",
	derive_for_all_types = "Clone, Debug",
	// The runtime's own types (their SCALE encodings are the calls'), so that the client builds
	// and names them as the runtime does.
	substitute_type(
		path = "gateless_primitives::model::ModelSignature",
		with = "::subxt::utils::Static<::gateless_primitives::model::ModelSignature>"
	),
	substitute_type(
		path = "gateless_primitives::model::DType",
		with = "::subxt::utils::Static<::gateless_primitives::model::DType>"
	)
)]
pub mod runtime {}

/// A connected node.
pub struct Chain {
	api: OnlineClient<PolkadotConfig>,
	rpc: RpcClient,
	/// The token's decimals and symbol, from the chain spec's properties.
	pub token: Token,
}

/// How amounts are shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
	pub decimals: u32,
	pub symbol: String,
}

impl Chain {
	/// Connects to `url` (`ws://` or `wss://`) and reads the runtime's metadata.
	pub async fn connect(url: &str) -> Result<Self> {
		let rpc = RpcClient::from_insecure_url(url)
			.await
			.with_context(|| format!("cannot connect to a node at {url}"))?;
		let api = OnlineClient::<PolkadotConfig>::from_rpc_client(rpc.clone())
			.await
			.with_context(|| format!("cannot read the runtime of the node at {url}"))?;
		let properties: serde_json::Value =
			rpc.request("system_properties", rpc_params![]).await.unwrap_or_default();
		let token = Token {
			decimals: properties["tokenDecimals"].as_u64().unwrap_or(12) as u32,
			symbol: properties["tokenSymbol"].as_str().unwrap_or("GATE").to_owned(),
		};
		Ok(Chain { api, rpc, token })
	}

	/// Calls a JSON-RPC method, turning the node's error into a readable one.
	pub async fn call<T: DeserializeOwned>(&self, method: &str, params: RpcParams) -> Result<T> {
		self.rpc.request(method, params).await.map_err(|error| rpc_error(method, error))
	}

	pub async fn model(&self, id: u64) -> Result<types::Model> {
		let model: Option<types::Model> = self.call("gateless_model", rpc_params![id]).await?;
		model.ok_or_else(|| anyhow!("there is no model {id}"))
	}

	pub async fn job(&self, id: u64) -> Result<types::Job> {
		let job: Option<types::Job> = self.call("gateless_job", rpc_params![id]).await?;
		job.ok_or_else(|| anyhow!("there is no job {id} (never submitted, or pruned)"))
	}

	pub async fn result(&self, id: u64) -> Result<Option<types::JobResult>> {
		self.call("gateless_result", rpc_params![id]).await
	}

	/// What a job would cost, with inputs of `input_shapes` (the model's example shapes when
	/// `None`).
	pub async fn quote(
		&self,
		model: u64,
		replicas: Option<u32>,
		input_shapes: Option<Vec<Vec<u32>>>,
	) -> Result<types::Quote> {
		self.call("gateless_quote", rpc_params![model, replicas, input_shapes]).await
	}

	/// Follows a job until it ends, calling `update` with each change (it returns what the
	/// progress indicator shows until the next); returns the last state.
	pub async fn follow_job(
		&self,
		id: u64,
		timeout: Duration,
		progress: &Progress,
		mut update: impl FnMut(&types::Job) -> String,
	) -> Result<types::Job> {
		let mut updates = self
			.rpc
			.subscribe::<types::Job>(
				"gateless_subscribeJob",
				rpc_params![id],
				"gateless_unsubscribeJob",
			)
			.await
			.map_err(|error| anyhow!("cannot follow job {id}: {error}"))?;
		let follow = async {
			let since = Instant::now();
			let mut ticks = tokio::time::interval(Progress::TICK);
			let mut last = String::from("waiting for the job's state");
			loop {
				let job = tokio::select! {
					job = updates.next() => job,
					_ = ticks.tick() => {
						progress.waiting(&last, since);
						continue;
					},
				};
				let Some(job) = job else { break };
				let job = job.map_err(|error| anyhow!("following job {id}: {error}"))?;
				last = update(&job);
				if job.status.is_final() {
					return Ok(job);
				}
			}
			bail!("the node stopped sending updates of job {id}")
		};
		tokio::time::timeout(timeout, follow)
			.await
			.map_err(|_| anyhow!("job {id} did not end within {}s", timeout.as_secs()))?
	}

	/// Signs `call` with `signer`, submits it and waits until it is in a best block; returns its
	/// events, or the chain's error explained.
	pub async fn submit<Call: Payload>(
		&self,
		call: &Call,
		signer: &Keypair,
		progress: &Progress,
	) -> Result<ExtrinsicEvents<PolkadotConfig>> {
		let mut transactions =
			self.api.tx().await.context("cannot read the chain's current block")?;
		// The nonce after the account's transactions in the best block and the node's pool: the
		// default (the finalized block's) would repeat the nonce of a transaction included a
		// moment ago and not yet final.
		let account = signer.public_key().to_account_id().to_string();
		let nonce: u64 = self
			.call("system_accountNextIndex", rpc_params![account])
			.await
			.context("cannot read the account's next nonce")?;
		let params = subxt::config::PolkadotExtrinsicParamsBuilder::<PolkadotConfig>::new()
			.nonce(nonce)
			.build();
		let mut watch = transactions
			.sign_and_submit_then_watch(call, signer, params)
			.await
			.map_err(|error| anyhow!("the node refused the transaction: {error}"))?;
		progress.say("submitted");
		let since = Instant::now();
		let mut ticks = tokio::time::interval(Progress::TICK);
		let mut waiting_for = "waiting for the pool";
		loop {
			let status = tokio::select! {
				status = watch.next() => status,
				_ = ticks.tick() => {
					progress.waiting(waiting_for, since);
					continue;
				},
			};
			let Some(status) = status else { break };
			match status.map_err(|error| anyhow!("watching the transaction: {error}"))? {
				TransactionStatus::Validated => waiting_for = "in the pool, waiting for a block",
				TransactionStatus::Broadcasted => {
					waiting_for = "sent to peers, waiting for a block";
				},
				TransactionStatus::InBestBlock(in_block)
				| TransactionStatus::InFinalizedBlock(in_block) => {
					progress.say(&format!(
						"in block {:?} after {} s",
						in_block.block_hash(),
						since.elapsed().as_secs()
					));
					return in_block.wait_for_success().await.map_err(explain);
				},
				TransactionStatus::Invalid { message } => {
					bail!("the transaction is invalid: {message}")
				},
				TransactionStatus::Dropped { message } => {
					bail!("the transaction was dropped: {message}")
				},
				TransactionStatus::Error { message } => bail!("the transaction failed: {message}"),
				_ => {},
			}
		}
		bail!("the node stopped reporting on the transaction")
	}
}

impl Chain {
	/// [`Chain::submit`], then the first event `E` in the call's events, e.g. the
	/// `ModelRegistered` of a registration.
	pub async fn submit_then_event<Call: Payload, E: subxt::events::DecodeAsEvent>(
		&self,
		call: &Call,
		signer: &Keypair,
		progress: &Progress,
	) -> Result<E> {
		let events = self.submit(call, signer, progress).await?;
		let name = std::any::type_name::<E>().rsplit("::").next().unwrap_or("expected");
		events
			.find_first::<E>()
			.ok_or_else(|| anyhow!("the chain reported no {name} event"))?
			.with_context(|| format!("cannot decode the {name} event"))
	}
}

/// The chain's errors in words a user can act on.
fn explain(error: TransactionEventsError) -> anyhow::Error {
	let TransactionEventsError::ExtrinsicFailed(DispatchError::Module(module)) = &error else {
		return anyhow!("the transaction failed: {error}");
	};
	let Ok(details) = module.details() else { return anyhow!("the transaction failed: {error}") };
	let name = details.variant.name.as_str();
	let hint = match name {
		"CannotAffordFee" | "InsufficientDeposit" => {
			Some("the account's free balance does not cover it")
		},
		"ModelNotActive" => Some("the model must be active (attested by the validators)"),
		"FeeAboveMax" => Some("the fee is above --max-fee; `gateless job quote` shows it"),
		"InputDTypeMismatch"
		| "InputRankMismatch"
		| "InputShapeMismatch"
		| "InputLengthMismatch" => Some(
			"the input does not match the model's declared input; `gateless model show` has it",
		),
		_ => None,
	};
	let docs = details.variant.docs.join(" ");
	let mut message = format!("{}::{name}", details.pallet.name());
	if !docs.is_empty() {
		message.push_str(&format!(": {docs}"));
	}
	if let Some(hint) = hint {
		message.push_str(&format!(" ({hint})"));
	}
	anyhow!("the chain refused it: {message}")
}

/// How long an upload waits before it tries again when the node's allowance for the minute is
/// used up.
const UPLOAD_RETRY: Duration = Duration::from_secs(2);

/// A JSON-RPC error as the user should read it: the node's message and data.
fn rpc_error(method: &str, error: subxt::rpcs::Error) -> anyhow::Error {
	match error {
		subxt::rpcs::Error::User(error) => {
			let data = error.data.map(|data| format!(" ({})", data.get())).unwrap_or_default();
			anyhow!("{}{data}", error.message)
		},
		other => anyhow!("{method}: {other}"),
	}
}

impl Chain {
	/// A constant of the runtime at the current block; `name` says which, for the error.
	async fn constant<Addr: subxt::constants::Address>(
		&self,
		address: Addr,
		name: &str,
	) -> Result<Addr::Target> {
		self.api
			.at_current_block()
			.await
			.context("cannot read the chain's current block")?
			.constants()
			.entry(address)
			.with_context(|| format!("the runtime's metadata has no {name}"))
	}

	/// The runtime's inline threshold: inputs of at most this many bytes go in the job itself,
	/// larger ones are uploaded as content.
	pub async fn max_inline_bytes(&self) -> Result<u32> {
		let constant = runtime::constants().inference_jobs().max_inline_bytes();
		self.constant(constant, "InferenceJobs.MaxInlineBytes").await
	}

	/// The most bytes of a model stored on chain: larger ones are handed to the node, which
	/// provides them to the validators.
	pub async fn max_inline_model_bytes(&self) -> Result<u32> {
		let constant = runtime::constants().model_registry().max_inline_model_bytes();
		self.constant(constant, "ModelRegistry.MaxInlineModelBytes").await
	}

	/// Hands `bytes` to the node, 1 MiB chunk by chunk (`gateless_putChunk`), checking the hash
	/// it gives each; returns the chunks' hashes. Shows how far it got while it takes more than a
	/// moment.
	pub async fn upload_chunks(
		&self,
		what: &str,
		bytes: &[u8],
		progress: &Progress,
	) -> Result<Vec<String>> {
		use gateless_primitives::content::CHUNK_BYTES;
		let started = Instant::now();
		let mut chunks = Vec::new();
		let mib = |bytes: usize| bytes as f64 / (1024.0 * 1024.0);
		for (index, chunk) in bytes.chunks(CHUNK_BYTES as usize).enumerate() {
			let done = index * CHUNK_BYTES as usize;
			progress.waiting(
				&format!("uploading {what}: {:.1} of {:.1} MiB", mib(done), mib(bytes.len())),
				started,
			);
			// The node lets each connection upload so much a minute: beyond, wait for it.
			let hex = format!("0x{}", hex::encode(chunk));
			let hash: String = loop {
				match self.rpc.request("gateless_putChunk", rpc_params![hex.clone()]).await {
					Err(subxt::rpcs::Error::User(error))
						if error.code == gateless_rpc::types::error_code::UPLOAD_RATE =>
					{
						progress.waiting(
							&format!(
								"uploading {what}: {:.1} of {:.1} MiB, waiting for the node's \
								 upload allowance",
								mib(done),
								mib(bytes.len())
							),
							started,
						);
						tokio::time::sleep(UPLOAD_RETRY).await;
					},
					answer => {
						break answer.map_err(|error| rpc_error("gateless_putChunk", error))?
					},
				}
			};
			let expected = gateless_primitives::model::model_hash(chunk);
			if hash != format!("0x{}", hex::encode(expected.as_bytes())) {
				bail!("the node named chunk {index} of {what} {hash}, not {expected:?}");
			}
			chunks.push(hash);
		}
		progress.clear();
		Ok(chunks)
	}

	/// Hands `bytes` to the node as content, 1 MiB chunk by chunk, and checks the hash it gives;
	/// returns the content's hash. Shows how far it got while it takes more than a moment.
	pub async fn upload(&self, what: &str, bytes: &[u8], progress: &Progress) -> Result<[u8; 32]> {
		use gateless_primitives::content::content_ref;
		let expected = content_ref(bytes).context("no content of 0 bytes")?;
		let chunks = self.upload_chunks(what, bytes, progress).await?;
		let content: gateless_rpc::types::Content = self
			.call("gateless_putContent", rpc_params![bytes.len() as u64, chunks])
			.await?;
		progress.clear();
		let expected_hash = format!("0x{}", hex::encode(expected.hash.as_bytes()));
		if content.hash != expected_hash {
			bail!("the node named {what} {}, not {expected_hash}", content.hash);
		}
		progress.say(&format!("uploaded {what} ({} bytes) as {expected_hash}", bytes.len()));
		Ok(expected.hash.0)
	}

	/// A finalized job's outputs with their bytes (`gateless_output`): the node fetches and checks
	/// those kept off chain; when they are too large for one answer they are read chunk by chunk
	/// (`gateless_contentChunk`) and checked against their hash here. `None` without a result.
	pub async fn outputs(&self, job: u64, progress: &Progress) -> Result<Option<Vec<SavedTensor>>> {
		progress.say(&format!("reading job {job}'s outputs"));
		let Some(outputs): Option<types::Outputs> =
			self.call("gateless_output", rpc_params![job]).await?
		else {
			return Ok(None);
		};
		let mut saved = Vec::with_capacity(outputs.tensors.len());
		for (position, tensor) in outputs.tensors.into_iter().enumerate() {
			let name = tensor.name.unwrap_or_else(|| format!("output_{position}"));
			let bytes = match (tensor.bytes, tensor.content) {
				(Some(hex), _) => decode_hex(&hex).with_context(|| format!("output `{name}`"))?,
				(None, Some(content)) => self
					.content(&content.hash, content.len, &format!("output `{name}`"), progress)
					.await
					.with_context(|| format!("output `{name}`"))?,
				(None, None) => bail!("output `{name}`: the node gave neither bytes nor content"),
			};
			saved.push(SavedTensor { name, dtype: tensor.dtype, shape: tensor.shape, bytes });
		}
		Ok(Some(saved))
	}

	/// The `len` bytes of content `hash` (`0x` hex) that the node holds, read chunk by chunk
	/// (`what` names them on the waiting line) and checked against the hash.
	pub async fn content(
		&self,
		hash: &str,
		len: u64,
		what: &str,
		progress: &Progress,
	) -> Result<Vec<u8>> {
		use gateless_primitives::content::{chunk_count, content_ref};
		let chunks = chunk_count(len).context("empty content")?;
		let started = Instant::now();
		let mut bytes = Vec::with_capacity(len as usize);
		let mib = |bytes: usize| bytes as f64 / (1024.0 * 1024.0);
		for index in 0..chunks {
			progress.waiting(
				&format!("reading {what}: {:.1} of {:.1} MiB", mib(bytes.len()), mib(len as usize)),
				started,
			);
			let chunk: String =
				self.call("gateless_contentChunk", rpc_params![hash, index]).await?;
			bytes.extend(decode_hex(&chunk)?);
		}
		progress.clear();
		let read = content_ref(&bytes).map(|read| read.hash.as_bytes().to_vec());
		if read != Some(decode_hex(hash)?) {
			bail!("the node's bytes do not match {hash}");
		}
		Ok(bytes)
	}
}

/// `0x`-prefixed hex to bytes.
pub fn decode_hex(text: &str) -> Result<Vec<u8>> {
	hex::decode(text.trim_start_matches("0x")).context("not hex")
}

/// Progress on standard error while waiting, only when it is a terminal (and not with
/// `--json`), so that scripts get clean output: a line for each step, and while blocks are
/// awaited, a line rewritten in place with a spinner and the seconds waited.
pub struct Progress {
	enabled: bool,
}

impl Progress {
	/// How often the waiting line is redrawn.
	pub const TICK: Duration = Duration::from_millis(250);
	const SPINNER: [char; 4] = ['|', '/', '-', '\\'];

	pub fn new(quiet: bool) -> Self {
		Progress { enabled: !quiet && std::io::stderr().is_terminal() }
	}

	/// A step done: a line of its own (over the waiting line, if one is shown).
	pub fn say(&self, what: &str) {
		if self.enabled {
			eprintln!("\r\x1b[2K… {what}");
		}
	}

	/// The wait is over: clears the waiting line, so that what follows starts on a clean one.
	pub fn clear(&self) {
		if self.enabled {
			eprint!("\r\x1b[2K");
			let _ = std::io::stderr().flush();
		}
	}

	/// Still waiting for `what` since `since`: redraws the waiting line.
	pub fn waiting(&self, what: &str, since: Instant) {
		if self.enabled {
			let elapsed = since.elapsed();
			let turn = (elapsed.as_millis() / Self::TICK.as_millis().max(1)) as usize;
			let spinner = Self::SPINNER[turn % Self::SPINNER.len()];
			eprint!("\r\x1b[2K{spinner} {what} ({} s)", elapsed.as_secs());
			let _ = std::io::stderr().flush();
		}
	}
}
