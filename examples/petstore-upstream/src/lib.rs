//! The Petstore example upstream.
//!
//! A small HTTP server implementing `examples/petstore/openapi.yaml` under the
//! base path `/v1`, backed by an in-memory store seeded with three pets. Every
//! request it receives is recorded as it arrived on the wire (method, raw
//! path, raw query, headers and body), so end-to-end tests can check exactly
//! what a client sent.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let upstream = petstore_upstream::Upstream::start(0).await?;
//! println!("serving {}", upstream.base_url());
//! // ... send requests to upstream.base_url() ...
//! for request in upstream.requests() {
//!     println!("{} {}", request.method, request.path);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Besides the API, helper routes outside `/v1` (no auth) exist for fault
//! tests: `/__echo/...` answers any method with 200 and a JSON summary of the request;
//! `GET /__slow?ms=N` sleeps `N` milliseconds (at most 30 000) and
//! answers `{"slept":N}`; `GET /__big?bytes=N` answers a JSON string whose
//! encoded body is exactly `N` bytes (at least 2, at most 64 MiB). For resource tests,
//! `/__conformance/...` answers the conformance fixture document's operations (see the
//! `conformance` module), [`STATIC_TEXT`] and [`STATIC_PNG`] among them.
//!
//! `POST /oauth/token` is an OAuth 2.0 token endpoint for the client-credentials grant
//! (RFC 6749, section 4.4): the client [`OAUTH_CLIENT_ID`] with [`OAUTH_CLIENT_SECRET`],
//! authenticated with HTTP basic or in the form body, gets `oauth-token-N`. The API refuses
//! such a token once it has expired or been revoked ([`Upstream::revoke_tokens`]); other
//! bearer tokens are accepted as they are.

mod conformance;

use std::collections::HashSet;
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, serve};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

/// The base path of the API, as given by the spec's server URL.
pub const BASE_PATH: &str = "/v1";

/// Largest request body that is read and recorded.
const MAX_REQUEST_BODY: usize = 64 * 1024 * 1024;
/// Longest sleep `/__slow` accepts, in milliseconds.
const MAX_SLOW_MS: u64 = 30_000;
/// Largest body `/__big` produces, in bytes.
const MAX_BIG_BYTES: usize = 64 * 1024 * 1024;

/// The client id the token endpoint accepts.
pub const OAUTH_CLIENT_ID: &str = "petstore-client";
/// The client secret the token endpoint accepts.
pub const OAUTH_CLIENT_SECRET: &str = "petstore-secret";
/// The prefix of the access tokens the token endpoint issues.
const OAUTH_TOKEN_PREFIX: &str = "oauth-token-";

