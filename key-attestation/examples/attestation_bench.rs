//! What verifying attestation chains costs, natively (one core, release build):
//!
//!     cargo run --release -p edgeproof-key-attestation --example attestation_bench
//!
//! For each real chain of tests/data/android: the median time of each certificate's signature
//! check (by the algorithm and the signer's key) and of the whole `verify_chain`; for each real
//! App Attest object of tests/data/apple, the whole `apple::verify` against the genesis roots
//! (Google's two, then Apple's) and how many signatures it checked. The runtime's weights come
//! from its own benchmarks in wasm; this is the native reference.

use std::{path::Path, time::Instant};

use der::Encode;
use edgeproof_key_attestation::{
	android::{verify_chain, Trust},
	apple, roots, signature,
};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;

/// (file, a time every certificate of the chain is valid at).
const CHAINS: &[(&str, u64)] = &[
	("blueline-TEE_EC_NONE.pem", 1_538_178_095),
	("caiman-SB_EC_RKP.pem", 1_758_900_706),
	("tegu-TEE_EC_2026_ROOT.pem", 1_771_894_623),
];

/// (file, the text whose SHA-256 is its client data hash, a time in its leaf's three days).
const APP_ATTEST: &[(&str, &str, u64)] = &[
	(
		"development-VNP5A9S22V.cbor",
		"This is a test. This will need to be removed before merging.",
		1_661_400_000,
	),
	("production-8YE23NZS57.cbor", "1234567890abcdefgh", 1_601_300_000),
];

fn median_us(runs: usize, mut f: impl FnMut()) -> f64 {
	f();
	let mut times: Vec<f64> = (0..runs)
		.map(|_| {
			let t = Instant::now();
			f();
			t.elapsed().as_secs_f64() * 1e6
		})
		.collect();
	times.sort_by(f64::total_cmp);
	times[runs / 2]
}

fn name(oid: &str) -> &'static str {
	match oid {
		"1.2.840.10045.4.3.2" => "ECDSA-SHA256",
		"1.2.840.10045.4.3.3" => "ECDSA-SHA384",
		"1.2.840.113549.1.1.11" => "RSA-SHA256",
		"1.2.840.113549.1.1.12" => "RSA-SHA384",
		"1.2.840.113549.1.1.13" => "RSA-SHA512",
		_ => "another algorithm",
	}
}

/// The signer's key: its curve, or its RSA modulus size.
fn signer(key: &x509_cert::spki::SubjectPublicKeyInfoOwned) -> String {
	use rsa::{pkcs1::DecodeRsaPublicKey, traits::PublicKeyParts};
	match signature::curve(key).map(|c| c.to_string()).as_deref() {
		Some("1.2.840.10045.3.1.7") => "P-256".into(),
		Some("1.3.132.0.34") => "P-384".into(),
		_ => match rsa::RsaPublicKey::from_pkcs1_der(key.subject_public_key.raw_bytes()) {
			Ok(k) => format!("RSA-{}", k.size() * 8),
			Err(_) => "another key".into(),
		},
	}
}

fn pem_chain(file: &str) -> Vec<Certificate> {
	let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/android").join(file);
	Certificate::load_pem_chain(&std::fs::read(path).expect("the test data")).expect("PEM")
}

fn main() {
	let roots: Vec<Vec<u8>> = pem_chain("google-roots.pem")
		.iter()
		.map(|c| c.tbs_certificate.subject_public_key_info.to_der().unwrap())
		.collect();
	let roots: Vec<&[u8]> = roots.iter().map(Vec::as_slice).collect();
	for (file, now) in CHAINS {
		let certs = pem_chain(file);
		let ders: Vec<Vec<u8>> = certs.iter().map(|c| c.to_der().unwrap()).collect();
		println!("{file}:");
		for (i, cert) in certs.iter().enumerate() {
			let issuer = certs.get(i + 1).unwrap_or(cert);
			let key = &issuer.tbs_certificate.subject_public_key_info;
			let tbs = cert.tbs_certificate.to_der().unwrap();
			let sig = cert.signature.raw_bytes();
			let alg = cert.signature_algorithm.oid;
			signature::verify(key, &alg, &tbs, sig).expect("verifies");
			let us = median_us(200, || signature::verify(key, &alg, &tbs, sig).unwrap());
			println!(
				"  certificate {i}: {} by {}: {us:.0} µs",
				name(&alg.to_string()),
				signer(key)
			);
		}
		let chain: Vec<&[u8]> = ders.iter().map(Vec::as_slice).collect();
		let trust = Trust { roots: &roots, is_revoked: &|_| false, now: *now };
		verify_chain(&chain, &trust).expect("verifies");
		let us = median_us(100, || {
			verify_chain(&chain, &trust).unwrap();
		});
		println!("  verify_chain, {} certificates: {us:.0} µs", chain.len());
	}
	let genesis: Vec<Vec<u8>> =
		roots::GENESIS.iter().map(|cert| roots::spki(cert).expect("a root")).collect();
	let genesis: Vec<&[u8]> = genesis.iter().map(Vec::as_slice).collect();
	for (file, client_data, now) in APP_ATTEST {
		let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/apple").join(file);
		let object = std::fs::read(path).expect("the test data");
		let hash = Sha256::digest(client_data.as_bytes());
		let trust = Trust { roots: &genesis, is_revoked: &|_| false, now: *now };
		let verified = apple::verify(&object, &trust, &hash).expect("verifies");
		let us = median_us(100, || {
			apple::verify(&object, &trust, &hash).unwrap();
		});
		println!(
			"{file}: apple::verify, {} bytes, {} certificates, {} signatures checked: {us:.0} µs",
			object.len(),
			verified.chain_len,
			verified.chain_len - 1 + verified.roots_tried
		);
	}
}
