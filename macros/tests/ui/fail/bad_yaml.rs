#[mcpgen::server(spec = "specs/bad.yaml")]
pub mod broken {}

fn main() {}
