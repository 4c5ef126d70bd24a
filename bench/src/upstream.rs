//! The benchmark's upstream: a minimal HTTP server that answers `GET /v1/pets/1` (with any
//! bearer token) with one fixed JSON body, and 404 or 401 otherwise. It is the same for the
//! floor and for the MCP server, and does as little as an HTTP server can, so that what is
//! measured is the client side. It runs as a separate process (`mcpgen-bench upstream`), so
//! its CPU time is its own, and exits when its stdin closes, so it cannot outlive the
//! benchmark.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::Stdio;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

use crate::procs::ChildGuard;

/// The fixed answer for pet 1.
pub const PET_JSON: &str = r#"{"id":"1","name":"Rex","tag":"dog","status":"available"}"#;

/// Serves the upstream on `127.0.0.1:port` until stdin reaches end of file. Prints
/// `listening on http://ADDR/v1` on stdout once bound.
pub async fn run(port: u16) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .await
        .map_err(|e| format!("cannot listen on port {port}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let app = Router::new().route("/v1/pets/{id}", get(pet));
    println!("listening on http://{addr}/v1");
    let listener = axum::serve::ListenerExt::tap_io(listener, |stream| {
        let _ = stream.set_nodelay(true);
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let mut sink = Vec::new();
            let _ = tokio::io::stdin().read_to_end(&mut sink).await;
        })
        .await
        .map_err(|e| format!("the upstream failed: {e}"))
}

async fn pet(Path(id): Path<String>, headers: HeaderMap) -> Response {
    let authorised = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer "));
    let (status, body) = if !authorised {
        (
            StatusCode::UNAUTHORIZED,
            r#"{"code":401,"message":"missing bearer token"}"#,
        )
    } else if id == "1" {
        (StatusCode::OK, PET_JSON)
    } else {
        (
            StatusCode::NOT_FOUND,
            r#"{"code":404,"message":"no such pet"}"#,
        )
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The upstream process, started by the benchmark.
pub struct UpstreamProcess {
    /// Kept so the process dies with the guard; its stdin pipe is its lifeline.
    pub guard: ChildGuard,
    /// `http://127.0.0.1:PORT/v1`.
    pub base_url: String,
}

impl UpstreamProcess {
    /// Starts `mcpgen-bench upstream --port 0` and waits for its address.
    pub async fn start() -> Result<UpstreamProcess, String> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find myself: {e}"))?;
        let mut command = tokio::process::Command::new(exe);
        command
            .args(["upstream", "--port", "0"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut guard = ChildGuard::spawn(command, "the upstream")?;
        let stdout = guard
            .child_mut()
            .stdout
            .take()
            .ok_or("the upstream has no stdout")?;
        let mut line = String::new();
        tokio::time::timeout(
            Duration::from_secs(10),
            BufReader::new(stdout).read_line(&mut line),
        )
        .await
        .map_err(|_| "the upstream did not start within 10 s".to_owned())?
        .map_err(|e| format!("cannot read the upstream's address: {e}"))?;
        let base_url = line
            .trim()
            .strip_prefix("listening on ")
            .ok_or_else(|| format!("unexpected upstream output {line:?}"))?
            .to_owned();
        Ok(UpstreamProcess { guard, base_url })
    }

    /// The URL of pet 1, what the floor requests.
    pub fn pet_url(&self) -> String {
        format!("{}/pets/1", self.base_url)
    }

    /// Closes its stdin and waits for it to exit.
    pub async fn stop(mut self) -> Result<(), String> {
        drop(self.guard.child_mut().stdin.take());
        self.guard.stop(Duration::from_secs(5)).await
    }
}
