//! Benchmarks of the validator staking pallet, each in its worst case.

// Benchmarks set up their state with plain arithmetic and unwraps: a panic fails the benchmark.
#![allow(
	clippy::arithmetic_side_effects,
	clippy::indexing_slicing,
	clippy::unwrap_used,
	clippy::expect_used
)]

use super::*;
use frame_benchmarking::v2::*;
use frame_support::traits::fungible::Mutate;
use frame_system::RawOrigin;
use pallet_session::SessionManager;

/// A bond comfortably above the minimum.
fn bond_amount<T: Config>() -> BalanceOf<T> {
	Params::<T>::get()
		.min_validator_bond
		.max(T::Currency::minimum_balance())
		.saturating_mul(10u32.into())
}

/// `who` with free funds for several bonds.
fn funded<T: Config>(who: &T::AccountId) {
	let amount = T::Currency::minimum_balance()
		.saturating_add(bond_amount::<T>().saturating_mul(10u32.into()));
	T::Currency::set_balance(who, amount);
}

/// `who`, funded and bonded.
fn bonded<T: Config>(who: &T::AccountId) {
	funded::<T>(who);
	assert!(Pallet::<T>::bond(RawOrigin::Signed(who.clone()).into(), bond_amount::<T>()).is_ok());
}

/// `who`, bonded, with session keys, a candidate.
fn candidate<T: Config>(who: &T::AccountId) {
	bonded::<T>(who);
	T::Session::set_keys_for_benchmarks(who);
	assert!(Pallet::<T>::validate(RawOrigin::Signed(who.clone()).into()).is_ok());
}

