//! Types of the validator staking pallet.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	traits::Get, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use scale_info::TypeInfo;
use sp_runtime::traits::{Saturating, Zero};

pub use gateless_primitives::staking::{ValidatorCounters, ValidatorSummary};

/// Funds on their way out of a bond.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEq,
	Eq,
	Debug,
)]
pub struct UnlockChunk<Balance, BlockNumber> {
	/// How much.
	pub value: Balance,
	/// The first block at which it can be withdrawn.
	pub unlocks_at: BlockNumber,
}

/// What an account has bonded. Everything in it is held under `HoldReason::Bond`, and can be
/// slashed, until withdrawn.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	DebugNoBound,
)]
#[scale_info(skip_type_params(MaxChunks))]
// The derives repeat the bounds that the declaration states.
#[allow(clippy::multiple_bound_locations)]
pub struct Ledger<
	Balance: Clone + PartialEq + Eq + core::fmt::Debug,
	BlockNumber: Clone + PartialEq + Eq + core::fmt::Debug,
	MaxChunks: Get<u32>,
> {
	/// The bond that counts for selection.
	pub active: Balance,
	/// Unbonded funds, withdrawable once their block is reached.
	pub unlocking: BoundedVec<UnlockChunk<Balance, BlockNumber>, MaxChunks>,
}

impl<Balance, BlockNumber, MaxChunks> Ledger<Balance, BlockNumber, MaxChunks>
where
	Balance: Clone + PartialEq + Eq + core::fmt::Debug + Copy + Saturating + Zero,
	BlockNumber: Clone + PartialEq + Eq + core::fmt::Debug + Copy + PartialOrd,
	MaxChunks: Get<u32>,
{
	/// Active and unlocking together: what is held.
	pub fn total(&self) -> Balance {
		self.unlocking
			.iter()
			.fold(self.active, |total, chunk| total.saturating_add(chunk.value))
	}

	/// Whether nothing is left in the ledger.
	pub fn is_empty(&self) -> bool {
		self.total().is_zero()
	}
}

/// The staking parameters, set by the admin origin.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEq,
	Eq,
	Debug,
)]
pub struct StakingParams<Balance> {
	/// The least active bond of a validator candidate.
	pub min_validator_bond: Balance,
	/// The fewest validators a session may have: with fewer candidates the set is kept.
	pub min_validators: u32,
	/// The most validators a session may have (at most the runtime's `MaxValidators`).
	pub max_validators: u32,
	/// Offences in one session after which a validator is chilled and disabled.
	pub max_offences_per_session: u32,
}
