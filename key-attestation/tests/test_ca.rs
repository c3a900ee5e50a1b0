//! Chains from the test CA (feature `test-ca`) verify as real ones do, and the issuer checks
//! refuse a certificate signed by a key that is not a CA's.

use der::Decode;
use edgeproof_key_attestation::{
	android::{
		check_binding, verify_chain, Attestation, AttestedKey, SecurityLevel, Trust,
		VerifiedBootState,
	},
	test_ca::{self, LeafSpec, TestCa, Unsigned, CA_NOT_BEFORE},
	Error,
};
use p256::ecdsa::SigningKey;
use x509_cert::{
	ext::{
		pkix::{BasicConstraints, KeyUsage, KeyUsages},
		AsExtension, Extension,
	},
	Certificate,
};

const NOW: u64 = CA_NOT_BEFORE + 86_400;

fn device(seed: u8) -> (SigningKey, [u8; 33]) {
	test_ca::software_key([seed; 32]).unwrap()
}

fn verify(chain: &[Vec<u8>], ca: &TestCa) -> Result<Attestation, Error> {
	let root = ca.root_spki();
	let refs: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
	verify_chain(&refs, &Trust { roots: &[&root], is_revoked: &|_| false, now: NOW })
}

#[test]
fn a_test_ca_chain_verifies_with_the_fields_it_was_issued_with() {
	let ca = TestCa::new([7; 32]).unwrap();
	let (_, key) = device(9);
	let mut spec = LeafSpec::tee(key, b"the bind message's hash");
	spec.security_level = SecurityLevel::StrongBox;
	spec.boot_state = VerifiedBootState::SelfSigned;
	spec.locked = false;
	let chain = ca.chain(&spec).unwrap();
	assert_eq!(chain.len(), 3);
	assert_eq!(ca.chain(&spec).unwrap(), chain, "the CA is deterministic");

	let attestation = verify(&chain, &ca).unwrap();
	assert_eq!(attestation.key, AttestedKey::P256(key));
	assert_eq!(attestation.security_level(), SecurityLevel::StrongBox);
	assert_eq!(attestation.attestation_version, 300);
	assert_eq!(attestation.challenge, b"the bind message's hash");
	let root_of_trust = attestation.root_of_trust.as_ref().unwrap();
	assert_eq!(root_of_trust.verified_boot_state, VerifiedBootState::SelfSigned);
	assert!(!root_of_trust.device_locked);
	assert_eq!(check_binding(&attestation, b"the bind message's hash", &key), Ok(()));

	// Trusted is this CA's root, not another's.
	let other = TestCa::new([8; 32]).unwrap();
	assert_eq!(verify(&chain, &other), Err(Error::UntrustedRoot));
}

/// The attack: a device holding one genuinely attested key signs, with that key, a "leaf" for a
/// key of its choosing claiming StrongBox and any challenge, and puts it above its real chain.
/// Every signature and issuer name checks out; only the issuer's missing `cA` refuses it.
#[test]
fn a_leaf_signed_by_an_attested_device_key_is_refused() {
	let ca = TestCa::new([7; 32]).unwrap();
	let (hardware, hardware_key) = device(9);
	let real = ca.chain(&LeafSpec::tee(hardware_key, b"once")).unwrap();
	assert!(verify(&real, &ca).is_ok());

	let (_, software_key) = device(10);
	let mut claimed = LeafSpec::tee(software_key, b"any challenge the forger wants");
	claimed.security_level = SecurityLevel::StrongBox;
	// Issued by the real leaf's key, under the real leaf's name.
	let forged =
		test_ca::issue_leaf(&hardware, test_ca::name("Android Keystore Key"), &claimed).unwrap();
	let mut chain = vec![forged];
	chain.extend(real);
	assert_eq!(verify(&chain, &ca), Err(Error::NotCa { index: 1 }));
}

/// Re-signs certificate `index` of a test chain with `extensions` in place of its own (the
/// issuer's key signs it again, so only the extensions differ).
fn with_extensions(
	ca_seed: [u8; 32],
	chain: &[Vec<u8>],
	index: usize,
	extensions: Vec<Extension>,
) -> Vec<Vec<u8>> {
	let mut chain = chain.to_vec();
	let cert = Certificate::from_der(&chain[index]).unwrap();
	let t = cert.tbs_certificate;
	// The intermediate (index 1) is signed by the root key, the root by itself.
	let signer = {
		let mut bytes = ca_seed;
		bytes[31] = 1;
		SigningKey::from_bytes(&bytes.into()).unwrap()
	};
	chain[index] = test_ca::issue(
		&signer,
		Unsigned {
			serial: t.serial_number.as_bytes(),
			issuer: t.issuer,
			subject: t.subject,
			validity: t.validity,
			key: t.subject_public_key_info,
			extensions,
		},
	)
	.unwrap();
	chain
}

#[test]
fn an_issuer_without_ca_constraints_or_cert_signing_usage_is_refused() {
	let seed = [7; 32];
	let ca = TestCa::new(seed).unwrap();
	let (_, key) = device(9);
	let chain = ca.chain(&LeafSpec::tee(key, b"x")).unwrap();
	let subject = test_ca::name("Edgeproof Test Attestation Intermediate");
	let ca_flag = |path_len_constraint| {
		BasicConstraints { ca: true, path_len_constraint }.to_extension(&subject, &[]).unwrap()
	};
	let usage = |usages| KeyUsage(usages).to_extension(&subject, &[]).unwrap();

	// No basic constraints at all, or `cA` false.
	let bare = with_extensions(seed, &chain, 1, vec![]);
	assert_eq!(verify(&bare, &ca), Err(Error::NotCa { index: 1 }));
	let not_ca = BasicConstraints { ca: false, path_len_constraint: None }
		.to_extension(&subject, &[])
		.unwrap();
	assert_eq!(
		verify(&with_extensions(seed, &chain, 1, vec![not_ca]), &ca),
		Err(Error::NotCa { index: 1 })
	);
	// A key usage that does not include certificate signing.
	let signing_only = with_extensions(
		seed,
		&chain,
		1,
		vec![ca_flag(None), usage(KeyUsages::DigitalSignature.into())],
	);
	assert_eq!(verify(&signing_only, &ca), Err(Error::NotCa { index: 1 }));
	// `cA` without a key usage is a CA (RFC 5280: no extension, no restriction).
	assert!(verify(&with_extensions(seed, &chain, 1, vec![ca_flag(None)]), &ca).is_ok());
	// The root may have no intermediate below it (path length 0) but has one.
	let root_subject = test_ca::name("Edgeproof Test Attestation Root");
	let root_zero = BasicConstraints { ca: true, path_len_constraint: Some(0) }
		.to_extension(&root_subject, &[])
		.unwrap();
	let short = with_extensions(seed, &chain, 2, vec![root_zero]);
	assert_eq!(verify(&short, &ca), Err(Error::PathTooLong { index: 2 }));
	let root_one = BasicConstraints { ca: true, path_len_constraint: Some(1) }
		.to_extension(&root_subject, &[])
		.unwrap();
	assert!(verify(&with_extensions(seed, &chain, 2, vec![root_one]), &ca).is_ok());
}
