//! Models as the chain knows them: the tensors they take and give, how deterministic their outputs
//! are, where their bytes are, and how far validators have got in attesting them.
//!
//! The bounds here are fixed for the whole network (pallets, node and clients agree on them
//! without reading runtime constants); the bound on inline model bytes is a runtime constant of the
//! model registry, as it is the one worth tuning.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::{ConstU32, H256};
use sp_runtime::{traits::Zero, BoundedVec, FixedPointNumber, FixedU64, Perbill};

/// The id of a registered model, given in registration order from 0.
pub type ModelId = u64;

/// The most bytes in a model's name, e.g. `mnist-classifier`.
pub const MAX_MODEL_NAME_LEN: u32 = 64;
/// The most bytes in a model's version, e.g. `1.2.0`.
pub const MAX_MODEL_VERSION_LEN: u32 = 32;
/// The most bytes in a model's description (free text or a license/model-card URI).
pub const MAX_DESCRIPTION_LEN: u32 = 512;
/// The most bytes in one URI where a model's bytes can be fetched.
pub const MAX_URI_LEN: u32 = 256;
/// The most URIs a model may list.
pub const MAX_URIS: u32 = 4;
/// The most bytes in a tensor's name.
pub const MAX_TENSOR_NAME_LEN: u32 = 64;
/// The most dimensions of a tensor.
pub const MAX_TENSOR_RANK: u32 = 8;
/// The most input (or output) tensors of a model.
pub const MAX_MODEL_TENSORS: u32 = 8;
/// The most named symbolic dimensions (`batch`, `height`, ...) of a model's signature.
pub const MAX_SYMBOLS: u32 = 16;

/// The hash a model is registered under: blake2-256 of its ONNX file.
pub fn model_hash(onnx: &[u8]) -> H256 {
	<sp_runtime::traits::BlakeTwo256 as sp_runtime::traits::Hash>::hash(onnx)
}

/// A model's name.
pub type ModelName = BoundedVec<u8, ConstU32<MAX_MODEL_NAME_LEN>>;
/// A model's version.
pub type ModelVersion = BoundedVec<u8, ConstU32<MAX_MODEL_VERSION_LEN>>;
/// A model's description.
pub type ModelDescription = BoundedVec<u8, ConstU32<MAX_DESCRIPTION_LEN>>;
/// An http(s) URI where a model's bytes can be fetched.
pub type ModelUri = BoundedVec<u8, ConstU32<MAX_URI_LEN>>;
/// A tensor's name, as in the ONNX graph.
pub type TensorName = BoundedVec<u8, ConstU32<MAX_TENSOR_NAME_LEN>>;

/// The most bytes in a short field of a model card (its task, its license).
pub const MAX_CARD_FIELD_LEN: u32 = 64;
/// The most bytes in a model card's account of what its inputs or its outputs mean.
pub const MAX_SEMANTICS_LEN: u32 = 256;

/// A short field of a model card.
pub type CardField = BoundedVec<u8, ConstU32<MAX_CARD_FIELD_LEN>>;
/// What a model's inputs or outputs mean, in a model card.
pub type Semantics = BoundedVec<u8, ConstU32<MAX_SEMANTICS_LEN>>;

/// What a client needs to find a model and use it without reading its source. Every field is
/// UTF-8 text, or empty where the builder says nothing.
#[derive(
	Clone,
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
pub struct ModelCard {
	/// What it does, e.g. `image-classification`, `object-detection`, `text-recognition`.
	pub task: CardField,
	/// Its license, as an SPDX identifier, e.g. `Apache-2.0`.
	pub license: CardField,
	/// The blake2-256 hash of its labels file (one label per line, in the order of the outputs'
	/// classes), if its outputs are classes.
	pub labels: Option<H256>,
	/// What its inputs are and how to prepare them, e.g. `RGB 224x224, x/255, mean 0.485,0.456,
	/// 0.406, std 0.229,0.224,0.225, NCHW`.
	pub inputs: Semantics,
	/// What its outputs mean, e.g. `logits over the 1000 labels`.
	pub outputs: Semantics,
}

