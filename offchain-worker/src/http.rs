//! A minimal HTTP(S) GET for the model store, on the hyper/rustls stack the node already has.
//!
//! Each fetch runs on its own thread with a current-thread tokio runtime, so it works the same
//! whether the caller is inside a tokio runtime (the node's off-chain worker) or not (tests).
//!
//! The URI comes from a registration anyone can submit, so unless local sources are allowed
//! the host must resolve only to public addresses ([`is_public`]). The name is resolved once,
//! every address checked, and the connection made to a checked address (the request keeps the
//! name in its `Host` header and TLS server name): a DNS answer that changes between check and
//! connect (rebinding) cannot reach a private address. Redirects are checked the same way.

use std::{
	net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
	time::Duration,
};

use http_body_util::{BodyExt, Empty, Limited};
use hyper::{
	body::Bytes,
	header::{self, HeaderValue},
	Request, Response, StatusCode, Uri,
};
use hyper_rustls::FixedServerNameResolver;
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use rustls::pki_types::ServerName;

use crate::error::{Error, Result};

/// Redirects followed before giving up.
const MAX_REDIRECTS: usize = 5;

/// GETs `uri`, following redirects, failing if the body is larger than `limit` bytes or the
/// whole exchange (name lookups included) takes longer than `timeout`. Without
/// `allow_local`, every host must resolve only to public addresses.
pub(crate) fn get(uri: &str, limit: u64, timeout: Duration, allow_local: bool) -> Result<Vec<u8>> {
	std::thread::scope(|s| {
		s.spawn(|| {
			let runtime = tokio::runtime::Builder::new_current_thread()
				.enable_all()
				.build()
				.map_err(|e| unreachable_err(uri, format!("cannot start an HTTP runtime: {e}")))?;
			let result = runtime.block_on(async {
				tokio::time::timeout(timeout, get_async(uri, limit, allow_local))
					.await
					.unwrap_or_else(|_| {
						Err(unreachable_err(uri, format!("timed out after {timeout:?}")))
					})
			});
			// A name lookup still blocked in the system resolver must not hold the caller.
			runtime.shutdown_background();
			result
		})
		.join()
		.unwrap_or_else(|_| Err(unreachable_err(uri, "the fetch thread panicked".into())))
	})
}

