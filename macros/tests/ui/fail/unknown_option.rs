#[mcpgen::server(spec = "specs/petstore.yaml", tool_prefx = "pets_")]
pub mod petstore {}

fn main() {}
