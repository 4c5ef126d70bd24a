//! Lists the runtime's `rt` module files, which standalone crates carry a copy of, so that a
//! file added to the runtime can never be left out of generated crates; and the dependencies
//! such a crate needs for them.
//!
//! In the repository they are read from the runtime crate itself (`../runtime`), so that a
//! change to the runtime reaches generated crates at once; a published package cannot read
//! outside its folder, so it carries a copy in `runtime/` (written by
//! `scripts/sync-runtime.sh`; a test fails when the copy and the runtime differ).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace_runtime = here.join("../runtime");
    let (rt_dir, dependencies) = if workspace_runtime.join("src/rt").is_dir() {
        let manifest = workspace_runtime.join("Cargo.toml");
        println!("cargo:rerun-if-changed={}", manifest.display());
        let text = std::fs::read_to_string(&manifest).expect("runtime/Cargo.toml is readable");
        (workspace_runtime.join("src/rt"), dependency_lines(&text))
    } else {
        let list = here.join("runtime/dependencies.toml");
        println!("cargo:rerun-if-changed={}", list.display());
        let text = std::fs::read_to_string(&list).expect("runtime/dependencies.toml is readable");
        (here.join("runtime/rt"), text)
    };
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out_dir.join("runtime_files.rs"), file_table(&rt_dir))
        .expect("OUT_DIR is writable");
    std::fs::write(out_dir.join("runtime_dependencies.toml"), dependencies)
        .expect("OUT_DIR is writable");
}

/// `&[("name.rs", include_str!("/abs/name.rs")), ...]`, sorted by name.
fn file_table(dir: &Path) -> String {
    println!("cargo:rerun-if-changed={}", dir.display());
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
        println!("cargo:rerun-if-changed={}", path.display());
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
