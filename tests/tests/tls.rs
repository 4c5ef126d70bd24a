//! Direct TLS on the HTTP transport (`--tls-cert`, `--tls-key`): the example server generated
//! at test time serves MCP over https with a self-signed certificate made for the run by the
//! `openssl` command line, to a client that trusts exactly that certificate; plain http to
//! the port, a client that trusts something else, and a client that never finishes its
//! handshake all get nothing; `--health-check` asks over TLS.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mcpgen_tests::petstore::{ENV_TOKEN, Petstore, TOKEN_VAR, upstream};
use mcpgen_tests::{Client, HttpServer, Upstream, assert_ok, call, ensure_crypto_provider};
use rmcp::ServiceExt;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A self-signed certificate for `localhost` and `127.0.0.1` and its key, in a folder that
/// lives as long as this value.
struct SelfSigned {
    _dir: tempfile::TempDir,
    cert: PathBuf,
    key: PathBuf,
}

impl SelfSigned {
    /// Makes one with `openssl req` (a P-256 key, valid for a day).
    fn new() -> SelfSigned {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        let made = std::process::Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
            .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"])
            .args(["-subj", "/CN=localhost"])
            .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
            // Not a CA (`req -x509` makes one by default), which clients refuse as a server's.
            .args(["-addext", "basicConstraints=critical,CA:FALSE"])
            .args(["-addext", "extendedKeyUsage=serverAuth"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .expect("the `openssl` command line makes the test certificate");
        assert!(made.status.success(), "openssl: {made:?}");
        SelfSigned {
            _dir: dir,
            cert,
            key,
        }
    }

    /// `--tls-cert CERT --tls-key KEY`.
    fn args(&self) -> Vec<String> {
        vec![
            "--tls-cert".to_owned(),
            path(&self.cert),
            "--tls-key".to_owned(),
            path(&self.key),
        ]
    }

    /// A reqwest client that trusts this certificate and nothing else.
    fn client(&self) -> reqwest::Client {
        ensure_crypto_provider();
        let pem = std::fs::read(&self.cert).unwrap();
        let cert = reqwest::Certificate::from_pem(&pem).unwrap();
        reqwest::Client::builder()
            .tls_certs_only([cert])
            .build()
            .unwrap()
    }
}

fn path(path: &Path) -> String {
    path.to_str().expect("a UTF-8 temporary path").to_owned()
}

/// The Petstore server over TLS against `up`, with `extra` arguments after the TLS ones.
async fn serve(up: &Upstream, tls: &SelfSigned, extra: &[&str]) -> HttpServer {
    let mut args = tls.args();
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Petstore::Standalone
        .http(up, &args, &[(TOKEN_VAR, ENV_TOKEN)])
        .await;
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    server
}

/// An MCP client over https through `http`.
async fn mcp_client(server: &HttpServer, http: reqwest::Client) -> Client {
    let config = StreamableHttpClientTransportConfig::with_uri(server.url.clone());
    let transport = StreamableHttpClientTransport::with_client(http, config);
    ().serve(transport)
        .await
        .expect("MCP initialisation over https")
}

/// `127.0.0.1:PORT` of the server.
fn authority(server: &HttpServer) -> String {
    server
        .url
        .trim_start_matches("https://")
        .trim_end_matches("/mcp")
        .to_owned()
}

/// How long until the server closes `stream` (reading and dropping whatever it sends), or
/// `None` if it is still open after `limit`.
async fn time_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buffer = [0u8; 1024];
    tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return started.elapsed(),
                Ok(_) => {}
            }
        }
    })
    .await
    .ok()
}

