//! Who is calling over HTTP: how the MCP endpoint authenticates its callers (static bearer
//! tokens, OAuth access tokens, or nobody), decided once before the server listens; the
//! refusal to serve a non-loopback address to anybody at all; the static token check; the
//! HTTP 429 for addresses that keep failing authentication; and CORS for the browser origins
//! the operator allows.
//!
//! Over stdio there is one caller, the process that started the server: nothing here applies.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::response::IntoResponse;

use super::config::{ConfigError, ServeArgs};
use super::credentials::Secret;
use super::descriptor::{ApiDescriptor, ParamLocation, SecurityKind};
use super::rate_limit::retry_after_secs;
use super::server::GeneratedServer;

/// How the MCP endpoint authenticates its callers.
#[derive(Debug, Clone)]
pub enum InboundAuth {
    /// Anybody who reaches the port may call: the address is loopback, or the operator said
    /// so with `--allow-unauthenticated`.
    Open {
        /// The operator allowed it explicitly (and is warned at every start).
        allowed_explicitly: bool,
    },
    /// `Authorization: Bearer <one of these tokens>` (`--mcp-token`, `<PREFIX>_MCP_TOKEN`).
    StaticTokens(Arc<StaticTokens>),
    /// OAuth 2.1 access tokens of the authorization server `--oauth-issuer` names.
    OAuth,
}

impl InboundAuth {
    /// Chooses how callers are authenticated from the options, or refuses to serve: a
    /// non-loopback address (`0.0.0.0` included) with no authentication at all would let
    /// anybody who reaches the port call the API with the server's credentials, unless the
    /// operator says that something in front of the server authenticates callers.
    pub fn from_args(args: &ServeArgs) -> Result<InboundAuth, ConfigError> {
        let tokens = StaticTokens::new(&args.mcp_tokens)?;
        let auth = match (tokens, &args.oauth_issuer) {
            (Some(_), Some(issuer)) => {
                return Err(ConfigError::InvalidOAuthSetting {
                    option: "--oauth-issuer",
                    value: issuer.clone(),
                    problem: "and --mcp-token (or <PREFIX>_MCP_TOKEN) are two ways to \
                              authenticate callers; choose one",
                });
            }
            (Some(tokens), None) => InboundAuth::StaticTokens(Arc::new(tokens)),
            (None, Some(_)) => InboundAuth::OAuth,
            (None, None) if args.allow_unauthenticated => InboundAuth::Open {
                allowed_explicitly: true,
            },
            (None, None) if is_loopback(args.bind) => InboundAuth::Open {
                allowed_explicitly: false,
            },
            (None, None) => {
                return Err(ConfigError::Unauthenticated {
                    address: args.bind,
                    token_variable: token_variable(&args.env_prefix),
                });
            }
        };
        Ok(auth)
    }

    /// The line printed on stderr at every start when the operator chose to serve without
    /// authentication, for the MCP endpoint at `endpoint` (its URL).
    pub fn warning(&self, endpoint: &str) -> Option<String> {
        match self {
            InboundAuth::Open {
                allowed_explicitly: true,
            } => Some(format!(
                "warning: --allow-unauthenticated: {endpoint} accepts MCP requests from \
                 anybody who can reach it, and they call the API with this server's upstream \
                 credentials"
            )),
            _ => None,
        }
    }

    /// The static tokens to check, in that mode.
    pub fn static_tokens(&self) -> Option<Arc<StaticTokens>> {
        match self {
            InboundAuth::StaticTokens(tokens) => Some(tokens.clone()),
            _ => None,
        }
    }
}

/// `<PREFIX>_MCP_TOKEN`, or a placeholder when the prefix is not known (a program that built
/// its options without [`ServeArgs::fill_from_env`]).
fn token_variable(prefix: &str) -> String {
    if prefix.is_empty() {
        "<PREFIX>_MCP_TOKEN".to_owned()
    } else {
        format!("{prefix}_MCP_TOKEN")
    }
}

