//! A test certificate authority that issues Android-style attestation chains and App Attest
//! objects for any P-256 key and any challenge (feature `test-ca`; for tests, benchmarks and
//! development chains only).
//!
//! Real chains carry challenges nobody can choose afterwards, so the register → claim → dispute
//! path of a hardware-style device is exercised with chains from this CA instead: a root and an
//! intermediate (ECDSA P-256, both `cA`), and a leaf with a KeyDescription extension whose fields
//! the caller sets. Its chains verify with [`crate::android::verify_chain`] once the CA's root
//! ([`TestCa::root_spki`]) is trusted, and nowhere else: its root is not Google's.
//!
//! Keys are derived from seeds and signatures are deterministic (RFC 6979), so the same inputs
//! give the same chain byte for byte. Works without `std` (the runtime's benchmarks use it).

use alloc::{vec, vec::Vec};

use der::{
	asn1::{BitString, OctetString, SetOfVec, UtcTime, Utf8StringRef},
	Any, Encode,
};
pub use p256::ecdsa::SigningKey;
use p256::ecdsa::{signature::Signer, Signature};
use x509_cert::{
	attr::AttributeTypeAndValue,
	certificate::{TbsCertificate, Version},
	ext::{
		pkix::{BasicConstraints, KeyUsage, KeyUsages},
		AsExtension, Extension,
	},
	name::{Name, RdnSequence, RelativeDistinguishedName},
	serial_number::SerialNumber,
	spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned},
	time::{Time, Validity},
	Certificate,
};

use crate::{
	android::{SecurityLevel, VerifiedBootState, KEY_DESCRIPTION},
	apple::Environment,
	cbor::write as cbor,
	signature::{EC_PUBLIC_KEY, P256},
};

const ECDSA_SHA256: der::asn1::ObjectIdentifier =
	der::asn1::ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const COMMON_NAME: der::asn1::ObjectIdentifier = der::asn1::ObjectIdentifier::new_unwrap("2.5.4.3");

/// 1970-01-01T00:00:00Z and 2049-12-31T23:59:59Z: the CA's certificates' validity, as wide as
/// UTCTime goes (a benchmark's block has timestamp 0).
pub const CA_NOT_BEFORE: u64 = 0;
pub const CA_NOT_AFTER: u64 = 2_524_607_999;

/// What the leaf's KeyDescription says, and its validity.
#[derive(Clone, Debug)]
pub struct LeafSpec {
	/// The attested key, compressed SEC1.
	pub key: [u8; 33],
	/// The attestation challenge (at most 128 bytes for a chain that verifies).
	pub challenge: Vec<u8>,
	/// Both security levels of the KeyDescription.
	pub security_level: SecurityLevel,
	/// The hardware root of trust's verified-boot state and lock.
	pub boot_state: VerifiedBootState,
	pub locked: bool,
	/// Validity, seconds since the Unix epoch.
	pub not_before: u64,
	pub not_after: u64,
	/// The leaf's serial number (big-endian, positive).
	pub serial: Vec<u8>,
}

impl LeafSpec {
	/// A TEE key on a locked, verified phone, valid as long as the CA.
	pub fn tee(key: [u8; 33], challenge: &[u8]) -> Self {
		Self {
			key,
			challenge: challenge.to_vec(),
			security_level: SecurityLevel::TrustedEnvironment,
			boot_state: VerifiedBootState::Verified,
			locked: true,
			not_before: CA_NOT_BEFORE,
			not_after: CA_NOT_AFTER,
			serial: vec![0x10],
		}
	}
}

/// The test CA: a root and an intermediate key.
pub struct TestCa {
	root: SigningKey,
	intermediate: SigningKey,
}

