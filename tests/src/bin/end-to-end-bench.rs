//! End-to-end benchmark: how long a user waits for a verified result, and how many jobs a local
//! network verifies per minute, as the offered load grows.
//!
//! ```text
//! cargo run -p gateless-e2e --bin end-to-end-bench -- [--loads 1,2,4,8,16] [--blocks 12]
//!     [--drain-blocks 20] [--replicas 3] [--batch 1] [--output benchmarks/end-to-end.json]
//!     [--logs DIR]
//! ```
//!
//! Starts three validators (Alice, Bob, Charlie) on loopback with the `local` genesis minus Dave,
//! so that every job with three replicas runs on all three; registers the digits MLP inline and
//! waits until it is attested. Then, for each load (jobs per 6-second block), eight user accounts
//! take turns submitting one-image jobs at evenly spaced times for `--blocks` blocks (with
//! `--batch N` above 1, `N` jobs per `submit_jobs` transaction), and the
//! benchmark follows Alice's best chain block by block: which of its transactions are in which
//! block, the job each one opened (or the error it failed with), the executors' commits and
//! reveals, and the block that finalized the job. After the submissions it waits until the jobs
//! have ended, or `--drain-blocks` more blocks.
//!
//! Per load it reports the latency from submission to verified result (in blocks after inclusion
//! and in seconds from the RPC call to the import of the verifying block on Alice's node; median
//! and p95), the sustained throughput (jobs verified per minute in the blocks after a warm-up of
//! three blocks, up to the last submission), and what the chain was doing: transactions per block,
//! block weight and length against their limits, the transaction pool of Alice's node, how many
//! blocks after inclusion the commits and reveals came, the submissions that failed and why, and
//! why the block authors stopped adding transactions (`substrate_proposer_end_proposal_reason` of
//! the three nodes). The JSON file holds every figure; `scripts/plot-benchmarks.py` draws it.

use std::{
	collections::{BTreeMap, HashMap},
	path::{Path, PathBuf},
	process::ExitCode,
	sync::{
		atomic::{AtomicBool, Ordering},
		Arc, Mutex,
	},
	time::{Duration, Instant},
};

use codec::Encode;
use frame_support::dispatch::PerDispatchClass;
use gateless_e2e::{
	models::{model_status, register_inline, registered_model},
	network::{LocalNetwork, NetworkConfig},
	node::node_binary,
	rpc::{to_hex, Rpc},
	tx::{signed_extrinsic, ChainContext},
	Result,
};
use gateless_inference_engine::reference::{first_rows, reference};
use gateless_primitives::{
	job::{FeeQuote, InputTensors, JobId, QuoteError},
	model::{ModelId, ModelStatus},
};
use gateless_runtime::{
	configs::{RuntimeBlockLength, RuntimeBlockWeights},
	token::UNIT,
	Balance, BlockNumber, RuntimeCall, RuntimeError, RuntimeEvent,
};
use jsonrpsee::rpc_params;
use serde::Serialize;
use serde_json::Value;
use sp_core::{crypto::Ss58Codec, H256};
use sp_keyring::Sr25519Keyring::{self, *};
use sp_runtime::DispatchError;

const SLOT: Duration = Duration::from_secs(6);
/// Blocks at the start of a load that the throughput leaves out, while the pipeline fills.
const WARM_UP_BLOCKS: u32 = 3;
/// Users who submit jobs, in turn; none of them validates.
const USERS: [Sr25519Keyring; 8] =
	[Dave, Eve, Ferdie, AliceStash, BobStash, CharlieStash, DaveStash, EveStash];
const BUILDER: Sr25519Keyring = FerdieStash;

struct Args {
	loads: Vec<u32>,
	blocks: u32,
	drain_blocks: u32,
	replicas: u32,
	/// Jobs per transaction: 1 sends `submit_job`, more `submit_jobs`.
	batch: u32,
	output: PathBuf,
	/// Where to copy the nodes' logs at the end, if anywhere.
	logs: Option<PathBuf>,
}

