//! Types of the result verification pallet.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	traits::Get, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use frame_system::pallet_prelude::BlockNumberFor;
use gateless_primitives::{
	dispute::Settlement,
	job::{ExpectedOutputs, InferenceOutput, JobId},
	model::Determinism,
};
use scale_info::TypeInfo;
use sp_core::H256;
use sp_runtime::Perbill;

use crate::Config;

/// What executors lose at a tally, as shares of their bonds. Governance sets them with
/// [`crate::Call::set_params`], within the bounds of [`VerificationParams::are_valid`].
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEq,
	Eq,
	Debug,
)]
pub struct VerificationParams {
	/// Lost by a revealer outside the group that decided.
	pub dissent_slash: Perbill,
	/// Lost by an executor that committed and did not reveal. At least `dissent_slash`: an
	/// executor that sees (in the pool) that its output will be outvoted gains nothing by
	/// withholding it.
	pub withhold_slash: Perbill,
	/// Lost by an executor that neither committed nor abstained: it learns nothing of the others'
	/// outputs by staying away (commitments are hashes), so this only prices its absence.
	pub no_show_slash: Perbill,
}

impl VerificationParams {
	/// Every share is above zero and at most `max_slash`, and withholding costs at least as much
	/// as dissenting.
	pub fn are_valid(&self, max_slash: Perbill) -> bool {
		let shares = [self.dissent_slash, self.withhold_slash, self.no_show_slash];
		shares.iter().all(|share| !share.is_zero() && *share <= max_slash)
			&& self.withhold_slash >= self.dissent_slash
	}
}

/// One verification round of a job: its committee, how outputs are compared, its windows and how
/// far it has got.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	DebugNoBound,
)]
#[scale_info(skip_type_params(MaxCommittee))]
pub struct Round<AccountId, BlockNumber, MaxCommittee: Get<u32>>
where
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	BlockNumber: Clone + PartialEq + Eq + core::fmt::Debug,
{
	/// 0 for the first round, one more per escalation.
	pub round: u8,
	/// The executors, in draw order.
	pub committee: BoundedVec<AccountId, MaxCommittee>,
	/// How their outputs are compared.
	pub determinism: Determinism,
	/// The outputs that revealed tensors must fit.
	pub outputs: ExpectedOutputs,
	/// The last block commitments are accepted in.
	pub commit_until: BlockNumber,
	/// The last block reveals are accepted in.
	pub reveal_until: BlockNumber,
	/// How many executors have committed.
	pub committed: u32,
	/// How many executors have revealed.
	pub revealed: u32,
	/// How many executors have abstained (instead of committing).
	pub abstained: u32,
	/// The element bytes of the largest output revealed so far, which the tally's weight
	/// depends on.
	pub largest_reveal: u32,
}

impl<AccountId, BlockNumber, MaxCommittee: Get<u32>> Round<AccountId, BlockNumber, MaxCommittee>
where
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	BlockNumber: Clone + PartialEq + Eq + core::fmt::Debug,
{
	/// Whether every executor has committed or abstained: reveals may start before the commit
	/// window closes.
	pub fn everyone_answered(&self) -> bool {
		self.committed.saturating_add(self.abstained) as usize >= self.committee.len()
	}
}

impl<AccountId, BlockNumber, MaxCommittee: Get<u32>> Round<AccountId, BlockNumber, MaxCommittee>
where
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	BlockNumber: Clone + PartialEq + Eq + PartialOrd + core::fmt::Debug,
{
	/// Whether commitments (and abstentions) are accepted at block `now`.
	pub fn commits_open(&self, now: &BlockNumber) -> bool {
		*now <= self.commit_until
	}

	/// Whether the reveal window has started by block `now`: once the commit window closed, or
	/// as soon as every executor has committed or abstained.
	pub fn reveals_started(&self, now: &BlockNumber) -> bool {
		*now > self.commit_until || self.everyone_answered()
	}

	/// Whether reveals are accepted at block `now`.
	pub fn reveals_open(&self, now: &BlockNumber) -> bool {
		self.reveals_started(now) && *now <= self.reveal_until
	}
}

/// A round as this runtime stores it.
pub type RoundOf<T> =
	Round<<T as frame_system::Config>::AccountId, BlockNumberFor<T>, <T as Config>::MaxCommittee>;

/// A reveal: the output (or error) and its digest under the round's determinism class.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct RevealRecord {
	pub digest: H256,
	pub output: InferenceOutput,
}

