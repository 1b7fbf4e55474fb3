//! Tests of the inference jobs pallet. The verification pallet's side is played by the tests,
//! which call [`JobSettlement`] as it would.

use frame_support::{assert_noop, assert_ok};
use gateless_primitives::{
	content::{content_ref, ContentRef},
	job::{
		AgreedOutcome, ExpectedOutputs, FailureReason, InferenceError, InferenceOutput, JobInput,
		JobStatus, Tensor, TensorData, TensorList, MAX_INLINE_OUTPUT_BYTES,
	},
	model::{ComputeCost, DType, Dim, ModelStatus},
	traits::{JobSettlement, ModelUsage},
};
use sp_core::H256;
use sp_runtime::FixedU64;

use crate::{mock::*, Error, Event, JobInputs, JobResults, PendingJobs};

type Jobs_ = crate::Jobs<Test>;

/// Submits a one-row job on `MODEL` and lets its committee be drawn (a block on).
fn submit(who: AccountId, replicas: Option<u32>) -> u64 {
	let job = submit_in_this_block(who, replicas);
	draw_submitted();
	job
}

/// Submits a one-row job on `MODEL` in this block; its committee is drawn at the end of the next.
fn submit_in_this_block(who: AccountId, replicas: Option<u32>) -> u64 {
	let job = crate::NextJobId::<Test>::get();
	assert_ok!(Jobs::submit_job(RuntimeOrigin::signed(who), MODEL, input(1), replicas, 1_000));
	job
}

fn submit_with(
	model: u64,
	inputs: gateless_primitives::job::InputTensors,
	replicas: Option<u32>,
	max_fee: Balance,
) -> frame_support::dispatch::DispatchResultWithPostInfo {
	Jobs::submit_job(RuntimeOrigin::signed(ALICE), model, inputs, replicas, max_fee)
}

fn committee(job: u64) -> Vec<AccountId> {
	let info = Jobs_::get(job).unwrap();
	info.executors[info.committee_start as usize..].to_vec()
}

fn output() -> InferenceOutput {
	let data: Vec<u8> = [0.1f32, 0.2, 0.7].iter().flat_map(|v| v.to_le_bytes()).collect();
	InferenceOutput::Tensors(
		TensorList::new(vec![Tensor {
			dtype: DType::F32,
			shape: vec![1, 3].try_into().unwrap(),
			data: data.try_into().unwrap(),
		}])
		.unwrap(),
	)
}

fn finalize(job: u64, agreeing: Vec<AccountId>, output: InferenceOutput) {
	assert_ok!(<Jobs as JobSettlement<AccountId>>::finalize(
		job,
		AgreedOutcome { output, digest: H256::repeat_byte(9), agreeing }
	));
}

fn free(who: AccountId) -> Balance {
	Balances::free_balance(who)
}

#[test]
fn a_job_holds_its_quote_and_draws_distinct_staked_executors() {
	ExtBuilder::default().build_and_execute(|| {
		for replicas in [1, 3] {
			let quote = Jobs::quote(MODEL, Some(replicas), &[vec![1, 4]]).unwrap();
			// 16 input bytes, and a [1, 3] f32 output from each executor.
			assert_eq!(quote.data_fee, data_fee(1, replicas));
			assert_eq!(
				quote.total,
				MODEL_PRICE + replicas as Balance * EXECUTOR_FEE + data_fee(1, replicas)
			);
			let before = free(ALICE);
			let held = escrow_of(ALICE);
			let issuance = Balances::total_issuance();
			let job = submit(ALICE, Some(replicas));
			assert_eq!(free(ALICE), before - quote.total);
			assert_eq!(escrow_of(ALICE), held + quote.total - quote.data_fee);
			assert_eq!(Balances::total_issuance(), issuance - quote.data_fee, "data fee burnt");
			let executors = committee(job);
			assert_eq!(executors.len() as u32, replicas);
			let mut unique = executors.clone();
			unique.sort();
			unique.dedup();
			assert_eq!(unique.len(), executors.len());
			assert!(executors.iter().all(|who| VALIDATORS.contains(who)));
			assert!(executors.iter().all(|who| PendingJobs::<Test>::get(who) >= 1));
			let round = TestVerifier::round(job).expect("a round is opened");
			assert_eq!(round.committee, executors);
			let mut expected = tensor_spec("output", 3);
			expected.shape[0] = Dim::Fixed(1);
			assert_eq!(
				round.outputs,
				ExpectedOutputs { specs: vec![expected].try_into().unwrap(), symbols: 1 }
			);
			assert!(job_events().contains(&Event::JobSubmitted {
				job,
				submitter: ALICE,
				model: MODEL,
				fee: quote
			}));
			assert!(job_events().contains(&Event::ExecutorsAssigned {
				job,
				round: 0,
				executors: executors.clone()
			}));
			let records = TestStaking::take_records();
			assert_eq!(records, executors.into_iter().map(Record::Assigned).collect::<Vec<_>>());
		}
		// No replica count: the default, three.
		let job = submit(BOB, None);
		assert_eq!(committee(job).len(), 3);
	});
}

#[test]
fn executor_fees_follow_the_models_compute_for_the_inputs_size() {
	ExtBuilder::default().build_and_execute(|| {
		// MODEL takes rows of 4 elements; validators estimated 10⁹ operations plus 2 × 10⁹ an
		// element: 9 × 10⁹ for one row, 17 × 10⁹ for two; FEE_PER_GIGA_OP is 2.
		let compute =
			ComputeCost { fixed: 1_000_000_000, per_element: FixedU64::from_u32(2_000_000_000) };
		TestModels::set_compute(MODEL, compute);
		let fee_of = |rows: u32| Jobs::quote(MODEL, Some(3), &[vec![rows, 4]]).unwrap();
		assert_eq!(fee_of(1).executor_fee, 18);
		assert_eq!(fee_of(2).executor_fee, 34);
		assert_eq!(fee_of(5).executor_fee, 2 * 41, "grows with the input");
		assert_eq!(Jobs::executor_fee(MODEL, 8), Ok(34));

		// What a submission holds is the quote, executor fees included.
		let quote = fee_of(2);
		assert_eq!(quote.total, MODEL_PRICE + 3 * 34 + data_fee(2, 3));
		let held = escrow_of(ALICE);
		let job = crate::NextJobId::<Test>::get();
		assert_ok!(submit_with(MODEL, input(2), Some(3), quote.total));
		// The whole quote until the draw, the data fee burnt at the draw.
		assert_eq!(escrow_of(ALICE), held + quote.total);
		draw_submitted();
		assert_eq!(escrow_of(ALICE), held + quote.escrow());
		assert_eq!(Jobs_::get(job).unwrap().fee, quote);
		// A quote below the compute's fee is refused by `max_fee`, changing nothing.
		assert_noop!(
			submit_with(MODEL, input(2), Some(3), quote.total - 1),
			Error::<Test>::FeeAboveMax
		);

		// A fee that does not fit in a balance is refused, and quoted as such.
		TestModels::set_price(MODEL, Balance::MAX);
		assert_noop!(
			submit_with(MODEL, input(1), Some(3), Balance::MAX),
			Error::<Test>::FeeOverflow
		);
		assert_eq!(
			Jobs::quote(MODEL, Some(3), &[vec![1, 4]]),
			Err(gateless_primitives::job::QuoteError::Overflow)
		);
		TestModels::set_price(MODEL, MODEL_PRICE);

		// A small compute, or none estimated, pays the floor.
		TestModels::set_compute(
			MODEL,
			ComputeCost { fixed: 1_000, per_element: FixedU64::from_u32(1) },
		);
		assert_eq!(fee_of(5).executor_fee, EXECUTOR_FEE);
		assert_eq!(
			Jobs::quote(TWO_INPUT_MODEL, Some(3), &[vec![1, 4], vec![1, 4]])
				.unwrap()
				.executor_fee,
			EXECUTOR_FEE
		);
	});
}

