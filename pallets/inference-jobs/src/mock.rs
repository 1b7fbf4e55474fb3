//! A test runtime: System, Balances and the jobs pallet, with models, validators and a verifier
//! that the tests control. The verification pallet's side of settlement is played by the tests,
//! which call [`JobSettlement`](gateless_primitives::traits::JobSettlement) directly.

use core::cell::RefCell;
use std::collections::BTreeMap;

use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU128, ConstU32, ConstU64},
};
use frame_system::pallet_prelude::BlockNumberFor;
use gateless_primitives::{
	content::content_ref,
	job::{ExpectedOutputs, InputTensors, JobId, JobInput, TensorData},
	model::{
		ComputeCost, DType, Determinism, Dim, ModelId, ModelInfo, ModelLocation, ModelSignature,
		ModelStatus, SymbolSpec, TensorSpec,
	},
	traits::{JobVerifier, ModelProvider, ValidatorRecords, ValidatorStakes},
};
use sp_core::H256;
use sp_runtime::{BuildStorage, DispatchResult};

use crate::{self as pallet_inference_jobs};

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
	pub type Jobs = pallet_inference_jobs;
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

/// Users.
pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
/// The owner of the test models.
pub const OWNER: AccountId = 5;
/// Has no funds.
pub const NOBODY: AccountId = 99;
/// Validators in the default set, with bonds 100, 200, ..., 600.
pub const VALIDATORS: [AccountId; 6] = [11, 12, 13, 14, 15, 16];

pub const INITIAL_BALANCE: Balance = 1_000_000;
pub const EXECUTOR_FEE: Balance = 10;
pub const FEE_PER_GIGA_OP: Balance = 2;
pub const MODEL_PRICE: Balance = 50;
pub const JOB_TTL: u64 = 50;
pub const RETENTION: u64 = 20;
pub const MAX_JOBS_PER_BLOCK: u32 = 4;
pub const MAX_PENDING: u32 = 2;
pub const MAX_INPUT_BYTES: u64 = 1024;
pub const MAX_INLINE_BYTES: u32 = 256;
pub const FEE_PER_BYTE: Balance = 3;
pub const FEE_PER_CONTENT_BYTE: Balance = 1;

/// An active model taking `[batch, 4]` f32 and giving `[batch, 3]` f32.
pub const MODEL: ModelId = 0;
/// A pending model.
pub const PENDING_MODEL: ModelId = 1;
/// An active model with two `[batch, 4]` f32 inputs, giving `[batch, 3]` f32.
pub const TWO_INPUT_MODEL: ModelId = 2;
/// An active model taking `[batch, 4]` f32 and giving `[?, 3]` f32: its output size is unknown
/// before the run.
pub const DYNAMIC_OUTPUT_MODEL: ModelId = 3;
/// An active model taking `[batch, 4]` f32 and giving `[batch, 65536]` f32: 256 KiB per row.
pub const WIDE_OUTPUT_MODEL: ModelId = 4;

parameter_types! {
	pub const ExistentialDeposit: Balance = 1;
}

thread_local! {
	static MODELS: RefCell<BTreeMap<ModelId, ModelInfo<AccountId, Balance, u64>>> =
		const { RefCell::new(BTreeMap::new()) };
	static STAKES: RefCell<Vec<(AccountId, Balance)>> = const { RefCell::new(Vec::new()) };
	static RECORDS: RefCell<Vec<Record>> = const { RefCell::new(Vec::new()) };
	static ROUNDS: RefCell<BTreeMap<JobId, OpenRound>> = const { RefCell::new(BTreeMap::new()) };
	static COMPUTE: RefCell<BTreeMap<ModelId, ComputeCost>> = const { RefCell::new(BTreeMap::new()) };
}

/// What the jobs pallet told the staking pallet's records.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Record {
	Assigned(AccountId),
	Agreed(AccountId, Balance),
}

/// A round the jobs pallet opened with the verifier.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct OpenRound {
	pub round: u8,
	pub committee: Vec<AccountId>,
	pub determinism: Determinism,
	pub outputs: ExpectedOutputs,
	pub committed: bool,
}

