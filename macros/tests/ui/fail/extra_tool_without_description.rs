#[mcpgen::server(spec = "specs/petstore.yaml")]
pub mod petstore {
    #[mcpgen::extra_tool]
    async fn ping(args: serde_json::Value) -> Result<serde_json::Value, String> {
        Ok(args)
    }
}

fn main() {}
