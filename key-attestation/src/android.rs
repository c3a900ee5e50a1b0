//! Android Key Attestation: the certificate chain and the KeyDescription extension
//! (<https://source.android.com/docs/security/features/keystore/attestation>).
//!
//! ```text
//! KeyDescription ::= SEQUENCE {
//!     attestationVersion         INTEGER,      -- 3, 4, 100, 200, 300, 400...
//!     attestationSecurityLevel   SecurityLevel,
//!     keyMintVersion             INTEGER,
//!     keyMintSecurityLevel       SecurityLevel,
//!     attestationChallenge       OCTET STRING, -- at most 128 bytes
//!     uniqueId                   OCTET STRING,
//!     softwareEnforced           AuthorizationList,
//!     hardwareEnforced           AuthorizationList }
//! SecurityLevel ::= ENUMERATED { Software (0), TrustedEnvironment (1), StrongBox (2) }
//! AuthorizationList ::= SEQUENCE { ... rootOfTrust [704] EXPLICIT RootOfTrust OPTIONAL, ... }
//! RootOfTrust ::= SEQUENCE {
//!     verifiedBootKey   OCTET STRING,
//!     deviceLocked      BOOLEAN,
//!     verifiedBootState ENUMERATED { Verified (0), SelfSigned (1), Unverified (2), Failed (3) },
//!     verifiedBootHash  OCTET STRING OPTIONAL } -- attestation version 3 and later
//! ```
//!
//! Only the hardware-enforced root of trust is read: what the software list says is the
//! operating system's word, not the secure hardware's.

use alloc::vec::Vec;

use der::{asn1::ObjectIdentifier as Oid, Encode};
use x509_cert::{
	certificate::TbsCertificate,
	ext::pkix::{BasicConstraints, KeyUsage},
	Certificate,
};

use crate::{
	signature::{self, SigError},
	tlv::{self, Reader, Tlv},
	Error, MAX_CERT_LEN, MAX_CHAIN_LEN,
};

/// The KeyDescription extension's OID.
pub const KEY_DESCRIPTION: Oid = Oid::new_unwrap("1.3.6.1.4.1.11129.2.1.17");
/// The longest attestation challenge Android issues.
pub const MAX_CHALLENGE_LEN: usize = 128;

/// Where a key lives, as the attestation says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SecurityLevel {
	Software,
	TrustedEnvironment,
	StrongBox,
}

/// The verified-boot state of the device when the key was attested.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerifiedBootState {
	Verified,
	SelfSigned,
	Unverified,
	Failed,
}

/// The hardware-enforced root of trust.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RootOfTrust {
	pub verified_boot_key: Vec<u8>,
	pub device_locked: bool,
	pub verified_boot_state: VerifiedBootState,
	pub verified_boot_hash: Option<Vec<u8>>,
}

/// The attested key (the leaf certificate's public key).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttestedKey {
	/// A P-256 key, compressed SEC1: what a hardware-backed device key is.
	P256([u8; 33]),
	/// Any other key (RSA, another curve): attestable, but not a device key.
	Other,
}

/// What a verified chain proves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attestation {
	pub key: AttestedKey,
	pub attestation_version: u32,
	pub attestation_security_level: SecurityLevel,
	pub keymint_version: u32,
	pub keymint_security_level: SecurityLevel,
	pub challenge: Vec<u8>,
	pub root_of_trust: Option<RootOfTrust>,
	/// Which of the trusted roots the chain ends in.
	pub root: usize,
}

impl Attestation {
	/// The level the key is proven at: the weaker of the two the attestation states.
	pub fn security_level(&self) -> SecurityLevel {
		self.attestation_security_level.min(self.keymint_security_level)
	}
}

/// What a chain is checked against.
pub struct Trust<'a> {
	/// The trusted roots' SubjectPublicKeyInfo, DER.
	pub roots: &'a [&'a [u8]],
	/// Is this serial number revoked? Serials as the certificates encode them (big-endian, the
	/// DER INTEGER's content). On chain a storage lookup, so the list may be long.
	pub is_revoked: &'a dyn Fn(&[u8]) -> bool,
	/// The verification time, seconds since the Unix epoch.
	pub now: u64,
}

