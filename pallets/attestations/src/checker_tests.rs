//! The checker off-chain worker in a test externality with the real inference engine (ONNX
//! Runtime and `edgeproof-canon`) on the fixture MLP (canon/tests/data).

use std::{path::PathBuf, sync::Arc};

use edgeproof_canon::{DType, Tensor, Tolerance};
use edgeproof_canon::{Hash, Limits, OneStepWitness, Position};
use edgeproof_primitives::{
	CanonicalOutput, InferenceError, InferenceExt, InferenceProvider, InferenceResult, ModelFacts,
};
use frame_support::{assert_ok, BoundedVec};
use pallet_models::{ModelParamsOf, TensorSpec};
use sp_core::{
	offchain::{testing, OffchainDbExt, OffchainWorkerExt},
	H256,
};

use crate::{
	checker::{self, outcome},
	mock::*,
	CheckOutcome, ClaimId, Parameters, Params,
};

fn data(name: &str) -> PathBuf {
	PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../canon/tests/data").join(name)
}

/// The ONNX Runtime library (`scripts/setup.sh` installs it; `scripts/env.sh` sets the path).
fn ort_lib() -> PathBuf {
	let path = edgeproof_offchain::default_onnxruntime_lib();
	assert!(path.is_file(), "no ONNX Runtime at {}: run scripts/setup.sh", path.display());
	path
}

fn f32_file(name: &str, shape: Vec<u32>) -> Tensor {
	Tensor::new(DType::F32, shape, std::fs::read(data(name)).expect("fixture")).expect("tensor")
}

/// The fixture MLP's input and its onnxruntime reference output.
fn mlp_io() -> (Tensor, Tensor) {
	(f32_file("mlp.input_0.bin", vec![1, 16]), f32_file("mlp.output_0.bin", vec![1, 8]))
}

/// Registers and activates the fixture MLP at `uri` with `tolerance`; returns its id.
fn activate_mlp(uri: &str, tolerance: Tolerance) -> H256 {
	let bytes = std::fs::read(data("mlp.onnx")).expect("fixture");
	let spec = |name: &str, shape: &[u32]| TensorSpec {
		name: BoundedVec::truncate_from(name.as_bytes().to_vec()),
		dtype: DType::F32,
		shape: BoundedVec::truncate_from(shape.to_vec()),
		dynamic_batch: false,
	};
	let params = ModelParamsOf::<Test> {
		file_hash: H256(sp_io::hashing::blake2_256(&bytes)),
		name: BoundedVec::truncate_from(b"fixture-mlp".to_vec()),
		version: 1,
		uri: BoundedVec::truncate_from(uri.as_bytes().to_vec()),
		byte_size: bytes.len() as u64,
		inputs: BoundedVec::truncate_from(vec![spec("input", &[1, 16])]),
		outputs: BoundedVec::truncate_from(vec![spec("output", &[1, 8])]),
		tolerance,
		program_root: H256::repeat_byte(1),
		node_count: 1,
		program_work: 1,
	};
	let id = pallet_models::model_id(&OWNER, &params);
	assert_ok!(Models::register_model(RuntimeOrigin::signed(OWNER), params));
	assert_ok!(Models::activate(RuntimeOrigin::root(), id));
	id
}

/// The file hash of registered model `model`: what the engine takes.
fn file_of(model: H256) -> H256 {
	<Models as pallet_models::ModelRegistry>::file(&model).expect("registered").hash
}

fn mlp_tolerance() -> Tolerance {
	Tolerance::Relative { abs: 1e-5f32.to_bits(), rel: 1e-4f32.to_bits() }
}

/// A test externality with the real engine and an offchain database, on a validator. Returns the engine too, for direct comparisons.
fn checker_ext(
	store: &tempfile::TempDir,
) -> (sp_io::TestExternalities, Arc<edgeproof_offchain::Engine>) {
	checker_ext_with(store, |engine| engine)
}

