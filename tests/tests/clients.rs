//! The clients people use, against a real dev node: our `gateless` command line registers the
//! digits classifier and runs a job end to end, then four models with named inputs and outputs
//! (state inputs, a rank-0 input, dynamic image sizes, several outputs) at two shapes each, from
//! JSON files and from a NumPy `.npz`; two third-party clients that no one here wrote, polkadot.js (npm,
//! the digits classifier's single input) and py-substrate-interface (PyPI, the named inputs of the
//! recurrent cell), submit a job and read its verified result through `gateless_result`; both also
//! hand in an input above the inline threshold and read a 1 MiB output kept off chain through the
//! data plane (`gateless_output`). Every verified output is checked against onnxruntime's
//! reference.
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
use gateless_inference_engine::reference::{
	argmax_rows, declared, reference, references, repository_root, serve, values,
};
use serde_json::Value;
use sp_core::crypto::Ss58Codec;
use sp_keyring::Sr25519Keyring;

/// Attestation, commit and reveal take a few blocks each; the clients wait at most this long.
const CLIENT_TIMEOUT_SECS: u64 = 90;
/// How far tract's outputs may be from onnxruntime's (the model's declared tolerance).
const TOLERANCE: f64 = 1e-4;

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
	let file = repository_root().join("models/digits-mlp.onnx");
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
		&std::fs::read(repository_root().join("models/digits-mlp.reference.json")).unwrap(),
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
	assert_eq!(result["output"]["kind"], "tensors", "{result}");
	let output = &result["output"]["tensors"][0];
	assert!(output["name"].is_string(), "{result}");
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
	// Alice's engine estimated the model's compute when she attested it: its dense layers cost
	// 2,484 operations a row of 64 pixels, and the quote follows the input's size.
	assert_eq!(model["compute"], serde_json::json!({"fixed": 0, "perElement": 38.8125}));
	assert_eq!(quote["operations"], 2_484);
	let batch = json_of(
		gateless(&node, &["--json", "job", "quote", "--model", &id, "--shape", "16,64"]),
		&node,
	);
	assert_eq!(batch["operations"], 16 * 2_484);
	// Far below 10¹⁰ operations: the executor fee is the floor either way.
	assert_eq!(batch["executorFee"], quote["executorFee"]);

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

	// Public replay: anyone runs the job's model on its inputs with the same tract; the result
	// agrees. The model's statistics count the job, and the validators' agreement rate Alice's
	// verdict.
	let replay = json_of(gateless(&node, &["--json", "job", "verify", &job]), &node);
	assert_eq!(replay["agrees"], true, "{replay}");
	assert_eq!(replay["modelHashMatches"], true, "{replay}");
	let stats = &json_of(gateless(&node, &["--json", "model", "show", &id]), &node)["stats"];
	assert_eq!((&stats["submitted"], &stats["finalized"]), (&1.into(), &1.into()), "{stats}");
	assert_eq!(stats["agreementRate"], 1.0, "{stats}");
	assert_eq!(stats["revenue"], model["price"], "{stats}");
	// A tampered copy of the model (weights overwritten in the middle of the file) does not
	// reproduce the verified result: exit status 2, and the file is not the one the job ran.
	let mut tampered = std::fs::read(repository_root().join("models/digits-mlp.onnx")).unwrap();
	let middle = tampered.len() / 2;
	tampered[middle..middle + 16].fill(0x7f);
	let tampered_file = tempfile::NamedTempFile::new().unwrap();
	std::fs::write(tampered_file.path(), &tampered).unwrap();
	let mut replay = gateless(&node, &["job", "verify", &job, "--model-file"]);
	replay.arg(tampered_file.path());
	let replayed = run(replay);
	let report = text(&replayed.stdout);
	assert_eq!(replayed.status.code(), Some(2), "{report}{}", text(&replayed.stderr));
	assert!(report.contains("DOES NOT agree"), "{report}");
	assert!(report.contains("NOT the bytes the job ran"), "{report}");

	// A model kept off chain: Alice's worker fetches it from its URI, checks its hash and
	// attests it; integer outputs are compared exactly unless told otherwise.
	let int_file = repository_root().join("models/digits-int.onnx");
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
	let file = repository_root().join("models/digits-int.onnx");
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