/// A `[batch, width]` f32 tensor.
pub fn tensor_spec(name: &str, width: u32) -> TensorSpec {
	TensorSpec {
		name: name.as_bytes().to_vec().try_into().unwrap(),
		dtype: DType::F32,
		shape: vec![Dim::Symbol(0), Dim::Fixed(width)].try_into().unwrap(),
	}
}

fn model(status: ModelStatus, inputs: Vec<TensorSpec>) -> ModelInfo<AccountId, Balance, u64> {
	model_giving(status, inputs, tensor_spec("output", 3))
}

fn model_giving(
	status: ModelStatus,
	inputs: Vec<TensorSpec>,
	output: TensorSpec,
) -> ModelInfo<AccountId, Balance, u64> {
	ModelInfo {
		owner: OWNER,
		name: b"classifier".to_vec().try_into().unwrap(),
		version: b"1".to_vec().try_into().unwrap(),
		hash: H256::repeat_byte(1),
		size: 1000,
		location: ModelLocation::Inline,
		signature: ModelSignature {
			inputs: inputs.try_into().unwrap(),
			outputs: vec![output].try_into().unwrap(),
			symbols: vec![SymbolSpec { name: b"batch".to_vec().try_into().unwrap(), example: 1 }]
				.try_into()
				.unwrap(),
		},
		determinism: Determinism::Exact,
		price: MODEL_PRICE,
		description: Default::default(),
		status,
		deposit: 0,
		registered_at: 0,
	}
}

/// The registered models.
pub struct TestModels;

impl TestModels {
	pub fn set_status(model: ModelId, status: ModelStatus) {
		MODELS.with(|m| m.borrow_mut().get_mut(&model).unwrap().status = status);
	}

	pub fn set_price(model: ModelId, price: Balance) {
		MODELS.with(|m| m.borrow_mut().get_mut(&model).unwrap().price = price);
	}

	/// Records the compute validators estimated for `model`.
	pub fn set_compute(model: ModelId, compute: ComputeCost) {
		COMPUTE.with(|c| c.borrow_mut().insert(model, compute));
	}
}

impl ModelProvider<AccountId, Balance, u64> for TestModels {
	fn model(model: ModelId) -> Option<ModelInfo<AccountId, Balance, u64>> {
		MODELS.with(|m| m.borrow().get(&model).cloned())
	}

	fn compute(model: ModelId) -> Option<ComputeCost> {
		COMPUTE.with(|c| c.borrow().get(&model).copied())
	}
}

/// The active set and bonds the tests choose, and the assignments and rewards counted.
pub struct TestStaking;

impl TestStaking {
	pub fn set_stakes(stakes: Vec<(AccountId, Balance)>) {
		STAKES.with(|s| *s.borrow_mut() = stakes);
	}
}

impl ValidatorStakes<AccountId, Balance> for TestStaking {
	fn active_stakes() -> Vec<(AccountId, Balance)> {
		STAKES.with(|s| s.borrow().clone())
	}
}

impl TestStaking {
	pub fn take_records() -> Vec<Record> {
		RECORDS.with(|r| core::mem::take(&mut *r.borrow_mut()))
	}
}

impl ValidatorRecords<AccountId, Balance> for TestStaking {
	fn note_assigned(who: &AccountId) {
		RECORDS.with(|r| r.borrow_mut().push(Record::Assigned(*who)));
	}
	fn note_agreed(who: &AccountId, reward: Balance) {
		RECORDS.with(|r| r.borrow_mut().push(Record::Agreed(*who, reward)));
	}
	fn note_dissented(_: &AccountId) {}
	fn note_missed(_: &AccountId) {}
	fn note_abstained(_: &AccountId) {}
}

/// Keeps the rounds opened; the tests say when someone committed.
pub struct TestVerifier;

impl TestVerifier {
	pub fn round(job: JobId) -> Option<OpenRound> {
		ROUNDS.with(|r| r.borrow().get(&job).cloned())
	}

	pub fn mark_committed(job: JobId) {
		ROUNDS.with(|r| r.borrow_mut().get_mut(&job).unwrap().committed = true);
	}
}

