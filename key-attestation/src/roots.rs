//! Google's hardware attestation roots, the certificates every genuine Android Key Attestation
//! chain ends in, and Apple's App Attestation root, which signs every App Attest chain's
//! intermediate (`roots/README.md` says where they come from). A chain's genesis trusts their
//! keys; governance may change the list later.

use alloc::vec::Vec;

use der::{Decode, Encode};
use x509_cert::Certificate;

/// The RSA-4096 root (key `f92009e853b6b045`, its 2022 certificate, valid to 2042).
pub const GOOGLE_RSA_2016: &[u8] = include_bytes!("../roots/google-attestation-root-rsa-2016.der");
/// The ECDSA P-384 "Key Attestation CA1" root (2025, valid to 2035).
pub const GOOGLE_P384_CA1: &[u8] = include_bytes!("../roots/google-attestation-ca1-p384.der");
/// Both, in that order.
pub const GOOGLE: [&[u8]; 2] = [GOOGLE_RSA_2016, GOOGLE_P384_CA1];
/// Apple's "App Attestation Root CA" (ECDSA P-384, 2020 to 2045).
pub const APPLE_APP_ATTEST: &[u8] = include_bytes!("../roots/apple-app-attestation-root-ca.der");
/// The roots a chain's genesis trusts: Google's two, then Apple's.
pub const GENESIS: [&[u8]; 3] = [GOOGLE_RSA_2016, GOOGLE_P384_CA1, APPLE_APP_ATTEST];

/// A certificate's SubjectPublicKeyInfo, DER: the form the trusted-roots list holds.
pub fn spki(certificate: &[u8]) -> Option<Vec<u8>> {
	Certificate::from_der(certificate).ok()?.tbs_certificate.subject_public_key_info.to_der().ok()
}

/// Is `bytes` exactly one DER SubjectPublicKeyInfo?
pub fn is_spki(bytes: &[u8]) -> bool {
	x509_cert::spki::SubjectPublicKeyInfoOwned::from_der(bytes).is_ok()
}

#[cfg(test)]
mod tests {
	use super::*;
	use sha2::{Digest, Sha256};

	/// The SHA-256 of each root's key that Google publishes and tests/data/README.md records,
	/// and of Apple's root key (roots/README.md).
	#[test]
	fn the_roots_are_googles_and_apples() {
		let hashes: Vec<_> = GENESIS
			.iter()
			.map(|cert| {
				let key = spki(cert).unwrap();
				assert!(is_spki(&key));
				Sha256::digest(key).iter().map(|b| alloc::format!("{b:02x}")).collect::<String>()
			})
			.collect();
		assert_eq!(
			hashes,
			[
				"feb2ea7551ee316ed4bb443c8293b884dbfdea40b603ee3e4f4a897e4580fbae",
				"3ee44512a1af2beb39c889490c60ea3f82e43f5d5a5532f5ab9419f676cd07ec",
				"1ae751fd29896d0f1f13fe226c063f445d40d8938acc6245c251ecc0679330bd",
			]
		);
		assert!(!is_spki(&GOOGLE_RSA_2016[..40]));
	}
}
