//! The server as an OAuth 2.1 resource server (MCP authorization, 2025-11-25 and 2026-07-28):
//! access tokens from one authorization server, checked here; the protected resource
//! metadata (RFC 9728) that tells clients where to get them; the `WWW-Authenticate`
//! challenges that start and widen their consent.
//!
//! JWT access tokens are verified against the issuer's keys (JWKS, found through RFC 8414 or
//! OpenID Connect discovery, cached, fetched again for an unknown key id at most every
//! [`JWKS_REFETCH`]): signature with an allowed asymmetric algorithm (never `none`, never
//! HMAC), `iss`, `aud` (this server's resource URI, RFC 8707), `exp` and `nbf` with
//! [`LEEWAY`]. Tokens that are not JWTs are checked by RFC 7662 introspection when an endpoint
//! is configured, and the verdicts cached (bounded in count and time). The token itself is
//! never forwarded anywhere else: it travels on with the [`Caller`] only so that it can be
//! exchanged (RFC 8693, [`token_exchange`](super::token_exchange)) at the same authorization
//! server for a token of the upstream's own.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

use super::config::ConfigError;
use super::credentials::Secret;

/// Clock skew tolerated on `exp` and `nbf`.
const LEEWAY: Duration = Duration::from_secs(30);
/// The shortest time between two fetches of the key set for an unknown key id: a caller
/// sending made-up key ids must not make the server hammer the authorization server.
const JWKS_REFETCH: Duration = Duration::from_secs(30);
/// How long fetched metadata and keys are trusted before they are fetched again.
const KEYS_TTL: Duration = Duration::from_secs(3600);
/// The largest metadata, key set or introspection answer read.
const MAX_DOCUMENT: usize = 256 * 1024;
/// The deadline of one request to the authorization server.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Introspection verdicts kept, and for how long at most.
const INTROSPECTION_CACHE: usize = 10_000;
const INTROSPECTION_TTL: Duration = Duration::from_secs(60);

/// Signature algorithms accepted: asymmetric only, so that a public key can never be used as
/// an HMAC secret.
const ALLOWED: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Who a verified token speaks for.
#[derive(Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's subject (`sub`), or its client when it has no subject.
    pub subject: String,
    /// The scopes granted.
    pub scopes: Vec<String>,
    /// The verified access token itself, for a token exchange only (it is removed from the
    /// request, and never sent anywhere else); `None` for a caller not made from a request.
    pub(super) access_token: Option<Secret>,
}

/// Never shows the access token, not even masked: a log line with a caller says who, not how.
impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("subject", &self.subject)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl Caller {
    /// The scopes of `required` this caller lacks.
    pub fn missing<'a>(&self, required: &[&'a str]) -> Vec<&'a str> {
        required
            .iter()
            .filter(|s| !self.scopes.iter().any(|have| have == *s))
            .copied()
            .collect()
    }
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// No bearer token.
    Missing,
    /// A token that cannot be accepted; the reason goes to the log, never to the caller.
    Invalid(String),
    /// The authorization server cannot be reached to check the token.
    Unavailable(String),
    /// The token could be checked only by asking the authorization server (for its keys, or
    /// at its introspection endpoint), which this request may not make the server do: its
    /// address has failed authentication too often.
    NotChecked,
}

/// What the authorization server's metadata says (only URLs [`is_safe_url`] accepts).
#[derive(Debug, Clone)]
pub(super) struct IssuerMetadata {
    pub(super) jwks_uri: Option<String>,
    pub(super) introspection_endpoint: Option<String>,
    /// Where tokens are exchanged (RFC 8693).
    pub(super) token_endpoint: Option<String>,
}

/// Keys as last fetched.
struct Keys {
    keys: Vec<Jwk>,
    fetched: Instant,
}

/// The resource server's configuration and caches.
pub struct ResourceServer {
    issuer: String,
    audience: String,
    resource: String,
    /// The metadata document's URL (path-suffixed form, RFC 9728 section 3.1).
    metadata_url: String,
    scopes_supported: Vec<String>,
    resource_name: String,
    client: reqwest::Client,
    introspection_url: Option<String>,
    introspection_client: Option<(String, String)>,
    metadata: tokio::sync::Mutex<Option<(IssuerMetadata, Instant)>>,
    keys: tokio::sync::RwLock<Option<Keys>>,
    last_refetch: std::sync::Mutex<Option<Instant>>,
    verdicts: std::sync::Mutex<HashMap<[u8; 32], (Caller, Instant)>>,
}

