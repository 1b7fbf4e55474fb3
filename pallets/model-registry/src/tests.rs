//! Tests of the model registry.

use crate::{mock::*, *};
use frame_support::{
	assert_noop, assert_ok,
	dispatch::Pays,
	traits::{
		fungible::{InspectHold, MutateHold},
		tokens::Precision,
	},
};
use gateless_primitives::model::{
	AttestationFailure, AttestationTally, ComputeCost, DType, Dim, ModelId, ModelInfo,
	ModelLocation, ModelName, ModelSignature, ModelStatus, ModelVersion, RejectionReason,
	TensorSpec, Verdict,
};
use sp_runtime::{DispatchError, FixedU64, Perbill};

/// A verdict that the model loads, with an honest validator's estimate of its compute.
const LOADS: Verdict =
	Verdict::Loads(ComputeCost { fixed: 1_000, per_element: FixedU64::from_u32(10) });

/// A verdict that the model loads, with this estimate of its compute.
fn loads(fixed: u64, per_element: u32) -> Verdict {
	Verdict::Loads(ComputeCost { fixed, per_element: FixedU64::from_u32(per_element) })
}

fn signed(who: AccountId) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}

fn root() -> RuntimeOrigin {
	RuntimeOrigin::root()
}

/// What `who` has on hold for model deposits.
fn held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::ModelDeposit.into(), &who)
}

/// The stored record of a model that must exist.
fn model(id: ModelId) -> ModelInfoOf<Test> {
	Models::<Test>::get(id).expect("the model is registered")
}

/// The length of the description `Registration` gives by default.
fn desc_len() -> usize {
	Registration::inline(0, 1).description.len()
}

fn model_name(text: &str) -> ModelName {
	text.as_bytes().to_vec().try_into().unwrap()
}

fn model_version(text: &str) -> ModelVersion {
	text.as_bytes().to_vec().try_into().unwrap()
}

fn attest(validator: AccountId, id: ModelId, verdict: Verdict) {
	assert_ok!(ModelRegistry::attest_model(signed(validator), id, verdict));
}

fn fails(failure: AttestationFailure) -> Verdict {
	Verdict::Fails(failure)
}

fn tally(loads: u32, fails: u32, threshold: u32) -> Option<AttestationTally> {
	Some(AttestationTally { loads, fails, threshold })
}

fn tensor(name: &str, shape: Vec<Dim>) -> TensorSpec {
	TensorSpec {
		name: name.as_bytes().to_vec().try_into().unwrap(),
		dtype: DType::F32,
		shape: shape.try_into().unwrap(),
	}
}

fn signature_of(inputs: Vec<TensorSpec>, outputs: Vec<TensorSpec>) -> ModelSignature {
	ModelSignature {
		inputs: inputs.try_into().unwrap(),
		outputs: outputs.try_into().unwrap(),
		symbols: Default::default(),
	}
}

/// The ids on one page of `models_page`, and where the next page starts.
fn page(from: ModelId, limit: u32) -> (Vec<ModelId>, Option<ModelId>) {
	let page = ModelRegistry::models_page(from, limit);
	(page.models.into_iter().map(|(id, _)| id).collect(), page.next)
}

mod register_model {
	use super::*;

	#[test]
	fn registering_an_inline_model_holds_its_deposit_and_stores_it() {
		ExtBuilder::default().build_and_execute(|| {
			let reg = Registration::inline(1, 100);
			let deposit = expected_deposit(100, desc_len());
			assert_eq!(ModelRegistry::registration_deposit(100, desc_len() as u32), deposit);

			assert_ok!(reg.clone().register(ALICE));

			assert_eq!(held(ALICE), deposit);
			assert_eq!(Balances::free_balance(ALICE), INITIAL_BALANCE - deposit);
			let (name, version) = (model_name("classifier"), model_version("1.0.0"));
			assert_eq!(
				model(0),
				ModelInfo {
					owner: ALICE,
					name: name.clone(),
					version: version.clone(),
					hash: reg.hash,
					size: 100,
					location: ModelLocation::Inline,
					signature: signature(),
					determinism: tolerance(),
					price: reg.price,
					description: reg.description.clone(),
					status: ModelStatus::Pending,
					deposit,
					registered_at: 1,
				}
			);
			assert_eq!(ModelRegistry::inline_bytes(0), Some(onnx_bytes(1, 100)));
			assert_eq!(ModelByName::<Test>::get((&ALICE, &name, &version)), Some(0));
			assert_eq!(ModelByHash::<Test>::get(ALICE, reg.hash), Some(0));
			assert_eq!(ModelRegistry::models_of(&ALICE), vec![0]);
			assert_eq!(OwnedModelCount::<Test>::get(ALICE), 1);
			assert_eq!(NextModelId::<Test>::get(), 1);
			assert_eq!(ModelRegistry::attestation_tally(0), tally(0, 0, 2));
			System::assert_last_event(
				Event::<Test>::ModelRegistered {
					model: 0,
					owner: ALICE,
					name,
					version,
					hash: reg.hash,
					deposit,
				}
				.into(),
			);
		});
	}

	#[test]
	fn registering_by_uri_holds_only_the_record_deposit() {
		ExtBuilder::default().build_and_execute(|| {
			let reg = Registration::by_uri(2, 5_000_000);
			assert_ok!(reg.clone().register(ALICE));

			let deposit = expected_deposit(0, desc_len());
			assert_eq!(held(ALICE), deposit);
			let info = model(0);
			assert_eq!(info.deposit, deposit);
			assert_eq!(info.size, 5_000_000);
			let ModelSource::Uris(uris) = reg.source else { panic!("a URI source") };
			assert_eq!(info.location, ModelLocation::Uris(uris));
			assert!(ModelRegistry::inline_bytes(0).is_none());
		});
	}

	#[test]
	fn registering_a_model_that_nodes_provide_keeps_its_chunk_list_hash() {
		ExtBuilder::default().build_and_execute(|| {
			let reg = Registration::by_peers(2, 5_000_000);
			assert_ok!(reg.clone().register(ALICE));

			assert_eq!(held(ALICE), expected_deposit(0, desc_len()));
			let info = model(0);
			let ModelSource::Peers { content, .. } = reg.source else { panic!("a peers source") };
			assert_eq!(info.location, ModelLocation::Peers { content, uris: Default::default() });
			assert_eq!(
				info.location.content(info.size),
				Some(gateless_primitives::content::ContentRef { hash: content, len: 5_000_000 })
			);
			assert!(ModelRegistry::inline_bytes(0).is_none());

			// URIs that serve it too must be http(s).
			let mut with_uri = Registration::by_peers(3, 1_000);
			with_uri.source = ModelSource::Peers {
				content,
				uris: vec![b"ftp://models.example/m.onnx".to_vec().try_into().unwrap()]
					.try_into()
					.unwrap(),
			};
			assert_noop!(with_uri.register(ALICE), Error::<Test>::InvalidUri);
		});
	}

	#[test]
	fn models_that_nodes_provide_are_at_most_two_gib() {
		ExtBuilder::default().build_and_execute(|| {
			let mut params = Params::<Test>::get();
			params.max_model_bytes = 4 << 30;
			assert_ok!(ModelRegistry::set_params(root(), params));
			let two_gib = gateless_primitives::content::MAX_MODEL_CONTENT_BYTES;
			assert_noop!(
				Registration::by_peers(1, two_gib + 1).register(ALICE),
				Error::<Test>::ModelTooLarge
			);
			assert_ok!(Registration::by_peers(1, two_gib).register(ALICE));
		});
	}

