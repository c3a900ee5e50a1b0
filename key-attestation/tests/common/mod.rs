//! What the attestation tests share: the fuzzers' case count and their byte damage.

use proptest::sample::Index;

/// `EDGEPROOF_ATTESTATION_FUZZ_CASES` sets the fuzzers' case count (the CI slice is 2,000).
pub fn fuzz_cases() -> u32 {
	std::env::var("EDGEPROOF_ATTESTATION_FUZZ_CASES")
		.ok()
		.and_then(|v| v.parse().ok())
		.unwrap_or(2_000)
}

/// Applies each edit to `bytes`: `(where, byte, kind)` flips bits, truncates, inserts or
/// deletes a byte.
pub fn damage(bytes: &mut Vec<u8>, edits: Vec<(Index, u8, u8)>) {
	for (at, byte, kind) in edits {
		if bytes.is_empty() {
			break;
		}
		let i = at.index(bytes.len());
		match kind {
			0 => bytes[i] ^= byte | 1,
			1 => bytes.truncate(i),
			2 => bytes.insert(i, byte),
			_ => {
				bytes.remove(i);
			},
		}
	}
}
