//! The data plane's transport: content (job tensors above the inline threshold, and model files)
//! exchanged between nodes over an `sc-network` request-response protocol, found through the
//! network's Kademlia provider records.
//!
//! - **Serving.** `/gateless/<genesis>/content/1` answers two requests: a content's [`Manifest`]
//!   by hash, and one chunk (at most [`CHUNK_BYTES`]) by hash and index, from the node's
//!   [`ContentStore`], else from its [`ModelStore`] (the models it holds as content). Requests
//!   are a few dozen bytes; responses at most a chunk, or the chunk list of a 2 GiB model (64 KiB).
//! - **Providing.** Every content the stores hold (uploaded by a user or a model's builder through
//!   this node's RPC, or fetched for a job or an attestation) is announced with
//!   `start_providing(hash)`, again every [`REPROVIDE_EVERY`] (a record started before the node
//!   had DHT peers is otherwise lost), and withdrawn when the store drops it.
//! - **Fetching.** An executor's node asks the DHT for providers (`get_providers`), adds the peers
//!   it is connected to as a fallback, gets the manifest from the first that has it (checked
//!   against the hash) and then the chunks, four at a time spread over up to four holders, each
//!   checked against the manifest, turning to the other holders when one fails. A peer that sends a manifest or chunk that does not match is reported
//!   with a fatal reputation change, which bans and disconnects it, and is not asked again.
//!
//! Like Polkadot's availability chunks, the bytes never touch the chain: only the hash and the
//! length do, in the job.

use std::{
	collections::HashMap,
	sync::{Arc, Mutex},
	time::Duration,
};

use codec::{Decode, Encode};
use futures::{channel::oneshot, StreamExt};
use gateless_inference_engine::{ContentFetcher, ContentStore, ModelStore};
use gateless_primitives::content::{ContentRef, Manifest, CHUNK_BYTES, MAX_CONTENT_BYTES};
use sc_network::{
	config::{IncomingRequest, OutgoingResponse},
	service::traits::NetworkService,
	DhtEvent, Event, IfDisconnected, KademliaKey, NetworkBackend, PeerId, ProtocolName,
	ReputationChange,
};
use sp_core::H256;
use sp_runtime::traits::Block as BlockT;

/// How long a peer has to answer one request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// How many inbound requests wait at most; more are refused.
const INBOUND_QUEUE: usize = 64;
/// The largest request: a tag, a hash and an index.
const MAX_REQUEST_BYTES: u64 = 64;
/// The largest response: a chunk, or a manifest of the largest content, with their encoding.
const MAX_RESPONSE_BYTES: u64 = CHUNK_BYTES as u64 + 16 * 1024;
/// How long a fetch waits for the DHT's providers before trying the connected peers alone.
const PROVIDERS_WAIT: Duration = Duration::from_secs(5);
/// How often the store's content is announced again, and expired content dropped.
pub const REPROVIDE_EVERY: Duration = Duration::from_secs(30);
/// How many holders of a content a fetch keeps to get its chunks from.
const MAX_HOLDERS: usize = 4;
/// How many chunks a fetch asks for at once.
const PARALLEL_CHUNKS: usize = 4;

/// What a peer asks.
#[derive(Encode, Decode, Debug, PartialEq, Eq)]
pub enum ContentRequest {
	/// The manifest of the content with this hash.
	#[codec(index = 0)]
	Manifest(H256),
	/// Chunk `index` of the content with this hash.
	#[codec(index = 1)]
	Chunk { hash: H256, index: u32 },
}

/// What a node answers.
#[derive(Encode, Decode, Debug, PartialEq, Eq)]
pub enum ContentResponse {
	#[codec(index = 0)]
	Manifest(Manifest),
	#[codec(index = 1)]
	Chunk(Vec<u8>),
	/// This node does not hold it.
	#[codec(index = 2)]
	NotFound,
}

/// The cost of a request that does not decode.
const BAD_REQUEST: ReputationChange =
	ReputationChange::new(-(1 << 12), "gateless: bad content request");
/// A peer that sent bytes that do not match their hash: banned.
const WRONG_BYTES: ReputationChange =
	ReputationChange::new_fatal("gateless: content does not match its hash");

/// The protocol's name on the chain with `genesis`.
pub fn protocol_name(genesis: &H256) -> ProtocolName {
	format!("/gateless/{genesis:x}/content/1").into()
}

