//! The certificate signatures Google's attestation chains use: ECDSA over P-256 or P-384 with
//! SHA-256 or SHA-384 (the digest is reduced to the curve order as ECDSA defines, so a P-384 key
//! may sign a SHA-256 digest), and RSA PKCS#1 v1.5 with SHA-256, SHA-384 or SHA-512.

use der::asn1::ObjectIdentifier as Oid;
use p256::ecdsa::signature::{hazmat::PrehashVerifier, Verifier};
use rsa::pkcs1::DecodeRsaPublicKey;
use sha2::{Digest, Sha256, Sha384, Sha512};
use x509_cert::spki::SubjectPublicKeyInfoOwned;

const ECDSA_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
const RSA_SHA256: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
const RSA_SHA384: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
const RSA_SHA512: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
pub const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
pub const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
pub const P256: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
const P384: Oid = Oid::new_unwrap("1.3.132.0.34");

/// Why a signature check failed.
#[derive(Debug, PartialEq, Eq)]
pub enum SigError {
	/// An algorithm or key type outside the supported set.
	Unsupported,
	/// The key does not decode.
	Key,
	/// The signature does not decode or does not verify.
	Invalid,
}

/// The named curve of an EC key.
pub fn curve(key: &SubjectPublicKeyInfoOwned) -> Option<Oid> {
	key.algorithm.parameters.as_ref()?.decode_as::<Oid>().ok()
}

/// Verifies `signature` over `message` under `key` with `algorithm`.
pub fn verify(
	key: &SubjectPublicKeyInfoOwned,
	algorithm: &Oid,
	message: &[u8],
	signature: &[u8],
) -> Result<(), SigError> {
	let key_bytes = key.subject_public_key.as_bytes().ok_or(SigError::Key)?;
	match (key.algorithm.oid, *algorithm) {
		(EC_PUBLIC_KEY, alg @ (ECDSA_SHA256 | ECDSA_SHA384)) => {
			let digest = if alg == ECDSA_SHA256 {
				Sha256::digest(message).to_vec()
			} else {
				Sha384::digest(message).to_vec()
			};
			match curve(key) {
				Some(P256) => {
					let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(key_bytes)
						.map_err(|_| SigError::Key)?;
					let sig = p256::ecdsa::Signature::from_der(signature)
						.map_err(|_| SigError::Invalid)?;
					key.verify_prehash(&digest, &sig).map_err(|_| SigError::Invalid)
				},
				Some(P384) => {
					let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(key_bytes)
						.map_err(|_| SigError::Key)?;
					let sig = p384::ecdsa::Signature::from_der(signature)
						.map_err(|_| SigError::Invalid)?;
					key.verify_prehash(&digest, &sig).map_err(|_| SigError::Invalid)
				},
				_ => Err(SigError::Unsupported),
			}
		},
		(RSA_ENCRYPTION, alg @ (RSA_SHA256 | RSA_SHA384 | RSA_SHA512)) => {
			// `RsaPublicKey` refuses moduli over 4096 bits, which bounds the work.
			let key = rsa::RsaPublicKey::from_pkcs1_der(key_bytes).map_err(|_| SigError::Key)?;
			let sig =
				rsa::pkcs1v15::Signature::try_from(signature).map_err(|_| SigError::Invalid)?;
			let checked = match alg {
				RSA_SHA256 => rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key).verify(message, &sig),
				RSA_SHA384 => rsa::pkcs1v15::VerifyingKey::<Sha384>::new(key).verify(message, &sig),
				_ => rsa::pkcs1v15::VerifyingKey::<Sha512>::new(key).verify(message, &sig),
			};
			checked.map_err(|_| SigError::Invalid)
		},
		_ => Err(SigError::Unsupported),
	}
}

/// A P-256 public key as the device registry stores it: compressed SEC1 (33 bytes).
pub fn p256_compressed(key: &SubjectPublicKeyInfoOwned) -> Option<[u8; 33]> {
	if key.algorithm.oid != EC_PUBLIC_KEY || curve(key) != Some(P256) {
		return None;
	}
	let point = p256::PublicKey::from_sec1_bytes(key.subject_public_key.as_bytes()?).ok()?;
	let encoded = p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&point, true);
	encoded.as_bytes().try_into().ok()
}
