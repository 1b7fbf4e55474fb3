//! The Gateless pallets: the model registry, inference jobs and result verification.

use frame_support::{
	parameter_types,
	traits::{ConstU128, ConstU32, ConstU64, ConstU8, Randomness},
};
use gateless_primitives::{crypto::InferenceId, traits::InferenceKeys};
use sp_runtime::{
	traits::{BlakeTwo256, Hash as _},
	Perbill,
};

use crate::{
	configs::MAX_AUTHORITIES, token, AccountId, Babe, Balance, Balances, BlockNumber, Hash,
	InferenceJobs, ModelRegistry, Runtime, RuntimeHoldReason, Session, Staking, System,
	Verification, HOURS,
};

/// The most ONNX bytes a model may keep on chain: 256 KiB, enough for small real classifiers
/// (MNIST-size), small next to the 3.75 MiB a normal-class transaction may carry.
pub const MAX_INLINE_MODEL_BYTES: u32 = 256 * 1024;

parameter_types! {
	/// Until the admin sets others: two thirds of the active set decide a model; a model of up to
	/// 2 GiB may be registered behind URIs or as content that nodes provide; the deposit is 1 GATE plus 10 micro-GATE per byte
	/// stored on chain (a full 256 KiB inline model holds about 3.6 GATE); a rejected model loses
	/// a tenth of its deposit.
	pub DefaultRegistryParams: pallet_model_registry::RegistryParams<Balance> =
		pallet_model_registry::RegistryParams {
			attestation_quorum: Perbill::from_rational(2u32, 3),
			max_inline_bytes: MAX_INLINE_MODEL_BYTES,
			max_model_bytes: gateless_primitives::content::MAX_MODEL_CONTENT_BYTES,
			deposit_base: token::UNIT,
			deposit_per_byte: 10 * token::MICRO_UNIT,
			rejection_penalty: Perbill::from_percent(10),
		};
}

impl pallet_model_registry::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	/// The validators of the current session, chosen by stake.
	type Staking = crate::Staking;
	/// A model with running jobs cannot be removed.
	type ModelUsage = InferenceJobs;
	/// Root or two thirds of the Council.
	type AdminOrigin = crate::configs::GovernanceOrigin;
	/// Penalties are burnt.
	type OnPenalty = ();
	type MaxInlineModelBytes = ConstU32<MAX_INLINE_MODEL_BYTES>;
	type MaxModelsPerOwner = ConstU32<64>;
	type MaxReferenceBytes = ConstU32<{ 64 * 1024 }>;
	type MaxAttestations = ConstU32<MAX_AUTHORITIES>;
	type DefaultParams = DefaultRegistryParams;
	type WeightInfo = pallet_model_registry::weights::SubstrateWeight<Runtime>;
	/// Offchain workers sign attestations with the validator's inference session key.
	type Keys = SessionInferenceKeys;
	type AttestationPriority = DutyPriority;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = benchmark_helpers::Helper;
}

/// Blocks executors have to run a model and commit: one minute.
pub const COMMIT_WINDOW: BlockNumber = 10;
/// Blocks executors have to reveal after the commit window: one minute.
pub const REVEAL_WINDOW: BlockNumber = 10;
/// Blocks in which proofs settle a dispute over outputs revealed by content: one minute to fetch
/// the reference's output and prove.
pub const DISPUTE_WINDOW: BlockNumber = 10;
/// The largest tensor a job carries inline, input or output (4 KiB: a thousand f32 values);
/// larger ones travel off chain as content.
pub const MAX_INLINE_TENSOR_BYTES: u32 = 4 * 1024;
/// Escalations before a job without a quorum fails.
pub const MAX_ESCALATIONS: u8 = 2;
/// The most executors a submitter may ask for.
pub const MAX_REPLICAS: u32 = 5;
/// The largest (escalated) committee: `2 × 5 + 1`.
pub const MAX_COMMITTEE: u32 = 2 * MAX_REPLICAS + 1;
/// The most jobs one batch of an executor's commits or reveals covers: as many as the jobs one
/// validator can be assigned in a block (`MaxJobsPerBlock`); offchain workers split larger duties
/// into several batches, and reveal batches by size
/// ([`crate::offchain::MAX_REVEAL_BATCH_BYTES`]).
pub const MAX_DUTY_BATCH: u32 = 256;
/// Blocks until a running job expires: ten minutes, more than the three rounds a job can take
/// (checked in the runtime tests), so expiry only catches jobs that a stalled hook left behind.
pub const JOB_TTL: BlockNumber = 100;

