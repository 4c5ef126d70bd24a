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

fn map_err(spec: &Path) -> String {
    match map_document(spec, &Settings::new()) {
        Ok(mapped) => panic!("mapped, with warnings {:#?}", mapped.warnings),
        Err(e) => e.to_string(),
    }
}

fn input_properties(mapped: &Mapped, tool: usize) -> Vec<String> {
    let input = &mapped.api.tools[tool].input_schema;
    input["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn a_parameter_that_names_a_schema_is_read_from_its_own_fields_or_left_out() {
    // openapi-filter's test documents refer to a `definitions` schema as a parameter; go-openapi's
    // issue 342 writes `name` and `in` beside such a reference.
    let swagger = "swagger: '2.0'\ninfo: {title: S, version: '1'}\npaths:\n  /c/{id}:\n    get:\n      \
         operationId: c\n      parameters:\n        - {name: id, in: path, required: true, type: string}\n        \
         - $ref: '#/definitions/hovertext'\n        \
         - {name: count, in: query, $ref: '#/definitions/count'}\n        \
         - {name: gone, in: query, $ref: '#/definitions/gone'}\n      \
         responses: {'200': {description: ok}}\ndefinitions:\n  hovertext:\n    properties:\n      \
         description: {type: string}\n  count: {type: integer}\n";
    let openapi = swagger
        .replace("swagger: '2.0'", "openapi: 3.0.3")
        .replace("type: string}", "schema: {type: string}}")
        .replace("#/definitions/", "#/components/schemas/")
        .replace("definitions:\n", "components:\n  schemas:\n")
        .replace("\n  hovertext:", "\n    hovertext:")
        .replace(
            "\n    properties:\n      description",
            "\n      properties:\n        description",
        )
        .replace("\n  count:", "\n    count:");
    let openapi31 = openapi.replace("openapi: 3.0.3", "openapi: 3.1.0");
    let dir = folder(
        "parameter-schema",
        &[
            ("swagger.yaml", swagger),
            ("openapi.yaml", &openapi),
            ("openapi31.yaml", &openapi31),
        ],
    );
    // The model reads Swagger 2.0 upgraded: its references name `components/schemas`.
    for (file, section) in [
        ("swagger.yaml", "components/schemas"),
        ("openapi.yaml", "components/schemas"),
        ("openapi31.yaml", "components/schemas"),
    ] {
        let mapped = map_ok(&dir.join(file));
        let w = warning_with(&mapped, "hovertext` names no parameter");
        assert!(
            w.starts_with("line 9: /paths/~1c~1{id}/get/parameters/1/$ref: $ref "),
            "{file}: {w}"
        );
        assert!(w.contains("the tool cannot send it; it is left out"), "{w}");
        let w = warning_with(&mapped, &format!("`#/{section}/count` names no parameter"));
        assert!(w.starts_with("line 10: "), "{file}: {w}");
        assert!(w.contains("read as the schema of the parameter"), "{w}");
        let w = warning_with(
            &mapped,
            &format!("`#/{section}/gone` points to nothing; read as the schema"),
        );
        assert!(w.starts_with("line 11: "), "{file}: {w}");
        let input = &mapped.api.tools[0].input_schema;
        assert_eq!(
            input_properties(&mapped, 0),
            ["id", "count", "gone"],
            "{file}: {input}"
        );
        assert_eq!(
            input["properties"]["count"]["$ref"], "#/$defs/count",
            "{file}: {input}"
        );
        assert_eq!(
            input["$defs"]["count"]["type"], "integer",
            "{file}: {input}"
        );
        // A reference to nothing accepts any value.
        assert!(
            input["properties"]["gone"].get("type").is_none(),
            "{file}: {input}"
        );
    }
}

#[test]
fn a_parameter_reference_to_nothing_is_left_out() {
    // Adobe's Real-Time Customer Profile API refers to parameters it does not define.
    let openapi = "openapi: 3.0.3\ninfo: {title: P, version: '1'}\npaths:\n  /a:\n    parameters:\n      \
         - $ref: '#/components/parameters/authorization'\n    get:\n      operationId: a\n      \
         parameters:\n        - $ref: '#/components/parameters/x-api-key'\n        \
         - {name: q, in: query, schema: {type: string}}\n      \
         responses: {'200': {description: ok}}\n";
    let swagger = "swagger: '2.0'\ninfo: {title: P, version: '1'}\npaths:\n  /a:\n    get:\n      \
         operationId: a\n      parameters:\n        - $ref: '#/parameters/missing'\n        \
         - {name: q, in: query, type: string}\n      responses: {'200': {description: ok}}\n";
    let dir = folder(
        "parameter-nothing",
        &[("openapi.yaml", openapi), ("swagger.yaml", swagger)],
    );
    let mapped = map_ok(&dir.join("openapi.yaml"));
    let w = warning_with(
        &mapped,
        "`#/components/parameters/authorization` points to nothing",
    );
    assert!(
        w.starts_with("line 6: /paths/~1a/parameters/0/$ref: "),
        "{w}"
    );
    assert!(
        w.contains("this parameter is left out (the tool does not send it)"),
        "{w}"
    );
    let w = warning_with(
        &mapped,
        "`#/components/parameters/x-api-key` points to nothing",
    );
    assert!(
        w.starts_with("line 10: /paths/~1a/get/parameters/0/$ref: "),
        "{w}"
    );
    assert_eq!(input_properties(&mapped, 0), ["q"]);

    let mapped = map_ok(&dir.join("swagger.yaml"));
    let w = warning_with(&mapped, "points to nothing; this parameter is left out");
    assert!(
        w.starts_with("line 8: /paths/~1a/get/parameters/0/$ref: "),
        "{w}"
    );
    assert_eq!(input_properties(&mapped, 0), ["q"]);
}

#[test]
fn a_parameter_without_a_name_is_left_out_and_one_without_in_is_read_only_where_plain() {
    let openapi = "openapi: 3.0.3\ninfo: {title: P, version: '1'}\npaths:\n  /a/{id}:\n    get:\n      \
         operationId: a\n      parameters:\n        - {in: query, name: '', schema: {type: string}}\n        \
         - {name: id, schema: {type: integer}}\n      responses: {'200': {description: ok}}\n";
    let swagger = "swagger: '2.0'\ninfo: {title: P, version: '1'}\npaths:\n  /a/{id}:\n    post:\n      \
         operationId: a\n      parameters:\n        - {in: query, type: string}\n        \
         - {name: id, type: integer}\n        \
         - {name: pet, schema: {type: object, properties: {kind: {type: string}}}}\n      \
         responses: {'200': {description: ok}}\n";
    let querystring = "openapi: 3.2.0\ninfo: {title: P, version: '1'}\npaths:\n  /a:\n    get:\n      \
         operationId: a\n      parameters:\n        \
         - {in: querystring, content: {application/json: {schema: {type: object}}}}\n      \
         responses: {'200': {description: ok}}\n";
    let guess = "openapi: 3.0.3\ninfo: {title: P, version: '1'}\npaths:\n  /a:\n    get:\n      \
         parameters: [{name: where, schema: {type: string}}]\n      \
         responses: {'200': {description: ok}}\n";
    let dir = folder(
        "parameter-fields",
        &[
            ("openapi.yaml", openapi),
            ("swagger.yaml", swagger),
            ("querystring.yaml", querystring),
            ("guess.yaml", guess),
        ],
    );
    let mapped = map_ok(&dir.join("openapi.yaml"));
    let w = warning_with(&mapped, "needs a non-empty `name` to be sent");
    assert!(
        w.starts_with("line 8: /paths/~1a~1{id}/get/parameters/0: "),
        "{w}"
    );
    assert!(w.contains("left out"), "{w}");
    let w = warning_with(&mapped, "parameter `id` has no `in`; read as `in: path`");
    assert!(
        w.starts_with("line 9: /paths/~1a~1{id}/get/parameters/1: "),
        "{w}"
    );
    assert_eq!(input_properties(&mapped, 0), ["id"]);
    assert_eq!(
        mapped.api.tools[0].input_schema["properties"]["id"]["type"],
        "integer"
    );

    // Swagger 2.0: a `schema` says body; the path template says path.
    let mapped = map_ok(&dir.join("swagger.yaml"));
    let w = warning_with(&mapped, "only a body parameter has: read as `in: body`");
    assert!(
        w.starts_with("line 10: /paths/~1a~1{id}/post/parameters/2: "),
        "{w}"
    );
    let w = warning_with(
        &mapped,
        "read as `in: path`, since the path template names it",
    );
    assert!(w.starts_with("line 9: "), "{w}");
    warning_with(&mapped, "needs a non-empty `name` to be sent");
    let input = &mapped.api.tools[0].input_schema;
    assert_eq!(input["properties"]["id"]["type"], "integer", "{input}");
    assert!(input.to_string().contains("kind"), "{input}");

    // The whole query string needs no name on the wire; its argument gets one.
    let mapped = map_ok(&dir.join("querystring.yaml"));
    let w = warning_with(&mapped, "`in: querystring` parameter has no `name`");
    assert!(
        w.starts_with("line 8: /paths/~1a/get/parameters/0: "),
        "{w}"
    );
    assert_eq!(input_properties(&mapped, 0), ["querystring"]);

    // Elsewhere where to send it would be a guess: refused, saying what to write.
    let err = map_err(&dir.join("guess.yaml"));
    assert!(
        err.contains("guess.yaml: /paths/~1a/get/parameters/0/in"),
        "{err}"
    );
    assert!(err.contains("found no `in`"), "{err}");
    assert!(err.contains("--skip-broken"), "{err}");
}

#[test]
fn a_path_item_or_response_reference_to_nothing_leaves_it_out() {
    let openapi = "openapi: 3.0.3\ninfo: {title: P, version: '1'}\npaths:\n  /gone:\n    \
         $ref: '#/x-shared-path/getItems'\n  /a:\n    get:\n      operationId: a\n      \
         responses:\n        '200': {$ref: '#/components/responses/Missing'}\n";
    let swagger = "swagger: '2.0'\ninfo: {title: P, version: '1'}\npaths:\n  /gone:\n    \
         $ref: '#/x-shared-path/getItems'\n  /a:\n    get:\n      operationId: a\n      \
         responses:\n        '200': {$ref: '#/responses/Missing'}\n";
    let dir = folder(
        "path-item-nothing",
        &[("openapi.yaml", openapi), ("swagger.yaml", swagger)],
    );
    for file in ["openapi.yaml", "swagger.yaml"] {
        let mapped = map_ok(&dir.join(file));
        let w = warning_with(&mapped, "`#/x-shared-path/getItems` points to nothing");
        assert!(w.starts_with("line 5: /paths/~1gone/$ref: "), "{file}: {w}");
        assert!(
            w.contains("this path item is left out (no tools for `/gone`)"),
            "{w}"
        );
        let w = warning_with(&mapped, "the `200` response is read as one without content");
        assert!(
            w.starts_with("line 10: /paths/~1a/get/responses/200/$ref: "),
            "{file}: {w}"
        );
        assert_eq!(mapped.api.tools.len(), 1);
        assert!(mapped.api.tools[0].output_schema.is_none());
    }
}

#[test]
fn a_security_requirement_written_as_a_scheme_name_is_read_as_that_scheme() {
    let spec = |security: &str| {
        format!(
            "openapi: 3.1.0\ninfo: {{title: S, version: '1'}}\npaths:\n  /a:\n    get:\n      \
             operationId: a\n      security: {security}\n      responses: {{'204': \
             {{description: ok}}}}\ncomponents:\n  securitySchemes:\n    \
             key: {{type: apiKey, in: header, name: X-Key}}\n    \
             other: {{type: http, scheme: bearer}}\n"
        )
    };
    let dir = folder(
        "security-name",
        &[
            ("listed.yaml", &spec("[[key]]")),
            ("string.yaml", &spec("[key]")),
            ("bare.yaml", &spec("key")),
            ("two.yaml", &spec("[[key, other]]")),
            ("unknown.yaml", &spec("[nokey]")),
        ],
    );
    for (file, written, at) in [
        (
            "listed.yaml",
            "[key] is read as `{key: []}`",
            "/paths/~1a/get/security/0",
        ),
        (
            "string.yaml",
            "`key` is read as `{key: []}`",
            "/paths/~1a/get/security/0",
        ),
        (
            "bare.yaml",
            "`key` is read as `{key: []}`",
            "/paths/~1a/get/security",
        ),
    ] {
        let mapped = map_ok(&dir.join(file));
        let w = warning_with(&mapped, written);
        assert!(w.starts_with(&format!("line 7: {at}: ")), "{file}: {w}");
        assert!(w.contains("the defined scheme `key` without scopes"), "{w}");
        let security = &mapped.api.tools[0].plan.security;
        assert_eq!(security.len(), 1, "{file}");
    }
    // Two names could mean both or either: refused, showing the form to write.
    for file in ["two.yaml", "unknown.yaml"] {
        let err = map_err(&dir.join(file));
        assert!(
            err.contains(&format!("{file}:7: /paths/~1a/get/security/0")),
            "{err}"
        );
        assert!(err.contains("write e.g. `{api_key: []}`"), "{err}");
    }
}

#[test]
fn references_to_files_that_are_not_there_are_read_as_references_to_nothing() {
    let dir = folder(
        "missing-files",
        &[
            (
                "spec/openapi.yaml",
                "openapi: 3.0.3\ninfo: {title: M, version: '1'}\npaths:\n  /gone:\n    \
                 $ref: 'paths/gone.yaml'\n  /a:\n    get:\n      operationId: a\n      \
                 parameters:\n        - $ref: 'parameters.yaml#/Session'\n        \
                 - {name: q, in: query, schema: {$ref: 'schemas/missing.yaml#/Q'}}\n      \
                 responses:\n        '200':\n          description: ok\n          content:\n            \
                 application/json:\n              schema: {$ref: 'schemas/pet.yaml#/Pet'}\n\
                 components:\n  responses:\n    Unused: {$ref: 'responses/unused.yaml'}\n",
            ),
            (
                // Refers to a definition its own file does not have (multi-file-swagger).
                "spec/schemas/pet.yaml",
                "Pet:\n  type: object\n  properties:\n    owner: {$ref: '#/definitions/User'}\n    \
                 tag: {$ref: 'tag.yaml/#/Tag'}\n",
            ),
            ("spec/schemas/tag.yaml", "Tag: {type: string}\n"),
            ("package.json", "{}"),
        ],
    );
    let mapped = map_ok(&dir.join("spec/openapi.yaml"));
    assert_eq!(mapped.api.tools.len(), 1);
    let doc = dir.join("spec").canonicalize().unwrap();
    let w = warning_with(&mapped, "`paths/gone.yaml` names");
    assert!(w.starts_with("line 5: /paths/~1gone/$ref: "), "{w}");
    assert!(
        w.contains(&format!(
            "{}, which does not exist",
            doc.join("paths/gone.yaml").display()
        )),
        "{w}"
    );
    warning_with(&mapped, "this path item is left out (no tools for `/gone`)");
    let w = warning_with(
        &mapped,
        "`parameters.yaml#/Session` points to nothing that could be read",
    );
    assert!(
        w.starts_with("line 10: /paths/~1a/get/parameters/0/$ref: "),
        "{w}"
    );
    assert!(w.contains("this parameter is left out"), "{w}");
    let w = warning_with(&mapped, "`schemas/missing.yaml#/Q` names");
    assert!(w.starts_with("line 11: "), "{w}");
    assert!(w.contains("read as a schema that accepts any value"), "{w}");
    let w = warning_with(&mapped, "`#/definitions/User` points to nothing in");
    assert!(w.contains("(in "), "{w}");
    assert!(w.contains("accepts any value"), "{w}");
    // `tag.yaml/` names a folder where there is a file: not read, any value.
    let w = warning_with(&mapped, "`tag.yaml/#/Tag` names");
    assert!(w.contains("cannot be read"), "{w}");
    let w = warning_with(&mapped, "`responses/unused.yaml` names");
    assert!(
        w.starts_with("line 20: /components/responses/Unused/$ref: "),
        "{w}"
    );
    assert_eq!(input_properties(&mapped, 0), ["q"]);
    let output = mapped.api.tools[0]
        .output_schema
        .as_ref()
        .unwrap()
        .to_string();
    assert!(output.contains("owner"), "{output}");

    // A request body from a file that is not there cannot be left out: refused.
    let dir = folder(
        "missing-body",
        &[(
            "openapi.yaml",
            "openapi: 3.0.3\ninfo: {title: M, version: '1'}\npaths:\n  /a:\n    post:\n      \
             requestBody: {$ref: 'tests/specs/_schemas.json#/Body'}\n      \
             responses: {'200': {description: ok}}\n",
        )],
    );
    let err = map_err(&dir.join("openapi.yaml"));
    assert!(
        err.contains("openapi.yaml:6: /paths/~1a/post/requestBody/$ref"),
        "{err}"
    );
    assert!(
        err.contains("which does not exist. It stands for a request body"),
        "{err}"
    );
    assert!(
        err.contains("add the file, or correct the reference"),
        "{err}"
    );
}

#[test]
fn missing_files_outside_the_root_hidden_or_behind_links_stay_refused() {
    let spec = |reference: &str| {
        format!(
            "openapi: 3.0.3\ninfo: {{title: M, version: '1'}}\npaths:\n  /a:\n    get:\n      \
             responses:\n        '200':\n          description: ok\n          content:\n            \
             application/json:\n              schema: {{$ref: '{reference}'}}\n"
        )
    };
    let dir = folder(
        "missing-guarded",
        &[
            ("repo/.git/HEAD", ""),
            (
                "repo/spec/outside.yaml",
                &spec("../../elsewhere/missing.yaml"),
            ),
            ("repo/spec/hidden.yaml", &spec("../.secrets/missing.yaml")),
            ("repo/spec/linked.yaml", &spec("out/missing.yaml")),
            ("elsewhere/present.yaml", "{}"),
        ],
    );
    let err = map_err(&dir.join("repo/spec/outside.yaml"));
    assert!(err.contains("outside.yaml:11: "), "{err}");
    assert!(err.contains("cannot be read"), "{err}");
    let err = map_err(&dir.join("repo/spec/hidden.yaml"));
    assert!(err.contains("hidden.yaml:11: "), "{err}");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(dir.join("elsewhere"), dir.join("repo/spec/out")).unwrap();
        let err = map_err(&dir.join("repo/spec/linked.yaml"));
        assert!(err.contains("linked.yaml:11: "), "{err}");
    }
}
