//! The project's own models (`models/` in the repository) and onnxruntime's reference outputs
//! for them, for tests and benchmarks of the engine, the runtime and the whole chain.

use std::{
	fs,
	io::{Read, Write},
	net::TcpListener,
	path::{Path, PathBuf},
	time::Duration,
};

use gateless_primitives::{
	job::{InputTensor, Tensor},
	model::{DType, Determinism, Dim, ModelSignature, SymbolSpec, TensorSpec},
};
use serde_json::Value;
use sp_runtime::{FixedU64, Perbill};

/// The repository's root, found at run time: from the directory of the package whose tests run
/// (cargo and nextest set `CARGO_MANIFEST_DIR` for them) up to the directory that holds
/// `models/make_models.py`, else from where this crate was compiled. Not the compile-time path
/// alone: a target directory shared between clones (`scripts/env.sh`) keeps artifacts compiled in
/// another clone, with that clone's path, which may be gone.
pub fn repository_root() -> PathBuf {
	let compiled = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
	let running = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
	let found = running
		.iter()
		.chain([&compiled])
		.flat_map(|dir| dir.ancestors())
		.find(|dir| dir.join("models/make_models.py").is_file())
		.map(Path::to_path_buf);
	found.unwrap_or_else(|| compiled.join(".."))
}

/// The repository's `models/` directory.
pub fn models_dir() -> PathBuf {
	repository_root().join("models")
}

/// The bytes of a committed file of `models/`.
pub fn bytes(file: &str) -> Vec<u8> {
	fs::read(models_dir().join(file)).expect("the committed model files")
}

fn json(file: &str) -> Value {
	serde_json::from_slice(&bytes(file)).expect("valid JSON")
}

fn dtype(name: &str) -> DType {
	match name {
		"f16" => DType::F16,
		"f32" => DType::F32,
		"f64" => DType::F64,
		"i8" => DType::I8,
		"i16" => DType::I16,
		"i32" => DType::I32,
		"i64" => DType::I64,
		"u8" => DType::U8,
		"u16" => DType::U16,
		"u32" => DType::U32,
		"u64" => DType::U64,
		"bool" => DType::Bool,
		other => panic!("dtype {other}"),
	}
}

fn spec(value: &Value, symbols: &mut Vec<String>) -> TensorSpec {
	TensorSpec {
		name: value["name"].as_str().unwrap().as_bytes().to_vec().try_into().unwrap(),
		dtype: dtype(value["dtype"].as_str().unwrap()),
		shape: value["shape"]
			.as_array()
			.unwrap()
			.iter()
			.map(|dim| match (dim.as_u64(), dim.as_str()) {
				(Some(size), _) => Dim::Fixed(size as u32),
				(None, Some("Dynamic")) => Dim::Dynamic,
				(None, Some(symbol)) => {
					let index =
						symbols.iter().position(|known| known == symbol).unwrap_or_else(|| {
							symbols.push(symbol.to_owned());
							symbols.len() - 1
						});
					Dim::Symbol(index as u8)
				},
				(None, None) => panic!("dimension {dim}"),
			})
			.collect::<Vec<_>>()
			.try_into()
			.unwrap(),
	}
}

/// The signature `models.json` declares for `file`: dimensions are sizes, symbol names, or
/// `"Dynamic"`; `examples` gives symbols their example sizes (1 where it does not).
pub fn declared(file: &str) -> ModelSignature {
	let entry = &json("models.json")[file]["signature"];
	let mut symbols = Vec::new();
	let mut side = |key: &str| {
		entry[key]
			.as_array()
			.unwrap()
			.iter()
			.map(|value| spec(value, &mut symbols))
			.collect::<Vec<_>>()
			.try_into()
			.unwrap()
	};
	let (inputs, outputs) = (side("inputs"), side("outputs"));
	let symbols = symbols
		.into_iter()
		.map(|name| SymbolSpec {
			example: entry["examples"][&name].as_u64().unwrap_or(1) as u32,
			name: name.into_bytes().try_into().unwrap(),
		})
		.collect::<Vec<_>>()
		.try_into()
		.unwrap();
	ModelSignature { inputs, outputs, symbols }
}

