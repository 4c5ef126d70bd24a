//! Upstream credentials: read once from the environment (the stdio case), or passed through
//! from the MCP caller's own HTTP request (the streamable HTTP case). A credential only ever
//! goes to the configured upstream, and is never formatted into logs or messages.

use std::sync::Arc;

use base64::Engine as _;
use http::HeaderValue;

use super::descriptor::{ParamLocation, SecurityKind, SecuritySchemeDescriptor};

/// A secret string whose `Debug` output never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The secret, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A credential ready to be applied to one request.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A complete `Authorization` header value (`Bearer ...` or `Basic ...`).
    Authorization(Secret),
    /// An API key for a header, query parameter or cookie.
    ApiKey(Secret),
    /// An OAuth 2.0 client id and secret, exchanged for an access token before a request is
    /// sent (never sent to the upstream itself).
    ClientCredentials(Arc<ClientCredentials>),
}

/// An OAuth 2.0 client's id and secret.
#[derive(Debug, PartialEq, Eq)]
pub struct ClientCredentials {
    /// The client id.
    pub client_id: Secret,
    /// The client secret.
    pub client_secret: Secret,
}

/// Credentials configured through the environment, one slot per security scheme.
#[derive(Debug, Clone, Default)]
pub struct EnvCredentials {
    slots: Vec<Option<Credential>>,
}

impl EnvCredentials {
    /// Reads every scheme's environment variables through `lookup` (normally `std::env::var`).
    /// Empty values count as absent.
    pub fn load(
        schemes: &[SecuritySchemeDescriptor],
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Self {
        let get = |name: &&str| lookup(name).filter(|v| !v.is_empty());
        let slots = schemes
            .iter()
            .map(|scheme| match scheme.kind {
                SecurityKind::Bearer => scheme
                    .env
                    .first()
                    .and_then(get)
                    .map(|token| Credential::Authorization(Secret(format!("Bearer {token}")))),
                SecurityKind::Basic => {
                    let user = scheme.env.first().and_then(get)?;
                    let password = scheme.env.get(1).and_then(get).unwrap_or_default();
                    let encoded = base64::engine::general_purpose::STANDARD
                        .encode(format!("{user}:{password}"));
                    Some(Credential::Authorization(Secret(format!(
                        "Basic {encoded}"
                    ))))
                }
                SecurityKind::ApiKey(..) => scheme
                    .env
                    .first()
                    .and_then(get)
                    .map(|key| Credential::ApiKey(Secret(key))),
                // A ready access token wins; otherwise the client id and secret fetch one.
                SecurityKind::OAuth2ClientCredentials { .. } => {
                    match scheme.env.first().and_then(get) {
                        Some(token) => {
                            Some(Credential::Authorization(Secret(format!("Bearer {token}"))))
                        }
                        None => {
                            let client_id = scheme.env.get(1).and_then(get)?;
                            let client_secret = scheme.env.get(2).and_then(get)?;
                            Some(Credential::ClientCredentials(Arc::new(ClientCredentials {
                                client_id: Secret(client_id),
                                client_secret: Secret(client_secret),
                            })))
                        }
                    }
                }
            })
            .collect();
        EnvCredentials { slots }
    }

    /// The credential configured for scheme `index`, if any.
    pub fn get(&self, index: usize) -> Option<&Credential> {
        self.slots.get(index).and_then(Option::as_ref)
    }

    /// Whether any credential is configured.
    pub fn is_empty(&self) -> bool {
        self.slots.iter().all(Option::is_none)
    }
}

/// The credential the MCP caller sent for `scheme` in its own HTTP request, if any: the
/// `Authorization` header when its auth-scheme matches, or the API key's own header.
/// Query and cookie API keys are not passed through: a caller has no natural way to send
/// them, and reading the MCP request's cookies would forward unrelated state.
pub fn passed_through(
    scheme: &SecuritySchemeDescriptor,
    headers: &http::HeaderMap,
) -> Option<Credential> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    match scheme.kind {
        SecurityKind::Bearer
        | SecurityKind::Basic
        | SecurityKind::OAuth2ClientCredentials { .. } => {
            let value = text("authorization")?;
            let wanted = if scheme.kind.is_bearer() {
                "bearer "
            } else {
                "basic "
            };
            let matches = value
                .get(..wanted.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(wanted));
            matches.then(|| Credential::Authorization(Secret(value.to_owned())))
        }
        SecurityKind::ApiKey(ParamLocation::Header, name) => {
            // Never treat MCP's own headers as an upstream key, even if a spec names one.
            if is_mcp_header(name) {
                return None;
            }
            text(name).map(|v| Credential::ApiKey(Secret(v.to_owned())))
        }
        SecurityKind::ApiKey(..) => None,
    }
}

/// Headers that belong to the MCP transport itself and must never reach the upstream.
pub fn is_mcp_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("mcp-") || lower == "last-event-id"
}

/// Whether `url`'s host is this machine: `localhost` or a loopback address.
pub fn is_loopback(url: &reqwest::Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether a credential may travel to `url`: over TLS, or over plain http to this machine
/// (local development and tests), where nobody on the network can read it.
pub fn may_send_credentials(url: &reqwest::Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => is_loopback(url),
        _ => false,
    }
}

/// Credentials that would travel in clear text: the upstream is plain http on another
/// machine, and the operator has not said the network is trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "credentials are not sent over plain http to {origin}: anyone on the network path could \
     read them. Use an https base URL, or start the server with --allow-insecure-credentials \
     if this network is trusted"
)]
pub struct InsecureCredentials {
    /// The origin they would go to (never the path or query, which may hold a secret).
    origin: String,
}

impl InsecureCredentials {
    /// Credentials refused for `url`.
    pub fn new(url: &reqwest::Url) -> Self {
        InsecureCredentials {
            origin: url.origin().ascii_serialization(),
        }
    }
}

