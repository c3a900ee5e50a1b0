//! The engine on the fixture models: ONNX Runtime results against onnxruntime's reference
//! outputs, input checks, the canonical path and `verify_model`.

mod common;

use common::{engine, fixture, id_of, test_tolerance};
use edgeproof_canon::{
	merkle::{hash_pair, tree_depth},
	verify_one_step, within_tolerance, DType, Limits, OneStepContext, Position, Tensor, Tolerance,
};
use edgeproof_offchain::Error;
use edgeproof_primitives::{Disputability, NotDisputable};

#[test]
fn fixture_models_match_the_onnxruntime_reference() {
	let dir = tempfile::tempdir().unwrap();
	let engine = engine(&dir);
	for name in ["mlp", "cnn"] {
		let f = fixture(name);
		let out = engine.run(&f.id, &f.uri(), &f.input).unwrap();
		assert_eq!(out.len(), 1);
		assert_eq!((out[0].dtype, &out[0].shape), (DType::F32, &f.expected[0].shape), "{name}");
		assert!(within_tolerance(&out, &f.expected, test_tolerance()), "{name}: {out:?}");
	}
}

#[test]
fn sessions_are_cached_per_model() {
	let dir = tempfile::tempdir().unwrap();
	let engine = engine(&dir);
	let f = fixture("mlp");
	assert!(!engine.session(&f.id, &f.uri()).unwrap().1, "first use builds the session");
	assert!(engine.session(&f.id, &f.uri()).unwrap().1, "second use hits the cache");
	// Repeated runs give the same bits (pinned settings, one thread).
	let a = engine.run(&f.id, &f.uri(), &f.input).unwrap();
	let b = engine.run(&f.id, &f.uri(), &f.input).unwrap();
	assert_eq!(a, b);
}

#[test]
fn bad_inputs_are_distinct_errors() {
	let dir = tempfile::tempdir().unwrap();
	let engine = engine(&dir);
	let f = fixture("mlp");
	let uri = f.uri();
	let run = |input: Vec<Tensor>| engine.run(&f.id, &uri, &input).unwrap_err();

	let err = run(vec![]);
	assert!(matches!(err, Error::InputCount { expected: 1, found: 0 }), "{err}");
	let err = run(vec![Tensor::from_i64(vec![1, 16], &[0; 16])]);
	assert!(matches!(err, Error::InputDType { index: 0, .. }), "{err}");
	let err = run(vec![Tensor::from_f32(vec![1, 15], &[0.0; 15])]);
	assert!(matches!(err, Error::InputShape { index: 0, .. }), "{err}");
	let err = run(vec![Tensor { dtype: DType::F32, shape: vec![1, 16], data: vec![0; 63] }]);
	assert!(matches!(err, Error::MalformedTensor { index: 0, .. }), "{err}");
	// The same errors on the canonical path.
	let err = engine.canonical_output(&f.id, &uri, &[]).unwrap_err();
	assert!(matches!(err, Error::InputCount { expected: 1, found: 0 }), "{err}");
}

#[test]
fn malformed_onnx_with_the_right_hash_is_rejected() {
	let dir = tempfile::tempdir().unwrap();
	let engine = engine(&dir);
	let path = dir.path().join("garbage.onnx");
	std::fs::write(&path, b"this is not a protobuf").unwrap();
	let id = id_of(b"this is not a protobuf");
	let uri = common::file_uri(&path);
	let err = engine.run(&id, &uri, &[]).unwrap_err();
	assert!(matches!(err, Error::MalformedModel { .. }), "{err}");
	let err = engine.verify_model(&id, &uri, &Limits::NATIVE, test_tolerance(), None).unwrap_err();
	assert!(matches!(err, Error::MalformedModel { .. }), "{err}");
}

