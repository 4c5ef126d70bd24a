//! The codegen package embeds the runtime through `runtime/`: links to the runtime crate,
//! which `cargo package` replaces by the files themselves. A copy in their place would go stale.

use std::path::Path;

#[test]
fn the_packaged_runtime_is_the_runtime_crate() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let same = |link: &str, target: &str| {
        let linked = here.join(link).canonicalize().unwrap();
        let original = here.join(target).canonicalize().unwrap();
        assert_eq!(
            linked, original,
            "codegen/{link} must be a symbolic link to {target}, not a copy"
        );
    };
    same("runtime/rt", "../runtime/src/rt");
    same("runtime/manifest.toml", "../runtime/Cargo.toml");
}

/// The generator writes tables for the runtime's layout: the two format numbers agree.
#[test]
fn the_generator_writes_the_runtimes_descriptor_format() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let descriptor = std::fs::read_to_string(here.join("../runtime/src/rt/descriptor.rs")).unwrap();
    let declared = format!(
        "pub const DESCRIPTOR_FORMAT: u32 = {};",
        mcpgen_codegen::DESCRIPTOR_FORMAT
    );
    assert!(
        descriptor.contains(&declared),
        "runtime/src/rt/descriptor.rs must declare `{declared}`"
    );
}
