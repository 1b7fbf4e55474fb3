//! Validators' offchain workers in the real runtime, with the node's real inference engine
//! registered as the `inference` extension, a keystore holding Alice's inference key, and test
//! offchain storage and transaction pool: the right transactions, each once, and a reveal that
//! needs nothing but the node's persistent offchain storage.

use std::{
	sync::{Arc, Mutex},
	time::Duration,
};

use codec::Decode;
use frame_support::assert_ok;
use gateless_inference_engine::{
	reference::{
		argmax_rows, assert_outputs_match, bytes, declared, determinism, first_rows, reference,
		references, values,
	},
	Engine, EngineConfig,
};
use gateless_primitives::{
	crypto::INFERENCE_KEY_TYPE,
	inference::{InferenceExt, InferenceHost, ModelRef},
	job::{Abstention, InferenceOutput, InputTensor, InputTensors, JobStatus},
	model::{model_hash, AttestationFailure, ComputeCost, ModelId, ModelStatus, Verdict},
};
use sp_core::offchain::{
	testing::{OffchainState, PoolState, TestOffchainExt, TestTransactionPoolExt},
	OffchainDbExt, OffchainWorkerExt, TransactionPoolExt,
};
use sp_keyring::Sr25519Keyring;
use sp_keystore::{testing::MemoryKeystore, Keystore, KeystoreExt};
use sp_runtime::FixedU64;

use super::*;
use crate::{
	offchain, token::UNIT, Executive, InferenceJobs, ModelRegistry, RuntimeCall, RuntimeOrigin,
	System, UncheckedExtrinsic,
};

/// The engine behind the extension, which a test can swap as a node restart would.
#[derive(Clone)]
struct NodeEngine(Arc<Mutex<Engine>>);

impl InferenceHost for NodeEngine {
	fn has_model(&mut self, hash: sp_core::H256) -> bool {
		self.0.lock().unwrap().has_model(&hash)
	}

	fn check_model(&mut self, model: ModelRef) -> Verdict {
		self.0.lock().unwrap().check_model(&model)
	}

	fn obtain_model(
		&mut self,
		hash: sp_core::H256,
		content: gateless_primitives::content::ContentRef,
	) -> gateless_primitives::inference::ModelFetch {
		self.0.lock().unwrap().obtain_model(hash, content)
	}

	fn discard_model(&mut self, hash: sp_core::H256) {
		self.0.lock().unwrap().discard_model(&hash)
	}

	fn fetch_inputs(&mut self, inputs: InputTensors) -> Result<Vec<InputTensor>, Abstention> {
		self.0.lock().unwrap().fetch_inputs(inputs)
	}

	fn run(
		&mut self,
		model: ModelRef,
		inputs: Vec<InputTensor>,
	) -> Result<gateless_inference_engine::Outputs, Abstention> {
		self.0.lock().unwrap().run_all(&model, &inputs)
	}

	fn keep_outputs(
		&mut self,
		outputs: Vec<gateless_primitives::job::HostTensor>,
		placement: &gateless_primitives::inference::OutputPlacement,
	) -> Result<InferenceOutput, Abstention> {
		self.0.lock().unwrap().keep_outputs(outputs, placement)
	}

	fn prove(
		&mut self,
		reference: InferenceOutput,
		other: InferenceOutput,
		determinism: gateless_primitives::model::Determinism,
	) -> Option<gateless_primitives::dispute::DisputeProof> {
		self.0.lock().unwrap().prove(&reference, &other, &determinism)
	}
}

fn engine(dir: &std::path::Path, time_limit: Duration) -> Engine {
	Engine::new(EngineConfig {
		model_dir: dir.to_path_buf(),
		max_model_bytes: 1 << 20,
		store_quota_bytes: 1 << 30,
		cache_size: 4,
		time_limit,
		fetch_timeout: Duration::from_secs(5),
		allow_private_uris: true,
		threads: 1,
		memory_limit: 2 << 30,
		worker: gateless_inference_engine::reference::test_worker(),
	})
	.unwrap()
}

