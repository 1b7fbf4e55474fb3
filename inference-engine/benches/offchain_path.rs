//! What the offchain path costs over a direct tract call, and how tract compares with onnxruntime,
//! on the project's models.
//!
//! `cargo bench -p gateless-inference-engine --bench offchain_path` measures, for the digits
//! models at batches of 1 and 16 images and for `conv-dynamic` on one 3 x 64 x 64 image (about a
//! millisecond of work), the median time of one inference over `GATELESS_BENCH_RUNS` runs
//! (default 2000):
//! - `direct`: `Plan::run` on a plan optimised for the input's shape, in this thread;
//! - `engine`: `Engine::run` (lock, a request to the sandboxed worker process over its pipe, its
//!   plan cache, the answer back);
//! - `interface`: the `inference::run` runtime interface as the runtime calls it, with the engine
//!   registered as the `InferenceExt` extension (adds the SCALE encoding of model and input and
//!   decoding of the output); calls back to back, as a worker with several jobs makes them;
//! - `interface after idle`: the same, each call after 5 ms of idleness (a worker's single job);
//! - `onnxruntime`: `InferenceSession::run` in Python (`benchmarks/onnxruntime_bench.py`, from
//!   PyPI, one thread, all graph optimisations) on the same input;
//!
//! and the time to load and optimise each model (tract: `Plan::load`; onnxruntime: creating the
//! session) and the peak resident memory of a process that loads and runs it (each model is
//! measured in a process of its own: this bench runs itself again with `GATELESS_BENCH_CHILD`).
//! It prints a Markdown table and writes `benchmarks/inference.json`.
//!
//! The WASM-to-host crossing of a real offchain worker is not in `interface`: it copies the same
//! encoded bytes once more.

use std::{
	process::Command,
	time::{Duration, Instant},
};

use gateless_inference_engine::{
	reference::{bytes, declared, first_rows, reference, repository_root},
	Engine, EngineConfig, Plan,
};
use gateless_primitives::{
	inference::{self, InferenceExt, ModelRef, OutputPlacement},
	job::{InputTensor, InputTensors, Tensor},
	model::model_hash,
	model::DType,
};
use serde_json::{json, Value};

/// The models measured, and the sizes each is run at: rows of the digits' reference images, images
/// of conv-dynamic, or `n` of slow-square's input [1, n].
const MODELS: [(&str, &str, &[u32]); 4] = [
	("digits-mlp", "digits-mlp.onnx", &[1, 16]),
	("digits-int", "digits-int.onnx", &[1, 16]),
	// A convolutional network on a 48 KiB image: input and output bytes cross the pipe.
	("conv-dynamic", "conv-dynamic.onnx", &[1]),
	// Milliseconds of work on a few hundred bytes: where the worker's fixed cost should vanish.
	("slow-square", "slow-square.onnx", &[128, 256]),
];
/// The height and width of conv-dynamic's input image in this bench: 3 x 64 x 64 f32, 48 KiB.
const CONV_SIDE: u32 = 64;

/// The input of `model` at `rows`: the digits' reference images; for conv-dynamic, images of
/// `(i * 37 mod 256) / 255`; for slow-square, x [1, rows] of `i / rows` (the same values
/// `benchmarks/onnxruntime_bench.py` feeds).
fn bench_input(model: &str, rows: u32) -> InputTensor {
	if model == "slow-square" {
		let data: Vec<u8> =
			(0..rows).flat_map(|i| (i as f32 / rows as f32).to_le_bytes()).collect();
		return Tensor {
			dtype: DType::F32,
			shape: vec![1, rows].try_into().expect("rank 2"),
			data: data.try_into().expect("within the input limit"),
		};
	}
	if model == "conv-dynamic" {
		let count = rows * 3 * CONV_SIDE * CONV_SIDE;
		let data: Vec<u8> = (0..count)
			.flat_map(|i| (((i * 37) % 256) as f32 / 255.0).to_le_bytes())
			.collect();
		return Tensor {
			dtype: DType::F32,
			shape: vec![rows, 3, CONV_SIDE, CONV_SIDE].try_into().expect("rank 4"),
			data: data.try_into().expect("within the input limit"),
		};
	}
	let (batch, ..) = reference(model);
	first_rows(&batch, rows)
}

