//! Consensus: Aura authors blocks in turn, GRANDPA finalizes them.

use frame_support::traits::{ConstBool, ConstU32, ConstU64};
use sp_consensus_aura::sr25519::AuthorityId as AuraId;

use crate::{Runtime, RuntimeEvent};

/// The largest validator set that Aura and GRANDPA accept.
pub const MAX_AUTHORITIES: u32 = 100;

impl pallet_aura::Config for Runtime {
	type AuthorityId = AuraId;
	/// Validators disabled by the session pallet (after too many offences) author no blocks.
	type DisabledValidators = crate::Session;
	type MaxAuthorities = ConstU32<MAX_AUTHORITIES>;
	/// One block per slot: a second block in the same slot would be an equivocation.
	type AllowMultipleBlocksPerSlot = ConstBool<false>;
	type SlotDuration = pallet_aura::MinimumPeriodTimesTwo<Runtime>;
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<MAX_AUTHORITIES>;
	type MaxNominators = ConstU32<0>;
	type MaxSetIdSessionEntries = ConstU64<0>;
	// Equivocation reports need a session-historical proof; they come with the staking pallet.
	type KeyOwnerProof = sp_core::Void;
	type EquivocationReportSystem = ();
}
