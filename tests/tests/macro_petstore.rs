//! The `#[mcpgen::server]` example (`examples/macro-petstore`), driven by rmcp's client over
//! stdio and streamable HTTP against the example upstream: it must behave as the standalone
//! generated server does, plus its hand-written tool and its own description of `getPetById`.
//! The build-script example (`examples/build-rs`) is checked at the end.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use mcpgen_tests::{HttpServer, Upstream, call, petstore_binary, stdio_client, text};
use serde_json::{Value, json};

const ENV_TOKEN: &str = "env-secret-token";
const EXTRA_TOOL: &str = "count_pets_by_tag";
const OVERRIDDEN: &str = "getPetById";

/// Builds an example binary with the cargo running the tests, in the workspace's own target
/// folder, and returns the executable cargo reports.
fn build_example(package: &str) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = std::process::Command::new(cargo)
        .args([
            "build",
            "-p",
            package,
            "--bin",
            package,
            "--message-format=json",
        ])
        .current_dir(mcpgen_tests::workspace_root())
        .env("CARGO_TERM_COLOR", "never")
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "building {package} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == package)
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .expect("cargo reports the example's executable")
}

/// The attribute example, built once per process.
fn macro_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| build_example("macro-petstore"))
}

async fn upstream() -> Upstream {
    Upstream::start(0).await.expect("upstream starts")
}

async fn stdio(bin: &Path, up: &Upstream) -> mcpgen_tests::Client {
    stdio_client(
        bin,
        &["--base-url", &up.base_url()],
        &[("PETSTORE_BEARER_AUTH_TOKEN", ENV_TOKEN)],
    )
    .await
}

#[tokio::test]
async fn lists_the_standalone_tools_plus_the_extra_one() {
    let up = upstream().await;
    let client = stdio(macro_binary(), &up).await;
    let info = client.peer_info().expect("server info");
    assert_eq!(
        info.server_info.as_ref().map(|i| i.name.as_str()),
        Some("petstore-mcp")
    );
    let tools = client.list_all_tools().await.expect("tools/list");
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(
        names,
        [
            "listPets",
            "createPet",
            "getPetById",
            "updatePet",
            "deletePet",
            "get_store_inventory",
            EXTRA_TOOL,
        ]
    );
    let get = tools.iter().find(|t| t.name == OVERRIDDEN).unwrap();
    assert_eq!(
        get.description.as_deref(),
        Some("Look up one pet by its id. Fails with HTTP 404 when no pet has it.")
    );
    let extra = tools.iter().find(|t| t.name == EXTRA_TOOL).unwrap();
    assert!(
        extra
            .description
            .as_deref()
            .unwrap_or_default()
            .starts_with("Counts the store's pets by tag."),
        "the doc comment is the description: {:?}",
        extra.description
    );
    assert_eq!(extra.input_schema["properties"]["limit"]["maximum"], 100);
    let annotations = extra.annotations.as_ref().expect("hints were given");
    assert_eq!(annotations.read_only_hint, Some(true));
    client.cancel().await.ok();
}

/// tools/list of the macro server is the standalone server's, but for the extra tool and the
/// one overridden description: same generator, same runtime.
#[tokio::test]
async fn tools_match_the_standalone_server() {
    let up = upstream().await;
    let standalone = stdio(petstore_binary(), &up).await;
    let embedded = stdio(macro_binary(), &up).await;

    let as_json = |tools: Vec<rmcp::model::Tool>| -> Vec<Value> {
        tools
            .into_iter()
            .map(|t| serde_json::to_value(t).expect("tools serialize"))
            .collect()
    };
    let expected = as_json(standalone.list_all_tools().await.expect("tools/list"));
    let mut got = as_json(embedded.list_all_tools().await.expect("tools/list"));
    let extra = got.pop().expect("the extra tool is listed last");
    assert_eq!(extra["name"], EXTRA_TOOL);
    assert_eq!(got.len(), expected.len());
    for (got, expected) in got.iter_mut().zip(&expected) {
        if got["name"] == OVERRIDDEN {
            assert_ne!(got["description"], expected["description"]);
            got["description"] = expected["description"].clone();
        }
        assert_eq!(got, expected);
    }

    let standalone_info = standalone.peer_info().expect("server info");
    let embedded_info = embedded.peer_info().expect("server info");
    assert_eq!(standalone_info.instructions, embedded_info.instructions);
    assert_eq!(
        standalone_info.server_info.as_ref().map(|i| &i.name),
        embedded_info.server_info.as_ref().map(|i| &i.name)
    );
    standalone.cancel().await.ok();
    embedded.cancel().await.ok();
}

#[tokio::test]
async fn calls_reach_the_upstream_with_the_environment_credential() {
    let up = upstream().await;
    let client = stdio(macro_binary(), &up).await;
    let result = call(&client, "getPetById", json!({"petId": "1"})).await;
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    assert_eq!(
        result.structured_content,
        Some(json!({"id": "1", "name": "Rex", "tag": "dog", "status": "available"}))
    );
    let created = call(&client, "createPet", json!({"name": "Fido", "tag": "dog"})).await;
    assert_eq!(created.is_error, Some(false), "{}", text(&created));

    let requests = up.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        (requests[0].method.as_str(), requests[0].path.as_str()),
        ("GET", "/v1/pets/1")
    );
    let body: Value = serde_json::from_slice(&requests[1].body).unwrap();
    assert_eq!(body, json!({"name": "Fido", "tag": "dog"}));
    for request in &requests {
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {ENV_TOKEN}").as_str())
        );
    }
    client.cancel().await.ok();
}

