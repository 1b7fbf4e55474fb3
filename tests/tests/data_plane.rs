//! The data plane on four validators of the `local` chain: inputs too large for a block travel
//! between the nodes off chain, and only their hashes are in the job.
//!
//! 1. A 224×224 RGB image (588 KiB) uploaded to Alice's node, with an inline temperature, is run
//!    by three validators that fetch it from her: onnxruntime's output, and no block from the
//!    submission to the verdict carries the image.
//! 2. An input nobody holds ends the job as `InputUnavailable`: the executors that reported it
//!    are paid from the user's escrow, nobody is slashed.
//! 3. A 16 MiB input held by Alice and by Dave, whose node serves corrupted chunks
//!    (`--test-fault corrupt-content`): the fetching validators refuse Dave's chunks, ban him,
//!    get them from Alice, and the job is verified.
//! 4. A 1 MiB output (a segmentation-like map): the executors keep it and reveal its root; the
//!    result names it by content; a node that did not execute reads it with `gateless_output`
//!    (fetched from an executor and checked), and the `gateless` client saves it as `.npy`:
//!    onnxruntime's values, and no block carries the map.

use std::time::Instant;

use gateless_e2e::{
	jobs::{self, job_details, job_result, upload, wait_for, INCLUSION_TIMEOUT},
	models::{model_status, register_inline, registered_model},
	network::{LocalNetwork, NetworkConfig, Validator},
	rpc::Rpc,
};
use gateless_inference_engine::reference::{assert_outputs_match, references};
use gateless_primitives::{
	content::ContentRef,
	job::{
		FailureReason, HostTensor, InferenceOutput, InputTensors, JobInput, JobStatus, TensorData,
	},
	model::{DType, ModelId, ModelStatus},
};
use gateless_runtime::{token::UNIT, RuntimeCall, RuntimeEvent};
use sp_core::H256;
use sp_keyring::Sr25519Keyring::{Alice, Bob, Charlie, Dave, Eve, Ferdie};

/// One round: the draw of its committee (the block after submission), the commit and reveal
/// windows (10 blocks each) and the tally.
const MAX_BLOCKS_FOR_ONE_ROUND: u32 = 25;
/// The most bytes of extrinsics in any block while the large-input jobs run: a job and a few
/// commitments and reveals, far below the inputs' sizes.
const MAX_BLOCK_BODY: usize = 32 * 1024;

/// The bytes of the extrinsics of block `number`.
async fn body_size(rpc: &Rpc, number: u32) -> usize {
	let hash = rpc.block_hash(number).await.unwrap().unwrap();
	let block = rpc.call("chain_getBlock", jsonrpsee::rpc_params![hash]).await.unwrap();
	block["block"]["extrinsics"]
		.as_array()
		.unwrap()
		.iter()
		.map(|extrinsic| extrinsic.as_str().unwrap().len().saturating_sub(2) / 2)
		.sum()
}

/// The largest block body from `from` to `to`, both included.
async fn largest_body(rpc: &Rpc, from: u32, to: u32) -> usize {
	let mut largest = 0;
	for number in from..=to {
		largest = largest.max(body_size(rpc, number).await);
	}
	largest
}

async fn register(alice: &Validator, file: &str) -> (ModelId, u32) {
	let context = alice.rpc.chain_context().await.unwrap();
	let call = register_inline(file, file, UNIT / 10, "a data plane test model").unwrap();
	let (block, events) =
		alice.rpc.submit_signed(context, Ferdie, call, INCLUSION_TIMEOUT).await.unwrap();
	(registered_model(&events).unwrap(), alice.rpc.block_number(block).await.unwrap())
}

/// What each validator's log says about content and inputs, for a failure's message.
fn content_lines(network: &LocalNetwork) -> String {
	let mut lines = String::new();
	for validator in &network.validators {
		for line in validator.node.log().lines().filter(|line| {
			["content", "input", "abstain", "fetch", "committed", "revealed"]
				.iter()
				.any(|word| line.contains(word))
		}) {
			lines.push_str(&format!("{:?}: {line}\n", validator.keyring));
		}
	}
	lines
}

