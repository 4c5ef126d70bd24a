//! Upstream credentials: read once from the environment (the stdio case), or passed through
//! from the MCP caller's own HTTP request (the streamable HTTP case). A credential only ever
//! goes to the configured upstream, and is never formatted into logs or messages.

use std::sync::Arc;

use base64::Engine as _;
use http::HeaderValue;

use super::config::ConfigError;
use super::descriptor::{ApiDescriptor, ParamLocation, SecurityKind, SecuritySchemeDescriptor};

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
    /// Reads every scheme's variables from the process environment.
    pub fn from_env(schemes: &[SecuritySchemeDescriptor]) -> Result<Self, ConfigError> {
        Self::load(schemes, |name| std::env::var_os(name))
    }

    /// Reads every scheme's variables through `lookup`. A variable that is set but cannot be
    /// used stops the server, named in the error: not UTF-8, empty, with a control character,
    /// a token or key that cannot go into its HTTP header, half of a pair (a basic-auth user
    /// without a password variable or the other way round, a client id without a secret or
    /// the other way round), a basic-auth user with a `:`. Ignoring it would start the server
    /// with other credentials than the operator meant (the caller's, or none).
    ///
    /// The one empty value accepted is a basic-auth password that is set to nothing, for APIs
    /// that take a key as the user name and no password.
    pub fn load(
        schemes: &[SecuritySchemeDescriptor],
        lookup: impl Fn(&str) -> Option<std::ffi::OsString>,
    ) -> Result<Self, ConfigError> {
        let unusable = |name: &str, problem: String| ConfigError::UnusableCredential {
            name: name.to_owned(),
            problem,
        };
        // The variable's text, `None` when it is not set.
        let read = |name: &str, may_be_empty: bool| -> Result<Option<String>, ConfigError> {
            let Some(value) = lookup(name) else {
                return Ok(None);
            };
            let text = value
                .into_string()
                .map_err(|_| unusable(name, "is not valid UTF-8".to_owned()))?;
            if text.trim().is_empty() && !(may_be_empty && text.is_empty()) {
                return Err(unusable(name, "is set but empty".to_owned()));
            }
            if text.chars().any(char::is_control) {
                return Err(unusable(
                    name,
                    "has a control character (a line break at its end, perhaps, from the file it \
                     was read from)"
                        .to_owned(),
                ));
            }
            Ok(Some(text))
        };
        // A value that travels in an HTTP header as it is.
        let header_value = |name: &str| -> Result<Option<String>, ConfigError> {
            let value = read(name, false)?;
            // HTTP allows other bytes only as obsolete text, which upstreams read differently.
            if let Some(text) = &value
                && !text.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
            {
                return Err(unusable(
                    name,
                    "has a character that cannot be sent in an HTTP header (only visible ASCII \
                     and spaces can)"
                        .to_owned(),
                ));
            }
            Ok(value)
        };
        let var = |scheme: &SecuritySchemeDescriptor, i: usize| scheme.env.get(i).copied();
        let mut slots = Vec::with_capacity(schemes.len());
        for scheme in schemes {
            let slot = match scheme.kind {
                SecurityKind::Bearer => match var(scheme, 0) {
                    Some(name) => header_value(name)?
                        .map(|token| Credential::Authorization(Secret(format!("Bearer {token}")))),
                    None => None,
                },
                SecurityKind::Basic => {
                    let (Some(user_var), Some(password_var)) = (var(scheme, 0), var(scheme, 1))
                    else {
                        slots.push(None);
                        continue;
                    };
                    match (read(user_var, false)?, read(password_var, true)?) {
                        (None, None) => None,
                        (Some(_), None) => {
                            return Err(unusable(
                                user_var,
                                format!(
                                    "is set but {password_var} is not: basic authentication \
                                     needs both (set {password_var} to an empty value for an \
                                     API that takes no password)"
                                ),
                            ));
                        }
                        (None, Some(_)) => {
                            return Err(unusable(
                                password_var,
                                format!(
                                    "is set but {user_var} is not: basic authentication needs \
                                     both"
                                ),
                            ));
                        }
                        (Some(user), Some(_)) if user.contains(':') => {
                            return Err(unusable(
                                user_var,
                                "has a `:`, which a basic-authentication user name cannot have"
                                    .to_owned(),
                            ));
                        }
                        (Some(user), Some(password)) => {
                            let encoded = base64::engine::general_purpose::STANDARD
                                .encode(format!("{user}:{password}"));
                            Some(Credential::Authorization(Secret(format!(
                                "Basic {encoded}"
                            ))))
                        }
                    }
                }
                SecurityKind::ApiKey(location, _) => match var(scheme, 0) {
                    // A query or cookie key is percent-encoded; a header key goes as it is.
                    Some(name) if location == ParamLocation::Header => {
                        header_value(name)?.map(|key| Credential::ApiKey(Secret(key)))
                    }
                    Some(name) => read(name, false)?.map(|key| Credential::ApiKey(Secret(key))),
                    None => None,
                },
                // A ready access token wins; otherwise the client id and secret fetch one.
                SecurityKind::OAuth2ClientCredentials { .. } => {
                    let token = match var(scheme, 0) {
                        Some(name) => header_value(name)?,
                        None => None,
                    };
                    let pair = match (var(scheme, 1), var(scheme, 2)) {
                        (Some(id_var), Some(secret_var)) => {
                            match (read(id_var, false)?, read(secret_var, false)?) {
                                (Some(client_id), Some(client_secret)) => {
                                    Some((client_id, client_secret))
                                }
                                (None, None) => None,
                                // Half a pair is a mistake even when a ready token wins.
                                (Some(_), None) => {
                                    return Err(unusable(
                                        id_var,
                                        format!(
                                            "is set but {secret_var} is not: a client id needs \
                                             its secret"
                                        ),
                                    ));
                                }
                                (None, Some(_)) => {
                                    return Err(unusable(
                                        secret_var,
                                        format!(
                                            "is set but {id_var} is not: a client secret needs \
                                             its client id"
                                        ),
                                    ));
                                }
                            }
                        }
                        _ => None,
                    };
                    match (token, pair) {
                        (Some(token), _) => {
                            Some(Credential::Authorization(Secret(format!("Bearer {token}"))))
                        }
                        (None, Some((client_id, client_secret))) => {
                            Some(Credential::ClientCredentials(Arc::new(ClientCredentials {
                                client_id: Secret(client_id),
                                client_secret: Secret(client_secret),
                            })))
                        }
                        (None, None) => None,
                    }
                }
            };
            slots.push(slot);
        }
        Ok(EnvCredentials { slots })
    }

    /// The credential configured for scheme `index`, if any.
    pub fn get(&self, index: usize) -> Option<&Credential> {
        self.slots.get(index).and_then(Option::as_ref)
    }
}

