//! A real OpenID provider for the authorization tests: panva's `oidc-provider` (OpenID
//! Certified), configured by `tests/oidc/provider.mjs` and pinned by
//! `tests/oidc/package-lock.json`. Every token a test hands to a resource server, good or bad,
//! is issued and signed by the provider itself; nothing here mints one.
//!
//! [`OidcProvider::start`] installs the provider on first use (`scripts/oidc-provider.sh
//! install`, into `target/node-tools/oidc`, with a Node 22 from npm when the machine's is older:
//! a fresh machine needs only npm and the npm registry; the script locks and stamps the
//! install, so parallel tests and later runs do not install again), starts it on a free
//! loopback port and stops it when dropped.
//!
//! What each kind of token is, and which client it comes from, is listed in
//! `tests/oidc/provider.mjs`; [`TokenKind`] names them.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

use crate::{ensure_crypto_provider, workspace_root};

/// The client whose client-credentials tokens are RS256 JWTs ([`TokenKind::Rs256`]).
pub const CLIENT_ID: &str = "mcp-test-client";
/// The secret of every `mcp-test-client*` client.
pub const CLIENT_SECRET: &str = "mcp-test-secret";
/// The client standing for the MCP server: the only one allowed to introspect, and the one that
/// exchanges tokens.
pub const RS_CLIENT_ID: &str = "mcp-resource-server";
/// [`RS_CLIENT_ID`]'s secret.
pub const RS_CLIENT_SECRET: &str = "rs-secret";
/// The scopes every client may ask for.
pub const SCOPES: &str = "pets:read pets:write admin";
/// The shared secret of [`TokenKind::Hs256`] tokens.
pub const HS256_SECRET: &str = "mcp-test-hs256-secret-at-least-32-bytes";
/// RFC 8693's grant type.
pub const TOKEN_EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// RFC 8693's token type of an access token.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// The kinds of access token the provider issues by client credentials. Each comes from a
/// client of its own (same secret, same scopes); the `resource` asked for becomes `aud`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// A JWT (`typ` `at+jwt`) signed RS256 by the first RSA key; valid for an hour.
    Rs256,
    /// A JWT signed ES256 by the P-256 key.
    Es256,
    /// A JWT signed PS256 by the first RSA key.
    Ps256,
    /// A JWT signed HS256 with [`HS256_SECRET`]: no key of the JWKS verifies it.
    Hs256,
    /// An opaque token, for introspection.
    Opaque,
    /// A JWT that expires one second after it is issued.
    ShortLived,
    /// A JWT whose `exp` lies an hour in the past (beyond any clock leeway).
    Expired,
    /// A JWT whose `nbf` lies an hour in the future.
    NotYetValid,
}

impl TokenKind {
    /// The client that gets this kind of token.
    pub fn client_id(self) -> &'static str {
        match self {
            TokenKind::Rs256 => CLIENT_ID,
            TokenKind::Es256 => "mcp-test-client-es256",
            TokenKind::Ps256 => "mcp-test-client-ps256",
            TokenKind::Hs256 => "mcp-test-client-hs256",
            TokenKind::Opaque => "mcp-test-client-opaque",
            TokenKind::ShortLived => "mcp-test-client-short",
            TokenKind::Expired => "mcp-test-client-expired",
            TokenKind::NotYetValid => "mcp-test-client-future",
        }
    }
}

/// A request the provider refused: the HTTP status and the OAuth error body.
#[derive(Debug, Clone)]
pub struct OAuthError {
    /// The HTTP status.
    pub status: u16,
    /// The body, `{"error": ..., "error_description": ...}` for OAuth errors.
    pub body: Value,
}

impl OAuthError {
    /// The `error` code, such as `invalid_grant`.
    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or_default()
    }
}

/// A running provider (a child process, killed on drop).
pub struct OidcProvider {
    _child: Child,
    // The provider exits when this closes, even if the test process dies without dropping it.
    _stdin: ChildStdin,
    issuer: String,
    http: reqwest::Client,
    /// The provider's stderr so far (a background task reads it): rejected requests are logged
    /// there with the reason.
    pub stderr: Arc<Mutex<String>>,
}

/// The node binary and the provider script, once the install script has run.
struct Installed {
    node: PathBuf,
    script: PathBuf,
}