/// Why the CA could not issue (only for out-of-range inputs: a seed that is not a P-256 scalar,
/// an invalid device key, a time after 2049).
#[derive(Debug, PartialEq, Eq)]
pub struct IssueError(pub &'static str);

impl TestCa {
	/// The CA whose keys are derived from `seed` (each key is a P-256 scalar made of `seed` with
	/// its last byte replaced; any seed below the curve order works).
	pub fn new(seed: [u8; 32]) -> Result<Self, IssueError> {
		let key = |last: u8| {
			let mut bytes = seed;
			bytes[31] = last;
			SigningKey::from_bytes(&bytes.into()).map_err(|_| IssueError("seed"))
		};
		Ok(Self { root: key(1)?, intermediate: key(2)? })
	}

	/// The root's SubjectPublicKeyInfo, DER: what a registry must trust to accept this CA.
	pub fn root_spki(&self) -> Vec<u8> {
		spki(&point(&self.root)).to_der().unwrap_or_default()
	}

	/// The chain for `leaf`, DER, leaf first: leaf, intermediate, root.
	pub fn chain(&self, leaf: &LeafSpec) -> Result<Vec<Vec<u8>>, IssueError> {
		let (intermediate_name, intermediate) = self.intermediate()?;
		let leaf_cert = issue_leaf(&self.intermediate, intermediate_name, leaf)?;
		Ok(vec![leaf_cert, intermediate, self.root()?])
	}

	/// An App Attest attestation object for `spec`, as Apple's: `x5c` holds the leaf and the
	/// intermediate, not the root.
	pub fn app_attest(&self, spec: &AppAttestSpec) -> Result<Vec<u8>, IssueError> {
		let (intermediate_name, intermediate) = self.intermediate()?;
		let auth_data = app_attest_auth_data(spec)?;
		let nonce = crate::apple::nonce(&auth_data, &spec.client_data_hash);
		// SEQUENCE { [1] EXPLICIT OCTET STRING nonce }
		let value = tlv(&[0x30], &tlv(&[0xa1], &tlv(&[0x04], &nonce)));
		let extension = Extension {
			extn_id: crate::apple::NONCE,
			critical: false,
			extn_value: OctetString::new(value).map_err(|_| IssueError("extension"))?,
		};
		let leaf = issue(
			&self.intermediate,
			Unsigned {
				serial: &spec.serial,
				issuer: intermediate_name,
				subject: name("Edgeproof Test App Attest Key"),
				validity: validity(spec.not_before, spec.not_after)?,
				key: spki(&uncompressed(&spec.key)?),
				extensions: vec![extension],
			},
		)?;
		Ok(app_attest_object(&[leaf, intermediate], &auth_data))
	}

	fn root(&self) -> Result<Vec<u8>, IssueError> {
		let root_name = name(ROOT_NAME);
		issue(
			&self.root,
			Unsigned {
				serial: &[1],
				issuer: root_name.clone(),
				subject: root_name.clone(),
				validity: validity(CA_NOT_BEFORE, CA_NOT_AFTER)?,
				key: spki(&point(&self.root)),
				extensions: ca_extensions(&root_name)?,
			},
		)
	}

	/// The intermediate's name and certificate.
	fn intermediate(&self) -> Result<(Name, Vec<u8>), IssueError> {
		let intermediate_name = name("Edgeproof Test Attestation Intermediate");
		let cert = issue(
			&self.root,
			Unsigned {
				serial: &[2],
				issuer: name(ROOT_NAME),
				subject: intermediate_name.clone(),
				validity: validity(CA_NOT_BEFORE, CA_NOT_AFTER)?,
				key: spki(&point(&self.intermediate)),
				extensions: ca_extensions(&intermediate_name)?,
			},
		)?;
		Ok((intermediate_name, cert))
	}
}

const ROOT_NAME: &str = "Edgeproof Test Attestation Root";

/// A CA's extensions: `cA` without a path length limit, key usage keyCertSign and cRLSign.
fn ca_extensions(subject: &Name) -> Result<Vec<Extension>, IssueError> {
	let constraints = BasicConstraints { ca: true, path_len_constraint: None };
	let usage = KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign);
	Ok(vec![
		constraints.to_extension(subject, &[]).map_err(|_| IssueError("extension"))?,
		usage.to_extension(subject, &[]).map_err(|_| IssueError("extension"))?,
	])
}

/// What a test App Attest object says.
#[derive(Clone, Debug)]
pub struct AppAttestSpec {
	/// The attested key, compressed SEC1.
	pub key: [u8; 33],
	/// The client data hash the app passed (for a registration: SHA-256 of the bind message).
	pub client_data_hash: [u8; 32],
	/// The app id, `TEAMID.bundle.id`.
	pub app_id: &'static str,
	pub environment: Environment,
	/// The authenticator data's counter (0 for a genuine attestation).
	pub counter: u32,
	/// The leaf's validity, seconds since the Unix epoch, and serial.
	pub not_before: u64,
	pub not_after: u64,
	pub serial: Vec<u8>,
}

impl AppAttestSpec {
	/// A production attestation of `key` over `client_data_hash`, valid as long as the CA.
	pub fn production(key: [u8; 33], client_data_hash: [u8; 32]) -> Self {
		Self {
			key,
			client_data_hash,
			app_id: TEST_APP_ID,
			environment: Environment::Production,
			counter: 0,
			not_before: CA_NOT_BEFORE,
			not_after: CA_NOT_AFTER,
			serial: vec![0x20],
		}
	}
}

/// The app id of the test CA's App Attest objects.
pub const TEST_APP_ID: &str = "EDGEPROOF1.network.edgeproof.device";

