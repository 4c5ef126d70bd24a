//! OAuth 2.0 Token Exchange (RFC 8693): a resource server's callers reach the upstream API as
//! themselves. Each caller's verified access token (the *subject token*) is exchanged at the
//! authorization server's token endpoint for an access token for the upstream (the configured
//! `resource`, RFC 8707), and that token is what the call sends upstream. The caller's own
//! token goes to the token endpoint only, never upstream.
//!
//! The token endpoint is the operator's `--token-exchange-url`, or the `token_endpoint` of the
//! issuer's metadata; it must use https unless it is on this machine, and redirects from it
//! are never followed, so neither the subject token nor the client secret can be led
//! elsewhere. Answers are read to at most [`MAX_TOKEN_ANSWER_BYTES`] within the call's
//! timeout.
//!
//! Exchanged tokens are cached by the SHA-256 of their subject token (one exchanger has one
//! resource, so this is the pair of both), never by the token itself, until [`EXPIRY_MARGIN`]
//! before they expire, at most [`MAX_CACHED`] of them. Concurrent calls with one subject token
//! share one exchange, and its outcome: a refusal is not asked again by every call waiting
//! for it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::config::{ConfigError, ServeArgs};
use super::credentials::{ClientCredentials, Secret};
use super::oauth::{
    MAX_TOKEN_ANSWER_BYTES, bounded, client_basic_auth, read_bounded, read_token, without_query,
};
use super::params;
use super::request::client_builder;
use super::resource_server::{Caller, client_from_env, discover_metadata, is_safe_url};

/// RFC 8693's grant type.
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// RFC 8693's token type of an access token: what is sent, and what is asked for.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
/// Exchanged tokens kept at most; past it, the expired ones are dropped, and all of them if
/// that is not enough (as the introspection cache does).
const MAX_CACHED: usize = 10_000;
/// An exchanged token is used until this long before it expires: it must not expire on its
/// way to the upstream.
const EXPIRY_MARGIN: Duration = Duration::from_secs(30);
/// How long a discovered token endpoint is used before the metadata is read again.
const METADATA_TTL: Duration = Duration::from_secs(3600);

/// What the operator configured: `--token-exchange-resource` and the options beside it, the
/// resource server's issuer, and its OAuth client.
#[derive(Debug, Clone)]
pub struct TokenExchangeSettings {
    /// The authorization server (`--oauth-issuer`), whose metadata names the token endpoint.
    pub issuer: String,
    /// The `resource` the new token is asked for: the upstream API's identifier.
    pub resource: String,
    /// The `audience` asked for as well, if any.
    pub audience: Option<String>,
    /// The `scope` asked for (space-separated), if any; by default the authorization server
    /// decides (the subject token's scopes, usually).
    pub scope: Option<String>,
    /// The token endpoint, when not the metadata's.
    pub url: Option<String>,
    /// The client that exchanges: `<PREFIX>_OAUTH_CLIENT_ID` and `<PREFIX>_OAUTH_CLIENT_SECRET`.
    pub client: Arc<ClientCredentials>,
}

