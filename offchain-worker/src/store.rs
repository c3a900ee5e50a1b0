//! The content-addressed model store: ONNX files on disk, named by their blake2-256.
//!
//! A model is fetched from its registered URI on first use and written as `<dir>/<hex id>.onnx`
//! through a temporary file and a rename, so a crash never leaves a partial file under the final
//! name. Every load re-hashes the bytes: a file whose hash does not match its name (disk
//! corruption, tampering) is deleted and fetched again, never served.

use std::{
	collections::HashMap,
	fs,
	io::{ErrorKind, Read, Write},
	path::{Path, PathBuf},
	sync::{
		atomic::{AtomicU64, Ordering},
		Arc, Mutex,
	},
	time::Duration,
};

use edgeproof_primitives::FileHash;
use sp_crypto_hashing::blake2_256;

use crate::{
	error::{Error, Result},
	http,
};

const LOG_TARGET: &str = "edgeproof::inference";

/// Where and how models are stored and fetched.
#[derive(Clone, Debug)]
pub struct StoreConfig {
	/// Directory of the store (created if missing).
	pub dir: PathBuf,
	/// Largest model file accepted, in bytes.
	pub max_model_bytes: u64,
	/// Time limit of one fetch (name lookup and connect to last byte; or a local file read).
	pub fetch_timeout: Duration,
	/// Also fetch local sources: `file://` URIs (regular files only) and `http(s)://` hosts
	/// with loopback, private or other non-public addresses. Off by default: a validator
	/// fetches whatever URI a registration names, so only `http(s)://` to public addresses is
	/// safe. For dev chains, tests and a device operator's own machine.
	pub allow_local_sources: bool,
}

impl StoreConfig {
	/// Default size limit: 512 MiB.
	pub const DEFAULT_MAX_MODEL_BYTES: u64 = 512 << 20;
	/// Default fetch time limit: 120 s.
	pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(120);

	/// A store in `dir` with the default limits, local sources off.
	pub fn new(dir: impl Into<PathBuf>) -> Self {
		Self {
			dir: dir.into(),
			max_model_bytes: Self::DEFAULT_MAX_MODEL_BYTES,
			fetch_timeout: Self::DEFAULT_FETCH_TIMEOUT,
			allow_local_sources: false,
		}
	}
}

/// The model store. Thread-safe; concurrent loads of one model fetch it once.
pub struct ModelStore {
	config: StoreConfig,
	/// One lock per model, so that concurrent first uses fetch once.
	fetching: Mutex<HashMap<FileHash, Arc<Mutex<()>>>>,
	/// Distinguishes temporary files of concurrent writers in this process.
	temp_counter: AtomicU64,
}

impl ModelStore {
	/// Opens (creating if needed) the store directory.
	pub fn open(config: StoreConfig) -> Result<Self> {
		fs::create_dir_all(&config.dir).map_err(|source| Error::Store {
			context: format!("cannot create `{}`", config.dir.display()),
			source,
		})?;
		Ok(Self { config, fetching: Mutex::default(), temp_counter: AtomicU64::new(0) })
	}

	/// The store's configuration.
	pub fn config(&self) -> &StoreConfig {
		&self.config
	}

	/// Where the file of `model` lives (it may not be there yet).
	pub fn path_of(&self, model: &FileHash) -> PathBuf {
		self.config.dir.join(format!("{model:x}.onnx"))
	}

	/// The bytes of `model`, verified against its hash: from disk, or fetched from `uri` and
	/// stored first.
	pub fn load(&self, model: &FileHash, uri: &str) -> Result<Vec<u8>> {
		let lock = {
			let mut fetching = self.fetching.lock().unwrap_or_else(|e| e.into_inner());
			fetching.entry(*model).or_default().clone()
		};
		let _guard = lock.lock().unwrap_or_else(|e| e.into_inner());

		let path = self.path_of(model);
		if let Some(bytes) = self.read_verified(model, &path)? {
			return Ok(bytes);
		}
		let bytes = self.fetch(uri)?;
		let found = FileHash::from(blake2_256(&bytes));
		if found != *model {
			return Err(Error::HashMismatch { uri: uri.into(), expected: *model, found });
		}
		self.write_atomically(&path, &bytes)?;
		log::info!(target: LOG_TARGET, "Stored model {model:?} ({} bytes) from {uri}", bytes.len());
		Ok(bytes)
	}

	/// The stored file if present and matching its hash; a mismatching file is deleted.
	fn read_verified(&self, model: &FileHash, path: &Path) -> Result<Option<Vec<u8>>> {
		let bytes = match read_limited(path, self.config.max_model_bytes) {
			Ok(bytes) => bytes,
			Err(ReadError::Io(e)) if e.kind() == ErrorKind::NotFound => return Ok(None),
			Err(ReadError::Io(source)) => {
				return Err(Error::Store {
					context: format!("cannot read `{}`", path.display()),
					source,
				})
			},
			Err(ReadError::TooLarge) => {
				self.discard(path, "it is larger than the size limit");
				return Ok(None);
			},
		};
		if FileHash::from(blake2_256(&bytes)) == *model {
			Ok(Some(bytes))
		} else {
			self.discard(path, "its hash does not match its name");
			Ok(None)
		}
	}

