//! Chunked tensor commitments: a tensor's leaf hash commits to its header and to the Merkle root
//! of its data cut into fixed-size chunks, so one chunk of any tensor can be proved on its own,
//! whatever the tensor's size.
//!
//! Definitions (byte by byte):
//! - `data'`: the tensor's data bytes with every F32 NaN element rewritten to `0x7fc00000`.
//! - Chunks: `data'` cut into pieces of [`CHUNK_BYTES`] bytes, the last one shorter if the length
//!   is not a multiple; `ceil(len / CHUNK_BYTES)` of them (none for empty data).
//! - Chunk leaf: `blake2_256(chunk bytes)`.
//! - Data root: the Merkle root over the chunk leaves in order, with the rules of
//!   [`crate::merkle`] (`ZERO_HASH` for no chunk; the chunk leaf itself for one chunk).
//! - Header: [`TensorHeader`], SCALE-encoded: the dtype index byte, compact(rank) and each dim as
//!   u32 LE, compact(data length in bytes). These are the bytes that precede the data in the
//!   tensor's own SCALE encoding.
//! - `leaf_hash(t) = blake2_256(SCALE(header) ++ data root)`.
//!
//! A [`ChunkProof`] proves one chunk against a leaf hash; [`ListChunkProof`] proves one chunk of
//! one tensor of a list (a trace against its trace root, a claim payload against
//! [`payload_root`]); constants are proved through `program_root` by
//! [`crate::commit::ConstChunkProof`].

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode};
use core::ops::Range;
use scale_info::TypeInfo;
use sp_crypto_hashing::blake2_256;

use crate::{
	merkle::{root_from_proof, tree_depth, verify_proof, Hash, MerkleProof, MerkleTree},
	tensor::{canonicalize_nan_bytes, has_noncanonical_nan_bytes, DType, Tensor},
};

/// Bytes per chunk (1024 f32 elements). Chosen by measurement: see docs/canonical-executor.md,
/// "Chunked commitments".
pub const CHUNK_BYTES: usize = 4096;

/// Chunks hashed side by side (SIMD lanes natively) and canonicalised together.
const GROUP_CHUNKS: usize = 16;

/// What a leaf hash commits to besides the data root.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct TensorHeader {
	pub dtype: DType,
	pub shape: Vec<u32>,
	/// Length of the data in bytes.
	#[codec(compact)]
	pub data_len: u32,
}

impl TensorHeader {
	/// The header of `t`.
	pub fn of(t: &Tensor) -> Self {
		Self { dtype: t.dtype, shape: t.shape.clone(), data_len: t.data.len() as u32 }
	}

	/// Number of chunks of the data.
	pub fn chunk_count(&self) -> u64 {
		chunk_count(self.data_len as usize, CHUNK_BYTES)
	}

	/// Byte range of chunk `index` in the data (`None` past the last chunk).
	pub fn chunk_range(&self, index: u64) -> Option<Range<usize>> {
		chunk_range(self.data_len as usize, index)
	}

	/// The leaf hash of a tensor with this header and this data root.
	pub fn leaf_hash(&self, data_root: &Hash) -> Hash {
		let mut bytes = self.encode();
		bytes.extend_from_slice(data_root);
		blake2_256(&bytes)
	}
}

fn chunk_count(len: usize, chunk: usize) -> u64 {
	len.div_ceil(chunk) as u64
}

fn chunk_range(len: usize, index: u64) -> Option<Range<usize>> {
	let start = usize::try_from(index).ok()?.checked_mul(CHUNK_BYTES)?;
	(start < len).then(|| start..len.min(start + CHUNK_BYTES))
}

/// Leaf hash of a tensor (see the module's definitions).
pub fn leaf_hash(t: &Tensor) -> Hash {
	leaf_hash_chunked(t, CHUNK_BYTES)
}

/// [`leaf_hash`] with another chunk size: only for measuring the choice of [`CHUNK_BYTES`].
#[doc(hidden)]
pub fn leaf_hash_chunked(t: &Tensor, chunk: usize) -> Hash {
	let root = MerkleTree::new(chunk_leaves_sized(t.dtype, &t.data, chunk)).root();
	TensorHeader::of(t).leaf_hash(&root)
}

