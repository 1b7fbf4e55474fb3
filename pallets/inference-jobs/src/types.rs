//! Types of the inference jobs pallet as this runtime stores them; the job record, result and fee
//! types themselves are in [`gateless_primitives::job`], shared with the other pallets and clients.

use codec::{Decode, DecodeWithMemTracking, Encode};
use frame_support::traits::fungible::Inspect;
use frame_system::pallet_prelude::BlockNumberFor;
use gateless_primitives::{
	job::{InputTensors, JobInfo, JobResult},
	model::ModelId,
};
use scale_info::TypeInfo;
use sp_runtime::BoundedVec;

use crate::Config;

/// The balance type of the currency fees are held in.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// Every executor of one job over all its rounds.
pub type ExecutorsOf<T> =
	BoundedVec<<T as frame_system::Config>::AccountId, <T as Config>::MaxExecutorsPerJob>;

/// A job record as this runtime stores it.
pub type JobInfoOf<T> = JobInfo<
	<T as frame_system::Config>::AccountId,
	BalanceOf<T>,
	BlockNumberFor<T>,
	ExecutorsOf<T>,
>;

/// A model's statistics as this runtime stores them.
pub type ModelStatsOf<T> = gateless_primitives::job::ModelStats<BalanceOf<T>, BlockNumberFor<T>>;

/// A verified result as this runtime stores it.
pub type JobResultOf<T> = JobResult<BalanceOf<T>, BlockNumberFor<T>, ExecutorsOf<T>>;

/// A job record with its executors as a plain list, as the runtime API returns it.
pub type JobView<T> = JobInfo<
	<T as frame_system::Config>::AccountId,
	BalanceOf<T>,
	BlockNumberFor<T>,
	alloc::vec::Vec<<T as frame_system::Config>::AccountId>,
>;

/// A verified result with its agreeing executors as a plain list, as the runtime API returns it.
pub type JobResultView<T> = JobResult<
	BalanceOf<T>,
	BlockNumberFor<T>,
	alloc::vec::Vec<<T as frame_system::Config>::AccountId>,
>;

/// One job of a [`crate::Call::submit_jobs`]: what [`crate::Call::submit_job`] takes.
#[derive(Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, Debug)]
pub struct JobRequest<Balance> {
	/// The model to run.
	pub model: ModelId,
	/// One tensor per declared input, in declared order.
	pub inputs: InputTensors,
	/// How many executors (`None`: `DefaultReplicas`).
	pub replicas: Option<u32>,
	/// The most this job may be charged.
	pub max_fee: Balance,
}
