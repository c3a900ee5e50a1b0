//! Apple App Attest (<https://developer.apple.com/documentation/devicecheck/validating-apps-that-connect-to-your-server>).
//!
//! An app asks `DCAppAttestService` for a P-256 key in the Secure Enclave, then for an
//! attestation of it over a 32-byte client data hash it chooses (for Edgeproof: SHA-256 of the
//! bind message). Apple returns a CBOR map:
//!
//! ```text
//! { "fmt": "apple-appattest",
//!   "attStmt": { "x5c": [leaf DER, intermediate DER], "receipt": bytes },
//!   "authData": rpIdHash (32) ‖ flags (1) ‖ signCount (4, big-endian) ‖ aaguid (16)
//!               ‖ credentialIdLength (2) ‖ credentialId ‖ credentialPublicKey (COSE) }
//! ```
//!
//! [`verify`] checks what Apple's documentation lists: the chain up to a trusted root (Apple's
//! "App Attestation Root CA" is not in `x5c`; its key is in the trusted list), the leaf's nonce
//! extension (`1.2.840.113635.100.8.2`, `SEQUENCE { [1] EXPLICIT OCTET STRING }`) equal to
//! `SHA-256(authData ‖ clientDataHash)`, the credential id equal to SHA-256 of the leaf's key
//! (uncompressed SEC1), a counter of 0 and an aaguid naming the development or production
//! environment. The app id's hash (`rpIdHash`, SHA-256 of `TEAMID.bundle.id`) is returned for
//! the record; the receipt (for Apple's fraud-risk service, off chain) is not read.
//!
//! Such a key never signs a bare message: `generateAssertion` signs
//! `SHA-256(authenticatorData ‖ SHA-256(message))` ([`verify_assertion`]).

use alloc::vec::Vec;

use der::asn1::ObjectIdentifier as Oid;
use sha2::{Digest, Sha256};

use crate::{
	cbor::{self, Reader},
	chain::{self, Anchor, Trust},
	signature,
	tlv::{self, Reader as DerReader},
	Error,
};

/// The leaf extension holding the nonce.
pub const NONCE: Oid = Oid::new_unwrap("1.2.840.113635.100.8.2");
/// The largest attestation object accepted. Apple's are 5.2–5.4 KiB, the receipt 3.6 KiB of it.
pub const MAX_OBJECT_LEN: usize = 16 * 1024;
/// The aaguid of attestations from Apple's production environment.
pub const AAGUID_PRODUCTION: [u8; 16] = *b"appattest\0\0\0\0\0\0\0";
/// The aaguid of attestations from the development (sandbox) environment.
pub const AAGUID_DEVELOPMENT: [u8; 16] = *b"appattestdevelop";
/// The most certificates `x5c` may hold: Apple's hold two (the leaf and Apple App Attestation
/// CA 1).
pub const MAX_X5C: usize = 3;
/// The authenticator data of an assertion: rpIdHash, flags, counter.
pub const ASSERTION_DATA_LEN: usize = 37;
/// The attestation format name.
const FORMAT: &[u8] = b"apple-appattest";
/// The authenticator data's "attested credential data included" flag.
const ATTESTED_CREDENTIAL: u8 = 0x40;

/// Which App Attest environment attested the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
	/// Apps signed for development (the sandbox).
	Development,
	/// Apps from the App Store, TestFlight or enterprise distribution.
	Production,
}

/// What a verified attestation object proves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppAttestation {
	/// The attested Secure Enclave key, compressed SEC1.
	pub key: [u8; 33],
	/// SHA-256 of the app id (`TEAMID.bundle.id`) the key belongs to.
	pub app_id_hash: [u8; 32],
	pub environment: Environment,
	/// Which of the trusted roots signs the chain's top certificate.
	pub root: usize,
	/// How many trusted roots' keys were tried to find it.
	pub roots_tried: usize,
	/// How many certificates `x5c` holds.
	pub chain_len: usize,
	/// The certificates' serials, leaf first ([`chain::Verified::serials`]).
	pub serials: Vec<Vec<u8>>,
}

/// SHA-256 of an app id, as the authenticator data's `rpIdHash` holds it.
pub fn app_id_hash(app_id: &str) -> [u8; 32] {
	Sha256::digest(app_id.as_bytes()).into()
}

