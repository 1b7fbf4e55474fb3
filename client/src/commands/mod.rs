//! What each `gateless` command does.

pub(crate) mod job;
pub(crate) mod model;

use anyhow::Result;

use crate::{
	chain::{Chain, Progress},
	input,
};

/// Where each of `tensors` goes: `None` for those that stay inline (up to the chain's inline
/// threshold), else the content hash they were uploaded to the node as (`what(position)` names
/// one in the progress lines). Jobs' inputs and reference vectors are placed so.
pub(crate) async fn place_tensors(
	chain: &Chain,
	progress: &Progress,
	tensors: &[input::Tensor],
	what: impl Fn(usize) -> String,
) -> Result<Vec<Option<[u8; 32]>>> {
	let threshold = chain.max_inline_bytes().await? as usize;
	let mut placed = Vec::with_capacity(tensors.len());
	for (position, tensor) in tensors.iter().enumerate() {
		placed.push(if tensor.data.len() <= threshold {
			None
		} else {
			Some(chain.upload(&what(position), &tensor.data, progress).await?)
		});
	}
	Ok(placed)
}
