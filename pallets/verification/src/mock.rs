//! A test runtime: System and the verification pallet, with staking and jobs that the tests
//! control. Executors sign with real sr25519 inference keys derived from their account ids.

use core::cell::RefCell;
use std::collections::BTreeMap;

use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64, ConstU8},
};
use gateless_primitives::{
	crypto::{inference, InferenceId},
	digest::{commitment, output_digest},
	job::{
		Abstention, AgreedOutcome, ExpectedOutputs, FailureReason, InferenceOutput, JobId, Tensor,
		TensorList,
	},
	model::{DType, Determinism, Dim, TensorSpec},
	traits::{
		InferenceKeys, JobSettlement, JobVerifier, SlashAmount, SlashReason, Slashing,
		ValidatorRecords,
	},
};
use sp_core::{sr25519, Pair};
use sp_runtime::{BuildStorage, DispatchError, DispatchResult, Perbill};

use crate::{self as pallet_result_verification};

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
	pub type Verification = pallet_result_verification;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountId = AccountId;
}

/// Every validator's bond in the test staking.
pub const BOND: Balance = 1_000;
pub const COMMIT_WINDOW: u64 = 5;
pub const REVEAL_WINDOW: u64 = 5;
pub const DISPUTE_WINDOW: u64 = 4;
/// Outputs of more than 1 KiB (256 f32 values) are revealed by content.
pub const MAX_INLINE_OUTPUT_BYTES: u32 = 1024;
pub const MAX_ESCALATIONS: u8 = 2;
pub const MAX_COMMITTEE: u32 = 7;
/// The most items in a batch of duties.
pub const MAX_DUTY_BATCH: u32 = 5;
/// Validators the tests use as executors (1 to 20 have inference keys).
pub const V1: AccountId = 1;
pub const V2: AccountId = 2;
pub const V3: AccountId = 3;
pub const V4: AccountId = 4;
pub const V5: AccountId = 5;
/// Has an inference key but is never an executor.
pub const STRANGER: AccountId = 20;
/// Has no inference key.
pub const KEYLESS: AccountId = 21;
/// The bound of the penalties that governance may set.
pub const MAX_SLASH: Perbill = Perbill::from_percent(50);

parameter_types! {
	pub const Quorum: Perbill = Perbill::from_parts(666_666_666);
	pub const MaxSlash: Perbill = MAX_SLASH;
	pub const DefaultParams: crate::VerificationParams = crate::VerificationParams {
		dissent_slash: Perbill::from_percent(10),
		withhold_slash: Perbill::from_percent(20),
		no_show_slash: Perbill::from_percent(5),
	};
	/// A quarter of two seconds, as the runtime; tests make it tighter.
	pub static MaxTallyWeight: frame_support::weights::Weight =
		frame_support::weights::Weight::from_parts(500_000_000_000, u64::MAX);
}

/// What the verification pallet told the staking and jobs pallets.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Call {
	Slashed(AccountId, SlashReason, Balance),
	Dissented(AccountId),
	Missed(AccountId),
	Abstained(AccountId),
	Finalized(JobId, AgreedOutcome<AccountId>),
	Escalated(JobId, u32),
	Failed(JobId, FailureReason),
	InputsUnavailable(JobId, Vec<AccountId>),
}

thread_local! {
	static CALLS: RefCell<Vec<Call>> = const { RefCell::new(Vec::new()) };
	/// The committees the next escalations return, per job; none means too few validators.
	static ESCALATIONS: RefCell<BTreeMap<JobId, Vec<Vec<AccountId>>>> =
		const { RefCell::new(BTreeMap::new()) };
	/// The jobs whose model the tests banned.
	static WITHDRAWN: RefCell<Vec<JobId>> = const { RefCell::new(Vec::new()) };
	/// The last round opened for each job, as the jobs pallet would know it.
	static OPENED: RefCell<BTreeMap<JobId, (u8, Determinism, ExpectedOutputs)>> =
		const { RefCell::new(BTreeMap::new()) };
}