/// One request as the upstream received it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RecordedRequest {
    /// The request method, e.g. `"GET"`.
    pub method: String,
    /// Path as received on the wire, still percent-encoded (e.g. "/v1/pets/a%2Fb").
    pub path: String,
    /// Raw query string, if any, still encoded.
    pub query: Option<String>,
    /// Header names lower-cased, in arrival order; repeated headers kept.
    ///
    /// Repeated values of one name are kept in their order, grouped at the
    /// position where that name first appeared. Values that are not valid
    /// UTF-8 are converted lossily.
    pub headers: Vec<(String, String)>,
    /// The request body, byte for byte.
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// The first value of the header `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_values(name).next()
    }

    /// Every value of the header `name` (compared case-insensitively), in order.
    pub fn header_values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> {
        self.headers
            .iter()
            .filter(move |(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// A running upstream on 127.0.0.1.
///
/// Dropping it asks the server to stop accepting connections; use
/// [`Upstream::shutdown`] to also wait for it to finish.
pub struct Upstream {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
}

impl Upstream {
    /// Binds 127.0.0.1:port (0 = ephemeral) and serves in a background tokio task.
    pub async fn start(port: u16) -> io::Result<Upstream> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new());
        let app = router(Arc::clone(&shared));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            serve(listener, app)
                .with_graceful_shutdown(async move {
                    // A dropped sender means the same as an explicit stop.
                    let _ = stopped.await;
                })
                .await
        });
        Ok(Upstream {
            addr,
            shared,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL with the spec's base path, e.g. "http://127.0.0.1:PORT/v1".
    pub fn base_url(&self) -> String {
        format!("http://{}{BASE_PATH}", self.addr)
    }

    /// Everything received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.log.borrow().clone()
    }

    /// Waits until at least n requests have arrived (with a timeout), for tests.
    ///
    /// Returns everything received so far; on timeout that may be fewer than
    /// `n` requests.
    pub async fn wait_for_requests(&self, n: usize, timeout: Duration) -> Vec<RecordedRequest> {
        let mut log = self.shared.log.subscribe();
        let _ = tokio::time::timeout(timeout, log.wait_for(|requests| requests.len() >= n)).await;
        self.requests()
    }

    /// Sets the lifetime (`expires_in`) of the access tokens issued from now on; `None` issues
    /// tokens without one, which never expire. The default is one hour.
    pub fn set_token_lifetime(&self, seconds: Option<u64>) {
        self.shared.oauth().lifetime = seconds;
    }

    /// Makes every access token issued so far invalid: the API answers 401 to them.
    pub fn revoke_tokens(&self) {
        let mut oauth = self.shared.oauth();
        let issued: Vec<String> = oauth.issued.iter().map(|(t, _)| t.clone()).collect();
        oauth.revoked.extend(issued);
    }

    /// When set, the token endpoint refuses HTTP basic client authentication and accepts only
    /// the client id and secret in the form body (`client_secret_post`).
    pub fn require_client_secret_in_body(&self, body_only: bool) {
        self.shared.oauth().body_only = body_only;
    }

    /// The access tokens issued so far, in order.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.shared
            .oauth()
            .issued
            .iter()
            .map(|(t, _)| t.clone())
            .collect()
    }

    /// Forgets every recorded request. The pet store is left as it is.
    pub fn clear(&self) {
        self.shared.log.send_modify(Vec::clear);
    }

    /// Stops accepting connections and waits for open ones to finish.
    pub async fn shutdown(mut self) -> io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.map_err(io::Error::other)?,
            None => Ok(()),
        }
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl fmt::Debug for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upstream")
            .field("addr", &self.addr)
            .field("recorded", &self.shared.log.borrow().len())
            .finish_non_exhaustive()
    }
}

/// State shared by the server task and its [`Upstream`] handle.
struct Shared {
    store: Mutex<Store>,
    /// Long-running jobs of `/__jobs`: polls left before each is done, or `None` once
    /// cancelled.
    jobs: Mutex<Vec<Option<u32>>>,
    log: watch::Sender<Vec<RecordedRequest>>,
    oauth: Mutex<OAuthState>,
}

/// The token endpoint's state.
struct OAuthState {
    /// Issued tokens and when each expires.
    issued: Vec<(String, Option<Instant>)>,
    revoked: HashSet<String>,
    lifetime: Option<u64>,
    body_only: bool,
}

impl Shared {
    fn new() -> Self {
        Shared {
            store: Mutex::new(Store::seeded()),
            jobs: Mutex::new(Vec::new()),
            log: watch::Sender::new(Vec::new()),
            oauth: Mutex::new(OAuthState {
                issued: Vec::new(),
                revoked: HashSet::new(),
                lifetime: Some(3600),
                body_only: false,
            }),
        }
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn oauth(&self) -> MutexGuard<'_, OAuthState> {
        self.oauth.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

type AppState = Arc<Shared>;

/// A pet's status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Status {
    #[default]
    Available,
    Pending,
    Sold,
}

/// A stored pet, serialised as the spec's `Pet`.
#[derive(Debug, Clone, Serialize)]
struct Pet {
    id: String,
    name: String,
    tag: Option<String>,
    status: Status,
}

/// The spec's `NewPet` request body.
#[derive(Debug, Deserialize)]
struct NewPet {
    name: String,
    #[serde(default)]
    tag: Option<String>,
    #[serde(default)]
    status: Status,
}

/// The spec's `Error` response body.
#[derive(Debug, Serialize)]
struct ApiError {
    code: u16,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            code: status.as_u16(),
            message: message.into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    fn pet_not_found(id: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, format!("pet {id} not found"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self)).into_response()
    }
}

/// Counts of pets by status, in the spec's inventory shape.
#[derive(Debug, Default, Serialize)]
struct Inventory {
    available: usize,
    pending: usize,
    sold: usize,
}

