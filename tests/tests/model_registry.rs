//! The model registry on a real dev chain: a builder registers a model through a signed
//! extrinsic, the chain's validator attests it for free, a stranger cannot, and clients read it
//! all through the `ModelRegistryApi` runtime API.

use std::time::Duration;

use codec::Encode;
use gateless_e2e::{
	node::{Node, NodeConfig},
	rpc::{wait_for_finalized, Rpc},
	tx::ChainContext,
};
use gateless_primitives::model::{
	AttestationTally, ComputeCost, DType, Determinism, Dim, ModelId, ModelInfo, ModelLocation,
	ModelPage, ModelSignature, ModelStatus, TensorSpec, Verdict,
};
use gateless_runtime::{
	token::UNIT, AccountId, Balance, BlockNumber, Nonce, Runtime, RuntimeCall, RuntimeEvent,
};
use pallet_model_registry::{Call as RegistryCall, Event as RegistryEvent, ModelSource};
use sp_core::H256;
use sp_keyring::Sr25519Keyring;
use sp_runtime::{DispatchError, FixedU64, ModuleError};

type Model = ModelInfo<AccountId, Balance, BlockNumber>;
type AccountInfo = frame_system::AccountInfo<Nonce, pallet_balances::AccountData<Balance>>;

const INCLUSION_TIMEOUT: Duration = Duration::from_secs(60);

fn bounded<T, S: sp_core::Get<u32>>(items: Vec<T>) -> sp_runtime::BoundedVec<T, S> {
	items.try_into().unwrap_or_else(|_| panic!("over the bound"))
}

/// `input` [batch, 4] f32 → `probabilities` [batch, 3] f32.
fn signature() -> ModelSignature {
	let tensor = |name: &str, width: u32| TensorSpec {
		name: bounded(name.as_bytes().to_vec()),
		dtype: DType::F32,
		shape: bounded(vec![Dim::Dynamic, Dim::Fixed(width)]),
	};
	ModelSignature {
		inputs: bounded(vec![tensor("input", 4)]),
		outputs: bounded(vec![tensor("probabilities", 3)]),
		symbols: Default::default(),
	}
}

/// Submits `call` signed by `signer` and returns the block it landed in and its events.
async fn submit(
	rpc: &Rpc,
	context: ChainContext,
	signer: Sr25519Keyring,
	call: RuntimeCall,
) -> (H256, Vec<RuntimeEvent>) {
	rpc.submit_signed(context, signer, call, INCLUSION_TIMEOUT).await.unwrap()
}

fn registry_events(events: &[RuntimeEvent]) -> Vec<RegistryEvent<Runtime>> {
	events
		.iter()
		.filter_map(|event| match event {
			RuntimeEvent::ModelRegistry(event) => Some(event.clone()),
			_ => None,
		})
		.collect()
}