/// A round whose outputs by content differ from the reference's under a tolerance: its tally
/// waits until proofs settle how each compares, or until the dispute window closes.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	DebugNoBound,
)]
#[scale_info(skip_type_params(MaxCommittee))]
pub struct Dispute<AccountId, BlockNumber, MaxCommittee: Get<u32>>
where
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	BlockNumber: Clone + PartialEq + Eq + core::fmt::Debug,
{
	/// The executor whose reveal the others are compared with: the first of the largest group
	/// of equal digests.
	pub reference: AccountId,
	/// The last block proofs are accepted in.
	pub until: BlockNumber,
	/// Each digest that needs a proof against the reference's, and what proofs have settled of
	/// it so far.
	pub pending: BoundedVec<(H256, Option<Settlement>), MaxCommittee>,
}

impl<AccountId, BlockNumber, MaxCommittee: Get<u32>> Dispute<AccountId, BlockNumber, MaxCommittee>
where
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	BlockNumber: Clone + PartialEq + Eq + core::fmt::Debug,
{
	/// What has been settled of the reveals with `digest`, if they are disputed.
	pub fn settled(&self, digest: &H256) -> Option<Option<Settlement>> {
		self.pending
			.iter()
			.find(|(pending, _)| pending == digest)
			.map(|(_, settled)| *settled)
	}

	/// Whether every disputed digest is settled for good: an agreement or a disagreement (an
	/// undecided may still be shown to disagree).
	pub fn conclusive(&self) -> bool {
		self.pending
			.iter()
			.all(|(_, settled)| matches!(settled, Some(Settlement::Agree | Settlement::Disagree)))
	}
}

/// Whether `new` tells more than `old` about a disputed digest: a disagreement outweighs
/// everything, an agreement an undecided, anything nothing.
pub fn settles_more(old: Option<Settlement>, new: Settlement) -> bool {
	match (old, new) {
		(None, _) => true,
		(Some(Settlement::Disagree), _) => false,
		(Some(_), Settlement::Disagree) => true,
		(Some(Settlement::Undecided), Settlement::Agree) => true,
		_ => false,
	}
}

/// A dispute as this runtime stores it.
pub type DisputeOf<T> =
	Dispute<<T as frame_system::Config>::AccountId, BlockNumberFor<T>, <T as Config>::MaxCommittee>;

/// One commitment of a batch ([`crate::Call::commit_batch`]): the executor's commitment in `job`'s
/// round `round`.
#[derive(Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, Debug)]
pub struct CommitItem {
	pub job: JobId,
	pub round: u8,
	pub commitment: H256,
}

/// One reveal of a batch ([`crate::Call::reveal_batch`]): the executor's output (or error) and
/// salt in `job`'s round `round`.
#[derive(Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, Debug)]
pub struct RevealItem {
	pub job: JobId,
	pub round: u8,
	pub output: InferenceOutput,
	pub salt: [u8; 32],
}

/// What an executor still has to do in a round it serves, at a given block (see
/// [`crate::Pallet::duties_of`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RoundDuty {
	/// Commit to an output, or abstain: the commit window is open and it has done neither.
	Commit,
	/// Reveal its output: it committed, the reveal window is open and it has not revealed.
	Reveal,
}

/// The proofs an executor is to send in a round's open dispute (see
/// [`crate::Pallet::proofs_due_from`]): how the reveals of `others` compare with the reference's.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ProofsDue<AccountId> {
	/// The job whose round is disputed.
	pub job: JobId,
	/// The round.
	pub round: u8,
	/// How the round's outputs are compared.
	pub determinism: Determinism,
	/// The reference's output.
	pub reference: InferenceOutput,
	/// Whether the executor is the reference: it then sends only proofs of a disagreement.
	pub from_reference: bool,
	/// The executors whose reveals need a proof, with their outputs: the executor itself when
	/// its own reveal is disputed and unsettled; for the reference, every disputed reveal not
	/// yet shown to disagree.
	pub others: alloc::vec::Vec<(AccountId, InferenceOutput)>,
}

impl<AccountId> ProofsDue<AccountId> {
	/// Whether `proof` is worth sending: any proof from a disputed executor, only a
	/// disagreement from the reference (so that a liar is caught before the window closes, and
	/// cannot hide behind an undecided).
	pub fn wants(&self, proof: &gateless_primitives::dispute::DisputeProof) -> bool {
		!self.from_reference
			|| matches!(proof, gateless_primitives::dispute::DisputeProof::Disagree { .. })
	}
}
