//! # Validator staking pallet
//!
//! Bonds, the active validator set, slashing and the record of how validators did. The stake a
//! validator bonds is what it loses when it lies about a model's output; the set this pallet
//! chooses is the set that authors blocks (BABE), finalizes them (GRANDPA) and runs inference.
//!
//! ## Overview
//!
//! Anyone can [`Call::bond`] funds (held under [`HoldReason::Bond`]), add to them with
//! [`Call::bond_extra`], [`Call::unbond`] them (they stay held, and slashable, for
//! [`Config::UnbondingPeriod`] blocks), [`Call::rebond`] what is unlocking, and
//! [`Call::withdraw_unbonded`] what has unlocked. An account with at least
//! [`StakingParams::min_validator_bond`] bonded and session keys set (`Session::set_keys`, with
//! BABE, GRANDPA and inference keys) declares itself a candidate with [`Call::validate`] and stops
//! with [`Call::chill`].
//!
//! The pallet is the session pallet's `SessionManager`: when a session is planned, the top
//! [`StakingParams::max_validators`] candidates by active bond (ties by account id) become the
//! validators of the session after it (the session pallet queues one session ahead). With fewer
//! than [`StakingParams::min_validators`] eligible candidates the current set is kept and
//! [`Event::NotEnoughCandidates`] says so. The pallet can also decide when sessions end (as the
//! session pallet's `ShouldEndSession`, with [`Config::EndsSessions`]): every
//! [`Config::SessionLength`] blocks, or at the next block after [`Call::force_new_session`]. The
//! Gateless runtime lets BABE end sessions with its epochs instead.
//!
//! Other pallets slash through [`gateless_primitives::traits::Slashing`]: a fraction of the bond
//! or an amount, from the active bond first and then from unlocking funds; slashed funds go to
//! [`Config::Slashed`] (burnt or paid to a treasury). Offences of active validators are counted
//! per session; one over [`StakingParams::max_offences_per_session`] chills the validator and
//! disables it in the session at once (BABE skips its slots; the session pallet's disabling
//! strategy caps how many validators can be disabled). The jobs and verification pallets record
//! outcomes through [`gateless_primitives::traits::ValidatorRecords`]; the counters are served by
//! the `ValidatorStakingApi` runtime API.
//!
//! Consensus offences (BABE and GRANDPA equivocations) arrive from the offences pallet through
//! `sp_staking::offence::OnOffenceHandler`: the offender is slashed the share the offence asks,
//! at most [`Config::MaxOffenceSlash`] per session in all ([`OffenceSlashes`] remembers what was
//! taken for [`Config::HistoryDepth`] sessions), chilled and disabled ([`Event::OffenceReported`]).
//!
//! ## Calls
//!
//! - [`Call::bond`] (signed): errors [`Error::AlreadyBonded`], [`Error::ZeroAmount`],
//!   [`Error::InsufficientBalance`]; event [`Event::Bonded`].
//! - [`Call::bond_extra`] (signed): errors [`Error::NotBonded`], [`Error::ZeroAmount`],
//!   [`Error::InsufficientBalance`]; event [`Event::Bonded`].
//! - [`Call::unbond`] (signed): errors [`Error::NotBonded`], [`Error::ZeroAmount`],
//!   [`Error::BelowMinimumBond`] (a candidate must chill first), [`Error::TooManyUnlockingChunks`];
//!   event [`Event::Unbonded`].
//! - [`Call::rebond`] (signed): errors [`Error::NotBonded`], [`Error::NothingToRebond`]; event
//!   [`Event::Rebonded`].
//! - [`Call::withdraw_unbonded`] (signed): errors [`Error::NotBonded`],
//!   [`Error::NothingToWithdraw`]; event [`Event::Withdrawn`].
//! - [`Call::validate`] (signed): errors [`Error::NotBonded`], [`Error::BelowMinimumBond`],
//!   [`Error::NoSessionKeys`], [`Error::AlreadyCandidate`], [`Error::TooManyCandidates`]; event
//!   [`Event::Validating`].
//! - [`Call::chill`] (signed): error [`Error::NotCandidate`]; event [`Event::Chilled`].
//! - [`Call::set_params`] ([`Config::AdminOrigin`]): error [`Error::InvalidParams`]; event
//!   [`Event::ParamsSet`].
//! - [`Call::force_chill`] ([`Config::AdminOrigin`]): error [`Error::NotCandidate`]; event
//!   [`Event::Chilled`].
//! - [`Call::force_new_session`] ([`Config::AdminOrigin`]): error [`Error::SessionsFollowEpochs`]
//!   where consensus ends sessions ([`Config::EndsSessions`] is `false`); event
//!   [`Event::NewSessionForced`].

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

use alloc::vec::Vec;
use frame_support::{
	pallet_prelude::*,
	traits::{
		fungible::{self, Inspect, MutateHold},
		tokens::Precision,
		DefensiveTruncateFrom, EstimateNextSessionRotation, Imbalance, OnUnbalanced,
	},
};
use frame_system::pallet_prelude::*;
use gateless_primitives::traits::{
	SlashAmount, SlashReason, Slashing, ValidatorRecords, ValidatorSet, ValidatorStakes,
};
use sp_runtime::{
	traits::{CheckedDiv, One, Saturating, Zero},
	Perbill, Permill,
};
use sp_staking::SessionIndex;

