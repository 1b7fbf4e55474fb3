//! The network catches faults and is governed on chain: four validators of the `local` chain on
//! loopback (Dave's node started with `--test-fault perturb-output`, a liar), and the scenarios of
//! the README's "Local network" in one network, to save the time of starting it again:
//!
//! 1. honest: a three-replica job is finalized with onnxruntime's output and every balance moves
//!    by exactly the fee split;
//! 2. liar: a four-replica job (Dave included) is finalized by the honest three, and Dave is
//!    slashed and counted as a dissenter; then a four-replica job with a 1 MiB output kept off
//!    chain, where Charlie's node (`--test-fault nudge-output=0.0001`) moves one element across a
//!    rounding edge: the tally opens a dispute, Charlie's leaf proves his output agrees, a leaf of
//!    Dave's proves it does not, and only Dave is slashed;
//! 3. bad model: a truncated ONNX file is rejected by the validators' attestations and no job can
//!    use it; an allocation bomb costs each validator an inference worker, not its node, and is
//!    rejected as too large;
//! 4. governance: a two-thirds Council motion bans a model and changes a staking parameter, and
//!    a non-member can do neither;
//! 5. upgrade: a Council motion authorizes a runtime upgrade (the same runtime, one spec version
//!    later); it is applied in the block that assigns two jobs, which finish under the new
//!    runtime;
//! 6. crash: Charlie is killed with jobs in flight; finality goes on, the jobs end as designed
//!    (the one Charlie surely executes fails with a refund, for want of a two-thirds quorum and
//!    of fresh executors), no honest executor misses a duty, and the restarted Charlie syncs
//!    across the upgrade and executes again.
//!
//! After each, [`gateless_e2e::funds::reconcile`] checks that no funds were lost or created:
//! try-runtime executes the finalized block again with every pallet's invariants after it (held =
//! owed), and the issuance is checked against every account and its change against the fees,
//! slashes and penalties burnt. At the end, try-runtime's upgrade checks run on the network's
//! state (every migration with its checks, every pallet's invariants, all storage decoded).

use std::time::{Duration, Instant};

use codec::{Decode, Encode};
use frame_support::dispatch::GetDispatchInfo;
use gateless_e2e::{
	funds::{check_block, reconcile, Funds},
	models::{register_inline, registered_model},
	network::{LocalNetwork, NetworkConfig},
	rpc::Rpc,
	try_runtime::{check_fast_forward, check_upgrade, TryRuntimes},
};
use gateless_inference_engine::reference::{
	argmax_rows, assert_outputs_match, first_rows, reference, references, values,
};
use gateless_primitives::{
	job::{InputTensor, InputTensors, JobDetails, JobId, JobResult, JobStatus},
	model::{AttestationFailure, ModelId, ModelInfo, ModelStatus, RejectionReason},
	staking::ValidatorSummary,
	traits::SlashReason,
};
use gateless_runtime::{
	token::UNIT, AccountId, Balance, BlockNumber, Nonce, Runtime, RuntimeCall, RuntimeEvent,
};
use pallet_model_registry::Call as RegistryCall;
use sp_core::H256;
use sp_keyring::Sr25519Keyring::{self, Alice, Bob, Charlie, Dave, Eve, Ferdie};
use sp_runtime::{
	traits::{BlakeTwo256, Hash},
	DispatchError,
};

const INCLUSION_TIMEOUT: Duration = Duration::from_secs(60);
/// Blocks try-runtime's fast-forward builds on the final state: more than a session (10 blocks).
const FAST_FORWARD: u32 = 12;
/// A model is decided within a few blocks of its registration.
const MAX_BLOCKS_TO_DECIDE_A_MODEL: u32 = 8;
/// One round: the draw of its committee (the block after submission), the commit and reveal
/// windows (10 blocks each) and the tally.
const MAX_BLOCKS_FOR_ONE_ROUND: u32 = 25;
/// How long a dispute waits for proofs (the runtime's `DisputeWindow`).
const DISPUTE_WINDOW: u32 = 10;
/// Three rounds, or expiry: the job's time to live (100 blocks) and a margin.
const MAX_BLOCKS_FOR_ANY_JOB: u32 = 105;

/// The builder who owns the models, and the user who pays for jobs: neither validates.
const BUILDER: Sr25519Keyring = Ferdie;
const USER: Sr25519Keyring = Eve;

type Job = JobDetails<AccountId, Balance, BlockNumber>;
type Result_ = JobResult<Balance, BlockNumber, Vec<AccountId>>;

fn account(who: Sr25519Keyring) -> AccountId {
	who.to_account_id()
}

/// Signs and submits `call` as `signer` through `rpc`, waits for it to be in a block, and returns
/// the block number, the block's events and the dispatch error if the call failed.
async fn submit(
	rpc: &Rpc,
	signer: Sr25519Keyring,
	call: RuntimeCall,
) -> (u32, Vec<RuntimeEvent>, Option<DispatchError>) {
	let context = rpc.chain_context().await.unwrap();
	let (block, events) =
		rpc.submit_signed(context, signer, call, INCLUSION_TIMEOUT).await.unwrap();
	let failure = events.iter().find_map(|event| match event {
		RuntimeEvent::System(frame_system::Event::ExtrinsicFailed { dispatch_error, .. }) => {
			Some(*dispatch_error)
		},
		_ => None,
	});
	(rpc.block_number(block).await.unwrap(), events, failure)
}

