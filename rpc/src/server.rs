//! The server side: the `gateless_*` methods, answered from the runtime APIs at the best block
//! (or the block in `at`).

use std::{fmt::Display, marker::PhantomData, sync::Arc};

use codec::Codec;
use futures::StreamExt;
use gateless_primitives::{
	content::ContentRef,
	dispute,
	job::{self, InferenceOutput, JobId, QuoteError, TensorData},
	model::DType,
	model::{self, ModelId, RejectionReason},
	runtime_api::{InferenceJobsApi, ModelRegistryApi, ValidatorStakingApi},
	staking::ValidatorSummary,
};
use jsonrpsee::{
	core::{async_trait, RpcResult},
	proc_macros::rpc,
	types::{ErrorObject, ErrorObjectOwned},
	Extensions, PendingSubscriptionSink, SubscriptionMessage,
};
use sc_client_api::BlockchainEvents;
use sc_rpc::SubscriptionTaskExecutor;
use sp_api::{ApiError, ProvideRuntimeApi};
use sp_blockchain::HeaderBackend;
use sp_core::{Bytes, H256};
use sp_runtime::traits::Block as BlockT;

use crate::{
	convert::{
		attestation_failure_name, content_json, hex_of, inference_error_name, output_json,
		signature_json, text,
	},
	types::{self, error_code},
};

/// How many models `gateless_models` returns when no limit is given (the runtime caps it too).
pub const DEFAULT_PAGE_SIZE: u32 = 50;

/// The `gateless_*` JSON-RPC methods.
#[rpc(server)]
pub trait GatelessApi<BlockHash> {
	/// Models with an id of at least `from` (default 0), in id order, at most `limit` of them
	/// (default 50). Ask again from the page's `next` for the next page.
	#[method(name = "gateless_models")]
	fn models(
		&self,
		from: Option<u64>,
		limit: Option<u32>,
		at: Option<BlockHash>,
	) -> RpcResult<types::ModelPage>;

	/// One model, or `null` if no model has this id.
	#[method(name = "gateless_model")]
	fn model(&self, id: u64, at: Option<BlockHash>) -> RpcResult<Option<types::Model>>;

	/// What a job on `model` with `replicas` executors (the runtime's default when `null`) and
	/// inputs of `inputShapes` (one shape per declared input, in order; the model's example shapes
	/// when `null`) would cost if submitted now. Errors: `UNKNOWN_MODEL`, `NO_QUOTE`.
	#[method(name = "gateless_quote")]
	fn quote(
		&self,
		model: u64,
		replicas: Option<u32>,
		input_shapes: Option<Vec<Vec<u32>>>,
		at: Option<BlockHash>,
	) -> RpcResult<types::Quote>;

	/// A job, or `null` if no job has this id (never submitted, or pruned).
	#[method(name = "gateless_job")]
	fn job(&self, id: u64, at: Option<BlockHash>) -> RpcResult<Option<types::Job>>;

	/// A job's verified result, or `null` while it runs or if it did not end `finalized`.
	#[method(name = "gateless_result")]
	fn result(&self, id: u64, at: Option<BlockHash>) -> RpcResult<Option<types::JobResult>>;

	/// The validators and candidates: members of the current set first, then candidates.
	#[method(name = "gateless_validators")]
	fn validators(&self, at: Option<BlockHash>) -> RpcResult<Vec<types::Validator>>;