/// What the MCP caller presented in its own HTTP request, per security scheme of the API (see
/// [`passed_through`]). All `None` over stdio and with pass-through off.
pub fn presented_by_caller(
    schemes: &[SecuritySchemeDescriptor],
    headers: Option<&http::HeaderMap>,
) -> Vec<Option<Credential>> {
    schemes
        .iter()
        .map(|scheme| headers.and_then(|h| passed_through(scheme, h)))
        .collect()
}

/// Chooses the credentials of one call among the operation's security alternatives
/// (`security`, each a set of scheme indices), never mixing whose they are:
///
/// - A caller who presented a credential for any scheme of the API acts as itself: the first
///   alternative its own credentials satisfy wholly is used, and nothing of the environment's
///   is added. When none is, the call is refused: the operator's credentials are not a
///   fallback for a caller who chose to present its own.
/// - A caller who presented none gets the first alternative the environment satisfies (what
///   the operator configured for exactly that: stdio, or HTTP callers without credentials).
///
/// An empty alternative (`{}`: anonymous access allowed) is satisfied by anybody, and sends
/// nothing; an operation without alternatives sends nothing.
pub fn choose_credentials(
    security: &[&[usize]],
    caller: &[Option<Credential>],
    env: &EnvCredentials,
) -> Result<Vec<(usize, Credential)>, CallerCredentialsDoNotFit> {
    let from = |source: &dyn Fn(usize) -> Option<Credential>| {
        security.iter().find_map(|alternative| {
            alternative
                .iter()
                .map(|&i| source(i).map(|c| (i, c)))
                .collect::<Option<Vec<_>>>()
        })
    };
    if caller.iter().any(Option::is_some) {
        let presented = |i: usize| caller.get(i).cloned().flatten();
        if security.is_empty() {
            return Ok(Vec::new());
        }
        return from(&presented).ok_or(CallerCredentialsDoNotFit {
            presented: caller
                .iter()
                .enumerate()
                .filter_map(|(i, c)| c.as_ref().map(|_| i))
                .collect(),
        });
    }
    Ok(from(&|i| env.get(i).cloned()).unwrap_or_default())
}