/// The in-memory pet store.
struct Store {
    pets: Vec<Pet>,
    next_id: u64,
}

impl Store {
    fn seeded() -> Self {
        let pet = |id: &str, name: &str, tag: Option<&str>, status| Pet {
            id: id.to_owned(),
            name: name.to_owned(),
            tag: tag.map(str::to_owned),
            status,
        };
        Store {
            pets: vec![
                pet("1", "Rex", Some("dog"), Status::Available),
                pet("2", "Tom", Some("cat"), Status::Pending),
                pet("3", "Nemo", None, Status::Sold),
            ],
            next_id: 4,
        }
    }

    fn position(&self, id: &str) -> Option<usize> {
        self.pets.iter().position(|pet| pet.id == id)
    }
}

fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/v1/pets", get(list_pets).post(create_pet))
        .route(
            "/v1/pets/{petId}",
            get(get_pet).put(update_pet).delete(delete_pet),
        )
        .route("/v1/store/inventory", get(inventory))
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            require_bearer,
        ));
    let helpers = Router::new()
        .route("/__slow", get(slow))
        .route("/__big", get(big))
        .route("/__stream/sse", any(stream_sse))
        .route("/__stream/jsonl", any(stream_jsonl))
        .route("/__echo", any(echo))
        .route("/__echo/{*rest}", any(echo))
        .route("/__answer/{name}", get(canned_answer))
        .route("/__pages/{style}", get(pages))
        .route("/__jobs", axum::routing::post(start_job))
        .route("/__jobs/{id}", get(job_status).delete(cancel_job))
        .route("/__conformance/{name}", get(conformance::answer))
        .route("/__conformance/greet", get(conformance::greet))
        // `{job}`: a kind of job to start, or the id of one.
        .route(
            "/__conformance/jobs/{job}",
            axum::routing::post(conformance::start_job)
                .get(conformance::job_status)
                .delete(conformance::cancel_job),
        )
        .route(
            "/__conformance/template/{id}/data",
            get(conformance::template_data),
        )
        .route("/oauth/token", axum::routing::post(issue_token));
    api.merge(helpers)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(Arc::clone(&state), record))
        .with_state(state)
}

/// Records the request exactly as received, then hands it on.
async fn record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, MAX_REQUEST_BODY).await;
    let recorded = RecordedRequest {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_owned(), value)
            })
            .collect(),
        body: body
            .as_ref()
            .map(|bytes| bytes.to_vec())
            .unwrap_or_default(),
    };
    state.log.send_modify(|log| log.push(recorded));
    match body {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(_) => ApiError::bad_request(format!(
            "could not read the request body (at most {MAX_REQUEST_BODY} bytes are accepted)"
        ))
        .into_response(),
    }
}

/// Rejects requests without `Authorization: Bearer <token>`, and with a token of the token
/// endpoint that has expired, been revoked or was never issued.
async fn require_bearer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if has_bearer_token(request.headers()) && oauth_token_valid(&state, request.headers()) {
        return next.run(request).await;
    }
    let mut response =
        ApiError::new(StatusCode::UNAUTHORIZED, "missing or invalid bearer token").into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

fn has_bearer_token(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .is_some_and(|(scheme, token)| {
            scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()
        })
}

fn oauth_token_valid(state: &Shared, headers: &HeaderMap) -> bool {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .map(|(_, token)| token.trim())
        .unwrap_or_default();
    if !token.starts_with(OAUTH_TOKEN_PREFIX) {
        return true;
    }
    let oauth = state.oauth();
    if oauth.revoked.contains(token) {
        return false;
    }
    oauth
        .issued
        .iter()
        .find(|(t, _)| t == token)
        .is_some_and(|(_, expires)| expires.is_none_or(|at| Instant::now() < at))
}

/// `application/x-www-form-urlencoded` pairs, decoded.
fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    let decode = |text: &str| {
        let bytes = text.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' => match text
                    .get(i + 1..i + 3)
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                },
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(pair), String::new()),
        })
        .collect()
}

/// An OAuth 2.0 error answer (RFC 6749, section 5.2).
fn oauth_error(status: StatusCode, code: &str, description: &str) -> Response {
    (
        status,
        Json(serde_json::json!({"error": code, "error_description": description})),
    )
        .into_response()
}

