//! The off-chain vote, end to end in a test externality: the real inference engine (ONNX
//! Runtime and `edgeproof-canon`) checks the fixture MLP and the worker's vote lands in the
//! transaction pool.

use std::{path::PathBuf, sync::Arc};

use codec::Decode;
use edgeproof_canon::{DType, Tolerance};
use edgeproof_primitives::{
	Disputability, InferenceError, InferenceExt, ModelFacts, NotDisputable,
};
use frame_support::{assert_ok, BoundedVec};
use sp_core::{
	offchain::{testing, OffchainDbExt, OffchainWorkerExt, TransactionPoolExt},
	H256,
};
use sp_runtime::testing::UintAuthorityId;

use crate::{mock::*, offchain, Call, ModelParamsOf, ModelStatus, PendingModels, Verdict};

type Extrinsic = sp_runtime::testing::TestXt<RuntimeCall, ()>;

fn fixture_path(name: &str) -> PathBuf {
	PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../canon/tests/data").join(name)
}

/// The ONNX Runtime library (`scripts/setup.sh` installs it; `scripts/env.sh` sets the path).
fn ort_lib() -> PathBuf {
	let path = edgeproof_offchain::default_onnxruntime_lib();
	assert!(path.is_file(), "no ONNX Runtime at {}: run scripts/setup.sh", path.display());
	path
}

/// The registration of the fixture MLP (input F32 [1, 16], output F32 [1, 8]) served from
/// `uri`, with its real program root.
fn mlp_params(uri: &str) -> ModelParamsOf<Test> {
	let bytes = std::fs::read(fixture_path("mlp.onnx")).expect("fixture");
	let compiled =
		edgeproof_canon::compiler::compile(&bytes, &edgeproof_offchain::compile_options())
			.expect("the fixture compiles");
	let root = edgeproof_canon::commit::program_root(&compiled.program).expect("root");
	ModelParamsOf::<Test> {
		file_hash: H256(sp_io::hashing::blake2_256(&bytes)),
		name: BoundedVec::truncate_from(b"mlp".to_vec()),
		version: 1,
		uri: BoundedVec::truncate_from(uri.as_bytes().to_vec()),
		byte_size: bytes.len() as u64,
		inputs: BoundedVec::truncate_from(vec![spec("input", DType::F32, &[1, 16], false)]),
		outputs: BoundedVec::truncate_from(vec![spec("output", DType::F32, &[1, 8], false)]),
		tolerance: Tolerance::Relative { abs: 1e-5f32.to_bits(), rel: 1e-4f32.to_bits() },
		program_root: H256(root),
		node_count: compiled.program.nodes.len() as u32,
		program_work: compiled.program.cost().expect("static shapes").work,
	}
}

fn file_uri(name: &str) -> String {
	format!("file://{}", fixture_path(name).display())
}

/// A test externality with the real inference engine, an offchain database, a transaction
/// pool and `keys` as this node's checker keys. Returns the pool state to inspect.
fn offchain_ext(
	keys: Vec<AccountId>,
	store: &tempfile::TempDir,
) -> (sp_io::TestExternalities, Arc<parking_lot::RwLock<testing::PoolState>>) {
	let mut ext = ExtBuilder::build();
	let (offchain, _state) = testing::TestOffchainExt::new();
	let (pool, pool_state) = testing::TestTransactionPoolExt::new();
	ext.register_extension(OffchainDbExt::new(offchain.clone()));
	ext.register_extension(OffchainWorkerExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool));
	// The fixtures are local files and a server on 127.0.0.1.
	let engine = edgeproof_offchain::Engine::new(
		edgeproof_offchain::EngineConfig::new(Some(ort_lib()), store.path())
			.allowing_local_sources(),
	)
	.expect("engine");
	ext.register_extension(InferenceExt::new(Arc::new(engine)));
	UintAuthorityId::set_all_keys(keys);
	(ext, pool_state)
}

/// The votes in the pool: (signer, model, verdict).
fn pooled_votes(
	pool: &Arc<parking_lot::RwLock<testing::PoolState>>,
) -> Vec<(AccountId, H256, Verdict)> {
	pool.read()
		.transactions
		.iter()
		.map(|bytes| {
			let xt = Extrinsic::decode(&mut &bytes[..]).expect("a test extrinsic");
			let signer = match xt.preamble {
				sp_runtime::generic::Preamble::Signed(who, ..) => who,
				other => panic!("the worker sent an unsigned transaction: {other:?}"),
			};
			match xt.function {
				RuntimeCall::Models(Call::vote { model, verdict }) => (signer, model, verdict),
				other => panic!("unexpected call {other:?}"),
			}
		})
		.collect()
}

