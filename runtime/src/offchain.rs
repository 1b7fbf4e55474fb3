//! Validators' duties, done by the offchain worker of each imported block on a validator's node.
//!
//! For every inference key in the node's keystore whose owner is an active validator:
//!
//! 1. **Attest.** Each `Pending` model the validator has not attested yet is checked with
//!    [`inference::check_model`] (bytes from the node's model store, the chain, or the model's
//!    URIs; hash, size and signature checked; loaded by tract) and the verdict is sent with
//!    `ModelRegistry::attest_model_as`, at most [`MAX_ATTESTATIONS_PER_BLOCK`] per block. The file
//!    of a model that nodes provide as content is first fetched from peers in the background
//!    ([`inference::obtain_model`]): the model is checked once the node holds it; a node that
//!    will not hold a model that large does not attest it; and a model that no peer served for
//!    [`MODEL_FETCH_GRACE`] blocks after its registration is attested `Unavailable` (its URIs, if
//!    it has any, are tried whenever no peer serves it, and decide once the grace is over). A
//!    model that loads and has reference vectors is run on each ([`inference::check_reference`])
//!    and attested `ReferenceMismatch` if one's outputs differ beyond its determinism; a vector
//!    this node cannot run now (content not found, a limit of its own) leaves the model
//!    unattested until the next block.
//! 2. **Commit.** For each job whose current round has the validator in its committee and no
//!    commitment from it, the worker runs the model on the job's inputs with [`inference::run`],
//!    draws a salt, stores output and salt in the node's *persistent* offchain storage, and adds
//!    the commitment to the block's `Verification::commit_batch`.
//! 3. **Reveal.** Once the reveal window is open, it adds the stored output and salt to the
//!    block's `Verification::reveal_batch`, sent before the block's new jobs run: a node restarted
//!    between commit and reveal still reveals. Outputs larger than the inline threshold are not
//!    in it: the node's content store keeps (and provides) them, and the output names them by
//!    content ([`inference::run`] places them).
//! 4. **Settle.** While a dispute over outputs by content is open (see the verification pallet),
//!    a validator whose reveal is disputed has the node prove how its output compares with the
//!    reference's ([`inference::prove`], which fetches the reference's output) and sends
//!    `Verification::settle`; the reference's validator does the same for every disputed reveal
//!    not yet shown to disagree, and sends the proof only when it shows a disagreement (so that
//!    a liar is caught before the window closes, and cannot hide behind an undecided).
//!
//! Which duties are due the worker asks the pallets, which own the rules
//! (`ModelRegistry::pending_models_unattested_by`, `Verification::duties_of` and
//! `Verification::proofs_due_from`, `InferenceJobs::work_of`); it reads no pallet's storage
//! itself.
//!
//! Commits and reveals go in batches: one transaction of each per validator and block (more only
//! beyond [`MAX_DUTY_BATCH`] items or [`MAX_REVEAL_BATCH_BYTES`]), so that a validator's duties
//! cost the pool and the block one signature check per block rather than one per job.
//!
//! All four are general transactions authorized by a signature of the inference key (no account
//! key, no fee). Workers of successive blocks may run at the same time, so each duty takes an
//! offchain storage lock and records when it sent its transaction; it sends again only if the
//! chain has not seen it [`RESEND_AFTER`] blocks later (the pool refuses duplicates anyway).
//!
//! Everything a worker keeps in offchain storage for a duty (an execution, the block an
//! attestation or abstention was sent) is listed in a ledger, and cleared once the chain is done
//! with it: the job's round ended, the model is no longer pending. A job whose model was banned or
//! rejected is not run (its round ends without a verdict, see the verification pallet), and the
//! model's file leaves the node's store when the block that rejects or bans it is imported.
//!
//! Only verdicts are committed: an output, or an error that follows from the model and the input
//! alone. When the engine abstains (the node's time or memory limit, a crashed worker, a model
//! beyond this node's limits), the worker sends `Verification::abstain` with the cause instead:
//! the validator is neither paid nor slashed. A job whose model or inputs cannot be obtained (the
//! model's URIs are down, no node provides an input's content yet) is retried at the next block,
//! and abstained from two blocks before the commit window closes (the abstention, sent then, is
//! included in time).

