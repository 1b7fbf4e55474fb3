//! Inference jobs as the chain knows them: the tensors that go in and come out, the errors a
//! validator can report instead of an output, what a job costs, and how it ends.
//!
//! Tensors are little-endian element bytes with a dtype and a shape, the same encoding for inputs
//! that users submit and for outputs that validators reveal. A job carries one tensor per input the
//! model declares, and an executor reveals one tensor per declared output, both in declared order
//! ([`TensorList`]). The byte bounds here are the hard caps of the codec types; each runtime may
//! enforce lower limits (the jobs pallet's `MaxInputBytes` and `MaxOutputBytes`).

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::{ConstU32, H256};
use sp_runtime::BoundedVec;

use crate::content::ContentRef;
use crate::model::{
	DType, Dim, ModelId, ModelSignature, TensorSpec, MAX_MODEL_TENSORS, MAX_TENSOR_RANK,
};

/// The id of a job, given in submission order from 0.
pub type JobId = u64;

/// The most bytes a job's inputs, or an executor's outputs, carry inline, on chain, together
/// (64 KiB); larger tensors travel off chain as [`ContentRef`]s. Each runtime sets its own, lower,
/// per-tensor threshold (the jobs pallet's `MaxInlineBytes`).
pub const MAX_INLINE_BYTES: u32 = 64 * 1024;
/// The most bytes of element data in one tensor as a node holds it: an input the engine runs, an
/// output it gives (64 MiB, the largest content).
pub const MAX_TENSOR_BYTES: u32 = crate::content::MAX_CONTENT_BYTES as u32;
/// The most bytes of element data in all the inputs of a job of a runtime before spec 108, which
/// carried every input inline (2 MiB).
pub const LEGACY_MAX_INPUT_BYTES: u32 = 2 * 1024 * 1024;
/// The most bytes of element data in all the outputs of one run (64 MiB): beyond, the run's
/// verdict is [`InferenceError::OutputTooLarge`].
pub const MAX_OUTPUT_BYTES: u64 = crate::content::MAX_CONTENT_BYTES;
/// The most bytes of element data in the outputs an executor reveals all inline, together
/// (256 KiB; runtimes of spec 108 and before revealed every output so).
pub const MAX_INLINE_OUTPUT_BYTES: u32 = 256 * 1024;

/// The shape of a concrete tensor: every dimension known and at least 1.
pub type TensorShape = BoundedVec<u32, ConstU32<MAX_TENSOR_RANK>>;

/// A concrete tensor: `dtype`, `shape` and the elements in row-major order, each in little-endian
/// bytes (`Bool` as one byte, 0 or 1). `MAX_BYTES` bounds `data`.
#[derive(
	Clone, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, PartialEq, Eq, Debug,
)]
pub struct Tensor<const MAX_BYTES: u32> {
	pub dtype: DType,
	pub shape: TensorShape,
	pub data: BoundedVec<u8, ConstU32<MAX_BYTES>>,
}

/// A tensor with all its bytes, as a node holds it: one of a job's inputs as the engine runs it,
/// or one of the outputs it gives.
pub type HostTensor = Tensor<MAX_TENSOR_BYTES>;
/// One of a job's inputs with its bytes, as the engine runs it.
pub type InputTensor = HostTensor;
/// One of a revealed result's outputs, inline.
pub type OutputTensor = Tensor<MAX_INLINE_OUTPUT_BYTES>;

/// Where the bytes of one of a job's inputs, or of an executor's outputs, are.
#[derive(
	Clone, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, PartialEq, Eq, Debug,
)]
pub enum TensorData {
	/// On chain, in the job itself (tensors up to the runtime's inline threshold).
	#[codec(index = 0)]
	Inline(BoundedVec<u8, ConstU32<MAX_INLINE_BYTES>>),
	/// Off chain: content fetched from the nodes that provide it (the user's node and executors
	/// for an input, the executor and the nodes that read it for an output).
	#[codec(index = 1)]
	Content(ContentRef),
}

/// A tensor as the chain knows it: dtype, shape, and its bytes inline or by hash.
#[derive(
	Clone, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, PartialEq, Eq, Debug,
)]
pub struct JobTensor {
	pub dtype: DType,
	pub shape: TensorShape,
	pub data: TensorData,
}

/// One of a job's inputs as the chain knows it.
pub type JobInput = JobTensor;

impl JobTensor {
	/// The bytes it carries on chain (0 for content).
	pub fn inline_len(&self) -> u64 {
		match &self.data {
			TensorData::Inline(bytes) => bytes.len() as u64,
			TensorData::Content(_) => 0,
		}
	}

	/// Its content, if its bytes are off chain.
	pub fn content(&self) -> Option<&ContentRef> {
		match &self.data {
			TensorData::Content(content) => Some(content),
			TensorData::Inline(_) => None,
		}
	}
}

/// The elements of tensors of these shapes, all together (saturating): what a job's compute is
/// priced by (see [`crate::model::ComputeCost`]).
pub fn input_elements<'a>(shapes: impl IntoIterator<Item = &'a [u32]>) -> u64 {
	shapes
		.into_iter()
		.map(|shape| shape.iter().fold(1u64, |count, dim| count.saturating_mul(u64::from(*dim))))
		.fold(0u64, u64::saturating_add)
}

/// A tensor's dtype, shape and the length of its element data, wherever the data are.
pub trait TensorMeta {
	/// The element type.
	fn dtype(&self) -> DType;
	/// The dimensions.
	fn shape(&self) -> &[u32];
	/// The bytes of element data.
	fn data_len(&self) -> u64;