/// Waits for `job` to be verified; returns its result and the block it was seen in, or fails
/// with what every validator's log says about content.
async fn verified(network: &LocalNetwork, job: u64, from: u32) -> (jobs::VerifiedResult, u32) {
	let alice = network.validator(Alice).unwrap();
	let (status, ended_at) = job_end(alice, job, from).await;
	let at = alice.rpc.block_hash(ended_at).await.unwrap().unwrap();
	match job_result(&alice.rpc, job, at).await.unwrap() {
		Some(result) => (result, ended_at),
		None => panic!("job {job} ended {status:?}:\n{}", content_lines(network)),
	}
}

/// Waits for `job` to end; returns its status and the block it was seen ended in.
async fn job_end(alice: &Validator, job: u64, from: u32) -> (JobStatus, u32) {
	wait_for(&alice.node, &alice.rpc, from, MAX_BLOCKS_FOR_ONE_ROUND, "the job's end", |at| {
		let rpc = &alice.rpc;
		async move {
			let details = job_details(rpc, job, at).await.unwrap()?;
			details.job.status.is_final().then_some(details.job.status)
		}
	})
	.await
}

/// Every slash from block `from` to `to`.
async fn slashes(rpc: &Rpc, from: u32, to: u32) -> Vec<RuntimeEvent> {
	let mut found = Vec::new();
	for number in from..=to {
		let hash = rpc.block_hash(number).await.unwrap().unwrap();
		found.extend(rpc.events(hash).await.unwrap().into_iter().filter(|event| {
			matches!(
				event,
				RuntimeEvent::Verification(
					pallet_result_verification::Event::ExecutorSlashed { .. }
				)
			)
		}));
	}
	found
}

