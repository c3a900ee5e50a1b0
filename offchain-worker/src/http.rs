//! A minimal HTTP(S) GET for the model store, on the hyper/rustls stack the node already has.
//!
//! Each fetch runs on its own thread with a current-thread tokio runtime, so it works the same
//! whether the caller is inside a tokio runtime (the node's off-chain worker) or not (tests).

use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::{body::Bytes, header, StatusCode, Uri};
use hyper_util::{client::legacy::Client, rt::TokioExecutor};

use crate::error::{Error, Result};

/// Redirects followed before giving up.
const MAX_REDIRECTS: usize = 5;

/// GETs `uri`, following redirects, failing if the body is larger than `limit` bytes or the
/// whole exchange takes longer than `timeout`.
pub(crate) fn get(uri: &str, limit: u64, timeout: Duration) -> Result<Vec<u8>> {
	std::thread::scope(|s| {
		s.spawn(|| {
			let runtime = tokio::runtime::Builder::new_current_thread()
				.enable_all()
				.build()
				.map_err(|e| unreachable_err(uri, format!("cannot start an HTTP runtime: {e}")))?;
			runtime.block_on(async {
				tokio::time::timeout(timeout, get_async(uri, limit)).await.unwrap_or_else(|_| {
					Err(unreachable_err(uri, format!("timed out after {timeout:?}")))
				})
			})
		})
		.join()
		.unwrap_or_else(|_| Err(unreachable_err(uri, "the fetch thread panicked".into())))
	})
}

async fn get_async(uri: &str, limit: u64) -> Result<Vec<u8>> {
	let connector = hyper_rustls::HttpsConnectorBuilder::new()
		.with_provider_and_native_roots(rustls::crypto::ring::default_provider())
		.map_err(|e| unreachable_err(uri, format!("no TLS root certificates: {e}")))?
		.https_or_http()
		.enable_http1()
		.build();
	let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build(connector);

	let mut current: Uri = uri.parse().map_err(|_| Error::UnsupportedUri(uri.into()))?;
	for _ in 0..=MAX_REDIRECTS {
		let response =
			client.get(current.clone()).await.map_err(|e| unreachable_err(uri, e.to_string()))?;
		let status = response.status();
		if status.is_redirection() {
			let location =
				response
					.headers()
					.get(header::LOCATION)
					.and_then(|l| l.to_str().ok())
					.ok_or_else(|| unreachable_err(uri, format!("{status} without a Location")))?;
			current = resolve(&current, location)
				.ok_or_else(|| unreachable_err(uri, format!("bad redirect to `{location}`")))?;
			continue;
		}
		if status == StatusCode::NOT_FOUND || status == StatusCode::GONE {
			return Err(Error::NotFound(uri.into()));
		}
		if !status.is_success() {
			return Err(unreachable_err(uri, format!("HTTP status {status}")));
		}
		let declared = response
			.headers()
			.get(header::CONTENT_LENGTH)
			.and_then(|l| l.to_str().ok()?.parse::<u64>().ok());
		if declared.is_some_and(|n| n > limit) {
			return Err(Error::TooLarge { uri: uri.into(), limit });
		}
		let body = Limited::new(response.into_body(), usize::try_from(limit).unwrap_or(usize::MAX));
		return match body.collect().await {
			Ok(collected) => Ok(collected.to_bytes().to_vec()),
			Err(e) if e.is::<http_body_util::LengthLimitError>() => {
				Err(Error::TooLarge { uri: uri.into(), limit })
			},
			Err(e) => Err(unreachable_err(uri, e.to_string())),
		};
	}
	Err(unreachable_err(uri, format!("more than {MAX_REDIRECTS} redirects")))
}

/// The target of a redirect: an absolute URI, or a path on the same origin.
fn resolve(base: &Uri, location: &str) -> Option<Uri> {
	if location.starts_with("http://") || location.starts_with("https://") {
		return location.parse().ok();
	}
	if !location.starts_with('/') {
		return None;
	}
	Uri::builder()
		.scheme(base.scheme()?.clone())
		.authority(base.authority()?.clone())
		.path_and_query(location)
		.build()
		.ok()
}

fn unreachable_err(uri: &str, reason: String) -> Error {
	Error::Unreachable { uri: uri.into(), reason }
}