/// Whether only this machine can connect to `bind`: `127.0.0.0/8` or `::1` (an IPv4-mapped
/// loopback address too). The unspecified addresses `0.0.0.0` and `::` listen on every
/// interface, so they are not.
pub fn is_loopback(bind: SocketAddr) -> bool {
    bind.ip().to_canonical().is_loopback()
}

/// The bearer tokens the MCP endpoint accepts.
pub struct StaticTokens {
    tokens: Vec<Secret>,
}

impl std::fmt::Debug for StaticTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StaticTokens({} tokens)", self.tokens.len())
    }
}

impl StaticTokens {
    /// The tokens given, or `None` when there are none. A token that no request could present
    /// (empty, or with a character outside visible ASCII, which a bearer token cannot have)
    /// stops the server: an empty one would otherwise admit `Authorization: Bearer ` alone.
    pub fn new(tokens: &[String]) -> Result<Option<StaticTokens>, ConfigError> {
        if tokens.is_empty() {
            return Ok(None);
        }
        for token in tokens {
            if token.is_empty() {
                return Err(ConfigError::UnusableMcpToken {
                    problem: "is empty",
                });
            }
            if !token.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(ConfigError::UnusableMcpToken {
                    problem: "has a character other than visible ASCII (a space, a line break, \
                              a control or non-ASCII character), which a bearer token cannot \
                              have",
                });
            }
        }
        Ok(Some(StaticTokens {
            tokens: tokens.iter().map(|t| Secret::new(t.clone())).collect(),
        }))
    }

    /// Which token `headers` carry as `Authorization: Bearer <token>` (its position among the
    /// tokens given, for the audit log), if any. Every token is compared, each in constant
    /// time, whatever the outcome: the time taken says neither where a guess differs nor which
    /// token matched.
    pub fn matching(&self, headers: &http::HeaderMap) -> Option<usize> {
        let presented = bearer_token(headers)?;
        let matched = self
            .tokens
            .iter()
            .enumerate()
            .fold(None, |matched, (i, token)| {
                // No comparison is skipped once one has matched.
                let equal = constant_time_eq(presented.as_bytes(), token.expose().as_bytes());
                matched.or(equal.then_some(i))
            });
        std::hint::black_box(matched)
    }
}

/// The token of an `Authorization: Bearer <token>` header (the scheme's name in any case).
fn bearer_token(headers: &http::HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let scheme = value.get(..7)?;
    scheme
        .eq_ignore_ascii_case("bearer ")
        .then(|| value[7..].trim())
}

/// Compares without an early exit, so the time taken says nothing about where two values of
/// the same length differ. (Their lengths may show: a token's length is no secret.)
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    std::hint::black_box(a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y))) == 0
}

/// The answer to a request without an acceptable token.
pub fn unauthorized() -> axum::response::Response {
    (
        http::StatusCode::UNAUTHORIZED,
        [(http::header::WWW_AUTHENTICATE, "Bearer")],
        "this MCP endpoint requires `Authorization: Bearer <token>`",
    )
        .into_response()
}

/// The address of the peer a request came from (the accept loop puts it there).
pub fn peer_ip(extensions: &http::Extensions) -> Option<IpAddr> {
    extensions
        .get::<super::audit::PeerAddr>()
        .map(|peer| peer.0.ip())
}

/// How long a request from `peer` that fails authentication must wait for its answer to be a
/// 401 rather than a 429 (`--unauthenticated-rate-limit`); `None` when it need not wait.
pub fn unauthenticated_wait(server: &GeneratedServer, peer: Option<IpAddr>) -> Option<Duration> {
    let wait = server
        .state
        .rate_limiter
        .unauthenticated_wait(peer?, Instant::now());
    (!wait.is_zero()).then_some(wait)
}

