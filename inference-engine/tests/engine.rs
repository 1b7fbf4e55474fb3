//! The engine as the node runs it: models checked, stored and run by sandboxed worker processes
//! (the `gateless-inference-worker` binary of this crate), fetched from URIs, and hostile models
//! that cost a worker, never the caller.

use std::time::Duration;

use gateless_inference_engine::{
	reference::{
		argmax_rows, assert_outputs_match, bytes, declared, first_rows, reference, references,
		serve, values,
	},
	store::{fetch, FetchPolicy, ModelStore, StoreError, FIRST_RETRY_AFTER, LAST_RETRY_AFTER},
	ContentFetcher, ContentLimits, ContentSource, ContentStore, Engine, EngineConfig, Metrics,
	WorkerCommand,
};
use gateless_primitives::{
	content::{content_ref, ContentRef, Manifest, CHUNK_BYTES},
	inference::{ModelFetch, ModelRef},
	job::{
		Abstention, InferenceError, InferenceOutput, InputTensor, InputTensors, JobInput, Tensor,
		TensorData,
	},
	model::{model_hash, AttestationFailure, DType, Verdict},
};
use sp_core::H256;
use substrate_prometheus_endpoint::Registry;

fn config(dir: &std::path::Path) -> EngineConfig {
	EngineConfig {
		model_dir: dir.join("models"),
		max_model_bytes: 1 << 20,
		store_quota_bytes: 1 << 30,
		cache_size: 2,
		time_limit: Duration::from_secs(30),
		fetch_timeout: Duration::from_secs(10),
		allow_private_uris: true,
		threads: 1,
		memory_limit: 2 << 30,
		worker: worker(),
	}
}

fn worker() -> WorkerCommand {
	WorkerCommand { program: env!("CARGO_BIN_EXE_gateless-inference-worker").into(), args: vec![] }
}

fn inline(file: &str) -> ModelRef {
	let onnx = bytes(file);
	ModelRef {
		hash: model_hash(&onnx),
		size: onnx.len() as u64,
		signature: declared(file),
		uris: vec![],
		inline: Some(onnx),
	}
}

#[test]
fn the_worker_locks_itself_down_before_it_reads_a_model() {
	let dir = tempfile::tempdir().unwrap();
	let engine = Engine::new(config(dir.path())).unwrap();
	let protections = engine.start_worker().unwrap();
	println!("worker protections here: {}", protections.join(", "));
	for always in ["die-with-node", "memory=2048MiB", "no-new-privileges"] {
		assert!(protections.iter().any(|p| p == always), "{always} missing from {protections:?}");
	}
	// Seccomp is there on every Linux kernel CI and validators run (x86-64 or AArch64).
	assert!(protections.iter().any(|p| p == "seccomp"), "{protections:?}");
	assert_eq!(engine.worker_starts(), 1);
}

#[test]
fn a_model_is_checked_stored_and_optimised_once() {
	let dir = tempfile::tempdir().unwrap();
	let engine = Engine::new(config(dir.path())).unwrap();
	let model = inline("digits-mlp.onnx");
	assert!(!engine.has_model(&model.hash));
	assert!(engine.check_model(&model).loads());
	assert!(engine.has_model(&model.hash), "the inline bytes are in the store");
	// Later calls need no bytes: the store and the cache have them.
	let without_bytes = ModelRef { inline: None, ..model.clone() };
	let (input, expected, predicted) = reference("digits-mlp");
	let input = first_rows(&input, 2);
	let output = match engine.run(&without_bytes, std::slice::from_ref(&input)) {
		Ok(InferenceOutput::Tensors(tensors)) => tensors.into_inner().remove(0),
		other => panic!("no output: {other:?}"),
	};
	let actual = values(&output);
	let worst = actual.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
	assert!(worst <= 1e-4, "largest difference from onnxruntime: {worst}");
	assert_eq!(argmax_rows(&actual, 10), predicted[..2]);
	engine.run(&without_bytes, std::slice::from_ref(&input)).expect("a verdict");
	assert_eq!(
		engine.loads(),
		2,
		"one plan at the example shape (1 row), one for 2 rows, used again by the third call"
	);
	// A restarted node finds the model in its store.
	let restarted = Engine::new(config(dir.path())).unwrap();
	assert!(restarted.check_model(&without_bytes).loads());
}

