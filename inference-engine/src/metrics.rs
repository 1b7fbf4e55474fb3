//! Prometheus metrics of the inference engine, registered with the node's registry (served on
//! `--prometheus-port`, `gateless_inference_*`). An engine without a registry (tests, benchmarks,
//! nodes run with `--no-prometheus`) counts nothing.

use std::time::Duration;

use gateless_primitives::job::Abstention;
use substrate_prometheus_endpoint::{
	exponential_buckets, register, Counter, CounterVec, Gauge, Histogram, HistogramOpts, Opts,
	PrometheusError, Registry, U64,
};

/// How a load request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadOutcome {
	/// Parsed, checked and optimised.
	Loaded,
	/// Refused for the model's own fault (malformed, unsupported, signature mismatch).
	Refused,
	/// Over this node's limits, or it killed the worker: recorded in the load journal.
	OverLimits,
	/// The worker could not be started or talked to.
	WorkerFailed,
}

/// How a run request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunOutcome {
	/// The model's outputs.
	Output,
	/// A deterministic error of the model on the input.
	Error,
	/// This node abstains.
	Abstained,
}

/// How an attempt to fetch a model from one URI ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FetchOutcome {
	/// Bytes of the registered size and hash.
	Fetched,
	/// Bytes that are not the registered ones.
	Mismatch,
	/// No bytes: refused, down, timed out, too large.
	Failed,
	/// Not tried: the URI failed recently and is backed off.
	BackedOff,
}

struct Registered {
	loads: CounterVec<U64>,
	load_seconds: Histogram,
	runs: CounterVec<U64>,
	run_seconds: Histogram,
	abstentions: CounterVec<U64>,
	worker_starts: Counter<U64>,
	fetches: CounterVec<U64>,
	store_bytes: Gauge<U64>,
	store_models: Gauge<U64>,
	store_evictions: Counter<U64>,
}

/// The engine's metrics; clones count into the same series.
#[derive(Clone, Default)]
pub struct Metrics(Option<std::sync::Arc<Registered>>);

impl Metrics {
	/// Metrics that count nothing.
	pub fn disabled() -> Self {
		Self(None)
	}

	/// Registers the engine's series with `registry`.
	pub fn register(registry: &Registry) -> Result<Self, PrometheusError> {
		let counter_vec = |name: &str, help: &str, label: &str| {
			register(CounterVec::new(Opts::new(name, help), &[label])?, registry)
		};
		// From 1 ms to about 65 s: tiny models, then real ones, then the time limit.
		let seconds = |name: &str, help: &str| {
			register(
				Histogram::with_opts(
					HistogramOpts::new(name, help).buckets(exponential_buckets(0.001, 4.0, 9)?),
				)?,
				registry,
			)
		};
		Ok(Self(Some(std::sync::Arc::new(Registered {
			loads: counter_vec(
				"gateless_inference_loads_total",
				"Model loads by the inference worker (at the example shapes, or for a job's shapes), \
				 by outcome",
				"outcome",
			)?,
			load_seconds: seconds(
				"gateless_inference_load_seconds",
				"Time to load, check and optimise a model",
			)?,
			runs: counter_vec(
				"gateless_inference_runs_total",
				"Inferences run for jobs, by outcome",
				"outcome",
			)?,
			run_seconds: seconds(
				"gateless_inference_run_seconds",
				"Time of one inference, as the node waits for it",
			)?,
			abstentions: counter_vec(
				"gateless_inference_abstentions_total",
				"Jobs this node abstained from, by cause",
				"cause",
			)?,
			worker_starts: register(
				Counter::new(
					"gateless_inference_worker_starts_total",
					"Inference worker processes started",
				)?,
				registry,
			)?,
			fetches: counter_vec(
				"gateless_inference_model_fetches_total",
				"Attempts to fetch a model from one of its URIs, by outcome",
				"outcome",
			)?,
			store_bytes: register(
				Gauge::new("gateless_inference_model_store_bytes", "Bytes in the model store")?,
				registry,
			)?,
			store_models: register(
				Gauge::new("gateless_inference_model_store_models", "Models in the model store")?,
				registry,
			)?,
			store_evictions: register(
				Counter::new(
					"gateless_inference_model_store_evictions_total",
					"Models removed from the store to stay within its quota",
				)?,
				registry,
			)?,
		}))))
	}

	pub(crate) fn loaded(&self, outcome: LoadOutcome, took: Duration) {
		if let Some(metrics) = &self.0 {
			let label = match outcome {
				LoadOutcome::Loaded => "loaded",
				LoadOutcome::Refused => "refused",
				LoadOutcome::OverLimits => "over_limits",
				LoadOutcome::WorkerFailed => "worker_failed",
			};
			metrics.loads.with_label_values(&[label]).inc();
			metrics.load_seconds.observe(took.as_secs_f64());
		}
	}

	/// A plan loaded for the shapes of a job's inputs (the model itself was loaded before).
	pub(crate) fn loaded_for_shapes(&self) {
		if let Some(metrics) = &self.0 {
			metrics.loads.with_label_values(&["loaded_for_shapes"]).inc();
		}
	}

	pub(crate) fn ran(&self, outcome: RunOutcome, took: Duration) {
		if let Some(metrics) = &self.0 {
			let label = match outcome {
				RunOutcome::Output => "output",
				RunOutcome::Error => "error",
				RunOutcome::Abstained => "abstained",
			};
			metrics.runs.with_label_values(&[label]).inc();
			metrics.run_seconds.observe(took.as_secs_f64());
		}
	}

	pub(crate) fn abstained(&self, cause: Abstention) {
		if let Some(metrics) = &self.0 {
			metrics.abstentions.with_label_values(&[cause_label(cause)]).inc();
		}
	}

	pub(crate) fn worker_started(&self) {
		if let Some(metrics) = &self.0 {
			metrics.worker_starts.inc();
		}
	}

	pub(crate) fn fetched(&self, outcome: FetchOutcome) {
		if let Some(metrics) = &self.0 {
			let label = match outcome {
				FetchOutcome::Fetched => "fetched",
				FetchOutcome::Mismatch => "mismatch",
				FetchOutcome::Failed => "failed",
				FetchOutcome::BackedOff => "backed_off",
			};
			metrics.fetches.with_label_values(&[label]).inc();
		}
	}

	pub(crate) fn store_holds(&self, models: usize, bytes: u64) {
		if let Some(metrics) = &self.0 {
			metrics.store_models.set(models as u64);
			metrics.store_bytes.set(bytes);
		}
	}

	pub(crate) fn evicted(&self) {
		if let Some(metrics) = &self.0 {
			metrics.store_evictions.inc();
		}
	}
}

/// The `cause` label of an abstention.
pub fn cause_label(cause: Abstention) -> &'static str {
	match cause {
		Abstention::Timeout => "timeout",
		Abstention::MemoryLimit => "memory_limit",
		Abstention::WorkerCrashed => "worker_crashed",
		Abstention::ModelUnavailable => "model_unavailable",
		Abstention::ModelTooLarge => "model_too_large",
		Abstention::InputUnavailable => "input_unavailable",
		Abstention::ContentStoreFull => "content_store_full",
	}
}