/// Runs `scripts/oidc-provider.sh install` once per test process.
fn install() -> &'static Installed {
    static INSTALLED: OnceLock<Result<Installed, String>> = OnceLock::new();
    let installed = INSTALLED.get_or_init(|| {
        let script = workspace_root().join("scripts").join("oidc-provider.sh");
        let output = std::process::Command::new("bash")
            .arg(&script)
            .arg("install")
            .current_dir(workspace_root())
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("running {} failed: {e}", script.display()))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let line = |prefix: &str| {
            stdout
                .lines()
                .find_map(|l| l.strip_prefix(prefix))
                .map(PathBuf::from)
        };
        match (output.status.success(), line("node "), line("script ")) {
            (true, Some(node), Some(script)) => Ok(Installed { node, script }),
            _ => Err(format!(
                "the OpenID provider for the authorization tests could not be installed \
                 ({} install, {}; it needs npm and reaches the npm registry):\n{}{}",
                script.display(),
                output.status,
                stdout,
                String::from_utf8_lossy(&output.stderr)
            )),
        }
    });
    match installed {
        Ok(installed) => installed,
        Err(message) => panic!("{message}"),
    }
}

/// `application/x-www-form-urlencoded`.
fn form(pairs: &[(&str, &str)]) -> String {
    fn encode(text: &str, out: &mut String) {
        for byte in text.bytes() {
            match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                    out.push(byte as char)
                }
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{byte:02X}")),
            }
        }
    }
    let mut out = String::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode(name, &mut out);
        out.push('=');
        encode(value, &mut out);
    }
    out
}

/// A JWT's header and claims, decoded (not verified).
pub fn decode_jwt(token: &str) -> (Value, Value) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a signed JWT has three parts: {token}");
    let part = |text: &str| -> Value {
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .unwrap_or_else(|e| panic!("a JWT part is base64url ({e}): {text}"));
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("a JWT part is JSON ({e}): {text}"))
    };
    (part(parts[0]), part(parts[1]))
}

impl OidcProvider {
    /// Installs the provider if needed, starts it on a free port of 127.0.0.1 and waits until
    /// it listens. Each call starts an independent provider: its own issuer and its own keys.
    pub async fn start() -> OidcProvider {
        ensure_crypto_provider();
        let installed = tokio::task::spawn_blocking(install)
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        let mut child = Command::new(&installed.node)
            .arg(&installed.script)
            .args(["--port", "0", "--exit-with-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("{} starts: {e}", installed.node.display()));
        let stdin = child.stdin.take().expect("piped stdin");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut errors = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
        let sink = stderr.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = errors.next_line().await {
                sink.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        let issuer = tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(issuer) = line.strip_prefix("issuer ") {
                    return Some(issuer.trim().to_owned());
                }
            }
            None
        })
        .await;
        let issuer = match issuer {
            Ok(Some(issuer)) => issuer,
            outcome => {
                // Let the stderr task catch up with the provider's last words.
                tokio::time::sleep(Duration::from_millis(200)).await;
                panic!(
                    "the OpenID provider {}: {}",
                    if outcome.is_err() {
                        "did not listen within 30 s"
                    } else {
                        "exited before listening"
                    },
                    stderr.lock().unwrap()
                );
            }
        };
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("an HTTP client");
        OidcProvider {
            _child: child,
            _stdin: stdin,
            issuer,
            http,
            stderr,
        }
    }

    /// The issuer, `http://127.0.0.1:PORT`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// A second issuer of the same process, `http://127.0.0.1:PORT/other`, with the same
    /// keys: its tokens verify against [`Self::jwks_uri`] and carry the wrong `iss`.
    pub fn other_issuer(&self) -> String {
        format!("{}/other", self.issuer)
    }

    /// The issuer followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// OpenID discovery: `/.well-known/openid-configuration`. RFC 8414's
    /// `/.well-known/oauth-authorization-server` serves the same document.
    pub fn discovery_url(&self) -> String {
        self.url("/.well-known/openid-configuration")
    }

    /// The JWKS: `/jwks`.
    pub fn jwks_uri(&self) -> String {
        self.url("/jwks")
    }

    /// The token endpoint: `/token`.
    pub fn token_endpoint(&self) -> String {
        self.url("/token")
    }

    /// The introspection endpoint (RFC 7662): `/token/introspection`.
    pub fn introspection_endpoint(&self) -> String {
        self.url("/token/introspection")
    }