	/// The number of elements its shape holds, `None` on overflow.
	fn element_count(&self) -> Option<u64> {
		self.shape()
			.iter()
			.try_fold(1u64, |count, dim| count.checked_mul(u64::from(*dim)))
	}

	/// Checks the tensor against a declared spec: same dtype and rank, every fixed dimension
	/// equal, no dimension 0, and exactly as many data bytes as the shape needs.
	fn check_against(&self, spec: &TensorSpec) -> Result<(), TensorError> {
		if self.dtype() != spec.dtype {
			return Err(TensorError::DTypeMismatch);
		}
		check_shape(self.shape(), spec)?;
		let expected =
			data_len(self.dtype(), self.shape()).ok_or(TensorError::DataLengthMismatch)?;
		if expected != self.data_len() {
			return Err(TensorError::DataLengthMismatch);
		}
		Ok(())
	}
}

impl<const MAX_BYTES: u32> TensorMeta for Tensor<MAX_BYTES> {
	fn dtype(&self) -> DType {
		self.dtype
	}
	fn shape(&self) -> &[u32] {
		&self.shape
	}
	fn data_len(&self) -> u64 {
		self.data.len() as u64
	}
}

impl TensorMeta for JobTensor {
	fn dtype(&self) -> DType {
		self.dtype
	}
	fn shape(&self) -> &[u32] {
		&self.shape
	}
	fn data_len(&self) -> u64 {
		match &self.data {
			TensorData::Inline(bytes) => bytes.len() as u64,
			TensorData::Content(content) => content.len,
		}
	}
}

/// A tensor that a [`TensorList`] holds: the bytes it carries in the list, which the list bounds.
pub trait ListedTensor:
	Clone + Encode + Decode + MaxEncodedLen + TypeInfo + PartialEq + Eq + core::fmt::Debug + 'static
{
	/// The most bytes one tensor carries in the list's encoding.
	const MAX_CARRIED: u32;
	/// The bytes this one carries.
	fn carried_len(&self) -> u64;
}

impl<const MAX_BYTES: u32> ListedTensor for Tensor<MAX_BYTES> {
	const MAX_CARRIED: u32 = MAX_BYTES;
	fn carried_len(&self) -> u64 {
		self.data.len() as u64
	}
}

impl ListedTensor for JobTensor {
	const MAX_CARRIED: u32 = MAX_INLINE_BYTES;
	fn carried_len(&self) -> u64 {
		self.inline_len()
	}
}

/// At most [`MAX_MODEL_TENSORS`] tensors carrying at most `MAX_BYTES` bytes together: a job's
/// inputs, or an executor's outputs, in the model's declared order. Decoding refuses a list over
/// either bound.
#[derive(Clone, Encode, TypeInfo, PartialEq, Eq, Debug)]
#[scale_info(skip_type_params(T))]
pub struct TensorList<T: ListedTensor, const MAX_BYTES: u32>(
	BoundedVec<T, ConstU32<MAX_MODEL_TENSORS>>,
);

/// A job's inputs, one per declared input: small ones inline, the others by content.
pub type InputTensors = TensorList<JobInput, MAX_INLINE_BYTES>;
/// A job's inputs as runtimes before spec 108 carried them: every one inline.
pub type LegacyInputTensors = TensorList<Tensor<LEGACY_MAX_INPUT_BYTES>, LEGACY_MAX_INPUT_BYTES>;
/// An executor's outputs, one per declared output, all inline.
pub type OutputTensors = TensorList<OutputTensor, MAX_INLINE_OUTPUT_BYTES>;
/// An executor's outputs, one per declared output, small ones inline and the others by content.
pub type OutputRefs = TensorList<JobTensor, MAX_INLINE_BYTES>;

impl<T: ListedTensor, const MAX_BYTES: u32> Default for TensorList<T, MAX_BYTES> {
	fn default() -> Self {
		Self(BoundedVec::default())
	}
}

/// Why tensors do not make a [`TensorList`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TensorListError {
	/// More than [`MAX_MODEL_TENSORS`] tensors.
	TooMany,
	/// More bytes than the list's bound.
	TooLarge,
}

impl<T: ListedTensor, const MAX_BYTES: u32> TensorList<T, MAX_BYTES> {
	/// The tensors, if there are at most [`MAX_MODEL_TENSORS`] carrying at most `MAX_BYTES`
	/// together.
	pub fn new(tensors: alloc::vec::Vec<T>) -> Result<Self, TensorListError> {
		if carried_len(&tensors) > u64::from(MAX_BYTES) {
			return Err(TensorListError::TooLarge);
		}
		BoundedVec::try_from(tensors).map(Self).map_err(|_| TensorListError::TooMany)
	}

	/// The bytes every tensor carries in the list, together.
	pub fn carried_len(&self) -> u64 {
		carried_len(&self.0)
	}

	/// The tensors, in order.
	pub fn as_slice(&self) -> &[T] {
		&self.0
	}

	/// The tensors, in order, as a plain list.
	pub fn into_inner(self) -> alloc::vec::Vec<T> {
		self.0.into_inner()
	}
}

impl<T: ListedTensor + TensorMeta, const MAX_BYTES: u32> TensorList<T, MAX_BYTES> {
	/// The bytes of element data of every tensor together, wherever they are.
	pub fn data_len(&self) -> u64 {
		self.0.iter().map(|tensor| tensor.data_len()).fold(0u64, u64::saturating_add)
	}
}

fn carried_len<T: ListedTensor>(tensors: &[T]) -> u64 {
	tensors
		.iter()
		.map(|tensor| tensor.carried_len())
		.fold(0u64, u64::saturating_add)
}

