//! Reports of BABE equivocations (two blocks of one author in one slot) that the runtime can check.
//!
//! `sc-consensus-babe` 0.60 looks for equivocations in its block import, where the header it has
//! is the pre-header: its verifier (and block authoring) has already moved the seal into the
//! import's post-digests. Its reports therefore carry two unsealed headers, and the runtime's
//! `check_equivocation_proof`, which needs the author's signature of both, refuses every one of
//! them (`Babe::InvalidEquivocationProof`): measured on the local network, where each report was
//! included and failed. This block import sits in front of BABE's and does the same with sealed
//! headers: it keeps the sealed headers of recent slots in the client's auxiliary storage, and when
//! a second header of one author in one slot comes, submits the report (the key-ownership proof
//! made at the header's parent, as BABE does) through the runtime's BABE API. Its report reaches
//! the pool first; BABE's unsealed one for the same offender and slot then provides the same tag at
//! the same priority and is refused.

use std::sync::{Arc, Mutex};

use codec::{Decode, Encode};
use gateless_runtime::opaque::Block;
use sc_client_api::AuxStore;
use sc_consensus::{BlockCheckParams, BlockImport, BlockImportParams, ImportResult};
use sc_transaction_pool_api::OffchainTransactionPoolFactory;
use sp_api::{ApiExt, ProvideRuntimeApi};
use sp_consensus::{BlockOrigin, Error as ConsensusError, SelectChain};
use sp_consensus_babe::{
	digests::CompatibleDigestItem, AuthorityId, BabeApi, EquivocationProof, Slot,
};
use sp_runtime::{traits::Header as _, DigestItem};

type Header = <Block as sp_runtime::traits::Block>::Header;

/// Slots whose headers are kept: an equivocation is reported when its second block is imported,
/// which, for blocks that arrive late, can be many slots after the first one.
const KEPT_SLOTS: usize = 512;
/// Headers kept per slot: one author per slot with secondary slots only, a few with primary ones;
/// the bound keeps a flood of blocks from growing the store.
const MAX_HEADERS_PER_SLOT: usize = 8;

const SLOTS_KEY: &[u8] = b"gateless/babe-equivocation/slots";

fn slot_key(slot: Slot) -> Vec<u8> {
	(b"gateless/babe-equivocation/slot", slot).encode()
}

/// The block import in front of BABE's: reports equivocations with sealed headers, then imports.
pub struct EquivocationReportingImport<Inner, Client, SC> {
	inner: Inner,
	client: Arc<Client>,
	select_chain: SC,
	offchain_tx_pool_factory: OffchainTransactionPoolFactory<Block>,
	/// Serialises the read-modify-write of the kept headers (the import queue and block
	/// authoring import at the same time).
	index_lock: Arc<Mutex<()>>,
}

impl<Inner: Clone, Client, SC: Clone> Clone for EquivocationReportingImport<Inner, Client, SC> {
	fn clone(&self) -> Self {
		Self {
			inner: self.inner.clone(),
			client: self.client.clone(),
			select_chain: self.select_chain.clone(),
			offchain_tx_pool_factory: self.offchain_tx_pool_factory.clone(),
			index_lock: self.index_lock.clone(),
		}
	}
}

