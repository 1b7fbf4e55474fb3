//! The model store: ONNX files on disk, content-addressed by their blake2-256 hash.
//!
//! A model's bytes come from the store, else from the chain (inline models, passed in by the
//! offchain worker), else from the model's http(s) URIs, fetched natively with a timeout and a
//! size cap, else from peers as content (see [`crate::model_fetch`], which writes them into a
//! `<content>.download` file here chunk by chunk). Bytes enter the store only when they have the
//! registered size and hash, and are checked again when read, so a corrupted file is dropped
//! rather than run. The store keeps within a disk quota by evicting the least recently used
//! models, and backs off URIs that fail.
//!
//! A model that nodes provide as content also has its chunk list kept beside it
//! (`<hash>.manifest`), so that the node serves its chunks to peers, each checked before it goes.

use std::{
	collections::HashMap,
	fs,
	io::{self, Read, Write},
	os::unix::fs::FileExt,
	path::{Path, PathBuf},
	sync::{mpsc, Arc, Mutex, MutexGuard},
	time::{Duration, Instant},
};

use codec::{Decode, Encode};
use gateless_primitives::{
	content::{chunk_len, ContentRef, Manifest, CHUNK_BYTES, MAX_MODEL_CONTENT_BYTES},
	inference::ModelRef,
	model::{model_hash, AttestationFailure},
};
use http_body_util::{BodyExt, Empty};
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use sp_core::H256;

use crate::metrics::{FetchOutcome, Metrics};

/// Why a model's bytes could not be obtained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreError {
	/// No URI served the bytes; the message says what each attempt ran into.
	Unavailable(String),
	/// The model is larger than the node accepts.
	TooLarge { size: u64, limit: u64 },
	/// The bytes do not have the registered size.
	SizeMismatch { expected: u64, actual: u64 },
	/// The bytes do not hash to the registered hash.
	HashMismatch,
	/// The store's directory could not be written.
	Io(String),
}

impl StoreError {
	/// The attestation failure reported for this error.
	pub fn attestation_failure(&self) -> AttestationFailure {
		match self {
			StoreError::Unavailable(_) | StoreError::Io(_) => AttestationFailure::Unavailable,
			StoreError::TooLarge { .. } => AttestationFailure::TooLarge,
			StoreError::SizeMismatch { .. } => AttestationFailure::SizeMismatch,
			StoreError::HashMismatch => AttestationFailure::HashMismatch,
		}
	}
}

/// How models are fetched from their URIs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FetchPolicy {
	/// The largest body accepted, in bytes (the node's largest model).
	pub max_bytes: u64,
	/// The longest one fetch may take, connection and body included.
	pub timeout: Duration,
	/// Whether loopback, private and link-local addresses may be fetched from: only for test
	/// networks on one machine (see [`crate::address`]).
	pub allow_private: bool,
}

/// The first wait before a URI that failed is tried again; each further failure doubles it.
pub const FIRST_RETRY_AFTER: Duration = Duration::from_secs(6);
/// The longest wait before a URI that keeps failing is tried again.
pub const LAST_RETRY_AFTER: Duration = Duration::from_secs(600);
/// How many failing URIs the store remembers (the oldest are forgotten first).
const MAX_BACKED_OFF: usize = 1024;

/// A file in the store, by its hash.
struct StoredFile {
	size: u64,
	last_used: Instant,
}

/// A URI that failed recently, and when it may be tried again.
struct BackOff {
	failures: u32,
	retry_at: Instant,
	/// What the last attempt ran into; a mismatch is reported again while backed off.
	error: StoreError,
}

#[derive(Default)]
struct StoreState {
	files: HashMap<H256, StoredFile>,
	backed_off: HashMap<String, BackOff>,
	/// The models the store holds as content: the hash of a chunk list, the model's hash and
	/// the chunk list.
	contents: HashMap<H256, (H256, Arc<Manifest>)>,
}

impl StoreState {
	fn bytes(&self) -> u64 {
		self.files.values().fold(0, |sum, file| sum.saturating_add(file.size))
	}
}

