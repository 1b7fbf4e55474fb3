//! Proofs that settle how two outputs revealed by content compare under a tolerance, with bounded
//! work on chain.
//!
//! Two such outputs with different digests ([`crate::digest::Agreement::NeedsProof`]) are compared
//! by their leaves, which the chain does not have. Whoever holds both outputs (an executor fetches
//! the other's from the nodes that provide it) finds the leaves where their trees differ and
//! proves one of three things:
//! - [`DisputeProof::Agree`]: the trees differ only at the revealed leaves (at most
//!   [`MAX_DISPUTE_LEAVES`]; one list of shared siblings gives both roots, see [`crate::merkle`]),
//!   and the revealed slices, each checked against its leaf, agree element by element;
//! - [`DisputeProof::Disagree`]: at one leaf, each checked against its own tree, the slices differ
//!   beyond the tolerance;
//! - [`DisputeProof::Undecided`]: more than [`MAX_DISPUTE_LEAVES`] leaves differ (their hashes,
//!   each checked against its own tree), too many to compare on chain.
//!
//! A disagreement outweighs the others: an output that differs slightly almost everywhere and
//! beyond the tolerance somewhere is shown to disagree by anyone who finds the place.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::{ConstU32, H256};
use sp_runtime::BoundedVec;

use crate::{
	digest::{leaf, leaf_count, locate_leaf, slices_agree, LEAF_BYTES, MAX_LEAVES},
	job::InferenceOutput,
	merkle::{self, Tree},
	model::{DType, Determinism},
};

/// The most differing leaves an agreement proof reveals (4, so at most 512 KiB of slices).
pub const MAX_DISPUTE_LEAVES: u32 = 4;

/// The most siblings one proof lists per tree: a path of the deepest tree for each leaf it
/// proves.
pub const MAX_PROOF_SIBLINGS: u32 = (MAX_DISPUTE_LEAVES + 1) * (MAX_LEAVES.ilog2() + 1);

/// The bytes of one leaf's slice.
pub type Slice = BoundedVec<u8, ConstU32<LEAF_BYTES>>;
/// Siblings of a [`merkle::Tree::proof`].
pub type Siblings = BoundedVec<H256, ConstU32<MAX_PROOF_SIBLINGS>>;

/// One leaf of both outputs: its index and each output's slice there.
#[derive(
	Clone, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, PartialEq, Eq, Debug,
)]
pub struct LeafPair {
	pub index: u32,
	/// The reference output's slice.
	pub reference: Slice,
	/// The other output's slice.
	pub other: Slice,
}

/// What a proof shows of two outputs revealed by content: see the module docs.
#[derive(
	Clone, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, PartialEq, Eq, Debug,
)]
pub enum DisputeProof {
	/// The trees differ only at `leaves` (ascending), proven by `siblings` shared by both trees,
	/// and the slices there agree.
	#[codec(index = 0)]
	Agree { leaves: BoundedVec<LeafPair, ConstU32<MAX_DISPUTE_LEAVES>>, siblings: Siblings },
	/// The slices at `leaf` disagree; each tree's path proves its slice.
	#[codec(index = 1)]
	Disagree { leaf: LeafPair, reference_path: Siblings, other_path: Siblings },
	/// The trees differ at each of `leaves` (ascending indices with each tree's leaf hash), more
	/// than [`MAX_DISPUTE_LEAVES`]; each tree's siblings prove its hashes.
	#[codec(index = 2)]
	Undecided {
		leaves: BoundedVec<(u32, H256, H256), ConstU32<{ MAX_DISPUTE_LEAVES + 1 }>>,
		reference_siblings: Siblings,
		other_siblings: Siblings,
	},
}

/// What a valid proof settles.
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
pub enum Settlement {
	Agree,
	Disagree,
	/// Too many leaves differ to compare on chain.
	Undecided,
}

/// Why a proof settles nothing.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ProofError {
	/// The outputs are not two outputs by content of the same dtypes and shapes.
	NotComparable,
	/// A leaf index, slice length, sibling list or root does not check out.
	Invalid,
}

/// The dtype, length and root of each output that a proof is checked against.
struct Trees {
	dtypes: Vec<DType>,
	lens: Vec<u64>,
	leaves: u32,
	reference_root: H256,
	other_root: H256,
}

