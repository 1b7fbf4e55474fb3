//! # Result verification pallet
//!
//! Decides what a job's output is: the executors drawn by the jobs pallet commit to their outputs,
//! reveal them, and the largest group that agrees under the model's determinism class decides when
//! it reaches the quorum. Dissenters and no-shows are slashed through the staking pallet.
//!
//! ## Overview
//!
//! The jobs pallet opens a round for a job's committee ([`JobVerifier::open_round`],
//! [`Event::RoundOpened`]); an empty committee, or one larger than [`Config::MaxCommittee`], is
//! refused with [`Error::BadCommittee`], and the jobs pallet then fails the job. The round has a
//! commit window of [`Config::CommitWindow`] blocks, then a reveal window of
//! [`Config::RevealWindow`] blocks; reveals are accepted early, as soon as every executor has
//! committed.
//!
//! 1. **Commit.** Each executor runs the model and submits [`Call::commit`] with
//!    `commitment = blake2_256(digest ++ salt ++ executor)` (see
//!    [`gateless_primitives::digest`]), once, inside the commit window.
//!    An executor whose node cannot reach a verdict submits [`Call::abstain`] instead, with the
//!    cause (see **Verdicts and abstentions** below).
//! 2. **Reveal.** Each executor that committed submits [`Call::reveal`] with its output (every
//!    output the model declares, or the typed error it ran into) and the salt. The outputs must fit
//!    the round's [`ExpectedOutputs`] (the declared outputs, with the symbols the job's inputs
//!    bound fixed to their sizes). The chain computes the digest itself from the output under the
//!    model's determinism class; the reveal must match the commitment.
//! 3. **Tally**, when every executor has revealed or abstained, or when all that committed have
//!    revealed after the commit window, or otherwise in the first block after the reveal window (by
//!    `on_initialize`, which tallies the rounds due by then within [`Config::MaxTallyWeight`],
//!    oldest deadline first, and leaves the rest for the next block; a round that ends earlier
//!    leaves the queue of due rounds as it ends). A round completed by a single reveal is tallied
//!    in that reveal; one completed by a batch of reveals ([`Call::reveal_batch`]) has its reveal
//!    window closed at once and is tallied with the block's spare weight (`on_idle`), or else by
//!    the next block's `on_initialize`, so that a batch's weight does not carry a worst-case tally
//!    per item. Reveals are grouped by agreement: equal digests, or, under a tolerance, outputs
//!    within it element by element. The largest group (the first in committee order on ties)
//!    decides if it has at least `ceil(Quorum × committee)` members; an error revealed by a quorum
//!    is an agreed result too. Then the penalties of [`Params`] apply (see **Penalties**):
//!    revealers outside the group lose `dissent_slash` of their bond, executors that committed and
//!    did not reveal `withhold_slash`, those that neither committed nor abstained `no_show_slash`;
//!    and the jobs pallet pays and stores the result ([`JobSettlement::finalize`]). If the job's
//!    model was banned or rejected meanwhile ([`JobSettlement::model_withdrawn`]), the round ends
//!    there instead: the job fails with [`FailureReason::ModelWithdrawn`], its fee returns in full,
//!    and nobody is paid, slashed or counted.
//! 4. **Escalation.** Without a quorum, withholders and no-shows are still slashed, but no revealer
//!    is (nothing says who was right); the jobs pallet draws a fresh committee of
//!    `2 × committee + 1` validators (at most [`Config::MaxCommittee`]) that have not served on the
//!    job at the end of the next block, from that block's randomness, and opens the new round then.
//!    After [`Config::MaxEscalations`] escalations, or when too few fresh validators are free, the
//!    job fails with a full refund ([`JobSettlement::fail`]).
//!
//! ## Penalties
//!
//! Honesty is each executor's best reply, whatever it sees of the others. Outputs stay hidden
//! until every executor has committed or abstained (or the commit window closed), so an executor
//! chooses to abstain or commit knowing nothing of them. Once reveals are in the pool it can see
//! that its own output will be outvoted; revealing it costs `dissent_slash`, withholding it costs
//! `withhold_slash`, which is never less ([`VerificationParams::are_valid`]), and withholding also
//! stops being a way to force an escalation for free (two withholders in a committee of five used
//! to cost 0.1 % of a bond each). Governance ([`Config::AdminOrigin`]) sets the three shares with
//! [`Call::set_params`]: each above zero and at most [`Config::MaxSlash`], and `withhold_slash`
//! at least `dissent_slash`. Abstentions (below) are not penalised: they are counted.
//!
//! ## Verdicts and abstentions
//!
//! Only outcomes that every honest validator reaches from the model and the input alone are
//! verdicts, committed and revealed: an output, or a deterministic error (`BadInput`,
//! `NonFiniteOutput`, `OutputTooLarge`, `BadModel`, `SignatureMismatch`). Outcomes that depend on
//! the executor's node ([`Abstention`]: its time or memory limit, a crashed inference worker, model
//! bytes it could not get, a model its own attestation found too large) are **abstentions**: the
//! executor submits [`Call::abstain`] inside the commit window instead of a commitment. An
//! abstainer is neither paid nor slashed, and its `abstained` counter grows, so a validator that
//! always abstains is visible and can be chilled by governance. Reveals open early once every
//! executor has committed or abstained. The quorum stays `ceil(Quorum × committee)` of the whole
//! committee: abstentions count against it, so a committee whose verdicts are too few escalates,
//! then fails with a refund, as without a quorum.
//!
//! One abstention ends a round differently: [`Abstention::InputUnavailable`], an input given by
//! content that no node provided. When a round has no quorum of verdicts and at least the quorum
//! of its committee reported the inputs unavailable, the job does not escalate (the bytes are
//! missing for everyone): it ends through [`JobSettlement::inputs_unavailable`], which pays the
//! reporters and fails the job (see the jobs pallet for the charges).
//!
//! ## Outputs by content and disputes
//!
//! An executor reveals every output inline when none holds more than
//! [`Config::MaxInlineOutputBytes`]; otherwise the larger ones stay with it (its node keeps them
//! as content and provides them) and the reveal names them by hash, with the root of the Merkle
//! tree over the outputs' leaves ([`InferenceOutput::Content`]; where each output sits is checked:
//! [`Error::OutputPlacement`]). The chain cannot compare such outputs element by element, so the
//! tally, under a tolerance, takes the largest group of equal digests as the **reference** and,
//! if some reveals by content differ from it, opens a **dispute** of
//! [`Config::DisputeWindow`] blocks instead of deciding ([`Event::DisputeOpened`]). Any executor
//! of the round then submits [`Call::settle`] with a proof ([`DisputeProof`]) that a disputed
//! digest agrees with the reference's (differing only in a few leaves, revealed, each within the
//! tolerance), disagrees (one leaf beyond it), or is undecided (too many leaves differ to compare
//! on chain). The round is tallied when every disputed digest is settled as agreeing or
//! disagreeing, or when the window closes: reveals proven to agree count with the reference,
//! undecided ones are neither paid nor slashed (counted as abstentions), and those that nobody
//! proved anything of, or proven to disagree, are dissenters. An honest executor whose output
//! rounds differently in a few leaves proves its agreement itself (its offchain worker fetches the
//! reference's output and builds the proof through the node); the reference's executor proves the
//! disagreement of outputs that claim to be undecided, when it finds a leaf beyond the tolerance.
//!
//! Executors do not act by hand: their nodes' offchain workers run the model through the node's
//! inference engine, commit, keep output and salt in persistent offchain storage and reveal (the
//! runtime's `offchain` module composes this pallet with the jobs pallet and the registry).
//!
//! **Who may commit and reveal.** Both calls are authorized transactions
//! (`#[pallet::authorize]`): they carry the executor's account and a signature by its inference
//! session key ([`Config::Keys`]) over `("gateless/commit", job, round, executor, commitment)` or
//! `("gateless/reveal", job, round, executor, output, salt)`. The transaction pool runs the same
//! checks as the call, so a stranger's commit, a late or duplicate one, a bad signature or a
//! reveal that does not match its commitment is refused before it reaches a block, with
//! `InvalidTransaction::Custom(code)`, `code` being the index of the [`Error`] variant. Executors
//! pay no fee for them.
//!
//! **Batches.** An executor's offchain worker sends all the commitments of a block as one
//! [`Call::commit_batch`] and all its reveals as one [`Call::reveal_batch`] (up to
//! [`Config::MaxDutyBatch`] items each, each item naming its job and round), under one signature
//! over `("gateless/commit-batch", executor, items)` or `("gateless/reveal-batch", executor,
//! items)`. The pool takes a batch whose signature is right while at least one item passes the
//! checks of the single call; at dispatch each item is applied or refused alone
//! ([`Event::DutyRefused`]), so that a stale or duplicate item does not cost the executor the
//! rest of its duty. The weight is linear in the items (and, for reveals, their bytes).
//!
//! ## Calls
//!
//! - [`Call::commit`] (authorized: an executor of the job's current round): errors
//!   [`Error::NoRound`], [`Error::NotExecutor`], [`Error::NoInferenceKey`],
//!   [`Error::BadSignature`], [`Error::CommitWindowClosed`], [`Error::AlreadyCommitted`],
//!   [`Error::AlreadyAbstained`]; event [`Event::Committed`].
//! - [`Call::reveal`] (authorized: an executor that committed): errors [`Error::NoRound`],
//!   [`Error::NotExecutor`], [`Error::NoInferenceKey`], [`Error::BadSignature`],
//!   [`Error::NotCommitted`], [`Error::AlreadyRevealed`], [`Error::RevealWindowNotOpen`],
//!   [`Error::RevealWindowClosed`], [`Error::OutputMismatch`], [`Error::OutputPlacement`],
//!   [`Error::CommitmentMismatch`]; events [`Event::Revealed`], then, if it completes the round,
//!   those of the tally: [`Event::RoundDecided`] or [`Event::NoQuorum`] and
//!   [`Event::ExecutorSlashed`], or [`Event::DisputeOpened`] (an escalated round's
//!   [`Event::RoundOpened`] comes when its committee is drawn).
//! - [`Call::abstain`] (authorized: an executor of the job's current round that has not committed):
//!   errors [`Error::NoRound`], [`Error::NotExecutor`], [`Error::NoInferenceKey`],
//!   [`Error::BadSignature`], [`Error::CommitWindowClosed`], [`Error::AlreadyCommitted`],
//!   [`Error::AlreadyAbstained`]; event [`Event::Abstained`], then, if every executor abstained,
//!   the tally's.
//! - [`Call::commit_batch`], [`Call::reveal_batch`] (authorized, see **Batches**): errors
//!   [`Error::EmptyBatch`], [`Error::NoInferenceKey`], [`Error::BadSignature`]; each item's
//!   errors are those of [`Call::commit`] or [`Call::reveal`], in [`Event::DutyRefused`]; events
//!   [`Event::Committed`], [`Event::Revealed`] per item applied.
//! - [`Call::settle`] (authorized: an executor of the job's current round, over
//!   `("gateless/settle", job, round, executor, other, proof)`): errors [`Error::NoRound`],
//!   [`Error::NotExecutor`], [`Error::NoInferenceKey`], [`Error::BadSignature`],
//!   [`Error::NoDispute`], [`Error::DisputeClosed`], [`Error::NotDisputed`],
//!   [`Error::InvalidProof`], [`Error::NothingNew`]; event [`Event::DisputeSettled`], then, if it
//!   concludes the dispute, the tally's.
//! - [`Call::set_params`] ([`Config::AdminOrigin`]): error [`Error::InvalidParams`]; event
//!   [`Event::ParamsSet`].
//!
//! Rounds are opened by the jobs pallet through [`JobVerifier::open_round`], with event
//! [`Event::RoundOpened`] and error [`Error::BadCommittee`] (an empty committee, or one larger
//! than [`Config::MaxCommittee`]).

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
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
mod types;
pub mod weights;

