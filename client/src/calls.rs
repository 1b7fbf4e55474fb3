//! From the RPC's JSON shapes to the runtime's call arguments.

use anyhow::{anyhow, ensure, Result};
use gateless_rpc::types;

use crate::{chain::runtime, commands::model::PlacedReference, input};
use runtime::runtime_types::{
	bounded_collections::bounded_vec::BoundedVec,
	gateless_primitives::{
		content::ContentRef,
		job::{JobTensor, TensorData, TensorList},
		model,
		reference::ReferenceVector,
	},
	pallet_model_registry::types::ModelSource,
	sp_arithmetic::{fixed_point::FixedU64, per_things::Perbill},
};

/// The card as the call takes it.
fn card(card: &types::ModelCard) -> Result<model::ModelCard> {
	let field = |text: &str, max: u32, what: &str| -> Result<BoundedVec<u8>> {
		ensure!(text.len() <= max as usize, "the card's {what} is over {max} bytes");
		Ok(BoundedVec(text.as_bytes().to_vec()))
	};
	use gateless_primitives::model::{MAX_CARD_FIELD_LEN, MAX_SEMANTICS_LEN};
	let labels = match &card.labels {
		Some(hash) => {
			let bytes = hex::decode(hash.trim_start_matches("0x"))?;
			Some(subxt::utils::H256(bytes.try_into().map_err(|_| anyhow!("a 32-byte hash"))?))
		},
		None => None,
	};
	Ok(model::ModelCard {
		task: field(&card.task, MAX_CARD_FIELD_LEN, "task")?,
		license: field(&card.license, MAX_CARD_FIELD_LEN, "license")?,
		labels,
		inputs: field(&card.inputs, MAX_SEMANTICS_LEN, "input semantics")?,
		outputs: field(&card.outputs, MAX_SEMANTICS_LEN, "output semantics")?,
	})
}

/// A dtype by its name (`f32`, ...), as the call takes it.
fn dtype(name: &str) -> Result<subxt::utils::Static<gateless_primitives::model::DType>> {
	gateless_primitives::model::DType::from_name(name)
		.map(subxt::utils::Static)
		.ok_or_else(|| anyhow!("unknown dtype `{name}`"))
}

/// A job's inputs, in the model's declared order: inline, or by the content hash each was
/// uploaded as (`placed`, one per tensor).
pub fn job_inputs(tensors: &[input::Tensor], placed: &[Option<[u8; 32]>]) -> Result<TensorList> {
	let tensors = tensors
		.iter()
		.zip(placed)
		.map(|(tensor, content)| {
			let data = match content {
				None => TensorData::Inline(BoundedVec(tensor.data.clone())),
				Some(hash) => TensorData::Content(ContentRef {
					hash: subxt::utils::H256(*hash),
					len: tensor.data.len() as u64,
				}),
			};
			Ok(JobTensor {
				dtype: dtype(&tensor.dtype)?,
				shape: BoundedVec(tensor.shape.clone()),
				data,
			})
		})
		.collect::<Result<Vec<_>>>()?;
	Ok(TensorList(BoundedVec(tensors)))
}

#[allow(clippy::too_many_arguments)]
pub fn register_call(
	name: &str,
	version: &str,
	hash: [u8; 32],
	bytes: &[u8],
	uris: &[String],
	content: Option<[u8; 32]>,
	signature: &types::Signature,
	determinism: types::Determinism,
	price: u128,
	description: &str,
	card: Option<&types::ModelCard>,
	references: &[PlacedReference],
) -> Result<impl subxt::transactions::Payload> {
	let source = if let Some(content) = content {
		ModelSource::Peers { content: subxt::utils::H256(content), uris: BoundedVec(Vec::new()) }
	} else if uris.is_empty() {
		ModelSource::Inline(BoundedVec(bytes.to_vec()))
	} else {
		ModelSource::Uris(BoundedVec(
			uris.iter().map(|uri| BoundedVec(uri.as_bytes().to_vec())).collect(),
		))
	};
	let signature = subxt::utils::Static(
		gateless_rpc::convert::signature_from_json(signature).map_err(|error| anyhow!(error))?,
	);
	let determinism = match determinism {
		types::Determinism::Exact => model::Determinism::Exact,
		types::Determinism::Tolerance { abs, rel } => model::Determinism::Tolerance {
			// FixedU64 counts billionths; Perbill too.
			abs: FixedU64((abs * 1e9).round() as u64),
			rel: Perbill((rel * 1e9).round() as u32),
		},
	};
	Ok(runtime::transactions().model_registry().register_model(
		BoundedVec(name.as_bytes().to_vec()),
		BoundedVec(version.as_bytes().to_vec()),
		subxt::utils::H256(hash),
		bytes.len() as u64,
		source,
		signature,
		determinism,
		price,
		BoundedVec(description.as_bytes().to_vec()),
		card.map(self::card).transpose()?,
		BoundedVec(
			references
				.iter()
				.map(|reference| {
					Ok(ReferenceVector {
						inputs: job_inputs(&reference.inputs, &reference.placed_inputs)?,
						outputs: job_inputs(&reference.outputs, &reference.placed_outputs)?,
					})
				})
				.collect::<Result<Vec<_>>>()?,
		),
	))
}
