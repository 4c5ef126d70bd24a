//! Confirmation before calls that change things (`--confirm`, `--confirm-tool`): the user is
//! asked through elicitation (2025 clients on stdio or with `--sessions`) or an input-required
//! result (2026-07-28 clients), and the upstream sees no request before the user accepts.
//! Every client here is a real MCP client (rmcp's, the MCP Python SDK's, or raw JSON-RPC for
//! what a client library will not send: altered and replayed `requestState`s) against the
//! example upstream.

use std::sync::{Arc, Mutex};

use mcpgen_tests::petstore::{ENV_TOKEN, Petstore, TOKEN_VAR, upstream};
use mcpgen_tests::python;
use mcpgen_tests::{
    HttpServer, RecordedRequest, Upstream, assert_ok, call, call_operation, ensure_crypto_provider,
    stdio_client_with, text,
};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, ClientConfig, ElicitRequestParams, ElicitResult,
    ElicitationAction, ElicitationCapability, FormElicitationCapability, ProtocolVersion,
};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, RequestContext, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{ClientHandler, ErrorData, RoleClient};
use serde_json::{Value, json};

/// What the simulated user answers.
#[derive(Clone, Copy, Debug)]
enum Answer {
    /// Accepts, ticking the box.
    Accept,
    /// Accepts the form with the box left false.
    AcceptUnticked,
    Decline,
    Cancel,
}

/// A client that declares form elicitation and answers every question as `answer` says,
/// keeping the questions it was asked.
#[derive(Clone)]
struct User {
    answer: Arc<Mutex<Answer>>,
    asked: Arc<Mutex<Vec<String>>>,
    version: ProtocolVersion,
}

impl User {
    fn new(answer: Answer, version: ProtocolVersion) -> Self {
        User {
            answer: Arc::new(Mutex::new(answer)),
            asked: Arc::default(),
            version,
        }
    }

