//! # Model registry pallet
//!
//! The registry of the ONNX models that Gateless runs: who owns each model, exactly which bytes
//! run (their blake2-256 hash), where validators get them, what goes in and comes out, how outputs
//! are compared, and what a job pays the owner.
//!
//! ## Overview
//!
//! A model builder registers a model with [`Call::register_model`]. The registry holds a deposit
//! from the owner, `deposit_base + deposit_per_byte × (bytes stored on chain)` (see
//! [`RegistryParams`]): inline ONNX bytes, the description, the model card and the reference
//! vectors, under [`HoldReason::ModelDeposit`]. The model starts [`ModelStatus::Pending`]: no job
//! may use it until the active validators have fetched its bytes, checked the hash, loaded it with
//! the declared signature and, when it has reference vectors ([`gateless_primitives::reference`]),
//! run them and found the outputs the builder registered, within the model's determinism (a
//! mismatch is the failure [`AttestationFailure::ReferenceMismatch`]). Each does so from its
//! offchain worker and reports with [`Call::attest_model`]; when the share
//! [`RegistryParams::attestation_quorum`] of the active set agrees (rounded up), the model becomes
//! [`ModelStatus::Active`] or [`ModelStatus::Rejected`]. A rejected model's inline bytes are
//! dropped, [`RegistryParams::rejection_penalty`] of its deposit is slashed (to
//! [`Config::OnPenalty`]) and the rest is returned, except the part that covers the record itself,
//! which comes back when the owner removes it.
//!
//! A verdict that the model loads carries the validator's estimate of its compute
//! ([`ComputeCost`]: operations as a line in a job's input elements, counted by the inference
//! engine from the typed graph). At activation the registry keeps, per field, the median of the
//! estimates of the attestations saying it loads ([`ModelCompute`]); job fees follow it. A
//! minority of the quorum cannot move the median outside what the others estimated.
//!
//! Names are per owner: `(owner, name, version)` is unique, and one owner cannot register the same
//! bytes twice. The latest version of a name is the most recently registered one still present.
//!
//! Attestations from validators are free (the fee is refunded when the attestation counts); anyone
//! else, or a validator attesting twice or too late, pays the fee of a failed transaction, so the
//! call cannot be spammed cheaply. Attestations of validators that later leave the active set still
//! count; the threshold follows the size of the active set at each attestation. Since a quorum is
//! more than half, a set split evenly leaves a model pending; its owner can remove it (getting the
//! whole deposit back) or the admin reject it.
//!
//! Other pallets read models through [`gateless_primitives::traits::ModelProvider`], and a model
//! that jobs still use ([`Config::ModelUsage`]) cannot be removed.
//!
//! ## Calls
//!
//! - [`Call::register_model`] (signed): errors [`Error::EmptyName`], [`Error::EmptyVersion`],
//!   [`Error::ZeroSize`], [`Error::ModelTooLarge`], [`Error::InlineTooLarge`],
//!   [`Error::InlineSizeMismatch`], [`Error::InlineHashMismatch`], [`Error::NoUris`],
//!   [`Error::InvalidUri`], [`Error::InvalidSignature`], [`Error::InvalidCard`],
//!   [`Error::InvalidReference`], [`Error::ReferencesTooLarge`], [`Error::HashBanned`],
//!   [`Error::DuplicateVersion`], [`Error::DuplicateHash`], [`Error::TooManyModels`],
//!   [`Error::InsufficientDeposit`]; event [`Event::ModelRegistered`].
//! - [`Call::attest_model`] (signed, an active validator): errors [`Error::NotValidator`],
//!   [`Error::UnknownModel`], [`Error::NotPending`], [`Error::AlreadyAttested`],
//!   [`Error::TooManyAttestations`]; events [`Event::ModelAttested`], then
//!   [`Event::ModelActivated`] or [`Event::ModelRejected`] when a quorum is reached.
//! - [`Call::attest_model_as`] (authorized: an active validator's inference key signs it; this is
//!   how offchain workers attest, without the validator's account key): as
//!   [`Call::attest_model`], plus [`Error::NoInferenceKey`] and [`Error::BadSignature`]; refused
//!   by the transaction pool with `InvalidTransaction::Custom(error index)`.
//! - [`Call::update_model`] (signed, the owner): errors [`Error::UnknownModel`],
//!   [`Error::NotOwner`], [`Error::ModelClosed`], [`Error::NothingToUpdate`],
//!   [`Error::InsufficientDeposit`]; event [`Event::ModelUpdated`].
//! - [`Call::transfer_ownership`] (signed, the owner): errors [`Error::UnknownModel`],
//!   [`Error::NotOwner`], [`Error::ModelClosed`], [`Error::SameOwner`],
//!   [`Error::NewOwnerWithoutAccount`], [`Error::DuplicateVersion`], [`Error::DuplicateHash`],
//!   [`Error::TooManyModels`]; event [`Event::OwnershipTransferred`]. The held deposit moves with
//!   the model, still on hold.
//! - [`Call::deprecate`] (signed, the owner): errors [`Error::UnknownModel`], [`Error::NotOwner`],
//!   [`Error::ModelClosed`], [`Error::AlreadyDeprecated`]; event [`Event::ModelDeprecated`].
//! - [`Call::remove`] (signed, the owner): errors [`Error::UnknownModel`], [`Error::NotOwner`],
//!   [`Error::ModelInUse`]; event [`Event::ModelRemoved`].
//! - [`Call::force_reject`] ([`Config::AdminOrigin`]): errors [`Error::UnknownModel`],
//!   [`Error::ModelClosed`]; event [`Event::ModelRejected`].
//! - [`Call::ban_model`] ([`Config::AdminOrigin`]): slashes the whole deposit and refuses the hash
//!   for ever after; errors [`Error::UnknownModel`], [`Error::AlreadyBanned`]; event
//!   [`Event::ModelBanned`].
//! - [`Call::set_params`] ([`Config::AdminOrigin`]): errors [`Error::InvalidParams`]; event
//!   [`Event::ParamsSet`].
//!
//! ## Lookups
//!
//! [`Pallet::models_page`], [`Pallet::latest_version`], [`Pallet::models_of`],
//! [`Pallet::attestation_tally`] and [`Pallet::registration_deposit`] serve the
//! `ModelRegistryApi` runtime API.

#![cfg_attr(not(feature = "std"), no_std)]
// The workspace denies arithmetic_side_effects in code that runs on chain; tests may overflow
// (clippy.toml lets them unwrap, expect and index).
#![cfg_attr(test, allow(clippy::arithmetic_side_effects))]

extern crate alloc;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
pub mod migrations;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
mod types;
pub mod weights;