/// Counts a request from `peer` that failed authentication; the 429 to answer it with when
/// its address has used up `--unauthenticated-rate-limit`.
pub fn limit_unauthenticated(
    server: &GeneratedServer,
    peer: Option<IpAddr>,
) -> Option<axum::response::Response> {
    let limiter = &server.state.rate_limiter;
    let wait = limiter
        .unauthenticated_failure(peer?, Instant::now())
        .err()?;
    Some(too_many_unauthenticated(server, wait))
}

/// The answer to a request from an address that has failed authentication too often: 429,
/// with `Retry-After`. Counted in `mcp_rate_limited_total{limit="unauthenticated"}`.
pub fn too_many_unauthenticated(
    server: &GeneratedServer,
    wait: Duration,
) -> axum::response::Response {
    server.metrics().rate_limited("unauthenticated");
    let secs = retry_after_secs(wait);
    (
        http::StatusCode::TOO_MANY_REQUESTS,
        [(http::header::RETRY_AFTER, secs.to_string())],
        format!(
            "too many requests without valid credentials from this address; try again in \
             {secs} s"
        ),
    )
        .into_response()
}

/// The methods a browser may use on the MCP endpoint.
const CORS_METHODS: &str = "GET, POST, DELETE, OPTIONS";
/// The request headers always allowed: the credential, the body's type, and MCP's own.
const CORS_HEADERS: [&str; 7] = [
    "authorization",
    "content-type",
    "mcp-protocol-version",
    "mcp-session-id",
    "mcp-method",
    "mcp-name",
    "last-event-id",
];
/// Other request headers a preflight may ask for: ones browsers or tracing libraries add.
const CORS_STANDARD_HEADERS: [&str; 6] = [
    "accept",
    "accept-language",
    "content-language",
    "x-request-id",
    "traceparent",
    "tracestate",
];
/// The response headers a page may read.
const CORS_EXPOSED: &str = "Mcp-Session-Id, WWW-Authenticate, X-Request-Id";
/// How long a browser may reuse a preflight's answer, in seconds.
const CORS_MAX_AGE: &str = "600";

/// CORS for the browser origins named with `--allow-origin`: preflights answered (without a
/// token, which browsers never send on them), and answers to those origins readable by their
/// pages. Other origins get no CORS header at all (and rmcp refuses their requests with 403).
#[derive(Debug)]
pub struct Cors {
    origins: Vec<AllowedOrigin>,
    /// Lower-case names of the API key headers a caller may pass through.
    key_headers: Vec<String>,
}

impl Cors {
    /// CORS for `allowed` origins, or `None` when no origin is allowed. With pass-through on,
    /// the headers of the API's header API keys may be sent too.
    pub fn new(allowed: &[String], api: &ApiDescriptor, passthrough: bool) -> Option<Cors> {
        let origins: Vec<AllowedOrigin> = allowed
            .iter()
            .filter_map(|o| AllowedOrigin::parse(o))
            .collect();
        if origins.is_empty() {
            return None;
        }
        let key_headers = if passthrough {
            api.security_schemes
                .iter()
                .filter_map(|s| match s.kind {
                    SecurityKind::ApiKey(ParamLocation::Header, name) => {
                        Some(name.to_ascii_lowercase())
                    }
                    _ => None,
                })
                .collect()
        } else {
            Vec::new()
        };
        Some(Cors {
            origins,
            key_headers,
        })
    }

