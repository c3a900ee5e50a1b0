//! Model store: fetching by URI, hash and size checks, atomic writes, concurrent first use.

mod common;

use std::{sync::Arc, time::Duration};

use common::{file_uri, id_of, Route, TestServer};
use edgeproof_offchain::{Error, ModelStore, StoreConfig};
use edgeproof_primitives::InferenceError;

/// A store with local sources on, as on a dev chain: the sources below are local files and a
/// server on 127.0.0.1.
fn store(dir: &tempfile::TempDir, max_model_bytes: u64) -> ModelStore {
	ModelStore::open(StoreConfig {
		dir: dir.path().join("models"),
		max_model_bytes,
		fetch_timeout: Duration::from_secs(10),
		allow_local_sources: true,
	})
	.expect("open store")
}

/// A store with the production defaults (local sources off) and a short time limit.
fn default_store(dir: &tempfile::TempDir) -> ModelStore {
	let mut config = StoreConfig::new(dir.path().join("models"));
	assert!(!config.allow_local_sources, "local sources are off by default");
	config.fetch_timeout = Duration::from_secs(3);
	ModelStore::open(config).expect("open store")
}

/// `load` on another thread, failing the test if it stalls instead of answering.
fn load_within(
	store: ModelStore,
	id: edgeproof_primitives::FileHash,
	uri: String,
) -> Result<Vec<u8>, Error> {
	let (tx, rx) = std::sync::mpsc::channel();
	std::thread::spawn(move || {
		let _ = tx.send(store.load(&id, &uri));
	});
	rx.recv_timeout(Duration::from_secs(20)).expect("the fetch stalled the worker")
}

fn assert_refused(result: Result<Vec<u8>, Error>) {
	match result {
		Err(err @ Error::Refused { .. }) => {
			// Final for the runtime: not `Unreachable`, which it would retry forever.
			assert_eq!(InferenceError::from(&err), InferenceError::UnsupportedUri, "{err}");
		},
		other => panic!("expected a refusal, got {:?}", other.map(|b| b.len())),
	}
}

#[test]
fn file_uri_is_fetched_verified_and_stored_under_its_hash() {
	let dir = tempfile::tempdir().unwrap();
	let src = dir.path().join("model.onnx");
	std::fs::write(&src, b"model bytes").unwrap();
	let id = id_of(b"model bytes");
	let store = store(&dir, 1 << 20);

	assert_eq!(store.load(&id, &file_uri(&src)).unwrap(), b"model bytes");
	assert_eq!(std::fs::read(store.path_of(&id)).unwrap(), b"model bytes");
	// Served from the store afterwards, even if the source is gone.
	std::fs::remove_file(&src).unwrap();
	assert_eq!(store.load(&id, &file_uri(&src)).unwrap(), b"model bytes");
	// No temporary files are left behind.
	let names: Vec<_> = std::fs::read_dir(dir.path().join("models")).unwrap().collect();
	assert_eq!(names.len(), 1);
}

#[test]
fn wrong_hash_is_rejected_and_never_stored() {
	let dir = tempfile::tempdir().unwrap();
	let src = dir.path().join("model.onnx");
	std::fs::write(&src, b"other bytes").unwrap();
	let id = id_of(b"model bytes");
	let store = store(&dir, 1 << 20);

	let err = store.load(&id, &file_uri(&src)).unwrap_err();
	assert!(
		matches!(err, Error::HashMismatch { found, .. } if found == id_of(b"other bytes")),
		"{err}"
	);
	assert!(!store.path_of(&id).exists());
}

#[test]
fn corrupted_stored_file_is_replaced_not_served() {
	let dir = tempfile::tempdir().unwrap();
	let src = dir.path().join("model.onnx");
	std::fs::write(&src, b"model bytes").unwrap();
	let id = id_of(b"model bytes");
	let store = store(&dir, 1 << 20);
	store.load(&id, &file_uri(&src)).unwrap();

	std::fs::write(store.path_of(&id), b"tampered").unwrap();
	assert_eq!(store.load(&id, &file_uri(&src)).unwrap(), b"model bytes");
	assert_eq!(std::fs::read(store.path_of(&id)).unwrap(), b"model bytes");

	std::fs::write(store.path_of(&id), b"tampered").unwrap();
	std::fs::remove_file(&src).unwrap();
	let err = store.load(&id, &file_uri(&src)).unwrap_err();
	assert!(matches!(err, Error::NotFound(_)), "{err}");
}

#[test]
fn oversize_file_is_rejected() {
	let dir = tempfile::tempdir().unwrap();
	let src = dir.path().join("model.onnx");
	std::fs::write(&src, vec![1u8; 101]).unwrap();
	let store = store(&dir, 100);
	let err = store.load(&id_of(&[1u8; 101]), &file_uri(&src)).unwrap_err();
	assert!(matches!(err, Error::TooLarge { limit: 100, .. }), "{err}");
}

#[test]
fn bad_uris_are_distinct_errors() {
	let dir = tempfile::tempdir().unwrap();
	let store = store(&dir, 100);
	let id = id_of(b"x");
	let missing = dir.path().join("nope.onnx");
	assert!(matches!(store.load(&id, &file_uri(&missing)), Err(Error::NotFound(_))));
	assert!(matches!(store.load(&id, "ftp://example.com/m.onnx"), Err(Error::UnsupportedUri(_))));
	assert!(matches!(store.load(&id, "file://relative/m.onnx"), Err(Error::UnsupportedUri(_))));
	// Nothing listens on port 9 of localhost (discard), so the connection is refused.
	assert!(matches!(store.load(&id, "http://127.0.0.1:9/m.onnx"), Err(Error::Unreachable { .. })));
}

