//! The generated Petstore server, built from the example spec, driven by rmcp's client over
//! stdio and streamable HTTP against the example upstream on 127.0.0.1. The scenarios are in
//! `mcpgen_tests::petstore`; `macro_petstore.rs` runs the same ones against the attribute
//! example.

mcpgen_tests::petstore_scenarios!(mcpgen_tests::petstore::Petstore::Standalone);
