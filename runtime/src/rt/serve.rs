//! Serving: a generated server's `main`, and the two transports it serves, stdio (the
//! default) and streamable HTTP.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;
use rmcp::ServiceExt;

use super::config::{ConfigError, LogFormat, ServeArgs, Transport, config_from_args};
use super::descriptor::ApiDescriptor;
use super::extra::{ExtraPrompt, ExtraTool};
use super::server::GeneratedServer;
use super::stdio::StdioTransport;

pub use super::http::serve_http;

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

/// What a program serves beside the generated tools and prompts: tools and prompts written by
/// hand. A list of tools alone converts into it.
#[derive(Debug, Default)]
pub struct Extras {
    /// Hand-written tools.
    pub tools: Vec<ExtraTool>,
    /// Hand-written prompts.
    pub prompts: Vec<ExtraPrompt>,
}

impl From<Vec<ExtraTool>> for Extras {
    fn from(tools: Vec<ExtraTool>) -> Self {
        Extras {
            tools,
            prompts: Vec::new(),
        }
    }
}

/// Serves `api` with options already parsed (by a command line that has options of its own
/// around these, as `cargo mcpgen serve` has) until the client goes away or a signal arrives.
pub fn run(api: &'static ApiDescriptor, args: ServeArgs, extras: impl Into<Extras>) -> ExitCode {
    super::allocator::configure();
    if args.health_check {
        // The check reads the options the server reads (`<PREFIX>_TLS_CERT`, for one).
        let mut args = args;
        if let Err(e) = args.fill_from_env(api.env_prefix) {
            eprintln!("unhealthy: {e}");
            return ExitCode::FAILURE;
        }
        return super::http::health_check(&args);
    }
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
    match runtime.block_on(serve_with_extra_tools(api, args, extras)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Serves `api` with the given options, and the hand-written tools and prompts `extras` beside
/// the generated ones.
pub async fn serve_with_extra_tools(
    api: &'static ApiDescriptor,
    args: ServeArgs,
    extras: impl Into<Extras>,
) -> Result<(), ServeError> {
    let extras = extras.into();
    // A program that embeds the server may have installed its own subscriber; keep it.
    let logs = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_max_level(args.log_level);
    let _ = match args.log_format {
        LogFormat::Text => logs.try_init(),
        // The request's span (its id) on every line, flattened into the object.
        LogFormat::Json => logs
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
    let mut args = args;
    args.fill_from_env(api.env_prefix)?;
    let config = config_from_args(api, &args)?;
    let server = GeneratedServer::new(api, config)?
        .with_extra_tools(extras.tools)?
        .with_extra_prompts(extras.prompts)?;
    // Where requests (and credentials) will go, so that the operator can see it before the
    // first call: the document may have chosen these.
    for line in server.destinations() {
        eprintln!("{line}");
    }
    reopen_audit_log_on_hangup(&server);
    let audit = server.clone();
    let served = match args.transport {
        Transport::Stdio => serve_stdio(server).await,
        Transport::Http => serve_http(server, &args).await,
    };
    // The last calls' audit lines, before the process ends.
    if let Some(log) = &audit.state.audit {
        log.flush(std::time::Duration::from_secs(2));
    }
    served
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

/// Reopens the audit log's file on every SIGHUP, after log rotation moved it away. Nothing
/// without an audit log file (SIGHUP then keeps its default action).
fn reopen_audit_log_on_hangup(server: &GeneratedServer) {
    #[cfg(unix)]
    if server.state.audit.as_ref().is_some_and(|a| a.is_file()) {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hangups) = signal(SignalKind::hangup()) else {
            return;
        };
        let server = server.clone();
        tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                if let Some(audit) = &server.state.audit {
                    audit.reopen();
                }
            }
        });
    }
    #[cfg(not(unix))]
    let _ = server;
}

/// Resolves on Ctrl-C or SIGTERM.
pub(super) fn shutdown_signal() -> impl std::future::Future<Output = ()> {
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
