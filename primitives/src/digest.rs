//! Digests and comparisons of revealed outputs under a model's determinism class, computed the
//! same way by the runtime (on reveal and tally) and by validators (before they commit).
//!
//! No float arithmetic: every element is read from its little-endian bytes into a signed
//! fixed-point number with 64 fractional bits (`Q64`, in an `i128`) using integer operations on the
//! IEEE-754 bit pattern, so every node reaches the same verdict. Magnitudes are clamped to
//! `2^62` (values beyond are equal for comparison purposes, and no model worth verifying outputs
//! them); bits below `2^-64` are truncated. NaN and infinities are kept as their bit patterns and
//! only ever equal to themselves.
//!
//! A reveal holds every output of the model; the digest covers all of them, in order, and two
//! reveals agree only when every output agrees.
//! - [`Determinism::Exact`]: the digest hashes the outputs' canonical encoding; two reveals agree
//!   when their digests are equal.
//! - [`Determinism::Tolerance`]: the digest hashes every element of every output rounded to the
//!   grid of step `abs` (exact fixed point when `abs` is 0). Two honest outputs near a grid edge
//!   can round apart, so reveals whose digests differ are then compared element by element: they
//!   agree when every output has the same dtype and shape as the other's and
//!   `|a - b| <= abs + rel x max(|a|, |b|)` for every element. Integer outputs are compared the
//!   same way (a tolerance below 1 keeps them exact).
//! - An error hashes its code, under either class, and agrees only with the same error.
//!
//! Outputs revealed by content ([`InferenceOutput::Content`]) are compared through leaves: each
//! output's bytes are cut in [`LEAF_BYTES`] slices, in order, and each slice hashed (its exact
//! bytes under `Exact`, its elements on the grid under `Tolerance`, as above) into a leaf of a
//! Merkle tree ([`crate::merkle`]) over every leaf of every output. The digest hashes the outputs'
//! dtypes and shapes with the tree's root, which the executor computed and the reveal names. Equal
//! digests agree at once; otherwise, under `Tolerance`, two such outputs of the same dtypes and
//! shapes agree only if someone proves it by revealing the leaves where they differ
//! ([`crate::dispute`]), so [`agreement`] says [`Agreement::NeedsProof`].

use alloc::vec::Vec;
use codec::Encode;
use sp_core::H256;
use sp_runtime::traits::{BlakeTwo256, Hash};

use crate::{
	job::InferenceOutput,
	model::{DType, Determinism},
};

/// One bit above the largest magnitude kept, in Q64 (`2^62` as a real number).
const Q64_CLAMP: i128 = 1i128 << 126;
/// One, in Q64.
const Q64_ONE: i128 = 1i128 << 64;

/// An element as the comparison sees it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Element {
	/// A finite value in Q64, clamped to `±2^62`.
	Finite(i128),
	/// NaN or an infinity, by its bit pattern.
	NonFinite(u64),
}

/// `mantissa x 2^exponent`, negated when `negative`, in clamped Q64.
fn q64_from_parts(negative: bool, mantissa: u64, exponent: i32) -> i128 {
	let shift = exponent.saturating_add(64);
	let magnitude: i128 = if mantissa == 0 {
		0
	} else if shift >= 0 {
		let bits = 64i32.saturating_sub(mantissa.leading_zeros() as i32);
		if bits.saturating_add(shift) > 126 {
			Q64_CLAMP
		} else {
			i128::from(mantissa) << shift
		}
	} else {
		let right = shift.unsigned_abs();
		if right >= 64 {
			0
		} else {
			i128::from(mantissa >> right)
		}
	};
	// `magnitude` is within `0..=Q64_CLAMP`, so its negation is exact.
	if negative {
		magnitude.saturating_neg()
	} else {
		magnitude
	}
}

/// An IEEE-754 binary float with `exponent_bits` and `mantissa_bits`, from its bits.
///
/// Called only with the widths of f16, f32 and f64, for which none of the saturating operations
/// below saturates.
fn element_from_float(bits: u64, exponent_bits: u32, mantissa_bits: u32) -> Element {
	let mantissa_mask = (1u64 << mantissa_bits).saturating_sub(1);
	let exponent_mask = (1u64 << exponent_bits).saturating_sub(1);
	let negative = (bits >> exponent_bits.saturating_add(mantissa_bits)) & 1 == 1;
	let biased = (bits >> mantissa_bits) & exponent_mask;
	let fraction = bits & mantissa_mask;
	let bias = (1i32 << exponent_bits.saturating_sub(1)).saturating_sub(1);
	if biased == exponent_mask {
		return Element::NonFinite(bits);
	}
	// Subnormals have no implicit leading one and the smallest normal exponent.
	let (mantissa, exponent) = if biased == 0 {
		(fraction, 1i32.saturating_sub(bias).saturating_sub(mantissa_bits as i32))
	} else {
		(
			fraction | (1u64 << mantissa_bits),
			(biased as i32).saturating_sub(bias).saturating_sub(mantissa_bits as i32),
		)
	};
	Element::Finite(q64_from_parts(negative, mantissa, exponent))
}