/// The chunk leaves of a tensor's data, in order.
pub fn chunk_leaves(t: &Tensor) -> Vec<Hash> {
	chunk_leaves_sized(t.dtype, &t.data, CHUNK_BYTES)
}

/// The leaf of one chunk of a tensor of this dtype (its NaNs canonicalised first).
pub fn chunk_leaf(dtype: DType, bytes: &[u8]) -> Hash {
	if dtype == DType::F32 && has_noncanonical_nan_bytes(bytes) {
		let mut canonical = bytes.to_vec();
		canonicalize_nan_bytes(&mut canonical);
		blake2_256(&canonical)
	} else {
		blake2_256(bytes)
	}
}

/// Data below which a tensor's chunks are hashed on one thread (natively).
#[cfg(feature = "std")]
const SPLIT_BYTES: usize = 256 << 10;

/// [`leaf_hash`] on the calling thread only (where another thread is busy with other work).
#[cfg(feature = "std")]
pub(crate) fn leaf_hash_on_one_thread(t: &Tensor) -> Hash {
	let root = MerkleTree::new(chunk_leaves_seq(t.dtype, &t.data, CHUNK_BYTES)).root();
	TensorHeader::of(t).leaf_hash(&root)
}

/// The chunk leaves; natively, a large tensor's two halves (cut at a group boundary) are hashed
/// on two threads.
fn chunk_leaves_sized(dtype: DType, data: &[u8], chunk: usize) -> Vec<Hash> {
	#[cfg(feature = "std")]
	if data.len() >= SPLIT_BYTES && crate::parallel::threads() > 1 {
		let group = chunk.saturating_mul(GROUP_CHUNKS);
		let (a, b) =
			data.split_at((data.len() / 2).div_ceil(group).saturating_mul(group).min(data.len()));
		let (mut left, right) = crate::parallel::join(
			|| chunk_leaves_seq(dtype, a, chunk),
			|| chunk_leaves_seq(dtype, b, chunk),
		);
		left.extend(right);
		return left;
	}
	chunk_leaves_seq(dtype, data, chunk)
}

/// The chunk leaves, [`GROUP_CHUNKS`] chunks hashed side by side at a time (blake2b's SIMD lanes
/// natively); a group with NaNs to rewrite is canonicalised in a scratch copy first.
fn chunk_leaves_seq(dtype: DType, data: &[u8], chunk: usize) -> Vec<Hash> {
	let mut params = blake2b_simd::Params::new();
	params.hash_length(32);
	let mut leaves = Vec::with_capacity(chunk_count(data.len(), chunk) as usize);
	let mut scratch = Vec::new();
	for group in data.chunks(chunk.saturating_mul(GROUP_CHUNKS)) {
		let bytes = if dtype == DType::F32 && has_noncanonical_nan_bytes(group) {
			scratch.clear();
			scratch.extend_from_slice(group);
			canonicalize_nan_bytes(&mut scratch);
			&scratch[..]
		} else {
			group
		};
		let mut jobs: Vec<_> =
			bytes.chunks(chunk).map(|c| blake2b_simd::many::HashManyJob::new(&params, c)).collect();
		blake2b_simd::many::hash_many(jobs.iter_mut());
		leaves.extend(jobs.iter().map(|job| {
			let mut hash = [0u8; 32];
			hash.copy_from_slice(job.to_hash().as_bytes());
			hash
		}));
	}
	leaves
}

/// A tensor's header with the Merkle tree over its chunk leaves: what a party keeps to prove
/// any chunk of the tensor without hashing it again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorChunks {
	pub header: TensorHeader,
	pub tree: MerkleTree,
}

impl TensorChunks {
	/// Hashes the chunks of `t`.
	pub fn new(t: &Tensor) -> Self {
		Self { header: TensorHeader::of(t), tree: MerkleTree::new(chunk_leaves(t)) }
	}

	/// The tensor's leaf hash.
	pub fn leaf_hash(&self) -> Hash {
		self.header.leaf_hash(&self.tree.root())
	}

	/// Proof of chunk `index` (`None` past the last chunk).
	pub fn proof(&self, index: u64) -> Option<ChunkProof> {
		Some(ChunkProof { header: self.header.clone(), chunk: self.tree.proof(index)? })
	}
}