async fn get_async(uri: &str, limit: u64, allow_local: bool) -> Result<Vec<u8>> {
	let mut current: Uri = uri.parse().map_err(|_| Error::UnsupportedUri(uri.into()))?;
	for _ in 0..=MAX_REDIRECTS {
		let response = get_checked(uri, &current, allow_local).await?;
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

/// One GET of `target` (the registered `uri` or a redirect from it): resolves the host once,
/// checks the addresses, and sends the request to the first checked address that accepts a
/// connection.
async fn get_checked(
	uri: &str,
	target: &Uri,
	allow_local: bool,
) -> Result<Response<hyper::body::Incoming>> {
	let default_port = match target.scheme_str() {
		Some("http") => 80,
		Some("https") => 443,
		_ => return Err(Error::UnsupportedUri(target.to_string())),
	};
	let host = target
		.host()
		.filter(|h| !h.is_empty())
		.ok_or_else(|| Error::UnsupportedUri(target.to_string()))?;
	let bare_host = host.trim_start_matches('[').trim_end_matches(']');
	let port = target.port_u16().unwrap_or(default_port);
	let addrs: Vec<SocketAddr> = match bare_host.parse::<IpAddr>() {
		Ok(ip) => vec![SocketAddr::new(ip, port)],
		Err(_) => tokio::net::lookup_host((bare_host, port))
			.await
			.map_err(|e| unreachable_err(uri, format!("cannot resolve `{bare_host}`: {e}")))?
			.collect(),
	};
	if addrs.is_empty() {
		return Err(unreachable_err(uri, format!("`{bare_host}` has no address")));
	}
	if !allow_local {
		if let Some(private) = addrs.iter().find(|a| !is_public(a.ip())) {
			return Err(Error::Refused {
				uri: uri.into(),
				reason: format!(
					"`{bare_host}` resolves to {}, which is not a public address (local model \
					 sources need --allow-local-model-sources)",
					private.ip()
				),
			});
		}
	}

	// TLS checks the certificate against the name in the URI, not the address dialled.
	let server_name = ServerName::try_from(bare_host.to_owned())
		.map_err(|e| unreachable_err(uri, format!("bad TLS server name `{bare_host}`: {e}")))?;
	let connector = hyper_rustls::HttpsConnectorBuilder::new()
		.with_provider_and_native_roots(rustls::crypto::ring::default_provider())
		.map_err(|e| unreachable_err(uri, format!("no TLS root certificates: {e}")))?
		.https_or_http()
		.with_server_name_resolver(FixedServerNameResolver::new(server_name))
		.enable_http1()
		.build();
	let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build(connector);
	let host_header = HeaderValue::from_str(&match target.port() {
		Some(p) => format!("{host}:{p}"),
		None => host.to_owned(),
	})
	.map_err(|_| Error::UnsupportedUri(target.to_string()))?;
	let path = target.path_and_query().map_or("/", |p| p.as_str());

	let mut last_error = String::new();
	for addr in addrs {
		let dial = Uri::builder()
			.scheme(target.scheme_str().unwrap_or("http"))
			.authority(addr.to_string())
			.path_and_query(path)
			.build()
			.map_err(|_| Error::UnsupportedUri(target.to_string()))?;
		let request = Request::get(dial)
			.header(header::HOST, host_header.clone())
			.body(Empty::new())
			.map_err(|_| Error::UnsupportedUri(target.to_string()))?;
		match client.request(request).await {
			Ok(response) => return Ok(response),
			Err(e) if e.is_connect() => last_error = format!("{addr}: {e}"),
			Err(e) => return Err(unreachable_err(uri, e.to_string())),
		}
	}
	Err(unreachable_err(uri, last_error))
}

/// Whether `ip` is a public unicast address: not loopback, private, shared (CGNAT), link-local,
/// unspecified, multicast, broadcast, reserved, benchmarking or documentation space; IPv6 only
/// in global unicast `2000::/3` outside its special ranges, IPv4-mapped and NAT64 addresses
/// judged by the IPv4 address inside.
pub(crate) fn is_public(ip: IpAddr) -> bool {
	match ip {
		IpAddr::V4(v4) => is_public_v4(v4),
		IpAddr::V6(v6) => is_public_v6(v6),
	}
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
	let [a, b, c, _] = ip.octets();
	!matches!(
		(a, b, c),
		(0, _, _) // "this network", 0.0.0.0
			| (10, _, _) // private
			| (100, 64..=127, _) // shared address space (CGNAT)
			| (127, _, _) // loopback
			| (169, 254, _) // link-local (cloud metadata services)
			| (172, 16..=31, _) // private
			| (192, 0, 0) // IETF protocol assignments
			| (192, 0, 2) // documentation (TEST-NET-1)
			| (192, 88, 99) // 6to4 relay anycast
			| (192, 168, _) // private
			| (198, 18..=19, _) // benchmarking
			| (198, 51, 100) // documentation (TEST-NET-2)
			| (203, 0, 113) // documentation (TEST-NET-3)
			| (224..=255, _, _) // multicast, reserved, broadcast
	)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
	let s = ip.segments();
	if let Some(v4) = ip.to_ipv4_mapped() {
		return is_public_v4(v4);
	}
	// NAT64 well-known prefix 64:ff9b::/96: the IPv4 address it reaches.
	if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
		return is_public_v4(Ipv4Addr::new(
			(s[6] >> 8) as u8,
			s[6] as u8,
			(s[7] >> 8) as u8,
			s[7] as u8,
		));
	}
	// Global unicast only: this leaves out ::, ::1, IPv4-compatible, discard 100::/64,
	// ULA fc00::/7, link-local fe80::/10, site-local fec0::/10 and multicast ff00::/8.
	if s[0] & 0xe000 != 0x2000 {
		return false;
	}
	!(
		// IETF protocol assignments 2001::/23 (Teredo, ORCHID, benchmarking...)
		(s[0] == 0x2001 && s[1] < 0x200)
			// documentation 2001:db8::/32 and 3fff::/20
			|| (s[0] == 0x2001 && s[1] == 0xdb8)
			|| (s[0] & 0xfff0) == 0x3ff0
			// 6to4 2002::/16: an IPv4 address behind a relay
			|| s[0] == 0x2002
	)
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

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn only_public_addresses_are_public() {
		let table: &[(&str, bool)] = &[
			// IPv4 public
			("1.1.1.1", true),
			("8.8.8.8", true),
			("93.184.215.14", true),
			("100.63.255.255", true),
			("100.128.0.0", true),
			("172.15.255.255", true),
			("172.32.0.0", true),
			("192.167.255.255", true),
			("198.20.0.1", true),
			("223.255.255.255", true),
			// IPv4 not public
			("0.0.0.0", false),
			("0.1.2.3", false),
			("10.0.0.1", false),
			("10.255.255.255", false),
			("100.64.0.1", false),
			("100.127.255.255", false),
			("127.0.0.1", false),
			("127.255.255.254", false),
			("169.254.169.254", false),
			("172.16.0.1", false),
			("172.31.255.255", false),
			("192.0.0.8", false),
			("192.0.2.1", false),
			("192.88.99.1", false),
			("192.168.1.1", false),
			("198.18.0.1", false),
			("198.19.255.255", false),
			("198.51.100.7", false),
			("203.0.113.9", false),
			("224.0.0.1", false),
			("239.255.255.250", false),
			("240.0.0.1", false),
			("255.255.255.255", false),
			// IPv6 public
			("2606:4700:4700::1111", true),
			("2001:4860:4860::8888", true),
			("2a00:1450:4001::1", true),
			("::ffff:8.8.8.8", true),
			("64:ff9b::808:808", true),
			// IPv6 not public
			("::", false),
			("::1", false),
			("::127.0.0.1", false),
			("::ffff:127.0.0.1", false),
			("::ffff:10.0.0.1", false),
			("::ffff:169.254.169.254", false),
			("64:ff9b::a00:1", false),
			("64:ff9b:1::1", false),
			("100::1", false),
			("fc00::1", false),
			("fd12:3456::1", false),
			("fe80::1", false),
			("fec0::1", false),
			("ff02::1", false),
			("2001::1", false),
			("2001:db8::1", false),
			("3fff::1", false),
			("2002:a00:1::1", false),
		];
		for (text, public) in table {
			let ip: IpAddr = text.parse().expect(text);
			assert_eq!(is_public(ip), *public, "{text}");
		}
	}
}
