//! Equivocation reports through the runtime: a GRANDPA voter that signs two prevotes in one round
//! is reported with a session-historical proof of its key, the offences pallet records the offence
//! once, and the staking pallet slashes, chills and disables the offender; a BABE author's two
//! sealed headers of one slot pass the pool's validation and slash her. (Real nodes report both
//! kinds in the `equivocation` end-to-end test.)

use frame_support::{assert_noop, assert_ok, traits::KeyOwnerProofSystem};
use sp_consensus_grandpa::{AuthorityId as GrandpaId, EquivocationProof, RoundNumber, SetId};
use sp_core::{Pair, H256};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};
use sp_runtime::Perbill;
use sp_staking::offence::ReportOffence;

use super::{build, start_block};
use crate::{
	genesis_config_presets::GENESIS_VALIDATOR_BOND, BlockNumber, Grandpa, Historical, Runtime,
	RuntimeEvent, RuntimeOrigin, Staking, System,
};

/// `voter`'s two prevotes for different blocks at the same height, in one round.
fn double_prevote(
	voter: Ed25519Keyring,
	round: RoundNumber,
	set_id: SetId,
) -> EquivocationProof<H256, BlockNumber> {
	prevotes(voter, round, set_id, [H256::repeat_byte(1), H256::repeat_byte(2)])
}

/// `voter`'s prevotes for `targets` (at the same height) in one round, as an equivocation proof.
fn prevotes(
	voter: Ed25519Keyring,
	round: RoundNumber,
	set_id: SetId,
	targets: [H256; 2],
) -> EquivocationProof<H256, BlockNumber> {
	let pair = voter.pair();
	let signed = |target_hash: H256| {
		let prevote = finality_grandpa::Prevote { target_hash, target_number: 1 };
		let payload = sp_consensus_grandpa::localized_payload(
			round,
			set_id,
			&finality_grandpa::Message::<H256, BlockNumber>::Prevote(prevote.clone()),
		);
		(prevote, pair.sign(&payload).into())
	};
	EquivocationProof::new(
		set_id,
		sp_consensus_grandpa::Equivocation::Prevote(finality_grandpa::Equivocation {
			round_number: round,
			identity: GrandpaId::from(pair.public()),
			first: signed(targets[0]),
			second: signed(targets[1]),
		}),
	)
}

fn grandpa_key_ownership(voter: Ed25519Keyring) -> sp_session::MembershipProof {
	Historical::prove((sp_consensus_grandpa::KEY_TYPE, GrandpaId::from(voter.public())))
		.expect("the voter's key is in the current session's set")
}

fn held_bond(who: &crate::AccountId) -> crate::Balance {
	use frame_support::traits::fungible::InspectHold;
	crate::Balances::balance_on_hold(&pallet_validator_staking::HoldReason::Bond.into(), who)
}

