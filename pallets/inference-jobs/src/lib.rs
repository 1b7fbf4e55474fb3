//! # Inference jobs pallet
//!
//! Users pay for inference here: a job names an active model and carries one tensor per input the
//! model declares (small ones inline, larger ones as the hash and length of content that travels
//! between nodes off chain); the pallet charges the fee, draws the validators that run it, hands
//! them to the verification pallet, and settles when verification decides.
//!
//! ## Overview
//!
//! [`Call::submit_job`] checks the inputs against the model's declared inputs (one per input, in
//! declared order; dtype, rank, fixed dimensions, symbols shared between inputs, exact byte
//! length, inline or by content), that each input is where its size puts it (inline up to
//! [`Config::MaxInlineBytes`], by content above: [`Error::InputPlacement`]), against
//! [`Config::MaxInputBytes`], and that the outputs they give cannot exceed [`MAX_OUTPUT_BYTES`]
//! per executor. The chain cannot see content: an executor that cannot get it abstains with
//! `InputUnavailable`, and when a quorum of the committee does, the job ends through
//! [`JobSettlement::inputs_unavailable`]: the reporters are paid as agreeing executors would be,
//! the owner nothing, the rest refunded, so that withholding inputs costs the submitter.
//!
//! Then it charges the [`FeeQuote`] that the `InferenceJobsApi::quote` runtime API shows
//! beforehand (`max_fee` protects the user from a price raised in between):
//! - the **data fee**, held with the rest and burnt when the committee is drawn (a job that finds
//!   no committee gets it back): [`Config::FeePerByte`] times the inline input bytes plus
//!   `replicas ×` the output bytes an executor reveals inline, plus [`Config::FeePerContentByte`]
//!   times `replicas ×` the bytes of the inputs given by content (each executor fetches them) and
//!   of the outputs kept by content (each executor keeps and serves them). Outputs are placed by
//!   their size at the inputs' shapes, as inputs are (inline up to [`Config::MaxInlineBytes`]);
//!   outputs with a dimension no input decides are charged as [`MAX_INLINE_OUTPUT_BYTES`] inline.
//!   Tensors take block space, state and bandwidth whatever the job's outcome, so this part is not
//!   refunded, as a transaction's fee is not;
//! - the **escrow**, held under [`HoldReason::JobEscrow`] until the job ends: the model's price
//!   plus `replicas ×` the executor fee. The executor fee follows the job's compute
//!   ([`Pallet::executor_fee`]): the operations that the model's attested compute estimate
//!   (`ModelProvider::compute`) gives for the job's input elements, at [`Config::FeePerGigaOp`]
//!   per 10⁹, never below [`Config::ExecutorFee`].
//!
//! Executors reveal every declared output, each fitting its spec with the symbols the inputs
//! bound fixed to their sizes ([`ExpectedOutputs`], handed to the verification pallet).
//!
//! **Assignment.** A job is paid for in the block that includes it (block `n`; status
//! `Assigning`, the whole fee held, its id fixed) and its committee is drawn at the end of block
//! `n + 1` ([`Hooks::on_finalize`], weighed in `on_initialize`), from [`Config::Randomness`] as it
//! is then, for the job (`DrawSubject`): in the Gateless runtime, block
//! `n + 1`'s BABE VRF output, which nobody but that block's author knows when block `n` is built.
//! The subject names the job by the hash of its submitter, model and inputs, not by its id, so
//! that jobs ordered before it in block `n` do not change its committee.
//! `replicas` distinct active validators are drawn without replacement, each with probability
//! proportional to its active bond as its session started ([`Config::Validators`]: bonding or
//! unbonding once the seed is known steers nothing), skipping those that already have
//! [`Config::MaxPendingPerValidator`] running jobs. Then the data fee is burnt and round 0 opens.
//! When too few validators are free by then (the check at submission cannot reserve them: jobs
//! drawn before it in the same block may take them), the job fails as
//! [`FailureReason::NotAssigned`] and its whole fee returns, data fee included.
//!
//! What bias remains: the author of block `n + 1` knows its VRF output in advance (BABE's slot
//! assignment and VRF input are fixed for the epoch), so it can (a) withhold its block, a veto
//! that moves the draw to a later block's VRF at the cost of its slot, turning an outcome of
//! probability `p` into about `2p`; (b) if it also authors block `n` (consecutive slots, about
//! its slot share squared of the time), choose which jobs to include knowing their committees;
//! (c) fill validators up to `MaxPendingPerValidator` with jobs of its own drawn before a
//! victim's, paying for them. None of these lets it choose a committee outright; the stake at
//! risk per job bounds what they are worth.
//!
//! **Escalation.** When the verification pallet escalates a job ([`JobSettlement::escalate`]), the
//! job's committee is released and it waits again (`Assigning { round }`): the fresh committee, of
//! validators that have not served on the job, is drawn the same way at the end of the next block,
//! for the subject `(job, round)` (the id is fixed by then), and its round opens then. Too few
//! fresh validators by then fails the job as [`FailureReason::NoFreshExecutors`] with its escrow
//! returned. The escalation itself is refused, and the verification pallet then fails the job the
//! same way, when too few fresh validators are free at once ([`Error::NotEnoughValidators`],
//! [`Error::ExecutorsBusy`]), when the fresh committee would take the job past
//! [`Config::MaxExecutorsPerJob`] executors over all its rounds, or past round 255
//! ([`Error::TooManyExecutors`]), and when `MaxJobsPerBlock` escalations already wait in the block
//! ([`Error::TooManyJobsInBlock`]). At the draw, a committee that would not fit in
//! `MaxExecutorsPerJob` ([`Error::TooManyExecutors`]) fails the job as too few free validators do.
//!
//! **Bounds.** At most [`Config::MaxJobsPerBlock`] jobs are submitted per block
//! ([`Error::TooManyJobsInBlock`] after that), and a validator runs at most
//! [`Config::MaxPendingPerValidator`] jobs at once ([`Error::ExecutorsBusy`] when too few are free
//! at submission).
//!
//! **Ending.** Every job ends exactly once, in one of:
//! - `Finalized`, when the verification pallet reports an agreed outcome
//!   ([`JobSettlement::finalize`]). Each agreeing executor is paid `min(fee, pool / n)`, where
//!   `fee` is the job's executor fee, `pool = replicas × fee` and `n` the number that agreed (an
//!   escalated committee shares the same pool: the user never pays more than the quote). The
//!   model's owner is paid its price when the agreed result is an output, not when it is an error
//!   (the model did not deliver). The rest of the escrow returns to the submitter. The result is
//!   stored in [`JobResults`].
//! - `Failed`, when no quorum could be reached even after escalation: the whole escrow returns.
//! - `Expired`, when still running [`Config::JobTtl`] blocks after submission (a safety net: the
//!   runtime sizes `JobTtl` to cover every verification round): the whole escrow returns.
//! - `Cancelled`, by the submitter before any executor committed ([`Call::cancel_job`]): the
//!   executors drawn for it are paid their fee (they started running it when it was drawn), the
//!   rest of the escrow returns. Cancelled before its draw, a job pays no executor; its data fee
//!   is burnt (its inputs took block space), the rest returns.
//!
//! **Hooks.** `on_initialize` takes the jobs submitted in the previous block into
//! [`DrawingJobs`] and `on_finalize` draws their committees (see *Assignment*). `on_initialize`
//! also walks job ids in order with two cursors: one expires running jobs
//! whose `expires_at` has come, the other prunes ended jobs (record and result)
//! [`Config::ResultRetention`] blocks after their `expires_at`, so a result stays readable at least
//! that long after it settles. Since `expires_at = submitted_at + JobTtl`, each block has at most
//! `MaxJobsPerBlock` of each to do; each cursor does at most that many per block.
//!
//! ## Calls
//!
//! - [`Call::submit_job`] (signed): errors [`Error::UnknownModel`], [`Error::ModelNotActive`],
//!   [`Error::BadReplicas`], [`Error::FeeOverflow`], [`Error::FeeAboveMax`],
//!   [`Error::InputPlacement`], [`Error::InputTooLarge`], [`Error::InputCountMismatch`],
//!   [`Error::InputDTypeMismatch`], [`Error::InputRankMismatch`], [`Error::InputShapeMismatch`],
//!   [`Error::InputLengthMismatch`], [`Error::InputSymbolMismatch`], [`Error::OutputsTooLarge`],
//!   [`Error::TooManyJobsInBlock`], [`Error::NotEnoughValidators`], [`Error::ExecutorsBusy`],
//!   [`Error::CannotAffordFee`]; event [`Event::JobSubmitted`] (and [`Event::ExecutorsAssigned`] or
//!   [`Event::JobFailed`] at the end of the next block).
//! - [`Call::cancel_job`] (signed, the submitter): errors [`Error::UnknownJob`],
//!   [`Error::NotSubmitter`], [`Error::JobEnded`], [`Error::AlreadyCommitted`]; event
//!   [`Event::JobCancelled`].
//! - [`Call::submit_jobs`] (signed): up to `MaxJobsPerCall` jobs, each as `submit_job` with its
//!   own events; a job that fails is refused alone with [`Event::JobRefused`]. Error
//!   [`Error::NoJobs`].
//!
//! Settlement comes from the verification pallet through [`JobSettlement`], with events
//! [`Event::JobFinalized`], [`Event::ExecutorsAssigned`] (escalation) and [`Event::JobFailed`], and
//! errors [`Error::UnknownJob`], [`Error::JobEnded`] and, for an escalation,
//! [`Error::NotEnoughValidators`], [`Error::ExecutorsBusy`], [`Error::TooManyExecutors`] and
//! [`Error::TooManyJobsInBlock`] (see **Escalation**); the hook emits [`Event::JobExpired`].
//!
//! ## Lookups
//!
//! [`Pallet::quote`], [`Pallet::job_info`], [`JobInputs`] and [`JobResults`] serve the
//! `InferenceJobsApi` runtime API; [`Pallet`] implements [`ModelUsage`] so that a model with
//! running jobs cannot be removed.
//!
//! ## Statistics
//!
//! [`ModelStatistics`] keeps, per model, what its jobs came to
//! ([`ModelStats`](gateless_primitives::job::ModelStats)): jobs paid for (and the block of the
//! latest), finalized (agreed errors among them), failed, expired and
//! cancelled, counted where a job ends ([`Pallet::end_job`]: each job once); the seats of its
//! tallied rounds and how many of them agreed with the round's quorum (a round that escalates or
//! fails for want of a quorum counts its seats and no agreement); the revenue paid to its owner.
//! Each is one read and one write of the model's entry, so statistics cost no scan.

