//! The node's services: the client with the WASM executor, the import queue (BABE + GRANDPA), the
//! network, offchain workers, block authoring, the GRANDPA voter and the RPC server.

use std::{sync::Arc, time::Duration};

use futures::FutureExt;
use gateless_runtime::{apis::RuntimeApi, opaque::Block};
use sc_client_api::{Backend, BlockBackend};
use sc_consensus_babe::{BabeParams, ImportQueueParams, SlotProportion};
use sc_consensus_grandpa::SharedVoterState;
use sc_service::{error::Error as ServiceError, Configuration, TaskManager, WarpSyncConfig};
use sc_telemetry::{Telemetry, TelemetryWorker};
use sc_transaction_pool_api::OffchainTransactionPoolFactory;
use sp_api::{Core, ProvideRuntimeApi};
use sp_blockchain::HeaderBackend;

/// The host functions that the runtime may call: Substrate's, and the `inference` interface whose
/// implementation only offchain workers get (elsewhere its calls answer "no engine"). The node has
/// no native runtime, so what runs is always the WASM blob stored on chain.
pub type HostFunctions =
	(sp_io::SubstrateHostFunctions, gateless_primitives::inference::HostFunctions);

/// The executor of the WASM runtime.
pub type RuntimeExecutor = sc_executor::WasmExecutor<HostFunctions>;

/// The full client.
pub type FullClient = sc_service::TFullClient<Block, RuntimeApi, RuntimeExecutor>;
type FullBackend = sc_service::TFullBackend<Block>;
type FullSelectChain = sc_consensus::LongestChain<FullBackend, Block>;
type GrandpaBlockImport =
	sc_consensus_grandpa::GrandpaBlockImport<FullBackend, Block, FullClient, FullSelectChain>;
type GrandpaLinkHalf = sc_consensus_grandpa::LinkHalf<Block, FullClient, FullSelectChain>;
/// BABE's block import, behind the one that reports equivocations with sealed headers.
type BabeBlockImport = crate::babe_equivocation::EquivocationReportingImport<
	sc_consensus_babe::BabeBlockImport<
		Block,
		FullClient,
		GrandpaBlockImport,
		BabeInherentDataProviders,
		FullSelectChain,
	>,
	FullClient,
	FullSelectChain,
>;
type TransactionPool = sc_transaction_pool::TransactionPoolHandle<Block, FullClient>;

/// GRANDPA justifications are stored at least once every this many blocks, so that light clients
/// and warp sync can prove finality without replaying every block.
const GRANDPA_JUSTIFICATION_PERIOD: u32 = 512;

/// The parts of the service that the chain-management subcommands need as well as the node.
pub type Service = sc_service::PartialComponents<
	FullClient,
	FullBackend,
	FullSelectChain,
	sc_consensus::DefaultImportQueue<Block>,
	TransactionPool,
	(
		BabeBlockImport,
		sc_consensus_babe::BabeLink<Block>,
		sc_consensus_babe::BabeWorkerHandle<Block>,
		GrandpaLinkHalf,
		Option<Telemetry>,
	),
>;

/// The inherent data of a block: the wall-clock timestamp and its BABE slot.
type BabeInherents =
	(sp_consensus_babe::inherents::InherentDataProvider, sp_timestamp::InherentDataProvider);

/// What makes a block's inherent data: a function, so that the block import that checks it can
/// be named in [`Service`].
type BabeInherentDataProviders =
	fn(
		<Block as sp_runtime::traits::Block>::Hash,
		(),
	) -> std::future::Ready<Result<BabeInherents, Box<dyn std::error::Error + Send + Sync>>>;

/// The inherent data of a block built or checked now: the wall-clock timestamp and its slot, at
/// the runtime's slot duration (which can never change after genesis).
fn babe_inherent_data(
	_parent: <Block as sp_runtime::traits::Block>::Hash,
	_: (),
) -> std::future::Ready<Result<BabeInherents, Box<dyn std::error::Error + Send + Sync>>> {
	let timestamp = sp_timestamp::InherentDataProvider::from_system_time();
	let slot = sp_consensus_babe::inherents::InherentDataProvider::from_timestamp_and_slot_duration(
		*timestamp,
		sp_consensus_babe::SlotDuration::from_millis(gateless_runtime::SLOT_DURATION),
	);
	std::future::ready(Ok((slot, timestamp)))
}

