//! # edgeproof-primitives
//!
//! Types shared by the Edgeproof runtime, its pallets and the node.
//!
//! ## Overview
//! The runtime is wasm and cannot link ONNX Runtime, so the node provides inference to off-chain
//! workers as host functions: the [`inference`] runtime interface. This crate declares those
//! functions (their signatures and SCALE types only); the node registers them and the
//! `edgeproof-offchain` crate implements [`InferenceProvider`], which the node hands to off-chain
//! workers as the [`InferenceExt`] externalities extension.
//!
//! ## Interface
//! - [`FileHash`]: a model file's content address.
//! - [`checker`]: the key type validators' off-chain workers sign with.
//! - [`inference`]: `run`, `verify_model`, `canonical_output`, `trace_children`, `one_step`;
//!   `note_unfunded_dispute` and `note` for the node's metrics ([`CheckerNote`]).
//! - [`InferenceError`], [`ModelFacts`], [`Disputability`], [`CanonicalOutput`]: what they
//!   return.
//! - [`InferenceProvider`], [`InferenceExt`] (native only): the host side.
//!
//! ## Terms
//! - *Fast path*: ONNX Runtime (`run`); fast, not bit-exact.
//! - *Canonical path*: `edgeproof-canon` (`canonical_output`, `trace_children`, `one_step`);
//!   bit-exact, what disputes are decided by.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod checker;
mod types;

pub use edgeproof_canon::{
	substep::{
		player::{Answer, Query},
		CutWitness, Geometry, SubStepLimits, SubStepWitness,
	},
	DType, Hash, LeafWitness, Limits, MerkleProof, OneStepWitness, Position, Tensor, TensorSpec,
	Tolerance,
};
pub use types::{
	CanonicalOutput, CheckerNote, Disputability, FileHash, InferenceError, InferenceResult,
	KeyAssurance, ModelFacts, Move, NotDisputable, SecondLevelLimits, Verdict, DYNAMIC_DIM,
};

#[cfg(not(substrate_runtime))]
mod host;
#[cfg(not(substrate_runtime))]
pub use host::{InferenceExt, InferenceProvider};

use alloc::vec::Vec;
use sp_runtime_interface::{
	pass_by::{
		AllocateAndReturnByCodec, PassFatPointerAndDecode, PassFatPointerAndRead,
		PassPointerAndReadCopy,
	},
	runtime_interface,
};

/// Inference for off-chain workers, implemented by the node.
///
/// Every function returns `Err(InferenceError::Unavailable)` when no inference engine is
/// registered in the calling context: block import and execution, RPC calls, a node started
/// with `--no-inference`. Only off-chain workers of a node with the engine get answers. `uri` is
/// the model's registered fetch URI (UTF-8, `file://`, `http://` or `https://`); the node fetches
/// the file on first use and checks its blake2-256 against `model` (the registration's file
/// hash, not its id) before every use.
///
/// The canonical functions take the model input each time; the node caches the canonical trace
/// per `(model, input)`, so a whole dispute executes the model once.
#[runtime_interface]
pub trait Inference {
	/// Runs `model` on `input` (graph order) with ONNX Runtime and returns its outputs (graph
	/// order). Fast, not bit-exact: compare with the claimed output under the model's tolerance.
	fn run(
		model: PassPointerAndReadCopy<FileHash, 32>,
		uri: PassFatPointerAndRead<&[u8]>,
		input: PassFatPointerAndDecode<Vec<Tensor>>,
	) -> AllocateAndReturnByCodec<InferenceResult<Vec<Tensor>>> {
		host::with_provider(|p| p.run(model, uri, input))
	}

	/// Fetches `model` from `uri` and checks it for registration: its hash and size, that ONNX
	/// Runtime loads it, and whether it is disputable under the runtime's `limits` — it compiles
	/// to a canonical program within `limits`, and on seeded probe inputs ONNX Runtime meets
	/// `tolerance` against the canonical executor.
	fn verify_model(
		model: PassPointerAndReadCopy<FileHash, 32>,
		uri: PassFatPointerAndRead<&[u8]>,
		limits: PassFatPointerAndDecode<Limits>,
		tolerance: PassFatPointerAndDecode<Tolerance>,
	) -> AllocateAndReturnByCodec<InferenceResult<ModelFacts>> {
		host::with_provider(|p| p.verify_model(model, uri, limits, tolerance, None))
	}