    fn answers(&self, answer: Answer) {
        *self.answer.lock().unwrap() = answer;
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

impl ClientHandler for User {
    fn get_info(&self) -> ClientConfig {
        let mut info = ClientConfig::default();
        info.protocol_version = self.version.clone();
        info.capabilities.elicitation =
            Some(ElicitationCapability::new().with_form(FormElicitationCapability::default()));
        info
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        let ElicitRequestParams::FormElicitationParams { message, .. } = request else {
            panic!("the server asks with a form: {request:?}")
        };
        self.asked.lock().unwrap().push(message);
        let answer = *self.answer.lock().unwrap();
        Ok(match answer {
            Answer::Accept => {
                ElicitResult::new(ElicitationAction::Accept).with_content(json!({"confirm": true}))
            }
            Answer::AcceptUnticked => {
                ElicitResult::new(ElicitationAction::Accept).with_content(json!({"confirm": false}))
            }
            Answer::Decline => ElicitResult::new(ElicitationAction::Decline),
            Answer::Cancel => ElicitResult::new(ElicitationAction::Cancel),
        })
    }
}

/// The DELETE requests the upstream received.
fn deletes(up: &Upstream) -> Vec<RecordedRequest> {
    up.requests()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .collect()
}

/// Starts the Petstore on stdio against `up` with `args` and connects `user`.
async fn stdio_as(
    user: User,
    up: &Upstream,
    args: &[&str],
    env: &[(&str, &str)],
) -> RunningService<RoleClient, User> {
    let base = up.base_url();
    let mut all = vec!["--base-url", base.as_str()];
    all.extend_from_slice(args);
    let mut env = env.to_vec();
    env.push((TOKEN_VAR, ENV_TOKEN));
    stdio_client_with(user, Petstore::Standalone.binary(), &all, &env).await
}

#[track_caller]
fn assert_refused(result: &rmcp::model::CallToolResult, needles: &[&str]) {
    let message = text(result);
    assert_eq!(result.is_error, Some(true), "{message}");
    for needle in needles {
        assert!(message.contains(needle), "`{needle}` not in: {message}");
    }
}

#[tokio::test]
async fn stdio_an_accepting_user_lets_exactly_one_delete_through() {
    let up = upstream().await;
    let user = User::new(Answer::Accept, ProtocolVersion::V_2025_11_25);
    let client = stdio_as(user.clone(), &up, &["--confirm", "destructive"], &[]).await;
    let result = call(&client, "deletePet", json!({"petId": "3"})).await;
    assert_ok(&result);
    let asked = user.asked();
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert!(
        asked[0].contains("`deletePet`")
            && asked[0].contains("DELETE /pets/{petId}")
            && asked[0].contains(r#"petId = "3""#),
        "{}",
        asked[0]
    );
    let sent = deletes(&up);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].path, "/v1/pets/3");
    // A read-only tool never asks.
    assert_ok(&call(&client, "getPetById", json!({"petId": "1"})).await);
    assert_eq!(user.asked().len(), 1);
    client.cancel().await.ok();
}

#[tokio::test]
async fn stdio_a_declining_user_stops_the_call_before_the_upstream() {
    let up = upstream().await;
    let user = User::new(Answer::Decline, ProtocolVersion::V_2025_06_18);
    let client = stdio_as(user.clone(), &up, &["--confirm", "destructive"], &[]).await;
    for (answer, said) in [
        (Answer::Decline, "The user declined `deletePet`"),
        (Answer::AcceptUnticked, "The user declined `deletePet`"),
        (
            Answer::Cancel,
            "The user dismissed the confirmation of `deletePet`",
        ),
    ] {
        user.answers(answer);
        let result = call(&client, "deletePet", json!({"petId": "1"})).await;
        assert_refused(&result, &[said, "nothing was sent to the upstream API"]);
    }
    assert_eq!(user.asked().len(), 3);
    assert!(up.requests().is_empty(), "{:?}", up.requests());
    client.cancel().await.ok();
}

#[tokio::test]
async fn stdio_a_client_without_elicitation_gets_the_operator_hint() {
    let up = upstream().await;
    let client = Petstore::Standalone
        .stdio_with(
            &["--base-url", &up.base_url(), "--confirm", "destructive"],
            &[(TOKEN_VAR, ENV_TOKEN)],
        )
        .await;
    let result = call(&client, "deletePet", json!({"petId": "1"})).await;
    assert_refused(
        &result,
        &[
            "`deletePet` needs the user's confirmation before it sends DELETE /pets/{petId}",
            "this client cannot be asked: it did not declare the elicitation capability",
            "Nothing was sent",
            "--sessions",
            "supports elicitation",
            "--confirm none",
        ],
    );
    assert!(up.requests().is_empty(), "{:?}", up.requests());
    client.cancel().await.ok();
}

#[tokio::test]
async fn writes_mode_asks_for_posts_none_never_asks_and_search_asks_too() {
    let up = upstream().await;
    // `writes` from the environment: a POST asks, a GET does not.
    let user = User::new(Answer::Decline, ProtocolVersion::V_2025_11_25);
    let client = stdio_as(user.clone(), &up, &[], &[("PETSTORE_CONFIRM", "writes")]).await;
    let created = call(&client, "createPet", json!({"name": "Fido"})).await;
    assert_refused(&created, &["The user declined `createPet` (POST /pets)"]);
    assert_ok(&call(&client, "listPets", json!({})).await);
    assert_eq!(user.asked().len(), 1);
    assert_eq!(
        up.requests()
            .iter()
            .map(|r| r.method.as_str())
            .collect::<Vec<_>>(),
        ["GET"]
    );
    client.cancel().await.ok();

    // `none` (the default): nothing asks, and a DELETE goes straight through.
    up.clear();
    let user = User::new(Answer::Decline, ProtocolVersion::V_2025_11_25);
    let client = stdio_as(user.clone(), &up, &["--confirm", "none"], &[]).await;
    assert_ok(&call(&client, "deletePet", json!({"petId": "2"})).await);
    assert!(user.asked().is_empty());
    assert_eq!(deletes(&up).len(), 1);
    client.cancel().await.ok();

    // Search mode: an operation reached through call_operation asks as its own tool would.
    up.clear();
    let user = User::new(Answer::Decline, ProtocolVersion::V_2025_11_25);
    let args = ["--mode", "search", "--confirm", "destructive"];
    let client = stdio_as(user.clone(), &up, &args, &[]).await;
    let result = call_operation(&client, "deletePet", json!({"petId": "1"})).await;
    assert_refused(&result, &["The user declined `deletePet`"]);
    user.answers(Answer::Accept);
    assert_ok(&call_operation(&client, "deletePet", json!({"petId": "1"})).await);
    assert_eq!(user.asked().len(), 2);
    assert_eq!(deletes(&up).len(), 1);
    client.cancel().await.ok();
}

#[tokio::test]
async fn confirm_tool_selectors_must_name_an_operation() {
    let output = tokio::process::Command::new(Petstore::Standalone.binary())
        .args([
            "--base-url",
            "http://127.0.0.1:9",
            "--confirm-tool",
            "tag:nosuchtag",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--confirm-tool `tag:nosuchtag` matches no operation")
            && stderr.contains("deletePet"),
        "{stderr}"
    );
}

#[tokio::test]
async fn http_a_2025_client_is_asked_only_with_sessions() {
    let up = upstream().await;
    let env = [(TOKEN_VAR, ENV_TOKEN)];
    // Stateless (the default): the server cannot send a request in the middle of the call.
    let server = Petstore::Standalone
        .http(&up, &["--confirm", "destructive"], &env)
        .await;
    let user = User::new(Answer::Accept, ProtocolVersion::V_2025_11_25);
    let client = server.client_with(user.clone(), None).await;
    let result = call(&client, "deletePet", json!({"petId": "1"})).await;
    assert_refused(
        &result,
        &[
            "this client cannot be asked: it speaks a protocol revision before 2026-07-28 over HTTP",
            "--sessions",
        ],
    );
    assert!(user.asked().is_empty());
    assert!(up.requests().is_empty(), "{:?}", up.requests());
    client.cancel().await.ok();
    server.stop().await;

    // With --sessions it is asked, and the delete goes through once accepted.
    let server = Petstore::Standalone
        .http(&up, &["--confirm", "destructive", "--sessions"], &env)
        .await;
    let client = server.client_with(user.clone(), None).await;
    assert_ok(&call(&client, "deletePet", json!({"petId": "1"})).await);
    assert_eq!(user.asked().len(), 1);
    assert_eq!(deletes(&up).len(), 1);
    client.cancel().await.ok();
    server.stop().await;
}

/// Connects a 2026-07-28 rmcp client (`server/discover`, per-request metadata) as `user`.
async fn client_2026(server: &HttpServer, user: User) -> RunningService<RoleClient, User> {
    ensure_crypto_provider();
    let transport = StreamableHttpClientTransport::from_uri(server.url.clone());
    user.serve_with_lifecycle(
        transport,
        ClientLifecycleMode::Discover {
            preferred_versions: vec![ProtocolVersion::V_2026_07_28],
        },
    )
    .await
    .expect("server/discover over HTTP")
}

#[tokio::test]
async fn http_a_2026_client_confirms_through_input_required_results() {
    let up = upstream().await;
    let server = Petstore::Standalone
        .http(
            &up,
            &["--confirm", "destructive"],
            &[(TOKEN_VAR, ENV_TOKEN)],
        )
        .await;
    let user = User::new(Answer::Accept, ProtocolVersion::V_2026_07_28);
    let client = client_2026(&server, user.clone()).await;

    // One round by hand: the first answer asks, and nothing is sent.
    let params = CallToolRequestParams::new("deletePet")
        .with_arguments(json!({"petId": "3"}).as_object().unwrap().clone());
    let CallToolResponse::InputRequired(asked) = client.call_tool_once(params).await.unwrap()
    else {
        panic!("the first answer is input-required")
    };
    let question = serde_json::to_value(&asked).unwrap();
    assert_eq!(question["resultType"], "input_required");
    let request = &question["inputRequests"]["confirm"];
    assert_eq!(request["method"], "elicitation/create");
    assert!(
        request["params"]["message"]
            .as_str()
            .unwrap()
            .contains("DELETE /pets/{petId}"),
        "{request}"
    );
    assert_eq!(
        request["params"]["requestedSchema"]["properties"]["confirm"]["type"],
        "boolean"
    );
    assert!(asked.request_state.as_deref().unwrap().starts_with("c1."));
    assert!(up.requests().is_empty());

    // The client library's own loop: the user accepts, the retry deletes.
    assert_ok(&call(&client, "deletePet", json!({"petId": "3"})).await);
    assert_eq!(user.asked().len(), 1);
    assert_eq!(deletes(&up).len(), 1);
    // The user declines: nothing more is sent.
    user.answers(Answer::Decline);
    let result = call(&client, "deletePet", json!({"petId": "1"})).await;
    assert_refused(&result, &["The user declined `deletePet`"]);
    assert_eq!(deletes(&up).len(), 1);
    client.cancel().await.ok();
    server.stop().await;
}

/// A raw 2026-07-28 `tools/call` of `tool` with `arguments`, the client declaring
/// `capabilities`, and a retry's `inputResponses` and `requestState` when given; returns the
/// JSON-RPC result.
async fn call_2026(
    url: &str,
    tool: &str,
    arguments: Value,
    capabilities: Value,
    retry: Option<(Value, Option<&str>)>,
) -> Value {
    ensure_crypto_provider();
    let mut params = json!({
        "name": tool,
        "arguments": arguments,
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": capabilities,
            "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1"},
        },
    });
    if let Some((responses, state)) = retry {
        params["inputResponses"] = responses;
        if let Some(state) = state {
            params["requestState"] = json!(state);
        }
    }
    let response = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", tool)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}))
        .send()
        .await
        .expect("the MCP server answers");
    assert!(response.status().is_success(), "{}", response.status());
    let body: Value = response.json().await.expect("a JSON answer");
    body.get("result")
        .cloned()
        .unwrap_or_else(|| panic!("no result: {body}"))
}

