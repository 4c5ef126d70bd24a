//! The leniency policy (README, "Forgiven and refused"): a mistake whose meaning is clear is
//! read as meant, with a warning that says where and what was assumed; references reach files
//! up to the reference root and never beyond it, into hidden folders or through symbolic links
//! that lead out of it.

use std::path::{Path, PathBuf};

use mcpgen_codegen::{Mapped, Settings, map_document};

/// A fresh folder for one test, holding `files` (relative path → text).
fn folder(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mcpgen-leniency-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
    }
    dir
}

fn map_ok(spec: &Path) -> Mapped {
    map_document(spec, &Settings::new()).unwrap_or_else(|e| panic!("{e}"))
}

fn warning_with<'m>(mapped: &'m Mapped, text: &str) -> &'m str {
    mapped
        .warnings
        .iter()
        .find(|w| w.contains(text))
        .unwrap_or_else(|| panic!("no warning with {text:?} in {:#?}", mapped.warnings))
}

const PETS_SWAGGER: &str = r#"swagger: "2.0"
info: {title: Pets, version: "1"}
paths:
  /pets/{id}:
    get:
      operationId: getPet
      parameters: [{name: id, in: path, required: true, type: string}]
      responses:
        "200": {description: ok, schema: {$ref: Pet}}
definitions:
  Pet: {type: object, properties: {name: {type: string}}}
"#;

#[test]
fn a_byte_order_mark_is_skipped() {
    let dir = folder("bom", &[]);
    std::fs::create_dir_all(&dir).unwrap();
    let spec = dir.join("openapi.json");
    std::fs::write(
        &spec,
        "\u{feff}{\"openapi\": \"3.0.0\", \"info\": {\"title\": \"B\", \"version\": \"1\"}, \
         \"paths\": {\"/a\": {\"get\": {\"operationId\": \"a\", \"responses\": {\"200\": \
         {\"description\": \"ok\"}}}}}}",
    )
    .unwrap();
    assert_eq!(map_ok(&spec).api.tools[0].name, "a");
}

#[test]
fn a_bare_definition_name_is_read_as_a_local_reference() {
    let dir = folder("simple-ref", &[("swagger.yaml", PETS_SWAGGER)]);
    let mapped = map_ok(&dir.join("swagger.yaml"));
    let w = warning_with(&mapped, "`Pet` names no file; read as `#/definitions/Pet`");
    // Located: the line of the reference in the file, and its pointer.
    assert!(
        w.starts_with("line 9: /paths/~1pets~1{id}/get/responses/200/schema/$ref"),
        "{w}"
    );
    let output = mapped.api.tools[0]
        .output_schema
        .as_ref()
        .unwrap()
        .to_string();
    assert!(output.contains("name"), "{output}");

    // A file of that name is what the reference names, when there is one.
    let dir = folder(
        "simple-ref-file",
        &[
            ("swagger.yaml", PETS_SWAGGER),
            (
                "Pet",
                "{type: object, properties: {fromFile: {type: string}}}",
            ),
        ],
    );
    let mapped = map_ok(&dir.join("swagger.yaml"));
    assert!(
        mapped.api.tools[0]
            .output_schema
            .as_ref()
            .unwrap()
            .to_string()
            .contains("fromFile")
    );
    assert!(!mapped.warnings.iter().any(|w| w.contains("names no file")));
}