#[test]
fn a_grandpa_equivocation_is_reported_once_and_slashes_chills_and_disables_the_voter() {
	build(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET).execute_with(|| {
		start_block(1);
		let alice = Sr25519Keyring::Alice.to_account_id();
		let bob = Sr25519Keyring::Bob.to_account_id();
		let set_id = Grandpa::current_set_id();
		let proof = double_prevote(Ed25519Keyring::Alice, 3, set_id);

		assert_ok!(Grandpa::report_equivocation_unsigned(
			RuntimeOrigin::none(),
			Box::new(proof.clone()),
			grandpa_key_ownership(Ed25519Keyring::Alice),
		));

		let offence = System::events().into_iter().find_map(|record| match record.event {
			RuntimeEvent::Offences(pallet_offences::Event::Offence { kind, .. }) => Some(kind),
			_ => None,
		});
		assert_eq!(offence.as_ref().map(|kind| &kind[..8]), Some(&b"grandpa:"[..]));
		// One of four validators: the offence asks (3/4)² = 56 %, the cap takes 10 %.
		let fraction = Perbill::from_percent(10);
		assert_eq!(held_bond(&alice), GENESIS_VALIDATOR_BOND - fraction * GENESIS_VALIDATOR_BOND);
		assert_eq!(pallet_validator_staking::OffenceSlashes::<Runtime>::get(0, &alice), fraction);
		assert!(!pallet_validator_staking::Candidates::<Runtime>::contains_key(&alice));
		System::assert_has_event(
			pallet_validator_staking::Event::<Runtime>::OffenceReported {
				who: alice.clone(),
				session: 0,
				fraction,
				disabled: true,
			}
			.into(),
		);
		let alice_index = crate::Session::validators().iter().position(|v| *v == alice);
		assert_eq!(
			crate::Session::disabled_validators(),
			vec![alice_index.expect("Alice validates") as u32]
		);
		// Nobody else pays.
		assert_eq!(held_bond(&bob), GENESIS_VALIDATOR_BOND);

		// The same equivocation again is a known offence: refused, nothing slashed twice.
		assert_noop!(
			Grandpa::report_equivocation_unsigned(
				RuntimeOrigin::none(),
				Box::new(proof),
				grandpa_key_ownership(Ed25519Keyring::Alice),
			),
			pallet_grandpa::Error::<Runtime>::DuplicateOffenceReport
		);
		Staking::do_try_state().expect("the staking invariants hold");
	});
}

#[test]
fn a_report_with_another_validators_key_proof_or_two_equal_votes_is_refused() {
	build(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET).execute_with(|| {
		start_block(1);
		let set_id = Grandpa::current_set_id();
		// Bob's key-ownership proof for Alice's equivocation.
		assert_noop!(
			Grandpa::report_equivocation_unsigned(
				RuntimeOrigin::none(),
				Box::new(double_prevote(Ed25519Keyring::Alice, 3, set_id)),
				grandpa_key_ownership(Ed25519Keyring::Bob),
			),
			pallet_grandpa::Error::<Runtime>::InvalidKeyOwnershipProof
		);
		// A vote signed once and presented twice is no equivocation.
		let same_block = H256::repeat_byte(1);
		let honest = prevotes(Ed25519Keyring::Bob, 3, set_id, [same_block, same_block]);
		assert_noop!(
			Grandpa::report_equivocation_unsigned(
				RuntimeOrigin::none(),
				Box::new(honest),
				grandpa_key_ownership(Ed25519Keyring::Bob),
			),
			pallet_grandpa::Error::<Runtime>::InvalidEquivocationProof
		);
		let bob = Sr25519Keyring::Bob.to_account_id();
		assert_eq!(held_bond(&bob), GENESIS_VALIDATOR_BOND);
		assert!(!<crate::Offences as ReportOffence<
			_,
			_,
			pallet_grandpa::EquivocationOffence<_>,
		>>::is_known_offence(
			&[(bob, ())], &pallet_grandpa::TimeSlot { set_id, round: 3 },
		));
	});
}

/// A header of block 2 in `slot`, authored by the BABE authority at `authority_index` (a
/// secondary slot), sealed by `author`; `variant` makes headers of one slot differ.
fn babe_header(
	slot: u64,
	authority_index: u32,
	author: Sr25519Keyring,
	variant: u8,
) -> crate::Header {
	use sp_consensus_babe::digests::{CompatibleDigestItem, PreDigest, SecondaryPlainPreDigest};
	use sp_runtime::{
		traits::{Hash, Header as _},
		Digest, DigestItem,
	};
	let pre_digest =
		PreDigest::SecondaryPlain(SecondaryPlainPreDigest { authority_index, slot: slot.into() });
	let mut header = crate::Header::new(
		2,
		H256::zero(),
		H256::repeat_byte(variant),
		System::parent_hash(),
		Digest { logs: vec![<DigestItem as CompatibleDigestItem>::babe_pre_digest(pre_digest)] },
	);
	let pre_hash = <crate::Header as sp_runtime::traits::Header>::Hashing::hash_of(&header);
	let seal = author.pair().sign(pre_hash.as_ref());
	header
		.digest_mut()
		.push(<DigestItem as CompatibleDigestItem>::babe_seal(seal.into()));
	header
}

