//! Tests of the runtime as a whole: genesis presets, version, metadata and the WASM blob, the job
//! flow through `Executive`, and validators' offchain workers ([`offchain`]).

mod equivocation;
mod governance;
mod offchain;
mod pallet_docs;

use codec::Decode;
use frame_support::traits::Get;
use sp_consensus_babe::AuthorityId as BabeId;
use sp_genesis_builder::{DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};
use sp_runtime::BuildStorage;

use crate::{
	configs::CouncilCollective,
	genesis_config_presets::{get_preset, preset_names, DEV_ENDOWMENT},
	Babe, Balances, Block, Grandpa, Runtime, RuntimeGenesisConfig, VERSION,
};

/// The full genesis config of a preset: the runtime's defaults with the preset's patch applied,
/// as the node does when it builds a chain spec.
fn preset_config(name: &str) -> RuntimeGenesisConfig {
	let patch: serde_json::Value =
		serde_json::from_slice(&get_preset(&name.into()).expect("the preset exists")).unwrap();
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).unwrap();
	merge(&mut config, patch);
	serde_json::from_value(config).expect("the patched preset is a valid genesis config")
}

fn merge(base: &mut serde_json::Value, patch: serde_json::Value) {
	match (base, patch) {
		(serde_json::Value::Object(base), serde_json::Value::Object(patch)) => {
			for (key, value) in patch {
				merge(base.entry(key).or_insert(serde_json::Value::Null), value);
			}
		},
		(base, patch) => *base = patch,
	}
}

/// The `local_testnet` genesis with its first three validators only (Alice, Bob and Charlie), for
/// tests that script every executor of a three-replica job.
fn build_with_three_validators() -> sp_io::TestExternalities {
	let dave = sp_keyring::Sr25519Keyring::Dave.to_account_id();
	let mut config = preset_config(LOCAL_TESTNET_RUNTIME_PRESET);
	config.staking.validators.retain(|(who, _)| *who != dave);
	config.session.keys.retain(|(who, _, _)| *who != dave);
	config
		.build_storage()
		.expect("the trimmed preset builds a genesis state")
		.into()
}

fn build(name: &str) -> sp_io::TestExternalities {
	preset_config(name)
		.build_storage()
		.expect("the preset builds a genesis state")
		.into()
}

#[test]
fn presets_are_listed() {
	let names = preset_names();
	assert!(names.contains(&DEV_RUNTIME_PRESET.into()));
	assert!(names.contains(&LOCAL_TESTNET_RUNTIME_PRESET.into()));
	assert_eq!(get_preset(&"no-such-preset".into()), None);
}

#[test]
fn development_preset_has_one_validator_and_endowed_accounts() {
	build(DEV_RUNTIME_PRESET).execute_with(|| {
		assert_eq!(pallet_babe::Authorities::<Runtime>::get().len(), 1);
		assert_eq!(Grandpa::grandpa_authorities().len(), 1);
		let alice = sp_keyring::Sr25519Keyring::Alice.to_account_id();
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), Some(alice.clone()));
		// Alice's genesis bond is held, not spent.
		assert_eq!(
			Balances::free_balance(&alice),
			DEV_ENDOWMENT - crate::genesis_config_presets::GENESIS_VALIDATOR_BOND
		);
		// Twelve endowed dev accounts: Alice to Ferdie and their stashes.
		assert_eq!(Balances::total_issuance(), 12 * DEV_ENDOWMENT);
	});
}

#[test]
fn local_testnet_preset_has_four_validators_a_council_and_no_sudo() {
	build(LOCAL_TESTNET_RUNTIME_PRESET).execute_with(|| {
		let babe = pallet_babe::Authorities::<Runtime>::get();
		assert_eq!(babe.len(), 4);
		let dave: BabeId = sp_keyring::Sr25519Keyring::Dave.public().into();
		assert!(babe.iter().any(|(authority, _)| *authority == dave));
		assert_eq!(Grandpa::grandpa_authorities().len(), 4);
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), None);
		let council = pallet_collective::Members::<Runtime, CouncilCollective>::get();
		assert_eq!(council.len(), 3);
		assert!(!council.contains(&sp_keyring::Sr25519Keyring::Dave.to_account_id()));
	});
}

/// Starts block `number` on top of block `number - 1`, without digests (no BABE pre-digest: the
/// draw's seed falls back to the parent hash).
fn start_block(number: u32) {
	use sp_runtime::traits::Header as _;
	let parent = crate::System::block_hash(number - 1);
	crate::Executive::initialize_block(&crate::Header::new(
		number,
		Default::default(),
		Default::default(),
		parent,
		Default::default(),
	));
}