#[test]
fn every_way_a_model_can_fail_has_its_verdict() {
	let dir = tempfile::tempdir().unwrap();
	let engine = Engine::new(config(dir.path())).unwrap();
	let verdict = |model: &ModelRef| engine.check_model(model);
	assert_eq!(
		verdict(&inline("digits-mlp-truncated.onnx")),
		Verdict::Fails(AttestationFailure::Malformed)
	);
	let mut wrong = inline("digits-wrong-signature.onnx");
	wrong.signature = declared("digits-mlp.onnx");
	assert_eq!(verdict(&wrong), Verdict::Fails(AttestationFailure::SignatureMismatch));
	assert_eq!(
		verdict(&inline("unsupported-op.onnx")),
		Verdict::Fails(AttestationFailure::Unsupported)
	);
	// Bytes that are not the registered ones, by hash or by size.
	let mut other_bytes = inline("digits-mlp.onnx");
	other_bytes.hash = H256::repeat_byte(7);
	assert_eq!(verdict(&other_bytes), Verdict::Fails(AttestationFailure::HashMismatch));
	assert!(!engine.has_model(&other_bytes.hash), "nothing stored under a wrong hash");
	let mut other_size = inline("digits-mlp.onnx");
	other_size.size += 1;
	assert_eq!(verdict(&other_size), Verdict::Fails(AttestationFailure::SizeMismatch));
	// No bytes anywhere.
	let nowhere = ModelRef { inline: None, ..inline("digits-int.onnx") };
	assert_eq!(verdict(&nowhere), Verdict::Fails(AttestationFailure::Unavailable));
	// Over this node's size limit.
	let small = Engine::new(EngineConfig { max_model_bytes: 1024, ..config(dir.path()) }).unwrap();
	assert_eq!(
		small.check_model(&inline("digits-mlp.onnx")),
		Verdict::Fails(AttestationFailure::TooLarge)
	);
	// A job on a model that does not load reveals the matching error.
	let (input, ..) = reference("digits-mlp");
	assert_eq!(
		engine.run(&inline("digits-mlp-truncated.onnx"), std::slice::from_ref(&input)),
		Ok(InferenceOutput::Error(InferenceError::BadModel))
	);
	assert_eq!(
		engine.run(&wrong, std::slice::from_ref(&input)),
		Ok(InferenceOutput::Error(InferenceError::SignatureMismatch))
	);
	// And a bad input is the job's error, not the model's.
	let mut bad_input = input.clone();
	bad_input.dtype = DType::I32;
	assert_eq!(
		engine.run(&inline("digits-mlp.onnx"), std::slice::from_ref(&bad_input)),
		Ok(InferenceOutput::Error(InferenceError::BadInput))
	);
}

#[test]
fn a_model_over_the_time_limit_times_out_once_and_is_not_retried() {
	let dir = tempfile::tempdir().unwrap();
	let engine =
		Engine::new(EngineConfig { time_limit: Duration::from_micros(1), ..config(dir.path()) })
			.unwrap();
	let model = inline("digits-mlp.onnx");
	assert_eq!(engine.check_model(&model), Verdict::Fails(AttestationFailure::TooLarge));
	let (input, ..) = reference("digits-mlp");
	assert_eq!(engine.run(&model, std::slice::from_ref(&input)), Err(Abstention::ModelTooLarge));
	// Nothing was cached, and the model is not loaded again.
	assert_eq!(engine.loads(), 0);
	assert_eq!(engine.check_model(&model), Verdict::Fails(AttestationFailure::TooLarge));
}

