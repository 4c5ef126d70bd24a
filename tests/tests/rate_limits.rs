//! Rate limits and quotas, shown by counts: each caller's own burst, all callers together, a
//! tool's or a tag's limit, search mode's `call_operation` and hand-written tools, the cap on
//! a caller's calls under way, and HTTP 429 for addresses that keep failing authentication
//! (before any token is checked with the authorization server).
//!
//! Every rate here is per hour: no token comes back while a test runs, so what the counts
//! show cannot depend on how fast the machine is.

use std::time::Duration;

use mcpgen_tests::petstore::{ENV_TOKEN, Petstore, TOKEN_VAR, upstream};
use mcpgen_tests::{Client, HttpServer, call, call_operation, deploy_binary, text};
use rmcp::model::{CallToolRequestParams, CallToolResult};
use serde_json::{Value, json};

/// Two static MCP tokens: two callers.
const A: &str = "caller-a-token-51f0";
const B: &str = "caller-b-token-9c2e";

/// What `times` calls of `tool` with `arguments` ended with, in order.
async fn calls(client: &Client, tool: &str, arguments: Value, times: usize) -> Vec<CallToolResult> {
    let mut results = Vec::new();
    for _ in 0..times {
        results.push(call(client, tool, arguments.clone()).await);
    }
    results
}

/// Whether a result is a refusal of the limits (not, say, an upstream error).
fn is_refusal(result: &CallToolResult) -> bool {
    let text = text(result);
    result.is_error == Some(true)
        && (text.starts_with("Rate limit reached: ")
            || text.starts_with("Concurrency limit reached: "))
}

/// How many results went through, and the texts of those the limits refused.
fn tally(results: &[CallToolResult]) -> (usize, Vec<String>) {
    let refused: Vec<String> = results.iter().filter(|r| is_refusal(r)).map(text).collect();
    (results.len() - refused.len(), refused)
}

/// The seconds of `Try again in N s.` at the end of a refusal.
fn retry_secs(refusal: &str) -> u64 {
    refusal
        .rsplit_once("Try again in ")
        .and_then(|(_, rest)| rest.strip_suffix(" s."))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no retry time in: {refusal}"))
}

/// `/metrics` of a server whose MCP endpoint takes the token `A`.
async fn metrics(server: &HttpServer) -> String {
    reqwest::Client::new()
        .get(server.route("/metrics"))
        .bearer_auth(A)
        .send()
        .await
        .expect("/metrics answers")
        .text()
        .await
        .unwrap()
}

#[track_caller]
fn assert_metric(metrics: &str, line: &str) {
    assert!(
        metrics.lines().any(|l| l == line),
        "{line} not in\n{metrics}"
    );
}