#![cfg_attr(not(feature = "std"), no_std)]
// The workspace denies arithmetic_side_effects in code that runs on chain; tests may overflow
// (clippy.toml lets them unwrap, expect and index).
#![cfg_attr(test, allow(clippy::arithmetic_side_effects))]

extern crate alloc;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
pub mod migrations;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
mod types;
pub mod weights;

use alloc::vec::Vec;
use codec::Encode;
use frame_support::{
	pallet_prelude::*,
	traits::{
		fungible::{self, MutateHold},
		tokens::{Fortitude, Precision, Restriction},
		Defensive, DefensiveTruncateFrom, Randomness,
	},
};
use frame_system::pallet_prelude::*;
use gateless_primitives::{
	content::MAX_CONTENT_BYTES,
	job::{
		check_inputs, check_shapes, data_len, input_elements, AgreedOutcome, ExpectedOutputs,
		FailureReason, FeeQuote, InferenceOutput, InputTensors, JobId, JobResult, JobStatus,
		QuoteError, SymbolSizes, TensorError, TensorMeta, MAX_INLINE_BYTES,
		MAX_INLINE_OUTPUT_BYTES, MAX_OUTPUT_BYTES,
	},
	model::MAX_MODEL_TENSORS,
	model::{ModelId, ModelInfo, ModelStatus},
	traits::{
		JobSettlement, JobVerifier, ModelProvider, ModelUsage, ValidatorRecords, ValidatorStakes,
	},
};
use sp_runtime::{
	traits::{Saturating, Zero},
	SaturatedConversion,
};