#[tokio::test]
async fn upstream_404_is_a_tool_error() {
    let up = upstream().await;
    let client = stdio(macro_binary(), &up).await;
    let result = call(&client, "getPetById", json!({"petId": "404"})).await;
    assert_eq!(result.is_error, Some(true));
    let message = text(&result);
    assert!(message.contains("HTTP 404"), "{message}");
    assert!(message.contains("pet 404 not found"), "{message}");
    assert!(result.structured_content.is_none());

    let invalid = call(&client, "getPetById", json!({})).await;
    assert_eq!(invalid.is_error, Some(true), "arguments are validated");
    assert_eq!(up.requests().len(), 1, "the invalid call sends nothing");
    client.cancel().await.ok();
}

#[tokio::test]
async fn the_extra_tool_calls_a_generated_tool() {
    let up = upstream().await;
    let client = stdio(macro_binary(), &up).await;
    let result = call(&client, EXTRA_TOOL, json!({})).await;
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    assert_eq!(
        result.structured_content,
        Some(json!({"total": 3, "by_tag": {"cat": 1, "dog": 1, "untagged": 1}}))
    );
    let requests = up.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/v1/pets");

    let too_many = call(&client, EXTRA_TOOL, json!({"limit": 1000})).await;
    assert_eq!(too_many.is_error, Some(true), "its input schema is checked");
    assert!(text(&too_many).contains("`limit`"), "{}", text(&too_many));
    let unknown = call(&client, EXTRA_TOOL, json!({"tag": "dog"})).await;
    assert_eq!(unknown.is_error, Some(true));
    assert_eq!(up.requests().len(), 1, "refused calls send nothing");
    client.cancel().await.ok();
}

#[tokio::test]
async fn http_passes_the_callers_credential_through_generated_and_extra_tools() {
    let up = upstream().await;
    let server = HttpServer::start(
        macro_binary(),
        &["--base-url", &up.base_url()],
        &[("PETSTORE_BEARER_AUTH_TOKEN", ENV_TOKEN)],
    )
    .await;
    let client = server.client(Some("caller-token")).await;
    let tools = client.list_all_tools().await.expect("tools/list over HTTP");
    assert_eq!(tools.len(), 7);
    let r = call(&client, "getPetById", json!({"petId": "2"})).await;
    assert_eq!(r.is_error, Some(false), "{}", text(&r));
    assert_eq!(r.structured_content.as_ref().unwrap()["name"], "Tom");
    let r = call(&client, "getPetById", json!({"petId": "nope"})).await;
    assert_eq!(r.is_error, Some(true));
    let r = call(&client, EXTRA_TOOL, json!({"limit": 2})).await;
    assert_eq!(r.is_error, Some(false), "{}", text(&r));
    assert_eq!(r.structured_content.as_ref().unwrap()["total"], 2);

    let requests = up.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[2].query.as_deref(), Some("limit=2"));
    for request in &requests {
        assert_eq!(request.header("authorization"), Some("Bearer caller-token"));
        assert!(
            request
                .headers
                .iter()
                .all(|(name, _)| !name.starts_with("mcp-")),
            "MCP headers must not be forwarded: {:?}",
            request.headers
        );
    }
    client.cancel().await.ok();

    // Without a caller credential the environment's is used, by the extra tool too.
    let anonymous = server.client(None).await;
    up.clear();
    let r = call(&anonymous, EXTRA_TOOL, json!({})).await;
    assert_eq!(r.is_error, Some(false), "{}", text(&r));
    assert_eq!(
        up.requests()[0].header("authorization"),
        Some(format!("Bearer {ENV_TOKEN}").as_str())
    );
    anonymous.cancel().await.ok();

    let logs = server.stderr.lock().unwrap().clone();
    assert!(
        !logs.contains("caller-token") && !logs.contains(ENV_TOKEN),
        "{logs}"
    );
    let status = server.stop().await;
    assert!(
        status.success(),
        "SIGTERM ends the server cleanly: {status:?}"
    );
}

#[tokio::test]
async fn http_no_passthrough_uses_only_the_environment() {
    let up = upstream().await;
    let server = HttpServer::start(
        macro_binary(),
        &["--base-url", &up.base_url(), "--no-passthrough"],
        &[("PETSTORE_BEARER_AUTH_TOKEN", ENV_TOKEN)],
    )
    .await;
    let client = server.client(Some("caller-token")).await;
    let r = call(&client, EXTRA_TOOL, json!({})).await;
    assert_eq!(r.is_error, Some(false), "{}", text(&r));
    assert_eq!(
        up.requests()[0].header("authorization"),
        Some(format!("Bearer {ENV_TOKEN}").as_str())
    );
    client.cancel().await.ok();
    server.stop().await;
}

/// The build-script example serves the document's tools less `deletePet`, each prefixed, and
/// calls reach the upstream as from every other front end.
#[tokio::test]
async fn the_build_script_example_serves_its_selection() {
    let up = upstream().await;
    let client = stdio(&build_example("build-rs-petstore"), &up).await;
    let tools = client.list_all_tools().await.expect("tools/list");
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(
        names,
        [
            "petstore_listPets",
            "petstore_createPet",
            "petstore_getPetById",
            "petstore_updatePet",
            "petstore_get_store_inventory",
        ]
    );
    let r = call(&client, "petstore_getPetById", json!({"petId": "1"})).await;
    assert_eq!(r.is_error, Some(false), "{}", text(&r));
    assert_eq!(up.requests()[0].path, "/v1/pets/1");
    client.cancel().await.ok();
}
