//! Upstream faults end every call in bounded time with a tool error that says what happened,
//! and the server keeps serving: a slow upstream, a reset connection, invalid JSON, a body
//! cut short, a 50 MB body, and redirects (followed only within the upstream's origin, and
//! never carrying credentials elsewhere).

use std::time::{Duration, Instant};

use mcpgen_tests::chaos::Chaos;
use mcpgen_tests::{Upstream, assert_ok, call, faults_binary, stdio_client, text};
use serde_json::json;

#[tokio::test]
async fn every_fault_is_a_bounded_tool_error() {
    // Where /redirect-away points: another origin, which records what reaches it.
    let elsewhere = Upstream::start(0).await.unwrap();
    let chaos = Chaos::start(format!("http://{}/v1/pets", elsewhere.addr())).await;
    let base = format!("http://{}", chaos.addr);
    let client = stdio_client(
        faults_binary(),
        &[
            "--base-url",
            &base,
            "--timeout-secs",
            "2",
            "--max-response-bytes",
            "100000",
        ],
        &[],
    )
    .await;

    let cases = [
        ("slow", "timed out"),
        ("reset", "failed"),
        ("badJson", "not valid JSON"),
        ("midBody", "failed while reading the response body"),
        ("huge", "cut after 100000 bytes"),
        ("redirectAway", "HTTP 302"),
    ];
    for (tool, expected) in cases {
        let started = Instant::now();
        let result = call(&client, tool, json!({})).await;
        let elapsed = started.elapsed();
        let message = text(&result);
        assert_eq!(result.is_error, Some(true), "{tool}: {message}");
        assert!(
            message.contains(expected),
            "{tool}: expected `{expected}` in: {message}"
        );
        assert!(message.len() < 110_000, "{tool}: the message is bounded");
        assert!(elapsed < Duration::from_secs(10), "{tool} took {elapsed:?}");
        // The server keeps serving after each fault.
        let ok = call(&client, "ok", json!({})).await;
        assert_eq!(
            ok.structured_content,
            Some(json!({"ok": true})),
            "after {tool}"
        );
    }
    assert!(
        elsewhere.requests().is_empty(),
        "a redirect to another origin is never followed"
    );

    let home = call(&client, "redirectHome", json!({})).await;
    assert_ok(&home);
    assert_eq!(home.structured_content, Some(json!({"ok": true})));
    client.cancel().await.ok();
}

#[tokio::test]
async fn concurrent_calls_are_served_while_one_upstream_call_stalls() {
    let chaos = Chaos::start("http://127.0.0.1:9/".to_owned()).await;
    let base = format!("http://{}", chaos.addr);
    let client = stdio_client(
        faults_binary(),
        &["--base-url", &base, "--timeout-secs", "3"],
        &[],
    )
    .await;
    let slow = call(&client, "slow", json!({}));
    let quick = async {
        let started = Instant::now();
        for _ in 0..20 {
            let ok = call(&client, "ok", json!({})).await;
            assert_eq!(ok.is_error, Some(false));
        }
        started.elapsed()
    };
    let (slow, quick_time) = tokio::join!(slow, quick);
    assert_eq!(slow.is_error, Some(true));
    assert!(
        quick_time < Duration::from_secs(3),
        "quick calls waited for the slow one: {quick_time:?}"
    );
    client.cancel().await.ok();
}