/// Makes the protocol's configuration for the network and the queue of its inbound requests.
pub fn protocol_config<B: BlockT<Hash = H256>, N: NetworkBackend<B, H256>>(
	name: ProtocolName,
) -> (N::RequestResponseProtocolConfig, async_channel::Receiver<IncomingRequest>) {
	let (sender, receiver) = async_channel::bounded(INBOUND_QUEUE);
	let config = N::request_response_config(
		name,
		Vec::new(),
		MAX_REQUEST_BYTES,
		MAX_RESPONSE_BYTES,
		REQUEST_TIMEOUT,
		Some(sender),
	);
	(config, receiver)
}

/// Answers peers' requests from the stores, until the network goes away. With `corrupt` (only
/// `gateless-malus --test-fault corrupt-content`), every chunk served has its first byte flipped.
pub async fn serve(
	store: Arc<ContentStore>,
	models: Arc<ModelStore>,
	requests: async_channel::Receiver<IncomingRequest>,
	corrupt: bool,
) {
	let mut requests = std::pin::pin!(requests);
	while let Some(IncomingRequest { peer, payload, pending_response }) = requests.next().await {
		let (result, reputation_changes) = match ContentRequest::decode(&mut &payload[..]) {
			Ok(request) => {
				let mut response = answer(&store, &models, request);
				if let (true, ContentResponse::Chunk(chunk)) = (corrupt, &mut response) {
					if let Some(first) = chunk.first_mut() {
						*first ^= 0xff;
					}
				}
				(Ok(response.encode()), Vec::new())
			},
			Err(_) => {
				log::debug!(target: "gateless::content", "bad content request from {peer}");
				(Err(()), vec![BAD_REQUEST])
			},
		};
		let _ = pending_response.send(OutgoingResponse {
			result,
			reputation_changes,
			sent_feedback: None,
		});
	}
}

fn answer(store: &ContentStore, models: &ModelStore, request: ContentRequest) -> ContentResponse {
	match request {
		ContentRequest::Manifest(hash) => store
			.manifest(&hash)
			.or_else(|| models.content_manifest(&hash).map(|manifest| (*manifest).clone()))
			.map_or(ContentResponse::NotFound, ContentResponse::Manifest),
		ContentRequest::Chunk { hash, index } => store
			.chunk(&hash, index)
			.or_else(|| models.content_chunk(&hash, index))
			.map_or(ContentResponse::NotFound, ContentResponse::Chunk),
	}
}

/// Waiters for the providers of a key, fed by the DHT events.
type ProviderWaiters = Arc<Mutex<HashMap<Vec<u8>, Vec<oneshot::Sender<Vec<PeerId>>>>>>;

/// The node's side of the data plane: provides the store's content and fetches content from
/// peers. Clones share it.
#[derive(Clone)]
pub struct ContentExchange {
	store: Arc<ContentStore>,
	models: Arc<ModelStore>,
	network: Arc<dyn NetworkService>,
	sync: Arc<sc_network_sync::SyncingService<gateless_runtime::opaque::Block>>,
	protocol: ProtocolName,
	waiters: ProviderWaiters,
	runtime: tokio::runtime::Handle,
}

impl ContentExchange {
	/// The exchange over `network`; call [`ContentExchange::run`] in a task.
	pub fn new(
		store: Arc<ContentStore>,
		models: Arc<ModelStore>,
		network: Arc<dyn NetworkService>,
		sync: Arc<sc_network_sync::SyncingService<gateless_runtime::opaque::Block>>,
		protocol: ProtocolName,
		runtime: tokio::runtime::Handle,
	) -> Self {
		Self { store, models, network, sync, protocol, waiters: Default::default(), runtime }
	}

	/// Announces that this node holds `hash`.
	pub fn provide(&self, hash: H256) {
		self.network.start_providing(KademliaKey::new(&hash.as_bytes()));
	}