	/// Follows a job on the best chain: a `gateless_jobUpdate` message with the whole job now
	/// and at each change of its status or round progress. The message whose status is final
	/// is the last; the subscription then ends. Refused with `UNKNOWN_JOB` for an unknown id.
	#[subscription(
		name = "gateless_subscribeJob" => "gateless_jobUpdate",
		unsubscribe = "gateless_unsubscribeJob",
		item = types::Job
	)]
	fn subscribe_job(&self, id: u64);

	/// Puts ONNX bytes into this node's model store and returns their blake2-256 hash, so that
	/// its offchain worker finds a model whose URIs are private or unreachable. Unsafe: only
	/// served with `--rpc-methods unsafe` (the default on `--dev` for local connections).
	#[method(name = "gateless_putModel", with_extensions)]
	fn put_model(&self, bytes: Bytes) -> RpcResult<String>;

	/// Keeps one chunk of a user's input (at most 1 MiB) until it is assembled with
	/// `gateless_putContent` or its time-to-live ends; returns its blake2-256 hash. Safe, but
	/// each connection may upload only so many bytes a minute (`UPLOAD_RATE`).
	#[method(name = "gateless_putChunk", with_extensions)]
	fn put_chunk(&self, bytes: Bytes) -> RpcResult<String>;

	/// Assembles uploaded chunks, in order, into content of `len` bytes (every chunk 1 MiB but
	/// the last), keeps it and provides it to the network; returns its hash and length, which a
	/// job names the input by.
	#[method(name = "gateless_putContent")]
	fn put_content(&self, len: u64, chunks: Vec<H256>) -> RpcResult<types::Content>;

	/// Hands this node the file of model `model`, registered to be provided by nodes (location
	/// `peers`), as chunks uploaded with `gateless_putChunk`, in order: checked against the
	/// registered chunk list (the content hash) and the model's hash, kept in the node's model
	/// store and provided to the network, from where validators fetch it. Safe: it takes only
	/// the bytes a model registered on chain names, up to the node's largest model
	/// (`--max-model-mib`). Returns the model's content hash and length. Errors:
	/// `UNKNOWN_MODEL`, `MODEL_STORE` (not a model nodes provide, rejected or banned, chunks
	/// missing or not the registered ones, too large for this node).
	#[method(name = "gateless_putModelContent")]
	async fn put_model_content(&self, model: u64, chunks: Vec<H256>) -> RpcResult<types::Content>;

	/// A finalized job's outputs with their bytes, or `null` while it runs or if it did not end
	/// `finalized`. Outputs kept off chain are fetched from the executors that hold them (or
	/// found in this node's content store), checked against their hashes and against the root
	/// the executors agreed on, and kept here for the content time-to-live; their bytes are in
	/// the answer when they hold at most 4 MiB together, else read them chunk by chunk with
	/// `gateless_contentChunk`. Errors: `NO_OUTPUTS` (the result is an error),
	/// `CONTENT_UNAVAILABLE`.
	#[method(name = "gateless_output")]
	async fn output(&self, job: u64, at: Option<BlockHash>) -> RpcResult<Option<types::Outputs>>;

	/// Chunk `index` (1 MiB, the last one shorter) of content this node holds, as hex: how the
	/// outputs `gateless_output` fetched are read when they are too large for one answer. Safe,
	/// but each connection may read only so many bytes a minute (`DOWNLOAD_RATE`).
	#[method(name = "gateless_contentChunk", with_extensions)]
	fn content_chunk(&self, hash: H256, index: u32) -> RpcResult<String>;
}

/// The node's content store and exchange, behind `gateless_putChunk`, `gateless_putContent`,
/// `gateless_output` and `gateless_contentChunk`.
#[async_trait]
pub trait ContentService: Send + Sync {
	/// Keeps an uploaded chunk; returns its hash, or why it was refused.
	fn put_chunk(&self, bytes: &[u8]) -> Result<H256, String>;
	/// Assembles uploaded chunks into content and provides it; returns its hash.
	fn put_content(&self, len: u64, chunks: &[H256]) -> Result<H256, String>;
	/// The bytes of `content`, from the store or fetched from the peers that provide it (checked
	/// against the hash, then kept and provided); or why they cannot be had.
	async fn fetch(&self, content: ContentRef) -> Result<Vec<u8>, String>;
	/// Chunk `index` of content the store holds.
	fn chunk(&self, hash: &H256, index: u32) -> Option<Vec<u8>>;
	/// Stores the file of the model `hash`, provided as `content`, from uploaded `chunks` (in
	/// order), checked against both, and provides it; or why not.
	async fn put_model(
		&self,
		hash: H256,
		content: ContentRef,
		chunks: Vec<H256>,
	) -> Result<(), String>;
}

/// The most bytes of outputs kept off chain that `gateless_output` puts in its answer (8 MiB of
/// hex, within the server's default 10 MiB response limit).
pub const MAX_OUTPUT_ANSWER_BYTES: u64 = 4 * 1024 * 1024;

/// The bytes each RPC connection may upload, or read, per minute. A WebSocket connection keeps its
/// id; each plain HTTP request is a connection of its own, so HTTP transfers are bounded by the
/// server's request size and connection limits instead.
pub struct TransferLimiter {
	bytes_per_minute: u64,
	windows: std::sync::Mutex<std::collections::HashMap<usize, (std::time::Instant, u64)>>,
}

impl TransferLimiter {
	/// Allows `bytes_per_minute` per connection.
	pub fn new(bytes_per_minute: u64) -> Self {
		Self { bytes_per_minute, windows: Default::default() }
	}

	/// Counts `bytes` against `connection`'s minute; `false` when that goes over.
	fn allow(&self, connection: usize, bytes: u64) -> bool {
		const MINUTE: std::time::Duration = std::time::Duration::from_secs(60);
		let now = std::time::Instant::now();
		let mut windows = self.windows.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		if windows.len() > 4096 {
			windows.retain(|_, (started, _)| now.duration_since(*started) < MINUTE);
		}
		let (started, used) = windows.entry(connection).or_insert((now, 0));
		if now.duration_since(*started) >= MINUTE {
			*started = now;
			*used = 0;
		}
		if used.saturating_add(bytes) > self.bytes_per_minute {
			return false;
		}
		*used = used.saturating_add(bytes);
		true
	}
}

/// Where `gateless_putModel` puts bytes: the node's model store.
pub trait LocalModelStore: Send + Sync {
	/// Stores `bytes` under their hash; the error says why they were refused.
	fn put(&self, bytes: &[u8]) -> Result<H256, String>;
}

/// The content service and the allowances of each connection.
#[derive(Clone)]
struct ContentAccess {
	service: Arc<dyn ContentService>,
	uploads: Arc<TransferLimiter>,
	downloads: Arc<TransferLimiter>,
}

