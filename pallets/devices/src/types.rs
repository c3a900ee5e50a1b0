//! Types stored by the device registry, and the exact bytes device keys sign.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	traits::{ConstU32, Get},
	BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use scale_info::TypeInfo;
use sp_core::{ed25519, sr25519};

pub use edgeproof_primitives::KeyAssurance;

/// Domain tag of the bind proof: the first 14 bytes a device key signs to bind itself to an
/// operator account.
pub const BIND_DOMAIN: [u8; 14] = *b"edgeproof/bind";

/// Domain tag of a key rotation: the first 16 bytes both keys sign.
pub const ROTATE_DOMAIN: [u8; 16] = *b"edgeproof/rotate";

/// A compressed SEC1 P-256 public key (`0x02`/`0x03` ‖ x).
pub type P256Public = [u8; 33];

/// A P-256 signature: `r ‖ s`, 32 bytes each, big-endian, with `s ≤ n/2` (low-S).
pub type P256Signature = [u8; 64];

/// A device's public key. Ed25519 and sr25519 have the variant indices of
/// `sp_runtime::MultiSigner`; P-256 takes 3, leaving 2 (`MultiSigner`'s secp256k1 ECDSA, also
/// 33 bytes) unused so that no P-256 key ever decodes as a secp256k1 one.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum DeviceKey {
	/// An ed25519 public key.
	#[codec(index = 0)]
	Ed25519(ed25519::Public),
	/// An sr25519 public key.
	#[codec(index = 1)]
	Sr25519(sr25519::Public),
	/// An ECDSA P-256 public key, as secure hardware (Android Keystore, Apple's Secure
	/// Enclave) keeps them.
	#[codec(index = 3)]
	P256(P256Public),
}

/// A signature by a device key, with the variant indices of [`DeviceKey`].
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub enum DeviceSignature {
	/// An ed25519 signature.
	#[codec(index = 0)]
	Ed25519(ed25519::Signature),
	/// An sr25519 signature.
	#[codec(index = 1)]
	Sr25519(sr25519::Signature),
	/// An ECDSA P-256 signature over SHA-256 of the message ([`P256Signature`]).
	#[codec(index = 3)]
	P256(P256Signature),
	/// An App Attest assertion by a P-256 key: the key signs (ECDSA, SHA-256)
	/// `SHA-256(authenticator_data ‖ SHA-256(message))`, the only form a Secure Enclave key
	/// attested by App Attest signs in. The authenticator data (app id hash, flags, counter)
	/// is the app's, as `generateAssertion` returns it; the message's own nonce stops replays.
	#[codec(index = 4)]
	AppAttest {
		authenticator_data: [u8; edgeproof_key_attestation::apple::ASSERTION_DATA_LEN],
		signature: P256Signature,
	},
}

impl DeviceKey {
	/// Does `signature` sign `message` with this key? A signature of the other scheme never
	/// verifies.
	pub fn verify(&self, message: &[u8], signature: &DeviceSignature) -> bool {
		match (self, signature) {
			(Self::Ed25519(key), DeviceSignature::Ed25519(sig)) => {
				sp_io::crypto::ed25519_verify(sig, message, key)
			},
			(Self::Sr25519(key), DeviceSignature::Sr25519(sig)) => {
				sp_io::crypto::sr25519_verify(sig, message, key)
			},
			// No host function: RustCrypto's `p256`, in the runtime (see `verify_p256`).
			(Self::P256(key), DeviceSignature::P256(sig)) => {
				edgeproof_key_attestation::signature::verify_p256(key, message, sig)
			},
			(Self::P256(key), DeviceSignature::AppAttest { authenticator_data, signature }) => {
				edgeproof_key_attestation::apple::verify_assertion(
					key,
					message,
					authenticator_data,
					signature,
				)
			},
			_ => false,
		}
	}
}

