//! Tests of the result verification pallet: executors sign with real sr25519 inference keys, and
//! every commit and reveal goes through the pool's check before dispatch. Each test but the last
//! runs in `build_and_execute`, which checks the pallet's invariants (`do_try_state`) at its end.
//!
//! Block numbers: a round opened at block 1 takes commitments until block 6 (`COMMIT_WINDOW`) and
//! reveals until block 11 (`REVEAL_WINDOW`); if nobody completed it, the hook tallies it in block
//! 12.

use std::collections::BTreeSet;

use codec::Encode;
use frame_support::{
	assert_noop, assert_ok,
	dispatch::{GetDispatchInfo, Pays, PostDispatchInfo},
	pallet_prelude::TransactionSource,
	traits::{Authorize, Get, Hooks},
};
use gateless_primitives::{
	digest::output_digest,
	job::{Abstention, AgreedOutcome, FailureReason, InferenceError, InferenceOutput, JobId},
	model::{DType, Determinism},
	traits::{JobVerifier, SlashReason},
};
use sp_core::{Pair, H256};
use sp_runtime::{traits::Dispatchable, DispatchError, DispatchResultWithInfo, Perbill};

use crate::{
	mock::*, weights::WeightInfo, Abstentions, Commitments, DueRounds, Error, Event, Params,
	Reveals, RoundDuty, Rounds, TallyCursor, VerificationParams,
};

/// The block `build_and_execute` starts in, where the tests open their rounds.
const OPENED: u64 = 1;
/// The last block of the commit window of a round opened at [`OPENED`].
const COMMIT_UNTIL: u64 = OPENED + COMMIT_WINDOW;
/// The last block of its reveal window.
const REVEAL_UNTIL: u64 = COMMIT_UNTIL + REVEAL_WINDOW;
/// The block whose hook tallies it.
const TALLIED_AT: u64 = REVEAL_UNTIL + 1;
/// What a dissenter loses: 10 % of its bond.
const DISSENT_SLASH: Balance = BOND / 10;
/// What a no-show loses: 5 % of its bond.
const NO_SHOW_SLASH: Balance = BOND / 20;
/// What an executor that committed and did not reveal loses: 20 % of its bond.
const WITHHOLD_SLASH: Balance = BOND / 5;
/// The element bytes of a `[3]` f32 output.
const OUTPUT_BYTES: u32 = 12;

fn good() -> InferenceOutput {
	scores(&[0.1, 0.2, 0.7])
}

fn bad() -> InferenceOutput {
	scores(&[0.7, 0.2, 0.1])
}

/// Every one of `executors` with `output`.
fn same(executors: &[AccountId], output: &InferenceOutput) -> Vec<(AccountId, InferenceOutput)> {
	executors.iter().map(|who| (*who, output.clone())).collect()
}

/// Dispatches `call` with the authorized origin, as a block would, without the pool's check.
fn dispatch(call: crate::Call<Test>) -> DispatchResultWithInfo<PostDispatchInfo> {
	RuntimeCall::Verification(call).dispatch(frame_system::RawOrigin::Authorized.into())
}

/// `call` is refused by the pool with `error`'s code and by dispatch with `error`, changing
/// nothing.
fn refused(call: crate::Call<Test>, error: Error<Test>) {
	let index = error.encode()[0];
	assert_eq!(pool_verdict(&call), Err(index), "the pool's verdict, expecting {error:?}");
	assert_noop!(dispatch(call).map_err(|e| e.error), error);
}

fn outcome(
	output: &InferenceOutput,
	determinism: &Determinism,
	agreeing: &[AccountId],
) -> AgreedOutcome<AccountId> {
	AgreedOutcome {
		output: output.clone(),
		digest: output_digest(output, determinism),
		agreeing: agreeing.to_vec(),
	}
}

/// What the staking pallet hears of a no-show.
fn no_show(who: AccountId) -> [Call; 2] {
	[Call::Slashed(who, SlashReason::NoShow, NO_SHOW_SLASH), Call::Missed(who)]
}

/// What the staking pallet hears of an executor that committed and did not reveal.
fn withheld(who: AccountId) -> [Call; 2] {
	[Call::Slashed(who, SlashReason::Withheld, WITHHOLD_SLASH), Call::Missed(who)]
}

/// What the staking pallet hears of a dissenter.
fn dissent(who: AccountId) -> [Call; 2] {
	[Call::Slashed(who, SlashReason::Dissent, DISSENT_SLASH), Call::Dissented(who)]
}

/// What a job without a quorum and without fresh validators ends with, when its round of `who`
/// alone went by with nobody revealing.
fn failed_alone(job: JobId, who: AccountId) -> Vec<Call> {
	let mut calls = no_show(who).to_vec();
	calls.push(Call::Escalated(job, 3));
	calls.push(Call::Failed(job, FailureReason::NoFreshExecutors));
	calls
}

/// The rounds due for the hook: `(due block, job, round)`, in block and job order.
fn due() -> Vec<(u64, JobId, u8)> {
	let mut due: Vec<_> = DueRounds::<Test>::iter().collect();
	due.sort();
	due
}

/// Asserts that `calls` are `expected` in some order (the hook takes the rounds due in one block
/// in no particular order).
fn assert_same_calls(calls: Vec<Call>, expected: Vec<Call>) {
	let mut left = calls.clone();
	for call in &expected {
		let position = left.iter().position(|other| other == call);
		assert!(position.is_some(), "{call:?} missing from {calls:?}");
		left.remove(position.unwrap());
	}
	assert!(left.is_empty(), "unexpected {left:?} in {calls:?}");
}

/// Nothing of `job`'s round is left.
fn assert_cleared(job: JobId) {
	assert!(Rounds::<Test>::get(job).is_none(), "the round of job {job} is gone");
	assert_eq!(Commitments::<Test>::iter_prefix(job).count(), 0);
	assert_eq!(Reveals::<Test>::iter_prefix(job).count(), 0);
	assert_eq!(Abstentions::<Test>::iter_prefix(job).count(), 0);
}

fn has_commitments(job: JobId) -> bool {
	<Verification as JobVerifier<AccountId>>::has_commitments(job)
}

// Deciding.

#[test]
fn one_executor_decides_alone() {
	ExtBuilder.build_and_execute(|| {
		open(0, &[V1], Determinism::Exact);
		let output = good();
		let digest = output_digest(&output, &Determinism::Exact);
		commit_all(0, &[(V1, output.clone())]);
		reveal_all(0, &[(V1, output.clone())]);
		assert_eq!(
			take_calls(),
			vec![Call::Finalized(0, outcome(&output, &Determinism::Exact, &[V1]))]
		);
		assert_cleared(0);
		let expected: Vec<Event<Test>> = vec![
			Event::RoundOpened {
				job: 0,
				round: 0,
				commit_until: COMMIT_UNTIL,
				reveal_until: REVEAL_UNTIL,
			},
			Event::Committed { job: 0, executor: V1 },
			Event::Revealed { job: 0, executor: V1, digest },
			Event::RoundDecided {
				job: 0,
				round: 0,
				digest,
				agreeing: vec![V1],
				dissenters: vec![],
				withheld: vec![],
				no_shows: vec![],
				undecided: vec![],
			},
		];
		assert_eq!(verification_events(), expected);
	});
}

#[test]
fn three_agreeing_executors_finalize_without_slashes_under_either_class() {
	ExtBuilder.build_and_execute(|| {
		for (job, class) in [(0, Determinism::Exact), (1, tolerance())] {
			open(job, &[V1, V2, V3], class);
			let output = good();
			let all = same(&[V1, V2, V3], &output);
			commit_all(job, &all);
			reveal_all(job, &all[..2]);
			assert!(take_calls().is_empty(), "not before the last reveal");
			assert_eq!(
				Rounds::<Test>::get(job).map(|round| (round.committed, round.revealed)),
				Some((3, 2))
			);
			reveal_all(job, &all[2..]);
			assert_eq!(
				take_calls(),
				vec![Call::Finalized(job, outcome(&output, &class, &[V1, V2, V3]))]
			);
			assert_cleared(job);
			let digest = output_digest(&output, &class);
			let events = verification_events();
			for who in [V1, V2, V3] {
				assert!(events.contains(&Event::Committed { job, executor: who }));
				assert!(events.contains(&Event::Revealed { job, executor: who, digest }));
			}
			assert!(events.contains(&Event::RoundDecided {
				job,
				round: 0,
				digest,
				agreeing: vec![V1, V2, V3],
				dissenters: vec![],
				withheld: vec![],
				no_shows: vec![],
				undecided: vec![],
			}));
		}
		assert!(!verification_events()
			.iter()
			.any(|event| matches!(event, Event::ExecutorSlashed { .. })));
	});
}

#[test]
fn a_dissenter_is_slashed_and_the_majority_decides() {
	ExtBuilder.build_and_execute(|| {
		open(0, &[V1, V2, V3], Determinism::Exact);
		let all = [(V1, good()), (V2, bad()), (V3, good())];
		commit_all(0, &all);
		reveal_all(0, &all);
		let expected = [
			dissent(V2).to_vec(),
			vec![Call::Finalized(0, outcome(&good(), &Determinism::Exact, &[V1, V3]))],
		]
		.concat();
		assert_eq!(take_calls(), expected);
		assert_cleared(0);
		let events = verification_events();
		assert!(events.contains(&Event::ExecutorSlashed {
			job: 0,
			executor: V2,
			reason: SlashReason::Dissent,
			amount: DISSENT_SLASH,
		}));
		assert!(events.contains(&Event::RoundDecided {
			job: 0,
			round: 0,
			digest: output_digest(&good(), &Determinism::Exact),
			agreeing: vec![V1, V3],
			dissenters: vec![V2],
			withheld: vec![],
			no_shows: vec![],
			undecided: vec![],
		}));
	});
}