/// The authenticator data of an attestation: the app id's hash, flags (attested credential
/// data), the counter, the environment's aaguid, the key id and the key as COSE.
fn app_attest_auth_data(spec: &AppAttestSpec) -> Result<Vec<u8>, IssueError> {
	let point = uncompressed(&spec.key)?;
	let id = crate::apple::credential_id(&spec.key).map_err(|_| IssueError("device key"))?;
	let aaguid = match spec.environment {
		Environment::Production => crate::apple::AAGUID_PRODUCTION,
		Environment::Development => crate::apple::AAGUID_DEVELOPMENT,
	};
	let mut data = crate::apple::app_id_hash(spec.app_id).to_vec();
	data.push(0x40);
	data.extend_from_slice(&spec.counter.to_be_bytes());
	data.extend_from_slice(&aaguid);
	data.extend_from_slice(&32u16.to_be_bytes());
	data.extend_from_slice(&id);
	// COSE_Key { 1 (kty): 2 (EC2), 3 (alg): -7 (ES256), -1 (crv): 1 (P-256), -2: x, -3: y }
	data.extend_from_slice(&[0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21]);
	cbor::bytes(&mut data, &point[1..33]);
	data.push(0x22);
	cbor::bytes(&mut data, &point[33..65]);
	Ok(data)
}

/// An attestation object holding `x5c` and `auth_data`, with an empty receipt.
pub fn app_attest_object(x5c: &[Vec<u8>], auth_data: &[u8]) -> Vec<u8> {
	let mut out = Vec::new();
	cbor::map(&mut out, 3);
	cbor::text(&mut out, "fmt");
	cbor::text(&mut out, "apple-appattest");
	cbor::text(&mut out, "attStmt");
	cbor::map(&mut out, 2);
	cbor::text(&mut out, "x5c");
	cbor::array(&mut out, x5c.len());
	for cert in x5c {
		cbor::bytes(&mut out, cert);
	}
	cbor::text(&mut out, "receipt");
	cbor::bytes(&mut out, &[]);
	cbor::text(&mut out, "authData");
	cbor::bytes(&mut out, auth_data);
	out
}

/// Signs `message` as an App Attest key's `generateAssertion` does, for the test CA's app id
/// and `counter`: the authenticator data and the signature `r ‖ s`, low-S.
pub fn app_attest_assertion(
	key: &SigningKey,
	message: &[u8],
	counter: u32,
) -> ([u8; crate::apple::ASSERTION_DATA_LEN], [u8; 64]) {
	let data = crate::apple::assertion_data(&crate::apple::app_id_hash(TEST_APP_ID), counter);
	(data, crate::apple::sign_assertion(key, message, &data))
}

/// The uncompressed SEC1 point of a compressed P-256 key.
fn uncompressed(key: &[u8; 33]) -> Result<Vec<u8>, IssueError> {
	crate::signature::p256_uncompressed(key).map(Vec::from).ok_or(IssueError("device key"))
}

/// The leaf certificate `leaf` describes, named "Android Keystore Key" as Android names
/// attested keys, issued by `issuer` (named `issuer_name`). [`TestCa::chain`] issues it from
/// its intermediate; tests issue one from any key to build chains that must be refused.
pub fn issue_leaf(
	signer: &SigningKey,
	issuer_name: Name,
	leaf: &LeafSpec,
) -> Result<Vec<u8>, IssueError> {
	let device_key = uncompressed(&leaf.key)?;
	let description = Extension {
		extn_id: KEY_DESCRIPTION,
		critical: false,
		extn_value: OctetString::new(key_description(leaf)).map_err(|_| IssueError("extension"))?,
	};
	issue(
		signer,
		Unsigned {
			serial: &leaf.serial,
			issuer: issuer_name,
			subject: name("Android Keystore Key"),
			validity: validity(leaf.not_before, leaf.not_after)?,
			key: spki(&device_key),
			extensions: vec![description],
		},
	)
}

/// A software P-256 key from `seed` (a stand-in for a hardware one) and its compressed public
/// key. `seed` must be a P-256 scalar (nonzero, below the curve order).
pub fn software_key(seed: [u8; 32]) -> Result<(SigningKey, [u8; 33]), IssueError> {
	let key = SigningKey::from_bytes(&seed.into()).map_err(|_| IssueError("seed"))?;
	let public = crate::signature::p256_public(&key);
	Ok((key, public))
}

