//! `serve`: the device daemon.
//!
//! - Keeps the model's ONNX Runtime session warm and answers inference requests on a local
//!   HTTP endpoint, attesting each result:
//!   - `POST /attest` with a JSON tensor or list of tensors (the `.json` input format) →
//!     `{"claim": id, "nonce": n, "outputs": [tensors]}`; a bad input is a 400 with
//!     `{"error": "…"}`, a chain or engine failure a 502;
//!   - `GET /health` → the device, operator and model.
//! - Follows the chain's best blocks and defends every dispute on the operator's claims
//!   ([`Defender`]); a lost connection is retried every few seconds, and the defence picks up
//!   where the chain is.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use http_body_util::{BodyExt, Full, Limited};
use hyper::{
	body::Bytes, server::conn::http1, service::service_fn, Method, Request, Response, StatusCode,
};
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::sync::Mutex;

use crate::{
	attest::{self, Attester, ModelInfo},
	chain::{ss58, Chain},
	commands::{engine, operator, progress, Output},
	defend::Defender,
	error::{report, Error, Result},
	keystore::{key_hex, DeviceKeyPair},
	tensors, Global,
};

/// Largest request body accepted (a model input as JSON).
const MAX_BODY: usize = 16 << 20;

/// Claims handed to the node and watched until their block, at most; further requests wait.
/// Each watch is a subscription on the one connection to the node, which allows 1024 by
/// default (`--rpc-max-subscriptions-per-connection`).
const MAX_IN_FLIGHT: usize = 256;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
	/// The model to serve (0x… id).
	#[arg(long, value_parser = crate::args::h256)]
	pub model: sp_core::H256,
	/// Address of the inference endpoint.
	#[arg(long, default_value = "127.0.0.1:8181")]
	pub listen: SocketAddr,
}

struct State {
	/// Held while a claim gets its nonce and is handed to the node, not while it runs or waits
	/// for its block: concurrent requests share blocks.
	attester: Mutex<Attester>,
	in_flight: tokio::sync::Semaphore,
	engine: Arc<edgeproof_offchain::Engine>,
	model: ModelInfo,
	health: serde_json::Value,
}

pub async fn run(global: &Global, args: ServeArgs) -> Result<Output> {
	let key = DeviceKeyPair::load(&global.keystore)?;
	let op = operator(global)?;
	let model_id = args.model;
	let engine = engine(global)?;
	let chain = Chain::connect(&global.url).await?;
	let at = chain.best().await?;
	let model = attest::active_model(&at, model_id).await?;
	let attester = Attester::new(chain.clone(), op.clone(), key.clone());
	attester.check_device().await?;
	{
		let (engine, file, uri) = (engine.clone(), model.file_hash, model.uri.clone());
		tokio::task::spawn_blocking(move || engine.session(&file, &uri).map(|_| ())).await??;
	}
	let listener = tokio::net::TcpListener::bind(args.listen)
		.await
		.map_err(|e| Error::Usage(format!("cannot listen on {}: {e}", args.listen)))?;
	let address = listener.local_addr().map_err(|e| Error::Usage(e.to_string()))?;
	let health = json!({
		"device": key_hex(&key.device),
		"operator": ss58(&op.account()),
		"model": format!("{model_id:?}"),
	});
	let state = Arc::new(State {
		attester: Mutex::new(attester),
		in_flight: tokio::sync::Semaphore::new(MAX_IN_FLIGHT),
		engine: engine.clone(),
		model,
		health,
	});
	let ready = json!({ "listening": format!("http://{address}"), "device": key_hex(&key.device) });
	if global.json {
		println!("{ready}");
	}
	progress(format!(
		"serving model {model_id:?} on http://{address}; defending the disputes of {}",
		ss58(&op.account())
	));

	let watcher = tokio::spawn(watch(global.url.clone(), chain, op, engine, state.clone()));
	let server = tokio::spawn(accept(listener, state));
	tokio::select! {
		_ = tokio::signal::ctrl_c() => progress("stopping"),
		r = watcher => progress(format!("the chain watcher stopped: {r:?}")),
		r = server => progress(format!("the HTTP server stopped: {r:?}")),
	}
	Ok(Output::new("stopped", json!({ "stopped": true })))
}