fn element_from_int(value: i128) -> Element {
	Element::Finite(value.saturating_mul(Q64_ONE).clamp(-Q64_CLAMP, Q64_CLAMP))
}

/// The elements of `dtype` in `bytes`. A ragged tail (which [`OutputTensor::check_against`]
/// refuses) is ignored.
fn elements_of(dtype: DType, bytes: &[u8]) -> impl Iterator<Item = Element> + '_ {
	bytes.chunks_exact(dtype.size_in_bytes() as usize).map(move |chunk| {
		let mut buffer = [0u8; 8];
		if let Some(prefix) = buffer.get_mut(..chunk.len()) {
			prefix.copy_from_slice(chunk);
		}
		let raw = u64::from_le_bytes(buffer);
		match dtype {
			DType::F16 => element_from_float(raw, 5, 10),
			DType::F32 => element_from_float(raw, 8, 23),
			DType::F64 => element_from_float(raw, 11, 52),
			DType::I8 => element_from_int(i128::from(raw as u8 as i8)),
			DType::I16 => element_from_int(i128::from(raw as u16 as i16)),
			DType::I32 => element_from_int(i128::from(raw as u32 as i32)),
			DType::I64 => element_from_int(i128::from(raw as i64)),
			DType::U8 | DType::U16 | DType::U32 | DType::U64 | DType::Bool => {
				element_from_int(i128::from(raw))
			},
		}
	})
}

/// `abs` as a Q64 magnitude.
fn abs_tolerance_q64(abs: sp_runtime::FixedU64) -> u128 {
	use sp_runtime::FixedPointNumber;
	// `DIV` (10^9) is never zero.
	(u128::from(abs.into_inner()) << 64)
		.checked_div(u128::from(sp_runtime::FixedU64::DIV))
		.unwrap_or(0)
}

/// `value` rounded (half away from zero) to a multiple of `grid`, as a count of grid steps.
fn quantise(value: i128, grid: u128) -> i128 {
	let Ok(grid) = i128::try_from(grid) else { return 0 };
	if grid == 0 {
		return value;
	}
	let half = grid / 2;
	let shifted = if value < 0 { value.saturating_sub(half) } else { value.saturating_add(half) };
	// `grid` is positive here, so the division cannot fail.
	shifted.checked_div(grid).unwrap_or(value)
}

/// Appends the grid encoding of the elements of `dtype` in `bytes`: per element a tag and its
/// quantised value, or its bits when not finite.
fn encode_on_grid(dtype: DType, bytes: &[u8], grid: u128, preimage: &mut Vec<u8>) {
	for element in elements_of(dtype, bytes) {
		match element {
			Element::Finite(value) => {
				preimage.push(0);
				preimage.extend_from_slice(&quantise(value, grid).to_le_bytes());
			},
			Element::NonFinite(bits) => {
				preimage.push(1);
				preimage.extend_from_slice(&bits.to_le_bytes());
			},
		}
	}
}

/// The digest of a revealed output under `determinism`.
pub fn output_digest(output: &InferenceOutput, determinism: &Determinism) -> H256 {
	let preimage = match (output, determinism) {
		(InferenceOutput::Error(error), _) => (b"gateless/error", error).encode(),
		(InferenceOutput::Tensors(tensors), Determinism::Exact) => {
			(b"gateless/exact", tensors).encode()
		},
		(InferenceOutput::Tensors(tensors), Determinism::Tolerance { abs, .. }) => {
			let grid = abs_tolerance_q64(*abs);
			let mut preimage = (b"gateless/grid", codec::Compact(tensors.len() as u32)).encode();
			for tensor in tensors.iter() {
				(tensor.dtype, &tensor.shape).encode_to(&mut preimage);
				encode_on_grid(tensor.dtype, &tensor.data, grid, &mut preimage);
			}
			preimage
		},
		(InferenceOutput::Content { tensors, root }, _) => {
			let metas: Vec<(DType, &[u32])> =
				tensors.iter().map(|tensor| (tensor.dtype, &tensor.shape[..])).collect();
			(b"gateless/tree", metas, root).encode()
		},
	};
	BlakeTwo256::hash(&preimage)
}

