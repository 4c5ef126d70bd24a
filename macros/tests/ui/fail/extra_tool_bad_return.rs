#[mcpgen::server(spec = "specs/petstore.yaml")]
pub mod petstore {
    /// Answers nothing useful.
    #[mcpgen::extra_tool]
    async fn ping(args: serde_json::Value) -> u32 {
        let _ = args;
        7
    }
}

fn main() {}
