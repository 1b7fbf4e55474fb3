//! Staking and sessions: bonded validators form the set that BABE, GRANDPA and inference follow.

use frame_support::{
	parameter_types,
	traits::{ConstBool, ConstU128, ConstU32},
};
use gateless_primitives::crypto::InferenceId;
use sp_runtime::{traits::ConvertInto, BoundToRuntimeAppPublic};

use crate::{
	configs::MAX_AUTHORITIES, token, AccountId, Balance, Balances, BlockNumber, Runtime,
	RuntimeEvent, RuntimeHoldReason, Session, SessionKeys, Staking, MINUTES,
};

/// Blocks per session: validators who bond and `validate` take over one to two sessions later.
/// One minute, so that a test network rotates quickly; a public network would use an hour.
pub const SESSION_LENGTH: BlockNumber = MINUTES;

parameter_types! {
	/// Until the admin sets others: 1,000 GATE to be a candidate, at least one and at most 100
	/// validators, three offences per session tolerated.
	pub DefaultStakingParams: pallet_validator_staking::StakingParams<Balance> =
		pallet_validator_staking::StakingParams {
			min_validator_bond: 1_000 * token::UNIT,
			min_validators: 1,
			max_validators: MAX_AUTHORITIES,
			max_offences_per_session: 3,
		};
}

impl pallet_validator_staking::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Session = Session;
	/// Root or two thirds of the Council.
	type AdminOrigin = crate::configs::GovernanceOrigin;
	/// Slashed funds are burnt.
	type Slashed = ();
	/// One day: long enough for the verification of every job a validator took to end.
	type UnbondingPeriod = ConstU32<{ crate::DAYS }>;
	type SessionLength = ConstU32<SESSION_LENGTH>;
	/// BABE ends sessions with its epochs.
	type EndsSessions = ConstBool<false>;
	type MaxValidators = ConstU32<MAX_AUTHORITIES>;
	type MaxCandidates = ConstU32<{ 2 * MAX_AUTHORITIES }>;
	type MaxUnlockingChunks = ConstU32<16>;
	type DefaultParams = DefaultStakingParams;
	type WeightInfo = pallet_validator_staking::weights::SubstrateWeight<Runtime>;
}

impl pallet_session::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type ValidatorId = AccountId;
	/// Any account may set keys; it only validates once bonded and chosen.
	type ValidatorIdOf = ConvertInto;
	/// Sessions are BABE's epochs: BABE's block import expects an epoch change at the slot where
	/// the epoch ends, so only BABE may decide when a session ends.
	type ShouldEndSession = crate::Babe;
	type NextSessionRotation = crate::Babe;
	type SessionManager = Staking;
	type SessionHandler = <SessionKeys as sp_runtime::traits::OpaqueKeys>::KeyTypeIdProviders;
	type Keys = SessionKeys;
	/// At most a third of the set can be disabled, so that a slashing wave cannot halt blocks.
	type DisablingStrategy = pallet_session::disabling::UpToLimitDisablingStrategy;
	type WeightInfo = pallet_session::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	/// Held while keys are set, so that key storage is not free.
	type KeyDeposit = ConstU128<{ token::UNIT }>;
}

/// The session handler of the inference key. The session pallet keeps the keys (and which
/// validator owns which key); offchain workers sign with them and the verification pallet checks
/// them, so nothing more happens at rotation.
pub struct InferenceKeys;

impl BoundToRuntimeAppPublic for InferenceKeys {
	type Public = InferenceId;
}

impl frame_support::traits::OneSessionHandler<AccountId> for InferenceKeys {
	type Key = InferenceId;

	fn on_genesis_session<'a, I>(_: I)
	where
		I: 'a + Iterator<Item = (&'a AccountId, Self::Key)>,
	{
	}

	fn on_new_session<'a, I>(_: bool, _: I, _: I)
	where
		I: 'a + Iterator<Item = (&'a AccountId, Self::Key)>,
	{
	}

	fn on_disabled(_: u32) {}
}