fn parse_args() -> Result<Args> {
	let mut args = Args {
		loads: vec![1, 2, 4, 8, 16],
		blocks: 12,
		drain_blocks: 20,
		replicas: 3,
		batch: 1,
		output: PathBuf::from("benchmarks/end-to-end.json"),
		logs: None,
	};
	let mut given = std::env::args().skip(1);
	while let Some(flag) = given.next() {
		let mut value = || given.next().ok_or_else(|| format!("{flag} needs a value"));
		let number = |text: String| text.parse::<u32>().map_err(|e| format!("{text}: {e}"));
		match flag.as_str() {
			"--loads" => {
				args.loads =
					value()?.split(',').map(|s| number(s.to_string())).collect::<Result<_>>()?
			},
			"--blocks" => args.blocks = number(value()?)?,
			"--drain-blocks" => args.drain_blocks = number(value()?)?,
			"--replicas" => args.replicas = number(value()?)?,
			"--batch" => args.batch = number(value()?)?,
			"--output" => args.output = PathBuf::from(value()?),
			"--logs" => args.logs = Some(PathBuf::from(value()?)),
			"--help" | "-h" => {
				return Err("usage: end-to-end-bench [--loads 1,2,4,8,16] [--blocks 12] \
					[--drain-blocks 20] [--replicas 3] [--batch 1] \
					[--output benchmarks/end-to-end.json] [--logs DIR]"
					.into())
			},
			other => return Err(format!("unknown argument {other}; see --help")),
		}
	}
	if args.loads.is_empty() || args.loads.contains(&0) || args.blocks <= WARM_UP_BLOCKS {
		return Err(format!("loads must be positive and --blocks above {WARM_UP_BLOCKS}"));
	}
	if args.batch == 0 {
		return Err("--batch must be positive".into());
	}
	Ok(args)
}

/// The `local` chain spec of the node under test, without Dave among the validators.
fn three_validator_spec(dir: &Path) -> Result<PathBuf> {
	let output = std::process::Command::new(node_binary()?)
		.args(["build-spec", "--chain", "local"])
		.stderr(std::process::Stdio::null())
		.output()
		.map_err(|e| format!("cannot run build-spec: {e}"))?;
	if !output.status.success() {
		return Err(format!("build-spec failed: {}", output.status));
	}
	let mut spec: Value =
		serde_json::from_slice(&output.stdout).map_err(|e| format!("bad chain spec: {e}"))?;
	let dave = Dave.to_account_id().to_ss58check();
	let patch = spec
		.pointer_mut("/genesis/runtimeGenesis/patch")
		.ok_or("the local spec has no genesis patch")?;
	for list in ["/session/keys", "/staking/validators"] {
		let entries = patch
			.pointer_mut(list)
			.and_then(Value::as_array_mut)
			.ok_or_else(|| format!("the local genesis has no {list}"))?;
		let before = entries.len();
		entries.retain(|entry| entry[0] != Value::String(dave.clone()));
		if entries.len() + 1 != before {
			return Err(format!("Dave is not once in the local genesis {list}"));
		}
	}
	let path = dir.join("local-three-validators.json");
	std::fs::write(&path, serde_json::to_vec_pretty(&spec).map_err(|e| e.to_string())?)
		.map_err(|e| format!("cannot write {}: {e}", path.display()))?;
	Ok(path)
}

/// What the benchmark knows of one of its transactions.
struct Submission {
	load: u32,
	sent: Instant,
}

/// One job opened by the benchmark.
#[derive(Clone, Debug, Default, Serialize)]
struct JobTrack {
	load: u32,
	#[serde(skip)]
	sent: Option<Instant>,
	included: BlockNumber,
	/// Seconds from the RPC call to the import of the including block.
	inclusion_secs: f64,
	commits: Vec<BlockNumber>,
	reveals: Vec<BlockNumber>,
	verified: Option<BlockNumber>,
	/// Seconds from the RPC call to the import of the verifying block.
	verified_secs: Option<f64>,
	/// `JobFailed` or `JobExpired`.
	ended_otherwise: Option<String>,
}

/// One block of Alice's best chain as the benchmark saw it.
#[derive(Clone, Debug, Serialize)]
struct BlockStats {
	number: BlockNumber,
	/// Seconds since the benchmark started, when Alice's node had imported it.
	seen_secs: f64,
	extrinsics: usize,
	length_bytes: usize,
	/// Normal-class weight (ref time) used, against the normal-class limit.
	normal_weight_percent: f64,
	/// Operational-class weight (validators' duties) used, against the duties' budget.
	duty_weight_percent: f64,
	/// Mandatory-class weight (hooks and inherents), against the whole block's limit: a session
	/// rotation counts the whole block (`pallet_session`), leaving no room for transactions.
	mandatory_weight_percent: f64,
	/// Transactions in Alice's pool then.
	pool: usize,
	jobs_opened: u32,
	commits: u32,
	reveals: u32,
	jobs_verified: u32,
}

