//! # Gateless primitives
//!
//! Types and constants shared by the Gateless runtime, its pallets, the node and clients, so that
//! every part agrees on what an account, a balance or a block number is without depending on the
//! runtime crate itself.
//!
//! - [`crypto`]: the inference session key type.
//! - [`model`]: models, their tensor signatures, determinism classes and attestation verdicts.
//! - [`job`]: jobs, their input and output tensors, fees, statuses and results.
//! - [`content`]: bytes exchanged off chain by hash, in checked chunks (large inputs and outputs).
//! - [`digest`]: digests, commitments, leaves and tolerance comparisons of revealed outputs.
//! - [`merkle`]: the tree over an output's leaves and its proofs.
//! - [`dispute`]: proofs that settle how two outputs revealed by content compare.
//! - [`inference`]: the runtime interface through which offchain workers run models on the node.
//! - [`traits`]: how the pallets use each other ([`traits::ModelProvider`],
//!   [`traits::ValidatorSet`], [`traits::ModelUsage`], [`traits::Slashing`],
//!   [`traits::ValidatorRecords`], [`traits::ValidatorStakes`], [`traits::InferenceKeys`],
//!   [`traits::JobVerifier`], [`traits::JobSettlement`]).
//! - [`staking`]: validator summaries and counters.
//! - [`runtime_api`]: the runtime APIs that the node's RPC serves.

#![cfg_attr(not(feature = "std"), no_std)]
// The workspace denies arithmetic_side_effects in code that runs on chain; tests may overflow
// (clippy.toml lets them unwrap, expect and index).
#![cfg_attr(test, allow(clippy::arithmetic_side_effects))]

extern crate alloc;

pub mod content;
pub mod crypto;
pub mod digest;
pub mod dispute;
pub mod inference;
pub mod job;
pub mod merkle;
pub mod model;
pub mod reference;
pub mod runtime_api;
pub mod staking;
pub mod traits;

use sp_runtime::{
	traits::{IdentifyAccount, Verify},
	MultiSignature,
};

/// Block number: `u32` lasts for more than 800 years at 6-second blocks.
pub type BlockNumber = u32;

/// The signature type of transactions: sr25519, ed25519 or ecdsa, like the rest of the ecosystem,
/// so that polkadot.js, subxt and hardware wallets sign for Gateless without special support.
pub type Signature = MultiSignature;

/// An account id: the public key behind a [`Signature`], as 32 bytes.
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;

/// A balance of the native token, in its smallest unit (see [`token`]).
pub type Balance = u128;

/// The index of a transaction of an account.
pub type Nonce = u32;

/// The hash of a block or of an extrinsic: blake2-256.
pub type Hash = sp_core::H256;

/// The native token: its name, symbol, decimals and the units that pallets price things in.
pub mod token {
	use super::Balance;

	/// The token's name, shown by wallets.
	pub const NAME: &str = "Gateless";
	/// The token's symbol, shown by wallets (`tokenSymbol` in the chain spec properties).
	pub const SYMBOL: &str = "GATE";
	/// Decimal places: one GATE is `10^DECIMALS` of the smallest unit (`tokenDecimals`).
	pub const DECIMALS: u8 = 12;
	/// One GATE.
	pub const UNIT: Balance = 1_000_000_000_000;
	/// A thousandth of a GATE.
	pub const MILLI_UNIT: Balance = UNIT / 1_000;
	/// A millionth of a GATE.
	pub const MICRO_UNIT: Balance = UNIT / 1_000_000;
	/// The existential deposit: an account holding less than this is reaped, so that dust accounts
	/// cannot bloat state.
	pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_UNIT;
	/// The SS58 address prefix. 42 is the generic Substrate prefix, so that dev tools show the
	/// familiar `5...` addresses until Gateless registers its own.
	pub const SS58_PREFIX: u16 = 42;

	// Checked when compiling: the units agree with the decimals wallets are told about.
	const _: () = assert!(UNIT == 10u128.pow(DECIMALS as u32));
	const _: () = assert!(EXISTENTIAL_DEPOSIT > 0);
}

/// Block time and the units of time derived from it.
pub mod time {
	use super::BlockNumber;

	/// Target block time: one BABE slot, one block (every slot has a primary or secondary author).
	pub const MILLI_SECS_PER_BLOCK: u64 = 6_000;
	/// The BABE slot duration. Changing it after genesis breaks block production.
	pub const SLOT_DURATION: u64 = MILLI_SECS_PER_BLOCK;
	/// Blocks per minute.
	pub const MINUTES: BlockNumber = 60_000 / (MILLI_SECS_PER_BLOCK as BlockNumber);
	/// Blocks per hour.
	pub const HOURS: BlockNumber = MINUTES * 60;
	/// Blocks per day.
	pub const DAYS: BlockNumber = HOURS * 24;

	// Checked when compiling: the block time divides a minute evenly.
	const _: () = assert!(60_000 % MILLI_SECS_PER_BLOCK == 0);
}
