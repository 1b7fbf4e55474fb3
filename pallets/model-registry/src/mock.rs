//! A test runtime: System, Balances and the registry, with a validator set the tests choose.

use core::cell::RefCell;

use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64},
};
use gateless_primitives::crypto::InferenceId;
use gateless_primitives::{
	model::{
		DType, Determinism, Dim, ModelCard, ModelDescription, ModelSignature, TensorSpec,
		MAX_DESCRIPTION_LEN,
	},
	reference::References,
	traits::{InferenceKeys, ModelUsage, ValidatorSet},
};
use sp_core::H256;
use sp_core::{sr25519, Pair};
use sp_runtime::{BuildStorage, Perbill};

use crate::{self as pallet_model_registry, ModelId, ModelSource, RegistryParams};

pub type AccountId = u64;
pub type Balance = u128;
type Block = frame_system::mocking::MockBlock<Test>;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Test;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type Balances = pallet_balances;
	#[runtime::pallet_index(2)]
	pub type ModelRegistry = pallet_model_registry;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountId = AccountId;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type AccountStore = System;
	type ExistentialDeposit = ExistentialDeposit;
	type RuntimeHoldReason = RuntimeHoldReason;
}

pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
pub const CHARLIE: AccountId = 3;
/// Validators in the default set.
pub const V1: AccountId = 11;
pub const V2: AccountId = 12;
pub const V3: AccountId = 13;
/// Not a validator, and has no funds.
pub const NOBODY: AccountId = 99;
/// An account that never set an inference key (validators may be made of it).
pub const KEYLESS: AccountId = 17;
pub const INITIAL_BALANCE: Balance = 1_000_000;
pub const DEPOSIT_BASE: Balance = 100;
pub const DEPOSIT_PER_BYTE: Balance = 2;
pub const MAX_INLINE: u32 = 1024;

parameter_types! {
	pub const ExistentialDeposit: Balance = 1;
	pub DefaultParams: RegistryParams<Balance> = RegistryParams {
		attestation_quorum: Perbill::from_rational(2u32, 3),
		max_inline_bytes: 512,
		max_model_bytes: 10_000_000,
		deposit_base: DEPOSIT_BASE,
		deposit_per_byte: DEPOSIT_PER_BYTE,
		rejection_penalty: Perbill::from_percent(10),
	};
}

thread_local! {
	static VALIDATORS: RefCell<Vec<AccountId>> = RefCell::new(vec![V1, V2, V3]);
	static MODELS_IN_USE: RefCell<Vec<ModelId>> = const { RefCell::new(Vec::new()) };
}

/// The active set the tests choose.
pub struct TestValidators;

impl TestValidators {
	pub fn set(validators: Vec<AccountId>) {
		VALIDATORS.with(|v| *v.borrow_mut() = validators);
	}
}

impl ValidatorSet<AccountId> for TestValidators {
	fn is_active(who: &AccountId) -> bool {
		VALIDATORS.with(|v| v.borrow().contains(who))
	}

	fn active_count() -> u32 {
		VALIDATORS.with(|v| v.borrow().len() as u32)
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn set_active_for_benchmarks(validators: Vec<AccountId>) {
		Self::set(validators);
	}
}

/// Jobs the tests pretend are running.
pub struct TestUsage;

impl TestUsage {
	pub fn set_in_use(model: ModelId, in_use: bool) {
		MODELS_IN_USE.with(|m| {
			let mut models = m.borrow_mut();
			models.retain(|other| *other != model);
			if in_use {
				models.push(model);
			}
		});
	}
}

impl ModelUsage for TestUsage {
	fn is_in_use(model: ModelId) -> bool {
		MODELS_IN_USE.with(|m| m.borrow().contains(&model))
	}
}

/// Inference keys: account `n` has the key derived from `//n`.
pub struct TestKeys;

pub fn key_pair(who: AccountId) -> sr25519::Pair {
	sr25519::Pair::from_string(&format!("//{who}"), None).expect("a valid derivation")
}

impl InferenceKeys<AccountId> for TestKeys {
	fn inference_key(who: &AccountId) -> Option<InferenceId> {
		(*who != KEYLESS).then(|| key_pair(*who).public().into())
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl pallet_model_registry::BenchmarkHelper<Test> for TestKeys {
	fn inference_key(who: &AccountId) -> InferenceId {
		key_pair(*who).public().into()
	}

	fn sign(who: &AccountId, payload: &[u8]) -> gateless_primitives::crypto::inference::Signature {
		key_pair(*who).sign(payload).into()
	}
}

impl pallet_model_registry::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Staking = TestValidators;
	type Keys = TestKeys;
	type AttestationPriority = ConstU64<{ u64::MAX / 2 }>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = TestKeys;
	type ModelUsage = TestUsage;
	type AdminOrigin = frame_system::EnsureRoot<AccountId>;
	type OnPenalty = ();
	type MaxInlineModelBytes = ConstU32<MAX_INLINE>;
	type MaxModelsPerOwner = ConstU32<4>;
	type MaxReferenceBytes = ConstU32<64>;
	type MaxAttestations = ConstU32<5>;
	type DefaultParams = DefaultParams;
	type WeightInfo = ();
}

/// Builds test externalities: funded accounts, validators V1..V3, block 1.
pub struct ExtBuilder {
	balances: Vec<(AccountId, Balance)>,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		Self {
			balances: [ALICE, BOB, CHARLIE, V1, V2, V3]
				.into_iter()
				.map(|who| (who, INITIAL_BALANCE))
				.collect(),
		}
	}
}

impl ExtBuilder {
	/// Gives `who` exactly `balance`.
	pub fn balance(mut self, who: AccountId, balance: Balance) -> Self {
		self.balances.retain(|(other, _)| *other != who);
		self.balances.push((who, balance));
		self
	}