#[test]
fn a_single_security_requirement_outside_a_list_is_read_as_the_list_of_it() {
    let dir = folder(
        "security-object",
        &[(
            "openapi.yaml",
            "openapi: 3.0.3\ninfo: {title: S, version: '1'}\npaths:\n  /a:\n    get:\n      \
             operationId: a\n      security: {key: []}\n      responses: {'200': {description: \
             ok}}\ncomponents:\n  securitySchemes:\n    key: {type: apiKey, in: header, name: \
             X-Key}\n",
        )],
    );
    let mapped = map_ok(&dir.join("openapi.yaml"));
    let w = warning_with(&mapped, "`security` is an object");
    assert!(w.starts_with("line 7: /paths/~1a/get/security"), "{w}");
    assert_eq!(mapped.api.tools[0].plan.security.len(), 1);

    // A string is no requirement: refused, saying what to write.
    let dir = folder(
        "security-string",
        &[(
            "openapi.yaml",
            "openapi: 3.0.3\ninfo: {title: S, version: '1'}\npaths:\n  /a:\n    get:\n      \
             security: key\n      responses: {'200': {description: ok}}\n",
        )],
    );
    let err = map_document(&dir.join("openapi.yaml"), &Settings::new())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("openapi.yaml:6: /paths/~1a/get/security"),
        "{err}"
    );
    assert!(err.contains("security: [{api_key: []}]"), "{err}");
}

#[test]
fn a_single_parameter_outside_a_list_is_read_as_the_list_of_it() {
    // Swagger 2.0 (Jupyter Enterprise Gateway ships one like this) and OpenAPI 3.
    let dir = folder(
        "parameter-object",
        &[
            (
                "swagger.yaml",
                "swagger: '2.0'\ninfo: {title: P, version: '1'}\npaths:\n  /kernelspecs:\n    \
                 get:\n      operationId: specs\n      parameters:\n        name: user\n        \
                 in: query\n        type: string\n      responses: {'200': {description: ok}}\n",
            ),
            (
                "openapi.yaml",
                "openapi: 3.0.3\ninfo: {title: P, version: '1'}\npaths:\n  /a/{id}:\n    \
                 parameters: {name: id, in: path, required: true, schema: {type: string}}\n    \
                 get:\n      operationId: a\n      parameters: {$ref: '#/components/parameters/q'}\n      \
                 responses: {'200': {description: ok}}\ncomponents:\n  parameters:\n    \
                 q: {name: q, in: query, schema: {type: integer}}\n",
            ),
        ],
    );
    let mapped = map_ok(&dir.join("swagger.yaml"));
    let w = warning_with(&mapped, "`parameters` is one parameter object");
    assert!(w.contains("/paths/~1kernelspecs/get/parameters"), "{w}");
    let input = &mapped.api.tools[0].input_schema;
    assert_eq!(input["properties"]["user"]["type"], "string", "{input}");

    let mapped = map_ok(&dir.join("openapi.yaml"));
    let w = warning_with(&mapped, "`parameters` is one parameter object");
    assert!(w.starts_with("line 5: /paths/~1a~1{id}/parameters"), "{w}");
    let w = mapped
        .warnings
        .iter()
        .find(|w| w.contains("/get/parameters"))
        .unwrap_or_else(|| panic!("{:#?}", mapped.warnings));
    assert!(w.contains("one parameter object"), "{w}");
    let input = &mapped.api.tools[0].input_schema;
    assert_eq!(input["properties"]["id"]["type"], "string", "{input}");
    assert_eq!(input["properties"]["q"]["type"], "integer", "{input}");

    // OpenAPI 3.1 is read by the model itself, without the 3.0 upgrade.
    let dir = folder(
        "parameter-object-31",
        &[(
            "openapi.yaml",
            "openapi: 3.1.0\ninfo: {title: P, version: '1'}\npaths:\n  /a:\n    get:\n      \
             operationId: a\n      parameters: {name: q, in: query, schema: {type: string}}\n      \
             responses: {'200': {description: ok}}\n",
        )],
    );
    let mapped = map_ok(&dir.join("openapi.yaml"));
    let w = warning_with(&mapped, "`parameters` is one parameter object");
    assert!(w.starts_with("line 7: /paths/~1a/get/parameters"), "{w}");
    let input = &mapped.api.tools[0].input_schema;
    assert_eq!(input["properties"]["q"]["type"], "string", "{input}");

    // A map of named parameters is no parameter: refused as before.
    let dir = folder(
        "parameter-map",
        &[(
            "openapi.yaml",
            "openapi: 3.0.3\ninfo: {title: P, version: '1'}\npaths:\n  /a:\n    get:\n      \
             parameters: {q: {name: q, in: query}}\n      responses: {'200': {description: ok}}\n",
        )],
    );
    let err = map_document(&dir.join("openapi.yaml"), &Settings::new())
        .unwrap_err()
        .to_string();
    assert!(err.contains("`parameters` must be an array"), "{err}");
}

