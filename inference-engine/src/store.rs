//! The model store: ONNX files on disk, content-addressed by their blake2-256 hash.
//!
//! A model's bytes come from the store, else from the chain (inline models, passed in by the
//! offchain worker), else from the model's http(s) URIs, fetched natively with a timeout and a
//! size cap. Bytes enter the store only when they have the registered size and hash, and are
//! checked again when read, so a corrupted file is dropped rather than run.

use std::{
	fs,
	io::{self, Write},
	path::{Path, PathBuf},
	sync::mpsc,
	time::Duration,
};

use gateless_primitives::{
	inference::ModelRef,
	model::{model_hash, AttestationFailure},
};
use http_body_util::{BodyExt, Empty};
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use sp_core::H256;

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

/// ONNX files under a directory, named by the hex of their hash.
pub struct ModelStore {
	dir: PathBuf,
	max_bytes: u64,
	fetch: FetchPolicy,
}

impl ModelStore {
	/// Opens (creating it if needed) the store in `dir`, accepting models of at most
	/// `fetch.max_bytes` and fetching them as `fetch` says.
	pub fn open(dir: &Path, fetch: FetchPolicy) -> io::Result<Self> {
		fs::create_dir_all(dir)?;
		Ok(Self { dir: dir.to_path_buf(), max_bytes: fetch.max_bytes, fetch })
	}

	/// The directory of the store.
	pub fn dir(&self) -> &Path {
		&self.dir
	}

	fn path_of(&self, hash: &H256) -> PathBuf {
		self.dir.join(format!("{}.onnx", hex(hash.as_bytes())))
	}

	/// Whether the store holds the model with `hash`.
	pub fn contains(&self, hash: &H256) -> bool {
		self.path_of(hash).is_file()
	}

	/// The stored bytes of the model with `hash`, if present and intact; a file whose bytes no
	/// longer hash to its name is removed.
	pub fn read(&self, hash: &H256) -> Option<Vec<u8>> {
		let path = self.path_of(hash);
		let bytes = fs::read(&path).ok()?;
		if model_hash(&bytes) == *hash {
			Some(bytes)
		} else {
			log::warn!(target: "gateless::inference", "removing corrupted model file {path:?}");
			let _ = fs::remove_file(&path);
			None
		}
	}

	/// Checks `bytes` against the registered `size` and `hash` and stores them.
	pub fn insert(&self, hash: &H256, size: u64, bytes: &[u8]) -> Result<(), StoreError> {
		self.check(hash, size, bytes)?;
		let path = self.path_of(hash);
		// Again, in case the directory was removed while the node ran.
		fs::create_dir_all(&self.dir)
			.and_then(|()| write_atomically(&path, bytes))
			.map_err(|error| StoreError::Io(format!("writing {path:?}: {error}")))
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

	/// The bytes of `model`: from the store, else its inline bytes, else its URIs in order;
	/// whatever is obtained is checked and stored.
	pub fn obtain(&self, model: &ModelRef) -> Result<Vec<u8>, StoreError> {
		if model.size > self.max_bytes {
			return Err(StoreError::TooLarge { size: model.size, limit: self.max_bytes });
		}
		if let Some(bytes) = self.read(&model.hash) {
			return Ok(bytes);
		}
		if let Some(bytes) = &model.inline {
			self.insert(&model.hash, model.size, bytes)?;
			return Ok(bytes.clone());
		}
		let mut attempts = Vec::new();
		let mut mismatch = None;
		for uri in &model.uris {
			let uri = String::from_utf8_lossy(uri).into_owned();
			match fetch(&uri, &self.fetch) {
				Ok(bytes) => match self.insert(&model.hash, model.size, &bytes) {
					Ok(()) => return Ok(bytes),
					// Another URI may serve the right bytes; if none does, the mismatch is what
					// the validator reports.
					Err(error @ (StoreError::HashMismatch | StoreError::SizeMismatch { .. })) => {
						attempts.push(format!("{uri}: {error:?}"));
						mismatch = Some(error);
					},
					Err(error) => return Err(error),
				},
				Err(error) => attempts.push(format!("{uri}: {error}")),
			}
		}
		Err(mismatch.unwrap_or_else(|| {
			StoreError::Unavailable(if attempts.is_empty() {
				"the model has no inline bytes and no URI".into()
			} else {
				attempts.join("; ")
			})
		}))
	}
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
