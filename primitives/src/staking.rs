//! What clients read about validators: bonds, candidacy, membership of the set and how each did.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// How a validator did on the jobs assigned to it, and what it was slashed.
#[derive(
	Clone,
	Copy,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEq,
	Eq,
	Debug,
)]
pub struct ValidatorCounters<Balance> {
	/// Jobs assigned.
	pub assigned: u32,
	/// Jobs where it agreed with the quorum.
	pub agreed: u32,
	/// Jobs where the quorum disagreed with it.
	pub dissented: u32,
	/// Jobs it did not commit or reveal in time.
	pub missed: u32,
	/// Jobs it abstained from (its node's limits, a crash, no model bytes): neither paid nor
	/// slashed, but counted.
	pub abstained: u32,
	/// Rewards paid to it for agreeing.
	pub rewarded: Balance,
	/// Slashed from its bond, in total.
	pub slashed: Balance,
}

/// One validator or candidate, as the `ValidatorStakingApi` runtime API reports it.
#[derive(Clone, Encode, Decode, TypeInfo, PartialEq, Eq, Debug)]
pub struct ValidatorSummary<AccountId, Balance> {
	/// The validator's account (also its session validator id).
	pub account: AccountId,
	/// Its active bond.
	pub bond: Balance,
	/// Its unlocking funds, still slashable.
	pub unlocking: Balance,
	/// Whether it is a candidate for the next sets.
	pub candidate: bool,
	/// Whether it is in the current session's set.
	pub active: bool,
	/// How it did.
	pub counters: ValidatorCounters<Balance>,
}