/// Builds the client, the database, the transaction pool and the import queue.
pub fn new_partial(config: &Configuration) -> Result<Service, ServiceError> {
	let telemetry = config
		.telemetry_endpoints
		.clone()
		.filter(|endpoints| !endpoints.is_empty())
		.map(|endpoints| -> Result<_, sc_telemetry::Error> {
			let worker = TelemetryWorker::new(16)?;
			let telemetry = worker.handle().new_telemetry(endpoints);
			Ok((worker, telemetry))
		})
		.transpose()?;

	let executor = sc_service::new_wasm_executor::<HostFunctions>(&config.executor);
	let (client, backend, keystore_container, task_manager) =
		sc_service::new_full_parts::<Block, RuntimeApi, _>(
			config,
			telemetry.as_ref().map(|(_, telemetry)| telemetry.handle()),
			executor,
			// Keep the blocks that carry GRANDPA justifications when pruning: warp sync needs them.
			vec![Arc::new(sc_consensus_grandpa::GrandpaPruningFilter)],
		)?;
	let client = Arc::new(client);
	log_runtime_version(&client);

	let telemetry = telemetry.map(|(worker, telemetry)| {
		task_manager.spawn_handle().spawn("telemetry", None, worker.run());
		telemetry
	});

	let select_chain = sc_consensus::LongestChain::new(backend.clone());

	let transaction_pool = Arc::from(
		sc_transaction_pool::Builder::new(
			task_manager.spawn_essential_handle(),
			client.clone(),
			config.role.is_authority().into(),
		)
		.with_options(config.transaction_pool.clone())
		.with_prometheus(config.prometheus_registry())
		.build(),
	);

	let (grandpa_block_import, grandpa_link) = sc_consensus_grandpa::block_import(
		client.clone(),
		GRANDPA_JUSTIFICATION_PERIOD,
		&client,
		select_chain.clone(),
		telemetry.as_ref().map(|telemetry| telemetry.handle()),
	)?;

	let babe_config = sc_consensus_babe::configuration(&*client)?;
	let slot_duration = babe_config.slot_duration();
	let (babe_block_import, babe_link) = sc_consensus_babe::block_import(
		babe_config,
		grandpa_block_import.clone(),
		client.clone(),
		babe_inherent_data as BabeInherentDataProviders,
		select_chain.clone(),
		OffchainTransactionPoolFactory::new(transaction_pool.clone()),
	)?;
	let block_import = crate::babe_equivocation::EquivocationReportingImport::new(
		babe_block_import,
		client.clone(),
		select_chain.clone(),
		OffchainTransactionPoolFactory::new(transaction_pool.clone()),
	);
	let (import_queue, babe_worker_handle) = sc_consensus_babe::import_queue(ImportQueueParams {
		link: babe_link.clone(),
		block_import: block_import.clone(),
		justification_import: Some(Box::new(grandpa_block_import)),
		client: client.clone(),
		slot_duration,
		spawner: &task_manager.spawn_essential_handle(),
		registry: config.prometheus_registry(),
		telemetry: telemetry.as_ref().map(|telemetry| telemetry.handle()),
	})?;

	Ok(sc_service::PartialComponents {
		client,
		backend,
		task_manager,
		import_queue,
		keystore_container,
		select_chain,
		transaction_pool,
		other: (block_import, babe_link, babe_worker_handle, grandpa_link, telemetry),
	})
}

/// Logs the version of the runtime at the best block, read from the WASM blob in state: the
/// runtime that this node executes.
fn log_runtime_version(client: &FullClient) {
	let best = client.info().best_hash;
	match client.runtime_api().version(best) {
		Ok(version) => log::info!(
			"🧠 Runtime: {} spec version {} (WASM, transaction version {})",
			version.spec_name,
			version.spec_version,
			version.transaction_version,
		),
		Err(error) => log::warn!("Cannot read the runtime version at the best block: {error}"),
	}
}