use alloc::vec::Vec;
use codec::Encode;
use frame_support::{
	dispatch::PostDispatchInfo,
	pallet_prelude::*,
	traits::{tokens::Balance as BalanceTrait, Defensive, DefensiveTruncateFrom},
};
use frame_system::pallet_prelude::*;
use gateless_primitives::{
	crypto::inference::Signature as InferenceSignature,
	digest::{agreement, commitment as commitment_of, output_digest, Agreement},
	dispute::{judge, DisputeProof, Settlement},
	job::{
		Abstention, AgreedOutcome, ExpectedOutputs, FailureReason, InferenceOutput, JobId,
		RoundProgress, MAX_INLINE_BYTES,
	},
	model::Determinism,
	traits::{
		InferenceKeys, JobSettlement, JobVerifier, SlashAmount, SlashReason, Slashing,
		ValidatorRecords,
	},
};
use sp_core::H256;
use sp_runtime::{
	traits::{One, Saturating, Zero},
	transaction_validity::{InvalidTransaction, TransactionPriority, ValidTransaction},
	Perbill, RuntimeAppPublic, SaturatedConversion,
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
		/// The balance type of bonds, as the staking pallet slashes them.
		type Balance: BalanceTrait;

		/// Slashes dissenters and no-shows and keeps their records.
		type Staking: Slashing<Self::AccountId, Self::Balance>
			+ ValidatorRecords<Self::AccountId, Self::Balance>;

		/// Pays, escalates and fails jobs.
		type Jobs: JobSettlement<Self::AccountId>;

		/// The inference keys that sign executors' commitments and reveals.
		type Keys: InferenceKeys<Self::AccountId>;

		/// Blocks during which executors may commit, from the round's opening block.
		#[pallet::constant]
		type CommitWindow: Get<BlockNumberFor<Self>>;

		/// Blocks during which executors may reveal, after the commit window.
		#[pallet::constant]
		type RevealWindow: Get<BlockNumberFor<Self>>;

		/// Blocks during which proofs settle a dispute over outputs by content, from the tally
		/// that opened it.
		#[pallet::constant]
		type DisputeWindow: Get<BlockNumberFor<Self>>;

		/// The most bytes an output revealed inline holds: larger ones are revealed by content.
		#[pallet::constant]
		type MaxInlineOutputBytes: Get<u32>;

		/// The share of a committee that must agree (rounded up).
		#[pallet::constant]
		type Quorum: Get<Perbill>;

		/// How many times a job without a quorum gets a fresh, larger committee.
		#[pallet::constant]
		type MaxEscalations: Get<u8>;

		/// The largest committee, which escalations do not grow beyond.
		#[pallet::constant]
		type MaxCommittee: Get<u32>;

		/// The penalties until governance sets others with [`Call::set_params`].
		type DefaultParams: Get<VerificationParams>;

		/// The largest share of its bond that any one penalty may take: the upper bound of
		/// [`Call::set_params`].
		#[pallet::constant]
		type MaxSlash: Get<Perbill>;

		/// Who may set the penalties.
		type AdminOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// The most weight `on_initialize` spends on tallying the rounds whose deadline passed;
		/// at least one tally of the largest committee. The rounds it leaves wait for the next
		/// block. Set it well above the tallies the chain's job rate can make due per block.
		#[pallet::constant]
		type MaxTallyWeight: Get<Weight>;

		/// The priority of executors' commits and reveals in the transaction pool.
		#[pallet::constant]
		type DutyPriority: Get<TransactionPriority>;

		/// The most items in one [`Call::commit_batch`] or [`Call::reveal_batch`].
		#[pallet::constant]
		type MaxDutyBatch: Get<u32>;

		/// Weights of the calls and hooks, from this pallet's benchmarks.
		type WeightInfo: WeightInfo;

		/// Opens rounds for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self>;
	}

	/// The current round of each job under verification.
	#[pallet::storage]
	pub type Rounds<T: Config> = StorageMap<_, Twox64Concat, JobId, RoundOf<T>>;

	/// Executors' commitments in the current round of a job.
	#[pallet::storage]
	pub type Commitments<T: Config> =
		StorageDoubleMap<_, Twox64Concat, JobId, Blake2_128Concat, T::AccountId, H256>;

	/// Executors' reveals in the current round of a job.
	#[pallet::storage]
	pub type Reveals<T: Config> =
		StorageDoubleMap<_, Twox64Concat, JobId, Blake2_128Concat, T::AccountId, RevealRecord>;

	/// Executors' abstentions in the current round of a job, with their cause.
	#[pallet::storage]
	pub type Abstentions<T: Config> =
		StorageDoubleMap<_, Twox64Concat, JobId, Blake2_128Concat, T::AccountId, Abstention>;

	/// Rounds waiting for proofs before their tally (see the module docs).
	#[pallet::storage]
	pub type Disputes<T: Config> = StorageMap<_, Twox64Concat, JobId, DisputeOf<T>>;

	/// The running rounds by the block their deadline has passed in (the block after the reveal
	/// window, or after a dispute's window): `(due block, job) -> round`, for `on_initialize` to
	/// tally those nobody completed. A round leaves it when it ends.
	#[pallet::storage]
	pub type DueRounds<T: Config> =
		StorageDoubleMap<_, Twox64Concat, BlockNumberFor<T>, Twox64Concat, JobId, u8>;

	/// The penalties of a tally (see [`VerificationParams`]).
	#[pallet::storage]
	pub type Params<T: Config> = StorageValue<_, VerificationParams, ValueQuery, T::DefaultParams>;

	/// The first block whose due rounds `on_initialize` may not have tallied yet.
	#[pallet::storage]
	pub type TallyCursor<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A round opened: commitments until `commit_until`, reveals until `reveal_until`.
		RoundOpened {
			job: JobId,
			round: u8,
			commit_until: BlockNumberFor<T>,
			reveal_until: BlockNumberFor<T>,
		},
		/// An executor committed.
		Committed { job: JobId, executor: T::AccountId },
		/// An executor revealed an output with this digest.
		Revealed { job: JobId, executor: T::AccountId, digest: H256 },
		/// An executor's node could not reach a verdict, for `cause`: neither paid nor slashed.
		Abstained { job: JobId, executor: T::AccountId, cause: Abstention },
		/// A quorum agreed on the output with `digest`.
		RoundDecided {
			job: JobId,
			round: u8,
			digest: H256,
			agreeing: Vec<T::AccountId>,
			dissenters: Vec<T::AccountId>,
			/// Executors that committed and did not reveal.
			withheld: Vec<T::AccountId>,
			/// Executors that neither committed nor abstained.
			no_shows: Vec<T::AccountId>,
			/// Revealers whose outputs differ from the decided one in too many leaves to compare
			/// on chain: neither paid nor slashed.
			undecided: Vec<T::AccountId>,
		},
		/// Reveals by content with these digests differ from `reference`'s: the tally waits for
		/// proofs until `until`.
		DisputeOpened {
			job: JobId,
			round: u8,
			reference: T::AccountId,
			disputed: Vec<H256>,
			until: BlockNumberFor<T>,
		},
		/// A proof settled how the reveals with `digest` compare with the reference's.
		DisputeSettled { job: JobId, digest: H256, settlement: Settlement, by: T::AccountId },
		/// No group reached the quorum; the job escalates or fails.
		NoQuorum { job: JobId, round: u8, withheld: Vec<T::AccountId>, no_shows: Vec<T::AccountId> },
		/// An executor was slashed.
		ExecutorSlashed {
			job: JobId,
			executor: T::AccountId,
			reason: SlashReason,
			amount: T::Balance,
		},
		/// An item of a batch of duties was refused, for `error` (the batch's other items stand).
		DutyRefused { job: JobId, executor: T::AccountId, error: DispatchError },
		/// Governance set the penalties.
		ParamsSet { params: VerificationParams },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The job has no round under way (unknown, not yet assigned, or ended), or, for an item
		/// of a batch, not the round the item names.
		NoRound,
		/// The account is not an executor of the job's current round.
		NotExecutor,
		/// The executor has no inference key (session keys not set).
		NoInferenceKey,
		/// The signature is not the executor's inference key's over this call.
		BadSignature,
		/// The commit window of the round has closed.
		CommitWindowClosed,
		/// The executor has already committed in this round.
		AlreadyCommitted,
		/// The executor has not committed in this round, so it cannot reveal.
		NotCommitted,
		/// The executor has already revealed in this round.
		AlreadyRevealed,
		/// Reveals open when every executor has committed or the commit window has closed.
		RevealWindowNotOpen,
		/// The reveal window of the round has closed.
		RevealWindowClosed,
		/// The revealed tensors do not fit the model's declared outputs (count, dtype, shape, the
		/// symbols the job's inputs bound).
		OutputMismatch,
		/// The revealed output and salt do not match the commitment.
		CommitmentMismatch,
		/// The committee is larger than `MaxCommittee` or empty.
		BadCommittee,
		/// The executor has already abstained in this round.
		AlreadyAbstained,
		/// An output is not where its size puts it: all inline when none is larger than
		/// `MaxInlineOutputBytes`, else exactly the larger ones by content.
		OutputPlacement,
		/// The job's round has no dispute under way.
		NoDispute,
		/// The dispute's window has closed.
		DisputeClosed,
		/// The other executor's reveal is not one of the disputed ones.
		NotDisputed,
		/// The proof does not check out against the two reveals.
		InvalidProof,
		/// The proof settles nothing that is not settled already.
		NothingNew,
		/// A batch of duties has no item.
		EmptyBatch,
		/// A penalty is zero or above `MaxSlash`, or withholding would cost less than dissenting.
		InvalidParams,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Self::tally_due_rounds(now, T::MaxTallyWeight::get())
		}

		/// Tallies, with the block's spare weight, the rounds that are due at the next block: the
		/// rounds that batched reveals completed in this block (see [`Call::reveal_batch`]), and
		/// those whose reveal window ends with this block. What does not fit waits for
		/// `on_initialize`.
		fn on_idle(now: BlockNumberFor<T>, remaining: Weight) -> Weight {
			let least = T::WeightInfo::on_initialize_idle()
				.saturating_add(T::DbWeight::get().reads_writes(2, 1));
			if !least.all_lte(remaining) {
				return Weight::zero();
			}
			Self::tally_due_rounds(now.saturating_add(One::one()), remaining)
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}

		fn integrity_test() {
			assert!(!T::CommitWindow::get().is_zero(), "CommitWindow must not be zero");
			assert!(!T::RevealWindow::get().is_zero(), "RevealWindow must not be zero");
			assert!(!T::DisputeWindow::get().is_zero(), "DisputeWindow must not be zero");
			assert!(T::Quorum::get() > Perbill::from_percent(50), "Quorum must exceed half");
			assert!(T::MaxCommittee::get() > 0, "MaxCommittee must not be zero");
			assert!(
				T::DefaultParams::get().are_valid(T::MaxSlash::get()),
				"DefaultParams must be within their bounds"
			);
			let one_tally = T::WeightInfo::on_initialize_idle()
				.saturating_add(Self::worst_tally_weight())
				.saturating_add(T::DbWeight::get().reads_writes(2, 1));
			assert!(
				one_tally.all_lte(T::MaxTallyWeight::get()),
				"MaxTallyWeight must fit a tally of the largest committee"
			);
		}
	}

	#[pallet::call(weight(<T as Config>::WeightInfo))]
	impl<T: Config> Pallet<T> {
		/// Commits an executor to an output of `job` without revealing it.
		///
		/// Origin: an authorized duty of the executor's node (`#[pallet::authorize]`, see the
		/// module docs), not signed: `signature` is the executor's inference key's over
		/// `("gateless/commit", job, round, executor, commitment)`. Errors: [`Error::NoRound`],
		/// [`Error::NotExecutor`], [`Error::NoInferenceKey`], [`Error::BadSignature`],
		/// [`Error::CommitWindowClosed`], [`Error::AlreadyCommitted`], [`Error::AlreadyAbstained`]
		/// (the pool refuses the same with `InvalidTransaction::Custom` and the error's index).
		/// Events: [`Event::Committed`].
		#[pallet::call_index(0)]
		#[pallet::weight((T::WeightInfo::commit(), DispatchClass::Operational))]
		#[pallet::authorize(Pallet::<T>::authorize_commit)]
		#[pallet::weight_of_authorize(T::WeightInfo::authorize_commit())]
		pub fn commit(
			origin: OriginFor<T>,
			job: JobId,
			executor: T::AccountId,
			commitment: H256,
			signature: InferenceSignature,
		) -> DispatchResult {
			ensure_authorized(origin)?;
			let round = Self::check_commit(job, &executor, &commitment, &signature)?;
			Self::apply_commit(job, &executor, commitment, round);
			Ok(())
		}

		/// Reveals an executor's output (or error) and salt for `job`; tallies the round if it
		/// completes it.
		///
		/// Origin: an authorized duty of the executor's node (`#[pallet::authorize]`, see the
		/// module docs), not signed: `signature` is the executor's inference key's over
		/// `("gateless/reveal", job, round, executor, output, salt)`. Errors: [`Error::NoRound`],
		/// [`Error::NotExecutor`], [`Error::NoInferenceKey`], [`Error::BadSignature`],
		/// [`Error::NotCommitted`], [`Error::AlreadyRevealed`], [`Error::RevealWindowNotOpen`],
		/// [`Error::RevealWindowClosed`], [`Error::OutputMismatch`], [`Error::OutputPlacement`],
		/// [`Error::CommitmentMismatch`] (the pool refuses the same with
		/// `InvalidTransaction::Custom` and the error's index). Events: [`Event::Revealed`] and, if
		/// the round completes, the tally's: [`Event::ExecutorSlashed`] for each executor slashed
		/// and [`Event::RoundDecided`] or [`Event::NoQuorum`], or [`Event::DisputeOpened`] when
		/// reveals by content must be proven first.
		#[pallet::call_index(1)]
		#[pallet::weight((
			T::WeightInfo::reveal(output_len(output))
				.saturating_add(T::WeightInfo::tally(T::MaxCommittee::get(), output_len(output))),
			DispatchClass::Operational,
		))]
		#[pallet::authorize(Pallet::<T>::authorize_reveal)]
		#[pallet::weight_of_authorize(T::WeightInfo::authorize_reveal(output_len(output)))]
		pub fn reveal(
			origin: OriginFor<T>,
			job: JobId,
			executor: T::AccountId,
			output: InferenceOutput,
			salt: [u8; 32],
			signature: InferenceSignature,
		) -> DispatchResultWithPostInfo {
			ensure_authorized(origin)?;
			let bytes = output_len(&output);
			let (round, digest) = Self::check_reveal(job, &executor, &output, &salt, &signature)?;
			let mut weight = T::WeightInfo::reveal(bytes);
			if let Some(complete) = Self::apply_reveal(job, &executor, output, digest, round) {
				weight.saturating_accrue(Self::tally(job, complete));
			}
			Ok(PostDispatchInfo { actual_weight: Some(weight), pays_fee: Pays::No })
		}

		/// Records that an executor's node cannot reach a verdict on `job`, for `cause`, instead
		/// of a commitment; tallies the round if every executor abstained.
		///
		/// Origin: an authorized duty of the executor's node (`#[pallet::authorize]`, see the
		/// module docs), not signed: `signature` is the executor's inference key's over
		/// `("gateless/abstain", job, round, executor, cause)`. Errors: [`Error::NoRound`],
		/// [`Error::NotExecutor`], [`Error::NoInferenceKey`], [`Error::BadSignature`],
		/// [`Error::CommitWindowClosed`], [`Error::AlreadyCommitted`], [`Error::AlreadyAbstained`]
		/// (the pool refuses the same with `InvalidTransaction::Custom` and the error's index).
		/// Events: [`Event::Abstained`] and, if every executor abstained, the tally's
		/// [`Event::NoQuorum`].
		#[pallet::call_index(2)]
		#[pallet::weight((
			T::WeightInfo::abstain().saturating_add(T::WeightInfo::tally(T::MaxCommittee::get(), 0)),
			DispatchClass::Operational,
		))]
		#[pallet::authorize(Pallet::<T>::authorize_abstain)]
		#[pallet::weight_of_authorize(T::WeightInfo::authorize_abstain())]
		pub fn abstain(
			origin: OriginFor<T>,
			job: JobId,
			executor: T::AccountId,
			cause: Abstention,
			signature: InferenceSignature,
		) -> DispatchResultWithPostInfo {
			ensure_authorized(origin)?;
			let mut round = Self::check_abstain(job, &executor, &cause, &signature)?;
			Abstentions::<T>::insert(job, &executor, cause);
			round.abstained = round.abstained.saturating_add(1);
			Self::deposit_event(Event::Abstained { job, executor, cause });
			let mut weight = T::WeightInfo::abstain();
			// Reveals cannot have started before everyone answered: the round is complete here
			// only if nobody committed.
			if round.committed == 0 && round.everyone_answered() {
				weight.saturating_accrue(Self::tally(job, round));
			} else {
				Rounds::<T>::insert(job, round);
			}
			Ok(PostDispatchInfo { actual_weight: Some(weight), pays_fee: Pays::No })
		}

		/// Settles, with `proof`, how `other`'s reveal compares with the reference's in `job`'s
		/// dispute (see the module docs); tallies the round if that concludes the dispute.
		///
		/// Origin: an authorized duty of an executor's node (`#[pallet::authorize]`), not signed:
		/// `executor` is an executor of the round and `signature` its inference key's over
		/// `("gateless/settle", job, round, executor, other, proof)`. Errors: [`Error::NoRound`],
		/// [`Error::NotExecutor`], [`Error::NoInferenceKey`], [`Error::BadSignature`],
		/// [`Error::NoDispute`], [`Error::DisputeClosed`], [`Error::NotDisputed`],
		/// [`Error::InvalidProof`], [`Error::NothingNew`] (the pool refuses the same with
		/// `InvalidTransaction::Custom` and the error's index). Events: [`Event::DisputeSettled`]
		/// and, if the dispute is concluded, the tally's: [`Event::ExecutorSlashed`] for each
		/// executor slashed and [`Event::RoundDecided`] or [`Event::NoQuorum`].
		#[pallet::call_index(3)]
		#[pallet::weight((
			T::WeightInfo::settle(proof_leaves(proof))
				.saturating_add(T::WeightInfo::tally(T::MaxCommittee::get(), MAX_INLINE_BYTES)),
			DispatchClass::Operational,
		))]
		#[pallet::authorize(Pallet::<T>::authorize_settle)]
		#[pallet::weight_of_authorize(T::WeightInfo::authorize_settle(proof_leaves(proof)))]
		pub fn settle(
			origin: OriginFor<T>,
			job: JobId,
			executor: T::AccountId,
			other: T::AccountId,
			proof: DisputeProof,
			signature: InferenceSignature,
		) -> DispatchResultWithPostInfo {
			ensure_authorized(origin)?;
			let (round, mut dispute, digest, settlement) =
				Self::check_settle(job, &executor, &other, &proof, &signature)?;
			for (pending, settled) in dispute.pending.iter_mut() {
				if *pending == digest {
					*settled = Some(settlement);
				}
			}
			Self::deposit_event(Event::DisputeSettled { job, digest, settlement, by: executor });
			let mut weight = T::WeightInfo::settle(proof_leaves(&proof));
			let conclusive = dispute.conclusive();
			Disputes::<T>::insert(job, dispute);
			if conclusive {
				weight.saturating_accrue(Self::tally(job, round));
			}
			Ok(PostDispatchInfo { actual_weight: Some(weight), pays_fee: Pays::No })
		}

		/// Commits an executor to its outputs of several jobs at once: each item as
		/// [`Call::commit`] would, under one signature.
		///
		/// Origin: an authorized duty of the executor's node (`#[pallet::authorize]`, see the
		/// module docs), not signed: `signature` is the executor's inference key's over
		/// `("gateless/commit-batch", executor, items)`, and the pool takes the batch while at
		/// least one item passes a commit's checks (each item names the round it commits in). An
		/// item that does not pass (its round moved on, an earlier item of the batch committed to
		/// the same job, ...) is refused alone; the others are applied. Errors:
		/// [`Error::EmptyBatch`], [`Error::NoInferenceKey`], [`Error::BadSignature`] (and, in the
		/// pool, the first item's error when no item passes); an item's own error, one of
		/// [`Call::commit`]'s, goes in its [`Event::DutyRefused`]. Events: [`Event::Committed`] for
		/// each item applied, [`Event::DutyRefused`] for each item refused.
		#[pallet::call_index(4)]
		#[pallet::weight((T::WeightInfo::commit_batch(items.len() as u32), DispatchClass::Operational))]
		#[pallet::authorize(Pallet::<T>::authorize_commit_batch)]
		#[pallet::weight_of_authorize(T::WeightInfo::authorize_commit_batch(items.len() as u32))]
		pub fn commit_batch(
			origin: OriginFor<T>,
			executor: T::AccountId,
			items: BoundedVec<CommitItem, T::MaxDutyBatch>,
			signature: InferenceSignature,
		) -> DispatchResultWithPostInfo {
			ensure_authorized(origin)?;
			ensure!(!items.is_empty(), Error::<T>::EmptyBatch);
			let payload = Self::commit_batch_payload(&executor, &items);
			Self::check_signature(&executor, &payload, &signature)?;
			for item in items {
				match Self::check_commit_item(&executor, &item) {
					Ok(round) => Self::apply_commit(item.job, &executor, item.commitment, round),
					Err(error) => Self::refuse(item.job, &executor, error),
				}
			}
			Ok(Pays::No.into())
		}

		/// Reveals an executor's outputs (or errors) and salts in several jobs at once: each item
		/// as [`Call::reveal`] would, under one signature. A round that an item completes is not
		/// tallied here but at the end of the block, or at the start of the next
		/// (`on_idle`, else `on_initialize`): its reveal window closes at once.
		///
		/// Origin: an authorized duty of the executor's node (`#[pallet::authorize]`, see the
		/// module docs), not signed: `signature` is the executor's inference key's over
		/// `("gateless/reveal-batch", executor, items)`, and the pool takes the batch while at
		/// least one item passes a reveal's checks. An item that does not pass is refused alone;
		/// the others are applied. Errors: [`Error::EmptyBatch`], [`Error::NoInferenceKey`],
		/// [`Error::BadSignature`] (and, in the pool, the first item's error when no item passes);
		/// an item's own error, one of [`Call::reveal`]'s, goes in its [`Event::DutyRefused`].
		/// Events: [`Event::Revealed`] for each item applied, [`Event::DutyRefused`] for each item
		/// refused (the tallies of the rounds it completes come with the hooks).
		#[pallet::call_index(5)]
		#[pallet::weight((Pallet::<T>::reveal_batch_weight(items), DispatchClass::Operational))]
		#[pallet::authorize(Pallet::<T>::authorize_reveal_batch)]
		#[pallet::weight_of_authorize(Pallet::<T>::authorize_reveal_batch_weight(items))]
		pub fn reveal_batch(
			origin: OriginFor<T>,
			executor: T::AccountId,
			items: BoundedVec<RevealItem, T::MaxDutyBatch>,
			signature: InferenceSignature,
		) -> DispatchResultWithPostInfo {
			ensure_authorized(origin)?;
			ensure!(!items.is_empty(), Error::<T>::EmptyBatch);
			let payload = Self::reveal_batch_payload(&executor, &items);
			Self::check_signature(&executor, &payload, &signature)?;
			for item in items {
				match Self::check_reveal_item(&executor, &item) {
					Ok((round, digest)) => {
						if let Some(complete) =
							Self::apply_reveal(item.job, &executor, item.output, digest, round)
						{
							Self::tally_soon(item.job, complete);
						}
					},
					Err(error) => Self::refuse(item.job, &executor, error),
				}
			}
			Ok(Pays::No.into())
		}

		/// Sets the penalties of tallies from the next one on.
		///
		/// Origin: [`Config::AdminOrigin`]. Errors: [`Error::InvalidParams`] when a share is zero
		/// or above [`Config::MaxSlash`], or `withhold_slash` is below `dissent_slash`. Events:
		/// [`Event::ParamsSet`].
		#[pallet::call_index(6)]
		pub fn set_params(origin: OriginFor<T>, params: VerificationParams) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			ensure!(params.are_valid(T::MaxSlash::get()), Error::<T>::InvalidParams);
			Params::<T>::put(params);
			Self::deposit_event(Event::ParamsSet { params });
			Ok(())
		}
	}
}

