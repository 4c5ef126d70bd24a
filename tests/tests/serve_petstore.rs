//! `cargo mcpgen serve` on the example document, driven through every Petstore scenario the
//! generated crate and the attribute example pass (`mcpgen_tests::petstore`).

mcpgen_tests::petstore_scenarios!(mcpgen_tests::petstore::Petstore::Serve);
