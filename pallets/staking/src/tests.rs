//! Tests of the validator staking pallet, with real session rotations.

use frame_support::{assert_noop, assert_ok, traits::fungible::InspectHold};
use gateless_primitives::traits::{
	SlashAmount, SlashReason, Slashing, ValidatorRecords, ValidatorSet,
};
use sp_runtime::{DispatchError, Perbill};

use crate::{mock::*, *};

fn signed(who: AccountId) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}

fn held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::Bond.into(), &who)
}

fn ledger(who: AccountId) -> LedgerOf<Test> {
	Ledgers::<Test>::get(who).expect("bonded")
}

/// Bonds, sets keys and validates.
fn become_candidate(who: AccountId, bond: Balance) {
	assert_ok!(Staking::bond(signed(who), bond));
	set_keys(who);
	assert_ok!(Staking::validate(signed(who)));
}

mod genesis {
	use super::*;

	#[test]
	fn genesis_validators_are_bonded_candidates_and_the_first_set() {
		ExtBuilder.build_and_execute(|| {
			for v in [V1, V2, V3] {
				assert_eq!(held(v), GENESIS_BOND);
				assert!(Candidates::<Test>::contains_key(v));
			}
			assert_eq!(session_validators(), vec![V1, V2, V3]);
			assert_eq!(ActiveValidators::<Test>::get().to_vec(), vec![V1, V2, V3]);
			assert!(<Staking as ValidatorSet<AccountId>>::is_active(&V2));
			assert_eq!(<Staking as ValidatorSet<AccountId>>::active_count(), 3);
		});
	}
}

mod bonding {
	use super::*;

	/// The executor draw weighs validators by their bonds as the session started: bonding or
	/// unbonding mid-session, when a draw's seed may be known to its block's author, changes
	/// nothing until the next session.
	#[test]
	fn the_draws_weights_are_the_bonds_as_the_session_started() {
		use gateless_primitives::traits::ValidatorStakes;
		ExtBuilder.build_and_execute(|| {
			let stakes = || <Staking as ValidatorStakes<AccountId, Balance>>::active_stakes();
			let genesis = vec![(V1, GENESIS_BOND), (V2, GENESIS_BOND), (V3, GENESIS_BOND)];
			assert_eq!(stakes(), genesis);
			assert_ok!(Staking::bond_extra(signed(V1), 500));
			assert_ok!(Staking::unbond(signed(V2), 100));
			assert_eq!(stakes(), genesis);
			run_to_session(Session::current_index() + 1);
			assert_eq!(
				stakes(),
				vec![(V1, GENESIS_BOND + 500), (V2, GENESIS_BOND - 100), (V3, GENESIS_BOND)]
			);
		});
	}

	#[test]
	fn bond_and_bond_extra_hold_the_funds() {
		ExtBuilder.build_and_execute(|| {
			assert_ok!(Staking::bond(signed(ALICE), 300));
			assert_ok!(Staking::bond_extra(signed(ALICE), 200));
			assert_eq!(held(ALICE), 500);
			assert_eq!(ledger(ALICE).active, 500);
			assert_eq!(Balances::free_balance(ALICE), INITIAL_BALANCE - 500);
			System::assert_last_event(Event::<Test>::Bonded { who: ALICE, amount: 200 }.into());
		});
	}

	#[test]
	fn bonding_errors() {
		ExtBuilder.build_and_execute(|| {
			assert_noop!(Staking::bond(signed(ALICE), 0), Error::<Test>::ZeroAmount);
			assert_noop!(
				Staking::bond(signed(ALICE), INITIAL_BALANCE * 2),
				Error::<Test>::InsufficientBalance
			);
			assert_noop!(Staking::bond_extra(signed(ALICE), 10), Error::<Test>::NotBonded);
			assert_ok!(Staking::bond(signed(ALICE), 300));
			assert_noop!(Staking::bond(signed(ALICE), 300), Error::<Test>::AlreadyBonded);
			assert_noop!(Staking::bond_extra(signed(ALICE), 0), Error::<Test>::ZeroAmount);
			assert_noop!(
				Staking::bond_extra(signed(ALICE), INITIAL_BALANCE),
				Error::<Test>::InsufficientBalance
			);
		});
	}