/// Marks the chain's types without owning values of them.
type ChainTypesOf<Block, AccountId, Balance, BlockNumber> =
	fn() -> (Block, AccountId, Balance, BlockNumber);

/// The implementation over a client whose runtime has the Gateless APIs.
pub struct Gateless<C, Block, AccountId, Balance, BlockNumber> {
	client: Arc<C>,
	executor: SubscriptionTaskExecutor,
	store: Option<Arc<dyn LocalModelStore>>,
	content: Option<ContentAccess>,
	_types: PhantomData<ChainTypesOf<Block, AccountId, Balance, BlockNumber>>,
}

impl<C, Block, AccountId, Balance, BlockNumber>
	Gateless<C, Block, AccountId, Balance, BlockNumber>
{
	/// Serves `client`'s chain; `store` is the node's model store, if it has one.
	pub fn new(
		client: Arc<C>,
		executor: SubscriptionTaskExecutor,
		store: Option<Arc<dyn LocalModelStore>>,
	) -> Self {
		Self { client, executor, store, content: None, _types: PhantomData }
	}

	/// Takes users' inputs into `service` and reads outputs from it, within each connection's
	/// allowances of `uploads` and `downloads`.
	pub fn with_content(
		mut self,
		service: Arc<dyn ContentService>,
		uploads: Arc<TransferLimiter>,
		downloads: Arc<TransferLimiter>,
	) -> Self {
		self.content = Some(ContentAccess { service, uploads, downloads });
		self
	}
}

fn error(code: i32, message: impl Into<String>, data: Option<&str>) -> ErrorObjectOwned {
	ErrorObject::owned(code, message.into(), data)
}

fn runtime_error(err: ApiError) -> ErrorObjectOwned {
	error(error_code::RUNTIME, "the runtime API call failed", Some(&err.to_string()))
}

fn unknown_job(id: JobId) -> ErrorObjectOwned {
	error(error_code::UNKNOWN_JOB, format!("no job {id}"), None)
}

/// The bounds the Gateless runtime APIs need of the chain's types.
pub trait ChainTypes: Codec + Display + Send + Sync + 'static {}
impl<T: Codec + Display + Send + Sync + 'static> ChainTypes for T {}

impl<C, Block, AccountId, Balance, BlockNumber> Gateless<C, Block, AccountId, Balance, BlockNumber>
where
	Block: BlockT,
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: ModelRegistryApi<Block, AccountId, Balance, BlockNumber>
		+ InferenceJobsApi<Block, AccountId, Balance, BlockNumber>
		+ ValidatorStakingApi<Block, AccountId, Balance>,
	AccountId: ChainTypes,
	Balance: ChainTypes,
	BlockNumber: Codec + Copy + Into<u64> + Send + Sync + 'static,
{
	fn at(&self, at: Option<Block::Hash>) -> Block::Hash {
		at.unwrap_or_else(|| self.client.info().best_hash)
	}

	fn content_access(&self) -> RpcResult<&ContentAccess> {
		self.content
			.as_ref()
			.ok_or_else(|| error(error_code::CONTENT_STORE, "this node takes no content", None))
	}

	fn read_job(&self, id: JobId, at: Block::Hash) -> RpcResult<Option<types::Job>> {
		let details = self.client.runtime_api().job(at, id).map_err(runtime_error)?;
		Ok(details.map(|details| job_json(id, details)))
	}
}

#[async_trait]
impl<C, Block, AccountId, Balance, BlockNumber> GatelessApiServer<Block::Hash>
	for Gateless<C, Block, AccountId, Balance, BlockNumber>
