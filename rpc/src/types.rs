//! The JSON shapes of the `gateless_*` methods.
//!
//! Conventions, the same in every shape:
//! - field names are camelCase;
//! - balances are decimal strings (a `u128` does not fit in a JavaScript number);
//! - hashes and digests are `0x`-prefixed hex;
//! - accounts are SS58 strings (generic Substrate prefix 42);
//! - enums that carry data have a `kind` tag; plain statuses are camelCase strings.

use serde::{Deserialize, Serialize};

/// A registered model, with its attestations while it is pending.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Model {
	pub id: u64,
	pub owner: String,
	pub name: String,
	pub version: String,
	/// blake2-256 of the ONNX file.
	pub hash: String,
	/// Size of the ONNX file in bytes.
	pub size: u64,
	pub location: Location,
	pub signature: Signature,
	pub determinism: Determinism,
	/// What a job pays the owner.
	pub price: String,
	pub description: String,
	pub status: ModelStatus,
	/// Why a rejected model was rejected: `admin`, or the attested failure (`malformed`,
	/// `unsupported`, `signatureMismatch`, `hashMismatch`, `sizeMismatch`, `unavailable`,
	/// `tooLarge`, `referenceMismatch`: its outputs for a reference vector differ from the registered ones).
	pub rejection: Option<String>,
	/// What the owner has held for the registration.
	pub deposit: String,
	pub registered_at: u64,
	/// Present while the model is pending.
	pub attestations: Option<Attestations>,
	/// What the model is for, if its builder said.
	#[serde(default)]
	pub card: Option<ModelCard>,
	/// Its reference vectors, if it has some.
	#[serde(default)]
	pub references: Option<References>,
	/// The compute validators estimated when they activated it, if they did: what its jobs'
	/// executor fees follow.
	#[serde(default)]
	pub compute: Option<Compute>,
	/// What its jobs came to; `null` from runtimes before spec 120.
	#[serde(default)]
	pub stats: Option<ModelStats>,
}

/// What a model's jobs came to, counted by the jobs pallet as each job is paid for, tallied and
/// ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelStats {
	/// Jobs paid for.
	pub submitted: u32,
	/// Jobs verified (on an output, or on an agreed error).
	pub finalized: u32,
	/// Of those, the jobs whose committee agreed the model fails on the input.
	pub agreed_errors: u32,
	pub failed: u32,
	pub expired: u32,
	pub cancelled: u32,
	/// Seats of its jobs' tallied rounds.
	pub seats: u32,
	/// Of those seats, the executors that agreed with the round's quorum.
	pub agreeing: u32,
	/// `agreeing / seats`, or `null` before the first tally.
	pub agreement_rate: Option<f64>,
	/// What its jobs paid its owner.
	pub revenue: String,
	/// The block of its latest job.
	pub last_used: Option<u64>,
}

/// A model's compute for one job: `fixed + perElement x` the job's input elements (every input's
/// shape product, summed) operations (multiply-adds and divisions, and the elements each node
/// writes), the median of the estimates of the validators that activated it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Compute {
	pub fixed: u64,
	pub per_element: f64,
}

/// A model's card: what a client needs to use it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelCard {
	/// E.g. `image-classification`.
	pub task: String,
	/// An SPDX identifier, e.g. `Apache-2.0`.
	pub license: String,
	/// The blake2-256 hash of its labels file (one label per line), if its outputs are classes.
	pub labels: Option<String>,
	/// What its inputs are and how to prepare them.
	pub inputs: String,
	/// What its outputs mean.
	pub outputs: String,
}

/// A model's reference vectors: inputs with the outputs it must give, which validators run
/// before they attest it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct References {
	/// How many vectors it has.
	pub count: u32,
	/// How many validators ran them all and attested that the model gives their outputs.
	pub checked_by: u32,
}

/// Where validators get a model's bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Location {
	/// The bytes are on chain.
	Inline,
	/// Validators fetch these http(s) URIs in order.
	Uris { uris: Vec<String> },
	/// Nodes provide the file as content with this hash (of its chunk list); the URIs serve it
	/// too.
	Peers { content: String, uris: Vec<String> },
}

/// A model's declared inputs and outputs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Signature {
	pub inputs: Vec<TensorSpec>,
	pub outputs: Vec<TensorSpec>,
	/// The named symbolic dimensions, with the sizes validators attest the model at.
	#[serde(default)]
	pub symbols: Vec<Symbol>,
}

/// A named symbolic dimension (`batch`, `height`): the same size wherever the inputs name it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Symbol {
	pub name: String,
	pub example: u32,
}

/// One dimension of a declared shape: a size, or a symbol's name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Dimension {
	Fixed(u32),
	Symbol(String),
}

