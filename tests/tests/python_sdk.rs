//! The Python SDK (`clients/python`, `from gateless import Gateless`) against a real dev node: its
//! own pytest suite registers the recurrent cell and the digits classifier, quotes, runs jobs on
//! named inputs (inline and uploaded through the data plane) and checks the outputs against
//! onnxruntime, and raises each typed error by the chain's name (unknown model, bad shapes, fee
//! above the maximum, no funds), replays a verified job (`Gateless.verify`, through the `gateless`
//! command line) and runs the SDK README's example as written (`test_readme_example.py`).
//! `scripts/setup-clients.sh` installs the SDK and pytest into `clients/python/.venv`; without
//! them this test fails and says so rather than skip.

use std::{process::Command, time::Instant};

use gateless_e2e::{
	node::{node_binary, Node, NodeConfig},
	rpc::wait_for_finalized,
};
use gateless_inference_engine::reference::repository_root;

#[tokio::test(flavor = "multi_thread")]
async fn the_python_sdk_registers_quotes_infers_and_names_the_chains_errors() {
	let sdk = repository_root().join("clients/python");
	let pytest = sdk.join(".venv/bin/pytest");
	assert!(
		pytest.is_file(),
		"{} not found: run scripts/setup-clients.sh (scripts/test.sh does), which installs the \
		 SDK with its test extras into clients/python/.venv",
		pytest.display()
	);
	let (node, rpc) = Node::start(NodeConfig::dev().unwrap()).await.unwrap();
	wait_for_finalized(&node, &rpc, 1, std::time::Duration::from_secs(60))
		.await
		.unwrap();

	let started = Instant::now();
	let output = Command::new(&pytest)
		.arg(sdk.join("tests"))
		.args(["-q", "-p", "no:cacheprovider", "--durations=5"])
		.env("GATELESS_URL", node.rpc_url())
		// `Gateless.verify` replays a job through the `gateless` command line.
		.env("GATELESS_CLIENT_BIN", node_binary().unwrap().with_file_name("gateless"))
		.current_dir(&sdk)
		.output()
		.expect("pytest runs");
	let printed = format!(
		"{}{}",
		String::from_utf8_lossy(&output.stdout),
		String::from_utf8_lossy(&output.stderr)
	);
	eprintln!("[python_sdk] pytest took {:?}:\n{printed}", started.elapsed());
	assert!(
		output.status.success(),
		"{}",
		node.failure(&format!("the SDK's tests failed:\n{printed}"))
	);
	node.stop().unwrap();
}
