//! Weights of `pallet_inference_jobs`. Provisional hand estimates until
//! `scripts/benchmark-weights.sh pallet_inference_jobs` generates them from the benchmarks.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use frame_support::{traits::Get, weights::{Weight, constants::ParityDbWeight}};
use core::marker::PhantomData;

/// The weight functions of `pallet_inference_jobs`.
pub trait WeightInfo {
	fn submit_job(b: u32, v: u32, ) -> Weight;
	fn cancel_job() -> Weight;
	fn on_initialize(e: u32, p: u32, ) -> Weight;
}

/// Weights measured for `pallet_inference_jobs`, with the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn submit_job(b: u32, v: u32, ) -> Weight {
		Weight::from_parts(200_000_000, 70_000)
			.saturating_add(Weight::from_parts(2_000, 1).saturating_mul(b.into()))
			.saturating_add(Weight::from_parts(1_000_000, 100).saturating_mul(v.into()))
			.saturating_add(T::DbWeight::get().reads(12_u64))
			.saturating_add(T::DbWeight::get().writes(12_u64))
	}
	fn cancel_job() -> Weight {
		Weight::from_parts(150_000_000, 70_000)
			.saturating_add(T::DbWeight::get().reads(10_u64))
			.saturating_add(T::DbWeight::get().writes(10_u64))
	}
	fn on_initialize(e: u32, p: u32, ) -> Weight {
		Weight::from_parts(10_000_000, 1_000)
			.saturating_add(Weight::from_parts(150_000_000, 70_000).saturating_mul(e.into()))
			.saturating_add(Weight::from_parts(20_000_000, 70_000).saturating_mul(p.into()))
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().reads((10_u64).saturating_mul(e.into())))
			.saturating_add(T::DbWeight::get().writes((10_u64).saturating_mul(e.into())))
			.saturating_add(T::DbWeight::get().writes((3_u64).saturating_mul(p.into())))
	}
}

/// The same weights with ParityDB's database weights, for tests.
impl WeightInfo for () {
	fn submit_job(b: u32, v: u32, ) -> Weight {
		Weight::from_parts(200_000_000, 70_000)
			.saturating_add(Weight::from_parts(2_000, 1).saturating_mul(b.into()))
			.saturating_add(Weight::from_parts(1_000_000, 100).saturating_mul(v.into()))
			.saturating_add(ParityDbWeight::get().reads(12_u64))
			.saturating_add(ParityDbWeight::get().writes(12_u64))
	}
	fn cancel_job() -> Weight {
		Weight::from_parts(150_000_000, 70_000)
			.saturating_add(ParityDbWeight::get().reads(10_u64))
			.saturating_add(ParityDbWeight::get().writes(10_u64))
	}
	fn on_initialize(e: u32, p: u32, ) -> Weight {
		Weight::from_parts(10_000_000, 1_000)
			.saturating_add(Weight::from_parts(150_000_000, 70_000).saturating_mul(e.into()))
			.saturating_add(Weight::from_parts(20_000_000, 70_000).saturating_mul(p.into()))
			.saturating_add(ParityDbWeight::get().reads(4_u64))
			.saturating_add(ParityDbWeight::get().reads((10_u64).saturating_mul(e.into())))
			.saturating_add(ParityDbWeight::get().writes((10_u64).saturating_mul(e.into())))
			.saturating_add(ParityDbWeight::get().writes((3_u64).saturating_mul(p.into())))
	}
}