/// The balance type of the bonded currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
/// Slashed funds, handed to [`Config::Slashed`].
pub type CreditOf<T> =
	fungible::Credit<<T as frame_system::Config>::AccountId, <T as Config>::Currency>;
/// A ledger as this runtime stores it.
pub type LedgerOf<T> = Ledger<BalanceOf<T>, BlockNumberFor<T>, <T as Config>::MaxUnlockingChunks>;

/// What the staking pallet needs from the session pallet.
pub trait SessionInterface<AccountId> {
	/// Whether `who` has set session keys (they take effect at the next session).
	fn has_keys(who: &AccountId) -> bool;
	/// The validators of the current session.
	fn validators() -> Vec<AccountId>;
	/// The index of the current session.
	fn current_index() -> SessionIndex;
	/// Disables `who` for the rest of the current session, as far as the disabling strategy
	/// allows; returns whether it is disabled now.
	fn disable(who: &AccountId) -> bool;
	/// Gives `who` session keys, for benchmarks of `validate`.
	#[cfg(feature = "runtime-benchmarks")]
	fn set_keys_for_benchmarks(who: &AccountId);
}

impl<T> SessionInterface<T::AccountId> for pallet_session::Pallet<T>
where
	T: pallet_session::Config<ValidatorId = <T as frame_system::Config>::AccountId>,
{
	fn has_keys(who: &T::AccountId) -> bool {
		pallet_session::NextKeys::<T>::contains_key(who)
	}

	fn validators() -> Vec<T::AccountId> {
		pallet_session::Validators::<T>::get()
	}

	fn current_index() -> SessionIndex {
		pallet_session::CurrentIndex::<T>::get()
	}

	fn disable(who: &T::AccountId) -> bool {
		let Some(index) = Self::validator_id_to_index(who) else { return false };
		Self::report_offence(who.clone(), sp_staking::offence::OffenceSeverity(Perbill::one()));
		pallet_session::DisabledValidators::<T>::get().iter().any(|(i, _)| *i == index)
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn set_keys_for_benchmarks(who: &T::AccountId) {
		use sp_runtime::traits::TrailingZeroInput;
		if let Ok(keys) = T::Keys::decode(&mut TrailingZeroInput::zeroes()) {
			pallet_session::NextKeys::<T>::insert(who, keys);
		}
	}
}

// FRAME's pallet macros expand to `expect` (the pallet's name in the runtime, storage prefixes)
// with this module's spans; the rest of the four on-chain lints hold here, and `expect_used` holds
// outside this module.
#[allow(clippy::expect_used)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;

	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The currency bonds are held in.
		type Currency: fungible::Inspect<Self::AccountId>
			+ fungible::Mutate<Self::AccountId>
			+ fungible::MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ fungible::BalancedHold<Self::AccountId>;

		/// The runtime's hold reasons, which include this pallet's [`HoldReason`].
		type RuntimeHoldReason: From<HoldReason>;

		/// The session pallet: session keys, the current set, disabling.
		type Session: SessionInterface<Self::AccountId>;

		/// May set parameters, chill any candidate and force a new session.
		type AdminOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Receives slashed funds (`()` burns them).
		type Slashed: OnUnbalanced<CreditOf<Self>>;

		/// Blocks between `unbond` and the funds being withdrawable.
		#[pallet::constant]
		type UnbondingPeriod: Get<BlockNumberFor<Self>>;

		/// Blocks per session.
		#[pallet::constant]
		type SessionLength: Get<BlockNumberFor<Self>>;

		/// Whether this pallet decides when sessions end (it is the session pallet's
		/// `ShouldEndSession`), so that [`Call::force_new_session`] can end one. `false` where
		/// consensus decides (BABE ends sessions with its epochs): the call is then an error.
		#[pallet::constant]
		type EndsSessions: Get<bool>;

		/// The most validators a session can have.
		#[pallet::constant]
		type MaxValidators: Get<u32>;

		/// The most candidates at once (bounds the work of choosing a set).
		#[pallet::constant]
		type MaxCandidates: Get<u32>;

		/// The most unlocking chunks per ledger (unbonds in the same block share one).
		#[pallet::constant]
		type MaxUnlockingChunks: Get<u32>;

		/// Sessions before the current one whose consensus offences can still be reported: the
		/// runtime keeps the session-historical proofs of keys (`pallet_session::historical`) as
		/// long, and this pallet the share it slashed for each offender of those sessions.
		#[pallet::constant]
		type HistoryDepth: Get<SessionIndex>;

		/// The largest share of a bond slashed for the consensus offences of one session,
		/// whatever fraction the offences pallet asks for (BABE and GRANDPA ask `(3k / n)²` for
		/// `k` offenders of `n` validators: all of it for one of three).
		#[pallet::constant]
		type MaxOffenceSlash: Get<Perbill>;

		/// The parameters until the admin sets others.
		type DefaultParams: Get<StakingParams<BalanceOf<Self>>>;

		/// Weights of the calls and of choosing a set.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A validator's bond, active or unlocking.
		#[codec(index = 0)]
		Bond,
	}

	/// What each account has bonded.
	#[pallet::storage]
	pub type Ledgers<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, LedgerOf<T>>;

	/// Accounts that want to validate.
	#[pallet::storage]
	pub type Candidates<T: Config> = CountedStorageMap<_, Twox64Concat, T::AccountId, ()>;

	/// The validators of the current session.
	#[pallet::storage]
	pub type ActiveValidators<T: Config> =
		StorageValue<_, BoundedVec<T::AccountId, T::MaxValidators>, ValueQuery>;

	/// The active validators with their active bonds as the session started: the weights of the
	/// executor draw ([`ValidatorStakes::active_stakes`]), fixed for the session so that nobody
	/// who knows a draw's seed (the author of the block that draws it) can steer the draw by
	/// bonding, unbonding or being slashed before it.
	#[pallet::storage]
	pub type SessionStakes<T: Config> =
		StorageValue<_, BoundedVec<(T::AccountId, BalanceOf<T>), T::MaxValidators>, ValueQuery>;

	/// Offences of active validators in the current session.
	#[pallet::storage]
	pub type OffencesInSession<T: Config> =
		StorageMap<_, Twox64Concat, T::AccountId, u32, ValueQuery>;

	/// The share of its bond each offender was slashed for the consensus offences of a session
	/// (at most [`Config::MaxOffenceSlash`]): a later report of the same offence, or another
	/// offence in the session, slashes only what goes beyond it. Kept for
	/// [`Config::HistoryDepth`] sessions.
	#[pallet::storage]
	pub type OffenceSlashes<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		SessionIndex,
		Twox64Concat,
		T::AccountId,
		Perbill,
		ValueQuery,
	>;

	/// How each validator did.
	#[pallet::storage]
	pub type Counters<T: Config> =
		StorageMap<_, Twox64Concat, T::AccountId, ValidatorCounters<BalanceOf<T>>, ValueQuery>;

	/// Whether the current session ends at the next block.
	#[pallet::storage]
	pub type ForceNewSession<T> = StorageValue<_, bool, ValueQuery>;

	/// The staking parameters.
	#[pallet::storage]
	pub type Params<T: Config> =
		StorageValue<_, StakingParams<BalanceOf<T>>, ValueQuery, T::DefaultParams>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The initial validators and their bonds; they are candidates from genesis and form the
		/// first sessions' set (their session keys go in the session pallet's genesis).
		pub validators: Vec<(T::AccountId, BalanceOf<T>)>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for (validator, bond) in &self.validators {
				// No event: events are not kept at genesis.
				assert!(
					Pallet::<T>::do_bond(validator.clone(), *bond).is_ok(),
					"a genesis validator cannot hold its bond"
				);
				Candidates::<T>::insert(validator, ());
			}
			// Where the session pallet's genesis started session 0 before these bonds existed.
			Pallet::<T>::snapshot_session_stakes();
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `who` bonded `amount` more.
		Bonded { who: T::AccountId, amount: BalanceOf<T> },
		/// `who` unbonded `amount`, withdrawable from block `unlocks_at`.
		Unbonded { who: T::AccountId, amount: BalanceOf<T>, unlocks_at: BlockNumberFor<T> },
		/// `who` moved `amount` of unlocking funds back to its active bond.
		Rebonded { who: T::AccountId, amount: BalanceOf<T> },
		/// `who` withdrew `amount` of unlocked funds.
		Withdrawn { who: T::AccountId, amount: BalanceOf<T> },
		/// `who` is a candidate from the next planned session on.
		Validating { who: T::AccountId },
		/// `who` is no longer a candidate.
		Chilled { who: T::AccountId },
		/// `who` was slashed `amount` for `reason`.
		Slashed { who: T::AccountId, amount: BalanceOf<T>, reason: SlashReason },
		/// `who` exceeded the offences allowed in a session: chilled, and disabled if the
		/// disabling strategy allowed it.
		OffenceLimitReached { who: T::AccountId, disabled: bool },
		/// `who` was reported for a consensus offence (an equivocation) in session `session`:
		/// its slashes for that session's offences now add up to `fraction` of its bond; it is
		/// no longer a candidate, and disabled for the rest of the session if the disabling
		/// strategy allowed it.
		OffenceReported {
			who: T::AccountId,
			session: SessionIndex,
			fraction: Perbill,
			disabled: bool,
		},
		/// These validators take over at session `session`.
		NewValidatorSet { session: SessionIndex, validators: Vec<T::AccountId> },
		/// Only `candidates` candidates qualify, fewer than `min_validators`: the set is kept.
		NotEnoughCandidates { session: SessionIndex, candidates: u32, min_validators: u32 },
		/// The admin asked for a new session at the next block.
		NewSessionForced,
		/// The admin set new parameters.
		ParamsSet { params: StakingParams<BalanceOf<T>> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account has bonded already: use `bond_extra`.
		AlreadyBonded,
		/// The account has not bonded.
		NotBonded,
		/// The amount must be more than zero.
		ZeroAmount,
		/// The free balance cannot cover the bond.
		InsufficientBalance,
		/// A candidate's active bond must stay at least `min_validator_bond`: chill first.
		BelowMinimumBond,
		/// Too many unbonds waiting: withdraw or wait for the earliest to unlock.
		TooManyUnlockingChunks,
		/// Nothing is unlocking.
		NothingToRebond,
		/// Nothing has unlocked yet.
		NothingToWithdraw,
		/// Set session keys (`Session::set_keys`) before validating.
		NoSessionKeys,
		/// The account is a candidate already.
		AlreadyCandidate,
		/// The account is not a candidate.
		NotCandidate,
		/// `MaxCandidates` accounts are candidates already.
		TooManyCandidates,
		/// `min_validators` must be at least 1 and at most `max_validators`, which must be at
		/// most `MaxValidators`.
		InvalidParams,
		/// Sessions end with consensus epochs here (see `Config::EndsSessions`): none can be
		/// forced.
		SessionsFollowEpochs,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}

		fn integrity_test() {
			assert!(Self::params_are_valid(&T::DefaultParams::get()), "invalid DefaultParams");
			assert!(!T::SessionLength::get().is_zero(), "SessionLength must not be zero");
			assert!(T::MaxUnlockingChunks::get() > 0, "MaxUnlockingChunks must not be zero");
			assert!(T::HistoryDepth::get() > 0, "HistoryDepth must not be zero");
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Bonds `amount` of the caller's free balance.
		///
		/// Origin: signed, by the account that bonds (it must not have bonded yet). Errors:
		/// [`Error::AlreadyBonded`], [`Error::ZeroAmount`], [`Error::InsufficientBalance`]. Events:
		/// [`Event::Bonded`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::bond())]
		pub fn bond(
			origin: OriginFor<T>,
			#[pallet::compact] amount: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(!Ledgers::<T>::contains_key(&who), Error::<T>::AlreadyBonded);
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			Self::do_bond(who, amount)
		}

		/// Adds `amount` of the caller's free balance to its active bond.
		///
		/// Origin: signed, by a bonded account. Errors: [`Error::NotBonded`],
		/// [`Error::ZeroAmount`], [`Error::InsufficientBalance`]. Events: [`Event::Bonded`].
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::bond_extra())]
		pub fn bond_extra(
			origin: OriginFor<T>,
			#[pallet::compact] amount: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut ledger = Ledgers::<T>::get(&who).ok_or(Error::<T>::NotBonded)?;
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			T::Currency::hold(&HoldReason::Bond.into(), &who, amount)
				.map_err(|_| Error::<T>::InsufficientBalance)?;
			ledger.active = ledger.active.saturating_add(amount);
			Ledgers::<T>::insert(&who, ledger);
			Self::deposit_event(Event::Bonded { who, amount });
			Ok(())
		}

		/// Starts unbonding `amount` of the active bond (all of it if it is less). The funds stay
		/// held, and slashable, for `UnbondingPeriod` blocks.
		///
		/// Origin: signed, by a bonded account. Errors: [`Error::NotBonded`], [`Error::ZeroAmount`]
		/// (also when nothing is active), [`Error::BelowMinimumBond`] (a candidate must chill
		/// first), [`Error::TooManyUnlockingChunks`]. Events: [`Event::Unbonded`].
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::unbond())]
		pub fn unbond(
			origin: OriginFor<T>,
			#[pallet::compact] amount: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut ledger = Ledgers::<T>::get(&who).ok_or(Error::<T>::NotBonded)?;
			let amount = amount.min(ledger.active);
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			let remaining = ledger.active.saturating_sub(amount);
			if Candidates::<T>::contains_key(&who) {
				ensure!(
					remaining >= Params::<T>::get().min_validator_bond,
					Error::<T>::BelowMinimumBond
				);
			}
			let unlocks_at =
				frame_system::Pallet::<T>::block_number().saturating_add(T::UnbondingPeriod::get());
			if let Some(chunk) =
				ledger.unlocking.iter_mut().find(|chunk| chunk.unlocks_at == unlocks_at)
			{
				chunk.value = chunk.value.saturating_add(amount);
			} else {
				ledger
					.unlocking
					.try_push(UnlockChunk { value: amount, unlocks_at })
					.map_err(|_| Error::<T>::TooManyUnlockingChunks)?;
			}
			ledger.active = remaining;
			Ledgers::<T>::insert(&who, ledger);
			Self::deposit_event(Event::Unbonded { who, amount, unlocks_at });
			Ok(())
		}

		/// Moves up to `amount` of unlocking funds, latest first, back to the active bond.
		///
		/// Origin: signed, by a bonded account. Errors: [`Error::NotBonded`],
		/// [`Error::NothingToRebond`]. Events: [`Event::Rebonded`].
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::rebond())]
		pub fn rebond(
			origin: OriginFor<T>,
			#[pallet::compact] amount: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut ledger = Ledgers::<T>::get(&who).ok_or(Error::<T>::NotBonded)?;
			ensure!(!ledger.unlocking.is_empty(), Error::<T>::NothingToRebond);
			let mut left = amount;
			while !left.is_zero() {
				let Some(chunk) = ledger.unlocking.last_mut() else { break };
				let taken = left.min(chunk.value);
				chunk.value = chunk.value.saturating_sub(taken);
				left = left.saturating_sub(taken);
				if chunk.value.is_zero() {
					ledger.unlocking.pop();
				}
			}
			let rebonded = amount.saturating_sub(left);
			ensure!(!rebonded.is_zero(), Error::<T>::NothingToRebond);
			ledger.active = ledger.active.saturating_add(rebonded);
			Ledgers::<T>::insert(&who, ledger);
			Self::deposit_event(Event::Rebonded { who, amount: rebonded });
			Ok(())
		}

		/// Releases every unlocking chunk whose block has come. A ledger left empty is removed.
		///
		/// Origin: signed, by a bonded account. Errors: [`Error::NotBonded`],
		/// [`Error::NothingToWithdraw`]. Events: [`Event::Withdrawn`].
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::withdraw_unbonded())]
		pub fn withdraw_unbonded(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut ledger = Ledgers::<T>::get(&who).ok_or(Error::<T>::NotBonded)?;
			let now = frame_system::Pallet::<T>::block_number();
			let mut unlocked = BalanceOf::<T>::zero();
			ledger.unlocking.retain(|chunk| {
				let due = chunk.unlocks_at <= now;
				if due {
					unlocked = unlocked.saturating_add(chunk.value);
				}
				!due
			});
			ensure!(!unlocked.is_zero(), Error::<T>::NothingToWithdraw);
			let amount = T::Currency::release(
				&HoldReason::Bond.into(),
				&who,
				unlocked,
				Precision::BestEffort,
			)?;
			if ledger.is_empty() {
				Ledgers::<T>::remove(&who);
			} else {
				Ledgers::<T>::insert(&who, ledger);
			}
			Self::deposit_event(Event::Withdrawn { who, amount });
			Ok(())
		}

		/// Declares the caller a validator candidate. Needs an active bond of at least
		/// `min_validator_bond` and session keys.
		///
		/// Origin: signed, by the account that becomes a candidate. Errors: [`Error::NotBonded`],
		/// [`Error::BelowMinimumBond`], [`Error::NoSessionKeys`], [`Error::AlreadyCandidate`],
		/// [`Error::TooManyCandidates`]. Events: [`Event::Validating`].
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::validate())]
		pub fn validate(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let ledger = Ledgers::<T>::get(&who).ok_or(Error::<T>::NotBonded)?;
			ensure!(
				ledger.active >= Params::<T>::get().min_validator_bond,
				Error::<T>::BelowMinimumBond
			);
			ensure!(T::Session::has_keys(&who), Error::<T>::NoSessionKeys);
			ensure!(!Candidates::<T>::contains_key(&who), Error::<T>::AlreadyCandidate);
			ensure!(
				Candidates::<T>::count() < T::MaxCandidates::get(),
				Error::<T>::TooManyCandidates
			);
			Candidates::<T>::insert(&who, ());
			Self::deposit_event(Event::Validating { who });
			Ok(())
		}

		/// Stops being a candidate; a validator stays in the set until the session it leaves.
		///
		/// Origin: signed, by the candidate itself. Errors: [`Error::NotCandidate`]. Events:
		/// [`Event::Chilled`].
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::chill())]
		pub fn chill(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_chill(who)
		}

		/// Sets the staking parameters.
		///
		/// Origin: [`Config::AdminOrigin`]. Errors: [`Error::InvalidParams`]. Events:
		/// [`Event::ParamsSet`].
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::set_params())]
		pub fn set_params(
			origin: OriginFor<T>,
			params: StakingParams<BalanceOf<T>>,
		) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			ensure!(Self::params_are_valid(&params), Error::<T>::InvalidParams);
			Params::<T>::put(params);
			Self::deposit_event(Event::ParamsSet { params });
			Ok(())
		}

		/// Removes `who` from the candidates.
		///
		/// Origin: [`Config::AdminOrigin`]. Errors: [`Error::NotCandidate`]. Events:
		/// [`Event::Chilled`].
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::force_chill())]
		pub fn force_chill(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			Self::do_chill(who)
		}

		/// Ends the current session at the next block (a new set is planned then, and takes
		/// over one session later), where this pallet decides when sessions end.
		///
		/// The origin must be [`Config::AdminOrigin`]. Errors: [`Error::SessionsFollowEpochs`]
		/// where consensus ends sessions ([`Config::EndsSessions`] is `false`). Events:
		/// [`Event::NewSessionForced`].
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::force_new_session())]
		pub fn force_new_session(origin: OriginFor<T>) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			ensure!(T::EndsSessions::get(), Error::<T>::SessionsFollowEpochs);
			ForceNewSession::<T>::put(true);
			Self::deposit_event(Event::NewSessionForced);
			Ok(())
		}
	}
}

