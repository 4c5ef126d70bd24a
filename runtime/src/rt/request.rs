//! Builds the upstream HTTP request for a tool call from its [`CallPlan`] and validated
//! arguments. Pure data in, data out: sending is the server's job, so this is tested without
//! a network.

use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value};

use super::call::CallError;
use super::config::ConfigError;
use super::credentials::{Credential, is_mcp_header, sensitive_header};
use super::descriptor::{
    BodyEncoding, BodyShape, CallPlan, HttpMethod, ParamLocation, ParamPlan, SecurityKind,
    SecuritySchemeDescriptor,
};
use super::files;
use super::params;

/// An HTTP client builder with the server's timeouts and user agent. Without `tls` the client
/// trusts no certificate at all, so building it skips reading and parsing the system's
/// certificate store (most of a server's start-up): right for an `http` upstream, which is
/// never left for another origin.
pub fn client_builder(timeout: std::time::Duration, tls: bool) -> reqwest::ClientBuilder {
    ensure_crypto_provider();
    let builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(std::time::Duration::from_secs(10)))
        .user_agent(concat!("mcpgen-server/", env!("CARGO_PKG_VERSION")));
    if tls {
        builder
    } else {
        builder.tls_certs_only(std::iter::empty())
    }
}

/// Makes *ring* the process's rustls cryptography provider unless one is installed already.
/// reqwest is built without a provider of its own: its default, aws-lc-rs, compiles a C library
/// with cmake, a large share of a generated crate's first build. reqwest takes the process's
/// provider whenever it builds a client, with or without TLS; everything else (the platform's
/// certificate verifier, protocol versions, ALPN) stays reqwest's own. *ring* has the same
/// cipher suites, but verifies no P-521 signatures (which publicly trusted certificates do not
/// use) and has no post-quantum key exchange. An application that embeds the runtime and
/// installs a provider first keeps its choice.
// rustls 0.23.48 deprecates *ring*'s provider for its lack of post-quantum key exchange (the
// trade-off described above); a generated crate that resolves that version still builds.
#[allow(deprecated)]
fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Another thread may install one between the check and this call: either serves.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// The configured upstream: every request goes to this origin and below this path.
#[derive(Debug, Clone)]
pub struct Upstream {
    base: reqwest::Url,
}

impl Upstream {
    /// Parses a base URL such as `https://api.example.com/v1`. Only http and https are
    /// accepted, and the URL must not carry credentials, a query or a fragment.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let url = || text.to_owned();
        let base = reqwest::Url::parse(text.trim()).map_err(|e| ConfigError::InvalidBaseUrl {
            url: url(),
            reason: e.to_string(),
        })?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(ConfigError::BaseUrlScheme { url: url() });
        }
        if base.host_str().is_none() {
            return Err(ConfigError::BaseUrlHost { url: url() });
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(ConfigError::BaseUrlCredentials);
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(ConfigError::BaseUrlQuery { url: url() });
        }
        Ok(Upstream { base })
    }

    /// The base URL as configured.
    pub fn url(&self) -> &reqwest::Url {
        &self.base
    }

    /// Whether requests go over TLS.
    pub fn is_https(&self) -> bool {
        self.base.scheme() == "https"
    }

    /// Whether `url` is on the configured upstream's origin.
    pub fn same_origin(&self, url: &reqwest::Url) -> bool {
        url.origin() == self.base.origin()
    }

    /// The length of the base path (without a trailing `/`), which the API's paths follow.
    pub fn base_path_len(&self) -> usize {
        self.base_path().len()
    }

    fn base_path(&self) -> &str {
        self.base.path().trim_end_matches('/')
    }

    /// Whether `path` is the base path or below it, a whole segment at a time (`/v1` holds
    /// `/v1/pets`, not `/v1admin`).
    pub fn is_below_base(&self, path: &str) -> bool {
        let base = self.base_path();
        path.strip_prefix(base)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }

    /// Whether a redirect may be followed to `url`: the upstream's origin, below the base
    /// path, and no `.` or `..` segment even once percent-decoded (an upstream that decodes
    /// before normalising would otherwise resolve it above the base path).
    pub fn may_redirect_to(&self, url: &reqwest::Url) -> bool {
        self.same_origin(url)
            && self.is_below_base(url.path())
            && !params::has_dot_segment(url.path())
    }
}