	#[test]
	fn each_registration_gets_the_next_id_and_ids_are_not_reused() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Registration::inline(1, 100).register(ALICE));
			assert_ok!(Registration::by_uri(2, 1_000).register(BOB));
			// Names and hashes are per owner: CHARLIE may register ALICE's bytes and name.
			assert_ok!(Registration::inline(1, 100).register(CHARLIE));
			assert_eq!(NextModelId::<Test>::get(), 3);
			assert_eq!(model(1).owner, BOB);
			assert_eq!(model(2).owner, CHARLIE);
			assert_eq!(model(2).hash, model(0).hash);

			assert_ok!(ModelRegistry::remove(signed(CHARLIE), 2));
			assert_ok!(Registration::inline(1, 100).register(CHARLIE));
			assert!(Models::<Test>::get(2).is_none());
			assert_eq!(model(3).owner, CHARLIE);
			assert_eq!(NextModelId::<Test>::get(), 4);
		});
	}

	#[test]
	fn name_and_version_must_not_be_empty() {
		ExtBuilder::default().build_and_execute(|| {
			assert_noop!(
				Registration::inline(1, 100).named("", "1.0.0").register(ALICE),
				Error::<Test>::EmptyName
			);
			assert_noop!(
				Registration::inline(1, 100).named("classifier", "").register(ALICE),
				Error::<Test>::EmptyVersion
			);
		});
	}

	#[test]
	fn size_must_not_be_zero() {
		ExtBuilder::default().build_and_execute(|| {
			assert_noop!(Registration::by_uri(1, 0).register(ALICE), Error::<Test>::ZeroSize);
		});
	}

	#[test]
	fn size_is_limited_by_max_model_bytes() {
		ExtBuilder::default().build_and_execute(|| {
			assert_noop!(
				Registration::by_uri(1, 10_000_001).register(ALICE),
				Error::<Test>::ModelTooLarge
			);
			assert_ok!(Registration::by_uri(1, 10_000_000).register(ALICE));
		});
	}

	#[test]
	fn inline_bytes_are_limited_by_the_params_below_the_bound() {
		ExtBuilder::default().build_and_execute(|| {
			// The storage bound is MAX_INLINE (1024), but the parameters allow 512.
			assert_noop!(
				Registration::inline(1, 513).register(ALICE),
				Error::<Test>::InlineTooLarge
			);
			assert_ok!(Registration::inline(1, 512).register(ALICE));
			assert_eq!(held(ALICE), expected_deposit(512, desc_len()));
		});
	}

	#[test]
	fn inline_bytes_must_be_as_many_as_the_declared_size() {
		ExtBuilder::default().build_and_execute(|| {
			let reg = Registration { size: 99, ..Registration::inline(1, 100) };
			assert_noop!(reg.register(ALICE), Error::<Test>::InlineSizeMismatch);
		});
	}

	#[test]
	fn inline_bytes_must_hash_to_the_declared_hash() {
		ExtBuilder::default().build_and_execute(|| {
			let reg = Registration { hash: blake2(b"other bytes"), ..Registration::inline(1, 100) };
			assert_noop!(reg.register(ALICE), Error::<Test>::InlineHashMismatch);
		});
	}

	#[test]
	fn uri_models_need_at_least_one_uri() {
		ExtBuilder::default().build_and_execute(|| {
			let reg = Registration { source: uri_source(&[]), ..Registration::by_uri(1, 1_000) };
			assert_noop!(reg.register(ALICE), Error::<Test>::NoUris);
		});
	}

	#[test]
	fn every_uri_must_be_http_with_a_host() {
		ExtBuilder::default().build_and_execute(|| {
			let invalid: [&[&str]; 5] = [
				&["ftp://x"],
				&["https://"],
				&["https:///path"],
				&["http://host with space"],
				// One bad URI spoils the list.
				&["https://models.example/ok.onnx", "ftp://x"],
			];
			for uris in invalid {
				let reg =
					Registration { source: uri_source(uris), ..Registration::by_uri(1, 1_000) };
				assert_noop!(reg.register(ALICE), Error::<Test>::InvalidUri);
			}
			let reg = Registration {
				source: uri_source(&["http://mirror.example/m.onnx", "https://models.example/m"]),
				..Registration::by_uri(1, 1_000)
			};
			assert_ok!(reg.register(ALICE));
		});
	}

	#[test]
	fn signature_must_describe_a_real_graph() {
		ExtBuilder::default().build_and_execute(|| {
			let input = tensor("input", vec![Dim::Dynamic, Dim::Fixed(4)]);
			let output = tensor("output", vec![Dim::Fixed(3)]);
			let invalid = [
				// No inputs.
				signature_of(vec![], vec![output.clone()]),
				// Two inputs with one name.
				signature_of(vec![input.clone(), input.clone()], vec![output.clone()]),
				// A fixed dimension of zero.
				signature_of(vec![tensor("input", vec![Dim::Fixed(0)])], vec![output.clone()]),
				// An empty tensor name.
				signature_of(vec![tensor("", vec![Dim::Dynamic])], vec![output.clone()]),
			];
			for bad in invalid {
				let reg = Registration { signature: bad, ..Registration::inline(1, 100) };
				assert_noop!(reg.register(ALICE), Error::<Test>::InvalidSignature);
			}
			// An input and an output may share a name.
			let x = tensor("x", vec![Dim::Dynamic]);
			let reg = Registration {
				signature: signature_of(vec![x.clone()], vec![x]),
				..Registration::inline(1, 100)
			};
			assert_ok!(reg.register(ALICE));
		});
	}

	#[test]
	fn an_owner_cannot_register_the_same_name_and_version_twice() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Registration::inline(1, 100).register(ALICE));
			assert_noop!(
				Registration::inline(2, 100).register(ALICE),
				Error::<Test>::DuplicateVersion
			);
			assert_ok!(Registration::inline(2, 100).named("classifier", "1.0.1").register(ALICE));
		});
	}

	#[test]
	fn an_owner_cannot_register_the_same_bytes_twice() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Registration::inline(1, 100).register(ALICE));
			assert_noop!(
				Registration::inline(1, 100).named("classifier", "2.0.0").register(ALICE),
				Error::<Test>::DuplicateHash
			);
		});
	}

	#[test]
	fn an_owner_has_at_most_max_models_per_owner() {
		ExtBuilder::default().build_and_execute(|| {
			for (seed, version) in [(1, "1"), (2, "2"), (3, "3"), (4, "4")] {
				assert_ok!(Registration::by_uri(seed, 1_000).named("m", version).register(ALICE));
			}
			let fifth = Registration::by_uri(5, 1_000).named("m", "5");
			assert_noop!(fifth.clone().register(ALICE), Error::<Test>::TooManyModels);

			assert_ok!(ModelRegistry::remove(signed(ALICE), 0));
			assert_ok!(fifth.register(ALICE));
			assert_eq!(OwnedModelCount::<Test>::get(ALICE), 4);
		});
	}

	#[test]
	fn the_deposit_must_be_affordable() {
		ExtBuilder::default().balance(ALICE, 100).build_and_execute(|| {
			assert!(expected_deposit(0, desc_len()) > 100);
			assert_noop!(
				Registration::by_uri(1, 1_000).register(ALICE),
				Error::<Test>::InsufficientDeposit
			);
		});
	}
}

