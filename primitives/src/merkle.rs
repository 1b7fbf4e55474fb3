//! The Merkle tree over an output's leaves, and the proofs that let the chain compare two large
//! outputs by revealing only the leaves where they differ.
//!
//! Leaves are positional: a tree over `n` leaves is padded with [`H256::zero`] to the next power of
//! two, a leaf's hash is `blake2_256(0x00 ++ preimage)` and a node's `blake2_256(0x01 ++ left ++
//! right)`, so a leaf can never pass for a node.
//!
//! A [`proof`] for some leaf indices lists, level by level from the leaves up, the hash of every
//! node that the chain needs but cannot compute from those leaves. Two trees that are equal except
//! at those indices share every such node, so one list of siblings proves both roots at once
//! ([`root`] is called twice with it): that is how an executor shows that its output differs from
//! another only at the leaves it reveals, since had any other leaf differed, some shared node
//! would differ and one of the two roots would not come out.

use alloc::vec::Vec;
use sp_core::H256;
use sp_runtime::traits::{BlakeTwo256, Hash};

/// The hash of a leaf with this preimage.
pub fn leaf_hash(preimage: &[u8]) -> H256 {
	let mut tagged = Vec::with_capacity(preimage.len().saturating_add(1));
	tagged.push(0u8);
	tagged.extend_from_slice(preimage);
	BlakeTwo256::hash(&tagged)
}

fn node_hash(left: &H256, right: &H256) -> H256 {
	let mut preimage = Vec::with_capacity(65);
	preimage.push(1u8);
	preimage.extend_from_slice(left.as_bytes());
	preimage.extend_from_slice(right.as_bytes());
	BlakeTwo256::hash(&preimage)
}

/// The padded width of a tree over `leaves` leaves (at least 1); `None` beyond `2^31`.
fn width(leaves: u32) -> Option<u32> {
	leaves.max(1).checked_next_power_of_two()
}

/// The depth of a tree over `leaves` leaves: the length of one leaf's path to the root.
pub fn depth(leaves: u32) -> u32 {
	width(leaves).map_or(u32::MAX, |width| width.trailing_zeros())
}

/// A whole tree, level by level from the leaves (padded) to the root.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Tree {
	levels: Vec<Vec<H256>>,
	leaves: u32,
}

impl Tree {
	/// The tree over `leaves` (leaf hashes); `None` when there are more than `2^31`.
	pub fn new(leaves: Vec<H256>) -> Option<Self> {
		let count = u32::try_from(leaves.len()).ok()?;
		let width = width(count)? as usize;
		let mut level = leaves;
		level.resize(width, H256::zero());
		let mut levels = Vec::new();
		while level.len() > 1 {
			let next = level.chunks(2).map(|pair| match pair {
				[left, right] => node_hash(left, right),
				[single] => *single,
				_ => H256::zero(),
			});
			let next = next.collect();
			levels.push(level);
			level = next;
		}
		levels.push(level);
		Some(Self { levels, leaves: count })
	}

	/// The root.
	pub fn root(&self) -> H256 {
		self.levels.last().and_then(|level| level.first()).copied().unwrap_or_default()
	}

	/// The leaf hashes (without padding).
	pub fn leaves(&self) -> &[H256] {
		self.levels
			.first()
			.and_then(|level| level.get(..self.leaves as usize))
			.unwrap_or_default()
	}

	/// The siblings that prove the leaves at `indices` (ascending, distinct, each below the leaf
	/// count) against the root; `None` for indices that are not.
	pub fn proof(&self, indices: &[u32]) -> Option<Vec<H256>> {
		if !ascending_below(indices, self.leaves) {
			return None;
		}
		let mut siblings = Vec::new();
		let mut known: Vec<u32> = indices.to_vec();
		for level in self.levels.iter().take(self.levels.len().saturating_sub(1)) {
			let mut next = Vec::with_capacity(known.len());
			let mut position = 0usize;
			// `position` stays within `known`, and a left child's sibling is `index ^ 1`
			// (`index + 1`): nothing here overflows.
			while let Some(&index) = known.get(position) {
				let paired =
					index % 2 == 0 && known.get(position.saturating_add(1)) == Some(&(index ^ 1));
				if paired {
					position = position.saturating_add(2);
				} else {
					siblings.push(*level.get((index ^ 1) as usize)?);
					position = position.saturating_add(1);
				}
				next.push(index / 2);
			}
			known = next;
		}
		Some(siblings)
	}
}

fn ascending_below(indices: &[u32], leaves: u32) -> bool {
	!indices.is_empty()
		&& indices.windows(2).all(|pair| matches!(pair, [a, b] if a < b))
		&& indices.last().is_some_and(|last| *last < leaves)
}

