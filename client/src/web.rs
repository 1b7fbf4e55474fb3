//! `gateless web`: the marketplace page (`web/`, built into `web/dist` and embedded in this binary
//! when it is compiled), served over HTTP on a local port. The page reads the node to talk to from
//! `/config.json`, which names this client's `--url`; it then talks to the node directly over
//! WebSocket (the node accepts pages served from `localhost` and `127.0.0.1` by default; other
//! origins need the node's `--rpc-cors`).

use std::{convert::Infallible, net::SocketAddr};

use anyhow::{bail, Context, Result};
use http_body_util::Full;
use hyper::{
	body::{Bytes, Incoming},
	header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE},
	server::conn::http1,
	service::service_fn,
	Method, Request, Response, StatusCode,
};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

mod assets {
	include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));
}

/// Serves the page on `listen` until the process is stopped, pointing it at `node_url`.
pub async fn serve(listen: SocketAddr, node_url: &str) -> Result<()> {
	if asset("index.html").is_none() {
		bail!("this `gateless` was built without the web page: run `npm ci && npm run build` in web/ and rebuild it");
	}
	let listener = TcpListener::bind(listen)
		.await
		.with_context(|| format!("cannot listen on {listen}"))?;
	let address = listener.local_addr()?;
	let config = Bytes::from(serde_json::to_vec(&serde_json::json!({ "rpc": node_url }))?);
	// One line a script can read the address from.
	println!("the Gateless marketplace: http://{address}/ (node {node_url}); Ctrl-C stops it");
	loop {
		let (stream, _) = listener.accept().await.context("accepting a connection")?;
		let config = config.clone();
		tokio::spawn(async move {
			let service = service_fn(move |request: Request<Incoming>| {
				let response = respond(request.method(), request.uri().path(), &config);
				async move { Ok::<_, Infallible>(response) }
			});
			// A client that drops its connection ends only that connection.
			let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
		});
	}
}

/// The answer to `method path`: `/config.json`, the page's files (`/` is `index.html`), or an error.
fn respond(method: &Method, path: &str, config: &Bytes) -> Response<Full<Bytes>> {
	if method != Method::GET && method != Method::HEAD {
		return status(StatusCode::METHOD_NOT_ALLOWED);
	}
	let (body, content_type, cache) = match path {
		"/config.json" => (config.clone(), "application/json", "no-store"),
		"/" | "/index.html" => match asset("index.html") {
			Some(bytes) => (Bytes::from_static(bytes), "text/html; charset=utf-8", "no-cache"),
			None => return status(StatusCode::NOT_FOUND),
		},
		other => match asset(other.trim_start_matches('/')) {
			// Vite names assets by their content hash: they never change under one name.
			Some(bytes) => {
				(Bytes::from_static(bytes), content_type_of(other), "max-age=31536000, immutable")
			},
			None => return status(StatusCode::NOT_FOUND),
		},
	};
	let mut response =
		Response::new(if method == Method::HEAD { Full::default() } else { Full::new(body) });
	let headers = response.headers_mut();
	headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
	headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
	response
}

fn status(code: StatusCode) -> Response<Full<Bytes>> {
	let mut response = Response::new(Full::new(Bytes::from(code.to_string())));
	*response.status_mut() = code;
	response
}

/// The embedded file at `path` (relative to `web/dist`).
fn asset(path: &str) -> Option<&'static [u8]> {
	assets::ASSETS.iter().find(|(name, _)| *name == path).map(|(_, bytes)| *bytes)
}

fn content_type_of(path: &str) -> &'static str {
	match path.rsplit_once('.').map(|(_, extension)| extension) {
		Some("js") => "text/javascript; charset=utf-8",
		Some("css") => "text/css; charset=utf-8",
		Some("json") => "application/json",
		Some("svg") => "image/svg+xml",
		Some("png") => "image/png",
		Some("wasm") => "application/wasm",
		Some("html") => "text/html; charset=utf-8",
		_ => "application/octet-stream",
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_page_its_assets_and_the_config_are_served_and_nothing_else() {
		let config = Bytes::from_static(br#"{"rpc":"ws://127.0.0.1:9944"}"#);
		let index = respond(&Method::GET, "/", &config);
		assert_eq!(index.status(), StatusCode::OK);
		assert_eq!(index.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
		let script = assets::ASSETS
			.iter()
			.map(|(name, _)| *name)
			.find(|name| name.ends_with(".js"))
			.expect("the built page has a script");
		let served = respond(&Method::GET, &format!("/{script}"), &config);
		assert_eq!(served.headers()[CONTENT_TYPE], "text/javascript; charset=utf-8");
		assert_eq!(respond(&Method::GET, "/config.json", &config).status(), StatusCode::OK);
		assert_eq!(
			respond(&Method::GET, "/../Cargo.toml", &config).status(),
			StatusCode::NOT_FOUND
		);
		assert_eq!(respond(&Method::POST, "/", &config).status(), StatusCode::METHOD_NOT_ALLOWED);
	}
}
