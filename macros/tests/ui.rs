//! The attributes' diagnostics, compiled by trybuild: each `ui/fail/*.rs` must fail with its
//! committed `.stderr` (expansions that must work are in `expand.rs`).
//! `TRYBUILD=overwrite cargo test -p mcpgen-macros --test ui` refreshes the `.stderr` files.

use std::path::{Path, PathBuf};

/// Specs are named relative to `CARGO_MANIFEST_DIR`, which trybuild points at the project it
/// generates under `<target>/tests/trybuild/mcpgen-macros/`: the fixtures are copied there.
fn copy_specs() {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the tmp folder is inside the target folder");
    let specs = target.join("tests/trybuild/mcpgen-macros/specs");
    std::fs::create_dir_all(&specs).expect("the trybuild project folder can be created");
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixtures: [(PathBuf, &str); 2] = [
        (
            here.join("../examples/petstore/openapi.yaml"),
            "petstore.yaml",
        ),
        (here.join("tests/specs/bad.yaml"), "bad.yaml"),
    ];
    for (from, name) in fixtures {
        std::fs::copy(&from, specs.join(name))
            .unwrap_or_else(|e| panic!("copying {}: {e}", from.display()));
    }
}

#[test]
fn ui() {
    copy_specs();
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
}