impl ModelCard {
	/// Whether every text field is UTF-8.
	pub fn is_text(&self) -> bool {
		[&self.task[..], &self.license[..], &self.inputs[..], &self.outputs[..]]
			.iter()
			.all(|field| core::str::from_utf8(field).is_ok())
	}
}

/// The element type of a tensor, as ONNX names them.
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
pub enum DType {
	F32,
	F64,
	F16,
	I8,
	I16,
	I32,
	I64,
	U8,
	U16,
	U32,
	U64,
	Bool,
}

impl DType {
	/// Every dtype, in declaration (and SCALE index) order.
	pub const ALL: [DType; 12] = [
		DType::F32,
		DType::F64,
		DType::F16,
		DType::I8,
		DType::I16,
		DType::I32,
		DType::I64,
		DType::U8,
		DType::U16,
		DType::U32,
		DType::U64,
		DType::Bool,
	];

	/// Its name in the JSON-RPC shapes, the clients and model signatures: `f32`, `i64`, `bool`.
	pub const fn name(self) -> &'static str {
		match self {
			DType::F32 => "f32",
			DType::F64 => "f64",
			DType::F16 => "f16",
			DType::I8 => "i8",
			DType::I16 => "i16",
			DType::I32 => "i32",
			DType::I64 => "i64",
			DType::U8 => "u8",
			DType::U16 => "u16",
			DType::U32 => "u32",
			DType::U64 => "u64",
			DType::Bool => "bool",
		}
	}

	/// The dtype that [`Self::name`] calls `name`.
	pub fn from_name(name: &str) -> Option<Self> {
		Self::ALL.into_iter().find(|dtype| dtype.name() == name)
	}

	/// Bytes per element in the little-endian encoding of tensor data (`Bool` is one byte).
	pub const fn size_in_bytes(self) -> u32 {
		match self {
			DType::I8 | DType::U8 | DType::Bool => 1,
			DType::F16 | DType::I16 | DType::U16 => 2,
			DType::F32 | DType::I32 | DType::U32 => 4,
			DType::F64 | DType::I64 | DType::U64 => 8,
		}
	}

	/// Whether the type is a floating-point one, whose outputs need a [`Determinism::Tolerance`]
	/// to be compared across CPU kinds.
	pub const fn is_float(self) -> bool {
		matches!(self, DType::F16 | DType::F32 | DType::F64)
	}
}

/// One dimension of a declared tensor shape.
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
pub enum Dim {
	/// Exactly this many elements (at least 1).
	Fixed(u32),
	/// Any number of elements, chosen by each job's input, unrelated to other dimensions (an
	/// ONNX dimension without a value or a name). Attested at 1.
	Dynamic,
	/// The signature's symbol at this index in [`ModelSignature::symbols`]: any size, but the
	/// same in every input that names it (outputs that name an input's symbol follow it).
	Symbol(u8),
}

/// A named symbolic dimension of a model, as the ONNX file names it (`batch`, `height`).
#[derive(
	Clone, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, PartialEq, Eq, Debug,
)]
pub struct SymbolSpec {
	/// The name in the file.
	pub name: TensorName,
	/// The size validators attest the model at (the builder chooses it; a model need not load at
	/// every size, e.g. an image model at 1 x 1).
	pub example: u32,
}

/// A declared input or output tensor of a model.
#[derive(
	Clone, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, PartialEq, Eq, Debug,
)]
pub struct TensorSpec {
	/// The tensor's name in the ONNX graph.
	pub name: TensorName,
	/// Its element type.
	pub dtype: DType,
	/// Its shape; `Dim::Dynamic` where any size is accepted.
	pub shape: BoundedVec<Dim, ConstU32<MAX_TENSOR_RANK>>,
}

/// The inputs and outputs a model declares; validators check it against the ONNX graph when they
/// attest, and the jobs pallet checks each job's input against it.
#[derive(
	Clone, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, PartialEq, Eq, Debug,
)]
pub struct ModelSignature {
	pub inputs: BoundedVec<TensorSpec, ConstU32<MAX_MODEL_TENSORS>>,
	pub outputs: BoundedVec<TensorSpec, ConstU32<MAX_MODEL_TENSORS>>,
	/// The symbols [`Dim::Symbol`] refers to, with the sizes the model is attested at.
	pub symbols: BoundedVec<SymbolSpec, ConstU32<MAX_SYMBOLS>>,
}