#[test]
fn models_are_fetched_from_their_uris_checked_and_capped() {
	let dir = tempfile::tempdir().unwrap();
	let engine = Engine::new(config(dir.path())).unwrap();
	let onnx = bytes("digits-int.onnx");
	let by_uri = |uris: Vec<String>| ModelRef {
		uris: uris.into_iter().map(|uri| uri.into_bytes().try_into().unwrap()).collect(),
		inline: None,
		..inline("digits-int.onnx")
	};
	// A server with other bytes, then one that is down, then the right one.
	let wrong = serve(bytes("digits-mlp.onnx"), "200 OK", Duration::ZERO);
	let mut tampered = onnx.clone();
	if let Some(last) = tampered.last_mut() {
		*last ^= 1;
	}
	let tampered = serve(tampered, "200 OK", Duration::ZERO);
	let missing = serve(vec![], "404 Not Found", Duration::ZERO);
	let right = serve(onnx.clone(), "200 OK", Duration::ZERO);
	assert_eq!(
		engine.check_model(&by_uri(vec![wrong.clone()])),
		Verdict::Fails(AttestationFailure::SizeMismatch)
	);
	assert_eq!(
		engine.check_model(&by_uri(vec![tampered])),
		Verdict::Fails(AttestationFailure::HashMismatch),
		"bytes of the right size that are not the registered ones"
	);
	assert!(!engine.has_model(&model_hash(&onnx)), "tampered bytes are not stored");
	assert_eq!(
		engine.check_model(&by_uri(vec![missing.clone()])),
		Verdict::Fails(AttestationFailure::Unavailable)
	);
	assert!(engine.check_model(&by_uri(vec![wrong, missing, right])).loads());
	assert!(engine.has_model(&model_hash(&onnx)));

	// The size cap and the timeout hold while fetching.
	let large = serve(vec![0; 4096], "200 OK", Duration::ZERO);
	let policy = |max_bytes, timeout| FetchPolicy { max_bytes, timeout, allow_private: true };
	assert!(fetch(&large, &policy(1024, Duration::from_secs(10)))
		.unwrap_err()
		.contains("more than"));
	let slow = serve(onnx.clone(), "200 OK", Duration::from_secs(5));
	let started = std::time::Instant::now();
	assert!(fetch(&slow, &policy(1 << 20, Duration::from_millis(300)))
		.unwrap_err()
		.contains("timed out"));
	assert!(started.elapsed() < Duration::from_secs(2));
	// A server that accepts the connection and never answers.
	let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
	let silent_uri = format!("http://{}/model.onnx", silent.local_addr().unwrap());
	let started = std::time::Instant::now();
	assert!(fetch(&silent_uri, &policy(1 << 20, Duration::from_millis(300)))
		.unwrap_err()
		.contains("timed out"));
	assert!(started.elapsed() < Duration::from_secs(2));

	// Without the test flag, loopback, private and link-local addresses are refused before any
	// connection, literal or by name.
	let strict = Engine::new(EngineConfig {
		allow_private_uris: false,
		..config(&dir.path().join("strict"))
	})
	.unwrap();
	let right = serve(onnx, "200 OK", Duration::ZERO);
	assert_eq!(
		strict.check_model(&by_uri(vec![right.clone()])),
		Verdict::Fails(AttestationFailure::Unavailable)
	);
	let public_only =
		FetchPolicy { allow_private: false, ..policy(1 << 20, Duration::from_secs(5)) };
	for uri in [
		right.clone(),
		right.replace("127.0.0.1", "localhost"),
		"http://169.254.169.254/latest/meta-data".to_string(),
		"http://10.0.0.1/model.onnx".to_string(),
		"http://[::1]/model.onnx".to_string(),
	] {
		let error = fetch(&uri, &public_only).unwrap_err();
		assert!(error.contains("public address"), "{uri}: {error}");
	}
	assert_eq!(StoreError::HashMismatch.attestation_failure(), AttestationFailure::HashMismatch);
}

/// An f32 input of zeros for `model`'s first input, at its example shape.
fn zeros(model: &ModelRef) -> InputTensor {
	let shape = model.signature.example_shapes().remove(0);
	let elements: u32 = shape.iter().product();
	Tensor {
		dtype: DType::F32,
		shape: shape.try_into().unwrap(),
		data: vec![0u8; elements as usize * 4].try_into().unwrap(),
	}
}

#[test]
fn a_model_that_allocates_without_bound_at_load_is_too_large_and_the_caller_lives_on() {
	let dir = tempfile::tempdir().unwrap();
	let engine = Engine::new(config(dir.path())).unwrap();
	let bomb = inline("bomb-constant-of-shape.onnx");
	assert_eq!(engine.check_model(&bomb), Verdict::Fails(AttestationFailure::TooLarge));
	// Recorded for good: not loaded again, by this engine or after a restart.
	let starts = engine.worker_starts();
	assert_eq!(engine.check_model(&bomb), Verdict::Fails(AttestationFailure::TooLarge));
	assert_eq!(engine.worker_starts(), starts, "no worker was spent on it again");
	let restarted = Engine::new(config(dir.path())).unwrap();
	assert_eq!(restarted.check_model(&bomb), Verdict::Fails(AttestationFailure::TooLarge));
	assert_eq!(restarted.worker_starts(), 0);
	// A job on it is the node's limit, not a model's verdict: this node abstains.
	let (input, ..) = reference("digits-mlp");
	assert_eq!(restarted.run(&bomb, std::slice::from_ref(&input)), Err(Abstention::ModelTooLarge));
	// And the engine still runs good models.
	assert!(matches!(
		engine.run(&inline("digits-mlp.onnx"), &[first_rows(&input, 1)]),
		Ok(InferenceOutput::Tensors(_))
	));
}