#[test]
fn bad_submissions_are_refused_with_their_error() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(submit_with(9, input(1), None, 1_000), Error::<Test>::UnknownModel);
		assert_noop!(
			submit_with(PENDING_MODEL, input(1), None, 1_000),
			Error::<Test>::ModelNotActive
		);
		assert_noop!(
			submit_with(TWO_INPUT_MODEL, input(1), None, 1_000),
			Error::<Test>::InputCountMismatch
		);
		assert_noop!(
			submit_with(TWO_INPUT_MODEL, inputs(vec![tensor(1), tensor(2)]), None, 1_000),
			Error::<Test>::InputSymbolMismatch
		);
		assert_noop!(
			submit_with(MODEL, inputs(vec![tensor(1), tensor(1)]), None, 1_000),
			Error::<Test>::InputCountMismatch
		);
		assert_noop!(submit_with(MODEL, input(1), Some(0), 1_000), Error::<Test>::BadReplicas);
		assert_noop!(submit_with(MODEL, input(1), Some(6), 1_000), Error::<Test>::BadReplicas);
		let quote = Jobs::quote(MODEL, Some(3), &[vec![1, 4]]).unwrap().total;
		assert_noop!(submit_with(MODEL, input(1), Some(3), quote - 1), Error::<Test>::FeeAboveMax);
		assert_noop!(submit_with(MODEL, input(65), None, 1_000), Error::<Test>::InputTooLarge);
		let mut wrong = tensor(1);
		wrong.dtype = DType::I32;
		assert_noop!(
			submit_with(MODEL, inputs(vec![wrong]), None, 1_000),
			Error::<Test>::InputDTypeMismatch
		);
		let mut wrong = tensor(1);
		wrong.shape = vec![4].try_into().unwrap();
		assert_noop!(
			submit_with(MODEL, inputs(vec![wrong]), None, 1_000),
			Error::<Test>::InputRankMismatch
		);
		let mut wrong = tensor(1);
		wrong.shape = vec![2, 2].try_into().unwrap();
		assert_noop!(
			submit_with(MODEL, inputs(vec![wrong]), None, 1_000),
			Error::<Test>::InputShapeMismatch
		);
		let mut wrong = tensor(1);
		wrong.shape = vec![0, 4].try_into().unwrap();
		assert_noop!(
			submit_with(MODEL, inputs(vec![wrong]), None, 1_000),
			Error::<Test>::InputShapeMismatch
		);
		let mut wrong = tensor(1);
		if let TensorData::Inline(bytes) = &mut wrong.data {
			bytes.pop();
		}
		assert_noop!(
			submit_with(MODEL, inputs(vec![wrong]), None, 1_000),
			Error::<Test>::InputLengthMismatch
		);
		assert_noop!(
			Jobs::submit_job(RuntimeOrigin::signed(NOBODY), MODEL, input(1), None, 1_000),
			Error::<Test>::CannotAffordFee
		);
	});
}

#[test]
fn jobs_with_several_inputs_run_and_pay_for_every_byte() {
	ExtBuilder::default().build_and_execute(|| {
		let job = crate::NextJobId::<Test>::get();
		let both = inputs(vec![tensor(2), tensor(2)]);
		let quote = Jobs::quote(TWO_INPUT_MODEL, Some(1), &[vec![2, 4], vec![2, 4]]).unwrap();
		assert_eq!(quote.data_fee, FEE_PER_BYTE * (2 * 32 + 24));
		assert_ok!(Jobs::submit_job(
			RuntimeOrigin::signed(ALICE),
			TWO_INPUT_MODEL,
			both.clone(),
			Some(1),
			quote.total
		));
		assert_eq!(JobInputs::<Test>::get(job), Some(both.clone()));
		assert_eq!(Jobs::work_of(job), Some((TWO_INPUT_MODEL, both)));
		assert_eq!(Jobs_::get(job).unwrap().fee, quote);
	});
}

#[test]
fn large_inputs_go_by_content_and_small_ones_inline_and_each_is_charged_for_its_place() {
	ExtBuilder::default().build_and_execute(|| {
		let job = crate::NextJobId::<Test>::get();
		// 16 rows (256 bytes) is the inline threshold; 20 rows go by content.
		let mixed = inputs(vec![tensor(20), tensor(20)]);
		assert!(mixed[0].content().is_some());
		let quote = Jobs::quote(TWO_INPUT_MODEL, Some(2), &[vec![20, 4], vec![20, 4]]).unwrap();
		assert_eq!(quote.data_fee, FEE_PER_CONTENT_BYTE * 2 * (2 * 320) + FEE_PER_BYTE * 2 * 240);
		assert_ok!(Jobs::submit_job(
			RuntimeOrigin::signed(ALICE),
			TWO_INPUT_MODEL,
			mixed.clone(),
			Some(2),
			quote.total
		));
		assert_eq!(JobInputs::<Test>::get(job), Some(mixed));
		assert_eq!(quote.data_fee, data_fee(20, 2) * 2 - FEE_PER_BYTE * 2 * 240);

		// Each input's size decides its place.
		let small = tensor(16);
		let mut small_by_content = small.clone();
		if let TensorData::Inline(bytes) = &small.data {
			small_by_content.data = TensorData::Content(content_ref(bytes).unwrap());
		}
		assert_noop!(
			submit_with(MODEL, inputs(vec![small_by_content]), None, 1_000),
			Error::<Test>::InputPlacement
		);
		let mut large_inline = tensor(17);
		large_inline.data = TensorData::Inline(vec![0u8; 17 * 16].try_into().unwrap());
		assert_noop!(
			submit_with(MODEL, inputs(vec![large_inline]), None, 1_000),
			Error::<Test>::InputPlacement
		);
		// Content whose length is not the shape's, or beyond the largest content.
		let mut wrong_length = tensor(20);
		if let TensorData::Content(content) = &mut wrong_length.data {
			content.len -= 4;
		}
		assert_noop!(
			submit_with(MODEL, inputs(vec![wrong_length]), None, 1_000),
			Error::<Test>::InputLengthMismatch
		);
		let huge = JobInput {
			dtype: DType::F32,
			shape: vec![1 << 23, 4].try_into().unwrap(),
			data: TensorData::Content(ContentRef { hash: H256::zero(), len: 1 << 27 }),
		};
		assert_noop!(
			submit_with(MODEL, inputs(vec![huge]), None, 1_000),
			Error::<Test>::InputTooLarge
		);
	});
}