/// One declared tensor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TensorSpec {
	pub name: String,
	/// `f32`, `f64`, `f16`, `i8` … `i64`, `u8` … `u64` or `bool`.
	pub dtype: String,
	/// Each dimension's size, a symbol's name (`"batch"`), or `null` for an anonymous dynamic one.
	pub shape: Vec<Option<Dimension>>,
}

/// How executors' outputs are compared.
///
/// Read through [`DeterminismFields`], not serde's internally tagged enum: that buffers the
/// fields, and with serde_json's `arbitrary_precision` feature (which the node's dependencies turn
/// on, and so every binary built beside it) a buffered number is a map, not an `f64`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", try_from = "DeterminismFields")]
pub enum Determinism {
	/// Bit for bit.
	Exact,
	/// Element-wise `|a - b| <= abs + rel * |b|`.
	Tolerance { abs: f64, rel: f64 },
}

/// [`Determinism`]'s JSON as a flat object, read without buffering.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeterminismFields {
	kind: String,
	abs: Option<f64>,
	rel: Option<f64>,
}

impl TryFrom<DeterminismFields> for Determinism {
	type Error = String;

	fn try_from(fields: DeterminismFields) -> Result<Self, String> {
		match (fields.kind.as_str(), fields.abs, fields.rel) {
			("exact", None, None) => Ok(Determinism::Exact),
			("tolerance", Some(abs), Some(rel)) => Ok(Determinism::Tolerance { abs, rel }),
			("exact", ..) => Err("`exact` takes no `abs` or `rel`".into()),
			("tolerance", ..) => Err("`tolerance` needs both `abs` and `rel`".into()),
			(kind, ..) => {
				Err(format!("unknown determinism `{kind}`, expected `exact` or `tolerance`"))
			},
		}
	}
}

/// Where a model is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ModelStatus {
	Pending,
	Active,
	Rejected,
	Deprecated,
	Banned,
}

/// A pending model's attestations so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attestations {
	pub loads: u32,
	pub fails: u32,
	/// How many of either decide.
	pub threshold: u32,
}

/// One page of `gateless_models`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelPage {
	pub models: Vec<Model>,
	/// Ask again from this id for the next page; `null` after the last one.
	pub next: Option<u64>,
}

/// What a job costs: `total = modelPrice + replicas * executorFee + dataFee`. The data fee (per
/// byte of inputs and of the outputs executors may reveal) is burnt at submission; the rest is
/// held until the job ends. The executor fee follows `operations`, the job's compute by the
/// model's estimate, above the runtime's floor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Quote {
	pub model_price: String,
	pub executor_fee: String,
	pub replicas: u32,
	pub data_fee: String,
	pub total: String,
	/// The operations of the job by the model's compute estimate; `null` when the model has none
	/// (the executor fee is then the floor).
	#[serde(default)]
	pub operations: Option<u64>,
}

/// Where a job is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum JobStatus {
	/// Paid for; its committee is drawn at the end of the next block.
	Assigning,
	Running,
	Finalized,
	Failed,
	Expired,
	Cancelled,
}

impl JobStatus {
	/// Whether the job has ended; its status will not change again.
	pub fn is_final(self) -> bool {
		!matches!(self, JobStatus::Assigning | JobStatus::Running)
	}
}

/// A job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
	pub id: u64,
	pub submitter: String,
	pub model: u64,
	/// The hash of the model's bytes when the job was submitted.
	pub model_hash: String,
	/// What it cost: the data fee burnt at submission, the rest held until it ends.
	pub fee: Quote,
	pub status: JobStatus,
	/// Why a failed job failed: `noQuorum`, `noFreshExecutors`, `modelWithdrawn`,
	/// `inputUnavailable` or `notAssigned`.
	pub failure: Option<String>,
	/// Every executor assigned so far, round after round.
	pub executors: Vec<String>,
	pub submitted_at: u64,
	/// When it expires (with a full refund) if still running.
	pub expires_at: u64,
	/// The current verification round, while the job runs.
	pub round: Option<RoundProgress>,
}

/// How far a running job's verification round has got.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoundProgress {
	/// 0, then one more per escalation.
	pub round: u8,
	pub committee: Vec<String>,
	/// Commitments are accepted up to and including this block.
	pub commit_until: u64,
	/// Reveals are accepted up to and including this block.
	pub reveal_until: u64,
	/// Who has committed.
	pub committed: Vec<String>,
	/// Who has revealed, with the digest of its reveal.
	pub revealed: Vec<Reveal>,
	/// Who has abstained (its node could not reach a verdict), and why.
	pub abstained: Vec<Abstained>,
}

