//! Real Android Key Attestation chains from Pixel phones (tests/data/README.md says where each
//! file comes from), verified against Google's published attestation roots exactly as the
//! runtime will verify them; then the same chains broken one way at a time, each refused with
//! its own error; then mutated at random.

use std::path::Path;

use der::{Decode, Encode};
use edgeproof_key_attestation::{
	android::{
		check_binding, verify_chain, Attestation, AttestedKey, SecurityLevel, Trust,
		VerifiedBootState,
	},
	chain::serial_magnitude,
	Error, MAX_CERT_LEN, MAX_CHAIN_LEN,
};
use proptest::prelude::*;

mod common;
use x509_cert::Certificate;

fn data(file: &str) -> Vec<Vec<u8>> {
	let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/android").join(file);
	let pem = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
	Certificate::load_pem_chain(&pem)
		.expect("a PEM chain")
		.iter()
		.map(|c| c.to_der().expect("re-encodes"))
		.collect()
}

/// Google's two attestation roots (the 2016 RSA-4096 key, here in its 2022 issue, and the 2025
/// ECDSA P-384 "Key Attestation CA1"), as SubjectPublicKeyInfo DER.
fn google_roots() -> Vec<Vec<u8>> {
	data("google-roots.pem")
		.iter()
		.map(|der| {
			let cert = Certificate::from_der(der).unwrap();
			cert.tbs_certificate.subject_public_key_info.to_der().unwrap()
		})
		.collect()
}

/// One real chain and what its device's attestation says (from the JSON the chain's source
/// publishes beside it): time of the key's creation (s), versions, level, challenge, lock and
/// boot state, whether the leaf is P-256, which root.
struct Vector {
	file: &'static str,
	created: u64,
	version: u32,
	level: SecurityLevel,
	challenge: &'static [u8],
	locked: bool,
	boot: VerifiedBootState,
	p256: bool,
	root: usize,
}

const VECTORS: &[Vector] = &[
	Vector {
		file: "blueline-TEE_EC_NONE.pem",
		created: 1_538_178_035,
		version: 3,
		level: SecurityLevel::TrustedEnvironment,
		challenge: b"challenge",
		locked: false,
		boot: VerifiedBootState::Unverified,
		p256: true,
		root: 0,
	},
	Vector {
		file: "blueline-SB_RSA_NONE.pem",
		created: 1_598_689_274,
		version: 3,
		level: SecurityLevel::StrongBox,
		challenge: b"challenge",
		locked: false,
		boot: VerifiedBootState::Unverified,
		p256: false,
		root: 0,
	},
	Vector {
		file: "akita-TEE_RSA_NONE.pem",
		created: 1_727_389_884,
		version: 300,
		level: SecurityLevel::TrustedEnvironment,
		challenge: b"challenge",
		locked: false,
		boot: VerifiedBootState::Unverified,
		p256: false,
		root: 0,
	},
	Vector {
		file: "caiman-SB_EC_RKP.pem",
		created: 1_758_900_646,
		version: 300,
		level: SecurityLevel::StrongBox,
		challenge: b"7ccac1ea-4845-482e-858d-f6fa9aa8c295",
		locked: true,
		boot: VerifiedBootState::Verified,
		p256: true,
		root: 0,
	},
	Vector {
		file: "tegu-TEE_EC_2026_ROOT.pem",
		created: 1_771_894_563,
		version: 400,
		level: SecurityLevel::TrustedEnvironment,
		challenge: b"6417f92c-daef-4cc1-8828-5bb39338ffd5",
		locked: true,
		boot: VerifiedBootState::Verified,
		p256: true,
		root: 1,
	},
	Vector {
		file: "tegu-SB_EC_2026_ROOT.pem",
		created: 1_771_979_841,
		version: 300,
		level: SecurityLevel::StrongBox,
		challenge: b"90578e1d-f5bf-4ccf-a27f-a4f4d89ee21f",
		locked: true,
		boot: VerifiedBootState::Verified,
		p256: true,
		root: 1,
	},
];