/// The leaves a proof compares element by element, what its weight depends on (each at most
/// [`gateless_primitives::digest::LEAF_BYTES`] in each output, as benchmarked); an undecided
/// proof compares none, it only checks leaf hashes.
fn proof_leaves(proof: &DisputeProof) -> u32 {
	match proof {
		DisputeProof::Agree { leaves, .. } => leaves.len().saturated_into(),
		DisputeProof::Disagree { .. } => 1,
		DisputeProof::Undecided { .. } => 0,
	}
}

/// The element bytes of a revealed output (all its tensors), the size its weight depends on.
fn output_len(output: &InferenceOutput) -> u32 {
	output.data_len().saturated_into()
}

/// `batch`, a batch's weight benchmarked with the smallest outputs, plus what each item's output
/// bytes add to `single`, the weight of one reveal of that many bytes.
fn with_output_bytes(batch: Weight, items: &[RevealItem], single: fn(u32) -> Weight) -> Weight {
	let smallest = single(0);
	items.iter().fold(batch, |weight, item| {
		weight.saturating_add(single(output_len(&item.output)).saturating_sub(smallest))
	})
}

/// Opens rounds for the benchmarks, in a runtime-specific way.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<T: Config> {
	/// Creates a job whose current round has exactly `committee` as executors (each with an
	/// inference key from [`BenchmarkHelper::inference_key`]), compared under `determinism`,
	/// whose model outputs one f32 tensor of `output_len` values; returns its id.
	fn open_job(committee: Vec<T::AccountId>, determinism: Determinism, output_len: u32) -> JobId;
	/// Gives `who` a fresh inference key in the keystore and returns it.
	fn inference_key(who: &T::AccountId) -> gateless_primitives::crypto::InferenceId;
	/// Signs `payload` with `who`'s inference key.
	fn sign(who: &T::AccountId, payload: &[u8]) -> InferenceSignature;
	/// The `index`th executor account of the benchmarks.
	fn executor(index: u32) -> T::AccountId;
}