struct Validator {
	ext: sp_io::TestExternalities,
	offchain: Arc<parking_lot::RwLock<OffchainState>>,
	pool: Arc<parking_lot::RwLock<PoolState>>,
	engine: NodeEngine,
	_dir: tempfile::TempDir,
}

/// The dev chain, seen from its validator Alice's node.
fn alice_node() -> Validator {
	let dir = tempfile::tempdir().unwrap();
	let mut ext = build(DEV_RUNTIME_PRESET);
	let (offchain_ext, offchain) = TestOffchainExt::new();
	let (pool_ext, pool) = TestTransactionPoolExt::new();
	let keystore = MemoryKeystore::new();
	keystore.sr25519_generate_new(INFERENCE_KEY_TYPE, Some("//Alice")).unwrap();
	let engine = NodeEngine(Arc::new(Mutex::new(engine(dir.path(), Duration::from_secs(30)))));
	ext.register_extension(OffchainWorkerExt::new(offchain_ext.clone()));
	ext.register_extension(OffchainDbExt::new(offchain_ext));
	ext.register_extension(TransactionPoolExt::new(pool_ext));
	ext.register_extension(KeystoreExt::new(keystore));
	ext.register_extension(InferenceExt::new(engine.clone()));
	Validator { ext, offchain, pool, engine, _dir: dir }
}

/// Ends the current block as far as the tallies go: the hooks' `on_idle` with the block's spare
/// weight (rounds that batched reveals completed are tallied there).
fn end_block() {
	use frame_support::traits::OnIdle;
	let limit = <Runtime as frame_system::Config>::BlockWeights::get().max_block;
	let spare = limit.saturating_sub(System::block_weight().total());
	crate::AllPalletsWithSystem::on_idle(System::block_number(), spare);
}

/// Registers a committed model file inline, as Bob.
fn register(file: &str) -> ModelId {
	let onnx = bytes(file);
	register_from(file, pallet_model_registry::ModelSource::Inline(onnx.try_into().unwrap()))
}

/// Registers a committed model file, as Bob, with its bytes where `source` says.
fn register_from(
	file: &str,
	source: pallet_model_registry::ModelSource<
		<Runtime as pallet_model_registry::Config>::MaxInlineModelBytes,
	>,
) -> ModelId {
	let onnx = bytes(file);
	let model = pallet_model_registry::NextModelId::<Runtime>::get();
	ModelRegistry::register_model(
		RuntimeOrigin::signed(Sr25519Keyring::Bob.to_account_id()),
		file.as_bytes().to_vec().try_into().unwrap(),
		b"1.0.0".to_vec().try_into().unwrap(),
		model_hash(&onnx),
		onnx.len() as u64,
		source,
		Box::new(declared(file)),
		determinism(file),
		UNIT / 10,
		Default::default(),
		None,
		Default::default(),
	)
	.unwrap();
	model
}

/// Runs the worker `times` times at the current block; returns the transactions it added.
fn run_worker(pool: &parking_lot::RwLock<PoolState>, times: usize) -> Vec<UncheckedExtrinsic> {
	let before = pool.read().transactions.len();
	for _ in 0..times {
		offchain::run(System::block_number());
	}
	pool.read().transactions[before..]
		.iter()
		.map(|tx| UncheckedExtrinsic::decode(&mut &tx[..]).unwrap())
		.collect()
}

/// The models and verdicts of the attestations among `sent`.
/// A verdict that a model loads, as [`attestations`] lists it: without the estimate it carries.
const LOADS: Verdict =
	Verdict::Loads(ComputeCost { fixed: 0, per_element: FixedU64::from_inner(0) });