use alloc::vec::Vec;
use codec::{Decode, Encode};
use frame_system::offchain::{CreateAuthorizedTransaction, SubmitTransaction};
use gateless_primitives::{
	crypto::{InferenceId, INFERENCE_KEY_TYPE},
	digest::{commitment, output_digest},
	inference::{self, ModelFetch, ModelRef, OutputPlacement},
	job::{Abstention, InferenceOutput, JobId},
	model::{
		AttestationFailure, ComputeCost, Determinism, ModelId, ModelInfo, ModelLocation, Verdict,
	},
	reference::ReferenceOutcome,
	traits::{JobSettlement, ModelProvider, ValidatorSet},
};
use sp_runtime::{
	offchain::{
		storage::{MutateStorageError, StorageValueRef},
		storage_lock::{BlockAndTime, StorageLock},
		Duration,
	},
	RuntimeAppPublic,
};

use frame_support::traits::Time;
use pallet_result_verification::{CommitItem, RevealItem, RoundDuty, RoundOf};

use crate::{
	configs::{MAX_DUTY_BATCH, MAX_INLINE_TENSOR_BYTES},
	AccountId, Balance, BlockNumber, InferenceJobs, ModelRegistry, Runtime, RuntimeCall,
	RuntimeEvent, Session, Staking, System, Timestamp, Verification,
};

/// The most models one validator checks in one block's worker (loading a model takes a while).
pub const MAX_ATTESTATIONS_PER_BLOCK: usize = 4;

/// How long after its block's timestamp a worker starts sending duties. The block's author runs
/// its worker as soon as it has built the block, and a duty that depends on the block (a commit
/// to a job assigned in it, a reveal once it holds the last commit) that reaches a peer before the
/// peer has imported the block is invalid there: the peer drops it and bans its hash, and only
/// the sender's own blocks could include it, a few blocks later. Importing a block takes well
/// under a second here; the end-to-end benchmark shows the difference (`BENCHMARKS.md`).
pub const SEND_DUTIES_AFTER_MS: u64 = 1_000;

/// Blocks after its registration (5 minutes) during which a model that nodes provide as content
/// is not attested `Unavailable` when no peer serves it yet: its builder hands the bytes to a node
/// once the registration is in a block (`gateless model register` does so at once), and a node
/// that just started may not have found its peers.
pub const MODEL_FETCH_GRACE: BlockNumber = 50;

/// Blocks after which a duty whose transaction the chain has not seen is sent again.
pub const RESEND_AFTER: BlockNumber = 5;

/// How long a duty's lock is held at most, in blocks and in milliseconds: longer than one model
/// load plus one inference under the node's default time limits.
const LOCK_BLOCKS: BlockNumber = 3;
const LOCK_MILLIS: u64 = 30_000;

type Lock<'a> = StorageLock<'a, BlockAndTime<System>>;

/// The lock on the duty named `key`, which keeps the offchain workers of overlapping blocks from
/// doing it twice; it lapses after [`LOCK_BLOCKS`] blocks or [`LOCK_MILLIS`].
fn duty_lock(key: &[u8]) -> Lock<'_> {
	Lock::with_block_and_time_deadline(key, LOCK_BLOCKS, Duration::from_millis(LOCK_MILLIS))
}

/// What a validator's node remembers of a job it ran: the output it committed to and the salt.
/// Written once per job round (later writes only note when duties were sent).
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug)]
pub struct Execution {
	/// The output (or error) committed to.
	pub output: InferenceOutput,
	/// The salt of the commitment.
	pub salt: [u8; 32],
	/// The block whose worker last sent the commit.
	pub committed_at: Option<BlockNumber>,
	/// The block whose worker last sent the reveal.
	pub revealed_at: Option<BlockNumber>,
}

/// The offchain storage key of a validator's execution of a job's round.
pub fn execution_key(job: JobId, round: u8, validator: &AccountId) -> Vec<u8> {
	(b"gateless/execution", job, round, validator).encode()
}

