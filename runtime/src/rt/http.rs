//! The streamable HTTP transport: MCP at `/mcp` (stateless by default, so that any replica
//! can answer any request), `/healthz`, `/readyz` and `/metrics` beside it, the endpoint's own
//! bearer token, limits on connections, request bodies and sessions, a graceful drain on
//! SIGTERM, and TLS when the operator gives a certificate ([`super::tls`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::response::IntoResponse;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::config::ServeArgs;
use super::direct::DirectCalls;
use super::handler::SpliceTools;
use super::inbound::{self, Cors, InboundAuth, StaticTokens};
use super::resource_server::ResourceServer;
use super::serve::{ServeError, shutdown_signal};
use super::server::GeneratedServer;
use super::stdio::{is_tools_list, splice_tools};
use super::tls::{self, HealthCheckTrust};
use super::trace::RequestId;

/// The largest MCP request body accepted over HTTP.
const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// The longest an MCP request body may take to arrive once its head has: the header timeout
/// does not cover the body, and a client trickling one would hold its connection forever.
const REQUEST_BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a readiness verdict is reused: a balancer probing every second must not turn into
/// an upstream request every second per replica.
const READY_CACHE: Duration = Duration::from_secs(5);

/// How long the readiness check waits for the upstream.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// The content type of `/metrics`.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Serves streamable HTTP at `/mcp` (and the operational routes) until a signal arrives, then
/// drains.
pub async fn serve_http(server: GeneratedServer, args: &ServeArgs) -> Result<(), ServeError> {
    let shutdown = shutdown_signal();
    let listen = |address: SocketAddr| async move {
        tokio::net::TcpListener::bind(address)
            .await
            .map_err(|source| ServeError::Listen { address, source })
    };
    // Who may call is decided before anything listens: a non-loopback address with no way to
    // authenticate callers is refused unless the operator says so.
    let inbound = InboundAuth::from_args(args)?;
    // The certificate and key are read and checked before anything listens, too.
    let tls = tls::server_config(args)?.map(tokio_rustls::TlsAcceptor::from);
    let scheme = if tls.is_some() { "https" } else { "http" };
    let listener = listen(args.bind).await?;
    let local = listener.local_addr().map_err(ServeError::LocalAddress)?;
    let endpoint = format!("{scheme}://{local}/mcp");
    if let Some(warning) = inbound.warning(&endpoint) {
        eprintln!("{warning}");
    }
    let metrics_listener = match args.metrics_bind {
        Some(address) => Some(listen(address).await?),
        None => None,
    };
    let sessions = CancellationToken::new();
    let drain = Arc::new(Drain::default());

    let mcp = mcp_router(
        &server,
        args,
        local.port(),
        tls.is_some(),
        &sessions,
        &drain,
    );
    let mut guarded = axum::Router::new().nest_service("/mcp", mcp);
    if args.metrics_bind.is_none() {
        guarded = guarded.route("/metrics", axum::routing::get(metrics_route));
    }
    if let Some(tokens) = inbound.static_tokens() {
        // The MCP endpoint's own credential: checked here and removed, so it can never be
        // mistaken for an upstream credential and passed through.
        let server = server.clone();
        guarded = guarded.layer(axum::middleware::from_fn(move |request, next| {
            require_token(tokens.clone(), server.clone(), request, next)
        }));
    }
    // An OAuth resource server in front of the MCP endpoint (and /metrics), with its metadata
    // document open to everyone, as clients read it before they have a token.
    let resource_server = ResourceServer::from_args(args, server.state.api)?.map(Arc::new);
    let mut open = axum::Router::new();
    if let Some(rs) = &resource_server {
        let guard = (rs.clone(), server.clone());
        guarded = guarded.layer(axum::middleware::from_fn(move |request, next| {
            let (rs, server) = guard.clone();
            super::resource_server::require_access_token(rs, server, request, next)
        }));
        let document = rs.metadata_document().to_string();
        let serve_document = move || {
            let document = document.clone();
            async move { ([(http::header::CONTENT_TYPE, "application/json")], document) }
        };
        open = open.route(
            "/.well-known/oauth-protected-resource",
            axum::routing::get(serve_document.clone()),
        );
        let suffixed = rs.metadata_path();
        if suffixed != "/.well-known/oauth-protected-resource" {
            open = open.route(&suffixed, axum::routing::get(serve_document));
        }
    }
    // CORS for the origins of --allow-origin, outside every check of the caller (keep it the
    // last layer of `guarded`): a preflight never carries a token, and a page must be able to
    // read a 401 and its WWW-Authenticate.
    if let Some(cors) = Cors::new(
        &args.allowed_origins,
        server.state.api,
        server.state.config.passthrough,
    ) {
        let cors = Arc::new(cors);
        guarded = guarded.layer(axum::middleware::from_fn(move |request, next| {
            inbound::cors(cors.clone(), request, next)
        }));
    }
    let readiness = Arc::new(Readiness {
        server: server.clone(),
        drain: drain.clone(),
        last: tokio::sync::Mutex::new(None),
    });
    // Probes come from the platform (a balancer, the kubelet), which holds no MCP token.
    let open = open
        .route("/healthz", axum::routing::get(|| async { "ok\n" }))
        .route(
            "/readyz",
            axum::routing::get(move || {
                let readiness = readiness.clone();
                async move { readiness.answer().await }
            }),
        );
    let router = guarded
        .merge(open)
        .with_state(server.clone())
        .layer(axum::middleware::from_fn(with_request_id));

    let limits = ConnectionLimits {
        max_connections: args.max_connections.max(1),
        header_timeout: Duration::from_secs(args.header_timeout_secs.max(1)),
    };
    let stop_metrics = CancellationToken::new();
    if let Some(listener) = metrics_listener {
        if let Ok(address) = listener.local_addr() {
            eprintln!("metrics at http://{address}/metrics");
        }
        let router = axum::Router::new()
            .route("/metrics", axum::routing::get(metrics_route))
            .with_state(server.clone());
        let stop = stop_metrics.clone();
        // Plain HTTP, also when the MCP endpoint is served over TLS: scrapers reach it on an
        // address of its own, usually inside the cluster.
        tokio::spawn(async move {
            let connections = accept_until(listener, router, limits, None, stop.cancelled()).await;
            let _ = tokio::time::timeout(Duration::from_secs(1), connections.shutdown()).await;
        });
    }
    eprintln!("MCP server listening on {endpoint}");

    let connections = accept_until(listener, router, limits, tls, shutdown).await;
    // No new connections from here; `/readyz` says 503 so that balancers stop sending, and
    // answers ask their clients to close the connection.
    drain.start();
    let grace = Duration::from_secs(args.shutdown_grace_secs);
    let waiting = drain.in_flight();
    if waiting > 0 {
        eprintln!(
            "shutting down: {waiting} request(s) in flight, waiting up to {} s",
            grace.as_secs()
        );
    }
    if tokio::time::timeout(grace, drain.idle()).await.is_err() {
        eprintln!(
            "shutting down: {} request(s) still in flight after {} s are cut",
            drain.in_flight(),
            grace.as_secs()
        );
    }
    // Ends session streams (with --sessions) and whatever is still running.
    sessions.cancel();
    stop_metrics.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(1), connections.shutdown()).await;
    Ok(())
}

