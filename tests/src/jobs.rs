//! Jobs as a user runs them on a live chain: submit with the quoted fee, then follow the best
//! chain block by block until the verified result (or whatever the test waits for) appears.

use std::time::Duration;

use codec::Encode;
use frame_support::traits::Get;
use gateless_primitives::{
	content::{content_ref, ContentRef, CHUNK_BYTES},
	job::{
		FeeQuote, InputTensor, InputTensors, JobDetails, JobId, JobInput, JobResult, QuoteError,
		TensorData,
	},
	model::ModelId,
};
use gateless_runtime::{AccountId, Balance, BlockNumber, RuntimeCall, RuntimeEvent};
use sp_core::H256;
use sp_keyring::Sr25519Keyring;

use crate::{
	node::Node,
	rpc::{to_hex, Rpc},
	tx::ChainContext,
	Result,
};

/// Hands `bytes` to the node behind `rpc` as content, chunk by chunk (`gateless_putChunk`, then
/// `gateless_putContent`); returns what a job names them by.
pub async fn upload(rpc: &Rpc, bytes: &[u8]) -> Result<ContentRef> {
	let mut chunks: Vec<serde_json::Value> = Vec::new();
	for chunk in bytes.chunks(CHUNK_BYTES as usize) {
		let hash = rpc.call("gateless_putChunk", jsonrpsee::rpc_params![to_hex(chunk)]).await?;
		chunks.push(hash);
	}
	let content = rpc
		.call("gateless_putContent", jsonrpsee::rpc_params![bytes.len() as u64, chunks])
		.await?;
	let hash: H256 = serde_json::from_value(content["hash"].clone())
		.map_err(|error| format!("gateless_putContent gave {content}: {error}"))?;
	let expected = content_ref(bytes).ok_or("no content of 0 bytes")?;
	if hash != expected.hash {
		return Err(format!("the node named the content {hash:?}, not {:?}", expected.hash));
	}
	Ok(expected)
}

/// A job's inputs as a user hands them in: those of at most the runtime's inline threshold in the
/// job, the others uploaded to the node behind `rpc` and named by content.
pub async fn place_inputs(rpc: &Rpc, inputs: Vec<InputTensor>) -> Result<InputTensors> {
	let threshold: u32 =
		<gateless_runtime::Runtime as pallet_inference_jobs::Config>::MaxInlineBytes::get();
	let mut placed = Vec::with_capacity(inputs.len());
	for input in inputs {
		let data = if input.data.len() <= threshold as usize {
			TensorData::Inline(input.data.into_inner().try_into().map_err(|_| "too large inline")?)
		} else {
			TensorData::Content(upload(rpc, &input.data).await?)
		};
		placed.push(JobInput { dtype: input.dtype, shape: input.shape, data });
	}
	InputTensors::new(placed).map_err(|error| format!("{error:?}"))
}

/// How long a submitted transaction may take to be included.
pub const INCLUSION_TIMEOUT: Duration = Duration::from_secs(60);

/// A verified result as the runtime API returns it.
pub type VerifiedResult = JobResult<Balance, BlockNumber, Vec<AccountId>>;

/// The best block's hash and number.
pub async fn best_number(rpc: &Rpc) -> Result<(H256, u32)> {
	let hash = rpc.best_hash().await?;
	Ok((hash, rpc.block_number(hash).await?))
}

/// Polls the best block until `read` gives `Some`, for at most `blocks` blocks after `from`;
/// fails with the node's log if it stops or the blocks run out.
pub async fn wait_for<T, F, Fut>(
	node: &Node,
	rpc: &Rpc,
	from: u32,
	blocks: u32,
	what: &str,
	read: F,
) -> (T, u32)
where
	F: Fn(H256) -> Fut,
	Fut: std::future::Future<Output = Option<T>>,
{
	loop {
		node.ensure_running().unwrap();
		let (hash, number) = best_number(rpc).await.unwrap();
		if let Some(value) = read(hash).await {
			return (value, number);
		}
		assert!(
			number <= from + blocks,
			"{}",
			node.failure(&format!("{what} not within {blocks} blocks of block {from}"))
		);
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
}

/// The fee a job on `model` with `replicas` executors and `inputs` would cost at block `at`.
pub async fn quote(
	rpc: &Rpc,
	model: ModelId,
	replicas: u32,
	inputs: &[InputTensor],
	at: H256,
) -> Result<FeeQuote<Balance>> {
	let shapes: Vec<Vec<u32>> = inputs.iter().map(|input| input.shape.to_vec()).collect();
	let quote: std::result::Result<FeeQuote<Balance>, QuoteError> = rpc
		.runtime_api("InferenceJobsApi_quote", &(model, Some(replicas), shapes).encode(), at)
		.await?;
	quote.map_err(|error| format!("no quote for model {model}: {error:?}"))
}

/// `user` submits a job on `model` with `inputs` (one per declared input) and the fee quoted now;
/// returns the job's id, the number of the block it is in, and the quote.
pub async fn submit_job(
	rpc: &Rpc,
	context: ChainContext,
	user: Sr25519Keyring,
	model: ModelId,
	inputs: Vec<InputTensor>,
	replicas: u32,
) -> Result<(JobId, u32, FeeQuote<Balance>)> {
	let at = rpc.best_hash().await?;
	let quote = quote(rpc, model, replicas, &inputs, at).await?;
	let inputs = place_inputs(rpc, inputs).await?;
	let submit = RuntimeCall::InferenceJobs(pallet_inference_jobs::Call::submit_job {
		model,
		inputs,
		replicas: Some(replicas),
		max_fee: quote.total,
	});
	let (submitted_in, events) =
		rpc.submit_signed(context, user, submit, INCLUSION_TIMEOUT).await?;
	let job = submitted_job(&events).ok_or_else(|| format!("no JobSubmitted event: {events:?}"))?;
	Ok((job, rpc.block_number(submitted_in).await?, quote))
}

/// The id of the job submitted in a block, from the block's events.
pub fn submitted_job(events: &[RuntimeEvent]) -> Option<JobId> {
	events.iter().find_map(|event| match event {
		RuntimeEvent::InferenceJobs(pallet_inference_jobs::Event::JobSubmitted { job, .. }) => {
			Some(*job)
		},
		_ => None,
	})
}

/// A job's record and round at block `at`, if the job exists.
pub async fn job_details(
	rpc: &Rpc,
	job: JobId,
	at: H256,
) -> Result<Option<JobDetails<AccountId, Balance, BlockNumber>>> {
	rpc.runtime_api("InferenceJobsApi_job", &job.encode(), at).await
}

/// The verified result of `job` at block `at`, if it has one.
pub async fn job_result(rpc: &Rpc, job: JobId, at: H256) -> Result<Option<VerifiedResult>> {
	rpc.runtime_api("InferenceJobsApi_job_result", &job.encode(), at).await
}
