//! The runtime APIs: what the node and clients can call in the runtime (block production and
//! import, the transaction pool, consensus, session keys, nonces, fees, metadata, genesis
//! presets, and the Gateless model registry).

use alloc::vec::Vec;
use codec::Encode;
use frame_support::{
	genesis_builder_helper::{build_state, get_preset},
	traits::KeyOwnerProofSystem,
	weights::Weight,
};
use pallet_grandpa::AuthorityId as GrandpaId;
use sp_api::impl_runtime_apis;
use sp_core::{crypto::KeyTypeId, OpaqueMetadata};
use sp_runtime::{
	traits::{Block as BlockT, NumberFor},
	transaction_validity::{TransactionSource, TransactionValidity},
	ApplyExtrinsicResult,
};
use sp_version::RuntimeVersion;

use gateless_primitives::{
	job::{FeeQuote, InputTensors, JobDetails, JobId, JobResult, ModelStats, QuoteError},
	model::{AttestationTally, ModelId, ModelInfo, ModelPage},
	staking::ValidatorSummary,
};

use crate::{
	AccountId, Babe, Balance, Block, BlockNumber, Executive, Grandpa, Historical, InferenceJobs,
	InherentDataExt, ModelRegistry, Nonce, Runtime, RuntimeCall, RuntimeGenesisConfig, SessionKeys,
	Staking, System, TransactionPayment, Verification, VERSION,
};