impl<T: Config> Pallet<T> {
	/// Whether `params` are acceptable (see [`Error::InvalidParams`]).
	pub fn params_are_valid(params: &StakingParams<BalanceOf<T>>) -> bool {
		params.min_validators >= 1
			&& params.min_validators <= params.max_validators
			&& params.max_validators <= T::MaxValidators::get()
	}

	/// The candidates that would form the next set now: active bond at least
	/// `min_validator_bond`, the largest `max_validators` of them, ties by account id.
	pub fn select_validators() -> Vec<T::AccountId> {
		let params = Params::<T>::get();
		let mut eligible: Vec<(BalanceOf<T>, T::AccountId)> = Candidates::<T>::iter_keys()
			.filter_map(|who| {
				let bond = Ledgers::<T>::get(&who)?.active;
				(bond >= params.min_validator_bond).then_some((bond, who))
			})
			.collect();
		eligible.sort_by(|(bond_a, who_a), (bond_b, who_b)| {
			bond_b.cmp(bond_a).then_with(|| who_a.cmp(who_b))
		});
		eligible.truncate(params.max_validators.min(T::MaxValidators::get()) as usize);
		eligible.into_iter().map(|(_, who)| who).collect()
	}

	/// The bond of each active validator, in set order.
	pub fn active_validators_with_bonds() -> Vec<(T::AccountId, BalanceOf<T>)> {
		ActiveValidators::<T>::get()
			.into_iter()
			.map(|who| {
				let bond = Ledgers::<T>::get(&who).map_or_else(Zero::zero, |ledger| ledger.active);
				(who, bond)
			})
			.collect()
	}