/// The fee the transaction fee pallet reports for the block's only signed extrinsic.
fn fee_paid(events: &[RuntimeEvent]) -> Balance {
	events
		.iter()
		.find_map(|event| match event {
			RuntimeEvent::TransactionPayment(
				pallet_transaction_payment::Event::TransactionFeePaid { actual_fee, .. },
			) => Some(*actual_fee),
			_ => None,
		})
		.expect("a signed extrinsic pays (or is refunded) its fee")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_model_is_registered_attested_by_the_validator_and_listed() {
	// Without offchain workers: here the validator attests by hand (its worker would attest
	// these stand-in bytes as malformed before it could; see offchain_inference.rs).
	let mut config = NodeConfig::dev().unwrap();
	config.extra_args = vec!["--offchain-worker".into(), "never".into()];
	let (node, rpc) = Node::start(config).await.unwrap();
	wait_for_finalized(&node, &rpc, 1, Duration::from_secs(120)).await.unwrap();
	let context = rpc.chain_context().await.unwrap();
	let builder = Sr25519Keyring::Alice;
	let stranger = Sr25519Keyring::Bob;

	// The builder asks what the deposit will be, then registers 4 KiB of model bytes inline.
	let onnx: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 251) as u8).collect();
	let description = b"Apache-2.0; iris-like classifier".to_vec();
	let at = rpc.best_hash().await.unwrap();
	let deposit: Balance = rpc
		.runtime_api(
			"ModelRegistryApi_registration_deposit",
			&(onnx.len() as u32, description.len() as u32).encode(),
			at,
		)
		.await
		.unwrap();
	assert!(deposit > UNIT, "the deposit covers the base and the stored bytes: {deposit}");
	let hash = <sp_runtime::traits::BlakeTwo256 as sp_runtime::traits::Hash>::hash(&onnx);
	let register = RuntimeCall::ModelRegistry(RegistryCall::register_model {
		name: bounded(b"iris".to_vec()),
		version: bounded(b"1.0.0".to_vec()),
		hash,
		size: onnx.len() as u64,
		source: ModelSource::Inline(bounded(onnx.clone())),
		signature: Box::new(signature()),
		determinism: Determinism::Tolerance {
			abs: sp_runtime::FixedU64::from_rational(1, 100_000),
			rel: sp_runtime::Perbill::from_parts(1_000),
		},
		price: UNIT / 10,
		description: bounded(description),
		card: None,
		references: Default::default(),
	});
	let account_key = frame_system::Account::<Runtime>::hashed_key_for(builder.to_account_id());
	let before: AccountInfo = rpc.storage_decoded(&account_key, at).await.unwrap().unwrap();
	let (registered_in, events) = submit(&rpc, context, builder, register).await;
	let registered = registry_events(&events);
	let Some(RegistryEvent::ModelRegistered { model, owner, deposit: held, .. }) =
		registered.first().cloned()
	else {
		panic!("no ModelRegistered event: {events:?}")
	};
	assert_eq!(owner, builder.to_account_id());
	assert_eq!(held, deposit);
	let account: AccountInfo =
		rpc.storage_decoded(&account_key, registered_in).await.unwrap().unwrap();
	// Alice also holds her validator bond; the deposit comes on top.
	assert_eq!(account.data.reserved - before.data.reserved, deposit, "the deposit is held");

	// Pending, with one validator (Alice) deciding alone.
	let info: Option<Model> = rpc
		.runtime_api("ModelRegistryApi_model", &model.encode(), registered_in)
		.await
		.unwrap();
	let info = info.expect("the model is readable through the runtime API");
	assert_eq!(info.status, ModelStatus::Pending);
	assert_eq!((info.hash, info.size, info.location), (hash, 4096, ModelLocation::Inline));
	let tally: Option<AttestationTally> = rpc
		.runtime_api("ModelRegistryApi_attestations", &model.encode(), registered_in)
		.await
		.unwrap();
	assert_eq!(tally, Some(AttestationTally { loads: 0, fails: 0, threshold: 1 }));
	let bytes: Option<Vec<u8>> = rpc
		.runtime_api("ModelRegistryApi_inline_bytes", &model.encode(), registered_in)
		.await
		.unwrap();
	assert_eq!(bytes.as_deref(), Some(&onnx[..]));

	// Bob is no validator: his attestation fails and he pays for it.
	let attest =
		|verdict| RuntimeCall::ModelRegistry(RegistryCall::attest_model { model, verdict });
	let estimate = ComputeCost { fixed: 5_000, per_element: FixedU64::from_u32(3) };
	let (_, events) = submit(&rpc, context, stranger, attest(Verdict::Loads(estimate))).await;
	let not_validator =
		match DispatchError::from(pallet_model_registry::Error::<Runtime>::NotValidator) {
			DispatchError::Module(ModuleError { index, error, .. }) => (index, error),
			other => panic!("unexpected error encoding {other:?}"),
		};
	assert!(
		events.iter().any(|event| matches!(
			event,
			RuntimeEvent::System(frame_system::Event::ExtrinsicFailed {
				dispatch_error: DispatchError::Module(ModuleError { index, error, .. }),
				..
			}) if (*index, *error) == not_validator
		)),
		"Bob's attestation did not fail with NotValidator: {events:?}"
	);
	assert!(fee_paid(&events) > 0, "a refused attestation costs a fee");

	// Alice, the dev chain's validator, attests for free and the model becomes active.
	let (attested_in, events) =
		submit(&rpc, context, builder, attest(Verdict::Loads(estimate))).await;
	assert_eq!(
		registry_events(&events),
		vec![
			RegistryEvent::ModelAttested {
				model,
				validator: builder.to_account_id(),
				verdict: Verdict::Loads(estimate)
			},
			RegistryEvent::ModelActivated { model },
		]
	);
	assert_eq!(fee_paid(&events), 0, "a validator's attestation is free");

	// Clients list and look the model up without knowing storage keys.
	let page: ModelPage<AccountId, Balance, BlockNumber> = rpc
		.runtime_api("ModelRegistryApi_models", &(0 as ModelId, 10u32).encode(), attested_in)
		.await
		.unwrap();
	assert_eq!(page.next, None);
	assert_eq!(page.models.len(), 1);
	assert_eq!(page.models[0].0, model);
	assert_eq!(page.models[0].1.status, ModelStatus::Active);
	let latest: Option<ModelId> = rpc
		.runtime_api(
			"ModelRegistryApi_latest_version",
			&(builder.to_account_id(), b"iris".to_vec()).encode(),
			attested_in,
		)
		.await
		.unwrap();
	assert_eq!(latest, Some(model));
	// Alice alone was the quorum: her estimate is the model's compute.
	let compute: Option<ComputeCost> = rpc
		.runtime_api("ModelRegistryApi_model_compute", &model.encode(), attested_in)
		.await
		.unwrap();
	assert_eq!(compute, Some(estimate));

	let status = node.stop().unwrap();
	assert!(status.success(), "the node did not exit cleanly: {status}");
}