/// The caller presented credentials of its own, and they satisfy none of the operation's
/// security alternatives. Rendered for the model by [`CallerCredentialsDoNotFit::describe`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerCredentialsDoNotFit {
    /// The schemes (indices) the caller presented a credential for.
    pub presented: Vec<usize>,
}

impl CallerCredentialsDoNotFit {
    /// What the model reads: what was presented, what the operation accepts, and that the
    /// server does not add its own credentials to a caller's. Scheme names and header names
    /// only, never a value.
    pub fn describe(
        &self,
        operation: &str,
        schemes: &[SecuritySchemeDescriptor],
        security: &[&[usize]],
    ) -> String {
        let name = |i: usize| schemes.get(i).map_or("?", |s| s.name);
        let presented: Vec<String> = self
            .presented
            .iter()
            .map(|&i| format!("`{}`", name(i)))
            .collect();
        let alternatives: Vec<String> = security
            .iter()
            .map(|alternative| {
                let parts: Vec<String> = alternative
                    .iter()
                    .filter_map(|&i| schemes.get(i))
                    .map(how_a_caller_sends)
                    .collect();
                match parts.len() {
                    1 => parts.join(""),
                    _ => format!("{} together", parts.join(" and ")),
                }
            })
            .collect();
        format!(
            "The call was not sent: this MCP request carries credentials of its own (for {}), \
             and they satisfy none of the security requirements of `{operation}`, which \
             accepts: {}. This server never adds its own credentials to a caller's: send all the \
             credentials of one of these with the MCP request.",
            presented.join(", "),
            alternatives.join("; or ")
        )
    }
}

