//! Consensus: BABE authors blocks in slots won by VRF, GRANDPA finalizes them. Sessions follow
//! BABE's epochs.

use frame_support::traits::{ConstU32, ConstU64};

use crate::{configs::SESSION_LENGTH, Runtime, RuntimeEvent, MILLI_SECS_PER_BLOCK};

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
	// Equivocation reports need a session-historical proof; they come with the staking pallet.
	type KeyOwnerProof = sp_core::Void;
	type EquivocationReportSystem = ();
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
