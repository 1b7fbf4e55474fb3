//! The clients people use, against a real dev node: our `gateless` command line registers the
//! digits classifier and runs a job end to end, and two third-party clients that no one here wrote,
//! polkadot.js (npm) and py-substrate-interface (PyPI), submit a job and read its verified result
//! through `gateless_result`. Every verified output is checked against onnxruntime's reference.
//!
//! The third-party clients are installed by `scripts/setup-clients.sh` (which `scripts/test.sh`
//! runs); without them these tests fail and say so rather than skip.

use std::{
	path::{Path, PathBuf},
	process::{Command, Output},
	time::Duration,
};

use gateless_e2e::{
	node::{node_binary, Node, NodeConfig},
	rpc::wait_for_finalized,
};
use gateless_inference_engine::reference::{argmax_rows, declared, reference, serve};
use serde_json::Value;
use sp_core::crypto::Ss58Codec;
use sp_keyring::Sr25519Keyring;

/// Attestation, commit and reveal take a few blocks each; the clients wait at most this long.
const CLIENT_TIMEOUT_SECS: u64 = 90;
/// How far tract's outputs may be from onnxruntime's (the model's declared tolerance).
const TOLERANCE: f64 = 1e-4;

fn repo_root() -> PathBuf {
	Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `gateless` binary: `GATELESS_CLIENT_BIN`, or next to the node binary (the same target dir).
fn client_binary() -> PathBuf {
	if let Ok(path) = std::env::var("GATELESS_CLIENT_BIN") {
		return PathBuf::from(path);
	}
	let binary = node_binary().unwrap().with_file_name("gateless");
	assert!(
		binary.is_file(),
		"{} not found: build it first (`cargo build -p gateless-client`, as scripts/test.sh does) \
		 or set GATELESS_CLIENT_BIN",
		binary.display()
	);
	binary
}

fn run(mut command: Command) -> Output {
	let shown = format!("{command:?}");
	command.output().unwrap_or_else(|error| panic!("cannot run {shown}: {error}"))
}

fn text(bytes: &[u8]) -> String {
	String::from_utf8_lossy(bytes).into_owned()
}

/// Runs a command that must succeed and print JSON; returns the JSON.
fn json_of(command: Command, node: &Node) -> Value {
	let shown = format!("{command:?}");
	let output = run(command);
	assert!(
		output.status.success(),
		"{}",
		node.failure(&format!(
			"{shown} failed ({}):\n{}{}",
			output.status,
			text(&output.stderr),
			text(&output.stdout)
		))
	);
	serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
		panic!("{shown} printed no JSON ({error}):\n{}", text(&output.stdout))
	})
}

/// Runs a command that must fail; returns what it printed on stderr.
fn error_of(command: Command) -> String {
	let shown = format!("{command:?}");
	let output = run(command);
	assert!(!output.status.success(), "{shown} succeeded:\n{}", text(&output.stdout));
	text(&output.stderr)
}

fn gateless(node: &Node, args: &[&str]) -> Command {
	let mut command = Command::new(client_binary());
	command.args(["--url", node.rpc_url().as_str()]).args(args);
	command
}

/// Registers the digits classifier inline as Bob, waits until Alice's worker attests it, and
/// returns the model as `gateless model register --json` prints it.
fn register_digits_model(node: &Node) -> Value {
	let file = repo_root().join("models/digits-mlp.onnx");
	let mut command = gateless(node, &["--json", "model", "register"]);
	command.arg(&file).args([
		"--name",
		"digits-mlp",
		"--version",
		"1.0.0",
		"--price",
		"0.1",
		"--inline",
		"--description",
		"8x8 digits, scikit-learn MLP",
		"--wait-active",
		"--timeout",
		&CLIENT_TIMEOUT_SECS.to_string(),
		"--suri",
		"//Bob",
	]);
	json_of(command, node)
}