#[test]
fn null_schemas_and_references_to_nothing_accept_any_value() {
    let dir = folder(
        "null-schema",
        &[(
            "openapi.yaml",
            "openapi: 3.0.3\ninfo: {title: N, version: '1'}\npaths:\n  /a:\n    post:\n      \
             operationId: a\n      requestBody:\n        content:\n          application/json:\n            \
             schema: null\n      responses:\n        '200':\n          description: ok\n          \
             content:\n            application/json:\n              schema:\n                \
             type: object\n                properties:\n                  gone: {$ref: \
             '#/components/schemas/Gone'}\n                  anchored: {$ref: '#leaf'}\n\
             components:\n  schemas:\n    Leaf: {$anchor: leaf, type: integer}\n",
        )],
    );
    let mapped = map_ok(&dir.join("openapi.yaml"));
    let w = warning_with(&mapped, "the schema is `null`");
    assert!(w.contains("accepts any value"), "{w}");
    let w = warning_with(&mapped, "`#/components/schemas/Gone` points to nothing");
    assert!(w.contains("accepts any value"), "{w}");
    // `#leaf` names the `$anchor`: no warning, and the schema is the anchored one.
    assert!(
        !mapped.warnings.iter().any(|w| w.contains("#leaf")),
        "{:?}",
        mapped.warnings
    );
    let output = mapped.api.tools[0]
        .output_schema
        .as_ref()
        .unwrap()
        .to_string();
    assert!(output.contains("integer"), "{output}");
}

#[test]
fn a_trailing_slash_fragment_means_the_whole_file() {
    let dir = folder(
        "slash-fragment",
        &[
            (
                "main.yaml",
                "openapi: 3.0.3\ninfo: {title: F, version: '1'}\npaths:\n  /a:\n    $ref: \
                 'paths/a.yaml#/'\n",
            ),
            (
                "paths/a.yaml",
                "get:\n  operationId: getA\n  responses: {'200': {description: ok}}\n",
            ),
        ],
    );
    assert_eq!(map_ok(&dir.join("main.yaml")).api.tools[0].name, "getA");
}

/// A repository whose `spec/openapi.yaml` refers to `../common/errors.yaml`.
fn repository(name: &str, marker: Option<&str>) -> PathBuf {
    let mut files = vec![
        (
            "spec/openapi.yaml",
            "openapi: 3.0.3\ninfo: {title: R, version: '1'}\npaths:\n  /a:\n    get:\n      \
             operationId: a\n      responses:\n        '200':\n          description: ok\n          \
             content:\n            application/json:\n              schema: {$ref: \
             '../common/errors.yaml#/Error'}\n",
        ),
        (
            "common/errors.yaml",
            "Error: {type: object, properties: {code: {type: integer}}}\n",
        ),
    ];
    if let Some(marker) = marker {
        files.push((marker, ""));
    }
    folder(name, &files)
}

#[test]
fn references_reach_up_to_the_repository_or_project_root() {
    for marker in [".git/HEAD", "package.json", "go.mod", "pyproject.toml"] {
        let dir = repository(
            &format!("root-{}", marker.replace(['/', '.'], "-")),
            Some(marker),
        );
        let mapped = map_ok(&dir.join("spec/openapi.yaml"));
        assert!(
            mapped.api.tools[0]
                .output_schema
                .as_ref()
                .unwrap()
                .to_string()
                .contains("code"),
            "{marker}"
        );
    }
}