/// ONNX files under a directory, named by the hex of their hash, within a disk quota.
///
/// The store is a cache: every model can be obtained again from the chain or its URIs. To stay
/// within the quota it removes the least recently used files (the models of running jobs are the
/// most recently used, and the worker usually still holds their plans); a model that does not fit
/// even then is used without being stored. URIs that failed are not tried again before their
/// back-off ends ([`FIRST_RETRY_AFTER`], doubling up to [`LAST_RETRY_AFTER`]), so a model whose
/// server is down costs a validator one attempt now and then, not one per block.
pub struct ModelStore {
	dir: PathBuf,
	max_bytes: u64,
	quota_bytes: u64,
	fetch: FetchPolicy,
	state: Mutex<StoreState>,
	metrics: Metrics,
}

impl ModelStore {
	/// Opens (creating it if needed) the store in `dir`, keeping at most `quota_bytes` of models
	/// of at most `fetch.max_bytes` each, and fetching them as `fetch` says. Files already there
	/// count as used in the order they were written.
	pub fn open(
		dir: &Path,
		fetch: FetchPolicy,
		quota_bytes: u64,
		metrics: Metrics,
	) -> io::Result<Self> {
		fs::create_dir_all(dir)?;
		let mut state = StoreState::default();
		let now = Instant::now();
		for entry in fs::read_dir(dir)? {
			let entry = entry?;
			let path = entry.path();
			let name = entry.file_name();
			let name = name.to_string_lossy();
			if name.contains(".partial-") {
				// Left by a node that stopped while writing it.
				let _ = fs::remove_file(&path);
				continue;
			}
			let Some(hash) = name.strip_suffix(".onnx").and_then(parse_hash) else { continue };
			let metadata = entry.metadata()?;
			if !metadata.is_file() {
				continue;
			}
			let age = metadata.modified().ok().and_then(|at| at.elapsed().ok()).unwrap_or_default();
			let last_used = now.checked_sub(age).unwrap_or(now);
			state.files.insert(hash, StoredFile { size: metadata.len(), last_used });
		}
		// The chunk lists of the files still there; downloads left for a day are given up.
		for entry in fs::read_dir(dir)? {
			let path = entry?.path();
			let name = path.file_name().map(|name| name.to_string_lossy().into_owned());
			let Some(name) = name else { continue };
			if name.ends_with(".download") {
				let age = fs::metadata(&path)
					.and_then(|metadata| metadata.modified())
					.ok()
					.and_then(|at| at.elapsed().ok());
				if age.is_some_and(|age| age > ABANDONED_DOWNLOAD) {
					let _ = fs::remove_file(&path);
				}
				continue;
			}
			let Some(hash) = name.strip_suffix(".manifest").and_then(parse_hash) else { continue };
			let manifest = fs::read(&path)
				.ok()
				.and_then(|bytes| Manifest::decode(&mut &bytes[..]).ok())
				.filter(|manifest| {
					state.files.get(&hash).is_some_and(|file| file.size == manifest.len)
				});
			match manifest {
				Some(manifest) => {
					state.contents.insert(manifest.hash(), (hash, Arc::new(manifest)));
				},
				None => {
					let _ = fs::remove_file(&path);
				},
			}
		}
		let store = Self {
			dir: dir.to_path_buf(),
			max_bytes: fetch.max_bytes,
			quota_bytes,
			fetch,
			state: Mutex::new(state),
			metrics,
		};
		let mut state = store.state();
		store.make_room(&mut state, 0, None);
		drop(state);
		Ok(store)
	}