use alloc::{boxed::Box, vec::Vec};
use codec::Encode;
use frame_support::{
	pallet_prelude::*,
	traits::{
		fungible::{self, Inspect, MutateHold},
		tokens::{Fortitude, Precision, Restriction},
		Defensive, Imbalance, OnUnbalanced,
	},
};
use frame_system::pallet_prelude::*;
use gateless_primitives::{
	content::MAX_MODEL_CONTENT_BYTES,
	crypto::inference::Signature as InferenceSignature,
	model::{
		AttestationFailure, AttestationTally, ComputeCost, Determinism, ModelCard,
		ModelDescription, ModelId, ModelInfo, ModelLocation, ModelName, ModelPage, ModelSignature,
		ModelStatus, ModelVersion, RejectionReason, Verdict,
	},
	reference::{ModelReferences, References},
	traits::{InferenceKeys, ModelProvider, ModelUsage, ValidatorSet},
};
use sp_core::H256;
use sp_runtime::{
	traits::{Saturating, Zero},
	transaction_validity::{InvalidTransaction, TransactionPriority, ValidTransaction},
	Perbill, RuntimeAppPublic,
};

/// The balance type of the currency deposits are held in.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
/// Funds taken from a deposit, handed to [`Config::OnPenalty`].
pub type CreditOf<T> =
	fungible::Credit<<T as frame_system::Config>::AccountId, <T as Config>::Currency>;
/// A model record as this runtime stores it.
pub type ModelInfoOf<T> =
	ModelInfo<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;

/// The most models one call of [`Pallet::models_page`] returns.
pub const MAX_MODELS_PER_PAGE: u32 = 100;
/// The most model ids one call of [`Pallet::models_page`] looks at, so that removed ids cannot make
/// a page arbitrarily expensive.
pub const MAX_IDS_SCANNED_PER_PAGE: u64 = 1_000;

