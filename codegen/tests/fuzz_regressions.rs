//! Documents that once crashed or hung the generator, kept from fuzzing (`scripts/fuzz.sh`):
//! each must now be mapped or refused cleanly, quickly, and render when it maps.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mcpgen_codegen::{GeneratedCrate, Settings, generate_crate};

fn regressions() -> Vec<PathBuf> {
    let dir = dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/fuzz-regressions is readable")
        .map(|entry| entry.expect("a readable entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// Generates `path` on a thread with a main thread's stack (8 MiB), as the command line and the
/// compiler (for the attribute) do. Returns the generated crate or the error message.
fn generate_with(path: &Path, settings: Settings) -> Result<GeneratedCrate, String> {
    let owned = path.to_owned();
    let started = Instant::now();
    let result = std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || generate_crate(&owned, &settings).map_err(|e| e.to_string()))
        .expect("a thread can be spawned")
        .join()
        .unwrap_or_else(|_| panic!("{} panicked", path.display()));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{} took {:?}",
        path.display(),
        started.elapsed()
    );
    result
}

fn generate(path: &Path) -> Result<usize, String> {
    generate_with(path, Settings::new()).map(|generated| generated.tool_count)
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions")
}

#[test]
fn every_regression_maps_or_fails_cleanly() {
    let files = regressions();
    assert!(!files.is_empty());
    for path in files {
        let _ = generate(&path);
        let _ = generate_with(&path, Settings::new().inline_refs(true));
    }
}

#[test]
fn an_output_schema_that_is_its_own_all_of_member_is_wrapped() {
    let dir = dir();
    for name in [
        "output-schema-allof-cycle.yaml",
        "output-schema-allof-fan-out.yaml",
    ] {
        assert_eq!(generate(&dir.join(name)), Ok(1), "{name}");
    }
}

#[test]
fn inlining_references_shared_many_times_over_stays_bounded() {
    // Each of 24 definitions refers twice to the next: inlined in full, the input schema would
    // be a gigabyte.
    let generated = generate_with(
        &dir().join("inline-refs-fan-out.yaml"),
        Settings::new().inline_refs(true),
    )
    .expect("the document maps");
    let tools = generated.file("src/tools.rs").expect("a tool table");
    assert!(
        tools.len() < 8 << 20,
        "the tool table is {} bytes",
        tools.len()
    );
    assert!(
        tools.contains("$defs"),
        "references beyond the bound stay references"
    );
}