/// Chunk `index` of a tensor's data, as it is hashed (NaNs are canonicalised by the hash, not
/// here).
pub fn chunk_bytes(t: &Tensor, index: u64) -> Option<&[u8]> {
	t.data.get(chunk_range(t.data.len(), index)?)
}

/// Proof of one chunk of a tensor against the tensor's leaf hash.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct ChunkProof {
	pub header: TensorHeader,
	/// The chunk's index and the sibling hashes of the data tree.
	pub chunk: MerkleProof,
}

impl ChunkProof {
	/// Checks that `bytes` are chunk `self.chunk.index` of the tensor whose leaf hash is `leaf`:
	/// the index names a chunk of the header's data, `bytes` have that chunk's length, the proof
	/// has the data tree's depth, and the header with the root it gives hashes to `leaf`.
	pub fn verify(&self, leaf: &Hash, bytes: &[u8]) -> bool {
		let count = self.header.chunk_count();
		let Some(range) = self.header.chunk_range(self.chunk.index) else { return false };
		range.len() == bytes.len()
			&& self.chunk.siblings.len() as u64 == tree_depth(count) as u64
			&& self
				.header
				.leaf_hash(&root_from_proof(&chunk_leaf(self.header.dtype, bytes), &self.chunk))
				== *leaf
	}
}

/// Proof of one chunk of tensor `leaf.index` of a list of tensors committed by the Merkle root
/// over their leaf hashes (a trace, a claim payload).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct ListChunkProof {
	/// The tensor's leaf hash.
	pub tensor: Hash,
	/// The tensor's index in the list and the sibling hashes of the list's tree.
	pub leaf: MerkleProof,
	pub chunk: ChunkProof,
}

impl ListChunkProof {
	/// Builds the proof of chunk `chunk` of tensor `index` of a list whose tree is `list`.
	pub fn new(list: &MerkleTree, index: u64, chunks: &TensorChunks, chunk: u64) -> Option<Self> {
		Some(Self {
			tensor: chunks.leaf_hash(),
			leaf: list.proof(index)?,
			chunk: chunks.proof(chunk)?,
		})
	}

	/// Checks that `bytes` are the chunk this proof names, of the tensor it names, in the list of
	/// `len` tensors whose root is `root`.
	pub fn verify(&self, root: &Hash, len: u64, bytes: &[u8]) -> bool {
		verify_proof(root, len, &self.tensor, &self.leaf) && self.chunk.verify(&self.tensor, bytes)
	}
}

/// The commitment to a claim's input or output: the Merkle root over the leaf hashes of its
/// tensors, in graph order (so any chunk of a payload is provable by a [`ListChunkProof`]).
pub fn payload_root(tensors: &[Tensor]) -> Hash {
	MerkleTree::new(tensors.iter().map(leaf_hash).collect()).root()
}

#[cfg(test)]
mod tests {
	use super::*;

	fn hex(h: &[u8]) -> alloc::string::String {
		h.iter().map(|b| alloc::format!("{b:02x}")).collect()
	}

