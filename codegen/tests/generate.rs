//! Generation from files: the committed example crate, snapshots of the tools of small
//! fixture specs, determinism, and located errors for bad input.

use std::path::{Path, PathBuf};

use mcpgen_codegen::{Settings, generate_crate, map_document};
use serde_json::{Value, json};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The committed `examples/petstore` crate is exactly what the generator writes
/// (`EXPECTORATE=overwrite cargo test -p mcpgen-codegen` refreshes it).
#[test]
fn example_crate_matches_committed_output() {
    let spec = root().join("examples/petstore/openapi.yaml");
    let generated = generate_crate(&spec, &Settings::new().crate_name("petstore-mcp")).unwrap();
    for file in &generated.files {
        let path = root().join("examples/petstore").join(&file.path);
        expectorate::assert_contents(path, &file.contents);
    }
}

#[test]
fn generation_is_deterministic() {
    let spec = root().join("examples/petstore/openapi.yaml");
    let a = generate_crate(&spec, &Settings::new()).unwrap();
    let b = generate_crate(&spec, &Settings::new()).unwrap();
    assert_eq!(a.files, b.files);
    assert_eq!(a.crate_name, "petstore-mcp");
}

/// The tool surface of a spec as reviewable JSON.
fn tool_snapshot(spec: &Path) -> String {
    let mapped = map_document(spec, &Settings::new()).unwrap();
    let tools: Vec<Value> = mapped
        .api
        .tools
        .iter()
        .map(|t| {
            json!({
                "name": t.name,
                "description": t.description,
                "hints": {
                    "readOnly": t.hints.read_only,
                    "destructive": t.hints.destructive,
                    "idempotent": t.hints.idempotent
                },
                "call": format!("{} {}", t.plan.method, t.plan.path),
                "params": t.plan.params.iter().map(|p| {
                    format!("{} -> {} {} (style {}, explode {})", p.arg, p.location.as_str(), p.name, p.style, p.explode)
                }).collect::<Vec<_>>(),
                "body": t.plan.body.as_ref().map(|b| format!("{} {:?}", b.media_type, b.shape)),
                "security": t.plan.security,
                "inputSchema": t.input_schema,
                "outputSchema": t.output_schema,
                "outputWrapped": t.output_wrapped,
            })
        })
        .collect();
    let summary = json!({
        "server": mapped.api.server_name,
        "defaultBaseUrl": mapped.api.default_base_url,
        "envPrefix": mapped.api.env_prefix,
        "schemes": mapped.api.schemes.iter().map(|s| json!({"key": s.key, "kind": format!("{:?}", s.kind), "env": s.env})).collect::<Vec<_>>(),
        "warnings": mapped.warnings,
        "tools": tools,
    });
    serde_json::to_string_pretty(&summary).unwrap() + "\n"
}

#[test]
fn fixture_snapshots() {
    for name in ["swagger2.json", "openapi31.yaml", "multi/openapi.yaml"] {
        let snapshot = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/snapshots")
            .join(format!("{}.tools.json", name.replace('/', "-")));
        expectorate::assert_contents(snapshot, &tool_snapshot(&fixture(name)));
    }
    let petstore = root().join("examples/petstore/openapi.yaml");
    expectorate::assert_contents(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/petstore.tools.json"),
        &tool_snapshot(&petstore),
    );
}

#[test]
fn broken_refs_name_the_file_and_pointer() {
    let err = map_document(&fixture("broken-ref.yaml"), &Settings::new())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("broken-ref.yaml:12: "),
        "the line of the node is named: {err}"
    );
    assert!(
        err.contains("/paths/~1a/get/responses/200/content/application~1json/schema/$ref"),
        "{err}"
    );
    assert!(err.contains("points to nothing"), "{err}");
}

#[test]
fn unreadable_and_unparsable_files_are_clear_errors() {
    let err = map_document(Path::new("/no/such/spec.yaml"), &Settings::new())
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("/no/such/spec.yaml: cannot read"), "{err}");

    let dir = std::env::temp_dir().join("mcpgen-codegen-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, "openapi: 3.0.0\ninfo: [\n").unwrap();
    let err = map_document(&bad, &Settings::new())
        .unwrap_err()
        .to_string();
    assert!(err.contains("bad.yaml:"), "{err}");

    let not_openapi = dir.join("not-openapi.json");
    std::fs::write(&not_openapi, r#"{"hello": "world"}"#).unwrap();
    let err = map_document(&not_openapi, &Settings::new())
        .unwrap_err()
        .to_string();
    assert!(err.contains("not-openapi.json"), "{err}");
}

#[test]
fn remote_and_escaping_references_are_refused() {
    let err = map_document(&fixture("remote-ref.yaml"), &Settings::new())
        .unwrap_err()
        .to_string();
    assert!(err.contains("remote reference"), "{err}");
    assert!(
        err.contains("/paths/~1a/get/responses/200/content/application~1json/schema/$ref"),
        "{err}"
    );

    let err = map_document(&fixture("escape/openapi.yaml"), &Settings::new())
        .unwrap_err()
        .to_string();
    assert!(err.contains("outside the document's folder"), "{err}");
}