impl<T: ListedTensor, const MAX_BYTES: u32> core::ops::Deref for TensorList<T, MAX_BYTES> {
	type Target = [T];
	fn deref(&self) -> &Self::Target {
		&self.0
	}
}

impl<T: ListedTensor, const MAX_BYTES: u32> Decode for TensorList<T, MAX_BYTES> {
	fn decode<I: codec::Input>(input: &mut I) -> Result<Self, codec::Error> {
		let tensors = BoundedVec::<T, ConstU32<MAX_MODEL_TENSORS>>::decode(input)?;
		if carried_len(&tensors) > u64::from(MAX_BYTES) {
			return Err("tensors hold more bytes than their bound".into());
		}
		Ok(Self(tensors))
	}
}

impl<T: ListedTensor, const MAX_BYTES: u32> DecodeWithMemTracking for TensorList<T, MAX_BYTES> {}

impl<T: ListedTensor, const MAX_BYTES: u32> MaxEncodedLen for TensorList<T, MAX_BYTES> {
	/// The list's length, each tensor's encoding without its carried bytes, and `MAX_BYTES` of
	/// carried bytes between them (not `MAX_BYTES` each).
	fn max_encoded_len() -> usize {
		let tensor_overhead = T::max_encoded_len().saturating_sub(T::MAX_CARRIED as usize);
		codec::Compact(MAX_MODEL_TENSORS)
			.encoded_size()
			.saturating_add(tensor_overhead.saturating_mul(MAX_MODEL_TENSORS as usize))
			.saturating_add(MAX_BYTES as usize)
	}
}

impl<const MAX_BYTES: u32> Tensor<MAX_BYTES> {
	/// The tensor as a job's inline input (`None` above [`MAX_INLINE_BYTES`]).
	pub fn into_inline(self) -> Option<JobInput> {
		let data = BoundedVec::try_from(self.data.into_inner()).ok()?;
		Some(JobInput { dtype: self.dtype, shape: self.shape, data: TensorData::Inline(data) })
	}

	/// The same tensor under the engine's bound (64 MiB, above every other tensor's bound).
	pub fn into_input(self) -> InputTensor {
		Tensor {
			dtype: self.dtype,
			shape: self.shape,
			data: BoundedVec::truncate_from(self.data.into_inner()),
		}
	}
}

/// Why a tensor does not fit a declared [`TensorSpec`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TensorError {
	/// The element type differs from the declared one.
	DTypeMismatch,
	/// The number of dimensions differs from the declared one.
	RankMismatch,
	/// A dimension differs from a fixed declared one, or is 0.
	ShapeMismatch,
	/// `data` is not exactly `product(shape) x element size` bytes.
	DataLengthMismatch,
	/// Not one tensor per declared input (or output).
	CountMismatch,
	/// A symbolic dimension has two different sizes (in two inputs, or twice in one).
	SymbolMismatch,
}

/// The sizes a job's tensors give a signature's symbols (`None`: not bound yet).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SymbolSizes(alloc::vec::Vec<Option<u32>>);

impl SymbolSizes {
	/// No symbol of `signature` bound.
	pub fn new(signature: &ModelSignature) -> Self {
		Self::unbound(signature.symbols.len())
	}

	/// `count` symbols, none bound.
	fn unbound(count: usize) -> Self {
		Self(alloc::vec![None; count])
	}

	/// Binds the symbols that `spec` names to their sizes in `shape` (of the same rank); a symbol
	/// already bound to another size is a [`TensorError::SymbolMismatch`].
	pub fn bind(&mut self, spec: &TensorSpec, shape: &[u32]) -> Result<(), TensorError> {
		if spec.shape.len() != shape.len() {
			return Err(TensorError::RankMismatch);
		}
		for (dim, size) in spec.shape.iter().zip(shape) {
			if let Dim::Symbol(index) = dim {
				let slot =
					self.0.get_mut(usize::from(*index)).ok_or(TensorError::SymbolMismatch)?;
				match slot {
					Some(bound) if bound != size => return Err(TensorError::SymbolMismatch),
					_ => *slot = Some(*size),
				}
			}
		}
		Ok(())
	}

	/// The size bound to the symbol at `index`, if any.
	pub fn size(&self, index: u8) -> Option<u32> {
		self.0.get(usize::from(index)).copied().flatten()
	}
}

/// Checks the shapes of a job's inputs against a model's signature: one per declared input, in
/// declared order, each of the declared rank with every fixed dimension equal and none 0, and each
/// symbol the same size wherever the inputs name it. Returns the sizes they give the symbols.
pub fn check_shapes<S: AsRef<[u32]>>(
	signature: &ModelSignature,
	shapes: &[S],
) -> Result<SymbolSizes, TensorError> {
	if shapes.len() != signature.inputs.len() {
		return Err(TensorError::CountMismatch);
	}
	let mut sizes = SymbolSizes::new(signature);
	for (shape, spec) in shapes.iter().zip(signature.inputs.iter()) {
		check_shape(shape.as_ref(), spec)?;
		sizes.bind(spec, shape.as_ref())?;
	}
	Ok(sizes)
}

/// Checks a job's inputs against a model's signature: [`check_shapes`], and each tensor of the
/// declared dtype with exactly the bytes its shape needs. Returns the sizes they give the symbols.
pub fn check_inputs<T: TensorMeta>(
	signature: &ModelSignature,
	inputs: &[T],
) -> Result<SymbolSizes, TensorError> {
	if inputs.len() != signature.inputs.len() {
		return Err(TensorError::CountMismatch);
	}
	let mut sizes = SymbolSizes::new(signature);
	for (tensor, spec) in inputs.iter().zip(signature.inputs.iter()) {
		tensor.check_against(spec)?;
		sizes.bind(spec, tensor.shape())?;
	}
	Ok(sizes)
}

