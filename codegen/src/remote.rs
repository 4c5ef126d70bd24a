//! Fetching of remote (`http`/`https`) documents that `$ref`s name, for [`crate::bundle`].
//! Compiled only with the `remote-refs` feature (which the CLI enables and the proc macro does
//! not), and used only when the [`RefPolicy`](crate::bundle::RefPolicy) allows remote
//! references.
//!
//! A document is untrusted, so what it can make the generator fetch is narrow:
//!
//! - only `https`, and only hosts whose every address is public: a name that resolves to a
//!   loopback, private, link-local (cloud metadata at `169.254.169.254`), shared (CGNAT),
//!   multicast or otherwise reserved address is refused, IPv4-mapped and other IPv6 forms of
//!   those included. Hosts listed in the policy's `allowed_hosts` are exempt (an internal spec
//!   server, a test server), and may use plain `http`;
//! - the connection goes to exactly the addresses that were checked: each host is resolved
//!   once per run, by this module, and the HTTP client's resolver only hands out those
//!   addresses, so a second DNS answer (DNS rebinding) cannot change where it connects. No
//!   proxy from the environment is used, since a proxy would resolve the name itself;
//! - redirects are followed here, at most [`MAX_REDIRECTS`], and only to the same scheme,
//!   host and port;
//! - each document takes at most [`TIMEOUT`] (redirects and body included), all of a run's
//!   fetches at most [`TOTAL_TIMEOUT`], and all of a run's bodies at most
//!   [`MAX_TOTAL_BYTES`] together (each one also no larger than a local file may be,
//!   [`load::MAX_DOCUMENT_BYTES`](crate::load::MAX_DOCUMENT_BYTES)).
//!
//! Only `http` and `https` URLs are fetched, so a remote document can never make the
//! generator read a local file.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};
use url::{Host, Url};

use crate::load::MAX_DOCUMENT_BYTES;

/// Time one document may take, redirects and body included.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Time all the fetches of one run may take together.
pub const TOTAL_TIMEOUT: Duration = Duration::from_secs(60);
/// Redirects followed for one document.
pub const MAX_REDIRECTS: u32 = 5;
/// Bytes all the documents fetched in one run may have together.
pub const MAX_TOTAL_BYTES: u64 = 64 * 1024 * 1024;

/// A fetched document's text and the URL it was finally read from (after redirects), which
/// relative references inside it resolve against.
pub(crate) struct Fetched {
    pub text: String,
    pub final_url: String,
}

/// Addresses checked for each (host, port): the only ones the HTTP client may connect to.
type Pins = Arc<Mutex<HashMap<(String, u16), Vec<SocketAddr>>>>;

/// One HTTP agent and one budget for a whole bundling run.
pub(crate) struct Fetcher {
    agent: ureq::Agent,
    pins: Pins,
    /// Hosts exempt from the address and scheme checks, normalised by [`normalise_host`].
    allowed_hosts: Vec<String>,
    bytes_left: u64,
    deadline: Instant,
}