	fn discard(&self, path: &Path, why: &str) {
		log::warn!(target: LOG_TARGET, "Deleting stored model `{}`: {why}", path.display());
		if let Err(e) = fs::remove_file(path) {
			log::warn!(target: LOG_TARGET, "Cannot delete `{}`: {e}", path.display());
		}
	}

	fn fetch(&self, uri: &str) -> Result<Vec<u8>> {
		let limit = self.config.max_model_bytes;
		let allow_local = self.config.allow_local_sources;
		if let Some(path) = uri.strip_prefix("file://") {
			if !path.starts_with('/') {
				return Err(Error::UnsupportedUri(uri.into()));
			}
			if !allow_local {
				return Err(Error::Refused {
					uri: uri.into(),
					reason: "`file://` is a local source (see --allow-local-model-sources)".into(),
				});
			}
			return read_source_file(uri, PathBuf::from(path), limit, self.config.fetch_timeout);
		}
		if uri.starts_with("http://") || uri.starts_with("https://") {
			return http::get(uri, limit, self.config.fetch_timeout, allow_local);
		}
		Err(Error::UnsupportedUri(uri.into()))
	}

	fn write_atomically(&self, path: &Path, bytes: &[u8]) -> Result<()> {
		let n = self.temp_counter.fetch_add(1, Ordering::Relaxed);
		let temp = path.with_extension(format!("onnx.{}.{n}.tmp", std::process::id()));
		let write = || -> std::io::Result<()> {
			let mut file = fs::File::create(&temp)?;
			file.write_all(bytes)?;
			file.sync_all()?;
			fs::rename(&temp, path)
		};
		write().map_err(|source| {
			let _ = fs::remove_file(&temp);
			Error::Store { context: format!("cannot write `{}`", path.display()), source }
		})
	}
}

enum ReadError {
	Io(std::io::Error),
	TooLarge,
}

/// Reads the regular file at `path` (a `file://` source) of at most `limit` bytes, within
/// `timeout`.
///
/// Only a regular file has an end: a FIFO, a device such as `/dev/zero` or a directory would
/// stall the worker or never finish, so it is refused before it is opened, and again after
/// (the path may have been replaced in between). The read runs on its own thread so that even
/// a hung file system or a swapped-in FIFO costs that thread, never the worker.
fn read_source_file(uri: &str, path: PathBuf, limit: u64, timeout: Duration) -> Result<Vec<u8>> {
	let check = move |uri: &str, path: &Path, metadata: &fs::Metadata| -> Result<()> {
		let file_type = metadata.file_type();
		let what = if file_type.is_file() {
			return if metadata.len() > limit {
				Err(Error::TooLarge { uri: uri.into(), limit })
			} else {
				Ok(())
			};
		} else if file_type.is_dir() {
			"a directory"
		} else {
			"a FIFO, socket or device"
		};
		Err(Error::Refused {
			uri: uri.into(),
			reason: format!("`{}` is {what}, not a regular file", path.display()),
		})
	};
	let io_error = |uri: &str, e: std::io::Error| match e.kind() {
		ErrorKind::NotFound => Error::NotFound(uri.into()),
		_ => Error::Unreachable { uri: uri.into(), reason: e.to_string() },
	};

	check(uri, &path, &fs::metadata(&path).map_err(|e| io_error(uri, e))?)?;
	let (tx, rx) = std::sync::mpsc::channel();
	let (reader_uri, reader_path) = (uri.to_owned(), path.clone());
	std::thread::spawn(move || {
		let read = || -> Result<Vec<u8>> {
			let file = fs::File::open(&reader_path).map_err(|e| io_error(&reader_uri, e))?;
			check(
				&reader_uri,
				&reader_path,
				&file.metadata().map_err(|e| io_error(&reader_uri, e))?,
			)?;
			match read_to_limit(file, limit) {
				Ok(bytes) => Ok(bytes),
				Err(ReadError::TooLarge) => Err(Error::TooLarge { uri: reader_uri.clone(), limit }),
				Err(ReadError::Io(e)) => Err(io_error(&reader_uri, e)),
			}
		};
		let _ = tx.send(read());
	});
	rx.recv_timeout(timeout).unwrap_or_else(|_| {
		Err(Error::Unreachable {
			uri: uri.into(),
			reason: format!("reading `{}` took longer than {timeout:?}", path.display()),
		})
	})
}

/// Reads a file of at most `limit` bytes.
fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
	read_to_limit(fs::File::open(path).map_err(ReadError::Io)?, limit)
}

fn read_to_limit(file: fs::File, limit: u64) -> Result<Vec<u8>, ReadError> {
	let mut bytes = Vec::new();
	file.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(ReadError::Io)?;
	if bytes.len() as u64 > limit {
		return Err(ReadError::TooLarge);
	}
	Ok(bytes)
}