/// The executor draw's seed: the subject hashed with the VRF output of the block being built
/// (BABE's, recorded by `pallet_babe` in its `on_finalize`, which runs before the jobs pallet's,
/// where the draws happen). Nobody but this block's author knows it before this block; see
/// `pallet_inference_jobs` for the bias that leaves. A block without a VRF output (none under
/// this runtime's BABE configuration, where every slot is a VRF slot; only blocks built without
/// BABE's digest, as in the runtime's tests) falls back to the parent block's hash.
pub struct BabeVrfRandomness;

impl Randomness<Hash, BlockNumber> for BabeVrfRandomness {
	fn random(subject: &[u8]) -> (Hash, BlockNumber) {
		match Babe::author_vrf_randomness() {
			Some(vrf) => (BlakeTwo256::hash_of(&(subject, vrf)), System::block_number()),
			None => {
				let parent = System::parent_hash();
				let known_since = System::block_number().saturating_sub(1);
				(BlakeTwo256::hash_of(&(subject, parent)), known_since)
			},
		}
	}
}

/// Validators' inference keys, as set with `Session::set_keys`.
pub struct SessionInferenceKeys;

impl InferenceKeys<AccountId> for SessionInferenceKeys {
	fn inference_key(who: &AccountId) -> Option<InferenceId> {
		Session::load_keys(who).map(|keys| keys.inference)
	}
}

impl pallet_inference_jobs::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Models = ModelRegistry;
	type Staking = Staking;
	type Verifier = Verification;
	type Randomness = BabeVrfRandomness;
	/// At least 0.01 GATE per agreeing executor: what 10¹⁰ operations cost (about a second of
	/// one core for tract), and the fee of a model without a compute estimate.
	type ExecutorFee = ConstU128<{ 10 * token::MILLI_UNIT }>;
	/// 0.001 GATE per 10⁹ operations of a job, per executor: a model of 100 giga-operations a
	/// job (a large transformer's forward pass) pays each executor 0.1 GATE.
	type FeePerGigaOp = ConstU128<{ token::MILLI_UNIT }>;
	/// 0.01 GATE per MiB of tensor data in blocks (10 nano-GATE per byte): three replicas of a
	/// 1 KiB output cost 0.00003 GATE, next to the executors' 0.03.
	type FeePerByte = ConstU128<{ 10 * token::MICRO_UNIT / 1_000 }>;
	/// 0.001 GATE per MiB each executor fetches off chain (1 nano-GATE per byte): a 16 MiB input
	/// with three replicas costs 0.05 GATE.
	type FeePerContentByte = ConstU128<{ token::MICRO_UNIT / 1_000 }>;
	type MaxInlineBytes = ConstU32<MAX_INLINE_TENSOR_BYTES>;
	/// 64 MiB of inputs per job, all inputs together (the largest content is 64 MiB each).
	type MaxInputBytes = ConstU64<{ 64 * 1024 * 1024 }>;
	type DefaultReplicas = ConstU32<3>;
	type MaxReplicas = ConstU32<MAX_REPLICAS>;
	/// The first committee and two escalated ones.
	type MaxExecutorsPerJob = ConstU32<{ MAX_REPLICAS + 2 * MAX_COMMITTEE }>;
	type MaxValidators = ConstU32<MAX_AUTHORITIES>;
	/// With batched duties and the weights of a release node, a block's weight holds several
	/// hundred jobs (`BENCHMARKS.md`, part 6); the jobs hook's worst case at 256 is a few
	/// percent of a block.
	type MaxJobsPerBlock = ConstU32<256>;
	/// A full `submit_jobs` is charged 64 draws over `MaxValidators`: under half a block.
	type MaxJobsPerCall = ConstU32<64>;
	/// What a full block of jobs keeps in flight per validator for four blocks (a job is verified
	/// two blocks after its inclusion, three across a session rotation).
	type MaxPendingPerValidator = ConstU32<1024>;
	type JobTtl = ConstU32<JOB_TTL>;
	/// Results stay readable for an hour after the job's deadline.
	type ResultRetention = ConstU32<HOURS>;
	type WeightInfo = pallet_inference_jobs::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = benchmark_helpers::Helper;
}