fn verify_at(
	chain: &[Vec<u8>],
	roots: &[Vec<u8>],
	revoked: &[&[u8]],
	now: u64,
) -> Result<Attestation, Error> {
	let chain: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
	let roots: Vec<&[u8]> = roots.iter().map(Vec::as_slice).collect();
	verify_chain(
		&chain,
		&Trust {
			roots: &roots,
			is_revoked: &|s| revoked.iter().any(|r| serial_magnitude(r) == s),
			now,
		},
	)
}

/// A minute after the key was created: every certificate of the chain was valid then.
fn verify(v: &Vector, chain: &[Vec<u8>]) -> Result<Attestation, Error> {
	verify_at(chain, &google_roots(), &[], v.created + 60)
}

#[test]
fn real_chains_verify_against_googles_roots() {
	for v in VECTORS {
		let chain = data(v.file);
		let a = verify(v, &chain).unwrap_or_else(|e| panic!("{}: {e}", v.file));
		assert_eq!(a.attestation_version, v.version, "{}", v.file);
		assert_eq!(a.attestation_security_level, v.level, "{}", v.file);
		assert_eq!(a.keymint_security_level, v.level, "{}", v.file);
		assert_eq!(a.security_level(), v.level, "{}", v.file);
		assert_eq!(a.challenge, v.challenge, "{}", v.file);
		let rot = a.root_of_trust.as_ref().expect("a hardware-enforced root of trust");
		assert_eq!((rot.device_locked, rot.verified_boot_state), (v.locked, v.boot), "{}", v.file);
		assert_eq!(matches!(a.key, AttestedKey::P256(_)), v.p256, "{}", v.file);
		assert_eq!(a.root, v.root, "{}", v.file);
		let serials: Vec<Vec<u8>> = chain
			.iter()
			.map(|der| {
				let cert = Certificate::from_der(der).unwrap();
				serial_magnitude(cert.tbs_certificate.serial_number.as_bytes()).to_vec()
			})
			.collect();
		assert_eq!(a.serials, serials, "{}", v.file);
		println!(
			"{}: {} certificates, {:?}, root {}",
			v.file,
			chain.len(),
			a.security_level(),
			a.root
		);
	}
}

#[test]
fn the_attested_p256_key_is_the_leafs_compressed_point() {
	let v = &VECTORS[0];
	let chain = data(v.file);
	let a = verify(v, &chain).unwrap();
	let leaf = Certificate::from_der(&chain[0]).unwrap();
	let point = leaf.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes();
	// Uncompressed SEC1: 04 || x || y; compressed: (02 | parity of y) || x.
	let AttestedKey::P256(key) = a.key else { panic!("a P-256 leaf") };
	assert_eq!(point[0], 0x04);
	assert_eq!(key[0], 0x02 | (point[64] & 1));
	assert_eq!(&key[1..], &point[1..33]);
	assert_eq!(check_binding(&a, b"challenge", &key), Ok(()));
}

#[test]
fn a_binding_to_another_challenge_or_key_is_refused() {
	let v = &VECTORS[3];
	let a = verify(v, &data(v.file)).unwrap();
	let AttestedKey::P256(key) = a.key.clone() else { panic!("a P-256 leaf") };
	// A challenge from another genesis, operator or nonce is another hash.
	assert_eq!(check_binding(&a, b"challenge", &key), Err(Error::ChallengeMismatch));
	let mut other = key;
	other[5] ^= 1;
	assert_eq!(check_binding(&a, v.challenge, &other), Err(Error::KeyMismatch));
	// An RSA leaf is never a device key.
	let rsa = &VECTORS[1];
	let a = verify(rsa, &data(rsa.file)).unwrap();
	assert_eq!(check_binding(&a, rsa.challenge, &key), Err(Error::KeyMismatch));
}

