//! Who may call what, end to end: the MCP endpoint's static bearer tokens (several, never
//! forwarded), the refusal to serve a non-loopback address to anybody, CORS for the browser
//! origins the operator allows, which credentials go upstream (a caller's and the server's
//! are never mixed), credential variables that cannot be used, and `--read-only`.

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use mcpgen_tests::petstore::{ENV_TOKEN, TOKEN_VAR};
use mcpgen_tests::{
    Client, HttpServer, RecordedRequest, Upstream, assert_ok, call, call_operation,
    credential_choice_binary, ensure_crypto_provider, petstore_binary, stdio_at, text,
};
use rmcp::ServiceExt;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A JSON-RPC ping, as a raw client posts it.
const PING: &str = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;

fn http() -> reqwest::Client {
    ensure_crypto_provider();
    reqwest::Client::new()
}

/// Posts a ping to `url` with `bearer` and `origin`, if given.
async fn ping(url: &str, bearer: Option<&str>, origin: Option<&str>) -> reqwest::Response {
    let mut request = http()
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("mcp-protocol-version", "2025-06-18")
        .body(PING);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    request.send().await.expect("the server answers")
}

/// Connects an MCP client to `url`, sending `Authorization: Bearer <bearer>` and `headers`.
async fn connect(url: &str, bearer: Option<&str>, headers: &[(&str, &str)]) -> Client {
    ensure_crypto_provider();
    let mut config = StreamableHttpClientTransportConfig::with_uri(url.to_owned());
    config.auth_header = bearer.map(str::to_owned);
    for (name, value) in headers {
        config
            .custom_headers
            .insert(name.parse().unwrap(), value.parse().unwrap());
    }
    ().serve(StreamableHttpClientTransport::from_config(config))
        .await
        .expect("MCP initialisation over HTTP")
}

/// A server started on an address of the test's choosing.
struct Started {
    child: Child,
    /// The port it listens on (connect through 127.0.0.1).
    port: u16,
    /// Its stderr up to the line that says where it listens.
    stderr: String,
}

impl Started {
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/mcp", self.port)
    }
}

/// Starts `bin --transport http --bind BIND ARGS` with `env`, and waits until it listens, or
/// until it exits (its status and stderr).
async fn start_on(
    bin: &std::path::Path,
    bind: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<Started, (ExitStatus, String)> {
    let mut command = Command::new(bin);
    command
        .args(["--transport", "http", "--bind", bind])
        .args(args)
        .env_remove(TOKEN_VAR)
        .env_remove("PETSTORE_MCP_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("the server starts");
    let mut lines = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
    let mut stderr = String::new();
    let listening = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(line)) = lines.next_line().await {
            stderr.push_str(&line);
            stderr.push('\n');
            if let Some(address) = line.split("listening on http://").nth(1) {
                let address = address.trim().trim_end_matches("/mcp");
                let port = address.rsplit_once(':').unwrap().1.parse().unwrap();
                return Some(port);
            }
        }
        None
    })
    .await
    .expect("the server listens or exits within 30 s");
    match listening {
        Some(port) => {
            // Keep reading stderr, so that the server never blocks on a full pipe.
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            Ok(Started {
                child,
                port,
                stderr,
            })
        }
        None => {
            let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
                .await
                .expect("the server exits")
                .unwrap();
            Err((status, stderr))
        }
    }
}

/// The upstream requests that carried any of `secrets`, in any header.
fn carrying<'a>(requests: &'a [RecordedRequest], secrets: &[&str]) -> Vec<&'a RecordedRequest> {
    requests
        .iter()
        .filter(|r| {
            r.headers
                .iter()
                .any(|(_, value)| secrets.iter().any(|s| value.contains(s)))
        })
        .collect()
}

