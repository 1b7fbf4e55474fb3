//! The marketplace page in a real browser against a real dev node: `gateless web` serves the
//! embedded page (`web/dist`) and its `config.json` naming the node; the page's own browser test
//! (`web/tests/browser.test.mjs`, playwright-core driving Debian's chromium headless) registers
//! the digits classifier if the chain has none, then checks that the catalogue lists it with its
//! statistics, that a user runs it from the Try-it panel with a PNG and sees the verified classes,
//! that a bad input shows the quote's and the chain's errors by name, that the validators page
//! shows Alice, and that the live feed shows blocks and jobs. Screenshots go to
//! `web/test-artifacts/`. `scripts/setup-clients.sh` installs chromium and the page's npm
//! packages; without them this test fails and says so.

use std::{
	io::{BufRead, BufReader},
	process::{Command, Stdio},
	time::{Duration, Instant},
};

use gateless_e2e::{
	node::{node_binary, Node, NodeConfig},
	rpc::wait_for_finalized,
};
use gateless_inference_engine::reference::repository_root;

/// Kills `gateless web` when the test ends, however it ends.
struct Served(std::process::Child);

impl Drop for Served {
	fn drop(&mut self) {
		let _ = self.0.kill();
		let _ = self.0.wait();
	}
}

#[tokio::test(flavor = "multi_thread")]
async fn the_marketplace_page_runs_a_model_in_a_real_browser() {
	let web = repository_root().join("web");
	for needed in ["node_modules/playwright-core", "dist/index.html"] {
		assert!(
			web.join(needed).exists(),
			"web/{needed} not found: run scripts/setup-clients.sh (scripts/test.sh does)"
		);
	}
	let client = node_binary().unwrap().with_file_name("gateless");
	assert!(client.is_file(), "{} not found: build gateless-client first", client.display());
	let (node, rpc) = Node::start(NodeConfig::dev().unwrap()).await.unwrap();
	wait_for_finalized(&node, &rpc, 1, Duration::from_secs(60)).await.unwrap();

	// `gateless web` on a free port; its first line names the address.
	let mut serving = Served(
		Command::new(&client)
			.args(["--url", node.rpc_url().as_str(), "web", "--listen", "127.0.0.1:0"])
			.stdout(Stdio::piped())
			.spawn()
			.expect("gateless web starts"),
	);
	let mut first_line = String::new();
	BufReader::new(serving.0.stdout.take().expect("piped"))
		.read_line(&mut first_line)
		.expect("gateless web prints its address");
	let page = first_line
		.split_whitespace()
		.find(|word| word.starts_with("http://"))
		.unwrap_or_else(|| panic!("no address in {first_line:?}"))
		.to_string();

	let started = Instant::now();
	let output = Command::new("node")
		.args(["--test", "tests/browser.test.mjs"])
		.env("GATELESS_URL", node.rpc_url())
		.env("GATELESS_WEB_URL", &page)
		.current_dir(&web)
		.output()
		.expect("node runs the browser test");
	let printed = format!(
		"{}{}",
		String::from_utf8_lossy(&output.stdout),
		String::from_utf8_lossy(&output.stderr)
	);
	eprintln!("[web] the browser test took {:?} against {page}:\n{printed}", started.elapsed());
	assert!(
		output.status.success(),
		"{}",
		node.failure(&format!(
			"the browser test failed (screenshots in web/test-artifacts):\n{printed}"
		))
	);
	drop(serving);
	node.stop().unwrap();
}