impl Fetcher {
    /// A fetcher for one run; `allowed_hosts` are exempt from the address and scheme checks.
    pub fn new(allowed_hosts: &[String]) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(TIMEOUT))
            // Redirects are followed by `fetch`, which checks where each one leads.
            .max_redirects(0)
            .http_status_as_error(false)
            // A proxy would resolve host names itself, past the address checks.
            .proxy(None)
            .user_agent(concat!("mcpgen/", env!("CARGO_PKG_VERSION")))
            .build();
        let pins = Pins::default();
        let agent = ureq::Agent::with_parts(
            config,
            DefaultConnector::new(),
            PinnedResolver(Arc::clone(&pins)),
        );
        Fetcher {
            agent,
            pins,
            allowed_hosts: allowed_hosts.iter().map(|h| normalise_host(h)).collect(),
            bytes_left: MAX_TOTAL_BYTES,
            deadline: Instant::now() + TOTAL_TIMEOUT,
        }
    }

    /// GETs `url` (http or https, checked by the caller); `Err` says what went wrong and, where
    /// a setting would allow it, which.
    pub fn fetch(&mut self, url: &str) -> Result<Fetched, String> {
        let deadline = self.deadline.min(Instant::now() + TIMEOUT);
        let mut current =
            Url::parse(url).map_err(|e| format!("`{url}` is not a valid URL: {e}"))?;
        current.set_fragment(None);
        let mut redirects = 0;
        loop {
            self.admit(&current, deadline)?;
            let remaining = time_left(deadline)?;
            let mut response = self
                .agent
                .get(current.as_str())
                .config()
                .timeout_global(Some(remaining))
                .build()
                .call()
                .map_err(describe)?;
            let status = response.status();
            if matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
                if redirects == MAX_REDIRECTS {
                    return Err(format!("more than {MAX_REDIRECTS} redirects"));
                }
                redirects += 1;
                current = redirect_target(&current, &response)?;
                continue;
            }
            if !status.is_success() {
                return Err(format!("the server answered HTTP {status}"));
            }
            let limit = MAX_DOCUMENT_BYTES.min(self.bytes_left);
            let text = response
                .body_mut()
                .with_config()
                .limit(limit)
                .read_to_string()
                .map_err(|e| match e {
                    ureq::Error::BodyExceedsLimit(_) if limit < MAX_DOCUMENT_BYTES => format!(
                        "the remote documents of this run are larger than {MAX_TOTAL_BYTES} \
                         bytes together, so no more are fetched; download them next to the \
                         document and refer to them by relative paths"
                    ),
                    other => describe(other),
                })?;
            self.bytes_left = self.bytes_left.saturating_sub(text.len() as u64);
            return Ok(Fetched {
                text,
                final_url: current.into(),
            });
        }
    }

    /// Checks that `url` may be fetched (its scheme, and every address its host resolves to)
    /// and pins its host to the addresses checked.
    fn admit(&self, url: &Url, deadline: Instant) -> Result<(), String> {
        check_scheme(url)?;
        let (Some(host), Some(host_text), Some(port)) =
            (url.host(), url.host_str(), url.port_or_known_default())
        else {
            return Err(format!("{url} has no host"));
        };
        let key = (normalise_host(host_text), port);
        let listed = self.allowed_hosts.contains(&key.0);
        if url.scheme() == "http" && !listed {
            return Err(format!(
                "{url} is plain http, which anyone on the way can read and change; only https \
                 documents are fetched, except from hosts allowed with \
                 `--allow-remote-host {host_text}`"
            ));
        }
        let mut pins = self.pins.lock().unwrap_or_else(PoisonError::into_inner);
        if pins.contains_key(&key) {
            return Ok(());
        }
        let addresses = match host {
            Host::Ipv4(ip) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
            Host::Ipv6(ip) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
            Host::Domain(name) => resolve(name, port, deadline)?,
        };
        if !listed {
            for address in &addresses {
                if let Some(why) = non_public(address.ip()) {
                    return Err(format!(
                        "{host_text} resolves to {}, {why}; documents are fetched only from \
                         public addresses, so that a document cannot make the generator reach \
                         internal services (such as a cloud metadata endpoint). If {host_text} \
                         is a spec server you trust, allow it with \
                         `--allow-remote-host {host_text}`",
                        address.ip()
                    ));
                }
            }
        }
        pins.insert(key, addresses);
        Ok(())
    }
}

/// Where a redirect answer sends the request: only to the same scheme, host and port, since a
/// document that may be fetched from one server must not lead the generator to another.
fn redirect_target(
    current: &Url,
    response: &ureq::http::Response<ureq::Body>,
) -> Result<Url, String> {
    let status = response.status();
    let location = response
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .ok_or_else(|| format!("the server answered HTTP {status} without a usable Location"))?;
    let mut next = current
        .join(location)
        .map_err(|e| format!("the server redirected to `{location}`, which is not a URL: {e}"))?;
    next.set_fragment(None);
    let origin = |u: &Url| {
        (
            u.scheme().to_owned(),
            u.host_str().map(normalise_host),
            u.port_or_known_default(),
        )
    };
    if origin(&next) != origin(current) {
        return Err(format!(
            "the server redirected to {next}, which is not on {}; redirects are followed only \
             to the same scheme, host and port. Refer to the document where it really is",
            current.origin().ascii_serialization()
        ));
    }
    Ok(next)
}

fn time_left(deadline: Instant) -> Result<Duration, String> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(timed_out());
    }
    Ok(left)
}

fn timed_out() -> String {
    format!(
        "no complete answer in time (each document may take {} seconds, all of them together {})",
        TIMEOUT.as_secs(),
        TOTAL_TIMEOUT.as_secs()
    )
}

/// The addresses of `name`, resolved within `deadline`. The system resolver cannot be given a
/// timeout, so it runs on a thread of its own that is left behind if it does not answer.
fn resolve(name: &str, port: u16, deadline: Instant) -> Result<Vec<SocketAddr>, String> {
    let remaining = time_left(deadline)?;
    let (sender, receiver) = std::sync::mpsc::channel();
    let owned = name.to_owned();
    std::thread::spawn(move || {
        let _ = sender.send((owned.as_str(), port).to_socket_addrs().map(Vec::from_iter));
    });
    match receiver.recv_timeout(remaining) {
        Ok(Ok(addresses)) if !addresses.is_empty() => Ok(addresses),
        Ok(Ok(_)) => Err(format!("{name} has no address")),
        Ok(Err(e)) => Err(format!("cannot resolve {name}: {e}")),
        Err(_) => Err(timed_out()),
    }
}