#[test]
fn a_flipped_byte_in_any_signed_part_or_signature_is_a_bad_signature() {
	for v in VECTORS {
		let chain = data(v.file);
		for index in 0..chain.len() {
			// The last byte is inside the signature BIT STRING.
			let mut broken = chain.clone();
			*broken[index].last_mut().unwrap() ^= 0x01;
			let e = verify(v, &broken).unwrap_err();
			assert_eq!(e, Error::BadSignature { index }, "{} signature of {index}", v.file);
			// A byte of the subject public key sits inside the signed part.
			let mut broken = chain.clone();
			let cert = Certificate::from_der(&chain[index]).unwrap();
			let key = cert.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes();
			let at = find(&chain[index], key) + key.len() / 2;
			broken[index][at] ^= 0x01;
			let e = verify(v, &broken).unwrap_err();
			// The flipped key no longer verifies this certificate (or, for the root, its own
			// signature); it may also fail to decode as a key first.
			assert!(
				matches!(e, Error::BadSignature { .. } | Error::MalformedKey { .. }),
				"{} key of {index}: {e}",
				v.file
			);
		}
	}
}

fn find(haystack: &[u8], needle: &[u8]) -> usize {
	haystack.windows(needle.len()).position(|w| w == needle).expect("found")
}

#[test]
fn a_chain_ending_in_another_root_is_untrusted() {
	// The RSA-rooted chain against only the EC root, and the EC-rooted one against only the RSA.
	let roots = google_roots();
	let (rsa, ec) = (&VECTORS[0], &VECTORS[4]);
	let only = |i: usize| vec![roots[i].clone()];
	assert_eq!(
		verify_at(&data(rsa.file), &only(1), &[], rsa.created + 60),
		Err(Error::UntrustedRoot)
	);
	assert_eq!(
		verify_at(&data(ec.file), &only(0), &[], ec.created + 60),
		Err(Error::UntrustedRoot)
	);
	// A chain cut short of its root ends in an intermediate, which no list trusts.
	let mut cut = data(ec.file);
	cut.pop();
	assert_eq!(
		verify_at(&cut, &roots, &[], ec.created + 60),
		Err(Error::IssuerMismatch { index: cut.len() - 1 })
	);
}

/// The Pixel 3 chains carry the 2016 certificate of Google's RSA root, which expired on
/// 2026-05-24; the same key's 2022 certificate is valid to 2042. The root is trusted for its
/// key, so the chains still verify while their other certificates are valid (to 2028).
#[test]
fn a_trusted_root_is_its_key_whatever_its_certificates_validity() {
	let v = &VECTORS[0];
	let chain = data(v.file);
	let root = Certificate::from_der(chain.last().unwrap()).unwrap();
	let root_expiry = root.tbs_certificate.validity.not_after.to_unix_duration().as_secs();
	assert_eq!(root_expiry, 1_779_640_132, "2026-05-24T16:28:52Z");
	let december_2026 = 1_796_083_200;
	assert!(verify_at(&chain, &google_roots(), &[], december_2026).is_ok());
	// In 2029 its batch certificates have expired too.
	let e = verify_at(&chain, &google_roots(), &[], 1_861_920_000).unwrap_err();
	assert!(matches!(e, Error::Expired { index: 1 | 2 }), "{e}");
}

#[test]
fn certificates_are_checked_against_the_verification_time() {
	let v = &VECTORS[3];
	let chain = data(v.file);
	// Its StrongBox intermediate expired on 2025-10-03, its Droid CA3 on 2025-12-04.
	let e = verify_at(&chain, &google_roots(), &[], 1_767_225_600).unwrap_err(); // 2026-01-01
	assert!(matches!(e, Error::Expired { index: 1 | 2 }), "{e}");
	// Before the RKP intermediates were issued.
	let e = verify_at(&chain, &google_roots(), &[], 1_600_000_000).unwrap_err();
	assert!(matches!(e, Error::NotYetValid { .. }), "{e}");
}