	pub fn build(self) -> sp_io::TestExternalities {
		TestValidators::set(vec![V1, V2, V3]);
		MODELS_IN_USE.with(|m| m.borrow_mut().clear());
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> { balances: self.balances, ..Default::default() }
			.assimilate_storage(&mut storage)
			.unwrap();
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| System::set_block_number(1));
		ext
	}

	/// Builds, runs `test`, then checks the registry's invariants.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			ModelRegistry::do_try_state().expect("invariants hold");
		});
	}
}

/// Some bytes standing in for an ONNX file (the registry never parses them; validators do).
pub fn onnx_bytes(seed: u8, len: usize) -> Vec<u8> {
	(0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

pub fn blake2(bytes: &[u8]) -> H256 {
	H256(sp_io::hashing::blake2_256(bytes))
}

/// A one-input, one-output float signature: `input` [batch, 4] -> `output` [batch, 3].
pub fn signature() -> ModelSignature {
	let tensor = |name: &str, width: u32| TensorSpec {
		name: name.as_bytes().to_vec().try_into().unwrap(),
		dtype: DType::F32,
		shape: vec![Dim::Dynamic, Dim::Fixed(width)].try_into().unwrap(),
	};
	ModelSignature {
		inputs: vec![tensor("input", 4)].try_into().unwrap(),
		outputs: vec![tensor("output", 3)].try_into().unwrap(),
		symbols: Default::default(),
	}
}

pub fn description(text: &str) -> ModelDescription {
	assert!(text.len() as u32 <= MAX_DESCRIPTION_LEN);
	text.as_bytes().to_vec().try_into().unwrap()
}

pub fn inline_source(bytes: &[u8]) -> ModelSource<ConstU32<MAX_INLINE>> {
	ModelSource::Inline(bytes.to_vec().try_into().unwrap())
}

pub fn uri_source(uris: &[&str]) -> ModelSource<ConstU32<MAX_INLINE>> {
	ModelSource::Uris(
		uris.iter()
			.map(|uri| uri.as_bytes().to_vec().try_into().unwrap())
			.collect::<Vec<_>>()
			.try_into()
			.unwrap(),
	)
}

pub fn tolerance() -> Determinism {
	Determinism::Tolerance {
		abs: sp_runtime::FixedU64::from_rational(1, 100_000),
		rel: Perbill::from_parts(1_000),
	}
}

/// Everything `register_model` takes, with defaults the tests change field by field.
#[derive(Clone)]
pub struct Registration {
	pub name: &'static str,
	pub version: &'static str,
	pub hash: H256,
	pub size: u64,
	pub source: ModelSource<ConstU32<MAX_INLINE>>,
	pub signature: ModelSignature,
	pub determinism: Determinism,
	pub price: Balance,
	pub description: ModelDescription,
	pub card: Option<ModelCard>,
	pub references: References,
}

impl Registration {
	/// An inline model of `len` bytes made from `seed`.
	pub fn inline(seed: u8, len: usize) -> Self {
		let bytes = onnx_bytes(seed, len);
		Self {
			name: "classifier",
			version: "1.0.0",
			hash: blake2(&bytes),
			size: len as u64,
			source: inline_source(&bytes),
			signature: signature(),
			determinism: tolerance(),
			price: 50,
			description: description("MIT; a test classifier"),
			card: None,
			references: Default::default(),
		}
	}

	/// A model of `size` bytes behind a URI, hash made from `seed`.
	pub fn by_uri(seed: u8, size: u64) -> Self {
		Self {
			hash: blake2(&[seed]),
			size,
			source: uri_source(&["https://models.example/classifier.onnx"]),
			..Self::inline(seed, 1)
		}
	}

	/// A model whose file nodes provide as content, with its chunk list's hash and no URI.
	pub fn by_peers(seed: u8, size: u64) -> Self {
		Self {
			hash: blake2(&[seed]),
			size,
			source: ModelSource::Peers { content: blake2(&[seed, 0xc0]), uris: Default::default() },
			..Self::inline(seed, 1)
		}
	}

	pub fn named(mut self, name: &'static str, version: &'static str) -> Self {
		self.name = name;
		self.version = version;
		self
	}

	pub fn register(self, owner: AccountId) -> sp_runtime::DispatchResult {
		ModelRegistry::register_model(
			RuntimeOrigin::signed(owner),
			self.name.as_bytes().to_vec().try_into().unwrap(),
			self.version.as_bytes().to_vec().try_into().unwrap(),
			self.hash,
			self.size,
			self.source,
			Box::new(self.signature),
			self.determinism,
			self.price,
			self.description,
			self.card.map(Box::new),
			self.references,
		)
	}
}

/// The deposit of a model with `inline` bytes and a description of `description` bytes, under
/// the default parameters.
pub fn expected_deposit(inline: usize, description: usize) -> Balance {
	DEPOSIT_BASE + DEPOSIT_PER_BYTE * (inline + description) as Balance
}

/// The events of this pallet so far.
pub fn registry_events() -> Vec<crate::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::ModelRegistry(event) => Some(event),
			_ => None,
		})
		.collect()
}