/// A host as written in a URL or a setting, in one form for comparing: lowercase, without the
/// brackets of an IPv6 literal and without a final dot.
fn normalise_host(host: &str) -> String {
    let host = host.trim();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase()
}

/// Hands the HTTP client the addresses [`Fetcher::admit`] checked, and nothing else: a host
/// that was not checked has no address.
#[derive(Debug)]
struct PinnedResolver(Pins);

impl Resolver for PinnedResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        _config: &ureq::config::Config,
        _timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().map(normalise_host);
        let port = uri.port_u16().or_else(|| match uri.scheme_str() {
            Some("https") => Some(443),
            Some("http") => Some(80),
            _ => None,
        });
        let (Some(host), Some(port)) = (host, port) else {
            return Err(ureq::Error::HostNotFound);
        };
        let pins = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let addresses = pins.get(&(host, port)).ok_or(ureq::Error::HostNotFound)?;
        let mut out = self.empty();
        for address in addresses {
            // The client keeps a fixed number of addresses; the rest are not needed.
            if out.try_push(*address).is_err() {
                break;
            }
        }
        Ok(out)
    }
}

/// Why `ip` is not a public unicast address, or `None` when it is.
pub(crate) fn non_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => non_public_v6(v6),
    }
}

fn non_public_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip.is_unspecified() => "the unspecified address",
        (0, _, _) => "a \"this network\" address (0.0.0.0/8)",
        (127, _, _) => "a loopback address",
        (10, _, _) => "a private address (10.0.0.0/8)",
        (172, 16..=31, _) => "a private address (172.16.0.0/12)",
        (192, 168, _) => "a private address (192.168.0.0/16)",
        (169, 254, _) => {
            "a link-local address (169.254.0.0/16, where cloud metadata services answer)"
        }
        (100, 64..=127, _) => "a shared address (100.64.0.0/10, carrier-grade NAT)",
        (192, 0, 0) => "an IETF protocol address (192.0.0.0/24)",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a documentation address",
        (192, 88, 99) => "a 6to4 relay address (192.88.99.0/24)",
        (198, 18..=19, _) => "a benchmarking address (198.18.0.0/15)",
        (224..=239, _, _) => "a multicast address",
        _ if ip.is_broadcast() => "the broadcast address",
        (240..=255, _, _) => "a reserved address (240.0.0.0/4)",
        _ => return None,
    })
}

fn non_public_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let segments = ip.segments();
    // Forms that carry an IPv4 address are judged by it.
    let embedded = |high: u16, low: u16| {
        let [h1, h2] = high.to_be_bytes();
        let [l1, l2] = low.to_be_bytes();
        Ipv4Addr::new(h1, h2, l1, l2)
    };
    if ip.is_unspecified() {
        return Some("the unspecified address");
    }
    if ip.is_loopback() {
        return Some("a loopback address");
    }
    match segments {
        // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d).
        [0, 0, 0, 0, 0, 0xffff, high, low] | [0, 0, 0, 0, 0, 0, high, low] => {
            return non_public_v4(embedded(high, low));
        }
        // NAT64 (64:ff9b::a.b.c.d) reaches the IPv4 address through a gateway.
        [0x64, 0xff9b, 0, 0, 0, 0, high, low] => return non_public_v4(embedded(high, low)),
        // 6to4 (2002:aabb:ccdd::) routes to the IPv4 address it embeds.
        [0x2002, high, low, ..] => return non_public_v4(embedded(high, low)),
        _ => {}
    }
    Some(match segments[0] {
        0x64 if segments[1] == 0xff9b => "a local-use NAT64 address (64:ff9b:1::/48)",
        0x100 if segments[1..4] == [0, 0, 0] => "a discard address (100::/64)",
        0x2001 if segments[1] < 0x200 => "an IETF protocol address (2001::/23, Teredo included)",
        0x2001 if segments[1] == 0xdb8 => "a documentation address (2001:db8::/32)",
        0x3fff if segments[1] < 0x1000 => "a documentation address (3fff::/20)",
        s if s & 0xfe00 == 0xfc00 => "a unique local (private) address (fc00::/7)",
        s if s & 0xffc0 == 0xfe80 => "a link-local address (fe80::/10)",
        s if s & 0xffc0 == 0xfec0 => "a site-local address (fec0::/10)",
        s if s & 0xff00 == 0xff00 => "a multicast address",
        // Everything else that is not global unicast (2000::/3) is reserved or unassigned.
        s if s & 0xe000 != 0x2000 => "a reserved address (outside 2000::/3)",
        _ => return None,
    })
}

fn describe(error: ureq::Error) -> String {
    match error {
        ureq::Error::Timeout(_) => timed_out(),
        ureq::Error::BodyExceedsLimit(_) => format!(
            "the document is too large: documents over {MAX_DOCUMENT_BYTES} bytes are refused"
        ),
        ureq::Error::StatusCode(code) => format!("the server answered HTTP {code}"),
        other => format!("the request failed: {other}"),
    }
}