/// How a caller presents a credential of `scheme` to this server, for messages.
fn how_a_caller_sends(scheme: &SecuritySchemeDescriptor) -> String {
    let name = scheme.name;
    match scheme.kind {
        SecurityKind::Bearer | SecurityKind::OAuth2ClientCredentials { .. } => {
            format!("`{name}` (an `Authorization: Bearer ...` header)")
        }
        SecurityKind::Basic => format!("`{name}` (an `Authorization: Basic ...` header)"),
        SecurityKind::ApiKey(ParamLocation::Header, header) if !is_mcp_header(header) => {
            format!("`{name}` (the `{header}` header)")
        }
        SecurityKind::ApiKey(location, _) => format!(
            "`{name}` (an API key in the {}, which only the server's operator can configure)",
            location.as_str()
        ),
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

/// The request header a caller's own credential for `kind` comes in, lowercase (`None` for
/// an API key in a query or cookie, which is never passed through).
fn caller_header(kind: SecurityKind) -> Option<String> {
    match kind {
        SecurityKind::Bearer
        | SecurityKind::Basic
        | SecurityKind::OAuth2ClientCredentials { .. } => Some("authorization".to_owned()),
        SecurityKind::ApiKey(ParamLocation::Header, name) => Some(name.to_ascii_lowercase()),
        SecurityKind::ApiKey(..) => None,
    }
}

/// For each API of `api`, whether its tools send the caller's own credential upstream: none
/// with pass-through off; the one API of a server of one; in a server of several, the API
/// `chosen` names, else every API none of whose credential headers another API reads too. A
/// bearer token says nothing of the API it is for, so with two APIs reading `Authorization`
/// it could be for either, and is sent to neither unless `--passthrough-api` says which.
pub fn passthrough_apis(
    api: &ApiDescriptor,
    passthrough: bool,
    chosen: Option<usize>,
) -> Box<[bool]> {
    let count = api.api_count();
    if !passthrough {
        return vec![false; count].into_boxed_slice();
    }
    if count == 1 {
        return vec![true].into_boxed_slice();
    }
    if let Some(chosen) = chosen {
        return (0..count).map(|i| i == chosen).collect();
    }
    let owners = api.scheme_apis();
    let readers = |header: &str| -> std::collections::BTreeSet<usize> {
        api.security_schemes
            .iter()
            .zip(&owners)
            .filter(|(s, _)| caller_header(s.kind).as_deref() == Some(header))
            .map(|(_, &owner)| owner)
            .collect()
    };
    (0..count)
        .map(|i| {
            api.security_schemes
                .iter()
                .zip(&owners)
                .filter(|(_, owner)| **owner == i)
                .filter_map(|(s, _)| caller_header(s.kind))
                .all(|header| readers(&header).len() == 1)
        })
        .collect()
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

    const KEY: SecurityKind = SecurityKind::ApiKey(ParamLocation::Header, "X-Api-Key");

    const fn scheme(kind: SecurityKind) -> SecuritySchemeDescriptor {
        SecuritySchemeDescriptor {
            name: "s",
            kind,
            env: &[],
        }
    }

    const fn upstream_api(name: &'static str, scheme_count: usize) -> super::super::UpstreamApi {
        super::super::UpstreamApi {
            name,
            title: name,
            default_base_url: None,
            env_prefix: "X",
            openapi: None,
            tool_count: 0,
            scheme_count,
        }
    }

    /// Three APIs: bearer and a key (`X-Api-Key`), basic, and oauth (read from
    /// `Authorization` like the first two) and a key of its own.
    static THREE: ApiDescriptor = ApiDescriptor {
        security_schemes: &[
            scheme(SecurityKind::Bearer),
            scheme(KEY),
            scheme(SecurityKind::Basic),
            scheme(SecurityKind::OAuth2ClientCredentials { token_url: "/t" }),
            scheme(SecurityKind::ApiKey(ParamLocation::Header, "X-Own-Key")),
        ],
        apis: &[
            upstream_api("a", 2),
            upstream_api("b", 1),
            upstream_api("c", 2),
        ],
        ..super::super::tests::api(&[])
    };

    /// Two APIs whose credential headers differ.
    static APART: ApiDescriptor = ApiDescriptor {
        security_schemes: &[scheme(SecurityKind::Bearer), scheme(KEY)],
        apis: &[upstream_api("a", 1), upstream_api("b", 1)],
        ..super::super::tests::api(&[])
    };

    #[test]
    fn a_callers_header_goes_only_to_the_api_that_alone_reads_it() {
        // `Authorization` is read by all three: the caller's token could be for any of them.
        assert_eq!(*passthrough_apis(&THREE, true, None), [false, false, false]);
        assert_eq!(
            *passthrough_apis(&THREE, true, Some(1)),
            [false, true, false]
        );
        assert_eq!(*passthrough_apis(&APART, true, None), [true, true]);
        assert_eq!(*passthrough_apis(&APART, true, Some(0)), [true, false]);
        let one = super::super::tests::api(&[]);
        assert_eq!(*passthrough_apis(&one, true, None), [true]);
        assert_eq!(*passthrough_apis(&APART, false, Some(0)), [false, false]);
    }

    /// The environment `vars` describes, as `EnvCredentials::load` reads it.
    fn env(vars: &[(&str, &str)]) -> Result<EnvCredentials, ConfigError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        EnvCredentials::load(SCHEMES, move |name| {
            vars.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| std::ffi::OsString::from(v))
        })
    }

    #[test]
    fn oauth_client_credentials_or_a_ready_token() {
        let env_ = env(&[
            ("X_OAUTH_CLIENT_ID", "id"),
            ("X_OAUTH_CLIENT_SECRET", "very-secret"),
        ])
        .unwrap();
        match env_.get(3) {
            Some(Credential::ClientCredentials(c)) => {
                assert_eq!(c.client_id.expose(), "id");
                assert_eq!(c.client_secret.expose(), "very-secret");
            }
            other => panic!("{other:?}"),
        }
        assert!(!format!("{env_:?}").contains("very-secret"));
        let env_ = env(&[
            ("X_OAUTH_TOKEN", "ready"),
            ("X_OAUTH_CLIENT_ID", "id"),
            ("X_OAUTH_CLIENT_SECRET", "s"),
        ])
        .unwrap();
        assert!(matches!(
            env_.get(3),
            Some(Credential::Authorization(s)) if s.expose() == "Bearer ready"
        ));
        let mut headers = http::HeaderMap::new();
        headers.insert("authorization", HeaderValue::from_static("Bearer caller"));
        assert!(matches!(
            passed_through(&SCHEMES[3], &headers),
            Some(Credential::Authorization(s)) if s.expose() == "Bearer caller"
        ));
    }

    #[test]
    fn environment_credentials_are_read_per_scheme() {
        let env_ = env(&[
            ("X_TOKEN", "t0k"),
            ("X_USER", "alice"),
            ("X_PASS", "s3cret"),
        ])
        .unwrap();
        match env_.get(0) {
            Some(Credential::Authorization(s)) => assert_eq!(s.expose(), "Bearer t0k"),
            other => panic!("{other:?}"),
        }
        match env_.get(1) {
            Some(Credential::Authorization(s)) => {
                assert_eq!(s.expose(), "Basic YWxpY2U6czNjcmV0")
            }
            other => panic!("{other:?}"),
        }
        assert!(env_.get(2).is_none(), "an unset variable is no credential");
        assert!(!format!("{env_:?}").contains("t0k"));
        // A key as the user name and an explicitly empty password.
        let env_ = env(&[("X_USER", "sk_live"), ("X_PASS", "")]).unwrap();
        assert!(matches!(
            env_.get(1),
            Some(Credential::Authorization(s)) if s.expose() == "Basic c2tfbGl2ZTo="
        ));
        assert!(env(&[]).unwrap().get(0).is_none());
    }

    #[test]
    fn unusable_variables_stop_the_server_and_are_named() {
        let refused = |vars: &[(&str, &str)], named: &str, problem: &str| {
            let message = env(vars).unwrap_err().to_string();
            assert!(
                message.contains(named) && message.contains(problem),
                "{vars:?}: {message}"
            );
            for (_, value) in vars {
                if value.len() > 3 {
                    assert!(!message.contains(value.trim()), "{message}");
                }
            }
        };
        refused(&[("X_TOKEN", "")], "X_TOKEN", "empty");
        refused(&[("X_KEY", "   ")], "X_KEY", "empty");
        refused(
            &[("X_TOKEN", "t0ken-value\n")],
            "X_TOKEN",
            "control character",
        );
        refused(&[("X_KEY", "caf\u{e9}-key")], "X_KEY", "HTTP header");
        refused(&[("X_USER", "alice")], "X_USER", "X_PASS is not");
        refused(&[("X_PASS", "s3cret-pass")], "X_PASS", "X_USER is not");
        refused(&[("X_USER", "al:ice"), ("X_PASS", "pw")], "X_USER", "`:`");
        refused(&[("X_USER", "")], "X_USER", "empty");
        refused(
            &[("X_OAUTH_CLIENT_ID", "client-id")],
            "X_OAUTH_CLIENT_ID",
            "X_OAUTH_CLIENT_SECRET is not",
        );
        refused(
            &[
                ("X_OAUTH_TOKEN", "ready"),
                ("X_OAUTH_CLIENT_SECRET", "the-secret"),
            ],
            "X_OAUTH_CLIENT_SECRET",
            "X_OAUTH_CLIENT_ID is not",
        );
        refused(&[("X_OAUTH_CLIENT_ID", "")], "X_OAUTH_CLIENT_ID", "empty");

        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStringExt;
            let message = EnvCredentials::load(SCHEMES, |name| {
                (name == "X_KEY").then(|| std::ffi::OsString::from_vec(vec![0x6b, 0xff]))
            })
            .unwrap_err()
            .to_string();
            assert!(
                message.contains("X_KEY") && message.contains("not valid UTF-8"),
                "{message}"
            );
        }
    }

    /// `Authorization: Bearer caller` and an `X-Api-Key` header, as chosen.
    fn caller(bearer: bool, key: bool) -> Vec<Option<Credential>> {
        let mut headers = http::HeaderMap::new();
        if bearer {
            headers.insert("authorization", HeaderValue::from_static("Bearer caller"));
        }
        if key {
            headers.insert("x-api-key", HeaderValue::from_static("caller-key"));
        }
        presented_by_caller(SCHEMES, Some(&headers))
    }

    /// The schemes and values a choice sends.
    fn sent(chosen: &[(usize, Credential)]) -> Vec<(usize, String)> {
        chosen
            .iter()
            .map(|(i, c)| {
                let value = match c {
                    Credential::Authorization(s) | Credential::ApiKey(s) => s.expose().to_owned(),
                    Credential::ClientCredentials(_) => "client credentials".to_owned(),
                };
                (*i, value)
            })
            .collect()
    }

    #[test]
    fn a_caller_with_credentials_of_its_own_never_gets_the_environments() {
        let operator = env(&[("X_KEY", "env-key"), ("X_TOKEN", "env-token")]).unwrap();
        let nobody = caller(false, false);
        // OR: key, else bearer. The caller's bearer is used, not the operator's key.
        const OR: &[&[usize]] = &[&[2], &[0]];
        let chosen = choose_credentials(OR, &caller(true, false), &operator).unwrap();
        assert_eq!(sent(&chosen), [(0, "Bearer caller".to_owned())]);
        // Nothing presented: the environment's, in document order.
        let chosen = choose_credentials(OR, &nobody, &operator).unwrap();
        assert_eq!(sent(&chosen), [(2, "env-key".to_owned())]);
        // AND: bearer and key. The caller's bearer is never combined with the operator's key.
        const AND: &[&[usize]] = &[&[0, 2]];
        let refused = choose_credentials(AND, &caller(true, false), &operator).unwrap_err();
        assert_eq!(refused.presented, [0, 3]);
        let chosen = choose_credentials(AND, &caller(true, true), &operator).unwrap();
        assert_eq!(
            sent(&chosen),
            [
                (0, "Bearer caller".to_owned()),
                (2, "caller-key".to_owned())
            ]
        );
        let chosen = choose_credentials(AND, &nobody, &operator).unwrap();
        assert_eq!(
            sent(&chosen),
            [
                (0, "Bearer env-token".to_owned()),
                (2, "env-key".to_owned())
            ]
        );
        // A credential for a scheme this operation does not use: refused, not the operator's.
        const KEY_ONLY: &[&[usize]] = &[&[2]];
        assert!(choose_credentials(KEY_ONLY, &caller(true, false), &operator).is_err());
        // Anonymous access allowed: the caller's own if they fit, else nothing, never the
        // environment's.
        const KEY_OR_ANONYMOUS: &[&[usize]] = &[&[2], &[]];
        let chosen = choose_credentials(KEY_OR_ANONYMOUS, &caller(true, false), &operator).unwrap();
        assert!(chosen.is_empty());
        let chosen = choose_credentials(KEY_OR_ANONYMOUS, &caller(false, true), &operator).unwrap();
        assert_eq!(sent(&chosen), [(2, "caller-key".to_owned())]);
        let chosen = choose_credentials(KEY_OR_ANONYMOUS, &nobody, &operator).unwrap();
        assert_eq!(sent(&chosen), [(2, "env-key".to_owned())]);
        // No security at all: nothing, whoever calls.
        assert!(
            choose_credentials(&[], &caller(true, true), &operator)
                .unwrap()
                .is_empty()
        );
        assert!(
            choose_credentials(&[], &nobody, &operator)
                .unwrap()
                .is_empty()
        );
        // Over stdio (or with pass-through off) nothing is presented.
        assert!(
            presented_by_caller(SCHEMES, None)
                .iter()
                .all(Option::is_none)
        );
    }

    #[test]
    fn a_refusal_says_what_the_operation_accepts_and_no_secret() {
        let refused = CallerCredentialsDoNotFit {
            presented: vec![0, 3],
        };
        const AND_OR_BASIC: &[&[usize]] = &[&[0, 2], &[1]];
        let message = refused.describe("createThing", SCHEMES, AND_OR_BASIC);
        assert!(message.contains("`createThing`"), "{message}");
        assert!(message.contains("for `bearer`, `oauth`"), "{message}");
        assert!(
            message.contains(
                "`bearer` (an `Authorization: Bearer ...` header) and `key` (the `X-Api-Key` \
                 header) together; or `basic` (an `Authorization: Basic ...` header)"
            ),
            "{message}"
        );
        assert!(
            message.contains("never adds its own credentials"),
            "{message}"
        );
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
