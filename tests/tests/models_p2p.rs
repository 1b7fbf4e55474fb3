//! Models that nodes provide peer to peer, on four validators of the `local` chain and a builder's
//! node that does not validate. Alice, Bob and Charlie take models of up to 128 MiB
//! (`--max-model-mib`); Dave's node keeps the default 64 MiB.
//!
//! 1. A 100 MiB model (written by `models/bulk_model.sh`) is registered with no URI through the
//!    builder's node while Charlie is down: the client hands the file to that node, Alice and Bob
//!    fetch it from there and attest it; Dave, over his limit, abstains.
//! 2. The builder's node stops; Charlie comes back and fetches the model from Alice and Bob: it
//!    becomes active, and a job on it is verified with the values its weights give.
//!    It was registered with a model card and a reference vector, which every validator that
//!    attested it ran first.
//! 3. A model registered through the client with a tampered reference vector is rejected
//!    (`referenceMismatch`), and the client says why.
//! 4. `gateless_putModelContent` refuses bytes for an unknown model, for a model registered
//!    inline, chunks that are not the registered ones, and a model over the node's limit.

use std::{process::Command, time::Instant};

use gateless_e2e::{
	jobs::{self, wait_for, INCLUSION_TIMEOUT},
	models::{bulk_model, bulk_model_output_for_ones, register_inline, registered_model},
	network::{LocalNetwork, NetworkConfig},
	node::{node_binary, Node, NodeConfig, Ports},
	rpc::{to_hex, Rpc},
};
use gateless_primitives::{
	job::InputTensor,
	model::{model_hash, DType},
};
use gateless_runtime::token::UNIT;
use serde_json::Value;
use sp_keyring::Sr25519Keyring::{Alice, Bob, Charlie, Dave, Eve};

const MIB: u32 = 100;

fn gateless(node: &Node, args: &[&str]) -> Command {
	let mut command = Command::new(node_binary().unwrap().with_file_name("gateless"));
	command.args(["--url", node.rpc_url().as_str()]).args(args);
	command
}

/// Alice's node.
fn alice_node(network: &LocalNetwork) -> &Node {
	&network.validator(Alice).unwrap().node
}

/// The model as `gateless_model` shows it on `rpc`.
async fn model_json(rpc: &Rpc, model: u64) -> Value {
	rpc.call("gateless_model", jsonrpsee::rpc_params![model]).await.unwrap()
}

/// The error code and message of a JSON-RPC call that must fail.
async fn refusal(rpc: &Rpc, method: &str, params: jsonrpsee::core::params::ArrayParams) -> String {
	match rpc.call(method, params).await {
		Ok(value) => panic!("{method} accepted: {value}"),
		Err(error) => error,
	}
}

/// Uploads `bytes` chunk by chunk to `rpc` (`gateless_putChunk`); returns the chunks' hashes.
async fn upload_chunks(rpc: &Rpc, bytes: &[u8]) -> Vec<Value> {
	let mut chunks = Vec::new();
	for chunk in bytes.chunks(1 << 20) {
		chunks.push(
			rpc.call("gateless_putChunk", jsonrpsee::rpc_params![to_hex(chunk)])
				.await
				.unwrap(),
		);
	}
	chunks
}

