//! try-runtime for Gateless: the runtime's own `TryRuntime` API, run on a copy of a live chain's
//! state.
//!
//! `build.rs` builds the runtime's WASM with the `try-runtime` feature into a build folder of its
//! own (the node's WASM never has it). [`TryRuntime`] runs that WASM the way a node does (the
//! node's host functions, `sc-executor`, `sp-state-machine`) over a block's whole state, copied
//! key by key over JSON-RPC ([`ChainState`]) and checked against the block's state root:
//!
//! - [`TryRuntime::on_runtime_upgrade`]: every migration with its pre- and post-upgrade checks,
//!   then every pallet's `try_state` and a decode of every storage value; then once more, which
//!   must change nothing (migrations are idempotent), within one block's weight.
//! - [`TryRuntime::execute_block`]: a real block on its parent's state, with its signatures and
//!   state root checked and every pallet's `try_state` after it.
//!
//! These are the checks of the `try-runtime` tool of polkadot-sdk (on-runtime-upgrade,
//! execute-block), whose crates.io release stops at polkadot 1.10; `scripts/try-runtime.sh` runs
//! them against any node.

use codec::{Decode, Encode};
use frame_support::weights::Weight;
use sc_executor::WasmExecutor;
use sp_core::{
	storage::Storage,
	traits::{CallContext, ReadRuntimeVersionExt, RuntimeCode, WrappedRuntimeCode},
	H256,
};
use sp_runtime::{traits::BlakeTwo256, StateVersion};
use sp_state_machine::{Backend, InMemoryBackend, OverlayedChanges, StateMachine};

use crate::{funds::ChainState, rpc::Rpc, Result};

/// The runtime built with `try-runtime` (see `build.rs`); `None` if the WASM build was skipped.
#[allow(dead_code)]
mod wasm {
	include!(env!("GATELESS_TRY_RUNTIME_WASM_RS"));
}

/// The host functions of `gateless-node` (`node/src/service.rs`).
type HostFunctions = (sp_io::SubstrateHostFunctions, gateless_primitives::inference::HostFunctions);

/// `frame_support::traits::UpgradeCheckSelect` and `TryStateSelect` exist only with the
/// `try-runtime` feature, which this crate must not turn on natively (it would reach the node's
/// crates through feature unification): their SCALE encodings, of which these use `All`.
#[derive(Encode)]
enum Checks {
	#[allow(dead_code)]
	None,
	All,
}

/// A runtime with the `TryRuntime` API and an executor for it.
pub struct TryRuntime {
	code: Vec<u8>,
	executor: WasmExecutor<HostFunctions>,
}

/// A block's state, ready for the runtime: the trie of its key-value pairs and the changes calls
/// made to it.
pub struct State {
	backend: InMemoryBackend<BlakeTwo256>,
	overlay: OverlayedChanges<BlakeTwo256>,
}

impl State {
	/// The whole state of block `at`, checked against its header's state root.
	pub async fn fetch(rpc: &Rpc, at: H256) -> Result<Self> {
		let pairs = ChainState::fetch(rpc, at).await?.into_pairs();
		let storage = Storage { top: pairs, children_default: Default::default() };
		let backend = InMemoryBackend::<BlakeTwo256>::from((storage, StateVersion::V1));
		let header = rpc.header(at).await?;
		let root = backend.storage_root(std::iter::empty(), StateVersion::V1).0;
		if root != header.state_root {
			return Err(format!(
				"the state copied from block {at:?} has root {root:?}, not its header's {:?}",
				header.state_root
			));
		}
		Ok(Self { backend, overlay: OverlayedChanges::default() })
	}

	/// The storage root with the changes made so far.
	fn root(&mut self) -> H256 {
		self.overlay.storage_root(&self.backend, StateVersion::V1).0
	}
}

/// What [`TryRuntime::on_runtime_upgrade`] measured.
#[derive(Clone, Copy, Debug)]
pub struct UpgradeReport {
	/// The migrations' weight.
	pub weight: Weight,
	/// A block's maximum weight, which the migrations must fit in.
	pub max_block: Weight,
}

impl TryRuntime {
	/// The runtime `build.rs` built with `try-runtime`.
	pub fn built() -> Result<Self> {
		let code = wasm::WASM_BINARY.ok_or(
			"the try-runtime WASM was not built (SKIP_WASM_BUILD was set when this was compiled)",
		)?;
		Ok(Self::with_code(code.to_vec()))
	}

