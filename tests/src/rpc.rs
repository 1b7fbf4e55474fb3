//! Typed helpers over the standard Substrate JSON-RPC methods, with a jsonrpsee WebSocket client.

use std::time::{Duration, Instant};

use codec::Decode;
use jsonrpsee::{
	core::client::{ClientT, SubscriptionClientT},
	rpc_params,
	ws_client::{WsClient, WsClientBuilder},
};
use serde_json::Value;
use sp_core::H256;

use crate::{node::Node, Result};

/// How long opening a connection may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A JSON-RPC connection to one node.
pub struct Rpc {
	client: WsClient,
}

fn parse_hash(value: &Value) -> Result<H256> {
	let text = value.as_str().ok_or_else(|| format!("expected a hash, got {value}"))?;
	let bytes =
		hex::decode(text.trim_start_matches("0x")).map_err(|e| format!("bad hash {text}: {e}"))?;
	if bytes.len() != 32 {
		return Err(format!("bad hash length in {text}"));
	}
	Ok(H256::from_slice(&bytes))
}

fn parse_hex_number(value: &Value) -> Result<u64> {
	let text = value.as_str().ok_or_else(|| format!("expected a hex number, got {value}"))?;
	u64::from_str_radix(text.trim_start_matches("0x"), 16)
		.map_err(|e| format!("bad number {text}: {e}"))
}

/// `0x`-prefixed hex, as JSON-RPC takes bytes.
pub fn to_hex(bytes: &[u8]) -> String {
	format!("0x{}", hex::encode(bytes))
}

/// The parts of `state_getRuntimeVersion` that transactions need.
#[derive(Clone, Debug)]
pub struct RuntimeVersionInfo {
	pub spec_name: String,
	pub spec_version: u32,
	pub transaction_version: u32,
}

impl Rpc {
	/// Opens a WebSocket connection, giving up after [`CONNECT_TIMEOUT`] (a listener that
	/// accepts TCP but never answers the handshake must not hang the caller).
	pub async fn connect(url: &str) -> Result<Self> {
		let connecting = WsClientBuilder::default()
			.connection_timeout(CONNECT_TIMEOUT)
			.request_timeout(REQUEST_TIMEOUT)
			.build(url);
		let client = tokio::time::timeout(CONNECT_TIMEOUT, connecting)
			.await
			.map_err(|_| format!("no WebSocket handshake from {url} within {CONNECT_TIMEOUT:?}"))?
			.map_err(|e| format!("cannot connect to {url}: {e}"))?;
		Ok(Self { client })
	}

	/// Any method, with its result as JSON.
	pub async fn call(
		&self,
		method: &str,
		params: jsonrpsee::core::params::ArrayParams,
	) -> Result<Value> {
		self.client
			.request(method, params)
			.await
			.map_err(|e| format!("{method} failed: {e}"))
	}

	/// The hash of block `number` on the best chain, if it exists.
	pub async fn block_hash(&self, number: u32) -> Result<Option<H256>> {
		let value = self.call("chain_getBlockHash", rpc_params![number]).await?;
		if value.is_null() {
			Ok(None)
		} else {
			parse_hash(&value).map(Some)
		}
	}

	/// The genesis hash.
	pub async fn genesis_hash(&self) -> Result<H256> {
		self.block_hash(0)
			.await?
			.ok_or_else(|| "the node has no genesis block".to_string())
	}

	/// The number of a block.
	pub async fn block_number(&self, hash: H256) -> Result<u32> {
		let header = self.call("chain_getHeader", rpc_params![hash]).await?;
		let number = parse_hex_number(&header["number"])?;
		u32::try_from(number).map_err(|e| format!("block number {number}: {e}"))
	}

	/// The hash and number of the last finalized block.
	pub async fn finalized_head(&self) -> Result<(H256, u32)> {
		let hash = parse_hash(&self.call("chain_getFinalizedHead", rpc_params![]).await?)?;
		Ok((hash, self.block_number(hash).await?))
	}

	/// The hash of the best block.
	pub async fn best_hash(&self) -> Result<H256> {
		// Without a block number, `chain_getBlockHash` answers with the best block's hash.
		parse_hash(&self.call("chain_getBlockHash", rpc_params![]).await?)
	}

