//! `cargo mcpgen serve` against the crates the generator writes for the same documents and
//! settings: the same `initialize` answer, the same `tools/list`, `resources/list`,
//! `resources/templates/list` and `prompts/list`, byte for byte, and the same resource text.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use mcpgen_tests::{
    faults_binary, hardening_binary, kitchen_sink_binary, mcpgen_binary, multi_binary,
    oauth_binary, openapi32_binary, petstore_binary, resources_binary, workspace_root,
};

/// The requests both servers answer, one JSON-RPC message a line.
const EXCHANGE: [&str; 8] = [
    r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"compare","version":"1"}}}"#,
    r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
    r#"{"jsonrpc":"2.0","id":3,"method":"resources/list"}"#,
    r#"{"jsonrpc":"2.0","id":4,"method":"resources/read","params":{"uri":"openapi://spec"}}"#,
    r#"{"jsonrpc":"2.0","id":5,"method":"prompts/list"}"#,
    r#"{"jsonrpc":"2.0","id":6,"method":"resources/read","params":{"uri":"openapi://notes_desk/spec"}}"#,
    r#"{"jsonrpc":"2.0","id":7,"method":"resources/templates/list"}"#,
];

/// No upstream is called: an address nothing listens on.
const NO_UPSTREAM: [&str; 2] = ["--base-url", "http://127.0.0.1:9/api"];

/// Runs `bin ARGS BASE` over stdio, sends [`EXCHANGE`] and returns the answers as written.
fn answers_at(bin: &Path, args: &[&str], base: &[&str]) -> Vec<String> {
    let mut child = Command::new(bin)
        .args(args)
        .args(base)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{} starts: {e}", bin.display()));
    let mut stdin = child.stdin.take().expect("piped stdin");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut lines = Vec::new();
    for request in EXCHANGE {
        writeln!(stdin, "{request}").expect("the server reads its input");
        if request.contains(r#""id""#) {
            let mut line = String::new();
            stdout.read_line(&mut line).expect("the server answers");
            assert!(!line.is_empty(), "{} closed its output", bin.display());
            lines.push(line);
        }
    }
    drop(stdin);
    child.wait().expect("the server exits when its input ends");
    lines
}

/// Asserts that `serve SPEC ARGS` answers as the generated server does.
fn assert_same(generated: &Path, spec: &str, args: &[&str]) {
    assert_same_of(generated, &[spec], args, &NO_UPSTREAM);
}

