//! What an operator relies on when a generated server runs over HTTP in a deployment:
//! `/healthz`, `/readyz` and `/metrics`, request ids and trace context, JSON logs, stateless
//! answers for every protocol revision, and a graceful drain on SIGTERM. Each test runs a
//! generated server against the example upstream on 127.0.0.1.

use std::time::Duration;

use mcpgen_tests::petstore::{ENV_TOKEN, Petstore, TOKEN_VAR, upstream};
use mcpgen_tests::{HttpServer, assert_ok, call, deploy_binary, ensure_crypto_provider, text};
use serde_json::{Value, json};

fn http() -> reqwest::Client {
    ensure_crypto_provider();
    reqwest::Client::new()
}

/// A 2026-07-28 request: no session, the revision and the client's capabilities in `_meta`
/// (beside any member `params` has there), the method (and the name, where it has one)
/// mirrored into headers.
async fn post_2026(
    client: &reqwest::Client,
    url: &str,
    method: &str,
    mut params: Value,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let meta = &mut params["_meta"];
    if meta.is_null() {
        *meta = json!({});
    }
    meta["io.modelcontextprotocol/protocolVersion"] = json!("2026-07-28");
    meta["io.modelcontextprotocol/clientCapabilities"] = json!({});
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", method);
    if let Some(name) = params.get("name").and_then(Value::as_str) {
        request = request.header("mcp-name", name);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
        .send()
        .await
        .expect("the MCP server answers")
}

/// A 2025-11-25 `initialize`, as a client that keeps no session of its own sends it.
async fn initialize_2025(client: &reqwest::Client, url: &str) -> reqwest::Response {
    client
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .json(
            &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"}}}),
        )
        .send()
        .await
        .expect("the MCP server answers")
}

/// The JSON-RPC message of an answer, plain JSON or one SSE event.
async fn message(response: reqwest::Response) -> Value {
    let body = response.text().await.expect("a body");
    let json = body
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .unwrap_or(&body);
    serde_json::from_str(json).unwrap_or_else(|e| panic!("not JSON-RPC ({e}): {body}"))
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let up = upstream().await;
    let server = Petstore::Standalone
        .http(
            &up,
            &[],
            &[
                (TOKEN_VAR, ENV_TOKEN),
                ("PETSTORE_MCP_TOKEN", "endpoint-token"),
            ],
        )
        .await;
    let client = http();
    // Probes need no token.
    for (path, body) in [("/healthz", "ok\n"), ("/readyz", "ready\n")] {
        let answer = client.get(server.route(path)).send().await.unwrap();
        assert_eq!(answer.status(), 200, "{path}");
        assert_eq!(answer.text().await.unwrap(), body, "{path}");
    }
    // Metrics do, on the MCP endpoint's address.
    let refused = client.get(server.route("/metrics")).send().await.unwrap();
    assert_eq!(refused.status(), 401);

    let mcp = server.client(Some("endpoint-token")).await;
    assert_ok(&call(&mcp, "getPetById", json!({"petId": "1"})).await);
    let r = call(&mcp, "getPetById", json!({"petId": "no-such-pet"})).await;
    assert_eq!(r.is_error, Some(true), "{}", text(&r));
    let r = call(&mcp, "getPetById", json!({"petId": 5})).await;
    assert_eq!(r.is_error, Some(true), "{}", text(&r));

    let answer = client
        .get(server.route("/metrics"))
        .bearer_auth("endpoint-token")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert!(
        answer.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let metrics = answer.text().await.unwrap();
    for line in [
        r#"mcp_tool_calls_total{tool="getPetById",outcome="ok"} 1"#,
        r#"mcp_tool_calls_total{tool="getPetById",outcome="upstream_error"} 1"#,
        r#"mcp_tool_calls_total{tool="getPetById",outcome="invalid_arguments"} 1"#,
        r#"mcp_tool_call_duration_seconds_count{tool="getPetById"} 3"#,
        r#"mcp_upstream_responses_total{class="2xx"} 1"#,
        r#"mcp_upstream_responses_total{class="4xx"} 1"#,
        "mcp_auth_failures_total 1",
        "mcp_calls_in_flight 0",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "{line} is not in\n{metrics}"
        );
    }
    // Nothing about the caller's token or arguments (a value no figure can contain by chance,
    // as a duration could contain digits).
    assert!(!metrics.contains("endpoint-token") && !metrics.contains("no-such-pet"));
}

#[tokio::test]
async fn readiness_follows_the_upstream_and_metrics_can_have_their_own_address() {
    // Port 9 of 127.0.0.1 (discard) has nothing listening here.
    let server = HttpServer::start(
        Petstore::Standalone.binary(),
        &[
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--metrics-bind",
            "127.0.0.1:0",
        ],
        &[],
    )
    .await;
    let client = http();
    let health = client.get(server.route("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200, "alive even when the upstream is not");
    let ready = client.get(server.route("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    assert_eq!(
        ready.text().await.unwrap(),
        "the upstream API cannot be reached\n"
    );
    // /metrics is served on --metrics-bind (announced on stderr), not beside /mcp.
    let moved = client.get(server.route("/metrics")).send().await.unwrap();
    assert_eq!(moved.status(), 404);
    let stderr = server.stderr.lock().unwrap().clone();
    let metrics_url = stderr
        .lines()
        .find_map(|l| l.strip_prefix("metrics at "))
        .unwrap_or_else(|| panic!("no metrics address in\n{stderr}"))
        .to_owned();
    let metrics = client.get(&metrics_url).send().await.unwrap();
    assert_eq!(metrics.status(), 200);
    let metrics = metrics.text().await.unwrap();
    assert!(
        metrics.lines().any(|l| l == "mcp_calls_in_flight 0"),
        "{metrics}"
    );
}

#[tokio::test]
async fn request_ids_and_trace_context_reach_the_logs_and_the_upstream() {
    let up = upstream().await;
    let server = Petstore::Standalone
        .http(
            &up,
            &["--log-format", "json", "--log-level", "debug"],
            &[(TOKEN_VAR, ENV_TOKEN)],
        )
        .await;
    let client = http();
    let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let answer = post_2026(
        &client,
        &server.url,
        "tools/call",
        json!({"name": "getPetById", "arguments": {"petId": "1"}}),
        &[
            ("x-request-id", "req-42"),
            ("traceparent", parent),
            ("tracestate", "vendor=1"),
        ],
    )
    .await;
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["x-request-id"], "req-42");
    let message = message(answer).await;
    assert_eq!(message["result"]["structuredContent"]["name"], "Rex");

    let sent = up.requests();
    let upstream_parent = sent[0].header("traceparent").expect("traceparent sent");
    assert!(
        upstream_parent.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-")
            && upstream_parent.ends_with("-01")
            && upstream_parent != parent,
        "{upstream_parent}"
    );
    assert_eq!(sent[0].header("tracestate"), Some("vendor=1"));

    // An id is made up when the caller sends none (or one that could forge a log line).
    let answer = post_2026(
        &client,
        &server.url,
        "tools/list",
        json!({}),
        &[("x-request-id", "bad\"id")],
    )
    .await;
    let made_up = answer.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(made_up.len(), 16, "{made_up}");

    // Every log line is a JSON object; the call's lines carry the request's id.
    let stderr = server.stderr.lock().unwrap().clone();
    let logs: Vec<Value> = stderr
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let finished = logs
        .iter()
        .find(|l| l["fields"]["message"] == "call finished")
        .unwrap_or_else(|| panic!("no `call finished` line in\n{stderr}"));
    assert_eq!(finished["span"]["id"], "req-42", "{finished}");
    assert_eq!(finished["fields"]["tool"], "getPetById");
    assert_eq!(finished["fields"]["outcome"], "ok");
    assert!(!stderr.contains(ENV_TOKEN), "a credential reached the log");
}

#[tokio::test]
async fn clients_of_every_revision_are_served_without_sessions() {
    let up = upstream().await;
    let server = Petstore::Standalone
        .http(&up, &[], &[(TOKEN_VAR, ENV_TOKEN)])
        .await;
    // A 2025-11-25 client (rmcp's): initialize, then calls; no session id is handed out, so
    // any replica could answer each request.
    let client = http();
    let init = initialize_2025(&client, &server.url).await;
    assert_eq!(init.status(), 200);
    assert!(init.headers().get("mcp-session-id").is_none());
    assert_eq!(init.headers()["content-type"], "application/json");
    let mcp = server.client(None).await;
    assert_ok(&call(&mcp, "getPetById", json!({"petId": "1"})).await);
    // A GET stream needs a session: there is none to attach it to.
    let stream = client
        .get(&server.url)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert!(stream.status().is_client_error(), "{}", stream.status());

    // 2026-07-28: stateless by design; lists carry cache hints, prompts/list included.
    for method in ["tools/list", "resources/list", "prompts/list"] {
        let answer = post_2026(&client, &server.url, method, json!({}), &[]).await;
        assert_eq!(answer.status(), 200, "{method}");
        assert_eq!(answer.headers()["content-type"], "application/json");
        let result = &message(answer).await["result"];
        assert_eq!(result["ttlMs"], 300_000, "{method}: {result}");
        assert_eq!(result["cacheScope"], "public", "{method}: {result}");
        assert_eq!(result["resultType"], "complete", "{method}: {result}");
    }
}

#[tokio::test]
async fn a_2026_request_gets_log_messages_at_the_level_its_meta_asks_for() {
    let up = upstream().await;
    let server = Petstore::Standalone
        .http(&up, &[], &[(TOKEN_VAR, ENV_TOKEN)])
        .await;
    let client = http();
    let call_at = |level: Option<&'static str>| {
        let (client, url) = (client.clone(), server.url.clone());
        async move {
            let mut params = json!({"name": "getPetById", "arguments": {"petId": "1"}});
            if let Some(level) = level {
                params["_meta"] = json!({"io.modelcontextprotocol/logLevel": level});
            }
            let answer = post_2026(&client, &url, "tools/call", params, &[]).await;
            assert_eq!(answer.status(), 200);
            let body = answer.text().await.unwrap();
            // Every message of the answer: one JSON body, or the SSE events' data.
            let messages: Vec<Value> = if body.trim_start().starts_with('{') {
                vec![serde_json::from_str(&body).unwrap()]
            } else {
                body.lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .filter(|d| !d.trim().is_empty())
                    .map(|d| serde_json::from_str(d.trim()).unwrap())
                    .collect()
            };
            let result = messages
                .last()
                .unwrap_or_else(|| panic!("no answer: {body}"));
            assert_eq!(result["id"], 1, "{body}");
            assert_eq!(result["result"]["isError"], false, "{body}");
            messages[..messages.len() - 1].to_vec()
        }
    };
    // Asked for `info`: the call's outcome comes as a log message before the result, naming
    // the operation and the status, and nothing of the request's values.
    let logs = call_at(Some("info")).await;
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0]["method"], "notifications/message", "{logs:?}");
    assert_eq!(logs[0]["params"]["level"], "info");
    assert_eq!(logs[0]["params"]["logger"], "mcpgen");
    let text = logs[0]["params"]["data"].as_str().unwrap();
    assert!(text.contains("GET /pets/{petId}"), "{text}");
    assert!(!text.contains(ENV_TOKEN), "{text}");
    // `warning` is above a successful call's `info`, and no `_meta` level asks for nothing.
    assert!(call_at(Some("warning")).await.is_empty());
    assert!(call_at(None).await.is_empty());
}

