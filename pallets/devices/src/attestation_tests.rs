//! P-256 device keys and attested registration: chains from the test CA (whose challenge the
//! tests choose) and a real Pixel chain, each refusal with its own error and no effect.

use edgeproof_key_attestation::{
	android::{SecurityLevel, VerifiedBootState},
	test_ca::{self, LeafSpec, TestCa},
};
use frame_support::{assert_noop, assert_ok, BoundedVec};
use sp_runtime::DispatchError;

use crate::{
	mock::*, AndroidSecurityLevel, AttestationError, DeviceKey, DeviceRegistry, DeviceSignature,
	Error, Event, KeyAssurance, KeyAttestation, KeyProof, RevokedSerials, RootKey, Serial,
	TrustedRoots, VerifiedBoot,
};

const CA_SEED: [u8; 32] = [7; 32];

fn ca() -> TestCa {
	TestCa::new(CA_SEED).unwrap()
}

/// Trusts the test CA's root beside Google's.
fn trust_test_ca() {
	let mut roots = google_roots();
	roots.try_push(RootKey::try_from(ca().root_spki()).unwrap()).unwrap();
	assert_ok!(Devices::set_trusted_roots(RuntimeOrigin::root(), roots));
}

fn p256_key(device: &TestDevice) -> [u8; 33] {
	let DeviceKey::P256(key) = device.key() else { panic!("a P-256 test device") };
	key
}

/// The challenge `device` must be attested with to register under `operator` now.
fn challenge(device: &TestDevice, operator: AccountId) -> Vec<u8> {
	sp_io::hashing::sha2_256(&Devices::bind_message_for(&device.key(), &operator)).to_vec()
}

fn android(chain: Vec<Vec<u8>>) -> KeyAttestation {
	let certs = chain.into_iter().map(|der| BoundedVec::try_from(der).unwrap()).collect::<Vec<_>>();
	KeyAttestation::Android(BoundedVec::try_from(certs).unwrap())
}

/// A test CA chain for `device` registering under `operator`, `edit` changing the leaf first.
fn attestation_for(
	device: &TestDevice,
	operator: AccountId,
	edit: impl FnOnce(&mut LeafSpec),
) -> KeyAttestation {
	let mut spec = LeafSpec::tee(p256_key(device), &challenge(device, operator));
	edit(&mut spec);
	android(ca().chain(&spec).unwrap())
}

fn register_attested(
	operator: AccountId,
	device: &TestDevice,
	attestation: KeyAttestation,
) -> frame_support::dispatch::DispatchResult {
	Devices::register_attested_device(
		RuntimeOrigin::signed(operator),
		device.key(),
		device.bind_proof(operator),
		attestation,
		metadata("pixel, keystore"),
		MIN_STAKE,
	)
}

fn set_time(secs: u64) {
	crate::testing::TestTime::set(secs);
}

fn refused(e: AttestationError) -> DispatchError {
	Error::<Test>::Attestation(e).into()
}

#[test]
fn a_software_p256_device_registers_rotates_and_signs_like_the_others() {
	ExtBuilder::build_and_execute(|| {
		let device = TestDevice::p256(3);
		assert_ok!(Devices::register_device(
			RuntimeOrigin::signed(ALICE),
			device.key(),
			device.bind_proof(ALICE),
			metadata("dev laptop"),
			MIN_STAKE,
		));
		let record = crate::Devices::<Test>::get(device.key()).unwrap();
		assert_eq!(record.key_proof, KeyProof::Signature);
		assert_eq!(Devices::key_assurance(&device.key()), Some(KeyAssurance::Unproven));

		// A P-256 signature costs more than the host-function schemes, and is charged for.
		assert!(Devices::signature_weight(&device.sign(b"x")).ref_time() > 0);
		assert_eq!(Devices::signature_weight(&TestDevice::sr("s").sign(b"x")).ref_time(), 0);

		// Rotation from sr25519 to P-256 and back works with both keys signing.
		let sr = TestDevice::sr("phone");
		sr.register_with_stake(BOB, MIN_STAKE);
		let new_key = TestDevice::p256(4);
		let message = crate::rotate_message(&Devices::genesis_hash(), &sr.key(), 0, &new_key.key());
		assert_ok!(Devices::rotate_key(
			RuntimeOrigin::signed(BOB),
			sr.key(),
			new_key.key(),
			sr.sign(&message),
			new_key.sign(&message),
		));
		assert_eq!(Devices::signing_key(&sr.key()), Some(new_key.key()));
	});
}