// FRAME's pallet macros expand to `expect` (the pallet's name in the runtime, storage prefixes)
// with this module's spans; the rest of the four on-chain lints hold here, and `expect_used` holds
// outside this module.
#[allow(clippy::expect_used)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;

	/// The in-code storage version.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The currency fees are held and paid in.
		type Currency: fungible::Inspect<Self::AccountId>
			+ fungible::Mutate<Self::AccountId>
			+ fungible::MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The runtime's hold reasons, which include this pallet's [`HoldReason`].
		type RuntimeHoldReason: From<HoldReason>;

		/// The registered models.
		type Models: ModelProvider<Self::AccountId, BalanceOf<Self>, BlockNumberFor<Self>>;

		/// The staking pallet: the active validators and their bonds, from which executors are
		/// drawn, fixed for a session (it snapshots them as the session starts) so that no one can
		/// steer a draw whose seed it knows by bonding or unbonding; and where assignments and
		/// rewards are counted.
		type Staking: ValidatorStakes<Self::AccountId, BalanceOf<Self>>
			+ ValidatorRecords<Self::AccountId, BalanceOf<Self>>;

		/// The verification of executors' outputs.
		type Verifier: JobVerifier<Self::AccountId>;

		/// The seed of the executor draw (see the module docs for how far it can be biased).
		type Randomness: Randomness<Self::Hash, BlockNumberFor<Self>>;

		/// The least each executor that agrees with the quorum is paid, per job: the fee of a job
		/// whose compute is priced lower, or whose model has no estimate.
		#[pallet::constant]
		type ExecutorFee: Get<BalanceOf<Self>>;

		/// What each executor is paid per 10⁹ operations of a job's compute, as the model's
		/// attested estimate gives it for the job's input elements (see [`Pallet::executor_fee`]).
		#[pallet::constant]
		type FeePerGigaOp: Get<BalanceOf<Self>>;

		/// The data fee per byte of tensor data a job puts in blocks (its inline inputs, and the
		/// outputs its executors may reveal); burnt.
		#[pallet::constant]
		type FeePerByte: Get<BalanceOf<Self>>;

		/// The data fee per byte of input content each executor fetches off chain (charged
		/// `replicas ×`); burnt.
		#[pallet::constant]
		type FeePerContentByte: Get<BalanceOf<Self>>;

		/// The inline threshold: an input of at most this many bytes goes inline, on chain; a
		/// larger one by content. At most [`MAX_INLINE_BYTES`] / [`MAX_MODEL_TENSORS`].
		#[pallet::constant]
		type MaxInlineBytes: Get<u32>;

		/// The most bytes of input data a job may have, all inputs together, inline or not.
		#[pallet::constant]
		type MaxInputBytes: Get<u64>;

		/// How many executors a job gets when the submitter does not say.
		#[pallet::constant]
		type DefaultReplicas: Get<u32>;

		/// The most executors a submitter may ask for.
		#[pallet::constant]
		type MaxReplicas: Get<u32>;

		/// The most executors a job has over all its rounds (first committee and escalations).
		#[pallet::constant]
		type MaxExecutorsPerJob: Get<u32>;

		/// The most validators in the active set, for weights.
		#[pallet::constant]
		type MaxValidators: Get<u32>;

		/// The most jobs submitted in one block.
		#[pallet::constant]
		type MaxJobsPerBlock: Get<u32>;

		/// The most jobs in one [`Call::submit_jobs`]; at most `MaxJobsPerBlock`, and few enough
		/// that a full call's weight fits a transaction.
		#[pallet::constant]
		type MaxJobsPerCall: Get<u32>;

		/// The most running jobs one validator is assigned at once.
		#[pallet::constant]
		type MaxPendingPerValidator: Get<u32>;

		/// Blocks after submission when a job still running expires with a full refund.
		#[pallet::constant]
		type JobTtl: Get<BlockNumberFor<Self>>;

		/// Blocks after a job's expiry deadline when its record and result are pruned.
		#[pallet::constant]
		type ResultRetention: Get<BlockNumberFor<Self>>;

		/// Weights of the calls and hooks, from this pallet's benchmarks.
		type WeightInfo: WeightInfo;

		/// Sets up active models and staked validators for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self>;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The fee of a running job, held from its submitter.
		#[codec(index = 0)]
		JobEscrow,
	}

	/// The id the next job gets.
	#[pallet::storage]
	pub type NextJobId<T> = StorageValue<_, JobId, ValueQuery>;

	/// Jobs, running and ended, until pruned.
	#[pallet::storage]
	pub type Jobs<T: Config> = StorageMap<_, Twox64Concat, JobId, JobInfoOf<T>>;

	/// The inputs of each running job (dropped when the job ends).
	#[pallet::storage]
	pub type JobInputs<T> = StorageMap<_, Twox64Concat, JobId, InputTensors>;

	/// The verified result of each finalized job, until pruned.
	#[pallet::storage]
	pub type JobResults<T: Config> = StorageMap<_, Twox64Concat, JobId, JobResultOf<T>>;

	/// How many running jobs each validator is in the current committee of.
	#[pallet::storage]
	pub type PendingJobs<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, u32, ValueQuery>;

	/// How many running jobs use each model.
	#[pallet::storage]
	pub type RunningJobsOfModel<T> = StorageMap<_, Twox64Concat, ModelId, u32, ValueQuery>;

	/// What the jobs of each model came to
	/// ([`ModelStats`](gateless_primitives::job::ModelStats)), from its first job on; kept after
	/// the model is removed (model ids are never reused), as its public record.
	#[pallet::storage]
	pub type ModelStatistics<T: Config> =
		StorageMap<_, Twox64Concat, ModelId, ModelStatsOf<T>, ValueQuery>;

	/// The jobs submitted in this block, in order; their committees are drawn at the end of the
	/// next block.
	#[pallet::storage]
	pub type AwaitingDraw<T: Config> =
		StorageValue<_, BoundedVec<JobId, T::MaxJobsPerBlock>, ValueQuery>;

	/// The jobs submitted in the previous block, whose committees this block's `on_finalize`
	/// draws.
	#[pallet::storage]
	pub type DrawingJobs<T: Config> =
		StorageValue<_, BoundedVec<JobId, T::MaxJobsPerBlock>, ValueQuery>;

	/// The jobs escalated in this block, with the size of their next committee, drawn at the end
	/// of the next block.
	#[pallet::storage]
	pub type AwaitingEscalation<T: Config> =
		StorageValue<_, BoundedVec<(JobId, u32), T::MaxJobsPerBlock>, ValueQuery>;

	/// The jobs escalated in the previous block, whose committees this block's `on_finalize`
	/// draws.
	#[pallet::storage]
	pub type DrawingEscalations<T: Config> =
		StorageValue<_, BoundedVec<(JobId, u32), T::MaxJobsPerBlock>, ValueQuery>;

	/// The first job id that the expiry cursor has not passed yet.
	#[pallet::storage]
	pub type ExpiryCursor<T> = StorageValue<_, JobId, ValueQuery>;

	/// The first job id that has not been pruned yet.
	#[pallet::storage]
	pub type PruneCursor<T> = StorageValue<_, JobId, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A job was submitted: its data fee and escrow held (the data fee is burnt at the draw).
		JobSubmitted {
			job: JobId,
			submitter: T::AccountId,
			model: ModelId,
			fee: FeeQuote<BalanceOf<T>>,
		},
		/// Executors were assigned for round `round` of a job (0 at submission, then escalations).
		ExecutorsAssigned { job: JobId, round: u8, executors: Vec<T::AccountId> },
		/// A quorum agreed; executors and owner were paid and the rest refunded.
		JobFinalized {
			job: JobId,
			digest: sp_core::H256,
			agreeing: u32,
			paid_each: BalanceOf<T>,
			owner_paid: BalanceOf<T>,
			refunded: BalanceOf<T>,
		},
		/// No quorum could be reached; the escrow was refunded.
		JobFailed { job: JobId, reason: FailureReason, refunded: BalanceOf<T> },
		/// The job was still running at its deadline; the escrow was refunded.
		JobExpired { job: JobId, refunded: BalanceOf<T> },
		/// The submitter cancelled the job: each executor drawn for it was paid `paid_each` (they
		/// had started running it), the rest of the escrow was refunded.
		JobCancelled { job: JobId, paid_each: BalanceOf<T>, refunded: BalanceOf<T> },
		/// The job at `index` of a [`Call::submit_jobs`] was refused for `error`, and changed
		/// nothing; the others stand.
		JobRefused { submitter: T::AccountId, index: u32, error: DispatchError },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No model has this id.
		UnknownModel,
		/// The model is not active (pending, rejected, deprecated or banned).
		ModelNotActive,
		/// `replicas` is 0 or above `MaxReplicas`.
		BadReplicas,
		/// The fee does not fit in a balance.
		FeeOverflow,
		/// The fee is above the `max_fee` the submitter accepts.
		FeeAboveMax,
		/// The inputs hold more bytes than `MaxInputBytes` together, or one more than the largest
		/// content.
		InputTooLarge,
		/// An input's dtype is not the one the model declares.
		InputDTypeMismatch,
		/// An input's rank is not the one the model declares.
		InputRankMismatch,
		/// A dimension of an input is 0 or differs from the model's fixed one.
		InputShapeMismatch,
		/// An input's data is not exactly `product(shape) × element size` bytes.
		InputLengthMismatch,
		/// This block already has `MaxJobsPerBlock` new jobs; submit in a later block.
		TooManyJobsInBlock,
		/// The active set has fewer validators than the job needs.
		NotEnoughValidators,
		/// Too few validators are below `MaxPendingPerValidator` running jobs; try later.
		ExecutorsBusy,
		/// The submitter cannot hold the fee.
		CannotAffordFee,
		/// No job has this id (or it has been pruned).
		UnknownJob,
		/// Only the job's submitter may do this.
		NotSubmitter,
		/// The job has already ended.
		JobEnded,
		/// An executor has already committed; the job can no longer be cancelled.
		AlreadyCommitted,
		/// The job has had `MaxExecutorsPerJob` executors already.
		TooManyExecutors,
		/// Not one input tensor per declared input.
		InputCountMismatch,
		/// A symbolic dimension of the model (e.g. `batch`) has two different sizes in the inputs.
		InputSymbolMismatch,
		/// The model's outputs at these input shapes hold more than `MAX_OUTPUT_BYTES`: no
		/// executor could reveal them.
		OutputsTooLarge,
		/// An input of more than `MaxInlineBytes` is inline, or one of at most that many bytes is
		/// given by content: each input's size decides where it goes.
		InputPlacement,
		/// A batch of jobs has no job.
		NoJobs,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			let expired = Self::expire_due_jobs(now);
			let pruned = Self::prune_old_jobs(now);
			// The previous block's jobs are drawn in this block's `on_finalize`, once the
			// randomness of this block is known; their weight is this block's.
			let drawing = AwaitingDraw::<T>::take();
			let escalating = AwaitingEscalation::<T>::take();
			let draws = drawing.len().saturating_add(escalating.len()) as u32;
			DrawingJobs::<T>::put(drawing);
			DrawingEscalations::<T>::put(escalating);
			T::WeightInfo::on_initialize(expired, pruned)
				.saturating_add(
					T::WeightInfo::assign_committee(T::MaxValidators::get())
						.saturating_mul(draws.into()),
				)
				.saturating_add(T::DbWeight::get().reads_writes(2, 4))
		}

		fn on_finalize(_: BlockNumberFor<T>) {
			for job in DrawingJobs::<T>::take() {
				Self::assign_committee(job, None);
			}
			for (job, size) in DrawingEscalations::<T>::take() {
				Self::assign_committee(job, Some(size));
			}
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}

		fn integrity_test() {
			assert!(
				u64::from(T::MaxInlineBytes::get()).saturating_mul(MAX_MODEL_TENSORS.into())
					<= u64::from(MAX_INLINE_BYTES),
				"MaxInlineBytes must let every input of a job fit inline"
			);
			assert!(T::MaxInputBytes::get() > 0, "MaxInputBytes must not be zero");
			assert!(T::DefaultReplicas::get() >= 1, "DefaultReplicas must be at least 1");
			assert!(T::DefaultReplicas::get() <= T::MaxReplicas::get());
			assert!(T::MaxReplicas::get() <= T::MaxExecutorsPerJob::get());
			assert!(T::MaxJobsPerBlock::get() > 0 && T::MaxPendingPerValidator::get() > 0);
			assert!(T::MaxJobsPerCall::get() <= T::MaxJobsPerBlock::get());
			assert!(!T::JobTtl::get().is_zero(), "JobTtl must not be zero");
		}
	}

	#[pallet::call(weight(<T as Config>::WeightInfo))]
	impl<T: Config> Pallet<T> {
		/// Submits a job: runs `model` on `inputs` (one tensor per declared input, in declared
		/// order) with `replicas` executors (`None`: `DefaultReplicas`), charging at most
		/// `max_fee` (data fee burnt, escrow held).
		///
		/// The origin must be signed, by the submitter, who pays. Errors: [`Error::UnknownModel`],
		/// [`Error::ModelNotActive`], [`Error::InputPlacement`], [`Error::InputTooLarge`],
		/// [`Error::InputCountMismatch`], [`Error::InputDTypeMismatch`],
		/// [`Error::InputRankMismatch`], [`Error::InputShapeMismatch`],
		/// [`Error::InputLengthMismatch`], [`Error::InputSymbolMismatch`], [`Error::BadReplicas`],
		/// [`Error::OutputsTooLarge`], [`Error::FeeOverflow`], [`Error::FeeAboveMax`],
		/// [`Error::TooManyJobsInBlock`], [`Error::NotEnoughValidators`], [`Error::ExecutorsBusy`],
		/// [`Error::CannotAffordFee`]. Events: [`Event::JobSubmitted`]; the draw at the end of the
		/// next block then emits [`Event::ExecutorsAssigned`], or [`Event::JobFailed`] when too few
		/// validators are free by then. Charged for a draw over `MaxValidators` and refunded to the
		/// active set's size.
		#[pallet::call_index(0)]
		#[pallet::weight(Pallet::<T>::submit_job_weight(inputs))]
		pub fn submit_job(
			origin: OriginFor<T>,
			model: ModelId,
			inputs: InputTensors,
			replicas: Option<u32>,
			max_fee: BalanceOf<T>,
		) -> DispatchResultWithPostInfo {
			let submitter = ensure_signed(origin)?;
			let used = Self::submit(&submitter, model, inputs, replicas, max_fee)?;
			// Charged up front for the largest validator set; the draw went over the active one.
			Ok(Some(used).into())
		}

		/// Cancels a job before any executor committed. Executors drawn for it started running it
		/// at once, so each is paid its executor fee; the rest of the escrow (the model's price,
		/// the fees of replicas never drawn) returns. Before its draw, no executor is paid and
		/// the data fee is burnt (the inputs took block space).
		///
		/// The origin must be signed, by the job's submitter. Errors: [`Error::UnknownJob`],
		/// [`Error::NotSubmitter`], [`Error::JobEnded`], [`Error::AlreadyCommitted`] (an executor
		/// committed, or the job escalated). Events: [`Event::JobCancelled`].
		#[pallet::call_index(1)]
		pub fn cancel_job(origin: OriginFor<T>, job: JobId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut info = Jobs::<T>::get(job).ok_or(Error::<T>::UnknownJob)?;
			ensure!(info.submitter == who, Error::<T>::NotSubmitter);
			let (paid_each, refunded) = match info.status {
				JobStatus::Assigning { round: 0 } => {
					Self::burn_data_fee(&info);
					(Zero::zero(), Self::refund_rest(&info, info.fee.escrow()))
				},
				JobStatus::Running { round: 0 } => {
					ensure!(!T::Verifier::has_commitments(job), Error::<T>::AlreadyCommitted);
					T::Verifier::close(job);
					Self::pay_executors_and_refund(&info, Self::committee(&info))
				},
				JobStatus::Running { .. } | JobStatus::Assigning { .. } => {
					return Err(Error::<T>::AlreadyCommitted.into())
				},
				_ => return Err(Error::<T>::JobEnded.into()),
			};
			Self::end_job(job, &mut info, JobStatus::Cancelled);
			Self::deposit_event(Event::JobCancelled { job, paid_each, refunded });
			Ok(())
		}

		/// Submits several jobs in one transaction, each as [`Call::submit_job`] would: its own
		/// checks, fee check against its own `max_fee`, charges and events. A job that fails is
		/// refused alone and changes nothing ([`Event::JobRefused`], with its index in `jobs`
		/// and the error); the others stand.
		///
		/// The origin must be signed, by the submitter of every job. Errors: [`Error::NoJobs`];
		/// each job's errors are those of [`Call::submit_job`], reported in its
		/// [`Event::JobRefused`] rather than as the call's result. Events: [`Event::JobSubmitted`]
		/// for each job accepted (its draw's [`Event::ExecutorsAssigned`] or [`Event::JobFailed`]
		/// follows at the end of the next block), [`Event::JobRefused`] for each job refused.
		/// Charged as that many `submit_job`s and refunded as each one's.
		#[pallet::call_index(2)]
		#[pallet::weight(Pallet::<T>::submit_jobs_weight(jobs))]
		pub fn submit_jobs(
			origin: OriginFor<T>,
			jobs: BoundedVec<JobRequest<BalanceOf<T>>, T::MaxJobsPerCall>,
		) -> DispatchResultWithPostInfo {
			let submitter = ensure_signed(origin)?;
			ensure!(!jobs.is_empty(), Error::<T>::NoJobs);
			let mut used = Weight::zero();
			for (index, request) in jobs.into_iter().enumerate() {
				let charged = Self::submit_job_weight(&request.inputs);
				let JobRequest { model, inputs, replicas, max_fee } = request;
				// Each job in a layer of its own: a refused one leaves no trace.
				match frame_support::storage::with_storage_layer(|| {
					Self::submit(&submitter, model, inputs, replicas, max_fee)
				}) {
					Ok(weight) => used.saturating_accrue(weight),
					Err(error) => {
						used.saturating_accrue(charged);
						Self::deposit_event(Event::JobRefused {
							submitter: submitter.clone(),
							index: index.saturated_into(),
							error,
						});
					},
				}
			}
			Ok(Some(used).into())
		}
	}

	impl<T: Config> Pallet<T> {
		/// A job's weight as [`Call::submit_job`] charges it: its draw over `MaxValidators`.
		fn submit_job_weight(inputs: &InputTensors) -> Weight {
			T::WeightInfo::submit_job(
				inputs.carried_len().saturated_into(),
				T::MaxValidators::get(),
			)
		}

		/// The weight of [`Call::submit_jobs`]: each job's.
		fn submit_jobs_weight(jobs: &[JobRequest<BalanceOf<T>>]) -> Weight {
			jobs.iter().fold(Weight::zero(), |weight, request| {
				weight.saturating_add(Self::submit_job_weight(&request.inputs))
			})
		}

		/// Checks, charges and starts one job for `submitter` (see [`Call::submit_job`]);
		/// returns the weight it used. Changes storage before it may fail: callers run it in a
		/// storage layer (a call's own, or one per job).
		fn submit(
			submitter: &T::AccountId,
			model: ModelId,
			inputs: InputTensors,
			replicas: Option<u32>,
			max_fee: BalanceOf<T>,
		) -> Result<Weight, DispatchError> {
			let info = T::Models::model(model).ok_or(Error::<T>::UnknownModel)?;
			ensure!(info.status == ModelStatus::Active, Error::<T>::ModelNotActive);
			let input_bytes = Self::check_placement(&inputs)?;
			let sizes = check_inputs(&info.signature, &inputs).map_err(Error::<T>::from)?;
			let elements = input_elements(inputs.iter().map(|input| input.shape()));
			// The outputs the inputs give are checked here and handed to verification at the draw.
			let (fee, _) = Self::quote_for(model, &info, replicas, input_bytes, elements, &sizes)
				.map_err(Error::<T>::from)?;
			ensure!(fee.total <= max_fee, Error::<T>::FeeAboveMax);

			let job = NextJobId::<T>::get();
			AwaitingDraw::<T>::try_append(job).map_err(|_| Error::<T>::TooManyJobsInBlock)?;
			let active = Self::free_executors(fee.replicas, &[])?.1;
			// The whole fee is held until the draw: a job that gets no committee costs nothing.
			T::Currency::hold(&HoldReason::JobEscrow.into(), submitter, fee.total)
				.map_err(|_| Error::<T>::CannotAffordFee)?;

			let now = frame_system::Pallet::<T>::block_number();
			Jobs::<T>::insert(
				job,
				JobInfoOf::<T> {
					submitter: submitter.clone(),
					model,
					model_hash: info.hash,
					fee,
					executors: BoundedVec::new(),
					committee_start: 0,
					status: JobStatus::Assigning { round: 0 },
					submitted_at: now,
					expires_at: now.saturating_add(T::JobTtl::get()),
				},
			);
			JobInputs::<T>::insert(job, inputs);
			RunningJobsOfModel::<T>::mutate(model, |count| *count = count.saturating_add(1));
			ModelStatistics::<T>::mutate(model, |stats| {
				stats.submitted = stats.submitted.saturating_add(1);
				stats.last_used = Some(now);
			});
			NextJobId::<T>::put(job.saturating_add(1));

			Self::deposit_event(Event::JobSubmitted {
				job,
				submitter: submitter.clone(),
				model,
				fee,
			});
			Ok(T::WeightInfo::submit_job(input_bytes.inline.saturated_into(), active))
		}
	}

	impl<T: Config> From<QuoteError> for Error<T> {
		fn from(error: QuoteError) -> Self {
			match error {
				QuoteError::UnknownModel => Error::UnknownModel,
				QuoteError::ModelNotActive => Error::ModelNotActive,
				QuoteError::BadReplicas => Error::BadReplicas,
				QuoteError::Overflow => Error::FeeOverflow,
				QuoteError::BadInputs => Error::InputShapeMismatch,
				QuoteError::OutputsTooLarge => Error::OutputsTooLarge,
			}
		}
	}

	impl<T: Config> From<TensorError> for Error<T> {
		fn from(error: TensorError) -> Self {
			match error {
				TensorError::DTypeMismatch => Error::InputDTypeMismatch,
				TensorError::RankMismatch => Error::InputRankMismatch,
				TensorError::ShapeMismatch => Error::InputShapeMismatch,
				TensorError::DataLengthMismatch => Error::InputLengthMismatch,
				TensorError::CountMismatch => Error::InputCountMismatch,
				TensorError::SymbolMismatch => Error::InputSymbolMismatch,
			}
		}
	}
}