#[test]
fn an_executor_that_never_commits_is_a_no_show() {
	ExtBuilder.build_and_execute(|| {
		open(0, &[V1, V2, V3], Determinism::Exact);
		let two = same(&[V1, V2], &good());
		commit_all(0, &two);
		// Not everyone committed: reveals wait for the commit window to close, and nothing is
		// tallied meanwhile.
		refused(reveal_call(0, V1, &good()), Error::RevealWindowNotOpen);
		run_to_block(COMMIT_UNTIL);
		refused(reveal_call(0, V1, &good()), Error::RevealWindowNotOpen);
		assert!(take_calls().is_empty());
		assert!(Rounds::<Test>::contains_key(0));

		run_to_block(COMMIT_UNTIL + 1);
		refused(commit_call(0, V3, &good()), Error::CommitWindowClosed);
		reveal_all(0, &two[..1]);
		assert!(take_calls().is_empty(), "V2 committed and may still reveal");
		// Everyone who committed revealed, after the commit window: tallied at once.
		reveal_all(0, &two[1..]);
		let expected = [
			no_show(V3).to_vec(),
			vec![Call::Finalized(0, outcome(&good(), &Determinism::Exact, &[V1, V2]))],
		]
		.concat();
		assert_eq!(take_calls(), expected);
		assert_cleared(0);
		let events = verification_events();
		assert!(events.contains(&Event::ExecutorSlashed {
			job: 0,
			executor: V3,
			reason: SlashReason::NoShow,
			amount: NO_SHOW_SLASH,
		}));
		assert!(events.contains(&Event::RoundDecided {
			job: 0,
			round: 0,
			digest: output_digest(&good(), &Determinism::Exact),
			agreeing: vec![V1, V2],
			dissenters: vec![],
			withheld: vec![],
			no_shows: vec![V3],
			undecided: vec![],
		}));
		// It left the queue of due rounds as it ended.
		assert_eq!(due(), vec![]);
		run_to_block(TALLIED_AT);
		assert!(take_calls().is_empty());
	});
}

#[test]
fn a_round_whose_model_was_withdrawn_ends_without_a_verdict_or_a_slash() {
	ExtBuilder.build_and_execute(|| {
		open(0, &[V1, V2, V3], Determinism::Exact);
		// V1 ran the model before the ban; V2 and V3 stopped running it.
		let one = same(&[V1], &good());
		commit_all(0, &one);
		TestJobs::withdraw_model_of(0);
		run_to_block(TALLIED_AT);
		assert_eq!(take_calls(), vec![Call::Failed(0, FailureReason::ModelWithdrawn)]);
		assert_cleared(0);
		assert!(!verification_events()
			.iter()
			.any(|event| matches!(event, Event::ExecutorSlashed { .. })));
	});
}

#[test]
fn a_committed_executor_that_never_reveals_withholds_and_is_tallied_by_the_hook() {
	ExtBuilder.build_and_execute(|| {
		open(0, &[V1, V2, V3], Determinism::Exact);
		let round = Rounds::<Test>::get(0).unwrap();
		assert_eq!((round.commit_until, round.reveal_until), (COMMIT_UNTIL, REVEAL_UNTIL));
		let all = same(&[V1, V2, V3], &good());
		commit_all(0, &all);
		// Everyone committed: reveals open at once.
		reveal_all(0, &all[..2]);
		assert!(take_calls().is_empty());
		run_to_block(REVEAL_UNTIL);
		assert!(Rounds::<Test>::get(0).is_some(), "not before the reveal window closes");
		assert!(take_calls().is_empty());
		run_to_block(TALLIED_AT);
		let expected = [
			withheld(V3).to_vec(),
			vec![Call::Finalized(0, outcome(&good(), &Determinism::Exact, &[V1, V2]))],
		]
		.concat();
		assert_eq!(take_calls(), expected);
		assert!(verification_events().contains(&Event::RoundDecided {
			job: 0,
			round: 0,
			digest: output_digest(&good(), &Determinism::Exact),
			agreeing: vec![V1, V2],
			dissenters: vec![],
			withheld: vec![V3],
			no_shows: vec![],
			undecided: vec![],
		}));
		assert_cleared(0);
		assert_eq!(due(), vec![]);
	});
}

#[test]
fn withholding_an_outvoted_output_costs_at_least_revealing_it() {
	ExtBuilder.build_and_execute(|| {
		// V3 sees in the pool that V1 and V2 agree on another output than its own.
		let outvoted = scores(&[1.0, 0.0, 0.0]);
		for (job, reveals_it) in [(0, true), (1, false)] {
			open(job, &[V1, V2, V3], Determinism::Exact);
			let mut all = same(&[V1, V2], &good());
			all.push((V3, outvoted.clone()));
			commit_all(job, &all);
			let revealers = if reveals_it { &all[..] } else { &all[..2] };
			reveal_all(job, revealers);
		}
		run_to_block(TALLIED_AT);
		let slashed_for = |wanted: SlashReason| {
			verification_events().into_iter().find_map(|event| match event {
				Event::ExecutorSlashed { executor: V3, reason, amount, .. } if reason == wanted => {
					Some(amount)
				},
				_ => None,
			})
		};
		let dissent = slashed_for(SlashReason::Dissent).expect("revealing it dissents");
		let withholding = slashed_for(SlashReason::Withheld).expect("withholding it is slashed");
		assert!(withholding >= dissent, "withholding {withholding} < dissent {dissent}");
		assert_eq!((dissent, withholding), (DISSENT_SLASH, WITHHOLD_SLASH));
	});
}

#[test]
fn governance_sets_the_penalties_within_their_bounds() {
	ExtBuilder.build_and_execute(|| {
		let params = |dissent, withhold, no_show| VerificationParams {
			dissent_slash: Perbill::from_percent(dissent),
			withhold_slash: Perbill::from_percent(withhold),
			no_show_slash: Perbill::from_percent(no_show),
		};
		let set = |origin: RuntimeOrigin, params| Verification::set_params(origin, params);
		assert_noop!(set(RuntimeOrigin::signed(V1), params(2, 3, 1)), DispatchError::BadOrigin);
		// Withholding may not cost less than dissenting; nothing may be free or above the bound.
		for invalid in [params(3, 2, 1), params(0, 3, 1), params(2, 3, 0), params(2, 51, 1)] {
			assert_noop!(set(RuntimeOrigin::root(), invalid), Error::<Test>::InvalidParams);
		}
		assert_eq!(MAX_SLASH, Perbill::from_percent(50));
		let new = params(2, 50, 1);
		assert_ok!(set(RuntimeOrigin::root(), new));
		assert_eq!(Params::<Test>::get(), new);
		assert!(verification_events().contains(&Event::ParamsSet { params: new }));

		// The next tally applies them: V3 never commits; V1 and V2 reveal after the commit
		// window, which completes the round.
		open(0, &[V1, V2, V3], Determinism::Exact);
		commit_all(0, &same(&[V1, V2], &good()));
		run_to_block(COMMIT_UNTIL + 1);
		reveal_all(0, &same(&[V1, V2], &good()));
		assert_eq!(
			take_calls()[..2],
			[Call::Slashed(V3, SlashReason::NoShow, BOND / 100), Call::Missed(V3)]
		);
	});
}

#[test]
fn after_the_commit_window_a_round_waits_for_every_committed_executor() {
	ExtBuilder.build_and_execute(|| {
		open(0, &[V1, V2, V3], Determinism::Exact);
		let all = same(&[V1, V2, V3], &good());
		commit_all(0, &all);
		run_to_block(COMMIT_UNTIL + 1);
		reveal_all(0, &all[..2]);
		assert!(take_calls().is_empty(), "V3 committed and may still reveal");
		run_to_block(COMMIT_UNTIL + 3);
		reveal_all(0, &all[2..]);
		assert_eq!(
			take_calls(),
			vec![Call::Finalized(0, outcome(&good(), &Determinism::Exact, &[V1, V2, V3]))]
		);
		assert_cleared(0);
	});
}

// Escalation and failure.

#[test]
fn a_tie_escalates_to_a_larger_fresh_committee_without_slashing_revealers() {
	ExtBuilder.build_and_execute(|| {
		open(0, &[V1, V2], Determinism::Exact);
		let all = [(V1, scores(&[1.0, 0.0, 0.0])), (V2, scores(&[0.0, 1.0, 0.0]))];
		commit_all(0, &all);
		// A commitment signed for round 0, by an executor of the next round.
		let stale = commit_call(0, V3, &good());
		TestJobs::escalate_to(0, vec![V3, V4, V5]);
		reveal_all(0, &all);
		assert_eq!(take_calls(), vec![Call::Escalated(0, 5)]);

		assert_eq!(round_of(0), 1);
		let round = Rounds::<Test>::get(0).unwrap();
		assert_eq!(round.committee.to_vec(), vec![V3, V4, V5]);
		assert_eq!(
			(round.committed, round.revealed, round.commit_until, round.reveal_until),
			(0, 0, COMMIT_UNTIL, REVEAL_UNTIL)
		);
		assert_eq!(Commitments::<Test>::iter_prefix(0).count(), 0);
		assert_eq!(Reveals::<Test>::iter_prefix(0).count(), 0);
		let events = verification_events();
		assert!(events.contains(&Event::NoQuorum {
			job: 0,
			round: 0,
			withheld: vec![],
			no_shows: vec![]
		}));
		assert!(events.contains(&Event::RoundOpened {
			job: 0,
			round: 1,
			commit_until: COMMIT_UNTIL,
			reveal_until: REVEAL_UNTIL,
		}));
		assert!(!events.iter().any(|event| matches!(event, Event::ExecutorSlashed { .. })));
		let next = Rounds::<Test>::get(0).unwrap();
		assert_eq!(due(), vec![(next.reveal_until + 1, 0, 1)]);

		// The old committee is out, and a signature over round 0 is no good in round 1.
		refused(commit_call(0, V1, &good()), Error::NotExecutor);
		refused(stale, Error::BadSignature);

		// The new committee decides.
		let output = scores(&[0.0, 1.0, 0.0]);
		let next = same(&[V3, V4, V5], &output);
		commit_all(0, &next);
		reveal_all(0, &next);
		assert_eq!(
			take_calls(),
			vec![Call::Finalized(0, outcome(&output, &Determinism::Exact, &[V3, V4, V5]))]
		);
		assert!(verification_events()
			.iter()
			.any(|event| matches!(event, Event::RoundDecided { job: 0, round: 1, .. })));
		assert_cleared(0);
		assert_eq!(due(), vec![]);
		run_to_block(TALLIED_AT);
		assert!(take_calls().is_empty());
	});
}

