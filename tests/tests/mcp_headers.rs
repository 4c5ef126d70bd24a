//! Header parameters mirrored into `Mcp-Param-*` HTTP headers (MCP 2026-07-28, SEP-2243).
//!
//! The Petstore document's `listPets` takes an `X-Request-Id` header parameter, which its tool
//! marks with `"x-mcp-header": "X-Request-Id"`. A 2026-07-28 client calling the tool over
//! streamable HTTP then sends the argument as `Mcp-Param-X-Request-Id` too, and the server
//! refuses a call whose header and body disagree (HTTP 400, JSON-RPC -32020 HeaderMismatch)
//! before anything reaches the upstream.
//!
//! The servers are generated from `examples/petstore/openapi.yaml` when the tests run (the
//! standalone crate written to `target/e2e`, the `#[mcpgen::server]` module of
//! `examples/macro-petstore`, and `cargo mcpgen serve`), never the committed example crate. Requests are raw JSON-RPC POSTs of the 2026-07-28 shape (`_meta` with the
//! protocol version and client capabilities, `Mcp-Method`/`Mcp-Name` headers), so every
//! header is exactly what the test says; one test also drives rmcp's own client, which
//! mirrors the marked arguments itself.

use base64::Engine;
use mcpgen_tests::petstore::{ENV_TOKEN, Petstore, TOKEN_VAR, upstream};
use mcpgen_tests::{HttpServer, Upstream, assert_ok, call, text};
use rmcp::model::ProtocolVersion;
use rmcp::service::{ClientLifecycleMode, ClientServiceExt};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::{Value, json};

const VERSION: &str = "2026-07-28";
/// JSON-RPC `HeaderMismatch`.
const HEADER_MISMATCH: i64 = -32020;
const MARK: &str = "x-mcp-header";

/// One raw 2026-07-28 request's answer.
struct Answer {
    status: reqwest::StatusCode,
    /// The JSON-RPC message answering the request (from a JSON body or an SSE stream).
    message: Value,
}

impl Answer {
    /// The result of a successful request.
    #[track_caller]
    fn result(&self) -> &Value {
        assert_eq!(self.status, 200, "{}", self.message);
        assert!(
            self.message.get("error").is_none(),
            "unexpected error: {}",
            self.message
        );
        &self.message["result"]
    }

    /// Asserts that the request was refused for its headers.
    #[track_caller]
    fn assert_header_mismatch(&self) {
        assert_eq!(self.status, 400, "{}", self.message);
        assert_eq!(
            self.message["error"]["code"], HEADER_MISMATCH,
            "{}",
            self.message
        );
    }
}

/// A client that sends 2026-07-28 requests as they are written here.
struct Raw {
    http: reqwest::Client,
    url: String,
}

impl Raw {
    fn new(server: &HttpServer) -> Raw {
        Raw {
            http: reqwest::Client::new(),
            url: server.url.clone(),
        }
    }

    /// POSTs `method` with `params` and the 2026-07-28 `_meta`, the standard headers
    /// (`Mcp-Name` when `name` is given) and `extra` headers.
    async fn post(
        &self,
        method: &str,
        name: Option<&str>,
        mut params: Value,
        extra: &[(&str, &str)],
    ) -> Answer {
        params["_meta"] = json!({
            "io.modelcontextprotocol/protocolVersion": VERSION,
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1"}
        });
        let body = json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params});
        let mut request = self
            .http
            .post(&self.url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .header("MCP-Protocol-Version", VERSION)
            .header("Mcp-Method", method);
        if let Some(name) = name {
            request = request.header("Mcp-Name", name);
        }
        for (header, value) in extra {
            request = request.header(*header, *value);
        }
        let response = request.body(body.to_string()).send().await.unwrap();
        let status = response.status();
        let sse = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        let text = response.text().await.unwrap();
        let message = if sse {
            text.lines()
                .filter_map(|line| line.strip_prefix("data:"))
                .filter_map(|data| serde_json::from_str::<Value>(data.trim()).ok())
                .find(|m| m["id"] == 7)
                .unwrap_or_else(|| panic!("no answer in the stream: {text}"))
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
        };
        Answer { status, message }
    }

    /// `tools/call listPets` with `arguments` and `extra` headers.
    async fn list_pets(&self, arguments: Value, extra: &[(&str, &str)]) -> Answer {
        self.post(
            "tools/call",
            Some("listPets"),
            json!({"name": "listPets", "arguments": arguments}),
            extra,
        )
        .await
    }
}

