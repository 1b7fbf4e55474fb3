//! Equivocation is punished: on the `local` chain with its four validators (Alice, Bob, Charlie,
//! Dave), a fifth node is started with Alice's keys (`--alice`), as an operator who runs a backup
//! node beside the live one would. Both vote in GRANDPA's rounds as Alice (two votes of one voter
//! in one round) and both author her BABE slots (two blocks of one author in one slot); the nodes
//! that see both report the equivocation (an unsigned transaction with a session-historical proof
//! of her key), a block includes it, the offences pallet records it and the staking pallet
//! slashes Alice (the runtime's cap, a tenth of her bond, however many offences of the session are
//! reported), chills her and disables her. The chain goes on finalizing with the honest
//! validators, and nobody else loses anything. GRANDPA's report usually lands first (every round
//! has Alice vote twice, while only about a quarter of the slots are hers); the test watches a few
//! more blocks for BABE's and prints what it saw.

use std::time::{Duration, Instant};

use codec::Encode;
use gateless_e2e::{
	network::{LocalNetwork, NetworkConfig},
	node::{Node, NodeConfig, Ports},
	rpc::{wait_for_finalized, Rpc},
};
use gateless_primitives::{staking::ValidatorSummary, traits::SlashReason};
use gateless_runtime::{
	configs::MaxOffenceSlash, genesis_config_presets::GENESIS_VALIDATOR_BOND, AccountId, Balance,
	RuntimeEvent,
};
use sp_keyring::Sr25519Keyring::{Alice, Bob, Charlie, Dave};

/// Within this many blocks both of Alice's nodes have voted in a GRANDPA round and authored in
/// one of her slots many times over, and a report has been included.
const MAX_BLOCKS_TO_PUNISH: u32 = 60;
/// Blocks watched after the first punishment, for the other kind of report.
const BLOCKS_AFTER_PUNISHMENT: u32 = 10;

async fn summary(rpc: &Rpc, who: &AccountId) -> ValidatorSummary<AccountId, Balance> {
	let at = rpc.best_hash().await.unwrap();
	let summary: Option<ValidatorSummary<AccountId, Balance>> = rpc
		.runtime_api("ValidatorStakingApi_validator", &who.encode(), at)
		.await
		.unwrap();
	summary.expect("a genesis validator has a record")
}

/// What the block at `number` of Bob's chain says about equivocations: the offence kinds
/// recorded, and the staking pallet's slashes and offence reports.
#[derive(Default, Debug)]
struct Punishment {
	offence_kinds: Vec<[u8; 16]>,
	slashes: Vec<(AccountId, Balance, SlashReason)>,
	reported: Vec<AccountId>,
	/// Extrinsics that failed, with their errors (a refused report would show here).
	failed: Vec<(u32, String)>,
}

/// What every node logged about equivocations, for a failure's message.
fn equivocation_lines(network: &LocalNetwork, twin: &Node) -> String {
	let mut lines = String::new();
	let nodes = network.validators.iter().map(|validator| &validator.node).chain([twin]);
	for node in nodes {
		for line in node.log().lines().filter(|line| line.contains("quivocat")) {
			lines.push_str(&format!("{}: {line}\n", node.config.name));
		}
	}
	lines
}

fn has_kind(seen: &Punishment, prefix: &[u8]) -> bool {
	seen.offence_kinds.iter().any(|kind| kind.starts_with(prefix))
}

async fn punishment_in(rpc: &Rpc, number: u32, seen: &mut Punishment) {
	let hash = rpc.block_hash(number).await.unwrap().expect("a finalized block");
	for event in rpc.events(hash).await.unwrap() {
		match event {
			RuntimeEvent::Offences(pallet_offences::Event::Offence { kind, .. }) => {
				seen.offence_kinds.push(kind)
			},
			RuntimeEvent::Staking(pallet_validator_staking::Event::Slashed {
				who,
				amount,
				reason,
			}) => seen.slashes.push((who, amount, reason)),
			RuntimeEvent::Staking(pallet_validator_staking::Event::OffenceReported {
				who, ..
			}) => seen.reported.push(who),
			RuntimeEvent::System(frame_system::Event::ExtrinsicFailed {
				dispatch_error, ..
			}) => seen.failed.push((number, format!("{dispatch_error:?}"))),
			_ => {},
		}
	}
}

