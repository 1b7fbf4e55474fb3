//! Starts a local network of `local` chain validators on loopback, prints where to reach them,
//! and stops them cleanly on Ctrl-C.
//!
//! ```text
//! local-network [--validators 3|4] [--fault NAME=FAULT]...
//! ```
//!
//! `--fault dave=perturb-output` starts Dave's node with `--test-fault perturb-output` (see the
//! node's `--help`). The node binary is `GATELESS_NODE_BIN`, or `gateless-node` next to this one.

use std::process::ExitCode;

use gateless_e2e::network::{name, LocalNetwork, NetworkConfig, GENESIS_VALIDATORS};

fn usage() -> String {
	"usage: local-network [--validators 3|4] [--fault NAME=FAULT]...\n\
	 NAME is alice, bob, charlie or dave; FAULT is perturb-output or delay=MS"
		.to_string()
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<NetworkConfig, String> {
	let mut config = NetworkConfig::default();
	while let Some(arg) = args.next() {
		let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value\n{}", usage()));
		match arg.as_str() {
			"--validators" => {
				config.validators =
					value()?.parse().map_err(|e| format!("--validators: {e}\n{}", usage()))?
			},
			"--fault" => {
				let value = value()?;
				let (who, fault) = value
					.split_once('=')
					.ok_or_else(|| format!("--fault {value}: expected NAME=FAULT\n{}", usage()))?;
				let validator = GENESIS_VALIDATORS
					.into_iter()
					.find(|validator| name(*validator) == who)
					.ok_or_else(|| format!("--fault: no validator {who}\n{}", usage()))?;
				config
					.extra_args
					.push((validator, vec!["--test-fault".into(), fault.to_string()]));
			},
			"-h" | "--help" => return Err(usage()),
			other => return Err(format!("unknown argument {other}\n{}", usage())),
		}
	}
	Ok(config)
}

#[tokio::main]
async fn main() -> ExitCode {
	let config = match parse(std::env::args().skip(1)) {
		Ok(config) => config,
		Err(message) => {
			eprintln!("{message}");
			return ExitCode::from(2);
		},
	};
	eprintln!("starting {} validators of the local chain…", config.validators);
	let network = match LocalNetwork::start(config).await {
		Ok(network) => network,
		Err(error) => {
			eprintln!("the network did not start: {error}");
			return ExitCode::FAILURE;
		},
	};
	println!("{:<8} {:<24} {:<22} base path", "name", "JSON-RPC", "Prometheus");
	for validator in &network.validators {
		let node = &validator.node;
		println!(
			"{:<8} {:<24} {:<22} {}",
			node.config.name,
			node.rpc_url(),
			format!("127.0.0.1:{}", node.config.ports.prometheus),
			node.base_path().display()
		);
	}
	println!("block 1 is finalized on every validator; Ctrl-C stops the network");
	if let Err(error) = tokio::signal::ctrl_c().await {
		eprintln!("cannot wait for Ctrl-C: {error}");
	}
	match network.stop() {
		Ok(()) => {
			eprintln!("every validator stopped cleanly");
			ExitCode::SUCCESS
		},
		Err(error) => {
			eprintln!("{error}");
			ExitCode::FAILURE
		},
	}
}