/// Sets up what the benchmarks need, in a runtime-specific way.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<T: Config> {
	/// Registers an active model owned by `owner`, taking one f32 input of `input_len` values
	/// (at least 1) and giving one f32 output of 4 values, priced `price`.
	fn active_model(owner: T::AccountId, input_len: u32, price: BalanceOf<T>) -> ModelId;
	/// Makes `validators` the active set, each bonded with `bond` (funded as needed).
	fn staked_validators(validators: Vec<T::AccountId>, bond: BalanceOf<T>);
}

impl<T: Config> Pallet<T> {
	/// What a job on `model` with `replicas` executors and inputs of `input_shapes` would cost
	/// now.
	pub fn quote(
		model: ModelId,
		replicas: Option<u32>,
		input_shapes: &[Vec<u32>],
	) -> Result<FeeQuote<BalanceOf<T>>, QuoteError> {
		let info = T::Models::model(model).ok_or(QuoteError::UnknownModel)?;
		if info.status != ModelStatus::Active {
			return Err(QuoteError::ModelNotActive);
		}
		let sizes =
			check_shapes(&info.signature, input_shapes).map_err(|_| QuoteError::BadInputs)?;
		let input_bytes = input_shapes
			.iter()
			.zip(info.signature.inputs.iter())
			.try_fold(TensorBytes::default(), |total, (shape, spec)| {
				total.add(data_len(spec.dtype, shape)?, T::MaxInlineBytes::get())
			})
			.filter(|bytes| bytes.total() <= T::MaxInputBytes::get())
			.ok_or(QuoteError::BadInputs)?;
		let elements = input_elements(input_shapes.iter().map(|shape| shape.as_slice()));
		Self::quote_for(model, &info, replicas, input_bytes, elements, &sizes).map(|(fee, _)| fee)
	}