/// Registers `file` inline as Bob with the client and waits until it is active.
fn register_model(node: &Node, file: &str, name: &str) -> Value {
	let mut command = gateless(node, &["--json", "model", "register"]);
	command
		.arg(repository_root().join("models").join(file))
		.args(["--name", name, "--price", "0.1"]);
	command.args(["--inline", "--wait-active", "--timeout", &CLIENT_TIMEOUT_SECS.to_string()]);
	command.args(["--suri", "//Bob"]);
	json_of(command, node)
}

/// The onnxruntime reference runs of `file` in `models.json`: each with its named inputs and
/// outputs as `{name, dtype, shape, values}`.
fn reference_runs(file: &str) -> Vec<Value> {
	let models: Value = serde_json::from_slice(
		&std::fs::read(repository_root().join("models/models.json")).unwrap(),
	)
	.unwrap();
	models[file]["references"].as_array().expect("reference runs").clone()
}

/// Checks every output of a `gateless_result` object against onnxruntime's, by name.
fn assert_outputs_match(result: &Value, expected: &[Value]) {
	assert_eq!(result["output"]["kind"], "tensors", "{result}");
	let tensors = result["output"]["tensors"].as_array().unwrap();
	assert_eq!(tensors.len(), expected.len(), "{result}");
	for (tensor, expected) in tensors.iter().zip(expected) {
		assert_eq!(tensor["name"], expected["name"], "{result}");
		assert_eq!(tensor["shape"], expected["shape"], "{result}");
		let numbers = |values: &Value| -> Vec<f64> {
			values.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect()
		};
		let worst = numbers(&tensor["values"])
			.iter()
			.zip(numbers(&expected["values"]))
			.map(|(a, b)| (a - b).abs())
			.fold(0.0, f64::max);
		assert!(worst <= TOLERANCE, "`{}` differs from onnxruntime by {worst}", tensor["name"]);
	}
}

/// Registers `file` inline as Bob at the example sizes `models.json` gives its symbols, waits
/// until it is active, and checks that the client read the declared input and output names.
fn register_dynamic_model(node: &Node, file: &str, inputs: &[&str], outputs: &[&str]) -> Value {
	let models: Value = serde_json::from_slice(
		&std::fs::read(repository_root().join("models/models.json")).unwrap(),
	)
	.unwrap();
	let mut command = gateless(node, &["--json", "model", "register"]);
	command.arg(repository_root().join("models").join(file));
	command.args(["--name", file.trim_end_matches(".onnx"), "--price", "0.1", "--inline"]);
	for (symbol, size) in models[file]["signature"]["examples"].as_object().unwrap() {
		command.args(["--example", &format!("{symbol}={size}")]);
	}
	command.args(["--wait-active", "--timeout", &CLIENT_TIMEOUT_SECS.to_string()]);
	command.args(["--suri", "//Bob"]);
	let model = json_of(command, node);
	let names = |side: &str| -> Vec<String> {
		model["signature"][side]
			.as_array()
			.unwrap()
			.iter()
			.map(|spec| spec["name"].as_str().unwrap().to_string())
			.collect()
	};
	assert_eq!(names("inputs"), inputs, "{file}");
	assert_eq!(names("outputs"), outputs, "{file}");
	model
}

