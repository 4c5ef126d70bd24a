//! Attacks on the generated server and what stops them, end to end: encoded traversal in path
//! arguments, TRACE echoing credentials, redirects out of the base path, token endpoints that
//! answer without end, token URLs and plain-http upstreams that would collect secrets, and
//! HTTP clients that hold connections open or open sessions without limit.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};

use mcpgen_tests::chaos::{Heads, read_head, serve_raw};
use mcpgen_tests::{Client, HttpServer, assert_ok, call, hardening_binary, stdio_at, text};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const API_KEY_VAR: &str = "HARDENING_API_KEY";
const BEARER_VAR: &str = "HARDENING_BEARER_AUTH_TOKEN";
const SESSION_VAR: &str = "HARDENING_SESSION_KEY";
const OAUTH_ID_VAR: &str = "HARDENING_OAUTH_CLIENT_ID";
const OAUTH_SECRET_VAR: &str = "HARDENING_OAUTH_CLIENT_SECRET";
const PARTNER_ID_VAR: &str = "HARDENING_PARTNER_CLIENT_ID";
const PARTNER_SECRET_VAR: &str = "HARDENING_PARTNER_CLIENT_SECRET";

/// An upstream on raw TCP that records every request head and answers:
/// `/v1/echo` (any method) with the request head as text, as TRACE is meant to;
/// `/v1/files/...` with the path as received; `/v1/redirect-out` with a redirect to `/admin`
/// (same origin, outside the base path); `/v1/redirect-in` with one to `/v1/files/ok`;
/// `/oauth/huge` with 100 MB of token answer and no declared length; `/oauth/trickle` with a
/// token answer one byte every 200 ms; anything else with 404.
struct Hostile {
    addr: SocketAddr,
    heads: Heads,
}

impl Hostile {
    async fn start() -> Hostile {
        let (addr, heads) = serve_raw(answer).await;
        Hostile { addr, heads }
    }

    fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The server on stdio against this upstream, with `extra` arguments after `--base-url`.
    async fn client(&self, extra: &[&str], env: &[(&str, &str)]) -> Client {
        stdio_at(hardening_binary(), &self.base_url(), extra, env).await
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }

    /// The request lines (`GET /path HTTP/1.1`) received so far.
    fn request_lines(&self) -> Vec<String> {
        self.heads()
            .iter()
            .map(|h| h.lines().next().unwrap_or_default().to_owned())
            .collect()
    }
}