	/// [`verify_model`](inference::verify_model), for a runtime with the second level: a node
	/// whose one-step is over `limits` (its work or its inputs' bytes) is disputable if it can
	/// be cut into sub-steps within `second_level`.
	#[version(2)]
	fn verify_model(
		model: PassPointerAndReadCopy<FileHash, 32>,
		uri: PassFatPointerAndRead<&[u8]>,
		limits: PassFatPointerAndDecode<Limits>,
		tolerance: PassFatPointerAndDecode<Tolerance>,
		second_level: PassFatPointerAndDecode<SecondLevelLimits>,
	) -> AllocateAndReturnByCodec<InferenceResult<ModelFacts>> {
		host::with_provider(|p| p.verify_model(model, uri, limits, tolerance, Some(second_level)))
	}

	/// Runs the canonical executor on `input`: the canonical outputs with their proofs against
	/// the trace root, for opening or answering a dispute. A node the executor cannot run on
	/// this input holds `edgeproof_canon::unrunnable_value()` in the trace (docs/protocol.md);
	/// an input that does not match the model's inputs is an error.
	fn canonical_output(
		model: PassPointerAndReadCopy<FileHash, 32>,
		uri: PassFatPointerAndRead<&[u8]>,
		input: PassFatPointerAndDecode<Vec<Tensor>>,
	) -> AllocateAndReturnByCodec<InferenceResult<CanonicalOutput>> {
		host::with_provider(|p| p.canonical_output(model, uri, input))
	}

	/// The two child hashes at `position` of the canonical trace tree of `input` (a bisection
	/// move).
	fn trace_children(
		model: PassPointerAndReadCopy<FileHash, 32>,
		uri: PassFatPointerAndRead<&[u8]>,
		input: PassFatPointerAndDecode<Vec<Tensor>>,
		position: PassFatPointerAndDecode<Position>,
	) -> AllocateAndReturnByCodec<InferenceResult<(Hash, Hash)>> {
		host::with_provider(|p| p.trace_children(model, uri, input, position))
	}

	/// The one-step witness for trace leaf `leaf` (a node leaf) of the canonical trace of
	/// `input`: the node, its program proof, its constants and its input tensors with proofs.
	/// `CanonicalFailed` for a node the executor cannot run on this input: no witness of it
	/// can verify.
	fn one_step(
		model: PassPointerAndReadCopy<FileHash, 32>,
		uri: PassFatPointerAndRead<&[u8]>,
		input: PassFatPointerAndDecode<Vec<Tensor>>,
		leaf: u64,
	) -> AllocateAndReturnByCodec<InferenceResult<OneStepWitness>> {
		host::with_provider(|p| p.one_step(model, uri, input, leaf))
	}

	/// The answer to `query` about the second level inside trace leaf `leaf` (a node leaf) of
	/// the canonical trace of `input`: the cut witness, the output's data root, children in
	/// its chunk tree or in a tile's segment-state tree, a sub-step witness
	/// (`edgeproof_canon::substep::player`).
	fn second_level(
		model: PassPointerAndReadCopy<FileHash, 32>,
		uri: PassFatPointerAndRead<&[u8]>,
		input: PassFatPointerAndDecode<Vec<Tensor>>,
		leaf: u64,
		query: PassFatPointerAndDecode<Query>,
	) -> AllocateAndReturnByCodec<InferenceResult<Answer>> {
		host::with_provider(|p| p.second_level(model, uri, input, leaf, query))
	}

	/// Tells the node that its checker found a wrong claim it cannot dispute: the checker key's
	/// account cannot pay the challenger bond. The node counts it in its metrics
	/// (`edgeproof_checker_unfunded_disputes_total`), for an alert to the operator, who must
	/// fund the account. Does nothing without an engine.
	fn note_unfunded_dispute() {
		let _ = host::with_provider(|p| {
			p.note_unfunded_dispute();
			Ok(())
		});
	}

	/// Tells the node what its checker did (a claim checked, a move sent), for its metrics
	/// (`edgeproof_checker_claims_total`, `edgeproof_checker_moves_total`). Does nothing without
	/// an engine.
	fn note(note: PassFatPointerAndDecode<CheckerNote>) {
		let _ = host::with_provider(|p| {
			p.note(note);
			Ok(())
		});
	}
}