/// The audit log's lines once there are `count` of them (its writer runs beside the calls).
async fn audit_lines(path: &std::path::Path, count: usize) -> Vec<Value> {
    for _ in 0..400 {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.lines().count() >= count {
            return text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("fewer than {count} lines in {}", path.display());
}

#[tokio::test]
async fn a_caller_gets_its_burst_and_then_tool_errors_that_say_when_to_retry() {
    let up = upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    // The limit from the environment, as a deployment would set it.
    let server = Petstore::Standalone
        .http(
            &up,
            &[
                "--mcp-token",
                A,
                "--mcp-token",
                B,
                "--audit-log",
                log.to_str().unwrap(),
            ],
            &[(TOKEN_VAR, ENV_TOKEN), ("PETSTORE_RATE_LIMIT", "5/h")],
        )
        .await;
    let pet = json!({"petId": "1"});
    let a = server.client(Some(A)).await;
    let (passed, refused) = tally(&calls(&a, "getPetById", pet.clone(), 8).await);
    assert_eq!((passed, refused.len()), (5, 3), "{refused:?}");
    for refusal in &refused {
        assert!(
            refusal.starts_with(
                "Rate limit reached: this caller may make 5 calls per hour to all tools. Try \
                 again in "
            ),
            "{refusal}"
        );
        // The fifth token comes back an hour / 5 after the burst.
        assert!((1..=720).contains(&retry_secs(refusal)), "{refusal}");
    }
    assert_eq!(up.requests().len(), 5, "a refused call sends nothing");

    // Another caller has a bucket of its own.
    let b = server.client(Some(B)).await;
    let (passed, refused) = tally(&calls(&b, "getPetById", pet, 6).await);
    assert_eq!((passed, refused.len()), (5, 1), "{refused:?}");
    assert_eq!(up.requests().len(), 10);

    let metrics = metrics(&server).await;
    assert_metric(
        &metrics,
        r#"mcp_tool_calls_total{tool="getPetById",outcome="rate_limited"} 4"#,
    );
    assert_metric(
        &metrics,
        r#"mcp_tool_calls_total{tool="getPetById",outcome="ok"} 10"#,
    );
    assert_metric(&metrics, r#"mcp_rate_limited_total{limit="caller"} 4"#);

    let lines = audit_lines(&log, 14).await;
    let limited: Vec<&Value> = lines
        .iter()
        .filter(|l| l["outcome"] == "rate_limited")
        .collect();
    let callers: Vec<&str> = limited
        .iter()
        .map(|l| l["caller"].as_str().unwrap())
        .collect();
    assert_eq!(
        callers,
        ["mcp-token#0", "mcp-token#0", "mcp-token#0", "mcp-token#1"]
    );
    assert!(limited.iter().all(|l| l["status"].is_null()), "{limited:?}");
    a.cancel().await.ok();
    b.cancel().await.ok();
    server.stop().await;
}

#[tokio::test]
async fn all_callers_together_stay_within_the_global_limit() {
    let up = upstream().await;
    let server = Petstore::Standalone
        .http(
            &up,
            &[
                "--mcp-token",
                A,
                "--mcp-token",
                B,
                "--global-rate-limit",
                "4/h",
                "--rate-limit",
                "3/h",
            ],
            &[(TOKEN_VAR, ENV_TOKEN)],
        )
        .await;
    let pet = json!({"petId": "1"});
    let a = server.client(Some(A)).await;
    let (passed, refused) = tally(&calls(&a, "getPetById", pet.clone(), 3).await);
    assert_eq!((passed, refused.len()), (3, 0), "{refused:?}");
    let b = server.client(Some(B)).await;
    let (passed, refused) = tally(&calls(&b, "getPetById", pet, 3).await);
    assert_eq!((passed, refused.len()), (1, 2), "{refused:?}");
    for refusal in &refused {
        assert!(
            refusal.starts_with(
                "Rate limit reached: all callers together may make 4 calls per hour to this \
                 server. Try again in "
            ),
            "{refusal}"
        );
    }
    assert_eq!(up.requests().len(), 4);
    assert_metric(
        &metrics(&server).await,
        r#"mcp_rate_limited_total{limit="global"} 2"#,
    );
    a.cancel().await.ok();
    b.cancel().await.ok();
    server.stop().await;
}

#[tokio::test]
async fn a_tool_or_tag_limit_holds_back_those_tools_only() {
    let up = upstream().await;
    let server = Petstore::Standalone
        .http(
            &up,
            &[
                "--mcp-token",
                A,
                "--mcp-token",
                B,
                "--tool-rate-limit",
                "tag:pets=3/h",
                "--tool-rate-limit",
                "get_store_inventory=1/h",
            ],
            &[(TOKEN_VAR, ENV_TOKEN)],
        )
        .await;
    let a = server.client(Some(A)).await;
    // The operations tagged `pets` share one bucket per caller.
    let (passed, refused) = tally(&calls(&a, "getPetById", json!({"petId": "1"}), 2).await);
    assert_eq!((passed, refused.len()), (2, 0), "{refused:?}");
    let (passed, refused) = tally(&calls(&a, "listPets", json!({}), 2).await);
    assert_eq!((passed, refused.len()), (1, 1), "{refused:?}");
    assert!(
        refused[0].starts_with(
            "Rate limit reached: this caller may make 3 calls per hour to the tools tagged \
             `pets` together. Try again in "
        ),
        "{}",
        refused[0]
    );
    let (passed, refused) = tally(&calls(&a, "get_store_inventory", json!({}), 2).await);
    assert_eq!((passed, refused.len()), (1, 1), "{refused:?}");
    assert!(
        refused[0].starts_with(
            "Rate limit reached: this caller may make 1 call per hour to `get_store_inventory`."
        ),
        "{}",
        refused[0]
    );
    // Another caller's pets are its own.
    let b = server.client(Some(B)).await;
    let (passed, refused) = tally(&calls(&b, "listPets", json!({}), 1).await);
    assert_eq!((passed, refused.len()), (1, 0), "{refused:?}");
    assert_eq!(up.requests().len(), 5);
    assert_metric(
        &metrics(&server).await,
        r#"mcp_rate_limited_total{limit="tool"} 2"#,
    );
    a.cancel().await.ok();
    b.cancel().await.ok();
    server.stop().await;
}

#[tokio::test]
async fn a_tool_limit_that_names_no_tool_stops_the_server() {
    let output = tokio::process::Command::new(Petstore::Standalone.binary())
        .args([
            "--base-url",
            "http://127.0.0.1:9",
            "--tool-rate-limit",
            "getPet=1/s",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--tool-rate-limit `getPet` matches no tool")
            && stderr.contains("getPetById")
            && stderr.contains("the tags: pets"),
        "{stderr}"
    );
    let output = tokio::process::Command::new(Petstore::Standalone.binary())
        .args(["--base-url", "http://127.0.0.1:9"])
        .env("PETSTORE_RATE_LIMIT", "5/day")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("PETSTORE_RATE_LIMIT") && stderr.contains("N/s, N/m (or N/min) or N/h"),
        "{stderr}"
    );
}

#[tokio::test]
async fn over_stdio_in_search_mode_operations_are_counted_and_searches_are_not() {
    let up = upstream().await;
    let client = Petstore::Standalone
        .stdio_with(
            &["--base-url", &up.base_url(), "--mode", "search"],
            &[(TOKEN_VAR, ENV_TOKEN), ("PETSTORE_RATE_LIMIT", "2/h")],
        )
        .await;
    // Finding and describing operations is answered from memory, and not counted.
    let (passed, refused) =
        tally(&calls(&client, "search_operations", json!({"query": "pet"}), 3).await);
    assert_eq!((passed, refused.len()), (3, 0), "{refused:?}");
    let mut results = Vec::new();
    for _ in 0..3 {
        results.push(call_operation(&client, "getPetById", json!({"petId": "1"})).await);
    }
    let (passed, refused) = tally(&results);
    assert_eq!((passed, refused.len()), (2, 1), "{refused:?}");
    assert!(
        refused[0].contains("this caller may make 2 calls per hour to all tools"),
        "{}",
        refused[0]
    );
    assert_eq!(up.requests().len(), 2);
    client.cancel().await.ok();
}

#[tokio::test]
async fn a_hand_written_tool_is_counted_once_with_the_operations_it_calls() {
    let up = upstream().await;
    let tool = Petstore::Macro
        .extra_tool()
        .expect("the macro example has one");
    // Each call of the tool calls listPets: counted again, its second call would be refused
    // by the rate, and its first by the cap.
    let client = Petstore::Macro
        .stdio_with(
            &[
                "--base-url",
                &up.base_url(),
                "--rate-limit",
                "2/h",
                "--max-concurrent-per-caller",
                "1",
            ],
            &[(TOKEN_VAR, ENV_TOKEN)],
        )
        .await;
    let results = calls(&client, tool, json!({}), 3).await;
    let (passed, refused) = tally(&results);
    assert_eq!((passed, refused.len()), (2, 1), "{refused:?}");
    assert!(
        results[..2].iter().all(|r| r.is_error == Some(false)),
        "{:?}",
        results.iter().map(text).collect::<Vec<_>>()
    );
    assert_eq!(up.requests().len(), 2);
    client.cancel().await.ok();
}

#[tokio::test]
async fn a_callers_calls_under_way_are_capped_and_others_are_not_held_back() {
    let up = upstream().await;
    let base = format!("http://{}", up.addr());
    let server = HttpServer::start(
        deploy_binary(),
        &[
            "--base-url",
            &base,
            "--mcp-token",
            A,
            "--mcp-token",
            B,
            "--max-concurrent-per-caller",
            "2",
        ],
        &[],
    )
    .await;
    let a = server.client(Some(A)).await;
    let b = server.client(Some(B)).await;
    let echo = |n: u32| json!({"item": "x", "n": n});
    // One after another, each call has ended before the next: three pass under a cap of two.
    let (passed, refused) = tally(&calls(&a, "echo", echo(1), 3).await);
    assert_eq!((passed, refused.len()), (3, 0), "{refused:?}");
    // Two calls the upstream holds (it answers after 30 s; the test does not wait for that).
    let held: Vec<_> = (0..2)
        .map(|_| {
            let peer = a.peer().clone();
            tokio::spawn(async move {
                let arguments = json!({"ms": 30_000});
                let request = CallToolRequestParams::new("sleep")
                    .with_arguments(arguments.as_object().unwrap().clone());
                peer.call_tool(request).await
            })
        })
        .collect();
    let seen = up.wait_for_requests(5, Duration::from_secs(30)).await;
    let slow = seen.iter().filter(|r| r.path == "/__slow").count();
    assert_eq!(slow, 2, "both held calls reached the upstream");
    // The third call of the same caller is refused at once; another caller's goes through.
    let third = call(&a, "echo", echo(2)).await;
    assert!(is_refusal(&third), "{}", text(&third));
    assert!(
        text(&third).starts_with(
            "Concurrency limit reached: this caller may have 2 calls under way at once. Try \
             again when one of them has finished."
        ),
        "{}",
        text(&third)
    );
    let other = call(&b, "echo", echo(3)).await;
    assert_eq!(other.is_error, Some(false), "{}", text(&other));
    let echoed: Vec<Option<String>> = up
        .requests()
        .iter()
        .filter(|r| r.path == "/__echo/x")
        .map(|r| r.query.clone())
        .collect();
    assert_eq!(
        echoed,
        [Some("n=1"), Some("n=1"), Some("n=1"), Some("n=3")].map(|q| q.map(str::to_owned)),
        "the refused call sent nothing"
    );
    assert_metric(
        &metrics(&server).await,
        r#"mcp_rate_limited_total{limit="concurrency"} 1"#,
    );
    for call in held {
        call.abort();
    }
}

/// A bare `ping` to the MCP endpoint with `bearer` (if any): the status and `Retry-After`.
async fn ping(url: &str, bearer: Option<&str>) -> (u16, Option<String>) {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let answer = request.send().await.expect("an HTTP answer");
    let retry_after = answer
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (answer.status().as_u16(), retry_after)
}

/// Asserts a 429 whose `Retry-After` is whole seconds within an hour / 3.
#[track_caller]
fn assert_too_many(answer: &(u16, Option<String>)) {
    assert_eq!(answer.0, 429, "{answer:?}");
    let secs: u64 = answer
        .1
        .as_deref()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no Retry-After in seconds: {answer:?}"));
    assert!((1..=1200).contains(&secs), "{answer:?}");
}

#[tokio::test]
async fn wrong_static_tokens_get_429_after_the_limit_and_a_valid_one_still_passes() {
    let up = upstream().await;
    let server = Petstore::Standalone
        .http(
            &up,
            &["--mcp-token", A, "--unauthenticated-rate-limit", "3/h"],
            &[(TOKEN_VAR, ENV_TOKEN)],
        )
        .await;
    let mut answers = Vec::new();
    for i in 0..5 {
        answers.push(ping(&server.url, Some(&format!("wrong-token-{i}"))).await);
    }
    let statuses: Vec<u16> = answers.iter().map(|a| a.0).collect();
    assert_eq!(statuses, [401, 401, 401, 429, 429]);
    assert_too_many(&answers[3]);
    assert_too_many(&answers[4]);
    // No token at all counts alike.
    assert_too_many(&ping(&server.url, None).await);
    // The valid token is checked and let through, from the same address.
    let client = server.client(Some(A)).await;
    let result = call(&client, "getPetById", json!({"petId": "1"})).await;
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    let metrics = metrics(&server).await;
    assert_metric(
        &metrics,
        r#"mcp_rate_limited_total{limit="unauthenticated"} 3"#,
    );
    assert_metric(&metrics, "mcp_auth_failures_total 3");
    client.cancel().await.ok();
    server.stop().await;
}

#[tokio::test]
async fn past_the_limit_made_up_oauth_tokens_never_reach_the_authorization_server() {
    let up = upstream().await;
    // The example upstream stands in for the authorization server: its echo route answers
    // introspection with an object that is not `active`, and it records every request, so the
    // requests made to check tokens can be counted.
    let issuer = format!("http://{}", up.addr());
    let introspection = format!("{issuer}/__echo/introspect");
    let server = Petstore::Standalone
        .http(
            &up,
            &[
                "--oauth-issuer",
                &issuer,
                "--public-url",
                "http://mcp.test/mcp",
                "--oauth-introspection-url",
                &introspection,
                "--unauthenticated-rate-limit",
                "3/h",
            ],
            &[
                (TOKEN_VAR, ENV_TOKEN),
                ("PETSTORE_OAUTH_CLIENT_ID", "resource-server"),
                ("PETSTORE_OAUTH_CLIENT_SECRET", "resource-server-secret"),
            ],
        )
        .await;
    let mut statuses = Vec::new();
    for i in 0..5 {
        statuses.push(
            ping(&server.url, Some(&format!("made-up-opaque-{i}")))
                .await
                .0,
        );
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429]);
    let paths: Vec<String> = up.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths, ["/__echo/introspect"; 3],
        "only the first three tokens were introspected"
    );
    // A JWT whose key would have to be fetched is not checked either: no metadata or key set
    // is asked for.
    let encode = |v: Value| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let jwt = format!(
        "{}.{}.c2lnbmF0dXJl",
        encode(json!({"alg": "RS256", "kid": "made-up"})),
        encode(json!({"sub": "mallory", "aud": "http://mcp.test/mcp", "iss": issuer}))
    );
    assert_too_many(&ping(&server.url, Some(&jwt)).await);
    assert_eq!(up.requests().len(), 3, "{:?}", up.requests());
    server.stop().await;
}
