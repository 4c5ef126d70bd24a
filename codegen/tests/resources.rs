//! Resources at URIs of the document's choosing (`x-mcpgen: {resource: ...}`, the settings'
//! `[resources]`) and prompts of text and embedded resources: what the mapping holds, and the
//! located errors for everything a server could not read back.

use std::path::{Path, PathBuf};

use mcpgen_codegen::spec::{PromptPart, ResourceSpec};
use mcpgen_codegen::{ApiDocument, Settings, map_document, map_documents};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// The fixture the end-to-end tests serve, with its settings file.
fn fixture_settings() -> Settings {
    mcpgen_codegen::config::apply_file(
        &root().join("tests/fixtures/resources.toml"),
        Settings::new(),
    )
    .unwrap()
}

/// A document of `paths` (YAML, indented for the `paths:` map) and `root_extension` (YAML
/// under the root `x-mcpgen`), written to a file of its own.
fn document(name: &str, paths: &str, root_extension: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mcpgen-resources-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.yaml"));
    let mut text =
        format!("openapi: 3.1.0\ninfo: {{title: {name}, version: '1'}}\npaths:\n{paths}");
    if !root_extension.is_empty() {
        text.push_str(&format!("x-mcpgen:\n{root_extension}"));
    }
    std::fs::write(&path, text).unwrap();
    path
}

/// `GET /static` (no argument) and `GET /items/{id}`, with the `x-mcpgen` members given
/// (`{}` for none).
fn two_gets(on_static: &str, on_item: &str) -> String {
    format!(
        "  /static:
    get:
      operationId: getStatic
      x-mcpgen: {on_static}
      responses: {{'200': {{description: ok, content: {{text/markdown: {{schema: {{type: string}}}}}}}}}}
  /items/{{id}}:
    get:
      operationId: getItem
      x-mcpgen: {on_item}
      parameters: [{{name: id, in: path, required: true, schema: {{type: string}}}}]
      responses: {{'200': {{description: ok}}}}
    post:
      operationId: makeItem
      parameters: [{{name: id, in: path, required: true, schema: {{type: string}}}}]
      responses: {{'201': {{description: made}}}}
"
    )
}

fn error(spec: &Path, settings: &Settings) -> String {
    map_document(spec, settings).unwrap_err().to_string()
}

