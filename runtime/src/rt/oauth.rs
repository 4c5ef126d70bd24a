//! OAuth 2.0 client credentials (RFC 6749, section 4.4): the server exchanges the client id
//! and secret from its environment for an access token at the scheme's token URL, caches it
//! per set of scopes, fetches a new one shortly before it expires (or once when the upstream
//! answers 401), and sends it as a bearer token.
//!
//! The token URL is the one place other than the upstream's origin that the server sends
//! requests to: it comes from the API document (or the operator's `--oauth-token-url`), must
//! use https unless it is on a loopback address, and redirects from it are never followed, so
//! the client secret cannot be led elsewhere. A document's token URL is used only on the
//! upstream's own host: a third-party document could otherwise name any host to collect the
//! secret, so another host needs the operator's `--oauth-token-url`. The answer is read to at
//! most [`MAX_TOKEN_ANSWER_BYTES`] and within the server's timeout.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;

use super::config::ConfigError;
use super::credentials::{ClientCredentials, Secret, is_loopback};
use super::descriptor::{SecurityKind, SecuritySchemeDescriptor};
use super::params;
use super::request::{Upstream, client_builder};

/// The most of a token endpoint's answer that is read: a token response is a few hundred
/// bytes, and an endpoint that sends more must not be able to fill the server's memory.
pub const MAX_TOKEN_ANSWER_BYTES: usize = 64 * 1024;

/// An access token ready for the `Authorization` header, and when to stop using it.
#[derive(Clone)]
struct CachedToken {
    /// `Bearer <token>`.
    header: Secret,
    /// When a new token should be fetched instead; `None` when the token endpoint gave no
    /// lifetime (then only a 401 retires it).
    refresh_at: Option<Instant>,
}

type Slot = Arc<tokio::sync::Mutex<Option<CachedToken>>>;

/// Where one scheme's tokens come from, and the tokens fetched so far.
struct SchemeTokens {
    name: &'static str,
    token_url: Result<reqwest::Url, TokenUrlError>,
    /// Set once the token endpoint refused HTTP basic client authentication and accepted the
    /// id and secret in the form body (`client_secret_post`), so later fetches go straight
    /// to what works.
    body_auth: AtomicBool,
    /// One slot per set of scopes; a fetch holds its slot's lock, so concurrent calls that
    /// need the same token wait for one fetch instead of each making their own.
    slots: Mutex<HashMap<String, Slot>>,
}

/// The access tokens of every OAuth 2.0 client-credentials scheme of a server.
pub struct OAuthTokens {
    client: reqwest::Client,
    schemes: Vec<Option<SchemeTokens>>,
    extra_params: Vec<(String, String)>,
}

impl std::fmt::Debug for OAuthTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthTokens")
            .field(
                "schemes",
                &self
                    .schemes
                    .iter()
                    .flatten()
                    .map(|s| s.name)
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// A token URL given on the command line: for one scheme, or for every client-credentials
/// scheme when `scheme` is `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenUrlOverride {
    /// The scheme's key in the document.
    pub scheme: Option<String>,
    /// The URL.
    pub url: String,
}

impl std::str::FromStr for TokenUrlOverride {
    type Err = std::convert::Infallible;

    /// `URL`, or `SCHEME=URL`. Any text is one of them; the URL is checked when the server
    /// is built.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        match text.split_once('=') {
            Some((scheme, url)) if !scheme.contains(['/', ':']) => Ok(TokenUrlOverride {
                scheme: Some(scheme.trim().to_owned()),
                url: url.trim().to_owned(),
            }),
            _ => Ok(TokenUrlOverride {
                scheme: None,
                url: text.to_owned(),
            }),
        }
    }
}