	fn state(&self) -> MutexGuard<'_, StoreState> {
		// Every update leaves the state consistent, so a panic elsewhere cannot corrupt it.
		self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
	}

	/// The directory of the store.
	pub fn dir(&self) -> &Path {
		&self.dir
	}

	fn path_of(&self, hash: &H256) -> PathBuf {
		self.dir.join(format!("{}.onnx", hex(hash.as_bytes())))
	}

	fn manifest_path(&self, hash: &H256) -> PathBuf {
		self.dir.join(format!("{}.manifest", hex(hash.as_bytes())))
	}

	/// Where the chunks of a model fetched as `content` are written as they arrive.
	fn download_path(&self, content: &H256) -> PathBuf {
		self.dir.join(format!("{}.download", hex(content.as_bytes())))
	}

	/// The largest model the store takes, in bytes.
	pub fn max_bytes(&self) -> u64 {
		self.max_bytes
	}

	/// Whether the store holds the model with `hash`.
	pub fn contains(&self, hash: &H256) -> bool {
		self.state().files.contains_key(hash) && self.path_of(hash).is_file()
	}

	/// How many models, and how many bytes, the store holds.
	pub fn usage(&self) -> (usize, u64) {
		let state = self.state();
		(state.files.len(), state.bytes())
	}

	/// The stored bytes of the model with `hash`, if present and intact; a file whose bytes no
	/// longer hash to its name is removed.
	pub fn read(&self, hash: &H256) -> Option<Vec<u8>> {
		let path = self.path_of(hash);
		let bytes = match fs::read(&path) {
			Ok(bytes) => bytes,
			Err(_) => {
				self.forget(hash);
				return None;
			},
		};
		if model_hash(&bytes) == *hash {
			if let Some(file) = self.state().files.get_mut(hash) {
				file.last_used = Instant::now();
			}
			Some(bytes)
		} else {
			log::warn!(target: "gateless::inference", "removing corrupted model file {path:?}");
			self.remove(hash);
			None
		}
	}

	/// Removes the model with `hash` from the store (a rejected or banned model), if it is there.
	pub fn remove(&self, hash: &H256) {
		let _ = fs::remove_file(self.path_of(hash));
		self.forget(hash);
	}

	fn forget(&self, hash: &H256) {
		let mut state = self.state();
		self.drop_file(&mut state, hash);
		self.metrics.store_holds(state.files.len(), state.bytes());
	}

	/// Forgets the file of `hash` and removes its chunk list.
	fn drop_file(&self, state: &mut StoreState, hash: &H256) {
		state.files.remove(hash);
		if state.contents.values().any(|(model, _)| model == hash) {
			state.contents.retain(|_, (model, _)| model != hash);
			let _ = fs::remove_file(self.manifest_path(hash));
		}
	}

	/// Removes least recently used files, other than `keep`, until `incoming` more bytes fit in
	/// the quota; whether they do.
	fn make_room(&self, state: &mut StoreState, incoming: u64, keep: Option<&H256>) -> bool {
		while state.bytes().saturating_add(incoming) > self.quota_bytes {
			let oldest = state
				.files
				.iter()
				.filter(|(hash, _)| Some(*hash) != keep)
				.min_by_key(|(_, file)| file.last_used)
				.map(|(hash, _)| *hash);
			let Some(oldest) = oldest else { break };
			log::debug!(target: "gateless::inference", "evicting model {oldest:?} from the store");
			let _ = fs::remove_file(self.path_of(&oldest));
			self.drop_file(state, &oldest);
			self.metrics.evicted();
		}
		self.metrics.store_holds(state.files.len(), state.bytes());
		state.bytes().saturating_add(incoming) <= self.quota_bytes
	}

	/// Checks `bytes` against the registered `size` and `hash` and stores them, making room
	/// within the quota. Bytes that do not fit even in an empty store are not stored (and not an
	/// error: they are still the model's).
	pub fn insert(&self, hash: &H256, size: u64, bytes: &[u8]) -> Result<(), StoreError> {
		self.check(hash, size, bytes)?;
		self.put(hash, size, bytes)
	}

	/// Stores bytes already checked against `hash` and `size`.
	fn put(&self, hash: &H256, size: u64, bytes: &[u8]) -> Result<(), StoreError> {
		let mut state = self.state();
		state.files.remove(hash);
		// Nothing is evicted for a model that would not fit anyway.
		if size > self.quota_bytes || !self.make_room(&mut state, size, Some(hash)) {
			log::info!(
				target: "gateless::inference",
				"model {hash:?} ({size} bytes) is used without being stored: the store's quota \
				 is {} bytes",
				self.quota_bytes
			);
			return Ok(());
		}
		let path = self.path_of(hash);
		// Again, in case the directory was removed while the node ran.
		fs::create_dir_all(&self.dir)
			.and_then(|()| write_atomically(&path, bytes))
			.map_err(|error| StoreError::Io(format!("writing {path:?}: {error}")))?;
		state.files.insert(*hash, StoredFile { size, last_used: Instant::now() });
		self.metrics.store_holds(state.files.len(), state.bytes());
		Ok(())
	}

	fn check(&self, hash: &H256, size: u64, bytes: &[u8]) -> Result<(), StoreError> {
		let actual = bytes.len() as u64;
		if actual > self.max_bytes {
			return Err(StoreError::TooLarge { size: actual, limit: self.max_bytes });
		}
		if actual != size {
			return Err(StoreError::SizeMismatch { expected: size, actual });
		}
		if model_hash(bytes) != *hash {
			return Err(StoreError::HashMismatch);
		}
		Ok(())
	}

	/// Makes the stored model with `hash` servable as `content`: its chunk list is computed from
	/// the file (once) and kept beside it. `Ok(false)` when the file's chunk list is not
	/// `content` (the registration names other bytes); an error when the store lacks the file or
	/// it no longer hashes to `hash` (then it is removed).
	pub fn index_content(&self, hash: &H256, content: &ContentRef) -> Result<bool, StoreError> {
		if self.state().contents.get(&content.hash).is_some_and(|(model, _)| model == hash) {
			return Ok(true);
		}
		let path = self.path_of(hash);
		let (manifest, file_hash) = chunk_list(&path, MAX_MODEL_CONTENT_BYTES)
			.map_err(|error| StoreError::Io(format!("reading {path:?}: {error}")))?;
		if file_hash != *hash {
			log::warn!(target: "gateless::inference", "removing corrupted model file {path:?}");
			self.remove(hash);
			return Err(StoreError::HashMismatch);
		}
		if manifest.content_ref() != *content {
			return Ok(false);
		}
		write_atomically(&self.manifest_path(hash), &manifest.encode())
			.map_err(|error| StoreError::Io(format!("writing the chunk list: {error}")))?;
		let mut state = self.state();
		if state.files.contains_key(hash) {
			state.contents.insert(content.hash, (*hash, Arc::new(manifest)));
		}
		Ok(true)
	}

	/// The hashes of the chunk lists of the models the store holds as content.
	pub fn content_hashes(&self) -> Vec<H256> {
		self.state().contents.keys().copied().collect()
	}

	/// The chunk list `content` hashes to, if the store holds that model file.
	pub fn content_manifest(&self, content: &H256) -> Option<Arc<Manifest>> {
		self.state().contents.get(content).map(|(_, manifest)| manifest.clone())
	}

	/// Chunk `index` of the model file the store holds as `content`, checked against the chunk
	/// list before it is served (a file corrupted on disk is removed instead).
	pub fn content_chunk(&self, content: &H256, index: u32) -> Option<Vec<u8>> {
		let (model, manifest) = self.state().contents.get(content).cloned()?;
		let len = chunk_len(manifest.len, index)?;
		let mut chunk = vec![0; len as usize];
		let file = fs::File::open(self.path_of(&model)).ok()?;
		file.read_exact_at(&mut chunk, u64::from(index) * u64::from(CHUNK_BYTES)).ok()?;
		if manifest.check_chunk(index, &chunk).is_err() {
			log::warn!(target: "gateless::inference", "removing corrupted model file of {model:?}");
			self.remove(&model);
			return None;
		}
		if let Some(file) = self.state().files.get_mut(&model) {
			file.last_used = Instant::now();
		}
		Some(chunk)
	}

	/// Opens (creating it at its full length if needed) the file that a model fetched as the
	/// content of `manifest` is written into, and says which of its chunks it already holds
	/// intact: a fetch resumes where an earlier one, in this run of the node or the last, stopped.
	pub fn open_download(&self, manifest: &Manifest) -> Result<(fs::File, Vec<bool>), StoreError> {
		let io = |error: io::Error| StoreError::Io(format!("the download file: {error}"));
		if manifest.len > self.max_bytes {
			return Err(StoreError::TooLarge { size: manifest.len, limit: self.max_bytes });
		}
		let path = self.download_path(&manifest.hash());
		let file = fs::OpenOptions::new()
			.read(true)
			.write(true)
			.create(true)
			.truncate(false)
			.open(&path)
			.map_err(io)?;
		let mut had = vec![false; manifest.chunks.len()];
		if file.metadata().map_err(io)?.len() == manifest.len {
			let mut chunk = Vec::new();
			for (index, had) in had.iter_mut().enumerate() {
				let len = chunk_len(manifest.len, index as u32).unwrap_or(0);
				chunk.resize(len as usize, 0);
				*had = file
					.read_exact_at(&mut chunk, index as u64 * u64::from(CHUNK_BYTES))
					.is_ok() && manifest.check_chunk(index as u32, &chunk).is_ok();
			}
		} else {
			file.set_len(manifest.len).map_err(io)?;
		}
		Ok((file, had))
	}

	/// Moves a model whose chunks were all written into its download file (see
	/// [`ModelStore::open_download`]) into the store, once every chunk matches `manifest` and
	/// the whole file hashes to `hash`, and keeps its chunk list. A file that does not hash to
	/// `hash` is removed: [`StoreError::HashMismatch`].
	pub fn insert_download(&self, hash: &H256, manifest: &Manifest) -> Result<(), StoreError> {
		let partial = self.download_path(&manifest.hash());
		let (found, file_hash) = chunk_list(&partial, MAX_MODEL_CONTENT_BYTES)
			.map_err(|error| StoreError::Io(format!("reading {partial:?}: {error}")))?;
		if found != *manifest || file_hash != *hash {
			let _ = fs::remove_file(&partial);
			return Err(if found == *manifest {
				StoreError::HashMismatch
			} else {
				StoreError::Io("the download's chunks changed on disk".into())
			});
		}
		let size = manifest.len;
		let mut state = self.state();
		if size > self.quota_bytes || !self.make_room(&mut state, size, Some(hash)) {
			let _ = fs::remove_file(&partial);
			return Err(StoreError::TooLarge { size, limit: self.quota_bytes });
		}
		let path = self.path_of(hash);
		write_atomically(&self.manifest_path(hash), &manifest.encode())
			.and_then(|()| fs::rename(&partial, &path))
			.map_err(|error| StoreError::Io(format!("storing {path:?}: {error}")))?;
		state.files.insert(*hash, StoredFile { size, last_used: Instant::now() });
		state.contents.insert(manifest.hash(), (*hash, Arc::new(manifest.clone())));
		self.metrics.store_holds(state.files.len(), state.bytes());
		Ok(())
	}

	/// Stores a model handed over as the chunks of `manifest`, in order (`chunk(index)`, e.g.
	/// from the content store's uploads): each checked as it is written, then as
	/// [`ModelStore::insert_download`].
	pub fn insert_chunks(
		&self,
		hash: &H256,
		manifest: &Manifest,
		mut chunk: impl FnMut(u32) -> Option<Vec<u8>>,
	) -> Result<(), StoreError> {
		let (file, _) = self.open_download(manifest)?;
		for index in 0..manifest.chunks.len() as u32 {
			let bytes = chunk(index)
				.filter(|bytes| manifest.check_chunk(index, bytes).is_ok())
				.ok_or_else(|| StoreError::Unavailable(format!("chunk {index} is missing")))?;
			file.write_all_at(&bytes, u64::from(index) * u64::from(CHUNK_BYTES))
				.map_err(|error| StoreError::Io(format!("writing chunk {index}: {error}")))?;
		}
		file.sync_all().map_err(|error| StoreError::Io(error.to_string()))?;
		self.insert_download(hash, manifest)
	}

	/// The bytes of `model`: from the store, else its inline bytes, else its URIs in order
	/// (skipping those backed off); whatever is obtained is checked and stored.
	pub fn obtain(&self, model: &ModelRef) -> Result<Vec<u8>, StoreError> {
		if model.size > self.max_bytes {
			return Err(StoreError::TooLarge { size: model.size, limit: self.max_bytes });
		}
		if let Some(bytes) = self.read(&model.hash) {
			return Ok(bytes);
		}
		if let Some(bytes) = &model.inline {
			self.check(&model.hash, model.size, bytes)?;
			self.store_quietly(&model.hash, model.size, bytes);
			return Ok(bytes.clone());
		}
		let mut attempts = Vec::new();
		let mut mismatch = None;
		for uri in &model.uris {
			let uri = String::from_utf8_lossy(uri).into_owned();
			if let Some((error, wait)) = self.backed_off(&uri) {
				self.metrics.fetched(FetchOutcome::BackedOff);
				attempts.push(format!(
					"{uri}: not retried for another {} s after {error:?}",
					wait.as_secs()
				));
				if matches!(error, StoreError::HashMismatch | StoreError::SizeMismatch { .. }) {
					mismatch = Some(error);
				}
				continue;
			}
			let error = match fetch(&uri, &self.fetch) {
				Ok(bytes) => match self.check(&model.hash, model.size, &bytes) {
					Ok(()) => {
						self.metrics.fetched(FetchOutcome::Fetched);
						self.state().backed_off.remove(&uri);
						self.store_quietly(&model.hash, model.size, &bytes);
						return Ok(bytes);
					},
					// Another URI may serve the right bytes; if none does, the mismatch is what
					// the validator reports.
					Err(error @ (StoreError::HashMismatch | StoreError::SizeMismatch { .. })) => {
						self.metrics.fetched(FetchOutcome::Mismatch);
						mismatch = Some(error.clone());
						error
					},
					Err(error) => {
						self.metrics.fetched(FetchOutcome::Failed);
						error
					},
				},
				Err(reason) => {
					self.metrics.fetched(FetchOutcome::Failed);
					StoreError::Unavailable(reason)
				},
			};
			attempts.push(format!("{uri}: {error:?}"));
			self.back_off(uri, error);
		}
		Err(mismatch.unwrap_or_else(|| {
			StoreError::Unavailable(if attempts.is_empty() {
				"the model has no inline bytes and no URI".into()
			} else {
				attempts.join("; ")
			})
		}))
	}

	/// Stores checked bytes; a store that cannot be written costs a fetch later, not this use.
	fn store_quietly(&self, hash: &H256, size: u64, bytes: &[u8]) {
		if let Err(error) = self.put(hash, size, bytes) {
			log::warn!(target: "gateless::inference", "model {hash:?} not stored: {error:?}");
		}
	}

	/// The last error of `uri` and how long until it may be tried again, if it is backed off.
	fn backed_off(&self, uri: &str) -> Option<(StoreError, Duration)> {
		let state = self.state();
		let back_off = state.backed_off.get(uri)?;
		let wait = back_off.retry_at.checked_duration_since(Instant::now())?;
		Some((back_off.error.clone(), wait))
	}

	/// Backs `uri` off after it failed with `error`: twice as long as after its last failure.
	fn back_off(&self, uri: String, error: StoreError) {
		let mut state = self.state();
		let failures = state.backed_off.get(&uri).map_or(0, |back_off| back_off.failures);
		let wait = FIRST_RETRY_AFTER
			.saturating_mul(1u32.checked_shl(failures).unwrap_or(u32::MAX))
			.min(LAST_RETRY_AFTER);
		if state.backed_off.len() >= MAX_BACKED_OFF && !state.backed_off.contains_key(&uri) {
			let now = Instant::now();
			state.backed_off.retain(|_, back_off| back_off.retry_at > now);
			if state.backed_off.len() >= MAX_BACKED_OFF {
				let soonest = state
					.backed_off
					.iter()
					.min_by_key(|(_, back_off)| back_off.retry_at)
					.map(|(uri, _)| uri.clone());
				if let Some(soonest) = soonest {
					state.backed_off.remove(&soonest);
				}
			}
		}
		let retry_at = Instant::now() + wait;
		state
			.backed_off
			.insert(uri, BackOff { failures: failures.saturating_add(1), retry_at, error });
	}
}

