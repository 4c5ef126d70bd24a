//! The MCP Python SDK's client, for interoperability tests: `mcp` from PyPI, pinned with every
//! dependency by `tests/python/requirements.txt`, installed on first use by
//! `scripts/python-mcp.sh install` into a virtual environment under `target/python-tools` (the
//! script locks and stamps the install, so parallel tests and later runs do not install again).
//! The clients themselves are small scripts in `tests/python/`.

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;

use crate::workspace_root;

/// The virtual environment's python, installed once per test process.
pub fn python() -> &'static PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let output = std::process::Command::new(workspace_root().join("scripts/python-mcp.sh"))
            .arg("install")
            .current_dir(workspace_root())
            .output()
            .expect("scripts/python-mcp.sh runs");
        assert!(
            output.status.success(),
            "installing the MCP Python SDK failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .find_map(|line| line.strip_prefix("python "))
            .map(PathBuf::from)
            .expect("the script prints `python PATH`")
    })
}

/// Runs `tests/python/SCRIPT` with `args` on the SDK's python and returns the JSON object it
/// prints last; panics with its stderr when it fails.
pub async fn run_script(script: &str, args: &[&str]) -> Value {
    let python = python().clone();
    let output = tokio::process::Command::new(python)
        .arg(workspace_root().join("tests/python").join(script))
        .args(args)
        .output()
        .await
        .expect("python runs");
    assert!(
        output.status.success(),
        "{script} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("{script} printed no JSON ({e}): {stdout}"))
}