/// The models `sent` attests and their verdicts, estimates left out.
fn attestations(sent: &[UncheckedExtrinsic]) -> Vec<(ModelId, Verdict)> {
	sent.iter()
		.filter_map(|xt| match &xt.function {
			RuntimeCall::ModelRegistry(pallet_model_registry::Call::attest_model_as {
				model,
				verdict,
				..
			}) => Some((*model, if verdict.loads() { LOADS } else { *verdict })),
			_ => None,
		})
		.collect()
}

/// Checks `xt` as the pool does (on a state it then throws away), then applies it.
fn apply(xt: UncheckedExtrinsic) {
	use frame_support::storage::{with_transaction, TransactionOutcome};
	use sp_runtime::transaction_validity::TransactionSource;
	let validity: Result<_, sp_runtime::DispatchError> = with_transaction(|| {
		TransactionOutcome::Rollback(Ok(Executive::validate_transaction(
			TransactionSource::Local,
			xt.clone(),
			System::parent_hash(),
		)))
	});
	validity.unwrap().expect("the pool accepts the worker's transaction");
	Executive::apply_extrinsic(xt).expect("applied").expect("dispatched");
}

#[test]
fn a_job_carries_every_input_and_its_result_every_output() {
	let Validator { mut ext, pool, _dir, .. } = alice_node();
	ext.execute_with(|| {
		start_block(1);
		// x [batch, 16], state [2, batch, 8], sr (a rank-0 i64) -> y [batch, 1], state_next.
		let file = "recurrent-cell.onnx";
		let model = register(file);
		apply(run_worker(&pool, 1).remove(0));
		for (job, case) in references(file).into_iter().enumerate() {
			start_block(2 + 3 * job as u32);
			let inputs = case
				.inputs
				.into_iter()
				.map(|(_, tensor)| tensor.into_inline().unwrap())
				.collect();
			assert_ok!(InferenceJobs::submit_job(
				RuntimeOrigin::signed(Sr25519Keyring::Charlie.to_account_id()),
				model,
				InputTensors::new(inputs).unwrap(),
				Some(1),
				UNIT,
			));
			draw_in_next_block();
			let round = pallet_result_verification::Rounds::<Runtime>::get(job as u64).unwrap();
			// The outputs follow the batch the inputs chose.
			let batch = case.outputs[0].1.shape[0];
			assert_eq!(
				round.outputs.specs[0].shape[0],
				gateless_primitives::model::Dim::Fixed(batch)
			);
			apply(run_worker(&pool, 1).remove(0));
			start_block(4 + 3 * job as u32);
			apply(run_worker(&pool, 1).remove(0));
			end_block();
			let result = InferenceJobs::job_result(job as u64).expect("a verified result");
			let outputs = result.output.tensors().expect("outputs, not an error");
			assert_outputs_match(outputs, &case.outputs, 1e-4);
		}
	});
}