fn trees(reference: &InferenceOutput, other: &InferenceOutput) -> Result<Trees, ProofError> {
	let (
		InferenceOutput::Content { tensors: a, root: reference_root },
		InferenceOutput::Content { tensors: b, root: other_root },
	) = (reference, other)
	else {
		return Err(ProofError::NotComparable);
	};
	let (Some(a_metas), Some(b_metas)) = (reference.metas(), other.metas()) else {
		return Err(ProofError::NotComparable);
	};
	if a.len() != b.len() || a_metas != b_metas {
		return Err(ProofError::NotComparable);
	}
	let lens: Vec<u64> = a_metas.iter().map(|(_, _, len)| *len).collect();
	let leaves = leaf_count(lens.iter().copied()).ok_or(ProofError::NotComparable)?;
	Ok(Trees {
		dtypes: a_metas.iter().map(|(dtype, _, _)| *dtype).collect(),
		lens,
		leaves,
		reference_root: *reference_root,
		other_root: *other_root,
	})
}

impl Trees {
	/// The dtype of leaf `index`, and whether `slice` has the length of its slice.
	fn dtype_of(&self, index: u32, slice: &[u8]) -> Result<DType, ProofError> {
		let (output, range) = locate_leaf(&self.lens, index).ok_or(ProofError::Invalid)?;
		if range.end.saturating_sub(range.start) != slice.len() as u64 {
			return Err(ProofError::Invalid);
		}
		self.dtypes.get(output).copied().ok_or(ProofError::Invalid)
	}
}

fn check(valid: bool) -> Result<(), ProofError> {
	valid.then_some(()).ok_or(ProofError::Invalid)
}

/// What `proof` settles about `other` compared with `reference` under `determinism`.
pub fn judge(
	reference: &InferenceOutput,
	other: &InferenceOutput,
	proof: &DisputeProof,
	determinism: &Determinism,
) -> Result<Settlement, ProofError> {
	let trees = trees(reference, other)?;
	match proof {
		DisputeProof::Agree { leaves, siblings } => {
			let mut reference_known = Vec::with_capacity(leaves.len());
			let mut other_known = Vec::with_capacity(leaves.len());
			let mut agree = true;
			for pair in leaves.iter() {
				let dtype = trees.dtype_of(pair.index, &pair.reference)?;
				trees.dtype_of(pair.index, &pair.other)?;
				reference_known.push((pair.index, leaf(dtype, &pair.reference, determinism)));
				other_known.push((pair.index, leaf(dtype, &pair.other, determinism)));
				agree = agree && slices_agree(dtype, &pair.reference, &pair.other, determinism);
			}
			check(
				merkle::root(trees.leaves, &reference_known, siblings)
					== Some(trees.reference_root),
			)?;
			check(merkle::root(trees.leaves, &other_known, siblings) == Some(trees.other_root))?;
			// Slices that disagree, under shared siblings, are a disagreement all the same.
			Ok(if agree { Settlement::Agree } else { Settlement::Disagree })
		},
		DisputeProof::Disagree { leaf: pair, reference_path, other_path } => {
			let dtype = trees.dtype_of(pair.index, &pair.reference)?;
			trees.dtype_of(pair.index, &pair.other)?;
			let reference_leaf = leaf(dtype, &pair.reference, determinism);
			let other_leaf = leaf(dtype, &pair.other, determinism);
			check(
				merkle::root(trees.leaves, &[(pair.index, reference_leaf)], reference_path)
					== Some(trees.reference_root),
			)?;
			check(
				merkle::root(trees.leaves, &[(pair.index, other_leaf)], other_path)
					== Some(trees.other_root),
			)?;
			check(!slices_agree(dtype, &pair.reference, &pair.other, determinism))?;
			Ok(Settlement::Disagree)
		},
		DisputeProof::Undecided { leaves, reference_siblings, other_siblings } => {
			check(leaves.len() as u32 > MAX_DISPUTE_LEAVES)?;
			check(leaves.iter().all(|(_, reference, other)| reference != other))?;
			let reference_known: Vec<(u32, H256)> =
				leaves.iter().map(|(index, hash, _)| (*index, *hash)).collect();
			let other_known: Vec<(u32, H256)> =
				leaves.iter().map(|(index, _, hash)| (*index, *hash)).collect();
			check(
				merkle::root(trees.leaves, &reference_known, reference_siblings)
					== Some(trees.reference_root),
			)?;
			check(
				merkle::root(trees.leaves, &other_known, other_siblings) == Some(trees.other_root),
			)?;
			Ok(Settlement::Undecided)
		},
	}
}