/// The size of a leaf's slice of an output's bytes (64 KiB; the last slice of an output may be
/// shorter). A multiple of every element size, so that no element straddles two leaves.
pub const LEAF_BYTES: u32 = 64 * 1024;

/// The most leaves outputs of [`crate::job::MAX_OUTPUT_BYTES`] together may have: one per full
/// slice, and one partial slice per output at most.
pub const MAX_LEAVES: u32 =
	(crate::job::MAX_OUTPUT_BYTES / LEAF_BYTES as u64) as u32 + crate::model::MAX_MODEL_TENSORS;

/// How many leaves outputs of these byte lengths have (at least one each); `None` beyond
/// [`MAX_LEAVES`].
pub fn leaf_count(lens: impl IntoIterator<Item = u64>) -> Option<u32> {
	let count = lens.into_iter().try_fold(0u64, |count, len| {
		count.checked_add(len.div_ceil(u64::from(LEAF_BYTES)).max(1))
	})?;
	u32::try_from(count).ok().filter(|count| *count <= MAX_LEAVES)
}

/// Where leaf `index` of outputs of these byte lengths is: the output and the byte range of its
/// slice.
pub fn locate_leaf(lens: &[u64], index: u32) -> Option<(usize, core::ops::Range<u64>)> {
	let mut first = 0u64;
	for (output, len) in lens.iter().enumerate() {
		let leaves = len.div_ceil(u64::from(LEAF_BYTES)).max(1);
		let within = u64::from(index).checked_sub(first)?;
		if within < leaves {
			let start = within.checked_mul(u64::from(LEAF_BYTES))?;
			let end = start.saturating_add(u64::from(LEAF_BYTES)).min(*len);
			return Some((output, start..end));
		}
		first = first.checked_add(leaves)?;
	}
	None
}

/// The leaf of a slice of an output of `dtype` under `determinism`.
pub fn leaf(dtype: DType, slice: &[u8], determinism: &Determinism) -> H256 {
	match determinism {
		Determinism::Exact => crate::merkle::leaf_hash(slice),
		Determinism::Tolerance { abs, .. } => {
			let mut preimage = Vec::with_capacity(slice.len().saturating_mul(4));
			encode_on_grid(dtype, slice, abs_tolerance_q64(*abs), &mut preimage);
			crate::merkle::leaf_hash(&preimage)
		},
	}
}

/// The leaves of outputs (each its dtype and bytes), in order.
pub fn output_leaves<'a>(
	outputs: impl IntoIterator<Item = (DType, &'a [u8])>,
	determinism: &Determinism,
) -> Vec<H256> {
	let mut leaves = Vec::new();
	for (dtype, bytes) in outputs {
		if bytes.is_empty() {
			leaves.push(leaf(dtype, bytes, determinism));
		}
		for slice in bytes.chunks(LEAF_BYTES as usize) {
			leaves.push(leaf(dtype, slice, determinism));
		}
	}
	leaves
}

/// Whether two slices of outputs of `dtype` agree element by element under `determinism`: equal
/// bytes, or under a tolerance every element within it of the other's.
pub fn slices_agree(dtype: DType, a: &[u8], b: &[u8], determinism: &Determinism) -> bool {
	if a == b {
		return true;
	}
	match determinism {
		Determinism::Exact => false,
		Determinism::Tolerance { abs, rel } => {
			let abs = abs_tolerance_q64(*abs);
			a.len() == b.len()
				&& elements_of(dtype, a)
					.zip(elements_of(dtype, b))
					.all(|(x, y)| elements_agree(x, y, abs, *rel))
		},
	}
}

/// What an executor commits to: `blake2_256(digest ++ salt ++ executor)`, so that the commitment
/// reveals nothing and cannot be copied by another executor.
pub fn commitment(digest: &H256, salt: &[u8; 32], executor: &impl Encode) -> H256 {
	let mut preimage = digest.as_bytes().to_vec();
	preimage.extend_from_slice(salt);
	executor.encode_to(&mut preimage);
	BlakeTwo256::hash(&preimage)
}

fn elements_agree(a: Element, b: Element, abs: u128, rel: sp_runtime::Perbill) -> bool {
	match (a, b) {
		(Element::Finite(a), Element::Finite(b)) => {
			let larger = a.unsigned_abs().max(b.unsigned_abs());
			a.abs_diff(b) <= abs.saturating_add(rel.mul_floor(larger))
		},
		(Element::NonFinite(a), Element::NonFinite(b)) => a == b,
		_ => false,
	}
}