#[tokio::test(flavor = "multi_thread")]
async fn the_client_runs_models_with_named_inputs_and_outputs_at_two_shapes_each() {
	let node = dev_node(&[]).await;
	let dir = tempfile::tempdir().unwrap();
	// Each reference run's inputs as JSON files, as `--input NAME=FILE` arguments.
	let arguments = |file: &str, run: &Value| -> Vec<String> {
		run["inputs"]
			.as_array()
			.unwrap()
			.iter()
			.map(|input| {
				let name = input["name"].as_str().unwrap();
				let shape = input["shape"].to_string().replace([',', '[', ']'], "_");
				let path = dir.path().join(format!("{file}-{name}-{shape}.json"));
				std::fs::write(&path, input.to_string()).unwrap();
				format!("{name}={}", path.display())
			})
			.collect()
	};
	let submit = |id: &str, args: &[String], suri: &str| {
		let mut command = gateless(&node, &["--json", "job", "submit", "--model", id]);
		for arg in args {
			command.args(["--input", arg]);
		}
		command.args(["--replicas", "1", "--wait", "--suri", suri]);
		command.args(["--timeout", &CLIENT_TIMEOUT_SECS.to_string()]);
		command
	};

	// The traits that broke real exports: a convolutional network with dynamic batch, height and
	// width and a shape-computing subgraph; state inputs and outputs with a rank-0 i64 input; two
	// outputs of different dtypes; an integer model whose two inputs share a dimension. Each at
	// the example shapes it was attested at and at another, equal to onnxruntime's outputs.
	let models: [(&str, &[&str], &[&str]); 4] = [
		("recurrent-cell.onnx", &["x", "state", "sr"], &["y", "state_next"]),
		("conv-dynamic.onnx", &["image"], &["mask", "score"]),
		("two-outputs.onnx", &["logits"], &["probabilities", "label"]),
		("int-pair.onnx", &["a", "b"], &["mixed", "total"]),
	];
	let mut ids = Vec::new();
	for (file, inputs, outputs) in models {
		let id = register_dynamic_model(&node, file, inputs, outputs)["id"].to_string();
		for run in reference_runs(file) {
			let result = json_of(submit(&id, &arguments(file, &run), "//Charlie"), &node);
			assert_outputs_match(&result, run["outputs"].as_array().unwrap());
		}
		ids.push(id);
	}

	// Mistakes are refused before anything is paid (the account has no funds at all): inputs
	// over the 64 MiB a job may have (two [2200000, 4] i32, 67 MiB together, as NumPy files)...
	let rows = 2_200_000;
	let oversize: Vec<String> = ["a", "b"]
		.iter()
		.map(|name| {
			let path = dir.path().join(format!("oversize-{name}.npy"));
			let mut header =
				format!("{{'descr': '<i4', 'fortran_order': False, 'shape': ({rows}, 4), }}");
			while (10 + header.len() + 1) % 64 != 0 {
				header.push(' ');
			}
			header.push('\n');
			let mut npy = b"\x93NUMPY\x01\x00".to_vec();
			npy.extend_from_slice(&(header.len() as u16).to_le_bytes());
			npy.extend_from_slice(header.as_bytes());
			npy.resize(npy.len() + rows * 16, 1);
			std::fs::write(&path, npy).unwrap();
			format!("{name}={}", path.display())
		})
		.collect();
	let too_large = error_of(submit(&ids[3], &oversize, "//NoFunds"));
	assert!(too_large.contains("badInputs"), "{too_large}");
	// ... and a missing, an unknown, a disagreeing and a mistyped input.
	let id = ids[0].clone();
	let runs = reference_runs("recurrent-cell.onnx");
	let (batch_one, batch_three) =
		(arguments("recurrent-cell.onnx", &runs[0]), arguments("recurrent-cell.onnx", &runs[1]));
	let missing = error_of(submit(&id, &batch_one[..2], "//NoFunds"));
	assert!(missing.contains("input `sr` is missing"), "{missing}");
	let mut unknown = batch_one.clone();
	unknown[2] = unknown[2].replacen("sr=", "rate=", 1);
	let unknown = error_of(submit(&id, &unknown, "//NoFunds"));
	assert!(unknown.contains("no input `rate`"), "{unknown}");
	let mixed = [batch_one[0].clone(), batch_three[1].clone(), batch_one[2].clone()];
	let mixed = error_of(submit(&id, &mixed, "//NoFunds"));
	assert!(mixed.contains("inputs `x` and `state` disagree on `batch`: 1 and 3"), "{mixed}");
	let wrong_type = [batch_one[0].clone(), batch_one[2].replacen("sr=", "state=", 1)];
	let wrong_type = error_of(submit(&id, &wrong_type, "//NoFunds"));
	assert!(wrong_type.contains("input `state`"), "{wrong_type}");

	// NumPy in, NumPy out: the inputs in one .npz that NumPy wrote, every output saved to an .npz
	// that NumPy reads back.
	let python = repository_root().join("tests/clients/py/.venv/bin/python");
	assert!(python.is_file(), "{}", setup_hint(&python));
	let (inputs, outputs) = (dir.path().join("inputs.npz"), dir.path().join("outputs.npz"));
	let numpy = |script: &str, args: &[&Path]| {
		let mut command = Command::new(&python);
		command.args(["-c", script]).args(args);
		let ran = run(command);
		assert!(ran.status.success(), "{}", text(&ran.stderr));
		text(&ran.stdout)
	};
	let reference = dir.path().join("reference.json");
	std::fs::write(&reference, runs[1]["inputs"].to_string()).unwrap();
	numpy(
		"import json, sys, numpy as np\n\
		 inputs = json.load(open(sys.argv[1]))\n\
		 types = {'f32': np.float32, 'i64': np.int64}\n\
		 np.savez(sys.argv[2], **{i['name']: np.array(i['values'], dtype=types[i['dtype']])\
		 .reshape(i['shape']) for i in inputs})",
		&[&reference, &inputs],
	);
	let mut command = submit(&id, &[inputs.display().to_string()], "//Dave");
	command.arg("--output").arg(&outputs);
	let result = json_of(command, &node);
	let saved = numpy(
		"import json, sys, numpy as np\n\
		 arrays = np.load(sys.argv[1])\n\
		 print(json.dumps([{'name': name, 'shape': list(arrays[name].shape),\
		 'values': arrays[name].ravel().tolist()} for name in arrays.files]))",
		&[&outputs],
	);
	let saved: Value = serde_json::from_str(&saved).unwrap();
	let saved = serde_json::json!({"output": {"kind": "tensors", "tensors": saved}});
	assert_outputs_match(&saved, runs[1]["outputs"].as_array().unwrap());
	assert_outputs_match(&result, runs[1]["outputs"].as_array().unwrap());

	// Alice's worker optimised each model once per shape: at its example shapes to attest it
	// (where each model's first reference run is), then once for its other shape; the last
	// recurrent-cell job reused that plan.
	let metrics = node.prometheus_metrics().unwrap();
	let loads = |outcome: &str| {
		let label = format!("outcome=\"{outcome}\"");
		metrics
			.lines()
			.find_map(|line| {
				let (series, value) = line.rsplit_once(' ')?;
				let labels =
					series.strip_prefix("gateless_inference_loads_total{")?.strip_suffix('}')?;
				labels.split(',').any(|pair| pair == label).then(|| value.parse::<f64>().ok())?
			})
			.unwrap_or_else(|| panic!("no loads with {label} in the node's metrics:\n{metrics}"))
	};
	assert_eq!((loads("loaded"), loads("loaded_for_shapes")), (4.0, 4.0), "{metrics}");
	node.stop().unwrap();
}

