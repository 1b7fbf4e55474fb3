//! `gateless job verify`: public replay of a verified job. Anyone, not only validators, can run
//! the job's model on its inputs with the same pinned tract as the validators and see whether the
//! output falls in the agreed group under the model's determinism class, by the chain's own rule
//! (`gateless_primitives::digest`: equal digests, or every element within the tolerance).
//!
//! What it reads: the job's record and verified result; its inputs from the state of the block it
//! was submitted in (`InferenceJobsApi_job_inputs`: inputs are dropped from the state when a job
//! ends, so the node must still have that block's state: a default node keeps the last 256
//! blocks, an archive node (`--state-pruning archive`) all), inputs given by content through the
//! node (`gateless_contentChunk`); the model's bytes from the chain (inline), from the node
//! (content), or from a local file (`--model-file`), checked against the hash the job ran.

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use codec::{Decode, Encode};
use gateless_inference_engine::{LoadError, Plan, RunError};
use gateless_primitives::{
	digest::slices_agree,
	job::{InferenceError, InputTensor, InputTensors, TensorData},
	model::{model_hash, ModelInfo, ModelLocation},
	AccountId, Balance, BlockNumber,
};
use subxt::rpcs::rpc_params;

use crate::{
	chain::{decode_hex, Chain, Progress},
	output::SavedTensor,
};

/// What a replay found.
pub struct Replay {
	/// Whether the local outcome agrees with the verified one under the model's class.
	pub agrees: bool,
	/// One line per output (or for the error): what was compared and how it came out.
	pub findings: Vec<String>,
	/// Where the model's bytes came from, and whether they are the bytes the job ran.
	pub model_source: String,
	pub model_hash_matches: bool,
}

/// Replays job `id`; `model_file` replaces the model's bytes (e.g. a local copy to check).
pub async fn verify(
	chain: &Chain,
	id: u64,
	model_file: Option<&Path>,
	progress: &Progress,
) -> Result<Replay> {
	let job = chain.job(id).await?;
	let Some(result) = chain.result(id).await? else {
		bail!("job {id} has no verified result (status {:?}): nothing to replay", job.status);
	};
	let submitted_at = chain_hash(chain, job.submitted_at).await?;
	let model = runtime_call::<Option<ModelInfo<AccountId, Balance, BlockNumber>>>(
		chain,
		"ModelRegistryApi_model",
		job.model,
		&submitted_at,
	)
	.await?
	.ok_or_else(|| anyhow!("model {} is gone from the chain", job.model))?;

	let (bytes, model_source) = match model_file {
		Some(path) => (
			std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
			format!("the local file {}", path.display()),
		),
		None => (
			model_bytes(chain, job.model, &model, &submitted_at, progress).await?,
			"the chain".into(),
		),
	};
	let ran = hex::encode(model.hash.as_bytes());
	let model_hash_matches = hex::encode(model_hash(&bytes).as_bytes()) == ran;

	let inputs = runtime_call::<Option<InputTensors>>(
		chain,
		"InferenceJobsApi_job_inputs",
		id,
		&submitted_at,
	)
	.await?
	.ok_or_else(|| {
		anyhow!(
			"the node no longer has the state of block {} where job {id}'s inputs were: \
					 ask an archive node (`--state-pruning archive`)",
			job.submitted_at
		)
	})?;
	let mut tensors = Vec::with_capacity(inputs.len());
	for input in inputs.iter() {
		let data = match &input.data {
			TensorData::Inline(bytes) => bytes.to_vec(),
			TensorData::Content(content) => chain
				.content(
					&format!("0x{}", hex::encode(content.hash.as_bytes())),
					content.len,
					"an input",
					progress,
				)
				.await
				.context("an input given by content")?,
		};
		tensors.push(InputTensor {
			dtype: input.dtype,
			shape: input.shape.clone(),
			data: data.try_into().map_err(|_| anyhow!("an input above the engine's limit"))?,
		});
	}
	let local = run_locally(&bytes, &model, &tensors);

	let mut findings = Vec::new();
	let agrees = match (&result.output, local) {
		(gateless_rpc::types::Output::Error { error }, Err(local)) => {
			let local = gateless_rpc::convert::inference_error_name(local);
			findings.push(format!("the agreed error is `{error}`; locally `{local}`"));
			*error == local
		},
		(gateless_rpc::types::Output::Error { error }, Ok(_)) => {
			findings
				.push(format!("the agreed outcome is the error `{error}`; locally the model ran"));
			false
		},
		(_, Err(local)) => {
			let local = gateless_rpc::convert::inference_error_name(local);
			findings.push(format!("the agreed outcome is an output; locally the error `{local}`"));
			false
		},
		(_, Ok(outputs)) => {
			let agreed = chain
				.outputs(id, progress)
				.await?
				.ok_or_else(|| anyhow!("job {id}'s outputs cannot be read"))?;
			compare_outputs(&agreed, &outputs, &model, &mut findings)
		},
	};
	Ok(Replay { agrees, findings, model_source, model_hash_matches })
}