/// The values of a reference input written as `{"generator": {"seed": s}}` (see
/// `models/data_plane_models.py`): element i is `((i × 2654435761 + s × 40503) mod 2^32) / 2^32 -
/// 0.5`, as f32.
pub fn generated(count: usize, seed: u64) -> Vec<u8> {
	(0..count as u64)
		.flat_map(|i| {
			let k = i.wrapping_mul(2_654_435_761).wrapping_add(seed * 40_503) % (1u64 << 32);
			((k as f64 / (1u64 << 32) as f64 - 0.5) as f32).to_le_bytes()
		})
		.collect()
}

/// A tensor of the references' JSON: `{name?, dtype, shape, values}` (or an f32 `generator`, or
/// a `file` of raw little-endian bytes beside the models, instead of `values`), within a job
/// input's bounds.
fn reference_tensor(value: &Value) -> (String, InputTensor) {
	let kind = dtype(value["dtype"].as_str().unwrap());
	let shape: Vec<u32> = value["shape"]
		.as_array()
		.unwrap()
		.iter()
		.map(|d| d.as_u64().unwrap() as u32)
		.collect();
	if let Some(seed) = value["generator"]["seed"].as_u64() {
		assert_eq!(kind, DType::F32, "generated reference inputs are f32");
		let count = shape.iter().map(|d| *d as usize).product();
		let tensor = Tensor {
			dtype: kind,
			shape: shape.try_into().unwrap(),
			data: generated(count, seed).try_into().unwrap(),
		};
		return (value["name"].as_str().unwrap_or_default().to_owned(), tensor);
	}
	if let Some(file) = value["file"].as_str() {
		let data = bytes(file);
		let count: usize = shape.iter().map(|d| *d as usize).product();
		assert_eq!(
			data.len(),
			count * kind.size_in_bytes() as usize,
			"{file} does not fit its shape"
		);
		let tensor = Tensor {
			dtype: kind,
			shape: shape.try_into().unwrap(),
			data: data.try_into().unwrap(),
		};
		return (value["name"].as_str().unwrap_or_default().to_owned(), tensor);
	}
	let values = value["values"].as_array().unwrap();
	let data: Vec<u8> = match kind {
		DType::F32 => {
			values.iter().flat_map(|v| (v.as_f64().unwrap() as f32).to_le_bytes()).collect()
		},
		DType::I32 => {
			values.iter().flat_map(|v| (v.as_i64().unwrap() as i32).to_le_bytes()).collect()
		},
		DType::I64 => values.iter().flat_map(|v| v.as_i64().unwrap().to_le_bytes()).collect(),
		other => panic!("no reference tensors of {other:?}"),
	};
	let tensor =
		Tensor { dtype: kind, shape: shape.try_into().unwrap(), data: data.try_into().unwrap() };
	(value["name"].as_str().unwrap_or_default().to_owned(), tensor)
}

/// One reference run of a model: its named inputs and onnxruntime's named outputs.
pub struct ReferenceCase {
	pub inputs: Vec<(String, InputTensor)>,
	pub outputs: Vec<(String, InputTensor)>,
}

/// The reference runs `models.json` lists for `file` (at different concrete shapes).
pub fn references(file: &str) -> Vec<ReferenceCase> {
	json("models.json")[file]["references"]
		.as_array()
		.unwrap_or_else(|| panic!("no references for {file}"))
		.iter()
		.map(|case| {
			let side = |key: &str| {
				case[key].as_array().unwrap().iter().map(reference_tensor).collect::<Vec<_>>()
			};
			ReferenceCase { inputs: side("inputs"), outputs: side("outputs") }
		})
		.collect()
}

/// The determinism class `models.json` declares for `file`.
pub fn determinism(file: &str) -> Determinism {
	let entry = &json("models.json")[file]["determinism"];
	match entry.get("Tolerance") {
		None => Determinism::Exact,
		Some(tolerance) => {
			let billionths = |key: &str| (tolerance[key].as_f64().unwrap() * 1e9).round() as u64;
			Determinism::Tolerance {
				abs: FixedU64::from_rational(billionths("abs").into(), 1_000_000_000),
				rel: Perbill::from_parts(billionths("rel") as u32),
			}
		},
	}
}

/// The reference input of `model` (a batch), onnxruntime's output values as f64, and the class
/// it predicts for each row.
pub fn reference(model: &str) -> (InputTensor, Vec<f64>, Vec<usize>) {
	let document = json(&format!("{model}.reference.json"));
	let (_, tensor) = reference_tensor(&document["input"]);
	let output = document["output"]["values"]
		.as_array()
		.unwrap()
		.iter()
		.map(|v| v.as_f64().unwrap())
		.collect();
	let predicted = document["predicted"]
		.as_array()
		.unwrap()
		.iter()
		.map(|v| v.as_u64().unwrap() as usize)
		.collect();
	(tensor, output, predicted)
}

