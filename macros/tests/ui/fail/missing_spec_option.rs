#[mcpgen::server]
pub mod petstore {}

fn main() {}
