//! Benchmarks of the result verification pallet: the pool checks of commits, reveals and
//! settlements, the calls, the tally of a full committee of disagreeing tensors, and the hook.

// Benchmarks set up their state with plain arithmetic and unwraps: a panic fails the benchmark.
#![allow(
	clippy::arithmetic_side_effects,
	clippy::indexing_slicing,
	clippy::unwrap_used,
	clippy::expect_used
)]

use frame_benchmarking::v2::*;
use frame_support::{pallet_prelude::TransactionSource, traits::Authorize};
use frame_system::RawOrigin;
use gateless_primitives::{
	content::content_ref,
	digest::{commitment, output_digest, LEAF_BYTES},
	dispute::{output_root, prove, DisputeProof, MAX_DISPUTE_LEAVES},
	job::{Abstention, InferenceOutput, JobTensor, Tensor, TensorData, TensorList},
	model::{DType, Determinism},
};
use sp_runtime::{traits::One, FixedU64, Perbill};

use crate::*;
use frame_support::traits::Hooks;

/// A tolerance of one millionth, so that the benchmark outputs (further apart) all disagree and
/// every pair is compared element by element.
fn tolerance() -> Determinism {
	Determinism::Tolerance { abs: FixedU64::from_rational(1, 1_000_000), rel: Perbill::zero() }
}

/// `size` executors with inference keys.
fn committee<T: Config>(size: u32) -> Vec<T::AccountId> {
	(0..size)
		.map(|index| {
			let who = T::BenchmarkHelper::executor(index);
			T::BenchmarkHelper::inference_key(&who);
			who
		})
		.collect()
}

/// An f32 tensor of `values` elements, the same for every `seed` but in its last element, where
/// outputs of different seeds are far apart: comparing two of them under a tolerance reads every
/// element, the worst case of a tally (built from bit patterns, so that no float arithmetic runs
/// in the runtime).
fn output(values: u32, seed: u32) -> InferenceOutput {
	let data: Vec<u8> = (0..values)
		.flat_map(|index| {
			let apart = if index + 1 == values { seed * 0x1_0000 } else { 0 };
			(0x3f80_0000u32 + apart + index).to_le_bytes()
		})
		.collect();
	let tensor = Tensor {
		dtype: DType::F32,
		shape: alloc::vec![values].try_into().expect("rank 1"),
		data: data.try_into().expect("within the inline threshold"),
	};
	InferenceOutput::Tensors(TensorList::new(alloc::vec![tensor]).expect("one tensor"))
}

fn salt() -> [u8; 32] {
	[7; 32]
}

fn commit_call<T: Config>(job: JobId, who: &T::AccountId, output: &InferenceOutput) -> Call<T> {
	let digest = output_digest(output, &tolerance());
	let commitment = commitment(&digest, &salt(), who);
	let signature =
		T::BenchmarkHelper::sign(who, &Pallet::<T>::commit_payload(job, 0, who, &commitment));
	Call::<T>::commit { job, executor: who.clone(), commitment, signature }
}

fn reveal_call<T: Config>(job: JobId, who: &T::AccountId, output: &InferenceOutput) -> Call<T> {
	let payload = Pallet::<T>::reveal_payload(job, 0, who, output, &salt());
	let signature = T::BenchmarkHelper::sign(who, &payload);
	Call::<T>::reveal {
		job,
		executor: who.clone(),
		output: output.clone(),
		salt: salt(),
		signature,
	}
}

fn abstain_call<T: Config>(job: JobId, who: &T::AccountId) -> Call<T> {
	let cause = Abstention::Timeout;
	let signature =
		T::BenchmarkHelper::sign(who, &Pallet::<T>::abstain_payload(job, 0, who, &cause));
	Call::<T>::abstain { job, executor: who.clone(), cause, signature }
}

fn dispatch<T: Config>(call: Call<T>) {
	use frame_support::traits::UnfilteredDispatchable;
	call.dispatch_bypass_filter(RawOrigin::Authorized.into()).expect("a valid duty");
}