	/// The runtime version at the best block.
	pub async fn runtime_version(&self) -> Result<RuntimeVersionInfo> {
		self.runtime_version_at(None).await
	}

	/// The runtime version at block `at` (the best block if `None`).
	pub async fn runtime_version_at(&self, at: Option<H256>) -> Result<RuntimeVersionInfo> {
		let version = self.call("state_getRuntimeVersion", rpc_params![at]).await?;
		let field = |name: &str| {
			version[name]
				.as_u64()
				.and_then(|n| u32::try_from(n).ok())
				.ok_or_else(|| format!("state_getRuntimeVersion has no {name}: {version}"))
		};
		Ok(RuntimeVersionInfo {
			spec_name: version["specName"].as_str().unwrap_or_default().to_string(),
			spec_version: field("specVersion")?,
			transaction_version: field("transactionVersion")?,
		})
	}

	/// The next nonce of an account, counting its transactions in the pool.
	pub async fn account_next_index(&self, ss58: &str) -> Result<u32> {
		let value = self.call("system_accountNextIndex", rpc_params![ss58]).await?;
		value
			.as_u64()
			.and_then(|n| u32::try_from(n).ok())
			.ok_or_else(|| format!("bad nonce {value}"))
	}

	/// The node's libp2p peer id.
	pub async fn local_peer_id(&self) -> Result<String> {
		let value = self.call("system_localPeerId", rpc_params![]).await?;
		value.as_str().map(str::to_string).ok_or_else(|| format!("bad peer id {value}"))
	}

	/// The raw value under a storage key at a block.
	pub async fn storage(&self, key: &[u8], at: H256) -> Result<Option<Vec<u8>>> {
		let value = self.call("state_getStorage", rpc_params![to_hex(key), at]).await?;
		match value.as_str() {
			None => Ok(None),
			Some(text) => hex::decode(text.trim_start_matches("0x"))
				.map(Some)
				.map_err(|e| format!("bad storage value {text}: {e}")),
		}
	}

	/// A storage value decoded as `T`.
	pub async fn storage_decoded<T: Decode>(&self, key: &[u8], at: H256) -> Result<Option<T>> {
		match self.storage(key, at).await? {
			None => Ok(None),
			Some(bytes) => T::decode(&mut &bytes[..])
				.map(Some)
				.map_err(|e| format!("cannot decode the storage value: {e}")),
		}
	}

	/// Calls a runtime API function (e.g. `ModelRegistryApi_model`) with SCALE-encoded `args` at
	/// block `at` through `state_call`, and decodes its result.
	pub async fn runtime_api<T: Decode>(&self, function: &str, args: &[u8], at: H256) -> Result<T> {
		let result = self.call("state_call", rpc_params![function, to_hex(args), at]).await?;
		let text = result.as_str().ok_or("state_call returned no hex string")?;
		let bytes = hex::decode(text.trim_start_matches("0x"))
			.map_err(|e| format!("bad state_call result {text}: {e}"))?;
		T::decode(&mut &bytes[..])
			.map_err(|e| format!("cannot decode the result of {function}: {e}"))
	}

	/// What transactions for this chain commit to: its genesis hash and current runtime versions.
	pub async fn chain_context(&self) -> Result<crate::tx::ChainContext> {
		let version = self.runtime_version().await?;
		Ok(crate::tx::ChainContext {
			genesis_hash: self.genesis_hash().await?,
			spec_version: version.spec_version,
			transaction_version: version.transaction_version,
		})
	}

	/// Signs `call` as `signer` with its next nonce, submits it, waits until it is in a block
	/// (at most `timeout`) and returns that block's hash and events.
	pub async fn submit_signed(
		&self,
		context: crate::tx::ChainContext,
		signer: sp_keyring::Sr25519Keyring,
		call: gateless_runtime::RuntimeCall,
		timeout: Duration,
	) -> Result<(H256, Vec<gateless_runtime::RuntimeEvent>)> {
		use sp_core::crypto::Ss58Codec;
		let nonce = self.account_next_index(&signer.to_account_id().to_ss58check()).await?;
		let extrinsic = crate::tx::signed_extrinsic(call, &signer.pair(), nonce, context);
		let block = self.submit_and_wait_in_block(&extrinsic, timeout).await?;
		Ok((block, self.events(block).await?))
	}

