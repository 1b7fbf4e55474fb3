//! Inference jobs as the chain knows them: the tensors that go in and come out, the errors a
//! validator can report instead of an output, what a job costs, and how it ends.
//!
//! Tensors are little-endian element bytes with a dtype and a shape, the same encoding for inputs
//! that users submit and for outputs that validators reveal. The byte bounds here are the hard caps
//! of the codec types; each runtime may enforce lower limits (the jobs pallet's `MaxInputBytes`).

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::{ConstU32, H256};
use sp_runtime::BoundedVec;

use crate::model::{DType, Dim, ModelId, ModelSignature, TensorSpec, MAX_TENSOR_RANK};

/// The id of a job, given in submission order from 0.
pub type JobId = u64;

/// The most bytes of element data in a job's input tensor (64 KiB: a 128x128 RGB image in u8,
/// or 16 Ki f32 values).
pub const MAX_INPUT_BYTES: u32 = 64 * 1024;
/// The most bytes of element data in a revealed output tensor (16 KiB: 4 Ki f32 values, far more
/// than a classifier's scores).
pub const MAX_OUTPUT_BYTES: u32 = 16 * 1024;

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

/// A job's input.
pub type InputTensor = Tensor<MAX_INPUT_BYTES>;
/// A revealed output.
pub type OutputTensor = Tensor<MAX_OUTPUT_BYTES>;

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
	/// Not one tensor per declared input.
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
		Self(alloc::vec![None; signature.symbols.len()])
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

/// Checks a job's inputs against a model's signature: one tensor per declared input, in declared
/// order, each fitting its spec, and each symbol the same size wherever the inputs name it.
/// Returns the sizes the inputs give the symbols.
pub fn check_inputs<const MAX_BYTES: u32>(
	signature: &ModelSignature,
	inputs: &[Tensor<MAX_BYTES>],
) -> Result<SymbolSizes, TensorError> {
	if inputs.len() != signature.inputs.len() {
		return Err(TensorError::CountMismatch);
	}
	let mut sizes = SymbolSizes::new(signature);
	for (tensor, spec) in inputs.iter().zip(signature.inputs.iter()) {
		tensor.check_against(spec)?;
		sizes.bind(spec, &tensor.shape)?;
	}
	Ok(sizes)
}

impl<const MAX_BYTES: u32> Tensor<MAX_BYTES> {
	/// The number of elements its shape holds, `None` on overflow.
	pub fn element_count(&self) -> Option<u64> {
		self.shape
			.iter()
			.try_fold(1u64, |count, dim| count.checked_mul(u64::from(*dim)))
	}

	/// Checks the tensor against a declared spec: same dtype and rank, every fixed dimension
	/// equal, no dimension 0, and exactly as many data bytes as the shape needs.
	pub fn check_against(&self, spec: &TensorSpec) -> Result<(), TensorError> {
		if self.dtype != spec.dtype {
			return Err(TensorError::DTypeMismatch);
		}
		if self.shape.len() != spec.shape.len() {
			return Err(TensorError::RankMismatch);
		}
		for (actual, declared) in self.shape.iter().zip(spec.shape.iter()) {
			let fits = match declared {
				Dim::Fixed(size) => actual == size,
				Dim::Dynamic | Dim::Symbol(_) => true,
			};
			if !fits || *actual == 0 {
				return Err(TensorError::ShapeMismatch);
			}
		}
		let expected = self
			.element_count()
			.and_then(|count| count.checked_mul(u64::from(self.dtype.size_in_bytes())))
			.ok_or(TensorError::DataLengthMismatch)?;
		if expected != self.data.len() as u64 {
			return Err(TensorError::DataLengthMismatch);
		}
		Ok(())
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
}

/// What an executor reveals: the model's first declared output, or the error it ran into.
#[derive(
	Clone, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, PartialEq, Eq, Debug,
)]
pub enum InferenceOutput {
	Tensor(OutputTensor),
	Error(InferenceError),
}

/// What a job holds from its submitter until it ends.
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
	/// `model_price + replicas x executor_fee`: what is held at submission.
	pub total: Balance,
}

/// Why a job failed. A failed job refunds its whole escrow.
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
}

/// Where a job is in its life. It ends in exactly one of the last four.
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
}

impl JobStatus {
	/// Whether the job has ended (and its escrow been released).
	pub fn is_final(&self) -> bool {
		!matches!(self, JobStatus::Running { .. })
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
}