/// Why a token URL cannot be used: the client secret is sent to it, so it must be the right
/// host and travel encrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenUrlError {
    /// The URL does not parse.
    #[error("the token URL `{url}` is not a valid URL: {reason}")]
    Invalid {
        /// The URL as given.
        url: String,
        /// What the URL parser said.
        reason: String,
    },
    /// The URL carries a user name or password.
    #[error("the token URL must not contain credentials")]
    Credentials,
    /// Plain http to another machine.
    #[error("the token URL `{url}` must use https: the client secret is sent to it")]
    PlainHttp {
        /// The resolved URL.
        url: String,
    },
    /// Neither https nor http.
    #[error("the token URL must use https, not {scheme}")]
    Scheme {
        /// The URL's scheme.
        scheme: String,
    },
    /// The document's URL is on a host other than the upstream's, and the operator has not
    /// confirmed it.
    #[error(
        "the document's token URL {shown} is on {host}, not on the upstream's host \
         {upstream_host}, and the client secret would be sent there; if it is this API's \
         authorization server, confirm it with --oauth-token-url {scheme}={url}"
    )]
    OffUpstreamHost {
        /// The URL without its query.
        shown: String,
        /// Its host.
        host: String,
        /// The upstream's host.
        upstream_host: String,
        /// The scheme's key in the document.
        scheme: &'static str,
        /// The URL as resolved.
        url: String,
    },
}

/// Why no access token could be had for a call.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthError {
    /// The scheme asked for does not use OAuth 2.0 client credentials.
    #[error("this security scheme does not use OAuth 2.0 client credentials")]
    NotClientCredentials,
    /// The scheme's token URL cannot be used.
    #[error("No OAuth 2.0 access token for `{scheme}`: {reason}; pass --oauth-token-url")]
    NoTokenUrl {
        /// The scheme's key in the document.
        scheme: &'static str,
        /// Why its token URL cannot be used.
        reason: Box<TokenUrlError>,
    },
    /// The token endpoint did not give a usable token.
    #[error("Could not get an OAuth 2.0 access token for `{scheme}` from {endpoint}: {reason}")]
    Refused {
        /// The scheme's key in the document.
        scheme: &'static str,
        /// The token URL without its query.
        endpoint: String,
        /// What went wrong, from the endpoint's answer where it gave one.
        reason: String,
    },
}

