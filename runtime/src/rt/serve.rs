//! Serving: a generated server's `main`, and the two transports it serves, stdio (the
//! default) and streamable HTTP.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use rmcp::ServiceExt;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

use super::config::{ConfigError, ServeArgs, Transport, config_from_args};
use super::descriptor::ApiDescriptor;
use super::extra::ExtraTool;
use super::handler::SpliceTools;
use super::server::GeneratedServer;
use super::stdio::{StdioTransport, is_tools_list, splice_tools};

/// Why serving failed or ended with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The server could not be built from its configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The MCP handshake over stdio failed.
    #[error("MCP initialisation over stdio failed: {0}")]
    StdioHandshake(#[source] Box<rmcp::service::ServerInitializeError>),
    /// The stdio session's task failed.
    #[error("stdio session ended with an error: {0}")]
    StdioSession(#[source] tokio::task::JoinError),
    /// The HTTP transport's address cannot be listened on.
    #[error("cannot listen on {address}: {source}")]
    Listen {
        /// The address asked for.
        address: SocketAddr,
        /// What the system said.
        source: std::io::Error,
    },
    /// The listening socket's address cannot be read.
    #[error("cannot read the bound address: {0}")]
    LocalAddress(#[source] std::io::Error),
}

/// Parses the command line and serves `api` until the client goes away or a signal arrives.
pub fn main(api: &'static ApiDescriptor) -> ExitCode {
    main_with_extra_tools(api, Vec::new)
}

/// [`main`], serving the hand-written tools `extra_tools` returns beside the generated ones.
pub fn main_with_extra_tools(
    api: &'static ApiDescriptor,
    extra_tools: fn() -> Vec<ExtraTool>,
) -> ExitCode {
    run(api, ServeArgs::parse(), extra_tools())
}

/// Serves `api` with options already parsed (by a command line that has options of its own
/// around these, as `cargo mcpgen serve` has) until the client goes away or a signal arrives.
pub fn run(api: &'static ApiDescriptor, args: ServeArgs, extra_tools: Vec<ExtraTool>) -> ExitCode {
    // One client over stdio is served on one thread: handing each call between worker
    // threads costs more than the call's own work. HTTP serves many clients at once.
    let mut builder = match args.transport {
        Transport::Stdio => tokio::runtime::Builder::new_current_thread(),
        Transport::Http => tokio::runtime::Builder::new_multi_thread(),
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve_with_extra_tools(api, args, extra_tools)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Serves `api` with the given options, and the hand-written tools `extra_tools` beside the
/// generated ones.
pub async fn serve_with_extra_tools(
    api: &'static ApiDescriptor,
    args: ServeArgs,
    extra_tools: Vec<ExtraTool>,
) -> Result<(), ServeError> {
    // A program that embeds the server may have installed its own subscriber; keep it.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_max_level(args.log_level)
        .try_init();
    let mut args = args;
    args.env_prefix = api.env_prefix.to_owned();
    let config = config_from_args(api, &args)?;
    let server = GeneratedServer::new(api, config)?.with_extra_tools(extra_tools)?;
    // Where requests (and credentials) will go, so that the operator can see it before the
    // first call: the document may have chosen these.
    for line in server.destinations() {
        eprintln!("{line}");
    }
    match args.transport {
        Transport::Stdio => serve_stdio(server).await,
        Transport::Http => serve_http(server, &args).await,
    }
}

/// Serves one client on stdin/stdout until it disconnects or a signal arrives.
pub async fn serve_stdio(server: GeneratedServer) -> Result<(), ServeError> {
    let shutdown = shutdown_signal();
    let (read, write) = rmcp::transport::stdio_pipes();
    let transport = StdioTransport::new(read, write, server.clone());
    let running = server
        .serve(transport)
        .await
        .map_err(|e| ServeError::StdioHandshake(Box::new(e)))?;
    let cancel = running.cancellation_token();
    tokio::select! {
        result = running.waiting() => {
            result.map_err(ServeError::StdioSession)?;
        }
        _ = shutdown => cancel.cancel(),
    }
    Ok(())
}

/// Serves streamable HTTP at `/mcp` until a signal arrives.
pub async fn serve_http(server: GeneratedServer, args: &ServeArgs) -> Result<(), ServeError> {
    let shutdown = shutdown_signal();
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .map_err(|source| ServeError::Listen {
            address: args.bind,
            source,
        })?;
    let local = listener.local_addr().map_err(ServeError::LocalAddress)?;
    let cancel = CancellationToken::new();
    let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "::1", "[::1]"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    hosts.extend(args.allowed_hosts.iter().cloned());
    // Browsers send Origin; a page on another site (or another local port) must not drive
    // this server. Its own loopback origins and those named with --allow-origin are accepted.
    let port = local.port();
    let mut origins: Vec<String> = ["localhost", "127.0.0.1", "[::1]"]
        .iter()
        .map(|host| format!("http://{host}:{port}"))
        .collect();
    origins.extend(args.allowed_origins.iter().cloned());
    let http_config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(hosts)
        .with_allowed_origins(origins)
        .enforce_origin_validation()
        .with_cancellation_token(cancel.child_token())
        .with_max_request_body_bytes(MAX_REQUEST_BYTES);
    let lists = server.clone();
    let sessions = Arc::new(LocalSessionManager::default());
    let service =
        StreamableHttpService::new(move || Ok(server.clone()), sessions.clone(), http_config);
    let cap = Arc::new(SessionCap {
        sessions,
        max: args.max_sessions.max(1),
        admitting: tokio::sync::Mutex::new(()),
    });
    let mut router = axum::Router::new()
        .nest_service("/mcp", service)
        .layer(axum::middleware::from_fn(move |request, next| {
            splice_tool_list(lists.clone(), request, next)
        }))
        .layer(axum::middleware::from_fn(move |request, next| {
            cap_sessions(cap.clone(), request, next)
        }));
    let token_env = format!("{}_MCP_TOKEN", args.env_prefix);
    if let Some(token) = std::env::var(&token_env).ok().filter(|t| !t.is_empty()) {
        // The MCP endpoint's own credential: checked here and removed, so it can never be
        // mistaken for an upstream credential and passed through.
        let token: Arc<str> = Arc::from(token);
        router = router.layer(axum::middleware::from_fn(move |request, next| {
            require_token(token.clone(), request, next)
        }));
    }
    eprintln!("MCP server listening on http://{local}/mcp");
    let limits = ConnectionLimits {
        max_connections: args.max_connections.max(1),
        header_timeout: Duration::from_secs(args.header_timeout_secs.max(1)),
    };
    accept_connections(listener, router, limits, shutdown, &cancel).await;
    Ok(())
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

/// How long connections may take to finish after a shutdown signal (answers already under way
/// are completed; idle and streaming connections are closed).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Serves `router` on `listener` over HTTP/1.1 until `shutdown` resolves, then cancels
/// `sessions` (which ends their streams) and lets connections finish. Written out rather
/// than `axum::serve`, which sets no header-read timeout and accepts without limit: a client
/// that opens connections and sends its headers a byte at a time would otherwise hold
/// sockets and memory for as long as it likes.
async fn accept_connections(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    limits: ConnectionLimits,
    shutdown: impl std::future::Future<Output = ()>,
    sessions: &CancellationToken,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
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
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
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
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        let connection = http.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("HTTP connection ended: {e}");
            }
            drop(slot);
        });
    }
    drop(listener);
    sessions.cancel();
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
}

/// The live MCP sessions and their limit.
struct SessionCap {
    sessions: Arc<LocalSessionManager>,
    max: usize,
    /// Held while an `initialize` request is admitted and served, so that concurrent ones
    /// cannot together pass the limit.
    admitting: tokio::sync::Mutex<()>,
}

/// Answers a new session's `initialize` with HTTP 503 and a JSON-RPC error while the server
/// holds its maximum of sessions: each session keeps a task and buffers until it ends or stays
/// idle for five minutes, so unbounded sessions would be unbounded memory.
async fn cap_sessions(
    cap: Arc<SessionCap>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    // Requests of an existing session, and everything but POST, create no session.
    if request.method() != http::Method::POST || request.headers().contains_key("mcp-session-id") {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let body = match read_request_body(body).await {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let Some(id) = initialize_id(&body) else {
        return next
            .run(axum::extract::Request::from_parts(parts, body.into()))
            .await;
    };
    let _admitting = cap.admitting.lock().await;
    let live = cap.sessions.sessions.read().await.len();
    if live >= cap.max {
        let error = serde_json::json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": {
                "code": -32000,
                "message": format!(
                    "This MCP server already has its maximum of {} sessions (--max-sessions). \
                     Try again later; a session ends when its client closes it (HTTP DELETE \
                     with its Mcp-Session-Id) or after five idle minutes.",
                    cap.max
                ),
            },
        });
        return (
            http::StatusCode::SERVICE_UNAVAILABLE,
            [
                (http::header::CONTENT_TYPE, "application/json"),
                (http::header::RETRY_AFTER, "30"),
            ],
            error.to_string(),
        )
            .into_response();
    }
    next.run(axum::extract::Request::from_parts(parts, body.into()))
        .await
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

/// The largest MCP request body accepted over HTTP.
const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// The longest an MCP request body may take to arrive once its head has: the header timeout
/// does not cover the body, and a client trickling one would hold its connection forever.
const REQUEST_BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// Reads a request body within [`MAX_REQUEST_BYTES`] and [`REQUEST_BODY_TIMEOUT`], or the
/// answer that refuses it.
async fn read_request_body(
    body: axum::body::Body,
) -> Result<axum::body::Bytes, axum::response::Response> {
    use axum::response::IntoResponse;
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

/// Answers `tools/list` over HTTP from the server's pre-serialised list, as the stdio transport
/// does: the request is marked [`SpliceTools`], rmcp answers it with an empty list (shaped for
/// the session's protocol version, framed as JSON or as an SSE event), and the tools are put
/// into that answer here. Every other request passes through untouched.
async fn splice_tool_list(
    server: GeneratedServer,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if request.method() != http::Method::POST {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let body = match read_request_body(body).await {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let splice = is_tools_list(&body) && server.tools_json().is_some();
    if splice {
        parts.extensions.insert(SpliceTools);
    }
    let response = next
        .run(axum::extract::Request::from_parts(parts, body.into()))
        .await;
    let tools = match server.tools_json() {
        Some(tools) if splice && response.status() == http::StatusCode::OK => tools,
        _ => return response,
    };
    // The answer to one request: a JSON body, or an SSE stream that ends after it (bounded in
    // time all the same: a stream that stayed open must not hold the request forever).
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

/// Lets a request through only with `Authorization: Bearer <token>`, which it then removes.
async fn require_token(
    token: Arc<str>,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let presented = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.get(..7)
                .filter(|p| p.eq_ignore_ascii_case("bearer "))
                .map(|_| &v[7..])
        })
        .map(str::trim);
    let ok = presented.is_some_and(|p| constant_time_eq(p.as_bytes(), token.as_bytes()));
    if !ok {
        return axum::response::IntoResponse::into_response((
            http::StatusCode::UNAUTHORIZED,
            [(http::header::WWW_AUTHENTICATE, "Bearer")],
            "this MCP endpoint requires `Authorization: Bearer <token>`",
        ));
    }
    request.headers_mut().remove(http::header::AUTHORIZATION);
    next.run(request).await
}

/// Compares without an early exit, so the time taken says nothing about where they differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Resolves on Ctrl-C or SIGTERM.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    // The handlers are installed now, not when the future is first polled: a signal that
    // arrives while the handshake is still going on must not kill the process outright.
    #[cfg(unix)]
    let handlers = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let (mut term, mut int) = handlers;
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = wait(term.take()) => {},
                _ = wait(int.take()) => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
