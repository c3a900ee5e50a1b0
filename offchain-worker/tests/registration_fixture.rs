//! `tests/e2e/fixtures/mlp.registration.json` — the registration of the fixture MLP that the
//! end-to-end tests submit — matches what validators compute from the file: its hash, size and
//! canonical program (with the pinned registration compile options). Run with
//! `EDGEPROOF_WRITE_FIXTURES=1` to rewrite the file after a deliberate change.

use std::path::PathBuf;

use edgeproof_canon::{commit::program_root, compiler::compile};
use sp_crypto_hashing::blake2_256;

fn repo() -> PathBuf {
	PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn hex(bytes: &[u8]) -> String {
	format!("0x{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// The registration as validators check it (`name`, `version` and `uri` are the submitter's).
fn expected() -> serde_json::Value {
	let bytes = std::fs::read(repo().join("canon/tests/data/mlp.onnx")).expect("fixture");
	let compiled = compile(&bytes, &edgeproof_offchain::compile_options()).expect("compiles");
	let root = program_root(&compiled.program).expect("program root");
	serde_json::json!({
		"fileHash": hex(&blake2_256(&bytes)),
		"byteSize": bytes.len(),
		"inputs": [{ "name": "x", "dtype": "F32", "shape": [1, 16], "dynamicBatch": false }],
		"outputs": [{ "name": "probs", "dtype": "F32", "shape": [1, 8], "dynamicBatch": false }],
		"tolerance": { "Relative": { "abs": 1e-5f32.to_bits(), "rel": 1e-4f32.to_bits() } },
		"programRoot": hex(&root),
		"nodeCount": compiled.program.nodes.len(),
		"programWork": compiled.program.cost().expect("static shapes").work,
	})
}

#[test]
fn the_e2e_registration_fixture_matches_the_model_file() {
	let path = repo().join("tests/e2e/fixtures/mlp.registration.json");
	let expected = expected();
	if std::env::var_os("EDGEPROOF_WRITE_FIXTURES").is_some() {
		let text = serde_json::to_string_pretty(&expected).expect("json") + "\n";
		std::fs::write(&path, text).expect("write the fixture");
	}
	let found: serde_json::Value =
		serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture file")).expect("json");
	assert_eq!(
		found,
		expected,
		"{} is stale; rerun this test with EDGEPROOF_WRITE_FIXTURES=1",
		path.display()
	);
}