#[test]
fn without_fresh_validators_the_job_fails_and_only_no_shows_are_slashed() {
	ExtBuilder.build_and_execute(|| {
		// A tie.
		open(0, &[V1, V2], Determinism::Exact);
		let all = [(V1, scores(&[1.0, 0.0, 0.0])), (V2, scores(&[0.0, 1.0, 0.0]))];
		commit_all(0, &all);
		reveal_all(0, &all);
		assert_eq!(
			take_calls(),
			vec![Call::Escalated(0, 5), Call::Failed(0, FailureReason::NoFreshExecutors)]
		);
		assert_cleared(0);

		// One revealer out of three: no quorum; the two no-shows are slashed, the revealer is
		// not.
		open(1, &[V1, V2, V3], Determinism::Exact);
		commit_all(1, &[(V1, good())]);
		run_to_block(COMMIT_UNTIL + 1);
		reveal_all(1, &[(V1, good())]);
		let expected = [
			no_show(V2).to_vec(),
			no_show(V3).to_vec(),
			vec![Call::Escalated(1, 7), Call::Failed(1, FailureReason::NoFreshExecutors)],
		]
		.concat();
		assert_eq!(take_calls(), expected);
		assert!(verification_events().contains(&Event::NoQuorum {
			job: 1,
			round: 0,
			withheld: vec![],
			no_shows: vec![V2, V3],
		}));
		assert_cleared(1);
	});
}

#[test]
fn after_the_last_escalation_the_job_fails_without_quorum() {
	ExtBuilder.build_and_execute(|| {
		// Nobody ever reveals: two escalations, then NoQuorum.
		open(1, &[V1], Determinism::Exact);
		TestJobs::escalate_to(1, vec![V2, V3, V4]);
		TestJobs::escalate_to(1, vec![V5, 6, 7, 8, 9, 10, 11]);
		run_to_block(100);
		let mut expected = no_show(V1).to_vec();
		expected.push(Call::Escalated(1, 3));
		for who in [V2, V3, V4] {
			expected.extend(no_show(who));
		}
		expected.push(Call::Escalated(1, MAX_COMMITTEE));
		for who in [V5, 6, 7, 8, 9, 10, 11] {
			expected.extend(no_show(who));
		}
		expected.push(Call::Failed(1, FailureReason::NoQuorum));
		assert_eq!(take_calls(), expected);
		assert_eq!(MAX_ESCALATIONS, 2);
		// Each round opened when the previous one was tallied, with its own windows.
		let second = TALLIED_AT + COMMIT_WINDOW + REVEAL_WINDOW;
		let events = verification_events();
		assert!(events.contains(&Event::RoundOpened {
			job: 1,
			round: 1,
			commit_until: TALLIED_AT + COMMIT_WINDOW,
			reveal_until: second,
		}));
		assert!(events.contains(&Event::RoundOpened {
			job: 1,
			round: 2,
			commit_until: second + 1 + COMMIT_WINDOW,
			reveal_until: second + 1 + COMMIT_WINDOW + REVEAL_WINDOW,
		}));
		assert_cleared(1);
		assert_eq!(due(), vec![]);
	});
}

#[test]
fn an_escalation_never_exceeds_the_largest_committee() {
	ExtBuilder.build_and_execute(|| {
		open(2, &[V1, V2, V3, V4], Determinism::Exact);
		run_to_block(TALLIED_AT);
		let mut expected: Vec<Call> = [V1, V2, V3, V4].into_iter().flat_map(no_show).collect();
		// 2 × 4 + 1 = 9, capped.
		expected.push(Call::Escalated(2, MAX_COMMITTEE));
		expected.push(Call::Failed(2, FailureReason::NoFreshExecutors));
		assert_eq!(take_calls(), expected);
	});
}

#[test]
fn a_round_escalated_by_the_hook_keeps_its_own_deadline() {
	ExtBuilder.build_and_execute(|| {
		open(0, &[V1, V2], Determinism::Exact);
		commit_all(0, &same(&[V1, V2], &good()));
		reveal_all(0, &[(V1, good())]);
		TestJobs::escalate_to(0, vec![V3, V4, V5]);
		run_to_block(TALLIED_AT);
		let expected = [withheld(V2).to_vec(), vec![Call::Escalated(0, 5)]].concat();
		assert_eq!(take_calls(), expected);
		assert!(verification_events().contains(&Event::NoQuorum {
			job: 0,
			round: 0,
			withheld: vec![V2],
			no_shows: vec![],
		}));
		let round = Rounds::<Test>::get(0).expect("the escalated round");
		assert_eq!(
			(round.round, round.commit_until, round.reveal_until),
			(1, TALLIED_AT + COMMIT_WINDOW, TALLIED_AT + COMMIT_WINDOW + REVEAL_WINDOW)
		);
		assert_eq!(due(), vec![(TALLIED_AT + COMMIT_WINDOW + REVEAL_WINDOW + 1, 0, 1)]);

		// Nobody shows up in the new round either: the hook tallies it at its own deadline.
		run_to_block(round.reveal_until);
		assert!(take_calls().is_empty());
		run_to_block(round.reveal_until + 1);
		let mut expected: Vec<Call> = [V3, V4, V5].into_iter().flat_map(no_show).collect();
		expected.push(Call::Escalated(0, MAX_COMMITTEE));
		expected.push(Call::Failed(0, FailureReason::NoFreshExecutors));
		assert_eq!(take_calls(), expected);
		assert_cleared(0);
		assert_eq!(due(), vec![]);
	});
}

// Outputs by content and disputes.

/// Six leaves of f32 values.
const WIDE: u32 = 6 * 16_384;

/// An honest wide output: values far from the edges of the 1e-4 grid, but the first of each leaf
/// just below the edge at 0.00015.
fn honest() -> Vec<f32> {
	(0..WIDE)
		.map(|i| if i % 16_384 == 0 { 0.000_149_9 } else { (i % 1000) as f32 * 0.001 + 0.000_31 })
		.collect()
}

/// [`honest`] from another CPU: the first value of each of `leaves` just above the edge, within
/// the tolerance but on the next grid point.
fn off_edge(leaves: &[usize]) -> Vec<f32> {
	let mut values = honest();
	for leaf in leaves {
		values[leaf * 16_384] = 0.000_150_1;
	}
	values
}

/// [`honest`] with one value beyond the tolerance.
fn lie() -> Vec<f32> {
	let mut values = honest();
	values[50_000] += 0.5;
	values
}

fn proof(reference: &[f32], other: &[f32]) -> gateless_primitives::dispute::DisputeProof {
	gateless_primitives::dispute::prove(
		&[(DType::F32, &f32_bytes(reference))],
		&[(DType::F32, &f32_bytes(other))],
		&tolerance(),
	)
	.unwrap()
}

#[test]
fn outputs_by_content_with_equal_roots_agree_at_once() {
	ExtBuilder.build_and_execute(|| {
		let class = tolerance();
		open_wide(0, &[V1, V2, V3], class, WIDE);
		let output = by_content(&honest(), &class);
		let all = same(&[V1, V2, V3], &output);
		commit_all(0, &all);
		reveal_all(0, &all);
		assert_eq!(take_calls(), vec![Call::Finalized(0, outcome(&output, &class, &[V1, V2, V3]))]);
		assert!(!verification_events().iter().any(|e| matches!(e, Event::DisputeOpened { .. })));
		assert_cleared(0);
	});
}

#[test]
fn outputs_are_revealed_where_their_size_puts_them() {
	ExtBuilder.build_and_execute(|| {
		let class = tolerance();
		open_wide(0, &[V1], class, 2048);
		let inline = scores(&[0.5; 2048]);
		submit(commit_call(0, V1, &inline)).unwrap();
		refused(reveal_call(0, V1, &inline), Error::<Test>::OutputPlacement);
		open_wide(1, &[V1], class, 16);
		let small = by_content(&[0.5; 16], &class);
		submit(commit_call(1, V1, &small)).unwrap();
		refused(reveal_call(1, V1, &small), Error::<Test>::OutputPlacement);
	});
}

/// Opens job 0's round for V1..V4 with the tolerance class: V1 and V2 will reveal the honest
/// output, V3 one off a grid edge in one leaf, V4 a lie, all by content.
fn four_with_an_edge_and_a_liar() -> [(AccountId, InferenceOutput); 4] {
	let class = tolerance();
	open_wide(0, &[V1, V2, V3, V4], class, WIDE);
	let reference = by_content(&honest(), &class);
	[
		(V1, reference.clone()),
		(V2, reference),
		(V3, by_content(&off_edge(&[2]), &class)),
		(V4, by_content(&lie(), &class)),
	]
}