/// Starts the next block and ends it as far as the jobs pallet goes: the jobs submitted in this
/// block have their committees drawn.
fn draw_in_next_block() {
	use frame_support::traits::OnFinalize;
	start_block(crate::System::block_number() + 1);
	crate::InferenceJobs::on_finalize(crate::System::block_number());
}

/// The executor draw's seed is the VRF output of the block that draws: `pallet_babe` records it in
/// its `on_finalize`, which runs before the jobs pallet's (hooks run in the runtime's pallet
/// order), where the committees of the previous block's jobs are drawn.
#[test]
fn the_draws_seed_is_this_blocks_babe_vrf_output() {
	use crate::configs::BabeVrfRandomness;
	use frame_support::traits::{PalletInfo, Randomness};
	use sp_runtime::traits::{BlakeTwo256, Hash};
	let babe = <Runtime as frame_system::Config>::PalletInfo::index::<crate::Babe>().unwrap();
	let jobs =
		<Runtime as frame_system::Config>::PalletInfo::index::<crate::InferenceJobs>().unwrap();
	assert!(babe < jobs, "BABE's on_finalize must run before the draws");
	build(DEV_RUNTIME_PRESET).execute_with(|| {
		frame_system::Pallet::<Runtime>::set_block_number(5);
		let vrf = [7u8; 32];
		pallet_babe::AuthorVrfRandomness::<Runtime>::put(Some(vrf));
		assert_eq!(
			BabeVrfRandomness::random(b"subject"),
			(BlakeTwo256::hash_of(&(&b"subject"[..], vrf)), 5)
		);
		// Another VRF output, another seed.
		pallet_babe::AuthorVrfRandomness::<Runtime>::put(Some([8u8; 32]));
		assert_ne!(
			BabeVrfRandomness::random(b"subject").0,
			BlakeTwo256::hash_of(&(&b"subject"[..], vrf))
		);
	});
}

#[test]
fn slot_duration_is_six_seconds() {
	build(DEV_RUNTIME_PRESET).execute_with(|| {
		assert_eq!(Babe::slot_duration(), 6_000);
		let minimum_period: u64 = <Runtime as pallet_timestamp::Config>::MinimumPeriod::get();
		assert_eq!(minimum_period * 2, 6_000);
	});
}

#[test]
fn version_names_the_chain_and_announces_its_apis() {
	use sp_api::RuntimeApiInfo;

	assert_eq!(VERSION.spec_name, "gateless");
	// The node and clients find the APIs they need through the version.
	let announced = |id: [u8; 8]| VERSION.apis.iter().any(|(api, _)| *api == id);
	assert!(announced(<dyn sp_api::Core<Block>>::ID));
	assert!(announced(<dyn sp_block_builder::BlockBuilder<Block>>::ID));
	assert!(announced(<dyn sp_consensus_babe::BabeApi<Block>>::ID));
	assert!(announced(<dyn sp_consensus_grandpa::GrandpaApi<Block>>::ID));
	assert!(announced(<dyn sp_session::SessionKeys<Block>>::ID));
	assert!(announced(<dyn sp_offchain::OffchainWorkerApi<Block>>::ID));
	assert!(announced(<dyn sp_genesis_builder::GenesisBuilder<Block>>::ID));
	assert!(announced(
		<dyn gateless_primitives::runtime_api::ModelRegistryApi<
			Block,
			crate::AccountId,
			crate::Balance,
			crate::BlockNumber,
		>>::ID
	));
}

#[test]
fn the_staked_validators_are_the_session_set_the_authorities_and_the_attesters() {
	use gateless_primitives::traits::ValidatorSet;
	use sp_keyring::Sr25519Keyring;

	build(LOCAL_TESTNET_RUNTIME_PRESET).execute_with(|| {
		let validators: Vec<_> = [
			Sr25519Keyring::Alice,
			Sr25519Keyring::Bob,
			Sr25519Keyring::Charlie,
			Sr25519Keyring::Dave,
		]
		.into_iter()
		.map(|who| who.to_account_id())
		.collect();
		assert_eq!(pallet_session::Validators::<Runtime>::get(), validators);
		assert_eq!(crate::Staking::active_count(), 4);
		for validator in &validators {
			assert!(crate::Staking::is_active(validator));
			assert_eq!(
				pallet_validator_staking::Ledgers::<Runtime>::get(validator).map(|l| l.active),
				Some(crate::genesis_config_presets::GENESIS_VALIDATOR_BOND)
			);
			// BABE, GRANDPA and inference keys are set.
			let keys = pallet_session::NextKeys::<Runtime>::get(validator).expect("keys set");
			let babe: BabeId = keys.babe;
			assert!(pallet_babe::Authorities::<Runtime>::get()
				.iter()
				.any(|(authority, _)| *authority == babe));
		}
		assert!(!crate::Staking::is_active(&Sr25519Keyring::Eve.to_account_id()));
		let summaries = crate::Staking::validator_summaries();
		assert_eq!(summaries.len(), 4);
		assert!(summaries.iter().all(|summary| summary.active && summary.candidate));
	});
}