    /// The revocation endpoint (RFC 7009): `/token/revocation`.
    pub fn revocation_endpoint(&self) -> String {
        self.url("/token/revocation")
    }

    /// The discovery document.
    pub async fn discovery(&self) -> Value {
        self.get_json(&self.discovery_url()).await
    }

    /// The JWKS document.
    pub async fn jwks(&self) -> Value {
        self.get_json(&self.jwks_uri()).await
    }

    async fn get_json(&self, url: &str) -> Value {
        let response = self
            .http
            .get(url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        assert!(
            response.status().is_success(),
            "GET {url}: {}",
            response.status()
        );
        response
            .json()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: not JSON: {e}"))
    }

    /// POSTs a form with HTTP Basic client authentication; the JSON answer, or the refusal.
    pub async fn post_form(
        &self,
        url: &str,
        client: (&str, &str),
        pairs: &[(&str, &str)],
    ) -> Result<Value, OAuthError> {
        let response = self
            .http
            .post(url)
            .basic_auth(client.0, Some(client.1))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(pairs))
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {url}: {e}"));
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        if (200..300).contains(&status) {
            Ok(body)
        } else {
            Err(OAuthError { status, body })
        }
    }

    /// The token endpoint's whole answer to a client-credentials request from `kind`'s client
    /// at `issuer` (this one or [`Self::other_issuer`]); `resource` and `scope` are left out
    /// when `None`.
    pub async fn request_token_at(
        &self,
        issuer: &str,
        kind: TokenKind,
        resource: Option<&str>,
        scope: Option<&str>,
    ) -> Result<Value, OAuthError> {
        let mut pairs = vec![("grant_type", "client_credentials")];
        if let Some(resource) = resource {
            pairs.push(("resource", resource));
        }
        if let Some(scope) = scope {
            pairs.push(("scope", scope));
        }
        self.post_form(
            &format!("{issuer}/token"),
            (kind.client_id(), CLIENT_SECRET),
            &pairs,
        )
        .await
    }

    /// [`Self::request_token_at`] this issuer.
    pub async fn request_token(
        &self,
        kind: TokenKind,
        resource: Option<&str>,
        scope: Option<&str>,
    ) -> Result<Value, OAuthError> {
        self.request_token_at(&self.issuer, kind, resource, scope)
            .await
    }

    async fn access_token(
        &self,
        issuer: &str,
        kind: TokenKind,
        resource: &str,
        scope: &str,
    ) -> String {
        let scope = (!scope.is_empty()).then_some(scope);
        match self
            .request_token_at(issuer, kind, Some(resource), scope)
            .await
        {
            Ok(body) => body["access_token"]
                .as_str()
                .unwrap_or_else(|| panic!("a token response has an access_token: {body}"))
                .to_owned(),
            Err(e) => panic!(
                "the provider refused a {kind:?} token for {resource} ({scope:?}): {} {}\n{}",
                e.status,
                e.body,
                self.stderr.lock().unwrap()
            ),
        }
    }

    /// An access token of `kind` for `resource` (its `aud`) with `scope` (space-separated; ""
    /// asks for none). Panics when the provider refuses.
    pub async fn token_of(&self, kind: TokenKind, resource: &str, scope: &str) -> String {
        self.access_token(&self.issuer, kind, resource, scope).await
    }

    /// An RS256 JWT access token for `resource` with `scope`.
    pub async fn token(&self, resource: &str, scope: &str) -> String {
        self.token_of(TokenKind::Rs256, resource, scope).await
    }

    /// An opaque access token for `resource` with `scope`, to introspect.
    pub async fn opaque_token(&self, resource: &str, scope: &str) -> String {
        self.token_of(TokenKind::Opaque, resource, scope).await
    }

    /// An ES256 JWT access token.
    pub async fn es256_token(&self, resource: &str, scope: &str) -> String {
        self.token_of(TokenKind::Es256, resource, scope).await
    }

    /// An HS256 JWT access token (an algorithm a resource server must refuse).
    pub async fn hs256_token(&self, resource: &str, scope: &str) -> String {
        self.token_of(TokenKind::Hs256, resource, scope).await
    }

    /// A JWT access token that expired an hour ago, correctly signed.
    pub async fn expired_token(&self, resource: &str, scope: &str) -> String {
        self.token_of(TokenKind::Expired, resource, scope).await
    }