/// The offchain storage key of the block at which a validator sent its abstention from a job's
/// round.
pub fn abstention_key(job: JobId, round: u8, validator: &AccountId) -> Vec<u8> {
	(b"gateless/abstention", job, round, validator).encode()
}

/// The offchain storage key of the block at which a validator last sent a proof in a job's
/// round's dispute.
pub fn settlement_key(job: JobId, round: u8, validator: &AccountId) -> Vec<u8> {
	(b"gateless/settlement", job, round, validator).encode()
}

/// The offchain storage key of the block at which a validator sent its attestation of a model.
pub fn attestation_key(model: ModelId, validator: &AccountId) -> Vec<u8> {
	(b"gateless/attestation", model, validator).encode()
}

/// The offchain storage key of the [`Duty`] ledger.
pub const LEDGER_KEY: &[u8] = b"gateless/ledger";

/// The most duties the ledger lists. It holds one entry per round a validator serves and per
/// model it attests until the chain is done with them, far fewer than this; beyond it a record
/// would stay in offchain storage (a few bytes) rather than grow the ledger without bound.
const MAX_LEDGER_LEN: usize = 4096;

/// A duty whose record a worker keeps in offchain storage, until the chain is done with it.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug)]
pub enum Duty {
	/// An execution or abstention of `validator` in `job`'s round `round`.
	Job { job: JobId, round: u8, validator: AccountId },
	/// An attestation of `model` by `validator`.
	Attestation { model: ModelId, validator: AccountId },
}

impl Duty {
	/// Whether the chain is done with the duty: the round ended, or the model is decided.
	fn is_over(&self) -> bool {
		match self {
			Duty::Job { job, round, .. } => !Verification::is_current_round(*job, *round),
			Duty::Attestation { model, .. } => !ModelRegistry::is_pending(*model),
		}
	}

	/// Clears the duty's records.
	fn clear_records(&self) {
		match self {
			Duty::Job { job, round, validator } => {
				StorageValueRef::persistent(&execution_key(*job, *round, validator)).clear();
				StorageValueRef::persistent(&abstention_key(*job, *round, validator)).clear();
				StorageValueRef::persistent(&settlement_key(*job, *round, validator)).clear();
			},
			Duty::Attestation { model, validator } => {
				StorageValueRef::persistent(&attestation_key(*model, validator)).clear();
			},
		}
	}
}

/// Lists `duty` in the ledger (workers of successive blocks may do so at once: compare-and-set,
/// retried).
fn note_duty(duty: Duty) {
	let ledger = StorageValueRef::persistent(LEDGER_KEY);
	for _ in 0..3 {
		let noted = ledger.mutate(|stored: Result<Option<Vec<Duty>>, _>| {
			let mut duties = stored.ok().flatten().unwrap_or_default();
			if duties.contains(&duty) || duties.len() >= MAX_LEDGER_LEN {
				return Err(());
			}
			duties.push(duty.clone());
			Ok(duties)
		});
		if !matches!(noted, Err(MutateStorageError::ConcurrentModification(_))) {
			return;
		}
	}
}

/// Clears the records of the duties the chain is done with, and drops them from the ledger.
fn clear_finished_duties() {
	let ledger = StorageValueRef::persistent(LEDGER_KEY);
	let Ok(Some(duties)) = ledger.get::<Vec<Duty>>() else { return };
	let finished: Vec<Duty> = duties.into_iter().filter(Duty::is_over).collect();
	if finished.is_empty() {
		return;
	}
	for duty in &finished {
		duty.clear_records();
	}
	// Other workers may have noted duties meanwhile: keep those. On a conflict the next block
	// tries again.
	let _ = ledger.mutate(|stored: Result<Option<Vec<Duty>>, _>| {
		let mut duties = stored.ok().flatten().unwrap_or_default();
		duties.retain(|duty| !finished.contains(duty));
		Ok::<_, ()>(duties)
	});
}

/// Removes from the node's model store the models this block rejected or banned.
fn discard_withdrawn_models() {
	for record in System::read_events_no_consensus() {
		let hash = match record.event {
			RuntimeEvent::ModelRegistry(pallet_model_registry::Event::ModelBanned {
				hash, ..
			}) => hash,
			RuntimeEvent::ModelRegistry(pallet_model_registry::Event::ModelRejected {
				model,
				..
			}) => match model_info(model) {
				Some(info) => info.hash,
				None => continue,
			},
			_ => continue,
		};
		inference::discard_model(hash);
	}
}

