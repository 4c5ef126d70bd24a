//! OpenAPI 3.2 end to end: a server generated from `tests/fixtures/openapi32.yaml` (selected
//! by a parent tag, names made portable) calls the upstream with QUERY and additional methods,
//! sends a whole query string, reads server-sent events and JSON Lines into lists, and sends
//! the token of a device-flow scheme; the test checks on the upstream side what arrived.

use mcpgen_tests::{
    Client, RecordedRequest, Upstream, assert_ok, call, openapi32_binary, stdio_client, text,
};
use serde_json::{Value, json};

/// The response limit the server runs with: room for every answer but a long stream.
const LIMIT: &str = "600";

async fn setup() -> (Upstream, Client) {
    let up = Upstream::start(0).await.expect("upstream starts");
    let base = format!("http://{}", up.addr());
    let client = stdio_client(
        openapi32_binary(),
        &["--base-url", &base, "--max-response-bytes", LIMIT],
        &[("THIRTY_TWO_DEVICE_TOKEN", "device-token")],
    )
    .await;
    (up, client)
}

async fn one_request(
    up: &Upstream,
    client: &Client,
    tool: &str,
    args: Value,
) -> (Value, RecordedRequest) {
    up.clear();
    let result = call(client, tool, args).await;
    assert_eq!(result.is_error, Some(false), "{tool}: {}", text(&result));
    let mut requests = up.requests();
    assert_eq!(requests.len(), 1, "{tool} sends one request");
    let structured = result.structured_content.clone().unwrap_or(Value::Null);
    (structured, requests.remove(0))
}

#[tokio::test]
async fn openapi_32_operations_end_to_end() {
    let (up, client) = setup().await;

    // The parent tag `catalog` selected its children's operations, and only those; the
    // dotted operationIds became portable names.
    let tools = client.list_all_tools().await.unwrap();
    let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "cache_link",
            "cache_purge",
            "items_find",
            "items_search",
            "ticks_export",
            "ticks_watch"
        ]
    );
    let hints = |name: &str| {
        let tool = tools.iter().find(|t| t.name == name).unwrap();
        let a = tool.annotations.as_ref().unwrap();
        (a.read_only_hint, a.destructive_hint, a.idempotent_hint)
    };
    // A read-only tool has no destructive hint (MCP reads it only when not read-only).
    assert_eq!(hints("items_search"), (Some(true), None, Some(true)));
    assert_eq!(hints("cache_purge"), (Some(false), Some(true), Some(true)));
    assert_eq!(hints("cache_link"), (Some(false), Some(false), Some(true)));

    // QUERY carries its body.
    let (answer, req) = one_request(
        &up,
        &client,
        "items_search",
        json!({"text": "rex", "limit": 2}),
    )
    .await;
    assert_eq!(req.method, "QUERY");
    assert_eq!(req.path, "/__echo/items");
    assert_eq!(req.header("content-type"), Some("application/json"));
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(body, json!({"text": "rex", "limit": 2}));
    assert_eq!(answer["method"], "QUERY");

    // Methods of `additionalOperations` go out as written.
    let (_, req) = one_request(&up, &client, "cache_purge", json!({"key": "a b"})).await;
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("PURGE", "/__echo/cache/a%20b")
    );
    assert!(req.body.is_empty());
    let (_, req) = one_request(
        &up,
        &client,
        "cache_link",
        json!({"key": "k1", "Link": "</items/1>; rel=\"item\""}),
    )
    .await;
    assert_eq!(req.method, "LINK");
    assert_eq!(req.header("link"), Some("</items/1>; rel=\"item\""));

    // The querystring parameter is the whole query string.
    let (answer, req) = one_request(
        &up,
        &client,
        "items_find",
        json!({"filter": {"q": "a b&c", "tag": ["x", "y"]}}),
    )
    .await;
    assert_eq!(req.method, "GET");
    assert_eq!(req.query.as_deref(), Some("q=a%20b%26c&tag=x&tag=y"));
    assert_eq!(answer["query"], "q=a%20b%26c&tag=x&tag=y");

    // Server-sent events become a list of events, their JSON data parsed.
    let (answer, req) = one_request(&up, &client, "ticks_watch", json!({"n": 2})).await;
    assert_eq!(req.header("accept"), Some("text/event-stream"));
    assert_eq!(req.query.as_deref(), Some("n=2"));
    assert_eq!(
        answer,
        json!({"result": [
            {"event": "tick", "id": "1", "retry": 1000, "data": {"seq": 1, "word": "item-1"}},
            {"event": "tick", "id": "2", "data": {"seq": 2, "word": "item-2"}}
        ]})
    );

    // JSON Lines too, with the device-flow scheme's token from the environment.
    let (answer, req) = one_request(&up, &client, "ticks_export", json!({"n": 3})).await;
    assert_eq!(req.header("authorization"), Some("Bearer device-token"));
    assert_eq!(
        answer["result"],
        json!([
            {"seq": 1, "word": "item-1"},
            {"seq": 2, "word": "item-2"},
            {"seq": 3, "word": "item-3"}
        ])
    );

    // A stream longer than the response limit: the complete items, and a notice.
    up.clear();
    let result = call(&client, "ticks_export", json!({"n": 500})).await;
    assert_ok(&result);
    let items = result.structured_content.as_ref().unwrap()["result"]
        .as_array()
        .unwrap()
        .clone();
    assert!(items.len() > 5 && items.len() < 500, "{}", items.len());
    assert_eq!(items.last().unwrap()["seq"], items.len());
    let shown = text(&result);
    assert!(
        shown.contains(&format!("The stream was cut after {LIMIT} bytes")),
        "{shown}"
    );
    client.cancel().await.ok();
}