#[test]
fn the_registry_defaults_are_valid_and_fit_a_transaction() {
	use crate::configs::{DefaultRegistryParams, MAX_INLINE_MODEL_BYTES};

	let params = DefaultRegistryParams::get();
	assert!(crate::ModelRegistry::params_are_valid(&params));
	assert_eq!(params.max_inline_bytes, MAX_INLINE_MODEL_BYTES);
	// A registration with the largest inline model fits in a normal transaction.
	let normal_length = *crate::configs::RuntimeBlockLength::get()
		.max
		.get(frame_support::dispatch::DispatchClass::Normal);
	assert!(MAX_INLINE_MODEL_BYTES + 16 * 1024 < normal_length);
}

#[test]
fn a_job_with_the_largest_inputs_fits_a_transaction_and_a_full_reveal_fits_beside_it() {
	use codec::MaxEncodedLen;
	use gateless_primitives::{
		job::{InputTensors, OutputTensors, MAX_INLINE_BYTES},
		model::MAX_MODEL_TENSORS,
	};
	let normal_length = *crate::configs::RuntimeBlockLength::get()
		.max
		.get(frame_support::dispatch::DispatchClass::Normal);
	let inline: u32 = <Runtime as pallet_inference_jobs::Config>::MaxInlineBytes::get();
	assert!(inline * MAX_MODEL_TENSORS <= MAX_INLINE_BYTES);
	let call_bound = InputTensors::max_encoded_len() + 1024;
	assert!(call_bound + OutputTensors::max_encoded_len() + 1024 < normal_length as usize);
	// A reveal is a duty: it joins a block only below the duties' share of its length.
	let duty_length = *crate::configs::RuntimeBlockLength::get()
		.max
		.get(frame_support::dispatch::DispatchClass::Operational);
	assert!(OutputTensors::max_encoded_len() + 1024 < duty_length as usize);
}

#[test]
fn a_job_puts_about_a_kibibyte_on_chain_beyond_its_inline_inputs() {
	use codec::Encode;
	use gateless_primitives::{
		content::{ContentRef, MAX_CONTENT_BYTES},
		job::{InputTensors, JobInput, TensorData},
		model::{DType, MAX_MODEL_TENSORS},
	};
	// Eight inputs of 64 MiB each, by content: what the call carries for them.
	let by_content = JobInput {
		dtype: DType::F32,
		shape: vec![1, 4, 4096, 1024].try_into().unwrap(),
		data: TensorData::Content(ContentRef {
			hash: sp_core::H256::repeat_byte(1),
			len: MAX_CONTENT_BYTES,
		}),
	};
	let inputs = InputTensors::new(vec![by_content; MAX_MODEL_TENSORS as usize]).unwrap();
	assert!(inputs.encode().len() <= 1024, "{} bytes", inputs.encode().len());
}
#[test]
fn metadata_is_readable_and_lists_the_pallets() {
	let versions = Runtime::metadata_versions();
	for version in [14, 15, 16] {
		assert!(versions.contains(&version), "metadata versions: {versions:?}");
	}
	let metadata = Runtime::metadata_at_version(15).expect("v15 metadata");
	let metadata = frame_metadata::RuntimeMetadataPrefixed::decode(&mut &metadata[..]).unwrap();
	let frame_metadata::RuntimeMetadata::V15(metadata) = metadata.1 else {
		panic!("expected metadata v15")
	};
	let pallets: Vec<(String, u8)> =
		metadata.pallets.iter().map(|p| (p.name.to_string(), p.index)).collect();
	for expected in [
		("System", 0),
		("Timestamp", 1),
		("Sudo", 2),
		("Utility", 3),
		("Balances", 10),
		("TransactionPayment", 11),
		("Babe", 20),
		("Grandpa", 21),
		("Session", 22),
		("Staking", 23),
		("Council", 30),
		("CouncilMembership", 31),
		("Whitelist", 32),
		("Preimage", 33),
		("ModelRegistry", 40),
	] {
		assert!(
			pallets.contains(&(expected.0.to_string(), expected.1)),
			"{expected:?} missing from {pallets:?}"
		);
	}
}