/// A header value marked sensitive, so that HTTP tooling never prints it.
pub fn sensitive_header(secret: &Secret) -> Option<HeaderValue> {
    let mut value = HeaderValue::from_str(secret.expose()).ok()?;
    value.set_sensitive(true);
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMES: &[SecuritySchemeDescriptor] = &[
        SecuritySchemeDescriptor {
            name: "bearer",
            kind: SecurityKind::Bearer,
            env: &["X_TOKEN"],
        },
        SecuritySchemeDescriptor {
            name: "basic",
            kind: SecurityKind::Basic,
            env: &["X_USER", "X_PASS"],
        },
        SecuritySchemeDescriptor {
            name: "key",
            kind: SecurityKind::ApiKey(ParamLocation::Header, "X-Api-Key"),
            env: &["X_KEY"],
        },
        SecuritySchemeDescriptor {
            name: "oauth",
            kind: SecurityKind::OAuth2ClientCredentials {
                token_url: "/oauth/token",
            },
            env: &[
                "X_OAUTH_TOKEN",
                "X_OAUTH_CLIENT_ID",
                "X_OAUTH_CLIENT_SECRET",
            ],
        },
    ];

    #[test]
    fn oauth_client_credentials_or_a_ready_token() {
        let env = EnvCredentials::load(SCHEMES, |name| match name {
            "X_OAUTH_CLIENT_ID" => Some("id".into()),
            "X_OAUTH_CLIENT_SECRET" => Some("very-secret".into()),
            _ => None,
        });
        match env.get(3) {
            Some(Credential::ClientCredentials(c)) => {
                assert_eq!(c.client_id.expose(), "id");
                assert_eq!(c.client_secret.expose(), "very-secret");
            }
            other => panic!("{other:?}"),
        }
        assert!(!format!("{env:?}").contains("very-secret"));
        let env = EnvCredentials::load(SCHEMES, |name| match name {
            "X_OAUTH_TOKEN" => Some("ready".into()),
            "X_OAUTH_CLIENT_ID" => Some("id".into()),
            "X_OAUTH_CLIENT_SECRET" => Some("s".into()),
            _ => None,
        });
        assert!(matches!(
            env.get(3),
            Some(Credential::Authorization(s)) if s.expose() == "Bearer ready"
        ));
        let env = EnvCredentials::load(SCHEMES, |name| {
            (name == "X_OAUTH_CLIENT_ID").then(|| "id".to_owned())
        });
        assert!(
            env.get(3).is_none(),
            "an id without a secret is no credential"
        );
        let mut headers = http::HeaderMap::new();
        headers.insert("authorization", HeaderValue::from_static("Bearer caller"));
        assert!(matches!(
            passed_through(&SCHEMES[3], &headers),
            Some(Credential::Authorization(s)) if s.expose() == "Bearer caller"
        ));
    }

    #[test]
    fn environment_credentials_are_read_per_scheme() {
        let env = EnvCredentials::load(SCHEMES, |name| match name {
            "X_TOKEN" => Some("t0k".into()),
            "X_USER" => Some("alice".into()),
            "X_PASS" => Some("s3cret".into()),
            "X_KEY" => Some(String::new()),
            _ => None,
        });
        match env.get(0) {
            Some(Credential::Authorization(s)) => assert_eq!(s.expose(), "Bearer t0k"),
            other => panic!("{other:?}"),
        }
        match env.get(1) {
            Some(Credential::Authorization(s)) => {
                assert_eq!(s.expose(), "Basic YWxpY2U6czNjcmV0")
            }
            other => panic!("{other:?}"),
        }
        assert!(env.get(2).is_none(), "an empty variable is no credential");
        assert!(!format!("{env:?}").contains("t0k"));
    }

    #[test]
    fn pass_through_matches_the_scheme() {
        let mut headers = http::HeaderMap::new();
        headers.insert("authorization", HeaderValue::from_static("Bearer abc"));
        headers.insert("x-api-key", HeaderValue::from_static("k1"));
        assert!(matches!(
            passed_through(&SCHEMES[0], &headers),
            Some(Credential::Authorization(s)) if s.expose() == "Bearer abc"
        ));
        assert!(passed_through(&SCHEMES[1], &headers).is_none());
        assert!(matches!(
            passed_through(&SCHEMES[2], &headers),
            Some(Credential::ApiKey(s)) if s.expose() == "k1"
        ));
    }

    #[test]
    fn credentials_travel_only_over_tls_or_to_this_machine() {
        let url = |text: &str| reqwest::Url::parse(text).unwrap();
        assert!(may_send_credentials(&url("https://api.example.com/v1")));
        assert!(may_send_credentials(&url("http://127.0.0.1:8080/")));
        assert!(may_send_credentials(&url("http://127.9.9.9/")));
        assert!(may_send_credentials(&url("http://localhost:9/")));
        assert!(may_send_credentials(&url("http://[::1]:9/")));
        assert!(!may_send_credentials(&url("http://api.example.com/v1")));
        assert!(!may_send_credentials(&url("http://10.0.0.1/")));
        assert!(!may_send_credentials(&url("http://localhost.example.com/")));
        let message = InsecureCredentials::new(&url("http://api.example.com/v1?k=s")).to_string();
        assert!(
            message.contains("http://api.example.com")
                && message.contains("--allow-insecure-credentials"),
            "{message}"
        );
        assert!(!message.contains("k=s"));
    }

    #[test]
    fn mcp_headers_are_recognised() {
        assert!(is_mcp_header("Mcp-Session-Id"));
        assert!(is_mcp_header("mcp-protocol-version"));
        assert!(!is_mcp_header("X-Api-Key"));
    }
}