/// The MCP endpoint ([`Endpoint`]): rmcp's streamable HTTP service with its limits, the
/// shortcut for plain calls, the spliced tool list, the session cap (with `--sessions`) and
/// the drain's request count.
fn mcp_router(
    server: &GeneratedServer,
    args: &ServeArgs,
    port: u16,
    tls: bool,
    sessions: &CancellationToken,
    drain: &Arc<Drain>,
) -> axum::Router {
    let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "::1", "[::1]"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    hosts.extend(args.allowed_hosts.iter().cloned());
    // Browsers send Origin; a page on another site (or another local port) must not drive
    // this server. Its own loopback origins (https ones too with TLS) and those named with
    // --allow-origin are accepted.
    let schemes: &[&str] = if tls { &["http", "https"] } else { &["http"] };
    let mut origins: Vec<String> = schemes
        .iter()
        .flat_map(|scheme| {
            ["localhost", "127.0.0.1", "[::1]"]
                .iter()
                .map(move |host| format!("{scheme}://{host}:{port}"))
        })
        .collect();
    origins.extend(args.allowed_origins.iter().cloned());
    // Without --sessions every request is answered on its own (2026-07-28 requests always
    // are), so replicas need no shared state and no sticky balancing; a plain JSON answer
    // where the client accepts one saves the SSE framing.
    let http_config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(hosts)
        .with_allowed_origins(origins)
        .enforce_origin_validation()
        .with_legacy_session_mode(args.sessions)
        .with_json_response(!args.sessions)
        .with_cancellation_token(sessions.child_token())
        .with_max_request_body_bytes(MAX_REQUEST_BYTES);
    let direct = DirectCalls::new(&http_config.allowed_hosts, args.sessions);
    let session_manager = Arc::new(LocalSessionManager::default());
    let served = server.clone();
    let rmcp = StreamableHttpService::new(
        move || Ok(served.clone()),
        session_manager.clone(),
        http_config,
    );
    let sessions = args.sessions.then(|| SessionCap {
        sessions: session_manager,
        max: args.max_sessions.max(1),
        admitting: tokio::sync::Mutex::new(()),
    });
    let endpoint = Arc::new(Endpoint {
        server: server.clone(),
        direct,
        rmcp,
        sessions,
        drain: drain.clone(),
    });
    axum::Router::new().fallback(move |request: axum::extract::Request| {
        let endpoint = endpoint.clone();
        async move { endpoint.answer(request).await }
    })
}

