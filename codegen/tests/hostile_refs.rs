//! Hostile references between files: references that multiply or chain without end are
//! refused in bounded time and memory, with the file and pointer where it happens; hidden
//! files and anything but regular files are never read.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use mcpgen_codegen::bundle::{self, RefPolicy, SchemaHome};
use mcpgen_codegen::{Settings, load, map_document};

/// A fresh folder for one test, holding `files` (relative path → text).
fn folder(name: &str, files: &[(&str, String)]) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("mcpgen-hostile-refs-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
    }
    dir
}

/// A 3.0 document whose one operation answers with the response `reference` names.
fn root_referring_to(reference: &str) -> String {
    format!(
        "openapi: 3.0.3\ninfo: {{title: t, version: '1'}}\npaths:\n  /a:\n    get:\n      operationId: a\n      responses:\n        '200':\n          $ref: '{reference}'\n"
    )
}

/// A 3.0 document whose one operation answers with the schema `reference` names.
fn root_with_schema(reference: &str) -> String {
    format!(
        "openapi: 3.0.3\ninfo: {{title: t, version: '1'}}\npaths:\n  /a:\n    get:\n      operationId: a\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {{$ref: '{reference}'}}\n"
    )
}

/// `map_document`'s error for `spec`, which must come within `limit`.
fn refused(spec: &Path, limit: Duration) -> String {
    let started = Instant::now();
    let err = map_document(spec, &Settings::new())
        .err()
        .unwrap_or_else(|| panic!("{} must be refused", spec.display()))
        .to_string();
    assert!(
        started.elapsed() < limit,
        "took {:?}: {err}",
        started.elapsed()
    );
    err
}

/// Responses `R0..R{levels}`, each linking `fanout` times to the next.
fn response_chain(levels: usize, fanout: usize) -> String {
    let mut text = String::from("responses:\n");
    for k in 0..levels {
        let links: Vec<String> = (0..fanout)
            .map(|i| format!("l{i}: {{$ref: '#/responses/R{}'}}", k + 1))
            .collect();
        text.push_str(&format!(
            "  R{k}: {{description: d, links: {{{}}}}}\n",
            links.join(", ")
        ));
    }
    text.push_str(&format!("  R{levels}: {{description: end}}\n"));
    text
}

#[test]
fn references_that_multiply_are_refused_within_the_copy_budget() {
    // 40 responses in another file, each linking twice to the next: 2^40 copies in place.
    let dir = folder(
        "multiply",
        &[
            (
                "openapi.yaml",
                root_referring_to("chain.yaml#/responses/R0"),
            ),
            ("chain.yaml", response_chain(40, 2)),
        ],
    );
    let err = refused(&dir.join("openapi.yaml"), Duration::from_secs(60));
    assert!(err.contains("chain.yaml"), "{err}");
    assert!(err.contains("/links/"), "{err}");
    assert!(
        err.contains(&format!(
            "would copy more than {} JSON nodes",
            bundle::MAX_COPIED_NODES
        )),
        "{err}"
    );
}

#[test]
fn references_reused_within_the_budget_are_copied_once_each() {
    // 2^12 copies of the last response: within the budget, and each object is resolved once.
    let dir = folder(
        "reuse",
        &[
            (
                "openapi.yaml",
                root_referring_to("chain.yaml#/responses/R0"),
            ),
            ("chain.yaml", response_chain(12, 2)),
        ],
    );
    let spec = dir.join("openapi.yaml");
    let mut doc = load::load_file(&spec).unwrap().value;
    bundle::bundle(
        &spec,
        &mut doc,
        SchemaHome::Components,
        &RefPolicy::default(),
    )
    .unwrap();
    let mut response = &doc["paths"]["/a"]["get"]["responses"]["200"];
    for _ in 0..12 {
        assert_eq!(response["links"]["l0"], response["links"]["l1"]);
        response = &response["links"]["l1"];
    }
    assert_eq!(response["description"], "end");
    map_document(&spec, &Settings::new()).unwrap();
}