fn lock_key(duty: &[u8], id: u64, validator: &AccountId) -> Vec<u8> {
	(b"gateless/lock", duty, id, validator).encode()
}

fn due(sent_at: Option<BlockNumber>, now: BlockNumber) -> bool {
	sent_at.is_none_or(|at| now >= at.saturating_add(RESEND_AFTER))
}

/// Runs the duties of every local validator key; called by the runtime's offchain worker API.
pub fn run(now: BlockNumber) {
	if !sp_io::offchain::is_validator() {
		return;
	}
	let send_from = sp_runtime::offchain::Timestamp::from_unix_millis(
		<Timestamp as Time>::now().saturating_add(SEND_DUTIES_AFTER_MS),
	);
	discard_withdrawn_models();
	clear_finished_duties();
	if sp_io::offchain::timestamp() < send_from {
		sp_io::offchain::sleep_until(send_from);
	}
	for key in InferenceId::all() {
		let Some(validator) = Session::key_owner(INFERENCE_KEY_TYPE, key.as_ref()) else {
			continue;
		};
		if !<Staking as ValidatorSet<AccountId>>::is_active(&validator) {
			continue;
		}
		attest_pending_models(now, &key, &validator);
		run_assigned_jobs(now, &key, &validator);
		settle_disputes(now, &key, &validator);
	}
}

/// The registry's record of `model`.
fn model_info(model: ModelId) -> Option<ModelInfo<AccountId, Balance, BlockNumber>> {
	<ModelRegistry as ModelProvider<AccountId, Balance, BlockNumber>>::model(model)
}

/// What the engine needs to know of `model`; inline bytes only when the node lacks them.
pub fn model_ref(model: ModelId) -> Option<ModelRef> {
	let info = model_info(model)?;
	let (uris, inline) = match info.location {
		ModelLocation::Uris(uris) | ModelLocation::Peers { uris, .. } => (uris.into_inner(), None),
		ModelLocation::Inline => (
			Vec::new(),
			if inference::has_model(info.hash) { None } else { ModelRegistry::inline_bytes(model) },
		),
	};
	Some(ModelRef { hash: info.hash, size: info.size, signature: info.signature, uris, inline })
}

fn submit(call: RuntimeCall) -> bool {
	let xt =
		<Runtime as CreateAuthorizedTransaction<RuntimeCall>>::create_authorized_transaction(call);
	SubmitTransaction::<Runtime, RuntimeCall>::submit_transaction(xt).is_ok()
}

