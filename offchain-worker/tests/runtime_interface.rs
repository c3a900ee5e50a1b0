//! The `inference` runtime interface called natively, as the runtime's off-chain worker code
//! would, with and without the engine registered as the externalities extension.

mod common;

use std::sync::Arc;

use common::{engine, fixture, test_tolerance};
use edgeproof_canon::{within_tolerance, Limits, Position, Tensor};
use edgeproof_primitives::{inference, Disputability, FileHash, InferenceError, InferenceExt};
use sp_io::TestExternalities;

/// The second level as the runtime has it.
const SECOND_LEVEL: edgeproof_primitives::SecondLevelLimits =
	edgeproof_primitives::SecondLevelLimits {
		sub_step: edgeproof_canon::substep::SubStepLimits::DEFAULT,
		max_cut_cost: 1 << 20,
	};

fn ext_with_engine(dir: &tempfile::TempDir) -> TestExternalities {
	let mut ext = TestExternalities::default();
	ext.register_extension(InferenceExt::new(Arc::new(engine(dir))));
	ext
}

#[test]
fn host_functions_answer_through_the_registered_engine() {
	let dir = tempfile::tempdir().unwrap();
	let f = fixture("mlp");
	let uri = f.uri();
	ext_with_engine(&dir).execute_with(|| {
		let out = inference::run(f.id, uri.as_bytes(), f.input.clone()).unwrap();
		assert!(within_tolerance(&out, &f.expected, test_tolerance()));

		let facts = inference::verify_model(
			f.id,
			uri.as_bytes(),
			Limits::NATIVE,
			test_tolerance(),
			SECOND_LEVEL,
		)
		.unwrap();
		assert_eq!(facts.disputable, Disputability::Disputable);

		let c = inference::canonical_output(f.id, uri.as_bytes(), f.input.clone()).unwrap();
		let canonical: Vec<Tensor> = c.outputs.into_iter().map(|w| w.tensor).collect();
		assert!(within_tolerance(&out, &canonical, test_tolerance()));
		inference::trace_children(f.id, uri.as_bytes(), f.input.clone(), Position::ROOT).unwrap();
		inference::one_step(f.id, uri.as_bytes(), f.input.clone(), 1).unwrap();
	});
}

#[test]
fn host_functions_map_engine_errors_to_inference_errors() {
	let dir = tempfile::tempdir().unwrap();
	let f = fixture("mlp");
	let uri = f.uri();
	ext_with_engine(&dir).execute_with(|| {
		assert_eq!(
			inference::run(f.id, uri.as_bytes(), vec![]),
			Err(InferenceError::InputCount { expected: 1, found: 0 })
		);
		// A model not fetched yet (the URI only matters on first use).
		let cnn = fixture("cnn");
		assert_eq!(
			inference::run(cnn.id, b"gopher://x", cnn.input.clone()),
			Err(InferenceError::UnsupportedUri)
		);
		assert_eq!(
			inference::run(cnn.id, b"file:///nonexistent/model.onnx", cnn.input.clone()),
			Err(InferenceError::ModelNotFound)
		);
		assert_eq!(
			inference::run(FileHash::repeat_byte(1), uri.as_bytes(), f.input.clone()),
			Err(InferenceError::HashMismatch { found: f.id })
		);
		assert_eq!(
			inference::one_step(f.id, uri.as_bytes(), f.input.clone(), 0),
			Err(InferenceError::BadPosition)
		);
	});
}

#[test]
fn without_the_extension_every_host_function_is_unavailable() {
	let f = fixture("mlp");
	let uri = f.uri();
	let calls = || {
		assert_eq!(
			inference::run(f.id, uri.as_bytes(), f.input.clone()),
			Err(InferenceError::Unavailable)
		);
		assert_eq!(
			inference::verify_model(
				f.id,
				uri.as_bytes(),
				Limits::NATIVE,
				test_tolerance(),
				SECOND_LEVEL
			),
			Err(InferenceError::Unavailable)
		);
		assert_eq!(
			inference::canonical_output(f.id, uri.as_bytes(), f.input.clone()),
			Err(InferenceError::Unavailable)
		);
		assert_eq!(
			inference::trace_children(f.id, uri.as_bytes(), f.input.clone(), Position::ROOT),
			Err(InferenceError::Unavailable)
		);
		assert_eq!(
			inference::one_step(f.id, uri.as_bytes(), f.input.clone(), 1),
			Err(InferenceError::Unavailable)
		);
	};
	// Externalities without the extension (block import, RPC)...
	TestExternalities::default().execute_with(calls);
	// ... and no externalities at all.
	calls();
}

#[test]
fn calls_failures_latency_and_cache_lookups_are_metered() {
	use substrate_prometheus_endpoint::Registry;

	let dir = tempfile::tempdir().unwrap();
	let registry = Registry::new();
	let metrics = edgeproof_offchain::Metrics::register(&registry).unwrap();
	let mut ext = TestExternalities::default();
	ext.register_extension(InferenceExt::new(Arc::new(engine(&dir).with_metrics(metrics))));
	let f = fixture("mlp");
	let uri = f.uri();
	ext.execute_with(|| {
		inference::run(f.id, uri.as_bytes(), f.input.clone()).unwrap();
		inference::run(f.id, uri.as_bytes(), f.input.clone()).unwrap();
		inference::run(f.id, uri.as_bytes(), vec![]).unwrap_err();
	});
	let value = |name: &str, labels: &[(&str, &str)]| -> f64 {
		registry
			.gather()
			.iter()
			.filter(|family| family.get_name() == name)
			.flat_map(|family| family.get_metric().to_vec())
			.find(|m| {
				labels.iter().all(|(k, v)| {
					m.get_label().iter().any(|l| l.get_name() == *k && l.get_value() == *v)
				})
			})
			.map(|m| {
				if name.ends_with("_seconds") {
					m.get_histogram().get_sample_count() as f64
				} else {
					m.get_counter().get_value()
				}
			})
			.unwrap_or(0.0)
	};
	assert_eq!(value("edgeproof_inference_calls_total", &[("call", "run")]), 3.0);
	assert_eq!(
		value("edgeproof_inference_failures_total", &[("call", "run"), ("error", "InputCount")]),
		1.0
	);
	assert_eq!(value("edgeproof_inference_call_seconds", &[("call", "run")]), 3.0);
	let session = |result| {
		value("edgeproof_inference_cache_total", &[("cache", "session"), ("result", result)])
	};
	assert_eq!((session("miss"), session("hit")), (1.0, 2.0));
}
