//! `gateless model ...`: register, list, show, put.

use std::time::Duration;

use anyhow::{anyhow, bail, ensure, Context, Result};
use gateless_rpc::types;
use subxt::rpcs::rpc_params;

use crate::{
	amount,
	calls::register_call,
	chain::{runtime, Chain, Progress},
	cli::{ModelCommand, Placement, RegisterArgs},
	commands::place_tensors,
	input,
	render::{compute_text, rejection_text, Output},
};

pub(crate) async fn model_command(
	chain: &Chain,
	progress: &Progress,
	out: &Output,
	command: ModelCommand,
) -> Result<()> {
	match command {
		ModelCommand::Register(RegisterArgs {
			file,
			name,
			version,
			price,
			placement: Placement { inline, uri },
			description,
			exact,
			tolerance,
			signature,
			examples,
			references,
			task,
			license,
			labels,
			input_semantics,
			output_semantics,
			wait_active,
			timeout,
			keys,
		}) => {
			let signer = keys.keypair()?;
			let bytes =
				std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
			let signature = match signature {
				Some(path) => {
					let text = std::fs::read(&path)
						.with_context(|| format!("cannot read {}", path.display()))?;
					serde_json::from_slice::<types::Signature>(&text)
						.with_context(|| format!("{} is not a signature", path.display()))?
				},
				None => read_signature(&bytes, &examples)
					.with_context(|| format!("cannot read the signature of {}", file.display()))?,
			};
			let compute = check_loads(&bytes, &signature)?;
			progress.say(&format!(
				"it loads; compute per job: {} (validators estimate the same; executor fees \
				 follow it)",
				compute_text(compute.fixed, compute.per_element.to_float())
			));
			let determinism = determinism(&signature, exact, tolerance.as_deref())?;
			let labels = match labels {
				Some(path) => Some(
					gateless_primitives::model::model_hash(
						&std::fs::read(&path)
							.with_context(|| format!("cannot read {}", path.display()))?,
					)
					.0,
				),
				None => None,
			};
			let card = types::ModelCard {
				task,
				license,
				labels: labels.map(|hash| format!("0x{}", hex::encode(hash))),
				inputs: input_semantics,
				outputs: output_semantics,
			};
			let card = (card != empty_card()).then_some(card);
			let references = read_references(&bytes, &signature, &references, progress)?;
			let price = amount::parse(&price, &chain.token)?;
			let hash = gateless_primitives::model::model_hash(&bytes);
			let by_peers = uri.is_empty()
				&& !inline && bytes.len() as u64
				> u64::from(chain.max_inline_model_bytes().await?);
			// A model nodes provide: its chunks go to the node first (kept for the content
			// time-to-live), then the registration names them, then the node puts them together.
			let (content, chunks) = if by_peers {
				let chunks = chain.upload_chunks("the model", &bytes, progress).await?;
				let chunk_list = gateless_primitives::content::Manifest::of_model(&bytes)
					.context("a model file of at most 2 GiB")?;
				(Some(chunk_list.hash().0), chunks)
			} else {
				(None, Vec::new())
			};
			let references = place_references(chain, progress, references).await?;
			progress.say(&format!(
				"registering {name} {version}: {} bytes, hash {hash:?}",
				bytes.len()
			));
			let call = register_call(
				&name,
				&version,
				hash.0,
				&bytes,
				&uri,
				content,
				&signature,
				determinism,
				price,
				&description,
				card.as_ref(),
				&references,
			)?;
			let registered = chain
				.submit_then_event::<_, runtime::model_registry::events::ModelRegistered>(
					&call, &signer, progress,
				)
				.await?;
			let id = registered.model;
			if by_peers {
				let content: types::Content =
					chain.call("gateless_putModelContent", rpc_params![id, chunks]).await?;
				progress.say(&format!(
					"model {id} handed to the node, which provides it to the validators as {}",
					content.hash
				));
			}
			let mut model = chain.model(id).await?;
			if wait_active {
				progress.say(&format!("model {id} registered; waiting for attestations"));
				let since = std::time::Instant::now();
				let deadline = since + Duration::from_secs(timeout);
				let mut next_read = since + Duration::from_secs(1);
				while model.status == types::ModelStatus::Pending {
					let now = std::time::Instant::now();
					if now > deadline {
						bail!("model {id} is still pending after {timeout}s");
					}
					if now >= next_read {
						model = chain.model(id).await?;
						next_read = now + Duration::from_secs(1);
						continue;
					}
					let votes = model.attestations.as_ref().map_or_else(
						|| "no attestations yet".to_string(),
						|votes| {
							format!(
								"{} load, {} fail, {} decide",
								votes.loads, votes.fails, votes.threshold
							)
						},
					);
					progress.waiting(&format!("model {id} pending: {votes}"), since);
					tokio::time::sleep(Progress::TICK).await;
				}
				progress.clear();
				if model.status != types::ModelStatus::Active {
					out.model(&model)?;
					bail!(
						"model {id} was not activated: {:?} ({})",
						model.status,
						model.rejection.as_deref().map_or_else(
							|| "no reason given".to_owned(),
							|reason| format!("{reason}: {}", rejection_text(reason))
						)
					);
				}
			}
			out.model(&model)
		},
		ModelCommand::List { from, limit } => {
			let page: types::ModelPage =
				chain.call("gateless_models", rpc_params![from, limit]).await?;
			out.models(&page)
		},
		ModelCommand::Show { id } => out.model(&chain.model(id).await?),
		ModelCommand::Put { file } => {
			let bytes =
				std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
			let hash: String = chain
				.call("gateless_putModel", rpc_params![format!("0x{}", hex::encode(&bytes))])
				.await
				.map_err(|error| {
					if error.to_string().contains("unsafe") {
						anyhow!(
							"{error}: this node serves safe RPC methods only; putting models needs \
							 a node run with --rpc-methods unsafe, on a connection you trust"
						)
					} else {
						error
					}
				})?;
			if out.json {
				println!("{}", serde_json::json!({ "hash": hash, "size": bytes.len() }));
			} else {
				println!("stored {} bytes in the node's model store as {hash}", bytes.len());
			}
			Ok(())
		},
	}
}

