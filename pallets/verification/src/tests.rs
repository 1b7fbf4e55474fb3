//! Tests of the result verification pallet: executors sign with real sr25519 inference keys, and
//! every commit and reveal goes through the pool's check before dispatch.

use frame_support::{assert_noop, dispatch::Pays, traits::UnfilteredDispatchable};
use gateless_primitives::{
	digest::output_digest,
	job::{FailureReason, InferenceError, InferenceOutput},
	model::Determinism,
	traits::{JobVerifier, SlashReason},
};

use crate::{mock::*, Commitments, DeadlineQueueBounds, Error, Event, Reveals, Rounds};

fn err(error: Error<Test>) -> Result<(), u8> {
	Err(code(error))
}

fn dispatch(
	call: crate::Call<Test>,
) -> sp_runtime::DispatchResultWithInfo<frame_support::dispatch::PostDispatchInfo> {
	call.dispatch_bypass_filter(frame_system::RawOrigin::Authorized.into())
}

fn finalized(job: u64) -> gateless_primitives::job::AgreedOutcome<AccountId> {
	take_calls()
		.into_iter()
		.find_map(|call| match call {
			Call::Finalized(id, outcome) if id == job => Some(outcome),
			_ => None,
		})
		.expect("the job was finalized")
}

#[test]
fn one_executor_decides_alone() {
	build_and_execute(|| {
		open(0, &[V1], Determinism::Exact);
		let output = scores(&[0.1, 0.2, 0.7]);
		commit_all(0, &[(V1, output.clone())]);
		reveal_all(0, &[(V1, output.clone())]);
		let outcome = finalized(0);
		assert_eq!(outcome.output, output);
		assert_eq!(outcome.digest, output_digest(&output, &Determinism::Exact));
		assert_eq!(outcome.agreeing, vec![V1]);
		assert!(Rounds::<Test>::get(0).is_none());
	});
}

#[test]
fn three_agreeing_executors_finalize_without_slashes() {
	build_and_execute(|| {
		open(7, &[V1, V2, V3], Determinism::Exact);
		let output = scores(&[0.1, 0.2, 0.7]);
		let all = [(V1, output.clone()), (V2, output.clone()), (V3, output.clone())];
		commit_all(7, &all);
		assert!(<Verification as JobVerifier<AccountId>>::has_commitments(7));
		reveal_all(7, &all);
		let calls = take_calls();
		assert!(!calls.iter().any(|call| matches!(call, Call::Slashed(..))));
		let Some(Call::Finalized(7, outcome)) = calls.last() else { panic!("{calls:?}") };
		assert_eq!(outcome.agreeing, vec![V1, V2, V3]);
		assert_eq!(Commitments::<Test>::iter_prefix(7).count(), 0);
		assert_eq!(Reveals::<Test>::iter_prefix(7).count(), 0);
		assert!(verification_events().iter().any(|event| matches!(
			event,
			Event::RoundDecided { job: 7, dissenters, no_shows, .. }
				if dissenters.is_empty() && no_shows.is_empty()
		)));
	});
}

#[test]
fn a_dissenter_is_slashed_and_the_majority_decides() {
	build_and_execute(|| {
		open(0, &[V1, V2, V3], Determinism::Exact);
		let good = scores(&[0.1, 0.2, 0.7]);
		let bad = scores(&[0.7, 0.2, 0.1]);
		let all = [(V1, good.clone()), (V2, bad), (V3, good.clone())];
		commit_all(0, &all);
		reveal_all(0, &all);
		let calls = take_calls();
		assert!(calls.contains(&Call::Slashed(V2, SlashReason::Dissent, 100)));
		assert!(calls.contains(&Call::Dissented(V2)));
		let Some(Call::Finalized(0, outcome)) = calls.last() else { panic!("{calls:?}") };
		assert_eq!(outcome.output, good);
		assert_eq!(outcome.agreeing, vec![V1, V3]);
	});
}

#[test]
fn a_no_show_is_slashed_after_the_reveal_window() {
	build_and_execute(|| {
		open(0, &[V1, V2, V3], Determinism::Exact);
		let output = scores(&[0.1, 0.2, 0.7]);
		let two = [(V1, output.clone()), (V2, output.clone())];
		commit_all(0, &two);
		// Not everyone committed: reveals wait for the commit window to close.
		assert_eq!(pool_verdict(&reveal_call(0, V1, &output)), err(Error::RevealWindowNotOpen));
		run_to_block(1 + COMMIT_WINDOW + 1);
		reveal_all(0, &two);
		// Everyone who committed revealed after the window: tallied at once.
		let calls = take_calls();
		assert!(calls.contains(&Call::Slashed(V3, SlashReason::NoShow, 50)));
		assert!(calls.contains(&Call::Missed(V3)));
		let Some(Call::Finalized(0, outcome)) = calls.last() else { panic!("{calls:?}") };
		assert_eq!(outcome.agreeing, vec![V1, V2]);
	});
}

