//! The pallets whose benchmarks `gateless-node benchmark pallet` runs (built with
//! `--features runtime-benchmarks`), and so whose `weights.rs` it can generate.

frame_benchmarking::define_benchmarks!(
	[pallet_balances, Balances]
	[pallet_timestamp, Timestamp]
	[pallet_model_registry, ModelRegistry]
	[pallet_validator_staking, Staking]
	[pallet_inference_jobs, InferenceJobs]
	[pallet_result_verification, Verification]
);
