//! Storage migrations of the staking pallet.

use frame_support::{
	traits::{Get, OnRuntimeUpgrade},
	weights::Weight,
};

use crate::{Config, Pallet, SessionStakes};

/// Spec 118: the executor draw weighs validators by [`SessionStakes`], a snapshot taken as each
/// session starts. A chain upgraded mid-session has none until the next session: take it now,
/// from the live bonds. Does nothing where a snapshot exists, so it may run again.
pub struct SnapshotSessionStakes<T>(core::marker::PhantomData<T>);

impl<T: Config> OnRuntimeUpgrade for SnapshotSessionStakes<T> {
	fn on_runtime_upgrade() -> Weight {
		let db = T::DbWeight::get();
		if SessionStakes::<T>::exists() {
			return db.reads(1);
		}
		Pallet::<T>::snapshot_session_stakes();
		let validators = crate::ActiveValidators::<T>::decode_len().unwrap_or(0) as u64;
		db.reads_writes(validators.saturating_add(2), 1)
	}
}