/// The MCP endpoint as one handler: the drain's count, the session cap (with `--sessions`),
/// the shortcut for plain calls and the spliced tool list, then rmcp's streamable HTTP
/// service. Written as one handler rather than a router with a layer for each: the router
/// clones and boxes every layer for every request.
struct Endpoint {
    server: GeneratedServer,
    direct: Option<DirectCalls>,
    rmcp: StreamableHttpService<GeneratedServer, LocalSessionManager>,
    sessions: Option<SessionCap>,
    drain: Arc<Drain>,
}

impl Endpoint {
    /// Counts the request until its answer is sent; while draining, asks the client to close
    /// the connection after it, so that its next request goes to another replica.
    async fn answer(&self, request: axum::extract::Request) -> axum::response::Response {
        let counted = self.drain.count();
        let response = self.admit(request).await;
        let (mut parts, body) = response.into_parts();
        if self.drain.is_draining() {
            parts.headers.insert(
                http::header::CONNECTION,
                http::HeaderValue::from_static("close"),
            );
        }
        let body = axum::body::Body::new(Counted {
            body,
            _request: counted,
        });
        axum::response::Response::from_parts(parts, body)
    }

    /// Reads a POST's body (once, within its limits) and admits a new session only under
    /// the cap (with `--sessions`); requests other than POST go to rmcp as they came.
    async fn admit(&self, request: axum::extract::Request) -> axum::response::Response {
        if request.method() != http::Method::POST {
            return self.rmcp(request).await;
        }
        let (parts, body) = request.into_parts();
        let body = match read_request_body(body).await {
            Ok(body) => body,
            Err(refused) => return refused,
        };
        // Requests of an existing session create none.
        let initialize = match &self.sessions {
            Some(cap) if !parts.headers.contains_key("mcp-session-id") => {
                initialize_id(&body).map(|id| (cap, id))
            }
            _ => None,
        };
        let Some((cap, id)) = initialize else {
            return self.answer_directly_or_splice(parts, body).await;
        };
        let _admitting = cap.admitting.lock().await;
        if cap.sessions.sessions.read().await.len() >= cap.max {
            return cap.refusal(id);
        }
        self.answer_directly_or_splice(parts, body).await
    }