/// `=?base64?<value in base64>?=`, the form of a header value that cannot travel as it is.
fn base64_form(value: &str) -> String {
    format!(
        "=?base64?{}?=",
        base64::engine::general_purpose::STANDARD.encode(value)
    )
}

/// Every `x-mcp-header` mark of a tool list, as `(tool, property, header)`.
fn marks(tools: &[Value]) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for tool in tools {
        let properties = tool["inputSchema"]["properties"].as_object().unwrap();
        for (property, schema) in properties {
            if let Some(header) = schema.get(MARK) {
                out.push((
                    tool["name"].as_str().unwrap().to_owned(),
                    property.clone(),
                    header.as_str().unwrap().to_owned(),
                ));
            }
        }
    }
    out
}

async fn start(server: Petstore, up: &Upstream) -> HttpServer {
    server.http(up, &[], &[(TOKEN_VAR, ENV_TOKEN)]).await
}

/// The whole scenario against one server.
async fn header_parameters_are_mirrored_and_checked(server: Petstore) {
    let up = upstream().await;
    let http = start(server, &up).await;
    let raw = Raw::new(&http);

    // tools/list: the header parameter, and only it, is marked with its header name.
    let listed = raw.post("tools/list", None, json!({}), &[]).await;
    let tools = listed.result()["tools"].as_array().unwrap().clone();
    assert_eq!(
        marks(&tools),
        [(
            "listPets".to_owned(),
            "X-Request-Id".to_owned(),
            "X-Request-Id".to_owned()
        )]
    );
    let list_pets = tools.iter().find(|t| t["name"] == "listPets").unwrap();
    assert_eq!(
        list_pets["inputSchema"]["properties"]["X-Request-Id"]["type"],
        "string"
    );

    // A matching header: the call runs, and the upstream gets the argument as its header.
    let ok = raw
        .list_pets(
            json!({"X-Request-Id": "req-42", "limit": 1}),
            &[("Mcp-Param-X-Request-Id", "req-42")],
        )
        .await;
    assert_eq!(ok.result()["isError"], false, "{}", ok.message);
    let requests = up.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].header("x-request-id"), Some("req-42"));
    assert!(
        requests[0]
            .headers
            .iter()
            .all(|(name, _)| !name.starts_with("mcp-")),
        "MCP headers are never forwarded: {:?}",
        requests[0].headers
    );

    // Header names are case-insensitive.
    let lower = raw
        .list_pets(
            json!({"X-Request-Id": "req-43"}),
            &[("mcp-param-x-request-id", "req-43")],
        )
        .await;
    assert_eq!(lower.result()["isError"], false, "{}", lower.message);

    // No argument, no header: nothing to check (servers must not expect the header).
    let without = raw.list_pets(json!({"limit": 1}), &[]).await;
    assert_eq!(without.result()["isError"], false, "{}", without.message);
    up.clear();

    // Header and body disagree: refused before anything is sent.
    raw.list_pets(
        json!({"X-Request-Id": "req-42"}),
        &[("Mcp-Param-X-Request-Id", "req-666")],
    )
    .await
    .assert_header_mismatch();
    // The argument without its header: refused (the specification: when a client omits the
    // header but the value is in the body, the server MUST reject the request).
    raw.list_pets(json!({"X-Request-Id": "req-42"}), &[])
        .await
        .assert_header_mismatch();
    // A header for an argument the body does not have: refused too (rmcp's rule; a
    // conforming client never sends one).
    raw.list_pets(json!({}), &[("Mcp-Param-X-Request-Id", "req-42")])
        .await
        .assert_header_mismatch();
    // Base64 that is not: refused.
    raw.list_pets(
        json!({"X-Request-Id": "req-42"}),
        &[("Mcp-Param-X-Request-Id", "=?base64?not base64!?=")],
    )
    .await
    .assert_header_mismatch();
    // The base64 form of a different value: refused.
    raw.list_pets(
        json!({"X-Request-Id": "req-42"}),
        &[("Mcp-Param-X-Request-Id", &base64_form("req-43"))],
    )
    .await
    .assert_header_mismatch();
    assert!(
        up.requests().is_empty(),
        "no refused call may reach the upstream: {:?}",
        up.requests()
    );

    // Values that cannot travel as a header as they are come base64-encoded, and are
    // compared decoded: a leading space, and characters beyond ASCII.
    for value in [" req-7", "réq-8"] {
        up.clear();
        let answer = raw
            .list_pets(
                json!({"X-Request-Id": value}),
                &[("Mcp-Param-X-Request-Id", &base64_form(value))],
            )
            .await;
        assert_eq!(answer.result()["isError"], false, "{}", answer.message);
        let requests = up.requests();
        assert_eq!(requests.len(), 1, "{value:?}");
        // HTTP drops the space around a field value.
        assert_eq!(requests[0].header("x-request-id"), Some(value.trim()));
    }
    http.stop().await;
}