#[test]
fn a_committed_executor_that_never_reveals_is_a_no_show_tallied_by_the_hook() {
	build_and_execute(|| {
		open(0, &[V1, V2, V3], Determinism::Exact);
		let output = scores(&[0.1, 0.2, 0.7]);
		let all = [(V1, output.clone()), (V2, output.clone()), (V3, output.clone())];
		commit_all(0, &all);
		reveal_all(0, &all[..2]);
		assert!(take_calls().is_empty());
		let round = Rounds::<Test>::get(0).unwrap();
		run_to_block(round.reveal_until);
		assert!(Rounds::<Test>::get(0).is_some(), "not before the window closes");
		run_to_block(round.reveal_until + 1);
		let calls = take_calls();
		assert!(calls.contains(&Call::Slashed(V3, SlashReason::NoShow, 50)));
		assert_eq!(finalized_from(&calls).agreeing, vec![V1, V2]);
		let (head, tail) = DeadlineQueueBounds::<Test>::get();
		assert_eq!(head, tail);
	});
}

fn finalized_from(calls: &[Call]) -> gateless_primitives::job::AgreedOutcome<AccountId> {
	calls
		.iter()
		.find_map(|call| match call {
			Call::Finalized(_, outcome) => Some(outcome.clone()),
			_ => None,
		})
		.expect("finalized")
}

#[test]
fn a_tie_escalates_to_a_larger_fresh_committee_without_slashing_revealers() {
	build_and_execute(|| {
		open(0, &[V1, V2], Determinism::Exact);
		let all = [(V1, scores(&[1.0, 0.0, 0.0])), (V2, scores(&[0.0, 1.0, 0.0]))];
		commit_all(0, &all);
		TestJobs::escalate_to(0, vec![V3, V4, V5]);
		reveal_all(0, &all);
		let calls = take_calls();
		assert_eq!(calls, vec![Call::Escalated(0, 5)]);
		assert_eq!(round_of(0), 1);
		assert_eq!(Rounds::<Test>::get(0).unwrap().committee.into_inner(), vec![V3, V4, V5]);
		assert_eq!(Reveals::<Test>::iter_prefix(0).count(), 0);
		assert!(verification_events()
			.iter()
			.any(|event| matches!(event, Event::RoundOpened { job: 0, round: 1, .. })));
		// The new committee decides.
		let output = scores(&[0.0, 1.0, 0.0]);
		let next = [(V3, output.clone()), (V4, output.clone()), (V5, output.clone())];
		commit_all(0, &next);
		reveal_all(0, &next);
		assert_eq!(finalized(0).agreeing, vec![V3, V4, V5]);
	});
}

#[test]
fn without_fresh_validators_or_escalations_left_the_job_fails() {
	build_and_execute(|| {
		open(0, &[V1, V2], Determinism::Exact);
		let all = [(V1, scores(&[1.0, 0.0, 0.0])), (V2, scores(&[0.0, 1.0, 0.0]))];
		commit_all(0, &all);
		reveal_all(0, &all);
		assert_eq!(
			take_calls(),
			vec![Call::Escalated(0, 5), Call::Failed(0, FailureReason::NoFreshExecutors)]
		);

		// Nobody ever reveals: two escalations, then NoQuorum.
		open(1, &[V1], Determinism::Exact);
		TestJobs::escalate_to(1, vec![V2, V3, V4]);
		TestJobs::escalate_to(1, vec![V5, 6, 7, 8, 9, 10, 11]);
		run_to_block(100);
		let calls = take_calls();
		assert!(calls.contains(&Call::Escalated(1, 3)));
		assert!(calls.contains(&Call::Escalated(1, MAX_COMMITTEE)));
		assert_eq!(calls.last(), Some(&Call::Failed(1, FailureReason::NoQuorum)));
		// Every no-show of every round was slashed.
		let no_shows = calls
			.iter()
			.filter(|call| matches!(call, Call::Slashed(_, SlashReason::NoShow, _)))
			.count();
		assert_eq!(no_shows, 1 + 3 + 7);
	});
}