impl std::fmt::Debug for ResourceServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceServer")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

/// Whether `url` may be used to reach an authorization server: https, or http to this machine
/// (tests and local providers).
pub(super) fn is_safe_url(url: &str) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return false;
    };
    match parsed.scheme() {
        "https" => parsed.host_str().is_some(),
        "http" => parsed.host_str().is_some_and(|host| {
            host == "localhost"
                || host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }),
        _ => false,
    }
}

/// The settings of a resource server, as the command line and environment give them.
#[derive(Debug, Clone)]
pub struct ResourceSettings {
    /// `--oauth-issuer`.
    pub issuer: String,
    /// `--public-url`: the MCP endpoint's URL as clients reach it.
    pub public_url: String,
    /// `--oauth-audience`, when it differs from the public URL.
    pub audience: Option<String>,
    /// `--oauth-introspection-url`.
    pub introspection_url: Option<String>,
    /// The introspection client's id and secret.
    pub introspection_client: Option<(String, String)>,
    /// Every scope a tool requires, for the metadata document.
    pub scopes_supported: Vec<String>,
    /// A human-readable name for the metadata document.
    pub resource_name: String,
}

/// The resource server's own OAuth client (`<PREFIX>_OAUTH_CLIENT_ID` and
/// `<PREFIX>_OAUTH_CLIENT_SECRET`, read through `var`): the client that introspects tokens
/// and exchanges them. `None` when neither is set; half of the pair, an empty one or one that
/// is not UTF-8 stops the server.
pub(super) fn client_from_env(
    prefix: &str,
    var: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<Option<(String, String)>, ConfigError> {
    let secret = |name: &str| -> Result<Option<String>, ConfigError> {
        let name = format!("{prefix}_{name}");
        match var(&name) {
            None => Ok(None),
            Some(v) => v
                .into_string()
                .map(Some)
                .map_err(|_| ConfigError::UnreadableVariable {
                    name,
                    problem: "is not valid UTF-8",
                }),
        }
    };
    match (secret("OAUTH_CLIENT_ID")?, secret("OAUTH_CLIENT_SECRET")?) {
        (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => Ok(Some((id, secret))),
        (None, None) => Ok(None),
        _ => Err(ConfigError::UnreadableVariable {
            name: format!("{prefix}_OAUTH_CLIENT_ID"),
            problem: "and its _OAUTH_CLIENT_SECRET must be set together, neither empty",
        }),
    }
}

impl ResourceServer {
    /// The resource server `args` ask for (`--oauth-issuer`), `None` when they ask for none.
    /// The introspection client comes from `<PREFIX>_OAUTH_CLIENT_ID` and
    /// `<PREFIX>_OAUTH_CLIENT_SECRET`.
    pub fn from_args(
        args: &super::config::ServeArgs,
        api: &super::descriptor::ApiDescriptor,
    ) -> Result<Option<Self>, ConfigError> {
        let Some(issuer) = args.oauth_issuer.clone() else {
            return Ok(None);
        };
        if !args.mcp_tokens.is_empty() {
            return Err(ConfigError::InvalidOAuthSetting {
                option: "--oauth-issuer",
                value: issuer,
                problem: "and --mcp-token (or <PREFIX>_MCP_TOKEN) are two ways to authenticate \
                          callers; choose one",
            });
        }
        let public_url =
            args.public_url
                .clone()
                .ok_or_else(|| ConfigError::InvalidOAuthSetting {
                    option: "--oauth-issuer",
                    value: issuer.clone(),
                    problem: "needs --public-url, the URL clients reach the MCP endpoint at (the \
                          audience of its tokens)",
                })?;
        let introspection_client =
            client_from_env(&args.env_prefix, |name| std::env::var_os(name))?;
        let mut scopes_supported: Vec<String> = Vec::new();
        for scope in api.tools.iter().flat_map(|t| t.plan.caller_scopes) {
            if !scopes_supported.iter().any(|s| s == scope) {
                scopes_supported.push((*scope).to_owned());
            }
        }
        Self::new(ResourceSettings {
            issuer,
            public_url,
            audience: args.oauth_audience.clone(),
            introspection_url: args.oauth_introspection_url.clone(),
            introspection_client,
            scopes_supported,
            resource_name: api.title.to_owned(),
        })
        .map(Some)
    }

    /// Checks the settings; nothing is fetched yet (the authorization server may start after
    /// this server: its metadata is fetched on first need).
    pub fn new(settings: ResourceSettings) -> Result<Self, ConfigError> {
        let bad = |option: &'static str, value: &str, problem: &'static str| {
            ConfigError::InvalidOAuthSetting {
                option,
                value: value.to_owned(),
                problem,
            }
        };
        const SAFE: &str = "must be an https URL (http only for loopback addresses)";
        if !is_safe_url(&settings.issuer) {
            return Err(bad("--oauth-issuer", &settings.issuer, SAFE));
        }
        if let Some(url) = &settings.introspection_url
            && !is_safe_url(url)
        {
            return Err(bad("--oauth-introspection-url", url, SAFE));
        }
        let public = reqwest::Url::parse(&settings.public_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some())
            .filter(|u| u.query().is_none() && u.fragment().is_none())
            .ok_or_else(|| {
                bad(
                    "--public-url",
                    &settings.public_url,
                    "must be the absolute http(s) URL of the MCP endpoint, without query or fragment",
                )
            })?;
        if settings.introspection_url.is_some() && settings.introspection_client.is_none() {
            return Err(bad(
                "--oauth-introspection-url",
                settings.introspection_url.as_deref().unwrap_or_default(),
                "needs the introspection client's id and secret in <PREFIX>_OAUTH_CLIENT_ID and \
                 <PREFIX>_OAUTH_CLIENT_SECRET",
            ));
        }
        let path = public.path().trim_end_matches('/');
        let metadata_url = format!(
            "{}/.well-known/oauth-protected-resource{path}",
            public.origin().ascii_serialization()
        );
        let client = super::request::client_builder(FETCH_TIMEOUT, true)
            // Redirects from an authorization server are not followed: its URLs are
            // configured, and a redirect could lead anywhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|source| ConfigError::HttpClient {
                purpose: " for the authorization server",
                source,
            })?;
        let resource = settings.public_url.clone();
        Ok(ResourceServer {
            audience: settings.audience.unwrap_or_else(|| resource.clone()),
            issuer: settings.issuer,
            resource,
            metadata_url,
            scopes_supported: settings.scopes_supported,
            resource_name: settings.resource_name,
            client,
            introspection_url: settings.introspection_url,
            introspection_client: settings.introspection_client,
            metadata: tokio::sync::Mutex::new(None),
            keys: tokio::sync::RwLock::new(None),
            last_refetch: std::sync::Mutex::new(None),
            verdicts: std::sync::Mutex::new(HashMap::new()),
        })
    }

    /// The path of the metadata document on this server (path-suffixed form).
    pub fn metadata_path(&self) -> String {
        reqwest::Url::parse(&self.metadata_url)
            .map(|u| u.path().to_owned())
            .unwrap_or_default()
    }

    /// The protected resource metadata document (RFC 9728).
    pub fn metadata_document(&self) -> Value {
        json!({
            "resource": self.resource,
            "authorization_servers": [self.issuer],
            "bearer_methods_supported": ["header"],
            "scopes_supported": self.scopes_supported,
            "resource_name": self.resource_name,
        })
    }

    /// The `WWW-Authenticate` value of a refusal: where the metadata is, the scopes to ask
    /// for, and the error code where there is one.
    pub fn challenge(&self, error: Option<&str>, scopes: &[&str]) -> String {
        let mut value = format!("Bearer resource_metadata=\"{}\"", self.metadata_url);
        if let Some(error) = error {
            value.push_str(&format!(", error=\"{error}\""));
        }
        let scopes: Vec<&str> = if scopes.is_empty() && error.is_none() {
            self.scopes_supported.iter().map(String::as_str).collect()
        } else {
            scopes.to_vec()
        };
        if !scopes.is_empty() {
            value.push_str(&format!(", scope=\"{}\"", scopes.join(" ")));
        }
        value
    }

    /// Checks the bearer token of a request; without `may_ask_issuer`, only with what is at
    /// hand (keys fetched before, introspection verdicts cached), never asking the
    /// authorization server.
    pub async fn authenticate(
        &self,
        headers: &http::HeaderMap,
        may_ask_issuer: bool,
    ) -> Result<Caller, Rejection> {
        let token = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.get(..7)
                    .filter(|p| p.eq_ignore_ascii_case("bearer "))
                    .map(|_| v[7..].trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or(Rejection::Missing)?;
        let mut caller = if token.split('.').count() == 3 {
            self.verify_jwt(token, may_ask_issuer).await
        } else if self.introspection_url.is_some() {
            self.introspect(token, may_ask_issuer).await
        } else {
            Err(Rejection::Invalid(
                "not a JWT, and no introspection endpoint is configured".to_owned(),
            ))
        }?;
        caller.access_token = Some(Secret::new(token));
        Ok(caller)
    }

    async fn verify_jwt(&self, token: &str, may_ask_issuer: bool) -> Result<Caller, Rejection> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| Rejection::Invalid(format!("unreadable JWT header: {e}")))?;
        if !ALLOWED.contains(&header.alg) {
            return Err(Rejection::Invalid(format!(
                "algorithm {:?} is not accepted",
                header.alg
            )));
        }
        let jwk = self
            .key_for(header.kid.as_deref(), header.alg, may_ask_issuer)
            .await?;
        let key = DecodingKey::from_jwk(&jwk)
            .map_err(|e| Rejection::Invalid(format!("unusable key: {e}")))?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.leeway = LEEWAY.as_secs();
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        let data = jsonwebtoken::decode::<Value>(token, &key, &validation)
            .map_err(|e| Rejection::Invalid(format!("JWT refused: {e}")))?;
        Ok(caller_from_claims(&data.claims))
    }

    /// The key `kid` names (or the only key for `alg` when the token names none), fetching
    /// the key set when it is missing, stale, or lacks that key (rate-limited), if
    /// `may_ask_issuer`.
    async fn key_for(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
        may_ask_issuer: bool,
    ) -> Result<Jwk, Rejection> {
        let find = |keys: &[Jwk]| -> Option<Jwk> {
            let usable = |k: &&Jwk| key_fits(k, alg);
            match kid {
                Some(kid) => keys
                    .iter()
                    .filter(usable)
                    .find(|k| k.common.key_id.as_deref() == Some(kid))
                    .cloned(),
                None => {
                    let mut fitting = keys.iter().filter(usable);
                    match (fitting.next(), fitting.next()) {
                        (Some(only), None) => Some(only.clone()),
                        _ => None,
                    }
                }
            }
        };
        {
            let keys = self.keys.read().await;
            if let Some(keys) = keys.as_ref()
                && keys.fetched.elapsed() < KEYS_TTL
                && let Some(found) = find(&keys.keys)
            {
                return Ok(found);
            }
        }
        if !may_ask_issuer {
            return Err(Rejection::NotChecked);
        }
        let stale = self
            .keys
            .read()
            .await
            .as_ref()
            .is_none_or(|k| k.fetched.elapsed() >= KEYS_TTL);
        if !stale {
            // An unknown key id: fetch again, but not more often than JWKS_REFETCH.
            let mut last = self
                .last_refetch
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if last.is_some_and(|at| at.elapsed() < JWKS_REFETCH) {
                return Err(Rejection::Invalid(format!(
                    "no key {kid:?} for {alg:?} in the issuer's key set"
                )));
            }
            *last = Some(Instant::now());
        }
        let fetched = self.fetch_keys().await?;
        let found = find(&fetched);
        *self.keys.write().await = Some(Keys {
            keys: fetched,
            fetched: Instant::now(),
        });
        found.ok_or_else(|| {
            Rejection::Invalid(format!(
                "no key {kid:?} for {alg:?} in the issuer's key set"
            ))
        })
    }

    async fn fetch_keys(&self) -> Result<Vec<Jwk>, Rejection> {
        let metadata = self.metadata().await?;
        let uri = metadata.jwks_uri.ok_or_else(|| {
            Rejection::Unavailable("the issuer's metadata names no jwks_uri".to_owned())
        })?;
        let set = self.get_json(&uri).await?;
        // Keys of kinds this server cannot use are skipped, not fatal: a key set may hold
        // encryption keys or newer key types beside the signing keys.
        let keys = set
            .get("keys")
            .and_then(Value::as_array)
            .map(|keys| {
                keys.iter()
                    .filter(|k| k.get("use").and_then(Value::as_str) != Some("enc"))
                    .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
                    .collect()
            })
            .unwrap_or_default();
        Ok(keys)
    }

    /// The authorization server's metadata (see [`discover_metadata`]), cached.
    async fn metadata(&self) -> Result<IssuerMetadata, Rejection> {
        let mut cached = self.metadata.lock().await;
        if let Some((metadata, at)) = cached.as_ref()
            && at.elapsed() < KEYS_TTL
        {
            return Ok(metadata.clone());
        }
        let metadata = discover_metadata(&self.client, &self.issuer).await?;
        *cached = Some((metadata.clone(), Instant::now()));
        Ok(metadata)
    }

    /// GETs a JSON document from the authorization server, bounded in size and time.
    async fn get_json(&self, url: &str) -> Result<Value, Rejection> {
        get_json(&self.client, url).await
    }

    /// Asks the introspection endpoint about an opaque token (if `may_ask_issuer`); verdicts
    /// are cached by the token's SHA-256 (never the token itself) until the token expires, at
    /// most a minute.
    async fn introspect(&self, token: &str, may_ask_issuer: bool) -> Result<Caller, Rejection> {
        let digest: [u8; 32] = ring::digest::digest(&ring::digest::SHA256, token.as_bytes())
            .as_ref()
            .try_into()
            .map_err(|_| Rejection::Invalid("digest".to_owned()))?;
        {
            let verdicts = self
                .verdicts
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some((caller, until)) = verdicts.get(&digest)
                && Instant::now() < *until
            {
                return Ok(caller.clone());
            }
        }
        if !may_ask_issuer {
            return Err(Rejection::NotChecked);
        }
        let url = match &self.introspection_url {
            Some(url) => url.clone(),
            None => self
                .metadata()
                .await?
                .introspection_endpoint
                .ok_or_else(|| Rejection::Unavailable("no introspection endpoint".to_owned()))?,
        };
        let (id, secret) = self
            .introspection_client
            .clone()
            .ok_or_else(|| Rejection::Unavailable("no introspection client".to_owned()))?;
        let response = self
            .client
            .post(&url)
            .basic_auth(id, Some(secret))
            .header(http::header::ACCEPT, "application/json")
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(format!(
                "token={}&token_type_hint=access_token",
                percent_encoding::utf8_percent_encode(token, percent_encoding::NON_ALPHANUMERIC)
            ))
            .send()
            .await
            .map_err(|e| Rejection::Unavailable(format!("{url}: {e}")))?;
        let answer = read_json(response, &url).await?;
        if answer.get("active").and_then(Value::as_bool) != Some(true) {
            return Err(Rejection::Invalid("introspection: inactive".to_owned()));
        }
        if answer
            .get("iss")
            .and_then(Value::as_str)
            .is_some_and(|i| i != self.issuer)
        {
            return Err(Rejection::Invalid(
                "introspection: another issuer".to_owned(),
            ));
        }
        // The audience must be named: a token for another resource must not be accepted here.
        let audience_ok = match answer.get("aud") {
            Some(Value::String(aud)) => *aud == self.audience,
            Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(&self.audience)),
            _ => false,
        };
        if !audience_ok {
            return Err(Rejection::Invalid(
                "introspection: another audience".to_owned(),
            ));
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let remaining = answer
            .get("exp")
            .and_then(Value::as_u64)
            .map(|exp| Duration::from_secs(exp.saturating_sub(now)))
            .unwrap_or(INTROSPECTION_TTL)
            .min(INTROSPECTION_TTL);
        let caller = caller_from_claims(&answer);
        let mut verdicts = self
            .verdicts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if verdicts.len() >= INTROSPECTION_CACHE {
            let now = Instant::now();
            verdicts.retain(|_, (_, until)| *until > now);
            if verdicts.len() >= INTROSPECTION_CACHE {
                verdicts.clear();
            }
        }
        verdicts.insert(digest, (caller.clone(), Instant::now() + remaining));
        Ok(caller)
    }
}

