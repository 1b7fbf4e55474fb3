//! Tests of the runtime as a whole: genesis presets, version, metadata and the WASM blob.

use codec::Decode;
use frame_support::traits::Get;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_genesis_builder::{DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};
use sp_runtime::BuildStorage;

use crate::{
	genesis_config_presets::{get_preset, preset_names, DEV_ENDOWMENT},
	Aura, Balances, Block, Grandpa, Runtime, RuntimeGenesisConfig, VERSION,
};

/// The full genesis config of a preset: the runtime's defaults with the preset's patch applied,
/// as the node does when it builds a chain spec.
fn preset_config(name: &str) -> RuntimeGenesisConfig {
	let patch: serde_json::Value =
		serde_json::from_slice(&get_preset(&name.into()).expect("the preset exists")).unwrap();
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).unwrap();
	merge(&mut config, patch);
	serde_json::from_value(config).expect("the patched preset is a valid genesis config")
}

fn merge(base: &mut serde_json::Value, patch: serde_json::Value) {
	match (base, patch) {
		(serde_json::Value::Object(base), serde_json::Value::Object(patch)) => {
			for (key, value) in patch {
				merge(base.entry(key).or_insert(serde_json::Value::Null), value);
			}
		},
		(base, patch) => *base = patch,
	}
}

fn build(name: &str) -> sp_io::TestExternalities {
	preset_config(name)
		.build_storage()
		.expect("the preset builds a genesis state")
		.into()
}

#[test]
fn presets_are_listed() {
	let names = preset_names();
	assert!(names.contains(&DEV_RUNTIME_PRESET.into()));
	assert!(names.contains(&LOCAL_TESTNET_RUNTIME_PRESET.into()));
	assert_eq!(get_preset(&"no-such-preset".into()), None);
}

#[test]
fn development_preset_has_one_validator_and_endowed_accounts() {
	build(DEV_RUNTIME_PRESET).execute_with(|| {
		assert_eq!(pallet_aura::Authorities::<Runtime>::get().len(), 1);
		assert_eq!(Grandpa::grandpa_authorities().len(), 1);
		let alice = sp_keyring::Sr25519Keyring::Alice.to_account_id();
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), Some(alice.clone()));
		// Alice's genesis bond is held, not spent.
		assert_eq!(
			Balances::free_balance(&alice),
			DEV_ENDOWMENT - crate::genesis_config_presets::GENESIS_VALIDATOR_BOND
		);
		// Twelve endowed dev accounts: Alice to Ferdie and their stashes.
		assert_eq!(Balances::total_issuance(), 12 * DEV_ENDOWMENT);
	});
}

#[test]
fn local_testnet_preset_has_three_validators() {
	build(LOCAL_TESTNET_RUNTIME_PRESET).execute_with(|| {
		let aura = pallet_aura::Authorities::<Runtime>::get();
		assert_eq!(aura.len(), 3);
		let bob: AuraId = sp_keyring::Sr25519Keyring::Bob.public().into();
		assert!(aura.contains(&bob));
		assert_eq!(Grandpa::grandpa_authorities().len(), 3);
	});
}

#[test]
fn slot_duration_is_six_seconds() {
	build(DEV_RUNTIME_PRESET).execute_with(|| {
		assert_eq!(Aura::slot_duration(), 6_000);
		let minimum_period: u64 = <Runtime as pallet_timestamp::Config>::MinimumPeriod::get();
		assert_eq!(minimum_period * 2, 6_000);
	});
}

#[test]
fn version_names_the_chain_and_announces_its_apis() {
	use sp_api::RuntimeApiInfo;

	assert_eq!(VERSION.spec_name, "gateless");
	// The node and clients find the APIs they need through the version.
	let announced = |id: [u8; 8]| VERSION.apis.iter().any(|(api, _)| *api == id);
	assert!(announced(<dyn sp_api::Core<Block>>::ID));
	assert!(announced(<dyn sp_block_builder::BlockBuilder<Block>>::ID));
	assert!(announced(<dyn sp_consensus_aura::AuraApi<Block, AuraId>>::ID));
	assert!(announced(<dyn sp_consensus_grandpa::GrandpaApi<Block>>::ID));
	assert!(announced(<dyn sp_session::SessionKeys<Block>>::ID));
	assert!(announced(<dyn sp_offchain::OffchainWorkerApi<Block>>::ID));
	assert!(announced(<dyn sp_genesis_builder::GenesisBuilder<Block>>::ID));
	assert!(announced(
		<dyn gateless_primitives::runtime_api::ModelRegistryApi<
			Block,
			crate::AccountId,
			crate::Balance,
			crate::BlockNumber,
		>>::ID
	));
}

