//! P-256 device keys and attested registration: chains from the test CA (whose challenge the
//! tests choose) and a real Pixel chain, each refusal with its own error and no effect.

use edgeproof_key_attestation::{
	android::{SecurityLevel, VerifiedBootState},
	apple::{self, Environment},
	chain::Trust,
	test_ca::{self, AppAttestSpec, LeafSpec, TestCa, TEST_APP_ID},
};
use frame_support::{assert_noop, assert_ok, BoundedVec};
use sp_runtime::DispatchError;

use crate::{
	mock::*, AndroidSecurityLevel, AppAttestEnvironment, AttestationError, AttestationSerials,
	DeviceKey, DeviceRegistry, DeviceSignature, Error, Event, KeyAssurance, KeyAttestation,
	KeyProof, RevokedSerials, RootKey, Serial, TrustedRoots, VerifiedBoot,
};

const CA_SEED: [u8; 32] = [7; 32];

fn ca() -> TestCa {
	TestCa::new(CA_SEED).unwrap()
}

/// Trusts the test CA's root beside the genesis roots.
fn trust_test_ca() {
	let mut roots = genesis_roots();
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
	register_attested_with_info(operator, device, attestation).map(|_| ()).map_err(|e| e.error)
}

fn register_attested_with_info(
	operator: AccountId,
	device: &TestDevice,
	attestation: KeyAttestation,
) -> frame_support::dispatch::DispatchResultWithPostInfo {
	Devices::register_attested_device(
		RuntimeOrigin::signed(operator),
		device.key(),
		device.bind_proof(operator),
		attestation,
		metadata("phone, secure hardware"),
		MIN_STAKE,
	)
}

/// A test CA App Attest object for `device` registering under `operator`, `edit` changing
/// what it says first.
fn app_attest_for(
	device: &TestDevice,
	operator: AccountId,
	edit: impl FnOnce(&mut AppAttestSpec),
) -> KeyAttestation {
	let hash: [u8; 32] = challenge(device, operator).try_into().unwrap();
	let mut spec = AppAttestSpec::production(p256_key(device), hash);
	edit(&mut spec);
	app_attest(ca().app_attest(&spec).unwrap())
}

fn app_attest(object: Vec<u8>) -> KeyAttestation {
	KeyAttestation::AppleAppAttest(BoundedVec::try_from(object).unwrap())
}