	#[test]
	fn unbonded_funds_stay_held_until_the_unbonding_period_ends() {
		ExtBuilder.build_and_execute(|| {
			assert_ok!(Staking::bond(signed(ALICE), 500));
			assert_ok!(Staking::unbond(signed(ALICE), 200));
			let unlocks_at = 1 + UNBONDING_PERIOD;
			System::assert_last_event(
				Event::<Test>::Unbonded { who: ALICE, amount: 200, unlocks_at }.into(),
			);
			assert_eq!(ledger(ALICE).active, 300);
			assert_eq!(held(ALICE), 500);
			// Two unbonds in one block share a chunk.
			assert_ok!(Staking::unbond(signed(ALICE), 50));
			assert_eq!(ledger(ALICE).unlocking.len(), 1);

			assert_noop!(
				Staking::withdraw_unbonded(signed(ALICE)),
				Error::<Test>::NothingToWithdraw
			);
			run_to_block(unlocks_at);
			assert_ok!(Staking::withdraw_unbonded(signed(ALICE)));
			assert_eq!(held(ALICE), 250);
			assert_eq!(Balances::free_balance(ALICE), INITIAL_BALANCE - 250);
			System::assert_has_event(Event::<Test>::Withdrawn { who: ALICE, amount: 250 }.into());
		});
	}

	#[test]
	fn withdrawing_everything_removes_the_ledger() {
		ExtBuilder.build_and_execute(|| {
			assert_ok!(Staking::bond(signed(ALICE), 500));
			// More than the bond unbonds all of it.
			assert_ok!(Staking::unbond(signed(ALICE), 10_000));
			assert_eq!(ledger(ALICE).active, 0);
			assert_noop!(Staking::unbond(signed(ALICE), 1), Error::<Test>::ZeroAmount);
			run_to_block(1 + UNBONDING_PERIOD);
			assert_ok!(Staking::withdraw_unbonded(signed(ALICE)));
			assert!(!Ledgers::<Test>::contains_key(ALICE));
			assert_eq!(held(ALICE), 0);
			assert_noop!(Staking::withdraw_unbonded(signed(ALICE)), Error::<Test>::NotBonded);
			assert_noop!(Staking::unbond(signed(ALICE), 1), Error::<Test>::NotBonded);
		});
	}

	#[test]
	fn unlocking_chunks_are_bounded() {
		ExtBuilder.build_and_execute(|| {
			assert_ok!(Staking::bond(signed(ALICE), 500));
			for block in 2..=4 {
				run_to_block(block);
				assert_ok!(Staking::unbond(signed(ALICE), 10));
			}
			run_to_block(5);
			assert_noop!(Staking::unbond(signed(ALICE), 10), Error::<Test>::TooManyUnlockingChunks);
		});
	}

	#[test]
	fn rebond_takes_the_latest_unlocking_funds_back() {
		ExtBuilder.build_and_execute(|| {
			assert_ok!(Staking::bond(signed(ALICE), 500));
			assert_noop!(Staking::rebond(signed(ALICE), 10), Error::<Test>::NothingToRebond);
			assert_ok!(Staking::unbond(signed(ALICE), 100));
			run_to_block(2);
			assert_ok!(Staking::unbond(signed(ALICE), 50));
			assert_ok!(Staking::rebond(signed(ALICE), 70));
			System::assert_last_event(Event::<Test>::Rebonded { who: ALICE, amount: 70 }.into());
			let ledger = ledger(ALICE);
			assert_eq!(ledger.active, 420);
			assert_eq!(ledger.unlocking.len(), 1);
			assert_eq!(ledger.unlocking[0].value, 80);
			assert_eq!(held(ALICE), 500);
			assert_noop!(Staking::rebond(signed(BOB), 10), Error::<Test>::NotBonded);
			assert_noop!(Staking::rebond(signed(ALICE), 0), Error::<Test>::NothingToRebond);
		});
	}

