//! Runs the node or one of its subcommands.

use gateless_runtime::opaque::Block;
use sc_cli::SubstrateCli;
use sc_service::PartialComponents;

use crate::{
	chain_spec,
	cli::{Cli, Subcommand},
	service,
};

impl SubstrateCli for Cli {
	fn impl_name() -> String {
		"Gateless Node".into()
	}

	fn impl_version() -> String {
		env!("SUBSTRATE_CLI_IMPL_VERSION").into()
	}

	fn description() -> String {
		env!("CARGO_PKG_DESCRIPTION").into()
	}

	fn author() -> String {
		env!("CARGO_PKG_AUTHORS").into()
	}

	/// Shown after "This is a bug. Please report it at:" when the node panics.
	fn support_url() -> String {
		"the issue tracker of the Gateless repository this node was built from, with the output \
		 of `gateless-node --version` and the log lines above (README.md, \"Reporting a bug\")"
			.into()
	}

	fn copyright_start_year() -> i32 {
		2026
	}

	/// `dev` and `local` are built in; anything else is read as a chain spec JSON file.
	fn load_spec(&self, id: &str) -> Result<Box<dyn sc_service::ChainSpec>, String> {
		Ok(match id {
			"dev" => Box::new(chain_spec::development_chain_spec()?),
			"" | "local" => Box::new(chain_spec::local_chain_spec()?),
			path => {
				Box::new(chain_spec::ChainSpec::from_json_file(std::path::PathBuf::from(path))?)
			},
		})
	}
}

/// Parses the command line `args` and runs what it asks for; a validator runs with
/// `misbehaviour` (test networks only).
pub fn run(
	args: Vec<std::ffi::OsString>,
	misbehaviour: Option<std::sync::Arc<dyn crate::Misbehaviour>>,
) -> sc_cli::Result<()> {
	let cli = Cli::from_iter(args);

	match &cli.subcommand {
		Some(Subcommand::Key(cmd)) => cmd.run(&cli),
		Some(Subcommand::BuildSpec(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run(config.chain_spec, config.network))
		},
		Some(Subcommand::CheckBlock(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, import_queue, .. } =
					service::new_partial(&config)?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		},
		Some(Subcommand::ExportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, .. } = service::new_partial(&config)?;
				Ok((cmd.run(client, config.database), task_manager))
			})
		},
		Some(Subcommand::ExportState(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, .. } = service::new_partial(&config)?;
				Ok((cmd.run(client, config.chain_spec), task_manager))
			})
		},
		Some(Subcommand::ImportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, import_queue, .. } =
					service::new_partial(&config)?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		},
		Some(Subcommand::PurgeChain(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run(config.database))
		},
		Some(Subcommand::Revert(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, backend, .. } =
					service::new_partial(&config)?;
				// BABE's epoch changes and GRANDPA's authority set changes must be reverted with
				// the blocks.
				let aux_revert =
					Box::new(|client: std::sync::Arc<service::FullClient>, backend, blocks| {
						sc_consensus_babe::revert(client.clone(), backend, blocks)?;
						sc_consensus_grandpa::revert(client, blocks)?;
						Ok(())
					});
				Ok((cmd.run(client, backend, Some(aux_revert)), task_manager))
			})
		},
		#[cfg(feature = "runtime-benchmarks")]
		Some(Subcommand::Benchmark(cmd)) => {
			use frame_benchmarking_cli::{BenchmarkCmd, SUBSTRATE_REFERENCE_HARDWARE};
			// The runtime imports them; benchmarks never call them.
			type InferenceHostFunctions = gateless_primitives::inference::HostFunctions;

			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| match cmd {
				BenchmarkCmd::Pallet(cmd) => cmd
					.run_with_spec::<sp_runtime::traits::HashingFor<Block>, InferenceHostFunctions>(
						Some(config.chain_spec),
					),
				BenchmarkCmd::Block(cmd) => {
					let PartialComponents { client, .. } = service::new_partial(&config)?;
					cmd.run(client)
				},
				BenchmarkCmd::Storage(cmd) => {
					let PartialComponents { client, backend, .. } = service::new_partial(&config)?;
					cmd.run(
						config,
						client,
						backend.expose_db(),
						backend.expose_storage(),
						backend.expose_shared_trie_cache(),
					)
				},
				BenchmarkCmd::Overhead(cmd) => cmd
					.run_with_default_builder_and_spec::<Block, InferenceHostFunctions>(Some(
						config.chain_spec,
					)),
				BenchmarkCmd::Extrinsic(_) => {
					Err("`benchmark extrinsic` is not supported by gateless-node; use \
						`benchmark pallet` for the weights of calls"
						.into())
				},
				BenchmarkCmd::Machine(cmd) => {
					cmd.run(&config, SUBSTRATE_REFERENCE_HARDWARE.clone())
				},
			})
		},
		Some(Subcommand::ChainInfo(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run::<Block>(&config))
		},
		None => {
			if let Some(isa) = &cli.inference.inference_cpu_isa {
				// Read by tract when it first picks kernels, which happens after this.
				std::env::set_var("TRACT_CPU_ISA", isa);
			}
			let inference = cli.inference.clone();
			let content = cli.content.clone();
			let runner = cli.create_runner(&cli.run)?;
			runner.run_node_until_exit(|config| async move {
				if let Some(misbehaviour) = &misbehaviour {
					let fault = misbehaviour.describe();
					if config.chain_spec.chain_type() == sc_service::ChainType::Live {
						return Err(sc_cli::Error::Input(format!(
							"--test-fault {fault} is for test networks; chain {:?} is live",
							config.chain_spec.id()
						)));
					}
					log::warn!(
						"⚠️  --test-fault {fault}: this validator misbehaves on purpose and will be \
						 slashed"
					);
				}
				let inference = inference.engine_config(&config.data_path).map_err(|error| {
					sc_cli::Error::Input(format!(
						"cannot find this binary to run it as the inference worker: {error}"
					))
				})?;
				match config.network.network_backend {
					sc_network::config::NetworkBackendType::Libp2p => {
						service::new_full::<
							sc_network::NetworkWorker<
								Block,
								<Block as sp_runtime::traits::Block>::Hash,
							>,
						>(config, inference, content, misbehaviour)
						.map_err(sc_cli::Error::Service)
					},
					sc_network::config::NetworkBackendType::Litep2p => {
						service::new_full::<sc_network::Litep2pNetworkBackend>(
							config,
							inference,
							content,
							misbehaviour,
						)
						.map_err(sc_cli::Error::Service)
					},
				}
			})
		},
	}
}