fn attest_pending_models(now: BlockNumber, key: &InferenceId, validator: &AccountId) {
	let pending: Vec<ModelId> = ModelRegistry::pending_models_unattested_by(validator)
		.take(MAX_ATTESTATIONS_PER_BLOCK)
		.collect();
	for model in pending {
		let lock_key = lock_key(b"attest", model, validator);
		let mut lock = duty_lock(&lock_key);
		let Ok(_guard) = lock.try_lock() else { continue };
		let sent_key = attestation_key(model, validator);
		let sent = StorageValueRef::persistent(&sent_key);
		let sent_at = sent.get::<BlockNumber>().ok().flatten();
		if !due(sent_at, now) {
			continue;
		}
		let Some(info) = model_info(model) else { continue };
		let mut verdict = None;
		// No peer has served it yet, the grace runs, and its URIs are tried meanwhile.
		let mut peers_awaited = false;
		if let Some(content) = info.location.content(info.size) {
			// `None`: this node runs no engine in its workers.
			let Some(fetch) = inference::obtain_model(info.hash, content) else { return };
			let grace_ended = now >= info.registered_at.saturating_add(MODEL_FETCH_GRACE);
			verdict = match fetch {
				// Checked below; after the grace, by its URIs if any (else `Unavailable`).
				ModelFetch::Held => None,
				ModelFetch::Unavailable if grace_ended => None,
				ModelFetch::Unavailable if !info.location.uris().is_empty() => {
					peers_awaited = true;
					None
				},
				ModelFetch::HashMismatch => Some(Verdict::Fails(AttestationFailure::HashMismatch)),
				ModelFetch::Fetching { .. } | ModelFetch::Unavailable | ModelFetch::TooLarge => {
					log::debug!(target: "gateless::offchain", "model {model}: {fetch:?}");
					continue;
				},
			};
		}
		let Some(model_ref) = model_ref(model) else { continue };
		let verdict = match verdict {
			Some(verdict) => verdict,
			// `None`: this node runs no engine in its workers.
			None => match inference::check_model(model_ref.clone()) {
				Some(Verdict::Loads(compute)) => {
					match check_references(model, model_ref, &info.determinism, compute) {
						Some(Ok(verdict)) => verdict,
						None => return,
						Some(Err(cause)) => {
							// Node-local: not attested now, tried again at the next block.
							log::info!(
								target: "gateless::offchain",
								"model {model}: reference vectors not checked: {cause:?}"
							);
							continue;
						},
					}
				},
				Some(verdict) => verdict,
				None => return,
			},
		};
		if peers_awaited && verdict == Verdict::Fails(AttestationFailure::Unavailable) {
			// Neither peers nor URIs yet: peers may still come within the grace.
			continue;
		}
		let payload = ModelRegistry::attestation_payload(model, verdict, validator);
		let Some(signature) = key.sign(&payload) else { continue };
		let call = pallet_model_registry::Call::attest_model_as {
			model,
			verdict,
			validator: validator.clone(),
			signature,
		};
		if submit(call.into()) {
			log::info!(target: "gateless::offchain", "attested model {model}: {verdict:?}");
			sent.set(&now);
			note_duty(Duty::Attestation { model, validator: validator.clone() });
		}
	}
}

/// Runs a loaded model's reference vectors, if it has any: [`Verdict::Loads`] with the model's
/// `compute` when it gives every one's outputs within its determinism,
/// [`AttestationFailure::ReferenceMismatch`] as soon as one differs or fails. An abstention when
/// this node could not run one (content or model not at hand, a limit of its own); `None` when it
/// runs no engine.
fn check_references(
	model: ModelId,
	model_ref: ModelRef,
	determinism: &Determinism,
	compute: ComputeCost,
) -> Option<Result<Verdict, Abstention>> {
	let Some(references) = ModelRegistry::reference_vectors(model) else {
		return Some(Ok(Verdict::Loads(compute)));
	};
	for (index, reference) in references.into_iter().enumerate() {
		match inference::check_reference(model_ref.clone(), reference, *determinism)? {
			Ok(ReferenceOutcome::Matches) => {},
			Ok(outcome) => {
				log::info!(
					target: "gateless::offchain",
					"model {model}: reference vector {index}: {outcome:?}"
				);
				return Some(Ok(Verdict::Fails(AttestationFailure::ReferenceMismatch)));
			},
			Err(abstention) => return Some(Err(abstention)),
		}
	}
	Some(Ok(Verdict::Loads(compute)))
}

/// The most bytes of items in one batch of duties a worker sends (each item's encoding): a
/// reveal batch of [`MAX_DUTY_BATCH`] outputs of 16 KiB would not fit a transaction.
pub const MAX_REVEAL_BATCH_BYTES: usize = 1024 * 1024;

/// Sends `validator`'s duties in the jobs it serves: first the reveals of the jobs it committed
/// to (from offchain storage, at once), then the commitments of the others (each run first), so
/// that a block's reveals do not wait for its inferences.
fn run_assigned_jobs(now: BlockNumber, key: &InferenceId, validator: &AccountId) {
	let duties = Verification::duties_of(validator, now);
	let of_kind = |kind: RoundDuty| {
		duties
			.iter()
			.filter(move |(_, _, duty)| *duty == kind)
			.map(|(job, round, _)| (*job, round))
	};
	let mut reveals = Batches::<RevealItem>::new();
	for (job, round) in of_kind(RoundDuty::Reveal) {
		under_job_lock(job, validator, || prepare_reveal(now, validator, job, round, &mut reveals));
	}
	reveals.send(key, validator);
	let mut commits = Batches::<CommitItem>::new();
	for (job, round) in of_kind(RoundDuty::Commit) {
		under_job_lock(job, validator, || {
			prepare_commit(now, key, validator, job, round, &mut commits)
		});
	}
	commits.send(key, validator);
}