/// The metadata of the authorization server `issuer`: RFC 8414 first (path-inserted
/// well-known URL), then OpenID Connect discovery; its `issuer` must be exactly `issuer`, and
/// only the URLs [`is_safe_url`] accepts are taken from it. Not cached here.
pub(super) async fn discover_metadata(
    client: &reqwest::Client,
    issuer: &str,
) -> Result<IssuerMetadata, Rejection> {
    let parsed = reqwest::Url::parse(issuer)
        .map_err(|e| Rejection::Unavailable(format!("issuer URL: {e}")))?;
    let origin = parsed.origin().ascii_serialization();
    let path = parsed.path().trim_end_matches('/');
    let candidates = [
        format!("{origin}/.well-known/oauth-authorization-server{path}"),
        format!("{origin}/.well-known/openid-configuration{path}"),
        format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        ),
    ];
    let mut problems = Vec::new();
    for url in candidates {
        match get_json(client, &url).await {
            Ok(document) => {
                if document.get("issuer").and_then(Value::as_str) != Some(issuer) {
                    problems.push(format!("{url}: its issuer is not {issuer}"));
                    continue;
                }
                let text = |key: &str| {
                    document
                        .get(key)
                        .and_then(Value::as_str)
                        .filter(|u| is_safe_url(u))
                        .map(str::to_owned)
                };
                return Ok(IssuerMetadata {
                    jwks_uri: text("jwks_uri"),
                    introspection_endpoint: text("introspection_endpoint"),
                    token_endpoint: text("token_endpoint"),
                });
            }
            Err(e) => problems.push(format!("{url}: {e:?}")),
        }
    }
    Err(Rejection::Unavailable(format!(
        "no usable authorization server metadata: {}",
        problems.join("; ")
    )))
}