	#[test]
	fn a_candidate_cannot_unbond_below_the_minimum() {
		ExtBuilder.build_and_execute(|| {
			assert_noop!(
				Staking::unbond(signed(V1), GENESIS_BOND - MIN_BOND + 1),
				Error::<Test>::BelowMinimumBond
			);
			assert_ok!(Staking::unbond(signed(V1), GENESIS_BOND - MIN_BOND));
			assert_ok!(Staking::chill(signed(V1)));
			assert_ok!(Staking::unbond(signed(V1), MIN_BOND));
		});
	}
}

mod candidacy {
	use super::*;

	#[test]
	fn validate_needs_a_bond_the_minimum_and_keys() {
		ExtBuilder.build_and_execute(|| {
			assert_noop!(Staking::validate(signed(ALICE)), Error::<Test>::NotBonded);
			assert_ok!(Staking::bond(signed(ALICE), MIN_BOND - 1));
			assert_noop!(Staking::validate(signed(ALICE)), Error::<Test>::BelowMinimumBond);
			assert_ok!(Staking::bond_extra(signed(ALICE), 1));
			assert_noop!(Staking::validate(signed(ALICE)), Error::<Test>::NoSessionKeys);
			set_keys(ALICE);
			assert_ok!(Staking::validate(signed(ALICE)));
			System::assert_last_event(Event::<Test>::Validating { who: ALICE }.into());
			assert_noop!(Staking::validate(signed(ALICE)), Error::<Test>::AlreadyCandidate);
		});
	}

	#[test]
	fn candidates_are_bounded() {
		ExtBuilder.build_and_execute(|| {
			// V1..V3 and three more fill MaxCandidates = 6.
			for who in [ALICE, BOB, 3] {
				become_candidate(who, MIN_BOND);
			}
			assert_ok!(Staking::bond(signed(4), MIN_BOND));
			set_keys(4);
			assert_noop!(Staking::validate(signed(4)), Error::<Test>::TooManyCandidates);
		});
	}

	#[test]
	fn chill_and_force_chill() {
		ExtBuilder.build_and_execute(|| {
			assert_noop!(Staking::chill(signed(ALICE)), Error::<Test>::NotCandidate);
			assert_ok!(Staking::chill(signed(V1)));
			System::assert_last_event(Event::<Test>::Chilled { who: V1 }.into());
			assert_noop!(Staking::force_chill(signed(V2), V2), DispatchError::BadOrigin);
			assert_ok!(Staking::force_chill(RuntimeOrigin::root(), V2));
			assert_noop!(
				Staking::force_chill(RuntimeOrigin::root(), V2),
				Error::<Test>::NotCandidate
			);
		});
	}
}

mod rotation {
	use super::*;

	#[test]
	fn a_new_bonder_enters_the_set_one_session_after_the_next_planned() {
		ExtBuilder.build_and_execute(|| {
			become_candidate(ALICE, 2_000);
			// Session 1 was planned at genesis with the genesis set.
			run_to_session(1);
			assert_eq!(session_validators(), vec![V1, V2, V3]);
			// Session 2 was planned when session 1 started: ALICE, with the largest bond, first.
			run_to_session(2);
			assert_eq!(session_validators(), vec![ALICE, V1, V2, V3]);
			assert_eq!(TestSessionHandler::authorities(), vec![ALICE, V1, V2, V3]);
			assert!(<Staking as ValidatorSet<AccountId>>::is_active(&ALICE));
			assert!(staking_events().contains(&Event::NewValidatorSet {
				session: 2,
				validators: vec![ALICE, V1, V2, V3],
			}));
		});
	}