where
	Block: BlockT,
	C: ProvideRuntimeApi<Block>
		+ HeaderBackend<Block>
		+ BlockchainEvents<Block>
		+ Send
		+ Sync
		+ 'static,
	C::Api: ModelRegistryApi<Block, AccountId, Balance, BlockNumber>
		+ InferenceJobsApi<Block, AccountId, Balance, BlockNumber>
		+ ValidatorStakingApi<Block, AccountId, Balance>,
	AccountId: ChainTypes,
	Balance: ChainTypes,
	BlockNumber: Codec + Copy + Into<u64> + Send + Sync + 'static,
{
	fn models(
		&self,
		from: Option<u64>,
		limit: Option<u32>,
		at: Option<Block::Hash>,
	) -> RpcResult<types::ModelPage> {
		let at = self.at(at);
		let api = self.client.runtime_api();
		let page = api
			.models(at, from.unwrap_or(0), limit.unwrap_or(DEFAULT_PAGE_SIZE))
			.map_err(runtime_error)?;
		let mut models = Vec::with_capacity(page.models.len());
		// Read once per page: every model of it is read at the same block.
		let registry_api = registry_api_version(&*api, at)?;
		let jobs_api = jobs_api_version(&*api, at)?;
		for (id, info) in page.models {
			let mut extras = model_extras(&*api, at, registry_api, id, &info)?;
			extras.stats = model_stats(&*api, at, id, jobs_api)?;
			models.push(model_json(id, info, extras));
		}
		Ok(types::ModelPage { models, next: page.next })
	}

	fn model(&self, id: u64, at: Option<Block::Hash>) -> RpcResult<Option<types::Model>> {
		let at = self.at(at);
		let api = self.client.runtime_api();
		let Some(info) = api.model(at, id).map_err(runtime_error)? else { return Ok(None) };
		let mut extras = model_extras(&*api, at, registry_api_version(&*api, at)?, id, &info)?;
		extras.stats = model_stats(&*api, at, id, jobs_api_version(&*api, at)?)?;
		Ok(Some(model_json(id, info, extras)))
	}

	fn quote(
		&self,
		model: u64,
		replicas: Option<u32>,
		input_shapes: Option<Vec<Vec<u32>>>,
		at: Option<Block::Hash>,
	) -> RpcResult<types::Quote> {
		let at = self.at(at);
		let api = self.client.runtime_api();
		let unknown = || error(error_code::UNKNOWN_MODEL, format!("no model {model}"), None);
		let input_shapes = match input_shapes {
			// More inputs or dimensions than any model has: refused here, not decoded by the
			// runtime.
			Some(shapes)
				if shapes.len() > model::MAX_MODEL_TENSORS as usize
					|| shapes.iter().any(|shape| shape.len() > model::MAX_TENSOR_RANK as usize) =>
			{
				return Err(error(
					error_code::NO_QUOTE,
					"no quote: more input shapes, or dimensions, than a model can have",
					Some("badInputs"),
				))
			},
			Some(shapes) => shapes,
			None => {
				let info = api.model(at, model).map_err(runtime_error)?.ok_or_else(unknown)?;
				info.signature.example_shapes()
			},
		};
		let elements = job::input_elements(input_shapes.iter().map(Vec::as_slice));
		let version = registry_api_version(&*api, at)?;
		let operations =
			model_compute(&*api, at, model, version)?.map(|compute| compute.operations(elements));
		match api.quote(at, model, replicas, input_shapes).map_err(runtime_error)? {
			Ok(quote) => Ok(types::Quote { operations, ..quote_json(quote) }),
			Err(QuoteError::UnknownModel) => Err(unknown()),
			Err(reason) => {
				let (data, message) = match reason {
					QuoteError::ModelNotActive => ("modelNotActive", "the model is not active"),
					QuoteError::BadReplicas => {
						("badReplicas", "replicas must be between 1 and the runtime's maximum")
					},
					QuoteError::BadInputs => (
						"badInputs",
						"the input shapes do not fit the model's inputs, or hold more bytes than \
						 the runtime's maximum",
					),
					QuoteError::OutputsTooLarge => (
						"outputsTooLarge",
						"the model's outputs at these input shapes hold more bytes than an \
						 executor may reveal",
					),
					QuoteError::UnknownModel | QuoteError::Overflow => {
						("overflow", "the fee does not fit in a balance")
					},
				};
				Err(error(error_code::NO_QUOTE, format!("no quote: {message}"), Some(data)))
			},
		}
	}

	fn job(&self, id: u64, at: Option<Block::Hash>) -> RpcResult<Option<types::Job>> {
		self.read_job(id, self.at(at))
	}

	fn result(&self, id: u64, at: Option<Block::Hash>) -> RpcResult<Option<types::JobResult>> {
		let at = self.at(at);
		let api = self.client.runtime_api();
		let Some(result) = api.job_result(at, id).map_err(runtime_error)? else { return Ok(None) };
		// The outputs' names, from the model's signature while the model exists.
		let model = match api.job(at, id).map_err(runtime_error)? {
			Some(details) => api.model(at, details.job.model).map_err(runtime_error)?,
			None => None,
		};
		let outputs = model.map(|model| model.signature.outputs.into_inner());
		Ok(Some(types::JobResult {
			job: id,
			output: output_json(result.output, outputs.as_deref()),
			digest: hex_of(result.digest.as_bytes()),
			agreeing: result.agreeing.iter().map(ToString::to_string).collect(),
			paid_each: result.paid_each.to_string(),
			owner_paid: result.owner_paid.to_string(),
			refunded: result.refunded.to_string(),
			finalized_at: result.finalized_at.into(),
		}))
	}

	fn validators(&self, at: Option<Block::Hash>) -> RpcResult<Vec<types::Validator>> {
		let at = self.at(at);
		let validators = self.client.runtime_api().validators(at).map_err(runtime_error)?;
		Ok(validators.into_iter().map(validator_json).collect())
	}

	fn subscribe_job(&self, pending: PendingSubscriptionSink, id: u64) {
		let first = match self.read_job(id, self.at(None)) {
			Ok(Some(job)) => job,
			Ok(None) => {
				let reject = pending.reject(unknown_job(id));
				sc_rpc::utils::spawn_subscription_task(&self.executor, reject);
				return;
			},
			Err(err) => {
				sc_rpc::utils::spawn_subscription_task(&self.executor, pending.reject(err));
				return;
			},
		};
		let server = Self::new(self.client.clone(), self.executor.clone(), None);
		let follow = async move {
			let Ok(sink) = pending.accept().await else { return };
			let mut best_blocks = server
				.client
				.import_notification_stream()
				.filter(|block| futures::future::ready(block.is_new_best));
			let mut last = first;
			loop {
				let Ok(message) = SubscriptionMessage::from_json(&last) else { return };
				if sink.send(message).await.is_err() || last.status.is_final() {
					return;
				}
				// Wait for a best block where the job looks different.
				loop {
					let Some(block) = best_blocks.next().await else { return };
					match server.read_job(id, block.hash) {
						Ok(Some(job)) if job != last => {
							last = job;
							break;
						},
						Ok(Some(_)) => {},
						// Pruned between two blocks, or the block is gone: nothing more to say.
						Ok(None) | Err(_) => return,
					}
				}
			}
		};
		sc_rpc::utils::spawn_subscription_task(&self.executor, follow);
	}

	fn put_model(&self, ext: &Extensions, bytes: Bytes) -> RpcResult<String> {
		sc_rpc_api::check_if_safe(ext)?;
		let store = self
			.store
			.as_ref()
			.ok_or_else(|| error(error_code::MODEL_STORE, "this node has no model store", None))?;
		let hash = store.put(&bytes).map_err(|reason| {
			error(error_code::MODEL_STORE, "the model store refused the bytes", Some(&reason))
		})?;
		log::info!("gateless_putModel: stored {} bytes as {hash:?}", bytes.len());
		Ok(hex_of(hash.as_bytes()))
	}

	fn put_chunk(&self, ext: &Extensions, bytes: Bytes) -> RpcResult<String> {
		let access = self.content_access()?;
		if !access.uploads.allow(connection_of(ext), bytes.len() as u64) {
			return Err(error(
				error_code::UPLOAD_RATE,
				"this connection uploaded its allowance for the minute",
				None,
			));
		}
		let hash = access.service.put_chunk(&bytes).map_err(|reason| {
			error(error_code::CONTENT_STORE, "the content store refused the chunk", Some(&reason))
		})?;
		Ok(hex_of(hash.as_bytes()))
	}

	fn put_content(&self, len: u64, chunks: Vec<H256>) -> RpcResult<types::Content> {
		let access = self.content_access()?;
		let hash = access.service.put_content(len, &chunks).map_err(|reason| {
			error(error_code::CONTENT_STORE, "the content store refused the content", Some(&reason))
		})?;
		log::info!("gateless_putContent: {len} bytes as {hash:?}");
		Ok(types::Content { hash: hex_of(hash.as_bytes()), len })
	}

	async fn put_model_content(&self, id: u64, chunks: Vec<H256>) -> RpcResult<types::Content> {
		let access = self.content_access()?;
		let refused = |reason: &str| error(error_code::MODEL_STORE, reason, None);
		let info = self
			.client
			.runtime_api()
			.model(self.at(None), id)
			.map_err(runtime_error)?
			.ok_or_else(|| error(error_code::UNKNOWN_MODEL, "no model has this id", None))?;
		let Some(content) = info.location.content(info.size) else {
			return Err(refused("the model is not registered to be provided by nodes"));
		};
		if matches!(info.status, model::ModelStatus::Rejected(_) | model::ModelStatus::Banned) {
			return Err(refused("the model was rejected or banned"));
		}
		access.service.put_model(info.hash, content, chunks).await.map_err(|reason| {
			error(error_code::MODEL_STORE, "the model store refused the bytes", Some(&reason))
		})?;
		log::info!(
			"gateless_putModelContent: model {id}, {} bytes as {:?}",
			info.size,
			content.hash
		);
		Ok(types::Content { hash: hex_of(content.hash.as_bytes()), len: content.len })
	}

	async fn output(&self, id: u64, at: Option<Block::Hash>) -> RpcResult<Option<types::Outputs>> {
		let at = self.at(at);
		// The runtime API calls first, all of them, before the fetch awaits.
		let (result, model) = {
			let api = self.client.runtime_api();
			let Some(result) = api.job_result(at, id).map_err(runtime_error)? else {
				return Ok(None);
			};
			let model = match api.job(at, id).map_err(runtime_error)? {
				Some(details) => api.model(at, details.job.model).map_err(runtime_error)?,
				None => None,
			};
			(result.output, model)
		};
		let names = |position: usize| {
			model
				.as_ref()
				.and_then(|model| model.signature.outputs.get(position))
				.map(|spec| text(&spec.name))
		};
		match result {
			InferenceOutput::Tensors(tensors) => {
				let tensors = tensors
					.iter()
					.enumerate()
					.map(|(position, tensor)| types::TensorBytes {
						name: names(position),
						dtype: tensor.dtype.name().into(),
						shape: tensor.shape.to_vec(),
						content: None,
						bytes: Some(hex_of(&tensor.data)),
					})
					.collect();
				Ok(Some(types::Outputs { job: id, tensors, root_checked: true }))
			},
			InferenceOutput::Content { tensors, root } => {
				let access = self.content_access()?;
				let mut fetched = Vec::with_capacity(tensors.len());
				for tensor in tensors.iter() {
					let bytes = match &tensor.data {
						TensorData::Inline(bytes) => bytes.to_vec(),
						TensorData::Content(content) => {
							access.service.fetch(*content).await.map_err(|why| {
								error(
									error_code::CONTENT_UNAVAILABLE,
									format!("output content {:?} could not be had", content.hash),
									Some(&why),
								)
							})?
						},
					};
					fetched.push((tensor, bytes));
				}
				// Each content was checked against its hash; its leaves must also make the root
				// the executors agreed on, under the model's determinism.
				let root_checked = match &model {
					Some(model) => {
						let slices: Vec<(DType, &[u8])> = fetched
							.iter()
							.map(|(tensor, bytes)| (tensor.dtype, &bytes[..]))
							.collect();
						if dispute::output_root(&slices, &model.determinism) != Some(root) {
							return Err(error(
								error_code::CONTENT_UNAVAILABLE,
								"the outputs' bytes do not make the root the executors agreed on",
								Some("rootMismatch"),
							));
						}
						true
					},
					None => false,
				};
				let off_chain: u64 = fetched
					.iter()
					.filter(|(tensor, _)| matches!(tensor.data, TensorData::Content(_)))
					.map(|(_, bytes)| bytes.len() as u64)
					.sum();
				let answer_bytes = off_chain <= MAX_OUTPUT_ANSWER_BYTES;
				let tensors = fetched
					.into_iter()
					.enumerate()
					.map(|(position, (tensor, bytes))| {
						let content = match &tensor.data {
							TensorData::Content(content) => Some(content_json(content)),
							TensorData::Inline(_) => None,
						};
						types::TensorBytes {
							name: names(position),
							dtype: tensor.dtype.name().into(),
							shape: tensor.shape.to_vec(),
							bytes: (content.is_none() || answer_bytes).then(|| hex_of(&bytes)),
							content,
						}
					})
					.collect();
				Ok(Some(types::Outputs { job: id, tensors, root_checked }))
			},
			InferenceOutput::Error(failure) => Err(error(
				error_code::NO_OUTPUTS,
				format!("job {id}'s verified result is an error, not outputs"),
				Some(inference_error_name(failure)),
			)),
		}
	}

	fn content_chunk(&self, ext: &Extensions, hash: H256, index: u32) -> RpcResult<String> {
		let access = self.content_access()?;
		let chunk = access.service.chunk(&hash, index).ok_or_else(|| {
			error(
				error_code::CONTENT_UNAVAILABLE,
				format!("this node holds no chunk {index} of {hash:?}"),
				Some("notHeld"),
			)
		})?;
		if !access.downloads.allow(connection_of(ext), chunk.len() as u64) {
			return Err(error(
				error_code::DOWNLOAD_RATE,
				"this connection read its allowance for the minute",
				None,
			));
		}
		Ok(hex_of(&chunk))
	}
}