#[derive(Default)]
struct Tracker {
	pending: HashMap<H256, Submission>,
	jobs: BTreeMap<JobId, JobTrack>,
	/// Submissions that were included but failed, by error, per load.
	failed: BTreeMap<(u32, String), u32>,
	blocks: Vec<BlockStats>,
}

type Records = Vec<frame_system::EventRecord<RuntimeEvent, H256>>;

/// The runtime's block weight limits (ref time), that a block's weight is shown against.
struct WeightLimits {
	/// What normal transactions may take.
	normal: u64,
	/// What operational transactions (duties) may take.
	duties: u64,
	/// The whole block, which mandatory work may fill.
	block: u64,
}

impl WeightLimits {
	fn of_runtime() -> Self {
		let weights = RuntimeBlockWeights::get();
		let limit = |class| weights.get(class).max_total.unwrap_or(weights.max_block).ref_time();
		Self {
			normal: limit(frame_support::dispatch::DispatchClass::Normal).max(1),
			duties: limit(frame_support::dispatch::DispatchClass::Operational).max(1),
			block: weights.max_block.ref_time().max(1),
		}
	}
}

fn number_of(value: &Value) -> Result<u32> {
	let text = value.as_str().ok_or_else(|| format!("expected a hex number, got {value}"))?;
	u32::from_str_radix(text.trim_start_matches("0x"), 16).map_err(|e| format!("{text}: {e}"))
}

fn hex_bytes(value: &Value) -> Result<Vec<u8>> {
	let text = value.as_str().ok_or_else(|| format!("expected hex, got {value}"))?;
	hex::decode(text.trim_start_matches("0x")).map_err(|e| format!("{text}: {e}"))
}

fn error_name(error: &DispatchError) -> String {
	match RuntimeError::from_dispatch_error(*error) {
		Some(known) => format!("{known:?}"),
		None => format!("{error:?}"),
	}
}

