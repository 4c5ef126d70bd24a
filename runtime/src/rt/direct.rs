//! The HTTP transport's shortcut for what a stateless client sends most: a plain `tools/call`
//! of a generated operation, answered in place with a JSON body.
//!
//! rmcp answers each stateless request by decoding it as every request type in turn, building
//! a one-message transport and a service around it, spawning that service as a task and
//! waiting for its answer on a channel: about as much CPU as the call itself. A request that
//! needs none of that machinery — no session, no progress token or other `_meta`, no input
//! responses, a 2025 protocol version named in its header, a tool of this server's own
//! operations — is decoded straight into its type and handed to the same
//! [`GeneratedServer::dispatch`] rmcp's handler calls, and its answer is shaped as rmcp shapes
//! it for such a client. Everything else, including every request this module is unsure of
//! (an `Origin` header, a host or media type it does not recognise), goes to rmcp untouched, so
//! what is accepted or refused, and how, stays rmcp's.

use rmcp::model::{
    ErrorData, JsonObject, JsonRpcVersion2_0, RequestId, ServerJsonRpcMessage, ServerResult,
};
use serde::Deserialize;

use super::call::Inbound;
use super::confirm::{Asker, Unreachable};
use super::resource_server::Caller;
use super::server::GeneratedServer;

/// A `tools/call` request with nothing but a tool's name and arguments: any other member
/// (`_meta`, `inputResponses`, `requestState`, `task`, ...) fails to decode, and the request
/// goes to rmcp. Decoded straight into this shape, not into rmcp's request types, whose
/// flattened members are read through an intermediate tree.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlainCall {
    #[allow(dead_code)] // Checked by decoding: only "2.0".
    jsonrpc: JsonRpcVersion2_0,
    id: RequestId,
    #[allow(dead_code)] // Checked by decoding: only `tools/call`.
    method: ToolsCall,
    params: PlainParams,
}

#[derive(Deserialize)]
enum ToolsCall {
    #[serde(rename = "tools/call")]
    ToolsCall,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlainParams {
    name: String,
    #[serde(default)]
    arguments: Option<JsonObject>,
}

/// The protocol versions answered here: those whose stateless requests name their version in
/// the `MCP-Protocol-Version` header and nowhere else.
const VERSIONS: [&str; 2] = ["2025-06-18", "2025-11-25"];

/// What the shortcut needs to know of the endpoint's configuration.
#[derive(Clone)]
pub struct DirectCalls {
    /// Host names (without port) the endpoint answers to, as given to rmcp.
    hosts: Vec<String>,
}

impl DirectCalls {
    /// The shortcut for an endpoint serving `hosts`; `None` with server-side sessions, where
    /// older clients' requests belong to a session.
    pub fn new(hosts: &[String], sessions: bool) -> Option<Self> {
        (!sessions).then(|| DirectCalls {
            hosts: hosts.iter().map(|h| h.to_ascii_lowercase()).collect(),
        })
    }

    /// The answer to the request of `parts` and `body` when it is one this module answers;
    /// `None` to let rmcp answer it.
    pub async fn answer(
        &self,
        server: &GeneratedServer,
        parts: &http::request::Parts,
        body: &[u8],
    ) -> Option<axum::response::Response> {
        if !self.takes(&parts.headers) {
            return None;
        }
        let request = serde_json::from_slice::<PlainCall>(body).ok()?;
        let params = request.params;
        if !server.is_listed_operation(&params.name) {
            return None;
        }
        let inbound = Inbound {
            headers: Some(&parts.headers),
            caller: parts.extensions.get::<Caller>(),
            extensions: Some(&parts.extensions),
            // Without a session the answer is the only message the server can send.
            asker: if server.state.confirms {
                Asker::Unable(Unreachable::Stateless)
            } else {
                Asker::default()
            },
            ..Inbound::default()
        };
        // Boxed: the call's state is large, and the connection's task moves its future.
        let call = Box::pin(server.dispatch(&params.name, params.arguments, inbound)).await;
        let message = match call? {
            Ok(response) => {
                let mut result = ServerResult::from(response);
                // As rmcp's handler answers a client older than 2026-07-28.
                result.strip_result_type_for_legacy_peer();
                result.strip_non_object_output_for_legacy_peer();
                ServerJsonRpcMessage::response(result, request.id)
            }
            Err(error) => ServerJsonRpcMessage::error(error, Some(request.id)),
        };
        Some(json_answer(&message))
    }

