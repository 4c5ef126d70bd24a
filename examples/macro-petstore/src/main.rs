//! The Petstore MCP server as a `#[mcpgen::server]` module: the tools of the generated
//! standalone crate in `examples/petstore` (same document, same generator, same runtime), plus
//! one hand-written tool and one description of our own.
//!
//! ```sh
//! cargo run -p petstore-upstream &
//! PETSTORE_BEARER_AUTH_TOKEN=secret cargo run -p macro-petstore -- --transport http
//! ```

#[mcpgen::server(
    spec = "../petstore/openapi.yaml",
    describe(getPetById = "Look up one pet by its id. Fails with HTTP 404 when no pet has it.")
)]
pub mod petstore {
    use std::collections::BTreeMap;

    use serde_json::{Map, Value, json};

    /// Counts the store's pets by tag. It lists them with the generated `listPets` tool, on
    /// behalf of the same caller (so with the caller's own credential over HTTP).
    #[mcpgen::extra_tool(
        read_only,
        idempotent,
        input_schema = r#"{
            "type": "object",
            "properties": {
                "limit": {
                    "type": "integer", "minimum": 1, "maximum": 100,
                    "description": "How many pets to count at most."
                }
            },
            "additionalProperties": false
        }"#
    )]
    async fn count_pets_by_tag(
        args: Map<String, Value>,
        context: mcpgen::ToolContext,
    ) -> Result<Value, String> {
        let listed = context
            .call("listPets", args)
            .await
            .ok_or("the listPets tool is missing")?;
        if listed.is_error == Some(true) {
            let text: Vec<&str> = listed
                .content
                .iter()
                .filter_map(|c| c.as_text().map(|t| t.text.as_str()))
                .collect();
            return Err(format!("listing the pets failed: {}", text.join("\n")));
        }
        // listPets answers an array, which structured content wraps as {"result": [...]}.
        let pets = listed
            .structured_content
            .as_ref()
            .and_then(|content| content.get("result"))
            .and_then(Value::as_array)
            .ok_or("listPets answered without a list of pets")?;
        let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
        for pet in pets {
            let tag = pet.get("tag").and_then(Value::as_str).unwrap_or("untagged");
            *counts.entry(tag).or_default() += 1;
        }
        Ok(json!({ "total": pets.len(), "by_tag": counts }))
    }
}

fn main() -> std::process::ExitCode {
    petstore::main()
}