#[test]
fn an_honest_output_off_a_grid_edge_proves_its_agreement_and_a_liar_is_slashed() {
	ExtBuilder.build_and_execute(|| {
		let class = tolerance();
		let all = four_with_an_edge_and_a_liar();
		let [(_, reference), _, (_, edge), (_, liar)] = all.clone();
		commit_all(0, &all);
		reveal_all(0, &all);
		// Two reveals by content differ from the reference's: no verdict yet.
		assert_eq!(take_calls(), vec![]);
		let now = System::block_number();
		// Whose reveals each validator's node is to prove against the reference's: its own if
		// disputed; the reference's node, every disputed one.
		let proofs_due = |who: AccountId| -> Vec<(bool, Vec<AccountId>)> {
			Verification::proofs_due_from(&who, now)
				.into_iter()
				.map(|due| {
					(due.from_reference, due.others.into_iter().map(|(who, _)| who).collect())
				})
				.collect()
		};
		assert_eq!(proofs_due(V1), vec![(true, vec![V3, V4])]);
		assert_eq!(proofs_due(V2), vec![]);
		assert_eq!(proofs_due(V3), vec![(false, vec![V3])]);
		assert_eq!(proofs_due(V4), vec![(false, vec![V4])]);
		assert_eq!(proofs_due(STRANGER), vec![]);
		let opened_at = System::block_number();
		assert!(verification_events().contains(&Event::DisputeOpened {
			job: 0,
			round: 0,
			reference: V1,
			disputed: vec![output_digest(&edge, &class), output_digest(&liar, &class)],
			until: opened_at + DISPUTE_WINDOW,
		}));
		// V3 proves its agreement, revealing one leaf of each output.
		let agreement = proof(&honest(), &off_edge(&[2]));
		assert!(matches!(
			&agreement,
			gateless_primitives::dispute::DisputeProof::Agree { leaves, .. } if leaves.len() == 1
		));
		// Not about another's reveal, not twice, not about an undisputed one.
		refused(settle_call(0, V3, V4, agreement.clone()), Error::<Test>::InvalidProof);
		let [from_reference] = &Verification::proofs_due_from(&V1, now)[..] else { panic!() };
		assert!(!from_reference.wants(&agreement), "the reference sends only disagreements");
		assert_ok!(submit(settle_call(0, V3, V3, agreement.clone())));
		assert_eq!(proofs_due(V3), vec![]);
		assert_eq!(proofs_due(V1), vec![(true, vec![V4])]);
		refused(settle_call(0, V2, V3, agreement.clone()), Error::<Test>::NothingNew);
		refused(settle_call(0, V2, V2, agreement), Error::<Test>::NotDisputed);
		refused(settle_call(0, STRANGER, V4, proof(&honest(), &lie())), Error::<Test>::NotExecutor);
		assert_eq!(take_calls(), vec![]);
		// The reference's executor proves the liar's disagreement: the dispute is concluded.
		let disagreement = proof(&honest(), &lie());
		assert!(matches!(
			disagreement,
			gateless_primitives::dispute::DisputeProof::Disagree { .. }
		));
		assert_ok!(submit(settle_call(0, V1, V4, disagreement)));
		let expected = [
			dissent(V4).to_vec(),
			vec![Call::Finalized(0, outcome(&reference, &class, &[V1, V2, V3]))],
		]
		.concat();
		assert_eq!(take_calls(), expected);
		assert_cleared(0);
		assert!(crate::Disputes::<Test>::get(0).is_none());
	});
}

#[test]
fn a_settlement_needs_a_dispute_that_is_still_open() {
	ExtBuilder.build_and_execute(|| {
		let all = four_with_an_edge_and_a_liar();
		let agreement = proof(&honest(), &off_edge(&[2]));
		commit_all(0, &all);
		refused(settle_call(0, V3, V3, agreement.clone()), Error::<Test>::NoDispute);
		reveal_all(0, &all);
		let until = System::block_number() + DISPUTE_WINDOW;
		assert!(crate::Disputes::<Test>::get(0).is_some_and(|dispute| dispute.until == until));
		// Blocks short of weight defer the tally (see `tally_due_rounds`), so the dispute can
		// outlive its window in storage; it is closed all the same.
		System::set_block_number(until + 1);
		refused(settle_call(0, V3, V3, agreement), Error::<Test>::DisputeClosed);
	});
}

#[test]
fn when_the_window_closes_unproven_reveals_dissent_and_undecided_ones_abstain() {
	ExtBuilder.build_and_execute(|| {
		let class = tolerance();
		const V6: AccountId = 6;
		open_wide(0, &[V1, V2, V3, V4, V5, V6], class, WIDE);
		let reference = by_content(&honest(), &class);
		// Off the edge in five leaves, more than a proof may reveal: undecided.
		let many = off_edge(&[0, 1, 2, 3, 4]);
		let all = [
			(V1, reference.clone()),
			(V2, reference.clone()),
			(V3, by_content(&many, &class)),
			(V4, by_content(&off_edge(&[1]), &class)),
			(V5, reference.clone()),
			(V6, reference.clone()),
		];
		commit_all(0, &all);
		reveal_all(0, &all);
		let until = System::block_number() + DISPUTE_WINDOW;
		let undecided = proof(&honest(), &many);
		assert!(matches!(undecided, gateless_primitives::dispute::DisputeProof::Undecided { .. }));
		assert_ok!(submit(settle_call(0, V3, V3, undecided)));
		// V4 could prove its agreement but does not; the window closes.
		run_to_block(until);
		assert_eq!(take_calls(), vec![]);
		run_to_block(until + 1);
		assert!(crate::Disputes::<Test>::get(0).is_none());
		let expected = [
			dissent(V4).to_vec(),
			vec![Call::Abstained(V3)],
			vec![Call::Finalized(0, outcome(&reference, &class, &[V1, V2, V5, V6]))],
		]
		.concat();
		assert_eq!(take_calls(), expected);
		assert!(verification_events().iter().any(|e| matches!(
			e,
			Event::RoundDecided { undecided, dissenters, .. }
				if *undecided == vec![V3] && *dissenters == vec![V4]
		)));
		assert_cleared(0);
	});
}

// Determinism classes and errors.

#[test]
fn tolerance_keeps_honest_float_outputs_together_and_slashes_the_outlier() {
	ExtBuilder.build_and_execute(|| {
		let class = tolerance();
		let outlier = scores(&[0.5, 0.2, 0.3]);
		let cases = [
			// Within 1e-4 and on the same grid points: equal digests.
			(scores(&[0.1, 0.2, 0.7]), scores(&[0.100_04, 0.199_98, 0.7]), true),
			// Within 1e-4 but on either side of a grid edge (0.00015 on the 1e-4 grid): the
			// digests differ and the outputs still agree.
			(scores(&[0.000_149_9, 0.2, 0.7]), scores(&[0.000_150_1, 0.200_01, 0.7]), false),
		];
		for (job, (honest, other_cpu, same_digest)) in cases.into_iter().enumerate() {
			let job = job as JobId;
			assert_eq!(
				output_digest(&honest, &class) == output_digest(&other_cpu, &class),
				same_digest
			);
			open(job, &[V1, V2, V3], class);
			let all = [(V1, honest.clone()), (V2, other_cpu), (V3, outlier.clone())];
			commit_all(job, &all);
			reveal_all(job, &all);
			let expected = [
				dissent(V3).to_vec(),
				vec![Call::Finalized(job, outcome(&honest, &class, &[V1, V2]))],
			]
			.concat();
			assert_eq!(take_calls(), expected);
		}
	});
}

#[test]
fn the_exact_class_tolerates_nothing() {
	ExtBuilder.build_and_execute(|| {
		let nearly = scores(&[0.1, 0.2, 0.700_01]);
		open(0, &[V1, V2, V3], Determinism::Exact);
		let all = [(V1, good()), (V2, nearly.clone()), (V3, good())];
		commit_all(0, &all);
		reveal_all(0, &all);
		let expected = [
			dissent(V2).to_vec(),
			vec![Call::Finalized(0, outcome(&good(), &Determinism::Exact, &[V1, V3]))],
		]
		.concat();
		assert_eq!(take_calls(), expected);

		// The same outputs agree under the tolerance.
		open(1, &[V1, V2, V3], tolerance());
		commit_all(1, &all);
		reveal_all(1, &all);
		assert_eq!(
			take_calls(),
			vec![Call::Finalized(1, outcome(&good(), &tolerance(), &[V1, V2, V3]))]
		);
	});
}

#[test]
fn the_output_most_reveals_agree_with_decides_the_first_in_committee_order_on_ties() {
	ExtBuilder.build_and_execute(|| {
		let class = tolerance();
		open(0, &[V1, V2, V3, V4], class);
		// Each within 1e-4 of the next but not of the one after, all on different grid points:
		// V2's and V3's outputs both have three supporters (of the threshold of 3); V2 comes first,
		// and V4, which agrees with V3 but not with V2, dissents.
		let a = scores(&[0.1, 0.2, 0.7]);
		let b = scores(&[0.100_09, 0.2, 0.7]);
		let c = scores(&[0.100_18, 0.2, 0.7]);
		let d = scores(&[0.100_27, 0.2, 0.7]);
		let digests: BTreeSet<H256> = [&a, &b, &c, &d]
			.into_iter()
			.map(|output| output_digest(output, &class))
			.collect();
		assert_eq!(digests.len(), 4);
		assert_eq!(Verification::threshold(4), 3);
		let all = [(V1, a), (V2, b.clone()), (V3, c), (V4, d)];
		commit_all(0, &all);
		reveal_all(0, &all);
		let expected =
			[dissent(V4).to_vec(), vec![Call::Finalized(0, outcome(&b, &class, &[V1, V2, V3]))]]
				.concat();
		assert_eq!(take_calls(), expected);
	});
}

#[test]
fn an_error_revealed_by_every_executor_is_the_agreed_result() {
	ExtBuilder.build_and_execute(|| {
		open(0, &[V1, V2, V3], Determinism::Exact);
		let error = InferenceOutput::Error(InferenceError::BadInput);
		let all = same(&[V1, V2, V3], &error);
		commit_all(0, &all);
		reveal_all(0, &all);
		assert_eq!(
			take_calls(),
			vec![Call::Finalized(0, outcome(&error, &Determinism::Exact, &[V1, V2, V3]))]
		);
		assert_cleared(0);
	});
}

