//! `gateless-node`: the Gateless validator and full node.

// `sc_cli::Error` and `sc_service::Error` are large, and the sc-cli and sc-service APIs return
// them from every runner and builder: boxing them here would only convert back and forth.
#![allow(clippy::result_large_err)]

mod babe_equivocation;
mod chain_spec;
mod cli;
mod command;
mod content_exchange;
mod fault;
mod rpc;
mod service;

fn main() -> sc_cli::Result<()> {
	// `gateless-node inference-worker ...`: the node's own binary as the sandboxed process that
	// loads and runs models (see `gateless_inference_engine::worker`). Checked before anything of
	// Substrate starts, so that no panic handler, logger or runtime exists in the worker.
	let mut args = std::env::args_os().skip(1);
	if args.next().is_some_and(|first| first == gateless_inference_engine::WORKER_ARG) {
		let options = args.map(|arg| arg.to_string_lossy().into_owned());
		std::process::exit(gateless_inference_engine::run_worker(options));
	}
	command::run()
}