#[test]
fn tolerance_keeps_honest_float_outputs_together_and_slashes_the_outlier() {
	build_and_execute(|| {
		let class = tolerance();
		open(0, &[V1, V2, V3], class);
		// V1 and V2 differ by less than 1e-4 but round to different grid points (0.00015 is an
		// edge of the 1e-4 grid): their digests differ and they still agree.
		let honest = scores(&[0.000_149_9, 0.2, 0.7]);
		let other_cpu = scores(&[0.000_150_1, 0.200_01, 0.7]);
		let outlier = scores(&[0.5, 0.2, 0.3]);
		assert_ne!(output_digest(&honest, &class), output_digest(&other_cpu, &class));
		let all = [(V1, honest.clone()), (V2, other_cpu), (V3, outlier)];
		commit_all(0, &all);
		reveal_all(0, &all);
		let calls = take_calls();
		assert!(calls.contains(&Call::Slashed(V3, SlashReason::Dissent, 100)));
		let outcome = finalized_from(&calls);
		assert_eq!(outcome.agreeing, vec![V1, V2]);
		assert_eq!(outcome.output, honest);
	});
}

#[test]
fn an_error_revealed_by_a_quorum_is_the_agreed_result() {
	build_and_execute(|| {
		open(0, &[V1, V2, V3], tolerance());
		let error = InferenceOutput::Error(InferenceError::BadInput);
		let all = [(V1, error.clone()), (V2, scores(&[0.1, 0.2, 0.7])), (V3, error.clone())];
		commit_all(0, &all);
		reveal_all(0, &all);
		let calls = take_calls();
		assert!(calls.contains(&Call::Slashed(V2, SlashReason::Dissent, 100)));
		let outcome = finalized_from(&calls);
		assert_eq!(outcome.output, error);
		assert_eq!(outcome.agreeing, vec![V1, V3]);
	});
}

#[test]
fn a_reveal_that_does_not_match_its_commitment_is_refused() {
	build_and_execute(|| {
		open(0, &[V1, V2], Determinism::Exact);
		let committed = scores(&[0.1, 0.2, 0.7]);
		commit_all(0, &[(V1, committed.clone()), (V2, committed.clone())]);
		// Another output, properly signed.
		let other = reveal_call(0, V1, &scores(&[0.7, 0.2, 0.1]));
		assert_eq!(pool_verdict(&other), err(Error::CommitmentMismatch));
		assert_noop!(dispatch(other).map_err(|e| e.error), Error::<Test>::CommitmentMismatch);
		// The committed output with another salt, properly signed.
		let wrong_salt = [0u8; 32];
		let payload = Verification::reveal_payload(0, 0, &V1, &committed, &wrong_salt);
		let salted = crate::Call::<Test>::reveal {
			job: 0,
			executor: V1,
			output: committed.clone(),
			salt: wrong_salt,
			signature: sp_core::Pair::sign(&key_pair(V1), &payload).into(),
		};
		assert_eq!(pool_verdict(&salted), err(Error::CommitmentMismatch));
		// The true reveal still passes.
		assert_eq!(pool_verdict(&reveal_call(0, V1, &committed)), Ok(()));
	});
}

#[test]
fn only_assigned_executors_with_valid_signatures_commit_once_in_the_window() {
	build_and_execute(|| {
		open(0, &[V1, V2, KEYLESS], Determinism::Exact);
		let output = scores(&[0.1, 0.2, 0.7]);
		assert_eq!(pool_verdict(&commit_call(0, STRANGER, &output)), err(Error::NotExecutor));
		let crate::Call::commit { commitment, signature, .. } = commit_call(0, V1, &output) else {
			unreachable!()
		};
		let unknown_job =
			crate::Call::<Test>::commit { job: 5, executor: V1, commitment, signature };
		assert_eq!(pool_verdict(&unknown_job), err(Error::NoRound));
		// V2's commitment signed by V1's key.
		let crate::Call::commit { commitment, signature, .. } = commit_call(0, V1, &output) else {
			unreachable!()
		};
		let forged = crate::Call::<Test>::commit { job: 0, executor: V2, commitment, signature };
		assert_eq!(pool_verdict(&forged), err(Error::BadSignature));
		assert_noop!(dispatch(forged).map_err(|e| e.error), Error::<Test>::BadSignature);
		// An executor without an inference key cannot sign anything.
		let keyless = crate::Call::<Test>::commit {
			job: 0,
			executor: KEYLESS,
			commitment,
			signature: sp_core::Pair::sign(&key_pair(V1), b"x").into(),
		};
		assert_eq!(pool_verdict(&keyless), err(Error::NoInferenceKey));

		submit(commit_call(0, V1, &output)).unwrap();
		assert_eq!(pool_verdict(&commit_call(0, V1, &output)), err(Error::AlreadyCommitted));
		run_to_block(1 + COMMIT_WINDOW + 1);
		assert_eq!(pool_verdict(&commit_call(0, V2, &output)), err(Error::CommitWindowClosed));
		// A signed origin is not the authorized one.
		assert_noop!(
			crate::Call::<Test>::commit {
				job: 0,
				executor: V2,
				commitment,
				signature: forged_signature()
			}
			.dispatch_bypass_filter(RuntimeOrigin::signed(V2))
			.map_err(|e| e.error),
			sp_runtime::DispatchError::BadOrigin
		);
	});
}