/// The bytes of element data of tensors of `dtype` and `shape` (`None` on overflow).
pub fn data_len(dtype: DType, shape: &[u32]) -> Option<u64> {
	shape
		.iter()
		.try_fold(u64::from(dtype.size_in_bytes()), |bytes, dim| bytes.checked_mul(u64::from(*dim)))
}

/// Checks a concrete shape against a declared one: same rank, every fixed dimension equal, none 0.
fn check_shape(shape: &[u32], spec: &TensorSpec) -> Result<(), TensorError> {
	if shape.len() != spec.shape.len() {
		return Err(TensorError::RankMismatch);
	}
	for (actual, declared) in shape.iter().zip(spec.shape.iter()) {
		let fits = match declared {
			Dim::Fixed(size) => actual == size,
			Dim::Dynamic | Dim::Symbol(_) => true,
		};
		if !fits || *actual == 0 {
			return Err(TensorError::ShapeMismatch);
		}
	}
	Ok(())
}

/// The outputs a job's executors must reveal: the model's declared outputs, where each symbol
/// that the job's inputs bind is replaced by its size. The chain refuses a reveal that does not
/// fit, and the engine turns such an output into [`InferenceError::SignatureMismatch`] first, with
/// this same check, so that an honest executor never reveals what the chain refuses.
#[derive(
	Clone, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, PartialEq, Eq, Debug,
)]
pub struct ExpectedOutputs {
	/// The declared outputs, in order, with bound symbols fixed.
	pub specs: BoundedVec<TensorSpec, ConstU32<MAX_MODEL_TENSORS>>,
	/// How many symbols the model declares: the ones left must still agree across outputs.
	pub symbols: u8,
}

impl ExpectedOutputs {
	/// The outputs of `signature` for inputs that bound the symbols to `sizes`.
	pub fn new(signature: &ModelSignature, sizes: &SymbolSizes) -> Self {
		let fix = |dim: &Dim| match dim {
			Dim::Symbol(index) => sizes.size(*index).map_or(*dim, Dim::Fixed),
			other => *other,
		};
		let specs = signature.outputs.iter().map(|spec| TensorSpec {
			name: spec.name.clone(),
			dtype: spec.dtype,
			shape: BoundedVec::truncate_from(spec.shape.iter().map(fix).collect()),
		});
		Self {
			specs: BoundedVec::truncate_from(specs.collect()),
			symbols: signature.symbols.len().try_into().unwrap_or(u8::MAX),
		}
	}

	/// Checks revealed outputs: one per declared output, in order, each fitting its spec, and
	/// each symbol left the same size wherever the outputs name it.
	pub fn check<T: TensorMeta>(&self, outputs: &[T]) -> Result<(), TensorError> {
		if outputs.len() != self.specs.len() {
			return Err(TensorError::CountMismatch);
		}
		let mut sizes = SymbolSizes::unbound(usize::from(self.symbols));
		for (tensor, spec) in outputs.iter().zip(self.specs.iter()) {
			tensor.check_against(spec)?;
			sizes.bind(spec, tensor.shape())?;
		}
		Ok(())
	}

	/// The bytes of element data the outputs hold together, if every dimension is known before
	/// the run (`None` when an output has a dynamic dimension or a symbol no input binds, or on
	/// overflow).
	pub fn data_len(&self) -> Option<u64> {
		self.data_lens()?
			.into_iter()
			.try_fold(0u64, |total, len| total.checked_add(len))
	}

	/// The bytes of element data of each output, if every dimension is known before the run.
	pub fn data_lens(&self) -> Option<alloc::vec::Vec<u64>> {
		self.specs
			.iter()
			.map(|spec| {
				let elements = spec.shape.iter().try_fold(1u64, |count, dim| match dim {
					Dim::Fixed(size) => count.checked_mul(u64::from(*size)),
					Dim::Dynamic | Dim::Symbol(_) => None,
				})?;
				elements.checked_mul(u64::from(spec.dtype.size_in_bytes()))
			})
			.collect()
	}
}

/// What a validator reports when it could not produce an output. Errors are results too: when a
/// quorum reports the same error, that error is the job's agreed result.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEq,
	Eq,
	Debug,
)]
pub enum InferenceError {
	/// The model's bytes could not be fetched or did not match its hash.
	ModelUnavailable,
	/// The engine could not load or optimise the model.
	BadModel,
	/// The ONNX graph does not match the model's declared signature.
	SignatureMismatch,
	/// The engine refused the input (e.g. a value out of an embedding's range).
	BadInput,
	/// The output holds NaN or infinity.
	NonFiniteOutput,
	/// The output is larger than [`MAX_OUTPUT_BYTES`].
	OutputTooLarge,
	/// The run exceeded the node's time limit. No longer produced: a node's limits are an
	/// [`Abstention`], not a verdict; kept so that results of earlier runtimes still decode.
	Timeout,
}

