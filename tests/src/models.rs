//! The committed models (`models/`) as a builder puts them on chain: the call that registers one
//! inline with the signature and determinism class of `models/models.json`, the id the chain gives
//! it, and its status as the validators' attestations decide it.

use codec::Encode;
use gateless_inference_engine::reference::{bytes, declared, determinism};
use gateless_primitives::model::{model_hash, ModelId, ModelInfo, ModelStatus};
use gateless_runtime::{AccountId, Balance, BlockNumber, RuntimeCall, RuntimeEvent};
use pallet_model_registry::{Call as RegistryCall, Event as RegistryEvent, ModelSource};
use sp_core::H256;

use crate::{rpc::Rpc, Result};

fn bounded<S: sp_core::Get<u32>>(bytes: Vec<u8>) -> Result<sp_runtime::BoundedVec<u8, S>> {
	let length = bytes.len();
	bytes
		.try_into()
		.map_err(|_| format!("{length} bytes are over the runtime's bound"))
}

/// The `register_model` call of `models/<file>`, inline, version 1.0.0.
pub fn register_inline(
	file: &str,
	name: &str,
	price: Balance,
	description: &str,
) -> Result<RuntimeCall> {
	let onnx = bytes(file);
	Ok(RuntimeCall::ModelRegistry(RegistryCall::register_model {
		name: bounded(name.as_bytes().to_vec())?,
		version: bounded(b"1.0.0".to_vec())?,
		hash: model_hash(&onnx),
		size: onnx.len() as u64,
		source: ModelSource::Inline(bounded(onnx)?),
		signature: declared(file),
		determinism: determinism(file),
		price,
		description: bounded(description.as_bytes().to_vec())?,
	}))
}

/// The id of the model registered in a block, from the block's events.
pub fn registered_model(events: &[RuntimeEvent]) -> Result<ModelId> {
	events
		.iter()
		.find_map(|event| match event {
			RuntimeEvent::ModelRegistry(RegistryEvent::ModelRegistered { model, .. }) => {
				Some(*model)
			},
			_ => None,
		})
		.ok_or_else(|| format!("no ModelRegistered event in {events:?}"))
}

/// A model's status at a block, through the registry's runtime API (`None`: no such model).
pub async fn model_status(rpc: &Rpc, model: ModelId, at: H256) -> Result<Option<ModelStatus>> {
	let info: Option<ModelInfo<AccountId, Balance, BlockNumber>> =
		rpc.runtime_api("ModelRegistryApi_model", &model.encode(), at).await?;
	Ok(info.map(|info| info.status))
}
