#[mcpgen::server(spec = "specs/petstore.yaml", env_prefix = "PETS $(id)")]
pub mod petstore {}

fn main() {}
