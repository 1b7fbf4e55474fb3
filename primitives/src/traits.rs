//! Traits through which the Gateless pallets use each other, so that each pallet tests alone
//! against a mock and together in the runtime.

use crate::model::{ModelId, ModelInfo, ModelStatus};

/// What the jobs and verification pallets need to know about models; implemented by the model
/// registry.
pub trait ModelProvider<AccountId, Balance, BlockNumber> {
	/// The model's record (owner, hash, signature, determinism, price, status, location), if the
	/// model exists.
	fn model(model: ModelId) -> Option<ModelInfo<AccountId, Balance, BlockNumber>>;

	/// Whether new jobs may use the model.
	fn is_active(model: ModelId) -> bool {
		Self::model(model).is_some_and(|info| info.status == ModelStatus::Active)
	}
}

/// Whether jobs still reference a model, so that it cannot be removed under them; implemented by
/// the jobs pallet. `()` says no model is ever in use.
pub trait ModelUsage {
	/// Whether any job that is not yet settled references the model.
	fn is_in_use(model: ModelId) -> bool;
}

impl ModelUsage for () {
	fn is_in_use(_: ModelId) -> bool {
		false
	}
}

/// The validators that currently produce blocks and run inference; implemented by the staking
/// pallet.
pub trait ValidatorSet<AccountId> {
	/// Whether `who` is in the active set now.
	fn is_active(who: &AccountId) -> bool;

	/// How many validators the active set has now.
	fn active_count() -> u32;

	/// Makes exactly `validators` the active set, for benchmarks that need validators.
	#[cfg(feature = "runtime-benchmarks")]
	fn set_active_for_benchmarks(validators: alloc::vec::Vec<AccountId>);
}
