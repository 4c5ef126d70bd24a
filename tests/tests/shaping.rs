//! Field selection (`_fields`) on the Petstore's own tools, and the resources the server
//! offers: its API document, and with `--get-resources` the GET operations that need no
//! argument.

use mcpgen_tests::{HttpServer, Upstream, assert_ok, call, petstore_binary, stdio_at, text};
use rmcp::model::{ReadResourceRequestParams, ReadResourceResult, ResourceContents};
use serde_json::{Value, json};

const TOKEN: &str = "shaping-token";

async fn client(up: &Upstream, extra: &[&str]) -> mcpgen_tests::Client {
    stdio_at(
        petstore_binary(),
        &up.base_url(),
        extra,
        &[("PETSTORE_BEARER_AUTH_TOKEN", TOKEN)],
    )
    .await
}

/// The text of a resource read's first contents, which must be JSON.
#[track_caller]
fn json_contents(read: &ReadResourceResult) -> &str {
    let ResourceContents::TextResourceContents {
        text, mime_type, ..
    } = &read.contents[0]
    else {
        panic!("text contents")
    };
    assert_eq!(mime_type.as_deref(), Some("application/json"));
    text
}

fn text_json(result: &rmcp::model::CallToolResult) -> Value {
    let first = result.content[0].as_text().map(|t| t.text.clone());
    serde_json::from_str(&first.unwrap_or_default()).expect("the text is JSON")
}

#[tokio::test]
async fn fields_select_parts_of_json_answers() {
    let up = Upstream::start(0).await.unwrap();
    let client = client(&up, &[]).await;

    let tools = client.list_all_tools().await.unwrap();
    let get = tools.iter().find(|t| t.name == "getPetById").unwrap();
    let fields = &get.input_schema["properties"]["_fields"];
    assert_eq!(
        fields["type"], "array",
        "documented in the schema: {fields}"
    );
    assert!(fields["description"].as_str().unwrap().contains("JSON"));
    let delete = tools.iter().find(|t| t.name == "deletePet").unwrap();
    assert!(
        delete.input_schema["properties"].get("_fields").is_none(),
        "no JSON answer, no field selection"
    );

    // The selection keeps the output schema's required fields: it is the structured result.
    let r = call(
        &client,
        "getPetById",
        json!({"petId": "1", "_fields": ["id", "name"]}),
    )
    .await;
    assert_ok(&r);
    assert_eq!(text_json(&r), json!({"id": "1", "name": "Rex"}));
    assert_eq!(
        r.structured_content,
        Some(json!({"id": "1", "name": "Rex"}))
    );

    // A selection without a required field is what the model reads; the structured result
    // stays whole, because strict clients check it against the output schema.
    let r = call(
        &client,
        "getPetById",
        json!({"petId": "1", "_fields": ["tag"]}),
    )
    .await;
    assert_eq!(text_json(&r), json!({"tag": "dog"}));
    assert_eq!(r.structured_content.as_ref().unwrap()["name"], "Rex");

    // Lists: a name applies to each element; JSON pointers and `result.` work too.
    let r = call(&client, "listPets", json!({"_fields": ["name"]})).await;
    assert_eq!(
        text_json(&r),
        json!([{"name": "Rex"}, {"name": "Tom"}, {"name": "Nemo"}])
    );
    let r = call(&client, "listPets", json!({"_fields": ["/1/name"]})).await;
    assert_eq!(text_json(&r), json!([{"name": "Tom"}]));
    let r = call(&client, "listPets", json!({"_fields": ["result.status"]})).await;
    assert_eq!(
        text_json(&r),
        json!([{"status": "available"}, {"status": "pending"}, {"status": "sold"}])
    );

    // A field that matches nothing is named, with the fields there are.
    let r = call(
        &client,
        "getPetById",
        json!({"petId": "1", "_fields": ["name", "colour"]}),
    )
    .await;
    assert_eq!(r.is_error, Some(false));
    assert_eq!(text_json(&r), json!({"name": "Rex"}));
    let note = text(&r);
    assert!(
        note.contains("`colour`") && note.contains("`status`"),
        "{note}"
    );

    // A bad selection is refused before any request.
    up.clear();
    let r = call(&client, "getPetById", json!({"petId": "1", "_fields": [5]})).await;
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("_fields"), "{}", text(&r));
    let r = call(&client, "getPetById", json!({"petId": "1", "_fields": []})).await;
    assert_eq!(r.is_error, Some(true));
    assert!(up.requests().is_empty());
    client.cancel().await.ok();
}