/// Writes a reference run's inputs as the JSON object the third-party scripts read, each tensor
/// under its input's name; returns `path`.
fn named_inputs_file(run: &Value, path: &Path) -> std::path::PathBuf {
	let named: serde_json::Map<String, Value> = run["inputs"]
		.as_array()
		.unwrap()
		.iter()
		.map(|input| (input["name"].as_str().unwrap().to_string(), input.clone()))
		.collect();
	std::fs::write(path, Value::Object(named).to_string()).unwrap();
	path.to_path_buf()
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

/// The segmentation map's reference input as a named-inputs file (it is written as a generator in
/// `models.json`), and onnxruntime's 1 MiB map.
fn segmentation_case(dir: &Path) -> (PathBuf, Vec<f64>) {
	let case = references("segmentation-map.onnx").remove(0);
	let (name, input) = &case.inputs[0];
	let inputs = serde_json::json!({ name: {
		"dtype": "f32", "shape": input.shape.to_vec(), "values": values(input),
	} });
	let path = dir.join("segmentation-input.json");
	std::fs::write(&path, inputs.to_string()).unwrap();
	(path, values(&case.outputs[0].1))
}

/// Checks a third-party client's line for a job whose map was kept off chain and read back.
fn assert_map_read_back(line: &Value, expected: &[f64]) {
	let kind = &line["result"]["output"]["kind"];
	assert_eq!(kind, "content", "the 1 MiB map is kept off chain");
	assert_eq!(line["outputs"][0]["name"], "map");
	let read: Vec<f64> = line["outputs"][0]["values"]
		.as_array()
		.expect("the map's values, read through gateless_output")
		.iter()
		.map(|v| v.as_f64().unwrap())
		.collect();
	assert_eq!(read.len(), expected.len());
	let worst = read.iter().zip(expected).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
	assert!(worst <= TOLERANCE, "the map differs from onnxruntime by {worst}");
}

fn setup_hint(what: &Path) -> String {
	format!("{} is missing: run scripts/setup-clients.sh (scripts/test.sh does)", what.display())
}

#[tokio::test(flavor = "multi_thread")]
async fn polkadot_js_submits_a_job_and_reads_the_verified_result() {
	let script = repository_root().join("tests/clients/js/submit_job.mjs");
	let modules = repository_root().join("tests/clients/js/node_modules/@polkadot/api");
	assert!(modules.is_dir(), "{}", setup_hint(&modules));
	// As a public node would: safe methods only.
	let node = dev_node(&["--rpc-methods", "safe"]).await;
	let dir = tempfile::tempdir().unwrap();
	let model = register_digits_model(&node);
	let (input, expected, predicted) = two_digit_images(dir.path());
	let mut put = gateless(&node, &["model", "put"]);
	put.arg(repository_root().join("models/digits-int.onnx"));
	let refused = error_of(put);
	assert!(refused.contains("unsafe"), "{refused}");

	let mut command = Command::new("node");
	command.arg(&script).args(["--suri", "//Dave"]);
	let line = third_party_result(&node, command, &model, &input);
	assert_eq!(line["client"], "polkadot.js", "{line}");
	assert_verified_digits(&line["result"], &expected, &predicted);

	// An 11,520-byte image, above the inline threshold: uploaded with gateless_putChunk and
	// gateless_putContent on this safe-only node, then named by its content hash in the job.
	let model = register_dynamic_model(&node, "conv-dynamic.onnx", &["image"], &["mask", "score"]);
	let run = &reference_runs("conv-dynamic.onnx")[1];
	let input = named_inputs_file(run, &dir.path().join("image.json"));
	let mut command = Command::new("node");
	command.arg(&script).args(["--suri", "//Dave"]);
	let line = third_party_result(&node, command, &model, &input);
	assert_outputs_match(&line["result"], run["outputs"].as_array().unwrap());

	// A 1 MiB output: kept off chain by the executor, read back through the data plane.
	let model = register_model(&node, "segmentation-map.onnx", "segmentation-map");
	let (input, expected) = segmentation_case(dir.path());
	let mut command = Command::new("node");
	command.arg(&script).args(["--suri", "//Dave"]);
	assert_map_read_back(&third_party_result(&node, command, &model, &input), &expected);
	node.stop().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn py_substrate_interface_submits_a_job_and_reads_the_verified_result() {
	let script = repository_root().join("tests/clients/py/submit_job.py");
	let python = repository_root().join("tests/clients/py/.venv/bin/python");
	assert!(python.is_file(), "{}", setup_hint(&python));
	let node = dev_node(&[]).await;
	let dir = tempfile::tempdir().unwrap();
	// A model with three named inputs and two outputs, its inputs given by name.
	let model = register_model(&node, "recurrent-cell.onnx", "recurrent-cell");
	let run = &reference_runs("recurrent-cell.onnx")[1];
	let input = named_inputs_file(run, &dir.path().join("inputs.json"));

	let mut command = Command::new(&python);
	command.arg(&script).args(["--suri", "//Eve"]);
	let line = third_party_result(&node, command, &model, &input);
	assert_eq!(line["client"], "py-substrate-interface", "{line}");
	assert_outputs_match(&line["result"], run["outputs"].as_array().unwrap());

	// An image above the inline threshold, uploaded through the data plane first.
	let model = register_dynamic_model(&node, "conv-dynamic.onnx", &["image"], &["mask", "score"]);
	let run = &reference_runs("conv-dynamic.onnx")[1];
	let input = named_inputs_file(run, &dir.path().join("image.json"));
	let mut command = Command::new(&python);
	command.arg(&script).args(["--suri", "//Eve"]);
	let line = third_party_result(&node, command, &model, &input);
	assert_outputs_match(&line["result"], run["outputs"].as_array().unwrap());

	// A 1 MiB output: kept off chain by the executor, read back through the data plane.
	let model = register_model(&node, "segmentation-map.onnx", "segmentation-map");
	let (input, expected) = segmentation_case(dir.path());
	let mut command = Command::new(&python);
	command.arg(&script).args(["--suri", "//Eve"]);
	assert_map_read_back(&third_party_result(&node, command, &model, &input), &expected);
	node.stop().unwrap();
}