/// Resolves a token URL against the upstream base URL (OpenAPI reads relative URLs as relative
/// to the server) and checks that a client secret may be sent there.
pub fn resolve_token_url(text: &str, upstream: &Upstream) -> Result<reqwest::Url, TokenUrlError> {
    let mut base = upstream.url().clone();
    // The base path is a folder: `oauth/token` below `https://h/v1` is `https://h/v1/oauth/token`.
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    let url = base.join(text.trim()).map_err(|e| TokenUrlError::Invalid {
        url: text.to_owned(),
        reason: e.to_string(),
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(TokenUrlError::Credentials);
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(TokenUrlError::PlainHttp {
            url: url.to_string(),
        }),
        other => Err(TokenUrlError::Scheme {
            scheme: other.to_owned(),
        }),
    }
}

/// Accepts a token URL taken from the API document only on the upstream's host: the document
/// may come from a third party, and the client secret is sent to this URL.
fn on_upstream_host(
    url: reqwest::Url,
    upstream: &Upstream,
    scheme: &'static str,
) -> Result<reqwest::Url, TokenUrlError> {
    let host = url.host_str().unwrap_or_default();
    let upstream_host = upstream.url().host_str().unwrap_or_default();
    if host.eq_ignore_ascii_case(upstream_host) {
        return Ok(url);
    }
    Err(TokenUrlError::OffUpstreamHost {
        shown: without_query(&url),
        host: host.to_owned(),
        upstream_host: upstream_host.to_owned(),
        scheme,
        url: url.to_string(),
    })
}

/// The URL without its query, which an operator may have put a secret in.
pub(super) fn without_query(url: &reqwest::Url) -> String {
    format!("{}{}", url.origin().ascii_serialization(), url.path())
}

impl OAuthTokens {
    /// Prepares token fetching for every client-credentials scheme of `schemes`, each of
    /// whose token URLs is read against its API's upstream (`upstreams`, one per scheme; the
    /// first for any scheme past its end). A token URL that cannot be used is kept as an
    /// error, reported when a token is needed.
    pub fn new(
        schemes: &'static [SecuritySchemeDescriptor],
        upstreams: &[&Upstream],
        overrides: &[TokenUrlOverride],
        extra_params: Vec<(String, String)>,
        timeout: Duration,
    ) -> Result<Self, ConfigError> {
        for o in overrides {
            if let Some(name) = &o.scheme
                && !schemes.iter().any(|s| {
                    s.name == name && matches!(s.kind, SecurityKind::OAuth2ClientCredentials { .. })
                })
            {
                return Err(ConfigError::NotAnOAuthScheme { name: name.clone() });
            }
        }
        let schemes = schemes
            .iter()
            .enumerate()
            .map(|(i, scheme)| {
                let SecurityKind::OAuth2ClientCredentials { token_url } = scheme.kind else {
                    return None;
                };
                let upstream = upstreams.get(i).or(upstreams.first())?;
                let chosen = overrides
                    .iter()
                    .find(|o| o.scheme.as_deref() == Some(scheme.name))
                    .or_else(|| overrides.iter().find(|o| o.scheme.is_none()));
                // The operator's URL counts as confirmed; the document's must be on the
                // upstream's host.
                let token_url = match chosen {
                    Some(o) => resolve_token_url(&o.url, upstream),
                    None => resolve_token_url(token_url, upstream)
                        .and_then(|url| on_upstream_host(url, upstream, scheme.name)),
                };
                Some(SchemeTokens {
                    name: scheme.name,
                    token_url,
                    body_auth: AtomicBool::new(false),
                    slots: Mutex::new(HashMap::new()),
                })
            })
            .collect::<Vec<_>>();
        // Never follow a redirect from the token endpoint: it would carry the client secret to
        // wherever it points. Certificates are loaded only when a token URL needs them.
        let tls = schemes.iter().flatten().any(|s| {
            s.token_url
                .as_ref()
                .is_ok_and(|url| url.scheme() == "https")
        });
        let client = client_builder(timeout, tls)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|source| ConfigError::HttpClient {
                purpose: " for OAuth",
                source,
            })?;
        Ok(OAuthTokens {
            client,
            schemes,
            extra_params,
        })
    }

    /// The token URL of scheme `index`, or why it cannot be used.
    pub fn token_url(&self, index: usize) -> Option<&Result<reqwest::Url, TokenUrlError>> {
        self.schemes
            .get(index)
            .and_then(Option::as_ref)
            .map(|s| &s.token_url)
    }

    /// The usable token URLs by scheme name, without their query (which an operator may have
    /// given a secret in): what the server says at start-up it will contact.
    pub fn destinations(&self) -> Vec<(&'static str, String)> {
        self.schemes
            .iter()
            .flatten()
            .filter_map(|s| {
                let url = s.token_url.as_ref().ok()?;
                Some((s.name, without_query(url)))
            })
            .collect()
    }

    fn slot(&self, scheme: &SchemeTokens, scopes: &str) -> Slot {
        let mut slots = scheme.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.entry(scopes.to_owned()).or_default().clone()
    }

    /// An `Authorization` header value for scheme `index` with `scopes`: the cached token
    /// while it is fresh, else a new one.
    pub async fn authorization(
        &self,
        index: usize,
        credentials: &ClientCredentials,
        scopes: &[&str],
    ) -> Result<Secret, OAuthError> {
        let scheme = self
            .schemes
            .get(index)
            .and_then(Option::as_ref)
            .ok_or(OAuthError::NotClientCredentials)?;
        let scopes = scope_text(scopes);
        let slot = self.slot(scheme, &scopes);
        let mut cached = slot.lock().await;
        if let Some(token) = cached.as_ref()
            && token.refresh_at.is_none_or(|at| Instant::now() < at)
        {
            return Ok(token.header.clone());
        }
        let token = self.fetch(scheme, credentials, &scopes).await?;
        let header = token.header.clone();
        *cached = Some(token);
        Ok(header)
    }

    /// Forgets the token `used` for scheme `index` and `scopes` after the upstream refused it,
    /// so that the next call fetches a new one. A token fetched meanwhile by another call is
    /// kept.
    pub async fn invalidate(&self, index: usize, scopes: &[&str], used: &Secret) {
        let Some(scheme) = self.schemes.get(index).and_then(Option::as_ref) else {
            return;
        };
        let slot = self.slot(scheme, &scope_text(scopes));
        let mut cached = slot.lock().await;
        if cached.as_ref().is_some_and(|t| t.header == *used) {
            *cached = None;
        }
    }

    async fn fetch(
        &self,
        scheme: &SchemeTokens,
        credentials: &ClientCredentials,
        scopes: &str,
    ) -> Result<CachedToken, OAuthError> {
        let url = scheme
            .token_url
            .as_ref()
            .map_err(|reason| OAuthError::NoTokenUrl {
                scheme: scheme.name,
                reason: Box::new(reason.clone()),
            })?;
        let fail = |reason: String| OAuthError::Refused {
            scheme: scheme.name,
            endpoint: without_query(url),
            reason,
        };
        let body_auth = scheme.body_auth.load(Ordering::Relaxed);
        let first = self
            .request(url, credentials, scopes, body_auth)
            .await
            .map_err(|e| (e.client_refused, fail(e.message)));
        let answer = match first {
            Ok(answer) => answer,
            // RFC 6749 makes HTTP basic the client authentication every server supports, but
            // some accept only the id and secret in the form body; try that once.
            Err((true, _)) if !body_auth => {
                let answer = self
                    .request(url, credentials, scopes, true)
                    .await
                    .map_err(|e| fail(e.message))?;
                scheme.body_auth.store(true, Ordering::Relaxed);
                answer
            }
            Err((_, message)) => return Err(message),
        };
        let token = read_token(&answer).map_err(fail)?;
        tracing::debug!(
            scheme = scheme.name,
            lifetime_secs = token.1.map(|d| d.as_secs()),
            "fetched an OAuth 2.0 access token"
        );
        let refresh_at = token.1.and_then(|lifetime| {
            // Renew a little early, so that a token never expires on its way to the upstream.
            let margin = (lifetime / 10).min(Duration::from_secs(60));
            Instant::now().checked_add(lifetime.saturating_sub(margin))
        });
        Ok(CachedToken {
            header: Secret::new(format!("Bearer {}", token.0)),
            refresh_at,
        })
    }

    async fn request(
        &self,
        url: &reqwest::Url,
        credentials: &ClientCredentials,
        scopes: &str,
        body_auth: bool,
    ) -> Result<Value, TokenError> {
        let mut form = vec![("grant_type".to_owned(), "client_credentials".to_owned())];
        if !scopes.is_empty() {
            form.push(("scope".to_owned(), scopes.to_owned()));
        }
        form.extend(self.extra_params.iter().cloned());
        if body_auth {
            form.push((
                "client_id".to_owned(),
                credentials.client_id.expose().to_owned(),
            ));
            form.push((
                "client_secret".to_owned(),
                credentials.client_secret.expose().to_owned(),
            ));
        }
        let body = form
            .iter()
            .map(|(k, v)| params::encoded_pair(k, v))
            .collect::<Vec<_>>()
            .join("&");
        let mut request = self
            .client
            .post(url.clone())
            .header(http::header::ACCEPT, "application/json")
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body);
        if !body_auth {
            let value = client_basic_auth(credentials)
                .ok_or_else(|| TokenError::new("the client id or secret cannot be sent"))?;
            request = request.header(http::header::AUTHORIZATION, value);
        }
        let response = request.send().await.map_err(|e| {
            TokenError::new(if e.is_timeout() {
                "the token endpoint did not answer in time".to_owned()
            } else if e.is_connect() {
                "could not connect to the token endpoint".to_owned()
            } else {
                "the request failed".to_owned()
            })
        })?;
        let status = response.status();
        let bytes = read_bounded(response, MAX_TOKEN_ANSWER_BYTES).await?;
        let json: Option<Value> = serde_json::from_slice(&bytes).ok();
        if status.is_success() {
            return json.ok_or_else(|| TokenError::new("the answer is not JSON"));
        }
        let code = json
            .as_ref()
            .and_then(|j| j.get("error"))
            .and_then(Value::as_str);
        let described = json
            .as_ref()
            .and_then(|j| j.get("error_description"))
            .and_then(Value::as_str);
        let mut message = format!("HTTP {}", status.as_u16());
        if let Some(code) = code {
            message.push_str(&format!(" ({}", bounded(code)));
            if let Some(d) = described {
                message.push_str(&format!(": {}", bounded(d)));
            }
            message.push(')');
        }
        Err(TokenError {
            client_refused: status == http::StatusCode::UNAUTHORIZED
                || code == Some("invalid_client"),
            message,
        })
    }
}