/// The `gateless` client's code is generated from `client/metadata/gateless.scale`; it must be
/// this runtime's metadata. `scripts/metadata.sh` rewrites it after a runtime change.
#[test]
fn the_clients_metadata_is_this_runtimes() {
	let metadata = Runtime::metadata_at_version(16).expect("v16 metadata");
	let path = gateless_inference_engine::reference::repository_root()
		.join("client/metadata/gateless.scale");
	if std::env::var_os("GATELESS_UPDATE_METADATA").is_some() {
		std::fs::write(&path, &metadata[..]).expect("client/metadata/ is writable");
	}
	let committed = std::fs::read(&path).unwrap_or_default();
	assert!(
		committed == metadata[..],
		"client/metadata/gateless.scale is not this runtime's metadata: run scripts/metadata.sh"
	);
}

#[test]
fn wasm_binary_is_built_and_carries_this_version() {
	let wasm = crate::WASM_BINARY.expect("the WASM runtime is built (SKIP_WASM_BUILD unset)");
	let blob = sc_executor_common::runtime_blob::RuntimeBlob::uncompress_if_needed(wasm).unwrap();
	let embedded = sc_executor::read_embedded_version(&blob)
		.unwrap()
		.expect("the WASM carries its runtime version");
	assert_eq!(embedded.spec_name, VERSION.spec_name);
	assert_eq!(embedded.spec_version, VERSION.spec_version);
	assert_eq!(embedded.transaction_version, VERSION.transaction_version);
}

#[test]
fn the_upgrade_test_wasm_is_this_runtime_one_spec_version_later() {
	let next = crate::upgrade_test::WASM_BINARY.expect("built beside the runtime");
	let blob = sc_executor_common::runtime_blob::RuntimeBlob::uncompress_if_needed(next).unwrap();
	let embedded = sc_executor::read_embedded_version(&blob).unwrap().expect("a version");
	assert_eq!(embedded.spec_name, VERSION.spec_name);
	assert_eq!(embedded.spec_version, VERSION.spec_version + 1);
	assert_eq!(embedded.transaction_version, VERSION.transaction_version);
	// The same APIs, listed in another order.
	let sorted = |apis: &[([u8; 8], u32)]| {
		let mut apis = apis.to_vec();
		apis.sort();
		apis
	};
	assert_eq!(sorted(&embedded.apis), sorted(&VERSION.apis));
	assert_ne!(Some(next), crate::WASM_BINARY, "a different blob");
}

/// The whole job flow in the runtime, on the local testnet's three validators: register and
/// attest a model, submit a job, commit and reveal as general (authorized) transactions through
/// `Executive`, one validator dissenting, then settlement with every balance checked.
mod job_flow {
	use codec::Encode;
	use frame_support::{assert_ok, traits::fungible::InspectHold};
	use gateless_primitives::{
		crypto::inference,
		digest::{commitment, output_digest},
		job::{InferenceOutput, InputTensors, JobStatus, Tensor, TensorList},
		model::{DType, Determinism, Dim, ModelSignature, TensorSpec, Verdict},
	};
	use sp_core::Pair;
	use sp_keyring::Sr25519Keyring;
	use sp_runtime::{
		generic::Era,
		transaction_validity::{InvalidTransaction, TransactionSource, TransactionValidityError},
		FixedU64,
	};

	use super::*;
	use crate::{
		configs::{
			DefaultVerificationParams, COMMIT_WINDOW, DISPUTE_WINDOW, JOB_TTL, MAX_ESCALATIONS,
			REVEAL_WINDOW,
		},
		token::UNIT,
		Executive, InferenceJobs, ModelRegistry, RuntimeCall, RuntimeOrigin, System,
		UncheckedExtrinsic,
	};

	fn spec(name: &str, shape: Vec<Dim>) -> TensorSpec {
		TensorSpec {
			name: name.as_bytes().to_vec().try_into().unwrap(),
			dtype: DType::F32,
			shape: shape.try_into().unwrap(),
		}
	}

	fn scores(values: &[f32]) -> InferenceOutput {
		InferenceOutput::Tensors(
			TensorList::new(vec![Tensor {
				dtype: DType::F32,
				shape: vec![1, values.len() as u32].try_into().unwrap(),
				data: values
					.iter()
					.flat_map(|v| v.to_le_bytes())
					.collect::<Vec<_>>()
					.try_into()
					.unwrap(),
			}])
			.unwrap(),
		)
	}