    /// Answers a plain stateless tool call in place ([`DirectCalls`]), and `tools/list` from
    /// the server's pre-serialised list, as the stdio transport does: the request is marked
    /// [`SpliceTools`], rmcp answers it with an empty list (shaped for the session's protocol
    /// version, framed as JSON or as an SSE event), and the tools are put into that answer
    /// here. Every other request goes to rmcp untouched.
    async fn answer_directly_or_splice(
        &self,
        mut parts: http::request::Parts,
        body: axum::body::Bytes,
    ) -> axum::response::Response {
        let server = &self.server;
        if let Some(direct) = &self.direct
            && let Some(answer) = direct.answer(server, &parts, &body).await
        {
            return answer;
        }
        let splice = is_tools_list(&body) && server.tools_json().is_some();
        if splice {
            parts.extensions.insert(SpliceTools);
        }
        let response = self
            .rmcp(axum::extract::Request::from_parts(parts, body.into()))
            .await;
        let tools = match server.tools_json() {
            Some(tools) if splice && response.status() == http::StatusCode::OK => tools,
            _ => return response,
        };
        // The answer to one request: a JSON body, or an SSE stream that ends after it (bounded
        // in time all the same: a stream that stayed open must not hold the request forever).
        let (mut parts, body) = response.into_parts();
        let read = axum::body::to_bytes(body, MAX_REQUEST_BYTES);
        match tokio::time::timeout(Duration::from_secs(30), read)
            .await
            .unwrap_or_else(|_| Err(axum::Error::new("timed out")))
        {
            Ok(answer) => {
                parts.headers.remove(http::header::CONTENT_LENGTH);
                let answer = splice_tools(answer.to_vec(), tools);
                axum::response::Response::from_parts(parts, answer.into())
            }
            Err(e) => (
                http::StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot read the tool list's answer: {e}"),
            )
                .into_response(),
        }
    }

    async fn rmcp(&self, request: axum::extract::Request) -> axum::response::Response {
        // Boxed: rmcp's future is large, and every future that holds it is moved whole when
        // the request's future is built, whether or not rmcp is called.
        Box::pin(self.rmcp.handle(request))
            .await
            .map(axum::body::Body::new)
    }
}

/// Gives every request an id (the caller's sane `X-Request-Id`, else a new one), logs within
/// a span that carries it, and returns it in the answer's `X-Request-Id`.
async fn with_request_id(
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let id = RequestId::from_headers(request.headers());
    // At error level, so that the id is on every line whatever the log level.
    let span = tracing::error_span!("request", id = %id);
    let header = http::HeaderValue::from_str(&id.0).ok();
    request.extensions_mut().insert(id);
    let mut response = next.run(request).instrument(span).await;
    if let Some(header) = header {
        response.headers_mut().insert("x-request-id", header);
    }
    response
}

/// `/metrics`: the server's counters as OpenMetrics text.
async fn metrics_route(
    axum::extract::State(server): axum::extract::State<GeneratedServer>,
) -> axum::response::Response {
    (
        [(http::header::CONTENT_TYPE, OPENMETRICS)],
        server.metrics().render(),
    )
        .into_response()
}

/// Requests under way on the MCP endpoint, and whether the server is draining.
#[derive(Default)]
struct Drain {
    draining: AtomicBool,
    in_flight: AtomicUsize,
    idle: tokio::sync::Notify,
}

impl Drain {
    /// Counts one more request under way, until the returned guard is dropped.
    fn count(self: &Arc<Self>) -> InFlightRequest {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlightRequest(self.clone())
    }