/// The signature the file declares, in the RPC's JSON shape, with the example sizes given as
/// `NAME=SIZE` (1 for the symbols not named).
pub(crate) fn read_signature(bytes: &[u8], examples: &[String]) -> Result<types::Signature> {
	let signature =
		gateless_inference_engine::read_signature(bytes).map_err(|error| anyhow!("{error:?}"))?;
	let mut signature = gateless_rpc::convert::signature_json(signature);
	for example in examples {
		let (name, size) = example
			.split_once('=')
			.ok_or_else(|| anyhow!("--example {example}: expected NAME=SIZE"))?;
		let size: u32 = size
			.parse()
			.with_context(|| format!("--example {example}: a size of at least 1"))?;
		ensure!(size > 0, "--example {example}: a size of at least 1");
		let names: Vec<String> =
			signature.symbols.iter().map(|symbol| symbol.name.clone()).collect();
		let symbol =
			signature.symbols.iter_mut().find(|symbol| symbol.name == name).ok_or_else(|| {
				anyhow!("--example {example}: the model has no symbol `{name}` (it has {names:?})")
			})?;
		symbol.example = size;
	}
	Ok(signature)
}

/// Loads the model at its example shapes, estimates its compute and runs it once, as validators
/// will before they attest it: a model that does not load gets tract's reason now, before any
/// deposit is paid.
pub(crate) fn check_loads(
	bytes: &[u8],
	signature: &types::Signature,
) -> Result<gateless_primitives::model::ComputeCost> {
	let declared =
		gateless_rpc::convert::signature_from_json(signature).map_err(|error| anyhow!(error))?;
	let examples: Vec<String> = signature
		.symbols
		.iter()
		.map(|symbol| format!("{}={}", symbol.name, symbol.example))
		.collect();
	let (plan, compute) = gateless_inference_engine::Plan::load_example_with_compute(
		bytes, &declared,
	)
	.map_err(|error| {
		anyhow!(
			"validators would reject this model: it does not load at the example sizes \
			 {examples:?} (set them with --example NAME=SIZE): {error:?}"
		)
	})?;
	plan.run_on_examples().map_err(|error| {
		anyhow!("validators would reject this model: it does not run at {examples:?}: {error:?}")
	})?;
	Ok(compute)
}

/// `--exact`, `--tolerance ABS,REL`, or the default for the outputs' dtypes.
pub(crate) fn determinism(
	signature: &types::Signature,
	exact: bool,
	tolerance: Option<&str>,
) -> Result<types::Determinism> {
	if exact {
		return Ok(types::Determinism::Exact);
	}
	if let Some(tolerance) = tolerance {
		let (abs, rel) = tolerance
			.split_once(',')
			.ok_or_else(|| anyhow!("--tolerance takes ABS,REL, e.g. 0.0001,0.00001"))?;
		let parse = |text: &str| -> Result<f64> {
			let value: f64 =
				text.trim().parse().with_context(|| format!("`{text}` is not a number"))?;
			if !(0.0..=1.0).contains(&value) {
				bail!("tolerances are between 0 and 1, not {value}");
			}
			Ok(value)
		};
		return Ok(types::Determinism::Tolerance { abs: parse(abs)?, rel: parse(rel)? });
	}
	let float = signature.outputs.iter().any(|output| output.dtype.starts_with('f'));
	Ok(if float {
		types::Determinism::Tolerance { abs: 1e-4, rel: 1e-5 }
	} else {
		types::Determinism::Exact
	})
}

