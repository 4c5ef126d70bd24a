#[mcpgen::server(spec = "specs/no-such-file.yaml")]
pub mod petstore {}

fn main() {}
