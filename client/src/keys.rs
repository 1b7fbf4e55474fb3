//! The signing key: a secret URI (`//Alice`, a mnemonic with a derivation path, a 0x seed) or a
//! polkadot.js keystore file (an account exported as JSON) with its password.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use subxt_signer::{sr25519::Keypair, SecretUri};

/// Where the signing key comes from.
#[derive(Args, Clone, Debug)]
pub struct KeyArgs {
	/// The signer as a secret URI, e.g. `//Alice` on dev chains, or `"<mnemonic>//path"`.
	#[arg(long, env = "GATELESS_SURI", conflicts_with = "keyfile")]
	pub suri: Option<String>,
	/// The signer as a polkadot.js keystore file (an exported sr25519 account).
	#[arg(long)]
	pub keyfile: Option<PathBuf>,
	/// The keystore file's password.
	#[arg(long, env = "GATELESS_PASSWORD", default_value = "", hide_env_values = true)]
	pub password: String,
}

impl KeyArgs {
	pub fn keypair(&self) -> Result<Keypair> {
		if let Some(suri) = &self.suri {
			let uri: SecretUri = suri.parse().context("--suri is not a valid secret URI")?;
			return Keypair::from_uri(&uri).context("--suri does not give an sr25519 key");
		}
		if let Some(path) = &self.keyfile {
			let json = std::fs::read_to_string(path)
				.with_context(|| format!("cannot read {}", path.display()))?;
			return subxt_signer::polkadot_js_compat::decrypt_json(&json, &self.password)
				.with_context(|| format!("cannot unlock {} with this password", path.display()));
		}
		bail!("a signer is needed: --suri //Alice, or --keyfile FILE.json with --password")
	}
}