/// A request ready to send.
#[derive(Debug)]
pub struct PreparedRequest {
    /// The method.
    pub method: http::Method,
    /// The full URL, on the upstream's origin.
    pub url: reqwest::Url,
    /// Headers, credentials marked sensitive.
    pub headers: HeaderMap,
    /// The body bytes, if any (the content type is among the headers).
    pub body: Option<Vec<u8>>,
}

impl PreparedRequest {
    /// `METHOD /path`, for messages: no query string, so that no API key can leak.
    pub fn describe(&self) -> String {
        format!("{} {}", self.method, self.url.path())
    }
}

/// Builds the request for `plan` from `args`, which have already been validated against the
/// tool's input schema. Errors are messages for the model: they say which argument is wrong.
pub fn build(
    plan: &CallPlan,
    args: &Map<String, Value>,
    upstream: &Upstream,
    schemes: &[SecuritySchemeDescriptor],
    credentials: &[(usize, Credential)],
) -> Result<PreparedRequest, CallError> {
    prepare(plan, args, upstream, schemes, credentials).map_err(CallError::Request)
}

/// A GET of `url` (a status URL or a next page the upstream named) with `credentials`, which
/// must be on the upstream's origin, below its base path.
pub fn follow_up(
    url: reqwest::Url,
    upstream: &Upstream,
    schemes: &[SecuritySchemeDescriptor],
    credentials: &[(usize, Credential)],
) -> Result<PreparedRequest, CallError> {
    if !upstream.may_redirect_to(&url) {
        return Err(CallError::Request(
            "the upstream named a URL outside the API; it is not followed".to_owned(),
        ));
    }
    let mut headers = HeaderMap::new();
    let mut query = Vec::new();
    let mut cookies = Vec::new();
    for (index, credential) in credentials {
        if let Some(scheme) = schemes.get(*index) {
            apply_credential(scheme, credential, &mut headers, &mut query, &mut cookies)
                .map_err(CallError::Request)?;
        }
    }
    if !cookies.is_empty() {
        let value = HeaderValue::from_str(&cookies.join("; "))
            .map_err(|_| CallError::Request("a cookie value cannot be sent".to_owned()))?;
        headers.insert(http::header::COOKIE, value);
    }
    let mut url = url;
    if !query.is_empty() {
        let joined = match url.query() {
            Some(existing) if !existing.is_empty() => format!("{existing}&{}", query.join("&")),
            _ => query.join("&"),
        };
        url.set_query(Some(&joined));
    }
    Ok(PreparedRequest {
        method: http::Method::GET,
        url,
        headers,
        body: None,
    })
}