/// The message a device key signs to bind itself to `operator` on the chain with
/// `genesis_hash`: `BIND_DOMAIN ++ genesis_hash ++ SCALE(operator) ++ nonce as u32 LE`
/// (14 + 32 + 32 + 4 bytes for 32-byte hashes and accounts).
///
/// `nonce` is the key's registration nonce ([`KeyHistory::next_nonce`]: 0 for a key that never
/// registered), so a bind proof is good for one registration only and cannot be replayed after
/// the device left.
pub fn bind_message<Hash: Encode, AccountId: Encode>(
	genesis_hash: &Hash,
	operator: &AccountId,
	nonce: u32,
) -> Vec<u8> {
	(BIND_DOMAIN, genesis_hash, operator, nonce).encode()
}

/// The message the old and the new key both sign to rotate `device` to `new_key`:
/// `ROTATE_DOMAIN ++ genesis_hash ++ SCALE(device) ++ registration as u32 LE ++
/// SCALE(new_key)`, where `registration` is the device's registration nonce
/// ([`DeviceRecord::registration`]): the signatures are good for this registration only.
pub fn rotate_message<Hash: Encode>(
	genesis_hash: &Hash,
	device: &DeviceKey,
	registration: u32,
	new_key: &DeviceKey,
) -> Vec<u8> {
	(ROTATE_DOMAIN, genesis_hash, device, registration, new_key).encode()
}

/// An Android KeyMint security level, as the attestation states it.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum AndroidSecurityLevel {
	#[codec(index = 0)]
	Software,
	#[codec(index = 1)]
	TrustedEnvironment,
	#[codec(index = 2)]
	StrongBox,
}

/// The verified-boot state in an Android attestation's hardware root of trust.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum VerifiedBoot {
	/// The whole boot chain is verified with the manufacturer's key.
	#[codec(index = 0)]
	Verified,
	/// Verified with a key the user installed.
	#[codec(index = 1)]
	SelfSigned,
	/// Not verified (an unlocked bootloader).
	#[codec(index = 2)]
	Unverified,
	/// Verification failed.
	#[codec(index = 3)]
	Failed,
}

impl From<edgeproof_key_attestation::android::SecurityLevel> for AndroidSecurityLevel {
	fn from(level: edgeproof_key_attestation::android::SecurityLevel) -> Self {
		use edgeproof_key_attestation::android::SecurityLevel as L;
		match level {
			L::Software => Self::Software,
			L::TrustedEnvironment => Self::TrustedEnvironment,
			L::StrongBox => Self::StrongBox,
		}
	}
}

impl From<edgeproof_key_attestation::android::VerifiedBootState> for VerifiedBoot {
	fn from(state: edgeproof_key_attestation::android::VerifiedBootState) -> Self {
		use edgeproof_key_attestation::android::VerifiedBootState as B;
		match state {
			B::Verified => Self::Verified,
			B::SelfSigned => Self::SelfSigned,
			B::Unverified => Self::Unverified,
			B::Failed => Self::Failed,
		}
	}
}

/// How a device's current key was proven when it was registered (or rotated to).
#[derive(
	Clone,
	Copy,
	Debug,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum KeyProof {
	/// The key's signature over the bind (or rotate) message, nothing more.
	#[default]
	#[codec(index = 0)]
	Signature,
	/// An Android Key Attestation chain, verified at registration.
	#[codec(index = 1)]
	AndroidKeyAttestation {
		/// The weaker of the attestation's two security levels.
		security_level: AndroidSecurityLevel,
		/// The hardware root of trust's boot state and bootloader lock, if the chain has one.
		boot: Option<(VerifiedBoot, bool)>,
		/// blake2-256 of the trusted root's SubjectPublicKeyInfo the chain ends in.
		root: [u8; 32],
	},
	/// An Apple App Attest object, verified at registration.
	#[codec(index = 2)]
	AppleAppAttest {
		/// Which App Attest environment attested the key.
		environment: AppAttestEnvironment,
		/// SHA-256 of the app id (`TEAMID.bundle.id`) the key belongs to.
		app_id_hash: [u8; 32],
		/// blake2-256 of the trusted root's SubjectPublicKeyInfo that signs the chain.
		root: [u8; 32],
	},
}