/// Builds and starts the full node: network, RPC, offchain workers and, on validators, BABE
/// block authoring and the GRANDPA voter.
pub fn new_full<
	N: sc_network::NetworkBackend<Block, <Block as sp_runtime::traits::Block>::Hash>,
>(
	config: Configuration,
	inference: gateless_inference_engine::EngineConfig,
	content: crate::cli::ContentParams,
	misbehaviour: Option<std::sync::Arc<dyn crate::Misbehaviour>>,
) -> Result<TaskManager, ServiceError> {
	let sc_service::PartialComponents {
		client,
		backend,
		mut task_manager,
		import_queue,
		keystore_container,
		select_chain,
		transaction_pool,
		other: (block_import, babe_link, babe_worker_handle, grandpa_link, mut telemetry),
	} = new_partial(&config)?;

	let mut net_config = sc_network::config::FullNetworkConfiguration::<
		Block,
		<Block as sp_runtime::traits::Block>::Hash,
		N,
	>::new(&config.network, config.prometheus_registry().cloned());
	let metrics = N::register_notification_metrics(config.prometheus_registry());

	let genesis_hash = client
		.block_hash(0)
		.ok()
		.flatten()
		.ok_or_else(|| ServiceError::Other("the database has no genesis block".into()))?;
	let grandpa_protocol_name =
		sc_consensus_grandpa::protocol_standard_name(&genesis_hash, &config.chain_spec);
	let (grandpa_protocol_config, grandpa_notification_service) =
		sc_consensus_grandpa::grandpa_peers_set_config::<_, N>(
			grandpa_protocol_name.clone(),
			metrics.clone(),
			net_config.peer_store_handle(),
		);
	net_config.add_notification_protocol(grandpa_protocol_config);

	// The data plane: every node keeps, serves and provides content (users' large inputs).
	let content_dir = content.dir(&config.data_path);
	let content_store = Arc::new(
		gateless_inference_engine::ContentStore::open(content_dir.clone(), content.limits())
			.map_err(|error| {
				ServiceError::Other(format!(
					"cannot open the content store in {content_dir:?}: {error}"
				))
			})?,
	);
	// Every node has a model store: it holds the models it provides to peers (a builder's node
	// the models handed to it, a validator's those it fetched); validators' engines use it too.
	let inference_metrics = match config.prometheus_registry() {
		Some(registry) => gateless_inference_engine::Metrics::register(registry)
			.map_err(|error| ServiceError::Other(format!("inference metrics: {error}")))?,
		None => gateless_inference_engine::Metrics::disabled(),
	};
	let model_store =
		gateless_inference_engine::Engine::open_store(&inference, inference_metrics.clone())
			.map_err(|error| {
				ServiceError::Other(format!(
					"cannot open the model store in {:?}: {error}",
					inference.model_dir
				))
			})?;
	let content_protocol = crate::content_exchange::protocol_name(&genesis_hash);
	let (content_protocol_config, content_requests) =
		crate::content_exchange::protocol_config::<Block, N>(content_protocol.clone());
	net_config.add_request_response_protocol(content_protocol_config);

	let warp_sync = Arc::new(sc_consensus_grandpa::warp_proof::NetworkProvider::new(
		backend.clone(),
		grandpa_link.shared_authority_set().clone(),
		Vec::default(),
	));

	let (network, system_rpc_tx, tx_handler_controller, sync_service, _bitswap) =
		sc_service::build_network(sc_service::BuildNetworkParams {
			config: &config,
			net_config,
			client: client.clone(),
			transaction_pool: transaction_pool.clone(),
			spawn_handle: task_manager.spawn_handle(),
			spawn_essential_handle: task_manager.spawn_essential_handle(),
			import_queue,
			block_announce_validator_builder: None,
			warp_sync_config: Some(WarpSyncConfig::WithProvider(warp_sync)),
			block_relay: None,
			metrics,
			gap_sync_body_policy: None,
		})?;

	let content_exchange = crate::content_exchange::ContentExchange::new(
		content_store.clone(),
		model_store.clone(),
		network.clone(),
		sync_service.clone(),
		content_protocol,
		tokio::runtime::Handle::current(),
	);
	let corrupt_content = misbehaviour
		.as_ref()
		.is_some_and(|misbehaviour| misbehaviour.corrupts_served_content());
	task_manager.spawn_handle().spawn(
		"gateless-content-server",
		Some("networking"),
		crate::content_exchange::serve(
			content_store.clone(),
			model_store.clone(),
			content_requests,
			corrupt_content,
		),
	);
	task_manager.spawn_handle().spawn(
		"gateless-content-exchange",
		Some("networking"),
		content_exchange.clone().run(),
	);
	log::info!(
		"📦 Content store in {content_dir:?} (quota {} MiB, kept {} s after last use)",
		content.content_store_mib,
		content.content_ttl_secs,
	);

	// The model store and inference engine serve the offchain workers, and `gateless_putModel`.
	let engine = if config.offchain_worker.enabled {
		let engine = gateless_inference_engine::Engine::with_store(
			inference.clone(),
			model_store.clone(),
			inference_metrics,
		)
		.map_err(|error| {
			ServiceError::Other(format!(
				"cannot open the load journal in {:?}: {error}",
				inference.model_dir
			))
		})?
		.with_content(gateless_inference_engine::ContentSource {
			store: content_store.clone(),
			fetcher: Arc::new(content_exchange.clone()),
			timeout: Duration::from_secs(content.content_fetch_timeout_secs.max(1)),
		});
		log::info!(
			"🧮 Inference engine: models in {:?} (quota {} MiB), up to {} MiB each, {} cached, {} \
			 ms per run, {} thread(s), workers of {} MiB",
			inference.model_dir,
			inference.store_quota_bytes / (1024 * 1024),
			inference.max_model_bytes / (1024 * 1024),
			inference.cache_size,
			inference.time_limit.as_millis(),
			inference.threads,
			inference.memory_limit / (1024 * 1024),
		);
		// Start the first worker now, so that a node that cannot run one says so at once.
		match engine.start_worker() {
			Ok(protections) => log::info!(
				"🧮 Inference worker {:?} sandboxed with: {}",
				engine.worker_id(),
				protections.join(", ")
			),
			Err(error) => log::error!("🧮 The inference worker does not start: {error}"),
		}
		Some(engine)
	} else {
		None
	};

	if let Some(engine) = engine.clone() {
		let offchain_workers =
			sc_offchain::OffchainWorkers::new(sc_offchain::OffchainWorkerOptions {
				runtime_api_provider: client.clone(),
				is_validator: config.role.is_authority(),
				keystore: Some(keystore_container.keystore()),
				offchain_db: backend.offchain_storage(),
				transaction_pool: Some(OffchainTransactionPoolFactory::new(
					transaction_pool.clone(),
				)),
				network_provider: Arc::new(network.clone()),
				enable_http_requests: true,
				// The engine is shared by the workers of all blocks; only they get it.
				custom_extensions: move |_| {
					use gateless_primitives::inference::InferenceExt;
					let extension = match &misbehaviour {
						None => InferenceExt::new(engine.clone()),
						Some(misbehaviour) => misbehaviour.inference_host(engine.clone()),
					};
					vec![Box::new(extension) as Box<dyn sp_externalities::Extension>]
				},
			})?;
		task_manager.spawn_handle().spawn(
			"offchain-workers-runner",
			"offchain-worker",
			offchain_workers.run(client.clone(), task_manager.spawn_handle()).boxed(),
		);
	}

	// BABE's import queue answers its handles from an essential task, which ends, and stops the
	// node, when every handle is dropped: keep one for as long as the node runs.
	task_manager.spawn_handle().spawn("babe-worker-handle", None, async move {
		let _handle = babe_worker_handle;
		futures::future::pending::<()>().await
	});

	let role = config.role;
	let force_authoring = config.force_authoring;
	let name = config.network.node_name.clone();
	let enable_grandpa = !config.disable_grandpa;
	let prometheus_registry = config.prometheus_registry().cloned();

	let rpc_builder = {
		let client = client.clone();
		let pool = transaction_pool.clone();
		let content_service = Arc::new(crate::rpc::NodeContent::new(
			content_store.clone(),
			model_store.clone(),
			content_exchange.clone(),
			Duration::from_secs(content.content_fetch_timeout_secs.max(1)),
		));
		let mib_per_minute = |mib: u64| {
			Arc::new(gateless_rpc::TransferLimiter::new(mib.saturating_mul(1024 * 1024)))
		};
		let uploads = mib_per_minute(content.content_upload_mib_per_minute);
		let downloads = mib_per_minute(content.content_download_mib_per_minute);
		Box::new(move |subscription_executor| {
			let deps = crate::rpc::FullDeps {
				client: client.clone(),
				pool: pool.clone(),
				subscription_executor,
				engine: engine.clone(),
				content: content_service.clone(),
				uploads: uploads.clone(),
				downloads: downloads.clone(),
			};
			crate::rpc::create_full(deps).map_err(Into::into)
		})
	};

	sc_service::spawn_tasks(sc_service::SpawnTasksParams {
		network: network.clone(),
		client: client.clone(),
		keystore: keystore_container.keystore(),
		task_manager: &mut task_manager,
		transaction_pool: transaction_pool.clone(),
		rpc_builder,
		backend,
		system_rpc_tx,
		tx_handler_controller,
		sync_service: sync_service.clone(),
		config,
		telemetry: telemetry.as_mut(),
		tracing_execute_block: None,
	})?;

	if role.is_authority() {
		let proposer_factory = sc_basic_authorship::ProposerFactory::new(
			task_manager.spawn_handle(),
			client.clone(),
			transaction_pool.clone(),
			prometheus_registry.as_ref(),
			telemetry.as_ref().map(|telemetry| telemetry.handle()),
		);
		let babe = sc_consensus_babe::start_babe(BabeParams {
			keystore: keystore_container.keystore(),
			client,
			select_chain,
			env: proposer_factory,
			block_import,
			sync_oracle: sync_service.clone(),
			justification_sync_link: sync_service.clone(),
			create_inherent_data_providers: babe_inherent_data,
			force_authoring,
			backoff_authoring_blocks: Option::<()>::None,
			babe_link,
			// Two thirds of the slot for building the block, the rest for propagating it.
			block_proposal_slot_portion: SlotProportion::new(2f32 / 3f32),
			max_block_proposal_slot_portion: None,
			telemetry: telemetry.as_ref().map(|telemetry| telemetry.handle()),
		})?;
		// Authoring is essential: if it stops, the node stops rather than silently idling.
		task_manager.spawn_essential_handle().spawn_blocking(
			"babe-proposer",
			Some("block-authoring"),
			babe,
		);
	}

	if enable_grandpa {
		// Only validators vote, so only they need the keystore.
		let keystore = role.is_authority().then(|| keystore_container.keystore());
		let grandpa_config = sc_consensus_grandpa::Config {
			gossip_duration: Duration::from_millis(333),
			justification_generation_period: GRANDPA_JUSTIFICATION_PERIOD,
			name: Some(name),
			observer_enabled: false,
			keystore,
			local_role: role,
			telemetry: telemetry.as_ref().map(|telemetry| telemetry.handle()),
			protocol_name: grandpa_protocol_name,
		};
		let grandpa_params = sc_consensus_grandpa::GrandpaParams {
			config: grandpa_config,
			link: grandpa_link,
			network,
			sync: sync_service,
			notification_service: grandpa_notification_service,
			voting_rule: sc_consensus_grandpa::VotingRulesBuilder::default().build(),
			prometheus_registry,
			shared_voter_state: SharedVoterState::empty(),
			telemetry: telemetry.as_ref().map(|telemetry| telemetry.handle()),
			offchain_tx_pool_factory: OffchainTransactionPoolFactory::new(transaction_pool),
		};
		// Finality is essential too: a node whose voter died must not keep running as if healthy.
		task_manager.spawn_essential_handle().spawn_blocking(
			"grandpa-voter",
			None,
			sc_consensus_grandpa::run_grandpa_voter(grandpa_params)?,
		);
	}

	Ok(task_manager)
}
