//! Traits through which the Gateless pallets use each other, so that each pallet tests alone
//! against a mock and together in the runtime.

use alloc::vec::Vec;
use sp_runtime::DispatchResult;

use crate::{
	crypto::InferenceId,
	job::{AgreedOutcome, ExpectedOutputs, FailureReason, JobId},
	model::{ComputeCost, Determinism, ModelId, ModelInfo},
};

/// What the jobs and verification pallets need to know about models; implemented by the model
/// registry.
pub trait ModelProvider<AccountId, Balance, BlockNumber> {
	/// The model's record (owner, hash, signature, determinism, price, status, location), if the
	/// model exists.
	fn model(model: ModelId) -> Option<ModelInfo<AccountId, Balance, BlockNumber>>;

	/// The compute validators estimated for the model when they attested it, if they did.
	fn compute(model: ModelId) -> Option<ComputeCost>;
}

/// Whether jobs still reference a model, so that it cannot be removed under them; implemented by
/// the jobs pallet. `()` says no model is ever in use.
pub trait ModelUsage {
	/// Whether any job that is not yet settled references the model.
	fn is_in_use(model: ModelId) -> bool;
}

impl ModelUsage for () {
	fn is_in_use(_: ModelId) -> bool {
		false
	}
}

/// The validators that currently produce blocks and run inference; implemented by the staking
/// pallet.
pub trait ValidatorSet<AccountId> {
	/// Whether `who` is in the active set now.
	fn is_active(who: &AccountId) -> bool;

	/// How many validators the active set has now.
	fn active_count() -> u32;

	/// Makes exactly `validators` the active set, for benchmarks that need validators.
	#[cfg(feature = "runtime-benchmarks")]
	fn set_active_for_benchmarks(validators: alloc::vec::Vec<AccountId>);
}

/// Why a validator is slashed.
#[derive(
	Clone,
	Copy,
	codec::Encode,
	codec::Decode,
	codec::DecodeWithMemTracking,
	codec::MaxEncodedLen,
	scale_info::TypeInfo,
	PartialEq,
	Eq,
	Debug,
)]
pub enum SlashReason {
	/// Revealed an output that the quorum disagreed with.
	Dissent,
	/// Was assigned a job and neither committed nor abstained in time.
	NoShow,
	/// Committed to an output and did not reveal it in time.
	Withheld,
	/// Signed two conflicting blocks (BABE) or votes (GRANDPA), reported through the offences
	/// pallet with a session-historical proof of the key.
	Equivocation,
}

/// How much of a validator's bond to slash.
#[derive(
	Clone,
	Copy,
	codec::Encode,
	codec::Decode,
	codec::DecodeWithMemTracking,
	codec::MaxEncodedLen,
	scale_info::TypeInfo,
	PartialEq,
	Eq,
	Debug,
)]
pub enum SlashAmount<Balance> {
	/// This share of the whole bond (active and unlocking).
	Fraction(sp_runtime::Perbill),
	/// This much, or the whole bond if it is less.
	Amount(Balance),
}

/// Slashing validators' bonds; implemented by the staking pallet, used by the verification pallet.
pub trait Slashing<AccountId, Balance> {
	/// Slashes `who`'s bond by `amount` for `reason` and counts an offence in the current session;
	/// returns how much was slashed. A validator over the offence limit is chilled and disabled.
	fn slash(who: &AccountId, amount: SlashAmount<Balance>, reason: SlashReason) -> Balance;
}

/// The record of how validators did on the jobs assigned to them; implemented by the staking
/// pallet, fed by the jobs and verification pallets, read by the staking runtime API.
pub trait ValidatorRecords<AccountId, Balance> {
	/// `who` was assigned a job.
	fn note_assigned(who: &AccountId);
	/// `who` agreed with the quorum and was paid `reward`.
	fn note_agreed(who: &AccountId, reward: Balance);
	/// `who` revealed an output the quorum disagreed with.
	fn note_dissented(who: &AccountId);
	/// `who` did not commit or reveal in time.
	fn note_missed(who: &AccountId);
	/// `who` abstained from a job: its node could not reach a verdict.
	fn note_abstained(who: &AccountId);
}

/// The active validators with their active bonds, the weights of the executor draw; implemented by
/// the staking pallet.
pub trait ValidatorStakes<AccountId, Balance> {
	/// Every active validator with its active bond as the session started, in set order: fixed for
	/// the session, so that a draw cannot be steered by bonding once its seed is known.
	fn active_stakes() -> Vec<(AccountId, Balance)>;
}

/// The inference session key of a validator, which signs its commitments and reveals; implemented
/// by the runtime from `pallet_session`'s keys.
pub trait InferenceKeys<AccountId> {
	/// `who`'s current inference key, if it has set session keys.
	fn inference_key(who: &AccountId) -> Option<InferenceId>;
}

/// What the jobs pallet asks of the verification pallet; implemented by the verification pallet.
pub trait JobVerifier<AccountId> {
	/// Opens verification round `round` of `job` for `committee`, whose outputs are compared under
	/// `determinism` and must fit `outputs`.
	fn open_round(
		job: JobId,
		round: u8,
		committee: Vec<AccountId>,
		determinism: Determinism,
		outputs: ExpectedOutputs,
	) -> DispatchResult;

	/// Whether anyone has committed to an output of `job` (then it can no longer be cancelled).
	fn has_commitments(job: JobId) -> bool;

	/// Drops every trace of `job`'s verification (the job was cancelled or expired).
	fn close(job: JobId);
}

/// What the verification pallet tells the jobs pallet; implemented by the jobs pallet.
pub trait JobSettlement<AccountId> {
	/// A quorum agreed: pay, store the result and end the job.
	fn finalize(job: JobId, outcome: AgreedOutcome<AccountId>) -> DispatchResult;

	/// No quorum: have a fresh committee of `size` validators that have not served on `job` yet
	/// drawn for its next round, at the end of the next block (from that block's randomness,
	/// which nobody knows when the round is tallied), and open that round then through
	/// [`JobVerifier::open_round`]; or fail now if too few are free or the job cannot take more
	/// executors.
	fn escalate(job: JobId, size: u32) -> DispatchResult;

	/// No quorum and no escalation left: refund and end the job.
	fn fail(job: JobId, reason: FailureReason) -> DispatchResult;

	/// A quorum of the committee could not get the job's inputs: pay each of `reporters` as an
	/// agreeing executor (the submitter's node withheld the bytes, not they), refund the rest and
	/// end the job as [`FailureReason::InputUnavailable`].
	fn inputs_unavailable(job: JobId, reporters: Vec<AccountId>) -> DispatchResult;

	/// Whether `job`'s model was banned or rejected since the job started (or is gone): its
	/// round then ends with [`FailureReason::ModelWithdrawn`], nobody paid or slashed, since
	/// executors may rightly have stopped running it.
	fn model_withdrawn(job: JobId) -> bool;
}