/// Issues a certificate for any key, signed by `signer`, with exactly the given fields: tests
/// use it to build chains the verifier must refuse.
pub fn issue(signer: &SigningKey, cert: Unsigned) -> Result<Vec<u8>, IssueError> {
	let algorithm = AlgorithmIdentifierOwned { oid: ECDSA_SHA256, parameters: None };
	let tbs = TbsCertificate {
		version: Version::V3,
		serial_number: SerialNumber::new(cert.serial).map_err(|_| IssueError("serial"))?,
		signature: algorithm.clone(),
		issuer: cert.issuer,
		validity: cert.validity,
		subject: cert.subject,
		subject_public_key_info: cert.key,
		issuer_unique_id: None,
		subject_unique_id: None,
		extensions: Some(cert.extensions),
	};
	let signed = tbs.to_der().map_err(|_| IssueError("encoding"))?;
	let signature: Signature = signer.sign(&signed);
	let signature =
		BitString::from_bytes(signature.to_der().as_bytes()).map_err(|_| IssueError("encoding"))?;
	Certificate { tbs_certificate: tbs, signature_algorithm: algorithm, signature }
		.to_der()
		.map_err(|_| IssueError("encoding"))
}

/// A certificate's fields before signing.
pub struct Unsigned<'a> {
	pub serial: &'a [u8],
	pub issuer: Name,
	pub subject: Name,
	pub validity: Validity,
	pub key: SubjectPublicKeyInfoOwned,
	pub extensions: Vec<Extension>,
}

/// `CN=common_name`.
pub fn name(common_name: &str) -> Name {
	let value = Any::encode_from(&Utf8StringRef::new(common_name).expect("a UTF-8 str"))
		.expect("a short name encodes");
	let attribute = AttributeTypeAndValue { oid: COMMON_NAME, value };
	let rdn = SetOfVec::try_from(vec![attribute]).expect("one attribute is a set");
	RdnSequence(vec![RelativeDistinguishedName(rdn)])
}

/// The validity `[not_before, not_after]` (seconds since the epoch, before 2050).
pub fn validity(not_before: u64, not_after: u64) -> Result<Validity, IssueError> {
	let time = |secs| {
		UtcTime::from_unix_duration(core::time::Duration::from_secs(secs))
			.map(Time::UtcTime)
			.map_err(|_| IssueError("time"))
	};
	Ok(Validity { not_before: time(not_before)?, not_after: time(not_after)? })
}

/// The uncompressed SEC1 point of a signing key.
pub fn point(key: &SigningKey) -> Vec<u8> {
	key.verifying_key().to_encoded_point(false).as_bytes().to_vec()
}

/// The SubjectPublicKeyInfo of an uncompressed P-256 point.
pub fn spki(point: &[u8]) -> SubjectPublicKeyInfoOwned {
	SubjectPublicKeyInfoOwned {
		algorithm: AlgorithmIdentifierOwned {
			oid: EC_PUBLIC_KEY,
			parameters: Some(Any::encode_from(&P256).expect("an OID encodes")),
		},
		subject_public_key: BitString::from_bytes(point).expect("a point is a whole-byte string"),
	}
}

/// The KeyDescription DER (android.rs's grammar): attestation and KeyMint version 300, both
/// security levels `leaf.security_level`, the challenge, an empty uniqueId and software list,
/// and a hardware list holding only the root of trust (a fixed boot key and boot hash).
pub fn key_description(leaf: &LeafSpec) -> Vec<u8> {
	let level = [leaf.security_level as u8];
	let boot_state = [match leaf.boot_state {
		VerifiedBootState::Verified => 0,
		VerifiedBootState::SelfSigned => 1,
		VerifiedBootState::Unverified => 2,
		VerifiedBootState::Failed => 3,
	}];
	let root_of_trust = tlv(
		&[0x30],
		&[
			tlv(&[0x04], &[0xb0; 32]),
			tlv(&[0x01], &[if leaf.locked { 0xff } else { 0x00 }]),
			tlv(&[0x0a], &boot_state),
			tlv(&[0x04], &[0xb1; 32]),
		]
		.concat(),
	);
	// [704] EXPLICIT: context class, constructed, high tag number 704 = 5·128 + 64.
	let hardware = tlv(&[0x30], &tlv(&[0xbf, 0x85, 0x40], &root_of_trust));
	tlv(
		&[0x30],
		&[
			tlv(&[0x02], &[0x01, 0x2c]),
			tlv(&[0x0a], &level),
			tlv(&[0x02], &[0x01, 0x2c]),
			tlv(&[0x0a], &level),
			tlv(&[0x04], &leaf.challenge),
			tlv(&[0x04], &[]),
			tlv(&[0x30], &[]),
			hardware,
		]
		.concat(),
	)
}

/// A DER TLV: `tag`, the definite length of `content`, `content`.
fn tlv(tag: &[u8], content: &[u8]) -> Vec<u8> {
	let len = content.len();
	let mut out = tag.to_vec();
	if len < 0x80 {
		out.push(len as u8);
	} else {
		let bytes = len.to_be_bytes();
		let skip = bytes.iter().take_while(|b| **b == 0).count();
		out.push(0x80 | (bytes.len() - skip) as u8);
		out.extend_from_slice(&bytes[skip..]);
	}
	out.extend_from_slice(content);
	out
}