/// Runs `duty` under the lock of `validator`'s duties in `job`, unless an overlapping worker
/// holds it.
fn under_job_lock(job: JobId, validator: &AccountId, duty: impl FnOnce()) {
	let lock_key = lock_key(b"job", job, validator);
	let mut lock = duty_lock(&lock_key);
	let Ok(_guard) = lock.try_lock() else { return };
	duty();
}

/// Adds `validator`'s commitment in `job`'s `round` to `commits`, running the job first unless
/// an earlier worker did (or abstains, when the engine does); under the job's lock.
fn prepare_commit(
	now: BlockNumber,
	key: &InferenceId,
	validator: &AccountId,
	job: JobId,
	round: &RoundOf<Runtime>,
	commits: &mut Batches<CommitItem>,
) {
	let record_key = execution_key(job, round.round, validator);
	let record = StorageValueRef::persistent(&record_key);
	let mut execution = match record.get::<Execution>().ok().flatten() {
		Some(execution) => execution,
		None => {
			// Sent now, a duty is included from the next block on: keep a block spare.
			let last_chance = now.saturating_add(2) >= round.commit_until;
			let output = match execute(job, &round.determinism) {
				None => return,
				Some(Ok(output)) => output,
				Some(Err(
					cause @ (Abstention::ModelUnavailable | Abstention::InputUnavailable),
				)) if !last_chance => {
					log::info!(
						target: "gateless::offchain",
						"job {job}: {cause:?}, retrying at the next block"
					);
					return;
				},
				Some(Err(cause)) => {
					abstain(now, key, validator, job, round.round, cause);
					return;
				},
			};
			let fresh = Execution {
				output,
				salt: sp_io::offchain::random_seed(),
				committed_at: None,
				revealed_at: None,
			};
			// Stored before committing, so that whatever happens next the reveal can be made; and
			// stored once: a worker whose lock expired during a slow run may have stored (and
			// committed) its own, which then stands.
			let stored = match record.mutate(|stored: Result<Option<Execution>, _>| match stored {
				Ok(Some(earlier)) => Err(earlier),
				_ => Ok(fresh),
			}) {
				Ok(stored) | Err(MutateStorageError::ValueFunctionFailed(stored)) => stored,
				Err(MutateStorageError::ConcurrentModification(_)) => return,
			};
			note_duty(Duty::Job { job, round: round.round, validator: validator.clone() });
			stored
		},
	};
	if !due(execution.committed_at, now) {
		return;
	}
	let digest = output_digest(&execution.output, &round.determinism);
	let commitment = commitment(&digest, &execution.salt, validator);
	// Noted as sent while the lock is held, so that an overlapping worker does not send it too;
	// put back if the batch is not sent.
	let sent_before = execution.committed_at.replace(now);
	record.set(&execution);
	commits.push(
		CommitItem { job, round: round.round, commitment },
		Sent { record_key, before: sent_before },
	);
}

/// Adds `validator`'s reveal in `job`'s `round` to `reveals`, from the execution its commitment
/// was made of; under the job's lock.
fn prepare_reveal(
	now: BlockNumber,
	validator: &AccountId,
	job: JobId,
	round: &RoundOf<Runtime>,
	reveals: &mut Batches<RevealItem>,
) {
	let record_key = execution_key(job, round.round, validator);
	let record = StorageValueRef::persistent(&record_key);
	let Some(mut execution) = record.get::<Execution>().ok().flatten() else {
		log::warn!(
			target: "gateless::offchain",
			"job {job}: committed but the output is not in offchain storage"
		);
		return;
	};
	if !due(execution.revealed_at, now) {
		return;
	}
	let sent_before = execution.revealed_at.replace(now);
	record.set(&execution);
	reveals.push(
		RevealItem { job, round: round.round, output: execution.output, salt: execution.salt },
		Sent { record_key, before: sent_before },
	);
}

