//! Runtime APIs of the Gateless pallets, so that the node's RPC and clients read models, jobs and
//! validators without knowing storage keys.

use alloc::vec::Vec;
use codec::Codec;

use crate::{
	job::{FeeQuote, InputTensors, JobDetails, JobId, JobResult, ModelStats, QuoteError},
	model::{AttestationTally, ComputeCost, ModelCard, ModelId, ModelInfo, ModelPage},
	reference::ModelReferences,
	staking::ValidatorSummary,
};

sp_api::decl_runtime_apis! {
	/// The model registry. Version 2 (spec 112): model cards and reference vectors (`model_card`,
	/// `model_references`). Version 3 (spec 116): compute estimates (`model_compute`).
	#[api_version(3)]
	pub trait ModelRegistryApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// Models with an id of at least `from`, in id order, at most `limit` of them (the runtime
		/// caps `limit` and how many ids one call scans). Ask again from `next` for the next page.
		fn models(from: ModelId, limit: u32) -> ModelPage<AccountId, Balance, BlockNumber>;

		/// One model.
		fn model(model: ModelId) -> Option<ModelInfo<AccountId, Balance, BlockNumber>>;

		/// The attestations so far of a pending model (`None` if it is not pending).
		fn attestations(model: ModelId) -> Option<AttestationTally>;

		/// The inline ONNX bytes of a model stored on chain.
		fn inline_bytes(model: ModelId) -> Option<Vec<u8>>;

		/// The most recently registered version of `owner`'s model called `name` that has not
		/// been removed.
		fn latest_version(owner: AccountId, name: Vec<u8>) -> Option<ModelId>;

		/// The ids of the models `owner` owns, in id order.
		fn models_of(owner: AccountId) -> Vec<ModelId>;

		/// The deposit that registering a model would hold, given the bytes it stores on chain
		/// besides its record (inline ONNX bytes, the encoded card and reference vectors) and
		/// its description's length.
		fn registration_deposit(inline_bytes: u32, description_len: u32) -> Balance;

		/// A model's card, if it was registered with one.
		fn model_card(model: ModelId) -> Option<ModelCard>;

		/// A model's reference vectors, with how many validators checked them, if it was
		/// registered with some.
		fn model_references(model: ModelId) -> Option<ModelReferences>;

		/// The compute validators estimated for an active model when they attested it (the
		/// median of the quorum's estimates), if they did: what its jobs' executor fees follow.
		fn model_compute(model: ModelId) -> Option<ComputeCost>;
	}

	/// Validator staking.
	pub trait ValidatorStakingApi<AccountId, Balance>
	where
		AccountId: Codec,
		Balance: Codec,
	{
		/// Every candidate and every member of the current set, members first in set order,
		/// then candidates by account.
		fn validators() -> Vec<ValidatorSummary<AccountId, Balance>>;

		/// One account's bond, candidacy, membership and counters, if it has bonded or has a
		/// record.
		fn validator(account: AccountId) -> Option<ValidatorSummary<AccountId, Balance>>;
	}

	/// Inference jobs and their verified results. Version 2 (spec 107): jobs carry every input
	/// and results every output; a quote needs the inputs' shapes. Version 3 (spec 108): inputs
	/// above the inline threshold are content references. Version 4 (spec 120): each model's
	/// statistics.
	#[api_version(4)]
	pub trait InferenceJobsApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// The fee a job on `model` with `replicas` executors (the default when `None`) and
		/// inputs of `input_shapes` (one per declared input, in order) would cost, exactly what
		/// `submit_job` charges in the same block.
		fn quote(
			model: ModelId,
			replicas: Option<u32>,
			input_shapes: Vec<Vec<u32>>,
		) -> Result<FeeQuote<Balance>, QuoteError>;

		/// A job's record and, while it runs, its verification round's progress. Ended jobs
		/// stay readable for the runtime's retention period.
		fn job(job: JobId) -> Option<JobDetails<AccountId, Balance, BlockNumber>>;

		/// A running job's inputs, one per declared input: inline, or by content.
		fn job_inputs(job: JobId) -> Option<InputTensors>;

		/// A finalized job's verified result.
		fn job_result(job: JobId) -> Option<JobResult<Balance, BlockNumber, Vec<AccountId>>>;

		/// What the jobs of `model` came to (all zero for a model without jobs, or unknown).
		#[api_version(4)]
		fn model_stats(model: ModelId) -> ModelStats<Balance, BlockNumber>;
	}
}