// `register_model` takes a model's full description as separate arguments, as wallets and
// clients show call arguments one by one.
#[allow(clippy::too_many_arguments)]
// FRAME's pallet macros expand to `expect` (the pallet's name in the runtime, storage prefixes)
// with this module's spans; the rest of the four on-chain lints hold here, and `expect_used` holds
// outside this module.
#[allow(clippy::expect_used)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;

	/// The in-code storage version.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(2);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The currency model deposits are held in.
		type Currency: fungible::Inspect<Self::AccountId>
			+ fungible::Mutate<Self::AccountId>
			+ fungible::MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ fungible::BalancedHold<Self::AccountId>;

		/// The runtime's hold reasons, which include this pallet's [`HoldReason`].
		type RuntimeHoldReason: From<HoldReason>;

		/// The active validators, the only accounts whose attestations count.
		type Staking: ValidatorSet<Self::AccountId>;

		/// The inference keys that sign validators' attestations from their offchain workers.
		type Keys: InferenceKeys<Self::AccountId>;

		/// The priority of validators' attestations in the transaction pool.
		#[pallet::constant]
		type AttestationPriority: Get<TransactionPriority>;

		/// Whether jobs still use a model, so that it cannot be removed under them.
		type ModelUsage: ModelUsage;

		/// May force-reject and ban models and set the parameters.
		type AdminOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Receives what is slashed from rejected and banned models' deposits (`()` burns it).
		type OnPenalty: OnUnbalanced<CreditOf<Self>>;

		/// The most ONNX bytes a model may store on chain; the admin may lower the effective limit
		/// with [`RegistryParams::max_inline_bytes`].
		#[pallet::constant]
		type MaxInlineModelBytes: Get<u32>;

		/// The most models one account may own.
		#[pallet::constant]
		type MaxModelsPerOwner: Get<u32>;

		/// The most bytes a model's reference vectors carry inline, together; larger tensors go
		/// by content.
		#[pallet::constant]
		type MaxReferenceBytes: Get<u32>;

		/// The most attestations a pending model collects; at least the size of the largest
		/// active set, so that every validator can attest.
		#[pallet::constant]
		type MaxAttestations: Get<u32>;

		/// The parameters until the admin sets others.
		type DefaultParams: Get<RegistryParams<BalanceOf<Self>>>;

		/// Weights of the calls, from this pallet's benchmarks.
		type WeightInfo: WeightInfo;

		/// Gives benchmark validators inference keys and signs with them.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self>;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The deposit for a model's on-chain storage.
		#[codec(index = 0)]
		ModelDeposit,
	}

	/// The id the next registered model gets.
	#[pallet::storage]
	pub type NextModelId<T> = StorageValue<_, ModelId, ValueQuery>;

	/// Every model present, by id.
	#[pallet::storage]
	pub type Models<T: Config> = StorageMap<_, Twox64Concat, ModelId, ModelInfoOf<T>>;

	/// The ONNX bytes of models stored inline, kept apart so that reading a model's record does
	/// not read its bytes.
	#[pallet::storage]
	pub type InlineBytes<T: Config> =
		StorageMap<_, Twox64Concat, ModelId, BoundedVec<u8, T::MaxInlineModelBytes>>;

	/// The cards of the models registered with one.
	#[pallet::storage]
	pub type Cards<T: Config> = StorageMap<_, Twox64Concat, ModelId, ModelCard>;

	/// The reference vectors of the models registered with some, kept apart from the record so
	/// that jobs do not read them; only validators' offchain workers and clients do.
	#[pallet::storage]
	pub type ModelReferenceVectors<T: Config> = StorageMap<_, Twox64Concat, ModelId, References>;

	/// How many bytes each model's reference vectors store and how many validators checked them,
	/// so that deposits and attestations need not read the vectors.
	#[pallet::storage]
	pub type ReferenceRecords<T: Config> = StorageMap<_, Twox64Concat, ModelId, ReferenceRecord>;

	/// The attestations of each pending model so far (none at its registration); removed once
	/// the model is decided. Its keys are the pending models, which validators' nodes check
	/// ([`Pallet::pending_models_unattested_by`]).
	#[pallet::storage]
	pub type Attestations<T: Config> = StorageMap<
		_,
		Twox64Concat,
		ModelId,
		BoundedVec<(T::AccountId, Verdict), T::MaxAttestations>,
		ValueQuery,
	>;

	/// The compute of each active model that validators estimated when they attested it: per
	/// field, the median of the estimates of the attestations that activated it. Job fees follow
	/// it; a model without one (activated before validators estimated) pays the fee's floor.
	#[pallet::storage]
	pub type ModelCompute<T: Config> = StorageMap<_, Twox64Concat, ModelId, ComputeCost>;

	/// The model of each `(owner, name, version)`.
	#[pallet::storage]
	pub type ModelByName<T: Config> = StorageNMap<
		_,
		(
			NMapKey<Blake2_128Concat, T::AccountId>,
			NMapKey<Blake2_128Concat, ModelName>,
			NMapKey<Blake2_128Concat, ModelVersion>,
		),
		ModelId,
	>;

	/// The model of each `(owner, hash)`: one owner registers the same bytes once.
	#[pallet::storage]
	pub type ModelByHash<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Identity, H256, ModelId>;

	/// The models of each owner.
	#[pallet::storage]
	pub type ModelsByOwner<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Twox64Concat, ModelId, ()>;

	/// How many models each owner has, at most [`Config::MaxModelsPerOwner`].
	#[pallet::storage]
	pub type OwnedModelCount<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, u32, ValueQuery>;

	/// Hashes of banned models, refused at registration by anyone.
	#[pallet::storage]
	pub type BannedHashes<T> = StorageMap<_, Identity, H256, ()>;

	/// The registry's parameters.
	#[pallet::storage]
	pub type Params<T: Config> =
		StorageValue<_, RegistryParams<BalanceOf<T>>, ValueQuery, T::DefaultParams>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A model was registered and waits for attestations.
		ModelRegistered {
			model: ModelId,
			owner: T::AccountId,
			name: ModelName,
			version: ModelVersion,
			hash: H256,
			deposit: BalanceOf<T>,
		},
		/// A validator attested a pending model.
		ModelAttested { model: ModelId, validator: T::AccountId, verdict: Verdict },
		/// A quorum attested that the model loads: jobs may use it.
		ModelActivated { model: ModelId },
		/// The model was rejected; `penalty` was slashed from its deposit and `returned` released.
		ModelRejected {
			model: ModelId,
			reason: RejectionReason,
			penalty: BalanceOf<T>,
			returned: BalanceOf<T>,
		},
		/// The owner changed the price or description; the deposit is now `deposit`.
		ModelUpdated { model: ModelId, price: BalanceOf<T>, deposit: BalanceOf<T> },
		/// The model and its held deposit moved to a new owner.
		OwnershipTransferred { model: ModelId, from: T::AccountId, to: T::AccountId },
		/// The owner deprecated the model: no new jobs.
		ModelDeprecated { model: ModelId },
		/// The model was removed and its remaining deposit returned.
		ModelRemoved { model: ModelId, returned: BalanceOf<T> },
		/// The admin banned the model and slashed its deposit.
		ModelBanned { model: ModelId, hash: H256, slashed: BalanceOf<T> },
		/// The admin set new parameters.
		ParamsSet { params: RegistryParams<BalanceOf<T>> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No model has this id (it was never registered, or was removed).
		UnknownModel,
		/// Only the model's owner may do this.
		NotOwner,
		/// The model's name must not be empty.
		EmptyName,
		/// The model's version must not be empty.
		EmptyVersion,
		/// The model's byte size must be more than zero.
		ZeroSize,
		/// The model is larger than `RegistryParams::max_model_bytes`.
		ModelTooLarge,
		/// The inline bytes exceed `RegistryParams::max_inline_bytes`: give URIs instead.
		InlineTooLarge,
		/// The inline bytes are not as many as the declared size.
		InlineSizeMismatch,
		/// The inline bytes do not hash (blake2-256) to the declared hash.
		InlineHashMismatch,
		/// A model stored off chain needs at least one URI.
		NoUris,
		/// Every URI must start with `http://` or `https://` and have a host.
		InvalidUri,
		/// The signature needs at least one input and one output, non-empty unique tensor names
		/// and no zero-sized fixed dimension.
		InvalidSignature,
		/// A text field of the model card is not UTF-8.
		InvalidCard,
		/// A reference vector does not fit the signature: one tensor per declared input and
		/// output, of its dtype and shape.
		InvalidReference,
		/// The reference vectors carry more than `MaxReferenceBytes` inline: give the larger
		/// tensors by content.
		ReferencesTooLarge,
		/// These bytes were banned.
		HashBanned,
		/// The owner already has a model with this name and version.
		DuplicateVersion,
		/// The owner already registered these bytes.
		DuplicateHash,
		/// The owner has `MaxModelsPerOwner` models: remove one first.
		TooManyModels,
		/// The free balance cannot cover the deposit (see the `registration_deposit` runtime API).
		InsufficientDeposit,
		/// Only active validators attest models.
		NotValidator,
		/// The model is not waiting for attestations (it was decided already).
		NotPending,
		/// This validator attested this model already.
		AlreadyAttested,
		/// The model has `MaxAttestations` attestations without a decision.
		TooManyAttestations,
		/// The validator has no inference key (session keys not set).
		NoInferenceKey,
		/// The signature is not the validator's inference key's over this attestation.
		BadSignature,
		/// Jobs still use the model: deprecate it and remove it when they are done.
		ModelInUse,
		/// The model is rejected or banned: it can only be removed.
		ModelClosed,
		/// The model is deprecated already.
		AlreadyDeprecated,
		/// The model is banned already.
		AlreadyBanned,
		/// The new owner is the current owner.
		SameOwner,
		/// The new owner's account does not exist (holds less than the existential deposit), so
		/// it cannot hold the deposit: fund it first.
		NewOwnerWithoutAccount,
		/// Neither a price nor a description was given.
		NothingToUpdate,
		/// The quorum must be more than half, the inline limit at most `MaxInlineModelBytes`, and
		/// the model size limit at least the inline limit.
		InvalidParams,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}

		fn integrity_test() {
			let params = T::DefaultParams::get();
			assert!(Self::params_are_valid(&params), "DefaultParams are not valid");
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Registers a model, holding its deposit. It is `Pending` until validators attest it.
		///
		/// `hash` is the blake2-256 hash of the ONNX file of `size` bytes; `source` carries the
		/// bytes themselves, the URIs that serve them, or the hash of the file's chunk list when
		/// nodes provide it (at most 2 GiB; the builder hands the bytes to a node, see
		/// [`ModelSource::Peers`]). `card` says what the model is for; `references` are inputs
		/// with the outputs the model must give, which validators check before they attest it.
		///
		/// Origin: signed, by the account that will own the model and whose free balance pays the
		/// deposit. Errors: [`Error::EmptyName`], [`Error::EmptyVersion`], [`Error::ZeroSize`],
		/// [`Error::ModelTooLarge`], [`Error::InlineTooLarge`], [`Error::InlineSizeMismatch`],
		/// [`Error::InlineHashMismatch`], [`Error::NoUris`], [`Error::InvalidUri`],
		/// [`Error::InvalidSignature`], [`Error::InvalidCard`], [`Error::InvalidReference`],
		/// [`Error::ReferencesTooLarge`], [`Error::HashBanned`], [`Error::DuplicateVersion`],
		/// [`Error::DuplicateHash`], [`Error::TooManyModels`], [`Error::InsufficientDeposit`].
		/// Events: [`Event::ModelRegistered`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_model(
			source.inline_len().saturating_add(references_inline_len(references)),
			description.len() as u32,
		))]
		pub fn register_model(
			origin: OriginFor<T>,
			name: ModelName,
			version: ModelVersion,
			hash: H256,
			size: u64,
			source: ModelSource<T::MaxInlineModelBytes>,
			signature: Box<ModelSignature>,
			determinism: Determinism,
			price: BalanceOf<T>,
			description: ModelDescription,
			card: Option<Box<ModelCard>>,
			references: References,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			let params = Params::<T>::get();
			ensure!(!name.is_empty(), Error::<T>::EmptyName);
			ensure!(!version.is_empty(), Error::<T>::EmptyVersion);
			ensure!(size > 0, Error::<T>::ZeroSize);
			ensure!(size <= params.max_model_bytes, Error::<T>::ModelTooLarge);
			let (location, inline) = match source {
				ModelSource::Inline(bytes) => {
					ensure!(
						bytes.len() as u64 <= u64::from(params.max_inline_bytes),
						Error::<T>::InlineTooLarge
					);
					ensure!(bytes.len() as u64 == size, Error::<T>::InlineSizeMismatch);
					ensure!(
						H256(sp_io::hashing::blake2_256(&bytes)) == hash,
						Error::<T>::InlineHashMismatch
					);
					(ModelLocation::Inline, Some(bytes))
				},
				ModelSource::Uris(uris) => {
					ensure!(!uris.is_empty(), Error::<T>::NoUris);
					ensure!(uris.iter().all(|uri| is_http_uri(uri)), Error::<T>::InvalidUri);
					(ModelLocation::Uris(uris), None)
				},
				ModelSource::Peers { content, uris } => {
					ensure!(size <= MAX_MODEL_CONTENT_BYTES, Error::<T>::ModelTooLarge);
					ensure!(uris.iter().all(|uri| is_http_uri(uri)), Error::<T>::InvalidUri);
					(ModelLocation::Peers { content, uris }, None)
				},
			};
			signature.validate().map_err(|_| Error::<T>::InvalidSignature)?;
			ensure!(card.as_deref().is_none_or(ModelCard::is_text), Error::<T>::InvalidCard);
			ensure!(
				references.iter().all(|reference| reference.check(&signature).is_ok()),
				Error::<T>::InvalidReference
			);
			ensure!(
				references_inline_len(&references) <= T::MaxReferenceBytes::get(),
				Error::<T>::ReferencesTooLarge
			);
			ensure!(!BannedHashes::<T>::contains_key(hash), Error::<T>::HashBanned);
			ensure!(
				!ModelByName::<T>::contains_key((&owner, &name, &version)),
				Error::<T>::DuplicateVersion
			);
			ensure!(!ModelByHash::<T>::contains_key(&owner, hash), Error::<T>::DuplicateHash);
			let owned = OwnedModelCount::<T>::get(&owner);
			ensure!(owned < T::MaxModelsPerOwner::get(), Error::<T>::TooManyModels);

			let references = (!references.is_empty()).then(|| {
				let stored_len = references.encoded_size().try_into().unwrap_or(u32::MAX);
				(references, ReferenceRecord { stored_len, checked_by: 0 })
			});
			let stored_len = inline
				.as_ref()
				.map_or(0, |bytes| bytes.len() as u32)
				.saturating_add(encoded_len(&card))
				.saturating_add(references.as_ref().map_or(0, |(_, record)| record.stored_len));
			let deposit = Self::deposit_for(&params, stored_len, description.len() as u32);
			T::Currency::hold(&HoldReason::ModelDeposit.into(), &owner, deposit)
				.map_err(|_| Error::<T>::InsufficientDeposit)?;

			let model = NextModelId::<T>::get();
			NextModelId::<T>::put(model.saturating_add(1));
			if let Some(bytes) = inline {
				InlineBytes::<T>::insert(model, bytes);
			}
			if let Some(card) = card {
				Cards::<T>::insert(model, *card);
			}
			if let Some((references, record)) = references {
				ModelReferenceVectors::<T>::insert(model, references);
				ReferenceRecords::<T>::insert(model, record);
			}
			let info = ModelInfo {
				owner: owner.clone(),
				name: name.clone(),
				version: version.clone(),
				hash,
				size,
				location,
				signature: *signature,
				determinism,
				price,
				description,
				status: ModelStatus::Pending,
				deposit,
				registered_at: frame_system::Pallet::<T>::block_number(),
			};
			Self::index_model(model, &info, owned);
			Models::<T>::insert(model, info);
			Attestations::<T>::insert(model, BoundedVec::default());
			Self::deposit_event(Event::ModelRegistered {
				model,
				owner,
				name,
				version,
				hash,
				deposit,
			});
			Ok(())
		}

		/// Reports whether a pending model's bytes matched its hash and loaded with the declared
		/// signature. Free for active validators when the attestation counts.
		///
		/// Origin: signed, by an active validator. Errors: [`Error::NotValidator`],
		/// [`Error::UnknownModel`], [`Error::NotPending`], [`Error::AlreadyAttested`],
		/// [`Error::TooManyAttestations`]. Events: [`Event::ModelAttested`], then
		/// [`Event::ModelActivated`] or [`Event::ModelRejected`] when this attestation reaches the
		/// quorum.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::attest_model())]
		pub fn attest_model(
			origin: OriginFor<T>,
			model: ModelId,
			verdict: Verdict,
		) -> DispatchResultWithPostInfo {
			let validator = ensure_signed(origin)?;
			Self::do_attest(validator, model, verdict)?;
			Ok(Pays::No.into())
		}

		/// Changes a model's price and/or description; the deposit follows the description's
		/// length under the current parameters.
		///
		/// Origin: signed, by the model's owner. Errors: [`Error::NothingToUpdate`],
		/// [`Error::UnknownModel`], [`Error::NotOwner`], [`Error::ModelClosed`],
		/// [`Error::InsufficientDeposit`] (the description grew and the free balance cannot cover
		/// the larger deposit). Events: [`Event::ModelUpdated`].
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::update_model())]
		pub fn update_model(
			origin: OriginFor<T>,
			model: ModelId,
			price: Option<BalanceOf<T>>,
			description: Option<ModelDescription>,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			ensure!(price.is_some() || description.is_some(), Error::<T>::NothingToUpdate);
			let mut info = Self::owned_open_model(model, &owner)?;
			if let Some(price) = price {
				info.price = price;
			}
			if let Some(description) = description {
				let deposit = Self::deposit_for(
					&Params::<T>::get(),
					Self::stored_len(model),
					description.len() as u32,
				);
				let reason = HoldReason::ModelDeposit.into();
				if deposit > info.deposit {
					T::Currency::hold(&reason, &owner, deposit.saturating_sub(info.deposit))
						.map_err(|_| Error::<T>::InsufficientDeposit)?;
				} else {
					T::Currency::release(
						&reason,
						&owner,
						info.deposit.saturating_sub(deposit),
						Precision::BestEffort,
					)?;
				}
				info.deposit = deposit;
				info.description = description;
			}
			Self::deposit_event(Event::ModelUpdated {
				model,
				price: info.price,
				deposit: info.deposit,
			});
			Models::<T>::insert(model, info);
			Ok(())
		}

		/// Gives a model, with its held deposit, to `new_owner`, who then receives its price and
		/// gets the deposit back when removing it.
		///
		/// Origin: signed, by the model's owner. Errors: [`Error::UnknownModel`],
		/// [`Error::NotOwner`], [`Error::ModelClosed`], [`Error::SameOwner`],
		/// [`Error::NewOwnerWithoutAccount`], [`Error::DuplicateVersion`] and
		/// [`Error::DuplicateHash`] (the new owner already has a model of this name and version, or
		/// these bytes), [`Error::TooManyModels`] (the new owner has `MaxModelsPerOwner`). Events:
		/// [`Event::OwnershipTransferred`].
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::transfer_ownership())]
		pub fn transfer_ownership(
			origin: OriginFor<T>,
			model: ModelId,
			new_owner: T::AccountId,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			let mut info = Self::owned_open_model(model, &owner)?;
			ensure!(new_owner != owner, Error::<T>::SameOwner);
			ensure!(
				T::Currency::total_balance(&new_owner) >= T::Currency::minimum_balance(),
				Error::<T>::NewOwnerWithoutAccount
			);
			ensure!(
				!ModelByName::<T>::contains_key((&new_owner, &info.name, &info.version)),
				Error::<T>::DuplicateVersion
			);
			ensure!(
				!ModelByHash::<T>::contains_key(&new_owner, info.hash),
				Error::<T>::DuplicateHash
			);
			let new_owned = OwnedModelCount::<T>::get(&new_owner);
			ensure!(new_owned < T::MaxModelsPerOwner::get(), Error::<T>::TooManyModels);

			T::Currency::transfer_on_hold(
				&HoldReason::ModelDeposit.into(),
				&owner,
				&new_owner,
				info.deposit,
				Precision::Exact,
				Restriction::OnHold,
				Fortitude::Polite,
			)?;
			Self::unindex_model(model, &info);
			info.owner = new_owner.clone();
			Self::index_model(model, &info, new_owned);
			Models::<T>::insert(model, info);
			Self::deposit_event(Event::OwnershipTransferred { model, from: owner, to: new_owner });
			Ok(())
		}

		/// Stops new jobs from using a model; jobs already submitted finish.
		///
		/// Origin: signed, by the model's owner. Errors: [`Error::UnknownModel`],
		/// [`Error::NotOwner`], [`Error::ModelClosed`], [`Error::AlreadyDeprecated`]. Events:
		/// [`Event::ModelDeprecated`].
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::deprecate())]
		pub fn deprecate(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			let mut info = Self::owned_open_model(model, &owner)?;
			ensure!(info.status != ModelStatus::Deprecated, Error::<T>::AlreadyDeprecated);
			info.status = ModelStatus::Deprecated;
			// A pending model is no longer attested: no job will ever use it.
			Attestations::<T>::remove(model);
			Models::<T>::insert(model, info);
			Self::deposit_event(Event::ModelDeprecated { model });
			Ok(())
		}

		/// Removes a model that no job uses, returning what is left of its deposit. Its name,
		/// version and hash become free for the owner again (a banned hash stays banned).
		///
		/// Origin: signed, by the model's owner. Errors: [`Error::UnknownModel`],
		/// [`Error::NotOwner`], [`Error::ModelInUse`]. Events: [`Event::ModelRemoved`].
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::remove())]
		pub fn remove(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			let info = Models::<T>::get(model).ok_or(Error::<T>::UnknownModel)?;
			ensure!(info.owner == owner, Error::<T>::NotOwner);
			ensure!(!T::ModelUsage::is_in_use(model), Error::<T>::ModelInUse);
			let returned = T::Currency::release(
				&HoldReason::ModelDeposit.into(),
				&owner,
				info.deposit,
				Precision::BestEffort,
			)?;
			Self::unindex_model(model, &info);
			Models::<T>::remove(model);
			InlineBytes::<T>::remove(model);
			Cards::<T>::remove(model);
			ModelReferenceVectors::<T>::remove(model);
			ReferenceRecords::<T>::remove(model);
			Attestations::<T>::remove(model);
			ModelCompute::<T>::remove(model);
			Self::deposit_event(Event::ModelRemoved { model, returned });
			Ok(())
		}

		/// Rejects a model whatever the validators said, with the penalty of a rejection.
		///
		/// Origin: [`Config::AdminOrigin`]. Errors: [`Error::UnknownModel`], [`Error::ModelClosed`]
		/// (rejected or banned already). Events: [`Event::ModelRejected`].
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::force_reject())]
		pub fn force_reject(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			let info = Models::<T>::get(model).ok_or(Error::<T>::UnknownModel)?;
			ensure!(!info.status.is_closed(), Error::<T>::ModelClosed);
			Attestations::<T>::remove(model);
			Self::reject(model, info, RejectionReason::Admin);
			Ok(())
		}

		/// Bans a model: slashes its whole deposit, drops its inline bytes and refuses its hash
		/// from anyone for ever after. The owner may still remove the record.
		///
		/// Origin: [`Config::AdminOrigin`]. Errors: [`Error::UnknownModel`],
		/// [`Error::AlreadyBanned`]. Events: [`Event::ModelBanned`].
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::ban_model())]
		pub fn ban_model(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			let mut info = Models::<T>::get(model).ok_or(Error::<T>::UnknownModel)?;
			ensure!(info.status != ModelStatus::Banned, Error::<T>::AlreadyBanned);
			let deposit = info.deposit;
			let slashed = Self::slash_deposit(&mut info, deposit);
			info.status = ModelStatus::Banned;
			let hash = info.hash;
			InlineBytes::<T>::remove(model);
			Attestations::<T>::remove(model);
			BannedHashes::<T>::insert(hash, ());
			Models::<T>::insert(model, info);
			Self::deposit_event(Event::ModelBanned { model, hash, slashed });
			Ok(())
		}

		/// Sets the registry's parameters. Deposits already held are not changed until the
		/// owner updates the description.
		///
		/// Origin: [`Config::AdminOrigin`]. Errors: [`Error::InvalidParams`]. Events:
		/// [`Event::ParamsSet`].
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::set_params())]
		pub fn set_params(
			origin: OriginFor<T>,
			params: RegistryParams<BalanceOf<T>>,
		) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			ensure!(Self::params_are_valid(&params), Error::<T>::InvalidParams);
			Params::<T>::put(params);
			Self::deposit_event(Event::ParamsSet { params });
			Ok(())
		}

		/// [`Call::attest_model`] for `validator`, from its offchain worker: a general
		/// transaction without a fee, authorized by `signature`, its inference key's over
		/// `("gateless/attest", model, verdict, validator)`. The pool runs the same checks, so an
		/// attestation that would not count never reaches a block.
		///
		/// Origin: an authorized transaction of the validator's offchain worker
		/// (`#[pallet::authorize]`: the pool checks the signature and the attestation before it
		/// takes it), not signed: no account pays a fee. Errors: [`Error::NoInferenceKey`],
		/// [`Error::BadSignature`], and those of [`Call::attest_model`]: [`Error::NotValidator`],
		/// [`Error::UnknownModel`], [`Error::NotPending`], [`Error::AlreadyAttested`],
		/// [`Error::TooManyAttestations`] (the pool refuses each with `InvalidTransaction::Custom`
		/// and the error's index). Events: those of [`Call::attest_model`]:
		/// [`Event::ModelAttested`], then [`Event::ModelActivated`] or [`Event::ModelRejected`]
		/// when this attestation reaches the quorum.
		#[pallet::call_index(9)]
		#[pallet::weight((T::WeightInfo::attest_model(), DispatchClass::Operational))]
		#[pallet::authorize(Pallet::<T>::authorize_attestation)]
		#[pallet::weight_of_authorize(T::WeightInfo::authorize_attestation())]
		pub fn attest_model_as(
			origin: OriginFor<T>,
			model: ModelId,
			verdict: Verdict,
			validator: T::AccountId,
			signature: InferenceSignature,
		) -> DispatchResultWithPostInfo {
			ensure_authorized(origin)?;
			Self::check_attestation_signature(model, verdict, &validator, &signature)?;
			Self::do_attest(validator, model, verdict)?;
			Ok(Pays::No.into())
		}
	}
}

