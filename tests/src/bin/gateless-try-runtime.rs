//! Runs try-runtime's checks against a live Gateless node (see `gateless_e2e::try_runtime`).
//!
//! ```text
//! gateless-try-runtime [--uri ws://127.0.0.1:9944] [--blocks N] [--fast-forward M]
//!                      [--runtime FILE.wasm]
//! ```
//!
//! on-runtime-upgrade on the finalized block's state, then execute-block on the last `N` (5)
//! finalized blocks, then fast-forward: `M` (12, past a session's end) blocks built on the
//! finalized block's state; each block with every pallet's `try_state`. The runtime is the WASM this binary
//! was built with (this repository's runtime with the `try-runtime` feature; blocks of the
//! upgrade test's next version are executed by that version's build), or `--runtime`, a WASM
//! blob that has the `TryRuntime` API (then every block must be of its spec version). Exits non-zero, saying why, at the first failure.

use std::process::ExitCode;

use gateless_e2e::{
	rpc::Rpc,
	try_runtime::{check_block, check_fast_forward, check_upgrade, TryRuntime, TryRuntimes},
};

struct Args {
	uri: String,
	blocks: u32,
	fast_forward: u32,
	runtime: Option<String>,
}

fn usage() -> String {
	"usage: gateless-try-runtime [--uri ws://127.0.0.1:9944] [--blocks N] [--fast-forward M] \
	 [--runtime FILE.wasm]"
		.into()
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
	let mut parsed =
		Args { uri: "ws://127.0.0.1:9944".into(), blocks: 5, fast_forward: 12, runtime: None };
	while let Some(arg) = args.next() {
		let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value\n{}", usage()));
		match arg.as_str() {
			"--uri" => parsed.uri = value()?,
			"--blocks" => {
				parsed.blocks =
					value()?.parse().map_err(|e| format!("--blocks: {e}\n{}", usage()))?
			},
			"--fast-forward" => {
				parsed.fast_forward =
					value()?.parse().map_err(|e| format!("--fast-forward: {e}\n{}", usage()))?
			},
			"--runtime" => parsed.runtime = Some(value()?),
			"--help" | "-h" => return Err(usage()),
			other => return Err(format!("unknown argument {other}\n{}", usage())),
		}
	}
	Ok(parsed)
}

async fn run(args: Args) -> Result<(), String> {
	let runtimes = match &args.runtime {
		Some(path) => TryRuntimes::only(TryRuntime::with_code(
			std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?,
		)?),
		None => TryRuntimes::built()?,
	};
	let runtime = runtimes.current();
	let rpc = Rpc::connect(&args.uri).await?;
	let (head, number) = rpc.finalized_head().await?;
	println!(
		"try-runtime: runtime spec {}, {} at finalized block {number}",
		runtime.spec_version(),
		args.uri
	);
	let upgrade = check_upgrade(&rpc, runtime, head).await?;
	println!(
		"on-runtime-upgrade on block {number}'s state: passed (weight {}, a block's {})",
		upgrade.weight, upgrade.max_block
	);
	for block in number.saturating_sub(args.blocks.saturating_sub(1)).max(1)..=number {
		let hash = rpc.block_hash(block).await?.ok_or_else(|| format!("no block {block}"))?;
		let (weight, _) = check_block(&rpc, &runtimes, hash).await?;
		println!("execute-block {block} with try_state of every pallet: passed (weight {weight})");
	}
	for (block, weight) in check_fast_forward(&rpc, &runtimes, head, args.fast_forward).await? {
		println!("fast-forward: block {block} built and executed with try_state: passed (weight {weight})");
	}
	Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
	let args = match parse(std::env::args().skip(1)) {
		Ok(args) => args,
		Err(message) => {
			eprintln!("{message}");
			return ExitCode::from(2);
		},
	};
	match run(args).await {
		Ok(()) => ExitCode::SUCCESS,
		Err(message) => {
			eprintln!("try-runtime: {message}");
			ExitCode::FAILURE
		},
	}
}
