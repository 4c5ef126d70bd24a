//! The audit log (`--audit-log PATH|-`): one JSON line per tool call, over HTTP and stdio,
//! with who called and how it ended, and never a secret or an argument value; reopened on
//! SIGHUP for log rotation.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use mcpgen_tests::ensure_crypto_provider;
use mcpgen_tests::petstore::{ENV_TOKEN, Petstore, TOKEN_VAR, upstream};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const MCP_TOKEN: &str = "mcp-endpoint-token-7f3a";
const PASSED_AUTH: &str = "Bearer upstream-caller-token-91c2";
const CARD: &str = "4111 1111 1111 1111";
const FIELDS: [&str; 11] = [
    "time",
    "request_id",
    "caller",
    "session",
    "tool",
    "arguments",
    "upstream",
    "status",
    "latency_ms",
    "bytes",
    "outcome",
];

/// A 2026-07-28 `tools/call`; returns the answer's `X-Request-Id`.
async fn call_2026(url: &str, tool: &str, arguments: Value, headers: &[(&str, &str)]) -> String {
    ensure_crypto_provider();
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", tool)
        .header("authorization", format!("Bearer {MCP_TOKEN}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let params = json!({
        "name": tool,
        "arguments": arguments,
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
        },
    });
    let response = request
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}))
        .send()
        .await
        .expect("the MCP server answers");
    assert!(response.status().is_success(), "{}", response.status());
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    response.text().await.unwrap();
    id
}

/// The file's lines once there are `count` of them (the writer runs beside the calls).
async fn lines(path: &Path, count: usize) -> Vec<Value> {
    for _ in 0..200 {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.lines().count() >= count {
            return text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "fewer than {count} lines in {}:\n{}",
        path.display(),
        std::fs::read_to_string(path).unwrap_or_default()
    );
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mcpgen-audit-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn http_calls_are_audited_without_secrets_and_the_file_reopens_on_sighup() {
    let up = upstream().await;
    let dir = temp_dir("http");
    let path = dir.join("audit.log");
    let log = path.to_str().unwrap();
    // --mcp-token given twice: the second is index 1.
    let server = Petstore::Standalone
        .http(
            &up,
            &[
                "--mcp-token",
                "other-token-aaaa",
                "--mcp-token",
                MCP_TOKEN,
                "--audit-log",
                log,
            ],
            &[(TOKEN_VAR, ENV_TOKEN)],
        )
        .await;
    let ok = call_2026(&server.url, "getPetById", json!({"petId": "1"}), &[]).await;
    let missing = call_2026(&server.url, "getPetById", json!({"petId": "404"}), &[]).await;
    let invalid = call_2026(&server.url, "getPetById", json!({}), &[]).await;
    let hostile = format!("{CARD}\r\n\"}}{{\"{PASSED_AUTH}");
    let forged = call_2026(
        &server.url,
        "getPetById",
        json!({"petId": hostile, "api_key": "key-value-5521"}),
        &[
            ("x-api-key", "key-value-5521"),
            ("x-request-id", "forged\"}{\"caller\":\"root"),
            ("x-upstream-authorization", PASSED_AUTH),
            ("mcp-session-id", "s-1"),
        ],
    )
    .await;
    let seen = lines(&path, 4).await;
    let text = std::fs::read_to_string(&path).unwrap();
    for secret in [
        MCP_TOKEN,
        ENV_TOKEN,
        PASSED_AUTH,
        "upstream-caller-token",
        "key-value-5521",
        CARD,
        "4111",
        "}{",
    ] {
        assert!(
            !text.contains(secret),
            "`{secret}` in the audit log:\n{text}"
        );
    }
    for line in &seen {
        let object = line.as_object().unwrap();
        for field in FIELDS {
            assert!(object.contains_key(field), "no {field} in {line}");
        }
        assert_eq!(line["caller"], "mcp-token#1", "{line}");
        assert_eq!(line["tool"], "getPetById");
        assert_eq!(
            line["upstream"],
            json!({"method": "GET", "path": "/pets/{petId}"})
        );
        let time = line["time"].as_str().unwrap();
        assert!(time.len() == 24 && time.ends_with('Z'), "{time}");
    }
    let by_id = |id: &str| {
        seen.iter()
            .find(|l| l["request_id"] == id)
            .unwrap_or_else(|| panic!("no line for request {id}: {text}"))
    };
    let line = by_id(&ok);
    assert_eq!(line["outcome"], "ok");
    assert_eq!(line["status"], 200);
    assert!(line["bytes"].as_u64().unwrap() > 0);
    assert_eq!(line["arguments"], json!({"petId": "string(1)"}));
    assert_eq!(line["session"], Value::Null);
    let line = by_id(&missing);
    assert_eq!(line["outcome"], "upstream_error");
    assert_eq!(line["status"], 404);
    let line = by_id(&invalid);
    assert_eq!(line["outcome"], "invalid_arguments");
    assert_eq!(line["status"], Value::Null);
    assert_eq!(line["arguments"], json!({}));
    let line = by_id(&forged);
    assert_ne!(forged, "forged", "a hostile request id is replaced");
    assert_eq!(line["session"], "s-1");
    assert_eq!(line["arguments"]["api_key"], "<redacted>");
    assert!(
        line["arguments"]["petId"]
            .as_str()
            .unwrap()
            .starts_with("string(")
    );

    // Log rotation: the file is moved away, SIGHUP, and the next line goes to a new file.
    let rotated = dir.join("audit.log.1");
    std::fs::rename(&path, &rotated).unwrap();
    let pid = server.pid().expect("running");
    let status = std::process::Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after = call_2026(&server.url, "getPetById", json!({"petId": "1"}), &[]).await;
    let fresh = lines(&path, 1).await;
    assert_eq!(fresh.len(), 1);
    assert_eq!(fresh[0]["request_id"], after.as_str());
    assert_eq!(
        std::fs::read_to_string(&rotated).unwrap().lines().count(),
        4
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    server.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_audit_log_that_cannot_be_opened_stops_the_server() {
    let dir = temp_dir("refused");
    let path = dir.join("missing-dir/audit.log");
    let output = tokio::process::Command::new(Petstore::Standalone.binary())
        .args([
            "--base-url",
            "http://127.0.0.1:9",
            "--audit-log",
            path.to_str().unwrap(),
        ])
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("missing-dir/audit.log"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn over_stdio_lines_go_to_stderr_and_stdout_stays_json_rpc() {
    let up = upstream().await;
    let mut child = tokio::process::Command::new(Petstore::Standalone.binary())
        .args(["--base-url", &up.base_url(), "--audit-log", "-"])
        .env(TOKEN_VAR, ENV_TOKEN)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let stderr = child.stderr.take().unwrap();
    let messages = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "getPetById", "arguments": {"petId": "1"}}}),
    ];
    for message in messages {
        stdin
            .write_all(format!("{message}\n").as_bytes())
            .await
            .unwrap();
    }
    stdin.flush().await.unwrap();
    let answered = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let line = stdout.next_line().await.unwrap().expect("an answer");
            let message: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("stdout is not JSON-RPC ({e}): {line}"));
            assert_eq!(message["jsonrpc"], "2.0", "{line}");
            if message["id"] == 2 {
                return message;
            }
        }
    })
    .await
    .expect("the call is answered");
    assert_ne!(answered["result"]["isError"], true, "{answered}");
    let mut errors = BufReader::new(stderr).lines();
    let line = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(line) = errors.next_line().await.unwrap() {
            if let Ok(value) = serde_json::from_str::<Value>(&line)
                && value.get("tool").is_some()
            {
                return value;
            }
        }
        panic!("no audit line on stderr");
    })
    .await
    .expect("an audit line on stderr");
    assert_eq!(line["caller"], "stdio");
    assert_eq!(line["request_id"], Value::Null);
    assert_eq!(line["outcome"], "ok");
    assert_eq!(line["status"], 200);
    drop(stdin);
    let _ = child.kill().await;
}