	/// The runtime's transaction extensions: immortal, no tip, no metadata hash.
	fn extension(nonce: u32) -> crate::TxExtension {
		(
			frame_system::AuthorizeCall::new(),
			frame_system::CheckNonZeroSender::new(),
			frame_system::CheckSpecVersion::new(),
			frame_system::CheckTxVersion::new(),
			frame_system::CheckGenesis::new(),
			frame_system::CheckEra::from(Era::Immortal),
			frame_system::CheckNonce::from(nonce),
			frame_system::CheckWeight::new(),
			pallet_transaction_payment::ChargeTransactionPayment::from(0),
			frame_metadata_hash_extension::CheckMetadataHash::new(false),
			frame_system::WeightReclaim::new(),
		)
	}

	/// A general transaction: no signer, no fee; `AuthorizeCall` lets the call's own
	/// authorization decide.
	fn general(call: pallet_result_verification::Call<Runtime>) -> UncheckedExtrinsic {
		UncheckedExtrinsic::new_transaction(RuntimeCall::Verification(call), extension(0))
	}

	/// Registers a model of `owner` (one input `[batch, 64]`, one output `[batch, 3]`) and
	/// activates it with Alice's and Bob's attestations: model 0 on a fresh chain.
	fn register_active_model(
		owner: &crate::AccountId,
		determinism: Determinism,
		price: crate::Balance,
	) {
		let (alice, bob) = (Sr25519Keyring::Alice, Sr25519Keyring::Bob);
		assert_ok!(ModelRegistry::register_model(
			RuntimeOrigin::signed(owner.clone()),
			b"digits".to_vec().try_into().unwrap(),
			b"1.0.0".to_vec().try_into().unwrap(),
			sp_core::H256::repeat_byte(7),
			10_000,
			pallet_model_registry::ModelSource::Uris(
				vec![b"https://models.example/digits.onnx".to_vec().try_into().unwrap()]
					.try_into()
					.unwrap()
			),
			Box::new(ModelSignature {
				inputs: vec![spec("image", vec![Dim::Dynamic, Dim::Fixed(64)])].try_into().unwrap(),
				outputs: vec![spec("scores", vec![Dim::Dynamic, Dim::Fixed(3)])]
					.try_into()
					.unwrap(),
				symbols: Default::default(),
			}),
			determinism,
			price,
			Default::default(),
			None,
			Default::default(),
		));
		for validator in [alice, bob] {
			assert_ok!(ModelRegistry::attest_model(
				RuntimeOrigin::signed(validator.to_account_id()),
				0,
				Verdict::Loads(Default::default())
			));
		}
	}

	fn salt(who: Sr25519Keyring) -> [u8; 32] {
		sp_io::hashing::blake2_256(&(b"salt", who.to_account_id()).encode())
	}

	#[test]
	fn full_batches_of_jobs_and_of_small_duties_fit_in_a_transaction() {
		use frame_support::dispatch::{DispatchClass, GetDispatchInfo};
		use gateless_primitives::job::{JobInput, TensorData};
		let max = crate::configs::RuntimeBlockWeights::get()
			.get(DispatchClass::Normal)
			.max_extrinsic
			.expect("a normal-class limit");
		let input = JobInput {
			dtype: gateless_primitives::model::DType::F32,
			shape: vec![1].try_into().unwrap(),
			data: TensorData::Inline(vec![0; 4].try_into().unwrap()),
		};
		let request = pallet_inference_jobs::JobRequest {
			model: 0,
			inputs: gateless_primitives::job::InputTensors::new(vec![input]).unwrap(),
			replicas: Some(crate::configs::MAX_REPLICAS),
			max_fee: 0,
		};
		let per_call: u32 =
			<crate::Runtime as pallet_inference_jobs::Config>::MaxJobsPerCall::get();
		let jobs = vec![request; per_call as usize].try_into().unwrap();
		let submit = RuntimeCall::InferenceJobs(pallet_inference_jobs::Call::submit_jobs { jobs });
		let weight = submit.get_dispatch_info().total_weight();
		assert!(weight.all_lte(max), "{weight:?} above {max:?}");

		// A full batch of reveals of a small output (the offchain workers split larger ones).
		let output = gateless_primitives::job::InferenceOutput::Error(
			gateless_primitives::job::InferenceError::BadInput,
		);
		let item =
			pallet_result_verification::RevealItem { job: 0, round: 0, output, salt: [0; 32] };
		let items = vec![item; crate::configs::MAX_DUTY_BATCH as usize].try_into().unwrap();
		let reveal = RuntimeCall::Verification(pallet_result_verification::Call::reveal_batch {
			executor: Sr25519Keyring::Alice.to_account_id(),
			items,
			signature: sp_core::sr25519::Signature::from_raw([0; 64]).into(),
		});
		// Duties are operational: they have their own, smaller share of the block.
		let info = reveal.get_dispatch_info();
		assert_eq!(info.class, DispatchClass::Operational);
		let max = crate::configs::RuntimeBlockWeights::get()
			.get(DispatchClass::Operational)
			.max_extrinsic
			.expect("an operational-class limit");
		let weight = info.total_weight();
		assert!(weight.all_lte(max), "{weight:?} above {max:?}");
	}