/// Gives benchmark validators inference keys and signs with them, in a runtime-specific way.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<T: Config> {
	/// Gives `who` an inference key that [`Config::Keys`] returns for it.
	fn inference_key(who: &T::AccountId) -> gateless_primitives::crypto::InferenceId;
	/// Signs `payload` with `who`'s inference key.
	fn sign(who: &T::AccountId, payload: &[u8]) -> InferenceSignature;
}

impl<T: Config> Pallet<T> {
	/// What an attestation's signature signs.
	pub fn attestation_payload(
		model: ModelId,
		verdict: Verdict,
		validator: &T::AccountId,
	) -> Vec<u8> {
		(b"gateless/attest", model, verdict, validator).encode()
	}

	fn check_attestation_signature(
		model: ModelId,
		verdict: Verdict,
		validator: &T::AccountId,
		signature: &InferenceSignature,
	) -> Result<(), Error<T>> {
		let key = T::Keys::inference_key(validator).ok_or(Error::<T>::NoInferenceKey)?;
		let payload = Self::attestation_payload(model, verdict, validator);
		ensure!(key.verify(&payload, signature), Error::<T>::BadSignature);
		Ok(())
	}

	/// Whether `validator` may attest `model` now: the checks of [`Call::attest_model`].
	fn check_attester(validator: &T::AccountId, model: ModelId) -> Result<(), Error<T>> {
		ensure!(T::Staking::is_active(validator), Error::<T>::NotValidator);
		let info = Models::<T>::get(model).ok_or(Error::<T>::UnknownModel)?;
		ensure!(info.status == ModelStatus::Pending, Error::<T>::NotPending);
		ensure!(
			!Attestations::<T>::get(model).iter().any(|(who, _)| who == validator),
			Error::<T>::AlreadyAttested
		);
		Ok(())
	}

