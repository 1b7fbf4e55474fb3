//! # Gateless end-to-end test harness
//!
//! Starts real `gateless-node` processes on loopback, talks to them over JSON-RPC with a
//! jsonrpsee WebSocket client, and builds signed transactions with the runtime's own types.
//!
//! Every wait is bounded: a node that fails to start (a port already taken, a bad chain spec)
//! or stops producing blocks makes the test fail with the node's last log lines, never hang.
//!
//! The node binary is found through `GATELESS_NODE_BIN`, or else next to the test executable in
//! the cargo target directory (`scripts/test.sh` builds it first).

pub mod funds;
pub mod jobs;
pub mod models;
pub mod network;
pub mod node;
pub mod rpc;
pub mod try_runtime;
pub mod tx;

/// The error type of the harness: a message that says what failed and why.
pub type Error = String;

/// The result type of the harness.
pub type Result<T> = std::result::Result<T, Error>;