/// [`checker_ext`] with the provider the workers see made by `provider` from the real engine.
fn checker_ext_with(
	store: &tempfile::TempDir,
	provider: impl FnOnce(Arc<edgeproof_offchain::Engine>) -> Arc<dyn InferenceProvider>,
) -> (sp_io::TestExternalities, Arc<edgeproof_offchain::Engine>) {
	let mut ext = ExtBuilder::build();
	// The test offchain externality says this node is a validator.
	let (offchain, _state) = testing::TestOffchainExt::new();
	ext.register_extension(OffchainDbExt::new(offchain.clone()));
	ext.register_extension(OffchainWorkerExt::new(offchain));
	let engine = Arc::new(
		// The fixture is a local file.
		edgeproof_offchain::Engine::new(
			edgeproof_offchain::EngineConfig::new(Some(ort_lib()), store.path())
				.allowing_local_sources(),
		)
		.expect("engine"),
	);
	ext.register_extension(InferenceExt::new(provider(engine.clone())));
	WRONG_CLAIMS.with(|w| w.borrow_mut().clear());
	DISPUTE_STARTS.with(|d| d.set(true));
	(ext, engine)
}

/// Submits a claim of `device` (registered under ALICE) on `model`; returns its id.
fn submit(
	device: &TestDevice,
	model: H256,
	input: &Tensor,
	output: &Tensor,
	nonce: u64,
) -> ClaimId {
	let (input, output) = (payload(&[input.clone()]), payload(&[output.clone()]));
	let signature = device.sign_claim(model, &input, &output, nonce);
	let id = crate::NextClaimId::<Test>::get();
	assert_ok!(Attestations::submit(
		RuntimeOrigin::signed(ALICE),
		device.key(),
		model,
		input,
		output,
		nonce,
		signature
	));
	id
}

/// `claim` (on the fixture MLP with `input`) is the only one found wrong, with the canonical
/// trace root, and its dispute runs.
fn assert_only_disputed(
	engine: &edgeproof_offchain::Engine,
	model: H256,
	input: &Tensor,
	claim: ClaimId,
) {
	let canonical = InferenceProvider::canonical_output(
		engine,
		file_of(model),
		mlp_uri().as_bytes(),
		vec![input.clone()],
	)
	.expect("canonical");
	assert_eq!(
		outcome(claim),
		Some(CheckOutcome::Wrong { trace_root: canonical.trace_root, disputed: true })
	);
	assert_eq!(WRONG_CLAIMS.with(|w| w.borrow().clone()), vec![(claim, canonical.trace_root)]);
}

/// The fixture MLP active with its usual tolerance, a phone registered under ALICE, and the
/// MLP's input with its ONNX Runtime output.
fn mlp_and_phone() -> (H256, TestDevice, Tensor, Tensor) {
	let model = activate_mlp(&mlp_uri(), mlp_tolerance());
	let device = TestDevice::ed("phone");
	device.register(ALICE);
	let (input, output) = mlp_io();
	(model, device, input, output)
}

fn mlp_uri() -> String {
	format!("file://{}", data("mlp.onnx").display())
}

/// `t` with `delta` added to its first element.
fn tampered(t: &Tensor, delta: f32) -> Tensor {
	let mut t = t.clone();
	let first = f32::from_le_bytes([t.data[0], t.data[1], t.data[2], t.data[3]]) + delta;
	t.data[..4].copy_from_slice(&first.to_le_bytes());
	t
}

#[test]
fn an_honest_claim_agrees_and_a_wrong_one_is_caught() {
	let store = tempfile::tempdir().expect("tempdir");
	let (mut ext, engine) = checker_ext(&store);
	ext.execute_with(|| {
		let (model, device, input, output) = mlp_and_phone();
		let honest = submit(&device, model, &input, &output, 1);
		let wrong = submit(&device, model, &input, &tampered(&output, 0.5), 2);
		// Within the tolerance (1e-5 absolute): still honest.
		let close = submit(&device, model, &input, &tampered(&output, 1e-6), 3);

		checker::check_pending_claims::<Test>(1);

		assert_eq!(outcome(honest), Some(CheckOutcome::Agrees));
		assert_eq!(outcome(close), Some(CheckOutcome::Agrees));
		assert_only_disputed(&engine, model, &input, wrong);

		// Checked once: the next block hands nothing over again.
		checker::check_pending_claims::<Test>(2);
		assert_eq!(WRONG_CLAIMS.with(|w| w.borrow().len()), 1);
	});
}

