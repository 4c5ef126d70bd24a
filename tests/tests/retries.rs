//! Retries against the misbehaving upstream: idempotent requests are repeated after 429, 502,
//! 503 and 504 answers and connection failures, honouring `Retry-After`, within a budget;
//! POST is never repeated.

use std::time::{Duration, Instant};

use mcpgen_tests::chaos::Chaos;
use mcpgen_tests::{assert_ok, call, faults_binary, stdio_client, text};
use serde_json::json;

async fn start(extra: &[&str]) -> (Chaos, mcpgen_tests::Client) {
    let chaos = Chaos::start("http://127.0.0.1:9/".to_owned()).await;
    let base = format!("http://{}", chaos.addr);
    let mut args = vec!["--base-url", base.as_str(), "--timeout-secs", "5"];
    args.extend_from_slice(extra);
    let client = stdio_client(faults_binary(), &args, &[]).await;
    (chaos, client)
}

/// How many requests for `path` the upstream received, and with which method.
fn requests(chaos: &Chaos, path: &str) -> Vec<String> {
    chaos
        .heads
        .lock()
        .unwrap()
        .iter()
        .filter(|h| h.split_whitespace().nth(1) == Some(path))
        .map(|h| h.split_whitespace().next().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn a_503_then_200_succeeds_after_one_retry() {
    let (chaos, client) = start(&[]).await;
    let r = call(&client, "flaky", json!({})).await;
    assert_ok(&r);
    assert_eq!(r.structured_content, Some(json!({"ok": true})));
    assert_eq!(requests(&chaos, "/flaky"), ["GET", "GET"]);
    let r = call(&client, "flakyPut", json!({})).await;
    assert_eq!(r.is_error, Some(false), "PUT is idempotent: {}", text(&r));
    assert_eq!(requests(&chaos, "/flaky-put"), ["PUT", "PUT"]);
    client.cancel().await.ok();
}

#[tokio::test]
async fn retry_after_in_seconds_and_as_a_date_is_honoured() {
    let (chaos, client) = start(&[]).await;
    for (tool, path) in [("rateLimited", "/rate-limited"), ("retryAt", "/retry-at")] {
        let started = Instant::now();
        let r = call(&client, tool, json!({})).await;
        let waited = started.elapsed();
        assert_eq!(r.is_error, Some(false), "{tool}: {}", text(&r));
        assert_eq!(requests(&chaos, path).len(), 2, "{tool}");
        // At least a second asked for, far more than the first back-off of at most 250 ms.
        assert!(
            waited >= Duration::from_millis(900) && waited < Duration::from_secs(5),
            "{tool} waited {waited:?}"
        );
    }
    client.cancel().await.ok();
}

#[tokio::test]
async fn persistent_failures_stop_after_the_retries_with_a_clear_error() {
    let (chaos, client) = start(&[]).await;
    let r = call(&client, "always502", json!({})).await;
    assert_eq!(r.is_error, Some(true));
    let message = text(&r);
    assert!(message.contains("HTTP 502"), "{message}");
    assert!(message.contains("sent 3 times"), "{message}");
    assert_eq!(requests(&chaos, "/always-502").len(), 3, "1 + 2 retries");

    // A wait beyond the budget is not waited for: the model is told instead.
    let started = Instant::now();
    let r = call(&client, "retryMuchLater", json!({})).await;
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(r.is_error, Some(true));
    assert!(
        text(&r).contains("wait 3600 s"),
        "the Retry-After is passed on: {}",
        text(&r)
    );
    assert_eq!(requests(&chaos, "/retry-much-later").len(), 1);

    // A reset connection is a connection failure: repeated too.
    let r = call(&client, "reset", json!({})).await;
    assert_eq!(r.is_error, Some(true));
    assert_eq!(requests(&chaos, "/reset").len(), 3);
    client.cancel().await.ok();
}

#[tokio::test]
async fn post_is_never_retried() {
    let (chaos, client) = start(&[]).await;
    let r = call(&client, "post502", json!({})).await;
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("HTTP 502"), "{}", text(&r));
    assert!(!text(&r).contains("times"), "{}", text(&r));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(requests(&chaos, "/post-502"), ["POST"]);
    client.cancel().await.ok();
}

#[tokio::test]
async fn retries_and_their_budget_are_configurable() {
    let (chaos, client) = start(&["--retries", "0"]).await;
    let r = call(&client, "flaky", json!({})).await;
    assert_eq!(r.is_error, Some(true), "{}", text(&r));
    assert!(text(&r).contains("HTTP 503"));
    assert_eq!(requests(&chaos, "/flaky").len(), 1);
    client.cancel().await.ok();

    // A budget shorter than the one-second Retry-After: no retry.
    let (chaos, client) = start(&["--retry-budget-secs", "0"]).await;
    let r = call(&client, "rateLimited", json!({})).await;
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("HTTP 429"), "{}", text(&r));
    assert!(text(&r).contains("wait 1 s"), "{}", text(&r));
    assert_eq!(requests(&chaos, "/rate-limited").len(), 1);
    client.cancel().await.ok();
}
