//! Staking and sessions: bonded validators form the set that BABE, GRANDPA and inference follow.

use frame_support::{
	parameter_types,
	traits::{ConstBool, ConstU128, ConstU32},
};
use gateless_primitives::crypto::InferenceId;
use sp_runtime::{traits::ConvertInto, BoundToRuntimeAppPublic};
use sp_staking::SessionIndex;

use alloc::vec::Vec;

use crate::{
	configs::{MaxOffenceSlash, MAX_AUTHORITIES},
	token, AccountId, Balance, Balances, BlockNumber, Historical, Runtime, RuntimeEvent,
	RuntimeHoldReason, Session, SessionKeys, Staking, HOURS, MINUTES,
};

/// Blocks per session: validators who bond and `validate` take over one to two sessions later.
/// One minute, so that a test network rotates quickly; a public network would use an hour.
pub const SESSION_LENGTH: BlockNumber = MINUTES;

/// Sessions (six hours) whose validator sets are kept as session-historical roots, so that an
/// equivocation of that long ago can still be proven and slashed; well inside the unbonding
/// period, so that the offender's bond is still held.
pub const HISTORY_DEPTH: SessionIndex = 6 * HOURS / SESSION_LENGTH;

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
	type HistoryDepth = ConstU32<HISTORY_DEPTH>;
	type MaxOffenceSlash = MaxOffenceSlash;
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
	/// The staking pallet chooses each set; the historical pallet keeps its root for the proofs
	/// of equivocation reports.
	type SessionManager = pallet_session::historical::NoteHistoricalRoot<Self, StakingSessions>;
	type SessionHandler = <SessionKeys as sp_runtime::traits::OpaqueKeys>::KeyTypeIdProviders;
	type Keys = SessionKeys;
	/// At most a third of the set can be disabled, so that a slashing wave cannot halt blocks.
	type DisablingStrategy = pallet_session::disabling::UpToLimitDisablingStrategy;
	type WeightInfo = pallet_session::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	/// Held while keys are set, so that key storage is not free.
	type KeyDeposit = ConstU128<{ token::UNIT }>;
}

/// Validators are identified by their account alone: what the offences pallet hands the staking
/// pallet is the offender's account, and its bond is read when the offence is slashed.
impl pallet_session::historical::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type FullIdentification = ();
	type FullIdentificationOf = AnyValidator;
}

/// Every validator has the identification `()`.
pub struct AnyValidator;

impl sp_runtime::traits::Convert<AccountId, Option<()>> for AnyValidator {
	fn convert(_: AccountId) -> Option<()> {
		Some(())
	}
}

/// The staking pallet as the historical session manager: the sets it chooses, each validator
/// identified by `()`, and the historical roots pruned to [`HISTORY_DEPTH`] sessions as each
/// session starts.
pub struct StakingSessions;

impl pallet_session::SessionManager<AccountId> for StakingSessions {
	fn new_session(index: SessionIndex) -> Option<Vec<AccountId>> {
		<Staking as pallet_session::SessionManager<AccountId>>::new_session(index)
	}

	fn new_session_genesis(index: SessionIndex) -> Option<Vec<AccountId>> {
		<Staking as pallet_session::SessionManager<AccountId>>::new_session_genesis(index)
	}

	fn start_session(index: SessionIndex) {
		Historical::prune_up_to(index.saturating_sub(HISTORY_DEPTH));
		<Staking as pallet_session::SessionManager<AccountId>>::start_session(index)
	}

	fn end_session(index: SessionIndex) {
		<Staking as pallet_session::SessionManager<AccountId>>::end_session(index)
	}
}

impl pallet_session::historical::SessionManager<AccountId, ()> for StakingSessions {
	fn new_session(index: SessionIndex) -> Option<Vec<(AccountId, ())>> {
		<Self as pallet_session::SessionManager<AccountId>>::new_session(index)
			.map(|set| set.into_iter().map(|validator| (validator, ())).collect())
	}

	fn new_session_genesis(index: SessionIndex) -> Option<Vec<(AccountId, ())>> {
		<Self as pallet_session::SessionManager<AccountId>>::new_session_genesis(index)
			.map(|set| set.into_iter().map(|validator| (validator, ())).collect())
	}

	fn start_session(index: SessionIndex) {
		<Self as pallet_session::SessionManager<AccountId>>::start_session(index)
	}

	fn end_session(index: SessionIndex) {
		<Self as pallet_session::SessionManager<AccountId>>::end_session(index)
	}
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