/// How two reveals compare, as far as the reveals alone tell.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Agreement {
	/// They agree.
	Agree,
	/// They do not.
	Disagree,
	/// Outputs by content, of the same dtypes and shapes, with different digests under a
	/// tolerance: they agree only if a proof shows it ([`crate::dispute`]).
	NeedsProof,
}

/// How two reveals compare under `determinism`: equal digests agree; under
/// [`Determinism::Tolerance`], inline outputs agree when there are as many, each of one dtype and
/// shape as the other's, every element within the tolerance of the other's, and outputs by
/// content of the same dtypes and shapes need a proof.
pub fn agreement(
	a: &InferenceOutput,
	a_digest: &H256,
	b: &InferenceOutput,
	b_digest: &H256,
	determinism: &Determinism,
) -> Agreement {
	if a_digest == b_digest {
		return Agreement::Agree;
	}
	let Determinism::Tolerance { .. } = determinism else { return Agreement::Disagree };
	match (a, b) {
		(InferenceOutput::Tensors(a), InferenceOutput::Tensors(b)) if a.len() == b.len() => {
			let agree = a.iter().zip(b.iter()).all(|(a, b)| {
				a.dtype == b.dtype
					&& a.shape == b.shape
					&& slices_agree(a.dtype, &a.data, &b.data, determinism)
			});
			if agree {
				Agreement::Agree
			} else {
				Agreement::Disagree
			}
		},
		(
			InferenceOutput::Content { tensors: a, .. },
			InferenceOutput::Content { tensors: b, .. },
		) if a.len() == b.len()
			&& a.iter().zip(b.iter()).all(|(a, b)| a.dtype == b.dtype && a.shape == b.shape) =>
		{
			Agreement::NeedsProof
		},
		_ => Agreement::Disagree,
	}
}

