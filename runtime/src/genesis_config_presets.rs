//! Genesis presets: the initial state of the `development` and `local_testnet` chains.
//!
//! The node's chain specs are built from these presets (see `node/src/chain_spec.rs`), and the
//! committed JSON specs in `chain-spec/` are generated from them.

use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use serde_json::Value;
use sp_consensus_babe::AuthorityId as BabeId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{PresetId, DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

use gateless_primitives::crypto::InferenceId;

use crate::{
	configs::BABE_GENESIS_EPOCH_CONFIG, token::UNIT, AccountId, BabeConfig, Balance,
	BalancesConfig, CouncilMembershipConfig, RuntimeGenesisConfig, SessionConfig, SessionKeys,
	StakingConfig, SudoConfig,
};

/// What every endowed dev account starts with: enough to register models, bond and pay for jobs.
pub const DEV_ENDOWMENT: Balance = 1_000_000 * UNIT;

/// What each genesis validator bonds.
pub const GENESIS_VALIDATOR_BOND: Balance = 10_000 * UNIT;

/// A genesis validator: its account and its session keys.
type GenesisValidator = (AccountId, SessionKeys);

/// A dev validator, with the session keys `--alice` (and so on) derives into the keystore:
/// BABE and inference sr25519, GRANDPA ed25519, all from the same seed.
fn dev_validator(who: Sr25519Keyring) -> GenesisValidator {
	let ed25519 = match who {
		Sr25519Keyring::Alice => Ed25519Keyring::Alice,
		Sr25519Keyring::Bob => Ed25519Keyring::Bob,
		Sr25519Keyring::Charlie => Ed25519Keyring::Charlie,
		Sr25519Keyring::Dave => Ed25519Keyring::Dave,
		Sr25519Keyring::Eve => Ed25519Keyring::Eve,
		Sr25519Keyring::Ferdie => Ed25519Keyring::Ferdie,
		_ => Ed25519Keyring::One,
	};
	let keys = SessionKeys {
		babe: BabeId::from(who.public()),
		grandpa: GrandpaId::from(ed25519.public()),
		inference: InferenceId::from(who.public()),
	};
	(who.to_account_id(), keys)
}

/// The well-known dev accounts (Alice to Ferdie and their stashes), all endowed.
fn dev_accounts() -> Vec<AccountId> {
	Sr25519Keyring::iter()
		.filter(|who| *who != Sr25519Keyring::One && *who != Sr25519Keyring::Two)
		.map(|who| who.to_account_id())
		.collect()
}

/// The Council of both presets: Alice, Bob and Charlie, so that two of them pass a motion.
fn dev_council() -> Vec<AccountId> {
	[Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie]
		.iter()
		.map(|who| who.to_account_id())
		.collect()
}

/// A genesis with the given validators (bonded, with their session keys), endowed accounts,
/// Council and sudo key (none: only the Council governs). BABE and GRANDPA get their authorities
/// from the session pallet; BABE's epochs use [`BABE_GENESIS_EPOCH_CONFIG`].
#[allow(clippy::expect_used)] // Only at a chain spec's build, which it then fails.
fn testnet_genesis(
	validators: Vec<GenesisValidator>,
	endowed_accounts: Vec<AccountId>,
	council: Vec<AccountId>,
	root: Option<AccountId>,
) -> Value {
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed_accounts
				.into_iter()
				.map(|account| (account, DEV_ENDOWMENT))
				.collect::<Vec<_>>(),
		},
		staking: StakingConfig {
			validators: validators
				.iter()
				.map(|(account, _)| (account.clone(), GENESIS_VALIDATOR_BOND))
				.collect::<Vec<_>>(),
		},
		session: SessionConfig {
			keys: validators
				.into_iter()
				.map(|(account, keys)| (account.clone(), account, keys))
				.collect::<Vec<_>>(),
		},
		council_membership: CouncilMembershipConfig {
			// A Council beyond its seats fails the chain spec's build rather than losing
			// members silently; the presets' three are well within them.
			members: council.try_into().expect("the Council fits its seats"),
		},
		sudo: SudoConfig { key: root },
		babe: BabeConfig { epoch_config: BABE_GENESIS_EPOCH_CONFIG },
	})
}

/// `development`: a single validator, Alice, who is also the sudo key; the Council is Alice, Bob
/// and Charlie.
pub fn development_genesis() -> Value {
	testnet_genesis(
		vec![dev_validator(Sr25519Keyring::Alice)],
		dev_accounts(),
		dev_council(),
		Some(Sr25519Keyring::Alice.to_account_id()),
	)
}

/// `local_testnet`: four validators, Alice, Bob, Charlie and Dave (so that one can lie or crash
/// while the others keep a two-thirds majority); the Council (Alice, Bob and Charlie) governs,
/// and there is no sudo key.
pub fn local_testnet_genesis() -> Value {
	testnet_genesis(
		vec![
			dev_validator(Sr25519Keyring::Alice),
			dev_validator(Sr25519Keyring::Bob),
			dev_validator(Sr25519Keyring::Charlie),
			dev_validator(Sr25519Keyring::Dave),
		],
		dev_accounts(),
		dev_council(),
		None,
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