	/// Records the active validators' active bonds as the draw's weights for this session.
	pub(crate) fn snapshot_session_stakes() {
		SessionStakes::<T>::put(BoundedVec::defensive_truncate_from(
			Self::active_validators_with_bonds(),
		));
	}

	/// Holds `amount` of `who`'s free balance as a new bond.
	fn do_bond(who: T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		T::Currency::hold(&HoldReason::Bond.into(), &who, amount)
			.map_err(|_| Error::<T>::InsufficientBalance)?;
		Ledgers::<T>::insert(&who, Ledger { active: amount, unlocking: BoundedVec::default() });
		Self::deposit_event(Event::Bonded { who, amount });
		Ok(())
	}

	/// Removes `who` from the candidates.
	fn do_chill(who: T::AccountId) -> DispatchResult {
		ensure!(Candidates::<T>::contains_key(&who), Error::<T>::NotCandidate);
		Candidates::<T>::remove(&who);
		Self::deposit_event(Event::Chilled { who });
		Ok(())
	}

	/// What clients see of `who`: bond, candidacy, membership and counters; `None` if it never
	/// bonded and has no record.
	pub fn validator_summary(
		who: &T::AccountId,
	) -> Option<ValidatorSummary<T::AccountId, BalanceOf<T>>> {
		Self::summary_within(who, &ActiveValidators::<T>::get())
	}