#[tokio::test]
async fn mcp_over_https_lists_and_calls_tools() {
    let up = upstream().await;
    let tls = SelfSigned::new();
    let server = serve(&up, &tls, &[]).await;
    let trusting = tls.client();

    let client = mcp_client(&server, trusting.clone()).await;
    let tools = client.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, Petstore::Standalone.tool_names());
    up.clear();
    let result = call(&client, "getPetById", json!({"petId": "1"})).await;
    assert_ok(&result);
    let requests = up.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].header("authorization"),
        Some(format!("Bearer {ENV_TOKEN}").as_str())
    );
    client.cancel().await.ok();

    // The operational routes are served over TLS as well.
    let health = trusting.get(server.route("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);

    // The server's own https origins are accepted, other ports' are not.
    let port = authority(&server).rsplit(':').next().unwrap().to_owned();
    let initialize = json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "raw", "version": "1"}}
    });
    for (origin, accepted) in [
        (format!("https://localhost:{port}"), true),
        (format!("https://127.0.0.1:{port}"), true),
        ("https://127.0.0.1:1".to_owned(), false),
    ] {
        let answer = trusting
            .post(&server.url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .header("origin", &origin)
            .body(initialize.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(
            answer.status().is_success(),
            accepted,
            "{origin}: {}",
            answer.status()
        );
    }

    // Plain http to the TLS port gets no answer, and neither does a client that trusts
    // another certificate (here: the system's roots).
    let plain = format!("http://{}/healthz", authority(&server));
    let refused = reqwest::Client::new().get(&plain).send().await;
    assert!(refused.is_err(), "plain http was answered: {refused:?}");
    let untrusting = reqwest::Client::builder().build().unwrap();
    let refused = untrusting.get(server.route("/healthz")).send().await;
    assert!(
        refused.is_err(),
        "a self-signed certificate was trusted: {refused:?}"
    );

    // The server still serves.
    let client = mcp_client(&server, trusting).await;
    assert!(!client.list_all_tools().await.unwrap().is_empty());
    client.cancel().await.ok();
    let status = server.stop().await;
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn the_health_check_asks_over_tls_trusting_the_configured_certificate() {
    let up = upstream().await;
    let tls = SelfSigned::new();
    let server = serve(&up, &tls, &[]).await;
    let bind = authority(&server);
    let check = |extra: &[String], env: &[(&str, &Path)]| {
        let mut command = std::process::Command::new(Petstore::Standalone.binary());
        command
            .args(["--transport", "http", "--bind", &bind, "--health-check"])
            .args(extra)
            .env_remove("PETSTORE_TLS_CERT")
            .env_remove("PETSTORE_TLS_KEY");
        for (name, value) in env {
            command.env(name, value);
        }
        command.output().expect("the server binary runs")
    };
    let healthy = check(&tls.args(), &[]);
    assert!(healthy.status.success(), "{healthy:?}");
    // The files from the environment, as a container's health check would have them.
    let from_env = check(
        &[],
        &[
            ("PETSTORE_TLS_CERT", &tls.cert),
            ("PETSTORE_TLS_KEY", &tls.key),
        ],
    );
    assert!(from_env.status.success(), "{from_env:?}");

    // Without the certificate the check speaks plain http, which a TLS server does not answer.
    let plain = check(&[], &[]);
    assert!(!plain.status.success());
    assert!(
        String::from_utf8_lossy(&plain.stderr).contains("unhealthy"),
        "{plain:?}"
    );
    // A server presenting another certificate than the configured one is not trusted.
    let other = SelfSigned::new();
    let impostor = check(&other.args(), &[]);
    assert!(!impostor.status.success());
    let stderr = String::from_utf8_lossy(&impostor.stderr);
    assert!(
        stderr.contains("unhealthy: cannot ask https://") && stderr.contains("another certificate"),
        "{impostor:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_client_that_never_finishes_its_handshake_is_dropped() {
    let up = upstream().await;
    let tls = SelfSigned::new();
    let server = serve(&up, &tls, &["--header-timeout-secs", "1"]).await;
    let addr = authority(&server);
    // Opens TCP and never sends a ClientHello.
    let mut silent = TcpStream::connect(&addr).await.unwrap();
    // Sends the first bytes of a ClientHello's record, then nothing.
    let mut partial = TcpStream::connect(&addr).await.unwrap();
    partial
        .write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        .await
        .unwrap();
    let (silent_closed, partial_closed) = tokio::join!(
        time_until_closed(&mut silent, Duration::from_secs(10)),
        time_until_closed(&mut partial, Duration::from_secs(10)),
    );
    for (what, closed) in [("silent", silent_closed), ("partial", partial_closed)] {
        let closed = closed.unwrap_or_else(|| panic!("the {what} connection stayed open"));
        assert!(
            closed >= Duration::from_millis(800) && closed < Duration::from_secs(5),
            "{what}: closed after {closed:?}"
        );
    }
    let client = mcp_client(&server, tls.client()).await;
    assert!(!client.list_all_tools().await.unwrap().is_empty());
    client.cancel().await.ok();
    server.stop().await;
}

#[tokio::test]
async fn pending_handshakes_do_not_hold_up_other_clients() {
    let up = upstream().await;
    let tls = SelfSigned::new();
    let server = serve(&up, &tls, &["--header-timeout-secs", "60"]).await;
    let addr = authority(&server);
    // Connections that never say hello, each waiting out its handshake on its own task.
    let mut silent = Vec::new();
    for _ in 0..4 {
        silent.push(TcpStream::connect(&addr).await.unwrap());
    }
    let trusting = tls.client();
    let health = tokio::time::timeout(
        Duration::from_secs(10),
        trusting.get(server.route("/healthz")).send(),
    )
    .await
    .expect("served while other handshakes are pending")
    .unwrap();
    assert_eq!(health.status(), 200);
    // SIGTERM drains: connections still in their handshake do not keep the server alive.
    let status = server.stop().await;
    assert!(status.success(), "{status:?}");
    drop(silent);
}