#[test]
fn a_job_whose_inputs_were_withheld_pays_its_reporters_and_refunds_the_rest() {
	ExtBuilder::default().build_and_execute(|| {
		let job = crate::NextJobId::<Test>::get();
		let before = Balances::free_balance(ALICE);
		let quote = Jobs::quote(MODEL, Some(3), &[vec![20, 4]]).unwrap();
		assert_ok!(submit_with(MODEL, input(20), Some(3), quote.total));
		draw_submitted();
		let executors = Jobs_::get(job).unwrap().executors.to_vec();
		let reporters = executors[..2].to_vec();
		let earned: Vec<_> = reporters.iter().map(Balances::free_balance).collect();
		assert_ok!(<Jobs as JobSettlement<AccountId>>::inputs_unavailable(job, reporters.clone()));
		for (reporter, earned) in reporters.iter().zip(earned) {
			assert_eq!(Balances::free_balance(reporter), earned + EXECUTOR_FEE);
		}
		assert_eq!(
			Jobs_::get(job).unwrap().status,
			JobStatus::Failed(FailureReason::InputUnavailable)
		);
		assert_eq!(Balances::free_balance(ALICE), before - quote.data_fee - 2 * EXECUTOR_FEE);
		assert_eq!(JobInputs::<Test>::get(job), None);
		assert_eq!(Jobs::work_of(job), None);
		System::assert_last_event(
			Event::JobFailed {
				job,
				reason: FailureReason::InputUnavailable,
				refunded: quote.escrow() - 2 * EXECUTOR_FEE,
			}
			.into(),
		);
	});
}

#[test]
fn outputs_are_charged_by_where_they_go_and_cannot_exceed_what_an_executor_may_keep() {
	ExtBuilder::default().build_and_execute(|| {
		// Of a size unknown before the run: as much as all-inline outputs may hold.
		let quote = Jobs::quote(DYNAMIC_OUTPUT_MODEL, Some(2), &[vec![1, 4]]).unwrap();
		assert_eq!(
			quote.data_fee,
			FEE_PER_BYTE * (16 + 2 * Balance::from(MAX_INLINE_OUTPUT_BYTES))
		);
		// 16 MiB of output per row, above the inline threshold: kept by content, each executor
		// paid the content fee for it; 4 rows fill the 64 MiB an executor may keep.
		let quote = Jobs::quote(WIDE_OUTPUT_MODEL, Some(2), &[vec![1, 4]]).unwrap();
		assert_eq!(quote.data_fee, FEE_PER_BYTE * 16 + FEE_PER_CONTENT_BYTE * 2 * (16 << 20));
		assert!(Jobs::quote(WIDE_OUTPUT_MODEL, Some(1), &[vec![4, 4]]).is_ok());
		assert_eq!(
			Jobs::quote(WIDE_OUTPUT_MODEL, Some(1), &[vec![5, 4]]),
			Err(gateless_primitives::job::QuoteError::OutputsTooLarge)
		);
		assert_noop!(
			Jobs::submit_job(
				RuntimeOrigin::signed(ALICE),
				WIDE_OUTPUT_MODEL,
				input(5),
				Some(1),
				Balance::MAX
			),
			Error::<Test>::OutputsTooLarge
		);
		// Shapes that do not fit the model get no quote.
		for shapes in [vec![vec![1, 5]], vec![vec![1, 4], vec![1, 4]], vec![vec![65, 4]]] {
			assert_eq!(
				Jobs::quote(MODEL, Some(1), &shapes),
				Err(gateless_primitives::job::QuoteError::BadInputs)
			);
		}
	});
}

#[test]
fn a_user_who_cannot_hold_the_fee_is_refused() {
	let fee = MODEL_PRICE + 3 * EXECUTOR_FEE + data_fee(1, 3);
	ExtBuilder::default().balance(ALICE, fee - 1).build_and_execute(|| {
		assert_noop!(
			Jobs::submit_job(RuntimeOrigin::signed(ALICE), MODEL, input(1), Some(3), 1_000),
			Error::<Test>::CannotAffordFee
		);
	});
}

#[test]
fn a_block_takes_at_most_max_jobs_and_validators_at_most_max_pending() {
	ExtBuilder::default().build_and_execute(|| {
		for _ in 0..MAX_JOBS_PER_BLOCK {
			submit_in_this_block(ALICE, Some(1));
		}
		assert_noop!(
			Jobs::submit_job(RuntimeOrigin::signed(ALICE), MODEL, input(1), Some(1), 1_000),
			Error::<Test>::TooManyJobsInBlock
		);
		run_to_block(2);
		submit_in_this_block(ALICE, Some(1));

		// Six validators, two running jobs each: twelve single-executor jobs fill them all.
		run_to_block(3);
		for _ in 0..4 {
			submit_in_this_block(BOB, Some(1));
		}
		run_to_block(4);
		for _ in 0..3 {
			submit_in_this_block(BOB, Some(1));
		}
		draw_submitted();
		assert!(VALIDATORS.iter().all(|who| PendingJobs::<Test>::get(who) == MAX_PENDING));
		assert_noop!(
			Jobs::submit_job(RuntimeOrigin::signed(BOB), MODEL, input(1), Some(1), 1_000),
			Error::<Test>::ExecutorsBusy
		);
	});
}

#[test]
fn too_few_staked_validators_is_its_own_error() {
	ExtBuilder::default().build_and_execute(|| {
		TestStaking::set_stakes(vec![(11, 100), (12, 100), (13, 0)]);
		assert_noop!(
			Jobs::submit_job(RuntimeOrigin::signed(ALICE), MODEL, input(1), Some(3), 1_000),
			Error::<Test>::NotEnoughValidators
		);
	});
}

