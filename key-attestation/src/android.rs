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

use der::asn1::ObjectIdentifier as Oid;

use crate::{
	chain::{self, Anchor},
	signature,
	tlv::{self, Reader, Tlv},
	Error,
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
	/// The certificates' serials, leaf first ([`crate::chain::Verified::serials`]).
	pub serials: Vec<Vec<u8>>,
}

impl Attestation {
	/// The level the key is proven at: the weaker of the two the attestation states.
	pub fn security_level(&self) -> SecurityLevel {
		self.attestation_security_level.min(self.keymint_security_level)
	}
}

pub use crate::chain::{verify_certificate_signature, Trust};

/// Verifies an attestation chain, leaf first, root last (docs: the crate root).
pub fn verify_chain(chain: &[&[u8]], trust: &Trust) -> Result<Attestation, Error> {
	let verified = chain::verify(chain, trust, Anchor::InChain)?;
	let leaf = &verified.certificates[0].tbs_certificate;
	let extension = chain::single_extension(
		leaf,
		KEY_DESCRIPTION,
		Error::MalformedKeyDescription("the extension appears twice"),
	)?
	.ok_or(Error::NoKeyDescription)?;
	let key = match signature::p256_compressed(&leaf.subject_public_key_info) {
		Some(key) => AttestedKey::P256(key),
		None => AttestedKey::Other,
	};
	key_description(extension.extn_value.as_bytes(), key, verified.root, verified.serials())
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
fn key_description(
	bytes: &[u8],
	key: AttestedKey,
	root: usize,
	serials: Vec<Vec<u8>>,
) -> Result<Attestation, Error> {
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
		serials,
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
