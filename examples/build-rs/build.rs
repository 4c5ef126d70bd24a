//! Generates the Petstore server into `OUT_DIR` (the prost-build way): a selection of the
//! operations, every tool name prefixed, and a server type of our own name.

use mcpgen_codegen::{Builder, Settings};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=build.rs");
    let settings = Settings::new()
        .tool_prefix("petstore_")
        .exclude_operations(["deletePet"]);
    Builder::new("../petstore/openapi.yaml")
        .settings(settings)
        .server_type("PetstoreServer")
        .file_name("petstore.rs")
        .generate_to_out_dir()?;
    Ok(())
}