mod cards_and_references {
	use super::*;
	use gateless_primitives::{
		job::{InputTensors, JobTensor, TensorData},
		model::ModelCard,
		reference::{ModelReferences, ReferenceVector},
	};

	/// A tensor of `rows` x `width` f32 zeros, inline.
	fn zeros(rows: u32, width: u32) -> JobTensor {
		JobTensor {
			dtype: DType::F32,
			shape: vec![rows, width].try_into().unwrap(),
			data: TensorData::Inline(vec![0u8; (rows * width * 4) as usize].try_into().unwrap()),
		}
	}

	/// A reference of the mock signature (inputs `[n, 4]`, outputs `[n, 3]`) with `rows` rows.
	fn reference(rows: u32) -> ReferenceVector {
		ReferenceVector {
			inputs: InputTensors::new(vec![zeros(rows, 4)]).unwrap(),
			outputs: InputTensors::new(vec![zeros(rows, 3)]).unwrap(),
		}
	}

	fn card() -> ModelCard {
		ModelCard {
			task: b"image-classification".to_vec().try_into().unwrap(),
			license: b"Apache-2.0".to_vec().try_into().unwrap(),
			labels: Some(H256::repeat_byte(9)),
			inputs: b"4 features, standardised".to_vec().try_into().unwrap(),
			outputs: b"logits over 3 classes".to_vec().try_into().unwrap(),
		}
	}

	fn with_extras(references: Vec<ReferenceVector>) -> Registration {
		Registration {
			card: Some(card()),
			references: references.try_into().unwrap(),
			..Registration::inline(1, 100)
		}
	}

	#[test]
	fn the_card_and_references_are_kept_beside_the_record_and_covered_by_the_deposit() {
		ExtBuilder::default().build_and_execute(|| {
			let references = vec![reference(1), reference(1)];
			let vectors: gateless_primitives::reference::References =
				references.clone().try_into().unwrap();
			let stored = card().encoded_size() + vectors.encoded_size();
			assert_ok!(with_extras(references.clone()).register(ALICE));

			assert_eq!(Cards::<Test>::get(0), Some(card()));
			assert_eq!(
				ModelRegistry::model_references(0),
				Some(ModelReferences { vectors, checked_by: 0 })
			);
			let deposit = expected_deposit(100 + stored, desc_len());
			assert_eq!(model(0).deposit, deposit);
			assert_eq!(held(ALICE), deposit);

			// Changing the description keeps the card's and references' share of the deposit.
			assert_ok!(ModelRegistry::update_model(signed(ALICE), 0, None, Some(description("x"))));
			assert_eq!(held(ALICE), expected_deposit(100 + stored, 1));

			assert_ok!(ModelRegistry::remove(signed(ALICE), 0));
			assert_eq!(Cards::<Test>::get(0), None);
			assert_eq!(ModelRegistry::model_references(0), None);
			assert_eq!(held(ALICE), 0);
		});
	}

	#[test]
	fn a_model_without_references_stores_nothing_beside_its_record() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Registration::inline(1, 100).register(ALICE));
			assert_eq!(Cards::<Test>::get(0), None);
			assert_eq!(ModelRegistry::model_references(0), None);
			assert_eq!(held(ALICE), expected_deposit(100, desc_len()));
		});
	}

	#[test]
	fn each_validator_that_attests_the_model_loads_is_counted_as_having_checked_its_references() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(with_extras(vec![reference(2)]).register(ALICE));
			attest(V1, 0, LOADS);
			attest(V2, 0, fails(AttestationFailure::Unavailable));
			assert_eq!(ModelRegistry::model_references(0).unwrap().checked_by, 1);
			attest(V3, 0, LOADS);
			assert_eq!(model(0).status, ModelStatus::Active);
			assert_eq!(ModelRegistry::model_references(0).unwrap().checked_by, 2);
		});
	}

	#[test]
	fn references_that_the_model_does_not_give_reject_it_with_that_reason() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(with_extras(vec![reference(1)]).register(ALICE));
			attest(V1, 0, fails(AttestationFailure::ReferenceMismatch));
			attest(V2, 0, fails(AttestationFailure::ReferenceMismatch));
			let reason = RejectionReason::Attested(AttestationFailure::ReferenceMismatch);
			assert_eq!(model(0).status, ModelStatus::Rejected(reason));
			assert_eq!(ModelRegistry::model_references(0).unwrap().checked_by, 0);
			// The record keeps what covers the card and the references until it is removed.
			assert_eq!(held(ALICE), model(0).deposit);
		});
	}

	#[test]
	fn references_must_fit_the_signature() {
		ExtBuilder::default().build_and_execute(|| {
			let wrong_width = ReferenceVector {
				inputs: InputTensors::new(vec![zeros(1, 5)]).unwrap(),
				outputs: InputTensors::new(vec![zeros(1, 3)]).unwrap(),
			};
			let wrong_output = ReferenceVector {
				inputs: InputTensors::new(vec![zeros(1, 4)]).unwrap(),
				outputs: InputTensors::new(vec![zeros(1, 4)]).unwrap(),
			};
			let no_outputs = ReferenceVector {
				inputs: InputTensors::new(vec![zeros(1, 4)]).unwrap(),
				outputs: InputTensors::default(),
			};
			for bad in [wrong_width, wrong_output, no_outputs] {
				assert_noop!(
					with_extras(vec![reference(1), bad]).register(ALICE),
					Error::<Test>::InvalidReference
				);
			}
		});
	}

	#[test]
	fn references_carry_at_most_max_reference_bytes_inline() {
		ExtBuilder::default().build_and_execute(|| {
			// 28 bytes a row: two rows fit the mock's 64 bytes, three do not.
			assert_noop!(
				with_extras(vec![reference(1), reference(1), reference(1)]).register(ALICE),
				Error::<Test>::ReferencesTooLarge
			);
			assert_ok!(with_extras(vec![reference(1), reference(1)]).register(ALICE));
		});
	}

	#[test]
	fn a_card_is_text() {
		ExtBuilder::default().build_and_execute(|| {
			let mut registration = with_extras(vec![]);
			registration.card.as_mut().unwrap().license = vec![0xff, 0xfe].try_into().unwrap();
			assert_noop!(registration.register(ALICE), Error::<Test>::InvalidCard);
		});
	}
}

mod attest_model {
	use super::*;

	#[test]
	fn validators_find_the_pending_models_they_have_not_attested() {
		ExtBuilder::default().build_and_execute(|| {
			let unattested_by = |validator| {
				let mut models: Vec<ModelId> =
					ModelRegistry::pending_models_unattested_by(&validator).collect();
				models.sort_unstable();
				models
			};
			assert_ok!(Registration::inline(1, 100).register(ALICE));
			assert_ok!(Registration::inline(2, 100).named("second", "1.0.0").register(ALICE));
			assert!(ModelRegistry::is_pending(0) && ModelRegistry::is_pending(1));
			assert_eq!(unattested_by(V1), vec![0, 1]);

			attest(V1, 0, LOADS);
			assert_eq!(unattested_by(V1), vec![1]);
			assert_eq!(unattested_by(V2), vec![0, 1]);

			// Decided: pending for nobody.
			attest(V2, 0, LOADS);
			assert!(!ModelRegistry::is_pending(0));
			assert_eq!(unattested_by(V3), vec![1]);
		});
	}

