//! # Gateless runtime
//!
//! The FRAME runtime of the Gateless appchain, compiled to WASM by `substrate-wasm-builder` and
//! executed by `gateless-node` (there is no native runtime). The runtime is split as in
//! polkadot-sdk:
//!
//! - this file: the types of blocks and transactions, the runtime version and the pallets with
//!   their indices;
//! - [`configs`]: the configuration of every pallet;
//! - [`apis`]: the runtime APIs that the node and clients call;
//! - [`genesis_config_presets`]: the `development` and `local_testnet` genesis presets.
//!
//! ## Pallet indices
//!
//! Indices are part of every encoded call and storage key that clients build, so they are fixed
//! here and grouped with gaps:
//!
//! | range | group | pallets |
//! | --- | --- | --- |
//! | 0–9 | system | System (0), Timestamp (1), Sudo (2, with a key on the development chain only), Utility (3) |
//! | 10–19 | money | Balances (10), TransactionPayment (11) |
//! | 20–29 | consensus and staking | Babe (20), Grandpa (21), Session (22), Staking (23), Historical (24, session-historical proofs), Authorship (25), Offences (26) |
//! | 30–39 | governance | Council (30), CouncilMembership (31), Whitelist (32), Preimage (33) |
//! | 40–59 | Gateless | ModelRegistry (40), InferenceJobs (41), Verification (42) |

#![cfg_attr(not(feature = "std"), no_std)]
// The workspace denies arithmetic_side_effects in code that runs on chain; tests may overflow
// (clippy.toml lets them unwrap, expect and index).
#![cfg_attr(test, allow(clippy::arithmetic_side_effects))]
// `construct_runtime` and `impl_runtime_apis` expand to a lot of code.
#![recursion_limit = "256"]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

extern crate alloc;

// Before `apis`: its benchmark macros are used there.
#[cfg(feature = "runtime-benchmarks")]
#[macro_use]
mod benchmarks;
pub mod apis;
pub mod configs;
pub mod genesis_config_presets;
pub mod offchain;

use alloc::{borrow::Cow, vec::Vec};
use sp_runtime::{generic, impl_opaque_keys, traits::BlakeTwo256, MultiAddress};
use sp_version::RuntimeVersion;

pub use gateless_primitives::{
	time::*, token, AccountId, Balance, BlockNumber, Hash, Nonce, Signature,
};

pub use frame_system::Call as SystemCall;
pub use pallet_balances::Call as BalancesCall;
pub use pallet_timestamp::Call as TimestampCall;
#[cfg(feature = "std")]
pub use sp_runtime::BuildStorage;

/// The runtime's version. `spec_version` must be bumped by every change of behaviour, and
/// `transaction_version` by every change to the encoding of calls or transaction extensions.
#[cfg(not(feature = "upgrade-test-next-version"))]
#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: Cow::Borrowed("gateless"),
	impl_name: Cow::Borrowed("gateless-node"),
	authoring_version: 1,
	spec_version: 127,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 6,
	system_version: 1,
};

/// The same runtime one spec version later, for the end-to-end test of a runtime upgrade (see
/// `build.rs`). `runtime_version` needs literals, hence the copy: keep `spec_version` one above
/// [`VERSION`]'s and everything else equal.
#[cfg(feature = "upgrade-test-next-version")]
#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: Cow::Borrowed("gateless"),
	impl_name: Cow::Borrowed("gateless-node"),
	authoring_version: 1,
	spec_version: 128,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 6,
	system_version: 1,
};

/// The code of a runtime upgrade for tests: this runtime with its spec version one higher.
#[cfg(feature = "std")]
pub mod upgrade_test {
	include!(concat!(env!("OUT_DIR"), "/wasm_binary_next.rs"));
}

/// Types that the node uses without knowing the runtime's details, so that it keeps syncing
/// across runtime upgrades that change extrinsics.
pub mod opaque {
	use super::*;

	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// An opaque block header.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// An opaque block.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
	/// An opaque block hash.
	pub type Hash = <BlakeTwo256 as sp_runtime::traits::Hash>::Output;
}

impl_opaque_keys! {
	/// The session keys of a validator: BABE for authoring blocks, GRANDPA for finality, and the
	/// inference key its offchain workers sign attestations, commitments and reveals with.
	pub struct SessionKeys {
		pub babe: Babe,
		pub grandpa: Grandpa,
		pub inference: configs::InferenceKeys,
	}
}

/// How many recent block hashes the runtime keeps (mortal transactions are checked against them).
pub const BLOCK_HASH_COUNT: BlockNumber = 2_400;

/// The address format of transactions.
pub type Address = MultiAddress<AccountId, ()>;

/// The block header.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;

/// The block.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;

/// A block with its justifications.
pub type SignedBlock = generic::SignedBlock<Block>;

/// The checks and charges that every transaction goes through, in order.
pub type TxExtension = (
	// First, so that calls with `#[pallet::authorize]` (validators' duties) skip signature checks.
	frame_system::AuthorizeCall<Runtime>,
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	frame_metadata_hash_extension::CheckMetadataHash<Runtime>,
	frame_system::WeightReclaim<Runtime>,
);

/// An extrinsic as it is encoded in a block.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;

/// The payload that a transaction's signer signs.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

impl<LocalCall> frame_system::offchain::CreateTransactionBase<LocalCall> for Runtime
where
	RuntimeCall: From<LocalCall>,
{
	type Extrinsic = UncheckedExtrinsic;
	type RuntimeCall = RuntimeCall;
}