parameter_types! {
	/// Two thirds, rounded down so that 2 of 3 is enough.
	pub const VerificationQuorum: Perbill = Perbill::from_parts(666_666_666);
	/// Until governance sets others: a dissenter loses 1 % of its bond (100 GATE of the genesis
	/// bond); an executor that committed and withheld its output 2 % (withholding also delays the
	/// job, and must never be cheaper than dissenting); one that neither committed nor abstained
	/// 0.1 % (it learnt nothing of the others' outputs: this prices an absence).
	pub const DefaultVerificationParams: pallet_result_verification::VerificationParams =
		pallet_result_verification::VerificationParams {
			dissent_slash: Perbill::from_percent(1),
			withhold_slash: Perbill::from_percent(2),
			no_show_slash: Perbill::from_perthousand(1),
		};
	/// No single penalty may take more than a tenth of a bond, whatever governance votes.
	pub const MaxSlash: Perbill = Perbill::from_percent(10);
	/// Executors' duties go before ordinary transactions.
	pub const DutyPriority: u64 = u64::MAX / 2;
	/// A quarter of a block for the rounds that reach their deadline. The hook weighs each round
	/// by its own committee and largest reveal: at the measured weights about 40 worst-case
	/// tallies (11 executors revealing 16 KiB, 12.6 ms), or 110 of three executors with small
	/// outputs (4.5 ms), above the `MaxJobsPerBlock` jobs that can be submitted in a block.
	pub MaxTallyWeight: frame_support::weights::Weight = super::system::share_of(
		Perbill::from_percent(25),
		crate::configs::RuntimeBlockWeights::get().max_block,
	);
}

impl pallet_result_verification::Config for Runtime {
	type Balance = Balance;
	type Staking = Staking;
	type Jobs = InferenceJobs;
	type Keys = SessionInferenceKeys;
	type CommitWindow = ConstU32<COMMIT_WINDOW>;
	type RevealWindow = ConstU32<REVEAL_WINDOW>;
	type DisputeWindow = ConstU32<DISPUTE_WINDOW>;
	type MaxInlineOutputBytes = ConstU32<MAX_INLINE_TENSOR_BYTES>;
	type Quorum = VerificationQuorum;
	type MaxEscalations = ConstU8<MAX_ESCALATIONS>;
	type MaxCommittee = ConstU32<MAX_COMMITTEE>;
	type DefaultParams = DefaultVerificationParams;
	type MaxSlash = MaxSlash;
	/// Root or two thirds of the Council.
	type AdminOrigin = crate::configs::GovernanceOrigin;
	type MaxTallyWeight = MaxTallyWeight;
	type DutyPriority = DutyPriority;
	type MaxDutyBatch = ConstU32<MAX_DUTY_BATCH>;
	type WeightInfo = pallet_result_verification::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = benchmark_helpers::Helper;
}

/// Real models, validators and jobs for the Gateless pallets' benchmarks.
#[cfg(feature = "runtime-benchmarks")]
// Benchmarks set up their state with plain arithmetic and unwraps: a panic fails the benchmark.
#[allow(
	clippy::arithmetic_side_effects,
	clippy::indexing_slicing,
	clippy::unwrap_used,
	clippy::expect_used
)]
pub mod benchmark_helpers {
	use alloc::{vec, vec::Vec};
	use gateless_primitives::{
		crypto::inference,
		job::{ExpectedOutputs, InputTensors, JobId, JobInput, TensorData},
		model::{DType, Determinism, Dim, ModelId, ModelSignature, TensorSpec},
		traits::JobVerifier,
	};
	use sp_runtime::RuntimeAppPublic;

	use super::*;
	use crate::{RuntimeOrigin, SessionKeys};

	pub struct Helper;

	fn f32_spec(name: &[u8], shape: Vec<Dim>) -> TensorSpec {
		TensorSpec {
			name: name.to_vec().try_into().expect("short name"),
			dtype: DType::F32,
			shape: shape.try_into().expect("low rank"),
		}
	}