/// Why an executor gives no verdict on a job: an outcome that depends on its node, not on the model
/// and the input alone, so that honest validators may differ on it. An abstaining executor says so
/// on chain instead of committing; it is neither paid nor slashed, and its `abstained` counter
/// shows governance a validator that keeps abstaining.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEq,
	Eq,
	Debug,
)]
pub enum Abstention {
	/// The run (or the model's load) took longer than the node's time limit.
	Timeout,
	/// The run (or the model's load) needed more memory than the node's limit.
	MemoryLimit,
	/// The node's inference worker died running it (a crash or a signal).
	WorkerCrashed,
	/// The node could not get the model's bytes in time (its URIs were down, say).
	ModelUnavailable,
	/// The model is beyond this node's limits: its own attestation found it `TooLarge`.
	ModelTooLarge,
	/// The node could not get the bytes of an input given by content: no node provided them in
	/// time, or every provider sent bytes that do not match the hash. When a quorum of the
	/// committee says so, the job ends as [`FailureReason::InputUnavailable`].
	InputUnavailable,
	/// The node could not keep its large outputs for others to fetch: its content store is full.
	ContentStoreFull,
}

/// What an executor reveals: every declared output of the model, in order, or the error it ran
/// into.
///
/// Outputs that all fit the runtime's inline threshold are revealed as they are
/// ([`InferenceOutput::Tensors`]). Otherwise the larger ones stay with the executor, which provides
/// them as content, and the reveal names them by hash, with the root of the Merkle tree over the
/// outputs' leaves ([`crate::digest`]) that lets the chain compare two such outputs by the few
/// leaves where they differ ([`InferenceOutput::Content`]).
#[derive(
	Clone, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, PartialEq, Eq, Debug,
)]
pub enum InferenceOutput {
	/// The outputs, inline (variant 2: runtimes before spec 107 revealed a single tensor as
	/// variant 0).
	#[codec(index = 2)]
	Tensors(OutputTensors),
	/// The outputs, the small ones inline and the others by content, and the root of the tree over
	/// their leaves.
	#[codec(index = 3)]
	Content { tensors: OutputRefs, root: H256 },
	#[codec(index = 1)]
	Error(InferenceError),
}

impl InferenceOutput {
	/// The output tensors, unless this is an error or some are by content.
	pub fn tensors(&self) -> Option<&[OutputTensor]> {
		match self {
			InferenceOutput::Tensors(tensors) => Some(tensors.as_slice()),
			InferenceOutput::Content { .. } | InferenceOutput::Error(_) => None,
		}
	}

	/// The bytes of element data revealed on chain (0 for an error, only the inline ones for
	/// content).
	pub fn data_len(&self) -> u64 {
		match self {
			InferenceOutput::Tensors(tensors) => tensors.carried_len(),
			InferenceOutput::Content { tensors, .. } => tensors.carried_len(),
			InferenceOutput::Error(_) => 0,
		}
	}

	/// The outputs' dtypes, shapes and lengths, unless this is an error.
	pub fn metas(&self) -> Option<alloc::vec::Vec<(DType, &[u32], u64)>> {
		fn meta<T: TensorMeta>(tensor: &T) -> (DType, &[u32], u64) {
			(tensor.dtype(), tensor.shape(), tensor.data_len())
		}
		match self {
			InferenceOutput::Tensors(tensors) => Some(tensors.iter().map(meta).collect()),
			InferenceOutput::Content { tensors, .. } => Some(tensors.iter().map(meta).collect()),
			InferenceOutput::Error(_) => None,
		}
	}

	/// Whether each output is where its size puts it: all inline when none is larger than
	/// `threshold` bytes, else each by content exactly when it is.
	pub fn placed_for(&self, threshold: u32) -> bool {
		let inline = |len: u64| len <= u64::from(threshold);
		match self {
			InferenceOutput::Tensors(tensors) => {
				tensors.iter().all(|tensor| inline(tensor.data_len()))
			},
			InferenceOutput::Content { tensors, .. } => {
				tensors.iter().any(|tensor| !inline(tensor.data_len()))
					&& tensors
						.iter()
						.all(|tensor| inline(tensor.data_len()) == tensor.content().is_none())
			},
			InferenceOutput::Error(_) => true,
		}
	}
}

/// What a job costs its submitter: the data fee, charged at submission for the block space its
/// tensors take, and the escrow, held until the job ends.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEq,
	Eq,
	Debug,
)]
pub struct FeeQuote<Balance> {
	/// The model's price, paid to its owner when the job yields an agreed output.
	pub model_price: Balance,
	/// What each of the `replicas` executors is paid when it agrees with the quorum.
	pub executor_fee: Balance,
	/// How many validators run the job.
	pub replicas: u32,
	/// The runtime's fee per byte times the job's inline input bytes plus `replicas x` the most
	/// output bytes an executor may reveal, and its fee per content byte times `replicas x` the
	/// bytes of the inputs given by content: burnt at submission, whatever the job's outcome, as a
	/// transaction's fee is.
	pub data_fee: Balance,
	/// `model_price + replicas x executor_fee + data_fee`: everything the job may cost.
	pub total: Balance,
}

impl<Balance: sp_runtime::traits::Saturating + Copy> FeeQuote<Balance> {
	/// What is held from the submitter until the job ends: `total - data_fee`.
	pub fn escrow(&self) -> Balance {
		self.total.saturating_sub(self.data_fee)
	}
}

/// Why a job failed. A failed job refunds its whole escrow, but for
/// [`FailureReason::InputUnavailable`].
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEq,
	Eq,
	Debug,
)]
pub enum FailureReason {
	/// No group of reveals reached the quorum, in the last round allowed.
	NoQuorum,
	/// No quorum, and too few fresh validators were free to escalate to.
	NoFreshExecutors,
	/// The job's model was banned or rejected while the job ran: its round ended without a
	/// verdict, nobody paid or slashed.
	ModelWithdrawn,
	/// A quorum of the committee could not get the bytes of an input given by content. The
	/// executors that reported it are paid as if they had agreed, the model's owner is not, and
	/// the rest of the escrow returns: withholding inputs costs the submitter the executors' fees.
	InputUnavailable,
	/// When the job's committee was drawn, the block after its submission, too few validators
	/// were free (jobs drawn before it took them, or validators left): nothing ran, and the whole
	/// fee, data fee included, returned.
	NotAssigned,
}

