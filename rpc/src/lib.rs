//! # Gateless JSON-RPC
//!
//! The `gateless_*` methods of the node, for model builders, users, dashboards and scripts. They
//! are answered from the runtime APIs of `gateless-primitives` (never from raw storage keys), at
//! the best block unless a block hash is given as the last parameter `at`.
//!
//! | method | params | result |
//! | --- | --- | --- |
//! | `gateless_models` | `from?`, `limit?`, `at?` | [`types::ModelPage`] |
//! | `gateless_model` | `id`, `at?` | [`types::Model`] or `null` |
//! | `gateless_quote` | `model`, `replicas?`, `inputShapes?`, `at?` | [`types::Quote`] |
//! | `gateless_job` | `id`, `at?` | [`types::Job`] or `null` |
//! | `gateless_result` | `id`, `at?` | [`types::JobResult`] or `null` |
//! | `gateless_validators` | `at?` | [`types::Validator`] list |
//! | `gateless_subscribeJob` | `id` | [`types::Job`] messages (`gateless_jobUpdate`) |
//! | `gateless_putModel` (unsafe) | `bytes` (hex) | the bytes' blake2-256 hash |
//! | `gateless_putChunk` | `bytes` (hex, at most 1 MiB) | the chunk's blake2-256 hash |
//! | `gateless_putContent` | `len`, `chunks` (hashes, in order) | [`types::Content`] |
//! | `gateless_output` | `job`, `at?` | [`types::Outputs`] or `null` |
//! | `gateless_contentChunk` | `hash`, `index` | the chunk's bytes (hex) |
//!
//! `gateless_putChunk` and `gateless_putContent` are how a user hands a job's large inputs to any
//! node: upload each 1 MiB chunk, then assemble them into content, whose hash and length the job
//! carries. The node keeps the content for its time-to-live and provides it to the validators
//! that run the job. Uploads are capped per connection and per minute (`UPLOAD_RATE`).
//!
//! `gateless_output` is how anyone reads a finalized job's outputs, wherever they are: inline ones
//! from the result, those kept off chain fetched from the executors that hold them, checked against
//! their hashes and the root the executors agreed on. Outputs of more than 4 MiB are then read
//! chunk by chunk with `gateless_contentChunk`, capped per connection (`DOWNLOAD_RATE`).
//!
//! Errors carry the codes of [`types::error_code`]. The JSON shapes ([`types`]) are all this
//! crate has by default, so clients share them without the node's dependencies; the
//! `primitives` feature adds the conversions from the runtime's types ([`convert`]), and
//! `server` the methods themselves.

pub mod types;

#[cfg(feature = "primitives")]
pub mod convert;
#[cfg(feature = "server")]
mod server;
#[cfg(feature = "server")]
pub use server::{
	ContentService, Gateless, GatelessApiServer, LocalModelStore, TransferLimiter,
	DEFAULT_PAGE_SIZE, MAX_OUTPUT_ANSWER_BYTES,
};