#[test]
fn the_staked_validators_are_the_session_set_the_authorities_and_the_attesters() {
	use gateless_primitives::traits::ValidatorSet;
	use sp_keyring::Sr25519Keyring;

	build(LOCAL_TESTNET_RUNTIME_PRESET).execute_with(|| {
		let validators: Vec<_> =
			[Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie]
				.into_iter()
				.map(|who| who.to_account_id())
				.collect();
		assert_eq!(pallet_session::Validators::<Runtime>::get(), validators);
		assert_eq!(crate::Staking::active_count(), 3);
		for validator in &validators {
			assert!(crate::Staking::is_active(validator));
			assert_eq!(
				pallet_validator_staking::Ledgers::<Runtime>::get(validator).map(|l| l.active),
				Some(crate::genesis_config_presets::GENESIS_VALIDATOR_BOND)
			);
			// Aura, GRANDPA and inference keys are set.
			let keys = pallet_session::NextKeys::<Runtime>::get(validator).expect("keys set");
			let aura: AuraId = keys.aura;
			assert!(pallet_aura::Authorities::<Runtime>::get().contains(&aura));
		}
		assert!(!crate::Staking::is_active(&Sr25519Keyring::Dave.to_account_id()));
		let summaries = crate::Staking::validator_summaries();
		assert_eq!(summaries.len(), 3);
		assert!(summaries.iter().all(|summary| summary.active && summary.candidate));
	});
}

#[test]
fn the_registry_defaults_are_valid_and_fit_a_transaction() {
	use crate::configs::{DefaultRegistryParams, MAX_INLINE_MODEL_BYTES};

	let params = DefaultRegistryParams::get();
	assert!(crate::ModelRegistry::params_are_valid(&params));
	assert_eq!(params.max_inline_bytes, MAX_INLINE_MODEL_BYTES);
	// A registration with the largest inline model fits in a normal transaction.
	let normal_length = *crate::configs::RuntimeBlockLength::get()
		.max
		.get(frame_support::dispatch::DispatchClass::Normal);
	assert!(MAX_INLINE_MODEL_BYTES + 16 * 1024 < normal_length);
}

#[test]
fn metadata_is_readable_and_lists_the_pallets() {
	let versions = Runtime::metadata_versions();
	for version in [14, 15, 16] {
		assert!(versions.contains(&version), "metadata versions: {versions:?}");
	}
	let metadata = Runtime::metadata_at_version(15).expect("v15 metadata");
	let metadata = frame_metadata::RuntimeMetadataPrefixed::decode(&mut &metadata[..]).unwrap();
	let frame_metadata::RuntimeMetadata::V15(metadata) = metadata.1 else {
		panic!("expected metadata v15")
	};
	let pallets: Vec<(String, u8)> =
		metadata.pallets.iter().map(|p| (p.name.to_string(), p.index)).collect();
	for expected in [
		("System", 0),
		("Timestamp", 1),
		("Sudo", 2),
		("Balances", 10),
		("TransactionPayment", 11),
		("Aura", 20),
		("Grandpa", 21),
		("Session", 22),
		("Staking", 23),
		("ModelRegistry", 40),
	] {
		assert!(
			pallets.contains(&(expected.0.to_string(), expected.1)),
			"{expected:?} missing from {pallets:?}"
		);
	}
}

#[test]
fn wasm_binary_is_built_and_carries_this_version() {
	let wasm = crate::WASM_BINARY.expect("the WASM runtime is built (SKIP_WASM_BUILD unset)");
	let blob = sc_executor_common::runtime_blob::RuntimeBlob::uncompress_if_needed(wasm).unwrap();
	let embedded = sc_executor::read_embedded_version(&blob)
		.unwrap()
		.expect("the WASM carries its runtime version");
	assert_eq!(embedded.spec_name, VERSION.spec_name);
	assert_eq!(embedded.spec_version, VERSION.spec_version);
	assert_eq!(embedded.transaction_version, VERSION.transaction_version);
}
