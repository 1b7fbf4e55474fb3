//! The `inference` runtime interface: how offchain workers ask the node to check and run models.
//!
//! The runtime calls [`check_model`], [`run`], [`prove`], [`has_model`], [`obtain_model`] and
//! [`discard_model`]
//! (`run` is at version 5: every input in, inline or by content, every output out, the large ones
//! kept by the node as content; version 4 serves runtimes of spec 108 and 109, which revealed
//! every output inline, version 3 runtimes of spec 107, whose inputs were all inline too, and
//! versions 1 and 2 runtimes before it, which ran one input to the first output); the node
//! implements them natively with its inference engine (tract in sandboxed worker processes, a model
//! store) and hands that implementation to offchain workers only, as the
//! [`InferenceExt`] externalities extension. Every node registers the host functions (the runtime
//! imports them), but during block import, block authoring or a runtime API call the extension is
//! absent and the calls answer deterministically: `false`, or `None` ("no engine here"). No
//! on-chain code path calls them.

use alloc::vec::Vec;
use codec::{Decode, Encode};
use sp_core::H256;
use sp_runtime_interface::{
	pass_by::{AllocateAndReturnByCodec, PassFatPointerAndDecode},
	runtime_interface,
};

use crate::{
	content::ContentRef,
	dispute::DisputeProof,
	job::{
		Abstention, HostTensor, InferenceError, InferenceOutput, InputTensors, LegacyInputTensors,
		OutputTensor, OutputTensors, Tensor, TensorListError, LEGACY_MAX_INPUT_BYTES,
	},
	model::{Determinism, ModelSignature, ModelUri, Verdict},
	reference::{ReferenceOutcome, ReferenceVector},
};

#[cfg(not(substrate_runtime))]
use crate::job::InputTensor;

/// What a run gives: every declared output with all its bytes, or the deterministic error it ran
/// into.
pub type RunOutputs = Result<Vec<HostTensor>, InferenceError>;

/// How an executor reveals its outputs (the runtime's rule, which the chain checks): all inline
/// when none holds more than `inline_limit` bytes, else the larger ones by content, named with
/// the root of the tree of their leaves under `determinism`.
#[derive(Clone, Encode, Decode, PartialEq, Eq, Debug)]
pub struct OutputPlacement {
	/// The most bytes an output revealed inline holds.
	pub inline_limit: u32,
	/// How the job's outputs are compared, which decides their leaves.
	pub determinism: Determinism,
}

/// Outputs as runtimes before spec 110 revealed them, all inline:
/// [`InferenceError::OutputTooLarge`] beyond [`crate::job::MAX_INLINE_OUTPUT_BYTES`].
pub fn inline_output(outputs: RunOutputs) -> InferenceOutput {
	let tensors = outputs.and_then(|tensors| {
		let inline: Option<Vec<OutputTensor>> = tensors
			.into_iter()
			.map(|tensor| {
				Some(Tensor {
					dtype: tensor.dtype,
					shape: tensor.shape,
					data: tensor.data.into_inner().try_into().ok()?,
				})
			})
			.collect();
		OutputTensors::new(inline.ok_or(InferenceError::OutputTooLarge)?).map_err(|error| {
			match error {
				TensorListError::TooLarge => InferenceError::OutputTooLarge,
				TensorListError::TooMany => InferenceError::SignatureMismatch,
			}
		})
	});
	match tensors {
		Ok(tensors) => InferenceOutput::Tensors(tensors),
		Err(error) => InferenceOutput::Error(error),
	}
}

/// What runtimes before spec 107 take back from `run` (versions 1 and 2): the model's first
/// output alone, of at most 16 KiB, encoded as they knew it.
#[derive(Clone, Encode, Decode, PartialEq, Eq, Debug)]
pub enum FirstOutput {
	#[codec(index = 0)]
	Tensor(OutputTensor),
	#[codec(index = 1)]
	Error(InferenceError),
}

/// The most bytes of output data runtimes before spec 107 decode.
const FIRST_OUTPUT_MAX_BYTES: usize = 16 * 1024;