/// Why a [`ModelSignature`] is not acceptable.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SignatureError {
	/// A model needs at least one input and one output.
	NoTensors,
	/// A tensor has an empty name.
	EmptyName,
	/// Two inputs, or two outputs, share a name.
	DuplicateName,
	/// A fixed dimension, or a symbol's example size, is 0.
	ZeroDimension,
	/// A dimension names a symbol the signature does not have.
	UnknownSymbol,
	/// Two symbols share a name, or one is named by no tensor.
	BadSymbols,
}

impl ModelSignature {
	/// Checks that the signature can describe a real ONNX graph: at least one input and one output,
	/// non-empty unique names on each side, and no zero-sized fixed dimension.
	pub fn validate(&self) -> Result<(), SignatureError> {
		if self.inputs.is_empty() || self.outputs.is_empty() {
			return Err(SignatureError::NoTensors);
		}
		for side in [&self.inputs, &self.outputs] {
			for (position, tensor) in side.iter().enumerate() {
				if tensor.name.is_empty() {
					return Err(SignatureError::EmptyName);
				}
				if side
					.iter()
					.skip(position.saturating_add(1))
					.any(|other| other.name == tensor.name)
				{
					return Err(SignatureError::DuplicateName);
				}
				if tensor.shape.contains(&Dim::Fixed(0)) {
					return Err(SignatureError::ZeroDimension);
				}
				for dim in tensor.shape.iter() {
					if let Dim::Symbol(index) = dim {
						if usize::from(*index) >= self.symbols.len() {
							return Err(SignatureError::UnknownSymbol);
						}
					}
				}
			}
		}
		for (index, symbol) in self.symbols.iter().enumerate() {
			if symbol.example == 0 {
				return Err(SignatureError::ZeroDimension);
			}
			let named = |spec: &TensorSpec| spec.shape.contains(&Dim::Symbol(index as u8));
			let unique = !self
				.symbols
				.iter()
				.skip(index.saturating_add(1))
				.any(|other| other.name == symbol.name);
			if symbol.name.is_empty()
				|| !unique || !self.inputs.iter().chain(self.outputs.iter()).any(named)
			{
				return Err(SignatureError::BadSymbols);
			}
		}
		Ok(())
	}

	/// The size a dimension has in the example shapes validators attest at: fixed, the symbol's
	/// example, or 1 for an anonymous dynamic dimension.
	pub fn example_size(&self, dim: &Dim) -> u32 {
		match dim {
			Dim::Fixed(size) => *size,
			Dim::Dynamic => 1,
			Dim::Symbol(index) => {
				self.symbols.get(usize::from(*index)).map_or(1, |symbol| symbol.example)
			},
		}
	}

	/// The shape of each input at the example sizes.
	pub fn example_shapes(&self) -> alloc::vec::Vec<alloc::vec::Vec<u32>> {
		self.scaled_example_shapes(1)
	}

	/// The shape of each input at the example sizes, every dimension that is not fixed multiplied
	/// by `factor` (saturating).
	pub fn scaled_example_shapes(&self, factor: u32) -> alloc::vec::Vec<alloc::vec::Vec<u32>> {
		let size = |dim: &Dim| match dim {
			Dim::Fixed(size) => *size,
			dim => self.example_size(dim).saturating_mul(factor),
		};
		self.inputs.iter().map(|spec| spec.shape.iter().map(size).collect()).collect()
	}

	/// Whether any input has a dimension that is not fixed.
	pub fn has_dynamic_inputs(&self) -> bool {
		self.inputs
			.iter()
			.any(|spec| spec.shape.iter().any(|dim| !matches!(dim, Dim::Fixed(_))))
	}
}

/// How the outputs of a model are compared between validators (see DESIGN, Determinism).
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
pub enum Determinism {
	/// Outputs must be bit-for-bit equal: integer and quantized models.
	Exact,
	/// Float outputs agree when each element is within `abs` or within `rel` (relative to the
	/// larger magnitude) of the other's. Fixed point, so that no runtime code uses floats.
	Tolerance { abs: FixedU64, rel: Perbill },
}

