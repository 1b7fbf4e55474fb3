//! Governance through extrinsics: a Council of accounts whose two-thirds motions stand in for
//! root.
//!
//! - `Council` (pallet-collective) holds motions: a member proposes a call with a threshold, the
//!   members vote, and anyone closes the motion once it has the votes (or after
//!   [`COUNCIL_MOTION_DURATION`]). A closed, approved motion dispatches its call with the
//!   Council's origin.
//! - `CouncilMembership` (pallet-membership) decides who sits on the Council: a motion of the
//!   Council (or root) adds, removes or swaps members.
//! - [`GovernanceOrigin`], root or two thirds of the Council, is the `AdminOrigin` of the Gateless
//!   pallets (ban or reject a model, set parameters, force-chill a validator, force a new
//!   session).
//! - Calls that only root may make (a runtime upgrade: `System::authorize_upgrade`) go through
//!   `Whitelist`: one motion batches `Whitelist::whitelist_call(hash)` and
//!   `Whitelist::dispatch_whitelisted_call_with_preimage(call)`, which dispatches the call as
//!   root. `Preimage` keeps the whitelisted call's hash requested until then.
//!
//! `Sudo` stays in the runtime for the `development` chain, whose genesis gives Alice the key;
//! the `local_testnet` genesis has no sudo key, so only the Council governs it.

use frame_support::{
	parameter_types,
	traits::{fungible::HoldConsideration, ConstU32, EitherOfDiverse, LinearStoragePrice},
	weights::Weight,
};
use frame_system::EnsureRoot;
use sp_runtime::Perbill;

use crate::{
	configs::RuntimeBlockWeights, token, AccountId, Balance, Balances, BlockNumber, Council,
	OriginCaller, Preimage, Runtime, RuntimeCall, RuntimeEvent, RuntimeHoldReason, RuntimeOrigin,
	System, DAYS,
};

/// How long a motion may collect votes before anyone can close it with what it has.
pub const COUNCIL_MOTION_DURATION: BlockNumber = DAYS;

/// The most seats on the Council.
pub const COUNCIL_MAX_MEMBERS: u32 = 16;

/// The Council's instance of pallet-collective.
pub type CouncilCollective = pallet_collective::Instance1;

/// At least two thirds of the Council.
pub type CouncilTwoThirds =
	pallet_collective::EnsureProportionAtLeast<AccountId, CouncilCollective, 2, 3>;

/// Root (sudo, on the development chain only) or two thirds of the Council.
pub type GovernanceOrigin = EitherOfDiverse<EnsureRoot<AccountId>, CouncilTwoThirds>;

parameter_types! {
	/// A motion's call may take at most half a block.
	pub CouncilMaxProposalWeight: Weight =
		super::system::share_of(Perbill::from_percent(50), RuntimeBlockWeights::get().max_block);
	pub const PreimageHoldReason: RuntimeHoldReason =
		RuntimeHoldReason::Preimage(pallet_preimage::HoldReason::Preimage);
}

impl pallet_collective::Config<CouncilCollective> for Runtime {
	type RuntimeOrigin = RuntimeOrigin;
	type Proposal = RuntimeCall;
	type RuntimeEvent = RuntimeEvent;
	type MotionDuration = ConstU32<COUNCIL_MOTION_DURATION>;
	type MaxProposals = ConstU32<32>;
	type MaxMembers = ConstU32<COUNCIL_MAX_MEMBERS>;
	/// A member who does not vote follows the prime member, if there is one.
	type DefaultVote = pallet_collective::PrimeDefaultVote;
	type WeightInfo = pallet_collective::weights::SubstrateWeight<Runtime>;
	/// Only `CouncilMembership` (or root) sets the members.
	type SetMembersOrigin = EnsureRoot<AccountId>;
	type MaxProposalWeight = CouncilMaxProposalWeight;
	type DisapproveOrigin = GovernanceOrigin;
	type KillOrigin = GovernanceOrigin;
	/// Only members can propose, so proposals hold no deposit.
	type Consideration = ();
}

impl pallet_membership::Config<pallet_membership::Instance1> for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type AddOrigin = GovernanceOrigin;
	type RemoveOrigin = GovernanceOrigin;
	type SwapOrigin = GovernanceOrigin;
	type ResetOrigin = GovernanceOrigin;
	type PrimeOrigin = GovernanceOrigin;
	type MembershipInitialized = Council;
	type MembershipChanged = Council;
	type MaxMembers = ConstU32<COUNCIL_MAX_MEMBERS>;
	type WeightInfo = pallet_membership::weights::SubstrateWeight<Runtime>;
}

impl pallet_whitelist::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WhitelistOrigin = GovernanceOrigin;
	type DispatchWhitelistedOrigin = GovernanceOrigin;
	type Preimages = Preimage;
	/// A whitelisted call not dispatched within a day is dropped.
	type DeferredDispatchExpiration = ConstU32<DAYS>;
	type BlockNumberProvider = System;
	type WeightInfo = pallet_whitelist::weights::SubstrateWeight<Runtime>;
}

impl pallet_preimage::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = pallet_preimage::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type ManagerOrigin = GovernanceOrigin;
	/// Whoever notes a preimage holds 1 GATE plus 1 milli-GATE per byte until it is used.
	type Consideration = HoldConsideration<
		AccountId,
		Balances,
		PreimageHoldReason,
		LinearStoragePrice<
			frame_support::traits::ConstU128<{ token::UNIT }>,
			frame_support::traits::ConstU128<{ token::MILLI_UNIT }>,
			Balance,
		>,
	>;
}

impl pallet_utility::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type PalletsOrigin = OriginCaller;
	type WeightInfo = pallet_utility::weights::SubstrateWeight<Runtime>;
}