#[tokio::test]
async fn standalone_server_mirrors_header_parameters() {
    header_parameters_are_mirrored_and_checked(Petstore::Standalone).await;
}

#[tokio::test]
async fn macro_server_mirrors_header_parameters() {
    header_parameters_are_mirrored_and_checked(Petstore::Macro).await;
}

#[tokio::test]
async fn serve_mirrors_header_parameters() {
    header_parameters_are_mirrored_and_checked(Petstore::Serve).await;
}

/// In search mode the operations are not tools: `describe_operation` shows their input schemas
/// without marks, since the arguments given to `call_operation` are never mirrored into
/// headers, and such a call needs no `Mcp-Param-*` header.
#[tokio::test]
async fn search_mode_neither_marks_nor_expects_headers() {
    let up = upstream().await;
    let http = Petstore::Standalone
        .http(&up, &["--mode", "search"], &[(TOKEN_VAR, ENV_TOKEN)])
        .await;
    let raw = Raw::new(&http);
    let listed = raw.post("tools/list", None, json!({}), &[]).await;
    let tools = listed.result()["tools"].as_array().unwrap().clone();
    assert_eq!(tools.len(), 3);
    assert_eq!(marks(&tools), []);

    let described = raw
        .post(
            "tools/call",
            Some("describe_operation"),
            json!({"name": "describe_operation", "arguments": {"name": "listPets"}}),
            &[],
        )
        .await;
    let schema = &described.result()["structuredContent"]["inputSchema"];
    assert_eq!(
        schema["properties"]["X-Request-Id"],
        json!({"type": "string", "description": "A correlation id echoed back by the upstream."})
    );

    let called = raw
        .post(
            "tools/call",
            Some("call_operation"),
            json!({"name": "call_operation", "arguments": {
                "name": "listPets", "arguments": {"X-Request-Id": "via-search"}
            }}),
            &[],
        )
        .await;
    assert_eq!(called.result()["isError"], false, "{}", called.message);
    assert_eq!(up.requests()[0].header("x-request-id"), Some("via-search"));
    http.stop().await;
}

/// rmcp's client, speaking 2026-07-28: it keeps the tool (a client drops tools whose marks
/// break the rules), mirrors the marked argument into `Mcp-Param-X-Request-Id` itself, and the
/// server, which refuses the argument without its header, accepts the call.
#[tokio::test]
async fn rmcp_client_mirrors_the_marked_argument() {
    let up = upstream().await;
    let http = start(Petstore::Standalone, &up).await;
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(http.url.clone()),
    );
    let client = ()
        .serve_with_lifecycle(
            transport,
            ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            },
        )
        .await
        .expect("a 2026-07-28 client connects");
    assert_eq!(
        client.peer_info().map(|i| i.protocol_version.clone()),
        Some(ProtocolVersion::V_2026_07_28)
    );
    let tools = client.list_all_tools().await.expect("tools/list");
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(
        names,
        Petstore::Standalone.tool_names(),
        "no tool is dropped"
    );
    let list_pets = tools.iter().find(|t| t.name == "listPets").unwrap();
    assert_eq!(
        list_pets.input_schema["properties"]["X-Request-Id"][MARK],
        "X-Request-Id"
    );

    let r = call(
        &client,
        "listPets",
        json!({"X-Request-Id": "from-rmcp", "limit": 1}),
    )
    .await;
    assert_ok(&r);
    let requests = up.requests();
    assert_eq!(requests.len(), 1, "{}", text(&r));
    assert_eq!(requests[0].header("x-request-id"), Some("from-rmcp"));
    client.cancel().await.ok();
    http.stop().await;
}