#[test]
fn an_input_that_allocates_without_bound_costs_that_job_only() {
	let dir = tempfile::tempdir().unwrap();
	let engine = Engine::new(config(dir.path())).unwrap();
	let bomb = inline("bomb-input-range.onnx");
	assert!(engine.check_model(&bomb).loads(), "harmless until fed a large size");
	let size = |value: f32| Tensor {
		dtype: DType::F32,
		shape: vec![1].try_into().unwrap(),
		data: value.to_le_bytes().to_vec().try_into().unwrap(),
	};
	let small = engine.run(&bomb, &[size(2.0)]);
	assert!(matches!(small, Ok(InferenceOutput::Tensors(_))), "a small size runs: {small:?}");
	let worker = engine.worker_id();
	// A Range of 1e10 f32, 40 GB: far over the worker's memory limit.
	assert_eq!(engine.run(&bomb, &[size(1e10)]), Err(Abstention::MemoryLimit));
	assert_ne!(engine.worker_id(), worker, "the worker that ran out of memory was replaced");
	// The model stays usable: the next small input loads it into the fresh worker and runs.
	assert_eq!(engine.run(&bomb, &[size(2.0)]), small);
}

/// An input of `slow-square.onnx`, x f32 [1, n]: 16 products of [n, n] matrices.
fn square_input(n: u32) -> InputTensor {
	Tensor {
		dtype: DType::F32,
		shape: vec![1, n].try_into().unwrap(),
		data: (0..n)
			.flat_map(|i| (i as f32 / n as f32).to_le_bytes())
			.collect::<Vec<_>>()
			.try_into()
			.unwrap(),
	}
}

#[test]
fn a_run_past_the_time_limit_kills_the_worker_and_the_next_run_gets_a_fresh_one() {
	let dir = tempfile::tempdir().unwrap();
	let engine = Engine::new(EngineConfig {
		time_limit: Duration::from_secs(2),
		max_model_bytes: 16 << 20,
		..config(dir.path())
	})
	.unwrap();
	let slow = inline("slow-square.onnx");
	assert!(engine.check_model(&slow).loads(), "instant at its example size");
	let input = square_input(4096);
	let worker = engine.worker_id().expect("the worker that loaded it");
	let started = std::time::Instant::now();
	assert_eq!(engine.run(&slow, std::slice::from_ref(&input)), Err(Abstention::Timeout));
	assert!(started.elapsed() < Duration::from_secs(4), "killed at the deadline");
	assert_eq!(engine.worker_id(), None, "the slow worker is gone");
	// SAFETY: signal 0 only asks whether the process exists.
	assert_ne!(unsafe { libc::kill(worker as i32, 0) }, 0, "and its process with it");
	let (mlp_input, ..) = reference("digits-mlp");
	assert!(matches!(
		engine.run(&inline("digits-mlp.onnx"), &[first_rows(&mlp_input, 1)]),
		Ok(InferenceOutput::Tensors(_))
	));
}

#[test]
fn a_worker_killed_mid_inference_is_replaced() {
	let dir = tempfile::tempdir().unwrap();
	let engine = Engine::new(EngineConfig {
		time_limit: Duration::from_secs(20),
		max_model_bytes: 16 << 20,
		..config(dir.path())
	})
	.unwrap();
	let slow = inline("slow-square.onnx");
	assert!(engine.check_model(&slow).loads());
	let worker = engine.worker_id().expect("the worker that loaded it");
	let killer = std::thread::spawn(move || {
		std::thread::sleep(Duration::from_millis(500));
		// SAFETY: a signal to the worker process this test started.
		unsafe { libc::kill(worker as i32, libc::SIGKILL) };
	});
	let input = square_input(4096);
	let started = std::time::Instant::now();
	assert_eq!(engine.run(&slow, std::slice::from_ref(&input)), Err(Abstention::WorkerCrashed));
	assert!(started.elapsed() < Duration::from_secs(5), "noticed at once, not at the deadline");
	killer.join().unwrap();
	let (mlp_input, ..) = reference("digits-mlp");
	assert!(matches!(
		engine.run(&inline("digits-mlp.onnx"), &[first_rows(&mlp_input, 1)]),
		Ok(InferenceOutput::Tensors(_))
	));
	assert_eq!(engine.worker_starts(), 2);
}

