#[mcpgen::server(spec = "specs/petstore.yaml")]
pub mod petstore {
    /// Lists pets, by hand.
    #[mcpgen::extra_tool(name = "listPets")]
    async fn list_pets(args: serde_json::Value) -> Result<serde_json::Value, String> {
        Ok(args)
    }
}

fn main() {}