impl<T: Config> Pallet<T> {
	/// What a commit's signature signs.
	pub fn commit_payload(
		job: JobId,
		round: u8,
		executor: &T::AccountId,
		commitment: &H256,
	) -> Vec<u8> {
		(b"gateless/commit", job, round, executor, commitment).encode()
	}

	/// What a settlement's signature signs.
	pub fn settle_payload(
		job: JobId,
		round: u8,
		executor: &T::AccountId,
		other: &T::AccountId,
		proof: &DisputeProof,
	) -> Vec<u8> {
		(b"gateless/settle", job, round, executor, other, proof).encode()
	}

	/// What a reveal's signature signs.
	pub fn reveal_payload(
		job: JobId,
		round: u8,
		executor: &T::AccountId,
		output: &InferenceOutput,
		salt: &[u8; 32],
	) -> Vec<u8> {
		(b"gateless/reveal", job, round, executor, output, salt).encode()
	}

	/// What the signature of a batch of commits signs.
	pub fn commit_batch_payload(executor: &T::AccountId, items: &[CommitItem]) -> Vec<u8> {
		(b"gateless/commit-batch", executor, items).encode()
	}

	/// What the signature of a batch of reveals signs.
	pub fn reveal_batch_payload(executor: &T::AccountId, items: &[RevealItem]) -> Vec<u8> {
		(b"gateless/reveal-batch", executor, items).encode()
	}