/// With the genesis roots only, `good` (from the test CA) is `UntrustedRoot`; once the test CA
/// is trusted again, `device` registers with it under Alice.
fn refused_until_the_test_ca_is_trusted(device: &TestDevice, good: KeyAttestation) {
	assert_ok!(Devices::set_trusted_roots(RuntimeOrigin::root(), genesis_roots()));
	assert_noop!(
		register_attested(ALICE, device, good.clone()),
		refused(AttestationError::UntrustedRoot)
	);
	trust_test_ca();
	assert_ok!(register_attested(ALICE, device, good));
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
		rotate_first_key(BOB, &sr, &new_key);
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
		rotate_first_key(ALICE, &tee, &TestDevice::p256(6));
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
		let KeyAttestation::Android(mut chain) = attestation_for(&device, ALICE, |_| {}) else {
			unreachable!("an Android chain")
		};
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
		refused_until_the_test_ca_is_trusted(&device, good);
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
		assert_ok!(Devices::set_trusted_roots(RuntimeOrigin::root(), genesis_roots()));
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
		assert_eq!(TrustedRoots::<Test>::get(), genesis_roots());
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

#[test]
fn an_app_attest_key_registers_and_signs_claims_with_assertions() {
	ExtBuilder::build_and_execute(|| {
		trust_test_ca();
		let device = TestDevice::p256(3);
		assert_ok!(register_attested(ALICE, &device, app_attest_for(&device, ALICE, |_| {})));
		let app_id_hash = apple::app_id_hash(TEST_APP_ID);
		let proof = KeyProof::AppleAppAttest {
			environment: AppAttestEnvironment::Production,
			app_id_hash,
			root: sp_io::hashing::blake2_256(&ca().root_spki()),
		};
		assert_eq!(crate::Devices::<Test>::get(device.key()).unwrap().key_proof, proof);
		assert_eq!(Devices::key_assurance(&device.key()), Some(KeyAssurance::SecureElement));
		System::assert_has_event(Event::KeyAttested { device: device.key(), proof }.into());

		// The Secure Enclave key signs assertions: over this message, by this key only, with
		// the authenticator data it signed.
		let message = b"a claim's signed bytes";
		let assertion = device.assertion(message, &app_id_hash, 1).unwrap();
		assert!(device.key().verify(message, &assertion));
		assert!(!device.key().verify(b"another claim", &assertion));
		assert!(!TestDevice::p256(4).key().verify(message, &assertion));
		let DeviceSignature::AppAttest { mut authenticator_data, signature } = assertion.clone()
		else {
			unreachable!("an assertion")
		};
		authenticator_data[36] ^= 1;
		let edited = DeviceSignature::AppAttest { authenticator_data, signature };
		assert!(!device.key().verify(message, &edited));
		// An assertion is not a plain P-256 signature of the message, nor the other way round.
		let DeviceSignature::AppAttest { signature, .. } = assertion else { unreachable!() };
		assert!(!device.key().verify(message, &DeviceSignature::P256(signature)));
		// Verifying one costs a P-256 signature.
		assert_eq!(
			Devices::signature_weight(&device.assertion(message, &app_id_hash, 2).unwrap()),
			Devices::signature_weight(&device.sign(message))
		);

		// A development app's key is recorded as such and proves no assurance.
		let development = TestDevice::p256(4);
		let attestation = app_attest_for(&development, ALICE, |spec| {
			spec.environment = Environment::Development;
		});
		assert_ok!(register_attested(ALICE, &development, attestation));
		let record = crate::Devices::<Test>::get(development.key()).unwrap();
		assert!(matches!(
			record.key_proof,
			KeyProof::AppleAppAttest { environment: AppAttestEnvironment::Development, .. }
		));
		assert_eq!(record.key_proof.assurance(), KeyAssurance::Unproven);
	});
}

#[test]
fn each_broken_app_attest_object_is_refused_with_its_own_error_and_changes_nothing() {
	ExtBuilder::build_and_execute(|| {
		trust_test_ca();
		let device = TestDevice::p256(3);
		let attempt = |attestation| register_attested(ALICE, &device, attestation);

		// Made over another operator's bind message, or for another key.
		let for_bob = app_attest_for(&device, BOB, |_| {});
		assert_noop!(attempt(for_bob), refused(AttestationError::ChallengeMismatch));
		let other_key = {
			let other = TestDevice::p256(4);
			let hash: [u8; 32] = challenge(&device, ALICE).try_into().unwrap();
			app_attest(ca().app_attest(&AppAttestSpec::production(p256_key(&other), hash)).unwrap())
		};
		assert_noop!(attempt(other_key), refused(AttestationError::KeyMismatch));
		// A key that has signed before is not a new attestation.
		let used = app_attest_for(&device, ALICE, |spec| spec.counter = 1);
		assert_noop!(attempt(used), refused(AttestationError::MalformedAppAttest));
		// A revoked leaf serial, an expired leaf.
		let serial = Serial::try_from(vec![0x20]).unwrap();
		let serials = BoundedVec::try_from(vec![serial]).unwrap();
		assert_ok!(Devices::set_revoked(RuntimeOrigin::root(), serials.clone(), true));
		let good = app_attest_for(&device, ALICE, |_| {});
		assert_noop!(attempt(good.clone()), refused(AttestationError::Revoked { index: 0 }));
		assert_ok!(Devices::set_revoked(RuntimeOrigin::root(), serials, false));
		let expired = app_attest_for(&device, ALICE, |spec| spec.not_after = 1_000);
		set_time(2_000);
		assert_noop!(attempt(expired), refused(AttestationError::Expired { index: 0 }));
		// Not CBOR.
		assert_noop!(
			attempt(app_attest(vec![0xff; 64])),
			refused(AttestationError::MalformedAppAttest)
		);
		// Not P-256: an sr25519 key cannot be attested.
		let sr = TestDevice::sr("phone");
		assert_noop!(register_attested(ALICE, &sr, good.clone()), Error::<Test>::NotP256);
		// Signed by a CA that is not trusted.
		refused_until_the_test_ca_is_trusted(&device, good);
	});
}

/// The registration is charged first for the most an App Attest object can need and refunded
/// down to the signatures the verifier checked: the one link inside `x5c` and each trusted
/// root's key it tried on the intermediate.
#[test]
fn an_app_attest_registration_pays_for_the_signatures_it_checked() {
	ExtBuilder::build_and_execute(|| {
		trust_test_ca();
		let device = TestDevice::p256(3);
		let attestation = app_attest_for(&device, ALICE, |_| {});
		let KeyAttestation::AppleAppAttest(object) = &attestation else { unreachable!() };
		let roots = TrustedRoots::<Test>::get();
		let root_keys: Vec<&[u8]> = roots.iter().map(|root| root.as_slice()).collect();
		let trust = Trust { roots: &root_keys, is_revoked: &|_| false, now: 0 };
		let challenge: [u8; 32] = challenge(&device, ALICE).try_into().unwrap();
		let verified = apple::verify(object, &trust, &challenge).unwrap();
		// The test CA's root is the last of four; Apple's P-384 key is tried before it.
		assert_eq!(verified.root, 3);
		assert!(verified.roots_tried >= 2);

		let charged = Devices::attested_registration_weight(&attestation, None);
		let info = register_attested_with_info(ALICE, &device, attestation.clone()).unwrap();
		let checked = 1 + verified.roots_tried as u32;
		let refunded = Devices::attested_registration_weight(&attestation, Some(checked));
		assert_eq!(info.actual_weight, Some(refunded));
		assert!(refunded.ref_time() < charged.ref_time());
		// An Android chain is charged for each of its certificates, and nothing is refunded.
		let android_device = TestDevice::p256(4);
		let chain = attestation_for(&android_device, ALICE, |_| {});
		let charged = Devices::attested_registration_weight(&chain, None);
		let info = register_attested_with_info(ALICE, &android_device, chain).unwrap();
		assert_eq!(info.actual_weight, Some(charged));
	});
}

/// A real App Attest object from an iPhone app in production (key-attestation/tests/data)
/// verifies in the pallet up to its client data hash, which is not a bind message's: the runtime
/// code checks Apple's real signatures against Apple's root in genesis.
#[test]
fn a_real_app_attest_object_verifies_up_to_its_client_data_hash() {
	ExtBuilder::build_and_execute(|| {
		let object =
			include_bytes!("../../../key-attestation/tests/data/apple/production-8YE23NZS57.cbor");
		// Within the leaf's three days (2020-09-27 to 2020-09-30).
		set_time(1_601_300_000);
		let device = TestDevice::p256(3);
		assert_noop!(
			register_attested(ALICE, &device, app_attest(object.to_vec())),
			refused(AttestationError::ChallengeMismatch)
		);
		// Without Apple's root it goes no further than the intermediate.
		let google = BoundedVec::truncate_from(genesis_roots()[..2].to_vec());
		assert_ok!(Devices::set_trusted_roots(RuntimeOrigin::root(), google));
		assert_noop!(
			register_attested(ALICE, &device, app_attest(object.to_vec())),
			refused(AttestationError::UntrustedRoot)
		);
		// A day later its leaf has expired.
		assert_ok!(Devices::set_trusted_roots(RuntimeOrigin::root(), genesis_roots()));
		set_time(1_601_600_000);
		assert_noop!(
			register_attested(ALICE, &device, app_attest(object.to_vec())),
			refused(AttestationError::Expired { index: 0 })
		);
	});
}

/// A serial whose top bit is set carries a zero sign byte in DER; revocation lists (Google's)
/// write it without. Revoked in one form, it is refused; reinstated in the other, it registers.
#[test]
fn a_serial_is_revoked_with_or_without_its_sign_byte() {
	ExtBuilder::build_and_execute(|| {
		trust_test_ca();
		let device = TestDevice::p256(3);
		let attestation =
			attestation_for(&device, ALICE, |spec| spec.serial = vec![0x00, 0x8a, 0x01]);
		let serials = |bytes: &[u8]| {
			BoundedVec::try_from(vec![Serial::try_from(bytes.to_vec()).unwrap()]).unwrap()
		};
		assert_ok!(Devices::set_revoked(RuntimeOrigin::root(), serials(&[0x8a, 0x01]), true));
		assert_noop!(
			register_attested(ALICE, &device, attestation.clone()),
			refused(AttestationError::Revoked { index: 0 })
		);
		assert_ok!(Devices::set_revoked(
			RuntimeOrigin::root(),
			serials(&[0x00, 0x8a, 0x01]),
			false
		));
		assert_eq!(RevokedSerials::<Test>::iter().count(), 0);
		assert_ok!(Devices::set_revoked(RuntimeOrigin::root(), serials(&[0x00, 0x8a, 0x01]), true));
		assert!(RevokedSerials::<Test>::contains_key(Serial::try_from(vec![0x8a, 0x01]).unwrap()));
		assert_noop!(
			register_attested(ALICE, &device, attestation.clone()),
			refused(AttestationError::Revoked { index: 0 })
		);
		assert_ok!(Devices::set_revoked(RuntimeOrigin::root(), serials(&[0x8a, 0x01]), false));
		assert_ok!(register_attested(ALICE, &device, attestation));
	});
}

/// A certificate revoked after a device registered through it takes the device's assurance away
/// (the record still says what was proven then); reinstated, the assurance is back. A rotation
/// or the device's removal drops the serials kept for this.
#[test]
fn a_revocation_after_registration_takes_the_assurance_away() {
	ExtBuilder::build_and_execute(|| {
		trust_test_ca();
		let serials = |bytes: &[u8]| {
			BoundedVec::try_from(vec![Serial::try_from(bytes.to_vec()).unwrap()]).unwrap()
		};
		let tee = TestDevice::p256(3);
		assert_ok!(register_attested(ALICE, &tee, attestation_for(&tee, ALICE, |_| {})));
		let kept = AttestationSerials::<Test>::get(tee.key()).unwrap();
		// Leaf (0x10), intermediate (2), root (1), as the test CA numbers them.
		assert_eq!(kept.iter().map(|s| s.to_vec()).collect::<Vec<_>>(), [[0x10], [2], [1]]);
		let apple = TestDevice::p256(4);
		assert_ok!(register_attested(ALICE, &apple, app_attest_for(&apple, ALICE, |_| {})));
		assert_eq!(Devices::key_assurance(&apple.key()), Some(KeyAssurance::SecureElement));

		// The test CA's intermediate signs both.
		assert_ok!(Devices::set_revoked(RuntimeOrigin::root(), serials(&[2]), true));
		for device in [&tee, &apple] {
			assert_eq!(Devices::key_assurance(&device.key()), Some(KeyAssurance::Unproven));
			assert!(Devices::attestation_revoked(&device.key()));
		}
		let record = crate::Devices::<Test>::get(tee.key()).unwrap();
		assert_eq!(record.key_proof.assurance(), KeyAssurance::TrustedEnvironment);
		assert_ok!(Devices::set_revoked(RuntimeOrigin::root(), serials(&[2]), false));
		assert_eq!(Devices::key_assurance(&tee.key()), Some(KeyAssurance::TrustedEnvironment));
		// Only the App Attest leaf (0x20).
		assert_ok!(Devices::set_revoked(RuntimeOrigin::root(), serials(&[0x20]), true));
		assert_eq!(Devices::key_assurance(&tee.key()), Some(KeyAssurance::TrustedEnvironment));
		assert_eq!(Devices::key_assurance(&apple.key()), Some(KeyAssurance::Unproven));

		// A rotation proves the new key by signature only: nothing left to revoke.
		rotate_first_key(ALICE, &tee, &TestDevice::p256(5));
		assert!(!AttestationSerials::<Test>::contains_key(tee.key()));
		// Removed, the device's serials go with it.
		leave(ALICE, apple.key());
		assert!(!AttestationSerials::<Test>::contains_key(apple.key()));
	});
}