#[test]
fn executors_are_drawn_in_proportion_to_their_bond() {
	ExtBuilder::default().build_and_execute(|| {
		TestStaking::set_stakes(vec![(11, 1_000_000), (12, 1), (13, 1), (14, 0)]);
		let mut heavy = 0;
		for round in 0..40u64 {
			run_to_block(2 + round);
			let job = submit(ALICE, Some(1));
			let executor = committee(job)[0];
			assert_ne!(executor, 14, "a validator without bond is never drawn");
			if executor == 11 {
				heavy += 1;
			}
			assert_ok!(<Jobs as JobSettlement<AccountId>>::fail(job, FailureReason::NoQuorum));
		}
		assert!(heavy >= 38, "the heavy validator was drawn {heavy} times of 40");
	});
}

#[test]
fn cancel_before_any_commitment_pays_the_drawn_executors_and_refunds_the_rest() {
	ExtBuilder::default().build_and_execute(|| {
		let before = free(ALICE);
		let job = submit(ALICE, Some(3));
		let executors = Jobs_::get(job).unwrap().executors.into_inner();
		let executors_before: Vec<_> = executors.iter().map(|who| free(*who)).collect();
		assert_noop!(
			Jobs::cancel_job(RuntimeOrigin::signed(BOB), job),
			Error::<Test>::NotSubmitter
		);
		assert_noop!(Jobs::cancel_job(RuntimeOrigin::signed(ALICE), 42), Error::<Test>::UnknownJob);
		assert_ok!(Jobs::cancel_job(RuntimeOrigin::signed(ALICE), job));
		// The executors started running the job when it was drawn: each gets its fee. The model's
		// price returns; the data fee was burnt for the block space the job took.
		assert_eq!(free(ALICE), before - data_fee(1, 3) - 3 * EXECUTOR_FEE);
		for (who, was) in executors.iter().zip(executors_before) {
			assert_eq!(free(*who), was + EXECUTOR_FEE, "executor {who}");
		}
		assert_eq!(escrow_of(ALICE), 0);
		assert_eq!(Jobs_::get(job).unwrap().status, JobStatus::Cancelled);
		assert!(TestVerifier::round(job).is_none());
		assert!(JobInputs::<Test>::get(job).is_none());
		assert!(job_events().contains(&Event::JobCancelled {
			job,
			paid_each: EXECUTOR_FEE,
			refunded: MODEL_PRICE
		}));
		assert_noop!(Jobs::cancel_job(RuntimeOrigin::signed(ALICE), job), Error::<Test>::JobEnded);

		let job = submit(ALICE, Some(3));
		TestVerifier::mark_committed(job);
		assert_noop!(
			Jobs::cancel_job(RuntimeOrigin::signed(ALICE), job),
			Error::<Test>::AlreadyCommitted
		);
	});
}

#[test]
fn finalizing_pays_agreeing_executors_and_the_owner_and_refunds_the_rest() {
	ExtBuilder::default().build_and_execute(|| {
		let issuance = Balances::total_issuance();
		let user_before = free(ALICE);
		let owner_before = free(OWNER);
		let job = submit(ALICE, Some(3));
		let executors = committee(job);
		let executors_before: Vec<_> = executors.iter().map(|who| free(*who)).collect();
		TestStaking::take_records();
		// Two of three agree: the third fee returns.
		finalize(job, executors[..2].to_vec(), output());
		assert_eq!(free(executors[0]), executors_before[0] + EXECUTOR_FEE);
		assert_eq!(free(executors[1]), executors_before[1] + EXECUTOR_FEE);
		assert_eq!(free(executors[2]), executors_before[2]);
		assert_eq!(free(OWNER), owner_before + MODEL_PRICE);
		assert_eq!(free(ALICE), user_before - MODEL_PRICE - 2 * EXECUTOR_FEE - data_fee(1, 3));
		assert_eq!(escrow_of(ALICE), 0);
		assert_eq!(Balances::total_issuance(), issuance - data_fee(1, 3));
		let result = JobResults::<Test>::get(job).unwrap();
		assert_eq!(result.output, output());
		assert_eq!(result.agreeing.into_inner(), executors[..2].to_vec());
		assert_eq!(
			(result.paid_each, result.owner_paid, result.refunded),
			(EXECUTOR_FEE, MODEL_PRICE, EXECUTOR_FEE)
		);
		assert_eq!(
			TestStaking::take_records(),
			vec![
				Record::Agreed(executors[0], EXECUTOR_FEE),
				Record::Agreed(executors[1], EXECUTOR_FEE)
			]
		);
		let info = Jobs_::get(job).unwrap();
		assert_eq!(info.status, JobStatus::Finalized);
		assert!(executors.iter().all(|who| PendingJobs::<Test>::get(who) == 0));
		assert!(!<Jobs as ModelUsage>::is_in_use(MODEL));
		assert_noop!(
			<Jobs as JobSettlement<AccountId>>::fail(job, FailureReason::NoQuorum),
			Error::<Test>::JobEnded
		);
	});
}

#[test]
fn an_agreed_error_pays_executors_but_not_the_owner() {
	ExtBuilder::default().build_and_execute(|| {
		let user_before = free(ALICE);
		let owner_before = free(OWNER);
		let job = submit(ALICE, Some(3));
		let executors = committee(job);
		finalize(job, executors.clone(), InferenceOutput::Error(InferenceError::BadInput));
		assert_eq!(free(OWNER), owner_before);
		assert_eq!(free(ALICE), user_before - 3 * EXECUTOR_FEE - data_fee(1, 3));
		let result = JobResults::<Test>::get(job).unwrap();
		assert_eq!(result.owner_paid, 0);
		assert_eq!(result.refunded, MODEL_PRICE);
	});
}

#[test]
fn escalation_draws_fresh_executors_who_share_the_same_pool() {
	ExtBuilder::default().build_and_execute(|| {
		let user_before = free(ALICE);
		let job = submit(ALICE, Some(1));
		let first = committee(job);
		assert_ok!(<Jobs as JobSettlement<AccountId>>::escalate(job, 5));
		// Released at once, drawn at the end of the next block.
		assert_eq!(Jobs_::get(job).unwrap().status, JobStatus::Assigning { round: 1 });
		assert_eq!(PendingJobs::<Test>::get(first[0]), 0);
		Jobs::do_try_state().unwrap();
		draw_submitted();
		let info = Jobs_::get(job).unwrap();
		assert_eq!(info.status, JobStatus::Running { round: 1 });
		assert_eq!(info.committee_start, 1);
		let next = committee(job);
		assert_eq!(next.len(), 5);
		assert!(next.iter().all(|who| !first.contains(who)));
		assert_eq!(TestVerifier::round(job).unwrap().committee, next);
		assert_eq!(PendingJobs::<Test>::get(first[0]), 0);
		assert!(next.iter().all(|who| PendingJobs::<Test>::get(who) == 1));
		assert!(job_events().contains(&Event::ExecutorsAssigned {
			job,
			round: 1,
			executors: next.clone()
		}));
		// No fresh validator is left for another escalation.
		assert_noop!(
			<Jobs as JobSettlement<AccountId>>::escalate(job, 3),
			Error::<Test>::NotEnoughValidators
		);
		assert_eq!(committee(job), next);
		// Five agree on a one-replica pool: each gets a fifth of one fee.
		finalize(job, next.clone(), output());
		let result = JobResults::<Test>::get(job).unwrap();
		assert_eq!(result.paid_each, EXECUTOR_FEE / 5);
		assert_eq!(free(ALICE), user_before - MODEL_PRICE - EXECUTOR_FEE - data_fee(1, 1));
	});
}

