//! The HTTP side: the client every HTTP measurement shares (floor and MCP alike), the floor's
//! direct request, and a raw streamable-HTTP MCP session (POST per message, session id
//! echoed, answers read from JSON or server-sent events).

use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::procs::ChildGuard;
use crate::rpc::{self, CallError};

/// The one HTTP client configuration: keep-alive, no proxy, Nagle off, a timeout on every
/// request.
pub fn client(timeout: Duration) -> Result<reqwest::Client, String> {
    // reqwest refuses to build a client when the workspace's features leave it without a TLS
    // provider; another one already installed is as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(timeout)
        .pool_max_idle_per_host(256)
        .tcp_nodelay(true)
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// One request straight to the upstream: `GET /v1/pets/1`, checked like an MCP answer (the
/// body is parsed and the name compared).
pub async fn floor_get(client: &reqwest::Client, url: &str) -> Result<(), CallError> {
    let response = client
        .get(url)
        .header("authorization", "Bearer bench")
        .send()
        .await
        .map_err(|e| CallError::lost(format!("GET {url}: {e}")))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| CallError::lost(format!("GET {url}: {e}")))?;
    if !status.is_success() {
        return Err(CallError::wrong(format!("GET {url}: HTTP {status}")));
    }
    let pet: Value = serde_json::from_slice(&body)
        .map_err(|e| CallError::wrong(format!("GET {url}: bad JSON: {e}")))?;
    if pet.get("name").and_then(Value::as_str) != Some("Rex") {
        return Err(CallError::wrong(format!("GET {url}: wrong pet {pet}")));
    }
    Ok(())
}

/// An initialised MCP session over streamable HTTP.
pub struct McpHttp {
    client: reqwest::Client,
    url: String,
    session: Option<String>,
    next_id: AtomicU64,
}

impl McpHttp {
    /// Sends `initialize` and `notifications/initialized`; returns the session and the time
    /// the `initialize` exchange took.
    pub async fn connect(
        client: reqwest::Client,
        url: &str,
    ) -> Result<(McpHttp, Duration), String> {
        let mut session = McpHttp {
            client,
            url: url.to_owned(),
            session: None,
            next_id: AtomicU64::new(1),
        };
        let started = Instant::now();
        let (headers, messages) = session
            .post(rpc::initialize(0))
            .await
            .map_err(|e| format!("initialize over HTTP failed: {}", e.message))?;
        let took = started.elapsed();
        if !messages
            .iter()
            .any(|m| m.get("id").and_then(Value::as_u64) == Some(0) && m.get("result").is_some())
        {
            return Err(format!("initialize was not answered: {messages:?}"));
        }
        session.session = headers
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        session
            .post(rpc::INITIALIZED.to_owned())
            .await
            .map_err(|e| format!("notifications/initialized failed: {}", e.message))?;
        Ok((session, took))
    }

    /// POSTs one message; returns the response headers and every message in the body.
    async fn post(
        &self,
        body: String,
    ) -> Result<(reqwest::header::HeaderMap, Vec<Value>), CallError> {
        let mut request = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", rpc::PROTOCOL_VERSION)
            .body(body);
        if let Some(session) = &self.session {
            request = request.header("mcp-session-id", session);
        }
        let response = request
            .send()
            .await
            .map_err(|e| CallError::lost(format!("POST {}: {e}", self.url)))?;
        let status = response.status();
        let headers = response.headers().clone();
        let event_stream = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        let body = response
            .text()
            .await
            .map_err(|e| CallError::lost(format!("POST {}: {e}", self.url)))?;
        if !status.is_success() {
            return Err(CallError::wrong(format!(
                "POST {}: HTTP {status}: {body}",
                self.url
            )));
        }
        let messages = rpc::messages_in_body(event_stream, &body).map_err(CallError::wrong)?;
        Ok((headers, messages))
    }