	/// What an abstention's signature signs.
	pub fn abstain_payload(
		job: JobId,
		round: u8,
		executor: &T::AccountId,
		cause: &Abstention,
	) -> Vec<u8> {
		(b"gateless/abstain", job, round, executor, cause).encode()
	}

	/// The executors of `job`'s current round and its progress, for the runtime API.
	pub fn round_progress(job: JobId) -> Option<RoundProgress<T::AccountId, BlockNumberFor<T>>> {
		let round = Rounds::<T>::get(job)?;
		let committed = round
			.committee
			.iter()
			.filter(|who| Commitments::<T>::contains_key(job, who))
			.cloned()
			.collect();
		let revealed = round
			.committee
			.iter()
			.filter_map(|who| {
				Reveals::<T>::get(job, who).map(|reveal| (who.clone(), reveal.digest))
			})
			.collect();
		let abstained = round
			.committee
			.iter()
			.filter_map(|who| Abstentions::<T>::get(job, who).map(|cause| (who.clone(), cause)))
			.collect();
		Some(RoundProgress {
			round: round.round,
			committee: round.committee.into_inner(),
			commit_until: round.commit_until,
			reveal_until: round.reveal_until,
			committed,
			revealed,
			abstained,
		})
	}

	/// Whether `round` is `job`'s current round (a validator's node keeps what it did in a round
	/// until it ends).
	pub fn is_current_round(job: JobId, round: u8) -> bool {
		Rounds::<T>::get(job).is_some_and(|current| current.round == round)
	}

	/// What `executor` still has to do at block `now` in the rounds it serves, with each round:
	/// commit (or abstain) where the commit window is open and it has done neither, reveal where
	/// it committed, the reveal window is open and it has not revealed. For validators' nodes:
	/// it reads every open round.
	pub fn duties_of(
		executor: &T::AccountId,
		now: BlockNumberFor<T>,
	) -> Vec<(JobId, RoundOf<T>, RoundDuty)> {
		Rounds::<T>::iter()
			.filter(|(_, round)| round.committee.contains(executor))
			.filter_map(|(job, round)| {
				let duty = if Commitments::<T>::contains_key(job, executor) {
					let revealed = Reveals::<T>::contains_key(job, executor);
					(!revealed && round.reveals_open(&now)).then_some(RoundDuty::Reveal)
				} else {
					let abstained = Abstentions::<T>::contains_key(job, executor);
					(!abstained && round.commits_open(&now)).then_some(RoundDuty::Commit)
				}?;
				Some((job, round, duty))
			})
			.collect()
	}

	/// The proofs `executor` is to send at block `now` in the open disputes of rounds it serves
	/// ([`ProofsDue`]): of its own reveal against the reference's while nothing settles it, and,
	/// as the reference, against each disputed reveal not yet shown to disagree. For validators'
	/// nodes: it reads every open dispute.
	pub fn proofs_due_from(
		executor: &T::AccountId,
		now: BlockNumberFor<T>,
	) -> Vec<ProofsDue<T::AccountId>> {
		Disputes::<T>::iter()
			.filter(|(_, dispute)| now <= dispute.until)
			.filter_map(|(job, dispute)| {
				let round = Rounds::<T>::get(job)?;
				if !round.committee.contains(executor) {
					return None;
				}
				let reference = Reveals::<T>::get(job, &dispute.reference)?;
				let from_reference = *executor == dispute.reference;
				let unsettled = |reveal: &RevealRecord| {
					let settled = dispute.settled(&reveal.digest);
					if from_reference {
						matches!(settled, Some(None | Some(Settlement::Undecided)))
					} else {
						settled == Some(None)
					}
				};
				let others: Vec<(T::AccountId, InferenceOutput)> = round
					.committee
					.iter()
					.filter(|who| from_reference || *who == executor)
					.filter_map(|who| {
						let reveal = Reveals::<T>::get(job, who)?;
						unsettled(&reveal).then(|| (who.clone(), reveal.output))
					})
					.collect();
				(!others.is_empty()).then(|| ProofsDue {
					job,
					round: round.round,
					determinism: round.determinism,
					reference: reference.output,
					from_reference,
					others,
				})
			})
			.collect()
	}

	/// The current round of `job`, if `executor` is in its committee.
	fn round_served_by(job: JobId, executor: &T::AccountId) -> Result<RoundOf<T>, Error<T>> {
		let round = Rounds::<T>::get(job).ok_or(Error::<T>::NoRound)?;
		ensure!(round.committee.contains(executor), Error::<T>::NotExecutor);
		Ok(round)
	}

	/// Whether `executor`'s inference key signed `payload`.
	fn check_signature(
		executor: &T::AccountId,
		payload: &[u8],
		signature: &InferenceSignature,
	) -> Result<(), Error<T>> {
		let key = T::Keys::inference_key(executor).ok_or(Error::<T>::NoInferenceKey)?;
		ensure!(key.verify(&payload, signature), Error::<T>::BadSignature);
		Ok(())
	}

	/// The current round of `job`, if `executor` is in its committee and its inference key signed
	/// the payload `payload(round index)`: the checks that single duties share.
	fn signed_by_executor(
		job: JobId,
		executor: &T::AccountId,
		signature: &InferenceSignature,
		payload: impl FnOnce(u8) -> Vec<u8>,
	) -> Result<RoundOf<T>, Error<T>> {
		let round = Self::round_served_by(job, executor)?;
		Self::check_signature(executor, &payload(round.round), signature)?;
		Ok(round)
	}

	/// Whether `executor` may still commit (or abstain) in `job`'s `round`: inside the commit
	/// window, and only once.
	fn may_commit(job: JobId, executor: &T::AccountId, round: &RoundOf<T>) -> Result<(), Error<T>> {
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(round.commits_open(&now), Error::<T>::CommitWindowClosed);
		ensure!(!Commitments::<T>::contains_key(job, executor), Error::<T>::AlreadyCommitted);
		ensure!(!Abstentions::<T>::contains_key(job, executor), Error::<T>::AlreadyAbstained);
		Ok(())
	}

	/// Whether `executor` may reveal `output` with `salt` in `job`'s `round`: once, inside the
	/// reveal window, fitting the expected outputs and placed by size, and matching its
	/// commitment; returns the output's digest.
	fn may_reveal(
		job: JobId,
		executor: &T::AccountId,
		round: &RoundOf<T>,
		output: &InferenceOutput,
		salt: &[u8; 32],
	) -> Result<H256, Error<T>> {
		let committed = Commitments::<T>::get(job, executor).ok_or(Error::<T>::NotCommitted)?;
		ensure!(!Reveals::<T>::contains_key(job, executor), Error::<T>::AlreadyRevealed);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(round.reveals_started(&now), Error::<T>::RevealWindowNotOpen);
		ensure!(now <= round.reveal_until, Error::<T>::RevealWindowClosed);
		match output {
			InferenceOutput::Tensors(tensors) => round.outputs.check(tensors),
			InferenceOutput::Content { tensors, .. } => round.outputs.check(tensors),
			InferenceOutput::Error(_) => Ok(()),
		}
		.map_err(|_| Error::<T>::OutputMismatch)?;
		ensure!(output.placed_for(T::MaxInlineOutputBytes::get()), Error::<T>::OutputPlacement);
		let digest = output_digest(output, &round.determinism);
		ensure!(
			commitment_of(&digest, salt, executor) == committed,
			Error::<T>::CommitmentMismatch
		);
		Ok(digest)
	}

	/// Everything an item of a batch of commits must satisfy besides the batch's signature;
	/// returns the round. An item naming another round than the job's current one finds no
	/// round.
	fn check_commit_item(
		executor: &T::AccountId,
		item: &CommitItem,
	) -> Result<RoundOf<T>, Error<T>> {
		let round = Self::round_served_by(item.job, executor)?;
		ensure!(round.round == item.round, Error::<T>::NoRound);
		Self::may_commit(item.job, executor, &round)?;
		Ok(round)
	}

	/// Everything an item of a batch of reveals must satisfy besides the batch's signature;
	/// returns the round and the output's digest.
	fn check_reveal_item(
		executor: &T::AccountId,
		item: &RevealItem,
	) -> Result<(RoundOf<T>, H256), Error<T>> {
		let round = Self::round_served_by(item.job, executor)?;
		ensure!(round.round == item.round, Error::<T>::NoRound);
		let digest = Self::may_reveal(item.job, executor, &round, &item.output, &item.salt)?;
		Ok((round, digest))
	}

	/// Records `executor`'s commitment in `job`'s `round`, which passed its checks.
	fn apply_commit(job: JobId, executor: &T::AccountId, commitment: H256, mut round: RoundOf<T>) {
		Commitments::<T>::insert(job, executor, commitment);
		round.committed = round.committed.saturating_add(1);
		Rounds::<T>::insert(job, round);
		Self::deposit_event(Event::Committed { job, executor: executor.clone() });
	}

