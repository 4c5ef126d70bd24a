//! OpenAPI 3.2 documents through the whole mapping, and the tool name rules: what each 3.2
//! addition becomes in the tools, which names the two rules give, how names given by users are
//! checked, and how `diff` reports the renaming.

use std::path::{Path, PathBuf};

use mcpgen_codegen::spec::{Location, StreamKind};
use mcpgen_codegen::{Error, Settings, ToolNames, ToolSpec, map_document};
use serde_json::{Value, json};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/openapi32.yaml")
}

fn tools(settings: &Settings) -> Vec<ToolSpec> {
    map_document(&fixture(), settings)
        .unwrap_or_else(|e| panic!("{e}"))
        .api
        .tools
}

fn tool<'a>(tools: &'a [ToolSpec], name: &str) -> &'a ToolSpec {
    tools
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no tool {name}"))
}

/// A temporary copy of a document, for documents written by a test.
fn write_doc(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mcpgen-openapi32-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn every_32_operation_becomes_a_tool_with_portable_names() {
    let all = tools(&Settings::new());
    let names: Vec<&str> = all.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "items_search",
            "cache_purge",
            "cache_link",
            "items_find",
            "ticks_watch",
            "ticks_export",
            "admin_stats"
        ]
    );
    let methods: Vec<&str> = all.iter().map(|t| t.plan.method.as_str()).collect();
    assert_eq!(
        methods,
        ["QUERY", "PURGE", "LINK", "GET", "GET", "GET", "GET"]
    );
}

#[test]
fn the_mcp_rule_keeps_dots() {
    let all = tools(&Settings::new().tool_names(ToolNames::Mcp));
    let names: Vec<&str> = all.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names[..3], ["items.search", "cache.purge", "cache.link"]);
}

#[test]
fn query_is_read_only_with_a_body() {
    let all = tools(&Settings::new());
    let search = tool(&all, "items_search");
    assert!(search.hints.read_only && search.hints.idempotent && !search.hints.destructive);
    // The body came through a reusable media type and a `$self`-relative reference.
    assert_eq!(
        search.input_schema["properties"],
        json!({"text": {"type": "string"}, "limit": {"type": "integer"}})
    );
    assert_eq!(search.input_schema["required"], json!(["text"]));
    assert!(search.plan.body.is_some());
}

#[test]
fn additional_operations_get_annotations_from_their_method() {
    let all = tools(&Settings::new());
    let purge = tool(&all, "cache_purge");
    assert!(!purge.hints.read_only && purge.hints.destructive && purge.hints.idempotent);
    let link = tool(&all, "cache_link");
    assert!(!link.hints.read_only && !link.hints.destructive && link.hints.idempotent);
    // The path item's parameter applies to its additional operations too.
    assert_eq!(link.input_schema["required"], json!(["key", "Link"]));
}

#[test]
fn a_querystring_parameter_is_one_object_argument() {
    let all = tools(&Settings::new());
    let find = tool(&all, "items_find");
    let param = &find.plan.params[0];
    assert_eq!(param.location, Location::QueryString);
    assert!(!param.json);
    assert_eq!(find.input_schema["properties"]["filter"]["type"], "object");
    assert_eq!(
        find.input_schema["properties"]["filter"]["description"],
        "The search, sent as the query string."
    );
}

#[test]
fn streams_return_lists_of_their_items() {
    let all = tools(&Settings::new());
    let watch = tool(&all, "ticks_watch");
    assert_eq!(watch.stream, Some(StreamKind::EventsJson));
    assert!(watch.output_wrapped);
    let output = watch.output_schema.as_ref().unwrap();
    assert_eq!(output["properties"]["result"]["type"], "array");
    assert_eq!(
        output["properties"]["result"]["items"]["properties"]["data"]["$ref"],
        "#/$defs/Tick"
    );
    let export = tool(&all, "ticks_export");
    assert_eq!(export.stream, Some(StreamKind::JsonLines));
    assert_eq!(
        export.output_schema.as_ref().unwrap()["properties"]["result"]["items"]["$ref"],
        "#/$defs/Tick"
    );
}

#[test]
fn a_device_flow_is_a_token_the_operator_gives() {
    let mapped = map_document(&fixture(), &Settings::new()).unwrap();
    let scheme = &mapped.api.schemes[0];
    assert_eq!(scheme.kind, mcpgen_codegen::spec::SchemeKind::Bearer);
    assert_eq!(scheme.env, ["THIRTY_TWO_DEVICE_TOKEN"]);
    assert!(mapped.warnings.is_empty(), "{:?}", mapped.warnings);
    let export = tool(&mapped.api.tools, "ticks_export");
    // No credential among the arguments: only the count.
    let args: Vec<&String> = export.input_schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(args, ["n"]);
}