    /// Sends a request and returns the one answer carrying its id (an error when there is
    /// none, or more than one).
    pub async fn request(&self, id: u64, line: String) -> Result<Value, CallError> {
        let (_, messages) = self.post(line).await?;
        let mut answers = messages
            .into_iter()
            .filter(|m| m.get("id").and_then(Value::as_u64) == Some(id));
        let answer = answers
            .next()
            .ok_or_else(|| CallError::lost(format!("call {id}: the response held no answer")))?;
        if answers.next().is_some() {
            return Err(CallError::duplicate(format!(
                "call {id}: answered more than once"
            )));
        }
        Ok(answer)
    }

    /// A fresh request id.
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// One `tools/call getPetById`, checked.
    pub async fn get_pet(&self) -> Result<(), CallError> {
        let id = self.next_id();
        let answer = self.request(id, rpc::get_pet(id)).await?;
        rpc::check_pet_answer(&answer, id)
    }

    /// Ends the session (DELETE), best effort.
    pub async fn close(self) {
        if let Some(session) = &self.session {
            let _ = self
                .client
                .delete(&self.url)
                .header("mcp-session-id", session)
                .send()
                .await;
        }
    }
}

/// A server process serving streamable HTTP on a loopback port.
pub struct HttpServerProcess {
    guard: ChildGuard,
    /// `http://127.0.0.1:PORT/mcp`.
    pub url: String,
}

impl HttpServerProcess {
    /// Starts `bin ARGS --transport http --bind 127.0.0.1:0` and waits for the line that
    /// names its address; the rest of its stderr is appended to `log`.
    pub async fn start(
        bin: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        log: &Path,
    ) -> Result<HttpServerProcess, String> {
        Self::start_under(&[], bin, args, env, log, Duration::from_secs(10)).await
    }

    /// [`HttpServerProcess::start`] under a launcher (`valgrind --tool=callgrind`, say),
    /// waiting up to `startup` for the address.
    pub async fn start_under(
        launcher: &[&str],
        bin: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        log: &Path,
        startup: Duration,
    ) -> Result<HttpServerProcess, String> {
        let mut command = match launcher.split_first() {
            Some((program, rest)) => {
                let mut c = tokio::process::Command::new(program);
                c.args(rest).arg(bin);
                c
            }
            None => tokio::process::Command::new(bin),
        };
        // The transport flags go last: `args` may start with a subcommand (`serve SPEC`).
        command
            .args(args)
            .args(["--transport", "http", "--bind", "127.0.0.1:0"])
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut guard = ChildGuard::spawn(command, &bin.display().to_string())?;
        let stderr = guard.child_mut().stderr.take().ok_or("no stderr pipe")?;
        let mut lines = BufReader::new(stderr).lines();
        let mut seen = String::new();
        let url = tokio::time::timeout(startup, async {
            while let Ok(Some(line)) = lines.next_line().await {
                seen.push_str(&line);
                seen.push('\n');
                if let Some(rest) = line.split("listening on ").nth(1) {
                    return Some(rest.trim().to_owned());
                }
            }
            None
        })
        .await
        .map_err(|_| format!("{} did not listen within {startup:?}", bin.display()))?
        .ok_or_else(|| format!("{} exited before listening:\n{seen}", bin.display()))?;
        // Keep draining stderr into the log so the server never blocks on a full pipe.
        let log = log.to_owned();
        tokio::spawn(async move {
            let mut text = seen;
            while let Ok(Some(line)) = lines.next_line().await {
                text.push_str(&line);
                text.push('\n');
            }
            let _ = std::fs::write(log, text);
        });
        Ok(HttpServerProcess { guard, url })
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.guard.pid()
    }

    /// Stops it (SIGTERM, then SIGKILL after `grace`).
    pub async fn stop_within(self, grace: Duration) -> Result<(), String> {
        self.guard.terminate(grace).await
    }

    /// Stops it (SIGTERM, then SIGKILL).
    pub async fn stop(self) -> Result<(), String> {
        self.guard.terminate(Duration::from_secs(5)).await
    }
}
