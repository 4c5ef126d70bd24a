#[mcpgen::server(spec = "specs/petstore.yaml", include_tags = ["pet"])]
pub mod petstore {}

fn main() {}