	fn model(
		owner: AccountId,
		input: Vec<Dim>,
		output: Vec<Dim>,
		determinism: Determinism,
		price: Balance,
	) -> ModelId {
		let signature = ModelSignature {
			inputs: vec![f32_spec(b"input", input)].try_into().expect("one input"),
			outputs: vec![f32_spec(b"output", output)].try_into().expect("one output"),
			symbols: Default::default(),
		};
		ModelRegistry::insert_active_model_for_benchmarks(owner, signature, determinism, price)
	}

	impl pallet_inference_jobs::BenchmarkHelper<Runtime> for Helper {
		fn active_model(owner: AccountId, input_len: u32, price: Balance) -> ModelId {
			model(
				owner,
				vec![Dim::Dynamic, Dim::Fixed(input_len)],
				vec![Dim::Dynamic, Dim::Fixed(4)],
				Determinism::Exact,
				price,
			)
		}

		fn staked_validators(validators: Vec<AccountId>, bond: Balance) {
			Staking::stake_for_benchmarks(validators.into_iter().map(|who| (who, bond)).collect());
		}
	}

	impl pallet_result_verification::BenchmarkHelper<Runtime> for Helper {
		fn open_job(committee: Vec<AccountId>, determinism: Determinism, output_len: u32) -> JobId {
			use frame_support::traits::fungible::Mutate;
			let user: AccountId = frame_benchmarking::account("user", 0, 0);
			Balances::set_balance(&user, 1_000_000 * token::UNIT);
			Staking::stake_for_benchmarks(
				committee.iter().map(|who| (who.clone(), 10_000 * token::UNIT)).collect(),
			);
			let model = model(
				user.clone(),
				vec![Dim::Fixed(1)],
				vec![Dim::Fixed(output_len)],
				determinism,
				token::UNIT,
			);
			let job = pallet_inference_jobs::NextJobId::<Runtime>::get();
			let input = JobInput {
				dtype: DType::F32,
				shape: vec![1].try_into().expect("rank 1"),
				data: TensorData::Inline(1f32.to_le_bytes().to_vec().try_into().expect("4 bytes")),
			};
			let input = InputTensors::new(vec![input]).expect("one small input");
			InferenceJobs::submit_job(
				RuntimeOrigin::signed(user),
				model,
				input,
				Some(1),
				Balance::MAX,
			)
			.expect("a job on an active model with staked validators");
			// The job's round, reopened with the whole committee (which may exceed MaxReplicas).
			let output = f32_spec(b"output", vec![Dim::Fixed(output_len)]);
			<Verification as JobVerifier<AccountId>>::open_round(
				job,
				0,
				committee,
				determinism,
				ExpectedOutputs { specs: vec![output].try_into().expect("one output"), symbols: 0 },
			)
			.expect("a committee within MaxCommittee");
			job
		}

		fn inference_key(who: &AccountId) -> InferenceId {
			let inference = InferenceId::generate_pair(None);
			let babe = sp_consensus_babe::AuthorityId::generate_pair(None);
			let grandpa = sp_consensus_grandpa::AuthorityId::generate_pair(None);
			pallet_session::NextKeys::<Runtime>::insert(
				who,
				SessionKeys { babe, grandpa, inference: inference.clone() },
			);
			inference
		}

		fn sign(who: &AccountId, payload: &[u8]) -> inference::Signature {
			SessionInferenceKeys::inference_key(who)
				.and_then(|key| key.sign(&payload))
				.expect("a key made by inference_key, in the benchmark keystore")
		}

		fn executor(index: u32) -> AccountId {
			frame_benchmarking::account("executor", index, 0)
		}
	}

	impl pallet_model_registry::BenchmarkHelper<Runtime> for Helper {
		fn inference_key(who: &AccountId) -> InferenceId {
			<Helper as pallet_result_verification::BenchmarkHelper<Runtime>>::inference_key(who)
		}

		fn sign(who: &AccountId, payload: &[u8]) -> inference::Signature {
			<Helper as pallet_result_verification::BenchmarkHelper<Runtime>>::sign(who, payload)
		}
	}
}
