//! Content: bytes that travel between nodes off chain (job tensors above the inline threshold,
//! and model files), named on chain only by their hash and length.
//!
//! Content is cut into [`CHUNK_BYTES`] chunks, the unit nodes exchange. Its [`ContentRef::hash`] is
//! the blake2-256 of its [`Manifest`] (its length and each chunk's blake2-256), so a node that
//! fetches it checks the manifest against the hash first and then each chunk against the manifest,
//! on arrival: a peer that sends one wrong chunk is caught at that chunk, not after the whole
//! download, and the other chunks need not come from the same peer.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::H256;
use sp_runtime::traits::{BlakeTwo256, Hash};

fn blake2_256(bytes: &[u8]) -> H256 {
	BlakeTwo256::hash(bytes)
}

/// The size of every chunk but the last (1 MiB): what one request-response exchange carries.
pub const CHUNK_BYTES: u32 = 1024 * 1024;

/// The largest content of a job (64 MiB): one tensor's bytes.
pub const MAX_CONTENT_BYTES: u64 = 64 * 1024 * 1024;

/// The most chunks of one tensor's content.
pub const MAX_CHUNKS: u32 = (MAX_CONTENT_BYTES / CHUNK_BYTES as u64) as u32;

/// The largest model file that travels as content (2 GiB, 2,048 chunks; its manifest is 64 KiB,
/// within one response).
pub const MAX_MODEL_CONTENT_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// Bytes named by their hash: what the chain knows of content.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEq,
	Eq,
	Debug,
)]
pub struct ContentRef {
	/// The blake2-256 of the content's [`Manifest`].
	pub hash: H256,
	/// The content's length in bytes.
	pub len: u64,
}

/// A content's length and the blake2-256 of each of its chunks, in order; its hash is the
/// content's hash.
#[derive(Clone, Encode, Decode, PartialEq, Eq, Debug)]
pub struct Manifest {
	/// The content's length in bytes.
	pub len: u64,
	/// The blake2-256 of each chunk.
	pub chunks: Vec<H256>,
}

/// Why bytes or a manifest do not make the content they claim to be.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ContentError {
	/// Empty, or more than [`MAX_CONTENT_BYTES`].
	BadLength,
	/// The manifest does not hash to the content's hash, or does not fit its length.
	BadManifest,
	/// A chunk does not hash to the manifest's entry, or has the wrong length.
	BadChunk,
}

/// How many chunks a tensor's content of `len` bytes has (`None` when the length is 0 or over
/// [`MAX_CONTENT_BYTES`]).
pub fn chunk_count(len: u64) -> Option<u32> {
	chunk_count_within(len, MAX_CONTENT_BYTES)
}

/// How many chunks content of `len` bytes has, for content of at most `max` bytes (`None` when
/// the length is 0 or over `max`).
pub fn chunk_count_within(len: u64, max: u64) -> Option<u32> {
	if len == 0 || len > max {
		return None;
	}
	u32::try_from(len.div_ceil(u64::from(CHUNK_BYTES))).ok()
}

/// The length of chunk `index` of content of `len` bytes (`None` past the last chunk).
pub fn chunk_len(len: u64, index: u32) -> Option<u32> {
	let start = u64::from(index).checked_mul(u64::from(CHUNK_BYTES))?;
	let rest = len.checked_sub(start).filter(|rest| *rest > 0)?;
	Some(rest.min(u64::from(CHUNK_BYTES)) as u32)
}

impl Manifest {
	/// The manifest of `bytes` (`None` when empty or larger than [`MAX_CONTENT_BYTES`]).
	pub fn of(bytes: &[u8]) -> Option<Self> {
		Self::of_within(bytes, MAX_CONTENT_BYTES)
	}

	/// The chunk list of a model file (`None` when empty or larger than
	/// [`MAX_MODEL_CONTENT_BYTES`]): what its registration names when nodes provide it.
	pub fn of_model(bytes: &[u8]) -> Option<Self> {
		Self::of_within(bytes, MAX_MODEL_CONTENT_BYTES)
	}

	/// The manifest of `bytes` if they are content of at most `max` bytes.
	pub fn of_within(bytes: &[u8], max: u64) -> Option<Self> {
		chunk_count_within(bytes.len() as u64, max)?;
		let chunks = bytes.chunks(CHUNK_BYTES as usize).map(blake2_256).collect();
		Some(Self { len: bytes.len() as u64, chunks })
	}

	/// The content's hash.
	pub fn hash(&self) -> H256 {
		blake2_256(&self.encode())
	}

	/// The reference to the content.
	pub fn content_ref(&self) -> ContentRef {
		ContentRef { hash: self.hash(), len: self.len }
	}

	/// The manifest of content whose chunks hash to `chunks` (a model's, computed while reading
	/// its file chunk by chunk).
	pub fn from_chunk_hashes(len: u64, chunks: Vec<H256>) -> Self {
		Self { len, chunks }
	}