impl From<InferenceOutput> for FirstOutput {
	fn from(output: InferenceOutput) -> Self {
		match output {
			InferenceOutput::Tensors(tensors) => match tensors.into_inner().into_iter().next() {
				Some(first) if first.data.len() <= FIRST_OUTPUT_MAX_BYTES => Self::Tensor(first),
				Some(_) => Self::Error(InferenceError::OutputTooLarge),
				None => Self::Error(InferenceError::SignatureMismatch),
			},
			InferenceOutput::Content { .. } => Self::Error(InferenceError::OutputTooLarge),
			InferenceOutput::Error(error) => Self::Error(error),
		}
	}
}

/// A model as the engine needs to know it: what its bytes hash to, how big they are, what it
/// declares, and where its bytes are.
#[derive(Clone, Encode, Decode, PartialEq, Eq, Debug)]
pub struct ModelRef {
	/// The blake2-256 hash of the ONNX file; the model store's key.
	pub hash: H256,
	/// The file's size in bytes.
	pub size: u64,
	/// The declared inputs and outputs, checked against the graph.
	pub signature: ModelSignature,
	/// The http(s) URIs to fetch the bytes from, when the node does not have them.
	pub uris: Vec<ModelUri>,
	/// The bytes themselves, for models stored on chain. Workers pass them only when
	/// [`has_model`] says the node lacks them, to keep large copies out of WASM.
	pub inline: Option<Vec<u8>>,
}

/// Where a node stands with the bytes of a model that nodes provide as content
/// ([`obtain_model`]).
#[derive(Clone, Copy, Encode, Decode, PartialEq, Eq, Debug)]
pub enum ModelFetch {
	/// The node holds them, checked against the model's hash: it can check and run the model,
	/// and provides the file to its peers.
	Held,
	/// It is fetching them from peers in the background: `received` of `chunks` chunks so far.
	Fetching { received: u32, chunks: u32 },
	/// Its last attempt found no peer that served them; it tries again after a back-off.
	Unavailable,
	/// The model is larger than this node holds (`--max-model-mib`): it abstains.
	TooLarge,
	/// The chunks match the registered chunk list but the file does not hash to the model's
	/// hash: the registration names other bytes, which every node finds.
	HashMismatch,
}

/// The node's side of the interface, implemented by its inference engine.
#[cfg(not(substrate_runtime))]
pub trait InferenceHost: Send {
	/// Whether the node's model store holds the bytes of the model with `hash`.
	fn has_model(&mut self, hash: H256) -> bool;
	/// Gets the model's bytes (store, inline bytes or URIs), checks size and hash, loads it and
	/// checks its signature: the verdict a validator attests.
	fn check_model(&mut self, model: ModelRef) -> Verdict;
	/// Makes sure the node holds the model with `hash`, whose file nodes provide as `content`:
	/// when it does not, starts fetching it from peers in the background (one fetch per model,
	/// resumed where it stopped), and says where that stands without waiting for it.
	fn obtain_model(&mut self, hash: H256, content: ContentRef) -> ModelFetch;
	/// Gets the bytes of a job's inputs: the inline ones as they are, the others fetched by
	/// content hash from the nodes that provide them, each checked against its hash.
	/// [`Abstention::InputUnavailable`] when some cannot be had in time.
	fn fetch_inputs(&mut self, inputs: InputTensors) -> Result<Vec<InputTensor>, Abstention>;
	/// Runs the model on `inputs` (one per declared input): a verdict (every declared output, or
	/// the deterministic error it ran into), or why this node abstains (its limits, a crashed
	/// worker, no model bytes).
	fn run(&mut self, model: ModelRef, inputs: Vec<InputTensor>) -> Result<RunOutputs, Abstention>;
	/// Places outputs for the reveal: inline, or the larger ones kept in the node's content store
	/// (which provides them to peers) and named by content with their tree's root.
	/// [`Abstention::ContentStoreFull`] when the store cannot keep them.
	fn keep_outputs(
		&mut self,
		outputs: Vec<HostTensor>,
		placement: &OutputPlacement,
	) -> Result<InferenceOutput, Abstention>;
	/// The proof of how `other` compares with `reference` (two reveals by content) under
	/// `determinism` (see [`crate::dispute::prove`]), from their bytes, fetched where the node
	/// lacks them; `None` when they cannot be had or are not comparable.
	fn prove(
		&mut self,
		reference: InferenceOutput,
		other: InferenceOutput,
		determinism: Determinism,
	) -> Option<DisputeProof>;
	/// Removes the model with `hash` from the node's store: it was rejected or banned.
	fn discard_model(&mut self, hash: H256);
}

