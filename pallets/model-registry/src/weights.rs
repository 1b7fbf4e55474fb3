//! Weights of `pallet-model-registry`: placeholder until the benchmarks run.

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, Weight},
};

/// Weight functions needed for `pallet-model-registry`.
pub trait WeightInfo {
	fn register_model(b: u32, d: u32) -> Weight;
	fn attest_model() -> Weight;
	fn update_model() -> Weight;
	fn transfer_ownership() -> Weight;
	fn deprecate() -> Weight;
	fn remove() -> Weight;
	fn force_reject() -> Weight;
	fn ban_model() -> Weight;
	fn set_params() -> Weight;
}

/// Weights for `pallet-model-registry` using the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn register_model(b: u32, d: u32) -> Weight {
		Weight::from_parts(50_000_000, 4_000)
			.saturating_add(Weight::from_parts(2_000, 1).saturating_mul(b.into()))
			.saturating_add(Weight::from_parts(2_000, 1).saturating_mul(d.into()))
			.saturating_add(T::DbWeight::get().reads_writes(6, 7))
	}
	fn attest_model() -> Weight {
		Weight::from_parts(50_000_000, 8_000).saturating_add(T::DbWeight::get().reads_writes(5, 5))
	}
	fn update_model() -> Weight {
		Weight::from_parts(40_000_000, 4_000).saturating_add(T::DbWeight::get().reads_writes(4, 3))
	}
	fn transfer_ownership() -> Weight {
		Weight::from_parts(60_000_000, 6_000).saturating_add(T::DbWeight::get().reads_writes(8, 10))
	}
	fn deprecate() -> Weight {
		Weight::from_parts(20_000_000, 4_000).saturating_add(T::DbWeight::get().reads_writes(1, 1))
	}
	fn remove() -> Weight {
		Weight::from_parts(50_000_000, 4_000).saturating_add(T::DbWeight::get().reads_writes(4, 9))
	}
	fn force_reject() -> Weight {
		Weight::from_parts(50_000_000, 4_000).saturating_add(T::DbWeight::get().reads_writes(4, 5))
	}
	fn ban_model() -> Weight {
		Weight::from_parts(50_000_000, 4_000).saturating_add(T::DbWeight::get().reads_writes(3, 6))
	}
	fn set_params() -> Weight {
		Weight::from_parts(10_000_000, 0).saturating_add(T::DbWeight::get().writes(1))
	}
}

// For tests.
impl WeightInfo for () {
	fn register_model(b: u32, d: u32) -> Weight {
		Weight::from_parts(50_000_000, 4_000)
			.saturating_add(Weight::from_parts(2_000, 1).saturating_mul(b.into()))
			.saturating_add(Weight::from_parts(2_000, 1).saturating_mul(d.into()))
			.saturating_add(RocksDbWeight::get().reads_writes(6, 7))
	}
	fn attest_model() -> Weight {
		Weight::from_parts(50_000_000, 8_000)
			.saturating_add(RocksDbWeight::get().reads_writes(5, 5))
	}
	fn update_model() -> Weight {
		Weight::from_parts(40_000_000, 4_000)
			.saturating_add(RocksDbWeight::get().reads_writes(4, 3))
	}
	fn transfer_ownership() -> Weight {
		Weight::from_parts(60_000_000, 6_000)
			.saturating_add(RocksDbWeight::get().reads_writes(8, 10))
	}
	fn deprecate() -> Weight {
		Weight::from_parts(20_000_000, 4_000)
			.saturating_add(RocksDbWeight::get().reads_writes(1, 1))
	}
	fn remove() -> Weight {
		Weight::from_parts(50_000_000, 4_000)
			.saturating_add(RocksDbWeight::get().reads_writes(4, 9))
	}
	fn force_reject() -> Weight {
		Weight::from_parts(50_000_000, 4_000)
			.saturating_add(RocksDbWeight::get().reads_writes(4, 5))
	}
	fn ban_model() -> Weight {
		Weight::from_parts(50_000_000, 4_000)
			.saturating_add(RocksDbWeight::get().reads_writes(3, 6))
	}
	fn set_params() -> Weight {
		Weight::from_parts(10_000_000, 0).saturating_add(RocksDbWeight::get().writes(1))
	}
}
