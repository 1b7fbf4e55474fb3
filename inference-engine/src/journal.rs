//! The load journal: what keeps one hostile model from costing a validator a worker on every
//! block, or the node itself on every restart.
//!
//! Before a worker loads a model, the node writes `<hash>.loading` (with how many loads of it were
//! interrupted so far) in the journal's directory, and removes it when the load ends. A load that
//! killed its worker, or ran out of time or memory, is written as `<hash>.failed` with the
//! attestation failure and why; from then on the node attests that failure and runs no job on the
//! model, without loading it again, also after a restart. A `.loading` file left by a node that
//! stopped in the middle of a load counts as an interrupted load: after [`MAX_INTERRUPTED_LOADS`]
//! of them the model is failed as `TooLarge`, so that even a model that somehow took the whole node
//! down is not retried for ever. Ordinary restarts during a load (an operator's) cost one try.

use std::{
	fs, io,
	path::{Path, PathBuf},
};

use codec::{Decode, Encode};
use gateless_primitives::model::AttestationFailure;
use sp_core::H256;

use crate::store::{hex, write_atomically};

/// Interrupted loads of one model after which the node gives up on it.
pub const MAX_INTERRUPTED_LOADS: u32 = 2;

/// The load journal in a directory.
pub struct LoadJournal {
	dir: PathBuf,
}

impl LoadJournal {
	/// Opens (creating it if needed) the journal in `dir`.
	pub fn open(dir: &Path) -> io::Result<Self> {
		fs::create_dir_all(dir)?;
		Ok(Self { dir: dir.to_path_buf() })
	}

	fn path(&self, hash: &H256, extension: &str) -> PathBuf {
		self.dir.join(format!("{}.{extension}", hex(hash.as_bytes())))
	}

	/// The failure recorded for the model with `hash`, if its load ever failed this way.
	pub fn failure(&self, hash: &H256) -> Option<AttestationFailure> {
		let bytes = fs::read(self.path(hash, "failed")).ok()?;
		AttestationFailure::decode(&mut &bytes[..]).ok()
	}

	/// Records that a load of `hash` starts. Fails (with the failure now recorded) when earlier
	/// loads were interrupted too often.
	pub fn begin(&self, hash: &H256) -> Result<(), AttestationFailure> {
		let path = self.path(hash, "loading");
		let interrupted = fs::read_to_string(&path)
			.ok()
			.and_then(|text| text.trim().parse::<u32>().ok())
			.unwrap_or(0);
		if interrupted >= MAX_INTERRUPTED_LOADS {
			let why = format!("{interrupted} loads were interrupted by the node stopping");
			self.fail(hash, AttestationFailure::TooLarge, &why);
			return Err(AttestationFailure::TooLarge);
		}
		// A node that cannot write its journal still loads: the worker keeps it safe all the same.
		if let Err(error) = write_atomically(&path, format!("{}\n", interrupted + 1).as_bytes()) {
			log::warn!(target: "gateless::inference", "cannot write {path:?}: {error}");
		}
		Ok(())
	}

	/// Records that the load of `hash` ended, however it ended.
	pub fn end(&self, hash: &H256) {
		let _ = fs::remove_file(self.path(hash, "loading"));
	}

	/// Records that `hash` fails with `failure`, for `why`, for good.
	pub fn fail(&self, hash: &H256, failure: AttestationFailure, why: &str) {
		let mut record = failure.encode();
		record.extend_from_slice(format!("\n{why}\n").as_bytes());
		let path = self.path(hash, "failed");
		if let Err(error) = write_atomically(&path, &record) {
			log::warn!(target: "gateless::inference", "cannot write {path:?}: {error}");
		}
		self.end(hash);
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_model_whose_loads_keep_being_interrupted_fails_for_good() {
		let dir = tempfile::tempdir().unwrap();
		let hash = H256::repeat_byte(3);
		let journal = LoadJournal::open(dir.path()).unwrap();
		assert_eq!(journal.failure(&hash), None);
		// A load that ends is forgotten.
		journal.begin(&hash).unwrap();
		journal.end(&hash);
		journal.begin(&hash).unwrap();
		journal.end(&hash);
		// Loads the node did not live to end: two are tolerated, the third is refused.
		for _ in 0..MAX_INTERRUPTED_LOADS {
			let reopened = LoadJournal::open(dir.path()).unwrap();
			reopened.begin(&hash).unwrap();
		}
		let reopened = LoadJournal::open(dir.path()).unwrap();
		assert_eq!(reopened.begin(&hash), Err(AttestationFailure::TooLarge));
		assert_eq!(reopened.failure(&hash), Some(AttestationFailure::TooLarge));
		// A failure recorded by the node is read back after a restart.
		let other = H256::repeat_byte(4);
		reopened.fail(&other, AttestationFailure::Unsupported, "it panicked");
		assert_eq!(
			LoadJournal::open(dir.path()).unwrap().failure(&other),
			Some(AttestationFailure::Unsupported)
		);
	}
}