#[test]
fn an_error_revealed_by_a_quorum_is_the_agreed_result() {
	ExtBuilder.build_and_execute(|| {
		open(0, &[V1, V2, V3], tolerance());
		let error = InferenceOutput::Error(InferenceError::BadInput);
		let all = [(V1, error.clone()), (V2, good()), (V3, error.clone())];
		commit_all(0, &all);
		reveal_all(0, &all);
		let expected = [
			dissent(V2).to_vec(),
			vec![Call::Finalized(0, outcome(&error, &tolerance(), &[V1, V3]))],
		]
		.concat();
		assert_eq!(take_calls(), expected);

		// Another error is a dissent too.
		open(1, &[V1, V2, V3], Determinism::Exact);
		let all = [
			(V1, error.clone()),
			(V2, InferenceOutput::Error(InferenceError::Timeout)),
			(V3, error.clone()),
		];
		commit_all(1, &all);
		reveal_all(1, &all);
		let expected = [
			dissent(V2).to_vec(),
			vec![Call::Finalized(1, outcome(&error, &Determinism::Exact, &[V1, V3]))],
		]
		.concat();
		assert_eq!(take_calls(), expected);
	});
}

// Validity of commits and reveals.

#[test]
fn a_reveal_that_does_not_match_its_commitment_is_refused() {
	ExtBuilder.build_and_execute(|| {
		open(0, &[V1, V2], Determinism::Exact);
		let committed = good();
		commit_all(0, &same(&[V1, V2], &committed));
		// Another output, properly signed.
		refused(reveal_call(0, V1, &bad()), Error::CommitmentMismatch);
		// The committed output with another salt, properly signed.
		let wrong_salt = [0u8; 32];
		let payload = Verification::reveal_payload(0, 0, &V1, &committed, &wrong_salt);
		let salted = crate::Call::<Test>::reveal {
			job: 0,
			executor: V1,
			output: committed.clone(),
			salt: wrong_salt,
			signature: Pair::sign(&key_pair(V1), &payload).into(),
		};
		refused(salted, Error::CommitmentMismatch);
		// The true reveal still passes.
		assert_eq!(pool_verdict(&reveal_call(0, V1, &committed)), Ok(()));

		// A copied commitment cannot be revealed: it binds the executor that made it.
		open(1, &[V1, V2], Determinism::Exact);
		let crate::Call::commit { commitment: copied, .. } = commit_call(1, V1, &committed) else {
			unreachable!("a commit")
		};
		assert_ok!(submit(commit_call(1, V1, &committed)));
		let payload = Verification::commit_payload(1, 0, &V2, &copied);
		assert_ok!(submit(crate::Call::<Test>::commit {
			job: 1,
			executor: V2,
			commitment: copied,
			signature: Pair::sign(&key_pair(V2), &payload).into(),
		}));
		let payload = Verification::reveal_payload(1, 0, &V2, &committed, &salt(V1));
		let copy = crate::Call::<Test>::reveal {
			job: 1,
			executor: V2,
			output: committed.clone(),
			salt: salt(V1),
			signature: Pair::sign(&key_pair(V2), &payload).into(),
		};
		refused(copy, Error::CommitmentMismatch);
		refused(reveal_call(1, V2, &committed), Error::CommitmentMismatch);
		assert_eq!(pool_verdict(&reveal_call(1, V1, &committed)), Ok(()));
	});
}

#[test]
fn only_executors_with_valid_signatures_commit_once_in_the_window() {
	ExtBuilder.build_and_execute(|| {
		open(0, &[V1, V2, KEYLESS], Determinism::Exact);
		let output = good();
		let crate::Call::commit { commitment, signature, .. } = commit_call(0, V1, &output) else {
			unreachable!("a commit")
		};
		// An unknown job.
		refused(
			crate::Call::<Test>::commit {
				job: 5,
				executor: V1,
				commitment,
				signature: signature.clone(),
			},
			Error::NoRound,
		);
		// Not an executor, whatever the signature.
		refused(commit_call(0, STRANGER, &output), Error::NotExecutor);
		refused(
			crate::Call::<Test>::commit {
				job: 0,
				executor: STRANGER,
				commitment,
				signature: signature.clone(),
			},
			Error::NotExecutor,
		);
		// An executor without an inference key.
		refused(commit_call(0, KEYLESS, &output), Error::NoInferenceKey);
		// V1's signature for V2, and over another commitment.
		refused(
			crate::Call::<Test>::commit {
				job: 0,
				executor: V2,
				commitment,
				signature: signature.clone(),
			},
			Error::BadSignature,
		);
		refused(
			crate::Call::<Test>::commit {
				job: 0,
				executor: V1,
				commitment: H256::repeat_byte(1),
				signature: signature.clone(),
			},
			Error::BadSignature,
		);
		// Another job's signature.
		open(1, &[V1], Determinism::Exact);
		refused(
			crate::Call::<Test>::commit { job: 1, executor: V1, commitment, signature },
			Error::BadSignature,
		);

		// Once.
		assert_eq!(pool_verdict(&commit_call(0, V1, &output)), Ok(()));
		assert_ok!(submit(commit_call(0, V1, &output)));
		assert_eq!(Commitments::<Test>::get(0, V1), Some(commitment));
		refused(commit_call(0, V1, &output), Error::AlreadyCommitted);
		refused(commit_call(0, V1, &bad()), Error::AlreadyCommitted);

		// Up to the last block of the window.
		run_to_block(COMMIT_UNTIL);
		assert_eq!(pool_verdict(&commit_call(0, V2, &output)), Ok(()));
		run_to_block(COMMIT_UNTIL + 1);
		refused(commit_call(0, V2, &output), Error::CommitWindowClosed);
		// The window is checked before duplicates.
		refused(commit_call(0, V1, &output), Error::CommitWindowClosed);

		assert_eq!(Rounds::<Test>::get(0).unwrap().committed, 1);
		let commits = verification_events()
			.into_iter()
			.filter(|event| matches!(event, Event::Committed { .. }))
			.count();
		assert_eq!(commits, 1);
	});
}

#[test]
fn reveals_follow_their_windows_once_each_and_fit_the_declared_output() {
	ExtBuilder.build_and_execute(|| {
		open(0, &[V1, V2, V3], Determinism::Exact);
		open(1, &[V1, KEYLESS], Determinism::Exact);
		let output = good();
		let wrong_shape = scores(&[0.1, 0.2, 0.3, 0.4]);
		let crate::Call::reveal { salt: v1_salt, signature: v1_signature, .. } =
			reveal_call(0, V1, &output)
		else {
			unreachable!("a reveal")
		};

		// An unknown job; not an executor; no inference key; nothing committed.
		refused(
			crate::Call::<Test>::reveal {
				job: 5,
				executor: V1,
				output: output.clone(),
				salt: v1_salt,
				signature: v1_signature.clone(),
			},
			Error::NoRound,
		);
		refused(reveal_call(0, STRANGER, &output), Error::NotExecutor);
		refused(reveal_call(1, KEYLESS, &output), Error::NoInferenceKey);
		refused(reveal_call(0, V1, &output), Error::NotCommitted);

		// V2 commits to a tensor of the wrong shape.
		commit_all(0, &[(V1, output.clone()), (V2, wrong_shape.clone())]);
		// Not everyone committed and the commit window is open.
		refused(reveal_call(0, V1, &output), Error::RevealWindowNotOpen);
		commit_all(0, &[(V3, output.clone())]);

		// Everyone committed: reveals are open, each signed by its executor.
		refused(
			crate::Call::<Test>::reveal {
				job: 0,
				executor: V2,
				output: output.clone(),
				salt: v1_salt,
				signature: v1_signature,
			},
			Error::BadSignature,
		);
		// The tensor must fit the model's output, which is checked before the commitment.
		refused(reveal_call(0, V2, &wrong_shape), Error::OutputMismatch);
		refused(reveal_call(0, V3, &wrong_shape), Error::OutputMismatch);

		// A reveal that does not complete the round weighs a reveal, and is free.
		let call = reveal_call(0, V1, &output);
		let declared = call.get_dispatch_info().call_weight;
		let post = submit(call).unwrap();
		assert_eq!(post.pays_fee, Pays::No);
		assert_eq!(post.actual_weight, Some(<() as WeightInfo>::reveal(OUTPUT_BYTES)));
		assert!(post.actual_weight.unwrap().all_lte(declared));
		assert!(take_calls().is_empty());
		refused(reveal_call(0, V1, &output), Error::AlreadyRevealed);

		// Up to the last block of the reveal window (the hook does not run here).
		System::set_block_number(REVEAL_UNTIL);
		assert_eq!(pool_verdict(&reveal_call(0, V3, &output)), Ok(()));
		System::set_block_number(REVEAL_UNTIL + 1);
		refused(reveal_call(0, V3, &output), Error::RevealWindowClosed);
		let round = Rounds::<Test>::get(0).unwrap();
		assert_eq!((round.committed, round.revealed), (3, 1));
	});
}

#[test]
fn a_reveal_that_completes_the_round_weighs_its_tally_and_is_free() {
	ExtBuilder.build_and_execute(|| {
		open(0, &[V1], Determinism::Exact);
		assert_ok!(submit(commit_call(0, V1, &good())));
		let call = reveal_call(0, V1, &good());
		assert_eq!(
			call.get_dispatch_info().call_weight,
			<() as WeightInfo>::reveal(OUTPUT_BYTES)
				.saturating_add(<() as WeightInfo>::tally(MAX_COMMITTEE, OUTPUT_BYTES))
		);
		let post = submit(call).unwrap();
		assert_eq!(post.pays_fee, Pays::No);
		assert_eq!(
			post.actual_weight,
			Some(
				<() as WeightInfo>::reveal(OUTPUT_BYTES)
					.saturating_add(<() as WeightInfo>::tally(1, OUTPUT_BYTES))
			)
		);
		assert_eq!(take_calls().len(), 1);
	});
}

#[test]
fn only_the_authorized_origin_dispatches_commits_and_reveals() {
	ExtBuilder.build_and_execute(|| {
		open(0, &[V1, V2], Determinism::Exact);
		let output = good();
		for origin in [RuntimeOrigin::signed(V1), RuntimeOrigin::root(), RuntimeOrigin::none()] {
			assert_noop!(
				RuntimeCall::Verification(commit_call(0, V1, &output))
					.dispatch(origin)
					.map_err(|e| e.error),
				DispatchError::BadOrigin
			);
		}
		commit_all(0, &same(&[V1, V2], &output));
		for origin in [RuntimeOrigin::signed(V1), RuntimeOrigin::root(), RuntimeOrigin::none()] {
			assert_noop!(
				RuntimeCall::Verification(reveal_call(0, V1, &output))
					.dispatch(origin)
					.map_err(|e| e.error),
				DispatchError::BadOrigin
			);
		}
		assert_ok!(submit(reveal_call(0, V1, &output)));
	});
}

