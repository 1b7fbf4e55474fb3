//! A single-validator dev chain: blocks are produced and finalized, a signed balance transfer is
//! included and changes state, try-runtime's checks pass on it, the node runs the WASM runtime
//! and stops cleanly.

use std::time::{Duration, Instant};

use gateless_e2e::{
	node::{Node, NodeConfig},
	rpc::wait_for_finalized,
	tx::signed_extrinsic,
};
use gateless_runtime::{
	token::UNIT, AccountId, Balance, BalancesCall, Nonce, Runtime, RuntimeCall,
};
use jsonrpsee::rpc_params;
use sp_core::crypto::Ss58Codec;
use sp_keyring::Sr25519Keyring;

type AccountInfo = frame_system::AccountInfo<Nonce, pallet_balances::AccountData<Balance>>;

fn account_key(account: &AccountId) -> Vec<u8> {
	frame_system::Account::<Runtime>::hashed_key_for(account)
}

#[tokio::test(flavor = "multi_thread")]
async fn dev_chain_finalizes_and_applies_a_signed_transfer() {
	let (node, rpc) = Node::start(NodeConfig::dev().unwrap()).await.unwrap();

	// Blocks are authored and finalized.
	wait_for_finalized(&node, &rpc, 3, Duration::from_secs(120)).await.unwrap();

	// The runtime that runs is the WASM blob of this build, and the node says so.
	let version = rpc.runtime_version().await.unwrap();
	assert_eq!(version.spec_name, gateless_runtime::VERSION.spec_name);
	assert_eq!(version.spec_version, gateless_runtime::VERSION.spec_version);
	let expected_log = format!(
		"Runtime: {} spec version {} (WASM",
		gateless_runtime::VERSION.spec_name,
		gateless_runtime::VERSION.spec_version
	);
	assert!(node.log().contains(&expected_log), "{}", node.failure("did not log its runtime"));

	// The standard RPC families are served, and Prometheus reports the chain's progress.
	let methods = rpc.call("rpc_methods", rpc_params![]).await.unwrap();
	for method in [
		"system_health",
		"system_accountNextIndex",
		"chain_getBlock",
		"state_getStorage",
		"author_submitAndWatchExtrinsic",
		"payment_queryInfo",
	] {
		assert!(methods["methods"].as_array().unwrap().iter().any(|m| m == method), "{method}");
	}
	let metrics = node.prometheus_metrics().unwrap();
	assert!(metrics.contains("substrate_block_height{status=\"finalized\""), "{metrics:.2000}");

	// Alice sends Bob 42 GATE.
	let alice = Sr25519Keyring::Alice;
	let bob = Sr25519Keyring::Bob.to_account_id();
	let amount: Balance = 42 * UNIT;
	let before_hash = rpc.best_hash().await.unwrap();
	let bob_before: AccountInfo =
		rpc.storage_decoded(&account_key(&bob), before_hash).await.unwrap().unwrap();

	let context = rpc.chain_context().await.unwrap();
	let alice_address = alice.to_account_id().to_ss58check();
	let nonce = rpc.account_next_index(&alice_address).await.unwrap();
	let call = RuntimeCall::Balances(BalancesCall::transfer_keep_alive {
		dest: bob.clone().into(),
		value: amount,
	});
	let extrinsic = signed_extrinsic(call, &alice.pair(), nonce, context);
	let fee_info = rpc
		.call("payment_queryInfo", rpc_params![gateless_e2e::rpc::to_hex(&extrinsic)])
		.await;
	let partial_fee: u128 = fee_info.unwrap()["partialFee"].as_str().unwrap().parse().unwrap();
	assert!(partial_fee > 0, "a transfer costs a fee");
	let included_in =
		rpc.submit_and_wait_in_block(&extrinsic, Duration::from_secs(60)).await.unwrap();

	let bob_after: AccountInfo =
		rpc.storage_decoded(&account_key(&bob), included_in).await.unwrap().unwrap();
	assert_eq!(bob_after.data.free, bob_before.data.free + amount);
	assert_eq!(rpc.account_next_index(&alice_address).await.unwrap(), nonce + 1);

	// try-runtime's checks as `scripts/try-runtime.sh` runs them (it builds and runs this
	// binary): on-runtime-upgrade, execute-block, and fast-forward past the session's end.
	wait_for_finalized(
		&node,
		&rpc,
		rpc.block_number(included_in).await.unwrap(),
		Duration::from_secs(60),
	)
	.await
	.unwrap();
	let checks = std::process::Command::new(env!("CARGO_BIN_EXE_gateless-try-runtime"))
		.args(["--uri", &node.rpc_url(), "--blocks", "2", "--fast-forward", "12"])
		.output()
		.unwrap();
	let printed = String::from_utf8_lossy(&checks.stdout);
	assert!(
		checks.status.success(),
		"try-runtime failed: {printed}{}",
		String::from_utf8_lossy(&checks.stderr)
	);
	assert_eq!(printed.matches("fast-forward: block").count(), 12, "{printed}");

	let status = node.stop().unwrap();
	assert!(status.success(), "the node did not exit cleanly on SIGTERM: {status}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_that_cannot_start_fails_at_once_with_its_error() {
	let mut config = NodeConfig::dev().unwrap();
	config.name = "bad-chain".into();
	config.chain_args = vec!["--chain".into(), "/nonexistent/gateless-spec.json".into()];
	let started = Instant::now();
	let Err(error) = Node::start(config).await else {
		panic!("the node started with a chain spec that does not exist")
	};
	assert!(error.contains("exited unexpectedly"), "unexpected error: {error}");
	assert!(error.contains("gateless-spec.json"), "the node's own error is not shown: {error}");
	assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_test_fault_is_refused_on_a_live_chain() {
	// The committed local spec, declared live.
	let spec = std::fs::read_to_string(
		gateless_inference_engine::reference::repository_root().join("chain-spec/local.json"),
	)
	.unwrap();
	let mut spec: serde_json::Value = serde_json::from_str(&spec).unwrap();
	spec["chainType"] = "Live".into();
	let dir = tempfile::tempdir().unwrap();
	let path = dir.path().join("live.json");
	std::fs::write(&path, spec.to_string()).unwrap();

	let mut config = NodeConfig::dev().unwrap();
	config.name = "live-liar".into();
	config.chain_args = vec!["--chain".into(), path.display().to_string(), "--alice".into()];
	// A live chain's node needs its own network key.
	config.extra_args = vec![
		"--node-key".into(),
		hex::encode([7u8; 32]),
		"--test-fault".into(),
		"perturb-output".into(),
	];
	// `gateless-malus`, the only binary that takes `--test-fault`.
	let Err(error) = Node::start(config).await else {
		panic!("a live chain's node started with --test-fault")
	};
	assert!(error.contains("--test-fault perturb-output is for test networks"), "{error}");
}

#[test]
fn the_operators_node_cannot_misbehave() {
	let output = std::process::Command::new(gateless_e2e::node::node_binary().unwrap())
		.args(["--dev", "--tmp", "--test-fault", "perturb-output"])
		.output()
		.unwrap();
	let error = String::from_utf8_lossy(&output.stderr);
	assert_eq!(output.status.code(), Some(2), "{error}");
	assert!(error.contains("unexpected argument '--test-fault'"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_taken_rpc_port_is_a_bounded_failure_not_a_hang() {
	// Something else holds the RPC port and never answers. (The node itself then serves RPC on
	// another port, as sc-rpc-server falls back to a free one.) Waiting for the node must fail
	// within the bound given, saying what did not answer.
	// The squatter takes a port of the system's choosing first, so that no other test's node can
	// take it in between.
	let squatter = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
	let mut config = NodeConfig::dev().unwrap();
	config.ports.rpc = squatter.local_addr().unwrap().port();
	let node = Node::spawn(config).unwrap();
	let started = Instant::now();
	let Err(error) = node.connect(Duration::from_secs(10)).await else {
		panic!("connected to a port that nothing serves")
	};
	assert!(error.contains("did not answer JSON-RPC"), "unexpected error: {error}");
	assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
	drop(squatter);
}