#[test]
fn duties_are_sent_once_each_and_the_reveal_survives_a_restart() {
	let alice = Sr25519Keyring::Alice.to_account_id();
	let Validator { mut ext, offchain, pool, engine: node_engine, _dir } = alice_node();
	ext.execute_with(|| {
		start_block(1);
		let model = register("digits-mlp.onnx");

		// Attestation: one transaction, however many times the worker runs.
		let sent = run_worker(&pool, 3);
		assert_eq!(sent.len(), 1, "one attestation");
		match &sent[0].function {
			RuntimeCall::ModelRegistry(pallet_model_registry::Call::attest_model_as {
				model: attested,
				verdict,
				validator,
				..
			}) => {
				assert_eq!((*attested, validator), (model, &alice));
				// The engine's estimate: digits-mlp's dense layers cost 2,484 operations a row of
				// 64 pixels (the engine's tests check the count).
				let Verdict::Loads(compute) = verdict else { panic!("{verdict:?}") };
				assert_eq!(compute.operations(64 * 1_000), 2_484_000, "{compute:?}");
			},
			other => panic!("not an attestation: {other:?}"),
		}
		apply(sent[0].clone());
		assert_eq!(
			pallet_model_registry::Models::<Runtime>::get(model).unwrap().status,
			ModelStatus::Active
		);
		// Alice alone is the quorum: her estimate is the model's.
		assert_eq!(
			pallet_model_registry::ModelCompute::<Runtime>::get(model)
				.map(|compute| compute.operations(64)),
			Some(2_484)
		);

		// A job of two images, assigned to Alice, the only validator.
		start_block(2);
		let (images, expected, predicted) = reference("digits-mlp");
		let input = InputTensors::new(vec![first_rows(&images, 2).into_inline().unwrap()]).unwrap();
		assert!(run_worker(&pool, 1).is_empty(), "nothing to do before a job");
		assert_ok!(InferenceJobs::submit_job(
			RuntimeOrigin::signed(Sr25519Keyring::Charlie.to_account_id()),
			model,
			input,
			Some(1),
			UNIT,
		));
		assert!(run_worker(&pool, 1).is_empty(), "nothing to do before the draw");
		draw_in_next_block();
		let job = 0;

		// Commit: one transaction, the output kept in persistent offchain storage.
		let sent = run_worker(&pool, 3);
		assert_eq!(sent.len(), 1, "one commit");
		assert!(matches!(
			&sent[0].function,
			RuntimeCall::Verification(pallet_result_verification::Call::commit_batch { executor, items, .. })
				if *executor == alice && items.len() == 1 && items[0].job == 0
		));
		apply(sent[0].clone());
		let execution = offchain::execution_key(job, 0, &alice);
		let attestation = offchain::attestation_key(model, &alice);
		let ledger = || -> Vec<offchain::Duty> {
			offchain
				.read()
				.persistent_storage
				.get(offchain::LEDGER_KEY)
				.map(|bytes| Decode::decode(&mut &bytes[..]).unwrap())
				.unwrap_or_default()
		};
		assert!(offchain.read().persistent_storage.get(&execution).is_some());
		// The model is active: the workers since cleared the record of its attestation.
		assert_eq!(offchain.read().persistent_storage.get(&attestation), None);
		assert_eq!(ledger(), vec![offchain::Duty::Job { job, round: 0, validator: alice.clone() }]);

		// The node restarts: its in-memory state (the engine's plan cache, local storage and the
		// pool) is gone, and the new engine could not even load a model in time.
		pool.write().transactions.clear();
		offchain.write().local_storage = Default::default();
		let empty = tempfile::tempdir().unwrap();
		*node_engine.0.lock().unwrap() = engine(empty.path(), Duration::from_micros(1));

		// Reveal, in the next block (every executor has committed): from offchain storage alone.
		start_block(4);
		let sent = run_worker(&pool, 3);
		assert_eq!(sent.len(), 1, "one reveal");
		let RuntimeCall::Verification(pallet_result_verification::Call::reveal_batch {
			items, ..
		}) = &sent[0].function
		else {
			panic!("not a batch of reveals: {:?}", sent[0].function)
		};
		let [pallet_result_verification::RevealItem {
			job: 0,
			output: InferenceOutput::Tensors(outputs),
			..
		}] = items.as_slice()
		else {
			panic!("one reveal of a tensor: {items:?}")
		};
		let [output] = outputs.as_slice() else { panic!("one output: {outputs:?}") };
		let actual = values(output);
		let worst = actual.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
		assert!(worst <= 1e-4, "largest difference from onnxruntime: {worst}");
		apply(sent[0].clone());
		end_block();

		// Decided: the right classes, and nothing more to send.
		let info = pallet_inference_jobs::Jobs::<Runtime>::get(job).unwrap();
		assert_eq!(info.status, JobStatus::Finalized);
		let result = pallet_inference_jobs::JobResults::<Runtime>::get(job).unwrap();
		let Some([decided]) = result.output.tensors() else { panic!("an error") };
		assert_eq!(argmax_rows(&values(decided), 10), predicted[..2]);
		assert!(run_worker(&pool, 2).is_empty());
		start_block(5);
		assert!(run_worker(&pool, 2).is_empty());
		// The chain is done with both duties: their records are gone.
		assert_eq!(ledger(), vec![]);
		assert_eq!(offchain.read().persistent_storage.get(&execution), None);
		assert_eq!(offchain.read().persistent_storage.get(&attestation), None);
	});
}