/// How long a download file may wait for its fetch to resume before the store drops it.
const ABANDONED_DOWNLOAD: Duration = Duration::from_secs(24 * 3600);

/// The chunk list of the file at `path` (at most `max` bytes) and the blake2-256 of the whole
/// file, read chunk by chunk: a model of gigabytes is checked without holding it in memory.
pub fn chunk_list(path: &Path, max: u64) -> io::Result<(Manifest, H256)> {
	let mut file = fs::File::open(path)?;
	let len = file.metadata()?.len();
	if len == 0 || len > max {
		return Err(io::Error::other(format!("{len} bytes: empty or over {max}")));
	}
	let mut whole = blake2b_simd::Params::new().hash_length(32).to_state();
	let mut chunks = Vec::new();
	let mut chunk = vec![0u8; CHUNK_BYTES as usize];
	let mut left = len;
	while left > 0 {
		let take = left.min(u64::from(CHUNK_BYTES)) as usize;
		file.read_exact(&mut chunk[..take])?;
		whole.update(&chunk[..take]);
		chunks.push(model_hash(&chunk[..take]));
		left -= take as u64;
	}
	let hash = H256::from_slice(whole.finalize().as_bytes());
	Ok((Manifest::from_chunk_hashes(len, chunks), hash))
}

fn parse_hash(hex: &str) -> Option<H256> {
	if hex.len() != 64 {
		return None;
	}
	let mut bytes = [0u8; 32];
	for (byte, pair) in bytes.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
		*byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
	}
	Some(H256(bytes))
}

