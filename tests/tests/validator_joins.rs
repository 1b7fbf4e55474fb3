//! Stake decides who validates: on the `local` chain (genesis validators Alice, Bob, Charlie and
//! Dave, of whom Dave stays offline here), a node run by Eve generates session keys over RPC,
//! bonds, registers the keys and declares itself a candidate; a session or two later it is in the
//! set and authors blocks, and the chain keeps finalizing with four of five GRANDPA voters online.

use std::time::{Duration, Instant};

use codec::{Decode, Encode};
use gateless_e2e::{
	node::{Node, NodeConfig, Ports},
	rpc::{wait_for_finalized, Rpc},
	tx::ChainContext,
};
use gateless_primitives::staking::ValidatorSummary;
use gateless_runtime::{
	configs::SESSION_LENGTH, token::UNIT, AccountId, Balance, RuntimeCall, RuntimeEvent,
	SessionKeys,
};
use jsonrpsee::rpc_params;
use sp_keyring::Sr25519Keyring;

const INCLUSION_TIMEOUT: Duration = Duration::from_secs(60);
/// Six-second blocks: a session is `SESSION_LENGTH` blocks.
const SESSION: Duration = Duration::from_secs(6 * SESSION_LENGTH as u64);

fn node_key(index: u8) -> String {
	hex::encode([index + 1; 32])
}

fn node(name: &str, index: u8, role: &str, bootnode: Option<String>) -> NodeConfig {
	let mut extra_args = vec!["--node-key".to_string(), node_key(index)];
	if let Some(bootnode) = bootnode {
		extra_args.extend(["--bootnodes".to_string(), bootnode]);
	}
	NodeConfig {
		name: name.into(),
		chain_args: vec!["--chain".into(), "local".into(), role.into()],
		ports: Ports::free().unwrap(),
		extra_args,
	}
}

/// Submits `call` signed by `signer` and fails unless it succeeded.
async fn submit_ok(rpc: &Rpc, context: ChainContext, signer: Sr25519Keyring, call: RuntimeCall) {
	let (_, events) = rpc
		.submit_signed(context, signer, call.clone(), INCLUSION_TIMEOUT)
		.await
		.unwrap();
	let failed = events.iter().any(|event| {
		matches!(event, RuntimeEvent::System(frame_system::Event::ExtrinsicFailed { .. }))
	});
	assert!(!failed, "{call:?} failed: {events:?}");
}

async fn summary(rpc: &Rpc, who: &AccountId) -> Option<ValidatorSummary<AccountId, Balance>> {
	let at = rpc.best_hash().await.unwrap();
	rpc.runtime_api("ValidatorStakingApi_validator", &who.encode(), at)
		.await
		.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_that_bonds_and_validates_joins_the_set_and_authors_blocks() {
	let (alice, alice_rpc) = Node::start(node("alice", 0, "--alice", None)).await.unwrap();
	let bootnode = alice.p2p_address(&alice_rpc.local_peer_id().await.unwrap());
	let (bob, _) = Node::start(node("bob", 1, "--bob", Some(bootnode.clone()))).await.unwrap();
	let (charlie, _) = Node::start(node("charlie", 2, "--charlie", Some(bootnode.clone())))
		.await
		.unwrap();
	// Eve runs a validator node with an empty keystore.
	let (eve_node, eve_rpc) =
		Node::start(node("eve", 4, "--validator", Some(bootnode))).await.unwrap();
	wait_for_finalized(&alice, &alice_rpc, 2, Duration::from_secs(180))
		.await
		.unwrap();

	let context = alice_rpc.chain_context().await.unwrap();
	let eve = Sr25519Keyring::Eve;
	let eve_account = eve.to_account_id();
	assert_eq!(summary(&alice_rpc, &eve_account).await, None, "Eve has not bonded yet");

	// Eve's node makes session keys (BABE, GRANDPA, inference) in its keystore, with the proof
	// that Eve owns them.
	let generated = eve_rpc
		.call(
			"author_rotateKeysWithOwner",
			rpc_params![gateless_e2e::rpc::to_hex(&eve_account.encode())],
		)
		.await
		.unwrap();
	let hex_field = |name: &str| {
		let text = generated[name].as_str().unwrap_or_else(|| panic!("no {name}: {generated}"));
		hex::decode(text.trim_start_matches("0x")).unwrap()
	};
	let keys = SessionKeys::decode(&mut &hex_field("keys")[..]).unwrap();
	let proof = hex_field("proof");

	// Bond, register the keys, validate: what a new operator does.
	let bond = 2_000 * UNIT;
	submit_ok(
		&alice_rpc,
		context,
		eve,
		RuntimeCall::Staking(pallet_validator_staking::Call::bond { amount: bond }),
	)
	.await;
	submit_ok(
		&alice_rpc,
		context,
		eve,
		RuntimeCall::Session(pallet_session::Call::set_keys { keys: keys.clone(), proof }),
	)
	.await;
	submit_ok(
		&alice_rpc,
		context,
		eve,
		RuntimeCall::Staking(pallet_validator_staking::Call::validate {}),
	)
	.await;
	let candidate = summary(&alice_rpc, &eve_account).await.unwrap();
	assert!(candidate.candidate && !candidate.active, "{candidate:?}");
	assert_eq!(candidate.bond, bond);

	// The set is planned one session ahead: Eve is in it within about two sessions.
	let deadline = Instant::now() + 3 * SESSION + Duration::from_secs(60);
	loop {
		alice.ensure_running().unwrap();
		if summary(&alice_rpc, &eve_account).await.is_some_and(|s| s.active) {
			break;
		}
		assert!(Instant::now() < deadline, "{}", alice.failure("Eve never joined the set"));
		tokio::time::sleep(Duration::from_secs(2)).await;
	}
	let at = alice_rpc.best_hash().await.unwrap();
	let epoch: sp_consensus_babe::Epoch =
		alice_rpc.runtime_api("BabeApi_current_epoch", &[], at).await.unwrap();
	let authorities: Vec<_> = epoch.authorities.into_iter().map(|(key, _)| key).collect();
	// Alice, Bob, Charlie and Dave from genesis, and Eve.
	assert_eq!(authorities.len(), 5, "{authorities:?}");
	assert!(authorities.contains(&keys.babe), "Eve's BABE key is an authority");
	let joined_at = alice_rpc.block_number(at).await.unwrap();

	// Eve's node authors blocks in its slots (one in five).
	let deadline = Instant::now() + SESSION + Duration::from_secs(60);
	while !eve_node.log().contains("Pre-sealed block for proposal") {
		eve_node.ensure_running().unwrap();
		assert!(
			Instant::now() < deadline,
			"{}",
			eve_node.failure("Eve is a validator but authored no block")
		);
		tokio::time::sleep(Duration::from_secs(2)).await;
	}

	// Finality goes on with Eve among the GRANDPA voters.
	wait_for_finalized(&alice, &alice_rpc, joined_at + 3, Duration::from_secs(180))
		.await
		.unwrap();

	for node in [alice, bob, charlie, eve_node] {
		let name = node.config.name.clone();
		let status = node.stop().unwrap();
		assert!(status.success(), "{name} did not exit cleanly: {status}");
	}
}