	/// What each executor of a job on `model` whose inputs hold `elements` elements in all is
	/// paid: the operations the model's attested compute estimate gives for them, at
	/// [`Config::FeePerGigaOp`] per 10⁹ (rounded down), and never less than
	/// [`Config::ExecutorFee`] (the fee of a model without an estimate).
	pub fn executor_fee(model: ModelId, elements: u64) -> Result<BalanceOf<T>, QuoteError> {
		let floor = T::ExecutorFee::get();
		let Some(compute) = T::Models::compute(model) else { return Ok(floor) };
		let operations = BalanceOf::<T>::saturated_from(compute.operations(elements));
		let by_compute = T::FeePerGigaOp::get()
			.checked_mul(&operations)
			.and_then(|fee| fee.checked_div(&BalanceOf::<T>::from(1_000_000_000u32)))
			.ok_or(QuoteError::Overflow)?;
		Ok(floor.max(by_compute))
	}

	/// Checks that each input is where its size puts it (inline up to `MaxInlineBytes`, by
	/// content above) and that they are not too large; returns their bytes.
	fn check_placement(inputs: &InputTensors) -> Result<TensorBytes, Error<T>> {
		let threshold = T::MaxInlineBytes::get();
		let mut bytes = TensorBytes::default();
		for input in inputs.iter() {
			let len = input.data_len();
			let inline = len <= u64::from(threshold);
			ensure!(inline == input.content().is_none(), Error::<T>::InputPlacement);
			ensure!(len <= MAX_CONTENT_BYTES, Error::<T>::InputTooLarge);
			bytes = bytes.add(len, threshold).ok_or(Error::<T>::InputTooLarge)?;
		}
		ensure!(bytes.total() <= T::MaxInputBytes::get(), Error::<T>::InputTooLarge);
		Ok(bytes)
	}

	/// The fee of a job on the active model `info` with `replicas` executors and inputs of
	/// `input_bytes` that bind its symbols to `sizes`, and the outputs its executors must reveal.
	fn quote_for(
		model: ModelId,
		info: &ModelInfo<T::AccountId, BalanceOf<T>, BlockNumberFor<T>>,
		replicas: Option<u32>,
		input_bytes: TensorBytes,
		input_elements: u64,
		sizes: &SymbolSizes,
	) -> Result<(FeeQuote<BalanceOf<T>>, ExpectedOutputs), QuoteError> {
		if info.status != ModelStatus::Active {
			return Err(QuoteError::ModelNotActive);
		}
		let replicas = replicas.unwrap_or_else(T::DefaultReplicas::get);
		if replicas == 0 || replicas > T::MaxReplicas::get() {
			return Err(QuoteError::BadReplicas);
		}
		let outputs = ExpectedOutputs::new(&info.signature, sizes);
		// Each executor reveals small outputs inline and keeps large ones as content; outputs of
		// a size unknown before the run are charged as much as all-inline outputs may hold.
		let output_bytes = match outputs.data_lens() {
			Some(lens) => {
				let total = lens.iter().try_fold(0u64, |total, len| total.checked_add(*len));
				if total.is_none_or(|total| total > MAX_OUTPUT_BYTES) {
					return Err(QuoteError::OutputsTooLarge);
				}
				lens.iter()
					.try_fold(TensorBytes::default(), |bytes, len| {
						bytes.add(*len, T::MaxInlineBytes::get())
					})
					.ok_or(QuoteError::Overflow)?
			},
			None => TensorBytes { inline: u64::from(MAX_INLINE_OUTPUT_BYTES), content: 0 },
		};
		let block_bytes = output_bytes
			.inline
			.checked_mul(u64::from(replicas))
			.and_then(|outputs| outputs.checked_add(input_bytes.inline))
			.ok_or(QuoteError::Overflow)?;
		let fetched_bytes = input_bytes
			.content
			.checked_add(output_bytes.content)
			.and_then(|bytes| bytes.checked_mul(u64::from(replicas)))
			.ok_or(QuoteError::Overflow)?;
		let data_fee = T::FeePerByte::get()
			.checked_mul(&block_bytes.saturated_into())
			.and_then(|fee| {
				T::FeePerContentByte::get()
					.checked_mul(&fetched_bytes.saturated_into())?
					.checked_add(&fee)
			})
			.ok_or(QuoteError::Overflow)?;
		let executor_fee = Self::executor_fee(model, input_elements)?;
		let total = executor_fee
			.checked_mul(&BalanceOf::<T>::from(replicas))
			.and_then(|executors| executors.checked_add(&info.price))
			.and_then(|escrow| escrow.checked_add(&data_fee))
			.ok_or(QuoteError::Overflow)?;
		Ok((FeeQuote { model_price: info.price, executor_fee, replicas, data_fee, total }, outputs))
	}

	/// A job's record, with its executors as a plain list, for the runtime API.
	pub fn job_info(job: JobId) -> Option<JobView<T>> {
		Jobs::<T>::get(job).map(|info| gateless_primitives::job::JobInfo {
			submitter: info.submitter,
			model: info.model,
			model_hash: info.model_hash,
			fee: info.fee,
			executors: info.executors.into_inner(),
			committee_start: info.committee_start,
			status: info.status,
			submitted_at: info.submitted_at,
			expires_at: info.expires_at,
		})
	}