impl<LocalCall> frame_system::offchain::CreateTransaction<LocalCall> for Runtime
where
	RuntimeCall: From<LocalCall>,
{
	type Extension = TxExtension;

	fn create_transaction(call: RuntimeCall, extension: TxExtension) -> UncheckedExtrinsic {
		UncheckedExtrinsic::new_transaction(call, extension)
	}
}

/// Equivocation reports are bare (unsigned) transactions, checked by the reporting pallet's
/// `validate_unsigned`.
impl<LocalCall> frame_system::offchain::CreateBare<LocalCall> for Runtime
where
	RuntimeCall: From<LocalCall>,
{
	fn create_bare(call: RuntimeCall) -> UncheckedExtrinsic {
		UncheckedExtrinsic::new_bare(call)
	}
}

/// Offchain workers send validators' duties (attestations, commits, reveals) as general
/// transactions: no signer and no fee; `AuthorizeCall` lets the call's own `authorize` check the
/// inference key's signature, and the other extensions pass unsigned origins through.
impl<LocalCall> frame_system::offchain::CreateAuthorizedTransaction<LocalCall> for Runtime
where
	RuntimeCall: From<LocalCall>,
{
	fn create_extension() -> TxExtension {
		(
			frame_system::AuthorizeCall::new(),
			frame_system::CheckNonZeroSender::new(),
			frame_system::CheckSpecVersion::new(),
			frame_system::CheckTxVersion::new(),
			frame_system::CheckGenesis::new(),
			frame_system::CheckEra::from(generic::Era::Immortal),
			frame_system::CheckNonce::from(0),
			frame_system::CheckWeight::new(),
			pallet_transaction_payment::ChargeTransactionPayment::from(0),
			frame_metadata_hash_extension::CheckMetadataHash::new(false),
			frame_system::WeightReclaim::new(),
		)
	}
}

/// Storage migrations run at the next runtime upgrade, beyond those of the pallets (run by
/// `frame_system`'s `SingleBlockMigrations`).
pub type Migrations = (
	pallet_model_registry::migrations::v1::MigrateV0ToV1<Runtime>,
	// Spec 118: the executor draw weighs validators by a snapshot of the session's bonds.
	pallet_validator_staking::migrations::SnapshotSessionStakes<Runtime>,
	// Spec 118: the jobs pallet's per-block submission count became its queue of jobs to draw.
	frame_support::migrations::RemoveStorage<
		InferenceJobsPalletName,
		SubmittedInBlockStorageName,
		<Runtime as frame_system::Config>::DbWeight,
	>,
	// Spec 120: models' statistics count the jobs running at the upgrade as submitted.
	pallet_inference_jobs::migrations::CountRunningJobs<Runtime>,
	// Spec 126: every pending model has an entry in the registry's attestations, its index.
	pallet_model_registry::migrations::v2::MigrateV1ToV2<Runtime>,
);

frame_support::parameter_types! {
	pub const InferenceJobsPalletName: &'static str = "InferenceJobs";
	pub const SubmittedInBlockStorageName: &'static str = "SubmittedInBlock";
}

/// Dispatches blocks and transactions to the pallets.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
>;

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
	pub struct Runtime;

	// Hooks run in the order of declaration: BABE reads the slot from the block's pre-digest in
	// its `on_initialize`, before the session pallet asks it whether the epoch ends.
	#[runtime::pallet_index(0)]
	pub type System = frame_system;

	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;

	#[runtime::pallet_index(20)]
	pub type Babe = pallet_babe;

	#[runtime::pallet_index(21)]
	pub type Grandpa = pallet_grandpa;

	// Who authored the block: the reporter of the equivocations it includes.
	#[runtime::pallet_index(25)]
	pub type Authorship = pallet_authorship;

	#[runtime::pallet_index(10)]
	pub type Balances = pallet_balances;

	#[runtime::pallet_index(11)]
	pub type TransactionPayment = pallet_transaction_payment;

	#[runtime::pallet_index(2)]
	pub type Sudo = pallet_sudo;

	#[runtime::pallet_index(3)]
	pub type Utility = pallet_utility;

	// After Balances (bonds are held at genesis) and before Session (whose genesis asks it for
	// the first set).
	#[runtime::pallet_index(23)]
	pub type Staking = pallet_validator_staking;

	// Reported equivocations, handed to Staking.
	#[runtime::pallet_index(26)]
	pub type Offences = pallet_offences;

	// The roots of past sessions' validator sets, which equivocation reports prove keys against.
	#[runtime::pallet_index(24)]
	pub type Historical = pallet_session::historical;

	// After Babe and Grandpa: a rotation hands them the new set from the next block on.
	#[runtime::pallet_index(22)]
	pub type Session = pallet_session;

	#[runtime::pallet_index(30)]
	pub type Council = pallet_collective<Instance1>;

	#[runtime::pallet_index(31)]
	pub type CouncilMembership = pallet_membership<Instance1>;

	#[runtime::pallet_index(32)]
	pub type Whitelist = pallet_whitelist;

	#[runtime::pallet_index(33)]
	pub type Preimage = pallet_preimage;

	#[runtime::pallet_index(40)]
	pub type ModelRegistry = pallet_model_registry;

	// Before Verification: a job that expires in a block is refunded before a late tally could
	// touch it.
	#[runtime::pallet_index(41)]
	pub type InferenceJobs = pallet_inference_jobs;

	#[runtime::pallet_index(42)]
	pub type Verification = pallet_result_verification;
}

#[cfg(test)]
mod tests;
