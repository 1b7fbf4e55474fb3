//! Hostile models on a real dev chain: a model that allocates without bound when loaded, and one
//! whose job input asks for an unbounded allocation, cost the validator's node an inference
//! worker each, never itself. The node keeps producing and finalizing blocks and answering its
//! RPC, the first model is rejected by the validator's attestation, the validator abstains from
//! the bad job (its memory limit is not a verdict), which fails with a full refund, a good job on
//! the same model still runs, and the validator is never slashed. The node's Prometheus metrics
//! count the abstention, the failed load and the replaced worker, and its model store no longer
//! holds the rejected model.

use std::time::Duration;

use codec::Encode;
use gateless_e2e::{
	jobs::{job_details, job_result, submit_job, wait_for, INCLUSION_TIMEOUT},
	models::{model_status, register_inline, registered_model},
	node::{Node, NodeConfig},
	rpc::{wait_for_finalized, Rpc},
};
use gateless_primitives::{
	job::{FailureReason, JobStatus, Tensor},
	model::{AttestationFailure, DType, ModelId, ModelStatus, RejectionReason},
	staking::ValidatorSummary,
};
use gateless_runtime::{token::UNIT, AccountId, Balance};
use sp_keyring::Sr25519Keyring;

const MAX_BLOCKS_TO_VERDICT: u32 = 6;
const MAX_BLOCKS_TO_RESULT: u32 = 10;

/// Registers `models/<file>` inline as Bob and returns its id and the block number it is in.
async fn register(rpc: &Rpc, file: &str) -> (ModelId, u32) {
	let context = rpc.chain_context().await.unwrap();
	let call = register_inline(file, file, UNIT / 10, "hostile test model").unwrap();
	let (block, events) = rpc
		.submit_signed(context, Sr25519Keyring::Bob, call, INCLUSION_TIMEOUT)
		.await
		.unwrap();
	(registered_model(&events).unwrap(), rpc.block_number(block).await.unwrap())
}

/// Waits until the validator's attestation decides `model`, and returns its status.
async fn decided(node: &Node, rpc: &Rpc, model: ModelId, from: u32) -> ModelStatus {
	let (status, _) =
		wait_for(node, rpc, from, MAX_BLOCKS_TO_VERDICT, "the verdict", |at| async move {
			let status = model_status(rpc, model, at).await.unwrap().expect("the model exists");
			(status != ModelStatus::Pending).then_some(status)
		})
		.await;
	status
}

/// The one-element f32 tensor `[value]`, as input or output.
fn scalar<const MAX_BYTES: u32>(value: f32) -> Tensor<MAX_BYTES> {
	Tensor {
		dtype: DType::F32,
		shape: vec![1].try_into().unwrap(),
		data: value.to_le_bytes().to_vec().try_into().unwrap(),
	}
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_models_cost_the_validator_a_worker_never_its_node() {
	let mut config = NodeConfig::dev().unwrap();
	config.extra_args = ["--inference-time-limit-ms", "3000", "--inference-memory-mib", "2048"]
		.map(String::from)
		.to_vec();
	let (node, rpc) = Node::start(config).await.unwrap();
	wait_for_finalized(&node, &rpc, 1, Duration::from_secs(120)).await.unwrap();
	assert!(node.log().contains("Inference worker"), "{}", node.failure("no worker started"));

	// A 248-byte model that asks tract for 256 TiB while it is loaded.
	let (bomb, registered_at) = register(&rpc, "bomb-constant-of-shape.onnx").await;
	assert_eq!(
		decided(&node, &rpc, bomb, registered_at).await,
		ModelStatus::Rejected(RejectionReason::Attested(AttestationFailure::TooLarge))
	);

	// A model that loads and runs on small inputs, and asks for 40 GB on a large one.
	let (range, registered_at) = register(&rpc, "bomb-input-range.onnx").await;
	assert_eq!(decided(&node, &rpc, range, registered_at).await, ModelStatus::Active);
	let context = rpc.chain_context().await.unwrap();
	let user = Sr25519Keyring::Charlie;
	let (bad_job, submitted_at, _) =
		submit_job(&rpc, context, user, range, vec![scalar(1e10)], 1).await.unwrap();
	let (bad, _) =
		wait_for(&node, &rpc, submitted_at, MAX_BLOCKS_TO_RESULT, "the bad job's end", |at| {
			let rpc = &rpc;
			async move {
				let details = job_details(rpc, bad_job, at).await.unwrap().expect("the job");
				details.job.status.is_final().then_some(details.job.status)
			}
		})
		.await;
	// Alice abstained (out of memory is her node's limit); with nobody else to ask, the job
	// failed and the user got the fee back.
	assert_eq!(bad, JobStatus::Failed(FailureReason::NoFreshExecutors));
	assert!(node.log().contains(&format!("abstained from job {bad_job}: MemoryLimit")));

	let context = rpc.chain_context().await.unwrap();
	let (good_job, submitted_at, _) =
		submit_job(&rpc, context, user, range, vec![scalar(2.0)], 1).await.unwrap();
	let (good, _) =
		wait_for(&node, &rpc, submitted_at, MAX_BLOCKS_TO_RESULT, "the good job's result", |at| {
			let rpc = &rpc;
			async move { job_result(rpc, good_job, at).await.unwrap() }
		})
		.await;
	assert_eq!(good.output.tensors(), Some(&[scalar(1.0)][..]));

	// Blocks kept being finalized, and Alice was neither slashed nor marked as missing a duty.
	let (_, finalized) = rpc.finalized_head().await.unwrap();
	assert!(finalized > registered_at, "finality went on (finalized {finalized})");
	let at = rpc.best_hash().await.unwrap();
	let alice: Option<ValidatorSummary<AccountId, Balance>> = rpc
		.runtime_api(
			"ValidatorStakingApi_validator",
			&Sr25519Keyring::Alice.to_account_id().encode(),
			at,
		)
		.await
		.unwrap();
	let alice = alice.expect("Alice is a validator");
	assert_eq!((alice.counters.dissented, alice.counters.missed), (0, 0));
	assert_eq!(alice.counters.abstained, 1);
	assert_eq!(alice.counters.slashed, 0);

	// The node's metrics tell the same story; the rejected model left its store.
	let metrics = node.prometheus_metrics().unwrap();
	// `name{label="value",chain="gateless_dev"} 1`: the series of `name` that has `label`.
	let value = |name: &str, label: &str| {
		metrics
			.lines()
			.find_map(|line| {
				let (series, value) = line.rsplit_once(' ')?;
				let labels = series.strip_prefix(name)?.strip_prefix('{')?.strip_suffix('}')?;
				labels.split(',').any(|pair| pair == label).then(|| value.parse::<f64>().ok())?
			})
			.unwrap_or_else(|| panic!("no {name} with {label} in the node's metrics:\n{metrics}"))
	};
	let chain = "chain=\"gateless_dev\"";
	assert_eq!(value("gateless_inference_abstentions_total", "cause=\"memory_limit\""), 1.0);
	assert_eq!(value("gateless_inference_loads_total", "outcome=\"over_limits\""), 1.0);
	assert!(value("gateless_inference_runs_total", "outcome=\"output\"") >= 1.0);
	assert!(value("gateless_inference_worker_starts_total", chain) >= 2.0, "a worker replaced");
	assert_eq!(value("gateless_inference_model_store_models", chain), 1.0, "the range model");
	node.stop().unwrap();
}
