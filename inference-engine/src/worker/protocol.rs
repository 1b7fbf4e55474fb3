//! What the node and an inference worker say to each other over the worker's standard input and
//! output: SCALE-encoded messages, each framed by its length as a little-endian `u32`.
//!
//! The worker is untrusted (it runs models anyone can register), so the node reads each frame
//! with a deadline and a size cap, and treats anything unreadable as a dead worker.

use std::io::{self, Read, Write};

use codec::{Decode, Encode};
use gateless_primitives::{
	job::{HostTensor, InputTensor, MAX_OUTPUT_BYTES},
	model::{ComputeCost, ModelSignature},
};
use sp_core::H256;

use crate::{LoadError, RunError};

/// What the node asks of a worker.
#[derive(Encode, Decode, Debug)]
pub enum Request {
	/// Keep `bytes` as the model `hash` declared with `signature` and load it at its example
	/// shapes (check the graph, type it, optimise it), within `cpu_seconds` of CPU time; with
	/// `run_examples`, also run it once on zeros (or ones) and estimate its compute: what a
	/// validator attests. (Before a
	/// job the model is not run on examples: it was attested, and a run that made tract panic
	/// would retire the worker before the job's run.)
	Load {
		hash: H256,
		signature: ModelSignature,
		bytes: Vec<u8>,
		run_examples: bool,
		cpu_seconds: u64,
	},
	/// Run the model kept under `hash` on `inputs` (one per declared input), loading a plan for
	/// their shapes first if none is kept, within `cpu_seconds` of CPU time.
	Run { hash: H256, inputs: Vec<InputTensor>, cpu_seconds: u64 },
}

/// A worker's answer to one [`Request`], and whether the worker exits after it: a worker in which
/// tract panicked (even if the panic was caught and answered as an error) is not trusted with
/// another request.
#[derive(Encode, Decode, Debug, PartialEq, Eq)]
pub struct Answer {
	pub response: Response,
	pub retiring: bool,
}

/// What a worker says to one [`Request`].
#[derive(Encode, Decode, Debug, PartialEq, Eq)]
pub enum Response {
	/// The first message of a worker: the protections it could put in place, for the node's log.
	Ready { protections: Vec<String> },
	/// The outcome of a [`Request::Load`], with the model's estimated compute when it was asked
	/// to run the examples.
	Loaded(Result<Option<ComputeCost>, LoadError>),
	/// The outcome of a [`Request::Run`]: every declared output, or why not; and whether a plan
	/// was loaded for the inputs' shapes first.
	Ran { outputs: Result<Vec<HostTensor>, RunError>, loaded_plan: bool },
	/// The worker does not keep the model of a [`Request::Run`]: send a `Load` first.
	NotLoaded,
}

/// The largest frame the node reads from a worker: an output is capped far below this.
pub const MAX_RESPONSE_BYTES: u32 = MAX_OUTPUT_BYTES as u32 + (1 << 20);

/// Writes `message` as one frame.
pub fn write_frame(writer: &mut impl Write, message: &impl Encode) -> io::Result<()> {
	let bytes = message.encode();
	let length = u32::try_from(bytes.len())
		.map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame over 4 GiB"))?;
	writer.write_all(&length.to_le_bytes())?;
	writer.write_all(&bytes)?;
	writer.flush()
}

/// Reads one frame of at most `max_bytes` and decodes it.
pub fn read_frame<T: Decode>(reader: &mut impl Read, max_bytes: u32) -> io::Result<T> {
	let mut length = [0u8; 4];
	reader.read_exact(&mut length)?;
	let length = u32::from_le_bytes(length);
	if length > max_bytes {
		return Err(io::Error::new(
			io::ErrorKind::InvalidData,
			format!("a frame of {length} bytes, over {max_bytes}"),
		));
	}
	let mut bytes = vec![0u8; length as usize];
	reader.read_exact(&mut bytes)?;
	T::decode(&mut &bytes[..]).map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))
}