#[test]
fn an_escalation_that_finds_no_fresh_validator_at_its_draw_fails_with_the_escrow_returned() {
	ExtBuilder::default().build_and_execute(|| {
		let before = free(ALICE);
		let job = submit(ALICE, Some(1));
		// Five fresh validators when it escalates; two of them leave before the draw.
		assert_ok!(<Jobs as JobSettlement<AccountId>>::escalate(job, 5));
		let first = Jobs_::get(job).unwrap().executors[0];
		TestStaking::set_stakes(
			VALIDATORS
				.iter()
				.filter(|who| **who != first)
				.take(4)
				.map(|who| (*who, 100))
				.collect(),
		);
		draw_submitted();
		assert_eq!(
			Jobs_::get(job).unwrap().status,
			JobStatus::Failed(FailureReason::NoFreshExecutors)
		);
		assert_eq!(free(ALICE), before - data_fee(1, 1));
		// No round was opened after the first (which verification closed at its tally).
		assert_eq!(TestVerifier::round(job).unwrap().committee, vec![first]);
		assert!(VALIDATORS.iter().all(|who| PendingJobs::<Test>::get(who) == 0));
	});
}

#[test]
fn a_job_never_holds_more_executors_than_its_bound() {
	ExtBuilder::default().build_and_execute(|| {
		// Twenty staked validators: more than the sixteen executors a job may record.
		TestStaking::set_stakes((100..120).map(|who| (who, 100)).collect());
		let job = submit(ALICE, Some(5));
		let escalate = |size| <Jobs as JobSettlement<AccountId>>::escalate(job, size);
		assert_ok!(escalate(11));
		draw_submitted();
		assert_eq!(Jobs_::get(job).unwrap().executors.len(), 16);
		// One more would exceed the bound: refused, and the job keeps its committee.
		let before = committee(job);
		assert_noop!(escalate(1), Error::<Test>::TooManyExecutors);
		assert_eq!(committee(job), before);
	});
}

#[test]
fn a_failed_job_refunds_everything() {
	ExtBuilder::default().build_and_execute(|| {
		let before = free(ALICE);
		let job = submit(ALICE, Some(3));
		assert_ok!(<Jobs as JobSettlement<AccountId>>::fail(job, FailureReason::NoQuorum));
		assert_eq!(free(ALICE), before - data_fee(1, 3));
		assert_eq!(Jobs_::get(job).unwrap().status, JobStatus::Failed(FailureReason::NoQuorum));
		assert!(job_events().contains(&Event::JobFailed {
			job,
			reason: FailureReason::NoQuorum,
			refunded: MODEL_PRICE + 3 * EXECUTOR_FEE
		}));
	});
}

#[test]
fn a_job_whose_model_is_banned_or_rejected_has_its_model_withdrawn() {
	ExtBuilder::default().build_and_execute(|| {
		let job = submit(ALICE, Some(3));
		let model = Jobs_::get(job).unwrap().model;
		let withdrawn = || <Jobs as JobSettlement<AccountId>>::model_withdrawn(job);
		assert!(!withdrawn());
		TestModels::set_status(model, ModelStatus::Deprecated);
		assert!(!withdrawn(), "running jobs on a deprecated model finish");
		TestModels::set_status(model, ModelStatus::Banned);
		assert!(withdrawn());
		TestModels::set_status(
			model,
			ModelStatus::Rejected(gateless_primitives::model::RejectionReason::Admin),
		);
		assert!(withdrawn());
		// The verification pallet then fails the job: a full refund.
		let before = free(ALICE);
		assert_ok!(<Jobs as JobSettlement<AccountId>>::fail(job, FailureReason::ModelWithdrawn));
		assert_eq!(free(ALICE), before + MODEL_PRICE + 3 * EXECUTOR_FEE);
	});
}

#[test]
fn running_jobs_expire_with_a_refund_and_ended_jobs_are_pruned_after_retention() {
	ExtBuilder::default().build_and_execute(|| {
		let before = free(ALICE);
		let expiring = submit(ALICE, Some(3));
		let settled = submit(BOB, Some(1));
		finalize(settled, committee(settled), output());
		assert!(<Jobs as ModelUsage>::is_in_use(MODEL));
		run_to_block(JOB_TTL);
		assert_eq!(Jobs_::get(expiring).unwrap().status, JobStatus::Running { round: 0 });
		run_to_block(1 + JOB_TTL);
		assert_eq!(Jobs_::get(expiring).unwrap().status, JobStatus::Expired);
		assert_eq!(free(ALICE), before - data_fee(1, 3));
		assert!(TestVerifier::round(expiring).is_none());
		assert!(job_events().contains(&Event::JobExpired {
			job: expiring,
			refunded: MODEL_PRICE + 3 * EXECUTOR_FEE
		}));
		assert_eq!(Jobs_::get(settled).unwrap().status, JobStatus::Finalized);
		assert!(!<Jobs as ModelUsage>::is_in_use(MODEL));
		run_to_block(JOB_TTL + RETENTION);
		assert!(JobResults::<Test>::get(settled).is_some());
		run_to_block(2 + JOB_TTL + RETENTION);
		assert!(Jobs_::get(expiring).is_none() && Jobs_::get(settled).is_none());
		assert!(JobResults::<Test>::get(settled).is_none());
	});
}

#[test]
fn escrow_always_equals_the_fees_of_running_jobs() {
	ExtBuilder::default().build_and_execute(|| {
		let issuance = Balances::total_issuance();
		let running_fees = || {
			crate::Jobs::<Test>::iter()
				.filter(|(_, info)| !info.status.is_final())
				.map(|(_, info)| info.fee.escrow())
				.sum::<Balance>()
		};
		let check = || {
			assert_eq!(escrow_of(ALICE) + escrow_of(BOB), running_fees());
			Jobs::do_try_state().unwrap();
		};
		let a = submit(ALICE, Some(3));
		let b = submit(BOB, Some(2));
		let c = submit(ALICE, Some(1));
		check();
		assert_ok!(Jobs::cancel_job(RuntimeOrigin::signed(BOB), b));
		check();
		assert_ok!(<Jobs as JobSettlement<AccountId>>::escalate(c, 3));
		check();
		draw_submitted();
		check();
		let next = committee(c);
		finalize(c, next[..2].to_vec(), output());
		check();
		run_to_block(2);
		let d = submit(BOB, Some(3));
		assert_ok!(<Jobs as JobSettlement<AccountId>>::fail(d, FailureReason::NoFreshExecutors));
		check();
		run_to_block(1 + JOB_TTL);
		assert_eq!(Jobs_::get(a).unwrap().status, JobStatus::Expired);
		check();
		assert_eq!(escrow_of(ALICE) + escrow_of(BOB), 0);
		let data_fees = data_fee(1, 3) + data_fee(1, 2) + data_fee(1, 1) + data_fee(1, 3);
		assert_eq!(Balances::total_issuance(), issuance - data_fees);
	});
}