	#[test]
	fn a_first_attestation_keeps_the_model_pending_and_is_free() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Registration::inline(1, 100).register(ALICE));

			let post = ModelRegistry::attest_model(signed(V1), 0, LOADS).unwrap();
			assert_eq!(post.pays_fee, Pays::No);

			assert_eq!(model(0).status, ModelStatus::Pending);
			assert_eq!(ModelRegistry::attestation_tally(0), tally(1, 0, 2));
			System::assert_last_event(
				Event::<Test>::ModelAttested { model: 0, validator: V1, verdict: LOADS }.into(),
			);
		});
	}

	#[test]
	fn a_quorum_of_loads_activates_the_model() {
		ExtBuilder::default().build_and_execute(|| {
			let deposit = expected_deposit(100, desc_len());
			assert_ok!(Registration::inline(1, 100).register(ALICE));

			attest(V1, 0, LOADS);
			attest(V2, 0, fails(AttestationFailure::Unavailable));
			assert_eq!(ModelRegistry::attestation_tally(0), tally(1, 1, 2));
			assert_eq!(model(0).status, ModelStatus::Pending);
			attest(V3, 0, LOADS);

			assert_eq!(model(0).status, ModelStatus::Active);
			assert!(!Attestations::<Test>::contains_key(0));
			assert_eq!(ModelRegistry::attestation_tally(0), None);
			assert!(ModelRegistry::inline_bytes(0).is_some());
			assert_eq!(held(ALICE), deposit);
			let attested = |validator: AccountId, verdict: Verdict| Event::<Test>::ModelAttested {
				model: 0,
				validator,
				verdict,
			};
			assert_eq!(
				registry_events()[1..].to_vec(),
				vec![
					attested(V1, LOADS),
					attested(V2, fails(AttestationFailure::Unavailable)),
					attested(V3, LOADS),
					Event::<Test>::ModelActivated { model: 0 },
				]
			);
		});
	}

	#[test]
	fn a_quorum_of_failures_rejects_slashes_the_penalty_and_keeps_the_record_deposit() {
		ExtBuilder::default().build_and_execute(|| {
			let deposit = expected_deposit(103, desc_len());
			let record_deposit = expected_deposit(0, desc_len());
			let penalty = Perbill::from_percent(10) * deposit;
			let returned = deposit - penalty - record_deposit;
			assert_ok!(Registration::inline(1, 103).register(ALICE));
			let issuance = Balances::total_issuance();
			let free = Balances::free_balance(ALICE);

			attest(V1, 0, fails(AttestationFailure::HashMismatch));
			assert_eq!(model(0).status, ModelStatus::Pending);
			attest(V2, 0, fails(AttestationFailure::HashMismatch));

			let reason = RejectionReason::Attested(AttestationFailure::HashMismatch);
			assert_eq!(model(0).status, ModelStatus::Rejected(reason));
			assert!(ModelRegistry::inline_bytes(0).is_none());
			assert!(!Attestations::<Test>::contains_key(0));
			assert_eq!(Balances::total_issuance(), issuance - penalty);
			assert_eq!(held(ALICE), record_deposit);
			assert_eq!(model(0).deposit, record_deposit);
			assert_eq!(Balances::free_balance(ALICE), free + returned);
			System::assert_last_event(
				Event::<Test>::ModelRejected { model: 0, reason, penalty, returned }.into(),
			);
		});
	}

	#[test]
	fn the_most_reported_failure_is_the_reason() {
		ExtBuilder::default().build_and_execute(|| {
			// Five validators: the threshold is ⌈2/3 × 5⌉ = 4.
			TestValidators::set(vec![V1, V2, V3, 14, 15]);
			assert_ok!(Registration::by_uri(1, 1_000).register(ALICE));

			attest(V1, 0, fails(AttestationFailure::Malformed));
			attest(V2, 0, fails(AttestationFailure::HashMismatch));
			attest(V3, 0, fails(AttestationFailure::HashMismatch));
			assert_eq!(ModelRegistry::attestation_tally(0), tally(0, 3, 4));
			attest(14, 0, fails(AttestationFailure::Unavailable));

			assert_eq!(
				model(0).status,
				ModelStatus::Rejected(RejectionReason::Attested(AttestationFailure::HashMismatch))
			);
		});
	}

	#[test]
	fn equally_reported_failures_resolve_to_the_first_reported() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Registration::by_uri(1, 1_000).register(ALICE));
			attest(V1, 0, fails(AttestationFailure::Unavailable));
			attest(V2, 0, fails(AttestationFailure::Malformed));
			assert_eq!(
				model(0).status,
				ModelStatus::Rejected(RejectionReason::Attested(AttestationFailure::Unavailable))
			);
		});
	}

	#[test]
	fn an_activated_model_keeps_the_median_of_the_quorums_compute_estimates() {
		ExtBuilder::default().build_and_execute(|| {
			TestValidators::set(vec![V1, V2, V3, 14, 15]);
			assert_ok!(Registration::inline(1, 100).register(ALICE));
			// Four of five must agree. One liar claims a huge compute, one a tiny one; a failure
			// carries no estimate.
			attest(V1, 0, loads(1_000, 10));
			attest(V2, 0, loads(u64::MAX, 1_000_000));
			attest(V3, 0, fails(AttestationFailure::Unavailable));
			attest(14, 0, loads(0, 0));
			assert_eq!(ModelRegistry::compute(0), None, "pending: no estimate yet");
			attest(15, 0, loads(1_200, 11));
			assert_eq!(model(0).status, ModelStatus::Active);
			// Per field, the lower middle of (0, 1000, 1200, MAX) and of (0, 10, 11, 1e6).
			assert_eq!(
				ModelRegistry::compute(0),
				Some(ComputeCost { fixed: 1_000, per_element: FixedU64::from_u32(10) })
			);

			// Removed with its model.
			assert_ok!(ModelRegistry::remove(signed(ALICE), 0));
			assert_eq!(ModelRegistry::compute(0), None);
		});
	}

	#[test]
	fn the_threshold_follows_the_active_set_and_past_attestations_count() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Registration::by_uri(1, 1_000).register(ALICE));
			attest(V1, 0, LOADS);
			assert_eq!(ModelRegistry::attestation_tally(0), tally(1, 0, 2));

			// V1 leaves, three join: five validators, threshold 4; V1's attestation still counts.
			TestValidators::set(vec![V2, V3, 14, 15, 16]);
			assert_eq!(ModelRegistry::attestation_tally(0), tally(1, 0, 4));
			attest(V2, 0, LOADS);
			attest(V3, 0, LOADS);
			assert_eq!(model(0).status, ModelStatus::Pending);
			attest(14, 0, LOADS);
			assert_eq!(model(0).status, ModelStatus::Active);
		});
	}

	#[test]
	fn only_active_validators_attest() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Registration::by_uri(1, 1_000).register(ALICE));
			for who in [NOBODY, ALICE] {
				assert_noop!(
					ModelRegistry::attest_model(signed(who), 0, LOADS),
					Error::<Test>::NotValidator
				);
			}
		});
	}

	#[test]
	fn an_unknown_model_cannot_be_attested() {
		ExtBuilder::default().build_and_execute(|| {
			assert_noop!(
				ModelRegistry::attest_model(signed(V1), 7, LOADS),
				Error::<Test>::UnknownModel
			);
		});
	}

	#[test]
	fn a_decided_model_takes_no_more_attestations() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Registration::by_uri(1, 1_000).register(ALICE));
			assert_ok!(Registration::by_uri(2, 1_000).named("other", "1").register(ALICE));
			attest(V1, 0, LOADS);
			attest(V2, 0, LOADS);
			attest(V1, 1, fails(AttestationFailure::Unsupported));
			attest(V2, 1, fails(AttestationFailure::Unsupported));

			for id in [0, 1] {
				assert_noop!(
					ModelRegistry::attest_model(signed(V3), id, LOADS),
					Error::<Test>::NotPending
				);
			}
		});
	}

	#[test]
	fn a_validator_attests_once() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Registration::by_uri(1, 1_000).register(ALICE));
			attest(V1, 0, fails(AttestationFailure::TooLarge));
			assert_noop!(
				ModelRegistry::attest_model(signed(V1), 0, LOADS),
				Error::<Test>::AlreadyAttested
			);
		});
	}

	#[test]
	fn attestations_are_bounded_by_max_attestations() {
		ExtBuilder::default().build_and_execute(|| {
			// Ten validators, threshold 7, but room for only 5 attestations.
			TestValidators::set((11..=20).collect());
			assert_ok!(Registration::by_uri(1, 1_000).register(ALICE));
			for validator in 11..=13 {
				attest(validator, 0, LOADS);
			}
			for validator in 14..=15 {
				attest(validator, 0, fails(AttestationFailure::Unavailable));
			}
			assert_eq!(ModelRegistry::attestation_tally(0), tally(3, 2, 7));

			assert_noop!(
				ModelRegistry::attest_model(signed(16), 0, LOADS),
				Error::<Test>::TooManyAttestations
			);
		});
	}
}

