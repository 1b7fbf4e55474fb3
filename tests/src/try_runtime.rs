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
//!   state root checked and every pallet's `try_state` after it. [`check_block`] picks the
//!   runtime that made the block from [`TryRuntimes`] (this tree's and the upgrade test's next
//!   version), so blocks after a runtime upgrade are checked too.
//! - [`TryRuntime::fast_forward`]: blocks built on a state the way a node builds them (BABE's
//!   pre-digest for the next slot, the inherents, finalization), each executed again with every
//!   pallet's `try_state`: hooks and session changes checked beyond the chain's head.
//!
//! These are the checks of the `try-runtime` tool of polkadot-sdk (on-runtime-upgrade,
//! execute-block, fast-forward), whose crates.io release stops at polkadot 1.10;
//! `scripts/try-runtime.sh` runs them against any node.

use std::collections::BTreeMap;

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

/// The upgrade test's next runtime version built with `try-runtime`.
#[allow(dead_code)]
mod next_wasm {
	include!(env!("GATELESS_TRY_RUNTIME_NEXT_WASM_RS"));
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
	/// Read from the code's version section once: blocks of this version have their signatures
	/// checked.
	spec_version: u32,
	executor: WasmExecutor<HostFunctions>,
}

/// What the runtime logs at warning level or above while the harness runs it: a runtime that
/// panics gives the host only a WASM trap, and its message (a failed `try_state`, a state root
/// that differs) only through the log.
mod runtime_log {
	use std::sync::{Mutex, Once};

	/// Lines kept between two [`take`]s; older ones are dropped.
	const MAX_LINES: usize = 64;

	static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

	struct Recorder;

	impl log::Log for Recorder {
		fn enabled(&self, metadata: &log::Metadata) -> bool {
			metadata.level() <= log::Level::Warn
		}

		fn log(&self, record: &log::Record) {
			if !self.enabled(record.metadata()) {
				return;
			}
			let mut lines = LINES.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
			if lines.len() == MAX_LINES {
				lines.remove(0);
			}
			lines.push(format!("{} {}: {}", record.level(), record.target(), record.args()));
		}

		fn flush(&self) {}
	}

	/// Records the log of this process from now on, unless another logger was set first.
	pub fn record() {
		static ONCE: Once = Once::new();
		ONCE.call_once(|| {
			if log::set_logger(&Recorder).is_ok() {
				log::set_max_level(log::LevelFilter::Warn);
			}
		});
	}