fn forged_signature() -> gateless_primitives::crypto::inference::Signature {
	sp_core::Pair::sign(&key_pair(V2), b"anything").into()
}

#[test]
fn reveals_follow_their_windows_once_each_and_fit_the_declared_output() {
	build_and_execute(|| {
		open(0, &[V1, V2, V3], Determinism::Exact);
		let output = scores(&[0.1, 0.2, 0.7]);
		let wrong_shape = scores(&[0.1, 0.2, 0.3, 0.4]);
		assert_eq!(pool_verdict(&reveal_call(0, V1, &output)), err(Error::NotCommitted));
		commit_all(0, &[(V1, output.clone()), (V2, wrong_shape.clone()), (V3, output.clone())]);
		assert_eq!(pool_verdict(&reveal_call(0, V2, &wrong_shape)), err(Error::OutputMismatch));
		let post = submit(reveal_call(0, V1, &output)).unwrap();
		assert_eq!(post.pays_fee, Pays::No);
		assert_eq!(pool_verdict(&reveal_call(0, V1, &output)), err(Error::AlreadyRevealed));
		let progress = Verification::round_progress(0).unwrap();
		assert_eq!(progress.committed, vec![V1, V2, V3]);
		assert_eq!(progress.revealed, vec![(V1, output_digest(&output, &Determinism::Exact))]);
		let reveal_until = Rounds::<Test>::get(0).unwrap().reveal_until;
		System::set_block_number(reveal_until + 1);
		assert_eq!(pool_verdict(&reveal_call(0, V3, &output)), err(Error::RevealWindowClosed));
	});
}

#[test]
fn closing_a_round_drops_everything() {
	build_and_execute(|| {
		open(0, &[V1, V2], Determinism::Exact);
		let output = scores(&[0.1, 0.2, 0.7]);
		assert!(!<Verification as JobVerifier<AccountId>>::has_commitments(0));
		commit_all(0, &[(V1, output.clone()), (V2, output.clone())]);
		submit(reveal_call(0, V1, &output)).unwrap();
		<Verification as JobVerifier<AccountId>>::close(0);
		assert!(Rounds::<Test>::get(0).is_none());
		assert_eq!(Commitments::<Test>::iter().count(), 0);
		assert_eq!(Reveals::<Test>::iter().count(), 0);
		// Its stale queue entry is skipped by the hook.
		run_to_block(20);
		assert!(take_calls().is_empty());
	});
}

#[test]
fn the_hook_tallies_at_most_max_tallies_per_block() {
	build_and_execute(|| {
		for job in 0..6 {
			open(job, &[V1], Determinism::Exact);
		}
		let deadline = Rounds::<Test>::get(0).unwrap().reveal_until;
		run_to_block(deadline + 1);
		let failed =
			|calls: &[Call]| calls.iter().filter(|call| matches!(call, Call::Failed(..))).count();
		assert_eq!(failed(&take_calls()), 4);
		run_to_block(deadline + 2);
		assert_eq!(failed(&take_calls()), 2);
		let (head, tail) = DeadlineQueueBounds::<Test>::get();
		assert_eq!(head, tail);
	});
}

#[test]
fn the_threshold_is_two_thirds_rounded_up() {
	build_and_execute(|| {
		let thresholds: Vec<u32> = [1, 2, 3, 4, 5, 7].map(Verification::threshold).to_vec();
		assert_eq!(thresholds, vec![1, 2, 2, 3, 4, 5]);
	});
}

#[test]
fn the_invariants_catch_a_stray_commitment() {
	new_test_ext().execute_with(|| {
		open(0, &[V1], Determinism::Exact);
		Commitments::<Test>::insert(0, V2, sp_core::H256::zero());
		assert!(Verification::do_try_state().is_err());
	});
}