#[tokio::test]
async fn several_static_tokens_are_accepted_and_none_reaches_the_upstream() {
    let up = Upstream::start(0).await.unwrap();
    let (first, second, third) = ("first-mcp-token", "second-mcp-token", "third-mcp-token");
    let server = HttpServer::start(
        petstore_binary(),
        &[
            "--base-url",
            &up.base_url(),
            "--mcp-token",
            first,
            "--mcp-token",
            second,
        ],
        &[(TOKEN_VAR, ENV_TOKEN)],
    )
    .await;
    for token in [first, second] {
        let client = server.client(Some(token)).await;
        assert_ok(&call(&client, "getPetById", json!({"petId": "1"})).await);
        client.cancel().await.ok();
    }
    for presented in [Some(third), Some("first-mcp-toke"), None] {
        let refused = ping(&server.url, presented, None).await;
        assert_eq!(refused.status(), 401, "{presented:?}");
        assert_eq!(refused.headers()["www-authenticate"], "Bearer");
    }
    let requests = up.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    for request in &requests {
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {ENV_TOKEN}").as_str())
        );
    }
    assert!(carrying(&requests, &[first, second, third]).is_empty());
    let metrics = http()
        .get(server.route("/metrics"))
        .bearer_auth(second)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.lines().any(|l| l == "mcp_auth_failures_total 3"),
        "{metrics}"
    );
    server.stop().await;

    // From the environment, several separated by commas.
    let server = HttpServer::start(
        petstore_binary(),
        &["--base-url", &up.base_url()],
        &[
            (TOKEN_VAR, ENV_TOKEN),
            ("PETSTORE_MCP_TOKEN", "env-one, env-two"),
        ],
    )
    .await;
    for token in ["env-one", "env-two"] {
        assert_eq!(ping(&server.url, Some(token), None).await.status(), 200);
    }
    assert_eq!(
        ping(&server.url, Some("env-one,"), None).await.status(),
        401
    );
    server.stop().await;
}

#[tokio::test]
async fn a_non_loopback_address_is_never_served_to_anybody_by_default() {
    let up = Upstream::start(0).await.unwrap();
    let base = up.base_url();
    for bind in ["0.0.0.0:0", "[::]:0"] {
        let Err((status, stderr)) = start_on(petstore_binary(), bind, &["--base-url", &base], &[])
            .await
            .map(|s| s.stderr)
        else {
            panic!("{bind} was served without authentication");
        };
        assert!(!status.success(), "{status:?}");
        for named in [
            "--mcp-token",
            "PETSTORE_MCP_TOKEN",
            "--oauth-issuer",
            "--allow-unauthenticated",
        ] {
            assert!(stderr.contains(named), "{named}: {stderr}");
        }
        assert!(!stderr.contains("listening on"), "{stderr}");
    }

    // The operator's word: served, with a warning at every start.
    let open = start_on(
        petstore_binary(),
        "0.0.0.0:0",
        &["--base-url", &base, "--allow-unauthenticated"],
        &[],
    )
    .await
    .expect("served when allowed");
    assert!(
        open.stderr
            .lines()
            .any(|l| l.starts_with("warning: --allow-unauthenticated")),
        "{}",
        open.stderr
    );
    assert_eq!(ping(&open.url(), None, None).await.status(), 200);
    drop(open.child);

    // A token: served, no warning, and the token is required.
    let guarded = start_on(
        petstore_binary(),
        "0.0.0.0:0",
        &["--base-url", &base],
        &[("PETSTORE_MCP_TOKEN", "deployed-token")],
    )
    .await
    .expect("served with a token");
    assert!(!guarded.stderr.contains("warning"), "{}", guarded.stderr);
    assert_eq!(ping(&guarded.url(), None, None).await.status(), 401);
    let client = connect(&guarded.url(), Some("deployed-token"), &[]).await;
    assert!(client.list_all_tools().await.is_ok());
    client.cancel().await.ok();
    drop(guarded.child);

    // Loopback needs nothing and warns of nothing.
    let local = start_on(
        petstore_binary(),
        "127.0.0.1:0",
        &["--base-url", &base],
        &[],
    )
    .await
    .expect("loopback is served");
    assert!(!local.stderr.contains("warning"), "{}", local.stderr);
}