/// GETs a JSON document from an authorization server, bounded in size and time.
async fn get_json(client: &reqwest::Client, url: &str) -> Result<Value, Rejection> {
    let response = client
        .get(url)
        .header(http::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| Rejection::Unavailable(format!("{url}: {e}")))?;
    read_json(response, url).await
}

/// Whether `key` can verify signatures of `alg`: the right key type, and the key's own `alg`
/// (when it names one) equal to it.
fn key_fits(key: &Jwk, alg: Algorithm) -> bool {
    let family_fits = match &key.algorithm {
        AlgorithmParameters::RSA(_) => matches!(
            alg,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
        ),
        AlgorithmParameters::EllipticCurve(_) => {
            matches!(alg, Algorithm::ES256 | Algorithm::ES384)
        }
        AlgorithmParameters::OctetKeyPair(_) => alg == Algorithm::EdDSA,
        // A symmetric key in a public key set is never used.
        AlgorithmParameters::OctetKey(_) => false,
    };
    let named_fits = key
        .common
        .key_algorithm
        // The two enums spell the signature algorithms alike.
        .is_none_or(|named| format!("{named:?}") == format!("{alg:?}"));
    family_fits && named_fits
}

/// The caller a token's claims (or an introspection answer) describe. Scopes come from
/// `scope` (space-separated, RFC 9068) or `scp` (a list or a string, as some providers send).
fn caller_from_claims(claims: &Value) -> Caller {
    let text = |key: &str| claims.get(key).and_then(Value::as_str);
    let subject = text("sub")
        .or_else(|| text("client_id"))
        .or_else(|| text("azp"))
        .unwrap_or("unknown")
        .to_owned();
    let mut scopes: Vec<String> = Vec::new();
    for key in ["scope", "scp"] {
        match claims.get(key) {
            Some(Value::String(s)) => scopes.extend(s.split_whitespace().map(str::to_owned)),
            Some(Value::Array(list)) => {
                scopes.extend(list.iter().filter_map(Value::as_str).map(str::to_owned))
            }
            _ => {}
        }
    }
    Caller {
        subject,
        scopes,
        access_token: None,
    }
}