/// The first `rows` rows of a `[batch, width]` input.
pub fn first_rows(input: &InputTensor, rows: u32) -> InputTensor {
	let width = input.shape.get(1).copied().unwrap_or(1);
	let bytes = (rows * width * input.dtype.size_in_bytes()) as usize;
	Tensor {
		dtype: input.dtype,
		shape: vec![rows, width].try_into().unwrap(),
		data: input.data[..bytes].to_vec().try_into().unwrap(),
	}
}

/// Asserts that `outputs` are a reference run's `expected` outputs, in order: as many, each of the
/// same shape and every value within `tolerance` of onnxruntime's.
pub fn assert_outputs_match<const MAX_BYTES: u32>(
	outputs: &[Tensor<MAX_BYTES>],
	expected: &[(String, InputTensor)],
	tolerance: f64,
) {
	assert_eq!(outputs.len(), expected.len());
	for (output, (name, expected)) in outputs.iter().zip(expected) {
		assert_eq!(output.shape, expected.shape, "`{name}`");
		let worst = values(output)
			.iter()
			.zip(values(expected))
			.map(|(a, b)| (a - b).abs())
			.fold(0.0, f64::max);
		assert!(worst <= tolerance, "`{name}` differs from onnxruntime by {worst}");
	}
}

/// The values of an f32, i32 or i64 tensor, as f64.
pub fn values<const MAX_BYTES: u32>(output: &Tensor<MAX_BYTES>) -> Vec<f64> {
	match output.dtype {
		DType::I64 => output
			.data
			.chunks_exact(8)
			.map(|b| i64::from_le_bytes(b.try_into().unwrap()) as f64)
			.collect(),
		DType::F32 => output
			.data
			.chunks_exact(4)
			.map(|b| f64::from(f32::from_le_bytes(b.try_into().unwrap())))
			.collect(),
		DType::I32 => output
			.data
			.chunks_exact(4)
			.map(|b| f64::from(i32::from_le_bytes(b.try_into().unwrap())))
			.collect(),
		other => panic!("unexpected {other:?}"),
	}
}

/// The index of the largest value of each row of `width` values.
pub fn argmax_rows(values: &[f64], width: usize) -> Vec<usize> {
	values
		.chunks(width)
		.map(|row| {
			row.iter()
				.enumerate()
				.fold((0, f64::MIN), |best, (i, v)| if *v > best.1 { (i, *v) } else { best })
				.0
		})
		.collect()
}

/// Serves `body` with HTTP `status` (e.g. `"200 OK"`) on a loopback port to every request, after
/// `delay`, as a model's URI would; returns the URL. The server lives as long as the process.
pub fn serve(body: Vec<u8>, status: &'static str, delay: Duration) -> String {
	let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
	let address = listener.local_addr().expect("a bound address");
	std::thread::spawn(move || {
		for stream in listener.incoming() {
			let Ok(mut stream) = stream else { break };
			let mut request = [0u8; 1024];
			let _ = stream.read(&mut request);
			std::thread::sleep(delay);
			let head = format!(
				"HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
				body.len()
			);
			let _ = stream.write_all(head.as_bytes());
			let _ = stream.write_all(&body);
		}
	});
	format!("http://{address}/model.onnx")
}

/// The engine's own worker binary, `gateless-inference-worker`, for tests of other crates:
/// `GATELESS_INFERENCE_WORKER` if set, else the one a workspace build put beside the running test
/// executable's directory (`target/debug/deps/..`); `scripts/test.sh` builds it.
pub fn test_worker() -> crate::WorkerCommand {
	let program =
		std::env::var_os("GATELESS_INFERENCE_WORKER")
			.map(PathBuf::from)
			.unwrap_or_else(|| {
				let exe = std::env::current_exe().expect("the test executable has a path");
				let profile_dir =
					exe.parent().and_then(Path::parent).expect("target/<profile>/deps");
				profile_dir.join("gateless-inference-worker")
			});
	assert!(
		program.is_file(),
		"no inference worker at {program:?}: `cargo build -p gateless-inference-engine --bins` \
		 (scripts/test.sh does) or set GATELESS_INFERENCE_WORKER"
	);
	crate::WorkerCommand { program, args: vec![] }
}