impl KeyProof {
	/// The assurance this proof gives. The boot state is recorded but does not lower it: what
	/// an attested key guarantees here is one secure element per device key, which an unlocked
	/// bootloader does not change (docs/hardware-keys.md, "Policy").
	pub fn assurance(&self) -> KeyAssurance {
		match self {
			Self::Signature => KeyAssurance::Unproven,
			Self::AndroidKeyAttestation { security_level, .. } => match security_level {
				AndroidSecurityLevel::Software => KeyAssurance::Unproven,
				AndroidSecurityLevel::TrustedEnvironment => KeyAssurance::TrustedEnvironment,
				AndroidSecurityLevel::StrongBox => KeyAssurance::SecureElement,
			},
			// Development attestations come from apps any developer account signs for its own
			// test devices, through Apple's sandbox: not what a model owner can rely on
			// (docs/hardware-keys.md, "Policy").
			Self::AppleAppAttest { environment, .. } => match environment {
				AppAttestEnvironment::Development => KeyAssurance::Unproven,
				AppAttestEnvironment::Production => KeyAssurance::SecureElement,
			},
		}
	}
}

/// The App Attest environment of an attestation (its aaguid).
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum AppAttestEnvironment {
	/// Apps signed for development, attested by Apple's sandbox.
	#[codec(index = 0)]
	Development,
	/// Apps from the App Store, TestFlight or enterprise distribution.
	#[codec(index = 1)]
	Production,
}

impl From<edgeproof_key_attestation::apple::Environment> for AppAttestEnvironment {
	fn from(environment: edgeproof_key_attestation::apple::Environment) -> Self {
		use edgeproof_key_attestation::apple::Environment as E;
		match environment {
			E::Development => Self::Development,
			E::Production => Self::Production,
		}
	}
}

/// Proof that a device key lives in secure hardware, as `register_attested_device` takes it.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub enum KeyAttestation {
	/// An Android Key Attestation chain: DER X.509 certificates, the device key's first, the
	/// root's last. Its challenge must be SHA-256 of the bind message.
	#[codec(index = 0)]
	Android(AndroidChain),
	/// An Apple App Attest attestation object (CBOR, as `attestKey` returns it). Its client
	/// data hash must be SHA-256 of the bind message.
	#[codec(index = 1)]
	AppleAppAttest(AppAttestObject),
}

/// The most certificates an Android chain may hold.
pub type MaxChainLen = ConstU32<{ edgeproof_key_attestation::MAX_CHAIN_LEN as u32 }>;
/// The largest certificate, in bytes.
pub type MaxCertLen = ConstU32<{ edgeproof_key_attestation::MAX_CERT_LEN as u32 }>;
/// An Android attestation chain within the verifier's bounds.
pub type AndroidChain = BoundedVec<BoundedVec<u8, MaxCertLen>, MaxChainLen>;
/// The largest App Attest object, in bytes.
pub type MaxAppAttestLen = ConstU32<{ edgeproof_key_attestation::apple::MAX_OBJECT_LEN as u32 }>;
/// An App Attest attestation object within the verifier's bound.
pub type AppAttestObject = BoundedVec<u8, MaxAppAttestLen>;

/// The largest trusted root key (DER SubjectPublicKeyInfo) accepted: an RSA-4096 key takes 550.
pub type MaxRootKeyLen = ConstU32<1024>;
/// A trusted root's DER SubjectPublicKeyInfo.
pub type RootKey = BoundedVec<u8, MaxRootKeyLen>;
/// The longest serial number RFC 5280 allows: 20 octets (one more for a sign byte).
pub type MaxSerialLen = ConstU32<21>;
/// A certificate serial number, as the certificate encodes it (big-endian).
pub type Serial = BoundedVec<u8, MaxSerialLen>;