impl JobVerifier<AccountId> for TestVerifier {
	fn open_round(
		job: JobId,
		round: u8,
		committee: Vec<AccountId>,
		determinism: Determinism,
		outputs: ExpectedOutputs,
	) -> DispatchResult {
		let open = OpenRound { round, committee, determinism, outputs, committed: false };
		ROUNDS.with(|r| r.borrow_mut().insert(job, open));
		Ok(())
	}

	fn has_commitments(job: JobId) -> bool {
		Self::round(job).is_some_and(|round| round.committed)
	}

	fn close(job: JobId) {
		ROUNDS.with(|r| r.borrow_mut().remove(&job));
	}
}

thread_local! {
	static SEED: RefCell<Option<H256>> = const { RefCell::new(None) };
}

/// The hash of the subject and the block number (or the seed a test set): deterministic, and
/// different per job and round.
pub struct TestRandomness;

impl TestRandomness {
	/// Makes `seed`, instead of the block number, the randomness from now on.
	pub fn set_seed(seed: H256) {
		SEED.with(|s| *s.borrow_mut() = Some(seed));
	}
}

impl frame_support::traits::Randomness<H256, BlockNumberFor<Test>> for TestRandomness {
	fn random(subject: &[u8]) -> (H256, BlockNumberFor<Test>) {
		let block = System::block_number();
		let source = SEED.with(|s| *s.borrow()).unwrap_or_else(|| H256::from_low_u64_be(block));
		(H256(sp_io::hashing::blake2_256(&codec::Encode::encode(&(subject, source)))), block)
	}
}

impl pallet_inference_jobs::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Models = TestModels;
	type Staking = TestStaking;
	type Verifier = TestVerifier;
	type Randomness = TestRandomness;
	type ExecutorFee = ConstU128<EXECUTOR_FEE>;
	type FeePerGigaOp = ConstU128<FEE_PER_GIGA_OP>;
	type FeePerByte = ConstU128<FEE_PER_BYTE>;
	type FeePerContentByte = ConstU128<FEE_PER_CONTENT_BYTE>;
	type MaxInlineBytes = ConstU32<MAX_INLINE_BYTES>;
	type MaxInputBytes = ConstU64<MAX_INPUT_BYTES>;
	type DefaultReplicas = ConstU32<3>;
	type MaxReplicas = ConstU32<5>;
	type MaxExecutorsPerJob = ConstU32<16>;
	type MaxValidators = ConstU32<16>;
	type MaxJobsPerBlock = ConstU32<MAX_JOBS_PER_BLOCK>;
	type MaxJobsPerCall = ConstU32<MAX_JOBS_PER_BLOCK>;
	type MaxPendingPerValidator = ConstU32<MAX_PENDING>;
	type JobTtl = ConstU64<JOB_TTL>;
	type ResultRetention = ConstU64<RETENTION>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = TestBenchmarkHelper;
}

/// Sets up models and validators for the benchmark tests.
#[cfg(feature = "runtime-benchmarks")]
pub struct TestBenchmarkHelper;

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<Test> for TestBenchmarkHelper {
	fn active_model(owner: AccountId, input_len: u32, price: Balance) -> ModelId {
		let mut info = model(ModelStatus::Active, vec![tensor_spec("input", input_len)]);
		info.owner = owner;
		info.price = price;
		info.signature.outputs = vec![tensor_spec("output", 4)].try_into().unwrap();
		let id = 1_000;
		MODELS.with(|m| m.borrow_mut().insert(id, info));
		id
	}

	fn staked_validators(validators: Vec<AccountId>, bond: Balance) {
		TestStaking::set_stakes(validators.into_iter().map(|who| (who, bond)).collect());
	}
}

pub struct ExtBuilder {
	balances: Vec<(AccountId, Balance)>,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		let mut balances: Vec<_> =
			[ALICE, BOB, OWNER].into_iter().map(|who| (who, INITIAL_BALANCE)).collect();
		balances.extend(VALIDATORS.iter().map(|who| (*who, INITIAL_BALANCE)));
		Self { balances }
	}
}

impl ExtBuilder {
	pub fn balance(mut self, who: AccountId, balance: Balance) -> Self {
		self.balances.retain(|(other, _)| *other != who);
		self.balances.push((who, balance));
		self
	}

