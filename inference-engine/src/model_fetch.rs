//! Models that nodes provide as content, fetched from peers in the background.
//!
//! A validator's offchain worker asks [`ModelFetches::obtain`] where the node stands with such a
//! model at every block; the first ask starts a fetch on a thread of its own and every ask answers
//! at once (held, fetching so far, unavailable, too large, or other bytes than registered), so
//! that a model of gigabytes never holds up the node's other duties. The fetch gets the chunk list
//! from a provider (checked against the registered content hash), then the chunks the download
//! file lacks from every provider, each checked on arrival, written in place; the whole file is
//! checked against the model's hash before it enters the store, which then serves it to peers. A
//! fetch that stops (no provider, a node restarted) resumes from the chunks already on disk. One
//! that found no provider is tried again after [`RETRY_AFTER`]; a model larger than this node
//! takes, or whose chunks make other bytes than registered, is not fetched again before the node
//! restarts.

use std::{
	collections::HashMap,
	os::unix::fs::FileExt,
	sync::{Arc, Mutex, MutexGuard},
	time::{Duration, Instant},
};

use gateless_primitives::{
	content::{chunk_count_within, ContentRef, CHUNK_BYTES, MAX_MODEL_CONTENT_BYTES},
	inference::ModelFetch,
};
use sp_core::H256;

use crate::{
	content::ContentFetcher,
	store::{ModelStore, StoreError},
};

/// How long after a fetch found no provider the next one starts.
pub const RETRY_AFTER: Duration = Duration::from_secs(6);

enum Fetch {
	Running { received: u32, chunks: u32 },
	Ended { outcome: ModelFetch, at: Instant },
}

/// The fetches of models by content, by model hash; clones share them.
#[derive(Clone, Default)]
pub struct ModelFetches {
	fetches: Arc<Mutex<HashMap<H256, Fetch>>>,
}

impl ModelFetches {
	fn fetches(&self) -> MutexGuard<'_, HashMap<H256, Fetch>> {
		// Every update leaves the map consistent.
		self.fetches.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
	}

	/// Where the node stands with the model `hash` whose file is `content`: held (made servable
	/// to peers), or a fetch from peers (through `fetcher`; unavailable without one) started,
	/// running or ended.
	pub fn obtain(
		&self,
		store: &Arc<ModelStore>,
		fetcher: Option<&Arc<dyn ContentFetcher>>,
		hash: H256,
		content: ContentRef,
	) -> ModelFetch {
		if content.len > store.max_bytes() {
			return ModelFetch::TooLarge;
		}
		let Some(chunks) = chunk_count_within(content.len, MAX_MODEL_CONTENT_BYTES) else {
			return ModelFetch::TooLarge;
		};
		if store.contains(&hash) {
			match store.index_content(&hash, &content) {
				Ok(true) => return ModelFetch::Held,
				Ok(false) => return ModelFetch::HashMismatch,
				// Gone or corrupted meanwhile: fetched again.
				Err(_) => {},
			}
		}
		let Some(fetcher) = fetcher else { return ModelFetch::Unavailable };
		let mut fetches = self.fetches();
		match fetches.get(&hash) {
			Some(Fetch::Running { received, chunks }) => {
				return ModelFetch::Fetching { received: *received, chunks: *chunks }
			},
			Some(Fetch::Ended { outcome, at })
				if *outcome != ModelFetch::Unavailable || at.elapsed() < RETRY_AFTER =>
			{
				return *outcome
			},
			_ => {},
		}
		fetches.insert(hash, Fetch::Running { received: 0, chunks });
		drop(fetches);
		let (this, store, fetcher) = (self.clone(), store.clone(), fetcher.clone());
		let started =
			std::thread::Builder::new().name("gateless-model-fetch".into()).spawn(move || {
				let outcome = this.fetch(&store, &*fetcher, hash, content);
				this.fetches().insert(hash, Fetch::Ended { outcome, at: Instant::now() });
			});
		if let Err(error) = started {
			log::warn!(target: "gateless::inference", "cannot start a model fetch: {error}");
			self.fetches().insert(
				hash,
				Fetch::Ended { outcome: ModelFetch::Unavailable, at: Instant::now() },
			);
			return ModelFetch::Unavailable;
		}
		ModelFetch::Fetching { received: 0, chunks }
	}

	fn fetch(
		&self,
		store: &ModelStore,
		fetcher: &dyn ContentFetcher,
		hash: H256,
		content: ContentRef,
	) -> ModelFetch {
		let started = Instant::now();
		let unavailable = |why: String| {
			log::info!(target: "gateless::inference", "model {hash:?} not fetched yet: {why}");
			ModelFetch::Unavailable
		};
		let manifest = match fetcher.fetch_manifest(&content, MAX_MODEL_CONTENT_BYTES) {
			Ok(manifest) => manifest,
			Err(why) => return unavailable(why),
		};
		let (file, had) = match store.open_download(&manifest) {
			Ok(download) => download,
			Err(StoreError::TooLarge { .. }) => return ModelFetch::TooLarge,
			Err(error) => return unavailable(format!("{error:?}")),
		};
		let chunks = manifest.chunks.len() as u32;
		let mut received = had.iter().filter(|had| **had).count() as u32;
		let missing: Vec<u32> = (0..chunks).filter(|index| !had[*index as usize]).collect();
		self.progress(hash, received, chunks);
		let mut write = |index: u32, chunk: Vec<u8>| -> Result<(), String> {
			file.write_all_at(&chunk, u64::from(index) * u64::from(CHUNK_BYTES))
				.map_err(|error| format!("writing chunk {index}: {error}"))?;
			received += 1;
			self.progress(hash, received, chunks);
			Ok(())
		};
		if let Err(why) = fetcher.fetch_chunks(&content, &manifest, &missing, &mut write) {
			return unavailable(why);
		}
		if let Err(error) = file.sync_all() {
			return unavailable(error.to_string());
		}
		match store.insert_download(&hash, &manifest) {
			Ok(()) => {
				log::info!(
					target: "gateless::inference",
					"fetched model {hash:?} from peers: {} bytes in {chunks} chunks ({} resumed) in \
					 {:.1} s",
					content.len,
					chunks as usize - missing.len(),
					started.elapsed().as_secs_f64()
				);
				ModelFetch::Held
			},
			Err(StoreError::HashMismatch) => {
				log::warn!(
					target: "gateless::inference",
					"model {hash:?}: its registered chunks make other bytes than the model"
				);
				ModelFetch::HashMismatch
			},
			Err(StoreError::TooLarge { .. }) => ModelFetch::TooLarge,
			Err(error) => unavailable(format!("{error:?}")),
		}
	}

	fn progress(&self, hash: H256, received: u32, chunks: u32) {
		self.fetches().insert(hash, Fetch::Running { received, chunks });
	}
}