/// Reads block `number` of Alice's best chain into `tracker`.
async fn follow_block(
	rpc: &Rpc,
	number: BlockNumber,
	started: Instant,
	limits: &WeightLimits,
	tracker: &Mutex<Tracker>,
) -> Result<()> {
	let hash = rpc.block_hash(number).await?.ok_or_else(|| format!("no block {number}"))?;
	let seen = Instant::now();
	let block = rpc.call("chain_getBlock", rpc_params![format!("{hash:?}")]).await?;
	let extrinsics = block["block"]["extrinsics"]
		.as_array()
		.ok_or_else(|| format!("block {number} has no extrinsics: {block}"))?
		.iter()
		.map(hex_bytes)
		.collect::<Result<Vec<_>>>()?;
	let records: Records = rpc
		.storage_decoded(&frame_support::storage::storage_prefix(b"System", b"Events"), hash)
		.await?
		.unwrap_or_default();
	let weight: PerDispatchClass<frame_support::weights::Weight> = rpc
		.storage_decoded(&frame_support::storage::storage_prefix(b"System", b"BlockWeight"), hash)
		.await?
		.unwrap_or_default();
	let pool = rpc.call("author_pendingExtrinsics", rpc_params![]).await?;
	let pool = pool.as_array().map_or(0, Vec::len);

	let mut tracker = tracker.lock().map_err(|_| "tracker poisoned")?;
	let mut stats = BlockStats {
		number,
		seen_secs: seen.duration_since(started).as_secs_f64(),
		extrinsics: extrinsics.len(),
		length_bytes: extrinsics.iter().map(Vec::len).sum(),
		normal_weight_percent: 100.0
			* weight.get(frame_support::dispatch::DispatchClass::Normal).ref_time() as f64
			/ limits.normal as f64,
		duty_weight_percent: 100.0
			* weight.get(frame_support::dispatch::DispatchClass::Operational).ref_time() as f64
			/ limits.duties as f64,
		mandatory_weight_percent: 100.0
			* weight.get(frame_support::dispatch::DispatchClass::Mandatory).ref_time() as f64
			/ limits.block as f64,
		pool,
		jobs_opened: 0,
		commits: 0,
		reveals: 0,
		jobs_verified: 0,
	};
	// Which of the benchmark's transactions are in this block, and what became of them.
	let mut ours: HashMap<u32, Submission> = HashMap::new();
	for (index, extrinsic) in extrinsics.iter().enumerate() {
		let hash = H256(sp_io::hashing::blake2_256(extrinsic));
		if let Some(submission) = tracker.pending.remove(&hash) {
			ours.insert(index as u32, submission);
		}
	}
	for record in &records {
		let frame_system::Phase::ApplyExtrinsic(index) = record.phase else { continue };
		let Some(submission) = ours.get(&index) else { continue };
		match &record.event {
			RuntimeEvent::InferenceJobs(pallet_inference_jobs::Event::JobSubmitted {
				job, ..
			}) => {
				stats.jobs_opened += 1;
				tracker.jobs.insert(
					*job,
					JobTrack {
						load: submission.load,
						sent: Some(submission.sent),
						included: number,
						inclusion_secs: seen.duration_since(submission.sent).as_secs_f64(),
						..JobTrack::default()
					},
				);
			},
			RuntimeEvent::System(frame_system::Event::ExtrinsicFailed {
				dispatch_error, ..
			}) => {
				*tracker
					.failed
					.entry((submission.load, error_name(dispatch_error)))
					.or_default() += 1;
			},
			RuntimeEvent::InferenceJobs(pallet_inference_jobs::Event::JobRefused {
				error, ..
			}) => {
				*tracker.failed.entry((submission.load, error_name(error))).or_default() += 1;
			},
			_ => {},
		}
	}
	for record in &records {
		use pallet_inference_jobs::Event as Jobs;
		use pallet_result_verification::Event as Verification;
		let (job, what) = match &record.event {
			RuntimeEvent::Verification(Verification::Committed { job, .. }) => {
				stats.commits += 1;
				(*job, "commit")
			},
			RuntimeEvent::Verification(Verification::Revealed { job, .. }) => {
				stats.reveals += 1;
				(*job, "reveal")
			},
			RuntimeEvent::InferenceJobs(Jobs::JobFinalized { job, .. }) => {
				stats.jobs_verified += 1;
				(*job, "verified")
			},
			RuntimeEvent::InferenceJobs(Jobs::JobFailed { job, .. }) => (*job, "failed"),
			RuntimeEvent::InferenceJobs(Jobs::JobExpired { job, .. }) => (*job, "expired"),
			_ => continue,
		};
		let Some(track) = tracker.jobs.get_mut(&job) else { continue };
		match what {
			"commit" => track.commits.push(number),
			"reveal" => track.reveals.push(number),
			"verified" => {
				track.verified = Some(number);
				track.verified_secs =
					track.sent.map(|sent| seen.duration_since(sent).as_secs_f64());
			},
			other => track.ended_otherwise = Some(other.to_string()),
		}
	}
	tracker.blocks.push(stats);
	Ok(())
}

/// Follows Alice's best chain until `stop`, block by block.
async fn follow(
	rpc: Rpc,
	from: BlockNumber,
	started: Instant,
	tracker: Arc<Mutex<Tracker>>,
	stop: Arc<AtomicBool>,
) -> Result<()> {
	let limits = WeightLimits::of_runtime();
	let mut next = from;
	while !stop.load(Ordering::Relaxed) {
		let header = rpc.call("chain_getHeader", rpc_params![]).await?;
		let best = number_of(&header["number"])?;
		while next <= best {
			follow_block(&rpc, next, started, &limits, &tracker).await?;
			next += 1;
		}
		tokio::time::sleep(Duration::from_millis(100)).await;
	}
	Ok(())
}

fn percentile(sorted: &[f64], fraction: f64) -> Option<f64> {
	let last = sorted.len().checked_sub(1)?;
	let rank = ((last as f64) * fraction).round() as usize;
	sorted.get(rank.min(last)).copied()
}

fn sorted(mut values: Vec<f64>) -> Vec<f64> {
	values.sort_by(f64::total_cmp);
	values
}