	/// The model and inputs of a running job, for the validators' nodes that run it.
	pub fn work_of(job: JobId) -> Option<(ModelId, InputTensors)> {
		let model = Jobs::<T>::get(job)?.model;
		Some((model, JobInputs::<T>::get(job)?))
	}

	/// A finalized job's result, with its agreeing executors as a plain list.
	pub fn job_result(job: JobId) -> Option<JobResultView<T>> {
		JobResults::<T>::get(job).map(|result| JobResult {
			output: result.output,
			digest: result.digest,
			agreeing: result.agreeing.into_inner(),
			paid_each: result.paid_each,
			owner_paid: result.owner_paid,
			refunded: result.refunded,
			finalized_at: result.finalized_at,
		})
	}

	/// The bonded active validators not in `exclude` and below `MaxPendingPerValidator`, with
	/// their bonds, if at least `size`; also how many bonded active validators there are not in
	/// `exclude` (what a draw's weight depends on).
	fn free_executors(
		size: u32,
		exclude: &[T::AccountId],
	) -> Result<(ExecutorPool<T>, u32), Error<T>> {
		let mut pool: ExecutorPool<T> = T::Staking::active_stakes()
			.into_iter()
			.filter(|(who, stake)| !stake.is_zero() && !exclude.contains(who))
			.map(|(who, stake)| (who, stake.saturated_into::<u128>()))
			.collect();
		let active = pool.len() as u32;
		ensure!(active >= size, Error::<T>::NotEnoughValidators);
		let max_pending = T::MaxPendingPerValidator::get();
		pool.retain(|(who, _)| PendingJobs::<T>::get(who) < max_pending);
		ensure!(pool.len() as u32 >= size, Error::<T>::ExecutorsBusy);
		Ok((pool, active))
	}

	/// Draws `size` distinct executors, weighted by active bond, among active validators not in
	/// `exclude` and below `MaxPendingPerValidator`, from the randomness for `subject`; also
	/// returns how many active validators the draw went over (what its weight depends on).
	fn draw_committee(
		subject: DrawSubject,
		size: u32,
		exclude: &[T::AccountId],
	) -> Result<(Vec<T::AccountId>, u32), Error<T>> {
		let (mut pool, active) = Self::free_executors(size, exclude)?;
		let (seed, _) = T::Randomness::random(&(b"gateless/assign", subject).encode());
		let mut committee = Vec::with_capacity(size as usize);
		for draw in 0..size {
			// The pool has more than `draw` validators, none with a zero stake: `total` is not 0,
			// and some validator's stake reaches past `point`.
			let total = pool.iter().fold(0u128, |sum, (_, stake)| sum.saturating_add(*stake));
			let point = u128::from_le_bytes(sp_io::hashing::blake2_128(&(&seed, draw).encode()))
				.checked_rem(total)
				.defensive_unwrap_or_default();
			let mut reached = 0u128;
			let position = pool
				.iter()
				.position(|(_, stake)| {
					reached = reached.saturating_add(*stake);
					reached > point
				})
				.defensive_unwrap_or_default();
			if position < pool.len() {
				committee.push(pool.swap_remove(position).0);
			}
		}
		Ok((committee, active))
	}

	/// Draws the committee that `job` waits for (its first, of its `replicas`, when `size` is
	/// `None`; an escalation's of `size` fresh validators otherwise) and opens its round, burning
	/// the data fee of a first committee; or, when too few validators are free (or its model was
	/// withdrawn meanwhile), ends the job with what it holds returned. A job that ended while it
	/// waited (cancelled, expired) is skipped.
	fn assign_committee(job: JobId, size: Option<u32>) {
		let Some(mut info) = Jobs::<T>::get(job) else { return };
		let JobStatus::Assigning { round } = info.status else { return };
		let size = size.unwrap_or(info.fee.replicas);
		if let Err(error) = frame_support::storage::with_storage_layer(|| {
			Self::start_round(job, &info, round, size)
		}) {
			let reason = match error {
				StartError::ModelWithdrawn => FailureReason::ModelWithdrawn,
				StartError::NoCommittee if round == 0 => FailureReason::NotAssigned,
				StartError::NoCommittee => FailureReason::NoFreshExecutors,
			};
			let refunded = Self::refund_all_and_end(job, &mut info, JobStatus::Failed(reason));
			Self::deposit_event(Event::JobFailed { job, reason, refunded });
		}
	}

	/// Draws round `round`'s committee of `size` for the job `info` among validators that have
	/// not served on it, opens the round, and burns the data fee if it is the first. Changes
	/// storage before it may fail: the caller runs it in a storage layer.
	fn start_round(
		job: JobId,
		info: &JobInfoOf<T>,
		round: u8,
		size: u32,
	) -> Result<(), StartError> {
		let model = T::Models::model(info.model)
			.filter(|model| !matches!(model.status, ModelStatus::Rejected(_) | ModelStatus::Banned))
			.ok_or(StartError::ModelWithdrawn)?;
		// The inputs passed these checks at submission; the outputs they give go to verification.
		let inputs = JobInputs::<T>::get(job).ok_or(StartError::NoCommittee)?;
		let sizes = check_inputs(&model.signature, &inputs).map_err(|_| StartError::NoCommittee)?;
		let outputs = ExpectedOutputs::new(&model.signature, &sizes);
		let subject = match round {
			// Keyed by what the job is, not by its id: jobs ordered before it in its block do
			// not change its committee.
			0 => DrawSubject::FirstCommittee(sp_io::hashing::blake2_256(
				&(&info.submitter, info.model, &inputs).encode(),
			)),
			round => DrawSubject::Escalation { job, round },
		};
		let (committee, _) = Self::draw_committee(subject, size, &info.executors)?;
		let mut executors = info.executors.clone();
		executors
			.try_extend(committee.iter().cloned())
			.map_err(|_| Error::<T>::TooManyExecutors)?;
		T::Verifier::open_round(job, round, committee.clone(), model.determinism, outputs)?;
		if round == 0 {
			Self::burn_data_fee(info);
		}
		Self::assign(&committee);
		Jobs::<T>::insert(
			job,
			JobInfoOf::<T> {
				committee_start: info.executors.len() as u32,
				executors,
				status: JobStatus::Running { round },
				..info.clone()
			},
		);
		Self::deposit_event(Event::ExecutorsAssigned { job, round, executors: committee });
		Ok(())
	}

	/// Burns the data fee of a job that has not been drawn yet from what its submitter holds.
	fn burn_data_fee(info: &JobInfoOf<T>) {
		// The submitter holds the whole fee until the draw.
		let _ = T::Currency::burn_held(
			&HoldReason::JobEscrow.into(),
			&info.submitter,
			info.fee.data_fee,
			Precision::BestEffort,
			Fortitude::Force,
		)
		.defensive();
	}

	/// What the submitter holds for a job that has not ended: the whole fee before its draw, the
	/// escrow (the data fee burnt) after.
	fn held_for(info: &JobInfoOf<T>) -> BalanceOf<T> {
		match info.status {
			JobStatus::Assigning { round: 0 } => info.fee.total,
			_ => info.fee.escrow(),
		}
	}

	/// Counts `committee` as assigned one more running job.
	fn assign(committee: &[T::AccountId]) {
		for executor in committee {
			PendingJobs::<T>::mutate(executor, |count| *count = count.saturating_add(1));
			T::Staking::note_assigned(executor);
		}
	}

	/// The current committee of a job: none while it waits for a draw (an escalated job's last
	/// committee was released when it escalated).
	fn committee(info: &JobInfoOf<T>) -> &[T::AccountId] {
		match info.status {
			JobStatus::Assigning { .. } => &[],
			_ => info
				.executors
				.get(info.committee_start as usize..)
				.defensive_unwrap_or_default(),
		}
	}

	/// Frees the current committee of one running job.
	fn release_committee(info: &JobInfoOf<T>) {
		for executor in Self::committee(info) {
			PendingJobs::<T>::mutate_exists(executor, |count| {
				*count = count.map(|count| count.saturating_sub(1)).filter(|count| *count > 0);
			});
		}
	}