#[test]
fn a_price_change_after_submission_does_not_change_what_a_job_pays() {
	ExtBuilder::default().build_and_execute(|| {
		let job = submit(ALICE, Some(1));
		TestModels::set_price(MODEL, 500);
		let owner_before = free(OWNER);
		finalize(job, committee(job), output());
		assert_eq!(free(OWNER), owner_before + MODEL_PRICE);
		TestModels::set_status(MODEL, ModelStatus::Deprecated);
		assert_noop!(
			Jobs::submit_job(RuntimeOrigin::signed(ALICE), MODEL, input(1), None, 1_000),
			Error::<Test>::ModelNotActive
		);
	});
}

#[test]
fn the_invariants_catch_escrow_that_no_job_owes() {
	ExtBuilder::default().build().execute_with(|| {
		submit(ALICE, Some(1));
		use frame_support::traits::fungible::MutateHold;
		Balances::hold(&crate::HoldReason::JobEscrow.into(), &ALICE, 1).unwrap();
		assert!(Jobs::do_try_state().is_err());
	});
}

#[test]
fn a_submission_is_charged_for_the_active_set_not_the_largest() {
	ExtBuilder::default().build_and_execute(|| {
		use crate::weights::WeightInfo;
		use frame_support::traits::Get;
		let post = Jobs::submit_job(RuntimeOrigin::signed(ALICE), MODEL, input(1), Some(3), 1_000)
			.unwrap();
		let bytes = input(1).data_len() as u32;
		// The default set: six staked validators, of at most sixteen.
		let active = VALIDATORS.len() as u32;
		assert_eq!(post.actual_weight, Some(<() as WeightInfo>::submit_job(bytes, active)));
		let largest: u32 = <Test as crate::Config>::MaxValidators::get();
		assert!(active < largest);
		assert!(
			post.actual_weight.unwrap().ref_time()
				< <() as WeightInfo>::submit_job(bytes, largest).ref_time()
		);
	});
}

mod submit_jobs {
	use super::*;
	use crate::JobRequest;
	use frame_support::{dispatch::GetDispatchInfo, BoundedVec};
	use sp_runtime::DispatchError;

	fn request(model: u64, replicas: u32, max_fee: Balance) -> JobRequest<Balance> {
		JobRequest { model, inputs: input(1), replicas: Some(replicas), max_fee }
	}

	fn submit_jobs(
		who: AccountId,
		requests: Vec<JobRequest<Balance>>,
	) -> frame_support::dispatch::DispatchResultWithPostInfo {
		Jobs::submit_jobs(RuntimeOrigin::signed(who), BoundedVec::try_from(requests).unwrap())
	}

	/// The refusals of `who`'s batches: `(index, error)`.
	fn refused(who: AccountId) -> Vec<(u32, DispatchError)> {
		System::events()
			.into_iter()
			.filter_map(|record| match record.event {
				RuntimeEvent::Jobs(Event::JobRefused { submitter, index, error })
					if submitter == who =>
				{
					Some((index, error))
				},
				_ => None,
			})
			.collect()
	}

	fn submitted() -> Vec<u64> {
		System::events()
			.into_iter()
			.filter_map(|record| match record.event {
				RuntimeEvent::Jobs(Event::JobSubmitted { job, .. }) => Some(job),
				_ => None,
			})
			.collect()
	}

	#[test]
	fn each_job_of_a_batch_is_checked_and_charged_on_its_own_and_refused_alone() {
		ExtBuilder::default().build_and_execute(|| {
			let one = Jobs::quote(MODEL, Some(1), &[vec![1, 4]]).unwrap().total;
			let three = Jobs::quote(MODEL, Some(3), &[vec![1, 4]]).unwrap().total;
			let before = free(ALICE);
			let call = crate::Call::<Test>::submit_jobs {
				jobs: BoundedVec::try_from(vec![
					request(MODEL, 1, one),
					request(99, 1, 1_000),
					// Its own max_fee, below its own quote.
					request(MODEL, 3, three - 1),
					request(MODEL, 3, three),
				])
				.unwrap(),
			};
			let declared = call.get_dispatch_info().call_weight;
			let crate::Call::<Test>::submit_jobs { jobs } = call else { unreachable!() };
			let post = Jobs::submit_jobs(RuntimeOrigin::signed(ALICE), jobs).unwrap();
			assert!(post.actual_weight.unwrap().all_lte(declared));
			draw_submitted();

			assert_eq!(submitted(), vec![0, 1]);
			assert_eq!(committee(0).len(), 1);
			assert_eq!(committee(1).len(), 3);
			assert_eq!(
				refused(ALICE),
				vec![
					(1, Error::<Test>::UnknownModel.into()),
					(2, Error::<Test>::FeeAboveMax.into())
				]
			);
			assert_eq!(free(ALICE), before - one - three);
		});
	}

	#[test]
	fn a_job_refused_after_part_of_its_charge_leaves_no_trace() {
		let fee = MODEL_PRICE + 3 * EXECUTOR_FEE + data_fee(1, 3);
		ExtBuilder::default().balance(ALICE, 2 * fee - 1).build_and_execute(|| {
			let issuance = Balances::total_issuance();
			assert_ok!(submit_jobs(ALICE, vec![request(MODEL, 3, fee), request(MODEL, 3, fee)]));
			assert_eq!(submitted(), vec![0]);
			assert_eq!(refused(ALICE), vec![(1, Error::<Test>::CannotAffordFee.into())]);
			draw_submitted();
			assert_eq!(free(ALICE), fee - 1);
			assert_eq!(Balances::total_issuance(), issuance - data_fee(1, 3), "one data fee burnt");
			assert_eq!(crate::NextJobId::<Test>::get(), 1);
			assert!(Jobs_::get(1).is_none());
		});
	}