/// A job whose round has `size` executors that all committed to distinct outputs of `values`
/// elements.
fn committed_job<T: Config>(size: u32, values: u32) -> (JobId, Vec<T::AccountId>) {
	let executors = committee::<T>(size);
	let job = T::BenchmarkHelper::open_job(executors.clone(), tolerance(), values);
	for (seed, who) in executors.iter().enumerate() {
		dispatch::<T>(commit_call::<T>(job, who, &output(values, seed as u32)));
	}
	(job, executors)
}

/// The f32 values of a leaf.
const LEAF_VALUES: u32 = LEAF_BYTES / 4;

/// The bytes of an output of `leaves` full leaves by content: every value is
/// `1 + 4 × 2^-23` (just below an edge of the one-millionth grid), except the first of each of
/// the first `nudged` leaves, one step of f32 higher (just above it: within the tolerance, on
/// the next grid point).
fn wide_bytes(leaves: u32, nudged: u32) -> Vec<u8> {
	(0..leaves * LEAF_VALUES)
		.flat_map(|index| {
			let above = index % LEAF_VALUES == 0 && index / LEAF_VALUES < nudged;
			(0x3f80_0004u32 + u32::from(above)).to_le_bytes()
		})
		.collect()
}

/// `bytes` as one f32 output revealed by content.
fn by_content(bytes: &[u8]) -> InferenceOutput {
	let tensor = JobTensor {
		dtype: DType::F32,
		shape: alloc::vec![bytes.len() as u32 / 4].try_into().expect("rank 1"),
		data: TensorData::Content(content_ref(bytes).expect("within the largest content")),
	};
	InferenceOutput::Content {
		tensors: TensorList::new(alloc::vec![tensor]).expect("one tensor"),
		root: output_root(&[(DType::F32, bytes)], &tolerance()).expect("a few leaves"),
	}
}

/// A job of four executors in dispute: two revealed the reference output of
/// [`MAX_DISPUTE_LEAVES`] leaves, the third one that differs from it in its first `nudged`
/// leaves, the fourth one far from it; and the third's proof of its agreement, with its settle
/// call (which leaves the fourth's reveal disputed).
fn disputed_job<T: Config>(nudged: u32) -> (JobId, Call<T>) {
	let executors = committee::<T>(4);
	let job = T::BenchmarkHelper::open_job(
		executors.clone(),
		tolerance(),
		MAX_DISPUTE_LEAVES * LEAF_VALUES,
	);
	let reference = wide_bytes(MAX_DISPUTE_LEAVES, 0);
	let other = wide_bytes(MAX_DISPUTE_LEAVES, nudged);
	let mut far = reference.clone();
	far[0] ^= 0x80;
	let outputs =
		[by_content(&reference), by_content(&reference), by_content(&other), by_content(&far)];
	for (who, output) in executors.iter().zip(&outputs) {
		dispatch::<T>(commit_call::<T>(job, who, output));
	}
	for (who, output) in executors.iter().zip(&outputs) {
		dispatch::<T>(reveal_call::<T>(job, who, output));
	}
	assert!(Disputes::<T>::contains_key(job), "the third reveal is disputed");
	let proof = prove(&[(DType::F32, &reference)], &[(DType::F32, &other)], &tolerance())
		.expect("comparable outputs");
	assert!(matches!(&proof, DisputeProof::Agree { leaves, .. } if leaves.len() as u32 == nudged));
	let who = executors[2].clone();
	let signature =
		T::BenchmarkHelper::sign(&who, &Pallet::<T>::settle_payload(job, 0, &who, &who, &proof));
	(job, Call::<T>::settle { job, executor: who.clone(), other: who, proof, signature })
}

fn values_of(bytes: u32) -> u32 {
	(bytes / 4).max(1)
}

