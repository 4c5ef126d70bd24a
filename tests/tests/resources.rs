//! Resources at URIs of the document's choosing (`x-mcpgen: {resource: ...}`, and the settings'
//! `[resources]`), and prompts that carry text and embed the server's own resources, through
//! real MCP clients (2025-11-25 over stdio, 2026-07-28 over streamable HTTP) against
//! `cargo mcpgen serve tests/fixtures/resources.yaml` (with `resources.toml`) and the example
//! upstream's `/__conformance/*` routes: what is listed, what a read returns and sends upstream, and
//! what `prompts/get` returns, reads and refuses.

use base64::Engine as _;
use mcpgen_tests::{
    HttpServer, Upstream, mcpgen_binary, resources_binary, serve_fixture_args, stdio_client_with,
};
use petstore_upstream::{STATIC_PNG, STATIC_TEXT};
use rmcp::ClientHandler;
use rmcp::model::{
    ClientConfig, ErrorCode, GetPromptRequestParams, GetPromptResult, JsonObject, ProtocolVersion,
    ReadResourceRequestParams, ResourceContents,
};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, RoleClient, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::{Value, json};

/// The upstream credential the server is given (stdio) or the caller sends (HTTP).
const TOKEN: &str = "resource-token";

/// A client of one protocol version.
#[derive(Clone)]
struct Version(ProtocolVersion);

impl ClientHandler for Version {
    fn get_info(&self) -> ClientConfig {
        let mut info = ClientConfig::default();
        info.protocol_version = self.0.clone();
        info
    }
}

type Client<H> = RunningService<RoleClient, H>;

/// The serve arguments of the fixture, with its settings, against `up`.
fn serve_args(up: &Upstream, extra: &[&str]) -> Vec<String> {
    let settings = mcpgen_tests::workspace_root().join("tests/fixtures/resources.toml");
    let mut more = vec!["--config", settings.to_str().expect("a UTF-8 path")];
    more.extend_from_slice(extra);
    let mut args = serve_fixture_args("resources.yaml", up, &more);
    args.extend(["--name".to_owned(), "resources-mcp".to_owned()]);
    args
}

/// A 2025-11-25 client of the fixture served by `mcpgen serve` over stdio, the credential in
/// the environment.
async fn stdio(up: &Upstream, extra: &[&str]) -> Client<Version> {
    let args = serve_args(up, extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    stdio_of(mcpgen_binary(), &args).await
}

/// The same of the crate generated from the fixture.
async fn generated(up: &Upstream) -> Client<Version> {
    let base = format!("http://{}", up.addr());
    stdio_of(resources_binary(), &["--base-url", &base]).await
}

async fn stdio_of(bin: &std::path::Path, args: &[&str]) -> Client<Version> {
    let client = stdio_client_with(
        Version(ProtocolVersion::V_2025_11_25),
        bin,
        args,
        &[("RESOURCES_BEARER_AUTH_TOKEN", TOKEN)],
    )
    .await;
    assert_eq!(
        client.peer_info().map(|i| i.protocol_version.clone()),
        Some(ProtocolVersion::V_2025_11_25)
    );
    client
}

fn args(pairs: &[(&str, &str)]) -> JsonObject {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
        .collect()
}

async fn get<H: ClientHandler>(
    client: &Client<H>,
    name: &str,
    arguments: &[(&str, &str)],
) -> Result<GetPromptResult, rmcp::ServiceError> {
    client
        .get_prompt(GetPromptRequestParams::new(name).with_arguments(args(arguments)))
        .await
}

/// The messages of a prompt as the client received them, as JSON.
fn messages(result: &GetPromptResult) -> Vec<Value> {
    result
        .messages
        .iter()
        .map(|m| {
            let message = serde_json::to_value(m).unwrap();
            assert_eq!(message["role"], "user", "{message}");
            message
        })
        .collect()
}

async fn read<H: ClientHandler>(
    client: &Client<H>,
    uri: &str,
) -> Result<Vec<ResourceContents>, rmcp::ServiceError> {
    client
        .read_resource(ReadResourceRequestParams::new(uri))
        .await
        .map(|r| r.contents)
}

/// The JSON-RPC error of a refused request.
fn rpc_error(error: rmcp::ServiceError) -> rmcp::ErrorData {
    match error {
        rmcp::ServiceError::McpError(e) => e,
        other => panic!("not a JSON-RPC error: {other}"),
    }
}

/// The requests the upstream got for `path`, each with the credential asserted.
fn requests_for(up: &Upstream, path: &str, token: &str) -> usize {
    let seen: Vec<_> = up
        .requests()
        .into_iter()
        .filter(|r| r.path == path)
        .collect();
    for request in &seen {
        assert_eq!(request.method, "GET");
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {token}").as_str()),
            "{path}"
        );
    }
    seen.len()
}

