//! Benchmarks of the model registry, each in its worst case.

// Benchmarks set up their state with plain arithmetic and unwraps: a panic fails the benchmark.
#![allow(
	clippy::arithmetic_side_effects,
	clippy::indexing_slicing,
	clippy::unwrap_used,
	clippy::expect_used
)]

use super::*;
use frame_benchmarking::v2::*;
use frame_support::traits::fungible::Mutate;
use frame_system::RawOrigin;
use gateless_primitives::model::{
	DType, Dim, ModelUri, SymbolSpec, TensorSpec, MAX_CARD_FIELD_LEN, MAX_DESCRIPTION_LEN,
	MAX_MODEL_NAME_LEN, MAX_MODEL_TENSORS, MAX_MODEL_VERSION_LEN, MAX_SEMANTICS_LEN, MAX_SYMBOLS,
	MAX_TENSOR_NAME_LEN, MAX_TENSOR_RANK, MAX_URIS, MAX_URI_LEN,
};
use sp_runtime::{transaction_validity::TransactionSource, FixedU64};

/// Funds `who` well beyond any deposit.
fn funded<T: Config>(who: &T::AccountId) {
	let params = Params::<T>::get();
	let max_deposit =
		Pallet::<T>::deposit_for(&params, T::MaxInlineModelBytes::get(), MAX_DESCRIPTION_LEN);
	let amount =
		T::Currency::minimum_balance().saturating_add(max_deposit.saturating_mul(1000u32.into()));
	T::Currency::set_balance(who, amount);
}

/// Parameters that let the largest inline model in.
fn allow_largest_inline<T: Config>() {
	let mut params = Params::<T>::get();
	params.max_inline_bytes = T::MaxInlineModelBytes::get();
	params.max_model_bytes = params.max_model_bytes.max(u64::from(params.max_inline_bytes));
	Params::<T>::put(params);
}

fn bounded<S: Get<u32>>(byte: u8, len: u32) -> BoundedVec<u8, S> {
	BoundedVec::truncate_from(alloc::vec![byte; len as usize])
}

/// The longest model card, every field full. Its bytes are checked as text, so the cost does not
/// depend on them otherwise; the reference vectors' inline bytes count with the model's own (`b`).
fn largest_card() -> ModelCard {
	ModelCard {
		task: bounded(b't', MAX_CARD_FIELD_LEN),
		license: bounded(b'l', MAX_CARD_FIELD_LEN),
		labels: Some(H256::repeat_byte(1)),
		inputs: bounded(b'i', MAX_SEMANTICS_LEN),
		outputs: bounded(b'o', MAX_SEMANTICS_LEN),
	}
}

/// The largest signature: every tensor at the maximal rank with the longest names, all distinct
/// (validation compares every pair of names), and every dimension one of the most symbols, with
/// the longest names.
fn largest_signature() -> ModelSignature {
	let side = |first: u8| {
		let tensors = (0..MAX_MODEL_TENSORS)
			.map(|i| {
				let mut name = alloc::vec![b'x'; MAX_TENSOR_NAME_LEN as usize];
				if let Some(last) = name.last_mut() {
					*last = first.saturating_add(i as u8);
				}
				TensorSpec {
					name: BoundedVec::truncate_from(name),
					dtype: DType::F32,
					shape: BoundedVec::truncate_from(
						(0..MAX_TENSOR_RANK)
							.map(|dim| {
								Dim::Symbol(((i * MAX_TENSOR_RANK + dim) % MAX_SYMBOLS) as u8)
							})
							.collect(),
					),
				}
			})
			.collect();
		BoundedVec::truncate_from(tensors)
	};
	let symbols = (0..MAX_SYMBOLS)
		.map(|i| {
			let mut name = alloc::vec![b's'; MAX_TENSOR_NAME_LEN as usize];
			if let Some(last) = name.last_mut() {
				*last = b'a'.saturating_add(i as u8);
			}
			SymbolSpec { name: BoundedVec::truncate_from(name), example: 2 }
		})
		.collect();
	ModelSignature {
		inputs: side(b'a'),
		outputs: side(b'A'),
		symbols: BoundedVec::truncate_from(symbols),
	}
}

fn longest_uris() -> BoundedVec<ModelUri, ConstU32<MAX_URIS>> {
	let uri = |i: u32| {
		let mut bytes = b"https://models.example/".to_vec();
		bytes.resize(MAX_URI_LEN as usize, b'a'.saturating_add(i as u8));
		ModelUri::truncate_from(bytes)
	};
	BoundedVec::truncate_from((0..MAX_URIS).map(uri).collect())
}