#[tokio::test(flavor = "multi_thread")]
async fn large_inputs_travel_between_validators_off_chain() {
	let network = LocalNetwork::start(NetworkConfig {
		validators: 4,
		extra_args: vec![(Dave, vec!["--test-fault".into(), "corrupt-content".into()])],
		..NetworkConfig::default()
	})
	.await
	.unwrap();
	let alice = network.validator(Alice).unwrap();
	let rpc = &alice.rpc;
	let context = rpc.chain_context().await.unwrap();

	let (classifier, registered_at) = register(alice, "image-classifier.onnx").await;
	let (large, _) = register(alice, "large-input.onnx").await;
	let (segmentation, _) = register(alice, "segmentation-map.onnx").await;
	wait_for(&alice.node, rpc, registered_at, 10, "the models active", |at| async move {
		for model in [classifier, large, segmentation] {
			if model_status(rpc, model, at).await.unwrap() != Some(ModelStatus::Active) {
				return None;
			}
		}
		Some(())
	})
	.await;

	// 1. The image by content, the temperature inline.
	let case = references("image-classifier.onnx").remove(0);
	let inputs: Vec<_> = case.inputs.into_iter().map(|(_, tensor)| tensor).collect();
	let image_bytes = inputs[0].data.len();
	let started = Instant::now();
	let (job, submitted_at, _) =
		jobs::submit_job(rpc, context, Eve, classifier, inputs, 3).await.unwrap();
	let (result, verified_at) = verified(&network, job, submitted_at).await;
	assert_outputs_match(result.output.tensors().expect("outputs"), &case.outputs, 1e-4);
	assert!(result.agreeing.len() >= 2, "{:?}", result.agreeing);
	let largest = largest_body(rpc, submitted_at, verified_at).await;
	println!(
		"classifier: job {job} verified by {:?} in {:.1} s ({} blocks from inclusion); a \
		 {image_bytes}-byte image, the largest block body from submission to verdict {largest} \
		 bytes",
		result.agreeing,
		seconds(started),
		verified_at - submitted_at
	);
	assert!(largest < MAX_BLOCK_BODY, "a block carried {largest} bytes");

	// 2. Content that no node holds: a quorum reports it unavailable; nobody is slashed.
	let missing = JobInput {
		dtype: gateless_primitives::model::DType::F32,
		shape: vec![1, 4, 1024, 1024].try_into().unwrap(),
		data: TensorData::Content(ContentRef { hash: H256::repeat_byte(0x5a), len: 16 << 20 }),
	};
	let call = RuntimeCall::InferenceJobs(pallet_inference_jobs::Call::submit_job {
		model: large,
		inputs: InputTensors::new(vec![missing]).unwrap(),
		replicas: Some(3),
		max_fee: UNIT,
	});
	let (block, events) = rpc.submit_signed(context, Eve, call, INCLUSION_TIMEOUT).await.unwrap();
	let submitted_at = rpc.block_number(block).await.unwrap();
	let job = jobs::submitted_job(&events).unwrap();
	let (status, ended_at) = job_end(alice, job, submitted_at).await;
	assert_eq!(status, JobStatus::Failed(FailureReason::InputUnavailable));
	assert_eq!(slashes(rpc, submitted_at, ended_at).await, vec![], "nobody is slashed");
	println!("unavailable: job {job} ended as {status:?} in block {ended_at}");

	// 3. 16 MiB held by Alice and by Dave, who corrupts what he serves.
	let case = references("large-input.onnx").remove(0);
	let inputs: Vec<_> = case.inputs.into_iter().map(|(_, tensor)| tensor).collect();
	let dave = network.validator(Dave).unwrap();
	upload(&dave.rpc, &inputs[0].data).await.unwrap();
	let started = Instant::now();
	let (job, submitted_at, _) =
		jobs::submit_job(rpc, context, Eve, large, inputs, 3).await.unwrap();
	let (result, verified_at) = verified(&network, job, submitted_at).await;
	assert_outputs_match(result.output.tensors().expect("outputs"), &case.outputs, 1e-4);
	let largest = largest_body(rpc, submitted_at, verified_at).await;
	println!(
		"16 MiB: job {job} verified by {:?} in {:.1} s ({} blocks from inclusion); the largest \
		 block body {largest} bytes",
		result.agreeing,
		seconds(started),
		verified_at - submitted_at
	);
	assert!(largest < MAX_BLOCK_BODY, "a block carried {largest} bytes");
	// Whoever fetched asked Dave for some chunks, refused them and banned him.
	let refused = [Alice, Bob, Charlie].iter().any(|who| {
		let log = network.validator(*who).unwrap().node.log();
		log.contains("sent a wrong chunk")
	});
	assert!(refused, "no validator refused Dave's corrupted chunks");

	// 4. A 1 MiB output, kept by the executors and read through any node.
	let case = references("segmentation-map.onnx").remove(0);
	let inputs: Vec<_> = case.inputs.into_iter().map(|(_, tensor)| tensor).collect();
	let started = Instant::now();
	let (job, submitted_at, _) =
		jobs::submit_job(rpc, context, Eve, segmentation, inputs, 3).await.unwrap();
	let (result, verified_at) = verified(&network, job, submitted_at).await;
	let to_verdict = seconds(started);
	let InferenceOutput::Content { tensors, .. } = &result.output else {
		panic!("a 1 MiB output revealed inline: {:?}", result.output.metas())
	};
	let Some(TensorData::Content(map)) = tensors.first().map(|tensor| &tensor.data) else {
		panic!("the map is not kept off chain")
	};
	let largest = largest_body(rpc, submitted_at, verified_at).await;
	assert!(largest < MAX_BLOCK_BODY, "a block carried {largest} bytes");
	// Read through a node that did not execute, if any: it fetches the map from an executor.
	let details = job_details(rpc, job, rpc.best_hash().await.unwrap()).await.unwrap().unwrap();
	let reader = network
		.validators
		.iter()
		.find(|validator| !details.job.executors.contains(&validator.keyring.to_account_id()))
		.unwrap_or(alice);
	let outputs = reader.rpc.call("gateless_output", jsonrpsee::rpc_params![job]).await.unwrap();
	let shown: String = outputs.to_string().chars().take(300).collect();
	assert_eq!(outputs["rootChecked"], true, "{shown}");
	let tensor = &outputs["tensors"][0];
	assert_eq!(tensor["name"], "map");
	let bytes = from_hex(tensor["bytes"].as_str().expect("the map's bytes"));
	assert_eq!(bytes.len() as u64, map.len);
	let read = HostTensor {
		dtype: DType::F32,
		shape: vec![1, 16, 128, 128].try_into().unwrap(),
		data: bytes.clone().try_into().unwrap(),
	};
	assert_outputs_match(&[read], &case.outputs, 1e-4);
	// Its chunks too, as a client reads outputs too large for one answer.
	let chunk = reader
		.rpc
		.call("gateless_contentChunk", jsonrpsee::rpc_params![map.hash, 0])
		.await
		.unwrap();
	assert_eq!(from_hex(chunk.as_str().unwrap()), bytes[..1 << 20]);
	// And the client saves it.
	let saved = tempfile::tempdir().unwrap();
	let file = saved.path().join("map.npy");
	let client = gateless_e2e::node::node_binary().unwrap().with_file_name("gateless");
	let status = std::process::Command::new(client)
		.args(["--url", &reader.node.rpc_url(), "job", "result", &job.to_string(), "--output"])
		.arg(&file)
		.status()
		.unwrap();
	assert!(status.success(), "gateless job result --output failed");
	let npy = std::fs::read(&file).unwrap();
	assert!(npy.ends_with(&bytes), "the .npy file does not hold the map");
	println!(
		"1 MiB output: job {job} verified by {:?} in {to_verdict:.1} s ({} blocks from \
		 inclusion), read through {:?}; the largest block body {largest} bytes",
		result.agreeing,
		verified_at - submitted_at,
		reader.keyring
	);
	network.stop().unwrap();
}

