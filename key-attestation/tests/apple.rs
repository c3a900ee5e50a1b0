//! App Attest objects from real iPhones (tests/data/README.md), verified by the code the runtime
//! runs, and the same objects damaged, re-rooted, out of time, revoked, for another challenge or
//! key: each refused with its own error. Objects from the test CA cover what real ones cannot
//! (a chosen challenge, the counter, the environment, assertions).

use std::{path::Path, sync::LazyLock};

use edgeproof_key_attestation::{
	apple::{self, app_id_hash, verify_assertion, AppAttestation, Environment, ASSERTION_DATA_LEN},
	chain::{serial_magnitude, Trust},
	roots,
	test_ca::{self, AppAttestSpec, TestCa},
	Error,
};
use proptest::prelude::*;

mod common;
use sha2::{Digest, Sha256};

/// A real attestation object and what verifying it proves.
struct Vector {
	file: &'static str,
	/// The text whose SHA-256 the app passed as client data hash.
	client_data: &'static str,
	app_id: &'static str,
	environment: Environment,
	/// The leaf's validity (seconds since the epoch): three days.
	not_before: u64,
	not_after: u64,
	/// The attested key, compressed.
	key: &'static str,
	/// The leaf's serial, as the certificate encodes it.
	leaf_serial: &'static str,
}

const VECTORS: [Vector; 2] = [
	Vector {
		file: "development-VNP5A9S22V.cbor",
		client_data: "This is a test. This will need to be removed before merging.",
		app_id: "VNP5A9S22V.76R387MAVZ",
		environment: Environment::Development,
		not_before: 1_661_321_135,
		not_after: 1_661_580_335,
		key: "02b303d7545e3c4792a74118b030063ece6746c9e61ddce7c2f86437ca4854ee0d",
		leaf_serial: "0182d39b2099",
	},
	Vector {
		file: "production-8YE23NZS57.cbor",
		client_data: "1234567890abcdefgh",
		app_id: "8YE23NZS57.com.kayak.travel",
		environment: Environment::Production,
		not_before: 1_601_238_498,
		not_after: 1_601_497_698,
		key: "03953177c14369f5844460c9fd75de5586b2d2171c86de88b262fa8218c998ff6a",
		leaf_serial: "0174d666da10",
	},
];