/// What one load came to.
#[derive(Debug, Serialize)]
struct LoadResult {
	/// Jobs per block offered.
	load: u32,
	offered_per_minute: f64,
	submitted: u32,
	/// Refused by the transaction pool of Alice's node (the RPC call failed).
	refused_by_pool: u32,
	/// Included but failed, by error.
	failed_in_block: BTreeMap<String, u32>,
	jobs_opened: u32,
	jobs_verified: u32,
	jobs_ended_otherwise: u32,
	/// Still running when the benchmark moved on.
	jobs_unfinished: u32,
	verified_per_minute: f64,
	inclusion_secs_median: Option<f64>,
	latency_blocks_median: Option<f64>,
	latency_blocks_p95: Option<f64>,
	latency_secs_median: Option<f64>,
	latency_secs_p95: Option<f64>,
	/// Blocks from inclusion to the last commit and to the last reveal, medians.
	commit_blocks_median: Option<f64>,
	reveal_blocks_median: Option<f64>,
	extrinsics_per_block_max: usize,
	extrinsics_per_block_mean: f64,
	normal_weight_percent_max: f64,
	duty_weight_percent_max: f64,
	length_percent_max: f64,
	pool_max: usize,
	/// `substrate_proposer_end_proposal_reason` of the three nodes during the load.
	end_proposal_reasons: BTreeMap<String, f64>,
	first_block: BlockNumber,
	last_block: BlockNumber,
}

/// The sum over the nodes of `substrate_proposer_end_proposal_reason`, by reason.
fn end_proposal_reasons(network: &LocalNetwork) -> Result<BTreeMap<String, f64>> {
	let mut reasons = BTreeMap::new();
	for validator in &network.validators {
		let metrics = validator.node.prometheus_metrics()?;
		for line in metrics.lines() {
			let Some(rest) = line.strip_prefix("substrate_proposer_end_proposal_reason{") else {
				continue;
			};
			let Some((labels, value)) = rest.split_once("} ") else { continue };
			let reason = labels
				.split(',')
				.find_map(|label| label.strip_prefix("reason=\""))
				.map(|reason| reason.trim_end_matches('"').to_string())
				.unwrap_or_else(|| labels.to_string());
			let value: f64 = value.trim().parse().unwrap_or(0.0);
			*reasons.entry(reason).or_default() += value;
		}
	}
	Ok(reasons)
}

struct Bench {
	network: LocalNetwork,
	rpc: Rpc,
	context: ChainContext,
	model: ModelId,
	inputs: InputTensors,
	max_fee: Balance,
	replicas: u32,
	batch: u32,
	nonces: Vec<u32>,
	tracker: Arc<Mutex<Tracker>>,
}

impl Bench {
	async fn best_number(&self) -> Result<BlockNumber> {
		let header = self.rpc.call("chain_getHeader", rpc_params![]).await?;
		number_of(&header["number"])
	}