/// Asserts that `serve SPECS ARGS` answers as the generated server does, both given the base
/// URL options `base`.
fn assert_same_of(generated: &Path, specs: &[&str], args: &[&str], base: &[&str]) -> Vec<String> {
    let paths: Vec<String> = specs
        .iter()
        .map(|spec| {
            let path = workspace_root().join(spec);
            path.to_str().expect("a UTF-8 path").to_owned()
        })
        .collect();
    let spec = paths.join(" ");
    let mut serve_args = vec!["serve"];
    serve_args.extend(paths.iter().map(String::as_str));
    serve_args.extend_from_slice(args);
    let expected = answers_at(generated, &[], base);
    let served = answers_at(mcpgen_binary(), &serve_args, base);
    let names = [
        "initialize",
        "tools/list",
        "resources/list",
        "resources/read",
        "prompts/list",
        "resources/read",
        "resources/templates/list",
    ];
    for ((name, want), got) in names.iter().zip(&expected).zip(&served) {
        assert!(
            !want.contains(r#""error""#)
                || ["resources/read", "prompts/list", "resources/templates/list"].contains(name),
            "{name}: {want}"
        );
        assert!(
            want == got,
            "{name} differs for {spec}:\ngenerated: {want}\nserved:    {got}"
        );
    }
    assert_eq!(expected.len(), served.len());
    expected
}

#[test]
fn petstore_is_served_as_generated() {
    assert_same(
        petstore_binary(),
        "examples/petstore/openapi.yaml",
        &["--name", "petstore-mcp"],
    );
}

#[test]
fn kitchen_sink_is_served_as_generated() {
    assert_same(
        kitchen_sink_binary(),
        "tests/fixtures/kitchen-sink.yaml",
        &["--name", "kitchen-sink-mcp"],
    );
}

#[test]
fn mixed_mode_is_served_as_generated() {
    assert_same(
        oauth_binary(),
        "tests/fixtures/oauth.yaml",
        &[
            "--name",
            "oauth-pets-mcp",
            "--mode",
            "mixed",
            "--include-operation",
            "getPetById",
        ],
    );
}

#[test]
fn openapi_32_is_served_as_generated() {
    assert_same(
        openapi32_binary(),
        "tests/fixtures/openapi32.yaml",
        &["--name", "thirty-two-mcp", "--include-tag", "catalog"],
    );
}

#[test]
fn hostile_and_faulty_documents_are_served_as_generated() {
    assert_same(
        hardening_binary(),
        "tests/fixtures/hardening.yaml",
        &["--name", "hardening-mcp"],
    );
    assert_same(
        faults_binary(),
        "tests/fixtures/faults.yaml",
        &["--name", "faults-mcp"],
    );
}

#[test]
fn resources_and_their_prompts_are_served_as_generated() {
    let answers = assert_same_of(
        resources_binary(),
        &["tests/fixtures/resources.yaml"],
        &[
            "--name",
            "resources-mcp",
            "--config",
            workspace_root()
                .join("tests/fixtures/resources.toml")
                .to_str()
                .expect("a UTF-8 path"),
        ],
        &NO_UPSTREAM,
    );
    // What was compared holds the resources, the template and the prompts.
    assert!(
        answers[2].contains(r#""uri":"test://account""#),
        "{}",
        answers[2]
    );
    assert!(
        answers[6].contains(r#""uriTemplate":"test://template/{id}/data""#),
        "{}",
        answers[6]
    );
    assert!(
        answers[4].contains(r#""name":"test_prompt_with_embedded_resource""#),
        "{}",
        answers[4]
    );
}

#[test]
fn several_documents_are_served_as_generated() {
    let answers = assert_same_of(
        multi_binary(),
        &[
            "tests/fixtures/multi/notes/openapi.yaml",
            "tests/fixtures/multi/files/openapi.yaml",
        ],
        &["--name", "multi-mcp"],
        &[
            "--base-url",
            "notes_desk=http://127.0.0.1:9/notes",
            "--base-url",
            "file_shelf=http://127.0.0.1:9/files",
        ],
    );
    // What was compared is the server of both APIs.
    assert!(
        answers[1].contains(r#""name":"notes_desk_getNote""#),
        "{}",
        answers[1]
    );
    assert!(
        answers[1].contains(r#""name":"file_shelf_getFile""#),
        "{}",
        answers[1]
    );
    assert!(
        answers[2].contains("openapi://file_shelf/spec"),
        "{}",
        answers[2]
    );
    assert!(
        answers[5].contains(r#"\"title\":\"Notes Desk\""#),
        "{}",
        answers[5]
    );
}

#[test]
fn a_document_that_does_not_map_is_a_located_error() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let spec = dir.path().join("broken.yaml");
    std::fs::write(
        &spec,
        "openapi: 3.1.0\ninfo: {title: T, version: '1'}\npaths:\n  /a:\n    post:\n      requestBody: {$ref: '#/components/requestBodies/Missing'}\n      responses: {'200': {description: ok}}\n",
    )
    .expect("the document is written");
    let output = Command::new(mcpgen_binary())
        .args(["serve", spec.to_str().expect("a UTF-8 path")])
        .stdin(Stdio::null())
        .output()
        .expect("cargo-mcpgen runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("broken.yaml:6: /paths/~1a/post/requestBody/$ref"),
        "{stderr}"
    );
    assert!(
        stderr.contains("/components/requestBodies/Missing"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty(), "nothing is served");
}