mod update_model {
	use super::*;

	#[test]
	fn changing_only_the_price_keeps_the_deposit() {
		ExtBuilder::default().build_and_execute(|| {
			let deposit = expected_deposit(100, desc_len());
			assert_ok!(Registration::inline(1, 100).register(ALICE));

			assert_ok!(ModelRegistry::update_model(signed(ALICE), 0, Some(70), None));

			assert_eq!(model(0).price, 70);
			assert_eq!(model(0).deposit, deposit);
			assert_eq!(held(ALICE), deposit);
			System::assert_last_event(
				Event::<Test>::ModelUpdated { model: 0, price: 70, deposit }.into(),
			);
		});
	}

	#[test]
	fn a_longer_description_holds_more_and_a_shorter_one_releases() {
		ExtBuilder::default().build_and_execute(|| {
			let reg = Registration::inline(1, 100);
			let price = reg.price;
			assert_ok!(reg.register(ALICE));

			let long = description(&"x".repeat(50));
			assert_ok!(ModelRegistry::update_model(signed(ALICE), 0, None, Some(long.clone())));
			let grown = expected_deposit(100, 50);
			assert_eq!(model(0).description, long);
			assert_eq!(model(0).deposit, grown);
			assert_eq!(held(ALICE), grown);
			assert_eq!(Balances::free_balance(ALICE), INITIAL_BALANCE - grown);
			System::assert_last_event(
				Event::<Test>::ModelUpdated { model: 0, price, deposit: grown }.into(),
			);

			assert_ok!(ModelRegistry::update_model(
				signed(ALICE),
				0,
				None,
				Some(description("MIT"))
			));
			let shrunk = expected_deposit(100, 3);
			assert_eq!(model(0).deposit, shrunk);
			assert_eq!(held(ALICE), shrunk);
			assert_eq!(Balances::free_balance(ALICE), INITIAL_BALANCE - shrunk);
			System::assert_last_event(
				Event::<Test>::ModelUpdated { model: 0, price, deposit: shrunk }.into(),
			);
		});
	}

	#[test]
	fn an_update_must_change_something() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Registration::inline(1, 100).register(ALICE));
			assert_noop!(
				ModelRegistry::update_model(signed(ALICE), 0, None, None),
				Error::<Test>::NothingToUpdate
			);
		});
	}

	#[test]
	fn only_the_owner_updates_an_open_model() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Registration::inline(1, 100).register(ALICE));
			assert_noop!(
				ModelRegistry::update_model(signed(ALICE), 9, Some(1), None),
				Error::<Test>::UnknownModel
			);
			assert_noop!(
				ModelRegistry::update_model(signed(BOB), 0, Some(1), None),
				Error::<Test>::NotOwner
			);
			assert_ok!(ModelRegistry::force_reject(root(), 0));
			assert_noop!(
				ModelRegistry::update_model(signed(ALICE), 0, Some(1), None),
				Error::<Test>::ModelClosed
			);
		});
	}

	#[test]
	fn a_longer_description_must_be_affordable() {
		ExtBuilder::default().balance(ALICE, 200).build_and_execute(|| {
			assert_ok!(Registration::by_uri(1, 1_000).register(ALICE));
			assert_noop!(
				ModelRegistry::update_model(
					signed(ALICE),
					0,
					None,
					Some(description(&"x".repeat(100)))
				),
				Error::<Test>::InsufficientDeposit
			);
		});
	}
}

mod transfer_ownership {
	use super::*;

	#[test]
	fn the_model_and_its_held_deposit_move_to_the_new_owner() {
		ExtBuilder::default().build_and_execute(|| {
			let deposit = expected_deposit(100, desc_len());
			assert_ok!(Registration::inline(1, 100).register(ALICE));

			assert_ok!(ModelRegistry::transfer_ownership(signed(ALICE), 0, BOB));

			System::assert_last_event(
				Event::<Test>::OwnershipTransferred { model: 0, from: ALICE, to: BOB }.into(),
			);
			assert_eq!(model(0).owner, BOB);
			assert_eq!(held(ALICE), 0);
			assert_eq!(held(BOB), deposit);
			assert_eq!(Balances::free_balance(BOB), INITIAL_BALANCE);
			assert!(ModelRegistry::models_of(&ALICE).is_empty());
			assert_eq!(ModelRegistry::models_of(&BOB), vec![0]);
			assert_eq!(OwnedModelCount::<Test>::get(ALICE), 0);
			assert_eq!(ModelRegistry::latest_version(&BOB, b"classifier"), Some(0));
			// ALICE's name and bytes are free again; the model is no longer hers.
			assert_ok!(Registration::inline(1, 100).register(ALICE));
			assert_noop!(ModelRegistry::deprecate(signed(ALICE), 0), Error::<Test>::NotOwner);

			assert_ok!(ModelRegistry::deprecate(signed(BOB), 0));
			assert_ok!(ModelRegistry::remove(signed(BOB), 0));
			System::assert_last_event(
				Event::<Test>::ModelRemoved { model: 0, returned: deposit }.into(),
			);
			assert_eq!(held(BOB), 0);
			assert_eq!(Balances::free_balance(BOB), INITIAL_BALANCE + deposit);
			assert_eq!(Balances::free_balance(ALICE), INITIAL_BALANCE - 2 * deposit);
		});
	}