/// The token endpoint: the client-credentials grant, client authentication by HTTP basic or
/// in the form body.
async fn issue_token(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let form = form_pairs(&body);
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let body_only = state.oauth().body_only;
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|encoded| {
            base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .ok()
        })
        .and_then(|decoded| String::from_utf8(decoded).ok())
        .and_then(|pair| {
            pair.split_once(':')
                .map(|(id, secret)| (id.to_owned(), secret.to_owned()))
        });
    let client = match (basic, field("client_id"), field("client_secret")) {
        (Some(_), _, _) if body_only => None,
        (Some(pair), _, _) => Some(pair),
        (None, Some(id), Some(secret)) => Some((id.to_owned(), secret.to_owned())),
        _ => None,
    };
    if client
        .as_ref()
        .map(|(id, secret)| (id.as_str(), secret.as_str()))
        != Some((OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET))
    {
        let mut response = oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        );
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic"));
        return response;
    }
    if field("grant_type") != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only client_credentials is supported",
        );
    }
    let mut oauth = state.oauth();
    let token = format!("{OAUTH_TOKEN_PREFIX}{}", oauth.issued.len() + 1);
    let lifetime = oauth.lifetime;
    oauth.issued.push((
        token.clone(),
        lifetime.map(|secs| Instant::now() + Duration::from_secs(secs)),
    ));
    let mut answer = serde_json::json!({"access_token": token, "token_type": "Bearer"});
    if let Some(secs) = lifetime {
        answer["expires_in"] = secs.into();
    }
    if let Some(scope) = field("scope") {
        answer["scope"] = scope.into();
    }
    Json(answer).into_response()
}

/// Decoded query pairs, repeated keys kept in order.
type QueryPairs = Result<Query<Vec<(String, String)>>, QueryRejection>;

fn query_pairs(query: QueryPairs) -> Result<Vec<(String, String)>, ApiError> {
    query
        .map(|Query(pairs)| pairs)
        .map_err(|rejection| ApiError::bad_request(rejection.body_text()))
}

/// The last value of `key`, if present.
fn query_value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn pet_id(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    path.map(|Path(id)| id)
        .map_err(|rejection| ApiError::bad_request(rejection.body_text()))
}

fn parse_new_pet(body: &[u8]) -> Result<NewPet, ApiError> {
    let pet: NewPet = serde_json::from_slice(body)
        .map_err(|err| ApiError::bad_request(format!("invalid pet: {err}")))?;
    if pet.name.is_empty() {
        return Err(ApiError::bad_request("invalid pet: name must not be empty"));
    }
    Ok(pet)
}

async fn list_pets(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(query)?;
    let limit = match query_value(&pairs, "limit") {
        None => None,
        Some(raw) => match raw.parse::<usize>() {
            Ok(limit @ 1..=100) => Some(limit),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "limit must be an integer from 1 to 100, got {raw:?}"
                )));
            }
        },
    };
    let tags: Vec<&str> = pairs
        .iter()
        .filter(|(key, _)| key == "tags")
        .map(|(_, value)| value.as_str())
        .collect();
    let pets: Vec<Pet> = state
        .store()
        .pets
        .iter()
        .filter(|pet| tags.is_empty() || pet.tag.as_deref().is_some_and(|tag| tags.contains(&tag)))
        .take(limit.unwrap_or(usize::MAX))
        .cloned()
        .collect();
    let mut response = Json(pets).into_response();
    if let Some(request_id) = headers.get("x-request-id") {
        response
            .headers_mut()
            .insert("x-request-id", request_id.clone());
    }
    Ok(response)
}