#[test]
fn long_chains_of_references_are_refused_without_overflowing_the_stack() {
    let n = 100_000;
    // Responses each linking to the next, and responses that are only a reference to the next.
    let mut aliases = String::from("responses:\n");
    for k in 0..n {
        aliases.push_str(&format!("  R{k}: {{$ref: '#/responses/R{}'}}\n", k + 1));
    }
    aliases.push_str(&format!("  R{n}: {{description: end}}\n"));
    for (name, chain) in [("links", response_chain(n, 1)), ("aliases", aliases)] {
        let dir = folder(
            name,
            &[
                (
                    "openapi.yaml",
                    root_referring_to("chain.yaml#/responses/R0"),
                ),
                ("chain.yaml", chain),
            ],
        );
        let err = refused(&dir.join("openapi.yaml"), Duration::from_secs(60));
        assert!(err.contains("chain.yaml"), "{err}");
        assert!(err.contains("/responses/R"), "{err}");
        assert!(
            err.contains(&format!("nested deeper than {} levels", bundle::MAX_DEPTH)),
            "{err}"
        );
    }
}

#[test]
fn copies_nested_within_the_depth_limit_generate() {
    // Each level adds two JSON levels and one reference: about 245 of the 256 levels allowed.
    let dir = folder(
        "within-depth",
        &[
            (
                "openapi.yaml",
                root_referring_to("chain.yaml#/responses/R0"),
            ),
            ("chain.yaml", response_chain(80, 1)),
        ],
    );
    map_document(&dir.join("openapi.yaml"), &Settings::new()).unwrap();
}

#[test]
fn a_long_chain_of_schemas_across_files_generates() {
    // Schemas are bundled from a queue, not recursively: a chain this long needs no stack.
    let n = 5_000;
    let mut chain = String::new();
    for k in 0..n {
        chain.push_str(&format!(
            "S{k}: {{type: object, properties: {{next: {{$ref: '#/S{}'}}}}}}\n",
            k + 1
        ));
    }
    chain.push_str(&format!("S{n}: {{type: string}}\n"));
    let dir = folder(
        "schemas",
        &[
            ("openapi.yaml", root_with_schema("chain.yaml#/S0")),
            ("chain.yaml", chain),
        ],
    );
    let spec = dir.join("openapi.yaml");
    let mut doc = load::load_file(&spec).unwrap().value;
    bundle::bundle(
        &spec,
        &mut doc,
        SchemaHome::Components,
        &RefPolicy::default(),
    )
    .unwrap();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    assert_eq!(schemas.len(), n + 1);
    assert_eq!(
        schemas["S0"]["properties"]["next"]["$ref"],
        "#/components/schemas/S1"
    );
}

#[test]
fn same_file_chains_are_followed_not_copied() {
    // References within the root document are followed where they are read, never copied in
    // place: 2^40 responses, headers and examples, and chains of parameters and path items.
    let mut doc = String::from(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /a: {$ref: '#/components/pathItems/P0'}\ncomponents:\n  pathItems:\n",
    );
    for k in 0..20 {
        doc.push_str(&format!(
            "    P{k}: {{$ref: '#/components/pathItems/P{}'}}\n",
            k + 1
        ));
    }
    doc.push_str("    P20: {get: {operationId: a, parameters: [{$ref: '#/components/parameters/Q0'}], responses: {'200': {$ref: '#/components/responses/R0'}}}}\n  parameters:\n");
    for k in 0..20 {
        doc.push_str(&format!(
            "    Q{k}: {{$ref: '#/components/parameters/Q{}'}}\n",
            k + 1
        ));
    }
    doc.push_str("    Q20: {name: q, in: query, schema: {type: string}, examples: {a: {$ref: '#/components/examples/E0'}, b: {$ref: '#/components/examples/E0'}}}\n  examples:\n");
    for k in 0..40 {
        doc.push_str(&format!("    E{k}: {{value: {{a: {{$ref: '#/components/examples/E{0}'}}, b: {{$ref: '#/components/examples/E{0}'}}}}}}\n", k + 1));
    }
    doc.push_str("    E40: {value: 1}\n  responses:\n");
    for k in 0..40 {
        doc.push_str(&format!("    R{k}: {{description: d, headers: {{h: {{$ref: '#/components/headers/H0'}}}}, links: {{a: {{$ref: '#/components/responses/R{0}'}}, b: {{$ref: '#/components/responses/R{0}'}}}}}}\n", k + 1));
    }
    doc.push_str("    R40: {description: end, content: {application/json: {schema: {type: string}}}}\n  headers:\n");
    for k in 0..40 {
        doc.push_str(&format!("    H{k}: {{schema: {{type: string}}, examples: {{a: {{$ref: '#/components/headers/H{0}'}}, b: {{$ref: '#/components/headers/H{0}'}}}}}}\n", k + 1));
    }
    doc.push_str("    H40: {schema: {type: string}}\n");
    let dir = folder("same-file", &[("openapi.yaml", doc)]);
    let started = Instant::now();
    let mapped = map_document(&dir.join("openapi.yaml"), &Settings::new()).unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(mapped.api.tools.len(), 1);
}