/// Loads the model at the inputs' shapes and runs it, as an executor's worker does.
fn run_locally(
	bytes: &[u8],
	model: &ModelInfo<AccountId, Balance, BlockNumber>,
	inputs: &[InputTensor],
) -> std::result::Result<Vec<gateless_primitives::job::HostTensor>, InferenceError> {
	let shapes: Vec<Vec<u32>> = inputs.iter().map(|input| input.shape.to_vec()).collect();
	let plan = Plan::load(bytes, &model.signature, &shapes).map_err(|error| match error {
		LoadError::SignatureMismatch(_) => InferenceError::SignatureMismatch,
		_ => InferenceError::BadModel,
	})?;
	plan.run(inputs).map_err(|error| match error {
		RunError::Verdict(error) => error,
		RunError::OutOfMemory(_) => InferenceError::OutputTooLarge,
	})
}

/// Compares each local output with the agreed one by the chain's rule; notes each.
fn compare_outputs(
	agreed: &[SavedTensor],
	local: &[gateless_primitives::job::HostTensor],
	model: &ModelInfo<AccountId, Balance, BlockNumber>,
	findings: &mut Vec<String>,
) -> bool {
	if agreed.len() != local.len() {
		findings.push(format!("{} outputs agreed, {} locally", agreed.len(), local.len()));
		return false;
	}
	let mut all = true;
	for (agreed, local) in agreed.iter().zip(local) {
		let local_dtype = local.dtype.name();
		let same_kind = agreed.dtype == local_dtype && agreed.shape == local.shape.to_vec();
		let agrees =
			same_kind && slices_agree(local.dtype, &agreed.bytes, &local.data, &model.determinism);
		let how = if !same_kind {
			format!(
				"agreed {} {:?}, locally {local_dtype} {:?}",
				agreed.dtype,
				agreed.shape,
				local.shape.to_vec()
			)
		} else if agreed.bytes == local.data.as_slice() {
			"bit for bit".to_string()
		} else if agrees {
			"within the model's tolerance".to_string()
		} else {
			let size = local.dtype.size_in_bytes() as usize;
			let differing = differing_elements(&agreed.bytes, &local.data, size);
			format!("{differing} element(s) beyond the model's {:?}", model.determinism)
		};
		findings.push(format!("output `{}`: {}", agreed.name, how));
		all &= agrees;
	}
	all
}

fn differing_elements(a: &[u8], b: &[u8], size: usize) -> usize {
	a.chunks(size.max(1)).zip(b.chunks(size.max(1))).filter(|(x, y)| x != y).count()
}

/// The model's bytes as the chain or the node has them.
async fn model_bytes(
	chain: &Chain,
	id: u64,
	model: &ModelInfo<AccountId, Balance, BlockNumber>,
	at: &str,
	progress: &Progress,
) -> Result<Vec<u8>> {
	match &model.location {
		ModelLocation::Inline => {
			runtime_call::<Option<Vec<u8>>>(chain, "ModelRegistryApi_inline_bytes", id, at)
				.await?
				.ok_or_else(|| anyhow!("model {id}'s bytes are not on chain"))
		},
		ModelLocation::Peers { content, .. } => {
			let hash = format!("0x{}", hex::encode(content.as_bytes()));
			chain
				.content(&hash, model.size, "the model", progress)
				.await
				.context("the node does not hold the model's file: pass it with --model-file")
		},
		ModelLocation::Uris(uris) => {
			let uris: Vec<String> =
				uris.iter().map(|uri| String::from_utf8_lossy(uri).into_owned()).collect();
			bail!("model {id} is served at {uris:?}: download it and pass it with --model-file")
		},
	}
}

/// The hash of block `number`.
async fn chain_hash(chain: &Chain, number: u64) -> Result<String> {
	let hash: Option<String> = chain.call("chain_getBlockHash", rpc_params![number]).await?;
	hash.ok_or_else(|| anyhow!("no block {number}"))
}

/// Calls a runtime API function at block `at` and decodes its answer.
async fn runtime_call<T: Decode>(
	chain: &Chain,
	function: &str,
	args: impl Encode,
	at: &str,
) -> Result<T> {
	let answer: String = chain
		.call("state_call", rpc_params![function, format!("0x{}", hex::encode(args.encode())), at])
		.await?;
	let bytes = decode_hex(&answer)?;
	T::decode(&mut &bytes[..]).with_context(|| format!("cannot decode {function}'s answer"))
}