/// Where a batched duty's sending is noted: the execution record's key, and when the duty was
/// sent before (put back if its batch is not sent).
struct Sent {
	record_key: Vec<u8>,
	before: Option<BlockNumber>,
}

/// A kind of batched duty: how its batch is signed and sent, and where its items note when
/// they were sent.
trait BatchedDuty: Encode + Sized {
	/// What the log calls the duty.
	const NAME: &'static str;
	/// The job the item is for.
	fn job(&self) -> JobId;
	/// The call sending `items`, signed by `key` for `validator`.
	fn call(
		key: &InferenceId,
		validator: &AccountId,
		items: Vec<Self>,
	) -> Option<pallet_result_verification::Call<Runtime>>;
	/// Puts back when the duty of `execution` was sent.
	fn put_back(execution: &mut Execution, before: Option<BlockNumber>);
}

impl BatchedDuty for CommitItem {
	const NAME: &'static str = "committed to";
	fn job(&self) -> JobId {
		self.job
	}
	fn call(
		key: &InferenceId,
		validator: &AccountId,
		items: Vec<Self>,
	) -> Option<pallet_result_verification::Call<Runtime>> {
		let signature = key.sign(&Verification::commit_batch_payload(validator, &items))?;
		Some(pallet_result_verification::Call::commit_batch {
			executor: validator.clone(),
			items: items.try_into().ok()?,
			signature,
		})
	}
	fn put_back(execution: &mut Execution, before: Option<BlockNumber>) {
		execution.committed_at = before;
	}
}

impl BatchedDuty for RevealItem {
	const NAME: &'static str = "revealed";
	fn job(&self) -> JobId {
		self.job
	}
	fn call(
		key: &InferenceId,
		validator: &AccountId,
		items: Vec<Self>,
	) -> Option<pallet_result_verification::Call<Runtime>> {
		let signature = key.sign(&Verification::reveal_batch_payload(validator, &items))?;
		Some(pallet_result_verification::Call::reveal_batch {
			executor: validator.clone(),
			items: items.try_into().ok()?,
			signature,
		})
	}
	fn put_back(execution: &mut Execution, before: Option<BlockNumber>) {
		execution.revealed_at = before;
	}
}

/// The items of one kind of duty a worker has to send for one validator, sent as few batches:
/// at most [`MAX_DUTY_BATCH`] items and [`MAX_REVEAL_BATCH_BYTES`] each.
struct Batches<Item> {
	items: Vec<(Item, Sent)>,
}

impl<Item: BatchedDuty> Batches<Item> {
	fn new() -> Self {
		Self { items: Vec::new() }
	}

	fn push(&mut self, item: Item, sent: Sent) {
		self.items.push((item, sent));
	}

	/// Sends the items gathered so far.
	fn send(&mut self, key: &InferenceId, validator: &AccountId) {
		let mut batch: Vec<(Item, Sent)> = Vec::new();
		let mut bytes = 0usize;
		for (item, sent) in core::mem::take(&mut self.items) {
			let size = item.encoded_size();
			let full = batch.len() >= MAX_DUTY_BATCH as usize
				|| (!batch.is_empty() && bytes.saturating_add(size) > MAX_REVEAL_BATCH_BYTES);
			if full {
				Self::send_batch(key, validator, core::mem::take(&mut batch));
				bytes = 0;
			}
			bytes = bytes.saturating_add(size);
			batch.push((item, sent));
		}
		if !batch.is_empty() {
			Self::send_batch(key, validator, batch);
		}
	}

	fn send_batch(key: &InferenceId, validator: &AccountId, batch: Vec<(Item, Sent)>) {
		let (items, sent): (Vec<Item>, Vec<Sent>) = batch.into_iter().unzip();
		let jobs: Vec<JobId> = items.iter().map(BatchedDuty::job).collect();
		if Item::call(key, validator, items).is_some_and(|call| submit(call.into())) {
			log::info!(target: "gateless::offchain", "{} jobs {jobs:?}", Item::NAME);
			return;
		}
		log::warn!(target: "gateless::offchain", "could not send the batch for jobs {jobs:?}");
		for Sent { record_key, before } in sent {
			let record = StorageValueRef::persistent(&record_key);
			if let Ok(Some(mut execution)) = record.get::<Execution>() {
				Item::put_back(&mut execution, before);
				record.set(&execution);
			}
		}
	}
}