/// Where a job is in its life: `Assigning` until its committee is drawn, then `Running`; it ends in
/// exactly one of `Finalized`, `Failed`, `Expired` and `Cancelled`.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEq,
	Eq,
	Debug,
)]
pub enum JobStatus {
	/// Executors are assigned; the verification round `round` (0 first, then escalations) is
	/// under way.
	Running { round: u8 },
	/// A quorum agreed on an output or an error; the result is stored.
	Finalized,
	/// No quorum could be reached; the escrow was refunded.
	Failed(FailureReason),
	/// Not settled by its deadline; the escrow was refunded.
	Expired,
	/// Cancelled by its submitter before any commitment; the escrow was refunded.
	Cancelled,
	/// Paid for and waiting for the committee of round `round`, which is drawn at the end of the
	/// next block, from that block's randomness: nobody knows the committee when the job enters
	/// a block.
	Assigning { round: u8 },
}

impl JobStatus {
	/// Whether the job has ended (and its escrow been released).
	pub fn is_final(&self) -> bool {
		!matches!(self, JobStatus::Running { .. } | JobStatus::Assigning { .. })
	}
}

/// A job's record.
#[derive(
	Clone, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, PartialEq, Eq, Debug,
)]
pub struct JobInfo<AccountId, Balance, BlockNumber, Executors> {
	/// Who submitted and pays.
	pub submitter: AccountId,
	/// The model run.
	pub model: ModelId,
	/// The hash of the model's bytes when the job was submitted.
	pub model_hash: H256,
	/// What is held (or was, once the job ended).
	pub fee: FeeQuote<Balance>,
	/// Every executor assigned so far, round after round.
	pub executors: Executors,
	/// Where the current round's committee starts in `executors`.
	pub committee_start: u32,
	/// Where the job is.
	pub status: JobStatus,
	/// When it was submitted.
	pub submitted_at: BlockNumber,
	/// When it expires if still running; its record and result are pruned a retention period
	/// after this.
	pub expires_at: BlockNumber,
}

/// What the jobs of one model came to: kept by the jobs pallet, each counter moved once as a job
/// is paid for, as a round is tallied and as the job ends (no scans), and served by
/// `InferenceJobsApi::model_stats`. Counters saturate.
#[derive(
	Clone,
	Copy,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEq,
	Eq,
	Debug,
)]
pub struct ModelStats<Balance, BlockNumber> {
	/// Jobs paid for.
	pub submitted: u32,
	/// Jobs whose committee reached a quorum: on an output, or on an error ([`Self::agreed_errors`]).
	pub finalized: u32,
	/// Of the finalized jobs, those whose quorum agreed the model fails on the input.
	pub agreed_errors: u32,
	/// Jobs that failed, for any [`FailureReason`].
	pub failed: u32,
	/// Jobs not settled by their deadline.
	pub expired: u32,
	/// Jobs cancelled by their submitters before any commitment.
	pub cancelled: u32,
	/// Seats of the tallied rounds of its jobs (a round ends in a quorum, an escalation or a
	/// failure for want of one).
	pub seats: u32,
	/// Of those seats, the executors whose verdict was the round's quorum's: `agreeing / seats`
	/// is how often independent validators agree on this model's outputs.
	pub agreeing: u32,
	/// What its jobs paid its owner.
	pub revenue: Balance,
	/// The block of its latest job, `None` before the first.
	pub last_used: Option<BlockNumber>,
}

/// The verified result of a finalized job.
#[derive(
	Clone, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, PartialEq, Eq, Debug,
)]
pub struct JobResult<Balance, BlockNumber, Agreeing> {
	/// The output (or error) the quorum agreed on: the reveal, first in committee order, that most
	/// reveals agree with.
	pub output: InferenceOutput,
	/// Its digest under the model's determinism class.
	pub digest: H256,
	/// The executors that agreed, each paid `paid_each`.
	pub agreeing: Agreeing,
	/// What each agreeing executor was paid.
	pub paid_each: Balance,
	/// What the model's owner was paid (0 when the agreed result is an error).
	pub owner_paid: Balance,
	/// What returned to the submitter.
	pub refunded: Balance,
	/// The block the job was finalized in.
	pub finalized_at: BlockNumber,
}

/// An agreed outcome, handed by the verification pallet to the jobs pallet.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct AgreedOutcome<AccountId> {
	/// The agreed output or error.
	pub output: InferenceOutput,
	/// Its digest.
	pub digest: H256,
	/// The executors that agreed, in committee order.
	pub agreeing: alloc::vec::Vec<AccountId>,
}

/// How far the current verification round of a running job has got, for clients.
#[derive(Clone, Encode, Decode, TypeInfo, PartialEq, Eq, Debug)]
pub struct RoundProgress<AccountId, BlockNumber> {
	/// 0 for the first round, then one more per escalation.
	pub round: u8,
	/// The executors of this round.
	pub committee: alloc::vec::Vec<AccountId>,
	/// Commitments are accepted up to and including this block.
	pub commit_until: BlockNumber,
	/// Reveals are accepted up to and including this block; the round is tallied after it.
	pub reveal_until: BlockNumber,
	/// Who has committed so far.
	pub committed: alloc::vec::Vec<AccountId>,
	/// Who has revealed so far, with the digest of its reveal.
	pub revealed: alloc::vec::Vec<(AccountId, H256)>,
	/// Who has abstained, and why.
	pub abstained: alloc::vec::Vec<(AccountId, Abstention)>,
}