#[tokio::test(flavor = "multi_thread")]
async fn a_model_handed_to_a_builders_node_reaches_every_validator_from_its_peers() {
	let mut network = LocalNetwork::start(NetworkConfig {
		// Loading 100 MiB of weights in a debug build takes longer than the default 5 s.
		extra_args: [Alice, Bob, Charlie]
			.map(|who| {
				let limits = ["--max-model-mib", "128", "--inference-time-limit-ms", "60000"];
				(who, limits.map(String::from).into())
			})
			.into(),
		..NetworkConfig::default()
	})
	.await
	.unwrap();
	let file = bulk_model(MIB).unwrap();
	let onnx = std::fs::read(&file).unwrap();
	let alice = network.validator(Alice).unwrap();
	let bootnode = alice.node.p2p_address(&alice.rpc.local_peer_id().await.unwrap());
	let (mut builder, _) = Node::start(NodeConfig {
		name: "builder".into(),
		chain_args: vec!["--chain".into(), "local".into()],
		ports: Ports::free().unwrap(),
		extra_args: vec!["--bootnodes".into(), bootnode, "--max-model-mib".into(), "128".into()],
	})
	.await
	.unwrap();
	network.validator_mut(Charlie).unwrap().node.kill().unwrap();

	// 1. Registered through the builder's node, which gets the file, with a card and a reference
	// vector: an input of ones and what the weights give for it (computed here, not by tract).
	let dir = tempfile::tempdir().unwrap();
	let reference_in = dir.path().join("ones.json");
	let reference_out = dir.path().join("expected.json");
	std::fs::write(&reference_in, serde_json::json!([vec![1.0; 1024]]).to_string()).unwrap();
	let expected = bulk_model_output_for_ones(MIB);
	std::fs::write(&reference_out, serde_json::json!([expected]).to_string()).unwrap();
	let reference = format!("{},{}", reference_in.display(), reference_out.display());
	let started = Instant::now();
	let mut register = gateless(&builder, &["--json", "model", "register"]);
	register.arg(&file).args([
		"--name",
		"bulk",
		"--price",
		"0.1",
		"--suri",
		"//Eve",
		"--tolerance",
		"0.001,0.0001",
		"--reference",
		&reference,
		"--task",
		"band-maxima",
		"--license",
		"CC0-1.0",
		"--input-semantics",
		"1024 features",
	]);
	let output = register.output().unwrap();
	assert!(
		output.status.success(),
		"{}",
		builder.failure(&format!("register failed: {}", String::from_utf8_lossy(&output.stderr)))
	);
	let registered: Value = serde_json::from_slice(&output.stdout).unwrap();
	let model = registered["id"].as_u64().unwrap();
	assert_eq!(registered["location"]["kind"], "peers", "{registered}");
	assert_eq!(registered["card"]["task"], "band-maxima", "{registered}");
	assert_eq!(registered["card"]["inputs"], "1024 features", "{registered}");
	assert_eq!(registered["references"]["count"], 1, "{registered}");
	assert_eq!(registered["hash"].as_str().unwrap(), to_hex(model_hash(&onnx).as_bytes()));
	let alice = network.validator(Alice).unwrap();
	let from = alice.rpc.block_number(alice.rpc.best_hash().await.unwrap()).await.unwrap();
	// Alice and Bob attest it; Dave does not (over his limit), and Charlie is down.
	wait_for(&alice.node, &alice.rpc, from, 30, "two attestations", |_| async {
		let shown = model_json(&alice.rpc, model).await;
		(shown["attestations"]["loads"] == 2).then_some(())
	})
	.await;
	for who in [Alice, Bob] {
		let log = network.validator(who).unwrap().node.log();
		assert!(log.contains("fetched model"), "{who:?} did not fetch the model");
	}
	let half = started.elapsed().as_secs_f64();

	// 2. The builder goes; Charlie comes back and gets the model from Alice and Bob.
	builder.kill().unwrap();
	let charlie = network.validator_mut(Charlie).unwrap();
	charlie.rpc = charlie.node.restart().await.unwrap();
	let alice = network.validator(Alice).unwrap();
	let from = alice.rpc.block_number(alice.rpc.best_hash().await.unwrap()).await.unwrap();
	wait_for(&alice.node, &alice.rpc, from, 40, "the model active", |_| async {
		(model_json(&alice.rpc, model).await["status"] == "active").then_some(())
	})
	.await;
	println!(
		"a {MIB} MiB model: two validators held it {half:.1} s after the client started, active \
		 {:.1} s after",
		started.elapsed().as_secs_f64()
	);
	// Every validator that attested it ran the reference first.
	assert_eq!(model_json(&alice.rpc, model).await["references"]["checkedBy"], 3);
	let charlie_log = network.validator(Charlie).unwrap().node.log();
	assert!(charlie_log.contains("fetched model"), "Charlie did not fetch the model");
	let dave_log = network.validator(Dave).unwrap().node.log();
	assert!(!dave_log.contains("fetched model"), "Dave fetched a model over his limit");

	let ones = InputTensor {
		dtype: DType::F32,
		shape: vec![1, 1024].try_into().unwrap(),
		data: [1f32; 1024]
			.iter()
			.flat_map(|one| one.to_le_bytes())
			.collect::<Vec<_>>()
			.try_into()
			.unwrap(),
	};
	let context = alice.rpc.chain_context().await.unwrap();
	let (job, submitted_at, _) =
		jobs::submit_job(&alice.rpc, context, Eve, model, vec![ones], 3).await.unwrap();
	// Dave, over his limit, abstains if he is drawn: the job may need a second round.
	let (result, _) =
		wait_for(&alice.node, &alice.rpc, submitted_at, 48, "the job's result", |at| {
			let rpc = &alice.rpc;
			async move { jobs::job_result(rpc, job, at).await.unwrap() }
		})
		.await;
	let tensors = result.output.tensors().expect("outputs");
	let values: Vec<f32> = tensors[0]
		.data
		.chunks(4)
		.map(|b| f32::from_le_bytes(b.try_into().unwrap()))
		.collect();
	for (value, expected) in values.iter().zip(bulk_model_output_for_ones(MIB)) {
		assert!(
			(f64::from(*value) - expected).abs() < 1e-3 * expected.abs().max(1.0),
			"{values:?}"
		);
	}

	// 3. A model registered with a tampered reference is rejected, and the client says why.
	let zeros = dir.path().join("zeros.json");
	let wrong = dir.path().join("wrong.json");
	std::fs::write(&zeros, serde_json::json!([vec![0.0; 64]]).to_string()).unwrap();
	std::fs::write(&wrong, serde_json::json!([vec![0.5; 10]]).to_string()).unwrap();
	let digits = gateless_inference_engine::reference::models_dir().join("digits-mlp.onnx");
	let output = gateless(alice_node(&network), &["model", "register"])
		.arg(&digits)
		.args(["--name", "digits-tampered", "--price", "0.1", "--suri", "//Ferdie"])
		.args(["--reference", &format!("{},{}", zeros.display(), wrong.display())])
		.args(["--wait-active", "--timeout", "90"])
		.output()
		.unwrap();
	let stderr = String::from_utf8_lossy(&output.stderr);
	assert!(!output.status.success(), "a tampered reference was accepted: {stderr}");
	assert!(stderr.contains("referenceMismatch"), "{stderr}");
	assert!(stderr.contains("differ from the registered ones"), "{stderr}");

	// 4. What the safe method refuses.
	let error = refusal(
		&alice.rpc,
		"gateless_putModelContent",
		jsonrpsee::rpc_params![999, Vec::<String>::new()],
	)
	.await;
	assert!(error.contains("9001"), "{error}");
	let call = register_inline("digits-mlp.onnx", "digits", UNIT / 10, "inline").unwrap();
	let (_, events) = alice.rpc.submit_signed(context, Eve, call, INCLUSION_TIMEOUT).await.unwrap();
	let inline = registered_model(&events).unwrap();
	let error = refusal(
		&alice.rpc,
		"gateless_putModelContent",
		jsonrpsee::rpc_params![inline, Vec::<String>::new()],
	)
	.await;
	assert!(error.contains("not registered to be provided by nodes"), "{error}");
	let mut chunks = upload_chunks(&alice.rpc, &onnx[..2 << 20]).await;
	chunks.reverse();
	let error =
		refusal(&alice.rpc, "gateless_putModelContent", jsonrpsee::rpc_params![model, chunks])
			.await;
	assert!(error.contains("not the registered model's chunk list"), "{error}");
	let dave = network.validator(Dave).unwrap();
	let chunks = upload_chunks(&dave.rpc, &onnx).await;
	let error =
		refusal(&dave.rpc, "gateless_putModelContent", jsonrpsee::rpc_params![model, chunks]).await;
	assert!(error.contains("TooLarge"), "{error}");
	network.stop().unwrap();
}

