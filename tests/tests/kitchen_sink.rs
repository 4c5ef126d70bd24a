//! Every parameter style and body type, end to end: a server generated from
//! `tests/fixtures/kitchen-sink.yaml` calls the upstream's echo route, and the test checks on the
//! upstream side exactly what arrived (path, query string, headers, cookies, body bytes, content
//! type).

use base64::Engine as _;
use mcpgen_tests::{
    Client, RecordedRequest, Upstream, call, kitchen_sink_binary, stdio_client, text,
};
use serde_json::{Value, json};

async fn setup() -> (Upstream, Client) {
    let up = Upstream::start(0).await.expect("upstream starts");
    let base = format!("http://{}/__echo", up.addr());
    let client = stdio_client(
        kitchen_sink_binary(),
        &["--base-url", &base],
        &[
            ("KITCHEN_SINK_QUERY_KEY", "k&ey"),
            ("KITCHEN_SINK_COOKIE_KEY", "ck"),
            ("KITCHEN_SINK_BASIC_USERNAME", "user"),
            ("KITCHEN_SINK_BASIC_PASSWORD", "pa:ss"),
        ],
    )
    .await;
    (up, client)
}

async fn one_request(up: &Upstream, client: &Client, tool: &str, args: Value) -> RecordedRequest {
    up.clear();
    let result = call(client, tool, args).await;
    assert_eq!(result.is_error, Some(false), "{tool}: {}", text(&result));
    let mut requests = up.requests();
    assert_eq!(requests.len(), 1, "{tool} sends one request");
    requests.remove(0)
}

#[tokio::test]
async fn path_styles() {
    let (up, client) = setup().await;
    let req = one_request(
        &up,
        &client,
        "pathStyles",
        json!({"simple": ["a", "b/c"], "label": [1, 2], "matrix": {"a": "x", "b": "y z"}}),
    )
    .await;
    assert_eq!(req.path, "/__echo/path/a,b%2Fc/.1.2/;matrix=a,x,b,y%20z");
    client.cancel().await.ok();
}

#[tokio::test]
async fn query_styles_and_query_api_key() {
    let (up, client) = setup().await;
    let req = one_request(
        &up,
        &client,
        "queryStyles",
        json!({
            "form": ["a", "b"], "csv": ["c", "d"], "space": ["e", "f"], "pipe": ["g", "h"],
            "deep": {"color": "red", "size": 2}, "obj": {"x": 1}, "filter": {"q": 1},
            "reserved": "a/b?c"
        }),
    )
    .await;
    assert_eq!(
        req.query.as_deref(),
        Some(
            "form=a&form=b&csv=c,d&space=e%20f&pipe=g%7Ch&deep%5Bcolor%5D=red&deep%5Bsize%5D=2\
             &x=1&filter=%7B%22q%22%3A1%7D&reserved=a/b?c&api_key=k%26ey"
        )
    );
    client.cancel().await.ok();
}

#[tokio::test]
async fn same_name_in_every_location_with_cookie_key_and_basic_auth() {
    let (up, client) = setup().await;
    let tools = client.list_all_tools().await.unwrap();
    let tool = tools
        .iter()
        .find(|t| t.name == "sameNameEverywhere")
        .unwrap();
    let props: Vec<&String> = tool.input_schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(
        props,
        ["id", "id_query", "id_header", "X-Tags", "id_cookie", "body"]
    );

    let req = one_request(
        &up,
        &client,
        "sameNameEverywhere",
        json!({
            "id": 5, "id_query": "q", "id_header": "h", "id_cookie": "c",
            "X-Tags": ["a", "b"], "body": {"id": "b", "note": "n"}
        }),
    )
    .await;
    assert_eq!(req.path, "/__echo/headers/5");
    assert_eq!(req.query.as_deref(), Some("id=q"));
    assert_eq!(req.header("id"), Some("h"));
    assert_eq!(req.header("x-tags"), Some("a,b"));
    assert_eq!(req.header("cookie"), Some("id=c; session_key=ck"));
    let basic = base64::engine::general_purpose::STANDARD.encode("user:pa:ss");
    assert_eq!(
        req.header("authorization"),
        Some(format!("Basic {basic}").as_str())
    );
    assert_eq!(req.header("content-type"), Some("application/json"));
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(body, json!({"id": "b", "note": "n"}));
    client.cancel().await.ok();
}