	async fn run_load(&mut self, load: u32, blocks: u32, drain_blocks: u32) -> Result<LoadResult> {
		let reasons_before = end_proposal_reasons(&self.network)?;
		let first_block = self.best_number().await? + 1;
		let total = load * blocks;
		// Transactions of `batch` jobs (the last one what is left), evenly spaced.
		let transactions = total.div_ceil(self.batch);
		let interval = SLOT * blocks / transactions;
		let started = Instant::now();
		let mut refused_by_pool = 0;
		for index in 0..transactions {
			tokio::time::sleep_until((started + interval * index).into()).await;
			let user = (index as usize) % USERS.len();
			let jobs = self.batch.min(total - index * self.batch);
			let call = if self.batch == 1 {
				RuntimeCall::InferenceJobs(pallet_inference_jobs::Call::submit_job {
					model: self.model,
					inputs: self.inputs.clone(),
					replicas: Some(self.replicas),
					max_fee: self.max_fee,
				})
			} else {
				let request = pallet_inference_jobs::JobRequest {
					model: self.model,
					inputs: self.inputs.clone(),
					replicas: Some(self.replicas),
					max_fee: self.max_fee,
				};
				let requests = vec![request; jobs as usize];
				RuntimeCall::InferenceJobs(pallet_inference_jobs::Call::submit_jobs {
					jobs: requests.try_into().map_err(|_| "--batch above MaxJobsPerBlock")?,
				})
			};
			let nonce = self.nonces[user];
			let extrinsic = signed_extrinsic(call, &USERS[user].pair(), nonce, self.context);
			let hash = H256(sp_io::hashing::blake2_256(&extrinsic));
			// Tracked before it is sent: the block with it may be imported before the answer.
			self.tracker
				.lock()
				.map_err(|_| "tracker poisoned")?
				.pending
				.insert(hash, Submission { load, sent: Instant::now() });
			match self.rpc.call("author_submitExtrinsic", rpc_params![to_hex(&extrinsic)]).await {
				Ok(_) => self.nonces[user] += 1,
				Err(error) => {
					refused_by_pool += jobs;
					eprintln!("load {load}: the pool refused a job: {error}");
					self.tracker.lock().map_err(|_| "tracker poisoned")?.pending.remove(&hash);
				},
			}
		}
		let submitted_for = started.elapsed();
		let last_submission_block = self.best_number().await?;
		// Wait until this load's jobs have ended, or `drain_blocks` more blocks.
		let drain_until = last_submission_block + drain_blocks;
		loop {
			tokio::time::sleep(Duration::from_secs(1)).await;
			let done = {
				let tracker = self.tracker.lock().map_err(|_| "tracker poisoned")?;
				let in_flight = tracker.pending.values().any(|s| s.load == load)
					|| tracker.jobs.values().any(|job| {
						job.load == load && job.verified.is_none() && job.ended_otherwise.is_none()
					});
				!in_flight
			};
			if done || self.best_number().await? >= drain_until {
				break;
			}
		}
		// Transactions never included are forgotten (dropped from the pool, or still in it).
		let last_block = self.best_number().await?;
		let reasons_after = end_proposal_reasons(&self.network)?;

		let mut tracker = self.tracker.lock().map_err(|_| "tracker poisoned")?;
		tracker.pending.retain(|_, submission| submission.load != load);
		let jobs: Vec<&JobTrack> = tracker.jobs.values().filter(|job| job.load == load).collect();
		let verified: Vec<&&JobTrack> = jobs.iter().filter(|job| job.verified.is_some()).collect();
		let blocks_of = |pick: &dyn Fn(&JobTrack) -> Option<BlockNumber>| {
			sorted(
				jobs.iter()
					.filter_map(|job| pick(job).map(|at| at.saturating_sub(job.included) as f64))
					.collect(),
			)
		};
		let latency_blocks = blocks_of(&|job| job.verified);
		let commit_blocks = blocks_of(&|job| job.commits.iter().max().copied());
		let reveal_blocks = blocks_of(&|job| job.reveals.iter().max().copied());
		let latency_secs = sorted(verified.iter().filter_map(|job| job.verified_secs).collect());
		let inclusion_secs = sorted(jobs.iter().map(|job| job.inclusion_secs).collect());
		// Sustained throughput: verifications in the blocks after the warm-up, up to the last
		// submission, over the time between their imports.
		let window: Vec<&BlockStats> = tracker
			.blocks
			.iter()
			.filter(|block| {
				block.number >= first_block + WARM_UP_BLOCKS
					&& block.number <= last_submission_block
			})
			.collect();
		let before_window = tracker
			.blocks
			.iter()
			.find(|block| block.number + 1 == first_block + WARM_UP_BLOCKS)
			.map(|block| block.seen_secs);
		let verified_per_minute = match (before_window, window.last()) {
			(Some(from), Some(to)) if to.seen_secs > from => {
				let count: u32 = window.iter().map(|block| block.jobs_verified).sum();
				f64::from(count) * 60.0 / (to.seen_secs - from)
			},
			_ => 0.0,
		};
		let load_blocks: Vec<&BlockStats> = tracker
			.blocks
			.iter()
			.filter(|block| block.number >= first_block && block.number <= last_block)
			.collect();
		let max_length = *RuntimeBlockLength::get()
			.max
			.get(frame_support::dispatch::DispatchClass::Normal);
		let result = LoadResult {
			load,
			offered_per_minute: f64::from(total) * 60.0 / submitted_for.as_secs_f64().max(1e-3),
			submitted: total - refused_by_pool,
			refused_by_pool,
			failed_in_block: tracker
				.failed
				.iter()
				.filter(|((at, _), _)| *at == load)
				.map(|((_, name), count)| (name.clone(), *count))
				.collect(),
			jobs_opened: jobs.len() as u32,
			jobs_verified: verified.len() as u32,
			jobs_ended_otherwise: jobs.iter().filter(|job| job.ended_otherwise.is_some()).count()
				as u32,
			jobs_unfinished: jobs
				.iter()
				.filter(|job| job.verified.is_none() && job.ended_otherwise.is_none())
				.count() as u32,
			verified_per_minute,
			inclusion_secs_median: percentile(&inclusion_secs, 0.5),
			latency_blocks_median: percentile(&latency_blocks, 0.5),
			latency_blocks_p95: percentile(&latency_blocks, 0.95),
			latency_secs_median: percentile(&latency_secs, 0.5),
			latency_secs_p95: percentile(&latency_secs, 0.95),
			commit_blocks_median: percentile(&commit_blocks, 0.5),
			reveal_blocks_median: percentile(&reveal_blocks, 0.5),
			extrinsics_per_block_max: load_blocks.iter().map(|b| b.extrinsics).max().unwrap_or(0),
			extrinsics_per_block_mean: load_blocks.iter().map(|b| b.extrinsics as f64).sum::<f64>()
				/ (load_blocks.len().max(1) as f64),
			normal_weight_percent_max: load_blocks
				.iter()
				.map(|b| b.normal_weight_percent)
				.fold(0.0, f64::max),
			duty_weight_percent_max: load_blocks
				.iter()
				.map(|b| b.duty_weight_percent)
				.fold(0.0, f64::max),
			length_percent_max: load_blocks
				.iter()
				.map(|b| 100.0 * b.length_bytes as f64 / f64::from(max_length.max(1)))
				.fold(0.0, f64::max),
			pool_max: load_blocks.iter().map(|b| b.pool).max().unwrap_or(0),
			end_proposal_reasons: reasons_after
				.iter()
				.map(|(reason, after)| {
					(reason.clone(), after - reasons_before.get(reason).copied().unwrap_or(0.0))
				})
				.collect(),
			first_block,
			last_block,
		};
		Ok(result)
	}
}

