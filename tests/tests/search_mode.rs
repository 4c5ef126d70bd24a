//! Search mode end to end: the generated Petstore server started with `--mode search` offers
//! three tools, and an agent finds, describes and calls an operation through them over stdio,
//! with the same validation, credentials and results as a direct call.

use std::time::Duration;

use mcpgen_tests::{Upstream, assert_ok, call, call_operation, petstore_binary, stdio_at, text};
use serde_json::{Value, json};

const TOKEN: &str = "search-mode-token";

async fn search_client(up: &Upstream) -> mcpgen_tests::Client {
    stdio_at(
        petstore_binary(),
        &up.base_url(),
        &["--mode", "search"],
        &[("PETSTORE_BEARER_AUTH_TOKEN", TOKEN)],
    )
    .await
}

#[tokio::test]
async fn search_describe_and_call_reach_an_operation() {
    let up = Upstream::start(0).await.unwrap();
    let client = search_client(&up).await;

    let instructions = client
        .peer_info()
        .and_then(|i| i.instructions.clone())
        .unwrap_or_default();
    assert!(instructions.contains("search_operations"), "{instructions}");

    let tools = client.list_all_tools().await.expect("tools/list");
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(
        names,
        ["search_operations", "describe_operation", "call_operation"]
    );
    let listed = serde_json::to_string(&tools).unwrap();
    assert!(listed.len() < 3000, "{} bytes", listed.len());

    // Search: the operation that reads one pet comes first, as a short entry.
    let found = call(
        &client,
        "search_operations",
        json!({"query": "get a pet by its id", "limit": 3}),
    )
    .await;
    assert_ok(&found);
    let operations = found.structured_content.as_ref().unwrap()["operations"]
        .as_array()
        .unwrap()
        .clone();
    assert!(operations.len() <= 3);
    assert_eq!(
        operations[0],
        json!({"name": "getPetById", "method": "GET", "path": "/pets/{petId}", "summary": "Get a pet"})
    );
    let deleting = call(
        &client,
        "search_operations",
        json!({"query": "remove a pet"}),
    )
    .await;
    assert_eq!(
        deleting.structured_content.as_ref().unwrap()["operations"][0]["name"],
        "deletePet"
    );

    // Describe: the full input and output schemas.
    let described = call(&client, "describe_operation", json!({"name": "getPetById"})).await;
    assert_ok(&described);
    let described = described.structured_content.unwrap();
    assert_eq!(described["method"], "GET");
    assert_eq!(described["inputSchema"]["required"], json!(["petId"]));
    assert!(
        described["inputSchema"]["properties"]["_fields"].is_object(),
        "field selection is offered: {described}"
    );
    assert_eq!(described["outputSchema"]["type"], "object");
    assert_eq!(described["annotations"]["readOnlyHint"], true);

    // Call: Rex, with the environment's credential, exactly as the direct tool answers.
    let rex = call_operation(&client, "getPetById", json!({"petId": "1"})).await;
    assert_ok(&rex);
    assert_eq!(
        rex.structured_content,
        Some(json!({"id": "1", "name": "Rex", "tag": "dog", "status": "available"}))
    );
    let requests = up.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/v1/pets/1");
    assert_eq!(
        requests[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );

    // Field selection through call_operation (no output schema constrains it there).
    let names = call_operation(&client, "listPets", json!({"_fields": ["name"]})).await;
    assert_ok(&names);
    assert_eq!(
        names.structured_content,
        Some(json!({"result": [{"name": "Rex"}, {"name": "Tom"}, {"name": "Nemo"}]}))
    );
    assert_eq!(
        serde_json::from_str::<Value>(&text(&names)).unwrap(),
        json!([{"name": "Rex"}, {"name": "Tom"}, {"name": "Nemo"}])
    );
    client.cancel().await.ok();
}

#[tokio::test]
async fn bad_calls_through_search_are_tool_errors_without_requests() {
    let up = Upstream::start(0).await.unwrap();
    let client = search_client(&up).await;

    let missing = call_operation(&client, "getPetById", json!({})).await;
    assert_eq!(missing.is_error, Some(true));
    assert!(
        text(&missing).contains("\"petId\" is a required property"),
        "{}",
        text(&missing)
    );
    let wrong = call_operation(&client, "listPets", json!({"limit": "many"})).await;
    assert_eq!(wrong.is_error, Some(true), "{}", text(&wrong));
    let not_object = call_operation(&client, "listPets", json!([1])).await;
    assert_eq!(not_object.is_error, Some(true));

    let unknown = call_operation(&client, "getPet", json!({"petId": "1"})).await;
    assert_eq!(unknown.is_error, Some(true));
    let message = text(&unknown);
    assert!(
        message.contains("No operation is named `getPet`") && message.contains("`getPetById`"),
        "{message}"
    );
    let undescribed = call(&client, "describe_operation", json!({"name": "nope"})).await;
    assert_eq!(undescribed.is_error, Some(true));
    let no_query = call(&client, "search_operations", json!({"limit": 3})).await;
    assert_eq!(no_query.is_error, Some(true));
    let bad_limit = call(
        &client,
        "search_operations",
        json!({"query": "pets", "limit": 500}),
    )
    .await;
    assert_eq!(bad_limit.is_error, Some(true));
    let extra = call(
        &client,
        "search_operations",
        json!({"query": "pets", "page": 2}),
    )
    .await;
    assert_eq!(extra.is_error, Some(true));

    // Operations reached through search are not tools of their own.
    let direct = client
        .call_tool(
            rmcp::model::CallToolRequestParams::new("getPetById").with_arguments(
                json!({"petId": "1"})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            ),
        )
        .await;
    assert!(direct.is_err(), "not listed, so not callable directly");

    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(up.requests().is_empty(), "no request reached the upstream");
    client.cancel().await.ok();
}

#[tokio::test]
async fn upstream_errors_come_back_as_they_do_for_direct_tools() {
    let up = Upstream::start(0).await.unwrap();
    let client = search_client(&up).await;
    let missing = call_operation(&client, "getPetById", json!({"petId": "404"})).await;
    assert_eq!(missing.is_error, Some(true));
    assert!(text(&missing).contains("HTTP 404"), "{}", text(&missing));
    let created = call_operation(&client, "createPet", json!({"name": "Fido"})).await;
    assert_ok(&created);
    assert_eq!(created.structured_content.unwrap()["name"], "Fido");
    client.cancel().await.ok();
}
