//! The codegen package carries its own copy of the runtime (a published crate cannot read
//! outside its folder): it must be the runtime, file for file.

use std::path::Path;

fn rs_files(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "rs"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn the_packaged_runtime_copy_is_the_runtime() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let runtime = rs_files(&here.join("../runtime/src/rt"));
    let copy = rs_files(&here.join("runtime/rt"));
    let names = |files: &[(String, String)]| files.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&copy),
        names(&runtime),
        "codegen/runtime/rt is stale: run scripts/sync-runtime.sh"
    );
    for ((name, copied), (_, original)) in copy.iter().zip(&runtime) {
        assert!(
            copied == original,
            "codegen/runtime/rt/{name} differs from runtime/src/rt/{name}: run scripts/sync-runtime.sh"
        );
    }

    let manifest: toml::Table = std::fs::read_to_string(here.join("../runtime/Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let mut dependencies = manifest["dependencies"].as_table().unwrap().clone();
    dependencies.remove("mcpgen-macros");
    let copied: toml::Table = std::fs::read_to_string(here.join("runtime/dependencies.toml"))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        copied, dependencies,
        "codegen/runtime/dependencies.toml is stale: run scripts/sync-runtime.sh"
    );
}

/// The generator writes tables for the runtime's layout: the two format numbers agree.
#[test]
fn the_generator_writes_the_runtimes_descriptor_format() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let descriptor = std::fs::read_to_string(here.join("../runtime/src/rt/descriptor.rs")).unwrap();
    let declared = format!(
        "pub const DESCRIPTOR_FORMAT: u32 = {};",
        mcpgen_codegen::emit::DESCRIPTOR_FORMAT
    );
    assert!(
        descriptor.contains(&declared),
        "runtime/src/rt/descriptor.rs must declare `{declared}`"
    );
}