	fn authorize_attestation(
		_source: TransactionSource,
		model: &ModelId,
		verdict: &Verdict,
		validator: &T::AccountId,
		signature: &InferenceSignature,
	) -> TransactionValidityWithRefund {
		let invalid = |error: Error<T>| -> TransactionValidityError {
			InvalidTransaction::Custom(error.encode().first().copied().unwrap_or(u8::MAX)).into()
		};
		Self::check_attester(validator, *model).map_err(invalid)?;
		Self::check_attestation_signature(*model, *verdict, validator, signature)
			.map_err(invalid)?;
		let validity = ValidTransaction::with_tag_prefix("GatelessAttestation")
			.priority(T::AttestationPriority::get())
			.and_provides((model, validator))
			// A pending model may wait long for others; resubmitting is the worker's job.
			.longevity(64)
			.propagate(true)
			.into();
		Ok((validity, Weight::zero()))
	}

	/// Records `validator`'s verdict on `model` and decides the model when a quorum agrees.
	fn do_attest(validator: T::AccountId, model: ModelId, verdict: Verdict) -> DispatchResult {
		Self::check_attester(&validator, model)?;
		let mut info = Models::<T>::get(model).ok_or(Error::<T>::UnknownModel)?;
		let mut attestations = Attestations::<T>::get(model);
		attestations
			.try_push((validator.clone(), verdict))
			.map_err(|_| Error::<T>::TooManyAttestations)?;
		Self::deposit_event(Event::ModelAttested { model, validator, verdict });

		if verdict.loads() {
			ReferenceRecords::<T>::mutate(model, |record| {
				if let Some(record) = record {
					record.checked_by = record.checked_by.saturating_add(1);
				}
			});
		}
		let tally = Self::tally(&attestations);
		if tally.loads >= tally.threshold {
			Attestations::<T>::remove(model);
			ModelCompute::<T>::insert(model, median_compute(&attestations));
			info.status = ModelStatus::Active;
			Models::<T>::insert(model, info);
			Self::deposit_event(Event::ModelActivated { model });
		} else if tally.fails >= tally.threshold {
			Attestations::<T>::remove(model);
			let reason = RejectionReason::Attested(most_reported_failure(&attestations));
			Self::reject(model, info, reason);
		} else {
			Attestations::<T>::insert(model, attestations);
		}
		Ok(())
	}
}