impl TokenExchangeSettings {
    /// The exchange `args` ask for, for `resource` (the URI `--token-exchange-resource` gives,
    /// without the API's name in a server of several), `None` when they ask for none. The
    /// client's id and secret are read through `var` under `prefix`. Every problem stops the
    /// server: no issuer, a resource that is not an absolute URI, a token endpoint that is
    /// neither https nor on this machine, no client, or an option of the exchange without
    /// `--token-exchange-resource`.
    pub fn from_args(
        args: &ServeArgs,
        resource: Option<String>,
        prefix: &str,
        var: impl Fn(&str) -> Option<std::ffi::OsString>,
    ) -> Result<Option<Self>, ConfigError> {
        let given = |value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let bad = |option: &'static str, value: &str, problem: &'static str| {
            ConfigError::InvalidOAuthSetting {
                option,
                value: value.to_owned(),
                problem,
            }
        };
        let audience = given(&args.token_exchange_audience);
        let scope = given(&args.token_exchange_scope)
            .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "));
        let url = given(&args.token_exchange_url);
        let Some(resource) = given(&resource) else {
            for (option, value) in [
                ("--token-exchange-audience", &audience),
                ("--token-exchange-scope", &scope),
                ("--token-exchange-url", &url),
            ] {
                if let Some(value) = value {
                    return Err(bad(
                        option,
                        value,
                        "needs --token-exchange-resource, which turns token exchange on",
                    ));
                }
            }
            return Ok(None);
        };
        let Some(issuer) = args.oauth_issuer.clone() else {
            return Err(bad(
                "--token-exchange-resource",
                &resource,
                "needs --oauth-issuer: only the access tokens of a resource server's callers \
                 can be exchanged",
            ));
        };
        if reqwest::Url::parse(&resource).map_or(true, |u| u.fragment().is_some()) {
            return Err(bad(
                "--token-exchange-resource",
                &resource,
                "must be an absolute URI without a fragment (RFC 8707), the upstream API's \
                 identifier at the authorization server",
            ));
        }
        if let Some(url) = &url
            && !is_safe_url(url)
        {
            return Err(bad(
                "--token-exchange-url",
                url,
                "must be an https URL (http only for loopback addresses)",
            ));
        }
        let Some((client_id, client_secret)) = client_from_env(prefix, var)? else {
            return Err(ConfigError::TokenExchangeClient {
                id_variable: format!("{prefix}_OAUTH_CLIENT_ID"),
                secret_variable: format!("{prefix}_OAUTH_CLIENT_SECRET"),
            });
        };
        Ok(Some(TokenExchangeSettings {
            issuer,
            resource,
            audience,
            scope,
            url,
            client: Arc::new(ClientCredentials {
                client_id: Secret::new(client_id),
                client_secret: Secret::new(client_secret),
            }),
        }))
    }
}

/// Why a caller's token could not be exchanged. The messages are for the model, and name the
/// authorization server's error code, never a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExchangeError {
    /// The authorization server answered with an error.
    #[error(
        "The call was not sent: the authorization server refused to exchange the caller's \
         access token for a token for the upstream API ({reason}). Calling again will not help \
         until the caller's grant or this server's configuration changes."
    )]
    Refused {
        /// The HTTP status and the OAuth `error` code.
        reason: String,
    },
    /// No answer, or one without a usable token.
    #[error(
        "The call was not sent: the caller's access token could not be exchanged for a token \
         for the upstream API: {reason}."
    )]
    Unavailable {
        /// What went wrong.
        reason: String,
    },
}

fn unavailable(reason: impl Into<String>) -> ExchangeError {
    ExchangeError::Unavailable {
        reason: reason.into(),
    }
}

/// An exchanged token, ready for the `Authorization` header, and until when it is used.
struct Cached {
    /// `Bearer <token>`.
    header: Secret,
    until: Instant,
}

/// One exchange under way, shared by the calls that need it.
type Flight = Arc<tokio::sync::OnceCell<Result<Secret, ExchangeError>>>;

/// Exchanges callers' tokens, and keeps what it got.
pub struct TokenExchange {
    settings: TokenExchangeSettings,
    client: reqwest::Client,
    /// `--token-exchange-url`, parsed.
    fixed_endpoint: Option<reqwest::Url>,
    /// The metadata's token endpoint as last discovered; the lock makes concurrent first
    /// calls read the metadata once.
    discovered: tokio::sync::Mutex<Option<(reqwest::Url, Instant)>>,
    cache: Mutex<HashMap<[u8; 32], Cached>>,
    flights: Mutex<HashMap<[u8; 32], Flight>>,
}

impl std::fmt::Debug for TokenExchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenExchange")
            .field("resource", &self.settings.resource)
            .field("endpoint", &self.destination())
            .finish_non_exhaustive()
    }
}

/// Leaves a flight: the first participant to finish (or to be cancelled) takes it off the
/// list, so that a later call starts afresh (after a refusal) or finds the cache (after a
/// success). Participants still waiting keep their handle on it.
struct Leave<'a> {
    flights: &'a Mutex<HashMap<[u8; 32], Flight>>,
    key: [u8; 32],
    flight: Flight,
}

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        let mut flights = self.flights.lock().unwrap_or_else(PoisonError::into_inner);
        if flights
            .get(&self.key)
            .is_some_and(|f| Arc::ptr_eq(f, &self.flight))
        {
            flights.remove(&self.key);
        }
    }
}