// Not in the default suite: GRANDPA's reports land (the twin's conflicting votes are punished
// within a few blocks when they come), but the twin's votes conflict only when its view of the
// chain differs from Alice's node's, which happened within 60 blocks in two runs of four; BABE's
// reports of the twin's blocks (submitted by every node, every few slots) have not reached a
// block yet. `scripts/equivocation.sh` runs it; see the README's "Equivocation".
#[ignore = "reports of BABE equivocations do not land yet; run by scripts/equivocation.sh"]
#[tokio::test(flavor = "multi_thread")]
async fn a_validator_whose_keys_author_on_two_nodes_is_reported_slashed_and_chilled() {
	let started = Instant::now();
	let network = LocalNetwork::start(NetworkConfig::default()).await.unwrap();
	let bob = network.validator(Bob).unwrap();
	let alice_rpc = &network.validator(Alice).unwrap().rpc;
	let bootnode = network
		.validator(Alice)
		.unwrap()
		.node
		.p2p_address(&alice_rpc.local_peer_id().await.unwrap());
	let (_, from) = bob.rpc.finalized_head().await.unwrap();
	eprintln!("[equivocation] network up at block {from} after {:?}", started.elapsed());

	// Alice's second node: her keys (`--alice`), its own node key and base path.
	let (mut twin, _) = Node::start(NodeConfig {
		name: "alice-twin".into(),
		chain_args: vec!["--chain".into(), "local".into(), "--alice".into()],
		ports: Ports::free().unwrap(),
		extra_args: vec![
			"--node-key".into(),
			hex::encode([9u8; 32]),
			"--bootnodes".into(),
			bootnode,
		],
	})
	.await
	.unwrap();

	let alice = Alice.to_account_id();
	let mut seen = Punishment::default();
	let mut number = from;
	while seen.reported.is_empty() {
		number += 1;
		assert!(
			number <= from + MAX_BLOCKS_TO_PUNISH,
			"no equivocation punished by block {number}: {seen:?}\n{}",
			equivocation_lines(&network, &twin)
		);
		wait_for_finalized(&bob.node, &bob.rpc, number, Duration::from_secs(120))
			.await
			.unwrap();
		punishment_in(&bob.rpc, number, &mut seen).await;
	}
	let punished_at = number;
	while number < punished_at + BLOCKS_AFTER_PUNISHMENT
		&& !(has_kind(&seen, b"babe:") && has_kind(&seen, b"grandpa:"))
	{
		number += 1;
		wait_for_finalized(&bob.node, &bob.rpc, number, Duration::from_secs(120))
			.await
			.unwrap();
		punishment_in(&bob.rpc, number, &mut seen).await;
	}
	let kinds: Vec<String> = seen
		.offence_kinds
		.iter()
		.map(|kind| String::from_utf8_lossy(kind).into_owned())
		.collect();
	eprintln!(
		"[equivocation] punished in block {punished_at} ({} after the twin started); offences \
		 by block {number}: {kinds:?}",
		punished_at - from
	);
	twin.kill().unwrap();

	assert!(
		seen.offence_kinds
			.iter()
			.all(|kind| kind.starts_with(b"babe:") || kind.starts_with(b"grandpa:")),
		"only equivocations: {kinds:?}"
	);
	// Whatever both consensus protocols report, only Alice is punished, and at most the cap.
	assert!(seen.reported.iter().all(|who| *who == alice), "{seen:?}");
	let slashed: Balance = seen
		.slashes
		.iter()
		.map(|(who, amount, reason)| {
			assert_eq!((who, *reason), (&alice, SlashReason::Equivocation), "{seen:?}");
			*amount
		})
		.sum();
	let cap = MaxOffenceSlash::get() * GENESIS_VALIDATOR_BOND;
	assert!(slashed > 0 && slashed <= cap, "slashed {slashed}, the cap is {cap}");

	let record = summary(&bob.rpc, &alice).await;
	assert!(!record.candidate, "the offender is chilled: {record:?}");
	assert_eq!(record.counters.slashed, slashed);
	assert_eq!(record.bond + record.unlocking, GENESIS_VALIDATOR_BOND - slashed);
	for honest in [Bob, Charlie, Dave] {
		let record = summary(&bob.rpc, &honest.to_account_id()).await;
		assert!(record.candidate && record.counters.slashed == 0, "{honest:?}: {record:?}");
	}

	// The honest validators (and Alice's first node, disabled for BABE) go on finalizing.
	let (_, now) = bob.rpc.finalized_head().await.unwrap();
	wait_for_finalized(&bob.node, &bob.rpc, now + 3, Duration::from_secs(120))
		.await
		.unwrap();
	eprintln!("[equivocation] done after {:?}", started.elapsed());
	network.stop().unwrap();
}