    /// A JWT access token valid for one second from now.
    pub async fn short_lived_token(&self, resource: &str, scope: &str) -> String {
        self.token_of(TokenKind::ShortLived, resource, scope).await
    }

    /// A JWT access token not valid before an hour from now.
    pub async fn not_yet_valid_token(&self, resource: &str, scope: &str) -> String {
        self.token_of(TokenKind::NotYetValid, resource, scope).await
    }

    /// An RS256 JWT access token from [`Self::other_issuer`]: signed by a key of this
    /// provider's JWKS, with `iss` the other issuer.
    pub async fn other_issuer_token(&self, resource: &str, scope: &str) -> String {
        self.access_token(&self.other_issuer(), TokenKind::Rs256, resource, scope)
            .await
    }

    async fn rotate(&self, query: &str) -> String {
        let url = self.url(&format!("/__rotate{query}"));
        let response = self
            .http
            .post(&url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {url}: {e}"));
        assert!(
            response.status().is_success(),
            "POST {url}: {}",
            response.status()
        );
        let body: Value = response.json().await.expect("the rotation answers JSON");
        body["kid"].as_str().expect("the new key's kid").to_owned()
    }

    /// Adds a new RSA key as the signing key of both issuers and returns its `kid`; the
    /// earlier keys stay in the JWKS, so tokens signed before still verify.
    pub async fn rotate_keys(&self) -> String {
        self.rotate("").await
    }

    /// Like [`Self::rotate_keys`], and drops the earlier RSA keys from the JWKS: RSA-signed
    /// tokens issued before no longer verify.
    pub async fn rotate_keys_retiring(&self) -> String {
        self.rotate("?retire=true").await
    }

    /// RFC 8693 token exchange by [`RS_CLIENT_ID`]: `subject_token` (an access token of this
    /// issuer, JWT or opaque) for a JWT for `resource`, with the subject token's `sub` and
    /// scopes, and `act.sub` = [`RS_CLIENT_ID`]. Panics when the provider refuses.
    pub async fn exchange(&self, subject_token: &str, resource: &str) -> String {
        match self.exchange_with(subject_token, resource, None).await {
            Ok(body) => body["access_token"]
                .as_str()
                .unwrap_or_else(|| panic!("an exchange response has an access_token: {body}"))
                .to_owned(),
            Err(e) => panic!(
                "the provider refused the exchange for {resource}: {} {}\n{}",
                e.status,
                e.body,
                self.stderr.lock().unwrap()
            ),
        }
    }

    /// The token endpoint's whole answer to a token exchange by [`RS_CLIENT_ID`], narrowing
    /// the scopes to `scope` when given.
    pub async fn exchange_with(
        &self,
        subject_token: &str,
        resource: &str,
        scope: Option<&str>,
    ) -> Result<Value, OAuthError> {
        let mut pairs = vec![
            ("grant_type", TOKEN_EXCHANGE_GRANT),
            ("subject_token", subject_token),
            ("subject_token_type", ACCESS_TOKEN_TYPE),
            ("resource", resource),
        ];
        if let Some(scope) = scope {
            pairs.push(("scope", scope));
        }
        self.post_form(
            &self.token_endpoint(),
            (RS_CLIENT_ID, RS_CLIENT_SECRET),
            &pairs,
        )
        .await
    }

    /// Introspects an opaque `token` as [`RS_CLIENT_ID`] (RFC 7662): `{"active": false}` for
    /// expired, revoked or unknown tokens. The provider keeps no record of JWTs and refuses to
    /// introspect them (400 `unsupported_token_type`), which panics here.
    pub async fn introspect(&self, token: &str) -> Value {
        self.post_form(
            &self.introspection_endpoint(),
            (RS_CLIENT_ID, RS_CLIENT_SECRET),
            &[("token", token)],
        )
        .await
        .unwrap_or_else(|e| panic!("introspection failed: {} {}", e.status, e.body))
    }

    /// Revokes an opaque `token` as [`RS_CLIENT_ID`] (RFC 7009).
    pub async fn revoke(&self, token: &str) {
        self.post_form(
            &self.revocation_endpoint(),
            (RS_CLIENT_ID, RS_CLIENT_SECRET),
            &[("token", token)],
        )
        .await
        .unwrap_or_else(|e| panic!("revocation failed: {} {}", e.status, e.body));
    }
}