#[test]
fn canonical_output_agrees_with_onnxruntime_and_the_reference() {
	let dir = tempfile::tempdir().unwrap();
	let engine = engine(&dir);
	for name in ["mlp", "cnn"] {
		let f = fixture(name);
		let c = engine.canonical_output(&f.id, &f.uri(), &f.input).unwrap();
		let canonical: Vec<Tensor> = c.outputs.iter().map(|w| w.tensor.clone()).collect();
		assert!(within_tolerance(&canonical, &f.expected, test_tolerance()), "{name}");
		let fast = engine.run(&f.id, &f.uri(), &f.input).unwrap();
		assert!(within_tolerance(&fast, &canonical, test_tolerance()), "{name}");
		for w in &c.outputs {
			let leaf = edgeproof_canon::leaf_hash(&w.tensor);
			assert!(edgeproof_canon::merkle::verify_proof(
				&c.trace_root,
				c.trace_len,
				&leaf,
				&w.proof
			));
		}
	}
}

#[test]
fn bisection_material_checks_out_against_the_trace_root() {
	let dir = tempfile::tempdir().unwrap();
	let engine = engine(&dir);
	let f = fixture("cnn");
	let uri = f.uri();
	let c = engine.canonical_output(&f.id, &uri, &f.input).unwrap();
	let (l, r) = engine.trace_children(&f.id, &uri, &f.input, Position::ROOT).unwrap();
	assert_eq!(hash_pair(&l, &r), c.trace_root);

	let facts = engine.verify_model(&f.id, &uri, &Limits::NATIVE, test_tolerance(), None).unwrap();
	let depth = tree_depth(c.trace_len);
	let m = 1u64;
	for k in [m, c.trace_len - 1] {
		let w = engine.one_step(&f.id, &uri, &f.input, k).unwrap();
		let ctx = OneStepContext {
			program_root: facts.program_root.unwrap(),
			node_count: facts.node_count,
			input_count: m as u32,
			trace_root: c.trace_root,
			limits: Limits::NATIVE,
		};
		let leaf = verify_one_step(&ctx, k, &w).unwrap();
		let parent = Position { depth: depth - 1, index: k / 2 };
		let (l, r) = engine.trace_children(&f.id, &uri, &f.input, parent).unwrap();
		assert_eq!(leaf, if k % 2 == 0 { l } else { r }, "leaf {k}");
	}

	let below_leaves = Position { depth, index: 0 };
	let err = engine.trace_children(&f.id, &uri, &f.input, below_leaves).unwrap_err();
	assert!(matches!(err, Error::BadPosition(_)), "{err}");
	let err = engine.one_step(&f.id, &uri, &f.input, 0).unwrap_err();
	assert!(matches!(err, Error::BadPosition(_)), "input leaf: {err}");
	let err = engine.one_step(&f.id, &uri, &f.input, c.trace_len).unwrap_err();
	assert!(matches!(err, Error::BadPosition(_)), "padding leaf: {err}");
}

#[test]
fn verify_model_reports_the_facts_of_a_disputable_model() {
	let dir = tempfile::tempdir().unwrap();
	let engine = engine(&dir);
	let f = fixture("mlp");
	let facts =
		engine.verify_model(&f.id, &f.uri(), &Limits::NATIVE, test_tolerance(), None).unwrap();
	assert_eq!(facts.file, f.id);
	assert_eq!(facts.byte_size, f.bytes.len() as u64);
	assert_eq!(
		facts.inputs,
		vec![edgeproof_canon::TensorSpec { dtype: DType::F32, shape: vec![1, 16] }]
	);
	assert_eq!(
		facts.outputs,
		vec![edgeproof_canon::TensorSpec { dtype: DType::F32, shape: vec![1, 8] }]
	);
	assert!(facts.node_count > 0);
	assert!(facts.program_root.is_some());
	assert_eq!(facts.disputable, Disputability::Disputable);
}

