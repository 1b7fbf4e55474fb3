//! The node's JSON-RPC methods beyond the standard `system`, `chain`, `state` and `author` ones
//! that sc-service serves: account nonces (`system_accountNextIndex`, `system_dryRun`), fee
//! queries (`payment_queryInfo`, `payment_queryFeeDetails`) and Gateless' own `gateless_*`
//! methods (crate `gateless-rpc`: models, quotes, jobs, verified results, validators, a job
//! subscription, and the unsafe `gateless_putModel`).

use std::sync::Arc;

use gateless_inference_engine::{ContentStore, Engine};
use gateless_primitives::runtime_api::{InferenceJobsApi, ModelRegistryApi, ValidatorStakingApi};
use gateless_rpc::{ContentUploads, Gateless, GatelessApiServer, LocalModelStore, UploadLimiter};
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
	/// Where `gateless_putChunk` and `gateless_putContent` put users' inputs.
	pub uploads: Arc<ContentUploadsOf>,
	/// How much each connection may upload.
	pub limiter: Arc<UploadLimiter>,
}

/// `gateless_putChunk` and `gateless_putContent` write to the content store, and the content is
/// provided to the network at once.
pub struct ContentUploadsOf {
	pub store: Arc<ContentStore>,
	pub exchange: ContentExchange,
}

impl ContentUploads for ContentUploadsOf {
	fn put_chunk(&self, bytes: &[u8]) -> Result<H256, String> {
		self.store.put_chunk(bytes).map_err(|error| format!("{error:?}"))
	}

	fn put_content(&self, len: u64, chunks: &[H256]) -> Result<H256, String> {
		let content = self.store.assemble(len, chunks).map_err(|error| format!("{error:?}"))?;
		self.exchange.provide(content.hash);
		Ok(content.hash)
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

	let FullDeps { client, pool, subscription_executor, engine, uploads, limiter } = deps;
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
		.with_content(uploads, limiter)
		.into_rpc(),
	)?;
	Ok(module)
}
