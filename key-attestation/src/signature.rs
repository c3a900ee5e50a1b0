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

/// Verifies a device key's signature: ECDSA P-256 over SHA-256 of `message`, the signature 64
/// bytes `r ‖ s` (big-endian) with `s ≤ n/2` ("low-S"). Secure hardware signs in DER with
/// either `s`; the client converts, and normalises `s` (replacing it by `n − s`), so every
/// message has exactly one accepted signature, of a fixed size (docs/hardware-keys.md).
pub fn verify_p256(key: &[u8; 33], message: &[u8], signature: &[u8; 64]) -> bool {
	let Ok(key) = p256::ecdsa::VerifyingKey::from_sec1_bytes(key) else { return false };
	let Ok(signature) = p256::ecdsa::Signature::from_slice(signature) else { return false };
	signature.normalize_s().is_none() && key.verify(message, &signature).is_ok()
}

/// Signs `message` as [`verify_p256`] verifies it (a software key: development and tests).
pub fn sign_p256(key: &p256::ecdsa::SigningKey, message: &[u8]) -> [u8; 64] {
	low_s(p256::ecdsa::signature::Signer::sign(key, message))
}

/// The device key of a P-256 secret: its public point, compressed SEC1.
pub fn p256_public(secret: &p256::ecdsa::SigningKey) -> [u8; 33] {
	let point = secret.verifying_key().to_encoded_point(true);
	let mut public = [0u8; 33];
	public.copy_from_slice(point.as_bytes());
	public
}

/// A compressed P-256 key's uncompressed SEC1 point (65 bytes), if it is a point on the curve.
pub fn p256_uncompressed(key: &[u8; 33]) -> Option<[u8; 65]> {
	let point = p256::PublicKey::from_sec1_bytes(key).ok()?;
	p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&point, false)
		.as_bytes()
		.try_into()
		.ok()
}

/// `signature` as `r ‖ s` with `s` replaced by `n − s` when it is high.
fn low_s(signature: p256::ecdsa::Signature) -> [u8; 64] {
	signature.normalize_s().unwrap_or(signature).to_bytes().into()
}

/// A DER ECDSA signature (what Android Keystore and the Secure Enclave return) in the form
/// [`verify_p256`] takes: `r ‖ s`, low-S. `None` if it is not a DER P-256 signature.
pub fn p256_from_der(der: &[u8]) -> Option<[u8; 64]> {
	p256::ecdsa::Signature::from_der(der).ok().map(low_s)
}

#[cfg(test)]
mod tests {
	use super::*;
	use p256::ecdsa::SigningKey;

	fn key(seed: u8) -> (SigningKey, [u8; 33]) {
		let secret = SigningKey::from_bytes(&[seed; 32].into()).unwrap();
		let public = p256_public(&secret);
		(secret, public)
	}

	#[test]
	fn device_signatures_verify_low_s_only_and_for_their_key_and_message() {
		let (secret, public) = key(3);
		let signature = sign_p256(&secret, b"edgeproof/claim");
		assert!(verify_p256(&public, b"edgeproof/claim", &signature));
		assert!(!verify_p256(&public, b"edgeproof/clain", &signature));
		assert!(!verify_p256(&key(4).1, b"edgeproof/claim", &signature));
		let mut flipped = signature;
		flipped[40] ^= 1;
		assert!(!verify_p256(&public, b"edgeproof/claim", &flipped));
		// The same signature with s replaced by n − s is valid ECDSA but not the accepted form.
		let parsed = p256::ecdsa::Signature::from_slice(&signature).unwrap();
		let (r, s) = parsed.split_scalars();
		let high = p256::ecdsa::Signature::from_scalars(r, -*s).unwrap();
		assert!(secret.verifying_key().verify(b"edgeproof/claim", &high).is_ok());
		assert!(!verify_p256(&public, b"edgeproof/claim", &high.to_bytes().into()));
		// The DER form of the high-S signature converts to the accepted one.
		assert_eq!(p256_from_der(high.to_der().as_bytes()), Some(signature));
		assert_eq!(p256_from_der(&[0x30, 0x02, 0x02, 0x00]), None);
		// A key that is not a point on the curve verifies nothing.
		assert!(!verify_p256(&[0x02; 33], b"edgeproof/claim", &signature));
	}
}
