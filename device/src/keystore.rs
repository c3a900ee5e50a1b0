//! The device key file: one device signing key (sr25519, ed25519, or a software P-256 key),
//! readable by its owner only.
//!
//! ```json
//! { "scheme": "sr25519", "seed": "0x…32 bytes…", "public": "0x…", "device": "0x…" }
//! ```
//! A P-256 key's `seed` is its secret scalar. On a phone the P-256 key lives in secure hardware
//! and never in a file; a software one stands in for it in development.
//! `device` is the device's id on the chain when it differs from the key: the first key a
//! device registered with stays its id after `rotate-key`.

use std::{
	fs,
	io::Write,
	os::unix::fs::{OpenOptionsExt, PermissionsExt},
	path::{Path, PathBuf},
};

use edgeproof_key_attestation::{
	p256::ecdsa::SigningKey,
	signature::{p256_public, sign_p256},
};
use pallet_devices::{DeviceKey, DeviceSignature};
use sp_core::{ed25519, sr25519, Pair};

use crate::{
	chain::{hex, parse_hex},
	error::{Error, Result},
};

/// A signature scheme of device keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Scheme {
	Sr25519,
	Ed25519,
	/// ECDSA P-256, the scheme of secure hardware (a software key here).
	P256,
}

impl Scheme {
	fn name(self) -> &'static str {
		match self {
			Self::Sr25519 => "sr25519",
			Self::Ed25519 => "ed25519",
			Self::P256 => "p256",
		}
	}
}

/// A device key pair and the device it signs for.
#[derive(Clone)]
pub struct DeviceKeyPair {
	pair: KeyPair,
	seed: [u8; 32],
	/// The device's id on the chain (its first key).
	pub device: DeviceKey,
}

/// Shows the public parts only: the seed never reaches a log.
impl std::fmt::Debug for DeviceKeyPair {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.debug_struct("DeviceKeyPair")
			.field("public", &key_hex(&self.public()))
			.field("device", &key_hex(&self.device))
			.finish_non_exhaustive()
	}
}

#[derive(Clone)]
enum KeyPair {
	Sr25519(sr25519::Pair),
	Ed25519(ed25519::Pair),
	P256(SigningKey),
}

impl DeviceKeyPair {
	/// A fresh random key of `scheme`, its own device id.
	pub fn generate(scheme: Scheme) -> Self {
		loop {
			// 32 random bytes; for P-256 one in 2^32 is not a scalar and is drawn again.
			let seed = match scheme {
				Scheme::Sr25519 => sr25519::Pair::generate().1,
				Scheme::Ed25519 | Scheme::P256 => ed25519::Pair::generate().1,
			};
			if let Some(key) = Self::from_seed(scheme, seed) {
				return key;
			}
		}
	}

	/// The key of `scheme` with `seed`; `None` for a P-256 seed that is not a scalar.
	fn from_seed(scheme: Scheme, seed: [u8; 32]) -> Option<Self> {
		let pair = match scheme {
			Scheme::Sr25519 => KeyPair::Sr25519(sr25519::Pair::from_seed(&seed)),
			Scheme::Ed25519 => KeyPair::Ed25519(ed25519::Pair::from_seed(&seed)),
			Scheme::P256 => KeyPair::P256(SigningKey::from_bytes(&seed.into()).ok()?),
		};
		let mut key =
			Self { pair, seed, device: DeviceKey::Ed25519(ed25519::Public::from_raw([0; 32])) };
		key.device = key.public();
		Some(key)
	}

	/// The scheme.
	pub fn scheme(&self) -> Scheme {
		match self.pair {
			KeyPair::Sr25519(_) => Scheme::Sr25519,
			KeyPair::Ed25519(_) => Scheme::Ed25519,
			KeyPair::P256(_) => Scheme::P256,
		}
	}

	/// The public key, as the chain names it.
	pub fn public(&self) -> DeviceKey {
		match &self.pair {
			KeyPair::Sr25519(p) => DeviceKey::Sr25519(p.public()),
			KeyPair::Ed25519(p) => DeviceKey::Ed25519(p.public()),
			KeyPair::P256(k) => DeviceKey::P256(p256_public(k)),
		}
	}