/// [`submit`] for a call that must succeed.
async fn submit_ok(
	rpc: &Rpc,
	signer: Sr25519Keyring,
	call: RuntimeCall,
) -> (u32, Vec<RuntimeEvent>) {
	let (block, events, failure) = submit(rpc, signer, call).await;
	assert_eq!(failure, None, "{signer:?}'s call failed in block {block}: {events:?}");
	(block, events)
}

async fn best(rpc: &Rpc) -> (H256, u32) {
	let hash = rpc.best_hash().await.unwrap();
	(hash, rpc.block_number(hash).await.unwrap())
}

async fn runtime_api<T: Decode>(rpc: &Rpc, function: &str, args: impl Encode, at: H256) -> T {
	rpc.runtime_api(function, &args.encode(), at).await.unwrap()
}

async fn model_info(
	rpc: &Rpc,
	model: ModelId,
	at: H256,
) -> ModelInfo<AccountId, Balance, BlockNumber> {
	let info: Option<ModelInfo<AccountId, Balance, BlockNumber>> =
		runtime_api(rpc, "ModelRegistryApi_model", model, at).await;
	info.unwrap_or_else(|| panic!("model {model} exists"))
}

async fn validator_summary(
	rpc: &Rpc,
	who: Sr25519Keyring,
	at: H256,
) -> ValidatorSummary<AccountId, Balance> {
	let summary: Option<ValidatorSummary<AccountId, Balance>> =
		runtime_api(rpc, "ValidatorStakingApi_validator", account(who), at).await;
	summary.unwrap_or_else(|| panic!("{who:?} is a validator"))
}

/// An account's free and reserved (held) balance at a block.
async fn balances(rpc: &Rpc, who: Sr25519Keyring, at: H256) -> (Balance, Balance) {
	let key = frame_system::Account::<Runtime>::hashed_key_for(account(who));
	let info: frame_system::AccountInfo<Nonce, pallet_balances::AccountData<Balance>> =
		rpc.storage_decoded(&key, at).await.unwrap().unwrap_or_default();
	(info.data.free, info.data.reserved)
}