/// The `Authorization` value of HTTP basic client authentication, marked sensitive; `None`
/// when the id or secret cannot go into a header. RFC 6749, section 2.3.1: the id and secret
/// are form-encoded before they are joined.
pub(super) fn client_basic_auth(credentials: &ClientCredentials) -> Option<http::HeaderValue> {
    let pair = format!(
        "{}:{}",
        params::encode_component(credentials.client_id.expose()),
        params::encode_component(credentials.client_secret.expose())
    );
    let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
    let mut value = http::HeaderValue::from_str(&format!("Basic {encoded}")).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// The body of a token answer, refused when it is longer than `limit` bytes (declared or
/// sent). The client's timeout covers the body too, so a trickle ends with it.
pub(super) async fn read_bounded(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, TokenError> {
    let too_long = || TokenError::new(format!("the answer is longer than {limit} bytes"));
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Err(too_long());
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if chunk.len() > limit - body.len() {
                    return Err(too_long());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) if e.is_timeout() => {
                return Err(TokenError::new("the token endpoint did not answer in time"));
            }
            Err(_) => return Err(TokenError::new("the answer could not be read")),
        }
    }
}

/// Why a token endpoint gave no token: a message without any secret.
pub(super) struct TokenError {
    /// The endpoint refused the client's authentication (as opposed to the grant or scopes).
    client_refused: bool,
    pub(super) message: String,
}

