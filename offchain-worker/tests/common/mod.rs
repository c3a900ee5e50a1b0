//! Helpers shared by the integration tests: the ONNX Runtime library, fixtures, a tiny HTTP
//! server on 127.0.0.1.
#![allow(dead_code)]

use std::{
	io::{BufRead, BufReader, Write},
	net::{TcpListener, TcpStream},
	path::PathBuf,
	sync::{
		atomic::{AtomicUsize, Ordering},
		Arc,
	},
	time::Duration,
};

use edgeproof_primitives::FileHash;
use sp_crypto_hashing::blake2_256;

/// The ONNX Runtime library the tests load: `$ORT_DYLIB_PATH`, else where `scripts/setup.sh`
/// puts it. Panics (failing the test) with a pointer to the set-up script if it is absent.
pub fn ort_lib() -> PathBuf {
	let path = edgeproof_offchain::default_onnxruntime_lib();
	assert!(
		path.is_file(),
		"ONNX Runtime library not found at `{}`: run scripts/setup.sh (or set ORT_DYLIB_PATH)",
		path.display()
	);
	path
}

/// The id of some bytes.
pub fn id_of(bytes: &[u8]) -> FileHash {
	FileHash::from(blake2_256(bytes))
}

/// A `file://` URI for a path.
pub fn file_uri(path: &std::path::Path) -> String {
	format!("file://{}", path.display())
}

/// A one-route-per-path HTTP/1.1 server on 127.0.0.1 answering `GET` from a fixed table,
/// counting the requests it serves.
pub struct TestServer {
	pub port: u16,
	pub hits: Arc<AtomicUsize>,
}

/// What the server answers on a path.
#[derive(Clone)]
pub enum Route {
	/// 200 with this body (after an optional delay).
	Body(Vec<u8>, Duration),
	/// This status with an empty body.
	Status(u16),
	/// 302 to this path.
	Redirect(String),
	/// 200 declaring no length and streaming this many bytes.
	Stream(usize),
}

impl TestServer {
	pub fn start(routes: Vec<(&'static str, Route)>) -> Self {
		let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
		let port = listener.local_addr().expect("local addr").port();
		let hits = Arc::new(AtomicUsize::new(0));
		let counter = hits.clone();
		std::thread::spawn(move || {
			for stream in listener.incoming().flatten() {
				let routes = routes.clone();
				let counter = counter.clone();
				std::thread::spawn(move || serve(stream, &routes, &counter));
			}
		});
		Self { port, hits }
	}

	pub fn uri(&self, path: &str) -> String {
		format!("http://127.0.0.1:{}{path}", self.port)
	}

	pub fn hits(&self) -> usize {
		self.hits.load(Ordering::SeqCst)
	}
}

fn serve(mut stream: TcpStream, routes: &[(&'static str, Route)], hits: &AtomicUsize) {
	let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
	let mut request_line = String::new();
	if reader.read_line(&mut request_line).is_err() {
		return;
	}
	loop {
		let mut header = String::new();
		match reader.read_line(&mut header) {
			Ok(0) | Err(_) => return,
			Ok(_) if header == "\r\n" => break,
			Ok(_) => {},
		}
	}
	hits.fetch_add(1, Ordering::SeqCst);
	let path = request_line.split_whitespace().nth(1).unwrap_or("/");
	let route = routes.iter().find(|(p, _)| *p == path).map(|(_, r)| r.clone());
	let _ = match route {
		Some(Route::Body(body, delay)) => {
			std::thread::sleep(delay);
			write!(
				stream,
				"HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
				body.len()
			)
			.and_then(|_| stream.write_all(&body))
		},
		Some(Route::Status(code)) => {
			write!(stream, "HTTP/1.1 {code} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		},
		Some(Route::Redirect(to)) => write!(
			stream,
			"HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
		),
		Some(Route::Stream(n)) => write!(stream, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
			.and_then(|_| {
				let chunk = vec![7u8; 4096];
				let mut left = n;
				while left > 0 {
					let k = left.min(chunk.len());
					stream.write_all(&chunk[..k])?;
					left -= k;
				}
				Ok(())
			}),
		None => write!(
			stream,
			"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
		),
	};
}

/// A fixture model of `canon/tests/data` (see its README): the ONNX bytes, the seeded input and
/// onnxruntime's reference output.
pub struct Fixture {
	pub path: PathBuf,
	pub bytes: Vec<u8>,
	pub id: FileHash,
	pub input: Vec<edgeproof_canon::Tensor>,
	pub expected: Vec<edgeproof_canon::Tensor>,
}

impl Fixture {
	pub fn uri(&self) -> String {
		file_uri(&self.path)
	}
}

fn fixture_dir() -> PathBuf {
	PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../canon/tests/data")
}

fn f32_tensor(path: PathBuf, shape: Vec<u32>) -> edgeproof_canon::Tensor {
	let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
	edgeproof_canon::Tensor::new(edgeproof_canon::DType::F32, shape, data).expect("fixture tensor")
}

/// `mlp` (input F32 [1, 16], output F32 [1, 8]) or `cnn` (input F32 [1, 1, 28, 28], output F32
/// [1, 10]).
pub fn fixture(name: &str) -> Fixture {
	let (in_shape, out_shape) = match name {
		"mlp" => (vec![1, 16], vec![1, 8]),
		"cnn" => (vec![1, 1, 28, 28], vec![1, 10]),
		other => panic!("no fixture {other}"),
	};
	let dir = fixture_dir();
	let path = dir.join(format!("{name}.onnx"));
	let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
	Fixture {
		id: id_of(&bytes),
		input: vec![f32_tensor(dir.join(format!("{name}.input_0.bin")), in_shape)],
		expected: vec![f32_tensor(dir.join(format!("{name}.output_0.bin")), out_shape)],
		path,
		bytes,
	}
}

/// The tolerance the fixture tests accept between ONNX Runtime settings and the reference.
pub fn test_tolerance() -> edgeproof_canon::Tolerance {
	edgeproof_canon::Tolerance::Relative { abs: 1e-5f32.to_bits(), rel: 1e-4f32.to_bits() }
}

/// An engine with the test library and a fresh store in `dir`, local sources on (the fixtures
/// are `file://` URIs).
pub fn engine(dir: &tempfile::TempDir) -> edgeproof_offchain::Engine {
	let mut config =
		edgeproof_offchain::EngineConfig::new(Some(ort_lib()), dir.path().join("models"));
	config.store.allow_local_sources = true;
	edgeproof_offchain::Engine::new(config).expect("engine")
}