#[test]
fn a_p256_proof_that_is_high_s_flipped_or_another_keys_is_a_bad_proof() {
	ExtBuilder::build_and_execute(|| {
		let device = TestDevice::p256(3);
		let DeviceSignature::P256(good) = device.bind_proof(ALICE) else { unreachable!() };
		let signature =
			edgeproof_key_attestation::p256::ecdsa::Signature::from_slice(&good).unwrap();
		let (r, s) = signature.split_scalars();
		let high_s = edgeproof_key_attestation::p256::ecdsa::Signature::from_scalars(r, -*s)
			.unwrap()
			.to_bytes();
		let mut flipped = good;
		flipped[5] ^= 0x80;
		let other = TestDevice::p256(4).bind_proof(ALICE);
		for proof in [DeviceSignature::P256(high_s.into()), DeviceSignature::P256(flipped), other] {
			assert_noop!(
				Devices::register_device(
					RuntimeOrigin::signed(ALICE),
					device.key(),
					proof,
					metadata("x"),
					MIN_STAKE,
				),
				Error::<Test>::BadProof
			);
		}
	});
}

#[test]
fn an_attested_key_registers_with_the_level_its_chain_proves() {
	ExtBuilder::build_and_execute(|| {
		trust_test_ca();
		let tee = TestDevice::p256(3);
		assert_ok!(register_attested(ALICE, &tee, attestation_for(&tee, ALICE, |_| {})));
		let root = sp_io::hashing::blake2_256(&ca().root_spki());
		let proof = KeyProof::AndroidKeyAttestation {
			security_level: AndroidSecurityLevel::TrustedEnvironment,
			boot: Some((VerifiedBoot::Verified, true)),
			root,
		};
		assert_eq!(crate::Devices::<Test>::get(tee.key()).unwrap().key_proof, proof);
		assert_eq!(Devices::key_assurance(&tee.key()), Some(KeyAssurance::TrustedEnvironment));
		System::assert_has_event(Event::KeyAttested { device: tee.key(), proof }.into());

		let strongbox = TestDevice::p256(4);
		let attestation = attestation_for(&strongbox, ALICE, |spec| {
			spec.security_level = SecurityLevel::StrongBox;
			spec.boot_state = VerifiedBootState::Unverified;
			spec.locked = false;
		});
		assert_ok!(register_attested(ALICE, &strongbox, attestation));
		let record = crate::Devices::<Test>::get(strongbox.key()).unwrap();
		assert_eq!(record.key_proof.assurance(), KeyAssurance::SecureElement);
		assert!(matches!(
			record.key_proof,
			KeyProof::AndroidKeyAttestation { boot: Some((VerifiedBoot::Unverified, false)), .. }
		));

		// An attestation by Android's software keystore proves nothing.
		let software = TestDevice::p256(5);
		let attestation = attestation_for(&software, ALICE, |spec| {
			spec.security_level = SecurityLevel::Software;
		});
		assert_ok!(register_attested(ALICE, &software, attestation));
		assert_eq!(Devices::key_assurance(&software.key()), Some(KeyAssurance::Unproven));

		// The new key of a rotation is proven by its signature only.
		let new_key = TestDevice::p256(6);
		let message =
			crate::rotate_message(&Devices::genesis_hash(), &tee.key(), 0, &new_key.key());
		assert_ok!(Devices::rotate_key(
			RuntimeOrigin::signed(ALICE),
			tee.key(),
			new_key.key(),
			tee.sign(&message),
			new_key.sign(&message),
		));
		assert_eq!(Devices::key_assurance(&tee.key()), Some(KeyAssurance::Unproven));
	});
}