#[test]
fn the_pool_keeps_a_duty_once_per_executor_until_its_window_closes() {
	ExtBuilder.build_and_execute(|| {
		open(0, &[V1, V2], Determinism::Exact);
		let output = good();
		let validity = |call: crate::Call<Test>| {
			call.authorize(TransactionSource::External)
				.expect("an authorized call")
				.expect("a valid duty")
				.0
		};
		let commit = validity(commit_call(0, V1, &output));
		assert_eq!(commit.priority, u64::MAX / 2);
		assert_eq!(commit.longevity, COMMIT_UNTIL - OPENED + 1);
		assert!(commit.propagate);
		assert!(commit.requires.is_empty());
		assert_eq!(commit.provides.len(), 1);
		// Another commitment of the same executor takes the same tag; another executor's does
		// not.
		assert_eq!(validity(commit_call(0, V1, &bad())).provides, commit.provides);
		assert_ne!(validity(commit_call(0, V2, &output)).provides, commit.provides);

		commit_all(0, &same(&[V1, V2], &output));
		run_to_block(3);
		let reveal = validity(reveal_call(0, V1, &output));
		assert_eq!(reveal.longevity, REVEAL_UNTIL - 3 + 1);
		assert_ne!(reveal.provides, commit.provides);
	});
}

// The jobs pallet's view.

#[test]
fn a_round_needs_a_committee_within_the_bound() {
	ExtBuilder.build_and_execute(|| {
		let open_round = |committee: Vec<AccountId>| {
			<Verification as JobVerifier<AccountId>>::open_round(
				0,
				0,
				committee,
				Determinism::Exact,
				expected_outputs(),
			)
		};
		assert_noop!(open_round(vec![]), Error::<Test>::BadCommittee);
		assert_noop!(
			open_round((1..=u64::from(MAX_COMMITTEE) + 1).collect()),
			Error::<Test>::BadCommittee
		);
		assert_ok!(open_round((1..=u64::from(MAX_COMMITTEE)).collect()));
		assert_eq!(Rounds::<Test>::get(0).unwrap().committee.len(), MAX_COMMITTEE as usize);
	});
}

#[test]
fn closing_a_round_drops_everything() {
	ExtBuilder.build_and_execute(|| {
		open(0, &[V1, V2], Determinism::Exact);
		let output = good();
		assert!(!has_commitments(0));
		assert!(!has_commitments(9));
		assert_ok!(submit(commit_call(0, V1, &output)));
		assert!(has_commitments(0));
		assert_ok!(submit(commit_call(0, V2, &output)));
		assert_ok!(submit(reveal_call(0, V1, &output)));
		let late = reveal_call(0, V2, &output);

		<Verification as JobVerifier<AccountId>>::close(0);
		assert_cleared(0);
		assert_eq!(Commitments::<Test>::iter().count(), 0);
		assert_eq!(Reveals::<Test>::iter().count(), 0);
		assert!(!has_commitments(0));
		assert!(Verification::round_progress(0).is_none());
		refused(late, Error::NoRound);
		// It left the queue of due rounds as it ended.
		assert_eq!(due(), vec![]);
		run_to_block(20);
		assert!(take_calls().is_empty());
	});
}

#[test]
fn round_progress_lists_who_committed_and_revealed_in_committee_order() {
	ExtBuilder.build_and_execute(|| {
		open(0, &[V1, V2, V3], Determinism::Exact);
		assert!(Verification::round_progress(1).is_none());
		let progress = Verification::round_progress(0).unwrap();
		assert_eq!(progress.round, 0);
		assert_eq!(progress.committee, vec![V1, V2, V3]);
		assert_eq!((progress.commit_until, progress.reveal_until), (COMMIT_UNTIL, REVEAL_UNTIL));
		assert!(progress.committed.is_empty());
		assert!(progress.revealed.is_empty());

		commit_all(0, &same(&[V3, V1], &good()));
		assert_eq!(Verification::round_progress(0).unwrap().committed, vec![V1, V3]);
		commit_all(0, &[(V2, bad())]);
		reveal_all(0, &[(V2, bad()), (V1, good())]);
		let progress = Verification::round_progress(0).unwrap();
		assert_eq!(progress.committed, vec![V1, V2, V3]);
		assert_eq!(
			progress.revealed,
			vec![
				(V1, output_digest(&good(), &Determinism::Exact)),
				(V2, output_digest(&bad(), &Determinism::Exact)),
			]
		);
	});
}

// The hook.

#[test]
fn the_hook_tallies_the_rounds_nobody_completed_in_deadline_order() {
	ExtBuilder.build_and_execute(|| {
		let output = good();
		for job in 0..3 {
			open(job, &[V1], Determinism::Exact);
		}
		commit_all(0, &[(V1, output.clone())]);
		reveal_all(0, &[(V1, output.clone())]);
		assert_eq!(
			take_calls(),
			vec![Call::Finalized(0, outcome(&output, &Determinism::Exact, &[V1]))]
		);

		let later = 3;
		run_to_block(later);
		for job in 3..5 {
			open(job, &[V2], Determinism::Exact);
		}
		commit_all(3, &[(V2, output.clone())]);
		reveal_all(3, &[(V2, output.clone())]);
		assert_eq!(
			take_calls(),
			vec![Call::Finalized(3, outcome(&output, &Determinism::Exact, &[V2]))]
		);
		// Jobs 0 and 3 ended: only the others wait for their deadlines.
		let later_until = later + COMMIT_WINDOW + REVEAL_WINDOW;
		assert_eq!(due(), vec![(TALLIED_AT, 1, 0), (TALLIED_AT, 2, 0), (later_until + 1, 4, 0)]);

		run_to_block(REVEAL_UNTIL);
		assert!(take_calls().is_empty());
		run_to_block(TALLIED_AT);
		assert_same_calls(take_calls(), [failed_alone(1, V1), failed_alone(2, V1)].concat());
		assert_eq!(due(), vec![(later_until + 1, 4, 0)]);
		assert_eq!(TallyCursor::<Test>::get(), TALLIED_AT + 1);

		run_to_block(later_until);
		assert!(take_calls().is_empty());
		run_to_block(later_until + 1);
		assert_eq!(take_calls(), failed_alone(4, V2));
		assert_eq!(due(), vec![]);
		assert_eq!(Rounds::<Test>::iter().count(), 0);
	});
}

#[test]
fn the_hook_stays_within_max_tally_weight_and_leaves_the_rest_for_the_next_block() {
	ExtBuilder.build_and_execute(|| {
		// Room for one tally of a committee of one that nobody answered, and no more.
		let db: frame_support::weights::RuntimeDbWeight =
			<Test as frame_system::Config>::DbWeight::get();
		let one = <() as WeightInfo>::on_initialize_idle()
			.saturating_add(Verification::tally_weight(1, 0))
			.saturating_add(db.reads_writes(2, 1));
		MaxTallyWeight::set(one);
		for job in 0..3 {
			open(job, &[V1], Determinism::Exact);
		}
		run_to_block(REVEAL_UNTIL);
		let mut ended = Vec::new();
		for block in TALLIED_AT..TALLIED_AT + 3 {
			System::set_block_number(block);
			let weight = Verification::on_initialize(block);
			assert!(weight.all_lte(one), "{weight:?} over {one:?}");
			let failed: Vec<JobId> = take_calls()
				.into_iter()
				.filter_map(|call| match call {
					Call::Failed(job, _) => Some(job),
					_ => None,
				})
				.collect();
			assert_eq!(failed.len(), 1, "one round a block");
			ended.extend(failed);
			// The cursor waits at the deadline's block while rounds are left there.
			let left = 2 - (block - TALLIED_AT);
			assert_eq!(TallyCursor::<Test>::get(), if left > 0 { TALLIED_AT } else { block + 1 });
		}
		ended.sort();
		assert_eq!(ended, vec![0, 1, 2]);
		assert_eq!(due(), vec![]);
	});
}

#[test]
fn the_hook_weighs_each_round_by_its_own_committee_and_reveals() {
	ExtBuilder.build_and_execute(|| {
		// Room for one tally of the largest committee revealing the most bytes: two rounds of
		// one silent executor each fit in it.
		let db: frame_support::weights::RuntimeDbWeight =
			<Test as frame_system::Config>::DbWeight::get();
		let limit = <() as WeightInfo>::on_initialize_idle()
			.saturating_add(Verification::worst_tally_weight())
			.saturating_add(db.reads_writes(2, 1));
		MaxTallyWeight::set(limit);
		open(0, &[V1], Determinism::Exact);
		open(1, &[V2], Determinism::Exact);
		run_to_block(TALLIED_AT);
		assert_same_calls(take_calls(), [failed_alone(0, V1), failed_alone(1, V2)].concat());
		assert_eq!(due(), vec![]);
	});
}

#[test]
fn rounds_that_end_early_leave_the_queue_of_due_rounds() {
	ExtBuilder.build_and_execute(|| {
		for job in 0..6 {
			open(job, &[V1], Determinism::Exact);
		}
		run_to_block(REVEAL_UNTIL);
		for job in 0..5 {
			<Verification as JobVerifier<AccountId>>::close(job);
		}
		assert_eq!(due(), vec![(TALLIED_AT, 5, 0)]);
		run_to_block(TALLIED_AT);
		assert_eq!(take_calls(), failed_alone(5, V1));
		assert_eq!(due(), vec![]);
	});
}