/// `reference` (without its fragment) resolved against `base` (an absolute URL), as RFC 3986
/// says. `Err` when the result is not an `http`/`https` URL.
pub(crate) fn join(base: &str, reference: &str) -> Result<String, String> {
    let base = Url::parse(base).map_err(|e| format!("`{base}` is not a valid URL: {e}"))?;
    let mut joined = base
        .join(reference)
        .map_err(|e| format!("cannot be resolved against {base}: {e}"))?;
    joined.set_fragment(None);
    check_scheme(&joined)?;
    Ok(joined.into())
}

/// `reference` (without its fragment) parsed as an absolute URL.
pub(crate) fn parse(reference: &str) -> Result<String, String> {
    let mut url = Url::parse(reference).map_err(|e| format!("is not a valid URL: {e}"))?;
    url.set_fragment(None);
    check_scheme(&url)?;
    Ok(url.into())
}

fn check_scheme(url: &Url) -> Result<(), String> {
    match url.scheme() {
        "http" | "https" if url.host().is_some() => Ok(()),
        "http" | "https" => Err(format!("{url} has no host")),
        other => Err(format!(
            "resolves to {url}; only http and https documents are fetched, never `{other}:`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_references_stay_in_url_space() {
        let base = "http://h/schemas/pet.yaml";
        assert_eq!(
            join(base, "common.yaml").unwrap(),
            "http://h/schemas/common.yaml"
        );
        assert_eq!(
            join(base, "../../../../etc/passwd").unwrap(),
            "http://h/etc/passwd"
        );
        assert_eq!(join(base, "//other/x.json").unwrap(), "http://other/x.json");
        assert!(join(base, "file:///etc/passwd").is_err());
        assert!(parse("file:///etc/passwd").is_err());
        assert!(parse("ftp://h/x").is_err());
        assert_eq!(parse("https://h/a.json").unwrap(), "https://h/a.json");
    }

    #[test]
    fn internal_addresses_are_not_public() {
        let refused = [
            "0.0.0.0",
            "0.1.2.3",
            "127.0.0.1",
            "127.255.0.9",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.100.100.200",
            "192.0.0.170",
            "192.0.2.1",
            "198.18.0.1",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::1",
            "2002:7f00:1::",
            "2002:a9fe:a9fe::1",
            "2001::1",
            "2001:db8::1",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "100::1",
            "::2",
        ];
        for ip in refused {
            let parsed: IpAddr = ip.parse().unwrap();
            assert!(non_public(parsed).is_some(), "{ip} must be refused");
        }
        let public = [
            "1.1.1.1",
            "8.8.8.8",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "169.253.1.1",
            "192.169.0.1",
            "2606:4700:4700::1111",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ];
        for ip in public {
            let parsed: IpAddr = ip.parse().unwrap();
            assert_eq!(non_public(parsed), None, "{ip} is public");
        }
    }

    #[test]
    fn the_client_only_connects_to_checked_addresses() {
        let fetcher = Fetcher::new(&[]);
        let resolver = PinnedResolver(Arc::clone(&fetcher.pins));
        let timeout = NextTimeout {
            after: Duration::from_secs(1).into(),
            reason: ureq::Timeout::Global,
            per_read: None,
            per_write: None,
        };
        let config = ureq::config::Config::default();
        let uri: ureq::http::Uri = "https://93.184.215.14/a.yaml".parse().unwrap();
        // Nothing was checked yet: the client gets no address at all, and never asks DNS.
        assert!(matches!(
            resolver.resolve(&uri, &config, timeout),
            Err(ureq::Error::HostNotFound)
        ));
        let url = Url::parse("https://93.184.215.14/a.yaml").unwrap();
        let deadline = Instant::now() + TIMEOUT;
        fetcher.admit(&url, deadline).unwrap();
        let addresses = resolver.resolve(&uri, &config, timeout).unwrap();
        assert_eq!(
            addresses.to_vec(),
            ["93.184.215.14:443".parse::<SocketAddr>().unwrap()]
        );
        // A refused host is never pinned.
        let internal = Url::parse("https://10.0.0.1/a.yaml").unwrap();
        assert!(fetcher.admit(&internal, deadline).is_err());
        let uri: ureq::http::Uri = "https://10.0.0.1/a.yaml".parse().unwrap();
        assert!(resolver.resolve(&uri, &config, timeout).is_err());
    }

    #[test]
    fn hosts_compare_without_case_brackets_or_final_dot() {
        assert_eq!(normalise_host("[::1]"), "::1");
        assert_eq!(normalise_host("Specs.Example.COM."), "specs.example.com");
        assert_eq!(normalise_host("127.0.0.1"), "127.0.0.1");
    }
}
