//! Expansions that must compile and work: every option of `#[mcpgen::server]`, hand-written
//! tools of each shape, and the generated items. (Plain tests rather than trybuild pass cases:
//! they build in the workspace's target folder, so trybuild only has to `cargo check`.)

use mcpgen::rmcp::handler::server::ServerHandler;
use serde_json::{Value, json};

#[mcpgen::server(
    spec = "../examples/petstore/openapi.yaml",
    base_url = "https://pets.example.com/v2",
    include_tags = ["pets"],
    include_operations = ["GET /store/inventory"],
    exclude_operations = ["deletePet"],
    tool_prefix = "pets_",
    describe(getPetById = "Look up one pet.", "GET /store/inventory" = "Count pets by status."),
    server_type = "PetServer",
    server_name = "pets-mcp",
    env_prefix = "MY_PETS",
)]
pub mod petstore {
    use serde_json::{Value, json};

    /// A user item beside the generated ones.
    pub const GREETING: &str = "pong";

    /// Answers pong.
    #[mcpgen::extra_tool(read_only, idempotent, title = "Ping")]
    async fn ping(args: Value) -> Result<Value, String> {
        Ok(json!({ "answer": GREETING, "args": args }))
    }

    #[derive(serde::Deserialize)]
    pub struct Shout {
        pub text: String,
    }

    #[mcpgen::extra_tool(
        name = "shout",
        description = "Shouts the text back.",
        input_schema = r#"{"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}"#
    )]
    async fn shout_back(args: Shout, context: mcpgen::ToolContext) -> String {
        let _ = context.headers();
        args.text.to_uppercase()
    }

    /// Fails on purpose.
    #[mcpgen::extra_tool]
    async fn fail(_args: serde_json::Map<String, Value>) -> Result<String, std::io::Error> {
        Err(std::io::Error::other("failed on purpose"))
    }
}

/// The names of the tools a server lists, in order.
fn tool_names(server: &mcpgen::GeneratedServer) -> Vec<String> {
    server.tools().iter().map(|t| t.name.to_string()).collect()
}

#[tokio::test]
async fn every_option_and_every_kind_of_extra_tool() {
    assert_eq!(petstore::API.server_name, "pets-mcp");
    assert_eq!(petstore::API.env_prefix, "MY_PETS");
    assert_eq!(
        petstore::API.default_base_url,
        Some("https://pets.example.com/v2")
    );
    assert_eq!(petstore::GREETING, "pong");

    let server: petstore::PetServer = petstore::PetServer::from_env().expect("the server builds");
    let names = tool_names(server.inner());
    assert_eq!(
        names,
        [
            "pets_listPets",
            "pets_createPet",
            "pets_getPetById",
            "pets_updatePet",
            "pets_get_store_inventory",
            "pets_ping",
            "pets_shout",
            "pets_fail",
        ]
    );
    let get = server.get_tool("pets_getPetById").expect("generated tool");
    assert_eq!(get.description.as_deref(), Some("Look up one pet."));
    let inventory = server
        .get_tool("pets_get_store_inventory")
        .expect("generated tool");
    assert_eq!(
        inventory.description.as_deref(),
        Some("Count pets by status.")
    );
    let ping = server.get_tool("pets_ping").expect("extra tool");
    assert_eq!(ping.description.as_deref(), Some("Answers pong."));
    assert_eq!(ping.title.as_deref(), Some("Ping"));
    assert_eq!(
        ping.annotations.as_ref().and_then(|a| a.read_only_hint),
        Some(true)
    );

    let call = |name: &'static str, args: Value| {
        let server = server.clone();
        async move {
            let Value::Object(args) = args else {
                unreachable!()
            };
            server
                .inner()
                .call(name, Some(args), None)
                .await
                .expect("a known tool")
        }
    };
    let pong = call("pets_ping", json!({"x": 1})).await;
    assert_eq!(
        pong.structured_content,
        Some(json!({"answer": "pong", "args": {"x": 1}}))
    );
    let shout = call("pets_shout", json!({"text": "hi"})).await;
    assert_eq!(
        shout.content[0].as_text().map(|t| t.text.as_str()),
        Some("HI")
    );
    let invalid = call("pets_shout", json!({})).await;
    assert_eq!(invalid.is_error, Some(true), "the input schema is checked");
    let failed = call("pets_fail", json!({})).await;
    assert_eq!(failed.is_error, Some(true));
    assert_eq!(
        failed.content[0].as_text().map(|t| t.text.as_str()),
        Some("failed on purpose")
    );

    // The whole-program and async entry points exist with the documented types.
    let _: fn() -> std::process::ExitCode = petstore::main;
    let _ = petstore::serve_with;
    let _ = petstore::serve;
    assert_eq!(petstore::extra_tools().len(), 3);
}