#[test]
fn each_broken_attestation_is_refused_with_its_own_error_and_changes_nothing() {
	ExtBuilder::build_and_execute(|| {
		trust_test_ca();
		let device = TestDevice::p256(3);
		let attempt = |attestation| register_attested(ALICE, &device, attestation);

		// Issued for another operator, another chain, or a registration nonce used before.
		let for_bob = attestation_for(&device, BOB, |_| {});
		assert_noop!(attempt(for_bob), refused(AttestationError::ChallengeMismatch));
		let other_genesis = {
			let message = crate::bind_message(&sp_core::H256::repeat_byte(9), &ALICE, 0);
			let challenge = sp_io::hashing::sha2_256(&message);
			android(ca().chain(&LeafSpec::tee(p256_key(&device), &challenge)).unwrap())
		};
		assert_noop!(attempt(other_genesis), refused(AttestationError::ChallengeMismatch));
		// The chain attests another key than the one registering.
		let other_key = attestation_for(&device, ALICE, |spec| {
			spec.key = p256_key(&TestDevice::p256(4));
		});
		assert_noop!(attempt(other_key), refused(AttestationError::KeyMismatch));
		// Expired, or not valid yet, at the block's time.
		let expired = attestation_for(&device, ALICE, |spec| spec.not_after = 1_000);
		set_time(2_000);
		assert_noop!(attempt(expired), refused(AttestationError::Expired { index: 0 }));
		let later = attestation_for(&device, ALICE, |spec| spec.not_before = 3_000);
		assert_noop!(attempt(later), refused(AttestationError::NotYetValid { index: 0 }));
		// A flipped byte in the leaf's signature.
		let KeyAttestation::Android(mut chain) = attestation_for(&device, ALICE, |_| {});
		let last = chain[0].len() - 3;
		chain[0][last] ^= 1;
		assert_noop!(
			attempt(KeyAttestation::Android(chain)),
			refused(AttestationError::BadSignature { index: 0 })
		);
		// Garbage where a certificate should be.
		let garbage = android(vec![vec![0x30, 0x03, 0x02, 0x01, 0x00]]);
		assert_noop!(
			attempt(garbage),
			refused(AttestationError::MalformedCertificate { index: 0 })
		);
		assert_noop!(
			attempt(KeyAttestation::Android(BoundedVec::new())),
			refused(AttestationError::EmptyChain)
		);
		// A revoked leaf serial; reinstated, the same chain registers.
		let serial = Serial::try_from(vec![0x10]).unwrap();
		let serials = BoundedVec::try_from(vec![serial.clone()]).unwrap();
		assert_ok!(Devices::set_revoked(RuntimeOrigin::root(), serials.clone(), true));
		assert!(RevokedSerials::<Test>::contains_key(&serial));
		let good = attestation_for(&device, ALICE, |_| {});
		assert_noop!(attempt(good.clone()), refused(AttestationError::Revoked { index: 0 }));
		assert_ok!(Devices::set_revoked(RuntimeOrigin::root(), serials, false));
		System::assert_last_event(Event::SerialsRevoked { count: 1, revoked: false }.into());
		// Not a P-256 key, or a bind proof by another key.
		let sr = TestDevice::sr("phone");
		assert_noop!(register_attested(ALICE, &sr, good.clone()), Error::<Test>::NotP256);
		assert_noop!(
			Devices::register_attested_device(
				RuntimeOrigin::signed(ALICE),
				device.key(),
				TestDevice::p256(4).bind_proof(ALICE),
				good.clone(),
				metadata("x"),
				MIN_STAKE,
			),
			Error::<Test>::BadProof
		);
		// Once the test CA is no longer trusted, its chains are not either.
		assert_ok!(Devices::set_trusted_roots(RuntimeOrigin::root(), google_roots()));
		assert_noop!(attempt(good.clone()), refused(AttestationError::UntrustedRoot));
		trust_test_ca();
		assert_ok!(attempt(good));
	});
}

