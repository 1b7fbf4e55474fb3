//! Weights of `pallet_result_verification`. Provisional hand estimates until
//! `scripts/benchmark-weights.sh pallet_result_verification` generates them from the benchmarks.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use frame_support::{traits::Get, weights::{Weight, constants::ParityDbWeight}};
use core::marker::PhantomData;

/// The weight functions of `pallet_result_verification`.
pub trait WeightInfo {
	fn authorize_commit() -> Weight;
	fn authorize_reveal(b: u32, ) -> Weight;
	fn commit() -> Weight;
	fn reveal(b: u32, ) -> Weight;
	fn tally(c: u32, b: u32, ) -> Weight;
	fn on_initialize_idle() -> Weight;
	fn skip_stale(n: u32, ) -> Weight;
}

/// Weights measured for `pallet_result_verification`, with the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn authorize_commit() -> Weight {
		Weight::from_parts(150_000_000, 20_000)
			.saturating_add(T::DbWeight::get().reads(4_u64))
	}
	fn authorize_reveal(b: u32, ) -> Weight {
		Weight::from_parts(200_000_000, 20_000)
			.saturating_add(Weight::from_parts(20_000, 1).saturating_mul(b.into()))
			.saturating_add(T::DbWeight::get().reads(5_u64))
	}
	fn commit() -> Weight {
		Weight::from_parts(160_000_000, 20_000)
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	fn reveal(b: u32, ) -> Weight {
		Weight::from_parts(210_000_000, 20_000)
			.saturating_add(Weight::from_parts(20_000, 1).saturating_mul(b.into()))
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	fn tally(c: u32, b: u32, ) -> Weight {
		Weight::from_parts(100_000_000, 20_000)
			.saturating_add(Weight::from_parts(30_000_000, 17_000).saturating_mul(c.into()))
			.saturating_add(Weight::from_parts(1_000, 1).saturating_mul(b.saturating_mul(c).into()))
			.saturating_add(T::DbWeight::get().reads(10_u64))
			.saturating_add(T::DbWeight::get().reads((4_u64).saturating_mul(c.into())))
			.saturating_add(T::DbWeight::get().writes(10_u64))
			.saturating_add(T::DbWeight::get().writes((4_u64).saturating_mul(c.into())))
	}
	fn on_initialize_idle() -> Weight {
		Weight::from_parts(5_000_000, 1_000)
			.saturating_add(T::DbWeight::get().reads(2_u64))
	}
	fn skip_stale(n: u32, ) -> Weight {
		Weight::from_parts(5_000_000, 1_000).saturating_mul(n.into())
			.saturating_add(T::DbWeight::get().reads((2_u64).saturating_mul(n.into())))
			.saturating_add(T::DbWeight::get().writes((1_u64).saturating_mul(n.into())))
	}
}

/// The same weights with ParityDB's database weights, for tests.
impl WeightInfo for () {
	fn authorize_commit() -> Weight {
		Weight::from_parts(150_000_000, 20_000)
			.saturating_add(ParityDbWeight::get().reads(4_u64))
	}
	fn authorize_reveal(b: u32, ) -> Weight {
		Weight::from_parts(200_000_000, 20_000)
			.saturating_add(Weight::from_parts(20_000, 1).saturating_mul(b.into()))
			.saturating_add(ParityDbWeight::get().reads(5_u64))
	}
	fn commit() -> Weight {
		Weight::from_parts(160_000_000, 20_000)
			.saturating_add(ParityDbWeight::get().reads(4_u64))
			.saturating_add(ParityDbWeight::get().writes(2_u64))
	}
	fn reveal(b: u32, ) -> Weight {
		Weight::from_parts(210_000_000, 20_000)
			.saturating_add(Weight::from_parts(20_000, 1).saturating_mul(b.into()))
			.saturating_add(ParityDbWeight::get().reads(5_u64))
			.saturating_add(ParityDbWeight::get().writes(2_u64))
	}
	fn tally(c: u32, b: u32, ) -> Weight {
		Weight::from_parts(100_000_000, 20_000)
			.saturating_add(Weight::from_parts(30_000_000, 17_000).saturating_mul(c.into()))
			.saturating_add(Weight::from_parts(1_000, 1).saturating_mul(b.saturating_mul(c).into()))
			.saturating_add(ParityDbWeight::get().reads(10_u64))
			.saturating_add(ParityDbWeight::get().reads((4_u64).saturating_mul(c.into())))
			.saturating_add(ParityDbWeight::get().writes(10_u64))
			.saturating_add(ParityDbWeight::get().writes((4_u64).saturating_mul(c.into())))
	}
	fn on_initialize_idle() -> Weight {
		Weight::from_parts(5_000_000, 1_000)
			.saturating_add(ParityDbWeight::get().reads(2_u64))
	}
	fn skip_stale(n: u32, ) -> Weight {
		Weight::from_parts(5_000_000, 1_000).saturating_mul(n.into())
			.saturating_add(ParityDbWeight::get().reads((2_u64).saturating_mul(n.into())))
			.saturating_add(ParityDbWeight::get().writes((1_u64).saturating_mul(n.into())))
	}
}
