//! Weights of `pallet-validator-staking`: placeholder until `scripts/benchmark-weights.sh` runs.

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::ParityDbWeight, Weight},
};

/// The weight functions of `pallet-validator-staking`.
pub trait WeightInfo {
	fn bond() -> Weight;
	fn bond_extra() -> Weight;
	fn unbond() -> Weight;
	fn rebond() -> Weight;
	fn withdraw_unbonded() -> Weight;
	fn validate() -> Weight;
	fn chill() -> Weight;
	fn set_params() -> Weight;
	fn force_chill() -> Weight;
	fn force_new_session() -> Weight;
	fn new_session(c: u32) -> Weight;
}

/// Weights with the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn bond() -> Weight {
		Weight::from_parts(2_000_000_000, 5_000)
			.saturating_add(T::DbWeight::get().reads_writes(3, 3))
	}
	fn bond_extra() -> Weight {
		Weight::from_parts(2_000_000_000, 5_000)
			.saturating_add(T::DbWeight::get().reads_writes(3, 3))
	}
	fn unbond() -> Weight {
		Weight::from_parts(2_000_000_000, 5_000)
			.saturating_add(T::DbWeight::get().reads_writes(3, 1))
	}
	fn rebond() -> Weight {
		Weight::from_parts(2_000_000_000, 5_000)
			.saturating_add(T::DbWeight::get().reads_writes(1, 1))
	}
	fn withdraw_unbonded() -> Weight {
		Weight::from_parts(2_000_000_000, 5_000)
			.saturating_add(T::DbWeight::get().reads_writes(3, 3))
	}
	fn validate() -> Weight {
		Weight::from_parts(2_000_000_000, 5_000)
			.saturating_add(T::DbWeight::get().reads_writes(5, 2))
	}
	fn chill() -> Weight {
		Weight::from_parts(2_000_000_000, 5_000)
			.saturating_add(T::DbWeight::get().reads_writes(2, 2))
	}
	fn set_params() -> Weight {
		Weight::from_parts(1_000_000_000, 0).saturating_add(T::DbWeight::get().writes(1))
	}
	fn force_chill() -> Weight {
		Weight::from_parts(2_000_000_000, 5_000)
			.saturating_add(T::DbWeight::get().reads_writes(2, 2))
	}
	fn force_new_session() -> Weight {
		Weight::from_parts(1_000_000_000, 0).saturating_add(T::DbWeight::get().writes(1))
	}
	fn new_session(c: u32) -> Weight {
		Weight::from_parts(2_000_000_000, 5_000)
			.saturating_add(Weight::from_parts(100_000_000, 3_000).saturating_mul(c.into()))
			.saturating_add(T::DbWeight::get().reads(3))
			.saturating_add(T::DbWeight::get().reads((2_u64).saturating_mul(c.into())))
	}
}

impl WeightInfo for () {
	fn bond() -> Weight {
		Weight::from_parts(2_000_000_000, 5_000)
			.saturating_add(ParityDbWeight::get().reads_writes(3, 3))
	}
	fn bond_extra() -> Weight {
		Weight::from_parts(2_000_000_000, 5_000)
			.saturating_add(ParityDbWeight::get().reads_writes(3, 3))
	}
	fn unbond() -> Weight {
		Weight::from_parts(2_000_000_000, 5_000)
			.saturating_add(ParityDbWeight::get().reads_writes(3, 1))
	}
	fn rebond() -> Weight {
		Weight::from_parts(2_000_000_000, 5_000)
			.saturating_add(ParityDbWeight::get().reads_writes(1, 1))
	}
	fn withdraw_unbonded() -> Weight {
		Weight::from_parts(2_000_000_000, 5_000)
			.saturating_add(ParityDbWeight::get().reads_writes(3, 3))
	}
	fn validate() -> Weight {
		Weight::from_parts(2_000_000_000, 5_000)
			.saturating_add(ParityDbWeight::get().reads_writes(5, 2))
	}
	fn chill() -> Weight {
		Weight::from_parts(2_000_000_000, 5_000)
			.saturating_add(ParityDbWeight::get().reads_writes(2, 2))
	}
	fn set_params() -> Weight {
		Weight::from_parts(1_000_000_000, 0).saturating_add(ParityDbWeight::get().writes(1))
	}
	fn force_chill() -> Weight {
		Weight::from_parts(2_000_000_000, 5_000)
			.saturating_add(ParityDbWeight::get().reads_writes(2, 2))
	}
	fn force_new_session() -> Weight {
		Weight::from_parts(1_000_000_000, 0).saturating_add(ParityDbWeight::get().writes(1))
	}
	fn new_session(c: u32) -> Weight {
		Weight::from_parts(2_000_000_000, 5_000)
			.saturating_add(Weight::from_parts(100_000_000, 3_000).saturating_mul(c.into()))
			.saturating_add(ParityDbWeight::get().reads(3))
			.saturating_add(ParityDbWeight::get().reads((2_u64).saturating_mul(c.into())))
	}
}