#[test]
fn hidden_files_are_not_read_unless_allowed() {
    let secret = "TOKEN: {type: string, description: hunter2}\n".to_owned();
    let dir = folder(
        "hidden",
        &[
            ("openapi.yaml", String::new()),
            (".env", secret.clone()),
            (".kube/config", secret.clone()),
            ("visible/.secrets.yaml", secret.clone()),
            ("schemas/ok.yaml", "Ok: {type: string}\n".to_owned()),
        ],
    );
    // A symbolic link with an innocent name does not make a hidden file readable.
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.join(".env"), dir.join("innocent.yaml")).unwrap();
    let spec = dir.join("openapi.yaml");
    let mut hidden = vec![
        ".env#/TOKEN",
        "./.env#/TOKEN",
        ".kube/config#/TOKEN",
        "visible/.secrets.yaml#/TOKEN",
        "schemas/../.env#/TOKEN",
    ];
    if cfg!(unix) {
        hidden.push("innocent.yaml#/TOKEN");
    }
    for reference in hidden {
        std::fs::write(&spec, root_with_schema(reference)).unwrap();
        let err = refused(&spec, Duration::from_secs(5));
        assert!(err.contains("openapi.yaml"), "{err}");
        assert!(err.contains("/schema/$ref"), "{err}");
        assert!(err.contains(reference), "{err}");
        assert!(err.contains("is hidden"), "{err}");
        assert!(err.contains("--allow-hidden-refs"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }

    // `./` and `../` that stay inside the folder are fine.
    std::fs::write(&spec, root_with_schema("./schemas/../schemas/ok.yaml#/Ok")).unwrap();
    map_document(&spec, &Settings::new()).unwrap();

    // The policy can allow hidden files.
    std::fs::write(&spec, root_with_schema(".kube/config#/TOKEN")).unwrap();
    let mut doc = load::load_file(&spec).unwrap().value;
    let policy = RefPolicy {
        allow_hidden: true,
        ..Default::default()
    };
    bundle::bundle(&spec, &mut doc, SchemaHome::Components, &policy).unwrap();
    assert_eq!(
        doc["components"]["schemas"]["TOKEN"]["description"],
        "hunter2"
    );
}

/// Runs `f` on another thread and fails the test if it has not returned within 10 seconds
/// (instead of hanging the test run, as a blocked read would).
fn within_seconds<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(f());
    });
    receiver
        .recv_timeout(Duration::from_secs(10))
        .expect("reading must not block")
}

#[cfg(unix)]
#[test]
fn fifos_folders_and_devices_are_refused_without_blocking() {
    let dir = folder(
        "fifo",
        &[("schemas/pet.yaml", "Pet: {type: string}\n".to_owned())],
    );
    let fifo = dir.join("pipe.yaml");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());

    // A FIFO as the document itself: nothing writes to it, so opening or reading it plainly
    // would wait forever.
    let root_fifo = fifo.clone();
    let err = within_seconds(move || {
        map_document(&root_fifo, &Settings::new())
            .unwrap_err()
            .to_string()
    });
    assert!(err.contains("pipe.yaml"), "{err}");
    assert!(
        err.contains("named pipe (FIFO), not a regular file"),
        "{err}"
    );

    // A device as the document: never ending, never read.
    let err = within_seconds(|| {
        map_document(Path::new("/dev/zero"), &Settings::new())
            .unwrap_err()
            .to_string()
    });
    assert!(err.contains("a device, not a regular file"), "{err}");

    // A FIFO or a folder named by a reference.
    let spec = dir.join("openapi.yaml");
    for (reference, kind) in [
        ("pipe.yaml#/Pet", "a named pipe (FIFO)"),
        ("schemas#/Pet", "a folder"),
    ] {
        std::fs::write(&spec, root_with_schema(reference)).unwrap();
        let spec = spec.clone();
        let err = within_seconds(move || {
            map_document(&spec, &Settings::new())
                .unwrap_err()
                .to_string()
        });
        assert!(err.contains("openapi.yaml"), "{err}");
        assert!(err.contains("/schema/$ref"), "{err}");
        assert!(
            err.contains(&format!("{kind}, not a regular file")),
            "{err}"
        );
    }
}