/// Verifies an App Attest attestation object made over `client_data_hash` (docs: the module).
pub fn verify(
	object: &[u8],
	trust: &Trust,
	client_data_hash: &[u8],
) -> Result<AppAttestation, Error> {
	if object.len() > MAX_OBJECT_LEN {
		return Err(Error::MalformedAppAttest("the object is over 16 KiB"));
	}
	let parts = decode(object)?;
	let verified = chain::verify(&parts.x5c, trust, Anchor::Outside)?;
	let leaf = &verified.certificates[0].tbs_certificate;
	let extension = chain::single_extension(
		leaf,
		NONCE,
		Error::MalformedAppAttest("the nonce extension appears twice"),
	)?
	.ok_or(Error::NoAppAttestNonce)?;
	if extension_nonce(extension.extn_value.as_bytes())? != nonce(parts.auth_data, client_data_hash)
	{
		return Err(Error::ChallengeMismatch);
	}
	let key = signature::p256_compressed(&leaf.subject_public_key_info)
		.ok_or(Error::MalformedAppAttest("the attested key is not P-256"))?;
	let auth = authenticator_data(parts.auth_data)?;
	if auth.credential_id != credential_id(&key)? {
		return Err(Error::MalformedAppAttest("the credential id is not the key's"));
	}
	Ok(AppAttestation {
		key,
		app_id_hash: auth.rp_id_hash,
		environment: auth.environment,
		root: verified.root,
		roots_tried: verified.roots_tried,
		chain_len: verified.certificates.len(),
		serials: verified.serials(),
	})
}

/// Ties a verified attestation to a registration: the attested key must be `device_key`. (The
/// challenge is checked by [`verify`]: it is inside the nonce.)
pub fn check_key(attestation: &AppAttestation, device_key: &[u8; 33]) -> Result<(), Error> {
	if attestation.key == *device_key {
		Ok(())
	} else {
		Err(Error::KeyMismatch)
	}
}

/// Does `signature` (`r ‖ s`, low-S, as [`signature::verify_p256`] takes it) sign `message` the
/// way an App Attest key does: ECDSA P-256 with SHA-256 over
/// `SHA-256(authenticator_data ‖ SHA-256(message))`? The app passes `SHA-256(message)` to
/// `generateAssertion` as its client data hash. The counter and app id in the authenticator
/// data are not checked here: only the attested key can make the signature, and every message
/// Edgeproof signs carries its own nonce.
pub fn verify_assertion(
	key: &[u8; 33],
	message: &[u8],
	authenticator_data: &[u8; ASSERTION_DATA_LEN],
	signature: &[u8; 64],
) -> bool {
	signature::verify_p256(key, &assertion_nonce(message, authenticator_data), signature)
}

/// The authenticator data of an assertion by the app `app_id_hash` whose key has signed
/// `counter` times: `rpIdHash ‖ flags (0) ‖ counter` (big-endian).
pub fn assertion_data(app_id_hash: &[u8; 32], counter: u32) -> [u8; ASSERTION_DATA_LEN] {
	let mut data = [0u8; ASSERTION_DATA_LEN];
	data[..32].copy_from_slice(app_id_hash);
	data[33..].copy_from_slice(&counter.to_be_bytes());
	data
}

/// Signs `message` as [`verify_assertion`] verifies it, with a software key standing in for a
/// Secure Enclave key (development and tests; a phone's app calls `generateAssertion`).
pub fn sign_assertion(
	key: &p256::ecdsa::SigningKey,
	message: &[u8],
	authenticator_data: &[u8; ASSERTION_DATA_LEN],
) -> [u8; 64] {
	signature::sign_p256(key, &assertion_nonce(message, authenticator_data))
}

/// What an App Attest key signs for `message`: `SHA-256(authenticator_data ‖ SHA-256(message))`.
pub fn assertion_nonce(message: &[u8], authenticator_data: &[u8; ASSERTION_DATA_LEN]) -> [u8; 32] {
	nonce(authenticator_data, &Sha256::digest(message))
}

/// App Attest's nonce: `SHA-256(authenticator_data ‖ client_data_hash)`, what an attestation's
/// leaf holds and what an assertion signs.
pub fn nonce(authenticator_data: &[u8], client_data_hash: &[u8]) -> [u8; 32] {
	Sha256::new().chain_update(authenticator_data).chain_update(client_data_hash).finalize().into()
}

/// The parts of an attestation object that are checked.
struct Parts<'a> {
	x5c: Vec<&'a [u8]>,
	auth_data: &'a [u8],
}

fn malformed(what: &'static str) -> impl Fn(cbor::Malformed) -> Error {
	move |_| Error::MalformedAppAttest(what)
}

/// Decodes the CBOR map: exactly the keys `fmt`, `attStmt` and `authData`, once each, in any
/// order, and nothing after it.
fn decode(object: &[u8]) -> Result<Parts<'_>, Error> {
	let mut r = Reader::new(object);
	let entries = r.map().map_err(malformed("not a CBOR map"))?;
	if entries != 3 {
		return Err(Error::MalformedAppAttest("the map does not have three entries"));
	}
	let (mut format, mut x5c, mut auth_data) = (None, None, None);
	for _ in 0..entries {
		let key = r.text().map_err(malformed("a key is not a text string"))?;
		let first = match key {
			b"fmt" => format.replace(r.text().map_err(malformed("fmt"))?).is_none(),
			b"attStmt" => x5c.replace(statement(&mut r)?).is_none(),
			b"authData" => auth_data.replace(r.bytes().map_err(malformed("authData"))?).is_none(),
			_ => return Err(Error::MalformedAppAttest("an unknown key")),
		};
		if !first {
			return Err(Error::MalformedAppAttest("a key appears twice"));
		}
	}
	if !r.is_empty() {
		return Err(Error::MalformedAppAttest("bytes after the map"));
	}
	if format != Some(FORMAT) {
		return Err(Error::MalformedAppAttest("fmt is not apple-appattest"));
	}
	match (x5c, auth_data) {
		(Some(x5c), Some(auth_data)) => Ok(Parts { x5c, auth_data }),
		_ => Err(Error::MalformedAppAttest("a key is missing")),
	}
}

