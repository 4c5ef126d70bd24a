/// Answers pong.
#[mcpgen::extra_tool]
async fn ping(args: serde_json::Value) -> Result<serde_json::Value, String> {
    Ok(args)
}

fn main() {}