#[test]
fn models_that_make_tract_panic_are_refused_and_a_fresh_worker_takes_over() {
	let dir = tempfile::tempdir().unwrap();
	let engine = Engine::new(config(dir.path())).unwrap();
	for file in ["panic-transpose-perm.onnx", "panic-depth-to-space-zero.onnx"] {
		let verdict = engine.check_model(&inline(file));
		assert!(
			matches!(
				verdict,
				Verdict::Fails(AttestationFailure::Unsupported | AttestationFailure::Malformed)
			),
			"{file}: {verdict:?}"
		);
	}
	// It loads, and panics on every input: validators that run it at its example shape before
	// they attest it find that out then.
	let gather = inline("panic-gather-index.onnx");
	assert_eq!(engine.check_model(&gather), Verdict::Fails(AttestationFailure::Unsupported));
	// Were it active anyway (attested by others), a job on it is the model's verdict.
	let fresh = Engine::new(config(&dir.path().join("fresh"))).unwrap();
	let output = fresh.run(&gather, &[zeros(&gather)]);
	assert_eq!(
		output,
		Ok(InferenceOutput::Error(InferenceError::BadModel)),
		"deterministic: a verdict"
	);
	let (input, ..) = reference("digits-mlp");
	assert!(matches!(
		engine.run(&inline("digits-mlp.onnx"), &[first_rows(&input, 1)]),
		Ok(InferenceOutput::Tensors(_))
	));
}

/// The value of a counter or gauge in `registry`, summed over the series whose labels include
/// `label` (all of them with `None`).
fn metric(registry: &Registry, name: &str, label: Option<&str>) -> f64 {
	registry
		.gather()
		.iter()
		.filter(|family| family.get_name() == name)
		.flat_map(|family| family.get_metric())
		.filter(|series| {
			label
				.is_none_or(|label| series.get_label().iter().any(|pair| pair.get_value() == label))
		})
		.map(|series| series.get_counter().get_value() + series.get_gauge().get_value())
		.sum()
}

#[test]
fn the_store_keeps_to_its_quota_evicting_the_least_recently_used() {
	let dir = tempfile::tempdir().unwrap();
	let registry = Registry::new();
	let metrics = Metrics::register(&registry).unwrap();
	// Any bytes do for the store: it checks sizes and hashes, not graphs.
	let file = |name: &str| ModelRef { signature: declared("digits-int.onnx"), ..inline(name) };
	let (small, medium, large) = (
		file("digits-int.onnx"),
		file("digits-mlp-truncated.onnx"),
		file("digits-wrong-signature.onnx"),
	);
	// Room for the small and the large one together, not for all three.
	let quota = small.size + large.size + 100;
	let policy =
		FetchPolicy { max_bytes: 1 << 20, timeout: Duration::from_secs(5), allow_private: true };
	let store = ModelStore::open(&dir.path().join("models"), policy, quota, metrics).unwrap();
	store.obtain(&small).unwrap();
	store.obtain(&large).unwrap();
	assert_eq!(store.usage(), (2, small.size + large.size));
	// The small one is used again, so the large one is now the least recently used.
	store.obtain(&ModelRef { inline: None, ..small.clone() }).unwrap();
	store.obtain(&medium).unwrap();
	assert!(store.contains(&small.hash) && store.contains(&medium.hash));
	assert!(!store.contains(&large.hash), "the least recently used model was evicted");
	assert_eq!(store.usage(), (2, small.size + medium.size));
	assert_eq!(metric(&registry, "gateless_inference_model_store_evictions_total", None), 1.0);
	assert_eq!(
		metric(&registry, "gateless_inference_model_store_bytes", None),
		(small.size + medium.size) as f64
	);

	// A model larger than the whole quota is still obtained, just not stored.
	let too_big = file("digits-mlp.onnx");
	assert!(too_big.size > quota);
	assert_eq!(store.obtain(&too_big).unwrap().len() as u64, too_big.size);
	assert!(!store.contains(&too_big.hash) && store.contains(&small.hash));

	// A rejected or banned model is removed.
	store.remove(&medium.hash);
	assert_eq!(store.usage(), (1, small.size));

	// Reopened with a smaller quota, the store finds its files and evicts to fit.
	drop(store);
	let policy_dir = dir.path().join("models");
	let reopened = ModelStore::open(&policy_dir, policy, quota, Metrics::disabled()).unwrap();
	assert!(reopened.contains(&small.hash));
	let tight = ModelStore::open(&policy_dir, policy, small.size - 1, Metrics::disabled()).unwrap();
	assert_eq!(tight.usage(), (0, 0));
}