async fn answer(mut stream: TcpStream, heads: Heads) -> std::io::Result<()> {
    let Some(head) = read_head(&mut stream, 64 * 1024).await? else {
        return Ok(());
    };
    heads.lock().unwrap().push(head.clone());
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let reply = |status: &str, extra: &str, content_type: &str, body: &str| {
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n{extra}connection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let response = match path.as_str() {
        "/v1/echo" => reply("200 OK", "", "message/http", &head),
        p if p.starts_with("/v1/files/") => reply("200 OK", "", "text/plain", p),
        "/v1/redirect-out" => reply("302 Found", "location: /admin\r\n", "text/plain", ""),
        "/v1/redirect-in" => reply("302 Found", "location: /v1/files/ok\r\n", "text/plain", ""),
        "/admin" => reply("200 OK", "", "text/plain", "the admin area"),
        "/oauth/huge" => {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{\"access_token\":\"")
                .await?;
            let chunk = vec![b'a'; 64 * 1024];
            let mut sent = 0;
            while sent < 100 * 1024 * 1024 {
                if stream.write_all(&chunk).await.is_err() {
                    return Ok(());
                }
                sent += chunk.len();
            }
            return stream.shutdown().await;
        }
        "/oauth/trickle" => {
            let body = br#"{"access_token":"t","token_type":"bearer"}"#;
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).await?;
            for byte in body {
                tokio::time::sleep(Duration::from_millis(200)).await;
                if stream.write_all(&[*byte]).await.is_err() {
                    return Ok(());
                }
            }
            return stream.shutdown().await;
        }
        _ => reply("404 Not Found", "", "text/plain", ""),
    };
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

/// Runs the server on stdio with no client and returns whether it started serving and its
/// stderr: with stdin closed, a server that passed its start-up checks ends at once.
async fn start_up(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let mut command = tokio::process::Command::new(hardening_binary());
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let output = tokio::time::timeout(Duration::from_secs(20), command.output())
        .await
        .expect("the server ends without a client")
        .expect("the server runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let started = stderr.lines().any(|l| l.starts_with("upstream: "));
    (started, stderr)
}

#[tokio::test]
async fn encoded_traversal_in_path_arguments_never_reaches_the_upstream() {
    let up = Hostile::start().await;
    let client = up.client(&[], &[(API_KEY_VAR, "k3y")]).await;
    for attack in [
        "../admin",
        "..%2F..%2Fadmin",
        "%2e%2e%2fadmin",
        "%2E%2E%2F%2E%2E%2Fadmin",
        "..\\admin",
        "..%5C..%5Cadmin",
        "%252e%252e%252fadmin",
        "..;/admin",
        "..",
    ] {
        let result = call(&client, "getFile", json!({"name": attack})).await;
        let message = text(&result);
        assert_eq!(result.is_error, Some(true), "{attack}: {message}");
        assert!(
            message.contains("argument `name`") && message.contains("`..`"),
            "{attack}: {message}"
        );
    }
    assert!(
        up.heads().is_empty(),
        "nothing reached the upstream: {:?}",
        up.request_lines()
    );
    // Values that merely contain dots or slashes still go through, encoded.
    for (value, path) in [
        ("report..final.pdf", "/v1/files/report..final.pdf"),
        ("a/b", "/v1/files/a%2Fb"),
    ] {
        let result = call(&client, "getFile", json!({"name": value})).await;
        assert_ok(&result);
        assert_eq!(text(&result), path);
    }
    client.cancel().await.ok();
}

#[tokio::test]
async fn trace_carries_no_credentials() {
    let up = Hostile::start().await;
    let secrets = [
        (API_KEY_VAR, "key-s3cret"),
        (BEARER_VAR, "bearer-s3cret"),
        (SESSION_VAR, "cookie-s3cret"),
    ];
    let client = up.client(&[], &secrets).await;

    // A GET to the same echo carries all three: they are configured.
    let get = call(&client, "echoGet", json!({})).await;
    let echoed = text(&get);
    for (_, secret) in secrets {
        assert!(echoed.contains(secret), "GET carries {secret}: {echoed}");
    }

    let trace = call(&client, "echoTrace", json!({})).await;
    let echoed = text(&trace);
    assert!(echoed.contains("TRACE /v1/echo"), "{echoed}");
    for (_, secret) in secrets {
        assert!(!echoed.contains(secret), "TRACE echoed {secret}: {echoed}");
    }
    let heads = up.heads();
    let head = heads
        .iter()
        .find(|h| h.starts_with("TRACE "))
        .expect("the TRACE request was sent")
        .to_ascii_lowercase();
    for header in ["authorization:", "x-api-key:", "cookie:"] {
        assert!(!head.contains(header), "{header} in {head}");
    }
    client.cancel().await.ok();
}

#[tokio::test]
async fn redirects_stay_below_the_base_path() {
    let up = Hostile::start().await;
    let client = up.client(&[], &[(API_KEY_VAR, "k3y")]).await;
    // Same origin, outside /v1: the redirect is returned, not followed.
    let out = call(&client, "redirectOut", json!({})).await;
    assert_eq!(out.is_error, Some(true), "{}", text(&out));
    assert!(text(&out).contains("HTTP 302"), "{}", text(&out));
    assert!(
        !up.request_lines().iter().any(|l| l.contains("/admin")),
        "{:?}",
        up.request_lines()
    );
    // Below /v1: followed, with the key.
    let within = call(&client, "redirectIn", json!({})).await;
    assert_ok(&within);
    assert_eq!(text(&within), "/v1/files/ok");
    let followed = up
        .heads()
        .into_iter()
        .find(|h| h.starts_with("GET /v1/files/ok "))
        .expect("the redirect within the base path was followed");
    assert!(followed.to_ascii_lowercase().contains("x-api-key: k3y"));
    client.cancel().await.ok();
}

#[tokio::test]
async fn token_answers_are_bounded_in_size_and_time() {
    let up = Hostile::start().await;
    let env = [(OAUTH_ID_VAR, "id"), (OAUTH_SECRET_VAR, "oauth-s3cret")];
    let huge = format!("http://{}/oauth/huge", up.addr);
    let client = up.client(&["--oauth-token-url", &huge], &env).await;
    let started = Instant::now();
    let result = call(&client, "withToken", json!({})).await;
    let message = text(&result);
    assert_eq!(result.is_error, Some(true), "{message}");
    assert!(message.contains("longer than 65536 bytes"), "{message}");
    assert!(message.len() < 2_000, "the message is bounded");
    assert!(started.elapsed() < Duration::from_secs(10));
    client.cancel().await.ok();

    let trickle = format!("http://{}/oauth/trickle", up.addr);
    let client = up
        .client(
            &["--oauth-token-url", &trickle, "--timeout-secs", "1"],
            &env,
        )
        .await;
    let started = Instant::now();
    let result = call(&client, "withToken", json!({})).await;
    let message = text(&result);
    assert_eq!(result.is_error, Some(true), "{message}");
    assert!(message.contains("did not answer in time"), "{message}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(
        !up.request_lines().iter().any(|l| l.contains("/with-token")),
        "no API request without a token"
    );
    client.cancel().await.ok();
}

#[tokio::test]
async fn secrets_go_only_where_the_operator_confirmed() {
    let up = Hostile::start().await;
    let base = up.base_url();
    // The document's token URL for `partner` is on another host than the upstream.
    let partner = [
        (PARTNER_ID_VAR, "partner-id"),
        (PARTNER_SECRET_VAR, "partner-s3cret"),
    ];
    let (started, stderr) = start_up(&["--base-url", &base], &partner).await;
    assert!(!started, "{stderr}");
    assert!(
        stderr.contains("collector.example.net")
            && stderr.contains("--oauth-token-url partner=https://collector.example.net/token"),
        "{stderr}"
    );
    assert!(!stderr.contains("partner-s3cret"), "{stderr}");
    // Named by the operator, it is used, and said at start-up.
    let (started, stderr) = start_up(
        &[
            "--base-url",
            &base,
            "--oauth-token-url",
            "partner=https://collector.example.net/token",
        ],
        &partner,
    )
    .await;
    assert!(started, "{stderr}");
    assert!(
        stderr.contains(&format!("upstream: {base}"))
            && stderr
                .contains("OAuth 2.0 token URL of `partner`: https://collector.example.net/token"),
        "{stderr}"
    );

    // Credentials over plain http to another host: refused at start-up...
    let remote = "http://api.example.invalid/v1";
    let key = [(API_KEY_VAR, "key-s3cret")];
    let (started, stderr) = start_up(&["--base-url", remote], &key).await;
    assert!(!started, "{stderr}");
    assert!(stderr.contains("--allow-insecure-credentials"), "{stderr}");
    assert!(!stderr.contains("key-s3cret"), "{stderr}");
    // ...unless the operator allows it.
    let (started, stderr) = start_up(
        &["--base-url", remote, "--allow-insecure-credentials"],
        &key,
    )
    .await;
    assert!(started, "{stderr}");

    // ...and per call, for a caller's own credential (192.0.2.1 is never contacted).
    let server = HttpServer::start(
        hardening_binary(),
        &["--base-url", "http://192.0.2.1/v1"],
        &[],
    )
    .await;
    let logs = server.stderr.lock().unwrap().clone();
    assert!(logs.contains("upstream: http://192.0.2.1/v1"), "{logs}");
    let caller = server.client(Some("caller-s3cret")).await;
    let started = Instant::now();
    let result = call(&caller, "whoami", json!({})).await;
    let message = text(&result);
    assert_eq!(result.is_error, Some(true), "{message}");
    assert!(
        message.contains("--allow-insecure-credentials"),
        "{message}"
    );
    assert!(!message.contains("caller-s3cret"), "{message}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "nothing was sent"
    );
    caller.cancel().await.ok();
    server.stop().await;
}

/// Reads from `stream` until the server closes it; how long that took.
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

fn authority(server: &HttpServer) -> String {
    server
        .url
        .trim_start_matches("http://")
        .trim_end_matches("/mcp")
        .to_owned()
}

#[tokio::test]
async fn slow_headers_are_cut_off() {
    let server = HttpServer::start(
        hardening_binary(),
        &[
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--header-timeout-secs",
            "1",
        ],
        &[],
    )
    .await;
    let addr = authority(&server);
    // Slowloris: half a request head, then silence.
    let mut partial = TcpStream::connect(&addr).await.unwrap();
    partial
        .write_all(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: applic")
        .await
        .unwrap();
    // A connection that never sends anything.
    let mut silent = TcpStream::connect(&addr).await.unwrap();
    let (partial_closed, silent_closed) = tokio::join!(
        time_until_closed(&mut partial, Duration::from_secs(10)),
        time_until_closed(&mut silent, Duration::from_secs(10)),
    );
    for (what, closed) in [("partial", partial_closed), ("silent", silent_closed)] {
        let closed = closed.unwrap_or_else(|| panic!("the {what} connection stayed open"));
        assert!(
            closed >= Duration::from_millis(800) && closed < Duration::from_secs(5),
            "{what}: closed after {closed:?}"
        );
    }
    // The server still serves.
    let client = server.client(None).await;
    assert!(!client.list_all_tools().await.unwrap().is_empty());
    client.cancel().await.ok();
    server.stop().await;
}

#[tokio::test]
async fn connections_past_the_cap_wait_for_a_free_slot() {
    let server = HttpServer::start(
        hardening_binary(),
        &[
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--max-connections",
            "2",
            "--header-timeout-secs",
            "30",
        ],
        &[],
    )
    .await;
    let addr = authority(&server);
    let first = TcpStream::connect(&addr).await.unwrap();
    let _second = TcpStream::connect(&addr).await.unwrap();
    let url = format!("http://{addr}/mcp");
    let third = tokio::spawn(async move {
        reqwest::Client::new()
            .get(url)
            .header("accept", "text/event-stream")
            .send()
            .await
            .map(|r| r.status())
    });
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(!third.is_finished(), "a third connection was served");
    drop(first);
    let status = tokio::time::timeout(Duration::from_secs(10), third)
        .await
        .expect("served once a slot was free")
        .unwrap()
        .expect("an HTTP answer");
    assert!(status.is_client_error(), "{status}");
    server.stop().await;
}

async fn initialize(http: &reqwest::Client, url: &str, id: u64) -> reqwest::Response {
    http.post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(
            json!({
                "jsonrpc": "2.0",
                "id": id,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "cap-test", "version": "1"}
                }
            })
            .to_string(),
        )
        .send()
        .await
        .expect("an HTTP answer")
}

#[tokio::test]
async fn sessions_past_the_cap_get_503() {
    let server = HttpServer::start(
        hardening_binary(),
        &[
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--sessions",
            "--max-sessions",
            "2",
        ],
        &[],
    )
    .await;
    let http = reqwest::Client::new();
    let mut sessions = Vec::new();
    for id in 1..=2 {
        let answer = initialize(&http, &server.url, id).await;
        assert_eq!(answer.status(), 200);
        let session = answer
            .headers()
            .get("mcp-session-id")
            .expect("a session id")
            .to_str()
            .unwrap()
            .to_owned();
        sessions.push(session);
    }
    let refused = initialize(&http, &server.url, 3).await;
    assert_eq!(refused.status(), 503);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["id"], 3, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("--max-sessions"), "{body}");

    // Once a session ends, a new one is admitted.
    let closed = http
        .delete(&server.url)
        .header("mcp-session-id", &sessions[0])
        .send()
        .await
        .unwrap();
    assert!(closed.status().is_success(), "{}", closed.status());
    let mut admitted = false;
    for _ in 0..20 {
        if initialize(&http, &server.url, 4).await.status() == 200 {
            admitted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(admitted, "a session was admitted after one ended");
    server.stop().await;
}
