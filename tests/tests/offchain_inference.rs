//! Offchain inference on a real dev chain: the digits classifier is registered inline, the
//! validator's offchain worker attests it, a user submits two images, and the worker runs tract
//! on them, commits, reveals, and the job is finalized with the classes onnxruntime predicts.

use std::time::{Duration, Instant};

use gateless_e2e::{
	jobs::{job_result, submit_job, wait_for, INCLUSION_TIMEOUT},
	models::{model_status, register_inline, registered_model},
	node::{Node, NodeConfig},
	rpc::wait_for_finalized,
};
use gateless_inference_engine::reference::{argmax_rows, first_rows, reference, values};
use gateless_primitives::{job::InferenceOutput, model::ModelStatus};
use gateless_runtime::token::UNIT;
use sp_keyring::Sr25519Keyring;

/// Attestation, then commit and reveal, each take a block or two; this bounds the whole wait.
const MAX_BLOCKS_TO_ACTIVE: u32 = 5;
const MAX_BLOCKS_TO_RESULT: u32 = 8;

#[tokio::test(flavor = "multi_thread")]
async fn the_validator_attests_runs_and_verifies_the_digits_model_from_its_offchain_worker() {
	let (node, rpc) = Node::start(NodeConfig::dev().unwrap()).await.unwrap();
	wait_for_finalized(&node, &rpc, 1, Duration::from_secs(120)).await.unwrap();
	let context = rpc.chain_context().await.unwrap();
	let builder = Sr25519Keyring::Bob;
	let user = Sr25519Keyring::Charlie;

	// The builder registers the float classifier inline, with the signature and tolerance of
	// `models/models.json`.
	let register = register_inline(
		"digits-mlp.onnx",
		"digits-mlp",
		UNIT / 10,
		"8x8 digits, scikit-learn MLP; Apache-2.0",
	)
	.unwrap();
	let (registered_in, events) =
		rpc.submit_signed(context, builder, register, INCLUSION_TIMEOUT).await.unwrap();
	let model = registered_model(&events).unwrap();
	let registered_at = rpc.block_number(registered_in).await.unwrap();

	// Nobody attests by hand: Alice's offchain worker loads it with tract and attests.
	let started = Instant::now();
	let (_, active_at) =
		wait_for(&node, &rpc, registered_at, MAX_BLOCKS_TO_ACTIVE, "activation", |at| {
			let rpc = &rpc;
			async move {
				let status = model_status(rpc, model, at).await.unwrap().expect("the model exists");
				assert!(
					matches!(status, ModelStatus::Pending | ModelStatus::Active),
					"the worker rejected a good model: {status:?}"
				);
				(status == ModelStatus::Active).then_some(())
			}
		})
		.await;
	println!(
		"model active at block {active_at} ({} after registration at {registered_at}, {:?})",
		active_at - registered_at,
		started.elapsed()
	);

	// The user submits two images with the quoted fee.
	let (input, expected, predicted) = reference("digits-mlp");
	let input = first_rows(&input, 2);
	let (job, submitted_at, quote) =
		submit_job(&rpc, context, user, model, vec![input], 1).await.unwrap();

	// The worker runs it, commits, reveals; the chain decides.
	let started = Instant::now();
	let (result, finalized_seen_at) =
		wait_for(&node, &rpc, submitted_at, MAX_BLOCKS_TO_RESULT, "the verified result", |at| {
			let rpc = &rpc;
			async move { job_result(rpc, job, at).await.unwrap() }
		})
		.await;
	println!(
		"job {job} verified in block {} ({} blocks after submission in {submitted_at}, seen at {finalized_seen_at}, {:?})",
		result.finalized_at,
		result.finalized_at - submitted_at,
		started.elapsed()
	);
	assert_eq!(result.agreeing, vec![Sr25519Keyring::Alice.to_account_id()]);
	assert_eq!(result.owner_paid, quote.model_price);
	assert_eq!(result.paid_each, quote.executor_fee);
	let output = match result.output {
		InferenceOutput::Tensors(tensors) => tensors.into_inner().remove(0),
		other => panic!("the job did not end with inline outputs: {other:?}"),
	};
	assert_eq!(output.shape.to_vec(), vec![2, 10]);
	let actual = values(&output);
	let worst = actual.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
	assert!(worst <= 1e-4, "largest difference from onnxruntime: {worst}");
	assert_eq!(argmax_rows(&actual, 10), predicted[..2], "the right classes");

	// Nothing else was ever committed for the job: the worker acted once.
	let log = node.log();
	// (The only job: its batches hold it alone.)
	assert_eq!(log.matches(&format!("committed to jobs [{job}]")).count(), 1, "one commit");
	assert_eq!(log.matches(&format!("revealed jobs [{job}]")).count(), 1, "one reveal");
	node.stop().unwrap();
}
