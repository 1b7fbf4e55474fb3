//! Three validators of the `local` chain (Alice, Bob, Charlie) on loopback find each other,
//! author blocks in turn and finalize the same chain.

use std::time::Duration;

use gateless_e2e::{
	node::{Node, NodeConfig, Ports},
	rpc::{wait_for_finalized, Rpc},
};

/// A fixed, valid ed25519 node key per validator, so that restarts keep their peer ids.
fn node_key(index: u8) -> String {
	hex::encode([index + 1; 32])
}

fn validator(name: &str, index: u8, bootnode: Option<String>) -> NodeConfig {
	let mut extra_args = vec!["--node-key".to_string(), node_key(index)];
	if let Some(bootnode) = bootnode {
		extra_args.extend(["--bootnodes".to_string(), bootnode]);
	}
	NodeConfig {
		name: name.into(),
		chain_args: vec!["--chain".into(), "local".into(), format!("--{name}")],
		ports: Ports::free().unwrap(),
		extra_args,
	}
}

#[tokio::test(flavor = "multi_thread")]
async fn three_validators_finalize_the_same_chain() {
	let (alice, alice_rpc) = Node::start(validator("alice", 0, None)).await.unwrap();
	let bootnode = alice.p2p_address(&alice_rpc.local_peer_id().await.unwrap());
	let (bob, bob_rpc) = Node::start(validator("bob", 1, Some(bootnode.clone()))).await.unwrap();
	let (charlie, charlie_rpc) =
		Node::start(validator("charlie", 2, Some(bootnode))).await.unwrap();
	let network: [(&Node, &Rpc); 3] =
		[(&alice, &alice_rpc), (&bob, &bob_rpc), (&charlie, &charlie_rpc)];

	// GRANDPA with three voters needs all three: finality proves that they are connected.
	let target = 3;
	let mut lowest_finalized = u32::MAX;
	for (node, rpc) in network {
		let (_, number) =
			wait_for_finalized(node, rpc, target, Duration::from_secs(180)).await.unwrap();
		lowest_finalized = lowest_finalized.min(number);
	}

	let mut hashes = Vec::new();
	for (node, rpc) in network {
		let hash = rpc.block_hash(lowest_finalized).await.unwrap();
		hashes.push(hash.unwrap_or_else(|| panic!("{}", node.failure("has no such block"))));
	}
	assert!(
		hashes.iter().all(|hash| *hash == hashes[0]),
		"finalized block {lowest_finalized} differs between validators: {hashes:?}"
	);

	// One chain: the same genesis everywhere.
	let genesis = alice_rpc.genesis_hash().await.unwrap();
	assert_eq!(bob_rpc.genesis_hash().await.unwrap(), genesis);
	assert_eq!(charlie_rpc.genesis_hash().await.unwrap(), genesis);

	for node in [alice, bob, charlie] {
		let name = node.config.name.clone();
		let status = node.stop().unwrap();
		assert!(status.success(), "{name} did not exit cleanly: {status}");
	}
}
