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
    // The settings `cargo mcpgen generate` uses: the flags of scripts/demo.sh and the
    // mcpgen.toml beside the spec.
    let settings = mcpgen_codegen::config::apply_file(
        &mcpgen_codegen::config::beside(&spec).expect("examples/petstore/mcpgen.toml"),
        Settings::new().crate_name("petstore-mcp"),
    )
    .unwrap();
    let generated = generate_crate(&spec, &settings).unwrap();
    for file in &generated.files {
        let path = root().join("examples/petstore").join(&file.path);
        expectorate::assert_contents(path, &file.contents);
    }
}

/// Generated crates carry a release profile; the workspace root carries the same one, so the
/// example server (a workspace member, which cannot carry its own) is built as users build it.
#[test]
fn the_workspace_builds_releases_as_generated_crates_do() {
    let spec = root().join("examples/petstore/openapi.yaml");
    let profile = |manifest: &str| -> toml::Value {
        let table: toml::Table = manifest.parse().unwrap();
        table["profile"]["release"].clone()
    };
    let generated = generate_crate(&spec, &Settings::new().crate_name("petstore-mcp")).unwrap();
    let manifest = generated.file("Cargo.toml").unwrap();
    let workspace = profile(&std::fs::read_to_string(root().join("Cargo.toml")).unwrap());
    let profile = profile(manifest);
    assert_eq!(profile["lto"].as_str(), Some("thin"));
    assert_eq!(profile["lto"], workspace["lto"]);
    // The crate's own settings; the workspace gives `cargo mcpgen serve` the same.
    let own = &profile["package"]["petstore-mcp"];
    assert_eq!(own["codegen-units"].as_integer(), Some(2));
    for package in ["petstore-mcp", "cargo-mcpgen"] {
        assert_eq!(&workspace["package"][package], own, "{package}");
    }
    assert_eq!(profile.as_table().unwrap().len(), 2, "{profile:#?}");
    assert_eq!(workspace.as_table().unwrap().len(), 2, "{workspace:#?}");

    // A crate depending on the runtime crate gives it the same settings.
    let settings = Settings::new()
        .crate_name("petstore-mcp")
        .runtime(mcpgen_codegen::RuntimeDependency::Version("0.1.0".into()));
    let generated = generate_crate(&spec, &settings).unwrap();
    let manifest: toml::Table = generated.file("Cargo.toml").unwrap().parse().unwrap();
    assert_eq!(&manifest["profile"]["release"]["package"]["mcpgen"], own);

    let without = generate_crate(&spec, &Settings::new().release_profile(false)).unwrap();
    let manifest = without.file("Cargo.toml").unwrap();
    assert!(!manifest.contains("[profile"), "{manifest}");
}