/// Reads a bounded JSON answer.
async fn read_json(mut response: reqwest::Response, url: &str) -> Result<Value, Rejection> {
    let status = response.status();
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| Rejection::Unavailable(format!("{url}: {e}")))?
    {
        if body.len() + chunk.len() > MAX_DOCUMENT {
            return Err(Rejection::Unavailable(format!(
                "{url}: answer larger than {MAX_DOCUMENT} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    if !status.is_success() {
        return Err(Rejection::Unavailable(format!("{url}: HTTP {status}")));
    }
    serde_json::from_slice(&body)
        .map_err(|e| Rejection::Unavailable(format!("{url}: not JSON: {e}")))
}

/// The middleware of the MCP endpoint in resource-server mode: a request without a valid
/// access token gets 401 with the challenge that sends the client to the metadata; a
/// `tools/call` of a tool whose scopes the token lacks gets 403 `insufficient_scope` naming
/// them (SEP-835: the client asks for more and tries again). The token is removed before the
/// request goes on: it is never forwarded upstream. The caller travels on as a request
/// extension.
///
/// Requests that fail count against their address's `--unauthenticated-rate-limit`; once it
/// is used up, tokens from there are checked only with what is at hand (keys fetched before,
/// cached introspection verdicts) and the others get 429 without the authorization server
/// being asked: a flood of made-up tokens can neither make the server hammer it nor lock out
/// valid callers behind the same address.
pub async fn require_access_token(
    rs: std::sync::Arc<ResourceServer>,
    server: super::server::GeneratedServer,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (mut parts, body) = request.into_parts();
    let peer = super::inbound::peer_ip(&parts.extensions);
    let throttled = super::inbound::unauthenticated_wait(&server, peer);
    let caller = match rs.authenticate(&parts.headers, throttled.is_none()).await {
        Ok(caller) => caller,
        Err(rejection) => {
            if let Some(refused) = super::inbound::limit_unauthenticated(&server, peer) {
                return refused;
            }
            server.metrics().auth_failed();
            let (status, error, text) = match &rejection {
                Rejection::Missing => (
                    http::StatusCode::UNAUTHORIZED,
                    None,
                    "this MCP endpoint requires an OAuth access token",
                ),
                Rejection::Invalid(reason) => {
                    tracing::info!("access token refused: {reason}");
                    (
                        http::StatusCode::UNAUTHORIZED,
                        Some("invalid_token"),
                        "the access token is not valid for this MCP endpoint",
                    )
                }
                // Throttled when it arrived; its address has a token again since, so the next
                // try is checked in full.
                Rejection::NotChecked => {
                    let wait = throttled.unwrap_or_default();
                    return super::inbound::too_many_unauthenticated(&server, wait);
                }
                Rejection::Unavailable(reason) => {
                    tracing::warn!("cannot check access tokens: {reason}");
                    return (
                        http::StatusCode::SERVICE_UNAVAILABLE,
                        [(http::header::RETRY_AFTER, "5")],
                        "the authorization server cannot be reached to check the token",
                    )
                        .into_response();
                }
            };
            return (
                status,
                [(http::header::WWW_AUTHENTICATE, rs.challenge(error, &[]))],
                text,
            )
                .into_response();
        }
    };
    parts.headers.remove(http::header::AUTHORIZATION);
    let body = if parts.method == http::Method::POST {
        let bytes = match super::http::read_request_body(body).await {
            Ok(bytes) => bytes,
            Err(refused) => return refused,
        };
        let required = required_scopes(&server, &bytes);
        let missing = caller.missing(&required);
        if !missing.is_empty() {
            // Ask for what the caller has and what it lacks, so that the new token keeps both.
            let mut wanted: Vec<&str> = caller.scopes.iter().map(String::as_str).collect();
            wanted.extend(missing.iter().copied());
            return (
                http::StatusCode::FORBIDDEN,
                [(
                    http::header::WWW_AUTHENTICATE,
                    rs.challenge(Some("insufficient_scope"), &wanted),
                )],
                format!(
                    "the access token lacks the scope(s) this request needs: {}",
                    missing.join(" ")
                ),
            )
                .into_response();
        }
        axum::body::Body::from(bytes)
    } else {
        body
    };
    parts.extensions.insert(caller);
    next.run(axum::extract::Request::from_parts(parts, body))
        .await
}

/// The scopes the JSON-RPC request in `body` needs of its caller: those of the operation a
/// tool call or a resource read reaches, and of those a prompt's embedded resources reach.
fn required_scopes(server: &super::server::GeneratedServer, body: &[u8]) -> Vec<&'static str> {
    // Only these methods reach operations; other bodies are not parsed.
    const METHODS: [&[u8]; 3] = [b"tools/call", b"resources/read", b"prompts/get"];
    if !METHODS
        .iter()
        .any(|method| body.windows(method.len()).any(|w| w == *method))
    {
        return Vec::new();
    }
    let Ok(message) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    let params = message.get("params");
    let param = |key: &str| params.and_then(|p| p.get(key));
    let text = |key: &str| param(key).and_then(Value::as_str);
    match message.get("method").and_then(Value::as_str) {
        Some("tools/call") => text("name")
            .map(|name| server.required_scopes(name, param("arguments")).to_vec())
            .unwrap_or_default(),
        Some("resources/read") => text("uri")
            .map(|uri| server.resource_scopes(uri).to_vec())
            .unwrap_or_default(),
        Some("prompts/get") => text("name")
            .map(|name| server.prompt_scopes(name, param("arguments")))
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> ResourceSettings {
        ResourceSettings {
            issuer: "https://idp.example.com".to_owned(),
            public_url: "https://mcp.example.com/mcp".to_owned(),
            audience: None,
            introspection_url: None,
            introspection_client: None,
            scopes_supported: vec!["pets:read".to_owned(), "pets:write".to_owned()],
            resource_name: "Pets".to_owned(),
        }
    }

    #[test]
    fn requests_that_reach_operations_need_their_scopes() {
        use super::super::descriptor::{
            ApiDescriptor, CallPlan, ParamPlan, PromptArgumentDescriptor, PromptDescriptor,
            PromptPart, ResourceDescriptor, ToolDescriptor,
        };
        use super::super::server::GeneratedServer;
        use super::super::tests::{TOOL, api, config};
        static TOOLS: [ToolDescriptor; 1] = [ToolDescriptor {
            name: "getPet",
            input_schema: r#"{"type":"object","properties":{"id":{"type":"string"}},"required":["id"]}"#,
            plan: CallPlan {
                path: "/pets/{id}",
                params: &[ParamPlan::path("id")],
                caller_scopes: &["pets:read"],
                ..TOOL.plan
            },
            resource: Some(ResourceDescriptor {
                uri: "docs://pets/{id}",
                mime_type: None,
            }),
            ..TOOL
        }];
        static PROMPTS: [PromptDescriptor; 1] = [PromptDescriptor {
            name: "show",
            title: None,
            description: "Shows a resource.",
            arguments: &[PromptArgumentDescriptor {
                name: "uri",
                description: None,
                required: true,
                values: &[],
            }],
            parts: &[],
            resources: &[&[PromptPart::Argument("uri")]],
            needs_every_tool: true,
        }];
        static API: ApiDescriptor = ApiDescriptor {
            prompts: &PROMPTS,
            ..api(&TOOLS)
        };
        let server = GeneratedServer::new(&API, config(None)).unwrap();
        let scopes = |method: &str, params: Value| {
            let body =
                serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
            required_scopes(&server, body.to_string().as_bytes())
        };
        let call = serde_json::json!({"name": "getPet", "arguments": {"id": "1"}});
        assert_eq!(scopes("tools/call", call), ["pets:read"]);
        let read = serde_json::json!({"uri": "docs://pets/1"});
        assert_eq!(scopes("resources/read", read), ["pets:read"]);
        let embeds = serde_json::json!({"name": "show", "arguments": {"uri": "docs://pets/1"}});
        assert_eq!(scopes("prompts/get", embeds), ["pets:read"]);
        let elsewhere = serde_json::json!({"name": "show", "arguments": {"uri": "docs://x"}});
        assert!(scopes("prompts/get", elsewhere).is_empty());
        assert!(scopes("resources/list", serde_json::json!({})).is_empty());
    }

    #[test]
    fn metadata_and_challenges_name_the_resource() {
        let rs = ResourceServer::new(settings()).unwrap();
        assert_eq!(
            rs.metadata_path(),
            "/.well-known/oauth-protected-resource/mcp"
        );
        let doc = rs.metadata_document();
        assert_eq!(doc["resource"], "https://mcp.example.com/mcp");
        assert_eq!(doc["authorization_servers"][0], "https://idp.example.com");
        assert_eq!(
            rs.challenge(None, &[]),
            "Bearer resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/mcp\", \
             scope=\"pets:read pets:write\""
        );
        assert!(
            rs.challenge(Some("insufficient_scope"), &["pets:write"])
                .ends_with(", error=\"insufficient_scope\", scope=\"pets:write\"")
        );
    }

    #[test]
    fn unsafe_urls_are_refused() {
        for (issuer, ok) in [
            ("https://idp.example.com", true),
            ("http://127.0.0.1:9000", true),
            ("http://localhost:9000", true),
            ("http://idp.example.com", false),
            ("ftp://idp.example.com", false),
            ("not a url", false),
        ] {
            let mut s = settings();
            s.issuer = issuer.to_owned();
            assert_eq!(ResourceServer::new(s).is_ok(), ok, "{issuer}");
        }
        let mut s = settings();
        s.public_url = "/mcp".to_owned();
        assert!(ResourceServer::new(s).is_err());
        let mut s = settings();
        s.introspection_url = Some("https://idp.example.com/introspect".to_owned());
        assert!(
            ResourceServer::new(s).is_err(),
            "an introspection client is needed"
        );
    }

    #[test]
    fn scopes_come_from_scope_or_scp() {
        let caller = caller_from_claims(&json!({"sub": "u1", "scope": "a b"}));
        assert_eq!(caller.subject, "u1");
        assert_eq!(caller.scopes, ["a", "b"]);
        let caller = caller_from_claims(&json!({"client_id": "c", "scp": ["x", "y"]}));
        assert_eq!(caller.subject, "c");
        assert_eq!(caller.missing(&["x", "z"]), ["z"]);
    }
}
