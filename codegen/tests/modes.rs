//! What the generator records for the runtime's large-API features: the mode and the
//! search-only operations, tags, the embedded document, and OAuth 2.0 client-credentials
//! schemes with the scopes each operation asks for.

use std::path::{Path, PathBuf};

use mcpgen_codegen::spec::SchemeKind;
use mcpgen_codegen::{Mode, Settings, generate_crate, map_document};
use serde_json::Value;

fn oauth_spec() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/oauth.yaml")
}

fn petstore() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/petstore/openapi.yaml")
}

#[test]
fn client_credentials_schemes_carry_their_token_url_and_scopes() {
    let mapped = map_document(&oauth_spec(), &Settings::new()).unwrap();
    let scheme = &mapped.api.schemes[0];
    assert_eq!(
        scheme.kind,
        SchemeKind::OAuth2ClientCredentials {
            token_url: "/oauth/token".into(),
            scopes: vec!["pets:read".into(), "pets:write".into()],
        }
    );
    assert_eq!(
        scheme.env,
        [
            "OAUTH_PETS_PET_AUTH_TOKEN",
            "OAUTH_PETS_PET_AUTH_CLIENT_ID",
            "OAUTH_PETS_PET_AUTH_CLIENT_SECRET"
        ]
    );
    let scopes = |name: &str| {
        mapped
            .api
            .tools
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.plan.oauth_scopes.clone())
            .unwrap()
    };
    assert_eq!(scopes("listPets"), ["pets:read"], "the document's default");
    assert_eq!(scopes("createPet"), ["pets:write"], "the operation's own");

    let generated = generate_crate(&oauth_spec(), &Settings::new()).unwrap();
    let tools = generated.file("src/tools.rs").unwrap();
    assert!(
        tools.contains("OAuth2ClientCredentials {")
            && tools.contains(r#"token_url: "/oauth/token""#),
        "emitted"
    );
    assert!(tools.contains(r#"oauth_scopes: &["pets:write"]"#));
    let readme = generated.file("README.md").unwrap();
    assert!(readme.contains("OAUTH_PETS_PET_AUTH_CLIENT_SECRET"));
}

#[test]
fn oauth2_without_client_credentials_stays_a_bearer_token() {
    let dir = std::env::temp_dir().join(format!("mcpgen-modes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let spec = dir.join("code.yaml");
    std::fs::write(
        &spec,
        r#"openapi: 3.1.0
info: {title: T, version: "1"}
paths:
  /x: {get: {operationId: x, security: [{code: [a]}], responses: {"200": {description: ok}}}}
components:
  securitySchemes:
    code:
      type: oauth2
      flows: {authorizationCode: {authorizationUrl: https://a/auth, tokenUrl: https://a/token, scopes: {a: A}}}
"#,
    )
    .unwrap();
    let mapped = map_document(&spec, &Settings::new()).unwrap();
    assert_eq!(mapped.api.schemes[0].kind, SchemeKind::Bearer);
    assert!(mapped.api.tools[0].plan.oauth_scopes.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn modes_and_the_embedded_document() {
    let tools_mode = map_document(&petstore(), &Settings::new()).unwrap();
    assert_eq!(tools_mode.api.mode, Mode::Tools);
    assert!(tools_mode.api.tools.iter().all(|t| !t.search_only));
    assert_eq!(tools_mode.api.tools[0].tags, ["pets"]);
    let doc: Value = serde_json::from_str(tools_mode.api.openapi.as_deref().unwrap()).unwrap();
    assert_eq!(doc["paths"].as_object().unwrap().len(), 3);

    let search = map_document(
        &petstore(),
        &Settings::new()
            .mode(Mode::Search)
            .exclude_operations(["deletePet"]),
    )
    .unwrap();
    assert_eq!(search.api.mode, Mode::Search);
    assert_eq!(search.api.tools.len(), 5);
    let doc: Value = serde_json::from_str(search.api.openapi.as_deref().unwrap()).unwrap();
    assert!(doc["paths"]["/pets/{petId}"]["delete"].is_null());
    assert!(doc["paths"]["/pets/{petId}"]["put"].is_object());

    let mixed = map_document(
        &petstore(),
        &Settings::new()
            .mode(Mode::Mixed)
            .include_operations(["GET /store/inventory", "getPetById"]),
    )
    .unwrap();
    let order: Vec<(&str, bool)> = mixed
        .api
        .tools
        .iter()
        .map(|t| (t.name.as_str(), t.search_only))
        .collect();
    assert_eq!(
        order,
        [
            ("getPetById", false),
            ("get_store_inventory", false),
            ("listPets", true),
            ("createPet", true),
            ("updatePet", true),
            ("deletePet", true)
        ],
        "the tools of their own first, in document order, then the rest"
    );

    let bare = map_document(&petstore(), &Settings::new().embed_openapi(false)).unwrap();
    assert!(bare.api.openapi.is_none());
}

#[test]
fn a_tool_of_its_own_cannot_take_a_search_tool_name() {
    let dir = std::env::temp_dir().join(format!("mcpgen-modes-clash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let spec = dir.join("clash.yaml");
    std::fs::write(
        &spec,
        r#"openapi: 3.1.0
info: {title: T, version: "1"}
paths:
  /search: {get: {operationId: search_operations, responses: {"200": {description: ok}}}}
  /other: {get: {operationId: other, responses: {"200": {description: ok}}}}
"#,
    )
    .unwrap();
    let err = map_document(
        &spec,
        &Settings::new()
            .mode(Mode::Mixed)
            .include_operations(["search_operations"]),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("has the name of a search tool"), "{err}");
    // In search mode the operation is reached through search, under its own name.
    assert!(map_document(&spec, &Settings::new().mode(Mode::Search)).is_ok());
    let _ = std::fs::remove_dir_all(&dir);
}
