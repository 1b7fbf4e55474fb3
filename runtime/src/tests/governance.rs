//! The Council: two-thirds motions act as the Gateless pallets' admin and, through the whitelist,
//! as root; smaller motions and non-members cannot.

use codec::Encode;
use frame_support::{assert_noop, assert_ok, dispatch::GetDispatchInfo};
use sp_keyring::Sr25519Keyring::{Alice, Bob, Charlie, Dave};
use sp_runtime::traits::{BlakeTwo256, Hash};

use super::build;
use crate::{
	configs::CouncilCollective, AccountId, Council, Runtime, RuntimeCall, RuntimeEvent,
	RuntimeOrigin, System,
};

fn origin(who: sp_keyring::Sr25519Keyring) -> RuntimeOrigin {
	RuntimeOrigin::signed(who.to_account_id())
}

/// `proposer` proposes `call` with `threshold`, it and each of `ayes` vote for it, and Dave (not
/// a member: anyone may close) closes it. Returns the motion's `Executed` result, if it ran.
fn pass_motion(
	proposer: sp_keyring::Sr25519Keyring,
	ayes: &[sp_keyring::Sr25519Keyring],
	threshold: u32,
	call: RuntimeCall,
) -> Option<sp_runtime::DispatchResult> {
	let length = call.encoded_size() as u32;
	let weight = call.get_dispatch_info().call_weight;
	let hash = BlakeTwo256::hash_of(&call);
	let index = pallet_collective::ProposalCount::<Runtime, CouncilCollective>::get();
	assert_ok!(Council::propose(origin(proposer), threshold, Box::new(call), length));
	// A motion that passes at once (threshold 1) has no votes to take.
	if !pallet_collective::ProposalOf::<Runtime, CouncilCollective>::contains_key(hash) {
		return executed(hash);
	}
	// The proposer's vote is not implied.
	for voter in core::iter::once(&proposer).chain(ayes) {
		assert_ok!(Council::vote(origin(*voter), hash, index, true));
	}
	if pallet_collective::ProposalOf::<Runtime, CouncilCollective>::contains_key(hash) {
		assert_ok!(Council::close(origin(Dave), hash, index, weight, length));
	}
	executed(hash)
}

/// The result of the motion `hash`'s call, if it was dispatched.
fn executed(hash: crate::Hash) -> Option<sp_runtime::DispatchResult> {
	System::events().into_iter().rev().find_map(|record| match record.event {
		RuntimeEvent::Council(pallet_collective::Event::Executed { proposal_hash, result })
			if proposal_hash == hash =>
		{
			Some(result)
		},
		_ => None,
	})
}

fn staking_params() -> pallet_validator_staking::StakingParams<crate::Balance> {
	pallet_validator_staking::Params::<Runtime>::get()
}

#[test]
fn two_thirds_of_the_council_set_a_parameter() {
	build(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET).execute_with(|| {
		System::set_block_number(1);
		let mut params = staking_params();
		params.max_offences_per_session = 5;
		let call = RuntimeCall::Staking(pallet_validator_staking::Call::set_params { params });
		assert_eq!(pass_motion(Alice, &[Bob], 2, call), Some(Ok(())));
		assert_eq!(staking_params().max_offences_per_session, 5);
	});
}

#[test]
fn a_third_of_the_council_is_not_the_admin() {
	build(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET).execute_with(|| {
		System::set_block_number(1);
		let before = staking_params();
		let mut params = before;
		params.max_offences_per_session = 5;
		let call = RuntimeCall::Staking(pallet_validator_staking::Call::set_params { params });
		// A threshold of one executes at once, with the origin "1 of 3 members".
		assert_eq!(
			pass_motion(Alice, &[], 1, call),
			Some(Err(sp_runtime::DispatchError::BadOrigin))
		);
		assert_eq!(staking_params(), before);
	});
}

#[test]
fn non_members_cannot_propose_or_vote_and_nobody_signs_as_admin() {
	build(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET).execute_with(|| {
		System::set_block_number(1);
		let call = RuntimeCall::Staking(pallet_validator_staking::Call::force_new_session {});
		assert_noop!(
			Council::propose(origin(Dave), 2, Box::new(call.clone()), call.encoded_size() as u32),
			pallet_collective::Error::<Runtime, CouncilCollective>::NotMember
		);
		let length = call.encoded_size() as u32;
		assert_ok!(Council::propose(origin(Alice), 2, Box::new(call.clone()), length));
		assert_noop!(
			Council::vote(origin(Dave), BlakeTwo256::hash_of(&call), 0, true),
			pallet_collective::Error::<Runtime, CouncilCollective>::NotMember
		);
		// A member alone is a signed origin, not the admin.
		assert_noop!(
			crate::Staking::force_new_session(origin(Alice)),
			sp_runtime::DispatchError::BadOrigin
		);
		// Even the admin cannot end a session: BABE ends them with its epochs.
		assert_noop!(
			crate::Staking::force_new_session(RuntimeOrigin::root()),
			pallet_validator_staking::Error::<Runtime>::SessionsFollowEpochs
		);
		// There is no sudo key on the local chain.
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), None);
	});
}

#[test]
fn the_council_authorizes_a_runtime_upgrade_through_the_whitelist() {
	build(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET).execute_with(|| {
		System::set_block_number(1);
		let code_hash = BlakeTwo256::hash(b"the next runtime");
		let authorize = RuntimeCall::System(frame_system::Call::authorize_upgrade { code_hash });
		// Without the whitelist, the Council's origin is not root.
		assert_eq!(
			pass_motion(Alice, &[Bob], 2, authorize.clone()),
			Some(Err(sp_runtime::DispatchError::BadOrigin))
		);
		assert!(System::authorized_upgrade().is_none());

		let batch = RuntimeCall::Utility(pallet_utility::Call::batch_all {
			calls: vec![
				RuntimeCall::Whitelist(pallet_whitelist::Call::whitelist_call {
					call_hash: BlakeTwo256::hash_of(&authorize),
				}),
				RuntimeCall::Whitelist(
					pallet_whitelist::Call::dispatch_whitelisted_call_with_preimage {
						call: Box::new(authorize),
					},
				),
			],
		});
		assert_eq!(pass_motion(Bob, &[Charlie], 2, batch), Some(Ok(())));
		let authorized = System::authorized_upgrade().expect("authorized");
		assert_eq!(authorized.code_hash(), &code_hash);
	});
}

#[test]
fn the_council_changes_its_own_members() {
	build(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET).execute_with(|| {
		System::set_block_number(1);
		let dave: AccountId = Dave.to_account_id();
		let call = RuntimeCall::CouncilMembership(pallet_membership::Call::add_member {
			who: dave.clone().into(),
		});
		assert_eq!(pass_motion(Alice, &[Charlie], 2, call), Some(Ok(())));
		assert!(pallet_collective::Members::<Runtime, CouncilCollective>::get().contains(&dave));
	});
}