fn runs() -> usize {
	std::env::var("GATELESS_BENCH_RUNS")
		.ok()
		.and_then(|runs| runs.parse().ok())
		.unwrap_or(2_000)
}

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

/// The process's peak resident memory so far, in KiB (Linux `VmHWM`).
fn peak_rss_kib() -> u64 {
	std::fs::read_to_string("/proc/self/status")
		.ok()
		.and_then(|status| {
			status.lines().find_map(|line| {
				line.strip_prefix("VmHWM:")?.trim().trim_end_matches("kB").trim().parse().ok()
			})
		})
		.unwrap_or(0)
}

/// Measures tract and the offchain path on one model, in this process.
fn measure_tract(model: &str, file: &str, batches: &[u32]) -> Value {
	let runs = runs();
	let baseline = peak_rss_kib();
	let dir = tempfile::tempdir().expect("a temporary directory");
	let engine = Engine::new(EngineConfig {
		model_dir: dir.path().to_path_buf(),
		max_model_bytes: 64 << 20,
		store_quota_bytes: 1 << 30,
		cache_size: 8,
		time_limit: Duration::from_secs(5),
		fetch_timeout: Duration::from_secs(5),
		allow_private_uris: true,
		threads: 1,
		memory_limit: 4 << 30,
		worker: gateless_inference_engine::WorkerCommand {
			program: env!("CARGO_BIN_EXE_gateless-inference-worker").into(),
			args: vec![],
		},
	})
	.expect("the engine starts");
	let onnx = bytes(file);
	let signature = declared(file);
	let load = median(
		(0..20)
			.map(|_| {
				let started = Instant::now();
				Plan::load_example(&onnx, &signature).expect("the model loads");
				started.elapsed()
			})
			.collect(),
	);
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
	let mut figures = Vec::new();
	for &rows in batches {
		let input = bench_input(model, rows);
		let plan = Plan::load(&onnx, &signature, &[input.shape.to_vec()]).expect("it loads");
		let direct = time(runs, || {
			plan.run(std::slice::from_ref(&input)).expect("runs");
		});
		let through_engine = time(runs, || {
			engine.run(&stored, std::slice::from_ref(&input)).expect("a verdict");
		});
		let inline = input.clone().into_inline().expect("a small input");
		let inputs = InputTensors::new(vec![inline]).expect("one input within bounds");
		// Every output inline, as before outputs went by content: the path measured here is the
		// interface's, not the content store's.
		let placement = OutputPlacement {
			inline_limit: gateless_primitives::job::MAX_INLINE_OUTPUT_BYTES,
			determinism: gateless_inference_engine::reference::determinism(file),
		};
		let mut externalities = sp_io::TestExternalities::default();
		externalities.register_extension(InferenceExt::new(engine.clone()));
		let (through_interface, after_idle) = externalities.execute_with(|| {
			let back_to_back = time(runs, || {
				inference::run(stored.clone(), inputs.clone(), placement.clone())
					.expect("an engine")
					.expect("a verdict");
			});
			let after_idle = median(
				(0..(runs / 20).max(20))
					.map(|_| {
						std::thread::sleep(Duration::from_millis(5));
						let started = Instant::now();
						inference::run(stored.clone(), inputs.clone(), placement.clone())
							.expect("an engine")
							.expect("a verdict");
						started.elapsed()
					})
					.collect(),
			);
			(back_to_back, after_idle)
		});
		figures.push(json!({
			"rows": rows,
			"direct_us": micros(direct),
			"engine_us": micros(through_engine),
			"interface_us": micros(through_interface),
			"interface_after_idle_us": micros(after_idle),
		}));
	}
	json!({
		"model": model,
		"runs": runs,
		"load_ms": load.as_secs_f64() * 1e3,
		"peak_rss_before_kib": baseline,
		"peak_rss_kib": peak_rss_kib(),
		"batches": figures,
	})
}