#[test]
fn the_canonical_executor_decides_when_onnx_runtime_disagrees() {
	let store = tempfile::tempdir().expect("tempdir");
	let (mut ext, engine) = checker_ext(&store);
	ext.execute_with(|| {
		// Exact tolerance, and the claim is the canonical output bit for bit.
		let model = activate_mlp(&mlp_uri(), Tolerance::Exact);
		let device = TestDevice::sr("robot");
		device.register(ALICE);
		let (input, _) = mlp_io();
		let canonical = InferenceProvider::canonical_output(
			&*engine,
			file_of(model),
			mlp_uri().as_bytes(),
			vec![input.clone()],
		)
		.expect("canonical")
		.outputs
		.remove(0)
		.tensor;
		let ort = InferenceProvider::run(
			&*engine,
			file_of(model),
			mlp_uri().as_bytes(),
			vec![input.clone()],
		)
		.expect("ort");
		let claim = submit(&device, model, &input, &canonical, 1);

		checker::check_pending_claims::<Test>(1);

		// ONNX Runtime differs from the canonical executor in the last bits on this machine or
		// not; either way the claim stands, and says which path decided.
		let expected =
			if ort[0] == canonical { CheckOutcome::Agrees } else { CheckOutcome::CanonicalAgrees };
		assert_eq!(outcome(claim), Some(expected));
		assert!(WRONG_CLAIMS.with(|w| w.borrow().is_empty()));
	});
}

#[test]
fn claims_not_drawn_are_recorded_as_not_sampled() {
	let store = tempfile::tempdir().expect("tempdir");
	let (mut ext, _) = checker_ext(&store);
	ext.execute_with(|| {
		assert_ok!(Attestations::set_parameters(
			RuntimeOrigin::root(),
			Parameters {
				challenge_period: CHALLENGE_PERIOD,
				check_probability: sp_runtime::Perbill::zero()
			}
		));
		let (model, device, input, output) = mlp_and_phone();
		let claim = submit(&device, model, &input, &tampered(&output, 1.0), 1);
		checker::check_pending_claims::<Test>(1);
		assert_eq!(outcome(claim), Some(CheckOutcome::NotSampled));
		assert!(WRONG_CLAIMS.with(|w| w.borrow().is_empty()));
	});
}

#[test]
fn an_unreachable_model_is_retried_and_expired_claims_are_skipped() {
	let store = tempfile::tempdir().expect("tempdir");
	let (mut ext, _) = checker_ext(&store);
	ext.execute_with(|| {
		// Nothing listens on port 9.
		let model = activate_mlp("http://127.0.0.1:9/mlp.onnx", mlp_tolerance());
		let device = TestDevice::ed("phone");
		device.register(ALICE);
		let (input, output) = mlp_io();
		let claim = submit(&device, model, &input, &output, 1);
		checker::check_pending_claims::<Test>(1);
		assert_eq!(outcome(claim), None, "an unreachable file is tried again later");
		// After its challenge period the claim is no longer checked.
		let ends = Params::<Test>::get().challenge_period + 1;
		checker::check_pending_claims::<Test>(ends);
		assert_eq!(outcome(claim), None);
	});
}

#[test]
fn a_dispute_that_did_not_start_is_tried_again_each_block() {
	let store = tempfile::tempdir().expect("tempdir");
	let (mut ext, _) = checker_ext(&store);
	ext.execute_with(|| {
		let (model, device, input, output) = mlp_and_phone();
		let wrong = submit(&device, model, &input, &tampered(&output, 0.5), 1);
		// The dispute pallet cannot start one (e.g. its `open` was refused).
		DISPUTE_STARTS.with(|d| d.set(false));
		checker::check_pending_claims::<Test>(1);
		checker::check_pending_claims::<Test>(2);
		assert_eq!(WRONG_CLAIMS.with(|w| w.borrow().len()), 2, "asked again on the next block");
		assert!(matches!(outcome(wrong), Some(CheckOutcome::Wrong { disputed: false, .. })));
		DISPUTE_STARTS.with(|d| d.set(true));
		checker::check_pending_claims::<Test>(3);
		assert!(matches!(outcome(wrong), Some(CheckOutcome::Wrong { disputed: true, .. })));
		checker::check_pending_claims::<Test>(4);
		assert_eq!(WRONG_CLAIMS.with(|w| w.borrow().len()), 3, "not asked once it started");
	});
}