#[test]
fn a_uri_that_failed_is_backed_off_and_others_are_still_tried() {
	let dir = tempfile::tempdir().unwrap();
	let registry = Registry::new();
	let metrics = Metrics::register(&registry).unwrap();
	let policy =
		FetchPolicy { max_bytes: 1 << 20, timeout: Duration::from_secs(5), allow_private: true };
	let store = ModelStore::open(dir.path(), policy, 1 << 30, metrics).unwrap();
	let onnx = bytes("digits-int.onnx");
	let by_uri = |uris: &[&String]| ModelRef {
		uris: uris.iter().map(|uri| uri.as_bytes().to_vec().try_into().unwrap()).collect(),
		inline: None,
		..inline("digits-int.onnx")
	};
	let missing = serve(vec![], "404 Not Found", Duration::ZERO);
	let first = store.obtain(&by_uri(&[&missing])).unwrap_err();
	assert!(matches!(&first, StoreError::Unavailable(why) if why.contains("404")), "{first:?}");
	let again = store.obtain(&by_uri(&[&missing])).unwrap_err();
	assert!(
		matches!(&again, StoreError::Unavailable(why) if why.contains("not retried")),
		"{again:?}"
	);
	assert!(FIRST_RETRY_AFTER <= LAST_RETRY_AFTER);
	// A URI serving other bytes is backed off too, and still reported as the mismatch it was.
	let wrong = serve(bytes("digits-mlp.onnx"), "200 OK", Duration::ZERO);
	for _ in 0..2 {
		let error = store.obtain(&by_uri(&[&wrong])).unwrap_err();
		assert!(matches!(error, StoreError::SizeMismatch { .. }), "{error:?}");
	}
	// Another URI of the model is fetched at once.
	let right = serve(onnx.clone(), "200 OK", Duration::ZERO);
	assert_eq!(store.obtain(&by_uri(&[&missing, &wrong, &right])).unwrap(), onnx);
	let fetches =
		|outcome| metric(&registry, "gateless_inference_model_fetches_total", Some(outcome)) as u32;
	assert_eq!(
		(fetches("failed"), fetches("mismatch"), fetches("backed_off"), fetches("fetched")),
		(1, 1, 4, 1)
	);
}

#[test]
fn the_engine_loads_a_model_once_per_input_shape_and_gives_every_output() {
	let dir = tempfile::tempdir().unwrap();
	let engine = Engine::new(config(dir.path())).unwrap();
	let file = "recurrent-cell.onnx";
	let model = inline(file);
	// Attested at its example shapes (batch 1): one load.
	assert!(engine.check_model(&model).loads());
	assert_eq!(engine.loads(), 1);
	for case in references(file) {
		let inputs: Vec<InputTensor> = case.inputs.into_iter().map(|(_, tensor)| tensor).collect();
		for _ in 0..2 {
			let outputs = engine.run_all(&model, &inputs).unwrap().unwrap();
			let names: Vec<&str> = case.outputs.iter().map(|(name, _)| name.as_str()).collect();
			assert_eq!(names, ["y", "state_next"]);
			assert_outputs_match(&outputs, &case.outputs, 1e-4);
		}
	}
	// The first reference is at batch 1, the example: only batch 3 needed a plan of its own.
	assert_eq!(engine.loads(), 2);
	// Inputs that disagree on `batch` are the job's fault: a verdict, without a load.
	let mut cases = references(file);
	let mut mixed: Vec<InputTensor> =
		cases.remove(1).inputs.into_iter().map(|(_, tensor)| tensor).collect();
	mixed[0] = cases.remove(0).inputs.remove(0).1;
	assert_eq!(engine.run_all(&model, &mixed), Ok(Err(InferenceError::BadInput)));
	assert_eq!(engine.loads(), 2);
}

/// Serves content from memory, as peers would, counting the fetches.
struct Peers {
	held: std::collections::HashMap<H256, Vec<u8>>,
	store: std::sync::Arc<ContentStore>,
	fetches: std::sync::atomic::AtomicUsize,
}

impl ContentFetcher for Peers {
	fn fetch(&self, content: &ContentRef, _: Duration) -> Result<Vec<u8>, String> {
		self.fetches.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
		let bytes = self.held.get(&content.hash).ok_or("no peer holds it")?;
		self.store.put(bytes).map_err(|error| format!("{error:?}"))?;
		Ok(bytes.clone())
	}

	fn fetch_manifest(&self, content: &ContentRef, max: u64) -> Result<Manifest, String> {
		let bytes = self.held.get(&content.hash).ok_or("no peer holds it")?;
		let manifest = chunk_list_of(bytes);
		manifest.check_within(content, max).map_err(|error| format!("{error:?}"))?;
		Ok(manifest)
	}

	fn fetch_chunks(
		&self,
		content: &ContentRef,
		manifest: &Manifest,
		indices: &[u32],
		sink: &mut (dyn FnMut(u32, Vec<u8>) -> Result<(), String> + Send),
	) -> Result<(), String> {
		self.fetches.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
		let bytes = self.held.get(&content.hash).ok_or("no peer holds it")?;
		for &index in indices {
			let start = index as usize * CHUNK_BYTES as usize;
			let chunk = bytes[start..(start + CHUNK_BYTES as usize).min(bytes.len())].to_vec();
			manifest.check_chunk(index, &chunk).map_err(|error| format!("{error:?}"))?;
			sink(index, chunk)?;
		}
		Ok(())
	}
}