fn prepare(
    plan: &CallPlan,
    args: &Map<String, Value>,
    upstream: &Upstream,
    schemes: &[SecuritySchemeDescriptor],
    credentials: &[(usize, Credential)],
) -> Result<PreparedRequest, String> {
    let mut path = String::with_capacity(plan.path.len() + 16);
    path.push_str(upstream.base_path());
    path.push_str(&expand_path(plan, args)?);

    let mut query = Vec::new();
    let mut headers = HeaderMap::new();
    let mut cookies = Vec::new();
    for param in plan.params {
        let Some(value) = param_value(param, args) else {
            continue;
        };
        let value = value.as_ref();
        match param.location {
            ParamLocation::Path => {}
            ParamLocation::Query => params::push_query(&mut query, param, value),
            ParamLocation::QueryString => query.extend(whole_query(param, value)),
            ParamLocation::Header => {
                let text = params::header_value(param, value);
                let header = header_pair(param.name, &text).map_err(|why| {
                    format!("argument `{}` cannot be sent as a header: {why}", param.arg)
                })?;
                headers.append(header.0, header.1);
            }
            ParamLocation::Cookie => cookies.extend(params::cookie_pairs(param, value)),
        }
    }

    // TRACE asks the upstream to echo the request back, credentials included, into an answer
    // the model reads: it never carries any.
    let credentials = if plan.method == HttpMethod::Trace {
        &[]
    } else {
        credentials
    };
    for (index, credential) in credentials {
        let Some(scheme) = schemes.get(*index) else {
            continue;
        };
        apply_credential(scheme, credential, &mut headers, &mut query, &mut cookies)?;
    }

    if !cookies.is_empty() {
        let value = HeaderValue::from_str(&cookies.join("; "))
            .map_err(|_| "a cookie value cannot be sent".to_owned())?;
        headers.insert(http::header::COOKIE, value);
    }

    let body = match &plan.body {
        Some(body) => encode_body(body, args)?,
        None => None,
    };
    let body = match body {
        Some((bytes, content_type)) => {
            let value = HeaderValue::from_str(&content_type)
                .unwrap_or(HeaderValue::from_static("application/octet-stream"));
            headers.insert(http::header::CONTENT_TYPE, value);
            Some(bytes)
        }
        None => None,
    };

    let mut url = upstream.base.clone();
    url.set_path(&path);
    if query.is_empty() {
        url.set_query(None);
    } else {
        url.set_query(Some(&query.join("&")));
    }
    // The URL parser resolves `.` and `..` segments, including percent-encoded ones; make
    // sure that what it produced still lies below the base path on the same origin.
    if !upstream.same_origin(&url) || !upstream.is_below_base(url.path()) {
        return Err("the arguments would move the request outside the API".to_owned());
    }
    let method = http::Method::from_bytes(plan.method.as_str().as_bytes())
        .map_err(|_| "unsupported HTTP method".to_owned())?;
    Ok(PreparedRequest {
        method,
        url,
        headers,
        body,
    })
}

fn expand_path(plan: &CallPlan, args: &Map<String, Value>) -> Result<String, String> {
    let mut out = String::with_capacity(plan.path.len());
    let mut rest = plan.path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start..].find('}') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let name = &rest[start + 1..start + len];
        let param = plan
            .params
            .iter()
            .find(|p| p.location == ParamLocation::Path && p.name == name);
        match param.and_then(|p| param_value(p, args).map(|v| (p, v))) {
            Some((p, value)) => {
                let text = params::path_value(p, value.as_ref());
                if text.is_empty() {
                    return Err(format!("argument `{}` must not be empty", p.arg));
                }
                // Encoding keeps `/` inside the segment only for upstreams that do not decode
                // it before normalising the path; a parameter declared to carry reserved
                // characters (`allowReserved`) is trusted to hold a path of its own.
                if !p.allow_reserved && params::has_dot_segment(&text) {
                    return Err(format!(
                        "argument `{}` must not contain a `.` or `..` path segment, plain or \
                         percent-encoded (separated by `/` or `\\`): pass the value itself, \
                         not a relative path",
                        p.arg
                    ));
                }
                out.push_str(&text);
            }
            None => {
                let arg = param.map_or(name, |p| p.arg);
                return Err(format!("missing path argument `{arg}`"));
            }
        }
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    // Path parameters are percent-encoded, so only a whole segment of dots could still walk
    // up the tree: refuse those rather than let URL normalisation resolve them.
    for segment in out.split('/') {
        let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
        if decoded == "." || decoded == ".." {
            return Err(format!(
                "a path argument produced the segment `{segment}`, which is not allowed"
            ));
        }
    }
    Ok(out)
}

/// Characters a query string given whole may not hold as they are: what would end the query
/// (`#`) or is not allowed in a URL at all. Everything else, `&`, `=` and `%` escapes among
/// it, is the caller's query string.
const WHOLE_QUERY: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// The query string of an `in: querystring` parameter (OpenAPI 3.2), as one piece: an object's
/// members as form-encoded pairs (an array repeats its name, nested values are JSON text),
/// JSON text when the parameter's media type is JSON, a string as given. Empty: nothing.
fn whole_query(param: &ParamPlan, value: &Value) -> Option<String> {
    let text = match value {
        _ if param.json => params::encode_component(&value.to_string()),
        Value::Object(map) => params::form_urlencoded(map),
        Value::String(text) => {
            percent_encoding::utf8_percent_encode(text.trim_start_matches('?'), WHOLE_QUERY)
                .to_string()
        }
        Value::Null => String::new(),
        other => params::encode_component(&params::scalar_text(other)),
    };
    (!text.is_empty()).then_some(text)
}

