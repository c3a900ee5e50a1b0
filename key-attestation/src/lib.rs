//! Hardware key attestation for Edgeproof's device registry (DESIGN.md §4.8).
//!
//! A phone keeps its device key in a TEE or a StrongBox secure element, and Android proves it
//! with an X.509 chain: the device key's certificate (the leaf, carrying the KeyDescription
//! extension), up through the device's batch or remotely provisioned intermediates to a Google
//! attestation root. [`android::verify_chain`] checks such a chain the way the runtime will:
//!
//! - every signature up the chain (ECDSA P-256 and P-384 with SHA-256 or SHA-384, RSA PKCS#1 v1.5
//!   with SHA-256/384/512 up to 4096 bits: what Google's roots and intermediates use), each
//!   certificate's issuer name against its parent's subject, every issuer a CA (basic
//!   constraints and key usage), the outer and the signed algorithm identifiers equal;
//! - every certificate's validity window against a given time (the chain's verification time,
//!   on chain the block's timestamp);
//! - the root's public key against a list of trusted roots (on chain a governance-set list) and
//!   no serial number in a revocation list;
//! - the leaf's KeyDescription: attestation and KeyMint versions and security levels, the
//!   attestation challenge, the hardware-enforced root of trust (verified-boot state).
//!
//! [`android::check_binding`] then ties the result to a registration: the challenge must be the
//! hash of the bind message and the leaf key the device key.
//!
//! An iPhone's App Attest key lives in the Secure Enclave, and Apple proves it with a CBOR
//! attestation object: an X.509 chain below Apple's App Attestation root (the same path checks,
//! [`chain`]), a leaf whose nonce extension commits to the authenticator data and the client
//! data hash, and the authenticator data itself (app id hash, counter, environment, key id).
//! [`apple::verify`] checks it; [`apple::verify_assertion`] checks the signatures such a key
//! makes, which are over the authenticator data and the message's hash, never the bare message.
//!
//! Everything is bounded ([`MAX_CHAIN_LEN`], [`MAX_CERT_LEN`], [`apple::MAX_OBJECT_LEN`], the
//! challenge length) and every
//! malformed input is an [`Error`], never a panic.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod android;
pub mod apple;
mod cbor;
pub mod chain;
pub mod roots;
/// The P-256 implementation device keys use (for signing with a software key).
pub use p256;
pub mod signature;
#[cfg(feature = "test-ca")]
pub mod test_ca;
mod tlv;

/// Most certificates a chain may hold: Google's chains have 4 (factory-provisioned keys) or 5
/// (remotely provisioned ones).
pub const MAX_CHAIN_LEN: usize = 6;
/// Largest DER certificate accepted. Google's are 0.5–1.6 KiB; the leaf's extension carries the
/// app's package names and signatures.
pub const MAX_CERT_LEN: usize = 8 * 1024;

/// Why a chain is refused. `index` counts from the leaf (0) to the root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
	/// No certificates.
	EmptyChain,
	/// More than [`MAX_CHAIN_LEN`] certificates.
	ChainTooLong { len: usize },
	/// A certificate over [`MAX_CERT_LEN`] bytes.
	CertificateTooLarge { index: usize },
	/// A certificate is not DER X.509 (truncated, bit-flipped, trailing bytes...).
	MalformedCertificate { index: usize },
	/// A certificate's issuer name is not its parent's subject name.
	IssuerMismatch { index: usize },
	/// A certificate above the leaf is not a CA (no `cA` basic constraint, or a key usage
	/// without `keyCertSign`), so it may not sign the certificate below it.
	NotCa { index: usize },
	/// A CA certificate has more intermediates below it than its path length constraint allows.
	PathTooLong { index: usize },
	/// The certificate's outer signature algorithm differs from the one its signed part names.
	AlgorithmMismatch { index: usize },
	/// A signature algorithm or issuer key type outside the supported set.
	UnsupportedAlgorithm { index: usize },
	/// The issuer's public key cannot be decoded (or is an RSA key over 4096 bits).
	MalformedKey { index: usize },
	/// The signature does not verify under the parent's key (the root's under its own).
	BadSignature { index: usize },
	/// The verification time is before the certificate's `notBefore`.
	NotYetValid { index: usize },
	/// The verification time is after the certificate's `notAfter`.
	Expired { index: usize },
	/// The root's public key is not in the trusted list.
	UntrustedRoot,
	/// A certificate's serial number is in the revocation list.
	Revoked { index: usize },
	/// The leaf has no KeyDescription extension.
	NoKeyDescription,
	/// The KeyDescription extension is not what Android defines (the detail names the field).
	MalformedKeyDescription(&'static str),
	/// The attestation challenge is not the expected one.
	ChallengeMismatch,
	/// The leaf's public key is not the device key.
	KeyMismatch,
	/// The App Attest object is not what Apple defines (the detail names the part).
	MalformedAppAttest(&'static str),
	/// The App Attest leaf has no nonce extension.
	NoAppAttestNonce,
}

impl core::fmt::Display for Error {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		match self {
			Self::EmptyChain => write!(f, "the chain holds no certificate"),
			Self::ChainTooLong { len } => {
				write!(
					f,
					"the chain holds {len} certificates, at most {MAX_CHAIN_LEN} are accepted"
				)
			},
			Self::CertificateTooLarge { index } => {
				write!(f, "certificate {index} is over {MAX_CERT_LEN} bytes")
			},
			Self::MalformedCertificate { index } => {
				write!(f, "certificate {index} is not a DER X.509 certificate")
			},
			Self::IssuerMismatch { index } => {
				write!(f, "certificate {index}'s issuer is not the next certificate's subject")
			},
			Self::NotCa { index } => {
				write!(f, "certificate {index} signs another certificate but is not a CA")
			},
			Self::PathTooLong { index } => {
				write!(
					f,
					"certificate {index} allows fewer intermediates below it than the chain has"
				)
			},
			Self::AlgorithmMismatch { index } => {
				write!(f, "certificate {index} names two different signature algorithms")
			},
			Self::UnsupportedAlgorithm { index } => {
				write!(f, "certificate {index} uses an unsupported signature algorithm or key")
			},
			Self::MalformedKey { index } => {
				write!(f, "the key that signs certificate {index} cannot be decoded")
			},
			Self::BadSignature { index } => write!(f, "certificate {index}'s signature is invalid"),
			Self::NotYetValid { index } => write!(f, "certificate {index} is not valid yet"),
			Self::Expired { index } => write!(f, "certificate {index} has expired"),
			Self::UntrustedRoot => write!(f, "the chain's root key is not a trusted root"),
			Self::Revoked { index } => write!(f, "certificate {index}'s serial number is revoked"),
			Self::NoKeyDescription => write!(f, "the leaf has no key attestation extension"),
			Self::MalformedKeyDescription(what) => {
				write!(f, "the key attestation extension is malformed: {what}")
			},
			Self::ChallengeMismatch => {
				write!(f, "the attestation challenge is not the expected one")
			},
			Self::KeyMismatch => write!(f, "the attested key is not the device key"),
			Self::MalformedAppAttest(what) => {
				write!(f, "the App Attest object is malformed: {what}")
			},
			Self::NoAppAttestNonce => write!(f, "the App Attest leaf has no nonce extension"),
		}
	}
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}