#[test]
fn a_revoked_serial_anywhere_in_the_chain_is_refused() {
	for v in [&VECTORS[0], &VECTORS[4]] {
		let chain = data(v.file);
		for index in 0..chain.len() {
			let cert = Certificate::from_der(&chain[index]).unwrap();
			let serial = cert.tbs_certificate.serial_number.as_bytes().to_vec();
			let e = verify_at(&chain, &google_roots(), &[&serial], v.created + 60).unwrap_err();
			assert_eq!(e, Error::Revoked { index }, "{}", v.file);
		}
	}
}

/// Google's revocation list writes serials in hex without the DER INTEGER's sign byte
/// (`c35747a0…`), which a certificate whose serial has its top bit set carries (`00 c3 57 …`):
/// a serial revoked in either form is refused.
#[test]
fn a_serial_revoked_without_its_sign_byte_is_refused() {
	let mut signed = 0;
	for v in VECTORS {
		let chain = data(v.file);
		for (index, der) in chain.iter().enumerate() {
			let cert = Certificate::from_der(der).unwrap();
			let encoded = cert.tbs_certificate.serial_number.as_bytes();
			let listed = serial_magnitude(encoded);
			signed += usize::from(listed.len() < encoded.len());
			for revoked in [encoded, listed] {
				let e = verify_at(&chain, &google_roots(), &[revoked], v.created + 60).unwrap_err();
				assert_eq!(e, Error::Revoked { index }, "{}", v.file);
			}
		}
	}
	assert!(signed > 0, "some real certificate's serial has a sign byte");
	assert_eq!(serial_magnitude(&[0, 0, 0x8a]), &[0x8a]);
	assert_eq!(serial_magnitude(&[0]), &[0]);
	assert_eq!(serial_magnitude(&[]), &[] as &[u8]);
}

#[test]
fn chains_out_of_order_too_long_or_too_large_are_refused() {
	let v = &VECTORS[0];
	let chain = data(v.file);
	let mut swapped = chain.clone();
	swapped.swap(1, 2);
	assert_eq!(verify(v, &swapped), Err(Error::IssuerMismatch { index: 0 }));
	assert_eq!(verify(v, &[]), Err(Error::EmptyChain));
	let long: Vec<Vec<u8>> = chain.iter().cycle().take(MAX_CHAIN_LEN + 1).cloned().collect();
	assert_eq!(verify(v, &long), Err(Error::ChainTooLong { len: MAX_CHAIN_LEN + 1 }));
	let mut big = chain.clone();
	big[1].resize(MAX_CERT_LEN + 1, 0);
	assert_eq!(verify(v, &big), Err(Error::CertificateTooLarge { index: 1 }));
	let mut cut = chain.clone();
	let len = cut[2].len();
	cut[2].truncate(len - 10);
	assert_eq!(verify(v, &cut), Err(Error::MalformedCertificate { index: 2 }));
	// The root alone verifies its own signature but has no KeyDescription.
	assert_eq!(verify(v, &chain[chain.len() - 1..]), Err(Error::NoKeyDescription));
}

/// Each vector's chain and what it proves, read and verified once for the fuzzer.
static ORIGINALS: std::sync::LazyLock<Vec<(Vec<Vec<u8>>, Attestation)>> =
	std::sync::LazyLock::new(|| {
		VECTORS
			.iter()
			.map(|v| {
				let chain = data(v.file);
				let a = verify(v, &chain).unwrap();
				(chain, a)
			})
			.collect()
	});

// Random damage to a random certificate of a random real chain: never a panic, and a chain
// that still verifies proves exactly what the undamaged one does (nothing can be forged).
proptest! {
	#![proptest_config(ProptestConfig { cases: common::fuzz_cases(), ..ProptestConfig::default() })]

	#[test]
	fn mutated_chains_never_panic_and_never_forge(
		pick in 0usize..6,
		which in any::<prop::sample::Index>(),
		edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..4),
	) {
		let v = &VECTORS[pick];
		let (chain, original) = &ORIGINALS[pick];
		let mut broken = chain.clone();
		let cert = &mut broken[which.index(chain.len())];
		common::damage(cert, edits);
		if let Ok(a) = verify(v, &broken) {
			prop_assert_eq!(&a, original);
		}
	}
}