/// The value a parameter sends: its fixed value, else its argument.
fn param_value<'a>(
    param: &ParamPlan,
    args: &'a Map<String, Value>,
) -> Option<std::borrow::Cow<'a, Value>> {
    match param.fixed {
        Some(text) => serde_json::from_str(text).ok().map(std::borrow::Cow::Owned),
        None => args.get(param.arg).map(std::borrow::Cow::Borrowed),
    }
}

fn header_pair(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), &'static str> {
    if value.contains(['\r', '\n', '\0']) {
        return Err("header values must not contain line breaks or NUL");
    }
    let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| "invalid header name")?;
    if is_mcp_header(name.as_str()) || is_reserved_header(&name) {
        return Err("this header is controlled by the server");
    }
    // Bytes beyond ASCII (UTF-8 text) are opaque field content to HTTP (RFC 9110, 5.5);
    // `from_str` refuses them in newer releases of `http`.
    let value =
        HeaderValue::from_bytes(value.as_bytes()).map_err(|_| "invalid characters for a header")?;
    Ok((name, value))
}

/// Headers a parameter may not set, because the transport or the credential logic owns them.
fn is_reserved_header(name: &HeaderName) -> bool {
    use http::header::*;
    [
        HOST,
        CONTENT_LENGTH,
        TRANSFER_ENCODING,
        CONNECTION,
        AUTHORIZATION,
        PROXY_AUTHORIZATION,
        COOKIE,
    ]
    .contains(name)
}

fn apply_credential(
    scheme: &SecuritySchemeDescriptor,
    credential: &Credential,
    headers: &mut HeaderMap,
    query: &mut Vec<String>,
    cookies: &mut Vec<String>,
) -> Result<(), String> {
    let invalid = || {
        format!(
            "the credential for `{}` is not a valid header value",
            scheme.name
        )
    };
    match (scheme.kind, credential) {
        (
            SecurityKind::Bearer
            | SecurityKind::Basic
            | SecurityKind::OAuth2ClientCredentials { .. },
            Credential::Authorization(secret),
        ) => {
            let value = sensitive_header(secret).ok_or_else(invalid)?;
            headers.insert(http::header::AUTHORIZATION, value);
        }
        (SecurityKind::ApiKey(ParamLocation::Header, name), Credential::ApiKey(secret)) => {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid())?;
            let value = sensitive_header(secret).ok_or_else(invalid)?;
            headers.insert(name, value);
        }
        (SecurityKind::ApiKey(ParamLocation::Query, name), Credential::ApiKey(secret)) => {
            query.push(params::encoded_pair(name, secret.expose()));
        }
        (SecurityKind::ApiKey(ParamLocation::Cookie, name), Credential::ApiKey(secret)) => {
            cookies.push(params::encoded_pair(name, secret.expose()));
        }
        _ => {}
    }
    Ok(())
}

/// The body bytes and their content type.
fn encode_body(
    body: &super::descriptor::BodyPlan,
    args: &Map<String, Value>,
) -> Result<Option<(Vec<u8>, String)>, String> {
    let value = match body.shape {
        BodyShape::Whole(arg) => args.get(arg).cloned(),
        BodyShape::Flattened(props) => {
            let object: Map<String, Value> = props
                .iter()
                .filter_map(|p| args.get(*p).map(|v| ((*p).to_owned(), v.clone())))
                .collect();
            (!object.is_empty() || body.required).then_some(Value::Object(object))
        }
    };
    let Some(value) = value else {
        return Ok(None);
    };
    let media_type = body.media_type.to_owned();
    let encoded = match body.encoding {
        BodyEncoding::Json => (
            serde_json::to_vec(&value).map_err(|e| e.to_string())?,
            media_type,
        ),
        BodyEncoding::Text => (params::scalar_text(&value).into_bytes(), media_type),
        BodyEncoding::Form => {
            let Value::Object(map) = &value else {
                return Err("a form body must be an object".to_owned());
            };
            (params::form_urlencoded(map).into_bytes(), media_type)
        }
        BodyEncoding::Multipart => {
            let Value::Object(map) = &value else {
                return Err("a multipart body must be an object".to_owned());
            };
            files::multipart(map, body.file_fields)?
        }
        BodyEncoding::Binary => {
            let Value::String(text) = &value else {
                return Err("a binary body must be a base64 string or a data URI".to_owned());
            };
            let decoded = files::decode_content(text)?;
            // A data URI's own media type wins over a generic one from the document.
            let media_type = match decoded.media_type {
                Some(m) if media_type.contains('*') || media_type == "application/octet-stream" => {
                    m
                }
                _ => media_type,
            };
            (decoded.bytes, media_type)
        }
    };
    Ok(Some(encoded))
}