#[test]
fn a_broken_model_is_attested_with_its_failure_and_a_node_without_engine_stays_silent() {
	let Validator { mut ext, pool, _dir, .. } = alice_node();
	ext.execute_with(|| {
		start_block(1);
		let truncated = register("digits-mlp-truncated.onnx");
		let sent = run_worker(&pool, 2);
		assert_eq!(
			attestations(&sent),
			vec![(truncated, Verdict::Fails(AttestationFailure::Malformed))]
		);
		let hash = pallet_model_registry::Models::<Runtime>::get(truncated).unwrap().hash;
		assert!(gateless_primitives::inference::has_model(hash), "stored while it was checked");
		apply(sent[0].clone());
		assert!(matches!(
			pallet_model_registry::Models::<Runtime>::get(truncated).unwrap().status,
			ModelStatus::Rejected(_)
		));
		// The worker of the block that rejected it removes it from the node's store.
		assert!(run_worker(&pool, 1).is_empty());
		assert!(!gateless_primitives::inference::has_model(hash));
	});

	// The same chain on a node whose workers have no engine (the extension is absent, as in
	// block import): nothing is attested.
	let mut ext = build(DEV_RUNTIME_PRESET);
	let (offchain_ext, _) = TestOffchainExt::new();
	let (pool_ext, pool) = TestTransactionPoolExt::new();
	let keystore = MemoryKeystore::new();
	keystore.sr25519_generate_new(INFERENCE_KEY_TYPE, Some("//Alice")).unwrap();
	ext.register_extension(OffchainWorkerExt::new(offchain_ext.clone()));
	ext.register_extension(OffchainDbExt::new(offchain_ext));
	ext.register_extension(TransactionPoolExt::new(pool_ext));
	ext.register_extension(KeystoreExt::new(keystore));
	ext.execute_with(|| {
		start_block(1);
		register("digits-mlp.onnx");
		assert!(run_worker(&pool, 1).is_empty());
		assert!(!gateless_primitives::inference::has_model(model_hash(&bytes("digits-mlp.onnx"))));
	});
}

#[test]
fn a_job_on_a_banned_model_is_not_run_and_ends_with_a_refund_and_no_slash() {
	let alice = Sr25519Keyring::Alice.to_account_id();
	let charlie = Sr25519Keyring::Charlie.to_account_id();
	let Validator { mut ext, pool, _dir, .. } = alice_node();
	ext.execute_with(|| {
		start_block(1);
		let model = register("digits-mlp.onnx");
		apply(run_worker(&pool, 1).remove(0));
		start_block(2);
		let (images, _, _) = reference("digits-mlp");
		let before = pallet_balances::Pallet::<Runtime>::free_balance(&charlie);
		assert_ok!(InferenceJobs::submit_job(
			RuntimeOrigin::signed(charlie.clone()),
			model,
			InputTensors::new(vec![first_rows(&images, 1).into_inline().unwrap()]).unwrap(),
			Some(1),
			UNIT,
		));
		draw_in_next_block();
		assert_ok!(ModelRegistry::ban_model(RuntimeOrigin::root(), model));
		let hash = pallet_model_registry::Models::<Runtime>::get(model).unwrap().hash;
		// The ban removes the model from the store, and the job is not run.
		assert!(run_worker(&pool, 2).is_empty());
		assert!(!gateless_primitives::inference::has_model(hash));
		let round = pallet_result_verification::Rounds::<Runtime>::get(0).unwrap();
		for number in 4..=round.reveal_until + 1 {
			start_block(number);
			assert!(run_worker(&pool, 1).is_empty(), "nothing sent at block {number}");
		}
		let job = pallet_inference_jobs::Jobs::<Runtime>::get(0).unwrap();
		assert_eq!(
			job.status,
			JobStatus::Failed(gateless_primitives::job::FailureReason::ModelWithdrawn)
		);
		// Everything came back but the data fee, burnt for the block space the job took.
		assert_eq!(
			pallet_balances::Pallet::<Runtime>::free_balance(&charlie),
			before - job.fee.data_fee
		);
		let summary = crate::Staking::validator_summary(&alice).unwrap();
		assert_eq!(
			(summary.counters.missed, summary.counters.abstained, summary.counters.slashed),
			(0, 0, 0)
		);
	});
}

