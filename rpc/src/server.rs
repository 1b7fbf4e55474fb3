//! The server side: the `gateless_*` methods, answered from the runtime APIs at the best block
//! (or the block in `at`).

use std::{fmt::Display, marker::PhantomData, sync::Arc};

use codec::Codec;
use futures::StreamExt;
use gateless_primitives::{
	job::{self, InferenceError, InferenceOutput, JobId, OutputTensor, QuoteError},
	model::{self, AttestationFailure, DType, Dim, ModelId, RejectionReason},
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

use crate::types::{self, error_code};

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

	/// The fee a job on `model` with `replicas` executors (the runtime's default when `null`)
	/// would hold if submitted now. Errors: `UNKNOWN_MODEL`, `NO_QUOTE`.
	#[method(name = "gateless_quote")]
	fn quote(
		&self,
		model: u64,
		replicas: Option<u32>,
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
}

/// Where `gateless_putModel` puts bytes: the node's model store.
pub trait LocalModelStore: Send + Sync {
	/// Stores `bytes` under their hash; the error says why they were refused.
	fn put(&self, bytes: &[u8]) -> Result<H256, String>;
}

/// The implementation over a client whose runtime has the Gateless APIs.
pub struct Gateless<C, Block, AccountId, Balance, BlockNumber> {
	client: Arc<C>,
	executor: SubscriptionTaskExecutor,
	store: Option<Arc<dyn LocalModelStore>>,
	_types: PhantomData<fn() -> (Block, AccountId, Balance, BlockNumber)>,
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
		Self { client, executor, store, _types: PhantomData }
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
		for (id, info) in page.models {
			let attestations = pending_attestations(&*api, at, id, &info)?;
			models.push(model_json(id, info, attestations));
		}
		Ok(types::ModelPage { models, next: page.next })
	}

	fn model(&self, id: u64, at: Option<Block::Hash>) -> RpcResult<Option<types::Model>> {
		let at = self.at(at);
		let api = self.client.runtime_api();
		let Some(info) = api.model(at, id).map_err(runtime_error)? else { return Ok(None) };
		let attestations = pending_attestations(&*api, at, id, &info)?;
		Ok(Some(model_json(id, info, attestations)))
	}

	fn quote(
		&self,
		model: u64,
		replicas: Option<u32>,
		at: Option<Block::Hash>,
	) -> RpcResult<types::Quote> {
		let at = self.at(at);
		match self.client.runtime_api().quote(at, model, replicas).map_err(runtime_error)? {
			Ok(quote) => Ok(quote_json(quote)),
			Err(QuoteError::UnknownModel) => {
				Err(error(error_code::UNKNOWN_MODEL, format!("no model {model}"), None))
			},
			Err(reason) => {
				let (data, message) = match reason {
					QuoteError::ModelNotActive => ("modelNotActive", "the model is not active"),
					QuoteError::BadReplicas => {
						("badReplicas", "replicas must be between 1 and the runtime's maximum")
					},
					_ => ("overflow", "the fee does not fit in a balance"),
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
		let result = self.client.runtime_api().job_result(at, id).map_err(runtime_error)?;
		Ok(result.map(|result| types::JobResult {
			job: id,
			output: output_json(result.output),
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
}

fn pending_attestations<Api: ?Sized, Block, AccountId, Balance, BlockNumber>(
	api: &Api,
	at: Block::Hash,
	id: ModelId,
	info: &model::ModelInfo<AccountId, Balance, BlockNumber>,
) -> RpcResult<Option<types::Attestations>>
where
	Block: BlockT,
	Api: ModelRegistryApi<Block, AccountId, Balance, BlockNumber>,
	AccountId: Codec,
	Balance: Codec,
	BlockNumber: Codec,
{
	if info.status != model::ModelStatus::Pending {
		return Ok(None);
	}
	let tally = api.attestations(at, id).map_err(runtime_error)?;
	Ok(tally.map(|tally| types::Attestations {
		loads: tally.loads,
		fails: tally.fails,
		threshold: tally.threshold,
	}))
}

fn hex_of(bytes: &[u8]) -> String {
	format!("0x{}", hex::encode(bytes))
}

fn text(bytes: &[u8]) -> String {
	String::from_utf8_lossy(bytes).into_owned()
}

/// The JSON name of a dtype.
pub fn dtype_name(dtype: DType) -> &'static str {
	match dtype {
		DType::F32 => "f32",
		DType::F64 => "f64",
		DType::F16 => "f16",
		DType::I8 => "i8",
		DType::I16 => "i16",
		DType::I32 => "i32",
		DType::I64 => "i64",
		DType::U8 => "u8",
		DType::U16 => "u16",
		DType::U32 => "u32",
		DType::U64 => "u64",
		DType::Bool => "bool",
	}
}

fn attestation_failure_name(failure: AttestationFailure) -> &'static str {
	match failure {
		AttestationFailure::Unavailable => "unavailable",
		AttestationFailure::SizeMismatch => "sizeMismatch",
		AttestationFailure::HashMismatch => "hashMismatch",
		AttestationFailure::Malformed => "malformed",
		AttestationFailure::Unsupported => "unsupported",
		AttestationFailure::SignatureMismatch => "signatureMismatch",
		AttestationFailure::TooLarge => "tooLarge",
	}
}

fn inference_error_name(error: InferenceError) -> &'static str {
	match error {
		InferenceError::ModelUnavailable => "modelUnavailable",
		InferenceError::BadModel => "badModel",
		InferenceError::SignatureMismatch => "signatureMismatch",
		InferenceError::BadInput => "badInput",
		InferenceError::NonFiniteOutput => "nonFiniteOutput",
		InferenceError::OutputTooLarge => "outputTooLarge",
		InferenceError::Timeout => "timeout",
	}
}

fn spec_json(spec: model::TensorSpec) -> types::TensorSpec {
	types::TensorSpec {
		name: text(&spec.name),
		dtype: dtype_name(spec.dtype).into(),
		shape: spec
			.shape
			.iter()
			.map(|dim| match dim {
				Dim::Fixed(size) => Some(*size),
				Dim::Dynamic => None,
			})
			.collect(),
	}
}

fn model_json<AccountId: Display, Balance: Display, BlockNumber: Into<u64>>(
	id: ModelId,
	info: model::ModelInfo<AccountId, Balance, BlockNumber>,
	attestations: Option<types::Attestations>,
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
		},
		signature: types::Signature {
			inputs: info.signature.inputs.into_iter().map(spec_json).collect(),
			outputs: info.signature.outputs.into_iter().map(spec_json).collect(),
		},
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
		attestations,
	}
}

fn quote_json<Balance: Display>(quote: job::FeeQuote<Balance>) -> types::Quote {
	types::Quote {
		model_price: quote.model_price.to_string(),
		executor_fee: quote.executor_fee.to_string(),
		replicas: quote.replicas,
		total: quote.total.to_string(),
	}
}

fn job_json<AccountId: Display, Balance: Display, BlockNumber: Into<u64>>(
	id: JobId,
	details: job::JobDetails<AccountId, Balance, BlockNumber>,
) -> types::Job {
	let info = details.job;
	let (status, failure) = match info.status {
		job::JobStatus::Running { .. } => (types::JobStatus::Running, None),
		job::JobStatus::Finalized => (types::JobStatus::Finalized, None),
		job::JobStatus::Failed(job::FailureReason::NoQuorum) => {
			(types::JobStatus::Failed, Some("noQuorum".into()))
		},
		job::JobStatus::Failed(job::FailureReason::NoFreshExecutors) => {
			(types::JobStatus::Failed, Some("noFreshExecutors".into()))
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
		}),
	}
}

fn output_json(output: InferenceOutput) -> types::Output {
	match output {
		InferenceOutput::Tensor(tensor) => tensor_json(&tensor),
		InferenceOutput::Error(error) => {
			types::Output::Error { error: inference_error_name(error).into() }
		},
	}
}

/// Decodes an output tensor's little-endian bytes into JSON values.
pub fn tensor_json(tensor: &OutputTensor) -> types::Output {
	use serde_json::Value;
	let width = tensor.dtype.size_in_bytes() as usize;
	let values = tensor
		.data
		.chunks_exact(width)
		.map(|chunk| {
			let mut bytes = [0u8; 8];
			bytes[..width].copy_from_slice(chunk);
			let bits = u64::from_le_bytes(bytes);
			// Sign-extends the `width` low bytes.
			let signed = |bits: u64| {
				let shift = 64 - 8 * width as u32;
				((bits << shift) as i64) >> shift
			};
			match tensor.dtype {
				DType::F32 => Value::from(f64::from(f32::from_bits(bits as u32))),
				DType::F64 => Value::from(f64::from_bits(bits)),
				DType::F16 => Value::from(f16_to_f64(bits as u16)),
				DType::I8 | DType::I16 | DType::I32 | DType::I64 => Value::from(signed(bits)),
				DType::U8 | DType::U16 | DType::U32 | DType::U64 => Value::from(bits),
				DType::Bool => Value::from(bits != 0),
			}
		})
		.collect();
	types::Output::Tensor {
		dtype: dtype_name(tensor.dtype).into(),
		shape: tensor.shape.to_vec(),
		values,
	}
}

/// IEEE 754 half precision to double, exactly.
fn f16_to_f64(bits: u16) -> f64 {
	let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
	let exponent = i32::from((bits >> 10) & 0x1f);
	let mantissa = f64::from(bits & 0x3ff);
	match exponent {
		0 => sign * mantissa * 2f64.powi(-24),
		0x1f if mantissa == 0.0 => sign * f64::INFINITY,
		0x1f => f64::NAN,
		_ => sign * (1.0 + mantissa / 1024.0) * 2f64.powi(exponent - 15),
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
			rewarded: summary.counters.rewarded.to_string(),
			slashed: summary.counters.slashed.to_string(),
		},
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use gateless_primitives::job::Tensor;

	fn tensor(dtype: DType, shape: &[u32], data: Vec<u8>) -> OutputTensor {
		Tensor { dtype, shape: shape.to_vec().try_into().unwrap(), data: data.try_into().unwrap() }
	}

	fn values(output: types::Output) -> Vec<serde_json::Value> {
		match output {
			types::Output::Tensor { values, .. } => values,
			other => panic!("not a tensor: {other:?}"),
		}
	}

	#[test]
	fn tensors_decode_from_little_endian_bytes_per_dtype() {
		let floats: Vec<u8> = [1.5f32, -0.25].iter().flat_map(|v| v.to_le_bytes()).collect();
		let output = tensor_json(&tensor(DType::F32, &[2], floats));
		assert_eq!(
			output,
			types::Output::Tensor {
				dtype: "f32".into(),
				shape: vec![2],
				values: vec![1.5.into(), (-0.25).into()]
			}
		);
		let ints: Vec<u8> = [-3i32, 7].iter().flat_map(|v| v.to_le_bytes()).collect();
		assert_eq!(
			values(tensor_json(&tensor(DType::I32, &[2], ints))),
			vec![(-3).into(), 7.into()]
		);
		assert_eq!(values(tensor_json(&tensor(DType::I8, &[1], vec![0xff]))), vec![(-1).into()]);
		assert_eq!(
			values(tensor_json(&tensor(DType::U16, &[1], vec![0xff, 0xff]))),
			vec![65535.into()]
		);
		assert_eq!(
			values(tensor_json(&tensor(DType::Bool, &[2], vec![0, 1]))),
			vec![false.into(), true.into()]
		);
		// 1.0, -2.0 and the smallest subnormal in half precision.
		let halves = vec![0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00];
		assert_eq!(
			values(tensor_json(&tensor(DType::F16, &[3], halves))),
			vec![1.0.into(), (-2.0).into(), 2f64.powi(-24).into()]
		);
	}

	#[test]
	fn results_serialize_with_the_documented_field_names() {
		let result = types::JobResult {
			job: 7,
			output: types::Output::Error {
				error: inference_error_name(InferenceError::BadInput).into(),
			},
			digest: "0x00".into(),
			agreeing: vec!["5Grw".into()],
			paid_each: "10".into(),
			owner_paid: "0".into(),
			refunded: "5".into(),
			finalized_at: 12,
		};
		let json = serde_json::to_value(&result).unwrap();
		assert_eq!(
			json,
			serde_json::json!({
				"job": 7,
				"output": {"kind": "error", "error": "badInput"},
				"digest": "0x00",
				"agreeing": ["5Grw"],
				"paidEach": "10",
				"ownerPaid": "0",
				"refunded": "5",
				"finalizedAt": 12
			})
		);
		let back: types::JobResult = serde_json::from_value(json).unwrap();
		assert_eq!(back, result);
	}
}