/// `n` jobs whose rounds have `executors` as their committee and expect one output of `values`
/// elements: the first a job of the jobs pallet, the others rounds opened beside it (duties do
/// not read the jobs pallet).
fn open_rounds<T: Config>(n: u32, executors: &[T::AccountId], values: u32) -> Vec<JobId> {
	let first = T::BenchmarkHelper::open_job(executors.to_vec(), tolerance(), values);
	let outputs = Rounds::<T>::get(first).expect("an open round").outputs;
	let mut jobs = alloc::vec![first];
	for index in 1..n {
		let job = first + JobId::from(index);
		Pallet::<T>::open(job, 0, executors.to_vec(), tolerance(), outputs.clone())
			.expect("a committee within MaxCommittee");
		jobs.push(job);
	}
	jobs
}

/// `who`'s batch of commits to the same output in each of `jobs`, and its signature.
fn commit_batch_of<T: Config>(jobs: &[JobId], who: &T::AccountId) -> Call<T> {
	let digest = output_digest(&output(3, 0), &tolerance());
	let commitment = commitment(&digest, &salt(), who);
	let items: Vec<CommitItem> =
		jobs.iter().map(|job| CommitItem { job: *job, round: 0, commitment }).collect();
	let signature = T::BenchmarkHelper::sign(who, &Pallet::<T>::commit_batch_payload(who, &items));
	let items = items.try_into().expect("within MaxDutyBatch");
	Call::<T>::commit_batch { executor: who.clone(), items, signature }
}