#[test]
fn a_model_that_nodes_provide_is_attested_once_held_and_unavailable_only_after_a_grace() {
	use gateless_primitives::content::Manifest;
	let Validator { mut ext, pool, engine: node_engine, _dir, .. } = alice_node();
	ext.execute_with(|| {
		start_block(1);
		let by_peers = |content| pallet_model_registry::ModelSource::Peers {
			content,
			uris: Default::default(),
		};
		let onnx = bytes("digits-mlp.onnx");
		let held = register_from("digits-mlp.onnx", by_peers(Manifest::of(&onnx).unwrap().hash()));
		let unserved = register_from("digits-int.onnx", by_peers(sp_core::H256::repeat_byte(3)));
		// This node has no content source (no network): nothing can be fetched, and while the
		// builder may still be handing the bytes over, nothing is attested.
		assert!(run_worker(&pool, 1).is_empty());

		// The builder hands the first to this node: it is checked and attested.
		node_engine.0.lock().unwrap().store_model(&onnx).unwrap();
		let sent = run_worker(&pool, 1);
		assert_eq!(attestations(&sent), vec![(held, LOADS)]);
		apply(sent[0].clone());

		// After the grace, the other is attested unavailable: nobody served it.
		System::set_block_number(offchain::MODEL_FETCH_GRACE - 1);
		start_block(offchain::MODEL_FETCH_GRACE);
		assert!(run_worker(&pool, 1).is_empty());
		start_block(1 + offchain::MODEL_FETCH_GRACE);
		let sent = run_worker(&pool, 1);
		assert_eq!(
			attestations(&sent),
			vec![(unserved, Verdict::Fails(AttestationFailure::Unavailable))]
		);
	});
}

#[test]
fn a_model_that_nodes_provide_is_fetched_from_its_uris_while_no_peer_serves_it() {
	use gateless_inference_engine::reference::serve;
	use gateless_primitives::content::Manifest;
	let Validator { mut ext, pool, _dir, .. } = alice_node();
	ext.execute_with(|| {
		start_block(1);
		let by_peers_and = |onnx: &[u8], uri: String| pallet_model_registry::ModelSource::Peers {
			content: Manifest::of(onnx).unwrap().hash(),
			uris: vec![uri.into_bytes().try_into().unwrap()].try_into().unwrap(),
		};
		let onnx = bytes("digits-int.onnx");
		let served = register_from(
			"digits-int.onnx",
			by_peers_and(&onnx, serve(onnx.clone(), "200 OK", Duration::ZERO)),
		);
		let mlp = bytes("digits-mlp.onnx");
		let down = register_from(
			"digits-mlp.onnx",
			by_peers_and(&mlp, serve(Vec::new(), "503 Service Unavailable", Duration::ZERO)),
		);
		// No peer (this node has no network): the first is checked from its URI at once; the
		// second's URI is down, and it waits for peers until the grace is over.
		let sent = run_worker(&pool, 1);
		assert_eq!(attestations(&sent), vec![(served, LOADS)]);
		apply(sent[0].clone());
		System::set_block_number(offchain::MODEL_FETCH_GRACE);
		start_block(1 + offchain::MODEL_FETCH_GRACE);
		let sent = run_worker(&pool, 1);
		assert_eq!(
			attestations(&sent),
			vec![(down, Verdict::Fails(AttestationFailure::Unavailable))]
		);
	});
}

