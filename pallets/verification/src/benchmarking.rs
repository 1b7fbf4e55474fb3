//! Benchmarks of the result verification pallet: the pool checks of commits and reveals, the
//! calls, the tally of a full committee of disagreeing tensors, and the hook.

use frame_benchmarking::v2::*;
use frame_support::{pallet_prelude::TransactionSource, traits::Authorize};
use frame_system::RawOrigin;
use gateless_primitives::{
	digest::{commitment, output_digest},
	job::{Abstention, InferenceOutput, Tensor, TensorList, MAX_INLINE_OUTPUT_BYTES},
	model::{DType, Determinism},
	traits::JobVerifier,
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

/// An f32 tensor of `values` elements, different for each `seed` (built from bit patterns, so
/// that no float arithmetic runs in the runtime).
fn output(values: u32, seed: u32) -> InferenceOutput {
	let data: Vec<u8> = (0..values)
		.flat_map(|index| (0x3f80_0000u32 + seed * 0x1_0000 + index).to_le_bytes())
		.collect();
	let tensor = Tensor {
		dtype: DType::F32,
		shape: alloc::vec![values].try_into().expect("rank 1"),
		data: data.try_into().expect("within MAX_INLINE_OUTPUT_BYTES"),
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

fn values_of(bytes: u32) -> u32 {
	(bytes / 4).max(1)
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
	fn authorize_reveal(b: Linear<4, MAX_INLINE_OUTPUT_BYTES>) -> Result<(), BenchmarkError> {
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
	fn reveal(b: Linear<4, MAX_INLINE_OUTPUT_BYTES>) {
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
	/// revealers all disagree (every pair compared element by element over `b` bytes); one
	/// no-show is slashed and the job escalates or fails.
	#[benchmark]
	fn tally(c: Linear<1, { T::MaxCommittee::get() }>, b: Linear<4, MAX_INLINE_OUTPUT_BYTES>) {
		let values = values_of(b);
		let (job, executors) = committed_job::<T>(c, values);
		for (seed, who) in executors.iter().enumerate().skip(1) {
			dispatch::<T>(reveal_call::<T>(job, who, &output(values, seed as u32)));
		}
		let round = Rounds::<T>::get(job).expect("an open round");
		let after = round.reveal_until + One::one();
		frame_system::Pallet::<T>::set_block_number(after);

		#[block]
		{
			Pallet::<T>::on_initialize(after);
		}

		assert!(Rounds::<T>::get(job).is_none_or(|next| next.round == 1));
	}

	/// The hook with nothing due.
	#[benchmark]
	fn on_initialize_idle() {
		let now = frame_system::Pallet::<T>::block_number();

		#[block]
		{
			Pallet::<T>::on_initialize(now);
		}
	}

	/// The hook passing `n` queue entries of rounds that ended early.
	#[benchmark]
	fn skip_stale(n: Linear<0, { T::MaxTalliesPerBlock::get() }>) {
		let executors = committee::<T>(1);
		let mut deadline = frame_system::Pallet::<T>::block_number();
		for _ in 0..n {
			let job = T::BenchmarkHelper::open_job(executors.clone(), tolerance(), 3);
			deadline = Rounds::<T>::get(job).expect("an open round").reveal_until;
			<Pallet<T> as JobVerifier<T::AccountId>>::close(job);
		}
		let after = deadline + One::one();
		frame_system::Pallet::<T>::set_block_number(after);

		#[block]
		{
			Pallet::<T>::on_initialize(after);
		}
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