#[cfg(test)]
mod tests {
    use super::super::credentials::Secret;
    use super::super::descriptor::{BodyPlan, HttpMethod, ParamStyle};
    use super::*;
    use serde_json::json;

    #[test]
    fn clients_build_with_the_ring_provider() {
        let timeout = std::time::Duration::from_secs(1);
        assert!(client_builder(timeout, false).build().is_ok());
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
        // Built twice: installing the provider again must not fail or panic.
        assert!(client_builder(timeout, false).build().is_ok());
    }

    const PARAMS: &[ParamPlan] = &[
        ParamPlan {
            arg: "id",
            name: "id",
            location: ParamLocation::Path,
            style: ParamStyle::Simple,
            explode: false,
            allow_reserved: false,
            json: false,
            fixed: None,
        },
        ParamPlan {
            arg: "id_query",
            name: "id",
            location: ParamLocation::Query,
            style: ParamStyle::Form,
            explode: true,
            allow_reserved: false,
            json: false,
            fixed: None,
        },
        ParamPlan {
            arg: "trace",
            name: "X-Trace",
            location: ParamLocation::Header,
            style: ParamStyle::Simple,
            explode: false,
            allow_reserved: false,
            json: false,
            fixed: None,
        },
    ];

    const PLAN: CallPlan = CallPlan {
        method: HttpMethod::Put,
        path: "/items/{id}",
        params: PARAMS,
        body: Some(BodyPlan {
            media_type: "application/json",
            encoding: BodyEncoding::Json,
            shape: BodyShape::Flattened(&["name"]),
            required: true,
            file_fields: &[],
        }),
        security: &[],
        oauth_scopes: &[],
        caller_scopes: &[],
    };

    const SCHEMES: &[SecuritySchemeDescriptor] = &[SecuritySchemeDescriptor {
        name: "key",
        kind: SecurityKind::ApiKey(ParamLocation::Query, "api_key"),
        env: &["K"],
    }];