/// Alice's two blocks in one slot, as BABE's block import finds them.
fn double_block(slot: u64) -> sp_consensus_babe::EquivocationProof<crate::Header> {
	let alice = sp_consensus_babe::AuthorityId::from(Sr25519Keyring::Alice.public());
	let index = crate::Babe::authorities()
		.iter()
		.position(|(authority, _)| *authority == alice)
		.expect("Alice authors") as u32;
	sp_consensus_babe::EquivocationProof {
		offender: alice,
		slot: slot.into(),
		first_header: babe_header(slot, index, Sr25519Keyring::Alice, 1),
		second_header: babe_header(slot, index, Sr25519Keyring::Alice, 2),
	}
}

#[test]
fn a_babe_equivocation_passes_the_pool_and_slashes_the_author() {
	use sp_runtime::transaction_validity::TransactionSource;
	build(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET).execute_with(|| {
		start_block(1);
		let alice = Sr25519Keyring::Alice.to_account_id();
		let key_owner_proof = Historical::prove((
			sp_consensus_babe::KEY_TYPE,
			sp_consensus_babe::AuthorityId::from(Sr25519Keyring::Alice.public()),
		))
		.expect("Alice's BABE key is in the current set");
		let report = pallet_babe::Call::<Runtime>::report_equivocation_unsigned {
			equivocation_proof: Box::new(double_block(3)),
			key_owner_proof: key_owner_proof.clone(),
		};
		// What the node's pool asks of the report it submits at its best block.
		let transaction = crate::UncheckedExtrinsic::new_bare(report.clone().into());
		let validity = crate::Executive::validate_transaction(
			TransactionSource::Local,
			transaction,
			System::parent_hash(),
		);
		assert!(validity.is_ok(), "the pool refuses the report: {validity:?}");

		assert_ok!(crate::Babe::report_equivocation_unsigned(
			RuntimeOrigin::none(),
			Box::new(double_block(3)),
			key_owner_proof,
		));
		let offence = System::events().into_iter().find_map(|record| match record.event {
			RuntimeEvent::Offences(pallet_offences::Event::Offence { kind, .. }) => Some(kind),
			_ => None,
		});
		assert_eq!(offence.as_ref().map(|kind| &kind[..5]), Some(&b"babe:"[..]));
		let fraction = Perbill::from_percent(10);
		assert_eq!(held_bond(&alice), GENESIS_VALIDATOR_BOND - fraction * GENESIS_VALIDATOR_BOND);
		Staking::do_try_state().expect("the staking invariants hold");
	});
}

#[test]
fn the_runtime_api_submits_no_report_of_unsealed_headers() {
	use codec::Encode;
	use sp_consensus_babe::runtime_decl_for_babe_api::BabeApi;
	use sp_runtime::traits::Header as _;
	build(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET).execute_with(|| {
		start_block(1);
		let key_owner_proof = Historical::prove((
			sp_consensus_babe::KEY_TYPE,
			sp_consensus_babe::AuthorityId::from(Sr25519Keyring::Alice.public()),
		))
		.expect("Alice's BABE key is in the current set");
		// What `sc-consensus-babe` 0.60 reports: the headers without their seals.
		let mut proof = double_block(3);
		proof.first_header.digest_mut().pop();
		proof.second_header.digest_mut().pop();
		// Refused before anything reaches the pool (which this test has none of).
		assert_eq!(
			<Runtime as BabeApi<crate::Block>>::submit_report_equivocation_unsigned_extrinsic(
				proof,
				sp_consensus_babe::OpaqueKeyOwnershipProof::new(key_owner_proof.encode()),
			),
			None
		);
	});
}
