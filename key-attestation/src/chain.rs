//! X.509 certificate paths, as both attestation formats use them: every link's signature,
//! issuer name, CA constraints, validity and revocation, up to a trusted root key.
//!
//! An Android chain ends in its root's self-signed certificate ([`Anchor::InChain`]); an App
//! Attest chain stops below the root, whose certificate the verifier is expected to hold
//! ([`Anchor::Outside`]). Either way the root is trusted for its key alone, which the caller
//! lists in [`Trust::roots`].

use alloc::vec::Vec;

use der::Encode;
use x509_cert::{
	certificate::TbsCertificate,
	ext::pkix::{BasicConstraints, KeyUsage},
	spki::SubjectPublicKeyInfoOwned,
	Certificate,
};

use crate::{
	signature::{self, SigError},
	tlv::{self, Reader},
	Error, MAX_CERT_LEN, MAX_CHAIN_LEN,
};

/// What a chain is checked against.
pub struct Trust<'a> {
	/// The trusted roots' SubjectPublicKeyInfo, DER.
	pub roots: &'a [&'a [u8]],
	/// Is this serial number revoked? Serials as [`serial_magnitude`] gives them: big-endian,
	/// without the DER INTEGER's leading zero (sign) bytes, as Google's revocation list writes
	/// them in hex. On chain a storage lookup, so the list may be long.
	pub is_revoked: &'a dyn Fn(&[u8]) -> bool,
	/// The verification time, seconds since the Unix epoch.
	pub now: u64,
}

/// Where a chain's trust anchor is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
	/// The last certificate is the root's, self-signed, and its key must be a trusted root.
	InChain,
	/// The last certificate is signed by a trusted root's key, which is not in the chain.
	Outside,
}

/// A verified chain: its certificates, leaf first, and which trusted root it ends in.
pub struct Verified {
	pub certificates: Vec<Certificate>,
	/// The index in [`Trust::roots`].
	pub root: usize,
	/// How many signatures were checked under trusted roots' keys to find it (0 for
	/// [`Anchor::InChain`], whose root is found by comparing keys): weight is charged for them.
	pub roots_tried: usize,
}

impl Verified {
	/// Each certificate's serial as [`Trust::is_revoked`] takes it ([`serial_magnitude`]), leaf
	/// first: what a registry keeps to find out later that a certificate was revoked.
	pub fn serials(&self) -> Vec<Vec<u8>> {
		self.certificates
			.iter()
			.map(|cert| serial_magnitude(cert.tbs_certificate.serial_number.as_bytes()).to_vec())
			.collect()
	}
}

/// Verifies `chain` (DER certificates, leaf first) against `trust`, anchored as `anchor` says.
pub fn verify(chain: &[&[u8]], trust: &Trust, anchor: Anchor) -> Result<Verified, Error> {
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
	let top = certs.len() - 1;
	let mut found = None;
	for (index, (cert, tbs)) in certs.iter().enumerate() {
		let t = &cert.tbs_certificate;
		let parent = certs.get(index + 1).map(|(issuer, _)| &issuer.tbs_certificate);
		// The root of an in-chain anchor signs itself; above an outside anchor's top is nothing.
		let issuer = parent.or((anchor == Anchor::InChain).then_some(t));
		if issuer.is_some_and(|issuer| t.issuer != issuer.subject) {
			return Err(Error::IssuerMismatch { index });
		}
		if index > 0 {
			check_issuer(t, index)?;
		}
		if cert.signature_algorithm != t.signature {
			return Err(Error::AlgorithmMismatch { index });
		}
		match issuer {
			Some(issuer) => check_signature(cert, tbs, &issuer.subject_public_key_info, index)?,
			None => found = Some(signing_root(cert, tbs, trust, index)?),
		}
		// A root in the chain is a trust anchor: trusted for its key, which governance lists,
		// not for its certificate, whose validity says nothing more. Google re-issued its RSA
		// root in 2022 (to 2042); chains from older phones still carry the 2016 certificate,
		// expired on 2026-05-24, and stay good.
		let is_anchor = index == top && anchor == Anchor::InChain;
		let validity = &t.validity;
		if !is_anchor && trust.now < validity.not_before.to_unix_duration().as_secs() {
			return Err(Error::NotYetValid { index });
		}
		if !is_anchor && trust.now > validity.not_after.to_unix_duration().as_secs() {
			return Err(Error::Expired { index });
		}
		if (trust.is_revoked)(serial_magnitude(t.serial_number.as_bytes())) {
			return Err(Error::Revoked { index });
		}
	}
	let (root, roots_tried) = match found {
		Some(found) => found,
		None => {
			let root_key = certs[top]
				.0
				.tbs_certificate
				.subject_public_key_info
				.to_der()
				.map_err(|_| Error::MalformedCertificate { index: top })?;
			(trust.roots.iter().position(|r| *r == root_key).ok_or(Error::UntrustedRoot)?, 0)
		},
	};
	Ok(Verified {
		certificates: certs.into_iter().map(|(cert, _)| cert).collect(),
		root,
		roots_tried,
	})
}