	/// The current set in set order, then the other candidates by account.
	pub fn validator_summaries() -> Vec<ValidatorSummary<T::AccountId, BalanceOf<T>>> {
		let active = ActiveValidators::<T>::get();
		let mut others: Vec<T::AccountId> =
			Candidates::<T>::iter_keys().filter(|who| !active.contains(who)).collect();
		others.sort();
		active
			.iter()
			.chain(others.iter())
			.filter_map(|who| Self::summary_within(who, &active))
			.collect()
	}

	/// [`Self::validator_summary`] with the current set already read.
	fn summary_within(
		who: &T::AccountId,
		active: &[T::AccountId],
	) -> Option<ValidatorSummary<T::AccountId, BalanceOf<T>>> {
		let ledger = Ledgers::<T>::get(who);
		let counters = Counters::<T>::try_get(who).ok();
		if ledger.is_none() && counters.is_none() {
			return None;
		}
		let (bond, unlocking) = ledger.map_or((Zero::zero(), Zero::zero()), |ledger| {
			let total = ledger.total();
			(ledger.active, total.saturating_sub(ledger.active))
		});
		Some(ValidatorSummary {
			account: who.clone(),
			bond,
			unlocking,
			candidate: Candidates::<T>::contains_key(who),
			active: active.contains(who),
			counters: counters.unwrap_or_default(),
		})
	}