#[test]
fn without_a_root_above_it_only_the_documents_folder_is_read() {
    let dir = repository("no-root", None);
    let err = map_document(&dir.join("spec/openapi.yaml"), &Settings::new())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("openapi.yaml:12: /paths/~1a/get/responses/200"),
        "{err}"
    );
    assert!(err.contains("outside the reference root"), "{err}");
    assert!(err.contains("the document's own folder"), "{err}");
    assert!(err.contains("--ref-root DIR"), "{err}");

    // Named by the user, the root lets the reference through.
    let settings = Settings::new().ref_root(&dir);
    let mapped = map_document(&dir.join("spec/openapi.yaml"), &settings).unwrap();
    assert!(
        mapped.api.tools[0]
            .output_schema
            .as_ref()
            .unwrap()
            .to_string()
            .contains("code")
    );
}

#[test]
fn a_named_root_is_a_limit_too() {
    // The repository root would allow it; a narrower root named by the user does not.
    let dir = repository("narrow-root", Some(".git/HEAD"));
    let settings = Settings::new().ref_root(dir.join("spec"));
    let err = map_document(&dir.join("spec/openapi.yaml"), &settings)
        .unwrap_err()
        .to_string();
    assert!(err.contains("set by `--ref-root`"), "{err}");

    // A root that does not hold the document is a mistake of the setting.
    let settings = Settings::new().ref_root(dir.join("common"));
    let err = map_document(&dir.join("spec/openapi.yaml"), &settings)
        .unwrap_err()
        .to_string();
    assert!(err.contains("ref_root: the reference root"), "{err}");
    assert!(err.contains("does not hold the document"), "{err}");
}

#[test]
fn hidden_folders_under_the_root_stay_closed() {
    let dir = repository("hidden", Some(".git/HEAD"));
    std::fs::create_dir_all(dir.join(".secrets")).unwrap();
    std::fs::write(dir.join(".secrets/errors.yaml"), "Error: {type: object}\n").unwrap();
    let spec = dir.join("spec/openapi.yaml");
    let text = std::fs::read_to_string(&spec)
        .unwrap()
        .replace("../common/", "../.secrets/");
    std::fs::write(&spec, text).unwrap();
    let err = map_document(&spec, &Settings::new())
        .unwrap_err()
        .to_string();
    assert!(err.contains("`.secrets` is hidden"), "{err}");
    // Not even through the repository's own marker folder.
    let text = std::fs::read_to_string(&spec)
        .unwrap()
        .replace("../.secrets/errors.yaml#/Error", "../.git/HEAD");
    std::fs::write(&spec, text).unwrap();
    let err = map_document(&spec, &Settings::new())
        .unwrap_err()
        .to_string();
    assert!(err.contains("`.git` is hidden"), "{err}");
}

#[cfg(unix)]
#[test]
fn symbolic_links_that_leave_the_root_are_refused() {
    let outside = folder(
        "outside",
        &[(
            "errors.yaml",
            "Error: {type: object, properties: {leak: {type: string}}}\n",
        )],
    );
    let dir = repository("symlink", Some(".git/HEAD"));
    std::fs::remove_file(dir.join("common/errors.yaml")).unwrap();
    std::os::unix::fs::symlink(outside.join("errors.yaml"), dir.join("common/errors.yaml"))
        .unwrap();
    let err = map_document(&dir.join("spec/openapi.yaml"), &Settings::new())
        .unwrap_err()
        .to_string();
    assert!(err.contains("through a symbolic link"), "{err}");
    assert!(err.contains("outside the reference root"), "{err}");

    // A link that stays inside the root is followed.
    std::fs::remove_file(dir.join("common/errors.yaml")).unwrap();
    std::fs::write(
        dir.join("common/real.yaml"),
        "Error: {type: object, properties: {code: {type: integer}}}\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(dir.join("common/real.yaml"), dir.join("common/errors.yaml"))
        .unwrap();
    let mapped = map_ok(&dir.join("spec/openapi.yaml"));
    assert!(
        mapped.api.tools[0]
            .output_schema
            .as_ref()
            .unwrap()
            .to_string()
            .contains("code")
    );
}