impl TokenError {
    fn new(message: impl Into<String>) -> Self {
        TokenError {
            client_refused: false,
            message: message.into(),
        }
    }
}

/// The access token and its lifetime from a token response (RFC 6749, section 5.1).
pub(super) fn read_token(answer: &Value) -> Result<(String, Option<Duration>), String> {
    let token = answer
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or("the answer has no access_token")?;
    let kind = answer
        .get("token_type")
        .and_then(Value::as_str)
        .unwrap_or("Bearer");
    if !kind.eq_ignore_ascii_case("bearer") {
        return Err(format!(
            "the token type is `{}`; only bearer tokens are supported",
            bounded(kind)
        ));
    }
    if token.contains(['\r', '\n']) || http::HeaderValue::from_str(token).is_err() {
        return Err("the access token cannot be sent in a header".to_owned());
    }
    // Some servers send the lifetime as a string.
    let lifetime = match answer.get("expires_in") {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|secs| secs.is_finite() && *secs >= 0.0)
    .map(|secs| Duration::from_secs_f64(secs.min(1e9)));
    Ok((token.to_owned(), lifetime))
}

/// Scopes as the `scope` parameter sends them: sorted, unique, space-separated. The same set
/// in any order is the same cached token.
fn scope_text(scopes: &[&str]) -> String {
    let mut sorted: Vec<&str> = scopes.iter().copied().filter(|s| !s.is_empty()).collect();
    sorted.sort_unstable();
    sorted.dedup();
    sorted.join(" ")
}