	#[test]
	fn a_model_cannot_be_transferred_to_its_owner() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Registration::inline(1, 100).register(ALICE));
			assert_noop!(
				ModelRegistry::transfer_ownership(signed(ALICE), 0, ALICE),
				Error::<Test>::SameOwner
			);
		});
	}

	#[test]
	fn the_new_owner_needs_an_account_to_hold_the_deposit() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Registration::inline(1, 100).register(ALICE));
			assert_noop!(
				ModelRegistry::transfer_ownership(signed(ALICE), 0, NOBODY),
				Error::<Test>::NewOwnerWithoutAccount
			);
		});
	}

	#[test]
	fn the_new_owner_must_not_have_the_version_or_the_bytes() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Registration::inline(1, 100).register(ALICE));
			// BOB has another model under the same name and version.
			assert_ok!(Registration::by_uri(2, 1_000).register(BOB));
			// CHARLIE has the same bytes under another name.
			assert_ok!(Registration::inline(1, 100).named("copy", "1").register(CHARLIE));

			assert_noop!(
				ModelRegistry::transfer_ownership(signed(ALICE), 0, BOB),
				Error::<Test>::DuplicateVersion
			);
			assert_noop!(
				ModelRegistry::transfer_ownership(signed(ALICE), 0, CHARLIE),
				Error::<Test>::DuplicateHash
			);
		});
	}

	#[test]
	fn the_new_owner_must_have_room() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Registration::inline(1, 100).register(ALICE));
			for (seed, version) in [(10, "1"), (11, "2"), (12, "3"), (13, "4")] {
				assert_ok!(Registration::by_uri(seed, 1_000).named("m", version).register(BOB));
			}
			assert_noop!(
				ModelRegistry::transfer_ownership(signed(ALICE), 0, BOB),
				Error::<Test>::TooManyModels
			);
		});
	}

	#[test]
	fn only_the_owner_transfers_an_open_model() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Registration::inline(1, 100).register(ALICE));
			assert_noop!(
				ModelRegistry::transfer_ownership(signed(ALICE), 5, BOB),
				Error::<Test>::UnknownModel
			);
			assert_noop!(
				ModelRegistry::transfer_ownership(signed(BOB), 0, CHARLIE),
				Error::<Test>::NotOwner
			);
			assert_ok!(ModelRegistry::ban_model(root(), 0));
			assert_noop!(
				ModelRegistry::transfer_ownership(signed(ALICE), 0, BOB),
				Error::<Test>::ModelClosed
			);
		});
	}
}

mod deprecate {
	use super::*;

	#[test]
	fn deprecating_marks_the_model_deprecated_once() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Registration::by_uri(1, 1_000).register(ALICE));
			attest(V1, 0, LOADS);
			attest(V2, 0, LOADS);

			assert_ok!(ModelRegistry::deprecate(signed(ALICE), 0));
			assert_eq!(model(0).status, ModelStatus::Deprecated);
			assert_eq!(held(ALICE), expected_deposit(0, desc_len()));
			System::assert_last_event(Event::<Test>::ModelDeprecated { model: 0 }.into());

			assert_noop!(
				ModelRegistry::deprecate(signed(ALICE), 0),
				Error::<Test>::AlreadyDeprecated
			);
		});
	}

	#[test]
	fn deprecating_a_pending_model_ends_its_attestation() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Registration::by_uri(1, 1_000).register(ALICE));
			attest(V1, 0, LOADS);

			assert_ok!(ModelRegistry::deprecate(signed(ALICE), 0));
			assert!(!Attestations::<Test>::contains_key(0));
			assert_eq!(ModelRegistry::attestation_tally(0), None);
			assert_noop!(
				ModelRegistry::attest_model(signed(V2), 0, LOADS),
				Error::<Test>::NotPending
			);
		});
	}

	#[test]
	fn only_the_owner_deprecates_an_open_model() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Registration::by_uri(1, 1_000).register(ALICE));
			assert_noop!(ModelRegistry::deprecate(signed(ALICE), 3), Error::<Test>::UnknownModel);
			assert_noop!(ModelRegistry::deprecate(signed(BOB), 0), Error::<Test>::NotOwner);
			assert_ok!(ModelRegistry::force_reject(root(), 0));
			assert_noop!(ModelRegistry::deprecate(signed(ALICE), 0), Error::<Test>::ModelClosed);
		});
	}
}

mod remove {
	use super::*;

	#[test]
	fn removing_returns_the_deposit_and_frees_the_name_and_bytes() {
		ExtBuilder::default().build_and_execute(|| {
			let reg = Registration::inline(1, 100);
			assert_ok!(reg.clone().register(ALICE));
			attest(V1, 0, LOADS);

			assert_ok!(ModelRegistry::remove(signed(ALICE), 0));

			System::assert_last_event(
				Event::<Test>::ModelRemoved {
					model: 0,
					returned: expected_deposit(100, desc_len()),
				}
				.into(),
			);
			assert_eq!(held(ALICE), 0);
			assert_eq!(Balances::free_balance(ALICE), INITIAL_BALANCE);
			assert!(Models::<Test>::get(0).is_none());
			assert!(ModelRegistry::inline_bytes(0).is_none());
			assert!(!Attestations::<Test>::contains_key(0));
			assert!(ModelRegistry::models_of(&ALICE).is_empty());
			let (name, version) = (model_name("classifier"), model_version("1.0.0"));
			assert_eq!(ModelByName::<Test>::get((&ALICE, &name, &version)), None);
			assert_eq!(ModelByHash::<Test>::get(ALICE, reg.hash), None);
			assert_noop!(ModelRegistry::remove(signed(ALICE), 0), Error::<Test>::UnknownModel);

			// The same name, version and bytes can be registered again, under a new id.
			assert_ok!(reg.register(ALICE));
			assert_eq!(model(1).status, ModelStatus::Pending);
		});
	}

	#[test]
	fn removing_a_rejected_model_returns_the_record_deposit() {
		ExtBuilder::default().build_and_execute(|| {
			let deposit = expected_deposit(103, desc_len());
			let record_deposit = expected_deposit(0, desc_len());
			let penalty = Perbill::from_percent(10) * deposit;
			assert_ok!(Registration::inline(1, 103).register(ALICE));
			attest(V1, 0, fails(AttestationFailure::SignatureMismatch));
			attest(V2, 0, fails(AttestationFailure::SignatureMismatch));
			assert_eq!(held(ALICE), record_deposit);

			assert_ok!(ModelRegistry::remove(signed(ALICE), 0));

			System::assert_last_event(
				Event::<Test>::ModelRemoved { model: 0, returned: record_deposit }.into(),
			);
			assert_eq!(held(ALICE), 0);
			assert_eq!(Balances::free_balance(ALICE), INITIAL_BALANCE - penalty);
		});
	}

	#[test]
	fn a_model_in_use_cannot_be_removed() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Registration::by_uri(1, 1_000).register(ALICE));
			TestUsage::set_in_use(0, true);
			assert_noop!(ModelRegistry::remove(signed(ALICE), 0), Error::<Test>::ModelInUse);
			// It can still be deprecated, and removed once no job uses it.
			assert_ok!(ModelRegistry::deprecate(signed(ALICE), 0));
			TestUsage::set_in_use(0, false);
			assert_ok!(ModelRegistry::remove(signed(ALICE), 0));
		});
	}

	#[test]
	fn only_the_owner_removes() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Registration::by_uri(1, 1_000).register(ALICE));
			assert_noop!(ModelRegistry::remove(signed(BOB), 0), Error::<Test>::NotOwner);
		});
	}
}

mod force_reject {
	use super::*;

	#[test]
	fn the_admin_rejects_an_active_model_with_the_penalty() {
		ExtBuilder::default().build_and_execute(|| {
			let deposit = expected_deposit(103, desc_len());
			let record_deposit = expected_deposit(0, desc_len());
			let penalty = Perbill::from_percent(10) * deposit;
			assert_ok!(Registration::inline(1, 103).register(ALICE));
			attest(V1, 0, LOADS);
			attest(V2, 0, LOADS);
			let issuance = Balances::total_issuance();

			assert_ok!(ModelRegistry::force_reject(root(), 0));

			assert_eq!(model(0).status, ModelStatus::Rejected(RejectionReason::Admin));
			assert!(ModelRegistry::inline_bytes(0).is_none());
			assert_eq!(held(ALICE), record_deposit);
			assert_eq!(Balances::total_issuance(), issuance - penalty);
			System::assert_last_event(
				Event::<Test>::ModelRejected {
					model: 0,
					reason: RejectionReason::Admin,
					penalty,
					returned: deposit - penalty - record_deposit,
				}
				.into(),
			);
		});
	}

