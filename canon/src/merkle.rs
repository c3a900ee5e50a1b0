//! Binary Merkle trees, inclusion proofs and the descent helpers of the game.
//!
//! Definitions (byte by byte):
//! - Leaves are 32-byte hashes: a tensor's is its [`crate::chunk::leaf_hash`].
//! - Inner node: `blake2_256(left ++ right)` (64 bytes in).
//! - A tree over `n` leaves is padded with [`ZERO_HASH`] leaves to `P = max(1, next_pow2(n))`
//!   leaves; the root of a one-leaf tree is that leaf; the root of an empty tree is `ZERO_HASH`.
//! - Positions: `(depth, index)` with depth 0 the root (index 0) and depth `D = log2(P)` the
//!   leaves; the children of `(d, i)` are `(d + 1, 2i)` and `(d + 1, 2i + 1)`.
//! - A proof lists the sibling hashes from the leaf level up (`D` of them).

use alloc::{vec, vec::Vec};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_crypto_hashing::blake2_256;

/// A 32-byte blake2-256 hash.
pub type Hash = [u8; 32];

/// The padding leaf (and the root of an empty tree).
pub const ZERO_HASH: Hash = [0u8; 32];

/// Inner node hash `blake2_256(left ++ right)`.
pub fn hash_pair(left: &Hash, right: &Hash) -> Hash {
	let mut buf = [0u8; 64];
	buf[..32].copy_from_slice(left);
	buf[32..].copy_from_slice(right);
	blake2_256(&buf)
}

/// Depth `D` (number of levels above the leaves) of a tree over `leaf_count` leaves.
pub fn tree_depth(leaf_count: u64) -> u32 {
	let p = leaf_count.max(1).checked_next_power_of_two().unwrap_or(1 << 63);
	p.trailing_zeros()
}

/// A position in a tree: depth 0 is the root.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Position {
	pub depth: u32,
	pub index: u64,
}

impl Position {
	/// The root.
	pub const ROOT: Position = Position { depth: 0, index: 0 };

	/// Left child.
	pub fn left(self) -> Position {
		Position { depth: self.depth.saturating_add(1), index: self.index.saturating_mul(2) }
	}

	/// Right child.
	pub fn right(self) -> Position {
		Position {
			depth: self.depth.saturating_add(1),
			index: self.index.saturating_mul(2).saturating_add(1),
		}
	}
}

/// The game's descent rule: given both parties' left children at a position, go left if they
/// differ, otherwise right.
pub fn next_position(pos: Position, left_a: &Hash, left_b: &Hash) -> Position {
	if left_a != left_b {
		pos.left()
	} else {
		pos.right()
	}
}

/// A Merkle inclusion proof: the leaf index and the sibling hashes from the leaves up.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct MerkleProof {
	pub index: u64,
	pub siblings: Vec<Hash>,
}

/// Root computed from a leaf and its proof.
pub fn root_from_proof(leaf: &Hash, proof: &MerkleProof) -> Hash {
	let mut h = *leaf;
	let mut idx = proof.index;
	for s in &proof.siblings {
		h = if idx & 1 == 0 { hash_pair(&h, s) } else { hash_pair(s, &h) };
		idx >>= 1;
	}
	h
}

/// Checks that `leaf` sits at `proof.index` of a tree over `leaf_count` leaves with this root.
/// The proof must have exactly `tree_depth(leaf_count)` siblings and an index below `leaf_count`.
pub fn verify_proof(root: &Hash, leaf_count: u64, leaf: &Hash, proof: &MerkleProof) -> bool {
	proof.index < leaf_count
		&& proof.siblings.len() as u64 == tree_depth(leaf_count) as u64
		&& root_from_proof(leaf, proof) == *root
}

/// All levels of a padded tree: `levels[0]` are the `P` leaves, the last level is the root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerkleTree {
	levels: Vec<Vec<Hash>>,
	leaf_count: u64,
}

impl MerkleTree {
	/// Builds the tree over `leaves` (padded with [`ZERO_HASH`]).
	pub fn new(mut leaves: Vec<Hash>) -> Self {
		let leaf_count = leaves.len() as u64;
		let p = leaves.len().max(1).next_power_of_two();
		leaves.resize(p, ZERO_HASH);
		let mut levels = vec![leaves];
		while let Some(last) = levels.last() {
			if last.len() <= 1 {
				break;
			}
			let next: Vec<Hash> = last.chunks_exact(2).map(|c| hash_pair(&c[0], &c[1])).collect();
			levels.push(next);
		}
		Self { levels, leaf_count }
	}

	/// The root (ZERO_HASH for an empty tree).
	pub fn root(&self) -> Hash {
		if self.leaf_count == 0 {
			return ZERO_HASH;
		}
		self.levels.last().and_then(|l| l.first()).copied().unwrap_or(ZERO_HASH)
	}

	/// Number of real (unpadded) leaves.
	pub fn leaf_count(&self) -> u64 {
		self.leaf_count
	}

	/// Levels above the leaves.
	pub fn depth(&self) -> u32 {
		self.levels.len().saturating_sub(1) as u32
	}

	/// The real and padding leaves.
	pub fn leaves(&self) -> &[Hash] {
		self.levels.first().map(|l| l.as_slice()).unwrap_or(&[])
	}

	/// Hash at a position (`None` outside the tree).
	pub fn node(&self, pos: Position) -> Option<Hash> {
		let level = self.depth().checked_sub(pos.depth)?;
		self.levels.get(level as usize)?.get(usize::try_from(pos.index).ok()?).copied()
	}

	/// The two children of a position (`None` at the leaves or outside the tree).
	pub fn children(&self, pos: Position) -> Option<(Hash, Hash)> {
		Some((self.node(pos.left())?, self.node(pos.right())?))
	}

	/// Inclusion proof of leaf `index` (`None` if `index >= leaf_count`).
	pub fn proof(&self, index: u64) -> Option<MerkleProof> {
		if index >= self.leaf_count {
			return None;
		}
		let mut siblings = Vec::with_capacity(self.depth() as usize);
		let mut idx = index;
		for level in self.levels.iter().take(self.depth() as usize) {
			siblings.push(*level.get(usize::try_from(idx ^ 1).ok()?)?);
			idx >>= 1;
		}
		Some(MerkleProof { index, siblings })
	}
}

/// Merkle root over `leaves` (padded with zero hashes to a power of two).
pub fn merkle_root(leaves: &[Hash]) -> Hash {
	MerkleTree::new(leaves.to_vec()).root()
}

/// Index of the first differing leaf of two leaf lists (a missing leaf counts as ZERO_HASH).
pub fn first_difference(a: &[Hash], b: &[Hash]) -> Option<u64> {
	let n = a.len().max(b.len());
	(0..n)
		.find(|&i| a.get(i).unwrap_or(&ZERO_HASH) != b.get(i).unwrap_or(&ZERO_HASH))
		.map(|i| i as u64)
}

/// Plays the bisection between two trees of equal depth with [`next_position`] and returns the
/// leaf index reached, or `None` if the roots agree or the depths differ.
pub fn descend(a: &MerkleTree, b: &MerkleTree) -> Option<u64> {
	if a.depth() != b.depth() || a.root() == b.root() {
		return None;
	}
	let mut pos = Position::ROOT;
	while pos.depth < a.depth() {
		let (la, _) = a.children(pos)?;
		let (lb, _) = b.children(pos)?;
		pos = next_position(pos, &la, &lb);
	}
	Some(pos.index)
}
