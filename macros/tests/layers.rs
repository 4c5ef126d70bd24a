//! The attribute's options are the top layer of settings: over a `mcpgen.toml` that moves
//! every value off its default, each option puts its value back.

use mcpgen::ServeMode;

#[mcpgen::server(spec = "tests/specs/layered/openapi.yaml")]
pub mod configured {}

#[mcpgen::server(
    spec = "tests/specs/layered/openapi.yaml",
    mode = "tools",
    inline_refs = false,
    no_output_schemas = false,
    max_description_chars = 0,
    embed_openapi = true,
    skip_broken = false
)]
pub mod overridden {}

#[test]
fn mcpgen_toml_applies_under_the_attribute() {
    let api = &configured::API;
    assert_eq!(api.mode, ServeMode::Search);
    assert!(api.openapi.is_none());
    assert!(api.tools.iter().all(|t| t.output_schema.is_none()));
    assert!(api.tools.iter().all(|t| t.description.chars().count() <= 5));
}

#[test]
fn attribute_options_set_every_value_back() {
    let api = &overridden::API;
    assert_eq!(api.mode, ServeMode::Tools);
    assert!(api.openapi.is_some());
    assert!(api.tools.iter().any(|t| t.output_schema.is_some()));
    // References stay references (the petstore's outputs share `Pet`).
    assert!(
        api.tools
            .iter()
            .any(|t| t.output_schema.is_some_and(|s| s.contains("\"$ref\"")))
    );
    assert!(api.tools.iter().any(|t| t.description.chars().count() > 5));
}
