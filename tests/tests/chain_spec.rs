//! The committed chain specs in `chain-spec/` are what the node generates from the runtime's
//! genesis presets. Regenerate them with `scripts/chain-specs.sh` when a preset changes.
//!
//! The WASM code inside a spec is compared by the runtime version it carries (spec name, spec
//! and transaction versions), not byte for byte: the blob's bytes depend on the path the
//! workspace is built in, and `spec_version` is what must change with the runtime's behaviour.

use std::{path::PathBuf, process::Command};

use gateless_e2e::node::node_binary;
use serde_json::Value;

fn workspace_root() -> PathBuf {
	gateless_inference_engine::reference::repository_root()
}

fn generated_spec(chain: &str) -> Value {
	let output = Command::new(node_binary().unwrap())
		.args(["build-spec", "--chain", chain, "--disable-default-bootnode"])
		.output()
		.unwrap();
	assert!(
		output.status.success(),
		"build-spec failed: {}",
		String::from_utf8_lossy(&output.stderr)
	);
	serde_json::from_slice(&output.stdout).unwrap()
}

/// Removes the WASM code from a spec and returns it, decoded from hex.
fn take_code(spec: &mut Value) -> Vec<u8> {
	let code = spec["genesis"]["runtimeGenesis"]
		.as_object_mut()
		.and_then(|genesis| genesis.remove("code"))
		.expect("a plain chain spec has genesis.runtimeGenesis.code");
	hex::decode(code.as_str().unwrap().trim_start_matches("0x")).unwrap()
}

fn assert_committed_spec_is_current(chain: &str, file: &str) {
	let path = workspace_root().join("chain-spec").join(file);
	let text = std::fs::read_to_string(&path)
		.unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
	let mut committed: Value = serde_json::from_str(&text).unwrap();
	let mut generated = generated_spec(chain);

	let committed_code = take_code(&mut committed);
	take_code(&mut generated);
	assert!(
		committed == generated,
		"{} is out of date: run scripts/chain-specs.sh\ncommitted: {committed:#}\ngenerated: {generated:#}",
		path.display()
	);

	let blob = sc_executor_common::runtime_blob::RuntimeBlob::uncompress_if_needed(&committed_code)
		.unwrap();
	let version = sc_executor::read_embedded_version(&blob).unwrap().unwrap();
	let current = gateless_runtime::VERSION;
	assert_eq!(
		(version.spec_name.as_ref(), version.spec_version, version.transaction_version),
		(current.spec_name.as_ref(), current.spec_version, current.transaction_version),
		"the runtime in {} is not this runtime's version: run scripts/chain-specs.sh",
		path.display()
	);
}

#[test]
fn committed_dev_spec_is_current() {
	assert_committed_spec_is_current("dev", "dev.json");
}

#[test]
fn committed_local_spec_is_current() {
	assert_committed_spec_is_current("local", "local.json");
}