#[mcpgen::server(spec = "../examples/petstore/openapi.yaml")]
mod minimal {}

/// The smallest use: a spec and nothing else, in a private module.
#[test]
fn a_spec_alone_gives_the_standalone_tools() {
    assert_eq!(minimal::API.tools.len(), 6);
    assert_eq!(minimal::API.server_name, "petstore-mcp");
    let server = minimal::Server::from_env().expect("the document names a server");
    assert_eq!(server.inner().tools().len(), 6);
    assert!(minimal::extra_tools().is_empty());
}

#[mcpgen::server(
    spec = "../examples/petstore/openapi.yaml",
    mode = "mixed",
    include_operations = ["getPetById"],
    exclude_operations = ["deletePet"],
    server_type = "SearchingServer",
)]
pub mod searching {
    /// Answers pong.
    #[mcpgen::extra_tool(read_only)]
    async fn ping(_args: serde_json::Value) -> String {
        "pong".to_owned()
    }
}

#[tokio::test]
async fn the_mode_option_embeds_a_searching_server() {
    assert_eq!(searching::API.mode, mcpgen::ServeMode::Mixed);
    let search_only: Vec<&str> = searching::API
        .tools
        .iter()
        .filter(|t| t.search_only)
        .map(|t| t.name)
        .collect();
    assert_eq!(
        search_only,
        ["listPets", "createPet", "updatePet", "get_store_inventory"],
        "excluded operations are left out altogether"
    );
    let spec: Value = serde_json::from_str(searching::API.openapi.expect("embedded"))
        .expect("the document is JSON");
    assert!(spec["paths"]["/pets/{petId}"]["delete"].is_null());
    assert!(spec["paths"]["/pets/{petId}"]["get"].is_object());

    let server = searching::SearchingServer::from_env().expect("the server builds");
    let names = tool_names(server.inner());
    assert_eq!(
        names,
        [
            "getPetById",
            "search_operations",
            "describe_operation",
            "call_operation",
            "ping"
        ]
    );
    let found = server
        .inner()
        .call(
            "search_operations",
            json!({"query": "inventory"}).as_object().cloned(),
            None,
        )
        .await
        .expect("a tool");
    assert_eq!(
        found.structured_content.unwrap()["operations"][0]["name"],
        "get_store_inventory"
    );
    assert!(server.get_info().capabilities.resources.is_some());
}

#[mcpgen::server(
    spec = ["../tests/fixtures/multi/notes/openapi.yaml", "../examples/petstore/openapi.yaml"],
    namespace = ["pets=../examples/petstore/openapi.yaml"],
    server_type = "JoinedServer",
)]
mod joined {}

/// Several documents: one server of several APIs, each with its namespace, variables and
/// base URL.
#[test]
fn several_documents_make_one_server_of_several_apis() {
    let apis: Vec<(&str, &str, Option<&str>)> = joined::API
        .apis
        .iter()
        .map(|a| (a.name, a.env_prefix, a.default_base_url))
        .collect();
    assert_eq!(
        apis,
        [
            ("notes_desk", "NOTES_DESK", Some("http://127.0.0.1:9")),
            ("pets", "PETS", Some("http://127.0.0.1:8080/v1")),
        ]
    );
    assert_eq!(joined::API.server_name, "notes-desk-pets-mcp");
    assert_eq!(
        joined::API.security_schemes[1].env,
        ["PETS_BEARER_AUTH_TOKEN"]
    );
    let server = joined::JoinedServer::from_env().expect("both documents name a server");
    let names = tool_names(server.inner());
    assert_eq!(names.len(), 7);
    assert!(
        names.contains(&"notes_desk_getNote".to_owned()),
        "{names:?}"
    );
    assert!(names.contains(&"pets_listPets".to_owned()), "{names:?}");
}