/// The container recipe builds with the workspace's minimum Rust, pinned to a full version.
#[test]
fn generated_images_build_with_the_workspaces_rust_version() {
    let spec = root().join("examples/petstore/openapi.yaml");
    let generated = generate_crate(&spec, &Settings::new()).unwrap();
    let dockerfile = generated.file("Dockerfile").unwrap();
    let from = dockerfile
        .lines()
        .find(|l| l.starts_with("FROM rust:"))
        .expect("a build stage from the rust image");
    let workspace: toml::Table = std::fs::read_to_string(root().join("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let rust_version = workspace["workspace"]["package"]["rust-version"]
        .as_str()
        .unwrap();
    assert_eq!(
        from,
        format!("FROM rust:{rust_version}.0-slim-bookworm AS build"),
        "the Dockerfile template's Rust follows the workspace's rust-version"
    );
    assert_eq!(
        generated
            .file(".dockerignore")
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>(),
        ["target", ".git"]
    );
}

/// The container files of a crate whose names need care (capitals and `_` in the crate name,
/// which an image name cannot have) and whose runtime is a path dependency, which the build
/// cannot see unless it lies inside the crate.
#[test]
fn container_snapshots() {
    let settings = Settings::new()
        .crate_name("Modern_API-mcp")
        .crate_version("2.0.0-rc.1")
        .runtime(mcpgen_codegen::RuntimeDependency::Path(PathBuf::from(
            "../../runtime",
        )));
    let generated = generate_crate(&fixture("openapi31.yaml"), &settings).unwrap();
    let readme = generated.file("README.md").unwrap();
    let container = &readme[readme
        .find("\n## Container\n")
        .expect("a Container section")
        + 1..];
    let snapshots = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    expectorate::assert_contents(
        snapshots.join("openapi31.yaml.Dockerfile"),
        generated.file("Dockerfile").unwrap(),
    );
    expectorate::assert_contents(
        snapshots.join("openapi31.yaml.README-container.md"),
        container,
    );
    assert!(
        container.contains("docker build -t 'modern-api-mcp' ."),
        "{container}"
    );
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
    let mut settings = Settings::new().skip_broken(true);
    let overlay = spec.with_extension("overlay.yaml");
    if overlay.exists() {
        settings = settings.overlay(overlay);
    }
    let mapped = map_document(spec, &settings).unwrap();
    let tools: Vec<Value> = mapped
        .api
        .tools
        .iter()
        .map(|t| {
            let mut tool = json!({
                "name": t.name,
                "description": t.description,
                "hints": {
                    "readOnly": t.hints.read_only,
                    "destructive": t.hints.destructive,
                    "idempotent": t.hints.idempotent
                },
                "call": format!("{} {}", t.plan.method, t.plan.path),
                "params": t.plan.params.iter().map(|p| {
                    format!("{} -> {} {} (style {}, explode {})", p.arg, p.location.as_str(), p.name, p.style.as_str(), p.explode)
                }).collect::<Vec<_>>(),
                "body": t.plan.body.as_ref().map(|b| format!("{} {:?}", b.media_type, b.shape)),
                "security": t.plan.security,
                "inputSchema": t.input_schema,
                "outputSchema": t.output_schema,
                "outputWrapped": t.output_wrapped,
            });
            if let Some(resource) = &t.resource {
                tool["resource"] = json!({"uri": resource.uri, "mimeType": resource.mime_type});
            }
            tool
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
    for name in ["quirks.yaml", "extension.yaml", "headers.yaml"] {
        let snapshot = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/snapshots")
            .join(format!("{}.tools.json", name.replace('/', "-")));
        expectorate::assert_contents(snapshot, &tool_snapshot(&fixture(name)));
    }
    for (example, name) in [
        ("examples/petstore/openapi.yaml", "petstore"),
        ("tests/fixtures/resources.yaml", "resources"),
    ] {
        expectorate::assert_contents(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/snapshots")
                .join(format!("{name}.tools.json")),
            &tool_snapshot(&root().join(example)),
        );
    }
}

#[test]
fn broken_refs_name_the_line_and_pointer_and_what_was_assumed() {
    // A schema reference to nothing is forgiven: that schema accepts any value.
    let mapped = map_document(&fixture("broken-ref.yaml"), &Settings::new()).unwrap();
    let warning = mapped.warnings.join("\n");
    assert!(
        warning.contains(
            "line 12: /paths/~1a/get/responses/200/content/application~1json/schema/$ref: \
             $ref `#/components/schemas/Missing` points to nothing; read as a schema that \
             accepts any value"
        ),
        "{warning}"
    );
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
fn remote_references_are_not_fetched_and_escaping_ones_are_refused() {
    // Without `--allow-remote-refs` a remote schema is not fetched: it accepts any value, and
    // the warning names the reference and the flag that would read it.
    let mapped = map_document(&fixture("remote-ref.yaml"), &Settings::new()).unwrap();
    let warning = mapped
        .warnings
        .iter()
        .find(|w| w.contains("remote reference"))
        .unwrap_or_else(|| panic!("{:#?}", mapped.warnings));
    assert!(
        warning.starts_with(
            "line 11: /paths/~1a/get/responses/200/content/application~1json/schema/$ref: \
             `https://example.com/schemas/pet.json` is a remote reference"
        ),
        "{warning}"
    );
    assert!(warning.contains("--allow-remote-refs"), "{warning}");
    assert!(warning.contains("accepts any value"), "{warning}");
    let output = mapped.api.tools[0].output_schema.as_ref().unwrap();
    assert!(!output.to_string().contains("example.com"), "{output}");

    // `../multi/` is a sibling folder: inside the repository, the default reference root,
    // but outside a root that is the document's own folder.
    let settings = Settings::new().ref_root(fixture("escape"));
    let err = map_document(&fixture("escape/openapi.yaml"), &settings)
        .unwrap_err()
        .to_string();
    assert!(err.contains("outside the reference root"), "{err}");
    assert!(map_document(&fixture("escape/openapi.yaml"), &Settings::new()).is_ok());
}

/// Every tool schema generated from the fixtures is valid JSON Schema 2020-12 and compiles in
/// the validator the runtime uses, whatever mistakes the document made.
#[test]
fn fixture_tool_schemas_are_valid_json_schema() {
    for name in [
        "quirks.yaml",
        "swagger2.json",
        "openapi31.yaml",
        "multi/openapi.yaml",
        "extension.yaml",
    ] {
        let mapped = map_document(&fixture(name), &Settings::new().skip_broken(true)).unwrap();
        for tool in &mapped.api.tools {
            for schema in std::iter::once(&tool.input_schema).chain(tool.output_schema.as_ref()) {
                assert!(
                    jsonschema::meta::is_valid(schema),
                    "{name} {}: {schema:#}",
                    tool.name
                );
                jsonschema::draft202012::new(schema)
                    .unwrap_or_else(|e| panic!("{name} {}: {e}", tool.name));
            }
        }
    }
}

#[test]
fn quirks_are_warnings_and_broken_operations_are_skipped_only_when_asked() {
    let mapped = map_document(&fixture("quirks.yaml"), &Settings::new().skip_broken(true)).unwrap();
    let names: Vec<&str> = mapped.api.tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["listThings"]);
    let warnings = mapped.warnings.join("\n");
    for expected in [
        "\\p{XDigit}",
        "`pattern` has an invalid value",
        "`required` has an invalid value",
        "`type` has an invalid value",
        "operation GET /broken left out",
    ] {
        assert!(
            warnings.contains(expected),
            "missing `{expected}` in:\n{warnings}"
        );
    }
    let err = map_document(&fixture("quirks.yaml"), &Settings::new())
        .unwrap_err()
        .to_string();
    assert!(err.contains("quirks.yaml:43: /paths/~1broken/get/responses/200/content/application~1json/schema/allOf"), "{err}");
}

#[test]
fn x_mcpgen_and_overlays_shape_the_tools() {
    let settings = Settings::new().overlay(fixture("extension.overlay.yaml"));
    let mapped = map_document(&fixture("extension.yaml"), &settings).unwrap();
    let names: Vec<&str> = mapped.api.tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        ["fetch_pet", "listPets"],
        "deletePet is excluded, getPet renamed"
    );
    let fetch = &mapped.api.tools[0];
    let args: Vec<&String> = fetch.input_schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(
        args,
        ["petId"],
        "the fixed header and the hidden query parameter are not arguments"
    );
    let tenant = fetch
        .plan
        .params
        .iter()
        .find(|p| p.name == "X-Tenant")
        .unwrap();
    assert_eq!(tenant.fixed, Some(json!("acme")));
    assert!(fetch.plan.params.iter().all(|p| p.name != "debug"));
    assert_eq!(
        fetch.description, "GET /pets/{petId}",
        "the overlay removed the summary"
    );
    assert_eq!(
        mapped.api.tools[1].description,
        "Every pet in the store, newest first."
    );
}

/// `then` layers a front end's options over the project's settings files: what the upper
/// settings set wins, lists are joined, and defaults leave the lower settings alone.
#[test]
fn settings_layer_with_then() {
    let spec = root().join("examples/petstore/openapi.yaml");
    let files = Settings::new()
        .tool_prefix("a_")
        .exclude_operations(["deletePet"])
        .embed_openapi(false);
    let options = Settings::new()
        .tool_prefix("b_")
        .exclude_operations(["createPet"]);
    let mapped = map_document(&spec, &files.then(options)).unwrap();
    let names: Vec<&str> = mapped.api.tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "b_listPets",
            "b_getPetById",
            "b_updatePet",
            "b_get_store_inventory"
        ]
    );
    assert!(
        mapped.api.openapi.is_none(),
        "a default does not undo `false`"
    );
}

#[test]
fn caller_scopes_come_from_the_document_and_settings_override_them() {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/scoped.yaml");
    let scopes = |settings: &Settings| -> Vec<(String, Vec<String>)> {
        map_document(&spec, settings)
            .unwrap()
            .api
            .tools
            .iter()
            .map(|t| (t.name.clone(), t.plan.caller_scopes.clone()))
            .collect()
    };
    let pairs = |list: &[(&str, &[&str])]| -> Vec<(String, Vec<String>)> {
        list.iter()
            .map(|(n, s)| (n.to_string(), s.iter().map(|s| s.to_string()).collect()))
            .collect()
    };
    assert_eq!(
        scopes(&Settings::new()),
        pairs(&[
            ("listPets", &["pets:read"]),
            ("createPet", &["pets:write"]),
            ("getPetById", &["pets:read"]),
            ("deletePet", &["admin"]),
        ])
    );
    // An operation's own entry wins over its tag's, whatever the order.
    let settings = Settings::new()
        .require_scopes("getPetById", "")
        .require_scopes("tag:pets", "pets:all")
        .require_scopes("DELETE /pets/{petId}", "admin pets:delete");
    assert_eq!(
        scopes(&settings),
        pairs(&[
            ("listPets", &["pets:all"]),
            ("createPet", &["pets:all"]),
            ("getPetById", &[]),
            ("deletePet", &["admin", "pets:delete"]),
        ])
    );
    for (selector, list, expected) in [
        ("nothing", "a", "no operation is named `nothing`"),
        ("tag:none", "a", "no selected operation has the tag `none`"),
        ("listPets", "a\"b", "is not a scope name"),
    ] {
        let err = map_document(&spec, &Settings::new().require_scopes(selector, list))
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected) && err.contains("scopes"), "{err}");
    }
}