#[test]
fn a_sustained_load_of_rounds_that_time_out_drains_as_it_comes() {
	ExtBuilder.build_and_execute(|| {
		// Forty rounds a block for six blocks, five times the eight a block the hook used to
		// take, all reaching their deadline: the runtime's quarter of a block tallies each
		// block's share in the block it is due.
		let db: frame_support::weights::RuntimeDbWeight =
			<Test as frame_system::Config>::DbWeight::get();
		let per_round = Verification::tally_weight(1, 0).saturating_add(db.reads_writes(2, 1));
		let room = (MaxTallyWeight::get().ref_time()
			- <() as WeightInfo>::on_initialize_idle().ref_time())
			/ per_round.ref_time();
		assert!(room >= 40, "the mock's limit fits {room} such tallies");
		let mut job = 0;
		for block in OPENED..OPENED + 6 {
			run_to_block(block);
			for _ in 0..40 {
				open(job, &[V1], Determinism::Exact);
				job += 1;
			}
		}
		take_calls();
		for block in TALLIED_AT..TALLIED_AT + 6 {
			System::set_block_number(block);
			let weight = Verification::on_initialize(block);
			assert!(weight.all_lte(MaxTallyWeight::get()));
			let failed =
				take_calls().into_iter().filter(|call| matches!(call, Call::Failed(..))).count();
			assert_eq!(failed, 40, "block {block}");
		}
		assert_eq!(due(), vec![]);
		assert_eq!(Rounds::<Test>::iter().count(), 0);
	});
}

#[test]
fn the_threshold_is_two_thirds_rounded_up() {
	ExtBuilder.build_and_execute(|| {
		let thresholds: Vec<u32> = [1, 2, 3, 4, 5, 7].map(Verification::threshold).to_vec();
		assert_eq!(thresholds, vec![1, 2, 2, 3, 4, 5]);
	});
}

#[test]
fn the_invariants_catch_a_stray_commitment() {
	ExtBuilder.build().execute_with(|| {
		open(0, &[V1], Determinism::Exact);
		assert!(Verification::do_try_state().is_ok());
		Commitments::<Test>::insert(0, V2, H256::zero());
		assert!(Verification::do_try_state().is_err());
	});
}

// Abstentions.

#[test]
fn each_executor_learns_its_duties_in_the_rounds_it_serves() {
	ExtBuilder.build_and_execute(|| {
		let duties = |who: AccountId| -> Vec<(JobId, RoundDuty)> {
			let now = System::block_number();
			Verification::duties_of(&who, now)
				.into_iter()
				.map(|(job, _, duty)| (job, duty))
				.collect()
		};
		open(0, &[V1, V2, V3], Determinism::Exact);
		assert!(Verification::is_current_round(0, 0) && !Verification::is_current_round(0, 1));
		assert_eq!(duties(V1), vec![(0, RoundDuty::Commit)]);
		assert_eq!(duties(STRANGER), vec![]);
		commit_all(0, &same(&[V1, V2], &good()));
		// Committed, but V3 has not answered and the commit window is open: nothing to do.
		assert_eq!(duties(V1), vec![]);
		assert_eq!(duties(V3), vec![(0, RoundDuty::Commit)]);
		assert_ok!(submit(abstain_call(0, V3, Abstention::Timeout)));
		assert_eq!(duties(V3), vec![]);
		assert_eq!(duties(V1), vec![(0, RoundDuty::Reveal)]);
		assert_ok!(submit(reveal_call(0, V1, &good())));
		assert_eq!(duties(V1), vec![]);
		assert_eq!(duties(V2), vec![(0, RoundDuty::Reveal)]);

		// Past the commit window an executor that did not commit has nothing left to do.
		open(1, &[V4, V5], Determinism::Exact);
		commit_all(1, &[(V4, good())]);
		let commit_until = Rounds::<Test>::get(1).unwrap().commit_until;
		assert_eq!(duties(V5), vec![(1, RoundDuty::Commit)]);
		System::set_block_number(commit_until + 1);
		assert_eq!(duties(V5), vec![]);
		assert_eq!(duties(V4), vec![(1, RoundDuty::Reveal)]);
	});
}

#[test]
fn an_abstainer_is_neither_paid_nor_slashed_and_reveals_open_once_everyone_answered() {
	ExtBuilder.build_and_execute(|| {
		open(0, &[V1, V2, V3], Determinism::Exact);
		let two = same(&[V1, V2], &good());
		commit_all(0, &two);
		refused(reveal_call(0, V1, &good()), Error::RevealWindowNotOpen);
		// V3's node ran out of time: it says so instead of committing.
		assert_ok!(submit(abstain_call(0, V3, Abstention::Timeout)));
		assert!(verification_events().contains(&Event::Abstained {
			job: 0,
			executor: V3,
			cause: Abstention::Timeout,
		}));
		// Everyone answered: reveals open before the commit window closes.
		reveal_all(0, &two);
		let expected = vec![
			Call::Abstained(V3),
			Call::Finalized(0, outcome(&good(), &Determinism::Exact, &[V1, V2])),
		];
		assert_eq!(take_calls(), expected, "V3 counted, not slashed, not among the agreeing");
		assert!(verification_events().contains(&Event::RoundDecided {
			job: 0,
			round: 0,
			digest: output_digest(&good(), &Determinism::Exact),
			agreeing: vec![V1, V2],
			dissenters: vec![],
			withheld: vec![],
			no_shows: vec![],
			undecided: vec![],
		}));
		assert_cleared(0);
	});
}

#[test]
fn abstentions_count_against_the_quorum_and_a_round_everyone_abstained_from_ends_at_once() {
	ExtBuilder.build_and_execute(|| {
		// Two abstainers of three: one verdict is no quorum; nobody is slashed.
		open(0, &[V1, V2, V3], Determinism::Exact);
		commit_all(0, &[(V1, good())]);
		assert_ok!(submit(abstain_call(0, V2, Abstention::MemoryLimit)));
		assert_ok!(submit(abstain_call(0, V3, Abstention::WorkerCrashed)));
		reveal_all(0, &[(V1, good())]);
		let expected = vec![
			Call::Abstained(V2),
			Call::Abstained(V3),
			Call::Escalated(0, 7),
			Call::Failed(0, FailureReason::NoFreshExecutors),
		];
		assert_eq!(take_calls(), expected);
		assert!(verification_events().contains(&Event::NoQuorum {
			job: 0,
			round: 0,
			withheld: vec![],
			no_shows: vec![],
		}));
		assert_cleared(0);

		// A lone executor that abstains ends its round in the same block, with a refund.
		open(1, &[V1], Determinism::Exact);
		assert_ok!(submit(abstain_call(1, V1, Abstention::ModelUnavailable)));
		assert_eq!(
			take_calls(),
			vec![
				Call::Abstained(V1),
				Call::Escalated(1, 3),
				Call::Failed(1, FailureReason::NoFreshExecutors)
			]
		);
		assert_cleared(1);
	});
}

#[test]
fn a_quorum_that_cannot_get_the_inputs_ends_the_job_without_escalating_or_slashing() {
	ExtBuilder.build_and_execute(|| {
		// Two of three could not fetch an input: the job ends, the reporters paid.
		open(0, &[V1, V2, V3], Determinism::Exact);
		commit_all(0, &[(V1, good())]);
		assert_ok!(submit(abstain_call(0, V2, Abstention::InputUnavailable)));
		assert_ok!(submit(abstain_call(0, V3, Abstention::InputUnavailable)));
		reveal_all(0, &[(V1, good())]);
		let expected = vec![
			Call::Abstained(V2),
			Call::Abstained(V3),
			Call::InputsUnavailable(0, vec![V2, V3]),
		];
		assert_eq!(take_calls(), expected, "no escalation, nobody slashed");
		assert_cleared(0);

		// One of three is no quorum: the others' verdicts decide, as with any abstention.
		open(1, &[V1, V2, V3], Determinism::Exact);
		let two = same(&[V1, V2], &good());
		commit_all(1, &two);
		assert_ok!(submit(abstain_call(1, V3, Abstention::InputUnavailable)));
		reveal_all(1, &two);
		let expected = vec![
			Call::Abstained(V3),
			Call::Finalized(1, outcome(&good(), &Determinism::Exact, &[V1, V2])),
		];
		assert_eq!(take_calls(), expected);

		// Nor do two different causes make one: a timeout and an unavailable input escalate.
		open(2, &[V1, V2, V3], Determinism::Exact);
		commit_all(2, &[(V1, good())]);
		assert_ok!(submit(abstain_call(2, V2, Abstention::Timeout)));
		assert_ok!(submit(abstain_call(2, V3, Abstention::InputUnavailable)));
		reveal_all(2, &[(V1, good())]);
		let calls = take_calls();
		assert!(calls.contains(&Call::Escalated(2, 7)), "{calls:?}");
	});
}

#[test]
fn an_executor_abstains_once_inside_the_commit_window_and_never_beside_a_commitment() {
	ExtBuilder.build_and_execute(|| {
		open(0, &[V1, V2, V3], Determinism::Exact);
		commit_all(0, &[(V1, good())]);
		refused(abstain_call(0, V1, Abstention::Timeout), Error::AlreadyCommitted);
		assert_ok!(submit(abstain_call(0, V2, Abstention::Timeout)));
		refused(abstain_call(0, V2, Abstention::MemoryLimit), Error::AlreadyAbstained);
		refused(commit_call(0, V2, &good()), Error::AlreadyAbstained);
		// Not an executor; a signature by someone else's key.
		refused(abstain_call(0, V4, Abstention::Timeout), Error::NotExecutor);
		let mut forged = abstain_call(0, V3, Abstention::Timeout);
		if let crate::Call::abstain { signature, .. } = &mut forged {
			let payload = Verification::abstain_payload(0, 0, &V3, &Abstention::Timeout);
			*signature = key_pair(V1).sign(&payload).into();
		}
		refused(forged, Error::BadSignature);
		run_to_block(COMMIT_UNTIL + 1);
		refused(abstain_call(0, V3, Abstention::Timeout), Error::CommitWindowClosed);
		// V3 neither committed nor abstained: a no-show.
		reveal_all(0, &[(V1, good())]);
		let calls = take_calls();
		assert!(calls.contains(&Call::Abstained(V2)));
		assert!(calls.contains(&Call::Missed(V3)));
		assert!(!calls.contains(&Call::Missed(V2)));
	});
}