/// The chunk list of a model file of any size.
fn chunk_list_of(bytes: &[u8]) -> Manifest {
	Manifest::of_model(bytes).unwrap()
}

#[test]
fn inputs_given_by_content_come_from_the_store_or_from_peers_and_run_as_inline_ones() {
	let dir = tempfile::tempdir().unwrap();
	let limits = ContentLimits { ttl: Duration::from_secs(600), quota_bytes: 1 << 30 };
	let store =
		std::sync::Arc::new(ContentStore::open(dir.path().join("content"), limits).unwrap());
	let large = references("large-input.onnx").remove(0);
	let large_bytes = large.inputs[0].1.data.to_vec();
	let peers = std::sync::Arc::new(Peers {
		held: [(content_ref(&large_bytes).unwrap().hash, large_bytes.clone())].into(),
		store: store.clone(),
		fetches: Default::default(),
	});
	let engine = Engine::new(config(dir.path())).unwrap().with_content(ContentSource {
		store: store.clone(),
		fetcher: peers.clone(),
		timeout: Duration::from_secs(5),
	});
	let by_content = |tensor: &InputTensor, content: ContentRef| JobInput {
		dtype: tensor.dtype,
		shape: tensor.shape.clone(),
		data: TensorData::Content(content),
	};

	// The 224x224 image the user uploaded to this node, and the temperature inline.
	let classifier = references("image-classifier.onnx").remove(0);
	let (_, image) = &classifier.inputs[0];
	let uploaded = store.put(&image.data).unwrap();
	let inputs = InputTensors::new(vec![
		by_content(image, uploaded),
		classifier.inputs[1].1.clone().into_inline().unwrap(),
	])
	.unwrap();
	let inputs = engine.fetch_inputs(inputs).unwrap();
	assert_eq!(inputs[0], *image);
	let outputs = engine.run_all(&inline("image-classifier.onnx"), &inputs).unwrap().unwrap();
	assert_outputs_match(&outputs, &classifier.outputs, 1e-4);
	assert_eq!(peers.fetches.load(std::sync::atomic::Ordering::SeqCst), 0, "it was in the store");

	// 16 MiB this node lacks: fetched, kept, and not fetched again.
	let content = content_ref(&large_bytes).unwrap();
	let job = || InputTensors::new(vec![by_content(&large.inputs[0].1, content)]).unwrap();
	let inputs = engine.fetch_inputs(job()).unwrap();
	let outputs = engine.run_all(&inline("large-input.onnx"), &inputs).unwrap().unwrap();
	assert_outputs_match(&outputs, &large.outputs, 1e-4);
	assert!(store.contains(&content.hash));
	engine.fetch_inputs(job()).unwrap();
	assert_eq!(peers.fetches.load(std::sync::atomic::Ordering::SeqCst), 1);

	// Content nobody holds: this node abstains, it is not a verdict.
	let missing = ContentRef { hash: H256::repeat_byte(9), len: content.len };
	let unavailable = InputTensors::new(vec![by_content(&large.inputs[0].1, missing)]).unwrap();
	assert_eq!(engine.fetch_inputs(unavailable), Err(Abstention::InputUnavailable));
	// Nor is there any content without a source.
	let without = Engine::new(config(dir.path())).unwrap();
	assert_eq!(without.fetch_inputs(job()), Err(Abstention::InputUnavailable));
}

/// Waits (at most 20 s) until the engine holds `hash`, fetched as `content`; its last answer.
fn until_fetched(engine: &Engine, hash: H256, content: ContentRef) -> ModelFetch {
	let deadline = std::time::Instant::now() + Duration::from_secs(20);
	loop {
		let fetch = engine.obtain_model(hash, content);
		if !matches!(fetch, ModelFetch::Fetching { .. }) || std::time::Instant::now() > deadline {
			return fetch;
		}
		std::thread::sleep(Duration::from_millis(20));
	}
}