async fn create_pet(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<(StatusCode, Json<Pet>), ApiError> {
    let new = parse_new_pet(&body)?;
    let mut store = state.store();
    let pet = Pet {
        id: store.next_id.to_string(),
        name: new.name,
        tag: new.tag,
        status: new.status,
    };
    store.next_id += 1;
    store.pets.push(pet.clone());
    Ok((StatusCode::CREATED, Json(pet)))
}

async fn get_pet(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Pet>, ApiError> {
    let id = pet_id(path)?;
    let store = state.store();
    store
        .pets
        .iter()
        .find(|pet| pet.id == id)
        .cloned()
        .map(Json)
        .ok_or_else(|| ApiError::pet_not_found(&id))
}

async fn update_pet(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    query: QueryPairs,
    body: Bytes,
) -> Result<Json<Pet>, ApiError> {
    let id = pet_id(path)?;
    let pairs = query_pairs(query)?;
    let new = parse_new_pet(&body)?;
    let mut store = state.store();
    let index = store
        .position(&id)
        .ok_or_else(|| ApiError::pet_not_found(&id))?;
    let pet = &mut store.pets[index];
    if let Some(expected) = query_value(&pairs, "name")
        && expected != pet.name
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "pet {id} is named {:?}, not {expected:?}; not updated",
                pet.name
            ),
        ));
    }
    pet.name = new.name;
    pet.tag = new.tag;
    pet.status = new.status;
    Ok(Json(pet.clone()))
}

async fn delete_pet(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let id = pet_id(path)?;
    let mut store = state.store();
    let index = store
        .position(&id)
        .ok_or_else(|| ApiError::pet_not_found(&id))?;
    store.pets.remove(index);
    Ok(StatusCode::NO_CONTENT)
}

async fn inventory(State(state): State<AppState>) -> Json<Inventory> {
    let mut counts = Inventory::default();
    for pet in &state.store().pets {
        match pet.status {
            Status::Available => counts.available += 1,
            Status::Pending => counts.pending += 1,
            Status::Sold => counts.sold += 1,
        }
    }
    Json(counts)
}

/// Parses a required non-negative integer query parameter.
fn required_number(pairs: &[(String, String)], key: &str) -> Result<u64, ApiError> {
    let raw = query_value(pairs, key)
        .ok_or_else(|| ApiError::bad_request(format!("query parameter {key} is required")))?;
    raw.parse().map_err(|_| {
        ApiError::bad_request(format!(
            "query parameter {key} must be a non-negative integer, got {raw:?}"
        ))
    })
}

#[derive(Serialize)]
struct Slept {
    slept: u64,
}

async fn slow(query: QueryPairs) -> Result<Json<Slept>, ApiError> {
    let ms = required_number(&query_pairs(query)?, "ms")?.min(MAX_SLOW_MS);
    tokio::time::sleep(Duration::from_millis(ms)).await;
    Ok(Json(Slept { slept: ms }))
}

async fn big(query: QueryPairs) -> Result<Response, ApiError> {
    let requested = required_number(&query_pairs(query)?, "bytes")?;
    let len = usize::try_from(requested)
        .unwrap_or(usize::MAX)
        .clamp(2, MAX_BIG_BYTES);
    let mut body = Vec::with_capacity(len);
    body.push(b'"');
    body.resize(len - 1, b'x');
    body.push(b'"');
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}

/// Most items `/__stream/*` produces.
const MAX_STREAM_ITEMS: u64 = 100_000;

/// The items of a stream request: `n` (default 3) of `{"seq": i, "word": "item-i"}`.
fn stream_count(query: QueryPairs) -> Result<u64, ApiError> {
    let pairs = query_pairs(query)?;
    match query_value(&pairs, "n") {
        None => Ok(3),
        Some(_) => Ok(required_number(&pairs, "n")?.min(MAX_STREAM_ITEMS)),
    }
}

fn stream_item(seq: u64) -> serde_json::Value {
    serde_json::json!({"seq": seq, "word": format!("item-{seq}")})
}

/// Server-sent events, any method: `n` events named `tick` with an `id` and a JSON `data`
/// line each, a comment first and a `retry` on the first event.
async fn stream_sse(query: QueryPairs) -> Result<Response, ApiError> {
    let n = stream_count(query)?;
    let mut body = String::from(": stream of ticks\n\n");
    for seq in 1..=n {
        if seq == 1 {
            body.push_str("retry: 1000\n");
        }
        body.push_str(&format!(
            "event: tick\nid: {seq}\ndata: {}\n\n",
            stream_item(seq)
        ));
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        )],
        body,
    )
        .into_response())
}

/// JSON Lines, any method: `n` items, one a line.
async fn stream_jsonl(query: QueryPairs) -> Result<Response, ApiError> {
    let n = stream_count(query)?;
    let mut body = String::new();
    for seq in 1..=n {
        body.push_str(&stream_item(seq).to_string());
        body.push('\n');
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/jsonl"),
        )],
        body,
    )
        .into_response())
}

