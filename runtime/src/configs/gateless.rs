//! The Gateless pallets: the model registry (and, as they land, inference jobs and verification).

use frame_support::{parameter_types, traits::ConstU32};
use frame_system::EnsureRoot;
use gateless_primitives::traits::ValidatorSet;
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
	type ValidatorSet = AuraValidators;
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

/// The active validators are the Aura authorities, each read as the account of the same sr25519
/// key (a validator's `--alice` key is both its Aura key and Alice's account). This stands in until
/// the staking pallet owns the validator set.
pub struct AuraValidators;

impl ValidatorSet<AccountId> for AuraValidators {
	fn is_active(who: &AccountId) -> bool {
		let account: &[u8] = who.as_ref();
		pallet_aura::Authorities::<Runtime>::get()
			.iter()
			.any(|authority| AsRef::<[u8]>::as_ref(authority) == account)
	}

	fn active_count() -> u32 {
		pallet_aura::Authorities::<Runtime>::decode_len().unwrap_or(0) as u32
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn set_active_for_benchmarks(validators: alloc::vec::Vec<AccountId>) {
		use sp_consensus_aura::sr25519::AuthorityId as AuraId;
		let authorities = validators
			.into_iter()
			.map(|account| AuraId::from(sp_core::sr25519::Public::from_raw(account.into())))
			.collect();
		pallet_aura::Authorities::<Runtime>::put(frame_support::BoundedVec::truncate_from(
			authorities,
		));
	}
}