/// Where validators get a model's bytes.
#[derive(
	Clone, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, PartialEq, Eq, Debug,
)]
pub enum ModelLocation {
	/// On chain, in the model registry's storage (readable through the runtime API).
	Inline,
	/// At any of these http(s) URIs; the bytes must hash to the registered blake2-256 hash.
	Uris(BoundedVec<ModelUri, ConstU32<MAX_URIS>>),
	/// Held by nodes, which provide the file as content (see [`crate::content`]): `content` is
	/// the hash of its chunk list, so that every chunk is checked as it arrives; the whole file
	/// must still hash to the model's hash. The URIs, if any, are tried too.
	Peers { content: H256, uris: BoundedVec<ModelUri, ConstU32<MAX_URIS>> },
}

impl ModelLocation {
	/// The http(s) URIs that serve the model, if any.
	pub fn uris(&self) -> &[ModelUri] {
		match self {
			ModelLocation::Inline => &[],
			ModelLocation::Uris(uris) | ModelLocation::Peers { uris, .. } => uris,
		}
	}

	/// The model file as content, when nodes provide it.
	pub fn content(&self, size: u64) -> Option<crate::content::ContentRef> {
		match self {
			ModelLocation::Peers { content, .. } => {
				Some(crate::content::ContentRef { hash: *content, len: size })
			},
			_ => None,
		}
	}
}

/// Why a validator could not attest that a model loads.
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
pub enum AttestationFailure {
	/// No URI served the bytes (down, refused, timed out).
	Unavailable,
	/// The bytes do not have the registered size.
	SizeMismatch,
	/// The bytes do not hash to the registered hash.
	HashMismatch,
	/// The bytes are not an ONNX model tract can parse.
	Malformed,
	/// The model uses operators or types the inference engine does not support.
	Unsupported,
	/// The graph's inputs or outputs differ from the declared signature.
	SignatureMismatch,
	/// The model exceeds the validator's resource limits (size, memory, time).
	TooLarge,
	/// The model's outputs for one of its reference vectors differ from the reference's, beyond
	/// its declared determinism (see [`crate::reference`]).
	ReferenceMismatch,
}

/// A validator's verdict on a pending model.
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
pub enum Verdict {
	/// The bytes matched the hash and the model loaded with the declared signature; with the
	/// validator's estimate of its compute.
	Loads(ComputeCost),
	/// It did not, for this reason.
	Fails(AttestationFailure),
}

impl Verdict {
	/// Whether the verdict says the model loads.
	pub fn loads(&self) -> bool {
		matches!(self, Verdict::Loads(_))
	}
}

/// A model's compute for one job, as a line in the job's input elements (the sum over its inputs
/// of each shape's product): `fixed + per_element x elements` operations (multiply-adds and
/// divisions, with every node's output elements as a floor for graphs of cheaper operations).
///
/// Validators estimate it while they attest, from tract's static cost of the typed graph at the
/// example shapes and at the shapes with every dynamic dimension doubled (see the inference
/// engine's `compute` module); the registry keeps the median of the quorum's estimates. Exact
/// for a batch dimension and for convolutions over a dynamic image size; it under-prices graphs
/// whose cost grows faster than their input (attention over a dynamic sequence).
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
pub struct ComputeCost {
	/// Operations whatever the input's size.
	pub fixed: u64,
	/// Operations per input element (fixed point: a batch of rows of 64 may cost 38.8125 each).
	pub per_element: FixedU64,
}

impl ComputeCost {
	/// The line through two measured points `(elements, operations)`: its slope (rounded down to
	/// the fixed point's precision) and its intercept (at least 0). Without a second point larger
	/// in elements and operations, a model with dynamic inputs is priced through 0 (its
	/// operations spread over its elements) and a fixed-size one by its one point.
	pub fn from_points(first: (u64, u64), second: Option<(u64, u64)>, dynamic: bool) -> Self {
		let (elements, operations) = first;
		match second {
			Some((more_elements, more_operations))
				if more_elements > elements && more_operations >= operations =>
			{
				let per_element = FixedU64::from_rational(
					u128::from(more_operations.saturating_sub(operations)),
					u128::from(more_elements.saturating_sub(elements)),
				);
				let fixed = operations.saturating_sub(per_element.saturating_mul_int(elements));
				ComputeCost { fixed, per_element }
			},
			_ if dynamic && elements > 0 => ComputeCost {
				fixed: 0,
				per_element: FixedU64::from_rational(u128::from(operations), u128::from(elements)),
			},
			_ => ComputeCost { fixed: operations, per_element: FixedU64::zero() },
		}
	}

