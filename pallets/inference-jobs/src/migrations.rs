//! Storage migrations of the inference jobs pallet.

use frame_support::{
	traits::{Get, OnRuntimeUpgrade},
	weights::Weight,
};

use crate::{Config, ModelStatistics, RunningJobsOfModel};

/// Spec 120: each model's [`ModelStatistics`] are counted from the upgrade on. The jobs running
/// then will end under the new code and be counted as ended: count them as submitted, so that a
/// model's jobs submitted less those ended stay its running jobs. Does nothing for a model that
/// has statistics already, so it may run again.
pub struct CountRunningJobs<T>(core::marker::PhantomData<T>);

impl<T: Config> OnRuntimeUpgrade for CountRunningJobs<T> {
	fn on_runtime_upgrade() -> Weight {
		let mut models = 0u64;
		for (model, running) in RunningJobsOfModel::<T>::iter() {
			models = models.saturating_add(1);
			if !ModelStatistics::<T>::contains_key(model) {
				ModelStatistics::<T>::mutate(model, |stats| stats.submitted = running);
			}
		}
		T::DbWeight::get().reads_writes(models.saturating_mul(2).saturating_add(1), models)
	}
}