/// The real engine, except that ONNX Runtime fails on every input, as it does on an input it
/// refuses (e.g. an integer `Gather` index out of range). The canonical functions are the
/// engine's.
struct OrtFails(Arc<edgeproof_offchain::Engine>);

impl InferenceProvider for OrtFails {
	fn run(&self, _: H256, _: &[u8], _: Vec<Tensor>) -> InferenceResult<Vec<Tensor>> {
		Err(InferenceError::EngineFailed)
	}

	fn verify_model(
		&self,
		model: H256,
		uri: &[u8],
		limits: Limits,
		tolerance: Tolerance,
		second_level: Option<edgeproof_primitives::SecondLevelLimits>,
	) -> InferenceResult<ModelFacts> {
		InferenceProvider::verify_model(&*self.0, model, uri, limits, tolerance, second_level)
	}

	fn canonical_output(
		&self,
		model: H256,
		uri: &[u8],
		input: Vec<Tensor>,
	) -> InferenceResult<CanonicalOutput> {
		InferenceProvider::canonical_output(&*self.0, model, uri, input)
	}

	fn trace_children(
		&self,
		model: H256,
		uri: &[u8],
		input: Vec<Tensor>,
		position: Position,
	) -> InferenceResult<(Hash, Hash)> {
		InferenceProvider::trace_children(&*self.0, model, uri, input, position)
	}

	fn one_step(
		&self,
		model: H256,
		uri: &[u8],
		input: Vec<Tensor>,
		leaf: u64,
	) -> InferenceResult<OneStepWitness> {
		InferenceProvider::one_step(&*self.0, model, uri, input, leaf)
	}

	fn second_level(
		&self,
		model: H256,
		uri: &[u8],
		input: Vec<Tensor>,
		leaf: u64,
		query: edgeproof_primitives::Query,
	) -> InferenceResult<edgeproof_primitives::Answer> {
		InferenceProvider::second_level(&*self.0, model, uri, input, leaf, query)
	}
}

/// Attack (issue 14, item 1): a claim whose input makes ONNX Runtime fail used to be recorded
/// `Failed` and finalise with any output. The canonical executor now decides it: the wrong
/// claim is disputed, the honest one stands.
#[test]
fn a_claim_onnx_runtime_fails_on_is_decided_by_the_canonical_executor() {
	let store = tempfile::tempdir().expect("tempdir");
	let (mut ext, engine) =
		checker_ext_with(&store, |engine| Arc::new(OrtFails(engine)) as Arc<dyn InferenceProvider>);
	ext.execute_with(|| {
		let (model, device, input, output) = mlp_and_phone();
		let honest = submit(&device, model, &input, &output, 1);
		let wrong = submit(&device, model, &input, &tampered(&output, 0.5), 2);

		checker::check_pending_claims::<Test>(1);

		assert_eq!(outcome(honest), Some(CheckOutcome::CanonicalAgrees));
		assert_only_disputed(&engine, model, &input, wrong);
	});
}

/// Flooding (issue 14, item 3): the checker used to walk claims in id order, so claims with a
/// long challenge period ahead of them could use up its time budget while a later claim with a
/// shorter one finalised unchecked. It now checks the claims nearest the end of their
/// challenge period first.
#[test]
fn claims_nearest_the_end_of_their_challenge_period_are_checked_first() {
	let store = tempfile::tempdir().expect("tempdir");
	let (mut ext, _) = checker_ext(&store);
	ext.execute_with(|| {
		let (model, device, input, output) = mlp_and_phone();
		let early_id = submit(&device, model, &input, &tampered(&output, 0.5), 1);
		// Root shortens the challenge period: the next claim finalises first.
		assert_ok!(Attestations::set_parameters(
			RuntimeOrigin::root(),
			Parameters {
				challenge_period: CHALLENGE_PERIOD / 2,
				check_probability: sp_runtime::Perbill::one()
			}
		));
		let urgent = submit(&device, model, &input, &tampered(&output, 0.7), 2);
		let ends = |id| crate::Claims::<Test>::get(id).expect("claim").challenge_ends;
		assert!(ends(urgent) < ends(early_id));

		checker::check_pending_claims::<Test>(1);

		let order: Vec<ClaimId> =
			WRONG_CLAIMS.with(|w| w.borrow().iter().map(|(c, _)| *c).collect());
		assert_eq!(order, vec![urgent, early_id], "the claim due first is disputed first");
	});
}