/// Verifies an attestation chain, leaf first, root last (docs: the crate root).
pub fn verify_chain(chain: &[&[u8]], trust: &Trust) -> Result<Attestation, Error> {
	if chain.is_empty() {
		return Err(Error::EmptyChain);
	}
	if chain.len() > MAX_CHAIN_LEN {
		return Err(Error::ChainTooLong { len: chain.len() });
	}
	let mut certs = Vec::with_capacity(chain.len());
	for (index, der) in chain.iter().enumerate() {
		if der.len() > MAX_CERT_LEN {
			return Err(Error::CertificateTooLarge { index });
		}
		let cert: Certificate =
			der::Decode::from_der(der).map_err(|_| Error::MalformedCertificate { index })?;
		certs.push((cert, signed_part(der).ok_or(Error::MalformedCertificate { index })?));
	}
	for (index, (cert, tbs)) in certs.iter().enumerate() {
		// The root signs itself.
		let issuer = &certs.get(index + 1).unwrap_or(&certs[index]).0;
		let t = &cert.tbs_certificate;
		if t.issuer != issuer.tbs_certificate.subject {
			return Err(Error::IssuerMismatch { index });
		}
		if index > 0 {
			check_issuer(t, index)?;
		}
		if cert.signature_algorithm != t.signature {
			return Err(Error::AlgorithmMismatch { index });
		}
		check_signature(cert, tbs, issuer, index)?;
		// The root is a trust anchor: trusted for its key, which governance lists, not for its
		// certificate, whose validity says nothing more. Google re-issued its RSA root in 2022
		// (to 2042); chains from older phones still carry the 2016 certificate, expired on
		// 2026-05-24, and stay good.
		let anchor = index == certs.len() - 1;
		let validity = &t.validity;
		if !anchor && trust.now < validity.not_before.to_unix_duration().as_secs() {
			return Err(Error::NotYetValid { index });
		}
		if !anchor && trust.now > validity.not_after.to_unix_duration().as_secs() {
			return Err(Error::Expired { index });
		}
		if (trust.is_revoked)(t.serial_number.as_bytes()) {
			return Err(Error::Revoked { index });
		}
	}
	let root_key = certs[certs.len() - 1]
		.0
		.tbs_certificate
		.subject_public_key_info
		.to_der()
		.map_err(|_| Error::MalformedCertificate { index: certs.len() - 1 })?;
	let root = trust.roots.iter().position(|r| *r == root_key).ok_or(Error::UntrustedRoot)?;
	let leaf = &certs[0].0.tbs_certificate;
	let extension = leaf
		.extensions
		.iter()
		.flatten()
		.filter(|e| e.extn_id == KEY_DESCRIPTION)
		.try_fold(None, |found, e| match found {
			None => Ok(Some(e)),
			Some(_) => Err(Error::MalformedKeyDescription("the extension appears twice")),
		})?
		.ok_or(Error::NoKeyDescription)?;
	let key = match signature::p256_compressed(&leaf.subject_public_key_info) {
		Some(key) => AttestedKey::P256(key),
		None => AttestedKey::Other,
	};
	key_description(extension.extn_value.as_bytes(), key, root)
}

/// Checks one certificate's signature under its issuer's key (a root: `issuer` is itself), as
/// [`verify_chain`] does for each link. The runtime's benchmarks time it on Google's roots.
pub fn verify_certificate_signature(certificate: &[u8], issuer: &[u8]) -> Result<(), Error> {
	let malformed = |index| move |_| Error::MalformedCertificate { index };
	let cert: Certificate = der::Decode::from_der(certificate).map_err(malformed(0))?;
	let issuer: Certificate = der::Decode::from_der(issuer).map_err(malformed(1))?;
	let tbs = signed_part(certificate).ok_or(Error::MalformedCertificate { index: 0 })?;
	check_signature(&cert, tbs, &issuer, 0)
}

