//! Generation and compile cost: `cargo mcpgen generate` timed with its peak memory, and the
//! generated crate built with cargo (first build, then a rebuild after touching the tool
//! table).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::procs::{Usage, measured_run};

/// Runs `cargo-mcpgen mcpgen generate SPEC --out OUT --name NAME --quiet` into a fresh
/// folder and reports what it used.
pub async fn generate(
    cli: &Path,
    spec: &Path,
    out: &Path,
    name: &str,
    log: &Path,
    timeout: Duration,
) -> Result<Usage, String> {
    if out.exists() {
        std::fs::remove_dir_all(out).map_err(|e| format!("cannot clear {}: {e}", out.display()))?;
    }
    let mut command = std::process::Command::new(cli);
    command
        .args(["mcpgen", "generate"])
        .arg(spec)
        .arg("--out")
        .arg(out)
        .args(["--name", name, "--quiet"]);
    measured_run(command, log, timeout).await
}

/// Generates into `out` only when its files are not current (so an unchanged crate keeps
/// its modification times and cargo's cache stays valid), then makes sure it has a lock file:
/// the workspace's, so the generated crate builds with the same dependency versions and
/// without consulting the registry.
pub async fn prepare_crate(
    cli: &Path,
    spec: &Path,
    out: &Path,
    name: &str,
    workspace_lock: &Path,
    log: &Path,
) -> Result<(), String> {
    let mut check = std::process::Command::new(cli);
    check
        .args(["mcpgen", "generate"])
        .arg(spec)
        .arg("--out")
        .arg(out)
        .args(["--name", name, "--quiet", "--check"]);
    if measured_run(check, log, Duration::from_secs(120))
        .await
        .is_err()
    {
        let mut command = std::process::Command::new(cli);
        command
            .args(["mcpgen", "generate"])
            .arg(spec)
            .arg("--out")
            .arg(out)
            .args(["--name", name, "--quiet"]);
        measured_run(command, log, Duration::from_secs(120)).await?;
    }
    let lock = out.join("Cargo.lock");
    if !lock.exists() {
        std::fs::copy(workspace_lock, &lock)
            .map_err(|e| format!("cannot copy the lock file to {}: {e}", lock.display()))?;
    }
    Ok(())
}

/// Cargo, as the environment names it.
fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// `cargo build [--release]` of the crate at `dir` into `target_dir`.
pub async fn build(
    dir: &Path,
    target_dir: &Path,
    release: bool,
    log: &Path,
    timeout: Duration,
) -> Result<Usage, String> {
    let mut command = std::process::Command::new(cargo());
    command
        .arg("build")
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir)
        .env("CARGO_TERM_COLOR", "never");
    if release {
        command.arg("--release");
    }
    measured_run(command, log, timeout).await
}

/// Marks `file` as modified now, so that cargo rebuilds the crate that holds it.
pub fn touch(file: &Path) -> Result<(), String> {
    std::fs::File::options()
        .append(true)
        .open(file)
        .and_then(|f| f.set_modified(std::time::SystemTime::now()))
        .map_err(|e| format!("cannot touch {}: {e}", file.display()))
}

/// The figures of one compile-cost measurement.
#[derive(Debug, Clone)]
pub struct CompileCost {
    /// `debug` or `release`.
    pub profile: &'static str,
    /// The first build (dependencies included, unless already in the target folder).
    pub first: Usage,
    /// The rebuild after touching `src/tools.rs`: the crate alone.
    pub rebuild: Usage,
    /// The binary built.
    pub binary: PathBuf,
}

/// Builds the crate at `dir` twice: first as is, then after touching `src/tools.rs`.
pub async fn compile_cost(
    dir: &Path,
    target_dir: &Path,
    bin_name: &str,
    release: bool,
    log: &Path,
) -> Result<CompileCost, String> {
    let first = build(dir, target_dir, release, log, Duration::from_secs(60 * 60)).await?;
    touch(&dir.join("src").join("tools.rs"))?;
    let rebuild = build(dir, target_dir, release, log, Duration::from_secs(60 * 60)).await?;
    let profile = if release { "release" } else { "debug" };
    Ok(CompileCost {
        profile,
        first,
        rebuild,
        binary: target_dir.join(profile).join(bin_name),
    })
}
