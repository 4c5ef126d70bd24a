//! Hostile documents fail cleanly and fast, within the documented limits: no panic, no stack
//! overflow, no unbounded memory.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use mcpgen_codegen::{Settings, generate_crate, map_document};

fn write(name: &str, contents: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mcpgen-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn error_of(name: &str, contents: &[u8]) -> String {
    let path = write(name, contents);
    let started = Instant::now();
    let err = map_document(&path, &Settings::new())
        .err()
        .unwrap_or_else(|| panic!("{name} must be refused"))
        .to_string();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{name} took {:?}",
        started.elapsed()
    );
    assert!(err.contains(name), "errors name the file: {err}");
    err
}

#[test]
fn billion_laughs_yaml_is_refused() {
    let mut doc = String::from(
        "openapi: 3.0.0\ninfo: {title: t, version: '1'}\na0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    );
    for i in 1..10 {
        let prev = format!("*a{}", i - 1);
        doc.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 9].join(", ")));
    }
    doc.push_str("paths: {}\nx-boom: *a9\n");
    let err = error_of("laughs.yaml", doc.as_bytes());
    assert!(
        err.contains("repetition limit") || err.contains("alias"),
        "{err}"
    );
}

#[test]
fn duplicate_keys_are_refused() {
    let err = error_of(
        "dup.yaml",
        b"openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /a: {}\n  /a: {}\n",
    );
    assert!(err.contains("duplicate"), "{err}");
}