	/// A transaction signed by `who` with `nonce`, as a wallet would send it.
	fn signed(who: Sr25519Keyring, nonce: u32, call: RuntimeCall) -> UncheckedExtrinsic {
		let extension = extension(nonce);
		let payload = crate::SignedPayload::new(call.clone(), extension.clone()).unwrap();
		let signature = payload.using_encoded(|bytes| who.pair().sign(bytes));
		UncheckedExtrinsic::new_signed(
			call,
			sp_runtime::MultiAddress::Id(who.to_account_id()),
			signature.into(),
			extension,
		)
	}

	/// Validators' duties are operational transactions with a budget of their own
	/// (`DUTY_RATIO` of the block's weight, and only while the block is below that share of its
	/// length): once duties have used it, the next duty waits for another block
	/// (`ExhaustsResources`: the block builder skips it and the pool keeps it), and users'
	/// transfers and job submissions still go in.
	#[test]
	fn a_block_full_of_duties_still_takes_users_transactions() {
		use frame_support::dispatch::DispatchClass;
		let (eve, ferdie) = (Sr25519Keyring::Eve, Sr25519Keyring::Ferdie);
		build_with_three_validators().execute_with(|| {
			start_block(1);
			register_active_model(&Sr25519Keyring::Dave.to_account_id(), Determinism::Exact, UNIT);
			let input = || {
				let input = Tensor::<1024> {
					dtype: DType::F32,
					shape: vec![1, 64].try_into().unwrap(),
					data: vec![0u8; 256].try_into().unwrap(),
				};
				InputTensors::new(vec![input.into_inline().unwrap()]).unwrap()
			};
			let max_fee = 10 * UNIT;
			assert_ok!(InferenceJobs::submit_job(
				RuntimeOrigin::signed(eve.to_account_id()),
				0,
				input(),
				Some(3),
				max_fee
			));
			draw_in_next_block();
			let executor =
				pallet_inference_jobs::Jobs::<Runtime>::get(0).unwrap().executors[0].clone();
			let who = [Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie]
				.into_iter()
				.find(|who| who.to_account_id() == executor)
				.unwrap();
			let commitment = sp_core::H256::repeat_byte(3);
			let commit = || {
				let payload = crate::Verification::commit_payload(0, 0, &executor, &commitment);
				general(pallet_result_verification::Call::commit {
					job: 0,
					executor: executor.clone(),
					commitment,
					signature: who.pair().sign(&payload).into(),
				})
			};
			let transfer = |nonce| {
				signed(
					eve,
					nonce,
					RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
						dest: ferdie.to_account_id().into(),
						value: UNIT,
					}),
				)
			};
			let submission = |nonce| {
				signed(
					eve,
					nonce,
					RuntimeCall::InferenceJobs(pallet_inference_jobs::Call::submit_job {
						model: 0,
						inputs: input(),
						replicas: Some(3),
						max_fee,
					}),
				)
			};
			let exhausted =
				Err(TransactionValidityError::Invalid(InvalidTransaction::ExhaustsResources));

			// Duties have used their share of the block's weight.
			let weights = crate::configs::RuntimeBlockWeights::get();
			let budget = weights.get(DispatchClass::Operational).max_total.unwrap();
			assert_eq!(budget, crate::configs::DUTY_RATIO * weights.max_block);
			System::register_extra_weight_unchecked(budget, DispatchClass::Operational);
			assert_eq!(Executive::apply_extrinsic(commit()), exhausted);
			assert_ok!(Executive::apply_extrinsic(transfer(0)).expect("room for a transfer"));
			assert_ok!(Executive::apply_extrinsic(submission(1)).expect("room for a job"));
			assert_eq!(pallet_inference_jobs::NextJobId::<Runtime>::get(), 2);

			// A new block; duties have filled their share of its length.
			start_block(3);
			let length = crate::configs::RuntimeBlockLength::get();
			let duty_length = *length.max.get(DispatchClass::Operational);
			assert_eq!(duty_length, crate::configs::DUTY_RATIO * 5 * 1024 * 1024);
			frame_system::BlockSize::<Runtime>::put(duty_length);
			assert_eq!(Executive::apply_extrinsic(commit()), exhausted);
			assert_ok!(Executive::apply_extrinsic(transfer(2)).expect("room for a transfer"));
			assert_ok!(Executive::apply_extrinsic(submission(3)).expect("room for a job"));

			// Without the duties, the commit goes in.
			start_block(4);
			assert_ok!(Executive::apply_extrinsic(commit()).expect("a valid commit"));
		});
	}

	#[test]
	fn the_windows_fit_every_round_before_a_job_expires() {
		let rounds = u32::from(MAX_ESCALATIONS) + 1;
		// Each round may end in a dispute.
		assert!(rounds * (COMMIT_WINDOW + REVEAL_WINDOW + DISPUTE_WINDOW + 1) < JOB_TTL);
	}

	#[test]
	fn a_job_is_verified_and_settled_with_every_balance_accounted() {
		let (alice, bob, charlie) =
			(Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie);
		let owner = Sr25519Keyring::Dave.to_account_id();
		let user = Sr25519Keyring::Eve.to_account_id();
		build_with_three_validators().execute_with(|| {
			start_block(1);
			let price = UNIT;
			let determinism = Determinism::Tolerance {
				abs: FixedU64::from_rational(1, 10_000),
				rel: Default::default(),
			};
			register_active_model(&owner, determinism, price);

			let input = Tensor::<1024> {
				dtype: DType::F32,
				shape: vec![1, 64].try_into().unwrap(),
				data: vec![0u8; 256].try_into().unwrap(),
			};
			let input = InputTensors::new(vec![input.into_inline().unwrap()]).unwrap();
			let quote = InferenceJobs::quote(0, Some(3), &[vec![1, 64]]).expect("an active model");
			// 256 input bytes, and the most an executor may reveal from each of three: the
			// output's first dimension is dynamic, so its size is unknown before the run.
			let most = u128::from(gateless_primitives::job::MAX_INLINE_OUTPUT_BYTES);
			assert_eq!(
				quote.data_fee,
				<<Runtime as pallet_inference_jobs::Config>::FeePerByte as Get<crate::Balance>>::get(
				) * (256 + 3 * most)
			);
			let issuance = Balances::total_issuance();
			let user_before = Balances::free_balance(&user);
			let owner_before = Balances::free_balance(&owner);
			let free_before: Vec<_> = [alice, bob, charlie]
				.iter()
				.map(|who| Balances::free_balance(who.to_account_id()))
				.collect();
			assert_ok!(InferenceJobs::submit_job(
				RuntimeOrigin::signed(user.clone()),
				0,
				input,
				Some(3),
				quote.total
			));
			// The whole quote is held until the committee is drawn, at the end of the next block.
			let held = || {
				Balances::balance_on_hold(
					&pallet_inference_jobs::HoldReason::JobEscrow.into(),
					&user,
				)
			};
			assert_eq!(held(), quote.total);
			draw_in_next_block();
			assert_eq!(held(), quote.escrow());

			let honest = scores(&[0.1, 0.2, 0.7]);
			let other_cpu = scores(&[0.100_03, 0.199_98, 0.7]);
			let outlier = scores(&[0.6, 0.2, 0.2]);
			let outputs = [(alice, honest.clone()), (bob, other_cpu), (charlie, outlier)];
			let sign = |who: Sr25519Keyring, payload: Vec<u8>| -> inference::Signature {
				who.pair().sign(&payload).into()
			};

			// A stranger's commit is refused by the pool, before any block.
			let dave = Sr25519Keyring::Dave;
			let stranger_commitment = sp_core::H256::repeat_byte(1);
			let stranger = general(pallet_result_verification::Call::commit {
				job: 0,
				executor: dave.to_account_id(),
				commitment: stranger_commitment,
				signature: sign(
					dave,
					crate::Verification::commit_payload(
						0,
						0,
						&dave.to_account_id(),
						&stranger_commitment,
					),
				),
			});
			let not_executor =
				pallet_result_verification::Error::<Runtime>::NotExecutor.encode()[0];
			assert_eq!(
				Executive::validate_transaction(
					TransactionSource::External,
					stranger,
					System::block_hash(0)
				),
				Err(TransactionValidityError::Invalid(InvalidTransaction::Custom(not_executor)))
			);

			for (who, output) in &outputs {
				let executor = who.to_account_id();
				let digest = output_digest(output, &determinism);
				let commitment = commitment(&digest, &salt(*who), &executor);
				let signature =
					sign(*who, crate::Verification::commit_payload(0, 0, &executor, &commitment));
				let xt = general(pallet_result_verification::Call::commit {
					job: 0,
					executor,
					commitment,
					signature,
				});
				assert_ok!(Executive::validate_transaction(
					TransactionSource::External,
					xt.clone(),
					System::block_hash(0)
				));
				assert_ok!(Executive::apply_extrinsic(xt).expect("valid"));
			}
			for (who, output) in &outputs {
				let executor = who.to_account_id();
				let signature = sign(
					*who,
					crate::Verification::reveal_payload(0, 0, &executor, output, &salt(*who)),
				);
				let xt = general(pallet_result_verification::Call::reveal {
					job: 0,
					executor,
					output: output.clone(),
					salt: salt(*who),
					signature,
				});
				assert_ok!(Executive::apply_extrinsic(xt).expect("valid"));
			}

			// Alice and Bob agree within the tolerance; Charlie dissents and is slashed.
			let job = pallet_inference_jobs::Jobs::<Runtime>::get(0).unwrap();
			assert_eq!(job.status, JobStatus::Finalized);
			let result = InferenceJobs::job_result(0).expect("a stored result");
			// The decided output is the first agreeing one in committee (draw) order.
			assert!(result.output == honest || result.output == outputs[1].1);
			let mut agreeing = result.agreeing.clone();
			agreeing.sort();
			let mut expected = vec![alice.to_account_id(), bob.to_account_id()];
			expected.sort();
			assert_eq!(agreeing, expected);
			let fee = quote.executor_fee;
			assert_eq!(Balances::free_balance(alice.to_account_id()), free_before[0] + fee);
			assert_eq!(Balances::free_balance(bob.to_account_id()), free_before[1] + fee);
			assert_eq!(Balances::free_balance(charlie.to_account_id()), free_before[2]);
			let slash = DefaultVerificationParams::get().dissent_slash
				* crate::genesis_config_presets::GENESIS_VALIDATOR_BOND;
			assert_eq!(
				pallet_validator_staking::Ledgers::<Runtime>::get(charlie.to_account_id())
					.unwrap()
					.active,
				crate::genesis_config_presets::GENESIS_VALIDATOR_BOND - slash
			);
			assert_eq!(Balances::free_balance(&owner), owner_before + price);
			// Eve paid the data fee, the price and two executor fees; the third fee came back.
			assert_eq!(
				Balances::free_balance(&user),
				user_before - quote.data_fee - price - 2 * fee
			);
			assert_eq!(
				Balances::balance_on_hold(
					&pallet_inference_jobs::HoldReason::JobEscrow.into(),
					&user
				),
				0
			);
			// Only the data fee and the slash (both burnt) moved the total issuance.
			assert_eq!(Balances::total_issuance(), issuance - quote.data_fee - slash);
		});
	}
}

