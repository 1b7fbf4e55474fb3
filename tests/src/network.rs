//! A local network of validators of the `local` chain on loopback, for people to try and for the
//! tests: `cargo run -p gateless-e2e --bin local-network` (or `scripts/local-network.sh`) and
//! [`LocalNetwork::start`].
//!
//! The `local` genesis has four validators, Alice, Bob, Charlie and Dave, and a network runs the
//! first three or all four of them (GRANDPA needs more than two thirds of the four to finalize).
//! Alice's node is the bootnode; every node has a fixed node key, so that a restarted node keeps
//! its peer id, and its own temporary base path (deleted when the network stops).

use std::time::{Duration, Instant};

use sp_core::H256;
use sp_keyring::Sr25519Keyring;

use crate::{
	node::{Node, NodeConfig, Ports},
	rpc::Rpc,
	Result,
};

/// The validators of the `local` genesis, in the order a network starts them.
pub const GENESIS_VALIDATORS: [Sr25519Keyring; 4] =
	[Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie, Sr25519Keyring::Dave];

/// How long a new network may take to finalize its first block.
pub const FIRST_FINALITY_TIMEOUT: Duration = Duration::from_secs(180);

/// What to start.
#[derive(Clone, Debug)]
pub struct NetworkConfig {
	/// How many of [`GENESIS_VALIDATORS`] run: 3 or 4.
	pub validators: usize,
	/// Further node arguments per validator, e.g. `(Dave, ["--test-fault", "perturb-output"])`.
	pub extra_args: Vec<(Sr25519Keyring, Vec<String>)>,
	/// The node's `--chain`: `local`, or the path of a spec derived from it (the end-to-end
	/// benchmark's three-validator genesis).
	pub chain: String,
}

impl Default for NetworkConfig {
	fn default() -> Self {
		Self { validators: GENESIS_VALIDATORS.len(), extra_args: Vec::new(), chain: "local".into() }
	}
}

/// One running validator.
pub struct Validator {
	pub keyring: Sr25519Keyring,
	pub node: Node,
	pub rpc: Rpc,
}

/// A running network.
pub struct LocalNetwork {
	pub validators: Vec<Validator>,
}

/// A lowercase name such as `alice`, which is also the node's `--alice` flag.
pub fn name(who: Sr25519Keyring) -> String {
	format!("{who:?}").to_lowercase()
}

fn validator_config(
	index: usize,
	who: Sr25519Keyring,
	chain: &str,
	bootnode: Option<&str>,
) -> Result<NodeConfig> {
	let name = name(who);
	// Any 32 bytes are an ed25519 secret; fixed, so that restarts keep the peer id.
	let node_key = hex::encode([index as u8 + 1; 32]);
	let mut extra_args = vec!["--node-key".to_string(), node_key];
	if let Some(bootnode) = bootnode {
		extra_args.extend(["--bootnodes".to_string(), bootnode.to_string()]);
	}
	Ok(NodeConfig {
		name: name.clone(),
		chain_args: vec!["--chain".into(), chain.into(), format!("--{name}")],
		ports: Ports::free()?,
		extra_args,
	})
}

impl LocalNetwork {
	/// Starts the validators and waits until each has finalized block 1 and they agree on it.
	pub async fn start(config: NetworkConfig) -> Result<Self> {
		if !(3..=GENESIS_VALIDATORS.len()).contains(&config.validators) {
			return Err(format!(
				"{} validators: a local network runs 3 or 4 of the genesis validators",
				config.validators
			));
		}
		let mut validators: Vec<Validator> = Vec::new();
		let mut bootnode: Option<String> = None;
		for (index, who) in GENESIS_VALIDATORS.into_iter().take(config.validators).enumerate() {
			let mut node_config = validator_config(index, who, &config.chain, bootnode.as_deref())?;
			for (_, args) in config.extra_args.iter().filter(|(whom, _)| *whom == who) {
				node_config.extra_args.extend(args.iter().cloned());
			}
			let (node, rpc) = Node::start(node_config).await?;
			if bootnode.is_none() {
				bootnode = Some(node.p2p_address(&rpc.local_peer_id().await?));
			}
			validators.push(Validator { keyring: who, node, rpc });
		}
		let network = Self { validators };
		let (hash, _) = network.wait_finalized(1, FIRST_FINALITY_TIMEOUT).await?;
		for validator in &network.validators {
			let theirs = validator.rpc.block_hash(1).await?;
			if theirs != Some(hash) {
				return Err(validator
					.node
					.failure(&format!("finalized {theirs:?} as block 1, others {hash:?}")));
			}
		}
		Ok(network)
	}

	/// The running validator `who`.
	pub fn validator(&self, who: Sr25519Keyring) -> Result<&Validator> {
		self.validators
			.iter()
			.find(|validator| validator.keyring == who)
			.ok_or_else(|| format!("{who:?} is not in this network"))
	}

	/// The running validator `who`, to kill or restart it.
	pub fn validator_mut(&mut self, who: Sr25519Keyring) -> Result<&mut Validator> {
		self.validators
			.iter_mut()
			.find(|validator| validator.keyring == who)
			.ok_or_else(|| format!("{who:?} is not in this network"))
	}

	/// Waits until every validator whose node runs has finalized block `number` (at most
	/// `timeout`); returns the hash of block `number` and the lowest finalized number then.
	pub async fn wait_finalized(&self, number: u32, timeout: Duration) -> Result<(H256, u32)> {
		let deadline = Instant::now() + timeout;
		let mut lowest = u32::MAX;
		for validator in self.running() {
			let remaining = deadline.saturating_duration_since(Instant::now());
			let (_, finalized) =
				crate::rpc::wait_for_finalized(&validator.node, &validator.rpc, number, remaining)
					.await?;
			lowest = lowest.min(finalized);
		}
		let first = self.running().next().ok_or("no validator runs")?;
		let hash = first.rpc.block_hash(number).await?.ok_or("no such block")?;
		Ok((hash, lowest))
	}

	/// The validators whose nodes run.
	pub fn running(&self) -> impl Iterator<Item = &Validator> {
		self.validators
			.iter()
			.filter(|validator| validator.node.ensure_running().is_ok())
	}

	/// Stops every node with SIGTERM and checks that each exits cleanly.
	pub fn stop(self) -> Result<()> {
		let mut failures = Vec::new();
		for validator in self.validators {
			let name = validator.node.config.name.clone();
			if validator.node.ensure_running().is_err() {
				continue;
			}
			match validator.node.stop() {
				Ok(status) if status.success() => {},
				Ok(status) => failures.push(format!("{name} exited with {status}")),
				Err(error) => failures.push(error),
			}
		}
		if failures.is_empty() {
			Ok(())
		} else {
			Err(failures.join("\n"))
		}
	}
}
