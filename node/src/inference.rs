//! The inference engine the node hands to off-chain workers (see `docs/inference.md`).

use std::{path::PathBuf, sync::Arc};

use edgeproof_offchain::{Engine, EngineConfig, Error, Metrics};
use edgeproof_primitives::InferenceProvider;
use sc_service::Configuration;

const LOG_TARGET: &str = "edgeproof::inference";

/// Flags of the inference engine behind the `inference` host functions.
#[derive(Debug, Clone, clap::Args)]
pub struct InferenceParams {
	/// The ONNX Runtime shared library (`libonnxruntime.so.1.31.1`; `scripts/setup.sh` installs
	/// it). Without a usable library the node still runs: `inference::run` answers
	/// `LibraryMissing`, the canonical calls keep working.
	#[arg(long, value_name = "PATH", env = "ORT_DYLIB_PATH")]
	pub onnxruntime_lib: Option<PathBuf>,

	/// Directory of the content-addressed model store [default: `<base-path>/models`].
	#[arg(long, value_name = "DIR", env = "EDGEPROOF_MODEL_STORE")]
	pub model_store: Option<PathBuf>,

	/// Do not provide inference to off-chain workers: every `inference` host function answers
	/// `Unavailable`.
	#[arg(long)]
	pub no_inference: bool,

	/// Let the model store fetch local sources: `file://` URIs (regular files only) and
	/// `http(s)://` hosts with loopback, private, link-local or other non-public addresses.
	/// Without it only `http(s)://` hosts that resolve to public addresses are fetched, and any
	/// other registered model is voted down. For dev chains and tests, which serve models from
	/// 127.0.0.1: a validator with it fetches whatever local file or private service a
	/// registration names. Not implied by `--dev`.
	#[arg(long)]
	pub allow_local_model_sources: bool,
}

/// The engine for off-chain workers, or `None` with `--no-inference` (or if even the model
/// store cannot be opened). Never fails the node: problems are logged once, here.
pub fn provider(
	params: &InferenceParams,
	config: &Configuration,
) -> Option<Arc<dyn InferenceProvider>> {
	if params.no_inference {
		log::info!(target: LOG_TARGET, "Inference disabled (--no-inference)");
		return None;
	}
	let store =
		params.model_store.clone().unwrap_or_else(|| config.base_path.path().join("models"));
	let mut engine_config = EngineConfig::new(params.onnxruntime_lib.clone(), store);
	engine_config.store.allow_local_sources = params.allow_local_model_sources;
	if params.allow_local_model_sources {
		log::warn!(
			target: LOG_TARGET,
			"Local model sources allowed (--allow-local-model-sources): registered models may \
			 name files on this machine and hosts on its private network"
		);
	}
	if engine_config.onnxruntime_lib.is_none() {
		log::warn!(
			target: LOG_TARGET,
			"No ONNX Runtime library given (--onnxruntime-lib or ORT_DYLIB_PATH): off-chain \
			 workers cannot re-run models (LibraryMissing); disputes still work"
		);
	}
	let engine = match Engine::new(engine_config.clone()) {
		Ok(engine) => engine,
		Err(e @ (Error::LibraryNotFound(_) | Error::LibraryLoad { .. })) => {
			log::warn!(
				target: LOG_TARGET,
				"{e}. Off-chain workers cannot re-run models (LibraryMissing); disputes still work"
			);
			engine_config.onnxruntime_lib = None;
			match Engine::new(engine_config) {
				Ok(engine) => engine,
				Err(e) => return disabled(e),
			}
		},
		Err(e) => return disabled(e),
	};
	log::info!(
		target: LOG_TARGET,
		"Inference engine ready: ONNX Runtime {}, model store `{}`",
		engine.ort().map_or("not loaded".into(), |o| format!("from `{}`", o.path().display())),
		engine.store().config().dir.display()
	);
	let engine = match config.prometheus_registry().map(Metrics::register) {
		Some(Ok(metrics)) => engine.with_metrics(metrics),
		Some(Err(e)) => {
			log::warn!(target: LOG_TARGET, "Cannot register inference metrics: {e}");
			engine
		},
		None => engine,
	};
	Some(Arc::new(engine))
}

fn disabled(e: Error) -> Option<Arc<dyn InferenceProvider>> {
	log::error!(target: LOG_TARGET, "Inference disabled: {e}");
	None
}