	/// Hands DHT answers to waiting fetches, and announces the stores' content again and drops
	/// expired content every [`REPROVIDE_EVERY`].
	pub async fn run(self) {
		let mut events = self.network.event_stream("gateless-content");
		let mut reprovide = tokio::time::interval(REPROVIDE_EVERY);
		let mut provided_models = std::collections::HashSet::new();
		loop {
			tokio::select! {
				event = events.next() => match event {
					Some(Event::Dht(event)) => self.on_dht_event(event),
					Some(_) => {},
					None => return,
				},
				_ = reprovide.tick() => {
					for hash in self.store.prune() {
						self.network.stop_providing(KademliaKey::new(&hash.as_bytes()));
					}
					for hash in self.store.hashes() {
						self.provide(hash);
					}
					let held: std::collections::HashSet<H256> =
						self.models.content_hashes().into_iter().collect();
					for gone in provided_models.difference(&held) {
						self.network.stop_providing(KademliaKey::new(&gone.as_bytes()));
					}
					for hash in &held {
						self.provide(*hash);
					}
					provided_models = held;
				},
			}
		}
	}

	fn on_dht_event(&self, event: DhtEvent) {
		let (key, providers) = match event {
			DhtEvent::ProvidersFound(key, providers) => (key, providers),
			DhtEvent::ProvidersNotFound(key) | DhtEvent::NoMoreProviders(key) => (key, Vec::new()),
			_ => return,
		};
		let waiting = self
			.waiters
			.lock()
			.unwrap_or_else(|poisoned| poisoned.into_inner())
			.remove(&key.to_vec())
			.unwrap_or_default();
		for waiter in waiting {
			let _ = waiter.send(providers.clone());
		}
	}

	/// The peers the DHT says provide `hash`, within [`PROVIDERS_WAIT`].
	async fn providers(&self, hash: &H256) -> Vec<PeerId> {
		let key = KademliaKey::new(&hash.as_bytes());
		let (sender, receiver) = oneshot::channel();
		self.waiters
			.lock()
			.unwrap_or_else(|poisoned| poisoned.into_inner())
			.entry(key.to_vec())
			.or_default()
			.push(sender);
		self.network.get_providers(key);
		tokio::time::timeout(PROVIDERS_WAIT, receiver)
			.await
			.ok()
			.and_then(Result::ok)
			.unwrap_or_default()
	}

	/// Who to ask for `hash`: its providers first, then every connected peer; never this node.
	async fn candidates(&self, hash: &H256) -> Vec<PeerId> {
		let local = self.network.local_peer_id();
		let mut candidates = self.providers(hash).await;
		if let Ok(peers) = self.sync.peers_info().await {
			candidates.extend(peers.into_iter().map(|(peer, _)| peer));
		}
		let mut seen = std::collections::HashSet::new();
		candidates.retain(|peer| *peer != local && seen.insert(*peer));
		candidates
	}

	async fn ask(&self, peer: PeerId, request: &ContentRequest) -> Option<ContentResponse> {
		let response = self
			.network
			.request(
				peer,
				self.protocol.clone(),
				request.encode(),
				None,
				IfDisconnected::TryConnect,
			)
			.await;
		match response {
			Ok((bytes, _)) => ContentResponse::decode(&mut &bytes[..]).ok(),
			Err(error) => {
				log::debug!(target: "gateless::content", "{peer}: {request:?}: {error:?}");
				None
			},
		}
	}

	fn punish(&self, peer: PeerId, what: &str, hash: &H256) {
		log::warn!(target: "gateless::content", "{peer} sent a wrong {what} of {hash:?}: banned");
		self.network.report_peer(peer, WRONG_BYTES);
	}

	/// The chunk list of `content` (of at most `max` bytes), checked against its hash, and up to
	/// [`MAX_HOLDERS`] peers that hold it.
	async fn holders(
		&self,
		content: &ContentRef,
		max: u64,
	) -> Result<(Manifest, Vec<PeerId>), String> {
		let hash = content.hash;
		let candidates = self.candidates(&hash).await;
		if candidates.is_empty() {
			return Err("no peer to ask".into());
		}
		let mut manifest = None;
		let mut holders = Vec::new();
		for peer in candidates {
			match self.ask(peer, &ContentRequest::Manifest(hash)).await {
				Some(ContentResponse::Manifest(offered))
					if offered.check_within(content, max).is_ok() =>
				{
					manifest.get_or_insert(offered);
					holders.push(peer);
					if holders.len() >= MAX_HOLDERS {
						break;
					}
				},
				Some(ContentResponse::NotFound) | None => {},
				Some(_) => self.punish(peer, "manifest", &hash),
			}
		}
		let manifest = manifest.ok_or_else(|| "no peer holds it".to_string())?;
		Ok((manifest, holders))
	}