#[cfg(not(substrate_runtime))]
sp_externalities::decl_extension! {
	/// The node's inference engine, registered only in offchain workers' externalities.
	pub struct InferenceExt(alloc::boxed::Box<dyn InferenceHost>);
}

#[cfg(not(substrate_runtime))]
impl InferenceExt {
	/// Wraps a host implementation.
	pub fn new(host: impl InferenceHost + 'static) -> Self {
		Self(alloc::boxed::Box::new(host))
	}
}

#[cfg(not(substrate_runtime))]
use sp_externalities::ExternalitiesExt;

/// `run` as runtimes before spec 107 knew it: one input, the first output.
#[cfg(not(substrate_runtime))]
fn run_first(
	engine: &mut dyn InferenceHost,
	model: ModelRef,
	input: LegacyInputTensor,
) -> Result<FirstOutput, Abstention> {
	engine
		.run(model, alloc::vec![input.into_input()])
		.map(|outputs| FirstOutput::from(inline_output(outputs)))
}

/// One input of a runtime before spec 108: inline, at most 2 MiB.
type LegacyInputTensor = Tensor<LEGACY_MAX_INPUT_BYTES>;

#[cfg(not(substrate_runtime))]
pub use self::inference::HostFunctions;
pub use self::inference::{
	check_model, check_reference, discard_model, has_model, obtain_model, prove, run,
};

/// Model checks and inference, served by the node to offchain workers.
#[runtime_interface]
pub trait Inference {
	/// Whether the node's model store holds the model with `hash`; `false` without an engine.
	fn has_model(&mut self, hash: PassFatPointerAndDecode<H256>) -> bool {
		self.extension::<InferenceExt>().is_some_and(|engine| engine.0.has_model(hash))
	}

	/// Where the node stands with a model that nodes provide as `content` (see
	/// [`InferenceHost::obtain_model`]); `None` without an engine.
	fn obtain_model(
		&mut self,
		hash: PassFatPointerAndDecode<H256>,
		content: PassFatPointerAndDecode<ContentRef>,
	) -> AllocateAndReturnByCodec<Option<ModelFetch>> {
		self.extension::<InferenceExt>()
			.map(|engine| engine.0.obtain_model(hash, content))
	}

	/// The verdict on `model` (see [`InferenceHost::check_model`]); `None` without an engine.
	fn check_model(
		&mut self,
		model: PassFatPointerAndDecode<ModelRef>,
	) -> AllocateAndReturnByCodec<Option<Verdict>> {
		self.extension::<InferenceExt>().map(|engine| engine.0.check_model(model))
	}

	/// The first output of a one-input `model` on `input`, for runtimes from before abstentions:
	/// an abstention reads as the error those runtimes knew (`ModelUnavailable`, else `Timeout`).
	fn run(
		&mut self,
		model: PassFatPointerAndDecode<ModelRef>,
		input: PassFatPointerAndDecode<LegacyInputTensor>,
	) -> AllocateAndReturnByCodec<Option<FirstOutput>> {
		self.extension::<InferenceExt>().map(|engine| {
			run_first(&mut *engine.0, model, input).unwrap_or_else(|abstention| {
				FirstOutput::Error(match abstention {
					Abstention::ModelUnavailable => InferenceError::ModelUnavailable,
					_ => InferenceError::Timeout,
				})
			})
		})
	}

	/// The first output of a one-input `model` on `input`, or why this node abstains, for
	/// runtimes before spec 107; `None` without an engine.
	#[version(2)]
	fn run(
		&mut self,
		model: PassFatPointerAndDecode<ModelRef>,
		input: PassFatPointerAndDecode<LegacyInputTensor>,
	) -> AllocateAndReturnByCodec<Option<Result<FirstOutput, Abstention>>> {
		self.extension::<InferenceExt>()
			.map(|engine| run_first(&mut *engine.0, model, input))
	}