/// Why an attestation was refused: `edgeproof_key_attestation::Error` in a pallet error's form.
/// `index` counts certificates from the leaf (0).
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	frame_support::PalletError,
)]
pub enum AttestationError {
	/// The chain holds no certificate.
	EmptyChain,
	/// More certificates than the verifier takes (the call's bound already refuses them).
	ChainTooLong,
	/// A certificate over the verifier's size limit (the call's bound already refuses it).
	CertificateTooLarge { index: u8 },
	/// A certificate is not DER X.509.
	MalformedCertificate { index: u8 },
	/// A certificate's issuer is not the next certificate's subject.
	IssuerMismatch { index: u8 },
	/// A certificate above the leaf is not a CA.
	NotCa { index: u8 },
	/// A CA has more intermediates below it than its path length allows.
	PathTooLong { index: u8 },
	/// A certificate names two different signature algorithms.
	AlgorithmMismatch { index: u8 },
	/// A signature algorithm or key outside ECDSA P-256/P-384 and RSA up to 4096 bits.
	UnsupportedAlgorithm { index: u8 },
	/// The key that signs a certificate cannot be decoded.
	MalformedKey { index: u8 },
	/// A certificate's signature is invalid.
	BadSignature { index: u8 },
	/// A certificate is not valid yet at the block's time.
	NotYetValid { index: u8 },
	/// A certificate has expired at the block's time.
	Expired { index: u8 },
	/// The chain's root key is not a trusted root.
	UntrustedRoot,
	/// A certificate's serial number is revoked.
	Revoked { index: u8 },
	/// The leaf has no KeyDescription extension.
	NoKeyDescription,
	/// The KeyDescription extension is malformed.
	MalformedKeyDescription,
	/// The attestation challenge is not SHA-256 of the bind message.
	ChallengeMismatch,
	/// The attested key is not the device key.
	KeyMismatch,
	/// The App Attest object is malformed (its CBOR, format, authenticator data or key).
	MalformedAppAttest,
	/// The App Attest leaf has no nonce extension.
	NoAppAttestNonce,
}

impl From<edgeproof_key_attestation::Error> for AttestationError {
	fn from(e: edgeproof_key_attestation::Error) -> Self {
		use edgeproof_key_attestation::Error as E;
		// Chains hold at most MAX_CHAIN_LEN (6) certificates, so every index fits a byte.
		let i = |index: usize| index.min(u8::MAX as usize) as u8;
		match e {
			E::EmptyChain => Self::EmptyChain,
			E::ChainTooLong { .. } => Self::ChainTooLong,
			E::CertificateTooLarge { index } => Self::CertificateTooLarge { index: i(index) },
			E::MalformedCertificate { index } => Self::MalformedCertificate { index: i(index) },
			E::IssuerMismatch { index } => Self::IssuerMismatch { index: i(index) },
			E::NotCa { index } => Self::NotCa { index: i(index) },
			E::PathTooLong { index } => Self::PathTooLong { index: i(index) },
			E::AlgorithmMismatch { index } => Self::AlgorithmMismatch { index: i(index) },
			E::UnsupportedAlgorithm { index } => Self::UnsupportedAlgorithm { index: i(index) },
			E::MalformedKey { index } => Self::MalformedKey { index: i(index) },
			E::BadSignature { index } => Self::BadSignature { index: i(index) },
			E::NotYetValid { index } => Self::NotYetValid { index: i(index) },
			E::Expired { index } => Self::Expired { index: i(index) },
			E::UntrustedRoot => Self::UntrustedRoot,
			E::Revoked { index } => Self::Revoked { index: i(index) },
			E::NoKeyDescription => Self::NoKeyDescription,
			E::MalformedKeyDescription(_) => Self::MalformedKeyDescription,
			E::ChallengeMismatch => Self::ChallengeMismatch,
			E::KeyMismatch => Self::KeyMismatch,
			E::MalformedAppAttest(_) => Self::MalformedAppAttest,
			E::NoAppAttestNonce => Self::NoAppAttestNonce,
		}
	}
}

/// What kind of hardware a device is (informational).
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum HardwareClass {
	#[codec(index = 0)]
	Phone,
	#[codec(index = 1)]
	Laptop,
	#[codec(index = 2)]
	Desktop,
	#[codec(index = 3)]
	Embedded,
	#[codec(index = 4)]
	Robot,
	#[codec(index = 5)]
	Server,
	#[codec(index = 6)]
	Other,
}

