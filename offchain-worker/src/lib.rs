//! # edgeproof-offchain
//!
//! The native implementation behind Edgeproof's `inference` host functions.
//!
//! ## Overview
//! Validators' off-chain workers re-run registered ONNX models. The runtime (wasm) reaches this
//! crate through the `inference` runtime interface of `edgeproof-primitives`; the node registers
//! an [`Engine`] as the `InferenceExt` extension of off-chain workers.
//!
//! - Fast path: ONNX Runtime through `ort`, loaded at run time from the library path the node is
//!   given ([`OrtRuntime::load`]), with pinned settings ([`settings`]); sessions cached per
//!   model.
//! - Canonical path: `edgeproof-canon` compiles the same file and runs it bit-exactly; traces
//!   are cached per model and input so a dispute runs the model once.
//! - [`ModelStore`]: content-addressed files on disk, fetched by URI on first use and verified
//!   by blake2-256 before every use.
//!
//! ## Interface
//! [`Engine`] ([`EngineConfig`]): `run`, `verify_model`, `canonical_output`, `trace_children`,
//! `one_step`, and `edgeproof_primitives::InferenceProvider`. [`Error`] and [`Result`].

mod cache;
mod convert;
mod engine;
mod error;
mod http;
mod metrics;
mod provider;
mod store;

pub use convert::IoSpec;
pub use engine::{
	compile_options, probe_input, settings, Engine, EngineConfig, OrtModel, OrtRuntime,
};
pub use error::{Error, Result};
pub use metrics::Metrics;
pub use store::{ModelStore, StoreConfig};

/// The ONNX Runtime library as set up for this machine: `$ORT_DYLIB_PATH`, else where
/// `scripts/setup.sh` installs it (`~/.cache/edgeproof/onnxruntime/libonnxruntime.so.1.31.1`).
/// For tests and tools; the node takes `--onnxruntime-lib`.
pub fn default_onnxruntime_lib() -> std::path::PathBuf {
	std::env::var_os("ORT_DYLIB_PATH").map(std::path::PathBuf::from).unwrap_or_else(|| {
		let home = std::env::var_os("HOME").map(std::path::PathBuf::from).unwrap_or_default();
		home.join(".cache/edgeproof/onnxruntime/libonnxruntime.so.1.31.1")
	})
}