#[test]
fn verify_model_refuses_models_beyond_the_runtime_limits_or_tolerance() {
	let dir = tempfile::tempdir().unwrap();
	let engine = engine(&dir);
	let f = fixture("cnn");
	let tiny = Limits { max_elements: 64, ..Limits::NATIVE };
	let facts = engine.verify_model(&f.id, &f.uri(), &tiny, test_tolerance(), None).unwrap();
	assert_eq!(facts.disputable, Disputability::NotDisputable(NotDisputable::LimitExceeded));
	assert!(facts.program_root.is_some(), "the program root is reported all the same");

	// The whole program's work and trace bytes are bounded too (issue 14, item 3): the facts
	// state the work, and one unit less (or one trace byte less) than the program needs fails.
	let facts =
		engine.verify_model(&f.id, &f.uri(), &Limits::NATIVE, test_tolerance(), None).unwrap();
	let program =
		edgeproof_canon::compiler::compile(&f.bytes, &edgeproof_offchain::compile_options())
			.unwrap()
			.program;
	let cost = program.cost().unwrap();
	assert_eq!(facts.program_work, cost.work);
	assert_eq!(facts.disputable, Disputability::Disputable);
	for limits in [
		Limits { max_program_work: cost.work - 1, ..Limits::NATIVE },
		Limits { max_trace_bytes: cost.trace_bytes - 1, ..Limits::NATIVE },
	] {
		let facts = engine.verify_model(&f.id, &f.uri(), &limits, test_tolerance(), None).unwrap();
		assert_eq!(facts.disputable, Disputability::NotDisputable(NotDisputable::LimitExceeded));
	}
	let exact =
		Limits { max_program_work: cost.work, max_trace_bytes: cost.trace_bytes, ..Limits::NATIVE };
	let facts = engine.verify_model(&f.id, &f.uri(), &exact, test_tolerance(), None).unwrap();
	assert_eq!(facts.disputable, Disputability::Disputable);

	// A tolerance no float computation can promise: ONNX Runtime's fused kernels are not
	// bit-exact with the canonical executor on a CNN.
	let facts =
		engine.verify_model(&f.id, &f.uri(), &Limits::NATIVE, Tolerance::Exact, None).unwrap();
	assert_eq!(
		facts.disputable,
		Disputability::NotDisputable(NotDisputable::ToleranceNotMet { probe: 0 })
	);
}

/// A node over the one-step limits (the CNN's convolutions do up to 165 888 work units) is
/// disputable when the runtime has the second level and the node can be cut within it; not
/// without it, nor when its cut would cost more than the runtime checks.
#[test]
fn verify_model_accepts_heavy_nodes_that_the_second_level_cuts() {
	use edgeproof_canon::substep::SubStepLimits;
	use edgeproof_primitives::SecondLevelLimits;
	let dir = tempfile::tempdir().unwrap();
	let engine = engine(&dir);
	let f = fixture("cnn");
	let light = Limits { max_node_work: 1 << 14, max_step_bytes: 4 << 10, ..Limits::NATIVE };
	let facts = engine.verify_model(&f.id, &f.uri(), &light, test_tolerance(), None).unwrap();
	assert_eq!(facts.disputable, Disputability::NotDisputable(NotDisputable::LimitExceeded));
	let second = SecondLevelLimits { sub_step: SubStepLimits::DEFAULT, max_cut_cost: 1 << 20 };
	let facts =
		engine.verify_model(&f.id, &f.uri(), &light, test_tolerance(), Some(second)).unwrap();
	assert_eq!(facts.disputable, Disputability::Disputable);
	let poor = SecondLevelLimits { max_cut_cost: 1, ..second };
	let facts = engine.verify_model(&f.id, &f.uri(), &light, test_tolerance(), Some(poor)).unwrap();
	assert_eq!(facts.disputable, Disputability::NotDisputable(NotDisputable::LimitExceeded));
	let cramped = SecondLevelLimits {
		sub_step: SubStepLimits { max_work: 64, max_read_bytes: 1 << 20 },
		..second
	};
	let facts =
		engine.verify_model(&f.id, &f.uri(), &light, test_tolerance(), Some(cramped)).unwrap();
	assert_eq!(facts.disputable, Disputability::NotDisputable(NotDisputable::LimitExceeded));
}

