//! `device/metadata.scale` — the runtime metadata `edgeproof-device`'s typed client is
//! generated from — is the metadata of the runtime in this repository, in the newest stable
//! version the runtime serves (the one subxt fetches from a node to check calls against). Run
//! with `EDGEPROOF_WRITE_FIXTURES=1` to rewrite the file after a runtime change.

use std::path::PathBuf;

use edgeproof_runtime::Runtime;

fn runtime_metadata() -> Vec<u8> {
	let version = Runtime::metadata_versions()
		.into_iter()
		.filter(|v| *v != u32::MAX)
		.max()
		.expect("the runtime serves metadata");
	Runtime::metadata_at_version(version).expect("a listed version is served").to_vec()
}

#[test]
fn the_committed_metadata_is_the_runtime_metadata() {
	let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../device/metadata.scale");
	let expected = runtime_metadata();
	if std::env::var_os("EDGEPROOF_WRITE_FIXTURES").is_some() {
		std::fs::write(&path, &expected).expect("write the metadata");
	}
	let found = std::fs::read(&path).expect("device/metadata.scale");
	assert!(
		found == expected,
		"{} is stale ({} bytes, the runtime's {} bytes); rerun this test with \
		 EDGEPROOF_WRITE_FIXTURES=1 and rebuild edgeproof-device",
		path.display(),
		found.len(),
		expected.len()
	);
}