	#[test]
	fn rejecting_a_pending_model_drops_its_attestations() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Registration::by_uri(1, 1_000).register(ALICE));
			attest(V1, 0, LOADS);
			assert!(Attestations::<Test>::contains_key(0));

			assert_ok!(ModelRegistry::force_reject(root(), 0));

			assert!(!Attestations::<Test>::contains_key(0));
			assert_eq!(model(0).status, ModelStatus::Rejected(RejectionReason::Admin));
		});
	}

	#[test]
	fn only_the_admin_force_rejects_an_open_model() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Registration::by_uri(1, 1_000).register(ALICE));
			assert_noop!(ModelRegistry::force_reject(signed(ALICE), 0), DispatchError::BadOrigin);
			assert_noop!(ModelRegistry::force_reject(root(), 4), Error::<Test>::UnknownModel);
			assert_ok!(ModelRegistry::force_reject(root(), 0));
			assert_noop!(ModelRegistry::force_reject(root(), 0), Error::<Test>::ModelClosed);
		});
	}
}

mod ban_model {
	use super::*;

	#[test]
	fn a_ban_slashes_the_whole_deposit_and_refuses_the_hash_from_anyone() {
		ExtBuilder::default().build_and_execute(|| {
			let deposit = expected_deposit(100, desc_len());
			let reg = Registration::inline(1, 100);
			assert_ok!(reg.clone().register(ALICE));
			let issuance = Balances::total_issuance();

			assert_ok!(ModelRegistry::ban_model(root(), 0));

			assert_eq!(model(0).status, ModelStatus::Banned);
			assert_eq!(model(0).deposit, 0);
			assert_eq!(held(ALICE), 0);
			assert_eq!(Balances::free_balance(ALICE), INITIAL_BALANCE - deposit);
			assert_eq!(Balances::total_issuance(), issuance - deposit);
			assert!(ModelRegistry::inline_bytes(0).is_none());
			assert!(BannedHashes::<Test>::contains_key(reg.hash));
			System::assert_last_event(
				Event::<Test>::ModelBanned { model: 0, hash: reg.hash, slashed: deposit }.into(),
			);

			assert_noop!(reg.register(BOB), Error::<Test>::HashBanned);
		});
	}

	#[test]
	fn the_owner_can_still_remove_a_banned_model_but_not_reuse_its_hash() {
		ExtBuilder::default().build_and_execute(|| {
			let reg = Registration::inline(1, 100);
			assert_ok!(reg.clone().register(ALICE));
			assert_ok!(ModelRegistry::ban_model(root(), 0));

			assert_ok!(ModelRegistry::remove(signed(ALICE), 0));

			System::assert_last_event(Event::<Test>::ModelRemoved { model: 0, returned: 0 }.into());
			assert!(Models::<Test>::get(0).is_none());
			assert!(BannedHashes::<Test>::contains_key(reg.hash));
			assert_noop!(reg.register(ALICE), Error::<Test>::HashBanned);
		});
	}

	#[test]
	fn only_the_admin_bans_and_only_once() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Registration::by_uri(1, 1_000).register(ALICE));
			assert_noop!(ModelRegistry::ban_model(signed(BOB), 0), DispatchError::BadOrigin);
			assert_noop!(ModelRegistry::ban_model(root(), 8), Error::<Test>::UnknownModel);
			assert_ok!(ModelRegistry::ban_model(root(), 0));
			assert_noop!(ModelRegistry::ban_model(root(), 0), Error::<Test>::AlreadyBanned);
		});
	}
}

mod set_params {
	use super::*;

	#[test]
	fn new_params_apply_to_later_registrations() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Registration::by_uri(1, 1_000).register(ALICE));
			let params = RegistryParams { deposit_base: 500, ..DefaultParams::get() };

			assert_ok!(ModelRegistry::set_params(root(), params));

			System::assert_last_event(Event::<Test>::ParamsSet { params }.into());
			assert_eq!(Params::<Test>::get(), params);
			let deposit = 500 + DEPOSIT_PER_BYTE * desc_len() as Balance;
			assert_eq!(ModelRegistry::registration_deposit(0, desc_len() as u32), deposit);
			assert_ok!(Registration::by_uri(2, 1_000).register(BOB));
			assert_eq!(held(BOB), deposit);
			// Deposits already held do not change.
			assert_eq!(held(ALICE), expected_deposit(0, desc_len()));
		});
	}

	#[test]
	fn the_inline_limit_may_be_raised_up_to_the_bound() {
		ExtBuilder::default().build_and_execute(|| {
			let params = RegistryParams { max_inline_bytes: MAX_INLINE, ..DefaultParams::get() };
			assert_ok!(ModelRegistry::set_params(root(), params));
			assert_ok!(Registration::inline(1, 513).register(ALICE));
			assert_eq!(held(ALICE), expected_deposit(513, desc_len()));
		});
	}

	#[test]
	fn invalid_params_are_refused() {
		ExtBuilder::default().build_and_execute(|| {
			let default = DefaultParams::get();
			for params in [
				// A quorum of half could decide a model both ways.
				RegistryParams { attestation_quorum: Perbill::from_percent(50), ..default },
				// The inline limit is above the storage bound.
				RegistryParams { max_inline_bytes: MAX_INLINE + 1, ..default },
				// Models may not be smaller than inline ones.
				RegistryParams { max_inline_bytes: 512, max_model_bytes: 511, ..default },
			] {
				assert_noop!(
					ModelRegistry::set_params(root(), params),
					Error::<Test>::InvalidParams
				);
			}
			assert_noop!(
				ModelRegistry::set_params(signed(ALICE), default),
				DispatchError::BadOrigin
			);
		});
	}
}

mod lookups {
	use super::*;

	#[test]
	fn models_page_pages_in_id_order_and_skips_removed_ids() {
		ExtBuilder::default().build_and_execute(|| {
			for (seed, version) in [(1, "1"), (2, "2"), (3, "3")] {
				assert_ok!(Registration::by_uri(seed, 1_000).named("m", version).register(ALICE));
			}
			assert_eq!(page(0, 2), (vec![0, 1], Some(2)));
			assert_eq!(page(2, 2), (vec![2], None));
			assert_eq!(page(0, 10), (vec![0, 1, 2], None));
			assert_eq!(page(5, 2), (vec![], None));
			assert_eq!(ModelRegistry::models_page(1, 1).models, vec![(1, model(1))]);

			assert_ok!(ModelRegistry::remove(signed(ALICE), 1));
			assert_eq!(page(0, 2), (vec![0, 2], None));
			assert_eq!(page(0, 1), (vec![0], Some(1)));
			assert_eq!(page(1, 1), (vec![2], None));
		});
	}