/// The root of a tree over `leaves` leaves computed from the leaves at some indices (ascending,
/// distinct, each below `leaves`) and the `siblings` of a [`Tree::proof`] for those indices;
/// `None` when the indices are not as they should be or the siblings are too few or too many.
pub fn root(leaves: u32, known: &[(u32, H256)], siblings: &[H256]) -> Option<H256> {
	let indices: Vec<u32> = known.iter().map(|(index, _)| *index).collect();
	if !ascending_below(&indices, leaves) {
		return None;
	}
	let mut siblings = siblings.iter();
	let mut level: Vec<(u32, H256)> = known.to_vec();
	for _ in 0..depth(leaves) {
		let mut next = Vec::with_capacity(level.len());
		let mut position = 0usize;
		// As in `Tree::proof`: `position` stays within `level`, a left child's sibling is
		// `index ^ 1`.
		while let Some(&(index, hash)) = level.get(position) {
			let partner = level
				.get(position.saturating_add(1))
				.filter(|(other, _)| index % 2 == 0 && *other == (index ^ 1));
			let parent = match partner {
				Some((_, right)) => {
					position = position.saturating_add(2);
					node_hash(&hash, right)
				},
				None => {
					position = position.saturating_add(1);
					let sibling = siblings.next()?;
					if index % 2 == 0 {
						node_hash(&hash, sibling)
					} else {
						node_hash(sibling, &hash)
					}
				},
			};
			next.push((index / 2, parent));
		}
		level = next;
	}
	match (level.as_slice(), siblings.next()) {
		([(0, root)], None) => Some(*root),
		_ => None,
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn leaves(count: u32, salt: u8) -> Vec<H256> {
		(0..count).map(|i| leaf_hash(&[salt, i as u8, (i >> 8) as u8])).collect()
	}

	#[test]
	fn a_proof_gives_back_the_root_for_any_set_of_leaves() {
		for count in [1u32, 2, 3, 5, 8, 13, 64, 100] {
			let tree = Tree::new(leaves(count, 0)).unwrap();
			let sets: Vec<Vec<u32>> = vec![
				vec![0],
				vec![count - 1],
				(0..count).collect(),
				(0..count).step_by(3).collect(),
				vec![0, count / 2, count - 1].into_iter().fold(Vec::new(), |mut set, i| {
					if set.last() != Some(&i) {
						set.push(i);
					}
					set
				}),
			];
			for set in sets {
				let siblings = tree.proof(&set).unwrap();
				let known: Vec<(u32, H256)> =
					set.iter().map(|i| (*i, tree.leaves()[*i as usize])).collect();
				assert_eq!(root(count, &known, &siblings), Some(tree.root()), "{count} {set:?}");
				assert!(siblings.len() as u32 <= set.len() as u32 * depth(count));
				// One sibling too many or too few does not make a root.
				let mut longer = siblings.clone();
				longer.push(H256::zero());
				assert_eq!(root(count, &known, &longer), None);
				if let Some((_, shorter)) = siblings.split_last() {
					assert_eq!(root(count, &known, shorter), None);
				}
			}
		}
	}

	#[test]
	fn shared_siblings_prove_two_trees_that_differ_only_at_the_revealed_leaves() {
		let count = 37;
		let ours = leaves(count, 0);
		let mut theirs = ours.clone();
		for i in [4usize, 5, 30] {
			theirs[i] = leaf_hash(b"different");
		}
		let (ours, theirs) = (Tree::new(ours).unwrap(), Tree::new(theirs).unwrap());
		let differing = [4u32, 5, 30];
		let siblings = ours.proof(&differing).unwrap();
		assert_eq!(siblings, theirs.proof(&differing).unwrap(), "shared");
		let at = |tree: &Tree| -> Vec<(u32, H256)> {
			differing.iter().map(|i| (*i, tree.leaves()[*i as usize])).collect()
		};
		assert_eq!(root(count, &at(&ours), &siblings), Some(ours.root()));
		assert_eq!(root(count, &at(&theirs), &siblings), Some(theirs.root()));
		// Hiding one differing leaf: the shared siblings then cannot give both roots.
		let partial = [4u32, 5];
		let siblings = ours.proof(&partial).unwrap();
		let at = |tree: &Tree| -> Vec<(u32, H256)> {
			partial.iter().map(|i| (*i, tree.leaves()[*i as usize])).collect()
		};
		assert_eq!(root(count, &at(&ours), &siblings), Some(ours.root()));
		assert_ne!(root(count, &at(&theirs), &siblings), Some(theirs.root()));
	}

	#[test]
	fn bad_indices_are_refused() {
		let tree = Tree::new(leaves(4, 0)).unwrap();
		assert_eq!(tree.proof(&[]), None);
		assert_eq!(tree.proof(&[2, 1]), None);
		assert_eq!(tree.proof(&[1, 1]), None);
		assert_eq!(tree.proof(&[4]), None);
		let leaf = tree.leaves()[0];
		assert_eq!(root(4, &[(4, leaf)], &[]), None);
		assert_eq!(root(4, &[(1, leaf), (0, leaf)], &[]), None);
		// A leaf is not a node: a one-leaf tree's root is its leaf, and a leaf placed where a
		// node is expected does not give the root.
		assert_eq!(Tree::new(vec![leaf]).unwrap().root(), leaf);
		assert_eq!(depth(1), 0);
		assert_eq!(depth(5), 3);
	}
}