	/// What each of `count` executors that settle a job is paid: `min(fee, pool / count)`, where
	/// `fee` is the job's executor fee and `pool = replicas × fee` (an escalated committee shares
	/// the same pool).
	fn executor_share(info: &JobInfoOf<T>, count: u32) -> BalanceOf<T> {
		let fee = info.fee;
		let pool = fee.executor_fee.saturating_mul(BalanceOf::<T>::from(fee.replicas));
		// No share when no executor settles (`count` 0, the only case the division fails).
		pool.checked_div(&BalanceOf::<T>::from(count))
			.map_or(Zero::zero(), |each| fee.executor_fee.min(each))
	}

	/// Pays each of `executors` its share of the job's pool ([`Self::executor_share`]) and returns
	/// the rest of the escrow to the submitter; returns the least an executor was paid and what
	/// was refunded.
	fn pay_executors_and_refund(
		info: &JobInfoOf<T>,
		executors: &[T::AccountId],
	) -> (BalanceOf<T>, BalanceOf<T>) {
		let share = Self::executor_share(info, executors.len().saturated_into());
		let mut paid = BalanceOf::<T>::zero();
		let mut paid_each = share;
		for executor in executors {
			let amount = Self::pay(info, executor, share);
			paid = paid.saturating_add(amount);
			paid_each = paid_each.min(amount);
		}
		(paid_each, Self::refund_rest(info, info.fee.escrow().saturating_sub(paid)))
	}

	/// Returns `amount` of the job's escrow to its submitter; returns what was released.
	fn refund_rest(info: &JobInfoOf<T>, amount: BalanceOf<T>) -> BalanceOf<T> {
		T::Currency::release(
			&HoldReason::JobEscrow.into(),
			&info.submitter,
			amount,
			Precision::BestEffort,
		)
		.defensive_unwrap_or_default()
	}

	/// Pays `amount` from the job's escrow to `to`; returns what was paid (0 if the transfer is
	/// impossible, e.g. `to` would stay below the existential deposit).
	fn pay(info: &JobInfoOf<T>, to: &T::AccountId, amount: BalanceOf<T>) -> BalanceOf<T> {
		if amount.is_zero() {
			return amount;
		}
		T::Currency::transfer_on_hold(
			&HoldReason::JobEscrow.into(),
			&info.submitter,
			to,
			amount,
			Precision::Exact,
			Restriction::Free,
			Fortitude::Polite,
		)
		.unwrap_or_default()
	}

	/// Ends a running job with `status`, returning its whole escrow to the submitter (cancel,
	/// expiry, failure); returns what was refunded.
	fn refund_all_and_end(job: JobId, info: &mut JobInfoOf<T>, status: JobStatus) -> BalanceOf<T> {
		let refunded = Self::refund_rest(info, Self::held_for(info));
		Self::end_job(job, info, status);
		refunded
	}

	/// Ends a running job with `status` (its escrow already settled): frees its committee and
	/// model, drops its input and stores the record.
	fn end_job(job: JobId, info: &mut JobInfoOf<T>, status: JobStatus) {
		ModelStatistics::<T>::mutate(info.model, |stats| {
			let counter = match status {
				JobStatus::Finalized => &mut stats.finalized,
				JobStatus::Failed(_) => &mut stats.failed,
				JobStatus::Expired => &mut stats.expired,
				JobStatus::Cancelled => &mut stats.cancelled,
				// Not an ending: no counter moves.
				JobStatus::Running { .. } | JobStatus::Assigning { .. } => return,
			};
			*counter = counter.saturating_add(1);
		});
		Self::release_committee(info);
		RunningJobsOfModel::<T>::mutate_exists(info.model, |count| {
			*count = count.map(|count| count.saturating_sub(1)).filter(|count| *count > 0);
		});
		JobInputs::<T>::remove(job);
		info.status = status;
		Jobs::<T>::insert(job, info.clone());
	}

	/// Counts a tallied round that reached no quorum: its seats, none of them agreeing.
	fn note_round_without_quorum(info: &JobInfoOf<T>) {
		let seats = Self::committee(info).len() as u32;
		ModelStatistics::<T>::mutate(info.model, |stats| {
			stats.seats = stats.seats.saturating_add(seats)
		});
	}

	/// Expires running jobs whose deadline has come, at most `MaxJobsPerBlock`; returns how many
	/// jobs the cursor passed.
	fn expire_due_jobs(now: BlockNumberFor<T>) -> u32 {
		let next = NextJobId::<T>::get();
		let mut cursor = ExpiryCursor::<T>::get();
		let mut passed = 0u32;
		while passed < T::MaxJobsPerBlock::get() && cursor < next {
			if let Some(mut info) = Jobs::<T>::get(cursor) {
				if info.expires_at > now {
					break;
				}
				if !info.status.is_final() {
					T::Verifier::close(cursor);
					let refunded = Self::refund_all_and_end(cursor, &mut info, JobStatus::Expired);
					Self::deposit_event(Event::JobExpired { job: cursor, refunded });
				}
			}
			cursor = cursor.saturating_add(1);
			passed = passed.saturating_add(1);
		}
		ExpiryCursor::<T>::put(cursor);
		passed
	}

	/// Prunes ended jobs whose retention is over, at most `MaxJobsPerBlock`; returns how many
	/// jobs the cursor passed. Never passes the expiry cursor, so only ended jobs are pruned.
	fn prune_old_jobs(now: BlockNumberFor<T>) -> u32 {
		let end = ExpiryCursor::<T>::get();
		let mut cursor = PruneCursor::<T>::get();
		let mut passed = 0u32;
		while passed < T::MaxJobsPerBlock::get() && cursor < end {
			if let Some(info) = Jobs::<T>::get(cursor) {
				if info.expires_at.saturating_add(T::ResultRetention::get()) > now
					|| !info.status.is_final()
				{
					break;
				}
				Jobs::<T>::remove(cursor);
				JobResults::<T>::remove(cursor);
			}
			cursor = cursor.saturating_add(1);
			passed = passed.saturating_add(1);
		}
		PruneCursor::<T>::put(cursor);
		passed
	}

	/// Checks the pallet's invariants: escrow held equals the fees of running jobs, per
	/// submitter (the whole fee of a job waiting for its draw, which is queued); pending counts
	/// and running-jobs-of-model counts match the running jobs; inputs exist exactly for running
	/// jobs, results only for finalized ones; cursors in order.
	/// Native (`std`) builds have it for the runtime's tests; the WASM only with `try-runtime`.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		use frame_support::traits::fungible::InspectHold;
		let mut escrow: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut pending: BTreeMap<T::AccountId, u32> = BTreeMap::new();
		let mut per_model: BTreeMap<ModelId, u32> = BTreeMap::new();
		let next = NextJobId::<T>::get();
		let expiry = ExpiryCursor::<T>::get();
		let prune = PruneCursor::<T>::get();
		ensure!(prune <= expiry && expiry <= next, "cursors out of order");
		for (job, info) in Jobs::<T>::iter() {
			ensure!(job >= prune && job < next, "a job outside the unpruned id range");
			let running = !info.status.is_final();
			ensure!(JobInputs::<T>::contains_key(job) == running, "input kept iff running");
			ensure!(
				!JobResults::<T>::contains_key(job) || info.status == JobStatus::Finalized,
				"result of a job that is not finalized"
			);
			ensure!(!(running && job < expiry), "a running job behind the expiry cursor");
			let held = escrow.entry(info.submitter.clone()).or_default();
			if running {
				*held = held.saturating_add(Self::held_for(&info));
				let escalating = |(queued, _): &(JobId, u32)| *queued == job;
				let waits = match info.status {
					JobStatus::Assigning { round: 0 } => {
						AwaitingDraw::<T>::get().contains(&job)
							|| DrawingJobs::<T>::get().contains(&job)
					},
					JobStatus::Assigning { .. } => {
						AwaitingEscalation::<T>::get().iter().any(escalating)
							|| DrawingEscalations::<T>::get().iter().any(escalating)
					},
					_ => true,
				};
				ensure!(waits, "a job waiting for a committee is not queued for its draw");
				for executor in Self::committee(&info) {
					let count = pending.entry(executor.clone()).or_default();
					*count = count.saturating_add(1);
				}
				let count = per_model.entry(info.model).or_default();
				*count = count.saturating_add(1);
			}
		}
		ensure!(JobInputs::<T>::iter_keys().all(Jobs::<T>::contains_key), "orphan input");
		ensure!(JobResults::<T>::iter_keys().all(Jobs::<T>::contains_key), "orphan result");
		// Every submitter of a job still on record holds exactly the fees of its running jobs
		// (nothing, once they have all ended).
		for (who, held) in &escrow {
			ensure!(
				T::Currency::balance_on_hold(&HoldReason::JobEscrow.into(), who) == *held,
				"escrow held differs from the fees of running jobs"
			);
		}
		ensure!(
			PendingJobs::<T>::iter().all(|(who, count)| pending.get(&who) == Some(&count))
				&& pending.len() == PendingJobs::<T>::iter().count(),
			"pending counts differ from running committees"
		);
		ensure!(
			RunningJobsOfModel::<T>::iter()
				.all(|(model, count)| per_model.get(&model) == Some(&count))
				&& per_model.len() == RunningJobsOfModel::<T>::iter().count(),
			"running-jobs-of-model counts differ from running jobs"
		);
		for (model, stats) in ModelStatistics::<T>::iter() {
			let ended = [stats.finalized, stats.failed, stats.expired, stats.cancelled]
				.into_iter()
				.fold(0u32, u32::saturating_add);
			ensure!(
				stats.submitted.checked_sub(ended) == Some(RunningJobsOfModel::<T>::get(model)),
				"a model's jobs submitted less those ended differ from its running jobs"
			);
			ensure!(
				stats.agreed_errors <= stats.finalized && stats.agreeing <= stats.seats,
				"a model's statistics count more agreement than there was"
			);
		}
		ensure!(
			RunningJobsOfModel::<T>::iter_keys().all(ModelStatistics::<T>::contains_key),
			"a model runs jobs without statistics"
		);
		Ok(())
	}
}

