//! `gateless-malus`: a Gateless validator for test networks that misbehaves on purpose, so that
//! tests (and people trying a local network) watch the chain catch it. Built from the same crates
//! as `gateless-node`, which operators run and which has no way to misbehave.
//!
//! ```text
//! gateless-malus --test-fault FAULT [gateless-node's options]
//! ```
//!
//! FAULT is `perturb-output`, `nudge-output=GRID`, `corrupt-content` or `delay=MS` (see
//! [`fault::TestFault`]). Refused on `Live` chains.

mod fault;

use std::{ffi::OsString, process::ExitCode, sync::Arc};

/// Takes `--test-fault FAULT` (or `--test-fault=FAULT`) out of `args`.
fn take_fault(args: &mut Vec<OsString>) -> Result<fault::TestFault, String> {
	let position = args.iter().position(|arg| {
		arg == "--test-fault" || arg.to_string_lossy().starts_with("--test-fault=")
	});
	let Some(position) = position else {
		return Err("gateless-malus needs --test-fault FAULT (perturb-output, \
		            nudge-output=GRID, corrupt-content or delay=MS)"
			.into());
	};
	let flag = args.remove(position).to_string_lossy().into_owned();
	let value = match flag.split_once('=') {
		Some((_, value)) => value.to_owned(),
		None if position < args.len() => args.remove(position).to_string_lossy().into_owned(),
		None => return Err("--test-fault needs a value".into()),
	};
	value.parse()
}

fn main() -> ExitCode {
	let mut args: Vec<OsString> = std::env::args_os().collect();
	let worker = args.get(1).is_some_and(|first| first == gateless_inference_engine::WORKER_ARG);
	let misbehaviour = if worker {
		// The sandboxed inference worker is the same as an honest node's.
		None
	} else {
		match take_fault(&mut args) {
			Ok(fault) => Some(Arc::new(fault) as Arc<dyn gateless_node::Misbehaviour>),
			Err(error) => {
				eprintln!("{error}");
				return ExitCode::from(2);
			},
		}
	};
	match gateless_node::run(args, misbehaviour) {
		Ok(()) => ExitCode::SUCCESS,
		Err(error) => {
			eprintln!("Error: {error}");
			ExitCode::FAILURE
		},
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn args(list: &[&str]) -> Vec<OsString> {
		list.iter().map(OsString::from).collect()
	}

	#[test]
	fn the_fault_is_taken_out_of_the_node_options() {
		let mut given = args(&["gateless-malus", "--dev", "--test-fault", "delay=5", "--alice"]);
		assert_eq!(
			take_fault(&mut given),
			Ok(fault::TestFault::Delay(std::time::Duration::from_millis(5)))
		);
		assert_eq!(given, args(&["gateless-malus", "--dev", "--alice"]));
		let mut given = args(&["gateless-malus", "--test-fault=perturb-output"]);
		assert_eq!(take_fault(&mut given), Ok(fault::TestFault::PerturbOutput));
		assert!(take_fault(&mut args(&["gateless-malus", "--dev"])).is_err());
		assert!(take_fault(&mut args(&["gateless-malus", "--test-fault"])).is_err());
		assert!(take_fault(&mut args(&["gateless-malus", "--test-fault", "lie"])).is_err());
	}
}