/// The id of the RPC connection a call came on (0 where the transport has none).
fn connection_of(ext: &Extensions) -> usize {
	ext.get::<jsonrpsee::ConnectionId>().map_or(0, |id| id.0)
}

/// What the model JSON shows beside the record: a pending model's attestations, the card and
/// the reference vectors (runtimes before version 2 of the registry's API have neither).
struct ModelExtras {
	attestations: Option<types::Attestations>,
	card: Option<types::ModelCard>,
	references: Option<types::References>,
	compute: Option<types::Compute>,
	/// Filled by the caller, from the jobs API.
	stats: Option<types::ModelStats>,
}

/// `version` is the registry API's at `at`.
fn model_extras<Api, Block, AccountId, Balance, BlockNumber>(
	api: &Api,
	at: Block::Hash,
	version: u32,
	id: ModelId,
	info: &model::ModelInfo<AccountId, Balance, BlockNumber>,
) -> RpcResult<ModelExtras>
where
	Block: BlockT,
	Api: ModelRegistryApi<Block, AccountId, Balance, BlockNumber>,
	AccountId: Codec,
	Balance: Codec,
	BlockNumber: Codec,
{
	let attestations = if info.status == model::ModelStatus::Pending {
		api.attestations(at, id)
			.map_err(runtime_error)?
			.map(|tally| types::Attestations {
				loads: tally.loads,
				fails: tally.fails,
				threshold: tally.threshold,
			})
	} else {
		None
	};
	if version < 2 {
		return Ok(ModelExtras {
			attestations,
			card: None,
			references: None,
			compute: None,
			stats: None,
		});
	}
	let card = api.model_card(at, id).map_err(runtime_error)?.map(|card| types::ModelCard {
		task: text(&card.task),
		license: text(&card.license),
		labels: card.labels.map(|hash| hex_of(hash.as_bytes())),
		inputs: text(&card.inputs),
		outputs: text(&card.outputs),
	});
	let references =
		api.model_references(at, id)
			.map_err(runtime_error)?
			.map(|references| types::References {
				count: references.vectors.len() as u32,
				checked_by: references.checked_by,
			});
	let compute = model_compute(api, at, id, version)?.map(compute_json);
	Ok(ModelExtras { attestations, card, references, compute, stats: None })
}