/// The first two rows of the reference input as the JSON that all three clients read, onnxruntime's
/// outputs for them, and the classes it predicts.
fn two_digit_images(dir: &Path) -> (PathBuf, Vec<f64>, Vec<usize>) {
	let document: Value = serde_json::from_slice(
		&std::fs::read(repo_root().join("models/digits-mlp.reference.json")).unwrap(),
	)
	.unwrap();
	let width = document["input"]["shape"][1].as_u64().unwrap() as usize;
	let values: Vec<Value> = document["input"]["values"]
		.as_array()
		.unwrap()
		.iter()
		.take(2 * width)
		.cloned()
		.collect();
	let path = dir.join("two-digits.json");
	let input = serde_json::json!({"dtype": "f32", "shape": [2, width], "values": values});
	std::fs::write(&path, serde_json::to_vec(&input).unwrap()).unwrap();
	let (_, expected, predicted) = reference("digits-mlp");
	let classes = expected.len() / predicted.len();
	(path, expected[..2 * classes].to_vec(), predicted[..2].to_vec())
}

/// Checks a `gateless_result` object: Alice ran it, and the output is onnxruntime's.
fn assert_verified_digits(result: &Value, expected: &[f64], predicted: &[usize]) {
	assert_eq!(
		result["agreeing"],
		serde_json::json!([Sr25519Keyring::Alice.to_account_id().to_ss58check()]),
		"{result}"
	);
	let output = &result["output"];
	assert_eq!(output["kind"], "tensor", "{result}");
	assert_eq!(output["dtype"], "f32", "{result}");
	assert_eq!(output["shape"], serde_json::json!([2, 10]), "{result}");
	let values: Vec<f64> = output["values"]
		.as_array()
		.unwrap()
		.iter()
		.map(|v| v.as_f64().unwrap())
		.collect();
	assert_eq!(values.len(), expected.len());
	let worst = values.iter().zip(expected).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
	assert!(worst <= TOLERANCE, "largest difference from onnxruntime: {worst}");
	assert_eq!(argmax_rows(&values, 10), predicted, "the right classes");
	assert!(result["finalizedAt"].as_u64().unwrap() > 0);
	assert!(result["digest"].as_str().unwrap().starts_with("0x"));
}

/// A dev node with `extra_args`, once it has finalized block 1.
async fn dev_node(extra_args: &[&str]) -> Node {
	let mut config = NodeConfig::dev().unwrap();
	config.extra_args.extend(extra_args.iter().map(|arg| arg.to_string()));
	let (node, rpc) = Node::start(config).await.unwrap();
	wait_for_finalized(&node, &rpc, 1, Duration::from_secs(120)).await.unwrap();
	node
}

