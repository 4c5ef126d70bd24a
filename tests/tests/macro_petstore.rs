//! The `#[mcpgen::server]` example (`examples/macro-petstore`), driven by rmcp's client over
//! stdio and streamable HTTP against the example upstream: it must behave as the standalone
//! generated server does (the scenarios of `mcpgen_tests::petstore`, which `petstore.rs` runs
//! against that server), plus its hand-written tool and its own description of `getPetById`.
//! The build-script example (`examples/build-rs`) is checked at the end.

use mcpgen_tests::petstore::{ENV_TOKEN, EXTRA_TOOL, Petstore, TOKEN_VAR, upstream};
use mcpgen_tests::{assert_ok, build_example, call, stdio_at, text};
use serde_json::{Value, json};

const OVERRIDDEN: &str = "getPetById";

mcpgen_tests::petstore_scenarios!(Petstore::Macro);

/// What `tools/list` says of the tools the macro example adds or describes itself.
#[tokio::test]
async fn lists_the_extra_tool_and_its_own_description() {
    let up = upstream().await;
    let client = Petstore::Macro.stdio(&up).await;
    let tools = client.list_all_tools().await.expect("tools/list");
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
    let standalone = Petstore::Standalone.stdio(&up).await;
    let embedded = Petstore::Macro.stdio(&up).await;

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
async fn the_extra_tool_calls_a_generated_tool() {
    let up = upstream().await;
    let client = Petstore::Macro.stdio(&up).await;
    let result = call(&client, EXTRA_TOOL, json!({})).await;
    assert_ok(&result);
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

/// The build-script example serves the document's tools less `deletePet`, each prefixed, and
/// calls reach the upstream as from every other front end.
#[tokio::test]
async fn the_build_script_example_serves_its_selection() {
    let up = upstream().await;
    let client = stdio_at(
        &build_example("build-rs-petstore"),
        &up.base_url(),
        &[],
        &[(TOKEN_VAR, ENV_TOKEN)],
    )
    .await;
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
    assert_ok(&r);
    assert_eq!(up.requests()[0].path, "/v1/pets/1");
    client.cancel().await.ok();
}