impl_runtime_apis! {
	impl sp_api::Core<Block> for Runtime {
		fn version() -> RuntimeVersion {
			VERSION
		}

		fn execute_block(block: <Block as BlockT>::LazyBlock) {
			Executive::execute_block(block);
		}

		fn initialize_block(header: &<Block as BlockT>::Header) -> sp_runtime::ExtrinsicInclusionMode {
			Executive::initialize_block(header)
		}
	}

	impl sp_api::Metadata<Block> for Runtime {
		fn metadata() -> OpaqueMetadata {
			OpaqueMetadata::new(Runtime::metadata().into())
		}

		fn metadata_at_version(version: u32) -> Option<OpaqueMetadata> {
			Runtime::metadata_at_version(version)
		}

		fn metadata_versions() -> Vec<u32> {
			Runtime::metadata_versions()
		}
	}

	impl frame_support::view_functions::runtime_api::RuntimeViewFunction<Block> for Runtime {
		fn execute_view_function(
			id: frame_support::view_functions::ViewFunctionId,
			input: Vec<u8>,
		) -> Result<Vec<u8>, frame_support::view_functions::ViewFunctionDispatchError> {
			Runtime::execute_view_function(id, input)
		}
	}

	impl sp_block_builder::BlockBuilder<Block> for Runtime {
		fn apply_extrinsic(extrinsic: <Block as BlockT>::Extrinsic) -> ApplyExtrinsicResult {
			Executive::apply_extrinsic(extrinsic)
		}

		fn finalize_block() -> <Block as BlockT>::Header {
			Executive::finalize_block()
		}

		fn inherent_extrinsics(data: sp_inherents::InherentData) -> Vec<<Block as BlockT>::Extrinsic> {
			data.create_extrinsics()
		}

		fn check_inherents(
			block: <Block as BlockT>::LazyBlock,
			data: sp_inherents::InherentData,
		) -> sp_inherents::CheckInherentsResult {
			data.check_extrinsics(&block)
		}
	}

	impl sp_transaction_pool::runtime_api::TaggedTransactionQueue<Block> for Runtime {
		fn validate_transaction(
			source: TransactionSource,
			tx: <Block as BlockT>::Extrinsic,
			block_hash: <Block as BlockT>::Hash,
		) -> TransactionValidity {
			Executive::validate_transaction(source, tx, block_hash)
		}
	}

	impl sp_offchain::OffchainWorkerApi<Block> for Runtime {
		fn offchain_worker(header: &<Block as BlockT>::Header) {
			Executive::offchain_worker(header);
			crate::offchain::run(header.number);
		}
	}

	impl sp_consensus_babe::BabeApi<Block> for Runtime {
		fn configuration() -> sp_consensus_babe::BabeConfiguration {
			let epoch_config = Babe::epoch_config().unwrap_or(crate::configs::BABE_GENESIS_EPOCH_CONFIG);
			sp_consensus_babe::BabeConfiguration {
				slot_duration: Babe::slot_duration(),
				epoch_length: crate::configs::EPOCH_DURATION_IN_SLOTS,
				c: epoch_config.c,
				authorities: Babe::authorities().to_vec(),
				randomness: Babe::randomness(),
				allowed_slots: epoch_config.allowed_slots,
			}
		}

		fn current_epoch_start() -> sp_consensus_babe::Slot {
			Babe::current_epoch_start()
		}

		fn current_epoch() -> sp_consensus_babe::Epoch {
			Babe::current_epoch()
		}

		fn next_epoch() -> sp_consensus_babe::Epoch {
			Babe::next_epoch()
		}

		// The proof is of the current session's set, whatever the slot: the node asks at the
		// block it imports, and a report that reaches a block in a later session fails its check.
		fn generate_key_ownership_proof(
			_slot: sp_consensus_babe::Slot,
			authority_id: sp_consensus_babe::AuthorityId,
		) -> Option<sp_consensus_babe::OpaqueKeyOwnershipProof> {
			Historical::prove((sp_consensus_babe::KEY_TYPE, authority_id))
				.map(|proof| sp_consensus_babe::OpaqueKeyOwnershipProof::new(proof.encode()))
		}

		fn submit_report_equivocation_unsigned_extrinsic(
			equivocation_proof: sp_consensus_babe::EquivocationProof<<Block as BlockT>::Header>,
			key_owner_proof: sp_consensus_babe::OpaqueKeyOwnershipProof,
		) -> Option<()> {
			// Only proofs that the call will accept: `sc-consensus-babe` 0.60 also submits reports
			// of unsealed headers (see the node's `babe_equivocation`), which would reach blocks
			// and fail there.
			if !sp_consensus_babe::check_equivocation_proof(equivocation_proof.clone()) {
				return None;
			}
			let key_owner_proof = key_owner_proof.decode()?;
			Babe::submit_unsigned_equivocation_report(equivocation_proof, key_owner_proof)
		}
	}

	impl sp_session::SessionKeys<Block> for Runtime {
		fn generate_session_keys(
			owner: Vec<u8>,
			seed: Option<Vec<u8>>,
		) -> sp_session::OpaqueGeneratedSessionKeys {
			SessionKeys::generate(&owner, seed).into()
		}

		fn decode_session_keys(encoded: Vec<u8>) -> Option<Vec<(Vec<u8>, KeyTypeId)>> {
			SessionKeys::decode_into_raw_public_keys(&encoded)
		}
	}

	impl sp_consensus_grandpa::GrandpaApi<Block> for Runtime {
		fn grandpa_authorities() -> sp_consensus_grandpa::AuthorityList {
			Grandpa::grandpa_authorities()
		}

		fn current_set_id() -> sp_consensus_grandpa::SetId {
			Grandpa::current_set_id()
		}

		fn submit_report_equivocation_unsigned_extrinsic(
			equivocation_proof: sp_consensus_grandpa::EquivocationProof<
				<Block as BlockT>::Hash,
				NumberFor<Block>,
			>,
			key_owner_proof: sp_consensus_grandpa::OpaqueKeyOwnershipProof,
		) -> Option<()> {
			let key_owner_proof = key_owner_proof.decode()?;
			Grandpa::submit_unsigned_equivocation_report(equivocation_proof, key_owner_proof)
		}

		// As BABE's: a proof against the current session's set.
		fn generate_key_ownership_proof(
			_set_id: sp_consensus_grandpa::SetId,
			authority_id: GrandpaId,
		) -> Option<sp_consensus_grandpa::OpaqueKeyOwnershipProof> {
			Historical::prove((sp_consensus_grandpa::KEY_TYPE, authority_id))
				.map(|proof| sp_consensus_grandpa::OpaqueKeyOwnershipProof::new(proof.encode()))
		}
	}

	impl gateless_primitives::runtime_api::ModelRegistryApi<Block, AccountId, Balance, BlockNumber> for Runtime {
		fn models(from: ModelId, limit: u32) -> ModelPage<AccountId, Balance, BlockNumber> {
			ModelRegistry::models_page(from, limit)
		}

		fn model(model: ModelId) -> Option<ModelInfo<AccountId, Balance, BlockNumber>> {
			pallet_model_registry::Models::<Runtime>::get(model)
		}

		fn attestations(model: ModelId) -> Option<AttestationTally> {
			ModelRegistry::attestation_tally(model)
		}

		fn inline_bytes(model: ModelId) -> Option<Vec<u8>> {
			ModelRegistry::inline_bytes(model)
		}

		fn latest_version(owner: AccountId, name: Vec<u8>) -> Option<ModelId> {
			ModelRegistry::latest_version(&owner, &name)
		}

		fn models_of(owner: AccountId) -> Vec<ModelId> {
			ModelRegistry::models_of(&owner)
		}

		fn registration_deposit(inline_bytes: u32, description_len: u32) -> Balance {
			ModelRegistry::registration_deposit(inline_bytes, description_len)
		}

		fn model_card(model: ModelId) -> Option<gateless_primitives::model::ModelCard> {
			pallet_model_registry::Cards::<Runtime>::get(model)
		}

		fn model_references(
			model: ModelId,
		) -> Option<gateless_primitives::reference::ModelReferences> {
			ModelRegistry::model_references(model)
		}

		fn model_compute(model: ModelId) -> Option<gateless_primitives::model::ComputeCost> {
			pallet_model_registry::ModelCompute::<Runtime>::get(model)
		}
	}

	impl gateless_primitives::runtime_api::ValidatorStakingApi<Block, AccountId, Balance> for Runtime {
		fn validators() -> Vec<ValidatorSummary<AccountId, Balance>> {
			Staking::validator_summaries()
		}

		fn validator(account: AccountId) -> Option<ValidatorSummary<AccountId, Balance>> {
			Staking::validator_summary(&account)
		}
	}

	impl gateless_primitives::runtime_api::InferenceJobsApi<Block, AccountId, Balance, BlockNumber> for Runtime {
		fn quote(
			model: ModelId,
			replicas: Option<u32>,
			input_shapes: Vec<Vec<u32>>,
		) -> Result<FeeQuote<Balance>, QuoteError> {
			InferenceJobs::quote(model, replicas, &input_shapes)
		}

		fn job(job: JobId) -> Option<JobDetails<AccountId, Balance, BlockNumber>> {
			InferenceJobs::job_info(job).map(|info| JobDetails {
				round: if info.status.is_final() { None } else { Verification::round_progress(job) },
				job: info,
			})
		}

		fn job_inputs(job: JobId) -> Option<InputTensors> {
			pallet_inference_jobs::JobInputs::<Runtime>::get(job)
		}

		fn job_result(job: JobId) -> Option<JobResult<Balance, BlockNumber, Vec<AccountId>>> {
			InferenceJobs::job_result(job)
		}

		fn model_stats(model: ModelId) -> ModelStats<Balance, BlockNumber> {
			pallet_inference_jobs::ModelStatistics::<Runtime>::get(model)
		}
	}

	#[cfg(feature = "runtime-benchmarks")]
	impl frame_benchmarking::Benchmark<Block> for Runtime {
		fn benchmark_metadata(extra: bool) -> (
			Vec<frame_benchmarking::BenchmarkList>,
			Vec<frame_support::traits::StorageInfo>,
		) {
			use frame_benchmarking::BenchmarkList;
			use frame_support::traits::StorageInfoTrait;
			use crate::{Balances, Staking, Timestamp};

			let mut list = Vec::<BenchmarkList>::new();
			list_benchmarks!(list, extra);
			(list, crate::AllPalletsWithSystem::storage_info())
		}

		fn dispatch_benchmark(
			config: frame_benchmarking::BenchmarkConfig,
		) -> Result<Vec<frame_benchmarking::BenchmarkBatch>, alloc::string::String> {
			use frame_benchmarking::BenchmarkBatch;
			use frame_support::traits::WhitelistedStorageKeys;
			use crate::{Balances, Staking, Timestamp};

			let whitelist = crate::AllPalletsWithSystem::whitelisted_storage_keys();
			let mut batches = Vec::<BenchmarkBatch>::new();
			let params = (&config, &whitelist);
			add_benchmarks!(params, batches);
			Ok(batches)
		}
	}

	impl frame_system_rpc_runtime_api::AccountNonceApi<Block, AccountId, Nonce> for Runtime {
		fn account_nonce(account: AccountId) -> Nonce {
			System::account_nonce(account)
		}
	}

	impl pallet_transaction_payment_rpc_runtime_api::TransactionPaymentApi<Block, Balance> for Runtime {
		fn query_info(
			uxt: <Block as BlockT>::Extrinsic,
			len: u32,
		) -> pallet_transaction_payment_rpc_runtime_api::RuntimeDispatchInfo<Balance> {
			TransactionPayment::query_info(uxt, len)
		}

		fn query_fee_details(
			uxt: <Block as BlockT>::Extrinsic,
			len: u32,
		) -> pallet_transaction_payment::FeeDetails<Balance> {
			TransactionPayment::query_fee_details(uxt, len)
		}

		fn query_weight_to_fee(weight: Weight) -> Balance {
			TransactionPayment::weight_to_fee(weight)
		}

		fn query_length_to_fee(length: u32) -> Balance {
			TransactionPayment::length_to_fee(length)
		}
	}

	impl pallet_transaction_payment_rpc_runtime_api::TransactionPaymentCallApi<Block, Balance, RuntimeCall>
		for Runtime
	{
		fn query_call_info(
			call: RuntimeCall,
			len: u32,
		) -> pallet_transaction_payment::RuntimeDispatchInfo<Balance> {
			TransactionPayment::query_call_info(call, len)
		}

		fn query_call_fee_details(
			call: RuntimeCall,
			len: u32,
		) -> pallet_transaction_payment::FeeDetails<Balance> {
			TransactionPayment::query_call_fee_details(call, len)
		}

		fn query_weight_to_fee(weight: Weight) -> Balance {
			TransactionPayment::weight_to_fee(weight)
		}

		fn query_length_to_fee(length: u32) -> Balance {
			TransactionPayment::length_to_fee(length)
		}
	}

	// Runs only in the WASM that `gateless-try-runtime` builds (tests/build.rs) against a copy of
	// a live chain's state; the API has no error channel, so a failed check traps the call with
	// its reason, which the tool reports.
	#[cfg(feature = "try-runtime")]
	impl frame_try_runtime::TryRuntime<Block> for Runtime {
		fn on_runtime_upgrade(checks: frame_try_runtime::UpgradeCheckSelect) -> (Weight, Weight) {
			let weight = Executive::try_runtime_upgrade(checks)
				.unwrap_or_else(|error| panic!("on_runtime_upgrade failed: {error:?}"));
			(weight, crate::configs::RuntimeBlockWeights::get().max_block)
		}

		fn execute_block(
			block: <Block as BlockT>::LazyBlock,
			state_root_check: bool,
			signature_check: bool,
			select: frame_try_runtime::TryStateSelect,
		) -> Weight {
			Executive::try_execute_block(block, state_root_check, signature_check, select)
				.unwrap_or_else(|error| panic!("execute_block failed: {error:?}"))
		}
	}

	impl sp_genesis_builder::GenesisBuilder<Block> for Runtime {
		fn build_state(config: Vec<u8>) -> sp_genesis_builder::Result {
			build_state::<RuntimeGenesisConfig>(config)
		}

		fn get_preset(id: &Option<sp_genesis_builder::PresetId>) -> Option<Vec<u8>> {
			get_preset::<RuntimeGenesisConfig>(id, crate::genesis_config_presets::get_preset)
		}

		fn preset_names() -> Vec<sp_genesis_builder::PresetId> {
			crate::genesis_config_presets::preset_names()
		}
	}
}