    /// The request's `Origin` when it is one of the allowed origins.
    fn allowed_origin<'h>(&self, headers: &'h http::HeaderMap) -> Option<&'h http::HeaderValue> {
        let value = headers.get(http::header::ORIGIN)?;
        let origin = Origin::parse(value.to_str().ok()?)?;
        self.origins
            .iter()
            .any(|allowed| allowed.matches(&origin))
            .then_some(value)
    }

    /// Whether a preflight may ask for the request header `name` (lower case).
    fn allows_header(&self, name: &str) -> bool {
        CORS_HEADERS.contains(&name)
            || CORS_STANDARD_HEADERS.contains(&name)
            || name
                .strip_prefix("mcp-param-")
                .is_some_and(|rest| !rest.is_empty())
            || self.key_headers.iter().any(|k| k == name)
    }

    /// The answer to a preflight from `origin`: the methods, the headers asked for that are
    /// allowed (with MCP's own, always), and how long to keep them.
    fn preflight(
        &self,
        origin: http::HeaderValue,
        asked: &http::HeaderMap,
    ) -> axum::response::Response {
        let mut allowed: Vec<String> = CORS_HEADERS.iter().map(|h| (*h).to_owned()).collect();
        for value in asked.get_all(http::header::ACCESS_CONTROL_REQUEST_HEADERS) {
            let Ok(list) = value.to_str() else { continue };
            for name in list.split(',').map(|n| n.trim().to_ascii_lowercase()) {
                if !name.is_empty() && self.allows_header(&name) && !allowed.contains(&name) {
                    allowed.push(name);
                }
            }
        }
        let mut response = http::StatusCode::NO_CONTENT.into_response();
        let headers = response.headers_mut();
        headers.insert(http::header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            http::header::ACCESS_CONTROL_ALLOW_METHODS,
            http::HeaderValue::from_static(CORS_METHODS),
        );
        if let Ok(value) = http::HeaderValue::from_str(&allowed.join(", ")) {
            headers.insert(http::header::ACCESS_CONTROL_ALLOW_HEADERS, value);
        }
        headers.insert(
            http::header::ACCESS_CONTROL_MAX_AGE,
            http::HeaderValue::from_static(CORS_MAX_AGE),
        );
        headers.insert(
            http::header::VARY,
            http::HeaderValue::from_static(
                "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
            ),
        );
        response
    }
}

/// The CORS middleware of the MCP endpoint (`/mcp`); other routes pass untouched. Layered
/// outside the token check: a preflight never carries the token, and a page must be able to
/// read a 401 and its `WWW-Authenticate`.
pub async fn cors(
    cors: Arc<Cors>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let path = request.uri().path();
    if path != "/mcp" && !path.starts_with("/mcp/") {
        return next.run(request).await;
    }
    let origin = cors.allowed_origin(request.headers()).cloned();
    let preflight = request.method() == http::Method::OPTIONS
        && request
            .headers()
            .contains_key(http::header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        return match origin {
            Some(origin) => cors.preflight(origin, request.headers()),
            // No CORS header: the browser refuses the request it wanted to make.
            None => http::StatusCode::FORBIDDEN.into_response(),
        };
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    // The answer depends on the Origin whenever origins are allowed: caches must know.
    headers.append(http::header::VARY, http::HeaderValue::from_static("Origin"));
    if let Some(origin) = origin {
        headers.insert(http::header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            http::header::ACCESS_CONTROL_EXPOSE_HEADERS,
            http::HeaderValue::from_static(CORS_EXPOSED),
        );
    }
    response
}

/// A browser's `Origin`, as rmcp's origin check reads it: scheme and host in lower case,
/// the port if given; or the opaque `null`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Origin {
    Null,
    Tuple {
        scheme: String,
        host: String,
        port: Option<u16>,
    },
}

impl Origin {
    fn parse(text: &str) -> Option<Origin> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        if text.eq_ignore_ascii_case("null") {
            return Some(Origin::Null);
        }
        let uri = http::Uri::try_from(text).ok()?;
        let authority = uri.authority()?;
        Some(Origin::Tuple {
            scheme: uri.scheme_str()?.to_ascii_lowercase(),
            host: authority
                .host()
                .trim_matches(['[', ']'])
                .to_ascii_lowercase(),
            port: authority.port_u16(),
        })
    }
}

/// An entry of `--allow-origin`, matched as rmcp matches it (so that CORS headers go exactly
/// to the origins whose requests rmcp lets through): `scheme://host:port`, `:*` for any port,
/// no port for any port too (rmcp's deprecated reading), or `null`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum AllowedOrigin {
    Null,
    Tuple {
        scheme: String,
        host: String,
        /// `None`: any port.
        port: Option<u16>,
    },
}