/// Writes `bytes` to `path` through a temporary file, synced then renamed, so that a crash leaves
/// the old file or the new one, never a partial one under the final name. The temporary file is
/// named per process and thread: offchain workers of two blocks may write the same file at once.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
	let partial = path.with_extension(format!(
		"partial-{}-{:?}",
		std::process::id(),
		std::thread::current().id()
	));
	let mut file = fs::File::create(&partial)?;
	file.write_all(bytes)?;
	file.sync_all()?;
	fs::rename(&partial, path)
}

pub(crate) fn hex(bytes: &[u8]) -> String {
	bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Fetches `uri` (http or https) as `policy` says: at most `max_bytes` of body within `timeout`,
/// from public addresses only unless private ones are allowed.
///
/// The request runs on its own thread with its own small tokio runtime, so that it works from
/// any caller (offchain worker threads are not tokio threads); the runtime drops the request at
/// the deadline, so a server that never answers costs neither the caller nor the thread more than
/// `timeout`. Redirects are not followed.
pub fn fetch(uri: &str, policy: &FetchPolicy) -> Result<Vec<u8>, String> {
	let uri: hyper::Uri = uri.parse().map_err(|error| format!("bad URI: {error}"))?;
	// Literal addresses are not resolved, so the resolver's check does not see them.
	if let Some(literal) = uri.host().and_then(|host| {
		host.trim_start_matches('[')
			.trim_end_matches(']')
			.parse::<std::net::IpAddr>()
			.ok()
	}) {
		if !policy.allow_private && !crate::address::is_public(literal) {
			return Err(format!("{literal} is not a public address"));
		}
	}
	let policy = *policy;
	let timeout = policy.timeout;
	let timed_out = move || format!("timed out after {} ms", timeout.as_millis());
	let (sender, receiver) = mpsc::channel();
	std::thread::Builder::new()
		.name("gateless-model-fetch".into())
		.spawn(move || {
			let result = tokio::runtime::Builder::new_current_thread()
				.enable_all()
				.build()
				.map_err(|error| format!("cannot start the fetch runtime: {error}"))
				.and_then(|runtime| {
					runtime.block_on(async {
						tokio::time::timeout(timeout, fetch_async(uri, &policy))
							.await
							.unwrap_or_else(|_| Err(timed_out()))
					})
				});
			let _ = sender.send(result);
		})
		.map_err(|error| format!("cannot start a fetch thread: {error}"))?;
	// A little past the thread's own deadline, which normally answers first.
	receiver
		.recv_timeout(timeout + Duration::from_millis(100))
		.unwrap_or_else(|_| Err(timed_out()))
}

async fn fetch_async(uri: hyper::Uri, policy: &FetchPolicy) -> Result<Vec<u8>, String> {
	let max_bytes = policy.max_bytes;
	let mut http = hyper_util::client::legacy::connect::HttpConnector::new_with_resolver(
		crate::address::PublicOnly::new(policy.allow_private),
	);
	http.enforce_http(false);
	let connector = hyper_rustls::HttpsConnectorBuilder::new()
		.with_provider_and_native_roots(rustls::crypto::ring::default_provider())
		.map_err(|error| format!("no TLS roots: {error}"))?
		.https_or_http()
		.enable_http1()
		.wrap_connector(http);
	let client: Client<_, Empty<bytes::Bytes>> =
		Client::builder(TokioExecutor::new()).build(connector);
	let response = client.get(uri).await.map_err(|error| {
		// hyper says only "client error (Connect)": the reason is further down the chain.
		let mut reason = format!("request failed: {error}");
		let mut source = std::error::Error::source(&error);
		while let Some(cause) = source {
			reason.push_str(&format!(": {cause}"));
			source = cause.source();
		}
		reason
	})?;
	if !response.status().is_success() {
		return Err(format!("HTTP status {}", response.status()));
	}
	let too_large = || format!("more than {max_bytes} bytes");
	let declared = response
		.headers()
		.get(hyper::header::CONTENT_LENGTH)
		.and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
	if declared.is_some_and(|length| length > max_bytes) {
		return Err(too_large());
	}
	let mut body = response.into_body();
	let mut bytes = Vec::new();
	while let Some(frame) = body.frame().await {
		let frame = frame.map_err(|error| format!("reading the body: {error}"))?;
		if let Some(data) = frame.data_ref() {
			if (bytes.len() as u64).saturating_add(data.len() as u64) > max_bytes {
				return Err(too_large());
			}
			bytes.extend_from_slice(data);
		}
	}
	Ok(bytes)
}
