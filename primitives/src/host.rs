//! The host side of the `inference` interface: the provider trait and its extension.

use alloc::{sync::Arc, vec::Vec};
use sp_externalities::ExternalitiesExt;

use crate::{
	Answer, CanonicalOutput, CheckerNote, FileHash, Hash, InferenceError, InferenceResult, Limits,
	ModelFacts, OneStepWitness, Position, Query, SecondLevelLimits, Tensor, Tolerance,
};

/// What the node implements behind the `inference` host functions (`edgeproof-offchain`'s
/// engine). See [`crate::inference`] for the meaning of each call.
pub trait InferenceProvider: Send + Sync {
	/// See [`crate::inference::run`].
	fn run(&self, model: FileHash, uri: &[u8], input: Vec<Tensor>) -> InferenceResult<Vec<Tensor>>;

	/// See [`crate::inference::verify_model`] (`second_level`: from version 2).
	fn verify_model(
		&self,
		model: FileHash,
		uri: &[u8],
		limits: Limits,
		tolerance: Tolerance,
		second_level: Option<SecondLevelLimits>,
	) -> InferenceResult<ModelFacts>;

	/// See [`crate::inference::canonical_output`].
	fn canonical_output(
		&self,
		model: FileHash,
		uri: &[u8],
		input: Vec<Tensor>,
	) -> InferenceResult<CanonicalOutput>;

	/// See [`crate::inference::trace_children`].
	fn trace_children(
		&self,
		model: FileHash,
		uri: &[u8],
		input: Vec<Tensor>,
		position: Position,
	) -> InferenceResult<(Hash, Hash)>;

	/// See [`crate::inference::one_step`].
	fn one_step(
		&self,
		model: FileHash,
		uri: &[u8],
		input: Vec<Tensor>,
		leaf: u64,
	) -> InferenceResult<OneStepWitness>;

	/// See [`crate::inference::second_level`].
	fn second_level(
		&self,
		model: FileHash,
		uri: &[u8],
		input: Vec<Tensor>,
		leaf: u64,
		query: Query,
	) -> InferenceResult<Answer>;

	/// See [`crate::inference::note_unfunded_dispute`]. Nothing by default.
	fn note_unfunded_dispute(&self) {}

	/// See [`crate::inference::note`]. Nothing by default.
	fn note(&self, _note: CheckerNote) {}
}

sp_externalities::decl_extension! {
	/// The inference engine, registered by the node for off-chain workers.
	pub struct InferenceExt(Arc<dyn InferenceProvider>);
}

impl InferenceExt {
	/// Wraps a provider.
	pub fn new(provider: Arc<dyn InferenceProvider>) -> Self {
		Self(provider)
	}
}

/// Calls `f` with the registered provider, or returns `Unavailable` if there is none (or no
/// externalities at all). The externalities are released before `f` runs, so a long inference
/// does not hold them.
pub(crate) fn with_provider<R>(
	f: impl FnOnce(&dyn InferenceProvider) -> InferenceResult<R>,
) -> InferenceResult<R> {
	let provider = sp_externalities::with_externalities(|mut ext| {
		ext.extension::<InferenceExt>().map(|e| e.0.clone())
	})
	.flatten()
	.ok_or(InferenceError::Unavailable)?;
	f(&*provider)
}