	/// Checks that the manifest is the one of a tensor's `content`: it hashes to its hash, and
	/// has one entry per chunk of its length, which is at most [`MAX_CONTENT_BYTES`].
	pub fn check(&self, content: &ContentRef) -> Result<(), ContentError> {
		self.check_within(content, MAX_CONTENT_BYTES)
	}

	/// [`Manifest::check`] for content of at most `max` bytes (a model's:
	/// [`MAX_MODEL_CONTENT_BYTES`]).
	pub fn check_within(&self, content: &ContentRef, max: u64) -> Result<(), ContentError> {
		let count = chunk_count_within(content.len, max).ok_or(ContentError::BadLength)?;
		if self.len != content.len || self.chunks.len() != count as usize {
			return Err(ContentError::BadManifest);
		}
		if self.hash() != content.hash {
			return Err(ContentError::BadManifest);
		}
		Ok(())
	}

	/// Checks chunk `index` against the manifest: its length and its hash.
	pub fn check_chunk(&self, index: u32, chunk: &[u8]) -> Result<(), ContentError> {
		let expected = self.chunks.get(index as usize).ok_or(ContentError::BadChunk)?;
		if chunk_len(self.len, index) != Some(chunk.len() as u32) {
			return Err(ContentError::BadChunk);
		}
		if blake2_256(chunk) != *expected {
			return Err(ContentError::BadChunk);
		}
		Ok(())
	}
}

/// The reference to `bytes` as content (`None` when empty or too large).
pub fn content_ref(bytes: &[u8]) -> Option<ContentRef> {
	Manifest::of(bytes).map(|manifest| manifest.content_ref())
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn content_is_checked_chunk_by_chunk_against_its_hash() {
		let bytes: Vec<u8> = (0..(2 * CHUNK_BYTES + 5)).map(|i| (i % 251) as u8).collect();
		let manifest = Manifest::of(&bytes).unwrap();
		let content = manifest.content_ref();
		assert_eq!(manifest.chunks.len(), 3);
		assert_eq!(manifest.check(&content), Ok(()));
		let chunks: Vec<&[u8]> = bytes.chunks(CHUNK_BYTES as usize).collect();
		for (index, chunk) in chunks.iter().enumerate() {
			assert_eq!(manifest.check_chunk(index as u32, chunk), Ok(()));
		}
		assert_eq!(chunks[2].len(), 5);
		// A chunk at the wrong place, a flipped byte, a short chunk or one past the end.
		assert_eq!(manifest.check_chunk(1, chunks[0]), Err(ContentError::BadChunk));
		let mut flipped = chunks[1].to_vec();
		flipped[7] ^= 1;
		assert_eq!(manifest.check_chunk(1, &flipped), Err(ContentError::BadChunk));
		assert_eq!(manifest.check_chunk(2, &chunks[2][..4]), Err(ContentError::BadChunk));
		assert_eq!(manifest.check_chunk(3, &[]), Err(ContentError::BadChunk));
		// A manifest for other content, or one claiming another length.
		let other = content_ref(&bytes[1..]).unwrap();
		assert_eq!(manifest.check(&other), Err(ContentError::BadManifest));
		let mut longer = manifest.clone();
		longer.len += 1;
		assert_eq!(
			longer.check(&ContentRef { len: longer.len, ..content }),
			Err(ContentError::BadManifest)
		);
	}

	#[test]
	fn content_is_never_empty_nor_over_the_maximum() {
		assert_eq!(Manifest::of(&[]), None);
		assert_eq!(chunk_count(0), None);
		assert_eq!(chunk_count(MAX_CONTENT_BYTES + 1), None);
		assert_eq!(chunk_count(MAX_CONTENT_BYTES), Some(MAX_CHUNKS));
		// A model may be larger than a tensor.
		assert_eq!(chunk_count_within(MAX_CONTENT_BYTES + 1, MAX_MODEL_CONTENT_BYTES), Some(65));
		assert_eq!(
			chunk_count_within(MAX_MODEL_CONTENT_BYTES, MAX_MODEL_CONTENT_BYTES),
			Some(2048)
		);
		assert_eq!(chunk_count_within(MAX_MODEL_CONTENT_BYTES + 1, MAX_MODEL_CONTENT_BYTES), None);
		assert_eq!(chunk_len(10, 0), Some(10));
		assert_eq!(chunk_len(10, 1), None);
		assert_eq!(chunk_len(u64::from(CHUNK_BYTES), 0), Some(CHUNK_BYTES));
		assert_eq!(chunk_len(u64::from(CHUNK_BYTES), 1), None);
		let one = content_ref(&[1u8; 3]).unwrap();
		assert_eq!(one.len, 3);
	}
}