/// A job as clients see it: its record and, while it runs, its round's progress.
#[derive(Clone, Encode, Decode, TypeInfo, PartialEq, Eq, Debug)]
pub struct JobDetails<AccountId, Balance, BlockNumber> {
	pub job: JobInfo<AccountId, Balance, BlockNumber, alloc::vec::Vec<AccountId>>,
	pub round: Option<RoundProgress<AccountId, BlockNumber>>,
}

/// Why a fee cannot be quoted.
#[derive(Clone, Copy, Encode, Decode, TypeInfo, PartialEq, Eq, Debug)]
pub enum QuoteError {
	/// No model has this id.
	UnknownModel,
	/// The model is not active (pending, rejected, deprecated or banned).
	ModelNotActive,
	/// `replicas` is 0 or above the runtime's maximum.
	BadReplicas,
	/// The fee does not fit in a balance.
	Overflow,
	/// The input shapes do not fit the model's inputs (count, rank, fixed dimensions, shared
	/// symbols), or hold more bytes than the runtime's maximum.
	BadInputs,
	/// The model's outputs at these input shapes hold more than [`MAX_OUTPUT_BYTES`].
	OutputsTooLarge,
}

#[cfg(test)]
mod tests {
	use super::*;
	use alloc::vec;

	fn spec(dtype: DType, shape: &[Dim]) -> TensorSpec {
		TensorSpec {
			name: b"x".to_vec().try_into().unwrap(),
			dtype,
			shape: shape.to_vec().try_into().unwrap(),
		}
	}

	fn input(dtype: DType, shape: &[u32], bytes: usize) -> InputTensor {
		Tensor {
			dtype,
			shape: shape.to_vec().try_into().unwrap(),
			data: vec![0u8; bytes].try_into().unwrap(),
		}
	}

	#[test]
	fn a_tensor_fits_its_spec_only_with_the_right_type_shape_and_length() {
		let declared = spec(DType::F32, &[Dim::Dynamic, Dim::Fixed(64)]);
		assert_eq!(input(DType::F32, &[2, 64], 2 * 64 * 4).check_against(&declared), Ok(()));
		assert_eq!(
			input(DType::F64, &[2, 64], 2 * 64 * 8).check_against(&declared),
			Err(TensorError::DTypeMismatch)
		);
		assert_eq!(
			input(DType::F32, &[128], 128 * 4).check_against(&declared),
			Err(TensorError::RankMismatch)
		);
		assert_eq!(
			input(DType::F32, &[2, 63], 2 * 63 * 4).check_against(&declared),
			Err(TensorError::ShapeMismatch)
		);
		assert_eq!(
			input(DType::F32, &[0, 64], 0).check_against(&declared),
			Err(TensorError::ShapeMismatch)
		);
		assert_eq!(
			input(DType::F32, &[2, 64], 2 * 64 * 4 - 1).check_against(&declared),
			Err(TensorError::DataLengthMismatch)
		);
		let huge = input(DType::U8, &[u32::MAX, u32::MAX, u32::MAX], 1);
		assert_eq!(
			huge.check_against(&spec(DType::U8, &[Dim::Dynamic; 3])),
			Err(TensorError::DataLengthMismatch)
		);
	}

	fn signature(inputs: &[(DType, &[Dim])], outputs: &[(DType, &[Dim])]) -> ModelSignature {
		let specs = |side: &[(DType, &[Dim])], prefix: &str| {
			side.iter()
				.enumerate()
				.map(|(index, (dtype, shape))| TensorSpec {
					name: alloc::format!("{prefix}{index}").into_bytes().try_into().unwrap(),
					dtype: *dtype,
					shape: shape.to_vec().try_into().unwrap(),
				})
				.collect::<alloc::vec::Vec<_>>()
				.try_into()
				.unwrap()
		};
		ModelSignature {
			inputs: specs(inputs, "in"),
			outputs: specs(outputs, "out"),
			symbols: [b"n".as_slice(), b"m".as_slice()]
				.iter()
				.map(|name| crate::model::SymbolSpec {
					name: name.to_vec().try_into().unwrap(),
					example: 1,
				})
				.collect::<alloc::vec::Vec<_>>()
				.try_into()
				.unwrap(),
		}
	}

	#[test]
	fn inputs_must_agree_on_their_shared_symbols() {
		let model = signature(
			&[(DType::F32, &[Dim::Symbol(0), Dim::Fixed(2)]), (DType::I64, &[Dim::Symbol(0)])],
			&[(DType::F32, &[Dim::Symbol(0), Dim::Symbol(1)])],
		);
		let sizes = check_shapes(&model, &[vec![3, 2], vec![3]]).unwrap();
		assert_eq!(sizes.size(0), Some(3));
		assert_eq!(sizes.size(1), None);
		assert_eq!(check_shapes(&model, &[vec![3, 2], vec![4]]), Err(TensorError::SymbolMismatch));
		assert_eq!(check_shapes(&model, &[vec![3, 2]]), Err(TensorError::CountMismatch));
		assert_eq!(check_shapes(&model, &[vec![3, 3], vec![3]]), Err(TensorError::ShapeMismatch));
		let inputs = [input(DType::F32, &[3, 2], 24), input(DType::I64, &[3], 24)];
		assert_eq!(check_inputs(&model, &inputs).map(|sizes| sizes.size(0)), Ok(Some(3)));
		let wrong_type = [input(DType::F32, &[3, 2], 24), input(DType::I32, &[3], 12)];
		assert_eq!(check_inputs(&model, &wrong_type), Err(TensorError::DTypeMismatch));
	}

