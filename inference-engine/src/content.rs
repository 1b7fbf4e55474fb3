//! The content store: bytes that travel between nodes off chain (job inputs above the inline
//! threshold), on disk by content hash, with their [`Manifest`].
//!
//! Content enters the store three ways: a user hands it to this node over RPC (in chunks, then
//! assembled), the node fetched it from a peer for a job it executes, or it was put whole. Either
//! way it is checked against its hash before it is kept, so the store only ever serves bytes that
//! match their name. Each item is kept for a time-to-live after its last use (upload, fetch,
//! serving it to a peer, running a job on it) and within a disk quota; the least recently used go
//! first. Chunks uploaded but never assembled expire with the same time-to-live.

use std::{
	collections::HashMap,
	fs, io,
	path::{Path, PathBuf},
	sync::{Mutex, MutexGuard},
	time::{Duration, Instant},
};

use codec::{Decode, Encode};
use gateless_primitives::content::{
	chunk_count, chunk_len, ContentError, ContentRef, Manifest, CHUNK_BYTES, MAX_CONTENT_BYTES,
};
use sp_core::H256;

/// Gets content from other nodes: the node's side of the data plane, implemented with its
/// network.
pub trait ContentFetcher: Send + Sync {
	/// The bytes of `content`, fetched from the nodes that provide it within `timeout`, each chunk
	/// checked against the hash on arrival, and kept in the content store (which this node then
	/// provides); or why not.
	fn fetch(&self, content: &ContentRef, timeout: Duration) -> Result<Vec<u8>, String>;

	/// The chunk list of `content` of at most `max` bytes (a model file), from a node that
	/// provides it, checked against the hash; or why not.
	fn fetch_manifest(&self, content: &ContentRef, max: u64) -> Result<Manifest, String>;

	/// Chunks `indices` of `content`, whose chunk list is `manifest`, from the nodes that provide
	/// it, each checked against the chunk list on arrival (a node that sends a wrong one is
	/// penalised and another asked) and handed to `sink`, which may refuse it with an error that
	/// stops the fetch. What arrived before an error stays handed over.
	fn fetch_chunks(
		&self,
		content: &ContentRef,
		manifest: &Manifest,
		indices: &[u32],
		sink: &mut (dyn FnMut(u32, Vec<u8>) -> Result<(), String> + Send),
	) -> Result<(), String>;
}

/// Why content cannot be put into, or read from, the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContentStoreError {
	/// Empty, or larger than the largest content.
	BadLength,
	/// A chunk of more than [`CHUNK_BYTES`], or one that was never uploaded (or expired).
	MissingChunk(H256),
	/// The store is full of content still in use.
	Full,
	/// The store's directory could not be read or written.
	Io(String),
}

impl From<io::Error> for ContentStoreError {
	fn from(error: io::Error) -> Self {
		ContentStoreError::Io(error.to_string())
	}
}

/// How long content is kept and how much of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContentLimits {
	/// Content not used for this long is dropped.
	pub ttl: Duration,
	/// The most bytes kept on disk, content and uploaded chunks together.
	pub quota_bytes: u64,
}

struct Entry {
	len: u64,
	last_used: Instant,
}

#[derive(Default)]
struct Index {
	content: HashMap<H256, Entry>,
	chunks: HashMap<H256, Entry>,
}

impl Index {
	fn used_bytes(&self) -> u64 {
		self.content.values().chain(self.chunks.values()).map(|entry| entry.len).sum()
	}
}

/// Content on disk by hash: `<dir>/<hash>.bin` (the bytes) and `<hash>.manifest`; uploaded chunks
/// in `<dir>/chunks/<hash>`.
pub struct ContentStore {
	dir: PathBuf,
	limits: ContentLimits,
	index: Mutex<Index>,
}

/// The blake2-256 of `bytes` (the hash models are named by, too).
fn blake2_256(bytes: &[u8]) -> H256 {
	gateless_primitives::model::model_hash(bytes)
}

fn hex(hash: &H256) -> String {
	format!("{hash:x}")
}