/// The version of the runtime's registry API at `at` (1 where the runtime does not say).
fn registry_api_version<Api, Block, AccountId, Balance, BlockNumber>(
	api: &Api,
	at: Block::Hash,
) -> RpcResult<u32>
where
	Block: BlockT,
	Api: ModelRegistryApi<Block, AccountId, Balance, BlockNumber> + sp_api::ApiExt<Block>,
	AccountId: Codec,
	Balance: Codec,
	BlockNumber: Codec,
{
	api_version::<dyn ModelRegistryApi<Block, AccountId, Balance, BlockNumber>, _, _>(api, at)
}

/// The version of runtime API `Trait` at `at` (1 where the runtime does not say).
fn api_version<Trait, Api, Block>(api: &Api, at: Block::Hash) -> RpcResult<u32>
where
	Trait: sp_api::RuntimeApiInfo + ?Sized,
	Block: BlockT,
	Api: sp_api::ApiExt<Block>,
{
	Ok(api.api_version::<Trait>(at).map_err(runtime_error)?.unwrap_or(1))
}

/// A model's compute estimate, from runtimes whose registry API (of `version`) has it (3 on).
fn model_compute<Api, Block, AccountId, Balance, BlockNumber>(
	api: &Api,
	at: Block::Hash,
	id: ModelId,
	version: u32,
) -> RpcResult<Option<model::ComputeCost>>
where
	Block: BlockT,
	Api: ModelRegistryApi<Block, AccountId, Balance, BlockNumber>,
	AccountId: Codec,
	Balance: Codec,
	BlockNumber: Codec,
{
	if version < 3 {
		return Ok(None);
	}
	api.model_compute(at, id).map_err(runtime_error)
}

