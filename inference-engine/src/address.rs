//! Which addresses a node may fetch models from. A model's URIs are chosen by whoever registers it,
//! so without this check every validator would fetch from its own loopback, private network or
//! cloud metadata service (169.254.169.254) on a stranger's behalf, and its attestation would tell
//! the world what it found there. Only globally routable addresses are fetched from, after name
//! resolution and for literal addresses alike, unless the node runs with
//! `--allow-private-model-uris` (for test networks on one machine).

use std::{
	future::Future,
	net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
	pin::Pin,
	task::{Context, Poll},
};

use hyper_util::client::legacy::connect::dns::{GaiResolver, Name};

/// Whether `address` is globally routable: not loopback, private, link-local, shared (CGNAT),
/// documentation, benchmarking, multicast, reserved or unspecified.
pub fn is_public(address: IpAddr) -> bool {
	match address {
		IpAddr::V4(v4) => is_public_v4(v4),
		IpAddr::V6(v6) => is_public_v6(v6),
	}
}

fn is_public_v4(address: Ipv4Addr) -> bool {
	let [a, b, c, _] = address.octets();
	!(address.is_unspecified()
		|| address.is_loopback()
		|| address.is_private()
		|| address.is_link_local()
		|| address.is_broadcast()
		|| address.is_documentation()
		|| address.is_multicast()
		|| a == 0
		|| (a == 100 && (64..128).contains(&b))
		|| (a == 192 && b == 0 && c == 0)
		|| (a == 198 && (18..20).contains(&b))
		|| a >= 240)
}

fn is_public_v6(address: Ipv6Addr) -> bool {
	if let Some(v4) = address.to_ipv4_mapped() {
		return is_public_v4(v4);
	}
	let first = address.segments()[0];
	!(address.is_unspecified()
		|| address.is_loopback()
		|| address.is_multicast()
		|| (first & 0xfe00) == 0xfc00
		|| (first & 0xffc0) == 0xfe80
		|| (first == 0x2001 && address.segments()[1] == 0x0db8))
}

/// Resolves names as the system does, then keeps only the public addresses (all of them when
/// private ones are allowed); a name with none left is an error. The connection then goes to an
/// address this checked, so a name cannot resolve to a public address for the check and a private
/// one for the connection.
#[derive(Clone)]
pub struct PublicOnly {
	inner: GaiResolver,
	allow_private: bool,
}

impl PublicOnly {
	pub fn new(allow_private: bool) -> Self {
		Self { inner: GaiResolver::new(), allow_private }
	}
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl tower_service::Service<Name> for PublicOnly {
	type Response = std::vec::IntoIter<SocketAddr>;
	type Error = BoxError;
	type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

	fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
		self.inner.poll_ready(cx).map_err(Into::into)
	}

	fn call(&mut self, name: Name) -> Self::Future {
		let resolving = self.inner.call(name.clone());
		let allow_private = self.allow_private;
		Box::pin(async move {
			let addresses: Vec<SocketAddr> = resolving
				.await?
				.filter(|address| allow_private || is_public(address.ip()))
				.collect();
			if addresses.is_empty() {
				return Err(format!("{name} resolves to no public address").into());
			}
			Ok(addresses.into_iter())
		})
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn only_globally_routable_addresses_are_public() {
		for private in [
			"127.0.0.1",
			"10.1.2.3",
			"172.16.0.1",
			"192.168.1.1",
			"169.254.169.254",
			"100.64.0.1",
			"0.0.0.0",
			"255.255.255.255",
			"224.0.0.1",
			"198.18.0.1",
			"::1",
			"::",
			"fd00::1",
			"fe80::1",
			"::ffff:127.0.0.1",
			"::ffff:169.254.169.254",
			"2001:db8::1",
		] {
			assert!(!is_public(private.parse().unwrap()), "{private}");
		}
		for public in ["1.1.1.1", "93.184.216.34", "2606:4700::1111", "::ffff:8.8.8.8"] {
			assert!(is_public(public.parse().unwrap()), "{public}");
		}
	}
}