fn run_json(command: &mut Command) -> Value {
	let output = command.output().unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
	assert!(
		output.status.success(),
		"{command:?} failed: {}\n{}",
		output.status,
		String::from_utf8_lossy(&output.stderr)
	);
	let stdout = String::from_utf8_lossy(&output.stdout);
	let line = stdout.lines().last().unwrap_or_default();
	serde_json::from_str(line).unwrap_or_else(|e| panic!("{command:?} printed {stdout}: {e}"))
}

/// The Python of the benchmarks' virtualenv, set up by `scripts/setup-bench.sh`.
fn python() -> String {
	let output = Command::new("bash")
		.arg(repository_root().join("scripts/setup-bench.sh"))
		.output()
		.expect("bash runs scripts/setup-bench.sh");
	assert!(output.status.success(), "scripts/setup-bench.sh failed");
	String::from_utf8_lossy(&output.stdout).trim().to_string()
}

fn main() {
	if let Ok(file) = std::env::var("GATELESS_BENCH_CHILD") {
		let (model, _, batches) =
			MODELS.iter().find(|(_, f, _)| *f == file).expect("a known model");
		println!("{}", measure_tract(model, &file, batches));
		return;
	}
	let python = python();
	let runs = runs();
	let mut results = Vec::new();
	println!(
		"| model | rows | load+optimise ms (tract / onnxruntime) | direct tract µs | engine µs | \
		 interface µs | interface after idle µs | onnxruntime µs | interface / direct | \
		 direct / onnxruntime | peak RSS MiB (tract / onnxruntime) |"
	);
	println!("|{}", " --- |".repeat(11));
	for (model, file, batches) in MODELS {
		let tract = run_json(
			Command::new(std::env::current_exe().expect("this bench's path"))
				.env("GATELESS_BENCH_CHILD", file),
		);
		let mut onnxruntime = Vec::new();
		for rows in batches {
			onnxruntime.push(run_json(
				Command::new(&python)
					.arg(repository_root().join("benchmarks/onnxruntime_bench.py"))
					.args([file.to_string(), rows.to_string(), runs.to_string()]),
			));
		}
		let mib = |value: &Value| value.as_f64().unwrap_or(0.0) / 1024.0;
		for (batch, ort) in tract["batches"].as_array().expect("batches").iter().zip(&onnxruntime) {
			let figure = |name: &str| batch[name].as_f64().unwrap_or(f64::NAN);
			println!(
				"| {model} | {} | {:.2} / {:.2} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.2} | {:.2} | {:.0} / {:.0} |",
				batch["rows"],
				tract["load_ms"].as_f64().unwrap_or(f64::NAN),
				ort["load_ms"].as_f64().unwrap_or(f64::NAN),
				figure("direct_us"),
				figure("engine_us"),
				figure("interface_us"),
				figure("interface_after_idle_us"),
				ort["run_us"].as_f64().unwrap_or(f64::NAN),
				figure("interface_us") / figure("direct_us"),
				figure("direct_us") / ort["run_us"].as_f64().unwrap_or(f64::NAN),
				mib(&tract["peak_rss_kib"]),
				mib(&ort["peak_rss_kib"]),
			);
		}
		results.push(json!({ "model": model, "tract": tract, "onnxruntime": onnxruntime }));
	}
	let path = repository_root().join("benchmarks/inference.json");
	let report = json!({ "runs": runs, "models": results });
	std::fs::write(&path, serde_json::to_vec_pretty(&report).expect("JSON")).expect("writable");
	println!("\nwrote {}", path.display());
}