/// The proof that settles how `other` compares with `reference` (each output's dtype and bytes, in
/// order, of the outputs whose reveals they are) under `determinism`: a disagreement where one
/// leaf's slices disagree, else an agreement when at most [`MAX_DISPUTE_LEAVES`] leaves differ,
/// else an undecided. `None` when the outputs do not have the same dtypes and lengths.
pub fn prove(
	reference: &[(DType, &[u8])],
	other: &[(DType, &[u8])],
	determinism: &Determinism,
) -> Option<DisputeProof> {
	let same_form = reference.len() == other.len()
		&& reference
			.iter()
			.zip(other)
			.all(|((a, a_bytes), (b, b_bytes))| a == b && a_bytes.len() == b_bytes.len());
	if !same_form {
		return None;
	}
	let reference_tree =
		Tree::new(crate::digest::output_leaves(reference.iter().copied(), determinism))?;
	let other_tree = Tree::new(crate::digest::output_leaves(other.iter().copied(), determinism))?;
	let lens: Vec<u64> = reference.iter().map(|(_, bytes)| bytes.len() as u64).collect();
	let slice = |outputs: &[(DType, &[u8])], index: u32| -> Option<(DType, Slice)> {
		let (output, range) = locate_leaf(&lens, index)?;
		let (dtype, bytes) = outputs.get(output)?;
		let bytes = bytes.get(range.start as usize..range.end as usize)?;
		Some((*dtype, BoundedVec::try_from(bytes.to_vec()).ok()?))
	};
	let differing: Vec<u32> = reference_tree
		.leaves()
		.iter()
		.zip(other_tree.leaves())
		.enumerate()
		.filter(|(_, (a, b))| a != b)
		.map(|(index, _)| index as u32)
		.collect();
	let mut pairs = Vec::new();
	for index in &differing {
		let (dtype, reference_slice) = slice(reference, *index)?;
		let (_, other_slice) = slice(other, *index)?;
		let agree = slices_agree(dtype, &reference_slice, &other_slice, determinism);
		let pair = LeafPair { index: *index, reference: reference_slice, other: other_slice };
		if !agree {
			return Some(DisputeProof::Disagree {
				reference_path: BoundedVec::try_from(reference_tree.proof(&[*index])?).ok()?,
				other_path: BoundedVec::try_from(other_tree.proof(&[*index])?).ok()?,
				leaf: pair,
			});
		}
		if pairs.len() < MAX_DISPUTE_LEAVES as usize {
			pairs.push(pair);
		}
	}
	if differing.len() <= MAX_DISPUTE_LEAVES as usize {
		let siblings = reference_tree.proof(&differing)?;
		return Some(DisputeProof::Agree {
			leaves: BoundedVec::try_from(pairs).ok()?,
			siblings: BoundedVec::try_from(siblings).ok()?,
		});
	}
	let shown: Vec<u32> = differing
		.into_iter()
		.take((MAX_DISPUTE_LEAVES as usize).saturating_add(1))
		.collect();
	let hashes = |tree: &Tree| -> Vec<H256> {
		shown
			.iter()
			.filter_map(|index| tree.leaves().get(*index as usize).copied())
			.collect()
	};
	let leaves = shown
		.iter()
		.zip(hashes(&reference_tree))
		.zip(hashes(&other_tree))
		.map(|((index, a), b)| (*index, a, b))
		.collect::<Vec<_>>();
	Some(DisputeProof::Undecided {
		leaves: BoundedVec::try_from(leaves).ok()?,
		reference_siblings: BoundedVec::try_from(reference_tree.proof(&shown)?).ok()?,
		other_siblings: BoundedVec::try_from(other_tree.proof(&shown)?).ok()?,
	})
}

