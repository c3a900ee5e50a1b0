//! The engine behind the `inference` host functions.

use std::time::Instant;

use edgeproof_canon::{Hash, Limits, OneStepWitness, Position, Tensor, Tolerance};
use edgeproof_primitives::{
	Answer, CanonicalOutput, CheckerNote, FileHash, InferenceError, InferenceProvider,
	InferenceResult, ModelFacts, Query, SecondLevelLimits,
};

use crate::{engine::Engine, error::Error};

const LOG_TARGET: &str = "edgeproof::inference";

/// The URI as UTF-8, or `UnsupportedUri`.
fn uri_str(uri: &[u8]) -> Result<&str, Error> {
	std::str::from_utf8(uri).map_err(|_| Error::UnsupportedUri(String::from_utf8_lossy(uri).into()))
}

impl Engine {
	/// Runs one call: times it, logs an error with its details, converts it for the runtime
	/// and records the metrics.
	fn report<T>(
		&self,
		call: &str,
		model: &FileHash,
		f: impl FnOnce() -> Result<T, Error>,
	) -> InferenceResult<T> {
		let start = Instant::now();
		let result = f().map_err(|e| {
			log::debug!(target: LOG_TARGET, "{call}({model:?}) failed: {e}");
			InferenceError::from(&e)
		});
		if let Some(m) = self.metrics() {
			m.observe(call, start.elapsed().as_secs_f64(), &result);
		}
		result
	}
}

impl InferenceProvider for Engine {
	fn note_unfunded_dispute(&self) {
		if let Some(m) = self.metrics() {
			m.unfunded_dispute();
		}
	}

	fn note(&self, note: CheckerNote) {
		if let Some(m) = self.metrics() {
			m.note(note);
		}
	}

	fn run(&self, model: FileHash, uri: &[u8], input: Vec<Tensor>) -> InferenceResult<Vec<Tensor>> {
		self.report("run", &model, || {
			uri_str(uri).and_then(|uri| Engine::run(self, &model, uri, &input))
		})
	}

	fn verify_model(
		&self,
		model: FileHash,
		uri: &[u8],
		limits: Limits,
		tolerance: Tolerance,
		second_level: Option<SecondLevelLimits>,
	) -> InferenceResult<ModelFacts> {
		self.report("verify_model", &model, || {
			uri_str(uri).and_then(|uri| {
				Engine::verify_model(self, &model, uri, &limits, tolerance, second_level)
			})
		})
	}

	fn canonical_output(
		&self,
		model: FileHash,
		uri: &[u8],
		input: Vec<Tensor>,
	) -> InferenceResult<CanonicalOutput> {
		self.report("canonical_output", &model, || {
			uri_str(uri).and_then(|uri| Engine::canonical_output(self, &model, uri, &input))
		})
	}

	fn trace_children(
		&self,
		model: FileHash,
		uri: &[u8],
		input: Vec<Tensor>,
		position: Position,
	) -> InferenceResult<(Hash, Hash)> {
		self.report("trace_children", &model, || {
			uri_str(uri).and_then(|uri| Engine::trace_children(self, &model, uri, &input, position))
		})
	}

	fn one_step(
		&self,
		model: FileHash,
		uri: &[u8],
		input: Vec<Tensor>,
		leaf: u64,
	) -> InferenceResult<OneStepWitness> {
		self.report("one_step", &model, || {
			uri_str(uri).and_then(|uri| Engine::one_step(self, &model, uri, &input, leaf))
		})
	}

	fn second_level(
		&self,
		model: FileHash,
		uri: &[u8],
		input: Vec<Tensor>,
		leaf: u64,
		query: Query,
	) -> InferenceResult<Answer> {
		self.report("second_level", &model, || {
			uri_str(uri)
				.and_then(|uri| Engine::second_level(self, &model, uri, &input, leaf, &query))
		})
	}
}