/// Whether two reveals agree under `determinism` without a proof (see [`agreement`]).
pub fn outputs_agree(
	a: &InferenceOutput,
	a_digest: &H256,
	b: &InferenceOutput,
	b_digest: &H256,
	determinism: &Determinism,
) -> bool {
	agreement(a, a_digest, b, b_digest, determinism) == Agreement::Agree
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::job::{InferenceError, OutputTensor, Tensor, TensorList};
	use alloc::vec::Vec;
	use sp_runtime::{FixedU64, Perbill};

	fn f32_tensor(values: &[f32]) -> OutputTensor {
		let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
		Tensor {
			dtype: DType::F32,
			shape: [values.len() as u32].to_vec().try_into().unwrap(),
			data: data.try_into().unwrap(),
		}
	}

	fn f32_output(values: &[f32]) -> InferenceOutput {
		outputs(&[values])
	}

	fn outputs(tensors: &[&[f32]]) -> InferenceOutput {
		InferenceOutput::Tensors(
			TensorList::new(tensors.iter().map(|values| f32_tensor(values)).collect()).unwrap(),
		)
	}

	fn tolerance(abs: f64, rel_ppb: u32) -> Determinism {
		Determinism::Tolerance { abs: FixedU64::from_float(abs), rel: Perbill::from_parts(rel_ppb) }
	}

	fn agree(a: &InferenceOutput, b: &InferenceOutput, determinism: &Determinism) -> bool {
		outputs_agree(
			a,
			&output_digest(a, determinism),
			b,
			&output_digest(b, determinism),
			determinism,
		)
	}

	#[test]
	fn floats_read_from_their_bits_match_their_values() {
		for value in [0.0f64, 1.0, -1.0, 0.5, 3.25, -1234.5678, 1e-12, 6.1e-5, 1e15] {
			let Element::Finite(q) = element_from_float(value.to_bits(), 11, 52) else {
				panic!("finite")
			};
			let back = q as f64 / (Q64_ONE as f64);
			assert!((back - value).abs() <= value.abs() * 1e-15 + 1e-18, "{value} -> {back}");
			let Element::Finite(q32) =
				element_from_float(u64::from((value as f32).to_bits()), 8, 23)
			else {
				panic!("finite")
			};
			assert_eq!(q32 as f64 / (Q64_ONE as f64), f64::from(value as f32));
		}
		// f16 1.5 is 0x3e00; the smallest subnormal f16 is 2^-24.
		assert_eq!(element_from_float(0x3e00, 5, 10), Element::Finite(Q64_ONE + Q64_ONE / 2));
		assert_eq!(element_from_float(0x0001, 5, 10), Element::Finite(1i128 << 40));
		assert_eq!(
			element_from_float(f32::INFINITY.to_bits().into(), 8, 23),
			Element::NonFinite(f32::INFINITY.to_bits().into())
		);
		assert_eq!(element_from_float(f64::MAX.to_bits(), 11, 52), Element::Finite(Q64_CLAMP));
	}

	#[test]
	fn exact_outputs_agree_only_bit_for_bit() {
		let a = f32_output(&[0.25, 0.75]);
		let b = f32_output(&[0.25, 0.750_000_06]);
		assert!(agree(&a, &a.clone(), &Determinism::Exact));
		assert!(!agree(&a, &b, &Determinism::Exact));
		assert_ne!(output_digest(&a, &Determinism::Exact), output_digest(&b, &Determinism::Exact));
	}

	#[test]
	fn tolerance_keeps_honest_outputs_together_and_an_outlier_apart() {
		let class = tolerance(1e-4, 0);
		let honest = f32_output(&[0.1, 0.7, 0.2]);
		let other_cpu = f32_output(&[0.100_008, 0.699_995, 0.2]);
		let outlier = f32_output(&[0.1, 0.9, 0.0]);
		assert!(agree(&honest, &other_cpu, &class));
		assert!(!agree(&honest, &outlier, &class));
		// Values within the tolerance but on either side of a grid edge (0.00015 with a grid of
		// 0.0001) hash apart and still agree element-wise.
		let below = f32_output(&[0.000_149_9]);
		let above = f32_output(&[0.000_150_1]);
		assert_ne!(output_digest(&below, &class), output_digest(&above, &class));
		assert!(agree(&below, &above, &class));
		// Far from edges, nearby values share a digest.
		assert_eq!(
			output_digest(&f32_output(&[0.300_001]), &class),
			output_digest(&f32_output(&[0.299_999]), &class)
		);
	}

	#[test]
	fn relative_tolerance_scales_with_the_magnitude() {
		let class = tolerance(0.0, 1_000_000); // 0.1 %
		assert!(agree(&f32_output(&[1000.0]), &f32_output(&[1000.9]), &class));
		assert!(!agree(&f32_output(&[1000.0]), &f32_output(&[1001.1]), &class));
		assert!(!agree(&f32_output(&[0.001]), &f32_output(&[0.0011]), &class));
	}

	#[test]
	fn several_outputs_agree_only_when_every_one_does() {
		let class = tolerance(1e-4, 0);
		let honest = outputs(&[&[0.1, 0.7], &[3.0]]);
		let other_cpu = outputs(&[&[0.100_008, 0.699_995], &[3.000_01]]);
		let second_off = outputs(&[&[0.1, 0.7], &[3.5]]);
		let first_only = outputs(&[&[0.1, 0.7]]);
		let swapped = outputs(&[&[3.0], &[0.1, 0.7]]);
		assert!(agree(&honest, &other_cpu, &class));
		assert!(!agree(&honest, &second_off, &class));
		assert!(!agree(&honest, &first_only, &class));
		assert!(!agree(&honest, &swapped, &class));
		assert!(!agree(&honest, &second_off, &Determinism::Exact));
		// The digest covers where one output ends and the next starts.
		assert_ne!(
			output_digest(&outputs(&[&[1.0, 2.0], &[3.0]]), &class),
			output_digest(&outputs(&[&[1.0], &[2.0, 3.0]]), &class)
		);
	}

	#[test]
	fn errors_agree_only_with_the_same_error_and_never_with_tensors() {
		let class = tolerance(1.0, 0);
		let timeout = InferenceOutput::Error(InferenceError::Timeout);
		let bad_input = InferenceOutput::Error(InferenceError::BadInput);
		assert!(agree(&timeout, &timeout.clone(), &class));
		assert!(!agree(&timeout, &bad_input, &class));
		assert!(!agree(&timeout, &f32_output(&[0.0]), &class));
	}

	#[test]
	fn non_finite_values_agree_only_with_the_same_bits() {
		let class = tolerance(1.0, 0);
		assert!(agree(&f32_output(&[f32::INFINITY]), &f32_output(&[f32::INFINITY]), &class));
		assert!(!agree(&f32_output(&[f32::INFINITY]), &f32_output(&[f32::MAX]), &class));
		assert!(!agree(&f32_output(&[f32::NAN]), &f32_output(&[0.0]), &class));
	}

	#[test]
	fn a_commitment_binds_digest_salt_and_executor() {
		let digest = H256::repeat_byte(7);
		let base = commitment(&digest, &[1; 32], &1u64);
		assert_ne!(base, commitment(&H256::repeat_byte(8), &[1; 32], &1u64));
		assert_ne!(base, commitment(&digest, &[2; 32], &1u64));
		assert_ne!(base, commitment(&digest, &[1; 32], &2u64));
	}
}