#[tokio::test]
async fn browsers_of_allowed_origins_get_cors_and_others_nothing() {
    const APP: &str = "https://app.example.com";
    const EVIL: &str = "https://evil.example.com";
    let up = Upstream::start(0).await.unwrap();
    let server = HttpServer::start(
        petstore_binary(),
        &[
            "--base-url",
            &up.base_url(),
            "--allow-origin",
            APP,
            "--mcp-token",
            "browser-token",
        ],
        &[],
    )
    .await;
    let preflight = |origin: &'static str| {
        http()
            .request(reqwest::Method::OPTIONS, &server.url)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type,mcp-protocol-version,mcp-param-region,x-evil",
            )
            .send()
    };
    // A preflight needs no token (browsers never send one on it).
    let answer = preflight(APP).await.unwrap();
    assert!(answer.status().is_success(), "{}", answer.status());
    let headers = answer.headers();
    assert_eq!(headers["access-control-allow-origin"], APP);
    assert_eq!(
        headers["access-control-allow-methods"],
        "GET, POST, DELETE, OPTIONS"
    );
    let allowed = headers["access-control-allow-headers"].to_str().unwrap();
    for header in [
        "authorization",
        "content-type",
        "mcp-protocol-version",
        "mcp-session-id",
        "mcp-method",
        "mcp-name",
        "last-event-id",
        "mcp-param-region",
    ] {
        assert!(
            allowed.split(", ").any(|h| h == header),
            "{header}: {allowed}"
        );
    }
    assert!(!allowed.contains("x-evil"), "{allowed}");
    assert_eq!(headers["access-control-max-age"], "600");
    assert!(
        headers["vary"].to_str().unwrap().contains("Origin"),
        "{headers:?}"
    );

    let refused = preflight(EVIL).await.unwrap();
    assert!(
        refused
            .headers()
            .keys()
            .all(|name| !name.as_str().starts_with("access-control-")),
        "{:?}",
        refused.headers()
    );

    // Answers to the allowed origin are readable, a 401 and its challenge included.
    let answer = ping(&server.url, Some("browser-token"), Some(APP)).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["access-control-allow-origin"], APP);
    assert_eq!(
        answer.headers()["access-control-expose-headers"],
        "Mcp-Session-Id, WWW-Authenticate, X-Request-Id"
    );
    let unauthorized = ping(&server.url, None, Some(APP)).await;
    assert_eq!(unauthorized.status(), 401);
    assert_eq!(unauthorized.headers()["access-control-allow-origin"], APP);
    assert_eq!(unauthorized.headers()["www-authenticate"], "Bearer");

    // Another origin: refused by the origin check, and no CORS header.
    let foreign = ping(&server.url, Some("browser-token"), Some(EVIL)).await;
    assert_eq!(foreign.status(), 403);
    assert!(
        foreign
            .headers()
            .keys()
            .all(|name| !name.as_str().starts_with("access-control-")),
        "{:?}",
        foreign.headers()
    );
    server.stop().await;
}

const KEY_VAR: &str = "CHOICE_API_KEY";
const BEARER_VAR: &str = "CHOICE_BEARER_AUTH_TOKEN";

/// The credential-choice server over HTTP against `up`, with the operator's key and token.
async fn choice_server(up: &Upstream, extra: &[&str]) -> HttpServer {
    let base = format!("http://{}", up.addr());
    let mut args = vec!["--base-url", base.as_str()];
    args.extend_from_slice(extra);
    HttpServer::start(
        credential_choice_binary(),
        &args,
        &[(KEY_VAR, "operator-key"), (BEARER_VAR, "operator-token")],
    )
    .await
}

/// Calls `operation` and returns the result and what the upstream received for it (`None`:
/// nothing was sent).
async fn sent_for(
    client: &Client,
    up: &Upstream,
    operation: &str,
) -> (rmcp::model::CallToolResult, Option<RecordedRequest>) {
    up.clear();
    let result = call(client, operation, json!({})).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let requests = up.requests();
    assert!(requests.len() <= 1, "{requests:?}");
    (result, requests.into_iter().next())
}

