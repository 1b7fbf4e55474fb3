//! System-level pallets: frame-system, timestamp and sudo.

use frame_support::{
	derive_impl,
	dispatch::DispatchClass,
	parameter_types,
	traits::Defensive,
	weights::{
		constants::{
			BlockExecutionWeight, ExtrinsicBaseWeight, ParityDbWeight, WEIGHT_REF_TIME_PER_SECOND,
		},
		Weight,
	},
};
use frame_system::limits::{BlockLength, BlockWeights};
use sp_runtime::Perbill;
use sp_version::RuntimeVersion;

// `derive_impl` fills in `RuntimeOrigin`, `RuntimeTask` and `PalletInfo` by name.
use crate::{
	token, AccountId, Babe, Balance, Block, BlockNumber, Hash, Nonce, PalletInfo, Runtime,
	RuntimeCall, RuntimeEvent, RuntimeOrigin, RuntimeTask, SLOT_DURATION, VERSION,
};

/// Normal (user) transactions may fill this share of a block; the rest is kept for operational
/// transactions and the block's own hooks.
const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);

/// Operational transactions, above all validators' duties (commits, reveals, abstentions,
/// settlements, attestations, all fee-free), may fill at most this share of a block's weight and
/// may only join a block that is still below this share of its length: their own budget, so that
/// a flood of duties (or of hostile models' outputs) cannot crowd users out. Users keep at least
/// `1 - DUTY_RATIO - hooks` of the weight and `(NORMAL_DISPATCH_RATIO - DUTY_RATIO)` of the length.
pub const DUTY_RATIO: Perbill = Perbill::from_percent(40);

/// Two seconds of the six-second block are for execution: the rest is for propagation and import.
const MAXIMUM_BLOCK_REF_TIME: u64 = 2 * WEIGHT_REF_TIME_PER_SECOND;

/// Five MiB per block: room for inline ONNX models and tensors without letting one block
/// outgrow what validators can gossip within a slot.
const MAXIMUM_BLOCK_LENGTH: u32 = 5 * 1024 * 1024;

/// `ratio` of `value` (a weight or a length), rounded to the nearest as `Perbill * value` rounds.
// A share of at most one of a value cannot overflow, which the lint cannot tell.
#[allow(clippy::arithmetic_side_effects)]
pub(crate) fn share_of<N>(ratio: Perbill, value: N) -> N
where
	Perbill: core::ops::Mul<N, Output = N>,
{
	ratio * value
}

parameter_types! {
	pub const BlockHashCount: BlockNumber = crate::BLOCK_HASH_COUNT;
	pub const Version: RuntimeVersion = VERSION;
	/// Normal transactions up to 75 % of the block and never past it; operational ones up to
	/// `DUTY_RATIO`, of which the 25 % that normal ones cannot use is theirs even in a block full
	/// of users' transactions. (The builder takes the largest class total as the block's, so the
	/// two seconds are set afterwards.)
	pub RuntimeBlockWeights: BlockWeights = {
		let max_block = Weight::from_parts(MAXIMUM_BLOCK_REF_TIME, u64::MAX);
		let initialization = share_of(Perbill::from_percent(10), max_block);
		let largest = |total: Weight| {
			Some(total.saturating_sub(initialization).saturating_sub(ExtrinsicBaseWeight::get()))
		};
		let normal = share_of(NORMAL_DISPATCH_RATIO, max_block);
		let duty = share_of(DUTY_RATIO, max_block);
		let built = BlockWeights::builder()
			.base_block(BlockExecutionWeight::get())
			.for_class(DispatchClass::all(), |weights| {
				weights.base_extrinsic = ExtrinsicBaseWeight::get();
			})
			.for_class(DispatchClass::Normal, |weights| {
				weights.max_total = Some(normal);
				weights.max_extrinsic = largest(normal);
			})
			.for_class(DispatchClass::Operational, |weights| {
				weights.max_total = Some(duty);
				weights.max_extrinsic = largest(duty);
				weights.reserved = Some(max_block.saturating_sub(normal));
			})
			.build_or_panic();
		// Raising the block's limit to the two seconds only loosens the checks the builder passed;
		// were it otherwise, the builder's limits would stand.
		BlockWeights { max_block, ..built.clone() }.validate().defensive_unwrap_or(built)
	};
	pub RuntimeBlockLength: BlockLength = BlockLength::builder()
		.max_length(MAXIMUM_BLOCK_LENGTH)
		.modify_max_length_for_class(DispatchClass::Normal, |max| {
			*max = share_of(NORMAL_DISPATCH_RATIO, MAXIMUM_BLOCK_LENGTH)
		})
		.modify_max_length_for_class(DispatchClass::Operational, |max| {
			*max = share_of(DUTY_RATIO, MAXIMUM_BLOCK_LENGTH)
		})
		.build();
	pub const SS58Prefix: u16 = token::SS58_PREFIX;
}

#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type Block = Block;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	type BlockHashCount = BlockHashCount;
	/// The node stores its state in ParityDB.
	type DbWeight = ParityDbWeight;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<Balance>;
	type SS58Prefix = SS58Prefix;
	type MaxConsumers = frame_support::traits::ConstU32<16>;
	type SingleBlockMigrations = crate::Migrations;
}

impl pallet_timestamp::Config for Runtime {
	/// Milliseconds since the Unix epoch.
	type Moment = u64;
	type OnTimestampSet = Babe;
	/// Blocks are at least a slot apart; BABE checks the timestamp against the slot.
	type MinimumPeriod = frame_support::traits::ConstU64<{ SLOT_DURATION / 2 }>;
	type WeightInfo = ();
}

/// Root access for the dev and local chains, until governance through a council replaces it.
impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}
