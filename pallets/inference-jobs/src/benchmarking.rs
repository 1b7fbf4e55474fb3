//! Benchmarks of the inference jobs pallet.

// Benchmarks set up their state with plain arithmetic and unwraps: a panic fails the benchmark.
#![allow(
	clippy::arithmetic_side_effects,
	clippy::indexing_slicing,
	clippy::unwrap_used,
	clippy::expect_used
)]

use frame_benchmarking::v2::*;
use frame_support::traits::{
	fungible::{Inspect, Mutate},
	Hooks,
};
use frame_system::RawOrigin;
use gateless_primitives::job::{InputTensors, JobInput, JobStatus, TensorData};
use gateless_primitives::model::DType;
use sp_runtime::traits::{Bounded, Saturating};

use crate::*;

/// Staked validators and an active model taking `[1, values]` f32 inputs; returns the model.
fn setup<T: Config>(validators: u32, values: u32) -> gateless_primitives::model::ModelId {
	let bond = T::Currency::minimum_balance().saturating_mul(1_000_000u32.into());
	let accounts = (0..validators).map(|i| account("validator", i, 0)).collect();
	T::BenchmarkHelper::staked_validators(accounts, bond);
	T::BenchmarkHelper::active_model(account("owner", 0, 0), values, T::Currency::minimum_balance())
}

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	T::Currency::set_balance(
		&who,
		T::Currency::minimum_balance().saturating_mul(1_000_000_000u32.into()),
	);
	who
}

/// One `[1, values]` f32 input, inline (`values × 4` at most `MaxInlineBytes`).
fn input(values: u32) -> InputTensors {
	let tensor = JobInput {
		dtype: DType::F32,
		shape: alloc::vec![1, values].try_into().expect("rank 2"),
		data: TensorData::Inline(
			alloc::vec![0u8; values as usize * 4]
				.try_into()
				.expect("within MAX_INLINE_BYTES"),
		),
	};
	InputTensors::new(alloc::vec![tensor]).expect("within MAX_INLINE_BYTES")
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// A job with `b` input bytes, checking that `MaxReplicas` of `v` validators are free.
	#[benchmark]
	fn submit_job(
		b: Linear<4, { T::MaxInlineBytes::get() }>,
		v: Linear<{ T::MaxReplicas::get() }, { T::MaxValidators::get() }>,
	) {
		let values = (b / 4).max(1);
		let model = setup::<T>(v, values);
		let user = funded::<T>("user", 0);
		let replicas = T::MaxReplicas::get();

		#[extrinsic_call]
		_(
			RawOrigin::Signed(user),
			model,
			input(values),
			Some(replicas),
			BalanceOf::<T>::max_value(),
		);

		assert_eq!(NextJobId::<T>::get(), 1);
	}

	#[benchmark]
	fn cancel_job() {
		let model = setup::<T>(T::MaxReplicas::get(), 1);
		let user = funded::<T>("user", 0);
		Pallet::<T>::submit_job(
			RawOrigin::Signed(user.clone()).into(),
			model,
			input(1),
			Some(T::MaxReplicas::get()),
			BalanceOf::<T>::max_value(),
		)
		.expect("a valid job");
		// The dearer cancel: of a drawn job, whose executors are paid.
		Pallet::<T>::assign_committee(0, None);

		#[extrinsic_call]
		_(RawOrigin::Signed(user), 0);

		assert_eq!(Jobs::<T>::get(0).map(|job| job.status), Some(JobStatus::Cancelled));
	}

	/// `e` running jobs expire and `p` ended jobs are pruned in one block.
	#[benchmark]
	fn on_initialize(
		e: Linear<0, { T::MaxJobsPerBlock::get() }>,
		p: Linear<0, { T::MaxJobsPerBlock::get() }>,
	) {
		let model = setup::<T>(T::MaxReplicas::get(), 1);
		let user = funded::<T>("user", 0);
		let submit = |count: u32| {
			for _ in 0..count {
				Pallet::<T>::submit_job(
					RawOrigin::Signed(user.clone()).into(),
					model,
					input(1),
					Some(1),
					BalanceOf::<T>::max_value(),
				)
				.expect("a valid job");
			}
		};
		// `p` jobs submitted and cancelled at block 1, `e` jobs submitted at block 1 + retention.
		let start = frame_system::Pallet::<T>::block_number();
		submit(p);
		for job in 0..u64::from(p) {
			Pallet::<T>::cancel_job(RawOrigin::Signed(user.clone()).into(), job)
				.expect("no commitment yet");
		}
		AwaitingDraw::<T>::kill();
		let later = start.saturating_add(T::ResultRetention::get());
		frame_system::Pallet::<T>::set_block_number(later);
		submit(e);
		// Drawn, as the next block would: expiring a running job frees its committee.
		for job in AwaitingDraw::<T>::take() {
			Pallet::<T>::assign_committee(job, None);
		}
		// The block where the first batch's retention ends and the second batch expires.
		let due = later.saturating_add(T::JobTtl::get());
		// Move the expiry cursor past the cancelled jobs, as the blocks in between would have.
		ExpiryCursor::<T>::put(u64::from(p));
		frame_system::Pallet::<T>::set_block_number(due);

		#[block]
		{
			Pallet::<T>::on_initialize(due);
		}

		assert_eq!(PruneCursor::<T>::get(), u64::from(p));
		assert_eq!(ExpiryCursor::<T>::get(), u64::from(p + e));
		for job in u64::from(p)..u64::from(p + e) {
			assert_eq!(Jobs::<T>::get(job).map(|job| job.status), Some(JobStatus::Expired));
		}
	}

	/// The draw of a job's committee of `MaxReplicas` among `v` validators, the block after its
	/// submission: its data fee burnt, its round opened.
	#[benchmark]
	fn assign_committee(v: Linear<{ T::MaxReplicas::get() }, { T::MaxValidators::get() }>) {
		let values = T::MaxInlineBytes::get() / 4;
		let model = setup::<T>(v, values);
		let user = funded::<T>("user", 0);
		Pallet::<T>::submit_job(
			RawOrigin::Signed(user).into(),
			model,
			input(values),
			Some(T::MaxReplicas::get()),
			BalanceOf::<T>::max_value(),
		)
		.expect("a valid job");

		#[block]
		{
			Pallet::<T>::assign_committee(0, None);
		}

		assert_eq!(Jobs::<T>::get(0).map(|job| job.status), Some(JobStatus::Running { round: 0 }));
	}

	impl_benchmark_test_suite!(
		Pallet,
		crate::mock::ExtBuilder::default().build(),
		crate::mock::Test
	);
}