	/// Records `executor`'s reveal in `job`'s `round`, which passed its checks; returns the round
	/// if the reveal completes it (every executor that committed has revealed, and nobody else
	/// can commit), for the caller to tally, and stores it otherwise.
	fn apply_reveal(
		job: JobId,
		executor: &T::AccountId,
		output: InferenceOutput,
		digest: H256,
		mut round: RoundOf<T>,
	) -> Option<RoundOf<T>> {
		round.largest_reveal = round.largest_reveal.max(output_len(&output));
		Reveals::<T>::insert(job, executor, RevealRecord { digest, output });
		round.revealed = round.revealed.saturating_add(1);
		Self::deposit_event(Event::Revealed { job, executor: executor.clone(), digest });
		let now = frame_system::Pallet::<T>::block_number();
		let complete = round.revealed == round.committed && round.reveals_started(&now);
		if complete {
			Some(round)
		} else {
			Rounds::<T>::insert(job, round);
			None
		}
	}

	/// Queues a complete round for its tally at the end of this block or at the start of the
	/// next ([`Hooks::on_idle`], else [`Hooks::on_initialize`]): its reveal window closes now.
	fn tally_soon(job: JobId, mut round: RoundOf<T>) {
		let now = frame_system::Pallet::<T>::block_number();
		DueRounds::<T>::remove(due_after(round.reveal_until), job);
		round.reveal_until = now;
		DueRounds::<T>::insert(due_after(now), job, round.round);
		Rounds::<T>::insert(job, round);
	}

	/// Refuses an item of a batch of duties.
	fn refuse(job: JobId, executor: &T::AccountId, error: Error<T>) {
		Self::deposit_event(Event::DutyRefused {
			job,
			executor: executor.clone(),
			error: error.into(),
		});
	}

	/// The weight of a batch of reveals: per item as benchmarked with the smallest outputs, and
	/// the bytes of each item's output as in a single reveal.
	fn reveal_batch_weight(items: &[RevealItem]) -> Weight {
		with_output_bytes(
			T::WeightInfo::reveal_batch(items.len() as u32),
			items,
			T::WeightInfo::reveal,
		)
	}

	/// The weight of the pool's check of a batch of reveals, composed as
	/// [`Self::reveal_batch_weight`].
	fn authorize_reveal_batch_weight(items: &[RevealItem]) -> Weight {
		with_output_bytes(
			T::WeightInfo::authorize_reveal_batch(items.len() as u32),
			items,
			T::WeightInfo::authorize_reveal,
		)
	}

	/// Everything a commit must satisfy, in the pool and at dispatch; returns the round.
	fn check_commit(
		job: JobId,
		executor: &T::AccountId,
		commitment: &H256,
		signature: &InferenceSignature,
	) -> Result<RoundOf<T>, Error<T>> {
		let round = Self::signed_by_executor(job, executor, signature, |round| {
			Self::commit_payload(job, round, executor, commitment)
		})?;
		Self::may_commit(job, executor, &round)?;
		Ok(round)
	}

	/// Everything an abstention must satisfy, in the pool and at dispatch; returns the round.
	/// Like a commitment: once, inside the commit window, and not beside a commitment.
	fn check_abstain(
		job: JobId,
		executor: &T::AccountId,
		cause: &Abstention,
		signature: &InferenceSignature,
	) -> Result<RoundOf<T>, Error<T>> {
		let round = Self::signed_by_executor(job, executor, signature, |round| {
			Self::abstain_payload(job, round, executor, cause)
		})?;
		Self::may_commit(job, executor, &round)?;
		Ok(round)
	}

	/// Everything a reveal must satisfy, in the pool and at dispatch; returns the round and the
	/// output's digest.
	fn check_reveal(
		job: JobId,
		executor: &T::AccountId,
		output: &InferenceOutput,
		salt: &[u8; 32],
		signature: &InferenceSignature,
	) -> Result<(RoundOf<T>, H256), Error<T>> {
		let round = Self::signed_by_executor(job, executor, signature, |round| {
			Self::reveal_payload(job, round, executor, output, salt)
		})?;
		let digest = Self::may_reveal(job, executor, &round, output, salt)?;
		Ok((round, digest))
	}

