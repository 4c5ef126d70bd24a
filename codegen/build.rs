//! Lists the runtime's `rt` module files, which standalone crates carry a copy of, so that a
//! file added to the runtime can never be left out of generated crates; and the dependencies
//! such a crate needs for them.
//!
//! Both are read through `runtime/` in this package: symbolic links to the runtime crate's
//! `src/rt` and `Cargo.toml`, which `cargo package` replaces by the files themselves, so that
//! the published package carries exactly the runtime it was built with.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let runtime = Path::new(env!("CARGO_MANIFEST_DIR")).join("runtime");
    let manifest = runtime.join("manifest.toml");
    rerun_if_changed(&manifest);
    let text = std::fs::read_to_string(&manifest).expect("runtime/manifest.toml is readable");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(
        out_dir.join("runtime_files.rs"),
        file_table(&runtime.join("rt")),
    )
    .expect("OUT_DIR is writable");
    std::fs::write(
        out_dir.join("runtime_dependencies.toml"),
        dependency_lines(&text),
    )
    .expect("OUT_DIR is writable");
}

/// Asks cargo to run this script again when `path` changes. Named through the link's target:
/// cargo reads the time of a path itself, and a link's own time never changes, so a file
/// added to the runtime (or a dependency added to its manifest) would go unnoticed.
fn rerun_if_changed(path: &Path) {
    let target = path.canonicalize().unwrap_or_else(|_| path.to_owned());
    println!("cargo:rerun-if-changed={}", target.display());
}

/// `&[("name.rs", include_str!("/abs/name.rs")), ...]`, sorted by name.
fn file_table(dir: &Path) -> String {
    rerun_if_changed(dir);
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("the runtime's rt folder is readable")
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".rs"))
        .collect();
    names.sort();
    let mut out = String::from("&[\n");
    for name in names {
        let path = dir.join(&name);
        rerun_if_changed(&path);
        writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .expect("writing to a String");
    }
    out.push_str("]\n");
    out
}

/// The `[dependencies]` lines of the runtime's manifest, less the optional macro re-export:
/// what a standalone crate lists.
fn dependency_lines(manifest: &str) -> String {
    let mut out = String::new();
    let mut in_dependencies = false;
    for line in manifest.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            in_dependencies = trimmed == "[dependencies]";
            continue;
        }
        if in_dependencies
            && !trimmed.is_empty()
            && !trimmed.starts_with('#')
            && !trimmed.starts_with("mcpgen-macros")
        {
            out.push_str(trimmed);
            out.push('\n');
        }
    }
    out
}