/// Opens round `round` of `job`, as the jobs pallet does (for its first committee, and for an
/// escalation once drawn), remembering what an escalation reopens it with.
pub fn open_job_round(
	job: JobId,
	round: u8,
	committee: Vec<AccountId>,
	determinism: Determinism,
	outputs: ExpectedOutputs,
) -> sp_runtime::DispatchResult {
	OPENED.with(|o| o.borrow_mut().insert(job, (round, determinism, outputs.clone())));
	<Verification as JobVerifier<AccountId>>::open_round(
		job,
		round,
		committee,
		determinism,
		outputs,
	)
}

fn record(call: Call) {
	CALLS.with(|c| c.borrow_mut().push(call));
}

/// Everything the pallet told staking and jobs since the last call.
pub fn take_calls() -> Vec<Call> {
	CALLS.with(|c| core::mem::take(&mut *c.borrow_mut()))
}

/// Staking that slashes the share of a fixed bond and records it.
pub struct TestStaking;

impl Slashing<AccountId, Balance> for TestStaking {
	fn slash(who: &AccountId, amount: SlashAmount<Balance>, reason: SlashReason) -> Balance {
		let slashed = match amount {
			SlashAmount::Fraction(share) => share * BOND,
			SlashAmount::Amount(amount) => amount.min(BOND),
		};
		record(Call::Slashed(*who, reason, slashed));
		slashed
	}
}

impl ValidatorRecords<AccountId, Balance> for TestStaking {
	fn note_assigned(_: &AccountId) {}
	fn note_agreed(_: &AccountId, _: Balance) {}
	fn note_dissented(who: &AccountId) {
		record(Call::Dissented(*who));
	}
	fn note_missed(who: &AccountId) {
		record(Call::Missed(*who));
	}
	fn note_abstained(who: &AccountId) {
		record(Call::Abstained(*who));
	}
}

/// Jobs that record settlements; an escalation opens the next round at once (the jobs pallet
/// does at the end of the next block) with the committee queued with [`TestJobs::escalate_to`].
pub struct TestJobs;

impl TestJobs {
	pub fn escalate_to(job: JobId, committee: Vec<AccountId>) {
		ESCALATIONS.with(|e| e.borrow_mut().entry(job).or_default().push(committee));
	}

	/// Bans `job`'s model, as far as the verification pallet can tell.
	pub fn withdraw_model_of(job: JobId) {
		WITHDRAWN.with(|withdrawn| withdrawn.borrow_mut().push(job));
	}
}

impl JobSettlement<AccountId> for TestJobs {
	fn finalize(job: JobId, outcome: AgreedOutcome<AccountId>) -> DispatchResult {
		record(Call::Finalized(job, outcome));
		Ok(())
	}

	fn escalate(job: JobId, size: u32) -> DispatchResult {
		record(Call::Escalated(job, size));
		let committee = ESCALATIONS
			.with(|e| {
				e.borrow_mut()
					.get_mut(&job)
					.filter(|queued| !queued.is_empty())
					.map(|queued| queued.remove(0))
			})
			.ok_or(DispatchError::Other("no fresh validators"))?;
		let (round, determinism, outputs) = OPENED
			.with(|o| o.borrow().get(&job).cloned())
			.ok_or(DispatchError::Other("no round was opened"))?;
		open_job_round(job, round.saturating_add(1), committee, determinism, outputs)
	}

	fn fail(job: JobId, reason: FailureReason) -> DispatchResult {
		record(Call::Failed(job, reason));
		Ok(())
	}

	fn inputs_unavailable(job: JobId, reporters: Vec<AccountId>) -> DispatchResult {
		record(Call::InputsUnavailable(job, reporters));
		Ok(())
	}

	fn model_withdrawn(job: JobId) -> bool {
		WITHDRAWN.with(|withdrawn| withdrawn.borrow().contains(&job))
	}
}

/// The inference key pair of test account `who` (accounts 1 to 20 have one).
pub fn key_pair(who: AccountId) -> sr25519::Pair {
	sr25519::Pair::from_seed(&[who as u8; 32])
}

/// Inference keys derived from account ids.
pub struct TestKeys;

impl InferenceKeys<AccountId> for TestKeys {
	fn inference_key(who: &AccountId) -> Option<InferenceId> {
		(1..=20).contains(who).then(|| key_pair(*who).public().into())
	}
}

