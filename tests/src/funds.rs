//! Checks that no funds were lost or created on a live chain.
//!
//! - [`check_block`] runs the runtime's try-runtime checks on a block of the chain (see
//!   [`crate::try_runtime`]): the block executed again on its parent's state, then every pallet's
//!   `try_state`. The Gateless pallets' invariants include that every held bond, model deposit
//!   and job escrow equals what the pallet records as owed.
//! - [`ChainState::fetch`] copies a block's whole state over JSON-RPC; in the state a block's
//!   execution left, the total issuance must be the sum of every account's free and reserved
//!   (held) balance.
//! - [`burnt_between`] reads every block's events between two blocks and explains the change of
//!   issuance: nothing was minted or issued, and it fell by exactly the transaction fees, jobs'
//!   data fees, the executors' slashes and the models' penalties (all burnt in Gateless).

use std::collections::BTreeMap;

use gateless_runtime::{Balance, Runtime, RuntimeEvent, RuntimeHoldReason};
use jsonrpsee::rpc_params;
use sp_core::H256;

use crate::{rpc::Rpc, Result};

/// Keys per `state_getKeysPaged` page (the node's maximum).
const KEYS_PER_PAGE: u32 = 1000;
/// Keys per `state_queryStorageAt` request.
const KEYS_PER_QUERY: usize = 200;

/// A block's state, key by key.
pub struct ChainState {
	pairs: BTreeMap<Vec<u8>, Vec<u8>>,
}

/// A block's issuance and holds, as [`check_block`] found them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Funds {
	pub total_issuance: Balance,
	/// Held by the Gateless pallets and the session keys' deposits, all reasons together.
	pub held: Balance,
}

fn decode_hex(value: &serde_json::Value) -> Result<Vec<u8>> {
	let text = value.as_str().ok_or_else(|| format!("not a hex string: {value}"))?;
	hex::decode(text.trim_start_matches("0x")).map_err(|e| format!("bad hex {text}: {e}"))
}

impl ChainState {
	/// Every key and value of the state at block `at`.
	pub async fn fetch(rpc: &Rpc, at: H256) -> Result<Self> {
		let mut keys: Vec<String> = Vec::new();
		loop {
			let start = keys.last().cloned();
			let page = rpc
				.call("state_getKeysPaged", rpc_params!["0x", KEYS_PER_PAGE, start, at])
				.await?;
			let page = page.as_array().ok_or("state_getKeysPaged returned no list")?;
			let count = page.len();
			keys.extend(page.iter().filter_map(|key| key.as_str().map(str::to_string)));
			if count < KEYS_PER_PAGE as usize {
				break;
			}
		}
		let mut pairs = BTreeMap::new();
		for chunk in keys.chunks(KEYS_PER_QUERY) {
			let answer = rpc.call("state_queryStorageAt", rpc_params![chunk, at]).await?;
			let changes = answer
				.get(0)
				.and_then(|set| set["changes"].as_array())
				.ok_or_else(|| format!("state_queryStorageAt gave no changes: {answer:.200}"))?;
			for change in changes {
				if change[1].is_null() {
					continue;
				}
				pairs.insert(decode_hex(&change[0])?, decode_hex(&change[1])?);
			}
		}
		Ok(Self { pairs })
	}

	/// Every key and value.
	pub fn into_pairs(self) -> BTreeMap<Vec<u8>, Vec<u8>> {
		self.pairs
	}
}

/// The total issuance and what is held in the state of the externalities (block `at`'s), checked
/// against every account's balance.
fn funds(at: H256) -> Result<Funds> {
	let total_issuance = pallet_balances::TotalIssuance::<Runtime>::get();
	let mut accounts: Balance = 0;
	for (_, account) in frame_system::Account::<Runtime>::iter() {
		accounts = accounts
			.checked_add(account.data.free)
			.and_then(|sum| sum.checked_add(account.data.reserved))
			.ok_or("the accounts' balances overflow")?;
	}
	if accounts != total_issuance {
		return Err(format!(
			"at {at:?} the accounts hold {accounts} but the total issuance is {total_issuance}"
		));
	}
	let mut held: Balance = 0;
	for (_, holds) in pallet_balances::Holds::<Runtime>::iter() {
		for hold in holds {
			held = held.saturating_add(hold.amount);
		}
	}
	Ok(Funds { total_issuance, held })
}

