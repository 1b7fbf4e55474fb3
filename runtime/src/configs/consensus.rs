//! Consensus: BABE authors blocks in slots won by VRF, GRANDPA finalizes them. Sessions follow
//! BABE's epochs.
//!
//! Both report equivocations (two blocks of one author in one slot; two votes of one voter in one
//! round): the node that sees one submits an unsigned report with a session-historical proof that
//! the key was the offender's ([`crate::Historical`]); the offences pallet hands the offence to the
//! staking pallet, which slashes the offender (at most `MaxOffenceSlash` per session), chills it
//! and disables it. BABE's reports come from the node's own block import, with sealed headers
//! (`sc-consensus-babe` 0.60 reports unsealed ones, which the runtime API no longer submits).

use frame_support::{
	parameter_types,
	traits::{ConstU32, ConstU64},
};
use sp_runtime::Perbill;

use crate::{
	configs::{HISTORY_DEPTH, SESSION_LENGTH},
	Historical, Offences, Runtime, RuntimeEvent, MILLI_SECS_PER_BLOCK,
};

/// The largest validator set that BABE and GRANDPA accept.
pub const MAX_AUTHORITIES: u32 = 100;

/// Slots per BABE epoch: one session. It can never change after genesis (BABE's block import
/// expects each epoch's change at the slot the genesis length puts it).
pub const EPOCH_DURATION_IN_SLOTS: u64 = SESSION_LENGTH as u64;

/// BABE's parameters at genesis: every slot has one secondary author, chosen from the epoch's
/// randomness and the slot, who signs a VRF output, so that every block carries one (the
/// randomness the executor draw can use, which its author cannot choose) and exactly one
/// validator may author each slot. Primary (VRF-won, secret) slots are off (`c = 0`): a slot
/// with a primary winner also gets its secondary author's block, so with them small networks
/// reorganise every few slots. A network that wants secret leaders enables them through
/// governance (`Babe::plan_config_change`, e.g. `c = 1/4`).
pub const BABE_GENESIS_EPOCH_CONFIG: sp_consensus_babe::BabeEpochConfiguration =
	sp_consensus_babe::BabeEpochConfiguration {
		c: (0, 1),
		allowed_slots: sp_consensus_babe::AllowedSlots::PrimaryAndSecondaryVRFSlots,
	};

impl pallet_babe::Config for Runtime {
	type EpochDuration = ConstU64<EPOCH_DURATION_IN_SLOTS>;
	type ExpectedBlockTime = ConstU64<MILLI_SECS_PER_BLOCK>;
	/// The session pallet ends epochs: `Session::rotate_session` enacts BABE's epoch change.
	type EpochChangeTrigger = pallet_babe::ExternalTrigger;
	/// Validators disabled by the session pallet (after too many offences) author no blocks.
	type DisabledValidators = crate::Session;
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<MAX_AUTHORITIES>;
	type MaxNominators = ConstU32<0>;
	/// That the key was the offender's in the offence's session.
	type KeyOwnerProof = sp_session::MembershipProof;
	type EquivocationReportSystem =
		pallet_babe::EquivocationReportSystem<Self, Offences, Historical, ReportLongevity>;
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<MAX_AUTHORITIES>;
	type MaxNominators = ConstU32<0>;
	/// GRANDPA's set changes at most once per session: a set id is mapped to its session as long
	/// as the session's proofs are kept, so that reports of it can be checked.
	type MaxSetIdSessionEntries = ConstU64<{ HISTORY_DEPTH as u64 }>;
	/// That the key was the offender's in the offence's session.
	type KeyOwnerProof = sp_session::MembershipProof;
	type EquivocationReportSystem =
		pallet_grandpa::EquivocationReportSystem<Self, Offences, Historical, ReportLongevity>;
}

/// [`ReportLongevity`], computed in a `const` so that an overflow fails the build.
const REPORT_LONGEVITY: u64 = HISTORY_DEPTH as u64 * EPOCH_DURATION_IN_SLOTS;

parameter_types! {
	/// Blocks an unsigned equivocation report stays valid in the pool: the reportable history.
	pub const ReportLongevity: u64 = REPORT_LONGEVITY;
	/// The most a validator loses for the equivocations of one session. BABE and GRANDPA ask
	/// `min((3k / n)², 1)` for `k` offenders of `n` validators (56 % for one of four): the cap
	/// keeps one misconfigured node (two nodes started with the same keys) from costing more than
	/// a tenth of its bond, while a coordinated attack of a third of the set still loses that much
	/// per session on top of being chilled.
	pub const MaxOffenceSlash: Perbill = Perbill::from_percent(10);
}

/// The block author, for the reports' reporter and the equivocation checks.
impl pallet_authorship::Config for Runtime {
	type FindAuthor = pallet_session::FindAccountFromAuthorIndex<Self, crate::Babe>;
	type EventHandler = ();
}

/// Keeps each reported offence once and hands it to the staking pallet.
impl pallet_offences::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type IdentificationTuple = pallet_session::historical::IdentificationTuple<Self>;
	type OnOffenceHandler = crate::Staking;
}