	/// The lines logged since the last call.
	pub fn take() -> Vec<String> {
		std::mem::take(&mut *LINES.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
	}
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

	/// Runs `f` with this state, and the changes made to it, as its externalities.
	pub fn execute_with<R>(&mut self, f: impl FnOnce() -> R) -> R {
		let mut externalities = sp_state_machine::Ext::new(&mut self.overlay, &self.backend, None);
		sp_externalities::set_and_run_with_externalities(&mut externalities, f)
	}

	/// Every key and value, with the changes made so far.
	fn pairs(&mut self) -> BTreeMap<Vec<u8>, Vec<u8>> {
		self.execute_with(|| {
			let mut pairs = BTreeMap::new();
			let mut key = Vec::new();
			while let Some(next) = sp_io::storage::next_key(&key) {
				if let Some(value) = sp_io::storage::get(&next) {
					pairs.insert(next.clone(), value.to_vec());
				}
				key = next;
			}
			pairs
		})
	}

	/// The storage root with the changes made so far.
	fn root(&mut self) -> H256 {
		self.overlay.storage_root(&self.backend, StateVersion::V1).0
	}

	/// A copy of this state with the changes made so far, which changes apart from it.
	fn fork(&mut self) -> Self {
		let storage = Storage { top: self.pairs(), children_default: Default::default() };
		let backend = InMemoryBackend::<BlakeTwo256>::from((storage, StateVersion::V1));
		Self { backend, overlay: OverlayedChanges::default() }
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

/// The try-runtime builds of the runtimes a chain ran: a block is executed again by the runtime
/// that made it (the one that ran a runtime upgrade's migrations, for the first block after it).
pub struct TryRuntimes {
	current: TryRuntime,
	others: Vec<TryRuntime>,
}

impl TryRuntimes {
	/// This tree's runtime and the upgrade test's next version, as `build.rs` built them.
	pub fn built() -> Result<Self> {
		let built = |code: Option<&[u8]>| {
			let code = code.ok_or(
				"the try-runtime WASM was not built (SKIP_WASM_BUILD was set when this was \
				 compiled)",
			)?;
			TryRuntime::with_code(code.to_vec())
		};
		Ok(Self {
			current: built(wasm::WASM_BINARY)?,
			others: vec![built(next_wasm::WASM_BINARY)?],
		})
	}

	/// The runtimes `build.rs` built, loaded once for the whole test binary.
	pub fn shared() -> Result<&'static Self> {
		static SHARED: std::sync::OnceLock<std::result::Result<TryRuntimes, String>> =
			std::sync::OnceLock::new();
		SHARED.get_or_init(Self::built).as_ref().map_err(Clone::clone)
	}

	/// Only `runtime`.
	pub fn only(runtime: TryRuntime) -> Self {
		Self { current: runtime, others: Vec::new() }
	}

	/// The runtime of this tree (or the only one): the code of an upgrade to check.
	pub fn current(&self) -> &TryRuntime {
		&self.current
	}

	/// The runtime of spec version `spec`.
	pub fn of_spec(&self, spec: u32) -> Result<&TryRuntime> {
		let all = || std::iter::once(&self.current).chain(&self.others);
		all().find(|runtime| runtime.spec_version == spec).ok_or_else(|| {
			let built: Vec<u32> = all().map(|runtime| runtime.spec_version).collect();
			format!("no try-runtime build of spec version {spec} (there are {built:?})")
		})
	}
}

impl TryRuntime {
	/// A runtime from a WASM blob (compressed or not) that has the `TryRuntime` API.
	pub fn with_code(code: Vec<u8>) -> Result<Self> {
		let blob = sc_executor_common::runtime_blob::RuntimeBlob::uncompress_if_needed(&code)
			.map_err(|error| format!("the try-runtime WASM does not load: {error}"))?;
		let version = sc_executor::read_embedded_version(&blob)
			.map_err(|error| format!("the try-runtime WASM's version: {error}"))?
			.ok_or("the try-runtime WASM has no version section")?;
		Ok(Self {
			code,
			spec_version: version.spec_version,
			executor: WasmExecutor::builder().build(),
		})
	}

	/// Runs `method` of the runtime on `state` and keeps its changes there.
	fn call(&self, state: &mut State, method: &str, data: &[u8]) -> Result<Vec<u8>> {
		let fetcher = WrappedRuntimeCode(self.code.as_slice().into());
		let runtime_code = RuntimeCode {
			code_fetcher: &fetcher,
			heap_pages: None,
			hash: sp_io::hashing::blake2_256(&self.code).to_vec(),
		};
		runtime_log::record();
		runtime_log::take();
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
		answer.map_err(|error| {
			let log = runtime_log::take();
			if log.is_empty() {
				format!("{method} failed: {error}")
			} else {
				format!("{method} failed: {error}\nthe runtime logged:\n{}", log.join("\n"))
			}
		})
	}

	/// The spec version of this runtime, from its WASM's version section.
	pub fn spec_version(&self) -> u32 {
		self.spec_version
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
	/// its signatures and digest. The caller checks the state root ([`check_block`]), so that a
	/// difference can be told item by item.
	pub fn execute_block(
		&self,
		state: &mut State,
		block: &gateless_runtime::Block,
	) -> Result<Weight> {
		let (state_root_check, signature_check) = (false, true);
		let data = (block, state_root_check, signature_check, Checks::All).encode();
		let answer = self.call(state, "TryRuntime_execute_block", &data)?;
		Weight::decode(&mut &answer[..])
			.map_err(|error| format!("TryRuntime_execute_block answered badly: {error}"))
	}

	/// Builds the block after `parent` on `state` (`parent`'s) as a node would, with no
	/// transactions: the next slot's BABE pre-digest, the runtime's inherents for its time,
	/// `finalize_block`.
	fn build_block(
		&self,
		state: &mut State,
		parent: &gateless_runtime::Header,
	) -> Result<gateless_runtime::Block> {
		use gateless_runtime::{Runtime, UncheckedExtrinsic};
		let (slot, slot_millis) = state.execute_with(|| {
			(
				pallet_babe::CurrentSlot::<Runtime>::get(),
				pallet_babe::Pallet::<Runtime>::slot_duration(),
			)
		});
		let slot = slot.saturating_add(1u64);
		let header = next_header(parent, slot);
		self.call(state, "Core_initialize_block", &header.encode())?;
		let mut inherent_data = sp_inherents::InherentData::new();
		let now = u64::from(slot).saturating_mul(slot_millis);
		inherent_data
			.put_data(sp_timestamp::INHERENT_IDENTIFIER, &now)
			.map_err(|error| format!("inherent data: {error}"))?;
		let answer =
			self.call(state, "BlockBuilder_inherent_extrinsics", &inherent_data.encode())?;
		let extrinsics = Vec::<UncheckedExtrinsic>::decode(&mut &answer[..])
			.map_err(|error| format!("BlockBuilder_inherent_extrinsics answered badly: {error}"))?;
		for extrinsic in &extrinsics {
			let answer = self.call(state, "BlockBuilder_apply_extrinsic", &extrinsic.encode())?;
			let applied = sp_runtime::ApplyExtrinsicResult::decode(&mut &answer[..])
				.map_err(|error| format!("BlockBuilder_apply_extrinsic answered badly: {error}"))?;
			if !matches!(applied, Ok(Ok(()))) {
				return Err(format!("an inherent of block {} failed: {applied:?}", header.number));
			}
		}
		let answer = self.call(state, "BlockBuilder_finalize_block", &[])?;
		let header = gateless_runtime::Header::decode(&mut &answer[..])
			.map_err(|error| format!("BlockBuilder_finalize_block answered badly: {error}"))?;
		Ok(gateless_runtime::Block { header, extrinsics })
	}

	/// try-runtime's fast-forward: builds `blocks` blocks on `state` (`parent`'s) as a node
	/// would, each on a copy, then executes it on `state` with every pallet's `try_state` and
	/// checks the state root its builder found (a difference is told item by item, as by
	/// [`check_block`]). Returns each block's number and weight.
	pub fn fast_forward(
		&self,
		state: &mut State,
		parent: gateless_runtime::Header,
		blocks: u32,
	) -> Result<Vec<(u32, Weight)>> {
		let mut parent = parent;
		let mut executed = Vec::new();
		for _ in 0..blocks {
			let mut built = state.fork();
			let block = self.build_block(&mut built, &parent)?;
			let number = block.header.number;
			let weight = self
				.execute_block(state, &block)
				.map_err(|error| format!("fast-forward, block {number}: {error}"))?;
			let root = state.root();
			if root != block.header.state_root {
				return Err(format!(
					"fast-forward, block {number}: executing it gives state root {root:?}, \
					 building it gave {:?}; the storage items that differ: {}",
					block.header.state_root,
					differences(&state.pairs(), &built.pairs()).join(", ")
				));
			}
			executed.push((number, weight));
			parent = block.header;
		}
		Ok(executed)
	}
}

/// The header of the block after `parent` as a node's BABE authoring would start it: a secondary
/// pre-digest for the slot after the state's current one, by authority 0 (the runtime does not
/// check who authors a slot, only the node's import does).
fn next_header(
	parent: &gateless_runtime::Header,
	slot: sp_consensus_babe::Slot,
) -> gateless_runtime::Header {
	use sp_consensus_babe::digests::{PreDigest, SecondaryPlainPreDigest};
	use sp_runtime::traits::Header as _;
	let pre_digest =
		PreDigest::SecondaryPlain(SecondaryPlainPreDigest { authority_index: 0, slot });
	let digest = sp_runtime::Digest {
		logs: vec![sp_runtime::DigestItem::PreRuntime(
			sp_consensus_babe::BABE_ENGINE_ID,
			pre_digest.encode(),
		)],
	};
	gateless_runtime::Header::new(
		parent.number.saturating_add(1),
		Default::default(),
		Default::default(),
		parent.hash(),
		digest,
	)
}

/// Runs the try-runtime checks of block `at` on a live chain: executes it on its parent's state,
/// with the runtime of that state's spec version, and every pallet's `try_state`; returns the
/// block's weight and the state it left (block `at`'s, its root checked).
pub async fn check_block(rpc: &Rpc, runtimes: &TryRuntimes, at: H256) -> Result<(Weight, State)> {
	let mut block = rpc.block(at).await?;
	// The seal is the author's signature over the rest of the header: the import takes it off
	// before the runtime executes the block, and the runtime checks every other digest item.
	if matches!(block.header.digest.logs.last(), Some(sp_runtime::DigestItem::Seal(..))) {
		block.header.digest.logs.pop();
	}
	let parent = block.header.parent_hash;
	let spec = rpc.runtime_version_at(Some(parent)).await?.spec_version;
	let runtime = runtimes.of_spec(spec).map_err(|error| format!("block {at:?}: {error}"))?;
	let mut state = State::fetch(rpc, parent).await?;
	let weight = runtime.execute_block(&mut state, &block)?;
	let root = state.root();
	if root != block.header.state_root {
		let expected = ChainState::fetch(rpc, at).await?.into_pairs();
		return Err(format!(
			"block {at:?} executed by spec {} gives state root {root:?}, not its header's {:?}; \
			 the storage items that differ: {}",
			runtime.spec_version(),
			block.header.state_root,
			differences(&state.pairs(), &expected).join(", ")
		));
	}
	Ok((weight, state))
}

/// The storage items, by name, whose values differ between two states.
fn differences(
	executed: &BTreeMap<Vec<u8>, Vec<u8>>,
	expected: &BTreeMap<Vec<u8>, Vec<u8>>,
) -> Vec<String> {
	let names = storage_item_names();
	let name = |key: &[u8]| match key.get(..32).and_then(|prefix| names.get(prefix)) {
		Some(name) => format!("{name} (key 0x{})", hex::encode(key)),
		None => format!("key {:?}", String::from_utf8_lossy(key)),
	};
	let mut found = Vec::new();
	for key in executed
		.keys()
		.chain(expected.keys().filter(|key| !executed.contains_key(*key)))
	{
		let (ours, theirs) = (executed.get(key), expected.get(key));
		if ours != theirs {
			found.push(format!(
				"{}: executed {}, chain {}",
				name(key),
				ours.map_or("none".into(), |value| format!("0x{}", hex::encode(value))),
				theirs.map_or("none".into(), |value| format!("0x{}", hex::encode(value)))
			));
		}
	}
	found
}

/// Every storage item of the runtime by its key prefix (`twox128(pallet) ++ twox128(item)`).
fn storage_item_names() -> BTreeMap<Vec<u8>, String> {
	let mut names = BTreeMap::new();
	if let frame_metadata::RuntimeMetadata::V14(metadata) = gateless_runtime::Runtime::metadata().1
	{
		for storage in metadata.pallets.into_iter().filter_map(|pallet| pallet.storage) {
			for entry in storage.entries {
				let prefix = frame_support::storage::storage_prefix(
					storage.prefix.as_bytes(),
					entry.name.as_bytes(),
				);
				names.insert(prefix.to_vec(), format!("{}::{}", storage.prefix, entry.name));
			}
		}
	}
	names
}

/// Runs try-runtime's fast-forward on a live chain: `blocks` blocks built on block `at`'s state
/// by the runtime of its spec version, each checked with every pallet's `try_state`.
pub async fn check_fast_forward(
	rpc: &Rpc,
	runtimes: &TryRuntimes,
	at: H256,
	blocks: u32,
) -> Result<Vec<(u32, Weight)>> {
	let spec = rpc.runtime_version_at(Some(at)).await?.spec_version;
	let runtime = runtimes.of_spec(spec).map_err(|error| format!("block {at:?}: {error}"))?;
	let mut state = State::fetch(rpc, at).await?;
	let parent = rpc.header(at).await?;
	runtime.fast_forward(&mut state, parent, blocks)
}

/// Runs the try-runtime upgrade checks on the state of block `at` of a live chain.
pub async fn check_upgrade(rpc: &Rpc, runtime: &TryRuntime, at: H256) -> Result<UpgradeReport> {
	let mut state = State::fetch(rpc, at).await?;
	runtime.on_runtime_upgrade(&mut state)
}
