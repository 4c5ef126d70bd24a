#[mcpgen::server(spec = "specs/petstore.yaml")]
pub mod petstore {
    /// Answers pong.
    #[mcpgen::extra_tool]
    fn ping(args: serde_json::Value) -> Result<serde_json::Value, String> {
        Ok(args)
    }
}

fn main() {}