impl ContentStore {
	/// Opens the store in `dir`, dropping the content and chunks an earlier run left there (and
	/// nothing else): the time-to-live of each item cannot be known across a restart, and every
	/// item is fetched again on demand.
	pub fn open(dir: PathBuf, limits: ContentLimits) -> io::Result<Self> {
		fs::create_dir_all(dir.join("chunks"))?;
		for entry in fs::read_dir(&dir)?.chain(fs::read_dir(dir.join("chunks"))?) {
			let path = entry?.path();
			let ours = path.parent() == Some(&dir.join("chunks"))
				|| path
					.extension()
					.is_some_and(|ext| ext == "bin" || ext == "manifest" || ext == "partial");
			if ours && path.is_file() {
				fs::remove_file(&path)?;
			}
		}
		Ok(Self { dir, limits, index: Mutex::new(Index::default()) })
	}

	/// The store's directory.
	pub fn dir(&self) -> &Path {
		&self.dir
	}

	/// Its limits.
	pub fn limits(&self) -> ContentLimits {
		self.limits
	}

	fn index(&self) -> MutexGuard<'_, Index> {
		self.index.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
	}

	fn bytes_path(&self, hash: &H256) -> PathBuf {
		self.dir.join(format!("{}.bin", hex(hash)))
	}

	fn manifest_path(&self, hash: &H256) -> PathBuf {
		self.dir.join(format!("{}.manifest", hex(hash)))
	}

	fn chunk_path(&self, hash: &H256) -> PathBuf {
		self.dir.join("chunks").join(hex(hash))
	}

	/// Whether the store holds the content `hash` (and marks it used).
	pub fn contains(&self, hash: &H256) -> bool {
		let mut index = self.index();
		match index.content.get_mut(hash) {
			Some(entry) => {
				entry.last_used = Instant::now();
				true
			},
			None => false,
		}
	}

	/// The hashes of all content held.
	pub fn hashes(&self) -> Vec<H256> {
		self.index().content.keys().copied().collect()
	}

	/// How many items, and how many bytes, the store holds (content and chunks).
	pub fn usage(&self) -> (usize, u64) {
		let index = self.index();
		(index.content.len() + index.chunks.len(), index.used_bytes())
	}

	/// Makes room for `len` more bytes: drops expired items, then the least recently used
	/// content, as long as the quota needs it.
	fn make_room(&self, index: &mut Index, len: u64) -> Result<(), ContentStoreError> {
		self.drop_expired(index);
		if len > self.limits.quota_bytes {
			return Err(ContentStoreError::Full);
		}
		while index.used_bytes().saturating_add(len) > self.limits.quota_bytes {
			let oldest = index
				.content
				.iter()
				.min_by_key(|(_, entry)| entry.last_used)
				.map(|(hash, _)| *hash)
				.ok_or(ContentStoreError::Full)?;
			self.remove_content(index, &oldest);
		}
		Ok(())
	}

	fn remove_content(&self, index: &mut Index, hash: &H256) {
		index.content.remove(hash);
		let _ = fs::remove_file(self.bytes_path(hash));
		let _ = fs::remove_file(self.manifest_path(hash));
	}

	fn drop_expired(&self, index: &mut Index) -> Vec<H256> {
		let expired = unused_for(&index.content, self.limits.ttl);
		for hash in &expired {
			self.remove_content(index, hash);
		}
		for hash in unused_for(&index.chunks, self.limits.ttl) {
			index.chunks.remove(&hash);
			let _ = fs::remove_file(self.chunk_path(&hash));
		}
		expired
	}

	/// Drops what has not been used for the time-to-live; returns the content hashes dropped.
	pub fn prune(&self) -> Vec<H256> {
		let mut index = self.index();
		self.drop_expired(&mut index)
	}

	/// Keeps `bytes` whole; returns their reference.
	pub fn put(&self, bytes: &[u8]) -> Result<ContentRef, ContentStoreError> {
		let manifest = Manifest::of(bytes).ok_or(ContentStoreError::BadLength)?;
		self.put_checked(&manifest, bytes)?;
		Ok(manifest.content_ref())
	}

	/// Keeps `bytes`, whose manifest is `manifest` (the caller checked each chunk against it).
	fn put_checked(&self, manifest: &Manifest, bytes: &[u8]) -> Result<(), ContentStoreError> {
		let hash = manifest.hash();
		let mut index = self.index();
		if let Some(entry) = index.content.get_mut(&hash) {
			entry.last_used = Instant::now();
			return Ok(());
		}
		self.make_room(&mut index, bytes.len() as u64)?;
		write_atomically(&self.bytes_path(&hash), bytes)?;
		write_atomically(&self.manifest_path(&hash), &manifest.encode())?;
		index
			.content
			.insert(hash, Entry { len: bytes.len() as u64, last_used: Instant::now() });
		Ok(())
	}

	/// Keeps content fetched from peers: `chunks` in order, checked against `manifest`, which
	/// must be `content`'s.
	pub fn put_fetched(
		&self,
		content: &ContentRef,
		manifest: &Manifest,
		chunks: &[Vec<u8>],
	) -> Result<Vec<u8>, ContentError> {
		manifest.check(content)?;
		if chunks.len() != manifest.chunks.len() {
			return Err(ContentError::BadChunk);
		}
		let mut bytes = Vec::with_capacity(content.len as usize);
		for (index, chunk) in chunks.iter().enumerate() {
			manifest.check_chunk(index as u32, chunk)?;
			bytes.extend_from_slice(chunk);
		}
		if let Err(error) = self.put_checked(manifest, &bytes) {
			log::warn!(target: "gateless::content", "cannot keep content {:?}: {error:?}", content.hash);
		}
		Ok(bytes)
	}

	/// The bytes of `content`, if held and still matching (a file changed on disk is dropped).
	pub fn get(&self, content: &ContentRef) -> Option<Vec<u8>> {
		let manifest = self.manifest(&content.hash)?;
		manifest.check(content).ok()?;
		let bytes = fs::read(self.bytes_path(&content.hash)).ok()?;
		let intact = bytes.len() as u64 == content.len
			&& bytes
				.chunks(CHUNK_BYTES as usize)
				.enumerate()
				.all(|(index, chunk)| manifest.check_chunk(index as u32, chunk).is_ok());
		if !intact {
			log::warn!(target: "gateless::content", "content {:?} changed on disk: dropped", content.hash);
			self.remove_content(&mut self.index(), &content.hash);
			return None;
		}
		Some(bytes)
	}

	/// The manifest of the content `hash`, if held (and marks it used).
	pub fn manifest(&self, hash: &H256) -> Option<Manifest> {
		if !self.contains(hash) {
			return None;
		}
		let encoded = fs::read(self.manifest_path(hash)).ok()?;
		Manifest::decode(&mut &encoded[..])
			.ok()
			.filter(|manifest| manifest.hash() == *hash)
	}

	/// Chunk `index` of the content `hash`, if held (what a peer asks for). Checked against the
	/// manifest before it leaves, so a node never serves bytes that do not match.
	pub fn chunk(&self, hash: &H256, index: u32) -> Option<Vec<u8>> {
		use std::io::{Read, Seek, SeekFrom};
		let manifest = self.manifest(hash)?;
		let len = chunk_len(manifest.len, index)?;
		let mut file = fs::File::open(self.bytes_path(hash)).ok()?;
		file.seek(SeekFrom::Start(u64::from(index) * u64::from(CHUNK_BYTES))).ok()?;
		let mut chunk = vec![0u8; len as usize];
		file.read_exact(&mut chunk).ok()?;
		manifest.check_chunk(index, &chunk).ok()?;
		Some(chunk)
	}

	/// Keeps one uploaded chunk (at most [`CHUNK_BYTES`]) until it is assembled or expires;
	/// returns its blake2-256.
	pub fn put_chunk(&self, chunk: &[u8]) -> Result<H256, ContentStoreError> {
		if chunk.is_empty() || chunk.len() > CHUNK_BYTES as usize {
			return Err(ContentStoreError::BadLength);
		}
		let hash = blake2_256(chunk);
		let mut index = self.index();
		if let Some(entry) = index.chunks.get_mut(&hash) {
			entry.last_used = Instant::now();
			return Ok(hash);
		}
		self.make_room(&mut index, chunk.len() as u64)?;
		write_atomically(&self.chunk_path(&hash), chunk)?;
		index
			.chunks
			.insert(hash, Entry { len: chunk.len() as u64, last_used: Instant::now() });
		Ok(hash)
	}

	/// An uploaded chunk, if the store still has it intact.
	pub fn uploaded_chunk(&self, hash: &H256) -> Option<Vec<u8>> {
		let chunk = fs::read(self.chunk_path(hash)).ok()?;
		(blake2_256(&chunk) == *hash).then_some(chunk)
	}

	/// Drops uploaded chunks that were used elsewhere (a model's, now in the model store).
	pub fn discard_chunks(&self, hashes: &[H256]) {
		let mut index = self.index();
		for hash in hashes {
			if index.chunks.remove(hash).is_some() {
				let _ = fs::remove_file(self.chunk_path(hash));
			}
		}
	}

	/// Assembles uploaded chunks, in order, into content of `len` bytes and keeps it; returns its
	/// reference. Every chunk but the last must be [`CHUNK_BYTES`] long.
	pub fn assemble(&self, len: u64, chunks: &[H256]) -> Result<ContentRef, ContentStoreError> {
		let count = chunk_count(len).ok_or(ContentStoreError::BadLength)?;
		if len > MAX_CONTENT_BYTES || chunks.len() != count as usize {
			return Err(ContentStoreError::BadLength);
		}
		let mut bytes = Vec::with_capacity(len as usize);
		for (position, hash) in chunks.iter().enumerate() {
			let chunk = fs::read(self.chunk_path(hash))
				.map_err(|_| ContentStoreError::MissingChunk(*hash))?;
			if blake2_256(&chunk) != *hash
				|| chunk_len(len, position as u32) != Some(chunk.len() as u32)
			{
				return Err(ContentStoreError::MissingChunk(*hash));
			}
			bytes.extend_from_slice(&chunk);
		}
		let content = self.put(&bytes)?;
		let mut index = self.index();
		for hash in chunks {
			if index.chunks.remove(hash).is_some() {
				let _ = fs::remove_file(self.chunk_path(hash));
			}
		}
		Ok(content)
	}
}