/// `text` on one line, cut after 200 characters: for a token endpoint's words in a message.
pub(super) fn bounded(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= 200 {
        return one_line;
    }
    let cut: String = one_line.chars().take(200).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn token_urls_are_resolved_and_checked() {
        let up = Upstream::parse("https://api.example.com/v1").unwrap();
        assert_eq!(
            resolve_token_url("/oauth/token", &up).unwrap().as_str(),
            "https://api.example.com/oauth/token"
        );
        assert_eq!(
            resolve_token_url("oauth/token", &up).unwrap().as_str(),
            "https://api.example.com/v1/oauth/token"
        );
        assert_eq!(
            resolve_token_url("https://auth.example.com/token", &up)
                .unwrap()
                .as_str(),
            "https://auth.example.com/token"
        );
        assert!(resolve_token_url("http://auth.example.com/token", &up).is_err());
        assert!(resolve_token_url("http://127.0.0.1:9/token", &up).is_ok());
        assert!(resolve_token_url("http://localhost:9/token", &up).is_ok());
        assert!(resolve_token_url("https://u:p@auth.example.com/token", &up).is_err());
        assert!(resolve_token_url("ftp://auth.example.com/token", &up).is_err());
    }

    static SCHEMES: &[SecuritySchemeDescriptor] = &[
        SecuritySchemeDescriptor {
            name: "elsewhere",
            kind: SecurityKind::OAuth2ClientCredentials {
                token_url: "https://collector.example.net/token",
            },
            env: &["A", "B", "C"],
        },
        SecuritySchemeDescriptor {
            name: "relative",
            kind: SecurityKind::OAuth2ClientCredentials {
                token_url: "/oauth/token",
            },
            env: &["D", "E", "F"],
        },
    ];

    #[test]
    fn a_documents_token_url_on_another_host_needs_the_operator() {
        let up = Upstream::parse("https://api.example.com/v1").unwrap();
        let tokens =
            OAuthTokens::new(SCHEMES, &[&up], &[], Vec::new(), Duration::from_secs(1)).unwrap();
        let err = tokens.token_url(0).unwrap().as_ref().unwrap_err();
        assert!(matches!(err, TokenUrlError::OffUpstreamHost { .. }));
        let err = err.to_string();
        assert!(
            err.contains("collector.example.net")
                && err.contains("--oauth-token-url elsewhere=https://collector.example.net/token"),
            "{err}"
        );
        assert_eq!(
            tokens.token_url(1).unwrap().as_ref().unwrap().as_str(),
            "https://api.example.com/oauth/token"
        );
        assert_eq!(
            tokens.destinations(),
            [("relative", "https://api.example.com/oauth/token".to_owned())]
        );
        // Named by the operator, the same URL is used.
        let confirmed: TokenUrlOverride = "elsewhere=https://collector.example.net/token?k=v"
            .parse()
            .unwrap();
        let tokens = OAuthTokens::new(
            SCHEMES,
            &[&up],
            &[confirmed],
            Vec::new(),
            Duration::from_secs(1),
        )
        .unwrap();
        assert!(tokens.token_url(0).unwrap().is_ok());
        assert_eq!(
            tokens.destinations()[0],
            (
                "elsewhere",
                "https://collector.example.net/token".to_owned()
            )
        );
    }

    #[test]
    fn overrides_name_a_scheme_or_all() {
        let all: TokenUrlOverride = "https://a.example.com/t".parse().unwrap();
        assert_eq!(all.scheme, None);
        let one: TokenUrlOverride = "oauth=https://a.example.com/t?x=1".parse().unwrap();
        assert_eq!(one.scheme.as_deref(), Some("oauth"));
        assert_eq!(one.url, "https://a.example.com/t?x=1");
    }

    #[test]
    fn token_answers_are_read() {
        let (token, lifetime) =
            read_token(&json!({"access_token": "t", "token_type": "bearer", "expires_in": 30}))
                .unwrap();
        assert_eq!(
            (token.as_str(), lifetime),
            ("t", Some(Duration::from_secs(30)))
        );
        let (_, lifetime) = read_token(&json!({"access_token": "t", "expires_in": "5"})).unwrap();
        assert_eq!(lifetime, Some(Duration::from_secs(5)));
        let (_, lifetime) = read_token(&json!({"access_token": "t"})).unwrap();
        assert_eq!(lifetime, None);
        assert!(read_token(&json!({"token_type": "bearer"})).is_err());
        assert!(read_token(&json!({"access_token": "t", "token_type": "mac"})).is_err());
        assert!(read_token(&json!({"access_token": "a\nb"})).is_err());
    }

    #[test]
    fn scopes_are_normalised() {
        assert_eq!(scope_text(&["b", "a", "b", ""]), "a b");
        assert_eq!(scope_text(&[]), "");
    }
}