	fn note_offence(who: &T::AccountId) {
		if !ActiveValidators::<T>::get().contains(who) {
			return;
		}
		let offences = OffencesInSession::<T>::mutate(who, |count| {
			*count = count.saturating_add(1);
			*count
		});
		if offences > Params::<T>::get().max_offences_per_session {
			Candidates::<T>::remove(who);
			let disabled = T::Session::disable(who);
			Self::deposit_event(Event::OffenceLimitReached { who: who.clone(), disabled });
		}
	}

	/// Forgets the offence slashes of the session that session `index` moves out of the
	/// reportable history.
	fn prune_offence_slashes(index: SessionIndex) {
		let Some(expired) = index.checked_sub(T::HistoryDepth::get().saturating_add(1)) else {
			return;
		};
		// At most one offender per validator of that session.
		let removed = OffenceSlashes::<T>::clear_prefix(expired, T::MaxValidators::get(), None);
		frame_system::Pallet::<T>::register_extra_weight_unchecked(
			T::DbWeight::get().writes(u64::from(removed.backend)),
			DispatchClass::Mandatory,
		);
	}

	/// How many blocks of its session have passed at `now` (`now % period`); `None` where sessions
	/// have no length.
	fn blocks_into_session(
		now: BlockNumberFor<T>,
		period: BlockNumberFor<T>,
	) -> Option<BlockNumberFor<T>> {
		let sessions = now.checked_div(&period)?;
		// `sessions * period` is at most `now`: neither saturates.
		Some(now.saturating_sub(sessions.saturating_mul(period)))
	}

	/// Checks the pallet's invariants: every ledger's total is exactly what is held from its
	/// account under [`HoldReason::Bond`], and no ledger is empty; candidates have a ledger;
	/// offences are only counted for active validators.
	/// Native (`std`) builds have it for the runtime's tests; the WASM only with `try-runtime`.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use frame_support::traits::fungible::InspectHold;
		for (who, ledger) in Ledgers::<T>::iter() {
			ensure!(!ledger.is_empty(), "an empty ledger is kept");
			ensure!(
				T::Currency::balance_on_hold(&HoldReason::Bond.into(), &who) == ledger.total(),
				"held bond differs from the ledger"
			);
		}
		ensure!(
			Candidates::<T>::iter_keys().all(|who| Ledgers::<T>::contains_key(&who)),
			"a candidate has no ledger"
		);
		ensure!(
			Candidates::<T>::iter_keys().count() as u32 == Candidates::<T>::count(),
			"the candidate count is wrong"
		);
		let active = ActiveValidators::<T>::get();
		ensure!(
			OffencesInSession::<T>::iter_keys().all(|who| active.contains(&who)),
			"offences counted for an inactive validator"
		);
		ensure!(
			SessionStakes::<T>::get().iter().map(|(who, _)| who).eq(active.iter()),
			"the draw's weights are not the active set's"
		);
		let oldest_reportable = T::Session::current_index().saturating_sub(T::HistoryDepth::get());
		for (session, _, fraction) in OffenceSlashes::<T>::iter() {
			ensure!(session >= oldest_reportable, "an offence slash is kept beyond the history");
			ensure!(fraction <= T::MaxOffenceSlash::get(), "an offence slashed more than the cap");
		}
		Ok(())
	}
}