    /// Whether the request's headers are ones this module can judge exactly as rmcp would:
    /// a known host and no `Origin` (DNS rebinding and cross-origin checks), both media types
    /// accepted, a JSON body, no session, and a 2025 protocol version.
    fn takes(&self, headers: &http::HeaderMap) -> bool {
        let text = |name: &str| -> Option<&str> {
            let mut values = headers.get_all(name).iter();
            let value = values.next()?.to_str().ok()?;
            values.next().is_none().then_some(value)
        };
        !headers.contains_key(http::header::ORIGIN)
            && !headers.contains_key("mcp-session-id")
            && text("host").is_some_and(|host| self.knows_host(host))
            && text("content-type").is_some_and(|t| essence(t) == Some("application/json"))
            && text("accept").is_some_and(accepts_json_and_sse)
            && text("mcp-protocol-version").is_some_and(|v| VERSIONS.contains(&v))
    }

    fn knows_host(&self, host: &str) -> bool {
        let name = match host.strip_prefix('[') {
            // An IPv6 literal, with its brackets, as it is listed.
            Some(rest) => match rest.split_once(']') {
                Some((address, "")) => format!("[{address}]"),
                Some((address, port)) if port.strip_prefix(':').is_some_and(is_port) => {
                    format!("[{address}]")
                }
                _ => return false,
            },
            None => match host.split_once(':') {
                Some((name, port)) if is_port(port) => name.to_owned(),
                Some(_) => return false,
                None => host.to_owned(),
            },
        };
        let name = name.to_ascii_lowercase();
        self.hosts.contains(&name)
    }
}

fn is_port(text: &str) -> bool {
    text.parse::<u16>().is_ok()
}

/// A media type without its parameters, when it has none this module would have to weigh.
fn essence(media_type: &str) -> Option<&str> {
    match media_type.split_once(';') {
        None => Some(media_type.trim()),
        // `charset` changes nothing for JSON; anything else is rmcp's to judge.
        Some((essence, params)) => params
            .split(';')
            .all(|p| p.trim().to_ascii_lowercase().starts_with("charset="))
            .then_some(essence.trim()),
    }
}

/// Whether an `Accept` header plainly accepts both JSON and an event stream (no weights, no
/// wildcards: those are rmcp's to judge).
fn accepts_json_and_sse(accept: &str) -> bool {
    let (mut json, mut sse) = (false, false);
    for item in accept.split(',') {
        match item.trim() {
            "application/json" => json = true,
            "text/event-stream" => sse = true,
            other if other.contains(';') || other.contains('*') => return false,
            _ => {}
        }
    }
    json && sse
}

/// A JSON-RPC answer as an HTTP 200 with a JSON body, as rmcp frames one.
fn json_answer(message: &ServerJsonRpcMessage) -> axum::response::Response {
    match serde_json::to_vec(message) {
        Ok(body) => http::Response::builder()
            .status(http::StatusCode::OK)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(axum::body::Body::from(body))
            .unwrap_or_else(|_| internal_error()),
        Err(_) => internal_error(),
    }
}

fn internal_error() -> axum::response::Response {
    let error = ErrorData::internal_error("cannot serialise the answer", None);
    let mut response = axum::response::Response::new(axum::body::Body::from(
        serde_json::json!({"jsonrpc": "2.0", "id": null, "error": error}).to_string(),
    ));
    *response.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
    response
}

#[cfg(test)]
mod tests {
    use super::super::descriptor::{ApiDescriptor, CallPlan, HttpMethod, ToolDescriptor};
    use super::super::request::Upstream;
    use super::super::tests::{TOOL, api, config};
    use super::*;
    use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
    use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const fn get(name: &'static str, path: &'static str, output: &'static str) -> ToolDescriptor {
        ToolDescriptor {
            name,
            output_schema: Some(output),
            plan: CallPlan { path, ..TOOL.plan },
            ..TOOL
        }
    }