/// Answers any request with 200 and a JSON summary of it; the full request is recorded.
async fn echo(method: Method, uri: Uri) -> Response {
    let summary = serde_json::json!({
        "method": method.as_str(),
        "path": uri.path(),
        "query": uri.query(),
    });
    axum::Json(summary).into_response()
}

/// Fixed answers full of personal data and secrets, for the masking tests: nested lists, an
/// `allOf` and a `oneOf` shape, a JSON error, an HTML error and a long list.
/// Starts a long-running job: 202 Accepted with its status URL in `Location`; the job is done
/// after `polls` status reads (default 2).
async fn start_job(State(state): State<AppState>, query: QueryPairs) -> Result<Response, ApiError> {
    let pairs = query_pairs(query)?;
    let polls = match query_value(&pairs, "polls") {
        None => 2,
        Some(raw) => raw
            .parse::<u32>()
            .map_err(|_| ApiError::bad_request(format!("polls {raw:?} is not a number")))?,
    };
    let id = {
        let mut jobs = state.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        jobs.push(Some(polls));
        jobs.len()
    };
    let location = HeaderValue::from_str(&format!("/__jobs/{id}")).expect("ASCII");
    Ok((
        StatusCode::ACCEPTED,
        [
            (header::LOCATION, location),
            (header::RETRY_AFTER, HeaderValue::from_static("0")),
        ],
        Json(serde_json::json!({"id": id, "status": "queued"})),
    )
        .into_response())
}

/// A job's status: `running` until its polls are used up, then `succeeded` with the result;
/// `cancelled` once cancelled.
async fn job_status(
    State(state): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<usize>,
) -> Response {
    let mut jobs = state.jobs.lock().unwrap_or_else(PoisonError::into_inner);
    let Some(job) = id.checked_sub(1).and_then(|i| jobs.get_mut(i)) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let body = match job {
        None => serde_json::json!({"id": id, "status": "cancelled"}),
        Some(0) => {
            serde_json::json!({"id": id, "status": "succeeded", "result": {"report": format!("report-{id}"), "rows": 42}})
        }
        Some(left) => {
            *left -= 1;
            serde_json::json!({"id": id, "status": "running", "percent": 50})
        }
    };
    Json(body).into_response()
}

/// Cancels a job.
async fn cancel_job(
    State(state): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<usize>,
) -> StatusCode {
    let mut jobs = state.jobs.lock().unwrap_or_else(PoisonError::into_inner);
    match id.checked_sub(1).and_then(|i| jobs.get_mut(i)) {
        Some(job) => {
            *job = None;
            StatusCode::NO_CONTENT
        }
        None => StatusCode::NOT_FOUND,
    }
}