mod batched_duties {
	use super::*;
	use crate::CommitItem;

	/// The items of `executor`'s batches that were refused, with their errors.
	fn refusals(executor: AccountId) -> Vec<(JobId, DispatchError)> {
		verification_events()
			.into_iter()
			.filter_map(|event| match event {
				Event::DutyRefused { job, executor: who, error } if who == executor => {
					Some((job, error))
				},
				_ => None,
			})
			.collect()
	}

	#[test]
	fn a_batch_of_commits_applies_its_valid_items_and_refuses_the_others_alone() {
		ExtBuilder.build_and_execute(|| {
			for job in 0..3 {
				open(job, &[V1, V2, V3], Determinism::Exact);
			}
			open(3, &[V2, V3], Determinism::Exact);
			let call = commit_batch_call(
				V1,
				&[(0, 0, good()), (1, 0, good()), (3, 0, good()), (9, 0, good()), (0, 0, bad())],
			);
			assert_eq!(pool_verdict(&call), Ok(()));
			let info = submit(call).unwrap();
			assert_eq!(info.pays_fee, Pays::No);

			assert!(Commitments::<Test>::contains_key(0, V1));
			assert!(Commitments::<Test>::contains_key(1, V1));
			assert!(!Commitments::<Test>::contains_key(2, V1));
			assert_eq!(Rounds::<Test>::get(0).unwrap().committed, 1);
			assert_eq!(
				refusals(V1),
				vec![
					(3, Error::<Test>::NotExecutor.into()),
					(9, Error::<Test>::NoRound.into()),
					// The duplicate: the first item for job 0 committed already.
					(0, Error::<Test>::AlreadyCommitted.into()),
				]
			);
			let committed = verification_events()
				.into_iter()
				.filter(|event| matches!(event, Event::Committed { executor: V1, .. }))
				.count();
			assert_eq!(committed, 2);
		});
	}

	#[test]
	fn a_batch_that_no_item_passes_is_refused_by_the_pool_with_the_first_items_error() {
		ExtBuilder.build_and_execute(|| {
			open(0, &[V1, V2, V3], Determinism::Exact);
			submit(commit_call(0, V1, &good())).unwrap();
			// Committed already, then a round that is not the job's current one.
			let call = commit_batch_call(V1, &[(0, 0, good()), (0, 1, good())]);
			assert_eq!(pool_verdict(&call), Err(Error::<Test>::AlreadyCommitted.encode()[0]));
			// Dispatched anyway (the pool is bypassed), it refuses each item and changes nothing
			// else.
			assert_ok!(dispatch(call));
			assert_eq!(
				refusals(V1),
				vec![
					(0, Error::<Test>::AlreadyCommitted.into()),
					(0, Error::<Test>::NoRound.into())
				]
			);
			assert_eq!(Rounds::<Test>::get(0).unwrap().committed, 1);

			let empty = crate::Call::<Test>::commit_batch {
				executor: V2,
				items: Default::default(),
				signature: key_pair(V2).sign(&Verification::commit_batch_payload(&V2, &[])).into(),
			};
			refused(empty, Error::<Test>::EmptyBatch);
		});
	}

	#[test]
	fn a_batch_is_refused_whole_without_its_executors_signature() {
		ExtBuilder.build_and_execute(|| {
			open(0, &[V1, V2, V3], Determinism::Exact);
			open(1, &[V1, V2, V3], Determinism::Exact);
			let crate::Call::<Test>::commit_batch { items, .. } =
				commit_batch_call(V1, &[(0, 0, good()), (1, 0, good())])
			else {
				unreachable!()
			};
			// Signed by V2's key for V1, or by V1 over other items.
			let by_other = key_pair(V2).sign(&Verification::commit_batch_payload(&V1, &items));
			refused(
				crate::Call::commit_batch {
					executor: V1,
					items: items.clone(),
					signature: by_other.into(),
				},
				Error::<Test>::BadSignature,
			);
			let fewer: Vec<CommitItem> = items.iter().take(1).cloned().collect();
			let over_fewer = key_pair(V1).sign(&Verification::commit_batch_payload(&V1, &fewer));
			refused(
				crate::Call::commit_batch { executor: V1, items, signature: over_fewer.into() },
				Error::<Test>::BadSignature,
			);
			let crate::Call::<Test>::commit_batch { items, signature, .. } =
				commit_batch_call(KEYLESS, &[(0, 0, good())])
			else {
				unreachable!()
			};
			refused(
				crate::Call::commit_batch { executor: KEYLESS, items, signature },
				Error::<Test>::NoInferenceKey,
			);
			assert_eq!(Commitments::<Test>::iter().count(), 0);
		});
	}

	#[test]
	fn a_batch_holds_at_most_max_duty_batch_items_and_its_weight_grows_with_them() {
		ExtBuilder.build_and_execute(|| {
			for job in 0..MAX_DUTY_BATCH as JobId {
				open(job, &[V1, V2, V3], Determinism::Exact);
			}
			let items: Vec<(JobId, u8, InferenceOutput)> =
				(0..MAX_DUTY_BATCH as JobId).map(|job| (job, 0, good())).collect();
			let full = commit_batch_call(V1, &items);
			let one = commit_batch_call(V1, &items[..1]);
			assert!(
				full.get_dispatch_info().call_weight.ref_time()
					> one.get_dispatch_info().call_weight.ref_time()
			);
			assert_ok!(submit(full));
			assert_eq!(Commitments::<Test>::iter().count(), MAX_DUTY_BATCH as usize);

			// One item more does not decode.
			let over: Vec<CommitItem> = (0..=MAX_DUTY_BATCH as JobId)
				.map(|job| CommitItem { job, round: 0, commitment: H256::zero() })
				.collect();
			let encoded = (V1, over, [0u8; 64]).encode();
			let mut input = &encoded[..];
			assert!(<(
				AccountId,
				frame_support::BoundedVec<
					CommitItem,
					frame_support::traits::ConstU32<MAX_DUTY_BATCH>,
				>,
				[u8; 64]
			) as codec::Decode>::decode(&mut input)
			.is_err());
		});
	}

	#[test]
	fn a_batch_of_reveals_refuses_a_mismatch_alone_and_queues_the_rounds_it_completes() {
		ExtBuilder.build_and_execute(|| {
			open(0, &[V1, V2, V3], Determinism::Exact);
			open(1, &[V1, V2, V3], Determinism::Exact);
			for who in [V1, V2, V3] {
				submit(commit_batch_call(who, &[(0, 0, good()), (1, 0, good())])).unwrap();
			}
			run_to_block(2);
			// V1: job 0 with an output it did not commit to (refused alone), then job 1, then
			// job 0 as committed.
			let call = reveal_batch_call(V1, &[(0, 0, bad()), (1, 0, good()), (0, 0, good())]);
			assert_eq!(pool_verdict(&call), Ok(()));
			submit(call).unwrap();
			assert_eq!(refusals(V1), vec![(0, Error::<Test>::CommitmentMismatch.into())]);
			assert!(Reveals::<Test>::contains_key(0, V1) && Reveals::<Test>::contains_key(1, V1));

			submit(reveal_batch_call(V2, &[(0, 0, good()), (1, 0, good())])).unwrap();
			submit(reveal_batch_call(V3, &[(0, 0, good()), (1, 0, good())])).unwrap();
			// Complete, but not tallied in the reveal: queued for the end of the block, their
			// reveal windows closed.
			assert!(take_calls().is_empty());
			assert_eq!(due(), vec![(3, 0, 0), (3, 1, 0)]);
			assert_eq!(Rounds::<Test>::get(0).unwrap().reveal_until, 2);
			refused(reveal_call(0, V1, &good()), Error::<Test>::AlreadyRevealed);

			// The block's spare weight tallies them.
			let weight = Verification::on_idle(2, frame_support::weights::Weight::MAX);
			assert!(weight.ref_time() > 0);
			assert_same_calls(
				take_calls(),
				vec![
					Call::Finalized(0, outcome(&good(), &Determinism::Exact, &[V1, V2, V3])),
					Call::Finalized(1, outcome(&good(), &Determinism::Exact, &[V1, V2, V3])),
				],
			);
			assert_cleared(0);
			assert_cleared(1);
			assert_eq!(due(), vec![]);
		});
	}

	#[test]
	fn rounds_completed_by_batches_wait_for_the_next_block_when_the_block_has_no_room() {
		ExtBuilder.build_and_execute(|| {
			open(0, &[V1], Determinism::Exact);
			submit(commit_batch_call(V1, &[(0, 0, good())])).unwrap();
			submit(reveal_batch_call(V1, &[(0, 0, good())])).unwrap();
			assert_eq!(due(), vec![(OPENED + 1, 0, 0)]);
			// Room to look at the queue, not for the tally: nothing done, and no more spent than
			// the room.
			let room = <() as WeightInfo>::on_initialize_idle();
			assert!(Verification::on_idle(OPENED, room).all_lte(room));
			assert!(take_calls().is_empty());
			run_to_block(OPENED + 1);
			assert_eq!(
				take_calls(),
				vec![Call::Finalized(0, outcome(&good(), &Determinism::Exact, &[V1]))]
			);
			assert_eq!(due(), vec![]);
		});
	}

	#[test]
	fn an_item_naming_a_past_round_is_refused_after_an_escalation() {
		ExtBuilder.build_and_execute(|| {
			open(0, &[V1, V2, V3], Determinism::Exact);
			TestJobs::escalate_to(0, vec![V1, V4, V5]);
			run_to_block(TALLIED_AT);
			assert_eq!(round_of(0), 1);
			let call = commit_batch_call(V4, &[(0, 0, good()), (0, 1, good())]);
			submit(call).unwrap();
			assert_eq!(refusals(V4), vec![(0, Error::<Test>::NoRound.into())]);
			assert!(Commitments::<Test>::contains_key(0, V4));
		});
	}
}