#[test]
fn the_fixture_maps_to_resources_and_prompts() {
    let spec = root().join("tests/fixtures/resources.yaml");
    let mapped = map_document(&spec, &fixture_settings()).unwrap();
    let resources: Vec<(&str, Option<&ResourceSpec>)> = mapped
        .api
        .tools
        .iter()
        .map(|t| (t.name.as_str(), t.resource.as_ref()))
        .collect();
    let resource = |uri: &str, mime: &str| ResourceSpec {
        uri: uri.to_owned(),
        mime_type: Some(mime.to_owned()),
    };
    assert_eq!(
        resources,
        [
            (
                "staticText",
                Some(&resource("test://static-text", "text/plain"))
            ),
            (
                "staticBinary",
                Some(&resource("test://static-binary", "image/png"))
            ),
            (
                "templateData",
                Some(&resource("test://template/{id}/data", "application/json"))
            ),
            (
                "getAccount",
                Some(&resource("test://account", "application/json"))
            ),
        ]
    );
    let prompt = |name: &str| {
        mapped
            .api
            .prompts
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    assert_eq!(
        prompt("test_simple_prompt").parts,
        [PromptPart::Text(
            "This is a simple prompt for testing.".into()
        )]
    );
    assert!(prompt("test_simple_prompt").resources.is_empty());
    assert_eq!(
        prompt("test_prompt_with_embedded_resource").resources,
        [vec![PromptPart::Argument("resourceUri".into())]]
    );
    let read = prompt("read_the_data");
    assert_eq!(
        read.resources,
        [
            vec![PromptPart::Text("test://static-text".into())],
            vec![
                PromptPart::Text("test://template/".into()),
                PromptPart::Argument("id".into()),
                PromptPart::Text("/data".into()),
            ],
        ]
    );
    assert_eq!(
        read.parts[..3],
        [
            PromptPart::Text("Summarise the data of ".into()),
            PromptPart::Argument("id".into()),
            PromptPart::Text(".\n\nSteps:\n1. ".into()),
        ]
    );
}

#[test]
fn uris_that_cannot_be_read_back_are_located_errors() {
    let at_static = "/paths/~1static/get/x-mcpgen/resource";
    let at_item = "/paths/~1items~1{id}/get/x-mcpgen/resource";
    for (name, on_static, on_item, pointer, says) in [
        (
            "no-scheme",
            "{resource: static}",
            "{}",
            at_static,
            "`static` has no scheme: a resource URI starts with one",
        ),
        (
            "not-exactly-the-path",
            "{}",
            "{resource: 'docs://items/{itemId}'}",
            at_item,
            "`{itemId}` in `docs://items/{itemId}` is not a path parameter of GET /items/{id}: \
             a template's variables are exactly its path parameters, `{id}`",
        ),
        (
            "needs-a-template",
            "{}",
            "{resource: 'docs://items'}",
            at_item,
            "`docs://items` is one resource, but GET /items/{id} needs its path parameters: \
             make it a template with `{id}`",
        ),
        (
            "template-reads-the-uri",
            "{resource: 'docs://items/static'}",
            "{resource: 'docs://items/{id}'}",
            at_item,
            "`docs://items/{id}` and the resource `docs://items/static` of `getStatic` (GET \
             /static) can match the same URI",
        ),
        (
            "reserved-scheme",
            "{resource: 'openapi://static'}",
            "{}",
            at_static,
            "the scheme `openapi:` is the server's own",
        ),
    ] {
        let spec = document(name, &two_gets(on_static, on_item), "");
        let err = error(&spec, &Settings::new());
        let line = if pointer == at_static { 7 } else { 12 };
        assert!(
            err.contains(&format!("{name}.yaml:{line}: {pointer}: {says}")),
            "{name}: {err}"
        );
    }

    // One URI, one operation.
    let same = document(
        "same-uri",
        "  /a:
    get:
      x-mcpgen: {resource: 'docs://x'}
      responses: {'200': {description: ok}}
  /b:
    get:
      x-mcpgen: {resource: 'docs://x'}
      responses: {'200': {description: ok}}
",
        "",
    );
    let err = error(&same, &Settings::new());
    assert!(
        err.contains(
            "same-uri.yaml:10: /paths/~1b/get/x-mcpgen/resource: `docs://x` is already the \
             resource of `get_a` (GET /a): a URI reads one operation"
        ),
        "{err}"
    );

    // Only a GET is a resource; a path item cannot give all its operations one URI.
    let post = document(
        "post",
        "  /items:
    post:
      operationId: makeItem
      x-mcpgen: {resource: 'docs://items'}
      responses: {'201': {description: made}}
",
        "",
    );
    let err = error(&post, &Settings::new());
    assert!(
        err.contains(
            "post.yaml:7: /paths/~1items/post/x-mcpgen/resource: `resource` is for GET \
             operations, which only read, and this is POST /items"
        ),
        "{err}"
    );
    let on_item = document(
        "on-path-item",
        "  /items:
    x-mcpgen: {resource: 'docs://items'}
    get:
      responses: {'200': {description: ok}}
",
        "",
    );
    let err = error(&on_item, &Settings::new());
    assert!(
        err.contains("on-path-item.yaml:5: /paths/~1items/x-mcpgen/resource: a resource URI names one operation"),
        "{err}"
    );
}

#[test]
fn the_settings_name_resources_too_and_win() {
    let spec = document(
        "settings",
        &two_gets("{resource: 'docs://static'}", "{}"),
        "",
    );
    let settings = Settings::new()
        .resource("getStatic", "docs://readme")
        .resource("GET /items/{id}", "docs://items/{id}");
    let mapped = map_document(&spec, &settings).unwrap();
    let uris: Vec<Option<&str>> = mapped
        .api
        .tools
        .iter()
        .map(|t| t.resource.as_ref().map(|r| r.uri.as_str()))
        .collect();
    assert_eq!(
        uris,
        [Some("docs://readme"), Some("docs://items/{id}"), None]
    );
    assert_eq!(
        mapped.api.tools[0]
            .resource
            .as_ref()
            .unwrap()
            .mime_type
            .as_deref(),
        Some("text/markdown")
    );
    assert_eq!(
        mapped.api.tools[1].resource.as_ref().unwrap().mime_type,
        None
    );

    let err = error(&spec, &Settings::new().resource("makeItem", "docs://new"));
    assert!(
        err.contains("resources: `makeItem`: `resource` is for GET operations"),
        "{err}"
    );
    let err = error(&spec, &Settings::new().resource("getNothing", "docs://new"));
    assert!(
        err.contains("resources: no operation is named `getNothing`"),
        "{err}"
    );

    // A settings file's URI is checked where it is written.
    let dir = spec.parent().unwrap();
    let file = dir.join("bad-resources.toml");
    std::fs::write(&file, "[resources]\ngetStatic = \"readme\"\n").unwrap();
    let err = mcpgen_codegen::config::apply_file(&file, Settings::new())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "bad-resources.toml:1: /resources: `resources.getStatic`: `readme` has no scheme"
        ),
        "{err}"
    );
}

