#[mcpgen::server(spec = "specs/petstore.yaml", mode = "lots")]
pub mod petstore {}

fn main() {}