	/// The operations of a job whose inputs hold `elements` elements in all.
	pub fn operations(&self, elements: u64) -> u64 {
		self.fixed.saturating_add(self.per_element.saturating_mul_int(elements))
	}
}

/// Why a model was rejected.
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
pub enum RejectionReason {
	/// A quorum of validators attested a failure; this is the most reported reason.
	Attested(AttestationFailure),
	/// The registry's admin rejected it.
	Admin,
}

/// Where a model is in its life.
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
pub enum ModelStatus {
	/// Registered, waiting for a quorum of validator attestations. No job may use it yet.
	Pending,
	/// Attested by a quorum: jobs may use it.
	Active,
	/// Rejected; no job may use it. Its owner can remove the record to get the rest of the
	/// deposit back.
	Rejected(RejectionReason),
	/// Withdrawn by its owner: no new jobs, running jobs finish.
	Deprecated,
	/// Banned by the admin; its hash cannot be registered again.
	Banned,
}

/// A registered model, as stored by the model registry and returned by its runtime API.
#[derive(
	Clone, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, PartialEq, Eq, Debug,
)]
pub struct ModelInfo<AccountId, Balance, BlockNumber> {
	/// Who registered it (or received it); gets the price of every job and owns the deposit.
	pub owner: AccountId,
	/// Its name; one owner's (name, version) pairs are unique.
	pub name: ModelName,
	/// Its version.
	pub version: ModelVersion,
	/// The blake2-256 hash of the ONNX file.
	pub hash: H256,
	/// The ONNX file's size in bytes.
	pub size: u64,
	/// Where the bytes are.
	pub location: ModelLocation,
	/// Its declared inputs and outputs.
	pub signature: ModelSignature,
	/// How its outputs are compared.
	pub determinism: Determinism,
	/// What a job pays its owner per inference.
	pub price: Balance,
	/// Free text, e.g. a license or a model card URI.
	pub description: ModelDescription,
	/// Where it is in its life.
	pub status: ModelStatus,
	/// The deposit held from the owner for what it stores on chain.
	pub deposit: Balance,
	/// The block it was registered in.
	pub registered_at: BlockNumber,
}

/// Attestations so far of a pending model.
#[derive(Clone, Encode, Decode, TypeInfo, PartialEq, Eq, Debug)]
pub struct AttestationTally {
	/// Validators that attested it loads.
	pub loads: u32,
	/// Validators that attested it fails, whatever the reason.
	pub fails: u32,
	/// How many of either side decide, for the active set as it is now.
	pub threshold: u32,
}

/// One page of the model list (see `ModelRegistryApi::models`).
#[derive(Clone, Encode, Decode, TypeInfo, PartialEq, Eq, Debug)]
pub struct ModelPage<AccountId, Balance, BlockNumber> {
	/// The models found, in id order.
	pub models: alloc::vec::Vec<(ModelId, ModelInfo<AccountId, Balance, BlockNumber>)>,
	/// Where the next page starts, or `None` when there are no more models.
	pub next: Option<ModelId>,
}

#[cfg(test)]
mod tests {
	use super::*;
	use alloc::{vec, vec::Vec};

	fn tensor(name: &str, shape: &[Dim]) -> TensorSpec {
		TensorSpec {
			name: name.as_bytes().to_vec().try_into().unwrap(),
			dtype: DType::F32,
			shape: shape.to_vec().try_into().unwrap(),
		}
	}

	fn signature(inputs: Vec<TensorSpec>, outputs: Vec<TensorSpec>) -> ModelSignature {
		ModelSignature {
			inputs: inputs.try_into().unwrap(),
			outputs: outputs.try_into().unwrap(),
			symbols: Default::default(),
		}
	}