/// A reference vector read from `--reference`: its tensors in declared order.
pub(crate) struct Reference {
	pub(crate) inputs: Vec<input::Tensor>,
	pub(crate) outputs: Vec<input::Tensor>,
}

/// A reference vector with each tensor placed: `Some(hash)` for the ones uploaded as content.
pub(crate) struct PlacedReference {
	pub(crate) inputs: Vec<input::Tensor>,
	pub(crate) placed_inputs: Vec<Option<[u8; 32]>>,
	pub(crate) outputs: Vec<input::Tensor>,
	pub(crate) placed_outputs: Vec<Option<[u8; 32]>>,
}

/// Reads `--reference INPUTS[,OUTPUTS]` arguments; outputs not given are computed with tract.
pub(crate) fn read_references(
	bytes: &[u8],
	signature: &types::Signature,
	args: &[String],
	progress: &Progress,
) -> Result<Vec<Reference>> {
	let max = gateless_primitives::reference::MAX_REFERENCES as usize;
	ensure!(args.len() <= max, "at most {max} reference vectors, not {}", args.len());
	let image = input::ImageOptions { scale: 1.0, invert: false };
	args.iter()
		.map(|arg| {
			let (inputs_file, outputs_file) = match arg.split_once(',') {
				Some((inputs, outputs)) => (inputs, Some(outputs)),
				None => (arg.as_str(), None),
			};
			let inputs = input::read_all(&[inputs_file.to_owned()], &signature.inputs, image)
				.with_context(|| format!("reference inputs {inputs_file}"))?;
			let outputs = match outputs_file {
				Some(file) => input::read_all(&[file.to_owned()], &signature.outputs, image)
					.with_context(|| format!("reference outputs {file}"))?,
				None => {
					progress.say(&format!("computing the outputs of reference {inputs_file}"));
					run_locally(bytes, signature, &inputs)
						.with_context(|| format!("running the model on {inputs_file}"))?
				},
			};
			Ok(Reference { inputs, outputs })
		})
		.collect()
}

/// Runs the model with tract on `inputs`, as a validator would.
pub(crate) fn run_locally(
	bytes: &[u8],
	signature: &types::Signature,
	inputs: &[input::Tensor],
) -> Result<Vec<input::Tensor>> {
	use gateless_primitives::job::InputTensor;
	let declared =
		gateless_rpc::convert::signature_from_json(signature).map_err(|error| anyhow!(error))?;
	let tensors = inputs
		.iter()
		.map(|tensor| {
			Ok(InputTensor {
				dtype: gateless_primitives::model::DType::from_name(&tensor.dtype)
					.ok_or_else(|| anyhow!("unknown dtype {}", tensor.dtype))?,
				shape: tensor
					.shape
					.clone()
					.try_into()
					.map_err(|_| anyhow!("too many dimensions"))?,
				data: tensor.data.clone().try_into().map_err(|_| anyhow!("too large"))?,
			})
		})
		.collect::<Result<Vec<_>>>()?;
	let shapes: Vec<Vec<u32>> = inputs.iter().map(|tensor| tensor.shape.clone()).collect();
	let plan = gateless_inference_engine::Plan::load(bytes, &declared, &shapes)
		.map_err(|error| anyhow!("{error:?}"))?;
	let outputs = plan.run(&tensors).map_err(|error| anyhow!("{error:?}"))?;
	Ok(outputs
		.into_iter()
		.map(|tensor| input::Tensor {
			dtype: tensor.dtype.name().to_owned(),
			shape: tensor.shape.into_inner(),
			data: tensor.data.into_inner(),
		})
		.collect())
}

/// Uploads the reference tensors above the chain's inline threshold to the node, as a job's
/// inputs are; the validators fetch them from it while they attest the model.
pub(crate) async fn place_references(
	chain: &Chain,
	progress: &Progress,
	references: Vec<Reference>,
) -> Result<Vec<PlacedReference>> {
	let mut placed = Vec::with_capacity(references.len());
	for (index, reference) in references.into_iter().enumerate() {
		let placed_inputs = place_tensors(chain, progress, &reference.inputs, |position| {
			format!("reference {index} input {position}")
		})
		.await?;
		let placed_outputs = place_tensors(chain, progress, &reference.outputs, |position| {
			format!("reference {index} output {position}")
		})
		.await?;
		placed.push(PlacedReference {
			inputs: reference.inputs,
			placed_inputs,
			outputs: reference.outputs,
			placed_outputs,
		});
	}
	Ok(placed)
}

/// A card that says nothing.
pub(crate) fn empty_card() -> types::ModelCard {
	types::ModelCard {
		task: String::new(),
		license: String::new(),
		labels: None,
		inputs: String::new(),
		outputs: String::new(),
	}
}
