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
