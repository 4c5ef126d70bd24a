#[mcpgen::server(spec = "specs/petstore.yaml", tool_prefix = "pet store ")]
pub mod petstore {}

fn main() {}