/// One abstention.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Abstained {
	pub executor: String,
	/// `Timeout`, `MemoryLimit`, `WorkerCrashed`, `ModelUnavailable` or `ModelTooLarge`.
	pub cause: String,
}

/// One reveal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reveal {
	pub executor: String,
	pub digest: String,
}

/// A finalized job's verified result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobResult {
	pub job: u64,
	/// The output (or the error) the quorum agreed on.
	pub output: Output,
	/// Its digest under the model's determinism class.
	pub digest: String,
	/// The executors that agreed, each paid `paidEach`.
	pub agreeing: Vec<String>,
	pub paid_each: String,
	pub owner_paid: String,
	pub refunded: String,
	/// The block the job was finalized in.
	pub finalized_at: u64,
}

/// What a model produced: every output it declares, in declared order, or the error every
/// agreeing executor met.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Output {
	Tensors {
		tensors: Vec<Tensor>,
	},
	/// Some outputs were too large to reveal on chain: those have a `content` (read them with
	/// `gateless_output`) and no `values`. `root` is the root of the tree over the outputs'
	/// leaves that the executors compared.
	Content {
		tensors: Vec<Tensor>,
		root: String,
	},
	/// `modelUnavailable`, `badModel`, `signatureMismatch`, `badInput`, `nonFiniteOutput`,
	/// `outputTooLarge` or `timeout`.
	Error {
		error: String,
	},
}

/// One output tensor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tensor {
	/// The output's name in the model's signature; `null` if the model has since been removed.
	pub name: Option<String>,
	pub dtype: String,
	pub shape: Vec<u32>,
	/// Row-major: numbers (`true`/`false` for `bool`); empty for an output kept off chain.
	pub values: Vec<serde_json::Value>,
	/// Where the bytes of an output kept off chain are.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub content: Option<Content>,
}

/// A finalized job's outputs with their bytes, as `gateless_output` returns them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outputs {
	pub job: u64,
	/// Every output the model declares, in declared order.
	pub tensors: Vec<TensorBytes>,
	/// Whether the bytes of the outputs kept off chain were also checked against the root the
	/// executors agreed on (they always are against their hashes); `false` only when the model
	/// has since been removed and its determinism class is unknown.
	pub root_checked: bool,
}

/// One output with its bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TensorBytes {
	/// The output's name in the model's signature; `null` if the model has since been removed.
	pub name: Option<String>,
	pub dtype: String,
	pub shape: Vec<u32>,
	/// Where the bytes of an output kept off chain are; this node holds them now.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub content: Option<Content>,
	/// The elements, row-major and little-endian, as `0x`-prefixed hex; `null` for an output kept
	/// off chain when all of them hold more than `gateless_output` returns at once (4 MiB): read
	/// those with `gateless_contentChunk`.
	pub bytes: Option<String>,
}

/// A validator or candidate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Validator {
	pub account: String,
	/// Active bond.
	pub bond: String,
	/// Unbonding, still slashable.
	pub unlocking: String,
	/// Whether it stands for the next sets.
	pub candidate: bool,
	/// Whether it is in the current session's set.
	pub active: bool,
	pub counters: Counters,
	/// The share of its verdicts that agreed with the quorum: `agreed / (agreed + dissented)`,
	/// or `null` before its first.
	#[serde(default)]
	pub agreement_rate: Option<f64>,
}

/// How a validator did as an executor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Counters {
	pub assigned: u32,
	pub agreed: u32,
	pub dissented: u32,
	pub missed: u32,
	/// Jobs it abstained from: neither paid nor slashed.
	pub abstained: u32,
	pub rewarded: String,
	pub slashed: String,
}

/// Content: bytes named by hash, as `gateless_putContent` returns it (what a job names an input
/// by) and as a result names an output kept off chain.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Content {
	/// The content hash (`0x`-prefixed hex): the blake2-256 of its manifest.
	pub hash: String,
	/// Its length in bytes.
	pub len: u64,
}