/// Runs `job`'s model on its inputs: a verdict, or why this node abstains; `None` when the job or
/// the engine is not there, or the model was banned or rejected (the round then ends without a
/// verdict).
fn execute(
	job: JobId,
	determinism: &gateless_primitives::model::Determinism,
) -> Option<Result<InferenceOutput, Abstention>> {
	if <InferenceJobs as JobSettlement<AccountId>>::model_withdrawn(job) {
		return None;
	}
	let (model, inputs) = InferenceJobs::work_of(job)?;
	// A model that nodes provide as content and this node lacks: fetched in the background, the
	// run abstains until it is here (and is retried at the next block).
	if let Some(model) = model_info(model) {
		if let Some(content) = model.location.content(model.size) {
			inference::obtain_model(model.hash, content);
		}
	}
	let placement =
		OutputPlacement { inline_limit: MAX_INLINE_TENSOR_BYTES, determinism: *determinism };
	inference::run(model_ref(model)?, inputs, placement)
}

/// Sends proofs in the open disputes of rounds `validator` serves in: of its own reveal against
/// the reference's while nothing settles it, and, as the reference, of a disagreement with
/// disputed reveals not yet shown to disagree.
fn settle_disputes(now: BlockNumber, key: &InferenceId, validator: &AccountId) {
	for due_proofs in Verification::proofs_due_from(validator, now) {
		let job = due_proofs.job;
		let lock_key = lock_key(b"settle", job, validator);
		let mut lock = duty_lock(&lock_key);
		let Ok(_guard) = lock.try_lock() else { continue };
		let sent_key = settlement_key(job, due_proofs.round, validator);
		let sent = StorageValueRef::persistent(&sent_key);
		if !due(sent.get::<BlockNumber>().ok().flatten(), now) {
			continue;
		}
		for (other, theirs) in &due_proofs.others {
			let Some(proof) = inference::prove(
				due_proofs.reference.clone(),
				theirs.clone(),
				due_proofs.determinism,
			) else {
				log::warn!(target: "gateless::offchain", "job {job}: no proof against the reference");
				continue;
			};
			if !due_proofs.wants(&proof) {
				continue;
			}
			let payload =
				Verification::settle_payload(job, due_proofs.round, validator, other, &proof);
			let Some(signature) = key.sign(&payload) else { continue };
			// The pool takes a refused duty without a word; say why here instead.
			if let Err(error) =
				Verification::check_settle(job, validator, other, &proof, &signature)
			{
				log::warn!(target: "gateless::offchain", "job {job}: the chain would refuse this proof: {error:?}");
				continue;
			}
			let call = pallet_result_verification::Call::settle {
				job,
				executor: validator.clone(),
				other: other.clone(),
				proof,
				signature,
			};
			if submit(call.into()) {
				log::info!(target: "gateless::offchain", "sent a proof in job {job}'s dispute");
				sent.set(&now);
			}
		}
	}
}

/// Sends `validator`'s abstention from `job`'s round, once (again only if the chain has not seen
/// it [`RESEND_AFTER`] blocks later).
fn abstain(
	now: BlockNumber,
	key: &InferenceId,
	validator: &AccountId,
	job: JobId,
	round: u8,
	cause: Abstention,
) {
	let sent_key = abstention_key(job, round, validator);
	let sent = StorageValueRef::persistent(&sent_key);
	if !due(sent.get::<BlockNumber>().ok().flatten(), now) {
		return;
	}
	let payload = Verification::abstain_payload(job, round, validator, &cause);
	let Some(signature) = key.sign(&payload) else { return };
	let call = pallet_result_verification::Call::abstain {
		job,
		executor: validator.clone(),
		cause,
		signature,
	};
	if submit(call.into()) {
		log::info!(target: "gateless::offchain", "abstained from job {job}: {cause:?}");
		sent.set(&now);
		note_duty(Duty::Job { job, round, validator: validator.clone() });
	}
}
