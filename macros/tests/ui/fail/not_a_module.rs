#[mcpgen::server(spec = "specs/petstore.yaml")]
pub fn petstore() {}

fn main() {}