fn show(value: Option<f64>) -> String {
	value.map_or_else(|| "–".to_string(), |v| format!("{v:.1}"))
}

fn print_table(results: &[LoadResult]) {
	println!(
		"| jobs/block | offered/min | opened | verified | failed in block | verified/min | \
		 latency blocks (median, p95) | latency s (median, p95) | last commit, reveal (blocks) | \
		 tx/block (mean, max) | weight % max (normal, duties) | length % max | pool max | \
		 proposer stopped |"
	);
	println!("|{}", " --- |".repeat(14));
	for r in results {
		let failed: Vec<String> = r
			.failed_in_block
			.iter()
			.map(|(name, count)| format!("{count} {name}"))
			.collect();
		let reasons: Vec<String> = r
			.end_proposal_reasons
			.iter()
			.filter(|(_, count)| **count > 0.0)
			.map(|(reason, count)| format!("{count} {reason}"))
			.collect();
		println!(
			"| {} | {:.1} | {} | {} | {} | {:.1} | {}, {} | {}, {} | {}, {} | {:.1}, {} | {:.1}, {:.1} | {:.1} | {} | {} |",
			r.load,
			r.offered_per_minute,
			r.jobs_opened,
			r.jobs_verified,
			if failed.is_empty() { "0".to_string() } else { failed.join(", ") },
			r.verified_per_minute,
			show(r.latency_blocks_median),
			show(r.latency_blocks_p95),
			show(r.latency_secs_median),
			show(r.latency_secs_p95),
			show(r.commit_blocks_median),
			show(r.reveal_blocks_median),
			r.extrinsics_per_block_mean,
			r.extrinsics_per_block_max,
			r.normal_weight_percent_max,
			r.duty_weight_percent_max,
			r.length_percent_max,
			r.pool_max,
			reasons.join(", "),
		);
	}
}

/// Registers the digits MLP inline as the builder and waits until the validators attest it.
async fn register_model(rpc: &Rpc, context: ChainContext) -> Result<ModelId> {
	let call = register_inline(
		"digits-mlp.onnx",
		"digits-mlp",
		UNIT / 100,
		"the end-to-end benchmark's model",
	)?;
	let (_, events) = rpc.submit_signed(context, BUILDER, call, Duration::from_secs(60)).await?;
	let model = registered_model(&events)?;
	let deadline = Instant::now() + 10 * SLOT;
	loop {
		match model_status(rpc, model, rpc.best_hash().await?).await? {
			Some(ModelStatus::Active) => return Ok(model),
			Some(ModelStatus::Pending) if Instant::now() < deadline => {},
			other => return Err(format!("model {model} is {other:?}, not active")),
		}
		tokio::time::sleep(Duration::from_secs(1)).await;
	}
}