/// Seconds since `started`, from the submission (upload included) to the verdict seen.
fn seconds(started: Instant) -> f64 {
	started.elapsed().as_secs_f64()
}

fn from_hex(text: &str) -> Vec<u8> {
	hex::decode(text.trim_start_matches("0x")).unwrap()
}

/// Whether `event` names `job`: the extrinsics that emit such events are the job's bytes on chain.
fn names_job(event: &RuntimeEvent, job: u64) -> bool {
	use pallet_result_verification::Event as Verification;
	match event {
		RuntimeEvent::InferenceJobs(pallet_inference_jobs::Event::JobSubmitted {
			job: named,
			..
		})
		| RuntimeEvent::Verification(
			Verification::Committed { job: named, .. }
			| Verification::Revealed { job: named, .. }
			| Verification::Abstained { job: named, .. }
			| Verification::DisputeSettled { job: named, .. },
		) => *named == job,
		_ => false,
	}
}

/// The transactions of blocks `from..=to` that concern `job` (its submission, commitments,
/// reveals, abstentions, settlements): how many, the submission's bytes and all their bytes.
async fn bytes_on_chain(rpc: &Rpc, job: u64, from: u32, to: u32) -> (usize, usize, usize) {
	let (mut transactions, mut submission, mut total) = (0, 0, 0);
	for number in from..=to {
		let hash = rpc.block_hash(number).await.unwrap().unwrap();
		let block = rpc.call("chain_getBlock", jsonrpsee::rpc_params![hash]).await.unwrap();
		let extrinsics = block["block"]["extrinsics"].as_array().unwrap().clone();
		let mut counted = std::collections::BTreeSet::new();
		for record in rpc.event_records(hash).await.unwrap() {
			let frame_system::Phase::ApplyExtrinsic(index) = record.phase else { continue };
			if !names_job(&record.event, job) || !counted.insert(index) {
				continue;
			}
			let bytes = from_hex(extrinsics[index as usize].as_str().unwrap()).len();
			transactions += 1;
			total += bytes;
			if matches!(
				record.event,
				RuntimeEvent::InferenceJobs(pallet_inference_jobs::Event::JobSubmitted { .. })
			) {
				submission = bytes;
			}
		}
	}
	(transactions, submission, total)
}

/// `tensor` with its first f32 changed by `delta`: the same job, but content no node holds yet.
fn nudged(mut tensor: HostTensor, delta: f32) -> HostTensor {
	let mut bytes = tensor.data.to_vec();
	let first = f32::from_le_bytes(bytes[..4].try_into().unwrap()) + delta;
	bytes[..4].copy_from_slice(&first.to_le_bytes());
	tensor.data = bytes.try_into().unwrap();
	tensor
}

fn median(values: &[f64]) -> f64 {
	let mut sorted = values.to_vec();
	sorted.sort_by(f64::total_cmp);
	sorted[sorted.len() / 2]
}