/// The entries not used for `ttl`.
fn unused_for(entries: &HashMap<H256, Entry>, ttl: Duration) -> Vec<H256> {
	entries
		.iter()
		.filter(|(_, entry)| entry.last_used.elapsed() > ttl)
		.map(|(hash, _)| *hash)
		.collect()
}

/// Writes `bytes` to `path` through a temporary file, so a crash never leaves a partial file
/// under the final name.
fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
	let partial = path.with_extension("partial");
	fs::write(&partial, bytes)?;
	fs::rename(&partial, path)
}

#[cfg(test)]
mod tests {
	use super::*;

	fn store(quota_bytes: u64, ttl: Duration) -> (tempfile::TempDir, ContentStore) {
		let dir = tempfile::tempdir().unwrap();
		let store =
			ContentStore::open(dir.path().join("content"), ContentLimits { ttl, quota_bytes })
				.unwrap();
		(dir, store)
	}

	fn bytes(len: usize, seed: u8) -> Vec<u8> {
		(0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
	}

	#[test]
	fn uploaded_chunks_assemble_into_content_served_chunk_by_chunk() {
		let (_dir, store) = store(64 << 20, Duration::from_secs(60));
		let content_bytes = bytes(2 * CHUNK_BYTES as usize + 100, 1);
		let hashes: Vec<H256> = content_bytes
			.chunks(CHUNK_BYTES as usize)
			.map(|chunk| store.put_chunk(chunk).unwrap())
			.collect();
		let content = store.assemble(content_bytes.len() as u64, &hashes).unwrap();
		assert_eq!(Some(content), gateless_primitives::content::content_ref(&content_bytes));
		assert_eq!(store.get(&content), Some(content_bytes.clone()));
		let manifest = store.manifest(&content.hash).unwrap();
		for index in 0..3 {
			let chunk = store.chunk(&content.hash, index).unwrap();
			assert_eq!(manifest.check_chunk(index, &chunk), Ok(()));
		}
		assert_eq!(store.chunk(&content.hash, 3), None);
		// The chunks were consumed; a short chunk before the end, or a missing one, is refused.
		assert_eq!(store.usage().0, 1);
		let again: Vec<H256> = content_bytes
			.chunks(CHUNK_BYTES as usize)
			.map(|chunk| store.put_chunk(chunk).unwrap())
			.collect();
		let swapped = [again[0], again[2], again[1]];
		assert!(matches!(
			store.assemble(content_bytes.len() as u64, &swapped),
			Err(ContentStoreError::MissingChunk(_))
		));
		assert_eq!(
			store.assemble(content_bytes.len() as u64, &again[..2]),
			Err(ContentStoreError::BadLength)
		);
		assert_eq!(store.put_chunk(&[]), Err(ContentStoreError::BadLength));
		assert_eq!(
			store.put_chunk(&vec![0u8; CHUNK_BYTES as usize + 1]),
			Err(ContentStoreError::BadLength)
		);
	}

	#[test]
	fn fetched_chunks_are_kept_only_when_they_match_the_hash() {
		let (_dir, store) = store(64 << 20, Duration::from_secs(60));
		let content_bytes = bytes(CHUNK_BYTES as usize + 10, 2);
		let manifest = Manifest::of(&content_bytes).unwrap();
		let content = manifest.content_ref();
		let mut chunks: Vec<Vec<u8>> =
			content_bytes.chunks(CHUNK_BYTES as usize).map(<[u8]>::to_vec).collect();
		chunks[1][3] ^= 0x40;
		assert_eq!(store.put_fetched(&content, &manifest, &chunks), Err(ContentError::BadChunk));
		assert!(!store.contains(&content.hash));
		chunks[1][3] ^= 0x40;
		assert_eq!(store.put_fetched(&content, &manifest, &chunks), Ok(content_bytes.clone()));
		assert_eq!(store.get(&content), Some(content_bytes));
		// A file changed on disk is dropped, not served.
		fs::write(store.bytes_path(&content.hash), bytes(CHUNK_BYTES as usize + 10, 3)).unwrap();
		assert_eq!(store.get(&content), None);
		assert!(!store.contains(&content.hash));
	}

	#[test]
	fn a_restart_drops_earlier_content_and_nothing_else() {
		let dir = tempfile::tempdir().unwrap();
		let limits = ContentLimits { ttl: Duration::from_secs(60), quota_bytes: 1 << 20 };
		let store = ContentStore::open(dir.path().to_path_buf(), limits).unwrap();
		let content = store.put(&bytes(100, 1)).unwrap();
		store.put_chunk(&bytes(10, 2)).unwrap();
		fs::write(dir.path().join("operator-notes.txt"), b"keep me").unwrap();
		drop(store);
		let store = ContentStore::open(dir.path().to_path_buf(), limits).unwrap();
		assert!(!store.contains(&content.hash));
		let left: Vec<_> = fs::read_dir(dir.path())
			.unwrap()
			.chain(fs::read_dir(dir.path().join("chunks")).unwrap())
			.map(|entry| entry.unwrap().file_name().into_string().unwrap())
			.collect();
		let mut left = left;
		left.sort();
		assert_eq!(left, ["chunks", "operator-notes.txt"]);
	}

	#[test]
	fn content_leaves_after_its_time_to_live_and_beyond_the_quota() {
		let (_dir, store) = store(3000, Duration::from_millis(200));
		let first = store.put(&bytes(1000, 1)).unwrap();
		let second = store.put(&bytes(1000, 2)).unwrap();
		assert!(store.contains(&first.hash));
		// A third pushes out the least recently used: the second (the first was just used).
		let third = store.put(&bytes(1500, 3)).unwrap();
		assert!(store.contains(&first.hash) && store.contains(&third.hash));
		assert!(!store.contains(&second.hash));
		assert_eq!(store.put(&bytes(3001, 4)), Err(ContentStoreError::Full));
		std::thread::sleep(Duration::from_millis(300));
		let mut dropped = store.prune();
		dropped.sort();
		let mut expected = vec![first.hash, third.hash];
		expected.sort();
		assert_eq!(dropped, expected);
		assert_eq!(store.usage(), (0, 0));
	}
}