#[tokio::test]
async fn urlencoded_form_body() {
    let (up, client) = setup().await;
    let req = one_request(
        &up,
        &client,
        "urlencodedForm",
        json!({"name": "a b&c", "tags": ["x", "y"]}),
    )
    .await;
    assert_eq!(
        req.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        String::from_utf8(req.body).unwrap(),
        "name=a%20b%26c&tags=x&tags=y"
    );
    client.cancel().await.ok();
}

#[tokio::test]
async fn multipart_body_with_a_file() {
    let (up, client) = setup().await;
    let content = base64::engine::general_purpose::STANDARD.encode("hello\r\nworld");
    let req = one_request(
        &up,
        &client,
        "multipartUpload",
        json!({
            "title": "T",
            "meta": {"k": "v"},
            "file": {"content": content, "filename": "h.txt", "contentType": "text/plain"}
        }),
    )
    .await;
    let content_type = req.header("content-type").unwrap().to_owned();
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .unwrap_or_else(|| panic!("{content_type}"));
    let body = String::from_utf8(req.body).unwrap();
    assert_eq!(
        body,
        format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nT\r\n\
             --{b}\r\nContent-Disposition: form-data; name=\"meta\"\r\nContent-Type: application/json\r\n\r\n{{\"k\":\"v\"}}\r\n\
             --{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"h.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\nworld\r\n\
             --{b}--\r\n",
            b = boundary
        )
    );
    let bad = call(
        &client,
        "multipartUpload",
        json!({"file": {"content": "%%%"}}),
    )
    .await;
    assert_eq!(bad.is_error, Some(true));
    assert!(text(&bad).contains("`file`"), "{}", text(&bad));
    client.cancel().await.ok();
}

#[tokio::test]
async fn raw_text_and_non_object_json_bodies() {
    let (up, client) = setup().await;
    let req = one_request(
        &up,
        &client,
        "rawBytes",
        json!({"body": "data:image/png;base64,iVBORw0KGgo="}),
    )
    .await;
    assert_eq!(req.method, "PUT");
    assert_eq!(req.header("content-type"), Some("image/png"));
    assert_eq!(
        req.body,
        [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n']
    );

    let req = one_request(&up, &client, "plainText", json!({"body": "hello there"})).await;
    assert_eq!(req.header("content-type"), Some("text/plain"));
    assert_eq!(req.body, b"hello there");

    let req = one_request(&up, &client, "arrayBody", json!({"body": [1, 2]})).await;
    assert_eq!(req.header("content-type"), Some("application/vnd.api+json"));
    assert_eq!(req.body, b"[1,2]");
    client.cancel().await.ok();
}

#[tokio::test]
async fn x_mcpgen_fixed_and_hidden_parameters() {
    let (up, client) = setup().await;
    let tools = client.list_all_tools().await.unwrap();
    assert!(tools.iter().all(|t| t.name != "tenantScoped"), "renamed");
    let tool = tools
        .iter()
        .find(|t| t.name == "tenant_item")
        .expect("the renamed tool");
    assert_eq!(
        tool.description.as_deref(),
        Some("One item of the configured tenant.")
    );
    let props: Vec<&String> = tool.input_schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(props, ["id"]);
    assert_eq!(
        tools.iter().filter(|t| t.name.contains("tenant")).count(),
        1,
        "DELETE is excluded"
    );

    let req = one_request(&up, &client, "tenant_item", json!({"id": "7"})).await;
    assert_eq!(req.path, "/__echo/tenant/7");
    assert_eq!(req.header("x-tenant"), Some("acme corp"));
    assert_eq!(req.query, None, "the hidden parameter is never sent");
    let refused = call(&client, "tenant_item", json!({"id": "7", "debug": true})).await;
    assert_eq!(
        refused.is_error,
        Some(true),
        "hidden parameters are not arguments"
    );
    client.cancel().await.ok();
}