impl<T: Config> pallet_session::SessionManager<T::AccountId> for Pallet<T> {
	fn new_session(new_index: SessionIndex) -> Option<Vec<T::AccountId>> {
		ForceNewSession::<T>::kill();
		let candidates = Candidates::<T>::count();
		frame_system::Pallet::<T>::register_extra_weight_unchecked(
			T::WeightInfo::new_session(candidates),
			DispatchClass::Mandatory,
		);
		let selected = Self::select_validators();
		let min_validators = Params::<T>::get().min_validators;
		if (selected.len() as u32) < min_validators {
			Self::deposit_event(Event::NotEnoughCandidates {
				session: new_index,
				candidates: selected.len() as u32,
				min_validators,
			});
			return None;
		}
		Self::deposit_event(Event::NewValidatorSet {
			session: new_index,
			validators: selected.clone(),
		});
		Some(selected)
	}

	fn new_session_genesis(_: SessionIndex) -> Option<Vec<T::AccountId>> {
		let selected = Self::select_validators();
		(!selected.is_empty()).then_some(selected)
	}

	fn start_session(index: SessionIndex) {
		// The session's validators are those `select_validators` chose, at most `MaxValidators`.
		ActiveValidators::<T>::put(BoundedVec::defensive_truncate_from(T::Session::validators()));
		// One ledger read per validator, one write.
		Self::snapshot_session_stakes();
		let validators = ActiveValidators::<T>::decode_len().unwrap_or(0) as u64;
		frame_system::Pallet::<T>::register_extra_weight_unchecked(
			T::DbWeight::get().reads_writes(validators, 1),
			DispatchClass::Mandatory,
		);
		// Only active validators have offences counted (see `do_try_state`).
		if OffencesInSession::<T>::clear(T::MaxValidators::get(), None)
			.maybe_cursor
			.is_some()
		{
			frame_support::defensive!("more validators with offences than MaxValidators");
		}
		Self::prune_offence_slashes(index);
	}

	fn end_session(_: SessionIndex) {}
}

impl<T: Config> pallet_session::ShouldEndSession<BlockNumberFor<T>> for Pallet<T> {
	fn should_end_session(now: BlockNumberFor<T>) -> bool {
		let period = T::SessionLength::get();
		ForceNewSession::<T>::get()
			|| Self::blocks_into_session(now, period).is_some_and(|blocks| blocks.is_zero())
	}
}

impl<T: Config> EstimateNextSessionRotation<BlockNumberFor<T>> for Pallet<T> {
	fn average_session_length() -> BlockNumberFor<T> {
		T::SessionLength::get()
	}

	fn estimate_current_session_progress(now: BlockNumberFor<T>) -> (Option<Permill>, Weight) {
		let period = T::SessionLength::get();
		let progress = Self::blocks_into_session(now, period).map(|into_session| {
			Permill::from_rational(into_session.saturating_add(One::one()), period)
		});
		(progress, T::DbWeight::get().reads(1))
	}

	fn estimate_next_session_rotation(
		now: BlockNumberFor<T>,
	) -> (Option<BlockNumberFor<T>>, Weight) {
		let period = T::SessionLength::get();
		let next = Self::blocks_into_session(now, period)
			.map(|into_session| now.saturating_add(period.saturating_sub(into_session)));
		(next, T::DbWeight::get().reads(1))
	}
}

impl<T: Config> Slashing<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn slash(
		who: &T::AccountId,
		amount: SlashAmount<BalanceOf<T>>,
		reason: SlashReason,
	) -> BalanceOf<T> {
		let Some(mut ledger) = Ledgers::<T>::get(who) else { return Zero::zero() };
		let total = ledger.total();
		let due = match amount {
			// At most `total`: it cannot overflow. `*` rounds to the nearest, which no `Perbill`
			// method does (`mul_floor` rounds down).
			#[allow(clippy::arithmetic_side_effects)]
			SlashAmount::Fraction(share) => share * total,
			SlashAmount::Amount(amount) => amount.min(total),
		};
		let (credit, _) = <T::Currency as fungible::BalancedHold<T::AccountId>>::slash(
			&HoldReason::Bond.into(),
			who,
			due,
		);
		let slashed = credit.peek();
		T::Slashed::on_unbalanced(credit);

		// The active bond pays first, then the chunks that unlock last.
		let from_active = slashed.min(ledger.active);
		ledger.active = ledger.active.saturating_sub(from_active);
		let mut left = slashed.saturating_sub(from_active);
		for chunk in ledger.unlocking.iter_mut().rev() {
			let taken = left.min(chunk.value);
			chunk.value = chunk.value.saturating_sub(taken);
			left = left.saturating_sub(taken);
		}
		ledger.unlocking.retain(|chunk| !chunk.value.is_zero());
		if ledger.is_empty() {
			Ledgers::<T>::remove(who);
			Candidates::<T>::remove(who);
		} else {
			Ledgers::<T>::insert(who, ledger);
		}
		Counters::<T>::mutate(who, |counters| {
			counters.slashed = counters.slashed.saturating_add(slashed)
		});
		Self::deposit_event(Event::Slashed { who: who.clone(), amount: slashed, reason });
		Self::note_offence(who);
		slashed
	}
}