/// The `code` of the errors the `gateless_*` methods return; `message` says more and `data`
/// carries the reason where there is one.
pub mod error_code {
	/// The runtime API call failed (e.g. an unknown block hash in `at`).
	pub const RUNTIME: i32 = 9000;
	/// No model has this id.
	pub const UNKNOWN_MODEL: i32 = 9001;
	/// No job has this id (never submitted, or pruned after its retention period).
	pub const UNKNOWN_JOB: i32 = 9002;
	/// No fee can be quoted; `data` is `modelNotActive`, `badReplicas` or `overflow`.
	pub const NO_QUOTE: i32 = 9003;
	/// `gateless_putModel`: the bytes were refused by the node's model store.
	pub const MODEL_STORE: i32 = 9004;
	/// `gateless_putChunk`, `gateless_putContent`: refused by the node's content store (`data`
	/// says why: too large, a chunk missing, the store full).
	pub const CONTENT_STORE: i32 = 9005;
	/// `gateless_putChunk`: this connection uploaded its allowance for the minute; try again
	/// later.
	pub const UPLOAD_RATE: i32 = 9006;
	/// `gateless_output`: the verified result is an error, not outputs (`data` names it).
	pub const NO_OUTPUTS: i32 = 9007;
	/// `gateless_output`, `gateless_contentChunk`: the content could not be had (`data` says why:
	/// no peer holds it, it does not match the agreed root, this node does not hold that chunk).
	pub const CONTENT_UNAVAILABLE: i32 = 9008;
	/// `gateless_contentChunk`: this connection read its allowance for the minute; try again
	/// later.
	pub const DOWNLOAD_RATE: i32 = 9009;
}

#[cfg(test)]
mod tests {
	//! Run with serde_json's `arbitrary_precision` (a dev-dependency feature), as in every binary
	//! built beside the node.
	use super::*;
	use serde_json::json;

	fn model_json(determinism: serde_json::Value) -> serde_json::Value {
		json!({
			"id": 3, "owner": "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY",
			"name": "digits-mlp", "version": "1.0.0", "hash": "0x01", "size": 5,
			"location": { "kind": "inline" },
			"signature": { "inputs": [{ "name": "x", "dtype": "f32", "shape": [null, 64] }],
				"outputs": [{ "name": "y", "dtype": "f32", "shape": [null, 10] }] },
			"determinism": determinism, "price": "100", "description": "", "status": "active",
			"rejection": null, "deposit": "7", "registeredAt": 1, "attestations": null,
		})
	}

	fn read<T: serde::de::DeserializeOwned>(value: &serde_json::Value) -> Result<T, String> {
		// From text, as a client reads a response, not from an already parsed `Value`.
		serde_json::from_str(&value.to_string()).map_err(|e| e.to_string())
	}

	#[test]
	fn arbitrary_precision_is_on_in_these_tests() {
		// Without it this module would not show what the node's binaries do.
		let number: serde_json::Value = serde_json::from_str("0.1").unwrap();
		assert_eq!(serde_json::to_string(&number).unwrap(), "0.1");
		assert!(serde_json::from_str::<serde_json::Number>("1e400").is_ok());
	}

	#[test]
	fn a_tolerance_model_reads_back_its_floats() {
		let tolerance = json!({ "kind": "tolerance", "abs": 0.0001, "rel": 1e-5 });
		let model: Model = read(&model_json(tolerance.clone())).unwrap();
		assert_eq!(model.determinism, Determinism::Tolerance { abs: 0.0001, rel: 1e-5 });
		assert_eq!(serde_json::to_value(&model.determinism).unwrap(), tolerance);

		let exact: Model = read(&model_json(json!({ "kind": "exact" }))).unwrap();
		assert_eq!(exact.determinism, Determinism::Exact);
		assert_eq!(serde_json::to_value(&exact.determinism).unwrap(), json!({ "kind": "exact" }));
	}

	#[test]
	fn a_malformed_determinism_says_what_is_wrong() {
		let error = |determinism| read::<Model>(&model_json(determinism)).unwrap_err();
		assert!(error(json!({ "kind": "tolerance", "abs": 0.1 })).contains("needs both"));
		assert!(error(json!({ "kind": "exact", "abs": 0.1 })).contains("takes no"));
		assert!(error(json!({ "kind": "fuzzy" })).contains("unknown determinism `fuzzy`"));
		assert!(error(json!({ "kind": "exact", "slack": 1 })).contains("unknown field"));
	}

	#[test]
	fn a_float_output_reads_back_its_values() {
		let result = json!({
			"job": 1,
			"output": { "kind": "tensors", "tensors": [
				{ "name": "scores", "dtype": "f32", "shape": [1, 3], "values": [0.5, -1.25, 3e-8] },
				{ "name": "label", "dtype": "i64", "shape": [1], "values": [2] },
			] },
			"digest": "0x02", "agreeing": [], "paidEach": "1", "ownerPaid": "2", "refunded": "0",
			"finalizedAt": 9,
		});
		let read_back: JobResult = read(&result).unwrap();
		let Output::Tensors { tensors } = &read_back.output else { panic!("not tensors") };
		assert_eq!(tensors[1].name.as_deref(), Some("label"));
		let values = &tensors[0].values;
		let floats: Vec<f64> = values.iter().map(|v| v.as_f64().unwrap()).collect();
		assert_eq!(floats, vec![0.5, -1.25, 3e-8]);
		assert_eq!(serde_json::to_value(&read_back).unwrap(), result);
	}
}