/// Fills the unlocking chunks but one, each unlocking at a later block.
fn unlocking_chunks<T: Config>(who: &T::AccountId) {
	let mut ledger = Ledgers::<T>::get(who).expect("bonded");
	let one: BalanceOf<T> = 1u32.into();
	for i in 0..T::MaxUnlockingChunks::get().saturating_sub(1) {
		let unlocks_at = frame_system::Pallet::<T>::block_number()
			.saturating_add(T::UnbondingPeriod::get())
			// Far enough ahead not to share a chunk with an unbond a few blocks later.
			.saturating_add(i.saturating_add(100).into());
		ledger.active = ledger.active.saturating_sub(one);
		let pushed = ledger.unlocking.try_push(UnlockChunk { value: one, unlocks_at });
		assert!(pushed.is_ok());
	}
	Ledgers::<T>::insert(who, ledger);
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn bond() {
		let caller: T::AccountId = whitelisted_caller();
		funded::<T>(&caller);
		let amount = bond_amount::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), amount);

		assert_eq!(Ledgers::<T>::get(&caller).map(|l| l.active), Some(amount));
	}

	#[benchmark]
	fn bond_extra() {
		let caller: T::AccountId = whitelisted_caller();
		bonded::<T>(&caller);
		let amount = bond_amount::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), amount);

		assert_eq!(
			Ledgers::<T>::get(&caller).map(|l| l.active),
			Some(amount.saturating_mul(2u32.into()))
		);
	}

	/// A candidate, with all chunks but one in use, adding a new chunk.
	#[benchmark]
	fn unbond() {
		let caller: T::AccountId = whitelisted_caller();
		candidate::<T>(&caller);
		unlocking_chunks::<T>(&caller);
		let one: BalanceOf<T> = 1u32.into();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), one);

		let chunks = Ledgers::<T>::get(&caller).map(|l| l.unlocking.len() as u32);
		assert_eq!(chunks, Some(T::MaxUnlockingChunks::get()));
	}

	/// Rebonding more than is unlocking, through every chunk.
	#[benchmark]
	fn rebond() {
		let caller: T::AccountId = whitelisted_caller();
		bonded::<T>(&caller);
		unlocking_chunks::<T>(&caller);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), bond_amount::<T>());

		assert_eq!(Ledgers::<T>::get(&caller).map(|l| l.unlocking.len()), Some(0));
	}

	/// Every chunk unlocked and the ledger emptied.
	#[benchmark]
	fn withdraw_unbonded() {
		let caller: T::AccountId = whitelisted_caller();
		bonded::<T>(&caller);
		assert!(Pallet::<T>::unbond(RawOrigin::Signed(caller.clone()).into(), bond_amount::<T>())
			.is_ok());
		let later = frame_system::Pallet::<T>::block_number()
			.saturating_add(T::UnbondingPeriod::get())
			.saturating_add(10u32.into());
		frame_system::Pallet::<T>::set_block_number(later);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()));

		assert!(!Ledgers::<T>::contains_key(&caller));
	}

	#[benchmark]
	fn validate() {
		let caller: T::AccountId = whitelisted_caller();
		bonded::<T>(&caller);
		T::Session::set_keys_for_benchmarks(&caller);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()));

		assert!(Candidates::<T>::contains_key(&caller));
	}

	#[benchmark]
	fn chill() {
		let caller: T::AccountId = whitelisted_caller();
		candidate::<T>(&caller);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()));

		assert!(!Candidates::<T>::contains_key(&caller));
	}

	#[benchmark]
	fn set_params() -> Result<(), BenchmarkError> {
		let mut params = Params::<T>::get();
		params.max_offences_per_session = params.max_offences_per_session.saturating_add(1);
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, params);

		assert_eq!(Params::<T>::get(), params);
		Ok(())
	}

	#[benchmark]
	fn force_chill() -> Result<(), BenchmarkError> {
		let who: T::AccountId = account("candidate", 0, 0);
		candidate::<T>(&who);
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone());

		assert!(!Candidates::<T>::contains_key(&who));
		Ok(())
	}

	#[benchmark]
	fn force_new_session() -> Result<(), BenchmarkError> {
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		// Where consensus ends sessions the call fails at once: the weight of its success is
		// still the bound.
		if !T::EndsSessions::get() {
			return Err(BenchmarkError::Override(
				frame_benchmarking::BenchmarkResult::from_weight(T::WeightInfo::force_new_session()),
			));
		}

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin);

		assert!(ForceNewSession::<T>::get());
		Ok(())
	}

	/// Planning a session with `c` more candidates (on top of any from genesis) to sort.
	#[benchmark]
	fn new_session(c: Linear<1, { T::MaxCandidates::get() / 2 }>) {
		for i in 0..c {
			candidate::<T>(&account("candidate", i, 0));
		}
		let mut params = Params::<T>::get();
		params.min_validators = 1;
		Params::<T>::put(params);
		let planned;

		#[block]
		{
			planned = <Pallet<T> as SessionManager<T::AccountId>>::new_session(1);
		}

		assert!(planned.is_some_and(|set| !set.is_empty()));
	}

	/// One offender of the current session, an active validator whose bond is spread over every
	/// unlocking chunk, slashed for the first time in the session.
	#[benchmark]
	fn on_offence() {
		use sp_staking::offence::{OffenceDetails, OnOffenceHandler};
		let who: T::AccountId = account("offender", 0, 0);
		candidate::<T>(&who);
		unlocking_chunks::<T>(&who);
		ActiveValidators::<T>::put(BoundedVec::truncate_from(alloc::vec![who.clone()]));
		let offenders = [OffenceDetails { offender: (who.clone(), ()), reporters: alloc::vec![] }];
		let session = T::Session::current_index();

		#[block]
		{
			<Pallet<T> as OnOffenceHandler<T::AccountId, (T::AccountId, ()), Weight>>::on_offence(
				&offenders,
				&[T::MaxOffenceSlash::get()],
				session,
			);
		}

		assert_eq!(OffenceSlashes::<T>::get(session, &who), T::MaxOffenceSlash::get());
		assert!(!Candidates::<T>::contains_key(&who));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::ExtBuilder.build(), crate::mock::Test);
}