#[tokio::test]
async fn sessions_are_kept_when_asked_for() {
    let up = upstream().await;
    let server = Petstore::Standalone
        .http(&up, &["--sessions"], &[(TOKEN_VAR, ENV_TOKEN)])
        .await;
    let init = initialize_2025(&http(), &server.url).await;
    assert!(init.headers().get("mcp-session-id").is_some());
    let mcp = server.client(None).await;
    assert_ok(&call(&mcp, "getPetById", json!({"petId": "1"})).await);
}

#[tokio::test]
async fn sigterm_lets_the_calls_in_flight_finish() {
    const CALLS: usize = 64;
    let up = upstream().await;
    let base = format!("http://{}", up.addr());
    let server = HttpServer::start(
        deploy_binary(),
        &["--base-url", &base, "--shutdown-grace-secs", "20"],
        &[],
    )
    .await;
    let client = http();
    assert_eq!(
        client
            .get(server.route("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let mcp = std::sync::Arc::new(server.client(None).await);
    let calls: Vec<_> = (0..CALLS)
        .map(|_| {
            let mcp = mcp.clone();
            tokio::spawn(async move { call(&mcp, "sleep", json!({"ms": 1500})).await })
        })
        .collect();
    // Every call has reached the upstream before the signal.
    let started = tokio::time::Instant::now();
    while up.requests().len() < CALLS {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "only {} calls reached the upstream",
            up.requests().len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.terminate();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Draining: the probe on a connection that stayed open says so, new connections are not
    // accepted.
    let ready = client.get(server.route("/readyz")).send().await;
    match ready {
        Ok(answer) => assert_eq!(answer.status(), 503),
        Err(e) => assert!(e.is_connect(), "{e}"),
    }
    let fresh = http().get(server.route("/healthz")).send().await;
    assert!(
        fresh.is_err(),
        "a new connection was accepted while draining"
    );
    for call in calls {
        let result = call.await.unwrap();
        assert_ok(&result);
        assert_eq!(result.structured_content.unwrap()["slept"], 1500);
    }
    let status = server.wait(Duration::from_secs(20)).await;
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn the_health_check_flag_probes_a_running_server() {
    let up = upstream().await;
    let server = Petstore::Standalone
        .http(&up, &[], &[(TOKEN_VAR, ENV_TOKEN)])
        .await;
    let bind = server
        .url
        .trim_start_matches("http://")
        .trim_end_matches("/mcp")
        .to_owned();
    let check = |bind: &str| {
        std::process::Command::new(Petstore::Standalone.binary())
            .args(["--transport", "http", "--bind", bind, "--health-check"])
            .output()
            .expect("the server binary runs")
    };
    let healthy = check(&bind);
    assert!(healthy.status.success(), "{healthy:?}");
    // The wildcard address is probed on this machine's loopback.
    let port = bind.rsplit(':').next().unwrap();
    assert!(check(&format!("0.0.0.0:{port}")).status.success());
    server.stop().await;
    let gone = check(&bind);
    assert!(!gone.status.success());
    assert!(
        String::from_utf8_lossy(&gone.stderr).contains("unhealthy"),
        "{gone:?}"
    );
}