#[tokio::test]
async fn a_callers_credentials_are_never_mixed_with_the_servers() {
    let up = Upstream::start(0).await.unwrap();
    let server = choice_server(&up, &[]).await;
    let caller = server.client(Some("caller-token")).await;

    // Either an API key or a bearer token: the operator's key comes first in the document,
    // but the caller presented a bearer token, so only that is sent.
    let (result, sent) = sent_for(&caller, &up, "either").await;
    assert_ok(&result);
    let sent = sent.expect("sent");
    assert_eq!(sent.path, "/__echo/either");
    assert_eq!(sent.header("authorization"), Some("Bearer caller-token"));
    assert_eq!(sent.header("x-api-key"), None);

    // A bearer token and an API key together: the caller's token is not completed with the
    // operator's key; the call is refused and says what the operation accepts.
    for operation in ["both", "keyOnly"] {
        let (result, sent) = sent_for(&caller, &up, operation).await;
        assert_eq!(result.is_error, Some(true), "{operation}");
        assert!(sent.is_none(), "{operation}: {sent:?}");
        let message = text(&result);
        assert!(
            message.contains(&format!("`{operation}`"))
                && message.contains("`apiKey` (the `X-Api-Key` header)")
                && message.contains("never adds its own credentials"),
            "{message}"
        );
        assert!(!message.contains("caller-token") && !message.contains("operator-"));
    }
    // An API key or anonymous access: the caller's bearer token is neither, so the call goes
    // out anonymous, without the operator's key.
    let (result, sent) = sent_for(&caller, &up, "keyOrAnonymous").await;
    assert_ok(&result);
    let sent = sent.expect("sent");
    assert_eq!(sent.header("authorization"), None);
    assert_eq!(sent.header("x-api-key"), None);
    caller.cancel().await.ok();

    // A caller with both credentials of its own: both are its.
    let complete = connect(
        &server.url,
        Some("caller-token"),
        &[("x-api-key", "caller-key")],
    )
    .await;
    let (result, sent) = sent_for(&complete, &up, "both").await;
    assert_ok(&result);
    let sent = sent.expect("sent");
    assert_eq!(sent.header("authorization"), Some("Bearer caller-token"));
    assert_eq!(sent.header("x-api-key"), Some("caller-key"));
    complete.cancel().await.ok();

    // A caller that presents nothing: the environment's credentials, as configured.
    let anonymous = server.client(None).await;
    let (result, sent) = sent_for(&anonymous, &up, "either").await;
    assert_ok(&result);
    let sent = sent.expect("sent");
    assert_eq!(sent.header("x-api-key"), Some("operator-key"));
    assert_eq!(sent.header("authorization"), None);
    let (result, sent) = sent_for(&anonymous, &up, "both").await;
    assert_ok(&result);
    let sent = sent.expect("sent");
    assert_eq!(sent.header("authorization"), Some("Bearer operator-token"));
    assert_eq!(sent.header("x-api-key"), Some("operator-key"));
    anonymous.cancel().await.ok();
    let logs = server.stderr.lock().unwrap().clone();
    assert!(
        !logs.contains("caller-token") && !logs.contains("operator-key"),
        "{logs}"
    );
    server.stop().await;

    // --no-passthrough: a caller's credentials count for nothing, the environment's are used.
    let server = choice_server(&up, &["--no-passthrough"]).await;
    let caller = server.client(Some("caller-token")).await;
    let (result, sent) = sent_for(&caller, &up, "keyOnly").await;
    assert_ok(&result);
    let sent = sent.expect("sent");
    assert_eq!(sent.header("x-api-key"), Some("operator-key"));
    assert_eq!(sent.header("authorization"), None);
    caller.cancel().await.ok();
    server.stop().await;
}