	/// The runtime `build.rs` built, loaded once for the whole test binary.
	pub fn shared() -> Result<&'static Self> {
		static SHARED: std::sync::OnceLock<std::result::Result<TryRuntime, String>> =
			std::sync::OnceLock::new();
		SHARED.get_or_init(Self::built).as_ref().map_err(Clone::clone)
	}

	/// A runtime from a WASM blob (compressed or not) that has the `TryRuntime` API.
	pub fn with_code(code: Vec<u8>) -> Self {
		Self { code, executor: WasmExecutor::builder().build() }
	}

	/// Runs `method` of the runtime on `state` and keeps its changes there.
	fn call(&self, state: &mut State, method: &str, data: &[u8]) -> Result<Vec<u8>> {
		let fetcher = WrappedRuntimeCode(self.code.as_slice().into());
		let runtime_code = RuntimeCode {
			code_fetcher: &fetcher,
			heap_pages: None,
			hash: sp_io::hashing::blake2_256(&self.code).to_vec(),
		};
		let mut extensions = sp_externalities::Extensions::default();
		extensions.register(ReadRuntimeVersionExt::new(self.executor.clone()));
		let answer = StateMachine::new(
			&state.backend,
			&mut state.overlay,
			&self.executor,
			method,
			data,
			&mut extensions,
			&runtime_code,
			CallContext::Offchain,
		)
		.execute();
		answer.map_err(|error| format!("{method} failed: {error}"))
	}

	/// The spec version of this runtime, from its WASM's version section.
	pub fn spec_version(&self) -> Result<u32> {
		let blob = sc_executor_common::runtime_blob::RuntimeBlob::uncompress_if_needed(&self.code)
			.map_err(|error| format!("the try-runtime WASM does not load: {error}"))?;
		let version = sc_executor::read_embedded_version(&blob)
			.map_err(|error| format!("the try-runtime WASM's version: {error}"))?
			.ok_or("the try-runtime WASM has no version section")?;
		Ok(version.spec_version)
	}

	/// Runs every migration on `state` with its checks, then every pallet's `try_state` and a
	/// decode of all storage; then again, which must change nothing; the migrations must fit in
	/// a block.
	pub fn on_runtime_upgrade(&self, state: &mut State) -> Result<UpgradeReport> {
		let answer = self.call(state, "TryRuntime_on_runtime_upgrade", &Checks::All.encode())?;
		let (weight, max_block) = <(Weight, Weight)>::decode(&mut &answer[..])
			.map_err(|error| format!("TryRuntime_on_runtime_upgrade answered badly: {error}"))?;
		let migrated = state.root();
		self.call(state, "TryRuntime_on_runtime_upgrade", &Checks::None.encode())?;
		if state.root() != migrated {
			return Err("the migrations changed the state again when run a second time: they \
			            are not idempotent"
				.into());
		}
		if !weight.all_lte(max_block) {
			return Err(format!("the migrations weigh {weight}, more than a block's {max_block}"));
		}
		Ok(UpgradeReport { weight, max_block })
	}

	/// Executes `block` on `state` (its parent's) with every pallet's `try_state` after it; checks
	/// its signatures if `signatures` (they sign the spec version, so a block of another
	/// version's runtime is checked without them) and its state root.
	pub fn execute_block(
		&self,
		state: &mut State,
		block: &gateless_runtime::Block,
		signatures: bool,
	) -> Result<Weight> {
		let data = (block, true, signatures, Checks::All).encode();
		let answer = self.call(state, "TryRuntime_execute_block", &data)?;
		Weight::decode(&mut &answer[..])
			.map_err(|error| format!("TryRuntime_execute_block answered badly: {error}"))
	}
}

/// Runs the try-runtime checks of block `at` on a live chain: executes it on its parent's state
/// with every pallet's `try_state`; returns the block's weight.
pub async fn check_block(rpc: &Rpc, runtime: &TryRuntime, at: H256) -> Result<Weight> {
	let mut block = rpc.block(at).await?;
	// The seal is the author's signature over the rest of the header: the import takes it off
	// before the runtime executes the block, and the runtime checks every other digest item.
	if matches!(block.header.digest.logs.last(), Some(sp_runtime::DigestItem::Seal(..))) {
		block.header.digest.logs.pop();
	}
	let mut state = State::fetch(rpc, block.header.parent_hash).await?;
	let signatures =
		rpc.runtime_version_at(Some(at)).await?.spec_version == runtime.spec_version()?;
	runtime.execute_block(&mut state, &block, signatures)
}

/// Runs the try-runtime upgrade checks on the state of block `at` of a live chain.
pub async fn check_upgrade(rpc: &Rpc, runtime: &TryRuntime, at: H256) -> Result<UpgradeReport> {
	let mut state = State::fetch(rpc, at).await?;
	runtime.on_runtime_upgrade(&mut state)
}