#[test]
fn prompts_embed_only_the_servers_own_resources() {
    let spec = document(
        "prompt-elsewhere",
        &two_gets(
            "{resource: 'docs://static'}",
            "{resource: 'docs://items/{id}'}",
        ),
        "  prompts:
    fetch:
      text: Read this.
      resources: ['https://example.com/secrets']
",
    );
    let err = error(&spec, &Settings::new());
    assert!(
        err.contains(
            "prompt-elsewhere.yaml:21: /x-mcpgen/prompts/fetch: `https://example.com/secrets` \
             is not a resource of this server (a prompt embeds only the server's own); its \
             resources are `openapi://spec`, `docs://static` and its resource templates \
             `docs://items/{id}`"
        ),
        "{err}"
    );
    let fine = Settings::new().embed_openapi(false);
    let spec = document(
        "prompt-own",
        &two_gets(
            "{resource: 'docs://static'}",
            "{resource: 'docs://items/{id}'}",
        ),
        "  prompts:
    fetch:
      arguments: {id: Which item}
      resources: ['docs://static', 'docs://items/7', 'docs://items/{id}', '{id}']
",
    );
    let mapped = map_document(&spec, &fine).unwrap();
    assert_eq!(mapped.api.prompts[0].resources.len(), 4);
    // Without the embedded document, `openapi://spec` is no resource.
    let settings = fine.clone();
    let spec = document(
        "prompt-spec",
        &two_gets("{}", "{}"),
        "  prompts:
    fetch:
      resources: ['openapi://spec']
",
    );
    let err = error(&spec, &settings);
    assert!(err.contains("this server has none"), "{err}");
    assert!(map_document(&spec, &Settings::new()).is_ok());
}

#[test]
fn two_documents_cannot_share_a_uri() {
    let first = document("first", &two_gets("{resource: 'docs://static'}", "{}"), "");
    let second = document("second", &two_gets("{}", "{resource: 'docs://{id}'}"), "");
    let err = map_documents(
        &[
            ApiDocument::new(&first, Settings::new()),
            ApiDocument::new(&second, Settings::new()),
        ],
        &Settings::new(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains(
            "second.yaml: resources: `docs://{id}` and the resource `docs://static` of \
             `first_getStatic` (GET /static) can match the same URI"
        ),
        "{err}"
    );
}

#[test]
fn diff_reports_resources_added_removed_moved_and_retyped() {
    use mcpgen_codegen::diff::{ChangeKind, diff, to_text};
    let map = |name: &str, on_static: &str, on_item: &str| {
        map_document(
            &document(name, &two_gets(on_static, on_item), ""),
            &Settings::new(),
        )
        .unwrap()
        .api
    };
    let resource_changes = |old: &mcpgen_codegen::ApiSpec, new: &mcpgen_codegen::ApiSpec| {
        diff(old, new)
            .into_iter()
            .filter(|c| c.kind == ChangeKind::ResourceChanged)
            .map(|c| (c.tool, c.detail, c.breaking))
            .collect::<Vec<_>>()
    };
    let before = map("diff-before", "{resource: 'docs://static'}", "{}");
    let after = map("diff-after", "{}", "{resource: 'docs://items/{id}'}");
    assert_eq!(
        resource_changes(&before, &after),
        [
            (
                "getItem".to_owned(),
                "resource `docs://items/{id}` added".to_owned(),
                false
            ),
            (
                "getStatic".to_owned(),
                "resource `docs://static` removed".to_owned(),
                true
            ),
        ]
    );
    let moved = map("diff-moved", "{resource: 'docs://static/v2'}", "{}");
    assert_eq!(
        resource_changes(&before, &moved),
        [(
            "getStatic".to_owned(),
            "resource `docs://static` -> `docs://static/v2`".to_owned(),
            true
        )]
    );
    let text = to_text(&diff(&before, &moved));
    assert!(
        text.contains("~ getStatic: resource `docs://static` -> `docs://static/v2`  [breaking]"),
        "{text}"
    );
    let retyped_paths =
        two_gets("{resource: 'docs://static'}", "{}").replace("text/markdown", "text/plain");
    let retyped = map_document(
        &document("diff-retyped", &retyped_paths, ""),
        &Settings::new(),
    )
    .unwrap()
    .api;
    assert_eq!(
        resource_changes(&before, &retyped),
        [(
            "getStatic".to_owned(),
            "resource `docs://static`: text/markdown -> text/plain".to_owned(),
            true
        )]
    );
    assert!(resource_changes(&before, &before).is_empty());
}