#[test]
fn http_fetch_follows_redirects_and_maps_statuses() {
	let body = b"served over http".to_vec();
	let server = TestServer::start(vec![
		("/model.onnx", Route::Body(body.clone(), Duration::ZERO)),
		("/moved", Route::Redirect("/model.onnx".into())),
		("/gone", Route::Status(410)),
		("/broken", Route::Status(500)),
	]);
	let dir = tempfile::tempdir().unwrap();
	let store = store(&dir, 1 << 20);
	let id = id_of(&body);

	assert_eq!(store.load(&id, &server.uri("/moved")).unwrap(), body);
	let other = id_of(b"other");
	assert!(matches!(store.load(&other, &server.uri("/missing")), Err(Error::NotFound(_))));
	assert!(matches!(store.load(&other, &server.uri("/gone")), Err(Error::NotFound(_))));
	assert!(matches!(store.load(&other, &server.uri("/broken")), Err(Error::Unreachable { .. })));
	assert!(matches!(
		store.load(&other, &server.uri("/model.onnx")),
		Err(Error::HashMismatch { .. })
	));
}

#[test]
fn http_oversize_is_rejected_with_or_without_content_length() {
	let server = TestServer::start(vec![
		("/big", Route::Body(vec![0u8; 5000], Duration::ZERO)),
		("/stream", Route::Stream(50_000)),
	]);
	let dir = tempfile::tempdir().unwrap();
	let store = store(&dir, 4096);
	let id = id_of(b"x");
	assert!(matches!(store.load(&id, &server.uri("/big")), Err(Error::TooLarge { .. })));
	assert!(matches!(store.load(&id, &server.uri("/stream")), Err(Error::TooLarge { .. })));
}

#[test]
fn concurrent_first_use_fetches_once() {
	let body = vec![42u8; 100_000];
	let server =
		TestServer::start(vec![("/m.onnx", Route::Body(body.clone(), Duration::from_millis(200)))]);
	let dir = tempfile::tempdir().unwrap();
	let store = Arc::new(store(&dir, 1 << 20));
	let id = id_of(&body);
	let uri = server.uri("/m.onnx");

	let threads: Vec<_> = (0..8)
		.map(|_| {
			let (store, uri) = (store.clone(), uri.clone());
			std::thread::spawn(move || store.load(&id, &uri).map(|b| b.len()))
		})
		.collect();
	for t in threads {
		assert_eq!(t.join().unwrap().unwrap(), body.len());
	}
	assert_eq!(server.hits(), 1, "eight concurrent loads, one download");
	assert_eq!(std::fs::read(store.path_of(&id)).unwrap(), body);
}

#[test]
fn file_uri_is_refused_by_default() {
	let dir = tempfile::tempdir().unwrap();
	let src = dir.path().join("model.onnx");
	std::fs::write(&src, b"model bytes").unwrap();
	let store = default_store(&dir);
	let result = store.load(&id_of(b"model bytes"), &file_uri(&src));
	if let Err(err) = &result {
		assert!(err.to_string().contains("--allow-local-model-sources"), "{err}");
	}
	assert_refused(result);
	assert_refused(store.load(&id_of(b"x"), "file:///etc/passwd"));
}

#[test]
fn loopback_and_private_http_hosts_are_refused_by_default() {
	let body = b"served on loopback".to_vec();
	let server = TestServer::start(vec![("/m.onnx", Route::Body(body.clone(), Duration::ZERO))]);
	let dir = tempfile::tempdir().unwrap();
	let store = default_store(&dir);
	let id = id_of(&body);
	let port = server.port;

	assert_refused(store.load(&id, &server.uri("/m.onnx")));
	assert_refused(store.load(&id, &format!("http://localhost:{port}/m.onnx")));
	assert_refused(store.load(&id, &format!("http://[::1]:{port}/m.onnx")));
	assert_refused(store.load(&id, &format!("http://[::ffff:127.0.0.1]:{port}/m.onnx")));
	assert_refused(store.load(&id, "http://10.0.0.1/m.onnx"));
	assert_refused(store.load(&id, "https://192.168.1.1/m.onnx"));
	assert_refused(store.load(&id, "http://169.254.169.254/latest/meta-data/"));
	assert_refused(store.load(&id, "http://0.0.0.0:9/m.onnx"));
	assert_eq!(server.hits(), 0, "nothing reached the local server");
	assert!(!store.path_of(&id).exists());
}

#[test]
fn fifo_is_refused_even_with_local_sources() {
	let dir = tempfile::tempdir().unwrap();
	let fifo = dir.path().join("model.onnx");
	let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("run mkfifo");
	assert!(made.success(), "mkfifo failed");
	let store = store(&dir, 1 << 20);
	assert_refused(load_within(store, id_of(b"x"), file_uri(&fifo)));
}

#[test]
fn devices_and_directories_are_refused_even_with_local_sources() {
	let dir = tempfile::tempdir().unwrap();
	assert_refused(load_within(store(&dir, 1 << 20), id_of(b"x"), "file:///dev/zero".into()));
	assert_refused(load_within(store(&dir, 1 << 20), id_of(b"x"), file_uri(dir.path())));
}

#[test]
fn local_http_server_is_fetched_with_local_sources() {
	let body = b"served on loopback".to_vec();
	let server = TestServer::start(vec![("/m.onnx", Route::Body(body.clone(), Duration::ZERO))]);
	let dir = tempfile::tempdir().unwrap();
	let store = store(&dir, 1 << 20);
	let id = id_of(&body);
	assert_eq!(store.load(&id, &format!("http://localhost:{}/m.onnx", server.port)).unwrap(), body);
	assert_eq!(server.hits(), 1);
}
