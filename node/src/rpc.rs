//! The node's JSON-RPC methods beyond the standard `system`, `chain`, `state` and `author` ones
//! that sc-service serves: account nonces (`system_accountNextIndex`, `system_dryRun`), fee
//! queries (`payment_queryInfo`, `payment_queryFeeDetails`) and Gateless' own `gateless_*`
//! methods (crate `gateless-rpc`: models, quotes, jobs, verified results, validators, a job
//! subscription, content uploads and output reads, and the unsafe `gateless_putModel`).

use std::{sync::Arc, time::Duration};

use gateless_inference_engine::{ContentStore, Engine, ModelStore};
use gateless_primitives::content::{ContentRef, Manifest, MAX_MODEL_CONTENT_BYTES};
use gateless_primitives::runtime_api::{InferenceJobsApi, ModelRegistryApi, ValidatorStakingApi};
use gateless_rpc::{ContentService, Gateless, GatelessApiServer, LocalModelStore, TransferLimiter};
use gateless_runtime::{opaque::Block, AccountId, Balance, BlockNumber, Nonce};
use jsonrpsee::RpcModule;
use sc_client_api::BlockchainEvents;
use sc_rpc::SubscriptionTaskExecutor;
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;
use sp_block_builder::BlockBuilder;
use sp_blockchain::{Error as BlockChainError, HeaderBackend, HeaderMetadata};
use sp_core::H256;

use crate::content_exchange::ContentExchange;

/// What the RPC methods read from.
pub struct FullDeps<C, P> {
	/// The client, for runtime API calls and headers.
	pub client: Arc<C>,
	/// The transaction pool, for nonces that count pending transactions.
	pub pool: Arc<P>,
	/// Spawns the tasks that feed subscriptions.
	pub subscription_executor: SubscriptionTaskExecutor,
	/// The inference engine (with offchain workers), whose model store `gateless_putModel`
	/// writes to.
	pub engine: Option<Engine>,
	/// Where users' inputs go and outputs are read from.
	pub content: Arc<NodeContent>,
	/// How much each connection may upload.
	pub uploads: Arc<TransferLimiter>,
	/// How much each connection may read.
	pub downloads: Arc<TransferLimiter>,
}

/// How many outputs `gateless_output` fetches from peers at once: each may hold 64 MiB in memory.
const PARALLEL_OUTPUT_FETCHES: usize = 2;

/// The content methods over the node's content and model stores and its exchange: uploads are
/// provided to the network at once, and outputs are fetched from peers, a few at a time.
pub struct NodeContent {
	store: Arc<ContentStore>,
	models: Arc<ModelStore>,
	exchange: ContentExchange,
	timeout: Duration,
	fetches: tokio::sync::Semaphore,
}

impl NodeContent {
	/// Fetches take at most `timeout` each.
	pub fn new(
		store: Arc<ContentStore>,
		models: Arc<ModelStore>,
		exchange: ContentExchange,
		timeout: Duration,
	) -> Self {
		let fetches = tokio::sync::Semaphore::new(PARALLEL_OUTPUT_FETCHES);
		Self { store, models, exchange, timeout, fetches }
	}
}

#[jsonrpsee::core::async_trait]
impl ContentService for NodeContent {
	fn put_chunk(&self, bytes: &[u8]) -> Result<H256, String> {
		self.store.put_chunk(bytes).map_err(|error| format!("{error:?}"))
	}

	fn put_content(&self, len: u64, chunks: &[H256]) -> Result<H256, String> {
		let content = self.store.assemble(len, chunks).map_err(|error| format!("{error:?}"))?;
		self.exchange.provide(content.hash);
		Ok(content.hash)
	}

	async fn fetch(&self, content: ContentRef) -> Result<Vec<u8>, String> {
		// Held here already: no need to wait for a turn among the fetches from peers.
		if let Some(bytes) = self.store.get(&content) {
			return Ok(bytes);
		}
		let _permit = self.fetches.acquire().await.map_err(|_| "the node is stopping")?;
		tokio::time::timeout(self.timeout, self.exchange.fetch_async(content))
			.await
			.map_err(|_| format!("not fetched within {:?}", self.timeout))?
	}

	fn chunk(&self, hash: &H256, index: u32) -> Option<Vec<u8>> {
		self.store.chunk(hash, index)
	}

	async fn put_model(
		&self,
		hash: H256,
		content: ContentRef,
		chunks: Vec<H256>,
	) -> Result<(), String> {
		let manifest = Manifest::from_chunk_hashes(content.len, chunks);
		manifest
			.check_within(&content, MAX_MODEL_CONTENT_BYTES)
			.map_err(|_| "these chunks are not the registered model's chunk list")?;
		let (models, store) = (self.models.clone(), self.store.clone());
		// Up to 2 GiB read, checked and written: off the async threads.
		tokio::task::spawn_blocking(move || {
			if !models.contains(&hash) {
				let chunks = manifest.chunks.clone();
				models
					.insert_chunks(&hash, &manifest, |index| {
						store.uploaded_chunk(chunks.get(index as usize)?)
					})
					.map_err(|error| format!("{error:?}"))?;
				store.discard_chunks(&manifest.chunks);
			}
			match models.index_content(&hash, &content) {
				Ok(true) => Ok(()),
				Ok(false) => Err("the model's file is not the registered chunk list".to_string()),
				Err(error) => Err(format!("{error:?}")),
			}
		})
		.await
		.map_err(|_| "the node is stopping".to_string())??;
		self.exchange.provide(content.hash);
		Ok(())
	}
}

/// `gateless_putModel` writes to the engine's model store.
struct EngineStore(Engine);

impl LocalModelStore for EngineStore {
	fn put(&self, bytes: &[u8]) -> Result<H256, String> {
		self.0.store_model(bytes).map_err(|error| format!("{error:?}"))
	}
}

/// Builds the RPC module of the node's own methods.
pub fn create_full<C, P>(
	deps: FullDeps<C, P>,
) -> Result<RpcModule<()>, Box<dyn std::error::Error + Send + Sync>>
where
	C: ProvideRuntimeApi<Block>
		+ HeaderBackend<Block>
		+ HeaderMetadata<Block, Error = BlockChainError>
		+ BlockchainEvents<Block>
		+ Send
		+ Sync
		+ 'static,
	C::Api: substrate_frame_rpc_system::AccountNonceApi<Block, AccountId, Nonce>
		+ pallet_transaction_payment_rpc::TransactionPaymentRuntimeApi<Block, Balance>
		+ BlockBuilder<Block>
		+ ModelRegistryApi<Block, AccountId, Balance, BlockNumber>
		+ InferenceJobsApi<Block, AccountId, Balance, BlockNumber>
		+ ValidatorStakingApi<Block, AccountId, Balance>,
	P: TransactionPool + 'static,
{
	use pallet_transaction_payment_rpc::{TransactionPayment, TransactionPaymentApiServer};
	use substrate_frame_rpc_system::{System, SystemApiServer};

	let FullDeps { client, pool, subscription_executor, engine, content, uploads, downloads } =
		deps;
	let mut module = RpcModule::new(());
	module.merge(System::new(client.clone(), pool).into_rpc())?;
	module.merge(TransactionPayment::new(client.clone()).into_rpc())?;
	let store = engine.map(|engine| Arc::new(EngineStore(engine)) as Arc<dyn LocalModelStore>);
	module.merge(
		Gateless::<_, Block, AccountId, Balance, BlockNumber>::new(
			client,
			subscription_executor,
			store,
		)
		.with_content(content, uploads, downloads)
		.into_rpc(),
	)?;
	Ok(module)
}