/// The attestation statement: `x5c` (1 to [`MAX_X5C`] byte strings) and, optionally,
/// `receipt` (skipped).
fn statement<'a>(r: &mut Reader<'a>) -> Result<Vec<&'a [u8]>, Error> {
	let entries = r.map().map_err(malformed("attStmt"))?;
	if entries > 2 {
		return Err(Error::MalformedAppAttest("attStmt has more than two entries"));
	}
	let (mut x5c, mut receipt) = (None, None);
	for _ in 0..entries {
		match r.text().map_err(malformed("an attStmt key"))? {
			b"x5c" if x5c.is_none() => {
				let len = r.array().map_err(malformed("x5c"))?;
				if len == 0 || len > MAX_X5C as u64 {
					return Err(Error::MalformedAppAttest("x5c holds no or too many certificates"));
				}
				let certs = (0..len)
					.map(|_| r.bytes().map_err(malformed("an x5c certificate")))
					.collect::<Result<Vec<_>, _>>()?;
				x5c = Some(certs);
			},
			b"receipt" if receipt.is_none() => {
				receipt = Some(r.bytes().map_err(malformed("receipt"))?);
			},
			_ => return Err(Error::MalformedAppAttest("an unknown or repeated attStmt key")),
		}
	}
	x5c.ok_or(Error::MalformedAppAttest("attStmt has no x5c"))
}

/// The nonce in the leaf's extension value: `SEQUENCE { [1] EXPLICIT OCTET STRING (32) }`.
fn extension_nonce(value: &[u8]) -> Result<[u8; 32], Error> {
	let bad = |_| Error::MalformedAppAttest("the nonce extension");
	let mut outer = DerReader::new(value);
	let seq = outer.take().map_err(bad)?;
	let mut inner = DerReader::new(seq.content);
	let explicit = inner.take().map_err(bad)?;
	let mut octets = DerReader::new(explicit.content);
	let nonce = octets.take().map_err(bad)?;
	let well_formed = seq.is_universal(tlv::SEQUENCE)
		&& outer.is_empty()
		&& explicit.class == tlv::Class::Context
		&& explicit.constructed
		&& explicit.number == 1
		&& inner.is_empty()
		&& nonce.is_universal(tlv::OCTET_STRING)
		&& octets.is_empty();
	match nonce.content.try_into() {
		Ok(nonce) if well_formed => Ok(nonce),
		_ => Err(Error::MalformedAppAttest("the nonce extension")),
	}
}

struct AuthenticatorData<'a> {
	rp_id_hash: [u8; 32],
	environment: Environment,
	credential_id: &'a [u8],
}

/// Reads the authenticator data's fixed fields and the credential id; the COSE key after it
/// restates the leaf's key and is not read.
fn authenticator_data(data: &[u8]) -> Result<AuthenticatorData<'_>, Error> {
	let bad = Error::MalformedAppAttest("authData is too short");
	let (rp_id_hash, rest) = data.split_first_chunk::<32>().ok_or(bad)?;
	let (&[flags], rest) = rest.split_first_chunk::<1>().ok_or(bad)?;
	let (counter, rest) = rest.split_first_chunk::<4>().ok_or(bad)?;
	let (aaguid, rest) = rest.split_first_chunk::<16>().ok_or(bad)?;
	let (id_len, rest) = rest.split_first_chunk::<2>().ok_or(bad)?;
	if flags & ATTESTED_CREDENTIAL == 0 {
		return Err(Error::MalformedAppAttest("authData has no attested credential"));
	}
	if *counter != [0; 4] {
		return Err(Error::MalformedAppAttest("the counter of a new key is not 0"));
	}
	let environment = match *aaguid {
		AAGUID_PRODUCTION => Environment::Production,
		AAGUID_DEVELOPMENT => Environment::Development,
		_ => return Err(Error::MalformedAppAttest("the aaguid is not App Attest's")),
	};
	let credential_id = rest.get(..usize::from(u16::from_be_bytes(*id_len))).ok_or(bad)?;
	Ok(AuthenticatorData { rp_id_hash: *rp_id_hash, environment, credential_id })
}

/// The key id App Attest gives a key: SHA-256 of its uncompressed SEC1 point.
pub fn credential_id(key: &[u8; 33]) -> Result<[u8; 32], Error> {
	let point = signature::p256_uncompressed(key)
		.ok_or(Error::MalformedAppAttest("the attested key is not P-256"))?;
	Ok(Sha256::digest(point).into())
}