	/// Signs `message`.
	pub fn sign(&self, message: &[u8]) -> DeviceSignature {
		match &self.pair {
			KeyPair::Sr25519(p) => DeviceSignature::Sr25519(p.sign(message)),
			KeyPair::Ed25519(p) => DeviceSignature::Ed25519(p.sign(message)),
			KeyPair::P256(k) => DeviceSignature::P256(sign_p256(k, message)),
		}
	}

	/// Reads a key file. The file must exist, be readable by its owner only and hold a key.
	pub fn load(path: &Path) -> Result<Self> {
		let shown = path.display();
		let meta = fs::metadata(path).map_err(|e| match e.kind() {
			std::io::ErrorKind::NotFound => Error::keystore(format!(
				"keystore file {shown} not found; create it with `edgeproof-device keygen`"
			)),
			_ => Error::keystore_io(format!("keystore file {shown}"), e),
		})?;
		let mode = meta.permissions().mode() & 0o777;
		if mode & 0o077 != 0 {
			return Err(Error::keystore(format!(
				"keystore file {shown} is readable by other users (mode {mode:o}); run `chmod 600 {shown}`"
			)));
		}
		let text = fs::read_to_string(path)
			.map_err(|e| Error::keystore_io(format!("keystore file {shown}"), e))?;
		let bad = |what: &str| Error::keystore(format!("keystore file {shown}: {what}"));
		let json: serde_json::Value =
			serde_json::from_str(&text).map_err(|e| bad(&format!("not JSON ({e})")))?;
		let field = |name: &str| json.get(name).and_then(|v| v.as_str());
		let scheme = match field("scheme") {
			Some("sr25519") => Scheme::Sr25519,
			Some("ed25519") => Scheme::Ed25519,
			Some("p256") => Scheme::P256,
			_ => return Err(bad("`scheme` must be \"sr25519\", \"ed25519\" or \"p256\"")),
		};
		let seed = parse_hex::<32>(field("seed").ok_or_else(|| bad("no `seed`"))?, "`seed`")
			.map_err(|_| bad("`seed` must be 32 bytes of hex"))?;
		let mut key = Self::from_seed(scheme, seed)
			.ok_or_else(|| bad("`seed` is not a P-256 secret scalar"))?;
		if let Some(device) = field("device") {
			key.device = parse_device_id(device).map_err(|_| bad("`device` is not a device id"))?;
		}
		Ok(key)
	}

	/// Writes the key file with mode 0600. Refuses to replace a file unless `replace`; a
	/// replacement is written beside it and renamed over it, so a crash leaves one whole file.
	pub fn save(&self, path: &Path, replace: bool) -> Result<()> {
		let shown = path.display();
		if !replace && path.exists() {
			return Err(Error::keystore(format!(
				"keystore file {shown} exists; pass --force to replace the key in it"
			)));
		}
		if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
			fs::create_dir_all(dir)
				.map_err(|e| Error::keystore_io(format!("cannot create {}", dir.display()), e))?;
		}
		let json = serde_json::json!({
			"scheme": self.scheme().name(),
			"seed": hex(&self.seed),
			"public": key_hex(&self.public()),
			"device": key_hex(&self.device),
		});
		let tmp = PathBuf::from(format!("{}.tmp", path.display()));
		let _ = fs::remove_file(&tmp);
		let write = || -> std::io::Result<()> {
			let mut file =
				fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
			file.write_all(format!("{json:#}\n").as_bytes())?;
			file.sync_all()?;
			fs::rename(&tmp, path)
		};
		write().map_err(|e| Error::keystore_io(format!("cannot write keystore file {shown}"), e))
	}

	/// This key with `device` as its device id (after a rotation).
	pub fn for_device(mut self, device: DeviceKey) -> Self {
		self.device = device;
		self
	}
}

/// The bytes of a device key (32, or 33 for a compressed P-256 point).
pub fn key_bytes(key: &DeviceKey) -> &[u8] {
	match key {
		DeviceKey::Ed25519(k) => &k.0,
		DeviceKey::Sr25519(k) => &k.0,
		DeviceKey::P256(k) => k,
	}
}

