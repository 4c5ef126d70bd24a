#[mcpgen::server(spec = "specs/petstore.yaml", mode = "mixed")]
pub mod petstore {}

fn main() {}