	#[test]
	fn the_largest_bonds_win_when_there_are_more_candidates_than_seats() {
		ExtBuilder.build_and_execute(|| {
			become_candidate(ALICE, 2_000);
			become_candidate(BOB, 1_500);
			assert_ok!(Staking::bond_extra(signed(V3), 10));
			run_to_session(2);
			// Four seats: V1 and V2 tie at the bottom; V3 has 10 more.
			assert_eq!(session_validators(), vec![ALICE, BOB, V3, V1]);
			assert_eq!(Staking::select_validators(), vec![ALICE, BOB, V3, V1]);
		});
	}

	#[test]
	fn a_chilled_validator_leaves_and_one_below_the_minimum_is_not_chosen() {
		ExtBuilder.build_and_execute(|| {
			become_candidate(ALICE, MIN_BOND);
			assert_ok!(Staking::chill(signed(V1)));
			run_to_session(2);
			assert_eq!(session_validators(), vec![V2, V3, ALICE]);
			// The admin raises the minimum above ALICE's bond.
			let mut params = Params::<Test>::get();
			params.min_validator_bond = MIN_BOND + 1;
			assert_ok!(Staking::set_params(RuntimeOrigin::root(), params));
			run_to_session(4);
			assert_eq!(session_validators(), vec![V2, V3]);
		});
	}

	#[test]
	fn the_set_is_kept_when_too_few_candidates_remain() {
		ExtBuilder.build_and_execute(|| {
			assert_ok!(Staking::chill(signed(V1)));
			assert_ok!(Staking::chill(signed(V2)));
			run_to_session(3);
			assert_eq!(session_validators(), vec![V1, V2, V3]);
			assert!(staking_events().contains(&Event::NotEnoughCandidates {
				session: 2,
				candidates: 1,
				min_validators: 2,
			}));
		});
	}

	#[test]
	fn sessions_end_every_session_length_blocks_or_when_forced() {
		ExtBuilder.build_and_execute(|| {
			run_to_block(SESSION_LENGTH);
			assert_eq!(Session::current_index(), 1);
			run_to_block(2 * SESSION_LENGTH - 1);
			assert_eq!(Session::current_index(), 1);
			assert_noop!(Staking::force_new_session(signed(V1)), DispatchError::BadOrigin);
			assert_ok!(Staking::force_new_session(RuntimeOrigin::root()));
			run_to_block(2 * SESSION_LENGTH);
			assert_eq!(Session::current_index(), 2);
			assert!(!ForceNewSession::<Test>::get());
			let now = System::block_number();
			assert_eq!(Staking::estimate_next_session_rotation(now).0, Some(now + SESSION_LENGTH));
			assert_eq!(Staking::average_session_length(), SESSION_LENGTH);
		});
	}
}

mod slashing {
	use super::*;

	#[test]
	fn a_slash_takes_from_the_active_bond_then_from_unlocking_funds() {
		ExtBuilder.build_and_execute(|| {
			assert_ok!(Staking::unbond(signed(V1), 300));
			let issuance = Balances::total_issuance();
			let slashed = Staking::slash(&V1, SlashAmount::Amount(800), SlashReason::Dissent);
			assert_eq!(slashed, 800);
			let ledger = ledger(V1);
			assert_eq!((ledger.active, ledger.unlocking[0].value), (0, 200));
			assert_eq!(held(V1), 200);
			assert_eq!(Balances::total_issuance(), issuance - 800);
			assert_eq!(Counters::<Test>::get(V1).slashed, 800);
			System::assert_has_event(
				Event::<Test>::Slashed { who: V1, amount: 800, reason: SlashReason::Dissent }
					.into(),
			);
		});
	}