/// A device id as text: `sr25519:0x…`, `ed25519:0x…` or `p256:0x…` (33 bytes).
pub fn key_hex(key: &DeviceKey) -> String {
	let scheme = match key {
		DeviceKey::Ed25519(_) => "ed25519",
		DeviceKey::Sr25519(_) => "sr25519",
		DeviceKey::P256(_) => "p256",
	};
	format!("{scheme}:{}", hex(key_bytes(key)))
}

/// Parses [`key_hex`]'s form.
pub fn parse_device_id(text: &str) -> Result<DeviceKey> {
	let bad = || {
		Error::Usage(format!("{text:?} is not a device id (sr25519:0x…, ed25519:0x… or p256:0x…)"))
	};
	let (scheme, key) = text.split_once(':').ok_or_else(bad)?;
	match scheme {
		"sr25519" => Ok(DeviceKey::Sr25519(sr25519::Public::from_raw(
			parse_hex::<32>(key, "a device key").map_err(|_| bad())?,
		))),
		"ed25519" => Ok(DeviceKey::Ed25519(ed25519::Public::from_raw(
			parse_hex::<32>(key, "a device key").map_err(|_| bad())?,
		))),
		"p256" => Ok(DeviceKey::P256(parse_hex::<33>(key, "a device key").map_err(|_| bad())?)),
		_ => Err(bad()),
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_saved_key_loads_back_with_mode_0600() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("keys/device.json");
		for scheme in [Scheme::Sr25519, Scheme::Ed25519, Scheme::P256] {
			let key = DeviceKeyPair::generate(scheme);
			key.save(&path, true).unwrap();
			let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
			assert_eq!(mode, 0o600);
			let loaded = DeviceKeyPair::load(&path).unwrap();
			assert_eq!(loaded.public(), key.public());
			assert_eq!(loaded.device, key.public());
			assert!(loaded.public().verify(b"message", &loaded.sign(b"message")));
		}
	}

	#[test]
	fn an_existing_key_is_not_replaced_without_force() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("device.json");
		let first = DeviceKeyPair::generate(Scheme::Ed25519);
		first.save(&path, false).unwrap();
		let err = DeviceKeyPair::generate(Scheme::Ed25519).save(&path, false).unwrap_err();
		assert!(err.to_string().contains("--force"), "{err}");
		assert_eq!(DeviceKeyPair::load(&path).unwrap().public(), first.public());
	}

	#[test]
	fn a_rotated_key_remembers_its_device() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("device.json");
		let old = DeviceKeyPair::generate(Scheme::Sr25519);
		let new = DeviceKeyPair::generate(Scheme::Ed25519).for_device(old.public());
		new.save(&path, true).unwrap();
		let loaded = DeviceKeyPair::load(&path).unwrap();
		assert_eq!(loaded.device, old.public());
		assert_eq!(loaded.public(), new.public());
	}

	#[test]
	fn bad_files_are_refused_with_a_reason() {
		let dir = tempfile::tempdir().unwrap();
		let missing = dir.path().join("missing.json");
		assert!(DeviceKeyPair::load(&missing).unwrap_err().to_string().contains("keygen"));

		let path = dir.path().join("device.json");
		DeviceKeyPair::generate(Scheme::Sr25519).save(&path, false).unwrap();
		fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
		let err = DeviceKeyPair::load(&path).unwrap_err().to_string();
		assert!(err.contains("readable by other users") && err.contains("644"), "{err}");

		fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
		fs::write(&path, "{\"scheme\":\"rsa\",\"seed\":\"0x00\"}").unwrap();
		assert!(DeviceKeyPair::load(&path).unwrap_err().to_string().contains("scheme"));
	}

	#[test]
	fn device_ids_round_trip_as_text() {
		for scheme in [Scheme::Sr25519, Scheme::Ed25519, Scheme::P256] {
			let key = DeviceKeyPair::generate(scheme).public();
			assert_eq!(parse_device_id(&key_hex(&key)).unwrap(), key);
		}
		assert!(key_hex(&DeviceKeyPair::generate(Scheme::P256).public()).starts_with("p256:0x0"));
		assert!(parse_device_id("ed25519:0x12").is_err());
		assert!(parse_device_id("p256:0x00").is_err());
		assert!(parse_device_id("secp256k1:0x00").is_err());
	}
}