/// The seconds from `started` until each node's log shows its marker (polled every 200 ms while
/// `deadline` is ahead and until `done` says so), in the order seen.
fn seen_in_logs(
	logs: &[(String, &Node, &str)],
	started: Instant,
	deadline: Instant,
	done: impl Fn() -> bool,
) -> Vec<(String, f64)> {
	let mut seen: Vec<(String, f64)> = Vec::new();
	while seen.len() < logs.len() && Instant::now() < deadline {
		let last_pass = done();
		for (name, node, marker) in logs {
			if !seen.iter().any(|(who, _)| who == name) && node.log().contains(marker) {
				seen.push((name.clone(), started.elapsed().as_secs_f64()));
			}
		}
		if last_pass {
			break;
		}
		std::thread::sleep(std::time::Duration::from_millis(200));
	}
	seen
}

/// The benchmark of model distribution, not in the default suite
/// (`scripts/bench-model-distribution.sh` runs it): for each size in `GATELESS_BENCH_MODEL_MIB`
/// (default `100,1024`), a fresh network of four validators (taking models up to 2 GiB, workers of
/// 6 GiB and 10 minutes) and a builder's node; the model is registered through the builder's node, and the
/// benchmark reports when the builder's node had the file (upload, registration and assembly),
/// when each validator held it (its log), and when the model became active. Writes the figures as JSON to
/// `GATELESS_BENCH_OUTPUT` if set.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark: scripts/bench-model-distribution.sh runs it"]
async fn distribution_time_by_model_size() {
	let sizes: Vec<u32> = std::env::var("GATELESS_BENCH_MODEL_MIB")
		.unwrap_or_else(|_| "100,1024".into())
		.split(',')
		.map(|mib| mib.trim().parse().unwrap())
		.collect();
	let mut report = Vec::new();
	for mib in sizes {
		let file = bulk_model(mib).unwrap();
		// Loading a model of a gigabyte in a debug build takes minutes, not the default 5 s.
		let limits: Vec<String> = [
			"--max-model-mib",
			"2048",
			"--inference-memory-mib",
			"6144",
			"--inference-time-limit-ms",
			"600000",
		]
		.map(String::from)
		.into();
		let network = LocalNetwork::start(NetworkConfig {
			extra_args: [Alice, Bob, Charlie, Dave].map(|who| (who, limits.clone())).into(),
			..NetworkConfig::default()
		})
		.await
		.unwrap();
		let alice = network.validator(Alice).unwrap();
		let bootnode = alice.node.p2p_address(&alice.rpc.local_peer_id().await.unwrap());
		let (builder, _) = Node::start(NodeConfig {
			name: "builder".into(),
			chain_args: vec!["--chain".into(), "local".into()],
			ports: Ports::free().unwrap(),
			extra_args: vec![
				"--bootnodes".into(),
				bootnode,
				"--max-model-mib".into(),
				"2048".into(),
			],
		})
		.await
		.unwrap();
		let started = Instant::now();
		let mut register = gateless(&builder, &["--json", "model", "register"]);
		register.arg(&file).args([
			"--name",
			"bulk",
			"--price",
			"0.1",
			"--suri",
			"//Eve",
			"--wait-active",
			"--timeout",
			"1800",
		]);
		// The builder's node says when it got the file; each validator's when it fetched it.
		let mut logs: Vec<(String, &Node, &str)> =
			vec![("builder".into(), &builder, "gateless_putModelContent")];
		logs.extend(network.validators.iter().map(|validator| {
			(format!("{:?}", validator.keyring), &validator.node, "fetched model")
		}));
		let client = std::thread::spawn(move || {
			let output = register.output().unwrap();
			(output, Instant::now())
		});
		let deadline = Instant::now() + std::time::Duration::from_secs(1800);
		// Until the client is done (the model active, or a failure).
		let mut held = seen_in_logs(&logs, started, deadline, || client.is_finished());
		let (output, done) = client.join().unwrap();
		let active = done.duration_since(started).as_secs_f64();
		println!("bench {mib} MiB: seen {held:?}; the client ended after {active:.1} s");
		assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
		let handed = held.iter().position(|(who, _)| who == "builder").map(|at| held.remove(at).1);
		println!(
			"bench {mib} MiB: the builder's node had it after {handed:?} s, validators held it: \
			 {held:?}; active after {active:.1} s"
		);
		let third = held.get(2).map(|(_, at)| *at);
		let fourth = held.get(3).map(|(_, at)| *at);
		report.push(serde_json::json!({
			"mib": mib, "handed_to_builder_secs": handed, "held": held,
			"three_validators_secs": third, "four_validators_secs": fourth, "active_secs": active,
		}));
		drop(builder);
		network.stop().unwrap();
	}
	if let Ok(path) = std::env::var("GATELESS_BENCH_OUTPUT") {
		std::fs::write(&path, serde_json::to_vec_pretty(&report).unwrap()).unwrap();
	}
}