#[test]
fn a_voter_checks_a_pending_model_and_votes_approve() {
	let store = tempfile::tempdir().expect("tempdir");
	let (mut ext, pool) = offchain_ext(vec![V1, 77], &store);
	ext.execute_with(|| {
		let p = mlp_params(&file_uri("mlp.onnx"));
		assert_ok!(Models::register_model(RuntimeOrigin::signed(ALICE), p.clone()));
		let model = crate::model_id(&ALICE, &p);
		offchain::vote_on_pending_models::<Test>(1);
		// Key 77 is not a voter: only V1 votes.
		assert_eq!(pooled_votes(&pool), vec![(V1, model, Verdict::Approve)]);

		// The vote waits in the pool: the next blocks do not send it again...
		offchain::vote_on_pending_models::<Test>(2);
		assert_eq!(pooled_votes(&pool).len(), 1);
		// ... until it is overdue.
		offchain::vote_on_pending_models::<Test>(1 + offchain::RESEND_AFTER as u64);
		assert_eq!(pooled_votes(&pool).len(), 2);

		// Once the vote is on chain, nothing is sent; the model decides with the threshold.
		assert_ok!(Models::vote(RuntimeOrigin::signed(V1), model, Verdict::Approve));
		offchain::vote_on_pending_models::<Test>(100);
		assert_eq!(pooled_votes(&pool).len(), 2);
		assert_ok!(Models::vote(RuntimeOrigin::signed(V2), model, Verdict::Approve));
		assert_eq!(crate::Models::<Test>::get(model).map(|r| r.status), Some(ModelStatus::Active));
		assert!(!PendingModels::<Test>::contains_key(model));
		crate::Pallet::<Test>::do_try_state().expect("invariants");
	});
}

#[test]
fn a_registration_that_lies_is_voted_down() {
	let store = tempfile::tempdir().expect("tempdir");
	let (mut ext, pool) = offchain_ext(vec![V1], &store);
	ext.execute_with(|| {
		let honest = mlp_params(&file_uri("mlp.onnx"));
		let mut wrong_root = honest.clone();
		wrong_root.program_root = H256::repeat_byte(7);
		wrong_root.version = 2;
		assert_ok!(Models::register_model(RuntimeOrigin::signed(ALICE), wrong_root.clone()));
		offchain::vote_on_pending_models::<Test>(1);
		assert_eq!(
			pooled_votes(&pool),
			vec![(V1, crate::model_id(&ALICE, &honest), Verdict::Reject)]
		);
	});
}

#[test]
fn a_registration_that_understates_its_work_is_voted_down() {
	// Issue 14, item 3: claim bonds grow with the declared work, so an owner who understates it
	// would let claims on its model flood the checkers at a discount.
	let store = tempfile::tempdir().expect("tempdir");
	let (mut ext, pool) = offchain_ext(vec![V1], &store);
	ext.execute_with(|| {
		let mut cheap = mlp_params(&file_uri("mlp.onnx"));
		assert!(cheap.program_work > 0);
		cheap.program_work -= 1;
		assert_ok!(Models::register_model(RuntimeOrigin::signed(ALICE), cheap.clone()));
		offchain::vote_on_pending_models::<Test>(1);
		assert_eq!(
			pooled_votes(&pool),
			vec![(V1, crate::model_id(&ALICE, &cheap), Verdict::Reject)]
		);
	});
}

#[test]
fn a_file_with_another_hash_is_voted_down() {
	let store = tempfile::tempdir().expect("tempdir");
	let (mut ext, pool) = offchain_ext(vec![V1], &store);
	ext.execute_with(|| {
		// The MLP's registration, but the URI serves the CNN.
		let p = mlp_params(&file_uri("cnn.onnx"));
		assert_ok!(Models::register_model(RuntimeOrigin::signed(ALICE), p.clone()));
		offchain::vote_on_pending_models::<Test>(1);
		assert_eq!(pooled_votes(&pool), vec![(V1, crate::model_id(&ALICE, &p), Verdict::Reject)]);
	});
}

#[test]
fn an_unreachable_uri_sends_nothing_and_is_retried() {
	let store = tempfile::tempdir().expect("tempdir");
	let (mut ext, pool) = offchain_ext(vec![V1], &store);
	ext.execute_with(|| {
		// Nothing listens on port 9 of 127.0.0.1.
		let p = mlp_params("http://127.0.0.1:9/mlp.onnx");
		assert_ok!(Models::register_model(RuntimeOrigin::signed(ALICE), p));
		offchain::vote_on_pending_models::<Test>(1);
		offchain::vote_on_pending_models::<Test>(2);
		assert!(pooled_votes(&pool).is_empty());
	});
}