/// The first round's `requestState`, for `tool` with `arguments`.
async fn issued_state(url: &str, tool: &str, arguments: Value) -> String {
    let asked = call_2026(url, tool, arguments, json!({"elicitation": {}}), None).await;
    assert_eq!(asked["resultType"], "input_required", "{asked}");
    asked["requestState"]
        .as_str()
        .unwrap_or_else(|| panic!("a requestState: {asked}"))
        .to_owned()
}

fn accepting() -> Value {
    json!({"confirm": {"action": "accept", "content": {"confirm": true}}})
}

#[tokio::test]
async fn http_request_states_cannot_be_forged_altered_or_moved() {
    let up = upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("confirm.key");
    std::fs::write(&key, "a-shared-confirmation-key-of-32-bytes-or-more\n").unwrap();
    let key = key.to_str().unwrap();
    let env = [(TOKEN_VAR, ENV_TOKEN)];
    // createPet asks too, named by --confirm-tool; two replicas share a key file, a third
    // draws its own.
    let shared = [
        "--confirm",
        "destructive",
        "--confirm-tool",
        "createPet",
        "--confirm-key-file",
        key,
    ];
    let a = Petstore::Standalone.http(&up, &shared, &env).await;
    let b = Petstore::Standalone.http(&up, &shared, &env).await;
    let own = Petstore::Standalone
        .http(&up, &["--confirm", "destructive"], &env)
        .await;
    let caps = || json!({"elicitation": {}});
    let pet = |id: &str| json!({"petId": id});
    let not_issued = "was not issued by this server for this tool with these arguments";

    // An acceptance without the state it answers is not one: the client is asked again.
    let unasked = call_2026(
        &a.url,
        "deletePet",
        pet("1"),
        caps(),
        Some((accepting(), None)),
    )
    .await;
    assert_eq!(unasked["resultType"], "input_required", "{unasked}");
    let empty = call_2026(
        &a.url,
        "deletePet",
        pet("1"),
        caps(),
        Some((accepting(), Some(""))),
    )
    .await;
    assert_eq!(empty["isError"], true, "{empty}");
    assert!(
        empty["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("it is not a confirmation state of this server"),
        "{empty}"
    );

    let state = issued_state(&a.url, "deletePet", pet("1")).await;
    // Other arguments, another tool, an altered tag, a later expiry: refused.
    let mut altered = state.clone();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    let parts: Vec<&str> = state.split('.').collect();
    let later = format!(
        "c1.{}.{}",
        parts[1].parse::<u64>().unwrap() + 86_400,
        parts[2]
    );
    for (tool, arguments, sent_state) in [
        ("deletePet", pet("2"), state.as_str()),
        ("createPet", json!({"name": "1"}), state.as_str()),
        ("deletePet", pet("1"), altered.as_str()),
        ("deletePet", pet("1"), later.as_str()),
    ] {
        let result = call_2026(
            &a.url,
            tool,
            arguments.clone(),
            caps(),
            Some((accepting(), Some(sent_state))),
        )
        .await;
        assert_eq!(result["isError"], true, "{tool} {arguments}: {result}");
        let message = result["content"][0]["text"].as_str().unwrap();
        assert!(
            message.contains("The requestState sent back for")
                && message.contains("Nothing was sent to the upstream API"),
            "{message}"
        );
        if sent_state != altered.as_str() {
            assert!(message.contains(not_issued), "{message}");
        }
    }
    // A replica with another key refuses it; one sharing the key file accepts it.
    let elsewhere = call_2026(
        &own.url,
        "deletePet",
        pet("1"),
        caps(),
        Some((accepting(), Some(&state))),
    )
    .await;
    assert_eq!(elsewhere["isError"], true, "{elsewhere}");
    assert!(
        elsewhere["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains(not_issued)
    );
    assert!(up.requests().is_empty(), "{:?}", up.requests());

    // A declining answer with a good state: nothing is sent.
    let declined = call_2026(
        &b.url,
        "deletePet",
        pet("1"),
        caps(),
        Some((json!({"confirm": {"action": "decline"}}), Some(&state))),
    )
    .await;
    assert_eq!(declined["isError"], true, "{declined}");
    assert!(up.requests().is_empty());
    // The accepting answer on the replica sharing the key: exactly one DELETE.
    let accepted = call_2026(
        &b.url,
        "deletePet",
        pet("1"),
        caps(),
        Some((accepting(), Some(&state))),
    )
    .await;
    assert_eq!(accepted["isError"], false, "{accepted}");
    let sent = deletes(&up);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].path, "/v1/pets/1");

    // A 2026-07-28 client without elicitation cannot be asked.
    let unable = call_2026(&a.url, "deletePet", pet("2"), json!({}), None).await;
    assert_eq!(unable["isError"], true, "{unable}");
    assert!(
        unable["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("it did not declare the elicitation capability")
    );
    assert_eq!(deletes(&up).len(), 1);

    // Each refusal has its outcome in the metrics.
    let metrics = reqwest::get(a.route("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for outcome in ["input_required", "unconfirmed"] {
        let line = format!(r#"mcp_tool_calls_total{{tool="deletePet",outcome="{outcome}"}}"#);
        assert!(metrics.contains(&line), "{line} not in\n{metrics}");
    }
    let metrics = reqwest::get(b.route("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"mcp_tool_calls_total{tool="deletePet",outcome="declined"} 1"#),
        "{metrics}"
    );
    for server in [a, b, own] {
        server.stop().await;
    }
}

#[tokio::test]
async fn python_sdk_2026_client_is_asked_and_its_answer_decides() {
    let up = upstream().await;
    let server = Petstore::Standalone
        .http(
            &up,
            &["--confirm", "destructive"],
            &[(TOKEN_VAR, ENV_TOKEN)],
        )
        .await;
    let run = |pet: &'static str, answer: &'static str| {
        let url = server.url.clone();
        async move {
            let arguments = json!({"petId": pet}).to_string();
            python::run_script(
                "confirm_client.py",
                &[&url, "deletePet", &arguments, answer],
            )
            .await
        }
    };
    let accepted = run("3", "accept").await;
    assert_eq!(accepted["isError"], false, "{accepted}");
    assert_eq!(accepted["asked"].as_array().map(Vec::len), Some(1));
    assert!(
        accepted["asked"][0]
            .as_str()
            .unwrap()
            .contains("DELETE /pets/{petId}"),
        "{accepted}"
    );
    assert_eq!(deletes(&up).len(), 1);
    let declined = run("1", "decline").await;
    assert_eq!(declined["isError"], true, "{declined}");
    assert!(
        declined["text"]
            .as_str()
            .unwrap()
            .contains("The user declined `deletePet`"),
        "{declined}"
    );
    assert_eq!(deletes(&up).len(), 1);
    server.stop().await;
}