    static API: ApiDescriptor = api(&[
        TOOL,
        // A list answer, wrapped in an object as generated tools' are.
        ToolDescriptor {
            output_wrapped: true,
            ..get(
                "listThings",
                "/things",
                r#"{"type":"object","properties":{"items":{"type":"array"}}}"#,
            )
        },
        ToolDescriptor {
            name: "deleteThing",
            input_schema: r#"{"type":"object","properties":{"id":{"type":"string"}},"required":["id"]}"#,
            plan: CallPlan {
                method: HttpMethod::Delete,
                path: "/thing/{id}",
                ..TOOL.plan
            },
            ..TOOL
        },
    ]);

    /// An upstream on loopback answering `/things` with a list and everything else with one
    /// thing, on keep-alive connections.
    async fn upstream() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 4096];
                    while let Ok(n @ 1..) = stream.read(&mut buf).await {
                        head.extend_from_slice(&buf[..n]);
                        while let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                            let request = String::from_utf8_lossy(&head[..end]).into_owned();
                            head.drain(..end + 4);
                            let body = if request.starts_with("GET /things ") {
                                r#"[{"id":"1"},{"id":"2"}]"#
                            } else {
                                r#"{"id":"1","name":"Rex"}"#
                            };
                            let answer = format!(
                                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                                 content-length: {}\r\n\r\n{body}",
                                body.len()
                            );
                            if stream.write_all(answer.as_bytes()).await.is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        format!("http://{address}")
    }

    fn request(version: &str, body: &str) -> http::Request<axum::body::Body> {
        http::Request::builder()
            .method(http::Method::POST)
            .uri("/mcp")
            .header("host", "127.0.0.1:8080")
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", version)
            .body(axum::body::Body::from(body.to_owned()))
            .unwrap()
    }

