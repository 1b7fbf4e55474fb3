//! The Gateless pallets: the model registry (and, as they land, inference jobs and verification).

use frame_support::{parameter_types, traits::ConstU32};
use frame_system::EnsureRoot;
use sp_runtime::Perbill;

use crate::{
	configs::MAX_AUTHORITIES, token, AccountId, Balance, Balances, Runtime, RuntimeHoldReason,
};

/// The most ONNX bytes a model may keep on chain: 256 KiB, enough for small real classifiers
/// (MNIST-size), small next to the 3.75 MiB a normal-class transaction may carry.
pub const MAX_INLINE_MODEL_BYTES: u32 = 256 * 1024;

parameter_types! {
	/// Until the admin sets others: two thirds of the active set decide a model; a model of up to
	/// 256 MiB may be registered behind URIs; the deposit is 1 GATE plus 10 micro-GATE per byte
	/// stored on chain (a full 256 KiB inline model holds about 3.6 GATE); a rejected model loses
	/// a tenth of its deposit.
	pub DefaultRegistryParams: pallet_model_registry::RegistryParams<Balance> =
		pallet_model_registry::RegistryParams {
			attestation_quorum: Perbill::from_rational(2u32, 3),
			max_inline_bytes: MAX_INLINE_MODEL_BYTES,
			max_model_bytes: 256 * 1024 * 1024,
			deposit_base: token::UNIT,
			deposit_per_byte: 10 * token::MICRO_UNIT,
			rejection_penalty: Perbill::from_percent(10),
		};
}

impl pallet_model_registry::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	/// The validators of the current session, chosen by stake.
	type ValidatorSet = crate::Staking;
	/// No jobs pallet yet: no model is in use.
	type ModelUsage = ();
	/// Root (through sudo) until on-chain governance lands.
	type AdminOrigin = EnsureRoot<AccountId>;
	/// Penalties are burnt.
	type OnPenalty = ();
	type MaxInlineModelBytes = ConstU32<MAX_INLINE_MODEL_BYTES>;
	type MaxModelsPerOwner = ConstU32<64>;
	type MaxAttestations = ConstU32<MAX_AUTHORITIES>;
	type DefaultParams = DefaultRegistryParams;
	type WeightInfo = pallet_model_registry::weights::SubstrateWeight<Runtime>;
}