/// A serial number's magnitude: `serial` (big-endian, e.g. a DER INTEGER's content) without its
/// leading zero bytes, one byte kept for zero. A serial whose top bit is set is encoded with a
/// zero sign byte in DER (`00 c3 57 …`) and listed without it by Google (`c357…`); both name the
/// same certificate.
pub fn serial_magnitude(serial: &[u8]) -> &[u8] {
	let zeros = serial.iter().take_while(|b| **b == 0).count();
	&serial[zeros.min(serial.len().saturating_sub(1))..]
}

/// The extension `oid` of `certificate`, if it has one; `twice` if it has it more than once.
pub fn single_extension(
	certificate: &TbsCertificate,
	oid: der::asn1::ObjectIdentifier,
	twice: Error,
) -> Result<Option<&x509_cert::ext::Extension>, Error> {
	certificate.extensions.iter().flatten().filter(|e| e.extn_id == oid).try_fold(
		None,
		|found, e| match found {
			None => Ok(Some(e)),
			Some(_) => Err(twice),
		},
	)
}

/// The trusted root whose key signs `cert` (the top of an [`Anchor::Outside`] chain), and how
/// many roots' keys were tried. Roots of another key type are skipped without a check.
fn signing_root(
	cert: &Certificate,
	tbs: &[u8],
	trust: &Trust,
	index: usize,
) -> Result<(usize, usize), Error> {
	let mut tried = 0;
	for (position, root) in trust.roots.iter().enumerate() {
		let Ok(key) = <SubjectPublicKeyInfoOwned as der::Decode>::from_der(root) else { continue };
		match check_signature(cert, tbs, &key, index) {
			Ok(()) => return Ok((position, tried + 1)),
			Err(Error::BadSignature { .. }) => tried += 1,
			Err(_) => {},
		}
	}
	Err(Error::UntrustedRoot)
}

/// Checks one certificate's signature under its issuer's key (a root: `issuer` is itself), as
/// [`verify`] does for each link. The runtime's benchmarks time it on Google's roots.
pub fn verify_certificate_signature(certificate: &[u8], issuer: &[u8]) -> Result<(), Error> {
	let malformed = |index| move |_| Error::MalformedCertificate { index };
	let cert: Certificate = der::Decode::from_der(certificate).map_err(malformed(0))?;
	let issuer: Certificate = der::Decode::from_der(issuer).map_err(malformed(1))?;
	let tbs = signed_part(certificate).ok_or(Error::MalformedCertificate { index: 0 })?;
	check_signature(&cert, tbs, &issuer.tbs_certificate.subject_public_key_info, 0)
}

/// `cert`'s signature over its signed bytes `tbs` under the issuer's `key`; `index` names
/// `cert` in the error.
fn check_signature(
	cert: &Certificate,
	tbs: &[u8],
	key: &SubjectPublicKeyInfoOwned,
	index: usize,
) -> Result<(), Error> {
	let sig = cert.signature.as_bytes().ok_or(Error::BadSignature { index })?;
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

/// The signed part of a certificate exactly as it was signed: the raw first element of the
/// outer SEQUENCE (re-encoding the decoded value could differ from what the issuer signed).
fn signed_part(der: &[u8]) -> Option<&[u8]> {
	let outer = Reader::new(der).take().ok().filter(|t| t.is_universal(tlv::SEQUENCE))?;
	Reader::new(outer.content).take().ok().map(|tbs| tbs.raw)
}