impl<MaxInline: Get<u32>> ModelSource<MaxInline> {
	/// How many bytes the source stores on chain.
	pub fn inline_len(&self) -> u32 {
		match self {
			ModelSource::Inline(bytes) => bytes.len() as u32,
			ModelSource::Uris(_) | ModelSource::Peers { .. } => 0,
		}
	}
}

/// Statuses after which a model only waits to be removed.
trait Closed {
	fn is_closed(&self) -> bool;
}

impl Closed for ModelStatus {
	fn is_closed(&self) -> bool {
		matches!(self, ModelStatus::Rejected(_) | ModelStatus::Banned)
	}
}

/// Whether `uri` is `http://` or `https://` followed by at least a host, in printable ASCII.
fn is_http_uri(uri: &[u8]) -> bool {
	let rest = uri
		.strip_prefix(b"https://".as_slice())
		.or_else(|| uri.strip_prefix(b"http://".as_slice()));
	match rest {
		Some(rest) => {
			!rest.is_empty()
				&& !rest.starts_with(b"/")
				&& rest.iter().all(|byte| byte.is_ascii_graphic())
		},
		None => false,
	}
}

/// The failure most validators reported; among equally reported ones, the first reported.
fn most_reported_failure<AccountId>(attestations: &[(AccountId, Verdict)]) -> AttestationFailure {
	let failures = || {
		attestations.iter().filter_map(|(_, verdict)| match verdict {
			Verdict::Fails(failure) => Some(*failure),
			Verdict::Loads(_) => None,
		})
	};
	let mut best: Option<(AttestationFailure, usize)> = None;
	for failure in failures() {
		let count = failures().filter(|other| *other == failure).count();
		if best.is_none_or(|(_, best_count)| count > best_count) {
			best = Some((failure, count));
		}
	}
	// A rejection needs at least one failure, so the fallback is never used.
	best.map_or(AttestationFailure::Malformed, |(failure, _)| failure)
}

/// Per field, the median of the compute that the attestations saying the model loads estimated
/// (the lower of the two middle ones for an even count): a minority of the quorum cannot move it
/// beyond what honest validators estimated.
fn median_compute<AccountId>(attestations: &[(AccountId, Verdict)]) -> ComputeCost {
	let mut fixed = Vec::with_capacity(attestations.len());
	let mut per_element = Vec::with_capacity(attestations.len());
	for (_, verdict) in attestations {
		if let Verdict::Loads(compute) = verdict {
			fixed.push(compute.fixed);
			per_element.push(compute.per_element);
		}
	}
	fn lower_median<V: Ord + Copy + Default>(mut values: Vec<V>) -> V {
		values.sort_unstable();
		let middle = values.len().saturating_sub(1) / 2;
		values.get(middle).copied().unwrap_or_default()
	}
	ComputeCost { fixed: lower_median(fixed), per_element: lower_median(per_element) }
}

/// The bytes a value takes in storage (0 for `None`).
fn encoded_len<V: Encode>(value: &Option<V>) -> u32 {
	value
		.as_ref()
		.map_or(0, |value| value.encoded_size().try_into().unwrap_or(u32::MAX))
}

/// The bytes reference vectors carry inline, together.
fn references_inline_len(references: &References) -> u32 {
	let total = references
		.iter()
		.map(|reference| reference.inline_len())
		.fold(0u64, u64::saturating_add);
	total.try_into().unwrap_or(u32::MAX)
}