/// Runs the Petstore server on stdio with no client and `env`: its exit status and stderr
/// (one that passed its start-up checks has printed where requests go).
async fn start_up_with(env: &[(&str, &std::ffi::OsStr)]) -> (ExitStatus, String) {
    let mut command = Command::new(petstore_binary());
    command
        .args(["--base-url", "http://127.0.0.1:9/v1"])
        .env_remove(TOKEN_VAR)
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
    (
        output.status,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn credential_variables_that_cannot_be_used_stop_the_server() {
    use std::os::unix::ffi::OsStrExt;
    let cases: [(&std::ffi::OsStr, &str); 3] = [
        ("".as_ref(), "is set but empty"),
        ("tok\nen".as_ref(), "control character"),
        (std::ffi::OsStr::from_bytes(b"tok\xffen"), "not valid UTF-8"),
    ];
    for (value, problem) in cases {
        let (status, stderr) = start_up_with(&[(TOKEN_VAR, value)]).await;
        assert!(!status.success(), "{value:?}: {stderr}");
        assert!(
            stderr.contains(TOKEN_VAR) && stderr.contains(problem),
            "{value:?}: {stderr}"
        );
        assert!(!stderr.contains("upstream: "), "nothing served: {stderr}");
    }
    // A usable one passes the start-up checks (and the server ends with its closed stdin).
    let (_, stderr) = start_up_with(&[(TOKEN_VAR, "usable-token".as_ref())]).await;
    assert!(stderr.contains("upstream: "), "{stderr}");
}

#[tokio::test]
async fn read_only_serves_only_the_operations_that_read() {
    let up = Upstream::start(0).await.unwrap();
    let base = up.base_url();
    let env = [(TOKEN_VAR, ENV_TOKEN)];
    let client = stdio_at(petstore_binary(), &base, &["--read-only"], &env).await;
    let tools = client.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, ["listPets", "getPetById", "get_store_inventory"]);
    let refused = client
        .call_tool(
            rmcp::model::CallToolRequestParams::new("createPet")
                .with_arguments(json!({"name": "Fido"}).as_object().unwrap().clone()),
        )
        .await;
    let error = refused.expect_err("createPet is not a tool of a read-only server");
    assert!(error.to_string().contains("createPet"), "{error}");
    assert_ok(&call(&client, "getPetById", json!({"petId": "1"})).await);
    client.cancel().await.ok();

    // Search mode: not found, not described, not called.
    let client = stdio_at(
        petstore_binary(),
        &base,
        &["--read-only", "--mode", "search"],
        &env,
    )
    .await;
    let refused = call_operation(&client, "createPet", json!({"name": "Fido"})).await;
    assert_eq!(refused.is_error, Some(true));
    assert!(
        text(&refused).contains("No operation is named `createPet`"),
        "{}",
        text(&refused)
    );
    let described = call(&client, "describe_operation", json!({"name": "deletePet"})).await;
    assert_eq!(described.is_error, Some(true), "{}", text(&described));
    let found = call(
        &client,
        "search_operations",
        json!({"query": "create a pet"}),
    )
    .await;
    assert!(!text(&found).contains("createPet"), "{}", text(&found));
    assert_ok(&call_operation(&client, "listPets", json!({})).await);
    client.cancel().await.ok();
    assert!(
        up.requests().iter().all(|r| r.method == "GET"),
        "{:?}",
        up.requests()
    );
}

#[tokio::test]
async fn tool_globs_choose_what_one_binary_serves() {
    let up = Upstream::start(0).await.unwrap();
    let base = up.base_url();
    let env = [(TOKEN_VAR, ENV_TOKEN)];
    let names = |tools: Vec<rmcp::model::Tool>| -> Vec<String> {
        tools.iter().map(|t| t.name.to_string()).collect()
    };
    let client = stdio_at(
        petstore_binary(),
        &base,
        &["--tools", "*Pet*", "--exclude-tools", "delete*"],
        &env,
    )
    .await;
    assert_eq!(
        names(client.list_all_tools().await.unwrap()),
        ["listPets", "createPet", "getPetById", "updatePet"]
    );
    let refused = client
        .call_tool(
            rmcp::model::CallToolRequestParams::new("deletePet")
                .with_arguments(json!({"petId": "1"}).as_object().unwrap().clone()),
        )
        .await;
    refused.expect_err("deletePet is excluded");
    assert_ok(&call(&client, "getPetById", json!({"petId": "1"})).await);
    client.cancel().await.ok();

    // From the environment, comma-separated, and with --read-only on top.
    let client = stdio_at(
        petstore_binary(),
        &base,
        &["--read-only"],
        &[
            (TOKEN_VAR, ENV_TOKEN),
            ("PETSTORE_TOOLS", "get?etById, get_store_*"),
        ],
    )
    .await;
    assert_eq!(
        names(client.list_all_tools().await.unwrap()),
        ["getPetById", "get_store_inventory"]
    );
    client.cancel().await.ok();

    // A glob that names nothing is a typo: the server says so and does not start.
    let out = std::process::Command::new(petstore_binary())
        .args(["--base-url", &base, "--exclude-tools", "deletePets"])
        .env(TOKEN_VAR, ENV_TOKEN)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("`deletePets` matches no tool") && stderr.contains("deletePet,"),
        "{stderr}"
    );
}