/// The version of the runtime's jobs API at `at` (1 where the runtime does not say).
fn jobs_api_version<Api, Block, AccountId, Balance, BlockNumber>(
	api: &Api,
	at: Block::Hash,
) -> RpcResult<u32>
where
	Block: BlockT,
	Api: InferenceJobsApi<Block, AccountId, Balance, BlockNumber> + sp_api::ApiExt<Block>,
	AccountId: Codec,
	Balance: Codec,
	BlockNumber: Codec,
{
	api_version::<dyn InferenceJobsApi<Block, AccountId, Balance, BlockNumber>, _, _>(api, at)
}

/// A model's statistics, from runtimes whose jobs API (of `version`) keeps them (4 on).
fn model_stats<Api, Block, AccountId, Balance, BlockNumber>(
	api: &Api,
	at: Block::Hash,
	id: ModelId,
	version: u32,
) -> RpcResult<Option<types::ModelStats>>
where
	Block: BlockT,
	Api: InferenceJobsApi<Block, AccountId, Balance, BlockNumber>,
	AccountId: Codec,
	Balance: Codec + Display,
	BlockNumber: Codec + Into<u64>,
{
	if version < 4 {
		return Ok(None);
	}
	let stats = api.model_stats(at, id).map_err(runtime_error)?;
	Ok(Some(types::ModelStats {
		submitted: stats.submitted,
		finalized: stats.finalized,
		agreed_errors: stats.agreed_errors,
		failed: stats.failed,
		expired: stats.expired,
		cancelled: stats.cancelled,
		seats: stats.seats,
		agreeing: stats.agreeing,
		agreement_rate: share(stats.agreeing, stats.seats),
		revenue: stats.revenue.to_string(),
		last_used: stats.last_used.map(Into::into),
	}))
}

/// `part / whole`, `None` when `whole` is zero.
fn share(part: u32, whole: u32) -> Option<f64> {
	(whole > 0).then(|| f64::from(part) / f64::from(whole))
}

fn compute_json(compute: model::ComputeCost) -> types::Compute {
	types::Compute { fixed: compute.fixed, per_element: compute.per_element.to_float() }
}