	#[test]
	fn batches_count_against_the_blocks_jobs_and_cannot_be_empty() {
		ExtBuilder::default().build_and_execute(|| {
			for _ in 1..MAX_JOBS_PER_BLOCK {
				submit_in_this_block(ALICE, Some(1));
			}
			assert_ok!(submit_jobs(BOB, vec![request(MODEL, 1, 1_000), request(MODEL, 1, 1_000)]));
			assert_eq!(refused(BOB), vec![(1, Error::<Test>::TooManyJobsInBlock.into())]);
			assert_noop!(submit_jobs(BOB, vec![]), Error::<Test>::NoJobs);
			// At most MaxJobsPerCall jobs in one batch.
			let over: Vec<_> = (0..=MAX_JOBS_PER_BLOCK).map(|_| request(MODEL, 1, 1_000)).collect();
			assert!(
				BoundedVec::<_, frame_support::traits::ConstU32<MAX_JOBS_PER_BLOCK>>::try_from(
					over
				)
				.is_err()
			);
		});
	}
}

mod deferred_draw {
	use super::*;
	use frame_support::{
		storage::{with_transaction, TransactionOutcome},
		traits::Hooks,
	};

	/// The committee that job 0, submitted in block 1 under `submission_seed`, gets when the
	/// randomness of block 2, where it is drawn, is `draw_seed`; every change rolled back.
	fn committee_under(submission_seed: u64, draw_seed: u64) -> Vec<AccountId> {
		with_transaction(|| {
			TestRandomness::set_seed(H256::from_low_u64_be(submission_seed));
			submit_in_this_block(ALICE, Some(3));
			run_to_block(2);
			TestRandomness::set_seed(H256::from_low_u64_be(draw_seed));
			Jobs::on_finalize(2);
			TransactionOutcome::Rollback(Ok::<_, sp_runtime::DispatchError>(committee(0)))
		})
		.unwrap()
	}

	#[test]
	fn a_job_waits_for_the_end_of_the_next_block_for_its_committee() {
		ExtBuilder::default().build_and_execute(|| {
			let quote = Jobs::quote(MODEL, Some(3), &[vec![1, 4]]).unwrap();
			let issuance = Balances::total_issuance();
			let job = submit_in_this_block(ALICE, Some(3));
			// Paid for, nothing drawn: the whole quote held, data fee included.
			let info = Jobs_::get(job).unwrap();
			assert_eq!(info.status, JobStatus::Assigning { round: 0 });
			assert!(info.executors.is_empty());
			assert_eq!(escrow_of(ALICE), quote.total);
			assert!(TestVerifier::round(job).is_none());
			assert!(!job_events().iter().any(|e| matches!(e, Event::ExecutorsAssigned { .. })));
			// Not at the end of its own block, nor at the start of the next.
			Jobs::on_finalize(1);
			run_to_block(2);
			assert_eq!(Jobs_::get(job).unwrap().status, JobStatus::Assigning { round: 0 });
			Jobs::do_try_state().unwrap();
			// At the end of the next block: drawn, data fee burnt, round 0 opened.
			Jobs::on_finalize(2);
			assert_eq!(Jobs_::get(job).unwrap().status, JobStatus::Running { round: 0 });
			assert_eq!(committee(job).len(), 3);
			assert_eq!(TestVerifier::round(job).unwrap().committee, committee(job));
			assert_eq!(escrow_of(ALICE), quote.escrow());
			assert_eq!(Balances::total_issuance(), issuance - quote.data_fee);
			assert!(job_events().contains(&Event::ExecutorsAssigned {
				job,
				round: 0,
				executors: committee(job)
			}));
		});
	}

	#[test]
	fn the_committee_follows_the_randomness_of_the_draw_block_not_the_submission_block() {
		ExtBuilder::default().build_and_execute(|| {
			// Whatever the submission block's randomness, the same draw-block randomness gives
			// the same committee...
			for submission_seed in 1..6 {
				assert_eq!(committee_under(submission_seed, 100), committee_under(99, 100));
			}
			// ...and the draw block's randomness decides it: six validators, three drawn.
			let committees: alloc::collections::BTreeSet<_> = (100..120)
				.map(|draw_seed| {
					let mut committee = committee_under(1, draw_seed);
					committee.sort();
					committee
				})
				.collect();
			assert!(committees.len() > 5, "{} committees from 20 seeds", committees.len());
		});
	}

	#[test]
	fn a_job_without_free_validators_at_its_draw_fails_with_its_whole_fee_returned() {
		ExtBuilder::default().build_and_execute(|| {
			// Six validators with two slots each: ten single-executor jobs leave two slots.
			for _ in 0..2 {
				for _ in 0..4 {
					submit_in_this_block(BOB, Some(1));
				}
				draw_submitted();
			}
			submit_in_this_block(BOB, Some(1));
			submit_in_this_block(BOB, Some(1));
			draw_submitted();
			let before = free(ALICE);
			let issuance = Balances::total_issuance();
			// Three jobs in one block: each sees a free validator at submission, two get them.
			let jobs: Vec<_> = (0..3).map(|_| submit_in_this_block(ALICE, Some(1))).collect();
			draw_submitted();
			let quote = Jobs::quote(MODEL, Some(1), &[vec![1, 4]]).unwrap();
			assert_eq!(Jobs_::get(jobs[0]).unwrap().status, JobStatus::Running { round: 0 });
			assert_eq!(Jobs_::get(jobs[1]).unwrap().status, JobStatus::Running { round: 0 });
			assert_eq!(
				Jobs_::get(jobs[2]).unwrap().status,
				JobStatus::Failed(FailureReason::NotAssigned)
			);
			assert!(job_events().contains(&Event::JobFailed {
				job: jobs[2],
				reason: FailureReason::NotAssigned,
				refunded: quote.total
			}));
			// Two jobs paid for; the third nothing, not even its data fee.
			assert_eq!(free(ALICE), before - 2 * quote.total);
			assert_eq!(Balances::total_issuance(), issuance - 2 * quote.data_fee);
			assert!(TestVerifier::round(jobs[2]).is_none());
			assert!(JobInputs::<Test>::get(jobs[2]).is_none());
		});
	}

	#[test]
	fn a_job_whose_model_is_withdrawn_before_its_draw_returns_its_whole_fee() {
		ExtBuilder::default().build_and_execute(|| {
			let before = free(ALICE);
			let job = submit_in_this_block(ALICE, Some(3));
			TestModels::set_status(MODEL, ModelStatus::Banned);
			draw_submitted();
			assert_eq!(
				Jobs_::get(job).unwrap().status,
				JobStatus::Failed(FailureReason::ModelWithdrawn)
			);
			assert_eq!(free(ALICE), before);
			assert!(VALIDATORS.iter().all(|who| PendingJobs::<Test>::get(who) == 0));
		});
	}