	#[test]
	fn a_fraction_is_of_the_whole_bond_and_unbonded_accounts_lose_nothing() {
		ExtBuilder.build_and_execute(|| {
			let slashed = Staking::slash(
				&V2,
				SlashAmount::Fraction(Perbill::from_percent(10)),
				SlashReason::NoShow,
			);
			assert_eq!(slashed, GENESIS_BOND / 10);
			assert_eq!(held(V2), GENESIS_BOND - GENESIS_BOND / 10);
			assert_eq!(Staking::slash(&ALICE, SlashAmount::Amount(10), SlashReason::NoShow), 0);
		});
	}

	#[test]
	fn a_validator_over_the_offence_limit_is_chilled_and_disabled_at_once() {
		ExtBuilder.build_and_execute(|| {
			// One offence per session is tolerated.
			Staking::slash(&V3, SlashAmount::Amount(1), SlashReason::Dissent);
			assert!(Candidates::<Test>::contains_key(V3));
			assert!(TestSessionHandler::disabled().is_empty());
			Staking::slash(&V3, SlashAmount::Amount(1), SlashReason::Dissent);
			assert!(!Candidates::<Test>::contains_key(V3));
			assert_eq!(TestSessionHandler::disabled(), vec![2]);
			assert_eq!(Session::disabled_validators(), vec![2]);
			System::assert_has_event(
				Event::<Test>::OffenceLimitReached { who: V3, disabled: true }.into(),
			);
			// It leaves the set at the next planned session.
			run_to_session(2);
			assert_eq!(session_validators(), vec![V1, V2]);
			assert!(OffencesInSession::<Test>::iter().next().is_none());
		});
	}

	#[test]
	fn slashing_everything_removes_the_ledger_and_the_candidacy() {
		ExtBuilder.build_and_execute(|| {
			let slashed =
				Staking::slash(&V1, SlashAmount::Fraction(Perbill::one()), SlashReason::Dissent);
			assert_eq!(slashed, GENESIS_BOND);
			assert!(!Ledgers::<Test>::contains_key(V1));
			assert!(!Candidates::<Test>::contains_key(V1));
		});
	}
}

mod offences {
	use super::*;
	use sp_staking::offence::{OffenceDetails, OnOffenceHandler};

	/// Reports `offenders` for an offence of `session`, each at `fraction`, as the offences pallet
	/// does.
	fn report(offenders: &[AccountId], fraction: Perbill, session: u32) {
		let details: Vec<_> = offenders
			.iter()
			.map(|who| OffenceDetails { offender: (*who, ()), reporters: vec![] })
			.collect();
		let fractions = vec![fraction; offenders.len()];
		<Staking as OnOffenceHandler<AccountId, (AccountId, ()), Weight>>::on_offence(
			&details, &fractions, session,
		);
	}

	#[test]
	fn an_equivocation_is_slashed_up_to_the_cap_and_chills_and_disables_the_offender() {
		ExtBuilder.build_and_execute(|| {
			run_to_session(1);
			report(&[V2], Perbill::from_percent(56), 1);
			assert_eq!(held(V2), GENESIS_BOND - GENESIS_BOND / 10);
			assert_eq!(OffenceSlashes::<Test>::get(1, V2), Perbill::from_percent(10));
			assert!(!Candidates::<Test>::contains_key(V2));
			assert_eq!(Session::disabled_validators(), vec![1]);
			System::assert_has_event(
				Event::<Test>::Slashed {
					who: V2,
					amount: GENESIS_BOND / 10,
					reason: SlashReason::Equivocation,
				}
				.into(),
			);
			System::assert_has_event(
				Event::<Test>::OffenceReported {
					who: V2,
					session: 1,
					fraction: Perbill::from_percent(10),
					disabled: true,
				}
				.into(),
			);
			// It leaves the set at the next planned session, and stays out until it validates.
			run_to_session(3);
			assert_eq!(session_validators(), vec![V1, V3]);
		});
	}