fn model_json<AccountId: Display, Balance: Display, BlockNumber: Into<u64>>(
	id: ModelId,
	info: model::ModelInfo<AccountId, Balance, BlockNumber>,
	extras: ModelExtras,
) -> types::Model {
	let (status, rejection) = match info.status {
		model::ModelStatus::Pending => (types::ModelStatus::Pending, None),
		model::ModelStatus::Active => (types::ModelStatus::Active, None),
		model::ModelStatus::Rejected(RejectionReason::Admin) => {
			(types::ModelStatus::Rejected, Some("admin".into()))
		},
		model::ModelStatus::Rejected(RejectionReason::Attested(failure)) => {
			(types::ModelStatus::Rejected, Some(attestation_failure_name(failure).into()))
		},
		model::ModelStatus::Deprecated => (types::ModelStatus::Deprecated, None),
		model::ModelStatus::Banned => (types::ModelStatus::Banned, None),
	};
	types::Model {
		id,
		owner: info.owner.to_string(),
		name: text(&info.name),
		version: text(&info.version),
		hash: hex_of(info.hash.as_bytes()),
		size: info.size,
		location: match info.location {
			model::ModelLocation::Inline => types::Location::Inline,
			model::ModelLocation::Uris(uris) => {
				types::Location::Uris { uris: uris.iter().map(|uri| text(uri)).collect() }
			},
			model::ModelLocation::Peers { content, uris } => types::Location::Peers {
				content: hex_of(content.as_bytes()),
				uris: uris.iter().map(|uri| text(uri)).collect(),
			},
		},
		signature: signature_json(info.signature),
		determinism: match info.determinism {
			model::Determinism::Exact => types::Determinism::Exact,
			model::Determinism::Tolerance { abs, rel } => types::Determinism::Tolerance {
				abs: abs.to_float(),
				rel: f64::from(rel.deconstruct()) / 1e9,
			},
		},
		price: info.price.to_string(),
		description: text(&info.description),
		status,
		rejection,
		deposit: info.deposit.to_string(),
		registered_at: info.registered_at.into(),
		attestations: extras.attestations,
		card: extras.card,
		references: extras.references,
		compute: extras.compute,
		stats: extras.stats,
	}
}

fn quote_json<Balance: Display>(quote: job::FeeQuote<Balance>) -> types::Quote {
	types::Quote {
		model_price: quote.model_price.to_string(),
		executor_fee: quote.executor_fee.to_string(),
		replicas: quote.replicas,
		data_fee: quote.data_fee.to_string(),
		total: quote.total.to_string(),
		operations: None,
	}
}

fn job_json<AccountId: Display, Balance: Display, BlockNumber: Into<u64>>(
	id: JobId,
	details: job::JobDetails<AccountId, Balance, BlockNumber>,
) -> types::Job {
	let info = details.job;
	let (status, failure) = match info.status {
		job::JobStatus::Assigning { .. } => (types::JobStatus::Assigning, None),
		job::JobStatus::Running { .. } => (types::JobStatus::Running, None),
		job::JobStatus::Finalized => (types::JobStatus::Finalized, None),
		job::JobStatus::Failed(job::FailureReason::NoQuorum) => {
			(types::JobStatus::Failed, Some("noQuorum".into()))
		},
		job::JobStatus::Failed(job::FailureReason::NoFreshExecutors) => {
			(types::JobStatus::Failed, Some("noFreshExecutors".into()))
		},
		job::JobStatus::Failed(job::FailureReason::ModelWithdrawn) => {
			(types::JobStatus::Failed, Some("modelWithdrawn".into()))
		},
		job::JobStatus::Failed(job::FailureReason::InputUnavailable) => {
			(types::JobStatus::Failed, Some("inputUnavailable".into()))
		},
		job::JobStatus::Failed(job::FailureReason::NotAssigned) => {
			(types::JobStatus::Failed, Some("notAssigned".into()))
		},
		job::JobStatus::Expired => (types::JobStatus::Expired, None),
		job::JobStatus::Cancelled => (types::JobStatus::Cancelled, None),
	};
	types::Job {
		id,
		submitter: info.submitter.to_string(),
		model: info.model,
		model_hash: hex_of(info.model_hash.as_bytes()),
		fee: quote_json(info.fee),
		status,
		failure,
		executors: info.executors.iter().map(ToString::to_string).collect(),
		submitted_at: info.submitted_at.into(),
		expires_at: info.expires_at.into(),
		round: details.round.map(|round| types::RoundProgress {
			round: round.round,
			committee: round.committee.iter().map(ToString::to_string).collect(),
			commit_until: round.commit_until.into(),
			reveal_until: round.reveal_until.into(),
			committed: round.committed.iter().map(ToString::to_string).collect(),
			revealed: round
				.revealed
				.iter()
				.map(|(executor, digest)| types::Reveal {
					executor: executor.to_string(),
					digest: hex_of(digest.as_bytes()),
				})
				.collect(),
			abstained: round
				.abstained
				.iter()
				.map(|(executor, cause)| types::Abstained {
					executor: executor.to_string(),
					cause: format!("{cause:?}"),
				})
				.collect(),
		}),
	}
}

fn validator_json<AccountId: Display, Balance: Display>(
	summary: ValidatorSummary<AccountId, Balance>,
) -> types::Validator {
	types::Validator {
		account: summary.account.to_string(),
		bond: summary.bond.to_string(),
		unlocking: summary.unlocking.to_string(),
		candidate: summary.candidate,
		active: summary.active,
		counters: types::Counters {
			assigned: summary.counters.assigned,
			agreed: summary.counters.agreed,
			dissented: summary.counters.dissented,
			missed: summary.counters.missed,
			abstained: summary.counters.abstained,
			rewarded: summary.counters.rewarded.to_string(),
			slashed: summary.counters.slashed.to_string(),
		},
		agreement_rate: share(
			summary.counters.agreed,
			summary.counters.agreed.saturating_add(summary.counters.dissented),
		),
	}
}
