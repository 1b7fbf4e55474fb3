//! A test runtime: System, Balances, Session (driven by this pallet) and the staking pallet.

use core::cell::RefCell;

use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstBool, ConstU32, ConstU64},
};
use sp_runtime::{
	impl_opaque_keys,
	testing::UintAuthorityId,
	traits::{ConvertInto, OpaqueKeys},
	BuildStorage, KeyTypeId, Perbill, RuntimeAppPublic,
};

use crate::{self as pallet_validator_staking, StakingParams};

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
	pub type Staking = pallet_validator_staking;
	#[runtime::pallet_index(3)]
	pub type Session = pallet_session;
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
	type ExistentialDeposit = ConstU128<1>;
	type RuntimeHoldReason = RuntimeHoldReason;
}

use frame_support::traits::ConstU128;

impl_opaque_keys! {
	pub struct MockSessionKeys {
		pub dummy: UintAuthorityId,
	}
}

thread_local! {
	static DISABLED: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
	static AUTHORITIES: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// Records what the session pallet tells its handlers, as Aura and GRANDPA would see it.
pub struct TestSessionHandler;

impl TestSessionHandler {
	/// The indices the session pallet disabled (`on_disabled`).
	pub fn disabled() -> Vec<u32> {
		DISABLED.with(|d| d.borrow().clone())
	}

	/// The authority keys of the current session.
	pub fn authorities() -> Vec<u64> {
		AUTHORITIES.with(|a| a.borrow().clone())
	}
}

impl pallet_session::SessionHandler<AccountId> for TestSessionHandler {
	const KEY_TYPE_IDS: &'static [KeyTypeId] = &[UintAuthorityId::ID];

	fn on_genesis_session<Ks: OpaqueKeys>(validators: &[(AccountId, Ks)]) {
		Self::on_new_session(true, validators, &[]);
	}

	fn on_new_session<Ks: OpaqueKeys>(
		_changed: bool,
		validators: &[(AccountId, Ks)],
		_queued: &[(AccountId, Ks)],
	) {
		let keys = validators
			.iter()
			.map(|(_, keys)| {
				keys.get::<UintAuthorityId>(UintAuthorityId::ID).map_or(0, |key| key.0)
			})
			.collect();
		AUTHORITIES.with(|a| *a.borrow_mut() = keys);
		DISABLED.with(|d| d.borrow_mut().clear());
	}

	fn on_disabled(index: u32) {
		DISABLED.with(|d| d.borrow_mut().push(index));
	}
}

impl pallet_session::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type ValidatorId = AccountId;
	type ValidatorIdOf = ConvertInto;
	type ShouldEndSession = Staking;
	type NextSessionRotation = Staking;
	type SessionManager = Staking;
	type SessionHandler = TestSessionHandler;
	type Keys = MockSessionKeys;
	/// Up to all but one validator may be disabled, so that the tests see disabling happen.
	type DisablingStrategy = pallet_session::disabling::UpToLimitDisablingStrategy<1>;
	type WeightInfo = ();
	type Currency = Balances;
	type KeyDeposit = ConstU128<0>;
}

pub const SESSION_LENGTH: u64 = 5;
pub const UNBONDING_PERIOD: u64 = 20;
pub const MIN_BOND: Balance = 100;
pub const INITIAL_BALANCE: Balance = 10_000;
/// Genesis validators, bonded with `GENESIS_BOND` each.
pub const V1: AccountId = 11;
pub const V2: AccountId = 12;
pub const V3: AccountId = 13;
pub const GENESIS_BOND: Balance = 1_000;
/// Funded, not bonded.
pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;

parameter_types! {
	pub DefaultParams: StakingParams<Balance> = StakingParams {
		min_validator_bond: MIN_BOND,
		min_validators: 2,
		max_validators: 4,
		max_offences_per_session: 1,
	};
	pub const MaxOffenceSlash: Perbill = Perbill::from_percent(10);
}

/// Sessions whose consensus offences can be reported, before the current one.
pub const HISTORY_DEPTH: u32 = 3;

impl pallet_validator_staking::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Session = Session;
	type AdminOrigin = frame_system::EnsureRoot<AccountId>;
	type Slashed = ();
	type UnbondingPeriod = ConstU64<UNBONDING_PERIOD>;
	type SessionLength = ConstU64<SESSION_LENGTH>;
	type EndsSessions = ConstBool<true>;
	type MaxValidators = ConstU32<4>;
	type MaxCandidates = ConstU32<6>;
	type MaxUnlockingChunks = ConstU32<3>;
	type HistoryDepth = ConstU32<HISTORY_DEPTH>;
	type MaxOffenceSlash = MaxOffenceSlash;
	type DefaultParams = DefaultParams;
	type WeightInfo = ();
}

pub fn keys(who: AccountId) -> MockSessionKeys {
	MockSessionKeys { dummy: UintAuthorityId(who) }
}

/// Builds test externalities: V1..V3 validating from genesis with keys, ALICE and BOB funded.
#[derive(Default)]
pub struct ExtBuilder;

impl ExtBuilder {
	pub fn build(self) -> sp_io::TestExternalities {
		DISABLED.with(|d| d.borrow_mut().clear());
		AUTHORITIES.with(|a| a.borrow_mut().clear());
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> {
			balances: [V1, V2, V3, ALICE, BOB, 3, 4, 5, 6]
				.into_iter()
				.map(|who| (who, INITIAL_BALANCE))
				.collect(),
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		pallet_validator_staking::GenesisConfig::<Test> {
			validators: [V1, V2, V3].into_iter().map(|v| (v, GENESIS_BOND)).collect(),
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		pallet_session::GenesisConfig::<Test> {
			keys: [V1, V2, V3].into_iter().map(|v| (v, v, keys(v))).collect(),
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| System::set_block_number(1));
		ext
	}

	/// Builds, runs `test`, then checks the pallet's invariants.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			Staking::do_try_state().expect("invariants hold");
		});
	}
}

/// Runs blocks up to `n` with every pallet's hooks (the session pallet's ends sessions),
/// checking the pallet's invariants after each.
pub fn run_to_block(n: u64) {
	System::run_to_block_with::<AllPalletsWithSystem>(
		n,
		frame_system::RunToBlockHooks::default().after_initialize(|_| {
			Staking::do_try_state().expect("invariants hold after every block");
		}),
	);
}

/// Runs blocks until session `index` has started.
pub fn run_to_session(index: u32) {
	while Session::current_index() < index {
		run_to_block(System::block_number() + 1);
	}
}

/// Sets `who`'s session keys, with the proof that `who` owns them.
pub fn set_keys(who: AccountId) {
	use codec::Encode;
	let proof = UintAuthorityId(who).sign(&who.encode()).expect("test keys sign").encode();
	frame_support::assert_ok!(Session::set_keys(RuntimeOrigin::signed(who), keys(who), proof));
}

/// The events of this pallet so far.
pub fn staking_events() -> Vec<crate::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Staking(event) => Some(event),
			_ => None,
		})
		.collect()
}

/// The session pallet's current validators.
pub fn session_validators() -> Vec<AccountId> {
	Session::validators()
}