#[tokio::test]
async fn lines_of_the_last_calls_are_written_before_the_server_exits() {
    let up = upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let mut child = tokio::process::Command::new(Petstore::Standalone.binary())
        .args(["--base-url", &up.base_url(), "--audit-log"])
        .arg(&log)
        .env(TOKEN_VAR, ENV_TOKEN)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let answers = tokio::spawn(async move {
        let mut lines = BufReader::new(stdout).lines();
        let mut answered = 0;
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("\"structuredContent\"") {
                answered += 1;
            }
        }
        answered
    });
    let mut messages = vec![
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    ];
    // Pipelined, then stdin closes at once: the server answers what it read and exits.
    for id in 1..=50 {
        messages.push(
            json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {
            "name": "getPetById", "arguments": {"petId": "1"}}}),
        );
    }
    for message in messages {
        stdin
            .write_all(format!("{message}\n").as_bytes())
            .await
            .unwrap();
    }
    drop(stdin);
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("the server exits when stdin closes")
        .unwrap();
    assert!(status.success(), "{status:?}");
    let answered = answers.await.unwrap();
    let calls = up.requests().len();
    let written = std::fs::read_to_string(&log).unwrap();
    let lines = written.lines().filter(|l| l.contains("\"tool\"")).count();
    // Every answered call's line was queued before its answer went out, and is in the file
    // although the process exited right after; calls cut by the exit may have none.
    assert!(answered > 0, "no call was answered");
    assert!(
        answered <= lines && lines <= calls,
        "{answered} answered, {lines} lines, {calls} upstream requests:\n{written}"
    );
}