impl AllowedOrigin {
    fn parse(text: &str) -> Option<AllowedOrigin> {
        let text = text.trim();
        let (text, any_port) = match text.strip_suffix(":*") {
            Some(base) => (base, true),
            None => (text, false),
        };
        Some(match Origin::parse(text)? {
            Origin::Null if !any_port => AllowedOrigin::Null,
            Origin::Null => return None,
            Origin::Tuple { port: Some(_), .. } if any_port => return None,
            Origin::Tuple { scheme, host, port } => AllowedOrigin::Tuple { scheme, host, port },
        })
    }

    fn matches(&self, origin: &Origin) -> bool {
        match (self, origin) {
            (AllowedOrigin::Null, Origin::Null) => true,
            (
                AllowedOrigin::Tuple { scheme, host, port },
                Origin::Tuple {
                    scheme: o_scheme,
                    host: o_host,
                    port: o_port,
                },
            ) => {
                scheme == o_scheme
                    && host == o_host
                    && match port {
                        None => true,
                        Some(port) => o_port.or_else(|| default_port(o_scheme)) == Some(*port),
                    }
            }
            _ => false,
        }
    }
}

/// The port an origin without one has.
fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::api;
    use super::*;
    use clap::Parser;

    fn args(extra: &[&str]) -> ServeArgs {
        let mut all = vec!["server", "--transport", "http"];
        all.extend_from_slice(extra);
        let mut args = ServeArgs::parse_from(all);
        args.env_prefix = "PETS".to_owned();
        args
    }

    #[test]
    fn only_loopback_addresses_are_loopback() {
        for bind in [
            "127.0.0.1:8000",
            "127.1.2.3:1",
            "[::1]:8000",
            "[::ffff:127.0.0.1]:80",
        ] {
            assert!(is_loopback(bind.parse().unwrap()), "{bind}");
        }
        for bind in [
            "0.0.0.0:8000",
            "[::]:8000",
            "10.0.0.1:80",
            "192.168.1.2:80",
            "[fe80::1]:80",
        ] {
            assert!(!is_loopback(bind.parse().unwrap()), "{bind}");
        }
    }

    #[test]
    fn a_non_loopback_address_needs_authentication_or_the_operators_word() {
        let open = InboundAuth::from_args(&args(&[])).unwrap();
        assert!(matches!(
            open,
            InboundAuth::Open {
                allowed_explicitly: false
            }
        ));
        assert!(open.warning("http://127.0.0.1:8000/mcp").is_none());

        let error = InboundAuth::from_args(&args(&["--bind", "0.0.0.0:8000"]))
            .unwrap_err()
            .to_string();
        for named in [
            "0.0.0.0:8000",
            "--mcp-token",
            "PETS_MCP_TOKEN",
            "--oauth-issuer",
            "--allow-unauthenticated",
        ] {
            assert!(error.contains(named), "{named}: {error}");
        }
        let allowed = InboundAuth::from_args(&args(&[
            "--bind",
            "0.0.0.0:8000",
            "--allow-unauthenticated",
        ]))
        .unwrap();
        let warning = allowed.warning("http://0.0.0.0:8000/mcp").unwrap();
        assert!(
            warning.starts_with("warning: --allow-unauthenticated"),
            "{warning}"
        );

        let tokens =
            InboundAuth::from_args(&args(&["--bind", "0.0.0.0:8000", "--mcp-token", "a"])).unwrap();
        assert!(tokens.static_tokens().is_some());
        let oauth = InboundAuth::from_args(&args(&[
            "--bind",
            "[::]:8000",
            "--oauth-issuer",
            "https://auth.example.com",
        ]))
        .unwrap();
        assert!(matches!(oauth, InboundAuth::OAuth));
        assert!(matches!(
            InboundAuth::from_args(&args(&[
                "--mcp-token",
                "a",
                "--oauth-issuer",
                "https://auth.example.com"
            ])),
            Err(ConfigError::InvalidOAuthSetting { .. })
        ));
    }

    #[test]
    fn tokens_no_request_could_present_are_refused() {
        for bad in ["", "two words", "line\n", "caf\u{e9}"] {
            let error = StaticTokens::new(&["good".to_owned(), bad.to_owned()]).unwrap_err();
            let message = error.to_string();
            assert!(message.contains("--mcp-token"), "{message}");
            assert!(bad.is_empty() || !message.contains(bad), "{message}");
        }
        assert!(StaticTokens::new(&[]).unwrap().is_none());
    }

    #[test]
    fn any_of_the_tokens_is_accepted() {
        let tokens = StaticTokens::new(&["first-token".to_owned(), "second".to_owned()])
            .unwrap()
            .unwrap();
        let with = |value: &str| {
            let mut headers = http::HeaderMap::new();
            headers.insert(
                http::header::AUTHORIZATION,
                http::HeaderValue::from_str(value).unwrap(),
            );
            tokens.matching(&headers).is_some()
        };
        assert!(with("Bearer first-token"));
        assert!(with("bearer second"));
        assert!(with("BEARER  second "));
        assert!(!with("Bearer third"));
        assert!(!with("Bearer secon"));
        assert!(!with("Bearer "));
        assert!(!with("Basic second"));
        assert!(!with("second"));
        assert!(tokens.matching(&http::HeaderMap::new()).is_none());
        assert!(!format!("{tokens:?}").contains("second"));
    }

    static API: ApiDescriptor = api(&[]);

    #[test]
    fn origins_match_as_rmcp_matches_them() {
        let cors = Cors::new(
            &[
                "https://app.example.com".to_owned(),
                "http://localhost:3000".to_owned(),
                "https://any.example.com:*".to_owned(),
                "not an origin".to_owned(),
            ],
            &API,
            true,
        )
        .unwrap();
        let allowed = |origin: &str| {
            let mut headers = http::HeaderMap::new();
            headers.insert(http::header::ORIGIN, origin.parse().unwrap());
            cors.allowed_origin(&headers).is_some()
        };
        assert!(allowed("https://app.example.com"));
        assert!(allowed("https://APP.example.com"));
        assert!(allowed("http://localhost:3000"));
        assert!(!allowed("http://localhost:3001"));
        assert!(!allowed("http://localhost"));
        assert!(allowed("https://any.example.com:8443"));
        assert!(!allowed("http://app.example.com"));
        assert!(!allowed("https://evil.example.com"));
        assert!(!allowed("null"));
        assert!(Cors::new(&[], &API, true).is_none());
    }

    #[test]
    fn preflights_allow_mcps_headers_and_standard_ones_only() {
        let cors = Cors::new(&["https://app.example.com".to_owned()], &API, true).unwrap();
        let mut asked = http::HeaderMap::new();
        asked.insert(
            http::header::ACCESS_CONTROL_REQUEST_HEADERS,
            "content-type,mcp-param-region, x-evil ,traceparent, mcp-param-"
                .parse()
                .unwrap(),
        );
        let answer = cors.preflight("https://app.example.com".parse().unwrap(), &asked);
        assert_eq!(answer.status(), http::StatusCode::NO_CONTENT);
        let header =
            |name: http::header::HeaderName| answer.headers()[name].to_str().unwrap().to_owned();
        assert_eq!(
            header(http::header::ACCESS_CONTROL_ALLOW_HEADERS),
            "authorization, content-type, mcp-protocol-version, mcp-session-id, mcp-method, \
             mcp-name, last-event-id, mcp-param-region, traceparent"
        );
        assert_eq!(
            header(http::header::ACCESS_CONTROL_ALLOW_ORIGIN),
            "https://app.example.com"
        );
        assert_eq!(header(http::header::ACCESS_CONTROL_MAX_AGE), "600");
        assert_eq!(
            header(http::header::ACCESS_CONTROL_ALLOW_METHODS),
            "GET, POST, DELETE, OPTIONS"
        );
        assert!(header(http::header::VARY).contains("Origin"));
    }
}