	/// The header of block `at`.
	pub async fn header(&self, at: H256) -> Result<gateless_runtime::Header> {
		let header = self.call("chain_getHeader", rpc_params![at]).await?;
		serde_json::from_value(header).map_err(|e| format!("block {at:?}'s header: {e}"))
	}

	/// Block `at`, decoded.
	pub async fn block(&self, at: H256) -> Result<gateless_runtime::Block> {
		let block = self.call("chain_getBlock", rpc_params![at]).await?;
		serde_json::from_value(block["block"].clone()).map_err(|e| format!("block {at:?}: {e}"))
	}

	/// The extrinsics of block `at`, decoded.
	pub async fn extrinsics(&self, at: H256) -> Result<Vec<gateless_runtime::UncheckedExtrinsic>> {
		let block = self.call("chain_getBlock", rpc_params![at]).await?;
		let extrinsics = block["block"]["extrinsics"]
			.as_array()
			.ok_or_else(|| format!("block {at:?} has no extrinsics list: {block}"))?;
		extrinsics
			.iter()
			.map(|extrinsic| {
				let hex = extrinsic.as_str().ok_or("an extrinsic that is not a string")?;
				let bytes = hex::decode(hex.trim_start_matches("0x"))
					.map_err(|e| format!("an extrinsic that is not hex: {e}"))?;
				codec::Decode::decode(&mut &bytes[..])
					.map_err(|e| format!("an extrinsic that does not decode: {e}"))
			})
			.collect()
	}

	/// The runtime events of block `at`.
	pub async fn events(&self, at: H256) -> Result<Vec<gateless_runtime::RuntimeEvent>> {
		Ok(self.event_records(at).await?.into_iter().map(|record| record.event).collect())
	}

	/// The runtime events of block `at` with their phases (which extrinsic emitted each).
	pub async fn event_records(
		&self,
		at: H256,
	) -> Result<Vec<frame_system::EventRecord<gateless_runtime::RuntimeEvent, H256>>> {
		// `System::Events` is private to frame-system; its key is the plain storage prefix.
		let key = frame_support::storage::storage_prefix(b"System", b"Events");
		Ok(self.storage_decoded(&key, at).await?.unwrap_or_default())
	}

	/// Submits an encoded extrinsic with `author_submitAndWatchExtrinsic` and waits (at most
	/// `timeout`) until it is in a block; returns that block's hash. A transaction that the pool
	/// drops or marks invalid is an error.
	pub async fn submit_and_wait_in_block(
		&self,
		extrinsic: &[u8],
		timeout: Duration,
	) -> Result<H256> {
		let mut subscription = self
			.client
			.subscribe::<Value, _>(
				"author_submitAndWatchExtrinsic",
				rpc_params![to_hex(extrinsic)],
				"author_unwatchExtrinsic",
			)
			.await
			.map_err(|e| format!("author_submitAndWatchExtrinsic failed: {e}"))?;
		let deadline = Instant::now() + timeout;
		loop {
			let remaining = deadline.saturating_duration_since(Instant::now());
			let status = tokio::time::timeout(remaining, subscription.next())
				.await
				.map_err(|_| format!("the transaction was not included within {timeout:?}"))?
				.ok_or("the transaction subscription closed")?
				.map_err(|e| format!("bad transaction status: {e}"))?;
			if let Some(hash) = status.get("inBlock") {
				return parse_hash(hash);
			}
			if let Some(hash) = status.get("finalized") {
				return parse_hash(hash);
			}
			if ["dropped", "invalid", "usurped"]
				.iter()
				.any(|s| status == *s || status.get(s).is_some())
			{
				return Err(format!("the transaction failed: {status}"));
			}
		}
	}
}

/// Waits until the node has finalized block `number` (at most `timeout`); returns the finalized
/// head then. Fails early if the node exits.
pub async fn wait_for_finalized(
	node: &Node,
	rpc: &Rpc,
	number: u32,
	timeout: Duration,
) -> Result<(H256, u32)> {
	let deadline = Instant::now() + timeout;
	loop {
		node.ensure_running()?;
		let head = rpc.finalized_head().await?;
		if head.1 >= number {
			return Ok(head);
		}
		if Instant::now() >= deadline {
			return Err(node.failure(&format!(
				"finalized only up to block {} within {timeout:?}, expected {number}",
				head.1
			)));
		}
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
}