impl pallet_result_verification::Config for Test {
	type Balance = Balance;
	type Staking = TestStaking;
	type Jobs = TestJobs;
	type Keys = TestKeys;
	type CommitWindow = ConstU64<COMMIT_WINDOW>;
	type RevealWindow = ConstU64<REVEAL_WINDOW>;
	type DisputeWindow = ConstU64<DISPUTE_WINDOW>;
	type MaxInlineOutputBytes = ConstU32<MAX_INLINE_OUTPUT_BYTES>;
	type Quorum = Quorum;
	type MaxEscalations = ConstU8<MAX_ESCALATIONS>;
	type MaxCommittee = ConstU32<MAX_COMMITTEE>;
	type DefaultParams = DefaultParams;
	type MaxSlash = MaxSlash;
	type AdminOrigin = frame_system::EnsureRoot<AccountId>;
	type MaxTallyWeight = MaxTallyWeight;
	type DutyPriority = ConstU64<{ u64::MAX / 2 }>;
	type MaxDutyBatch = ConstU32<MAX_DUTY_BATCH>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = TestBenchmarkHelper;
}

/// Opens rounds directly, for the benchmark tests.
#[cfg(feature = "runtime-benchmarks")]
pub struct TestBenchmarkHelper;

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<Test> for TestBenchmarkHelper {
	fn open_job(committee: Vec<AccountId>, determinism: Determinism, output_len: u32) -> JobId {
		let job = 1_000;
		let output = TensorSpec {
			name: b"output".to_vec().try_into().unwrap(),
			dtype: DType::F32,
			shape: vec![Dim::Fixed(output_len)].try_into().unwrap(),
		};
		open_job_round(
			job,
			0,
			committee,
			determinism,
			ExpectedOutputs { specs: vec![output].try_into().unwrap(), symbols: 0 },
		)
		.unwrap();
		job
	}

	fn inference_key(who: &AccountId) -> InferenceId {
		TestKeys::inference_key(who).expect("benchmark accounts are 1 to 20")
	}

	fn sign(who: &AccountId, payload: &[u8]) -> inference::Signature {
		key_pair(*who).sign(payload).into()
	}

	fn executor(index: u32) -> AccountId {
		AccountId::from(index) + 1
	}
}

/// The outputs of the test models: `scores`, `[3]` f32.
pub fn expected_outputs() -> ExpectedOutputs {
	let scores = TensorSpec {
		name: b"scores".to_vec().try_into().unwrap(),
		dtype: DType::F32,
		shape: vec![Dim::Fixed(3)].try_into().unwrap(),
	};
	ExpectedOutputs { specs: vec![scores].try_into().unwrap(), symbols: 0 }
}

/// A tolerance of 1e-4 absolute, nothing relative.
pub fn tolerance() -> Determinism {
	Determinism::Tolerance {
		abs: sp_runtime::FixedU64::from_rational(1, 10_000),
		rel: Perbill::zero(),
	}
}

/// An f32 output of [`expected_outputs`]' shape (or any length, for mismatch tests).
pub fn scores(values: &[f32]) -> InferenceOutput {
	let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
	InferenceOutput::Tensors(
		TensorList::new(vec![Tensor {
			dtype: DType::F32,
			shape: vec![values.len() as u32].try_into().unwrap(),
			data: data.try_into().unwrap(),
		}])
		.unwrap(),
	)
}

/// The outputs of a wide test model: `map`, `[len]` f32.
pub fn wide_outputs(len: u32) -> ExpectedOutputs {
	let map = TensorSpec {
		name: b"map".to_vec().try_into().unwrap(),
		dtype: DType::F32,
		shape: vec![Dim::Fixed(len)].try_into().unwrap(),
	};
	ExpectedOutputs { specs: vec![map].try_into().unwrap(), symbols: 0 }
}

/// Opens round 0 of `job` for `committee`, on a model of [`wide_outputs`].
pub fn open_wide(job: JobId, committee: &[AccountId], determinism: Determinism, len: u32) {
	open_job_round(job, 0, committee.to_vec(), determinism, wide_outputs(len)).unwrap();
}

