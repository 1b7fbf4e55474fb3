//! Storage migrations of the model registry.

/// Version 1: a verdict that a model loads carries the validator's estimate of its compute.
pub mod v1 {
	use codec::Decode;
	use frame_support::{
		migrations::VersionedMigration, pallet_prelude::*, traits::UncheckedOnRuntimeUpgrade,
	};
	use gateless_primitives::model::{AttestationFailure, ComputeCost, Verdict};

	use crate::{Attestations, Config, Pallet};

	/// A verdict as version 0 stored it.
	#[derive(Decode)]
	enum VerdictV0 {
		Loads,
		Fails(AttestationFailure),
	}

	/// Rewrites the attestations of pending models: a `Loads` of version 0 carries no estimate
	/// and becomes a zero one (a model activated by such attestations pays the fee's floor).
	pub struct VerdictsCarryCompute<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for VerdictsCarryCompute<T> {
		fn on_runtime_upgrade() -> Weight {
			let mut translated = 0u64;
			Attestations::<T>::translate::<
				BoundedVec<(T::AccountId, VerdictV0), T::MaxAttestations>,
				_,
			>(|_, old| {
				translated = translated.saturating_add(1);
				let new: alloc::vec::Vec<_> = old
					.into_iter()
					.map(|(validator, verdict)| {
						let verdict = match verdict {
							VerdictV0::Loads => Verdict::Loads(ComputeCost::default()),
							VerdictV0::Fails(failure) => Verdict::Fails(failure),
						};
						(validator, verdict)
					})
					.collect();
				// Same length as before, within the same bound.
				BoundedVec::try_from(new).ok()
			});
			T::DbWeight::get().reads_writes(translated, translated)
		}
	}

	/// [`VerdictsCarryCompute`], run once, from storage version 0 to 1.
	pub type MigrateV0ToV1<T> = VersionedMigration<
		0,
		1,
		VerdictsCarryCompute<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;

	#[cfg(test)]
	mod tests {
		use codec::Encode;
		use frame_support::traits::OnRuntimeUpgrade;

		use super::*;
		use crate::mock::{ExtBuilder, Test};

		#[test]
		fn version_0_verdicts_are_rewritten_with_a_zero_estimate() {
			ExtBuilder::default().build().execute_with(|| {
				StorageVersion::new(0).put::<Pallet<Test>>();
				// Version 0's encoding: `Loads` is variant 0 alone, `Fails` variant 1 and its reason.
				let old = [(1u64, 0u8).encode(), (2u64, 1u8, 2u8).encode()].concat();
				let stored = [codec::Compact(2u32).encode(), old].concat();
				let key = Attestations::<Test>::hashed_key_for(7);
				frame_support::storage::unhashed::put_raw(&key, &stored);
				MigrateV0ToV1::<Test>::on_runtime_upgrade();
				assert_eq!(
					Attestations::<Test>::get(7).into_inner(),
					vec![
						(1, Verdict::Loads(ComputeCost::default())),
						(2, Verdict::Fails(AttestationFailure::HashMismatch)),
					]
				);
				assert_eq!(StorageVersion::get::<Pallet<Test>>(), 1);
			});
		}
	}
}

/// Version 2: every pending model has an entry in `Attestations` from its registration on (none
/// before its first attestation in version 1), so that its keys index the pending models.
pub mod v2 {
	use frame_support::{
		migrations::VersionedMigration, pallet_prelude::*, traits::UncheckedOnRuntimeUpgrade,
	};
	use gateless_primitives::model::ModelStatus;

	use crate::{Attestations, Config, Models, Pallet};

	/// Gives each pending model not attested yet an empty entry in `Attestations`. It reads every
	/// model once: a few thousand on a young chain, far within a block.
	pub struct IndexPendingModels<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for IndexPendingModels<T> {
		fn on_runtime_upgrade() -> Weight {
			let (mut read, mut written) = (0u64, 0u64);
			for (model, info) in Models::<T>::iter() {
				read = read.saturating_add(2);
				if info.status == ModelStatus::Pending && !Attestations::<T>::contains_key(model) {
					Attestations::<T>::insert(model, BoundedVec::default());
					written = written.saturating_add(1);
				}
			}
			T::DbWeight::get().reads_writes(read, written)
		}
	}

	/// [`IndexPendingModels`], run once, from storage version 1 to 2.
	pub type MigrateV1ToV2<T> = VersionedMigration<
		1,
		2,
		IndexPendingModels<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;

	#[cfg(test)]
	mod tests {
		use frame_support::traits::OnRuntimeUpgrade;

		use super::*;
		use crate::{
			mock::{ExtBuilder, Test},
			Pallet as ModelRegistry,
		};

		#[test]
		fn pending_models_get_an_attestations_entry() {
			ExtBuilder::default().build().execute_with(|| {
				let owner = crate::mock::ALICE;
				frame_support::assert_ok!(crate::mock::Registration::inline(1, 100).register(owner));
				frame_support::assert_ok!(crate::mock::Registration::inline(2, 100)
					.named("second", "1.0.0")
					.register(owner));
				// Version 1 had no entry before the first attestation.
				Attestations::<Test>::remove(0);
				StorageVersion::new(1).put::<Pallet<Test>>();
				assert!(!ModelRegistry::<Test>::is_pending(0));
				MigrateV1ToV2::<Test>::on_runtime_upgrade();
				assert!(ModelRegistry::<Test>::is_pending(0));
				assert!(ModelRegistry::<Test>::is_pending(1));
				assert_eq!(StorageVersion::get::<Pallet<Test>>(), 2);
			});
		}
	}
}
