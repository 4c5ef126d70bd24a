//! The allocator a generated server runs with: mimalloc, through the generated crate's default
//! `mimalloc` feature, without transparent huge pages; the system's when the crate is built with
//! `--no-default-features`. Both serve tool calls over streamable HTTP against the example
//! upstream on 127.0.0.1. `cargo mcpgen serve` and the attribute example (the runtime's
//! `mimalloc` feature) run on mimalloc too.

use std::path::Path;

use mcpgen_codegen::Settings;
use mcpgen_tests::petstore::{ENV_TOKEN, TOKEN_VAR, upstream};
use mcpgen_tests::{
    HttpServer, assert_ok, build_example, build_generated_server_with, call, mcpgen_binary,
    petstore_binary, workspace_root,
};
use serde_json::json;

/// What the server writes to stderr for `--help` with `MIMALLOC_VERBOSE=1`: on mimalloc, a
/// `mimalloc: process init` line, its version, then each of its options as `option 'NAME':
/// VALUE`, in the order of their numbers; nothing of mimalloc on the system allocator.
fn verbose_start(bin: &Path) -> String {
    let output = std::process::Command::new(bin)
        .arg("--help")
        .env("MIMALLOC_VERBOSE", "1")
        .output()
        .expect("the server runs");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[track_caller]
fn assert_on_mimalloc(verbose_start: &str, what: &str) {
    assert!(
        verbose_start
            .lines()
            .any(|l| l.starts_with("mimalloc: process init")),
        "{what} runs on mimalloc: {verbose_start}"
    );
}

/// The kernel's transparent huge page mode (`always`, `madvise` or `never`), where it has one.
fn huge_page_mode() -> Option<String> {
    let modes = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled").ok()?;
    let chosen = modes.split('[').nth(1)?.split(']').next()?;
    Some(chosen.to_owned())
}

/// The anonymous memory of process `pid` in transparent huge pages, in KiB.
fn huge_page_kib(pid: u32) -> u64 {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .expect("Linux reports a process's memory");
    rollup
        .lines()
        .find_map(|line| line.strip_prefix("AnonHugePages:"))
        .and_then(|kib| kib.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("smaps_rollup has AnonHugePages")
}

/// Serves `getPetById` over HTTP and returns the server, still running, for its memory to be
/// read.
async fn serve_one_call(bin: &Path, up: &petstore_upstream::Upstream) -> HttpServer {
    let server = HttpServer::start(
        bin,
        &["--base-url", &up.base_url()],
        &[(TOKEN_VAR, ENV_TOKEN)],
    )
    .await;
    let client = server.client(None).await;
    let result = call(&client, "getPetById", json!({"petId": "1"})).await;
    assert_ok(&result);
    assert_eq!(
        result.structured_content.as_ref().unwrap()["name"],
        json!("Rex"),
        "{result:?}"
    );
    client.cancel().await.ok();
    server
}

#[tokio::test]
async fn a_generated_server_runs_on_mimalloc_without_huge_pages_and_on_the_system_allocator_without_the_feature()
 {
    let up = upstream().await;

    let default_build = petstore_binary();
    let start = verbose_start(default_build);
    assert_on_mimalloc(&start, "the default build");
    // The runtime sets the purge delay by the option's number, which mimalloc's Rust bindings
    // do not name: the number must still be that option's in the mimalloc built.
    let options: Vec<&str> = start
        .lines()
        .filter_map(|l| l.strip_prefix("option '")?.split('\'').next())
        .collect();
    assert_eq!(
        options.get(mcpgen::allocator::PURGE_DELAY_OPTION as usize),
        Some(&"purge_delay"),
        "{options:?}"
    );
    let server = serve_one_call(default_build, &up).await;
    // mimalloc asks for transparent huge pages unless built with `no_thp`, which in the
    // kernel's `madvise` mode (Debian's default) turns its first 8 MiB into huge pages the
    // server never fills. In `always` mode the kernel gives every process huge pages
    // unasked, so there the figure says nothing about the server.
    if huge_page_mode().as_deref() == Some("madvise") {
        let pid = server.pid().expect("the server runs");
        assert_eq!(huge_page_kib(pid), 0, "the server asked for huge pages");
    }
    server.stop().await;

    let system_build = build_generated_server_with(
        &workspace_root().join("examples/petstore/openapi.yaml"),
        Settings::new()
            .crate_name("petstore-system-allocator-mcp")
            .env_prefix("PETSTORE"),
        &["--no-default-features"],
    );
    let start = verbose_start(&system_build);
    assert!(
        !start.contains("mimalloc"),
        "built without the feature, the server runs on the system allocator: {start}"
    );
    serve_one_call(&system_build, &up).await.stop().await;
}

#[test]
fn serve_and_a_crate_with_the_runtimes_feature_run_on_mimalloc() {
    assert_on_mimalloc(&verbose_start(mcpgen_binary()), "`cargo mcpgen serve`");
    assert_on_mimalloc(
        &verbose_start(&build_example("macro-petstore")),
        "the attribute example",
    );
}