#[test]
fn a_node_without_voter_keys_does_nothing() {
	let store = tempfile::tempdir().expect("tempdir");
	let (mut ext, pool) = offchain_ext(vec![77], &store);
	ext.execute_with(|| {
		assert_ok!(Models::register_model(
			RuntimeOrigin::signed(ALICE),
			mlp_params(&file_uri("mlp.onnx"))
		));
		offchain::vote_on_pending_models::<Test>(1);
		assert!(pooled_votes(&pool).is_empty());
	});
}

/// The facts of an honest registration of `p`.
fn facts_of(p: &ModelParamsOf<Test>) -> ModelFacts {
	let spec = |s: &crate::TensorSpecOf<Test>| edgeproof_primitives::TensorSpec {
		dtype: s.dtype,
		shape: s.shape.to_vec(),
	};
	ModelFacts {
		file: p.file_hash,
		byte_size: p.byte_size,
		inputs: p.inputs.iter().map(spec).collect(),
		outputs: p.outputs.iter().map(spec).collect(),
		program_root: Some(p.program_root.0),
		node_count: p.node_count,
		program_work: p.program_work,
		disputable: Disputability::Disputable,
	}
}

#[test]
fn the_verdict_rule() {
	ExtBuilder::build().execute_with(|| {
		let mut p = params(1);
		for s in p.inputs.iter_mut().chain(p.outputs.iter_mut()) {
			s.dynamic_batch = false;
		}
		let verdict = |p: &ModelParamsOf<Test>, f: ModelFacts| offchain::verdict::<Test>(p, &Ok(f));
		assert_eq!(verdict(&p, facts_of(&p)), Some(Verdict::Approve));

		let mut f = facts_of(&p);
		f.byte_size += 1;
		assert_eq!(verdict(&p, f), Some(Verdict::Reject));
		let mut f = facts_of(&p);
		f.program_root = None;
		assert_eq!(verdict(&p, f), Some(Verdict::Reject));
		let mut f = facts_of(&p);
		f.node_count -= 1;
		assert_eq!(verdict(&p, f), Some(Verdict::Reject));
		let mut f = facts_of(&p);
		f.program_work += 1;
		assert_eq!(verdict(&p, f), Some(Verdict::Reject));
		let mut f = facts_of(&p);
		f.disputable = Disputability::NotDisputable(NotDisputable::ToleranceNotMet { probe: 0 });
		assert_eq!(verdict(&p, f), Some(Verdict::Reject));
		let mut f = facts_of(&p);
		f.outputs[0].dtype = DType::I64;
		assert_eq!(verdict(&p, f), Some(Verdict::Reject));
		let mut f = facts_of(&p);
		f.inputs.push(f.inputs[0].clone());
		assert_eq!(verdict(&p, f), Some(Verdict::Reject));

		// A dynamic dimension in the file matches a declared 1, nothing else.
		let mut f = facts_of(&p);
		f.inputs[0].shape[0] = edgeproof_primitives::DYNAMIC_DIM;
		assert_eq!(
			verdict(&p, f.clone()),
			Some(Verdict::Reject),
			"declared 4, dynamic in the file"
		);
		p.inputs[0].shape[0] = 1;
		let mut f = facts_of(&p);
		f.inputs[0].shape[0] = edgeproof_primitives::DYNAMIC_DIM;
		assert_eq!(verdict(&p, f.clone()), Some(Verdict::Approve));
		// A declared dynamic batch above 1 cannot be disputed (programs pin batch 1).
		p.inputs[0].dynamic_batch = true;
		assert_eq!(verdict(&p, facts_of(&p)), Some(Verdict::Approve), "a dynamic batch of 1");
		p.inputs[0].shape[0] = 4;
		assert_eq!(verdict(&p, facts_of(&p)), Some(Verdict::Reject));

		// Errors: transient ones send nothing, the others reject.
		for e in [
			InferenceError::Unavailable,
			InferenceError::LibraryMissing,
			InferenceError::Unreachable,
			InferenceError::StoreFailed,
			InferenceError::EngineFailed,
		] {
			assert_eq!(offchain::verdict::<Test>(&p, &Err(e.clone())), None, "{e:?}");
		}
		for e in [
			InferenceError::UnsupportedUri,
			InferenceError::ModelNotFound,
			InferenceError::TooLarge { limit: 1 },
			InferenceError::HashMismatch { found: H256::zero() },
			InferenceError::MalformedModel,
			InferenceError::NotCompilable,
		] {
			assert_eq!(
				offchain::verdict::<Test>(&p, &Err(e.clone())),
				Some(Verdict::Reject),
				"{e:?}"
			);
		}
	});
}
