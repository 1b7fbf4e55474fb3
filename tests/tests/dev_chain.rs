//! A single-validator dev chain: blocks are produced and finalized, a signed balance transfer is
//! included and changes state, the node runs the WASM runtime and stops cleanly.

use std::time::Duration;

use gateless_e2e::{
	node::{Node, NodeConfig},
	rpc::wait_for_finalized,
	tx::{signed_extrinsic, ChainContext},
};
use gateless_runtime::{token::UNIT, AccountId, Balance, BalancesCall, Nonce, Runtime, RuntimeCall};
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

	// Alice sends Bob 42 GATE.
	let alice = Sr25519Keyring::Alice;
	let bob = Sr25519Keyring::Bob.to_account_id();
	let amount: Balance = 42 * UNIT;
	let before_hash = rpc.best_hash().await.unwrap();
	let bob_before: AccountInfo =
		rpc.storage_decoded(&account_key(&bob), before_hash).await.unwrap().unwrap();

	let context = ChainContext {
		genesis_hash: rpc.genesis_hash().await.unwrap(),
		spec_version: version.spec_version,
		transaction_version: version.transaction_version,
	};
	let nonce = rpc.account_next_index(&alice.to_account_id().to_ss58check()).await.unwrap();
	let call = RuntimeCall::Balances(BalancesCall::transfer_keep_alive {
		dest: bob.clone().into(),
		value: amount,
	});
	let extrinsic = signed_extrinsic(call, &alice.pair(), nonce, context);
	let included_in =
		rpc.submit_and_wait_in_block(&extrinsic, Duration::from_secs(60)).await.unwrap();

	let bob_after: AccountInfo =
		rpc.storage_decoded(&account_key(&bob), included_in).await.unwrap().unwrap();
	assert_eq!(bob_after.data.free, bob_before.data.free + amount);
	let alice_nonce_after = rpc.account_next_index(&alice.to_account_id().to_ss58check()).await;
	assert_eq!(alice_nonce_after.unwrap(), nonce + 1);

	let status = node.stop().unwrap();
	assert!(status.success(), "the node did not exit cleanly on SIGTERM: {status}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_that_cannot_start_fails_the_test_quickly() {
	// Take the RPC port first: the node must refuse to start, and the harness must say why
	// instead of waiting for the startup timeout.
	let mut config = NodeConfig::dev().unwrap();
	let taken = std::net::TcpListener::bind(("127.0.0.1", config.ports.rpc)).unwrap();
	config.name = "port-taken".into();
	let started = std::time::Instant::now();
	let error = match Node::start(config).await {
		Ok(_) => panic!("the node started although its RPC port was taken"),
		Err(error) => error,
	};
	assert!(error.contains("exited unexpectedly"), "unexpected error: {error}");
	assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());
	drop(taken);
}
