//! Equivocation is punished: on the `local` chain with its four validators (Alice, Bob, Charlie,
//! Dave), a fifth node is started with Alice's BABE key, as an operator who runs a backup node
//! beside the live one would. Both author her BABE slots (two blocks of one author in one
//! slot); the nodes that see both report the equivocation (an unsigned transaction with a
//! session-historical proof of her key), a block includes it, the offences pallet records it and
//! the staking pallet slashes Alice (the runtime's cap, a tenth of her bond, however many offences
//! of the session are reported), chills her and disables her. The chain goes on finalizing with
//! the honest validators, and nobody else loses anything. BABE's reports are the node's own
//! (`node/src/babe_equivocation.rs`): those of `sc-consensus-babe` carry unsealed headers and fail.
//! The second node has no GRANDPA key (see below); GRANDPA's reports are tested in
//! `runtime/src/tests/equivocation.rs`, and landed on this network in earlier runs when both
//! nodes voted.

use std::time::{Duration, Instant};

use codec::Encode;
use gateless_e2e::{
	network::{LocalNetwork, NetworkConfig},
	node::{node_binary, Node, NodeConfig, Ports},
	rpc::{wait_for_finalized, Rpc},
};
use gateless_primitives::{staking::ValidatorSummary, traits::SlashReason};
use gateless_runtime::{
	configs::MaxOffenceSlash, genesis_config_presets::GENESIS_VALIDATOR_BOND, AccountId, Balance,
	RuntimeCall, RuntimeEvent,
};
use sp_keyring::Sr25519Keyring::{Alice, Bob, Charlie, Dave};

/// Within this many blocks both of Alice's nodes have authored in her slots many times over, and
/// a report has been included.
const MAX_BLOCKS_TO_PUNISH: u32 = 60;

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
	/// Who was reported, for an offence in which session.
	reported: Vec<(AccountId, u32)>,
	/// Extrinsics that failed, with their errors (a refused report would show here).
	failed: Vec<(u32, String)>,
	/// Equivocation reports included (block, `babe`/`grandpa`), whatever their outcome.
	reports: Vec<(u32, &'static str)>,
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
	for extrinsic in rpc.extrinsics(hash).await.unwrap() {
		match extrinsic.function {
			RuntimeCall::Babe(pallet_babe::Call::report_equivocation_unsigned { .. }) => {
				seen.reports.push((number, "babe"))
			},
			RuntimeCall::Grandpa(pallet_grandpa::Call::report_equivocation_unsigned { .. }) => {
				seen.reports.push((number, "grandpa"))
			},
			_ => {},
		}
	}
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
				who,
				session,
				..
			}) => seen.reported.push((who, session)),
			RuntimeEvent::System(frame_system::Event::ExtrinsicFailed {
				dispatch_error, ..
			}) => seen.failed.push((number, format!("{dispatch_error:?}"))),
			_ => {},
		}
	}
}

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

	// Alice's second node: her BABE key only (in a keystore of its own), its own node key and
	// base path. Without her GRANDPA key it does not vote: a GRANDPA offence disables Alice at
	// once, after which neither node authors, so a GRANDPA report landing first would leave
	// BABE's untested (one run did just that). GRANDPA's reports are tested in the runtime.
	let keystore = tempfile::tempdir().unwrap();
	let keystore_path = keystore.path().to_str().unwrap().to_string();
	let inserted = std::process::Command::new(node_binary().unwrap())
		.args(["key", "insert", "--chain", "local", "--keystore-path", &keystore_path])
		.args(["--key-type", "babe", "--scheme", "sr25519", "--suri", "//Alice"])
		.status()
		.unwrap();
	assert!(inserted.success(), "cannot insert Alice's BABE key: {inserted}");
	let (mut twin, _) = Node::start(NodeConfig {
		name: "alice-twin".into(),
		chain_args: vec!["--chain".into(), "local".into(), "--validator".into()],
		ports: Ports::free().unwrap(),
		extra_args: vec![
			"--keystore-path".into(),
			keystore_path,
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
	// Both of Alice's nodes author every slot of hers (about one in four).
	while !has_kind(&seen, b"babe:") {
		number += 1;
		assert!(
			number <= from + MAX_BLOCKS_TO_PUNISH,
			"no BABE equivocation punished by block {number}: {seen:?}\n{}",
			equivocation_lines(&network, &twin)
		);
		wait_for_finalized(&bob.node, &bob.rpc, number, Duration::from_secs(120))
			.await
			.unwrap();
		punishment_in(&bob.rpc, number, &mut seen).await;
	}
	let punished_at = number;
	let kinds: Vec<String> = seen
		.offence_kinds
		.iter()
		.map(|kind| String::from_utf8_lossy(kind).into_owned())
		.collect();
	eprintln!(
		"[equivocation] BABE's report punished in block {punished_at} ({} after the twin \
		 started); offences: {kinds:?}; reports included: {:?}; failed extrinsics: {:?}",
		punished_at - from,
		seen.reports,
		seen.failed,
	);
	twin.kill().unwrap();

	assert!(
		seen.offence_kinds
			.iter()
			.all(|kind| kind.starts_with(b"babe:") || kind.starts_with(b"grandpa:")),
		"only equivocations: {kinds:?}"
	);

	// Whatever both consensus protocols report, only Alice is punished, and at most the cap.
	assert!(seen.reported.iter().all(|(who, _)| *who == alice), "{seen:?}");
	let slashed: Balance = seen
		.slashes
		.iter()
		.map(|(who, amount, reason)| {
			assert_eq!((who, *reason), (&alice, SlashReason::Equivocation), "{seen:?}");
			*amount
		})
		.sum();
	// The cap holds per session: a chilled validator stays in the sets already planned, so her
	// two nodes may equivocate again in the next session, and that session's cap applies anew.
	let mut sessions: Vec<u32> = seen.reported.iter().map(|(_, session)| *session).collect();
	sessions.sort();
	sessions.dedup();
	let cap = MaxOffenceSlash::get() * GENESIS_VALIDATOR_BOND * sessions.len() as Balance;
	assert!(
		slashed > 0 && slashed <= cap,
		"slashed {slashed}, the cap for offences in sessions {sessions:?} is {cap}"
	);

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
