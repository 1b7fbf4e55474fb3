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
		signature: Box::new(declared(file)),
		determinism: determinism(file),
		price,
		description: bounded(description.as_bytes().to_vec())?,
		card: None,
		references: Default::default(),
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

/// The path of a model of `mib` MiB of weights written by `models/bulk_model.sh` (deterministic,
/// not committed), made the first time it is asked for and kept in `~/.cache/gateless-models`.
pub fn bulk_model(mib: u32) -> Result<std::path::PathBuf> {
	let home = std::env::var("HOME").map_err(|_| "HOME is not set")?;
	let dir = std::path::Path::new(&home).join(".cache/gateless-models");
	let path = dir.join(format!("bulk-{mib}mib.onnx"));
	if path.is_file() {
		return Ok(path);
	}
	std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
	let script = gateless_inference_engine::reference::models_dir().join("bulk_model.sh");
	// Written beside, then renamed: a test stopped half-way leaves no truncated model behind.
	let partial = dir.join(format!("bulk-{mib}mib.onnx.partial"));
	let status = std::process::Command::new(script)
		.arg(&partial)
		.arg(mib.to_string())
		.status()
		.map_err(|e| format!("cannot run models/bulk_model.sh: {e}"))?;
	if !status.success() {
		return Err(format!("models/bulk_model.sh failed: {status}"));
	}
	std::fs::rename(&partial, &path).map_err(|e| format!("cannot keep {}: {e}", path.display()))?;
	Ok(path)
}

/// What the bulk model of `mib` MiB computes for an input of ones: for each of its 64 bands of
/// columns, the largest column sum of its weights (from the generator of `bulk_model.py`, in f64).
pub fn bulk_model_output_for_ones(mib: u32) -> Vec<f64> {
	let (rows, columns) = (1024u64, 256 * u64::from(mib));
	let mut sums = vec![0f64; columns as usize];
	for row in 0..rows {
		for (column, sum) in sums.iter_mut().enumerate() {
			let i = row * columns + column as u64;
			let k = (i.wrapping_mul(2_654_435_761).wrapping_add(5 * 40_503)) % (1 << 32);
			// Rounded to f32 as the file stores it.
			*sum += f64::from((k as f64 / (1u64 << 32) as f64 - 0.5) as f32);
		}
	}
	sums.chunks(columns as usize / 64)
		.map(|band| band.iter().copied().fold(f64::NEG_INFINITY, f64::max))
		.collect()
}