/// An opset-13 model `rows = Relu(Gather(table, idx, axis 0))`: `idx: i64[2]` picks two of the
/// four rows of an f32[4, 3] initializer. ONNX Runtime and the canonical executor both refuse
/// an index outside [-4, 4).
fn gather_model() -> Vec<u8> {
	use edgeproof_canon::compiler::onnx::*;
	use prost::Message;
	let info = |name: &str, elem_type: i32, dims: &[i64]| ValueInfoProto {
		name: name.into(),
		r#type: Some(TypeProto {
			value: Some(type_proto::Value::TensorType(TensorTypeProto {
				elem_type,
				shape: Some(TensorShapeProto {
					dim: dims
						.iter()
						.map(|&d| Dimension { value: Some(dimension::Value::DimValue(d)) })
						.collect(),
				}),
			})),
		}),
	};
	let node = |op_type: &str, input: &[&str], output: &str, attribute| NodeProto {
		op_type: op_type.into(),
		input: input.iter().map(|s| s.to_string()).collect(),
		output: vec![output.into()],
		attribute,
		..Default::default()
	};
	let axis = AttributeProto { name: "axis".into(), i: 0, r#type: 2, ..Default::default() };
	ModelProto {
		ir_version: 8,
		opset_import: vec![OperatorSetIdProto { domain: String::new(), version: 13 }],
		graph: Some(GraphProto {
			node: vec![
				node("Gather", &["table", "idx"], "picked", vec![axis]),
				node("Relu", &["picked"], "rows", vec![]),
			],
			initializer: vec![TensorProto {
				name: "table".into(),
				dims: vec![4, 3],
				data_type: 1,
				float_data: (0..12).map(|i| i as f32 - 5.0).collect(),
				..Default::default()
			}],
			input: vec![info("idx", 7, &[2])],
			output: vec![info("rows", 1, &[2, 3])],
			..Default::default()
		}),
		..Default::default()
	}
	.encode_to_vec()
}

/// Issue 14, item 1: on an input the canonical executor cannot run (an index out of range),
/// the canonical trace commits to the unrunnable value at the failing node and after it, so
/// the checker disputes any claim on that input; the one-step of that node cannot be made,
/// while every node before it keeps its ordinary witness.
#[test]
fn an_input_the_canonical_executor_cannot_run_gives_a_trace_no_claim_can_match() {
	let dir = tempfile::tempdir().unwrap();
	let engine = engine(&dir);
	let bytes = gather_model();
	let path = dir.path().join("gather.onnx");
	std::fs::write(&path, &bytes).unwrap();
	let (id, uri) = (id_of(&bytes), common::file_uri(&path));

	let fine = vec![Tensor::from_i64(vec![2], &[3, -4])];
	let out = engine.canonical_output(&id, &uri, &fine).unwrap();
	assert_eq!(out.outputs[0].tensor, Tensor::from_f32(vec![2, 3], &[4., 5., 6., 0., 0., 0.]));
	assert!(engine.run(&id, &uri, &fine).is_ok());

	let out_of_range = vec![Tensor::from_i64(vec![2], &[1, 4])];
	assert!(engine.run(&id, &uri, &out_of_range).is_err(), "ONNX Runtime refuses it too");
	let c = engine.canonical_output(&id, &uri, &out_of_range).unwrap();
	assert_eq!(c.outputs.len(), 1);
	assert_eq!(c.outputs[0].tensor, edgeproof_canon::unrunnable_value());
	// A claimant's output of the declared shape is never within tolerance of it.
	let any_claim = vec![Tensor::from_f32(vec![2, 3], &[0.0; 6])];
	let canonical = vec![c.outputs[0].tensor.clone()];
	assert!(!within_tolerance(&any_claim, &canonical, test_tolerance()));

	// Leaves: the input (0), Gather (1), Relu (2). Neither node can be executed.
	let err = engine.one_step(&id, &uri, &out_of_range, 1).unwrap_err();
	assert!(matches!(err, Error::Canonical(_)), "{err}");
	let (l, r) = engine.trace_children(&id, &uri, &out_of_range, Position::ROOT).unwrap();
	assert_eq!(hash_pair(&l, &r), c.trace_root);
	// On the good input the same leaf has its witness.
	engine.one_step(&id, &uri, &fine, 1).unwrap();
}