    fn start(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// Resolves when no request is under way.
    async fn idle(&self) {
        loop {
            let notified = self.idle.notified();
            if self.in_flight() == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// One request under way, until its answer's body has been sent (or dropped).
struct InFlightRequest(Arc<Drain>);

impl Drop for InFlightRequest {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// A response body that holds its request's place in the drain until it is finished: an
/// answer streamed as SSE is under way until its last event.
struct Counted {
    body: axum::body::Body,
    _request: InFlightRequest,
}

impl http_body::Body for Counted {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// `/readyz`: 200 while the server can serve calls (its upstream answers), 503 while it
/// cannot or is draining. The upstream check is cached for a few seconds.
struct Readiness {
    server: GeneratedServer,
    drain: Arc<Drain>,
    last: tokio::sync::Mutex<Option<(Instant, bool)>>,
}

impl Readiness {
    async fn answer(&self) -> axum::response::Response {
        if self.drain.is_draining() {
            return (http::StatusCode::SERVICE_UNAVAILABLE, "draining\n").into_response();
        }
        // One check at a time: probes arriving together wait for its verdict.
        let mut last = self.last.lock().await;
        let ready = match *last {
            Some((at, ready)) if at.elapsed() < READY_CACHE => ready,
            _ => {
                let ready = match self.server.probe_upstream(READY_TIMEOUT).await {
                    Ok(()) => true,
                    Err(e) => {
                        // The reason stays in the log: the probe's caller is not
                        // authenticated.
                        tracing::warn!("not ready: {e}");
                        false
                    }
                };
                *last = Some((Instant::now(), ready));
                ready
            }
        };
        if ready {
            (http::StatusCode::OK, "ready\n").into_response()
        } else {
            (
                http::StatusCode::SERVICE_UNAVAILABLE,
                "the upstream API cannot be reached\n",
            )
                .into_response()
        }
    }
}

/// `--health-check`: asks the server at `--bind` (this machine's address when it is a
/// wildcard) for `/healthz` and exits 0 on a 200 answer; over TLS when `--tls-cert` is
/// configured, trusting exactly that certificate. Plain blocking I/O: a container's health
/// check should start and finish in milliseconds.
pub fn health_check(args: &ServeArgs) -> ExitCode {
    let bind = args.bind;
    let ip = match bind.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let address = SocketAddr::new(ip, bind.port());
    let trust = match HealthCheckTrust::from_args(args) {
        Ok(trust) => trust,
        Err(e) => {
            eprintln!("unhealthy: {e}");
            return ExitCode::FAILURE;
        }
    };
    let scheme = if trust.is_some() { "https" } else { "http" };
    match ask_for_health(address, trust) {
        Ok(head) if &head[..9] == b"HTTP/1.1 " && &head[9..12] == b"200" => ExitCode::SUCCESS,
        Ok(head) => {
            eprintln!(
                "unhealthy: {scheme}://{address}/healthz answered {}",
                String::from_utf8_lossy(&head)
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("unhealthy: cannot ask {scheme}://{address}/healthz: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The first 12 bytes of the answer to `GET /healthz` at `address` (over TLS with `trust`).
fn ask_for_health(
    address: SocketAddr,
    trust: Option<HealthCheckTrust>,
) -> std::io::Result<[u8; 12]> {
    use std::io::{Read, Write};
    fn ask(stream: &mut (impl Read + Write), address: SocketAddr) -> std::io::Result<[u8; 12]> {
        write!(
            stream,
            "GET /healthz HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
        )?;
        stream.flush()?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head)?;
        Ok(head)
    }
    let timeout = Duration::from_secs(3);
    let mut stream = std::net::TcpStream::connect_timeout(&address, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let Some(trust) = trust else {
        return ask(&mut stream, address);
    };
    // The name is not checked (the certificate itself is): an IP address sends no SNI.
    let name = rustls::pki_types::ServerName::IpAddress(address.ip().into());
    let config = trust.client_config().map_err(std::io::Error::other)?;
    let connection =
        rustls::ClientConnection::new(Arc::new(config), name).map_err(std::io::Error::other)?;
    ask(&mut rustls::StreamOwned::new(connection, stream), address)
}

/// Limits on the HTTP transport's connections.
#[derive(Debug, Clone, Copy)]
struct ConnectionLimits {
    /// Connections served at once; the listener accepts no more until one closes.
    max_connections: usize,
    /// Time to send a complete request head, from the connection's start or the end of its
    /// previous request; a slow or silent client is disconnected after it.
    header_timeout: Duration,
}

/// Serves `router` on `listener` over HTTP/1.1 (inside TLS with `tls`) until `shutdown`
/// resolves, and returns the connections still open, to be shut down gracefully. Written out
/// rather than `axum::serve`, which sets no header-read timeout and accepts without limit: a
/// client that opens connections and sends its headers a byte at a time would otherwise hold
/// sockets and memory for as long as it likes.
async fn accept_until(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    limits: ConnectionLimits,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl std::future::Future<Output = ()>,
) -> hyper_util::server::graceful::GracefulShutdown {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    // Shared by the connections' tasks.
    let http = Arc::new(http);
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // A slot first, then the connection: past the cap, clients wait in the listen queue.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            () = &mut shutdown => break,
        };
        let Ok(slot) = slot else { break };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was accepted:
                    // pause briefly instead of spinning, and keep serving.
                    tracing::debug!("accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Responses go out as several small writes (head, then SSE events); with Nagle's
        // algorithm on, every other call would wait for a delayed ACK.
        let _ = stream.set_nodelay(true);
        // The peer's address travels with each of the connection's requests, for the audit
        // log's caller of an unauthenticated request.
        let service = WithPeer {
            inner: hyper_util::service::TowerToHyperService::new(router.clone()),
            peer,
        };
        // Watched from now on, so that a shutdown waits for a connection still in its TLS
        // handshake too (and closes it gracefully once the handshake is over).
        let watcher = graceful.watcher();
        let (http, tls) = (http.clone(), tls.clone());
        tokio::spawn(async move {
            match tls {
                None => serve_connection(&http, stream, service, watcher).await,
                // The handshake runs here, on the connection's own task, so a slow one never
                // holds up accepting; a client that does not finish it within the header
                // timeout is dropped.
                Some(acceptor) => {
                    match tokio::time::timeout(limits.header_timeout, acceptor.accept(stream)).await
                    {
                        Ok(Ok(stream)) => serve_connection(&http, stream, service, watcher).await,
                        Ok(Err(e)) => tracing::debug!("TLS handshake failed: {e}"),
                        Err(_) => tracing::debug!(
                            "TLS handshake not finished within {} s: connection closed",
                            limits.header_timeout.as_secs()
                        ),
                    }
                }
            }
            drop(slot);
        });
    }
    graceful
}

/// A connection's service: the router, with the peer's address put into every request's
/// extensions (for the audit log's caller of a request nothing else identifies).
#[derive(Clone)]
struct WithPeer {
    inner: RouterService,
    peer: SocketAddr,
}

type RouterService = hyper_util::service::TowerToHyperService<axum::Router>;
type Incoming = http::Request<hyper::body::Incoming>;

impl hyper::service::Service<Incoming> for WithPeer {
    type Response = <RouterService as hyper::service::Service<Incoming>>::Response;
    type Error = <RouterService as hyper::service::Service<Incoming>>::Error;
    type Future = <RouterService as hyper::service::Service<Incoming>>::Future;

    fn call(&self, mut request: Incoming) -> Self::Future {
        request
            .extensions_mut()
            .insert(super::audit::PeerAddr(self.peer));
        self.inner.call(request)
    }
}

/// Serves one connection (a TCP stream, or the TLS stream on top of it) until it ends.
async fn serve_connection<I>(
    http: &hyper::server::conn::http1::Builder,
    io: I,
    service: WithPeer,
    watcher: hyper_util::server::graceful::Watcher,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let connection = http.serve_connection(hyper_util::rt::TokioIo::new(io), service);
    if let Err(e) = watcher.watch(connection).await {
        tracing::debug!("HTTP connection ended: {e}");
    }
}

/// The live MCP sessions (with `--sessions`) and their limit.
struct SessionCap {
    sessions: Arc<LocalSessionManager>,
    max: usize,
    /// Held while an `initialize` request is admitted and served, so that concurrent ones
    /// cannot together pass the limit.
    admitting: tokio::sync::Mutex<()>,
}

impl SessionCap {
    /// The answer to a new session's `initialize` while the server holds its maximum of
    /// sessions: HTTP 503 and a JSON-RPC error. Each session keeps a task and buffers until it
    /// ends or stays idle for five minutes, so unbounded sessions would be unbounded memory.
    fn refusal(&self, id: serde_json::Value) -> axum::response::Response {
        let error = serde_json::json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": {
                "code": -32000,
                "message": format!(
                    "This MCP server already has its maximum of {} sessions (--max-sessions). \
                     Try again later; a session ends when its client closes it (HTTP DELETE \
                     with its Mcp-Session-Id) or after five idle minutes.",
                    self.max
                ),
            },
        });
        (
            http::StatusCode::SERVICE_UNAVAILABLE,
            [
                (http::header::CONTENT_TYPE, "application/json"),
                (http::header::RETRY_AFTER, "30"),
            ],
            error.to_string(),
        )
            .into_response()
    }
}

/// The id of `body` when it is a JSON-RPC `initialize` request.
fn initialize_id(body: &[u8]) -> Option<serde_json::Value> {
    const METHOD: &[u8] = b"initialize";
    if !body.windows(METHOD.len()).any(|w| w == METHOD) {
        return None;
    }
    let message: serde_json::Value = serde_json::from_slice(body).ok()?;
    if message.get("method")?.as_str()? != "initialize" {
        return None;
    }
    message.get("id").cloned()
}

/// Reads a request body within [`MAX_REQUEST_BYTES`] and [`REQUEST_BODY_TIMEOUT`], or the
/// answer that refuses it.
pub(super) async fn read_request_body(
    body: axum::body::Body,
) -> Result<axum::body::Bytes, axum::response::Response> {
    match tokio::time::timeout(
        REQUEST_BODY_TIMEOUT,
        axum::body::to_bytes(body, MAX_REQUEST_BYTES),
    )
    .await
    {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(_)) => Err((
            http::StatusCode::PAYLOAD_TOO_LARGE,
            format!("an MCP request body is limited to {MAX_REQUEST_BYTES} bytes"),
        )
            .into_response()),
        Err(_) => Err((
            http::StatusCode::REQUEST_TIMEOUT,
            format!(
                "an MCP request body must arrive within {} s",
                REQUEST_BODY_TIMEOUT.as_secs()
            ),
        )
            .into_response()),
    }
}

/// Lets a request through only with `Authorization: Bearer <one of the tokens>`, which it
/// then removes; a failure is counted and answered 401 with `WWW-Authenticate: Bearer`, or
/// 429 once its address has failed `--unauthenticated-rate-limit` times. Comparing with the
/// tokens costs next to nothing, so a valid token is let through whatever its address did.
async fn require_token(
    tokens: Arc<StaticTokens>,
    server: GeneratedServer,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let Some(index) = tokens.matching(request.headers()) else {
        let peer = inbound::peer_ip(request.extensions());
        if let Some(refused) = inbound::limit_unauthenticated(&server, peer) {
            return refused;
        }
        server.metrics().auth_failed();
        return inbound::unauthorized();
    };
    // Which token, never the token: the audit log names the caller by it.
    request
        .extensions_mut()
        .insert(super::audit::McpTokenIndex(index));
    request.headers_mut().remove(http::header::AUTHORIZATION);
    next.run(request).await
}
