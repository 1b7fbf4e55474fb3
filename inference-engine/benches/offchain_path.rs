//! What the offchain path costs over a direct tract call, on the project's models.
//!
//! `cargo bench -p gateless-inference-engine --bench offchain_path` prints, for each model and
//! batch size, the median time of one inference:
//! - `direct`: `Plan::run` on an optimised plan, in this thread;
//! - `engine`: `Engine::run` (lock, plan cache lookup, hop to the inference thread, time check);
//! - `interface`: the `inference::run` runtime interface as the runtime calls it natively, with the
//!   engine registered as the `InferenceExt` extension (adds SCALE encoding of model and input);
//!
//! and the time to load and optimise each model. The WASM-to-host crossing of a real offchain
//! worker is not in `interface` (it copies the same encoded bytes once more).

use std::time::{Duration, Instant};

use gateless_inference_engine::{
	reference::{bytes, declared, first_rows, reference},
	Engine, EngineConfig, Plan,
};
use gateless_primitives::{
	inference::{self, InferenceExt, ModelRef},
	job::InputTensor,
	model::model_hash,
};

const RUNS: usize = 2_000;

fn median(mut samples: Vec<Duration>) -> Duration {
	samples.sort();
	samples[samples.len() / 2]
}

fn time(runs: usize, mut f: impl FnMut()) -> Duration {
	// Warm caches and the inference thread first.
	for _ in 0..runs / 10 {
		f();
	}
	median(
		(0..runs)
			.map(|_| {
				let started = Instant::now();
				f();
				started.elapsed()
			})
			.collect(),
	)
}

fn micros(duration: Duration) -> f64 {
	duration.as_secs_f64() * 1e6
}

fn main() {
	let dir = tempfile::tempdir().expect("a temporary directory");
	let engine = Engine::new(EngineConfig {
		model_dir: dir.path().to_path_buf(),
		max_model_bytes: 64 << 20,
		cache_size: 8,
		time_limit: Duration::from_secs(5),
		fetch_timeout: Duration::from_secs(5),
		threads: 1,
	})
	.expect("the engine starts");
	println!("| model | batch | load+optimise ms | direct µs | engine µs | interface µs | interface/direct |");
	println!("| --- | --- | --- | --- | --- | --- | --- |");
	for (model, file) in [("digits-mlp", "digits-mlp.onnx"), ("digits-int", "digits-int.onnx")] {
		let onnx = bytes(file);
		let signature = declared(file);
		let loads: Vec<Duration> = (0..20)
			.map(|_| {
				let started = Instant::now();
				Plan::load(&onnx, &signature).expect("the model loads");
				started.elapsed()
			})
			.collect();
		let load = median(loads);
		let plan = Plan::load(&onnx, &signature).expect("the model loads");
		let model_ref = ModelRef {
			hash: model_hash(&onnx),
			size: onnx.len() as u64,
			signature: signature.clone(),
			uris: vec![],
			inline: Some(onnx.clone()),
		};
		engine.check_model(&model_ref);
		// As the worker passes it once the node has the bytes.
		let stored = ModelRef { inline: None, ..model_ref };
		let (batch, ..) = reference(model);
		for rows in [1, 16] {
			let input: InputTensor = first_rows(&batch, rows);
			let direct = time(RUNS, || {
				plan.run(&input).expect("runs");
			});
			let through_engine = time(RUNS, || {
				engine.run(&stored, &input);
			});
			let mut externalities = sp_io::TestExternalities::default();
			externalities.register_extension(InferenceExt::new(engine.clone()));
			let through_interface = externalities.execute_with(|| {
				time(RUNS, || {
					inference::run(stored.clone(), input.clone()).expect("an engine");
				})
			});
			println!(
				"| {model} | {rows} | {:.2} | {:.1} | {:.1} | {:.1} | {:.2} |",
				load.as_secs_f64() * 1e3,
				micros(direct),
				micros(through_engine),
				micros(through_interface),
				micros(through_interface) / micros(direct),
			);
		}
	}
}
