//! The Gateless inference worker as a program of its own: what the engine's tests and benchmarks
//! start. It speaks the same protocol, with the same sandbox, as `gateless-node inference-worker`.

fn main() {
	std::process::exit(gateless_inference_engine::run_worker(std::env::args().skip(1)));
}
