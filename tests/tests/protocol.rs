//! Raw JSON-RPC over stdio: malformed input gets JSON-RPC errors, never a crash, and the
//! server ends cleanly on stdin EOF and on SIGTERM.

use std::process::Stdio;
use std::time::Duration;

use mcpgen_tests::petstore_binary;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

struct Raw {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
}

impl Raw {
    async fn start() -> Raw {
        let mut child = Command::new(petstore_binary())
            .args(["--base-url", "http://127.0.0.1:9/v1"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut raw = Raw {
            child,
            stdin,
            lines,
        };
        raw.send(
            &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "raw", "version": "1"}}})
            .to_string(),
        )
        .await;
        let init = raw.next().await;
        assert_eq!(init["id"], 0);
        raw.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
            .await;
        raw
    }

    async fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(line.as_bytes()).await.unwrap();
        stdin.write_all(b"\n").await.unwrap();
        stdin.flush().await.unwrap();
    }

    async fn next(&mut self) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(10), self.lines.next_line())
            .await
            .expect("an answer within 10 s")
            .unwrap()
            .expect("the server is still running");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
    }
}

#[tokio::test]
async fn malformed_requests_get_errors_and_the_server_keeps_going() {
    let mut raw = Raw::start().await;
    let cases = [
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"no/such/method"}"#,
            json!(1),
        ),
        (
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":5}}"#,
            json!(2),
        ),
        (
            r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"getPetById","arguments":[1]}}"#,
            json!(4),
        ),
        (
            r#"{"jsonrpc":"2.0","id":"five","method":"tools/call","params":{"name":"noSuchTool","arguments":{}}}"#,
            json!("five"),
        ),
    ];
    for (line, id) in cases {
        raw.send(line).await;
        let answer = raw.next().await;
        assert_eq!(answer["id"], id, "{line} -> {answer}");
        assert!(answer["error"]["code"].is_i64(), "{line} -> {answer}");
    }
    // Lines that cannot be read as JSON-RPC requests, a huge id and a 2 MB line do not bring
    // the server down; unreadable lines are answered with an error that has no id.
    raw.send("{this is not json").await;
    raw.send(r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":"nonsense"}"#)
        .await;
    raw.send(r#"{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"ping"}"#)
        .await;
    let long = format!(
        r#"{{"jsonrpc":"2.0","id":6,"method":"ping","params":{{"_meta":{{"x":"{}"}}}}}}"#,
        "y".repeat(2_000_000)
    );
    raw.send(&long).await;
    raw.send(r#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#)
        .await;
    let mut errors_without_id = 0;
    loop {
        let answer = raw.next().await;
        if answer["id"] == 7 {
            assert_eq!(answer["result"], json!({}));
            break;
        }
        if answer["id"].is_null() && answer["error"]["code"].is_i64() {
            errors_without_id += 1;
        }
    }
    assert!(
        errors_without_id >= 1,
        "unreadable requests are answered with an error"
    );
    // stdin EOF ends the server cleanly.
    drop(raw.stdin.take());
    let status = tokio::time::timeout(Duration::from_secs(10), raw.child.wait())
        .await
        .expect("the server exits within 10 s of EOF")
        .unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn sigterm_ends_a_stdio_server_cleanly() {
    let mut raw = Raw::start().await;
    let pid = raw.child.id().unwrap();
    std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(10), raw.child.wait())
        .await
        .expect("the server exits within 10 s of SIGTERM")
        .unwrap();
    assert!(status.success(), "{status:?}");
}