/// Consensus offences (BABE and GRANDPA equivocations), as the offences pallet reports them with
/// each offender's validator id and identification. An offender is slashed the share of its bond
/// that the offence asks for, capped by [`Config::MaxOffenceSlash`] per session and less what it
/// was already slashed for that session's offences (the offences pallet reports an offence again,
/// with every earlier offender at a higher share, when more offenders of the same slot are
/// reported); the share is of the bond (active and unlocking) when the report lands. It is chilled
/// and disabled at once, so that it neither authors nor is chosen again until it calls
/// [`Call::validate`]. Offences of sessions older than [`Config::HistoryDepth`] are ignored.
impl<T: Config, Identification>
	sp_staking::offence::OnOffenceHandler<T::AccountId, (T::AccountId, Identification), Weight>
	for Pallet<T>
{
	fn on_offence(
		offenders: &[sp_staking::offence::OffenceDetails<
			T::AccountId,
			(T::AccountId, Identification),
		>],
		slash_fraction: &[Perbill],
		session: SessionIndex,
	) -> Weight {
		let mut weight = T::DbWeight::get().reads(1);
		if session.saturating_add(T::HistoryDepth::get()) < T::Session::current_index() {
			return weight;
		}
		for (details, fraction) in offenders.iter().zip(slash_fraction) {
			let who = &details.offender.0;
			weight.saturating_accrue(T::WeightInfo::on_offence());
			let fraction = (*fraction).min(T::MaxOffenceSlash::get());
			let applied = OffenceSlashes::<T>::get(session, who);
			if fraction <= applied {
				continue;
			}
			OffenceSlashes::<T>::insert(session, who, fraction);
			Self::slash(
				who,
				SlashAmount::Fraction(fraction.saturating_sub(applied)),
				SlashReason::Equivocation,
			);
			Candidates::<T>::remove(who);
			let disabled = T::Session::disable(who);
			Self::deposit_event(Event::OffenceReported {
				who: who.clone(),
				session,
				fraction,
				disabled,
			});
		}
		weight
	}
}

impl<T: Config> ValidatorRecords<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn note_assigned(who: &T::AccountId) {
		Counters::<T>::mutate(who, |c| c.assigned = c.assigned.saturating_add(1));
	}

	fn note_agreed(who: &T::AccountId, reward: BalanceOf<T>) {
		Counters::<T>::mutate(who, |c| {
			c.agreed = c.agreed.saturating_add(1);
			c.rewarded = c.rewarded.saturating_add(reward);
		});
	}

	fn note_dissented(who: &T::AccountId) {
		Counters::<T>::mutate(who, |c| c.dissented = c.dissented.saturating_add(1));
	}

	fn note_missed(who: &T::AccountId) {
		Counters::<T>::mutate(who, |c| c.missed = c.missed.saturating_add(1));
	}

	fn note_abstained(who: &T::AccountId) {
		Counters::<T>::mutate(who, |c| c.abstained = c.abstained.saturating_add(1));
	}
}

impl<T: Config> ValidatorSet<T::AccountId> for Pallet<T> {
	fn is_active(who: &T::AccountId) -> bool {
		ActiveValidators::<T>::get().contains(who)
	}

	fn active_count() -> u32 {
		ActiveValidators::<T>::decode_len().unwrap_or(0) as u32
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn set_active_for_benchmarks(validators: Vec<T::AccountId>) {
		ActiveValidators::<T>::put(BoundedVec::truncate_from(validators));
		Self::snapshot_session_stakes();
	}
}

impl<T: Config> ValidatorStakes<T::AccountId, BalanceOf<T>> for Pallet<T> {
	/// The session's snapshot ([`SessionStakes`]), not the live bonds.
	fn active_stakes() -> Vec<(T::AccountId, BalanceOf<T>)> {
		SessionStakes::<T>::get().into_inner()
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl<T: Config> Pallet<T> {
	/// Bonds each of `validators` with its amount (minting what it needs), makes it a candidate
	/// and makes exactly them the active set, for other pallets' benchmarks.
	// Benchmark setup, as in `benchmarking.rs`: a panic fails the benchmark.
	#[allow(clippy::expect_used)]
	pub fn stake_for_benchmarks(validators: Vec<(T::AccountId, BalanceOf<T>)>) {
		use frame_support::traits::fungible::Mutate;
		let mut active = Vec::with_capacity(validators.len());
		for (who, bond) in validators {
			let funds =
				bond.saturating_mul(2u32.into()).saturating_add(T::Currency::minimum_balance());
			T::Currency::set_balance(&who, funds);
			Self::do_bond(who.clone(), bond).expect("funded with twice the bond");
			Candidates::<T>::insert(&who, ());
			active.push(who);
		}
		ActiveValidators::<T>::put(BoundedVec::truncate_from(active));
		Self::snapshot_session_stakes();
	}
}
