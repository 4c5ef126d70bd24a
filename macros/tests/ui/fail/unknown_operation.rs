#[mcpgen::server(spec = "specs/petstore.yaml", exclude_operations = ["listpets"])]
pub mod petstore {}

fn main() {}