/// Where burnt funds went, from the events of a range of blocks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Burnt {
	/// Transaction fees (all burnt in Gateless).
	pub fees: Balance,
	/// Jobs' data fees, burnt from the job's escrow hold when its committee is drawn (or when it
	/// is cancelled before).
	pub data_fees: Balance,
	/// Validators' slashes.
	pub slashes: Balance,
	/// Models' rejection penalties and bans.
	pub penalties: Balance,
	/// What pallet-balances says entered the issuance (`Issued` + `Minted`): Gateless never
	/// mints, rewards come out of fees.
	pub issued: Balance,
}

impl Burnt {
	/// Everything the Gateless and fee events explain.
	pub fn explained(&self) -> Balance {
		self.fees
			.saturating_add(self.data_fees)
			.saturating_add(self.slashes)
			.saturating_add(self.penalties)
	}
}

/// Sums the burning events of blocks `from + 1 ..= to` on the best chain.
pub async fn burnt_between(rpc: &Rpc, from: u32, to: u32) -> Result<Burnt> {
	use pallet_balances::Event as Balances;
	let mut burnt = Burnt::default();
	for number in from.saturating_add(1)..=to {
		let hash = rpc.block_hash(number).await?.ok_or_else(|| format!("no block {number}"))?;
		for event in rpc.events(hash).await? {
			match event {
				RuntimeEvent::TransactionPayment(
					pallet_transaction_payment::Event::TransactionFeePaid { actual_fee, .. },
				) => burnt.fees += actual_fee,
				RuntimeEvent::Balances(Balances::BurnedHeld {
					reason:
						RuntimeHoldReason::InferenceJobs(pallet_inference_jobs::HoldReason::JobEscrow),
					amount,
					..
				}) => burnt.data_fees += amount,
				RuntimeEvent::Staking(pallet_validator_staking::Event::Slashed {
					amount, ..
				}) => burnt.slashes += amount,
				RuntimeEvent::ModelRegistry(pallet_model_registry::Event::ModelRejected {
					penalty,
					..
				}) => burnt.penalties += penalty,
				RuntimeEvent::ModelRegistry(pallet_model_registry::Event::ModelBanned {
					slashed,
					..
				}) => burnt.penalties += slashed,
				RuntimeEvent::Balances(Balances::Issued { amount })
				| RuntimeEvent::Balances(Balances::Minted { amount, .. }) => burnt.issued += amount,
				_ => {},
			}
		}
	}
	Ok(burnt)
}

/// Runs the try-runtime checks of block `at` (see the module docs) and returns the funds after it,
/// read from the state the block's execution left (whose root the runtime checked against the
/// block's).
pub async fn check_block(rpc: &Rpc, at: H256) -> Result<Funds> {
	let runtimes = crate::try_runtime::TryRuntimes::shared()?;
	let (_, mut state) = crate::try_runtime::check_block(rpc, runtimes, at).await?;
	state.execute_with(|| funds(at))
}

/// Checks the state at `to` and that the issuance changed from `before` (the state at `from`)
/// by exactly what the events of the blocks in between burnt; returns the funds at `to`.
pub async fn reconcile(rpc: &Rpc, before: Funds, from: u32, to: u32) -> Result<Funds> {
	let at = rpc.block_hash(to).await?.ok_or_else(|| format!("no block {to}"))?;
	let after = check_block(rpc, at).await?;
	let burnt = burnt_between(rpc, from, to).await?;
	if burnt.issued != 0 {
		return Err(format!("{} was minted or issued in blocks {from}..={to}", burnt.issued));
	}
	let expected = before.total_issuance.checked_sub(burnt.explained()).ok_or("burnt too much")?;
	if after.total_issuance != expected {
		return Err(format!(
			"total issuance went from {} to {} in blocks {from}..={to}, but the fees, slashes \
			 and penalties burnt ({burnt:?}) leave {expected}",
			before.total_issuance, after.total_issuance
		));
	}
	Ok(after)
}