/// The data plane's benchmark, not in the default suite (`scripts/bench-data-plane.sh` runs it):
/// the time from submission to verified result and the bytes on chain per job for the digits MLP
/// (one inline row), a 1 MiB and a 16 MiB input kept off chain, and a 1 MiB output, each
/// `GATELESS_BENCH_RUNS` times (default 5) one job at a time on four validators with replicas 3.
/// Every run changes the first element of the input, so that the executors fetch it anew rather
/// than find it in their stores; the first run's outputs are checked against onnxruntime's.
/// Prints a line per run and the medians per case, and writes them as JSON to
/// `GATELESS_BENCH_OUTPUT` if that is set.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark: scripts/bench-data-plane.sh runs it"]
async fn submission_to_verdict_by_input_size() {
	let runs: usize = std::env::var("GATELESS_BENCH_RUNS").map_or(5, |runs| runs.parse().unwrap());
	let network = LocalNetwork::start(NetworkConfig::default()).await.unwrap();
	let alice = network.validator(Alice).unwrap();
	let rpc = &alice.rpc;
	let context = rpc.chain_context().await.unwrap();

	let (digits_input, _, _) = gateless_inference_engine::reference::reference("digits-mlp");
	let digits_row = gateless_inference_engine::reference::first_rows(&digits_input, 1);
	let mut cases = vec![("digits-mlp.onnx", "inline digits row", vec![digits_row], None)];
	for (file, what) in [
		("megabyte-input.onnx", "1 MiB input"),
		("large-input.onnx", "16 MiB input"),
		("segmentation-map.onnx", "1 MiB output"),
	] {
		let case = references(file).remove(0);
		let inputs = case.inputs.into_iter().map(|(_, tensor)| tensor).collect();
		cases.push((file, what, inputs, Some(case.outputs)));
	}
	let mut models = Vec::new();
	let mut registered_at = 0;
	for (file, ..) in &cases {
		let (model, at) = register(alice, file).await;
		models.push(model);
		registered_at = at;
	}
	wait_for(&alice.node, rpc, registered_at, 10, "the models active", |at| {
		let models = models.clone();
		async move {
			for model in models {
				if model_status(rpc, model, at).await.unwrap() != Some(ModelStatus::Active) {
					return None;
				}
			}
			Some(())
		}
	})
	.await;

	let mut report = Vec::new();
	for ((file, what, inputs, outputs), model) in cases.into_iter().zip(models) {
		let mut jobs = Vec::new();
		for run in 0..runs {
			let mut inputs = inputs.clone();
			inputs[0] = nudged(inputs[0].clone(), run as f32 / 1024.0);
			let started = Instant::now();
			let (job, submitted_at, _) =
				jobs::submit_job(rpc, context, Eve, model, inputs, 3).await.unwrap();
			let (result, verified_at) = verified(&network, job, submitted_at).await;
			let seconds = seconds(started);
			if let (0, Some(expected), Some(tensors)) = (run, &outputs, result.output.tensors()) {
				assert_outputs_match(tensors, expected, 1e-4);
			}
			jobs.push((job, submitted_at, verified_at, seconds));
		}
		// Reveals that came after the verdict count too: a few more blocks.
		let best = rpc.block_number(rpc.best_hash().await.unwrap()).await.unwrap();
		wait_for(&alice.node, rpc, best, 4, "three more blocks", |at| async move {
			(rpc.block_number(at).await.unwrap() >= best + 3).then_some(())
		})
		.await;
		let mut runs_report = Vec::new();
		for (job, submitted_at, verified_at, seconds) in jobs {
			let (transactions, submission, total) =
				bytes_on_chain(rpc, job, submitted_at, verified_at + 3).await;
			let largest = largest_body(rpc, submitted_at, verified_at).await;
			let blocks = verified_at - submitted_at;
			println!(
				"bench {what}: job {job} verified in {seconds:.1} s ({blocks} blocks from \
				 inclusion); {total} bytes on chain in {transactions} transactions (submission \
				 {submission}); largest block body {largest}"
			);
			runs_report.push(serde_json::json!({
				"job": job, "seconds": seconds, "blocks": blocks, "transactions": transactions,
				"submission_bytes": submission, "bytes_on_chain": total, "largest_body": largest,
			}));
		}
		let figure = |key: &str| {
			median(&runs_report.iter().map(|run| run[key].as_f64().unwrap()).collect::<Vec<_>>())
		};
		println!(
			"bench {what} ({file}), median of {runs}: {:.1} s, {} blocks from inclusion, {} bytes \
			 on chain per job (submission {})",
			figure("seconds"),
			figure("blocks"),
			figure("bytes_on_chain"),
			figure("submission_bytes")
		);
		report.push(serde_json::json!({
			"case": what, "model": file, "runs": runs_report,
			"median_seconds": figure("seconds"), "median_blocks": figure("blocks"),
			"median_bytes_on_chain": figure("bytes_on_chain"),
		}));
	}
	if let Ok(path) = std::env::var("GATELESS_BENCH_OUTPUT") {
		std::fs::write(&path, serde_json::to_vec_pretty(&report).unwrap()).unwrap();
		println!("bench: written to {path}");
	}
	network.stop().unwrap();
}
