//! The Gateless node as a library: `gateless-node`, the validator and full node that operators
//! run, and `gateless-malus`, a test-only validator that misbehaves on purpose (see
//! [`Misbehaviour`]), are built from it.

// `sc_cli::Error` and `sc_service::Error` are large, and the sc-cli and sc-service APIs return
// them from every runner and builder: boxing them here would only convert back and forth.
#![allow(clippy::result_large_err)]

mod babe_equivocation;
mod chain_spec;
mod cli;
mod command;
mod content_exchange;
mod rpc;
mod service;

use std::{ffi::OsString, sync::Arc};

use gateless_inference_engine::Engine;
use gateless_primitives::inference::InferenceExt;

/// How a test-only validator changes what an honest one does, so that a test network shows how
/// the chain catches it. Only `gateless-malus` has one: the `gateless-node` that operators run
/// cannot misbehave even by mistake (as Polkadot keeps its `malus` nodes apart). Refused on
/// `Live` chains.
pub trait Misbehaviour: Send + Sync + 'static {
	/// What it does, for the node's warning.
	fn describe(&self) -> String;

	/// The inference host the offchain workers get instead of the honest `engine`.
	fn inference_host(&self, engine: Engine) -> InferenceExt;

	/// Whether every chunk of content this node serves to peers has its first byte flipped.
	fn corrupts_served_content(&self) -> bool;
}

/// Runs the node with the command line `args` (the binary's name first), misbehaving as
/// `misbehaviour` says if it is given; `inference-worker` runs the sandboxed inference worker.
pub fn run(args: Vec<OsString>, misbehaviour: Option<Arc<dyn Misbehaviour>>) -> sc_cli::Result<()> {
	// `<binary> inference-worker ...`: the node's own binary as the sandboxed process that loads
	// and runs models (see `gateless_inference_engine::worker`). Checked before anything of
	// Substrate starts, so that no panic handler, logger or runtime exists in the worker.
	if args.get(1).is_some_and(|first| first == gateless_inference_engine::WORKER_ARG) {
		let options = args.iter().skip(2).map(|arg| arg.to_string_lossy().into_owned());
		std::process::exit(gateless_inference_engine::run_worker(options));
	}
	command::run(args, misbehaviour)
}