/// `cert`'s signature over its signed bytes `tbs` under `issuer`'s key; `index` names `cert`
/// in the error.
fn check_signature(
	cert: &Certificate,
	tbs: &[u8],
	issuer: &Certificate,
	index: usize,
) -> Result<(), Error> {
	let sig = cert.signature.as_bytes().ok_or(Error::BadSignature { index })?;
	let key = &issuer.tbs_certificate.subject_public_key_info;
	signature::verify(key, &cert.signature_algorithm.oid, tbs, sig).map_err(|e| match e {
		SigError::Unsupported => Error::UnsupportedAlgorithm { index },
		SigError::Key => Error::MalformedKey { index },
		SigError::Invalid => Error::BadSignature { index },
	})
}

/// Certificate `index` (not the leaf) signs the one below it, so it must be a CA: its basic
/// constraints say `cA`, allow the `index - 1` intermediates below it, and its key usage (when
/// present) includes `keyCertSign`. Without this, anyone holding one attested key could sign a
/// "leaf" of their choosing (any key, level and challenge) and present it above their real chain.
fn check_issuer(t: &TbsCertificate, index: usize) -> Result<(), Error> {
	let malformed = Error::MalformedCertificate { index };
	match t.get::<BasicConstraints>().map_err(|_| malformed)? {
		Some((_, constraints)) if constraints.ca => {
			if constraints.path_len_constraint.is_some_and(|max| index - 1 > max as usize) {
				return Err(Error::PathTooLong { index });
			}
		},
		_ => return Err(Error::NotCa { index }),
	}
	match t.get::<KeyUsage>().map_err(|_| malformed)? {
		Some((_, usage)) if !usage.key_cert_sign() => Err(Error::NotCa { index }),
		_ => Ok(()),
	}
}

/// Ties a verified attestation to a registration: the challenge it carries must be `challenge`
/// (the hash of the bind message) and the attested key the P-256 device key `device_key`.
pub fn check_binding(
	attestation: &Attestation,
	challenge: &[u8],
	device_key: &[u8; 33],
) -> Result<(), Error> {
	if attestation.challenge != challenge {
		return Err(Error::ChallengeMismatch);
	}
	match &attestation.key {
		AttestedKey::P256(key) if key == device_key => Ok(()),
		_ => Err(Error::KeyMismatch),
	}
}

/// The signed part of a certificate exactly as it was signed: the raw first element of the
/// outer SEQUENCE (re-encoding the decoded value could differ from what the issuer signed).
fn signed_part(der: &[u8]) -> Option<&[u8]> {
	let outer = Reader::new(der).take().ok().filter(|t| t.is_universal(tlv::SEQUENCE))?;
	Reader::new(outer.content).take().ok().map(|tbs| tbs.raw)
}

fn malformed(what: &'static str) -> impl Fn(tlv::Malformed) -> Error {
	move |_| Error::MalformedKeyDescription(what)
}

fn expect<'a>(reader: &mut Reader<'a>, number: u32, what: &'static str) -> Result<Tlv<'a>, Error> {
	let t = reader.take().map_err(malformed(what))?;
	if !t.is_universal(number) {
		return Err(Error::MalformedKeyDescription(what));
	}
	Ok(t)
}

fn small(t: &Tlv, what: &'static str) -> Result<u32, Error> {
	let v = tlv::unsigned(t.content).map_err(malformed(what))?;
	u32::try_from(v).map_err(|_| Error::MalformedKeyDescription(what))
}

fn security_level(t: &Tlv) -> Result<SecurityLevel, Error> {
	match small(t, "security level")? {
		0 => Ok(SecurityLevel::Software),
		1 => Ok(SecurityLevel::TrustedEnvironment),
		2 => Ok(SecurityLevel::StrongBox),
		_ => Err(Error::MalformedKeyDescription("security level")),
	}
}