/// The cache key of a subject token: its SHA-256, so that the cache never holds the token.
fn key_of(subject: &Secret) -> [u8; 32] {
    let mut key = [0u8; 32];
    key.copy_from_slice(
        ring::digest::digest(&ring::digest::SHA256, subject.expose().as_bytes()).as_ref(),
    );
    key
}

impl TokenExchange {
    /// Prepares exchanges with `settings`; each is bounded by `timeout`. Nothing is fetched
    /// yet: the authorization server may start after this server.
    pub fn new(settings: TokenExchangeSettings, timeout: Duration) -> Result<Self, ConfigError> {
        let fixed_endpoint =
            match &settings.url {
                Some(url) => Some(reqwest::Url::parse(url).map_err(|_| {
                    ConfigError::InvalidOAuthSetting {
                        option: "--token-exchange-url",
                        value: url.clone(),
                        problem: "is not a valid URL",
                    }
                })?),
                None => None,
            };
        let tls = settings.issuer.starts_with("https:")
            || fixed_endpoint
                .as_ref()
                .is_some_and(|u| u.scheme() == "https");
        // Never follow a redirect from the token endpoint: it would carry the caller's token
        // and the client secret to wherever it points.
        let client = client_builder(timeout, tls)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|source| ConfigError::HttpClient {
                purpose: " for token exchange",
                source,
            })?;
        Ok(TokenExchange {
            settings,
            client,
            fixed_endpoint,
            discovered: tokio::sync::Mutex::new(None),
            cache: Mutex::new(HashMap::new()),
            flights: Mutex::new(HashMap::new()),
        })
    }

    /// Where exchanges go and for what, one line without secrets: what the server says at
    /// start-up it will contact.
    pub fn destination(&self) -> String {
        let endpoint = match &self.fixed_endpoint {
            Some(url) => without_query(url),
            None => format!("the token_endpoint of {}'s metadata", self.settings.issuer),
        };
        format!(
            "token exchange (RFC 8693) for `{}`: {endpoint}",
            self.settings.resource
        )
    }

    /// The `Authorization` value (`Bearer <token>`) for the upstream on behalf of `caller`:
    /// the cached exchanged token while it is fresh, else a new exchange (shared with the
    /// concurrent calls of the same caller).
    pub async fn authorization(&self, caller: &Caller) -> Result<Secret, ExchangeError> {
        let subject = caller
            .access_token
            .as_ref()
            .ok_or_else(|| unavailable("the call carries no access token to exchange"))?;
        let key = key_of(subject);
        if let Some(header) = self.cached(&key) {
            return Ok(header);
        }
        let flight = self
            .flights
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key)
            .or_default()
            .clone();
        let _leave = Leave {
            flights: &self.flights,
            key,
            flight: flight.clone(),
        };
        flight
            .get_or_init(|| async {
                // A flight that ended between the look at the cache and joining this one
                // may have left a token.
                if let Some(header) = self.cached(&key) {
                    return Ok(header);
                }
                let (header, lifetime) = self.exchange(subject, caller).await?;
                self.remember(key, &header, lifetime);
                Ok(header)
            })
            .await
            .clone()
    }

    /// Forgets the token `used` for `caller` after the upstream refused it, so that the next
    /// call exchanges again. A token exchanged meanwhile by another call is kept.
    pub fn forget(&self, caller: &Caller, used: &Secret) {
        let Some(subject) = caller.access_token.as_ref() else {
            return;
        };
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        let key = key_of(subject);
        if cache.get(&key).is_some_and(|c| c.header == *used) {
            cache.remove(&key);
        }
    }

    /// Puts `header` in the cache for `caller`, as if it had been exchanged: for tests of the
    /// call path (which generated crates' copies of the runtime leave out, hence the allow).
    #[cfg(test)]
    #[allow(dead_code)]
    pub(super) fn prime(&self, caller: &Caller, header: &Secret, lifetime: Duration) {
        if let Some(subject) = &caller.access_token {
            self.remember(key_of(subject), header, Some(lifetime));
        }
    }

    /// The cached token of `key` while it is fresh.
    fn cached(&self, key: &[u8; 32]) -> Option<Secret> {
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        match cache.get(key) {
            Some(cached) if Instant::now() < cached.until => Some(cached.header.clone()),
            Some(_) => {
                cache.remove(key);
                None
            }
            None => None,
        }
    }

    /// Keeps `header` until [`EXPIRY_MARGIN`] before its `lifetime` ends; a token without a
    /// lifetime, or with one shorter than the margin, serves only the calls that waited for
    /// it.
    fn remember(&self, key: [u8; 32], header: &Secret, lifetime: Option<Duration>) {
        let Some(until) = lifetime
            .filter(|l| *l > EXPIRY_MARGIN)
            .and_then(|l| Instant::now().checked_add(l - EXPIRY_MARGIN))
        else {
            return;
        };
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= MAX_CACHED && !cache.contains_key(&key) {
            let now = Instant::now();
            cache.retain(|_, c| c.until > now);
            if cache.len() >= MAX_CACHED {
                cache.clear();
            }
        }
        cache.insert(
            key,
            Cached {
                header: header.clone(),
                until,
            },
        );
    }

    /// The token endpoint: the operator's, or the one the issuer's metadata names.
    async fn endpoint(&self) -> Result<reqwest::Url, ExchangeError> {
        if let Some(url) = &self.fixed_endpoint {
            return Ok(url.clone());
        }
        let mut discovered = self.discovered.lock().await;
        if let Some((url, at)) = discovered.as_ref()
            && at.elapsed() < METADATA_TTL
        {
            return Ok(url.clone());
        }
        let metadata = discover_metadata(&self.client, &self.settings.issuer)
            .await
            .map_err(|rejection| {
                tracing::warn!("token exchange: {rejection:?}");
                unavailable("the authorization server's metadata cannot be read")
            })?;
        let url = metadata
            .token_endpoint
            .and_then(|url| reqwest::Url::parse(&url).ok())
            .ok_or_else(|| {
                unavailable(
                    "the authorization server's metadata names no token_endpoint this server \
                     may use (https, or http on this machine)",
                )
            })?;
        *discovered = Some((url.clone(), Instant::now()));
        Ok(url)
    }

    /// One exchange: the new token's `Authorization` value and lifetime.
    async fn exchange(
        &self,
        subject: &Secret,
        caller: &Caller,
    ) -> Result<(Secret, Option<Duration>), ExchangeError> {
        let url = self.endpoint().await?;
        let settings = &self.settings;
        let mut form = vec![
            ("grant_type", GRANT_TYPE),
            ("subject_token", subject.expose()),
            ("subject_token_type", ACCESS_TOKEN_TYPE),
            ("requested_token_type", ACCESS_TOKEN_TYPE),
            ("resource", settings.resource.as_str()),
        ];
        if let Some(audience) = &settings.audience {
            form.push(("audience", audience));
        }
        if let Some(scope) = &settings.scope {
            form.push(("scope", scope));
        }
        let body = form
            .iter()
            .map(|(k, v)| params::encoded_pair(k, v))
            .collect::<Vec<_>>()
            .join("&");
        let authorization = client_basic_auth(&settings.client)
            .ok_or_else(|| unavailable("this server's client id or secret cannot be sent"))?;
        let response = self
            .client
            .post(url.clone())
            .header(http::header::ACCEPT, "application/json")
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(http::header::AUTHORIZATION, authorization)
            .body(body)
            .send()
            .await
            .map_err(|e| {
                unavailable(if e.is_timeout() {
                    "the token endpoint did not answer in time"
                } else if e.is_connect() {
                    "could not connect to the token endpoint"
                } else {
                    "the request to the token endpoint failed"
                })
            })?;
        let status = response.status();
        let bytes = read_bounded(response, MAX_TOKEN_ANSWER_BYTES)
            .await
            .map_err(|e| unavailable(e.message))?;
        let answer: Option<Value> = serde_json::from_slice(&bytes).ok();
        // The authorization server's words, unless they repeat the token (a careless one
        // might).
        let words = |key: &str| {
            answer
                .as_ref()
                .and_then(|a| a.get(key))
                .and_then(Value::as_str)
                .map(bounded)
                .filter(|w| !w.contains(subject.expose()))
        };
        if !status.is_success() {
            let code = words("error");
            tracing::info!(
                subject = %caller.subject,
                status = status.as_u16(),
                error = code.as_deref().unwrap_or("-"),
                description = words("error_description").as_deref().unwrap_or("-"),
                endpoint = %without_query(&url),
                "token exchange refused"
            );
            let mut reason = format!("HTTP {}", status.as_u16());
            if let Some(code) = code {
                reason = format!("{code}, {reason}");
            }
            // A refusal of this server's own client is the operator's to fix, not the
            // caller's.
            if status == http::StatusCode::UNAUTHORIZED
                || words("error").as_deref() == Some("invalid_client")
            {
                return Err(unavailable(format!(
                    "the authorization server does not accept this server's client ({reason}); \
                     the operator must check its client id and secret"
                )));
            }
            return Err(ExchangeError::Refused { reason });
        }
        let answer =
            answer.ok_or_else(|| unavailable("the token endpoint's answer is not JSON"))?;
        if let Some(kind) = answer.get("issued_token_type").and_then(Value::as_str)
            && kind != ACCESS_TOKEN_TYPE
        {
            return Err(unavailable(format!(
                "the authorization server issued a token of type `{}`, not an access token",
                bounded(kind)
            )));
        }
        let (token, lifetime) = read_token(&answer).map_err(unavailable)?;
        // Never the caller's own token, whatever the authorization server answers.
        if token == subject.expose() {
            return Err(unavailable(
                "the authorization server answered with the caller's own token",
            ));
        }
        tracing::debug!(
            subject = %caller.subject,
            lifetime_secs = lifetime.map(|d| d.as_secs()),
            "exchanged the caller's access token for the upstream"
        );
        Ok((Secret::new(format!("Bearer {token}")), lifetime))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn settings(
        extra: &[&str],
        vars: &[(&str, &str)],
    ) -> Result<Option<TokenExchangeSettings>, String> {
        let mut argv = vec!["server"];
        argv.extend_from_slice(extra);
        let args = ServeArgs::parse_from(argv);
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let resource = args.token_exchange_resource.clone();
        TokenExchangeSettings::from_args(&args, resource, "T", move |name| {
            vars.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| std::ffi::OsString::from(v))
        })
        .map_err(|e| e.to_string())
    }

    const CLIENT: &[(&str, &str)] = &[
        ("T_OAUTH_CLIENT_ID", "rs"),
        ("T_OAUTH_CLIENT_SECRET", "rs-secret"),
    ];
    const ISSUER: &[&str] = &["--oauth-issuer", "https://idp.example.com"];

    #[test]
    fn exchange_is_off_unless_a_resource_is_given() {
        assert!(settings(&[], CLIENT).unwrap().is_none());
        assert!(settings(ISSUER, CLIENT).unwrap().is_none());
        let err = settings(&["--token-exchange-scope", "pets:read"], CLIENT).unwrap_err();
        assert!(
            err.contains("--token-exchange-scope")
                && err.contains("needs --token-exchange-resource"),
            "{err}"
        );
    }

    #[test]
    fn an_exchange_needs_an_issuer_a_resource_uri_a_safe_url_and_a_client() {
        let resource = ["--token-exchange-resource", "https://api.example.com/v1"];
        let err = settings(&resource, CLIENT).unwrap_err();
        assert!(err.contains("needs --oauth-issuer"), "{err}");
        let with = |more: &[&'static str]| -> Vec<&'static str> {
            let mut all = ISSUER.to_vec();
            all.extend_from_slice(more);
            all
        };
        let err = settings(&with(&resource), &[]).unwrap_err();
        assert!(
            err.contains("T_OAUTH_CLIENT_ID") && err.contains("T_OAUTH_CLIENT_SECRET"),
            "{err}"
        );
        let err = settings(&with(&["--token-exchange-resource", "pets-api"]), CLIENT).unwrap_err();
        assert!(err.contains("absolute URI"), "{err}");
        let err = settings(
            &with(&[
                "--token-exchange-resource",
                "https://api.example.com/v1",
                "--token-exchange-url",
                "http://idp.example.com/token",
            ]),
            CLIENT,
        )
        .unwrap_err();
        assert!(err.contains("must be an https URL"), "{err}");
        let ok = settings(
            &with(&[
                "--token-exchange-resource",
                "https://api.example.com/v1",
                "--token-exchange-scope",
                " pets:read   pets:write ",
                "--token-exchange-audience",
                "pets",
                "--token-exchange-url",
                "http://127.0.0.1:9/token",
            ]),
            CLIENT,
        )
        .unwrap()
        .unwrap();
        assert_eq!(ok.resource, "https://api.example.com/v1");
        assert_eq!(ok.scope.as_deref(), Some("pets:read pets:write"));
        assert_eq!(ok.audience.as_deref(), Some("pets"));
        assert_eq!(ok.client.client_id.expose(), "rs");
        assert!(!format!("{ok:?}").contains("rs-secret"));
        let exchange = TokenExchange::new(ok, Duration::from_secs(1)).unwrap();
        assert_eq!(
            exchange.destination(),
            "token exchange (RFC 8693) for `https://api.example.com/v1`: http://127.0.0.1:9/token"
        );
    }

    fn caller(token: &str) -> Caller {
        Caller {
            subject: "alice".to_owned(),
            scopes: vec!["pets:read".to_owned()],
            access_token: Some(Secret::new(token)),
        }
    }

    #[test]
    fn a_caller_never_shows_its_token() {
        let shown = format!("{:?}", caller("eyJ.secret-token.sig"));
        assert!(
            shown.contains("alice") && !shown.contains("secret-token"),
            "{shown}"
        );
    }

    fn exchanger() -> TokenExchange {
        let settings = TokenExchangeSettings {
            issuer: "http://127.0.0.1:9".to_owned(),
            resource: "http://127.0.0.1:9/v1".to_owned(),
            audience: None,
            scope: None,
            // Nothing listens there: an exchange that is tried fails.
            url: Some("http://127.0.0.1:9/token".to_owned()),
            client: Arc::new(ClientCredentials {
                client_id: Secret::new("rs"),
                client_secret: Secret::new("s"),
            }),
        };
        TokenExchange::new(settings, Duration::from_secs(2)).unwrap()
    }

    #[tokio::test]
    async fn exchanged_tokens_are_cached_per_subject_token_until_shortly_before_they_expire() {
        let exchange = exchanger();
        let alice = caller("alice-token");
        let key = key_of(alice.access_token.as_ref().unwrap());
        let header = Secret::new("Bearer exchanged");
        exchange.remember(key, &header, Some(Duration::from_secs(300)));
        assert_eq!(exchange.authorization(&alice).await, Ok(header.clone()));
        // Another token of the same subject is another cache entry.
        let refused = exchange.authorization(&caller("alice-other-token")).await;
        assert!(
            matches!(&refused, Err(ExchangeError::Unavailable { reason }) if reason.contains("connect")),
            "{refused:?}"
        );
        // A token the upstream refused is forgotten; another one is not.
        exchange.forget(&alice, &Secret::new("Bearer something-else"));
        assert!(exchange.cached(&key).is_some());
        exchange.forget(&alice, &header);
        assert!(exchange.cached(&key).is_none());
        // A lifetime within the margin is not kept.
        exchange.remember(key, &header, Some(EXPIRY_MARGIN));
        assert!(exchange.cached(&key).is_none());
        exchange.remember(key, &header, None);
        assert!(exchange.cached(&key).is_none());
        // Nothing to exchange.
        let anonymous = Caller {
            access_token: None,
            ..alice
        };
        assert!(exchange.authorization(&anonymous).await.is_err());
        assert!(
            exchange.flights.lock().unwrap().is_empty(),
            "flights are left"
        );
    }

    #[test]
    fn the_cache_is_bounded() {
        let exchange = exchanger();
        let header = Secret::new("Bearer t");
        for i in 0..MAX_CACHED + 5 {
            let mut key = [0u8; 32];
            key[..8].copy_from_slice(&(i as u64).to_le_bytes());
            exchange.remember(key, &header, Some(Duration::from_secs(600)));
        }
        assert!(exchange.cache.lock().unwrap().len() <= MAX_CACHED);
    }

    /// A token endpoint on a free loopback port that answers every request after a pause,
    /// with `answer` (status, body); and the number of requests it got.
    async fn token_endpoint(answer: (u16, Value)) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let count = Arc::new(AtomicUsize::new(0));
        let seen = count.clone();
        let app = axum::Router::new().route(
            "/token",
            axum::routing::post(move |body: String| {
                let seen = seen.clone();
                let answer = answer.clone();
                async move {
                    assert!(body.contains("subject_token=alice-token"), "{body}");
                    let n = seen.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    let mut body = answer.1;
                    if let Some(token) = body.get_mut("access_token") {
                        *token = Value::String(format!("exchanged-{n}"));
                    }
                    (
                        http::StatusCode::from_u16(answer.0).unwrap(),
                        [(http::header::CONTENT_TYPE, "application/json")],
                        body.to_string(),
                    )
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/token", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let service = hyper_util::service::TowerToHyperService::new(app.clone());
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service),
                );
            }
        });
        (url, count)
    }

    fn exchanger_at(url: &str) -> TokenExchange {
        let mut settings = exchanger().settings;
        settings.url = Some(url.to_owned());
        TokenExchange::new(settings, Duration::from_secs(5)).unwrap()
    }

    /// Eight calls of `caller` at once.
    async fn together(
        exchange: &Arc<TokenExchange>,
        caller: &Caller,
    ) -> Vec<Result<Secret, ExchangeError>> {
        let mut calls = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let (exchange, caller) = (exchange.clone(), caller.clone());
            calls.spawn(async move { exchange.authorization(&caller).await });
        }
        calls.join_all().await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_calls_of_one_caller_share_one_exchange() {
        use std::sync::atomic::Ordering;
        let (url, count) = token_endpoint((
            200,
            serde_json::json!({"access_token": "", "token_type": "Bearer", "expires_in": 300,
                "issued_token_type": ACCESS_TOKEN_TYPE}),
        ))
        .await;
        let exchange = Arc::new(exchanger_at(&url));
        let alice = caller("alice-token");
        let got = together(&exchange, &alice).await;
        assert!(
            got.iter()
                .all(|g| g == &Ok(Secret::new("Bearer exchanged-0"))),
            "{got:?}"
        );
        assert_eq!(count.load(Ordering::SeqCst), 1);
        // Cached afterwards.
        assert_eq!(
            exchange.authorization(&alice).await,
            Ok(Secret::new("Bearer exchanged-0"))
        );
        assert_eq!(count.load(Ordering::SeqCst), 1);
        assert!(exchange.flights.lock().unwrap().is_empty());

        // A refusal is shared too, and not cached: a later call asks again.
        let (url, count) = token_endpoint((
            400,
            serde_json::json!({"error": "invalid_scope",
                "error_description": "the subject token does not hold admin"}),
        ))
        .await;
        let exchange = Arc::new(exchanger_at(&url));
        let got = together(&exchange, &alice).await;
        let expected = Err(ExchangeError::Refused {
            reason: "invalid_scope, HTTP 400".to_owned(),
        });
        assert!(got.iter().all(|g| g == &expected), "{got:?}");
        assert_eq!(count.load(Ordering::SeqCst), 1);
        assert_eq!(exchange.authorization(&alice).await, expected);
        assert_eq!(count.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn refusals_name_the_code_and_no_token() {
        let refused = ExchangeError::Refused {
            reason: "invalid_scope, HTTP 400".to_owned(),
        }
        .to_string();
        assert!(
            refused.contains("refused to exchange") && refused.contains("invalid_scope"),
            "{refused}"
        );
    }
}