	#[test]
	fn outputs_follow_the_symbols_their_inputs_bound() {
		let model = signature(
			&[(DType::F32, &[Dim::Symbol(0), Dim::Fixed(2)])],
			&[
				(DType::F32, &[Dim::Symbol(0), Dim::Symbol(1)]),
				(DType::I64, &[Dim::Symbol(1)]),
				(DType::U8, &[Dim::Symbol(0)]),
			],
		);
		let sizes = check_shapes(&model, &[vec![3, 2]]).unwrap();
		let expected = ExpectedOutputs::new(&model, &sizes);
		assert_eq!(expected.specs[0].shape.to_vec(), vec![Dim::Fixed(3), Dim::Symbol(1)]);
		let output = |dtype, shape: &[u32]| {
			let bytes = data_len(dtype, shape).unwrap() as usize;
			OutputTensor {
				dtype,
				shape: shape.to_vec().try_into().unwrap(),
				data: vec![0u8; bytes].try_into().unwrap(),
			}
		};
		let fits = [output(DType::F32, &[3, 5]), output(DType::I64, &[5]), output(DType::U8, &[3])];
		assert_eq!(expected.check(&fits), Ok(()));
		// The symbol the input bound, and the one only the outputs name, must both hold.
		let batch_off =
			[output(DType::F32, &[4, 5]), output(DType::I64, &[5]), output(DType::U8, &[3])];
		assert_eq!(expected.check(&batch_off), Err(TensorError::ShapeMismatch));
		let free_off =
			[output(DType::F32, &[3, 5]), output(DType::I64, &[6]), output(DType::U8, &[3])];
		assert_eq!(expected.check(&free_off), Err(TensorError::SymbolMismatch));
		assert_eq!(expected.check(&fits[..2]), Err(TensorError::CountMismatch));
		// Sizes known before the run only when every symbol is bound.
		assert_eq!(expected.data_len(), None);
		let bound = signature(
			&[(DType::F32, &[Dim::Symbol(0), Dim::Fixed(2)])],
			&[(DType::F32, &[Dim::Symbol(0), Dim::Fixed(4)]), (DType::U8, &[Dim::Symbol(0)])],
		);
		let sizes = check_shapes(&bound, &[vec![3, 2]]).unwrap();
		assert_eq!(ExpectedOutputs::new(&bound, &sizes).data_len(), Some(3 * 4 * 4 + 3));
	}

	#[test]
	fn a_tensor_list_holds_its_bound_in_total_and_refuses_to_decode_past_it() {
		let tensor = |bytes: usize| Tensor::<8> {
			dtype: DType::U8,
			shape: vec![bytes as u32].try_into().unwrap(),
			data: vec![1u8; bytes].try_into().unwrap(),
		};
		let list = TensorList::<Tensor<8>, 8>::new(vec![tensor(5), tensor(3)]).unwrap();
		assert_eq!(list.data_len(), 8);
		assert_eq!(TensorList::<Tensor<8>, 8>::decode(&mut &list.encode()[..]), Ok(list));
		assert_eq!(
			TensorList::<Tensor<8>, 8>::new(vec![tensor(5), tensor(4)]),
			Err(TensorListError::TooLarge)
		);
		assert_eq!(
			TensorList::<Tensor<8>, 8>::new(vec![tensor(0); MAX_MODEL_TENSORS as usize + 1]),
			Err(TensorListError::TooMany)
		);
		// Each tensor within its own bound, the two together above it.
		let over = vec![tensor(5), tensor(4)].encode();
		assert!(TensorList::<Tensor<8>, 8>::decode(&mut &over[..]).is_err());
		// The encoded size never exceeds the declared maximum.
		let full =
			TensorList::<Tensor<8>, 8>::new(vec![tensor(1); MAX_MODEL_TENSORS as usize]).unwrap();
		assert!(full.encode().len() <= TensorList::<Tensor<8>, 8>::max_encoded_len());
	}

	#[test]
	fn a_jobs_inputs_count_only_their_inline_bytes_against_the_bound() {
		let inline = |bytes: usize| JobInput {
			dtype: DType::U8,
			shape: vec![bytes as u32].try_into().unwrap(),
			data: TensorData::Inline(vec![1u8; bytes].try_into().unwrap()),
		};
		let content = JobInput {
			dtype: DType::U8,
			shape: vec![1 << 24].try_into().unwrap(),
			data: TensorData::Content(ContentRef { hash: H256::repeat_byte(7), len: 1 << 24 }),
		};
		let half = MAX_INLINE_BYTES as usize / 2;
		let inputs = InputTensors::new(vec![inline(half), content.clone(), inline(half)]).unwrap();
		assert_eq!(inputs.carried_len(), u64::from(MAX_INLINE_BYTES));
		assert_eq!(inputs.data_len(), u64::from(MAX_INLINE_BYTES) + (1 << 24));
		assert_eq!(InputTensors::decode(&mut &inputs.encode()[..]), Ok(inputs.clone()));
		assert!(inputs.encode().len() <= InputTensors::max_encoded_len());
		assert_eq!(
			InputTensors::new(vec![inline(half), inline(half + 1)]),
			Err(TensorListError::TooLarge)
		);
		assert_eq!(content.inline_len(), 0);
		assert_eq!(content.data_len(), 1 << 24);
	}
}