	#[test]
	fn an_offence_reported_again_slashes_only_what_goes_beyond_its_earlier_slash() {
		ExtBuilder.build_and_execute(|| {
			report(&[V1], Perbill::from_percent(4), 0);
			assert_eq!(held(V1), GENESIS_BOND - 40);
			// The same share again (the same offence, or another one of the session): nothing.
			report(&[V1], Perbill::from_percent(4), 0);
			assert_eq!(held(V1), GENESIS_BOND - 40);
			// More offenders of the same slot raise everyone's share: only the increase is taken,
			// from the bond as it is now.
			report(&[V1, V3], Perbill::from_percent(6), 0);
			assert_eq!(
				held(V1),
				GENESIS_BOND - 40 - Perbill::from_percent(2) * (GENESIS_BOND - 40)
			);
			assert_eq!(held(V3), GENESIS_BOND - 60);
			assert_eq!(OffenceSlashes::<Test>::get(0, V1), Perbill::from_percent(6));
			// An offence in a later session is slashed afresh.
			run_to_session(1);
			let before = held(V1);
			report(&[V1], Perbill::from_percent(4), 1);
			assert_eq!(held(V1), before - Perbill::from_percent(4) * before);
		});
	}

	#[test]
	fn offences_beyond_the_history_are_ignored_and_their_records_pruned() {
		ExtBuilder.build_and_execute(|| {
			report(&[V1], Perbill::from_percent(5), 0);
			run_to_session(HISTORY_DEPTH);
			// Session 0 is still reportable: its record stays and limits a second report.
			assert_eq!(OffenceSlashes::<Test>::get(0, V1), Perbill::from_percent(5));
			run_to_session(HISTORY_DEPTH + 1);
			assert!(OffenceSlashes::<Test>::iter().next().is_none());
			let before = held(V3);
			report(&[V3], Perbill::from_percent(5), 0);
			assert_eq!(held(V3), before);
			assert!(Candidates::<Test>::contains_key(V3));
		});
	}
}

mod records_and_admin {
	use super::*;

	#[test]
	fn outcomes_are_counted() {
		ExtBuilder.build_and_execute(|| {
			Staking::note_assigned(&V1);
			Staking::note_assigned(&V1);
			Staking::note_agreed(&V1, 40);
			Staking::note_dissented(&V1);
			Staking::note_missed(&V2);
			assert_eq!(
				Counters::<Test>::get(V1),
				ValidatorCounters {
					assigned: 2,
					agreed: 1,
					dissented: 1,
					missed: 0,
					abstained: 0,
					rewarded: 40,
					slashed: 0
				}
			);
			assert_eq!(Counters::<Test>::get(V2).missed, 1);
			Staking::note_abstained(&V2);
			assert_eq!(Counters::<Test>::get(V2).abstained, 1);
		});
	}

	#[test]
	fn params_are_checked() {
		ExtBuilder.build_and_execute(|| {
			let params = Params::<Test>::get();
			assert_noop!(Staking::set_params(signed(V1), params), DispatchError::BadOrigin);
			for bad in [
				StakingParams { min_validators: 0, ..params },
				StakingParams { min_validators: 3, max_validators: 2, ..params },
				StakingParams { max_validators: 5, ..params },
			] {
				assert_noop!(
					Staking::set_params(RuntimeOrigin::root(), bad),
					Error::<Test>::InvalidParams
				);
			}
			let good = StakingParams { max_offences_per_session: 5, ..params };
			assert_ok!(Staking::set_params(RuntimeOrigin::root(), good));
			assert_eq!(Params::<Test>::get(), good);
		});
	}

	#[test]
	fn try_state_notices_a_hold_that_differs_from_the_ledger() {
		ExtBuilder.build().execute_with(|| {
			assert_ok!(Staking::do_try_state());
			assert_ok!(<Balances as frame_support::traits::fungible::MutateHold<_>>::release(
				&HoldReason::Bond.into(),
				&V1,
				1,
				frame_support::traits::tokens::Precision::Exact,
			));
			assert!(Staking::do_try_state().is_err());
		});
	}
}
