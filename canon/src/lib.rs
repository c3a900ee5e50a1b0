//! # edgeproof-canon
//!
//! The canonical, bit-exact ONNX executor of Edgeproof and its commitments.
//!
//! ## Overview
//! The challenge game needs a validator (native) and the runtime (wasm) to compute bit-identical
//! results for the same model and input; ONNX Runtime does not promise that, so disputes are
//! decided by this executor. It is pure Rust, `no_std` + `alloc`, single-threaded, without SIMD
//! intrinsics or fused multiply-adds, with one documented summation order per operator and
//! transcendentals from `libm` only (see `docs/canonical-executor.md`).
//!
//! ## Interface
//! - [`Tensor`], [`DType`], [`Limits`], [`TensorSpec`]: data and bounds.
//! - [`Program`], [`Node`], [`Op`], [`Ref`]: a compiled model; [`Cost`]: what one run of it
//!   costs; [`output_leaf_range`]: where its outputs are in the trace.
//! - [`execute`], [`execute_with`], [`execute_node`], [`execute_node_with`]: running, giving a
//!   [`Trace`].
//! - [`chunk`]: leaf hashes over chunked data and chunk proofs; [`merkle`]: trees, proofs, the
//!   descent rule; [`commit`]: `program_root`, the one-step witness/check and constant chunk
//!   proofs; [`within_tolerance`].
//! - [`substep`]: the second level of the game, a heavy node's sub-steps (tiles of its output,
//!   segments of its reduction), their witnesses and check.
//! - `compiler` (feature `std`): ONNX bytes to [`Program`].
//!
//! ## Terms
//! - *Trace*: `v_0..v_{m+n-1}`, the m graph inputs then the n node outputs.
//! - *Leaf hash*: blake2-256 of a tensor's header and the Merkle root of its data chunks, NaNs
//!   canonicalised.
//! - *Tail rule*: a program's k outputs are its last k nodes, in order, so the output leaves are
//!   `m + n - k .. m + n` ([`output_leaf_range`]); the compiler appends `Identity` nodes where
//!   needed ([`Program::move_outputs_to_tail`]) and [`Program::validate`] enforces it.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod chunk;
pub mod commit;
#[cfg(feature = "std")]
pub mod compiler;
mod error;
mod exec;
pub mod merkle;
pub mod ops;
#[cfg(feature = "std")]
mod parallel;
mod program;
pub mod simd;
pub mod substep;
mod tensor;
mod tolerance;

pub use chunk::{
	leaf_hash, payload_root, ChunkProof, ListChunkProof, TensorChunks, TensorHeader, CHUNK_BYTES,
};
pub use commit::{
	constant_hashes, one_step_witness, one_step_witness_recomputed, one_step_work, program_root,
	program_tree, verify_one_step, CommittedNode, CommittedRef, ConstChunkProof, LeafWitness,
	OneStepContext, OneStepWitness,
};
pub use error::{CanonError, Result};
pub use exec::{
	commit_trace, execute, execute_node, execute_node_with, execute_substituting, execute_with,
	trace_values, unrunnable_value, SubstitutedTrace, Trace, TraceCommitment,
};
pub use merkle::{merkle_root, Hash, MerkleProof, MerkleTree, Position, ZERO_HASH};
pub use ops::node_work;
pub use program::{
	leaf_of, output_leaf_range, AutoPad, CoordinateTransform, Cost, FusedStep, NearestMode, Node,
	Op, Program, Ref, ResizeMode, RnnDirection, StepArg, Window,
};
pub use tensor::{numel, DType, Limits, Tensor, TensorSpec, CANONICAL_NAN};
pub use tolerance::{within_tolerance, Tolerance};
