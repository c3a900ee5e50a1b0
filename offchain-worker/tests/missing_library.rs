//! A missing or broken ONNX Runtime library is a clear error, never a panic; an engine without
//! the library still serves the canonical calls. (Its own test binary: ONNX Runtime can be
//! loaded once per process, so no other test may load it first.)

mod common;

use common::{fixture, test_tolerance};
use edgeproof_canon::within_tolerance;
use edgeproof_offchain::{Engine, EngineConfig, Error, OrtRuntime};
use edgeproof_primitives::InferenceError;

#[test]
fn missing_or_broken_library_is_a_clear_error() {
	let dir = tempfile::tempdir().unwrap();
	let nowhere = dir.path().join("libonnxruntime.so.1.31.1");
	let err = Engine::new(EngineConfig::new(Some(nowhere.clone()), dir.path().join("m")))
		.err()
		.expect("no library, no engine");
	assert!(matches!(&err, Error::LibraryNotFound(p) if *p == nowhere), "{err}");
	assert!(err.to_string().contains("scripts/setup.sh"), "{err}");
	assert_eq!(InferenceError::from(&err), InferenceError::LibraryMissing);

	let not_a_library = dir.path().join("libfake.so");
	std::fs::write(&not_a_library, b"not an ELF file").unwrap();
	let err = OrtRuntime::load(&not_a_library).err().expect("not a library");
	assert!(matches!(err, Error::LibraryLoad { .. }), "{err}");
	assert!(err.to_string().contains("libfake.so"), "{err}");
}

#[test]
fn engine_without_library_still_serves_canonical_calls() {
	let dir = tempfile::tempdir().unwrap();
	let mut config = EngineConfig::new(None, dir.path().join("m"));
	config.store.allow_local_sources = true;
	let engine = Engine::new(config).unwrap();
	let f = fixture("mlp");
	let err = engine.run(&f.id, &f.uri(), &f.input).unwrap_err();
	assert!(matches!(err, Error::LibraryMissing), "{err}");
	let c = engine.canonical_output(&f.id, &f.uri(), &f.input).unwrap();
	let canonical: Vec<_> = c.outputs.into_iter().map(|w| w.tensor).collect();
	assert!(within_tolerance(&canonical, &f.expected, test_tolerance()));
}