	/// The two worked examples of docs/canonical-executor.md ("Chunked commitments"), whose
	/// hashes were computed there with Python's `hashlib.blake2b(digest_size=32)`.
	#[test]
	fn leaf_hashes_match_the_documented_examples() {
		// One chunk: F32 [2] = 1.0, a NaN with payload 1 (hashed as 0x7fc00000).
		let t = Tensor::from_f32(alloc::vec![2], &[1.0, f32::from_bits(0x7fc0_0001)]);
		let chunks = TensorChunks::new(&t);
		assert_eq!(hex(&chunks.header.encode()), "00040200000020");
		assert_eq!(
			hex(&chunks.tree.root()),
			"20ad6403460b04790243d61d16c5b8d8b681f775e0c29a1d336ffab976a12f0e"
		);
		assert_eq!(
			hex(&leaf_hash(&t)),
			"1bf988c7fff96447b46232c25e5befdb8e2fbbd01e6075069f953e980a09bf48"
		);

		// Three chunks (4096, 4096 and 1 bytes), padded to four leaves: U8 [8193] of zeros.
		let t = Tensor::new(DType::U8, alloc::vec![8193], alloc::vec![0; 8193]).unwrap();
		let chunks = TensorChunks::new(&t);
		assert_eq!(hex(&chunks.header.encode()), "0304012000000580");
		let leaves = chunk_leaves(&t);
		assert_eq!(leaves.len(), 3);
		assert_eq!(leaves[0], leaves[1]);
		assert_eq!(
			hex(&leaves[0]),
			"686ede9288c391e7e05026e56f2f91bfd879987a040ea98445dabc76f55b8e5f"
		);
		assert_eq!(
			hex(&leaves[2]),
			"03170a2e7597b7b7e3d84c05391d139a62b157e78786d8c082f29dcf4c111314"
		);
		assert_eq!(
			hex(&chunks.tree.root()),
			"a6549de28f4230319d14fba25736e9348604f6c006f457191b9ab75655f239bc"
		);
		assert_eq!(
			hex(&leaf_hash(&t)),
			"03923138598966a7dc68adfd499609d0ab10987e7b01a41e86f26bc098fc5e8c"
		);
		// The last chunk's proof: its sibling is the padding leaf, then the first pair's node.
		let proof = chunks.proof(2).unwrap();
		assert_eq!(proof.chunk.siblings.len(), 2);
		assert_eq!(proof.chunk.siblings[0], crate::merkle::ZERO_HASH);
		assert_eq!(
			hex(&proof.chunk.siblings[1]),
			"49e4b80d5b7d8d93224825f26c45987e107bbf2f871d4e5636ac550ff125e082"
		);
		assert!(proof.verify(&leaf_hash(&t), &[0]));
		assert!(!proof.verify(&leaf_hash(&t), &[1]));
		assert!(!proof.verify(&leaf_hash(&t), &[0, 0]));
	}

	/// A tensor large enough to be hashed in two halves on two threads (natively) has the chunk
	/// leaves of one blake2 per chunk, its NaNs rewritten, the last chunk short.
	#[test]
	fn a_large_tensor_hashed_in_halves_has_the_same_chunk_leaves() {
		let len = 3 * SPLIT_BYTES / 4 + 13;
		let mut values: Vec<f32> = (0..len).map(|i| i as f32 * 0.5).collect();
		values[7] = f32::from_bits(0xffc0_1234);
		values[len - 1] = f32::from_bits(0x7f80_0001);
		let t = Tensor::from_f32(alloc::vec![len as u32], &values);
		let canonical = t.nan_canonical();
		let want: Vec<Hash> = canonical.data.chunks(CHUNK_BYTES).map(blake2_256).collect();
		assert!(t.data.len() >= SPLIT_BYTES);
		assert_eq!(chunk_leaves(&t), want);
		assert_eq!(chunk_leaves_seq(t.dtype, &t.data, CHUNK_BYTES), want);
	}

	#[test]
	fn an_empty_tensor_has_no_chunk_and_the_zero_data_root() {
		let t = Tensor::from_f32(alloc::vec![0, 3], &[]);
		let chunks = TensorChunks::new(&t);
		assert_eq!(chunks.header.chunk_count(), 0);
		assert!(chunks.proof(0).is_none());
		assert_eq!(chunks.tree.root(), crate::merkle::ZERO_HASH);
		assert_eq!(leaf_hash(&t), chunks.header.leaf_hash(&crate::merkle::ZERO_HASH));
	}

	#[test]
	fn a_chunk_of_one_list_member_does_not_prove_as_another() {
		let values: Vec<Tensor> = (0..5)
			.map(|i| Tensor::from_f32(alloc::vec![1500], &alloc::vec![i as f32; 1500]))
			.collect();
		let list = MerkleTree::new(values.iter().map(leaf_hash).collect());
		let root = payload_root(&values);
		assert_eq!(root, list.root());
		let chunks = TensorChunks::new(&values[3]);
		let proof = ListChunkProof::new(&list, 3, &chunks, 1).unwrap();
		let bytes = chunk_bytes(&values[3], 1).unwrap();
		assert!(proof.verify(&root, 5, bytes));
		assert!(!proof.verify(&root, 4, bytes), "a list of another length");
		assert!(!proof.verify(&root, 5, chunk_bytes(&values[2], 1).unwrap()));
		let mut other = proof.clone();
		other.leaf.index = 2;
		assert!(!other.verify(&root, 5, bytes));
		assert!(ListChunkProof::new(&list, 5, &chunks, 0).is_none());
		assert!(ListChunkProof::new(&list, 3, &chunks, 2).is_none(), "1500 f32 are 2 chunks");
	}
}