/// Polls the best block until `read` gives `Some`, for at most `blocks` blocks after `from`.
async fn wait_for<T, F, Fut>(
	network: &LocalNetwork,
	from: u32,
	blocks: u32,
	what: &str,
	read: F,
) -> (T, u32)
where
	F: Fn(H256) -> Fut,
	Fut: std::future::Future<Output = Option<T>>,
{
	let alice = network.validator(Alice).unwrap();
	loop {
		for validator in &network.validators {
			// A validator that was killed on purpose is allowed to be down.
			if validator.keyring != Charlie {
				validator.node.ensure_running().unwrap();
			}
		}
		let (hash, number) = best(&alice.rpc).await;
		if let Some(value) = read(hash).await {
			return (value, number);
		}
		assert!(
			number <= from + blocks,
			"{}",
			alice
				.node
				.failure(&format!("{what} not within {blocks} blocks of block {from}"))
		);
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
}

/// Waits until `job` has ended (at most `blocks` after `from`) and returns its record.
async fn job_end(network: &LocalNetwork, job: JobId, from: u32, blocks: u32) -> (Job, u32) {
	let rpc = &network.validator(Alice).unwrap().rpc;
	wait_for(network, from, blocks, &format!("the end of job {job}"), |at| async move {
		let details: Option<Job> = runtime_api(rpc, "InferenceJobsApi_job", job, at).await;
		details.filter(|details| details.job.status.is_final())
	})
	.await
}

/// Waits for `job` to end within one round of `from`, checks that it was finalized, and returns
/// its record, its verified result and the block Alice's node saw it end in.
async fn finalized_result(network: &LocalNetwork, job: JobId, from: u32) -> (Job, Result_, u32) {
	let (details, ended_at) = job_end(network, job, from, MAX_BLOCKS_FOR_ONE_ROUND).await;
	assert_eq!(details.job.status, JobStatus::Finalized, "job {job}: {details:?}");
	let rpc = &network.validator(Alice).unwrap().rpc;
	let at = rpc.best_hash().await.unwrap();
	let result: Option<Result_> = runtime_api(rpc, "InferenceJobsApi_job_result", job, at).await;
	let result = result.unwrap_or_else(|| panic!("finalized job {job} has a result"));
	(details, result, ended_at)
}

/// Waits until the network has finalized block `number` on Alice's node.
async fn finalized(network: &LocalNetwork, number: u32) -> H256 {
	let alice = network.validator(Alice).unwrap();
	gateless_e2e::rpc::wait_for_finalized(
		&alice.node,
		&alice.rpc,
		number,
		Duration::from_secs(120),
	)
	.await
	.unwrap();
	alice.rpc.block_hash(number).await.unwrap().unwrap()
}

/// Registers an inline model as the builder; returns its id and the block it is in.
async fn register(rpc: &Rpc, file: &str, name: &str, price: Balance) -> (ModelId, u32) {
	let call = register_inline(file, name, price, &format!("{file}, from models/")).unwrap();
	let (block, events) = submit_ok(rpc, BUILDER, call).await;
	(registered_model(&events).unwrap(), block)
}

/// Submits a job as the user with the quoted fee; returns its id, inclusion block and fee paid
/// for the transaction.
async fn submit_job(
	rpc: &Rpc,
	model: ModelId,
	inputs: Vec<InputTensor>,
	replicas: u32,
) -> (JobId, u32, Balance) {
	let at = rpc.best_hash().await.unwrap();
	let quote: Result<
		gateless_primitives::job::FeeQuote<Balance>,
		gateless_primitives::job::QuoteError,
	> = runtime_api(
		rpc,
		"InferenceJobsApi_quote",
		(
			model,
			Some(replicas),
			inputs.iter().map(|input| input.shape.to_vec()).collect::<Vec<_>>(),
		),
		at,
	)
	.await;
	let quote = quote.expect("an active model with enough validators has a quote");
	let inputs = gateless_e2e::jobs::place_inputs(rpc, inputs).await.unwrap();
	let call = RuntimeCall::InferenceJobs(pallet_inference_jobs::Call::submit_job {
		model,
		inputs,
		replicas: Some(replicas),
		max_fee: quote.total,
	});
	let (block, events) = submit_ok(rpc, USER, call).await;
	let job = events
		.iter()
		.find_map(|event| match event {
			RuntimeEvent::InferenceJobs(pallet_inference_jobs::Event::JobSubmitted {
				job, ..
			}) => Some(*job),
			_ => None,
		})
		.expect("a JobSubmitted event");
	(job, block, transaction_fee(&events, USER))
}

/// What `who` paid for its transactions in a block's events.
fn transaction_fee(events: &[RuntimeEvent], who: Sr25519Keyring) -> Balance {
	events
		.iter()
		.filter_map(|event| match event {
			RuntimeEvent::TransactionPayment(
				pallet_transaction_payment::Event::TransactionFeePaid {
					who: payer,
					actual_fee,
					..
				},
			) if *payer == account(who) => Some(*actual_fee),
			_ => None,
		})
		.sum()
}

/// A Council motion: `proposer` proposes `call` for two thirds, `proposer` and `seconder` vote
/// aye, and `proposer` closes it. Returns the result of the dispatched call.
async fn council_motion(
	rpc: &Rpc,
	proposer: Sr25519Keyring,
	seconder: Sr25519Keyring,
	call: RuntimeCall,
) -> Result<(), DispatchError> {
	let length = call.encoded_size() as u32;
	let weight = call.get_dispatch_info().call_weight;
	let propose = RuntimeCall::Council(pallet_collective::Call::propose {
		threshold: 2,
		proposal: Box::new(call),
		length_bound: length,
	});
	let (_, events) = submit_ok(rpc, proposer, propose).await;
	let (index, hash) = events
		.iter()
		.find_map(|event| match event {
			RuntimeEvent::Council(pallet_collective::Event::Proposed {
				proposal_index,
				proposal_hash,
				..
			}) => Some((*proposal_index, *proposal_hash)),
			_ => None,
		})
		.expect("a Proposed event");
	for voter in [proposer, seconder] {
		let vote = RuntimeCall::Council(pallet_collective::Call::vote {
			proposal: hash,
			index,
			approve: true,
		});
		submit_ok(rpc, voter, vote).await;
	}
	let close = RuntimeCall::Council(pallet_collective::Call::close {
		proposal_hash: hash,
		index,
		proposal_weight_bound: weight,
		length_bound: length,
	});
	let (_, events) = submit_ok(rpc, proposer, close).await;
	events
		.iter()
		.find_map(|event| match event {
			RuntimeEvent::Council(pallet_collective::Event::Executed { proposal_hash, result })
				if *proposal_hash == hash =>
			{
				Some(*result)
			},
			_ => None,
		})
		.expect("the motion was executed")
}

/// Checks the funds at the finalized head against `before` (at block `from`); returns them.
async fn reconciled(network: &LocalNetwork, scenario: &str, before: (Funds, u32)) -> (Funds, u32) {
	let (_, head) = network.validator(Alice).unwrap().rpc.finalized_head().await.unwrap();
	reconciled_at(network, scenario, before, head).await
}

/// Checks the funds at finalized block `head` against `before` (at block `from`); returns them.
async fn reconciled_at(
	network: &LocalNetwork,
	scenario: &str,
	before: (Funds, u32),
	head: u32,
) -> (Funds, u32) {
	let rpc = &network.validator(Alice).unwrap().rpc;
	let funds = reconcile(rpc, before.0, before.1, head)
		.await
		.unwrap_or_else(|error| panic!("after the {scenario} scenario: {error}"));
	println!(
		"{scenario}: funds reconciled over blocks {}..={head}: issuance {} -> {}, held {}",
		before.1, before.0.total_issuance, funds.total_issuance, funds.held
	);
	(funds, head)
}

/// What the chain and the validators' logs say about a dispute, for a failure's message.
async fn dispute_story(network: &LocalNetwork, rpc: &Rpc, from: u32, to: u32) -> String {
	let mut story = String::new();
	for number in from..=to {
		let hash = rpc.block_hash(number).await.unwrap().unwrap();
		for event in rpc.events(hash).await.unwrap() {
			match event {
				RuntimeEvent::Verification(event) => {
					story.push_str(&format!("#{number}: {event:?}\n"))
				},
				RuntimeEvent::System(frame_system::Event::ExtrinsicFailed {
					dispatch_error,
					..
				}) => story.push_str(&format!("#{number}: failed {dispatch_error:?}\n")),
				_ => {},
			}
		}
	}
	for validator in &network.validators {
		for line in validator.node.log().lines().filter(|line| {
			["dispute", "proof", "settle", "gateless::offchain"]
				.iter()
				.any(|word| line.contains(word))
		}) {
			story.push_str(&format!("{:?}: {line}\n", validator.keyring));
		}
	}
	story
}

/// The executors slashed in a range of blocks, with why.
async fn slashes_between(rpc: &Rpc, from: u32, to: u32) -> Vec<(AccountId, SlashReason)> {
	let mut slashes = Vec::new();
	for number in from..=to {
		let hash = rpc.block_hash(number).await.unwrap().unwrap();
		for event in rpc.events(hash).await.unwrap() {
			if let RuntimeEvent::Verification(
				pallet_result_verification::Event::ExecutorSlashed { executor, reason, .. },
			) = event
			{
				slashes.push((executor, reason));
			}
		}
	}
	slashes
}

#[tokio::test(flavor = "multi_thread")]
async fn four_validators_catch_a_liar_survive_a_crash_and_are_governed_by_the_council() {
	let started = Instant::now();
	let mut timings: Vec<(&str, Duration)> = Vec::new();
	let mut network = LocalNetwork::start(NetworkConfig {
		validators: 4,
		extra_args: vec![
			(Dave, vec!["--test-fault".into(), "perturb-output".into()]),
			// An honest edge case: within the tolerance, on the other side of a grid edge.
			(Charlie, vec!["--test-fault".into(), "nudge-output=0.0001".into()]),
		],
		..NetworkConfig::default()
	})
	.await
	.unwrap();
	timings.push(("network start (4 validators, block 1 finalized)", started.elapsed()));
	// A connection of the test's own, so that `network` can be changed while it is in use.
	let rpc = Rpc::connect(&network.validator(Alice).unwrap().node.rpc_url()).await.unwrap();

	let (_, genesis_head) = rpc.finalized_head().await.unwrap();
	let at = rpc.block_hash(genesis_head).await.unwrap().unwrap();
	let mut funds = (check_block(&rpc, at).await.unwrap(), genesis_head);

	// The builder registers the float classifier, the integer one, a truncated file and a
	// 248-byte allocation bomb (256 TiB when tract loads it); the validators' workers attest all
	// four, each in a sandboxed inference worker.
	let step = Instant::now();
	let (digits, registered_at) = register(&rpc, "digits-mlp.onnx", "digits-mlp", UNIT / 10).await;
	let (digits_int, _) = register(&rpc, "digits-int.onnx", "digits-int", UNIT / 10).await;
	let (truncated, _) =
		register(&rpc, "digits-mlp-truncated.onnx", "digits-mlp-truncated", UNIT / 10).await;
	let (bomb, _) = register(&rpc, "bomb-constant-of-shape.onnx", "bomb", UNIT / 10).await;
	let (recurrent, _) = register(&rpc, "recurrent-cell.onnx", "recurrent-cell", UNIT / 10).await;
	let (segmentation, _) =
		register(&rpc, "segmentation-map.onnx", "segmentation-map", UNIT / 10).await;
	let decided = |model: ModelId| {
		let rpc = &rpc;
		move |at: H256| async move {
			let status = model_info(rpc, model, at).await.status;
			(status != ModelStatus::Pending).then_some(status)
		}
	};
	let window = MAX_BLOCKS_TO_DECIDE_A_MODEL + 3;
	let (status, _) =
		wait_for(&network, registered_at, window, "digits-mlp decided", decided(digits)).await;
	assert_eq!(status, ModelStatus::Active);
	let (status, _) =
		wait_for(&network, registered_at, window, "digits-int decided", decided(digits_int)).await;
	assert_eq!(status, ModelStatus::Active);
	let (status, _) =
		wait_for(&network, registered_at, window, "recurrent-cell decided", decided(recurrent))
			.await;
	assert_eq!(status, ModelStatus::Active);
	let (status, _) = wait_for(
		&network,
		registered_at,
		window,
		"segmentation-map decided",
		decided(segmentation),
	)
	.await;
	assert_eq!(status, ModelStatus::Active);
	timings.push(("models registered and attested", step.elapsed()));

	// 1. Honest: three replicas, onnxruntime's output, every balance moved by the fee split.
	let step = Instant::now();
	let (input, expected, predicted) = reference("digits-mlp");
	let (job, submitted_at, tx_fee) =
		submit_job(&rpc, digits, vec![first_rows(&input, 2)], 3).await;
	let (details, result, _) = finalized_result(&network, job, submitted_at).await;
	let Some([output]) = result.output.tensors() else {
		panic!("the honest job ended in an error: {:?}", result.output)
	};
	let actual = values(output);
	let worst = actual.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
	assert!(worst <= 1e-4, "largest difference from onnxruntime: {worst}");
	assert_eq!(argmax_rows(&actual, 10), predicted[..2]);
	assert!(result.agreeing.len() >= 2 && !result.agreeing.contains(&account(Dave)));
	let before = finalized(&network, submitted_at - 1).await;
	let after = finalized(&network, result.finalized_at).await;
	let paid = result.owner_paid + result.paid_each * result.agreeing.len() as Balance;
	assert_eq!(result.refunded, details.job.fee.escrow() - paid);
	let (user_free, user_held) = balances(&rpc, USER, before).await;
	let (user_free_after, user_held_after) = balances(&rpc, USER, after).await;
	assert_eq!(user_held_after, user_held, "the user's escrow is released");
	assert_eq!(
		user_free - user_free_after,
		tx_fee + details.job.fee.data_fee + paid,
		"the user paid the transaction, the data fee and the fee split"
	);
	let (builder_free, _) = balances(&rpc, BUILDER, before).await;
	let (builder_free_after, _) = balances(&rpc, BUILDER, after).await;
	assert_eq!(builder_free_after - builder_free, result.owner_paid, "the builder got the price");
	for validator in [Alice, Bob, Charlie, Dave] {
		let (free, _) = balances(&rpc, validator, before).await;
		let (free_after, _) = balances(&rpc, validator, after).await;
		let reward =
			if result.agreeing.contains(&account(validator)) { result.paid_each } else { 0 };
		assert_eq!(free_after - free, reward, "{validator:?}'s reward");
	}
	println!(
		"honest: job {job} verified in block {} ({} blocks after submission), agreeing {:?}",
		result.finalized_at,
		result.finalized_at - submitted_at,
		result.agreeing
	);
	// Every input and every output: the recurrent cell's x, state and rank-0 sr at batch 3, its y
	// and state_next agreed by the committee and equal to onnxruntime's.
	let case = references("recurrent-cell.onnx").remove(1);
	let inputs = case.inputs.into_iter().map(|(_, tensor)| tensor).collect();
	let (job, submitted_at, _) = submit_job(&rpc, recurrent, inputs, 3).await;
	let (_, result, _) = finalized_result(&network, job, submitted_at).await;
	let outputs = result.output.tensors().expect("outputs, not an error");
	assert_outputs_match(outputs, &case.outputs, 1e-4);
	assert!(result.agreeing.len() >= 2, "a quorum of three: {:?}", result.agreeing);
	println!(
		"honest, three inputs: job {job} verified in block {} by {:?}",
		result.finalized_at, result.agreeing
	);
	funds = reconciled(&network, "honest", funds).await;
	timings.push(("1. honest", step.elapsed()));

	// 2. Liar: four replicas, so Dave is one; the honest three decide and Dave is slashed.
	let step = Instant::now();
	let at = rpc.best_hash().await.unwrap();
	let dave_before = validator_summary(&rpc, Dave, at).await;
	let (job, submitted_at, _) = submit_job(&rpc, digits, vec![first_rows(&input, 3)], 4).await;
	let (_, result, ended_at) = finalized_result(&network, job, submitted_at).await;
	let at = rpc.best_hash().await.unwrap();
	let mut agreeing = result.agreeing.clone();
	agreeing.sort();
	let mut honest = vec![account(Alice), account(Bob), account(Charlie)];
	honest.sort();
	assert_eq!(agreeing, honest, "the honest three agree");
	let Some([output]) = result.output.tensors() else { panic!("an error: {result:?}") };
	assert_eq!(argmax_rows(&values(output), 10), predicted[..3]);
	let dave_after = validator_summary(&rpc, Dave, at).await;
	assert!(
		dave_after.counters.dissented > dave_before.counters.dissented,
		"Dave counted as a dissenter"
	);
	assert!(dave_after.bond < dave_before.bond, "Dave's bond was slashed");
	assert!(dave_after.counters.slashed > dave_before.counters.slashed);
	let slashes = slashes_between(&rpc, submitted_at, ended_at).await;
	assert!(slashes.contains(&(account(Dave), SlashReason::Dissent)), "{slashes:?}");
	assert!(slashes.iter().all(|(who, _)| *who == account(Dave)), "only the liar: {slashes:?}");
	println!(
		"liar: job {job} verified in block {} by {:?}; Dave's bond {} -> {}",
		result.finalized_at, result.agreeing, dave_before.bond, dave_after.bond
	);
	funds = reconciled(&network, "liar", funds).await;
	timings.push(("2. liar", step.elapsed()));

	// 2b. A dispute over a large output: Alice and Bob reveal the same root, Charlie's differs in
	// one leaf (an honest edge case), Dave's in all of them (a lie).
	let step = Instant::now();
	let at = rpc.best_hash().await.unwrap();
	let (charlie_before, dave_before) =
		(validator_summary(&rpc, Charlie, at).await, validator_summary(&rpc, Dave, at).await);
	let case = references("segmentation-map.onnx").remove(0);
	let inputs = case.inputs.into_iter().map(|(_, tensor)| tensor).collect();
	let (job, submitted_at, _) = submit_job(&rpc, segmentation, inputs, 4).await;
	let (details, ended_at) =
		job_end(&network, job, submitted_at, MAX_BLOCKS_FOR_ONE_ROUND + DISPUTE_WINDOW + 4).await;
	if details.job.status != JobStatus::Finalized {
		panic!(
			"job {job} ended {:?}\n{}",
			details.job.status,
			dispute_story(&network, &rpc, submitted_at, ended_at).await
		);
	}
	let at = rpc.best_hash().await.unwrap();
	let result: Option<Result_> = runtime_api(&rpc, "InferenceJobsApi_job_result", job, at).await;
	let result = result.expect("a verified result");
	assert!(
		matches!(result.output, gateless_primitives::job::InferenceOutput::Content { .. }),
		"the map is kept off chain"
	);
	let mut agreeing = result.agreeing.clone();
	agreeing.sort();
	assert_eq!(agreeing, honest, "Alice, Bob and the edge case Charlie agree");
	let (mut opened, mut settled) = (Vec::new(), Vec::new());
	for number in submitted_at..=ended_at {
		let hash = rpc.block_hash(number).await.unwrap().unwrap();
		for event in rpc.events(hash).await.unwrap() {
			match event {
				RuntimeEvent::Verification(pallet_result_verification::Event::DisputeOpened {
					disputed,
					..
				}) => opened.push(disputed.len()),
				RuntimeEvent::Verification(pallet_result_verification::Event::DisputeSettled {
					settlement,
					by,
					..
				}) => settled.push((by, settlement)),
				_ => {},
			}
		}
	}
	assert_eq!(opened, vec![2], "one dispute over Charlie's and Dave's roots");
	use gateless_primitives::dispute::Settlement;
	assert!(
		settled.iter().any(|(_, settlement)| *settlement == Settlement::Agree),
		"Charlie's output was proven to agree: {settled:?}"
	);
	assert!(
		settled.iter().any(|(_, settlement)| *settlement == Settlement::Disagree),
		"Dave's output was proven to differ: {settled:?}"
	);
	let slashes = slashes_between(&rpc, submitted_at, ended_at).await;
	assert_eq!(slashes, vec![(account(Dave), SlashReason::Dissent)], "only the liar");
	let (charlie_after, dave_after) =
		(validator_summary(&rpc, Charlie, at).await, validator_summary(&rpc, Dave, at).await);
	assert_eq!(charlie_after.bond, charlie_before.bond, "the edge case keeps its bond");
	assert!(charlie_after.counters.agreed > charlie_before.counters.agreed);
	assert!(dave_after.bond < dave_before.bond, "Dave's bond was slashed");
	println!(
		"dispute: job {job} verified in block {} ({} blocks after submission) by {:?}; \
		 settlements {settled:?}",
		result.finalized_at,
		result.finalized_at - submitted_at,
		result.agreeing
	);
	funds = reconciled(&network, "dispute", funds).await;
	timings.push(("2b. dispute", step.elapsed()));

	// 3. Bad model: the truncated file was rejected, and a job on it is refused.
	let step = Instant::now();
	let at = rpc.best_hash().await.unwrap();
	let info = model_info(&rpc, truncated, at).await;
	assert!(matches!(info.status, ModelStatus::Rejected(_)), "truncated model: {:?}", info.status);
	// The bomb cost each validator an inference worker, never its node: all four answer, and
	// attested it too large.
	let info = model_info(&rpc, bomb, at).await;
	assert_eq!(
		info.status,
		ModelStatus::Rejected(RejectionReason::Attested(AttestationFailure::TooLarge))
	);
	for who in [Alice, Bob, Charlie, Dave] {
		let validator = network.validator(who).unwrap();
		validator.rpc.best_hash().await.unwrap_or_else(|error| {
			panic!("{}", validator.node.failure(&format!("{who:?} does not answer: {error}")))
		});
	}
	let call = RuntimeCall::InferenceJobs(pallet_inference_jobs::Call::submit_job {
		model: truncated,
		inputs: InputTensors::new(vec![first_rows(&input, 1).into_inline().unwrap()]).unwrap(),
		replicas: Some(3),
		max_fee: UNIT,
	});
	let (_, _, failure) = submit(&rpc, USER, call).await;
	let not_active = pallet_inference_jobs::Error::<Runtime>::ModelNotActive;
	assert_eq!(failure, Some(DispatchError::from(not_active)));
	funds = reconciled(&network, "bad model", funds).await;
	timings.push(("3. bad model", step.elapsed()));

	// 4. Governance: a non-member can neither propose nor act as the admin; two thirds of the
	// Council ban digits-int and change a staking parameter in one motion.
	let step = Instant::now();
	let ban = RuntimeCall::ModelRegistry(RegistryCall::ban_model { model: digits_int });
	let propose = RuntimeCall::Council(pallet_collective::Call::propose {
		threshold: 2,
		proposal: Box::new(ban.clone()),
		length_bound: ban.encoded_size() as u32,
	});
	let (_, _, failure) = submit(&rpc, USER, propose).await;
	let not_member = pallet_collective::Error::<Runtime, pallet_collective::Instance1>::NotMember;
	assert_eq!(failure, Some(DispatchError::from(not_member)));
	let (_, _, failure) = submit(&rpc, USER, ban.clone()).await;
	assert_eq!(failure, Some(DispatchError::BadOrigin));

	let key = pallet_validator_staking::Params::<Runtime>::hashed_key();
	let at = rpc.best_hash().await.unwrap();
	let mut params: pallet_validator_staking::StakingParams<Balance> =
		rpc.storage_decoded(&key, at).await.unwrap().unwrap_or_else(|| {
			<gateless_runtime::configs::DefaultStakingParams as sp_core::Get<_>>::get()
		});
	params.max_offences_per_session += 2;
	let set_params = RuntimeCall::Staking(pallet_validator_staking::Call::set_params { params });
	let motion =
		RuntimeCall::Utility(pallet_utility::Call::batch_all { calls: vec![ban, set_params] });
	assert_eq!(council_motion(&rpc, Alice, Bob, motion).await, Ok(()));
	let at = rpc.best_hash().await.unwrap();
	assert_eq!(model_info(&rpc, digits_int, at).await.status, ModelStatus::Banned);
	let stored: Option<pallet_validator_staking::StakingParams<Balance>> =
		rpc.storage_decoded(&key, at).await.unwrap();
	assert_eq!(stored, Some(params));
	funds = reconciled(&network, "governance", funds).await;
	timings.push(("4. governance", step.elapsed()));

	// 5. Upgrade: a Council motion authorizes the next runtime (through the whitelist, as root),
	// two jobs start, anyone applies the upgrade, and the jobs finish under the new runtime.
	let step = Instant::now();
	let code = gateless_runtime::upgrade_test::WASM_BINARY
		.expect("built beside the runtime")
		.to_vec();
	let spec_before = rpc.runtime_version().await.unwrap().spec_version;
	let code_hash = BlakeTwo256::hash(&code);
	let authorize = RuntimeCall::System(frame_system::Call::authorize_upgrade { code_hash });
	let motion = RuntimeCall::Utility(pallet_utility::Call::batch_all {
		calls: vec![
			RuntimeCall::Whitelist(pallet_whitelist::Call::whitelist_call {
				call_hash: BlakeTwo256::hash_of(&authorize),
			}),
			RuntimeCall::Whitelist(
				pallet_whitelist::Call::dispatch_whitelisted_call_with_preimage {
					call: Box::new(authorize),
				},
			),
		],
	});
	assert_eq!(council_motion(&rpc, Bob, Charlie, motion).await, Ok(()));
	// The user submits two jobs and applies the upgrade in one batch: the jobs are assigned in
	// the block that changes the code, and committed, revealed and tallied under the new one.
	let at = rpc.best_hash().await.unwrap();
	let quote: Result<
		gateless_primitives::job::FeeQuote<Balance>,
		gateless_primitives::job::QuoteError,
	> = runtime_api(
		&rpc,
		"InferenceJobsApi_quote",
		(digits, Some(3u32), vec![first_rows(&input, 3).shape.to_vec()]),
		at,
	)
	.await;
	// The larger of the two jobs' fees: each holds at most this.
	let quote = quote.unwrap();
	let job_call = |rows: u32| {
		RuntimeCall::InferenceJobs(pallet_inference_jobs::Call::submit_job {
			model: digits,
			inputs: InputTensors::new(vec![first_rows(&input, rows).into_inline().unwrap()])
				.unwrap(),
			replicas: Some(3),
			max_fee: quote.total,
		})
	};
	let apply = RuntimeCall::System(frame_system::Call::apply_authorized_upgrade { code });
	let batch = RuntimeCall::Utility(pallet_utility::Call::batch_all {
		calls: vec![job_call(2), job_call(3), apply],
	});
	let (applied_in, events) = submit_ok(&rpc, USER, batch).await;
	assert!(
		events
			.contains(&RuntimeEvent::System(frame_system::Event::CodeUpdated { hash: code_hash })),
		"no CodeUpdated in block {applied_in}: {events:?}"
	);
	let pending: Vec<JobId> = events
		.iter()
		.filter_map(|event| match event {
			RuntimeEvent::InferenceJobs(pallet_inference_jobs::Event::JobSubmitted {
				job, ..
			}) => Some(*job),
			_ => None,
		})
		.collect();
	assert_eq!(pending.len(), 2, "two jobs submitted with the upgrade");
	let (spec_after, _) = wait_for(&network, applied_in, 3, "the new runtime version", |_| {
		let rpc = &rpc;
		async move {
			let spec = rpc.runtime_version().await.unwrap().spec_version;
			(spec != spec_before).then_some(spec)
		}
	})
	.await;
	assert_eq!(spec_after, spec_before + 1);
	for job in pending {
		let (_, result, _) = finalized_result(&network, job, applied_in).await;
		assert!(
			result.finalized_at > applied_in,
			"job {job} was still pending at the upgrade in block {applied_in}"
		);
		println!(
			"upgrade: job {job} (submitted before the upgrade in block {applied_in}) verified in \
			 block {} under spec {spec_after}",
			result.finalized_at
		);
	}
	// Checked at the first block of the new runtime, which ran its `on_runtime_upgrade`:
	// try-runtime executes it again with the next version's own build.
	finalized(&network, applied_in + 1).await;
	funds = reconciled_at(&network, "upgrade", funds, applied_in + 1).await;
	timings.push(("5. upgrade", step.elapsed()));

	// 6. Crash: Charlie dies just after a job is submitted, and another comes while he is down
	// but still in the set. That one has four replicas, so Charlie is surely one of them: Alice
	// and Bob agree, Dave dissents and Charlie never commits, so no two thirds agree and, with no
	// fresh validator to escalate to, the job fails with a refund.
	let step = Instant::now();
	let (first, first_at, _) = submit_job(&rpc, digits, vec![first_rows(&input, 1)], 3).await;
	network.validator_mut(Charlie).unwrap().node.kill().unwrap();
	let crashed_at = best(&rpc).await.1;
	let (second, _, _) = submit_job(&rpc, digits, vec![first_rows(&input, 2)], 4).await;
	// Three of four GRANDPA voters are enough: finality goes on.
	finalized(&network, crashed_at + 3).await;
	let (first_details, first_end) =
		job_end(&network, first, first_at, MAX_BLOCKS_FOR_ANY_JOB).await;
	let (second_details, second_end) =
		job_end(&network, second, first_at, MAX_BLOCKS_FOR_ANY_JOB).await;
	for (job, details) in [(first, &first_details), (second, &second_details)] {
		println!("crash: job {job} ended {:?}", details.job.status);
	}
	assert!(
		matches!(second_details.job.status, JobStatus::Failed(_) | JobStatus::Expired),
		"job {second} with the crashed Charlie: {second_details:?}"
	);
	assert!(first_details.job.status.is_final());
	assert_ne!(first_details.job.status, JobStatus::Cancelled);
	let at = rpc.best_hash().await.unwrap();
	assert_eq!(balances(&rpc, USER, at).await.1, 0, "every escrow was paid out or refunded");
	// Nobody but Charlie missed a duty (the second job's commitment, and the first's reveal if he
	// committed to it before he died); Dave dissents when he executes.
	let slashes = slashes_between(&rpc, first_at, first_end.max(second_end)).await;
	assert!(slashes.contains(&(account(Charlie), SlashReason::NoShow)), "{slashes:?}");
	for (who, reason) in slashes {
		let missed = matches!(reason, SlashReason::NoShow | SlashReason::Withheld);
		assert!(
			(who == account(Charlie) && missed)
				|| (who == account(Dave) && reason == SlashReason::Dissent),
			"unexpected slash of {who:?} for {reason:?}"
		);
	}
	timings.push(("6. crash: jobs ended without Charlie", step.elapsed()));

	let restart = Instant::now();
	let charlie = network.validator_mut(Charlie).unwrap();
	charlie.rpc = charlie.node.restart().await.unwrap();
	let (_, head) = rpc.finalized_head().await.unwrap();
	let charlie = network.validator(Charlie).unwrap();
	gateless_e2e::rpc::wait_for_finalized(
		&charlie.node,
		&charlie.rpc,
		head,
		Duration::from_secs(120),
	)
	.await
	.unwrap();
	timings.push(("6. crash: Charlie restarted and synced", restart.elapsed()));
	let (job, submitted_at, _) = submit_job(&rpc, digits, vec![first_rows(&input, 1)], 4).await;
	let (_, result, _) = finalized_result(&network, job, submitted_at).await;
	assert!(
		result.agreeing.contains(&account(Charlie)),
		"the restarted Charlie executes: {result:?}"
	);
	funds = reconciled(&network, "crash", funds).await;
	timings.push(("6. crash", step.elapsed()));
	let _ = funds;

	let step = Instant::now();
	let (head, number) = rpc.finalized_head().await.unwrap();
	let runtime = TryRuntimes::shared().unwrap().current();
	let upgrade = check_upgrade(&rpc, runtime, head).await.unwrap();
	println!("try-runtime: on-runtime-upgrade on block {number}'s state passes: {upgrade:?}");
	timings.push(("try-runtime on-runtime-upgrade", step.elapsed()));
	let step = Instant::now();
	// Past the session's end: the hooks of a new session and its validator set, checked too.
	let forwarded = check_fast_forward(&rpc, TryRuntimes::shared().unwrap(), head, FAST_FORWARD)
		.await
		.unwrap();
	assert_eq!(forwarded.len(), FAST_FORWARD as usize);
	println!("try-runtime: fast-forward of {FAST_FORWARD} blocks from block {number} passes");
	timings.push(("try-runtime fast-forward", step.elapsed()));

	network.stop().unwrap();
	timings.push(("total", started.elapsed()));
	for (what, duration) in timings {
		println!("{what}: {:.1} s", duration.as_secs_f64());
	}
}