#[tokio::test]
async fn resources_are_listed_and_read_at_the_documents_uris() {
    let up = Upstream::start(0).await.unwrap();
    let client = stdio(&up, &[]).await;

    // Listed whether or not --get-resources is on, with the documented media types.
    let listed: Vec<(String, String, Option<String>)> = client
        .list_all_resources()
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.uri.clone(), r.name.clone(), r.mime_type.clone()))
        .collect();
    let entry = |uri: &str, name: &str, mime: &str| {
        (uri.to_owned(), name.to_owned(), Some(mime.to_owned()))
    };
    assert_eq!(
        listed,
        [
            entry("openapi://spec", "openapi", "application/json"),
            entry("test://static-text", "staticText", "text/plain"),
            entry("test://static-binary", "staticBinary", "image/png"),
            entry("test://account", "getAccount", "application/json"),
        ]
    );
    let templates = client.list_all_resource_templates().await.unwrap();
    let templates: Vec<(&str, &str, Option<&str>)> = templates
        .iter()
        .map(|t| {
            (
                t.uri_template.as_str(),
                t.name.as_str(),
                t.mime_type.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        templates,
        [(
            "test://template/{id}/data",
            "templateData",
            Some("application/json")
        )]
    );

    // Text is text, of the type the upstream sent.
    let text = read(&client, "test://static-text").await.unwrap();
    assert_eq!(
        text,
        [ResourceContents::TextResourceContents {
            uri: "test://static-text".to_owned(),
            mime_type: Some("text/plain".to_owned()),
            text: STATIC_TEXT.to_owned(),
            meta: None,
        }]
    );
    assert_eq!(requests_for(&up, "/__conformance/static-text", TOKEN), 1);

    // An image is a blob of the resource's own URI, and nothing else.
    let image = read(&client, "test://static-binary").await.unwrap();
    assert_eq!(
        image,
        [ResourceContents::BlobResourceContents {
            uri: "test://static-binary".to_owned(),
            mime_type: Some("image/png".to_owned()),
            blob: base64::engine::general_purpose::STANDARD.encode(STATIC_PNG),
            meta: None,
        }]
    );

    // A template's URI calls the operation with the value it holds, percent-decoded.
    let data = read(&client, "test://template/12%203/data").await.unwrap();
    let [
        ResourceContents::TextResourceContents {
            uri,
            mime_type,
            text,
            ..
        },
    ] = data.as_slice()
    else {
        panic!("one text content: {data:?}");
    };
    assert_eq!(uri, "test://template/12%203/data");
    assert_eq!(mime_type.as_deref(), Some("application/json"));
    let answer: Value = serde_json::from_str(text).unwrap();
    assert_eq!(
        answer,
        json!({"id": "12 3", "templateTest": true, "data": "Data for ID: 12 3"})
    );
    assert_eq!(
        requests_for(&up, "/__conformance/template/12%203/data", TOKEN),
        1
    );

    // The settings' resource is read like the document's.
    assert!(read(&client, "test://account").await.is_ok());
    assert_eq!(requests_for(&up, "/__answer/account", TOKEN), 1);

    // No template reads what no resource has: not found, with the URI, and nothing is sent.
    let before = up.requests().len();
    for unknown in [
        "test://nonexistent-resource-for-conformance-testing",
        "test://template/data",
        "test://template/1/2/data",
        "operation://staticText",
    ] {
        let error = rpc_error(read(&client, unknown).await.unwrap_err());
        assert!(
            [ErrorCode::RESOURCE_NOT_FOUND, ErrorCode::INVALID_PARAMS].contains(&error.code),
            "{unknown}: {error:?}"
        );
        assert_eq!(error.data.unwrap()["uri"], unknown);
    }
    assert_eq!(up.requests().len(), before);

    // Completion of the template's argument offers the document's examples.
    let offered = client
        .complete_resource_argument("test://template/{id}/data", "id", "1", None)
        .await
        .unwrap();
    assert_eq!(offered.values, ["123"]);
    client.cancel().await.unwrap();

    // --get-resources adds nothing: every GET here has a URI of its own.
    let client = stdio(&up, &["--get-resources"]).await;
    assert_eq!(client.list_all_resources().await.unwrap().len(), 4);
    assert_eq!(client.list_all_resource_templates().await.unwrap().len(), 1);
    client.cancel().await.unwrap();
}

/// What every client gets from the prompts, whatever its protocol version; `token` is the
/// credential the upstream must see on each read.
async fn check_prompts<H: ClientHandler>(client: &Client<H>, up: &Upstream, token: &str) {
    let names: Vec<String> = client
        .list_all_prompts()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    // The document's, then the settings' (in the order of their names).
    assert_eq!(
        names,
        [
            "test_prompt_with_image",
            "read_the_data",
            "test_prompt_with_arguments",
            "test_prompt_with_embedded_resource",
            "test_simple_prompt",
        ]
    );

    let simple = get(client, "test_simple_prompt", &[]).await.unwrap();
    assert_eq!(simple.description.as_deref(), Some("A simple prompt"));
    assert_eq!(
        messages(&simple),
        [
            json!({"role": "user", "content": {"type": "text", "text": "This is a simple prompt for testing."}})
        ]
    );

    let with_arguments = get(
        client,
        "test_prompt_with_arguments",
        &[("arg1", "one"), ("arg2", "two")],
    )
    .await
    .unwrap();
    assert_eq!(
        messages(&with_arguments)[..],
        [
            json!({"role": "user", "content": {"type": "text", "text": "Prompt with arguments: arg1='one', arg2='two'"}})
        ]
    );

    // An embedded text resource: read as resources/read reads it, before the text.
    let before = requests_for(up, "/__conformance/static-text", token);
    let embedded = get(
        client,
        "test_prompt_with_embedded_resource",
        &[("resourceUri", "test://static-text")],
    )
    .await
    .unwrap();
    assert_eq!(
        messages(&embedded),
        [
            json!({"role": "user", "content": {"type": "resource", "resource": {
                "uri": "test://static-text", "mimeType": "text/plain", "text": STATIC_TEXT
            }}}),
            json!({"role": "user", "content": {"type": "text", "text": "Here is the resource you asked for."}}),
        ]
    );
    assert_eq!(
        requests_for(up, "/__conformance/static-text", token),
        before + 1
    );

    // An image resource is an image.
    let image = get(client, "test_prompt_with_image", &[]).await.unwrap();
    let image = messages(&image);
    assert_eq!(
        image[0]["content"],
        json!({
            "type": "image",
            "data": base64::engine::general_purpose::STANDARD.encode(STATIC_PNG),
            "mimeType": "image/png"
        })
    );
    assert_eq!(
        image[1]["content"]["text"],
        "This is a test prompt with an image."
    );
    assert!(requests_for(up, "/__conformance/static-binary", token) >= 1);

    // Literal resources, a template filled from an argument, then the text and the steps.
    let data = get(client, "read_the_data", &[("id", "7")]).await.unwrap();
    let data = messages(&data);
    assert_eq!(data.len(), 3, "{data:?}");
    assert_eq!(data[0]["content"]["resource"]["uri"], "test://static-text");
    assert_eq!(
        data[1]["content"]["resource"]["uri"],
        "test://template/7/data"
    );
    assert_eq!(
        data[1]["content"]["resource"]["mimeType"],
        "application/json"
    );
    let text = data[2]["content"]["text"].as_str().unwrap();
    assert!(
        text.starts_with(
            "Summarise the data of 7.\n\nSteps:\n1. `templateData` (GET /__conformance/template/{id}/data)"
        ),
        "{text}"
    );
    assert!(text.contains("read 7 again if it changes"), "{text}");
    assert_eq!(requests_for(up, "/__conformance/template/7/data", token), 1);

    // Anything but the server's own resources is refused, naming the URI and what is valid,
    // and nothing is fetched.
    let sent = up.requests().len();
    for foreign in [
        "https://example.com/",
        "file:///etc/passwd",
        "test://nonexistent-resource-for-conformance-testing",
    ] {
        let error = rpc_error(
            get(
                client,
                "test_prompt_with_embedded_resource",
                &[("resourceUri", foreign)],
            )
            .await
            .unwrap_err(),
        );
        assert_eq!(error.code, ErrorCode::INVALID_PARAMS, "{foreign}");
        assert!(
            error
                .message
                .contains(&format!("`{foreign}` is none of them"))
                && error.message.contains("`test://static-text`")
                && error.message.contains("`test://template/{id}/data`"),
            "{}",
            error.message
        );
        assert_eq!(error.data.unwrap()["uri"], foreign);
    }
    assert_eq!(up.requests().len(), sent);

    let missing = rpc_error(
        get(client, "test_prompt_with_arguments", &[("arg1", "one")])
            .await
            .unwrap_err(),
    );
    assert!(
        missing.message.contains("needs the argument `arg2`"),
        "{}",
        missing.message
    );

    // Completion: a URI argument offers the server's resources; others have nothing to offer.
    let offered = client
        .complete_prompt_argument(
            "test_prompt_with_embedded_resource",
            "resourceUri",
            "test://s",
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        offered.values,
        ["test://static-text", "test://static-binary"]
    );
    let offered = client
        .complete_prompt_argument("test_prompt_with_arguments", "arg1", "", None)
        .await
        .unwrap();
    assert!(offered.values.is_empty(), "{offered:?}");
}

#[tokio::test]
async fn prompts_carry_text_and_embed_the_servers_resources_over_stdio() {
    let up = Upstream::start(0).await.unwrap();
    let client = stdio(&up, &[]).await;
    check_prompts(&client, &up, TOKEN).await;
    client.cancel().await.unwrap();
}

/// The generated crate serves them as `mcpgen serve` does.
#[tokio::test]
async fn the_generated_crate_serves_them_alike() {
    let up = Upstream::start(0).await.unwrap();
    let client = generated(&up).await;
    check_prompts(&client, &up, TOKEN).await;
    let image = read(&client, "test://static-binary").await.unwrap();
    assert!(
        matches!(&image[..], [ResourceContents::BlobResourceContents { uri, .. }] if uri == "test://static-binary"),
        "{image:?}"
    );
    client.cancel().await.unwrap();
}

/// Over HTTP, as a 2026-07-28 client, the caller's own credential is what the upstream sees on
/// every read a prompt makes.
#[tokio::test]
async fn prompts_read_resources_with_the_callers_credentials() {
    let up = Upstream::start(0).await.unwrap();
    let args = serve_args(&up, &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // `mcpgen serve SPEC`, then the transport's options, then the rest.
    let (serve, rest) = args.split_at(3);
    let server = HttpServer::start_after(mcpgen_binary(), serve, rest, &[]).await;
    let mut config = StreamableHttpClientTransportConfig::with_uri(server.url.clone());
    config.auth_header = Some("caller-credential".to_owned());
    let client = ()
        .serve_with_lifecycle(
            StreamableHttpClientTransport::from_config(config),
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
    check_prompts(&client, &up, "caller-credential").await;
    client.cancel().await.ok();
    server.stop().await;
}