	/// Everything a settlement must satisfy, in the pool and at dispatch (and what an offchain
	/// worker checks before it sends one); returns the round, the dispute, the disputed digest and
	/// what the proof settles of it.
	#[allow(clippy::type_complexity)]
	pub fn check_settle(
		job: JobId,
		executor: &T::AccountId,
		other: &T::AccountId,
		proof: &DisputeProof,
		signature: &InferenceSignature,
	) -> Result<(RoundOf<T>, DisputeOf<T>, H256, Settlement), Error<T>> {
		let round = Self::signed_by_executor(job, executor, signature, |round| {
			Self::settle_payload(job, round, executor, other, proof)
		})?;
		let dispute = Disputes::<T>::get(job).ok_or(Error::<T>::NoDispute)?;
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now <= dispute.until, Error::<T>::DisputeClosed);
		let reveal = Reveals::<T>::get(job, other).ok_or(Error::<T>::NotDisputed)?;
		let settled = dispute.settled(&reveal.digest).ok_or(Error::<T>::NotDisputed)?;
		let reference =
			Reveals::<T>::get(job, &dispute.reference).ok_or(Error::<T>::NotDisputed)?;
		let settlement = judge(&reference.output, &reveal.output, proof, &round.determinism)
			.map_err(|_| Error::<T>::InvalidProof)?;
		ensure!(settles_more(settled, settlement), Error::<T>::NothingNew);
		Ok((round, dispute, reveal.digest, settlement))
	}

	/// The transaction validity of a duty call that passed its checks: it provides its own tag,
	/// so a duplicate cannot enter the pool, and lives until its window closes.
	fn duty_validity(
		kind: &'static [u8],
		job: JobId,
		executor: &T::AccountId,
		until: BlockNumberFor<T>,
	) -> ValidTransaction {
		let longevity = Self::blocks_until(until);
		ValidTransaction::with_tag_prefix("GatelessVerification")
			.priority(T::DutyPriority::get())
			.and_provides((kind, job, executor))
			.longevity(longevity)
			.propagate(true)
			.into()
	}

	/// An error as a transaction validity error whose custom code is the error's index.
	fn invalid(error: Error<T>) -> TransactionValidityError {
		let code = error.encode().first().copied().unwrap_or(u8::MAX);
		InvalidTransaction::Custom(code).into()
	}

	fn authorize_commit(
		_source: TransactionSource,
		job: &JobId,
		executor: &T::AccountId,
		commitment: &H256,
		signature: &InferenceSignature,
	) -> TransactionValidityWithRefund {
		let round =
			Self::check_commit(*job, executor, commitment, signature).map_err(Self::invalid)?;
		Ok((Self::duty_validity(b"commit", *job, executor, round.commit_until), Weight::zero()))
	}

	fn authorize_reveal(
		_source: TransactionSource,
		job: &JobId,
		executor: &T::AccountId,
		output: &InferenceOutput,
		salt: &[u8; 32],
		signature: &InferenceSignature,
	) -> TransactionValidityWithRefund {
		let (round, _) =
			Self::check_reveal(*job, executor, output, salt, signature).map_err(Self::invalid)?;
		Ok((Self::duty_validity(b"reveal", *job, executor, round.reveal_until), Weight::zero()))
	}

	fn authorize_settle(
		_source: TransactionSource,
		job: &JobId,
		executor: &T::AccountId,
		other: &T::AccountId,
		proof: &DisputeProof,
		signature: &InferenceSignature,
	) -> TransactionValidityWithRefund {
		let (_, dispute, digest, settlement) =
			Self::check_settle(*job, executor, other, proof, signature).map_err(Self::invalid)?;
		let validity = ValidTransaction::with_tag_prefix("GatelessVerification")
			.priority(T::DutyPriority::get())
			.and_provides((b"settle", *job, digest, settlement))
			.longevity(Self::blocks_until(dispute.until))
			.propagate(true)
			.into();
		Ok((validity, Weight::zero()))
	}

	fn authorize_commit_batch(
		_source: TransactionSource,
		executor: &T::AccountId,
		items: &BoundedVec<CommitItem, T::MaxDutyBatch>,
		signature: &InferenceSignature,
	) -> TransactionValidityWithRefund {
		let payload = Self::commit_batch_payload(executor, items);
		let checks = items
			.iter()
			.map(|item| Self::check_commit_item(executor, item).map(|round| round.commit_until));
		Self::authorize_batch(b"commit-batch", executor, &payload, signature, checks)
	}

	fn authorize_reveal_batch(
		_source: TransactionSource,
		executor: &T::AccountId,
		items: &BoundedVec<RevealItem, T::MaxDutyBatch>,
		signature: &InferenceSignature,
	) -> TransactionValidityWithRefund {
		let payload = Self::reveal_batch_payload(executor, items);
		let checks = items.iter().map(|item| {
			Self::check_reveal_item(executor, item).map(|(round, _)| round.reveal_until)
		});
		Self::authorize_batch(b"reveal-batch", executor, &payload, signature, checks)
	}

	/// The pool's verdict on a batch of duties: its signature over `payload` must be the
	/// executor's, and at least one item must pass its checks (`checks`: the last block each item
	/// may be included in, or why it is refused). The batch provides a tag of its own and lives
	/// until its last passing item's window closes; its items that fail then are refused at
	/// dispatch.
	fn authorize_batch(
		kind: &'static [u8],
		executor: &T::AccountId,
		payload: &[u8],
		signature: &InferenceSignature,
		checks: impl Iterator<Item = Result<BlockNumberFor<T>, Error<T>>>,
	) -> TransactionValidityWithRefund {
		Self::check_signature(executor, payload, signature).map_err(Self::invalid)?;
		let mut until: Option<BlockNumberFor<T>> = None;
		let mut first_error = None;
		for check in checks {
			match check {
				Ok(last) => until = Some(until.map_or(last, |until| until.max(last))),
				Err(error) => {
					first_error.get_or_insert(error);
				},
			}
		}
		let until =
			until.ok_or_else(|| Self::invalid(first_error.unwrap_or(Error::<T>::EmptyBatch)))?;
		let validity = ValidTransaction::with_tag_prefix("GatelessVerification")
			.priority(T::DutyPriority::get())
			.and_provides((kind, executor, sp_io::hashing::blake2_256(payload)))
			.longevity(Self::blocks_until(until))
			.propagate(true)
			.into();
		Ok((validity, Weight::zero()))
	}

	/// Blocks from now until `until`, and one more: how long a duty stays in the pool.
	fn blocks_until(until: BlockNumberFor<T>) -> u64 {
		let now = frame_system::Pallet::<T>::block_number();
		until.saturating_sub(now).saturating_add(1u32.into()).saturated_into()
	}

	fn authorize_abstain(
		_source: TransactionSource,
		job: &JobId,
		executor: &T::AccountId,
		cause: &Abstention,
		signature: &InferenceSignature,
	) -> TransactionValidityWithRefund {
		let round = Self::check_abstain(*job, executor, cause, signature).map_err(Self::invalid)?;
		// The same tag as a commit: an executor either commits or abstains.
		Ok((Self::duty_validity(b"commit", *job, executor, round.commit_until), Weight::zero()))
	}

	/// `ceil(Quorum × committee)`, at least 1. (Two thirds is `Perbill::from_parts(666_666_666)`:
	/// rounded up to `666_666_667`, three times it would exceed 2 and need all three.)
	pub fn threshold(committee: u32) -> u32 {
		T::Quorum::get().mul_ceil(committee).max(1)
	}

	/// Tallies `job`'s round (see the module docs) and ends it; returns the weight used.
	fn tally(job: JobId, round: RoundOf<T>) -> Weight {
		let reveals: Vec<(T::AccountId, RevealRecord)> = round
			.committee
			.iter()
			.filter_map(|who| Reveals::<T>::get(job, who).map(|reveal| (who.clone(), reveal)))
			.collect();
		let weight = Self::tally_weight(round.committee.len() as u32, round.largest_reveal);
		if T::Jobs::model_withdrawn(job) {
			// Executors may rightly have stopped running a banned model: no verdict, no slashes.
			Self::clear(job);
			let _ = T::Jobs::fail(job, FailureReason::ModelWithdrawn)
				.defensive_proof("the job of a round is running");
			return weight;
		}

		// Reveals grouped by digest: each group's first reveal and size, and each reveal's group.
		let mut groups: Vec<(usize, u32)> = Vec::new();
		let mut group_of: Vec<usize> = Vec::with_capacity(reveals.len());
		for (position, (_, reveal)) in reveals.iter().enumerate() {
			let same_digest = |(first, _): &(usize, u32)| {
				reveals.get(*first).is_some_and(|(_, other)| other.digest == reveal.digest)
			};
			let group = match groups.iter().position(same_digest) {
				Some(group) => group,
				None => {
					groups.push((position, 0));
					groups.len().saturating_sub(1)
				},
			};
			if let Some((_, size)) = groups.get_mut(group) {
				*size = size.saturating_add(1);
			}
			group_of.push(group);
		}
		// The reference: the largest group (the first on ties).
		let reference = groups
			.iter()
			.enumerate()
			.fold(None, |best: Option<(usize, u32)>, (group, (_, size))| match best {
				Some((_, top)) if top >= *size => best,
				_ => Some((group, *size)),
			})
			.map(|(group, _)| group);
		// How group `a` compares with group `b`, from the reveals, once per pair of groups.
		let compared: Vec<Vec<Agreement>> = groups
			.iter()
			.map(|(a, _)| {
				groups
					.iter()
					.map(|(b, _)| match (reveals.get(*a), reveals.get(*b)) {
						(Some((_, a)), Some((_, b))) => agreement(
							&a.output,
							&a.digest,
							&b.output,
							&b.digest,
							&round.determinism,
						),
						_ => Agreement::Disagree,
					})
					.collect()
			})
			.collect();
		let first_digest = |group: usize| {
			groups
				.get(group)
				.and_then(|(first, _)| reveals.get(*first))
				.map(|(_, r)| r.digest)
		};
		let dispute = Disputes::<T>::get(job);
		if dispute.is_none() {
			let disputed: Vec<H256> = reference
				.and_then(|reference| compared.get(reference))
				.map(|row| {
					row.iter()
						.enumerate()
						.filter(|(_, compared)| **compared == Agreement::NeedsProof)
						.filter_map(|(group, _)| first_digest(group))
						.collect()
				})
				.unwrap_or_default();
			let reference_executor = reference
				.and_then(|group| groups.get(group))
				.and_then(|(first, _)| reveals.get(*first))
				.map(|(who, _)| who.clone());
			if let (false, Some(reference)) = (disputed.is_empty(), reference_executor) {
				Self::open_dispute(job, &round, reference, disputed);
				return weight;
			}
		}
		// What was settled of each pair: proofs decide the pairs of the reference and a disputed
		// group; other pairs that would need one disagree (no proof was asked of them).
		let settled: Vec<Vec<Settlement>> = compared
			.iter()
			.enumerate()
			.map(|(a, row)| {
				row.iter()
					.enumerate()
					.map(|(b, compared)| match compared {
						Agreement::Agree => Settlement::Agree,
						Agreement::Disagree => Settlement::Disagree,
						Agreement::NeedsProof => {
							let other = if Some(a) == reference {
								b
							} else if Some(b) == reference {
								a
							} else {
								return Settlement::Disagree;
							};
							let proven = first_digest(other).and_then(|digest| {
								dispute.as_ref().and_then(|dispute| dispute.settled(&digest))
							});
							match proven {
								Some(Some(Settlement::Agree)) => Settlement::Agree,
								Some(Some(Settlement::Undecided)) => Settlement::Undecided,
								_ => Settlement::Disagree,
							}
						},
					})
					.collect()
			})
			.collect();
		// The group with the most reveals agreeing with it (the first on ties) and that support.
		let mut best: Option<(usize, u32)> = None;
		for (group, row) in settled.iter().enumerate() {
			let support = groups
				.iter()
				.zip(row)
				.filter(|(_, settled)| **settled == Settlement::Agree)
				.fold(0u32, |sum, ((_, size), _)| sum.saturating_add(*size));
			if best.is_none_or(|(_, top)| support > top) {
				best = Some((group, support));
			}
		}

		let (abstainers, absent): (Vec<T::AccountId>, Vec<T::AccountId>) = round
			.committee
			.iter()
			.filter(|who| !reveals.iter().any(|(revealer, _)| revealer == *who))
			.cloned()
			.partition(|who| Abstentions::<T>::contains_key(job, who));
		let (withheld, no_shows): (Vec<T::AccountId>, Vec<T::AccountId>) =
			absent.into_iter().partition(|who| Commitments::<T>::contains_key(job, who));
		let penalties = Params::<T>::get();
		for executor in &abstainers {
			T::Staking::note_abstained(executor);
		}
		let inputs_unavailable: Vec<T::AccountId> = abstainers
			.iter()
			.filter(|who| Abstentions::<T>::get(job, *who) == Some(Abstention::InputUnavailable))
			.cloned()
			.collect();
		for executor in &withheld {
			Self::slash(job, executor, penalties.withhold_slash, SlashReason::Withheld);
			T::Staking::note_missed(executor);
		}
		for executor in &no_shows {
			Self::slash(job, executor, penalties.no_show_slash, SlashReason::NoShow);
			T::Staking::note_missed(executor);
		}
		Self::clear(job);

		let threshold = Self::threshold(round.committee.len() as u32);
		match best {
			Some((winner, support)) if support >= threshold => {
				let winning_row = settled.get(winner);
				let mut agreeing = Vec::new();
				let mut dissenters = Vec::new();
				let mut undecided = Vec::new();
				for ((who, _), group) in reveals.iter().zip(&group_of) {
					match winning_row.and_then(|row| row.get(*group)) {
						Some(Settlement::Agree) => agreeing.push(who.clone()),
						Some(Settlement::Undecided) => undecided.push(who.clone()),
						_ => dissenters.push(who.clone()),
					}
				}
				for executor in &dissenters {
					Self::slash(job, executor, penalties.dissent_slash, SlashReason::Dissent);
					T::Staking::note_dissented(executor);
				}
				for executor in &undecided {
					T::Staking::note_abstained(executor);
				}
				let Some((_, decided)) =
					groups.get(winner).and_then(|(first, _)| reveals.get(*first))
				else {
					return weight;
				};
				Self::deposit_event(Event::RoundDecided {
					job,
					round: round.round,
					digest: decided.digest,
					agreeing: agreeing.clone(),
					dissenters,
					withheld,
					no_shows,
					undecided,
				});
				let outcome = AgreedOutcome {
					output: decided.output.clone(),
					digest: decided.digest,
					agreeing,
				};
				let _ = T::Jobs::finalize(job, outcome)
					.defensive_proof("the job of a round is running");
			},
			_ => {
				Self::deposit_event(Event::NoQuorum {
					job,
					round: round.round,
					withheld,
					no_shows,
				});
				if inputs_unavailable.len() as u32 >= threshold {
					// The inputs were withheld: a larger committee would not get them either.
					let _ = T::Jobs::inputs_unavailable(job, inputs_unavailable)
						.defensive_proof("the job of a round is running");
				} else {
					Self::escalate_or_fail(job, &round);
				}
			},
		}
		weight
	}

	/// Opens a dispute over `job`'s round: the reveals with the `disputed` digests wait for proofs
	/// against `reference`'s until the dispute window closes; the deadline is queued. The round is
	/// stored as tallied (a reveal that completed it passed it here unstored).
	fn open_dispute(job: JobId, round: &RoundOf<T>, reference: T::AccountId, disputed: Vec<H256>) {
		let until =
			frame_system::Pallet::<T>::block_number().saturating_add(T::DisputeWindow::get());
		DueRounds::<T>::remove(due_after(round.reveal_until), job);
		DueRounds::<T>::insert(due_after(until), job, round.round);
		Rounds::<T>::insert(job, round);
		let pending = disputed.iter().map(|digest| (*digest, None)).collect();
		Disputes::<T>::insert(
			job,
			DisputeOf::<T> {
				reference: reference.clone(),
				until,
				// One digest per group of reveals, no more groups than executors.
				pending: BoundedVec::defensive_truncate_from(pending),
			},
		);
		Self::deposit_event(Event::DisputeOpened {
			job,
			round: round.round,
			reference,
			disputed,
			until,
		});
	}

	/// Opens the next round of a job without a quorum, or fails it.
	fn escalate_or_fail(job: JobId, round: &RoundOf<T>) {
		let reason = if round.round >= T::MaxEscalations::get() {
			FailureReason::NoQuorum
		} else {
			let size = (round.committee.len() as u32)
				.saturating_mul(2)
				.saturating_add(1)
				.min(T::MaxCommittee::get());
			// The round is over (the tally cleared it); the next opens when its committee is
			// drawn.
			match T::Jobs::escalate(job, size) {
				Ok(()) => return,
				Err(error) => {
					log::debug!(target: LOG_TARGET, "no escalation for job {job}: {error:?}");
					FailureReason::NoFreshExecutors
				},
			}
		};
		let _ = T::Jobs::fail(job, reason).defensive_proof("the job of a round is running");
	}

	fn slash(job: JobId, executor: &T::AccountId, share: Perbill, reason: SlashReason) {
		let amount = T::Staking::slash(executor, SlashAmount::Fraction(share), reason);
		Self::deposit_event(Event::ExecutorSlashed {
			job,
			executor: executor.clone(),
			reason,
			amount,
		});
	}

	/// Drops a job's round, commitments, reveals, abstentions and dispute, and their deadlines.
	fn clear(job: JobId) {
		if let Some(round) = Rounds::<T>::take(job) {
			DueRounds::<T>::remove(due_after(round.reveal_until), job);
		}
		let limit = T::MaxCommittee::get();
		let _ = Commitments::<T>::clear_prefix(job, limit, None);
		let _ = Reveals::<T>::clear_prefix(job, limit, None);
		let _ = Abstentions::<T>::clear_prefix(job, limit, None);
		if let Some(dispute) = Disputes::<T>::take(job) {
			DueRounds::<T>::remove(due_after(dispute.until), job);
		}
	}

	/// Opens round `round` of `job` for `committee`.
	fn open(
		job: JobId,
		round: u8,
		committee: Vec<T::AccountId>,
		determinism: Determinism,
		outputs: ExpectedOutputs,
	) -> Result<(), Error<T>> {
		ensure!(!committee.is_empty(), Error::<T>::BadCommittee);
		let committee = BoundedVec::try_from(committee).map_err(|_| Error::<T>::BadCommittee)?;
		let now = frame_system::Pallet::<T>::block_number();
		let commit_until = now.saturating_add(T::CommitWindow::get());
		let reveal_until = commit_until.saturating_add(T::RevealWindow::get());
		Self::clear(job);
		Rounds::<T>::insert(
			job,
			RoundOf::<T> {
				round,
				committee,
				determinism,
				outputs,
				commit_until,
				reveal_until,
				committed: 0,
				revealed: 0,
				abstained: 0,
				largest_reveal: 0,
			},
		);
		DueRounds::<T>::insert(due_after(reveal_until), job, round);
		Self::deposit_event(Event::RoundOpened { job, round, commit_until, reveal_until });
		Ok(())
	}

	/// The most weight one tally takes: the largest committee, each revealing the most bytes.
	pub fn worst_tally_weight() -> Weight {
		Self::tally_weight(T::MaxCommittee::get(), MAX_INLINE_BYTES)
	}

	/// The weight of the tally of a round of `committee` executors whose largest reveal holds
	/// `bytes` element bytes, with its reads and writes of the job, its model and a dispute.
	pub fn tally_weight(committee: u32, bytes: u32) -> Weight {
		T::WeightInfo::tally(committee, bytes).saturating_add(T::DbWeight::get().reads_writes(3, 3))
	}

	/// Tallies the rounds due by `up_to` (their deadline has passed by then), oldest deadline
	/// first, within `limit`: a due round is taken only if its tally still fits (its committee
	/// and its largest reveal say what the tally weighs), and the rest wait for the next call.
	/// Looking at a block's next due round and reading it costs two reads, and taking it off the
	/// queue a write.
	fn tally_due_rounds(up_to: BlockNumberFor<T>, limit: Weight) -> Weight {
		let look = T::DbWeight::get().reads(2);
		let take = T::DbWeight::get().writes(1);
		let mut weight = T::WeightInfo::on_initialize_idle();
		let mut cursor = TallyCursor::<T>::get();
		'blocks: while cursor <= up_to {
			loop {
				if !weight.saturating_add(look).all_lte(limit) {
					break 'blocks;
				}
				weight.saturating_accrue(look);
				let Some((job, index)) = DueRounds::<T>::iter_prefix(cursor).next() else { break };
				let round = Rounds::<T>::get(job);
				let tally = round.as_ref().map_or(Weight::zero(), |round| {
					Self::tally_weight(round.committee.len() as u32, round.largest_reveal)
				});
				if !weight.saturating_add(take).saturating_add(tally).all_lte(limit) {
					break 'blocks;
				}
				DueRounds::<T>::remove(cursor, job);
				weight.saturating_accrue(take);
				let Some(round) = round else { continue };
				let due = match Disputes::<T>::get(job) {
					Some(dispute) => due_after(dispute.until),
					None => due_after(round.reveal_until),
				};
				// Only a round's current deadline tallies it (defensive: ending a round, or
				// opening its dispute, takes its earlier entry off).
				if round.round == index && due == cursor {
					weight.saturating_accrue(Self::tally(job, round));
				}
			}
			cursor = cursor.saturating_add(One::one());
		}
		TallyCursor::<T>::put(cursor);
		weight
	}

	/// Checks the pallet's invariants: each round's counts match its commitments and reveals, only
	/// executors commit, every reveal has a commitment and its stored digest, no commitment or
	/// reveal outlives its round, and every running round, and nothing else, is due at its
	/// current deadline, not before the tally cursor.
	/// Native (`std`) builds have it for the runtime's tests; the WASM only with `try-runtime`.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let cursor = TallyCursor::<T>::get();
		for (due, job, index) in DueRounds::<T>::iter() {
			let round = Rounds::<T>::get(job).ok_or("a due round that is not running")?;
			let deadline = Disputes::<T>::get(job).map_or(round.reveal_until, |d| d.until);
			ensure!(
				round.round == index && due == due_after(deadline),
				"a due entry other than the round's current deadline"
			);
			ensure!(due >= cursor, "a due round behind the tally cursor");
		}
		for (job, round) in Rounds::<T>::iter() {
			let commitments: Vec<_> = Commitments::<T>::iter_prefix(job).collect();
			let reveals: Vec<_> = Reveals::<T>::iter_prefix(job).collect();
			ensure!(commitments.len() as u32 == round.committed, "commit count differs");
			ensure!(reveals.len() as u32 == round.revealed, "reveal count differs");
			let abstentions: Vec<_> = Abstentions::<T>::iter_prefix(job).collect();
			ensure!(abstentions.len() as u32 == round.abstained, "abstention count differs");
			ensure!(
				abstentions.iter().all(|(who, _)| round.committee.contains(who)
					&& !Commitments::<T>::contains_key(job, who)),
				"an abstention from outside the committee, or beside a commitment"
			);
			ensure!(round.revealed <= round.committed, "more reveals than commitments");
			ensure!(
				commitments.iter().all(|(who, _)| round.committee.contains(who)),
				"a commitment from outside the committee"
			);
			for (who, reveal) in &reveals {
				ensure!(Commitments::<T>::contains_key(job, who), "a reveal without a commitment");
				ensure!(
					output_digest(&reveal.output, &round.determinism) == reveal.digest,
					"a stored digest differs from its output's"
				);
			}
			let deadline = Disputes::<T>::get(job).map_or(round.reveal_until, |d| d.until);
			ensure!(
				DueRounds::<T>::get(due_after(deadline), job) == Some(round.round),
				"a running round not due at its deadline"
			);
		}
		ensure!(
			Commitments::<T>::iter_keys().all(|(job, _)| Rounds::<T>::contains_key(job)),
			"a commitment without a round"
		);
		ensure!(
			Reveals::<T>::iter_keys().all(|(job, _)| Rounds::<T>::contains_key(job)),
			"a reveal without a round"
		);
		ensure!(
			Abstentions::<T>::iter_keys().all(|(job, _)| Rounds::<T>::contains_key(job)),
			"an abstention without a round"
		);
		for (job, dispute) in Disputes::<T>::iter() {
			ensure!(Rounds::<T>::contains_key(job), "a dispute without a round");
			ensure!(
				Reveals::<T>::contains_key(job, &dispute.reference),
				"a dispute's reference has not revealed"
			);
			ensure!(!dispute.pending.is_empty(), "a dispute over nothing");
		}
		Ok(())
	}
}

/// The log target of this pallet.
pub const LOG_TARGET: &str = "runtime::verification";

/// The block in which a round whose deadline is `deadline` (its last block) is due.
fn due_after<BlockNumber: Saturating + One>(deadline: BlockNumber) -> BlockNumber {
	deadline.saturating_add(One::one())
}

impl<T: Config> JobVerifier<T::AccountId> for Pallet<T> {
	fn open_round(
		job: JobId,
		round: u8,
		committee: Vec<T::AccountId>,
		determinism: Determinism,
		outputs: ExpectedOutputs,
	) -> DispatchResult {
		Self::open(job, round, committee, determinism, outputs).map_err(Into::into)
	}

	fn has_commitments(job: JobId) -> bool {
		Rounds::<T>::get(job).is_some_and(|round| round.committed > 0)
	}

	fn close(job: JobId) {
		Self::clear(job);
	}
}