/// Registers an inline model of `len` bytes for `owner` and returns its id.
fn register<T: Config>(owner: &T::AccountId, seed: u8, len: u32) -> ModelId {
	let bytes = alloc::vec![seed; len.max(1) as usize];
	let hash = H256(sp_io::hashing::blake2_256(&bytes));
	let model = NextModelId::<T>::get();
	let result = Pallet::<T>::register_model(
		RawOrigin::Signed(owner.clone()).into(),
		bounded(seed, MAX_MODEL_NAME_LEN),
		bounded(b'1', MAX_MODEL_VERSION_LEN),
		hash,
		bytes.len() as u64,
		ModelSource::Inline(BoundedVec::truncate_from(bytes)),
		Box::new(largest_signature()),
		Determinism::Exact,
		1u32.into(),
		bounded(b'd', MAX_DESCRIPTION_LEN),
		None,
		Default::default(),
	);
	assert!(result.is_ok(), "registering a benchmark model failed: {result:?}");
	model
}

fn assert_last_event<T: Config>(event: Event<T>) {
	frame_system::Pallet::<T>::assert_last_event(<T as frame_system::Config>::RuntimeEvent::from(
		event,
	));
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// `b` inline bytes (0: the longest URIs instead), `d` description bytes.
	#[benchmark]
	fn register_model(
		b: Linear<0, { T::MaxInlineModelBytes::get() }>,
		d: Linear<0, MAX_DESCRIPTION_LEN>,
	) {
		allow_largest_inline::<T>();
		let caller: T::AccountId = whitelisted_caller();
		funded::<T>(&caller);
		let (hash, size, source) = if b == 0 {
			(H256::repeat_byte(7), 1_000_000, ModelSource::Uris(longest_uris()))
		} else {
			let bytes = alloc::vec![7u8; b as usize];
			let hash = H256(sp_io::hashing::blake2_256(&bytes));
			(hash, u64::from(b), ModelSource::Inline(BoundedVec::truncate_from(bytes)))
		};
		let determinism =
			Determinism::Tolerance { abs: FixedU64::from_rational(1, 1000), rel: Perbill::one() };

		#[extrinsic_call]
		_(
			RawOrigin::Signed(caller.clone()),
			bounded(b'n', MAX_MODEL_NAME_LEN),
			bounded(b'v', MAX_MODEL_VERSION_LEN),
			hash,
			size,
			source,
			Box::new(largest_signature()),
			determinism,
			1u32.into(),
			bounded(b'd', d),
			Some(Box::new(largest_card())),
			Default::default(),
		);

		assert!(Models::<T>::contains_key(0));
		assert_eq!(OwnedModelCount::<T>::get(&caller), 1);
	}

	/// The attestation that decides a rejection after `MaxAttestations - 1` others: tallying
	/// reads them all, then the deposit is slashed and released and the inline bytes dropped.
	#[benchmark]
	fn attest_model() {
		allow_largest_inline::<T>();
		let owner: T::AccountId = account("owner", 0, 0);
		funded::<T>(&owner);
		let model = register::<T>(&owner, 1, T::MaxInlineModelBytes::get());
		let validators: Vec<T::AccountId> =
			(0..T::MaxAttestations::get()).map(|i| account("validator", i, 0)).collect();
		T::Staking::set_active_for_benchmarks(validators.clone());
		let mut params = Params::<T>::get();
		params.attestation_quorum = Perbill::one();
		Params::<T>::put(params);
		let (last, earlier) = validators.split_last().expect("MaxAttestations is at least 1");
		let failure = Verdict::Fails(AttestationFailure::HashMismatch);
		Attestations::<T>::insert(
			model,
			BoundedVec::truncate_from(earlier.iter().map(|v| (v.clone(), failure)).collect()),
		);

		#[extrinsic_call]
		_(RawOrigin::Signed(last.clone()), model, failure);

		let status = Models::<T>::get(model).map(|info| info.status);
		assert_eq!(
			status,
			Some(ModelStatus::Rejected(RejectionReason::Attested(
				AttestationFailure::HashMismatch
			)))
		);
	}

	/// The pool's check of an offchain worker's attestation: a validator among `MaxAttestations`,
	/// a model with all the other attestations, a signature to verify.
	#[benchmark]
	fn authorize_attestation() -> Result<(), BenchmarkError> {
		allow_largest_inline::<T>();
		let owner: T::AccountId = account("owner", 0, 0);
		funded::<T>(&owner);
		let model = register::<T>(&owner, 1, T::MaxInlineModelBytes::get());
		let validators: Vec<T::AccountId> =
			(0..T::MaxAttestations::get()).map(|i| account("validator", i, 0)).collect();
		T::Staking::set_active_for_benchmarks(validators.clone());
		let mut params = Params::<T>::get();
		params.attestation_quorum = Perbill::one();
		Params::<T>::put(params);
		let (last, earlier) = validators.split_last().expect("MaxAttestations is at least 1");
		let verdict = Verdict::Loads(Default::default());
		Attestations::<T>::insert(
			model,
			BoundedVec::truncate_from(earlier.iter().map(|v| (v.clone(), verdict)).collect()),
		);
		T::BenchmarkHelper::inference_key(last);
		let signature =
			T::BenchmarkHelper::sign(last, &Pallet::<T>::attestation_payload(model, verdict, last));
		let call =
			Call::<T>::attest_model_as { model, verdict, validator: last.clone(), signature };

		#[block]
		{
			use frame_support::traits::Authorize;
			call.authorize(TransactionSource::External)
				.ok_or("attest_model_as is authorized")?
				.map_err(|_| "a valid attestation")?;
		}
		Ok(())
	}

	/// A new price and a longer description, which holds more.
	#[benchmark]
	fn update_model() {
		let owner: T::AccountId = whitelisted_caller();
		funded::<T>(&owner);
		let model = register::<T>(&owner, 1, 1);
		let mut info = Models::<T>::get(model).expect("just registered");
		info.description = bounded(b'd', 0);
		Models::<T>::insert(model, info);

		#[extrinsic_call]
		_(
			RawOrigin::Signed(owner),
			model,
			Some(2u32.into()),
			Some(bounded(b'e', MAX_DESCRIPTION_LEN)),
		);

		assert_eq!(Models::<T>::get(model).map(|info| info.price), Some(2u32.into()));
	}

	#[benchmark]
	fn transfer_ownership() {
		let owner: T::AccountId = whitelisted_caller();
		let new_owner: T::AccountId = account("new owner", 0, 0);
		funded::<T>(&owner);
		funded::<T>(&new_owner);
		let model = register::<T>(&owner, 1, 1);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), model, new_owner.clone());

		assert_eq!(Models::<T>::get(model).map(|info| info.owner), Some(new_owner));
	}

	#[benchmark]
	fn deprecate() {
		let owner: T::AccountId = whitelisted_caller();
		funded::<T>(&owner);
		let model = register::<T>(&owner, 1, 1);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), model);

		assert_last_event::<T>(Event::ModelDeprecated { model });
	}

	/// A pending inline model with attestations: everything it stored goes.
	#[benchmark]
	fn remove() {
		allow_largest_inline::<T>();
		let owner: T::AccountId = whitelisted_caller();
		funded::<T>(&owner);
		let model = register::<T>(&owner, 1, T::MaxInlineModelBytes::get());
		let validator: T::AccountId = account("validator", 0, 0);
		Attestations::<T>::insert(
			model,
			BoundedVec::truncate_from(alloc::vec![(validator, Verdict::Loads(Default::default()))]),
		);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), model);

		assert!(!Models::<T>::contains_key(model));
	}

	#[benchmark]
	fn force_reject() -> Result<(), BenchmarkError> {
		allow_largest_inline::<T>();
		let owner: T::AccountId = account("owner", 0, 0);
		funded::<T>(&owner);
		let model = register::<T>(&owner, 1, T::MaxInlineModelBytes::get());
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, model);

		let status = Models::<T>::get(model).map(|info| info.status);
		assert_eq!(status, Some(ModelStatus::Rejected(RejectionReason::Admin)));
		Ok(())
	}

	#[benchmark]
	fn ban_model() -> Result<(), BenchmarkError> {
		allow_largest_inline::<T>();
		let owner: T::AccountId = account("owner", 0, 0);
		funded::<T>(&owner);
		let model = register::<T>(&owner, 1, T::MaxInlineModelBytes::get());
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, model);

		assert_eq!(Models::<T>::get(model).map(|info| info.status), Some(ModelStatus::Banned));
		Ok(())
	}

	#[benchmark]
	fn set_params() -> Result<(), BenchmarkError> {
		let mut params = Params::<T>::get();
		params.rejection_penalty = Perbill::from_percent(20);
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, params);

		assert_eq!(Params::<T>::get(), params);
		Ok(())
	}

	impl_benchmark_test_suite!(
		Pallet,
		crate::mock::ExtBuilder::default().build(),
		crate::mock::Test
	);
}