/// The largest dispute proof (four leaves of 64 KiB in both outputs) is one transaction that fits
/// in a block, by weight and by length, with the tally it may trigger: otherwise the pool refuses
/// it (`ExhaustsResources`) and no dispute can ever be settled.
#[test]
fn the_largest_dispute_proof_fits_in_a_block() {
	use frame_support::dispatch::{DispatchClass, GetDispatchInfo};
	use gateless_primitives::{
		digest::LEAF_BYTES,
		dispute::{DisputeProof, LeafPair, MAX_DISPUTE_LEAVES},
	};
	let slice = || vec![0x3f; LEAF_BYTES as usize].try_into().unwrap();
	let leaves = (0..MAX_DISPUTE_LEAVES)
		.map(|index| LeafPair { index, reference: slice(), other: slice() })
		.collect::<Vec<_>>();
	let proof =
		DisputeProof::Agree { leaves: leaves.try_into().unwrap(), siblings: Default::default() };
	let call = crate::RuntimeCall::Verification(pallet_result_verification::Call::settle {
		job: 0,
		executor: sp_keyring::Sr25519Keyring::Alice.to_account_id(),
		other: sp_keyring::Sr25519Keyring::Bob.to_account_id(),
		proof,
		signature: Decode::decode(&mut &[0u8; 64][..]).unwrap(),
	});
	let weights = <Runtime as frame_system::Config>::BlockWeights::get();
	let info = call.get_dispatch_info();
	assert_eq!(info.class, DispatchClass::Operational, "a duty");
	let duties = weights.get(DispatchClass::Operational);
	let weight = info.total_weight();
	assert!(weight.all_lt(duties.max_extrinsic.unwrap()), "{weight:?} does not fit in a block");
	let length = codec::Encode::encoded_size(&call) as u32;
	let max_length = *<Runtime as frame_system::Config>::BlockLength::get()
		.max
		.get(DispatchClass::Operational);
	assert!(length < max_length, "{length} bytes do not fit in a block");
}
