//! `gateless-node`: the Gateless validator and full node.

// `sc_cli::Error` is large; `main` returns it as sc-cli's runners do (see `lib.rs`).
#![allow(clippy::result_large_err)]

fn main() -> sc_cli::Result<()> {
	gateless_node::run(std::env::args_os().collect(), None)
}