/// Seven items (`{"id": "i1", "n": 1}`...) in pages of three, in the paging style of the path:
/// `link` (a `Link` header, `page`), `evil-link` (a `Link` to another host), `next-url` (a
/// relative `next` URL in the answer, `page`), `cursor` (`cursor`, `meta.next_cursor`),
/// `after` (`starting_after`, `has_more`), `page` (`page`, an empty page at the end) and
/// `offset` (`offset`).
async fn pages(
    axum::extract::Path(style): axum::extract::Path<String>,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    const TOTAL: usize = 7;
    const SIZE: usize = 3;
    let pairs = query_pairs(query)?;
    let number = |key: &str, default: usize| match query_value(&pairs, key) {
        None => Ok(default),
        Some(raw) => raw
            .trim_start_matches(['c', 'i'])
            .parse::<usize>()
            .map_err(|_| ApiError::bad_request(format!("{key} {raw:?} is not a number"))),
    };
    let item = |n: usize| serde_json::json!({"id": format!("i{n}"), "n": n});
    // Items start..start + SIZE (1-based).
    let slice = |start: usize| -> Vec<serde_json::Value> {
        (start..(start + SIZE).min(TOTAL + 1)).map(item).collect()
    };
    let by_page = |page: usize| slice((page.max(1) - 1) * SIZE + 1);
    let json = |body: serde_json::Value| Json(body).into_response();
    Ok(match style.as_str() {
        "link" | "evil-link" => {
            let page = number("page", 1)?;
            let mut response = json(serde_json::Value::Array(by_page(page)));
            if page * SIZE < TOTAL {
                let next = if style == "link" {
                    format!(
                        "</__pages/link?page={}>; rel=\"next\", </__pages/link?page=3>; rel=\"last\"",
                        page + 1
                    )
                } else {
                    "<http://169.254.169.254/latest/meta-data>; rel=\"next\"".to_owned()
                };
                response
                    .headers_mut()
                    .insert(header::LINK, HeaderValue::from_str(&next).expect("ASCII"));
            }
            response
        }
        "next-url" => {
            let page = number("page", 1)?;
            let next =
                (page * SIZE < TOTAL).then(|| format!("/__pages/next-url?page={}", page + 1));
            json(serde_json::json!({"results": by_page(page), "next": next}))
        }
        "cursor" => {
            let start = number("cursor", 1)?;
            let next = (start + SIZE <= TOTAL).then(|| format!("c{}", start + SIZE));
            json(serde_json::json!({"data": slice(start), "meta": {"next_cursor": next}}))
        }
        "after" => {
            let start = number("starting_after", 0)? + 1;
            json(serde_json::json!({"data": slice(start), "has_more": start + SIZE <= TOTAL}))
        }
        "page" => {
            let page = number("page", 1)?;
            json(serde_json::json!({"items": by_page(page), "page": page}))
        }
        "offset" => {
            let offset = number("offset", 0)?;
            json(serde_json::json!({"results": slice(offset + 1), "total": TOTAL}))
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    })
}

/// The text `/__conformance/static-text` answers, as `text/plain`.
pub const STATIC_TEXT: &str = "This is the content of the static text resource.";

/// The bytes `/__conformance/static-binary` and `/__conformance/image` answer: a 1×1
/// transparent PNG.
pub const STATIC_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0b, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x60, 0x00, 0x02, 0x00,
    0x00, 0x05, 0x00, 0x01, 0xe9, 0xfa, 0xdc, 0xd8, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44,
    0xae, 0x42, 0x60, 0x82,
];

async fn canned_answer(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    let json =
        |status: StatusCode, body: serde_json::Value| (status, axum::Json(body)).into_response();
    let customer = |i: u32| {
        serde_json::json!({
            "name": format!("Customer {i}"),
            "email": format!("customer{i}@example.com"),
            "card": {"number": "4111111111111111", "expiry": "12/30"},
            "accounts": [[{"iban": "DE89370400440532013000", "note": "paid with 5500 0000 0000 0004"}]],
            "notes": "prefers phone calls"
        })
    };
    match name.as_str() {
        "customers" => json(
            StatusCode::OK,
            serde_json::json!({"customers": [customer(1), customer(2)], "total": 2}),
        ),
        "account" => json(
            StatusCode::OK,
            serde_json::json!({
                "id": 7,
                "owner": {"name": "Bo", "ssn": "123-45-6789"},
                "session": "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJibyJ9.c2ln"
            }),
        ),
        "payment" => json(
            StatusCode::OK,
            serde_json::json!({"kind": "card", "card": {"number": "4111111111111111"}, "cvv": "123"}),
        ),
        "declined" => json(
            StatusCode::UNPROCESSABLE_ENTITY,
            serde_json::json!({
                "error": "card declined",
                "card": {"number": "4111111111111111"},
                "email": "customer1@example.com"
            }),
        ),
        "broken" => (
            StatusCode::BAD_GATEWAY,
            [(axum::http::header::CONTENT_TYPE, "text/html")],
            "<html><body>upstream failed for {\"email\": \"customer1@example.com\"} with \
             Authorization: Bearer sk-live-0123456789abcdefghij</body></html>",
        )
            .into_response(),
        "many" => json(
            StatusCode::OK,
            serde_json::json!({"customers": (1..=50).map(customer).collect::<Vec<_>>(), "total": 50}),
        ),
        _ => json(
            StatusCode::NOT_FOUND,
            serde_json::json!({"error": "no such answer"}),
        ),
    }
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("no route for {method} {}", uri.path()),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("method {method} is not allowed on {}", uri.path()),
    )
}