	#[test]
	fn latest_version_is_the_most_recent_one_present() {
		ExtBuilder::default().build_and_execute(|| {
			let register = |seed: u8, name: &'static str, version: &'static str, owner| {
				assert_ok!(Registration::by_uri(seed, 1_000).named(name, version).register(owner));
			};
			register(1, "classifier", "1.0.0", ALICE);
			register(2, "detector", "1.0.0", ALICE);
			register(3, "classifier", "2.0.0", ALICE);
			register(4, "classifier", "3.0.0", BOB);

			assert_eq!(ModelRegistry::latest_version(&ALICE, b"classifier"), Some(2));
			assert_eq!(ModelRegistry::latest_version(&ALICE, b"detector"), Some(1));
			assert_eq!(ModelRegistry::latest_version(&BOB, b"classifier"), Some(3));
			assert_eq!(ModelRegistry::latest_version(&CHARLIE, b"classifier"), None);
			assert_eq!(ModelRegistry::latest_version(&ALICE, b"unknown"), None);

			assert_ok!(ModelRegistry::remove(signed(ALICE), 2));
			assert_eq!(ModelRegistry::latest_version(&ALICE, b"classifier"), Some(0));
			assert_ok!(ModelRegistry::remove(signed(ALICE), 0));
			assert_eq!(ModelRegistry::latest_version(&ALICE, b"classifier"), None);
		});
	}

	#[test]
	fn models_of_lists_an_owners_models_in_id_order() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Registration::by_uri(1, 1_000).named("m", "1").register(ALICE));
			assert_ok!(Registration::by_uri(2, 1_000).named("m", "1").register(BOB));
			for (seed, version) in [(3, "2"), (4, "3"), (5, "4")] {
				assert_ok!(Registration::by_uri(seed, 1_000).named("m", version).register(ALICE));
			}
			assert_eq!(ModelRegistry::models_of(&ALICE), vec![0, 2, 3, 4]);
			assert_eq!(ModelRegistry::models_of(&BOB), vec![1]);
			assert!(ModelRegistry::models_of(&CHARLIE).is_empty());
		});
	}
}

mod try_state {
	use super::*;

	#[test]
	fn try_state_catches_deposits_and_storage_out_of_step() {
		ExtBuilder::default().build().execute_with(|| {
			assert_ok!(Registration::inline(1, 100).register(ALICE));
			assert_ok!(ModelRegistry::do_try_state());

			// Release part of the deposit behind the registry's back.
			let reason: RuntimeHoldReason = HoldReason::ModelDeposit.into();
			assert_ok!(<Balances as MutateHold<_>>::release(&reason, &ALICE, 1, Precision::Exact));
			assert!(ModelRegistry::do_try_state().is_err());
			assert_ok!(<Balances as MutateHold<_>>::hold(&reason, &ALICE, 1));
			assert_ok!(ModelRegistry::do_try_state());

			// Drop the inline bytes of a pending inline model.
			InlineBytes::<Test>::remove(0);
			assert!(ModelRegistry::do_try_state().is_err());
		});
	}
}

mod attest_model_as {
	use super::*;
	use frame_support::{
		dispatch::GetDispatchInfo,
		traits::{Authorize, UnfilteredDispatchable},
	};
	use sp_core::Pair;
	use sp_runtime::transaction_validity::{
		InvalidTransaction, TransactionSource, TransactionValidityError,
	};

	fn signed_attestation(
		signer: AccountId,
		validator: AccountId,
		model: ModelId,
		verdict: Verdict,
	) -> crate::Call<Test> {
		let payload = ModelRegistry::attestation_payload(model, verdict, &validator);
		crate::Call::attest_model_as {
			model,
			verdict,
			validator,
			signature: key_pair(signer).sign(&payload).into(),
		}
	}

	/// What the transaction pool says about `call`: `Ok` or the error's index.
	fn pool_check(call: &crate::Call<Test>) -> Result<(), u8> {
		match call.authorize(TransactionSource::External).expect("the call is authorized") {
			Ok(_) => Ok(()),
			Err(TransactionValidityError::Invalid(InvalidTransaction::Custom(code))) => Err(code),
			Err(other) => panic!("unexpected validity error {other:?}"),
		}
	}

	fn index_of(error: Error<Test>) -> u8 {
		codec::Encode::encode(&error)[0]
	}

	#[test]
	fn a_validator_key_attests_for_free_and_decides_the_model() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Registration::inline(1, 100).register(ALICE));
			for validator in [V1, V2] {
				let call = signed_attestation(validator, validator, 0, LOADS);
				assert_eq!(pool_check(&call), Ok(()));
				let info =
					call.clone().dispatch_bypass_filter(frame_system::RawOrigin::Authorized.into());
				assert_eq!(info.map(|post| post.pays_fee), Ok(Pays::No));
				assert_eq!(call.get_dispatch_info().pays_fee, Pays::Yes);
			}
			// Two of three validators reach the default quorum.
			assert_eq!(model(0).status, ModelStatus::Active);
			System::assert_has_event(Event::ModelActivated { model: 0 }.into());
		});
	}

	#[test]
	fn forged_stranger_duplicate_and_late_attestations_never_reach_a_block() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Registration::inline(1, 100).register(ALICE));
			// Signed by another key than the validator's.
			let forged = signed_attestation(V2, V1, 0, LOADS);
			assert_eq!(pool_check(&forged), Err(index_of(Error::<Test>::BadSignature)));
			assert_noop!(
				forged.dispatch_bypass_filter(frame_system::RawOrigin::Authorized.into()),
				Error::<Test>::BadSignature
			);
			// The signature covers the verdict: a changed verdict is a forgery.
			let payload = ModelRegistry::attestation_payload(0, LOADS, &V1);
			let tampered = crate::Call::<Test>::attest_model_as {
				model: 0,
				verdict: fails(AttestationFailure::Malformed),
				validator: V1,
				signature: key_pair(V1).sign(&payload).into(),
			};
			assert_eq!(pool_check(&tampered), Err(index_of(Error::<Test>::BadSignature)));
			// A validator without an inference key.
			TestValidators::set(vec![V1, V2, V3, KEYLESS]);
			let keyless = signed_attestation(KEYLESS, KEYLESS, 0, LOADS);
			assert_eq!(pool_check(&keyless), Err(index_of(Error::<Test>::NoInferenceKey)));
			assert_noop!(
				keyless.dispatch_bypass_filter(frame_system::RawOrigin::Authorized.into()),
				Error::<Test>::NoInferenceKey
			);
			TestValidators::set(vec![V1, V2, V3]);
			// A key holder that is not a validator.
			let stranger = signed_attestation(NOBODY, NOBODY, 0, LOADS);
			assert_eq!(pool_check(&stranger), Err(index_of(Error::<Test>::NotValidator)));
			// Unknown model.
			let unknown = signed_attestation(V1, V1, 7, LOADS);
			assert_eq!(pool_check(&unknown), Err(index_of(Error::<Test>::UnknownModel)));
			// Twice.
			let first = signed_attestation(V1, V1, 0, LOADS);
			assert_ok!(first
				.clone()
				.dispatch_bypass_filter(frame_system::RawOrigin::Authorized.into()));
			assert_eq!(pool_check(&first), Err(index_of(Error::<Test>::AlreadyAttested)));
			// After the decision.
			attest(V2, 0, LOADS);
			let late = signed_attestation(V3, V3, 0, LOADS);
			assert_eq!(pool_check(&late), Err(index_of(Error::<Test>::NotPending)));
			// Only the authorized origin dispatches it.
			assert_noop!(
				signed_attestation(V3, V3, 0, LOADS)
					.dispatch_bypass_filter(RuntimeOrigin::signed(V3)),
				DispatchError::BadOrigin
			);
		});
	}
}
