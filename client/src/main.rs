//! `gateless`: register models, submit inference jobs and read their verified results on a
//! Gateless chain, from the command line.
//!
//! Reads go through the node's `gateless_*` JSON-RPC methods; transactions are built with the
//! calls that `subxt` generates from the runtime's metadata at compile time. Human output by
//! default, `--json` for scripts (the JSON shapes of `gateless_*`).

mod amount;
mod calls;
mod chain;
mod cli;
mod commands;
mod input;
mod keys;
mod npz;
mod output;
mod render;
mod replay;
mod web;

use anyhow::Result;
use clap::Parser;
use gateless_rpc::types;
use subxt::rpcs::rpc_params;

use chain::{Chain, Progress};
use cli::{Cli, Command};
use render::Output;

#[tokio::main]
async fn main() {
	let cli = Cli::parse();
	if let Err(error) = run(cli).await {
		eprintln!("error: {error:#}");
		std::process::exit(1);
	}
}

async fn run(cli: Cli) -> Result<()> {
	// The page connects to the node itself: only the other commands need a connection here.
	let connect = || async {
		let chain = Chain::connect(&cli.url).await?;
		let out = Output { json: cli.json, token: chain.token.clone() };
		anyhow::Ok((chain, out))
	};
	let progress = Progress::new(cli.json);
	match cli.command {
		Command::Web { listen } => web::serve(listen, &cli.url).await,
		Command::Model(command) => {
			let (chain, out) = connect().await?;
			commands::model::model_command(&chain, &progress, &out, command).await
		},
		Command::Job(command) => {
			let (chain, out) = connect().await?;
			commands::job::job_command(&chain, &progress, &out, command).await
		},
		Command::Validators => {
			let (chain, out) = connect().await?;
			let validators: Vec<types::Validator> =
				chain.call("gateless_validators", rpc_params![]).await?;
			out.validators(&validators)
		},
	}
}