impl<T: Config> ModelUsage for Pallet<T> {
	fn is_in_use(model: ModelId) -> bool {
		RunningJobsOfModel::<T>::contains_key(model)
	}
}

impl<T: Config> JobSettlement<T::AccountId> for Pallet<T> {
	fn finalize(job: JobId, outcome: AgreedOutcome<T::AccountId>) -> DispatchResult {
		let mut info = Jobs::<T>::get(job).ok_or(Error::<T>::UnknownJob)?;
		ensure!(!info.status.is_final(), Error::<T>::JobEnded);
		let fee = info.fee;
		let agreeing_count = outcome.agreeing.len() as u32;
		let share = Self::executor_share(&info, agreeing_count);
		let mut paid = BalanceOf::<T>::zero();
		let mut paid_each = share;
		for executor in &outcome.agreeing {
			let amount = Self::pay(&info, executor, share);
			paid = paid.saturating_add(amount);
			paid_each = paid_each.min(amount);
			T::Staking::note_agreed(executor, amount);
		}
		let owner_paid = match (&outcome.output, T::Models::model(info.model)) {
			// An output, inline or kept off chain, earns the owner its price; an agreed error
			// does not.
			(InferenceOutput::Tensors(_) | InferenceOutput::Content { .. }, Some(model)) => {
				let amount = Self::pay(&info, &model.owner, fee.model_price);
				paid = paid.saturating_add(amount);
				amount
			},
			_ => Zero::zero(),
		};
		let refunded = Self::refund_rest(&info, fee.escrow().saturating_sub(paid));
		let seats = Self::committee(&info).len() as u32;
		let agreed_error = matches!(outcome.output, InferenceOutput::Error(_));
		ModelStatistics::<T>::mutate(info.model, |stats| {
			stats.seats = stats.seats.saturating_add(seats);
			stats.agreeing = stats.agreeing.saturating_add(agreeing_count);
			stats.agreed_errors = stats.agreed_errors.saturating_add(agreed_error.into());
			stats.revenue = stats.revenue.saturating_add(owner_paid);
		});
		let agreeing = BoundedVec::defensive_truncate_from(outcome.agreeing);
		JobResults::<T>::insert(
			job,
			JobResultOf::<T> {
				output: outcome.output,
				digest: outcome.digest,
				agreeing,
				paid_each,
				owner_paid,
				refunded,
				finalized_at: frame_system::Pallet::<T>::block_number(),
			},
		);
		Self::end_job(job, &mut info, JobStatus::Finalized);
		Self::deposit_event(Event::JobFinalized {
			job,
			digest: outcome.digest,
			agreeing: agreeing_count,
			paid_each,
			owner_paid,
			refunded,
		});
		Ok(())
	}

	fn escalate(job: JobId, size: u32) -> DispatchResult {
		let mut info = Jobs::<T>::get(job).ok_or(Error::<T>::UnknownJob)?;
		let JobStatus::Running { round } = info.status else {
			return Err(Error::<T>::JobEnded.into());
		};
		let next_round = round.checked_add(1).ok_or(Error::<T>::TooManyExecutors)?;
		ensure!(
			(info.executors.len() as u32).saturating_add(size) <= T::MaxExecutorsPerJob::get(),
			Error::<T>::TooManyExecutors
		);
		Self::free_executors(size, &info.executors)?;
		AwaitingEscalation::<T>::try_append((job, size))
			.map_err(|_| Error::<T>::TooManyJobsInBlock)?;
		Self::note_round_without_quorum(&info);
		Self::release_committee(&info);
		info.status = JobStatus::Assigning { round: next_round };
		Jobs::<T>::insert(job, info);
		Ok(())
	}

	fn model_withdrawn(job: JobId) -> bool {
		Jobs::<T>::get(job).is_some_and(|info| {
			T::Models::model(info.model).is_none_or(|model| {
				matches!(model.status, ModelStatus::Rejected(_) | ModelStatus::Banned)
			})
		})
	}

	fn fail(job: JobId, reason: FailureReason) -> DispatchResult {
		let mut info = Jobs::<T>::get(job).ok_or(Error::<T>::UnknownJob)?;
		ensure!(!info.status.is_final(), Error::<T>::JobEnded);
		if matches!(reason, FailureReason::NoQuorum | FailureReason::NoFreshExecutors) {
			Self::note_round_without_quorum(&info);
		}
		let refunded = Self::refund_all_and_end(job, &mut info, JobStatus::Failed(reason));
		Self::deposit_event(Event::JobFailed { job, reason, refunded });
		Ok(())
	}

	fn inputs_unavailable(job: JobId, reporters: Vec<T::AccountId>) -> DispatchResult {
		let mut info = Jobs::<T>::get(job).ok_or(Error::<T>::UnknownJob)?;
		ensure!(!info.status.is_final(), Error::<T>::JobEnded);
		let (_, refunded) = Self::pay_executors_and_refund(&info, &reporters);
		let reason = FailureReason::InputUnavailable;
		Self::end_job(job, &mut info, JobStatus::Failed(reason));
		Self::deposit_event(Event::JobFailed { job, reason, refunded });
		Ok(())
	}
}

/// Bytes of a job's tensors (its inputs, or an executor's outputs): on chain, and off chain as
/// content.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
struct TensorBytes {
	inline: u64,
	content: u64,
}

impl TensorBytes {
	/// With one more tensor of `len` bytes, inline when at most `threshold` (`None` on overflow).
	fn add(self, len: u64, threshold: u32) -> Option<Self> {
		Some(if len <= u64::from(threshold) {
			Self { inline: self.inline.checked_add(len)?, ..self }
		} else {
			Self { content: self.content.checked_add(len)?, ..self }
		})
	}

	fn total(&self) -> u64 {
		self.inline.saturating_add(self.content)
	}
}

/// Validators a committee may be drawn from, with their bonds as draw weights.
type ExecutorPool<T> = Vec<(<T as frame_system::Config>::AccountId, u128)>;

/// What a committee is drawn for, mixed into the randomness.
#[derive(Encode)]
enum DrawSubject {
	/// A job's first committee, by the hash of its submitter, model and inputs: two identical
	/// jobs of one submitter in one block get the same committee, and no other job changes it.
	FirstCommittee([u8; 32]),
	/// Round `round` of `job`, whose id was fixed blocks before.
	Escalation { job: JobId, round: u8 },
}

/// Why a job submitted in the previous block gets no committee.
enum StartError {
	/// Its model was banned or rejected since (or is gone).
	ModelWithdrawn,
	/// Too few validators were free, or verification refused the round.
	NoCommittee,
}

impl<T: Config> From<Error<T>> for StartError {
	fn from(_: Error<T>) -> Self {
		StartError::NoCommittee
	}
}

impl From<DispatchError> for StartError {
	fn from(_: DispatchError) -> Self {
		StartError::NoCommittee
	}
}