/// Follows best blocks and defends; reconnects after a lost connection.
async fn watch(
	url: String,
	mut chain: Chain,
	op: crate::chain::Operator,
	engine: Arc<edgeproof_offchain::Engine>,
	state: Arc<State>,
) {
	let mut defender = Defender::new(chain.clone(), op, engine);
	loop {
		if let Err(e) = follow(&chain, &mut defender).await {
			progress(format!("lost the chain ({e}); reconnecting"));
		}
		loop {
			tokio::time::sleep(Duration::from_secs(3)).await;
			match Chain::connect(&url).await {
				Ok(c) => {
					chain = c;
					defender.reconnect(chain.clone());
					state.attester.lock().await.chain = chain.clone();
					progress(format!("reconnected to {url}"));
					break;
				},
				Err(e) => progress(format!("{e}; retrying")),
			}
		}
	}
}

async fn follow(chain: &Chain, defender: &mut Defender) -> Result<()> {
	let mut blocks = chain.best_blocks().await?;
	while let Some(block) = blocks.next().await {
		block.map_err(crate::chain::chain_err)?;
		match defender.step().await {
			Ok(()) => {},
			Err(e @ (Error::Unreachable { .. } | Error::Chain { .. })) => return Err(e),
			Err(e) => progress(format!("defence: {}", report(&e))),
		}
	}
	Err(Error::unreachable("the block stream ended", None))
}

async fn accept(listener: tokio::net::TcpListener, state: Arc<State>) {
	loop {
		let stream = match listener.accept().await {
			Ok((stream, _)) => stream,
			Err(e) => {
				// Out of file descriptors, or the like: wait rather than spin.
				progress(format!("accept: {e}"));
				tokio::time::sleep(Duration::from_millis(100)).await;
				continue;
			},
		};
		let state = state.clone();
		tokio::spawn(async move {
			let service = service_fn(move |req| handle(req, state.clone()));
			let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
		});
	}
}

/// Runs the model, then sends the claim under the attester's lock, then waits for its block.
async fn attest_request(
	state: &State,
	input: Vec<edgeproof_canon::Tensor>,
) -> Result<attest::Claim> {
	let outputs = attest::infer(&state.engine, &state.model, &input).await?;
	let _slot = state
		.in_flight
		.acquire()
		.await
		.map_err(|_| Error::chain_state("the daemon is stopping"))?;
	let sent = state.attester.lock().await.send(&state.model, input, outputs).await?;
	sent.included().await
}

async fn handle(
	req: Request<hyper::body::Incoming>,
	state: Arc<State>,
) -> std::result::Result<Response<Full<Bytes>>, std::convert::Infallible> {
	let reply = |status: StatusCode, body: serde_json::Value| {
		let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
		*response.status_mut() = status;
		response.headers_mut().insert(
			hyper::header::CONTENT_TYPE,
			hyper::header::HeaderValue::from_static("application/json"),
		);
		Ok(response)
	};
	match (req.method(), req.uri().path()) {
		(&Method::GET, "/health") => reply(StatusCode::OK, state.health.clone()),
		(&Method::POST, "/attest") => {
			let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
				Ok(b) => b.to_bytes(),
				Err(e) => {
					return reply(StatusCode::BAD_REQUEST, json!({ "error": format!("body: {e}") }))
				},
			};
			let input = match std::str::from_utf8(&body)
				.map_err(|_| Error::Input("the body is not UTF-8".into()))
				.and_then(tensors::parse_json)
			{
				Ok(input) => input,
				Err(e) => return reply(StatusCode::BAD_REQUEST, json!({ "error": report(&e) })),
			};
			match attest_request(&state, input).await {
				Ok(claim) => {
					progress(format!("claim {} attested (nonce {})", claim.id, claim.nonce));
					let outputs: Vec<_> = claim.outputs.iter().map(tensors::to_json).collect();
					reply(
						StatusCode::OK,
						json!({ "claim": claim.id, "nonce": claim.nonce, "outputs": outputs }),
					)
				},
				Err(e @ Error::Input(_)) => {
					reply(StatusCode::BAD_REQUEST, json!({ "error": report(&e) }))
				},
				Err(e) => reply(StatusCode::BAD_GATEWAY, json!({ "error": report(&e) })),
			}
		},
		_ => reply(StatusCode::NOT_FOUND, json!({ "error": "use POST /attest or GET /health" })),
	}
}