    fn args(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn builds_path_query_header_and_body() {
        let up = Upstream::parse("http://127.0.0.1:9/v1/").unwrap();
        let req = build(
            &PLAN,
            &args(json!({"id": "a/b", "id_query": 7, "trace": "t", "name": "Rex"})),
            &up,
            SCHEMES,
            &[],
        )
        .unwrap();
        assert_eq!(req.method, http::Method::PUT);
        assert_eq!(req.url.as_str(), "http://127.0.0.1:9/v1/items/a%2Fb?id=7");
        assert_eq!(req.headers["x-trace"], "t");
        assert_eq!(req.headers["content-type"], "application/json");
        assert_eq!(req.body.as_deref(), Some(&br#"{"name":"Rex"}"#[..]));
        assert_eq!(req.describe(), "PUT /v1/items/a%2Fb");
    }

    #[test]
    fn a_querystring_parameter_is_the_whole_query() {
        const WHOLE: &[ParamPlan] = &[ParamPlan {
            arg: "filter",
            name: "filter",
            location: ParamLocation::QueryString,
            style: ParamStyle::Form,
            explode: true,
            allow_reserved: false,
            json: false,
            fixed: None,
        }];
        let plan = CallPlan {
            method: HttpMethod::Query,
            path: "/items",
            params: WHOLE,
            body: None,
            security: &[],
            oauth_scopes: &[],
            caller_scopes: &[],
        };
        let up = Upstream::parse("http://127.0.0.1:9").unwrap();
        let query = |value: Value, credentials: &[(usize, Credential)]| {
            let req = build(
                &plan,
                &args(json!({"filter": value})),
                &up,
                SCHEMES,
                credentials,
            )
            .unwrap();
            assert_eq!(req.method.as_str(), "QUERY");
            req.url.query().map(str::to_owned)
        };
        assert_eq!(
            query(json!({"q": "a b&c", "tag": ["x", "y"], "n": 2}), &[]).as_deref(),
            Some("q=a%20b%26c&tag=x&tag=y&n=2")
        );
        // A string is the query as given; only what would end it is encoded.
        assert_eq!(
            query(json!("?a=1&b=%20#frag"), &[]).as_deref(),
            Some("a=1&b=%20%23frag")
        );
        assert_eq!(query(json!({}), &[]), None);
        // A query API key still follows.
        assert_eq!(
            query(
                json!({"q": 1}),
                &[(0, Credential::ApiKey(Secret::new("k")))]
            )
            .as_deref(),
            Some("q=1&api_key=k")
        );

        const JSON: &[ParamPlan] = &[ParamPlan {
            json: true,
            ..WHOLE[0]
        }];
        let plan = CallPlan {
            params: JSON,
            method: HttpMethod::Other("PURGE"),
            ..plan
        };
        let req = build(
            &plan,
            &args(json!({"filter": {"a": [1]}})),
            &up,
            SCHEMES,
            &[],
        )
        .unwrap();
        assert_eq!(req.method.as_str(), "PURGE");
        assert_eq!(req.url.query(), Some("%7B%22a%22%3A%5B1%5D%7D"));
    }

    #[test]
    fn dot_segments_are_refused() {
        let up = Upstream::parse("http://127.0.0.1:9/v1").unwrap();
        for bad in ["..", ".", "%2e%2E"] {
            let err = build(&PLAN, &args(json!({"id": bad})), &up, SCHEMES, &[])
                .unwrap_err()
                .to_string();
            assert!(err.contains("argument `id`"), "{bad}: {err}");
        }
    }

    #[test]
    fn encoded_traversal_in_path_arguments_is_refused() {
        let up = Upstream::parse("http://127.0.0.1:9/v1").unwrap();
        for attack in [
            "..%2F..%2Fadmin",
            "%2e%2e%2fadmin",
            "%2e%2e",
            "..\\admin",
            "..%5Cadmin",
            "%252e%252e%252fadmin",
            "../../admin",
            "..;/admin",
        ] {
            let err = build(&PLAN, &args(json!({"id": attack})), &up, SCHEMES, &[])
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("argument `id`") && err.contains("`..`"),
                "{attack}: {err}"
            );
        }
        // Values that only look alike still go through, encoded.
        for fine in ["a/b", "...", "v1.2", "..a"] {
            let req = build(&PLAN, &args(json!({"id": fine})), &up, SCHEMES, &[]).unwrap();
            assert!(req.url.path().starts_with("/v1/items/"), "{}", req.url);
        }
        // A parameter declared to carry reserved characters is trusted with a path.
        const RESERVED: &[ParamPlan] = &[ParamPlan {
            arg: "path",
            name: "path",
            location: ParamLocation::Path,
            style: ParamStyle::Simple,
            explode: false,
            allow_reserved: true,
            json: false,
            fixed: None,
        }];
        let plan = CallPlan {
            method: HttpMethod::Get,
            path: "/files/{path}",
            params: RESERVED,
            body: None,
            security: &[],
            oauth_scopes: &[],
            caller_scopes: &[],
        };
        let req = build(&plan, &args(json!({"path": "a/../b"})), &up, SCHEMES, &[]).unwrap();
        assert_eq!(req.url.path(), "/v1/files/a%2F..%2Fb");
    }

    #[test]
    fn trace_never_carries_credentials() {
        const SCHEMES: &[SecuritySchemeDescriptor] = &[
            SecuritySchemeDescriptor {
                name: "bearer",
                kind: SecurityKind::Bearer,
                env: &["T"],
            },
            SecuritySchemeDescriptor {
                name: "key",
                kind: SecurityKind::ApiKey(ParamLocation::Header, "X-Api-Key"),
                env: &["K"],
            },
            SecuritySchemeDescriptor {
                name: "query",
                kind: SecurityKind::ApiKey(ParamLocation::Query, "api_key"),
                env: &["Q"],
            },
            SecuritySchemeDescriptor {
                name: "cookie",
                kind: SecurityKind::ApiKey(ParamLocation::Cookie, "session"),
                env: &["C"],
            },
        ];
        let credentials = [
            (0, Credential::Authorization(Secret::new("Bearer t0k"))),
            (1, Credential::ApiKey(Secret::new("k3y"))),
            (2, Credential::ApiKey(Secret::new("q5y"))),
            (3, Credential::ApiKey(Secret::new("c00kie"))),
        ];
        let up = Upstream::parse("https://api.example.com").unwrap();
        let trace = CallPlan {
            method: HttpMethod::Trace,
            path: "/echo",
            params: &[],
            body: None,
            security: &[],
            oauth_scopes: &[],
            caller_scopes: &[],
        };
        let req = build(&trace, &Map::new(), &up, SCHEMES, &credentials).unwrap();
        assert_eq!(req.method, http::Method::TRACE);
        assert!(req.headers.is_empty(), "{:?}", req.headers);
        assert_eq!(req.url.query(), None);
        // The same credentials on a GET are all sent.
        let get = CallPlan {
            method: HttpMethod::Get,
            ..trace
        };
        let req = build(&get, &Map::new(), &up, SCHEMES, &credentials).unwrap();
        assert_eq!(req.headers.len(), 3);
        assert_eq!(req.url.query(), Some("api_key=q5y"));
    }

    #[test]
    fn redirects_stay_below_the_base_path() {
        let up = Upstream::parse("http://127.0.0.1:9/v1").unwrap();
        let url = |text: &str| reqwest::Url::parse(text).unwrap();
        assert!(up.may_redirect_to(&url("http://127.0.0.1:9/v1/pets/2")));
        assert!(up.may_redirect_to(&url("http://127.0.0.1:9/v1")));
        assert!(!up.may_redirect_to(&url("http://127.0.0.1:9/admin")));
        assert!(!up.may_redirect_to(&url("http://127.0.0.1:9/v1admin")));
        assert!(!up.may_redirect_to(&url("http://127.0.0.1:9/v1/..%2Fadmin")));
        assert!(!up.may_redirect_to(&url("http://127.0.0.1:9/v1/%252e%252e/admin")));
        assert!(!up.may_redirect_to(&url("http://127.0.0.2:9/v1/pets")));
        assert!(!up.may_redirect_to(&url("https://127.0.0.1:9/v1/pets")));
        let root = Upstream::parse("http://127.0.0.1:9/").unwrap();
        assert!(root.may_redirect_to(&url("http://127.0.0.1:9/anything")));
    }

    #[test]
    fn header_injection_is_refused() {
        let up = Upstream::parse("http://127.0.0.1:9").unwrap();
        let err = build(
            &PLAN,
            &args(json!({"id": "1", "trace": "a\r\nX-Evil: 1"})),
            &up,
            SCHEMES,
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("`trace`"), "{err}");
    }

    #[test]
    fn query_api_key_is_added_but_not_described() {
        let up = Upstream::parse("https://api.example.com").unwrap();
        let req = build(
            &PLAN,
            &args(json!({"id": "1"})),
            &up,
            SCHEMES,
            &[(0, Credential::ApiKey(Secret::new("s e&cret")))],
        )
        .unwrap();
        assert_eq!(req.url.query(), Some("api_key=s%20e%26cret"));
        assert!(!req.describe().contains("cret"));
    }

    #[test]
    fn base_urls_are_checked() {
        assert!(Upstream::parse("ftp://x").is_err());
        assert!(Upstream::parse("http://u:p@x").is_err());
        assert!(Upstream::parse("http://x/?a=1").is_err());
        assert!(Upstream::parse("not a url").is_err());
    }
}