#[tokio::test(flavor = "multi_thread")]
async fn the_gateless_client_registers_a_model_and_gets_a_verified_result() {
	// The model registered by URI is served from this machine's loopback.
	let node = dev_node(&["--allow-private-model-uris"]).await;
	let dir = tempfile::tempdir().unwrap();

	// The signature comes from the file, read by tract: the same one the model's author declared.
	let model = register_digits_model(&node);
	assert_eq!(model["status"], "active", "{model}");
	assert_eq!(model["name"], "digits-mlp");
	assert_eq!(model["location"]["kind"], "inline");
	let declared = gateless_rpc::convert::signature_json(declared("digits-mlp.onnx"));
	assert_eq!(model["signature"], serde_json::to_value(declared).unwrap());
	assert_eq!(model["signature"]["inputs"][0]["shape"], serde_json::json!(["N", 64]));
	assert_eq!(model["signature"]["symbols"], serde_json::json!([{"name": "N", "example": 1}]));
	assert_eq!(
		model["determinism"],
		serde_json::json!({"kind": "tolerance", "abs": 1e-4, "rel": 1e-5})
	);
	let id = model["id"].as_u64().unwrap().to_string();

	let listed = json_of(gateless(&node, &["--json", "model", "list"]), &node);
	assert_eq!(listed["models"][0]["id"].as_u64().unwrap().to_string(), id);
	let shown = json_of(gateless(&node, &["--json", "model", "show", &id]), &node);
	assert_eq!(shown, model, "`model show` prints what `model register` did");
	let quote = json_of(gateless(&node, &["--json", "job", "quote", "--model", &id]), &node);
	assert_eq!(quote["modelPrice"], model["price"]);

	// Mistakes are refused with a clear message, and before anything is paid where possible.
	let (input, expected, predicted) = two_digit_images(dir.path());
	let input = input.to_str().unwrap();
	let unknown = error_of(gateless(&node, &["job", "submit", "--model", "999", "--input", input]));
	assert!(unknown.contains("there is no model 999"), "{unknown}");
	let narrow = dir.path().join("narrow.json");
	std::fs::write(&narrow, r#"{"dtype": "f32", "shape": [1, 63], "values": [0]}"#).unwrap();
	let mismatch = error_of(gateless(
		&node,
		&["job", "submit", "--model", &id, "--input", narrow.to_str().unwrap()],
	));
	assert!(mismatch.contains("holds 63 values"), "{mismatch}");
	let wide = dir.path().join("wide.json");
	std::fs::write(&wide, serde_json::json!({"shape": [1, 65], "values": vec![0; 65]}).to_string())
		.unwrap();
	let mismatch = error_of(gateless(
		&node,
		&["job", "submit", "--model", &id, "--input", wide.to_str().unwrap()],
	));
	assert!(mismatch.contains("the model takes [N, 64]"), "{mismatch}");
	let stingy = error_of(gateless(
		&node,
		&[
			"job",
			"submit",
			"--model",
			&id,
			"--input",
			input,
			"--max-fee",
			"1",
			"--suri",
			"//Ferdie",
		],
	));
	assert!(stingy.contains("InferenceJobs::FeeAboveMax"), "{stingy}");
	let broke = error_of(gateless(
		&node,
		&["job", "submit", "--model", &id, "--input", input, "--suri", "//NoFunds"],
	));
	assert!(broke.contains("balance"), "{broke}");

	// The job: submitted, run by Alice's worker, verified, and printed.
	let mut submit = gateless(&node, &["--json", "job", "submit", "--model", &id]);
	submit.args(["--input", input, "--replicas", "1", "--wait", "--suri", "//Charlie"]);
	submit.args(["--timeout", &CLIENT_TIMEOUT_SECS.to_string()]);
	let result = json_of(submit, &node);
	assert_verified_digits(&result, &expected, &predicted);
	let job = result["job"].as_u64().unwrap().to_string();
	assert_eq!(result["ownerPaid"], model["price"]);

	let shown = json_of(gateless(&node, &["--json", "job", "show", &job]), &node);
	assert_eq!(shown["status"], "finalized", "{shown}");
	assert_eq!(shown["submitter"], Sr25519Keyring::Charlie.to_account_id().to_ss58check());
	// The job subscription of an ended job: one update with the final state, then it ends, and
	// the client prints the verified result; a job that does not exist is refused.
	let watched = run(gateless(&node, &["job", "watch", &job, "--timeout", "30"]));
	assert!(watched.status.success(), "{}", text(&watched.stderr));
	let updates = text(&watched.stdout);
	let update = format!("job {job}: finalized");
	let verified = format!("job {job}: verified in block {}", result["finalizedAt"]);
	let lines: Vec<&str> = updates.lines().take(2).collect();
	assert_eq!(
		lines,
		[update.as_str(), verified.as_str()],
		"one update, then the result:\n{updates}"
	);
	let unknown = error_of(gateless(&node, &["job", "watch", "999", "--timeout", "30"]));
	assert!(unknown.contains("no job 999"), "{unknown}");
	let human = run(gateless(&node, &["job", "result", &job]));
	assert!(human.status.success(), "{}", text(&human.stderr));
	let human = text(&human.stdout);
	let classes = format!("argmax/row   {predicted:?}");
	assert!(human.contains(&classes), "no `{classes}` in:\n{human}");

	// A model kept off chain: Alice's worker fetches it from its URI, checks its hash and
	// attests it; integer outputs are compared exactly unless told otherwise.
	let int_file = repo_root().join("models/digits-int.onnx");
	let uri = serve(std::fs::read(&int_file).unwrap(), "200 OK", Duration::ZERO);
	let mut register = gateless(&node, &["--json", "model", "register"]);
	register
		.arg(&int_file)
		.args(["--name", "digits-int", "--price", "0.01", "--uri", &uri]);
	register.args(["--wait-active", "--timeout", &CLIENT_TIMEOUT_SECS.to_string()]);
	register.args(["--suri", "//Bob"]);
	let by_uri = json_of(register, &node);
	assert_eq!(by_uri["status"], "active", "{by_uri}");
	assert_eq!(by_uri["location"], serde_json::json!({"kind": "uris", "uris": [uri]}));
	assert_eq!(by_uri["determinism"], serde_json::json!({"kind": "exact"}));

	// A loopback node serves unsafe methods: the file goes into its model store, under its hash.
	let file = repo_root().join("models/digits-int.onnx");
	let mut put = gateless(&node, &["--json", "model", "put"]);
	put.arg(&file);
	let stored = json_of(put, &node);
	let bytes = std::fs::read(&file).unwrap();
	assert_eq!(
		stored["hash"],
		format!("{:?}", gateless_primitives::model::model_hash(&bytes)),
		"{stored}"
	);

	let validators = json_of(gateless(&node, &["--json", "validators"]), &node);
	let alice = Sr25519Keyring::Alice.to_account_id().to_ss58check();
	let alice = validators
		.as_array()
		.unwrap()
		.iter()
		.find(|validator| validator["account"] == alice.as_str())
		.unwrap_or_else(|| panic!("Alice is not listed: {validators}"));
	assert_eq!(alice["counters"]["agreed"], 1, "{alice}");
	node.stop().unwrap();
}

/// Runs a third-party client's script, which submits the job and prints one JSON line.
fn third_party_result(node: &Node, mut command: Command, model: &Value, input: &Path) -> Value {
	command
		.args(["--url", node.rpc_url().as_str()])
		.args(["--model", &model["id"].to_string()])
		.arg("--input")
		.arg(input)
		.args(["--replicas", "1", "--timeout", &CLIENT_TIMEOUT_SECS.to_string()]);
	json_of(command, node)
}

fn setup_hint(what: &Path) -> String {
	format!("{} is missing: run scripts/setup-clients.sh (scripts/test.sh does)", what.display())
}

#[tokio::test(flavor = "multi_thread")]
async fn polkadot_js_submits_a_job_and_reads_the_verified_result() {
	let script = repo_root().join("tests/clients/js/submit_job.mjs");
	let modules = repo_root().join("tests/clients/js/node_modules/@polkadot/api");
	assert!(modules.is_dir(), "{}", setup_hint(&modules));
	// As a public node would: safe methods only.
	let node = dev_node(&["--rpc-methods", "safe"]).await;
	let dir = tempfile::tempdir().unwrap();
	let model = register_digits_model(&node);
	let (input, expected, predicted) = two_digit_images(dir.path());
	let mut put = gateless(&node, &["model", "put"]);
	put.arg(repo_root().join("models/digits-int.onnx"));
	let refused = error_of(put);
	assert!(refused.contains("unsafe"), "{refused}");

	let mut command = Command::new("node");
	command.arg(&script).args(["--suri", "//Dave"]);
	let line = third_party_result(&node, command, &model, &input);
	assert_eq!(line["client"], "polkadot.js", "{line}");
	assert_verified_digits(&line["result"], &expected, &predicted);
	node.stop().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn py_substrate_interface_submits_a_job_and_reads_the_verified_result() {
	let script = repo_root().join("tests/clients/py/submit_job.py");
	let python = repo_root().join("tests/clients/py/.venv/bin/python");
	assert!(python.is_file(), "{}", setup_hint(&python));
	let node = dev_node(&[]).await;
	let dir = tempfile::tempdir().unwrap();
	let model = register_digits_model(&node);
	let (input, expected, predicted) = two_digit_images(dir.path());

	let mut command = Command::new(&python);
	command.arg(&script).args(["--suri", "//Eve"]);
	let line = third_party_result(&node, command, &model, &input);
	assert_eq!(line["client"], "py-substrate-interface", "{line}");
	assert_verified_digits(&line["result"], &expected, &predicted);
	node.stop().unwrap();
}
