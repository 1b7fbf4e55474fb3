//! Chain specifications: the built-in `dev` and `local` chains, built from the runtime's genesis
//! presets, and any chain spec JSON file (such as those in `chain-spec/`).

use gateless_primitives::token;
use gateless_runtime::WASM_BINARY;
use sc_service::{ChainType, Properties};
use sp_genesis_builder::{DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};

/// A chain spec of the Gateless runtime.
pub type ChainSpec = sc_service::GenericChainSpec;

/// The token's properties, which wallets such as polkadot.js read to show balances.
fn token_properties() -> Properties {
	let mut properties = Properties::new();
	properties.insert("tokenSymbol".into(), token::SYMBOL.into());
	properties.insert("tokenDecimals".into(), token::DECIMALS.into());
	properties.insert("ss58Format".into(), token::SS58_PREFIX.into());
	properties
}

fn wasm_binary() -> Result<&'static [u8], String> {
	WASM_BINARY.ok_or_else(|| {
		"the WASM runtime was not built (was SKIP_WASM_BUILD set?); rebuild without it".to_string()
	})
}

/// `--dev`: one validator (Alice), temporary-friendly.
pub fn development_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm_binary()?, None)
		.with_name("Gateless Development")
		.with_id("gateless_dev")
		.with_chain_type(ChainType::Development)
		.with_protocol_id("gateless-dev")
		.with_genesis_config_preset_name(DEV_RUNTIME_PRESET)
		.with_properties(token_properties())
		.build())
}

/// `--chain local`: three validators (Alice, Bob, Charlie) on one machine.
pub fn local_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm_binary()?, None)
		.with_name("Gateless Local Testnet")
		.with_id("gateless_local")
		.with_chain_type(ChainType::Local)
		.with_protocol_id("gateless-local")
		.with_genesis_config_preset_name(LOCAL_TESTNET_RUNTIME_PRESET)
		.with_properties(token_properties())
		.build())
}