/// A device holding one attested key signs a StrongBox "leaf" for a software key with it and
/// presents it above its real chain (see key-attestation's test of the same attack).
#[test]
fn a_leaf_forged_with_an_attested_key_is_refused() {
	ExtBuilder::build_and_execute(|| {
		trust_test_ca();
		let (hardware, hardware_key) = test_ca::software_key([3; 32]).unwrap();
		let real = ca().chain(&LeafSpec::tee(hardware_key, b"long ago")).unwrap();
		let software = TestDevice::p256(4);
		let mut claimed = LeafSpec::tee(p256_key(&software), &challenge(&software, ALICE));
		claimed.security_level = SecurityLevel::StrongBox;
		// Issued by the real leaf's key, under the real leaf's name.
		let forged =
			test_ca::issue_leaf(&hardware, test_ca::name("Android Keystore Key"), &claimed)
				.unwrap();
		let mut chain = vec![forged];
		chain.extend(real);
		assert_noop!(
			register_attested(ALICE, &software, android(chain)),
			refused(AttestationError::NotCa { index: 1 })
		);
	});
}

/// A real chain from a Pixel 3's TEE (key-attestation/tests/data) verifies in the pallet up to
/// its challenge, which is `"challenge"`, not a bind message's hash: the runtime code checks
/// Google's real signatures, names and KeyDescription.
#[test]
fn a_real_pixel_chain_verifies_up_to_its_challenge() {
	ExtBuilder::build_and_execute(|| {
		let pem =
			include_bytes!("../../../key-attestation/tests/data/android/blueline-TEE_EC_NONE.pem");
		let chain = x509_cert::Certificate::load_pem_chain(pem)
			.unwrap()
			.iter()
			.map(|cert| der::Encode::to_der(cert).unwrap())
			.collect::<Vec<_>>();
		// 2026-12-01: its batch certificates run to 2028 (its root certificate expired in May,
		// but the root is trusted for its key).
		set_time(1_796_083_200);
		let device = TestDevice::p256(3);
		assert_noop!(
			register_attested(ALICE, &device, android(chain.clone())),
			refused(AttestationError::ChallengeMismatch)
		);
		// Without Google's roots it goes no further than the root.
		assert_ok!(Devices::set_trusted_roots(RuntimeOrigin::root(), BoundedVec::new()));
		assert_noop!(
			register_attested(ALICE, &device, android(chain.clone())),
			refused(AttestationError::UntrustedRoot)
		);
		// In 2029 its batch certificate has expired.
		assert_ok!(Devices::set_trusted_roots(RuntimeOrigin::root(), google_roots()));
		set_time(1_861_920_000);
		assert_noop!(
			register_attested(ALICE, &device, android(chain)),
			refused(AttestationError::Expired { index: 1 })
		);
	});
}

#[test]
fn only_the_admin_sets_roots_and_revocations_and_roots_must_be_keys() {
	ExtBuilder::build_and_execute(|| {
		assert_eq!(TrustedRoots::<Test>::get(), google_roots());
		assert_noop!(
			Devices::set_trusted_roots(RuntimeOrigin::signed(ALICE), BoundedVec::new()),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Devices::set_revoked(RuntimeOrigin::signed(ALICE), BoundedVec::new(), true),
			DispatchError::BadOrigin
		);
		let not_a_key = RootKey::try_from(vec![0x30, 0x00]).unwrap();
		assert_noop!(
			Devices::set_trusted_roots(
				RuntimeOrigin::root(),
				BoundedVec::try_from(vec![not_a_key]).unwrap()
			),
			Error::<Test>::MalformedRootKey
		);
		assert_ok!(Devices::set_trusted_roots(RuntimeOrigin::root(), BoundedVec::new()));
		System::assert_last_event(Event::TrustedRootsSet { count: 0 }.into());
		assert!(TrustedRoots::<Test>::get().is_empty());
	});
}