	#[test]
	fn a_job_cancelled_before_its_draw_pays_no_executor_and_burns_its_data_fee() {
		ExtBuilder::default().build_and_execute(|| {
			let before = free(ALICE);
			let job = submit_in_this_block(ALICE, Some(3));
			assert_ok!(Jobs::cancel_job(RuntimeOrigin::signed(ALICE), job));
			assert!(job_events().contains(&Event::JobCancelled {
				job,
				paid_each: 0,
				refunded: MODEL_PRICE + 3 * EXECUTOR_FEE
			}));
			assert_eq!(free(ALICE), before - data_fee(1, 3));
			assert_eq!(escrow_of(ALICE), 0);
			// Its draw comes and passes it by.
			draw_submitted();
			assert_eq!(Jobs_::get(job).unwrap().status, JobStatus::Cancelled);
			assert!(TestVerifier::round(job).is_none());
			assert!(VALIDATORS.iter().all(|who| PendingJobs::<Test>::get(who) == 0));
		});
	}
}

#[test]
fn jobs_ordered_before_a_job_in_its_block_do_not_change_its_committee() {
	use frame_support::{
		storage::{with_transaction, TransactionOutcome},
		traits::Hooks,
	};
	ExtBuilder::default().build_and_execute(|| {
		// Alice's job alone, or after Bob's in the same block (which takes an id and a slot of
		// one validator: the mock's validators take two jobs each, so none is full), drawn from
		// the same randomness.
		let committee_after = |padding: bool| {
			with_transaction(|| {
				if padding {
					submit_in_this_block(BOB, Some(1));
				}
				let job = submit_in_this_block(ALICE, Some(3));
				run_to_block(2);
				TestRandomness::set_seed(H256::repeat_byte(5));
				Jobs::on_finalize(2);
				TransactionOutcome::Rollback(Ok::<_, sp_runtime::DispatchError>((
					job,
					committee(job),
				)))
			})
			.unwrap()
		};
		let (alone, committee) = committee_after(false);
		let (padded, same) = committee_after(true);
		assert_eq!(padded, alone + 1, "a different id");
		assert_eq!(same, committee);
	});
}

/// Each ending moves its model's statistics exactly once, and only the job's own model's.
mod statistics {
	use super::*;
	use crate::ModelStatistics;
	use gateless_primitives::job::{JobTensor, ModelStats};

	fn stats() -> ModelStats<Balance, u64> {
		ModelStatistics::<Test>::get(MODEL)
	}

	/// A `[1, 3]` f32 output kept off chain.
	fn content_output() -> InferenceOutput {
		let bytes = vec![7u8; 12];
		InferenceOutput::Content {
			tensors: TensorList::new(vec![JobTensor {
				dtype: DType::F32,
				shape: vec![1, 3].try_into().unwrap(),
				data: TensorData::Content(content_ref(&bytes).unwrap()),
			}])
			.unwrap(),
			root: H256::repeat_byte(3),
		}
	}

	#[test]
	fn a_finalized_job_counts_its_committee_its_agreement_and_the_owners_revenue_once() {
		ExtBuilder::default().build_and_execute(|| {
			assert_eq!(stats(), ModelStats::default());
			let job = submit(ALICE, Some(3));
			let submitted_at = System::block_number() - 1;
			assert_eq!(
				stats(),
				ModelStats { submitted: 1, last_used: Some(submitted_at), ..Default::default() }
			);
			finalize(job, committee(job)[..2].to_vec(), output());
			let expected = ModelStats {
				submitted: 1,
				finalized: 1,
				seats: 3,
				agreeing: 2,
				revenue: MODEL_PRICE,
				last_used: Some(submitted_at),
				..Default::default()
			};
			assert_eq!(stats(), expected);
			// A second settlement of the ended job is refused and counts nothing.
			assert_noop!(
				<Jobs as JobSettlement<AccountId>>::finalize(
					job,
					AgreedOutcome { output: output(), digest: H256::zero(), agreeing: vec![] }
				),
				Error::<Test>::JobEnded
			);
			assert_noop!(
				<Jobs as JobSettlement<AccountId>>::fail(job, FailureReason::NoQuorum),
				Error::<Test>::JobEnded
			);
			// Pruning the job later leaves its model's record.
			run_to_block(2 + JOB_TTL + RETENTION);
			assert!(Jobs_::get(job).is_none());
			assert_eq!(stats(), expected);
		});
	}

	#[test]
	fn an_output_kept_off_chain_earns_the_owner_its_price_and_an_agreed_error_does_not() {
		ExtBuilder::default().build_and_execute(|| {
			let owner_before = free(OWNER);
			let job = submit(ALICE, Some(1));
			finalize(job, committee(job), content_output());
			assert_eq!(free(OWNER), owner_before + MODEL_PRICE);
			assert_eq!(JobResults::<Test>::get(job).unwrap().owner_paid, MODEL_PRICE);
			let job = submit(ALICE, Some(1));
			finalize(job, committee(job), InferenceOutput::Error(InferenceError::BadInput));
			let stats = stats();
			assert_eq!((stats.finalized, stats.agreed_errors), (2, 1));
			assert_eq!((stats.seats, stats.agreeing), (2, 2));
			assert_eq!(stats.revenue, MODEL_PRICE);
		});
	}

	#[test]
	fn rounds_without_a_quorum_count_their_seats_and_no_agreement() {
		ExtBuilder::default().build_and_execute(|| {
			let job = submit(ALICE, Some(1));
			assert_ok!(<Jobs as JobSettlement<AccountId>>::escalate(job, 3));
			assert_eq!((stats().seats, stats().agreeing), (1, 0));
			draw_submitted();
			assert_ok!(<Jobs as JobSettlement<AccountId>>::fail(job, FailureReason::NoQuorum));
			let stats = stats();
			assert_eq!((stats.seats, stats.agreeing, stats.failed, stats.finalized), (4, 0, 1, 0));
		});
	}

	#[test]
	fn failures_expiries_and_cancellations_are_each_counted_once() {
		ExtBuilder::default().build_and_execute(|| {
			// A failure without a tally (the model withdrawn) counts no seats.
			let withdrawn = submit(ALICE, Some(3));
			assert_ok!(<Jobs as JobSettlement<AccountId>>::fail(
				withdrawn,
				FailureReason::ModelWithdrawn
			));
			let cancelled = submit(ALICE, Some(3));
			assert_ok!(Jobs::cancel_job(RuntimeOrigin::signed(ALICE), cancelled));
			let expiring = submit(BOB, Some(1));
			run_to_block(System::block_number() + JOB_TTL);
			assert_eq!(Jobs_::get(expiring).unwrap().status, JobStatus::Expired);
			let stats = stats();
			assert_eq!(
				(stats.submitted, stats.failed, stats.cancelled, stats.expired, stats.seats),
				(3, 1, 1, 1, 0)
			);
			Jobs::do_try_state().unwrap();
		});
	}
}
