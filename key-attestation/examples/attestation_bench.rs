//! What verifying attestation chains costs, natively (one core, release build):
//!
//!     cargo run --release -p edgeproof-key-attestation --example attestation_bench
//!
//! For each real chain of tests/data/android: the median time of each certificate's signature
//! check (by the algorithm and the signer's key) and of the whole `verify_chain`. The runtime's
//! weights will come from its own benchmarks in wasm; this is the native reference.

use std::{path::Path, time::Instant};

use der::Encode;
use edgeproof_key_attestation::{
	android::{verify_chain, Trust},
	signature,
};
use x509_cert::Certificate;

/// (file, a time every certificate of the chain is valid at).
const CHAINS: &[(&str, u64)] = &[
	("blueline-TEE_EC_NONE.pem", 1_538_178_095),
	("caiman-SB_EC_RKP.pem", 1_758_900_706),
	("tegu-TEE_EC_2026_ROOT.pem", 1_771_894_623),
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
}