fn object(file: &str) -> Vec<u8> {
	let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/apple").join(file);
	std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn hex(s: &str) -> Vec<u8> {
	(0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

/// Every root a chain's genesis trusts (Google's two, then Apple's), as SPKI DER.
fn genesis_roots() -> Vec<Vec<u8>> {
	roots::GENESIS.iter().map(|cert| roots::spki(cert).unwrap()).collect()
}

fn verify_with(
	object: &[u8],
	roots: &[Vec<u8>],
	revoked: &[&[u8]],
	now: u64,
	client_data_hash: &[u8],
) -> Result<AppAttestation, Error> {
	let roots: Vec<&[u8]> = roots.iter().map(Vec::as_slice).collect();
	let trust = Trust {
		roots: &roots,
		is_revoked: &|s| revoked.iter().any(|r| serial_magnitude(r) == s),
		now,
	};
	apple::verify(object, &trust, client_data_hash)
}

fn client_data_hash(v: &Vector) -> [u8; 32] {
	Sha256::digest(v.client_data.as_bytes()).into()
}

/// A minute after the key was attested, with the genesis roots.
fn verify(v: &Vector, object: &[u8]) -> Result<AppAttestation, Error> {
	verify_with(object, &genesis_roots(), &[], v.not_before + 60, &client_data_hash(v))
}

static ORIGINALS: LazyLock<Vec<(Vec<u8>, AppAttestation)>> = LazyLock::new(|| {
	VECTORS
		.iter()
		.map(|v| {
			let object = object(v.file);
			let attestation = verify(v, &object).unwrap();
			(object, attestation)
		})
		.collect()
});

#[test]
fn real_objects_verify_against_apples_root() {
	for v in &VECTORS {
		let a = verify(v, &object(v.file)).unwrap_or_else(|e| panic!("{}: {e}", v.file));
		assert_eq!(a.key.to_vec(), hex(v.key), "{}", v.file);
		assert_eq!(a.app_id_hash, app_id_hash(v.app_id), "{}", v.file);
		assert_eq!(a.environment, v.environment, "{}", v.file);
		// Apple's root is the third genesis root; only it (of the two EC roots) was tried
		// after Google's P-384 one failed.
		assert_eq!((a.root, a.roots_tried), (2, 2), "{}", v.file);
		assert_eq!(a.serials.len(), 2, "{}: the leaf and Apple App Attestation CA 1", v.file);
		assert_eq!(a.serials[0], hex(v.leaf_serial), "{}", v.file);
		apple::check_key(&a, &a.key).unwrap();
	}
}

#[test]
fn another_challenge_or_key_is_refused() {
	let v = &VECTORS[0];
	let object = object(v.file);
	let wrong = Sha256::digest(b"another bind message");
	assert_eq!(
		verify_with(&object, &genesis_roots(), &[], v.not_before + 60, &wrong),
		Err(Error::ChallengeMismatch)
	);
	let a = verify(v, &object).unwrap();
	let other: [u8; 33] = hex(VECTORS[1].key).try_into().unwrap();
	assert_eq!(apple::check_key(&a, &other), Err(Error::KeyMismatch));
}

#[test]
fn apples_root_must_be_trusted() {
	let v = &VECTORS[1];
	let google: Vec<Vec<u8>> = roots::GOOGLE.iter().map(|c| roots::spki(c).unwrap()).collect();
	let at = v.not_before + 60;
	assert_eq!(
		verify_with(&object(v.file), &google, &[], at, &client_data_hash(v)),
		Err(Error::UntrustedRoot)
	);
	let ca = TestCa::new([7; 32]).unwrap();
	assert_eq!(
		verify_with(&object(v.file), &[ca.root_spki()], &[], at, &client_data_hash(v)),
		Err(Error::UntrustedRoot)
	);
}

#[test]
fn the_leaf_is_valid_three_days() {
	let v = &VECTORS[0];
	let object = object(v.file);
	let at = |now| verify_with(&object, &genesis_roots(), &[], now, &client_data_hash(v));
	assert!(at(v.not_before).is_ok());
	assert!(at(v.not_after).is_ok());
	assert_eq!(at(v.not_before - 1), Err(Error::NotYetValid { index: 0 }));
	assert_eq!(at(v.not_after + 1), Err(Error::Expired { index: 0 }));
	// Today (2026-12), long after.
	assert_eq!(at(1_796_000_000), Err(Error::Expired { index: 0 }));
}

#[test]
fn a_revoked_leaf_or_intermediate_is_refused() {
	let v = &VECTORS[1];
	let object = object(v.file);
	let at = v.not_before + 60;
	let leaf = hex(v.leaf_serial);
	let intermediate = hex("09bac5e1bc401ad9d45395bc381a0854");
	let revoked =
		|serial: &[u8]| verify_with(&object, &genesis_roots(), &[serial], at, &client_data_hash(v));
	assert_eq!(revoked(&leaf), Err(Error::Revoked { index: 0 }));
	assert_eq!(revoked(&intermediate), Err(Error::Revoked { index: 1 }));
}

/// Where `needle` starts in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> usize {
	haystack.windows(needle.len()).position(|w| w == needle).expect("present")
}

#[test]
fn a_flipped_byte_in_a_certificate_the_nonce_or_the_auth_data_is_refused() {
	let v = &VECTORS[0];
	let original = object(v.file);
	let refused = |at: usize| {
		let mut object = original.clone();
		object[at] ^= 0x01;
		verify(v, &object).unwrap_err()
	};
	// The leaf's signature is the last bytes of the first certificate: "...06 e3 e2 f0 d3 ab"
	// before the intermediate's header ("59 02 47" = a 583-byte string).
	let intermediate = find(&original, &[0x59, 0x02, 0x47, 0x30, 0x82]);
	assert_eq!(refused(intermediate - 3), Error::BadSignature { index: 0 });
	// The intermediate's signature, just before "receipt": no trusted root's key signs the
	// damaged certificate, so it is untrusted (Apple's root is not in the object).
	let receipt = find(&original, b"greceipt");
	assert_eq!(refused(receipt - 3), Error::UntrustedRoot);
	// The app id hash opens the auth data: changing it changes the nonce.
	let auth_data = find(&original, b"hauthData") + 9 + 2;
	assert_eq!(refused(auth_data), Error::ChallengeMismatch);
	// The nonce inside the leaf is signed: a bad signature, not a bad nonce.
	let nonce = find(&original, &hex("a592d795465e4f20"));
	assert_eq!(refused(nonce), Error::BadSignature { index: 0 });
}

#[test]
fn malformed_objects_are_errors() {
	let v = &VECTORS[1];
	let original = object(v.file);
	let malformed = |object: &[u8]| match verify(v, object) {
		Err(Error::MalformedAppAttest(_)) | Err(Error::MalformedCertificate { .. }) => {},
		other => panic!("{other:?}"),
	};
	malformed(&[]);
	malformed(&[0xa0]);
	for len in [1, 10, 100, 1_000, 2_000, 5_000, original.len() - 1] {
		malformed(&original[..len]);
	}
	let mut longer = original.clone();
	longer.push(0);
	assert_eq!(verify(v, &longer), Err(Error::MalformedAppAttest("bytes after the map")));
	let mut format = original.clone();
	let at = find(&format, b"apple-appattest");
	format[at] = b'b';
	assert_eq!(verify(v, &format), Err(Error::MalformedAppAttest("fmt is not apple-appattest")));
	let too_large = vec![0xa3; apple::MAX_OBJECT_LEN + 1];
	assert_eq!(verify(v, &too_large), Err(Error::MalformedAppAttest("the object is over 16 KiB")));
}

/// The test CA's CA seed and a device key.
fn test_ca() -> (TestCa, Vec<u8>, p256::ecdsa::SigningKey, [u8; 33]) {
	let ca = TestCa::new([7; 32]).unwrap();
	let root = ca.root_spki();
	let (secret, public) = test_ca::software_key([9; 32]).unwrap();
	(ca, root, secret, public)
}

#[test]
fn test_ca_objects_verify_for_their_challenge_and_check_counter_and_environment() {
	let (ca, root, _, key) = test_ca();
	let challenge = [0x42; 32];
	let verify_spec = |spec: &AppAttestSpec| {
		let object = ca.app_attest(spec).unwrap();
		verify_with(&object, std::slice::from_ref(&root), &[], 1_800_000_000, &challenge)
	};
	let spec = AppAttestSpec::production(key, challenge);
	let a = verify_spec(&spec).unwrap();
	assert_eq!(a.key, key);
	assert_eq!(a.environment, Environment::Production);
	assert_eq!(a.app_id_hash, app_id_hash(test_ca::TEST_APP_ID));
	assert_eq!((a.root, a.roots_tried), (0, 1));
	let development = AppAttestSpec { environment: Environment::Development, ..spec.clone() };
	assert_eq!(verify_spec(&development).unwrap().environment, Environment::Development);
	let used = AppAttestSpec { counter: 1, ..spec.clone() };
	assert_eq!(
		verify_spec(&used),
		Err(Error::MalformedAppAttest("the counter of a new key is not 0"))
	);
	let other_challenge = AppAttestSpec { client_data_hash: [0x43; 32], ..spec };
	assert_eq!(verify_spec(&other_challenge), Err(Error::ChallengeMismatch));
}

#[test]
fn assertions_sign_the_auth_data_and_the_message_hash() {
	let (_, _, secret, key) = test_ca();
	let (data, signature) = test_ca::app_attest_assertion(&secret, b"edgeproof/claim", 3);
	assert!(verify_assertion(&key, b"edgeproof/claim", &data, &signature));
	assert!(!verify_assertion(&key, b"edgeproof/clain", &data, &signature));
	let mut counter = data;
	counter[ASSERTION_DATA_LEN - 1] ^= 1;
	assert!(!verify_assertion(&key, b"edgeproof/claim", &counter, &signature));
	// Not a plain signature of the message, and a plain signature is not an assertion.
	assert!(!edgeproof_key_attestation::signature::verify_p256(
		&key,
		b"edgeproof/claim",
		&signature
	));
	let plain = edgeproof_key_attestation::signature::sign_p256(&secret, b"edgeproof/claim");
	assert!(!verify_assertion(&key, b"edgeproof/claim", &data, &plain));
}

proptest! {
	#![proptest_config(ProptestConfig { cases: common::fuzz_cases(), ..ProptestConfig::default() })]

	/// Random damage anywhere in a real object: never a panic, and an object that still
	/// verifies proves exactly what the undamaged one does.
	#[test]
	fn mutated_objects_never_panic_and_never_forge(
		pick in 0usize..2,
		edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..4),
	) {
		let v = &VECTORS[pick];
		let (original, proven) = &ORIGINALS[pick];
		let mut broken = original.clone();
		common::damage(&mut broken, edits);
		if let Ok(a) = verify(v, &broken) {
			prop_assert_eq!(&a, proven);
		}
	}
}