	pub fn build(self) -> sp_io::TestExternalities {
		MODELS.with(|m| {
			let mut models = m.borrow_mut();
			models.clear();
			models.insert(MODEL, model(ModelStatus::Active, vec![tensor_spec("input", 4)]));
			models
				.insert(PENDING_MODEL, model(ModelStatus::Pending, vec![tensor_spec("input", 4)]));
			models.insert(
				TWO_INPUT_MODEL,
				model(ModelStatus::Active, vec![tensor_spec("a", 4), tensor_spec("b", 4)]),
			);
			let mut dynamic = tensor_spec("output", 3);
			dynamic.shape[0] = Dim::Dynamic;
			models.insert(
				DYNAMIC_OUTPUT_MODEL,
				model_giving(ModelStatus::Active, vec![tensor_spec("input", 4)], dynamic),
			);
			models.insert(
				WIDE_OUTPUT_MODEL,
				model_giving(
					ModelStatus::Active,
					vec![tensor_spec("input", 4)],
					tensor_spec("output", 4 << 20),
				),
			);
		});
		TestStaking::set_stakes(
			VALIDATORS
				.iter()
				.enumerate()
				.map(|(i, who)| (*who, 100 * (i as Balance + 1)))
				.collect(),
		);
		RECORDS.with(|r| r.borrow_mut().clear());
		ROUNDS.with(|r| r.borrow_mut().clear());
		COMPUTE.with(|c| c.borrow_mut().clear());
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> { balances: self.balances, ..Default::default() }
			.assimilate_storage(&mut storage)
			.unwrap();
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| System::set_block_number(1));
		ext
	}

	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			Jobs::do_try_state().expect("invariants hold");
		});
	}
}

/// A `[rows, 4]` f32 tensor: inline up to [`MAX_INLINE_BYTES`], by content above.
pub fn tensor(rows: u32) -> JobInput {
	let data: Vec<u8> = (0..rows * 4).flat_map(|i| (i as f32 * 0.25).to_le_bytes()).collect();
	let data = if data.len() <= MAX_INLINE_BYTES as usize {
		TensorData::Inline(data.try_into().unwrap())
	} else {
		TensorData::Content(content_ref(&data).unwrap())
	};
	JobInput { dtype: DType::F32, shape: vec![rows, 4].try_into().unwrap(), data }
}

/// The inputs of a job on [`MODEL`]: one `[rows, 4]` f32 tensor.
pub fn input(rows: u32) -> InputTensors {
	inputs(vec![tensor(rows)])
}

/// A job's inputs.
pub fn inputs(tensors: Vec<JobInput>) -> InputTensors {
	InputTensors::new(tensors).unwrap()
}

/// The data fee of a job on [`MODEL`] with `rows` rows and `replicas` executors.
pub fn data_fee(rows: u32, replicas: u32) -> Balance {
	let input = Balance::from(rows * 16);
	let outputs = FEE_PER_BYTE * Balance::from(replicas * rows * 12);
	if input <= Balance::from(MAX_INLINE_BYTES) {
		FEE_PER_BYTE * input + outputs
	} else {
		FEE_PER_CONTENT_BYTE * input * Balance::from(replicas) + outputs
	}
}

/// Moves to block `n`, ending each block on the way with every pallet's `on_finalize` (the jobs
/// pallet's draws the committees of the previous block's jobs) and starting the next with their
/// `on_initialize`, checking the pallet's invariants after each.
pub fn run_to_block(n: u64) {
	System::run_to_block_with::<AllPalletsWithSystem>(
		n,
		frame_system::RunToBlockHooks::default().after_initialize(|_| {
			Jobs::do_try_state().expect("invariants hold after every block");
		}),
	);
}

/// Ends this block and the next: the jobs submitted in this one have their committees drawn.
pub fn draw_submitted() {
	use frame_support::traits::Hooks;
	let next = System::block_number() + 1;
	run_to_block(next);
	Jobs::on_finalize(next);
}

pub fn job_events() -> Vec<crate::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Jobs(event) => Some(event),
			_ => None,
		})
		.collect()
}

/// The balance `who` holds as job escrow.
pub fn escrow_of(who: AccountId) -> Balance {
	use frame_support::traits::fungible::InspectHold;
	Balances::balance_on_hold(&crate::HoldReason::JobEscrow.into(), &who)
}
