//! `gateless-node`: the Gateless validator and full node.

// `sc_cli::Error` and `sc_service::Error` are large, and the sc-cli and sc-service APIs return
// them from every runner and builder: boxing them here would only convert back and forth.
#![allow(clippy::result_large_err)]

mod chain_spec;
mod cli;
mod command;
mod fault;
mod rpc;
mod service;

fn main() -> sc_cli::Result<()> {
	command::run()
}
