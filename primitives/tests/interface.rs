//! The `inference` interface with a stand-in provider: calls reach the registered extension,
//! and the SCALE encoding of the error is stable.

use std::sync::Arc;

use codec::{Decode, Encode};
use edgeproof_primitives::{
	inference, CanonicalOutput, Disputability, FileHash, Hash, InferenceError, InferenceExt,
	InferenceProvider, InferenceResult, Limits, ModelFacts, OneStepWitness, Position, Tensor,
	Tolerance,
};
use sp_io::TestExternalities;

/// Echoes the input on `run`, knows nothing else.
struct Echo;

impl InferenceProvider for Echo {
	fn run(&self, _: FileHash, uri: &[u8], input: Vec<Tensor>) -> InferenceResult<Vec<Tensor>> {
		if uri.is_empty() {
			return Err(InferenceError::UnsupportedUri);
		}
		Ok(input)
	}
	fn verify_model(
		&self,
		model: FileHash,
		_: &[u8],
		_: Limits,
		_: Tolerance,
		second_level: Option<edgeproof_primitives::SecondLevelLimits>,
	) -> InferenceResult<ModelFacts> {
		Ok(ModelFacts {
			file: model,
			// Whether the second level came through (version 2 of the host function).
			byte_size: if second_level.is_some() { 2 } else { 1 },
			inputs: vec![],
			outputs: vec![],
			program_root: None,
			node_count: 0,
			program_work: 0,
			disputable: Disputability::Disputable,
		})
	}
	fn canonical_output(
		&self,
		_: FileHash,
		_: &[u8],
		_: Vec<Tensor>,
	) -> InferenceResult<CanonicalOutput> {
		Err(InferenceError::NotCompilable)
	}
	fn trace_children(
		&self,
		_: FileHash,
		_: &[u8],
		_: Vec<Tensor>,
		_: Position,
	) -> InferenceResult<(Hash, Hash)> {
		Err(InferenceError::BadPosition)
	}
	fn one_step(
		&self,
		_: FileHash,
		_: &[u8],
		_: Vec<Tensor>,
		_: u64,
	) -> InferenceResult<OneStepWitness> {
		Err(InferenceError::BadPosition)
	}

	fn second_level(
		&self,
		_: FileHash,
		_: &[u8],
		_: Vec<Tensor>,
		_: u64,
		_: edgeproof_primitives::Query,
	) -> InferenceResult<edgeproof_primitives::Answer> {
		Err(InferenceError::BadPosition)
	}
}

#[test]
fn calls_reach_the_registered_provider() {
	let mut ext = TestExternalities::default();
	ext.register_extension(InferenceExt::new(Arc::new(Echo)));
	let input = vec![Tensor::from_f32(vec![2], &[1.0, 2.0])];
	let model = FileHash::repeat_byte(7);
	ext.execute_with(|| {
		assert_eq!(inference::run(model, b"file:///m.onnx", input.clone()), Ok(input.clone()));
		assert_eq!(inference::run(model, b"", input.clone()), Err(InferenceError::UnsupportedUri));
		let second = edgeproof_primitives::SecondLevelLimits {
			sub_step: edgeproof_canon::substep::SubStepLimits::DEFAULT,
			max_cut_cost: 1,
		};
		let facts = inference::verify_model(model, b"x", Limits::NATIVE, Tolerance::Exact, second);
		assert_eq!(facts.map(|f| (f.file, f.byte_size)), Ok((model, 2)));
		assert_eq!(
			inference::canonical_output(model, b"x", input.clone()),
			Err(InferenceError::NotCompilable)
		);
	});
}

#[test]
fn without_a_provider_calls_are_unavailable() {
	let input = vec![Tensor::from_f32(vec![1], &[1.0])];
	let model = FileHash::zero();
	TestExternalities::default().execute_with(|| {
		assert_eq!(inference::run(model, b"x", input.clone()), Err(InferenceError::Unavailable));
		assert_eq!(
			inference::trace_children(model, b"x", input.clone(), Position::ROOT),
			Err(InferenceError::Unavailable)
		);
	});
	assert_eq!(inference::one_step(model, b"x", input, 1), Err(InferenceError::Unavailable));
}

#[test]
fn error_encoding_is_stable() {
	assert_eq!(InferenceError::Unavailable.encode(), vec![0]);
	assert_eq!(InferenceError::TooLarge { limit: 1 }.encode(), vec![5, 1, 0, 0, 0, 0, 0, 0, 0]);
	assert_eq!(InferenceError::StoreFailed.encode(), vec![17]);
	let e = InferenceError::InputShape { index: 3 };
	assert_eq!(InferenceError::decode(&mut &e.encode()[..]), Ok(e));
}