async fn run(args: Args) -> Result<()> {
	let spec_dir = tempfile::tempdir().map_err(|e| e.to_string())?;
	let spec = three_validator_spec(spec_dir.path())?;
	eprintln!("starting Alice, Bob and Charlie on {}", spec.display());
	let network = LocalNetwork::start(NetworkConfig {
		validators: 3,
		chain: spec.display().to_string(),
		..NetworkConfig::default()
	})
	.await?;
	let url = network.validator(Alice)?.node.rpc_url();
	let rpc = Rpc::connect(&url).await?;
	let context = rpc.chain_context().await?;
	let model = register_model(&rpc, context).await?;
	let at = rpc.best_hash().await?;
	let (batch, ..) = reference("digits-mlp");
	let input = first_rows(&batch, 1);
	let shapes = vec![input.shape.to_vec()];
	let quote: core::result::Result<FeeQuote<Balance>, QuoteError> = rpc
		.runtime_api("InferenceJobsApi_quote", &(model, Some(args.replicas), shapes).encode(), at)
		.await?;
	let quote = quote.map_err(|e| format!("no quote for {} replicas: {e:?}", args.replicas))?;
	let mut nonces = Vec::new();
	for user in USERS {
		nonces.push(rpc.account_next_index(&user.to_account_id().to_ss58check()).await?);
	}
	let started = Instant::now();
	let tracker = Arc::new(Mutex::new(Tracker::default()));
	let stop = Arc::new(AtomicBool::new(false));
	let follower = tokio::spawn(follow(
		Rpc::connect(&url).await?,
		rpc.block_number(at).await? + 1,
		started,
		tracker.clone(),
		stop.clone(),
	));
	let inputs = gateless_e2e::jobs::place_inputs(&rpc, vec![input]).await?;
	let mut bench = Bench {
		network,
		rpc,
		context,
		model,
		inputs,
		max_fee: quote.total,
		replicas: args.replicas,
		batch: args.batch,
		nonces,
		tracker: tracker.clone(),
	};
	let mut results = Vec::new();
	for &load in &args.loads {
		if follower.is_finished() {
			break;
		}
		eprintln!("load {load} jobs per block for {} blocks", args.blocks);
		let result = bench.run_load(load, args.blocks, args.drain_blocks).await?;
		eprintln!("{result:?}");
		results.push(result);
	}
	stop.store(true, Ordering::Relaxed);
	follower.await.map_err(|e| e.to_string())??;
	print_table(&results);
	let tracker = tracker.lock().map_err(|_| "tracker poisoned")?;
	let report = serde_json::json!({
		"validators": 3,
		"replicas": args.replicas,
		"jobs_per_transaction": args.batch,
		"blocks_per_load": args.blocks,
		"warm_up_blocks": WARM_UP_BLOCKS,
		"loads": results,
		"blocks": tracker.blocks,
		"jobs": tracker.jobs,
	});
	if let Some(dir) = args.output.parent() {
		std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
	}
	std::fs::write(&args.output, serde_json::to_vec_pretty(&report).map_err(|e| e.to_string())?)
		.map_err(|e| format!("cannot write {}: {e}", args.output.display()))?;
	eprintln!("wrote {}", args.output.display());
	if let Some(dir) = &args.logs {
		std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
		for validator in &bench.network.validators {
			let path = dir.join(format!("{}.log", validator.node.config.name));
			std::fs::write(&path, validator.node.log())
				.map_err(|e| format!("cannot write {}: {e}", path.display()))?;
		}
	}
	bench.network.stop()
}

#[tokio::main]
async fn main() -> ExitCode {
	let args = match parse_args() {
		Ok(args) => args,
		Err(error) => {
			eprintln!("{error}");
			return ExitCode::from(2);
		},
	};
	match run(args).await {
		Ok(()) => ExitCode::SUCCESS,
		Err(error) => {
			eprintln!("end-to-end-bench failed: {error}");
			ExitCode::FAILURE
		},
	}
}
