//! Genesis presets: the initial state of the `development` and `local_testnet` chains.
//!
//! The node's chain specs are built from these presets (see `node/src/chain_spec.rs`), and the
//! committed JSON specs in `chain-spec/` are generated from them.

use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use serde_json::Value;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{PresetId, DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

use crate::{token::UNIT, AccountId, Balance, BalancesConfig, RuntimeGenesisConfig, SudoConfig};

/// What every endowed dev account starts with: enough to register models, bond and pay for jobs.
pub const DEV_ENDOWMENT: Balance = 1_000_000 * UNIT;

/// A validator's genesis keys: Aura (sr25519) and GRANDPA (ed25519).
type AuthorityKeys = (AuraId, GrandpaId);

/// The keys of a dev validator, derived like `--alice` derives them into the keystore.
fn dev_authority(who: Sr25519Keyring) -> AuthorityKeys {
	let ed25519 = match who {
		Sr25519Keyring::Alice => Ed25519Keyring::Alice,
		Sr25519Keyring::Bob => Ed25519Keyring::Bob,
		Sr25519Keyring::Charlie => Ed25519Keyring::Charlie,
		Sr25519Keyring::Dave => Ed25519Keyring::Dave,
		Sr25519Keyring::Eve => Ed25519Keyring::Eve,
		Sr25519Keyring::Ferdie => Ed25519Keyring::Ferdie,
		_ => Ed25519Keyring::One,
	};
	(who.public().into(), ed25519.public().into())
}

/// The well-known dev accounts (Alice to Ferdie and their stashes), all endowed.
fn dev_accounts() -> Vec<AccountId> {
	Sr25519Keyring::iter()
		.filter(|who| *who != Sr25519Keyring::One && *who != Sr25519Keyring::Two)
		.map(|who| who.to_account_id())
		.collect()
}

/// A genesis with the given validators, endowed accounts and sudo key.
fn testnet_genesis(
	authorities: Vec<AuthorityKeys>,
	endowed_accounts: Vec<AccountId>,
	root: AccountId,
) -> Value {
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed_accounts
				.into_iter()
				.map(|account| (account, DEV_ENDOWMENT))
				.collect::<Vec<_>>(),
		},
		aura: pallet_aura::GenesisConfig {
			authorities: authorities.iter().map(|(aura, _)| aura.clone()).collect::<Vec<_>>(),
		},
		grandpa: pallet_grandpa::GenesisConfig {
			authorities: authorities
				.iter()
				.map(|(_, grandpa)| (grandpa.clone(), 1))
				.collect::<Vec<_>>(),
		},
		sudo: SudoConfig { key: Some(root) },
	})
}

/// `development`: a single validator, Alice, who is also the sudo key.
pub fn development_genesis() -> Value {
	testnet_genesis(
		vec![dev_authority(Sr25519Keyring::Alice)],
		dev_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// `local_testnet`: three validators, Alice, Bob and Charlie; Alice is the sudo key.
pub fn local_testnet_genesis() -> Value {
	testnet_genesis(
		vec![
			dev_authority(Sr25519Keyring::Alice),
			dev_authority(Sr25519Keyring::Bob),
			dev_authority(Sr25519Keyring::Charlie),
		],
		dev_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// The JSON patch of the preset `id`, or `None` for an unknown preset.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		DEV_RUNTIME_PRESET => development_genesis(),
		LOCAL_TESTNET_RUNTIME_PRESET => local_testnet_genesis(),
		_ => return None,
	};
	serde_json::to_vec(&patch).ok()
}

/// The names of the presets that [`get_preset`] knows.
pub fn preset_names() -> Vec<PresetId> {
	vec![PresetId::from(DEV_RUNTIME_PRESET), PresetId::from(LOCAL_TESTNET_RUNTIME_PRESET)]
}