impl<Inner, Client, SC> EquivocationReportingImport<Inner, Client, SC>
where
	Client: ProvideRuntimeApi<Block> + AuxStore + Send + Sync,
	Client::Api: BabeApi<Block>,
	SC: SelectChain<Block>,
{
	pub fn new(
		inner: Inner,
		client: Arc<Client>,
		select_chain: SC,
		offchain_tx_pool_factory: OffchainTransactionPoolFactory<Block>,
	) -> Self {
		Self {
			inner,
			client,
			select_chain,
			offchain_tx_pool_factory,
			index_lock: Arc::new(Mutex::new(())),
		}
	}

	/// The header as its author signed and sent it: the pre-header and its seal.
	fn sealed_header(block: &BlockImportParams<Block>) -> Header {
		let mut header = block.header.clone();
		for digest in &block.post_digests {
			header.digest_mut().push(digest.clone());
		}
		header
	}

	/// The slot and author of `header`, from its BABE pre-digest and the authorities of that
	/// slot's epoch as its parent's state knows them.
	fn slot_and_author(&self, header: &Header) -> Result<Option<(Slot, AuthorityId)>, String> {
		let Some(pre_digest) =
			header.digest().logs().iter().find_map(DigestItem::as_babe_pre_digest)
		else {
			return Ok(None);
		};
		let slot = pre_digest.slot();
		let parent = *header.parent_hash();
		let api = self.client.runtime_api();
		let current = api.current_epoch(parent).map_err(|e| e.to_string())?;
		// A block that opens the next epoch is authored by that epoch's authorities.
		let epoch = if slot < current.start_slot + current.duration {
			current
		} else {
			api.next_epoch(parent).map_err(|e| e.to_string())?
		};
		Ok(epoch
			.authorities
			.get(pre_digest.authority_index() as usize)
			.map(|(author, _)| (slot, author.clone())))
	}

	/// The value kept under `key` in the client's auxiliary storage; empty when there is none.
	fn aux_value<T: Decode + Default>(&self, key: &[u8]) -> Result<T, String> {
		match self.client.get_aux(key).map_err(|e| e.to_string())? {
			Some(bytes) => T::decode(&mut &bytes[..]).map_err(|e| e.to_string()),
			None => Ok(T::default()),
		}
	}

	/// Keeps `header` under its slot and returns the proof of an equivocation if its author
	/// already has another header in that slot.
	fn note_header(
		&self,
		slot: Slot,
		author: &AuthorityId,
		header: &Header,
	) -> Result<Option<EquivocationProof<Header>>, String> {
		let _guard = self.index_lock.lock().map_err(|_| "the header index lock is poisoned")?;
		let key = slot_key(slot);
		let mut headers: Vec<(Header, AuthorityId)> = self.aux_value(&key)?;
		let hash = header.hash();
		if headers.iter().any(|(kept, _)| kept.hash() == hash) {
			return Ok(None);
		}
		let proof =
			headers.iter().find(|(_, by)| by == author).map(|(first, _)| EquivocationProof {
				offender: author.clone(),
				slot,
				first_header: first.clone(),
				second_header: header.clone(),
			});
		if headers.len() >= MAX_HEADERS_PER_SLOT {
			return Ok(proof);
		}
		let mut slots: Vec<Slot> = self.aux_value(SLOTS_KEY)?;
		let mut forgotten = Vec::new();
		if headers.is_empty() {
			slots.push(slot);
			while slots.len() > KEPT_SLOTS {
				forgotten.push(slot_key(slots.remove(0)));
			}
		}
		headers.push((header.clone(), author.clone()));
		let (headers, slots) = (headers.encode(), slots.encode());
		let forgotten: Vec<&[u8]> = forgotten.iter().map(Vec::as_slice).collect();
		self.client
			.insert_aux(&[(&key[..], &headers[..]), (SLOTS_KEY, &slots[..])], &forgotten)
			.map_err(|e| e.to_string())?;
		Ok(proof)
	}

	async fn report(&self, proof: EquivocationProof<Header>) -> Result<(), String> {
		// The node's own check of what the runtime will check: both headers sealed by the
		// offender, in one slot, different.
		if !sp_consensus_babe::check_equivocation_proof(proof.clone()) {
			return Err("the two headers do not prove an equivocation".into());
		}
		let best = self.select_chain.best_chain().await.map_err(|e| e.to_string())?.hash();
		let parent = *proof.second_header.parent_hash();
		// One runtime API instance per block asked.
		let owner_proof = |at| {
			self.client
				.runtime_api()
				.generate_key_ownership_proof(at, proof.slot, proof.offender.clone())
				.map_err(|e| e.to_string())
		};
		// At the parent, the offender's session is still the current one; if the header opens
		// a session, the best block may still know the key.
		let key_owner_proof = match owner_proof(parent)? {
			Some(key_owner_proof) => key_owner_proof,
			None => owner_proof(best)?
				.ok_or("the offender's key is in no set that the chain can prove")?,
		};
		let mut api = self.client.runtime_api();
		api.register_extension(self.offchain_tx_pool_factory.offchain_transaction_pool(best));
		let (offender, slot) = (proof.offender.clone(), proof.slot);
		api.submit_report_equivocation_unsigned_extrinsic(best, proof, key_owner_proof)
			.map_err(|e| e.to_string())?
			.ok_or("the runtime did not submit the report")?;
		log::info!(
			target: "babe",
			"⚖️ Reported BABE equivocation of {offender:?} in slot {slot} (sealed headers)"
		);
		Ok(())
	}

	/// `header` is sealed: see [`Self::sealed_header`].
	async fn check_and_report(&self, origin: BlockOrigin, header: Header) -> Result<(), String> {
		// Old forks replayed while syncing are not news.
		if origin == BlockOrigin::NetworkInitialSync {
			return Ok(());
		}
		let Some((slot, author)) = self.slot_and_author(&header)? else { return Ok(()) };
		match self.note_header(slot, &author, &header)? {
			Some(proof) => self.report(proof).await,
			None => Ok(()),
		}
	}
}

#[async_trait::async_trait]
impl<Inner, Client, SC> BlockImport<Block> for EquivocationReportingImport<Inner, Client, SC>
where
	Inner: BlockImport<Block, Error = ConsensusError> + Send + Sync,
	Client: ProvideRuntimeApi<Block> + AuxStore + Send + Sync,
	Client::Api: BabeApi<Block>,
	SC: SelectChain<Block>,
{
	type Error = ConsensusError;

	async fn check_block(
		&self,
		block: BlockCheckParams<Block>,
	) -> Result<ImportResult, Self::Error> {
		self.inner.check_block(block).await
	}

	async fn import_block(
		&self,
		block: BlockImportParams<Block>,
	) -> Result<ImportResult, Self::Error> {
		// A failure here must not keep a valid block out: it is logged, and the block imported.
		// (The import parameters are not `Sync`: only the sealed header crosses the await.)
		let header = Self::sealed_header(&block);
		let hash = header.hash();
		if let Err(error) = self.check_and_report(block.origin, header).await {
			log::warn!(target: "babe", "Cannot check block {hash:?} for equivocation: {error}");
		}
		self.inner.import_block(block).await
	}
}