/// What an operator says about a device.
#[derive(
	CloneNoBound,
	DebugNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
#[scale_info(skip_type_params(MaxDescription))]
pub struct DeviceMetadata<MaxDescription: Get<u32>> {
	/// The kind of hardware.
	pub hardware: HardwareClass,
	/// Free text (UTF-8), e.g. the model of phone and the runtime used.
	pub description: BoundedVec<u8, MaxDescription>,
}

/// Why a device is suspended.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum SuspensionReason {
	/// Its operator paused it; the operator may resume it.
	#[codec(index = 0)]
	Operator,
	/// It lost `MaxLostDisputes` disputes; only the admin origin may resume it.
	#[codec(index = 1)]
	LostDisputes,
}

/// Where a device is in its life.
///
/// ```text
/// Active ⇄ Suspended(Operator)          (suspend / resume)
/// Active → Suspended(LostDisputes)      (automatic; force_resume by the admin origin)
/// Active | Suspended → Unbonding{until} (deregister) → removed (withdraw_stake after `until`)
/// ```
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum DeviceStatus<BlockNumber> {
	/// May submit claims.
	#[codec(index = 0)]
	Active,
	/// May not submit claims.
	#[codec(index = 1)]
	Suspended(SuspensionReason),
	/// Deregistered; the stake stays held (and slashable) until `until`.
	#[codec(index = 2)]
	Unbonding { until: BlockNumber },
}

/// A device's track record.
#[derive(
	Clone,
	Copy,
	Debug,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Reputation {
	/// Claims that became final.
	pub claims_finalized: u32,
	/// Claims found wrong in a dispute (disputes lost as claimant).
	pub claims_lost: u32,
	/// Disputes won.
	pub disputes_won: u32,
}

/// Weight of one lost claim against one good outcome in the [`Reputation::score`].
pub const LOSS_WEIGHT: u64 = 10;

impl Reputation {
	/// Score in parts per million:
	/// `1_000_000 × good / (good + LOSS_WEIGHT × lost + 1)` where
	/// `good = claims_finalized + disputes_won` and `lost = claims_lost`.
	/// A new device scores 0; it approaches 1_000_000 with a clean record, and one loss
	/// weighs as much as ten good outcomes.
	pub fn score(&self) -> u32 {
		let good = self.claims_finalized as u64 + self.disputes_won as u64;
		let denominator = good + LOSS_WEIGHT * self.claims_lost as u64 + 1;
		(1_000_000 * good / denominator) as u32
	}
}

/// A registered device. `Metadata` and `PastKeys` are the runtime's bounded types.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct DeviceRecord<AccountId, Balance, BlockNumber, Metadata, PastKeys> {
	/// The account that registered the device, pays its bonds and gets its rewards.
	pub operator: AccountId,
	/// The key claims must be signed with now.
	pub key: DeviceKey,
	/// Keys rotated away from, oldest first; they stay reserved while the device exists.
	pub past_keys: PastKeys,
	/// Stake held from the operator.
	pub stake: Balance,
	/// Lifecycle status.
	pub status: DeviceStatus<BlockNumber>,
	/// Operator-supplied description.
	pub metadata: Metadata,
	/// Track record.
	pub reputation: Reputation,
	/// Block of registration.
	pub registered_at: BlockNumber,
	/// The registration nonce the bind proof signed (how often the id registered before).
	pub registration: u32,
	/// How the current key was proven (a rotation proves the new key by signature only).
	pub key_proof: KeyProof,
}

/// What a key brings to its next registration. Written when a device is removed, for each of
/// its keys, and kept: a device that leaves does not come back with a clean record.
#[derive(
	Clone,
	Copy,
	Debug,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct KeyHistory {
	/// The nonce the next bind proof of this key must sign.
	pub next_nonce: u32,
	/// The record of the last device that used this key, when it was removed.
	pub reputation: Reputation,
}