#[test]
fn a_model_that_nodes_provide_is_fetched_in_the_background_and_served_chunk_by_chunk() {
	let dir = tempfile::tempdir().unwrap();
	let limits = ContentLimits { ttl: Duration::from_secs(600), quota_bytes: 1 << 30 };
	let store =
		std::sync::Arc::new(ContentStore::open(dir.path().join("content"), limits).unwrap());
	// 4.2 MiB: five chunks.
	let onnx = bytes("slow-matmul.onnx");
	let hash = model_hash(&onnx);
	let manifest = chunk_list_of(&onnx);
	let content = manifest.content_ref();
	let peers = std::sync::Arc::new(Peers {
		held: [(content.hash, onnx.clone())].into(),
		store: store.clone(),
		fetches: Default::default(),
	});
	let engine = Engine::new(EngineConfig { max_model_bytes: 8 << 20, ..config(dir.path()) })
		.unwrap()
		.with_content(ContentSource {
			store: store.clone(),
			fetcher: peers.clone(),
			timeout: Duration::from_secs(5),
		});

	// The first ask starts the fetch and answers at once; the model is then held, its bytes the
	// file's (this model is too slow to check here: `check_model` would run it).
	assert_eq!(engine.obtain_model(hash, content), ModelFetch::Fetching { received: 0, chunks: 5 });
	assert_eq!(until_fetched(&engine, hash, content), ModelFetch::Held);
	assert!(engine.has_model(&hash));
	let models = engine.model_store();
	assert_eq!(models.read(&hash).unwrap(), onnx);
	assert_eq!(peers.fetches.load(std::sync::atomic::Ordering::SeqCst), 1);

	// The node serves it to peers as content, each chunk checked first.
	assert_eq!(models.content_hashes(), vec![content.hash]);
	assert_eq!(*models.content_manifest(&content.hash).unwrap(), manifest);
	assert_eq!(models.content_chunk(&content.hash, 4).unwrap(), onnx[4 << 20..]);
	assert_eq!(models.content_chunk(&content.hash, 5), None);

	// Registered chunks that make other bytes than the model's: every node finds it, and does not
	// fetch them again.
	let other_hash = model_hash(&bytes("digits-mlp.onnx"));
	assert!(matches!(engine.obtain_model(other_hash, content), ModelFetch::Fetching { .. }));
	assert_eq!(until_fetched(&engine, other_hash, content), ModelFetch::HashMismatch);
	assert_eq!(engine.obtain_model(other_hash, content), ModelFetch::HashMismatch);
	assert!(!engine.has_model(&other_hash));

	// Content nobody provides: unavailable, tried again after a while. Over this node's limit:
	// too large, not fetched.
	let nobody = ContentRef { hash: H256::repeat_byte(7), len: 3 << 20 };
	assert!(matches!(
		engine.obtain_model(H256::repeat_byte(8), nobody),
		ModelFetch::Fetching { .. }
	));
	assert_eq!(until_fetched(&engine, H256::repeat_byte(8), nobody), ModelFetch::Unavailable);
	let huge = ContentRef { hash: H256::repeat_byte(9), len: 9 << 20 };
	assert_eq!(engine.obtain_model(H256::repeat_byte(10), huge), ModelFetch::TooLarge);

	// A removed model stops being served.
	engine.discard_model(&hash);
	assert_eq!(models.content_hashes(), vec![]);
	assert_eq!(models.content_chunk(&content.hash, 0), None);
}

#[test]
fn a_model_download_resumes_from_the_chunks_already_on_disk() {
	let dir = tempfile::tempdir().unwrap();
	let policy =
		FetchPolicy { max_bytes: 8 << 20, timeout: Duration::from_secs(1), allow_private: true };
	let store = ModelStore::open(dir.path(), policy, 1 << 30, Metrics::disabled()).unwrap();
	let onnx = bytes("slow-matmul.onnx");
	let manifest = chunk_list_of(&onnx);
	let (file, had) = store.open_download(&manifest).unwrap();
	assert_eq!(had, vec![false; 5]);
	use std::os::unix::fs::FileExt;
	file.write_all_at(&onnx[..2 << 20], 0).unwrap();
	// A chunk written wrong does not count.
	file.write_all_at(&[1, 2, 3], 3 << 20).unwrap();
	drop(file);
	// After a restart too.
	drop(store);
	let store = ModelStore::open(dir.path(), policy, 1 << 30, Metrics::disabled()).unwrap();
	let (file, had) = store.open_download(&manifest).unwrap();
	assert_eq!(had, vec![true, true, false, false, false]);
	file.write_all_at(&onnx[2 << 20..], 2 << 20).unwrap();
	// Not the model with this hash: refused, and the download is dropped.
	assert_eq!(
		store.insert_download(&H256::repeat_byte(1), &manifest),
		Err(StoreError::HashMismatch)
	);
	let (file, had) = store.open_download(&manifest).unwrap();
	assert_eq!(had, vec![false; 5]);
	file.write_all_at(&onnx, 0).unwrap();
	store.insert_download(&model_hash(&onnx), &manifest).unwrap();
	assert_eq!(store.read(&model_hash(&onnx)).unwrap(), onnx);
	assert_eq!(store.content_hashes(), vec![manifest.hash()]);
}