/// The root of the tree over outputs' leaves (each output's dtype and bytes, in order).
pub fn output_root(outputs: &[(DType, &[u8])], determinism: &Determinism) -> Option<H256> {
	Tree::new(crate::digest::output_leaves(outputs.iter().copied(), determinism))
		.map(|tree| tree.root())
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{
		content::content_ref,
		job::{JobTensor, TensorData, TensorList},
	};
	use sp_runtime::{FixedU64, Perbill};

	fn tolerance() -> Determinism {
		Determinism::Tolerance { abs: FixedU64::from_float(1e-4), rel: Perbill::zero() }
	}

	/// A 1 MiB f32 output (16 leaves) with a smooth ramp of values.
	fn values() -> Vec<f32> {
		(0..262_144).map(|i| (i % 1000) as f32 * 0.001 + 0.000_31).collect()
	}

	fn bytes(values: &[f32]) -> Vec<u8> {
		values.iter().flat_map(|v| v.to_le_bytes()).collect()
	}

	fn revealed(bytes: &[u8], determinism: &Determinism) -> InferenceOutput {
		let tensor = JobTensor {
			dtype: DType::F32,
			shape: [(bytes.len() / 4) as u32].to_vec().try_into().unwrap(),
			data: TensorData::Content(content_ref(bytes).unwrap()),
		};
		InferenceOutput::Content {
			tensors: TensorList::new(vec![tensor]).unwrap(),
			root: output_root(&[(DType::F32, bytes)], determinism).unwrap(),
		}
	}

	fn settle(reference: &[u8], other: &[u8]) -> (DisputeProof, Result<Settlement, ProofError>) {
		let class = tolerance();
		let proof = prove(&[(DType::F32, reference)], &[(DType::F32, other)], &class).unwrap();
		let settled = judge(&revealed(reference, &class), &revealed(other, &class), &proof, &class);
		(proof, settled)
	}

	#[test]
	fn an_honest_output_off_a_grid_edge_in_one_leaf_is_proven_to_agree() {
		let reference = values();
		let mut other = reference.clone();
		// 0.00015 is a grid edge under 1e-4: the two round apart but are within the tolerance.
		other[70_000] = 0.000_150_1;
		let mut reference = reference;
		reference[70_000] = 0.000_149_9;
		let (proof, settled) = settle(&bytes(&reference), &bytes(&other));
		assert_eq!(settled, Ok(Settlement::Agree));
		let DisputeProof::Agree { leaves, siblings } = proof else { panic!("{proof:?}") };
		assert_eq!(leaves.len(), 1, "only the differing leaf is revealed");
		assert_eq!(leaves[0].index, 70_000 * 4 / LEAF_BYTES);
		assert_eq!(siblings.len(), 4, "a path through a tree of 16 leaves");
	}

	#[test]
	fn an_output_beyond_the_tolerance_in_one_leaf_is_proven_to_disagree() {
		let reference = values();
		let mut other = reference.clone();
		other[200_000] += 0.01;
		other[10] = 0.000_31 + 0.000_000_01;
		let (proof, settled) = settle(&bytes(&reference), &bytes(&other));
		assert_eq!(settled, Ok(Settlement::Disagree));
		assert!(matches!(proof, DisputeProof::Disagree { .. }));
	}

	#[test]
	fn too_many_differing_leaves_are_undecided_unless_one_disagrees() {
		let reference = values();
		let mut other = reference.clone();
		// Off a grid edge in six leaves.
		for leaf in [0usize, 2, 4, 6, 8, 10] {
			let at = leaf * (LEAF_BYTES as usize / 4);
			other[at] = 0.000_150_1;
		}
		let mut reference = reference;
		for leaf in [0usize, 2, 4, 6, 8, 10] {
			reference[leaf * (LEAF_BYTES as usize / 4)] = 0.000_149_9;
		}
		let (proof, settled) = settle(&bytes(&reference), &bytes(&other));
		assert_eq!(settled, Ok(Settlement::Undecided));
		assert!(matches!(proof, DisputeProof::Undecided { .. }));
		other[250_000] += 1.0;
		assert_eq!(settle(&bytes(&reference), &bytes(&other)).1, Ok(Settlement::Disagree));
	}

	#[test]
	fn a_proof_that_hides_a_difference_or_lies_about_a_slice_is_refused() {
		let class = tolerance();
		let mut reference = values();
		let mut other = reference.clone();
		reference[70_000] = 0.000_149_9;
		other[70_000] = 0.000_150_1;
		// And a difference beyond the tolerance in another leaf, which the prover hides.
		other[200_000] += 0.5;
		let (reference, other) = (bytes(&reference), bytes(&other));
		let (a, b) = (revealed(&reference, &class), revealed(&other, &class));
		let honest_part = prove(
			&[(DType::F32, &reference)],
			&[(DType::F32, &{
				let mut fixed = other.clone();
				fixed[800_000..800_004].copy_from_slice(&reference[800_000..800_004]);
				fixed
			})],
			&class,
		)
		.unwrap();
		assert!(matches!(honest_part, DisputeProof::Agree { .. }));
		assert_eq!(judge(&a, &b, &honest_part, &class), Err(ProofError::Invalid));
		// A disagreement claimed at a leaf where the slices agree.
		let DisputeProof::Agree { leaves, .. } = honest_part else { unreachable!() };
		let pair = leaves[0].clone();
		let index = pair.index;
		let tree = |bytes: &[u8]| {
			Tree::new(crate::digest::output_leaves([(DType::F32, bytes)], &class)).unwrap()
		};
		let claim = DisputeProof::Disagree {
			leaf: pair,
			reference_path: tree(&reference).proof(&[index]).unwrap().try_into().unwrap(),
			other_path: tree(&other).proof(&[index]).unwrap().try_into().unwrap(),
		};
		assert_eq!(judge(&a, &b, &claim, &class), Err(ProofError::Invalid));
		// Inline outputs and outputs of other shapes are not for proofs.
		let short = revealed(&reference[..4096], &class);
		assert_eq!(judge(&a, &short, &claim, &class), Err(ProofError::NotComparable));
	}
}