/// A committee of one that committed to a one-value output in each of `n` jobs, and its batch
/// of reveals, each of which completes its round.
fn reveal_batch_of<T: Config>(n: u32) -> (Vec<JobId>, T::AccountId, Call<T>) {
	let executors = committee::<T>(1);
	let who = executors[0].clone();
	let jobs = open_rounds::<T>(n, &executors, 1);
	let revealed = output(1, 0);
	for job in &jobs {
		dispatch::<T>(commit_call::<T>(*job, &who, &revealed));
	}
	let items: Vec<RevealItem> = jobs
		.iter()
		.map(|job| RevealItem { job: *job, round: 0, output: revealed.clone(), salt: salt() })
		.collect();
	let signature =
		T::BenchmarkHelper::sign(&who, &Pallet::<T>::reveal_batch_payload(&who, &items));
	let items = items.try_into().expect("within MaxDutyBatch");
	let call = Call::<T>::reveal_batch { executor: who.clone(), items, signature };
	(jobs, who, call)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// The pool's check of a commit by the last member of the largest committee.
	#[benchmark]
	fn authorize_commit() -> Result<(), BenchmarkError> {
		let executors = committee::<T>(T::MaxCommittee::get());
		let job = T::BenchmarkHelper::open_job(executors.clone(), tolerance(), 3);
		let who = executors.last().expect("a committee");
		let call = commit_call::<T>(job, who, &output(3, 0));

		#[block]
		{
			call.authorize(TransactionSource::External)
				.ok_or("commit is authorized")?
				.map_err(|_| "a valid commit")?;
		}
		Ok(())
	}

	/// The pool's check of a reveal of `b` bytes.
	#[benchmark]
	fn authorize_reveal(
		b: Linear<4, { T::MaxInlineOutputBytes::get() }>,
	) -> Result<(), BenchmarkError> {
		let values = values_of(b);
		let (job, executors) = committed_job::<T>(T::MaxCommittee::get(), values);
		let call = reveal_call::<T>(
			job,
			executors.last().expect("a committee"),
			&output(values, T::MaxCommittee::get() - 1),
		);

		#[block]
		{
			call.authorize(TransactionSource::External)
				.ok_or("reveal is authorized")?
				.map_err(|_| "a valid reveal")?;
		}
		Ok(())
	}

	#[benchmark]
	fn commit() {
		let executors = committee::<T>(T::MaxCommittee::get());
		let job = T::BenchmarkHelper::open_job(executors.clone(), tolerance(), 3);
		let who = executors.last().expect("a committee").clone();
		let Call::<T>::commit { commitment, signature, .. } =
			commit_call::<T>(job, &who, &output(3, 0))
		else {
			unreachable!("a commit call")
		};

		#[extrinsic_call]
		_(RawOrigin::Authorized, job, who.clone(), commitment, signature);

		assert!(Commitments::<T>::contains_key(job, &who));
	}

	/// The pool's check of an abstention.
	#[benchmark]
	fn authorize_abstain() -> Result<(), BenchmarkError> {
		let executors = committee::<T>(T::MaxCommittee::get());
		let job = T::BenchmarkHelper::open_job(executors.clone(), tolerance(), 3);
		let who = executors.last().expect("a committee");
		let call = abstain_call::<T>(job, who);

		#[block]
		{
			call.authorize(TransactionSource::External)
				.ok_or("abstain is authorized")?
				.map_err(|_| "a valid abstention")?;
		}
		Ok(())
	}

	/// An abstention that does not complete the round (others have yet to answer).
	#[benchmark]
	fn abstain() {
		let executors = committee::<T>(T::MaxCommittee::get());
		let job = T::BenchmarkHelper::open_job(executors.clone(), tolerance(), 3);
		let who = executors.last().expect("a committee").clone();
		let Call::<T>::abstain { cause, signature, .. } = abstain_call::<T>(job, &who) else {
			unreachable!("an abstain call")
		};

		#[extrinsic_call]
		_(RawOrigin::Authorized, job, who.clone(), cause, signature);

		assert!(Abstentions::<T>::contains_key(job, &who));
	}

	/// A reveal of `b` bytes that does not complete the round.
	#[benchmark]
	fn reveal(b: Linear<4, { T::MaxInlineOutputBytes::get() }>) {
		let values = values_of(b);
		let (job, executors) = committed_job::<T>(3, values);
		let who = executors[0].clone();
		let revealed = output(values, 0);
		let signature = T::BenchmarkHelper::sign(
			&who,
			&Pallet::<T>::reveal_payload(job, 0, &who, &revealed, &salt()),
		);

		#[extrinsic_call]
		_(RawOrigin::Authorized, job, who.clone(), revealed, salt(), signature);

		assert!(Reveals::<T>::contains_key(job, &who));
	}

	/// The tally, by the hook after the reveal window, of a committee of `c` whose `c - 1`
	/// revealers all disagree in their last element only (every pair compared element by element
	/// over all `b` bytes); one no-show is slashed and the job escalates or fails.
	#[benchmark]
	fn tally(
		c: Linear<1, { T::MaxCommittee::get() }>,
		b: Linear<4, { T::MaxInlineOutputBytes::get() }>,
	) {
		let values = values_of(b);
		let (job, executors) = committed_job::<T>(c, values);
		for (seed, who) in executors.iter().enumerate().skip(1) {
			dispatch::<T>(reveal_call::<T>(job, who, &output(values, seed as u32)));
		}
		let round = Rounds::<T>::get(job).expect("an open round");
		let after = round.reveal_until + One::one();
		frame_system::Pallet::<T>::set_block_number(after);
		// The hooks of the blocks before looked at theirs (counted apart, one read each).
		TallyCursor::<T>::put(after);

		#[block]
		{
			Pallet::<T>::on_initialize(after);
		}

		assert!(Rounds::<T>::get(job).is_none_or(|next| next.round == 1));
	}

	/// The pool's check of a proof of agreement that reveals `l` leaves of both outputs.
	#[benchmark]
	fn authorize_settle(l: Linear<1, MAX_DISPUTE_LEAVES>) -> Result<(), BenchmarkError> {
		let (_, call) = disputed_job::<T>(l);

		#[block]
		{
			call.authorize(TransactionSource::External)
				.ok_or("settle is authorized")?
				.map_err(|_| "a valid proof")?;
		}
		Ok(())
	}

	/// A proof of agreement that reveals `l` leaves of both outputs (and leaves the dispute
	/// open: a tally that follows is weighed apart).
	#[benchmark]
	fn settle(l: Linear<1, MAX_DISPUTE_LEAVES>) -> Result<(), BenchmarkError> {
		let (job, call) = disputed_job::<T>(l);
		let Call::<T>::settle { executor, other, proof, signature, .. } = call else {
			return Err("a settle call".into());
		};

		#[extrinsic_call]
		_(RawOrigin::Authorized, job, executor, other, proof, signature);

		let dispute = Disputes::<T>::get(job).ok_or("the dispute is still open")?;
		assert!(dispute.pending.iter().any(|(_, settled)| *settled == Some(Settlement::Agree)));
		Ok(())
	}

	/// The hook with nothing due (the cursor read and written; looking at the block is counted
	/// apart, one read).
	#[benchmark]
	fn on_initialize_idle() {
		let now = frame_system::Pallet::<T>::block_number();
		TallyCursor::<T>::put(now);

		#[block]
		{
			Pallet::<T>::on_initialize(now);
		}
	}

	/// The pool's check of a batch of `n` commits by the last member of the largest committee.
	#[benchmark]
	fn authorize_commit_batch(
		n: Linear<1, { T::MaxDutyBatch::get() }>,
	) -> Result<(), BenchmarkError> {
		let executors = committee::<T>(T::MaxCommittee::get());
		let jobs = open_rounds::<T>(n, &executors, 3);
		let call = commit_batch_of::<T>(&jobs, executors.last().expect("a committee"));

		#[block]
		{
			call.authorize(TransactionSource::External)
				.ok_or("commit_batch is authorized")?
				.map_err(|_| "a valid batch")?;
		}
		Ok(())
	}

	/// A batch of `n` commits by the last member of the largest committee.
	#[benchmark]
	fn commit_batch(n: Linear<1, { T::MaxDutyBatch::get() }>) -> Result<(), BenchmarkError> {
		let executors = committee::<T>(T::MaxCommittee::get());
		let jobs = open_rounds::<T>(n, &executors, 3);
		let who = executors.last().expect("a committee").clone();
		let Call::<T>::commit_batch { items, signature, .. } = commit_batch_of::<T>(&jobs, &who)
		else {
			return Err("a commit_batch call".into());
		};

		#[extrinsic_call]
		_(RawOrigin::Authorized, who.clone(), items, signature);

		assert!(jobs.iter().all(|job| Commitments::<T>::contains_key(job, &who)));
		Ok(())
	}

	/// The pool's check of a batch of `n` reveals of the smallest output.
	#[benchmark]
	fn authorize_reveal_batch(
		n: Linear<1, { T::MaxDutyBatch::get() }>,
	) -> Result<(), BenchmarkError> {
		let (_, _, call) = reveal_batch_of::<T>(n);

		#[block]
		{
			call.authorize(TransactionSource::External)
				.ok_or("reveal_batch is authorized")?
				.map_err(|_| "a valid batch")?;
		}
		Ok(())
	}

	/// A batch of `n` reveals of the smallest output, each completing its round, which is then
	/// queued for its tally.
	#[benchmark]
	fn reveal_batch(n: Linear<1, { T::MaxDutyBatch::get() }>) -> Result<(), BenchmarkError> {
		let (jobs, who, call) = reveal_batch_of::<T>(n);
		let Call::<T>::reveal_batch { items, signature, .. } = call else {
			return Err("a reveal_batch call".into());
		};

		#[extrinsic_call]
		_(RawOrigin::Authorized, who.clone(), items, signature);

		assert!(jobs.iter().all(|job| Reveals::<T>::contains_key(job, &who)));
		Ok(())
	}

	#[benchmark]
	fn set_params() -> Result<(), BenchmarkError> {
		let mut params = Params::<T>::get();
		params.withhold_slash = params.dissent_slash;
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, params);

		assert_eq!(Params::<T>::get(), params);
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::ExtBuilder.build(), crate::mock::Test);
}