#[test]
fn a_parent_tag_selects_its_children() {
    let selected = tools(&Settings::new().include_tags(["catalog"]));
    assert_eq!(selected.len(), 6);
    assert!(selected.iter().all(|t| t.name != "admin_stats"));
    let cache = tools(&Settings::new().include_tags(["items"]));
    let names: Vec<&str> = cache.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        ["items_search", "cache_purge", "cache_link", "items_find"]
    );
    let without = tools(&Settings::new().exclude_tags(["catalog"]));
    assert_eq!(without.len(), 1);
}

#[test]
fn the_embedded_document_keeps_the_32_operations() {
    let mapped = map_document(&fixture(), &Settings::new().include_tags(["cache"])).unwrap();
    let doc: Value = serde_json::from_str(mapped.api.openapi.as_deref().unwrap()).unwrap();
    assert_eq!(doc["openapi"], "3.2.0");
    let item = &doc["paths"]["/__echo/cache/{key}"];
    let methods: Vec<&String> = item["additionalOperations"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(methods, ["PURGE", "LINK"]);
    assert!(doc["paths"].get("/__echo/items").is_none());
}

const NAMED: &str = r#"openapi: 3.2.0
info: {title: Named, version: "1"}
paths:
  /a:
    get:
      operationId: a.get
      x-mcpgen:
        name: fetch.a
      responses: {"200": {description: ok}}
"#;

#[test]
fn names_given_in_x_mcpgen_are_checked_against_the_rule() {
    let spec = write_doc("named.yaml", NAMED);
    let err = map_document(&spec, &Settings::new()).unwrap_err();
    let Error::Invalid {
        line,
        pointer,
        message,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(pointer, "/paths/~1a/get/x-mcpgen/name");
    assert_eq!(*line, Some(8));
    assert!(message.contains("`fetch.a` holds `.`"), "{message}");
    assert!(message.contains("^[A-Za-z0-9_-]{1,64}$"), "{message}");
    let shown = err.to_string();
    assert!(shown.contains("named.yaml:8"), "{shown}");

    let kept = map_document(&spec, &Settings::new().tool_names(ToolNames::Mcp)).unwrap();
    assert_eq!(kept.api.tools[0].name, "fetch.a");
}

#[test]
fn a_dotted_prefix_needs_the_mcp_rule() {
    let err = map_document(&fixture(), &Settings::new().tool_prefix("v2.")).unwrap_err();
    assert!(err.to_string().contains("tool_prefix"), "{err}");
    let prefixed = tools(
        &Settings::new()
            .tool_prefix("v2.")
            .tool_names(ToolNames::Mcp),
    );
    assert_eq!(prefixed[0].name, "v2.items.search");
}

#[test]
fn the_tool_names_setting_is_read_from_settings_files() {
    let spec = write_doc("files.yaml", NAMED.replace("fetch.a", "fetch_a").as_str());
    let config = write_doc("mcpgen.toml", "tool_names = \"mcp\"\n");
    let (settings, _) =
        mcpgen_codegen::config::project_settings(&spec, None, Some(&config), Settings::new())
            .unwrap();
    assert_eq!(settings.tool_name_rule(), ToolNames::Mcp);
    let bad = write_doc("bad.toml", "\ntool_names = \"dots\"\n");
    let err = mcpgen_codegen::config::project_settings(&spec, None, Some(&bad), Settings::new())
        .unwrap_err()
        .to_string();
    assert!(err.contains("bad.toml:2"), "{err}");
    assert!(err.contains("tool_names"), "{err}");
}

#[test]
fn diff_reports_the_renaming_as_breaking_with_a_way_back() {
    let old = map_document(&fixture(), &Settings::new().tool_names(ToolNames::Mcp)).unwrap();
    let new = map_document(&fixture(), &Settings::new()).unwrap();
    let changes = mcpgen_codegen::diff::diff(&old.api, &new.api);
    assert_eq!(changes.len(), 7);
    assert!(
        changes
            .iter()
            .all(|c| c.breaking && c.kind == mcpgen_codegen::diff::ChangeKind::ToolRenamed)
    );
    let text = mcpgen_codegen::diff::to_text(&changes);
    assert!(
        text.contains("~ tool renamed items.search -> items_search (QUERY /__echo/items); tool names no longer keep `.`"),
        "{text}"
    );
    assert!(
        text.contains("note: 7 tools were renamed")
            && text.contains("keep the old names with --tool-names mcp (tool_names = \"mcp\")"),
        "{text}"
    );
    // Under one rule on both sides, nothing changed.
    assert!(mcpgen_codegen::diff::diff(&new.api, &new.api).is_empty());
}