impl<T: Config> Pallet<T> {
	/// The deposit for a model storing `stored_len` bytes on chain besides its record (inline
	/// ONNX bytes, card, reference vectors) and a description of `description_len` bytes, under
	/// `params`.
	pub fn deposit_for(
		params: &RegistryParams<BalanceOf<T>>,
		stored_len: u32,
		description_len: u32,
	) -> BalanceOf<T> {
		let stored_bytes: BalanceOf<T> = stored_len.saturating_add(description_len).into();
		params
			.deposit_base
			.saturating_add(params.deposit_per_byte.saturating_mul(stored_bytes))
	}

	/// The bytes a model stores on chain besides its record: inline ONNX bytes, card and
	/// reference vectors.
	fn stored_len(model: ModelId) -> u32 {
		let inline_len = InlineBytes::<T>::decode_len(model).unwrap_or(0) as u32;
		inline_len
			.saturating_add(encoded_len(&Cards::<T>::get(model)))
			.saturating_add(ReferenceRecords::<T>::get(model).map_or(0, |record| record.stored_len))
	}

	/// A model's reference vectors with how many validators checked them, if it has some.
	pub fn model_references(model: ModelId) -> Option<ModelReferences> {
		let record = ReferenceRecords::<T>::get(model)?;
		let vectors = ModelReferenceVectors::<T>::get(model)?;
		Some(ModelReferences { vectors, checked_by: record.checked_by })
	}

	/// The deposit that registering a model would hold now, storing `stored_len` bytes besides
	/// its record (see [`Self::deposit_for`]).
	pub fn registration_deposit(stored_len: u32, description_len: u32) -> BalanceOf<T> {
		Self::deposit_for(&Params::<T>::get(), stored_len, description_len)
	}

	/// Whether `params` are acceptable (see [`Error::InvalidParams`]).
	pub fn params_are_valid(params: &RegistryParams<BalanceOf<T>>) -> bool {
		params.attestation_quorum > Perbill::from_percent(50)
			&& params.max_inline_bytes <= T::MaxInlineModelBytes::get()
			&& params.max_model_bytes >= u64::from(params.max_inline_bytes)
	}

	/// How many agreeing attestations decide a model, for the active set as it is now.
	pub fn attestation_threshold() -> u32 {
		let active = T::Staking::active_count();
		Params::<T>::get().attestation_quorum.mul_ceil(active).max(1)
	}