/// The attestation of the leaf's KeyDescription extension `bytes`, for the attested `key` and
/// the trusted root at `root`.
fn key_description(bytes: &[u8], key: AttestedKey, root: usize) -> Result<Attestation, Error> {
	let mut outer = Reader::new(bytes);
	let seq = expect(&mut outer, tlv::SEQUENCE, "KeyDescription")?;
	if !outer.is_empty() {
		return Err(Error::MalformedKeyDescription("bytes after the KeyDescription"));
	}
	let mut r = Reader::new(seq.content);
	let attestation_version =
		small(&expect(&mut r, tlv::INTEGER, "attestationVersion")?, "attestationVersion")?;
	let attestation_security_level =
		security_level(&expect(&mut r, tlv::ENUMERATED, "attestationSecurityLevel")?)?;
	let keymint_version =
		small(&expect(&mut r, tlv::INTEGER, "keyMintVersion")?, "keyMintVersion")?;
	let keymint_security_level =
		security_level(&expect(&mut r, tlv::ENUMERATED, "keyMintSecurityLevel")?)?;
	let challenge = expect(&mut r, tlv::OCTET_STRING, "attestationChallenge")?.content;
	if challenge.len() > MAX_CHALLENGE_LEN {
		return Err(Error::MalformedKeyDescription("attestationChallenge over 128 bytes"));
	}
	expect(&mut r, tlv::OCTET_STRING, "uniqueId")?;
	expect(&mut r, tlv::SEQUENCE, "softwareEnforced")?;
	let hardware = expect(&mut r, tlv::SEQUENCE, "hardwareEnforced")?;
	// Later versions may append fields; they are not read.
	let mut root_of_trust = None;
	let mut list = Reader::new(hardware.content);
	while let Some(entry) = list.next().map_err(malformed("hardwareEnforced"))? {
		if entry.class == tlv::Class::Context && entry.number == 704 {
			if root_of_trust.is_some() {
				return Err(Error::MalformedKeyDescription("rootOfTrust appears twice"));
			}
			root_of_trust = Some(parse_root_of_trust(entry)?);
		}
	}
	Ok(Attestation {
		key,
		attestation_version,
		attestation_security_level,
		keymint_version,
		keymint_security_level,
		challenge: challenge.to_vec(),
		root_of_trust,
		root,
	})
}

fn parse_root_of_trust(entry: Tlv) -> Result<RootOfTrust, Error> {
	let what = "rootOfTrust";
	if !entry.constructed {
		return Err(Error::MalformedKeyDescription(what));
	}
	let mut explicit = Reader::new(entry.content);
	let seq = expect(&mut explicit, tlv::SEQUENCE, what)?;
	if !explicit.is_empty() {
		return Err(Error::MalformedKeyDescription(what));
	}
	let mut r = Reader::new(seq.content);
	let verified_boot_key = expect(&mut r, tlv::OCTET_STRING, "verifiedBootKey")?.content.to_vec();
	let device_locked = match expect(&mut r, tlv::BOOLEAN, "deviceLocked")?.content {
		[0x00] => false,
		[0xff] => true,
		_ => return Err(Error::MalformedKeyDescription("deviceLocked")),
	};
	let verified_boot_state =
		match small(&expect(&mut r, tlv::ENUMERATED, "verifiedBootState")?, "verifiedBootState")? {
			0 => VerifiedBootState::Verified,
			1 => VerifiedBootState::SelfSigned,
			2 => VerifiedBootState::Unverified,
			3 => VerifiedBootState::Failed,
			_ => return Err(Error::MalformedKeyDescription("verifiedBootState")),
		};
	let verified_boot_hash = match r.next().map_err(malformed("verifiedBootHash"))? {
		None => None,
		Some(t) if t.is_universal(tlv::OCTET_STRING) => Some(t.content.to_vec()),
		Some(_) => return Err(Error::MalformedKeyDescription("verifiedBootHash")),
	};
	Ok(RootOfTrust { verified_boot_key, device_locked, verified_boot_state, verified_boot_hash })
}