/// The little-endian bytes of f32 values.
pub fn f32_bytes(values: &[f32]) -> Vec<u8> {
	values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// An f32 output revealed by content under `determinism`, as an executor's node places it.
pub fn by_content(values: &[f32], determinism: &Determinism) -> InferenceOutput {
	let bytes = f32_bytes(values);
	let tensor = gateless_primitives::job::JobTensor {
		dtype: DType::F32,
		shape: vec![values.len() as u32].try_into().unwrap(),
		data: gateless_primitives::job::TensorData::Content(
			gateless_primitives::content::content_ref(&bytes).unwrap(),
		),
	};
	InferenceOutput::Content {
		tensors: TensorList::new(vec![tensor]).unwrap(),
		root: gateless_primitives::dispute::output_root(&[(DType::F32, &bytes)], determinism)
			.unwrap(),
	}
}

/// The settle call `who` would submit about `other` with `proof`, signed by its inference key.
pub fn settle_call(
	job: JobId,
	who: AccountId,
	other: AccountId,
	proof: gateless_primitives::dispute::DisputeProof,
) -> crate::Call<Test> {
	let payload = Verification::settle_payload(job, round_of(job), &who, &other, &proof);
	let signature: inference::Signature = key_pair(who).sign(&payload).into();
	crate::Call::settle { job, executor: who, other, proof, signature }
}

/// Opens round 0 of `job` for `committee`.
pub fn open(job: JobId, committee: &[AccountId], determinism: Determinism) {
	open_job_round(job, 0, committee.to_vec(), determinism, expected_outputs()).unwrap();
}

/// The salt test executor `who` uses.
pub fn salt(who: AccountId) -> [u8; 32] {
	[who as u8 + 100; 32]
}

/// The current round index of `job`.
pub fn round_of(job: JobId) -> u8 {
	crate::Rounds::<Test>::get(job).expect("a round").round
}

/// The commit call `who` would submit for `output`, signed by its inference key.
pub fn commit_call(job: JobId, who: AccountId, output: &InferenceOutput) -> crate::Call<Test> {
	let determinism = crate::Rounds::<Test>::get(job).expect("a round").determinism;
	let digest = output_digest(output, &determinism);
	let commitment = commitment(&digest, &salt(who), &who);
	let payload = Verification::commit_payload(job, round_of(job), &who, &commitment);
	let signature: inference::Signature = key_pair(who).sign(&payload).into();
	crate::Call::commit { job, executor: who, commitment, signature }
}

/// The reveal call `who` would submit for `output`, signed by its inference key.
pub fn reveal_call(job: JobId, who: AccountId, output: &InferenceOutput) -> crate::Call<Test> {
	let payload = Verification::reveal_payload(job, round_of(job), &who, output, &salt(who));
	let signature: inference::Signature = key_pair(who).sign(&payload).into();
	crate::Call::reveal { job, executor: who, output: output.clone(), salt: salt(who), signature }
}

/// The batch of commits `who` would submit for its `(job, round, output)`s, signed by its
/// inference key.
pub fn commit_batch_call(
	who: AccountId,
	items: &[(JobId, u8, InferenceOutput)],
) -> crate::Call<Test> {
	let items: Vec<crate::CommitItem> = items
		.iter()
		.map(|(job, round, output)| {
			let determinism =
				crate::Rounds::<Test>::get(job).map_or(Determinism::Exact, |r| r.determinism);
			let digest = output_digest(output, &determinism);
			crate::CommitItem {
				job: *job,
				round: *round,
				commitment: commitment(&digest, &salt(who), &who),
			}
		})
		.collect();
	let payload = Verification::commit_batch_payload(&who, &items);
	let signature: inference::Signature = key_pair(who).sign(&payload).into();
	crate::Call::commit_batch {
		executor: who,
		items: items.try_into().expect("within the bound"),
		signature,
	}
}

/// The batch of reveals `who` would submit for its `(job, round, output)`s, signed by its
/// inference key.
pub fn reveal_batch_call(
	who: AccountId,
	items: &[(JobId, u8, InferenceOutput)],
) -> crate::Call<Test> {
	let items: Vec<crate::RevealItem> = items
		.iter()
		.map(|(job, round, output)| crate::RevealItem {
			job: *job,
			round: *round,
			output: output.clone(),
			salt: salt(who),
		})
		.collect();
	let payload = Verification::reveal_batch_payload(&who, &items);
	let signature: inference::Signature = key_pair(who).sign(&payload).into();
	crate::Call::reveal_batch {
		executor: who,
		items: items.try_into().expect("within the bound"),
		signature,
	}
}

/// The abstain call `who` would submit for `cause`, signed by its inference key.
pub fn abstain_call(job: JobId, who: AccountId, cause: Abstention) -> crate::Call<Test> {
	let payload = Verification::abstain_payload(job, round_of(job), &who, &cause);
	let signature: inference::Signature = key_pair(who).sign(&payload).into();
	crate::Call::abstain { job, executor: who, cause, signature }
}

/// Validates `call` as the transaction pool would, then dispatches it with the authorized origin,
/// as a block would.
pub fn submit(
	call: crate::Call<Test>,
) -> sp_runtime::DispatchResultWithInfo<frame_support::dispatch::PostDispatchInfo> {
	use frame_support::{pallet_prelude::TransactionSource, traits::Authorize};
	use sp_runtime::traits::Dispatchable;
	let validity = call
		.authorize(TransactionSource::External)
		.expect("commit and reveal are authorized calls");
	validity.map_err(|error| sp_runtime::DispatchErrorWithPostInfo {
		post_info: Default::default(),
		error: DispatchError::Other(match error {
			sp_runtime::transaction_validity::TransactionValidityError::Invalid(_) => {
				"invalid transaction"
			},
			_ => "unknown validity",
		}),
	})?;
	RuntimeCall::Verification(call).dispatch(frame_system::RawOrigin::Authorized.into())
}

/// The pool's verdict on `call`: `Ok` or the custom code of `InvalidTransaction::Custom`.
pub fn pool_verdict(call: &crate::Call<Test>) -> Result<(), u8> {
	use frame_support::{pallet_prelude::TransactionSource, traits::Authorize};
	use sp_runtime::transaction_validity::{InvalidTransaction, TransactionValidityError};
	match call.authorize(TransactionSource::External).expect("an authorized call") {
		Ok(_) => Ok(()),
		Err(TransactionValidityError::Invalid(InvalidTransaction::Custom(code))) => Err(code),
		Err(other) => panic!("unexpected validity error {other:?}"),
	}
}

/// Commits and reveals `output` for each `(executor, output)`, commits first for all.
pub fn commit_all(job: JobId, outputs: &[(AccountId, InferenceOutput)]) {
	for (who, output) in outputs {
		submit(commit_call(job, *who, output)).unwrap();
	}
}

pub fn reveal_all(job: JobId, outputs: &[(AccountId, InferenceOutput)]) {
	for (who, output) in outputs {
		submit(reveal_call(job, *who, output)).unwrap();
	}
}

/// Moves to block `n`, running every pallet's hooks on the way (the pallet's `on_initialize`
/// tallies due rounds) and checking the pallet's invariants after each block.
pub fn run_to_block(n: u64) {
	System::run_to_block_with::<AllPalletsWithSystem>(
		n,
		frame_system::RunToBlockHooks::default().after_initialize(|_| {
			Verification::do_try_state().expect("invariants hold after every block");
		}),
	);
}

pub fn verification_events() -> Vec<crate::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Verification(event) => Some(event),
			_ => None,
		})
		.collect()
}

/// Builds test externalities: an empty chain at block 1 with a keystore, and no calls recorded.
#[derive(Default)]
pub struct ExtBuilder;

impl ExtBuilder {
	pub fn build(self) -> sp_io::TestExternalities {
		CALLS.with(|c| c.borrow_mut().clear());
		ESCALATIONS.with(|e| e.borrow_mut().clear());
		OPENED.with(|o| o.borrow_mut().clear());
		let storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.register_extension(sp_keystore::KeystoreExt(std::sync::Arc::new(
			sp_keystore::testing::MemoryKeystore::new(),
		)));
		ext.execute_with(|| System::set_block_number(1));
		ext
	}

	/// Builds, runs `test`, then checks the pallet's invariants.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			Verification::do_try_state().expect("invariants hold");
		});
	}
}