#[tokio::test]
async fn field_selection_can_be_turned_off() {
    let up = Upstream::start(0).await.unwrap();
    let client = client(&up, &["--no-field-selection"]).await;
    let tools = client.list_all_tools().await.unwrap();
    assert!(
        tools
            .iter()
            .all(|t| t.input_schema["properties"].get("_fields").is_none())
    );
    let r = call(
        &client,
        "getPetById",
        json!({"petId": "1", "_fields": ["name"]}),
    )
    .await;
    assert_eq!(r.is_error, Some(true), "an unknown argument again");
    client.cancel().await.ok();
}

#[tokio::test]
async fn the_api_document_is_a_resource() {
    let up = Upstream::start(0).await.unwrap();
    let client = client(&up, &[]).await;
    let capabilities = &client.peer_info().unwrap().capabilities;
    assert!(capabilities.resources.is_some());

    let resources = client.list_all_resources().await.expect("resources/list");
    let uris: Vec<&str> = resources.iter().map(|r| r.uri.as_str()).collect();
    assert_eq!(uris, ["openapi://spec"]);
    assert_eq!(resources[0].mime_type.as_deref(), Some("application/json"));

    let read = client
        .read_resource(ReadResourceRequestParams::new("openapi://spec"))
        .await
        .expect("resources/read");
    let text = json_contents(&read);
    let doc: Value = serde_json::from_str(text).expect("the document is JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/pets/{petId}"]["get"].is_object());
    assert!(doc["components"]["schemas"]["Pet"].is_object());

    let missing = client
        .read_resource(ReadResourceRequestParams::new("operation://listPets"))
        .await;
    assert!(missing.is_err(), "GET resources are off by default");
    client.cancel().await.ok();
}

#[tokio::test]
async fn get_operations_without_arguments_are_resources_on_request() {
    let up = Upstream::start(0).await.unwrap();
    // Over HTTP, so that the caller's own credential is used for the read.
    let server = HttpServer::start(
        petstore_binary(),
        &["--base-url", &up.base_url(), "--get-resources"],
        &[],
    )
    .await;
    let client = server.client(Some("caller-token")).await;
    let resources = client.list_all_resources().await.unwrap();
    let uris: Vec<&str> = resources.iter().map(|r| r.uri.as_str()).collect();
    assert_eq!(
        uris,
        [
            "openapi://spec",
            "operation://listPets",
            "operation://get_store_inventory"
        ],
        "getPetById needs an argument"
    );
    let read = client
        .read_resource(ReadResourceRequestParams::new(
            "operation://get_store_inventory",
        ))
        .await
        .expect("reads the inventory");
    let text = json_contents(&read);
    assert_eq!(
        serde_json::from_str::<Value>(text).unwrap(),
        json!({"available": 1, "pending": 1, "sold": 1})
    );
    let requests = up.requests();
    assert_eq!(requests.last().unwrap().path, "/v1/store/inventory");
    assert_eq!(
        requests.last().unwrap().header("authorization"),
        Some("Bearer caller-token")
    );

    // A GET operation whose required arguments are path parameters is a resource template;
    // a filled-in URI reads the operation's answer, and completion offers the document's
    // example values.
    let templates = client.list_all_resource_templates().await.unwrap();
    let listed: Vec<&str> = templates.iter().map(|t| t.uri_template.as_str()).collect();
    assert_eq!(listed, ["petstore://pets/{petId}"]);
    let read = client
        .read_resource(ReadResourceRequestParams::new("petstore://pets/2"))
        .await
        .expect("reads a pet through its template");
    let pet: Value = serde_json::from_str(json_contents(&read)).unwrap();
    assert_eq!(pet["name"], "Tom");
    assert_eq!(up.requests().last().unwrap().path, "/v1/pets/2");
    let missing = client
        .read_resource(ReadResourceRequestParams::new("petstore://pets/2/owner"))
        .await
        .unwrap_err();
    assert!(
        missing.to_string().contains("no resource has the URI"),
        "{missing}"
    );
    let offered = client
        .complete_resource_argument("petstore://pets/{petId}", "petId", "", None)
        .await
        .unwrap();
    // The listed schema keeps one example (schemas are compacted to one).
    assert_eq!(offered.values, ["1"]);
    let offered = client
        .complete_resource_argument("petstore://pets/{petId}", "petId", "2", None)
        .await
        .unwrap();
    assert!(offered.values.is_empty(), "{:?}", offered.values);

    // An upstream refusal is an error of the read.
    let anonymous = server.client(None).await;
    let refused = anonymous
        .read_resource(ReadResourceRequestParams::new("operation://listPets"))
        .await;
    let message = format!("{:?}", refused.expect_err("401 upstream"));
    assert!(message.contains("401"), "{message}");
    client.cancel().await.ok();
    anonymous.cancel().await.ok();
    server.stop().await;
}