/// onnxruntime's reference runs of `file` as reference vectors, inline, with `nudge` added to the
/// first element of each run's first output (an f32).
fn reference_vectors(file: &str, nudge: f32) -> gateless_primitives::reference::References {
	let inline = |tensors: Vec<(String, InputTensor)>| {
		InputTensors::new(tensors.into_iter().map(|(_, t)| t.into_inline().unwrap()).collect())
			.unwrap()
	};
	references(file)
		.into_iter()
		.map(|mut case| {
			let first = &mut case.outputs[0].1;
			let mut data = first.data.to_vec();
			let value = f32::from_le_bytes(data[..4].try_into().unwrap()) + nudge;
			data[..4].copy_from_slice(&value.to_le_bytes());
			first.data = data.try_into().unwrap();
			gateless_primitives::reference::ReferenceVector {
				inputs: inline(case.inputs),
				outputs: inline(case.outputs),
			}
		})
		.collect::<Vec<_>>()
		.try_into()
		.unwrap()
}

#[test]
fn reference_vectors_decide_the_attestation_within_the_declared_determinism() {
	let Validator { mut ext, pool, _dir, .. } = alice_node();
	ext.execute_with(|| {
		start_block(1);
		let file = "recurrent-cell.onnx";
		let onnx = bytes(file);
		let register_as = |owner: Sr25519Keyring, determinism, references| {
			let model = pallet_model_registry::NextModelId::<Runtime>::get();
			assert_ok!(ModelRegistry::register_model(
				RuntimeOrigin::signed(owner.to_account_id()),
				b"recurrent-cell".to_vec().try_into().unwrap(),
				b"1.0.0".to_vec().try_into().unwrap(),
				model_hash(&onnx),
				onnx.len() as u64,
				pallet_model_registry::ModelSource::Inline(onnx.clone().try_into().unwrap()),
				Box::new(declared(file)),
				determinism,
				UNIT / 10,
				Default::default(),
				None,
				references,
			));
			model
		};
		let declared_tolerance = determinism(file);
		let loose = gateless_primitives::model::Determinism::Tolerance {
			abs: sp_runtime::FixedU64::from_rational(1, 1_000),
			rel: Default::default(),
		};
		// onnxruntime's outputs, within the declared tolerance of tract's.
		let matching =
			register_as(Sr25519Keyring::Bob, declared_tolerance, reference_vectors(file, 0.0));
		// Off by 5e-4: beyond the declared tolerance, within the looser one.
		let off = reference_vectors(file, 5e-4);
		let too_tight = register_as(Sr25519Keyring::Dave, declared_tolerance, off.clone());
		let loose_enough = register_as(Sr25519Keyring::Eve, loose, off);
		// A tampered reference: far from anything the model gives.
		let tampered = register_as(Sr25519Keyring::Ferdie, loose, reference_vectors(file, 1.0));

		let sent = run_worker(&pool, 1);
		let mut verdicts = attestations(&sent);
		verdicts.sort_by_key(|(model, _)| *model);
		assert_eq!(
			verdicts,
			vec![
				(matching, LOADS),
				(too_tight, Verdict::Fails(AttestationFailure::ReferenceMismatch)),
				(loose_enough, LOADS),
				(tampered, Verdict::Fails(AttestationFailure::ReferenceMismatch)),
			]
		);
		for xt in sent {
			apply(xt);
		}
		let checked_by = |model| ModelRegistry::model_references(model).unwrap().checked_by;
		assert_eq!((checked_by(matching), checked_by(too_tight)), (1, 0));
	});
}