    async fn json(response: axum::response::Response) -> (http::StatusCode, serde_json::Value) {
        let status = response.status();
        assert_eq!(
            response.headers().get(http::header::CONTENT_TYPE).unwrap(),
            "application/json"
        );
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn answers_exactly_as_rmcp_does() {
        let mut config = config(None);
        config.upstream = Upstream::parse(&upstream().await).unwrap();
        let server = GeneratedServer::new(&API, config).unwrap();
        let hosts = ["localhost", "127.0.0.1"].map(str::to_owned);
        let calls = DirectCalls::new(&hosts, false).unwrap();
        let served = server.clone();
        let rmcp = StreamableHttpService::new(
            move || Ok(served.clone()),
            std::sync::Arc::new(LocalSessionManager::default()),
            StreamableHttpServerConfig::default()
                .with_allowed_hosts(hosts.clone())
                .with_legacy_session_mode(false)
                .with_json_response(true),
        );
        let call = |id: &str, name: &str, arguments: &str| {
            format!(
                r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"{name}","arguments":{arguments}}}}}"#
            )
        };
        for version in VERSIONS {
            for body in [
                call("1", "getThing", "{}"),
                call(r#""two""#, "listThings", "{}"),
                call("3", "deleteThing", r#"{"id":"7"}"#),
                // Arguments the tool refuses, and none at all.
                call("4", "deleteThing", r#"{"id":7}"#),
                r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"getThing"}}"#
                    .to_owned(),
                call("6", "getThing", "null"),
            ] {
                let (parts, _) = request(version, &body).into_parts();
                let ours = calls
                    .answer(&server, &parts, body.as_bytes())
                    .await
                    .unwrap_or_else(|| panic!("{version} {body}: not answered directly"));
                let theirs = rmcp.handle(request(version, &body)).await;
                let theirs = theirs.map(axum::body::Body::new);
                let (ours, theirs) = (json(ours).await, json(theirs).await);
                assert_eq!(ours, theirs, "{version} {body}");
                assert!(ours.1.get("result").is_some(), "{ours:?}");
            }
        }
        let answer = |version: &str, body: &str| {
            let (parts, _) = request(version, body).into_parts();
            let (calls, server, body) = (calls.clone(), server.clone(), body.to_owned());
            async move {
                calls
                    .answer(&server, &parts, body.as_bytes())
                    .await
                    .is_some()
            }
        };
        // What rmcp must answer itself.
        for (version, body) in [
            ("2026-07-28", call("1", "getThing", "{}")),
            ("2025-03-26", call("1", "getThing", "{}")),
            ("2025-11-25", call("1", "nope", "{}")),
            (
                "2025-11-25",
                r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"getThing","_meta":{"progressToken":1}}}"#.to_owned(),
            ),
            (
                "2025-11-25",
                r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#.to_owned(),
            ),
            ("2025-11-25", "not JSON".to_owned()),
            // Members beside a tool's name and arguments, and a wrong version or method.
            (
                "2025-11-25",
                r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"getThing","task":{"ttl":1000}}}"#.to_owned(),
            ),
            (
                "2025-11-25",
                r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"getThing"},"extra":1}"#.to_owned(),
            ),
            (
                "2025-11-25",
                r#"{"jsonrpc":"1.0","id":1,"method":"tools/call","params":{"name":"getThing"}}"#.to_owned(),
            ),
            (
                "2025-11-25",
                r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"name":"getThing"}}"#.to_owned(),
            ),
            (
                "2025-11-25",
                r#"{"jsonrpc":"2.0","id":null,"method":"tools/call","params":{"name":"getThing"}}"#.to_owned(),
            ),
        ] {
            assert!(!answer(version, &body).await, "{version} {body}");
        }
    }

    fn calls() -> DirectCalls {
        let hosts = ["localhost", "127.0.0.1", "::1", "[::1]", "Example.com"];
        DirectCalls::new(&hosts.map(str::to_owned), false).unwrap()
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, http::HeaderValue::from_static(value));
        }
        headers
    }

    const PLAIN: [(&str, &str); 4] = [
        ("host", "127.0.0.1:8080"),
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
        ("mcp-protocol-version", "2025-11-25"),
    ];

    #[test]
    fn only_plain_requests_are_taken() {
        let calls = calls();
        assert!(calls.takes(&headers(&PLAIN)));
        let with = |name: &'static str, value: &'static str| {
            let mut pairs: Vec<_> = PLAIN.iter().filter(|(n, _)| *n != name).copied().collect();
            pairs.push((name, value));
            calls.takes(&headers(&pairs))
        };
        assert!(with("host", "[::1]:9"));
        assert!(with("host", "example.com"));
        assert!(with("content-type", "application/json; charset=utf-8"));
        assert!(with("mcp-protocol-version", "2025-06-18"));
        for (name, value) in [
            ("host", "evil.example:80"),
            ("host", "127.0.0.1:x"),
            ("host", "[::2]:80"),
            ("content-type", "text/plain"),
            ("content-type", "application/json; foo=bar"),
            ("accept", "application/json"),
            ("accept", "application/json, text/event-stream;q=0"),
            ("accept", "*/*"),
            ("mcp-protocol-version", "2025-03-26"),
            ("mcp-protocol-version", "2026-07-28"),
            ("origin", "http://127.0.0.1:8080"),
            ("mcp-session-id", "abc"),
        ] {
            assert!(!with(name, value), "{name}: {value}");
        }
        let mut missing = headers(&PLAIN);
        missing.remove("mcp-protocol-version");
        assert!(!calls.takes(&missing));
        let mut twice = headers(&PLAIN);
        twice.append("host", http::HeaderValue::from_static("localhost"));
        assert!(!calls.takes(&twice));
        assert!(DirectCalls::new(&[], true).is_none());
    }
}