	/// The verdict of `model` on `inputs`, all inline, or why this node abstains, for runtimes
	/// of spec 107; `None` without an engine.
	#[version(3)]
	fn run(
		&mut self,
		model: PassFatPointerAndDecode<ModelRef>,
		inputs: PassFatPointerAndDecode<LegacyInputTensors>,
	) -> AllocateAndReturnByCodec<Option<Result<InferenceOutput, Abstention>>> {
		self.extension::<InferenceExt>().map(|engine| {
			let inputs = inputs.into_inner().into_iter().map(Tensor::into_input).collect();
			engine.0.run(model, inputs).map(inline_output)
		})
	}

	/// The verdict of `model` on `inputs` (inline or by content, see
	/// [`InferenceHost::fetch_inputs`] and [`InferenceHost::run`]), every output inline, or why
	/// this node abstains, for runtimes of spec 108 and 109; `None` without an engine.
	#[version(4)]
	fn run(
		&mut self,
		model: PassFatPointerAndDecode<ModelRef>,
		inputs: PassFatPointerAndDecode<InputTensors>,
	) -> AllocateAndReturnByCodec<Option<Result<InferenceOutput, Abstention>>> {
		self.extension::<InferenceExt>().map(|engine| {
			let inputs = engine.0.fetch_inputs(inputs)?;
			engine.0.run(model, inputs).map(inline_output)
		})
	}

	/// The verdict of `model` on `inputs` (inline or by content), its outputs placed as
	/// `placement` says ([`InferenceHost::keep_outputs`]), or why this node abstains; `None`
	/// without an engine.
	#[version(5)]
	fn run(
		&mut self,
		model: PassFatPointerAndDecode<ModelRef>,
		inputs: PassFatPointerAndDecode<InputTensors>,
		placement: PassFatPointerAndDecode<OutputPlacement>,
	) -> AllocateAndReturnByCodec<Option<Result<InferenceOutput, Abstention>>> {
		self.extension::<InferenceExt>().map(|engine| {
			let inputs = engine.0.fetch_inputs(inputs)?;
			match engine.0.run(model, inputs)? {
				Ok(outputs) => engine.0.keep_outputs(outputs, &placement),
				Err(error) => Ok(InferenceOutput::Error(error)),
			}
		})
	}

	/// The proof of how `other` compares with `reference` (see [`InferenceHost::prove`]); `None`
	/// without an engine or without the outputs' bytes.
	fn prove(
		&mut self,
		reference: PassFatPointerAndDecode<InferenceOutput>,
		other: PassFatPointerAndDecode<InferenceOutput>,
		determinism: PassFatPointerAndDecode<Determinism>,
	) -> AllocateAndReturnByCodec<Option<DisputeProof>> {
		self.extension::<InferenceExt>()
			.and_then(|engine| engine.0.prove(reference, other, determinism))
	}

	/// Removes the model with `hash` from the node's model store (it was rejected or banned);
	/// nothing without an engine.
	/// Runs `model` on a reference vector's inputs and compares its outputs with the vector's
	/// (inputs and outputs by content are fetched as a job's inputs are). `None` where the node
	/// runs no engine; an abstention where the content or the model is not at hand, or a limit
	/// of this node stopped the run.
	fn check_reference(
		&mut self,
		model: PassFatPointerAndDecode<ModelRef>,
		reference: PassFatPointerAndDecode<ReferenceVector>,
		determinism: PassFatPointerAndDecode<Determinism>,
	) -> AllocateAndReturnByCodec<Option<Result<ReferenceOutcome, Abstention>>> {
		self.extension::<InferenceExt>().map(|engine| {
			let expected = engine.0.fetch_inputs(reference.outputs)?;
			let inputs = engine.0.fetch_inputs(reference.inputs)?;
			let outputs = engine.0.run(model, inputs)?;
			Ok(crate::reference::compare(outputs, &expected, &determinism))
		})
	}

	fn discard_model(&mut self, hash: PassFatPointerAndDecode<H256>) {
		if let Some(engine) = self.extension::<InferenceExt>() {
			engine.0.discard_model(hash)
		}
	}
}