	#[test]
	fn element_sizes_follow_the_onnx_types() {
		assert_eq!(DType::Bool.size_in_bytes(), 1);
		assert_eq!(DType::F16.size_in_bytes(), 2);
		assert_eq!(DType::F32.size_in_bytes(), 4);
		assert_eq!(DType::I64.size_in_bytes(), 8);
		assert!(DType::F16.is_float() && !DType::I8.is_float());
	}

	#[test]
	fn a_signature_names_its_tensors_once_and_has_no_empty_dimension() {
		let input = tensor("input", &[Dim::Dynamic, Dim::Fixed(4)]);
		let output = tensor("output", &[Dim::Dynamic, Dim::Fixed(3)]);
		assert_eq!(signature(vec![input.clone()], vec![output.clone()]).validate(), Ok(()));
		// An input and an output may share a name; two inputs may not.
		assert_eq!(signature(vec![input.clone()], vec![tensor("input", &[])]).validate(), Ok(()));
		assert_eq!(
			signature(vec![input.clone(), input], vec![output.clone()]).validate(),
			Err(SignatureError::DuplicateName)
		);
		assert_eq!(
			signature(vec![], vec![output.clone()]).validate(),
			Err(SignatureError::NoTensors)
		);
		assert_eq!(
			signature(vec![tensor("", &[])], vec![output.clone()]).validate(),
			Err(SignatureError::EmptyName)
		);
		assert_eq!(
			signature(vec![tensor("x", &[Dim::Fixed(0)])], vec![output]).validate(),
			Err(SignatureError::ZeroDimension)
		);
	}

	#[test]
	fn scaled_example_shapes_keep_fixed_dimensions() {
		let mut with_symbol = signature(
			vec![tensor("x", &[Dim::Symbol(0), Dim::Fixed(3), Dim::Dynamic])],
			vec![tensor("y", &[Dim::Symbol(0)])],
		);
		with_symbol.symbols =
			vec![SymbolSpec { name: b"batch".to_vec().try_into().unwrap(), example: 4 }]
				.try_into()
				.unwrap();
		assert_eq!(with_symbol.example_shapes(), vec![vec![4, 3, 1]]);
		assert_eq!(with_symbol.scaled_example_shapes(2), vec![vec![8, 3, 2]]);
		assert!(with_symbol.has_dynamic_inputs());
		let fixed = signature(vec![tensor("x", &[Dim::Fixed(2)])], vec![tensor("y", &[])]);
		assert_eq!(fixed.scaled_example_shapes(2), vec![vec![2]]);
		assert!(!fixed.has_dynamic_inputs());
	}

	#[test]
	fn a_compute_cost_is_the_line_through_its_two_points() {
		let per = |n: u128, d: u128| FixedU64::from_rational(n, d);
		// 100 + 10 per element, measured at 4 and 8 elements.
		let line = ComputeCost::from_points((4, 140), Some((8, 180)), true);
		assert_eq!(line, ComputeCost { fixed: 100, per_element: per(10, 1) });
		assert_eq!(line.operations(1_000), 10_100);
		// Fractions of an operation per element are kept: 2,484 a row of 64.
		let rows = ComputeCost::from_points((64, 2_484), Some((128, 4_968)), true);
		assert_eq!(rows, ComputeCost { fixed: 0, per_element: per(2_484, 64) });
		assert_eq!(rows.operations(64 * 1_000), 2_484_000);
		// A graph that costs less at the larger shape is priced through 0.
		assert_eq!(
			ComputeCost::from_points((4, 140), Some((8, 100)), true),
			ComputeCost { fixed: 0, per_element: per(140, 4) }
		);
		// Without a second point, a dynamic model is priced through 0 too.
		assert_eq!(
			ComputeCost::from_points((4, 141), None, true),
			ComputeCost { fixed: 0, per_element: per(141, 4) }
		);
		// A fixed-size model is its one point.
		assert_eq!(
			ComputeCost::from_points((4, 141), None, false),
			ComputeCost { fixed: 141, per_element: FixedU64::zero() }
		);
		assert_eq!(ComputeCost { fixed: u64::MAX, per_element: per(2, 1) }.operations(3), u64::MAX);
	}
}