#[test]
fn ten_thousand_levels_of_nesting_are_refused() {
    let depth = 10_000;
    let json = format!(
        "{{\"openapi\":\"3.0.0\",\"info\":{{\"title\":\"t\",\"version\":\"1\"}},\"paths\":{{}},\"x\":{}{}}}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let err = error_of("deep.json", json.as_bytes());
    assert!(err.contains("recursion limit"), "{err}");

    let mut yaml = String::from("openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths: {}\nx: ");
    yaml.push_str(&"[".repeat(depth));
    yaml.push_str(&"]".repeat(depth));
    yaml.push('\n');
    error_of("deep.yaml", yaml.as_bytes());
}

#[test]
fn deeply_nested_schemas_are_refused_with_a_pointer() {
    let mut schema = String::from("{\"type\":\"string\"}");
    for _ in 0..100 {
        schema = format!("{{\"type\":\"array\",\"items\":{schema}}}");
    }
    let doc = format!(
        "{{\"openapi\":\"3.1.0\",\"info\":{{\"title\":\"t\",\"version\":\"1\"}},\"paths\":{{\"/a\":{{\"get\":{{\"responses\":{{\"200\":{{\"description\":\"ok\",\"content\":{{\"application/json\":{{\"schema\":{schema}}}}}}}}}}}}}}}}}"
    );
    let err = error_of("deep-schema.json", doc.as_bytes());
    assert!(err.contains("nested deeper than"), "{err}");
    assert!(err.contains("/paths/~1a/get/responses/200"), "{err}");
}

#[test]
fn oversized_documents_are_refused_before_reading() {
    let path = write("huge.json", b"");
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    // A sparse 1 GiB file: refused by its size, never read.
    file.set_len(1 << 30).unwrap();
    let started = Instant::now();
    let err = map_document(&path, &Settings::new())
        .unwrap_err()
        .to_string();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(err.contains("bytes are refused"), "{err}");
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_hundred_thousand_operations_generate() {
    let mut paths = String::new();
    for i in 0..100_000 {
        if i > 0 {
            paths.push(',');
        }
        paths.push_str(&format!(
            "\"/r{i}/{{id}}\":{{\"get\":{{\"operationId\":\"op{i}\",\"parameters\":[{{\"name\":\"id\",\"in\":\"path\",\"required\":true,\"schema\":{{\"type\":\"string\"}}}}],\"responses\":{{\"200\":{{\"description\":\"ok\"}}}}}}}}"
        ));
    }
    let doc = format!(
        "{{\"openapi\":\"3.0.0\",\"info\":{{\"title\":\"big\",\"version\":\"1\"}},\"paths\":{{{paths}}}}}"
    );
    let path = write("many.json", doc.as_bytes());
    let mapped = map_document(&path, &Settings::new()).unwrap();
    assert_eq!(mapped.api.tools.len(), 100_000);
    assert_eq!(mapped.api.tools[99_999].name, "op99999");
}

#[test]
fn spec_text_never_becomes_code() {
    let hostile = "\\\" */ #[cfg(any())] {{ x }} {% if %} {%- endif %} ] \\n[workspace]\n\r\u{202E}\u{2066}\0";
    let doc = serde_json::json!({
        "openapi": "3.0.0",
        "info": {"title": format!("T{hostile}"), "version": hostile, "description": hostile},
        "servers": [{"url": format!("https://api.example.com/{hostile}")}],
        "paths": {"/a": {"get": {
            "operationId": hostile,
            "summary": hostile,
            "description": hostile,
            "parameters": [{"name": hostile, "in": "query", "description": hostile,
                            "schema": {"type": "string", "enum": [hostile], "default": hostile}}],
            "responses": {"200": {"description": "ok"}}
        }}}
    });
    let path = write("inject.json", doc.to_string().as_bytes());
    let generated = generate_crate(&path, &Settings::new()).unwrap();
    for file in &generated.files {
        let name = file.path.to_string_lossy();
        if name.ends_with(".rs") {
            syn::parse_file(&file.contents)
                .unwrap_or_else(|e| panic!("{name} does not parse: {e}"));
        }
    }
    let manifest = generated.file("Cargo.toml").unwrap();
    let parsed: toml::Table = manifest.parse().expect("Cargo.toml parses");
    assert!(
        parsed.get("workspace").is_none(),
        "no table was injected: {manifest}"
    );
    assert_eq!(
        parsed.keys().collect::<Vec<_>>(),
        ["bin", "dependencies", "features", "package", "profile"],
        "no table was injected: {manifest}"
    );
    // rustc refuses bidirectional-override characters in comments.
    for file in &generated.files {
        for line in file.contents.lines() {
            if line.trim_start().starts_with("//") {
                assert!(
                    !line.contains(['\u{202E}', '\u{2066}']),
                    "{}: {line}",
                    file.path.display()
                );
            }
        }
    }
    let tools = generated.file("src/tools.rs").unwrap();
    let file = syn::parse_file(tools).unwrap();
    assert_eq!(
        file.items.len(),
        3,
        "only the runtime alias, the format check and the API table: no injected item"
    );
}

/// A small document whose one large parameter is shared by thousands of operations: every tool
/// carries its own copy, so the tools' schemas together are bounded and the document refused.
#[test]
fn a_shared_parameter_cannot_multiply_without_bound() {
    let values: Vec<String> = (0..20_000).map(|i| format!("v{i}")).collect();
    let mut doc = format!(
        "openapi: 3.0.3\ninfo: {{title: Shared, version: '1'}}\ncomponents:\n  parameters:\n    \
         Big:\n      name: big\n      in: query\n      schema: {{type: string, enum: [{}]}}\npaths:\n",
        values.join(", ")
    );
    for i in 0..2_000 {
        doc.push_str(&format!(
            "  /r{i}:\n    get:\n      parameters: [{{$ref: '#/components/parameters/Big'}}]\n      \
             responses: {{'204': {{description: ok}}}}\n"
        ));
    }
    assert!(doc.len() < 1_000_000, "a small document: {}", doc.len());
    // Refused once the tools built so far reach the budget (slower here than in a release
    // build, so no time bound of its own).
    let path = write("shared-parameter.yaml", doc.as_bytes());
    let err = map_document(&path, &Settings::new())
        .expect_err("refused")
        .to_string();
    assert!(err.contains("JSON nodes together"), "{err}");
    assert!(err.contains("/paths/~1r"), "the operation is named: {err}");
}