	/// Fetches chunks `indices` of the content `hash` whose chunk list is `manifest` from
	/// `holders`, [`PARALLEL_CHUNKS`] at a time spread over them, and hands each to `sink` once it
	/// matches the chunk list. A holder that fails is dropped (and banned, when what it sent is
	/// wrong), its chunks asked of the others.
	async fn chunks_from(
		&self,
		hash: H256,
		manifest: &Manifest,
		mut holders: Vec<PeerId>,
		indices: &[u32],
		sink: &mut (dyn FnMut(u32, Vec<u8>) -> Result<(), String> + Send),
	) -> Result<(), String> {
		let mut pending: std::collections::VecDeque<u32> = indices.iter().copied().collect();
		while !pending.is_empty() {
			if holders.is_empty() {
				return Err(format!("no holder left for chunk {}", pending[0]));
			}
			let batch: Vec<u32> = (0..PARALLEL_CHUNKS).map_while(|_| pending.pop_front()).collect();
			let asks = batch.iter().map(|&index| {
				let peer = holders[index as usize % holders.len()];
				async move {
					(index, peer, self.ask(peer, &ContentRequest::Chunk { hash, index }).await)
				}
			});
			for (index, peer, response) in futures::future::join_all(asks).await {
				match response {
					Some(ContentResponse::Chunk(chunk))
						if manifest.check_chunk(index, &chunk).is_ok() =>
					{
						sink(index, chunk)?;
						continue;
					},
					Some(ContentResponse::Chunk(_)) => self.punish(peer, "chunk", &hash),
					_ => {},
				}
				holders.retain(|holder| *holder != peer);
				pending.push_back(index);
			}
		}
		Ok(())
	}

	/// Fetches `content` from peers, checking every byte, and keeps it in the store.
	pub async fn fetch_async(&self, content: ContentRef) -> Result<Vec<u8>, String> {
		if let Some(bytes) = self.store.get(&content) {
			return Ok(bytes);
		}
		let hash = content.hash;
		let (manifest, holders) = self.holders(&content, MAX_CONTENT_BYTES).await?;
		let mut received: Vec<Option<Vec<u8>>> = vec![None; manifest.chunks.len()];
		let indices: Vec<u32> = (0..manifest.chunks.len() as u32).collect();
		let mut keep = |index: u32, chunk: Vec<u8>| -> Result<(), String> {
			if let Some(slot) = received.get_mut(index as usize) {
				*slot = Some(chunk);
			}
			Ok(())
		};
		self.chunks_from(hash, &manifest, holders, &indices, &mut keep).await?;
		let chunks: Vec<Vec<u8>> = received.into_iter().flatten().collect();
		let bytes = self
			.store
			.put_fetched(&content, &manifest, &chunks)
			.map_err(|error| format!("{error:?}"))?;
		self.provide(hash);
		log::info!(
			target: "gateless::content",
			"fetched content {hash:?} ({} bytes in {} chunks)",
			content.len,
			chunks.len()
		);
		Ok(bytes)
	}
}

impl ContentFetcher for ContentExchange {
	fn fetch(&self, content: &ContentRef, timeout: Duration) -> Result<Vec<u8>, String> {
		// Called from an offchain worker's thread, outside the async runtime.
		// The timer is made inside the runtime: outside it, tokio has no clock to register with.
		let fetch = self.fetch_async(*content);
		self.runtime
			.block_on(async move { tokio::time::timeout(timeout, fetch).await })
			.map_err(|_| format!("not fetched within {timeout:?}"))?
	}

	fn fetch_manifest(&self, content: &ContentRef, max: u64) -> Result<Manifest, String> {
		// Called from a model fetch's own thread: its requests have their own timeouts.
		self.runtime.block_on(self.holders(content, max)).map(|(manifest, _)| manifest)
	}

	fn fetch_chunks(
		&self,
		content: &ContentRef,
		manifest: &Manifest,
		indices: &[u32],
		sink: &mut (dyn FnMut(u32, Vec<u8>) -> Result<(), String> + Send),
	) -> Result<(), String> {
		let max = manifest.len;
		self.runtime.block_on(async {
			let (_, holders) = self.holders(content, max).await?;
			self.chunks_from(content.hash, manifest, holders, indices, sink).await?;
			self.provide(content.hash);
			Ok(())
		})
	}
}