	/// The pending models that `validator` has not attested yet, in storage order. For
	/// validators' nodes: it reads every pending model's attestations.
	pub fn pending_models_unattested_by(
		validator: &T::AccountId,
	) -> impl Iterator<Item = ModelId> + '_ {
		Attestations::<T>::iter().filter_map(move |(model, attestations)| {
			(!attestations.iter().any(|(who, _)| who == validator)).then_some(model)
		})
	}

	/// Whether `model` is pending: registered, and not decided yet.
	pub fn is_pending(model: ModelId) -> bool {
		Attestations::<T>::contains_key(model)
	}

	/// A model's reference vectors, if it has some.
	pub fn reference_vectors(model: ModelId) -> Option<References> {
		ModelReferenceVectors::<T>::get(model)
	}

	/// The attestations so far of a pending model.
	pub fn attestation_tally(model: ModelId) -> Option<AttestationTally> {
		let info = Models::<T>::get(model)?;
		(info.status == ModelStatus::Pending).then(|| Self::tally(&Attestations::<T>::get(model)))
	}

	fn tally(attestations: &[(T::AccountId, Verdict)]) -> AttestationTally {
		let loads = attestations.iter().filter(|(_, verdict)| verdict.loads()).count() as u32;
		let fails = (attestations.len() as u32).saturating_sub(loads);
		AttestationTally { loads, fails, threshold: Self::attestation_threshold() }
	}

	/// One page of models from id `from` (see `ModelRegistryApi::models`).
	pub fn models_page(
		from: ModelId,
		limit: u32,
	) -> ModelPage<T::AccountId, BalanceOf<T>, BlockNumberFor<T>> {
		let limit = limit.min(MAX_MODELS_PER_PAGE) as usize;
		let end = NextModelId::<T>::get();
		let scan_end = end.min(from.saturating_add(MAX_IDS_SCANNED_PER_PAGE));
		let mut models = Vec::new();
		let mut id = from;
		while id < scan_end && models.len() < limit {
			if let Some(info) = Models::<T>::get(id) {
				models.push((id, info));
			}
			id = id.saturating_add(1);
		}
		ModelPage { models, next: (id < end).then_some(id) }
	}

	/// The ids of `owner`'s models, in id order (at most `MaxModelsPerOwner`).
	pub fn models_of(owner: &T::AccountId) -> Vec<ModelId> {
		let mut ids: Vec<ModelId> = ModelsByOwner::<T>::iter_key_prefix(owner).collect();
		ids.sort_unstable();
		ids
	}

	/// The most recently registered version of `owner`'s model `name` still present.
	pub fn latest_version(owner: &T::AccountId, name: &[u8]) -> Option<ModelId> {
		Self::models_of(owner)
			.into_iter()
			.rev()
			.find(|model| Models::<T>::get(model).is_some_and(|info| info.name.as_slice() == name))
	}

	/// The inline ONNX bytes of a model.
	pub fn inline_bytes(model: ModelId) -> Option<Vec<u8>> {
		InlineBytes::<T>::get(model).map(BoundedVec::into_inner)
	}

	/// The model, if `who` owns it and it is neither rejected nor banned.
	fn owned_open_model(model: ModelId, who: &T::AccountId) -> Result<ModelInfoOf<T>, Error<T>> {
		let info = Models::<T>::get(model).ok_or(Error::<T>::UnknownModel)?;
		ensure!(info.owner == *who, Error::<T>::NotOwner);
		ensure!(!info.status.is_closed(), Error::<T>::ModelClosed);
		Ok(info)
	}

	/// Marks a model rejected: drops its inline bytes, slashes the penalty, and releases the
	/// deposit except what still covers the record.
	fn reject(model: ModelId, mut info: ModelInfoOf<T>, reason: RejectionReason) {
		let params = Params::<T>::get();
		// At most the deposit: it cannot overflow. `*` rounds to the nearest, which no `Perbill`
		// method does (`mul_floor` rounds down).
		#[allow(clippy::arithmetic_side_effects)]
		let penalty_due = params.rejection_penalty * info.deposit;
		let penalty = Self::slash_deposit(&mut info, penalty_due);
		InlineBytes::<T>::remove(model);
		let record_deposit =
			Self::deposit_for(&params, Self::stored_len(model), info.description.len() as u32);
		let keep = record_deposit.min(info.deposit);
		let returned = T::Currency::release(
			&HoldReason::ModelDeposit.into(),
			&info.owner,
			info.deposit.saturating_sub(keep),
			Precision::BestEffort,
		)
		// The owner holds the model's deposit (see `do_try_state`).
		.defensive_unwrap_or_default();
		info.deposit = info.deposit.saturating_sub(returned);
		info.status = ModelStatus::Rejected(reason);
		Models::<T>::insert(model, info);
		Self::deposit_event(Event::ModelRejected { model, reason, penalty, returned });
	}

	/// Slashes up to `amount` of a model's deposit to [`Config::OnPenalty`]; returns how much.
	fn slash_deposit(info: &mut ModelInfoOf<T>, amount: BalanceOf<T>) -> BalanceOf<T> {
		let amount = amount.min(info.deposit);
		let (credit, _missing) = <T::Currency as fungible::BalancedHold<T::AccountId>>::slash(
			&HoldReason::ModelDeposit.into(),
			&info.owner,
			amount,
		);
		let slashed = credit.peek();
		T::OnPenalty::on_unbalanced(credit);
		info.deposit = info.deposit.saturating_sub(slashed);
		slashed
	}

	/// Registers an active model of `owner` behind a URI, with no deposit, for other pallets'
	/// benchmarks.
	#[cfg(feature = "runtime-benchmarks")]
	pub fn insert_active_model_for_benchmarks(
		owner: T::AccountId,
		signature: ModelSignature,
		determinism: Determinism,
		price: BalanceOf<T>,
	) -> ModelId {
		use codec::Encode;
		let model = NextModelId::<T>::get();
		NextModelId::<T>::put(model.saturating_add(1));
		let uri = gateless_primitives::model::ModelUri::truncate_from(
			b"https://bench.invalid/model.onnx".to_vec(),
		);
		let info = ModelInfo {
			owner: owner.clone(),
			name: ModelName::truncate_from(b"bench".to_vec()),
			version: ModelVersion::truncate_from(model.encode()),
			hash: H256(sp_io::hashing::blake2_256(&model.encode())),
			size: 1,
			location: ModelLocation::Uris(BoundedVec::truncate_from(alloc::vec![uri])),
			signature,
			determinism,
			price,
			description: ModelDescription::default(),
			status: ModelStatus::Active,
			deposit: Zero::zero(),
			registered_at: frame_system::Pallet::<T>::block_number(),
		};
		Self::index_model(model, &info, OwnedModelCount::<T>::get(&owner));
		Models::<T>::insert(model, info);
		model
	}

	fn index_model(model: ModelId, info: &ModelInfoOf<T>, owned_before: u32) {
		ModelByName::<T>::insert((&info.owner, &info.name, &info.version), model);
		ModelByHash::<T>::insert(&info.owner, info.hash, model);
		ModelsByOwner::<T>::insert(&info.owner, model, ());
		OwnedModelCount::<T>::insert(&info.owner, owned_before.saturating_add(1));
	}

	fn unindex_model(model: ModelId, info: &ModelInfoOf<T>) {
		ModelByName::<T>::remove((&info.owner, &info.name, &info.version));
		ModelByHash::<T>::remove(&info.owner, info.hash);
		ModelsByOwner::<T>::remove(&info.owner, model);
		let remaining = OwnedModelCount::<T>::get(&info.owner).saturating_sub(1);
		if remaining == 0 {
			OwnedModelCount::<T>::remove(&info.owner);
		} else {
			OwnedModelCount::<T>::insert(&info.owner, remaining);
		}
	}

	/// Checks the registry's invariants: every model is indexed under its owner, name, version
	/// and hash; counts and indexes have no strays; inline bytes exist exactly for inline models
	/// that are not rejected or banned; attestations exist only for pending models; and every
	/// owner's held deposit equals the deposits recorded on their models.
	/// Native (`std`) builds have it for the runtime's tests; the WASM only with `try-runtime`.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		use frame_support::traits::fungible::InspectHold;
		let next = NextModelId::<T>::get();
		let mut owed: BTreeMap<T::AccountId, (BalanceOf<T>, u32)> = BTreeMap::new();
		for (model, info) in Models::<T>::iter() {
			ensure!(model < next, "a model id is not below NextModelId");
			ensure!(
				ModelByName::<T>::get((&info.owner, &info.name, &info.version)) == Some(model),
				"a model is not indexed by its name and version"
			);
			ensure!(
				ModelByHash::<T>::get(&info.owner, info.hash) == Some(model),
				"a model is not indexed by its hash"
			);
			ensure!(
				ModelsByOwner::<T>::contains_key(&info.owner, model),
				"a model is not listed under its owner"
			);
			let inline_expected =
				info.location == ModelLocation::Inline && !info.status.is_closed();
			ensure!(
				InlineBytes::<T>::contains_key(model) == inline_expected,
				"inline bytes are missing or stray"
			);
			ensure!(
				Attestations::<T>::contains_key(model) == (info.status == ModelStatus::Pending),
				"a pending model without its attestations' entry, or a decided model with one"
			);
			if info.status == ModelStatus::Banned {
				ensure!(
					BannedHashes::<T>::contains_key(info.hash),
					"a banned hash is not recorded"
				);
			}
			let entry = owed.entry(info.owner.clone()).or_insert((Zero::zero(), 0));
			entry.0 = entry.0.saturating_add(info.deposit);
			entry.1 = entry.1.saturating_add(1);
		}
		ensure!(
			InlineBytes::<T>::iter_keys().all(Models::<T>::contains_key),
			"inline bytes of a removed model"
		);
		ensure!(
			Attestations::<T>::iter_keys().all(Models::<T>::contains_key),
			"attestations of a removed model"
		);
		ensure!(Cards::<T>::iter_keys().all(Models::<T>::contains_key), "card of a removed model");
		ensure!(
			ModelCompute::<T>::iter_keys().all(|model| {
				Models::<T>::get(model).is_some_and(|info| info.status != ModelStatus::Pending)
			}),
			"compute of a removed or pending model"
		);
		ensure!(
			ModelReferenceVectors::<T>::iter_keys().all(Models::<T>::contains_key),
			"reference vectors of a removed model"
		);
		ensure!(
			ModelReferenceVectors::<T>::iter_keys().all(ReferenceRecords::<T>::contains_key)
				&& ReferenceRecords::<T>::iter_keys().all(ModelReferenceVectors::<T>::contains_key),
			"reference vectors without their record, or a record without vectors"
		);
		ensure!(
			ModelByHash::<T>::iter_values().count() == Models::<T>::iter_keys().count()
				&& ModelByName::<T>::iter_values().count() == Models::<T>::iter_keys().count()
				&& ModelsByOwner::<T>::iter_keys().count() == Models::<T>::iter_keys().count(),
			"an index has stray entries"
		);
		for (owner, count) in OwnedModelCount::<T>::iter() {
			ensure!(
				owed.get(&owner).map(|(_, owned)| *owned) == Some(count),
				"OwnedModelCount disagrees with the models"
			);
		}
		for (owner, (deposits, count)) in owed {
			ensure!(
				OwnedModelCount::<T>::get(&owner) == count,
				"an owner's models are not counted"
			);
			ensure!(
				T::Currency::balance_on_hold(&HoldReason::ModelDeposit.into(), &owner) == deposits,
				"held deposits differ from the deposits recorded on models"
			);
		}
		Ok(())
	}
}

impl<T: Config> ModelProvider<T::AccountId, BalanceOf<T>, BlockNumberFor<T>> for Pallet<T> {
	fn model(model: ModelId) -> Option<ModelInfoOf<T>> {
		Models::<T>::get(model)
	}

	fn compute(model: ModelId) -> Option<ComputeCost> {
		ModelCompute::<T>::get(model)
	}
}
