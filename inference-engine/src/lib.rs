//! # Gateless inference engine
//!
//! What a validator's node runs models with: [tract](https://github.com/sonos/tract), pinned to
//! one exact version so that honest validators compute the same outputs.
//!
//! - [`read_signature`] reads the inputs and outputs an ONNX file declares (names, dtypes,
//!   fixed and symbolic dimensions) from its protobuf, without typing the graph.
//! - [`Plan::load`] parses an ONNX file, checks it against the signature the model was
//!   registered with, types it at one concrete shape of each input (as tract needs for real
//!   exported graphs), optimises it and keeps the runnable plan.
//! - [`Plan::run`] checks a job's inputs, runs the plan and returns every declared output as a
//!   [`HostTensor`](gateless_primitives::job::HostTensor), or the typed
//!   [`InferenceError`](gateless_primitives::job::InferenceError) that validators reveal instead
//!   (a panic inside tract is caught and reported as `BadModel`, or as [`RunError::OutOfMemory`],
//!   this node's limit, when an allocation failed).
//! - [`compute`] counts a typed model's operations, the estimate validators attest beside a
//!   model that loads and that job fees follow.
//! - [`PlanCache`] keeps the most recently used plans by model hash and input shapes, so a model
//!   is optimised once per shape its jobs use, not per job.
//! - [`store::ModelStore`] keeps ONNX files on disk by hash, from inline bytes, fetched URIs or
//!   peers, within a disk quota, and serves the chunks of those that nodes provide as content.
//! - [`model_fetch`] fetches models that nodes provide as content from peers, in the background.
//! - [`content::ContentStore`] keeps the job inputs and outputs that travel off chain, by content
//!   hash, checked chunk by chunk, for a time-to-live; a [`ContentFetcher`] (the node's network)
//!   gets what it lacks from peers.
//! - [`worker`]: the sandboxed processes that do the loading and running, so that a hostile model
//!   can never stop the node.
//! - [`journal`] remembers, across restarts, the models whose loading killed a worker.
//! - [`metrics`]: Prometheus counters of loads, runs, abstentions, workers, fetches and the store.
//! - [`Engine`] puts them together with time, memory and size limits, as the node's
//!   implementation of the `inference` runtime interface that offchain workers call.
//!
//! Tensors cross as little-endian bytes, which is the memory layout of every CPU tract runs on
//! here (x86-64, AArch64).

use gateless_primitives::{job::InferenceError, model::AttestationFailure};

/// Why a model cannot be loaded; the attestation verdict a validator reports for it.
#[derive(Clone, Debug, PartialEq, Eq, codec::Encode, codec::Decode)]
pub enum LoadError {
	/// The bytes are not a readable ONNX model.
	Malformed(String),
	/// The model uses operators or types the engine cannot run.
	Unsupported(String),
	/// The graph's inputs or outputs differ from the declared signature.
	SignatureMismatch(String),
	/// Loading the model took more memory or time than this node allows.
	ResourceLimit(String),
}

impl LoadError {
	/// The attestation failure reported for this error.
	pub fn attestation_failure(&self) -> AttestationFailure {
		match self {
			LoadError::Malformed(_) => AttestationFailure::Malformed,
			LoadError::Unsupported(_) => AttestationFailure::Unsupported,
			LoadError::SignatureMismatch(_) => AttestationFailure::SignatureMismatch,
			LoadError::ResourceLimit(_) => AttestationFailure::TooLarge,
		}
	}
}

/// Why a run gave no output: a verdict every honest node reaches, or this node's memory limit.
#[derive(Clone, Debug, PartialEq, Eq, codec::Encode, codec::Decode)]
pub enum RunError {
	/// A deterministic error of the model on this input.
	Verdict(InferenceError),
	/// An allocation failed: the worker's memory limit, not the model's or the input's fault.
	OutOfMemory(String),
}

impl From<InferenceError> for RunError {
	fn from(error: InferenceError) -> Self {
		RunError::Verdict(error)
	}
}

pub mod address;
pub mod compute;
pub mod content;
pub mod engine;
pub mod journal;
pub mod metrics;
pub mod model_fetch;
pub mod plan;
// Test fixtures (the committed models, onnxruntime's outputs, a loopback HTTP server): only for
// tests and benchmarks, never in the node.
#[cfg(any(test, feature = "test-utils"))]
pub mod reference;
pub mod signature;
pub mod store;
pub mod worker;

pub use content::{ContentFetcher, ContentLimits, ContentStore, ContentStoreError};
pub use engine::{ContentSource, Engine, EngineConfig, Outputs};
pub use metrics::Metrics;
pub use plan::{Plan, PlanCache, PlanKey};
pub use signature::read_signature;
pub use store::ModelStore;
pub use worker::{host::WorkerCommand, run_worker, WORKER_ARG};

#[cfg(test)]
mod tests;
